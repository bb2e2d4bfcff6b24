#!/usr/bin/env python3
"""RECORDING STAND-IN for the platform CLIs scripts/secrets.sh calls (fly, railway,
kubectl, curl), used by tests/test_secrets_scripts.py. It contacts nothing.

Called as `recorder.py PROGRAM ARGS...` by the wrappers in this directory, it
records the call (../protocol.py, step 1) with what the real CLI would
read as data: stdin for the commands that take it (`fly secrets import`,
`railway variables --set-from-stdin`, `kubectl apply -f -`, `kubectl patch
--patch-file /dev/stdin`, `curl --data-binary @-`), the files named by
`curl -H @FILE` and `kubectl --from-env-file=FILE` (/dev/stdin included). Then it prints what the
real CLI prints for an app that exists and has no secrets set yet
(STANDIN_NO_CLUSTER=1: `kubectl version` fails as with no reachable cluster).
"""
import base64
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import protocol  # noqa: E402

program, args = sys.argv[1], sys.argv[2:]
record = {"argv": [program, *args], "stdin": "", "files": {}}


def read_stdin() -> None:
    record["stdin"] = sys.stdin.read()


def read_file(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    record["files"][path] = text
    return text


words = [a for a in args if not a.startswith("-")]
out, code = "", 0
if program == "fly":
    if words[:2] == ["secrets", "import"]:
        read_stdin()
    elif words[:2] == ["secrets", "list"] or words[:2] == ["volumes", "list"]:
        out = "[]\n"
elif program == "railway":
    if "--set-from-stdin" in args:
        read_stdin()
    elif "--json" in args:
        out = "{}\n"
elif program == "kubectl":
    if words[:1] == ["version"]:  # the cluster check; STANDIN_NO_CLUSTER=1: nothing answers
        if os.environ.get("STANDIN_NO_CLUSTER"):
            out, code = "", 1
            sys.stderr.write("The connection to the server localhost:8080 was refused\n")
        else:
            out = json.dumps({"serverVersion": {"gitVersion": "v1.31.0"}}) + "\n"
    elif words[:2] == ["config", "current-context"]:
        out = "standin-context\n"
    elif words[:2] == ["get", "secret"]:
        out, code = "", 1  # NotFound
    elif words[:3] == ["create", "secret", "generic"]:
        env_file = next(a.split("=", 1)[1] for a in args if a.startswith("--from-env-file="))
        data = dict(line.split("=", 1) for line in read_file(env_file).splitlines() if "=" in line)
        out = "apiVersion: v1\nkind: Secret\ndata:\n" + "".join(
            f"  {k}: {base64.b64encode(v.encode()).decode()}\n" for k, v in data.items())
    elif words[:1] == ["create"]:
        out = "apiVersion: v1\nkind: Namespace\n"
    elif args[:3] == ["apply", "-f", "-"] or "/dev/stdin" in args:
        read_stdin()
elif program == "curl":
    for i, arg in enumerate(args):
        if arg == "-H" and args[i + 1].startswith("@"):
            read_file(args[i + 1][1:])
    url = next((a for a in args if a.startswith("http")), "")
    if "@-" in args:
        read_stdin()
        out = "{}\n"
    elif url.endswith("/details"):  # Northflank secret group
        out = json.dumps({"data": {"secrets": {"variables": {}}}}) + "\n"
    elif "/services?name=" in url:  # Render service lookup
        out = json.dumps([{"service": {"id": "srv-standin"}}]) + "\n"
    elif "/env-vars" in url:
        out = "[]\n"
    else:
        out = "{}\n"

protocol.record(program, args, record["stdin"], record["files"])
protocol.Answer(out, "", code).give()
