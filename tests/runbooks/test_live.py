"""Live mode of the troubleshooting notebook.

- Fly: the `fly` on PATH is tests/standins/fly, a RECORDING STAND-IN that
  prints canned JSON of the documented shapes; nothing is deployed or queried.
- local: the real OpenClaw gateway from npm, started in broken setups; the
  notebook must name each failure and its fix.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ops import model as m
from ops import troubleshoot as t
from tests.runbooks.conftest import STANDINS, TROUBLE_NB, edit, free_port
from tests.support.nbbatch import KernelBatch, stream_text

APP = "claw-live"
LOG_SECRET = "token=" + "Q" * 40


def fly_canned(model: m.DeployModel, broken: bool) -> dict[str, str]:
    """Output of each fly command, in the shapes the runbook notes record."""
    port = 8080 if broken else model.port
    machine = {
        "id": "d8d9e1", "name": "white-pond-123", "state": "stopped" if broken else "started",
        "region": model.region,
        "config": {
            "guest": {"cpu_kind": "shared", "cpus": model.vcpu, "memory_mb": 1024 if broken else model.memory_mb},
            "services": [{"internal_port": port, "protocol": "tcp", "ports": [{"port": 443}]}] if model.public else [],
            "mounts": [] if broken else [{"path": model.volume_mount, "volume": "vol_abc", "name": model.volume_name}],
        },
        "checks": [{"name": "servicecheck-00-http-3000", "status": "critical" if broken else "passing"}],
        "events": ([{"type": "exit", "status": "stopped",
                     "request": {"exit_event": {"exit_code": 137, "oom_killed": True}}}] if broken else [])
        + [{"type": "start", "status": "started", "request": {}}],
    }
    check = {"name": "servicecheck-00-http-3000", "status": "critical" if broken else "passing",
             "output": "dial tcp 172.19.0.2:3000: connect: connection refused" if broken else '{"ok":true}'}
    doctor = {"schemaVersion": 1, "ok": not broken, "findings": [
        {"checkId": "gateway.auth.token", "severity": "error", "message": "gateway token is not set",
         "path": "gateway.auth.token", "fixHint": "set OPENCLAW_GATEWAY_TOKEN"}] if broken else []}
    logs = "\n".join([
        "2026-11-24T10:00:00Z app[d8d9e1] iad [info] [gateway] loading configuration…",
        f"2026-11-24T10:00:00Z app[d8d9e1] iad [info] debug {LOG_SECRET}",
        "2026-11-24T10:00:01Z app[d8d9e1] iad [info] Refusing to bind gateway to lan without auth."
        if broken else "2026-11-24T10:00:09Z app[d8d9e1] iad [info] [gateway] listening",
    ])
    return {
        "status.json": json.dumps({"ID": APP, "Name": APP, "Status": "deployed", "Hostname": f"{APP}.fly.dev",
                                   "Machines": [machine]}, indent=2),
        "machine-list.json": json.dumps([machine], indent=2),
        "checks-list.json": json.dumps({machine["id"]: [check]}, indent=2),
        "ssh-console.json": "Connecting to fdaa::3... complete\n" + json.dumps(doctor, indent=2),
        "logs.txt": logs + "\n",
    }


@pytest.fixture(scope="module")
def fly_world(tmp_path_factory):
    base = tmp_path_factory.mktemp("fly-standin")
    canned, log = base / "canned", base / "argv.jsonl"
    canned.mkdir()
    env = {**os.environ, "PATH": f"{STANDINS}{os.pathsep}{os.environ['PATH']}",
           "FLY_STANDIN_DIR": str(canned), "STANDIN_LOG": str(log)}
    kernel = KernelBatch(cwd=base, env=env)
    yield canned, log, kernel
    kernel.close()


@pytest.mark.parametrize("privacy", ["public", "private"])
def test_live_fly_healthy_through_the_standin(privacy, generated, fly_world, tmp_path):
    canned, log, kernel = fly_world
    repo = generated(f"fly-{privacy}-live", app_name=APP, privacy=privacy)
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
    for name, text in fly_canned(model, broken=False).items():
        (canned / name).write_text(text)
    log.write_text("")
    nb = kernel.execute(TROUBLE_NB, {"repo": str(repo), "mode": "live", "output_dir": str(tmp_path)})
    data = json.loads((tmp_path / "troubleshooting.json").read_text())
    statuses = {r["check"]: r["status"] for r in data["results"]}
    assert set(statuses.values()) == {"PASS"}, statuses
    assert ("service internal_port" in statuses) == (privacy == "public")
    argvs = [json.loads(line) for line in log.read_text().splitlines()]
    assert ["fly", "logs", "-a", APP, "--no-tail"] in argvs
    assert ["fly", "ssh", "console", "-a", APP, "-C", "openclaw doctor --json"] in argvs
    assert not any(a[1] in ("deploy", "launch", "scale", "secrets", "volumes") for a in argvs)
    commands = [c["argv"] for c in data["commands"]]
    assert commands == argvs  # every command the notebook ran is recorded, in order
    assert all(c["exit_code"] == 0 and c["duration_s"] >= 0 for c in data["commands"])
    assert LOG_SECRET not in json.dumps(data) and "***" in json.dumps(data)  # redacted before recording
    assert "Commands run (redacted)" in stream_text(nb)


def test_live_fly_broken_names_each_failure(generated, fly_world, tmp_path):
    canned, log, kernel = fly_world
    repo = generated("fly-public-live", app_name=APP, privacy="public")
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
    for name, text in fly_canned(model, broken=True).items():
        (canned / name).write_text(text)
    kernel.execute(TROUBLE_NB, {"repo": str(repo), "mode": "live", "output_dir": str(tmp_path)})
    data = json.loads((tmp_path / "troubleshooting.json").read_text())
    failed = {r["check"]: r for r in data["results"] if r["status"] == "FAIL"}
    for step, fix in [
        ("machines running", "fly machine start"),
        ("machine memory", "2048"),
        ("service internal_port", "never `fly launch`"),
        ("volume mounted at the state dir", "fly volumes create openclaw_data"),
        ("no out-of-memory kills", "raise memory"),
        ("health checks passing", "connection refused"),
        ("openclaw doctor: gateway.auth.token", "OPENCLAW_GATEWAY_TOKEN"),
        ("recent logs: the gateway refuses a lan bind without a token (exit 78)", "OPENCLAW_GATEWAY_TOKEN"),
    ]:
        assert step in failed, f"{step!r} not among {list(failed)}"
        assert fix in failed[step]["fix"], (step, failed[step]["fix"])


def test_live_fly_without_the_cli_fails_its_precondition(generated, batch, tmp_path, monkeypatch):
    repo = generated("fly-public-live", app_name=APP, privacy="public")
    from ops.runner import Runner
    results, runner = t.run(t.parameters(repo, mode="live"), runner=Runner(env={"PATH": str(tmp_path)}))
    assert [(r.check, r.status) for r in results] == [("fly CLI present", "FAIL")]
    assert runner.records == []


# ------------------------------------------------------------------ local --



def local_env(openclaw, home: Path, token: str | None) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    env = openclaw.env(HOME=str(home))
    if token:
        env["OPENCLAW_GATEWAY_TOKEN"] = token
    return env


def local_run(kernel, repo, openclaw, state, out):
    nb = kernel.execute(TROUBLE_NB, {"repo": str(repo), "mode": "live", "platform": "local",
                                     "openclaw_bin": str(openclaw.entry), "state_dir": str(state),
                                     "output_dir": str(out)}, timeout=240)
    data = json.loads((out / "troubleshooting.json").read_text())
    return data, {r["check"]: r for r in data["results"]}, stream_text(nb)


@pytest.fixture(scope="module")
def local_repo(generated):
    port = free_port()
    return generated("fly-local", app_name="claw-local", gateway_port=port), port


@pytest.mark.e2e
@pytest.mark.slow
def test_local_gateway_with_token_starts_and_wrong_port_and_second_instance(openclaw, local_repo, broken,
                                                                             tmp_path):
    repo, port = local_repo
    token = "tok-" + os.urandom(12).hex()
    kernel = KernelBatch(cwd=tmp_path, env=local_env(openclaw, tmp_path / "home", token))
    try:
        # 1. healthy: started exactly as fly.toml says, answered /startupz, stopped
        data, steps, text = local_run(kernel, repo, openclaw, tmp_path / "state-ok", tmp_path / "ok")
        assert steps["gateway starts as declared"]["status"] == "PASS", steps
        assert data["summary"]["FAIL"] == 0
        assert token not in json.dumps(data)

        # 2. wrong port: the process listens on another port than the platform sends traffic to
        wrong = broken(repo, "wrong-port")
        other = free_port()
        edit(wrong / "fly.toml", f"--port {port}", f"--port {other}")
        data, steps, text = local_run(kernel, wrong, openclaw, tmp_path / "state-wrong", tmp_path / "wrong")
        name = f"gateway starts as declared: listens on {other}, platform expects {port}"
        assert steps[name]["status"] == "FAIL" and f"make every place say {port}" in steps[name]["fix"]
        assert f"FAIL  {name}" in text

        # 3. second instance on the same state dir: a gateway already owns it
        state = tmp_path / "state-shared"
        state.mkdir()
        first = subprocess.Popen(
            openclaw.argv("gateway", "--allow-unconfigured", "--port", str(port), "--bind", "lan"),
            env={**local_env(openclaw, tmp_path / "home", token), "OPENCLAW_STATE_DIR": str(state)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 90
            while not t.startup_ok(port) and time.monotonic() < deadline:
                assert first.poll() is None, "the first gateway exited"
                time.sleep(0.5)
            assert t.startup_ok(port)
            data, steps, text = local_run(kernel, repo, openclaw, state, tmp_path / "second")
        finally:
            os.killpg(first.pid, signal.SIGTERM)
            first.wait(timeout=30)
        owners = steps["gateway lock owners"]
        assert owners["status"] == "PASS" and f"pid {first.pid}" in owners["seen"]
        assert steps[f"gateway answers on :{port}/startupz"]["status"] == "PASS"
        second = next(s for n, s in steps.items() if n.startswith("gateway starts as declared:"))
        assert "second gateway on the same state dir" in second["check"]
        assert "another OpenClaw process owns" in second["seen"] or "Contention" in second["seen"]
        assert f"kill {first.pid}" in second["fix"] and "never delete its lock" in second["fix"]
    finally:
        kernel.close()


@pytest.mark.e2e
@pytest.mark.slow
def test_local_gateway_without_token(openclaw, local_repo, broken, tmp_path):
    repo, port = local_repo
    kernel = KernelBatch(cwd=tmp_path, env=local_env(openclaw, tmp_path / "home", None))
    try:
        # the generated config refers to the token: startup fails on the missing secret
        data, steps, text = local_run(kernel, repo, openclaw, tmp_path / "state-a", tmp_path / "a")
        step = next(s for n, s in steps.items() if n.startswith("gateway starts as declared:"))
        assert "gateway token is not set" in step["check"] and "OPENCLAW_GATEWAY_TOKEN" in step["fix"]

        # no auth in the config and no token on a lan bind: the gateway refuses, exit 78
        unconfigured = broken(repo, "no-auth")
        cfg = unconfigured / "config" / "openclaw.json"
        config = json.loads(cfg.read_text())
        del config["gateway"]["auth"]
        cfg.write_text(json.dumps(config))
        data, steps, text = local_run(kernel, unconfigured, openclaw, tmp_path / "state-b", tmp_path / "b")
        step = next(s for n, s in steps.items() if n.startswith("gateway starts as declared:"))
        assert "refuses a lan bind without a token (exit 78)" in step["check"]
        assert step["seen"].startswith("exit 78:") and "Refusing to bind gateway to lan without auth" in step["seen"]
        assert "OPENCLAW_GATEWAY_TOKEN" in step["fix"]
        assert "refuses a lan bind without a token" in text
    finally:
        kernel.close()
