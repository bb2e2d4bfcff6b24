"""Shared fixtures: a committed snapshot of the template, in-process rendering,
and the real OpenClaw release from npm.

copier renders the newest git tag, not the working tree, so the session
fixture copies the working tree into a temporary git repo, commits it and
tags it v999.0.0 (uncommitted changes and stray tags cannot hide). Tests run
copier in-process (``copier.run_copy``): the CLI spends most of its time importing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "template"))  # the `ops` package
sys.path.insert(0, str(ROOT))

from tests.support.openclaw_npm import OpenClaw, ensure_openclaw  # noqa: E402

DEFAULT_VERSION = yaml.safe_load((ROOT / "template/ops/data/openclaw.yml").read_text())["default_version"]
SNAPSHOT_IGNORE = shutil.ignore_patterns(".git", ".venv", ".cache", "__pycache__", ".pytest_cache", "demo-deploy")


def git(*args: str, cwd: Path) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "PATH": __import__("os").environ["PATH"], "HOME": str(cwd)}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


def snapshot_template(dest: Path, tag: str = "v999.0.0") -> Path:
    """Copy the working tree into a fresh git repo at ``dest``, commit, tag."""
    shutil.copytree(ROOT, dest, ignore=SNAPSHOT_IGNORE)
    git("init", "-q", "-b", "main", cwd=dest)
    git("add", "-A", cwd=dest)
    git("commit", "-q", "-m", "snapshot", cwd=dest)
    git("tag", tag, cwd=dest)
    return dest


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory) -> Path:
    return snapshot_template(tmp_path_factory.mktemp("template") / "openclaw-deploy")


@pytest.fixture(scope="session")
def template_tree(template_repo, tmp_path_factory) -> Path:
    """The snapshot's committed files as a plain folder (no .git): copier uses a folder as it
    is, where it clones a repository first (~1 s a copy). For tests of copier's refusals, which
    come from the template's validators before anything is rendered, whatever the source."""
    dest = tmp_path_factory.mktemp("tree") / "openclaw-deploy"
    shutil.copytree(template_repo, dest, ignore=shutil.ignore_patterns(".git"), symlinks=True)
    return dest


def _git_index_sync_only_inside_git() -> None:
    """copier 9.19 asks git for core.fileMode once per rendered file (~90 `git config` processes
    a render, ~40 % of an in-process render here) to carry executable bits into the destination's
    git index, which its own docstring says is a no-op when the destination is not in a git
    repository. Tests render into fresh folders: that condition is checked here in process, and
    inside a git repository (or with GIT_DIR set) copier runs its own code unchanged."""
    import os

    from copier._main import Worker

    original = Worker._sync_git_index_executable_bit

    def sync(self, dst_relpath, src_mode):
        here = Path(self.subproject.local_abspath).resolve()
        if os.environ.get("GIT_DIR") or any((d / ".git").exists() for d in (here, *here.parents)):
            return original(self, dst_relpath, src_mode)
        return None

    Worker._sync_git_index_executable_bit = sync


_git_index_sync_only_inside_git()


def copy_template(src: Path, dst: Path, data: dict[str, Any] | None = None, **kwargs: Any) -> Path:
    import copier

    copier.run_copy(str(src), str(dst), data=data or {}, defaults=True, unsafe=True,
                    quiet=True, vcs_ref=kwargs.pop("vcs_ref", "HEAD"), **kwargs)
    return dst


@pytest.fixture(scope="session")
def rendered_once(template_repo, tmp_path_factory) -> Callable[[dict[str, Any]], Path]:
    """copier's output for a set of answers, generated once per worker and kept pristine.
    The template has no tasks, so what copier writes depends only on the template commit
    and the answers: a test gets its own copy of it (~20 ms instead of ~1.2 s a render)."""
    import json

    pristine: dict[str, Path] = {}
    base = tmp_path_factory.mktemp("pristine")

    def _get(data: dict[str, Any]) -> Path:
        key = json.dumps(data, sort_keys=True, default=str)
        if key not in pristine:
            pristine[key] = copy_template(template_repo, base / f"r{len(pristine)}", data)
        return pristine[key]

    return _get


@pytest.fixture
def render(rendered_once, tmp_path) -> Callable[..., Path]:
    """render(**answers) -> path of a freshly generated deploy repo, the test's own to change."""
    counter = iter(range(1000))

    def _render(**data: Any) -> Path:
        dest = tmp_path / f"deploy{next(counter)}"
        shutil.copytree(rendered_once(dict(data)), dest, symlinks=True)
        return dest

    return _render


@pytest.fixture(scope="session")
def openclaw() -> OpenClaw:
    return ensure_openclaw(DEFAULT_VERSION)


@pytest.fixture(autouse=True)
def _environ_restored():
    """Every test leaves os.environ as it found it. Code that prepares a CI job's process
    (ops.remote.ci_credentials: DOCKER_HOST=ssh://..., KUBECONFIG; ops.rehearse) updates
    os.environ on purpose; run in-process, it leaked into later tests on the same worker, whose
    engine calls then went over ssh to a test address and hung (the 180 s `image inspect` and
    60 s `docker info` timeouts of two full runs)."""
    import os

    saved = dict(os.environ)
    yield
    if dict(os.environ) != saved:
        os.environ.clear()
        os.environ.update(saved)


def pytest_configure(config) -> None:
    """One run id for the whole run, set before xdist starts its workers (they inherit it):
    the container layer's images, built once per build context, are tagged and removed by it."""
    if not hasattr(config, "workerinput"):
        import os
        import uuid

        os.environ.setdefault("OCD_TEST_RUN", uuid.uuid4().hex[:10])


def pytest_sessionfinish(session) -> None:
    if not hasattr(session.config, "workerinput"):  # the controller, after every worker
        from tests.support.containers import remove_run_images

        remove_run_images()
