"""Memory: the gateway's peak under the platform's declared limit, and a limit
below its need giving the signature the troubleshooting notebook reads
(`docker compose ps`: ExitCode 137, "137 = killed (OOM?)"; the engine's OOMKilled)."""

from __future__ import annotations

import json
import time

from tests.container.conftest import build, c, inspect, logs, run_platform


def cgroup_peak_mb(name: str) -> float:
    script = ("cat /sys/fs/cgroup/memory.peak 2>/dev/null || "
              "cat /sys/fs/cgroup/memory/memory.max_usage_in_bytes")
    return int(c.docker("exec", name, "sh", "-c", script).stdout.split()[0]) / 2**20


def test_a_limit_below_the_need_gives_the_oom_signature(generate, res, base_image):
    """(The peak under the declared limit is checked in the Fly lifecycle test.)"""
    repo = generate("fly", "private")
    image, _ = build(repo, res)
    small, _, _ = run_platform(repo, image, res, extra=["--memory", "384m", "--memory-swap", "384m"])
    deadline = time.monotonic() + 120
    while inspect(small)["State"]["Running"] and time.monotonic() < deadline:
        time.sleep(1)
    state = inspect(small)["State"]
    assert not state["Running"], "the gateway ran in 384 MiB: the OOM case proves nothing"
    assert state["OOMKilled"] and state["ExitCode"] == 137, (json.dumps(state)[:500], logs(small)[-1500:])
