"""Baked CLIs and tunnel agents: the generated Dockerfile builds unmodified
against a loopback release server (the product's BINARIES_BASE_URL build argument;
its default stays the real release host; binaries.lock pinned by the product's
scripts/pin-binaries.sh), checksums are enforced naming the
asset, the CLIs are executable by uid 1000, and the tunnel agent starts when
its secret is set and is restarted when it dies (entrypoint supervisor)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import json
import os
import socketserver
import subprocess
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
    """A loopback HTTP server playing the release host. ``publish(repo)`` lays out
    every asset the repo's docker/binaries.tsv names (amd64) and its checksums
    file, as stand-in CLIs. Yields (base URL, publish)."""
    root = tmp_path / "releases"

    def publish(repo: Path) -> None:
        for line in (repo / "docker" / "binaries.tsv").read_text().splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            _name, _version, path, sums, binary = line.split("\t")
            asset = root / path.replace("{arch}", "amd64")
            asset.parent.mkdir(parents=True, exist_ok=True)
            blob = _tarball(binary)
            asset.write_bytes(blob)
            (root / sums).parent.mkdir(parents=True, exist_ok=True)
            with open(root / sums, "a") as fh:
                fh.write(f"{hashlib.sha256(blob).hexdigest()}  {asset.name}\n")

    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", publish
    server.shutdown()


def pin(repo: Path, url: str) -> str:
    """The product's own pinning step (scripts/pin-binaries.sh) against the server."""
    proc = subprocess.run(["bash", "scripts/pin-binaries.sh", "amd64"], cwd=repo, capture_output=True, text=True,
                          env={**os.environ, "BINARIES_BASE_URL": url}, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return (repo / "binaries.lock").read_text()


def test_every_cli_builds_from_the_release_server_and_runs_as_uid_1000(generate, res, base_image, release_server):
    url, publish = release_server
    repo = generate("fly", "private", binaries=list(m.binaries_catalog()), tunnel="ngrok")
    assert f"ARG BINARIES_BASE_URL={m.binaries_meta()['release_base_url']}" in (repo / "Dockerfile").read_text()
    publish(repo)
    pin(repo, url)
    image, proc = build(repo, res, "--network", "host", "--build-arg", f"BINARIES_BASE_URL={url}")
    for b in m.binaries_catalog().values():
        out = c.docker("run", "--rm", "-u", "1000:1000", "--entrypoint", b["binary"], image, "--version").stdout
        assert f"{b['binary']} stand-in release asset --version" in out
        stat = c.docker("run", "--rm", "--entrypoint", "stat", image, "-c", "%u:%g %a",
                        f"/usr/local/bin/{b['binary']}").stdout.split()
        assert stat == ["0:0", "755"], (b["binary"], stat)  # not uid 100 from the curl stage


def test_an_asset_that_differs_from_binaries_lock_fails_the_build_naming_it(generate, res, base_image,
                                                                             release_server):
    """The shipped lock holds the real release's sums: a replaced asset (here the
    stand-in, with a matching checksums file beside it) is refused, by name."""
    url, publish = release_server
    repo = generate("fly", "private", binaries=["goplaces"])
    publish(repo)
    asset = next(line.split("\t")[2] for line in (repo / "docker/binaries.tsv").read_text().splitlines()
                 if line.startswith("goplaces")).replace("{arch}", "amd64").rsplit("/", 1)[-1]
    _, proc = build(repo, res, "--network", "host", "--build-arg", f"BINARIES_BASE_URL={url}", "--no-cache",
                    check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-2000:]
    assert f"REFUSED {asset}: sha256" in out and "binaries.lock" in out, out[-3000:]


@pytest.mark.parametrize("tunnel", ["ngrok", "tailscale"])
def test_tunnel_agent_starts_with_its_secret_and_is_restarted(generate, res, base_image, tunnel):
    repo = generate("fly", "private", tunnel=tunnel)
    image, _ = build(repo, res)
    secret = {"ngrok": "NGROK_AUTHTOKEN", "tailscale": "TS_AUTHKEY"}[tunnel]
    agent = {"ngrok": "/usr/local/bin/ngrok", "tailscale": "/usr/local/bin/tailscaled"}[tunnel]
    value = "2testNotARealSecret_0123456789abcdefghij"
    name, _, _ = run_platform(repo, image, res, env={secret: value})
    deadline = time.monotonic() + 60
    while "openclaw-deploy: " + ("starting ngrok" if tunnel == "ngrok" else "tailnet:") not in logs(name):
        assert time.monotonic() < deadline, logs(name)[-2000:]
        time.sleep(1)

    def agent_pids() -> list[str]:
        return c.docker("exec", name, "pgrep", "-f", f"^/bin/sh {agent}", check=False).stdout.split()

    first = agent_pids()
    assert len(first) == 1, (first, logs(name)[-2000:])
    assert value not in logs(name)
    if tunnel == "ngrok":  # the agent authenticated from the entrypoint's 0600 config file
        assert "ngrok-standin: authenticated from " in logs(name) and "(mode 600)" in logs(name), logs(name)[-2000:]
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
