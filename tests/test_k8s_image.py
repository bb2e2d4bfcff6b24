"""Kubernetes with a custom image (baked CLIs or a tunnel agent): the image comes
from a registry the user names, `make image` pushes it before `make deploy`, the
runbook needs only kubectl, and `make verify` flags an image without a registry.

Before: the Deployment named `<app>-gateway:<version>` (no registry, pushed by
nobody) and the runbook asked for a separate `kustomize` binary.
"""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from ops import checks as c
from ops import model as m

BASE = {"app_name": "claw-k8s", "platform": "kubernetes", "privacy": "private", "region": "cluster",
        "openclaw_version": "2026.9.6", "gateway_port": 18789, "vm_size": "medium", "vm_memory_mb": 2048,
        "volume_size_gb": 10, "model_providers": ["anthropic"], "channels": [], "binaries": ["wacli"],
        "tunnel": "none", "domain": "", "image_registry": "ghcr.io/acme/claw-gateway"}


@pytest.mark.parametrize("value", ["claw-gateway", "ghcr.io/acme/claw-gateway:2026.9.6", "Ghcr.io/Acme/x",
                                   "ghcr.io", "docker.io/acme/x@sha256:00", "", None])
def test_image_registry_refusals_name_the_field(value):
    msg = m.validate_field("image_registry", {**BASE, "image_registry": value})
    first = msg.splitlines()[0]  # copier names the field; the reason leads, in <= 70 characters
    assert first == "needs a registry host, no tag" and "ghcr.io/<owner>/claw-k8s-gateway" in msg
    # outside copier (make verify, build) the field is named; a missing one (an answers
    # file of 0.1.0) becomes the placeholder, which verify warns about
    assert not value or [e for e in m.errors({**BASE, "image_registry": value}) if e.startswith("image_registry: ")]


@pytest.mark.parametrize("value", ["ghcr.io/acme/claw-gateway", "registry.example.com:5000/team/app",
                                   "localhost:5000/claw", "europe-docker.pkg.dev/proj/repo/claw"])
def test_image_registry_accepts_pullable_repositories(value):
    assert m.validate_field("image_registry", {**BASE, "image_registry": value}) == ""


def test_asked_only_where_an_image_is_built():
    assert m.needs_image_registry(BASE)
    assert not m.needs_image_registry({**BASE, "binaries": [], "tunnel": "none"})
    assert m.needs_image_registry({**BASE, "binaries": [], "tunnel": "ngrok"})
    assert not m.needs_image_registry({**BASE, "platform": "fly"})
    assert m.validate_field("image_registry", {**BASE, "platform": "fly", "image_registry": None}) == ""
    assert m.build(BASE).pushed_image == "ghcr.io/acme/claw-gateway:2026.9.6"


def _deployment_images(repo):
    docs = list(yaml.safe_load_all((repo / "k8s/base/deployment.yaml").read_text()))
    spec = docs[0]["spec"]["template"]["spec"]
    return [x["image"] for x in spec["initContainers"] + spec["containers"]]


def test_custom_image_is_pushed_then_pulled(render):
    repo = render(**{k: v for k, v in BASE.items() if k != "domain"})
    assert _deployment_images(repo) == ["ghcr.io/acme/claw-gateway:2026.9.6"] * 2
    readme = (repo / "README.md").read_text()
    assert readme.index("make image") < readme.index("make deploy")
    dry = subprocess.run(["make", "-n", "image"], cwd=repo, capture_output=True, text=True, check=True).stdout
    assert "docker build" in dry and "docker push ghcr.io/acme/claw-gateway:2026.9.6" in dry
    runbook = (repo / "RUNBOOK.md").read_text()
    assert "kustomize edit" not in runbook and not re.search(r"(?m)^\s*kustomize ", runbook)
    assert "kubectl kustomize k8s/base" in runbook
    result = next(r for r in c.run_static(repo) if r.check == "Kubernetes image from a registry")
    assert result.status == c.PASS, result

    # The old manifest (an image no registry has) is flagged, naming the fix.
    dep = repo / "k8s/base/deployment.yaml"
    dep.write_text(dep.read_text().replace("ghcr.io/acme/claw-gateway:2026.9.6", "claw-k8s-gateway:2026.9.6"))
    result = next(r for r in c.run_static(repo) if r.check == "Kubernetes image from a registry")
    assert result.status == c.FAIL and "no registry" in result.seen and "image_registry" in result.fix

    # A kustomize `images:` entry is what kubectl applies: it is followed.
    kus = repo / "k8s/base/kustomization.yaml"
    kus.write_text(kus.read_text() + "images:\n  - name: claw-k8s-gateway\n    newName: ghcr.io/acme/claw-gateway\n")
    result = next(r for r in c.run_static(repo) if r.check == "Kubernetes image from a registry")
    assert result.status == c.PASS, result


def test_official_image_needs_no_registry_question(render):
    repo = render(app_name="claw-k8s", platform="kubernetes", privacy="private")
    assert "image_registry" not in yaml.safe_load((repo / ".copier-answers.yml").read_text())
    assert _deployment_images(repo) == ["ghcr.io/openclaw/openclaw:2026.9.6"] * 2
    assert "make image" not in (repo / "README.md").read_text()
    result = next(r for r in c.run_static(repo) if r.check == "Kubernetes image from a registry")
    assert result.status == c.PASS, result
