"""Gateway locks: who owns a state dir, judged by pid AND start time.

A lock under ``$OPENCLAW_STATE_DIR/tmp/openclaw-<uid>/gateway.*.lock`` names a
pid and its start time; containers reuse pids, so a pid alone proves nothing.
Read locally (``read_locks``) or in a remote machine (``lock_probe_command``,
then ``remote_lock_result``); a stale lock's removal is printed, never run.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from . import checks as c
from .live import parse_json_stream
from .runner import Record

Result = c.Result
PASS, WARN = c.PASS, c.WARN


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
