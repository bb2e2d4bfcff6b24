"""Template releases and deploy repos for update tests.

``TemplateHistory`` is a throwaway git clone of this template's working tree
(``snapshot_template``) in which a test writes its own release history: edit
files, commit, tag. ``generate`` renders a deploy repo from one of those tags
and commits it, the way a user's repo starts; ``update`` runs ``copier update``
in-process the way ``make update`` does.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import copy_template, git, snapshot_template


class TemplateHistory:
    def __init__(self, dest: Path, first_tag: str = "v0.1.0"):
        self.root = snapshot_template(dest, tag=first_tag)

    def path(self, relpath: str) -> Path:
        return self.root / relpath

    def edit(self, relpath: str, old: str, new: str, count: int = 1) -> None:
        """Replace ``old`` by ``new`` in a template file; the text must be there."""
        path = self.path(relpath)
        text = path.read_text(encoding="utf-8")
        assert text.count(old) >= count, f"{old!r} not in {relpath}: the test is out of date"
        path.write_text(text.replace(old, new, count), encoding="utf-8")

    def write(self, relpath: str, text: str) -> None:
        path = self.path(relpath)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def release(self, tag: str) -> str:
        git("add", "-A", cwd=self.root)
        git("commit", "-q", "--allow-empty", "-m", f"release {tag}", cwd=self.root)
        git("tag", tag, cwd=self.root)
        return tag


def commit_all(repo: Path, message: str) -> None:
    git("add", "-A", cwd=repo)
    git("commit", "-q", "--allow-empty", "-m", message, cwd=repo)


def generate(history: TemplateHistory, dst: Path, data: dict[str, Any] | None = None,
             tag: str = "v0.1.0") -> Path:
    """A deploy repo generated at ``tag`` and committed (copier updates only git repos)."""
    copy_template(history.root, dst, data or {}, vcs_ref=tag)
    git("init", "-q", "-b", "main", cwd=dst)
    commit_all(dst, f"generated from openclaw-deploy {tag}")
    return dst


def update(repo: Path, **kwargs: Any) -> None:
    """``copier update --trust --defaults`` in-process (newest tag unless vcs_ref=...)."""
    import copier

    kwargs.setdefault("defaults", True)
    copier.run_update(str(repo), unsafe=True, overwrite=True, quiet=True, **kwargs)


def edit_file(repo: Path, relpath: str, old: str, new: str) -> None:
    path = repo / relpath
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {relpath}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def changed_files(repo: Path) -> set[str]:
    out = subprocess.run(["git", "status", "--porcelain=v1", "-uall"], cwd=repo,
                         capture_output=True, text=True, check=True).stdout
    return {line[3:] for line in out.splitlines()}
