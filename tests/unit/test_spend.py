"""ops.spend: model spend beside the infrastructure, never a guessed price; the
measured spend read from the real gateway's usage-cost output; ops.remote's exec."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ops import cost, remote, spend
from ops import model as m

RECORDED = Path(__file__).resolve().parents[1] / "data" / "usage_cost_2026.9.6.json"


def test_default_deploy_bill_has_a_priced_model_line_with_source_and_date():
    home, _ = cost.run(cost.parameters(None))
    line = spend.estimate_from(spend.parameters(None))
    assert (line.provider, line.model) == ("anthropic", "claude-sonnet-4-6")
    assert line.source.startswith("https://") and re.fullmatch(r"\d{4}-\d\d-\d\d", line.as_of)
    assert 0 < line.light < line.typical < line.heavy
    bill = spend.bill(home, line)
    data = spend.bill_dict(bill)
    assert data["infrastructure"]["usd"] == home.total
    assert data["model"]["typical"] == line.typical and data["model"]["estimated"] is True
    assert data["total"]["typical"] == pytest.approx(home.total + line.typical)
    text = spend.bill_text(bill)
    assert "model spend (anthropic/claude-sonnet-4-6)" in text and "TOTAL" in text and line.source in text
    assert all(len(row) <= 80 for row in text.splitlines())


def test_typical_spend_is_the_profile_at_the_recorded_price():
    p = spend.model_prices()
    price = p["providers"]["anthropic"]["models"]["claude-sonnet-4-6"]
    u = spend.Usage(messages_per_day=10, input_tokens=10_000, output_tokens=1_000, cached_share=0.5)
    per_msg = (5_000 * price["input"] + 5_000 * price["cache_read"] + 1_000 * price["output"]) / 1e6
    line = spend.estimate_model("anthropic", "claude-sonnet-4-6", u)
    assert line.typical == pytest.approx(round(per_msg * 10 * p["usage"]["days_per_month"], 2))
    assert line.heavy == pytest.approx(round(per_msg * 10 * 30 * p["usage"]["range"]["heavy"], 2))


def test_no_provider_says_not_estimated_never_zero(render):
    repo = render(model_providers=[])
    home, _ = cost.run(cost.parameters(repo))
    bill = spend.bill(home, spend.estimate_from(spend.parameters(repo)))
    data = spend.bill_dict(bill)
    assert data["model"]["estimated"] is False and data["model"]["typical"] is None
    assert data["total"] == {"light": None, "typical": None, "heavy": None}
    text = spend.bill_text(bill)
    assert "not estimated" in text and "model spend" in text
    assert not re.search(r"model spend\s+0\.00", text)


def test_a_model_without_a_recorded_price_gives_no_number():
    line = spend.estimate_model("openrouter", "auto")
    assert line.typical is None and "no recorded price" in line.detail
    assert spend.estimate_model("anthropic", "claude-unknown-9").typical is None
    assert spend.estimate_model("mistral", "large").typical is None


@pytest.mark.parametrize("provider", sorted(m.openclaw()["model_providers"]))
def test_every_provider_has_dated_prices_and_its_default_model_first(provider):
    facts = spend.model_prices()["providers"][provider]
    assert facts["source"].startswith("https://") and re.fullmatch(r"\d{4}-\d\d-\d\d", str(facts["as_of"]))
    assert facts["spend_limit"].strip()
    _, default = spend.primary_model([provider], provider)
    models = list(facts["models"])
    if models:
        assert models[0] == default, f"{provider}: list the default model {default} first"
    else:  # a provider whose default has no single price says why
        assert facts["note"].strip()


def test_primary_provider_picks_the_priced_model():
    assert spend.primary_model(["anthropic", "openai"], "openai") == ("openai", "gpt-5.4")
    assert spend.parameters(None, model="openai/gpt-5.4-mini")["model"] == "gpt-5.4-mini"


def test_measured_spend_from_the_real_usage_cost_output():
    data = json.loads(RECORDED.read_text())
    found = spend.parse_usage_cost(data, 30)
    assert found.total == pytest.approx(0.0623) and found.cache_status == "fresh"
    assert found.days_with_data == 2 and found.span_days == 3
    assert found.projected_month == pytest.approx(round(0.0623 / 3 * 30, 2))
    refreshing = {**data, "cacheStatus": {"status": "refreshing"}}
    assert "may be incomplete" in spend.parse_usage_cost(refreshing, 30).detail
    assert spend.parse_usage_cost({"error": "x"}, 30).error


def test_measure_reads_a_saved_usage_file_and_says_what_is_missing(tmp_path):
    saved = tmp_path / "usage.json"
    saved.write_text(RECORDED.read_text())
    assert spend.measure(None, usage_file=saved).total == pytest.approx(0.0623)
    assert "deploy repo" in spend.measure(None).error
    assert "usage_file" in spend.measure(None, usage_file=tmp_path / "nope.json").error


class _Recorder:
    """Runs nothing: records the argv ``measure`` asks its runner for."""

    def __init__(self):
        self.argvs = []

    def which(self, program):
        return f"/bin/{program}"

    def run(self, argv, timeout=None):
        self.argvs.append(list(argv))
        return type("Rec", (), {"exit_code": 1, "error": "", "stderr": "not run here", "stdout": "",
                                "command": " ".join(argv), "raw_stdout": ""})()


@pytest.mark.parametrize("platform", sorted(m.platforms()))
def test_measure_runs_through_the_one_remote_argv_backups_use(platform, tmp_path, monkeypatch):
    """One argv source: `make cost`'s live mode runs usage-cost through ops.remote (platforms.yml
    `transfer`), as backups do; no terminal flags; a platform that needs a value the answers lack
    (Render's service id) says which and how to measure by hand."""
    facts = m.platform_facts(platform)
    answers = {"platform": platform, "app_name": "claw", "privacy": "private", "region": facts["default_region"],
               "openclaw_version": "2026.9.6", "gateway_port": str(facts["default_port"]),
               "vm_size": facts["default_size"], "vm_memory_mb": "2048", "volume_size_gb": "10"}
    if facts.get("needs_domain"):
        answers["domain"] = "claw.localhost"
    (tmp_path / ".copier-answers.yml").write_text(json.dumps(m.complete(answers)))
    model = m.build(m.answers_from_file(tmp_path / ".copier-answers.yml"))
    monkeypatch.delenv("RENDER_SERVICE_ID", raising=False)
    runner = _Recorder()
    found = spend.measure(tmp_path, runner)
    cmd = spend.usage_command(model.port, 30)
    if not remote.runnable(model):
        assert runner.argvs == [] and "usage_file" in found.error and "RENDER_SERVICE_ID" in found.error
        monkeypatch.setenv("RENDER_SERVICE_ID", "srv-abc")
        found = spend.measure(tmp_path, runner)
    assert runner.argvs == [remote.connect(model).argv(cmd)], runner.argvs
    argv = runner.argvs[0]
    assert argv[0] == facts["transfer"]["run"][0]
    assert not {"-it", "-t", "--pty", "--tty"} & set(argv)
    assert "usage-cost" in " ".join(argv) and "{" not in " ".join(argv)


def test_readme_and_runbook_say_where_each_chosen_provider_caps_spend(render):
    providers = sorted(m.openclaw()["model_providers"])
    repo = render(model_providers=providers)
    for doc in ("README.md", "RUNBOOK.md"):
        text = " ".join((repo / doc).read_text().split())
        for p in providers:
            assert " ".join(spend.model_prices()["providers"][p]["spend_limit"].split()) in text, (doc, p)
        assert "agents.defaults.maxConcurrent" in text and "make cost P='-p mode live'" in text
    none = " ".join((render(model_providers=[]) / "README.md").read_text().split())
    assert "model spend is not estimated" in none and "Console" not in none
