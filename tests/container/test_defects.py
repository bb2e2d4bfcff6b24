"""Defects only a real engine shows, each proven by breaking a generated file on
purpose: the fixed file works, the broken one fails the way users saw it."""

from __future__ import annotations

import re
import subprocess
import time

import pytest

from tests.container.conftest import HEALTH_FLAGS, build, c, inspect, logs, platform_run_args, token, unique

PLATFORMS = ["fly", "gcp", "vps", "railway", "northflank", "render"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_dockerfile_forces_no_frontend_pull(generate, platform):
    """A `# syntax=` directive makes BuildKit pull a Dockerfile frontend image from
    a registry: the generated Dockerfile must build with the built-in frontend."""
    text = (generate(platform, "public", binaries=["gog"], tunnel="ngrok") / "Dockerfile").read_text()
    directives = re.findall(r"^#\s*(syntax|escape|check)\s*=.*$", text.split("\nFROM", 1)[0], re.M | re.I)
    assert "syntax" not in [d.lower() for d in directives], text[:300]


def test_syntax_line_breaks_the_offline_build(generate, res, base_image):
    """Broken on purpose: the old first line back -> the build needs a registry."""
    repo = generate("fly", "private")
    build(repo, res)  # as generated: builds
    dockerfile = repo / "Dockerfile"
    dockerfile.write_text("# syntax=docker/dockerfile:1\n" + dockerfile.read_text())
    _, proc = build(repo, res, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "docker/dockerfile" in out, out[-2000:]


def test_without_the_home_fix_the_gateway_exits_78(generate, res, base_image):
    """Broken on purpose: the entrypoint without its HOME/USER lines -> setpriv
    keeps HOME=/root and the gateway refuses to start (exit 78, EACCES under /root)."""
    repo = generate("fly", "private")
    entrypoint = repo / "docker" / "entrypoint.sh"
    text = entrypoint.read_text()
    broken = re.sub(r"^\s*(HOME=|USER=|export HOME\b).*$", "", text, flags=re.M)
    assert broken != text
    entrypoint.write_text(broken)
    image, _ = build(repo, res)
    volume = unique("vol")
    c.docker("volume", "create", volume)
    res.volumes.append(volume)
    flags, command, env, _ = platform_run_args(repo, volume)
    name = unique("gw")
    res.containers.append(name)
    values = {**env, "OPENCLAW_GATEWAY_TOKEN": token()}
    c.docker("run", "-d", "--name", name, *HEALTH_FLAGS, *flags, *[f for k in values for f in ("-e", k)],
             image, *command, env={**c.docker_env(), **values})
    deadline = time.monotonic() + 120
    while inspect(name)["State"]["Running"] and time.monotonic() < deadline:
        time.sleep(1)
    state = inspect(name)["State"]
    assert not state["Running"] and state["ExitCode"] == 78, (state, logs(name)[-2000:])
    assert "/root/" in logs(name) and "EACCES" in logs(name), logs(name)[-2000:]
