"""The safe upgrade on Docker Compose (gcp) through the generated repo's own `make deploy`: real
`docker compose` on a real engine, no stand-in for any command the product runs.

One project, one pair of volumes, one history, two image builds (each release's `docker compose
build` of its generated repo; the third `make deploy` finds its layers cached):

1. `make deploy` of the repo at 2026.8.2: a first deploy (nothing answers), the gateway starts;
   the test writes a workspace marker and a config key through that gateway;
2. `make deploy` of the same app at 2026.9.6 (what `make update -d openclaw_version=...` changes)
   with a FORCED FAILURE after the new release started (below): the pre-update backup is made by
   2026.8.2 and kept; the container turns unhealthy; the safe path holds it, puts the previous
   image back through one more compose file (.openclaw-rollback-*.yml in COMPOSE_FILE), restores
   the pre-update backup with the old release's own `openclaw backup restore`; 2026.8.2 is started
   and healthy on its own state (marker and config key there);
3. `make deploy` at 2026.9.6 again, nothing forced: the restored old release is upgraded, healthy,
   its own pre-update backup kept;
4. everything removed; no container, volume or image of the test is left.

What the test adds to the generated files is only in its own compose files, named by COMPOSE_FILE
as a user would: compose.test-override.yml shortens the health-check interval (as every container
test does); compose.test-fail.yml is the forced failure, used in step 2 only. Its health check, for
the new release, waits until /startupz says started and then fails (retries 1, no start period):
the container turns unhealthy only after the new release started and migrated the state (the
image-only rollback is refused on that state: tests/container/test_upgrade.py). For any other
release it waits until /healthz answers live (the maintenance state included) and passes, so the
rolled-back container is judged as the generated health check would.
The seconds of each phase are printed (pytest -s), never asserted.
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
import yaml

from ops import model as m
from tests.container.conftest import c, health, logs, token
from tests.container.test_backup import seed_state, state_survived
from tests.container.test_compose import write_env
from tests.container.test_upgrade import NEW, OLD, release_of
from tests.e2e.harness import free_port

APP = "compose-upgrade"
SERVICE = "openclaw-gateway"
HEALTHCHECK = "/opt/openclaw-deploy/healthcheck.mjs"
TIMING = "compose.test-override.yml"
FAIL = "compose.test-fail.yml"


def timing_override() -> dict:
    return {"services": {SERVICE: {"healthcheck": {"interval": "2s", "start_period": "600s"}}}}


def failing_override(port: int) -> dict:
    """The forced failure (test): the new release's health check fails once it reports started."""
    version = "node -p \"require('/app/package.json').version\""
    script = (f'if [ "$({version})" = "{NEW}" ]; then '
              f"until node {HEALTHCHECK} {port} /startupz >/dev/null 2>&1; do sleep 1; done; "
              f"echo 'forced failure (test): {NEW} started'; exit 1; fi; "
              f"until node {HEALTHCHECK} {port} /healthz; do sleep 1; done")
    return {"services": {SERVICE: {"healthcheck": {
        "test": ["CMD-SHELL", script.replace("$", "$$")],  # $$: no interpolation by compose
        "interval": "2s", "timeout": "900s", "retries": 1, "start_period": "0s"}}}}


def deploy(repo: Path, env: dict[str, str], *files: str) -> tuple[subprocess.CompletedProcess, float]:
    """The generated `make deploy` (docker compose build, the safe path, docker compose ps)."""
    env = {**env, "COMPOSE_FILE": os.pathsep.join(["docker-compose.yml", *files])}
    began = time.monotonic()
    proc = subprocess.run(["make", "-s", "-o", "venv", f"PY={sys.executable}", "deploy"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=3600)
    return proc, time.monotonic() - began


def gateway(repo: Path, env: dict[str, str]) -> str:
    return c.compose(repo, env["COMPOSE_PROJECT_NAME"], "ps", "-q", SERVICE, env=env).stdout.strip()


def kept_archive(out: str, repo: Path) -> Path:
    kept = Path(out.split("pre-update backup kept at ", 1)[1].split()[0])
    return kept if kept.is_absolute() else repo / kept


def made_by(archive: Path) -> tuple[str, list[str]]:
    """(the release the sidecar names, the versions openclaw's own manifest in the archive names)."""
    sidecar = json.loads(Path(f"{archive}.json").read_text())
    with tarfile.open(archive) as tar:
        member = next(n for n in tar.getnames() if n.endswith("/manifest.json"))
        manifest = json.loads(tar.extractfile(member).read())
    versions = [str(v) for k, v in manifest.items() if "version" in k.lower() and isinstance(v, str)]
    return sidecar["openclaw_version"], versions


def leftovers(project: str) -> list[str]:
    containers = c.docker("ps", "-a", "--filter", f"label=com.docker.compose.project={project}",
                          "--format", "{{.Names}}").stdout.split()
    volumes = [v for v in c.docker("volume", "ls", "-q").stdout.split() if v.startswith(f"{project}_")]
    images = [i for i in c.docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
              if i.startswith(f"{APP}-gateway:")]
    return containers + volumes + images


@pytest.fixture
def compose_repos(generate, base_image, tmp_path):
    """The gcp repo of one app at each release, one .env (the same token and loopback port), one project."""
    project = f"{os.environ.get('OCD_TEST_NAME_PREFIX', 'ocd-test')}-cup-{os.getpid()}"
    port, secret = free_port(), token()
    repos = {}
    for version in (OLD, NEW):
        repo = generate("gcp", "private", app_name=APP, openclaw_version=version)
        write_env(repo, OPENCLAW_GATEWAY_TOKEN=secret, OPENCLAW_GATEWAY_PORT=str(port))
        (repo / TIMING).write_text(yaml.safe_dump(timing_override(), sort_keys=False))
        (repo / FAIL).write_text(yaml.safe_dump(failing_override(port), sort_keys=False))
        c.images_for(repo)  # the base image of each release (shared with every test that builds it)
        repos[version] = repo
    bindir = tmp_path / "bin"  # the engine's own docker client first on PATH; no stand-in anywhere
    bindir.mkdir()
    (bindir / "docker").symlink_to(c.DOCKER)
    env = {**c.docker_env(), "COMPOSE_PROJECT_NAME": project, "DEPLOY_TIMEOUT": "900", "POLL_INTERVAL": "2"}
    env["PATH"] = os.pathsep.join([str(bindir), env["PATH"]])
    try:
        yield repos, env, port
    finally:
        c.compose(repos[NEW], project, "down", "-v", "--remove-orphans", "-t", "5", check=False, timeout=300,
                  env={"COMPOSE_FILE": "docker-compose.yml"})
        c.docker("image", "rm", "-f", f"{APP}-gateway:{OLD}", f"{APP}-gateway:{NEW}", check=False, timeout=300)


def test_compose_make_deploy_fails_after_start_rolls_back_with_restore_then_upgrades(compose_repos):
    repos, env, port = compose_repos
    project = env["COMPOSE_PROJECT_NAME"]
    model = m.build(m.answers_from_file(repos[NEW] / ".copier-answers.yml"))
    state, workspace = model.state_dir, model.workspace_dir
    phases: dict[str, float] = {}
    began = time.monotonic()

    # 1. the old release, deployed by its own repo: a first deploy
    proc, phases["first deploy 2026.8.2 (build + up + healthy)"] = deploy(repos[OLD], env, TIMING)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "a plain deploy, without a pre-update backup" in out, out[-3000:]
    first = gateway(repos[OLD], env)
    assert release_of(first) == OLD and health(first) == "healthy"
    seed_state(first, state, workspace)

    # 2. the upgrade, failed after the new release started
    proc, phases["failed upgrade -> rollback with restore"] = deploy(repos[NEW], env, TIMING, FAIL)
    out = proc.stdout + proc.stderr
    print(f"compose safe upgrade (failure after start):\n{out}")
    assert proc.returncode != 0, out[-4000:]
    assert f"runs openclaw {OLD} ({APP}-gateway:{OLD})" in out, out[-3000:]
    assert f"{SERVICE} is unhealthy" in out, out[-3000:]  # the failure came from the container's health check
    assert f"rolled back: openclaw {OLD} started on the pre-update state" in out, out[-3000:]
    back = gateway(repos[NEW], env)
    assert back != first
    forced = json.loads(c.docker("inspect", back).stdout)[0]
    # the previous image, named by one more compose file (removed after `up`)
    labels = forced["Config"]["Labels"]
    assert forced["Config"]["Image"] == f"{APP}-gateway:{OLD}", forced["Config"]["Image"]
    files = labels["com.docker.compose.project.config_files"].split(",")
    assert [Path(f).name for f in files][:3] == ["docker-compose.yml", TIMING, FAIL], files
    assert len(files) == 4 and Path(files[3]).name.startswith(".openclaw-rollback-"), files
    assert not Path(files[3]).exists() and not list(repos[NEW].glob(".openclaw-rollback-*"))
    assert release_of(back) == OLD
    state_survived(back, state, workspace)
    assert health(back) == "healthy", logs(back)[-3000:]
    archive = kept_archive(out, repos[NEW])
    assert archive.parent == repos[NEW] / "backups" and archive.is_file(), archive
    assert archive.stat().st_mode & 0o777 == 0o600
    sidecar, versions = made_by(archive)
    assert sidecar == OLD and OLD in versions and NEW not in versions, (sidecar, versions)
    top = c.docker("exec", back, "ls", "-a", model.volume_mount).stdout.split()
    assert ".openclaw-upgrade" not in top and ".openclaw-maintenance" not in top, top
    assert "the state the new release left is kept as" in out, out[-3000:]
    # 2026.8.2 does not leave the marked kept copy out of its backups: packed (restore.mjs), else the
    # 2026.9.6 databases in it fail its next backup (and so the next upgrade's pre-update backup)
    assert "packed into before-restore.tar" in out, out[-3000:]
    kept = c.docker("exec", back, "sh", "-c", f"ls -a {state}/.before-restore-*").stdout.split()
    assert sorted(kept) == [".", "..", ".openclaw-private-update-capture", "before-restore.tar"], kept
    failed_archive = archive

    # 3. the same upgrade, nothing forced: the restored old release upgraded
    proc, phases["good upgrade (build cached)"] = deploy(repos[NEW], env, TIMING)
    out = proc.stdout + proc.stderr
    print(f"compose safe upgrade (good):\n{out}")
    assert proc.returncode == 0, out[-4000:]
    assert f"openclaw {NEW} started" in out, out[-3000:]
    new = gateway(repos[NEW], env)
    assert release_of(new) == NEW and health(new) == "healthy"
    state_survived(new, state, workspace)
    archive = kept_archive(out, repos[NEW])
    assert archive != failed_archive and failed_archive.is_file() and archive.is_file()
    assert made_by(archive)[0] == OLD
    top = c.docker("exec", new, "ls", "-a", model.volume_mount).stdout.split()
    assert ".openclaw-upgrade" not in top and ".openclaw-maintenance" not in top, top

    # 4. nothing of the test is left
    cleanup = time.monotonic()
    c.compose(repos[NEW], project, "down", "-v", "--remove-orphans", "-t", "30", timeout=300,
              env={"COMPOSE_FILE": "docker-compose.yml"})
    c.docker("image", "rm", f"{APP}-gateway:{OLD}", f"{APP}-gateway:{NEW}", timeout=300)
    phases["down -v + image rm"] = time.monotonic() - cleanup
    assert leftovers(project) == []
    phases["total"] = time.monotonic() - began
    print("compose safe upgrade phases:", *(f"  {k}: {v:.0f} s" for k, v in phases.items()), sep="\n")
