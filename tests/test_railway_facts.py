"""Railway plan limits per replica (issue 18, item 6): Pro is 24 vCPU / 24 GB per replica
(railwayapp/docs deployments/scaling.md; pricing/plans.md, the newest, agrees: 1,000 vCPU /
1 TB over 42 replicas). The data said 32 / 32, so a 32 GB answer was accepted for a service
Railway caps at 24 GB."""

from __future__ import annotations

from ops import model as m


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
