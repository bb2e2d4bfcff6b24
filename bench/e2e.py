"""Time from `copier copy` (in-process) to the real gateway's /startupz "started".

For each platform/privacy variant of the e2e suite: generate the deploy repo,
boot it with the e2e harness exactly as the tests do (entrypoint seeds a fresh
volume, declared command, free port, generated token), poll /startupz on the
port the platform probes, and record the gateway's peak RSS against the
configured machine memory. Variants run one after another (not in parallel)
so the figures are not skewed by each other.

    .venv/bin/python bench/e2e.py [--rounds 1] [--only fly,railway]

Uses the cached npm install of the pinned OpenClaw (installs it on first use).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.conftest import DEFAULT_VERSION, copy_template, snapshot_template  # noqa: E402
from tests.e2e import harness as h  # noqa: E402
from tests.support.openclaw_npm import ensure_openclaw  # noqa: E402


def one_round(template: Path, work: Path, openclaw, platform: str, privacy: str) -> dict[str, float]:
    t0 = time.perf_counter()
    repo = copy_template(template, work / "deploy", {"platform": platform, "privacy": privacy})
    t_copy = time.perf_counter()
    spec = h.launch_spec(repo, platform)
    plan = h.make_plan(spec, openclaw, work / "run")
    with h.Gateway(plan, work / "gateway.log", f"{platform}-{privacy}") as gateway:
        body = gateway.wait_started()
        t_started = time.perf_counter()
        assert body.get("version") == spec.version, body
        rss = gateway.rss_mb()
    return {
        "copy_s": t_copy - t0,
        "boot_s": t_started - t_copy,
        "total_s": t_started - t0,
        "gateway_rss_mb": rss["gateway_peak_mb"],
        "tree_rss_mb": rss["tree_peak_mb"],
        "memory_mb": spec.memory_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--only", default="", help="comma-separated platforms (default: every variant)")
    args = parser.parse_args()
    only = {p for p in args.only.split(",") if p}
    variants = [(p, v) for p, v in h.VARIANTS if not only or p in only]
    openclaw = ensure_openclaw(DEFAULT_VERSION)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        template = snapshot_template(tmp / "openclaw-deploy")
        results: dict[str, list[dict[str, float]]] = {}
        for i in range(args.rounds):
            for platform, privacy in variants:
                name = f"{platform}/{privacy}"
                results.setdefault(name, []).append(
                    one_round(template, tmp / f"{platform}-{privacy}-{i}", openclaw, platform, privacy))
    print(f"openclaw {DEFAULT_VERSION}, rounds: {args.rounds} (median), in-process copier copy -> /startupz started")
    print(f"{'variant':<20} {'copy s':>7} {'boot s':>7} {'total s':>8} {'RSS MB':>7} {'tree MB':>8} "
          f"{'memory MB':>10} {'tree %':>7}")
    for name, rounds in results.items():
        med = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
        print(f"{name:<20} {med['copy_s']:>7.2f} {med['boot_s']:>7.1f} {med['total_s']:>8.1f} "
              f"{med['gateway_rss_mb']:>7.0f} {med['tree_rss_mb']:>8.0f} {med['memory_mb']:>10.0f} "
              f"{100 * med['tree_rss_mb'] / med['memory_mb']:>6.0f}%")
    print("RSS MB: the gateway process's peak (VmHWM); tree MB: sampled peak of the gateway "
          "and its helper processes together (what a container memory limit counts).")


if __name__ == "__main__":
    main()
