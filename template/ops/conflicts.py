"""What ``copier update`` could not merge, so nobody commits half a merge.

    python -m ops.conflicts [--repo DIR]

``copier update`` exits 0 even when it leaves conflicts, in one of three
shapes: files git reports as unmerged (``UU`` and friends in ``git status``),
standard conflict markers inside a file (``<<<<<<<`` ... ``>>>>>>>``), or
``*.rej`` files next to the file whose hunk did not apply (``--conflict rej``).
This lists every one of them; exit status 1 when there is any.
``make update`` runs it after copier, and ``make verify`` includes it.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

UNMERGED = {"DD", "AU", "UD", "UA", "DU", "AA", "UU"}
MARKER = re.compile(r"^(?:<{7}|>{7})(?: |$)", re.MULTILINE)
SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__"}


def _git(root: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, timeout=30)
    return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else ""


def find_conflicts(root: str | Path) -> list[str]:
    """One line per conflict: ``path: what``. Empty when the update merged cleanly."""
    root = Path(root)
    found: list[str] = []
    for line in _git(root, "status", "--porcelain=v1", "-z").split("\0"):
        if line[:2] in UNMERGED:
            found.append(f"{line[3:]}: unmerged (git status {line[:2]})")
    rejects = [p for p in root.rglob("*.rej") if not SKIP_DIRS & set(p.relative_to(root).parts)]
    found += [f"{p.relative_to(root)}: hunks copier could not apply" for p in sorted(rejects)]
    names = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for name in sorted(set(n for n in names if n)):
        path = root / name
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        match = MARKER.search(text)
        if match:
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{name}:{line}: conflict markers")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="list conflicts a `copier update` left behind")
    parser.add_argument("--repo", default=".", help="deploy repo (default: .)")
    args = parser.parse_args(argv)
    found = find_conflicts(args.repo)
    if not found:
        print("no conflicts: review `git diff`, run `make verify`, then commit")
        return 0
    print("the update left conflicts (see RUNBOOK.md, Upgrading):")
    print("\n".join(f"  {line}" for line in found))
    return 1


if __name__ == "__main__":
    sys.exit(main())
