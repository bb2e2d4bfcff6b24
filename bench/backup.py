"""make backup / make restore: time and archive size against a plain `tar`.

For each platform runner here (Fly, Railway, Render, Northflank through the
driving stand-ins of tests/standins/drive: their CLI verbs become `docker
exec`/`cp` on the real container; nothing is contacted): generate the deploy
repo, build and run its image as the platform declares, wait until healthy,
then for an idle gateway and again with 100 MB of workspace (incompressible
random files):

- `tar`: `tar -czf` of the state dir + workspace inside the container, as uid
  1000 (a raw copy: not a valid backup of a live gateway, only the yardstick);
- `make backup` (openclaw backup create --verify, transfer, checks both ends);
- `make restore` (upload, maintenance, stage, swap, until /startupz says started).

Printed: seconds, archive MB, backup/tar ratio (goal <= 3) and restore against
the gateway's own boot (run -> started) + 15 s (goal: restore <= that).

    .venv/bin/python bench/backup.py [--only fly,railway] [--mb 100]

Needs a running engine (scripts/container-engine.sh start). Compose runs the same
ops/backup.py through `docker compose` (tests/container/test_backup.py).
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "template"))
from tests.conftest import copy_template, snapshot_template  # noqa: E402
from tests.container import conftest as ct  # noqa: E402
from tests.container.test_backup import make, make_env  # noqa: E402
from tests.support import containers as c  # noqa: E402

PLATFORMS = ["fly", "railway", "render", "northflank"]
PATHS = {"fly": ("/data", "/data/workspace")}
DEFAULT_PATHS = ("/data/.openclaw", "/data/workspace")


def started_s(name: str, port: int, since: float, timeout: float = 600) -> float:
    while time.perf_counter() - since < timeout:
        try:
            status, body = ct.http_json(f"http://127.0.0.1:{ct.host_port(name, port)}/startupz", timeout=5)
        except (OSError, http.client.HTTPException):  # still booting: the port refuses or drops
            status, body = 0, None
        if status == 200 and isinstance(body, dict) and body.get("status") == "started":
            return time.perf_counter() - since
        time.sleep(0.5)
    raise RuntimeError(f"{name}: not started after {timeout} s")


def tar_s(name: str, state: str, workspace: str) -> tuple[float, float]:
    dirs = state if workspace.startswith(state + "/") else f"{state} {workspace}"
    t0 = time.perf_counter()
    c.docker("exec", "-u", "1000", name, "sh", "-c", f"tar -czf /tmp/bench.tgz {dirs} 2>/dev/null; true")
    seconds = time.perf_counter() - t0
    size = int(c.docker("exec", name, "stat", "-c", "%s", "/tmp/bench.tgz").stdout)
    c.docker("exec", "-u", "0", name, "rm", "-f", "/tmp/bench.tgz")
    return seconds, size / 2**20


def one(template: Path, work: Path, platform: str, mb: int) -> list[dict]:
    res = ct.Resources()
    rows = []
    try:
        data = {"platform": platform, "privacy": "private", "app_name": "claw-bench"}
        repo = copy_template(template, work / platform, data)
        image, _ = ct.build(repo, res)
        t_run = time.perf_counter()
        name, port, _ = ct.run_platform(repo, image, res, extra=["--health-start-period=600s"])
        boot = started_s(name, port, t_run)
        (work / f"{platform}-env").mkdir()
        env = make_env(work / f"{platform}-env", DRIVE_CONTAINER=name, RENDER_SERVICE_ID="srv-bench0001")
        state, workspace = PATHS.get(platform, DEFAULT_PATHS)
        for label, size_mb in (("idle", 0), (f"+{mb} MB workspace", mb)):
            if size_mb:
                c.docker("exec", "-u", "1000", name, "sh", "-c",
                         f"head -c {size_mb * 2**20} /dev/urandom > {workspace}/bench.bin")
            tar_seconds, tar_mb = tar_s(name, state, workspace)
            t0 = time.perf_counter()
            proc = make(repo, env, "backup")
            backup_seconds = time.perf_counter() - t0
            if proc.returncode:
                raise RuntimeError(proc.stdout + proc.stderr)
            archive = repo / proc.stdout.strip().splitlines()[-1]
            t0 = time.perf_counter()
            proc = make(repo, env, "restore", f"ARCHIVE={archive}", "ARGS=--yes")
            restore_seconds = time.perf_counter() - t0
            if proc.returncode:
                raise RuntimeError(proc.stdout + proc.stderr)
            rows.append({"platform": platform, "state": label, "tar_s": tar_seconds, "tar_mb": tar_mb,
                         "backup_s": backup_seconds, "archive_mb": archive.stat().st_size / 2**20,
                         "restore_s": restore_seconds, "boot_s": boot})
    finally:
        res.cleanup()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(PLATFORMS))
    parser.add_argument("--mb", type=int, default=100)
    args = parser.parse_args()
    c.engine_ready()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        template = snapshot_template(work / "template")
        rows = []
        for platform in args.only.split(","):
            rows += one(template, work, platform, args.mb)
    print(f"{'platform':<11} {'state':<22} {'tar s':>6} {'tar MB':>7} {'backup s':>9} {'archive MB':>10} "
          f"{'backup/tar':>10} {'restore s':>9} {'boot+15 s':>9} {'restore/(boot+15)':>17}")
    for r in rows:
        budget = r["boot_s"] + 15
        print(f"{r['platform']:<11} {r['state']:<22} {r['tar_s']:6.1f} {r['tar_mb']:7.1f} {r['backup_s']:9.1f} "
              f"{r['archive_mb']:10.1f} {r['backup_s'] / r['tar_s']:10.1f} {r['restore_s']:9.1f} {budget:9.1f} "
              f"{r['restore_s'] / budget:17.2f}")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
