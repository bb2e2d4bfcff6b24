"""Make a venv and install pinned requirements into it, with uv (pip where uv can't be had).

    python3 -m ops.tools [--python VENV/bin/python | --venv DIR] [--stamp] REQUIREMENTS.txt [...]
    python3 ops/tools.py ...            (the same, as a plain script)

Standard library only: it runs before any venv exists. `make venv` (the tools
`make verify` needs), `make cost`/`make troubleshoot` (the notebooks' stack) and
`make update` (copier) each call it with their own requirements file, so a lint
run never downloads matplotlib. --python names the venv by its interpreter (made
when missing); without it, the venv this runs in, else ``.venv``.

uv: $UV if set, else uv <UV_VERSION> from a per-user tool directory
(``${XDG_DATA_HOME:-~/.local/share}/openclaw-deploy/uv-<version>``), else a ``uv``
on PATH, else that pinned uv installed there once with ``python3 -m pip install
--target`` (the one slow step of a first setup: a ~20 MB wheel). When none
works it says so and uses pip (slower). Nothing is installed when every pin is
already met (``name==version`` lines are compared with the venv's installed
versions) or, with --stamp (implied by a file with hashes or markers), when the
files' sha256 matches the last install or check (no interpreter is started then:
`make cost`/`make troubleshoot` use it). A file with hashes is installed with
--require-hashes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

UV_VERSION = "0.13.9"


def say(message: str) -> None:
    print(f"tools: {message}", file=sys.stderr, flush=True)


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def _bootstrap_pythons() -> list[str]:
    """Interpreters that may have pip: this one, then the one a venv was made from."""
    found = [sys.executable]
    base = getattr(sys, "_base_executable", None)
    if base and base not in found:
        found.append(base)
    return found


def find_uv() -> str | None:
    explicit = os.environ.get("UV")
    if explicit:
        return explicit
    home = _data_home() / "openclaw-deploy" / f"uv-{UV_VERSION}"
    exe = home / "bin" / "uv"
    if exe.exists():
        return str(exe)
    on_path = shutil.which("uv")
    if on_path:
        return on_path
    home.parent.mkdir(parents=True, exist_ok=True)
    scratch = home.parent / f".uv-{UV_VERSION}.{os.getpid()}"
    env = {**os.environ, "PIP_ROOT_USER_ACTION": "ignore", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    errors = []
    say(f"getting uv {UV_VERSION} (once per machine) into {home} ...")
    for python in _bootstrap_pythons():
        proc = subprocess.run([python, "-m", "pip", "install", "-q", "--target", str(scratch), f"uv=={UV_VERSION}"],
                              capture_output=True, text=True, env=env)
        if proc.returncode == 0 and (scratch / "bin" / "uv").exists():
            try:
                scratch.rename(home)  # atomic: a parallel run may have won, then use its copy
            except OSError:
                shutil.rmtree(scratch, ignore_errors=True)
            return str(exe)
        shutil.rmtree(scratch, ignore_errors=True)
        errors.append((proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"])
    say(f"uv could not be installed ({errors[-1][0] if errors else 'no pip'}); using pip, which is slower")
    return None


def _pins(files: list[Path]) -> dict[str, str] | None:
    """name -> version for plain `name==version` files; None if a line is anything else."""
    pins: dict[str, str] = {}
    for path in files:
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            name, sep, version = line.partition("==")
            if not sep or any(ch in line for ch in ";@ \\"):
                return None
            pins[name.strip()] = version.strip()
    return pins


MISSING_SNIPPET = """
import json, sys
from importlib import metadata
missing = []
for name, want in json.loads(sys.argv[1]).items():
    try:
        have = metadata.version(name)
    except metadata.PackageNotFoundError:
        have = None
    if have != want:
        missing.append(f"{name}=={want}")
print(json.dumps(missing))
"""


def missing_pins(python: Path, pins: dict[str, str]) -> list[str]:
    proc = subprocess.run([str(python), "-c", MISSING_SNIPPET, json.dumps(pins)], capture_output=True, text=True)
    return json.loads(proc.stdout) if proc.returncode == 0 else sorted(f"{k}=={v}" for k, v in pins.items())


def _digest(files: list[Path]) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()


def default_venv() -> Path:
    return Path(sys.prefix) if sys.prefix != sys.base_prefix else Path(".venv")


def ensure(venv: Path, files: list[Path], stamp: bool = False) -> int:
    python = venv / "bin" / "python"
    stamp_file = venv / f".openclaw-tools.{'+'.join(p.name for p in files)}.sha256"
    pins = _pins(files)
    stamp = stamp or pins is None  # hashes or markers: only a stamp can tell what is installed
    if python.exists():
        if stamp and stamp_file.exists() and stamp_file.read_text().strip() == _digest(files):
            return 0  # no interpreter started: `make cost` answers sooner
        if pins is not None and not missing_pins(python, pins):
            if stamp:
                stamp_file.write_text(_digest(files) + "\n")
            return 0
    uv = find_uv()
    names = " ".join(p.name for p in files)
    if not python.exists():
        made = uv and subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)]).returncode == 0
        if not made:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    say(f"installing {names} into {venv} with {'uv' if uv else 'pip'} ...")  # a progress step
    # A file with hashes is installed on its own with --require-hashes: every
    # package it brings must match one of its sha256 sums.
    hashed = [p for p in files if "--hash=" in p.read_text(encoding="utf-8")]
    code = 0
    for group, extra in ((hashed, ["--require-hashes"]), ([p for p in files if p not in hashed], [])):
        if not group or code:
            continue
        reqs = [arg for p in group for arg in ("-r", str(p))]
        if uv:
            cmd = [uv, "pip", "install", "-q", "--python", str(python), *extra, *reqs]
        else:
            cmd = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *extra, *reqs]
        code = subprocess.run(cmd).returncode
    if code == 0 and stamp:
        stamp_file.write_text(_digest(files) + "\n")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, help="venv to make or fill (default: the one running this, else .venv)")
    parser.add_argument("--python", type=Path, help="the venv's interpreter, e.g. .venv/bin/python (instead of --venv)")
    parser.add_argument("--stamp", action="store_true", help="skip when the files are unchanged since the last install")
    parser.add_argument("requirements", nargs="+", type=Path)
    args = parser.parse_args(argv)
    if sys.version_info < (3, 11):
        say(f"Python 3.11 or newer is needed (this is {sys.version.split()[0]})")
        return 1
    venv = args.python.parent.parent if args.python else args.venv or default_venv()
    return ensure(venv, args.requirements, args.stamp)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C during `make cost`'s first step: one line, no traceback
        say("interrupted (Ctrl-C); the next run installs what is missing")
        sys.exit(130)
