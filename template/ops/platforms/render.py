"""Render: everything the ops package knows about it, side by side.

- ``read``: render.yaml (the Blueprint's docker service) read back;
- ``live``: the service, deploys, disk and logs through the REST API (read-only);
- ``cost``: the flat plan (ops.cost.flat), disk, egress;
- ``remote_values``: the SSH target of ``transfer`` (needs RENDER_SERVICE_ID);
- ``deploy``: the CI deploy, run by the safe upgrade (``safe_upgrade``, bottom);
  ``private_status``: uptime.

API base: platforms.yml ``render.api`` (``base``, and ``env``, the variable that
overrides it). The API key is read from RENDER_API_KEY in the environment (never
argv); every answer is redacted before it is kept.

Deploy (CI): python3 -m ops.safe_upgrade render --service NAME --commit SHA [--public] --ci

RENDER_API_KEY comes from the environment (the workflow maps the Actions secret of
that name into it); it is never an argument.

Steps: find the service by name (GET /services?name=), trigger a deploy of
the commit (POST /services/{id}/deploys {"commitId"}), poll the deploy
(GET /services/{id}/deploys/{deployId}) until ``live``; a failed status fails
the job. A public service is then checked on https://<its URL>/startupz.
The API key travels only in the Authorization header. What the deploy job
imports needs the standard library only (the job installs nothing).

Live: the service (exists, not suspended), its latest deploys and their
status, the persistent disk (mounted at the state dir), recent logs (known
failure signatures).
"""

from __future__ import annotations

import argparse
import os
import shlex
import urllib.parse
from pathlib import Path
from typing import Any

from .. import checks as c
from .. import declared as d
from .. import live as lv
from .. import model as m
from .. import remote as rm
from .. import signatures as sig
from ..ci_http import DeployError, api, poll, say, secret_env, wait_started
from ..cost import flat as cost
from ..live_api import ApiClient, describe_failure
from ..remote import RemoteError
from . import api_base

Result = c.Result
PASS, FAIL, WARN, SKIP = c.PASS, c.FAIL, c.WARN, c.SKIP
REMOTE_NEEDS = ("RENDER_SERVICE_ID",)


# --------------------------------------------------------------------- files --


def read(root: Path, declared: d.Declared) -> None:
    """render.yaml Blueprint: the web (public) or pserv (private) service."""
    blueprint = d.load_yaml(root / "render.yaml", declared)
    if not isinstance(blueprint, dict):
        return
    services = [s for s in blueprint.get("services") or [] if s.get("runtime") == "docker"]
    if len(services) != 1:
        declared.problems.append(f"render.yaml: expected one docker service, found {len(services)}")
        return
    service = services[0]
    if service.get("dockerCommand"):
        d.record_command(declared, "render.yaml dockerCommand", shlex.split(service["dockerCommand"]))
    else:
        d.image_command(declared, "Dockerfile CMD")
    env = {e["key"]: str(e["value"]) for e in service.get("envVars") or [] if "value" in e}
    d.record_env(declared, "render.yaml envVars", env)
    if env.get("PORT", "").isdigit():
        declared.ports["render.yaml envVars PORT"] = int(env["PORT"])
    if service.get("healthCheckPath"):
        declared.health_paths["render.yaml healthCheckPath"] = service["healthCheckPath"]
    disk = service.get("disk")
    if disk:
        declared.mounts[f"render.yaml disk {disk.get('name')}"] = disk.get("mountPath", "")
    if service.get("plan"):
        mem = d.size_memory(declared.platform, service["plan"])
        if mem:
            declared.memory_mb[f"render.yaml plan {service['plan']}"] = mem
    declared.public_ingress = service.get("type") == "web"


def validate(root: Path, model: m.DeployModel) -> list[c.Result]:
    return []  # no offline validator for render.yaml here


# -------------------------------------------------------------------- deploy --


API = "https://api.render.com/v1"
LIVE = "live"
FAILED = {"build_failed", "update_failed", "canceled", "pre_deploy_failed", "deactivated"}
# the build or the pre-deploy command failed: nothing new started, the live deploy stays (NotDeployed)
NOT_DEPLOYED = frozenset({"build_failed", "pre_deploy_failed"})


def base() -> str:
    return api_base('render', os.environ)


def find_service(token: str, name: str) -> dict:
    """The service named ``name`` (list items are {"service": {...}, "cursor": ...})."""
    items = api("GET", base(), f"/services?{urllib.parse.urlencode({'name': name, 'limit': 20})}", token) or []
    services = [(i.get("service") if isinstance(i, dict) and "service" in i else i) for i in items]
    found = [s for s in services if isinstance(s, dict) and s.get("name") == name]
    if not found:
        raise DeployError(f"no Render service named {name!r}: create the Blueprint first (RUNBOOK.md, First deploy)")
    return found[0]


def service_url(service: dict) -> str:
    return ((service.get("serviceDetails") or {}).get("url") or "").rstrip("/")


def trigger(token: str, service_id: str, commit: str) -> str:
    deploy = api("POST", base(), f"/services/{service_id}/deploys", token, {"commitId": commit}) or {}
    if isinstance(deploy, dict) and deploy.get("id"):
        return deploy["id"]
    # an answer without the deploy: find the newest deploy of this commit
    for item in api("GET", base(), f"/services/{service_id}/deploys?limit=10", token) or []:
        dep = item.get("deploy", item) if isinstance(item, dict) else {}
        if (dep.get("commit") or {}).get("id") == commit and dep.get("id"):
            return dep["id"]
    raise DeployError(f"Render accepted the deploy of {commit} but no deploy of it is listed")


def wait_live(token: str, service_id: str, deploy_id: str) -> None:
    def probe() -> tuple[bool, str]:
        dep = api("GET", base(), f"/services/{service_id}/deploys/{deploy_id}", token) or {}
        status = str(dep.get("status"))
        return status == LIVE, status

    poll(f"Render deploy {deploy_id}", probe, failed=lambda status: status in FAILED,
         nothing_new=lambda status: status in NOT_DEPLOYED)


def deploy(name: str, commit: str, public: bool) -> None:
    token = secret_env("RENDER_API_KEY")
    service = find_service(token, name)
    sid = service["id"]
    deploy_id = trigger(token, sid, commit)
    say(f"Render deploy {deploy_id} of {commit[:12]} for service {sid}")
    wait_live(token, sid, deploy_id)
    if public:
        url = service_url(service)
        if not url:
            raise DeployError(f"service {name} has no public URL (serviceDetails.url)")
        wait_started(url + "/startupz")
    say(f"{name}: deploy {deploy_id} is live" + (" and answers /startupz" if public else ""))


# ---------------------------------------------------------------------- live --


Result = c.Result
PASS, FAIL, WARN = c.PASS, c.FAIL, c.WARN
API = "https://api.render.com/v1"
IN_PROGRESS = {"created", "queued", "build_in_progress", "update_in_progress", "pre_deploy_in_progress"}
TOKEN_FIX = ("create an API key (Render Dashboard > Account Settings > API Keys), then in this shell: "
             "`read -rs RENDER_API_KEY && export RENDER_API_KEY` (hidden input) and run again")


def _items(answer: Any, key: str) -> list[dict]:
    """Render lists are [{"<key>": {...}, "cursor": ...}]."""
    return [i.get(key, i) for i in answer or [] if isinstance(i, dict)]


def live(live: lv.Live) -> list[Result]:
    env = live.runner.env
    token = env.get("RENDER_API_KEY", "")
    if not token:
        return [Result("Render API key present", FAIL, "RENDER_API_KEY is not set in the environment", TOKEN_FIX)]
    api = ApiClient(live.runner, api_base('render', env), token)
    model, app = live.model, live.app
    status, body = api.get(f"/services?{urllib.parse.urlencode({'name': app, 'limit': 20})}")
    if status != 200:
        return [Result("service found (Render API)", FAIL, describe_failure(status, body, "GET /services"),
                       TOKEN_FIX if status in (401, 403) else "check the network and RENDER_API_URL")]
    services = [s for s in _items(body, "service") if s.get("name") == app]
    if not services:
        return [Result("service found (Render API)", FAIL, f"no service named {app}",
                       "create the Blueprint from render.yaml (RUNBOOK.md, First deploy), or pass app=<name>")]
    svc = services[0]
    sid = svc.get("id")
    suspended = svc.get("suspended") not in (None, "not_suspended")
    results = [Result("service found (Render API)", FAIL if suspended else PASS,
                      f"{sid} type={svc.get('type')} suspended={svc.get('suspended')}",
                      "resume it: Render Dashboard > the service > Resume Service" if suspended else "")]

    status, body = api.get(f"/services/{sid}/deploys?limit=5")
    deploys = _items(body, "deploy") if status == 200 else []
    if status != 200:
        results.append(Result("latest deploy live", FAIL, describe_failure(status, body, "GET deploys"), TOKEN_FIX))
    elif not deploys:
        results.append(Result("latest deploy live", FAIL, "no deploy yet", "push to main (the workflow deploys) "
                              "or Manual Deploy in the dashboard"))
    else:
        latest = deploys[0]
        state = str(latest.get("status"))
        commit = (latest.get("commit") or {}).get("id", "")[:12]
        seen = ", ".join(f"{d.get('id')}={d.get('status')}" for d in deploys[:3]) + (f"; latest commit {commit}" if commit else "")
        if state == "live":
            results.append(Result("latest deploy live", PASS, seen))
        elif state in IN_PROGRESS:
            results.append(Result("latest deploy live", WARN, seen, "a deploy is in progress: run again when it ends"))
        else:
            results.append(Result("latest deploy live", FAIL, seen,
                                  "read the deploy's logs (below, or Dashboard > Events); "
                                  "build_failed = Dockerfile/build, update_failed = the gateway did not start "
                                  f"or {model.startup_path} never answered"))

    status, body = api.get(f"/disks?{urllib.parse.urlencode({'serviceId': sid})}")
    disks = _items(body, "disk") if status == 200 else []
    mounted = [d for d in disks if d.get("mountPath") == model.volume_mount]
    if status != 200:
        results.append(Result("disk at the state dir", WARN, describe_failure(status, body, "GET /disks"),
                              "check the disk in the dashboard"))
    else:
        results.append(Result(
            "disk at the state dir", PASS if mounted else FAIL,
            ", ".join(f"{d.get('name')} {d.get('sizeGB')} GB at {d.get('mountPath')}" for d in disks) or "no disk",
            "" if mounted else f"add a disk mounted at {model.volume_mount} (render.yaml `disk:`; sync the "
                               "Blueprint); without it config and sessions are lost on every deploy"))

    owner = svc.get("ownerId")
    query = urllib.parse.urlencode({"ownerId": owner or "", "resource": sid, "limit": 100, "direction": "backward"})
    status, body = api.get(f"/logs?{query}")
    if status != 200:
        results.append(Result("recent logs", WARN, describe_failure(status, body, "GET /logs"),
                              "read the logs in the dashboard"))
    else:
        logs = (body or {}).get("logs", []) if isinstance(body, dict) else body or []
        text = "\n".join(str(entry.get("message", "")) for entry in logs if isinstance(entry, dict))
        results += [_redacted(r, live.runner) for r in sig.signature_results("recent logs", text, "Render logs")]
    return results


def _redacted(result: Result, runner) -> Result:
    result.seen = runner.redact(result.seen)
    return result


# ------------------------------------------------------------------- day two --


def remote_values(model: m.DeployModel, service: str | None = None) -> dict[str, str]:
    """The ssh target's values; the service id from RENDER_SERVICE_ID unless the caller read it."""
    service = os.environ.get("RENDER_SERVICE_ID", "") if service is None else service
    if not service.startswith("srv-"):
        raise RemoteError("RENDER_SERVICE_ID: set it to the service's id (srv-..., Dashboard > Connect > SSH)")
    return {"app": model.app_name, "service_id": service, "region": model.region}


# -------------------------------------------------------------------- uptime --


def private_status(app: str, _service: str, _environment: str) -> tuple[bool, str]:

    token = secret_env("RENDER_API_KEY")
    service = find_service(token, app)
    if service.get("suspended") not in (None, "not_suspended"):
        return False, f"service {app} is {service.get('suspended')}"
    items = api("GET", base(), f"/services/{service['id']}/deploys?limit=1", token) or []
    latest = (items[0].get("deploy", items[0]) if items and isinstance(items[0], dict) else {})
    status = str(latest.get("status"))
    return status == "live", f"latest deploy {latest.get('id') or '?'}: {status}"

# ------------------------------------------------- scheduled backup credentials --
# .github/workflows/backup.yml: the step's env holds the secrets (ci.yml `backup.secrets`);
# this turns them into what the CLI reads, in ``workdir`` (0700, removed by the caller).


def ci_credentials(model: m.DeployModel, env: dict[str, str], workdir: Path) -> None:
    rm.need(env, "RENDER_SSH_KEY", "RENDER_SSH_KNOWN_HOSTS", "RENDER_SERVICE_ID")
    rm.ssh_config(env, workdir, f"ssh.{model.region}.render.com", "RENDER_SSH_KEY", "RENDER_SSH_KNOWN_HOSTS")

# ------------------------------------------------------------------ safe upgrade --
# ops/safe_upgrade.py's automated path (the CI deploy job):
#   python -m ops.safe_upgrade render --service NAME --commit SHA [--public] [--ci] [--backups DIR]
# What runs now: the newest `live` deploy of the service (GET /services/{id}/deploys), the release
# through exec (ssh SERVICE@ssh.REGION.render.com, ops/remote.py). The deploy is the CI deploy above.
# The way back is Render's own rollback: POST /services/{id}/rollback {"deployId"} (render.com/docs/rollbacks
# names the "Roll back deploy" endpoint and says it redeploys the target deploy's build artifact;
# the path and body as public API clients call it; unchecked against a live account). Render
# builds the image from the commit, so the image is not known beforehand: a change of release
# (openclaw_version against what runs) is what takes the safe path.

SAFE_UPGRADE_HELP = "deploy this commit through Render's API with a pre-update backup and a way back"
SSH_SECRETS = ("RENDER_SSH_KEY", "RENDER_SSH_KNOWN_HOSTS")


def safe_upgrade_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--service", required=True)
    parser.add_argument("--commit", required=True)
    parser.add_argument("--public", action="store_true")
    parser.add_argument("--ci", action="store_true",
                        help="the CI job: ssh from RENDER_SSH_KEY/RENDER_SSH_KNOWN_HOSTS (a private temp dir)")
    parser.add_argument("--backups", default="backups")


def _ci_remote(model: m.DeployModel, say) -> rm.Remote | None:
    """The job's ssh: the key and the pinned host key from the deploy environment's secrets
    (the scheduled backup's, ci.yml); without them there is no exec, so no backup (said)."""
    import atexit
    import shutil
    import tempfile

    missing = [name for name in SSH_SECRETS if not os.environ.get(name, "").strip()]
    if missing:
        why = (f"{', '.join(missing)} not set in the deploy environment: Render's exec (ssh) is out of reach, "
               "so the deploy runs without a pre-update backup (RUNBOOK.md, Upgrading: the way back)")
        say(f"::warning::{why}")
        return rm.Unreachable("render", model.app_name, why)
    workdir = Path(tempfile.mkdtemp(dir=os.environ.get("RUNNER_TEMP")))
    atexit.register(shutil.rmtree, workdir, True)
    env = dict(os.environ)
    rm.ssh_config(env, workdir, f"ssh.{model.region}.render.com", *SSH_SECRETS)
    return None


def safe_upgrade(model: m.DeployModel, args: argparse.Namespace, say=print) -> Any:
    from .. import safe_upgrade as su

    token = su.as_upgrade_error(secret_env)("RENDER_API_KEY")
    service = su.as_upgrade_error(find_service)(token, args.service)
    sid = service["id"]
    # the ssh target is the service the API found (nothing written into the environment)
    remote = (_ci_remote(model, say) if args.ci else None) or rm.connect(model, values=remote_values(model, sid))

    def current() -> str:
        """The newest live deploy's id ("" when none is live, or the list is out of reach)."""
        try:
            items = api("GET", base(), f"/services/{sid}/deploys?limit=20", token) or []
        except DeployError as err:
            say(f"Render: the service's deploys could not be listed ({err}): no deploy to roll back to")
            return ""
        for item in items if isinstance(items, list) else []:
            dep = item.get("deploy", item) if isinstance(item, dict) else {}
            if dep.get("status") == LIVE and dep.get("id"):
                return str(dep["id"])
        return ""

    def deploy_commit() -> None:  # NotDeployed when the build or the pre-deploy command failed
        deploy(args.service, args.commit, args.public)

    def rollback(deploy_id: str) -> None:
        answer = api("POST", base(), f"/services/{sid}/rollback", token, {"deployId": deploy_id}) or {}
        say(f"Render rollback to {deploy_id}: deploy {answer.get('id', '?') if isinstance(answer, dict) else '?'} "
            "started (it boots held in maintenance while the watch flag is on the disk)")

    return su.Platform(label="Render", current_image=su.as_upgrade_error(current),
                       deploy=su.as_upgrade_error(deploy_commit),
                       rollback=su.as_upgrade_error(rollback), remote=remote)
