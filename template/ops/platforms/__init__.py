"""One room per platform: ``ops/platforms/<kind>.py`` holds everything the ops
package knows about a platform, and this registry finds it.

A platform's ``kind`` in ``ops/data/platforms.yml`` names its module (fly,
compose, railway, northflank, render, kubernetes); providers of one kind (gcp and
vps run Docker Compose) share the module and differ in data. No module outside
this package names a platform: ``declared``, ``checks``, ``cost``, ``remote``,
``troubleshoot``, ``verify`` and ``uptime`` ask ``get(platform)`` or
``for_kind(kind)``.

Modules are imported when first asked for, so the layers below (model,
declared, checks, runner) never import a platform at import time; a platform
module imports those layers.
"""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path
from types import ModuleType
from typing import Any, Mapping, Protocol, runtime_checkable


@runtime_checkable
class Platform(Protocol):
    """What every ``ops/platforms/<kind>.py`` provides, as module-level names."""

    REMOTE_NEEDS: tuple[str, ...]
    """Environment variables ``remote_values`` needs beyond the answers (empty: none)."""

    def read(self, root: Path, declared: Any) -> None:
        """Its files read back into ``declared`` (an ``ops.declared.Declared``)."""

    def validate(self, root: Path, model: Any) -> list[Any]:
        """Offline validators of its files (``make verify``): ``checks.Result`` rows."""

    def live(self, live: Any) -> list[Any]:
        """Live checks through its CLI or API (``ops.live.Live`` -> ``checks.Result`` rows)."""

    def cost(self, p: dict[str, Any], est: Any, s: Any) -> None:
        """Its cost lines for ``s`` (``ops.cost.Sizing``) from its prices ``p``, added to ``est``."""

    def remote_values(self, model: Any) -> dict[str, str]:
        """The values platforms.yml ``transfer`` argv names (``{app}``, ...): ``ops.remote``."""

    def private_status(self, app: str, service: str, environment: str) -> tuple[bool, str]:
        """Uptime for a private deploy: (healthy, what was seen), from CI (``ops.uptime``)."""

    def ci_credentials(self, model: Any, env: dict[str, str], workdir: Path) -> None:
        """The scheduled backup job's CLI credentials from its secrets in ``env`` (``ops.remote``)."""


def _model():
    from .. import model

    return model


def kinds() -> list[str]:
    """Every platform module here (no data needed: uptime's ``--kind`` runs on a bare python3)."""
    import pkgutil

    return sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_"))


def kind_of(platform: str) -> str | None:
    """The platform's kind (its module's name), None for a platform not in the data."""
    facts = _model().platforms().get(platform)
    return facts.get("kind", platform) if isinstance(facts, dict) else None


def for_kind(kind: str) -> Platform:
    """The module of a kind (``ops/platforms/<kind>.py``)."""
    if not kind.isidentifier() or kind.startswith("_"):
        raise ValueError(f"platform kind must name a module of ops/platforms; got {kind!r}")
    module: ModuleType = importlib.import_module(f"{__name__}.{kind}")
    return module  # type: ignore[return-value]


def get(platform: str) -> Platform | None:
    """The module of a platform named in platforms.yml (None when it is not there)."""
    kind = kind_of(platform)
    return for_kind(kind) if kind else None


def api_fact(platform: str) -> dict[str, str]:
    """platforms.yml ``<platform>.api``: ``{base, env}`` (the base and the variable
    that overrides it). Fly's CI health wait (``python3 -m ops.platforms.fly``) and
    the uptime job run with the standard library only, so without PyYAML the one flow-mapping line is read
    as text (tests/platforms/test_registry.py holds both readers equal)."""
    try:
        import yaml  # noqa: F401
    except ImportError:
        return _api_line(platform)
    return dict(_model().platform_facts(platform)["api"])


_API_LINE = re.compile(r'^  api: \{base: "(?P<base>[^"]+)", env: (?P<env>[A-Z_][A-Z0-9_]*)\}$')


def _api_line(platform: str) -> dict[str, str]:
    inside = False
    for line in (Path(__file__).resolve().parent.parent / "data" / "platforms.yml").read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            inside = line == f"{platform}:"
        elif inside and (match := _API_LINE.match(line)):
            return match.groupdict()
    raise KeyError(f"platforms.yml: no `api: {{base: \"...\", env: NAME}}` line under {platform}")


def api_base(platform: str, env: Mapping[str, str] | None = None) -> str:
    """A platform's API base: its override variable when set, else the recorded base."""
    fact = api_fact(platform)
    env = os.environ if env is None else env
    return env.get(fact["env"]) or fact["base"]
