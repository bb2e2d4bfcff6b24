"""The one protocol of the stand-ins in tests/standins (standard library only: the
stand-ins run under whatever `python3` is on PATH).

A stand-in replaces a CLI on PATH in a test: a wrapper named after the CLI runs
`python3 <stand-in>.py PROGRAM ARGS...`. It contacts no platform and deploys
nothing. Whatever it does next, every stand-in goes through this module:

1. record(): one JSON line per call in $STANDIN_LOG,
   {"argv": [PROGRAM, *ARGS], "stdin": "...", "files": {path: ...}}: what the real
   CLI would read as data (stdin, files it is told to read), "" and {} when none.
   Tests read the log back with records(log) or argvs(log).
2. Answer from what the test laid out, first match wins:
   - plan_answer(): a rule of the JSON list in $STANDIN_PLAN, {"prog", "has": [substrings
     of the joined arguments], "stdout", "stderr", "exit", "times"} (ci/recorder.py);
   - canned_answer(): a file in $STANDIN_DIR, <PROGRAM>-<word>-<word>...{.json,.txt}
     (the words before the first flag, longest first; <key>~<needle>.* wins when the
     needle occurs in the arguments) (standin.py);
   - the stand-in's own fixed answers (secrets/recorder.py).
3. remote(): for a verb that runs something on the deploy or copies a file to or
   from it, what the real CLI would do there, parsed once from its arguments the way
   that CLI reads them. exec/execstandin.py runs it here; drive/driver.py runs it in a
   local container.
"""
from __future__ import annotations

import json
import os
import shlex
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path


# ---- 1. the log ---------------------------------------------------------------------------

def record(program: str, args: list[str], stdin: str = "", files: dict | None = None) -> None:
    """Append this call to $STANDIN_LOG (nothing when it is unset)."""
    log = os.environ.get("STANDIN_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"argv": [program, *args], "stdin": stdin, "files": files or {}}) + "\n")


def piped_stdin() -> str:
    """stdin when it carries data (a pipe, file or socket), else "" without waiting on a terminal."""
    mode = os.fstat(0).st_mode
    if stat.S_ISFIFO(mode) or stat.S_ISREG(mode) or stat.S_ISSOCK(mode):
        return sys.stdin.read()
    return ""


def records(log: str | os.PathLike) -> list[dict]:
    """The calls in a stand-in log, in order ([] when nothing was called)."""
    path = Path(log)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def argvs(log: str | os.PathLike) -> list[list[str]]:
    """[PROGRAM, *ARGS] of each call in a stand-in log."""
    return [call["argv"] for call in records(log)]


# ---- 2. answers ---------------------------------------------------------------------------

@dataclass
class Answer:
    stdout: str = ""
    stderr: str = ""
    exit: int = 0

    def give(self) -> None:
        sys.stdout.write(self.stdout)
        sys.stderr.write(self.stderr)
        sys.exit(self.exit)


def plan_answer(program: str, args: list[str]) -> Answer | None:
    """The first rule of $STANDIN_PLAN for this call that has uses left (each use is counted)."""
    plan_path = os.environ.get("STANDIN_PLAN")
    if not plan_path or not os.path.exists(plan_path):
        return None
    with open(plan_path, encoding="utf-8") as fh:
        plan = json.load(fh)
    line = " ".join(args)
    for rule in plan:
        if rule.get("prog") != program or not all(h in line for h in rule.get("has", [])):
            continue
        if rule.get("times") is not None:
            if rule["times"] <= 0:
                continue
            rule["times"] -= 1
            with open(plan_path, "w", encoding="utf-8") as fh:
                json.dump(plan, fh)
        return Answer(rule.get("stdout", ""), rule.get("stderr", ""), rule.get("exit", 0))
    return None


def canned_answer(program: str, args: list[str]) -> Answer | None:
    """The canned file in $STANDIN_DIR for this call, if any."""
    words = []
    for arg in args:
        if arg.startswith("-"):
            break
        words.append(arg)
    base = Path(os.environ.get("STANDIN_DIR", "."))
    line = " ".join(args)
    for n in range(len(words), -1, -1):
        key = "-".join([program, *words[:n]])
        variants = [p for p in sorted(base.glob(f"{key}~*")) if p.stem.split("~", 1)[1] in line]
        for path in variants + [base / f"{key}{suffix}" for suffix in (".json", ".txt")]:
            if path.exists():
                return Answer(path.read_text(encoding="utf-8"))
    return None


# ---- 3. what a CLI does on the deploy -----------------------------------------------------

@dataclass
class Remote:
    """One exec or copy, as the real CLI would do it on the deploy.

    kind "run": `command` is the command line the CLI hands to a shell there (fly -C,
    northflank --cmd), or `argv` its words: railway ssh and ssh join them into one
    line for a shell there (`shell`), kubectl exec and docker compose exec run them
    as they are (not `shell`).
    kind "get"/"put": copy `remote` to `local` / `local` to `remote` (owner `user`, `mode`).
    """
    kind: str
    user: str = "root"
    command: str | None = None
    argv: list[str] = field(default_factory=list)
    local: str = ""
    remote: str = ""
    mode: str = "0644"
    shell: bool = True

    @property
    def shell_line(self) -> str:
        return self.command if self.command is not None else " ".join(self.argv)


def _opt(args: list[str], name: str, default: str | None = None) -> str | None:
    return args[args.index(name) + 1] if name in args and args.index(name) + 1 < len(args) else default


def _positional(args: list[str], with_value: tuple[str, ...]) -> list[str]:
    """The arguments that are neither a flag nor a flag's value."""
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in with_value:
            skip = True
        elif not arg.startswith("-"):
            out.append(arg)
    return out


def _after_dashes(args: list[str]) -> list[str]:
    return args[args.index("--") + 1:]


def remote(program: str, args: list[str]) -> Remote | None:
    """What this call runs or copies on the deploy; None when it is not such a verb."""
    if program in ("fly", "flyctl") and args[:2] == ["ssh", "console"] and "-C" in args:
        return Remote("run", user=_opt(args, "-u", "root"), command=_opt(args, "-C"))
    if program in ("fly", "flyctl") and args[:3] == ["ssh", "sftp", "get"]:
        remote_path, local = _positional(args[3:], ("-a", "-u", "-m"))[:2]
        return Remote("get", remote=remote_path, local=local)
    if program in ("fly", "flyctl") and args[:3] == ["ssh", "sftp", "put"]:
        local, remote_path = _positional(args[3:], ("-a", "-u", "-m"))[:2]
        return Remote("put", user=_opt(args, "-u", "root"), local=local, remote=remote_path,
                      mode=_opt(args, "-m", "0644"))
    if program == "northflank" and args[:2] == ["exec", "service"] and "--cmd" in args:
        return Remote("run", user=_opt(args, "--user", "root"), command=_opt(args, "--cmd"))
    if program == "railway" and args[:1] == ["ssh"] and "--" in args:
        return Remote("run", user="root", argv=_after_dashes(args))
    if program == "ssh" and args and not args[0].startswith("-"):  # ssh HOST WORDS... (Render)
        return Remote("run", user="root", argv=args[1:])
    if program == "kubectl" and args[:1] == ["exec"] and "--" in args:
        return Remote("run", user="1000", argv=_after_dashes(args), shell=False)
    if program == "docker" and args[:2] == ["compose", "exec"]:
        rest, user = args[2:], "node"
        while rest and rest[0].startswith("-"):
            if rest[0] in ("-u", "--user"):
                user = rest[1]
            rest = rest[2:] if rest[0] in ("-u", "--user", "-e", "--env", "-w", "--workdir") else rest[1:]
        return Remote("run", user=user, argv=rest[1:], shell=False)  # after the service name
    return None


def command_words(r: Remote) -> list[str]:
    """The words of a run, split the way a shell would split its command line."""
    return shlex.split(r.command) if r.command is not None else list(r.argv)
