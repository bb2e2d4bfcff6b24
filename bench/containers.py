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

    .venv/bin/python bench/containers.py [--only fly,render] [--warm-cache [image|volume]]

--warm-cache (= image): Node's compile cache as the generated Dockerfile fills it into the image at
build time, against the release's default (under /tmp, empty in every new container), same run:
"off" is the same repo with the build step taken out of its Dockerfile; both images are built with
--no-cache first (build seconds and image size, before/after).
--warm-cache volume: the cache on the volume instead, an idea measured and dropped (CHANGELOG
0.2.0) that no generated file holds any more: both modes run the image without the build step,
"on" with `-e NODE_COMPILE_CACHE=<volume mount>/.cache/node-compile-cache` at `docker run`, so a
later release can be measured again with no product code (on Fly and Compose that folder is in
the state dir, which every backup would archive).
"restart" = a new container from the same image on the same volume (a platform restart: a fresh
root filesystem), except Compose, whose restart policy, a VM reboot and `compose restart` keep the
container (its /tmp too); "deploy" = a rebuilt image (one new layer, the cache layer reused as a
builder with a layer cache does) then a new container. The two modes take turns event by event
(the first of each pair alternating), so load drift weighs on both; the tables give medians and
each pair's ratio. Each timed from `docker run`/`docker start` to /startupz "started" and to the
engine's `healthy`. Prints before/after and the ratios, and the load average (the numbers move
with it).

Needs a running engine (scripts/container-engine.sh start).
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "template"))
from tests.conftest import DEFAULT_VERSION, copy_template, snapshot_template  # noqa: E402
from tests.container import conftest as ct  # noqa: E402
from tests.e2e.harness import launch_spec  # noqa: E402
from tests.support import containers as c  # noqa: E402
from ops import model as m  # noqa: E402

# Compose (gcp/vps) runs through `docker compose` in tests/container/test_compose.py
# (--warm-cache runs gcp as its file declares, with `docker run`).
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


def started_after(name: str, port: int, since: float, limit: float = 600) -> float:
    while time.perf_counter() - since < limit:
        try:
            status, body = ct.http_json(f"http://127.0.0.1:{ct.host_port(name, port)}/startupz")
        except (OSError, AssertionError, http.client.HTTPException, subprocess.CalledProcessError):
            status, body = 0, None
        if status == 200 and isinstance(body, dict) and body.get("status") == "started":
            return time.perf_counter() - since
        time.sleep(0.25)
    raise RuntimeError(f"{name}: /startupz never started: {ct.logs(name)[-2000:]}")


def started_and_healthy(name: str, port: int, since: float, limit: float = 600) -> tuple[float, float]:
    """Seconds from `since` until /startupz says started and until the engine says healthy
    (the generated HEALTHCHECK, every 2 s here), whichever order they come in."""
    started = healthy = 0.0
    while not (started and healthy):
        if not started:
            try:
                status, body = ct.http_json(f"http://127.0.0.1:{ct.host_port(name, port)}/startupz")
            except (OSError, AssertionError, http.client.HTTPException, subprocess.CalledProcessError):
                status, body = 0, None
            if status == 200 and isinstance(body, dict) and body.get("status") == "started":
                started = time.perf_counter() - since
        if not healthy and ct.health(name) == "healthy":
            healthy = time.perf_counter() - since
        if time.perf_counter() - since > limit:
            raise RuntimeError(f"{name}: not started and healthy after {limit} s: {ct.logs(name)[-2000:]}")
        time.sleep(0.25)
    return started, healthy


def without_baked_cache(dockerfile: str) -> str:
    """The Dockerfile as it was before the build-time compile cache: its ENV, COPY and RUN gone."""
    out, skipping = [], False
    for line in dockerfile.splitlines(keepends=True):
        if line.startswith(("ENV NODE_COMPILE_CACHE=", "COPY --chmod=0755 docker/warm-compile-cache.sh")):
            continue
        if line.startswith("RUN install -d") and "NODE_COMPILE_CACHE" in line:
            skipping = True
        if skipping:
            skipping = line.rstrip().endswith("\\")
            continue
        out.append(line)
    return "".join(out)


def image_mb(image: str) -> float:
    return int(c.docker("image", "inspect", "--format", "{{.Size}}", image).stdout) / 2**20


def volume_cache_dir(repo: Path) -> str:
    """Where --warm-cache volume keeps the cache: a folder on the volume, set at `docker run`."""
    return f"{launch_spec(repo).mounts[0].rstrip('/')}/.cache/node-compile-cache"


def warm_cache(template: Path, work: Path, platform: str, rounds: int, where: str = "image") -> dict[str, list[float]]:
    """Seconds run -> healthy and run -> started, cache off (the release default under /tmp) and on
    (where: filled into the image at build time, or on the volume set at run time), per event; for
    the image, its build seconds and size without and with the build step, same run."""
    res = ct.Resources()
    times: dict[str, list[float]] = {f"{event} {mode}{what}": [] for event in ("restart", "deploy")
                                     for mode in ("off", "on") for what in ("", " healthy")}
    try:
        data = {"platform": platform, "privacy": "private", "app_name": f"bench-{platform}"}
        if platform in ("gcp", "vps", "kubernetes"):
            data["domain"] = "claw.localhost"
        repo = copy_template(template, work / f"warm-{platform}", data)
        c.images_for(repo)
        assert "NODE_COMPILE_CACHE" not in m.build(m.answers_from_file(repo / ".copier-answers.yml")).env
        # before: the same repo without the build step (a separate copy: deploys append to it)
        stripped = work / f"warm-{platform}-before"
        shutil.copytree(repo, stripped)
        dockerfile = stripped / "Dockerfile"
        dockerfile.write_text(without_baked_cache(dockerfile.read_text()))
        assert "warm-compile-cache" not in dockerfile.read_text()
        repos = {"off": stripped, "on": repo if where == "image" else stripped}
        images = {}
        for mode in ("off", "on"):  # --no-cache: what a build costs when the release or the config changes
            images[mode], proc = ct.build(repos[mode], res, "--no-cache")
            times[f"build {mode}"] = [proc.seconds]
            times[f"image MB {mode}"] = [image_mb(images[mode])]
        cache = volume_cache_dir(repo) if where == "volume" else m.openclaw()["compile_cache_image_dir"]
        # Compose keeps the container on a restart (restart policy, VM reboot, `compose restart`): its
        # writable layer, /tmp included, stays; everywhere else a restart is a new root filesystem
        keeps_container = platform in ("gcp", "vps")
        # the two modes take turns, event by event (and which goes first alternates), so a load that
        # drifts during the run weighs on both alike: the ratio compares neighbours, not two halves
        state = {}
        for mode in ("off", "on"):
            volume = ct.unique("vol")
            c.docker("volume", "create", volume)
            res.volumes.append(volume)
            state[mode] = {"repo": repos[mode], "image": images[mode], "volume": volume, "name": "", "port": 0,
                           "env": {"NODE_COMPILE_CACHE": cache} if mode == "on" and where == "volume" else {}}
        for turn, event in enumerate(["first"] + ["restart", "deploy"] * rounds):
            for mode in (("off", "on") if turn % 2 == 0 else ("on", "off")):
                st = state[mode]
                if event == "deploy":  # a rebuilt image: same base, one new layer
                    (st["repo"] / "config" / "deploy-id").write_text(uuid.uuid4().hex)
                    with open(st["repo"] / "Dockerfile", "a") as fh:
                        fh.write("COPY config/deploy-id /opt/openclaw-deploy/deploy-id\n")
                    st["image"], _ = ct.build(st["repo"], res)
                if st["name"] and not (event == "restart" and keeps_container):
                    c.docker("rm", "-v", st["name"])
                    res.containers.remove(st["name"])
                    st["name"] = ""
                since = time.perf_counter()
                if st["name"]:
                    c.docker("start", st["name"])
                else:
                    st["name"], st["port"], _ = ct.run_platform(st["repo"], st["image"], res, volume=st["volume"],
                                                                env=st["env"], extra=["--hostname", data["app_name"]])
                seconds, healthy = started_and_healthy(st["name"], st["port"], since)
                if event != "first":
                    times[f"{event} {mode}"].append(seconds)
                    times[f"{event} {mode} healthy"].append(healthy)
                settle = time.perf_counter()  # stop only once startup work has settled (/readyz)
                while c.docker("exec", st["name"], "node", "/opt/openclaw-deploy/healthcheck.mjs", str(st["port"]),
                               "/readyz", check=False).returncode and time.perf_counter() - settle < 300:
                    time.sleep(1)
                c.docker("stop", "-t", "90", st["name"], timeout=180)
        volume = state["on"]["volume"]
        spec = launch_spec(repo)
        size = c.docker("run", "--rm", "--entrypoint", "du", "-v", f"{volume}:{spec.mounts[0]}", images["on"], "-sm",
                        cache, check=False).stdout.split()
        times["cache MB"] = [float(size[0])] if size else []
    finally:
        res.cleanup()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated platforms")
    parser.add_argument("--warm-cache", nargs="?", const="image", choices=["image", "volume"],
                        help="compile cache: restart and deploy, off vs on (in the image, or on the volume)")
    parser.add_argument("--rounds", type=int, default=2, help="restarts and deploys per mode (--warm-cache)")
    args = parser.parse_args()
    platforms = [p for p in args.only.split(",") if p] or PLATFORMS
    c.engine_ready()
    t0 = time.perf_counter()
    c.openclaw_image(DEFAULT_VERSION)
    print(f"stand-in base image ready in {time.perf_counter() - t0:.1f} s (cached after the first run)")
    with tempfile.TemporaryDirectory() as tmp:
        template = snapshot_template(Path(tmp) / "template")
        if args.warm_cache:
            print(f"compile cache on: {args.warm_cache}")
            print(f"load average at start: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}", flush=True)
            print("| platform | event | off: run -> healthy s | on | ratio | off: run -> /startupz s | on | ratio |")
            print("| --- | --- | --- | --- | --- | --- | --- | --- |")
            sizes = []
            for platform in platforms:
                t = warm_cache(template, Path(tmp), platform, args.rounds, args.warm_cache)
                mean = {k: statistics.median(v) for k, v in t.items() if v}
                for event in ("restart", "deploy"):
                    off_h, on_h, off_s, on_s = (mean[f"{event} {m}{w}"] for w in (" healthy", "") for m in ("off", "on"))
                    print(f"| {platform} | {event} | {off_h:.1f} | {on_h:.1f} | {on_h / off_h:.2f} | {off_s:.1f} | "
                          f"{on_s:.1f} | {on_s / off_s:.2f} |", flush=True)
                sizes.append((platform, mean, t))
            print("\n| platform | build off s | build on s | image off MiB | image on MiB | cache MiB | "
                  "on/off -> /startupz, each pair (restart; deploy) |")
            print("| --- | --- | --- | --- | --- | --- | --- |")
            for platform, mean, t in sizes:  # each pair ran back to back: is the gain there every time?
                pairs = "; ".join(" ".join(f"{on / off:.2f}" for off, on in zip(t[f"{e} off"], t[f"{e} on"]))
                                  for e in ("restart", "deploy"))
                print(f"| {platform} | {mean['build off']:.1f} | {mean['build on']:.1f} | {mean['image MB off']:.0f} | "
                      f"{mean['image MB on']:.0f} | {mean.get('cache MB', float('nan')):.0f} | {pairs} |")
            print(f"load average at end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
            return
        print("| platform | copy s | build s | run -> healthy s | run -> /startupz s | memory MiB | peak MiB | limit MiB |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for platform in platforms:
            r = one(template, Path(tmp), platform)
            print(f"| {platform} | {r['copy_s']:.1f} | {r['build_s']:.1f} | {r['healthy_s']:.1f} | "
                  f"{r['started_s']:.1f} | {r['mem_mb']:.0f} | {r['peak_mb']:.0f} | {r['limit_mb']} |", flush=True)


if __name__ == "__main__":
    main()
