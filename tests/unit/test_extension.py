"""The Jinja glue: choice lists and defaults come from the data files."""

from __future__ import annotations

import yaml
from jinja2 import Environment

from extensions import openclaw as ext
from ops import model as m


def test_region_choices_are_the_platform_regions():
    choices = yaml.safe_load(ext.choices_yaml("region", {"platform": "fly"}))
    assert list(choices.values()) == list(m.platforms()["fly"]["regions"])
    assert "iad - Ashburn, Virginia (US)" in choices


def test_size_choices_show_memory_range():
    choices = yaml.safe_load(ext.choices_yaml("vm_size", {"platform": "fly"}))
    assert choices["shared-cpu-2x (2 vCPU, 1024-4096 MB)"] == "shared-cpu-2x"  # the floor, not the size's 512


def test_defaults_follow_platform():
    assert ext.platform_default("region", {"platform": "fly"}) == "iad"
    assert ext.platform_default("gateway_port", {"platform": "fly"}) == 3000


def test_extension_exposes_validator_and_model():
    env = Environment(extensions=[ext.OpenClawExtension])
    answers = {"app_name": "Bad", "platform": "fly"}
    assert env.from_string("{{ oc_error('app_name') }}").render(**answers).startswith("must be a DNS label")
    assert env.from_string("{{ oc_error('platform') }}").render(**answers) == ""
    good = {"app_name": "ok-1", "platform": "fly", "privacy": "private", "region": "lhr",
            "openclaw_version": "2026.9.6", "gateway_port": 3000, "vm_size": "shared-cpu-1x",
            "vm_memory_mb": 2048, "volume_size_gb": 3, "model_providers": [], "channels": [],
            "binaries": [], "tunnel": "none"}
    assert env.from_string("{{ oc_model().heap_mb }}").render(**good) == "1536"


def test_toml_string_escapes():
    import tomllib

    nasty = 'a"b\\c\nd = 1'
    assert tomllib.loads(f"k = {ext.toml_string(nasty)}")["k"] == nasty
