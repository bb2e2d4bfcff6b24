"""Deploy this checkout to Railway with the Railway CLI, then wait until it is live.

    python3 -m ops.deploy_railway --service NAME --environment ENV [--public-url https://HOST]

RAILWAY_TOKEN comes from the environment (the workflow maps the Actions secret of
that name into it); it is never an argument.

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
import subprocess
import sys
from typing import Any, Iterable

from .ci_http import DeployError, main_guard, poll, say, secret_env, wait_started

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
    proc = subprocess.run(["railway", "status", "--json", "--environment", environment],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode:
        raise DeployError(f"railway status --json: exit {proc.returncode}: {proc.stderr.strip()[:300]}")
    try:
        return latest_deployment(json.loads(proc.stdout), service, environment)
    except json.JSONDecodeError as exc:
        raise DeployError("railway status --json did not print JSON") from exc


def deploy(service: str, environment: str, public_url: str | None) -> None:
    secret_env("RAILWAY_TOKEN")
    before = railway_status(service, environment).get("id")
    say(f"railway up --ci --service {service} --environment {environment} (previous deployment: {before or 'none'})")
    up = subprocess.run(["railway", "up", "--ci", "--service", service, "--environment", environment], timeout=3600)
    if up.returncode:
        raise DeployError(f"railway up failed (exit {up.returncode}): read the build log above")

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", required=True)
    parser.add_argument("--environment", required=True)
    parser.add_argument("--public-url", default=None)
    args = parser.parse_args(argv)
    return main_guard(lambda: deploy(args.service, args.environment, args.public_url))


if __name__ == "__main__":
    sys.exit(main())
