"""The real gateway opens its operator WebSocket on a webhook-only path, so an
ngrok policy that filters paths alone does not keep it private.

Boots a private Fly deploy with tunnel=ngrok through its own entrypoint (the real
pinned release from npm), then sends from loopback, as the ngrok agent would
(its forwarding headers, the generated config trusts 127.0.0.1), `GET /healthz`
and `GET /slack/events` with `Upgrade: websocket`. The gateway answers 101 and
its first frame is the `connect.challenge` event. ngrok's own edge cannot run
here: whether a policy forwards that request is decided by ops/traffic_policy.py
(see tests/test_tunnel_security.py for the evaluator and the policy semantics).
"""

from __future__ import annotations

import base64
import json
import os
import socket

import pytest
import yaml

from ops import traffic_policy
from tests.e2e.test_proxy_attribution import _boot
from tests.test_tunnel_security import PATH_ONLY_POLICY

pytestmark = pytest.mark.e2e


def _websocket_first_frame(port: int, path: str, headers: dict[str, str]) -> tuple[str, str]:
    """Send an upgrade request; return the status line and the first text frame."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: Upgrade", "Upgrade: websocket",
             f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
             *(f"{k}: {v}" for k, v in headers.items())]
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(4096)
            if not chunk:
                break
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0].decode()
        if " 101 " not in status + " ":
            return status, ""

        def need(n: int) -> bytes:
            nonlocal rest
            while len(rest) < n:
                chunk = sock.recv(4096)
                if not chunk:
                    raise AssertionError(f"connection closed after {rest!r}")
                rest += chunk
            out, rest = rest[:n], rest[n:]
            return out

        first, second = need(2)
        length = second & 0x7F
        if length == 126:
            length = int.from_bytes(need(2), "big")
        elif length == 127:
            length = int.from_bytes(need(8), "big")
        assert first & 0x0F == 1 and not second & 0x80, (first, second)  # an unmasked text frame
        return status, need(length).decode()


@pytest.mark.parametrize("path", ["/healthz", "/slack/events"])
def test_the_gateway_opens_the_operator_socket_on_a_webhook_path_and_the_policy_denies_it(
        boot, render, openclaw, tmp_path, path):
    plan, model, declared = _boot(boot, render, openclaw, tmp_path, "fly", "private", stand_in=False,
                                  tunnel="ngrok", channels=[])
    agent = {"X-Forwarded-For": "203.0.113.50", "X-Forwarded-Proto": "https",
             "X-Forwarded-Host": f"{model.app_name}.tunnel.invalid"}
    status, frame = _websocket_first_frame(plan.probe_port, path, agent)
    assert " 101 " in status + " ", status
    event = json.loads(frame)
    assert event.get("event") == "connect.challenge", event
    request = ("GET", path, {"Connection": "Upgrade", "Upgrade": "websocket"})
    # a path-only rule (the policy before) forwards exactly this request ...
    assert traffic_policy.forwards(yaml.safe_load(PATH_ONLY_POLICY), *request)
    # ... the generated one does not
    assert not traffic_policy.forwards(declared.tunnel_policy, *request)
