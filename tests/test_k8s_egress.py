"""The Kubernetes gateway pod's egress: DNS and the public internet (model APIs,
channels) stay open; the cloud metadata endpoint (169.254.169.254, the node's
credentials) and the cluster's private ranges are closed. Before, the
NetworkPolicy had no egress rule at all, so any tool the agent ran could ask the
metadata server for the node's service-account token.

The rendered manifests go through the real `kubectl kustomize` (Debian
kubernetes-client) where installed; what a CNI then enforces cannot run here, so
the rules are read with the Kubernetes room's `egress_allows` (ops/platforms/kubernetes.py) (ipBlock/except by
address, ports), which is checked on hand-written rules below.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from ops import checks
from ops.platforms import kubernetes

CASES = [{"privacy": "public", "domain": "claw.example.org"}, {"privacy": "private"}]


def _policy(repo, kdir: str) -> dict:
    if shutil.which("kubectl"):
        out = subprocess.run(["kubectl", "kustomize", kdir], cwd=repo, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        docs = list(yaml.safe_load_all(out.stdout))
    else:
        docs = [yaml.safe_load((repo / "k8s/base/networkpolicy.yaml").read_text())]
    return next(d for d in docs if d and d.get("kind") == "NetworkPolicy")


def test_egress_allows_reads_ipblocks_excepts_and_ports():
    rules = [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.0.0/16"]}}]},
             {"to": [{"ipBlock": {"cidr": "10.1.0.0/16"}}], "ports": [{"protocol": "TCP", "port": 5432}]}]
    assert kubernetes.egress_allows(rules, "8.8.8.8", 443)
    assert not kubernetes.egress_allows(rules, "169.254.169.254", 80)
    assert kubernetes.egress_allows(rules, "10.1.2.3", 5432) and kubernetes.egress_allows(rules, "10.1.2.3", 443)
    assert not kubernetes.egress_allows([rules[1]], "10.1.2.3", 443)
    assert kubernetes.egress_allows([{}], "169.254.169.254", 80)  # a rule without `to` opens everything
    assert not kubernetes.egress_allows([{"to": [{"podSelector": {}}]}], "169.254.169.254", 80)


@pytest.mark.parametrize("answers", CASES, ids=["public", "private"])
def test_the_gateway_pod_reaches_dns_and_the_internet_but_not_metadata_or_the_cluster(render, answers):
    repo = render(app_name="claw-k8s", platform="kubernetes", **answers)
    policy = _policy(repo, "k8s/overlays/public" if answers["privacy"] == "public" else "k8s/base")
    assert "Egress" in policy["spec"]["policyTypes"]
    rules = policy["spec"]["egress"]
    assert kubernetes.egress_allows(rules, "1.1.1.1", 443) and kubernetes.egress_allows(rules, "2606:4700::1111", 443)
    for address in ("169.254.169.254", "10.96.0.1", "172.17.0.1", "192.168.1.1", "100.64.0.1", "fd00::1"):
        assert not kubernetes.egress_allows(rules, address, 80), address
    assert kubernetes.egress_allows(rules, "169.254.20.10", 53)  # NodeLocal DNSCache
    dns = [peer for rule in rules for peer in rule.get("to", []) if "podSelector" in peer]
    assert dns == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}]
    got = {r.check: r for r in checks.run_static(repo)}["gateway egress blocks cloud metadata"]
    assert got.status == checks.PASS, got


@pytest.mark.parametrize(("old", "new", "seen"), [
    ("    - Egress\n", "", "no NetworkPolicy restricts egress"),
    ("              - 169.254.0.0/16\n", "", "allows the cloud metadata endpoint"),
    ("            cidr: 0.0.0.0/0\n", "            cidr: 10.0.0.0/8\n", "blocks the public internet"),
])
def test_verify_fails_an_egress_policy_that_opens_metadata_or_closes_the_internet(render, old, new, seen):
    repo = render(app_name="claw-k8s", platform="kubernetes", privacy="private")
    path = repo / "k8s/base/networkpolicy.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    if old == "    - Egress\n":  # and the rules it would apply
        path.write_text(path.read_text().split("  egress:\n")[0])
    got = {r.check: r for r in checks.run_static(repo)}["gateway egress blocks cloud metadata"]
    assert got.status == checks.FAIL and seen in got.seen, got


def test_the_gcp_vm_is_created_without_a_service_account(render):
    runbook = (render(platform="gcp", privacy="private") / "RUNBOOK.md").read_text()
    create = runbook.split("gcloud compute instances create", 1)[1].split("\n```", 1)[0]
    assert "--no-service-account --no-scopes" in create.split("gcloud compute firewall-rules", 1)[0]
