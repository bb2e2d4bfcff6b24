"""make backup -> lose the volume -> make restore, through the generated Makefile,
against the real gateway in the generated image on a real engine.

Compose runs the real `docker compose exec`/`cp`. Fly, Railway, Render and
Northflank run their generated image as the platform declares it, with the
platform CLI replaced on PATH by a DRIVING stand-in (tests/standins/drive) that
turns `fly ssh console -C` into `docker exec` on that container, records its
argv, and contacts no platform. Each scenario writes a workspace marker and a
config key, backs up, destroys the volume, restores, and finds both again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

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


def backed_up(proc: subprocess.CompletedProcess, repo: Path) -> Path:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    archive = repo / proc.stdout.strip().splitlines()[-1]  # the local path is the last line
    assert archive.parent == repo / "backups" and archive.name.endswith(".tar.gz"), proc.stdout
    assert archive.stat().st_mode & 0o777 == 0o600
    meta = json.loads(Path(f"{archive}.json").read_text())
    assert meta["app"] == "claw-ct" and meta["size"] == archive.stat().st_size
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


def test_compose_backup_destroy_restore(generate, res, base_image, tmp_path):
    """Real `docker compose exec`/`cp` through the generated Makefile; a restore into a
    running gateway is refused; a stopped deploy says so."""
    repo = generate("gcp", "private")
    port = free_port()
    write_env(repo, OPENCLAW_GATEWAY_TOKEN=token(), OPENCLAW_GATEWAY_PORT=str(port))
    image = shared_image(repo)  # what `compose up --build` builds from the generated build: section
    override = {"services": {"openclaw-gateway": {"image": image, "healthcheck": {"interval": "2s",
                                                                                  "start_period": "600s"}}}}
    project, gateway = compose_up(repo, res, override, build=False)
    env = make_env(tmp_path, COMPOSE_PROJECT_NAME=project,
                   COMPOSE_FILE=os.pathsep.join(["docker-compose.yml", "compose.test-override.yml"]))
    state, workspace = "/home/node/.openclaw", "/home/node/.openclaw/workspace"
    seed_state(gateway, state, workspace)
    archive = backed_up(make(repo, env, "backup"), repo)
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
    again = backed_up(make(repo, env, "backup"), repo)
    with tarfile.open(again) as tar:
        assert not [n for n in tar.getnames() if ".before-restore-" in n or ".openclaw-restore-" in n]


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


def test_fly_backup_restore_then_move_to_railway(platform_run, res, tmp_path):
    """Fly: `fly ssh console -C` + `fly ssh sftp get/put`; the Fly archive then restores
    onto Railway (state at /data instead of /data/.openclaw: moving platforms)."""
    repo, name, volume, image, env = platform_run("fly")
    seed_state(name, "/data", "/data/workspace")
    archive = backed_up(make(repo, env, "backup"), repo)
    calls = recorded(tmp_path)
    assert any(call[:4] == ["fly", "ssh", "sftp", "get"] for call in calls), calls
    assert all(call[:2] == ["fly", "ssh"] and "claw-ct" in call for call in calls)
    assert any("-u" in call and call[call.index("-u") + 1] == "node" for call in calls)

    # the volume is lost: a new machine on a new volume
    c.docker("rm", "-f", name)
    c.docker("volume", "rm", volume)
    fresh, _, _ = run_platform(repo, image, res, extra=SLOW_BOOT)
    wait_healthy(fresh, timeout=600)
    env["DRIVE_CONTAINER"] = fresh
    proc = make(repo, env, "restore", f"ARCHIVE={archive}", "ARGS=--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr + logs(fresh)[-3000:]
    state_survived(fresh, "/data", "/data/workspace")
    assert any(call[:4] == ["fly", "ssh", "sftp", "put"] for call in recorded(tmp_path))

    # moving platforms: the same archive onto a Railway deploy of the same app
    railway, rname, _, _, renv = platform_run("railway")
    proc = make(railway, renv, "restore", f"ARCHIVE={archive}", "ARGS=--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr + logs(rname)[-3000:]
    state_survived(rname, "/data/.openclaw", "/data/workspace")
    assert any(call[:2] == ["railway", "ssh"] for call in recorded(tmp_path))
    kept = as_node(rname, "ls -a /data", "/data/.openclaw")
    assert ".openclaw.before-restore-" in kept


@pytest.mark.parametrize("platform", ["render", "northflank"])
def test_stream_and_cli_copy_platforms(platform_run, tmp_path, platform):
    """Render (ssh, streamed with cat) and Northflank (exec, streamed as base64: its CLI has no file copy):
    back up, change the state, restore: the backed-up state is back."""
    repo, name, _, _, env = platform_run(platform, RENDER_SERVICE_ID="srv-standin0001")
    seed_state(name, "/data/.openclaw", "/data/workspace")
    archive = backed_up(make(repo, env, "backup"), repo)
    as_node(name, "echo changed > /data/workspace/marker.txt", "/data/.openclaw")
    proc = make(repo, env, "restore", f"ARCHIVE={archive}", "ARGS=--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr + logs(name)[-3000:]
    state_survived(name, "/data/.openclaw", "/data/workspace")
    programs = {call[0] for call in recorded(tmp_path)}
    assert programs == ({"ssh"} if platform == "render" else {"northflank"}), programs


def test_kubernetes_official_image_restore_through_a_restore_pod(generate, res, base_image, tmp_path):
    """Kubernetes on the official image (no maintenance entrypoint): `make restore` scales the
    Deployment to 0, runs a restore pod (same image, the claim mounted) that stages and swaps
    with the release's own `openclaw backup restore`, deletes it and scales back to 1. The pod
    is run as the manifest declares (tests/container/test_kubernetes.py); kubectl is the driving
    stand-in (scale = stop/start of that container, the restore pod = a container on its volumes)."""
    from tests.container.test_kubernetes import _flags
    from tests.e2e.harness import launch_spec

    repo = generate("kubernetes", "private")
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
    archive = backed_up(make(repo, env, "backup"), repo)
    as_node(name, f"echo changed > {workspace}/marker.txt && openclaw config set agents.defaults.timeoutSeconds 7 "
                  ">/dev/null", state)

    proc = make(repo, env, "restore", f"ARCHIVE={archive}", "ARGS=--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr + logs(name)[-3000:]
    out = proc.stdout
    assert "scaled to 0" in out and "scaled back to 1" in out and "gateway started on the restored state" in out
    state_survived(name, state, workspace)
    verbs = [call[1:3] for call in recorded(tmp_path) if call[0] == "kubectl"]
    assert ["scale", f"deployment/{'claw-ct'}"] in verbs and ["apply", "-f"] in verbs and ["delete", "pod"] in verbs
    assert c.docker("ps", "-aq", "--filter", f"name={name}-claw-ct-restore").stdout.strip() == ""  # pod deleted
    kept = as_node(name, f"ls -a {state} /home/node", state)
    assert ".before-restore-" in kept
