"""The starter config passes the pinned OpenClaw's own `config validate`."""

from __future__ import annotations

import json

import pytest

CASES = {
    "defaults": {},
    "private": {"privacy": "private"},
    "everything": {"model_providers": ["anthropic", "openai", "google", "openrouter"],
                   "channels": ["discord", "telegram", "slack", "whatsapp"], "gateway_port": 8443},
    "no-providers": {"model_providers": [], "channels": ["whatsapp"]},
    "primary-google": {"model_providers": ["anthropic", "google"], "primary_model_provider": "google"},
}


def validate(openclaw, config_path, tmp_path):
    env = openclaw.env(OPENCLAW_STATE_DIR=str(tmp_path / "state"), OPENCLAW_CONFIG_PATH=str(config_path),
                       HOME=str(tmp_path))
    return openclaw.run("config", "validate", env=env)


@pytest.mark.parametrize("case", CASES)
def test_starter_config_is_valid(render, openclaw, tmp_path, case):
    repo = render(**CASES[case])
    proc = validate(openclaw, repo / "config" / "openclaw.json", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Config valid" in proc.stdout


def test_validate_catches_a_broken_config(render, openclaw, tmp_path):
    repo = render()
    path = repo / "config" / "openclaw.json"
    config = json.loads(path.read_text())
    config["gateway"]["bind"] = "everywhere"
    path.write_text(json.dumps(config))
    proc = validate(openclaw, path, tmp_path)
    assert proc.returncode == 1
    assert "gateway.bind" in proc.stdout + proc.stderr


def test_make_verify_runs_config_validate(render, openclaw):
    import subprocess
    import sys

    repo = render()
    proc = subprocess.run([sys.executable, "-m", "ops.verify", "--openclaw", str(openclaw.entry)],
                          cwd=repo, capture_output=True, text=True, timeout=300,
                          env=openclaw.env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS  openclaw config validate" in proc.stdout


def test_node_hint_is_the_pinned_release_engines(render, openclaw):
    """`make verify` without OpenClaw names the Node versions npm accepts for the pinned
    release (its package.json engines.node, recorded in openclaw.yml), not a looser `>= 24`."""
    from ops import model as m, verify

    engines = json.loads((openclaw.entry.parent / "package.json").read_text())["engines"]["node"]
    assert m.openclaw()["node_engines"] == engines
    result = verify.check_config_validate(render(), None, openclaw.version)
    assert result.status == "SKIP" and f"(Node {engines})" in result.fix


def test_starter_config_bounds_runaway_use(render, openclaw, tmp_path):
    """The seeded guardrails (openclaw.yml) reach the config and the release accepts them;
    a key the release does not know is refused, so the bounds cannot be silently ignored."""
    from ops import model as m

    repo = render()
    path = repo / "config" / "openclaw.json"
    defaults = json.loads(path.read_text())["agents"]["defaults"]
    guard = m.openclaw()["guardrails"]
    assert {k: defaults[k] for k in guard} == guard
    assert defaults["maxConcurrent"] <= 2 and defaults["heartbeat"]["every"] != "30m"
    config = json.loads(path.read_text())
    config["agents"]["defaults"]["heartbeat"]["maxCallsPerDay"] = 10
    path.write_text(json.dumps(config))
    proc = validate(openclaw, path, tmp_path)
    assert proc.returncode == 1 and "maxCallsPerDay" in proc.stdout + proc.stderr
