"""Live checks for Northflank through its REST API (read-only).

Steps: the service and its deployment status, the latest builds, the
running containers, recent logs (known failure signatures). The token is
read from NORTHFLANK_API_TOKEN in the environment (never argv); every answer
is redacted before it is kept. Project and service ids are the app name
(Northflank derives ids from names). API base: $NORTHFLANK_API_URL (default
https://api.northflank.com/v1). Response fields follow Northflank's API
reference; unchecked against a live account.
"""

from __future__ import annotations

from typing import Any

from . import checks as c
from .deploy_northflank import API, BUILD_FAILED, DEPLOY_OK
from .live_api import ApiClient, describe_failure

Result = c.Result
PASS, FAIL, WARN = c.PASS, c.FAIL, c.WARN
RUNNING = {"TASK_RUNNING"}   # container status (TASK_RUNNING, TASK_STARTING, ... TASK_FAILED: same client types)
TOKEN_FIX = ("create a team API token with read access to the project (Team settings > API), then in this "
             "shell: `read -rs NORTHFLANK_API_TOKEN && export NORTHFLANK_API_TOKEN` (hidden input) and run again")


def _data(body: Any) -> Any:
    return body.get("data") if isinstance(body, dict) else None


def run(live) -> list[Result]:
    env = live.runner.env
    token = env.get("NORTHFLANK_API_TOKEN", "")
    if not token:
        return [Result("Northflank API token present", FAIL, "NORTHFLANK_API_TOKEN is not set in the environment",
                       TOKEN_FIX)]
    api = ApiClient(live.runner, env.get("NORTHFLANK_API_URL") or API, token)
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
        from .troubleshoot import signature_results
        lines = _data(body) if isinstance(_data(body), list) else (body if isinstance(body, list) else [])
        text = "\n".join(str(x.get("log", x.get("message", ""))) if isinstance(x, dict) else str(x) for x in lines)
        for r in signature_results("recent logs", text, "Northflank logs"):
            r.seen = live.runner.redact(r.seen)
            results.append(r)
    return results
