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
    assert "lowercase letters, digits and '-'" not in error  # the allowed characters, said once
    term.send(CLEAR, *"my-claw", ENTER)

    # platform: arrow down once (fly -> Google Cloud), enter
    seen.append(term.wait("Where the gateway runs."))
    term.send(DOWN, ENTER)
    # privacy: arrow down to private; the question says what it asks
    seen.append(term.wait("public: an HTTPS URL"))
    assert "Privacy: who can reach the gateway." in seen[-1]
    term.send(DOWN, ENTER)
    seen.append(term.wait("Region the machine"))
    assert "us-central1-a - Iowa (US)" in seen[-1]
    term.send(ENTER)
    seen.append(term.wait("OpenClaw release to run"))
    term.send(ENTER)

    # gateway_port: not a number (copier's bare "Invalid input" before: the question was type: int)
    seen.append(term.wait("Port the gateway listens on"))
    term.send(CLEAR, *"abc", ENTER)
    # private: no platform proxy forwards to the port, and the help does not say one does
    assert "only the private network, a tunnel or SSH reach it." in seen[-1]
    assert "proxy" not in seen[-1]
    error = term.wait("must be a whole number")
    assert "Validation error for question 'gateway_port': must be a whole number 1024-65535" in error
    assert "Invalid input" not in error
    assert "a port from" not in error  # the range, said once
    term.send(CLEAR, *"18790", ENTER)

    # vm_size: the choices show each machine's memory (fixed sizes as one number)
    seen.append(term.wait("Machine size"))
    assert "e2-micro (2 vCPU, 1024 MB)" in seen[-1] and "1024-1024" not in seen[-1]
    term.send(ENTER)
    # e2-small fixes its memory: the next question is the disk, never the memory; on a
    # Compose VM that is the boot disk
    seen.append(term.wait("Persistent disk in GB: the VM's boot disk"))
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
    seen.append(term.wait("When a scheduled GitHub workflow backs"))
    assert "17 3 * * *" in seen[-1]  # the daily default is shown
    term.send(ENTER)
    seen.append(term.wait("age public key (age1...)"))
    term.send(ENTER)  # empty: no scheduled backups (said in the RUNBOOK), nothing secret asked

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


def walk_to(term: Terminal, prompt: str, *answers: tuple[str, tuple[str, ...]]) -> None:
    for wait_for, keys in answers:
        term.wait(wait_for)
        term.send(*keys)
    term.wait(prompt)


def test_fly_form_hints_agree_with_the_checks(tmp_path):
    """The size list, the memory help and the memory check tell one story (issue 19, 10 and 13)."""
    template = snapshot_template(tmp_path / "openclaw-deploy")
    dst = tmp_path / "my-claw"
    term = Terminal([*COPIER, "copy", "--trust", "-r", "HEAD", str(template), str(dst)], tmp_path)
    walk_to(term, "Port the gateway listens on",
            ("App name: a DNS label", (CLEAR, *"my-claw", ENTER)), ("Where the gateway runs.", (ENTER,)),
            ("public: an HTTPS URL", (ENTER,)), ("Region the machine", (ENTER,)), ("OpenClaw release to run", (ENTER,)))
    assert "the platform's proxy forwards to it." in term.text()  # public: it does
    term.send(ENTER)
    sizes = term.wait("Machine size")
    # the size's own range starts at 512; the floor is what the form offers
    assert "shared-cpu-2x (2 vCPU, 1024-4096 MB)" in sizes and "512-4096" not in sizes
    term.send(ENTER)
    memory = term.wait("Memory in MB")
    assert "Memory in MB for shared-cpu-2x: 1024-4096, in steps of 256." in memory
    assert "2048 recommended; 1024-1792 accepted with a warning." in memory
    term.send(CLEAR, *"512", ENTER)
    error = term.wait("Validation error")
    assert "Validation error for question 'vm_memory_mb': refused: the floor is 1024 MB" in error
    term.send(CLEAR, *"1024", ENTER)  # what the help says is accepted (with a warning) is accepted
    volume = term.wait("Persistent volume size in GB")
    assert "Compose" not in volume and "boot disk" not in volume  # a Fly volume, not a VM's disk
    term.send(ENTER)
    for prompt in ("Model providers", "Chat channels", "CLIs baked into the image",
                   "Minutes between two uptime checks", "When a scheduled GitHub workflow backs",
                   "age public key (age1...)"):
        term.wait(prompt)
        term.send(ENTER)
    term.child.expect(pexpect.EOF, timeout=120)
    term.child.close()
    transcript = "".join(term.transcript)
    assert term.child.exitstatus == 0, transcript[-3000:]
    assert yaml.safe_load((dst / ".copier-answers.yml").read_text())["vm_memory_mb"] == "1024"


def test_gcp_public_form_offers_no_placeholder_domain(tmp_path):
    """<app>.example.com can never get a certificate: asked, the domain has no default (issue 19, 7)."""
    template = snapshot_template(tmp_path / "openclaw-deploy")
    term = Terminal([*COPIER, "copy", "--trust", "-r", "HEAD", str(template), str(tmp_path / "my-claw")], tmp_path)
    walk_to(term, "DNS name the HTTPS certificate is issued for",
            ("App name: a DNS label", (CLEAR, *"my-claw", ENTER)), ("Where the gateway runs.", (DOWN, ENTER)),
            ("public: an HTTPS URL", (ENTER,)))
    assert "example.com" not in term.text()
    term.send(ENTER)
    error = term.wait("Validation error")
    assert "Validation error for question 'domain': needs a hostname like claw.example.org" in error
    term.send(CLEAR, *"claw.mine.dev", ENTER)
    term.wait("Region the machine")
    term.child.terminate(force=True)
