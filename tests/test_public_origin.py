"""gateway.publicOrigin on public deploys (issue 18, item 8).

Upstream uses it for MCP OAuth callbacks, Slack session-card actions, plugin viewer links and
Control UI deep links (docs/gateway/config-gateway.md of 2026.9.6); before, no deploy set it.
One derivation: platforms.yml `public_origin` -> model.public_origin -> the config's
publicOrigin and allowedOrigins. The pinned release's `config validate` accepts each
platform's value with the variable the platform sets (a `${VAR}` form left unset is invalid:
the variable must exist before the gateway starts).
"""

from __future__ import annotations

import json

import pytest

from ops import checks as c
from ops import model as m
from tests.test_config_validate import validate

# The value each platform gives its variable at run time (what the gateway substitutes).
PLATFORM_ENV = {
    "render": {"RENDER_EXTERNAL_URL": "https://claw-po.onrender.com"},
    "railway": {"RAILWAY_PUBLIC_DOMAIN": "claw-po-production.up.railway.app"},
    "northflank": {"OPENCLAW_PUBLIC_ORIGIN": "https://http--claw-po--abcd1234.code.run"},
}
EXPECTED = {
    "fly": "https://claw-po.fly.dev",
    "gcp": "https://claw.example.org",
    "vps": "https://claw.example.org",
    "kubernetes": "https://claw.example.org",
    "render": "${RENDER_EXTERNAL_URL}",
    "railway": "https://${RAILWAY_PUBLIC_DOMAIN}",
    "northflank": "${OPENCLAW_PUBLIC_ORIGIN}",
}


def _answers(platform: str, privacy: str = "public") -> dict:
    data = {"app_name": "claw-po", "platform": platform, "privacy": privacy}
    if m.platform_facts(platform).get("needs_domain"):
        data["domain"] = "claw.example.org"
    return data


@pytest.mark.parametrize("platform", sorted(EXPECTED))
def test_public_origin_is_set_and_valid(render, openclaw, tmp_path, platform):
    assert set(EXPECTED) == set(m.platforms())
    repo = render(**_answers(platform))
    path = repo / "config" / "openclaw.json"
    gateway = json.loads(path.read_text())["gateway"]
    assert gateway["publicOrigin"] == EXPECTED[platform]
    assert gateway["controlUi"]["allowedOrigins"] == [gateway["publicOrigin"]]
    env = openclaw.env(OPENCLAW_STATE_DIR=str(tmp_path / "state"), OPENCLAW_CONFIG_PATH=str(path),
                       HOME=str(tmp_path), **PLATFORM_ENV.get(platform, {}))
    proc = openclaw.run("config", "validate", env=env)
    assert proc.returncode == 0 and "Config valid" in proc.stdout, proc.stdout + proc.stderr
    result = next(r for r in c.run_static(repo) if r.check == "gateway public origin")
    assert result.status == c.PASS, result


def test_private_deploy_has_no_public_origin(render):
    repo = render(**_answers("fly", "private"))
    assert "publicOrigin" not in json.loads((repo / "config" / "openclaw.json").read_text())["gateway"]
    assert next(r for r in c.run_static(repo) if r.check == "gateway public origin").status == c.PASS


@pytest.mark.parametrize("edit, seen", [
    (lambda g: g.pop("publicOrigin"), "gateway.publicOrigin = None"),
    (lambda g: g.update(publicOrigin="https://other.example.org"), "the deploy's origin is"),
    (lambda g: g["controlUi"].update(allowedOrigins=["https://other.example.org"]), "not in allowedOrigins"),
])
def test_verify_fails_when_the_origins_disagree(render, edit, seen):
    repo = render(**_answers("gcp"))
    path = repo / "config" / "openclaw.json"
    config = json.loads(path.read_text())
    edit(config["gateway"])
    path.write_text(json.dumps(config, indent=2))
    result = next(r for r in c.run_static(repo) if r.check == "gateway public origin")
    assert result.status == c.FAIL and seen in result.seen, result


def test_verify_fails_when_caddy_serves_another_name(render):
    repo = render(**_answers("vps"))
    caddyfile = repo / "caddy" / "Caddyfile"
    caddyfile.write_text(caddyfile.read_text().replace("claw.example.org {", "claw.example.net {"))
    result = next(r for r in c.run_static(repo) if r.check == "gateway public origin")
    assert result.status == c.FAIL and "Caddy serves" in result.seen, result


def test_troubleshooting_names_an_unset_public_origin(openclaw, render, tmp_path):
    """The real gateway with the origin's variable unset refuses to start (exit 78); the
    troubleshooting signatures name the cause and the fix from its output."""
    import secrets
    import socket

    from ops.signatures import diagnose_output

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])

    repo = render(**_answers("render"))
    env = openclaw.env(OPENCLAW_STATE_DIR=str(tmp_path / "state"), HOME=str(tmp_path),
                       OPENCLAW_CONFIG_PATH=str(repo / "config" / "openclaw.json"),
                       OPENCLAW_GATEWAY_TOKEN=secrets.token_hex(16))
    proc = openclaw.run("gateway", "--allow-unconfigured", "--port", port, "--bind", "loopback", env=env, timeout=120)
    assert proc.returncode == 78, proc.stdout[-2000:] + proc.stderr[-2000:]
    hits = diagnose_output(proc.stdout + proc.stderr)
    assert any("gateway.publicOrigin" in what for _, what, _ in hits), hits
