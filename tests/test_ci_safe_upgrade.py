"""The CI deploy's safe upgrade on Compose (gcp, vps) and Fly, run from the generated workflow
against the RECORDING stand-ins of tests/standins/ci (they record argv and stdin, answer from a
plan, contact nothing), and the pre-update archive kept encrypted when backup_recipient is set.

The gateway as the VM's `docker compose exec` would answer it is the plan of
tests/test_ci_deploy.py (gateway_plan: 2026.8.2 running, its archive these bytes), moved from
`kubectl exec` to `ssh ... docker compose exec`. The engine-backed proofs are in
tests/container/test_safe_upgrade_push.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import copy_template
from tests.test_ci_deploy import (assert_way_back_in_order, APP, ARCHIVE_BYTES, IMAGE, OLD_IMAGE, SECRETS, WORKFLOW, Job,
                                  assert_no_secret_leaked, gateway_plan)


@pytest.fixture(scope="module")
def identity(tmp_path_factory) -> tuple[Path, str]:
    """A test age identity (the one the user keeps offline) and its public key."""
    path = tmp_path_factory.mktemp("age") / "identity.txt"
    proc = subprocess.run([sys.executable, "-m", "ops.backup", "keygen", str(path)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1] / "template", timeout=60)
    assert proc.returncode == 0, proc.stderr
    return path, proc.stdout.strip()


@pytest.fixture(scope="module")
def repos(template_repo, tmp_path_factory, identity):
    cache: dict[tuple, Path] = {}
    base = tmp_path_factory.mktemp("ci-su")

    def _get(platform: str, recipient: bool = True) -> Path:
        key = (platform, recipient)
        if key not in cache:
            data = {"platform": platform, "privacy": "private", "app_name": APP, "domain": "claw.example.org"}
            if recipient:
                data["backup_recipient"] = identity[1]
            cache[key] = copy_template(template_repo, base / f"{platform}-{int(recipient)}", data)
        return cache[key]
    return _get


def compose_plan(releases: list[str], deploy_fails: bool) -> list[dict]:
    """gateway_plan's answers for `kubectl exec`, given by `ssh VM 'cd APP && docker compose exec ...'`."""
    plan = [{**rule, "prog": "ssh", "has": [h for h in rule["has"] if h != "exec"]}
            for rule in gateway_plan(releases, False) if rule["has"][0] == "exec"]
    plan += [{"prog": "ssh", "has": ["{{.Image}}"], "stdout": OLD_IMAGE + "\n", "times": 1}]
    if deploy_fails:  # the new release's container fails its health check once up
        plan.append({"prog": "ssh", "has": ["{{.Health}}"], "stdout": "unhealthy\n", "times": 1})
    plan.append({"prog": "ssh", "has": ["{{.Health}}"], "stdout": "healthy\n"})
    return plan


def ssh_commands(job: Job) -> list[str]:
    return [c["argv"][-1] for c in job.calls if c["argv"][0] == "ssh"]


def steps(repo: Path) -> list[dict]:
    return yaml.safe_load((repo / WORKFLOW).read_text())["jobs"]["deploy"]["steps"]


@pytest.mark.parametrize("platform", ["vps", "gcp"])
def test_compose_upgrade_backs_up_first_and_keeps_only_the_encrypted_archive(repos, identity, tmp_path, platform):
    from ops.backup import decrypt

    repo = repos(platform)
    job = Job(repo, tmp_path, plan=compose_plan(["2026.8.2 started", "2026.9.6 started"], deploy_fails=False))
    assert job.run() == 0, job.output
    commands = ssh_commands(job)
    backup = next(i for i, cmd in enumerate(commands) if "openclaw backup create" in cmd and "--verify" in cmd)
    up = commands.index(f"cd {APP} && docker compose up -d --no-build --remove-orphans")
    assert backup < up, commands
    assert all(f"cd {APP} && docker compose exec -T -u node openclaw-gateway sh -c" in cmd
               for cmd in commands if "openclaw backup create" in cmd)
    assert "runs openclaw 2026.8.2" in job.output and "pre-update backup kept at" in job.output
    # only the .age is left for the artifact step: it decrypts, with the identity kept offline, to the archive
    sealed = list((tmp_path / "runner" / "pre-update").glob("*.age"))
    assert len(sealed) == 1 and ARCHIVE_BYTES.encode() not in sealed[0].read_bytes()
    archive = decrypt(sealed[0], identity[0], tmp_path / "decrypted")
    assert archive.read_text() == ARCHIVE_BYTES
    assert not list((tmp_path / "runner").glob("ssh.*"))  # the plaintext went with the job's temp dir
    upload = next(s for s in steps(repo) if s.get("name", "").startswith("keep the encrypted pre-update archive"))
    assert upload["if"] == "${{ !cancelled() }}" and upload["with"]["path"].endswith("/pre-update/*.age")
    assert upload["uses"].split("@")[0] == "actions/upload-artifact" and len(upload["uses"].split("@")[1].split()[0]) == 40
    assert_no_secret_leaked(job)


def test_compose_failed_upgrade_puts_the_previous_image_back_and_restores(repos, tmp_path):
    """2026.9.6 comes up unhealthy: the override on the VM names the previous image again, the old
    release (held: the watch flag) gets the pre-update archive restored, starts; the job fails."""
    repo = repos("vps")
    plan = compose_plan(["2026.8.2 started", "2026.9.6 starting", "2026.8.2 held", "2026.8.2 started"], True)
    job = Job(repo, tmp_path, plan=plan)
    assert job.run() != 0
    ssh = [c for c in job.calls if c["argv"][0] == "ssh"]
    overrides = [yaml.safe_load(c["stdin"]) for c in ssh if c["argv"][-1].endswith("cat > docker-compose.override.yml")
                 or c["argv"][-1] == f"cat > {APP}/docker-compose.override.yml"]
    images = [o["services"]["openclaw-gateway"]["image"] for o in overrides]
    assert images == [IMAGE, OLD_IMAGE], images  # the deploy script's, then the way back's
    commands = ssh_commands(job)
    assert_way_back_in_order(commands)
    upload = next(c for c in ssh if "archive.tar.gz" in c["argv"][-1] and "cat >" in c["argv"][-1])
    assert upload["stdin"] == ARCHIVE_BYTES
    out = job.output
    assert "openclaw-gateway is unhealthy" in out and "rolling back to openclaw 2026.8.2" in out
    assert "rolled back: openclaw 2026.8.2 started on the pre-update state" in out
    assert "openclaw-gateway was not upgraded" in out
    # the archive is kept encrypted also when the deploy failed (the upload step runs unless cancelled)
    assert len(list((tmp_path / "runner" / "pre-update").glob("*.age"))) == 1
    assert_no_secret_leaked(job)


@pytest.mark.parametrize("platform", ["fly", "vps", "kubernetes", "render", "railway", "northflank"])
def test_without_a_recipient_nothing_is_uploaded_and_the_runbook_says_so(repos, platform):
    repo = repos(platform, recipient=False)
    names = [s.get("name", "") for s in steps(repo)]
    assert not any("pre-update archive" in n for n in names), names
    assert not any("ENCRYPT_TO" in (s.get("env") or {}) for s in steps(repo))
    runbook = " ".join((repo / "RUNBOOK.md").read_text().split())
    assert "On this deploy it is **automatic**" in runbook
    assert "kept **on the runner only**" in runbook and "set `backup_recipient`" in runbook
    with_key = " ".join((repos(platform) / "RUNBOOK.md").read_text().split())
    assert f"the workflow artifact `pre-update-{APP}-<run id>` for 7 days" in with_key
    step = next(s for s in steps(repos(platform)) if "ENCRYPT_TO" in (s.get("env") or {}))
    assert step["env"]["ENCRYPT_TO"] == "${{ runner.temp }}/pre-update"
    run = step["run"].strip()
    run = (repos(platform) / run).read_text() if run.startswith("scripts/") else run  # compose, kubernetes
    assert '--encrypt-to "${ENCRYPT_TO:-}"' in run  # the safe path writes the .age there
    upload = next(s for s in steps(repos(platform)) if "pre-update archive" in s.get("name", ""))
    assert upload["with"]["path"] == "${{ runner.temp }}/pre-update/*.age"


def test_fly_deploy_runs_through_the_safe_path_in_make_and_ci(repos):
    repo = repos("fly")
    make = (repo / "Makefile").read_text()
    target = make[make.index("\ndeploy:"):].split("\n\n")[0]
    assert "$(PY) -m ops.safe_upgrade fly" in target and "venv" in target.splitlines()[1]
    run = next(s["run"] for s in steps(repo) if "ops.safe_upgrade fly" in s.get("run", ""))
    assert "--remote-only" in run and '--encrypt-to "${ENCRYPT_TO:-}"' in run
    assert "FLY_API_TOKEN" not in run  # the token only in env


def test_fly_rollback_argv_is_fly_deploy_image(repos, tmp_path, monkeypatch):
    """The room's Platform: the machines' image from `fly machine list --json`, the way back
    `fly deploy --image PREVIOUS` (RECORDING fly stand-in)."""
    import argparse
    import json
    import os

    from ops import model as m
    from ops.platforms import fly
    from tests.standins import protocol
    from tests.test_ci_deploy import STANDINS

    machines = [{"id": "old", "state": "destroyed", "config": {"image": "registry.fly.io/x:gone"}},
                {"id": "d8d9", "state": "started", "updated_at": "2026-12-01T10:00:00Z",
                 "config": {"image": "registry.fly.io/claw-ci:deployment-01OLD", "metadata": {"fly_process_group": "app"}}}]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps([{"prog": "fly", "has": ["machine", "list"], "stdout": json.dumps(machines)}]))
    monkeypatch.setenv("PATH", f"{STANDINS}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STANDIN_LOG", str(tmp_path / "log"))
    monkeypatch.setenv("STANDIN_PLAN", str(plan))
    model = m.build(m.answers_from_file(repos("fly") / ".copier-answers.yml"))
    args = argparse.Namespace(app=None, image="", remote_only=True, backups="backups")
    platform = fly.safe_upgrade(model, args, say=lambda _line: None)
    assert platform.current_image() == "registry.fly.io/claw-ci:deployment-01OLD"
    platform.deploy()
    platform.rollback("registry.fly.io/claw-ci:deployment-01OLD")
    assert protocol.argvs(tmp_path / "log") == [
        ["fly", "machine", "list", "-a", APP, "--json"], ["fly", "deploy", "-a", APP, "--remote-only"],
        ["fly", "deploy", "-a", APP, "--image", "registry.fly.io/claw-ci:deployment-01OLD"]]
    assert fly.machine_image([]) == "" and fly.machine_image("not a list") == ""


def test_compose_same_release_and_image_is_a_plain_deploy(repos, tmp_path):
    """What runs is what is deployed (same release, same image): no backup, no watch flag."""
    from tests.conftest import DEFAULT_VERSION

    plan = compose_plan([f"{DEFAULT_VERSION} started"], deploy_fails=False)
    for rule in plan:
        if rule["has"] == ["{{.Image}}"]:
            rule["stdout"] = IMAGE + "\n"
    job = Job(repos("vps"), tmp_path, plan=plan)
    assert job.run() == 0, job.output
    commands = ssh_commands(job)
    assert not any("openclaw backup create" in cmd or ".openclaw-upgrade" in cmd for cmd in commands), commands
    assert f"cd {APP} && docker compose up -d --no-build --remove-orphans" in commands
    assert "runs already and the image is the same: a plain deploy" in job.output
    assert not list((tmp_path / "runner").glob("pre-update/*.age"))


def make_deploy(repo: Path, tmp: Path, plan: list[dict]) -> tuple[subprocess.CompletedProcess, list[list[str]]]:
    import json
    import os

    from tests.standins import protocol
    from tests.test_ci_deploy import STANDINS

    log, plan_file = tmp / "calls.jsonl", tmp / "plan.json"
    plan_file.write_text(json.dumps(plan))
    (repo / ".env").write_text("OPENCLAW_GATEWAY_TOKEN=x\n")
    env = {**os.environ, "STANDIN_LOG": str(log), "STANDIN_PLAN": str(plan_file), "DEPLOY_TIMEOUT": "3",
           "POLL_INTERVAL": "0.05", "PATH": os.pathsep.join([str(STANDINS), os.environ["PATH"]])}
    env.pop("COMPOSE_FILE", None)
    proc = subprocess.run(["make", "-s", "-o", "venv", f"PY={sys.executable}", "deploy"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300)
    return proc, protocol.argvs(log)


def test_compose_make_deploy_builds_then_runs_the_safe_path(repos, tmp_path):
    """make deploy on the VM (RECORDING docker stand-in): build, then what runs is read, a first
    deploy (nothing answers exec) is a plain `docker compose up -d` and a wait until healthy."""
    repo = repos("gcp", recipient=False)
    proc, calls = make_deploy(repo, tmp_path, [{"prog": "docker", "has": ["{{.Health}}"], "stdout": "healthy\n"}])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    verbs = [" ".join(call[1:3]) for call in calls]
    assert verbs == ["compose build", "compose exec", "compose ps", "compose up", "compose ps", "compose ps"], calls
    assert calls[1][:7] == ["docker", "compose", "exec", "-T", "-u", "node", "openclaw-gateway"]
    assert calls[3] == ["docker", "compose", "up", "-d"]
    assert "a plain deploy, without a pre-update backup" in proc.stdout


def test_compose_rollback_here_names_the_previous_image_in_one_more_compose_file(repos, tmp_path, monkeypatch):
    import argparse
    import json
    import os

    from ops import model as m
    from ops.platforms import compose
    from tests.standins import protocol
    from tests.test_ci_deploy import STANDINS

    repo = repos("vps", recipient=False)
    monkeypatch.chdir(repo)
    monkeypatch.setenv("PATH", f"{STANDINS}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STANDIN_LOG", str(tmp_path / "log"))
    plan = [{"prog": "docker", "has": ["{{.Image}}"], "stdout": f"{APP}-gateway:2026.8.2\n"},
            {"prog": "docker", "has": ["{{.Health}}"], "stdout": "healthy\n"}]
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    monkeypatch.setenv("STANDIN_PLAN", str(tmp_path / "plan.json"))
    monkeypatch.delenv("COMPOSE_FILE", raising=False)
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
    args = argparse.Namespace(image="", service="", ssh_target="", ssh_key="", known_hosts="", dir="", backups="b")
    platform = compose.safe_upgrade(model, args, say=lambda _line: None)
    assert platform.new_image == f"{APP}-gateway:{model.openclaw_version}" and platform.remote is None
    assert platform.current_image() == f"{APP}-gateway:2026.8.2"
    platform.rollback(f"{APP}-gateway:2026.8.2")
    up = [c for c in protocol.records(tmp_path / "log") if c["argv"][1:3] == ["compose", "up"]]
    assert [c["argv"] for c in up] == [["docker", "compose", "up", "-d", "--no-build", "openclaw-gateway"]]
    assert not list(repo.glob(".openclaw-rollback-*"))  # the extra file is removed afterwards
    # what the real Compose makes of that file list: the gateway named by the previous image
    (repo / "prev.yml").write_text(compose.override_text("openclaw-gateway", f"{APP}-gateway:2026.8.2"))
    (repo / ".env").write_text("OPENCLAW_GATEWAY_TOKEN=x\n")
    try:
        merged = subprocess.run([str(Path(sys.executable).parent / "docker-compose"), "config", "--format", "json"],
                                cwd=repo, env={**os.environ, **compose.with_override({}, "prev.yml")},
                                capture_output=True, text=True, timeout=60)
    finally:
        (repo / "prev.yml").unlink()
    assert merged.returncode == 0, merged.stderr
    service = json.loads(merged.stdout)["services"]["openclaw-gateway"]
    assert service["image"] == f"{APP}-gateway:2026.8.2" and service["build"]  # the build stays, --no-build skips it
    with pytest.raises(Exception, match="--ssh-target needs --ssh-key and --known-hosts"):
        compose.safe_upgrade(model, argparse.Namespace(**{**vars(args), "ssh_target": "u@h"}))
