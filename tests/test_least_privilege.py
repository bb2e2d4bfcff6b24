"""Least privilege and supply chain in what the deploy repo tells people to run.

- `docker compose exec` runs as the image's USER, which the generated image sets
  to root (its entrypoint drops to uid 1000): every exec the Makefile, README and
  RUNBOOK print runs as `node` (`-u node`), so a health check or a status
  command never writes root-owned files into the state dir (before: `make
  status` and the troubleshooting health check ran as root).
- The Railway CLI's npm install script downloads its binary unchecked: the
  workflow and the README say so (no checksum could be read from here).
"""

from __future__ import annotations

import re
import shlex

import pytest

EXEC = re.compile(r"docker compose exec[^`\n|;&]*")


@pytest.mark.parametrize("platform", ["vps", "gcp"])
@pytest.mark.parametrize("privacy", ["public", "private"])
def test_every_compose_exec_runs_as_node(render, platform, privacy):
    repo = render(platform=platform, privacy=privacy)
    found = []
    for name in ("Makefile", "README.md", "RUNBOOK.md"):
        for match in EXEC.finditer((repo / name).read_text()):
            argv = shlex.split(match.group(0).replace("{", "").replace("}", ""))
            flags = argv[3:argv.index("openclaw-gateway")] if "openclaw-gateway" in argv else argv[3:]
            found.append((name, match.group(0)))
            assert "-u" in flags and flags[flags.index("-u") + 1] == "node", (name, match.group(0))
    assert any(name == "Makefile" for name, _ in found), found  # make status execs into the container


def test_the_railway_cli_install_says_its_binary_is_not_checksum_verified(render):
    repo = render(platform="railway", privacy="public")
    workflow = (repo / ".github/workflows/deploy.yml").read_text()
    assert "its binary download is not checksum-verified" in workflow
    assert "without checking a checksum" in (repo / "README.md").read_text().replace("\n", " ")
