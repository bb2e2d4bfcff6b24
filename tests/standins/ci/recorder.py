#!/usr/bin/env python3
"""RECORDING STAND-IN for the CLIs the generated deploy workflow calls in CI
(flyctl, railway, docker, ssh, kubectl, curl), used by tests/test_ci_deploy.py.
It contacts nothing and deploys nothing.

Called as `recorder.py PROGRAM ARGS...` by the wrappers in this directory, it
records the call with its stdin (read only when piped) and, for ssh, the files it
would read (identity and known hosts, with their modes), then answers from the
plan in $STANDIN_PLAN (../protocol.py, steps 1 and 2).
No rule: exit 0 with no output, except for kubectl when $STANDIN_REAL_KUBECTL
names the real binary: `kubectl kustomize DIR` runs it (offline, real
kustomize), `kubectl apply -k DIR` keeps what it renders as the "cluster"
state, and `kubectl get deployment NAME ... -o jsonpath=...` answers the
gateway container's image from that state (what was applied is what runs).
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import protocol  # noqa: E402

program, args = sys.argv[1], sys.argv[2:]
stdin = protocol.piped_stdin()
# ssh: the files it would read (identity and known hosts), with their modes, as the real ssh sees them
files = {}
if program == "ssh":
    named = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "-i"]
    named += [a.split("=", 1)[1] for a in args if a.startswith("UserKnownHostsFile=")]
    for path in named:
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as fh:
                files[path] = {"text": fh.read(), "mode": oct(os.stat(path).st_mode & 0o777)}
protocol.record(program, args, stdin, files)

answer = protocol.plan_answer(program, args)
if answer is not None:
    answer.give()
real = os.environ.get("STANDIN_REAL_KUBECTL")
if program == "kubectl" and real:
    import subprocess

    line = " ".join(args)
    state = os.environ["STANDIN_LOG"] + ".applied.yaml"
    if args[:1] == ["kustomize"]:
        os.execv(real, [real, *args])
    if args[:2] == ["apply", "-k"]:
        out = subprocess.run([real, "kustomize", args[2]], capture_output=True, text=True)
        if out.returncode:
            sys.stderr.write(out.stderr)
            sys.exit(out.returncode)
        with open(state, "w", encoding="utf-8") as fh:
            fh.write(out.stdout)
    if args[:2] == ["get", "deployment"] and "gateway" in line and os.path.exists(state):
        import yaml  # the tests' interpreter ($STANDIN_PYTHON)

        with open(state, encoding="utf-8") as fh:
            docs = [d for d in yaml.safe_load_all(fh) if d]
        for doc in docs:
            if doc.get("kind") == "Deployment" and doc["metadata"]["name"] == args[2]:
                sys.stdout.write("".join(c["image"] for c in doc["spec"]["template"]["spec"]["containers"]
                                         if c["name"] == "gateway"))
sys.exit(0)
