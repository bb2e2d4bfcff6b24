"""Issue 20's rule for the move into one room per platform: every generated file of every
variant stays byte-identical (and keeps its mode). The record is
``tests/data/render_digests.json``; a change meant to alter output rewrites it with
``python -m tests.support.render_digests --write`` and says why in its commit."""

from __future__ import annotations

import json

import pytest

from tests.support import render_digests as rd

RECORD = json.loads(rd.RECORD.read_text())
VARIANTS = rd.variants()


def moved(path: str) -> bool:
    """The ops package's Python modules are the code the move rewrites (it ships into every
    repo): their behaviour is guarded by the tests of it, not by their bytes. Everything
    else a user gets (text, data, workflows, scripts) must stay byte-identical."""
    return path.startswith("ops/") and path.endswith(".py")


def _kept(files: dict[str, str]) -> dict[str, str]:
    return {p: v for p, v in files.items() if not moved(p)}


def test_the_record_covers_every_variant():
    assert sorted(RECORD) == sorted(VARIANTS), "rewrite the record: python -m tests.support.render_digests --write"


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_generated_files_are_unchanged(name, template_repo, rendered_once):
    # the worker's pristine render of these answers (tests/conftest.py), shared with any other
    # test that renders them; read here, never changed
    got = _kept(rd.digests(rendered_once(dict(VARIANTS[name])), template_repo))
    want = _kept(RECORD.get(name, {}))
    assert sorted(got) == sorted(want), {"added": sorted(set(got) - set(want)), "gone": sorted(set(want) - set(got))}
    assert [p for p in got if got[p] != want[p]] == []
