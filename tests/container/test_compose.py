"""Docker Compose (gcp/vps): `docker compose up` on the generated files, with
only a test override file (-f) for a unique image tag, a short health-check
interval and loopback-only host ports. The gateway container must turn healthy
with the generated HEALTHCHECK; private answers /startupz on the published
loopback port, public answers through the Caddy stand-in over TLS (Caddy's
internal CA for *.localhost), with Caddy as the trusted proxy."""

from __future__ import annotations

import json
import socket
import ssl
import time
from pathlib import Path

import pytest
import yaml

from ops import model as m
from tests.container.conftest import c, health, http_json, logs, shared_image, token, unique
from tests.container.test_platform_images import COMPILE_CACHE_DEBUG, compile_cache_used
from tests.e2e.harness import free_port

DOMAIN = "claw.localhost"


def compose_up(repo: Path, res, override: dict, build: bool = True, project: str | None = None) -> tuple[str, str]:
    """`compose up` with the override file; build=False when the override names an image built
    already (shared_image: `docker build` of the generated build: section's context, . and
    Dockerfile) instead of `--build` building it again. ``project``: the project's name (default
    a unique one; the app's own name where a test reaches it as the CI jobs do, by the file's `name:`)."""
    project = project or unique("cmp")
    text = yaml.safe_dump(override, sort_keys=False)
    # `ports` lists are merged across files: replace the public 80/443 with loopback ones
    text = text.replace("ports:\n", "ports: !override\n")
    (repo / "compose.test-override.yml").write_text(text)
    res.projects.append((repo, project))
    files = [repo / "docker-compose.yml", repo / "compose.test-override.yml"]
    c.images_for(repo)
    proc = c.compose(repo, project, "up", "-d", *(["--build"] if build else []), "--wait", "--wait-timeout", "240", files=files,
                     check=False, timeout=600)
    gateway = c.compose(repo, project, "ps", "-q", "openclaw-gateway", files=files, check=False).stdout.strip()
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}\n{logs(gateway)[-3000:] if gateway else ''}"
    return project, gateway


def write_env(repo: Path, **values: str) -> None:
    """What scripts/secrets.sh writes: .env, mode 0600."""
    env = repo / ".env"
    env.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    env.chmod(0o600)


@pytest.mark.parametrize("platform", ["gcp"])
def test_compose_private_up_healthy_on_loopback(generate, res, base_image, platform):
    repo = generate(platform, "private")
    port = free_port()
    write_env(repo, OPENCLAW_GATEWAY_TOKEN=token(), OPENCLAW_GATEWAY_PORT=str(port))
    image = shared_image(repo)
    project, gateway = compose_up(repo, res, {"services": {"openclaw-gateway": {
        "image": image, "healthcheck": {"interval": "2s", "start_period": "120s"},
        "environment": COMPILE_CACHE_DEBUG}}}, build=False)
    assert health(gateway) == "healthy"
    for _ in range(60):
        status, body = http_json(f"http://127.0.0.1:{port}/startupz")
        if status == 200:
            break
        time.sleep(1)
    assert status == 200 and body["status"] == "started", (status, body)
    compile_cache_used(logs(gateway))  # `compose up` of a new image starts warm: the cache came with it
    # an operator's `docker compose exec` without -u node leaves root-owned files
    c.docker("exec", "-u", "0", gateway, "sh", "-c",
             "cd /home/node/.openclaw && cp openclaw.json x && mv x openclaw.json && chown 0:0 openclaw.json "
             "&& chmod 600 openclaw.json")
    c.docker("restart", "-t", "30", gateway)
    for _ in range(120):
        if health(gateway) == "healthy":
            break
        time.sleep(1)
    assert health(gateway) == "healthy", logs(gateway)[-3000:]
    assert "keeping the existing config" in logs(gateway)
    # killed without a clean stop (SIGKILL after stop_grace_period, `rm -f`) and replaced by a
    # new container on the same volume: its lease is reclaimed at once because the generated
    # file keeps one hostname (a new random one waited out the 5-minute lease, crash-looping)
    files = [repo / "docker-compose.yml", repo / "compose.test-override.yml"]
    c.docker("rm", "-f", gateway)
    proc = c.compose(repo, project, "up", "-d", "--wait", "--wait-timeout", "120", files=files, check=False, timeout=300)
    replaced = c.compose(repo, project, "ps", "-q", "openclaw-gateway", files=files, check=False).stdout.strip()
    assert replaced and replaced != gateway
    assert proc.returncode == 0 and health(replaced) == "healthy", logs(replaced)[-3000:]
    assert "owner lease is still active" not in logs(replaced)


def _https_get(port: int, path: str, ca: str) -> tuple[int, dict]:
    context = ssl.create_default_context(cadata=ca)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=DOMAIN) as tls:
            tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {DOMAIN}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    if b"transfer-encoding: chunked" in head.lower():
        out, rest = b"", body
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size, 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2:]
        body = out
    return status, json.loads(body)


@pytest.mark.parametrize("platform", ["vps"])
def test_compose_public_through_caddy_tls(generate, res, base_image, platform):
    repo = generate(platform, "public", domain=DOMAIN)
    write_env(repo, OPENCLAW_GATEWAY_TOKEN=token())
    image = unique("img") + ":test"
    res.images.append(image)
    project, gateway = compose_up(repo, res, {"services": {
        "openclaw-gateway": {"image": image, "healthcheck": {"interval": "2s", "start_period": "120s"}},
        "caddy": {"ports": ["127.0.0.1::443"]}}})
    published = c.docker("ps", "--filter", f"label=com.docker.compose.project={project}", "--format", "{{.Ports}}").stdout
    assert "0.0.0.0" not in published and ":::" not in published, published
    files = [repo / "docker-compose.yml", repo / "compose.test-override.yml"]
    caddy = c.compose(repo, project, "ps", "-q", "caddy", files=files).stdout.strip()
    # the engine applies the generated limits: gateway + Caddy + the OS/Docker reserve = the VM
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
    limits = {name: int(c.docker("inspect", "-f", "{{.HostConfig.Memory}}", cid).stdout) // 2 ** 20
              for name, cid in (("gateway", gateway), ("caddy", caddy))}
    reserve = m.platforms()[platform]["host"]["reserve_mb"]
    assert limits == {"gateway": model.container_memory_mb, "caddy": model.proxy_memory_mb}, limits
    assert limits["gateway"] + limits["caddy"] + reserve == model.memory_mb
    port = int(c.docker("port", caddy, "443/tcp").stdout.split(":")[-1])
    ca = ""
    for _ in range(60):
        proc = c.docker("exec", caddy, "cat", "/data/caddy/pki/authorities/local/root.crt", check=False)
        if proc.returncode == 0:
            ca = proc.stdout
            break
        time.sleep(1)
    assert ca, logs(caddy)[-2000:]
    for _ in range(60):
        try:
            status, body = _https_get(port, "/startupz", ca)
            if status == 200:
                break
        except (OSError, ValueError):
            status, body = 0, {}
        time.sleep(1)
    assert status == 200 and body.get("status") == "started", (status, body, logs(caddy)[-2000:])
