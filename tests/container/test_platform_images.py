"""Fly, Render, Railway, Northflank: the generated image, built unmodified, run
with what the platform's file declares, on a ROOT-OWNED named volume (platform
volumes arrive root-owned)."""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e.harness import launch_spec

from tests.container.conftest import (c, host_port, http_json, inspect, logs, run_platform, shared_image, unique,
                                      wait_healthy)


def startupz(name: str, port: int, timeout: float = 120) -> dict:
    """/startupz on the loopback-published port, until the gateway says started."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = http_json(f"http://127.0.0.1:{host_port(name, port)}/startupz")
        if status == 200 and isinstance(body, dict) and body.get("status") == "started":
            return body
        assert time.monotonic() < deadline, (status, body, logs(name)[-3000:])
        time.sleep(1)


# Node reports each compile cache lookup on stderr (the container's log) with this set
COMPILE_CACHE_DEBUG = {"NODE_DEBUG_NATIVE": "COMPILE_CACHE"}


def compile_cache_used(log: str) -> None:
    """One start's log, run with COMPILE_CACHE_DEBUG: every Node process of the gateway looked in the
    cache baked into the image at build time (ops/data/openclaw.yml compile_cache_image_dir), and
    most of the code it loaded came from there instead of being compiled again."""
    from ops.model import openclaw

    baked = openclaw()["compile_cache_image_dir"]
    lines = [line for line in log.splitlines() if line.startswith("[compile cache]")]
    resolved = [line.split("resolved path ", 1)[1].split()[0] for line in lines if "resolved path " in line]
    assert resolved, f"no compile cache in use: {log[-1500:]}"
    assert all(path == baked or path.startswith(f"{baked}/") for path in resolved), resolved[:3]
    accepted = sum("was accepted" in line for line in lines)
    compiled = sum("not initialized" in line or "rejected" in line for line in lines)
    assert accepted > 1000 and compiled * 10 < accepted, (accepted, compiled, lines[-5:])


def gateway_homes(name: str) -> set[str]:
    """HOME of every process uid 1000 runs in the container (the gateway and its helpers)."""
    proc = c.docker("exec", "-u", "1000", name, "sh", "-c",
                    "for p in $(pgrep -u 1000 node; pgrep -u 1000 openclaw); do "
                    "tr '\\0' '\\n' < /proc/$p/environ 2>/dev/null | grep ^HOME= || echo HOME=; done")
    homes = {line.split("=", 1)[1] for line in proc.stdout.split()}
    ps = c.docker("exec", name, "ps", "-eo", "pid,user,args").stdout
    assert homes, f"no process runs as uid 1000 in {name}:\n{ps}"
    assert "" not in homes, f"{proc.stdout}{proc.stderr}\n{ps}"
    return homes


def test_fly_private_root_volume_lifecycle(generate, res, base_image):
    """Healthy on a root-owned volume; a restart keeps the config (no re-seed);
    a root-owned openclaw.json left by a root exec does not stop the next start."""
    repo = generate("fly", "private")
    image = shared_image(repo)
    network = unique("net")
    c.docker("network", "create", network)
    res.networks.append(network)
    # Fly restarts a machine whose process exits non-zero (restart policy on-failure)
    name, port, volume = run_platform(repo, image, res, extra=["--network", network, "--network-alias", "gateway",
                                                               "--restart", "on-failure"], env=COMPILE_CACHE_DEBUG)
    wait_healthy(name)
    startupz(name, port)
    compile_cache_used(logs(name))  # a new machine starts warm: the cache came with the image
    # Fly's machine check: from Fly's network, no forwarding headers, the declared path
    from tests.container.test_checkers import probe

    for path in sorted(set(launch_spec(repo).declared.health_paths.values())):
        code, body = probe(network, f"http://gateway:{port}{path}")
        assert code == 200 and json.loads(body)["status"] in ("started", "live"), (path, code, body[:200])
    assert "first boot: seeded /data/openclaw.json" in logs(name)
    from tests.container.test_memory import cgroup_peak_mb

    declared = launch_spec(repo).memory_mb
    peak = cgroup_peak_mb(name)
    assert 300 < peak < declared, f"peak {peak:.0f} MiB against the declared {declared} MiB"
    env = dict(e.split("=", 1) for e in inspect(name)["Config"]["Env"])
    assert env["OPENCLAW_STATE_DIR"] == "/data"
    # the gateway runs as uid 1000 with its own HOME
    assert gateway_homes(name) == {"/home/node"}
    # an operator's root exec (`fly ssh console`, `openclaw config set`) leaves a root-owned 0600 file
    c.docker("exec", "-u", "0", name, "sh", "-c",
             "cp /data/openclaw.json /tmp/x && mv /tmp/x /data/openclaw.json && chmod 600 /data/openclaw.json "
             "&& chown 0:0 /data/openclaw.json && mkdir -p /data/agents && touch /data/agents/root-made")
    c.docker("restart", "-t", "30", name)
    wait_healthy(name)
    startupz(name, port)
    text = logs(name)
    assert "keeping the existing config /data/openclaw.json" in text
    owners = c.docker("exec", name, "stat", "-c", "%u", "/data/openclaw.json", "/data/agents/root-made").stdout.split()
    assert owners == ["1000", "1000"], owners
    # SIGKILL of the gateway process: the restart policy brings it back on the same state
    pid = c.docker("exec", name, "pgrep", "-f", "^openclaw-gateway").stdout.split()[0]
    c.docker("exec", "-u", "0", name, "kill", "-9", pid)
    deadline = time.monotonic() + 60
    while inspect(name)["RestartCount"] < 1:
        assert time.monotonic() < deadline, logs(name)[-2000:]
        time.sleep(1)
    wait_healthy(name)
    startupz(name, port)
    # `docker kill` (a manual stop: no restart) + `docker start` recovers too
    c.docker("kill", name)
    c.docker("start", name)
    wait_healthy(name)
    startupz(name, port)


@pytest.mark.parametrize("platform", ["railway", "render", "northflank"])
def test_platform_boots_healthy_on_a_root_volume(generate, res, base_image, platform):
    """Railway (startCommand replaces ENTRYPOINT and CMD), Render and Northflank
    (the image as built, the platform's env): healthy on a root-owned volume at
    /data, state in /data/.openclaw, /startupz started on the declared port."""
    repo = generate(platform, "private")
    image = shared_image(repo)
    name, port, _ = run_platform(repo, image, res, env=COMPILE_CACHE_DEBUG)
    wait_healthy(name)
    startupz(name, port)
    compile_cache_used(logs(name))  # the cache came with the image, not the volume
    assert "first boot: seeded /data/.openclaw/openclaw.json" in logs(name)
    assert gateway_homes(name) == {"/home/node"}
    owner = c.docker("exec", name, "stat", "-c", "%u", "/data/.openclaw/openclaw.json", "/data/workspace").stdout
    assert owner.split() == ["1000", "1000"], owner
