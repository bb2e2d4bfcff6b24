"""Baked CLIs and tunnel agents: the generated Dockerfile builds unmodified
against a loopback release server (the product's RELEASES_URL build argument;
its default stays the real release host), checksums are enforced naming the
asset, the CLIs are executable by uid 1000, and the tunnel agent starts when
its secret is set and is restarted when it dies (entrypoint supervisor)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import json
import socketserver
import tarfile
import threading
import time
from pathlib import Path

import pytest

from ops import model as m
from tests.container.conftest import build, c, logs, run_platform

CLI = "#!/bin/sh\necho \"{name} stand-in release asset $*\"\n"


def _tarball(binary: str) -> bytes:
    buf = io.BytesIO()
    data = CLI.format(name=binary).encode()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo(binary)
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def release_server(tmp_path):
    """A loopback HTTP server laid out like the release host: every pinned CLI's
    asset for amd64 and its checksums file. Yields (base URL, root dir)."""
    root = tmp_path / "releases"
    for name, b in m.binaries_catalog().items():
        version = str(b["version"])
        asset = str(b["asset"]).replace("{version}", version).replace("{arch}", "amd64")
        folder = root / b["repo"] / "releases" / "download" / f"v{version}"
        folder.mkdir(parents=True)
        blob = _tarball(b["binary"])
        (folder / asset).write_bytes(blob)
        (folder / b["checksums"]).write_text(f"{hashlib.sha256(blob).hexdigest()}  {asset}\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()


def test_every_cli_builds_from_the_release_server_and_runs_as_uid_1000(generate, res, base_image, release_server):
    url, _ = release_server
    repo = generate("fly", "private", binaries=list(m.binaries_catalog()), tunnel="ngrok")
    assert "ARG RELEASES_URL=https://github.com" in (repo / "Dockerfile").read_text()  # the default stays real
    image, proc = build(repo, res, "--network", "host", "--build-arg", f"RELEASES_URL={url}")
    for b in m.binaries_catalog().values():
        out = c.docker("run", "--rm", "-u", "1000:1000", "--entrypoint", b["binary"], image, "--version").stdout
        assert f"{b['binary']} stand-in release asset --version" in out
        stat = c.docker("run", "--rm", "--entrypoint", "stat", image, "-c", "%u:%g %a",
                        f"/usr/local/bin/{b['binary']}").stdout.split()
        assert stat == ["0:0", "755"], (b["binary"], stat)  # not uid 100 from the curl stage


def test_a_wrong_checksum_fails_the_build_naming_the_asset(generate, res, base_image, release_server):
    url, root = release_server
    repo = generate("fly", "private", binaries=["goplaces"])
    b = m.binaries_catalog()["goplaces"]
    asset = str(b["asset"]).replace("{version}", str(b["version"])).replace("{arch}", "amd64")
    sums = root / b["repo"] / "releases" / "download" / f"v{b['version']}" / b["checksums"]
    sums.write_text(f"{'0' * 64}  {asset}\n")
    _, proc = build(repo, res, "--network", "host", "--build-arg", f"RELEASES_URL={url}", "--no-cache", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-2000:]
    assert f"{asset} does not match its sha256" in out, out[-3000:]


@pytest.mark.parametrize("tunnel", ["ngrok", "tailscale"])
def test_tunnel_agent_starts_with_its_secret_and_is_restarted(generate, res, base_image, tunnel):
    repo = generate("fly", "private", tunnel=tunnel)
    image, _ = build(repo, res)
    secret = {"ngrok": "NGROK_AUTHTOKEN", "tailscale": "TS_AUTHKEY"}[tunnel]
    agent = {"ngrok": "/usr/local/bin/ngrok", "tailscale": "/usr/local/bin/tailscaled"}[tunnel]
    name, _, _ = run_platform(repo, image, res, env={secret: "test-not-a-real-secret"})
    deadline = time.monotonic() + 60
    while "openclaw-deploy: " + ("starting ngrok" if tunnel == "ngrok" else "tailnet:") not in logs(name):
        assert time.monotonic() < deadline, logs(name)[-2000:]
        time.sleep(1)

    def agent_pids() -> list[str]:
        return c.docker("exec", name, "pgrep", "-f", f"^/bin/sh {agent}", check=False).stdout.split()

    first = agent_pids()
    assert len(first) == 1, (first, logs(name)[-2000:])
    assert "test-not-a-real-secret" not in logs(name)
    c.docker("exec", "-u", "0", name, "kill", first[0])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (agent_pids() in ([], first)):
        time.sleep(1)
    again = agent_pids()
    assert len(again) == 1 and again != first, (again, logs(name)[-2000:])
    assert f"{Path(agent).name} exited" in logs(name)
    # the gateway (process title "openclaw-gateway") was not taken down with the agent
    deadline = time.monotonic() + 30
    while c.docker("exec", name, "pgrep", "-f", "^(openclaw-gateway|node openclaw.mjs gateway)",
                   check=False).returncode != 0:
        assert time.monotonic() < deadline, logs(name)[-2000:]
        time.sleep(1)
    state = json.loads(c.docker("inspect", name).stdout)[0]
    assert state["State"]["Running"] and state["RestartCount"] == 0, state["State"]
