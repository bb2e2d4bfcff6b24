"""make restore on a Kubernetes deploy that runs the official image (no entrypoint of this
repo, so no maintenance state inside the pod): the gateway is scaled away instead.

1. the image the Deployment runs now (its gateway container);
2. ``kubectl scale --replicas=0`` and a wait until the gateway's pod is gone (nothing
   writes the claim any more);
3. a restore pod: that image, the same user, the PVC mounted where the gateway has it,
   ``sleep``; the archive is uploaded into it through ``kubectl exec -i`` and checked
   (size + sha256);
4. this repo's ``docker/restore.mjs`` runs there from stdin (the official image does not
   have it): ``enter`` (the flag), ``stage`` (the release's own ``openclaw backup restore
   --target``), ``activate`` (the swap; the replaced state kept as ``.before-restore-<UTC>``),
   ``leave``;
5. the restore pod is deleted, ``--replicas=1``, rollout status, and a wait until the
   gateway reports started. The Deployment is scaled back to 1 whatever happened.

Stdlib + the deploy model; ops/backup.py calls ``restore`` after its own archive checks.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time
from pathlib import Path
from typing import Callable

from ops import model as m
from ops.backup import (FLAG_NAME, PRIVATE_MARKER, BackupError, env_prefix, kept_text, remote_size_sha, stamp,
                        wait_started)
from ops.remote import Remote, RemoteError, connect

RESTORE_MJS = Path("docker/restore.mjs")
TIMEOUT = "300s"


def kubectl(*args: str, stdin: bytes | None = None, what: str = "", check: bool = True,
            timeout: float = 900) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(["kubectl", *args], input=stdin or b"", capture_output=True, timeout=timeout)
    except FileNotFoundError:
        raise BackupError("restore: `kubectl` is not installed") from None
    except subprocess.TimeoutExpired:
        raise BackupError(f"restore: {what or 'kubectl ' + args[0]}: no answer within {timeout:.0f} s") from None
    if check and proc.returncode:
        last = (proc.stderr.decode(errors="replace").strip().splitlines() or ["no error output"])[-1]
        raise BackupError(f"restore: {what or 'kubectl ' + ' '.join(args[:2])}: exit {proc.returncode}: {last[:300]}")
    return proc


def pod_manifest(model: m.DeployModel, name: str, image: str) -> dict:
    uid = int(m.openclaw().get("image_uid", 1000))
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": model.app_name,
                     "labels": {"app.kubernetes.io/name": model.app_name, "app.kubernetes.io/component": "restore"}},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid, "fsGroup": uid,
                                "fsGroupChangePolicy": "OnRootMismatch", "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "restore", "image": image, "command": ["sh", "-c", "sleep 3600"],
                "env": [{"name": "HOME", "value": "/tmp"}],
                "volumeMounts": [{"name": "state", "mountPath": model.volume_mount},
                                 {"name": "tmp", "mountPath": "/tmp"}],
                "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]}},
            }],
            "volumes": [{"name": "state", "persistentVolumeClaim": {"claimName": model.volume_name}},
                        {"name": "tmp", "emptyDir": {}}],
        },
    }


def restore(model: m.DeployModel, archive: Path, manifest: dict, *, say: Callable[[str], None] = print,
            remote: Remote | None = None) -> dict:
    ns, app = ["-n", model.app_name], model.app_name
    script = RESTORE_MJS.read_bytes() if RESTORE_MJS.is_file() else None
    if script is None:
        raise BackupError(f"restore: {RESTORE_MJS} is missing in this checkout (make update brings it back)")
    path = '{.spec.template.spec.containers[?(@.name=="gateway")].image}'
    image = kubectl("get", "deployment", app, *ns, "-o", f"jsonpath={path}",
                    what=f"reading deployment/{app}'s image (nothing changed)").stdout.decode().strip()
    if not image:
        raise BackupError(f"restore: deployment/{app} has no gateway container in namespace {app}")
    pod = f"{app}-restore"
    flag = f"{model.volume_mount}/{FLAG_NAME}"
    ts = stamp()
    work = f"{model.volume_mount}/.openclaw-restore-{ts}"
    started = time.monotonic()

    def run(cmd: str, stdin: bytes | None = None, what: str = "") -> bytes:
        return kubectl("exec", "-i", *ns, pod, "--", "sh", "-c", cmd, stdin=stdin, what=what or "kubectl exec").stdout

    def step(*args: str) -> dict:
        cmd = f"{env_prefix(model)} node --input-type=module - {' '.join(shlex.quote(a) for a in args)}"
        proc = kubectl("exec", "-i", *ns, pod, "--", "sh", "-c", cmd, stdin=script, check=False)
        if proc.returncode:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            raise BackupError(err[-1] if err else f"restore: restore.mjs {args[0]} failed ({proc.returncode})")
        return json.loads(proc.stdout.decode().strip().splitlines()[-1])

    kubectl("scale", f"deployment/{app}", *ns, "--replicas=0", what="kubectl scale --replicas=0")
    say(f"restore: deployment/{app} scaled to 0 (the gateway is stopped; nothing writes {model.volume_name})")
    try:
        kubectl("wait", "--for=delete", "pod", "-l", f"app.kubernetes.io/name={app},app.kubernetes.io/component=gateway",
                *ns, f"--timeout={TIMEOUT}", what="waiting for the gateway's pod to go")
        kubectl("apply", "-f", "-", stdin=json.dumps(pod_manifest(model, pod, image)).encode(), what="restore pod")
        kubectl("wait", "--for=condition=Ready", f"pod/{pod}", *ns, f"--timeout={TIMEOUT}", what="restore pod ready")
        run(f"umask 077 && mkdir -p {work} && printf 'openclaw-private-update-capture-v1\\n' > {work}/{PRIVATE_MARKER}"
            f" && cat > {work}/archive.tar.gz", stdin=archive.read_bytes(), what="upload")
        out = run(f"stat -c %s {work}/archive.tar.gz && sha256sum {work}/archive.tar.gz").decode().split()
        if (int(out[0]), out[1]) != (manifest["size"], manifest["sha256"]):
            run(f"rm -rf {work}")
            raise BackupError("restore: the uploaded archive does not match (size or sha256): nothing changed")
        say(f"restore: restore pod {pod} ({image}) has {archive.name} at {work} (size and sha256 checked)")
        step("enter", flag)
        try:
            staged = step("stage", flag, work)
            activated = step("activate", flag, work, ts)  # a failed swap is moved back by restore.mjs
        finally:
            try:
                step("leave", flag, work)
            except BackupError as err:
                say(f"restore: cleaning {work} failed ({err}); remove it by hand")
        say(f"restore: swapped in the archive's state (taken {activated.get('archiveCreated')}); kept the replaced "
            f"state as {kept_text(activated)} until the next restore")
    finally:
        kubectl("delete", "pod", pod, *ns, "--ignore-not-found", "--wait=true", check=False, timeout=300)
        kubectl("scale", f"deployment/{app}", *ns, "--replicas=1", what="kubectl scale --replicas=1")
        say(f"restore: deployment/{app} scaled back to 1")
    kubectl("rollout", "status", f"deployment/{app}", *ns, "--timeout=600s", what="rollout status", check=False)
    remote = remote or connect(model)
    try:
        seconds = wait_started(model, remote)
    except RemoteError as err:
        raise BackupError(f"restore: the gateway did not come back: {err}") from None
    say(f"restore: the gateway started on the restored state ({seconds:.0f} s after the scale-up, "
        f"{time.monotonic() - started:.0f} s in all)")
    for warning in staged.get("warnings", []):
        say(f"restore: note from openclaw: {warning}")
    return {"kept": activated["kept"], "warnings": staged.get("warnings", []), "seconds": seconds}
