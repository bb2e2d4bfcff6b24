"""Northflank: everything the ops package knows about it, side by side.

- ``read``: northflank.json (the template: service, volume, secret group) read back;
- ``live``: the service, builds, containers and logs through the REST API (read-only);
- ``cost``: per-hour CPU and memory, volume, egress;
- ``deploy``: the CI deploy, run by the safe upgrade (``safe_upgrade``, bottom);
  ``private_status``: uptime.

API base: platforms.yml ``northflank.api`` (``base``, and ``env``, the variable
that overrides it). Tokens are read from the environment (never argv); every
answer is redacted before it is kept.

Deploy (CI): python3 -m ops.safe_upgrade northflank --project P --service S --commit SHA [--public] --ci

NORTHFLANK_API_TOKEN comes from the environment (the workflow maps the Actions secret of
that name into it); it is never an argument.

Steps: start a build of the commit (POST /projects/{p}/services/{s}/build
{"sha"}), poll the build (GET .../build/{id}) until SUCCESS, then poll the
service (GET /projects/{p}/services/{s}) until its deployment is COMPLETED;
a failed build or deployment fails the job. A public service is then checked
on https://<its public port DNS>/startupz. The token travels only in the
Authorization header. Response fields read here (data.id, data.status, data.status.deployment.status,
data.ports[].dns) follow Northflank's API reference; unchecked against a live account.

Live: the service and its deployment status, the latest builds, the running
containers, recent logs (known failure signatures). Project and service ids are
the app name (Northflank derives ids from names). Response fields follow
Northflank's API reference; unchecked against a live account.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

from .. import checks as c
from .. import cost as co
from .. import declared as d
from .. import live as lv
from .. import model as m
from .. import remote as rm
from .. import signatures as sig
from ..ci_http import DeployError, NotDeployed, api, poll, say, secret_env, wait_started
from ..live_api import ApiClient, describe_failure
from ..remote import app_values as remote_values  # noqa: F401  (the app name is all its argv needs)
from . import api_base

Result = c.Result
PASS, FAIL, WARN, SKIP = c.PASS, c.FAIL, c.WARN, c.SKIP
REMOTE_NEEDS: tuple[str, ...] = ()


# --------------------------------------------------------------------- files --


def _walk_nodes(node: Any):
    """Every node of a Northflank template workflow, depth first."""
    if isinstance(node, dict):
        if "kind" in node:
            yield node
        for value in node.values():
            yield from _walk_nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_nodes(value)


def read(root: Path, declared: d.Declared) -> None:
    """northflank.json template: the combined service, its volume, its secret group."""
    template = d.load_json(root / "northflank.json", declared)
    if not isinstance(template, dict):
        return
    nodes = list(_walk_nodes(template.get("spec")))
    services = [n["spec"] for n in nodes if n.get("kind") == "CombinedService"]
    if len(services) != 1:
        declared.problems.append(f"northflank.json: expected one CombinedService, found {len(services)}")
        return
    service = services[0]
    docker = (service.get("deployment") or {}).get("docker") or {}
    if docker.get("configType") in ("customCommand", "customEntrypointCustomCommand") and docker.get("customCommand"):
        d.record_command(declared, "northflank.json customCommand", shlex.split(docker["customCommand"]))
    else:
        d.image_command(declared, "Dockerfile CMD")
    d.record_env(declared, "northflank.json runtimeEnvironment",
                {k: str(v) for k, v in (service.get("runtimeEnvironment") or {}).items()})
    public = False
    for port in service.get("ports") or []:
        declared.ports[f"northflank.json port {port.get('name')}"] = port.get("internalPort")
        public = public or bool(port.get("public"))
    for check in service.get("healthChecks") or []:
        declared.ports[f"northflank.json {check.get('type')} port"] = check.get("port")
        declared.health_paths[f"northflank.json {check.get('type')}"] = check.get("path", "")
    plan = (service.get("billing") or {}).get("deploymentPlan")
    mem = d.size_memory(declared.platform, plan) if plan else None
    if mem:
        declared.memory_mb[f"northflank.json plan {plan}"] = mem
    for volume in (n["spec"] for n in nodes if n.get("kind") == "Volume"):
        for mount in volume.get("mounts") or []:
            declared.mounts[f"northflank.json volume {volume.get('name')}"] = mount.get("containerMountPath", "")
    declared.public_ingress = public


def validate(root: Path, model: m.DeployModel) -> list[c.Result]:
    return []  # no offline validator for northflank.json here


# -------------------------------------------------------------------- deploy --


API = "https://api.northflank.com/v1"
# Status values of Northflank's API, from @northflank/js-client 0.9.5 dist/esm/api-client.d.ts
# (read 2026-12-02; tests/test_northflank_api.py compares with the package):
#   build: QUEUED PENDING UNSCHEDULABLE STARTING CLONING BUILDING UPLOADING ABORTED FAILURE
#          SUBMISSION_FAILURE SUCCESS CRASHED IN_PROGRESS
#   service deployment: PENDING IN_PROGRESS COMPLETED FAILED
# UNSCHEDULABLE (no room for the build yet) is waited on, like QUEUED: it may still start.
BUILD_OK = "SUCCESS"
BUILD_FAILED = frozenset({"ABORTED", "FAILURE", "SUBMISSION_FAILURE", "CRASHED"})
DEPLOY_OK = "COMPLETED"
DEPLOY_FAILED = frozenset({"FAILED"})


def base() -> str:
    return api_base('northflank', os.environ)


def data(answer) -> dict:
    return (answer or {}).get("data") or {} if isinstance(answer, dict) else {}


def deployment_status(service: dict) -> str:
    return str(((service.get("status") or {}).get("deployment") or {}).get("status"))


def deployed_sha(service: dict) -> str | None:
    """The commit the service runs, where the answer names it (deployment.internal.deployedSHA; unchecked)."""
    internal = ((service.get("deployment") or {}).get("internal") or {})
    return internal.get("deployedSHA") or internal.get("buildSHA")


def public_dns(service: dict) -> str:
    for port in service.get("ports") or []:
        if port.get("public") and port.get("dns"):
            return str(port["dns"])
    return ""


def deploy(project: str, service: str, commit: str, public: bool) -> None:
    token = secret_env("NORTHFLANK_API_TOKEN")
    path = f"/projects/{project}/services/{service}"
    build = data(api("POST", base(), path + "/build", token, {"sha": commit}))
    build_id = build.get("id")
    if not build_id:
        raise NotDeployed(f"Northflank started no build of {commit} (no data.id in the answer)")
    say(f"Northflank build {build_id} of {commit[:12]} for {project}/{service}")

    def build_done() -> tuple[bool, str]:
        status = str(data(api("GET", base(), f"{path}/build/{build_id}", token)).get("status"))
        return status == BUILD_OK, status

    # a build's terminal failure: nothing new was deployed, the previous build still runs
    poll(f"Northflank build {build_id}", build_done, failed=lambda s: s in BUILD_FAILED,
         nothing_new=lambda s: s in BUILD_FAILED)
    last: dict = {}

    def running() -> tuple[bool, str]:
        last.clear()
        last.update(data(api("GET", base(), path, token)))
        status = deployment_status(last)
        running = deployed_sha(last)
        if running and running != commit:  # still the previous release
            return False, f"{status} (running {running[:12]}, not yet {commit[:12]})"
        return status == DEPLOY_OK, status

    poll(f"Northflank deployment of {service}", running, failed=lambda s: s in DEPLOY_FAILED)
    if public:
        dns = public_dns(last)
        if not dns:
            raise DeployError(f"service {service} has no public port DNS (data.ports[].dns)")
        wait_started(f"https://{dns}/startupz")
    say(f"{service}: build {build_id} deployed" + (" and answers /startupz" if public else ""))


# ---------------------------------------------------------------------- live --


Result = c.Result
PASS, FAIL, WARN = c.PASS, c.FAIL, c.WARN
RUNNING = {"TASK_RUNNING"}   # container status (TASK_RUNNING, TASK_STARTING, ... TASK_FAILED: same client types)
TOKEN_FIX = ("create a team API token with read access to the project (Team settings > API), then in this "
             "shell: `read -rs NORTHFLANK_API_TOKEN && export NORTHFLANK_API_TOKEN` (hidden input) and run again")


def _data(body: Any) -> Any:
    return body.get("data") if isinstance(body, dict) else None


def live(live: lv.Live) -> list[Result]:
    env = live.runner.env
    token = env.get("NORTHFLANK_API_TOKEN", "")
    if not token:
        return [Result("Northflank API token present", FAIL, "NORTHFLANK_API_TOKEN is not set in the environment",
                       TOKEN_FIX)]
    api = ApiClient(live.runner, api_base('northflank', env), token)
    project = live.options.get("project") or live.app
    path = f"/projects/{project}/services/{live.app}"
    status, body = api.get(path)
    svc = _data(body) or {}
    if status != 200:
        fix = TOKEN_FIX if status in (401, 403) else (
            "create it from northflank.json (RUNBOOK.md, First deploy), or pass app=<service>" if status == 404
            else "check the network and NORTHFLANK_API_URL")
        return [Result("service (Northflank API)", FAIL, describe_failure(status, body, f"GET {path}"), fix)]
    dep = str(((svc.get("status") or {}).get("deployment") or {}).get("status"))
    bstat = str(((svc.get("status") or {}).get("build") or {}).get("status"))
    results = [Result("service deployment", PASS if dep == DEPLOY_OK else (WARN if dep in ("PENDING", "IN_PROGRESS") else FAIL),
                      f"deployment={dep} build={bstat}",
                      "" if dep == DEPLOY_OK else "read the containers and logs below; "
                      "`make deploy` or push to main to deploy again")]

    status, body = api.get(path + "/build?per_page=5")
    builds = (_data(body) or {}).get("builds", []) if status == 200 and isinstance(_data(body), dict) else []
    if status != 200:
        results.append(Result("latest build", WARN, describe_failure(status, body, "GET builds"), TOKEN_FIX))
    elif not builds:
        results.append(Result("latest build", FAIL, "no build", "push to main (the workflow starts a build)"))
    else:
        latest = builds[0]
        state = str(latest.get("status"))
        seen = ", ".join(f"{b.get('id')}={b.get('status')} {str(b.get('sha', ''))[:12]}" for b in builds[:3])
        results.append(Result("latest build", FAIL if state in BUILD_FAILED else PASS, seen,
                              "read the build log in Northflank (Builds > the build); check the Dockerfile"
                              if state in BUILD_FAILED else ""))

    status, body = api.get(path + "/containers")
    containers = (_data(body) or {}).get("containers", []) if status == 200 and isinstance(_data(body), dict) else []
    if status != 200:
        results.append(Result("containers running", WARN, describe_failure(status, body, "GET containers"), TOKEN_FIX))
    else:
        down = [x for x in containers if str(x.get("status")) not in RUNNING]
        results.append(Result("containers running", FAIL if down or not containers else PASS,
                              ", ".join(f"{x.get('name')}={x.get('status')}" for x in containers) or "no container",
                              f"a container that is not running: read the logs below; exit 78 = refused config "
                              f"(token/bind), OOMKilled = raise the plan above {live.model.memory_mb} MB"
                              if down or not containers else ""))

    # the client asks for a range of lines with queryType=range (LogsRangeConfig, js-client 0.9.5)
    status, body = api.get(path + "/logs?queryType=range&lineLimit=200")
    if status != 200:
        results.append(Result("recent logs", WARN, describe_failure(status, body, "GET logs"),
                              "read the logs in Northflank"))
    else:
        lines = _data(body) if isinstance(_data(body), list) else (body if isinstance(body, list) else [])
        text = "\n".join(str(x.get("log", x.get("message", ""))) if isinstance(x, dict) else str(x) for x in lines)
        for r in sig.signature_results("recent logs", text, "Northflank logs"):
            r.seen = live.runner.redact(r.seen)
            results.append(r)
    return results


# ---------------------------------------------------------------------- cost --


def cost(p: dict[str, Any], est: co.Estimate, s: co.Sizing) -> None:
    vcpu, memory_mb, volume_gb, egress_gb = s.vcpu, s.memory_mb, s.volume_gb, s.egress_gb
    hours = min(est.hours, p["month_hours"])
    gb = memory_mb / 1024
    est.vcpu = vcpu
    est.sku = next((n for n, s in p["plans"].items() if s["vcpu"] == vcpu and s["memory_mb"] == memory_mb),
                   f"{vcpu:g} vCPU / {memory_mb} MB")
    est.items += [
        co.Item("cpu", round(vcpu * p["vcpu_hour"] * hours, 2), f"{vcpu:g} vCPU x {p['vcpu_hour']}/h x {hours:g} h",
             p["source"], p["as_of"]),
        co.Item("memory", round(gb * p["gb_hour"] * hours, 2), f"{gb:g} GB x {p['gb_hour']}/h x {hours:g} h",
             p["source"], p["as_of"]),
        co.volume_item(p, volume_gb, p["volume_gb_month"]),
        co.egress_item(p, egress_gb, p["egress_per_gb"]),
    ]


# -------------------------------------------------------------------- uptime --


def private_status(app: str, _service: str, _environment: str) -> tuple[bool, str]:

    token = secret_env("NORTHFLANK_API_TOKEN")
    service = data(api("GET", base(), f"/projects/{app}/services/{app}", token))
    status = deployment_status(service)
    return status == DEPLOY_OK, f"deployment status {status}"

# ------------------------------------------------- scheduled backup credentials --
# .github/workflows/backup.yml: the step's env holds the secrets (ci.yml `backup.secrets`);
# this turns them into what the CLI reads, in ``workdir`` (0700, removed by the caller).


def ci_credentials(model: m.DeployModel, env: dict[str, str], workdir: Path) -> None:
    rm.need(env, "NORTHFLANK_API_TOKEN")
    try:
        proc = subprocess.run(["northflank", "login", "-n", "backup", "-t", env["NORTHFLANK_API_TOKEN"]],
                              env=env, capture_output=True, timeout=120)
    except FileNotFoundError:
        raise rm.RemoteError("`northflank` is not installed (needed to reach the northflank deploy)") from None
    if proc.returncode:  # its output may echo the context, never the token: only the last line
        raise rm.RemoteError(f"northflank login failed ({proc.returncode}): "
                          f"{rm._last_line(proc.stderr).replace(env['NORTHFLANK_API_TOKEN'], '***')}")

# ------------------------------------------------------------------ safe upgrade --
# ops/safe_upgrade.py's automated path (the CI deploy job):
#   python -m ops.safe_upgrade northflank --project P --service S --commit SHA [--public] [--ci]
# What runs now: the commit the service's deployment runs (data.deployment.internal.deployedSHA),
# the release through `northflank exec` (ops/remote.py; in CI after `northflank login` with the
# deploy token, as the scheduled backup does). The deploy is the CI deploy above. The way back is
# the previous build: POST /projects/{p}/services/{s}/deployment {"internal": {"buildSHA": SHA}}
# (UpdateServiceDeploymentEndpoint of @northflank/js-client 0.9.5, "Project > Services >
# Deployment > Update Deployment"; Northflank's API reference marks it deprecated in favour of
# the PATCH of the combined service, and a `rollout/rollback` to a deployment id exists for gradual
# rollouts). Unchecked against a live account: that a combined service pinned to a SHA this way
# still deploys the next CI build (the deploy waits for deployedSHA == the commit, so a pinned
# service fails that wait visibly rather than silently).

SAFE_UPGRADE_HELP = "build and deploy this commit on Northflank with a pre-update backup and a way back"


def safe_upgrade_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--commit", required=True)
    parser.add_argument("--public", action="store_true")
    parser.add_argument("--ci", action="store_true", help="the CI job: `northflank login` with the deploy token first")
    parser.add_argument("--backups", default="backups")


def _ci_login(model: m.DeployModel, say) -> rm.Remote | None:
    """`northflank login` with the deploy token (the CLI takes it only as -t; the scheduled backup
    does the same); a failed login leaves no exec, so no backup (said)."""
    import tempfile

    try:
        ci_credentials(model, dict(os.environ), Path(tempfile.gettempdir()))
    except rm.RemoteError as err:
        why = f"{err}: Northflank's exec is out of reach, so the deploy runs without a pre-update backup"
        say(f"::warning::{why}")
        return rm.Unreachable("northflank", model.app_name, why)
    return None


def safe_upgrade(model: m.DeployModel, args: argparse.Namespace, say=print) -> Any:
    from .. import safe_upgrade as su

    wrapped = su.as_upgrade_error
    token = wrapped(secret_env)("NORTHFLANK_API_TOKEN")
    path = f"/projects/{args.project}/services/{args.service}"
    remote = _ci_login(model, say) if args.ci else None

    def current() -> str:
        try:
            service = data(api("GET", base(), path, token))
        except DeployError as err:
            say(f"Northflank: the service could not be read ({err}): no build to go back to")
            return ""
        return str(deployed_sha(service) or "") if deployment_status(service) == DEPLOY_OK else ""

    def deploy_commit() -> None:  # NotDeployed when the build failed
        deploy(args.project, args.service, args.commit, args.public)

    def rollback(sha: str) -> None:
        api("POST", base(), path + "/deployment", token, {"internal": {"buildSHA": sha}})
        say(f"Northflank: the deployment of {args.service} set back to the build of {sha[:12]} "
            "(it boots held in maintenance while the watch flag is on the volume)")

    return su.Platform(label="Northflank", current_image=wrapped(current),
                       deploy=wrapped(deploy_commit),
                       rollback=wrapped(rollback), remote=remote)
