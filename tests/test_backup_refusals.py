"""make backup / make restore refusals, through the generated Makefile, before
any platform is asked: a missing, truncated, altered or other app's archive, no
manifest, no terminal without --yes, and a stopped deploy. The platform CLI on
PATH is the RECORDING stand-in (tests/standins): it contacts nothing, and with
no canned output it fails like a CLI that cannot reach a running machine.
Also: each platform's argv as ops/remote.py builds it from platforms.yml."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.standins import protocol

STANDINS = Path(__file__).resolve().parent / "standins"


@pytest.fixture(scope="module")
def fly_repo(template_repo, tmp_path_factory) -> Path:
    from tests.conftest import copy_template

    return copy_template(template_repo, tmp_path_factory.mktemp("bk") / "deploy",
                         {"platform": "fly", "app_name": "claw-bk", "privacy": "private"})


def run(repo: Path, tmp: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "STANDIN_LOG": str(tmp / "calls.log"), "STANDIN_DIR": str(tmp / "canned"),
           "PATH": os.pathsep.join([str(STANDINS), os.environ["PATH"]])}
    return subprocess.run(["make", "-s", "-o", "venv", f"PY={sys.executable}", *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=120, input=stdin)


def calls(tmp: Path) -> list[list[str]]:
    return protocol.argvs(tmp / "calls.log")


def archive(repo: Path, name: str = "claw-bk-20261202T060000Z.tar.gz", app: str = "claw-bk",
            data: bytes = b"\x1f\x8b archive bytes " * 64) -> Path:
    path = repo / "backups" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    meta = {"app": app, "platform": "fly", "created": "20261202T060000Z", "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}
    Path(f"{path}.json").write_text(json.dumps(meta))
    return path


def refused(proc: subprocess.CompletedProcess, *words: str) -> None:
    assert proc.returncode != 0, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("make:"), proc.stderr  # ours, then make's own
    assert all(w in lines[0] for w in words), lines[0]


def tree(repo: Path) -> dict[str, bytes]:
    return {str(p.relative_to(repo)): p.read_bytes() for p in sorted((repo / "backups").rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", ["missing", "no-manifest", "truncated", "tampered", "wrong-app", "no-terminal"])
def test_restore_refuses_bad_archives_before_anything(fly_repo, tmp_path, case):
    good = archive(fly_repo)
    target = good
    if case == "missing":
        target = fly_repo / "backups" / "nope.tar.gz"
    elif case == "no-manifest":
        target = archive(fly_repo, "claw-bk-x.tar.gz")
        Path(f"{target}.json").unlink()
    elif case == "truncated":
        target = archive(fly_repo, "claw-bk-t.tar.gz")
        target.write_bytes(target.read_bytes()[:100])
    elif case == "tampered":
        target = archive(fly_repo, "claw-bk-s.tar.gz")
        data = bytearray(target.read_bytes())
        data[50] ^= 0xFF
        target.write_bytes(bytes(data))
    elif case == "wrong-app":
        target = archive(fly_repo, "other-app.tar.gz", app="other-app")
    before = tree(fly_repo)
    args = ["restore", f"ARCHIVE={target.relative_to(fly_repo)}"] + ([] if case == "no-terminal" else ["ARGS=--yes"])
    proc = run(fly_repo, tmp_path, *args)
    words = {"missing": ["no such file"], "no-manifest": ["no manifest", ".json"],
             "truncated": ["bytes", "truncated"], "tampered": ["sha256", "altered"],
             "wrong-app": ["'other-app'", "'claw-bk'", "--from-app"],
             "no-terminal": ["not on a terminal", "ARGS=--yes"]}[case]
    refused(proc, "restore:", *words)
    assert calls(tmp_path) == []  # the platform was never asked
    assert tree(fly_repo) == before


def test_restore_needs_an_archive(fly_repo, tmp_path):
    refused(run(fly_repo, tmp_path, "restore"), "ARCHIVE", "required")
    assert calls(tmp_path) == []


def test_wrong_app_accepted_on_purpose_reaches_the_platform(fly_repo, tmp_path):
    """--from-app passes the local checks; the (stopped) platform then refuses."""
    target = archive(fly_repo, "moved.tar.gz", app="old-claw")
    proc = run(fly_repo, tmp_path, "restore", f"ARCHIVE={target.relative_to(fly_repo)}",
               "ARGS=--yes --from-app old-claw")
    refused(proc, "restore: cannot reach the gateway")
    assert calls(tmp_path) and calls(tmp_path)[0][:3] == ["fly", "ssh", "console"]


def test_backup_of_a_stopped_deploy_says_so(fly_repo, tmp_path):
    before = tree(fly_repo)
    proc = run(fly_repo, tmp_path, "backup")
    refused(proc, "backup:", "stopped")
    assert tree(fly_repo) == before
    assert [c[:3] for c in calls(tmp_path)] == [["fly", "ssh", "console"]]


def test_backup_of_a_gateway_in_maintenance_says_so(fly_repo, tmp_path):
    """The CLI reaches the machine, the gateway is not live: the state is named."""
    canned = tmp_path / "canned"
    canned.mkdir()
    (canned / "fly-ssh-console.txt").write_text("maintenance\n")
    refused(run(fly_repo, tmp_path, "backup"), "backup:", "not running (maintenance)")
    (canned / "fly-ssh-console.txt").write_text("down\n")
    refused(run(fly_repo, tmp_path, "backup"), "backup:", "not running (down)")


def test_restore_on_kubernetes_with_the_official_image_stops_when_the_deployment_is_unreadable(render, tmp_path):
    """The official image restores through a restore pod (ops/platforms/_kubernetes_restore.py); when the
    Deployment's image cannot be read, one line and nothing scaled or started."""
    repo = render(platform="kubernetes", app_name="claw-bk", domain="claw.localhost")
    target = archive(repo)
    refused(run(repo, tmp_path, "restore", f"ARCHIVE={target.relative_to(repo)}", "ARGS=--yes"),
            "restore:", "deployment/claw-bk's image (nothing changed)")
    assert [call[:3] for call in calls(tmp_path)] == [["kubectl", "get", "deployment"]]


@pytest.mark.parametrize("platform, expect", [
    ("fly", ["fly", "ssh", "console", "-a", "claw-bk", "-u", "node", "-C", "sh -c 'echo a b'"]),
    ("gcp", ["docker", "compose", "exec", "-T", "-u", "node", "openclaw-gateway", "sh", "-c", "echo a b"]),
    ("railway", ["railway", "ssh", "--",
                 "setpriv --reuid=1000 --regid=1000 --clear-groups sh -c 'echo a b'"]),
    ("northflank", ["northflank", "exec", "service", "--projectId", "claw-bk", "--serviceId", "claw-bk",
                    "--user", "node", "--cmd", "sh -c 'echo a b'"]),
    ("render", ["ssh", "srv-abc@ssh.oregon.render.com",
                "setpriv --reuid=1000 --regid=1000 --clear-groups sh -c 'echo a b'"]),
    ("kubernetes", ["kubectl", "exec", "-i", "-n", "claw-bk", "deploy/claw-bk", "-c", "gateway", "--",
                    "sh", "-c", "echo a b"]),
])
def test_remote_argv_per_platform(monkeypatch, platform, expect):
    from ops import model as m
    from ops import remote

    facts = m.platform_facts(platform)
    answers = {"platform": platform, "app_name": "claw-bk", "privacy": "private", "region": facts["default_region"],
               "openclaw_version": "2026.9.6", "gateway_port": str(facts["default_port"]),
               "vm_size": facts["default_size"], "vm_memory_mb": "2048", "volume_size_gb": "10"}
    if platform in ("gcp", "vps", "kubernetes"):
        answers["domain"] = "claw.localhost"
    model = m.build(m.complete(answers))
    monkeypatch.delenv("RENDER_SERVICE_ID", raising=False)
    if platform == "render":
        with pytest.raises(remote.RemoteError, match="RENDER_SERVICE_ID"):
            remote.connect(model)
        monkeypatch.setenv("RENDER_SERVICE_ID", "srv-abc")
    argv = remote.connect(model).argv("echo a b")
    assert argv == expect
    # the quoted command survives the remote shell unchanged
    if "sh -c" in argv[-1] and argv[-2] != "-c":
        assert shlex.split(argv[-1])[-1] == "echo a b"


def fake_openclaw(bin_dir: Path, script: str) -> dict[str, str]:
    bin_dir.mkdir(parents=True, exist_ok=True)
    (bin_dir / "openclaw").write_text("#!/bin/sh\n" + script)
    (bin_dir / "openclaw").chmod(0o755)
    return {**os.environ, "PATH": os.pathsep.join([str(bin_dir), os.environ["PATH"]])}


def test_a_failed_backup_create_ends_with_openclaws_error_not_its_help_hint(fly_repo, tmp_path):
    """The line `make backup` runs on the gateway, run here by sh with a stand-in `openclaw` that
    fails the way the CLI does (its error, then a `Help:` hint): the one line a BackupError keeps
    (ops.remote's last stderr line) is the error."""
    from ops import model as m
    from ops.backup import create_command
    from ops.remote import _last_line

    model = m.build(m.answers_from_file(fly_repo / ".copier-answers.yml"))
    env = fake_openclaw(tmp_path / "bin", "echo '[openclaw] Error: SQLITE_ERROR: no such column: x' >&2\n"
                                          "echo '[openclaw] Help: openclaw --help' >&2\nexit 1\n")
    folder = tmp_path / "out"
    proc = subprocess.run(["sh", "-c", create_command(model, str(folder), "a.tar.gz")], env=env,
                          capture_output=True, timeout=60)
    assert proc.returncode == 1
    assert _last_line(proc.stderr) == "[openclaw] Error: SQLITE_ERROR: no such column: x"
    assert list(folder.iterdir()) == []  # nothing half-made is left

    env = fake_openclaw(tmp_path / "bin", 'out=""; while [ $# -gt 0 ]; do [ "$1" = --output ] && out="$2"; shift; done\n'
                                          'printf archive > "$out"; echo \'{"ok": true}\'\n')
    proc = subprocess.run(["sh", "-c", create_command(model, str(folder), "a.tar.gz")], env=env,
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["a.tar.gz", "a.tar.gz.json"]
