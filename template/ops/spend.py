"""Model spend: the part of the monthly bill the model providers send.

Pure except ``measure`` (which runs one command through ``ops.runner``):

- ``estimate_model`` prices a usage profile (messages a day, tokens per message,
  the cached share of the input) at the provider's recorded price
  (``data/model_prices.yml``), for light, typical and heavy use. A provider or
  model without a recorded price gives no number: the line says why.
- ``bill`` puts the infrastructure estimate (``ops.cost``) and the model line
  side by side with their total and range; ``bill_dict`` is what ``cost.json``
  carries (``infrastructure``, ``model``, ``total``).
- ``measure`` runs ``openclaw gateway usage-cost --days N --json`` on the deploy
  through the platform's exec (``ops.remote``), and ``parse_usage_cost`` reads
  what the gateway spent (from its session logs) and projects the month.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import model as m

LEVELS = ("light", "typical", "heavy")


def model_prices() -> dict[str, Any]:
    return m.load("model_prices")


@dataclass
class Usage:
    messages_per_day: float
    input_tokens: float
    output_tokens: float
    cached_share: float


def default_usage(provider: str | None) -> Usage:
    u = model_prices()["usage"]
    shares = u["cached_share"]
    return Usage(float(u["messages_per_day"]), float(u["input_tokens"]), float(u["output_tokens"]),
                 float(shares.get(provider, shares["default"])))


def usage_from(provider: str | None, **given: Any) -> Usage:
    """The default profile with any given (not None) field replaced."""
    base = asdict(default_usage(provider))
    base.update({k: float(v) for k, v in given.items() if v is not None and k in base})
    return Usage(**base)


@dataclass
class ModelLine:
    provider: str | None
    model: str | None
    # USD per month at light / typical / heavy use; None: not estimated
    light: float | None
    typical: float | None
    heavy: float | None
    detail: str
    source: str = ""
    as_of: str = ""
    status: str = ""

    @property
    def known(self) -> bool:
        return self.typical is not None


def primary_model(providers: list[str] | tuple[str, ...], primary: str | None) -> tuple[str | None, str | None]:
    """(provider, model id without the provider prefix) of the deploy's default model."""
    if not providers:
        return None, None
    provider = primary if primary in providers else providers[0]
    ref = m.openclaw()["model_providers"][provider]["model"]
    return provider, ref.split("/", 1)[1] if ref.startswith(provider + "/") else ref


def per_message(price: dict[str, Any], usage: Usage) -> float:
    cached = usage.input_tokens * usage.cached_share
    fresh = usage.input_tokens - cached
    cache_rate = price.get("cache_read", price["input"])
    return (fresh * price["input"] + cached * cache_rate + usage.output_tokens * price["output"]) / 1e6


def estimate_model(provider: str | None, model: str | None, usage: Usage | None = None) -> ModelLine:
    """Monthly model spend of ``usage`` on ``provider``/``model`` (light / typical / heavy)."""
    if provider is None:
        return ModelLine(None, None, None, None, None,
                         "no model provider chosen: model spend not estimated (a subscription sign-in "
                         "or a key set later bills outside this estimate)")
    facts = model_prices()["providers"].get(provider)
    if facts is None:
        return ModelLine(provider, model, None, None, None, f"no recorded prices for provider {provider!r}: not estimated")
    price = (facts.get("models") or {}).get(model)
    if price is None:
        why = " ".join(str(facts.get("note", "")).split())
        return ModelLine(provider, model, None, None, None,
                         f"{provider}/{model}: no recorded price, not estimated" + (f" ({why})" if why else ""),
                         facts["source"], str(facts["as_of"]), facts.get("status", ""))
    usage = usage or default_usage(provider)
    u = model_prices()["usage"]
    monthly = per_message(price, usage) * usage.messages_per_day * u["days_per_month"]
    amounts = {level: round(monthly * u["range"][level], 2) for level in LEVELS}
    detail = (f"{provider}/{model}: {usage.messages_per_day:g} msg/day x {u['days_per_month']} days, "
              f"{usage.input_tokens:g} in ({usage.cached_share:.0%} cached) + {usage.output_tokens:g} out tokens/msg "
              f"at {price['input']:g}/{price.get('cache_read', price['input']):g}/{price['output']:g} USD per M "
              f"(in/cached/out); light x{u['range']['light']:g}, heavy x{u['range']['heavy']:g}")
    return ModelLine(provider, model, amounts["light"], amounts["typical"], amounts["heavy"], detail,
                     facts["source"], str(facts["as_of"]), price.get("status", facts.get("status", "")))


def parameters(repo: str | Path | None, model: str | None = None, **usage: Any) -> dict[str, Any]:
    """The model and usage profile: ``model`` ("provider/model-id") when given, else
    the deploy's default model from ``<repo>/.copier-answers.yml`` (the template's
    default providers without a repo); usage fields left None take the defaults."""
    answers: dict[str, Any] = {}
    if repo is not None and (Path(repo) / ".copier-answers.yml").exists():
        answers = m.answers_from_file(Path(repo) / ".copier-answers.yml")
    else:
        answers = {"model_providers": ["anthropic"]}  # copier.yml's default
    if model:
        provider, _, model_id = str(model).partition("/")
        chosen: tuple[str | None, str | None] = (provider, model_id or None)
    else:
        providers = list(answers.get("model_providers") or [])
        chosen = primary_model(tuple(providers), answers.get("primary_model_provider"))
    return {"provider": chosen[0], "model": chosen[1], "usage": asdict(usage_from(chosen[0], **usage))}


def estimate_from(params: dict[str, Any]) -> ModelLine:
    return estimate_model(params["provider"], params["model"], Usage(**params["usage"]))


# --------------------------------------------------------------------- bill --


@dataclass
class Bill:
    infrastructure: float | None  # the platform estimate's total (None: a price is unknown)
    infrastructure_high: float | None
    model: ModelLine
    measured: "Measured | None" = None
    notes: list[str] = field(default_factory=list)

    def total(self, level: str = "typical") -> float | None:
        spend = getattr(self.model, level)
        if self.infrastructure is None or spend is None:
            return None
        return round(self.infrastructure + spend, 2)


def bill(home: Any, line: ModelLine, measured: "Measured | None" = None) -> Bill:
    """The infrastructure estimate (an ``ops.cost.Estimate``) beside the model line."""
    return Bill(home.total, home.total_high, line, measured)


def _usd(value: float | None) -> str:
    return "not estimated" if value is None else f"{value:.2f}"


def bill_rows(b: Bill) -> list[dict[str, str]]:
    """The bill as table rows: infrastructure, model spend, (measured), total."""
    infra = _usd(b.infrastructure)
    if b.infrastructure is None:
        infra = "unknown (a platform price is not recorded)"
    elif b.infrastructure_high and b.infrastructure_high > b.infrastructure:
        infra = f"{b.infrastructure:.2f}-{b.infrastructure_high:.2f}"
    line = b.model
    model = (f"{line.typical:.2f} (light {line.light:.2f}, heavy {line.heavy:.2f})" if line.known
             else "not estimated")
    rows = [{"line": "infrastructure", "USD/month": infra},
            {"line": f"model spend ({line.provider}/{line.model})" if line.provider else "model spend",
             "USD/month": model}]
    if b.measured is not None:
        rows.append({"line": "model spend, measured", "USD/month": b.measured.text()})
    total = "unknown" if b.total() is None else (
        f"{b.total():.2f} (light {b.total('light'):.2f}, heavy {b.total('heavy'):.2f})")
    if not line.known and b.infrastructure is not None:
        total = f"{b.infrastructure:.2f} + model spend (not estimated)"
    rows.append({"line": "TOTAL", "USD/month": total})
    return rows


def bill_text(b: Bill, width: int = 80) -> str:
    """The bill table, then what the model line assumes and where its prices come from."""
    from .cost import table_text  # the same plain table as the line items

    import textwrap

    line = b.model
    notes = [f"model: {line.detail}"]
    if line.source:
        notes.append(f"model prices: {line.source} (read {line.as_of}"
                     f"{', unchecked' if line.status == 'unchecked' else ''})")
    if b.measured is not None:
        notes.append(f"measured: {b.measured.detail}")
    wrapped = [textwrap.fill(n, width, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False)
               for n in notes]
    return "\n".join([table_text(bill_rows(b)), *wrapped])


def bill_dict(b: Bill) -> dict[str, Any]:
    """``infrastructure``, ``model`` and ``total`` for cost.json (None = not estimated)."""
    line = b.model
    out = {
        "infrastructure": {"usd": b.infrastructure, "usd_high": b.infrastructure_high},
        "model": {"provider": line.provider, "model": line.model, "estimated": line.known,
                  **{level: getattr(line, level) for level in LEVELS},
                  "detail": line.detail, "source": line.source, "as_of": line.as_of, "status": line.status},
        "total": {level: b.total(level) for level in LEVELS},
    }
    if b.measured is not None:
        out["model"]["measured"] = b.measured.as_dict()
    return out


def plot_bill(b: Bill, path: str | Path) -> Path:
    """Stacked bars, light / typical / heavy: infrastructure and model spend; a
    measured projection as its own bar; a line without a price draws no bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(level, b.infrastructure or 0.0, getattr(b.model, level)) for level in LEVELS]
    if b.measured is not None and b.measured.projected_month is not None:
        rows.append(("measured", b.infrastructure or 0.0, b.measured.projected_month))
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(rows) + 1.6))
    top = max([infra + (spend or 0) for _, infra, spend in rows] + [1])
    for i, (label, infra, spend) in enumerate(rows):
        ax.barh(i, infra, color="tab:blue", label="infrastructure" if i == 0 else None)
        if spend is None:
            ax.annotate("model spend not estimated", (infra, i), xytext=(4, 0), textcoords="offset points",
                        va="center", fontsize=8, style="italic", color="0.3")
            continue
        ax.barh(i, spend, left=infra, color="tab:orange" if label != "measured" else "tab:green",
                label=("model spend" if label != "measured" else "model spend, measured (projected)")
                if i in (0, len(LEVELS)) else None)
        ax.annotate(f"{infra + spend:.2f}", (infra + spend, i), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=8)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.3)
    ax.set_xlabel("USD / month")
    ax.set_title("This deploy's monthly bill: infrastructure + model spend", fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def bill_alt(b: Bill) -> str:
    return "Bar chart of this deploy's monthly bill in USD: " + "; ".join(
        f"{r['line']}: {r['USD/month']}" for r in bill_rows(b)) + "."


# ----------------------------------------------------------------- measured --


@dataclass
class Measured:
    """What ``openclaw gateway usage-cost --json`` reported, or why nothing was."""
    total: float | None = None
    days: int = 0  # days asked for
    days_with_data: int = 0
    span_days: int = 0  # first day with spend to the last day reported
    missing_entries: int = 0  # messages the gateway could not price
    cache_status: str = ""
    projected_month: float | None = None
    error: str = ""
    command: str = ""

    @property
    def detail(self) -> str:
        if self.error:
            return self.error
        text = (f"`{self.command}`: {self.total:.2f} USD over the last {self.days} days "
                f"({self.days_with_data} with spend)")
        if self.projected_month is not None:
            text += f"; projected month {self.projected_month:.2f} (from {self.span_days} days)"
        if self.missing_entries:
            text += f"; {self.missing_entries} message(s) without a price are not counted"
        if self.cache_status and self.cache_status != "fresh":
            text += f"; the gateway's usage cache is {self.cache_status}: totals may be incomplete, run it again later"
        return text

    def text(self) -> str:
        if self.error or self.total is None:
            return "not measured"
        projected = f", month ~{self.projected_month:.2f}" if self.projected_month is not None else ""
        return f"{self.total:.2f} in {self.days} days{projected}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_usage_cost(data: Any, days: int, days_per_month: int | None = None) -> Measured:
    """Read ``openclaw gateway usage-cost --json`` (2026.9.6: ``totals.totalCost``,
    ``daily[].{date,totalCost}``, ``cacheStatus.status``) and project the month
    from the days since spend started (a young deploy is not diluted by empty days)."""
    if not isinstance(data, dict) or not isinstance(data.get("totals"), dict):
        return Measured(days=days, error="usage-cost printed no `totals`: not the gateway's usage-cost JSON")
    month = days_per_month or model_prices()["usage"]["days_per_month"]
    total = float(data["totals"].get("totalCost") or 0.0)
    daily = [d for d in data.get("daily") or [] if isinstance(d, dict) and d.get("date")]
    spent = [d for d in daily if float(d.get("totalCost") or 0) > 0]
    span = 0
    if spent:
        first = dt.date.fromisoformat(spent[0]["date"])
        last = dt.date.fromisoformat(daily[-1]["date"])
        span = (last - first).days + 1
    projected = round(total / span * month, 2) if span else (0.0 if daily else None)
    return Measured(total=round(total, 4), days=int(data.get("days") or days), days_with_data=len(spent),
                    span_days=span, missing_entries=int(data["totals"].get("missingCostEntries") or 0),
                    cache_status=str((data.get("cacheStatus") or {}).get("status", "")),
                    projected_month=projected)


def usage_command(port: int, days: int) -> str:
    """What runs inside the deploy: the local gateway on its own port, token from its env."""
    return f"openclaw gateway usage-cost --days {int(days)} --json --port {int(port)}"


def measure(repo: str | Path | None, runner: Any = None, days: int = 30,
            usage_file: str | Path | None = None) -> Measured:
    """Measured model spend of the deploy in ``repo``: from ``usage_file`` (a saved
    usage-cost JSON) when given, else by running usage-cost through the platform's exec
    (``runner``: an ``ops.runner.Runner``, the runbooks' one way to run a command)."""
    from . import remote
    from .runner import Runner

    runner = runner or Runner(timeout=180)

    if usage_file:
        try:
            data = json.loads(Path(usage_file).read_text())
        except (OSError, ValueError) as exc:
            return Measured(days=days, error=f"usage_file {usage_file}: {exc}")
        found = parse_usage_cost(data, days)
        found.command = f"usage_file {usage_file}"
        return found
    if repo is None or not (Path(repo) / ".copier-answers.yml").exists():
        return Measured(days=days, error="live mode needs a deploy repo (repo parameter) or -p usage_file PATH")
    model = m.build(m.answers_from_file(Path(repo) / ".copier-answers.yml"))
    cmd = usage_command(model.port, days)
    try:  # the one way into the deploy: ops.remote (platforms.yml `transfer`), as backups use it
        argv = remote.connect(model).argv(cmd)
    except (remote.RemoteError, KeyError) as exc:
        why = str(exc) if isinstance(exc, remote.RemoteError) else f"no transfer recorded for {model.platform}"
        return Measured(days=days, command=cmd, error=f"{why}; or run `{cmd}` in the deploy, save the output "
                        "and pass -p usage_file PATH")
    if not runner.which(argv[0]):
        return Measured(days=days, command=" ".join(argv),
                        error=f"{argv[0]} is not on PATH: install it (README) or pass -p usage_file PATH")
    rec = runner.run(argv, timeout=180)
    if rec.exit_code != 0:
        out = (rec.stderr or rec.stdout).strip()[-300:]
        return Measured(days=days, command=rec.command,
                        error=f"`{rec.command}` -> {rec.error or 'exit ' + str(rec.exit_code)}: {out}")
    text = rec.raw_stdout or rec.stdout
    start = text.find("{")
    try:
        data = json.JSONDecoder().raw_decode(text[start:])[0] if start >= 0 else None
    except ValueError:
        data = None
    found = parse_usage_cost(data, days)
    found.command = rec.command
    return found
