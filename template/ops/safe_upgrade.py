"""Safe upgrade: a deploy that changes the image or the OpenClaw release, with a way back.

    python -m ops.safe_upgrade kubernetes --image IMAGE --kustomize DIR [--namespace NS] [--deployment NAME]
    python -m ops.safe_upgrade fly [--app APP] [--remote-only] [--image IMAGE]
    python -m ops.safe_upgrade compose [--image IMAGE] [--ssh-target USER@HOST --ssh-key FILE --known-hosts FILE]
    python -m ops.safe_upgrade render --service NAME --commit SHA [--public] [--ci]
    python -m ops.safe_upgrade railway --service NAME --environment ENV [--public-url URL] [--ci]
    python -m ops.safe_upgrade northflank --project P --service S --commit SHA [--public] [--ci]
    (every platform: --backups DIR, and --encrypt-to DIR: CI keeps the pre-update archive encrypted
    to backup_recipient there)
    python -m ops.safe_upgrade arm | disarm | restore-held ARCHIVE    (the same steps by hand)

The pinned release's docs (docs/install/updating/rollback-and-recovery.md) say a
downgrade does not reverse config or database migrations, and that a complete
recovery point is the matching release plus a verified backup taken before the
update. So, when what runs now differs from what is about to be deployed:

1. what runs now: the release (``/app/package.json`` through the platform's exec)
   and the image (the platform's own record of it);
2. a pre-update backup: ``backup(model)`` (ops/backup.py: ``openclaw backup
   create --verify``, downloaded and checked) kept under ``backups/``;
3. the upgrade watch flag ``<volume>/.openclaw-upgrade`` on the volume: while it is
   there a gateway that exits does not crash-loop; the entrypoint holds the
   container in the maintenance state (docker/entrypoint.sh) so exec keeps working;
4. the deploy, then a wait until the new release reports ``/startupz`` started;
5. a refused start: the release's own repair, ``openclaw doctor --fix
   --non-interactive`` with the gateway stopped, then one more start;
6. the platform made no new deployment (the room raised NotDeployed: its build or upload failed):
   what ran before still runs on its own state, so no hold, no rollback, no restore; the watch
   flag is removed and the command fails, naming the pre-update archive (decided here, once);
7. still failing (or the platform reports the deploy failed): hold, put the
   previous image back, restore the pre-update backup with the OLD release
   (``openclaw backup restore`` + the swap of docker/restore.mjs), start it and
   wait until it reports started; the command then fails, naming the archive. A room that
   holds no credential its platform's rollback accepts (``Platform.rollback`` None: Railway's
   make deploy without a token) holds nothing, leaves the watch flag (make restore ends it)
   and fails with the way back by hand (``Platform.by_hand``).

The per-platform facts (what image runs, how to deploy, how to put an image back)
are the room's ``safe_upgrade`` (ops/platforms/<kind>.py), which builds a ``Platform``;
everything here is the same on every platform. Stdlib + the deploy model. Timing: DEPLOY_TIMEOUT (seconds
to wait for a release to start, 900) and POLL_INTERVAL, as the other CI deploy steps.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ops import model as m
from ops import platforms
from ops.backup import (BACKUP_DIR, PRIVATE_MARKER, BackupError, _step, backup, check_archive, env_prefix,
                        flag_path, kept_text, load_model, probe, remote_size_sha, stamp, upgrade_flag)
from ops.ci_http import DeployError, NotDeployed, interval_s, timeout_s
from ops.remote import Remote, RemoteError, connect

REPAIR = "openclaw doctor --fix --non-interactive"


class UpgradeError(RuntimeError):
    """The upgrade failed: the one line the user sees (what happened, what state is left)."""


class NothingDeployed(UpgradeError):
    """The platform made no new deployment (ops.ci_http.NotDeployed: its build or pre-deploy step
    failed): what ran before still runs on its own untouched state, so there is nothing to hold,
    roll back or restore."""


@dataclass
class Platform:
    """What the safe path needs from a platform (built per kind, at the bottom)."""

    label: str
    current_image: Callable[[], str]       # the image the platform runs now ("" when it runs none)
    deploy: Callable[[], None]             # roll the new release out; raises on the platform's own failure
    #   (NothingDeployed when the platform made no new deployment: decided once, in upgrade())
    rollback: Callable[[str], None] | None  # put this image back (returns once the platform took it);
    #   None: this run holds no credential the platform's rollback accepts (``by_hand`` says what to do)
    new_image: str = ""                    # the image about to be deployed, when known beforehand
    # without a rollback: the one or two lines that go back by hand, given what ran before and the
    # pre-update archive (None when nothing answered before the deploy)
    by_hand: Callable[[str, Path | None], str] | None = None
    # an image without this repo's entrypoint (no hold): restores ARCHIVE with the gateway stopped
    restore: Callable[[Path], None] | None = None
    # the exec transport, when the room reaches the gateway otherwise than connect(model) does (CI over ssh)
    remote: Remote | None = None


def as_upgrade_error(fn: Callable) -> Callable:
    """A room's CI deploy call whose DeployError (ops.ci_http) becomes an UpgradeError: one line,
    no traceback, as every failure of the safe path."""

    def call(*args):
        try:
            return fn(*args)
        except NotDeployed as err:  # the distinction travels: upgrade() decides on it once
            raise NothingDeployed(str(err)) from None
        except DeployError as err:
            raise UpgradeError(str(err)) from None
    return call


def running(model: m.DeployModel, remote: Remote) -> tuple[str, str]:
    """(release, state) of the gateway container the platform's exec reaches now:
    state is 'started' (/startupz says so), 'held' (the maintenance flag is on the
    volume) or 'starting'; ('', 'unreachable') when exec reaches no container."""
    workdir = m.openclaw().get("image_workdir", "/app")
    version = f"node -p \"require('{workdir}/package.json').version\""
    flag = shlex.quote(flag_path(model))
    cmd = (f"v=$({version} 2>/dev/null || echo unknown); if [ -e {flag} ]; then s=held; "
           f"elif {probe(model, '/startupz', 'started')}; then s=started; else s=starting; fi; echo \"$v $s\"")
    try:
        proc = remote.exec(cmd, check=False, timeout=120)
    except RemoteError:
        return "", "unreachable"
    words = proc.stdout.decode(errors="replace").split()
    if proc.returncode or len(words) < 2 or words[-1] not in ("started", "held", "starting"):
        return "", "unreachable"
    return words[-2], words[-1]


def watch(model: m.DeployModel, remote: Remote, release: str, timeout: float,
          say: Callable[[str], None]) -> str:
    """Wait until ``release`` runs and is 'started' or 'held'; 'timeout' otherwise."""
    began, last = time.monotonic(), None
    while time.monotonic() - began < timeout:
        seen = running(model, remote)
        if seen != last:
            say(f"upgrade: {seen[0] or 'no container'} {seen[1]} ({time.monotonic() - began:.0f} s)")
            last = seen
        if seen[0] == release and seen[1] in ("started", "held"):
            return seen[1]
        time.sleep(min(interval_s(), 5))
    return "timeout"


def hold(model: m.DeployModel, remote: Remote) -> None:
    """The maintenance state: the flag on the volume, the gateway (if any) stopped."""
    _step(remote, model, "enter", flag_path(model))


def release_hold(model: m.DeployModel, remote: Remote, work: str | None = None) -> None:
    _step(remote, model, "leave", flag_path(model), *([work] if work else []))


def repair(model: m.DeployModel, remote: Remote, say: Callable[[str], None]) -> None:
    """The release's repair after a refused start (rollback-and-recovery.md), the gateway stopped."""
    proc = remote.exec(f"{env_prefix(model)} {REPAIR} 2>&1", check=False, timeout=900)
    lines = [line for line in proc.stdout.decode(errors="replace").splitlines() if line.strip()]
    say(f"upgrade: {REPAIR}: exit {proc.returncode}" + (f" ({lines[-1].strip()[:200]})" if lines else ""))
    release_hold(model, remote)  # the entrypoint starts the gateway once more


def restore_held(model: m.DeployModel, remote: Remote, archive: Path, say: Callable[[str], None]) -> None:
    """make restore's steps on a container already held in maintenance (the old release's
    own `openclaw backup restore` stages the archive)."""
    manifest = check_archive(model, archive)
    work = f"{model.volume_mount}/.openclaw-restore-{stamp()}"
    remote.exec(f"umask 077 && mkdir -p {work} && printf 'openclaw-private-update-capture-v1\\n' > "
                f"{work}/{PRIVATE_MARKER}")
    remote.copy_in(archive, f"{work}/archive.tar.gz")
    if remote_size_sha(remote, f"{work}/archive.tar.gz") != (manifest["size"], manifest["sha256"]):
        raise UpgradeError("the uploaded pre-update archive does not match (size or sha256)")
    _step(remote, model, "stage", flag_path(model), work)
    activated = _step(remote, model, "activate", flag_path(model), work, stamp())
    say(f"upgrade: restored {archive.name}; the state the new release left is kept as "
        f"{kept_text(activated)}")
    release_hold(model, remote, work)


def upgrade(model: m.DeployModel, platform: Platform, *, remote: Remote | None = None, dest: Path = BACKUP_DIR,
            timeout: float | None = None, say: Callable[[str], None] = print,
            keep: Callable[[Path], None] | None = None) -> dict:
    """Deploy with a pre-update backup and a way back; returns what happened, raises
    UpgradeError (after a rollback, or when the way back failed too). ``keep``: called with
    the pre-update archive once it is made (CI: the encrypted copy, seal() below)."""
    remote = remote or platform.remote or connect(model)
    timeout = timeout_s() if timeout is None else timeout
    target = model.openclaw_version
    before, state = running(model, remote)
    before_image = platform.current_image()
    result = {"from": before, "to": target, "from_image": before_image, "archive": None, "rolled_back": False}
    if state == "unreachable" or not before:
        say(f"upgrade: no running gateway answers on {platform.label} (a first deploy, or a stopped one): "
            "a plain deploy, without a pre-update backup")
        try:
            platform.deploy()
        except NothingDeployed as err:
            raise NothingDeployed(f"upgrade: nothing was deployed ({str(err)[:300]}); {platform.label} still runs "
                                  f"{before_image or 'what ran before'}") from None
        except (RemoteError, UpgradeError, RuntimeError) as err:
            if not before_image or before_image == platform.new_image:
                raise UpgradeError(f"upgrade: the deploy failed ({str(err)[:300]})") from None
            if platform.rollback is None:
                hint = platform.by_hand(before_image, None) if platform.by_hand else f"put {before_image} back"
                raise UpgradeError(f"upgrade: the deploy failed ({str(err)[:300]}); nothing was rolled back: "
                                   f"{hint}") from None
            say(f"upgrade: the deploy failed ({str(err)[:300]}): rolling back to {before_image} (the image only: "
                "nothing answered before, so there is no pre-update backup to restore)")
            platform.rollback(before_image)
            result["rolled_back"] = True
            raise UpgradeError(f"upgrade: the deploy failed; {platform.label} runs {before_image} again "
                               "(image only, no backup was possible)") from None
        return result
    if before == target and (not platform.new_image or platform.new_image == before_image):
        say(f"upgrade: openclaw {target} runs already and the image is the same: a plain deploy")
        platform.deploy()
        return result
    say(f"upgrade: {platform.label} runs openclaw {before} ({before_image or 'image unknown'}); "
        f"deploying {target}{' (' + platform.new_image + ')' if platform.new_image else ''} with a way back")
    began = time.monotonic()
    archive = backup(model, dest, say=say, remote=remote, release=before)  # made by the release running now
    result["archive"] = str(archive)
    say(f"upgrade: pre-update backup kept at {archive} (with {archive.name}.json)")
    if keep is not None:
        keep(archive)
    remote.exec(f"umask 077 && printf '%s %s\\n' {shlex.quote(before)} {shlex.quote(target)} > "
                f"{shlex.quote(upgrade_flag(model))}")
    failure = ""
    try:
        platform.deploy()
    except NothingDeployed as err:  # no hold, no rollback, no restore: the old release never stopped
        _disarm(model, remote, say)
        raise NothingDeployed(f"upgrade: nothing was deployed ({str(err)[:300]}); {platform.label} still runs "
                              f"openclaw {before} ({before_image or 'image unknown'}) on its own state; "
                              f"the pre-update backup stays at {archive}") from None
    except (RemoteError, UpgradeError, RuntimeError) as err:
        failure = f"the deploy failed ({str(err)[:300]})"
    if not failure:
        outcome = watch(model, remote, target, timeout, say)
        if outcome == "held":
            say(f"upgrade: openclaw {target} refused to start: {REPAIR} (the release's repair), then one more start")
            repair(model, remote, say)
            outcome = watch(model, remote, target, timeout, say)
        if outcome == "started":
            remote.exec(f"rm -f {shlex.quote(upgrade_flag(model))}", check=False)
            result["seconds"] = time.monotonic() - began
            say(f"upgrade: openclaw {target} started ({result['seconds']:.0f} s with the backup); "
                f"the pre-update backup stays at {archive}")
            return result
        failure = (f"openclaw {target} refused to start, also after {REPAIR}" if outcome == "held"
                   else f"openclaw {target} did not report started within {timeout:.0f} s")
    # No way back from here (no credential the platform's rollback accepts): nothing is held that this
    # run cannot undo. The watch flag stays, so a gateway that exits (the new release, or the old one on
    # the state the new one left) is held, not looped; make restore restores into it and removes the flag.
    if platform.rollback is None:
        raise UpgradeError(f"upgrade: {failure}; nothing was rolled back or restored: "
                           f"{platform.by_hand(before_image, archive) if platform.by_hand else archive}") from None
    result["rolled_back"] = True
    say(f"upgrade: {failure}: rolling back to openclaw {before} ({before_image}) and restoring {archive.name}")
    back = time.monotonic()
    try:
        _roll_back(model, platform, remote, before, before_image, archive, timeout, say)
        say(f"upgrade: rollback with restore: {time.monotonic() - back:.0f} s from the failure to "
            f"openclaw {before} started")
    except (RemoteError, BackupError, UpgradeError, RuntimeError, KeyError, ValueError) as err:
        raise UpgradeError(f"upgrade: {failure}; the rollback failed too ({str(err)[:300]}): the pre-update backup "
                           f"is {archive}; RUNBOOK, Day two: when a rollback fails") from None
    result["seconds"] = time.monotonic() - began
    raise UpgradeError(f"upgrade: {failure}; rolled back: openclaw {before} started on the pre-update state "
                       f"({archive}, {result['seconds']:.0f} s in all); the deploy is not upgraded")


def _disarm(model: m.DeployModel, remote: Remote, say: Callable[[str], None]) -> None:
    """Remove the watch flag (the safe upgrade is over); said, not raised, when exec fails."""
    try:
        remote.exec(f"rm -f {shlex.quote(upgrade_flag(model))}", check=False)
    except RemoteError as err:
        say(f"upgrade: could not remove the watch flag {upgrade_flag(model)} ({err}): remove it through "
            "the platform's exec (RUNBOOK, Upgrading: stuck held after a success)")


def _roll_back(model: m.DeployModel, platform: Platform, remote: Remote, before: str, before_image: str,
               archive: Path, timeout: float, say: Callable[[str], None]) -> None:
    if platform.restore is not None:  # no hold in this image: the platform stops the gateway itself
        if not before_image:
            raise UpgradeError("the image that ran before is unknown")
        platform.rollback(before_image)
        platform.restore(archive)
        if watch(model, remote, before, timeout, say) != "started":
            raise UpgradeError(f"openclaw {before} did not start on the restored state within {timeout:.0f} s")
        remote.exec(f"rm -f {shlex.quote(upgrade_flag(model))}", check=False)
        return
    # The new release's container, when exec reaches it, stops writing the state first.
    if running(model, remote)[1] in ("started", "starting"):
        try:
            hold(model, remote)
        except RemoteError as err:
            say(f"upgrade: could not hold the new release ({err}); the watch flag holds the old one")
    if not before_image:
        raise UpgradeError("the image that ran before is unknown")
    platform.rollback(before_image)
    # the old image boots into maintenance (the flag is on the volume), or starts when it was lost
    got = watch(model, remote, before, timeout, say)
    if got == "timeout":
        raise UpgradeError(f"openclaw {before} was not running within {timeout:.0f} s of the rollback")
    if got == "started":
        hold(model, remote)
    restore_held(model, remote, archive, say)
    if watch(model, remote, before, timeout, say) != "started":
        raise UpgradeError(f"openclaw {before} did not start on the restored state within {timeout:.0f} s")
    remote.exec(f"rm -f {shlex.quote(upgrade_flag(model))}", check=False)


# --------------------------------------------------------------------------
# Per kind: what the platform runs now, how it deploys, how an image goes back
# (side by side, one function each; ops/platforms/<kind>.py can take them whole)
# --------------------------------------------------------------------------


def run_checked(argv: list[str], what: str, timeout: float = 1800) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise UpgradeError(f"`{argv[0]}` is not installed") from None
    except subprocess.TimeoutExpired:
        raise UpgradeError(f"{what}: no answer within {timeout:.0f} s") from None
    if proc.returncode:
        last = (proc.stderr.strip().splitlines() or ["no error output"])[-1]
        raise UpgradeError(f"{what}: exit {proc.returncode}: {last[:300]}")
    return proc.stdout




def seal(model: m.DeployModel, out_dir: str, say: Callable[[str], None] = print) -> Callable[[Path], None] | None:
    """CI's keep: with backup_recipient, the pre-update archive encrypted to it (ops/backup.py's
    encrypt, as the scheduled backup) into ``out_dir`` (the job uploads only the .age); without
    one, nothing leaves the runner (the plain archive is for the rollback only)."""
    if not out_dir:
        return None
    if not model.backup_recipient.strip():
        say("upgrade: no backup_recipient: the pre-update archive stays on this runner for the rollback only")
        return None
    from ops.backup import encrypt, recipient_of

    recipient = recipient_of(model)  # checked before the platform is asked anything

    def _keep(archive: Path) -> None:
        sealed = encrypt(archive, recipient, Path(out_dir))
        say(f"upgrade: pre-update archive encrypted to backup_recipient: {sealed.name} ({sealed.stat().st_size} bytes)")
    return _keep


def automated() -> dict:
    """The rooms with an automated safe path (ops/platforms/<kind>.py: safe_upgrade_parser, safe_upgrade)."""
    return {kind: room for kind in platforms.kinds() if hasattr(room := platforms.for_kind(kind), "safe_upgrade")}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ops.safe_upgrade", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="kind", required=True)
    for kind, room in automated().items():
        room_parser = sub.add_parser(kind, help=room.SAFE_UPGRADE_HELP)
        room.safe_upgrade_parser(room_parser)
        room_parser.add_argument("--encrypt-to", default="", metavar="DIR",
                                 help="CI: the pre-update archive encrypted to backup_recipient into DIR (.age)")
    # by hand, where the deploy is not automated (RUNBOOK, Upgrading: the way back)
    sub.add_parser("arm", help="set the watch flag: a gateway that exits is held in maintenance")
    sub.add_parser("disarm", help="remove the watch flag (the upgrade went well)")
    held = sub.add_parser("restore-held", help="restore ARCHIVE into a gateway held in maintenance, then start it")
    held.add_argument("archive")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rooms = automated()
    try:
        model = load_model()
        if args.kind in rooms:
            keep = seal(model, args.encrypt_to)
            upgrade(model, rooms[args.kind].safe_upgrade(model, args), dest=Path(args.backups), keep=keep)
        elif args.kind in ("arm", "disarm"):
            remote = connect(model)
            flag = shlex.quote(upgrade_flag(model))
            remote.exec(f"umask 077 && printf 'by hand\\n' > {flag}" if args.kind == "arm" else f"rm -f {flag}")
            print(f"upgrade: watch flag {upgrade_flag(model)} {'set' if args.kind == 'arm' else 'removed'}")
        else:
            remote = connect(model)
            release, state = running(model, remote)
            if state != "held":
                raise UpgradeError(f"upgrade: the gateway is {state}, not held in maintenance: use make restore")
            restore_held(model, remote, Path(args.archive), print)
            if watch(model, remote, release, timeout_s(), print) != "started":
                raise UpgradeError(f"upgrade: openclaw {release} did not start on the restored state")
            remote.exec(f"rm -f {shlex.quote(upgrade_flag(model))}", check=False)
            print(f"upgrade: openclaw {release} started on {args.archive}; watch flag removed")
    except (UpgradeError, BackupError, RemoteError) as err:
        print(str(err), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    # run as the importable module: the rooms raise ops.safe_upgrade's NothingDeployed / UpgradeError,
    # which __main__'s own copies of those classes would not catch
    from ops import safe_upgrade as importable

    sys.exit(importable.main())
