"""Is the gateway up? The scheduled uptime workflow's check, and its one issue.

    python3 -m ops.uptime --kind KIND --app NAME [--public-url https://HOST] [--service NAME]

Public deploy (``--public-url``): from outside, over HTTPS, ``/healthz`` must
answer the gateway's liveness JSON (``{"ok": true}``; any unknown path answers
200 with the Control UI's HTML, so the status alone proves nothing), and
``/readyz`` its readiness JSON with ``ready: true`` where it is reachable (the
gateway may refuse it from outside: then it is noted, not failed).

Private deploy: the platform's own status with the deploy token, through the
same logic the deploy workflow waits with (the rooms, ``ops/platforms/<kind>.py``): Fly health checks,
Railway's latest deployment, Render's service and latest deploy, Northflank's
deployment status, the Compose service's health over the pinned SSH, the
Kubernetes Deployment's ready replicas.

Then, on GitHub (``GITHUB_API_URL``, ``GITHUB_REPOSITORY``, ``GITHUB_TOKEN``,
as the Actions runner sets them): when something failed, open one issue titled
``TITLE`` or comment on the open one with what failed, and exit 1 (the failed run
notifies the owner); when all is well and that issue is open, comment and close
it. Tokens travel only in headers and environment, never in argv or output.
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.parse
from dataclasses import dataclass

from . import platforms
from .ci_http import DeployError, api, request_json, say, secret_env

TITLE = "Uptime check failing: {app}"


@dataclass
class Finding:
    check: str
    ok: bool
    seen: str


# ------------------------------------------------------------------ public --


def _snippet(status: int, body) -> str:
    return f"HTTP {status} " + (json.dumps(body)[:200] if body is not None else "(not JSON: an HTML page or empty)")


def check_public(url: str, liveness: str = "/healthz", readiness: str = "/readyz") -> list[Finding]:
    if not url.startswith("https://"):
        raise DeployError(f"{url!r}: a public gateway is checked over HTTPS only")
    base = url.rstrip("/")
    out = []
    try:
        status, body = request_json("GET", base + liveness, timeout=20)
        live = status == 200 and isinstance(body, dict) and body.get("ok") is True
        out.append(Finding(f"GET {liveness}", live, _snippet(status, body)))
    except DeployError as exc:
        out.append(Finding(f"GET {liveness}", False, str(exc)))
        return out
    try:
        status, body = request_json("GET", base + readiness, timeout=20)
    except DeployError as exc:
        return out + [Finding(f"GET {readiness}", False, str(exc))]
    if isinstance(body, dict) and "ready" in body:
        failing = body.get("failing") or []
        out.append(Finding(f"GET {readiness}", body.get("ready") is True,
                           _snippet(status, body) + (f"; failing: {', '.join(map(str, failing))}" if failing else "")))
    else:  # refused from outside (proxy attribution) or not served: nothing to judge
        out.append(Finding(f"GET {readiness} (not reachable from outside; not judged)", True, _snippet(status, body)))
    return out


# ----------------------------------------------------------------- private --
# Each kind's ``private_status`` (ops/platforms/<kind>.py), reusing its deploy code.


def check_private(kind: str, app: str, service: str, environment: str = "") -> list[Finding]:
    name = f"{kind} status"
    try:
        ok, seen = platforms.for_kind(kind).private_status(app, service, environment)
    except DeployError as exc:
        ok, seen = False, str(exc)
    return [Finding(name, ok, seen)]


# ------------------------------------------------------------------ GitHub --


def _github(method: str, path: str, body=None):
    base = os.environ.get("GITHUB_API_URL") or "https://api.github.com"
    return api(method, base, path, secret_env("GITHUB_TOKEN"), body)


def run_url() -> str:
    server, repo, run = (os.environ.get(k, "") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    return f"{server}/{repo}/actions/runs/{run}" if server and repo and run else "(run URL unknown)"


def open_issue(repo: str, title: str) -> dict | None:
    query = urllib.parse.urlencode({"state": "open", "per_page": 100})
    for issue in _github("GET", f"/repos/{repo}/issues?{query}") or []:
        if isinstance(issue, dict) and issue.get("title") == title and "pull_request" not in issue:
            return issue
    return None


def report(findings: list[Finding]) -> str:
    rows = "\n".join(f"| {'PASS' if f.ok else 'FAIL'} | {f.check} | {f.seen.replace('|', '/')} |" for f in findings)
    return (f"| | check | seen |\n| --- | --- | --- |\n{rows}\n\nRun: {run_url()}\n\n"
            "Next: `make troubleshoot P='-p mode live'` in the deploy repo (RUNBOOK.md, Uptime).")


def file_result(app: str, findings: list[Finding]) -> int:
    """Open / comment / close the one uptime issue; 1 when something failed."""
    repo = secret_env("GITHUB_REPOSITORY")
    title = TITLE.format(app=app)
    failed = [f for f in findings if not f.ok]
    issue = open_issue(repo, title)
    text = report(findings)
    if failed:
        if issue is None:
            made = _github("POST", f"/repos/{repo}/issues", {"title": title, "body": f"The gateway is down.\n\n{text}"})
            say(f"opened issue #{(made or {}).get('number')}: {title}")
        else:
            _github("POST", f"/repos/{repo}/issues/{issue['number']}/comments", {"body": f"Still failing.\n\n{text}"})
            say(f"commented on issue #{issue['number']}")
        print(f"::error::uptime check failed: {'; '.join(f'{f.check}: {f.seen}' for f in failed)}",
              file=sys.stderr, flush=True)
        return 1
    if issue is not None:
        _github("POST", f"/repos/{repo}/issues/{issue['number']}/comments", {"body": f"Healthy again.\n\n{text}"})
        _github("PATCH", f"/repos/{repo}/issues/{issue['number']}", {"state": "closed", "state_reason": "completed"})
        say(f"closed issue #{issue['number']}: healthy again")
    return 0


def summary(findings: list[Finding]) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write("## Uptime\n\n" + report(findings) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", required=True, choices=platforms.kinds())
    parser.add_argument("--app", required=True)
    parser.add_argument("--public-url", default=None, help="https://HOST of a public gateway")
    parser.add_argument("--service", default="", help="the Compose service (private Compose deploys)")
    parser.add_argument("--environment", default="", help="the Railway environment (private Railway deploys)")
    args = parser.parse_args(argv)
    try:
        if args.public_url is not None:
            if not args.public_url.strip():
                raise DeployError("OPENCLAW_PUBLIC_URL is empty: set the repository variable to the gateway's "
                                  "https:// URL (README.md, Uptime)")
            findings = check_public(args.public_url)
        else:
            findings = check_private(args.kind, args.app, args.service, args.environment)
        for f in findings:
            say(f"{'PASS' if f.ok else 'FAIL'}  {f.check}: {f.seen}")
        summary(findings)
        return file_result(args.app, findings)
    except DeployError as exc:
        print(f"::error::{exc}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
