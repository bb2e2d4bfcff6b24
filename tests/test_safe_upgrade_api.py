"""The CI deploy of Render, Railway and Northflank through the safe upgrade
(ops/safe_upgrade.py + each room's ``safe_upgrade``), run as the generated workflow's
steps (tests/test_ci_deploy.py's Job) against RECORDING STAND-INS: the platform APIs
on a loopback HTTPS stand-in (tests/support/api_standin.py), the exec CLIs (ssh for
Render, railway, northflank) from tests/standins/ci, answering the gateway's side from
a plan (release and state, the archive's bytes, restore.mjs's steps). Nothing is
deployed anywhere; the engine-backed proofs of the same steps are in tests/container.

Each platform: a good upgrade (backup first, kept; no rollback), a failed one (the
platform's own rollback to what ran before, then the pre-update archive uploaded and
restored by the old release, in that order; the job fails and says so), a deploy that made
nothing new (a failed build or upload: no hold, no rollback, no restore, the watch flag removed),
a first deploy (nothing answers exec: a plain deploy), and nothing changed (one exec look, no
backup). At the bottom: upgrade() itself with a Platform whose deploy raises NothingDeployed or
that has no rollback, the usage lines against the parser, and make restore into an upgrade's hold."""

from __future__ import annotations

import base64
import json

import pytest

from tests.test_ci_deploy import (assert_way_back_in_order, APP, ARCHIVE_BYTES, SECRETS, SHA, STARTED, Job, api, assert_no_secret_leaked,  # noqa: F401
                                  gateway_plan, generated, railway_status)

OLD = "2026.8.2"  # what runs before; the new release is the one the generated repo pins
GOOD = ["{old} started", "{new} started"]
FAILED = ["{old} started", "{new} starting", "{old} held", "{old} started"]


def _model_version(repo) -> str:
    import subprocess
    import sys

    code = "from ops.backup import load_model; print(load_model().openclaw_version)"
    return subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True,
                          check=True).stdout.strip()


def exec_plan(prog: str, repo, states: list[str], base64_stream: bool) -> list[dict]:
    """gateway_plan (kubectl exec) answered by another exec CLI; base64 where it streams that way."""
    new = _model_version(repo)
    releases = [s.format(old=OLD, new=new) for s in states]
    plan = []
    for rule in gateway_plan(releases, deploy_fails=False):
        if rule["prog"] != "kubectl" or rule["has"][0] != "exec":
            continue
        rule = {**rule, "prog": prog, "has": rule["has"][1:]}
        if base64_stream and rule["has"] == ["cat /tmp/openclaw-backup/"]:
            rule = {**rule, "has": ["base64 -w 0 /tmp/openclaw-backup/"],
                    "stdout": base64.b64encode(ARCHIVE_BYTES.encode()).decode()}
        plan.append(rule)
    return plan


def unreachable(prog: str) -> list[dict]:
    return [{"prog": prog, "has": ["package.json"], "exit": 255, "stderr": "connection refused\n"}]


def remote_commands(job: Job, prog: str) -> list[dict]:
    return [c for c in job.calls if c["argv"][0] == prog and "status --json" not in " ".join(c["argv"])
            and c["argv"][1:2] != ["login"] and c["argv"][1:2] != ["up"]]


def assert_restored_in_order(commands: list[dict]) -> None:
    assert_way_back_in_order([" ".join(c["argv"]) for c in commands])


def uploaded(commands: list[dict], base64_stream: bool) -> str:
    upload = next(c for c in commands if "archive.tar.gz" in c["argv"][-1] and
                  ("base64 -d" in c["argv"][-1] if base64_stream else "cat >" in c["argv"][-1]))
    return base64.b64decode(upload["stdin"]).decode() if base64_stream else upload["stdin"]


# ------------------------------------------------------------------ render --


def render_api(api, deploy_states: list[str], live_before: bool = True) -> None:
    service = {"id": "srv-1", "name": APP, "type": "web_service", "serviceDetails": {"url": api.base}}
    api.route("GET", r"/v1/services\?name=claw-ci&limit=20", (200, [{"cursor": "c1", "service": service}]))
    listed = [{"deploy": {"id": "dep-old", "status": "live", "commit": {"id": "9" * 40}}}] if live_before else []
    api.route("GET", r"/v1/services/srv-1/deploys\?limit=20", (200, listed))
    api.route("POST", "/v1/services/srv-1/deploys", (201, {"id": "dep-1", "status": "created"}))
    api.route("GET", "/v1/services/srv-1/deploys/dep-1", *[(200, {"id": "dep-1", "status": s}) for s in deploy_states])
    api.route("POST", "/v1/services/srv-1/rollback", (201, {"id": "dep-rb", "status": "created"}))
    api.route("GET", "/startupz", (200, STARTED))


def render_job(generated, api, tmp_path, plan: list[dict], privacy: str = "private") -> Job:
    return Job(generated("render", privacy), tmp_path, api, plan=plan)


def test_render_good_upgrade_backs_up_first_and_keeps_it(generated, api, tmp_path):
    repo = generated("render", "private")
    render_api(api, ["build_in_progress", "live"])
    job = render_job(generated, api, tmp_path, exec_plan("ssh", repo, GOOD, False))
    assert job.run() == 0, job.output
    calls = api.calls()
    assert ("POST", "/v1/services/srv-1/rollback") not in calls
    ssh = remote_commands(job, "ssh")
    # the exec goes to the service the API named, through the pinned key of the secrets
    assert all(c["argv"][1].startswith("srv-1@ssh.") for c in ssh)
    lines = [c["argv"][-1] for c in ssh]
    backup_at = next(i for i, line in enumerate(lines) if "openclaw backup create" in line)
    flag_at = next(i for i, line in enumerate(lines) if "umask 077 && printf" in line and ".openclaw-upgrade" in line)
    assert backup_at < flag_at
    assert any(line.startswith("rm -f") or "rm -f /data/.openclaw-upgrade" in line for line in lines[flag_at:])
    config = (tmp_path / ".ssh" / "config").read_text()
    assert "StrictHostKeyChecking yes" in config and "BatchMode yes" in config
    out = job.output
    assert f"runs openclaw {OLD} (dep-old)" in out and "pre-update backup kept at" in out
    assert "the pre-update backup stays at" in out
    assert_no_secret_leaked(job, api)


def test_render_failed_upgrade_rolls_back_to_the_live_deploy_and_restores(generated, api, tmp_path):
    repo = generated("render", "private")
    render_api(api, ["build_in_progress", "update_failed"])
    job = render_job(generated, api, tmp_path, exec_plan("ssh", repo, FAILED, False))
    assert job.run() != 0
    rollbacks = [r for r in api.requests if r["path"] == "/v1/services/srv-1/rollback"]
    assert [r["body"] for r in rollbacks] == [{"deployId": "dep-old"}]
    ssh = remote_commands(job, "ssh")
    assert_restored_in_order(ssh)
    assert uploaded(ssh, False) == ARCHIVE_BYTES
    out = job.output
    assert f"rolling back to openclaw {OLD} (dep-old)" in out
    assert f"rolled back: openclaw {OLD} started on the pre-update state" in out
    assert_no_secret_leaked(job, api)


def assert_nothing_deployed(job: Job, prog: str) -> None:
    """The platform made no new deployment: the pre-update backup was taken and stays, the watch flag
    is removed, and the old gateway is never held, rolled back or restored."""
    lines = [" ".join(c["argv"]) for c in remote_commands(job, prog)]
    assert any("openclaw backup create" in line for line in lines)
    flag_at = next(i for i, line in enumerate(lines) if "umask 077 && printf" in line and ".openclaw-upgrade" in line)
    assert any("rm -f /data/.openclaw-upgrade" in line for line in lines[flag_at:]), lines
    assert not any("restore.mjs" in line or "archive.tar.gz" in line for line in lines), lines
    out = job.output
    assert "upgrade: nothing was deployed (" in out and "the pre-update backup stays at" in out
    assert f"still runs openclaw {OLD}" in out
    assert "rolling back" not in out and "rolled back" not in out


@pytest.mark.parametrize("failure", ["build_failed", "pre_deploy_failed"])
def test_render_build_failure_deploys_nothing_and_neither_holds_rolls_back_nor_restores(
        generated, api, tmp_path, failure):
    repo = generated("render", "private")
    render_api(api, ["build_in_progress", failure])
    job = render_job(generated, api, tmp_path, exec_plan("ssh", repo, ["{old} started"], False))
    assert job.run() != 0
    assert ("POST", "/v1/services/srv-1/rollback") not in api.calls()
    assert_nothing_deployed(job, "ssh")
    assert f"Render deploy dep-1: {failure}" in job.output and "(dep-old)" in job.output
    assert_no_secret_leaked(job, api)


def test_render_first_deploy_with_nothing_running_is_a_plain_deploy(generated, api, tmp_path):
    render_api(api, ["live"], live_before=False)
    job = render_job(generated, api, tmp_path, unreachable("ssh"), privacy="public")
    assert job.run() == 0, job.output
    assert len(remote_commands(job, "ssh")) == 1  # the one look; no backup, no flag
    assert "a plain deploy, without a pre-update backup" in job.output
    assert ("GET", "/startupz") in api.calls()


def test_render_without_the_ssh_secrets_warns_and_deploys_without_a_backup(generated, api, tmp_path, monkeypatch):
    monkeypatch.delitem(SECRETS, "RENDER_SSH_KEY")
    render_api(api, ["live"])
    job = render_job(generated, api, tmp_path, [])
    assert job.run() == 0, job.output
    assert remote_commands(job, "ssh") == []
    assert "::warning::RENDER_SSH_KEY not set in the deploy environment" in job.output


def test_render_nothing_changed_takes_no_backup(generated, api, tmp_path):
    repo = generated("render", "private")
    render_api(api, ["live"])
    job = render_job(generated, api, tmp_path, exec_plan("ssh", repo, ["{new} started"], False))
    assert job.run() == 0, job.output
    assert len(remote_commands(job, "ssh")) == 1
    assert "runs already and the image is the same: a plain deploy" in job.output


# ----------------------------------------------------------------- railway --


def railway_job(generated, api, tmp_path, plan: list[dict], statuses: list[tuple[str, str]]) -> Job:
    def answer(dep: str | None, status: str) -> str:  # None: no deployment yet (a new service)
        return railway_status(dep, status) if dep else json.dumps({"environments": {"edges": []}})

    rules = [{"prog": "railway", "has": ["status --json --environment production"],
              "stdout": answer(dep, status), "times": 1} for dep, status in statuses[:-1]]
    rules.append({"prog": "railway", "has": ["status --json --environment production"],
                  "stdout": answer(*statuses[-1])})
    return Job(generated("railway", "private"), tmp_path, api, plan=plan + rules)


# current (d-old SUCCESS), the deploy's "before", then the new deployment
RAILWAY_GOOD = [("d-old", "SUCCESS"), ("d-old", "SUCCESS"), ("d-new", "DEPLOYING"), ("d-new", "SUCCESS")]
RAILWAY_CRASH = [("d-old", "SUCCESS"), ("d-old", "SUCCESS"), ("d-new", "DEPLOYING"), ("d-new", "CRASHED")]


def test_railway_good_upgrade_backs_up_first(generated, api, tmp_path):
    repo = generated("railway", "private")
    job = railway_job(generated, api, tmp_path, exec_plan("railway", repo, GOOD, True), RAILWAY_GOOD)
    assert job.run() == 0, job.output
    execs = remote_commands(job, "railway")
    # the job's argv names the service and the environment (no linked directory in CI)
    assert all(c["argv"][1:6] == ["ssh", "--service", APP, "--environment", "production"] for c in execs)
    argvs = [c["argv"] for c in job.calls]
    up = argvs.index(["railway", "up", "--ci", "--service", APP, "--environment", "production"])
    backup_at = next(i for i, a in enumerate(argvs) if "openclaw backup create" in a[-1])
    assert backup_at < up
    assert api.requests == []  # no rollback
    assert "pre-update backup kept at" in job.output
    assert_no_secret_leaked(job, api)


def test_railway_crashed_upgrade_rolls_back_the_deployment_and_restores(generated, api, tmp_path):
    repo = generated("railway", "private")
    api.route("POST", "/graphql/v2", (200, {"data": {"deploymentRollback": True}}))
    job = railway_job(generated, api, tmp_path, exec_plan("railway", repo, FAILED, True), RAILWAY_CRASH)
    assert job.run() != 0
    (request,) = api.requests
    assert request["body"]["variables"] == {"id": "d-old"} and "deploymentRollback" in request["body"]["query"]
    # the project token in Railway's own header, not as a bearer token
    assert request["headers"].get("project-access-token") == SECRETS["RAILWAY_TOKEN"]
    assert "authorization" not in request["headers"]
    execs = remote_commands(job, "railway")
    assert_restored_in_order(execs)
    assert uploaded(execs, True) == ARCHIVE_BYTES
    assert f"rolled back: openclaw {OLD} started on the pre-update state" in job.output
    assert_no_secret_leaked(job, api)


def test_railway_refused_rollback_says_where_the_backup_is(generated, api, tmp_path):
    repo = generated("railway", "private")
    api.route("POST", "/graphql/v2", (200, {"errors": [{"message": "Not Authorized"}], "data": None}))
    job = railway_job(generated, api, tmp_path, exec_plan("railway", repo, FAILED, True), RAILWAY_CRASH)
    assert job.run() != 0
    assert "the rollback failed too" in job.output and "Not Authorized" in job.output
    assert "the pre-update backup is" in job.output


def test_railway_failed_upload_deploys_nothing_and_neither_holds_rolls_back_nor_restores(generated, api, tmp_path):
    repo = generated("railway", "private")
    failed_up = [{"prog": "railway", "has": ["up --ci --service"], "exit": 1, "stderr": "Build failed\n"}]
    job = railway_job(generated, api, tmp_path, failed_up + exec_plan("railway", repo, ["{old} started"], True),
                      [("d-old", "SUCCESS")])
    assert job.run() != 0
    assert api.requests == []  # no deploymentRollback
    assert_nothing_deployed(job, "railway")
    assert "railway up failed (exit 1)" in job.output and "(d-old)" in job.output


def test_railway_first_deploy_is_a_plain_deploy(generated, api, tmp_path):
    job = railway_job(generated, api, tmp_path, unreachable("railway"),
                      [(None, ""), (None, ""), ("d-new", "DEPLOYING"), ("d-new", "SUCCESS")])
    assert job.run() == 0, job.output
    assert len(remote_commands(job, "railway")) == 1
    assert "a plain deploy, without a pre-update backup" in job.output


# -------------------------------------------------------------- northflank --

NF = "/v1/projects/claw-ci/services/claw-ci"


def northflank_api(api, deployments: list[str], running_before: bool = True) -> None:
    api.route("POST", NF + "/build", (200, {"data": {"id": "build-7", "status": "PENDING"}}))
    api.route("GET", NF + "/build/build-7", (200, {"data": {"id": "build-7", "status": "SUCCESS"}}))
    before = {"data": {"id": APP, "status": {"deployment": {"status": "COMPLETED" if running_before else "PENDING"}},
                       "deployment": {"internal": {"deployedSHA": "f" * 40}}}}
    api.route("GET", NF, (200, before),
              *[(200, {"data": {"id": APP, "status": {"deployment": {"status": s}},
                                "deployment": {"internal": {"deployedSHA": SHA}}}}) for s in deployments])
    api.route("POST", NF + "/deployment", (200, {"data": {}}))


def test_northflank_good_upgrade_backs_up_first(generated, api, tmp_path):
    repo = generated("northflank", "private")
    northflank_api(api, ["IN_PROGRESS", "COMPLETED"])
    job = Job(repo, tmp_path, api, plan=exec_plan("northflank", repo, GOOD, True))
    assert job.run() == 0, job.output
    calls = [c["argv"] for c in job.calls]
    assert calls[0][:4] == ["northflank", "login", "-n", "backup"]  # the CLI takes the token only as -t
    backup_at = next(i for i, r in enumerate(api.requests) if r["method"] == "POST")
    assert api.requests[backup_at]["path"] == NF + "/build"
    assert any("openclaw backup create" in a[-1] for a in calls)
    assert ("POST", NF + "/deployment") not in api.calls()
    assert "pre-update backup kept at" in job.output


def test_northflank_failed_deployment_goes_back_to_the_previous_build_and_restores(generated, api, tmp_path):
    repo = generated("northflank", "private")
    northflank_api(api, ["IN_PROGRESS", "FAILED"])
    job = Job(repo, tmp_path, api, plan=exec_plan("northflank", repo, FAILED, True))
    assert job.run() != 0
    back = next(r for r in api.requests if r["path"] == NF + "/deployment")
    assert back["method"] == "POST" and back["body"] == {"internal": {"buildSHA": "f" * 40}}
    execs = remote_commands(job, "northflank")
    assert_restored_in_order(execs)
    assert uploaded(execs, True) == ARCHIVE_BYTES
    assert all(c["argv"][1:3] == ["exec", "service"] and "--user" in c["argv"] for c in execs)
    assert f"rolled back: openclaw {OLD} started on the pre-update state" in job.output
    # the deploy token reaches the CLI once, on `northflank login -t` (the scheduled backup does the same)
    with_token = [c["argv"] for c in job.calls if SECRETS["NORTHFLANK_API_TOKEN"] in " ".join(c["argv"])]
    assert [a[:2] for a in with_token] == [["northflank", "login"]]
    assert SECRETS["NORTHFLANK_API_TOKEN"] not in job.output


@pytest.mark.parametrize("failure", ["FAILURE", "ABORTED"])
def test_northflank_failed_build_deploys_nothing_and_neither_holds_rolls_back_nor_restores(
        generated, api, tmp_path, failure):
    repo = generated("northflank", "private")
    northflank_api(api, ["COMPLETED"])
    api.route("GET", NF + "/build/build-7", (200, {"data": {"id": "build-7", "status": failure}}))
    job = Job(repo, tmp_path, api, plan=exec_plan("northflank", repo, ["{old} started"], True))
    assert job.run() != 0
    assert ("POST", NF + "/deployment") not in api.calls()
    assert_nothing_deployed(job, "northflank")
    assert f"Northflank build build-7: {failure}" in job.output and f"({'f' * 40})" in job.output


def test_northflank_first_deploy_is_a_plain_deploy(generated, api, tmp_path):
    repo = generated("northflank", "private")
    northflank_api(api, ["COMPLETED"], running_before=False)
    job = Job(repo, tmp_path, api, plan=unreachable("northflank"))
    assert job.run() == 0, job.output
    assert len(remote_commands(job, "northflank")) == 1
    assert "a plain deploy, without a pre-update backup" in job.output


# ------------------------------------------------------------- the RUNBOOK --


@pytest.mark.parametrize("platform", ["render", "railway", "northflank"])
def test_runbook_says_automatic_and_the_deploy_job_runs_it(generated, platform):
    import yaml

    repo = generated(platform, "private")
    runbook = (repo / "RUNBOOK.md").read_text()
    assert f"runs `python3 -m ops.safe_upgrade {platform}`" in runbook
    assert "ops.safe_upgrade arm" not in runbook  # no by-hand steps where the deploy does them
    steps = yaml.safe_load((repo / ".github/workflows/deploy.yml").read_text())["jobs"]["deploy"]["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    assert "make venv" in runs
    assert any(f"-m ops.safe_upgrade {platform} " in r and "--ci" in r for r in runs)
    assert not any("ops.deploy_" in r for r in runs)  # the bare deploy is not called beside it


def test_render_safe_upgrade_targets_the_service_it_found_without_touching_the_environment(
        generated, monkeypatch):
    """The ssh target is the service the API returned, handed to the transport: nothing is written
    into os.environ (an in-process caller, or any later step of the job, would inherit it)."""
    import argparse
    import os

    from ops import model as m
    from ops.platforms import render

    repo = generated("render", "private")
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
    monkeypatch.delenv("RENDER_SERVICE_ID", raising=False)
    monkeypatch.setattr(render, "secret_env", lambda name: "rnd_" + "x" * 20)
    monkeypatch.setattr(render, "find_service", lambda token, name: {"id": "srv-found1", "name": name})
    args = argparse.Namespace(service=APP, commit=SHA, public=False, ci=False, backups="backups")
    platform = render.safe_upgrade(model, args, say=lambda line: None)
    assert "RENDER_SERVICE_ID" not in os.environ
    assert platform.remote.values["service_id"] == "srv-found1"
    argv = [part.format(cmd="true", **platform.remote.values) for part in platform.remote.run_argv]
    assert "srv-found1@ssh.oregon.render.com" in argv, argv


# ------------------------------------------------- upgrade(), decided once --


class RecordingRemote:
    """An exec transport that records each command and answers exit 0 (nothing is reached)."""

    def __init__(self):
        self.commands: list[str] = []

    def exec(self, cmd, check=True, timeout=None, **_):
        import subprocess

        self.commands.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, b"", b"")


@pytest.fixture
def decided(generated, tmp_path, monkeypatch):
    """upgrade() with what runs and the backup given (2026.8.2 answers; the archive a local file)."""
    from ops import model as m
    from ops import safe_upgrade as su

    model = m.build(m.answers_from_file(generated("render", "private") / ".copier-answers.yml"))
    archive = tmp_path / "claw-ci-20261202T000000Z.tar.gz"
    archive.write_text(ARCHIVE_BYTES)
    seen = {"running": [(OLD, "started")]}
    monkeypatch.setattr(su, "running", lambda _model, _remote: seen["running"][0])
    monkeypatch.setattr(su, "backup", lambda *_a, **_k: archive)
    calls: list[str] = []

    def run(deploy_error: Exception | None, rollback: bool = True, before=(OLD, "started")):
        seen["running"] = [before]

        def deploy():
            calls.append("deploy")
            if deploy_error is not None:
                raise deploy_error
        platform = su.Platform(label="Testplatform", current_image=lambda: "img-old", deploy=deploy,
                               rollback=(lambda image: calls.append(f"rollback {image}")) if rollback else None,
                               restore=lambda path: calls.append(f"restore {path.name}"),
                               by_hand=lambda previous, kept: f"BY HAND: {previous} then {kept}")
        remote = RecordingRemote()
        lines: list[str] = []
        with pytest.raises(su.UpgradeError) as err:
            su.upgrade(model, platform, remote=remote, dest=tmp_path, timeout=0.1, say=lines.append)
        return err.value, calls, remote.commands, lines
    return su, run, archive


def test_upgrade_with_nothing_deployed_holds_nothing_rolls_nothing_back_and_restores_nothing(decided):
    su, run, archive = decided
    err, calls, commands, _ = run(su.NothingDeployed("Testplatform build 7: FAILURE"))
    assert isinstance(err, su.NothingDeployed)
    assert calls == ["deploy"]  # no rollback, no restore
    # the watch flag set before the deploy, removed after; no hold (restore.mjs enter), no upload
    assert commands[0].startswith("umask 077 && printf") and ".openclaw-upgrade" in commands[0]
    assert commands[1:] == ["rm -f /data/.openclaw-upgrade"]
    assert str(err) == ("upgrade: nothing was deployed (Testplatform build 7: FAILURE); Testplatform still runs "
                        f"openclaw {OLD} (img-old) on its own state; the pre-update backup stays at {archive}")


def test_upgrade_with_nothing_deployed_before_anything_answered_rolls_nothing_back(decided):
    su, run, _ = decided
    err, calls, commands, _ = run(su.NothingDeployed("build failed"), before=("", "unreachable"))
    assert isinstance(err, su.NothingDeployed) and calls == ["deploy"] and commands == []
    assert str(err) == "upgrade: nothing was deployed (build failed); Testplatform still runs img-old"


def test_upgrade_without_a_rollback_holds_nothing_and_says_the_way_back(decided):
    """No credential for the platform's rollback (Railway's make deploy without a token): the failure
    is not rolled back nor restored from here, nothing is held, the watch flag stays (make restore
    removes it), and the one line says the way back by hand."""
    su, run, archive = decided
    err, calls, commands, _ = run(su.UpgradeError("the deployment CRASHED"), rollback=False)
    assert not isinstance(err, su.NothingDeployed)
    assert calls == ["deploy"]
    assert len(commands) == 1 and ".openclaw-upgrade" in commands[0]  # set; not removed, nothing held
    assert str(err) == ("upgrade: the deploy failed (the deployment CRASHED); nothing was rolled back or "
                        f"restored: BY HAND: img-old then {archive}")


def test_as_upgrade_error_keeps_nothing_deployed_apart():
    from ops import safe_upgrade as su
    from ops.ci_http import DeployError, NotDeployed

    def raising(error):
        def fn():
            raise error
        return su.as_upgrade_error(fn)

    with pytest.raises(su.NothingDeployed):
        raising(NotDeployed("no build"))()
    with pytest.raises(su.UpgradeError) as err:
        raising(DeployError("CRASHED"))()
    assert type(err.value) is su.UpgradeError


def test_usage_lines_name_every_kind_with_a_safe_path_and_what_its_parser_takes():
    """The module docstring's usage lines against `python -m ops.safe_upgrade --help`'s parser:
    the same kinds, each line's required part parses, each option it names exists."""
    import re

    from ops import safe_upgrade as su

    lines = [line.strip() for line in su.__doc__.splitlines() if line.strip().startswith("python -m ops.safe_upgrade ")]
    usage = {line.split()[3]: line for line in lines if line.split()[3] not in ("arm", "restore-held")}
    assert set(usage) == set(su.automated()), sorted(usage)
    parser = su.build_parser()
    for kind, line in usage.items():
        required = line.split("[", 1)[0].split()[3:]
        argv = [word if word.startswith("--") or word == kind else "X" for word in required]
        parser.parse_args(argv)  # SystemExit when a required option is missing or unknown
        named = set(re.findall(r"--[a-z-]+", line))
        sub = parser._subparsers._group_actions[0].choices[kind]
        known = {opt for action in sub._actions for opt in action.option_strings}
        assert named <= known, (kind, named - known)


class GatewayRemote(RecordingRemote):
    """The gateway's answers to make restore's commands (restore.mjs steps, the upload's size and
    sha256, /startupz), from ``state``: what gateway_state's command reports."""

    def __init__(self, state: str, archive_bytes: bytes):
        super().__init__()
        self.state, self.data = state, archive_bytes

    def exec(self, cmd, check=True, timeout=None, **_):
        import hashlib
        import subprocess

        self.commands.append(cmd)
        out = b""
        if "then echo maintenance" in cmd:
            out = f"{self.state}\n".encode()
        elif "stat -c %s" in cmd:
            out = f"{len(self.data)}\n{hashlib.sha256(self.data).hexdigest()}  x\n".encode()
        elif "restore.mjs" in cmd:
            step = cmd.split("restore.mjs ")[1].split()[0]
            out = json.dumps({"step": step, "warnings": [], "kept": ["/data/.openclaw.before-restore-x"]}).encode()
        return subprocess.CompletedProcess(cmd, 0, out + b"\n", b"")

    def copy_in(self, local, remote_path):
        self.commands.append(f"copy_in {remote_path}")


@pytest.mark.parametrize("state", ["held", "live", "maintenance"])
def test_make_restore_restores_into_a_failed_upgrades_hold_and_ends_the_watch(generated, tmp_path, state):
    """The way back by hand (Railway without a token: the dashboard's Rollback, then make restore):
    the old release may boot held by the watch flag (it refused the state the new one left). make
    restore restores into that hold (no second `enter`) and removes the watch flag once started (also
    when the old release started by itself); a restore's own maintenance (no watch flag) is refused."""
    import hashlib

    from ops import backup as bk
    from ops import model as m

    model = m.build(m.answers_from_file(generated("render", "private") / ".copier-answers.yml"))
    archive = tmp_path / "claw-ci-20261202T000000Z.tar.gz"
    archive.write_bytes(ARCHIVE_BYTES.encode())
    (tmp_path / f"{archive.name}.json").write_text(json.dumps(
        {"app": APP, "size": len(ARCHIVE_BYTES), "sha256": hashlib.sha256(ARCHIVE_BYTES.encode()).hexdigest()}))
    remote = GatewayRemote(state, ARCHIVE_BYTES.encode())
    lines: list[str] = []
    if state == "maintenance":
        with pytest.raises(bk.BackupError, match="another restore is under way"):
            bk.restore(model, archive, yes=True, remote=remote, say=lines.append)
        assert not any("restore.mjs" in c for c in remote.commands)
        return
    bk.restore(model, archive, yes=True, remote=remote, say=lines.append)
    steps = [c.split("restore.mjs ")[1].split()[0] for c in remote.commands if "restore.mjs" in c]
    assert steps == (["stage", "activate", "leave"] if state == "held" else ["enter", "stage", "activate", "leave"])
    # the watch ends with the restore: also a flag left behind when the old release started by itself
    assert remote.commands[-1] == "rm -f /data/.openclaw-upgrade"
    assert any("held in maintenance after a failed upgrade" in line for line in lines) == (state == "held")
