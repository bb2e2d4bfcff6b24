"""Build and deploy this commit on Northflank through its API, then wait until it runs.

    python3 -m ops.deploy_northflank --project P --service S --commit SHA [--public]

NORTHFLANK_API_TOKEN comes from the environment (the workflow maps the Actions secret of
that name into it); it is never an argument.

Steps: start a build of the commit (POST /projects/{p}/services/{s}/build
{"sha"}), poll the build (GET .../build/{id}) until SUCCESS, then poll the
service (GET /projects/{p}/services/{s}) until its deployment is COMPLETED;
a failed build or deployment fails the job. A public service is then checked
on https://<its public port DNS>/startupz. The token travels only in the
Authorization header. API base: $NORTHFLANK_API_URL (default below).
Response fields read here (data.id, data.status, data.status.deployment.status,
data.ports[].dns) follow Northflank's API reference; unchecked against a live account.
"""

from __future__ import annotations

import argparse
import os
import sys

from .ci_http import DeployError, api, main_guard, poll, say, secret_env, wait_started

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
    return os.environ.get("NORTHFLANK_API_URL") or API


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
        raise DeployError(f"Northflank started no build of {commit} (no data.id in the answer)")
    say(f"Northflank build {build_id} of {commit[:12]} for {project}/{service}")

    def build_done() -> tuple[bool, str]:
        status = str(data(api("GET", base(), f"{path}/build/{build_id}", token)).get("status"))
        return status == BUILD_OK, status

    poll(f"Northflank build {build_id}", build_done, failed=lambda s: s in BUILD_FAILED)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--commit", required=True)
    parser.add_argument("--public", action="store_true")
    args = parser.parse_args(argv)
    return main_guard(lambda: deploy(args.project, args.service, args.commit, args.public))


if __name__ == "__main__":
    sys.exit(main())
