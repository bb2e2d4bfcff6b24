"""The secret scan (`make verify`, "no secrets in tracked files") and the
runbooks' redaction know the token shapes the deploys handle: Discord bot
tokens, Fly.io `FlyV1 fm2_` macaroons, GitHub `ghp_` and Render `rnd_` tokens,
and private keys. Before, the scan missed all of these (only the redaction knew
some), and the README's `ssh-keygen -f ci-<app>` in the repo root wrote a key
that the next `git add -A` committed and the image build context carried.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from ops import checks
from ops.runner import redact_text

SAMPLES = {
    "discord": "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB",
    "fly": "FlyV1 fm2_lJPECAAAAAAAAAAAxEIQmGd1cGVyc2VjcmV0YWJjZGVm",
    "github": "ghp_" + "A1b2C3d4E5f6G7h8I9j0" * 2,
    "render": "rnd_" + "Q" * 32,
    "ssh-key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
               "-----END OPENSSH PRIVATE KEY-----",
    "rsa-key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----",
}


@pytest.mark.parametrize("kind", list(SAMPLES))
def test_the_secret_scan_finds_each_token_shape(render, kind):
    repo = render(platform="fly", privacy="private")
    (repo / "notes.md").write_text(f"deploy with\n{SAMPLES[kind]}\n")
    got = {r.check: r for r in checks.run_static(repo)}["no secrets in tracked files"]
    assert got.status == checks.FAIL and "notes.md:2" in got.seen, got
    assert SAMPLES[kind] not in got.seen + got.fix


@pytest.mark.parametrize("kind", list(SAMPLES))
def test_redaction_hides_each_token_shape_whole(kind):
    body = SAMPLES[kind].split(" ", 1)[-1] if kind == "fly" else SAMPLES[kind]
    out = redact_text(f"log: {SAMPLES[kind]} end")
    for part in body.splitlines():
        if len(part) > 12:
            assert part not in out, out


def test_the_ci_deploy_key_in_the_repo_root_is_never_committed_nor_built(render, tmp_path):
    repo = render(platform="vps", privacy="private", app_name="claw-vm")
    key = repo / "ci-claw-vm"
    if shutil.which("ssh-keygen"):  # the README's command, run where a user would
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ci-claw-vm", "-f", str(key)],
                       check=True, capture_output=True)
    else:
        key.write_text(SAMPLES["ssh-key"] + "\n")
        key.with_suffix(".pub").write_text("ssh-ed25519 AAAA ci-claw-vm\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    staged = subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=True).stdout.split()
    assert "ci-claw-vm" not in staged and "ci-claw-vm.pub" not in staged
    assert "scripts/ci-deploy-compose.sh" in staged  # only the root's ci-* files are ignored
    assert "ci-*" in (repo / ".dockerignore").read_text().splitlines()
    got = {r.check: r for r in checks.run_static(repo)}["no secrets in tracked files"]
    assert got.status == checks.PASS, got
    # the same key anywhere git would take it is found
    (repo / "keys").mkdir()
    shutil.copy(key, repo / "keys" / "deploy")
    got = {r.check: r for r in checks.run_static(repo)}["no secrets in tracked files"]
    assert got.status == checks.FAIL and "keys/deploy:1" in got.seen, got


def test_readme_says_to_protect_the_production_environment(render):
    readme = (render(platform="render", privacy="public") / "README.md").read_text()
    assert "Deployment\nbranches and tags" in readme or "Deployment branches and tags" in readme.replace("\n", " ")
    assert "Required reviewer" in readme
