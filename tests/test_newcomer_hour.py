"""Issue 19, the newcomer's hour (second pass): the generated text follows the answers,
and every answer change a doc or message suggests is one `make update` runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ops import checks, model as m
from tests.conftest import copy_template

# `copier update -d ...` fails (unsafe feature) or, with --trust, re-asks every question and
# skips the conflict listing that `make update` runs after it.
RAW_UPDATE = re.compile(r"copier update[^`\n]*\s-d\b")


def text_files(repo: Path) -> list[Path]:
    return [p for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts and "schemas" not in p.parts]


@pytest.mark.parametrize("platform", sorted(m.platforms()))
@pytest.mark.parametrize("privacy", ["public", "private"])
def test_answer_changes_go_through_make_update(render, platform, privacy):
    extra = {"tunnel": "ngrok", "channels": ["telegram"]} if privacy == "private" else {}
    if platform == "kubernetes":
        extra["binaries"] = ["gog"]
    repo = render(platform=platform, privacy=privacy, **extra)
    hits = [f"{p.relative_to(repo)}: {line.strip()}" for p in text_files(repo)
            for line in p.read_text(errors="replace").splitlines() if RAW_UPDATE.search(line)]
    assert hits == [], "\n".join(hits)
    readme = (repo / "README.md").read_text()
    assert 'change them with `make update ARGS="-d KEY=VALUE"`' in readme
    assert 'make update ARGS="-d openclaw_version=' in readme


def test_warnings_and_check_hints_go_through_make_update(render):
    sources = [*Path(m.__file__).parent.glob("*.py")]
    hits = [f"{p.name}: {line.strip()}" for p in sources for line in p.read_text().splitlines()
            if RAW_UPDATE.search(line)]
    assert hits == [], "\n".join(hits)
    gcp = checks.load_repo(render(platform="gcp")).model  # --defaults: the placeholder domain
    assert any('make update ARGS="-d domain=<that name>"' in w for w in m.warnings(gcp))


@pytest.mark.parametrize("platform", ["railway", "render"])
def test_access_text_follows_the_tunnel(render, platform):
    tailscale = render(platform=platform, privacy="private", tunnel="tailscale")
    docs = (tailscale / "README.md").read_text() + (tailscale / "RUNBOOK.md").read_text()
    assert "-d tunnel=tailscale" not in docs  # already chosen: never suggested again
    assert "The Control UI is on your tailnet: `https://my-openclaw.<tailnet>.ts.net`" in docs
    ngrok = render(platform=platform, privacy="private", tunnel="ngrok", channels=["slack"])
    runbook = (ngrok / "RUNBOOK.md").read_text()
    assert "ngrok forwards only webhook paths, never the Control UI" in runbook
    none = render(platform=platform, privacy="private")
    assert 'add a tunnel (`make update ARGS="-d tunnel=tailscale"`)' in (none / "RUNBOOK.md").read_text()


def first_deploy_block(runbook: str) -> list[str]:
    return runbook.split("## First deploy")[1].split("```bash\n")[1].split("```")[0].splitlines()


@pytest.mark.parametrize("privacy", ["public", "private"])
def test_kubernetes_first_deploy_builds_the_image_when_it_is_built_here(render, privacy):
    built = render(platform="kubernetes", privacy=privacy, binaries=["gog"], domain="claw.mine.dev",
                   image_registry="registry.mine.dev/ops/claw-gateway")
    steps = [line.split("#")[0].strip() for line in first_deploy_block((built / "RUNBOOK.md").read_text())]
    assert steps.index("docker login registry.mine.dev") < steps.index("make image") < steps.index("make deploy")
    readme = (built / "README.md").read_text()
    assert "docker login registry.mine.dev" in readme and "make image" in readme  # the README agrees
    official = render(platform="kubernetes", privacy=privacy, domain="claw.mine.dev")
    steps = [line.split("#")[0].strip() for line in first_deploy_block((official / "RUNBOOK.md").read_text())]
    assert "make image" not in steps and not any(s.startswith("docker login") for s in steps)


def test_ngrok_with_nothing_to_forward_is_warned(render):
    idle = render(platform="fly", privacy="private", tunnel="ngrok", channels=["telegram"])
    runbook = (idle / "RUNBOOK.md").read_text()
    assert "point webhooks" not in runbook and "- Use: nothing yet." in runbook
    result = {r.check: r for r in checks.run_static(idle)}["inbound webhooks reachable"]
    assert result.status == checks.WARN and "tunnel=ngrok" in result.seen and "NGROK_AUTHTOKEN" in result.seen
    used = render(platform="fly", privacy="private", tunnel="ngrok", channels=["slack"])
    assert "point webhooks" in (used / "RUNBOOK.md").read_text()
    assert {r.check: r for r in checks.run_static(used)}["inbound webhooks reachable"].status == checks.PASS


def test_a_tunnel_on_a_public_deploy_is_warned_not_dropped_silently(template_repo, tmp_path):
    from tests.test_copier_cli import run_wrapper

    dest = tmp_path / "out"
    proc = run_wrapper(["copy", "--trust", "--defaults", "-d", "privacy=public", "-d", "tunnel=ngrok",
                        str(template_repo), str(dest)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = " ".join((proc.stdout + proc.stderr).split())
    assert "WARNING: tunnel=ngrok is ignored: a public deploy already has an HTTPS URL" in out
    assert not (dest / "docker" / "ngrok-policy.yml").exists()  # still dropped, now said


@pytest.mark.parametrize(("data", "reason"), [
    ({"model_providers": [], "primary_model_provider": "openai"}, "no provider is chosen"),
    ({"model_providers": ["anthropic"], "primary_model_provider": "openai"}, "is not in ['anthropic']"),
], ids=["primary-without-providers", "primary-not-chosen"])
def test_an_answer_that_would_be_dropped_is_refused(template_tree, tmp_path, data, reason):
    dst = tmp_path / "out"
    with pytest.raises(ValueError) as info:
        copy_template(template_tree, dst, data)
    assert reason in str(info.value)
    assert not dst.exists()


def test_placeholder_domain_warns_in_verify(render):
    placeholder = render(platform="gcp", privacy="public")  # --defaults: <app>.example.com
    result = {r.check: r for r in checks.run_static(placeholder)}["domain can get a certificate"]
    assert result.status == checks.WARN and "my-openclaw.example.com" in result.seen
    assert 'make update ARGS="-d domain=' in result.fix
    real = render(platform="gcp", privacy="public", domain="claw.mine.dev")
    assert {r.check: r for r in checks.run_static(real)}["domain can get a certificate"].status == checks.PASS


def test_texts_fit_the_answers(render):
    fly = (render(platform="fly") / "RUNBOOK.md").read_text()
    assert "starter channels" not in fly and "No chat channel is enabled" in fly
    both = (render(platform="fly", channels=["telegram", "slack"]) / "RUNBOOK.md").read_text()
    assert "(Telegram: outbound long polling; Slack: outbound Socket Mode)" in " ".join(both.split())
    gcp = (render(platform="gcp", privacy="private") / "README.md").read_text()
    assert "stored only on the platform" not in gcp and "stored only in `.env` on the VM" in gcp
    for repo in (render(platform="fly"), render(platform="gcp", privacy="private")):
        assert "needs Docker" in (repo / "README.md").read_text()  # make pin-images asks a local docker


@pytest.mark.parametrize(("channel", "status"), [("telegram", "PASS"), ("slack", "WARN")])
def test_private_webhook_check_asks_for_a_tunnel_only_where_one_helps(render, channel, status):
    """Telegram's webhook port is not the gateway port a tunnel forwards: long polling is the answer,
    not tunnel=ngrok (the check once told Telegram users to add one)."""
    repo = render(platform="fly", privacy="private", tunnel="none", channels=[channel])
    result = checks.check_webhooks_reachable(checks.load_repo(repo))
    assert result.status == status and f"channels={channel}" in result.seen
    assert ("tunnel" in result.fix) is (status == "WARN")
