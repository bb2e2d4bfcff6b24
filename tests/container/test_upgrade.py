"""A real upgrade between two published releases, a rollback that fails without the
pre-update backup and one that works with it, and `make rehearse` telling them apart.

One history, shared by every test here (built once per module: both stand-in images of the
official release, one generated repo per release, one volume):

1. 2026.8.2 (the old pin) starts on a fresh volume (Render's layout) and writes a workspace
   marker; a backup is taken in its container with `openclaw backup create --verify`
   (archive A), then it stops;
2. the same repo at 2026.9.6 (what `make update -d openclaw_version=...` changes: the image tag)
   starts on that volume -- the state is migrated -- and is healthy; a backup of the migrated
   state is taken (archive B), then it stops;
3. image-only rollback: 2026.8.2 on that volume is refused (exit 78, newer schema);
4. rollback with restore: archive A restored by `openclaw backup restore` in the old image and
   swapped in while every gateway is stopped; 2026.8.2 is healthy on its own state again.

Then `make rehearse` of the generated repo: 2026.9.6 on archive A passes, 2026.8.2 on archive B
fails (the gateway exits 78 on the archived state) and says why; both leave nothing behind.
Names in the engine start with `upgrade-`; the fixture removes all of them. ~16 min on 2 busy cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from ops import model as m
from tests.conftest import DEFAULT_VERSION, copy_template
from tests.container.conftest import Resources, c, inspect, logs, run_platform, shared_image

OLD, NEW = "2026.8.2", DEFAULT_VERSION
APP = "upgrade-claw"
# Render: the volume (/data) holds the state dir (/data/.openclaw) and the workspace beside it.
PLATFORM = "render"
MARKER = "written by the old release"
HEALTHCHECK = "/opt/openclaw-deploy/healthcheck.mjs"
# One host name for every container on the volume, as Compose and Kubernetes give it: after a
# hard kill the next gateway reclaims the owner lease at once instead of waiting 5 minutes.
SAME_HOST = ["--hostname", APP]


def name(role: str) -> str:
    return f"upgrade-{role}-{uuid.uuid4().hex[:6]}"


def build_image(repo: Path, res: Resources) -> str:
    return shared_image(repo)  # built once per run and build context; removed at the run's end


def started(container: str, port: int, timeout: float = 420) -> tuple[float, str]:
    """Wait for /readyz "ready", asked on loopback inside the container by the image's own JSON
    health check (a migration on a loaded machine takes minutes, longer than the shortened
    health-check start period; a gateway stopped before its startup work settles can leave a state
    the next release refuses until `openclaw doctor --fix`); return the seconds and the release."""
    begin = time.monotonic()
    while True:
        state = inspect(container)["State"]
        assert state["Running"], (state, logs(container)[-3000:])
        probe = c.docker("exec", container, "node", HEALTHCHECK, str(port), "/readyz", check=False, timeout=60)
        if probe.returncode == 0:
            break
        assert time.monotonic() - begin < timeout, (probe.stderr, logs(container)[-3000:])
        time.sleep(1)
    seconds = time.monotonic() - begin
    package = c.docker("exec", container, "node", "-p", "require('/app/package.json').version").stdout.strip()
    return seconds, package


def backup(container: str, dest: Path) -> Path:
    """`openclaw backup create --verify` inside the running gateway's container, copied out."""
    c.docker("exec", "-u", "node", container, "sh", "-c",
             "rm -rf /tmp/bk && mkdir -p /tmp/bk && openclaw backup create --output /tmp/bk --verify", timeout=300)
    dest.mkdir(parents=True, exist_ok=True)
    c.docker("cp", f"{container}:/tmp/bk/.", str(dest))
    (archive,) = dest.glob("*.tar.gz")
    return archive


def wait_exited(container: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while inspect(container)["State"]["Running"] and time.monotonic() < deadline:
        time.sleep(1)
    return inspect(container)["State"]


def stop(container: str) -> None:
    c.docker("stop", "-t", "90", container, timeout=180)  # a clean stop, even on a loaded machine


@pytest.fixture(scope="module")
def releases(engine, template_repo, tmp_path_factory):
    """Both generated repos and their images, built once for every test here."""
    work = tmp_path_factory.mktemp("upgrade")
    res = Resources()
    try:
        answers = {"platform": PLATFORM, "privacy": "private", "app_name": APP}
        old_repo = copy_template(template_repo, work / "old", {**answers, "openclaw_version": OLD})
        new_repo = copy_template(template_repo, work / "new", {**answers, "openclaw_version": NEW})
        yield {"work": work, "old_repo": old_repo, "new_repo": new_repo,
               "old_image": build_image(old_repo, res), "new_image": build_image(new_repo, res)}
    finally:
        res.cleanup()


@pytest.fixture(scope="module")
def history(releases):
    work = releases["work"]
    res = Resources()
    seen: dict = dict(releases)
    try:
        old_repo, new_repo = releases["old_repo"], releases["new_repo"]
        old_image, new_image = releases["old_image"], releases["new_image"]
        volume = name("vol")
        c.docker("volume", "create", volume)
        res.volumes.append(volume)

        # 1. the old release makes the state; backup A before the upgrade
        old, port, _ = run_platform(old_repo, old_image, res, extra=SAME_HOST, name=name("old"), volume=volume)
        seen["old_version"] = started(old, port)[1]
        c.docker("exec", "-u", "node", old, "sh", "-c", f'printf "{MARKER}" > "$OPENCLAW_WORKSPACE_DIR/marker"')
        seen["archive_old"] = backup(old, work / "backup-old")
        stop(old)

        # 2. the upgrade: the new release on the same volume
        new, port, _ = run_platform(new_repo, new_image, res, extra=SAME_HOST, name=name("new"), volume=volume)
        seen["upgrade_started_s"], seen["new_version"] = started(new, port)
        seen["new_marker"] = c.docker("exec", new, "sh", "-c", 'cat "$OPENCLAW_WORKSPACE_DIR/marker"').stdout
        seen["archive_new"] = backup(new, work / "backup-new")
        stop(new)  # the forced failure: we roll back after the new release has started

        # 3. image-only rollback on the migrated state
        rollback = run_platform(old_repo, old_image, res, extra=SAME_HOST, name=name("rollback"), volume=volume)[0]
        seen["image_only"] = wait_exited(rollback)
        seen["image_only_logs"] = logs(rollback)

        # 4. rollback with restore: stage archive A with the old release, swap it in while stopped
        archive = seen["archive_old"]
        swap = ("set -eu; openclaw backup restore /in/archive.tar.gz --target /tmp/stage; "
                "root=$(ls /tmp/stage); find /data -mindepth 1 -delete; "
                'cp -a "/tmp/stage/$root/payload/posix/data/." /data/')
        c.docker("run", "--rm", "--user", "0", "--entrypoint", "sh", "-v", f"{volume}:/data",
                 "-v", f"{archive}:/in/archive.tar.gz:ro", old_image, "-c", swap, timeout=300)
        back, port, _ = run_platform(old_repo, old_image, res, extra=SAME_HOST, name=name("back"), volume=volume)
        seen["rollback_started_s"], seen["rollback_version"] = started(back, port)
        seen["rollback_marker"] = c.docker("exec", back, "sh", "-c", 'cat "$OPENCLAW_WORKSPACE_DIR/marker"').stdout
        stop(back)
        yield seen
    finally:
        res.cleanup()


def test_upgrade_from_the_old_release_migrates_its_state_and_is_healthy(history):
    assert history["old_version"] == OLD
    assert history["new_version"] == NEW
    assert history["new_marker"] == MARKER


def test_image_only_rollback_is_refused_on_the_migrated_state(history):
    state, out = history["image_only"], history["image_only_logs"]
    assert not state["Running"] and state["ExitCode"] == 78, (state, out[-2000:])
    assert "newer schema version" in out and "cannot repair a newer database" in out, out[-2000:]


def test_rollback_with_the_pre_update_backup_brings_the_old_release_back(history):
    assert history["rollback_version"] == OLD
    assert history["rollback_marker"] == MARKER


def rehearse(repo: Path, archive: Path) -> subprocess.CompletedProcess:
    """The generated repo's own `make rehearse ARCHIVE=...` against the real engine."""
    bindir = repo.parent / "docker-bin"
    bindir.mkdir(exist_ok=True)
    if not (bindir / "docker").exists():
        (bindir / "docker").symlink_to(c.DOCKER)
    shim = repo / ".venv" / "bin" / "python"  # ops.tools finds every pin met here: installs nothing
    if not shim.exists():
        shim.parent.mkdir(parents=True)
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        shim.chmod(0o755)
    env = {**c.docker_env(), "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["make", "--no-print-directory", "rehearse", f"ARCHIVE={archive}"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=900)


def leftovers() -> str:
    return (c.docker("ps", "-a", "--format", "{{.Names}}").stdout + c.docker("volume", "ls", "-q").stdout
            + c.docker("images", "--format", "{{.Repository}}").stdout)


@pytest.mark.runbook_step("make rehearse")
def test_rehearse_passes_the_good_upgrade(history):
    """9.6 on the backup the 8.2 gateway made: restored, doctor clean, /readyz ready."""
    proc = rehearse(history["new_repo"], history["archive_old"])
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and f"rehearse: PASS openclaw {NEW}" in out, out[-3000:]
    assert f"{APP}-rehearse-" not in leftovers()


@pytest.mark.runbook_step("make rehearse")
def test_rehearse_catches_an_image_that_cannot_start_on_the_archived_state(history):
    """8.2 on a backup of state 9.6 has migrated: the rehearsal fails and says why."""
    proc = rehearse(history["old_repo"], history["archive_new"])
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and f"rehearse: FAIL openclaw {OLD}" in out, out[-3000:]
    assert "newer schema version" in out, out[-3000:]
    assert f"{APP}-rehearse-" not in leftovers()


# --------------------------------------------------------------------------
# The safe path (ops/safe_upgrade.py) on the same two images
# --------------------------------------------------------------------------
# The platform's image swap is played by the engine here (the Render-like run above: the
# container replaced on the same volume, as a deploy does); everything else is the product's:
# the pre-update backup through exec, the watch flag, the release's repair, the hold, the
# rollback and the restore by the OLD release's own `openclaw backup restore`.


class EnginePlatform:
    """A STAND-IN platform: `deploy` and `rollback` replace the gateway container on one volume
    with `docker run` of the image, as the Render-like run declares it. Contacts no platform."""

    def __init__(self, releases: dict, res: Resources, volume: str, remote, fail: str = ""):
        self.releases, self.res, self.volume, self.remote, self.fail = releases, res, volume, remote, fail
        self.container, self.image = "", ""

    def run(self, image: str, role: str, command: list[str] | None = None) -> str:
        if self.container:
            c.docker("rm", "-f", self.container, timeout=180)
        repo = self.releases["old_repo" if image == self.releases["old_image"] else "new_repo"]
        if command:  # run as declared, but the gateway command replaced (a release that refuses to start)
            self.container = name(role)
            self.res.containers.append(self.container)
            c.docker("run", "-d", "--name", self.container, *SAME_HOST, *inspect_run_flags(repo, self.volume),
                     image, *command)
        else:
            self.container = run_platform(repo, image, self.res, extra=SAME_HOST, name=name(role),
                                          volume=self.volume)[0]
        self.image = image
        self.remote.values["container"] = self.container
        return self.container

    def platform(self):
        from ops.safe_upgrade import Platform

        return Platform(label="the engine (stand-in)", current_image=lambda: self.image, deploy=self.deploy,
                        rollback=lambda image: self.run(image, "rolledback"), new_image=self.releases["new_image"])

    def deploy(self) -> None:
        new = self.releases["new_image"]
        if self.fail == "refuses":  # the new release exits at once, every time (not 0, as a refused start)
            self.run(new, "new", command=["node", "-e", "process.exit(78)"])
            return
        self.run(new, "new")
        if self.fail == "after-start":  # it starts (and migrates the state), then the platform fails the deploy
            started(self.container, self.releases["port"])
            raise RuntimeError("forced failure (test): the platform reports the deploy failed after the new release started")


def inspect_run_flags(repo: Path, volume: str) -> list[str]:
    from tests.container.conftest import platform_run_args

    flags, _, env, _ = platform_run_args(repo, volume)
    return [*flags, *[f for k, v in env.items() for f in ("-e", f"{k}={v}")]]


def engine_remote():
    """The transport ops.remote builds from platforms.yml, aimed at the current container with `docker exec`."""
    from ops.remote import Remote

    return Remote(platform=PLATFORM, app=APP, run_argv=[c.DOCKER, "exec", "-i", "-u", "node", "{container}",
                                                        "sh", "-c", "{cmd}"],
                  copy_out_argv=[c.DOCKER, "cp", "{container}:{remote}", "{local}"], values={"container": ""})


@pytest.fixture
def safe_run(releases, tmp_path):
    """run(fail) -> (result or the UpgradeError, the platform, the backups dir): 2026.8.2 running with a
    marker and a config key, then ops.safe_upgrade.upgrade to 2026.9.6 through the stand-in platform."""
    from ops.safe_upgrade import UpgradeError, upgrade
    from tests.container.test_backup import seed_state

    res = Resources()
    model = m.build(m.answers_from_file(releases["new_repo"] / ".copier-answers.yml"))

    def _run(fail: str = ""):
        volume = name("vol")
        c.docker("volume", "create", volume)
        res.volumes.append(volume)
        remote = engine_remote()
        platform = EnginePlatform(releases, res, volume, remote, fail)
        first = platform.run(releases["old_image"], "old")
        _, port, _ = platform_run_args_port(releases["old_repo"], volume)
        releases["port"] = port
        started(first, port)
        seed_state(first, model.state_dir, model.workspace_dir)
        lines: list[str] = []
        began = time.monotonic()
        try:
            outcome = upgrade(model, platform.platform(), remote=remote, dest=tmp_path / "backups",
                              timeout=600, say=lines.append)
        except UpgradeError as err:
            outcome = err
        seconds = time.monotonic() - began
        print(f"safe upgrade ({fail or 'good'}): {seconds:.0f} s", *lines, sep="\n")
        return outcome, platform, tmp_path / "backups", lines, seconds

    try:
        yield _run
    finally:
        res.cleanup()


def platform_run_args_port(repo: Path, volume: str):
    from tests.container.conftest import platform_run_args

    flags, command, _, port = platform_run_args(repo, volume)
    return flags, port, command


def release_of(container: str) -> str:
    return c.docker("exec", container, "node", "-p", "require('/app/package.json').version").stdout.strip()


def test_safe_upgrade_good_ends_on_the_new_release_with_the_backup_kept(safe_run):
    from tests.container.test_backup import state_survived

    outcome, platform, backups, lines, _ = safe_run()
    assert isinstance(outcome, dict) and not outcome["rolled_back"], (outcome, lines)
    assert outcome["from"] == OLD and outcome["to"] == NEW
    archive = Path(outcome["archive"])
    assert archive.parent == backups and archive.is_file() and Path(f"{archive}.json").is_file()
    assert release_of(platform.container) == NEW
    state_survived(platform.container, "/data/.openclaw", "/data/workspace")
    flags = c.docker("exec", platform.container, "ls", "-a", "/data").stdout.split()
    assert ".openclaw-upgrade" not in flags and ".openclaw-maintenance" not in flags


def test_safe_upgrade_failed_after_start_rolls_back_and_restores(safe_run):
    """The new release started (the state is migrated: an image-only rollback exits 78, above);
    the safe path holds it, puts 2026.8.2 back, restores the pre-update backup: healthy, marker
    and config key there."""
    from tests.container.test_backup import state_survived

    outcome, platform, backups, lines, _ = safe_run("after-start")
    from ops.safe_upgrade import UpgradeError

    assert isinstance(outcome, UpgradeError), (outcome, lines)
    assert "rolled back: openclaw 2026.8.2 started on the pre-update state" in str(outcome), (outcome, lines)
    assert platform.image == platform.releases["old_image"]
    assert release_of(platform.container) == OLD
    started(platform.container, platform.releases["port"], timeout=60)
    state_survived(platform.container, "/data/.openclaw", "/data/workspace")
    top = c.docker("exec", platform.container, "ls", "-a", "/data").stdout.split()
    assert any(n.startswith(".openclaw.before-restore-") for n in top), top  # what 2026.9.6 left, kept
    assert ".openclaw-upgrade" not in top and ".openclaw-maintenance" not in top
    assert any(line.startswith("upgrade: rollback with restore: ") for line in lines), lines


def test_safe_upgrade_refused_start_is_repaired_then_rolled_back(safe_run):
    """A new release that exits at once: held in maintenance (no crash loop), `openclaw doctor --fix
    --non-interactive` tried, then the old release back on the pre-update state."""
    from tests.container.test_backup import state_survived

    outcome, platform, _, lines, _ = safe_run("refuses")
    text = "\n".join(lines)
    assert "refused to start, also after openclaw doctor --fix --non-interactive" in str(outcome), (outcome, text)
    assert "openclaw doctor --fix --non-interactive: exit" in text
    assert release_of(platform.container) == OLD
    state_survived(platform.container, "/data/.openclaw", "/data/workspace")
