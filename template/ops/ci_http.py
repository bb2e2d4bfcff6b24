"""Small helpers the CI deploy steps share: JSON over HTTPS with a bearer token
in a header (never in the URL or argv, never over plain HTTP, never carried by a
redirect to another origin), polling with a deadline, the gateway's started JSON. Standard library only: the deploy job runs `python3 -m ops.X`
without installing anything.

Timing knobs (environment, real defaults): DEPLOY_TIMEOUT (seconds, 900),
POLL_INTERVAL (seconds, 10).
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable

USER_AGENT = "openclaw-deploy-ci"


class DeployError(RuntimeError):
    """The deploy failed or did not become healthy: the job must fail."""


class NotDeployed(DeployError):
    """The platform made no new deployment (its build, upload or pre-deploy step failed):
    what ran before still runs, on a state nothing new touched. Raised where a room learns
    it (a terminal status, a failed upload), never read back from an error's text."""


class RedirectRefused(urllib.error.URLError):
    """A redirect to another scheme, host or port: not followed."""


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or {"https": 443, "http": 80}.get(parts.scheme.lower())


class SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only within the request's own origin. urllib copies every
    header, Authorization included, onto a redirect to any host, even from HTTPS
    to plain HTTP: a hostile or compromised API answer would collect the token."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if _origin(newurl) != _origin(req.full_url):
            old, new = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(newurl)
            raise RedirectRefused(f"HTTP {code} redirect from {old.scheme}://{old.netloc} to another origin "
                                  f"({new.scheme}://{new.netloc}) refused: the token goes only where it was sent")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def opener(context: Any = None) -> urllib.request.OpenerDirector:
    """urllib with same-origin redirects only (and this TLS context, when given)."""
    handlers: list[Any] = [SameOriginRedirects()]
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    return urllib.request.build_opener(*handlers)


def require_https(url: str, what: str) -> str:
    """A URL a token is sent to: HTTPS only (an *_API_URL override included)."""
    if urllib.parse.urlsplit(url).scheme.lower() != "https" or not urllib.parse.urlsplit(url).hostname:
        raise DeployError(f"{what}: {url!r} is not an https:// URL; a token is sent over HTTPS only")
    return url


def timeout_s() -> float:
    return float(os.environ.get("DEPLOY_TIMEOUT", "900"))


def interval_s() -> float:
    return float(os.environ.get("POLL_INTERVAL", "10"))


def secret_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise DeployError(f"{name} is empty: add it as an Actions secret of this repository's "
                          "deploy environment (README.md, Continuous deployment)")
    return value


def request_json(method: str, url: str, token: str | None = None, body: Any = None,
                 timeout: float = 30, header: str = "Authorization") -> tuple[int, Any]:
    """(HTTP status, parsed JSON or None). Network errors raise DeployError, and so
    does a server that has not finished answering within ``timeout`` seconds in all
    (the socket timeout alone restarts with every byte a slow server drips).
    ``header``: where the token goes (``Authorization: Bearer``, or a platform's own
    header that takes the bare token, like Railway's ``Project-Access-Token``)."""
    if CONTROL.search(url):
        raise DeployError(f"{method} {safe_line(url)}: a URL with control characters is not requested")
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["answer"] = _request(method, url, token, body, timeout, header)
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise DeployError(f"{method} {url.split('?', 1)[0]}: no complete answer within {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["answer"]


def _request(method: str, url: str, token: str | None, body: Any, timeout: float,
             header: str = "Authorization") -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    if data is not None:
        headers["Content-Type"] = "application/json"
    if token:
        require_https(url, f"{method} {url.split('?', 1)[0]}")
        headers[header] = f"Bearer {token}" if header == "Authorization" else token
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with opener().open(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read(1_000_000)
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read(100_000)
    except (urllib.error.URLError, OSError, ValueError) as exc:  # ValueError: http.client.InvalidURL
        raise DeployError(f"{method} {url}: {getattr(exc, 'reason', exc)}") from exc
    try:
        return status, json.loads(raw.decode("utf-8", "replace")) if raw else None
    except (json.JSONDecodeError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return status, None


def api(method: str, base: str, path: str, token: str, body: Any = None, header: str = "Authorization") -> Any:
    """A platform API call that must succeed (2xx) and answer JSON."""
    status, data = request_json(method, base.rstrip("/") + path, token, body, header=header)
    if not 200 <= status < 300:
        detail = json.dumps(data)[:300] if data is not None else ""
        raise DeployError(f"{method} {path}: HTTP {status} {detail}".strip())
    return data


def started(body: Any) -> bool:
    """The gateway's /startupz answer once startup is done (other paths answer the Control UI)."""
    return isinstance(body, dict) and body.get("ok") is True and body.get("status") in (None, "started")


def poll(what: str, probe: Callable[[], tuple[bool, str]], timeout: float | None = None,
         interval: float | None = None, failed: Callable[[str], bool] = lambda _: False,
         nothing_new: Callable[[str], bool] = lambda _: False) -> str:
    """Call ``probe`` until it returns (True, note), ``failed(note)`` or the deadline.
    ``nothing_new(note)``: that failure left no new deployment (NotDeployed, not DeployError)."""
    deadline = time.monotonic() + (timeout_s() if timeout is None else timeout)
    step = interval_s() if interval is None else interval
    note = "not tried"
    while True:
        try:
            ok, note = probe()
        except DeployError as exc:
            ok, note = False, str(exc)
        say(f"{what}: {note}")
        if ok:
            return note
        if failed(note):
            raise (NotDeployed if nothing_new(note) else DeployError)(f"{what}: {note}")
        if time.monotonic() >= deadline:
            raise DeployError(f"{what}: not done after {timeout_s() if timeout is None else timeout:g} s (last: {note})")
        time.sleep(step)


def wait_started(url: str, timeout: float | None = None) -> str:
    """Poll ``url`` (https://.../startupz) until it answers the started JSON."""
    if not url.startswith("https://") or CONTROL.search(url):
        raise DeployError(f"{safe_line(url)!r}: a public gateway is checked over HTTPS only, at a URL "
                          "without control characters")

    def probe() -> tuple[bool, str]:
        status, body = request_json("GET", url, timeout=10)
        return started(body) and status == 200, f"HTTP {status} {json.dumps(body)[:120] if body is not None else '(not JSON)'}"

    return poll(f"GET {url}", probe, timeout)


CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_line(text: str) -> str:
    """One log line, whatever an API answered: control characters shown as
    escapes (a newline would start a new line), and never a line that begins with
    `::`, which the Actions runner would obey as a workflow command."""
    line = CONTROL.sub(lambda mt: f"\\x{ord(mt.group()):02x}", str(text))
    return " " + line if line.startswith("::") else line


def say(text: str) -> None:
    print(safe_line(text), flush=True)


def main_guard(fn: Callable[[], None]) -> int:
    try:
        fn()
    except DeployError as exc:
        print(f"::error::{safe_line(str(exc)).lstrip()}", file=sys.stderr, flush=True)
        return 1
    return 0


def private_file(directory: str, name: str, text: str) -> str:
    path = Path(directory) / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text.rstrip("\n") + "\n")
    return str(path)
