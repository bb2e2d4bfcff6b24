"""Every generated deploy starts the real OpenClaw gateway, as its files declare it.

A gateway takes 10-40 s to report started on 2 cores, so assertions share
boots: one long story per platform (``harness.LIFECYCLE_VARIANTS``), sharing
one volume, and a single checked boot (boot 1 below, without the second
gateway) for every other variant (``harness.BOOT_VARIANTS``).

  boot 1   fresh volume: /startupz (pinned version) on the platform's port,
           /healthz JSON, unknown paths are HTML (why bodies are asserted),
           RSS vs machine memory, the image HEALTHCHECK, the seeded config,
           a second gateway on the same volume refused (exit 78); SIGTERM.
  boot 2   fresh container fs, same volume, live config edited in between:
           the edit is kept (not re-seeded), same device identity; kill -9.
  boot 3   same volume with the stale lock: comes up again; SIGTERM.
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import threading

import pytest

from ops import model as m
from tests.e2e import harness as h
from tests.e2e.conftest import figures

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

RSS_LIMIT_FRACTION = 0.75
EDIT_ORIGIN = "https://e2e-edited.invalid"


def _json(plan: h.Plan, path: str) -> dict:
    res = h.http_get(plan.probe_port, path)
    assert res is not None, f"nothing answers {path} on 127.0.0.1:{plan.probe_port}"
    body = res.json()
    assert isinstance(body, dict), f"{path} answered {res.status} {res.content_type} without JSON: {res.text[:120]!r}"
    return body


class _HtmlEverywhere(http.server.BaseHTTPRequestHandler):
    """A wrong service on the port: 200 with HTML for every path (like the Control UI)."""

    def do_GET(self):  # noqa: N802
        body = b"<!doctype html><title>not the gateway</title>"
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _assert_healthcheck(plan: h.Plan) -> None:
    ok = h.run_healthcheck(plan)
    assert ok.returncode == 0, f"image HEALTHCHECK against the live gateway: {ok.stdout}{ok.stderr}"
    wrong_path = h.run_healthcheck(plan, path="/nope")
    assert wrong_path.returncode == 1, wrong_path.stdout + wrong_path.stderr
    wrong_port = h.run_healthcheck(plan, port=h.free_port())
    assert wrong_port.returncode == 1, wrong_port.stdout + wrong_port.stderr
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HtmlEverywhere)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        html = h.run_healthcheck(plan, port=server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
    assert html.returncode == 1, f"a 200 HTML answer must not pass the health check: {html.stdout}{html.stderr}"


def _assert_token_auth(plan: h.Plan, version: str) -> None:
    """The gateway takes the generated token (and only it) over its WebSocket."""
    good = h.gateway_probe(plan, plan.token)
    assert good["connect"]["ok"] and good["auth"]["role"] == "operator", good
    assert good["server"]["version"] == version, good
    bad = h.gateway_probe(plan, h.gateway_token())
    assert bad["auth"]["role"] is None and "token mismatch" in (bad["connect"]["error"] or ""), bad


def _boot_row(state: dict, gateway: h.Gateway) -> dict:
    """The boot this gateway recorded: the launched process or one of its descendants (the
    entrypoint keeps running as the gateway's parent for make restore's maintenance state)."""
    pids = {gateway.pid, *gateway.seen}
    rows = [b for b in state["boots"] if b["pid"] in pids]
    assert rows, f"no boot of pids {sorted(pids)} in the state database: {state['boots']}"
    return rows[-1]


def _ids(variants):
    return [f"{p}-{v}" for p, v in variants]


def _plan(render, openclaw, tmp_path, platform, privacy):
    repo = render(platform=platform, privacy=privacy)
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
    spec = h.launch_spec(repo, platform)
    plan = h.make_plan(spec, openclaw, tmp_path / "run")
    plan.assert_consistent()
    assert spec.version == model.openclaw_version == openclaw.version
    assert plan.state_dir.is_relative_to(plan.volume), (
        f"OPENCLAW_STATE_DIR={spec.env.get('OPENCLAW_STATE_DIR')} is not inside a volume {spec.mounts}")
    assert plan.config_path.is_relative_to(plan.volume)
    return model, spec, plan


def _first_boot(boot, plan, model) -> h.Gateway:
    """Boot a fresh volume; check health JSON, the image HEALTHCHECK, the token, the seed."""
    first = boot(plan, "boot1")
    started = first.wait_started()
    assert started["ok"] is True and started["status"] == "started", started
    assert started["version"] == model.openclaw_version, started

    assert _json(plan, model.liveness_path) == {"ok": True, "status": "live"}
    assert _json(plan, model.startup_path)["status"] == "started"
    unknown = h.http_get(plan.probe_port, "/no-such-health-path")
    assert unknown is not None and unknown.status == 200 and unknown.json() is None, (
        "unknown paths are expected to answer 200 with HTML (why every check asserts JSON)")

    if plan.spec.own_image:  # the repo's image HEALTHCHECK (Kubernetes probes over HTTP instead)
        _assert_healthcheck(plan)
    _assert_token_auth(plan, model.openclaw_version)

    seeded = json.loads(plan.config_path.read_text(encoding="utf-8"))
    assert seeded == plan.expected_seed(), "the live config is not the generated config/openclaw.json"
    assert "first boot: seeded" in first.log(400)
    return first


def _record_rss(first: h.Gateway, spec: h.LaunchSpec, record_property, label: str) -> None:
    """Peak RSS of boot 1 (kernel high-water mark of the gateway; sampled tree) vs memory."""
    rss = first.rss_mb()
    peak = max(rss.values())
    limit = RSS_LIMIT_FRACTION * spec.memory_mb
    record_property("e2e", figures(
        startup_s=round(first.startup_seconds, 1), gateway_rss_mb=round(rss["gateway_peak_mb"]),
        tree_rss_mb=round(rss["tree_peak_mb"]), memory_mb=spec.memory_mb,
        percent=round(100 * peak / spec.memory_mb)))
    print(f"{label}: startupz after {first.startup_seconds:.1f} s; peak RSS {peak:.0f} MB "
          f"(gateway {rss['gateway_peak_mb']:.0f} MB) of {spec.memory_mb} MB ({spec.memory_place})")
    assert peak <= limit, (f"peak RSS {peak:.0f} MB exceeds {RSS_LIMIT_FRACTION:.0%} of the configured "
                           f"{spec.memory_mb} MB ({spec.memory_place}): {limit:.0f} MB")


@pytest.mark.parametrize(("platform", "privacy"), h.BOOT_VARIANTS, ids=_ids(h.BOOT_VARIANTS))
def test_gateway_boots(render, openclaw, boot, tmp_path, record_property, platform, privacy):
    model, spec, plan = _plan(render, openclaw, tmp_path, platform, privacy)
    first = _first_boot(boot, plan, model)
    _record_rss(first, spec, record_property, f"{platform}/{privacy}")
    assert first.stop() == 0, f"SIGTERM: the gateway did not stop cleanly:\n{first.log()}"


@pytest.mark.parametrize(("platform", "privacy"), h.LIFECYCLE_VARIANTS, ids=_ids(h.LIFECYCLE_VARIANTS))
def test_gateway_lifecycle(render, openclaw, boot, tmp_path, record_property, platform, privacy):
    model, spec, plan = _plan(render, openclaw, tmp_path, platform, privacy)

    # ---- boot 1: fresh volume
    first = _first_boot(boot, plan, model)

    # a second gateway on the same volume (its own container fs and port) is refused
    second_plan = dataclasses.replace(plan, ephemeral=tmp_path / "second",
                                      port_map={p: h.free_port() for p in plan.port_map})
    second = boot(second_plan, "second")
    code = second.wait_exit(timeout=90)
    assert code == 78, f"second gateway on the same volume exited {code}, expected 78:\n{second.log()}"
    assert "another OpenClaw process owns gateway-lifecycle" in second.log(400)
    assert first.alive() and _json(plan, model.startup_path)["status"] == "started"

    _record_rss(first, spec, record_property, f"{platform}/{privacy}")

    assert first.stop() == 0, f"SIGTERM: the gateway did not stop cleanly:\n{first.log()}"
    state1 = h.read_state(plan.state_dir)
    assert len(state1["devices"]) == 1
    assert _boot_row(state1, first)["outcome"] == "clean_stop"

    # edit the live config on the volume (as the RUNBOOK tells users to)
    edited = json.loads(plan.config_path.read_text(encoding="utf-8"))
    edited["gateway"].setdefault("controlUi", {}).setdefault("allowedOrigins", []).append(EDIT_ORIGIN)
    plan.config_path.write_text(json.dumps(edited, indent=2) + "\n", encoding="utf-8")

    # ---- boot 2: new container, same volume
    again = boot(plan, "boot2")
    again.wait_started()
    assert "keeping the existing config" in again.log(400)
    assert json.loads(plan.config_path.read_text(encoding="utf-8")) == edited, "the edited config was overwritten"
    _json(plan, model.liveness_path)

    # ---- the machine dies: kill -9, locks stay behind
    again.kill9()
    state2 = h.read_state(plan.state_dir)
    assert state2["devices"] == state1["devices"], "device identity changed: state did not survive the restart"
    assert _boot_row(state2, again)["completed_at_ms"] is None
    locks = list((plan.state_dir / "tmp").glob("openclaw-*/gateway.*.lock"))
    assert locks, "expected the killed gateway's lock files on the volume"

    # ---- boot 3: same volume with a stale lock
    third = boot(plan, "boot3")
    assert third.wait_started()["status"] == "started"
    assert json.loads(plan.config_path.read_text(encoding="utf-8")) == edited
    assert third.stop() == 0, third.log()
    state3 = h.read_state(plan.state_dir)
    assert state3["devices"] == state1["devices"]
    assert _boot_row(state3, third)["outcome"] == "clean_stop"
