"""README's first command, as a newcomer runs it: twice, in a fresh clone.

copier copies a template checkout with uncommitted changes (an untracked
`demo-deploy.<timestamp>` is one) into a temporary commit and records that
commit as `_commit`: every later `make update` of the repo then fails with
"Unknown revision". The demo must never leave the checkout dirty.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ops import template_source
from tests.conftest import git, snapshot_template

pytestmark = pytest.mark.slow


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV",)}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=600)


def test_demo_twice_leaves_the_checkout_clean_and_update_able(tmp_path):
    origin = snapshot_template(tmp_path / "origin")
    clone = tmp_path / "openclaw-deploy"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    for run in (1, 2):
        proc = _run(["bash", "scripts/demo.sh"], clone)
        assert proc.returncode == 0, f"run {run}:\n{proc.stdout}{proc.stderr}"
        assert "DirtyLocalWarning" not in proc.stderr, proc.stderr
        status = git("status", "--porcelain", "--untracked-files=all", cwd=clone)
        assert status == "", f"run {run} dirtied the template checkout:\n{status}"
    assert len(list(clone.glob("demo-deploy.*"))) == 1  # the first demo, moved aside
    # the recorded _commit is one `make update` can check out
    assert template_source.missing_commit(clone / "demo-deploy") == ""
    commit = template_source.answered(clone / "demo-deploy", "_commit")
    git("rev-parse", "--verify", f"{commit}^{{commit}}", cwd=clone)
