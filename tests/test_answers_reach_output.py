"""Every question copier asks changes what it generates; a question that could
not change anything is not asked (issue 10, item 8).

For each platform: render the defaults, then change one answer at a time to
another valid value. An asked question must change at least one generated
file (the answers file and README.md aside); an unasked one, given anyway with ``-d``, must
change none (its value is derived: ops.model.complete).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from ops import model as m
from tests.conftest import ROOT, SNAPSHOT_IGNORE

pytestmark = pytest.mark.slow

PLATFORMS = list(m.platforms())
BASE = {"privacy": "public", "model_providers": ["anthropic", "openai"]}


@pytest.fixture(scope="module")
def plain_template(tmp_path_factory) -> Path:
    """The working tree without git: copier renders a plain directory as it is
    (no clone per copy), which keeps ~100 renders affordable."""
    dest = tmp_path_factory.mktemp("plain") / "openclaw-deploy"
    shutil.copytree(ROOT, dest, ignore=SNAPSHOT_IGNORE)
    return dest


def _render(src: Path, dst: Path, data: dict[str, Any]) -> dict[str, bytes]:
    import copier

    copier.run_copy(str(src), str(dst), data=data, defaults=True, unsafe=True, quiet=True)
    files = {str(p.relative_to(dst)): p.read_bytes() for p in sorted(dst.rglob("*")) if p.is_file()}
    # The answers file records, README.md only describes: neither deploys anything
    # (on the last release Railway's volume_size_gb reached README.md alone).
    files.pop(".copier-answers.yml")
    files.pop("README.md")
    return files


def _other_value(name: str, answers: dict[str, Any]) -> Any:
    """A valid value for ``name`` that differs from ``answers[name]``."""
    facts = m.platforms()[answers["platform"]]
    if name == "app_name":
        return "other-claw"
    if name == "platform":
        return None  # the platform changes everything; not a per-platform question
    if name == "privacy":
        return "private"
    if name == "domain":
        return "other.example.org"
    if name == "region":
        return next((r for r in facts["regions"] if r != answers["region"]), "elsewhere-1")
    if name == "openclaw_version":
        return "2026.9.7"
    if name == "gateway_port":
        return 4321
    if name == "vm_size":
        return next(s for s in facts["sizes"] if s != answers["vm_size"]
                    and not m.validate_field("vm_size", {**answers, "vm_size": s}))
    if name == "vm_memory_mb":
        low, high = m.memory_range(answers["platform"], answers["vm_size"])
        return next((v for v in range(max(low, 1024), high + 1, 256) if v != answers["vm_memory_mb"]),
                    answers["vm_memory_mb"] * 2)
    if name == "volume_size_gb":
        return answers["volume_size_gb"] + 1
    if name == "model_providers":
        return ["google"]
    if name == "primary_model_provider":
        return next(p for p in answers["model_providers"] if p != answers["primary_model_provider"])
    if name == "channels":
        return ["telegram"]
    if name == "binaries":
        return ["gog"]
    if name == "tunnel":
        return "ngrok"
    if name == "image_registry":
        return "ghcr.io/acme/other-claw"
    if name == "uptime_minutes":
        return "30"
    if name == "backup_schedule":
        return "45 1 * * 0"
    if name == "backup_recipient":
        return "age1w9r2k0waumevyjdne89jerjs2qrzpc3kxv4vpjl753qkv7mn6ayqftt0v5"
    raise KeyError(name)


def _defaults(platform: str) -> dict[str, Any]:
    """The answers copier records with --defaults, completed by the model."""
    facts = m.platforms()[platform]
    answers = {"app_name": "my-openclaw", "platform": platform, **BASE, "domain": "my-openclaw.example.com",
               "region": facts["default_region"], "openclaw_version": m.openclaw()["default_version"],
               "gateway_port": facts["default_port"], "vm_size": facts["default_size"],
               "vm_memory_mb": m.default_memory_mb(platform, facts["default_size"]),
               "volume_size_gb": facts["volume"].get("default_gb", 1), "channels": [], "binaries": [],
               "tunnel": "none"}
    return m.complete(answers)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_asked_question_changes_the_output(plain_template, tmp_path, platform):
    answers = _defaults(platform)
    base = _render(plain_template, tmp_path / "base", {"platform": platform, **BASE})
    silent, deaf = [], []
    for name in m.FIELDS:
        value = _other_value(name, answers)
        if value is None:
            continue
        data = {"platform": platform, **BASE, name: value}
        if not m.asked(name, answers) and name in m.DERIVED_FIELDS:
            # not asked because the platform decides it: a value that differs is refused
            with pytest.raises(ValueError, match=name):
                _render(plain_template, tmp_path / name, data)
            continue
        files = _render(plain_template, tmp_path / name, data)
        changed = sorted(rel for rel in set(files) | set(base) if files.get(rel) != base.get(rel))
        if m.asked(name, answers) and not changed:
            silent.append(f"{name}={value!r} is asked but changes no file")
        if not m.asked(name, answers) and changed:
            deaf.append(f"{name}={value!r} is not asked but changes {changed[:3]}")
    assert silent == [] and deaf == []


def test_unasked_questions_are_the_ones_that_decide_nothing():
    """The platforms where the issue saw answers that did nothing."""
    assert not m.asked("volume_size_gb", _defaults("railway"))
    assert not m.asked("vm_memory_mb", _defaults("gcp"))
    assert not m.asked("region", _defaults("kubernetes"))
    assert all(m.asked(n, _defaults("fly")) for n in ("volume_size_gb", "vm_memory_mb", "region"))
