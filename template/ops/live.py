"""What every platform's live checks share: the target, its runner, parsing.

``Live`` is what a platform's ``live`` function (``ops/platforms/<kind>.py``)
gets: the repo, the one ``ops.runner.Runner`` (timeouts, redaction, a record
per command), the app name and the notebook's options. The helpers turn a
command's record into JSON or into a FAIL row that says what to do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import checks as c
from . import model as m
from .runner import Record, Runner

Result = c.Result
PASS, FAIL, WARN, SKIP = c.PASS, c.FAIL, c.WARN, c.SKIP


def parse_json_stream(text: str) -> list[Any]:
    """Objects printed back to back (``fly logs --json``: indented, not one per line)."""
    decoder = json.JSONDecoder()
    out, i, n = [], 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        try:
            obj, i = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            nl = text.find("\n", i)  # skip a non-JSON line
            if nl < 0:
                break
            i = nl + 1
            continue
        out.append(obj)
    return out


@dataclass
class Live:
    repo: c.Repo
    runner: Runner
    app: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def model(self) -> m.DeployModel:
        return self.repo.model


def json_or_fail(rec: Record, name: str, fix: str) -> tuple[Any, Result | None]:
    if rec.timed_out or rec.exit_code != 0:
        seen = f"`{rec.command}` -> {rec.error or 'exit ' + str(rec.exit_code)}: {(rec.stderr or rec.stdout).strip()[:400]}"
        return None, Result(name, FAIL, seen, fix)
    try:
        return json.loads(rec.raw_stdout or rec.stdout), None
    except json.JSONDecodeError:
        return None, Result(name, FAIL, f"`{rec.command}` did not print JSON: {rec.stdout[:200]}",
                            "update the CLI (its --json output is parsed)")


def need(live: Live, program: str, install: str) -> Result | None:
    if live.runner.which(program):
        return None
    return Result(f"{program} CLI present", FAIL, f"{program} is not on PATH", install)


def doctor_results(rec: Record) -> list[Result]:
    name = "openclaw doctor"
    if rec.exit_code is None or not (rec.raw_stdout or rec.stdout).strip():
        return [Result(name, WARN, f"`{rec.command}` -> {rec.error or rec.exit_code}: {rec.stderr.strip()[:300]}",
                       "run `openclaw doctor` in the machine by hand")]
    objs = [o for o in parse_json_stream(rec.raw_stdout or rec.stdout) if isinstance(o, dict) and "findings" in o]
    if not objs:
        return [Result(name, WARN, f"no doctor JSON in the output: {rec.stdout.strip()[:300]}",
                       "run `openclaw doctor` in the machine by hand")]
    report = objs[-1]
    bad = [f for f in report.get("findings", []) if f.get("severity") in ("error", "critical")]
    warn = [f for f in report.get("findings", []) if f.get("severity") == "warning"]
    if not bad and not warn:
        return [Result(name, PASS, f"ok={report.get('ok')}, no findings")]
    return [Result(f"{name}: {f.get('checkId')}", FAIL if f in bad else WARN,
                   f"{f.get('message')} ({f.get('path') or ''})", f.get("fixHint") or "")
            for f in bad + warn]
