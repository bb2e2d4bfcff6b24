"""Fly.io: everything the ops package knows about it, side by side.

- ``read``: fly.toml read back (ops.declared);
- ``validate``: fly.toml against SchemaStore's schema (make verify);
- ``live``: the app, its machines and checks through ``fly`` (the live runbook);
- ``cost``: machine, volume and egress lines (make cost);
- ``private_status`` and ``main``: the CI deploy's and uptime's wait on Fly's
  own health checks (``python3 -m ops.platforms.fly --app NAME``; FLY_API_TOKEN
  stays in the environment, never argv).
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from .. import checks as c
from .. import cost as co
from .. import declared as d
from .. import live as lv
from .. import locks
from .. import model as m
from .. import remote as rm
from .. import platform_verify as pv
from .. import signatures as sig
from ..ci_http import DeployError, main_guard, poll, say, secret_env
from ..remote import app_values as remote_values  # noqa: F401  (the app name is all its argv needs)

Result = c.Result
PASS, FAIL, WARN, SKIP = c.PASS, c.FAIL, c.WARN, c.SKIP
REMOTE_NEEDS: tuple[str, ...] = ()

# `fly logs` follows the log until interrupted unless given --no-tail: ops/runner.py refuses
# such an argv (it would hang a notebook or a runbook). An entry ending in `=` is a prefix.
STREAMING_LOGS = {"programs": ("fly", "flyctl"), "bounded_by": ("--no-tail",),
                  "reason": "fly logs streams forever without --no-tail"}
DEPLOY_HELP = "After `flyctl deploy` of a private app: wait until Fly's health checks pass."


# --------------------------------------------------------------------- files --


def memory_from_fly(value: Any) -> int | None:
    """Fly's ``memory`` is "2048mb", "2gb" or a number of MB."""
    if isinstance(value, int):
        return value
    match = re.fullmatch(r"\s*(\d+)\s*(mb|gb)?\s*", str(value).lower())
    if not match:
        return None
    number = int(match.group(1))
    return number * 1024 if match.group(2) == "gb" else number


def read(root: Path, declared: d.Declared) -> None:
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
        flags = d.parse_command(process)
        if "port" in flags:
            declared.ports["fly.toml [processes] --port"] = int(flags["port"])
        if "bind" in flags:
            declared.binds["fly.toml [processes] --bind"] = flags["bind"]
    if "OPENCLAW_GATEWAY_PORT" in env:
        declared.ports["fly.toml [env] OPENCLAW_GATEWAY_PORT"] = int(env["OPENCLAW_GATEWAY_PORT"])
    if "OPENCLAW_STATE_DIR" in env:
        declared.state_dirs["fly.toml [env] OPENCLAW_STATE_DIR"] = env["OPENCLAW_STATE_DIR"]
    heap = d.heap_from_node_options(env.get("NODE_OPTIONS"))
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


# ---------------------------------------------------------------- validators --


FLY_SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "fly.json"


def check_fly_schema(root: Path) -> c.Result:
    name = "fly.toml matches the schema"
    exe = pv.tool("check-jsonschema")
    if not exe:
        return c.Result(name, c.SKIP, "check-jsonschema not installed", "make venv")
    if not FLY_SCHEMA.is_file():
        return c.Result(name, c.FAIL, f"{FLY_SCHEMA} is missing", "restore ops/schemas/ with `make update`")
    proc = pv.run_tool([exe, "--schemafile", str(FLY_SCHEMA), "fly.toml"], root)
    if proc.returncode:
        return c.Result(name, c.FAIL, pv.output(proc), "fix the keys named in fly.toml")
    return c.Result(name, c.PASS, "fly.toml matches ops/schemas/fly.json (SchemaStore)")


def validate(root: Path, model: m.DeployModel) -> list[c.Result]:
    return [check_fly_schema(root)]


# ---------------------------------------------------------------------- live --


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


def live(live: lv.Live) -> list[Result]:
    r, app, model = live.runner, live.app, live.model
    missing = lv.need(live, "fly", "install flyctl and `fly auth login`")
    if missing:
        return [missing]
    results: list[Result] = []
    status, bad = lv.json_or_fail(r.run(["fly", "status", "-a", app, "--json"]), "app reachable (fly status)",
                                f"`fly auth login`, and check the app name ({app}) / `fly apps list`")
    if bad:
        return [bad]
    results.append(Result("app reachable (fly status)", PASS,
                          f"Name={status.get('Name')} Status={status.get('Status')}"))
    machines, bad = lv.json_or_fail(r.run(["fly", "machine", "list", "-a", app, "--json"]), "machines",
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
    checks, bad = lv.json_or_fail(r.run(["fly", "checks", "list", "-a", app, "--json"]), "health checks passing",
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
    results += lv.doctor_results(doctor)
    probe = r.run(["fly", "ssh", "console", "-a", app, "-C", locks.lock_probe_command(model.state_dir)], timeout=90)
    results.append(locks.remote_lock_result(probe, model.state_dir,
                                      f"fly ssh console -a {app} -C", f"`fly machine restart -a {app}`"))
    logs = r.run(["fly", "logs", "-a", app, "--no-tail"], timeout=60)
    if logs.exit_code == 0:
        results += sig.signature_results("recent logs", logs.stdout + logs.stderr, "fly logs")
    else:
        results.append(Result("recent logs", WARN, f"`{logs.command}` -> {logs.error or logs.exit_code}",
                              "run it by hand"))
    return results


# ---------------------------------------------------------------------- cost --


def _fly_machine(p, name: str, memory_mb: int) -> tuple[float | None, float | None, str, str]:
    """(low, high, how, reason) of Fly size ``name`` at ``memory_mb`` for a full month:
    a published row (or between two), else, for an offered size without rows,
    the rows' own per-vCPU and per-GB rates as a range (outside the size's
    memory range: unknown)."""
    spec = p["sizes"][name]
    if "prices" in spec:
        price, how = co.interpolate_price(spec["prices"], memory_mb)
        return price, price, how, ""
    low_mb, high_mb = m.memory_range("fly", name)
    if not low_mb <= memory_mb <= high_mb:
        return None, None, f"{name} takes {low_mb}-{high_mb} MB", ""
    d = p["derived"]
    price = spec["vcpu"] * d["vcpu_month"]["shared" if spec["shared"] else "performance"] \
        + memory_mb / 1024 * d["gb_month"]
    return price * (1 - d["spread"]), price * (1 + d["spread"]), "derived", " ".join(d["reason"].split())


def cost(p: dict[str, Any], est: co.Estimate, s: co.Sizing) -> None:
    vm_size, memory_mb, volume_gb, egress_gb, public = s.vm_size, s.memory_mb, s.volume_gb, s.egress_gb, s.public
    sizes = p["sizes"]
    if vm_size is None:  # the comparison: the cheapest size with a price for this memory
        priced = [(price, name) for name in sizes if (price := _fly_machine(p, name, memory_mb)[0]) is not None]
        vm_size = min(priced)[1] if priced else None
    if vm_size is None:
        est.items.append(co.Item("machine", None, f"no Fly size has {memory_mb} MB", p["source"], p["as_of"]))
        return
    est.sku = vm_size
    spec = sizes.get(vm_size)
    if spec is None:
        est.items.append(co.Item("machine", None, f"no recorded price for {vm_size}", p["source"], p["as_of"]))
        return
    est.vcpu = spec["vcpu"]
    frac = co.fraction(est.hours, p["month_hours"])
    low, high, how, reason = _fly_machine(p, vm_size, memory_mb)
    region = est.region or p["base_region"]
    group = next((g for g, codes in p["region_groups"].items() if region in codes), None)
    detail = f"{vm_size} {memory_mb} MB, {est.hours:g}/{p['month_hours']} h ({how})"
    if low is not None:
        low, high = round(low * frac, 2), round(high * frac, 2)
        if region != p["base_region"]:
            high = round(high * p["region_multiplier_max"], 2)
            detail += f"; {p['base_region']} rate, {region} may cost up to x{p['region_multiplier_max']}"
            reason = "; ".join(filter(None, [reason, f"region multiplier for {region} not recorded"]))
            est.warnings.append(
                f"Fly region {region}: machine priced at the {p['base_region']} rate; other regions cost "
                f"up to {int(round((p['region_multiplier_max'] - 1) * 100))}% more (exact multiplier not recorded)")
    est.items.append(co.Item("machine", low, detail, p["source"], p["as_of"], None if high == low else high, reason))
    est.items.append(co.volume_item(p, volume_gb, p["volume_gb_month"]))
    rate = p["egress_per_gb"].get(group) if group else None
    est.items.append(co.egress_item(p, egress_gb, rate, f" ({group or 'region group unknown'})"))


# -------------------------------------------------------------------- deploy --


def check_states(data: Any) -> list[str]:
    """Statuses in `flyctl checks list --json` ({machine: [{name, status}]} or a flat list)."""
    rows = []
    if isinstance(data, dict):
        for checks in data.values():
            rows += [c for c in checks or [] if isinstance(c, dict)]
    elif isinstance(data, list):
        rows = [c for c in data if isinstance(c, dict)]
    return [str(c.get("status")) for c in rows]


def checks_passing(app: str) -> tuple[bool, str]:
    proc = subprocess.run(["flyctl", "checks", "list", "-a", app, "--json"],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode:
        raise DeployError(f"flyctl checks list: exit {proc.returncode}: {proc.stderr.strip()[:300]}")
    try:
        states = check_states(json.loads(proc.stdout))
    except json.JSONDecodeError as exc:
        raise DeployError("flyctl checks list --json did not print JSON") from exc
    return bool(states) and all(s == "passing" for s in states), ", ".join(states) or "no checks"


def wait(app: str) -> None:
    poll(f"Fly health checks of {app}", lambda: checks_passing(app))
    say(f"{app}: every health check passes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=DEPLOY_HELP)
    parser.add_argument("--app", required=True)
    args = parser.parse_args(argv)
    return main_guard(lambda: wait(args.app))


def private_status(app: str, _service: str, _environment: str) -> tuple[bool, str]:

    secret_env("FLY_API_TOKEN")
    return checks_passing(app)

# ------------------------------------------------- scheduled backup credentials --
# .github/workflows/backup.yml: the step's env holds the secrets (ci.yml `backup.secrets`);
# this turns them into what the CLI reads, in ``workdir`` (0700, removed by the caller).


def ci_credentials(model: m.DeployModel, env: dict[str, str], workdir: Path) -> None:
    rm.need(env, "FLY_API_TOKEN")  # flyctl reads it (an ssh token: fly tokens create ssh)


# -------------------------------------------------------------- safe upgrade --
# python -m ops.safe_upgrade fly (make deploy, the CI deploy): ops/safe_upgrade.py runs the
# shared steps; what is Fly's is here: which image the app's machines run, `fly deploy`, and
# the image back with `fly deploy --image PREVIOUS`.

SAFE_UPGRADE_HELP = "fly deploy with a pre-update backup and a way back (fly deploy --image PREVIOUS)"


def machine_image(data: Any) -> str:
    """The image the app's gateway machines run, from `fly machine list --json` (each
    machine's ``config.image``, the reference `fly deploy --image` takes); "" when none runs."""
    images = []
    for machine in data if isinstance(data, list) else []:
        if not isinstance(machine, dict) or machine.get("state") in ("destroyed", "destroying"):
            continue
        config = machine.get("config") or {}
        group = (config.get("metadata") or {}).get("fly_process_group", "app")
        if group == "app" and config.get("image"):
            images.append((machine.get("state") == "started", machine.get("updated_at") or "", config["image"]))
    return max(images)[2] if images else ""  # a started machine first, then the newest


def safe_upgrade_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--app", help="the Fly app (default: app_name)")
    parser.add_argument("--image", default="", help="deploy this image (fly deploy --image) instead of building")
    parser.add_argument("--remote-only", action="store_true", help="build on Fly's remote builder (CI)")
    parser.add_argument("--backups", default="backups")


def safe_upgrade(model: m.DeployModel, args: argparse.Namespace, say=print) -> Any:
    """`fly deploy` (Fly waits for the machine checks of fly.toml); the previous image, read
    from the machines before the deploy, goes back with `fly deploy --image`. The old image
    boots held in maintenance (the watch flag is on the volume): its checks pass, so Fly keeps it."""
    from .. import safe_upgrade as su

    app = args.app or model.app_name

    def current() -> str:
        try:
            out = su.run_checked(["fly", "machine", "list", "-a", app, "--json"], "fly machine list", timeout=120)
            return machine_image(json.loads(out or "[]"))
        except (su.UpgradeError, json.JSONDecodeError):
            return ""

    def deploy() -> None:
        su.run_checked(["fly", "deploy", "-a", app, *(["--remote-only"] if args.remote_only else []),
                        *(["--image", args.image] if args.image else [])], "fly deploy")

    def rollback(previous: str) -> None:
        try:
            proc = subprocess.run(["fly", "deploy", "-a", app, "--image", previous], capture_output=True, text=True,
                                  timeout=1800)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise su.UpgradeError(f"fly deploy --image {previous}: {err}") from None
        if proc.returncode:  # the watch decides: the old release, held or started, answers through exec
            last = (proc.stderr.strip().splitlines() or ["no error output"])[-1]
            say(f"upgrade: fly deploy --image {previous}: exit {proc.returncode} ({last[:200]}); "
                "watching what runs")

    return su.Platform(label="Fly.io", current_image=current, deploy=deploy, rollback=rollback,
                       new_image=args.image)


if __name__ == "__main__":  # the deploy job: python3 -m ops.platforms.fly --app APP
    sys.exit(main())
