"""ops.cost: prices from data/prices.yml, line items, unknowns stay unknown."""

from __future__ import annotations

import json
import re

import pytest

from ops import cost
from ops import model as m


def test_fly_default_is_inside_the_upstream_band():
    # upstream guide: shared-cpu-2x, 2 GB, 1 GB volume "roughly $10-15/month"
    est = cost.estimate("fly", vm_size="shared-cpu-2x", memory_mb=2048, volume_gb=1, region="iad")
    assert est.total == pytest.approx(11.54)
    assert 10 <= est.total <= 15
    assert {i.name: i.amount for i in est.items} == {"machine": 11.39, "volume": 0.15, "egress": 0.0}
    assert est.warnings == []


@pytest.mark.parametrize("platform", sorted(m.platforms()))
def test_every_offered_platform_has_prices(platform):
    """A platform the form offers must have a prices.yml entry (none skipped)."""
    assert platform in cost.prices(), f"add {platform} to template/ops/data/prices.yml"
    facts = m.platforms()[platform]
    est = cost.estimate(platform, vm_size=facts["default_size"], memory_mb=2048,
                        region=facts["default_region"], volume_gb=1)
    assert est.items and est.label == cost.prices()[platform]["label"]


def _rows(data):
    for key, value in data.items():
        if isinstance(value, dict):
            yield key, value
            yield from _rows(value)


def test_every_price_has_a_source_and_date():
    for platform, p in cost.prices().items():
        assert re.match(r"https://", p["source"]), platform
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", str(p["as_of"])), platform
    free = cost.prices()["gcp"]["free_tier"]
    assert free["source"].startswith("https://") and free["as_of"]


def test_numbers_match_the_recorded_prices():
    p = cost.prices()
    assert p["fly"]["sizes"]["shared-cpu-1x"]["prices"][256] == 1.94
    assert p["fly"]["sizes"]["performance-1x"]["prices"][8192] == 61.02
    assert p["fly"]["month_hours"] == 720 and p["gcp"]["month_hours"] == 730
    # Northflank's named plans are its hourly rates over 720 h
    for name, plan in p["northflank"]["plans"].items():
        rates = (plan["vcpu"] * p["northflank"]["vcpu_hour"] + plan["memory_mb"] / 1024 * p["northflank"]["gb_hour"]) * 720
        assert rates == pytest.approx(plan["price"], abs=0.01), name


def test_unknown_prices_stay_unknown():
    gone = cost.estimate("gcp", vm_size="e2-small", memory_mb=2048, region="asia-east1-a")  # not offered
    machine = next(i for i in gone.items if i.name == "machine")
    assert machine.amount is None and gone.total is None
    assert gone.known_total > 0 and "machine" in gone.unknown
    assert "unknown" in cost.total_text(gone)
    assert cost.estimate("fly", vm_size="shared-cpu-1x", memory_mb=4096).total is None  # beyond its rows
    assert cost.estimate("render", vm_size="standard", memory_mb=2048, egress_gb=10).total is None


def test_a_price_not_recorded_is_a_range_with_its_reason():
    hetzner = cost.estimate("vps", vm_size="hetzner-cx23", memory_mb=4096, volume_gb=0)
    plan = hetzner.items[0]
    assert (plan.amount, plan.high) == (round(3.79 * 1.1133, 2), round(4.11 * 1.1133, 2))
    assert "EUR" in plan.detail and "bills in EUR" in plan.reason
    assert cost.total_text(hetzner) == "4.22-4.58"
    eight = cost.estimate("fly", vm_size="shared-cpu-8x", memory_mb=4096, volume_gb=0)
    machine = eight.items[0]
    assert machine.amount < 8 * 0.69 + 4 * 5.00 < machine.high and "no published row" in machine.reason
    disk = next(i for i in cost.estimate("render", vm_size="standard", memory_mb=2048, volume_gb=10).items
                if i.name == "volume")
    assert (disk.amount, disk.high) == (1.00, 3.00) and "not found" in disk.reason
    assert "; range: " in cost.items_text(hetzner)


def test_gcp_prices_every_offered_region_from_one_rate_per_region():
    """e2 types are fixed multiples of e2-small in every region (Cyclenerd's table:
    e2-micro 6.11 / e2-medium 24.46 in us-central1, e2-standard-16 504.20 in europe-west2)."""
    def machine(size, region):
        est = cost.estimate("gcp", vm_size=size, region=region, public=False, volume_gb=0)
        return next(i.amount for i in est.items if i.name == "machine")

    assert machine("e2-small", "europe-west2-a") == 15.76
    assert machine("e2-medium", "us-central1-a") == 24.46
    assert machine("e2-micro", "asia-northeast1-a") == pytest.approx(15.69 / 2, abs=0.01)
    assert machine("e2-standard-4", "europe-west2-a") * 4 == pytest.approx(504.20, abs=0.2)


def test_gcp_zone_free_tier_and_ipv4():
    micro = cost.estimate("gcp", vm_size="e2-micro", memory_mb=1024, region="us-central1-a", volume_gb=20)
    assert micro.total == pytest.approx(3.65)  # free machine and disk, paid IPv4
    assert any("free tier" in w and "OOM" in w for w in micro.warnings)
    private = cost.estimate("gcp", vm_size="e2-small", memory_mb=2048, region="europe-west1-b",
                            volume_gb=10, public=False)
    assert private.total == pytest.approx(13.45 + 1.00)


def test_railway_bills_the_plan_minimum_or_usage():
    small = cost.estimate("railway", vcpu=0.1, memory_mb=256, volume_gb=0)
    assert small.total == pytest.approx(5.00)
    big = cost.estimate("railway", vcpu=1, memory_mb=2048, volume_gb=1, egress_gb=10)
    assert big.total == pytest.approx(20 + 20 + 0.15 + 0.50)


def test_warnings_memory_free_plans_and_kubernetes():
    assert any("below the recommended 2048" in w for w in cost.estimate("fly", vm_size="shared-cpu-1x", memory_mb=1024).warnings)
    free = cost.estimate("render", vm_size="free", memory_mb=512, volume_gb=1)
    assert any("cannot carry a disk" in w for w in free.warnings)
    assert any("OOM" in w for w in free.warnings)
    assert any("cluster cost not included" in w for w in cost.estimate("kubernetes", vcpu=1, memory_mb=2048).warnings)


def test_hours_and_region_ranges():
    half = cost.estimate("fly", vm_size="shared-cpu-2x", memory_mb=2048, volume_gb=1, hours=360)
    assert half.total == pytest.approx(11.39 / 2 + 0.15, abs=0.01)
    syd = cost.estimate("fly", vm_size="shared-cpu-2x", memory_mb=2048, volume_gb=1, region="syd", egress_gb=10)
    assert syd.total == pytest.approx(11.39 + 0.15 + 0.40)
    assert syd.total_high == pytest.approx(round(11.39 * 1.2, 2) + 0.15 + 0.40)
    bom = cost.estimate("fly", vm_size="shared-cpu-2x", memory_mb=2048, volume_gb=0, region="bom", egress_gb=10)
    assert next(i for i in bom.items if i.name == "egress").amount == pytest.approx(1.20)
    # a flat monthly plan has no recorded partial-month price
    assert cost.estimate("vps", memory_mb=2048, hours=100).total is None


def test_fly_interpolates_only_between_published_rows():
    mid = cost.estimate("fly", vm_size="shared-cpu-2x", memory_mb=3072, volume_gb=0)
    assert 11.39 < mid.total < 21.40 and "interpolated" in mid.items[0].detail
    assert cost.estimate("fly", vm_size="shared-cpu-1x", memory_mb=4096).total is None


def test_parameters_from_answers_and_comparison(tmp_path):
    (tmp_path / ".copier-answers.yml").write_text(
        "_commit: v1\napp_name: x\nplatform: fly\nprivacy: private\nregion: ams\nvm_size: shared-cpu-4x\n"
        "vm_memory_mb: 4096\nvolume_size_gb: 3\n")
    params = cost.parameters(tmp_path)
    assert params | {} == params and params["platform"] == "fly" and params["vm_size"] == "shared-cpu-4x"
    assert (params["memory_mb"], params["volume_gb"], params["region"], params["public"]) == (4096, 3.0, "ams", False)
    home, rows = cost.run(params)
    assert home.total == pytest.approx(22.78 + 0.45)
    assert [e.platform for e in rows] == list(cost.prices())
    assert rows[list(cost.prices()).index("fly")] is home
    other = cost.parameters(tmp_path, platform="railway")
    assert other["vm_size"] != "shared-cpu-4x" and other["region"] != "ams"
    out = cost.write_outputs(params, home, rows, tmp_path / "reports")
    data = json.loads(out.read_text())
    assert data["estimate"]["total"] == home.total and len(data["comparison"]) == len(rows)
    png = cost.plot(rows, tmp_path / "reports" / "c.png", home="fly")
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_a_shared_warning_is_said_once():
    """Below 2048 MB every platform carries the memory warning: the comparison says
    it once ("every platform"), and not at all when the deploy's own section did."""
    home, rows = cost.run(cost.parameters(None, memory_mb=1024))
    small = [e.label for e in rows if e.memory_mb < 2048]  # Render and a VPS fit 1024 MB into bigger plans
    memory = [w for e in rows for w in e.warnings if "below the recommended 2048 MB" in w]
    assert len(memory) == len(small) >= 5  # the data still carries it per platform (cost.json)
    lines = cost.distinct_warnings(rows)
    said = [line for line in lines if "below the recommended 2048 MB" in line]
    assert said == [f"{', '.join(small)}: 1024 MB is below the recommended 2048 MB; an idle gateway uses ~810 MB "
                    "and is killed for running out of memory (OOM) under load"]
    lines = cost.distinct_warnings([e for e in rows if e.label in small])
    assert [line for line in lines if "below the recommended" in line][0].startswith("every platform: ")
    assert not [line for line in cost.distinct_warnings(rows, home) if "below the recommended" in line]
    # a warning only one platform has keeps its name
    assert any(line.startswith("Kubernetes: cluster cost not included") for line in lines)
    assert len(lines) == len(set(lines))


def test_unknown_price_is_a_labelled_gap_not_a_zero_bar():
    rows = [cost.estimate("render", vm_size="standard", memory_mb=2048, egress_gb=10),
            cost.estimate("fly", vm_size="shared-cpu-2x", memory_mb=2048)]
    text = cost.bar_text(rows[0])
    assert text.startswith("no recorded price for egress") and "not guessed" in text
    assert ">=" not in text and "0.00" not in text
    assert "no recorded price for egress" in cost.total_text(rows[0])
    assert "Render standard: no recorded price for egress" in cost.chart_alt(rows, home="fly")
    assert "Fly.io shared-cpu-2x (this deploy): 11.54" in cost.chart_alt(rows, home="fly")


def test_railway_is_a_usage_range_from_the_hobby_minimum():
    est = cost.estimate("railway", vcpu=1, memory_mb=2048, volume_gb=1)
    assert est.floor == 5.00 and est.total == pytest.approx(40.15)
    assert cost.total_text(est) == "5.00-40.15 (usage-based)"
    text = cost.bar_text(est)
    assert text.startswith("5.00 Hobby minimum to 40.15 at full use")
    assert "Railway Hobby (usage-based): 5.00 Hobby minimum to 40.15 at full use" in cost.chart_alt([est])
    assert "brief" not in text and "claim" not in cost.prices()["railway"]  # no internal wording
    # a flat price has no range
    assert cost.estimate("fly", vm_size="shared-cpu-2x", memory_mb=2048).floor is None


def test_chart_has_a_legend_and_alt_text_in_the_html(tmp_path):
    home, rows = cost.run(cost.parameters(None, region="syd", egress_gb=1))
    labels = cost.legend_labels(rows)
    assert labels[:2] == ["this deploy", "same sizing elsewhere"]
    assert {"usage-based: minimum (solid) to full use", "range (region, or a price not recorded)",
            "price not recorded"} <= set(labels)
    png = cost.plot(rows, tmp_path / "c.png", home=home.platform)
    alt = cost.chart_alt(rows, home.platform)
    bundle = cost.chart_bundle(png, alt)
    assert bundle["text/html"].startswith('<img src="data:image/png;base64,iVBOR')
    assert 'alt="Bar chart of the monthly cost in USD' in bundle["text/html"] and bundle["text/plain"] == alt
    # nbconvert's lab template: an <img> with alt needs no "missing alt text" warning
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[
        nbformat.v4.new_output("display_data", data=bundle)])])
    html, _ = HTMLExporter().from_notebook_node(nb)
    assert "No description has been provided for this image" not in html and alt[:40] in html


def test_estimate_line_and_items_fit_a_terminal():
    fly = cost.estimate("fly", vm_size="shared-cpu-2x", memory_mb=2048, volume_gb=1)
    assert cost.estimate_line(fly) == "Monthly estimate: 11.54 USD"
    text = cost.items_text(fly)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert text.count("https://fly.io/docs/about/pricing/") == 1 and "(read 2026-08-05)" in text
    railway = cost.estimate("railway", vcpu=1, memory_mb=2048, volume_gb=1)
    line = cost.estimate_line(railway)
    assert line.startswith("Monthly estimate: 5.00-40.15 USD, usage-based: the Hobby minimum of 5.00")
    assert line.endswith("if the full size runs all month") and "brief" not in line


def test_parameters_derive_what_copier_did_not_ask(tmp_path):
    """gcp records no vm_memory_mb (the machine type fixes it); Railway no volume size."""
    (tmp_path / ".copier-answers.yml").write_text(
        "app_name: x\nplatform: gcp\nprivacy: private\nregion: us-central1-a\nvm_size: e2-micro\n"
        "volume_size_gb: 20\n")
    assert cost.parameters(tmp_path)["memory_mb"] == 1024
    (tmp_path / ".copier-answers.yml").write_text(
        "app_name: x\nplatform: railway\nprivacy: private\nregion: us-west2\nvm_size: hobby\nvm_memory_mb: 2048\n")
    params = cost.parameters(tmp_path)
    volume = next(i for i in cost.run(params)[0].items if i.name == "volume")
    assert params["volume_gb"] == 5 and "billed on GB stored" in volume.detail


def _offered():
    """(platform, size, region, memory MB) for every combination the form accepts."""
    floor = m.openclaw()["memory"]["refuse_below_mb"]
    for platform, facts in m.platforms().items():
        for size in facts["sizes"]:
            if m.validate_field("vm_size", {"platform": platform, "vm_size": size}):
                continue  # refused (Render free, ...)
            low, high = m.memory_range(platform, size)
            for memory in range(max(low, floor), high + 1, 256):
                for region in facts["regions"]:
                    yield platform, size, region, memory


def test_every_offered_size_region_and_memory_has_a_number_or_a_reasoned_range():
    """`make cost` gave `unknown` for Render's default plan, e2-small in europe-west2 and
    the VPS comparison at 4096 MB: now every combination the form accepts is priced,
    and what is not a recorded price is a range with its reason."""
    seen = 0
    for platform, size, region, memory in _offered():
        params = cost.parameters(None, platform=platform, vm_size=size, memory_mb=memory, region=region)
        home, rows = cost.run(params)
        for est in [home]:  # the comparison: the next test
            where = (platform, size, region, memory, est.platform)
            assert est.total is not None and est.total_high is not None, (where, cost.total_text(est))
            for item in est.items:
                assert item.amount is not None, (where, item)
                if item.high is not None and item.high != item.amount:
                    assert item.reason and item.amount < item.high, (where, item)
                assert item.source.startswith("https://") and re.fullmatch(r"\d{4}-\d\d-\d\d", item.as_of), where
        seen += 1
    assert seen > 1000


def _holds(platform: str, memory: int) -> bool:
    """Some size of ``platform`` has at least ``memory`` MB."""
    return any(m.memory_range(platform, size)[1] >= memory for size in m.platforms()[platform]["sizes"])


@pytest.mark.parametrize("memory", range(1024, 32768 + 1, 256))
def test_the_comparison_prices_every_platform_that_has_the_memory(memory):
    """The VPS row showed `hetzner-cx22 ... unknown` at 4096 MB. A platform with a size
    that holds the memory is priced; one without says so."""
    home, rows = cost.run(cost.parameters(None, platform="railway", vm_size="pro", memory_mb=memory))
    for est in rows:
        if _holds(est.platform, memory) or est.platform in ("railway", "northflank", "kubernetes"):
            assert est.total is not None, (memory, est.platform, cost.total_text(est))
        else:
            assert f"{memory} MB" in cost.total_text(est), (memory, est.platform, cost.total_text(est))
