#!/usr/bin/env python3
"""RECORDING STAND-IN for the CLIs the generated deploy workflow calls in CI
(flyctl, railway, docker, ssh, kubectl, curl), used by tests/test_ci_deploy.py.
It contacts nothing and deploys nothing.

Called as `recorder.py PROGRAM ARGS...` by the wrappers in this directory, it
appends {"argv": [...], "stdin": "..."} as one JSON line to $STANDIN_LOG (stdin
is read only when it is not a terminal or /dev/null), then answers from the
plan in $STANDIN_PLAN: a JSON list of rules {"prog", "has": [substrings that
must all occur in the joined argv], "stdout", "exit", "times"}; the first rule
that matches and has uses left wins (times: how often, default unlimited).
No rule: exit 0 with no output, except for kubectl when $STANDIN_REAL_KUBECTL
names the real binary: `kubectl kustomize DIR` runs it (offline, real
kustomize), `kubectl apply -k DIR` keeps what it renders as the "cluster"
state, and `kubectl get deployment NAME ... -o jsonpath=...` answers the
gateway container's image from that state (what was applied is what runs).
"""
import json
import os
import stat
import sys

program, args = sys.argv[1], sys.argv[2:]
stdin = ""
mode = os.fstat(0).st_mode
if stat.S_ISFIFO(mode) or stat.S_ISREG(mode) or stat.S_ISSOCK(mode):
    stdin = sys.stdin.read()
# ssh: the files it would read (identity and known hosts), with their modes, as the real ssh sees them
files = {}
if program == "ssh":
    named = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "-i"]
    named += [a.split("=", 1)[1] for a in args if a.startswith("UserKnownHostsFile=")]
    for path in named:
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as fh:
                files[path] = {"text": fh.read(), "mode": oct(os.stat(path).st_mode & 0o777)}
with open(os.environ["STANDIN_LOG"], "a", encoding="utf-8") as fh:
    fh.write(json.dumps({"argv": [program, *args], "stdin": stdin, "files": files}) + "\n")

plan_path = os.environ.get("STANDIN_PLAN")
line = " ".join(args)
if plan_path and os.path.exists(plan_path):
    with open(plan_path, encoding="utf-8") as fh:
        plan = json.load(fh)
    for rule in plan:
        if rule.get("prog") != program or not all(h in line for h in rule.get("has", [])):
            continue
        if rule.get("times") is not None:
            if rule["times"] <= 0:
                continue
            rule["times"] -= 1
            with open(plan_path, "w", encoding="utf-8") as fh:
                json.dump(plan, fh)
        sys.stdout.write(rule.get("stdout", ""))
        sys.stderr.write(rule.get("stderr", ""))
        sys.exit(rule.get("exit", 0))
real = os.environ.get("STANDIN_REAL_KUBECTL")
if program == "kubectl" and real:
    import subprocess

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
