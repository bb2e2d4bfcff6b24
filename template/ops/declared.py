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
    """Tag of every ``FROM <openclaw image>`` line (the final one decides)."""
    image = m.openclaw()["image"]
    tags: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].upper() == "FROM" and parts[1].startswith(image):
            ref = parts[1][len(image):]
            tags["Dockerfile FROM"] = ref[1:] if ref.startswith(":") else (ref or "latest")
    return tags


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


# Platform readers: issue-by-issue, each platform adds its own.
READERS: dict[str, Callable[[Path, Declared], None]] = {"fly": read_fly}


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
    return declared
