"""A gateway reachable beyond loopback refuses to start without its token, and
the generated RUNBOOK names each refusal by the message the gateway prints.

Measured on openclaw 2026.9.6 with the declared `--bind lan`:
- generated config (gateway.auth.token is a SecretRef to OPENCLAW_GATEWAY_TOKEN)
  and the variable unset: exit 1, "required secrets are unavailable" (after ~10 s
  of automatic triage that writes diagnostics under the state dir's logs/);
- no config at all (the seed missing) and no token: exit 78,
  "Refusing to bind gateway to lan without auth".
"""

from __future__ import annotations

import pytest

from tests.e2e import harness as h

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PLATFORMS = sorted({platform for platform, _ in h.VARIANTS})
# The refusal is the gateway's reaction to (bind, auth config), which every
# platform declares the same way (lan; gateway.auth.token -> OPENCLAW_GATEWAY_TOKEN):
# checked per platform from the files, booted once (each refusal costs a start).
LIVE_PLATFORMS = ["fly"]

NO_AUTH = "Refusing to bind gateway to lan without auth"
SECRET_MISSING = "required secrets are unavailable"


def _assert_nothing_listens(plan: h.Plan) -> None:
    assert h.http_get(plan.probe_port, "/healthz", timeout=1) is None


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_platform_declares_lan_and_the_token_ref(render, platform):
    spec = h.launch_spec(render(platform=platform), platform)
    assert set(spec.declared.binds.values()) == {"lan"}, spec.declared.binds
    auth = spec.declared.config["gateway"]["auth"]
    assert auth["mode"] == "token"
    assert auth["token"] == {"source": "env", "provider": "default", "id": "OPENCLAW_GATEWAY_TOKEN"}


@pytest.mark.parametrize("platform", LIVE_PLATFORMS)
def test_lan_bind_without_token_refuses(render, openclaw, boot, tmp_path, platform):
    repo = render(platform=platform)
    spec = h.launch_spec(repo, platform)
    assert spec.declared.binds, "no bind declared"
    assert set(spec.declared.binds.values()) == {"lan"}

    # the generated config, token not set on the platform
    plan = h.make_plan(spec, openclaw, tmp_path / "generated", token=None)
    gateway = boot(plan, "no-token")
    code = gateway.wait_exit(timeout=120)
    log = gateway.log(400)
    assert code == 1, f"expected exit 1 without the token, got {code}:\n{log}"
    assert SECRET_MISSING in log, log
    _assert_nothing_listens(plan)

    # no config on the volume and no seed: the gateway runs unconfigured
    bare = h.make_plan(spec, openclaw, tmp_path / "bare", token=None)
    bare.extra_env["OPENCLAW_SEED_CONFIG"] = str(tmp_path / "no-seed.json")
    gateway = boot(bare, "no-token-no-config")
    code = gateway.wait_exit(timeout=120)
    log = gateway.log(400)
    assert code == 78, f"expected exit 78 on lan without auth, got {code}:\n{log}"
    assert NO_AUTH in log, log
    _assert_nothing_listens(bare)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_runbook_names_lan_without_auth(render, platform):
    runbook = (render(platform=platform) / "RUNBOOK.md").read_text(encoding="utf-8")
    assert NO_AUTH in runbook
    assert "78" in runbook


@pytest.mark.parametrize("platform", PLATFORMS)
def test_runbook_names_missing_token_secret(render, platform):
    runbook = (render(platform=platform) / "RUNBOOK.md").read_text(encoding="utf-8")
    assert SECRET_MISSING in runbook
