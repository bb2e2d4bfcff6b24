"""Time the first hour's two waits from a clean state, uv (what the project does) against
plain `pip install -r` of the same pins, in one run:

1. README command 1, `bash scripts/demo.sh`, in a fresh clone of this repo's HEAD (no
   .venv), which installs requirements-copier.lock; the pip baseline is `python3 -m
   venv .venv && .venv/bin/pip install -r requirements-copier.lock`, then the same
   `copier copy`.
2. A generated repo's first `make verify` (no .venv); the pip baseline is `python3 -m
   venv .venv && .venv/bin/pip install -r requirements-ops.txt && .venv/bin/python -m
   ops.verify`.

Every step gets its own empty cache directory (XDG_CACHE_HOME, UV_CACHE_DIR,
PIP_CACHE_DIR): every package is downloaded again, cold caches on both sides. No
`uv` on PATH is used. uv itself is a tool, installed once per machine (into
XDG_DATA_HOME) by the first setup: the "uv" columns time a machine that has it,
the "first ever" row also fetches it (a ~20 MB wheel through pip). Targets:
command 1 <= 15 s, first `make verify` <= 30 s. The load average is printed too:
on a shared machine the absolute seconds stretch, the ratios much less.

    python3 bench/setup.py [--rounds 1] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"README command 1": 15.0, "first make verify": 30.0}  # seconds, uv already on the machine


def cold_env(cache: Path, data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("UV", "VIRTUAL_ENV")}
    env.update(XDG_CACHE_HOME=str(cache), UV_CACHE_DIR=str(cache / "uv"), PIP_CACHE_DIR=str(cache / "pip"),
               XDG_DATA_HOME=str(data))
    # no uv from PATH: the project's own bootstrap is part of what is timed
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep)
                                  if not (Path(p) / "uv").exists() and ".venv" not in p)
    return env


def timed(argv: list[str] | str, cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, shell=isinstance(argv, str),
                          stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"failed ({proc.returncode}): {argv}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return seconds


def clone(dest: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(ROOT), str(dest)], check=True)
    return dest


def command1(work: Path, mode: str, data: Path) -> float:
    repo = clone(work / f"clone-{mode}")
    env = cold_env(work / f"cache-c1-{mode}", data)
    if mode in ("uv", "first"):
        return timed(["bash", "scripts/demo.sh"], repo, env)
    return timed("python3 -m venv .venv && .venv/bin/pip install -q -r requirements-copier.lock && "
                 ".venv/bin/copier copy --trust --defaults -r HEAD . demo-deploy", repo, env)


def first_verify(work: Path, generated: Path, mode: str, data: Path) -> float:
    repo = work / f"deploy-{mode}"
    shutil.copytree(generated, repo, ignore=shutil.ignore_patterns(".venv"))
    env = cold_env(work / f"cache-v-{mode}", data)
    if mode == "uv":
        return timed(["make", "verify"], repo, env)
    return timed("python3 -m venv .venv && .venv/bin/pip install -q -r requirements-ops.txt && "
                 ".venv/bin/python -m ops.verify", repo, env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="cold runs of each (default 1; each downloads everything)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
    rows = ["README command 1", "first make verify"]
    results: dict[str, dict[str, list[float]]] = {name: {"uv": [], "pip": [], "first": []} for name in rows}
    scratch = Path(tempfile.mkdtemp(prefix="bench-setup-"))
    load = []
    try:
        for n in range(args.rounds):
            work = scratch / f"round{n}"
            work.mkdir()
            # first ever: uv not yet on the machine (its own empty tool directory)
            results["README command 1"]["first"].append(command1(work / "first", "first", work / "data-first"))
            # uv present (installed by that first run), every package cache cold
            data = work / "data-first"
            results["README command 1"]["uv"].append(command1(work, "uv", data))
            load.append(os.getloadavg()[0])
            results["first make verify"]["uv"].append(first_verify(work, work / "clone-uv" / "demo-deploy", "uv", data))
            results["README command 1"]["pip"].append(command1(work, "pip", data))
            results["first make verify"]["pip"].append(
                first_verify(work, work / "clone-uv" / "demo-deploy", "pip", data))
            load.append(os.getloadavg()[0])
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"{'':20} {'uv':>8} {'pip -r':>8} {'pip/uv':>7} {'first ever':>11}  target")
    ok = True
    for name in rows:
        target = TARGETS[name]
        uv = statistics.median(results[name]["uv"])
        pip = statistics.median(results[name]["pip"])
        first = f"{statistics.median(results[name]['first']):10.1f}s" if results[name]["first"] else f"{'-':>11}"
        met = uv <= target
        ok &= met
        print(f"{name:20} {uv:7.1f}s {pip:7.1f}s {pip / uv:6.1f}x {first}  <= {target:.0f} s {'met' if met else 'MISSED'}")
    print(f"cold package caches, median of {args.rounds} round(s) in one run; Python {sys.version.split()[0]}; "
          f"{os.cpu_count()} CPUs, load average {statistics.mean(load):.1f} while timing")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
