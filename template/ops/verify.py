"""``make verify``: offline checks of this deploy repo, one line per check.

    python -m ops.verify [--repo DIR] [--openclaw PATH-TO-openclaw.mjs-or-bin]

Runs the static consistency checks (ops.checks, secret scan included), the
real linters (hadolint, shellcheck, the GitHub workflow schema), a parse of
every tracked TOML/YAML/JSON file, a look for update conflicts and, when
Node and OpenClaw are installed, the pinned release's own ``openclaw config
validate`` on config/openclaw.json. A tool that is not installed is a SKIP
with the line that installs it, never a PASS. Exit status: 1 when any check
FAILs, else 0.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import yaml

from . import checks as c
from . import platform_verify, secret_scan, terminal
from . import conflicts
from . import model as m

TIMEOUT = 120


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, env=env)


def _tool(name: str) -> str | None:
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else shutil.which(name)


def check_hadolint(root: Path) -> c.Result:
    exe = _tool("hadolint")
    if not exe:
        return c.Result("hadolint Dockerfile", c.SKIP, "hadolint not installed", "make venv")
    proc = _run([exe, "--failure-threshold", "warning", "Dockerfile"], root)
    if proc.returncode:
        return c.Result("hadolint Dockerfile", c.FAIL, (proc.stdout + proc.stderr).strip(), "fix the lines named")
    return c.Result("hadolint Dockerfile", c.PASS, "no warning or error")


def check_shellcheck(root: Path) -> c.Result:
    exe = _tool("shellcheck")
    scripts = sorted(str(p.relative_to(root)) for p in [*root.glob("scripts/*.sh"), *root.glob("docker/*.sh")])
    if not exe:
        return c.Result("shellcheck scripts", c.SKIP, "shellcheck not installed", "make venv")
    proc = _run([exe, *scripts], root)
    if proc.returncode:
        return c.Result("shellcheck scripts", c.FAIL, proc.stdout.strip()[:2000], "fix the lines named")
    return c.Result("shellcheck scripts", c.PASS, ", ".join(scripts))


def _workflow_files(root: Path) -> list[str]:
    """The repo's GitHub workflows, relative to it (what the schema check and zizmor read)."""
    return sorted(str(p.relative_to(root)) for p in root.glob(".github/workflows/*.y*ml"))


def check_workflows(root: Path) -> c.Result:
    name = "GitHub workflows match the schema"
    files = _workflow_files(root)
    if not files:
        return c.Result(name, c.SKIP, "no .github/workflows/*.yml")
    exe = _tool("check-jsonschema")
    if not exe:
        return c.Result(name, c.SKIP, "check-jsonschema not installed", "make venv")
    proc = _run([exe, "--builtin-schema", "vendor.github-workflows", *files], root)
    if proc.returncode:
        return c.Result(name, c.FAIL, (proc.stdout + proc.stderr).strip()[-2000:], "fix the keys named")
    return c.Result(name, c.PASS, ", ".join(files))


ZIZMOR_FAILS = {"Medium", "High"}


def check_zizmor(root: Path) -> c.Result:
    """zizmor (offline audits) on every workflow: no finding of medium severity or above."""
    name = "zizmor: workflows have no medium/high finding"
    files = _workflow_files(root)
    if not files:
        return c.Result(name, c.SKIP, "no .github/workflows/*.yml")
    exe = _tool("zizmor")
    if not exe:
        return c.Result(name, c.SKIP, "zizmor not installed", "make venv")
    proc = _run([exe, "--offline", "--format", "json", *files], root)
    try:
        findings = json.loads(proc.stdout)  # zizmor prints [] when it finds nothing
    except json.JSONDecodeError:  # it could not read a workflow (or crashed): never a PASS
        return c.Result(name, c.FAIL, (proc.stdout + proc.stderr).strip()[-2000:], "run `zizmor --offline` on the files")
    # with several workflows zizmor skips one it cannot parse (a WARN) and audits the rest
    unread = [f for f in files if f"completed {f}" not in proc.stderr]
    if "failed to parse input" in proc.stderr or unread:
        return c.Result(name, c.FAIL, f"not audited: {', '.join(unread) or '?'}: {proc.stderr.strip()[-1500:]}",
                        "run `zizmor --offline` on the files")
    bad = [f for f in findings if (f.get("determinations") or {}).get("severity") in ZIZMOR_FAILS]
    if bad:
        seen = "; ".join(f"{f.get('ident')} ({f['determinations']['severity']}): {f.get('desc')}" for f in bad)
        return c.Result(name, c.FAIL, seen[:2000], "`zizmor --offline .github/workflows` shows where; fix each")
    low = len(findings)
    return c.Result(name, c.PASS, f"{', '.join(files)}: {low} low/informational finding(s)" if low else ", ".join(files))


PARSERS = {
    ".toml": lambda text: tomllib.loads(text),
    ".json": lambda text: json.loads(text),
    ".yml": lambda text: list(yaml.safe_load_all(text)),
    ".yaml": lambda text: list(yaml.safe_load_all(text)),
}
NOT_OURS = {".venv", "node_modules", ".git"}


def check_data_files_parse(root: Path) -> c.Result:
    """Every tracked TOML, JSON and YAML file parses (a bad merge or hand edit shows here)."""
    name = "TOML/YAML/JSON files parse"
    seen, bad = 0, []
    for path in secret_scan.tracked_files(root):
        parser = PARSERS.get(path.suffix)
        if parser is None or NOT_OURS & set(path.relative_to(root).parts) or not path.is_file():
            continue
        seen += 1
        try:
            parser(path.read_text(encoding="utf-8"))
        except (ValueError, yaml.YAMLError, UnicodeDecodeError) as exc:
            bad.append(f"{path.relative_to(root)}: {' '.join(str(exc).split())[:300]}")
    if bad:
        return c.Result(name, c.FAIL, "; ".join(bad), "fix the syntax (or `git diff` the file against the last commit)")
    return c.Result(name, c.PASS, f"{seen} files")


def check_no_conflicts(root: Path) -> c.Result:
    found = conflicts.find_conflicts(root)
    if found:
        return c.Result("no update conflicts left", c.FAIL, "; ".join(found),
                        "resolve them (RUNBOOK.md, Upgrading), `git add` the files, then verify again")
    return c.Result("no update conflicts left", c.PASS, "no conflict markers, unmerged files or .rej files")


def find_openclaw(explicit: str | None) -> list[str] | None:
    """The command that runs the pinned OpenClaw CLI, if this machine has one."""
    candidate = explicit or os.environ.get("OPENCLAW_BIN")
    if candidate:
        return ["node", candidate] if candidate.endswith(".mjs") else [candidate]
    found = shutil.which("openclaw")
    return [found] if found else None


def check_config_validate(root: Path, openclaw_cmd: list[str] | None, version: str) -> c.Result:
    name = "openclaw config validate"
    if not openclaw_cmd:
        return c.Result(name, c.SKIP, "OpenClaw is not installed here (skipping this one step)",
                        f"npm install openclaw@{version} (Node {m.openclaw()['node_engines']}), then OPENCLAW_BIN=... make verify")
    with tempfile.TemporaryDirectory() as state:
        env = {**os.environ, "OPENCLAW_STATE_DIR": state,
               "OPENCLAW_CONFIG_PATH": str(root / "config" / "openclaw.json")}
        try:
            ver = _run([*openclaw_cmd, "--version"], root, env)
        except (OSError, subprocess.SubprocessError) as exc:
            return c.Result(name, c.FAIL, f"could not run {openclaw_cmd}: {exc}", "check OPENCLAW_BIN")
        if version not in ver.stdout:
            return c.Result(name, c.WARN, f"installed {ver.stdout.strip()} is not the pinned {version}",
                            f"npm install openclaw@{version}")
        proc = _run([*openclaw_cmd, "config", "validate"], root, env)
    out = (proc.stdout + proc.stderr).strip().replace(str(root) + os.sep, "")
    if proc.returncode:
        return c.Result(name, c.FAIL, out[-2000:], "fix the keys named (allowed values are listed)")
    return c.Result(name, c.PASS, validate_summary(out))


def validate_summary(out: str) -> str:
    """`openclaw config validate`'s verdict line, then its warnings on the same
    line ("Config valid: config/openclaw.json; 2 warning(s): a; b")."""
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    verdict = next((line for line in lines if line.lower().startswith("config valid")), lines[0] if lines else "valid")
    rest = [line.lstrip("! ").strip() for line in lines if line != verdict]
    if rest and re.match(r"\d+ warning", rest[0]):
        return f"{verdict}; {rest[0]} " + "; ".join(rest[1:])
    return "; ".join([verdict, *rest])


def run_all(root: Path, openclaw_cmd: list[str] | None = None) -> list[c.Result]:
    repo = c.load_repo(root)
    results = [check(repo) for check in c.CHECKS]
    results += [check_hadolint(root), check_shellcheck(root), check_workflows(root), check_zizmor(root),
                check_data_files_parse(root), check_no_conflicts(root),
                check_config_validate(root, openclaw_cmd, repo.model.openclaw_version)]
    results += platform_verify.run(root, repo.model)
    return results


def render(results: list[c.Result], columns: int | None = None) -> str:
    """One row per check (verdict, check, what was seen; then the fix of a
    FAIL, WARN or SKIP), wrapped between words to the terminal's width
    (``COLUMNS``, default 80) with the columns kept aligned; then the counts."""
    rows = []
    for r in results:
        rows.append([r.status, r.check, r.seen.splitlines()[0] if r.seen else ""])
        if r.status in (c.FAIL, c.WARN, c.SKIP) and r.fix:  # a SKIP says what would make it run
            rows.append(["", "", f"fix: {r.fix}"])
    counts = {s: sum(r.status == s for r in results) for s in (c.PASS, c.FAIL, c.WARN, c.SKIP)}
    return terminal.table(rows, columns=columns) + "\n" + ", ".join(f"{n} {s.lower()}" for s, n in counts.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=".", help="deploy repo (default: .)")
    parser.add_argument("--openclaw", help="openclaw binary or openclaw.mjs (default: $OPENCLAW_BIN or PATH)")
    args = parser.parse_args(argv)
    results = run_all(Path(args.repo).resolve(), find_openclaw(args.openclaw))
    print(render(results))
    return 1 if any(r.status == c.FAIL for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
