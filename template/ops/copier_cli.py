"""copier's command line, with a refused answer shown as one line instead of a traceback.

    python -m ops.copier_cli update --trust --skip-answered -d vm_memory_mb=2048
    python -m ops.copier_cli copy --trust --defaults -d gateway_port=abc TEMPLATE DEST

copier 9.19.1 turns only its own ``UserMessageError`` into a one-line message.
An answer given with ``-d``/``--data`` (or recorded in .copier-answers.yml) that
fails its type (``gateway_port=abc``), its choices (``region=iad`` on Railway) or
its validator (``vm_memory_mb=512``) raises ``ValueError`` from the question
parsing, which copier's CLI prints as a 40-60 line Python traceback; it has no
option to change that. This wrapper runs the same CLI in-process, and for those
errors prints ``error: <field>: <reason>`` and exits 1 (copier's code for a
refused run). Nothing has been written at that point: answers are checked before
rendering. Any other exception keeps its traceback (that is a bug to report).

copier also prints "No git tags found in template; using HEAD as ref" each time
it asks for the newest release: three times per ``copier update``. What a user
needs is that the template has no release and its newest commit is taken: said
once (``NO_RELEASE``).
"""

from __future__ import annotations

import re
import sys
import traceback


def _question_frame(tb):
    """(var_name, frame locals) of the innermost copier Question method in the traceback."""
    found = None
    for frame, _ in traceback.walk_tb(tb):
        owner = frame.f_locals.get("self")
        if owner is not None and type(owner).__name__ == "Question" and hasattr(owner, "var_name"):
            found = (owner.var_name, frame.f_code.co_name, frame.f_locals)
    return found


TYPE_WORDS = {"int": "a whole number", "float": "a number", "bool": "true or false",
              "json": "JSON", "yaml": "YAML", "str": "text"}


def reason(exc: BaseException) -> str | None:
    """The one-line reason for a refused answer, or None when exc is not one."""
    from copier.errors import InvalidTypeError

    if not isinstance(exc, (ValueError, TypeError, InvalidTypeError)):
        return None
    where = _question_frame(exc.__traceback__)
    if where is None:
        return None
    name, func, local = where
    # a message's lines (reason, then details) become "reason; details"
    text = "; ".join(" ".join(line.split()) for line in str(exc).splitlines() if line.strip())
    if text.startswith("Not a YAML list: "):  # a multiselect given one bare value
        value = text.removeprefix("Not a YAML list: ")
        return f"{name}: {value} is not a list; write -d '{name}=[{value.strip(chr(39))}]'"
    if func == "cast_answer":
        type_name = local.get("type_name", "")
        return (f"{name}: {local.get('answer')!r} is not {TYPE_WORDS.get(type_name, type_name)}"
                f" ({type_name})")
    prefix = f"Validation error for question '{name}': "
    if text.startswith(prefix):
        text = text[len(prefix):]
    if text.startswith(f"{name}:"):
        text = text[len(name) + 1:].strip()
    text = text.replace(f"Invalid choice for '{name}': ", "")
    choice = re.fullmatch(r"(.*) is not in \[(.*)\]", text)
    if choice:
        allowed = ", ".join(part.strip().strip("'\"") for part in choice.group(2).split(","))
        text = f"{choice.group(1)} is not one of {allowed}"
    return f"{name}: {text}"


NO_TAGS = "No git tags found in template; using HEAD as ref"
NO_RELEASE = "note: the template has no release tag (vX.Y.Z): using its newest commit (HEAD)"


class OnceStderr:
    """stderr that prints copier's no-tags notice once, as ``NO_RELEASE``."""

    def __init__(self, stream):
        self.stream = stream
        self.said = False
        self.drop_newline = False

    def write(self, text: str) -> int:
        if NO_TAGS in text:  # print() writes the message, then "\n" on its own
            self.drop_newline = self.said
            if not self.said:
                self.stream.write(NO_RELEASE)
                self.said = True
            return len(text)
        if self.drop_newline and text == "\n":
            self.drop_newline = False
            return len(text)
        self.drop_newline = False
        return self.stream.write(text)

    def __getattr__(self, name):  # flush, isatty, fileno, encoding, ...
        return getattr(self.stream, name)


def main(argv: list[str] | None = None) -> int:
    import contextlib

    from copier._cli import CopierApp  # what the `copier` command runs

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        with contextlib.redirect_stderr(OnceStderr(sys.stderr)):
            _, code = CopierApp.run(["copier", *args], exit=False)
    except Exception as exc:  # noqa: BLE001 - only refused answers are turned into a line
        line = reason(exc)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        return 1
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
