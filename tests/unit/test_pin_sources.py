"""Pins moved by hand carry where they were read and when, beside the pin (one fact, one
place). Before 0.2.0's move the tunnel images had no source at all and flyctl's named a
March 2025 release; `make outdated` (tests/test_outdated.py) tells a repo when they rot."""

from __future__ import annotations

import re

from ops import model as m


def test_every_pin_names_its_source_and_date():
    """The stale pins moved in 0.2.0 carry where they were read and when, beside the pin."""
    dated = re.compile(r"20\d\d-\d\d-\d\d")
    for name, tool in m.load("ci")["tools"].items():
        assert dated.search(tool["source"]), name
    for name, tunnel in m.openclaw()["tunnels"].items():
        if tunnel.get("image"):
            assert dated.search(tunnel.get("image_source", "")), name
    read = str(m.binaries_meta()["read"])  # binaries.yml: one date for the file unless the entry has its own
    for name, entry in m.binaries_catalog().items():
        assert dated.search(entry["lock_source"]) or dated.fullmatch(read), name
