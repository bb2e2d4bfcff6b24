"""Text that fits the terminal: tables and paragraphs wrapped at word boundaries.

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
from itertools import zip_longest
from pathlib import Path

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
