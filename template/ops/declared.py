"""What a deploy repo's files actually say, read back field by field.

Each platform has one reader (``read`` in ``ops/platforms/<kind>.py``) that
parses its files (never greps them) into a ``Declared``: every place a port, bind, state dir, mount, health
path, memory size or image tag is written, keyed by where it was found. The
checks compare these places with each other and with the deploy model.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import model as m
from . import platforms
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


def to_mb(value: Any) -> int | None:
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


def load_yaml(path: Path, declared: Declared, *, many: bool = False) -> Any:
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


def load_json(path: Path, declared: Declared) -> Any:
    if not path.exists():
        declared.problems.append(f"{path.name} is missing")
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        declared.problems.append(f"{path.name} is not valid JSON: {exc}")
        return None


def record_command(declared: Declared, where: str, argv: list[str]) -> None:
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


def record_env(declared: Declared, where: str, env: dict[str, str]) -> None:
    declared.env.update(env)
    if env.get("OPENCLAW_GATEWAY_PORT", "").isdigit():
        declared.ports[f"{where} OPENCLAW_GATEWAY_PORT"] = int(env["OPENCLAW_GATEWAY_PORT"])
    if "OPENCLAW_STATE_DIR" in env:
        declared.state_dirs[f"{where} OPENCLAW_STATE_DIR"] = env["OPENCLAW_STATE_DIR"]
    heap = heap_from_node_options(env.get("NODE_OPTIONS"))
    if heap:
        declared.heap_mb[f"{where} NODE_OPTIONS"] = heap


def image_command(declared: Declared, where: str) -> None:
    """Platforms that run the image as built: its CMD is the gateway command."""
    if declared.image_cmd:
        record_command(declared, where, declared.image_cmd)
    declared.env = {**declared.image_env, **declared.env}


def size_memory(platform: str, size: str) -> int | None:
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
    room = platforms.get(platform)
    if room is None:
        declared.problems.append(f"no reader for platform {platform!r}")
    else:
        room.read(root, declared)
    _read_tunnel(root, declared)
    _read_network_policies(declared)
    return declared
