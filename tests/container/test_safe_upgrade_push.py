"""The safe upgrade on Fly through the generated `make deploy` (ops.safe_upgrade fly), against the
real gateway of two published releases (2026.8.2 -> 2026.9.6) in the engine.

`fly` is the DRIVING stand-in of tests/standins/drive (it contacts no platform and deploys
nothing): the app's one machine is a local container; `fly ssh console -C`/`sftp` are `docker
exec`/`cp` on it, `fly machine list --json` reports its image, `fly deploy [--image]` replaces it on
the same volume. The images are the ones tests/container/test_upgrade.py builds (its `releases`
fixture: the same Dockerfile and entrypoint for a given release; no image is built for this file),
run the way the Fly repo declares it (fly.toml: command, env, /data mount, memory). They are the
Render-generated build of each release, so one thing differs from a Fly build, not on the path
under test: the maintenance responder's default port (8080; nothing probes it here: the safe path
reads the watch flag through exec).

1. a good upgrade: the new release started on the migrated state, the pre-update backup kept
   under backups/, no flag left;
2. a failure after the new release started (the stand-in fails the deploy once /startupz says
   started; an image-only rollback is refused on that state, test_upgrade.py): the previous image
   back with `fly deploy --image`, held, the pre-update backup restored by the old release, which
   starts on its own state (marker and config key there).
The seconds each took are printed (pytest -s), never asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import copy_template
from tests.container.conftest import Resources, c, logs, platform_run_args, token
from tests.container.test_backup import make_env, seed_state, state_survived
from tests.container.test_upgrade import APP, NEW, OLD, SAME_HOST, name, release_of, releases, started  # noqa: F401
from tests.standins import protocol


@pytest.fixture(scope="module")
def fly_repos(template_repo, tmp_path_factory):
    """The Fly repo at the new pin: its fly.toml says how the machine runs, its Makefile deploys."""
    work = tmp_path_factory.mktemp("fly-upgrade")
    answers = {"platform": "fly", "privacy": "private", "app_name": APP, "openclaw_version": NEW}
    return {"new": copy_template(template_repo, work / "new", answers)}


@pytest.fixture
def fly_app(releases, fly_repos, tmp_path):  # noqa: F811
    """deploy(fail) -> (make's result, machine, env, seconds): 2026.8.2 running as the app's one
    machine with a marker and a config key, then `make deploy` of the 2026.9.6 repo."""
    res = Resources()

    def _deploy(fail: str = ""):
        volume = name("vol")
        c.docker("volume", "create", volume)
        res.volumes.append(volume)
        machine = name("fly")
        res.containers.append(machine)
        flags, command, declared_env, port = platform_run_args(fly_repos["new"], volume)
        values = {**declared_env, "OPENCLAW_GATEWAY_TOKEN": token()}
        run = [*flags, *SAME_HOST]
        c.docker("run", "-d", "--name", machine, *run, *[f for k in values for f in ("-e", k)], releases["old_image"],
                 *command, env={**c.docker_env(), **values})
        started(machine, port)
        seed_state(machine, "/data", "/data/workspace")
        env = make_env(tmp_path, DRIVE_CONTAINER=machine, DRIVE_FLY_RUN=json.dumps(run),
                       DRIVE_FLY_CMD=json.dumps(command), DRIVE_FLY_ENV=json.dumps(values),
                       DRIVE_FLY_BUILD=releases["new_image"], DRIVE_FLY_PORT=str(port), DRIVE_FLY_FAIL=fail,
                       DEPLOY_TIMEOUT="900", POLL_INTERVAL="2")
        began = time.monotonic()
        proc = subprocess.run(["make", "-s", "-o", "venv", f"PY={sys.executable}", "deploy"], cwd=fly_repos["new"],
                              env=env, capture_output=True, text=True, timeout=3600)
        seconds = time.monotonic() - began
        print(f"fly safe upgrade ({fail or 'good'}): {seconds:.0f} s\n{proc.stdout}{proc.stderr}")
        return proc, machine, port, tmp_path, seconds

    try:
        yield _deploy
    finally:
        res.cleanup()


@pytest.mark.runbook_step("make deploy")
def test_fly_safe_upgrade_ends_on_the_new_release_with_the_backup_kept(fly_app, fly_repos):
    proc, machine, _, tmp, _ = fly_app()
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out + logs(machine)[-3000:]
    assert f"runs openclaw {OLD}" in out and f"openclaw {NEW} started" in out
    assert release_of(machine) == NEW
    state_survived(machine, "/data", "/data/workspace")
    kept = out.split("the pre-update backup stays at ", 1)[1].split()[0]
    archive = fly_repos["new"] / kept
    assert archive.is_file() and Path(f"{archive}.json").is_file()
    assert json.loads(Path(f"{archive}.json").read_text())["app"] == APP
    top = c.docker("exec", machine, "ls", "-a", "/data").stdout.split()
    assert ".openclaw-upgrade" not in top and ".openclaw-maintenance" not in top
    calls = protocol.argvs(tmp / "standin.log")
    deploys = [call for call in calls if call[:2] == ["fly", "deploy"]]
    assert deploys == [["fly", "deploy", "-a", APP]], deploys  # built by fly (here: the stand-in), no --image
    backup = next(i for i, call in enumerate(calls) if call[:3] == ["fly", "ssh", "console"]
                  and "openclaw backup create" in call[-1])
    assert backup < calls.index(deploys[0])


def test_fly_failure_after_start_rolls_back_with_fly_deploy_image_and_restores(fly_app, releases):  # noqa: F811
    proc, machine, port, tmp, _ = fly_app("after-start")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert f"rolled back: openclaw {OLD} started on the pre-update state" in out, out[-3000:]
    calls = protocol.argvs(tmp / "standin.log")
    deploys = [call for call in calls if call[:2] == ["fly", "deploy"]]
    assert deploys == [["fly", "deploy", "-a", APP], ["fly", "deploy", "-a", APP, "--image", releases["old_image"]]]
    assert release_of(machine) == OLD
    started(machine, port, timeout=120)
    state_survived(machine, "/data", "/data/workspace")
    top = c.docker("exec", machine, "ls", "-a", "/data").stdout.split()
    assert ".openclaw-upgrade" not in top and ".openclaw-maintenance" not in top
    assert "the state the new release left is kept as" in out, out[-3000:]
    assert any(line.startswith("upgrade: rollback with restore: ") for line in out.splitlines()), out
