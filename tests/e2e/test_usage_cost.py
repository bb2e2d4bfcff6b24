"""Measured model spend (`make cost P='-p mode live'`) against the real gateway.

The real openclaw 2026.9.6 gateway runs on loopback with a fresh state dir seeded
with one session transcript in the format the release reads
(`<state>/agents/main/sessions/<id>.jsonl`: assistant messages whose `usage.cost`
holds what the provider charged). `ops.spend.measure` runs
`openclaw gateway usage-cost --days 30 --json --port P` through each platform's
exec, built from platforms.yml `exec` by `ops.remote`; the exec programs on PATH
are tests/standins/exec, RECORDING STAND-INS that run the inner command here with
the real CLI, so the parsed output is the release's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from ops import model as m
from ops import spend
from ops.runner import Runner
from tests.runbooks.conftest import free_port
from tests.support.procs import stop_group
from tests.standins import protocol

EXEC_STANDINS = Path(__file__).resolve().parents[1] / "standins" / "exec"
APP = "claw-spend"
DAY_MS = 86_400_000
# (USD, input tokens, output tokens, days ago) of each priced assistant message
MESSAGES = [(0.0123, 1000, 200, 1), (0.05, 4000, 800, 2)]


def seed_transcript(state: Path) -> None:
    """One session in the 2026.9.6 transcript format (read by session-cost-usage)."""
    sessions = state / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    now = int(time.time() * 1000)
    lines = [{"type": "session", "version": 3, "id": "spend-test", "timestamp": "2026-12-01T10:00:00.000Z"}]
    for i, (usd, inp, out, ago) in enumerate(MESSAGES):
        ts = now - DAY_MS * ago
        iso = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts / 1000))
        lines.append({"type": "message", "id": f"u{i}", "timestamp": iso,
                      "message": {"role": "user", "content": "hi", "timestamp": ts}})
        lines.append({"type": "message", "id": f"a{i}", "timestamp": iso, "message": {
            "role": "assistant", "content": [{"type": "text", "text": "hello"}], "provider": "anthropic",
            "model": "claude-sonnet-4-6", "timestamp": ts + 1000, "stopReason": "stop",
            "usage": {"input": inp, "output": out, "cacheRead": 0, "cacheWrite": 0, "totalTokens": inp + out,
                      "cost": {"input": usd * 0.6, "output": usd * 0.4, "cacheRead": 0, "cacheWrite": 0,
                               "total": usd}}}})
    (sessions / "0c1f4a0e-6d2b-4c39-9b43-5d0f9b8e1a11.jsonl").write_text(
        "\n".join(json.dumps(line) for line in lines) + "\n")


@pytest.fixture(scope="module")
def gateway(openclaw, tmp_path_factory):
    """(port, env) of a real gateway whose usage cache has read the seeded session."""
    root = tmp_path_factory.mktemp("spend")
    state, home = root / "state", root / "home"
    home.mkdir()
    seed_transcript(state)
    token = os.urandom(32).hex()
    port = free_port()
    env = openclaw.env(HOME=str(home), OPENCLAW_STATE_DIR=str(state), OPENCLAW_GATEWAY_TOKEN=token)
    proc = subprocess.Popen(openclaw.argv("gateway", "--allow-unconfigured", "--port", str(port), "--bind", "loopback"),
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        totals = {}
        while time.monotonic() < deadline:  # startup, then the usage cache's first refresh
            assert proc.poll() is None, "the gateway exited"
            run = openclaw.run("gateway", "usage-cost", "--days", "30", "--json", "--port", str(port), env=env,
                               timeout=120)
            if run.returncode == 0:
                data = json.loads(run.stdout)
                totals = data["totals"]
                if data["cacheStatus"]["status"] == "fresh" and totals["totalCost"] > 0:
                    break
            time.sleep(3)
        assert totals.get("totalCost", 0) > 0, f"usage cache never read the seeded session: {totals}"
        yield port, env
    finally:
        stop_group(proc)


def exec_runner(openclaw, env: dict[str, str], log: Path) -> Runner:
    return Runner(timeout=180, env={**env, "PATH": f"{EXEC_STANDINS}{os.pathsep}{env['PATH']}",
                                    "STANDIN_LOG": str(log),
                                    "STANDIN_OPENCLAW": f"{openclaw.node} {openclaw.entry}"})


@pytest.mark.e2e
@pytest.mark.slow
def test_measured_spend_through_every_platforms_exec(openclaw, gateway, render, tmp_path):
    port, env = gateway
    want = round(sum(usd for usd, *_ in MESSAGES), 4)
    for platform in m.platforms():
        data = {"platform": platform, "app_name": APP, "gateway_port": str(port)}
        if m.platforms()[platform].get("needs_domain"):
            data["domain"] = "claw.example.org"
        repo = render(**data)
        log = tmp_path / f"{platform}.log"
        found = spend.measure(repo, exec_runner(openclaw, env, log), days=30)
        if platform == "render":  # the Dashboard Shell: nothing to run from here
            assert found.total is None and "Dashboard" in found.error and "usage_file" in found.error
            assert not log.exists()
            continue
        assert found.error == "", (platform, found.error)
        assert found.total == pytest.approx(want), platform
        assert found.days_with_data == 2 and found.span_days == 3 and found.cache_status == "fresh"
        assert found.projected_month == pytest.approx(round(want / 3 * 30, 2))
        calls = protocol.argvs(log)
        assert len(calls) == 1 and calls[0][0] == m.platforms()[platform]["exec"]["command"].split()[0], calls
        assert "usage-cost" in " ".join(calls[0]) and f"--port {port}" in " ".join(calls[0])
        assert env["OPENCLAW_GATEWAY_TOKEN"] not in " ".join(calls[0])  # the token stays in the deploy's env


@pytest.mark.e2e
@pytest.mark.slow
def test_live_cost_notebook_shows_measured_beside_estimate(openclaw, gateway, render, tmp_path):
    """`make cost P='-p mode live'` on a Fly repo: the bill carries the measured line,
    cost.json the measured figures; Render takes the saved output as usage_file."""
    import sys

    port, env = gateway
    repo = render(platform="fly", app_name=APP, gateway_port=str(port))
    run_env = {**exec_runner(openclaw, env, tmp_path / "fly.log").env}
    proc = subprocess.run([sys.executable, "-m", "ops.runbook", "cost", "-p", "mode", "live"], cwd=repo,
                          env={**run_env, "PYTHONPATH": str(repo)}, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "model spend, measured" in proc.stdout and "projected month" in proc.stdout
    data = json.loads((repo / "reports" / "cost.json").read_text())
    assert data["model"]["measured"]["total"] == pytest.approx(0.0623)
    assert data["model"]["estimated"] is True and data["total"]["typical"] is not None
