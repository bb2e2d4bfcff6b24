"""The shared build cache's key (tests/support/containers.py context_digest): two repos with
the same build inputs share one image, and any change to what `docker build` reads (a copied
file's bytes or mode, the Dockerfile, the .dockerignore, a build flag) gives another image."""

from __future__ import annotations

import shutil

from tests.container.conftest import c


def test_the_key_follows_what_the_build_reads(generate, engine, tmp_path):
    one = generate("fly", "private")
    two = generate("fly", "private", app_name="claw-other")
    key = c.context_digest(one)
    assert c.context_digest(two) == key  # the app name is not in the image: one build serves both
    (one / "README.md").write_text("not copied into the image\n")
    (one / ".copier-answers.yml").write_text("_src_path: /elsewhere\n")
    (one / "docker" / "not-copied.txt").write_text("the Dockerfile names its files one by one\n")
    assert c.context_digest(one) == key

    def changed(edit) -> str:
        repo = tmp_path / f"edit{len(list(tmp_path.iterdir()))}"
        shutil.copytree(two, repo, symlinks=True)
        edit(repo)
        return c.context_digest(repo)

    keys = {
        "copied bytes": changed(lambda r: (r / "docker/entrypoint.sh").write_text("#!/bin/sh\nexit 1\n")),
        "copied mode": changed(lambda r: (r / "config/openclaw.json").chmod(0o600)),
        "Dockerfile": changed(lambda r: (r / "Dockerfile").write_text((r / "Dockerfile").read_text() + "USER 1000\n")),
        ".dockerignore": changed(lambda r: (r / ".dockerignore").write_text("docker\n")),
    }
    keys["build flag"] = c.context_digest(two, "--build-arg", "X=1")
    assert key not in keys.values(), keys
    assert len(set(keys.values())) == len(keys), keys
