"""Carry a deploy repo's answers across a template release that renames a
question or one of its choices. Run by copier's ``_migrations`` (stage "before", in the
deploy repo, with copier's own Python), never by hand:

    answers.py [--file .copier-answers.yml] rename OLD NEW
    answers.py [--file .copier-answers.yml] replace NAME OLD_VALUE NEW_VALUE

``rename`` moves the recorded value of OLD to NEW (NEW wins if both exist);
``replace`` rewrites one recorded choice value (a choice renamed or retired
in the data files, e.g. a region; list answers are rewritten item by item).
A question that is simply removed needs no migration: copier drops answers
to questions the template no longer has (tests/test_migrations.py shows it). Each is idempotent: running it twice, or on an
answers file that never had the old name, changes nothing. It prints what it
changed (names and choice values only; answers hold no secrets) to stderr.

Pure Python + PyYAML (a copier dependency), so it runs wherever copier runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

HEADER = "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n"


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise SystemExit(f"migrations/answers.py: {path} is not a mapping of answers")
    return data


def save(path: Path, answers: dict[str, Any]) -> None:
    text = yaml.safe_dump(answers, sort_keys=False, default_flow_style=False, allow_unicode=True)
    path.write_text(HEADER + text, encoding="utf-8")


def rename(answers: dict[str, Any], old: str, new: str) -> str:
    if old not in answers:
        return ""
    value = answers.pop(old)
    if new in answers:
        return f"dropped {old} ({new} is already recorded)"
    answers[new] = value
    return f"renamed answer {old} -> {new}"


def replace(answers: dict[str, Any], name: str, old: str, new: str) -> str:
    value = answers.get(name)
    if value == old:
        answers[name] = new
    elif isinstance(value, list) and old in value:
        answers[name] = list(dict.fromkeys(new if item == old else item for item in value))
    else:
        return ""
    return f"{name}: replaced {old} with {new}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="migrate .copier-answers.yml between template releases")
    parser.add_argument("--file", default=".copier-answers.yml", help="answers file (default: %(default)s)")
    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("rename")
    p.add_argument("old")
    p.add_argument("new")
    p = sub.add_parser("replace")
    p.add_argument("name")
    p.add_argument("old")
    p.add_argument("new")
    args = parser.parse_args(argv)

    path = Path(args.file)
    if not path.is_file():
        print(f"migrations/answers.py: no {path} here; nothing to migrate", file=sys.stderr)
        return 0
    answers = load(path)
    if args.action == "rename":
        note = rename(answers, args.old, args.new)
    else:
        note = replace(answers, args.name, args.old, args.new)
    if note:
        save(path, answers)
        print(f"migrations/answers.py: {note}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
