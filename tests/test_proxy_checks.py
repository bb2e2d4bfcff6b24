"""Trust only the proxy that is there, and make `make verify` check it.

Model level (fast): which senders each generated gateway.trustedProxies admits.
Repo level: the static checks on a rendered private deploy with a tunnel, and
hand edits they must catch (before this, a private deploy skipped the check).
The real gateway's side of all this is tests/e2e/test_proxy_attribution.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ops import checks, declared as d, model as m

GOOD = {
    "app_name": "my-claw", "platform": "fly", "privacy": "public", "region": "iad",
    "openclaw_version": "2026.9.6", "gateway_port": 3000, "vm_size": "shared-cpu-2x", "vm_memory_mb": 2048,
    "volume_size_gb": 1, "model_providers": ["anthropic"], "channels": [], "binaries": [], "tunnel": "none",
}


def answers(platform: str, privacy: str = "public", **changes) -> dict:
    facts = m.platforms()[platform]
    size = facts["default_size"]
    data = {**GOOD, "platform": platform, "privacy": privacy, "region": facts["default_region"],
            "vm_size": size, "vm_memory_mb": m.default_memory_mb(platform, size),
            "volume_size_gb": facts["volume"].get("default_gb", facts["volume"]["min_gb"]),
            "gateway_port": facts["default_port"], **changes}
    if m.needs_domain(data):
        data["domain"] = "claw.example.org"
    return data


def trusted(platform: str, privacy: str = "public", **changes) -> list[str]:
    return m.starter_config(m.build(answers(platform, privacy, **changes)))["gateway"].get("trustedProxies", [])


# Senders that are not the platform's proxy but sit in the private ranges every
# managed platform trusted before: they could choose their own client address.
NOT_THE_PROXY = {
    "fly": ["fdaa:0:1::2", "10.0.0.5", "192.168.1.9", "100.64.0.7"],     # 6PN: other apps of the org
    "railway": ["fd12::7", "10.0.0.5", "172.17.0.2", "192.168.1.9"],     # private network (IPv6)
    "render": ["172.17.0.2", "192.168.1.9", "100.64.0.7", "fd00::1"],
    "northflank": ["172.17.0.2", "192.168.1.9", "100.64.0.7", "fd00::1"],
    "kubernetes": ["fd00::1"],  # pod CIDR unknown: the NetworkPolicy narrows senders instead
}


@pytest.mark.parametrize("platform", list(NOT_THE_PROXY))
def test_public_trust_is_narrowed_to_the_platform_proxy(platform):
    list_ = trusted(platform)
    assert list_, "a public deploy behind a proxy trusts it"
    for sender in NOT_THE_PROXY[platform]:
        assert not checks._covered(sender, list_), f"{platform}: {sender} is trusted by {list_}"
    assert not checks._covered("127.0.0.1", list_)  # no local process names a client on a public deploy


def test_fly_trusts_the_apps_own_anycast_hop():
    model = m.build(answers("fly"))
    names = list(model.edge_address_env)
    assert sorted(model.edge_address_env.values()) == ["ipv4", "ipv6"]
    assert [t for t in model.trusted_proxies if t.startswith("${")] == [f"${{{n}}}" for n in names]
    assert m.build(answers("fly", "private")).edge_address_env == {}


@pytest.mark.parametrize("platform", list(m.platforms()))
@pytest.mark.parametrize("tunnel", ["ngrok", "tailscale"])
def test_a_tunnel_trusts_loopback_only_on_private_deploys(platform, tunnel):
    assert trusted(platform, "private", tunnel=tunnel) == ["127.0.0.1"]
    assert trusted(platform, "private") == []
    # the question is not asked on public deploys: an answer given anyway is not used
    public = m.build(answers(platform, "public", tunnel=tunnel))
    assert public.tunnel == "none" and "127.0.0.1" not in public.trusted_proxies


def test_platform_checkers_probe_liveness_where_a_range_is_trusted():
    health = m.openclaw()["health"]
    for platform, facts in m.platforms().items():
        public, private = m.build(answers(platform, "public")), m.build(answers(platform, "private"))
        if facts["kind"] == "compose":
            continue  # Docker's HEALTHCHECK runs inside the container, from loopback
        assert public.check_path == health["liveness"], platform
        assert private.check_path == health["startup"], platform


def test_ngrok_policy_opens_only_webhook_paths():
    model = m.build(answers("fly", "private", tunnel="ngrok", channels=["slack", "telegram", "discord"]))
    assert model.tunnel_paths == ("/healthz", "/slack/events")
    assert model.tunnel_routes == (("GET", "/healthz"), ("POST", "/slack/events"))
    assert m.build(answers("fly", "private", tunnel="tailscale", channels=["slack"])).tunnel_paths == ()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def failed(repo: Path) -> dict[str, str]:
    return {r.check: r.seen for r in checks.run_static(repo) if r.status == checks.FAIL}


TUNNEL_BREAKS = [
    # the agent starts without the policy: the whole gateway on the ngrok URL
    ("docker/entrypoint.sh", " --traffic-policy-file /opt/openclaw-deploy/ngrok-policy.yml", "",
     "tunnel exposes only webhook paths"),
    ("docker/ngrok-policy.yml", "req.url.path == '/healthz'", "req.url.path in ['/healthz', '/']",
     "tunnel exposes only webhook paths"),
    ("Dockerfile", "COPY --chmod=0644 docker/ngrok-policy.yml", "COPY --chmod=0644 docker/nothing.yml",
     "tunnel exposes only webhook paths"),
    # the agent's headers from loopback are refused (403) without the trust
    ("config/openclaw.json", '"trustedProxies": [\n      "127.0.0.1"\n    ]', '"trustedProxies": []',
     "reverse proxy is trusted"),
    ("config/openclaw.json", '"127.0.0.1"', '"127.0.0.1", "10.0.0.0/8"', "reverse proxy is trusted"),
]


@pytest.mark.parametrize(("path", "old", "new", "check"), TUNNEL_BREAKS, ids=[b[3].split()[0] + str(i) for i, b in
                                                                              enumerate(TUNNEL_BREAKS)])
def test_verify_checks_a_private_deploy_with_a_tunnel(render, path, old, new, check):
    repo = render(platform="fly", privacy="private", tunnel="ngrok")
    results = {r.check: r for r in checks.run_static(repo)}
    assert results["reverse proxy is trusted"].status == checks.PASS, results["reverse proxy is trusted"]
    assert results["tunnel exposes only webhook paths"].status == checks.PASS
    assert failed(repo) == {}
    edit(repo / path, old, new)
    got = set(failed(repo))
    # a private range trusted on top also breaks the machine check on /startupz
    assert check in got and got <= {check, "platform checks pass without forwarding headers"}, got


def test_tailscale_serve_is_a_proxy_source(render):
    repo = render(platform="railway", privacy="private", tunnel="tailscale")
    declared = d.read(repo, "railway")
    assert declared.proxy_sources == {"docker/entrypoint.sh tailscale serve": "127.0.0.1"}
    assert json.loads((repo / "config/openclaw.json").read_text())["gateway"]["trustedProxies"] == ["127.0.0.1"]
    assert failed(repo) == {}


def test_public_deploy_gets_no_tunnel_even_when_one_is_passed(render):
    repo = render(platform="render", privacy="public", tunnel="ngrok")
    assert "ngrok" not in (repo / "Dockerfile").read_text()
    assert not (repo / "docker/ngrok-policy.yml").exists()
    assert failed(repo) == {}
