"""The harness fails when a generated file is broken on purpose.

Each test edits one generated file the way users (or `fly launch`) break them,
and shows the failure is caught — by the harness's own consistency check and,
where it is cheap enough, by the real gateway behaving as the platform would see it.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e import harness as h

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _edit(path, pattern: str, replacement: str) -> None:
    text = path.read_text(encoding="utf-8")
    new, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    assert count == 1, f"{pattern!r} not found exactly once in {path.name}"
    path.write_text(new, encoding="utf-8")


def test_port_differs_from_internal_port(render, openclaw, boot, tmp_path):
    repo = render(platform="fly", privacy="public")
    _edit(repo / "fly.toml", r"--port 3000 ", "--port 3001 ")
    spec = h.launch_spec(repo, "fly")
    plan = h.make_plan(spec, openclaw, tmp_path / "run")

    with pytest.raises(h.HarnessError, match="declared gateway ports disagree") as caught:
        plan.assert_consistent()
    assert "fly.toml [processes] --port" in str(caught.value)
    assert "fly.toml [http_service] internal_port" in str(caught.value)

    # Run it anyway: the gateway comes up on its own --port, while the port Fly
    # routes and health-checks (internal_port, the image HEALTHCHECK) stays dead.
    gateway = boot(plan, "mismatch", check_consistent=False)
    assert plan.process_port != plan.probe_port
    gateway.wait_started(port=plan.process_port)
    with pytest.raises(h.HarnessError, match="not started within"):
        gateway.wait_started(port=plan.probe_port, timeout=3)
    assert h.run_healthcheck(plan).returncode == 1


def test_state_dir_removed(render, openclaw, boot, tmp_path):
    repo = render(platform="fly")
    _edit(repo / "fly.toml", r'^\s*OPENCLAW_STATE_DIR = "/data"\n', "")
    # fly.toml alone is not enough: the image ENV still says /data (and that deploy works)
    assert h.launch_spec(repo, "fly").env["OPENCLAW_STATE_DIR"] == "/data"
    _edit(repo / "Dockerfile", r"^ENV OPENCLAW_STATE_DIR=/data \\\n\s*", "ENV ")
    spec = h.launch_spec(repo, "fly")
    assert "OPENCLAW_STATE_DIR" not in spec.env
    plan = h.make_plan(spec, openclaw, tmp_path / "run")
    assert not plan.state_dir.is_relative_to(plan.volume)

    gateway = boot(plan, "no-state-dir")
    code = gateway.wait_exit(timeout=30)
    assert code != 0
    assert "OPENCLAW_STATE_DIR must point into the volume" in gateway.log()
    with pytest.raises(h.HarnessError, match="exited"):
        gateway.wait_started(timeout=1)


def test_state_dir_outside_the_volume(render, openclaw, tmp_path):
    repo = render(platform="fly")
    _edit(repo / "fly.toml", r'^(\s*OPENCLAW_STATE_DIR = )"/data"$', r'\1"/home/node/.openclaw"')
    plan = h.make_plan(h.launch_spec(repo, "fly"), openclaw, tmp_path / "run")
    # the container's own filesystem, which each boot (redeploy) starts afresh
    assert plan.state_dir.is_relative_to(plan.ephemeral)
    assert not plan.state_dir.is_relative_to(plan.volume)
