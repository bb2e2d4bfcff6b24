"""make backup -> lose the volume -> make restore, through the generated Makefile,
against the real gateway in the generated image on a real engine.

Compose runs the real `docker compose exec`/`cp`. Fly, Railway, Render and
Northflank run their generated image as the platform declares it, with the
platform CLI replaced on PATH by a DRIVING stand-in (tests/standins/drive) that
turns `fly ssh console -C` into `docker exec` on that container, records its
argv, and contacts no platform. Each scenario writes a workspace marker and a
config key, backs up, destroys the volume, restores, and finds both again.

Each scenario also runs the scheduled backup workflow's step (.github/workflows/backup.yml)
as GitHub Actions would, on the gateway it already runs (scheduled_step): the step's `run:`
with its `env:` secrets filled with stand-in values, in a CI shell, through the same driving
stand-ins (Compose: the real docker CLI and compose file over DOCKER_HOST=ssh://, the `ssh`
stand-in dialing the local engine); the artifact is decrypted with the test identity and holds
the marker and config key. Fly, Render, Northflank and Kubernetes then restore THAT archive in
their one restore (make backup's archive is checked, and restored on Railway: the move);
Compose and Railway restore make backup's archive and only check the scheduled one, so no
scenario pays for a second restore.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.container.conftest import (c, health, k8s_pod_volumes, logs, run_platform, shared_image, token, unique,
                                      wait_healthy)
from tests.container.test_compose import compose_up, write_env
from tests.e2e.harness import free_port
from tests.standins import protocol

DRIVE = Path(__file__).resolve().parents[1] / "standins" / "drive"
MARKER = "restored-marker-7f3a"
# a loaded CI machine boots the gateway slowly (a start can time out: "state lease heartbeat
# did not become ready"); the platforms restart a process that exits non-zero, so does this
SLOW_BOOT = ["--health-start-period=600s", "--restart", "on-failure"]


def make_env(tmp: Path, **extra: str) -> dict[str, str]:
    """PATH: the driving stand-ins first, then a `docker` that is the engine's own client."""
    bindir = tmp / "bin"
    bindir.mkdir(exist_ok=True)
    if not (bindir / "docker").exists():
        (bindir / "docker").symlink_to(c.DOCKER)
    env = {**c.docker_env(), "STANDIN_LOG": str(tmp / "standin.log"), **extra}
    env["PATH"] = os.pathsep.join([str(DRIVE), str(bindir), env["PATH"]])
    return env


def make(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-s", "-o", "venv", f"PY={sys.executable}", *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=900)


def as_node(container: str, script: str, state: str) -> str:
    return c.docker("exec", "-u", "1000", "-e", "HOME=/home/node", "-e", f"OPENCLAW_STATE_DIR={state}", container,
                    "sh", "-c", script).stdout


def seed_state(container: str, state: str, workspace: str) -> None:
    as_node(container, f"echo {MARKER} > {workspace}/marker.txt && "
                       "openclaw config set agents.defaults.timeoutSeconds 123 >/dev/null", state)


def state_survived(container: str, state: str, workspace: str) -> None:
    out = as_node(container, f"cat {workspace}/marker.txt; cat {state}/openclaw.json", state)
    marker, _, config = out.partition("\n")
    assert marker == MARKER, out[:500]
    assert json.loads(config)["agents"]["defaults"]["timeoutSeconds"] == 123


def backed_up(proc: subprocess.CompletedProcess, repo: Path, app: str = "claw-ct") -> Path:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    archive = repo / proc.stdout.strip().splitlines()[-1]  # the local path is the last line
    assert archive.parent == repo / "backups" and archive.name.endswith(".tar.gz"), proc.stdout
    assert archive.stat().st_mode & 0o777 == 0o600
    meta = json.loads(Path(f"{archive}.json").read_text())
    assert meta["app"] == app and meta["size"] == archive.stat().st_size
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert any(n.endswith("/manifest.json") for n in names)
    assert any(n.endswith("/workspace/marker.txt") for n in names), names
    assert not any(n.endswith((".sqlite-wal", ".sqlite-shm")) for n in names)
    # Node's compile cache (~40 MB, filled into the image at build time) is never archived
    assert not [n for n in names if "compile-cache" in n], [n for n in names if "compile-cache" in n][:5]
    return archive


def recorded(tmp: Path) -> list[list[str]]:
    return protocol.argvs(tmp / "standin.log")


@pytest.fixture(scope="module")
def backup_key(tmp_path_factory) -> tuple[Path, str]:
    """A test age identity (the one a user keeps offline) and its public key (backup_recipient)."""
    from pyrage import x25519

    key = x25519.Identity.generate()
    ident = tmp_path_factory.mktemp("age") / "claw-backup.key"
    ident.write_text(f"{key}\n")
    ident.chmod(0o600)
    return ident, str(key.to_public())


# The scheduled job's secrets (ci.yml backup.secrets), as stand-in values: the driving stand-ins
# check none of them. Each secret one holds a `standin-` line that must never be printed or
# reach a CLI's argv; the service id, the ssh target and the host keys are not secrets.
STANDIN_SECRETS = {
    "FLY_BACKUP_TOKEN": "FlyV1 fm2_standin-fly-ssh-token-0001",
    "RAILWAY_TOKEN": "standin-railway-project-token-0001",
    "RENDER_SSH_KEY": "-----BEGIN OPENSSH PRIVATE KEY-----\nstandin-render-ssh-key-0001\n"
                      "-----END OPENSSH PRIVATE KEY-----",
    "RENDER_SSH_KNOWN_HOSTS": "ssh.oregon.render.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyStandin",
    "RENDER_SERVICE_ID": "srv-standin0001",
    "NORTHFLANK_BACKUP_TOKEN": "standin-northflank-api-token-0001",
    "DEPLOY_SSH_KEY": "-----BEGIN OPENSSH PRIVATE KEY-----\nstandin-vm-ssh-key-0001\n"
                      "-----END OPENSSH PRIVATE KEY-----",
    "DEPLOY_SSH_KNOWN_HOSTS": "203.0.113.7 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyStandin",
    "DEPLOY_SSH_TARGET": "deploy@203.0.113.7",
    "KUBECONFIG_BACKUP": "apiVersion: v1\nkind: Config\nusers:\n- name: ci-backup\n  user:\n"
                         "    token: standin-kube-sa-token-0001",
}
SECRET_EXPR = re.compile(r"\$\{\{\s*secrets\.(\w+)\s*\}\}")
SETTING_EXPR = re.compile(r"\$\{\{\s*(vars|secrets)\.(\w+)\s*\}\}")
# what CI has not: the test's own project, file list, engine address and cluster config
NOT_IN_CI = ("COMPOSE_FILE", "COMPOSE_PROJECT_NAME", "DOCKER_HOST", "KUBECONFIG")


@dataclass
class Scheduled:
    calls: list[list[str]]  # the platform CLI calls the step made
    home: Path              # the runner's HOME (where ssh config goes)
    sealed: Path            # the .age file the job keeps, in $RUNNER_TEMP/encrypted (what later steps upload)
    archive: Path           # the artifact, decrypted into backups/: what `make restore` takes
    step_s: float           # the step itself
    total_s: float          # step + checks + decrypt


def holds_state(archive: Path) -> None:
    """The archive carries the seeded state (seed_state): the marker and the config key."""
    with tarfile.open(archive) as tar:
        members = {m.name: m for m in tar.getmembers() if m.isfile()}
        marker = [n for n in members if n.endswith("/workspace/marker.txt")]
        assert len(marker) == 1, sorted(members)[:20]
        assert tar.extractfile(members[marker[0]]).read().decode().strip() == MARKER
        configs = [json.loads(tar.extractfile(members[n]).read()) for n in members if n.endswith("/openclaw.json")]
    assert any(cfg.get("agents", {}).get("defaults", {}).get("timeoutSeconds") == 123 for cfg in configs), configs


def scheduled_step(repo: Path, env: dict[str, str], container: str, state: str, identity: Path, tmp: Path,
                   app: str = "claw-ct") -> Scheduled:
    """The scheduled backup workflow's step, run as GitHub Actions would, against the gateway
    already running in ``container`` (seeded: seed_state), then what a user does with its artifact.

    The step's `run:` comes from the generated .github/workflows/backup.yml, run by bash in the
    repo with its `env:` secrets filled in (STANDIN_SECRETS), the variables the runner sets
    (GITHUB_ACTIONS, CI, RUNNER_TEMP, HOME) and the driving stand-ins of ``env`` on PATH; what
    CI has not (NOT_IN_CI) is left out. `make venv` runs for real. Only the .age file may be
    left: nothing in the job's temp, the repo or the container; no secret printed or on a
    CLI's argv. `make decrypt` with ``identity`` turns it into an archive that holds the seeded
    state. The scenario then restores that archive with its own `make restore` (Fly, Render,
    Northflank, Kubernetes), so a scheduled backup costs a scenario the step, not another restore."""
    started = time.monotonic()
    (job,) = yaml.safe_load((repo / ".github/workflows/backup.yml").read_text())["jobs"].values()
    (step,) = [s for s in job["steps"] if "ops.backup scheduled" in s.get("run", "")]
    runner = Path(tempfile.mkdtemp(prefix="runner-temp-", dir=tmp))
    home = Path(tempfile.mkdtemp(prefix="runner-home-", dir=tmp))
    used = [name for value in step["env"].values() for name in SECRET_EXPR.findall(value)]
    needles = [line for name in used for line in STANDIN_SECRETS[name].splitlines() if "standin-" in line]
    assert used and needles, step["env"]
    step_env = {k: v for k, v in env.items() if k not in NOT_IN_CI}
    step_env.update({
        "GITHUB_ACTIONS": "true", "CI": "true", "RUNNER_TEMP": str(runner), "HOME": str(home),
        # the runner's tool caches (uv, its downloads) stay where this machine keeps them
        "XDG_DATA_HOME": os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share"),
        "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache"),
        "DRIVE_DOCKER_HOST": env.get("DOCKER_HOST", ""),
        **{k: SECRET_EXPR.sub(lambda mt: STANDIN_SECRETS[mt.group(1)], v) for k, v in step["env"].items()}})
    before = len(recorded(tmp))
    plain_before = {p for p in repo.rglob("*.tar.gz") if ".venv" not in p.parts}
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=repo,
                          env=step_env, capture_output=True, text=True, timeout=900)
    step_s = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout + proc.stderr + logs(container)[-2000:]
    assert not [n for n in needles if n in proc.stdout + proc.stderr]
    sealed = Path(proc.stdout.strip().splitlines()[-1])
    assert sealed.parent == runner / "encrypted" and sealed.name.startswith(f"{app}-"), sealed
    assert sealed.name.endswith(".tar.gz.age")
    # only the encrypted file is left: nothing in the job's temp, the workspace or the container
    assert [p for p in runner.rglob("*") if p.is_file()] == [sealed]
    assert sealed.read_bytes().startswith(b"age-encryption.org/v1\n")
    assert {p for p in repo.rglob("*.tar.gz") if ".venv" not in p.parts} == plain_before
    assert not as_node(container, "ls -A /tmp/openclaw-backup", state).strip()
    calls = recorded(tmp)[before:]
    assert calls
    # no secret on an argv; `northflank login -t TOKEN` is that CLI's way in (ops/platforms/northflank.py)
    assert not [c_ for c_ in calls if c_[:2] != ["northflank", "login"] and any(n in str(c_) for n in needles)]

    # the user's side: the artifact, decrypted with the identity kept offline
    dec = make(repo, env, "decrypt", f"ARCHIVE={sealed}", f"IDENTITY={identity}")
    assert dec.returncode == 0, dec.stderr
    archive = repo / dec.stdout.strip().splitlines()[-1]
    assert archive.name == sealed.name[:-4] and Path(f"{archive}.json").is_file()
    holds_state(archive)
    total = time.monotonic() - started
    print(f"scheduled step {app} ({repo.name}): step {step_s:.1f} s, with checks and decrypt {total:.1f} s")
    return Scheduled(calls, home, sealed, archive, step_s, total)


def bucket_roundtrip(repo: Path, env: dict[str, str], sealed: Path, tmp: Path, app: str = "claw-ct") -> None:
    """The backup workflow's bucket step (BACKUP_S3_URL set) after the scheduled step, on its .age,
    against a real S3 server on loopback (moto's server mode, tests/support/s3_server.py): the
    bucket gets that file and only it, and gives back the same bytes the scenario then restores."""
    from tests.support import s3_server

    (job,) = yaml.safe_load((repo / ".github/workflows/backup.yml").read_text())["jobs"].values()
    (step,) = [s for s in job["steps"] if "ops.bucket upload" in s.get("run", "")]
    with s3_server.running() as srv:
        values = {"vars": {"BACKUP_S3_URL": f"s3://{srv.bucket}/{app}", "BACKUP_S3_ENDPOINT": srv.endpoint},
                  "secrets": {"BACKUP_S3_ACCESS_KEY_ID": srv.key_id, "BACKUP_S3_SECRET_ACCESS_KEY": srv.secret}}
        step_env = {k: v for k, v in env.items() if k not in NOT_IN_CI}
        step_env.update({"GITHUB_ACTIONS": "true", "CI": "true", "RUNNER_TEMP": str(sealed.parent.parent),
                         "UV_OFFLINE": "1",
                         **{k: SETTING_EXPR.sub(lambda mt: values[mt.group(1)].get(mt.group(2), ""), v)
                            for k, v in step["env"].items()}})
        up = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=repo,
                            env=step_env, capture_output=True, text=True, timeout=600)
        assert up.returncode == 0, up.stdout + up.stderr
        assert srv.secret not in up.stdout + up.stderr
        assert srv.keys() == [f"{app}/{sealed.name}"]
        back = tmp / "from-bucket" / sealed.name
        back.parent.mkdir()
        srv.client().download_file(srv.bucket, f"{app}/{sealed.name}", str(back))
    assert back.read_bytes() == sealed.read_bytes()


@pytest.mark.runbook_step("make backup", "make restore")
def test_compose_backup_destroy_restore(generate, res, base_image, tmp_path, backup_key):
    """Real `docker compose exec`/`cp` through the generated Makefile; a restore into a
    running gateway is refused; a stopped deploy says so. Then the scheduled step: CI reaches
    the VM's engine with DOCKER_HOST=ssh://USER@HOST and the project the compose file names (the
    app's name, here a unique one: the engine is shared)."""
    app = unique("cmp")
    repo = generate("gcp", "private", app_name=app, backup_recipient=backup_key[1])
    port = free_port()
    write_env(repo, OPENCLAW_GATEWAY_TOKEN=token(), OPENCLAW_GATEWAY_PORT=str(port))
    image = shared_image(repo)  # what `compose up --build` builds from the generated build: section
    override = {"services": {"openclaw-gateway": {"image": image, "healthcheck": {"interval": "2s",
                                                                                  "start_period": "600s"}}}}
    project, gateway = compose_up(repo, res, override, build=False, project=app)
    env = make_env(tmp_path, COMPOSE_PROJECT_NAME=project,
                   COMPOSE_FILE=os.pathsep.join(["docker-compose.yml", "compose.test-override.yml"]))
    state, workspace = "/home/node/.openclaw", "/home/node/.openclaw/workspace"
    seed_state(gateway, state, workspace)
    archive = backed_up(make(repo, env, "backup"), repo, app)
    assert "backups/" in (repo / ".gitignore").read_text() and "backups" in (repo / ".dockerignore").read_text()
    assert not c.docker("exec", gateway, "ls", "/tmp/openclaw-backup").stdout.strip()  # removed in the container

    # the activation step alone refuses while the gateway runs
    refused = c.docker("exec", "-u", "1000", gateway, "node", "/opt/openclaw-deploy/restore.mjs", "activate",
                       f"{state}/.openclaw-maintenance", "/tmp/x", "t", check=False)
    assert refused.returncode == 1 and "no maintenance state" in refused.stderr

    # lose both volumes: a fresh, seeded gateway without the marker
    files = [repo / "docker-compose.yml", repo / "compose.test-override.yml"]
    c.compose(repo, project, "down", "-v", "-t", "30", files=files, timeout=300)
    stopped = make(repo, env, "backup")
    lines = stopped.stderr.strip().splitlines()
    assert stopped.returncode and len(lines) == 2 and lines[1].startswith("make:"), stopped.stderr  # ours + make's
    assert lines[0].startswith("backup: cannot reach the gateway") and "stopped" in lines[0]
    c.compose(repo, project, "up", "-d", "--wait", "--wait-timeout", "240", files=files, timeout=600)
    gateway = c.compose(repo, project, "ps", "-q", "openclaw-gateway", files=files).stdout.strip()
    assert as_node(gateway, f"cat {workspace}/marker.txt 2>/dev/null || true", state).strip() == ""

    proc = make(repo, env, "restore", f"ARCHIVE={archive.relative_to(repo)}", "ARGS=--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr + logs(gateway)[-3000:]
    assert "gateway started on the restored state" in proc.stdout
    assert "plugins install" in proc.stdout  # what the release does not bring back is said
    state_survived(gateway, state, workspace)
    assert health(gateway) == "healthy"
    text = logs(gateway)
    assert "maintenance: over, starting the gateway" in text
    kept = as_node(gateway, f"ls -a {state} {workspace}", state)
    assert ".before-restore-" in kept and ".openclaw-maintenance" not in kept
    # the kept copy stays out of the next backup
    again = backed_up(make(repo, env, "backup"), repo, app)
    with tarfile.open(again) as tar:
        assert not [n for n in tar.getnames() if ".before-restore-" in n or ".openclaw-restore-" in n]

    # the scheduled step on the restored state; its archive is checked, not restored again (the
    # make backup archive above was, through the same `docker compose cp`)
    run = scheduled_step(repo, env, gateway, state, backup_key[0], tmp_path, app=app)
    user, host = STANDIN_SECRETS["DEPLOY_SSH_TARGET"].split("@")
    # every call is the docker CLI's (or compose's) ssh helper to the VM, dialing its engine
    # (the driving ssh: the local one); the command comes as three words or one
    assert all(call[0] == "ssh" and call[call.index("-l") + 1] == user
               and " ".join(call[call.index("--") + 1:]).split() == [host, "docker", "system", "dial-stdio"]
               for call in run.calls), run.calls
    config = (run.home / ".ssh" / "config").read_text()
    assert f"Host {host}" in config and "StrictHostKeyChecking yes" in config


@pytest.fixture
def platform_run(generate, res, base_image, tmp_path):
    """run(platform) -> (repo, container, env): the platform's generated image, run as it
    declares, with the driving stand-ins on PATH aimed at that container."""
    def _run(platform: str, volume: str | None = None, answers: dict | None = None, **env: str):
        repo = generate(platform, "private", **(answers or {}))
        image = shared_image(repo)
        name, _, volume = run_platform(repo, image, res, volume=volume, extra=SLOW_BOOT)
        wait_healthy(name, timeout=600)
        return repo, name, volume, image, make_env(tmp_path, DRIVE_CONTAINER=name, **env)
    return _run


@pytest.mark.runbook_step("make venv", "make decrypt")
def test_fly_backup_restore_then_move_to_railway(platform_run, res, tmp_path, backup_key):
    """Fly: `fly ssh console -C` + `fly ssh sftp get/put`; the Fly archive then restores
    onto Railway (state at /data instead of /data/.openclaw: moving platforms). On each, the
    scheduled step too (`fly ssh` with the app's ssh token; `railway ssh --service --environment`),
    and on Fly the bucket step after it (bucket_roundtrip)."""
    answers = {"backup_recipient": backup_key[1]}
    repo, name, volume, image, env = platform_run("fly", answers=answers)
    seed_state(name, "/data", "/data/workspace")
    archive = backed_up(make(repo, env, "backup"), repo)
    calls = recorded(tmp_path)
    assert any(call[:4] == ["fly", "ssh", "sftp", "get"] for call in calls), calls
    assert all(call[:2] == ["fly", "ssh"] and "claw-ct" in call for call in calls)
    assert any("-u" in call and call[call.index("-u") + 1] == "node" for call in calls)
    run = scheduled_step(repo, env, name, "/data", backup_key[0], tmp_path)
    assert all(call[:2] == ["fly", "ssh"] and "claw-ct" in call for call in run.calls), run.calls
    bucket_roundtrip(repo, env, run.sealed, tmp_path)  # the optional bucket: the same .age, bytes back

    # the volume is lost: a new machine on a new volume; the scheduled backup's artifact restores
    c.docker("rm", "-f", name)
    c.docker("volume", "rm", volume)
    fresh, _, _ = run_platform(repo, image, res, extra=SLOW_BOOT)
    wait_healthy(fresh, timeout=600)
    env["DRIVE_CONTAINER"] = fresh
    proc = make(repo, env, "restore", f"ARCHIVE={run.archive}", "ARGS=--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr + logs(fresh)[-3000:]
    state_survived(fresh, "/data", "/data/workspace")
    assert any(call[:4] == ["fly", "ssh", "sftp", "put"] for call in recorded(tmp_path))

    # moving platforms: the make backup archive onto a Railway deploy of the same app
    railway, rname, _, _, renv = platform_run("railway", answers=answers)
    proc = make(railway, renv, "restore", f"ARCHIVE={archive}", "ARGS=--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr + logs(rname)[-3000:]
    state_survived(rname, "/data/.openclaw", "/data/workspace")
    assert any(call[:2] == ["railway", "ssh"] for call in recorded(tmp_path))
    kept = as_node(rname, "ls -a /data", "/data/.openclaw")
    assert ".openclaw.before-restore-" in kept
    # Railway's scheduled step: its archive is checked, not restored again (the move just restored one)
    run = scheduled_step(railway, renv, rname, "/data/.openclaw", backup_key[0], tmp_path)
    # no linked directory in CI: the service and the environment on the argv
    assert all(call[:5] == ["railway", "ssh", "--service", "claw-ct", "--environment"] for call in run.calls), run.calls


@pytest.mark.parametrize("platform", ["render", "northflank"])
def test_stream_and_cli_copy_platforms(platform_run, tmp_path, platform, backup_key):
    """Render (ssh, streamed with cat) and Northflank (exec, streamed as base64: its CLI has no file copy):
    back up (make backup, and the scheduled step: Render's ssh with the job's key and pinned host
    key, Northflank's `northflank login` + exec), change the state, restore: the backed-up state is back."""
    repo, name, _, _, env = platform_run(platform, answers={"backup_recipient": backup_key[1]},
                                         RENDER_SERVICE_ID=STANDIN_SECRETS["RENDER_SERVICE_ID"])
    seed_state(name, "/data/.openclaw", "/data/workspace")
    backed_up(make(repo, env, "backup"), repo)
    run = scheduled_step(repo, env, name, "/data/.openclaw", backup_key[0], tmp_path)
    # the restore takes the scheduled backup's artifact (the make backup archive is checked above)
    as_node(name, "echo changed > /data/workspace/marker.txt", "/data/.openclaw")
    proc = make(repo, env, "restore", f"ARCHIVE={run.archive}", "ARGS=--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr + logs(name)[-3000:]
    state_survived(name, "/data/.openclaw", "/data/workspace")
    programs = {call[0] for call in recorded(tmp_path)}
    assert programs == ({"ssh"} if platform == "render" else {"northflank"}), programs
    if platform == "render":
        host = "ssh.oregon.render.com"
        assert all(call[:2] == ["ssh", f"{STANDIN_SECRETS['RENDER_SERVICE_ID']}@{host}"] for call in run.calls)
        config = (run.home / ".ssh" / "config").read_text()
        assert f"Host {host}" in config and "StrictHostKeyChecking yes" in config
    else:
        assert run.calls[0] == ["northflank", "login", "-n", "backup", "-t", STANDIN_SECRETS["NORTHFLANK_BACKUP_TOKEN"]]
        assert all(call[:3] == ["northflank", "exec", "service"] for call in run.calls[1:]), run.calls


def test_kubernetes_official_image_restore_through_a_restore_pod(generate, res, base_image, tmp_path, backup_key):
    """Kubernetes on the official image (no maintenance entrypoint): `make restore` scales the
    Deployment to 0, runs a restore pod (same image, the claim mounted) that stages and swaps
    with the release's own `openclaw backup restore`, deletes it and scales back to 1. The pod
    is run as the manifest declares (tests/container/test_kubernetes.py); kubectl is the driving
    stand-in (scale = stop/start of that container, the restore pod = a container on its volumes)."""
    from tests.container.test_kubernetes import _flags
    from tests.e2e.harness import launch_spec

    repo = generate("kubernetes", "private", backup_recipient=backup_key[1])
    objects = launch_spec(repo).declared.k8s_objects
    pod = next(o for o in objects if o["kind"] == "Deployment")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = k8s_pod_volumes(pod, objects, res, base_image, tmp_path)
    init = pod["initContainers"][0]
    c.docker("run", "--rm", *_flags(init, pod, volumes, mounts), "--entrypoint", init["command"][0], init["image"],
             *init["command"][1:])
    main = pod["containers"][0]
    name = unique("pod")
    res.containers += [name, f"{name}-claw-ct-restore"]  # the gateway's pod, the restore pod
    pod_run = [*_flags(main, pod, volumes, mounts), "-e", f"OPENCLAW_GATEWAY_TOKEN={token()}", main["image"],
               *main["args"]]
    c.docker("run", "-d", "--name", name, *pod_run)
    # scale to 1 makes a new pod (fresh emptyDirs), not a restart of the old one
    env = make_env(tmp_path, DRIVE_CONTAINER=name, DRIVE_POD_RUN=json.dumps(pod_run))
    state, workspace = "/home/node/.openclaw", "/home/node/.openclaw/workspace"
    port = next(p["containerPort"] for p in main["ports"] if p["name"] == "http")
    for _ in range(300):  # the gateway's own /startupz, asked inside the pod
        if c.docker("exec", name, "node", "-e", f"fetch('http://127.0.0.1:{port}/startupz').then(r=>r.json())"
                    ".then(b=>process.exit(b.status==='started'?0:1)).catch(()=>process.exit(1))",
                    check=False).returncode == 0:
            break
        time.sleep(2)
    seed_state(name, state, workspace)
    backed_up(make(repo, env, "backup"), repo)
    # the scheduled step: kubectl exec with the ci-backup account's kubeconfig; the restore below
    # takes its artifact (the make backup archive is checked above)
    run = scheduled_step(repo, env, name, state, backup_key[0], tmp_path)
    assert all(call[:2] == ["kubectl", "exec"] and "deploy/claw-ct" in call for call in run.calls), run.calls
    as_node(name, f"echo changed > {workspace}/marker.txt && openclaw config set agents.defaults.timeoutSeconds 7 "
                  ">/dev/null", state)

    proc = make(repo, env, "restore", f"ARCHIVE={run.archive}", "ARGS=--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr + logs(name)[-3000:]
    out = proc.stdout
    assert "scaled to 0" in out and "scaled back to 1" in out and "gateway started on the restored state" in out
    state_survived(name, state, workspace)
    verbs = [call[1:3] for call in recorded(tmp_path) if call[0] == "kubectl"]
    assert ["scale", f"deployment/{'claw-ct'}"] in verbs and ["apply", "-f"] in verbs and ["delete", "pod"] in verbs
    assert c.docker("ps", "-aq", "--filter", f"name={name}-claw-ct-restore").stdout.strip() == ""  # pod deleted
    kept = as_node(name, f"ls -a {state} /home/node", state)
    assert ".before-restore-" in kept
