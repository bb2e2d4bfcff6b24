"""Run a generated deploy repo's own process, the way its platform would, on this machine.

No container engine runs on test machines, so the harness plays the platform:

1. ``launch_spec(root, platform)`` reads what the repo declares — the process
   command, environment, ports, volume mount, memory — from the platform's
   files (``ops.declared``) and from the image the Dockerfile builds
   (ENV, COPY, ENTRYPOINT, HEALTHCHECK). One function per platform, in
   ``LAUNCHERS``; a new platform plugs in there.
2. ``Plan`` maps the container's world onto this machine: the image's
   ``node openclaw.mjs`` (WORKDIR /app) onto the npm package's Node 24 and
   entry, the volume mount onto a temporary directory (everything else in the
   container is a fresh directory per boot: lost on restart, like a redeploy),
   files the Dockerfile COPYs onto the repo's own files, and every declared
   port onto one free loopback-reachable port. The substitution is checked:
   every place that declares a port must map to the same free port.
3. ``Gateway`` boots it: the repo's own entrypoint (first-boot seeding) execs
   the declared command, in its own session/process group. A sampler thread
   follows every descendant (the gateway's spawn broker lives in a session of
   its own) and records the tree's peak RSS; ``stop()`` sends SIGTERM, then
   SIGKILL after a bound, to the group and to every descendant ever seen.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT / "template") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "template"))

from ops import declared as d  # noqa: E402
from ops import model as m  # noqa: E402

from tests.support.openclaw_npm import OpenClaw  # noqa: E402
from tests.support.platform_env import origin_env  # noqa: E402

# Which platform/privacy variants boot how (see tests/e2e/test_gateway.py):
# the long lifecycle story (3 boots on one volume) once per distinct way of
# starting and persisting — Fly (image ENTRYPOINT, /data; private swaps the
# proxy for machine checks), Compose (two named volumes under HOME), Railway
# (startCommand naming the entrypoint, /data/.openclaw), Kubernetes (the official
# image, an init container seeding from a ConfigMap) — and a single checked
# boot on every other variant (Render and Northflank run the image as built,
# like Fly, on /data/.openclaw like Railway). Add a platform here once its
# launcher is in LAUNCHERS.
LIFECYCLE_VARIANTS: list[tuple[str, str]] = [
    ("fly", "public"), ("fly", "private"), ("gcp", "public"), ("railway", "public"),
    ("kubernetes", "public"),
]
BOOT_VARIANTS: list[tuple[str, str]] = [
    ("gcp", "private"), ("vps", "public"), ("vps", "private"), ("railway", "private"),
    ("render", "public"), ("render", "private"), ("northflank", "public"), ("northflank", "private"),
    ("kubernetes", "private"),
]
VARIANTS: list[tuple[str, str]] = LIFECYCLE_VARIANTS + BOOT_VARIANTS

STARTUP_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 20.0
PORT_ENV = ("OPENCLAW_GATEWAY_PORT", "PORT")  # env variables that carry the gateway port
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class HarnessError(AssertionError):
    """The deploy repo cannot be run as declared (or did not behave as declared)."""


# --------------------------------------------------------------------------
# What the repo declares
# --------------------------------------------------------------------------


@dataclass
class Image:
    """The parts of the Dockerfile's final stage that shape the running process."""

    env: dict[str, str] = field(default_factory=dict)
    copies: dict[str, str] = field(default_factory=dict)  # destination in image -> repo path
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)
    workdir: str = "/"
    user: str = ""  # the last USER of the final stage ("" = the base image's)


def _dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of every line, continuations joined, comments dropped."""
    lines: list[str] = []
    buf = ""
    for raw in text.splitlines():
        if not buf and raw.lstrip().startswith("#"):
            continue
        if raw.rstrip().endswith("\\"):
            buf += raw.rstrip()[:-1] + " "
            continue
        lines.append(buf + raw)
        buf = ""
    if buf:
        lines.append(buf)
    out = []
    for line in lines:
        parts = line.strip().split(None, 1)
        if parts:
            out.append((parts[0].upper(), parts[1] if len(parts) > 1 else ""))
    return out


def read_image(root: Path) -> Image:
    """ENV, COPY, ENTRYPOINT, CMD and HEALTHCHECK of the Dockerfile's last stage.

    The base image's own layout (WORKDIR, CMD) comes from ops/data/openclaw.yml.
    """
    facts = m.openclaw()
    image = Image(workdir=facts["image_workdir"], entrypoint=list(facts["image_entrypoint"]),
                  cmd=list(facts["image_cmd"]))
    instructions = _dockerfile_instructions((root / "Dockerfile").read_text(encoding="utf-8"))
    last_from = max(i for i, (op, _) in enumerate(instructions) if op == "FROM")
    for op, args in instructions[last_from + 1:]:
        if op == "ENV":
            for token in shlex.split(args):
                key, eq, value = token.partition("=")
                if eq:
                    image.env[key] = value
        elif op == "COPY":
            tokens = [t for t in shlex.split(args) if not t.startswith("--")]
            if any(t.startswith("--from") for t in shlex.split(args)):
                continue  # from another stage: not a repo file
            *sources, dest = tokens
            if len(sources) == 1 and not dest.endswith("/"):
                image.copies[dest] = sources[0]
        elif op == "ENTRYPOINT":
            image.entrypoint = json.loads(args)
        elif op == "CMD":
            image.cmd = json.loads(args)
        elif op == "WORKDIR":
            image.workdir = args.strip()
        elif op == "USER":
            image.user = args.strip()
        elif op == "HEALTHCHECK":
            match = re.search(r"\bCMD\s+(\[.*\])\s*$", args)
            if match:
                image.healthcheck = json.loads(match.group(1))
    return image


@dataclass
class LaunchSpec:
    """What one platform would run: declared values, with where each came from."""

    platform: str
    root: Path
    command: list[str]               # the container's CMD as the platform overrides it
    env: dict[str, str]              # image ENV overlaid by the platform's env
    entrypoint: list[str]            # image ENTRYPOINT (tini stripped later)
    ports: dict[str, int]            # every place that declares the gateway port
    process_port_place: str          # which of `ports` the gateway process itself takes
    probe_places: list[str]          # which of `ports` the platform probes / routes to
    mounts: list[str]                # persistent volume mount paths in the container
    memory_mb: int                   # configured machine memory
    memory_place: str                # where that memory is declared
    healthcheck: list[str]           # image HEALTHCHECK CMD
    copies: dict[str, str]           # image path -> repo path (Dockerfile COPY)
    workdir: str
    version: str                     # pinned OpenClaw version (image tag)
    declared: d.Declared
    own_image: bool = True           # runs the repo's Dockerfile (else the official image as is)
    seed: str = ""                   # container path of the seed config
    files: dict[str, str] = field(default_factory=dict)  # container path -> content (ConfigMaps)
    init: list[tuple[list[str], dict[str, str]]] = field(default_factory=list)  # init containers
    user: str = ""                   # the image's final USER ("" = the official image's)


def _single(values: dict[str, Any], what: str, root: Path) -> Any:
    distinct = set(values.values())
    if len(distinct) != 1:
        raise HarnessError(f"{root}: expected one {what}, found {values or 'none'}")
    return distinct.pop()


def _from_declared(root: Path, platform: str, *, process_place: str, probe_markers: tuple[str, ...],
                   entrypoint: list[str] | None = None, own_image: bool = True) -> LaunchSpec:
    """The common part: the platform's command and env (over the image's), its
    ports, mounts and memory, from ``ops.declared``; COPY/HEALTHCHECK from the image.

    ``process_place`` names the port place the gateway process takes (its --port);
    ``probe_markers`` pick the places the platform routes to / probes, first wins.
    ``own_image``: the platform runs the repo's Dockerfile (its ENV, COPY, HEALTHCHECK,
    ENTRYPOINT); otherwise the official image as is.
    """
    decl = d.read(root, platform)
    if decl.problems:
        raise HarnessError(f"{platform}: {'; '.join(decl.problems)}")
    image = read_image(root) if own_image else Image(
        workdir=m.openclaw()["image_workdir"], entrypoint=list(m.openclaw()["image_entrypoint"]),
        cmd=list(m.openclaw()["image_cmd"]))
    places = [place for place in decl.ports if place.startswith(process_place)]
    if not places:
        raise HarnessError(f"{platform}: the gateway command declares no --port ({process_place}): {decl.command}")
    probes = [place for marker in probe_markers for place in decl.ports if marker in place]
    if decl.memory_mb:
        memory_place, memory = next(iter(decl.memory_mb.items()))
        _single(decl.memory_mb, "machine memory", root)
    else:  # not in the platform's files (e.g. a Railway plan): the answer the files were made from
        memory_place, memory = ".copier-answers.yml vm_memory_mb", int(
            m.answers_from_file(root / ".copier-answers.yml")["vm_memory_mb"])
    return LaunchSpec(
        platform=platform, root=root,
        command=decl.command or image.cmd,
        env={**image.env, **decl.env},
        entrypoint=image.entrypoint if entrypoint is None else entrypoint,
        ports=dict(decl.ports),
        process_port_place=places[0],
        probe_places=list(dict.fromkeys(probes)),
        mounts=sorted(set(decl.mounts.values())),
        memory_mb=memory, memory_place=memory_place,
        healthcheck=image.healthcheck,
        copies=image.copies,
        workdir=image.workdir,
        version=_single(decl.image_tags, "image tag", root),
        declared=decl,
        seed={**image.env, **decl.env}.get("OPENCLAW_SEED_CONFIG", ""),
        own_image=own_image,
        user=image.user,
    )


def launch_fly(root: Path) -> LaunchSpec:
    """Fly: `[processes] app` replaces the image CMD (ENTRYPOINT stays), `[env]`
    overlays the image ENV, `[mounts]` is the volume, `[[vm]] memory` the limit;
    the proxy routes to `[http_service] internal_port`, private apps are probed
    by `[checks]`."""
    return _from_declared(root, "fly", process_place="fly.toml [processes] --port",
                          probe_markers=("fly.toml [http_service]", "fly.toml [checks."))


def launch_compose(platform: str) -> Callable[[Path], LaunchSpec]:
    """Docker Compose (gcp, vps): `command` replaces CMD, `environment` overlays ENV,
    named volumes persist; Caddy (public) proxies to the gateway, a private deploy
    publishes the port on the host's loopback."""
    def launch(root: Path) -> LaunchSpec:
        return _from_declared(root, platform, process_place="docker-compose.yml openclaw-gateway command --port",
                              probe_markers=("caddy/Caddyfile reverse_proxy", "ports target", "healthcheck port"))
    return launch


def launch_railway(root: Path) -> LaunchSpec:
    """Railway: startCommand replaces ENTRYPOINT and CMD (so it names the entrypoint
    itself); the service variables (config/railway.env) overlay ENV; traffic and the
    health check go to $PORT."""
    import json as _json

    start = _json.loads((root / "railway.json").read_text(encoding="utf-8"))["deploy"].get("startCommand")
    argv = shlex.split(start) if start else None
    wrappers = argv[:next(i for i, a in enumerate(argv) if a == "node")] if argv else None
    return _from_declared(root, "railway", process_place="railway.json startCommand --port" if argv
                          else "Dockerfile CMD --port",
                          probe_markers=("config/railway.env PORT",), entrypoint=wrappers)


def launch_render(root: Path) -> LaunchSpec:
    """Render: the image runs as built (ENTRYPOINT + CMD), envVars overlay ENV, the
    disk persists; Render routes to $PORT and checks healthCheckPath there."""
    return _from_declared(root, "render", process_place="Dockerfile CMD --port",
                          probe_markers=("render.yaml envVars PORT",))


def launch_northflank(root: Path) -> LaunchSpec:
    """Northflank: the image runs as built, runtimeEnvironment overlays ENV; the
    service port and its probes name the port."""
    return _from_declared(root, "northflank", process_place="Dockerfile CMD --port",
                          probe_markers=("northflank.json port ", "northflank.json startupProbe port"))


def launch_kubernetes(root: Path) -> LaunchSpec:
    """Kubernetes: the official image as is (tini stays: `args`, not `command`), the
    container env, the PVC mount; an init container seeds the config from the
    ConfigMap; the Service's targetPort and the probes name the port."""
    spec = _from_declared(root, "kubernetes", process_place="k8s/base/deployment.yaml gateway args --port",
                          probe_markers=("targetPort", "startupProbe port"), own_image=False)
    deployment = next(o for o in spec.declared.k8s_objects if o.get("kind") == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    config_maps = {o["metadata"]["name"]: o.get("data") or {} for o in spec.declared.k8s_objects
                   if o.get("kind") == "ConfigMap"}
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
        for mount in container.get("volumeMounts") or []:
            source = (volumes.get(mount["name"]) or {}).get("configMap")
            if source:
                for key, text in config_maps.get(source["name"], {}).items():
                    spec.files[f"{mount['mountPath'].rstrip('/')}/{key}"] = text
    for init in pod.get("initContainers") or []:
        env = {e["name"]: str(e["value"]) for e in init.get("env") or [] if "value" in e}
        spec.init.append(([*init.get("command", []), *init.get("args", [])], env))
        spec.seed = env.get("OPENCLAW_SEED_CONFIG", spec.seed)
    return spec


# Per-platform extraction: platform name -> reader of its files.
LAUNCHERS: dict[str, Callable[[Path], LaunchSpec]] = {
    "fly": launch_fly,
    "gcp": launch_compose("gcp"),
    "vps": launch_compose("vps"),
    "railway": launch_railway,
    "render": launch_render,
    "northflank": launch_northflank,
    "kubernetes": launch_kubernetes,
}


def launch_spec(root: str | Path, platform: str | None = None) -> LaunchSpec:
    root = Path(root)
    if platform is None:
        platform = m.answers_from_file(root / ".copier-answers.yml")["platform"]
    if platform not in LAUNCHERS:
        raise HarnessError(f"no e2e launcher for platform {platform!r}; add one to LAUNCHERS")
    return LAUNCHERS[platform](root)


# --------------------------------------------------------------------------
# The container's world mapped onto this machine
# --------------------------------------------------------------------------


def free_port() -> int:
    """A port nothing listens on, on every interface (the gateway binds lan = 0.0.0.0).

    Drawn below the kernel's ephemeral range, so an outgoing connection of a
    parallel test cannot take it between this check and the gateway's bind.
    """
    import random

    low = 20000
    try:
        low_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low_ephemeral = 32768
    for _ in range(50):
        port = random.randrange(low, max(low + 1000, low_ephemeral))
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("0.0.0.0", 0))
        return sock.getsockname()[1]


def gateway_token() -> str:
    """What scripts/secrets.sh generates: 32 random bytes as hex."""
    return secrets.token_bytes(32).hex()


def _under(path: str, base: str) -> str | None:
    """The part of `path` below `base`, or None."""
    p, b = PurePosixPath(path), PurePosixPath(base)
    if p == b:
        return ""
    try:
        return str(p.relative_to(b))
    except ValueError:
        return None


@dataclass
class Plan:
    """One boot's mapping: container paths and ports -> this machine's."""

    spec: LaunchSpec
    openclaw: OpenClaw
    volume: Path                       # stands in for the volume: persists across boots
    port_map: dict[int, int]           # declared port -> free port
    token: str | None
    ephemeral: Path                    # the container's own filesystem: new each boot
    extra_env: dict[str, str] = field(default_factory=dict)

    # ---- ports
    @property
    def ports(self) -> dict[str, int]:
        """Every declared place with its substituted port."""
        return {place: self.port_map[port] for place, port in self.spec.ports.items()}

    @property
    def process_port(self) -> int:
        return self.ports[self.spec.process_port_place]

    @property
    def probe_port(self) -> int:
        """Where the platform sends traffic and probes (the first probe place)."""
        if not self.spec.probe_places:
            raise HarnessError(f"{self.spec.platform}: no declared probe/route port")
        return self.ports[self.spec.probe_places[0]]

    def assert_consistent(self) -> None:
        """Every place that declares the port got the same free port.

        Fails when the repo's files disagree with each other (e.g. --port vs
        internal_port): the platform would route to a port nothing listens on.
        """
        mapped = self.ports
        if len(set(mapped.values())) != 1:
            by_port: dict[int, list[str]] = {}
            for place, port in self.spec.ports.items():
                by_port.setdefault(port, []).append(place)
            detail = "; ".join(f"{port}: {', '.join(places)}" for port, places in by_port.items())
            raise HarnessError(f"{self.spec.platform}: declared gateway ports disagree ({detail})")
        argv_port = d.parse_command(self.argv()).get("port")
        if argv_port is not None and int(argv_port) != self.process_port:
            raise HarnessError(f"--port in the mapped command is {argv_port}, expected {self.process_port}")
        for key in PORT_ENV:
            value = self.env().get(key)
            if value is not None and int(value) != self.process_port:
                raise HarnessError(f"{key} maps to {value}, expected {self.process_port}")

    # ---- paths
    def host_path(self, path: str) -> str:
        """A container path on this machine."""
        if path == self.spec.seed:  # written substituted by prepare()
            return str(self.ephemeral / "root" / path.lstrip("/"))
        if path in self.spec.copies:
            return str(self.spec.root / self.spec.copies[path])
        for mount in sorted(self.spec.mounts, key=len, reverse=True):
            if _under(path, mount) is not None:
                return str(self.volume / path.lstrip("/"))
        rel = _under(path, self.spec.workdir)
        if rel is not None:
            return str(self.openclaw.entry.parent / rel)
        if path.startswith("/"):
            return str(self.ephemeral / "root" / path.lstrip("/"))
        return path

    @property
    def state_dir(self) -> Path:
        return Path(self.host_path(self.env_container().get("OPENCLAW_STATE_DIR", self.home_container() + "/.openclaw")))

    @property
    def config_path(self) -> Path:
        env = self.env_container()
        path = env.get("OPENCLAW_CONFIG_PATH") or f"{env.get('OPENCLAW_STATE_DIR', self.home_container() + '/.openclaw')}/openclaw.json"
        return Path(self.host_path(path))

    def home_container(self) -> str:
        return f"/home/{m.openclaw()['image_user']}"

    def home_at_start(self) -> str:
        """HOME as the engine sets it when the container starts: from the image's
        USER (/root for an image that ends with USER 0). Whatever changes it later
        (the entrypoint dropping to uid 1000) must be the product's doing, not the
        harness's: the container tests (tests/container) check that part."""
        return "/root" if self.spec.user in ("0", "root", "0:0") else self.home_container()

    def env_container(self) -> dict[str, str]:
        return dict(self.spec.env)

    def seed_text(self) -> str:
        """The seed config as the image/platform ships it (a Dockerfile COPY or a ConfigMap)."""
        seed = self.spec.seed
        if seed in self.spec.files:
            return self.spec.files[seed]
        if seed in self.spec.copies:
            return (self.spec.root / self.spec.copies[seed]).read_text(encoding="utf-8")
        raise HarnessError(f"the seed config {seed!r} is neither a file the Dockerfile copies nor a ConfigMap key")

    def expected_seed(self) -> dict[str, Any]:
        """The generated seed with the port substituted, nothing else."""
        return substitute_config(json.loads(self.seed_text()), self.port_map)

    def init_steps(self) -> list[tuple[list[str], dict[str, str]]]:
        """Init containers, mapped like the main container."""
        return [(argv, self._map_env(env)) for argv, env in self.spec.init]

    # ---- process
    def argv(self) -> list[str]:
        """ENTRYPOINT (minus tini, whose job the harness does) + the declared command, mapped."""
        entry = list(self.spec.entrypoint)
        if entry[:1] == ["tini"]:
            entry = entry[entry.index("--") + 1:] if "--" in entry else entry[1:]
        out: list[str] = []
        if entry:
            out += ["sh", self.host_path(entry[0]), *entry[1:]]
        command = list(self.spec.command)
        flags_with_port = {"--port"}
        for i, arg in enumerate(command):
            if i == 0 and arg == "node":
                out.append(str(self.openclaw.node))
            elif i > 0 and command[i - 1] in flags_with_port and arg.isdigit():
                out.append(str(self.port_map.get(int(arg), int(arg))))
            elif arg.startswith("--port="):
                port = int(arg.split("=", 1)[1])
                out.append(f"--port={self.port_map.get(port, port)}")
            elif i == 1 and command[0] == "node" and not arg.startswith("-"):
                script = arg if arg.startswith("/") else str(PurePosixPath(self.spec.workdir) / arg)
                out.append(self.host_path(script))
            else:
                out.append(arg)
        return out

    def _map_env(self, declared_env: dict[str, str]) -> dict[str, str]:
        env = {
            "PATH": f"{self.openclaw.node.parent}:{SYSTEM_PATH}",
            "HOME": self.host_path(self.home_at_start()),
            "LANG": "C.UTF-8",
        }
        for key, value in declared_env.items():
            if key in PORT_ENV and value.isdigit():
                value = str(self.port_map.get(int(value), int(value)))
            elif value.startswith("/"):
                value = self.host_path(value)
            env[key] = value
        return env

    def env(self) -> dict[str, str]:
        """The process environment: a clean container-like base, the image ENV and
        the platform env with paths and ports mapped, the token as a platform secret."""
        env = self._map_env(self.spec.env)
        if self.token is not None:
            env[m.openclaw()["token_env"]] = self.token
        # what the platform (or its secrets step) sets for the public origin
        env.update(origin_env(self.spec.root))
        # the entrypoint drops root to uid 1000 in the image; here it stays this user
        env["OPENCLAW_RUN_AS"] = f"{os.getuid()}:{os.getgid()}"
        env.update(self.extra_env)
        return env

    def prepare(self) -> None:
        """A fresh container filesystem for this boot (the volume is kept)."""
        import shutil

        if self.ephemeral.exists():
            shutil.rmtree(self.ephemeral)
        Path(self.host_path(self.home_container())).mkdir(parents=True, exist_ok=True)
        Path(self.host_path(self.home_at_start())).mkdir(parents=True, exist_ok=True)
        self.volume.mkdir(parents=True, exist_ok=True)
        for mount in self.spec.mounts:  # a platform volume exists (empty) before the first boot
            Path(self.host_path(mount)).mkdir(parents=True, exist_ok=True)
        for path, text in self.spec.files.items():  # ConfigMap volumes
            Path(self.host_path(path)).parent.mkdir(parents=True, exist_ok=True)
            Path(self.host_path(path)).write_text(text, encoding="utf-8")
        seed = Path(self.host_path(self.spec.seed))
        seed.parent.mkdir(parents=True, exist_ok=True)
        seed.write_text(json.dumps(self.expected_seed(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    def healthcheck_argv(self, port: int | None = None, path: str | None = None) -> list[str]:
        """The image HEALTHCHECK command, mapped (optionally with another port/path)."""
        hc = list(self.spec.healthcheck)
        if not hc:
            raise HarnessError("the Dockerfile declares no HEALTHCHECK CMD")
        out = [str(self.openclaw.node) if hc[0] == "node" else hc[0], self.host_path(hc[1])]
        args = hc[2:]
        if args and args[0].isdigit():
            args[0] = str(port if port is not None else self.port_map.get(int(args[0]), int(args[0])))
        if path is not None and len(args) > 1:
            args[1] = path
        return out + args


def substitute_config(config: dict[str, Any], port_map: dict[int, int]) -> dict[str, Any]:
    """The config with gateway.port substituted (nothing else changes)."""
    config = json.loads(json.dumps(config))
    gateway = config.get("gateway")
    if isinstance(gateway, dict) and isinstance(gateway.get("port"), int):
        gateway["port"] = port_map.get(gateway["port"], gateway["port"])
    return config


def make_plan(spec: LaunchSpec, openclaw: OpenClaw, workdir: Path, *, token: str | None = "generate",
              volume: Path | None = None, port_map: dict[int, int] | None = None) -> Plan:
    """A plan with a fresh free port per distinct declared port and a new volume."""
    if port_map is None:
        port_map = {port: free_port() for port in sorted(set(spec.ports.values()))}
    if token == "generate":
        token = gateway_token()
    return Plan(spec=spec, openclaw=openclaw, volume=volume or workdir / "volume", port_map=port_map,
                token=token, ephemeral=workdir / "container")


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    content_type: str
    text: str

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None


def http_get(port: int, path: str, timeout: float = 3.0) -> Response | None:
    """GET http://127.0.0.1:<port><path>; None when nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as res:
            return Response(res.status, res.headers.get("content-type", ""), res.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as err:
        return Response(err.code, err.headers.get("content-type", ""), err.read().decode("utf-8", "replace"))
    except (OSError, urllib.error.URLError):
        return None


# --------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------


def _proc_stat(pid: int) -> tuple[int, int] | None:
    """(ppid, starttime) of a live pid."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[19])


def _rss_kb(pid: int, key: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _is_zombie(pid: int) -> bool:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return raw[raw.rindex(")") + 2:].startswith("Z")


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _proc_stat(int(entry))
            if st:
                children.setdefault(st[0], []).append(int(entry))
    return children


_LIVE: set["Gateway"] = set()


def _stop_all_live() -> None:
    for gw in list(_LIVE):
        gw.stop()


atexit.register(_stop_all_live)


class Gateway:
    """One boot of the deploy: entrypoint -> gateway, in its own session.

    Use as a context manager (or call stop()): it never outlives the test.
    """

    def __init__(self, plan: Plan, log_path: Path, name: str = "gateway"):
        self.plan = plan
        self.log_path = log_path
        self.name = name
        self.proc: subprocess.Popen | None = None
        self.seen: dict[int, int] = {}          # descendant pid -> starttime
        self.peak_tree_rss_kb = 0
        self.started_at = 0.0
        self._sampler: threading.Thread | None = None
        self._halt = threading.Event()

    # -- lifecycle
    def start(self, *, check_consistent: bool = True) -> "Gateway":
        if check_consistent:
            self.plan.assert_consistent()
        self.plan.prepare()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        for i, (argv, env) in enumerate(getattr(self.plan, "init_steps", list)()):
            log.write(f"\n=== {self.name} init #{i + 1}: {shlex.join(argv)}\n".encode())
            log.flush()
            init = subprocess.run(argv, env=env, cwd=self.plan.ephemeral, stdin=subprocess.DEVNULL,
                                  stdout=log, stderr=subprocess.STDOUT, timeout=60)
            if init.returncode:
                log.close()
                raise HarnessError(f"{self.name}: init container #{i + 1} exited {init.returncode}:\n{self.log()}")
        log.write(f"\n=== {self.name}: {shlex.join(self.plan.argv())}\n".encode())
        log.flush()
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(self.plan.argv(), env=self.plan.env(), cwd=self.plan.ephemeral,
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        _LIVE.add(self)
        self._halt.clear()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        return self

    def __enter__(self) -> "Gateway":
        return self if self.proc else self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _sample(self) -> None:
        while not self._halt.is_set() and self.proc is not None:
            self._scan()
            self._halt.wait(0.5)

    def _scan(self) -> None:
        if self.proc is None:
            return
        children = _children_map()
        todo, tree = [self.proc.pid], []
        while todo:
            pid = todo.pop()
            st = _proc_stat(pid)
            if st is None:
                continue
            tree.append(pid)
            self.seen.setdefault(pid, st[1])
            todo += children.get(pid, [])
        total = sum(_rss_kb(pid) for pid in tree)
        self.peak_tree_rss_kb = max(self.peak_tree_rss_kb, total)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self, tail: int = 60) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        text = re.sub(r"\x1b\[[0-9;]*m", "", text)
        return "\n".join(text.splitlines()[-tail:])

    def wait_started(self, timeout: float = STARTUP_TIMEOUT_S, port: int | None = None) -> dict[str, Any]:
        """Poll /startupz on the platform's probe port until it reports started."""
        port = port or self.plan.probe_port
        path = m.openclaw()["health"]["startup"]
        deadline = time.monotonic() + timeout
        last: Response | None = None
        while time.monotonic() < deadline:
            if not self.alive():
                raise HarnessError(f"{self.name} exited with {self.proc.returncode} before {path} "
                                   f"reported started:\n{self.log()}")
            last = http_get(port, path, timeout=2.0)
            body = last.json() if last else None
            if isinstance(body, dict) and body.get("status") == "started":
                self.startup_seconds = time.monotonic() - self.started_at
                return body
            time.sleep(0.5)
        seen = f"{last.status} {last.text[:200]!r}" if last else "no answer"
        raise HarnessError(f"{self.name}: {path} on 127.0.0.1:{port} not started within {timeout:.0f} s "
                           f"(last: {seen}):\n{self.log()}")

    def wait_exit(self, timeout: float = 120.0) -> int:
        """For boots that must refuse: wait for the exit code (killed after the bound)."""
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise HarnessError(f"{self.name} still running after {timeout:.0f} s:\n{self.log()}")
        finally:
            self._halt.set()
            self._reap_leftovers()
            _LIVE.discard(self)

    def rss_mb(self) -> dict[str, float]:
        """Peak RSS: the gateway process (kernel high-water mark) and the sampled tree."""
        self._scan()
        # the gateway is the launched process or, under the entrypoint, one of its descendants
        return {"gateway_peak_mb": max(_rss_kb(pid, "VmHWM") for pid in {self.pid, *self.seen}) / 1024,
                "tree_peak_mb": self.peak_tree_rss_kb / 1024}

    def _alive_seen(self) -> list[int]:
        """Descendants ever seen that still run (same start time: not a recycled pid; not a zombie)."""
        out = []
        for pid, start in self.seen.items():
            st = _proc_stat(pid)
            if st and st[1] == start and not _is_zombie(pid):
                out.append(pid)
        return out

    def _kill_leftovers(self, sig: int) -> None:
        for pid in self._alive_seen():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def _reap_leftovers(self, grace: float = 5.0) -> None:
        """Children outside the process group (other sessions, orphans): TERM, then KILL."""
        self._kill_leftovers(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while self._alive_seen() and time.monotonic() < deadline:
            time.sleep(0.05)
        self._kill_leftovers(signal.SIGKILL)
        deadline = time.monotonic() + 5
        while self._alive_seen() and time.monotonic() < deadline:
            time.sleep(0.05)
        left = self._alive_seen()
        if left:
            raise HarnessError(f"{self.name}: processes {left} survived SIGKILL")

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass

    def kill9(self) -> None:
        """The machine dies (OOM kill, host crash): SIGKILL to everything at once."""
        if self.proc is None:
            return
        self._scan()
        self._signal_group(signal.SIGKILL)
        self._kill_leftovers(signal.SIGKILL)
        self.proc.wait(timeout=STOP_TIMEOUT_S)
        self._halt.set()
        self._reap_leftovers(grace=0)
        _LIVE.discard(self)

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM the group, SIGKILL whatever remains after `timeout`."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self._scan()
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._halt.set()
        _LIVE.discard(self)
        self._reap_leftovers()
        return self.proc.returncode


def run_healthcheck(plan: Plan, port: int | None = None, path: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(plan.healthcheck_argv(port, path), capture_output=True, text=True, timeout=30,
                          env={"PATH": f"{plan.openclaw.node.parent}:{SYSTEM_PATH}"})


def read_state(state_dir: Path) -> dict[str, Any]:
    """The gateway's state database, read-only: device identity and boot history.

    Table names are OpenClaw 2026.9.x internals: re-check when the pin moves.
    """
    import sqlite3

    db = state_dir / "state" / "openclaw.sqlite"
    if not db.exists():
        raise HarnessError(f"no state database at {db}")
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        devices = [r[0] for r in con.execute("select device_id from device_identities order by identity_key")]
        boots = [dict(zip(("pid", "started_at_ms", "completed_at_ms", "outcome"), r)) for r in
                 con.execute("select pid, started_at_ms, completed_at_ms, outcome from gateway_boot_lifecycle "
                             "order by started_at_ms")]
    finally:
        con.close()
    return {"devices": devices, "boots": boots}


def gateway_probe(plan: Plan, token: str | None) -> dict[str, Any]:
    """`openclaw gateway probe --json` against the running gateway's probe port with
    `token`; returns the explicit target's report (connect, auth, server)."""
    argv = plan.openclaw.argv("gateway", "probe", "--json", "--timeout", "8000",
                              "--url", f"ws://127.0.0.1:{plan.probe_port}")
    if token is not None:
        argv += ["--token", token]
    env = {"PATH": f"{plan.openclaw.node.parent}:{SYSTEM_PATH}", "HOME": str(plan.ephemeral / "probe-home")}
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        raise HarnessError(f"gateway probe printed no JSON (exit {proc.returncode}): {proc.stdout[-500:]}{proc.stderr[-500:]}")
    targets = [t for t in report.get("targets", []) if t.get("id") == "explicit"]
    if not targets:
        raise HarnessError(f"gateway probe reported no explicit target: {proc.stdout[-500:]}")
    return targets[0]
