"""Migrations: answers recorded by an older template release survive a rename.

The release history is written by each test in a temporary clone of this
template: v0.1.0 is an older shape of the form, v0.2.0 is this working tree
plus (or minus) a `_migrations` entry that runs migrations/answers.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from ops import model as m
from tests.support.template_history import TemplateHistory, generate, update

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "migrations" / "answers.py"
FLY_REGIONS_ANCHOR = "    ams: Amsterdam, Netherlands\n"


def entry(*args: str) -> str:
    """A `_migrations` list item, in copier.yml's own syntax, running answers.py."""
    command = ['"{{ _copier_python }}"', '"{{ _copier_conf.src_path }}/migrations/answers.py"',
               '"--file"', '"{{ _copier_conf.answers_file }}"', *[f'"{a}"' for a in args]]
    return (f"_migrations:\n  - version: v0.2.0\n    when: \"{{{{ _stage == 'before' }}}}\"\n"
            f"    command: [{', '.join(command)}]\n")


def question_block(text: str, name: str) -> tuple[int, int]:
    start = text.index(f"\n{name}:\n") + 1
    return start, text.index("\n\n", start) + 1


def old_form_with_volume_gb(history: TemplateHistory) -> None:
    """v0.1.0 asked `volume_gb`; the model still gets volume_size_gb from a hidden computed value."""
    path = history.path("copier.yml")
    text = path.read_text()
    start, end = question_block(text, "volume_size_gb")
    block = text[start:end].replace("volume_size_gb:\n", "volume_gb:\n", 1)
    block = re.sub(r"  validator: .*\n", "", block)
    hidden = 'volume_size_gb:\n  type: int\n  default: "{{ volume_gb }}"\n  when: false\n\n'
    path.write_text(text[:start] + block + "\n" + hidden + text[end:])


def answers(repo: Path) -> dict:
    return yaml.safe_load((repo / ".copier-answers.yml").read_text())


# ------------------------------------------------------------ the script --

def run_script(tmp_path: Path, start: dict, *args: str) -> dict:
    path = tmp_path / ".copier-answers.yml"
    path.write_text("# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n" + yaml.safe_dump(start))
    proc = subprocess.run([sys.executable, SCRIPT, *args], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    return yaml.safe_load(path.read_text())


def test_rename_moves_the_value_and_is_idempotent(tmp_path):
    out = run_script(tmp_path, {"_commit": "v0.1.0", "volume_gb": 7}, "rename", "volume_gb", "volume_size_gb")
    assert out == {"_commit": "v0.1.0", "volume_size_gb": 7}
    assert run_script(tmp_path, out, "rename", "volume_gb", "volume_size_gb") == out


def test_rename_keeps_an_existing_new_answer(tmp_path):
    out = run_script(tmp_path, {"volume_gb": 7, "volume_size_gb": 9}, "rename", "volume_gb", "volume_size_gb")
    assert out == {"volume_size_gb": 9}


def test_replace_rewrites_scalar_and_list_answers(tmp_path):
    assert run_script(tmp_path, {"region": "mad"}, "replace", "region", "mad", "cdg") == {"region": "cdg"}
    assert run_script(tmp_path, {"channels": ["irc", "slack"]}, "replace", "channels", "irc", "slack") == {
        "channels": ["slack"]}
    assert run_script(tmp_path, {"region": "iad"}, "replace", "region", "mad", "cdg") == {"region": "iad"}


def test_no_answers_file_is_not_an_error(tmp_path):
    proc = subprocess.run([sys.executable, SCRIPT, "rename", "a", "b"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0 and "nothing to migrate" in proc.stderr


# ---------------------------------------------- through copier update --

@pytest.mark.parametrize("with_migration", [True, False], ids=["migrated", "no-migration"])
def test_renamed_question_keeps_its_answer(tmp_path, with_migration):
    history = TemplateHistory(tmp_path / "template", first_tag="v0.0.1")
    old_form_with_volume_gb(history)
    history.release("v0.1.0")
    repo = generate(history, tmp_path / "deploy", {"app_name": "my-claw", "volume_gb": 7}, tag="v0.1.0")
    # numbers are asked as text (copier.yml `type: str`, checked by ops.model)
    assert answers(repo)["volume_gb"] == "7" and "volume_size_gb" not in answers(repo)
    assert 'initial_size = "7gb"' in (repo / "fly.toml").read_text()

    history.path("copier.yml").write_text((ROOT / "copier.yml").read_text())  # this release's form
    if with_migration:
        history.edit("copier.yml", "_migrations: []\n", entry("rename", "volume_gb", "volume_size_gb"))
    history.release("v0.2.0")
    update(repo)

    recorded = answers(repo)
    assert recorded["_commit"] == "v0.2.0" and "volume_gb" not in recorded
    size = tomllib.loads((repo / "fly.toml").read_text())["mounts"]["initial_size"]
    if with_migration:
        assert recorded["volume_size_gb"] == "7" and size == "7gb"
    else:  # why migrations exist: the 7 GB answer silently falls back to the default
        default = m.platforms()["fly"]["volume"].get("default_gb", 1)
        assert str(recorded["volume_size_gb"]) == str(default) and size == f"{default}gb"


def test_removed_question_needs_no_migration(tmp_path):
    history = TemplateHistory(tmp_path / "template", first_tag="v0.0.1")
    history.edit("copier.yml", "\n_message_after_copy:", "\nlegacy_note:\n  type: str\n  default: hello\n\n_message_after_copy:")
    history.release("v0.1.0")
    repo = generate(history, tmp_path / "deploy", {"app_name": "my-claw"}, tag="v0.1.0")
    assert answers(repo)["legacy_note"] == "hello"
    history.path("copier.yml").write_text((ROOT / "copier.yml").read_text())
    history.release("v0.2.0")
    update(repo)
    assert "legacy_note" not in answers(repo) and answers(repo)["_commit"] == "v0.2.0"


@pytest.mark.parametrize("with_migration", [True, False], ids=["migrated", "no-migration"])
def test_retired_choice_is_replaced(tmp_path, with_migration):
    """A region dropped from the data files: without a `replace` migration, `copier update
    --defaults` silently moves the app to the platform's default region."""
    history = TemplateHistory(tmp_path / "template", first_tag="v0.0.1")
    history.edit("template/ops/data/platforms.yml", FLY_REGIONS_ANCHOR, FLY_REGIONS_ANCHOR + "    mad: Madrid, Spain\n")
    history.release("v0.1.0")
    repo = generate(history, tmp_path / "deploy", {"app_name": "my-claw", "region": "mad"}, tag="v0.1.0")
    assert tomllib.loads((repo / "fly.toml").read_text())["primary_region"] == "mad"

    history.path("template/ops/data/platforms.yml").write_text((ROOT / "template/ops/data/platforms.yml").read_text())
    if with_migration:
        history.edit("copier.yml", "_migrations: []\n", entry("replace", "region", "mad", "cdg"))
    history.release("v0.2.0")
    update(repo)
    region = tomllib.loads((repo / "fly.toml").read_text())["primary_region"]
    want = "cdg" if with_migration else m.platforms()["fly"]["default_region"]
    assert answers(repo)["region"] == region == want


# ------------------------------------------------ the real copier.yml --

def test_every_migration_entry_is_well_formed():
    """Each `_migrations` entry of this release: a released version named in the
    CHANGELOG, the 'before' stage, and an answers.py command whose arguments parse."""
    config = yaml.safe_load((ROOT / "copier.yml").read_text())
    assert isinstance(config.get("_migrations"), list)
    changelog = (ROOT / "CHANGELOG.md").read_text()
    for item in config["_migrations"]:
        assert re.fullmatch(r"v\d+\.\d+\.\d+", item["version"]), item
        assert f"## {item['version'][1:]}" in changelog, f"{item['version']} has no CHANGELOG entry"
        assert "_stage == 'before'" in item["when"], item
        cmd = item["command"]
        assert cmd[:2] == ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/migrations/answers.py"], cmd
        proc = subprocess.run([sys.executable, SCRIPT, *cmd[2:], "--help"], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
