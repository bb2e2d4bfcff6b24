"""Live checks for Render through its REST API (read-only).

Steps: the service (exists, not suspended), its latest deploys and their
status, the persistent disk (mounted at the state dir), recent logs (known
failure signatures). The API key is read from RENDER_API_KEY in the
environment (never argv); every answer is redacted before it is kept.
API base: $RENDER_API_URL (default https://api.render.com/v1).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from . import checks as c
from .live_api import ApiClient, describe_failure

Result = c.Result
PASS, FAIL, WARN = c.PASS, c.FAIL, c.WARN
API = "https://api.render.com/v1"
FAILED = {"build_failed", "update_failed", "canceled", "pre_deploy_failed"}
IN_PROGRESS = {"created", "queued", "build_in_progress", "update_in_progress", "pre_deploy_in_progress"}
TOKEN_FIX = ("create an API key (Render Dashboard > Account Settings > API Keys), then in this shell: "
             "`read -rs RENDER_API_KEY && export RENDER_API_KEY` (hidden input) and run again")


def _items(answer: Any, key: str) -> list[dict]:
    """Render lists are [{"<key>": {...}, "cursor": ...}]."""
    return [i.get(key, i) for i in answer or [] if isinstance(i, dict)]


def run(live) -> list[Result]:
    env = live.runner.env
    token = env.get("RENDER_API_KEY", "")
    if not token:
        return [Result("Render API key present", FAIL, "RENDER_API_KEY is not set in the environment", TOKEN_FIX)]
    api = ApiClient(live.runner, env.get("RENDER_API_URL") or API, token)
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
        from .troubleshoot import signature_results
        logs = (body or {}).get("logs", []) if isinstance(body, dict) else body or []
        text = "\n".join(str(entry.get("message", "")) for entry in logs if isinstance(entry, dict))
        results += [_redacted(r, live.runner) for r in signature_results("recent logs", text, "Render logs")]
    return results


def _redacted(result: Result, runner) -> Result:
    result.seen = runner.redact(result.seen)
    return result
