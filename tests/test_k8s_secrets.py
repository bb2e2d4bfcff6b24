"""scripts/secrets.sh on Kubernetes, with the REAL kubectl against a RECORDING STAND-IN of
the Kubernetes API (tests/support/kube_api.py, loopback only; the kubeconfig points at it).

`kubectl apply` (client-side) copies the whole Secret, values included, into the
kubectl.kubernetes.io/last-applied-configuration annotation, and a later `kubectl patch`
never updates it: a rotated key stays readable there. The script must create the Secret
with `kubectl create` and change it with merge patches (values on stdin), and drop that
annotation from Secrets an older script applied."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import git
from tests.support.kube_api import KubeAPI

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl not installed (scripts/test.sh installs "
                                                       "Debian's kubernetes-client)")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
APP = "claw-k8s"
NS, SECRET = APP, f"{APP}-secrets"


@pytest.fixture
def repo(render):
    repo = render(platform="kubernetes", app_name=APP, domain="claw.example.org", channels=["discord"])
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "generated", cwd=repo)
    return repo


def run(repo: Path, api: KubeAPI, tmp_path: Path, values: dict[str, str], *args: str):
    bindir = tmp_path / "bin"  # only the real kubectl and the basics on PATH
    bindir.mkdir(exist_ok=True)
    if not (bindir / "kubectl").exists():
        (bindir / "kubectl").symlink_to(KUBECTL)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "KUBECONFIG": str(api.kubeconfig(tmp_path / "kubeconfig")), **values}
    return subprocess.run(["bash", "scripts/secrets.sh", *args], cwd=repo, env=env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=180)


def stored(api: KubeAPI) -> dict[str, str]:
    obj = api.secret(NS, SECRET)
    assert obj is not None, "no Secret was created"
    return {k: base64.b64decode(v).decode() for k, v in obj.get("data", {}).items()}


def writes(api: KubeAPI) -> list[dict]:
    return [r for r in api.requests if r["method"] in ("POST", "PATCH", "PUT")]


def assert_no_client_side_apply(api: KubeAPI) -> None:
    for req in writes(api):
        body = json.loads(req["body"]) if req["body"] else {}
        annotations = (body.get("metadata") or {}).get("annotations") or {}
        assert annotations.get(LAST_APPLIED) is None, f"{req['method']} {req['path']} writes {LAST_APPLIED}"
        assert "apply-patch" not in req["content_type"] and "strategic-merge" not in req["content_type"], req
        assert req["query"].get("fieldManager") != ["kubectl-client-side-apply"], req
    obj = api.secret(NS, SECRET)
    assert LAST_APPLIED not in ((obj or {}).get("metadata", {}).get("annotations") or {})


def values() -> dict[str, str]:
    return {"OPENCLAW_GATEWAY_TOKEN": os.urandom(32).hex(), "ANTHROPIC_API_KEY": "sk-test-" + os.urandom(12).hex(),
            "DISCORD_BOT_TOKEN": "disc-test-" + os.urandom(12).hex()}


def test_create_then_rotate_without_last_applied(repo, tmp_path):
    first = values()
    with KubeAPI() as api:
        proc = run(repo, api, tmp_path, first, "--create")
        assert proc.returncode == 0, proc.stderr
        assert api.objects.get(("namespaces", "", NS)) is not None  # --create made the namespace
        assert stored(api) == first  # every value reached the API (so a leak would be seen)
        creates = [r for r in writes(api) if r["path"] == f"/api/v1/namespaces/{NS}/secrets"]
        assert [r["method"] for r in creates] == ["POST"]
        assert_no_client_side_apply(api)

        rotated = {"ANTHROPIC_API_KEY": "sk-test-" + os.urandom(12).hex()}
        api.requests.clear()
        proc = run(repo, api, tmp_path, rotated)
        assert proc.returncode == 0, proc.stderr
        assert stored(api) == {**first, **rotated}
        patch = [r for r in writes(api) if r["method"] == "PATCH"]
        assert len(patch) == 1 and "merge-patch" in patch[0]["content_type"]
        assert json.loads(patch[0]["body"])["stringData"] == rotated  # only what changed, in the body
        assert_no_client_side_apply(api)
        everything = json.dumps(api.secret(NS, SECRET))
        assert first["ANTHROPIC_API_KEY"] not in everything and \
            base64.b64encode(first["ANTHROPIC_API_KEY"].encode()).decode() not in everything
        for value in [*first.values(), *rotated.values()]:
            assert value not in proc.stdout + proc.stderr


@pytest.mark.parametrize("rotate", [True, False], ids=["rotation", "nothing-new"])
def test_secret_applied_by_an_older_script_loses_the_annotation(repo, tmp_path, rotate):
    old = values()
    data = {k: base64.b64encode(v.encode()).decode() for k, v in old.items()}
    legacy = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "data": data,
              "metadata": {"name": SECRET, "namespace": NS}}
    legacy["metadata"]["annotations"] = {LAST_APPLIED: json.dumps(legacy)}  # what `kubectl apply` stored
    with KubeAPI() as api:
        api.objects[("secrets", NS, SECRET)] = legacy
        new = {"ANTHROPIC_API_KEY": "sk-test-" + os.urandom(12).hex()} if rotate else {}
        proc = run(repo, api, tmp_path, new)
        assert proc.returncode == 0, proc.stderr
        assert stored(api) == {**old, **new}
        assert_no_client_side_apply(api)
        if rotate:  # the replaced key is nowhere in the stored object, in any encoding
            everything = json.dumps(api.secret(NS, SECRET))
            assert old["ANTHROPIC_API_KEY"] not in everything and data["ANTHROPIC_API_KEY"] not in everything
        assert "already set (kept)" in proc.stderr
