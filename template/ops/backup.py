"""make backup / make restore: the gateway's state to this machine and back,
through the platform's own CLI (ops/remote.py). Stdlib + the deploy model (pyrage for the encrypted bundles of scheduled backups).

Backup: ``openclaw backup create --verify`` on the running gateway (the release's
online, WAL-safe archive, never a copy of live .sqlite files) into the
container's /tmp (not the volume: it would sit inside the state dir), down to
``backups/<app>-<UTC>.tar.gz`` (0600) with ``<archive>.json`` beside it (app,
platform, size, sha256), checked on both ends, then removed from the container.

Restore: the archive and its manifest are checked here first (one line and
nothing changed when they are missing, truncated, altered or of another app),
then uploaded to the volume and checked again; the gateway enters the
maintenance state (docker/maintenance.mjs answers the health checks), the
release stages the archive (``openclaw backup restore --target``), the staged
tree is swapped in (docker/restore.mjs; the replaced state is kept as
``<state>.before-restore-<UTC>`` until the next restore), the gateway starts
and is waited for.

Python callers (scheduled backups, a safe upgrade) use ``backup(model)`` and
``restore(model, archive, yes=True)``; both raise BackupError with the line to print.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import sys
import tarfile
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ops import model as m
from ops import platforms
from ops.remote import Remote, RemoteError, ci_credentials, connect
from ops.terminal import one_line_exit

BACKUP_DIR = Path("backups")
REMOTE_TMP = "/tmp/openclaw-backup"
FLAG_NAME = ".openclaw-maintenance"
HEALTHY_TIMEOUT_S = 300
PRIVATE_MARKER = ".openclaw-private-update-capture"


class BackupError(RuntimeError):
    """What went wrong, as the one line the user sees."""


def stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def env_prefix(model: m.DeployModel) -> str:
    """The gateway's paths and user, set on every remote command (an exec session
    does not carry the machine's env on every platform)."""
    values = {"OPENCLAW_STATE_DIR": model.state_dir, "OPENCLAW_WORKSPACE_DIR": model.workspace_dir,
              "HOME": "/home/node"}
    return " ".join(f"{k}={shlex.quote(v)}" for k, v in values.items())


def flag_path(model: m.DeployModel) -> str:
    return f"{model.volume_mount}/{FLAG_NAME}"


# The safe upgrade's watch flag (ops/safe_upgrade.py): with it on the volume a gateway that exits is
# held in maintenance by the entrypoint. make restore restores into such a hold and removes the flag.
UPGRADE_FLAG = ".openclaw-upgrade"


def upgrade_flag(model: m.DeployModel) -> str:
    return f"{model.volume_mount}/{UPGRADE_FLAG}"


def probe(model: m.DeployModel, path: str, status: str) -> str:
    """A shell command that exits 0 when the gateway's ``path`` answers ``status``
    (node is in every image; curl is not)."""
    port = f"(process.env.OPENCLAW_GATEWAY_PORT||{model.port})"  # Compose: .env may move the port
    script = (f"fetch('http://127.0.0.1:'+{port}+'{path}').then(r=>r.json())"
              f".then(b=>process.exit(b.status==='{status}'?0:1)).catch(()=>process.exit(1))")
    return f"node -e {shlex.quote(script)}"


def gateway_state(model: m.DeployModel, remote: Remote) -> str:
    """'live', 'maintenance' (a restore's flag is on the volume), 'held' (that flag with the safe
    upgrade's watch flag: the entrypoint held a gateway that exited during an upgrade) or 'down'; a
    RemoteError when the platform CLI cannot reach a running container at all."""
    flag, watch = shlex.quote(flag_path(model)), shlex.quote(upgrade_flag(model))
    out = remote.exec(f"if [ -e {flag} ] && [ ! -e {watch} ]; then echo maintenance; elif [ -e {flag} ]; then "
                      f"echo held; elif {probe(model, '/healthz', 'live')}; then echo live; else echo down; fi",
                      timeout=120).stdout.decode().split()
    return out[-1] if out and out[-1] in ("live", "maintenance", "held", "down") else "down"


def kept_text(activated: dict) -> str:
    """Where restore.mjs's activate step kept the replaced state, and how."""
    text = ", ".join(activated["kept"])
    if activated.get("packed"):
        text += (" (packed into before-restore.tar in each: the running release would archive a kept tree as "
                 "live state in its next backup)")
    for warning in activated.get("warnings") or []:
        text += f"; {warning}"
    return text


def remote_size_sha(remote: Remote, path: str) -> tuple[int, str]:
    out = remote.exec(f"stat -c %s {shlex.quote(path)} && sha256sum {shlex.quote(path)}").stdout.decode().split()
    return int(out[0]), out[1]


# --------------------------------------------------------------------------
# Backup
# --------------------------------------------------------------------------


def create_command(model: m.DeployModel, folder: str, name: str) -> str:
    """The shell line that makes ``folder/name`` on the gateway. On a failure its stderr ends with
    openclaw's own error, not with the ``Help: openclaw --help`` hint the CLI prints after it (the
    one line a BackupError keeps: the hint alone once hid why 2026.8.2 could not back up a state
    that 2026.9.6 had migrated)."""
    tmp = f"{folder}/{name}"
    return (f"set -e; umask 077; mkdir -p {folder}; rm -f {tmp}; "
            f"{env_prefix(model)} openclaw backup create --output {tmp} --verify --json > {tmp}.json 2> {tmp}.err "
            f"|| {{ grep -v 'Help: openclaw' {tmp}.err | tail -n 3 >&2; rm -f {tmp}*; exit 1; }}; rm -f {tmp}.err")


def backup(model: m.DeployModel, dest: Path = BACKUP_DIR, say: Callable[[str], None] = print,
           remote: Remote | None = None, release: str | None = None) -> Path:
    """``release``: the OpenClaw release that runs and makes the archive, when the caller read it (the
    safe upgrade: the answers already name the release about to be deployed); else the answers'."""
    remote = remote or connect(model)
    ts = stamp()
    name = f"{model.app_name}-{ts}.tar.gz"
    try:
        state = gateway_state(model, remote)
    except RemoteError as err:
        raise BackupError(f"backup: cannot reach the gateway on {model.platform_label} ({err}); "
                          "is the deploy stopped? A backup is taken from the running gateway") from None
    if state != "live":
        raise BackupError(f"backup: the gateway of {model.app_name} on {model.platform_label} is not running "
                          f"({state}): start it, then run make backup")
    tmp = f"{REMOTE_TMP}/{name}"
    create = create_command(model, REMOTE_TMP, name)
    started = time.monotonic()
    try:
        remote.exec(create)
        size, digest = remote_size_sha(remote, tmp)
    except RemoteError as err:
        raise BackupError(f"backup: openclaw backup create failed on the gateway: {err}") from None
    say(f"backup: openclaw backup create --verify: {size} bytes in {time.monotonic() - started:.1f} s "
        f"(in the container's {REMOTE_TMP}, not on the volume)")
    dest.mkdir(parents=True, exist_ok=True)
    os.chmod(dest, 0o700)
    local = dest / name
    partial = dest / f".{name}.partial"
    try:
        remote.copy_out(tmp, partial)
        got_size, got_digest = partial.stat().st_size, sha256(partial)
        if (got_size, got_digest) != (size, digest):
            raise BackupError(f"backup: the download does not match the gateway's archive ({got_size} bytes, "
                              f"sha256 {got_digest[:12]}; expected {size}, {digest[:12]}): nothing kept")
        partial.rename(local)
        os.chmod(local, 0o600)
        manifest = {"app": model.app_name, "platform": model.platform, "created": ts, "size": size,
                    "sha256": digest, "openclaw_version": release or model.openclaw_version,
                    "state_dir": model.state_dir, "workspace_dir": model.workspace_dir}
        meta = Path(f"{local}.json")
        fd = os.open(meta, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(manifest, handle, indent=2)
            handle.write("\n")
    except RemoteError as err:
        raise BackupError(f"backup: copying the archive down failed: {err}") from None
    finally:
        partial.unlink(missing_ok=True)
        remote.exec(f"rm -f {tmp} {tmp}.json", check=False, timeout=120)
    say(f"backup: downloaded and checked (size and sha256 {digest[:12]} on both ends); "
        "the container's copy is removed")
    return local


# --------------------------------------------------------------------------
# Restore
# --------------------------------------------------------------------------


def check_archive(model: m.DeployModel, archive: Path, from_app: str | None = None) -> dict:
    """The archive and its manifest, checked before anything else happens."""
    if not archive.is_file():
        raise BackupError(f"restore: ARCHIVE={archive}: no such file")
    meta = Path(f"{archive}.json")
    if not meta.is_file():
        raise BackupError(f"restore: ARCHIVE={archive}: no manifest beside it ({meta.name}, written by make backup); "
                          "refusing an archive of unknown origin")
    try:
        manifest = json.loads(meta.read_text())
        expected_app, size, digest = manifest["app"], int(manifest["size"]), manifest["sha256"]
    except (ValueError, KeyError, TypeError):
        raise BackupError(f"restore: {meta}: not a make backup manifest (app, size, sha256)") from None
    if expected_app != model.app_name and expected_app != from_app:
        raise BackupError(f"restore: ARCHIVE={archive} is a backup of app '{expected_app}', this deploy is "
                          f"'{model.app_name}' (ARGS='--from-app {expected_app}' restores it here on purpose)")
    actual = archive.stat().st_size
    if actual != size:
        raise BackupError(f"restore: ARCHIVE={archive}: {actual} bytes, its manifest says {size} (truncated or "
                          "altered): nothing changed")
    if sha256(archive) != digest:
        raise BackupError(f"restore: ARCHIVE={archive}: sha256 does not match its manifest (altered or "
                          "corrupted): nothing changed")
    return manifest


def confirm(model: m.DeployModel, archive: Path, manifest: dict, ask: Callable[[str], str] | None = None) -> None:
    if ask is None:
        if not sys.stdin.isatty():
            raise BackupError("restore: not on a terminal: confirm with ARGS=--yes")
        ask = input
    answer = ask(f"Replace the state of {model.app_name} on {model.platform_label} with {archive.name} "
                 f"(taken {manifest.get('created', '?')} from {manifest.get('platform', '?')})?\n"
                 f"The gateway stops until the restore is done. Type the app name to go on: ")
    if answer.strip() != model.app_name:
        raise BackupError("restore: not confirmed: nothing changed")


def _step(remote: Remote, model: m.DeployModel, *args: str) -> dict:
    cmd = f"{env_prefix(model)} node /opt/openclaw-deploy/restore.mjs {' '.join(shlex.quote(a) for a in args)}"
    proc = remote.exec(cmd, check=False)
    if proc.returncode:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        raise RemoteError(err[-1] if err else f"restore.mjs {args[0]} failed ({proc.returncode})")
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


def wait_started(model: m.DeployModel, remote: Remote, timeout: float = HEALTHY_TIMEOUT_S) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if remote.exec(probe(model, "/startupz", "started"), check=False, timeout=60).returncode == 0:
            return time.monotonic() - started
        time.sleep(2)
    raise BackupError(f"restore: the gateway did not report started within {timeout:.0f} s after the restore; "
                      "see the RUNBOOK, Day two: when a restore fails")


def restore(model: m.DeployModel, archive: Path, *, yes: bool = False, from_app: str | None = None,
            say: Callable[[str], None] = print, ask: Callable[[str], str] | None = None,
            remote: Remote | None = None) -> dict:
    manifest = check_archive(model, archive, from_app)
    if not yes:
        confirm(model, archive, manifest, ask)
    room_restore = getattr(platforms.get(model.platform), "restore", None)
    if room_restore is not None:  # a room with its own way for some deploys (Kubernetes on the official image)
        from ops import backup as importable
        try:
            done = room_restore(model, archive, manifest, say=say, remote=remote)
        except importable.BackupError as err:  # the same class, unless this module runs as __main__
            raise BackupError(str(err)) from None
        if done is not None:
            return done
    remote = remote or connect(model)
    flag = flag_path(model)
    ts = stamp()
    work = f"{model.volume_mount}/.openclaw-restore-{ts}"
    try:
        state = gateway_state(model, remote)
        if state == "maintenance":
            raise BackupError(f"restore: {flag} exists: another restore is under way or one failed "
                              "(RUNBOOK, Day two: when a restore fails)")
        remote.exec(f"umask 077 && mkdir -p {work} && printf 'openclaw-private-update-capture-v1\\n' > "
                    f"{work}/{PRIVATE_MARKER}")
        remote.copy_in(archive, f"{work}/archive.tar.gz")
        if remote_size_sha(remote, f"{work}/archive.tar.gz") != (manifest["size"], manifest["sha256"]):
            remote.exec(f"rm -rf {work}", check=False)
            raise BackupError("restore: the uploaded archive does not match (size or sha256): nothing changed")
    except RemoteError as err:
        remote.exec(f"rm -rf {work}", check=False, timeout=120)
        raise BackupError(f"restore: cannot reach the gateway on {model.platform_label}: {err}") from None
    say(f"restore: uploaded {archive.name} to {work} and checked it (size and sha256)")
    started = time.monotonic()
    try:
        if state == "held":  # a failed upgrade's hold: the gateway is stopped already
            say(f"restore: the gateway is held in maintenance after a failed upgrade ({upgrade_flag(model)}): "
                "restoring into the hold")
        else:
            _step(remote, model, "enter", flag)
            say("restore: maintenance state: the gateway is stopped, the health checks answer 'maintenance'")
        staged = _step(remote, model, "stage", flag, work)
        activated = _step(remote, model, "activate", flag, work, ts)
    except RemoteError as err:
        try:
            _step(remote, model, "leave", flag, work)
        except RemoteError:
            raise BackupError(f"restore: {err}; leaving the maintenance state failed too (RUNBOOK, Day two: "
                              "when a restore fails)") from None
        raise BackupError(f"restore: {err}; the state is unchanged and the gateway is starting again") from None
    _step(remote, model, "leave", flag, work)
    say(f"restore: swapped in the archive's state (taken {activated.get('archiveCreated')}); kept the replaced "
        f"state as {kept_text(activated)} until the next restore")
    seconds = wait_started(model, remote)
    # a failed upgrade's watch ends with the restore (a flag left after a way back by hand included):
    # a later exit of the gateway restarts it again instead of holding it
    remote.exec(f"rm -f {shlex.quote(upgrade_flag(model))}", check=False, timeout=120)
    if state == "held":
        say(f"restore: removed the upgrade watch flag {upgrade_flag(model)}")
    say(f"restore: the gateway started on the restored state ({seconds:.0f} s after the swap, "
        f"{time.monotonic() - started:.0f} s of maintenance in all)")
    for warning in staged.get("warnings", []):
        say(f"restore: note from openclaw: {warning}")
    return {"kept": activated["kept"], "warnings": staged.get("warnings", []), "seconds": seconds}


# --------------------------------------------------------------------------
# Encrypted bundles: scheduled backups (.github/workflows/backup.yml) and decrypt
#
# One age file (X25519 recipient: the answer backup_recipient) holding a plain tar
# of two members: <app>-<UTC>.tar.gz and its .json manifest, so the manifest
# travels with the archive and is as private as it. pyrage (bindings to rage, a
# pinned, hashed wheel in requirements-ops.txt) writes the standard age format:
# `age -d -i KEY FILE | tar -x` opens it as well as `make decrypt` does.
# --------------------------------------------------------------------------

AGE_SUFFIX = ".age"
_MEMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.tar\.gz$")


def _age():
    try:
        import pyrage
    except ImportError:
        raise BackupError("pyrage is not installed: run make venv (it is in requirements-ops.txt)") from None
    return pyrage


def recipient_of(model: m.DeployModel, given: str | None = None):
    """The age recipient to encrypt to, checked before the platform is asked anything."""
    text = (given if given is not None else model.backup_recipient).strip()
    if not text:
        raise BackupError("backup_recipient: empty: scheduled backups need an age public key (age1...): "
                          'make update ARGS="-d backup_recipient=age1..." (RUNBOOK, Day two)')
    problem = m.age_recipient_problem(text)
    if problem:
        raise BackupError(f"backup_recipient: {problem.replace(chr(10), ': ', 1)}")
    try:
        return _age().x25519.Recipient.from_str(text)
    except Exception:  # pyrage.RecipientError
        raise BackupError("backup_recipient: not an age X25519 public key that age accepts") from None


class _TarStream:
    """The bytes of an uncompressed tar of ``members`` ((name, path) pairs), made as they
    are read: nothing but the encrypted output is written anywhere."""

    def __init__(self, members: list[tuple[str, Path]]):
        self._parts = self._generate(members)
        self._chunk = b""
        self._pos = 0

    @staticmethod
    def _generate(members):
        for name, path in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = path.stat().st_size, 0o600, int(path.stat().st_mtime)
            yield info.tobuf(format=tarfile.PAX_FORMAT)
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 16), b""):
                    yield block
            if info.size % 512:
                yield b"\0" * (512 - info.size % 512)
        yield b"\0" * 1024  # end of archive

    def read(self, size: int = -1) -> bytes:
        out = bytearray()
        while size < 0 or len(out) < size:
            if self._pos >= len(self._chunk):
                self._chunk, self._pos = next(self._parts, b""), 0
                if not self._chunk:
                    break
            take = len(self._chunk) - self._pos if size < 0 else min(size - len(out), len(self._chunk) - self._pos)
            out += self._chunk[self._pos:self._pos + take]
            self._pos += take
        return bytes(out)


def encrypt(archive: Path, recipient, out_dir: Path) -> Path:
    """``archive`` and its manifest as ``out_dir/<archive>.age`` (0600)."""
    meta = Path(f"{archive}.json")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{archive.name}{AGE_SUFFIX}"
    partial = out_dir / f".{target.name}.partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            _age().encrypt_io(_TarStream([(archive.name, archive), (meta.name, meta)]), handle, [recipient])
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def read_identities(path: Path) -> list:
    """The X25519 identities of an age identity file (age-keygen's format: comments, keys)."""
    if not path.is_file():
        raise BackupError(f"decrypt: IDENTITY={path}: no such file (the age identity kept offline, "
                          "made with age-keygen or python -m ops.backup keygen)")
    x25519 = _age().x25519
    keys = []
    for line in path.read_text(errors="replace").splitlines():
        line = line.strip()
        if line.upper().startswith("AGE-SECRET-KEY-"):
            try:
                keys.append(x25519.Identity.from_str(line))
            except Exception:
                raise BackupError(f"decrypt: IDENTITY={path}: a line is not a valid age secret key") from None
    if not keys:
        raise BackupError(f"decrypt: IDENTITY={path}: no AGE-SECRET-KEY-1... line in it")
    return keys


def decrypt(encrypted: Path, identity: Path, dest: Path = BACKUP_DIR) -> Path:
    """An encrypted bundle back into ``dest/<app>-<UTC>.tar.gz`` + ``.json`` (0600), checked
    against the manifest inside (size, sha256): what make restore takes. Returns the archive."""
    if not encrypted.is_file():
        raise BackupError(f"decrypt: ARCHIVE={encrypted}: no such file")
    keys = read_identities(identity)
    dest.mkdir(parents=True, exist_ok=True)
    os.chmod(dest, 0o700)
    bundle = dest / f".{encrypted.name}.bundle.partial"
    fd = os.open(bundle, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    made: list[Path] = []
    try:
        try:
            with open(encrypted, "rb") as src, os.fdopen(fd, "wb") as out:
                _age().decrypt_io(src, out, keys)
        except BackupError:
            raise
        except Exception as err:  # pyrage.DecryptError: wrong key, not an age file, truncated
            raise BackupError(f"decrypt: ARCHIVE={encrypted}: cannot decrypt with IDENTITY={identity} "
                              f"({str(err).splitlines()[0] if str(err) else 'not an age file or another key'})") from None
        try:
            with tarfile.open(bundle, mode="r:") as tar:
                members = tar.getmembers()
                names = sorted(mb.name for mb in members)
                archives = [n for n in names if _MEMBER.fullmatch(n)]
                if (len(members) != 2 or len(archives) != 1 or names != sorted([archives[0], archives[0] + ".json"])
                        or not all(mb.isfile() for mb in members)):
                    raise BackupError(f"decrypt: ARCHIVE={encrypted}: not a scheduled backup "
                                      f"(expected <app>-<UTC>.tar.gz and its .json; found {', '.join(names)[:200]})")
                for mb in members:
                    target = dest / mb.name
                    made.append(target)
                    wfd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                    with os.fdopen(wfd, "wb") as out, tar.extractfile(mb) as src:
                        shutil.copyfileobj(src, out, 1 << 20)
        except tarfile.TarError:
            raise BackupError(f"decrypt: ARCHIVE={encrypted}: not a scheduled backup (it decrypts, but is no tar "
                              "of an archive and its .json)") from None
        archive = dest / archives[0]
        manifest = json.loads(Path(f"{archive}.json").read_text())
        if (archive.stat().st_size, sha256(archive)) != (int(manifest["size"]), manifest["sha256"]):
            raise BackupError(f"decrypt: {archive.name}: does not match the manifest inside the bundle")
        made.clear()
        return archive
    finally:
        bundle.unlink(missing_ok=True)
        for path in made:  # a failure leaves nothing half-made behind
            path.unlink(missing_ok=True)


def keygen(path: Path) -> str:
    """A new age identity in ``path`` (0600, refused if it exists); returns the public key."""
    if path.exists():
        raise BackupError(f"keygen: {path} exists: not overwriting an identity")
    identity = _age().x25519.Identity.generate()
    public = str(identity.to_public())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"# created: {datetime.now(timezone.utc).isoformat(timespec='seconds')}\n"
                     f"# public key: {public}\n{identity}\n")
    return public


def scheduled(model: m.DeployModel, out_dir: Path, say: Callable[[str], None] = print,
              remote: Remote | None = None) -> Path:
    """The scheduled job: back up through the platform CLI into a private temporary
    directory (never the workspace), encrypt to backup_recipient into ``out_dir``, and
    delete the plaintext whatever happens. Returns the .age file."""
    recipient = recipient_of(model)  # before the platform is asked anything
    work = Path(tempfile.mkdtemp(prefix="openclaw-backup-", dir=os.environ.get("RUNNER_TEMP") or None))
    os.chmod(work, 0o700)
    try:
        if remote is None:
            if os.environ.get("GITHUB_ACTIONS") == "true":
                try:
                    ci_credentials(model, work)
                except RemoteError as err:
                    raise BackupError(f"backup: {err}") from None
            remote = connect(model, ci=True)
        archive = backup(model, dest=work / "plain", say=say, remote=remote)
        sealed = encrypt(archive, recipient, out_dir)
        say(f"backup: encrypted to {model.backup_recipient[:12]}...{model.backup_recipient[-6:]} "
            f"({sealed.stat().st_size} bytes); the plaintext is deleted")
        return sealed
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------
# CLI: python -m ops.backup create | restore ARCHIVE [--yes] [--from-app APP]
#      | scheduled --out DIR | decrypt ARCHIVE.age --identity FILE | keygen FILE
# --------------------------------------------------------------------------


def load_model(root: Path = Path(".")) -> m.DeployModel:
    return m.build(m.answers_from_file(root / ".copier-answers.yml"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ops.backup", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("create", help="back up the running gateway into backups/")
    rest = sub.add_parser("restore", help="restore an archive made by create")
    rest.add_argument("archive", nargs="?", default="")
    rest.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    rest.add_argument("--from-app", help="accept an archive of this other app (moving state between deploys)")
    sched = sub.add_parser("scheduled", help="back up, encrypt to backup_recipient, keep only the .age file")
    sched.add_argument("--out", required=True, help="directory for the .age file (not backups/)")
    dec = sub.add_parser("decrypt", help="an encrypted backup (.age) back into backups/ for make restore")
    dec.add_argument("archive", nargs="?", default="")
    dec.add_argument("--identity", default=os.environ.get("IDENTITY", ""), help="the age identity file")
    gen = sub.add_parser("keygen", help="make an age identity file; prints its public key (backup_recipient)")
    gen.add_argument("path")
    args = parser.parse_args(argv)

    def run() -> int:
        if args.command == "keygen":
            public = keygen(Path(args.path))
            print(f"keygen: wrote the identity to {args.path} (0600): keep it OFF this repo and the platform",
                  file=sys.stderr)
            print(public)
            return 0
        if args.command == "decrypt":
            if not args.archive or not args.identity:
                raise BackupError("decrypt: ARCHIVE and IDENTITY: both required "
                                  "(make decrypt ARCHIVE=<file>.tar.gz.age IDENTITY=<age identity file>)")
            print(decrypt(Path(args.archive), Path(args.identity)))
            return 0
        model = load_model()
        if args.command == "create":
            print(backup(model))
        elif args.command == "scheduled":
            print(scheduled(model, Path(args.out)))
        else:
            if not args.archive:
                raise BackupError("restore: ARCHIVE: required (make restore ARCHIVE=backups/<app>-<UTC>.tar.gz)")
            restore(model, Path(args.archive), yes=args.yes, from_app=args.from_app)
        return 0
    return one_line_exit(run, BackupError, RemoteError, m.AnswerError, say=_one_line)


def _one_line(err: BaseException) -> str:
    """A hand-edited .copier-answers.yml: one line, the field first; anything else: its message."""
    if isinstance(err, m.AnswerError):
        return "; ".join(msg.replace("\n", ": ", 1) for msg in err.messages)
    return str(err)


if __name__ == "__main__":
    sys.exit(main())
