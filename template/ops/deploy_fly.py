"""After `flyctl deploy` of a private app: wait until Fly's health checks pass.

    python3 -m ops.deploy_fly --app NAME

Every Fly health check of the app must pass (`flyctl checks list --json`);
a public app is checked on its https:// URL by ops.wait_healthy instead.
FLY_API_TOKEN stays in the environment, never argv.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any

from .ci_http import DeployError, main_guard, poll, say


def check_states(data: Any) -> list[str]:
    """Statuses in `flyctl checks list --json` ({machine: [{name, status}]} or a flat list)."""
    rows = []
    if isinstance(data, dict):
        for checks in data.values():
            rows += [c for c in checks or [] if isinstance(c, dict)]
    elif isinstance(data, list):
        rows = [c for c in data if isinstance(c, dict)]
    return [str(c.get("status")) for c in rows]


def checks_passing(app: str) -> tuple[bool, str]:
    proc = subprocess.run(["flyctl", "checks", "list", "-a", app, "--json"],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode:
        raise DeployError(f"flyctl checks list: exit {proc.returncode}: {proc.stderr.strip()[:300]}")
    try:
        states = check_states(json.loads(proc.stdout))
    except json.JSONDecodeError as exc:
        raise DeployError("flyctl checks list --json did not print JSON") from exc
    return bool(states) and all(s == "passing" for s in states), ", ".join(states) or "no checks"


def wait(app: str) -> None:
    poll(f"Fly health checks of {app}", lambda: checks_passing(app))
    say(f"{app}: every health check passes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", required=True)
    args = parser.parse_args(argv)
    return main_guard(lambda: wait(args.app))


if __name__ == "__main__":
    sys.exit(main())
