"""Update pull requests: the generated update.yml passes the schema, actionlint and zizmor with
least permissions and no deploy credential; ops.update_pr finds newer releases against a
recording stand-in of the npm registry and opens one PR, then updates it (never a second one),
against a recording stand-in of the GitHub API. Nothing leaves loopback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ops import checks
from tests.conftest import git
from tests.support.actionlint import actionlint
from tests.support.api_standin import ApiStandin
from tests.test_workflow import ACTIONLINT_KNOWN_GAPS, BIN, SEVERITY, zizmor_findings

UPDATE = ".github/workflows/update.yml"


def load(repo: Path) -> dict:
    doc = yaml.safe_load((repo / UPDATE).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


@pytest.mark.parametrize("platform", ["fly", "kubernetes"])
def test_update_workflow_is_valid_least_privileged_and_holds_no_deploy_credential(render, platform):
    repo = render(platform=platform, app_name="claw-up", **({"domain": "claw.example.org"} if platform == "kubernetes" else {}))
    proc = subprocess.run([BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", UPDATE],
                          cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    findings = [f for f in actionlint([repo / UPDATE]) if not any(g in f["message"] for g in ACTIONLINT_KNOWN_GAPS)]
    assert findings == [], json.dumps(findings, indent=1)
    above_low = [(f["ident"], f["determinations"]["severity"]) for f in zizmor_findings([repo / UPDATE])
                 if SEVERITY[f["determinations"]["severity"]] > SEVERITY["Low"]]
    assert above_low == []

    wf = load(repo)
    assert set(wf["on"]) == {"schedule", "workflow_dispatch"}
    assert wf["permissions"] == {}
    (job,) = wf["jobs"].values()
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert "environment" not in job  # the deploy environment's secrets are out of reach
    text = (repo / UPDATE).read_text()
    assert "secrets." not in text and checks.find_secrets(repo) == []
    # the same pinned actions as the deploy workflow
    deploy_pins = set(re.findall(r"uses:\s*(\S+)", (repo / ".github/workflows/deploy.yml").read_text()))
    assert set(re.findall(r"uses:\s*(\S+)", text)) <= deploy_pins
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert "${{" not in runs  # step outputs reach scripts through env only
    order = re.findall(r"(?m)^(?:\.venv/bin/python -m )?(ops\.update_pr check|ops\.rehearse --make-archive|make update|"
                       r"make verify|make rehearse|ops\.update_pr open)", runs)
    assert order == ["ops.update_pr check", "ops.rehearse --make-archive", "make update", "make verify", "make rehearse",
                     "ops.update_pr open"]


# ---------------------------------------------------------------- ops.update_pr end to end --


def run(repo: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ops.update_pr", *args], cwd=repo, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})


@pytest.fixture
def standin(tmp_path):
    api = ApiStandin(tmp_path / "tls")
    yield api
    api.server.shutdown()


def outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def test_check_finds_a_newer_openclaw_and_template_release(render, standin, tmp_path, template_repo):
    repo = render(app_name="claw-up")
    # the template has moved on too: a clone with a newer tag stands in for its remote
    remote = tmp_path / "template-remote"
    git("clone", "-q", str(template_repo), str(remote), cwd=tmp_path)
    git("tag", "v999.1.0", cwd=remote)
    answers = repo / ".copier-answers.yml"
    answers.write_text(re.sub(r"(?m)^_src_path: .*$", f"_src_path: {remote}", answers.read_text()))
    standin.route("GET", "/openclaw/latest", (200, {"name": "openclaw", "version": "2026.10.2"}))
    out = tmp_path / "github_output"
    proc = run(repo, "check", env={"NPM_CONFIG_REGISTRY": standin.base + "/", "GITHUB_OUTPUT": str(out),
                                   **standin.ca_env()})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = outputs(out)
    assert got["update"] == "true" and got["openclaw_version"] == "2026.10.2" and got["template"] == "v999.1.0"
    assert got["title"] == "Update OpenClaw 2026.9.6 -> 2026.10.2, template v999.0.0 -> v999.1.0"
    assert got["notes"] == "https://github.com/openclaw/openclaw/releases/tag/v2026.10.2"
    assert [r["path"] for r in standin.requests] == ["/openclaw/latest"]


@pytest.mark.parametrize("latest", ["2026.9.6", "2026.9.4", "2026.10.1-beta.1"])
def test_check_proposes_nothing_for_the_same_an_older_or_a_prerelease(render, standin, tmp_path, latest):
    repo = render(app_name="claw-up")
    standin.route("GET", "/openclaw/latest", (200, {"version": latest}))
    out = tmp_path / "github_output"
    proc = run(repo, "check", env={"NPM_CONFIG_REGISTRY": standin.base, "GITHUB_OUTPUT": str(out),
                                   **standin.ca_env()})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outputs(out)["update"] == "false" and outputs(out)["openclaw_version"] == "2026.9.6"


def test_check_fails_in_one_line_when_the_registry_answers_no_version(render, standin, tmp_path):
    repo = render(app_name="claw-up")
    standin.route("GET", "/openclaw/latest", (404, {"error": "not found"}))
    proc = run(repo, "check", env={"NPM_CONFIG_REGISTRY": standin.base, **standin.ca_env()})
    assert proc.returncode == 1 and "::error::GET" in proc.stderr and "HTTP 404" in proc.stderr


def test_the_update_pr_is_opened_once_then_updated_never_duplicated(render, standin, tmp_path):
    repo = render(app_name="claw-up")
    pulls = "/repos/me/claw-up/pulls"
    # the list of open PRs from the branch: empty before the first run, the PR afterwards
    standin.route("GET", re.escape(pulls) + r"\?.*",
                  (200, []), (200, [{"number": 7, "html_url": "https://example.invalid/pull/7"}]))
    standin.route("POST", re.escape(pulls), (201, {"number": 7, "html_url": "https://example.invalid/pull/7"}))
    standin.route("PATCH", re.escape(pulls) + "/7", (200, {"number": 7, "html_url": "https://example.invalid/pull/7"}))
    body = tmp_path / "body.md"
    env = {"GITHUB_API_URL": standin.base, "GITHUB_REPOSITORY": "me/claw-up", "GITHUB_TOKEN": "ghs_test-token",
           **standin.ca_env()}
    for title in ("Update OpenClaw 2026.9.6 -> 2026.10.1", "Update OpenClaw 2026.9.6 -> 2026.10.2"):
        body.write_text(f"{title}\n\nRelease notes: https://example.invalid/notes\n")
        proc = run(repo, "open", "--title", title, "--body-file", str(body), env=env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "ghs_test-token" not in proc.stdout + proc.stderr
    calls = [(r["method"], r["path"].split("?")[0]) for r in standin.requests]
    assert calls == [("GET", pulls), ("POST", pulls), ("GET", pulls), ("PATCH", pulls + "/7")]
    assert "head=me%3Aopenclaw-deploy%2Fupdate" in standin.requests[0]["path"]
    opened, updated = standin.requests[1]["body"], standin.requests[3]["body"]
    assert opened["head"] == "openclaw-deploy/update" and opened["base"] == "main"
    assert updated["title"].endswith("2026.10.2") and "Release notes:" in updated["body"]
    assert all(r["headers"]["authorization"] == "Bearer ghs_test-token" for r in standin.requests)
