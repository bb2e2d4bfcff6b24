"""Channel setup and tunnel steps in every platform's RUNBOOK (issue 10.5).

The steps come from ops/data/channel_setup.yml (read from the pinned release's
docs) and each command is shown wrapped in the platform's own way to run a
command inside the machine (platforms.yml `exec`). The commands themselves are
checked against the real CLI of the pinned release (`--help`).

Before: channel steps existed nowhere and tunnel steps only in the Fly runbook.
"""

from __future__ import annotations

import re
import shlex

import pytest

from ops import model as m

SETUP = m.load("channel_setup")
ALL_CHANNELS = sorted(SETUP["channels"])
EXPECTED_EXEC = {  # the one way per platform, written out (a typo in platforms.yml fails here)
    "fly": "fly ssh console -a claw-ch -u node --pty -C \"{cmd}\"",
    "gcp": "docker compose exec -u node openclaw-gateway {cmd}",
    "vps": "docker compose exec -u node openclaw-gateway {cmd}",
    "railway": "railway ssh -- setpriv --reuid=1000 --regid=1000 --clear-groups {cmd}",
    "northflank": "northflank exec service --projectId claw-ch --serviceId claw-ch --user node --cmd \"{cmd}\"",
    "render": "setpriv --reuid=1000 --regid=1000 --clear-groups {cmd}",
    "kubernetes": "kubectl exec -it -n claw-ch deploy/claw-ch -c gateway -- {cmd}",
}


def test_every_platform_has_an_exec_command():
    assert set(EXPECTED_EXEC) == set(m.platforms())
    for name, facts in m.platforms().items():
        got = facts["exec"]["command"].format(app="claw-ch", region=facts["default_region"], cmd="{cmd}")
        assert got == EXPECTED_EXEC[name]
        assert facts["exec"]["source"] and facts["exec"]["logs"]


@pytest.mark.parametrize("platform", sorted(EXPECTED_EXEC))
def test_each_selected_channel_gets_its_steps_with_the_platform_exec(render, platform):
    extra = {"domain": "claw.example.org"} if m.platform_facts(platform).get("needs_domain") else {}
    repo = render(app_name="claw-ch", platform=platform, privacy="private", channels=ALL_CHANNELS, tunnel="tailscale",
                  binaries=["gog"], **({"image_registry": "ghcr.io/acme/claw-ch"} if platform == "kubernetes" else {}),
                  **extra)
    runbook = (repo / "RUNBOOK.md").read_text()
    wrap = EXPECTED_EXEC[platform].format
    for ch in ALL_CHANNELS:
        section = runbook.split(f"### {m.openclaw()['channels'][ch]['label']}\n", 1)[1].split("\n### ", 1)[0]
        for step in m.channel_steps(ch):
            if "run" in step:
                assert f"`{wrap(cmd=step['run'])}`" in section, (ch, step["run"])
    # the baked-in CLI check and the tunnel: start, URL, check, each with this platform's exec
    assert f"`{wrap(cmd='which gog')}`" in runbook and f"`{wrap(cmd='gog --version')}`" in runbook
    tunnel = runbook.split("## Webhooks and access through Tailscale", 1)[1].split("\n## ", 1)[0]
    for word in ("Start:", "URL:", "Check:"):
        assert word in tunnel
    assert f"`{wrap(cmd='tailscale --socket=/tmp/tailscaled.sock status')}`" in tunnel


def _inventory(openclaw) -> dict[str, tuple[str, bool]]:
    """plugin id -> (package, ships in the core npm package) from the pinned release's inventory."""
    pkg = openclaw.prefix / "node_modules" / "openclaw"
    text = (pkg / "docs" / "plugins" / "plugin-inventory.md").read_text()
    found = {}
    for pid, package, route in re.findall(r"(?m)^- \*\*\[([\w-]+)\]\([^)]*\)\*\* \(`([^`]+)`\) - ([^.]+)\.", text):
        found[pid] = (package, route.strip() == "included in OpenClaw")
    return found


def test_each_channel_plugin_matches_the_pinned_release(openclaw):
    """Discord is an official external plugin in 2026.9.6: its steps install it, like Slack's and
    WhatsApp's (before: only those two did, so a Discord deploy had no Discord channel)."""
    assert SETUP["release"] == m.openclaw()["default_version"] == openclaw.version
    inventory = _inventory(openclaw)
    bundled = {p.name for p in (openclaw.prefix / "node_modules" / "openclaw" / "dist" / "extensions").iterdir()}
    for ch in ALL_CHANNELS:
        package, core = inventory[ch]
        assert core == (ch in bundled), ch
        want = None if core else package
        assert SETUP["channels"][ch].get("plugin", "missing") == want, (ch, want)
        installs = [s["run"] for s in m.channel_steps(ch) if s.get("run", "").startswith("openclaw plugins install")]
        assert installs == ([] if core else [f"openclaw plugins install {package}"]), ch


def test_discord_runbook_installs_its_plugin_first(render):
    runbook = (render(app_name="claw-ch", channels=["discord"]) / "RUNBOOK.md").read_text()
    section = runbook.split("### Discord\n", 1)[1]
    assert section.index("openclaw plugins install @openclaw/discord") < section.index("channels status --channel discord")


def test_unselected_channels_are_not_documented(render):
    runbook = (render(app_name="claw-ch", channels=["telegram"]) / "RUNBOOK.md").read_text()
    assert "pairing approve telegram" in runbook
    assert "channels login --channel whatsapp" not in runbook and "### Slack" not in runbook


@pytest.mark.parametrize("platform", ["kubernetes", "render"])
def test_ngrok_section_on_platforms_other_than_fly(render, platform):
    extra = {"domain": "claw.example.org"} if m.platform_facts(platform).get("needs_domain") else {}
    if platform == "kubernetes":
        extra["image_registry"] = "ghcr.io/acme/claw-ch"
    runbook = (render(app_name="claw-ch", platform=platform, privacy="private", tunnel="ngrok", **extra) / "RUNBOOK.md").read_text()
    section = runbook.split("## Webhooks through ngrok", 1)[1].split("\n## ", 1)[0]
    assert "NGROK_AUTHTOKEN" in section and "url=https://" in section and "/healthz" in section
    logs = m.platform_facts(platform)["exec"]["logs"].format(app="claw-ch")
    assert logs in section


def _command_words(run: str) -> tuple[list[str], list[str]]:
    """`openclaw pairing approve telegram <CODE>` -> (['pairing', 'approve'], ['telegram', '<CODE>'])."""
    words = shlex.split(run)
    assert words[0] == "openclaw"
    path = []
    for w in words[1:]:
        if w.startswith("-") or w.startswith("<") or w.startswith("@") or w in ALL_CHANNELS:
            break
        path.append(w)
    return path, words[1 + len(path):]


RUNS = sorted({s["run"] for c in ALL_CHANNELS for s in m.channel_steps(c) if "run" in s})
PATHS = sorted({" ".join(_command_words(r)[0]) for r in RUNS})


@pytest.mark.parametrize("path", PATHS)
def test_each_command_exists_in_the_pinned_cli(openclaw, tmp_path, path):
    env = openclaw.env(HOME=str(tmp_path), OPENCLAW_STATE_DIR=str(tmp_path / "state"))
    out = openclaw.run(*path.split(), "--help", env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"Usage: openclaw {path} " in out.stdout, out.stdout[:400]
    for run in (r for r in RUNS if " ".join(_command_words(r)[0]) == path):
        positional, words = [], iter(_command_words(run)[1])
        for w in words:
            if w.startswith("--"):
                line = re.search(rf"(?m)^\s+(?:-\w, )?{re.escape(w)}\b(.*)$", out.stdout)
                assert line, (run, w, out.stdout)
                if line.group(1).lstrip().startswith("<"):
                    next(words)  # the flag's value
            else:
                positional.append(w)
        if positional:  # the command takes arguments (channel, code, package spec)
            assert re.search(r"Usage: openclaw [\w ]+ \[options\] [<\[]", out.stdout), (run, out.stdout[:400])
