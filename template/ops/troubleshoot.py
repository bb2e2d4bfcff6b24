"""Troubleshooting runbook logic: static checks, live checks, the verdict.

``static`` mode is ``ops.checks.run_static`` (offline, files only). ``live``
mode asks the platform through its CLI, every command through one
``ops.runner.Runner`` (timeouts, redaction, a record per command), and
parses the JSON those CLIs print. The ``local`` live target runs the pinned
OpenClaw from npm on this machine exactly as the platform file starts it.

Every step returns ``checks.Result`` (PASS / FAIL / WARN / SKIP, seen, fix):
a step that cannot run says why; nothing is skipped silently. Parsers are
pure functions over CLI output so they are unit-tested on recorded shapes.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from . import checks as c
from . import model as m
from . import terminal
from .runner import Record, Runner

Result = c.Result
PASS, FAIL, WARN, SKIP = c.PASS, c.FAIL, c.WARN, c.SKIP
MODES = ("static", "live")


class RunbookFailed(RuntimeError):
    """Raised by ``verdict`` with fail_on_error: papermill then exits non-zero."""


# ------------------------------------------------------------------ parsing --


def parse_json_stream(text: str) -> list[Any]:
    """Objects printed back to back (``fly logs --json``: indented, not one per line)."""
    decoder = json.JSONDecoder()
    out, i, n = [], 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        try:
            obj, i = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            nl = text.find("\n", i)  # skip a non-JSON line
            if nl < 0:
                break
            i = nl + 1
            continue
        out.append(obj)
    return out


def parse_compose_ps(text: str) -> list[dict[str, Any]]:
    """``docker compose ps --format json``: one array (Compose < 2.21) or one object per line."""
    items: list[dict[str, Any]] = []
    for obj in parse_json_stream(text):
        if isinstance(obj, list):
            items += [o for o in obj if isinstance(o, dict)]
        elif isinstance(obj, dict):
            items.append(obj)
    return items


def fly_checks_from_list(data: Any) -> list[dict[str, Any]]:
    """``fly checks list --json``: ``{machine_id: [{name,status,output}]}``."""
    out = []
    if isinstance(data, dict):
        for machine, checks in data.items():
            for check in checks or []:
                out.append({"machine": machine, **check})
    elif isinstance(data, list):  # tolerate a flat list
        out = [dict(x) for x in data if isinstance(x, dict)]
    return out


def fly_machine_facts(machine: dict[str, Any]) -> dict[str, Any]:
    config = machine.get("config") or {}
    oom = []
    for event in machine.get("events") or []:
        exit_event = ((event.get("request") or {}).get("exit_event")) or {}
        if exit_event.get("oom_killed"):
            oom.append(exit_event.get("exit_code"))
    return {
        "id": machine.get("id", "?"),
        "state": machine.get("state"),
        "memory_mb": ((config.get("guest") or {}).get("memory_mb")),
        "internal_ports": [s.get("internal_port") for s in config.get("services") or []],
        "mounts": [mt.get("path") for mt in config.get("mounts") or []],
        "checks": machine.get("checks") or [],
        "oom_exit_codes": oom,
    }


def railway_services(status: Any) -> list[dict[str, Any]]:
    """``railway status --json``: services under ``environments.edges[].node.serviceInstances``."""
    out: list[dict[str, Any]] = []

    def nodes(value: Any) -> Iterable[dict[str, Any]]:
        if isinstance(value, dict) and "edges" in value:
            value = value["edges"]
        for item in value or []:
            if isinstance(item, dict):
                yield item.get("node", item)

    for env in nodes((status or {}).get("environments")):
        for inst in nodes(env.get("serviceInstances")):
            deploy = inst.get("latestDeployment") or {}
            out.append({"environment": env.get("name"), "service": inst.get("serviceName") or inst.get("name"),
                        "status": deploy.get("status") or inst.get("status")})
    return out


def kubectl_pod_facts(pods: Any) -> list[dict[str, Any]]:
    out = []
    for pod in (pods or {}).get("items", []):
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            state = cs.get("state") or {}
            last = (cs.get("lastState") or {}).get("terminated") or {}
            out.append({
                "pod": (pod.get("metadata") or {}).get("name"),
                "container": cs.get("name"),
                "ready": bool(cs.get("ready")),
                "restarts": cs.get("restartCount", 0),
                "waiting": (state.get("waiting") or {}).get("reason"),
                "last_terminated": last.get("reason"),
                "last_exit_code": last.get("exitCode"),
            })
    return out


# Known failure signatures in gateway output / logs: (needle, what, fix).
SIGNATURES: list[tuple[str, str, str]] = [
    ("ingress-auth: secret reference was not found",
     "the gateway token is not set (gateway.auth.token refers to OPENCLAW_GATEWAY_TOKEN)",
     "set OPENCLAW_GATEWAY_TOKEN: `make secrets` (scripts/secrets.sh) on the platform; "
     "locally `read -rs OPENCLAW_GATEWAY_TOKEN && export OPENCLAW_GATEWAY_TOKEN` (hidden input)"),
    ("required secrets are unavailable",
     "a secret the config refers to is not set in the environment",
     "set every secret the config names (`make secrets`); `openclaw secrets reload` after fixing"),
    ("Refusing to bind gateway to lan without auth",
     "the gateway refuses a lan bind without a token (exit 78)",
     "set OPENCLAW_GATEWAY_TOKEN: `make secrets` (scripts/secrets.sh) on the platform; "
     "locally `read -rs OPENCLAW_GATEWAY_TOKEN && export OPENCLAW_GATEWAY_TOKEN` (hidden input)"),
    ("StateDatabaseCoordinatorContentionError",
     "a second gateway on the same state dir: another OpenClaw process owns it (exit 78)",
     "stop the other gateway first (its pid is in the lock under $OPENCLAW_STATE_DIR/tmp/openclaw-<uid>/), "
     "or give this one its own OPENCLAW_STATE_DIR; never delete a lock while its owner runs"),
    ("owner lease is still active",
     "a gateway that was killed without a clean stop (SIGKILL after the stop grace period, a "
     "force-deleted pod, a destroyed machine) still holds the state dir's lease, from another host name",
     "it expires 5 minutes after that gateway's last heartbeat: wait, and make sure nothing else mounts "
     "the volume; Compose and Kubernetes keep one host name so a replacement reclaims it at once"),
    ("another OpenClaw process owns",
     "a second gateway on the same state dir: another OpenClaw process owns it (exit 78)",
     "stop the other gateway first (its pid is in the lock under $OPENCLAW_STATE_DIR/tmp/openclaw-<uid>/), "
     "or give this one its own OPENCLAW_STATE_DIR; never delete a lock while its owner runs"),
    ("EACCES",
     "permission denied on the state dir (volume owned by root, gateway runs as uid 1000)",
     "let the entrypoint chown the volume (docker/entrypoint.sh) or set the platform's run-as-root "
     "option for the volume (Railway: RAILWAY_RUN_UID=0)"),
    ("EADDRINUSE",
     "the port is already in use by another program",
     "stop the program on that port or choose another gateway_port"),
    # 2026.9.6 with an unset ${VAR} (or a URL with a path) as gateway.publicOrigin: exit 78,
    # "Invalid config ... gateway.publicOrigin: Invalid URL, got: "${RENDER_EXTERNAL_URL}"" (measured 2026-12-02)
    ("gateway.publicOrigin",
     "the config's gateway.publicOrigin is not a bare https origin: the variable it names is unset, or it has a path (exit 78)",
     "set the variable gateway.publicOrigin names (Railway: give the service a public domain; Northflank: `make secrets` "
     "asks OPENCLAW_PUBLIC_ORIGIN), or write a bare https://host there, then restart"),
    ("origin not allowed",
     "the Control UI origin is not in gateway.controlUi.allowedOrigins",
     "add the public https origin to gateway.controlUi.allowedOrigins (config/openclaw.json)"),
    ("allowedOrigins",
     "non-loopback Control UI without gateway.controlUi.allowedOrigins",
     "add the public https origin to gateway.controlUi.allowedOrigins (config/openclaw.json)"),
    ("JavaScript heap out of memory",
     "the V8 heap ran out (NODE_OPTIONS --max-old-space-size or machine memory too small)",
     "give the machine 2048 MB and keep --max-old-space-size at 75% of it"),
    ("not listening on the expected address",
     "the platform proxy finds nothing on 0.0.0.0:<internal_port>",
     "start the gateway with --bind lan and --port equal to the platform's internal port"),
    ("mutually exclusive",
     "trusted-proxy auth together with a shared token",
     "choose one: token auth (default) or trusted-proxy without gateway.auth.token"),
]


def diagnose_output(text: str) -> list[tuple[str, str, str]]:
    """Known failure signatures found in ``text`` (each what/fix once)."""
    found, seen_what = [], set()
    for needle, what, fix in SIGNATURES:
        if needle.lower() in text.lower() and what not in seen_what:
            seen_what.add(what)
            line = next((ln.strip() for ln in text.splitlines() if needle.lower() in ln.lower()), needle)
            found.append((line[:300], what, fix))
    return found


def signature_results(name: str, text: str, source: str) -> list[Result]:
    hits = diagnose_output(text)
    if not hits:
        return [Result(name, PASS, f"no known failure signature in {source}")]
    return [Result(f"{name}: {what}", FAIL, f"{source}: {line}", fix) for line, what, fix in hits]


# --------------------------------------------------------------- gateway locks --


@dataclass
class Lock:
    path: str
    pid: int | None
    port: int | None
    state_dir: str | None
    start_time: int | None
    alive: bool
    reason: str

    @property
    def stale(self) -> bool:
        return not self.alive


def proc_start_time(pid: int, proc: Path = Path("/proc")) -> int | None:
    """Field 22 of /proc/<pid>/stat (clock ticks since boot), the lock's ``startTime``."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def judge_lock(path: str, data: dict[str, Any], start_time_of: Callable[[int], int | None]) -> Lock:
    """Alive only when the pid runs AND started when the lock says (containers reuse
    PIDs 1 and 7 on every restart, so a pid alone proves nothing)."""
    pid = data.get("pid")
    want = data.get("startTime")
    if not isinstance(pid, int):
        alive, reason = False, "no pid in the lock"
    else:
        actual = start_time_of(pid)
        if actual is None:
            alive, reason = False, f"no process {pid} runs"
        elif isinstance(want, int) and actual != want:
            alive, reason = False, (f"pid {pid} runs but started at {actual}, not {want}: "
                                    "another process reused the pid")
        else:
            alive, reason = True, f"pid {pid} runs and started when the lock was taken"
    return Lock(path, pid if isinstance(pid, int) else None, data.get("port"), data.get("stateDir"),
                want if isinstance(want, int) else None, alive, reason)


def parent_pid(pid: int, proc: Path = Path("/proc")) -> int | None:
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    try:
        return int(stat[stat.rfind(")") + 2:].split()[1])
    except (IndexError, ValueError):
        return None


def descends_from(pid: int, ancestor: int) -> bool:
    """``pid`` is ``ancestor`` or one of its descendants."""
    for _ in range(64):
        if pid == ancestor:
            return True
        parent = parent_pid(pid)
        if not parent or parent == pid:
            return False
        pid = parent
    return False


def read_locks(state_dir: str | Path, start_time_of: Callable[[int], int | None] = proc_start_time) -> list[Lock]:
    """Gateway locks under ``$OPENCLAW_STATE_DIR/tmp/openclaw-<uid>/gateway.*.lock``."""
    locks = []
    for path in sorted(Path(state_dir).glob("tmp/openclaw-*/gateway.*.lock")):
        try:
            objs = parse_json_stream(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
        data = objs[0] if objs and isinstance(objs[0], dict) else {}
        locks.append(judge_lock(str(path), data, start_time_of))
    return locks


def lock_probe_command(state_dir: str) -> str:
    """One read-only shell line for a remote machine: every gateway lock under the
    state dir, then every process's /proc stat (pid and start time), marked."""
    script = (f'for f in {shlex.quote(state_dir)}/tmp/openclaw-*/gateway.*.lock; do [ -e "$f" ] || continue; '
              'echo "@@lock $f"; cat "$f"; echo; done; '
              'for s in /proc/[0-9]*/stat; do echo "@@stat $(cat "$s" 2>/dev/null)"; done')
    return shlex.join(["sh", "-c", script])


def parse_lock_probe(text: str) -> tuple[list[tuple[str, dict[str, Any]]], dict[int, int]]:
    """(locks as (path, data), {pid: start time}) from ``lock_probe_command`` output."""
    locks: list[tuple[str, dict[str, Any]]] = []
    starts: dict[int, int] = {}
    current: str | None = None
    buf: list[str] = []

    def flush() -> None:
        if current is not None:
            objs = parse_json_stream("\n".join(buf))
            locks.append((current, objs[0] if objs and isinstance(objs[0], dict) else {}))

    for line in text.splitlines():
        if line.startswith("@@lock "):
            flush()
            current, buf = line[7:].strip(), []
        elif line.startswith("@@stat "):
            flush()
            current, buf = None, []
            stat = line[7:]
            try:
                pid = int(stat.split(" ", 1)[0])
                starts[pid] = int(stat[stat.rfind(")") + 2:].split()[19])
            except (ValueError, IndexError):
                continue
        elif current is not None:
            buf.append(line)
    flush()
    return locks, starts


def remote_lock_result(rec: Record, state_dir: str, shell: str, restart: str) -> Result:
    """The lock procedure on a remote machine: judge each lock by pid AND start time
    there; never remove a lock whose owner runs; removal is printed, not run."""
    name = "gateway lock (in the machine)"
    if rec.exit_code != 0:
        return Result(name, WARN, f"`{rec.command}` -> {rec.error or rec.exit_code}: {rec.stderr.strip()[:200]}",
                      "the machine must run for this check (a crash loop stops ssh): read the logs instead")
    raw, starts = parse_lock_probe(rec.raw_stdout or rec.stdout)
    locks = [judge_lock(path, data, starts.get) for path, data in raw]
    result = lock_result(locks, state_dir)
    if result.status == WARN:  # stale: the removal runs in the machine, by hand
        stale = " ".join(shlex.quote(lk.path) for lk in locks if lk.stale)
        result.fix = (f"stale lock (owner gone; checked by pid and start time in the machine). The gateway "
                      f"normally recovers on restart ({restart}); if it hangs, remove it (not done here): "
                      f"{shell} {shlex.quote('rm ' + stale)}")
    result.check = name
    return result


def lock_result(locks: list[Lock], state_dir: str) -> Result:
    name = "gateway lock owners"
    if not locks:
        return Result(name, PASS, f"no gateway lock under {state_dir}/tmp/openclaw-<uid>/")
    owners = {(lk.pid, lk.port) for lk in locks if lk.alive}
    stale = [lk for lk in locks if lk.stale]
    seen = "; ".join(f"{Path(lk.path).name}: pid {lk.pid}, port {lk.port} ({lk.reason})" for lk in locks)
    if stale and not owners:
        rm = " ".join(shlex.quote(lk.path) for lk in stale)
        return Result(name, WARN, seen,
                      "stale lock (its owner is gone; verified by pid AND start time). The gateway normally "
                      f"recovers by itself on start; if a restart hangs, remove it (not done here): rm {rm}")
    owner_text = ", ".join(f"pid {pid} on port {port}" for pid, port in sorted(owners, key=str))
    return Result(name, PASS, f"owned by a running gateway ({owner_text}); {seen}",
                  "do not delete these locks while that process runs")


# ------------------------------------------------------------------- probes --


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


# --------------------------------------------------------------- static mode --


def run_static(repo: str | Path) -> list[Result]:
    try:
        return c.run_static(repo)
    except m.AnswerError as exc:
        return [Result("answers valid", FAIL, "; ".join(exc.messages), 'fix the answer with `make update ARGS="-d KEY=VALUE"`')]
    except FileNotFoundError as exc:
        return [Result("deploy repo", FAIL, str(exc), "point `repo` at a generated deploy repo")]


# ----------------------------------------------------------------- live mode --


@dataclass
class Live:
    repo: c.Repo
    runner: Runner
    app: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def model(self) -> m.DeployModel:
        return self.repo.model


def _json_or_fail(rec: Record, name: str, fix: str) -> tuple[Any, Result | None]:
    if rec.timed_out or rec.exit_code != 0:
        seen = f"`{rec.command}` -> {rec.error or 'exit ' + str(rec.exit_code)}: {(rec.stderr or rec.stdout).strip()[:400]}"
        return None, Result(name, FAIL, seen, fix)
    try:
        return json.loads(rec.raw_stdout or rec.stdout), None
    except json.JSONDecodeError:
        return None, Result(name, FAIL, f"`{rec.command}` did not print JSON: {rec.stdout[:200]}",
                            "update the CLI (its --json output is parsed)")


def _need(live: Live, program: str, install: str) -> Result | None:
    if live.runner.which(program):
        return None
    return Result(f"{program} CLI present", FAIL, f"{program} is not on PATH", install)


def live_fly(live: Live) -> list[Result]:
    r, app, model = live.runner, live.app, live.model
    missing = _need(live, "fly", "install flyctl and `fly auth login`")
    if missing:
        return [missing]
    results: list[Result] = []
    status, bad = _json_or_fail(r.run(["fly", "status", "-a", app, "--json"]), "app reachable (fly status)",
                                f"`fly auth login`, and check the app name ({app}) / `fly apps list`")
    if bad:
        return [bad]
    results.append(Result("app reachable (fly status)", PASS,
                          f"Name={status.get('Name')} Status={status.get('Status')}"))
    machines, bad = _json_or_fail(r.run(["fly", "machine", "list", "-a", app, "--json"]), "machines",
                                  "`fly machine list` must work: check login and app name")
    if bad:
        return results + [bad]
    facts = [fly_machine_facts(x) for x in machines or []]
    if not facts:
        results.append(Result("machines running", FAIL, "no machine", "`fly deploy`"))
    else:
        down = [f for f in facts if f["state"] != "started"]
        results.append(Result("machines running", FAIL if down else PASS,
                              ", ".join(f"{f['id']}={f['state']}" for f in facts),
                              "`fly machine start <id>`; read `fly logs --no-tail` for the exit reason" if down else ""))
        mem = {f["id"]: f["memory_mb"] for f in facts}
        off = {k: v for k, v in mem.items() if v != model.memory_mb}
        results.append(Result("machine memory", FAIL if off else PASS,
                              ", ".join(f"{k}={v} MB" for k, v in mem.items()) + f"; answers say {model.memory_mb} MB",
                              f"`fly deploy` applies [[vm]] memory; or `fly scale memory {model.memory_mb}`" if off else ""))
        if model.public:
            ports = {f["id"]: f["internal_ports"] for f in facts}
            wrong = {k: v for k, v in ports.items() if model.port not in v}
            results.append(Result("service internal_port", FAIL if wrong else PASS,
                                  ", ".join(f"{k}: {v}" for k, v in ports.items()) + f"; gateway --port {model.port}",
                                  f"internal_port must be {model.port}: `fly deploy` from this repo "
                                  "(never `fly launch` over fly.toml: it rewrites the port to 8080)" if wrong else ""))
        mounts = {f["id"]: f["mounts"] for f in facts}
        unmounted = {k: v for k, v in mounts.items() if model.volume_mount not in v}
        results.append(Result("volume mounted at the state dir", FAIL if unmounted else PASS,
                              ", ".join(f"{k}: {v}" for k, v in mounts.items()) + f"; OPENCLAW_STATE_DIR={model.state_dir}",
                              f"`make deploy` from this repo (fly.toml [mounts] creates {model.volume_name} where the "
                              "machine fits when it is missing); without it state is lost on every deploy"
                              if unmounted else ""))
        ooms = {f["id"]: f["oom_exit_codes"] for f in facts if f["oom_exit_codes"]}
        results.append(Result("no out-of-memory kills", FAIL if ooms else PASS,
                              f"oom_killed events: {ooms}" if ooms else "no oom_killed exit event",
                              f"raise memory to {max(model.memory_mb, 2048)} MB; keep the heap at 75%" if ooms else ""))
    checks, bad = _json_or_fail(r.run(["fly", "checks", "list", "-a", app, "--json"]), "health checks passing",
                                "`fly checks list` must work")
    if bad:
        results.append(bad)
    else:
        rows = fly_checks_from_list(checks)
        failing = [x for x in rows if x.get("status") != "passing"]
        seen = "; ".join(f"{x.get('machine', '')} {x.get('name')}={x.get('status')} {str(x.get('output', ''))[:120]}"
                         for x in rows) or "no checks"
        fix = ""
        if failing:
            text = " ".join(str(x.get("output", "")) for x in failing).lower()
            fix = ("'connection refused': nothing listens on the checked port: the gateway's --port must equal "
                   f"{model.port} and it must bind lan" if "refused" in text
                   else f"read `fly logs -a {app} --no-tail`; the check probes {model.check_path}")
        results.append(Result("health checks passing", FAIL if failing else (PASS if rows else WARN), seen, fix))
    doctor = r.run(["fly", "ssh", "console", "-a", app, "-C", "openclaw doctor --json"], timeout=90)
    results += doctor_results(doctor)
    probe = r.run(["fly", "ssh", "console", "-a", app, "-C", lock_probe_command(model.state_dir)], timeout=90)
    results.append(remote_lock_result(probe, model.state_dir,
                                      f"fly ssh console -a {app} -C", f"`fly machine restart -a {app}`"))
    logs = r.run(["fly", "logs", "-a", app, "--no-tail"], timeout=60)
    if logs.exit_code == 0:
        results += signature_results("recent logs", logs.stdout + logs.stderr, "fly logs")
    else:
        results.append(Result("recent logs", WARN, f"`{logs.command}` -> {logs.error or logs.exit_code}",
                              "run it by hand"))
    return results


def doctor_results(rec: Record) -> list[Result]:
    name = "openclaw doctor"
    if rec.exit_code is None or not (rec.raw_stdout or rec.stdout).strip():
        return [Result(name, WARN, f"`{rec.command}` -> {rec.error or rec.exit_code}: {rec.stderr.strip()[:300]}",
                       "run `openclaw doctor` in the machine by hand")]
    objs = [o for o in parse_json_stream(rec.raw_stdout or rec.stdout) if isinstance(o, dict) and "findings" in o]
    if not objs:
        return [Result(name, WARN, f"no doctor JSON in the output: {rec.stdout.strip()[:300]}",
                       "run `openclaw doctor` in the machine by hand")]
    report = objs[-1]
    bad = [f for f in report.get("findings", []) if f.get("severity") in ("error", "critical")]
    warn = [f for f in report.get("findings", []) if f.get("severity") == "warning"]
    if not bad and not warn:
        return [Result(name, PASS, f"ok={report.get('ok')}, no findings")]
    return [Result(f"{name}: {f.get('checkId')}", FAIL if f in bad else WARN,
                   f"{f.get('message')} ({f.get('path') or ''})", f.get("fixHint") or "")
            for f in bad + warn]


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


def live_docker(live: Live) -> list[Result]:
    r, model = live.runner, live.model
    missing = _need(live, "docker", "install Docker Engine with the compose plugin")
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
    results += signature_results("recent logs", logs.stdout + logs.stderr, "docker compose logs")
    return results


def live_kubernetes(live: Live) -> list[Result]:
    r = live.runner
    missing = _need(live, "kubectl", "install kubectl and select the cluster context")
    if missing:
        return [missing]
    ns = live.options.get("namespace") or live.app  # k8s/ puts everything in a namespace named after the app
    pods, bad = _json_or_fail(r.run(["kubectl", "get", "pods", "-n", ns, "-o", "json"]), "pods",
                              f"check the kubectl context and the namespace {ns}")
    if bad:
        return [bad]
    facts = [f for f in kubectl_pod_facts(pods) if str(f["pod"]).startswith(live.app)]
    if not facts:
        return [Result("pods", FAIL, f"no pod named {live.app}-* in namespace {ns}", "`make deploy` (see README)")]
    results = []
    for f in facts:
        bad = not f["ready"] or f["waiting"] or f["last_terminated"] == "OOMKilled"
        fix = ""
        if f["last_terminated"] == "OOMKilled":
            fix = "raise the memory limit to 2048Mi and keep --max-old-space-size at 75% of it"
        elif f["waiting"]:
            fix = f"`kubectl logs {f['pod']} -n {ns} --previous --tail 200` for the exit reason"
        results.append(Result(f"pod {f['pod']}", FAIL if bad else PASS,
                              f"ready={f['ready']} restarts={f['restarts']} waiting={f['waiting']} "
                              f"last={f['last_terminated']}({f['last_exit_code']})", fix))
    logs = r.run(["kubectl", "logs", facts[0]["pod"], "-n", ns, "--tail", "200"])
    results += signature_results("recent logs", logs.stdout + logs.stderr, "kubectl logs")
    return results


RAILWAY_PLAIN = {"PORT", "OPENCLAW_STATE_DIR", "OPENCLAW_WORKSPACE_DIR", "NODE_OPTIONS", "RAILWAY_RUN_UID"}


def scrub_variables(text: str) -> str:
    """``railway variables --json`` prints values: keep names, hide every value
    except a few non-secret settings the checks compare."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return "(not JSON; hidden)"
    if not isinstance(data, dict):
        return "(hidden)"
    return json.dumps({k: (v if k in RAILWAY_PLAIN else "***") for k, v in data.items()}, sort_keys=True)


def live_railway(live: Live) -> list[Result]:
    r, model = live.runner, live.model
    missing = _need(live, "railway", "install the Railway CLI and `railway link` this repo")
    if missing:
        return [missing]
    status, bad = _json_or_fail(r.run(["railway", "status", "--json"]), "project linked (railway status)",
                                "`railway login` and `railway link`")
    if bad:
        return [bad]
    services = railway_services(status)
    failing = [s for s in services if str(s["status"]).upper() not in ("SUCCESS", "RUNNING", "DEPLOYED")]
    results = [Result("deployments", FAIL if failing or not services else PASS,
                      ", ".join(f"{s['service']}={s['status']}" for s in services) or "no service",
                      "`railway logs -n 200` for the failing service" if failing or not services else "")]
    rec = r.run(["railway", "variables", "--json"], scrub=scrub_variables)
    try:
        variables = json.loads(rec.raw_stdout) if rec.exit_code == 0 else {}
    except json.JSONDecodeError:
        variables = {}
    state = variables.get("OPENCLAW_STATE_DIR")
    results.append(Result("OPENCLAW_STATE_DIR on the volume", PASS if state == model.state_dir else FAIL,
                          f"OPENCLAW_STATE_DIR={state!r}; expected {model.state_dir}",
                          "" if state == model.state_dir else f"railway variables --set OPENCLAW_STATE_DIR={model.state_dir}"))
    for name in model.secret_names[:1]:
        results.append(Result(f"secret {name} set", PASS if name in variables else FAIL,
                              "present (value hidden)" if name in variables else "missing", "" if name in variables else "make secrets"))
    logs = r.run(["railway", "logs", "-n", "200"])
    results += signature_results("recent logs", logs.stdout + logs.stderr, "railway logs")
    return results


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


def live_unsupported(live: Live) -> list[Result]:
    label = m.platforms().get(live.model.platform, {}).get("label", live.model.platform)
    return [Result(f"live checks for {label}", SKIP,
                   f"no live checks for {label} yet: static checks only",
                   "use static mode, and the platform's dashboard / CLI logs")]


# Live target -> its checks. gcp and vps run Docker Compose on the VM: run
# the live notebook there (the repo is cloned on the VM; `make troubleshoot`).
LIVE: dict[str, Callable[[Live], list[Result]]] = {
    "fly": live_fly,
    "vps": live_docker,
    "gcp": live_docker,
    "kubernetes": live_kubernetes,
    "railway": live_railway,
    "local": live_local,
    "render": lambda live: _api_live("render", live),
    "northflank": lambda live: _api_live("northflank", live),
}


def _api_live(platform: str, live: Live) -> list[Result]:
    """Render / Northflank: REST API checks in ops/live_<platform>.py (imported late: they use this module)."""
    import importlib
    return importlib.import_module(f"{__package__}.live_{platform}").run(live)


def run_live(repo_root: str | Path, target: str, app: str | None, runner: Runner,
             **options: Any) -> list[Result]:
    repo = c.load_repo(repo_root)
    live = Live(repo, runner, app or repo.model.app_name, options)
    return LIVE.get(target, live_unsupported)(live)


def uptime_result(runner: Runner, repo: str | Path, app: str) -> Result | None:
    """The uptime workflow's word (GitHub, through `gh`): its open issue and its last
    failing run, linked. None when the repo has no uptime workflow or `gh` is not on PATH."""
    from .uptime import TITLE

    if not (Path(repo) / ".github" / "workflows" / "uptime.yml").exists():
        return None
    name = "uptime workflow (GitHub)"
    if not runner.which("gh"):  # where it can: with the GitHub CLI (README.md, Uptime)
        return None
    title = TITLE.format(app=app)
    issues, bad = _json_or_fail(runner.run(["gh", "issue", "list", "--state", "open", "--search",
                                            f'"{title}" in:title', "--json", "number,title,url,updatedAt"]),
                                name, "`gh auth login`, in a clone of the deploy repo")
    if bad:
        return Result(name, SKIP, bad.seen, bad.fix)
    runs, _ = _json_or_fail(runner.run(["gh", "run", "list", "--workflow", "uptime.yml", "--status", "failure",
                                        "--limit", "1", "--json", "url,createdAt"]), name, "")
    last = f"; last failing run {runs[0]['url']} ({runs[0]['createdAt']})" if runs else "; no failing run listed"
    open_ = [i for i in issues or [] if i.get("title") == title]
    if open_:
        return Result(name, FAIL, f"open issue #{open_[0]['number']} {open_[0]['url']} "
                      f"(updated {open_[0].get('updatedAt')}){last}",
                      "the issue and the run hold what failed; fix, then the next check closes the issue")
    return Result(name, PASS, "no open uptime issue" + last)


def uptime_rows(params: dict[str, Any], runner: Runner) -> list[Result]:
    """Live mode on the platform: the uptime row (redacted), if the repo has the workflow."""
    if params["mode"] != "live" or params["platform"] == "local":
        return []
    row = uptime_result(runner, params["repo"], params["app"])
    return redact_results([row], runner) if row is not None else []


# ------------------------------------------------------------------ report --


# static mode says what it did not do, and how to get it
LIVE_NOT_RUN = Result(
    "live checks", SKIP, "static mode checks the files only",
    "P='-p mode live' asks the platform's CLI; P='-p mode live -p platform local' runs the pinned "
    "gateway here (OPENCLAW_BIN=... or openclaw on PATH)")


def parameters(repo: str | Path, **given: Any) -> dict[str, Any]:
    """Notebook parameters with ``None`` filled from the repo's answers."""
    root = Path(repo).resolve()
    answers = {}
    if (root / ".copier-answers.yml").exists():
        answers = m.answers_from_file(root / ".copier-answers.yml")
    mode = given.get("mode") or "static"
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}")
    return {"repo": str(root), "mode": mode,
            "platform": given.get("platform") or answers.get("platform"),
            "app": given.get("app") or answers.get("app_name"),
            "fail_on_error": bool(given.get("fail_on_error"))}


def run(params: dict[str, Any], runner: Runner | None = None, **options: Any) -> tuple[list[Result], Runner]:
    runner = runner or Runner(timeout=float(options.pop("timeout", 60)))
    if params["mode"] == "static":
        return redact_results(run_static(params["repo"]), runner) + [LIVE_NOT_RUN], runner
    results = run_static(params["repo"]) if options.pop("with_static", False) else []
    try:
        results += run_live(params["repo"], params["platform"], params["app"], runner, **options)
    except m.AnswerError as exc:
        results.append(Result("answers valid", FAIL, "; ".join(exc.messages), "fix .copier-answers.yml"))
    return redact_results(results, runner), runner


def redact_results(results: list[Result], runner: Runner) -> list[Result]:
    """Every row through the runner's one redaction (``ops.runner.redact_text``): rows quote
    command output (doctor findings, health-check bodies, log lines) that may hold a key."""
    return [Result(runner.redact(r.check), r.status, runner.redact(r.seen), runner.redact(r.fix)) for r in results]


def rows(results: list[Result]) -> list[dict[str, str]]:
    """Steps for the report; a SKIP keeps its fix: what would make it run."""
    return [{"step": r.check, "status": r.status, "seen": r.seen,
             "fix": r.fix if r.status in (FAIL, WARN, SKIP) else ""} for r in results]


def _one_line(text: str, width: int) -> str:
    text = " ".join(text.splitlines())
    return text if len(text) <= width else text[:max(1, width - 1)] + "\u2026"


def table(results: list[Result], width: int | None = None, max_lines: int = 8) -> str:
    """The terminal table: one row per step (verdict, step, the fix or, for a
    SKIP, what would make it run), the fix wrapped under its column to ``width``
    (default: the terminal's) in at most ``max_lines`` lines; the report keeps
    the full text. Then the counts."""
    import textwrap

    if width is None:
        width = terminal.width()
    width = max(width, 60)
    step_w = min(max([len(r.check) for r in results] + [4]), 40)
    indent = " " * (7 + 2 + step_w + 2)
    title = textwrap.wrap("fix (SKIP: what would make it run)", width - len(indent))
    lines = [f"{'verdict':7}  {'step':<{step_w}}  {title[0]}", *[indent + more for more in title[1:]],
             f"{'-' * 7}  {'-' * step_w}  {'-' * min(34, width - len(indent))}"]
    for r in results:
        hint = r.fix if r.status in (FAIL, WARN, SKIP) else ""
        if r.status == SKIP and not hint:
            hint = f"skipped: {r.seen}"
        head = f"{r.status:7}  {_one_line(r.check, step_w):<{step_w}}  "
        wrapped = textwrap.wrap(" ".join(hint.split()), width - len(indent), break_on_hyphens=False) or [""]
        if len(wrapped) > max_lines:
            wrapped = wrapped[:max_lines]
            wrapped[-1] = _one_line(wrapped[-1] + " \u2026", width - len(indent))
        lines.append((head + wrapped[0]).rstrip())
        lines += [indent + more for more in wrapped[1:]]
    counts = summary(results)
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items()))
    return "\n".join(lines)


def summary(results: list[Result]) -> dict[str, int]:
    return {s: sum(r.status == s for r in results) for s in (PASS, FAIL, WARN, SKIP)}


def write_json(params: dict[str, Any], results: list[Result], runner: Runner, out_dir: str | Path) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "troubleshooting.json"
    path.write_text(json.dumps(runner.redact_data({  # the whole file through the one redaction
        "parameters": params,
        "summary": summary(results),
        "results": [r.as_dict() for r in results],
        "commands": [rec.as_dict() for rec in runner.records],
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }), indent=2) + "\n")
    return path


def verdict(results: list[Result], fail_on_error: bool) -> str:
    failed = [r for r in results if r.status == FAIL]
    text = f"{len(failed)} failed step(s)" + (": " + "; ".join(r.check for r in failed) if failed else "")
    if failed and fail_on_error:
        raise RunbookFailed(text)
    return text

