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
(ops/backup.py). The per-platform pieces are the functions keyed by platform
in ``TRANSPORTS`` at the bottom (a later refactor moves each into
``ops/platforms/<name>.py``).
"""

from __future__ import annotations

import base64
import os
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import model as m


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
# Per platform: the values its argv needs (side by side, one function each)
# --------------------------------------------------------------------------


def _values_app(model: m.DeployModel) -> dict[str, str]:
    """Fly, Compose, Railway, Northflank, Kubernetes: the app name is all they need."""
    return {"app": model.app_name}


def _values_render(model: m.DeployModel) -> dict[str, str]:
    service = os.environ.get("RENDER_SERVICE_ID", "")
    if not service.startswith("srv-"):
        raise RemoteError("RENDER_SERVICE_ID: set it to the service's id (srv-..., Dashboard > Connect > SSH)")
    return {"app": model.app_name, "service_id": service, "region": model.region}


TRANSPORTS: dict[str, Callable[[m.DeployModel], dict[str, str]]] = {
    "fly": _values_app,
    "gcp": _values_app,
    "vps": _values_app,
    "railway": _values_app,
    "northflank": _values_app,
    "render": _values_render,
    "kubernetes": _values_app,
}


def connect(model: m.DeployModel, ci: bool = False) -> Remote:
    """The platform's transport; ``ci``: as the scheduled backup job runs it (``ci_run``
    where the CLI needs more than a person's linked directory gives it)."""
    spec: dict[str, Any] = m.platform_facts(model.platform)["transfer"]
    values = TRANSPORTS[model.platform](model)
    run = spec.get("ci_run") if ci and spec.get("ci_run") else spec["run"]
    if ci:
        values["environment"] = str(m.load("ci")["tools"]["railway"]["environment"])
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


def _need(env: dict[str, str], *names: str) -> None:
    """Each variable set, or one line naming the secrets (ci.yml) that fill the missing ones."""
    secret = {s["env"]: s["name"] for kind in m.load("ci")["backup"]["secrets"].values() for s in kind}
    missing = [n if secret.get(n, n) == n else f"{n} (secret {secret[n]})" for n in names if not env.get(n)]
    if missing:
        raise RemoteError(f"{', '.join(missing)}: empty: add {'it' if len(missing) == 1 else 'them'} to the "
                          "GitHub environment `backup` (RUNBOOK.md, Day two: scheduled backups)")


def _write(path: Path, text: str) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text if text.endswith("\n") else text + "\n")
    return path


def _ssh_config(env: dict[str, str], workdir: Path, host: str, key: str, known: str) -> None:
    """An ssh config only for ``host``: the key from the secret, ONLY the pinned host key
    (StrictHostKeyChecking=yes), no agent, no prompt. `ssh -F` is not used by the CLIs
    that call ssh (docker's ssh helper), so it becomes ~/.ssh/config on the runner."""
    keyfile = _write(workdir / "ssh_key", env[key])
    knownfile = _write(workdir / "known_hosts", env[known])
    ssh_dir = Path(env.get("HOME") or Path.home()) / ".ssh"
    ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    block = (f"Host {host}\n  IdentityFile {keyfile}\n  IdentitiesOnly yes\n  BatchMode yes\n"
             f"  StrictHostKeyChecking yes\n  UserKnownHostsFile {knownfile}\n"
             "  GlobalKnownHostsFile /dev/null\n  ConnectTimeout 20\n")
    config = ssh_dir / "config"
    previous = config.read_text() if config.exists() else ""
    _write(config, block + ("\n" + previous if previous else ""))


def _ci_fly(model: m.DeployModel, env: dict[str, str], workdir: Path) -> None:
    _need(env, "FLY_API_TOKEN")  # flyctl reads it (an ssh token: fly tokens create ssh)


def _ci_railway(model: m.DeployModel, env: dict[str, str], workdir: Path) -> None:
    _need(env, "RAILWAY_TOKEN")  # the project token; the service and environment are on the argv


def _ci_render(model: m.DeployModel, env: dict[str, str], workdir: Path) -> None:
    _need(env, "RENDER_SSH_KEY", "RENDER_SSH_KNOWN_HOSTS", "RENDER_SERVICE_ID")
    _ssh_config(env, workdir, f"ssh.{model.region}.render.com", "RENDER_SSH_KEY", "RENDER_SSH_KNOWN_HOSTS")


def _ci_northflank(model: m.DeployModel, env: dict[str, str], workdir: Path) -> None:
    _need(env, "NORTHFLANK_API_TOKEN")
    try:
        proc = subprocess.run(["northflank", "login", "-n", "backup", "-t", env["NORTHFLANK_API_TOKEN"]],
                              env=env, capture_output=True, timeout=120)
    except FileNotFoundError:
        raise RemoteError("`northflank` is not installed (needed to reach the northflank deploy)") from None
    if proc.returncode:  # its output may echo the context, never the token: only the last line
        raise RemoteError(f"northflank login failed ({proc.returncode}): "
                          f"{_last_line(proc.stderr).replace(env['NORTHFLANK_API_TOKEN'], '***')}")


def _ci_compose(model: m.DeployModel, env: dict[str, str], workdir: Path) -> None:
    _need(env, "DEPLOY_SSH_KEY", "DEPLOY_SSH_KNOWN_HOSTS", "DEPLOY_SSH_TARGET")
    target = env["DEPLOY_SSH_TARGET"]
    _ssh_config(env, workdir, target.rsplit("@", 1)[-1], "DEPLOY_SSH_KEY", "DEPLOY_SSH_KNOWN_HOSTS")
    # docker compose exec/cp on the VM's engine, in the project the deploy job made there
    # (~/<app>: the project takes the directory's name)
    env["DOCKER_HOST"] = f"ssh://{target}"
    env["COMPOSE_PROJECT_NAME"] = model.app_name


def _ci_kubernetes(model: m.DeployModel, env: dict[str, str], workdir: Path) -> None:
    _need(env, "KUBECONFIG_DATA")
    env["KUBECONFIG"] = str(_write(workdir / "kubeconfig", env["KUBECONFIG_DATA"]))


CI_CREDENTIALS: dict[str, Callable[[m.DeployModel, dict[str, str], Path], None]] = {
    "fly": _ci_fly,
    "gcp": _ci_compose,
    "vps": _ci_compose,
    "railway": _ci_railway,
    "northflank": _ci_northflank,
    "render": _ci_render,
    "kubernetes": _ci_kubernetes,
}


def ci_credentials(model: m.DeployModel, workdir: Path) -> None:
    """Prepare the platform CLI's credentials from the job's env (os.environ is updated)."""
    env = dict(os.environ)
    CI_CREDENTIALS[model.platform](model, env, workdir)
    os.environ.update(env)


# --------------------------------------------------------------------------
# The runbook's own exec line (platforms.yml `exec`, what a person types) made
# batch: no `-it`/`--pty`, Compose's `-T`. `make cost P='-p mode live'` runs
# usage-cost this way (ops/spend.py). Two argv sources for one transport
# (`exec` for people, `transfer` for programs) are one fact told twice: the
# per-platform move (ops/platforms/<name>.py) folds them into one.
# --------------------------------------------------------------------------
# platform -> how its interactive exec line becomes a batch one:
# (flags to drop, flags to add after the first word pair, where it runs)
BATCH: dict[str, dict] = {
    "fly": {"drop": ["--pty"]},
    "gcp": {"add_after": ["docker", "compose", "exec"], "add": ["-T"]},
    "vps": {"add_after": ["docker", "compose", "exec"], "add": ["-T"]},
    "railway": {},
    "northflank": {},
    "kubernetes": {"drop": ["-it"]},
    "render": {"manual": True},
}


def batch_argv(platform: str, app: str, region: str | None, cmd: str) -> tuple[list[str] | None, str]:
    """(argv, "") to run ``cmd`` in the deploy, or (None, where to run it by hand)."""
    facts = m.platforms().get(platform) or {}
    spec = facts.get("exec")
    batch = BATCH.get(platform)
    if not spec or batch is None:
        return None, f"no exec recorded for {platform}"
    if batch.get("manual"):
        return None, f"{facts.get('label', platform)} runs commands {spec.get('where', 'by hand').format(app=app, region=region)}"
    line = spec["command"]
    # the command is substituted as one shell word where the template quotes it ("{cmd}")
    words = shlex.split(line.replace('"{cmd}"', "{cmd}").replace("{cmd}", "\0CMD\0"))
    out: list[str] = []
    for word in words:
        word = word.format(app=app, region=region) if "\0" not in word else word
        if word in batch.get("drop", ()):
            continue
        if word == "\0CMD\0":
            quoted = '"{cmd}"' in line
            out += [cmd] if quoted else shlex.split(cmd)
            continue
        out.append(word)
        after = batch.get("add_after")
        if after and out[-len(after):] == after:
            out += batch["add"]
    return out, ""
