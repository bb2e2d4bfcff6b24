"""Papermill wall time of each runbook notebook beside the same code as plain Python.

For each notebook, in one run and alternating: (a) the papermill CLI
executing it against a freshly generated Fly deploy repo, (b) the very same
cells (papermill's parameter injection, exported with nbconvert's
PythonExporter) run as a plain ``python`` script. Prints the medians and the
ratio. Target: the cost notebook under 3x plain Python.

    .venv/bin/python bench/notebooks.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "template"))

from nbconvert import PythonExporter  # noqa: E402
from papermill.iorw import load_notebook_node  # noqa: E402
from papermill.parameterize import parameterize_notebook  # noqa: E402

from tests.conftest import copy_template, snapshot_template  # noqa: E402

NOTEBOOKS = ROOT / "template" / "notebooks"
TARGET = {"cost_estimate": 3.0}


def seconds(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        repo = copy_template(snapshot_template(tmp / "template"), tmp / "deploy", {})
        print(f"deploy repo: fly defaults; {args.rounds} rounds, alternating; medians")
        print(f"{'notebook':<16} {'papermill s':>11} {'plain s':>8} {'ratio':>6}  target")
        failed = False
        for name in ("cost_estimate", "troubleshooting"):
            src = NOTEBOOKS / f"{name}.ipynb"
            params = {"repo": str(repo), "output_dir": str(tmp / f"out-{name}")}
            script = tmp / f"{name}.py"
            nb = parameterize_notebook(load_notebook_node(str(src)), params)
            script.write_text(PythonExporter().from_notebook_node(nb)[0])
            pm_argv = [sys.executable, "-m", "papermill", "--no-progress-bar", "--no-log-output", str(src),
                       str(tmp / f"{name}.out.ipynb")] + [x for k, v in params.items() for x in ("-p", k, v)]
            py_argv = [sys.executable, str(script)]
            pm, py = [], []
            seconds(py_argv, tmp)  # warm the file cache once for both
            for _ in range(args.rounds):
                pm.append(seconds(pm_argv, tmp))
                py.append(seconds(py_argv, tmp))
            a, b = statistics.median(pm), statistics.median(py)
            target = TARGET.get(name)
            verdict = "" if target is None else (f"< {target:g}x " + ("ok" if a / b < target else "MISSED"))
            failed |= target is not None and a / b >= target
            print(f"{name:<16} {a:>11.2f} {b:>8.2f} {a / b:>5.2f}x  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
