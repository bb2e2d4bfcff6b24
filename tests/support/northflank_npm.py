"""Northflank's own CLI and API client from npm, installed once into the test cache.

The generated repo tells users to run ``northflank ...`` commands and ships code that reads
Northflank API answers; both are checked against the real packages, offline:

- ``@northflank/cli`` (the ``northflank`` bin, runs on the machine's Node): every generated
  command is compared with its ``--help`` (nothing contacts a service);
- ``@northflank/js-client``: ``dist/esm/api-client.d.ts``, the API's request/response types
  (build and deployment status values, the combined service's fields).

Pinned versions below; cache ``$OPENCLAW_NPM_CACHE/../northflank-<cli>-<client>``, guarded by a
file lock (pytest-xdist workers install once). A failed install raises with npm's output.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

from tests.support.openclaw_npm import cache_root

CLI = "0.9.24"     # @northflank/cli
CLIENT = "0.9.5"   # @northflank/js-client


def ensure_northflank() -> Path:
    """The install prefix (node_modules/.bin/northflank, node_modules/@northflank/js-client)."""
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        raise RuntimeError("node and npm are needed for the Northflank CLI and client (npm packages)")
    root = cache_root().parent / f"northflank-{CLI}-{CLIENT}"
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / ".installed").exists():
            (root / "package.json").write_text('{"private": true}\n')
            proc = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(root),
                                   f"@northflank/cli@{CLI}", f"@northflank/js-client@{CLIENT}"],
                                  capture_output=True, text=True, timeout=600)
            if proc.returncode or not (root / "node_modules" / ".bin" / "northflank").exists():
                raise RuntimeError(f"npm install of the Northflank CLI/client failed:\n{proc.stdout}\n{proc.stderr}")
            (root / ".installed").write_text(f"{CLI} {CLIENT}\n")
    return root


def cli_help(*words: str) -> str:
    """`northflank <words> --help` (exit 0), with the output's line wrapping as printed."""
    bin_ = ensure_northflank() / "node_modules" / ".bin" / "northflank"
    proc = subprocess.run([str(bin_), *words, "--help"], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin:" + str(Path(shutil.which("node")).parent),
                               "HOME": str(ensure_northflank() / "home"), "COLUMNS": "200"})
    if proc.returncode:
        raise RuntimeError(f"northflank {' '.join(words)} --help exited {proc.returncode}: {proc.stderr}")
    return proc.stdout


def api_types() -> str:
    """The text of the client's API types."""
    return (ensure_northflank() / "node_modules" / "@northflank" / "js-client" / "dist" / "esm"
            / "api-client.d.ts").read_text()
