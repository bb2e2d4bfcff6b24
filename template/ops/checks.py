"""Static checks of a deploy repo: each known failure mode is one function.

A check reads the parsed files (``Declared``) and the deploy model rebuilt from
``.copier-answers.yml`` and returns a ``Result``: PASS / FAIL / WARN / SKIP,
what it saw, and the fix. ``make verify`` and the troubleshooting runbook
render the same list. A new failure mode is one new function here.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable


from . import declared as d
from . import model as m
from . import pin_images as pins
from . import traffic_policy
from .secret_scan import find_secrets

PASS, FAIL, WARN, SKIP = "PASS", "FAIL", "WARN", "SKIP"
JSON_PROBES = {"/startupz", "/healthz", "/health", "/readyz", "/ready"}
REACHABLE_BINDS = {"lan", "auto", "custom", "tailnet"}


@dataclass
class Result:
    check: str
    status: str
    seen: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Repo:
    root: Path
    model: m.DeployModel
    declared: d.Declared


def load_repo(root: str | Path) -> Repo:
    root = Path(root)
    answers = m.answers_from_file(root / ".copier-answers.yml")
    model = m.build(answers)
    return Repo(root=root, model=model, declared=d.read(root, model.platform))


def _places(values: dict) -> str:
    return "; ".join(f"{where} = {value}" for where, value in values.items()) or "nothing"


def check_files_parse(repo: Repo) -> Result:
    if repo.declared.problems:
        return Result("files parse", FAIL, "; ".join(repo.declared.problems),
                      "restore the file from the template: `make update` or `git checkout -- <file>`")
    return Result("files parse", PASS, "platform files, Dockerfile and config/openclaw.json parse")


def check_port_agreement(repo: Repo) -> Result:
    ports = repo.declared.ports
    seen = _places(ports)
    if not ports:
        return Result("port agreement", FAIL, "no gateway port declared anywhere",
                      f"pass --port {repo.model.port} to the gateway")
    wrong = {k: v for k, v in ports.items() if v != repo.model.port}
    if wrong:
        return Result(
            "port agreement", FAIL, seen,
            f"every place must say {repo.model.port} (gateway_port in .copier-answers.yml); "
            "a proxy or health check on another port sees 'connection refused' / 'no open ports'",
        )
    return Result("port agreement", PASS, seen)


def check_bind(repo: Repo) -> Result:
    binds = repo.declared.binds
    bad = {k: v for k, v in binds.items() if v not in REACHABLE_BINDS}
    if not binds:
        return Result("bind reachable from the proxy", FAIL, "no --bind given",
                      "add --bind lan to the gateway command (loopback is unreachable from the platform proxy)")
    if bad:
        return Result("bind reachable from the proxy", FAIL, _places(binds),
                      "use --bind lan: a gateway on loopback inside a container is unreachable "
                      "('App is not listening on expected address')")
    return Result("bind reachable from the proxy", PASS, _places(binds))


def check_state_on_volume(repo: Repo) -> Result:
    states, mounts = repo.declared.state_dirs, repo.declared.mounts
    if not states:
        return Result("state dir on the volume", FAIL, f"no OPENCLAW_STATE_DIR; mounts: {_places(mounts)}",
                      f"set OPENCLAW_STATE_DIR={repo.model.state_dir} so state is written to the volume")
    if not mounts:
        return Result("state dir on the volume", FAIL, f"{_places(states)}; no volume mounted",
                      f"mount the volume at {repo.model.volume_mount}: without it config and channels "
                      "are lost on every redeploy")
    off = {
        where: path for where, path in states.items()
        if not any(path == mnt or path.startswith(mnt.rstrip('/') + '/') for mnt in mounts.values())
    }
    seen = f"{_places(states)}; {_places(mounts)}"
    if off:
        return Result("state dir on the volume", FAIL, seen,
                      f"point OPENCLAW_STATE_DIR into the volume ({repo.model.state_dir}); "
                      "state outside it is lost on redeploy")
    return Result("state dir on the volume", PASS, seen)


def check_health_paths(repo: Repo) -> Result:
    paths = repo.declared.health_paths
    if not paths:
        return Result("health checks probe JSON endpoints", WARN, "no health check declared",
                      f"add a check on {repo.model.startup_path}")
    bad = {k: v for k, v in paths.items() if v not in JSON_PROBES}
    if bad:
        return Result("health checks probe JSON endpoints", FAIL, _places(paths),
                      f"use {repo.model.startup_path} (or /healthz): any other path answers 200 "
                      "with the Control UI, so the check passes even when the gateway is broken")
    return Result("health checks probe JSON endpoints", PASS, _places(paths))


def _check_shared_vm_memory(repo: Repo, reserve: int) -> Result:
    """Compose on a VM: the gateway's mem_limit, every other service's limit and
    what the OS and Docker keep must fit in the VM's memory (answers: vm_size)."""
    model, declared = repo.model, repo.declared
    facts = m.openclaw()["memory"]
    limit = min(declared.memory_mb.values())
    others = declared.sidecar_memory_mb
    seen = "; ".join([f"VM {model.memory_mb} MB ({model.vm_size})", _places(declared.memory_mb),
                      *(f"docker-compose.yml {k} mem_limit = {v}" for k, v in others.items() if v),
                      f"heap {_places(declared.heap_mb)}"])
    unlimited = sorted(k for k, v in others.items() if not v)
    if unlimited:
        return Result("memory and heap", FAIL, seen,
                      f"give {', '.join(unlimited)} a mem_limit in docker-compose.yml: "
                      "without one it can take the gateway's memory")
    sidecars = sum(others.values())
    used = limit + sidecars + reserve
    if used > model.memory_mb:
        fits = model.memory_mb - reserve - sidecars
        return Result("memory and heap", FAIL, seen,
                      f"limits + {reserve} MB for the OS and Docker = {used} MB > the VM's "
                      f"{model.memory_mb} MB; use mem_limit: {fits}m")
    if any(h >= limit for h in declared.heap_mb.values()):
        return Result("memory and heap", FAIL, seen,
                      f"--max-old-space-size must stay below mem_limit; use {m.heap_mb(limit)}")
    if model.memory_mb < facts["recommended_mb"]:
        swap = "" if declared.memswap_mb and declared.memswap_mb > limit else "; set memswap_limit"
        return Result("memory and heap", WARN, seen,
                      f"{model.memory_mb} MB may OOM under load: add swap on the VM (RUNBOOK){swap}; "
                      f"{facts['recommended_mb']} MB is recommended")
    return Result("memory and heap", PASS, seen)


def check_memory(repo: Repo) -> Result:
    mem, heap = repo.declared.memory_mb, repo.declared.heap_mb
    facts = m.openclaw()["memory"]
    seen = f"{_places(mem)}; heap {_places(heap)}"
    host = m.platforms().get(repo.model.platform, {}).get("host")
    if host and mem:
        return _check_shared_vm_memory(repo, int(host["reserve_mb"]))
    if not mem and not m.platforms().get(repo.model.platform, {}).get("declares_memory", True):
        heap_ok = all(h < repo.model.memory_mb for h in heap.values())
        return Result("memory and heap", PASS if heap_ok else FAIL,
                      f"{repo.model.platform_label} sets memory outside these files; {seen}",
                      "" if heap_ok else f"--max-old-space-size must stay below {repo.model.memory_mb} MB")
    if not mem:
        return Result("memory and heap", WARN, seen, "declare the machine memory (2048 MB recommended)")
    smallest = min(mem.values())
    if smallest < facts["refuse_below_mb"]:
        return Result("memory and heap", FAIL, seen,
                      f"give the machine {facts['recommended_mb']} MB: an idle gateway uses ~810 MB")
    if any(h >= smallest for h in heap.values()):
        return Result("memory and heap", FAIL, seen,
                      f"--max-old-space-size must stay below the machine memory; use {m.heap_mb(smallest)}")
    if smallest < facts["recommended_mb"]:
        return Result("memory and heap", WARN, seen,
                      f"{smallest} MB may OOM under load; {facts['recommended_mb']} MB is recommended")
    return Result("memory and heap", PASS, seen)


def check_auth(repo: Repo) -> Result:
    config = repo.declared.config or {}
    auth = config.get("gateway", {}).get("auth", {})
    mode = auth.get("mode", "token")
    if mode == "none":
        return Result("gateway auth", FAIL, "gateway.auth.mode = none",
                      "use token auth: a gateway reachable beyond loopback must authenticate")
    if mode == "trusted-proxy" and auth.get("token"):
        return Result("gateway auth", FAIL, "trusted-proxy with a shared token",
                      "trusted-proxy and a shared token are mutually exclusive: startup is refused")
    if mode == "token" and not auth.get("token"):
        return Result("gateway auth", PASS, "token mode; token from OPENCLAW_GATEWAY_TOKEN",
                      "run scripts/secrets.sh so the token is set")
    return Result("gateway auth", PASS, f"gateway.auth.mode = {mode}")


def check_public_ingress(repo: Repo) -> Result:
    declared = repo.declared.public_ingress
    if declared is None:
        return Result("public ingress matches privacy", SKIP, "platform files do not say",
                      "runs when the platform file declares its ingress (this platform's does not)")
    if declared != repo.model.public:
        return Result("public ingress matches privacy", FAIL,
                      f"privacy={repo.model.privacy} but public ingress is {'on' if declared else 'off'}",
                      "regenerate the platform file with `make update` (privacy decides the ingress)")
    return Result("public ingress matches privacy", PASS,
                  f"privacy={repo.model.privacy}; public ingress {'on' if declared else 'off'}")


def check_allowed_origins(repo: Repo) -> Result:
    if not repo.model.public_origin:
        return Result("Control UI allowed origins", SKIP, "private deploy: no public origin",
                      "runs for a public deploy (privacy=public)")
    origins = (repo.declared.config or {}).get("gateway", {}).get("controlUi", {}).get("allowedOrigins", [])
    if repo.model.public_origin not in origins:
        return Result("Control UI allowed origins", FAIL, f"allowedOrigins = {origins}",
                      f"add {repo.model.public_origin} to gateway.controlUi.allowedOrigins "
                      "('origin not allowed' in the browser, crash loop on non-loopback binds)")
    return Result("Control UI allowed origins", PASS, f"allowedOrigins = {origins}")


_BARE_ORIGIN = re.compile(r"^(?:https://[^/?#@\s]+|(?:https://)?\$\{[A-Z_][A-Z0-9_]*\})$")


def check_public_origin(repo: Repo) -> Result:
    """gateway.publicOrigin is the deploy's one public origin: the model's, allowed for the
    Control UI, and (Compose) Caddy's site address."""
    name = "gateway public origin"
    gateway = (repo.declared.config or {}).get("gateway") or {}
    value = gateway.get("publicOrigin")
    want = repo.model.public_origin
    if not want:
        if value:
            return Result(name, WARN, f"private deploy with gateway.publicOrigin = {value!r}",
                          "links and OAuth callbacks point there; remove it unless that URL reaches this gateway")
        return Result(name, PASS, "private deploy: no public origin")
    fix = f'set "publicOrigin": "{want}" under gateway in config/openclaw.json (`copier update` restores it)'
    if value != want:
        return Result(name, FAIL, f"gateway.publicOrigin = {value!r}, the deploy's origin is {want}",
                      fix + "; OAuth callbacks, Slack action links and Control UI deep links use it")
    if not _BARE_ORIGIN.match(value):
        return Result(name, FAIL, f"gateway.publicOrigin = {value!r}", "a bare https:// origin: no path, query or credentials")
    allowed = ((gateway.get("controlUi") or {}).get("allowedOrigins")) or []
    if value not in allowed:
        return Result(name, FAIL, f"gateway.publicOrigin = {value} is not in allowedOrigins {allowed}",
                      f"add {value} to gateway.controlUi.allowedOrigins (links to the Control UI open that origin)")
    host = value.removeprefix("https://")
    if repo.declared.sites and host not in repo.declared.sites:
        return Result(name, FAIL, f"gateway.publicOrigin = {value}; Caddy serves {repo.declared.sites}",
                      "`copier update` with the domain Caddy serves (the answers' domain)")
    return Result(name, PASS, f"gateway.publicOrigin = {value} (in allowedOrigins"
                  + (", Caddy's site" if repo.declared.sites else "") + ")")


def _covered(address: str, trusted: list[str]) -> bool:
    import ipaddress

    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in trusted:
        try:
            if ip in ipaddress.ip_network(str(entry), strict=False):
                return True
        except ValueError:
            continue
    return False


def check_trusted_proxies(repo: Repo) -> Result:
    """A proxy in front of the gateway must be in gateway.trustedProxies: the gateway
    answers 403 proxy_attribution_required to forwarded headers from anyone else."""
    name = "reverse proxy is trusted"
    trusted = (repo.declared.config or {}).get("gateway", {}).get("trustedProxies") or []
    sources = repo.declared.proxy_sources
    if not repo.model.public and not sources and not trusted and not repo.model.trusted_proxies:
        return Result(name, SKIP, "private deploy without a tunnel: no proxy forwards client headers")
    untrusted = {k: v for k, v in sources.items() if not _covered(v, trusted)}
    missing = [p for p in repo.model.trusted_proxies if p not in trusted]
    if untrusted or missing:
        return Result(name, FAIL, f"gateway.trustedProxies = {trusted}; proxy sources: {_places(sources)}",
                      f"set gateway.trustedProxies to {list(repo.model.trusted_proxies)}: requests with "
                      "X-Forwarded-For from any other sender get 403 proxy_attribution_required")
    unset = [ref for t in trusted for ref in re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", str(t))
             if ref not in repo.declared.entrypoint_exports]
    if unset:
        return Result(name, FAIL, f"gateway.trustedProxies names {unset}, which docker/entrypoint.sh never sets",
                      "regenerate docker/entrypoint.sh (`make update`): it resolves the app's own address, "
                      "the last X-Forwarded-For hop; unset, every client looks like that one address")
    extra = [t for t in trusted if t not in repo.model.trusted_proxies]
    if extra:
        return Result(name, FAIL, f"gateway.trustedProxies = {trusted} trusts {extra} beyond the proxy that is there",
                      f"set gateway.trustedProxies to {list(repo.model.trusted_proxies)}: any sender in {extra} "
                      "can choose its own client address (dodge the auth rate limit, lock out others)")
    if not trusted and not sources:
        return Result(name, WARN, "no gateway.trustedProxies and no proxy declared",
                      "a public deploy behind a proxy needs the proxy's address in gateway.trustedProxies")
    return Result(name, PASS, f"gateway.trustedProxies = {trusted}; proxy sources: {_places(sources)}")


def check_checker_paths(repo: Repo) -> Result:
    """The platform's own health checker sends no X-Forwarded-For; from inside
    gateway.trustedProxies it gets 403 proxy_attribution_required on every probe
    but the liveness one (/health, /healthz are answered before attribution)."""
    name = "platform checks pass without forwarding headers"
    trusted = (repo.declared.config or {}).get("gateway", {}).get("trustedProxies") or []
    remote = [t for t in trusted if not _covered("127.0.0.1", [t]) and not _covered("::1", [t])]
    checks = {k: v for k, v in repo.declared.health_paths.items() if not k.startswith("Dockerfile")
              and "docker-compose" not in k}
    if not remote:
        return Result(name, PASS, f"no platform range trusted; checks: {_places(checks) if checks else 'none'}")
    health = m.openclaw()["health"]
    attributed = {health["startup"], health["readiness"], "/startup", "/ready"}  # not /health(z)
    refused = {k: v for k, v in checks.items() if v in attributed}
    if refused:
        return Result(name, FAIL, f"{_places(refused)} with gateway.trustedProxies = {remote}",
                      f"probe {repo.model.check_path} there: the checker sends no X-Forwarded-For and the "
                      "gateway answers such a trusted sender 403 proxy_attribution_required on "
                      f"{repo.model.startup_path} and {repo.model.readiness_path}, so the check never passes")
    return Result(name, PASS, _places(checks) if checks else "no platform check declared")


def check_tunnel_exposure(repo: Repo) -> Result:
    """ngrok on a private deploy forwards only the webhook paths (its traffic policy)."""
    name = "tunnel exposes only webhook paths"
    declared = repo.declared
    if declared.tunnel_agent != "ngrok":
        return Result(name, SKIP, f"tunnel={repo.model.tunnel}: no ngrok endpoint")
    policy = m.openclaw()["tunnels"]["ngrok"]["policy_file"]
    if not declared.tunnel_policy_flags or any(f != policy for f in declared.tunnel_policy_flags):
        return Result(name, FAIL, f"ngrok http --traffic-policy-file: {declared.tunnel_policy_flags}",
                      f"start ngrok with --traffic-policy-file {policy}: without it the whole gateway "
                      "(Control UI, WebSocket, HTTP APIs) is on the public ngrok URL")
    if policy not in declared.tunnel_policy_copies:
        return Result(name, FAIL, f"Dockerfile copies the policy to {declared.tunnel_policy_copies or 'nowhere'}",
                      f"COPY docker/ngrok-policy.yml {policy} (ngrok refuses to start without it)")
    want = [f"{method} {path}" for method, path in repo.model.tunnel_routes]
    try:
        if declared.tunnel_policy is None:
            raise ValueError("not a YAML mapping")
        got = traffic_policy.open_requests(declared.tunnel_policy, repo.model.tunnel_paths)
    except ValueError as exc:
        return Result(name, FAIL, f"docker/ngrok-policy.yml cannot be read: {exc}",
                      "regenerate it (`make update`); verify reads the rules the template writes")
    extra = [r for r in got if r not in want]
    if extra:
        return Result(name, FAIL, f"docker/ngrok-policy.yml lets through: {', '.join(extra)}",
                      f"deny requests with an Upgrade header, and every request but {', '.join(want)}: "
                      "the gateway opens the operator WebSocket on any path no route claims")
    if set(want) - set(got):
        return Result(name, WARN, f"docker/ngrok-policy.yml lets through {got}; the channels need {want}",
                      "regenerate it (`make update`): a selected channel's webhook path is denied")
    return Result(name, PASS, f"ngrok forwards only {', '.join(got)} (no upgrades)")


def check_ngrok_authtoken(repo: Repo) -> Result:
    """The bare ngrok agent gets its authtoken from a --config file (the image's
    entrypoint, which turns NGROK_AUTHTOKEN into one, is not what runs here)."""
    name = "ngrok reads its authtoken from a config file"
    flags = repo.declared.tunnel_config_flags
    if repo.declared.tunnel_agent != "ngrok":
        return Result(name, SKIP, f"tunnel={repo.model.tunnel}: no ngrok agent")
    if not flags or not all(flags):
        return Result(name, FAIL, f"{d.ENTRYPOINT_FILE}: ngrok http without --config",
                      "write NGROK_AUTHTOKEN into a 0600 config file (agent.authtoken) and pass --config: "
                      "the agent does not read the variable, and argv would show the token")
    return Result(name, PASS, f"ngrok http --config {flags[0]}")


def room_row(slot: str, name: str, skip: Callable[[m.DeployModel], str]) -> Callable[[Repo], Result]:
    """A row of `make verify` that a platform's room answers (its ``VERIFY_ROWS[slot]``, given
    the ``Repo``); SKIP with ``skip(model)``'s words on a platform whose room has none. The
    room is asked when the row runs, never at import: the rooms import this module."""
    def check(repo: Repo) -> Result:
        from . import platforms

        own = (getattr(platforms.get(repo.model.platform), "VERIFY_ROWS", None) or {}).get(slot)
        return own(repo) if own else Result(name, SKIP, skip(repo.model))

    check.__name__ = check.__qualname__ = f"check_{slot}"
    return check


# Rows only a pod network or a cluster registry answers (Kubernetes' room has them).
check_network_policy = room_row("network_policy", "only the ingress controller reaches the gateway",
                                lambda model: f"{model.platform_label}: no pod network")
check_network_egress = room_row("network_egress", "gateway egress blocks cloud metadata",
                                lambda model: f"{model.platform_label}: no pod network")
check_k8s_image_registry = room_row("k8s_image_registry", "Kubernetes image from a registry",
                                    lambda model: f"platform={model.platform} builds and runs its own image")


def check_image_tag(repo: Repo) -> Result:
    tags = repo.declared.image_tags
    want = repo.model.openclaw_version
    if not tags:
        return Result("image pinned to openclaw_version", FAIL, "no FROM of the OpenClaw image",
                      f"FROM {repo.model.image}")
    bad = {k: v for k, v in tags.items() if v != want}
    if bad:
        return Result("image pinned to openclaw_version", FAIL, _places(tags),
                      f"use {repo.model.image}: never 'latest', and the same version the checks use")
    return Result("image pinned to openclaw_version", PASS, _places(tags))


def check_webhooks_reachable(repo: Repo) -> Result:
    notes = m.private_channel_notes(repo.model)
    if any(note.tunnel_helps for note in notes):  # a tunnel forwards only webhooks on the gateway port
        return Result("inbound webhooks reachable", WARN, "; ".join(note.text for note in notes),
                      "set tunnel=ngrok or tunnel=tailscale with `make update ARGS=\"-d tunnel=...\"`")
    if notes:  # e.g. Telegram: long polling works; its webhook port is one no tunnel here forwards
        return Result("inbound webhooks reachable", PASS, "; ".join(note.text for note in notes))
    idle = m.idle_tunnel_note(repo.model)
    if idle:
        return Result("inbound webhooks reachable", WARN, idle,
                      'add a webhook channel or drop the tunnel: `make update ARGS="-d tunnel=none"`')
    return Result("inbound webhooks reachable", PASS,
                  f"privacy={repo.model.privacy}, tunnel={repo.model.tunnel}, "
                  f"channels={list(repo.model.channels) or 'none'}")


def read_lock(path: Path) -> dict[tuple[str, str, str], str]:
    """binaries.lock as {(name, version, arch): sha256}; comments skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 4 and not parts[0].startswith("#"):
            out[(parts[0], parts[1], parts[2])] = parts[3]
    return out


def check_binaries_locked(repo: Repo) -> Result:
    name = "baked-in CLIs pinned in binaries.lock"
    if not repo.model.binaries:
        return Result(name, PASS, "no CLI selected")
    lock = read_lock(repo.root / "binaries.lock")
    arches = m.binaries_meta()["arches"]
    missing, bad = [], []
    for b in repo.model.binaries:
        for arch in arches:
            sha = lock.get((b.name, b.version, arch))
            if sha is None:
                missing.append(f"{b.name} {b.version} {arch} ({b.asset_name(arch)})")
            elif not re.fullmatch(r"[0-9a-f]{64}", sha):
                bad.append(f"{b.name} {b.version} {arch}")
    if missing or bad:
        seen = "; ".join(filter(None, [
            f"no sha256 for {', '.join(missing)}" if missing else "",
            f"not a sha256: {', '.join(bad)}" if bad else ""]))
        return Result(name, FAIL, seen, "scripts/pin-binaries.sh   (then commit binaries.lock)")
    return Result(name, PASS, ", ".join(f"{b.name} {b.version}" for b in repo.model.binaries)
                  + f" ({'/'.join(arches)})")


def check_images_pinned(repo: Repo) -> Result:
    """Each image reference carries the digest images.lock records. Unpinned is a
    WARN (digests can only be had online: `make pin-images`); a digest that is
    malformed or disagrees with images.lock is a FAIL (the pull would fail or
    fetch another image than the one reviewed)."""
    name, lock_file = "images pinned by digest", pins.LOCK_FILE
    fix = "make pin-images   (then commit)"
    if not (repo.root / lock_file).is_file():
        return Result(name, WARN, f"no {lock_file}", f"make update (adds {lock_file}), then {fix}")
    lock = pins.read_lock(repo.root / lock_file)
    wanted = m.images(repo.model)
    fails, unpinned, by_name = [], [], {}
    for e in lock:
        by_name.setdefault(e.name, {})[e.tag] = e
        if not e.tag:
            fails.append(f"{lock_file}:{e.line} {e.name} has no tag")
        elif e.digest and not pins.DIGEST.fullmatch(e.digest):
            fails.append(f"{lock_file}:{e.line} {e.name}:{e.tag} digest {e.digest!r} is not sha256:<64 hex>")
    refs = pins.find_references(repo.root, set(by_name) | {n for n, _, _ in wanted})
    for r in refs:
        locked = by_name.get(r.name, {})
        if r.digest and not pins.DIGEST.fullmatch(r.digest):
            fails.append(f"{r.where} {r.text}: the digest is not sha256:<64 hex>")
        elif r.digest and r.tag not in locked:
            fails.append(f"{r.where} {r.text}: {lock_file} has {r.name} at "
                         f"{', '.join(sorted(locked)) or 'no tag'}, not {r.tag}")
        elif r.digest and r.digest != locked[r.tag].digest:
            fails.append(f"{r.where} {r.text}: {lock_file} says {locked[r.tag].digest or 'no digest'}")
        elif not r.digest:
            unpinned.append(f"{r.where} {r.text}" + ("" if r.tag in locked else f" ({lock_file} has no line for it)"))
    if fails:
        return Result(name, FAIL, "; ".join(fails),
                      f"{fix}: it asks docker for each digest again and rewrites every reference "
                      f"(or restore the file: `git checkout -- <file>`)")
    missing = [f"{n}:{t}" for n, t, _ in wanted if t not in by_name.get(n, {})]
    if not refs:
        return Result(name, WARN, "no image reference found in Dockerfile, docker-compose.yml or k8s/",
                      "restore the files: `make update`")
    if unpinned or missing:
        seen = "; ".join(filter(None, [f"unpinned: {', '.join(unpinned)}" if unpinned else "",
                                       f"{lock_file} has no line for {', '.join(missing)}" if missing else ""]))
        return Result(name, WARN, seen, fix if not missing else f"make update (restores {lock_file}), then {fix}")
    return Result(name, PASS, ", ".join(sorted({f"{r.name}:{r.tag}@{r.digest[:19]}…" for r in refs})))


def check_no_secrets(repo: Repo) -> Result:
    hits = find_secrets(repo.root)
    if hits:
        return Result("no secrets in tracked files", FAIL, f"secret-shaped values at {', '.join(hits)}",
                      "remove them, rotate the secret, and set it with scripts/secrets.sh instead")
    return Result("no secrets in tracked files", PASS, "no secret-shaped value in tracked files")


ENV_REFERENCE = re.compile(r"\$\{[A-Z_][A-Z0-9_]*\}")


def inline_credentials(config, path: str = "") -> list[str]:
    """Key paths of credential fields in ``config`` that hold a value, not a reference.
    A reference is a SecretRef ({source, provider, id}) or a whole "${ENV_NAME}"."""
    pattern = re.compile(m.openclaw()["credential_key_pattern"], re.IGNORECASE)
    found: list[str] = []
    if isinstance(config, dict):
        for key, value in config.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(value, str) and value and pattern.search(str(key)) and not ENV_REFERENCE.fullmatch(value):
                found.append(where)
            found += inline_credentials(value, where)
    elif isinstance(config, list):
        for i, value in enumerate(config):
            found += inline_credentials(value, f"{path}[{i}]")
    return found


def check_config_credentials_are_refs(repo: Repo) -> Result:
    name = "config credentials are secret references"
    if repo.declared.config is None:
        return Result(name, SKIP, "config/openclaw.json did not parse")
    inline = inline_credentials(repo.declared.config)
    if inline:  # key paths only: the values are never shown
        return Result(name, FAIL, f"inline value (not shown) at {', '.join(inline)} in config/openclaw.json",
                      "this file is baked into the image and the ConfigMap: rotate that credential, replace the "
                      'value with a SecretRef {"source": "env", "provider": "default", "id": "ENV_NAME"}, and '
                      "set ENV_NAME with scripts/secrets.sh")
    return Result(name, PASS, "every credential field in config/openclaw.json is a SecretRef or ${ENV}")


def check_template_source(repo: Repo) -> Result:
    """_src_path in the answers (the template `copier update` runs) is the one the Makefile records."""
    from . import template_source

    name = "update runs the recorded template"
    why = template_source.problem(repo.root)
    if not why:
        missing = template_source.missing_commit(repo.root)
        if missing:
            return Result(name, FAIL, missing, "edit _commit in .copier-answers.yml, commit, then `make update`")
        return Result(name, PASS, f"_src_path = TEMPLATE = {template_source.recorded(repo.root)}")
    if template_source.recorded(repo.root) is None:
        return Result(name, WARN, why, "add TEMPLATE := <template url> to the Makefile (`make update` does)")
    return Result(name, FAIL, why, "restore _src_path in .copier-answers.yml (`git log -p .copier-answers.yml`)")


def check_hsts(repo: Repo) -> Result:
    """A public deploy tells browsers HTTPS only (gateway.http.securityHeaders)."""
    name = "HSTS on the public URL"
    if not repo.model.public:
        return Result(name, PASS, "private: no public HTTPS origin")
    config = repo.declared.config or {}
    value = (((config.get("gateway") or {}).get("http") or {}).get("securityHeaders") or {}).get(
        "strictTransportSecurity")
    found = re.search(r"max-age=(\d+)", value) if isinstance(value, str) else None
    if not found or int(found.group(1)) < 86400:
        return Result(name, FAIL, f"gateway.http.securityHeaders.strictTransportSecurity = {value!r}",
                      f'set it to "{m.openclaw()["hsts"]}" in config/openclaw.json (`make update` restores it)')
    return Result(name, PASS, f"Strict-Transport-Security: {value}")


def check_domain_not_placeholder(repo: Repo) -> Result:
    """A name no certificate can be issued for deploys, then never serves HTTPS (copy warns too)."""
    name = "domain can get a certificate"
    domain = repo.model.domain
    if not domain:
        return Result(name, SKIP, f"{repo.model.platform_label} {repo.model.privacy}: no domain of yours")
    if m.is_placeholder_domain(domain):
        return Result(name, WARN, f"domain={domain} is a placeholder: no certificate can be issued for it",
                      'point a DNS A/AAAA record of a name you own at the machine, then '
                      '`make update ARGS="-d domain=<that name>"`')
    return Result(name, PASS, domain)


CHECKS: list[Callable[[Repo], Result]] = [
    check_files_parse,
    check_port_agreement,
    check_bind,
    check_state_on_volume,
    check_health_paths,
    check_memory,
    check_auth,
    check_public_ingress,
    check_allowed_origins,
    check_public_origin,
    check_trusted_proxies,
    check_checker_paths,
    check_tunnel_exposure,
    check_ngrok_authtoken,
    check_network_policy,
    check_network_egress,
    check_image_tag,
    check_webhooks_reachable,
    check_binaries_locked,
    check_images_pinned,
    check_k8s_image_registry,
    check_domain_not_placeholder,
    check_no_secrets,
    check_config_credentials_are_refs,
    check_template_source,
    check_hsts,
]


def run_static(root: str | Path) -> list[Result]:
    repo = load_repo(root)
    return [check(repo) for check in CHECKS]
