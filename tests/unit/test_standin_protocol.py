"""The stand-ins' one protocol (tests/standins/protocol.py): the log they all write, the
answers they give, and the one parser of the exec and copy verbs, checked against the
argvs the platform data (platforms.yml `exec`, `transfer`) really produces."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from ops import model as m
from tests.standins import protocol

STANDINS = Path(protocol.__file__).resolve().parent
APP, REGION, CMD = "claw", "iad", "openclaw --version"


def fill(words: list[str], **values: str) -> list[str]:
    return [w.format(app=APP, region=REGION, service_id="srv-1", **values) for w in words]


TRANSFERS = {name: facts["transfer"] for name, facts in m.platforms().items() if facts.get("transfer")}


@pytest.mark.parametrize("platform", sorted(TRANSFERS))
def test_the_parser_reads_every_transfer_run_in_the_data(platform):
    argv = fill(TRANSFERS[platform]["run"], cmd=shlex.quote(CMD))
    r = protocol.remote(argv[0], argv[1:])
    assert r is not None and r.kind == "run", argv
    words = shlex.split(r.shell_line) if r.shell else r.argv
    assert words[-3:] == ["sh", "-c", shlex.quote(CMD)] or CMD in " ".join(words), words


@pytest.mark.parametrize("platform", sorted(p for p, f in TRANSFERS.items() if "copy_out" in f))
def test_the_parser_reads_every_copy_in_the_data(platform):
    out = fill(TRANSFERS[platform]["copy_out"], remote="/data/x.tgz", local="backups/x.tgz")
    r = protocol.remote(out[0], out[1:])
    if r is None:  # a copy no stand-in drives (docker compose cp: the container tests use the engine itself)
        pytest.skip(f"{out[:3]} is not driven by a stand-in")
    assert (r.kind, r.remote, r.local) == ("get", "/data/x.tgz", "backups/x.tgz")
    if "copy_in" in TRANSFERS[platform]:
        into = fill(TRANSFERS[platform]["copy_in"], remote="/data/x.tgz", local="backups/x.tgz")
        r = protocol.remote(into[0], into[1:])
        assert (r.kind, r.local, r.remote, r.user, r.mode) == ("put", "backups/x.tgz", "/data/x.tgz", "node", "0600")


@pytest.mark.parametrize("platform", sorted(p for p, f in m.platforms().items() if f["exec"]["command"].split()[0] != "setpriv"))
def test_the_parser_reads_every_exec_command_in_the_data(platform):
    argv = shlex.split(m.platforms()[platform]["exec"]["command"].format(app=APP, region=REGION, cmd=CMD))
    r = protocol.remote(argv[0], argv[1:])
    assert r is not None and r.kind == "run"
    assert protocol.command_words(r)[-2:] == ["openclaw", "--version"]


def test_unknown_verbs_are_not_remote():
    assert protocol.remote("fly", ["deploy"]) is None
    assert protocol.remote("kubectl", ["get", "pods"]) is None


def run_standin(script: str, program: str, args: list[str], env: dict[str, str], stdin: str | None = None):
    feed = {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
    return subprocess.run([sys.executable, str(STANDINS / script), program, *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=30, **feed)


def test_every_stand_in_writes_the_same_record(tmp_path):
    log = tmp_path / "calls.jsonl"
    canned = tmp_path / "canned"
    canned.mkdir()
    (canned / "fly-status.txt").write_text("ok\n")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps([{"prog": "flyctl", "has": ["deploy"], "stdout": "deployed\n", "times": 1}]))
    env = {"STANDIN_LOG": str(log), "STANDIN_DIR": str(canned), "STANDIN_PLAN": str(plan)}
    assert run_standin("standin.py", "fly", ["status", "-a", APP], env).stdout == "ok\n"
    missing = run_standin("standin.py", "fly", ["machine", "list", "--json"], env)
    assert missing.returncode == 1 and "fly machine list: no canned output" in missing.stderr
    assert run_standin("ci/recorder.py", "flyctl", ["deploy"], env, stdin="piped").stdout == "deployed\n"
    assert run_standin("ci/recorder.py", "flyctl", ["deploy"], env).stdout == ""  # the rule's one use is spent
    assert run_standin("secrets/recorder.py", "fly", ["secrets", "import", "-a", APP], env, stdin="A=1\n").returncode == 0
    calls = protocol.records(log)
    assert [sorted(c) for c in calls] == [["argv", "files", "stdin"]] * 5
    assert protocol.argvs(log)[0] == ["fly", "status", "-a", APP]
    assert [c["stdin"] for c in calls][2:] == ["piped", "", "A=1\n"]
