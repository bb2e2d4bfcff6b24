"""Troubleshooting runbook frame: parameters, the steps, the results table, the verdict, the report.

``static`` mode is ``ops.checks.run_static`` (offline, files only). ``live``
mode runs the platform's ``live`` (``ops/platforms/<kind>.py``, found through
the registry), every command through one ``ops.runner.Runner`` (timeouts,
redaction, a record per command). The ``local`` live target
(``ops.local_gateway``) runs the pinned OpenClaw from npm on this machine
exactly as the platform file starts it.

Every step returns ``checks.Result`` (PASS / FAIL / WARN / SKIP, seen, fix):
a step that cannot run says why; nothing is skipped silently.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

from . import checks as c
from . import model as m
from . import platforms, terminal
from .live import Live, json_or_fail
from .local_gateway import live_local
from .runner import Runner

Result = c.Result
PASS, FAIL, WARN, SKIP = c.PASS, c.FAIL, c.WARN, c.SKIP
MODES = ("static", "live")
LOCAL = "local"  # the live target that runs the gateway on this machine


class RunbookFailed(RuntimeError):
    """Raised by ``verdict`` with fail_on_error: papermill then exits non-zero."""


# --------------------------------------------------------------- static mode --


def run_static(repo: str | Path) -> list[Result]:
    try:
        return c.run_static(repo)
    except m.AnswerError as exc:
        return [Result("answers valid", FAIL, "; ".join(exc.messages), 'fix the answer with `make update ARGS="-d KEY=VALUE"`')]
    except FileNotFoundError as exc:
        return [Result("deploy repo", FAIL, str(exc), "point `repo` at a generated deploy repo")]


# ----------------------------------------------------------------- live mode --


def live_unsupported(live: Live) -> list[Result]:
    label = m.platforms().get(live.model.platform, {}).get("label", live.model.platform)
    return [Result(f"live checks for {label}", SKIP,
                   f"no live checks for {label} yet: static checks only",
                   "use static mode, and the platform's dashboard / CLI logs")]


def live_checks(target: str) -> Callable[[Live], list[Result]]:
    """A live target's checks: the local launcher, a platform's ``live``, or a SKIP that says so."""
    if target == LOCAL:
        return live_local
    room = platforms.get(target)
    return getattr(room, "live", live_unsupported) if room else live_unsupported


def run_live(repo_root: str | Path, target: str, app: str | None, runner: Runner,
             **options: Any) -> list[Result]:
    repo = c.load_repo(repo_root)
    live = Live(repo, runner, app or repo.model.app_name, options)
    return live_checks(target)(live)


def uptime_result(runner: Runner, repo: str | Path, app: str) -> Result | None:
    """The uptime workflow's word (GitHub, through `gh`): its open issue and its last
    failing run, linked. None when the repo has no uptime workflow or `gh` is not on PATH."""
    from .uptime import TITLE

    if not (Path(repo) / ".github" / "workflows" / "uptime.yml").exists():
        return None
    name = "uptime workflow (GitHub)"
    if not runner.which("gh"):  # where it can: with the GitHub CLI (README.md, Uptime)
        return None
    title = TITLE.format(app=app)
    issues, bad = json_or_fail(runner.run(["gh", "issue", "list", "--state", "open", "--search",
                                            f'"{title}" in:title', "--json", "number,title,url,updatedAt"]),
                                name, "`gh auth login`, in a clone of the deploy repo")
    if bad:
        return Result(name, SKIP, bad.seen, bad.fix)
    runs, _ = json_or_fail(runner.run(["gh", "run", "list", "--workflow", "uptime.yml", "--status", "failure",
                                        "--limit", "1", "--json", "url,createdAt"]), name, "")
    last = f"; last failing run {runs[0]['url']} ({runs[0]['createdAt']})" if runs else "; no failing run listed"
    open_ = [i for i in issues or [] if i.get("title") == title]
    if open_:
        return Result(name, FAIL, f"open issue #{open_[0]['number']} {open_[0]['url']} "
                      f"(updated {open_[0].get('updatedAt')}){last}",
                      "the issue and the run hold what failed; fix, then the next check closes the issue")
    return Result(name, PASS, "no open uptime issue" + last)


def uptime_rows(params: dict[str, Any], runner: Runner) -> list[Result]:
    """Live mode on the platform: the uptime row (redacted), if the repo has the workflow."""
    if params["mode"] != "live" or params["platform"] == LOCAL:
        return []
    row = uptime_result(runner, params["repo"], params["app"])
    return redact_results([row], runner) if row is not None else []


# ------------------------------------------------------------------ report --


# static mode says what it did not do, and how to get it
LIVE_NOT_RUN = Result(
    "live checks", SKIP, "static mode checks the files only",
    "P='-p mode live' asks the platform's CLI; P='-p mode live -p platform local' runs the pinned "
    "gateway here (OPENCLAW_BIN=... or openclaw on PATH)")


def parameters(repo: str | Path, **given: Any) -> dict[str, Any]:
    """Notebook parameters with ``None`` filled from the repo's answers."""
    root = Path(repo).resolve()
    answers = {}
    if (root / ".copier-answers.yml").exists():
        answers = m.answers_from_file(root / ".copier-answers.yml")
    mode = given.get("mode") or "static"
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}")
    return {"repo": str(root), "mode": mode,
            "platform": given.get("platform") or answers.get("platform"),
            "app": given.get("app") or answers.get("app_name"),
            "fail_on_error": bool(given.get("fail_on_error"))}


def run(params: dict[str, Any], runner: Runner | None = None, **options: Any) -> tuple[list[Result], Runner]:
    runner = runner or Runner(timeout=float(options.pop("timeout", 60)))
    if params["mode"] == "static":
        return redact_results(run_static(params["repo"]), runner) + [LIVE_NOT_RUN], runner
    results = run_static(params["repo"]) if options.pop("with_static", False) else []
    try:
        results += run_live(params["repo"], params["platform"], params["app"], runner, **options)
    except m.AnswerError as exc:
        results.append(Result("answers valid", FAIL, "; ".join(exc.messages), "fix .copier-answers.yml"))
    return redact_results(results, runner), runner


def redact_results(results: list[Result], runner: Runner) -> list[Result]:
    """Every row through the runner's one redaction (``ops.runner.redact_text``): rows quote
    command output (doctor findings, health-check bodies, log lines) that may hold a key."""
    return [Result(runner.redact(r.check), r.status, runner.redact(r.seen), runner.redact(r.fix)) for r in results]


def rows(results: list[Result]) -> list[dict[str, str]]:
    """Steps for the report; a SKIP keeps its fix: what would make it run."""
    return [{"step": r.check, "status": r.status, "seen": r.seen,
             "fix": r.fix if r.status in (FAIL, WARN, SKIP) else ""} for r in results]


def _one_line(text: str, width: int) -> str:
    text = " ".join(text.splitlines())
    return text if len(text) <= width else text[:max(1, width - 1)] + "\u2026"


def table(results: list[Result], width: int | None = None, max_lines: int = 8) -> str:
    """The terminal table: one row per step (verdict, step, the fix or, for a
    SKIP, what would make it run), the fix wrapped under its column to ``width``
    (default: the terminal's) in at most ``max_lines`` lines; the report keeps
    the full text. Then the counts."""
    import textwrap

    if width is None:
        width = terminal.width()
    width = max(width, 60)
    step_w = min(max([len(r.check) for r in results] + [4]), 40)
    indent = " " * (7 + 2 + step_w + 2)
    title = textwrap.wrap("fix (SKIP: what would make it run)", width - len(indent))
    lines = [f"{'verdict':7}  {'step':<{step_w}}  {title[0]}", *[indent + more for more in title[1:]],
             f"{'-' * 7}  {'-' * step_w}  {'-' * min(34, width - len(indent))}"]
    for r in results:
        hint = r.fix if r.status in (FAIL, WARN, SKIP) else ""
        if r.status == SKIP and not hint:
            hint = f"skipped: {r.seen}"
        head = f"{r.status:7}  {_one_line(r.check, step_w):<{step_w}}  "
        wrapped = textwrap.wrap(" ".join(hint.split()), width - len(indent), break_on_hyphens=False) or [""]
        if len(wrapped) > max_lines:
            wrapped = wrapped[:max_lines]
            wrapped[-1] = _one_line(wrapped[-1] + " \u2026", width - len(indent))
        lines.append((head + wrapped[0]).rstrip())
        lines += [indent + more for more in wrapped[1:]]
    counts = summary(results)
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items()))
    return "\n".join(lines)


def summary(results: list[Result]) -> dict[str, int]:
    return {s: sum(r.status == s for r in results) for s in (PASS, FAIL, WARN, SKIP)}


def write_json(params: dict[str, Any], results: list[Result], runner: Runner, out_dir: str | Path) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "troubleshooting.json"
    path.write_text(json.dumps(runner.redact_data({  # the whole file through the one redaction
        "parameters": params,
        "summary": summary(results),
        "results": [r.as_dict() for r in results],
        "commands": [rec.as_dict() for rec in runner.records],
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }), indent=2) + "\n")
    return path


def verdict(results: list[Result], fail_on_error: bool) -> str:
    failed = [r for r in results if r.status == FAIL]
    text = f"{len(failed)} failed step(s)" + (": " + "; ".join(r.check for r in failed) if failed else "")
    if failed and fail_on_error:
        raise RunbookFailed(text)
    return text

