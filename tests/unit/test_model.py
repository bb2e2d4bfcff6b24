"""The deploy model: validation messages and derived values, without copier."""

from __future__ import annotations

import json

import pytest

from ops import model as m

GOOD = {
    "app_name": "my-claw",
    "platform": "fly",
    "privacy": "public",
    "region": "iad",
    "openclaw_version": "2026.9.6",
    "gateway_port": 3000,
    "vm_size": "shared-cpu-2x",
    "vm_memory_mb": 2048,
    "volume_size_gb": 1,
    "model_providers": ["anthropic"],
    "channels": [],
    "binaries": [],
    "tunnel": "none",
}


def answers(**changes):
    return {**GOOD, **changes}


def test_good_answers_have_no_errors():
    assert m.errors(GOOD) == []


@pytest.mark.parametrize(
    ("field", "value", "allowed_hint"),
    [
        ("app_name", "My_Claw", "lowercase letters"),
        ("app_name", "a", "2-63"),
        ("app_name", "claw-", "not ending with '-'"),
        ("app_name", "1claw", "starting with a letter"),
        ("app_name", "x" * 64, "2-63"),
        ("app_name", 'a"; rm -rf /', "DNS label"),
        ("platform", "heroku", "fly"),
        ("privacy", "secret", "public, private"),
        ("region", "atlantis", "iad"),
        ("openclaw_version", "latest", "never 'latest'"),
        ("openclaw_version", "2026.9.6\nx = 1", "YYYY.M.D"),
        ("gateway_port", 80, "1024 to 65535"),
        ("gateway_port", "http", "1024 to 65535"),
        ("vm_size", "e2-small", "shared-cpu-1x"),
        ("vm_memory_mb", 512, "1024 or more"),
        ("vm_memory_mb", 1100, "steps of 256"),
        ("vm_memory_mb", 8192, "512-4096"),
        ("volume_size_gb", 0, "from 1 to 500"),
        ("model_providers", ["anthropic", "skynet"], "anthropic, openai, google, openrouter"),
        ("channels", ["irc"], "discord, telegram, slack, whatsapp"),
        ("binaries", ["curl"], "gog, goplaces, wacli"),
        ("tunnel", "wireguard", "none, ngrok, tailscale"),
    ],
)
def test_bad_value_names_field_and_allowed(field, value, allowed_hint):
    message = m.validate_field(field, answers(**{field: value}))
    assert message.startswith(f"{field}:"), message
    assert allowed_hint in message


def test_region_of_another_platform_is_named_as_such(monkeypatch):
    plats = {**m.platforms(), "other": {**m.platforms()["fly"], "label": "Other", "regions": {"zz1": "Z"}}}
    monkeypatch.setattr(m, "platforms", lambda: plats)
    message = m.validate_field("region", answers(region="zz1"))
    assert "is a other region" in message and "allowed: ams" in message


def test_memory_refusal_explains_why():
    message = m.validate_field("vm_memory_mb", answers(vm_memory_mb=768))
    assert "810 MB" in message and "refused" in message


def test_build_raises_with_every_message():
    with pytest.raises(m.AnswerError) as info:
        m.build(answers(app_name="X", tunnel="carrier-pigeon"))
    assert [msg.split(":")[0] for msg in info.value.messages] == ["app_name", "tunnel"]


def test_derived_values_come_from_one_place():
    model = m.build(answers(gateway_port=4321, vm_memory_mb=4096))
    assert model.port == 4321
    assert model.gateway_command[model.gateway_command.index("--port") + 1] == "4321"
    assert model.gateway_command[model.gateway_command.index("--bind") + 1] == "lan"
    assert model.heap_mb == 3072 and model.node_options == "--max-old-space-size=3072"
    assert model.heap_mb < model.memory_mb
    assert model.state_dir == model.volume_mount == model.env["OPENCLAW_STATE_DIR"] == "/data"
    assert model.image == "ghcr.io/openclaw/openclaw:2026.9.6"
    assert model.startup_path == "/startupz"


def test_public_origin_only_when_public():
    assert m.build(GOOD).allowed_origins == ("https://my-claw.fly.dev",)
    assert m.build(answers(privacy="private")).allowed_origins == ()


def test_secret_names_follow_selections():
    model = m.build(answers(privacy="private", model_providers=["openai", "google"], channels=["slack", "whatsapp"],
                            tunnel="ngrok"))
    assert model.secret_names == (
        "OPENCLAW_GATEWAY_TOKEN", "OPENAI_API_KEY", "GEMINI_API_KEY",
        "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "NGROK_AUTHTOKEN",
    )
    assert model.optional_env == ("NGROK_URL",)
    assert m.build(GOOD).secret_names == ("OPENCLAW_GATEWAY_TOKEN", "ANTHROPIC_API_KEY")


def test_multiselect_accepts_yaml_text():
    model = m.build(answers(binaries="[wacli, gog]", channels="discord"))
    assert [b.name for b in model.binaries] == ["gog", "wacli"]
    assert model.channels == ("discord",)


def test_warnings():
    assert m.warnings(m.build(GOOD)) == []
    low = m.warnings(m.build(answers(vm_memory_mb=1024)))
    assert len(low) == 1 and "vm_memory_mb=1024" in low[0]
    private = m.warnings(m.build(answers(privacy="private", channels=["telegram", "discord"])))
    assert len(private) == 1 and "channels=telegram" in private[0] and "tunnel=ngrok" in private[0]
    assert m.warnings(m.build(answers(privacy="private", channels=["telegram"], tunnel="ngrok"))) == []


def test_starter_config_references_secrets_by_name_only():
    model = m.build(answers(model_providers=["anthropic", "openrouter"], channels=["discord", "slack"]))
    config = m.starter_config(model)
    gateway = config["gateway"]
    assert gateway["mode"] == "local" and gateway["bind"] == "lan" and gateway["port"] == 3000
    assert gateway["auth"] == {"mode": "token", "token": {"source": "env", "provider": "default",
                                                          "id": "OPENCLAW_GATEWAY_TOKEN"}}
    assert gateway["controlUi"]["allowedOrigins"] == ["https://my-claw.fly.dev"]
    assert set(config["auth"]["profiles"]) == {"anthropic:default", "openrouter:default"}
    assert config["agents"]["defaults"]["model"]["fallbacks"] == ["openrouter/auto"]
    assert config["channels"]["slack"]["appToken"]["id"] == "SLACK_APP_TOKEN"
    assert config["channels"]["slack"]["mode"] == "socket"
    # every leaf string under channels is a reference or a mode word, never a value
    refs = [v for ch in config["channels"].values() for v in ch.values() if isinstance(v, dict)]
    assert all(r["source"] == "env" for r in refs) and len(refs) == 3
    assert "private" not in json.dumps(config)


def test_data_files_load_once():
    m.load.cache_clear()
    m.platforms(), m.platforms(), m.openclaw()
    assert m.load.cache_info().misses == 2


def test_answers_file_drops_private_keys(tmp_path):
    path = tmp_path / ".copier-answers.yml"
    path.write_text("_commit: v1\n_src_path: x\napp_name: a1\n")
    assert m.answers_from_file(path) == {"app_name": "a1"}
