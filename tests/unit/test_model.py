"""The deploy model: validation messages and derived values, without copier."""

from __future__ import annotations

import json
import re

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


COPIER_PREFIX = "Validation error for question '{}': "  # copier 9.19.1 _user_data.py


def answers(**changes):
    return {**GOOD, **changes}


def test_good_answers_have_no_errors():
    assert m.errors(GOOD) == []


@pytest.mark.parametrize(
    ("field", "value", "allowed_hint"),
    [
        ("app_name", "My_Claw", "a-z, 0-9 and '-'"),
        ("app_name", "a", "2-63"),
        ("app_name", "claw-", "not ending with '-'"),
        ("app_name", "1claw", "starting with a letter"),
        ("app_name", "x" * 64, "2-63"),
        ("app_name", 'a"; rm -rf /', "DNS label"),
        ("platform", "heroku", "fly"),
        ("privacy", "secret", "public or private"),
        ("region", "atlantis", "iad"),
        ("openclaw_version", "latest", "never 'latest'"),
        ("openclaw_version", "2026.9.6\nx = 1", "YYYY.M.D"),
        ("gateway_port", 80, "1024-65535"),
        ("gateway_port", 70000, "1024-65535"),
        ("gateway_port", "http", "1024-65535"),
        ("vm_size", "e2-small", "shared-cpu-1x"),
        ("vm_memory_mb", 512, "the floor is 1024 MB"),
        ("vm_memory_mb", 1100, "steps of 256"),
        ("vm_memory_mb", 8192, "1024-4096"),
        ("volume_size_gb", 0, "from 1 to 500"),
        ("model_providers", ["anthropic", "skynet"], "anthropic, openai, google, openrouter"),
        ("channels", ["irc"], "discord, telegram, slack, whatsapp"),
        ("binaries", ["curl"], "gog, goplaces, wacli"),
        ("tunnel", "wireguard", "none, ngrok, tailscale"),
    ],
)
def test_bad_value_names_field_and_allowed(field, value, allowed_hint):
    # the tunnel question is asked on private deploys only
    bad = answers(**{field: value}, **({"privacy": "private"} if field == "tunnel" else {}))
    message = m.validate_field(field, bad)
    first = message.splitlines()[0]
    # copier prefixes "Validation error for question '<field>': ": the message
    # itself leads with the reason and does not say the field name again ...
    assert f"{field}:" not in first and not first.startswith(field) and len(first) <= 70, message
    assert len(COPIER_PREFIX.format(field) + first) <= 80, first
    assert allowed_hint in message
    # ... and outside copier (make verify, build) the field is named.
    assert f"{field}: {message}" in m.errors(bad)


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
        m.build(answers(app_name="X", privacy="private", tunnel="carrier-pigeon"))
    assert [msg.split(":")[0] for msg in info.value.messages] == ["app_name", "tunnel"]
    assert [msg.split(": ", 1)[1].splitlines()[0] for msg in info.value.messages] == [
        "must be a DNS label: a-z, 0-9 and '-'", "not a known tunnel"]


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
    assert len(private) == 1 and "channels=telegram" in private[0] and "keep the starter config" in private[0]
    assert "tunnel=ngrok" not in private[0]  # its webhook port is not what a tunnel forwards
    assert m.warnings(m.build(answers(privacy="private", channels=["slack"], tunnel="ngrok"))) == []
    # Telegram's webhook listens on its own port: ngrok would forward nothing but /healthz
    idle = m.warnings(m.build(answers(privacy="private", channels=["telegram"], tunnel="ngrok")))
    assert len(idle) == 1 and idle[0].startswith("tunnel=ngrok forwards only") and "NGROK_AUTHTOKEN" in idle[0]
    assert "(slack, HTTP mode)" in idle[0] and "no channel is chosen" in m.warnings(
        m.build(answers(privacy="private", tunnel="ngrok")))[0]


def test_answers_that_would_be_dropped_are_refused_or_warned():
    """-d answers for questions these answers never ask were dropped silently (issue 19, 6 and 14)."""
    assert m.ignored(answers(privacy="public", tunnel="ngrok")) == [
        "tunnel=ngrok is ignored: a public deploy already has an HTTPS URL and takes no tunnel (it would be "
        "a second way in around the platform's proxy); use it with privacy=private."]
    assert m.ignored(answers(privacy="public", tunnel="none")) == []
    assert m.ignored(answers(privacy="private", tunnel="ngrok")) == []
    empty = m.validate_field("primary_model_provider", answers(model_providers=[], primary_model_provider="openai"))
    assert empty.splitlines()[0] == "no provider is chosen"
    one = m.validate_field("primary_model_provider", answers(model_providers=["anthropic"],
                                                              primary_model_provider="openai"))
    assert "model_providers has: anthropic; got 'openai'" in one
    assert m.validate_field("primary_model_provider", answers(model_providers=["anthropic"],
                                                               primary_model_provider="anthropic")) == ""


def test_hints_match_the_checks():
    """What the form says a size takes is what the memory check accepts (issue 19, 10)."""
    floor = m.openclaw()["memory"]["refuse_below_mb"]
    for platform, facts in m.platforms().items():
        for size in facts["sizes"]:
            low, high = m.usable_memory_range(platform, size)
            if high < floor or not m.asked("vm_memory_mb", {"platform": platform, "vm_size": size}):
                continue
            fits = answers(platform=platform, vm_size=size, region=facts["default_region"],
                           gateway_port=facts["default_port"])
            assert m.validate_field("vm_memory_mb", {**fits, "vm_memory_mb": low}) == "", (platform, size, low)
            assert m.validate_field("vm_memory_mb", {**fits, "vm_memory_mb": high}) == ""
            assert m.validate_field("vm_memory_mb", {**fits, "vm_memory_mb": low - 256}) != ""
            help_text = m.memory_help(platform, size)
            assert f"{low}-{high}" in help_text.splitlines()[0]
            if "accepted with a warning" in help_text:
                warned = int(re.search(r"(\d+)-\d+ accepted with a warning", help_text).group(1))
                assert m.validate_field("vm_memory_mb", {**fits, "vm_memory_mb": warned}) == ""
    # Kubernetes medium starts at 2048: its help never offers 1024 (which its check refuses)
    assert "1024" not in m.memory_help("kubernetes", "medium")
    assert "(2 vCPU, 1024-4096 MB)" in __import__("extensions.openclaw", fromlist=["x"]).choices_yaml(
        "vm_size", {"platform": "fly"})


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


# ------------------------------------------- questions that decide nothing --


def test_questions_that_decide_nothing_are_not_asked():
    gcp = answers(platform="gcp", region="us-central1-a", vm_size="e2-micro", volume_size_gb=20)
    assert not m.asked("vm_memory_mb", gcp)          # e2 machine types fix memory
    assert m.asked("vm_memory_mb", GOOD)              # Fly sizes take a range
    assert not m.asked("region", answers(platform="kubernetes"))
    assert not m.asked("region", answers(platform="vps"))
    assert m.asked("region", GOOD)
    assert not m.asked("volume_size_gb", answers(platform="railway"))  # `railway volume add` takes no size
    assert m.asked("volume_size_gb", GOOD)


def test_unasked_values_are_derived_not_taken():
    # `copier update -d vm_memory_mb=2048` on e2-micro: nobody validated it; the model uses the machine's.
    model = m.build(answers(platform="gcp", region="us-central1-a", vm_size="e2-micro", vm_memory_mb=2048,
                            volume_size_gb=20, domain="claw.example.org"))
    assert model.memory_mb == 1024
    # an answers file without the unasked keys (copier records none for them)
    k8s = {k: v for k, v in answers(platform="kubernetes", vm_size="medium", volume_size_gb=10,
                                    domain="claw.example.org").items() if k != "region"}
    assert m.build(k8s).region == "cluster"


def test_primary_model_provider_decides_the_default_model():
    config = m.starter_config(m.build(answers(model_providers=["anthropic", "openai", "google"],
                                              primary_model_provider="openai")))
    assert config["agents"]["defaults"]["model"] == {
        "primary": "openai/gpt-5.4", "fallbacks": ["anthropic/claude-sonnet-4-6", "google/gemini-2.5-pro"]}
    # asked only when more than one is chosen; answers files without it keep the first
    assert not m.asked("primary_model_provider", answers(model_providers=["openai"]))
    assert m.asked("primary_model_provider", answers(model_providers=["openai", "google"]))
    old = {k: v for k, v in answers(model_providers=["google", "openai"]).items()}
    assert m.starter_config(m.build(old))["agents"]["defaults"]["model"]["primary"] == "google/gemini-2.5-pro"
    # only a chosen provider
    bad = answers(model_providers=["anthropic", "openai"], primary_model_provider="google")
    assert m.validate_field("primary_model_provider", bad).startswith("pick a chosen provider")


def test_no_model_provider_warns_after_copy():
    model = m.build(answers(model_providers=[]))
    # no default model is set; only the guardrails on runaway use
    assert "model" not in m.starter_config(model)["agents"]["defaults"]
    assert m.starter_config(model)["agents"]["defaults"]["maxConcurrent"] == m.openclaw()["guardrails"]["maxConcurrent"]
    (warning,) = m.warnings(model)
    assert warning.startswith("model_providers is empty") and "openclaw models auth login" in warning


@pytest.mark.parametrize(("field", "value"), [
    ("app_name", "My Claw"), ("privacy", "semi"), ("gateway_port", "abc"), ("gateway_port", 80),
    ("vm_memory_mb", 512), ("vm_memory_mb", 1100), ("volume_size_gb", 0), ("openclaw_version", "latest"),
])
def test_a_refusal_says_its_reason_once(field, value):
    """new.sh and make update print "reason; details" on one line: the details add, never repeat."""
    reason, details = m.validate_field(field, answers(**{field: value})).split("\n")
    for number in re.findall(r"\d+", reason):
        assert number not in re.findall(r"\d+", details), (reason, details)
    for words in ("lowercase letters", "allowed: public", "a port from", "is refused", "takes"):
        assert words not in details, (reason, details)


@pytest.mark.parametrize("platform", list(m.platforms()))
def test_no_deploy_moves_node_compile_cache_onto_the_volume(platform):
    """Node's compile cache is filled into the image at build time (the Dockerfile's ENV). One on the
    volume beside the state dir was measured against the release default and showed no gain to
    /startupz (CHANGELOG 0.2.0, bench/containers.py --warm-cache volume), so no deploy's env sets
    NODE_COMPILE_CACHE (it would also override the image's)."""
    facts = m.platforms()[platform]
    model = m.build(answers(platform=platform, privacy="private", region=facts["default_region"],
                            vm_size=facts["default_size"], gateway_port=facts["default_port"],
                            vm_memory_mb=4096, volume_size_gb=10, domain="claw.example.org"))
    assert "NODE_COMPILE_CACHE" not in model.env, (platform, model.env)


def test_every_validated_question_has_one_named_validator():
    """model.VALIDATORS: one small function per question copier.yml validates (no if-chain)."""
    from pathlib import Path

    copier = (Path(m.__file__).resolve().parents[2] / "copier.yml").read_text()
    asked = set(re.findall(r"oc_error\('(\w+)'\)", copier))
    assert asked == set(m.VALIDATORS), asked ^ set(m.VALIDATORS)
    assert all(check.__name__ == f"_check_{name}" for name, check in m.VALIDATORS.items())
    with pytest.raises(KeyError, match="unknown field"):
        m.validate_field("colour", GOOD)


@pytest.mark.parametrize(("channel", "suggests_tunnel"), [("telegram", False), ("slack", True)])
def test_private_webhook_advice_names_a_tunnel_only_where_one_reaches_the_webhook(channel, suggests_tunnel):
    """Telegram's webhook listens on a port of its own (127.0.0.1:8787), which neither a tunnel nor
    the platform forwards: the advice once sent Telegram users to tunnel=ngrok, which cannot help."""
    model = m.build(m.complete(answers(privacy="private", channels=[channel])))
    advice = [w for w in m.warnings(model) if w.startswith(f"channels={channel}")]
    assert len(advice) == 1
    assert ("tunnel=ngrok" in advice[0]) is suggests_tunnel, advice[0]
