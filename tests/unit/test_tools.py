"""Pins: the locks match requirements*.txt, the deploy repo's requirement files match the
project's, and ops.tools installs nothing when every pin is met."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from ops import tools

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", re.M)


def pins(path: Path) -> dict[str, str]:
    text = path.read_text()
    found = {norm(n): v for n, v in PIN.findall(text)}
    for include in re.findall(r"^-r\s+(\S+)", text, re.M):
        found |= pins(path.parent / include)
    return found


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_locks_hold_every_direct_pin_at_its_version():
    for source, lock in (("requirements.txt", "requirements.lock"),
                         ("requirements-copier.txt", "requirements-copier.lock")):
        direct, locked = pins(ROOT / source), pins(ROOT / lock)
        assert direct and {n: locked.get(n) for n in direct} == direct, lock
        assert "--hash=sha256:" in (ROOT / lock).read_text()


def test_copier_lock_agrees_with_the_full_lock():
    full, small = pins(ROOT / "requirements.lock"), pins(ROOT / "requirements-copier.lock")
    assert {n: full.get(n) for n in small} == small
    assert "matplotlib" not in small and "pytest" not in small


def test_deploy_repo_requirements_use_the_project_pins():
    project = pins(ROOT / "requirements.txt")
    template = ROOT / "template"
    s3 = "{% if backup_schedule|trim != 'off' and backup_recipient|trim %}requirements-s3.txt{% endif %}.jinja"
    for name in ("requirements-ops.txt.jinja", "requirements-notebooks.txt", "requirements-update.txt", s3):
        found = pins(template / name)
        assert found and {n: project.get(n) for n in found} == found, name
    verify_only = pins(template / "requirements-ops.txt.jinja")
    assert not {"matplotlib", "papermill", "nbconvert", "copier"} & set(verify_only)


def test_pins_met_means_nothing_to_install(tmp_path):
    import yaml

    have = tmp_path / "have.txt"
    have.write_text(f"# comment\npyyaml=={yaml.__version__}\n")
    assert tools._pins([have]) == {"pyyaml": yaml.__version__}
    assert tools.missing_pins(Path(sys.executable), {"pyyaml": yaml.__version__}) == []
    assert tools.missing_pins(Path(sys.executable), {"pyyaml": "0.0.1"}) == ["pyyaml==0.0.1"]
    marker = tmp_path / "marker.txt"
    marker.write_text("colorama==0.4.6 ; sys_platform == 'win32'\n")
    assert tools._pins([marker]) is None  # not plain pins: only a stamp can tell


@pytest.fixture
def met_venv(tmp_path, monkeypatch):
    """(venv, requirements): a venv (this interpreter behind a shim) that has every pin; installing fails."""
    import yaml

    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    shim = venv / "bin" / "python"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    shim.chmod(0o755)
    req = tmp_path / "req.txt"
    req.write_text(f"pyyaml=={yaml.__version__}\n")
    monkeypatch.setattr(tools, "find_uv", lambda: (_ for _ in ()).throw(AssertionError("tried to install")))
    return venv, req


def test_ensure_skips_a_venv_that_has_every_pin(met_venv):
    venv, req = met_venv
    assert tools.ensure(venv, [req]) == 0


def test_no_uv_to_be_had_says_so_and_falls_back_to_pip(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("UV", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no uv here
    monkeypatch.setattr(tools.shutil, "which", lambda name: None)
    monkeypatch.setattr(tools, "_bootstrap_pythons", lambda: ["/bin/false"])  # a python without pip
    assert tools.find_uv() is None
    err = capsys.readouterr().err
    assert "uv could not be installed" in err and "using pip, which is slower" in err
    assert not list(tmp_path.glob("openclaw-deploy/*"))  # no half-installed uv left behind


SLOW_PYTHON = """#!/bin/sh
# SLOW STAND-IN for a venv's python (tests/unit/test_tools.py): marks that it runs, then sleeps.
touch "$MARKER"
exec sleep 60
"""


def test_ctrl_c_while_checking_the_pins_is_one_line(tmp_path):
    """`make cost` first runs ops.tools; Ctrl-C there printed a 28-line KeyboardInterrupt traceback."""
    import os
    import signal
    import subprocess
    import time

    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text(SLOW_PYTHON)
    (venv / "bin" / "python").chmod(0o755)
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("pyyaml==6.0.3\n")
    marker = tmp_path / "checking"
    proc = subprocess.Popen([sys.executable, str(ROOT / "template" / "ops" / "tools.py"), "--python",
                             str(venv / "bin" / "python"), str(reqs)], env={**os.environ, "MARKER": str(marker)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and out == ""
    assert err.splitlines() == ["tools: interrupted (Ctrl-C); the next run installs what is missing"], err


def test_a_stamped_check_starts_no_interpreter_the_second_time(met_venv, monkeypatch):
    """`make cost` checked the notebook pins in a new interpreter on every run (~0.7 s
    before its first output); with --stamp the second run reads only the files."""
    import subprocess

    import yaml

    venv, req = met_venv
    assert tools.ensure(venv, [req], stamp=True) == 0  # pins met: checked once, stamped
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: (_ for _ in ()).throw(AssertionError("started one")))
    assert tools.ensure(venv, [req], stamp=True) == 0
    req.write_text(f"pyyaml=={yaml.__version__}\n# changed\n")
    with pytest.raises(AssertionError, match="started one"):
        tools.ensure(venv, [req], stamp=True)  # the files changed: checked again


def test_an_install_is_announced_as_a_progress_step(met_venv, monkeypatch, capsys):
    """CI's first `make cost` installed the notebook tools; its 'tools: installing' line was not a
    progress step, so the run's stderr read as a warning (the runbook test caught it in a fresh clone)."""
    from ops import terminal

    venv, req = met_venv
    import subprocess

    req.write_text("pyyaml==0.0.1\n")  # a pin the venv does not have
    monkeypatch.setattr(tools, "find_uv", lambda: None)
    monkeypatch.setattr(tools, "missing_pins", lambda python, pins: ["pyyaml==0.0.1"])
    ran = []
    monkeypatch.setattr(tools.subprocess, "run", lambda cmd, **k: ran.append(cmd) or subprocess.CompletedProcess(cmd, 0))
    assert tools.ensure(venv, [req]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert ran and "install" in ran[-1]  # it did install (with pip: no uv here)
    assert lines and all(map(terminal.is_step, lines)), lines
