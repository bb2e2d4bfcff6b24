"""The harness itself, without a gateway: what it reads, how it maps, how it stops.

Fast (no OpenClaw boot), so not marked e2e.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.e2e import harness as h
from tests.support.openclaw_npm import OpenClaw

FAKE_OPENCLAW = OpenClaw(version="2026.9.6", prefix=Path("/opt/fake-openclaw"))


@pytest.mark.parametrize("privacy", ["public", "private"])
def test_fly_launch_spec_and_plan(render, tmp_path, privacy):
    repo = render(platform="fly", privacy=privacy, gateway_port=8443)
    spec = h.launch_spec(repo)
    assert spec.platform == "fly"
    assert spec.command[:3] == ["node", "openclaw.mjs", "gateway"]
    assert spec.mounts == ["/data"] and spec.memory_mb == 2048 and spec.version == "2026.9.6"
    assert set(spec.ports.values()) == {8443}
    assert spec.env["OPENCLAW_STATE_DIR"] == "/data"
    assert spec.copies[spec.env["OPENCLAW_SEED_CONFIG"]] == "config/openclaw.json"
    probe = spec.probe_places[0]
    assert probe.startswith("fly.toml [http_service]" if privacy == "public" else "fly.toml [checks.")

    plan = h.make_plan(spec, FAKE_OPENCLAW, tmp_path)
    plan.assert_consistent()
    free = plan.process_port
    assert free != 8443 and set(plan.ports.values()) == {free} and plan.probe_port == free
    argv = plan.argv()
    assert argv[:2] == ["sh", str(repo / "docker" / "entrypoint.sh")]
    assert argv[2:5] == [str(FAKE_OPENCLAW.node), str(FAKE_OPENCLAW.entry), "gateway"]
    assert argv[argv.index("--port") + 1] == str(free) and argv[argv.index("--bind") + 1] == "lan"
    env = plan.env()
    assert env["OPENCLAW_STATE_DIR"] == str(tmp_path / "volume" / "data")
    assert env["OPENCLAW_WORKSPACE_DIR"] == str(tmp_path / "volume" / "data" / "workspace")
    assert env["NODE_OPTIONS"] == "--max-old-space-size=1536"
    assert re.fullmatch(r"[0-9a-f]{64}", env["OPENCLAW_GATEWAY_TOKEN"])
    assert env["HOME"].startswith(str(plan.ephemeral))
    assert plan.expected_seed()["gateway"]["port"] == free
    hc = plan.healthcheck_argv()
    assert hc == [str(FAKE_OPENCLAW.node), str(repo / "docker" / "healthcheck.mjs"), str(free), "/healthz"]


@pytest.mark.parametrize(("platform", "privacy"), h.VARIANTS, ids=[f"{p}-{v}" for p, v in h.VARIANTS])
def test_every_variant_maps_consistently(render, tmp_path, platform, privacy):
    """Every launcher finds one process port, a probe port, a volume holding the state dir."""
    spec = h.launch_spec(render(platform=platform, privacy=privacy))
    plan = h.make_plan(spec, FAKE_OPENCLAW, tmp_path)
    plan.assert_consistent()
    assert spec.probe_places, f"{platform}: no place the platform routes to"
    assert plan.state_dir.is_relative_to(plan.volume) and plan.config_path.is_relative_to(plan.volume)
    if spec.own_image:  # the repo's entrypoint seeds from the file the Dockerfile copies
        assert plan.argv()[0] == "sh" and plan.argv()[1].endswith("docker/entrypoint.sh")
        assert spec.seed in spec.copies and not spec.init
    else:  # an init container seeds from a ConfigMap
        assert plan.argv()[0] == str(FAKE_OPENCLAW.node) and spec.init and spec.seed in spec.files
    assert plan.expected_seed() == h.substitute_config(json.loads((spec.root / "config" / "openclaw.json").read_text()),
                                                       plan.port_map)
    assert d_port(plan.argv()) == plan.probe_port
    assert spec.memory_mb >= 1024


def d_port(argv):
    return int(argv[argv.index("--port") + 1])


def test_unknown_platform_is_an_error(tmp_path):
    with pytest.raises(h.HarnessError, match="no e2e launcher"):
        h.launch_spec(tmp_path, "nowhere")


def _stub_plan(tmp_path: Path, script: str) -> SimpleNamespace:
    return SimpleNamespace(argv=lambda: ["sh", "-c", script], env=lambda: {"PATH": h.SYSTEM_PATH},
                           prepare=lambda: None, ephemeral=tmp_path, assert_consistent=lambda: None)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not h._is_zombie(pid)


def _wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_stop_reaches_children_in_other_sessions(tmp_path):
    """Like the gateway's spawn broker: a child in a session of its own is still stopped."""
    gw = h.Gateway(_stub_plan(tmp_path, "setsid sleep 300 & sleep 300"), tmp_path / "log")
    with gw:
        assert _wait_for(lambda: len(gw.seen) >= 3)  # sh, sleep, setsid'd sleep
        pids = list(gw.seen)
    assert not any(_alive(pid) for pid in pids)


def test_stop_kills_what_ignores_sigterm(tmp_path):
    gw = h.Gateway(_stub_plan(tmp_path, "trap '' TERM; sleep 300 & wait"), tmp_path / "log").start()
    assert _wait_for(lambda: len(gw.seen) >= 2)
    start = time.monotonic()
    gw.stop(timeout=1)
    assert time.monotonic() - start < 10
    assert not any(_alive(pid) for pid in gw.seen)
