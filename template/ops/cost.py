"""Monthly cost of a deploy, from data/prices.yml (each price with its source).

Pure: no network, no notebook. ``estimate`` prices one platform with line
items; ``compare`` prices the same sizing everywhere; ``write_outputs`` saves
``cost.json`` and the bar chart. A price that was never written down stays
``None`` and every total that needs it is ``None`` too (``known_total`` says
how much is known): an estimate never guesses. Where prices.yml gives a range
and a ``reason`` instead of a price, the item carries both (low to high).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import model as m
from . import platforms
from . import terminal

RECOMMENDED_MB = 2048


def prices() -> dict[str, Any]:
    return m.load("prices")


@dataclass
class Item:
    name: str
    amount: float | None  # None: unknown (no recorded price)
    detail: str
    source: str = ""
    as_of: str = ""
    high: float | None = None  # upper bound when only a range is known
    reason: str = ""  # why this is a range and not a recorded price

    @property
    def upper(self) -> float | None:
        return self.high if self.high is not None else self.amount


@dataclass
class Sizing:
    """What one estimate is asked for; a platform's ``cost`` reads it (ops/platforms/<kind>.py)."""
    vm_size: str | None
    memory_mb: int
    vcpu: float  # charged vCPU (1 when not asked for)
    volume_gb: float
    egress_gb: float
    public: bool


@dataclass
class Estimate:
    platform: str
    label: str
    sku: str | None
    vcpu: float | None
    memory_mb: int | None
    region: str | None
    hours: float
    items: list[Item] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    note: str = ""
    # usage-based billing: the least the month can cost (a plan minimum); the
    # total is then the ceiling (the full size used all month)
    floor: float | None = None

    @property
    def known_total(self) -> float:
        return round(sum(i.amount for i in self.items if i.amount is not None), 2)

    @property
    def total(self) -> float | None:
        if any(i.amount is None for i in self.items):
            return None
        return round(sum(i.amount for i in self.items), 2)

    @property
    def total_high(self) -> float | None:
        if any(i.upper is None for i in self.items):
            return None
        return round(sum(i.upper for i in self.items), 2)

    @property
    def unknown(self) -> list[str]:
        return [i.name for i in self.items if i.amount is None]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(total=self.total, total_high=self.total_high, known_total=self.known_total,
                   unknown=self.unknown)
        return out


def money(value: float | None, high: float | None = None) -> str:
    if value is None:
        return "unknown"
    if high is not None and round(high, 2) != round(value, 2):
        return f"{value:.2f}-{high:.2f}"
    return f"{value:.2f}"


def no_size(est: Estimate) -> str:
    """Why the platform has no row for this sizing ("" when it has one)."""
    first = est.items[0] if est.items else None
    return first.detail if est.sku is None and first is not None and first.amount is None else ""


def total_text(est: Estimate) -> str:
    if no_size(est):
        return f"none ({no_size(est)})"
    if est.total is None:
        known = f"known part {est.known_total:.2f}; " if est.known_total else ""
        return f"unknown ({known}no recorded price for {', '.join(est.unknown)})"
    if est.floor is not None and est.floor < est.total:
        return f"{est.floor:.2f}-{money(est.total, est.total_high)} (usage-based)"
    return money(est.total, est.total_high)


# ------------------------------------------------------------------ helpers --


def fraction(hours: float, month_hours: float) -> float:
    return min(hours, month_hours) / month_hours


def egress_item(p: dict[str, Any], gb: float, rate: float | None, where: str = "") -> Item:
    if not gb:
        return Item("egress", 0.0, "0 GB", p["source"], p["as_of"])
    if rate is None:
        return Item("egress", None, f"{gb:g} GB: no recorded egress price{where}", p["source"], p["as_of"])
    return Item("egress", round(gb * rate, 2), f"{gb:g} GB x {rate}/GB{where}", p["source"], p["as_of"])


def volume_item(p: dict[str, Any], gb: float, rate: float | None, label: str = "volume",
            ranged: dict[str, Any] | None = None) -> Item:
    if not gb:
        return Item(label, 0.0, "no volume", p["source"], p["as_of"])
    if rate is None and ranged:
        low, high = ranged["gb_month"]
        return Item(label, round(gb * low, 2), f"{gb:g} GB x {low}-{high}/GB-month", p["source"], p["as_of"],
                    round(gb * high, 2), " ".join(ranged["reason"].split()))
    if rate is None:
        return Item(label, None, f"{gb:g} GB: no recorded disk price", p["source"], p["as_of"])
    return Item(label, round(gb * rate, 2), f"{gb:g} GB x {rate}/GB-month", p["source"], p["as_of"])


def interpolate_price(table: dict[int, float], memory_mb: int) -> tuple[float | None, str]:
    """Price for ``memory_mb`` from a size's published rows (exact or between two)."""
    rows = sorted((int(k), float(v)) for k, v in table.items())
    for mem, price in rows:
        if mem == memory_mb:
            return price, "published row"
    below = [r for r in rows if r[0] < memory_mb]
    above = [r for r in rows if r[0] > memory_mb]
    if below and above:
        (m0, p0), (m1, p1) = below[-1], above[0]
        price = p0 + (p1 - p0) * (memory_mb - m0) / (m1 - m0)
        return round(price, 2), f"interpolated between the {m0} and {m1} MB rows"
    return None, f"no published price for {memory_mb} MB (rows: {', '.join(str(r[0]) for r in rows)})"


def cheapest_fit(sizes: dict[str, Any], memory_mb: int, price_of) -> str | None:
    """The cheapest size with at least ``memory_mb`` and a known price, else the
    smallest fitting size (its price unknown), else None."""
    fits = [(name, s) for name, s in sizes.items() if int(s.get("memory_mb", 0)) >= memory_mb]
    priced = [(price_of(name, s), name) for name, s in fits if price_of(name, s) is not None]
    if priced:
        return min(priced)[1]
    if fits:
        return min(fits, key=lambda f: f[1]["memory_mb"])[0]
    return None


def memory_warnings(memory_mb: int | None, where: str) -> list[str]:
    if memory_mb is not None and memory_mb < RECOMMENDED_MB:
        return [f"{where}: {memory_mb} MB is below the recommended {RECOMMENDED_MB} MB; an idle gateway "
                "uses ~810 MB and is killed for running out of memory (OOM) under load"]
    return []


# ------------------------------------------------------------ shared shapes --


def flat(p: dict[str, Any], est: Estimate, s: Sizing) -> None:
    """A flat monthly plan (prices.yml kind ``flat``): the named plan, or the cheapest
    with the memory (and a disk when a volume is asked for). Any platform priced
    this way uses it as its ``cost``."""
    vm_size, memory_mb, volume_gb, egress_gb = s.vm_size, s.memory_mb, s.volume_gb, s.egress_gb
    sizes = p["sizes"]
    named = vm_size
    if vm_size not in sizes and (vm_size is None or p.get("match_by_memory")):
        vm_size = cheapest_fit({k: v for k, v in sizes.items() if v.get("disk", True) or not volume_gb},
                                memory_mb, lambda n, s: plan_range(p, s)[0])
    if vm_size not in sizes:
        what = f"{named}: no recorded price" if named else f"no {p['label']} plan has {memory_mb} MB"
        est.sku = named
        est.items.append(Item("plan", None, what, p["source"], p["as_of"]))
        vm_size = None
    else:
        spec = sizes[vm_size]
        est.sku, est.vcpu, est.memory_mb = vm_size, spec["vcpu"], spec["memory_mb"]
        source = spec.get("source", p["source"])
        price = spec.get("price")
        full = est.hours >= 720  # every flat plan's month is at least 720 h
        low, high = plan_range(p, spec)
        if price is None and low is not None and full:
            eur = spec["price_eur"]
            est.items.append(Item("plan", low, f"{vm_size} (EUR {eur[0]}-{eur[1]} x {p['usd_per_eur']['rate']})",
                                  source, p["as_of"], high, " ".join(spec["reason"].split())))
        elif price is None:
            est.items.append(Item("plan", None, f"{vm_size}: no USD price recorded", source, p["as_of"]))
        elif not full and price:
            est.items.append(Item("plan", None, f"{vm_size}: monthly plan; the price of {est.hours:g} h "
                                  "is not recorded", source, p["as_of"]))
        else:
            est.items.append(Item("plan", price, f"{vm_size} ({spec['vcpu']:g} vCPU, {spec['memory_mb']} MB)",
                                  source, p["as_of"]))
        if spec.get("disk") is False:
            est.warnings.append(f"{p['label']} {vm_size} plan cannot carry a disk: config, channels and "
                                "pairings are lost on every redeploy")
            if spec.get("sleeps_after_min"):
                est.warnings.append(f"{p['label']} {vm_size} plan sleeps after {spec['sleeps_after_min']} min "
                                    "idle: channels disconnect and the first request waits for a cold start")
    if spec_disk_ok(sizes, vm_size):
        est.items.append(volume_item(p, volume_gb, p["volume_gb_month"], ranged=p.get("volume_range")))
    est.items.append(egress_item(p, egress_gb, p["egress_per_gb"]))


def plan_range(p: dict[str, Any], spec: dict[str, Any]) -> tuple[float | None, float | None]:
    """A flat plan's monthly price as (low, high): its USD price, or its EUR
    range at the recorded exchange rate, else (None, None)."""
    if spec.get("price") is not None:
        return spec["price"], spec["price"]
    if spec.get("price_eur") and p.get("usd_per_eur"):
        rate = p["usd_per_eur"]["rate"]
        return round(spec["price_eur"][0] * rate, 2), round(spec["price_eur"][1] * rate, 2)
    return None, None


def spec_disk_ok(sizes: dict[str, Any], vm_size: str | None) -> bool:
    return vm_size is None or sizes[vm_size].get("disk", True) is not False


# ---------------------------------------------------------------- interface --


def estimate(platform: str, *, vm_size: str | None = None, memory_mb: int = RECOMMENDED_MB,
             vcpu: float | None = None, volume_gb: float = 1, region: str | None = None,
             egress_gb: float = 0, hours: float | None = None, public: bool = True) -> Estimate:
    """Monthly cost of one deploy on ``platform`` (hours None = always on)."""
    table = prices()
    if platform not in table:
        est = Estimate(platform, platform, vm_size, vcpu, memory_mb, region, hours or 730)
        est.items.append(Item("everything", None, f"no prices recorded for platform {platform!r}"))
        return est
    p = table[platform]
    month = p.get("month_hours") or p.get("reference_node", {}).get("month_hours") or 720
    est = Estimate(platform, p["label"], vm_size, vcpu, int(memory_mb), region,
                   float(month if hours is None else hours), note=p.get("note", "").strip())
    sizing = Sizing(vm_size, int(memory_mb), 1.0 if vcpu is None else float(vcpu), volume_gb, egress_gb, public)
    room = platforms.get(platform)
    if room is None:  # pragma: no cover - a data error
        raise ValueError(f"prices.yml: {platform} is not a platform of platforms.yml")
    room.cost(p, est, sizing)
    est.warnings[:0] = memory_warnings(est.memory_mb, f"{p['label']} {est.sku or ''}".strip())
    if hours is not None and hours < month:
        est.warnings.append(f"{hours:g} h/month: priced as stopped the rest of the month (a stopped "
                            "machine still pays for its volume)")
    return est


def compare(*, memory_mb: int, vcpu: float | None, volume_gb: float, egress_gb: float,
            hours: float | None, public: bool, home: Estimate | None = None,
            regions: dict[str, str] | None = None) -> list[Estimate]:
    """The same sizing (memory, vCPU, volume, egress, hours) on every priced platform.

    Sized platforms get their cheapest size with at least ``memory_mb``; rate
    platforms are charged ``vcpu`` and ``memory_mb`` directly. ``home`` (the
    answered deploy) replaces its own platform's row.
    """
    out = []
    for platform in prices():
        if home is not None and platform == home.platform:
            out.append(home)
            continue
        region = (regions or {}).get(platform)
        out.append(estimate(platform, memory_mb=memory_mb, vcpu=vcpu, volume_gb=volume_gb, region=region,
                            egress_gb=egress_gb, hours=hours, public=public))
    return out


def parameters(repo: str | Path | None, **given: Any) -> dict[str, Any]:
    """Notebook parameters with ``None`` filled from ``<repo>/.copier-answers.yml``.

    Without a repo (or answers file), the template's own defaults apply.
    """
    answers: dict[str, Any] = {}
    if repo is not None and (Path(repo) / ".copier-answers.yml").exists():
        answers = m.answers_from_file(Path(repo) / ".copier-answers.yml")
        if answers.get("platform") in m.platforms():
            # values copier did not ask (fixed memory, Railway's unsized volume) are derived
            answers = m.complete(answers)
    platform = given.get("platform") or answers.get("platform") or next(iter(m.platforms()))  # the first of the data, copier.yml's default
    facts = m.platforms().get(platform, {})
    same_platform = answers.get("platform") == platform
    vm_size = given.get("vm_size") or (answers.get("vm_size") if same_platform else None)
    if vm_size is None and platform in m.platforms():
        vm_size = facts.get("default_size")
    memory = given.get("memory_mb") or answers.get("vm_memory_mb") or m.openclaw()["memory"]["recommended_mb"]
    vcpu = given.get("vcpu")
    kind = prices().get(platform, {}).get("kind")
    if vcpu is None and kind == "usage":
        vcpu = 1.0  # billed on measured use: a size's vCPU count is only its limit
    elif vcpu is None and vm_size and vm_size in facts.get("sizes", {}):
        vcpu = facts["sizes"][vm_size]["vcpu"]
    region = given.get("region") or (answers.get("region") if same_platform else None) or facts.get("default_region")
    volume = given.get("volume_gb")
    if volume is None:
        volume = answers.get("volume_size_gb", 1)
    privacy = given.get("privacy") or answers.get("privacy") or "public"
    return {
        "platform": platform, "vm_size": vm_size, "memory_mb": int(memory), "vcpu": vcpu,
        "volume_gb": float(volume), "region": region, "egress_gb": float(given.get("egress_gb") or 0),
        "hours": given.get("hours"), "public": privacy == "public",
        # vCPU charged on per-vCPU platforms in the comparison: the vcpu asked for,
        # else 1 (a shared-cpu size's vCPUs are fractions of a core, not dedicated ones)
        "compare_vcpu": float(given["vcpu"]) if given.get("vcpu") is not None else 1.0,
        "from_answers": bool(answers),
    }


def run(params: dict[str, Any]) -> tuple[Estimate, list[Estimate]]:
    """The home estimate and the comparison, from resolved ``parameters``."""
    home = estimate(params["platform"], vm_size=params["vm_size"], memory_mb=params["memory_mb"],
                    vcpu=params["vcpu"], volume_gb=params["volume_gb"], region=params["region"],
                    egress_gb=params["egress_gb"], hours=params["hours"], public=params["public"])
    rows = compare(memory_mb=params["memory_mb"], vcpu=params.get("compare_vcpu", 1.0),
                   volume_gb=params["volume_gb"], egress_gb=params["egress_gb"], hours=params["hours"],
                   public=params["public"], home=home)
    return home, rows


def line_items(est: Estimate) -> list[dict[str, Any]]:
    rows = [{"item": i.name, "USD/month": money(i.amount, i.high),
             "how": i.detail + (f"; range: {i.reason}" if i.reason else ""),
             "source": i.source, "as of": i.as_of} for i in est.items]
    rows.append({"item": "TOTAL", "USD/month": total_text(est), "how": "", "source": "", "as of": ""})
    return rows


def items_text(est: Estimate) -> str:
    """The line items as a terminal-width table, each source (and date) once below it."""
    rows = [{k: v for k, v in row.items() if k not in ("source", "as of")} for row in line_items(est)]
    sources = list(dict.fromkeys((i.source, i.as_of) for i in est.items if i.source))
    return table_text(rows) + "".join("\n" + terminal.wrap(f"{src} (read {when})", first="prices: ", indent="  ")
                                      for src, when in sources)


def estimate_line(est: Estimate) -> str:
    """The answer (wrapped to the terminal); a usage-based price says what its range is."""
    if est.total is not None and est.floor is not None and est.floor < est.total:
        plan = est.sku.split(" (")[0] if est.sku else "plan"
        return terminal.wrap(
            f"Monthly estimate: {est.floor:.2f}-{money(est.total, est.total_high)} USD, usage-based: "
            f"the {plan} minimum of {est.floor:.2f} up to {money(est.total, est.total_high)} if the full size "
            "runs all month", indent="  ")
    return terminal.wrap(f"Monthly estimate: {total_text(est)} USD", indent="  ")


def comparison_rows(rows: list[Estimate]) -> list[dict[str, Any]]:
    return [{"platform": e.label, "size": e.sku or "?", "vCPU": "?" if e.vcpu is None else f"{e.vcpu:g}",
             "memory MB": e.memory_mb, "USD/month": total_text(e),
             "warnings": len(e.warnings)} for e in rows]


def table_text(rows: list[dict[str, Any]], columns: int | None = None) -> str:
    """A plain-text table (readable in the notebook, the HTML report and a
    terminal), wrapped between words to ``columns`` (default: the terminal's)."""
    if not rows:
        return "(no rows)"
    cols = list(rows[0])
    return terminal.table([[str(r.get(c, "")) for c in cols] for r in rows], header=cols, columns=columns)


def bullet(text: str) -> str:
    """``- text`` wrapped to the terminal, later lines under the text."""
    return terminal.wrap(text, first="- ", indent="  ")


def note_text(est: Estimate) -> str:
    return terminal.wrap(est.note, first="Note: ", indent="  ") if est.note else ""


def _generic(warning: str, est: Estimate) -> str:
    """A warning without the platform (and size) it was said about."""
    for prefix in (f"{est.label} {est.sku}: ", f"{est.label}: "):
        if warning.startswith(prefix):
            return warning[len(prefix):]
    return warning


def distinct_warnings(rows: list[Estimate], home: Estimate | None = None) -> list[str]:
    """Each warning of the comparison once: a warning several platforms share is
    one line naming them ("every platform" when all), and one ``home`` already
    has (shown in its own section) is not repeated."""
    said = {_generic(w, home) for w in home.warnings} if home is not None else set()
    groups: dict[str, list[str]] = {}
    for e in rows:
        for w in e.warnings:
            key = _generic(w, e)
            if key not in said and e.label not in groups.setdefault(key, []):
                groups[key].append(e.label)
    groups = {k: v for k, v in groups.items() if v}
    everyone = [e.label for e in rows]
    return [f"{'every platform' if labels == everyone and len(labels) > 1 else ', '.join(labels)}: {key}"
            for key, labels in groups.items()]


def bar_text(e: Estimate) -> str:
    """What the chart writes at the end of a platform's bar."""
    if no_size(e):
        return no_size(e)
    if e.total is None:
        known = f"; known part {e.known_total:.2f}" if e.known_total else ""
        return f"no recorded price for {', '.join(e.unknown)}: not guessed{known}"
    if e.floor is not None and e.floor < e.total:
        plan = f" {e.sku.split(' (')[0]}" if e.sku else ""
        text = f"{e.floor:.2f}{plan} minimum to {money(e.total, e.total_high)} at full use"
    else:
        text = money(e.total, e.total_high)
        if e.total_high is not None and e.total_high > e.total:
            text += " (range)"
    return text


def chart_alt(rows: list[Estimate], home: str | None = None) -> str:
    """The chart in words (the HTML report's alt text)."""
    parts = []
    for e in rows:
        name = f"{e.label} {e.sku or ''}".strip()
        text = bar_text(e).replace("\n", " ")
        parts.append(f"{name}{' (this deploy)' if e.platform == home else ''}: {text}")
    return "Bar chart of the monthly cost in USD of the same sizing on every platform. " + "; ".join(parts) + "."


def chart_bundle(png: str | Path, alt: str) -> dict[str, str]:
    """A display bundle for the notebook: the PNG inline in an <img> with ``alt``
    (nbconvert's HTML template writes no alt for an image/png output, and warns)."""
    import base64
    import html

    data = base64.b64encode(Path(png).read_bytes()).decode("ascii")
    return {"text/html": f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}"/>',
            "text/plain": alt}


def _kinds(rows: list[Estimate]) -> set[str]:
    kinds = set()
    for e in rows:
        if e.total is None:
            kinds.add("gap")
            continue
        if e.floor is not None and e.floor < e.total:
            kinds.add("usage")
        if e.total_high is not None and e.total_high > e.total:
            kinds.add("range")
    return kinds


LEGEND = {"usage": "usage-based: minimum (solid) to full use", "range": "range (region, or a price not recorded)", "gap": "price not recorded"}


def legend_labels(rows: list[Estimate]) -> list[str]:
    """The chart's legend: this deploy, the others, and each mark the chart uses."""
    kinds = _kinds(rows)
    return ["this deploy", "same sizing elsewhere"] + [text for kind, text in LEGEND.items() if kind in kinds]


def plot(rows: list[Estimate], path: str | Path, home: str | None = None) -> Path:
    """Horizontal bars of monthly totals, with a legend. This deploy is orange;
    a usage-based price is a solid bar to its minimum and a light one up to full
    use; a range (region, or a price not recorded) gets an error bar; an unknown price draws no bar: its
    row is a labelled gap."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    top = max([e.total_high or e.total or e.known_total for e in rows] + [1])
    fig, ax = plt.subplots(figsize=(10, 0.6 * len(rows) + 2.0))
    for i, e in enumerate(rows):
        color = "tab:orange" if e.platform == home else "tab:blue"
        if e.total is None:
            ax.barh(i, top, color="none", edgecolor=color if e.platform == home else "0.6", linestyle=":",
                    linewidth=1.5 if e.platform == home else 1)
            ax.annotate(bar_text(e), (0, i), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8,
                        style="italic", color="0.3")
            continue
        if e.floor is not None and e.floor < e.total:
            ax.barh(i, e.floor, color=color)
            ax.barh(i, e.total - e.floor, left=e.floor, color=color, alpha=0.3, hatch="//", edgecolor=color)
        else:
            ax.barh(i, e.total, color=color)
        if e.total_high is not None and e.total_high > e.total:
            ax.errorbar(e.total, i, xerr=[[0], [e.total_high - e.total]], color="black", capsize=4)
        ax.annotate(bar_text(e), (e.total_high or e.total, i), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=8)
    ax.set_yticks(range(len(rows)), [f"{e.label.split(' (')[0]}: {e.sku or 'no size priced'}" for e in rows],
                  fontsize=8)
    for i, tick in enumerate(ax.get_yticklabels()):
        if rows[i].platform == home:  # this deploy's row stands out even when it has no bar
            tick.set_color("tab:orange")
            tick.set_fontweight("bold")
    ax.invert_yaxis()
    ax.set_xlabel("USD / month")
    ax.set_xlim(0, top * 1.5)
    kinds, labels = _kinds(rows), legend_labels(rows)
    handles = [Patch(color="tab:orange", label=labels[0]), Patch(color="tab:blue", label=labels[1])]
    if "usage" in kinds:
        handles.append(Patch(facecolor="tab:blue", alpha=0.3, hatch="//", edgecolor="tab:blue", label=LEGEND["usage"]))
    if "range" in kinds:
        handles.append(Line2D([], [], color="black", marker="|", label=LEGEND["range"]))
    if "gap" in kinds:
        handles.append(Patch(facecolor="none", edgecolor="0.6", linestyle=":", label=LEGEND["gap"]))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0, -0.5 / fig.get_figheight()),
              ncol=3, fontsize=8, frameon=False)
    ax.set_title("Monthly cost of the same sizing on every platform", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")  # keeps the legend and long labels
    plt.close(fig)
    return path


def write_outputs(params: dict[str, Any], home: Estimate, rows: list[Estimate], out_dir: str | Path,
                  bill: dict[str, Any] | None = None) -> Path:
    """cost.json; ``bill`` (``ops.spend.bill_dict``) adds its infrastructure, model and total."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "cost.json"
    path.write_text(json.dumps({"parameters": params, **(bill or {}), "estimate": home.as_dict(),
                                "comparison": [e.as_dict() for e in rows]}, indent=2) + "\n")
    return path
