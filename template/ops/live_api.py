"""Read-only HTTPS calls to a platform's REST API for the live runbook checks.

The token comes from the runner's environment (never argv, never a file
here) and travels only in the Authorization header, over HTTPS only, and no
redirect carries it to another origin (ops/ci_http.py). Every call is kept as a
``runner.Record`` (argv = ["GET", path]; the answer, redacted through
``Runner.redact``), so it shows in the notebook's command table and in
troubleshooting.json like the CLI commands of other platforms. TLS trust:
the system store, or $SSL_CERT_FILE from the runner's environment.
"""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
from typing import Any

from .ci_http import DeployError, opener, require_https
from .runner import Record, Runner


class ApiClient:
    def __init__(self, runner: Runner, base: str, token: str):
        self.runner, self.base, self.token = runner, base.rstrip("/"), token
        runner.add_secret(token)
        cafile = runner.env.get("SSL_CERT_FILE")
        self.context = ssl.create_default_context(cafile=cafile if cafile else None)
        self.opener = opener(self.context)  # redirects within the API's own origin only

    def get(self, path: str, timeout: float = 20) -> tuple[int | None, Any]:
        """(HTTP status or None, parsed JSON or None); recorded and redacted."""
        req = urllib.request.Request(self.base + path, method="GET", headers={
            "Accept": "application/json", "Authorization": f"Bearer {self.token}",
            "User-Agent": "openclaw-deploy-runbook"})
        start = time.monotonic()
        status: int | None
        error = ""
        try:
            require_https(self.base, "API base")
            with self.opener.open(req, timeout=timeout) as resp:
                status, raw = resp.status, resp.read(2_000_000)
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read(100_000)
        except (urllib.error.URLError, OSError, DeployError) as exc:
            status, raw, error = None, b"", str(getattr(exc, "reason", exc))
        text = raw.decode("utf-8", "replace")
        record = Record(argv=["GET", self.runner.redact(path)],
                        exit_code=0 if status is not None and 200 <= status < 300 else (status or None),
                        duration_s=round(time.monotonic() - start, 3),
                        stdout=self.runner.redact(text)[-4000:], stderr="",
                        error=self.runner.redact(error) or ("" if status is None or status < 300 else f"HTTP {status}"))
        self.runner.records.append(record)
        try:
            return status, json.loads(text) if text else None
        except json.JSONDecodeError:
            return status, None


def describe_failure(status: int | None, body: Any, what: str) -> str:
    if status is None:
        return f"{what}: no answer"
    if status in (401, 403):
        return f"{what}: HTTP {status} (the token is wrong, expired or lacks access)"
    return f"{what}: HTTP {status} {json.dumps(body)[:200] if body is not None else ''}".strip()
