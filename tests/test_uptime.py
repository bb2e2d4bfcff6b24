"""The generated uptime workflow, end to end against RECORDING STAND-INS.

Its one `run:` step (`python3 -m ops.uptime ...`) runs as the Actions runner would
run it: the env block expanded (secrets, vars, github.token), GITHUB_API_URL and
GITHUB_REPOSITORY set as the runner sets them. The GitHub REST API is a stateful
stand-in on loopback (tests/support/api_standin.py: TLS, trusted via
SSL_CERT_FILE); a public gateway's /healthz and /readyz are routes of the same
stand-in (OPENCLAW_PUBLIC_URL points there, as a repository variable or the
literal URL would); private status goes to the CI stand-ins of each platform CLI
(tests/standins/ci) or the platform API stand-in. Nothing is contacted or deployed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from ops import model as m
from tests.support.api_standin import ApiStandin
from tests.test_ci_deploy import APP, REPO, SECRETS, STANDINS, generated  # noqa: F401 - fixture
from tests.standins import protocol

UPTIME = ".github/workflows/uptime.yml"
EXPR = re.compile(r"\$\{\{\s*([\w.\-]+)\s*\}\}")
LIVE = {"ok": True, "status": "live"}
READY = {"ready": True, "failing": []}
TITLE = f"Uptime check failing: {APP}"


class GitHub(ApiStandin):
    """The REST calls ops.uptime makes, with state: issues, comments, closing."""

    def __init__(self, workdir: Path):
        super().__init__(workdir)
        self.issues: list[dict] = [{"number": 3, "title": "unrelated", "state": "open"}]
        self.comments: dict[int, list[str]] = {}

    def answer(self, method: str, path: str):
        prefix = f"/repos/{REPO}/issues"
        if not path.startswith(prefix):
            return super().answer(method, path)
        body = self.requests[-1]["body"] or {}
        rest = path[len(prefix):]
        if method == "GET" and rest.startswith("?"):
            assert "state=open" in rest
            return 200, [i for i in self.issues if i["state"] == "open"]
        if method == "POST" and rest == "":
            issue = {"number": 10 + len(self.issues), "title": body["title"], "body": body["body"], "state": "open"}
            self.issues.append(issue)
            return 201, issue
        number = int(rest.split("/")[1])
        if method == "POST" and rest.endswith("/comments"):
            self.comments.setdefault(number, []).append(body["body"])
            return 201, {"id": 1}
        if method == "PATCH":
            next(i for i in self.issues if i["number"] == number).update(state=body["state"])
            return 200, {}
        return 404, {"message": "stand-in: unexpected"}

    @property
    def ours(self) -> list[dict]:
        return [i for i in self.issues if i["title"] == TITLE]


@pytest.fixture
def github(tmp_path):
    standin = GitHub(tmp_path / "tls")
    yield standin
    standin.close()


def uptime_step(repo: Path) -> dict:
    (job,) = yaml.safe_load((repo / UPTIME).read_text())["jobs"].values()
    (step,) = [s for s in job["steps"] if "ops.uptime" in s.get("run", "")]
    return step


def run_check(repo: Path, tmp: Path, github: GitHub, *, variables=None, plan=None, public_url=None):
    """Run the uptime step once; (exit code, output, recorded CLI calls)."""
    step = uptime_step(repo)

    def expand(value) -> str:
        def one(mt):
            parts = mt.group(1).split(".")
            if parts[0] == "secrets":
                return SECRETS[parts[1]]
            if parts[0] == "vars":
                return (variables or {}).get(parts[1], "")
            if parts == ["github", "token"]:
                return SECRETS["GITHUB_TOKEN"]
            raise AssertionError(mt.group(0))
        return EXPR.sub(one, str(value))

    log, plan_file = tmp / "calls.jsonl", tmp / "plan.json"
    log.write_text("")
    plan_file.write_text(json.dumps(plan or []))
    (tmp / "runner").mkdir(exist_ok=True)
    env = {"PATH": f"{STANDINS}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp), "CI": "true",
           "GITHUB_API_URL": github.base, "GITHUB_REPOSITORY": REPO, "GITHUB_SERVER_URL": "https://github.example",
           "GITHUB_RUN_ID": "42", "RUNNER_TEMP": str(tmp / "runner"), "STANDIN_LOG": str(log),
           "STANDIN_PLAN": str(plan_file), "RENDER_API_URL": github.base + "/v1",
           "NORTHFLANK_API_URL": github.base + "/v1", **github.ca_env(),
           **{k: expand(v) for k, v in (step.get("env") or {}).items()}}
    if public_url is not None and "OPENCLAW_PUBLIC_URL" in env:
        assert env["OPENCLAW_PUBLIC_URL"].startswith("https://") or not env["OPENCLAW_PUBLIC_URL"]
        env["OPENCLAW_PUBLIC_URL"] = public_url
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=repo,
                          env=env, capture_output=True, text=True, timeout=120)
    calls = protocol.records(log)
    output = proc.stdout + proc.stderr
    for name, value in SECRETS.items():
        if name != "DEPLOY_SSH_TARGET":
            assert value not in output, f"{name} printed"
            assert value not in json.dumps([c["argv"] for c in calls]), f"{name} in argv"
            assert not any(value in r["path"] for r in github.requests), f"{name} in a URL"
    return proc.returncode, output, calls


def test_public_gateway_down_opens_one_issue_comments_then_closes_it(generated, github, tmp_path):
    repo = generated("fly", "public")
    github.route("GET", "/healthz", (200, LIVE), (200, "<html>Control UI</html>"), (502, "bad gateway"), (200, LIVE))
    github.route("GET", "/readyz", (200, READY), (200, READY), (200, READY),
                 (403, {"type": "proxy_attribution_required"}))
    codes = [run_check(repo, tmp_path, github, public_url=github.base)[0] for _ in range(4)]
    assert codes == [0, 1, 1, 0]  # healthy, HTML on /healthz, 502, healthy again
    (issue,) = github.ours
    assert issue["state"] == "closed"
    assert "GET /healthz" in issue["body"] and "not JSON" in issue["body"]
    assert "https://github.example/Owner/Claw-Repo/actions/runs/42" in issue["body"]
    still, healthy = github.comments[issue["number"]]
    assert still.startswith("Still failing") and "HTTP 502" in still
    assert healthy.startswith("Healthy again") and "not reachable from outside" in healthy
    assert github.issues[0]["state"] == "open"  # another open issue is left alone
    # the GitHub token went in the Authorization header only; the gateway got no credential
    for req in github.requests:
        if req["path"].startswith("/repos/"):
            assert req["headers"]["authorization"] == f"Bearer {SECRETS['GITHUB_TOKEN']}"
        else:
            assert "authorization" not in req["headers"]


def test_public_not_ready_fails_with_the_failing_channels(generated, github, tmp_path):
    repo = generated("fly", "public")
    github.route("GET", "/healthz", (200, LIVE))
    github.route("GET", "/readyz", (503, {"ready": False, "failing": ["telegram"]}))
    code, output, _ = run_check(repo, tmp_path, github, public_url=github.base)
    assert code == 1 and "failing: telegram" in output
    (issue,) = github.ours
    assert "failing: telegram" in issue["body"]


def test_railway_public_without_the_url_variable_fails_clearly(generated, github, tmp_path):
    code, output, _ = run_check(generated("railway", "public"), tmp_path, github)
    assert code == 1 and "OPENCLAW_PUBLIC_URL is empty" in output


FLY_CHECKS = {"m1": [{"name": "servicecheck-00", "status": "passing"}]}
PRIVATE_CASES = {
    # platform: (stand-in plan when healthy, plan when down, the CLI call it must make)
    "fly": ([{"prog": "flyctl", "has": ["checks", "list"], "stdout": json.dumps(FLY_CHECKS)}],
            [{"prog": "flyctl", "has": ["checks", "list"],
              "stdout": json.dumps({"m1": [{"name": "servicecheck-00", "status": "critical"}]})}],
            ["flyctl", "checks", "list", "-a", APP, "--json"]),
    "railway": ([{"prog": "railway", "has": ["status"], "stdout": json.dumps({"environments": {"edges": [{"node": {"name": "production",
        "serviceInstances": {"edges": [{"node": {"serviceName": APP, "latestDeployment": {
            "id": "d1", "status": "SUCCESS"}}}]}}}]}})}],
        [{"prog": "railway", "has": ["status"], "stdout": json.dumps({"environments": {"edges": [{"node": {"name": "production",
            "serviceInstances": {"edges": [{"node": {"serviceName": APP, "latestDeployment": {
                "id": "d1", "status": "CRASHED"}}}]}}}]}})}],
        ["railway", "status", "--json", "--environment", "production"]),
    "vps": ([{"prog": "ssh", "has": ["docker compose ps"], "stdout": "healthy\n"}],
            [{"prog": "ssh", "has": ["docker compose ps"], "stdout": "unhealthy\n"}],
            None),
    "kubernetes": ([{"prog": "kubectl", "has": ["get", "deployment"],
                     "stdout": json.dumps({"status": {"replicas": 1, "readyReplicas": 1}})}],
                   [{"prog": "kubectl", "has": ["get", "deployment"],
                     "stdout": json.dumps({"status": {"replicas": 1}})}],
                   ["kubectl", "get", "deployment", APP, "-n", APP, "-o", "json"]),
}


@pytest.mark.parametrize("platform", sorted(PRIVATE_CASES))
def test_private_status_through_the_platform_cli(platform, generated, github, tmp_path):
    healthy, down, call = PRIVATE_CASES[platform]
    repo = generated(platform, "private")
    code, output, calls = run_check(repo, tmp_path, github, plan=down)
    assert code == 1, output
    if call:
        assert calls[0]["argv"] == call
    if platform == "vps":  # the pinned host key and the key file, both private to this run
        argv = calls[0]["argv"]
        assert "StrictHostKeyChecking=yes" in argv and argv[-2] == SECRETS["DEPLOY_SSH_TARGET"]
        assert all(f["mode"] == "0o600" for f in calls[0]["files"].values()) and len(calls[0]["files"]) == 2
    code, output, _ = run_check(repo, tmp_path, github, plan=healthy)
    assert code == 0, output
    (issue,) = github.ours
    assert issue["state"] == "closed" and len(github.comments[issue["number"]]) == 1


@pytest.mark.parametrize("platform", ["render", "northflank"])
def test_private_status_through_the_platform_api(platform, generated, github, tmp_path):
    repo = generated(platform, "private")
    if platform == "render":
        github.route("GET", r"/v1/services\?name=claw-ci&limit=20",
                     (200, [{"service": {"id": "srv-1", "name": APP, "suspended": "not_suspended"}}]))
        github.route("GET", r"/v1/services/srv-1/deploys\?limit=1", (200, [{"deploy": {"id": "d", "status": "build_failed"}}]),
                     (200, [{"deploy": {"id": "d", "status": "live"}}]))
        token = SECRETS["RENDER_API_KEY"]
    else:
        github.route("GET", f"/v1/projects/{APP}/services/{APP}",
                     (200, {"data": {"status": {"deployment": {"status": "FAILED"}}}}),
                     (200, {"data": {"status": {"deployment": {"status": "COMPLETED"}}}}))
        token = SECRETS["NORTHFLANK_API_TOKEN"]
    assert run_check(repo, tmp_path, github)[0] == 1
    assert run_check(repo, tmp_path, github)[0] == 0
    assert [i["state"] for i in github.ours] == ["closed"]
    for req in github.requests:
        if req["path"].startswith("/v1/"):
            assert req["headers"]["authorization"] == f"Bearer {token}"


def test_uptime_off_generates_no_workflow(template_repo, tmp_path):
    from tests.conftest import copy_template

    repo = copy_template(template_repo, tmp_path / "off", {"app_name": APP, "uptime_minutes": "0"})
    assert not (repo / UPTIME).exists() and (repo / ".github/workflows/deploy.yml").exists()
    assert m.answers_from_file(repo / ".copier-answers.yml")["uptime_minutes"] in ("0", 0)


def test_troubleshoot_links_the_open_uptime_issue_and_last_failing_run(generated, tmp_path):
    """`make troubleshoot P='-p mode live'`: a row with the uptime issue and the last failing
    run (the `gh` on PATH is tests/standins/github/gh, a RECORDING STAND-IN with canned JSON)."""
    from ops import troubleshoot as t
    from ops.runner import Runner

    repo = generated("fly", "public")
    standins = Path(__file__).resolve().parent / "standins" / "github"
    canned = tmp_path / "canned"
    canned.mkdir()
    run = {"url": "https://github.com/Owner/Claw-Repo/actions/runs/42", "createdAt": "2026-12-02T06:00:00Z"}
    (canned / "gh-run-list.json").write_text(json.dumps([run]))
    env = {"PATH": f"{standins}{os.pathsep}{os.environ['PATH']}", "STANDIN_DIR": str(canned),
           "STANDIN_LOG": str(tmp_path / "gh.log")}
    (canned / "gh-issue-list.json").write_text(json.dumps([
        {"number": 11, "title": TITLE, "url": "https://github.com/Owner/Claw-Repo/issues/11",
         "updatedAt": "2026-12-02T06:00:00Z"}]))
    row = t.uptime_result(Runner(env=env), repo, APP)
    assert row.status == "FAIL" and "issues/11" in row.seen and run["url"] in row.seen
    (canned / "gh-issue-list.json").write_text("[]")
    row = t.uptime_result(Runner(env=env), repo, APP)
    assert row.status == "PASS" and run["url"] in row.seen
    assert t.uptime_result(Runner(env={"PATH": "/nonexistent"}), repo, APP) is None  # no gh: no row
    (repo / UPTIME).rename(tmp_path / "uptime.yml")  # no uptime workflow: no row
    try:
        assert t.uptime_result(Runner(env=env), repo, APP) is None
    finally:
        (tmp_path / "uptime.yml").rename(repo / UPTIME)
