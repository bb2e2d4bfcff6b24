"""`make cost` / `make troubleshoot`: run a runbook notebook, print only its result.

    python -m ops.runbook cost [-p NAME VALUE ...]
    python -m ops.runbook troubleshoot [-p NAME VALUE ...]

papermill executes ``notebooks/<notebook>.ipynb`` into ``reports/`` and
nbconvert writes the HTML beside it, both in this process. The terminal gets
what the cells tagged ``report`` printed (the result), then where the reports
are. While it works, stderr says what it is doing from the first second on
(``ops.terminal.Progress``: a spinner and a bar over the cells on a terminal,
plain step lines ending in `` ...`` elsewhere). Nothing else:

- the kernel talks over CurveZMQ-encrypted sockets (``transport_encryption``,
  else IPC sockets), so ipykernel has no "running over TCP without
  encryption" warning to print;
- the chart carries its alt text where nbconvert reads it (see ``ops.cost``);
- Ctrl-C (SIGINT) or SIGTERM stops the kernel and prints one line, exit 130
  / 143, no traceback, whenever it lands: during the imports, in a cell, or
  while jupyter_client's heartbeat thread still polls a socket the teardown
  closes (its ``ZMQError`` would print a thread traceback: from the signal on,
  thread and "exception ignored" reports are dropped, and an exception that
  replaces ``Stopped`` on the way out is read as the stop it is); a failed
  cell prints one line naming the cell and the report that holds the
  traceback, exit 1.

Values of ``-p`` are converted as papermill's CLI does: True, False, None,
ints and floats; anything else is a string.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path

from . import terminal

NOTEBOOKS = {"cost": "cost_estimate", "troubleshoot": "troubleshooting"}
REPORT_TAG = "report"
EXIT_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Stopped(BaseException):
    """SIGINT or SIGTERM arrived (BaseException: no ``except Exception`` swallows it)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


_STOPPING: list[int] = []  # the signal that arrived, once one did


def _silent(*_args) -> None:
    """Thread and unraisable-exception reports while stopping: dropped."""


def _on_signal(signum, _frame):
    # imports nothing: the signal may land while a module (logging itself) is
    # half imported, and an import here would then raise instead
    for other in EXIT_SIGNAL:  # a second Ctrl-C while stopping changes nothing
        signal.signal(other, signal.SIG_IGN)
    _STOPPING.append(signum)
    # tearing down (nbclient sees its kernel die, the heartbeat thread's socket
    # is closed under it, ...) reports errors nobody needs: the one line main()
    # prints says what happened
    logging.disable(logging.CRITICAL)
    threading.excepthook = _silent
    sys.unraisablehook = _silent
    raise Stopped(signum)


def stopped_instead(exc: BaseException) -> Stopped | None:
    """The ``Stopped`` that ``exc`` replaced, if a signal arrived: a finally
    block on the way out (a socket closed twice, ...) raised over it."""
    if isinstance(exc, Stopped):
        return exc
    return Stopped(_STOPPING[0]) if _STOPPING else None


def value(text: str):
    """A ``-p`` value as papermill's CLI reads it."""
    if text in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[text]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_args(argv: list[str]) -> tuple[str, dict]:
    """(runbook, parameters) from ``RUNBOOK [-p NAME VALUE]...``; ValueError says what is wrong."""
    if not argv or argv[0] not in NOTEBOOKS:
        raise ValueError(f"usage: python -m ops.runbook {{{'|'.join(NOTEBOOKS)}}} [-p NAME VALUE]...")
    name, rest, params = argv[0], argv[1:], {}
    while rest:
        if rest[0] not in ("-p", "--parameters") or len(rest) < 3:
            raise ValueError(f"expected -p NAME VALUE, got {' '.join(rest)!r}")
        params[rest[1]] = value(rest[2])
        rest = rest[3:]
    return name, params


_KERNELS: list = []


def kernel_manager_class():
    """An AsyncKernelManager that encrypts its sockets, shuts down without an
    interrupt, and remembers itself (so an interrupted run can stop its kernel
    instead of orphaning it)."""
    import zmq
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class QuietKernelManager(AsyncKernelManager):
        @default("transport_encryption")
        def _encrypt(self):
            return "auto" if zmq.has("curve") else "disabled"

        @default("transport")
        def _transport(self):
            return "tcp" if zmq.has("curve") else "ipc"

        def __init__(self, **kw):
            super().__init__(**kw)
            _KERNELS.append(self)

        async def _async_interrupt_kernel(self):
            # jupyter_client sends SIGINT before every shutdown request; a kernel
            # still finishing its last message then logs "KeyboardInterrupt caught
            # in kernel". Nothing runs at shutdown here: no interrupt needed.
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

    return QuietKernelManager


def start_kernel():
    """Launch the notebook's kernel and return its manager without waiting for it:
    the kernel (a second process) imports ipykernel while this one imports
    papermill. nbclient then uses it as it is (``km=``); ``stop_kernels`` ends it."""
    import asyncio

    km = kernel_manager_class()(kernel_name="python3")
    asyncio.run(km.start_kernel())
    return km


def _descendants_by_env(marker: bytes) -> list[int]:
    """Processes carrying ``marker`` in their environment (Linux /proc; else none).
    jupyter_client gives the kernel JPY_PARENT_PID=<this pid> and everything the
    kernel starts inherits it, also commands the runner put in their own session."""
    found = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def stop_kernels() -> None:
    """Kill any kernel this process started, and what the kernel started (a CLI a
    step was waiting for), and remove the kernel's connection file."""
    for km in _KERNELS:
        proc = getattr(getattr(km, "provisioner", None), "process", None)
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the kernel leads its own session
            except (ProcessLookupError, PermissionError):
                proc.kill()
            proc.wait()
        try:
            km.cleanup_connection_file()
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass
    for pid in _descendants_by_env(f"JPY_PARENT_PID={os.getpid()}".encode()):
        try:
            os.killpg(os.getpgid(pid), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def report_text(nb) -> str:
    """What the cells tagged ``report`` printed (stdout streams), in order."""
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code" or REPORT_TAG not in cell.metadata.get("tags", []):
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream" and o.get("name") == "stdout":
                out.append(o.get("text", ""))
    return "".join(out)


def _load_html_exporter() -> None:
    """Import nbconvert's HTML exporter and its template while the kernel runs
    (the main thread mostly waits on the kernel then): ~1/3 of the HTML step."""
    try:
        from nbconvert import HTMLExporter

        HTMLExporter().template  # noqa: B018 - loads the Jinja template once
    except Exception:  # noqa: BLE001 - write_html imports it again and reports a real failure
        pass


def write_html(executed: Path) -> Path:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_filename(str(executed))
    html = executed.with_suffix(".html")
    html.write_text(body, encoding="utf-8")
    return html


def progress_engine(progress: terminal.Progress) -> str:
    """A papermill engine (nbclient's) that counts the cells on ``progress``."""
    from papermill.engines import NBClientEngine, papermill_engines

    class CountingEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            start, total = nb_man.cell_start, len(nb_man.nb.cells)

            def cell_start(cell, cell_index=None, **kw):
                if cell_index == 0:
                    progress.step(f"running {total} cells")
                progress.count((cell_index or 0) + 1, total)
                return start(cell, cell_index, **kw)

            nb_man.cell_start = cell_start
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    papermill_engines.register("openclaw-progress", CountingEngine)
    return "openclaw-progress"


def run(name: str, params: dict, repo: Path, progress: terminal.Progress | None = None) -> int:
    progress = progress or terminal.Progress(f"make {name}")
    stem = NOTEBOOKS[name]
    source = repo / "notebooks" / f"{stem}.ipynb"
    if not source.exists():
        print(f"make {name}: no {source.relative_to(repo)} here: run it in the deploy repo", file=sys.stderr)
        return 2
    reports = repo / "reports"
    reports.mkdir(exist_ok=True)
    executed = reports / f"{stem}.ipynb"
    # the kernel's stdout is no terminal: tell it this one's width (tables fit it) before it starts
    os.environ.setdefault("COLUMNS", str(terminal.width()))
    failure = None
    try:
        progress.step("starting the Python kernel")  # before the imports: within a second
        kernel = start_kernel()  # it boots while papermill and nbformat are imported
        progress.step("loading the notebook runner (papermill)")
        import nbformat
        import papermill

        progress.step("waiting for the kernel")
        threading.Thread(target=_load_html_exporter, daemon=True).start()
        papermill.execute_notebook(str(source), str(executed), parameters=params, progress_bar=False,
                                   log_output=False, kernel_name="python3", engine_name=progress_engine(progress),
                                   km=kernel)
    except Exception as exc:  # noqa: BLE001 - a failed cell; the kernel did not start, a parameter is bad, ...
        if (stop := stopped_instead(exc)) is not None:
            raise stop from None
        if type(exc).__name__ != "PapermillExecutionError":  # a failed cell: its report says which
            progress.done()
            print(f"make {name}: the notebook did not run: {exc.__class__.__name__}: {exc}", file=sys.stderr)
            return 1
        failure = exc
    finally:
        stop_kernels()
    # every written report passes the runbooks' one redaction before anything reads it
    from ops.runner import env_secrets, redact_file

    for written in (executed, reports / f"{stem}.json"):
        if written.exists():
            redact_file(str(written), env_secrets())
    nb = nbformat.read(str(executed), as_version=4)
    progress.step("writing the HTML report")
    html = write_html(executed)  # before printing: a reader who stops early still gets the report
    progress.done()
    try:
        sys.stdout.write(report_text(nb))
        print(f"report: {executed.relative_to(repo)} and {html.relative_to(repo)}")
        sys.stdout.flush()
    except BrokenPipeError:  # `make cost | head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if failure is None:
        return 0
    if failure.ename == "RunbookFailed":  # the verdict of fail_on_error: the table above says which
        print(f"make {name}: {failure.evalue}", file=sys.stderr)
    else:
        cell = next((c.get("id") for c in nb.cells if c.cell_type == "code"
                     and any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        print(f"make {name}: cell {cell or failure.cell_index!r} failed: {failure.ename}: {failure.evalue} "
              f"(traceback in {html.relative_to(repo)})", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    for signum in EXIT_SIGNAL:
        signal.signal(signum, _on_signal)
    try:
        try:
            name, params = parse_args(sys.argv[1:] if argv is None else argv)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 2
        progress = terminal.Progress(f"make {name}")
        try:
            return run(name, params, Path.cwd(), progress)
        except BaseException as exc:  # noqa: BLE001 - a signal, or what a teardown raised over it
            progress.done()
            if (stop := stopped_instead(exc)) is None:
                raise
            stop_kernels()
            what = "interrupted (Ctrl-C)" if stop.signum == signal.SIGINT else "stopped (SIGTERM)"
            print(f"\nmake {name}: {what}; the kernel is stopped, reports/ may hold a partial run",
                  file=sys.stderr)
            return EXIT_SIGNAL[stop.signum]
    except BaseException as exc:  # noqa: BLE001 - before the run started (parsing, imports)
        if (stop := stopped_instead(exc)) is None:
            raise
        print("\ninterrupted", file=sys.stderr)
        return EXIT_SIGNAL[stop.signum]


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # no interpreter teardown: a signal arriving there (or a zmq/asyncio thread
    # still closing) must not print a traceback after the one-line message
    os._exit(code)
