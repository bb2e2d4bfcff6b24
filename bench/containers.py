"""Container engine: time from `copier copy` to a `healthy` container, per platform.

For each platform (private variant): generate the deploy repo in-process, build
its Dockerfile unmodified against the offline stand-in images
(tests/support/containers.py; built once, not timed), run it with what the
platform's file declares on a fresh named volume (root-owned where the platform
mounts outside the image's home), and wait for the generated HEALTHCHECK to say
`healthy` (interval shortened to 2 s, as in the tests), then for /startupz
"started". Reported: copy, image build, first boot (run -> healthy, run ->
started), the container's memory (cgroup usage at that moment and peak)
against the declared limit. Runs one platform after another.

    .venv/bin/python bench/containers.py [--only fly,render]

Needs a running engine (scripts/container-engine.sh start).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "template"))
from tests.conftest import DEFAULT_VERSION, copy_template, snapshot_template  # noqa: E402
from tests.container import conftest as ct  # noqa: E402
from tests.e2e.harness import launch_spec  # noqa: E402
from tests.support import containers as c  # noqa: E402

# Compose (gcp/vps) runs through `docker compose` in tests/container/test_compose.py.
PLATFORMS = ["fly", "render", "railway", "northflank"]


def memory_mb(name: str) -> tuple[float, float]:
    script = ("cat /sys/fs/cgroup/memory.current /sys/fs/cgroup/memory.peak 2>/dev/null || "
              "cat /sys/fs/cgroup/memory/memory.usage_in_bytes /sys/fs/cgroup/memory/memory.max_usage_in_bytes")
    now, peak = (int(v) / 2**20 for v in c.docker("exec", name, "sh", "-c", script).stdout.split()[:2])
    return now, peak


def one(template: Path, work: Path, platform: str) -> dict[str, float]:
    res = ct.Resources()
    try:
        t0 = time.perf_counter()
        data = {"platform": platform, "privacy": "private", "app_name": "claw-bench"}
        if platform in ("gcp", "vps"):
            data["domain"] = "claw.localhost"
        repo = copy_template(template, work / platform, data)
        t_copy = time.perf_counter()
        c.images_for(repo)
        t_base = time.perf_counter()
        image, _ = ct.build(repo, res)
        t_build = time.perf_counter()
        name, port, _ = ct.run_platform(repo, image, res)
        t_run = time.perf_counter()
        ct.wait_healthy(name)
        t_healthy = time.perf_counter()
        while True:
            status, body = ct.http_json(f"http://127.0.0.1:{ct.host_port(name, port)}/startupz")
            if status == 200 and body.get("status") == "started":
                break
            if time.perf_counter() - t_run > 300:
                raise RuntimeError(f"{platform}: /startupz never started: {status} {body}")
            time.sleep(0.5)
        t_started = time.perf_counter()
        now, peak = memory_mb(name)
        return {"copy_s": t_copy - t0, "stand-ins_s": t_base - t_copy, "build_s": t_build - t_base,
                "healthy_s": t_healthy - t_run, "started_s": t_started - t_run, "mem_mb": now, "peak_mb": peak,
                "limit_mb": launch_spec(repo).memory_mb}
    finally:
        res.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated platforms")
    args = parser.parse_args()
    platforms = [p for p in args.only.split(",") if p] or PLATFORMS
    c.engine_ready()
    t0 = time.perf_counter()
    c.openclaw_image(DEFAULT_VERSION)
    print(f"stand-in base image ready in {time.perf_counter() - t0:.1f} s (cached after the first run)")
    with tempfile.TemporaryDirectory() as tmp:
        template = snapshot_template(Path(tmp) / "template")
        print("| platform | copy s | build s | run -> healthy s | run -> /startupz s | memory MiB | peak MiB | limit MiB |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for platform in platforms:
            r = one(template, Path(tmp), platform)
            print(f"| {platform} | {r['copy_s']:.1f} | {r['build_s']:.1f} | {r['healthy_s']:.1f} | "
                  f"{r['started_s']:.1f} | {r['mem_mb']:.0f} | {r['peak_mb']:.0f} | {r['limit_mb']} |", flush=True)


if __name__ == "__main__":
    main()
