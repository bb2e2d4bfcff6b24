"""`python -m ops.runbook` (what `make cost` / `make troubleshoot` run) stopped by
Ctrl-C or SIGTERM: one line, a non-zero exit, no traceback, no orphaned kernel.

The run is held inside a cell by a SLOW `docker` STAND-IN (a test script on
PATH that writes a marker and sleeps; it contacts nothing): the live check of a
Compose deploy calls it first, so the signal lands while the kernel executes.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SLOW_DOCKER = """#!/bin/sh
# SLOW STAND-IN for `docker` (tests/runbooks/test_quiet.py): records its pid, then sleeps.
echo $$ > "$MARKER"
exec sleep 60
"""


def _start(repo: Path, env: dict[str, str], *args: str) -> subprocess.Popen:
    # its own process group, like a terminal's foreground job: Ctrl-C signals the whole group
    return subprocess.Popen([sys.executable, "-m", "ops.runbook", *args], cwd=repo, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _kernels_of(pid: int) -> list[int]:
    """Live processes whose JPY_PARENT_PID is ``pid``: the kernel it started and
    the kernel's own children (they inherit the variable)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if f"JPY_PARENT_PID={pid}".encode() in environ and state != "Z":
            found.append(int(entry.name))
    return found


def _handles(pid: int, signum: int) -> bool:
    """``pid`` has a handler for ``signum`` (SigCgt in /proc/<pid>/status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
    return bool(mask & (1 << (signum - 1)))


@pytest.fixture
def slow_world(generated, tmp_path):
    repo = generated("vps", platform="vps")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(SLOW_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    marker = tmp_path / "docker.pid"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "MARKER": str(marker)}
    yield repo, env, marker
    if marker.exists():  # the stand-in runs in the runner's own session: end it here
        try:
            os.kill(int(marker.read_text()), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


@pytest.mark.parametrize("signum, code, word", [(signal.SIGINT, 130, "interrupted (Ctrl-C)"),
                                                (signal.SIGTERM, 143, "stopped (SIGTERM)")])
def test_signal_during_a_cell_prints_one_line(slow_world, signum, code, word):
    repo, env, marker = slow_world
    proc = _start(repo, env, "troubleshoot", "-p", "mode", "live", "-p", "output_dir", str(repo / "out"))
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the live check never called docker"
        time.sleep(0.1)
    started = _kernels_of(proc.pid)  # the kernel and the stand-in it runs
    assert len(started) >= 2, "no kernel found for the run"
    os.killpg(proc.pid, signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code
    lines = [line for line in err.splitlines() if line.strip() and not _progress(line)]
    assert len(lines) == 1 and word in lines[0] and lines[0].startswith("make troubleshoot:"), err
    assert "Traceback" not in out + err and "KeyboardInterrupt" not in out + err and "WARNING" not in out + err
    time.sleep(0.5)
    assert _kernels_of(proc.pid) == [], "the kernel (or a command it ran) outlived the run"


def test_signal_before_the_notebook_starts(generated):
    """Ctrl-C while the entry point still imports papermill: one line too."""
    repo = generated("vps", platform="vps")
    proc = _start(repo, dict(os.environ), "cost")
    deadline = time.monotonic() + 30
    while not _handles(proc.pid, signal.SIGTERM):  # main() installed its handlers: imports follow
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    lines = [line for line in err.splitlines() if line.strip() and not _progress(line)]
    assert len(lines) == 1 and "interrupted" in lines[0] and "Traceback" not in out + err, err


def test_bad_arguments_say_how(generated):
    repo = generated("vps", platform="vps")
    proc = subprocess.run([sys.executable, "-m", "ops.runbook", "cost", "-p", "egress_gb"], cwd=repo,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.strip() == "expected -p NAME VALUE, got '-p egress_gb'"
    from ops import runbook

    assert runbook.parse_args(["cost", "-p", "egress_gb", "10", "-p", "fail", "False", "-p", "x", "None"]) == (
        "cost", {"egress_gb": 10, "fail": False, "x": None})
    assert runbook.value("1.5") == 1.5 and runbook.value("live") == "live"


def test_a_reader_that_stops_early_gets_no_traceback(generated):
    """`make cost | head -1` closes the pipe before the result is printed."""
    repo = generated("vps", platform="vps")
    proc = subprocess.Popen([sys.executable, "-m", "ops.runbook", "cost"], cwd=repo, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # the reader is gone before anything is written
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0 and all(map(_progress, err.splitlines())), err
    assert (repo / "reports" / "cost_estimate.html").exists()


def test_kernel_shutdown_sends_no_interrupt(tmp_path):
    """jupyter_client interrupts (SIGINT) every kernel before asking it to shut
    down; a kernel still finishing a message then logs "KeyboardInterrupt caught
    in kernel" on the terminal. The runbook's kernel manager shuts down without
    it, over encrypted sockets (no "running over TCP without encryption")."""
    import asyncio

    from jupyter_client.manager import AsyncKernelManager

    from ops import runbook

    async def signals_at_shutdown(cls) -> tuple[list[int], object]:
        km = cls(kernel_name="python3")
        await km.start_kernel(cwd=str(tmp_path))
        sent: list[int] = []
        original = km.provisioner.send_signal

        async def record(signum: int) -> None:
            sent.append(signum)
            await original(signum)

        km.provisioner.send_signal = record
        encrypted = km.transport_encryption
        await km.shutdown_kernel(now=False)
        return sent, encrypted

    quiet_sent, encrypted = asyncio.run(signals_at_shutdown(runbook.kernel_manager_class()))
    assert signal.SIGINT not in quiet_sent
    assert encrypted == "auto" or runbook.kernel_manager_class()().transport == "ipc"
    plain_sent, _ = asyncio.run(signals_at_shutdown(AsyncKernelManager))
    assert signal.SIGINT in plain_sent  # what this guards against: the stock manager does send it


def test_outside_a_deploy_repo_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ops.runbook", "troubleshoot"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "template")})
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == "make troubleshoot: no notebooks/troubleshooting.ipynb here: run it in the deploy repo\n"


def test_a_failing_cell_is_one_line_naming_the_report(generated):
    repo = generated("vps", platform="vps")
    proc = subprocess.run([sys.executable, "-m", "ops.runbook", "troubleshoot", "-p", "mode", "bogus"], cwd=repo,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert [line for line in proc.stderr.splitlines() if not _progress(line)] == [
        "make troubleshoot: cell 'run' failed: ValueError: mode must be one of ('static', 'live'); got 'bogus' "
        "(traceback in reports/troubleshooting.html)"], proc.stderr
    assert "Traceback" not in proc.stdout
    assert "ValueError" in (repo / "reports" / "troubleshooting.html").read_text()


@pytest.fixture
def signal_state(monkeypatch):
    """Whatever ``_on_signal`` changes in this process, restored afterwards."""
    import logging
    import threading

    from ops import runbook

    # the interpreter's own reporters (pytest installs recording ones): they print to stderr
    monkeypatch.setattr(threading, "excepthook", threading.__excepthook__)
    monkeypatch.setattr(sys, "unraisablehook", sys.__unraisablehook__)
    monkeypatch.setattr(runbook, "_STOPPING", [], raising=False)
    handlers = {s: signal.getsignal(s) for s in runbook.EXIT_SIGNAL}
    yield runbook
    for signum, handler in handlers.items():
        signal.signal(signum, handler)
    logging.disable(logging.NOTSET)


def test_the_heartbeat_socket_closed_after_the_signal_prints_no_thread_traceback(signal_state, capfd):
    """The reported 28-line ``zmq.error.ZMQError: Socket operation on non-socket``:
    jupyter_client's heartbeat thread sends its ping on a socket the teardown
    after Ctrl-C has closed; the thread's exception went to stderr."""
    import threading

    import zmq

    runbook = signal_state
    with pytest.raises(runbook.Stopped):
        runbook._on_signal(signal.SIGINT, None)
    context = zmq.Context()
    sock = context.socket(zmq.REQ)
    sock.close()  # what stop_channels / context.destroy do while the thread still runs
    thread = threading.Thread(target=sock.send, args=(b"ping",))  # HBChannel._async_run's next step
    thread.start()
    thread.join()
    context.term()
    assert capfd.readouterr().err == ""


def test_the_signal_handler_works_while_logging_is_half_imported(signal_state, monkeypatch):
    """A Ctrl-C that lands while ``logging`` is being imported (0.3 s into a run):
    the handler's own ``import logging`` got the half-made module and raised
    AttributeError, a 69-line traceback, exit 1."""
    import types

    runbook = signal_state
    monkeypatch.setitem(sys.modules, "logging", types.ModuleType("logging"))
    with pytest.raises(runbook.Stopped):
        runbook._on_signal(signal.SIGINT, None)


def test_an_error_raised_over_the_stop_still_reads_as_the_stop(signal_state):
    runbook = signal_state
    assert runbook.stopped_instead(RuntimeError("socket closed")) is None
    with pytest.raises(runbook.Stopped):
        runbook._on_signal(signal.SIGTERM, None)
    stop = runbook.stopped_instead(RuntimeError("socket closed"))
    assert stop is not None and stop.signum == signal.SIGTERM


@pytest.mark.slow
def test_ctrl_c_at_any_moment_of_a_run_is_one_line(generated):
    """A real SIGINT to the run's process group at moments spread over a whole
    `make cost` run (imports, kernel start, cells, HTML): always one line, 130."""
    repo = generated("fly", platform="fly")
    start = time.monotonic()
    full = subprocess.run([sys.executable, "-m", "ops.runbook", "cost"], cwd=repo, capture_output=True, text=True,
                          timeout=180)
    assert full.returncode == 0, full.stderr
    length = time.monotonic() - start
    for fraction in (0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9):
        proc = _start(repo, dict(os.environ), "cost")
        time.sleep(length * fraction)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        if proc.returncode == 0:  # finished first: nothing to check at this moment
            continue
        lines = [line for line in err.splitlines() if line.strip() and not _progress(line)]
        assert proc.returncode == 130 and len(lines) == 1 and "interrupted" in lines[0], (fraction, err)
        assert "Traceback" not in out + err, (fraction, err)


def _progress(line: str) -> bool:
    """A progress step line (stderr is no terminal here: plain lines ending in " ...")."""
    from ops import terminal

    return terminal.is_step(line)


def test_progress_is_said_before_the_slow_imports(generated):
    """`make cost` was silent for ~10 s warm: the first step line comes before
    papermill is imported (-X importtime writes each import to stderr, in order)."""
    repo = generated("vps", platform="vps")
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "ops.runbook", "cost"], cwd=repo,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stderr.splitlines()
    first_step = next(i for i, line in enumerate(lines) if _progress(line))
    papermill = next(i for i, line in enumerate(lines) if line.rstrip().endswith("| papermill"))
    assert first_step < papermill
    steps = [line for line in lines if _progress(line)]
    assert steps[:3] == ["make cost: starting the Python kernel ...",
                         "make cost: loading the notebook runner (papermill) ...",
                         "make cost: waiting for the kernel ..."]
    assert re.fullmatch(r"make cost: running \d+ cells \.\.\.", steps[3]) and len(steps) == 5
    assert steps[4] == "make cost: writing the HTML report ..."


def test_on_a_terminal_a_spinner_and_a_cell_bar_then_a_clean_screen(generated):
    import pexpect
    import pyte

    repo = generated("vps", platform="vps")
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}  # the terminal's own size
    child = pexpect.spawn(sys.executable, ["-m", "ops.runbook", "cost"], cwd=str(repo), encoding="utf-8",
                          timeout=300, dimensions=(200, 120), env=env)
    child.expect(pexpect.EOF)
    raw = child.before
    assert "\r\x1b[K" in raw and "make cost: running" in raw
    assert re.search(r"\[#+\.*\] \d+/\d+", raw), "no bar over the cells"
    screen = pyte.Screen(120, 200)
    pyte.Stream(screen).feed(raw.replace("\n", "\r\n"))
    shown = [line.rstrip() for line in screen.display if line.strip()]
    assert not [line for line in shown if "make cost:" in line], shown  # the spinner line is gone
    assert any(line.startswith("Monthly estimate:") for line in shown)
    # the kernel was told this terminal's width: the comparison uses it, and no more
    assert 80 < max(map(len, raw.replace("\r", "\n").splitlines())) <= 120


def test_progress_off_a_terminal_is_plain_lines():
    import io

    from ops import terminal

    out = io.StringIO()
    progress = terminal.Progress("make x", out)
    progress.step("one")
    progress.count(1, 3)
    progress.step("two")
    progress.done()
    assert out.getvalue() == "make x: one ...\nmake x: two ...\n"
