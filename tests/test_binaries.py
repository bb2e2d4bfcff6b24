"""Baked-in CLIs: release naming per version range, binaries.lock enforced by
`make verify` (ops/checks.py) and by the image build (docker/install-binaries.sh,
run here in a shell against a loopback HTTP server), pin-binaries.sh.

Before this change: goplaces used `checksums.txt` (its goreleaser config says
`goplaces_checksums.txt`), wacli 0.1.0 named an asset that was never built, and an
empty binaries.lock made the build trust the checksums file of the same release.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import shutil
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import pytest

from ops import checks as c
from ops import model as m

SH = shutil.which("sh")
BASH = shutil.which("bash")


# ---------------------------------------------------------------- naming data

def test_pinned_versions_have_linux_assets_for_both_arches():
    for name, entry in m.binaries_catalog().items():
        naming = m.binary_naming(name)
        assert naming["linux"] is True
        assert "{arch}" in naming["asset"], name
        assert naming["read_from"]["repo"].startswith("openclaw/"), name
        assert entry["repo"].startswith("openclaw/"), name
    assert m.binaries_meta()["arches"] == ["amd64", "arm64"]


def test_naming_follows_the_version_range():
    wacli = dict(m.binaries_catalog()["wacli"])
    assert m.binary_naming("wacli", {**wacli, "version": "0.5.0"})["asset"] == "wacli-linux-{arch}.tar.gz"
    assert m.binary_naming("wacli", {**wacli, "version": "0.9.2"})["checksums"] == "checksums-linux-windows.txt"
    assert m.binary_naming("wacli", {**wacli, "version": "0.10.0"})["asset"] == "wacli_{version}_linux_{arch}.tar.gz"
    with pytest.raises(ValueError, match="no Linux release assets"):
        m.binary_naming("wacli", {**wacli, "version": "0.1.0"})
    with pytest.raises(ValueError, match="no release naming recorded"):
        m.binary_naming("wacli", {**wacli, "version": "9.0.0"})


def test_goplaces_checksums_file_is_the_goreleaser_name():
    model = m.build({**_answers(), "binaries": ["goplaces"]})
    assert model.binaries[0].checksums == "goplaces_checksums.txt"


def test_gog_asks_for_its_keyring_password_and_keeps_tokens_on_the_volume():
    model = m.build({**_answers(), "binaries": ["gog"]})
    assert "GOG_KEYRING_PASSWORD" in model.secret_names
    env = dict(model.binaries[0].env)
    assert env["GOG_KEYRING_BACKEND"] == "file"
    assert env["GOG_HOME"].startswith(model.volume_mount + "/")
    assert "GOG_KEYRING_PASSWORD" not in m.build({**_answers(), "binaries": ["wacli"]}).secret_names


def test_shipped_lock_covers_every_pinned_asset():
    lock = c.read_lock(Path(m.DATA_DIR).parents[1] / "binaries.lock")
    for name, entry in m.binaries_catalog().items():
        for arch in m.binaries_meta()["arches"]:
            sha = lock.get((name, entry["version"], arch))
            assert sha and len(sha) == 64, (name, arch)


def _answers() -> dict:
    return {"app_name": "claw-bin", "platform": "fly", "privacy": "public", "region": "iad",
            "openclaw_version": "2026.9.6", "gateway_port": 3000, "vm_size": "shared-cpu-2x",
            "vm_memory_mb": 2048, "volume_size_gb": 1, "model_providers": ["anthropic"],
            "channels": [], "binaries": [], "tunnel": "none", "domain": ""}


# ---------------------------------------------------------------- make verify

def test_verify_refuses_a_selected_cli_without_a_lock_line(render):
    repo = render(app_name="claw-bin", binaries=["gog", "wacli"])
    result = next(r for r in c.run_static(repo) if r.check.startswith("baked-in CLIs"))
    assert result.status == c.PASS, result
    lock = repo / "binaries.lock"
    lock.write_text("".join(line + "\n" for line in lock.read_text().splitlines()
                            if not line.startswith("wacli ")))
    result = next(r for r in c.run_static(repo) if r.check.startswith("baked-in CLIs"))
    assert result.status == c.FAIL
    v = m.binaries_catalog()["wacli"]["version"]
    assert f"wacli {v} amd64 (wacli_{v}_linux_amd64.tar.gz)" in result.seen
    assert "scripts/pin-binaries.sh" in result.fix
    # The generated repo's own entry point says the same (what `make verify` runs).
    out = subprocess.run([sys.executable, "-m", "ops.verify"], cwd=repo, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode != 0
    assert f"wacli_{v}_linux_arm64.tar.gz" in out.stdout and "scripts/pin-binaries.sh" in out.stdout


# ------------------------------------------------- image build, in a shell

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def release_server(tmp_path):
    """A loopback release host serving <root>/<owner>/<repo>/releases/download/..."""
    root = tmp_path / "releases"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _publish(root: Path, tsv_line: str, arch: str, payload: bytes) -> tuple[str, str]:
    """Put a release asset (tar.gz holding the binary) and its checksums file on the server."""
    name, version, path, sums, binary = tsv_line.split("\t")
    asset_path = path.replace("{arch}", arch)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo(binary)
        script = b"#!/bin/sh\necho " + payload + b"\n"
        info.size, info.mode = len(script), 0o755
        tar.addfile(info, io.BytesIO(script))
        for extra in ("LICENSE", "README.md"):
            info = tarfile.TarInfo(extra)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    data = buf.getvalue()
    target = root / asset_path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    with open(root / sums, "a") as fh:
        fh.write(f"{sha}  {Path(asset_path).name}\n")
    return name, sha


def _install(repo: Path, base: str, out: Path) -> subprocess.CompletedProcess:
    out.mkdir(exist_ok=True)
    return subprocess.run([SH, str(repo / "docker/install-binaries.sh"), str(repo / "docker/binaries.tsv"),
                           str(repo / "binaries.lock"), "amd64", str(out)],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "BINARIES_BASE_URL": base},
                          timeout=60)


@pytest.mark.skipif(not (SH and shutil.which("curl") and shutil.which("sha256sum")), reason="needs sh, curl, sha256sum")
def test_install_binaries_enforces_the_lock(render, release_server, tmp_path):
    root, base = release_server
    repo = render(app_name="claw-bin", binaries=["wacli"])
    line = (repo / "docker/binaries.tsv").read_text().strip()
    name, sha = _publish(root, line, "amd64", b"wacli-from-loopback")
    v = m.binaries_catalog()["wacli"]["version"]
    asset = f"wacli_{v}_linux_amd64.tar.gz"
    assert (root / f"openclaw/wacli/releases/download/v{v}/{asset}").is_file()

    # 1. no lock line for this version: refused before any download, naming the fix.
    (repo / "binaries.lock").write_text("# empty\n")
    res = _install(repo, base, tmp_path / "out1")
    assert res.returncode != 0
    assert f"REFUSED wacli {v} (amd64)" in res.stderr and "scripts/pin-binaries.sh" in res.stderr
    assert not (tmp_path / "out1" / "wacli").exists()

    # 2. the shipped (upstream) sum is not this loopback asset's sum: refused, naming the asset.
    repo_lock = (Path(m.DATA_DIR).parents[1] / "binaries.lock").read_text()
    (repo / "binaries.lock").write_text(repo_lock)
    res = _install(repo, base, tmp_path / "out2")
    assert res.returncode != 0
    assert f"REFUSED {asset}" in res.stderr and sha in res.stderr
    assert not (tmp_path / "out2" / "wacli").exists()

    # 3. a correct lock line: installed, executable, and the build log says what was checked.
    (repo / "binaries.lock").write_text(f"{name} {v} amd64 {sha}\n")
    res = _install(repo, base, tmp_path / "out3")
    assert res.returncode == 0, res.stderr
    assert f"{asset} sha256 matches binaries.lock" in res.stdout
    ran = subprocess.run([str(tmp_path / "out3" / "wacli")], capture_output=True, text=True)
    assert ran.stdout.strip() == "wacli-from-loopback"


@pytest.mark.skipif(not (BASH and shutil.which("curl") and shutil.which("sha256sum")), reason="needs bash, curl")
def test_pin_binaries_writes_lines_the_build_accepts(render, release_server, tmp_path):
    root, base = release_server
    repo = render(app_name="claw-bin", binaries=["gog", "goplaces"])
    lines = (repo / "docker/binaries.tsv").read_text().strip().splitlines()
    sums = {}
    for line in lines:
        for arch in ("amd64", "arm64"):
            name, sha = _publish(root, line, arch, f"{line.split()[0]}-{arch}".encode())
            sums[(name, arch)] = sha
    (repo / "binaries.lock").write_text("# mine\nwacli 0.16.0 amd64 " + "a" * 64 + "\n")
    res = subprocess.run([BASH, "scripts/pin-binaries.sh"], cwd=repo, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "BINARIES_BASE_URL": base}, timeout=60)
    assert res.returncode == 0, res.stderr
    lock = c.read_lock(repo / "binaries.lock")
    for (name, arch), sha in sums.items():
        version = m.binaries_catalog()[name]["version"]
        assert lock[(name, version, arch)] == sha
    assert lock[("wacli", "0.16.0", "amd64")] == "a" * 64  # lines of other CLIs are kept
    assert (repo / "binaries.lock").read_text().startswith("# mine")
    assert _install(repo, base, tmp_path / "out").returncode == 0

    # A checksums file that disagrees with the asset stops the pin.
    gog_sums = root / lines[0].split("\t")[3]
    gog_sums.write_text(gog_sums.read_text().replace(sums[("gog", "amd64")], "0" * 64))
    res = subprocess.run([BASH, "scripts/pin-binaries.sh", "amd64"], cwd=repo, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "BINARIES_BASE_URL": base}, timeout=60)
    assert res.returncode != 0 and "gogcli_0.37.0_linux_amd64.tar.gz" in res.stderr


@pytest.mark.parametrize("platform", ["fly", "render"])
def test_gog_keyring_password_reaches_the_secrets_script(render, platform):
    repo = render(app_name="claw-bin", platform=platform, binaries=["gog"])
    secrets = (repo / "scripts/secrets.sh").read_text()
    assert '"GOG_KEYRING_PASSWORD"' in secrets.split("SECRETS=(", 1)[1].split(")", 1)[0]
    assert "GOG_KEYRING_PASSWORD" in (repo / "README.md").read_text()
    dockerfile = (repo / "Dockerfile").read_text()
    assert "ENV GOG_KEYRING_BACKEND=file GOG_HOME=" in dockerfile
    assert "ARG BINARIES_BASE_URL=https://github.com" in dockerfile
    if platform == "render":
        assert "GOG_KEYRING_PASSWORD" in (repo / "render.yaml").read_text()
