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


def test_the_record_covers_every_variant():
    assert sorted(RECORD) == sorted(VARIANTS), "rewrite the record: python -m tests.support.render_digests --write"


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_generated_files_are_unchanged(name, template_repo, tmp_path):
    got = rd.render_variant(template_repo, tmp_path / name, VARIANTS[name])
    want = RECORD.get(name, {})
    assert sorted(got) == sorted(want), {"added": sorted(set(got) - set(want)), "gone": sorted(set(want) - set(got))}
    assert [p for p in got if got[p] != want[p]] == []
