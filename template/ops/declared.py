"""What a deploy repo's files actually say, read back field by field.

Each platform has one reader that parses its files (never greps them) and
returns a ``Declared``: every place a port, bind, state dir, mount, health
path, memory size or image tag is written, keyed by where it was found. The
checks compare these places with each other and with the deploy model.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import model as m
from .pin_images import without_digest


@dataclass
class Declared:
    platform: str
    ports: dict[str, int] = field(default_factory=dict)
    binds: dict[str, str] = field(default_factory=dict)
    state_dirs: dict[str, str] = field(default_factory=dict)
    mounts: dict[str, str] = field(default_factory=dict)
    health_paths: dict[str, str] = field(default_factory=dict)
    memory_mb: dict[str, int] = field(default_factory=dict)
    heap_mb: dict[str, int] = field(default_factory=dict)
    image_tags: dict[str, str] = field(default_factory=dict)
    public_ingress: bool | None = None
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)
    # What the image itself says (Dockerfile ENV / ENTRYPOINT / CMD): platforms
    # that run the image's own command (Render, Northflank) inherit these.
    image_env: dict[str, str] = field(default_factory=dict)
    image_entrypoint: list[str] = field(default_factory=list)
    image_cmd: list[str] = field(default_factory=list)
    # Published host ports (compose) as "host_ip:published->target".
    published: list[str] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)  # Caddy site addresses
    # Where forwarded-client headers come from (a reverse proxy's source address).
    proxy_sources: dict[str, str] = field(default_factory=dict)
    k8s_objects: list[dict[str, Any]] = field(default_factory=list)
    # Tunnel agent started by docker/entrypoint.sh ("" when none) and, for ngrok,
    # the traffic policy: where the agent reads it, where the image puts it, and
    # the document itself (None: unreadable), and the --config files the agent
    # reads (its authtoken).
    tunnel_agent: str = ""
    tunnel_policy_flags: list[str] = field(default_factory=list)
    tunnel_policy_copies: list[str] = field(default_factory=list)
    tunnel_policy: dict[str, Any] | None = None
    tunnel_config_flags: list[str] = field(default_factory=list)
    # Variables docker/entrypoint.sh exports to the gateway (config ${VAR} references).
    entrypoint_exports: set[str] = field(default_factory=set)
    # NetworkPolicy objects (Kubernetes): name -> namespaces admitted ([] = none).
    network_policies: dict[str, list[str]] = field(default_factory=dict)
    # ... and name -> its egress rules (None: the policy does not restrict egress).
    network_egress: dict[str, list[dict[str, Any]] | None] = field(default_factory=dict)
    # Compose: memory limits of the services beside the gateway (service -> MB; None
    # when a service has none) and the gateway's memswap_limit.
    sidecar_memory_mb: dict[str, int | None] = field(default_factory=dict)
    memswap_mb: int | None = None


def parse_command(command: list[str] | str) -> dict[str, str]:
    """``--port``/``--bind`` style flags of a gateway command line."""
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    flags: dict[str, str] = {}
    for i, arg in enumerate(argv):
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if eq:
                flags[name] = value
            elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                flags[name] = argv[i + 1]
            else:
                flags[name] = ""
    return flags


def heap_from_node_options(value: str | None) -> int | None:
    match = re.search(r"--max-old-space-size=(\d+)", value or "")
    return int(match.group(1)) if match else None


def memory_from_fly(value: Any) -> int | None:
    """Fly's ``memory`` is "2048mb", "2gb" or a number of MB."""
    if isinstance(value, int):
        return value
    match = re.fullmatch(r"\s*(\d+)\s*(mb|gb)?\s*", str(value).lower())
    if not match:
        return None
    number = int(match.group(1))
    return number * 1024 if match.group(2) == "gb" else number


def dockerfile_image_tags(text: str) -> dict[str, str]:
    """Tag of every ``FROM <openclaw image>`` line (the final one decides); a
    ``@sha256:`` digest beside the tag is not part of it."""
    image = m.openclaw()["image"]
    tags: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].upper() == "FROM" and parts[1].startswith(image):
            ref = without_digest(parts[1])[len(image):]
            tags["Dockerfile FROM"] = ref[1:] if ref.startswith(":") else (ref or "latest")
    return tags


def dockerfile_instructions(text: str) -> dict[str, Any]:
    """ENV (merged), ENTRYPOINT and CMD of the final stage, parsed from the text.

    Continuation lines are joined; exec-form (JSON) and shell-form both read.
    """
    joined = re.sub(r"\\\n", " ", text)
    out: dict[str, Any] = {"ENV": {}}
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        word = word.upper()
        rest = rest.strip()
        if word == "FROM":
            out = {"ENV": {}}  # a new stage starts clean
        elif word == "ENV":
            try:
                parts = shlex.split(rest)
            except ValueError:
                continue
            if parts and "=" not in parts[0] and len(parts) >= 2:
                out["ENV"][parts[0]] = " ".join(parts[1:])
            else:
                for part in parts:
                    key, eq, value = part.partition("=")
                    if eq:
                        out["ENV"][key] = value
        elif word in ("ENTRYPOINT", "CMD"):
            try:
                value = json.loads(rest)
            except json.JSONDecodeError:
                value = ["/bin/sh", "-c", rest]
            if isinstance(value, list):
                out[word] = [str(v) for v in value]
    return out


def parse_dotenv(text: str) -> dict[str, str]:
    """KEY=value lines (compose/.env style: optional quotes, # comments)."""
    env: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key] = value
    return env


_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose-style ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}`` substitution."""
    def repl(match: re.Match) -> str:
        name = match.group(1) or match.group(4)
        op, default = match.group(2), match.group(3) or ""
        current = variables.get(name)
        if op == ":-":
            return current if current else default
        if op == "-":
            return current if current is not None else default
        return current or ""
    return _INTERPOLATION.sub(repl, value.replace("$$", "\0")).replace("\0", "$")


def _memory_mb(value: Any) -> int | None:
    """Sizes like 2048m, 2g, 2Gi, 2048Mi, 1.5G or a number of bytes, in MB."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value // (1024 * 1024))
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*", str(value).lower())
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2)
    factor = {"": 1 / (1024 * 1024), "k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}[unit]
    return int(number * factor)


def _load_yaml(path: Path, declared: Declared, *, many: bool = False) -> Any:
    import yaml

    if not path.exists():
        declared.problems.append(f"{path.name} is missing")
        return None
    try:
        text = path.read_text(encoding="utf-8")
        return [d for d in yaml.safe_load_all(text) if d is not None] if many else yaml.safe_load(text)
    except yaml.YAMLError as exc:
        declared.problems.append(f"{path.name} is not valid YAML: {exc}")
        return None


def _load_json(path: Path, declared: Declared) -> Any:
    if not path.exists():
        declared.problems.append(f"{path.name} is missing")
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        declared.problems.append(f"{path.name} is not valid JSON: {exc}")
        return None


def _record_command(declared: Declared, where: str, argv: list[str]) -> None:
    """The gateway command (without wrappers before ``node``), its --port/--bind."""
    argv = [str(a) for a in argv]
    start = next((i for i, a in enumerate(argv) if a == "node" or a.endswith("/node")), 0)
    declared.command = argv[start:]
    flags = parse_command(declared.command)
    if flags.get("port", "").isdigit():
        declared.ports[f"{where} --port"] = int(flags["port"])
    elif "port" in flags:
        declared.problems.append(f"{where}: --port {flags['port']!r} is not a number")
    if "bind" in flags:
        declared.binds[f"{where} --bind"] = flags["bind"]


def _record_env(declared: Declared, where: str, env: dict[str, str]) -> None:
    declared.env.update(env)
    if env.get("OPENCLAW_GATEWAY_PORT", "").isdigit():
        declared.ports[f"{where} OPENCLAW_GATEWAY_PORT"] = int(env["OPENCLAW_GATEWAY_PORT"])
    if "OPENCLAW_STATE_DIR" in env:
        declared.state_dirs[f"{where} OPENCLAW_STATE_DIR"] = env["OPENCLAW_STATE_DIR"]
    heap = heap_from_node_options(env.get("NODE_OPTIONS"))
    if heap:
        declared.heap_mb[f"{where} NODE_OPTIONS"] = heap


def _image_command(declared: Declared, where: str) -> None:
    """Platforms that run the image as built: its CMD is the gateway command."""
    if declared.image_cmd:
        _record_command(declared, where, declared.image_cmd)
    declared.env = {**declared.image_env, **declared.env}


def _size_memory(platform: str, size: str) -> int | None:
    spec = m.platforms().get(platform, {}).get("sizes", {}).get(size)
    return int(spec["memory_mb"][1]) if spec else None


def _read_config(root: Path, declared: Declared) -> None:
    path = root / "config" / "openclaw.json"
    if not path.exists():
        declared.problems.append("config/openclaw.json is missing")
        return
    try:
        declared.config = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        declared.problems.append(f"config/openclaw.json is not valid JSON: {exc}")
        return
    gateway = declared.config.get("gateway", {})
    if "port" in gateway:
        declared.ports["config gateway.port"] = gateway["port"]
    if "bind" in gateway:
        declared.binds["config gateway.bind"] = gateway["bind"]


def _read_dockerfile(root: Path, declared: Declared) -> None:
    path = root / "Dockerfile"
    if not path.exists():
        declared.problems.append("Dockerfile is missing")
        return
    text = path.read_text(encoding="utf-8")
    declared.image_tags.update(dockerfile_image_tags(text))
    instructions = dockerfile_instructions(text)
    for key, value in instructions.get("ENV", {}).items():
        declared.image_env[key] = value
    if "OPENCLAW_STATE_DIR" in declared.image_env:
        declared.state_dirs["Dockerfile ENV OPENCLAW_STATE_DIR"] = declared.image_env["OPENCLAW_STATE_DIR"]
    declared.image_entrypoint = instructions.get("ENTRYPOINT", [])
    declared.image_cmd = instructions.get("CMD", [])
    flags = parse_command(declared.image_cmd) if declared.image_cmd else {}
    if flags.get("port", "").isdigit():
        declared.ports["Dockerfile CMD --port"] = int(flags["port"])
    if flags.get("bind"):
        declared.binds["Dockerfile CMD --bind"] = flags["bind"]
    # HEALTHCHECK options and CMD may span continuation lines
    joined = text.replace("\\\n", " ")
    match = re.search(r'HEALTHCHECK[^\n]*CMD \[[^\]]*"(\d+)",\s*"(/[a-z]+)"\]', joined)
    if match:
        declared.ports["Dockerfile HEALTHCHECK port"] = int(match.group(1))
        declared.health_paths["Dockerfile HEALTHCHECK"] = match.group(2)


def read_fly(root: Path, declared: Declared) -> None:
    path = root / "fly.toml"
    if not path.exists():
        declared.problems.append("fly.toml is missing")
        return
    try:
        fly = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        declared.problems.append(f"fly.toml is not valid TOML: {exc}")
        return
    env = {k: str(v) for k, v in fly.get("env", {}).items()}
    declared.env = env
    process = fly.get("processes", {}).get("app")
    if process:
        declared.command = shlex.split(process)
        flags = parse_command(process)
        if "port" in flags:
            declared.ports["fly.toml [processes] --port"] = int(flags["port"])
        if "bind" in flags:
            declared.binds["fly.toml [processes] --bind"] = flags["bind"]
    if "OPENCLAW_GATEWAY_PORT" in env:
        declared.ports["fly.toml [env] OPENCLAW_GATEWAY_PORT"] = int(env["OPENCLAW_GATEWAY_PORT"])
    if "OPENCLAW_STATE_DIR" in env:
        declared.state_dirs["fly.toml [env] OPENCLAW_STATE_DIR"] = env["OPENCLAW_STATE_DIR"]
    heap = heap_from_node_options(env.get("NODE_OPTIONS"))
    if heap:
        declared.heap_mb["fly.toml [env] NODE_OPTIONS"] = heap
    mounts = fly.get("mounts")
    for mount in mounts if isinstance(mounts, list) else [mounts] if mounts else []:
        declared.mounts[f"fly.toml [mounts] {mount.get('source')}"] = mount.get("destination", "")
    service = fly.get("http_service")
    declared.public_ingress = bool(service) or bool(fly.get("services"))
    if service:
        declared.ports["fly.toml [http_service] internal_port"] = service.get("internal_port")
        for i, check in enumerate(service.get("checks", [])):
            declared.health_paths[f"fly.toml [[http_service.checks]] #{i + 1}"] = check.get("path", "")
    for name, check in (fly.get("checks") or {}).items():
        if check.get("type") == "http":
            declared.ports[f"fly.toml [checks.{name}] port"] = check.get("port")
            declared.health_paths[f"fly.toml [checks.{name}]"] = check.get("path", "")
    for i, vm in enumerate(fly.get("vm", [])):
        mem = memory_from_fly(vm.get("memory", vm.get("memory_mb")))
        if mem:
            declared.memory_mb[f"fly.toml [[vm]] #{i + 1}"] = mem



def _service_memory_mb(service: dict) -> int | None:
    """A Compose service's memory limit: ``mem_limit`` or ``deploy.resources.limits.memory``."""
    return _memory_mb(service.get("mem_limit") or
                      (((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}).get("memory"))


COMPOSE_FILE = "docker-compose.yml"


def read_compose(root: Path, declared: Declared) -> None:
    """docker-compose.yml (+ caddy/Caddyfile when public), interpolated the way
    ``docker compose`` will: from .env when it exists, else the defaults."""
    compose = _load_yaml(root / COMPOSE_FILE, declared)
    if not isinstance(compose, dict):
        return
    env_path = root / ".env"
    variables = parse_dotenv(env_path.read_text(encoding="utf-8")) if env_path.exists() else {}
    facts = m.platforms().get(declared.platform, {})
    name = facts.get("service", "openclaw-gateway")
    services = compose.get("services") or {}
    gateway = services.get(name)
    if not isinstance(gateway, dict):
        declared.problems.append(f"{COMPOSE_FILE}: no service {name!r}")
        return

    def ip(value: Any) -> str:
        return interpolate(str(value), variables)

    where = f"{COMPOSE_FILE} {name}"
    command = gateway.get("command")
    if command:
        argv = shlex.split(ip(command)) if isinstance(command, str) else [ip(a) for a in command]
        _record_command(declared, f"{where} command", argv)
    else:
        _image_command(declared, "Dockerfile CMD")
    environment = gateway.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment if "=" in item)
    declared.env = {**declared.image_env}
    _record_env(declared, f"{where} environment", {k: ip(v) for k, v in environment.items()})
    for vol in gateway.get("volumes") or []:
        if isinstance(vol, dict):
            source, target = vol.get("source", ""), vol.get("target", "")
        else:
            source, _, rest = ip(vol).partition(":")
            target = rest.split(":")[0]
        declared.mounts[f"{where} volume {source}"] = target
    health = (gateway.get("healthcheck") or {}).get("test") or []
    if isinstance(health, list) and "/opt/openclaw-deploy/healthcheck.mjs" in health:
        args = [ip(a) for a in health[health.index("/opt/openclaw-deploy/healthcheck.mjs") + 1:]]
        if args and args[0].isdigit():
            declared.ports[f"{where} healthcheck port"] = int(args[0])
        if len(args) > 1:
            declared.health_paths[f"{where} healthcheck"] = args[1]
    mem = _service_memory_mb(gateway)
    if mem:
        declared.memory_mb[f"{where} mem_limit"] = mem
    declared.memswap_mb = _memory_mb(gateway.get("memswap_limit"))
    declared.sidecar_memory_mb = {other: _service_memory_mb(spec) for other, spec in services.items()
                                  if other != name and isinstance(spec, dict)}
    public = False
    for port in gateway.get("ports") or []:
        text = ip(port) if not isinstance(port, dict) else (
            f"{port.get('host_ip', '')}:{port.get('published', '')}:{port.get('target', '')}")
        parts = text.split("/")[0].split(":")
        target = parts[-1]
        host_ip = parts[0] if len(parts) == 3 else ""
        declared.published.append(f"{host_ip or '0.0.0.0'}:{parts[-2] if len(parts) > 1 else target}->{target}")
        if target.isdigit():
            declared.ports[f"{where} ports target"] = int(target)
        if host_ip not in ("127.0.0.1", "localhost", "::1", "[::1]"):
            public = True
    for port in gateway.get("expose") or []:
        if ip(port).split("/")[0].isdigit():
            declared.ports[f"{where} expose"] = int(ip(port).split("/")[0])
    proxy = (facts.get("proxy") or {}).get("service")
    if proxy and proxy in services:
        public = public or bool(services[proxy].get("ports"))
        _read_caddyfile(root, declared, name)
        networks = services[proxy].get("networks") or {}
        for net, conf in (networks.items() if isinstance(networks, dict) else []):
            if isinstance(conf, dict) and conf.get("ipv4_address"):
                declared.proxy_sources[f"{COMPOSE_FILE} {proxy} networks.{net}.ipv4_address"] = conf["ipv4_address"]
        if not declared.proxy_sources:
            declared.proxy_sources[f"{COMPOSE_FILE} {proxy}"] = "any address on the compose network"
    declared.public_ingress = public


def caddyfile_tokens(text: str) -> list[list[str]]:
    """Lines of a Caddyfile as token lists (comments dropped, quotes honoured)."""
    lines = []
    for raw in text.splitlines():
        try:
            tokens = shlex.split(raw, comments=True)
        except ValueError:
            tokens = raw.split("#")[0].split()
        if tokens:
            lines.append(tokens)
    return lines


def _read_caddyfile(root: Path, declared: Declared, service: str) -> None:
    path = root / "caddy" / "Caddyfile"
    if not path.exists():
        declared.problems.append("caddy/Caddyfile is missing (the caddy service mounts it)")
        return
    depth, sites = 0, []
    for tokens in caddyfile_tokens(path.read_text(encoding="utf-8")):
        if depth == 0 and tokens[-1] == "{" and len(tokens) > 1:
            sites.append(tokens[0])
        if tokens[0] == "reverse_proxy" and depth >= 1:
            for upstream in tokens[1:]:
                if upstream == "{":
                    continue
                host, _, port = upstream.rpartition(":")
                if host.split("//")[-1] == service and port.isdigit():
                    declared.ports["caddy/Caddyfile reverse_proxy"] = int(port)
                else:
                    declared.problems.append(f"caddy/Caddyfile: reverse_proxy {upstream} is not {service}:<port>")
        depth += tokens.count("{") - tokens.count("}")
    declared.sites = sites


RAILWAY_ENV = "config/railway.env"


def read_railway(root: Path, declared: Declared) -> None:
    """railway.json (build, start command, health check) + config/railway.env
    (the service variables scripts/secrets.sh sets)."""
    railway = _load_json(root / "railway.json", declared)
    if not isinstance(railway, dict):
        return
    deploy = railway.get("deploy") or {}
    if (railway.get("build") or {}).get("builder") != "DOCKERFILE":
        declared.problems.append("railway.json: build.builder is not DOCKERFILE (the image would not be ours)")
    start = deploy.get("startCommand")
    if start:
        argv = shlex.split(start)
        if "/usr/local/bin/openclaw-deploy-entrypoint" not in argv:
            declared.problems.append(
                "railway.json: startCommand replaces the image ENTRYPOINT on Railway; without "
                "/usr/local/bin/openclaw-deploy-entrypoint the volume is not chowned and no config is seeded")
        _record_command(declared, "railway.json startCommand", argv)
    else:
        _image_command(declared, "Dockerfile CMD")
    if deploy.get("healthcheckPath"):
        declared.health_paths["railway.json healthcheckPath"] = deploy["healthcheckPath"]
    if deploy.get("requiredMountPath"):
        declared.mounts["railway.json requiredMountPath"] = deploy["requiredMountPath"]
    env_path = root / RAILWAY_ENV
    if not env_path.exists():
        declared.problems.append(f"{RAILWAY_ENV} is missing")
        return
    env = parse_dotenv(env_path.read_text(encoding="utf-8"))
    declared.env = {**declared.image_env}
    _record_env(declared, RAILWAY_ENV, env)
    if env.get("PORT", "").isdigit():
        declared.ports[f"{RAILWAY_ENV} PORT"] = int(env["PORT"])
    # Public networking is a dashboard/CLI setting, not part of these files.
    declared.public_ingress = None


def read_render(root: Path, declared: Declared) -> None:
    """render.yaml Blueprint: the web (public) or pserv (private) service."""
    blueprint = _load_yaml(root / "render.yaml", declared)
    if not isinstance(blueprint, dict):
        return
    services = [s for s in blueprint.get("services") or [] if s.get("runtime") == "docker"]
    if len(services) != 1:
        declared.problems.append(f"render.yaml: expected one docker service, found {len(services)}")
        return
    service = services[0]
    if service.get("dockerCommand"):
        _record_command(declared, "render.yaml dockerCommand", shlex.split(service["dockerCommand"]))
    else:
        _image_command(declared, "Dockerfile CMD")
    env = {e["key"]: str(e["value"]) for e in service.get("envVars") or [] if "value" in e}
    _record_env(declared, "render.yaml envVars", env)
    if env.get("PORT", "").isdigit():
        declared.ports["render.yaml envVars PORT"] = int(env["PORT"])
    if service.get("healthCheckPath"):
        declared.health_paths["render.yaml healthCheckPath"] = service["healthCheckPath"]
    disk = service.get("disk")
    if disk:
        declared.mounts[f"render.yaml disk {disk.get('name')}"] = disk.get("mountPath", "")
    if service.get("plan"):
        mem = _size_memory(declared.platform, service["plan"])
        if mem:
            declared.memory_mb[f"render.yaml plan {service['plan']}"] = mem
    declared.public_ingress = service.get("type") == "web"


def _walk_nodes(node: Any):
    """Every node of a Northflank template workflow, depth first."""
    if isinstance(node, dict):
        if "kind" in node:
            yield node
        for value in node.values():
            yield from _walk_nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_nodes(value)


def read_northflank(root: Path, declared: Declared) -> None:
    """northflank.json template: the combined service, its volume, its secret group."""
    template = _load_json(root / "northflank.json", declared)
    if not isinstance(template, dict):
        return
    nodes = list(_walk_nodes(template.get("spec")))
    services = [n["spec"] for n in nodes if n.get("kind") == "CombinedService"]
    if len(services) != 1:
        declared.problems.append(f"northflank.json: expected one CombinedService, found {len(services)}")
        return
    service = services[0]
    docker = (service.get("deployment") or {}).get("docker") or {}
    if docker.get("configType") in ("customCommand", "customEntrypointCustomCommand") and docker.get("customCommand"):
        _record_command(declared, "northflank.json customCommand", shlex.split(docker["customCommand"]))
    else:
        _image_command(declared, "Dockerfile CMD")
    _record_env(declared, "northflank.json runtimeEnvironment",
                {k: str(v) for k, v in (service.get("runtimeEnvironment") or {}).items()})
    public = False
    for port in service.get("ports") or []:
        declared.ports[f"northflank.json port {port.get('name')}"] = port.get("internalPort")
        public = public or bool(port.get("public"))
    for check in service.get("healthChecks") or []:
        declared.ports[f"northflank.json {check.get('type')} port"] = check.get("port")
        declared.health_paths[f"northflank.json {check.get('type')}"] = check.get("path", "")
    plan = (service.get("billing") or {}).get("deploymentPlan")
    mem = _size_memory(declared.platform, plan) if plan else None
    if mem:
        declared.memory_mb[f"northflank.json plan {plan}"] = mem
    for volume in (n["spec"] for n in nodes if n.get("kind") == "Volume"):
        for mount in volume.get("mounts") or []:
            declared.mounts[f"northflank.json volume {volume.get('name')}"] = mount.get("containerMountPath", "")
    declared.public_ingress = public


def kustomize_resources(root: Path, directory: Path, declared: Declared, seen: set | None = None) -> list[dict]:
    """The objects a kustomization lists (resources only; no patches or generators)."""
    seen = seen if seen is not None else set()
    kustomization = _load_yaml(directory / "kustomization.yaml", declared)
    if not isinstance(kustomization, dict):
        return []
    docs: list[dict] = []
    for entry in kustomization.get("resources") or []:
        target = (directory / entry).resolve()
        if target in seen:
            continue
        seen.add(target)
        if target.is_dir():
            docs += kustomize_resources(root, target, declared, seen)
        else:
            for doc in _load_yaml(target, declared, many=True) or []:
                if isinstance(doc, dict):
                    doc.setdefault("_file", str(target.relative_to(root.resolve())))
                    docs.append(doc)
    for key in ("patches", "patchesStrategicMerge", "patchesJson6902", "configMapGenerator",
                "secretGenerator", "replacements"):
        if kustomization.get(key):
            declared.problems.append(
                f"{directory.relative_to(root)}/kustomization.yaml uses {key}: the static checks read "
                "resources only; run `kubectl kustomize` to see the result")
    return docs


K8S_BASE = Path("k8s") / "base"
K8S_PUBLIC = Path("k8s") / "overlays" / "public"


def read_kubernetes(root: Path, declared: Declared) -> None:
    """k8s/base (+ k8s/overlays/public when present): Deployment, Service,
    PVC, ConfigMap with the starter config, Ingress."""
    overlay = root / K8S_PUBLIC
    entry = overlay if (overlay / "kustomization.yaml").exists() else root / K8S_BASE
    docs = kustomize_resources(root, entry, declared)
    by_kind: dict[str, list[dict]] = {}
    for doc in docs:
        by_kind.setdefault(doc.get("kind", "?"), []).append(doc)
    deployments = by_kind.get("Deployment", [])
    if len(deployments) != 1:
        declared.problems.append(f"k8s: expected one Deployment, found {len(deployments)}")
        return
    deployment = deployments[0]
    spec = deployment.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or {}
    containers = pod.get("containers") or []
    gateway = next((c for c in containers if c.get("name") == "gateway"), containers[0] if containers else {})
    where = f"{deployment['_file']} gateway"
    argv = list(gateway.get("command") or []) + list(gateway.get("args") or [])
    if argv:
        _record_command(declared, f"{where} args", argv)
    env = {e["name"]: str(e["value"]) for e in gateway.get("env") or [] if "value" in e}
    _record_env(declared, f"{where} env", env)
    image = without_digest(str(gateway.get("image", "")))
    oc_image = m.openclaw()["image"]
    if image.startswith(oc_image + ":"):
        declared.image_tags[f"{where} image"] = image[len(oc_image) + 1:]
    named_ports = {p.get("name"): p.get("containerPort") for p in gateway.get("ports") or []}
    for p in gateway.get("ports") or []:
        declared.ports[f"{where} containerPort {p.get('name')}"] = p.get("containerPort")

    def resolve(port: Any) -> Any:
        return named_ports.get(port, port) if isinstance(port, str) else port

    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        http = (gateway.get(probe) or {}).get("httpGet")
        if http:
            declared.health_paths[f"{where} {probe}"] = http.get("path", "")
            declared.ports[f"{where} {probe} port"] = resolve(http.get("port"))
    limit = _memory_mb(((gateway.get("resources") or {}).get("limits") or {}).get("memory"))
    if limit:
        declared.memory_mb[f"{where} limits.memory"] = limit
    volumes = {v.get("name"): v for v in pod.get("volumes") or []}
    claims = {c["metadata"]["name"] for c in by_kind.get("PersistentVolumeClaim", [])}
    for mount in gateway.get("volumeMounts") or []:
        claim = (volumes.get(mount.get("name")) or {}).get("persistentVolumeClaim", {}).get("claimName")
        if claim:
            if claim not in claims:
                declared.problems.append(f"k8s: volume {mount.get('name')} claims {claim!r}, which no PVC defines")
            declared.mounts[f"{where} volumeMount {mount.get('name')} (pvc {claim})"] = mount.get("mountPath", "")
    if spec.get("replicas", 1) != 1 or (spec.get("strategy") or {}).get("type") != "Recreate":
        declared.problems.append("k8s: the Deployment must run 1 replica with strategy Recreate "
                                 "(two gateways on one state dir refuse to start)")
    for svc in by_kind.get("Service", []):
        for p in (svc.get("spec") or {}).get("ports") or []:
            declared.ports[f"{svc['_file']} targetPort"] = resolve(p.get("targetPort", p.get("port")))
    for cm in by_kind.get("ConfigMap", []):
        text = (cm.get("data") or {}).get("openclaw.json")
        if text is None:
            continue
        try:
            seeded = json.loads(text)
        except json.JSONDecodeError as exc:
            declared.problems.append(f"{cm['_file']}: openclaw.json is not valid JSON: {exc}")
            continue
        gw = seeded.get("gateway", {})
        if "port" in gw:
            declared.ports[f"{cm['_file']} openclaw.json gateway.port"] = gw["port"]
        if "bind" in gw:
            declared.binds[f"{cm['_file']} openclaw.json gateway.bind"] = gw["bind"]
        if declared.config is not None and seeded != declared.config:
            declared.problems.append(f"{cm['_file']}: openclaw.json differs from config/openclaw.json")
    declared.public_ingress = bool(by_kind.get("Ingress")) or any(
        (s.get("spec") or {}).get("type") in ("LoadBalancer", "NodePort") for s in by_kind.get("Service", []))
    declared.k8s_objects = docs


READERS: dict[str, Callable[[Path, Declared], None]] = {
    "fly": read_fly,
    "gcp": read_compose,
    "vps": read_compose,
    "railway": read_railway,
    "northflank": read_northflank,
    "render": read_render,
    "kubernetes": read_kubernetes,
}


ENTRYPOINT_FILE = "docker/entrypoint.sh"
NGROK_POLICY_FILE = "docker/ngrok-policy.yml"


def _read_tunnel(root: Path, declared: Declared) -> None:
    """The tunnel agent the entrypoint starts: it forwards client headers from
    the address it connects to the gateway from (a proxy source, like Caddy)."""
    path = root / ENTRYPOINT_FILE
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        code = line.split("#", 1)[0]
        try:
            argv = shlex.split(code)
        except ValueError:
            continue
        if argv[:1] == ["export"]:
            declared.entrypoint_exports.update(a.split("=", 1)[0] for a in argv[1:])
        if argv[:2] == ["ngrok", "http"] and len(argv) > 2:
            declared.tunnel_agent = "ngrok"
            host = argv[2].rsplit(":", 1)[0] if ":" in argv[2] else "127.0.0.1"
            declared.proxy_sources[f"{ENTRYPOINT_FILE} ngrok http"] = host or "127.0.0.1"
            flags = parse_command(argv)
            declared.tunnel_policy_flags.append(flags.get("traffic-policy-file", ""))
            declared.tunnel_config_flags.append(flags.get("config", ""))
        elif argv[:1] == ["tailscale"] and "serve" in argv:
            declared.tunnel_agent = "tailscale"
            # `tailscale serve <port>` proxies to http://127.0.0.1:<port>
            declared.proxy_sources[f"{ENTRYPOINT_FILE} tailscale serve"] = "127.0.0.1"
    docker = root / "Dockerfile"
    if docker.exists():
        for line in docker.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if parts[:1] == ["COPY"] and any(p.endswith("ngrok-policy.yml") for p in parts[1:-1]):
                declared.tunnel_policy_copies.append(parts[-1])
    policy_path = root / NGROK_POLICY_FILE
    if declared.tunnel_agent == "ngrok" and policy_path.exists():
        declared.tunnel_policy = ngrok_policy(policy_path.read_text(encoding="utf-8"), declared)


def ngrok_policy(text: str, declared: Declared) -> dict[str, Any] | None:
    """The traffic policy document (None, with a problem noted, when unreadable)."""
    import yaml

    try:
        policy = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        declared.problems.append(f"{NGROK_POLICY_FILE} is not valid YAML: {exc}")
        return None
    return policy if isinstance(policy, dict) else None


def _read_network_policies(declared: Declared) -> None:
    for doc in declared.k8s_objects:
        if doc.get("kind") != "NetworkPolicy":
            continue
        spec = doc.get("spec") or {}
        admitted: list[str] = []
        for rule in spec.get("ingress") or []:
            for peer in rule.get("from") or [{"namespaceSelector": {}}]:
                labels = ((peer.get("namespaceSelector") or {}).get("matchLabels") or {})
                admitted.append(labels.get("kubernetes.io/metadata.name", "*"))
        name = (doc.get("metadata") or {}).get("name", "?")
        declared.network_policies[name] = admitted
        restricts = "Egress" in (spec.get("policyTypes") or []) or "egress" in spec
        declared.network_egress[name] = list(spec.get("egress") or []) if restricts else None


def read(root: str | Path, platform: str) -> Declared:
    root = Path(root)
    declared = Declared(platform=platform)
    _read_config(root, declared)
    _read_dockerfile(root, declared)
    reader = READERS.get(platform)
    if reader is None:
        declared.problems.append(f"no reader for platform {platform!r}")
    else:
        reader(root, declared)
    _read_tunnel(root, declared)
    _read_network_policies(declared)
    return declared
