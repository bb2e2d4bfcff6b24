#!/usr/bin/env python3
"""RECORDING STAND-IN for a platform's exec (fly ssh console, docker compose exec,
railway ssh, northflank exec, kubectl exec) in tests.

It contacts no platform. Called as `execstandin.py PROGRAM ARGS...` by the wrappers
named after each CLI here, it records the call, takes the command the real CLI would
run inside the deploy out of ARGS the way that CLI reads them (../protocol.py,
remote()) and runs it HERE, with $STANDIN_OPENCLAW (the real openclaw CLI of the
pinned release) as `openclaw`. So what comes back is the real command's real output;
only the transport to the platform is replaced.
"""
import os
import shlex
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import protocol  # noqa: E402

program, args = sys.argv[1], sys.argv[2:]
protocol.record(program, args)
run = protocol.remote(program, args)
inner = protocol.command_words(run) if run is not None and run.kind == "run" else []
if not inner:
    print(f"Error: {program} {' '.join(args)}: not an exec this stand-in knows (recording stand-in)",
          file=sys.stderr)
    sys.exit(1)
# ops.remote hands the command over as one shell line (`sh -c LINE`, or one word where the
# CLI passes its remote words to a shell: railway ssh, ssh), after the platform's user switch
# (setpriv as uid 1000, the platform's business here): the words of that line
while True:
    if inner[:2] == ["sh", "-c"] and len(inner) == 3 or len(inner) == 1 and " " in inner[0]:
        inner = shlex.split(inner[-1])
    elif inner and inner[0] == "setpriv":
        inner = inner[1:]
        while inner and inner[0].startswith("--"):
            inner = inner[1:]
    else:
        break
if inner[0] == "openclaw":
    inner = shlex.split(os.environ["STANDIN_OPENCLAW"]) + inner[1:]
sys.exit(subprocess.run(inner).returncode)
