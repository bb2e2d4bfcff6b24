"""Images pinned by digest: images.lock (rendered, digests empty), `make pin-images`
(scripts/pin-images.sh -> ops/pin_images.py) against a RECORDING STAND-IN `docker`
(tests/standins/docker: contacts nothing, answers from canned files written here),
and the `make verify` check "images pinned by digest".

Before: every image was referenced by tag only, nothing could pin one, and a
`name:tag@sha256:...` reference broke the version checks (the Dockerfile tag read
as "2026.9.6@sha256:...", the k8s image as another image than the official one).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ops import checks as c
from ops import declared as d
from ops import model as m
from ops import pin_images as pins
from tests.standins import protocol

STANDINS = Path(__file__).resolve().parent / "standins"
BASH = shutil.which("bash")
CHECK = "images pinned by digest"


def digest_of(name: str, salt: str = "") -> str:
    """A fixed, made-up digest per image (never a real one)."""
    return "sha256:" + hashlib.sha256(f"stand-in {name}{salt}".encode()).hexdigest()


def needle(name: str) -> str:
    """What the stand-in matches in the arguments: the last path part and the colon."""
    return name.rsplit("/", 1)[-1] + ":"


def canned_docker(tmp: Path, names: list[str], *, buildx: bool = True, fail: str = "", salt: str = "") -> dict:
    """Canned answers for the stand-in and the environment that puts it on PATH."""
    canned = tmp / f"canned{'-buildx' if buildx else '-pull'}{salt}"
    canned.mkdir()
    if buildx:
        (canned / "docker-buildx-version.txt").write_text("github.com/docker/buildx v0.stand-in\n")
    for name in names:
        if name == fail:
            continue  # no canned answer: the stand-in exits 1 like a failing pull
        digest = digest_of(name, salt)
        if buildx:
            manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                        "digest": digest, "size": 1609}
            (canned / f"docker-buildx-imagetools-inspect~{needle(name)}.json").write_text(json.dumps(manifest))
        else:
            (canned / f"docker-pull~{needle(name)}.txt").write_text(f"Status: Downloaded newer image for {name}\n")
            repo_digests = [f"example.invalid/mirror/{name}@{digest_of('other')}", f"{name}@{digest}"]
            (canned / f"docker-image-inspect~{needle(name)}.json").write_text(json.dumps(repo_digests) + "\n")
    log = tmp / f"docker-calls{salt}{'-buildx' if buildx else '-pull'}.jsonl"
    return {**os.environ, "PATH": f"{STANDINS}{os.pathsep}{os.environ['PATH']}",
            "STANDIN_DIR": str(canned), "STANDIN_LOG": str(log), "_LOG": str(log)}


def pin(repo: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([BASH, "scripts/pin-images.sh"], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=120)


def calls(env: dict) -> list[list[str]]:
    return protocol.argvs(env["_LOG"])


def snapshot(repo: Path) -> dict[str, bytes]:
    return {p.relative_to(repo).as_posix(): p.read_bytes() for p in sorted(repo.rglob("*"))
            if p.is_file() and ".git" not in p.parts}


def result(repo: Path) -> c.Result:
    return next(r for r in c.run_static(repo) if r.check == CHECK)


CASES = {
    # fly: baked CLI (curl build stage) + ngrok agent stage + the official image
    "fly": dict(app_name="pin-fly", platform="fly", privacy="private", binaries=["wacli"], tunnel="ngrok"),
    # gcp public: Compose with Caddy in front
    "gcp": dict(app_name="pin-gcp", platform="gcp", privacy="public", domain="claw.example.org"),
    # kubernetes with the official image in the Deployment (init container + gateway)
    "kubernetes": dict(app_name="pin-k8s", platform="kubernetes", privacy="public", domain="claw.example.org"),
}
EXPECTED = {
    "fly": {"ghcr.io/openclaw/openclaw", "curlimages/curl", "ngrok/ngrok"},
    "gcp": {"ghcr.io/openclaw/openclaw", "caddy"},
    "kubernetes": {"ghcr.io/openclaw/openclaw"},
}
FILES = {"fly": {"Dockerfile"}, "gcp": {"Dockerfile", "docker-compose.yml"},
         "kubernetes": {"Dockerfile", "k8s/base/deployment.yaml"}}


@pytest.mark.runbook_step("make pin-images")
@pytest.mark.parametrize("case", list(CASES))
def test_pin_images_pins_every_reference_and_verify_agrees(render, tmp_path, case):
    repo = render(**CASES[case])
    lock = pins.read_lock(repo / "images.lock")
    names = [e.name for e in lock]
    # the lock lists exactly the images the files pull, none pinned by the template
    assert set(names) == EXPECTED[case] and all(not e.digest for e in lock)
    assert {(e.name, e.tag) for e in lock} == {(n, t) for n, t, _ in m.images(c.load_repo(repo).model)}
    assert "make pin-images" in (repo / "images.lock").read_text()
    refs = pins.find_references(repo, names)
    assert {r.file for r in refs} == FILES[case] and all(not r.digest for r in refs)
    if case == "kubernetes":  # init container and gateway both
        assert len([r for r in refs if r.file.startswith("k8s/")]) == 2
    unpinned = result(repo)
    assert unpinned.status == c.WARN and unpinned.fix == "make pin-images   (then commit)"
    assert all(r.where in unpinned.seen for r in refs)

    before = snapshot(repo)
    env = canned_docker(tmp_path, names)
    out = pin(repo, env)
    assert out.returncode == 0, out.stderr
    after = snapshot(repo)
    changed = {k for k in before if before[k] != after[k]}
    assert changed == FILES[case] | {"images.lock"}
    for e in pins.read_lock(repo / "images.lock"):
        assert e.digest == digest_of(e.name)
    for r in pins.find_references(repo, names):
        assert r.digest == digest_of(r.name), r
    # buildx answered: one inspect per image, never a pull
    asked = [a for a in calls(env) if a[1:4] == ["buildx", "imagetools", "inspect"]]
    assert sorted(a[4] for a in asked) == sorted(f"{e.name}:{e.tag}" for e in lock)
    assert all(a[5:] == ["--format", "{{json .Manifest}}"] for a in asked)
    assert not [a for a in calls(env) if a[1] == "pull"]

    # make verify: the new check passes, the version checks still read the tag
    repo_state = c.load_repo(repo)
    results = {r.check: r for r in (check(repo_state) for check in c.CHECKS)}
    assert results[CHECK].status == c.PASS, results[CHECK]
    assert results["image pinned to openclaw_version"].status == c.PASS, results["image pinned to openclaw_version"]
    assert set(repo_state.declared.image_tags.values()) == {"2026.9.6"}
    assert results["Kubernetes image from a registry"].status in (c.PASS, c.SKIP)
    assert repo_state.declared.problems == []

    # second run: same digests, nothing changes
    again = pin(repo, env)
    assert again.returncode == 0 and "nothing changed" in again.stdout
    assert snapshot(repo) == after


def test_pull_fallback_picks_the_repository_entry_and_a_new_digest_replaces_the_old(render, tmp_path):
    repo = render(**CASES["gcp"])
    names = [e.name for e in pins.read_lock(repo / "images.lock")]
    assert pin(repo, canned_docker(tmp_path, names)).returncode == 0
    env = canned_docker(tmp_path, names, buildx=False, salt="-v2")
    out = pin(repo, env)
    assert out.returncode == 0, out.stderr
    made = calls(env)
    assert ["docker", "pull", "caddy:2.10.2-alpine"] in made
    assert any(a[1:3] == ["image", "inspect"] and a[3] == "caddy:2.10.2-alpine" for a in made)
    # name:tag@sha256:old became name:tag@sha256:new (not a second digest), from the entry of
    # that repository (not the mirror's listed first)
    compose = (repo / "docker-compose.yml").read_text()
    assert f"image: caddy:2.10.2-alpine@{digest_of('caddy', '-v2')}\n" in compose
    assert digest_of("caddy") not in compose and compose.count("@sha256:") == 1
    assert result(repo).status == c.PASS


def test_one_failing_image_changes_no_file_and_is_named(render, tmp_path):
    repo = render(**CASES["fly"])
    names = [e.name for e in pins.read_lock(repo / "images.lock")]
    before = snapshot(repo)
    out = pin(repo, canned_docker(tmp_path, names, fail="ngrok/ngrok"))
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    ngrok = f"ngrok/ngrok:{m.openclaw()['tunnels']['ngrok']['image_tag']}"
    failure = [line for line in lines if ngrok in line]
    assert len(failure) == 1 and "no canned output" in failure[0], out.stderr
    assert lines[-1] == "pin-images: no file changed"
    assert snapshot(repo) == before
    # arguments are refused before docker is asked anything
    env = canned_docker(tmp_path, names, salt="-args")
    refused = subprocess.run([BASH, "scripts/pin-images.sh", "--all"], cwd=repo, env=env, capture_output=True,
                             text=True, timeout=60)
    assert refused.returncode == 2 and "takes no arguments" in refused.stderr and calls(env) == []


def test_hand_edited_wrong_digest_fails_verify_naming_the_file(render, tmp_path):
    repo = render(**CASES["gcp"])
    names = [e.name for e in pins.read_lock(repo / "images.lock")]
    assert pin(repo, canned_docker(tmp_path, names)).returncode == 0
    compose = repo / "docker-compose.yml"
    text = compose.read_text()
    wrong = digest_of("someone else")
    compose.write_text(text.replace(digest_of("caddy"), wrong))
    res = result(repo)
    assert res.status == c.FAIL and "docker-compose.yml:" in res.seen and wrong in res.seen
    assert "make pin-images" in res.fix
    # a malformed digest and a pinned tag the lock does not have fail too
    compose.write_text(text.replace(digest_of("caddy"), "sha256:abc"))
    assert result(repo).status == c.FAIL and "not sha256:<64 hex>" in result(repo).seen
    compose.write_text(text.replace("caddy:2.10.2-alpine@", "caddy:2.9.0-alpine@"))
    res = result(repo)
    assert res.status == c.FAIL and "docker-compose.yml:" in res.seen and "not 2.9.0-alpine" in res.seen
    # a digest in the Dockerfile the lock does not record
    compose.write_text(text)
    docker = repo / "Dockerfile"
    docker.write_text(docker.read_text().replace(digest_of("ghcr.io/openclaw/openclaw"), wrong))
    res = result(repo)
    assert res.status == c.FAIL and "Dockerfile:" in res.seen


def test_digest_beside_the_tag_reads_as_the_tag():
    digest = digest_of("x")
    assert pins.split_ref(f"ghcr.io/openclaw/openclaw:2026.9.6@{digest}") == (
        "ghcr.io/openclaw/openclaw", "2026.9.6", digest)
    assert pins.split_ref("localhost:5000/claw") == ("localhost:5000/claw", "", "")
    text = f"FROM ghcr.io/openclaw/openclaw:2026.9.6@{digest}\nCMD [\"x\"]\n"
    assert d.dockerfile_image_tags(text) == {"Dockerfile FROM": "2026.9.6"}
    # a wrong version beside a digest still fails the version check
    text = f"FROM ghcr.io/openclaw/openclaw:2026.9.5@{digest}\n"
    assert d.dockerfile_image_tags(text) == {"Dockerfile FROM": "2026.9.5"}


def test_references_never_match_inside_other_names_or_tags(tmp_path):
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  caddy:\n    image: caddy:2.10.2-alpine\n    volumes:\n      - ./caddy/Caddyfile:/etc/caddy/Caddyfile:ro\n"
        "  other:\n    image: example/caddy:2.10.2-alpine\n  newer:\n    image: caddy:2.10.20\n")
    refs = pins.find_references(tmp_path, ["caddy"])
    assert [(r.line, r.tag) for r in refs] == [(3, "2.10.2-alpine"), (9, "2.10.20")]
    pinned = pins.rewrite((tmp_path / "docker-compose.yml").read_text(),
                          [pins.Entry("caddy", "2.10.2-alpine", digest_of("caddy"))])
    assert pinned.count("@sha256:") == 1 and "example/caddy:2.10.2-alpine\n" in pinned


def test_container_builds_keep_the_tag_only_default(render):
    """The template ships no digest (none can be checked here): rendered files pull by tag."""
    repo = render(**CASES["fly"])
    assert "@sha256:" not in (repo / "Dockerfile").read_text()
    assert "FROM curlimages/curl:8.16.0 AS binaries" in (repo / "Dockerfile").read_text()


def test_docs_say_when_to_pin(render):
    repo = render(**CASES["gcp"])
    readme, runbook = (repo / "README.md").read_text(), (repo / "RUNBOOK.md").read_text()
    go_live = readme.split("## Go live", 1)[1].split("\n## ", 1)[0]
    assert "`make pin-images` pins each image by digest" in go_live and "images.lock" in go_live
    assert "`make pin-images` once, online" in runbook.split("## First deploy", 1)[0]
    upgrading = runbook.split("## Upgrading", 1)[1]
    assert "openclaw_version" in upgrading and "`make pin-images` again" in upgrading
    helped = subprocess.run(["make", "-s", "help"], cwd=repo, capture_output=True, text=True, timeout=60)
    assert "make pin-images" in helped.stdout and "by digest" in helped.stdout


def take_theirs(path: Path) -> None:
    """Resolve copier's inline conflicts with the new release's side (RUNBOOK: keep the new tag)."""
    out, side = [], None
    for line in path.read_text().splitlines(keepends=True):
        if line.startswith("<<<<<<< before updating"):
            side = "ours"
        elif line.startswith("=======") and side == "ours":
            side = "theirs"
        elif line.startswith(">>>>>>> after updating"):
            side = None
        elif side != "ours":
            out.append(line)
    path.write_text("".join(out))


def test_update_to_another_openclaw_version_after_pinning(tmp_path):
    """What RUNBOOK, Upgrading says: the pinned lines the bump changes conflict (keep the new
    tag), verify warns about the unpinned new tag, and `make pin-images` pins it again."""
    from ops import conflicts
    from tests.support.template_history import TemplateHistory, commit_all, generate, update

    history = TemplateHistory(tmp_path / "history" / "openclaw-deploy", first_tag="v0.1.0")
    repo = generate(history, tmp_path / "deploy", {**CASES["gcp"], "openclaw_version": "2026.9.6"}, tag="v0.1.0")
    names = [e.name for e in pins.read_lock(repo / "images.lock")]
    assert pin(repo, canned_docker(tmp_path, names)).returncode == 0
    commit_all(repo, "pin images")
    update(repo, data={"openclaw_version": "2026.11.2"}, vcs_ref="v0.1.0")
    found = conflicts.find_conflicts(repo)
    assert {f.split(":")[0] for f in found} == {"Dockerfile", "images.lock"}, found
    for name in ("Dockerfile", "images.lock"):
        take_theirs(repo / name)
    subprocess.run(["git", "add", "Dockerfile", "images.lock"], cwd=repo, check=True)
    assert conflicts.find_conflicts(repo) == []
    res = result(repo)
    assert res.status == c.WARN and "Dockerfile:" in res.seen and "ghcr.io/openclaw/openclaw:2026.11.2" in res.seen
    assert "caddy" not in res.seen  # the Caddy pin the update did not touch stays
    assert {r.check: r.status for r in c.run_static(repo)}["image pinned to openclaw_version"] == c.PASS
    env = canned_docker(tmp_path, names, salt="-after-update")
    assert pin(repo, env).returncode == 0
    assert result(repo).status == c.PASS
    assert f"ghcr.io/openclaw/openclaw:2026.11.2@{digest_of('ghcr.io/openclaw/openclaw', '-after-update')}" in (
        repo / "Dockerfile").read_text()


@pytest.mark.skipif(not shutil.which("kubectl"), reason="needs kubectl (its built-in kustomize)")
def test_ci_image_override_replaces_a_pinned_reference(render, tmp_path):
    """CI (scripts/ci-deploy-kubernetes.sh) appends `images:` with newName/newTag for the
    official image name: kubectl's kustomize drops the pinned digest with the old tag."""
    repo = render(**CASES["kubernetes"])
    assert pin(repo, canned_docker(tmp_path, ["ghcr.io/openclaw/openclaw"])).returncode == 0
    kustomization = repo / "k8s/overlays/public/kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "images:\n  - name: ghcr.io/openclaw/openclaw\n"
                             "    newName: ghcr.io/acme/pin-k8s-gateway\n    newTag: 0123abc\n")
    out = subprocess.run(["kubectl", "kustomize", "k8s/overlays/public"], cwd=repo, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    images = {line.split("image:", 1)[1].strip() for line in out.stdout.splitlines() if "image:" in line}
    assert images == {"ghcr.io/acme/pin-k8s-gateway:0123abc"}


def test_lock_missing_or_malformed(render):
    repo = render(**CASES["fly"])
    lock = repo / "images.lock"
    text = lock.read_text()
    lock.write_text(text.replace("curlimages/curl 8.16.0", "curlimages/curl 8.16.0 sha256:nothex"))
    res = result(repo)
    assert res.status == c.FAIL and "images.lock:" in res.seen and "curlimages/curl:8.16.0" in res.seen
    lock.write_text("".join(line + "\n" for line in text.splitlines() if not line.startswith("ngrok/")))
    res = result(repo)
    ngrok = f"ngrok/ngrok:{m.openclaw()['tunnels']['ngrok']['image_tag']}"
    assert res.status == c.WARN and f"images.lock has no line for {ngrok}" in res.seen
    assert "make update" in res.fix
    lock.unlink()  # a repo generated before images.lock existed
    res = result(repo)
    assert res.status == c.WARN and res.seen == "no images.lock" and "make update" in res.fix
    out = subprocess.run([BASH, "scripts/pin-images.sh"], cwd=repo, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "no images.lock" in out.stderr
