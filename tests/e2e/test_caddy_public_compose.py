"""The public Compose deploy (gcp/vps): Caddy in front of the real gateway.

Everything runs as generated, on loopback: the deploy's own entrypoint starts
the real OpenClaw release from npm with the command and environment that
docker-compose.yml declares (ports interpolated as compose would), and the
real Caddy (Debian package `caddy`) runs the generated Caddyfile. What differs
from the VM is only the network: Caddy issues the certificate from its own local
CA (`local_certs`, no ACME here) on unprivileged ports, the compose service name
resolves to 127.0.0.1, and Caddy's fixed compose address (the one
`gateway.trustedProxies` names) is 127.0.0.1 too. The client connects from the
host's non-loopback address, as a browser would, and verifies TLS against that
CA: nothing is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from ops import declared as d
from ops import model as m
from tests.e2e.harness import free_port, gateway_token, http_get
from tests.support.procs import stop_group

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DOMAIN = "claw.localhost"
STARTUP_TIMEOUT_S = 180


def _stop(proc: subprocess.Popen) -> None:
    stop_group(proc, grace=20)


def _https(port: int, path: str, ca: Path, headers: dict[str, str] | None = None) -> tuple[str, bytes]:
    """One HTTP/1.1 request over TLS to this host's address for DOMAIN, verified against `ca`."""
    context = ssl.create_default_context(cafile=str(ca))
    context.set_alpn_protocols(["http/1.1"])
    lines = [f"GET {path} HTTP/1.1", f"Host: {DOMAIN}", "Connection: close",
             *(f"{k}: {v}" for k, v in (headers or {}).items())]
    with socket.create_connection((_host_address(), port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=DOMAIN) as tls:
            tls.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            data = b""
            while True:
                try:
                    chunk = tls.recv(65536)
                except (socket.timeout, ssl.SSLError):
                    break
                if not chunk:
                    break
                data += chunk
                if b"101 Switching Protocols" in data.split(b"\r\n", 1)[0]:
                    break
    head, _, body = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


def _host_address() -> str:
    """This host's non-loopback IPv4 address (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(("192.0.2.1", 9))
        address = sock.getsockname()[0]
    assert not address.startswith("127."), "this host has no non-loopback IPv4 address"
    return address


def _body_json(body: bytes) -> dict:
    # Caddy may stream the response chunked: take the JSON object out of the chunks
    text = body.decode("utf-8", "replace")
    start, end = text.find("{"), text.rfind("}")
    return json.loads(text[start:end + 1])


def test_caddy_serves_the_gateway_over_https(render, openclaw, tmp_path):
    caddy = shutil.which("caddy")
    assert caddy, "caddy is not installed: apt-get install caddy"
    port = free_port()
    repo = render(app_name="claw-e2e", platform="vps", privacy="public", domain=DOMAIN, gateway_port=port)
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
    declared = d.read(repo, "vps")
    assert declared.problems == [] and declared.public_ingress is True
    assert set(declared.ports.values()) == {port}
    compose = yaml.safe_load((repo / "docker-compose.yml").read_text())
    assert "ports" not in compose["services"]["openclaw-gateway"]

    # Caddy has a fixed compose address, and only that address is trusted to
    # forward client headers; here Caddy connects from loopback
    config = json.loads((repo / "config/openclaw.json").read_text())
    proxy_address = m.platforms()["vps"]["proxy"]["address"]
    assert config["gateway"]["trustedProxies"] == [proxy_address]
    assert list(declared.proxy_sources.values()) == [proxy_address]
    config["gateway"]["trustedProxies"] = ["127.0.0.1"]
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(config))

    # --- the gateway, as the compose service declares it, through the real entrypoint
    state = tmp_path / "state"
    token = gateway_token()
    package = openclaw.entry.parent
    env = openclaw.env(**{k: v for k, v in declared.env.items()
                          if k not in ("OPENCLAW_STATE_DIR", "OPENCLAW_WORKSPACE_DIR", "OPENCLAW_SEED_CONFIG")})
    env.update(OPENCLAW_STATE_DIR=str(state), OPENCLAW_WORKSPACE_DIR=str(state / "workspace"),
               OPENCLAW_SEED_CONFIG=str(seed), OPENCLAW_RUN_AS="0:0",
               OPENCLAW_GATEWAY_TOKEN=token, HOME=str(tmp_path / "home"))
    assert declared.command[:2] == ["node", "openclaw.mjs"]
    argv = ["sh", str(repo / "docker/entrypoint.sh"), str(openclaw.node), *declared.command[1:]]
    gateway_log = open(tmp_path / "gateway.log", "wb")
    gateway = subprocess.Popen(argv, cwd=package, env=env, stdout=gateway_log, stderr=subprocess.STDOUT,
                               start_new_session=True)

    # --- Caddy, running the generated Caddyfile
    https_port, http_port = free_port(), free_port()
    site = (repo / "caddy/Caddyfile").read_text()
    upstream = f"openclaw-gateway:{port}"
    assert upstream in site
    (tmp_path / "Caddyfile.site").write_text(site.replace(upstream, f"127.0.0.1:{port}"))
    (tmp_path / "Caddyfile").write_text(
        "{\n\tadmin off\n\tlocal_certs\n\tskip_install_trust\n"
        f"\thttp_port {http_port}\n\thttps_port {https_port}\n}}\n"
        f"import {tmp_path / 'Caddyfile.site'}\n")
    caddy_env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path / "caddy-home"),
                 "XDG_DATA_HOME": str(tmp_path / "caddy-data"), "XDG_CONFIG_HOME": str(tmp_path / "caddy-config")}
    caddy_log = open(tmp_path / "caddy.log", "wb")
    proxy = subprocess.Popen([caddy, "run", "--adapter", "caddyfile", "--config", str(tmp_path / "Caddyfile")],
                             env=caddy_env, stdout=caddy_log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        started_at = time.monotonic()
        deadline = started_at + STARTUP_TIMEOUT_S
        body = None
        while time.monotonic() < deadline:
            assert gateway.poll() is None, (tmp_path / "gateway.log").read_text()[-3000:]
            assert proxy.poll() is None, (tmp_path / "caddy.log").read_text()[-3000:]
            res = http_get(port, model.startup_path, timeout=2.0)
            body = res.json() if res else None
            if isinstance(body, dict) and body.get("status") == "started":
                break
            time.sleep(1)
        assert isinstance(body, dict) and body.get("status") == "started", (tmp_path / "gateway.log").read_text()[-3000:]
        assert body["version"] == model.openclaw_version
        assert json.loads((state / "openclaw.json").read_text()) == config  # seeded by the entrypoint
        # why trustedProxies matters: forwarded headers from any other sender are refused
        forged = urllib.request.Request(f"http://{_host_address()}:{port}/", headers={"X-Forwarded-For": "203.0.113.5"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(forged, timeout=5)
        assert refused.value.code == 403
        assert json.loads(refused.value.read())["error"]["type"] == "proxy_attribution_required"

        ca = tmp_path / "caddy-data/caddy/pki/authorities/local/root.crt"
        for _ in range(30):  # Caddy creates its CA and the site certificate on start
            if ca.exists():
                break
            time.sleep(1)
        assert ca.exists(), (tmp_path / "caddy.log").read_text()[-3000:]

        head, raw = _https(https_port, model.liveness_path, ca)
        assert head.startswith("HTTP/1.1 200"), head
        assert _body_json(raw) == {"ok": True, "status": "live"}
        head, raw = _https(https_port, model.startup_path, ca)
        proxied = _body_json(raw)
        # through the proxy the caller is remote: the probe answers without the
        # details (version, uptime) it gives local callers
        assert head.startswith("HTTP/1.1 200"), head
        assert proxied == {"ok": True, "status": "started"}
        head, raw = _https(https_port, "/", ca)
        assert head.startswith("HTTP/1.1 200") and b"<html" in raw.lower(), head
        # the Control UI's WebSocket upgrade passes through Caddy to the gateway
        head, _ = _https(https_port, "/", ca, {
            "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": f"https://{DOMAIN}"})
        assert head.startswith("HTTP/1.1 101"), head
        # a certificate exists for the deploy's domain only (other names: no valid TLS)
        with pytest.raises(ssl.SSLError):
            context = ssl.create_default_context(cafile=str(ca))
            with socket.create_connection((_host_address(), https_port), timeout=10) as raw_sock:
                with context.wrap_socket(raw_sock, server_hostname="other.localhost"):
                    pass
        # plain HTTP is redirected to HTTPS
        with socket.create_connection((_host_address(), http_port), timeout=10) as plain:
            plain.sendall(f"GET /healthz HTTP/1.1\r\nHost: {DOMAIN}\r\nConnection: close\r\n\r\n".encode())
            answer = plain.recv(4096).decode("latin-1")
        assert answer.split()[1] in ("301", "302", "307", "308") and f"https://{DOMAIN}" in answer
        print(f"gateway started through Caddy in {time.monotonic() - started_at:.1f} s")
    finally:
        _stop(proxy)
        _stop(gateway)
        gateway_log.close()
        caddy_log.close()
