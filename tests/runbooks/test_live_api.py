"""Live mode of the troubleshooting notebook for the API platforms (Render,
Northflank), through the real notebook run.

The platform API is a RECORDING STAND-IN on loopback HTTPS
(tests/support/api_standin.py) answering healthy and broken shapes; the
notebook's kernel gets the token in its environment (as a user's shell
would) and the API base through RENDER_API_URL / NORTHFLANK_API_URL, the
variables the product reads with the real API as default. Nothing is queried
or deployed anywhere.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.runbooks.conftest import TROUBLE_NB
from tests.support.api_standin import ApiStandin
from tests.support.nbbatch import KernelBatch, stream_text

APP = "claw-live"
RENDER_KEY = "rnd_" + "L" * 32
NF_TOKEN = "nf-live-" + "N" * 32
LOG_SECRET = "sk-ant-api03-" + "S" * 40


def gateway_log(broken: bool) -> list[str]:
    return ["[gateway] loading configuration…", f"debug key {LOG_SECRET}",
            "Refusing to bind gateway to lan without auth." if broken else "[gateway] listening"]


def render_api(api: ApiStandin, broken: bool) -> None:
    svc = {"id": "srv-9", "name": APP, "type": "web_service", "ownerId": "tea-1",
           "suspended": "suspended" if broken else "not_suspended",
           "serviceDetails": {"url": api.base}}
    api.route("GET", rf"/v1/services\?name={APP}&limit=20", (200, [{"service": svc, "cursor": "x"}]))
    api.route("GET", r"/v1/services/srv-9/deploys\?limit=5", (200, [
        {"deploy": {"id": "dep-2", "status": "update_failed" if broken else "live", "commit": {"id": "a" * 40}}},
        {"deploy": {"id": "dep-1", "status": "live"}}]))
    disk = {"id": "dsk-1", "name": "openclaw-data", "sizeGB": 1, "mountPath": "/data", "serviceId": "srv-9"}
    api.route("GET", r"/v1/disks\?serviceId=srv-9", (200, [] if broken else [{"disk": disk, "cursor": "y"}]))
    api.route("GET", r"/v1/logs\?ownerId=tea-1&resource=srv-9&limit=100&direction=backward",
              (200, {"hasMore": False, "logs": [{"message": line, "timestamp": "2026-11-30T09:00:00Z"}
                                                 for line in gateway_log(broken)]}))


def northflank_api(api: ApiStandin, broken: bool) -> None:
    path = f"/v1/projects/{APP}/services/{APP}"
    api.route("GET", path, (200, {"data": {"id": APP, "status": {
        "deployment": {"status": "FAILED" if broken else "COMPLETED"}, "build": {"status": "SUCCESS"}}}}))
    api.route("GET", path + r"/build\?per_page=5", (200, {"data": {"builds": [
        {"id": "b-2", "status": "SUBMISSION_FAILURE" if broken else "SUCCESS", "sha": "b" * 40},
        {"id": "b-1", "status": "SUCCESS", "sha": "c" * 40}]}}))
    api.route("GET", path + "/containers", (200, {"data": {"containers": [
        {"name": f"{APP}-6f9-x1", "status": "TASK_FAILED" if broken else "TASK_RUNNING"}]}}))
    # the range query Northflank's own client sends (queryType=range)
    api.route("GET", path + r"/logs\?queryType=range&lineLimit=200", (200, {"data": [{"log": line} for line in gateway_log(broken)]}))


PLATFORMS = {
    "render": (render_api, {"RENDER_API_KEY": RENDER_KEY}, "RENDER_API_URL", RENDER_KEY,
               [("service found (Render API)", "Resume Service"), ("latest deploy live", "update_failed"),
                ("disk at the state dir", "mounted at /data"),
                ("recent logs: the gateway refuses a lan bind without a token (exit 78)", "OPENCLAW_GATEWAY_TOKEN")]),
    "northflank": (northflank_api, {"NORTHFLANK_API_TOKEN": NF_TOKEN}, "NORTHFLANK_API_URL", NF_TOKEN,
                   [("service deployment", "containers and logs"), ("latest build", "build log"),
                    ("containers running", "exit 78"),
                    ("recent logs: the gateway refuses a lan bind without a token (exit 78)",
                     "OPENCLAW_GATEWAY_TOKEN")]),
}


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_live_api_checks_healthy_then_broken(platform, generated, tmp_path):
    routes, secret_env, url_var, token, expected = PLATFORMS[platform]
    repo = generated(f"{platform}-live-api", platform=platform, app_name=APP)
    for broken in (False, True):
        api = ApiStandin(tmp_path / f"tls-{broken}")
        routes(api, broken)
        env = {**os.environ, **secret_env, **api.ca_env(), url_var: api.base + "/v1"}
        kernel = KernelBatch(cwd=tmp_path, env=env)
        out = tmp_path / ("broken" if broken else "ok")
        try:
            nb = kernel.execute(TROUBLE_NB, {"repo": str(repo), "mode": "live", "output_dir": str(out)})
        finally:
            kernel.close()
            api.close()
        data = json.loads((out / "troubleshooting.json").read_text())
        statuses = {r["check"]: r for r in data["results"]}
        dump = json.dumps(data) + stream_text(nb) + (out / "troubleshooting.json").read_text()
        # the token only in the Authorization header; never in a URL, report or output
        assert all(r["headers"].get("authorization") == f"Bearer {token}" for r in api.requests)
        assert not any(token in r["path"] for r in api.requests)
        assert token not in dump and LOG_SECRET not in dump
        # every API call is in the command table, read-only
        assert [c["argv"][0] for c in data["commands"]] == ["GET"] * len(api.requests)
        assert all(r["method"] == "GET" for r in api.requests)
        if not broken:
            assert {r["status"] for r in data["results"]} == {"PASS"}, data["results"]
            continue
        for step, fix in expected:
            assert statuses.get(step, {}).get("status") == "FAIL", (step, list(statuses))
            assert fix in statuses[step]["fix"] + statuses[step]["seen"], (step, statuses[step])


def test_live_api_without_a_token_says_how_to_set_it_safely(generated, tmp_path):
    from ops import troubleshoot as t
    from ops.runner import Runner
    for platform, name in (("render", "RENDER_API_KEY"), ("northflank", "NORTHFLANK_API_TOKEN")):
        repo = generated(f"{platform}-live-api", platform=platform, app_name=APP)
        results, runner = t.run(t.parameters(repo, mode="live"), runner=Runner(env={"PATH": os.environ["PATH"]}))
        assert [(r.status) for r in results] == ["FAIL"] and name in results[0].seen
        assert "read -rs" in results[0].fix and f"{name}=" not in results[0].fix  # never a secret on a command line
        assert runner.records == []
