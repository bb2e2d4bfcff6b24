"""Region and size ids carry where they were checked (issue 10.2).

Before: no source or date beside any list, and Northflank offered `us-east`,
which is not one of its region ids (the API id is `us-east1`).
"""

from __future__ import annotations

import re

import pytest

from ops import model as m

STATUSES = {"checked", "unchecked", "not-applicable"}


@pytest.mark.parametrize("platform", sorted(m.platforms()))
def test_every_id_list_says_where_and_when_it_was_checked(platform):
    sources = m.platform_facts(platform)["sources"]
    assert set(sources) == {"regions", "sizes"}
    for kind, src in sources.items():
        assert src["status"] in STATUSES, (platform, kind)
        assert re.fullmatch(r"20\d\d-\d\d-\d\d", src["read"]), (platform, kind)
        if src["status"] == "checked":
            assert src["url"].startswith("https://"), (platform, kind)
        else:
            assert src.get("note"), (platform, kind)  # why it stays unchecked


def test_northflank_region_ids_are_the_api_ids():
    regions = m.platform_facts("northflank")["regions"]
    assert "us-east" not in regions
    assert {"us-east1", "us-central", "europe-west", "europe-west-netherlands", "asia-southeast"} <= set(regions)
    assert m.platform_facts("northflank")["default_region"] in regions


def test_northflank_refuses_the_old_us_east_answer():
    answers = {"app_name": "claw-nf", "platform": "northflank", "privacy": "public", "region": "us-east",
               "openclaw_version": "2026.9.6", "gateway_port": 8080, "vm_size": "nf-compute-100-2",
               "vm_memory_mb": 2048, "volume_size_gb": 1, "model_providers": ["anthropic"],
               "channels": [], "binaries": [], "tunnel": "none", "domain": ""}
    problems = m.errors(answers)
    assert any("region" in p and "us-east1" in p for p in problems), problems
    assert not m.errors({**answers, "region": "us-east1"})
