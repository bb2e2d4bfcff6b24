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
    ({"vm_memory_mb": 9000}, "vm_memory_mb", "1024-4096"),
    ({"vm_size": "huge"}, "vm_size", "shared-cpu-2x"),
    ({"gateway_port": 22}, "gateway_port", "1024-65535"),
    ({"openclaw_version": "latest"}, "openclaw_version", "2026.9.6"),
    ({"volume_size_gb": 0}, "volume_size_gb", "1 to 500"),
    ({"binaries": ["gog", "nope"]}, "binaries", "gog"),
    ({"channels": ["irc"]}, "channels", "discord"),
    ({"model_providers": ["skynet"]}, "model_providers", "anthropic"),
    ({"tunnel": "vpn"}, "tunnel", "ngrok"),
    ({"platform": "heroku"}, "platform", "fly"),
    ({"backup_schedule": "daily"}, "backup_schedule", "5 fields"),
    ({"backup_recipient": "age1xyz"}, "backup_recipient", "age1 and 58 characters"),
    ({"backup_recipient": "AGE-SECRET-KEY-1QQQQ"}, "backup_recipient", "SECRET key"),
]


@pytest.mark.parametrize(("data", "field", "allowed"), BAD, ids=[b[1] + "-" + str(list(b[0].values())[0]) for b in BAD])
def test_invalid_answer_refused_without_output(template_tree, tmp_path, data, field, allowed):
    dst = tmp_path / "out"
    with pytest.raises(ValueError) as info:
        copy_template(template_tree, dst, data)
    assert field in str(info.value) and allowed in str(info.value)
    assert not dst.exists()
    assert "AGE-SECRET-KEY-1QQQQ" not in str(info.value)  # a secret given by mistake is never echoed


def test_cli_refuses_with_message_and_exit_code(template_repo, tmp_path):
    dst = tmp_path / "out"
    proc = subprocess.run(
        [COPIER, "copy", "--trust", "--defaults", "-r", "HEAD", "--data", "app_name=my-claw",
         "--data", "vm_memory_mb=768", str(template_repo), str(dst)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode != 0
    assert "Validation error for question 'vm_memory_mb': refused: the floor is 1024 MB\n" in proc.stderr
    assert "got 768" in proc.stderr
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


# ------------------------------------------------- what fits a terminal --
# copier 9.19.1 shows a validator message after "Validation error for question
# '<name>': " in a one-line toolbar (prompt_toolkit ValidationToolbar, height
# 1, no wrapping): in 80 columns the first line of the message must fit next
# to that prefix. Help text is printed as is: 70 characters a line.
COPIER_PREFIX = "Validation error for question '{}': "
WIDTH = 80
BAD_VALUES = {
    "app_name": ["My Claw", "x", "claw-", "null", "false"],
    "platform": ["heroku"],
    "privacy": ["semi"],
    "domain": ["https://claw.example.org/x", "claw"],
    "region": ["atlantis", "iad", "us-central1-a"],
    "openclaw_version": ["latest", "2026.13.1"],
    "gateway_port": ["abc", 22, 70000],
    "vm_size": ["huge", "free", "starter", "e2-micro"],
    "vm_memory_mb": ["abc", 512, 1100, 10**6],
    "volume_size_gb": [0, 10**7, "big"],
    "model_providers": [["skynet"], "{a: 1}"],
    "primary_model_provider": ["skynet", "google"],
    "channels": [["irc", "fax"]],
    "binaries": [["curl"]],
    "tunnel": ["vpn"],
    "image_registry": ["claw-gateway", "ghcr.io/acme/claw:2026.9.6"],
    "uptime_minutes": ["often", 7, -15, 1440],
    "backup_schedule": ["daily", "61 3 * * *", "* * *", "*/0 * * * *", 3],
    "backup_recipient": ["age1xyz", "AGE-SECRET-KEY-1QQQQ", "ssh-ed25519 AAAAC3Nza",
                         "age1w9r2k0waumevyjdne89jerjs2qrzpc3kxv4vpjl753qkv7mn6ayqftt0v6"],
}


def _questions() -> dict:
    import yaml

    data = yaml.safe_load((Path(__file__).resolve().parents[1] / "copier.yml").read_text())
    return {k: v for k, v in data.items() if not k.startswith("_")}


def test_every_question_has_bad_values_here():
    assert set(BAD_VALUES) == set(_questions())


def test_help_lines_fit_70_columns():
    long = [(name, line) for name, q in _questions().items()
            for line in str(q.get("help", "")).splitlines() if len(line) > 70]
    assert long == []


def test_rendered_help_lines_fit_70_columns():
    """Help that follows the answers (oc_help), for every platform, size and privacy."""
    from extensions.openclaw import help_text
    from ops import model as m

    long = []
    for platform, facts in m.platforms().items():
        for size in facts["sizes"]:
            for privacy in ("public", "private"):
                answers = {"platform": platform, "vm_size": size, "privacy": privacy}
                for name in ("gateway_port", "vm_memory_mb", "volume_size_gb"):
                    long += [(platform, size, name, line) for line in help_text(name, answers).splitlines()
                             if len(line) > 70]
    assert long == []


def test_first_message_lines_fit_next_to_copiers_prefix():
    from ops import model as m

    seen = {name: 0 for name in BAD_VALUES}
    for platform, facts in m.platforms().items():
        base = {"app_name": "my-claw", "platform": platform, "privacy": "public",
                "domain": "claw.example.org", "region": facts["default_region"],
                "openclaw_version": "2026.9.6", "gateway_port": 3000, "vm_size": facts["default_size"],
                "vm_memory_mb": 2048, "volume_size_gb": 20, "model_providers": ["anthropic", "openai"],
                "primary_model_provider": "openai", "channels": [], "binaries": [], "tunnel": "none"}
        for name, values in BAD_VALUES.items():
            for value in values:
                # the registry is asked where this repo builds the image (Kubernetes + a baked CLI)
                extra = {"binaries": ["gog"]} if name == "image_registry" else {}
                message = m.validate_field(name, {**base, **extra, name: value})
                if not message:
                    continue
                seen[name] += 1
                first = message.splitlines()[0]
                assert len(first) <= 70, (platform, name, value, first)
                assert len(COPIER_PREFIX.format(name) + first) <= WIDTH, (platform, name, value, first)
                assert not first.startswith(name), first
                assert len(message.splitlines()) > 1 or "allowed" in message, message
    assert all(seen.values()), seen
