"""Time `copier copy --defaults` of this template against a one-file baseline.

Both templates are snapshotted into git repos with a tag and generated with the
same copier CLI, alternating, several rounds in one run; prints the medians and
their ratio. Target: this template at most 1.5x the baseline.

    .venv/bin/python bench/generate.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.conftest import git, snapshot_template  # noqa: E402

COPIER = Path(sys.executable).parent / "copier"


def baseline(dest: Path) -> Path:
    dest.mkdir(parents=True)
    (dest / "copier.yml").write_text("name:\n  type: str\n  default: demo\n")
    (dest / "README.md.jinja").write_text("# {{ name }}\n")
    git("init", "-q", "-b", "main", cwd=dest)
    git("add", "-A", cwd=dest)
    git("commit", "-q", "-m", "baseline", cwd=dest)
    git("tag", "v1.0.0", cwd=dest)
    return dest


def copy_seconds(template: Path, dst: Path) -> float:
    start = time.perf_counter()
    subprocess.run([COPIER, "copy", "--trust", "--defaults", "--quiet", str(template), str(dst)],
                   check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ours = snapshot_template(tmp / "openclaw-deploy")
        base = baseline(tmp / "baseline")
        times: dict[str, list[float]] = {"openclaw-deploy": [], "baseline": []}
        for i in range(args.rounds + 1):  # round 0 warms caches and is dropped
            for name, template in (("baseline", base), ("openclaw-deploy", ours)):
                seconds = copy_seconds(template, tmp / f"out-{name}-{i}")
                if i:
                    times[name].append(seconds)
    med = {name: statistics.median(values) for name, values in times.items()}
    ratio = med["openclaw-deploy"] / med["baseline"]
    print(f"rounds: {args.rounds} (after 1 warm-up), copier CLI, --defaults")
    for name, values in times.items():
        print(f"{name:16} median {med[name]:.3f} s  (min {min(values):.3f}, max {max(values):.3f})")
    print(f"ratio openclaw-deploy / baseline: {ratio:.2f}x  (target <= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
