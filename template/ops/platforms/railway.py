"""Railway: everything the ops package knows about it, side by side.

- ``read``: railway.json + config/railway.env read back;
- ``live``: ``railway status`` / variables / logs (the live runbook);
- ``cost``: usage-based lines and the plan minimum;
- ``deploy``: the CI deploy, run by the safe upgrade (``safe_upgrade``, bottom);
  ``private_status``: uptime.

Deploy (CI): python3 -m ops.safe_upgrade railway --service NAME --environment ENV [--public-url https://HOST] --ci
Deploy (make deploy): python -m ops.safe_upgrade railway --service NAME --environment ENV

CI: RAILWAY_TOKEN comes from the environment (the workflow maps the Actions secret of
that name into it); it is never an argument. make deploy: the CLI's own login runs
`railway up`; the way back needs RAILWAY_TOKEN or RAILWAY_API_TOKEN in the environment
(``rollback_credential``), and without one prints it by hand.

Steps: note the service's latest deployment (`railway status --json --environment ENV`),
run `railway up --ci --service NAME --environment ENV` (uploads and builds this
checkout; the project token in RAILWAY_TOKEN selects the project), then poll the
status until a newer deployment of the service is SUCCESS;
FAILED / CRASHED fail the job. Without --environment the status lists every
environment of the project, so the service is looked up in ENV only. A public
service is then checked on
<public-url>/startupz. The token stays in the environment, never argv.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
from pathlib import Path
from typing import Any, Iterable

from .. import checks as c
from .. import cost as co
from .. import declared as d
from .. import live as lv
from .. import model as m
from .. import remote as rm
from .. import signatures as sig
from ..ci_http import DeployError, NotDeployed, poll, say, secret_env, wait_started
from ..remote import app_values as remote_values  # noqa: F401  (the app name is all its argv needs)

Result = c.Result
PASS, FAIL, WARN, SKIP = c.PASS, c.FAIL, c.WARN, c.SKIP
REMOTE_NEEDS: tuple[str, ...] = ()

# `railway logs` streams unless given a line count or a start time: ops/runner.py refuses such
# an argv (it would hang a notebook or a runbook). An entry ending in `=` is a prefix.
STREAMING_LOGS = {"programs": ("railway",), "bounded_by": ("-n", "--lines", "--since", "--lines=", "--since="),
                  "reason": "railway logs streams unless given -n or --since"}


# --------------------------------------------------------------------- files --


RAILWAY_ENV = "config/railway.env"


def read(root: Path, declared: d.Declared) -> None:
    """railway.json (build, start command, health check) + config/railway.env
    (the service variables scripts/secrets.sh sets)."""
    railway = d.load_json(root / "railway.json", declared)
    if not isinstance(railway, dict):
        return
    deploy = railway.get("deploy") or {}
    if (railway.get("build") or {}).get("builder") != "DOCKERFILE":
        declared.problems.append("railway.json: build.builder is not DOCKERFILE (the image would not be ours)")
    start = deploy.get("startCommand")
    if start:
        argv = shlex.split(start)
        if "/usr/local/bin/openclaw-deploy-entrypoint" not in argv:
            declared.problems.append(
                "railway.json: startCommand replaces the image ENTRYPOINT on Railway; without "
                "/usr/local/bin/openclaw-deploy-entrypoint the volume is not chowned and no config is seeded")
        d.record_command(declared, "railway.json startCommand", argv)
    else:
        d.image_command(declared, "Dockerfile CMD")
    if deploy.get("healthcheckPath"):
        declared.health_paths["railway.json healthcheckPath"] = deploy["healthcheckPath"]
    if deploy.get("requiredMountPath"):
        declared.mounts["railway.json requiredMountPath"] = deploy["requiredMountPath"]
    env_path = root / RAILWAY_ENV
    if not env_path.exists():
        declared.problems.append(f"{RAILWAY_ENV} is missing")
        return
    env = d.parse_dotenv(env_path.read_text(encoding="utf-8"))
    declared.env = {**declared.image_env}
    d.record_env(declared, RAILWAY_ENV, env)
    if env.get("PORT", "").isdigit():
        declared.ports[f"{RAILWAY_ENV} PORT"] = int(env["PORT"])
    # Public networking is a dashboard/CLI setting, not part of these files.
    declared.public_ingress = None


def validate(root: Path, model: m.DeployModel) -> list[c.Result]:
    return []  # no offline validator for railway.json here


# ---------------------------------------------------------------------- live --


def railway_services(status: Any) -> list[dict[str, Any]]:
    """``railway status --json``: services under ``environments.edges[].node.serviceInstances``."""
    out: list[dict[str, Any]] = []

    def nodes(value: Any) -> Iterable[dict[str, Any]]:
        if isinstance(value, dict) and "edges" in value:
            value = value["edges"]
        for item in value or []:
            if isinstance(item, dict):
                yield item.get("node", item)

    for env in nodes((status or {}).get("environments")):
        for inst in nodes(env.get("serviceInstances")):
            deploy = inst.get("latestDeployment") or {}
            out.append({"environment": env.get("name"), "service": inst.get("serviceName") or inst.get("name"),
                        "status": deploy.get("status") or inst.get("status")})
    return out


RAILWAY_PLAIN = {"PORT", "OPENCLAW_STATE_DIR", "OPENCLAW_WORKSPACE_DIR", "NODE_OPTIONS", "RAILWAY_RUN_UID"}


def scrub_variables(text: str) -> str:
    """``railway variables --json`` prints values: keep names, hide every value
    except a few non-secret settings the checks compare."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return "(not JSON; hidden)"
    if not isinstance(data, dict):
        return "(hidden)"
    return json.dumps({k: (v if k in RAILWAY_PLAIN else "***") for k, v in data.items()}, sort_keys=True)


def live(live: lv.Live) -> list[Result]:
    r, model = live.runner, live.model
    missing = lv.need(live, "railway", "install the Railway CLI and `railway link` this repo")
    if missing:
        return [missing]
    status, bad = lv.json_or_fail(r.run(["railway", "status", "--json"]), "project linked (railway status)",
                                "`railway login` and `railway link`")
    if bad:
        return [bad]
    services = railway_services(status)
    failing = [s for s in services if str(s["status"]).upper() not in ("SUCCESS", "RUNNING", "DEPLOYED")]
    results = [Result("deployments", FAIL if failing or not services else PASS,
                      ", ".join(f"{s['service']}={s['status']}" for s in services) or "no service",
                      "`railway logs -n 200` for the failing service" if failing or not services else "")]
    rec = r.run(["railway", "variables", "--json"], scrub=scrub_variables)
    try:
        variables = json.loads(rec.raw_stdout) if rec.exit_code == 0 else {}
    except json.JSONDecodeError:
        variables = {}
    state = variables.get("OPENCLAW_STATE_DIR")
    results.append(Result("OPENCLAW_STATE_DIR on the volume", PASS if state == model.state_dir else FAIL,
                          f"OPENCLAW_STATE_DIR={state!r}; expected {model.state_dir}",
                          "" if state == model.state_dir else f"railway variables --set OPENCLAW_STATE_DIR={model.state_dir}"))
    for name in model.secret_names[:1]:
        results.append(Result(f"secret {name} set", PASS if name in variables else FAIL,
                              "present (value hidden)" if name in variables else "missing", "" if name in variables else "make secrets"))
    logs = r.run(["railway", "logs", "-n", "200"])
    results += sig.signature_results("recent logs", logs.stdout + logs.stderr, "railway logs")
    return results


# ---------------------------------------------------------------------- cost --


def cost(p: dict[str, Any], est: co.Estimate, s: co.Sizing) -> None:
    vcpu, memory_mb, volume_gb, egress_gb = s.vcpu, s.memory_mb, s.volume_gb, s.egress_gb
    frac = co.fraction(est.hours, p["month_hours"])
    gb = memory_mb / 1024
    est.vcpu = vcpu
    ram = round(gb * p["ram_gb_month"] * frac, 2)
    cpu = round(vcpu * p["vcpu_month"] * frac, 2)
    vol = co.volume_item(p, volume_gb, p["volume_gb_month"])
    if vol.amount:  # `railway volume add` takes no size: billed on the GB stored
        vol = co.Item(vol.name, vol.amount, f"{vol.detail} (billed on GB stored; ceiling)", vol.source, vol.as_of)
    egress = co.egress_item(p, egress_gb, p["egress_per_gb"])
    usage = ram + cpu + (vol.amount or 0) + (egress.amount or 0)
    est.sku = f"{p['plan']} (usage-based)"
    est.items += [
        co.Item("memory", ram, f"{gb:g} GB x {p['ram_gb_month']}/GB-month x {frac:.2f} (measured; ceiling)",
             p["source"], p["as_of"]),
        co.Item("cpu", cpu, f"{vcpu:g} vCPU x {p['vcpu_month']}/vCPU-month x {frac:.2f} (measured; ceiling)",
             p["source"], p["as_of"]),
        vol,
        egress,
    ]
    top_up = round(max(0.0, p["plan_minimum"] - usage), 2)
    est.floor = round(max(p["plan_minimum"], (vol.amount or 0) + (egress.amount or 0)), 2)
    est.items.append(co.Item("plan minimum top-up", top_up,
                          f"{p['plan']} bills max({p['plan_minimum']:.2f}, usage); usage {usage:.2f}",
                          p["source"], p["as_of"]))


# -------------------------------------------------------------------- deploy --


OK = {"SUCCESS"}
FAILED = {"FAILED", "CRASHED", "REMOVED", "SKIPPED"}


def _nodes(value: Any) -> Iterable[dict]:
    if isinstance(value, dict) and "edges" in value:
        value = value["edges"]
    for item in value or []:
        if isinstance(item, dict):
            yield item.get("node", item)


def latest_deployment(status: Any, service: str, environment: str) -> dict:
    """{id, status} of the service's latest deployment in `railway status --json`, in one environment."""
    for env in _nodes((status or {}).get("environments")):
        if env.get("name") != environment:
            continue
        for inst in _nodes(env.get("serviceInstances")):
            if (inst.get("serviceName") or inst.get("name")) == service:
                return dict(inst.get("latestDeployment") or {})
    return {}


def railway_status(service: str, environment: str) -> dict:
    try:
        proc = subprocess.run(["railway", "status", "--json", "--environment", environment],
                              capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise DeployError("`railway` is not installed (the Railway CLI: README, Go live)") from None
    if proc.returncode:
        raise DeployError(f"railway status --json: exit {proc.returncode}: {proc.stderr.strip()[:300]}")
    try:
        return latest_deployment(json.loads(proc.stdout), service, environment)
    except json.JSONDecodeError as exc:
        raise DeployError("railway status --json did not print JSON") from exc


def deploy(service: str, environment: str, public_url: str | None) -> None:
    """`railway up --ci` (uploads this directory, streams the build, exits with the build's result),
    then the wait for the new deployment. A failed upload or build made no deployment: NotDeployed."""
    before = railway_status(service, environment).get("id")
    say(f"railway up --ci --service {service} --environment {environment} (previous deployment: {before or 'none'})")
    up = subprocess.run(["railway", "up", "--ci", "--service", service, "--environment", environment], timeout=3600)
    if up.returncode:
        raise NotDeployed(f"railway up failed (exit {up.returncode}): read the build log above; "
                          f"deployment {before or '(none)'} was not replaced")

    def live() -> tuple[bool, str]:
        dep = railway_status(service, environment)
        status = str(dep.get("status")).upper()
        if dep.get("id") == before and before:
            return False, f"{status} (still the previous deployment {before})"
        return status in OK, status

    poll(f"Railway deployment of {service}", live, failed=lambda s: s.split()[0] in FAILED)
    if public_url is not None:
        if not public_url.strip():
            raise DeployError("OPENCLAW_PUBLIC_URL is empty: set the repository variable to the service's "
                              "https:// domain (Settings > Networking in Railway)")
        wait_started(public_url.rstrip("/") + "/startupz")
    say(f"{service}: deployed and live")


def private_status(app: str, _service: str, environment: str) -> tuple[bool, str]:

    secret_env("RAILWAY_TOKEN")
    dep = railway_status(app, environment)
    status = str(dep.get("status")).upper()
    return status in OK, f"latest deployment {dep.get('id') or '?'}: {status}"

# ------------------------------------------------- scheduled backup credentials --
# .github/workflows/backup.yml: the step's env holds the secrets (ci.yml `backup.secrets`);
# this turns them into what the CLI reads, in ``workdir`` (0700, removed by the caller).


def ci_credentials(model: m.DeployModel, env: dict[str, str], workdir: Path) -> None:
    rm.need(env, "RAILWAY_TOKEN")  # the project token; the service and environment are on the argv


def ci_values(model: m.DeployModel) -> dict[str, str]:
    """The job names the environment on the argv (a person's linked directory knows it)."""
    return {"environment": str(m.load("ci")["tools"]["railway"]["environment"])}

# ------------------------------------------------------------------ safe upgrade --
# ops/safe_upgrade.py's automated path (the CI deploy job, and make deploy without --ci):
#   python -m ops.safe_upgrade railway --service NAME --environment ENV [--public-url URL] [--ci]
# What runs now: the service's latest deployment in ENV (`railway status --json`) when it is
# SUCCESS, the release through `railway ssh` (ops/remote.py; the job's argv names the service and
# environment). The deploy is the CI deploy above (`railway up --ci`). The way back is Railway's
# own rollback of the deployment that ran before: the public GraphQL API's
# `deploymentRollback(id)` (the dashboard's Rollback; the CLI 5.63.1 has only `redeploy`, which
# redeploys the LATEST deployment, the failed one), sent with the project token in the
# Project-Access-Token header (CI), or with RAILWAY_TOKEN / RAILWAY_API_TOKEN (make deploy: TOKENS
# below; without either, no rollback from here and the way back is printed, ``by_hand``). The
# mutation's name and argument are as public clients call it and a schema introspection reported;
# not checked against a live account here. Railway builds the image from the upload, so a change of
# release is what takes the safe path.

SAFE_UPGRADE_HELP = "railway up with a pre-update backup and a way back (Railway's deployment rollback)"
ROLLBACK = "mutation deploymentRollback($id: String!) { deploymentRollback(id: $id) }"
# The tokens Railway's API takes, in the order the CLI reads them (railwayapp/cli src/client.rs,
# docs.rs; docs.railway.com/reference/public-api, read 2026-12-02): a project token (one project and
# environment) in RAILWAY_TOKEN, sent as Project-Access-Token; an account or workspace token in
# RAILWAY_API_TOKEN, sent as Authorization: Bearer. The CLI's own `railway login` session is not read.
TOKENS = (("RAILWAY_TOKEN", "Project-Access-Token"), ("RAILWAY_API_TOKEN", "Authorization"))


def safe_upgrade_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--service", required=True)
    parser.add_argument("--environment", required=True)
    parser.add_argument("--public-url", default=None)
    parser.add_argument("--ci", action="store_true", help="the CI job: RAILWAY_TOKEN (a project token) is required")
    parser.add_argument("--backups", default="backups")


def rollback_credential(env=os.environ) -> tuple[str, str, str] | None:
    """(variable, token, header) of the first token set, or None: no rollback from here."""
    for name, header in TOKENS:
        if env.get(name, "").strip():
            return name, env[name].strip(), header
    return None


def rollback_deployment(token: str, deployment_id: str, header: str = "Project-Access-Token") -> None:
    from . import api_base
    from ..ci_http import api

    answer = api("POST", api_base("railway"), "", token, {"query": ROLLBACK, "variables": {"id": deployment_id}},
                 header=header)
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if errors or not isinstance(answer, dict) or not (answer.get("data") or {}).get("deploymentRollback"):
        detail = "; ".join(str(e.get("message", e))[:200] for e in errors or [] if isinstance(e, dict))
        raise DeployError(f"Railway deploymentRollback({deployment_id}) was refused: {detail or json.dumps(answer)[:200]}")


def by_hand(service: str, previous: str, archive: Path | None) -> str:
    """The way back without a token: the dashboard's Rollback, then make restore (which restores into
    the hold the watch flag leaves and removes that flag)."""
    where = f"Railway dashboard > {service} > Deployments > {previous} > Rollback"
    if archive is None:
        return f"{where} (no RAILWAY_TOKEN or RAILWAY_API_TOKEN here for Railway's rollback)"
    return (f"{where}, then make restore ARCHIVE={archive} ARGS=--yes (no RAILWAY_TOKEN or RAILWAY_API_TOKEN "
            "here for Railway's rollback)")


def safe_upgrade(model: m.DeployModel, args: argparse.Namespace, say=print) -> Any:
    from .. import safe_upgrade as su

    wrapped = su.as_upgrade_error
    if args.ci:  # the deploy environment's project token (ci.yml secrets)
        credential = ("RAILWAY_TOKEN", wrapped(secret_env)("RAILWAY_TOKEN"), "Project-Access-Token")
    else:  # make deploy: `railway login` runs the CLI; the API's rollback needs a token of its own
        credential = rollback_credential()
    if args.public_url is not None and not args.public_url.strip():  # before anything runs
        raise su.UpgradeError("OPENCLAW_PUBLIC_URL is empty: set the repository variable to the service's "
                              "https:// domain (Settings > Networking in Railway)")
    # exec names the service and the environment (not whatever this directory is linked to)
    remote = rm.connect(model, ci=True)
    remote.values["environment"] = args.environment
    if credential is None:
        say("upgrade: no RAILWAY_TOKEN or RAILWAY_API_TOKEN in the environment: the backup, the deploy and the "
            "wait run; a failure is not undone from here: the way back by hand is printed")

    def current() -> str:
        dep = railway_status(args.service, args.environment)
        return str(dep.get("id") or "") if str(dep.get("status")).upper() in OK else ""

    def deploy_upload() -> None:  # NotDeployed when `railway up` failed (no new deployment)
        deploy(args.service, args.environment, args.public_url)

    def rollback(deployment_id: str) -> None:
        name, token, header = credential
        rollback_deployment(token, deployment_id, header)
        say(f"Railway rollback to deployment {deployment_id} started with {name} (it boots held in maintenance "
            "while the watch flag is on the volume)")

    return su.Platform(label="Railway", current_image=wrapped(current),
                       deploy=wrapped(deploy_upload),
                       rollback=wrapped(rollback) if credential else None,
                       by_hand=lambda previous, archive: by_hand(args.service, previous, archive),
                       remote=remote)
