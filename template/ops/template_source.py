"""Which template `make update` may run: the one this repo was generated from.

copier runs a template's code (its Jinja extension, migrations and tasks; the
Makefile passes --trust because this template needs its extension). The
template it runs is ``_src_path`` in ``.copier-answers.yml``, a file a pull
request can edit quietly. The Makefile records the template URL at generation
(``TEMPLATE := ...``, an edit there is visible in review): ``make update``
refuses, and ``make verify`` fails, when the two differ.

It also refuses, in one line, a ``_commit`` the template (a local checkout)
does not have: copier records a commit that exists only in its temporary copy
when it copies from a template checkout with uncommitted changes, and every
later ``copier update`` then dies with "Unknown revision".

    python -m ops.template_source [--repo DIR]    exit 1 with one line on a mismatch
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import yaml

MAKE_LINE = re.compile(r"^TEMPLATE\s*:?=\s*(.*?)\s*$", re.MULTILINE)


def make_literal(value: object) -> str:
    """A value written into the Makefile as plain text: make expands `$` at once
    in `:=` (a template path with `$(shell ...)` would run it), `#` starts a
    comment; a control character (a newline would add Makefile lines) is refused."""
    text = str(value)
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError(f"template path {text!r}: control characters cannot be written into the Makefile")
    return text.replace("$", "$$").replace("#", "\\#")


def make_text(literal: str) -> str:
    """The value make sees for a make_literal() text."""
    return re.sub(r"\$\$|\\#", lambda mt: mt.group(0)[-1], literal)


def recorded(root: Path) -> str | None:
    """The template URL the Makefile records, or None when it records none."""
    try:
        text = (root / "Makefile").read_text(encoding="utf-8")
    except OSError:
        return None
    found = MAKE_LINE.search(text)
    return make_text(found.group(1)) if found else None


def answered(root: Path, key: str = "_src_path") -> str | None:
    """``_src_path`` (or another ``key``) of .copier-answers.yml: the template copier update would run."""
    try:
        data = yaml.safe_load((root / ".copier-answers.yml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None
    value = data.get(key) if isinstance(data, dict) else None
    return str(value) if value is not None else None


def missing_commit(root: str | Path) -> str:
    """Why ``_commit`` cannot be checked out of the template, in one line ("" when it can, or when
    the template is not a local git checkout: a remote one is not asked, verify stays offline)."""
    root = Path(root)
    template, commit = recorded(root) or answered(root), answered(root, "_commit")
    if not template or not commit or not (Path(template) / ".git").exists():
        return ""
    found = subprocess.run(["git", "-C", template, "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"],
                           capture_output=True, text=True, check=False)
    if found.returncode == 0:
        return ""
    release = re.sub(r"-\d+-g[0-9a-f]+$", "", commit)
    hint = f" (e.g. {release})" if release != commit else ""
    return (f"_commit {commit} in .copier-answers.yml is not in the template {template} (it was generated "
            "from uncommitted template changes), so copier update cannot check it out: set _commit to the "
            f"template commit or tag it came from{hint}")


def problem(root: str | Path) -> str:
    """Why `copier update` must not run here, in one line; "" when the template is the recorded one."""
    root = Path(root)
    want, have = recorded(root), answered(root)
    if want is None:
        return "the Makefile records no TEMPLATE := <url> (generated before it was recorded): run copier update by hand, once, after checking _src_path in .copier-answers.yml"
    if have is None:
        return "no _src_path in .copier-answers.yml: restore it from git history"
    if have != want:
        return (f"_src_path in .copier-answers.yml ({have}) is not the template this repo was generated "
                f"from ({want}, TEMPLATE in the Makefile): refusing to run its code; restore _src_path, "
                "or change both in a reviewed commit")
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=".")
    args = parser.parse_args(argv)
    why = problem(args.repo) or missing_commit(args.repo)
    if why:
        print(f"make update: refused: {why}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
