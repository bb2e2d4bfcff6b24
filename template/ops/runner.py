"""The one way the runbooks run a command: timed out, recorded, redacted.

Every command a troubleshooting step runs goes through ``Runner.run``:

- a timeout on every subprocess (a hung CLI becomes a recorded failure);
- never a streaming command (``fly logs`` without ``--no-tail``, ``logs -f``,
  ``railway logs`` without ``-n``/``--since``): refused before it starts;
- a ``Record`` per command: argv, exit code, duration, output, all redacted
  (secret-shaped strings, values of secret environment variables, and the
  value after ``--token``/``--password``) before anything is stored or shown.

The records are the audit trail the notebook prints and writes to
``troubleshooting.json``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Sequence

from .secret_scan import SECRET_PATTERNS

REDACTED = "***"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SECRET_FLAGS = {"--token", "--password", "--auth-key", "--authtoken", "--api-key"}
SECRET_ENV = re.compile(r"(TOKEN|SECRET|PASSWORD|API_KEY|AUTHKEY|AUTH_KEY)$")
MAX_OUTPUT = 20_000

# Names whose value is a credential, wherever they appear as a key: JSON/YAML keys,
# NAME=value, query strings (apiKey, botToken, OPENCLAW_GATEWAY_TOKEN, authtoken, ...).
_KEY = r"[A-Za-z0-9_.-]*(?:token|password|passwd|secret|api[_-]?key|auth[_-]?key|private[_-]?key|passphrase|credential)s?"
# A value that is a placeholder, not a secret: ..., ***, <...>, $VAR, ${VAR}, `a command`.
_PLACEHOLDER = r"(?!\.\.\.|\*\*\*|<|\$|`)"
# Each pattern keeps its groups 1 (what leads) and 3 (what closes) and hides group 2.
KEYED_PATTERNS = [
    # Fly.io tokens: "FlyV1 fm2_...,fm2_..." and bare fm1_/fm2_ macaroons
    re.compile(r"(\bFlyV1\s+)([A-Za-z0-9_+/=,.-]+)()"),
    # "token": "...", 'password': '...' (JSON, Python reprs), any case
    # (also escaped inside another JSON string: {\"token\": \"...\"})
    re.compile(r"""(?i)(\\*["']""" + _KEY + r"""\\*["']\s*:\s*\\*["'])""" + _PLACEHOLDER + r"""([^"'\\]+)(\\*["'])"""),
    # name=value (the OPENCLAW_GATEWAY_TOKEN variable, ?token= in a URL, short values too), password: ... (YAML)
    re.compile(r"(?i)(\b" + _KEY + r"\s*[=:]\s*[\"']?)" + _PLACEHOLDER + r"([^\s\"'`&,;]{3,})()"),
    # Authorization: Bearer ..., Basic ..., token ...
    re.compile(r"(?i)(\b(?:bearer|basic)\s+)([A-Za-z0-9._~+/=-]{6,})()"),
]
# Besides secret_scan.SECRET_PATTERNS (the secret scan's: provider prefixes, Fly,
# Discord, GitHub/Render tokens, private keys), shapes only redaction hides.
TOKEN_PATTERNS = [
    # JSON Web Tokens
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    # ngrok authtoken: 2 + 26 base62, underscore, 21-22 base62
    re.compile(r"\b[0-9][A-Za-z0-9]{24,28}_[0-9A-Za-z]{20,24}\b"),
    # a bare 64-hex string (the generated gateway token: 32 random bytes), not a sha256 digest
    re.compile(r"(?<![0-9A-Fa-f])(?<!sha256:)(?<!sha256 )(?<!sha256=)[0-9A-Fa-f]{64}(?![0-9A-Fa-f])"),
]


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """THE redaction: every stored or shown string of the runbooks passes here. Known
    values (secret environment variables) first, then credential-shaped strings."""
    text = ANSI.sub("", text)
    for value in secrets:
        if value:
            text = text.replace(value, REDACTED)
    for pattern in KEYED_PATTERNS:
        text = pattern.sub(lambda mt: f"{mt.group(1)}{REDACTED}{mt.group(3)}", text)
    for pattern in [*TOKEN_PATTERNS, *SECRET_PATTERNS]:
        text = pattern.sub(REDACTED, text)
    return text


def redact_data(data: Any, secrets: Iterable[str] = ()) -> Any:
    """``redact_text`` over every string (and key) of a JSON-like value."""
    secrets = list(secrets)
    if isinstance(data, str):
        return redact_text(data, secrets)
    if isinstance(data, dict):
        return {redact_text(str(k), secrets): redact_data(v, secrets) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [redact_data(v, secrets) for v in data]
    return data


def env_secrets(env: dict[str, str] | None = None) -> list[str]:
    """Values of the secret-named environment variables, longest first."""
    env = os.environ if env is None else env
    return sorted({v for k, v in env.items() if SECRET_ENV.search(k) and len(v) >= 6}, key=len, reverse=True)


class StreamingCommand(ValueError):
    """A command that would stream forever (and hang the notebook)."""


def streaming_logs_rules() -> list[dict[str, Any]]:
    """The platform CLIs' own `logs` rules: each room's ``STREAMING_LOGS`` (programs, the flags
    that bound the output, the reason). Asked when a command runs, never at import: the
    rooms import this module."""
    from . import platforms

    rooms = (platforms.for_kind(kind) for kind in platforms.kinds())
    return [rule for rule in (getattr(room, "STREAMING_LOGS", None) for room in rooms) if rule]


def streaming_reason(argv: Sequence[str]) -> str:
    """Why ``argv`` would not return on its own, or "" when it is safe."""
    args = list(argv)
    if not args:
        return ""
    prog = os.path.basename(args[0])
    if "logs" in args:
        for rule in streaming_logs_rules():
            if prog in rule["programs"] and not any(
                    a in rule["bounded_by"] or a.startswith(tuple(b for b in rule["bounded_by"] if b.endswith("=")))
                    for a in args):
                return rule["reason"]
        if any(a in ("-f", "--follow") for a in args):
            return "logs -f / --follow streams forever"
    if prog == "kubectl" and any(a in ("-w", "--watch") for a in args):
        return "kubectl --watch streams forever"
    return ""


@dataclass
class Record:
    argv: list[str]
    exit_code: int | None  # None: timed out or could not start
    duration_s: float
    stdout: str
    stderr: str
    timed_out: bool = False
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def command(self) -> str:
        return " ".join(self.argv)

    raw_stdout: str = field(default="", repr=False, compare=False)

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("raw_stdout", None)
        return out

    def summary(self) -> dict:
        status = "timeout" if self.timed_out else (self.error or self.exit_code)
        return {"command": self.command, "exit": status, "seconds": round(self.duration_s, 2)}


class Runner:
    """Runs commands with a timeout; keeps a redacted ``Record`` of each."""

    def __init__(self, timeout: float = 60, env: dict[str, str] | None = None,
                 secrets: Iterable[str] = (), cwd: str | None = None):
        self.timeout = timeout
        self.env = dict(os.environ if env is None else env)
        self.cwd = cwd
        self.records: list[Record] = []
        values = set(env_secrets(self.env))
        self.secrets = sorted(values | {s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    # -------------------------------------------------------------- redaction
    def add_secret(self, value: str) -> None:
        if value and len(value) >= 6 and value not in self.secrets:
            self.secrets.append(value)
            self.secrets.sort(key=len, reverse=True)

    def redact(self, text: str) -> str:
        """Secrets hidden (and terminal colour codes dropped) before anything is stored."""
        return redact_text(text, self.secrets)

    def redact_data(self, data: Any) -> Any:
        return redact_data(data, self.secrets)

    def redact_argv(self, argv: Sequence[str]) -> list[str]:
        out: list[str] = []
        hide_next = False
        for arg in argv:
            if hide_next:
                out.append(REDACTED)
                hide_next = False
                continue
            name, eq, _ = arg.partition("=")
            if name in SECRET_FLAGS:
                if eq:
                    out.append(f"{name}={REDACTED}")
                else:
                    out.append(arg)
                    hide_next = True
                continue
            out.append(self.redact(arg))
        return out

    # ------------------------------------------------------------------- run
    def which(self, program: str) -> str | None:
        return shutil.which(program, path=self.env.get("PATH"))

    def run(self, argv: Sequence[str], timeout: float | None = None, input: str | None = None,
            scrub=None) -> Record:
        """Run ``argv`` to completion. ``scrub(stdout) -> str`` hides what the
        generic redaction cannot know (e.g. every value of ``railway variables
        --json``); the unscrubbed output is kept only on ``record.raw_stdout``,
        which is never serialized."""
        argv = [str(a) for a in argv]
        reason = streaming_reason(argv)
        if reason:
            raise StreamingCommand(f"refused {' '.join(argv)!r}: {reason}")
        limit = self.timeout if timeout is None else timeout
        start = time.monotonic()
        try:
            proc = subprocess.Popen(argv, cwd=self.cwd, env=self.env, text=True, start_new_session=True,
                                    stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            record = Record(self.redact_argv(argv), None, time.monotonic() - start, "", "", error=str(exc))
            self.records.append(record)
            return record
        try:
            out, err = proc.communicate(input, timeout=limit)
            timed_out = False
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, err = proc.communicate()
            timed_out = True
        record = Record(
            argv=self.redact_argv(argv),
            exit_code=None if timed_out else proc.returncode,
            duration_s=round(time.monotonic() - start, 3),
            stdout=self.redact(scrub(out or "") if scrub else out or "")[-MAX_OUTPUT:],
            stderr=self.redact(err or "")[-MAX_OUTPUT:],
            timed_out=timed_out,
            error=f"timed out after {limit:g} s" if timed_out else "",
        )
        record.raw_stdout = out or ""
        self.records.append(record)
        return record

    def run_until(self, argv: Sequence[str], ready, timeout: float | None = None,
                  poll: float = 0.5, give_up=None) -> tuple[Record, bool]:
        """Start a long-running program (a gateway), wait until ``ready(pid)`` is
        true, or it exits, or ``give_up(output so far)`` is true, or ``timeout``
        passes; then stop it. Returns the record and whether it became ready.
        An exit on its own keeps its exit code; a stop says why in ``error``."""
        import tempfile

        argv = [str(a) for a in argv]
        limit = self.timeout if timeout is None else timeout
        start = time.monotonic()
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            try:
                proc = subprocess.Popen(argv, cwd=self.cwd, env=self.env, text=True, start_new_session=True,
                                        stdin=subprocess.DEVNULL, stdout=out, stderr=err)
            except OSError as exc:
                record = Record(self.redact_argv(argv), None, time.monotonic() - start, "", "", error=str(exc))
                self.records.append(record)
                return record, False
            became_ready = timed_out = gave_up = False
            while True:
                if proc.poll() is not None:
                    break
                if give_up is not None:
                    if give_up(_peek(out) + _peek(err)):
                        gave_up = True
                        break
                try:
                    became_ready = bool(ready(proc.pid))
                except Exception:  # a probe error is "not ready yet"
                    became_ready = False
                if became_ready:
                    break
                if time.monotonic() - start > limit:
                    timed_out = True
                    break
                time.sleep(poll)
            exited = proc.returncode is not None
            if not exited:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=10)
                except (ProcessLookupError, PermissionError):
                    pass
                except subprocess.TimeoutExpired:
                    _kill_group(proc)
                    proc.wait()
            out.seek(0)
            err.seek(0)
            note = ("ready; stopped by the runbook" if became_ready
                    else f"not ready after {limit:g} s; stopped" if timed_out
                    else "stopped by the runbook after its failure line" if gave_up and not exited else "")
            record = Record(
                argv=self.redact_argv(argv),
                exit_code=proc.returncode if exited else None,
                duration_s=round(time.monotonic() - start, 3),
                stdout=self.redact(out.read())[-MAX_OUTPUT:],
                stderr=self.redact(err.read())[-MAX_OUTPUT:],
                timed_out=timed_out,
                error=note,
            )
        self.records.append(record)
        return record, became_ready

    def table(self) -> list[dict]:
        return [r.summary() for r in self.records]


def _peek(fh) -> str:
    """What a child wrote so far to ``fh``, read without moving the offset it shares."""
    fd = fh.fileno()
    return os.pread(fd, os.fstat(fd).st_size, 0).decode("utf-8", "replace")


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def redact_file(path: str, secrets: Iterable[str] = ()) -> None:
    """Rewrite a written report in place through ``redact_text``: JSON files (the
    executed notebook, troubleshooting.json) string by string, others as text."""
    import json

    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    if path.endswith((".ipynb", ".json")):
        out = json.dumps(redact_data(json.loads(text), secrets), indent=1, ensure_ascii=False) + "\n"
    else:
        out = redact_text(text, secrets)
    if out != text:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(out)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ops.runner redact FILE...``: what ``make troubleshoot`` runs on the
    notebook papermill wrote, before the HTML is made from it."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "redact":
        print("usage: python -m ops.runner redact FILE...", file=sys.stderr)
        return 2
    for path in args[1:]:
        if os.path.exists(path):  # a run that failed early wrote no JSON
            redact_file(path, env_secrets())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
