"""Time the first hour's two waits from a clean state, uv (what the project does) against
plain `pip install -r` of the same pins, in one run:

1. README command 1, `bash scripts/demo.sh`, in a fresh clone of this repo's HEAD (no
   .venv); the pip baseline is `python3 -m venv .venv && .venv/bin/pip install -r
   requirements.lock`, then the same `copier copy`.
2. A generated repo's first `make verify` (no .venv); the pip baseline is `python3 -m
   venv .venv && .venv/bin/pip install -r requirements-ops.txt && .venv/bin/python -m
   ops.verify`.

Every step gets its own empty cache directory (XDG_CACHE_HOME, UV_CACHE_DIR,
PIP_CACHE_DIR), so uv itself, the packages and the wheels are all fetched again:
cold caches on both sides. No `uv` on PATH is used. Targets: command 1 <= 15 s,
first `make verify` <= 30 s.

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
TARGETS = {"README command 1": 15.0, "first make verify": 30.0}


def cold_env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("UV", "VIRTUAL_ENV")}
    env.update(XDG_CACHE_HOME=str(cache), UV_CACHE_DIR=str(cache / "uv"), PIP_CACHE_DIR=str(cache / "pip"))
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


def command1(work: Path, mode: str) -> float:
    repo = clone(work / f"clone-{mode}")
    env = cold_env(work / f"cache-c1-{mode}")
    if mode == "uv":
        return timed(["bash", "scripts/demo.sh"], repo, env)
    return timed("python3 -m venv .venv && .venv/bin/pip install -q -r requirements.lock && "
                 ".venv/bin/copier copy --trust --defaults -r HEAD . demo-deploy", repo, env)


def first_verify(work: Path, generated: Path, mode: str) -> float:
    repo = work / f"deploy-{mode}"
    shutil.copytree(generated, repo, ignore=shutil.ignore_patterns(".venv"))
    env = cold_env(work / f"cache-v-{mode}")
    if mode == "uv":
        return timed(["make", "verify"], repo, env)
    return timed("python3 -m venv .venv && .venv/bin/pip install -q -r requirements-ops.txt && "
                 ".venv/bin/python -m ops.verify", repo, env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="cold runs of each (default 1; each downloads everything)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
    results: dict[str, dict[str, list[float]]] = {name: {"uv": [], "pip": []} for name in TARGETS}
    scratch = Path(tempfile.mkdtemp(prefix="bench-setup-"))
    try:
        for n in range(args.rounds):
            for mode in ("uv", "pip"):  # alternate, same run
                work = scratch / f"round{n}"
                work.mkdir(exist_ok=True)
                results["README command 1"][mode].append(command1(work, mode))
                generated = work / "clone-uv" / "demo-deploy"
                if mode == "uv":
                    results["first make verify"][mode].append(first_verify(work, generated, mode))
            results["first make verify"]["pip"].append(first_verify(work, generated, "pip"))
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"{'':20} {'uv (ours)':>10} {'pip -r':>10} {'pip/uv':>7}  target")
    ok = True
    for name, target in TARGETS.items():
        uv = statistics.median(results[name]["uv"])
        pip = statistics.median(results[name]["pip"])
        met = uv <= target
        ok &= met
        print(f"{name:20} {uv:9.1f}s {pip:9.1f}s {pip / uv:6.1f}x  <= {target:.0f} s {'met' if met else 'MISSED'}")
    print(f"(cold caches, median of {args.rounds} round(s), one run; Python {sys.version.split()[0]})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
