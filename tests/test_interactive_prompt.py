"""The real interactive copier form in an 80x24 pseudo-terminal, typed as a
user would: a wrong value then a right one, arrows, space, enter.

`pexpect` runs the copier CLI in a pty; `pyte` (a VT100 emulator) keeps the
screen it draws, so the assertions are about what a person would read.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Callable

import pexpect
import pyte
import pytest
import yaml

from tests.conftest import snapshot_template

pytestmark = pytest.mark.slow

COPIER = [sys.executable, "-m", "copier"]  # the pinned copier of this interpreter
COLS, ROWS = 80, 24
DOWN, ENTER, SPACE, CLEAR = "\x1b[B", "\r", " ", "\x15"  # Ctrl-U clears the input line


class Terminal:
    def __init__(self, argv: list[str], cwd: Path):
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.Stream(self.screen)
        env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1", "NO_COLOR": "1",
               "HOME": str(cwd)}
        self.child = pexpect.spawn(argv[0], argv[1:], cwd=str(cwd), env=env, dimensions=(ROWS, COLS),
                                   encoding="utf-8", codec_errors="replace")
        self.transcript: list[str] = []

    def pump(self, seconds: float = 0.05) -> None:
        try:
            while True:
                data = self.child.read_nonblocking(65536, timeout=seconds)
                self.stream.feed(data)
                self.transcript.append(data)
        except pexpect.TIMEOUT:
            pass
        except pexpect.EOF:
            pass

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def wait(self, ready: Callable[[str], bool] | str, timeout: float = 60) -> str:
        check = (lambda s: ready in s) if isinstance(ready, str) else ready
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump()
            if check(self.text()):
                self.pump(0.2)  # let the frame finish drawing
                return self.text()
            if not self.child.isalive():
                break
        raise AssertionError(f"screen never showed {ready!r}:\n{self.text()}")

    def send(self, *keys: str) -> None:
        for key in keys:
            self.child.send(key)
            time.sleep(0.05)
            self.pump()


def test_gcp_form_in_80_columns(tmp_path):
    template = snapshot_template(tmp_path / "openclaw-deploy")
    dst = tmp_path / "my-claw"
    term = Terminal([*COPIER, "copy", "--trust", "-r", "HEAD", str(template), str(dst)], tmp_path)
    seen: list[str] = []

    # app_name: a wrong value, then a right one
    seen.append(term.wait("App name: a DNS label"))
    term.send(CLEAR, *"My Claw", ENTER)
    error = term.wait("Validation error")
    line = next(row for row in error.splitlines() if "Validation error" in row)
    # the whole reason is on screen, not cut at the 80th column
    assert line.strip() == "Validation error for question 'app_name': must be a DNS label: a-z, 0-9 and '-'"
    term.send(CLEAR, *"my-claw", ENTER)

    # platform: arrow down once (fly -> Google Cloud), enter
    seen.append(term.wait("Where the gateway runs."))
    term.send(DOWN, ENTER)
    # privacy: arrow down to private
    seen.append(term.wait("public: an HTTPS URL"))
    term.send(DOWN, ENTER)
    seen.append(term.wait("Region the machine"))
    assert "us-central1-a - Iowa (US)" in seen[-1]
    term.send(ENTER)
    seen.append(term.wait("OpenClaw release to run"))
    term.send(ENTER)

    # gateway_port: not a number (copier's bare "Invalid input" before: the question was type: int)
    seen.append(term.wait("Port the gateway listens on"))
    term.send(CLEAR, *"abc", ENTER)
    error = term.wait("must be a whole number")
    assert "Validation error for question 'gateway_port': must be a whole number 1024-65535" in error
    assert "Invalid input" not in error
    term.send(CLEAR, *"18790", ENTER)

    # vm_size: the choices show each machine's memory (fixed sizes as one number)
    seen.append(term.wait("Machine size"))
    assert "e2-micro (2 vCPU, 1024 MB)" in seen[-1] and "1024-1024" not in seen[-1]
    term.send(ENTER)
    # e2-small fixes its memory: the next question is the disk, never the memory
    seen.append(term.wait("Persistent volume size in GB"))
    term.send(ENTER)

    # model_providers: arrow down, space selects OpenAI next to the default Anthropic
    seen.append(term.wait("Model providers"))
    term.send(DOWN, SPACE, ENTER)
    # two chosen: the primary is asked, with only those two to choose from
    seen.append(term.wait("Which provider's model is the default?"))
    assert "OpenAI (openai/gpt-5.4)" in seen[-1] and "Anthropic" in seen[-1]
    assert "Google" not in seen[-1] and "OpenRouter" not in seen[-1]
    term.send(DOWN, ENTER)
    seen.append(term.wait("Chat channels"))
    term.send(ENTER)
    seen.append(term.wait("CLIs baked into the image"))
    term.send(ENTER)
    seen.append(term.wait("Tunnel agent baked into the image"))
    term.send(ENTER)
    seen.append(term.wait("Minutes between two uptime checks"))
    term.send(ENTER)

    term.child.expect(pexpect.EOF, timeout=120)
    term.child.close()
    assert term.child.exitstatus == 0, "".join(term.transcript)[-3000:]

    transcript = "".join(term.transcript)
    assert "Memory in MB" not in transcript  # never asked on a machine type that fixes it
    answers = yaml.safe_load((dst / ".copier-answers.yml").read_text())
    assert {k: answers[k] for k in ("app_name", "platform", "privacy", "gateway_port", "model_providers",
                                    "primary_model_provider")} == {
        "app_name": "my-claw", "platform": "gcp", "privacy": "private", "gateway_port": "18790",
        "model_providers": ["anthropic", "openai"], "primary_model_provider": "openai"}
    config = __import__("json").loads((dst / "config/openclaw.json").read_text())
    assert config["agents"]["defaults"]["model"]["primary"] == "openai/gpt-5.4"
    # every help line was readable whole: none reached the last column
    for screen in seen:
        assert all(len(row) < COLS for row in screen.splitlines()), screen
