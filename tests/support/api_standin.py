"""A RECORDING STAND-IN for a platform's HTTPS API (Render, Northflank) and for a
deployed gateway's /startupz, on loopback only. It deploys nothing.

Routes are (method, path regex, answers): each call takes the next answer of
the list and repeats the last one; an answer is (status, JSON value) or
(status, text), optionally with a dict of extra headers (a redirect's Location). Every request is recorded: method, path (with query), headers,
JSON body. TLS with a throwaway self-signed certificate made by `openssl`; the
client trusts it through SSL_CERT_FILE (`ca_env()`), so the product's
https-only checks run unchanged. ``tls=False``: plain HTTP (a second host that
should never see a token).
"""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class ApiStandin:
    def __init__(self, workdir: Path, tls: bool = True):
        workdir.mkdir(parents=True, exist_ok=True)
        self.cert, key = workdir / "cert.pem", workdir / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                        "-out", str(self.cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
        self.routes: list[tuple[str, re.Pattern, list]] = []
        self.requests: list[dict[str, Any]] = []
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except json.JSONDecodeError:
                    body = raw.decode("utf-8", "replace")
                standin.requests.append({"method": self.command, "path": self.path,
                                         "headers": {k.lower(): v for k, v in self.headers.items()},
                                         "body": body})
                status, payload, *extra = standin.answer(self.command, self.path)
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                if 300 <= status < 400 and isinstance(payload, str) and not extra:  # (302, "https://...")
                    self.send_header("Location", payload)
                self.send_header("Content-Type", "text/html" if isinstance(payload, str) else "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (extra[0] if extra else {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.tls = tls
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.cert, key)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.server.server_address[1]}"

    def ca_env(self) -> dict[str, str]:
        return {"SSL_CERT_FILE": str(self.cert)}

    def route(self, method: str, path: str, *answers: tuple[int, Any]) -> None:
        self.routes.insert(0, (method, re.compile(path), list(answers)))

    def answer(self, method: str, path: str) -> tuple:
        for m, pattern, answers in self.routes:
            if m == method and pattern.fullmatch(path):
                return answers.pop(0) if len(answers) > 1 else answers[0]
        return 404, {"message": f"stand-in: no route for {method} {path}"}

    def calls(self) -> list[tuple[str, str]]:
        return [(r["method"], r["path"]) for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
