"""Hardening (issue 11): credentials only as references in config/openclaw.json, `make update`
only from the template the repo was generated from, HSTS on public deploys, a read-only root
filesystem on Kubernetes, no `export SECRET=...` in the docs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ops import checks, model as m
from tests.support.template_history import commit_all

ALL_CHANNELS = {"channels": ["discord", "telegram", "slack", "whatsapp"],
                "model_providers": ["anthropic", "openai", "google", "openrouter"], "tunnel": "ngrok"}


def answers_for(platform: str, **extra) -> dict:
    data = {"platform": platform, **extra}
    if m.platforms()[platform].get("needs_domain"):
        data["domain"] = "claw.example.org"
    return data


def committed(render, **answers) -> Path:
    repo = render(**answers)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    commit_all(repo, "generated")
    return repo


def run_verify(repo: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "OPENCLAW_BIN"}
    env["PATH"] = f"{Path(sys.executable).parent}:/usr/bin:/bin"
    return subprocess.run([sys.executable, "-m", "ops.verify"], cwd=repo, capture_output=True, text=True,
                          env=env, timeout=120)


# ------------------------------------------------- 4: credentials in the config --

GATEWAY_TOKEN = os.urandom(32).hex()
DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4." + "GhIjKl" + "." + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7"
PROVIDER_KEY = "pk-" + os.urandom(10).hex()
PASSWORD = "hunter2-correct-horse"


@pytest.mark.parametrize("platform", sorted(m.platforms()))
def test_generated_config_references_every_credential(render, platform):
    repo = render(**answers_for(platform, **ALL_CHANNELS))
    config = json.loads((repo / "config" / "openclaw.json").read_text())
    assert checks.inline_credentials(config) == []
    repo_obj = checks.load_repo(repo)
    assert checks.check_config_credentials_are_refs(repo_obj).status == checks.PASS


def test_inline_credentials_fail_verify_naming_the_path_not_the_value(render):
    repo = committed(render, channels=["discord"])
    path = repo / "config" / "openclaw.json"
    config = json.loads(path.read_text())
    config["gateway"]["auth"]["token"] = GATEWAY_TOKEN
    config["channels"]["discord"]["token"] = DISCORD_TOKEN
    config["gateway"]["remote"] = {"password": PASSWORD}
    config["models"] = {"providers": {"acme": {"apiKey": PROVIDER_KEY, "baseUrl": "https://llm.example.org"}}}
    config["gateway"]["controlUi"]["allowedOrigins"].append("https://token.example.org")  # not a credential
    path.write_text(json.dumps(config, indent=2))
    commit_all(repo, "inline secrets")
    proc = run_verify(repo)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    line = next(l for l in out.splitlines() if "config credentials are secret references" in l)
    assert line.startswith("FAIL"), out
    for where in ("gateway.auth.token", "channels.discord.token", "gateway.remote.password",
                  "models.providers.acme.apiKey"):
        assert where in line, line
    for value in (GATEWAY_TOKEN, DISCORD_TOKEN, PROVIDER_KEY, PASSWORD):
        assert value not in out and value[:12] not in out


@pytest.mark.parametrize("value, inline", [
    ({"source": "env", "provider": "default", "id": "X_TOKEN"}, False),
    ("${OPENCLAW_GATEWAY_TOKEN}", False),
    ("", False),
    ("${lower}", True),                      # only uppercase names are substituted
    ("prefix-${OPENCLAW_GATEWAY_TOKEN}", True),
    ("0" * 64, True),
])
def test_what_counts_as_a_reference(value, inline):
    config = {"channels": {"telegram": {"accounts": {"main": {"botToken": value}}}}, "tls": [{"key": value}]}
    found = checks.inline_credentials(config)
    assert found == (["channels.telegram.accounts.main.botToken", "tls[0].key"] if inline else [])


# ------------------------------------------------------------------- 8: HSTS --

@pytest.mark.parametrize("platform", sorted(m.platforms()))
def test_public_deploys_send_hsts_private_ones_do_not(render, platform):
    public = render(**answers_for(platform, privacy="public"))
    config = json.loads((public / "config" / "openclaw.json").read_text())
    assert config["gateway"]["http"]["securityHeaders"]["strictTransportSecurity"] == "max-age=31536000"
    assert checks.check_hsts(checks.load_repo(public)).status == checks.PASS
    if (public / "caddy" / "Caddyfile").exists():
        assert 'header Strict-Transport-Security "max-age=31536000"' in (public / "caddy" / "Caddyfile").read_text()
    private = render(**answers_for(platform, privacy="private"))
    assert "http" not in json.loads((private / "config" / "openclaw.json").read_text())["gateway"]


def test_hsts_removed_fails_verify(render):
    repo = render()
    path = repo / "config" / "openclaw.json"
    config = json.loads(path.read_text())
    del config["gateway"]["http"]
    path.write_text(json.dumps(config))
    result = checks.check_hsts(checks.load_repo(repo))
    assert result.status == checks.FAIL and "strictTransportSecurity" in result.seen


def test_caddy_sets_the_header(render, tmp_path):
    """The real Caddy (Debian package) adapts the Caddyfile into a header handler."""
    import shutil
    assert shutil.which("caddy"), "caddy is not installed: apt-get install caddy"
    repo = render(platform="vps", privacy="public", domain="claw.example.org")
    proc = subprocess.run(["caddy", "adapt", "--config", str(repo / "caddy" / "Caddyfile"), "--adapter", "caddyfile"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert '"Strict-Transport-Security":["max-age=31536000"]' in proc.stdout.replace(" ", "")
