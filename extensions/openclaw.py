"""Jinja glue between copier and the deploy model (``template/ops/model.py``).

The model and its data files live in ``template/ops`` because they ship into
every deploy repo, where ``make verify`` and the runbooks rebuild the same
model from ``.copier-answers.yml``. This module only exposes them to Jinja:

- ``oc_error(field)``: a copier validator; "" or the message for that field.
- ``oc_choices(kind)``: YAML choice lists for questions that depend on data.
- ``oc`` in the render context: the deploy model of the current answers,
  plus ``oc_config`` (the starter openclaw.json) and ``oc_warnings``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from jinja2 import pass_context
from jinja2.ext import Extension

_TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "template"


def _load_ops_model(template_dir: Path) -> ModuleType:
    """This template release's ``ops.model`` (and data files), never another's.

    ``copier update`` renders the old and the new release in one process: a
    plain ``import ops`` would give the new release the module, and so the
    data files, of whichever release was imported first. Each template
    directory gets its own copy of the package under a private name.
    """
    name = "_openclaw_deploy_ops_" + hashlib.sha256(str(template_dir).encode()).hexdigest()[:16]
    if name + ".model" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, template_dir / "ops" / "__init__.py", submodule_search_locations=[str(template_dir / "ops")])
        package = importlib.util.module_from_spec(spec)
        sys.modules[name] = package
        spec.loader.exec_module(package)
    return importlib.import_module(name + ".model")


m = _load_ops_model(_TEMPLATE_DIR)
terminal = importlib.import_module(m.__package__ + ".terminal")


template_source = importlib.import_module(m.__name__.rsplit(".", 1)[0] + ".template_source")


_LOCK = _TEMPLATE_DIR.parent / "requirements.lock"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_entries(text: str) -> dict[str, tuple[str, str, set[str]]]:
    """uv's hashed lock: name -> (version, the entry's requirement text with its
    hashes, the packages it is there for: its `# via` lines)."""
    entries: dict[str, tuple[str, str, set[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        if not block or block.startswith("#"):
            continue
        lines = block.splitlines()
        spec = [ln for ln in lines if not ln.strip().startswith("#")]
        vias = " ".join(ln.strip().lstrip("#").strip() for ln in lines if ln.strip().startswith("#"))
        name, _, rest = spec[0].partition("==")
        version = re.split(r"[\s;\\]", rest, maxsplit=1)[0]
        via = {_norm(v) for v in re.findall(r"[A-Za-z0-9][A-Za-z0-9_.-]*", vias.removeprefix("via"))}
        entries[_norm(name)] = (version, "\n".join(spec), via)
    return entries


def hashed_requirements(direct: str) -> str:
    """The `name==version` pins in ``direct`` and everything they need, each with
    its sha256 hashes and environment markers, taken from the template's
    requirements.lock (so `pip`/`uv --require-hashes` installs exactly these)."""
    entries = lock_entries(_LOCK.read_text(encoding="utf-8"))
    pins = dict(re.findall(r"(?m)^([A-Za-z0-9][A-Za-z0-9_.-]*)==(\S+)", direct))
    need = set()
    for name, version in pins.items():
        if entries.get(_norm(name), ("",))[0] != version:
            raise ValueError(f"{name}=={version} is not in requirements.lock: run scripts/lock.sh")
        need.add(_norm(name))
    grew = True
    while grew:
        more = {n for n, (_, _, via) in entries.items() if n not in need and via & need}
        need |= more
        grew = bool(more)
    return "\n".join(entries[n][1] for n in sorted(need))


def answers_of(context: Any) -> dict[str, Any]:
    """The answers visible in a Jinja context (copier puts them at top level)."""
    return {name: context.get(name) for name in m.FIELDS}


def field_error(field: str, answers: dict[str, Any]) -> str:
    return m.validate_field(field, answers)


def choices_yaml(kind: str, answers: dict[str, Any]) -> str:
    """Choice lists as YAML text (copier parses a templated ``choices`` string)."""
    platform = answers.get("platform") if answers.get("platform") in m.platforms() else next(iter(m.platforms()))
    facts = m.platforms()[platform]
    if kind == "region":
        items = {f"{code} - {name}": code for code, name in facts["regions"].items()}
    elif kind == "vm_size":
        items = {f"{size} ({spec['vcpu']} vCPU, {memory_label(m.usable_memory_range(platform, size))})": size
                 for size, spec in facts["sizes"].items()}
    elif kind == "platform":
        items = {f["label"]: key for key, f in m.platforms().items()}
    elif kind == "model_providers":
        items = {v["label"]: k for k, v in m.openclaw()["model_providers"].items()}
    elif kind == "primary_model_provider":
        chosen = m._as_list(answers.get("model_providers")) or []
        items = {f"{v['label']} ({v['model']})": k
                 for k, v in m.openclaw()["model_providers"].items() if k in chosen}
    elif kind == "channels":
        items = {v["label"]: k for k, v in m.openclaw()["channels"].items()}
    elif kind == "tunnel":
        items = {v["label"]: k for k, v in m.openclaw()["tunnels"].items()}
    elif kind == "binaries":
        items = {f"{k} - {v['description']}": k for k, v in m.binaries_catalog().items()}
    else:
        raise KeyError(kind)
    return yaml.safe_dump(items, sort_keys=False, default_flow_style=True, width=10_000).strip()


def with_article(value: Any) -> str:
    """``a 20`` / ``an 8``, ``a shared-cpu-1x`` / ``an e2-micro``: the article as it is spoken."""
    text = str(value)
    digits = text[:len(text) - len(text.lstrip("0123456789"))]
    if digits:
        lead = digits[:len(digits) % 3 or 3]  # the leading group: 8, 11, 18, 80, 800 ... are spoken "e"
        spoken_vowel = lead[0] == "8" or lead in ("11", "18")
    else:
        spoken_vowel = text[:1].lower() in tuple("aeio")
    return f"{'an' if spoken_vowel else 'a'} {text}"


def memory_label(memory_mb: list[int]) -> str:
    """``1024 MB`` for a fixed size, ``512-4096 MB`` for a range."""
    low, high = int(memory_mb[0]), int(memory_mb[1])
    return f"{low} MB" if low == high else f"{low}-{high} MB"


def help_text(field: str, answers: dict[str, Any]) -> str:
    """Question help that depends on earlier answers (copier renders ``help``)."""
    return {
        "gateway_port": lambda: m.gateway_port_help(answers),
        "vm_memory_mb": lambda: m.memory_help(answers.get("platform"), answers.get("vm_size")),
        "volume_size_gb": lambda: m.volume_help(answers),
    }[field]()


def platform_default(key: str, answers: dict[str, Any]) -> Any:
    facts = m.platforms().get(answers.get("platform")) or {}
    return {
        "region": facts.get("default_region"),
        "vm_size": facts.get("default_size"),
        "gateway_port": facts.get("default_port"),
        "vm_memory_mb": m.default_memory_mb(answers.get("platform"), answers.get("vm_size")),
        "volume_size_gb": (facts.get("volume") or {}).get("default_gb", 1),
        "domain": m.default_domain(answers),
        "openclaw_version": m.openclaw()["default_version"],
        "primary_model_provider": m.derived("primary_model_provider", answers),
        "uptime_minutes": m.uptime_facts()["default_minutes"],
        "backup_schedule": m.backup_facts()["default_schedule"],
    }[key]


class OpenClawExtension(Extension):
    """Registers the globals and filters the template and copier.yml use."""

    def __init__(self, environment):
        super().__init__(environment)

        @pass_context
        def oc_error(context, field: str) -> str:
            return field_error(field, answers_of(context))

        @pass_context
        def oc_choices(context, kind: str) -> str:
            return choices_yaml(kind, answers_of(context))

        @pass_context
        def oc_default(context, key: str) -> Any:
            return platform_default(key, answers_of(context))

        @pass_context
        def oc_platform(context) -> dict:
            return m.platforms().get(context.get("platform")) or {}

        @pass_context
        def oc_help(context, field: str) -> str:
            return help_text(field, answers_of(context))

        @pass_context
        def oc_ignored(context) -> list[str]:
            return m.ignored(answers_of(context))

        @pass_context
        def oc_needs_domain(context) -> bool:
            return m.needs_domain(answers_of(context))

        @pass_context
        def oc_asked(context, field: str) -> bool:
            return m.asked(field, answers_of(context))

        @pass_context
        def oc_model(context) -> m.DeployModel:
            return _cached_model(answers_of(context))

        @pass_context
        def oc_slot(context, slot: str) -> str:
            return slot_path(context.get("platform"), slot)

        @pass_context
        def oc_room_files(context, mode: str) -> list[str]:
            return list(room_files(context.get("platform"), _name_renderer(context), mode))

        @pass_context
        def oc_room_source(context, path: str) -> str:
            return room_files(context.get("platform"), _name_renderer(context), ROOM_FILE_MODES)[path]

        def to_json(value: Any, indent: int | None = 2) -> str:
            return json.dumps(value, indent=indent, ensure_ascii=False)

        environment.globals.update(
            oc_error=oc_error,
            oc_choices=oc_choices,
            oc_default=oc_default,
            oc_help=oc_help,
            oc_model=oc_model,
            oc_needs_domain=oc_needs_domain,
            oc_asked=oc_asked,
            oc_platform=oc_platform,
            oc_slot=oc_slot,
            oc_room_files=oc_room_files,
            oc_room_source=oc_room_source,
            oc_room_raw=room_raw,
            oc_starter_config=m.starter_config,
            oc_warnings=m.warnings,
            oc_ignored=oc_ignored,


            oc_wrap=terminal.wrap,
            oc_resize_args=m.resize_args,
            oc_resize_to=m.resize_to,
            oc_facts=m.openclaw,
            oc_webhook_channels=m.gateway_webhook_channels,
            oc_binaries_meta=m.binaries_meta,
            oc_images=m.images,
            oc_channel_setup=lambda: m.load("channel_setup"),
            oc_channel_steps=m.channel_steps,
            oc_ci=lambda: m.load("ci"),
            oc_model_prices=lambda: m.load("model_prices"),
            oc_remote_runnable=remote_runnable,


            oc_hashed_requirements=hashed_requirements,
        )
        environment.filters["oc_json"] = to_json
        environment.filters["toml_str"] = toml_string
        environment.filters["oc_a"] = with_article
        environment.filters["make_literal"] = template_source.make_literal


def remote_runnable(model: m.DeployModel) -> bool:
    """Whether `make cost P='-p mode live'` can run a command on the deploy (ops.remote)."""
    remote = importlib.import_module(m.__name__.rsplit(".", 1)[0] + ".remote")
    return remote.runnable(model)


_MODEL_CACHE: dict[str, m.DeployModel] = {}


def _cached_model(answers: dict[str, Any]) -> m.DeployModel:
    """Build once per distinct answer set: copier renders dozens of times."""
    key = json.dumps(answers, sort_keys=True, default=str)
    if key not in _MODEL_CACHE:
        _MODEL_CACHE[key] = m.build(answers)
    return _MODEL_CACHE[key]


def toml_string(value: Any) -> str:
    """A TOML basic string for any value (JSON escaping is valid TOML escaping)."""
    return json.dumps(str(value), ensure_ascii=False)


# A platform's templated text lives in one room, template/_partials/<kind>/ (the
# `kind` of platforms.yml, the same name as its module ops/platforms/<kind>.py).
# Every room has every slot below; the top-level files include each slot by name
# through oc_slot, never by testing the platform. Compose's providers (gcp, vps)
# share the compose room; its readme/files/runbook slots pick the provider's text
# from a subfolder named after the platform.
SLOTS = ("make", "deploy-steps.yml", "uptime-steps.yml", "backup-steps.yml", "secrets.sh", "readme.md", "files.md", "runbook.md",
         "wayback.md", "ci.md", "deploy-job.yml", "asides")


def room(platform: str) -> str:
    """The partials folder (and ops.platforms module) of a platform: its `kind`."""
    return m.platforms()[platform]["kind"]


def slot_path(platform: str, slot: str) -> str:
    """``template/_partials/<kind>/<slot>.jinja``: the one place a partial is chosen."""
    if slot not in SLOTS:
        raise KeyError(f"oc_slot: {slot!r} is not a slot; slots: {', '.join(SLOTS)}")
    return f"template/_partials/{room(platform)}/{slot}.jinja"


# A platform's own files (fly.toml, k8s/, docker-compose.yml, its CI deploy script)
# live in its room too, under template/_partials/<kind>/files/, at the path they get
# in the generated repo and with copier's rules: a `.jinja` file is rendered, any
# other is copied as it is, a file or folder whose name renders empty is left out.
# Two slot files at the template's root generate them (their names are a copier
# `yield` over oc_room_files; copier takes a generated file's mode from the slot
# file, so one slot is for plain files and one for executable ones).
ROOM_FILE_MODES = ("plain", "executable")


def _name_renderer(context: Any):
    """A file or folder name rendered the way copier renders a template path's parts."""
    def render(name: str) -> str:
        if "{" not in name:
            return name
        return context.environment.from_string(name).render(context.get_all())
    return render


def room_files(platform: str, render_name, mode: str | tuple[str, ...]) -> dict[str, str]:
    """The room's own files of ``mode`` ("plain", "executable", or both): generated path
    (may hold `/`) -> the template name to render or copy it from."""
    modes = (mode,) if isinstance(mode, str) else mode
    if not set(modes) <= set(ROOM_FILE_MODES):
        raise KeyError(f"oc_room_files: mode must be one of {', '.join(ROOM_FILE_MODES)}; got {mode!r}")
    base = _TEMPLATE_DIR / "_partials" / room(platform) / "files"
    found: dict[str, str] = {}
    for path in sorted(base.rglob("*")) if base.is_dir() else ():
        if not path.is_file() or ROOM_FILE_MODES[bool(path.stat().st_mode & 0o100)] not in modes:
            continue
        rel = path.relative_to(base)
        parts = [render_name(part) for part in (*rel.parts[:-1], rel.name.removesuffix(".jinja"))]
        if all(parts):
            found["/".join(parts)] = "template/" + path.relative_to(_TEMPLATE_DIR).as_posix()
    return found


def room_raw(source: str) -> str:
    """A room file that is not a template, as it is (its bytes, never newline-translated)."""
    path = (_TEMPLATE_DIR.parent / source).resolve()
    if not path.is_relative_to(_TEMPLATE_DIR / "_partials"):
        raise ValueError(f"oc_room_raw: {source!r} is not a file of a room")
    return path.read_bytes().decode("utf-8")
