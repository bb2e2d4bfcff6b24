"""Run a command in the running gateway container, and copy a file out or in,
through each platform's own CLI (stdlib only).

One interface for every platform, built from ``transfer`` in
``ops/data/platforms.yml`` (the argv each CLI takes, where it came from, what
is unchecked):

    remote = connect(model)
    remote.exec("ls /data", stdin=None)   -> CompletedProcess (bytes)
    remote.copy_out("/tmp/a.tar.gz", Path("backups/a.tar.gz"))
    remote.copy_in(Path("backups/a.tar.gz"), "/data/x/a.tar.gz")

Commands run as the gateway's user (uid 1000) without a terminal. A platform
whose CLI has no file copy streams the file through ``exec`` instead: raw bytes
(``cat``) where the session passes them unchanged, base64 where it may not
(``stream: base64``). Callers verify size and sha256 on both ends either way
(ops/backup.py). The per-platform piece is each platform's ``remote_values``
(ops/platforms/<kind>.py): the values its argv names. ``make cost``'s live mode
(ops/spend.py) runs its one command through the same ``Remote``.
"""

from __future__ import annotations

import base64
import os
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import model as m
from . import platforms


class RemoteError(RuntimeError):
    """A platform CLI failed or is missing: the message is one line for the user."""


@dataclass
class Remote:
    platform: str
    app: str
    run_argv: list[str]
    copy_out_argv: list[str] | None = None
    copy_in_argv: list[str] | None = None
    stream: str = "raw"  # raw | base64
    values: dict[str, str] = field(default_factory=dict)

    # ---- building the argv -------------------------------------------------
    def _fill(self, template: list[str], **extra: str) -> list[str]:
        values = {**self.values, **extra}
        return [part.format(**values) for part in template]

    def argv(self, cmd: str) -> list[str]:
        """The platform CLI's argv running the shell command ``cmd`` remotely.
        Where the CLI takes the command as one string for a remote shell, the
        data file writes ``sh -c {cmd}`` and the command is quoted for it."""
        quoted = any("sh -c {cmd}" in part for part in self.run_argv)
        return self._fill(self.run_argv, cmd=shlex.quote(cmd) if quoted else cmd)

    # ---- the interface ------------------------------------------------------
    def exec(self, cmd: str, stdin: bytes | Path | None = None, timeout: float = 1800,
             check: bool = True) -> subprocess.CompletedProcess:
        argv = self.argv(cmd)
        try:
            if isinstance(stdin, Path):
                with open(stdin, "rb") as handle:
                    proc = subprocess.run(argv, stdin=handle, capture_output=True, timeout=timeout)
            else:
                proc = subprocess.run(argv, input=stdin if stdin is not None else b"", capture_output=True,
                                      timeout=timeout)
        except FileNotFoundError:
            raise RemoteError(f"`{argv[0]}` is not installed (needed to reach the {self.platform} deploy)") from None
        except subprocess.TimeoutExpired:
            raise RemoteError(f"`{argv[0]}` did not answer within {timeout:.0f} s") from None
        if check and proc.returncode:
            raise RemoteError(f"`{' '.join(argv[:3])} ...` failed ({proc.returncode}): {_last_line(proc.stderr)}")
        return proc

    def copy_out(self, remote: str, local: Path) -> None:
        """The remote file ``remote`` to ``local`` (created 0600)."""
        local.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(local, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        if self.copy_out_argv:
            self._run(self._fill(self.copy_out_argv, remote=remote, local=str(local)))
            os.chmod(local, 0o600)
            return
        if self.stream == "base64":
            proc = self.exec(f"base64 -w 0 {shlex.quote(remote)}")
            data = base64.b64decode(b"".join(proc.stdout.split()), validate=False)
        else:
            data = self.exec(f"cat {shlex.quote(remote)}").stdout
        with open(local, "wb") as handle:
            handle.write(data)

    def copy_in(self, local: Path, remote: str) -> None:
        """``local`` to the remote path ``remote`` (mode 0600, owned by uid 1000)."""
        if self.copy_in_argv:
            self._run(self._fill(self.copy_in_argv, remote=remote, local=str(local)))
            return
        target = shlex.quote(remote)
        if self.stream == "base64":
            encoded = base64.encodebytes(local.read_bytes())  # 76-character lines
            self.exec(f"umask 077 && base64 -d -i > {target}", stdin=encoded)
        else:
            self.exec(f"umask 077 && cat > {target}", stdin=local)

    def _run(self, argv: list[str]) -> None:
        try:
            proc = subprocess.run(argv, capture_output=True, timeout=1800)
        except FileNotFoundError:
            raise RemoteError(f"`{argv[0]}` is not installed (needed to reach the {self.platform} deploy)") from None
        if proc.returncode:
            raise RemoteError(f"`{' '.join(argv[:4])} ...` failed ({proc.returncode}): {_last_line(proc.stderr)}")


def _last_line(data: bytes) -> str:
    lines = [line for line in data.decode(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else "no error output"


# --------------------------------------------------------------------------


class Unreachable(Remote):
    """A transport that reaches nothing, and says why (a CI job without the exec
    credentials): every command fails with that one line, so a safe upgrade sees
    no running gateway and deploys without a pre-update backup, saying so."""

    def __init__(self, platform: str, app: str, why: str):
        super().__init__(platform=platform, app=app, run_argv=[])
        self.why = why

    def exec(self, cmd: str, stdin: bytes | Path | None = None, timeout: float = 1800,
             check: bool = True) -> subprocess.CompletedProcess:
        raise RemoteError(self.why)


def app_values(model: m.DeployModel) -> dict[str, str]:
    """The values most platforms' argv name: the app name is all they need."""
    return {"app": model.app_name}


def runnable(model: m.DeployModel) -> bool:
    """Whether a command can run in the deploy from the answers alone (no value that
    only the platform's dashboard shows, like Render's service id)."""
    room = platforms.get(model.platform)
    return bool(room and "transfer" in m.platform_facts(model.platform) and not room.REMOTE_NEEDS)


def connect(model: m.DeployModel, ci: bool = False, values: dict[str, str] | None = None) -> Remote:
    """The platform's transport; ``ci``: as the scheduled backup job runs it (``ci_run``
    where the CLI needs more than a person's linked directory gives it); ``values``: the
    argv's values when the caller already knows them (else the room's ``remote_values``)."""
    spec: dict[str, Any] = m.platform_facts(model.platform)["transfer"]
    room = platforms.get(model.platform)
    values = dict(values) if values is not None else room.remote_values(model)
    run = spec.get("ci_run") if ci and spec.get("ci_run") else spec["run"]
    if ci:  # what the job's argv names beyond a person's linked directory (Railway: its environment)
        values.update(getattr(room, "ci_values", lambda _model: {})(model))
    return Remote(platform=model.platform, app=model.app_name, run_argv=list(run),
                  copy_out_argv=spec.get("copy_out"), copy_in_argv=spec.get("copy_in"),
                  stream=spec.get("stream", "raw"), values=values)


# --------------------------------------------------------------------------
# CI credentials for the scheduled backup job (.github/workflows/backup.yml): the
# step's env holds the secrets (ci.yml `backup.secrets`, under the names each CLI
# reads); these turn them into what the CLI needs, in ``workdir`` (0700, removed by
# the caller). Per platform, side by side. Nothing is printed; only the variables
# each CLI reads are set in ``env``.
# --------------------------------------------------------------------------


def need(env: dict[str, str], *names: str) -> None:
    """Each variable set, or one line naming the secrets (ci.yml) that fill the missing ones."""
    secret = {s["env"]: s["name"] for kind in m.load("ci")["backup"]["secrets"].values() for s in kind}
    missing = [n if secret.get(n, n) == n else f"{n} (secret {secret[n]})" for n in names if not env.get(n)]
    if missing:
        raise RemoteError(f"{', '.join(missing)}: empty: add {'it' if len(missing) == 1 else 'them'} to the "
                          "GitHub environment `backup` (RUNBOOK.md, Day two: scheduled backups)")


def write_private(path: Path, text: str) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text if text.endswith("\n") else text + "\n")
    return path


def ssh_config(env: dict[str, str], workdir: Path, host: str, key: str, known: str) -> None:
    """An ssh config only for ``host``: the key from the secret, ONLY the pinned host key
    (StrictHostKeyChecking=yes), no agent, no prompt. `ssh -F` is not used by the CLIs
    that call ssh (docker's ssh helper), so it becomes ~/.ssh/config on the runner."""
    keyfile = write_private(workdir / "ssh_key", env[key])
    knownfile = write_private(workdir / "known_hosts", env[known])
    ssh_dir = Path(env.get("HOME") or Path.home()) / ".ssh"
    ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    block = (f"Host {host}\n  IdentityFile {keyfile}\n  IdentitiesOnly yes\n  BatchMode yes\n"
             f"  StrictHostKeyChecking yes\n  UserKnownHostsFile {knownfile}\n"
             "  GlobalKnownHostsFile /dev/null\n  ConnectTimeout 20\n")
    config = ssh_dir / "config"
    previous = config.read_text() if config.exists() else ""
    write_private(config, block + ("\n" + previous if previous else ""))


def ci_credentials(model: m.DeployModel, workdir: Path) -> None:
    """Prepare the platform CLI's credentials from the job's env (os.environ is updated):
    the room's ``ci_credentials`` (ops/platforms/<kind>.py)."""
    env = dict(os.environ)
    platforms.get(model.platform).ci_credentials(model, env, workdir)
    os.environ.update(env)
