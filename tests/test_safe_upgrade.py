"""`make deploy` of a Kubernetes repo on the official image through the safe path
(ops/safe_upgrade.py), against the RECORDING kubectl stand-in (tests/standins/ci: it
records argv and stdin, answers from a plan, contacts nothing): the image has no hold,
so a failed upgrade puts the image back and restores the pre-update backup through the
restore pod (ops/platforms/_kubernetes_restore.py). The engine-backed proofs are in tests/container."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import copy_template
from tests.standins import protocol
from tests.test_ci_deploy import ARCHIVE_BYTES, STANDINS, gateway_plan

OFFICIAL_OLD = "ghcr.io/openclaw/openclaw:2026.8.2"


@pytest.fixture(scope="module")
def k8s_repo(template_repo, tmp_path_factory) -> Path:
    return copy_template(template_repo, tmp_path_factory.mktemp("su") / "deploy",
                         {"platform": "kubernetes", "app_name": "claw-su", "privacy": "private",
                          "domain": "claw.example.org"})


def make_deploy(repo: Path, tmp: Path, plan: list[dict]) -> tuple[subprocess.CompletedProcess, list[dict]]:
    log, plan_file = tmp / "calls.jsonl", tmp / "plan.json"
    plan_file.write_text(json.dumps(plan))
    env = {**os.environ, "STANDIN_LOG": str(log), "STANDIN_PLAN": str(plan_file), "STANDIN_PYTHON": sys.executable,
           "DEPLOY_TIMEOUT": "3", "POLL_INTERVAL": "0.05", "PATH": os.pathsep.join([str(STANDINS), os.environ["PATH"]])}
    proc = subprocess.run(["make", "-s", "-o", "venv", f"PY={sys.executable}", "deploy"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300)
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return proc, calls


def official_plan(releases: list[str], deploy_fails: bool) -> list[dict]:
    plan = gateway_plan(releases, deploy_fails)
    for rule in plan:  # the official image: the Deployment names it; `make deploy` waits 300 s
        if rule.get("has") == ["get", "deployment"]:
            rule.update(stdout=OFFICIAL_OLD, times=2)
        if rule.get("has") == ["rollout", "status", "--timeout=600s"]:
            rule["has"] = ["rollout", "status", "--timeout=300s"]
    # restore.mjs from stdin in the restore pod
    plan += [{"prog": "kubectl", "has": ["exec", f"module - {step}"], "stdout": json.dumps(out) + "\n"}
             for step, out in [("enter", {"step": "enter"}), ("stage", {"step": "stage", "warnings": []}),
                               ("activate", {"step": "activate", "kept": ["/home/node/.openclaw/.before-restore-x"]}),
                               ("leave", {"step": "leave"})]]
    return plan


@pytest.mark.runbook_step("make deploy")
def test_official_image_good_upgrade_keeps_the_backup(k8s_repo, tmp_path):
    proc, calls = make_deploy(k8s_repo, tmp_path, official_plan(["2026.8.2 started", "2026.9.6 started"], False))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    archives = list((k8s_repo / "backups").glob("claw-su-*.tar.gz"))
    assert archives and archives[-1].read_text() == ARCHIVE_BYTES
    # its manifest names the release that made it (the one to deploy with it), not the upgrade's target
    manifest = json.loads(Path(f"{archives[-1]}.json").read_text())
    assert manifest["openclaw_version"] == "2026.8.2"
    verbs = [c["argv"][1] for c in calls]
    assert "scale" not in verbs and "set" not in verbs
    assert "pre-update backup stays at backups/claw-su-" in proc.stdout


def test_official_image_failed_upgrade_restores_through_the_restore_pod(k8s_repo, tmp_path):
    plan = official_plan(["2026.8.2 started", "2026.8.2 started"], True)
    proc, calls = make_deploy(k8s_repo, tmp_path, plan)
    assert proc.returncode != 0
    kubectl = [c for c in calls if c["argv"][0] == "kubectl"]
    seq = [" ".join(c["argv"][1:3]) for c in kubectl if c["argv"][1] != "exec"]
    want = ["get deployment", "apply -k", "rollout status", "set image", "rollout status", "get deployment",
            "scale deployment/claw-su", "wait --for=delete", "apply -f", "wait --for=condition=Ready",
            "delete pod", "scale deployment/claw-su", "rollout status"]
    assert seq == want, seq
    scales = [c["argv"][-1] for c in kubectl if c["argv"][1] == "scale"]
    assert scales == ["--replicas=0", "--replicas=1"]
    pod = json.loads(next(c["stdin"] for c in kubectl if c["argv"][1:3] == ["apply", "-f"]))
    spec = pod["spec"]
    assert spec["containers"][0]["image"] == OFFICIAL_OLD
    assert spec["volumes"][0]["persistentVolumeClaim"]["claimName"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    # the upload and restore.mjs (from stdin) ran in the restore pod, not the Deployment
    in_pod = [c for c in kubectl if c["argv"][1] == "exec" and "claw-su-restore" in c["argv"]]
    assert any(c["stdin"] == ARCHIVE_BYTES for c in in_pod)
    assert any("module - stage" in c["argv"][-1] and "openclaw backup restore" in c["stdin"] for c in in_pod)
    assert "rolled back: openclaw 2026.8.2 started on the pre-update state" in proc.stderr


# ---- by hand (RUNBOOK, Upgrading: the way back), on Fly with the recording fly stand-in ----

RECORDING = Path(__file__).resolve().parent / "standins"


@pytest.fixture(scope="module")
def fly_repo(template_repo, tmp_path_factory) -> Path:
    return copy_template(template_repo, tmp_path_factory.mktemp("su-fly") / "deploy",
                         {"platform": "fly", "app_name": "claw-su", "privacy": "private"})


def by_hand(repo: Path, tmp: Path, *args: str, canned: dict[str, str]) -> tuple[subprocess.CompletedProcess, list]:
    (tmp / "canned").mkdir(exist_ok=True)
    for name, text in canned.items():
        (tmp / "canned" / name).write_text(text)
    env = {**os.environ, "STANDIN_LOG": str(tmp / "calls.log"), "STANDIN_DIR": str(tmp / "canned"),
           "DEPLOY_TIMEOUT": "3", "POLL_INTERVAL": "0.05", "PATH": os.pathsep.join([str(RECORDING), os.environ["PATH"]])}
    proc = subprocess.run([sys.executable, "-m", "ops.safe_upgrade", *args], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=120)
    return proc, protocol.argvs(tmp / "calls.log")


def test_arm_and_disarm_set_and_remove_the_watch_flag_through_fly_ssh(fly_repo, tmp_path):
    proc, calls = by_hand(fly_repo, tmp_path, "arm", canned={"fly-ssh-console.txt": ""})
    assert proc.returncode == 0, proc.stderr
    assert calls[-1][:4] == ["fly", "ssh", "console", "-a"] and "> /data/.openclaw-upgrade" in calls[-1][-1]
    proc, calls = by_hand(fly_repo, tmp_path, "disarm", canned={})
    assert proc.returncode == 0 and "rm -f /data/.openclaw-upgrade" in calls[-1][-1]


def test_restore_held_refuses_a_gateway_that_is_not_held(fly_repo, tmp_path):
    target = fly_repo / "backups" / "claw-su-x.tar.gz"
    proc, calls = by_hand(fly_repo, tmp_path, "restore-held", str(target),
                          canned={"fly-ssh-console~package.json.txt": "2026.8.2 started\n"})
    assert proc.returncode == 1
    assert proc.stderr.strip() == "upgrade: the gateway is started, not held in maintenance: use make restore"
    assert len(calls) == 1  # looked, changed nothing
