"""ops/platforms/railway.py and Railway's facts.

Railway plan limits per replica (issue 18, item 6): Pro is 24 vCPU / 24 GB per replica
(railwayapp/docs deployments/scaling.md; pricing/plans.md, the newest, agrees: 1,000 vCPU /
1 TB over 42 replicas). The data said 32 / 32, so a 32 GB answer was accepted for a service
Railway caps at 24 GB."""

from __future__ import annotations

import json

from ops import model as m
from ops.platforms import railway as room


def _answers(memory: int) -> dict:
    facts = m.platform_facts("railway")
    return m.complete({"app_name": "claw-rw", "platform": "railway", "privacy": "private",
                       "region": facts["default_region"], "gateway_port": str(facts["default_port"]),
                       "openclaw_version": m.openclaw()["default_version"],
                       "vm_size": "pro", "vm_memory_mb": str(memory)})


def test_pro_memory_above_the_per_replica_limit_is_refused():
    problems = m.errors(_answers(32768))
    assert any(p.startswith("vm_memory_mb:") and "1024-24576" in p for p in problems), problems
    assert m.errors(_answers(24576)) == []


def test_pro_vcpu_is_the_per_replica_limit():
    facts = m.platform_facts("railway")
    assert facts["sizes"]["pro"]["vcpu"] == facts["sizes"]["pro"]["memory_mb"][1] // 1024 == 24
    assert facts["sources"]["sizes"]["read"] >= "2026-12-02" and "scaling.md" in facts["sources"]["sizes"]["note"]


def test_railway_status_nesting():
    status = {"name": "p", "environments": {"edges": [{"node": {"name": "production", "serviceInstances": {
        "edges": [{"node": {"serviceName": "openclaw", "latestDeployment": {"status": "CRASHED"}}}]}}}]}}
    assert room.railway_services(status) == [{"environment": "production", "service": "openclaw", "status": "CRASHED"}]


def test_railway_variables_are_scrubbed():
    text = json.dumps({"OPENCLAW_GATEWAY_TOKEN": "abc123secret", "PORT": "8080"})
    scrubbed = json.loads(room.scrub_variables(text))
    assert scrubbed == {"OPENCLAW_GATEWAY_TOKEN": "***", "PORT": "8080"}
