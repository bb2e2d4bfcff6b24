"""Text that fits the terminal: tables and paragraphs wrapped at word boundaries,
and the progress of a long command.

    python3 -m ops.terminal help Makefile     (what `make help` runs)

Standard library only (`make help` runs before any venv exists). The width is
``COLUMNS`` when set, else the terminal's, else 80 (a pipe, a CI log). Columns
stay aligned: a cell too long for its column continues on the next line of
the same column, broken between words (a single word longer than its column,
a URL or a path, is the only thing ever cut).
"""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
import threading
from itertools import zip_longest
from pathlib import Path
from typing import Callable

DEFAULT_WIDTH = 80
MIN_WIDTH = 40


def width() -> int:
    """``COLUMNS``, else the terminal's width, else 80 (never below 40)."""
    return max(shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns, MIN_WIDTH)


def wrap(text: str, columns: int | None = None, indent: str = "", first: str = "") -> str:
    """``first`` + ``text`` wrapped to ``columns``, later lines indented by ``indent``."""
    lines = textwrap.wrap(" ".join(text.split()), (columns or width()), initial_indent=first,
                          subsequent_indent=indent, break_on_hyphens=False) or [first.rstrip()]
    return "\n".join(lines)


def _widths(cells: list[list[str]], room: int) -> list[int]:
    """Column widths summing to at most ``room``: the natural widths, then the
    widest column narrowed one character at a time, first down to its longest
    word (no word is cut while another column can still give; a word longer
    than an equal share of the room, a long path, claims no more than that
    share), then further."""
    natural = [max([len(row[i]) for row in cells] + [1]) for i in range(len(cells[0]))]
    share = max(room // len(natural), 1)
    words = [min(max([len(w) for row in cells for w in row[i].split()] + [1]), share)
             for i in range(len(natural))]
    out = list(natural)
    for floor in (words, [1] * len(out)):
        while sum(out) > room:
            shrinkable = [i for i, w in enumerate(out) if w > floor[i]]
            if not shrinkable:
                break
            widest = max(shrinkable, key=lambda i: out[i])
            out[widest] -= 1
    return out


def table(rows: list[list[str]], header: list[str] | None = None, columns: int | None = None,
          gap: int = 2) -> str:
    """Rows of cells as aligned columns within ``columns`` (default: ``width()``);
    with ``header``, a header line and a rule of dashes above the rows."""
    body = [[" ".join(str(c).split()) for c in row] for row in rows]
    head = [[str(h) for h in header]] if header else []
    if not body and not head:
        return ""
    cells = head + body
    sizes = _widths(cells, (columns or width()) - gap * (len(cells[0]) - 1))
    if header:
        rule = ["-" * min(len(h), w) for h, w in zip(header, sizes)]
        cells = head + [rule] + body

    def lines(row: list[str]) -> list[str]:
        wrapped = [textwrap.wrap(c, w, break_on_hyphens=False) or [""] for c, w in zip(row, sizes)]
        return [(" " * gap).join(part.ljust(w) for part, w in zip(parts, sizes)).rstrip()
                for parts in zip_longest(*wrapped, fillvalue="")]

    return "\n".join(line for row in cells for line in lines(row))


# ----------------------------------------------------------------- progress --

STEP_END = " ..."


def is_step(line: str) -> bool:
    """A plain progress line (what ``Progress`` prints when stderr is no terminal)."""
    return line.endswith(STEP_END)


class Progress:
    """What a long command is doing, on stderr, from its first second on.

    On a terminal: one line rewritten in place, a spinner turning every 0.1 s
    and, where there are steps to count, a bar (``[#####.....] 3/8``); the
    line is cleared before the result is printed. Elsewhere (a pipe, CI):
    one plain line per step, ending in `` ...``; counted steps are not listed.
    """

    FRAMES = "|/-\\"

    def __init__(self, name: str, stream=None):
        self.name = name
        self.stream = stream or sys.stderr
        try:
            self.tty = self.stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False
        self.text = ""
        self.counted: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._frame = 0

    def step(self, text: str) -> None:
        with self._lock:
            self.text, self.counted = text, None
        if not self.tty:
            self._write(f"{self.name}: {text}{STEP_END}\n")
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._spin, daemon=True)
            self._thread.start()
        self._draw()

    def count(self, done: int, total: int) -> None:
        with self._lock:
            self.counted = (done, total)
        if self.tty:
            self._draw()

    def done(self) -> None:
        """Stop the spinner and clear its line (nothing to clear off a terminal)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1)
            self._thread = None
            self._write("\r\033[K")

    def _spin(self) -> None:
        while not self._stop.wait(0.1):
            self._frame += 1
            self._draw()

    def _line(self) -> str:
        with self._lock:
            text, counted = self.text, self.counted
        line = f"{self.FRAMES[self._frame % len(self.FRAMES)]} {self.name}: {text}"
        if counted:
            done, total = counted
            filled = int(10 * done / max(total, 1))
            line += f" [{'#' * filled}{'.' * (10 - filled)}] {done}/{total}"
        return line[:width() - 1]

    def _draw(self) -> None:
        if not self._stop.is_set():
            self._write("\r\033[K" + self._line())

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: progress is not worth an error
            pass


# ---------------------------------------------------------------- make help --

TARGET = re.compile(r"^([a-z][a-z-]*):.*?## (.*)$")
VARIABLE = re.compile(r"^([A-Z_]+)\s*[:?]?=\s*(.*)$")


def make_help(makefile: str | Path, columns: int | None = None) -> str:
    """``make help``: each ``target: ## what it does`` line, the text wrapped
    under its column and ``$(VAR)`` shown as the Makefile defines it."""
    text = Path(makefile).read_text()
    variables = {m.group(1): m.group(2).strip() for m in map(VARIABLE.match, text.splitlines()) if m}
    targets = [m.groups() for m in map(TARGET.match, text.splitlines()) if m]

    def expand(desc: str) -> str:
        return re.sub(r"\$\(([A-Z_]+)\)", lambda v: variables.get(v.group(1), v.group(0)), desc)

    rows = [[f"make {name}", expand(desc)] for name, desc in targets]
    return "\n".join("  " + line for line in table(rows, columns=(columns or width()) - 2).splitlines())


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "help":
        print("usage: python3 -m ops.terminal help MAKEFILE", file=sys.stderr)
        return 2
    print(make_help(args[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())


def one_line_exit(run: Callable[[], int | None], *errors: type[BaseException],
                  say: Callable[[BaseException], str] = str) -> int:
    """A command's ending: what ``run`` returns (None is 0); one of ``errors`` is ``say(error)``
    as one line on stderr (exit 1); Ctrl-C is `interrupted` (130). Never a traceback."""
    try:
        return run() or 0
    except errors as err:
        print(say(err), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
