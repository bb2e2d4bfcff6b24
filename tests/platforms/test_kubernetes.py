"""ops/platforms/kubernetes.py: what the ops package knows about kubernetes (parsers of the CLI
shapes its live checks read; shapes follow the documented output, no CLI)."""

from __future__ import annotations

from ops.platforms import kubernetes as room


def test_kubectl_pod_facts():
    pods = {"items": [{"metadata": {"name": "claw-5d9"}, "status": {"containerStatuses": [{
        "name": "gateway", "ready": False, "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}}]}
    assert room.kubectl_pod_facts(pods) == [{"pod": "claw-5d9", "container": "gateway", "ready": False, "restarts": 4,
                                         "waiting": "CrashLoopBackOff", "last_terminated": "OOMKilled",
                                         "last_exit_code": 137}]
