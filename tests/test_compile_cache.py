"""Node's compile cache per platform: where the volume is the state dir (Fly, Compose, Kubernetes)
the generated Dockerfile fills it at build time into the image; where the volume holds the state
dir below its mount (Railway, Render, Northflank) the deploy sets it on the volume and the image
has no build step. Never in the state dir, which every backup archives. The container tier
(tests/container/test_platform_images.py, test_compose.py) proves a start reads it."""

from __future__ import annotations

import re
import shlex

import pytest

from ops import model as m

PLATFORMS = ["fly", "gcp", "vps", "kubernetes", "railway", "render", "northflank"]


def instructions(dockerfile: str) -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in dockerfile.splitlines() if not line.startswith("#")))
    return [line.strip() for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_compile_cache_is_baked_where_the_volume_is_the_state_dir(render, platform):
    data = {"platform": platform, "privacy": "private", "app_name": "claw-cc"}
    if platform in ("gcp", "vps", "kubernetes"):
        data["domain"] = "claw.example.org"
    repo = render(**data)
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
    oc = m.openclaw()
    baked = oc["compile_cache_image_dir"]
    steps = instructions((repo / "Dockerfile").read_text())
    env_steps = [s for s in steps if s.startswith("ENV NODE_COMPILE_CACHE=")]
    runs = [shlex.split(s[4:]) for s in steps if s.startswith("RUN ") and "warm-compile-cache.sh" in s]
    on_volume = "NODE_COMPILE_CACHE" in model.env
    assert on_volume == (platform in ("railway", "render", "northflank"))
    if on_volume:
        assert not env_steps and not runs, steps
        return
    assert env_steps == [f"ENV NODE_COMPILE_CACHE={baked}"]
    mount = model.volume_mount.rstrip("/")
    assert not baked.startswith(mount + "/") and not baked.startswith(model.state_dir.rstrip("/") + "/")
    # the cache is filled as the gateway's uid (Node names the cache directory after it), after
    # the ENV that names it, with the deploy's own gateway command and the seed config it boots with
    assert len(runs) == 1 and steps.index(env_steps[0]) < steps.index(next(s for s in steps if "warm-compile" in s
                                                                             and s.startswith("RUN ")))
    argv = runs[0]
    uid = str(oc["image_uid"])
    assert f"--reuid={uid}" in argv and f"--regid={uid}" in argv
    script = argv.index("/opt/openclaw-deploy/warm-compile-cache.sh")
    assert argv[script + 1] == str(model.port)
    assert argv[script + 2] == "/opt/openclaw-deploy/openclaw.json"
    assert argv[script + 3:] == list(model.gateway_command)
    copies = [s for s in steps if s.startswith("COPY") and "openclaw.json" in s]
    assert len(copies) == 1 and steps.index(copies[0]) < steps.index(env_steps[0])
    assert (repo / "docker" / "warm-compile-cache.sh").stat().st_mode & 0o111
    # the entrypoint hands only a cache on the volume to the gateway's user, not the image's
    entrypoint = (repo / "docker" / "entrypoint.sh").read_text()
    assert f'case "${{NODE_COMPILE_CACHE:-}}" in "{model.volume_mount}"/*)' in entrypoint
