#!/usr/bin/env python3
"""RECORDING STAND-IN for a platform CLI (fly, docker, kubectl, railway) in tests.

It contacts nothing and deploys nothing. Called as `standin.py PROGRAM ARGS...`
(by the wrappers named after each CLI in this directory), it appends
[PROGRAM, *ARGS] as one JSON line to $STANDIN_LOG, then prints the canned
output $STANDIN_DIR/<PROGRAM>-<word>-<word>...{.json,.txt}, where the words are
the arguments before the first flag, longest match first (`fly machine list -a
x --json` -> fly-machine-list.json; `kubectl logs claw-5d9 --tail 9` ->
kubectl-logs.txt); <name>~<needle>.json wins when <needle> occurs in the
arguments. No canned file: exit 1 with an error, like a failing CLI.
"""
import json
import os
import sys
from pathlib import Path

program, args = sys.argv[1], sys.argv[2:]
log = os.environ.get("STANDIN_LOG")
if log:
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(json.dumps([program, *args]) + "\n")

words = []
for arg in args:
    if arg.startswith("-"):
        break
    words.append(arg)
base = Path(os.environ.get("STANDIN_DIR", "."))
line = " ".join(args)
for n in range(len(words), -1, -1):
    key = "-".join([program, *words[:n]])
    # <key>~<needle>.json: used when <needle> occurs in the arguments (e.g. which
    # command `fly ssh console -C ...` runs), before the plain <key>.json
    variants = sorted(base.glob(f"{key}~*"))
    variants = [p for p in variants if p.stem.split("~", 1)[1] in line]
    for path in variants + [base / f"{key}{suffix}" for suffix in (".json", ".txt")]:
        if path.exists():
            sys.stdout.write(path.read_text(encoding="utf-8"))
            sys.exit(0)
print(f"Error: {program} {' '.join(words)}: no canned output (recording stand-in)", file=sys.stderr)
sys.exit(1)
