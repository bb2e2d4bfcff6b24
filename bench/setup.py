"""Time the first hour's two waits from a clean state, uv (what the project does) against
plain `pip install -r` of the same pins, in one run:

1. README command 1, `bash scripts/demo.sh`, in a fresh clone of this repo's HEAD (no
   .venv), which installs requirements-copier.lock; the pip baseline is `python3 -m
   venv .venv && .venv/bin/pip install -r requirements-copier.lock`, then the same
   `copier copy`.
2. A generated repo's first `make verify` (no .venv); the pip baseline is `python3 -m
   venv .venv && .venv/bin/pip install -r requirements-ops.txt && .venv/bin/python -m
   ops.verify`.
3. The runbooks (`--runbooks`, also alone with `--only-runbooks`): the first `make cost`
   and the first `make troubleshoot` in a fresh copy of that repo (cold: the notebook
   stack is installed from an empty package cache) and their second runs (warm), each
   with the seconds to its first output line, beside the copier floor (`copier copy`
   of a one-file template, bench/generate.py's baseline) and the cost notebook run as
   plain Python (bench/notebooks.py's export). Targets: warm `make cost` <= 2x plain
   Python, first output within 1 s.

Every step gets its own empty cache directory (XDG_CACHE_HOME, UV_CACHE_DIR,
PIP_CACHE_DIR): every package is downloaded again, cold caches on both sides. No
`uv` on PATH is used. uv itself is a tool, installed once per machine (into
XDG_DATA_HOME) by the first setup: the "uv" columns time a machine that has it,
the "first ever" row also fetches it (a ~20 MB wheel through pip). Targets:
command 1 <= 15 s, first `make verify` <= 30 s. The load average is printed too:
on a shared machine the absolute seconds stretch, the ratios much less.

    python3 bench/setup.py [--rounds 1] [--keep] [--runbooks | --only-runbooks]
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


def streamed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(seconds to the first output line on stdout or stderr, total seconds)."""
    import selectors

    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    first = None
    sel = selectors.DefaultSelector()
    for stream in (proc.stdout, proc.stderr):
        sel.register(stream, selectors.EVENT_READ)
    tail = b""
    while sel.get_map():
        for key, _ in sel.select():
            chunk = os.read(key.fileobj.fileno(), 65536)
            if not chunk:
                sel.unregister(key.fileobj)
                continue
            if first is None and chunk.strip():
                first = time.perf_counter() - start
            tail = (tail + chunk)[-3000:]
    code = proc.wait()
    total = time.perf_counter() - start
    if code:
        sys.exit(f"failed ({code}): {argv}\n{tail.decode(errors='replace')}")
    return (first if first is not None else total), total


def runbooks(work: Path, generated: Path, data: Path) -> dict[str, tuple[float, float]]:
    """First and second `make cost` / `make troubleshoot` in fresh copies of ``generated``
    (cold package cache), the copier floor and the cost notebook as plain Python."""
    sys.path.insert(0, str(ROOT))
    from bench.generate import baseline
    from bench.generate import copy_seconds

    out: dict[str, tuple[float, float]] = {}
    for target in ("cost", "troubleshoot"):
        repo = work / f"runbook-{target}"
        shutil.copytree(generated, repo, ignore=shutil.ignore_patterns("reports"), symlinks=True)
        env = cold_env(work / f"cache-rb-{target}", data)
        env.pop("COLUMNS", None)
        out[f"first make {target} (cold)"] = streamed(["make", "-s", target], repo, env)
        out[f"make {target} (warm)"] = streamed(["make", "-s", target], repo, env)
    repo = work / "runbook-cost"
    python = repo / ".venv" / "bin" / "python"
    script = work / "cost_estimate.py"
    subprocess.run([str(python), "-c", EXPORT, str(repo / "notebooks" / "cost_estimate.ipynb"), str(repo),
                    str(work / "plain-out"), str(script)], check=True)
    timed([str(python), str(script)], repo, os.environ.copy())  # warm the file cache once
    plain = timed([str(python), str(script)], repo, os.environ.copy())
    out["cost notebook as plain Python"] = (plain, plain)
    floor = copy_seconds(baseline(work / "floor-template"), work / "floor-out")
    out["copier floor (one-file template)"] = (floor, floor)
    return out


# the cost notebook as one script, parameters injected as papermill does (bench/notebooks.py)
EXPORT = """
import sys
from nbconvert import PythonExporter
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook
src, repo, out, script = sys.argv[1:]
nb = parameterize_notebook(load_notebook_node(src), {"repo": repo, "output_dir": out})
open(script, "w").write(PythonExporter().from_notebook_node(nb)[0])
"""


def print_runbooks(found: dict[str, tuple[float, float]]) -> bool:
    plain = found["cost notebook as plain Python"][1]
    print(f"\n{'runbooks':36} {'first line':>10} {'total':>8}")
    for name, (first, total) in found.items():
        print(f"{name:36} {first:9.2f}s {total:7.2f}s")
    warm = found["make cost (warm)"][1]
    firsts = [first for name, (first, _) in found.items() if name.startswith(("first make", "make "))]
    met_ratio, met_first = warm <= 2 * plain, max(firsts) <= 1.0
    print(f"warm make cost / plain Python: {warm / plain:.1f}x (target <= 2x: {'met' if met_ratio else 'MISSED'}); "
          f"first output within {max(firsts):.2f} s (target <= 1 s: {'met' if met_first else 'MISSED'})")
    return met_ratio and met_first


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
    parser.add_argument("--runbooks", action="store_true", help="also time the first make cost / troubleshoot")
    parser.add_argument("--only-runbooks", action="store_true", help="only the runbooks (uv already on the machine)")
    args = parser.parse_args()
    if args.only_runbooks:
        return only_runbooks(args.keep)
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
            if args.runbooks and n == 0:
                found = runbooks(work, work / "deploy-uv", data)
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
    if args.runbooks:
        ok &= print_runbooks(found)
    return 0 if ok else 1


def only_runbooks(keep: bool) -> int:
    """The runbook rows alone, on a deploy repo generated from this checkout (uv from
    the machine's tool directory, as after a first setup)."""
    sys.path.insert(0, str(ROOT))
    from tests.conftest import copy_template, snapshot_template

    scratch = Path(tempfile.mkdtemp(prefix="bench-runbooks-"))
    try:
        repo = copy_template(snapshot_template(scratch / "template"), scratch / "deploy", {})
        data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
        load = os.getloadavg()[0]
        ok = print_runbooks(runbooks(scratch, repo, data))
        print(f"Python {sys.version.split()[0]}; {os.cpu_count()} CPUs, load average {load:.1f} at the start")
        return 0 if ok else 1
    finally:
        if keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
