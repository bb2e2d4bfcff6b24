"""Rehearse an upgrade locally before deploying it: `make rehearse [ARCHIVE=FILE]`.

    python -m ops.rehearse [--archive FILE] [--timeout SECONDS]

Builds ./Dockerfile as this repo now declares it (after `make update -d openclaw_version=...`)
and boots it in your local container engine on a restored copy of a backup archive
(`openclaw backup create` output; default: the newest under backups/), the way the platform
runs it (state dir, env, port and memory read from the deploy model):

1. restore: `openclaw backup restore ARCHIVE --target` in the new image, then the staged state
   and workspace are moved into a fresh volume (the same offline activation a real restore does);
2. boot: the gateway with the image's own entrypoint and command (its first start migrates the
   state), until /readyz says ready (probed inside the container on loopback) or it exits;
3. lint: `openclaw doctor --lint --severity-min error` beside it, on the migrated state.

Prints one verdict line, removes every container, volume and image it made, and exits 0 only
when all three steps passed. The token it boots with is random and never printed; the archive
is copied into the engine, never into this repo. Nothing is deployed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import subprocess
import sys
import tarfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from . import model as m

BACKUPS = Path("backups")
HEALTHCHECK = "/opt/openclaw-deploy/healthcheck.mjs"
STAGE = "/tmp/openclaw-rehearse"


class RehearsalFailed(Exception):
    """One step failed: the message is the verdict's reason."""


def docker(*args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
    # BuildKit: the generated Dockerfile uses COPY --chmod.
    env = {**os.environ, "DOCKER_BUILDKIT": "1"}
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode:
        raise RehearsalFailed(f"`docker {args[0]}` failed ({proc.returncode}): {tail(proc.stderr or proc.stdout)}")
    return proc


def tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def newest_archive(folder: Path = BACKUPS) -> Path:
    found = sorted(folder.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime) if folder.is_dir() else []
    if not found:
        raise SystemExit(f"error: ARCHIVE: no backup archive (*.tar.gz) under {folder}/; "
                         "take one with `make backup` or pass ARCHIVE=FILE")
    return found[-1]


def read_manifest(archive: Path) -> dict:
    """The archive's manifest.json (written by `openclaw backup create`), read without extracting."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.name.count("/") == 1 and member.name.endswith("/manifest.json"):
                    return json.load(tar.extractfile(member))
    except (OSError, tarfile.TarError, ValueError) as err:
        raise SystemExit(f"error: ARCHIVE: {archive} is not a readable openclaw backup archive ({err})")
    raise SystemExit(f"error: ARCHIVE: {archive} has no manifest.json (make it with `openclaw backup create`)")


def activation_moves(manifest: dict, model: m.DeployModel) -> list[tuple[str, str]]:
    """(staged path, destination) pairs: the archived state dir to this deploy's state dir,
    the first archived workspace (when it was outside the state dir) to its workspace dir."""
    assets = manifest.get("assets") or []
    state = [a for a in assets if a.get("kind") == "state"]
    if not state:
        raise SystemExit("error: ARCHIVE: the archive holds no state directory (made with --only-config?)")
    source_state = state[0]["sourcePath"].rstrip("/")
    moves = [(state[0]["archivePath"], model.state_dir)]
    for asset in assets:
        if asset.get("kind") == "workspace" and not asset["sourcePath"].startswith(source_state + "/"):
            moves.append((asset["archivePath"], model.workspace_dir))
            break
    return moves


@dataclass
class Rehearsal:
    model: m.DeployModel
    archive: Path
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    token: str = field(default_factory=lambda: secrets.token_hex(24))
    made: list[tuple[str, str]] = field(default_factory=list)  # (kind, name) to remove

    @property
    def prefix(self) -> str:
        return f"{self.model.app_name}-rehearse-{self.run_id}"

    @property
    def image(self) -> str:
        return f"{self.prefix}:candidate"

    def mounts(self) -> list[str]:
        flags = []
        places = [(self.model.volume_mount, "state")]
        if self.model.workspace_volume_mount:
            places.append((self.model.workspace_volume_mount, "workspace"))
        for mount, role in places:
            volume = f"{self.prefix}-{role}"
            if ("volume", volume) not in self.made:
                docker("volume", "create", volume)
                self.made.append(("volume", volume))
            flags += ["-v", f"{volume}:{mount}"]
        return flags

    def env_flags(self) -> list[str]:
        """The platform's env as the model declares it; values pass through our environment,
        never argv (the token included)."""
        os.environ.update(self.model.env)
        os.environ[self.model.token_env] = self.token
        return [flag for key in [*self.model.env, self.model.token_env] for flag in ("-e", key)]

    # ---- steps ----

    def build(self) -> None:
        self.made.append(("image", self.image))
        docker("build", "-t", self.image, ".", timeout=1800)

    def restore(self, manifest: dict) -> None:
        moves = activation_moves(manifest, self.model)
        root = manifest.get("archiveRoot", "")
        script = ["set -eu", f"openclaw backup restore /tmp/archive.tar.gz --target {STAGE} >/dev/null"]
        for staged, dest in moves:
            script.append(f"mkdir -p {shlex.quote(dest)} && cp -a {shlex.quote(f'{STAGE}/{staged}')}/. {shlex.quote(dest)}/")
        script.append(f"rm -rf {STAGE}")
        name = f"{self.prefix}-restore"
        self.made.append(("container", name))
        # root inside the container: the fresh volume is root-owned; the entrypoint hands it
        # to the gateway's user on the next start.
        docker("create", "--name", name, "--user", "0", "--entrypoint", "sh", *self.mounts(), *self.env_flags(),
               self.image, "-c", "\n".join(script))
        docker("cp", str(self.archive), f"{name}:/tmp/archive.tar.gz")
        proc = docker("start", "-a", name, check=False, timeout=600)
        if proc.returncode:
            raise RehearsalFailed(f"restore of {root or self.archive.name} failed ({proc.returncode}): "
                                  f"{tail(proc.stderr + proc.stdout)}")

    def lint(self) -> str:
        """`openclaw doctor --lint` in the running gateway's container, on the state its start
        migrated (before the first start of a new release, doctor reports the unmigrated
        schema as an error and asks for the migration the start does)."""
        proc = docker("exec", "-u", m.openclaw()["image_user"], f"{self.prefix}-gateway", "openclaw", "doctor",
                      "--lint", "--severity-min", "error", check=False, timeout=600)
        if proc.returncode:
            raise RehearsalFailed(f"`openclaw doctor --lint` exited {proc.returncode}: {tail(proc.stdout + proc.stderr)}")
        return tail(proc.stdout, 1)

    def boot(self, timeout: float) -> float:
        name = f"{self.prefix}-gateway"
        self.made.append(("container", name))
        started = time.monotonic()
        docker("run", "-d", "--name", name, "--hostname", self.model.app_name,
               "--memory", f"{self.model.container_memory_mb or self.model.memory_mb}m",
               *self.mounts(), *self.env_flags(), self.image)
        last = "no answer yet"
        while time.monotonic() - started < timeout:
            state = json.loads(docker("inspect", "--format", "{{json .State}}", name).stdout)
            if state.get("Status") in ("exited", "dead"):
                logs = docker("logs", name, check=False)
                raise RehearsalFailed(f"the gateway exited {state.get('ExitCode')} on the restored state:\n"
                                      f"{tail(logs.stdout + logs.stderr)}")
            probe = docker("exec", name, "node", HEALTHCHECK, str(self.model.port), self.model.readiness_path,
                           check=False, timeout=30)
            if probe.returncode == 0:
                return time.monotonic() - started
            last = tail(probe.stderr, 2) or last
            time.sleep(2)
        raise RehearsalFailed(f"{self.model.readiness_path} not ready after {timeout:.0f} s: {last}")

    def make_archive(self, dest: Path, timeout: float) -> Path:
        """A state made by this repo's release: the gateway boots on a fresh volume, then
        `openclaw backup create --verify` runs inside it; the archive is copied to ``dest``."""
        self.build()
        self.boot(timeout)
        before = set(dest.glob("*.tar.gz")) if dest.is_dir() else set()
        dest.mkdir(parents=True, exist_ok=True)
        name = f"{self.prefix}-gateway"
        docker("exec", "-u", m.openclaw()["image_user"], name, "sh", "-c",
               "mkdir -p /tmp/backup && openclaw backup create --output /tmp/backup --verify", timeout=600)
        docker("cp", f"{name}:/tmp/backup/.", str(dest))
        made = sorted(set(dest.glob("*.tar.gz")) - before)
        if not made:
            raise RehearsalFailed("`openclaw backup create` wrote no archive")
        return made[-1]

    def cleanup(self) -> None:
        """Containers first (a volume in use cannot go), then volumes, then the image."""
        args = {"container": ("rm", "-f", "-v"), "volume": ("volume", "rm", "-f"), "image": ("image", "rm", "-f")}
        for kind in ("container", "volume", "image"):
            for made_kind, name in self.made:
                if made_kind == kind:
                    docker(*args[kind], name, check=False, timeout=300)
        self.made.clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", default="", help="backup archive (default: the newest backups/*.tar.gz)")
    parser.add_argument("--make-archive", metavar="DIR", default="",
                        help="instead: boot this repo's release on a fresh volume and back it up into DIR "
                             "(a state made by the current release, for a rehearsal after the update)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for /readyz (default 600)")
    args = parser.parse_args(argv)
    model = m.build(m.answers_from_file(".copier-answers.yml"))
    if args.make_archive:
        rehearsal = Rehearsal(model, Path())
        try:
            archive = rehearsal.make_archive(Path(args.make_archive), args.timeout)
        except RehearsalFailed as failed:
            print(f"rehearse: FAIL no archive from openclaw {model.openclaw_version}: {failed}", flush=True)
            return 1
        finally:
            rehearsal.cleanup()
        print(f"rehearse: archive of a fresh openclaw {model.openclaw_version} state: {archive}")
        return 0
    archive = Path(args.archive) if args.archive else newest_archive()
    if not archive.is_file():
        raise SystemExit(f"error: ARCHIVE: {archive} is not a file")
    manifest = read_manifest(archive)
    rehearsal = Rehearsal(model, archive)
    what = (f"openclaw {model.openclaw_version} ({model.platform_label}) on {archive.name} "
            f"(made by {manifest.get('runtimeVersion', '?')})")
    print(f"rehearse: {what}", flush=True)
    try:
        print("rehearse: build ...", flush=True)
        rehearsal.build()
        print("rehearse: restore ...", flush=True)
        rehearsal.restore(manifest)
        print("rehearse: boot ...", flush=True)
        seconds = rehearsal.boot(args.timeout)
        print("rehearse: doctor --lint ...", flush=True)
        rehearsal.lint()
    except RehearsalFailed as failed:
        print(f"rehearse: FAIL {what}: {failed}", flush=True)
        return 1
    except KeyboardInterrupt:
        print("rehearse: interrupted", flush=True)
        return 130
    finally:
        rehearsal.cleanup()
    print(f"rehearse: PASS {what}: restored, {model.readiness_path} ready after {seconds:.0f} s, doctor --lint clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
