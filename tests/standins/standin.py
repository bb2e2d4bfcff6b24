#!/usr/bin/env python3
"""RECORDING STAND-IN for a CLI (fly, docker, kubectl, railway, gh) in tests.

It contacts nothing and deploys nothing. Called as `standin.py PROGRAM ARGS...`
(by the wrappers named after each CLI in this directory), it records the call and
prints the canned output from $STANDIN_DIR (`fly machine list -a x --json` ->
fly-machine-list.json; `kubectl logs claw-5d9 --tail 9` -> kubectl-logs.txt;
<name>~<needle>.json wins when <needle> occurs in the arguments): protocol.py,
steps 1 and 2. No canned file: exit 1 with an error, like a failing CLI.
"""
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import protocol  # noqa: E402

program, args = sys.argv[1], sys.argv[2:]
protocol.record(program, args)
answer = protocol.canned_answer(program, args)
if answer is None:
    words = list(itertools.takewhile(lambda a: not a.startswith("-"), args))
    protocol.Answer("", f"Error: {program} {' '.join(words)}: no canned output (recording stand-in)\n", 1).give()
answer.give()
