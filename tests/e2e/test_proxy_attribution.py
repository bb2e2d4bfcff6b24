"""Who the real gateway thinks the client is, behind each platform's proxy.

The pinned gateway reads X-Forwarded-For right to left and takes the first hop
that is neither loopback nor in ``gateway.trustedProxies``; forwarding headers
from a sender outside that list get ``403 proxy_attribution_required``, and a
trusted sender that names no client gets the same 403 on every probe but
``/health(z)``. Each test boots a generated deploy through its own entrypoint
(``tests/e2e/harness.py``) and sends, from loopback, the exact header chain the
platform's proxy produces:

- Fly: ``<whatever the client sent>, <client>, <the app's anycast address>``
  (Fly appends the address the client connected to: fly.io request-headers
  docs). The entrypoint resolves ``<app>.fly.dev`` at boot; here DNS is the
  ``tests/standins/dns/getent`` stand-in and FLY_APP_NAME is what Fly sets.
- Render, Railway, Northflank, Kubernetes ingress, Caddy (Compose):
  ``<whatever the client sent>, <client>``.

The machine has only loopback to send from, so the proxy's own source address
is played by 127.0.0.1, added to the generated list (Caddy's fixed compose
address is replaced by it); every other entry stays as generated. Behaviour
shown through the auth rate limit (10 failures per client, then 429):

- a client rotating its own X-Forwarded-For entries is still one client: 429;
- another client behind the same proxy is unaffected (the bucket is per
  client, not the proxy's or the app's address);
- the platform's health checker, a trusted sender naming no client, gets 403
  on /startupz but 200 on the path the platform file declares.

Tunnels (private deploys) run the generated config unmodified: the agent is a
local process, so loopback is the real sender.
"""

from __future__ import annotations

import dataclasses
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from ops import declared as d
from ops import traffic_policy
from ops import model as m
from tests.e2e import harness as h

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STANDIN_DNS_DIR = Path(__file__).resolve().parents[1] / "standins" / "dns"
# Documentation addresses (RFC 5737 / 3849) for clients; the Fly app's anycast
# pair in Fly's own ranges' shape (the values only need to be public).
FLY_APP_IPV4 = "66.241.124.9"
FLY_APP_IPV6 = "2a09:8280:1::4f:abcd"
AUTH_LIMIT = 10  # gateway.auth.rateLimit.maxAttempts default (docs/gateway/security/rate-limiting.md)


def _fly_chain(client: str, spoofed: str = "") -> str:
    return ", ".join(x for x in (spoofed, client, FLY_APP_IPV4) if x)


def _single_hop_chain(client: str, spoofed: str = "") -> str:
    return ", ".join(x for x in (spoofed, client) if x)


# platform -> the X-Forwarded-For its proxy hands the gateway
CHAINS = {
    "fly": _fly_chain,
    "render": _single_hop_chain,
    "railway": _single_hop_chain,
    "northflank": _single_hop_chain,
    "kubernetes": _single_hop_chain,
    "vps": _single_hop_chain,  # Caddy's reverse_proxy, as generated
}


@dataclasses.dataclass
class StandInProxyPlan(h.Plan):
    """The generated seed with the proxy's source address played by loopback."""

    proxy_stand_in: bool = True

    def expected_seed(self) -> dict[str, Any]:
        seed = super().expected_seed()
        if not self.proxy_stand_in:
            return seed
        gateway = seed["gateway"]
        proxy = (m.platforms()[self.spec.platform].get("proxy") or {}).get("address")
        trusted = [t for t in gateway.get("trustedProxies", []) if t != proxy]
        gateway["trustedProxies"] = trusted + ["127.0.0.1"]
        return seed


def _request(port: int, path: str, headers: dict[str, str], *, token: str | None = None,
             method: str = "GET", body: bytes | None = None) -> tuple[int, Any]:
    headers = dict(headers)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            status, text = res.status, res.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        status, text = err.code, err.read().decode("utf-8", "replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def _invoke(port: int, headers: dict[str, str], token: str | None) -> tuple[int, Any]:
    """An authenticated HTTP route: 401 wrong token, 429 locked out, 400 (no tool name) when admitted."""
    return _request(port, "/tools/invoke", headers, token=token, method="POST", body=b"{}")


def _error_type(body: Any) -> str:
    return ((body or {}).get("error") or {}).get("type", "") if isinstance(body, dict) else ""


def _boot(boot, render, openclaw, tmp_path, platform: str, privacy: str, *, stand_in: bool,
          **answers: Any) -> tuple[h.Plan, m.DeployModel, d.Declared]:
    repo = render(platform=platform, privacy=privacy, **answers)
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
    spec = h.launch_spec(repo, platform)
    base = h.make_plan(spec, openclaw, tmp_path / "run")
    plan = StandInProxyPlan(**{f.name: getattr(base, f.name) for f in dataclasses.fields(h.Plan)},
                            proxy_stand_in=stand_in)
    if model.edge_address_env:
        # what Fly sets in every machine, and DNS for the app's name
        plan.extra_env.update(
            FLY_APP_NAME=model.app_name,
            STANDIN_DNS=f"{model.app_name}.fly.dev={FLY_APP_IPV4},{FLY_APP_IPV6}",
            PATH=f"{STANDIN_DNS_DIR}:{openclaw.node.parent}:{h.SYSTEM_PATH}",
        )
    gateway = boot(plan, f"{platform}-{privacy}")
    gateway.wait_started()
    return plan, model, d.read(repo, platform)


def _assert_client_is_attributed(plan: h.Plan, model: m.DeployModel, declared: d.Declared, n: int) -> None:
    """The platform's chain, from the proxy stand-in: the client (n-th pair of addresses) is who counts."""
    port, chain, platform = plan.probe_port, CHAINS[model.platform], model.platform
    attacker, neighbour = f"203.0.113.{10 + n}", f"198.51.100.{10 + n}"
    statuses = []
    for i in range(AUTH_LIMIT + 2):
        headers = {"X-Forwarded-For": chain(attacker, spoofed=f"192.0.2.{i + 1}"), "X-Forwarded-Proto": "https"}
        status, body = _invoke(port, headers, token=f"wrong-{i}")
        statuses.append(status)
        assert status in (401, 429), (platform, status, body)
    # rotating its own X-Forwarded-For entries does not make it a new client
    assert statuses[:AUTH_LIMIT] == [401] * AUTH_LIMIT and statuses[AUTH_LIMIT:] == [429, 429], (platform, statuses)
    # another client behind the same proxy keeps its own bucket and gets in
    status, body = _invoke(port, {"X-Forwarded-For": chain(neighbour), "X-Forwarded-Proto": "https"}, plan.token)
    assert status == 400 and "requires name" in json.dumps(body), (platform, status, body)
    # and the attacker stays locked out even with the right token
    status, body = _invoke(port, {"X-Forwarded-For": chain(attacker), "X-Forwarded-Proto": "https"}, plan.token)
    assert status == 429, (platform, status, body)

    # the platform's checker: a trusted sender naming no client (no X-Forwarded-For)
    checker = {"X-Forwarded-Proto": "http"}
    status, body = _request(port, model.startup_path, checker)
    assert status == 403 and _error_type(body) == "proxy_attribution_required", (platform, status, body)
    platform_checks = {k: v for k, v in declared.health_paths.items()
                       if not k.startswith("Dockerfile") and "docker-compose" not in k}
    if platform == "vps":
        assert platform_checks == {}  # Compose: Docker's HEALTHCHECK runs in the container (loopback)
    else:
        assert platform_checks and set(platform_checks.values()) == {model.check_path}, platform_checks
    for where, path in platform_checks.items():
        status, body = _request(port, path, checker)
        assert status == 200 and body == {"ok": True, "status": "live"}, (where, status, body)


def _apply_trust(plan: h.Plan, trusted: list[str], sentinel: str) -> None:
    """Write trustedProxies into the live config and wait for the gateway's hot reload.

    `sentinel` (a TEST-NET address) rides along: alone in X-Forwarded-For it is
    a trusted hop, so the request names no client (403) once the list is live.
    """
    config = json.loads(plan.config_path.read_text())
    config["gateway"]["trustedProxies"] = trusted + [sentinel]
    plan.config_path.write_text(json.dumps(config, indent=2) + "\n")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status, _ = _request(plan.probe_port, "/startupz", {"X-Forwarded-For": sentinel})
        if status == 403:
            return
        time.sleep(0.3)
    raise AssertionError(f"gateway.trustedProxies = {trusted} not applied within 60 s")


SINGLE_HOP = [p for p, chain in CHAINS.items() if chain is _single_hop_chain]


def test_the_client_behind_each_platform_proxy_is_who_is_rate_limited(boot, render, openclaw, tmp_path):
    """One gateway; each platform's generated gateway.trustedProxies is applied in
    turn (hot reload, as an operator's edit would be) and its chain sent."""
    plan, model, declared = _boot(boot, render, openclaw, tmp_path, SINGLE_HOP[0], "public", stand_in=True)
    seeded = json.loads(plan.config_path.read_text())["gateway"]["trustedProxies"]
    assert seeded == list(model.trusted_proxies) + ["127.0.0.1"]  # nothing beyond the platform's own list
    for n, platform in enumerate(SINGLE_HOP):
        if n:
            repo = render(platform=platform, privacy="public")
            model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
            declared = d.read(repo, platform)
        generated = (declared.config or {})["gateway"]["trustedProxies"]
        assert generated == list(model.trusted_proxies), platform
        caddy = (m.platforms()[platform].get("proxy") or {}).get("address")
        # the proxy's source address is played by loopback (Caddy's fixed address is replaced)
        _apply_trust(plan, [t for t in generated if t != caddy] + ["127.0.0.1"], f"192.0.2.{200 + n}")
        _assert_client_is_attributed(plan, model, declared, n)


def test_fly_client_wins_over_the_apps_anycast_hop(boot, render, openclaw, tmp_path):
    """Fly appends the app's own anycast address: the entrypoint resolves it at
    boot and the config trusts it, else every Fly client is that one address."""
    plan, model, declared = _boot(boot, render, openclaw, tmp_path, "fly", "public", stand_in=True)
    seeded = json.loads(plan.config_path.read_text())["gateway"]["trustedProxies"]
    assert seeded == list(model.trusted_proxies) + ["127.0.0.1"]
    log = (tmp_path / "logs" / "fly-public.log").read_text()
    assert f"client attribution: app addresses {FLY_APP_IPV4} {FLY_APP_IPV6}" in log
    assert "Missing env var" not in log
    port = plan.probe_port
    # a client that came in over IPv6: the app's IPv6 anycast address is the last hop
    v6_chain = f"2001:db8::7, {FLY_APP_IPV6}"
    for i in range(AUTH_LIMIT):
        status, _ = _invoke(port, {"X-Forwarded-For": v6_chain}, token=f"wrong-{i}")
        assert status == 401
    assert _invoke(port, {"X-Forwarded-For": v6_chain}, token="wrong")[0] == 429
    # an IPv4 client is another bucket (before the fix both were the app's address)
    assert _invoke(port, {"X-Forwarded-For": _fly_chain("198.51.100.9")}, plan.token)[0] == 400
    _assert_client_is_attributed(plan, model, declared, 50)


@pytest.mark.parametrize(("platform", "tunnel"), [("fly", "ngrok"), ("vps", "tailscale")])
def test_tunnel_agent_headers_from_loopback_reach_the_gateway(boot, render, openclaw, tmp_path, platform, tunnel):
    """The agent adds X-Forwarded-For/-Proto/-Host and connects from 127.0.0.1:
    the generated config trusts exactly that sender."""
    # no channels: a configured channel makes the gateway fetch its plugin from npm at boot
    plan, model, declared = _boot(boot, render, openclaw, tmp_path, platform, "private", stand_in=False,
                                  tunnel=tunnel, channels=[])
    assert model.trusted_proxies == ("127.0.0.1",)
    assert json.loads(plan.config_path.read_text())["gateway"]["trustedProxies"] == ["127.0.0.1"]
    assert declared.tunnel_agent == tunnel
    port = plan.probe_port
    forwarded = m.openclaw()["tunnels"][tunnel]["forwarded_headers"]
    values = {"X-Forwarded-For": "203.0.113.50", "X-Forwarded-Proto": "https",
              "X-Forwarded-Host": f"{model.app_name}.tunnel.invalid"}
    agent = {k: values[k] for k in forwarded}

    status, body = _request(port, model.startup_path, agent)
    assert status == 200 and body == {"ok": True, "status": "started"}, (status, body)  # remote caller: no details
    status, body = _invoke(port, agent, token=None)
    assert status == 401, (status, body)
    status, body = _invoke(port, agent, token=plan.token)
    assert status == 400 and "requires name" in json.dumps(body), (status, body)
    # the client behind the tunnel is rate-limited as itself; loopback callers are not locked out
    for i in range(AUTH_LIMIT):
        assert _invoke(port, agent, token=f"wrong-{i}")[0] == 401
    assert _invoke(port, agent, token=plan.token)[0] == 429
    assert _invoke(port, {}, token=plan.token)[0] == 400
    if tunnel == "ngrok":
        # what ngrok lets through to all of this: GET /healthz (and the channels' webhook paths) only
        assert traffic_policy.open_requests(declared.tunnel_policy, model.tunnel_paths) == ["GET /healthz"]
