"""Fixtures for the runbook notebooks: generated repos per platform, broken
copies, and one shared kernel per module (see tests/support/nbbatch.py)."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path
from typing import Callable

import pytest

from ops import model as m
from tests.conftest import ROOT, copy_template
from tests.support.nbbatch import KernelBatch

NOTEBOOKS = ROOT / "template" / "notebooks"
COST_NB = NOTEBOOKS / "cost_estimate.ipynb"
TROUBLE_NB = NOTEBOOKS / "troubleshooting.ipynb"
STANDINS = ROOT / "tests" / "standins"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def generated(template_repo, tmp_path_factory) -> Callable[..., Path]:
    """generated(name, **answers) -> a deploy repo rendered once per module."""
    cache: dict[str, Path] = {}
    base = tmp_path_factory.mktemp("generated")

    def _get(name: str, **answers) -> Path:
        if name not in cache:
            cache[name] = copy_template(template_repo, base / name, answers)
        return cache[name]

    return _get


@pytest.fixture
def broken(tmp_path) -> Callable[[Path, str], Path]:
    """broken(repo, name) -> a copy of ``repo`` to break."""

    def _copy(repo: Path, name: str) -> Path:
        return Path(shutil.copytree(repo, tmp_path / name))

    return _copy


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    kernel = KernelBatch(cwd=tmp_path_factory.mktemp("kernel"))
    yield kernel
    kernel.close()


def edit(path: Path, old: str, new: str) -> None:
    """Replace text that must be there (a template change makes the test fail, not pass)."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def edit_json(path: Path, change: Callable[[dict], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2) + "\n")


def default_answers(platform: str) -> dict:
    return {"platform": platform, "region": m.platforms()[platform]["default_region"]}
