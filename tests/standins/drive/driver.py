#!/usr/bin/env python3
"""DRIVING STAND-IN for platform CLIs in the container tests: fly, railway,
northflank, ssh (Render), kubectl.

It contacts no platform and deploys nothing. It records its argv as one JSON
line in $STANDIN_LOG, then does what the real CLI would do to the platform's
machine to the LOCAL container $DRIVE_CONTAINER instead, through the real
engine (docker exec / docker cp): `fly ssh console -u node -C STR` ->
`docker exec -i -u node C sh -c STR`, `fly ssh sftp get R L` -> `docker cp C:R L`,
and so on. Only the transport is replaced; the command, the gateway, the
volume and the bytes are real. Unknown verbs exit 2.
"""
import json
import os
import subprocess
import sys

DOCKER = os.environ.get("OPENCLAW_TEST_DOCKER", "/usr/bin/docker")
program, args = os.path.basename(sys.argv[1]), sys.argv[2:]
with open(os.environ["STANDIN_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps([program, *args]) + "\n")
container = os.environ["DRIVE_CONTAINER"]


def opt(name, default=None):
    return args[args.index(name) + 1] if name in args else default


def docker(*argv):
    return subprocess.run([DOCKER, *argv]).returncode


def shell(user, command):
    """The command string through a shell in the container, stdin/stdout passed through."""
    return docker("exec", "-i", "-u", user, container, "sh", "-c", command)


def put(local, remote, user, mode="0600"):
    code = docker("cp", local, f"{container}:{remote}")
    return code or docker("exec", "-u", "0", container, "sh", "-c",
                          f"chown {user}:{user} '{remote}' && chmod {mode} '{remote}'")


def get(remote, local):
    return subprocess.run([DOCKER, "cp", f"{container}:{remote}", local], stdout=subprocess.DEVNULL).returncode


words = [a for a in args if not a.startswith("-")]
if program == "fly" and args[:2] == ["ssh", "console"]:
    sys.exit(shell(opt("-u", "root"), opt("-C")))
if program == "fly" and args[:3] == ["ssh", "sftp", "get"]:
    rest = [a for a in args[3:] if a not in ("-a", opt("-a"))]
    sys.exit(get(rest[0], rest[1]))
if program == "fly" and args[:3] == ["ssh", "sftp", "put"]:
    skip = {"-a", opt("-a"), "-u", opt("-u"), "-m", opt("-m")}
    rest = [a for a in args[3:] if a not in skip]
    user = {"node": "1000"}.get(opt("-u", "root"), "0")
    sys.exit(put(rest[0], rest[1], user, opt("-m", "0644")))
if program == "railway" and args[:2] == ["ssh", "--"]:
    sys.exit(shell("0", " ".join(args[2:])))
if program == "northflank" and args[:2] == ["exec", "service"]:
    sys.exit(shell(opt("--user", "root"), opt("--cmd")))
if program == "ssh" and words and words[0].endswith(".render.com"):
    sys.exit(shell("0", " ".join(args[1:])))
if program == "kubectl" and args[:1] == ["exec"] and "--" in args:
    cmd = args[args.index("--") + 1:]
    sys.exit(docker("exec", "-i", "-u", "1000", container, *cmd))
print(f"{program}: driving stand-in: no translation for {' '.join(args[:4])}", file=sys.stderr)
sys.exit(2)
