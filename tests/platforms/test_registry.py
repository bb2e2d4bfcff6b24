"""The registry of platform rooms (ops/platforms/__init__.py, issue 20).

- every platform of platforms.yml has a module (its ``kind``) that implements the whole
  protocol, and every module is some platform's kind;
- each API base is one fact (platforms.yml ``api``), read the same way with or without
  PyYAML (the CI deploy job runs a bare python3);
- the programs CI runs by name import with the standard library only;
- no module of ops/ outside ops/platforms/ names a platform in its code, but for the
  places listed below, each with its reason (runner.py's streaming-logs rules, checks.py's
  cluster rows and backup.py's restore pod now come from the rooms).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from ops import model as m
from ops import platforms

OPS = Path(m.__file__).resolve().parent


@pytest.mark.parametrize("platform", sorted(m.platforms()))
def test_every_platform_has_a_room_that_implements_the_protocol(platform):
    room = platforms.get(platform)
    assert room is not None and room.__name__ == f"ops.platforms.{m.platforms()[platform]['kind']}"
    assert isinstance(room, platforms.Platform), [
        name for name in ("read", "validate", "live", "cost", "remote_values", "private_status", "REMOTE_NEEDS")
        if not hasattr(room, name)]
    assert all(isinstance(v, str) and v.isupper() for v in room.REMOTE_NEEDS)


def test_every_room_is_a_kind_of_the_data_and_unknown_names_have_none():
    assert platforms.kinds() == sorted({facts["kind"] for facts in m.platforms().values()})
    assert platforms.get("heroku") is None
    with pytest.raises(ValueError, match="platform kind"):
        platforms.for_kind("../troubleshoot")


@pytest.mark.parametrize("platform", sorted(p for p, f in m.platforms().items() if "api" in f))
def test_api_base_is_one_fact_read_alike_with_and_without_pyyaml(platform):
    fact = m.platforms()[platform]["api"]
    assert platforms.api_fact(platform) == platforms._api_line(platform) == fact
    assert platforms.api_base(platform, {}) == fact["base"]
    assert platforms.api_base(platform, {fact["env"]: "https://127.0.0.1:1/v1"}) == "https://127.0.0.1:1/v1"


def test_the_programs_ci_runs_import_without_pyyaml():
    """Fly's deploy job waits with `python3 -m ops.platforms.fly` and the uptime job runs `python3 -m
    ops.uptime` on the runner's own python3: nothing installed, so no PyYAML."""
    code = ("import sys; sys.modules['yaml'] = None\n"
            "import ops.platforms.fly, ops.uptime\n"
            "from ops import platforms\n"
            "[platforms.for_kind(k) for k in platforms.kinds()]\n"
            "print(platforms.api_base('render'), platforms.api_base('northflank'))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=OPS.parent, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [m.platforms()[p]["api"]["base"] for p in ("render", "northflank")]


def _names_in_code(path: Path) -> set[str]:
    """String constants that are platform names or kinds (docstrings and comments aside)."""
    names = set(m.platforms()) | {f["kind"] for f in m.platforms().values()} | {"flyctl"}
    tree = ast.parse(path.read_text())
    docs = {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body
            and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and id(node) not in docs and node.value in names}


def test_no_module_outside_the_rooms_names_a_platform():
    found = {p.name: _names_in_code(p) for p in sorted(OPS.glob("*.py"))}
    found = {name: names for name, names in found.items() if names}
    # model.py's copier-time rules (needs_image_registry, images) read platforms.yml facts
    assert found == {}, f"platform names outside ops/platforms/: {found}"
