"""The container layer: generated images built and run in a real engine.

Nothing here plays the platform with host processes: each test generates a
deploy repo with copier, builds its Dockerfile UNMODIFIED against the offline
stand-ins (tests/support/containers.py), and runs it with what the platform's
files declare (command, env, port, volume, memory), parsed by the e2e
harness's launchers (tests/e2e/harness.py). Only the health-check timing is
shortened, with `docker run` flags / a compose override file.

The engine must answer: when it does not, every test here fails with the
reason (scripts/container-engine.sh starts it). Nothing is skipped.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.support import containers as c
from tests.support.platform_env import origin_env

HEALTH_FLAGS = ["--health-interval=2s", "--health-timeout=5s", "--health-retries=3", "--health-start-period=120s"]
HEALTHY_TIMEOUT_S = 180


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.container)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def engine() -> None:
    try:
        c.engine_ready()
    except c.EngineError as err:
        pytest.fail(f"container engine unavailable: {err}", pytrace=False)


@pytest.fixture(scope="session")
def base_image(engine) -> str:
    from tests.conftest import DEFAULT_VERSION

    return c.openclaw_image(DEFAULT_VERSION)


def unique(prefix: str) -> str:
    # OCD_TEST_NAME_PREFIX: engineers sharing one engine tell their containers apart
    return f"{os.environ.get('OCD_TEST_NAME_PREFIX', 'ocd-test')}-{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class Resources:
    """Everything a test created in the engine, removed at teardown."""

    containers: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    projects: list[tuple[Path, str]] = field(default_factory=list)

    def cleanup(self) -> None:
        for project_dir, project in self.projects:
            c.compose(project_dir, project, "down", "-v", "--remove-orphans", "-t", "5", check=False, timeout=120)
        if self.containers:
            c.docker("rm", "-f", "-v", *self.containers, check=False, timeout=120)
        for network in self.networks:
            c.docker("network", "rm", network, check=False)
        if self.volumes:
            c.docker("volume", "rm", "-f", *self.volumes, check=False)
        if self.images:
            c.docker("image", "rm", "-f", *self.images, check=False)


@pytest.fixture
def res(engine):
    r = Resources()
    yield r
    r.cleanup()


def build(repo: Path, res: Resources, *extra: str, check: bool = True) -> tuple[str, Any]:
    """docker build the generated repo as is (stand-ins for every FROM first)."""
    c.images_for(repo)
    tag = unique("img") + ":test"
    started = time.monotonic()
    proc = c.docker("build", "-t", tag, *extra, str(repo), check=False, timeout=900)
    res.images.append(tag)
    if check and proc.returncode:
        raise AssertionError(f"docker build of the generated repo failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    proc.seconds = time.monotonic() - started
    return tag, proc


def shared_image(repo: Path, *extra: str) -> str:
    """The image of the repo's build context, built once per run and shared by every test and
    worker that builds the same context (tests/support/containers.py context_image): for tests
    that run the image as generated. A test that changes the repo first gets its own image; a
    test about the build itself (its output, a failing build, --no-cache) uses build()."""
    return c.context_image(repo, *extra)


def inspect(name: str) -> dict[str, Any]:
    return json.loads(c.docker("inspect", name).stdout)[0]


def health(name: str) -> str:
    state = inspect(name)["State"]
    return (state.get("Health") or {}).get("Status", state["Status"])


def logs(name: str) -> str:
    proc = c.docker("logs", name, check=False)
    return proc.stdout + proc.stderr


def wait_healthy(name: str, timeout: float = HEALTHY_TIMEOUT_S) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        state = inspect(name)["State"]
        status = (state.get("Health") or {}).get("Status")
        if status == "healthy":
            return time.monotonic() - started
        if status == "unhealthy" or (state["Status"] == "exited" and state.get("RestartCount", 0) == 0
                                     and not state.get("Restarting")):
            break
        time.sleep(1)
    raise AssertionError(f"{name} is not healthy after {time.monotonic() - started:.0f}s "
                         f"(state {json.dumps(inspect(name)['State'])[:600]}):\n{logs(name)[-4000:]}")


def host_port(name: str, port: int) -> int:
    out = c.docker("port", name, f"{port}/tcp").stdout.strip().splitlines()
    for line in out:
        if line.startswith("127.0.0.1:"):
            return int(line.rsplit(":", 1)[1])
    raise AssertionError(f"{name}: port {port} is not published on 127.0.0.1 ({out})")


def http_json(url: str, headers: dict[str, str] | None = None, timeout: float = 10) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            status, body = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, body = err.code, err.read()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body[:200]


def token() -> str:
    return secrets.token_hex(24)


@pytest.fixture
def generate(render) -> Callable[..., Path]:
    """generate(platform, privacy, **answers) -> a freshly copied deploy repo."""
    def _generate(platform: str, privacy: str = "private", **answers: Any) -> Path:
        data: dict[str, Any] = {"platform": platform, "privacy": privacy, "app_name": "claw-ct"}
        if platform in ("gcp", "vps", "kubernetes"):
            data.setdefault("domain", "claw.localhost")
        data.update(answers)
        return render(**data)
    return _generate


def k8s_pod_volumes(pod: dict[str, Any], objects: list[dict[str, Any]], res: Resources, image: str,
                    folder: Path) -> dict[str, str]:
    """The sources of a pod's volumes as the kubelet gives them, by volume name: each
    persistentVolumeClaim a new named volume prepared the way the kubelet applies the pod's
    fsGroup (group fsGroup, group-writable, setgid), each configMap its data written into
    ``folder/<volume>`` (one file a key; mounted read-only). emptyDirs need no source."""
    mounts: dict[str, str] = {}
    for vname, source in {v["name"]: v for v in pod.get("volumes") or []}.items():
        if "persistentVolumeClaim" in source:
            mounts[vname] = unique("pvc")
            c.docker("volume", "create", mounts[vname])
            res.volumes.append(mounts[vname])
            gid = pod["securityContext"]["fsGroup"]
            c.docker("run", "--rm", "-u", "0", "-v", f"{mounts[vname]}:/v", "--entrypoint", "sh", image, "-c",
                     f"chgrp {gid} /v && chmod 2775 /v")
        elif "configMap" in source:
            name = source["configMap"]["name"]
            cm = next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == name)
            path = folder / vname
            path.mkdir(parents=True)
            for key, text in cm["data"].items():
                (path / key).write_text(text)
            path.chmod(0o755)
            mounts[vname] = str(path)
    return mounts


def platform_run_args(repo: Path, volume: str) -> tuple[list[str], list[str], dict[str, str], int]:
    """(docker run flags, command, env, port) for a non-Compose platform, from its
    files as the e2e launchers parse them: the declared command (or the image's),
    the platform's env over the image's, the declared volume mount and memory."""
    from tests.e2e.harness import launch_spec

    spec = launch_spec(repo)
    decl = spec.declared
    port = spec.ports[spec.process_port_place]
    flags = ["--memory", f"{spec.memory_mb}m", "-p", f"127.0.0.1::{port}"]
    for mount in spec.mounts:
        flags += ["-v", f"{volume}:{mount}"]
    env = dict(decl.env)
    command = list(decl.command)
    if spec.entrypoint != list(spec.declared.image_entrypoint or spec.entrypoint) or (
            spec.platform == "railway" and spec.entrypoint):
        # Railway's startCommand replaces ENTRYPOINT and CMD: it names the wrappers itself.
        flags += ["--entrypoint", spec.entrypoint[0]]
        command = [*spec.entrypoint[1:], *command]
    return flags, command, env, port


def run_platform(repo: Path, image: str, res: Resources, *, name: str | None = None, volume: str | None = None,
                 extra: list[str] | None = None, env: dict[str, str] | None = None) -> tuple[str, int, str]:
    """docker run the image as the repo's platform declares it; returns (name, port, volume)."""
    name = name or unique("gw")
    if volume is None:
        volume = unique("vol")
        c.docker("volume", "create", volume)
        res.volumes.append(volume)
    flags, command, declared_env, port = platform_run_args(repo, volume)
    # what the platform (or its secrets step) sets in the service, like the token
    values = {**declared_env, "OPENCLAW_GATEWAY_TOKEN": token(), **origin_env(repo), **(env or {})}
    env_flags = [f for key in values for f in ("-e", key)]  # values via the environment, not argv
    res.containers.append(name)
    c.docker("run", "-d", "--name", name, *HEALTH_FLAGS, *flags, *env_flags, *(extra or []), image, *command,
             env={**c.docker_env(), **values})
    return name, port, volume
