"""One room of text per platform: ``template/_partials/<kind>/`` has every slot, the
top-level files include a slot by name (``oc_slot``) and never pick a partial by
platform, and every partial says at its top what it expects from whoever includes it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2 import Environment, meta, nodes

from extensions import openclaw as ext
from ops import model as m

TEMPLATE = Path(ext.__file__).resolve().parent.parent / "template"
PARTIALS = TEMPLATE / "_partials"
ROOMS = sorted({facts["kind"] for facts in m.platforms().values()})
# Compose's providers keep their own text in a subfolder of the room.
PROVIDER_SLOTS = ("readme.md", "files.md", "runbook.md")


def parse(text: str):
    env = Environment(extensions=["jinja2.ext.do"])
    for name in ("oc_json", "toml_str", "oc_a", "make_literal"):
        env.filters[name] = lambda value, *a, **k: value
    return env.parse(text)


@pytest.mark.parametrize("room", ROOMS)
def test_every_room_has_every_slot(room):
    missing = [slot for slot in ext.SLOTS if not (PARTIALS / room / f"{slot}.jinja").is_file()]
    assert missing == [], f"_partials/{room}/ lacks {missing}"


@pytest.mark.parametrize("platform", sorted(m.platforms()))
def test_a_platform_reaches_its_room_through_oc_slot(platform):
    for slot in ext.SLOTS:
        assert (TEMPLATE.parent / ext.slot_path(platform, slot)).is_file()
    room = ext.room(platform)
    if room != platform:  # a provider sharing a room (gcp, vps in compose) brings its own text
        missing = [s for s in PROVIDER_SLOTS if not (PARTIALS / room / platform / f"{s}.jinja").is_file()]
        assert missing == [], f"_partials/{room}/{platform}/ lacks {missing}"


def test_an_unknown_slot_is_refused():
    with pytest.raises(KeyError, match="not a slot"):
        ext.slot_path("fly", "Makefile")


def top_level_templates():
    return [p for p in TEMPLATE.rglob("*.jinja") if PARTIALS not in p.parents]


def test_top_level_files_include_slots_by_name_only():
    """No `"template/_partials/" ~ model.kind ~ ...` and no per-platform if-chains around includes."""
    offenders = []
    for path in top_level_templates():
        for node in parse(path.read_text()).find_all((nodes.Include, nodes.FromImport, nodes.Import)):
            target = node.template
            if isinstance(target, nodes.Const):
                continue  # a shared partial, named in full
            if not (isinstance(target, nodes.Call) and getattr(target.node, "name", "") == "oc_slot"):
                offenders.append(f"{path.relative_to(TEMPLATE)}:{node.lineno}")
    assert offenders == []


def names_platform(test: nodes.Node) -> bool:
    """`model.kind == 'fly'`, `platform in [...]`: a test that picks by platform or kind."""
    return any(isinstance(n, nodes.Getattr) and n.attr in ("kind", "platform")
               or isinstance(n, nodes.Name) and n.name in ("kind", "platform") for n in test.find_all((nodes.Getattr, nodes.Name)))


def test_no_platform_if_chain_chooses_an_include():
    offenders = []
    for path in [*top_level_templates(), *(p for p in PARTIALS.glob("*.jinja"))]:
        for branch in parse(path.read_text()).find_all(nodes.If):
            if names_platform(branch.test) and any(isinstance(n, nodes.Include) for n in branch.body):
                offenders.append(f"{path.relative_to(TEMPLATE)}:{branch.lineno}")
    assert offenders == [], "include the slot through oc_slot instead"


def test_secrets_rooms_define_what_the_frame_calls():
    frame = (TEMPLATE / "scripts" / "secrets.sh.jinja").read_text()
    called = set(re.findall(r"room\.(\w+)\(", frame))
    assert called >= {"prepare", "apply"}
    for room in ROOMS:
        tree = parse((PARTIALS / room / "secrets.sh.jinja").read_text())
        defined = {macro.name for macro in tree.find_all(nodes.Macro)}
        assert defined == called, room


@pytest.mark.parametrize("path", sorted(p.relative_to(PARTIALS).as_posix() for p in PARTIALS.rglob("*.jinja")))
def test_each_partial_says_what_it_expects(path):
    text = (PARTIALS / path).read_text()
    header = re.match(r"\{#-?(.*?)-?#\}", text, re.S)
    assert header, f"{path}: no {{# ... #}} header at the top"
    said = " ".join(header.group(1).split())
    assert "Expects:" in said or "Context:" in said, f"{path}: the header does not say what it expects"
    needs = {n for n in meta.find_undeclared_variables(parse(text)) if not n.startswith("oc_")}
    assert [n for n in sorted(needs) if not re.search(rf"\b{n}\b", said)] == [], f"{path}: header omits a variable"
