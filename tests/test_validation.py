"""Bad answers are refused before anything is written, with the field named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import copy_template

COPIER = Path(sys.executable).parent / "copier"

BAD = [
    ({"app_name": "My Claw"}, "app_name", "DNS label"),
    ({"app_name": "x"}, "app_name", "2-63"),
    ({"privacy": "semi"}, "privacy", "public"),
    ({"region": "us-central1"}, "region", "iad"),
    ({"vm_memory_mb": 512}, "vm_memory_mb", "810 MB"),
    ({"vm_memory_mb": 9000}, "vm_memory_mb", "512-4096"),
    ({"vm_size": "huge"}, "vm_size", "shared-cpu-2x"),
    ({"gateway_port": 22}, "gateway_port", "1024 to 65535"),
    ({"openclaw_version": "latest"}, "openclaw_version", "2026.9.6"),
    ({"volume_size_gb": 0}, "volume_size_gb", "1 to 500"),
    ({"binaries": ["gog", "nope"]}, "binaries", "gog"),
    ({"channels": ["irc"]}, "channels", "discord"),
    ({"model_providers": ["skynet"]}, "model_providers", "anthropic"),
    ({"tunnel": "vpn"}, "tunnel", "ngrok"),
    ({"platform": "heroku"}, "platform", "fly"),
]


@pytest.mark.parametrize(("data", "field", "allowed"), BAD, ids=[b[1] + "-" + str(list(b[0].values())[0]) for b in BAD])
def test_invalid_answer_refused_without_output(template_repo, tmp_path, data, field, allowed):
    dst = tmp_path / "out"
    with pytest.raises(ValueError) as info:
        copy_template(template_repo, dst, data)
    assert field in str(info.value) and allowed in str(info.value)
    assert not dst.exists()


def test_cli_refuses_with_message_and_exit_code(template_repo, tmp_path):
    dst = tmp_path / "out"
    proc = subprocess.run(
        [COPIER, "copy", "--trust", "--defaults", "-r", "HEAD", "--data", "app_name=my-claw",
         "--data", "vm_memory_mb=768", str(template_repo), str(dst)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode != 0
    assert "vm_memory_mb: 768 MB is refused" in proc.stderr
    assert not dst.exists()


@pytest.mark.parametrize("privacy", ["private", "public"])
def test_cli_done_when(template_repo, tmp_path, privacy):
    """The issue's acceptance command, through the real CLI."""
    import tomllib

    dst = tmp_path / "out"
    proc = subprocess.run(
        [COPIER, "copy", "--trust", "--defaults", "--data", "app_name=my-claw", "--data", "platform=fly",
         "--data", f"privacy={privacy}", str(template_repo), str(dst)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    fly = tomllib.loads((dst / "fly.toml").read_text())
    if privacy == "private":
        assert "http_service" not in fly
    else:
        assert fly["http_service"]["checks"][0]["path"] == "/healthz"


def test_low_memory_accepted_with_warning(template_repo, tmp_path):
    dst = tmp_path / "out"
    proc = subprocess.run(
        [COPIER, "copy", "--trust", "--defaults", "--data", "vm_memory_mb=1024", "--data", "privacy=private",
         "--data", "channels=[telegram]", str(template_repo), str(dst)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "WARNING: vm_memory_mb=1024" in proc.stderr
    assert "WARNING: channels=telegram on a private deploy without a tunnel" in proc.stderr
