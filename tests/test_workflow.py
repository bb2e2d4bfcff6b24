"""The generated GitHub Actions workflow: valid against the GitHub workflow schema,
verify on pull requests, deploy on main, actions pinned, secrets only from the store."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ops import checks, model as m

BIN = Path(sys.executable).parent
WORKFLOW = ".github/workflows/deploy.yml"


def load(repo: Path) -> dict:
    doc = yaml.safe_load((repo / WORKFLOW).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as True
    return doc


def schema_check(repo: Path) -> subprocess.CompletedProcess:
    return subprocess.run([BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", WORKFLOW],
                          cwd=repo, capture_output=True, text=True)


@pytest.mark.parametrize("privacy", ["public", "private"])
def test_fly_workflow(render, privacy):
    repo = render(app_name="claw-ci", privacy=privacy)
    proc = schema_check(repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wf = load(repo)
    assert set(wf["on"]) >= {"pull_request", "push"} and wf["on"]["push"]["branches"] == ["main"]
    assert wf["permissions"] == {"contents": "read"}

    verify_steps = wf["jobs"]["verify"]["steps"]
    assert [s.get("run") for s in verify_steps if "run" in s] == ["make verify"]
    assert any(s.get("uses", "").startswith("actions/setup-python@") for s in verify_steps)

    deploy = wf["jobs"]["deploy"]
    assert deploy["needs"] == "verify"
    assert "github.event_name != 'pull_request'" in deploy["if"] and "refs/heads/main" in deploy["if"]
    runs = [s for s in deploy["steps"] if "run" in s]
    assert [s["run"] for s in runs] == ["flyctl deploy --remote-only"]
    assert runs[0]["env"] == {"FLY_API_TOKEN": "${{ secrets.FLY_API_TOKEN }}"}
    assert any(s.get("uses", "").startswith("superfly/flyctl-actions/setup-flyctl@") for s in deploy["steps"])


def test_every_action_is_pinned_and_secrets_come_from_the_store(render):
    repo = render()
    text = (repo / WORKFLOW).read_text()
    uses = re.findall(r"uses:\s*(\S+)", text)
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", u) for u in uses), uses
    # the only credential is a reference into the CI secret store, used in one step's env
    assert re.findall(r"\$\{\{\s*secrets\.(\w+)\s*\}\}", text) == ["FLY_API_TOKEN"]
    assert checks.find_secrets(repo) == []


@pytest.mark.parametrize("platform", list(m.platforms()))
def test_workflow_valid_for_every_platform(render, platform):
    data = {"platform": platform}
    if m.platforms()[platform].get("needs_domain"):
        data["domain"] = "claw.example.org"
    repo = render(**data)
    proc = schema_check(repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "make verify" in [s.get("run") for s in load(repo)["jobs"]["verify"]["steps"]]
