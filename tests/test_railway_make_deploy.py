"""Railway's `make deploy` through the safe path (python -m ops.safe_upgrade railway), run through the
generated Makefile with the RECORDING stand-ins of tests/standins/ci on PATH (`railway` records argv
and stdin and answers from a plan; it contacts nothing, deploys nothing) and Railway's GraphQL API on
the loopback HTTPS stand-in (RAILWAY_API_URL).

With RAILWAY_TOKEN (a project token: Project-Access-Token) or RAILWAY_API_TOKEN (an account or
workspace token: Authorization: Bearer) in the environment a failure takes the full way back:
Railway's deploymentRollback, then the pre-update archive restored by the old release. Without
either, the backup, the deploy and the wait still run; a failure holds nothing, rolls nothing back
and prints the way back by hand (the dashboard's Rollback, then make restore)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.standins import protocol
from tests.test_ci_deploy import APP, ARCHIVE_BYTES, STANDINS, api, generated, railway_status  # noqa: F401
from tests.test_safe_upgrade_api import (FAILED, GOOD, OLD, RAILWAY_CRASH, RAILWAY_GOOD,
                                         assert_nothing_deployed, assert_restored_in_order, exec_plan, uploaded)

TOKENS = {"RAILWAY_TOKEN": "rw-project-" + "p" * 32, "RAILWAY_API_TOKEN": "rw-account-" + "a" * 32}
ARCHIVE_LINE = re.compile(r"pre-update backup kept at (backups/claw-ci-\d{8}T\d{6}Z\.tar\.gz)")


class MakeDeploy:
    """`make deploy` of the generated Railway repo, the CLI and the API stand-ins in place."""

    def __init__(self, repo: Path, tmp: Path, api, plan: list[dict], statuses: list[tuple[str, str]],
                 token: str | None = None):
        rules = [{"prog": "railway", "has": ["status --json --environment production"],
                  "stdout": railway_status(dep, status), "times": 1} for dep, status in statuses[:-1]]
        rules.append({"prog": "railway", "has": ["status --json --environment production"],
                      "stdout": railway_status(*statuses[-1])})
        self.log, plan_file = tmp / "calls.jsonl", tmp / "plan.json"
        plan_file.write_text(json.dumps(plan + rules))
        env = {k: v for k, v in os.environ.items() if k not in TOKENS}
        env.update({"STANDIN_LOG": str(self.log), "STANDIN_PLAN": str(plan_file), "DEPLOY_TIMEOUT": "3",
                    "POLL_INTERVAL": "0.05", "PATH": os.pathsep.join([str(STANDINS), os.environ["PATH"]]),
                    "RAILWAY_API_URL": api.base + "/graphql/v2", **api.ca_env()})
        if token:
            env[token] = TOKENS[token]
        self.proc = subprocess.run(["make", "-s", "-o", "venv", f"PY={sys.executable}", "deploy"], cwd=repo,
                                   env=env, capture_output=True, text=True, timeout=300)
        self.output = self.proc.stdout + self.proc.stderr
        self.repo = repo

    @property
    def calls(self) -> list[dict]:
        return protocol.records(self.log)

    def execs(self) -> list[dict]:
        return [c for c in self.calls if c["argv"][1:2] == ["ssh"]]

    def archive(self) -> Path:
        return self.repo / ARCHIVE_LINE.search(self.output).group(1)

    def assert_no_token_leaked(self) -> None:
        argv = json.dumps([c["argv"] for c in self.calls])
        for value in TOKENS.values():
            assert value not in argv and value not in self.output


@pytest.fixture(scope="module")
def repo(generated) -> Path:
    return generated("railway", "private")


def test_make_deploy_target_runs_the_safe_path(repo):
    make = (repo / "Makefile").read_text()
    target = make[make.index("\ndeploy:"):].split("\n\n")[0]
    assert f"$(PY) -m ops.safe_upgrade railway --service $(APP) --environment production" in target
    assert "venv" in target.splitlines()[1] and "railway up --detach" not in make


@pytest.mark.parametrize("token", [None, "RAILWAY_TOKEN", "RAILWAY_API_TOKEN"])
def test_good_upgrade_backs_up_first_then_railway_up(repo, api, tmp_path, token):
    run = MakeDeploy(repo, tmp_path, api, exec_plan("railway", repo, GOOD, True), RAILWAY_GOOD, token)
    assert run.proc.returncode == 0, run.output
    argvs = [c["argv"] for c in run.calls]
    up = argvs.index(["railway", "up", "--ci", "--service", APP, "--environment", "production"])
    backup_at = next(i for i, a in enumerate(argvs) if "openclaw backup create" in a[-1])
    assert backup_at < up
    # exec names the service and the environment, whatever this directory is linked to
    assert all(c["argv"][1:6] == ["ssh", "--service", APP, "--environment", "production"] for c in run.execs())
    assert run.archive().read_text() == ARCHIVE_BYTES and oct(run.archive().stat().st_mode & 0o777) == "0o600"
    assert api.requests == []  # no rollback
    assert ("no RAILWAY_TOKEN or RAILWAY_API_TOKEN in the environment" in run.output) == (token is None)
    run.assert_no_token_leaked()


@pytest.mark.parametrize("token,header", [("RAILWAY_TOKEN", "project-access-token"),
                                          ("RAILWAY_API_TOKEN", "authorization")])
@pytest.mark.runbook_step("make deploy")
def test_crashed_upgrade_with_a_token_rolls_back_and_restores(repo, api, tmp_path, token, header):
    api.route("POST", "/graphql/v2", (200, {"data": {"deploymentRollback": True}}))
    run = MakeDeploy(repo, tmp_path, api, exec_plan("railway", repo, FAILED, True), RAILWAY_CRASH, token)
    assert run.proc.returncode != 0
    (request,) = api.requests
    assert request["body"]["variables"] == {"id": "d-old"} and "deploymentRollback" in request["body"]["query"]
    sent = TOKENS[token] if header == "project-access-token" else f"Bearer {TOKENS[token]}"
    assert request["headers"].get(header) == sent
    other = "authorization" if header == "project-access-token" else "project-access-token"
    assert other not in request["headers"]
    assert_restored_in_order(run.execs())
    assert uploaded(run.execs(), True) == ARCHIVE_BYTES
    assert f"rolled back: openclaw {OLD} started on the pre-update state" in run.output
    assert f"started with {token}" in run.output
    run.assert_no_token_leaked()


def test_crashed_upgrade_without_a_token_holds_nothing_and_prints_the_way_back(repo, api, tmp_path):
    run = MakeDeploy(repo, tmp_path, api, exec_plan("railway", repo, FAILED, True), RAILWAY_CRASH)
    assert run.proc.returncode != 0
    assert api.requests == []  # nothing it could not undo: no rollback was attempted
    lines = [" ".join(c["argv"]) for c in run.execs()]
    assert any("openclaw backup create" in line for line in lines)
    assert not any("restore.mjs" in line or "archive.tar.gz" in line for line in lines), lines
    # the watch flag stays: whatever boots next is held, not looped; make restore removes it
    assert not any("rm -f /data/.openclaw-upgrade" in line for line in lines)
    archive = run.archive().relative_to(repo)
    last = run.proc.stderr.strip().splitlines()
    assert last[0] == (
        "upgrade: the deploy failed (Railway deployment of claw-ci: CRASHED); nothing was rolled back or restored: "
        f"Railway dashboard > {APP} > Deployments > d-old > Rollback, then make restore ARCHIVE={archive} "
        "ARGS=--yes (no RAILWAY_TOKEN or RAILWAY_API_TOKEN here for Railway's rollback)")
    assert last[1].startswith("make:") and len(last) == 2
    assert run.archive().read_text() == ARCHIVE_BYTES


def test_failed_upload_without_a_token_deploys_nothing_and_says_so(repo, api, tmp_path):
    failed_up = [{"prog": "railway", "has": ["up --ci --service"], "exit": 1, "stderr": "Build failed\n"}]
    run = MakeDeploy(repo, tmp_path, api, failed_up + exec_plan("railway", repo, ["{old} started"], True),
                     [("d-old", "SUCCESS")])
    assert run.proc.returncode != 0
    assert api.requests == []

    class Seen:  # assert_nothing_deployed reads a job's calls and output
        calls, output = run.calls, run.output
    assert_nothing_deployed(Seen, "railway")
