"""A refused answer given on the command line is one line, not copier's traceback.

copier 9.19.1's CLI prints a 40-60 line traceback for a wrong type, a value outside
the choices or a failed validator given with -d (its `_handle_exceptions` catches only
UserMessageError). ops/copier_cli.py runs the same CLI and prints `error: <field>:
<reason>`; scripts/new.sh (README's non-interactive example) and `make update` use it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

REFUSED = [
    ({"gateway_port": "abc"}, "error: gateway_port: must be a whole number 1024-65535; got 'abc'"),
    ({"platform": "railway", "region": "iad"}, "error: region: 'iad' is not one of us-west2, "),
    ({"vm_memory_mb": "512"}, "error: vm_memory_mb: refused: the floor is 1024 MB; an idle OpenClaw gateway"),
    ({"platform": "gcp", "vm_size": "e2-micro", "vm_memory_mb": "2048"}, "error: vm_memory_mb: fixed by vm_size: 1024 MB; e2-micro"),
    ({"binaries": "gog"}, "error: binaries: 'gog' is not a list; write -d 'binaries=[gog]'"),
    ({"channels": "[discord, bogus]"}, "error: channels: 'bogus' is not one of discord, "),
]


def run_wrapper(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "template"), "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "ops.copier_cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)


def data_args(data: dict[str, str]) -> list[str]:
    return [arg for key, value in data.items() for arg in ("-d", f"{key}={value}")]


@pytest.mark.parametrize(("data", "expected"), REFUSED, ids=[next(iter(d)) + "-" + "-".join(d) for d, _ in REFUSED])
def test_refused_answer_is_one_line(template_repo, tmp_path, data, expected):
    dest = tmp_path / "out"
    proc = run_wrapper(["copy", "--trust", "--defaults", "--quiet", *data_args(data), str(template_repo), str(dest)],
                       tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()], proc.stderr
    assert proc.stderr.startswith(expected), proc.stderr
    assert not dest.exists()


def test_good_answers_pass_through_and_the_next_step_is_git(template_repo, tmp_path):
    dest = tmp_path / "out"
    proc = run_wrapper(["copy", "--trust", "--defaults", "-d", "gateway_port=8080",
                        str(template_repo), str(dest)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "gateway_port: '8080'" in (dest / ".copier-answers.yml").read_text()  # numbers are asked as text
    assert f"Next, in {dest}: git init && git add -A && git commit" in proc.stdout + proc.stderr


def test_new_sh_prints_the_reason(tmp_path):
    """README's non-interactive example, as a user runs it (sets up .venv with copier's set)."""
    dest = tmp_path / "my-gateway"
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "new.sh"), str(dest), "--defaults",
                           "-d", "gateway_port=abc"], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=600)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: gateway_port: must be a whole number 1024-65535; ")
    assert not dest.exists()


def test_new_sh_refuses_a_non_empty_destination_before_writing(tmp_path):
    """copier wrote 57 files (no answers file) there, then stopped: "Interactive session required"."""
    dest = tmp_path / "taken"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine\n")
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "new.sh"), str(dest)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=600)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"error: destination {dest} is not empty: choose a new directory, or pass --overwrite to replace its files"]
    assert sorted(p.name for p in dest.iterdir()) == ["notes.txt"]

    proc = subprocess.run(["bash", str(ROOT / "scripts" / "new.sh"), str(dest), "--defaults", "--overwrite",
                           "--quiet"], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert (dest / ".copier-answers.yml").exists() and (dest / "notes.txt").read_text() == "mine\n"


def test_update_from_an_untagged_template_says_so_once(template_repo, tmp_path):
    """`make update` printed copier's "No git tags found in template; using HEAD as ref"
    three times; a template without release tags is said once, in words a user can act on."""
    import shutil

    from tests.conftest import copy_template, git

    untagged = Path(shutil.copytree(template_repo, tmp_path / "template"))
    for tag in git("tag", cwd=untagged).split():
        git("tag", "-d", tag, cwd=untagged)
    repo = copy_template(untagged, tmp_path / "deploy", {"app_name": "once"})
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "deploy", cwd=repo)
    proc = run_wrapper(["update", "--trust", "--skip-answered", "--defaults"], repo)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "No git tags found" not in proc.stderr
    assert proc.stderr.count("the template has no release tag") == 1, proc.stderr
