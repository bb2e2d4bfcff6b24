"""The ``local`` live target: the pinned OpenClaw from npm on this machine, started
exactly as the platform file starts it (bound to loopback), then stopped.
"""

from __future__ import annotations

import json
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from . import checks as c
from . import model as m
from .live import Live
from .locks import Lock, descends_from, lock_result, read_locks
from .signatures import diagnose_output

Result = c.Result
PASS, FAIL, WARN, SKIP = c.PASS, c.FAIL, c.WARN, c.SKIP


def http_json(url: str, timeout: float = 3) -> tuple[int | None, Any, str]:
    """(status, parsed JSON or None, error/body head)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = resp.read(65536).decode("utf-8", "replace")
            status = resp.status
    except urllib.error.HTTPError as exc:
        return exc.code, None, str(exc)
    except (urllib.error.URLError, OSError) as exc:
        return None, None, str(getattr(exc, "reason", exc))
    try:
        return status, json.loads(body), body[:200]
    except json.JSONDecodeError:
        return status, None, body[:200]


def startup_ok(port: int, path: str = "/startupz", host: str = "127.0.0.1") -> bool:
    _, body, _ = http_json(f"http://{host}:{port}{path}", timeout=2)
    return isinstance(body, dict) and body.get("ok") is True


def openclaw_command(explicit: str | None, env: dict[str, str]) -> list[str] | None:
    candidate = explicit or env.get("OPENCLAW_BIN")
    if candidate:
        if candidate.endswith((".mjs", ".js")):
            node = shutil.which("node", path=env.get("PATH"))
            return [node or "node", candidate]
        return [candidate]
    found = shutil.which("openclaw", path=env.get("PATH"))
    return [found] if found else None


def declared_gateway_args(repo: c.Repo) -> list[str]:
    """The gateway's arguments as the platform file starts it (falls back to the model)."""
    argv = repo.declared.command or list(repo.model.gateway_command)
    if "gateway" in argv:
        return argv[argv.index("gateway"):]
    return list(repo.model.gateway_command[2:])


PLATFORM_PORT_PLACES = ("internal_port", "[checks.", " PORT", "ports target", "expose", "internalPort",
                        "targetPort", "containerPort")


def expected_port(repo: c.Repo) -> int:
    """The port the platform sends traffic / health checks to (its own files say)."""
    for where, port in repo.declared.ports.items():
        if any(place in where for place in PLATFORM_PORT_PLACES) and isinstance(port, int):
            return port
    return repo.model.port


_ENV_DEFAULT = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::?-([^}]*))?\}")


def expand_env(arg: str, env: dict[str, str]) -> str:
    """``${VAR:-default}`` as compose expands it (for commands read from compose files)."""
    return _ENV_DEFAULT.sub(lambda mt: env.get(mt.group(1)) or (mt.group(2) or ""), arg)


def live_local(live: Live) -> list[Result]:
    """The pinned OpenClaw from npm on this machine, started as the platform file says."""
    r, repo, model = live.runner, live.repo, live.model
    opts = live.options
    cmd = openclaw_command(opts.get("openclaw_bin"), r.env)
    if not cmd:
        return [Result("OpenClaw installed", FAIL, "no openclaw on PATH and no OPENCLAW_BIN",
                       f"npm install openclaw@{model.openclaw_version} (Node {m.openclaw()['node_engines']}), then pass openclaw_bin")]
    results: list[Result] = []
    ver = r.run([*cmd, "--version"], timeout=60)
    if ver.exit_code != 0:
        return [Result("OpenClaw installed", FAIL, f"`{ver.command}` -> {ver.error or ver.exit_code}: {ver.stderr[:300]}",
                       f"check openclaw_bin / Node {m.openclaw()['node_engines']} on PATH")]
    pinned = model.openclaw_version in ver.stdout
    results.append(Result("OpenClaw installed (pinned version)", PASS if pinned else WARN, ver.stdout.strip()[:120],
                          "" if pinned else f"npm install openclaw@{model.openclaw_version}"))
    state = Path(opts.get("state_dir") or repo.root / "reports" / "local-state")
    state.mkdir(parents=True, exist_ok=True)
    locks = read_locks(state)
    results.append(lock_result(locks, str(state)))
    owners = [lk for lk in locks if lk.alive]
    port = expected_port(repo)
    path = model.startup_path
    status, body, head = http_json(f"http://127.0.0.1:{port}{path}")
    elsewhere = sorted({lk.port for lk in owners if lk.port and lk.port != port})
    if isinstance(body, dict) and body.get("ok") is True:
        results.append(Result(f"gateway answers on :{port}{path}", PASS, json.dumps(body)[:200]))
    elif status is None and elsewhere:
        results.append(Result(f"gateway answers on :{port}{path}", FAIL,
                              f"nothing listens on {port} ({head}); the gateway owning {state} listens on {elsewhere}",
                              f"the platform sends traffic and health checks to {port}: start the gateway with "
                              f"--port {port} (gateway_port in .copier-answers.yml), or `make update ARGS=\"-d gateway_port=<port>\"`"))
    elif status is None:
        results.append(Result(f"gateway answers on :{port}{path}", SKIP,
                              f"no gateway running yet ({head}); the next step starts one",
                              "runs against a gateway already running on this port; the next step checks a fresh one"))
    else:
        results.append(Result(f"gateway answers on :{port}{path}", FAIL,
                              f"HTTP {status}, not the gateway's JSON: {head[:120]!r}",
                              "another program owns this port, or the path is wrong (unknown paths answer the "
                              "Control UI's HTML)"))
    if not opts.get("start_gateway", True):
        results.append(Result("gateway starts as declared", SKIP, "start_gateway=False",
                              "P='-p start_gateway True' starts the gateway as the platform file says (then stops it)"))
        return results
    results.append(start_as_declared(live, cmd, state, port, owners))
    return results


def loopback_args(args: list[str]) -> tuple[list[str], str | None]:
    """The declared gateway arguments with ``--bind loopback``: the local target never
    listens beyond this machine. Returns them and the declared bind (None: not given)."""
    out, declared, i = [], None, 0
    while i < len(args):
        if args[i] == "--bind" and i + 1 < len(args):
            declared = args[i + 1]
            i += 2
            continue
        if args[i].startswith("--bind="):
            declared = args[i].split("=", 1)[1]
            i += 1
            continue
        out.append(args[i])
        i += 1
    return [*out, "--bind", "loopback"], declared


def lan_refusal(config_path: Path, declared_bind: str | None, env: dict[str, str], token_env: str) -> Result | None:
    """What binding loopback here would hide: the platform starts the gateway on a lan bind,
    where a config without gateway.auth and no token refuses to start (exit 78)."""
    if declared_bind in (None, "loopback"):
        return None
    try:
        config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (config.get("gateway") or {}).get("auth") or env.get(token_env):
        return None
    return Result("gateway starts as declared: the gateway refuses a lan bind without a token (exit 78)", FAIL,
                  f"not started: {config_path} has no gateway.auth, {token_env} is not set, and the platform "
                  f"starts it with --bind {declared_bind}: exit 78 'Refusing to bind gateway to lan without auth' "
                  "(this target binds loopback, where it would start)",
                  f"restore gateway.auth (token from {token_env}) in config/openclaw.json and set {token_env}: "
                  "`make secrets` on the platform")


def start_as_declared(live: Live, cmd: list[str], state: Path, port: int, owners: list[Lock]) -> Result:
    r, repo, model = live.runner, live.repo, live.model
    name = "gateway starts as declared"
    config = state / "openclaw.json"
    seed = repo.root / "config" / "openclaw.json"
    if not config.exists() and seed.exists():  # as docker/entrypoint.sh does on first boot
        shutil.copyfile(seed, config)
    args, declared_bind = loopback_args([expand_env(a, r.env) for a in declared_gateway_args(repo)])
    flags = set(args)
    refusal = lan_refusal(config if config.exists() else seed, declared_bind, r.env, model.token_env)
    if refusal:
        return refusal
    env_over = {**model.env, **{k: v for k, v in repo.declared.env.items()}}
    env_over.update(OPENCLAW_STATE_DIR=str(state), OPENCLAW_WORKSPACE_DIR=str(state / "workspace"),
                    OPENCLAW_CONFIG_PATH=str(config))
    saved = dict(r.env)
    r.env.update(env_over)
    actual_port = int(args[args.index("--port") + 1]) if "--port" in flags and args.index("--port") + 1 < len(args) else port

    def ready(pid: int) -> bool:
        # ready = answering AND holding this state dir's lock: another gateway
        # already answering on the same port must not count as this one
        return startup_ok(actual_port, model.startup_path) and any(
            lk.alive and lk.pid is not None and descends_from(lk.pid, pid) for lk in read_locks(state))

    try:
        rec, became_ready = r.run_until([*cmd, *args], ready, timeout=float(live.options.get("start_timeout", 60)),
                                        give_up=lambda text: "Gateway failed to start" in text)
    finally:
        r.env.clear()
        r.env.update(saved)
    output = rec.stdout + "\n" + rec.stderr
    hits = diagnose_output(output)
    owner_text = ", ".join(f"pid {lk.pid} (port {lk.port})" for lk in owners)
    if became_ready and actual_port == port:
        return Result(name, PASS, f"`{' '.join(args)}` answered {model.startup_path} on :{port} "
                                  f"after {rec.duration_s:.1f} s (then stopped; loopback here, the platform "
                                  f"binds {declared_bind})")
    if became_ready:
        return Result(f"{name}: listens on {actual_port}, platform expects {port}", FAIL,
                      f"the declared command uses --port {actual_port}; the platform sends traffic and checks to "
                      f"{port} -> 'connection refused' / 'no open ports'",
                      f"make every place say {port}: --port in the command and the platform's internal port "
                      "(`make update` regenerates both)")
    if hits:
        line, what, fix = hits[0]
        if owners and "second gateway" in what:
            fix = (f"{owner_text} already owns {state} (checked: pid and start time): stop it "
                   f"(`kill {owners[0].pid}`) or use another OPENCLAW_STATE_DIR; never delete its lock")
        how = f"exit {rec.exit_code}" if rec.exit_code is not None else rec.error or "stopped"
        return Result(f"{name}: {what}", FAIL, f"{how}: {line}", fix)
    if rec.exit_code is not None:
        return Result(name, FAIL, f"exit {rec.exit_code}: {output.strip()[-400:]}",
                      "read the output above; `openclaw doctor` on the state dir")
    return Result(name, FAIL, f"not ready on :{actual_port} after {rec.duration_s:.0f} s: {output.strip()[-300:]}",
                  "raise start_timeout, or read the output")
