"""Small things a new user trips over in the generated text (issue 12, section 5):
step numbers, articles, resize advice, laptop vs VM commands, DNS timing,
private clones, backups out of a named volume, `make help` columns."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from extensions.openclaw import with_article
from ops import model as m

ROOT = Path(__file__).resolve().parents[1]


def flat(text: str) -> str:
    return " ".join(text.split())


def code_blocks_after(text: str, marker: str) -> list[str]:
    """The fenced blocks whose preceding paragraph contains ``marker``."""
    out, block, prose, inside, ended = [], [], [], False, False
    for line in text.splitlines():
        if line.startswith("```"):
            if inside and marker in " ".join(prose):
                out.append("\n".join(block))
            if inside:
                prose = []
            inside, block = not inside, []
        elif inside:
            block.append(line)
        elif line.strip():
            prose = [*prose, line] if not ended else [line]
            ended = False
        else:
            ended = True
    return out


@pytest.mark.parametrize("privacy", ["public", "private"])
def test_railway_steps_are_numbered_in_order(render, privacy):
    runbook = (render(platform="railway", privacy=privacy) / "RUNBOOK.md").read_text()
    section = runbook.split("does, in order:")[1].split("Railway volumes are mounted")[0]
    numbers = [int(n) for n in re.findall(r"^(\d+)\. ", section, re.M)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 3, numbers


def test_articles_follow_the_sound():
    assert [with_article(v) for v in (8, 18, 20, 11000, "e2-micro", "shared-cpu-1x")] == [
        "an 8", "an 18", "a 20", "an 11000", "an e2-micro", "a shared-cpu-1x"]


def test_gcp_runbook_words(render):
    repo = render(platform="gcp", privacy="public", vm_size="e2-micro", domain="claw.mine.dev")
    readme, runbook = (repo / "README.md").read_text(), (repo / "RUNBOOK.md").read_text()
    everything = "".join(p.read_text(errors="replace") for p in repo.rglob("*") if p.is_file())
    assert "a e2-" not in everything and "an e2-micro VM" in readme
    assert "1024-1024" not in everything
    # "On the VM" blocks hold only what runs on the VM
    on_vm = code_blocks_after(runbook, "On the VM")
    assert on_vm and not any("gcloud" in block for block in on_vm), on_vm
    # a private repository can be cloned
    assert "deploy key" in runbook and "git bundle create" in runbook
    # DNS: before `make deploy`, in the question's help, the README and the runbook
    help_text = flat(yaml.safe_load((ROOT / "copier.yml").read_text())["domain"]["help"])
    assert "before `make deploy`" in help_text
    assert "before `make deploy`" in flat(runbook)
    go_live = readme.split("## Go live")[1]
    assert go_live.index("claw.mine.dev at the VM") < go_live.index("make deploy")
    assert "Then point the DNS" not in readme
    # backups: make backup runs as uid 1000 through docker compose, on the VM or over DOCKER_HOST=ssh://
    backup = runbook.split("## Day two: backup and restore")[1].split("\n## ")[0]
    assert "docker compose exec -T -u node openclaw-gateway" in backup
    assert "docker compose cp openclaw-gateway:<container path> <local path>" in backup
    assert "DOCKER_HOST=ssh://<user>@<vm> make backup" in backup


@pytest.mark.parametrize("size", ["e2-micro", "e2-medium"])
def test_resize_advice_names_a_bigger_machine(render, size):
    runbook = (render(platform="gcp", privacy="private", vm_size=size) / "RUNBOOK.md").read_text()
    resize = flat(runbook.split("Resize to")[1].split("\n\n")[0])
    assert f"--machine-type={size}" not in resize and f"vm_size={size}" not in resize, resize
    bigger = m.resize_to(m.build(m.complete({
        "app_name": "my-openclaw", "platform": "gcp", "privacy": "private", "region": "us-central1-a",
        "openclaw_version": "2026.9.6", "gateway_port": 18789, "vm_size": size, "volume_size_gb": 20,
        "model_providers": [], "channels": [], "binaries": [], "tunnel": "none"})))
    assert f"--machine-type={bigger['vm_size']}" in resize


def test_resize_never_suggests_what_the_deploy_has():
    for platform, facts in m.platforms().items():
        for size in facts["sizes"]:
            if m.validate_field("vm_size", {"platform": platform, "vm_size": size}):
                continue
            model = m.build(m.complete({
                "app_name": "my-claw", "platform": platform, "privacy": "private",
                "region": facts["default_region"], "openclaw_version": "2026.9.6", "gateway_port": 18789,
                "vm_size": size, "vm_memory_mb": m.default_memory_mb(platform, size),
                "volume_size_gb": facts["volume"].get("default_gb", 1), "model_providers": [],
                "channels": [], "binaries": [], "tunnel": "none"}))
            to = m.resize_to(model)
            if to:
                assert to["vm_memory_mb"] > model.memory_mb and to.get("vm_size") != size, (platform, size, to)
                grown = m.build(m.complete({**model_answers(model), **to}))
                assert grown.memory_mb == to["vm_memory_mb"], (platform, size, to)


def model_answers(model: m.DeployModel) -> dict:
    return {"app_name": model.app_name, "platform": model.platform, "privacy": model.privacy,
            "region": model.region, "openclaw_version": model.openclaw_version, "gateway_port": model.port,
            "vm_size": model.vm_size, "vm_memory_mb": model.memory_mb, "volume_size_gb": model.volume_size_gb,
            "model_providers": [], "channels": [], "binaries": [], "tunnel": "none"}


def test_private_clone_is_explained_on_every_vm(render):
    assert "git bundle create" in (render(platform="vps", privacy="private") / "RUNBOOK.md").read_text()


def test_make_help_columns_line_up(render):
    repo = render(platform="kubernetes", privacy="private")
    out = subprocess.run(["make", "-s", "help"], cwd=repo, capture_output=True, text=True, timeout=30).stdout
    rows = [line for line in out.splitlines() if line.startswith("  make ")]
    starts = {len(row) - len(row[len("  make "):].split(" ", 1)[1].lstrip()) for row in rows}
    assert len(rows) >= 8 and len(starts) == 1, out
    assert any(row.startswith("  make troubleshoot ") for row in rows)
