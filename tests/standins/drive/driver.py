#!/usr/bin/env python3
"""DRIVING STAND-IN for platform CLIs in the container tests: fly, railway,
northflank, ssh (Render), kubectl.

It contacts no platform and deploys nothing. It records the call, then does what
the real CLI would do to the platform's machine (../protocol.py, remote()) to the
LOCAL container $DRIVE_CONTAINER instead, through the real engine (docker exec /
docker cp): `fly ssh console -u node -C STR` -> `docker exec -i -u node C sh -c STR`,
`fly ssh sftp get R L` -> `docker cp C:R L`, and so on. Only the transport is
replaced; the command, the gateway, the volume and the bytes are real. Unknown
verbs exit 2.
"""
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import protocol  # noqa: E402

DOCKER = os.environ.get("OPENCLAW_TEST_DOCKER", "/usr/bin/docker")
program, args = os.path.basename(sys.argv[1]), sys.argv[2:]
protocol.record(program, args)
container = os.environ["DRIVE_CONTAINER"]


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


UID = {"node": "1000", "root": "0"}
r = protocol.remote(program, args)
if r is not None and r.kind == "get":
    sys.exit(get(r.remote, r.local))
if r is not None and r.kind == "put":
    sys.exit(put(r.local, r.remote, UID.get(r.user, "0"), r.mode))
if r is not None and r.kind == "run" and not r.shell:
    sys.exit(docker("exec", "-i", "-u", r.user, container, *r.argv))  # kubectl exec: the words as they are
if r is not None and r.kind == "run":
    sys.exit(shell(r.user, r.shell_line))
print(f"{program}: driving stand-in: no translation for {' '.join(args[:4])}", file=sys.stderr)
sys.exit(2)
