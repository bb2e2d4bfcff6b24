"""An eighth platform added the way issue 20 promises: data + one module + one partials folder,
in a temporary copy of the template, touching no other file.

The copy generates a repo for the toy platform: its own files come from its partials folder
(``_partials/toy/files/``, generated through the root's two room-file slots), its part of
scripts/secrets.sh from the folder's ``secrets.sh`` slot; the generated repo's own ops package
finds the toy's module through the registry: its cost lines appear in the estimate and the
comparison, its live checks run in the troubleshooting runbook, `make verify`'s platform
validators come from it, and `make verify` passes.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SNAPSHOT_IGNORE, copy_template, git

ROOT = Path(__file__).resolve().parents[2]
TOY = "toy"

TOY_MODULE = '''"""Toy Cloud: a platform made up by tests/platforms/test_toy_platform.py."""

from __future__ import annotations

import json

from .. import checks as c
from .. import declared as d
from ..cost import flat as cost  # noqa: F401  (a flat monthly plan)
from ..remote import app_values as remote_values  # noqa: F401

REMOTE_NEEDS: tuple[str, ...] = ()


def read(root, declared) -> None:
    """toy.json (its app and where its volume is mounted); the image's own command."""
    toy = d.load_json(root / "toy.json", declared)
    if isinstance(toy, dict) and toy.get("mount"):
        declared.mounts["toy.json mount"] = toy["mount"]
    d.image_command(declared, "Dockerfile CMD")


def validate(root, model) -> list[c.Result]:
    toy = json.loads((root / "toy.json").read_text())
    if toy.get("app") != model.app_name:
        return [c.Result("toy.json matches the toy schema", c.FAIL, f"app {toy.get('app')!r}")]
    return [c.Result("toy.json matches the toy schema", c.PASS, "the toy's own validator ran")]


def live(live) -> list[c.Result]:
    return [c.Result("toy API reachable", c.PASS, f"asked the toy about {live.app}")]


def private_status(app: str, service: str, environment: str) -> tuple[bool, str]:
    return True, f"{app}: toy says healthy"
'''


def _block(text: str, name: str) -> str:
    match = re.search(rf"^{name}:\n(?:(?:  .*|[ \t]*)\n)*", text, re.M)
    assert match, name
    return match.group(0)


@pytest.fixture(scope="module")
def toy_template(tmp_path_factory) -> Path:
    """A copy of the template with the toy's data, module and partials folder, and nothing else."""
    dest = tmp_path_factory.mktemp("toy") / "openclaw-deploy"
    shutil.copytree(ROOT, dest, ignore=SNAPSHOT_IGNORE)
    git("init", "-q", "-b", "main", cwd=dest)
    git("add", "-A", cwd=dest)
    git("commit", "-q", "-m", "the template as it is", cwd=dest)
    data = dest / "template/ops/data"
    facts = (data / "platforms.yml").read_text()
    toy = _block(facts, "railway").replace("railway:", f"{TOY}:", 1)
    toy = re.sub(r"(?m)^  label: .*$", "  label: Toy Cloud", toy)
    toy = re.sub(r"(?m)^  kind: .*$", f"  kind: {TOY}", toy)
    (data / "platforms.yml").write_text(facts.rstrip("\n") + "\n\n" + toy)
    prices = (data / "prices.yml").read_text()
    priced = _block(prices, "vps").replace("vps:", f"{TOY}:", 1)
    priced = re.sub(r"(?m)^  label: .*$", "  label: Toy Cloud", priced)
    (data / "prices.yml").write_text(prices.rstrip("\n") + "\n\n" + priced)
    (dest / f"template/ops/platforms/{TOY}.py").write_text(TOY_MODULE)
    room = dest / f"template/_partials/{TOY}"
    shutil.copytree(dest / "template/_partials/railway", room)  # its text: Railway's, renamed
    shutil.rmtree(room / "files")                                  # its own files: one
    (room / "files").mkdir()
    (room / "files/toy.json.jinja").write_text(
        '{{ {"app": app_name, "mount": oc_platform().volume.mount} | oc_json }}\n')
    git("add", "-A", cwd=dest)
    git("commit", "-q", "-m", "toy", cwd=dest)
    return dest


@pytest.fixture(scope="module")
def toy_repo(toy_template, tmp_path_factory) -> Path:
    return copy_template(toy_template, tmp_path_factory.mktemp("toy-out") / "deploy",
                         {"platform": TOY, "app_name": "claw-toy"})


def ops_in(repo: Path, code: str) -> str:
    """Run ``code`` with the generated repo's own ops package (as its Makefile does)."""
    proc = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(repo)})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_toy_touches_only_data_one_module_and_one_partials_folder(toy_template):
    changed = git("diff", "--name-status", "HEAD~1", "HEAD", cwd=toy_template).splitlines()
    room = toy_template / f"template/_partials/{TOY}"
    assert sorted(changed) == sorted(
        ["M\ttemplate/ops/data/platforms.yml", "M\ttemplate/ops/data/prices.yml",
         f"A\ttemplate/ops/platforms/{TOY}.py",
         *(f"A\ttemplate/_partials/{TOY}/{p.relative_to(room).as_posix()}"
           for p in room.rglob("*") if p.is_file())])


def test_the_toy_generates_and_its_room_is_found(toy_repo):
    answers = (toy_repo / ".copier-answers.yml").read_text()
    assert "platform: toy" in answers and (toy_repo / "ops/platforms/toy.py").exists()
    assert "Toy Cloud" in (toy_repo / "README.md").read_text()


def test_the_toy_gets_its_own_files_and_no_other_platforms(toy_repo):
    assert json.loads((toy_repo / "toy.json").read_text()) == {"app": "claw-toy", "mount": "/data"}
    others = {"fly.toml", "railway.json", "render.yaml", "northflank.json", "docker-compose.yml", ".env.example",
              "k8s", "caddy", "config/railway.env", "scripts/ci-deploy-compose.sh", "scripts/ci-build-image.sh"}
    assert sorted(name for name in others if (toy_repo / name).exists()) == []


def test_the_toy_appears_in_make_cost(toy_repo):
    out = json.loads(ops_in(toy_repo, (
        "import json; from ops import cost\n"
        "home, rows = cost.run(cost.parameters('.'))\n"
        "print(json.dumps({'home': home.as_dict(), 'rows': [r.label for r in rows]}))")))
    assert out["home"]["platform"] == TOY and out["home"]["label"] == "Toy Cloud"
    assert out["home"]["items"] and out["rows"].count("Toy Cloud") == 1


def test_the_toy_appears_in_make_troubleshoot_and_make_verify(toy_repo):
    out = json.loads(ops_in(toy_repo, (
        "import json; from ops import troubleshoot as t, platform_verify, model as m\n"
        "results, _ = t.run(t.parameters('.', mode='live'))\n"
        "model = m.build(m.answers_from_file('.copier-answers.yml'))\n"
        "print(json.dumps({'live': [r.as_dict() for r in results],\n"
        "                  'verify': [r.check for r in platform_verify.run(__import__('pathlib').Path('.'), model)]}))")))
    assert [(r["check"], r["status"]) for r in out["live"]] == [("toy API reachable", "PASS")]
    assert out["verify"] == ["toy.json matches the toy schema"]


def test_the_toy_passes_make_verify(toy_repo):
    proc = subprocess.run([sys.executable, "-m", "ops.verify"], cwd=toy_repo, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:]
