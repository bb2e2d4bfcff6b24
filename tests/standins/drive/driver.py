#!/usr/bin/env python3
"""DRIVING STAND-IN for platform CLIs in the container tests: fly, railway,
northflank, ssh (Render; a Compose VM's engine), kubectl.

It contacts no platform and deploys nothing. It records the call, then does what
the real CLI would do to the platform's machine (../protocol.py, remote()) to the
LOCAL container $DRIVE_CONTAINER instead, through the real engine (docker exec /
docker cp): `fly ssh console -u node -C STR` -> `docker exec -i -u node C sh -c STR`,
`fly ssh sftp get R L` -> `docker cp C:R L`, and so on. Only the transport is
replaced; the command, the gateway, the volume and the bytes are real. Unknown
verbs exit 2. For kubectl the Deployment is that container: `scale --replicas=0/1`
stops/starts it, `apply -f -` of a Pod runs the pod as another container on its
volumes (the restore pod of ops/platforms/_kubernetes_restore.py). For fly the app's one machine is that
container: `fly machine list --json` reports its image, `fly deploy [--image IMAGE]` replaces
it (same name, same volume) with IMAGE or, without --image, $DRIVE_FLY_BUILD (what the build
would make; nothing is built), run as $DRIVE_FLY_RUN (docker run flags) + $DRIVE_FLY_CMD with
the values of $DRIVE_FLY_ENV in its environment. $DRIVE_FLY_FAIL=after-start: the stand-in
fails that deploy once the new release reports /startupz started (a forced failure, named so).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import protocol  # noqa: E402

DOCKER = os.environ.get("OPENCLAW_TEST_DOCKER", "/usr/bin/docker")
program, args = os.path.basename(sys.argv[1]), sys.argv[2:]
protocol.record(program, args)


def dial_stdio(args):
    """`ssh [-o ..] [-l USER] -- HOST docker system dial-stdio` (the docker CLI's DOCKER_HOST=ssh://
    helper; the command may come as one quoted word): True when this call is that."""
    if "--" not in args:
        return False
    words = " ".join(args[args.index("--") + 2:]).replace("'", " ").replace('"', " ").split()
    return words == ["docker", "system", "dial-stdio"]


# ssh to a Compose VM for its engine (DOCKER_HOST=ssh://USER@HOST in the scheduled backup job): the
# VM's engine is the local one. `docker system dial-stdio` on it, the connection on stdin/stdout,
# with the address the test's engine has ($DRIVE_DOCKER_HOST; unset = the default socket), never
# the ssh:// one of the caller (that would dial this stand-in again).
if program == "ssh" and dial_stdio(args):
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    if os.environ.get("DRIVE_DOCKER_HOST"):
        env["DOCKER_HOST"] = os.environ["DRIVE_DOCKER_HOST"]
    sys.stdout.flush()
    os.execve(DOCKER, [DOCKER, "system", "dial-stdio"], env)
# `northflank login -n CONTEXT -t TOKEN` stores a context on the runner; nothing to drive: recorded, done.
if program == "northflank" and args[:1] == ["login"]:
    sys.exit(0)
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


def opt(name, default=None):
    return protocol._opt(args, name, default)


def get(remote, local):
    return subprocess.run([DOCKER, "cp", f"{container}:{remote}", local], stdout=subprocess.DEVNULL).returncode


# kubectl: the Deployment is the container $DRIVE_CONTAINER (scale 0/1 = docker stop/start, its
# image = the container's), a pod applied from a JSON manifest is a container named
# $DRIVE_CONTAINER-<pod> with the Deployment's volumes (--volumes-from), as its user.
def pod_container(name):
    return f"{container}-{name}"


def running(name):
    out = subprocess.run([DOCKER, "inspect", "-f", "{{.State.Running}} {{if .State.Health}}{{.State.Health.Status}}"
                          "{{end}}", name], capture_output=True, text=True).stdout.split()
    return out


def wait_until(check, seconds=600):
    import time
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return 0
        time.sleep(1)
    print(f"kubectl: driving stand-in: timed out waiting", file=sys.stderr)
    return 1


if program == "kubectl" and args[:1] == ["exec"] and "--" in args:
    cmd = args[args.index("--") + 1:]
    target = [a for a in args[1:args.index("--")] if not a.startswith("-") and a != opt("-n") and a != opt("-c")]
    name = container if not target or target[0].startswith("deploy/") else pod_container(target[0])
    sys.exit(docker("exec", "-i", "-u", "1000", name, *cmd))
if program == "kubectl" and args[:2] == ["get", "deployment"]:
    sys.exit(docker("inspect", "-f", "{{.Config.Image}}", container))
if program == "kubectl" and args[:1] == ["scale"]:
    replicas = next(a.split("=", 1)[1] for a in args if a.startswith("--replicas="))
    if replicas == "0":
        sys.exit(docker("stop", "-t", "90", container))
    recreate = os.environ.get("DRIVE_POD_RUN")  # a new pod, as the Deployment makes one: fresh emptyDirs
    if recreate:
        docker("rm", "-f", container)
        sys.exit(docker("run", "-d", "--name", container, *json.loads(recreate)))
    sys.exit(docker("start", container))
if program == "kubectl" and args[:2] == ["wait", "--for=delete"]:
    sys.exit(wait_until(lambda: running(container)[:1] == ["false"]))
if program == "kubectl" and args[:2] == ["apply", "-f"] and args[2] == "-":
    pod = json.load(sys.stdin)
    spec = pod["spec"]["containers"][0]
    uid = pod["spec"]["securityContext"]["runAsUser"]
    env = [f for e in spec.get("env", []) for f in ("-e", f"{e['name']}={e['value']}")]
    sys.exit(docker("run", "-d", "--name", pod_container(pod["metadata"]["name"]), "--volumes-from", container,
                    "-u", f"{uid}:{uid}", *env, "--entrypoint", spec["command"][0], spec["image"], *spec["command"][1:]))
if program == "kubectl" and args[:2] == ["wait", "--for=condition=Ready"]:
    sys.exit(wait_until(lambda: running(pod_container(args[2].split("/", 1)[1]))[:1] == ["true"]))
if program == "kubectl" and args[:2] == ["delete", "pod"]:
    subprocess.run([DOCKER, "rm", "-f", pod_container(args[2])], capture_output=True)
    sys.exit(0)
if program == "kubectl" and args[:2] == ["rollout", "status"]:
    # running is enough here: ops waits for the gateway's own /startupz through exec afterwards
    sys.exit(wait_until(lambda: running(container)[:1] == ["true"]))


def fly_flag(name):
    return args[args.index(name) + 1] if name in args else None


if program == "fly" and args[:2] in (["machine", "list"], ["machines", "list"]):
    seen = subprocess.run([DOCKER, "inspect", "-f", "{{.Config.Image}} {{.State.Running}}", container],
                          capture_output=True, text=True)
    if seen.returncode:
        print("[]")
        sys.exit(0)
    image, up = seen.stdout.split()
    print(json.dumps([{"id": container, "state": "started" if up == "true" else "stopped",
                       "config": {"image": image, "metadata": {"fly_process_group": "app"}}}]))
    sys.exit(0)
if program == "fly" and args[:1] == ["deploy"]:
    image = fly_flag("--image") or os.environ["DRIVE_FLY_BUILD"]
    values = json.loads(os.environ.get("DRIVE_FLY_ENV", "{}"))
    subprocess.run([DOCKER, "rm", "-f", container], capture_output=True)
    code = subprocess.run([DOCKER, "run", "-d", "--name", container, *json.loads(os.environ["DRIVE_FLY_RUN"]),
                           *[f for k in values for f in ("-e", k)], image, *json.loads(os.environ["DRIVE_FLY_CMD"])],
                          env={**os.environ, **values}, stdout=subprocess.DEVNULL).returncode
    if code or fly_flag("--image") or os.environ.get("DRIVE_FLY_FAIL") != "after-start":
        sys.exit(code)
    port = os.environ["DRIVE_FLY_PORT"]
    started = wait_until(lambda: subprocess.run(
        [DOCKER, "exec", container, "node", "/opt/openclaw-deploy/healthcheck.mjs", port, "/startupz"],
        capture_output=True).returncode == 0, seconds=900)
    print("fly: driving stand-in: forced failure after the new release started (DRIVE_FLY_FAIL=after-start)",
          file=sys.stderr)
    sys.exit(1)


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
