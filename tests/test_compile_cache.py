"""Node's compile cache: every generated Dockerfile fills it into the image at build time
(measured: restart and deploy -> /startupz 14-25% shorter; a cache on the volume showed no gain
and was removed: CHANGELOG 0.2.0). Never on the volume, whose state dir every backup archives.
The container tier (tests/container/test_platform_images.py, test_compose.py) proves a start
reads it."""

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
def test_compile_cache_is_baked_into_every_image(render, platform):
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
    assert "NODE_COMPILE_CACHE" not in model.env  # the deploy's env never moves it onto the volume
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
