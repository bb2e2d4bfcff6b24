"""One room of text per platform: ``template/_partials/<kind>/`` has every slot, the
top-level files include a slot by name (``oc_slot``) and never pick a partial by
platform, and every partial says at its top what it expects from whoever includes it.
A platform's own files (``_partials/<kind>/files/``) are generated through the two
room-file slots at the template's root: no file name outside the rooms names a platform."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from jinja2 import Environment, meta, nodes
from jinja2.ext import Extension

from extensions import openclaw as ext
from ops import model as m

TEMPLATE = Path(ext.__file__).resolve().parent.parent / "template"
PARTIALS = TEMPLATE / "_partials"
ROOMS = sorted({facts["kind"] for facts in m.platforms().values()})
# Compose's providers keep their own text in a subfolder of the room.
PROVIDER_SLOTS = ("readme.md", "files.md", "runbook.md")


class YieldTag(Extension):
    """copier's `{% yield x from xs %}...{% endyield %}` (template path names), read as a for loop."""
    tags = {"yield"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        target = parser.parse_assign_target()
        parser.stream.expect("name:from")
        iterable = parser.parse_expression()
        body = parser.parse_statements(("name:endyield",), drop_needle=True)
        return nodes.For(target, iterable, body, [], None, False, lineno=lineno)


def parse(text: str):
    env = Environment(extensions=["jinja2.ext.do", YieldTag])
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


def room_files() -> list[Path]:
    """The platforms' own files (fly.toml, k8s/...): whole files of the generated repo, not partials."""
    return [p for p in PARTIALS.glob("*/files/**/*") if p.is_file()]


def top_level_templates():
    return [p for p in TEMPLATE.rglob("*.jinja") if PARTIALS not in p.parents] + [
        p for p in room_files() if p.name.endswith(".jinja")]


def test_top_level_files_include_slots_by_name_only():
    """No `"template/_partials/" ~ model.kind ~ ...` and no per-platform if-chains around includes."""
    offenders = []
    for path in top_level_templates():
        for node in parse(path.read_text()).find_all((nodes.Include, nodes.FromImport, nodes.Import)):
            target = node.template
            if isinstance(target, nodes.Const):
                continue  # a shared partial, named in full
            if not (isinstance(target, nodes.Call) and getattr(target.node, "name", "") in ("oc_slot", "oc_room_source")):
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


@pytest.mark.parametrize("path", sorted(p.relative_to(PARTIALS).as_posix() for p in PARTIALS.rglob("*.jinja")
                                         if p not in room_files()))
def test_each_partial_says_what_it_expects(path):
    text = (PARTIALS / path).read_text()
    header = re.match(r"\{#-?(.*?)-?#\}", text, re.S)
    assert header, f"{path}: no {{# ... #}} header at the top"
    said = " ".join(header.group(1).split())
    assert "Expects:" in said or "Context:" in said, f"{path}: the header does not say what it expects"
    needs = {n for n in meta.find_undeclared_variables(parse(text)) if not n.startswith("oc_")}
    assert [n for n in sorted(needs) if not re.search(rf"\b{n}\b", said)] == [], f"{path}: header omits a variable"


def test_no_file_name_outside_the_rooms_picks_a_platform():
    """Adding a platform adds a partials folder; the template's root never names one."""
    offenders = [p.relative_to(TEMPLATE).as_posix() for p in TEMPLATE.rglob("*")
                 if PARTIALS not in p.parents and p != PARTIALS and "{" in p.name
                 and any(names_platform(node.test) for node in parse(p.name).find_all(nodes.If))]
    assert offenders == []
    slots = sorted(p.name for p in TEMPLATE.iterdir() if "oc_room_files" in p.name)
    assert len(slots) == len(ext.ROOM_FILE_MODES) == 2, slots


def _answers(platform: str, **more):
    return {"platform": platform, "privacy": "public", **more}


def _render_name(answers):
    env = Environment()
    return lambda name: env.from_string(name).render(answers)


@pytest.mark.parametrize("platform", sorted(m.platforms()))
def test_room_files_are_a_rooms_files_folder_under_copier_rules(platform):
    """Every file of the room's files/ is generated at its own path (without `.jinja`), in the
    slot of its mode; a folder whose name renders empty for these answers is left out."""
    base = PARTIALS / ext.room(platform) / "files"
    for privacy in ("public", "private"):
        render = _render_name(_answers(platform, privacy=privacy))
        plain = ext.room_files(platform, render, "plain")
        executable = ext.room_files(platform, render, "executable")
        assert not set(plain) & set(executable)
        for out, source in {**plain, **executable}.items():
            path = TEMPLATE.parent / source
            assert path.is_relative_to(base) and path.is_file()
            assert bool(path.stat().st_mode & 0o100) == (out in executable), out
            assert "{" not in out and not out.endswith(".jinja") and out.split("/")[-1] == \
                path.name.removesuffix(".jinja")
        every = {**ext.room_files(platform, lambda name: "x" if "{" in name else name, ext.ROOM_FILE_MODES)}
        assert len(every) == len([p for p in base.rglob("*") if p.is_file()])


def test_room_files_follow_the_answers():
    for privacy, caddy in (("public", True), ("private", False)):
        files = ext.room_files("vps", _render_name(_answers("vps", privacy=privacy)), ext.ROOM_FILE_MODES)
        assert ("caddy/Caddyfile" in files) is caddy
        assert {".env.example", "docker-compose.yml", "scripts/ci-deploy-compose.sh"} <= set(files)
    files = ext.room_files("kubernetes", _render_name(_answers("kubernetes", privacy="private")), "executable")
    assert sorted(files) == ["scripts/ci-build-image.sh", "scripts/ci-deploy-kubernetes.sh"]
    with pytest.raises(KeyError, match="mode must be one of plain, executable"):
        ext.room_files("fly", _render_name(_answers("fly")), "setuid")


def test_a_shared_raw_file_is_read_only_from_a_room():
    assert ext.room_raw("template/_partials/ci/ci-build-image.sh").startswith("#!/usr/bin/env bash\n")
    with pytest.raises(ValueError, match="not a file of a room"):
        ext.room_raw("template/../copier.yml")


def test_git_ignores_no_file_of_the_template():
    """The generated repo's .gitignore sits in template/ and applies to the template too
    (`.env.*`): a room file it matched would be missing from every render, as copier
    renders the template's git checkout."""
    files = [p.relative_to(TEMPLATE.parent).as_posix() for p in TEMPLATE.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts]
    proc = subprocess.run(["git", "check-ignore", "--no-index", "--stdin"], input="\n".join(files),
                          cwd=TEMPLATE.parent, capture_output=True, text=True, timeout=60)
    assert proc.stdout.split() == []


def _shared_templates() -> list[Path]:
    """Every template file outside the rooms (and outside the ops package, which
    tests/platforms/test_registry.py holds to the same rule)."""
    rooms = [PARTIALS / room for room in ROOMS]
    return sorted(p for p in TEMPLATE.rglob("*") if p.is_file() and p.suffix == ".jinja"
                  and not any(room in p.parents for room in rooms) and TEMPLATE / "ops" not in p.parents)


def test_no_shared_template_picks_a_platform():
    """Issue 20: text that differs by platform lives in that platform's room (a slot, or the
    `asides` strings); a shared template that compares the platform or its kind with a name, or
    quotes one, would bring the branch back."""
    names = sorted({*m.platforms(), *ROOMS})
    quoted = re.compile(r"""['"](%s)['"]""" % "|".join(map(re.escape, names)))
    compared = re.compile(r"\b(platform|kind)\s*(==|!=|\bin\b|\bnot in\b)")
    found = []
    for path in _shared_templates():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if quoted.search(line) or compared.search(line):
                found.append(f"{path.relative_to(TEMPLATE)}:{number}: {line.strip()[:120]}")
    assert found == [], "\n".join(found)
    assert len(_shared_templates()) > 20  # the scan sees the shared templates
