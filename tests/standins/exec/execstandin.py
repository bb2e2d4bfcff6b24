#!/usr/bin/env python3
"""RECORDING STAND-IN for a platform's exec (fly ssh console, docker compose exec,
railway ssh, northflank exec, kubectl exec) in tests.

It contacts no platform. Called as `execstandin.py PROGRAM ARGS...` by the wrappers
named after each CLI here, it appends [PROGRAM, *ARGS] as one JSON line to
$STANDIN_LOG, takes the command the real CLI would run inside the deploy out of
ARGS the way that CLI reads them (`-C CMD`, `--cmd CMD`, `-- ARGV...`, `exec [-T]
[-u USER] SERVICE ARGV...`) and runs it HERE, with $STANDIN_OPENCLAW (the real
openclaw CLI of the pinned release) as `openclaw`. So what comes back is the real
command's real output; only the transport to the platform is replaced.
"""
import json
import os
import shlex
import subprocess
import sys

program, args = sys.argv[1], sys.argv[2:]
log = os.environ.get("STANDIN_LOG")
if log:
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(json.dumps([program, *args]) + "\n")


def after(flag):
    return args[args.index(flag) + 1] if flag in args else None


inner = None
if program == "fly" and args[:2] == ["ssh", "console"] and "-C" in args:
    inner = shlex.split(after("-C"))
elif program == "northflank" and args[:2] == ["exec", "service"] and "--cmd" in args:
    inner = shlex.split(after("--cmd"))
elif program in ("railway", "kubectl") and "--" in args and args[0] in ("ssh", "exec"):
    inner = args[args.index("--") + 1:]
elif program == "docker" and args[:2] == ["compose", "exec"]:
    rest = args[2:]
    while rest and rest[0].startswith("-"):
        rest = rest[2:] if rest[0] in ("-u", "--user", "-e", "--env", "-w", "--workdir") else rest[1:]
    inner = rest[1:]  # after the service name
if not inner:
    print(f"Error: {program} {' '.join(args)}: not an exec this stand-in knows (recording stand-in)",
          file=sys.stderr)
    sys.exit(1)
# the platform's user switch (setpriv as uid 1000) is the platform's business here
if inner[0] == "setpriv":
    inner = inner[1:]
    while inner and inner[0].startswith("--"):
        inner = inner[1:]
if inner[0] == "openclaw":
    inner = shlex.split(os.environ["STANDIN_OPENCLAW"]) + inner[1:]
sys.exit(subprocess.run(inner).returncode)
