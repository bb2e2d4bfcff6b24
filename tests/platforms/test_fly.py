"""Fly facts (issue 18, item 7).

- The volume: a volume made by `fly volumes create` before the first deploy can land on a
  host with no room for the machine ("insufficient resources to create new machine with
  existing volume"). `make secrets ARGS=--create` no longer makes it; the first `fly deploy`
  creates it from fly.toml [mounts] `initial_size` (the vendored schema: "The size of the
  volume to be created on first deploy"), and the RUNBOOK says how to recover.
- A private app releases its public IPs and gets a private IPv6 (`fly ips allocate-v6
  --private`, docs/install/fly.md "Private deployment" of the pinned release).
"""

from __future__ import annotations

import json
import os
import subprocess
import tomllib

import pytest

from ops import model as m
from ops.platforms import fly as room
from tests.standins import protocol
from tests.test_backup_refusals import STANDINS
from tests.test_secrets_scripts import deploy_repo, run_secrets, values_for


def test_create_makes_the_app_but_leaves_the_volume_to_the_first_deploy(render, tmp_path):
    repo = deploy_repo(render, "fly")
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
    proc, calls, _ = run_secrets(repo, tmp_path, values_for(model, "fly", generate_token=True), "--create")
    assert proc.returncode == 0, proc.stderr
    argvs = [c["argv"] for c in calls]
    assert not any(a[1:3] == ["volumes", "create"] for a in argvs), argvs
    assert "created by the first fly deploy" in proc.stderr
    mounts = tomllib.loads((repo / "fly.toml").read_text())["mounts"]
    assert mounts["source"] == model.volume_name and mounts["initial_size"] == f"{model.volume_size_gb}gb"
    schema = json.loads((m.DATA_DIR.parent / "schemas" / "fly.json").read_text())
    assert "first deploy" in json.dumps(schema).split('"initial_size"', 1)[1][:200]


def test_runbook_says_how_to_recover_a_volume_on_a_full_host(render):
    runbook = (render(app_name="claw-fly", platform="fly") / "RUNBOOK.md").read_text()
    row = next(line for line in runbook.splitlines()
               if "insufficient resources to create new machine with existing volume" in line)
    assert "fly volumes destroy <id> -a claw-fly" in row and "make deploy" in row
    first_commands = runbook.split("## First deploy", 1)[1].split("```", 2)[1]
    assert "volumes create" not in first_commands and "creates volume openclaw_data" in first_commands


def test_private_runbook_allocates_a_private_ipv6_after_releasing_public_ips(render):
    runbook = (render(app_name="claw-fly", platform="fly", privacy="private") / "RUNBOOK.md").read_text()
    release = runbook.index("fly ips release <public-ipv6> -a claw-fly")
    assert runbook.index("fly ips allocate-v6 --private -a claw-fly") > release
    public = (render(app_name="claw-fly", platform="fly", privacy="public") / "RUNBOOK.md").read_text()
    assert "allocate-v6 --private" not in public


def test_fly_machine_facts_and_checks():
    machine = {
        "id": "148e", "state": "started",
        "config": {"guest": {"memory_mb": 2048}, "services": [{"internal_port": 3000}],
                   "mounts": [{"path": "/data", "volume": "vol_1"}]},
        "checks": [{"name": "servicecheck-00-http-3000", "status": "passing", "output": "OK"}],
        "events": [{"type": "exit", "request": {"exit_event": {"exit_code": 137, "oom_killed": True}}},
                   {"type": "start", "request": {}}],
    }
    facts = room.fly_machine_facts(machine)
    assert facts["memory_mb"] == 2048 and facts["internal_ports"] == [3000] and facts["mounts"] == ["/data"]
    assert facts["oom_exit_codes"] == [137]
    rows = room.fly_checks_from_list({"148e": [{"name": "c", "status": "critical", "output": "connection refused"}]})
    assert rows == [{"machine": "148e", "name": "c", "status": "critical", "output": "connection refused"}]


@pytest.mark.runbook_step("make status")
def test_make_status_asks_fly_for_the_machine_and_its_checks(render, tmp_path):
    """The RUNBOOK's `make status` (Upgrading: after a deploy or a rollback), through the generated
    Makefile with the RECORDING fly stand-in on PATH (canned answers; nothing is contacted)."""
    repo = render(app_name="claw-fly", platform="fly")
    canned = tmp_path / "canned"
    canned.mkdir()
    (canned / "fly-status.txt").write_text("Machines\nPROCESS ID VERSION REGION STATE\napp 1 3 ams started\n")
    (canned / "fly-checks-list.txt").write_text("Health Checks for claw-fly\nNAME STATUS\nservicecheck passing\n")
    env = {**os.environ, "STANDIN_LOG": str(tmp_path / "calls.log"), "STANDIN_DIR": str(canned),
           "PATH": os.pathsep.join([str(STANDINS), os.environ["PATH"]])}
    proc = subprocess.run(["make", "-s", "status"], cwd=repo, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert protocol.argvs(tmp_path / "calls.log") == [["fly", "status", "-a", "claw-fly"],
                                                      ["fly", "checks", "list", "-a", "claw-fly"]]
    assert "app 1 3 ams started" in proc.stdout and "servicecheck passing" in proc.stdout
