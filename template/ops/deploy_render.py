"""Deploy this commit to Render through its REST API, then wait until it is live.

    python3 -m ops.deploy_render --service NAME --commit SHA [--public]

RENDER_API_KEY comes from the environment (the workflow maps the Actions secret of
that name into it); it is never an argument.

Steps: find the service by name (GET /services?name=), trigger a deploy of
the commit (POST /services/{id}/deploys {"commitId"}), poll the deploy
(GET /services/{id}/deploys/{deployId}) until ``live``; a failed status fails
the job. A public service is then checked on https://<its URL>/startupz.
The API key travels only in the Authorization header. API base:
$RENDER_API_URL (default below). Standard library only.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.parse

from .ci_http import DeployError, api, main_guard, poll, say, secret_env, wait_started

API = "https://api.render.com/v1"
LIVE = "live"
FAILED = {"build_failed", "update_failed", "canceled", "pre_deploy_failed", "deactivated"}


def base() -> str:
    return os.environ.get("RENDER_API_URL") or API


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

    poll(f"Render deploy {deploy_id}", probe, failed=lambda status: status in FAILED)


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", required=True)
    parser.add_argument("--commit", required=True)
    parser.add_argument("--public", action="store_true")
    args = parser.parse_args(argv)
    return main_guard(lambda: deploy(args.service, args.commit, args.public))


if __name__ == "__main__":
    sys.exit(main())
