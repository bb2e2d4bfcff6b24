"""The deploy model: answers + data files -> every value a deploy file prints.

This module is the single place where a port, a state directory, a health
path or a secret name is derived. The copier template renders its files from
``build(answers)``; the deploy repo's checks and notebooks rebuild the same
model from ``.copier-answers.yml`` and compare the files against it.

Pure Python (stdlib + PyYAML), no copier import, so it runs in a deploy repo.
"""

from __future__ import annotations

import copy
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping


DATA_DIR = Path(__file__).resolve().parent / "data"

# The question names of copier.yml, in form order: the public interface.
FIELDS = (
    "app_name",
    "platform",
    "privacy",
    "domain",
    "region",
    "openclaw_version",
    "gateway_port",
    "vm_size",
    "vm_memory_mb",
    "volume_size_gb",
    "model_providers",
    "primary_model_provider",
    "channels",
    "binaries",
    "tunnel",
    "image_registry",
    "uptime_minutes",
    "backup_schedule",
    "backup_recipient",
)

PRIVACY_CHOICES = ("public", "private")
PORT_RANGE = (1024, 65535)
_DNS_LABEL = re.compile(r"^[a-z][a-z0-9-]{0,61}[a-z0-9]$")
# DNS labels that a YAML 1.1 reader (Kubernetes, PyYAML) turns into null or a
# boolean wherever a platform file prints the name unquoted.
YAML_WORDS = ("null", "true", "false", "yes", "no", "on", "off")
_HOSTNAME = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
# Names that can never get a public certificate (RFC 2606 / 6761): accepted so
# `--defaults` works, but warned about after copy.
PLACEHOLDER_DOMAINS = ("example.com", "example.net", "example.org", ".example", ".invalid", ".test", ".localhost")
_VERSION = re.compile(r"^20\d\d\.(?:[1-9]|1[0-2])\.(?:[1-9]|[12]\d|3[01])(?:-(?:beta\.)?\d+)?$")


@lru_cache(maxsize=None)
def load(name: str) -> dict[str, Any]:
    """Load ``data/<name>.yml`` once per process (copier renders many times)."""
    import yaml  # where it is read: the CI deploy and uptime programs import this module from a bare python3

    with open(DATA_DIR / f"{name}.yml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def platforms() -> dict[str, Any]:
    return load("platforms")


def openclaw() -> dict[str, Any]:
    return load("openclaw")


def binaries_catalog() -> dict[str, Any]:
    return load("binaries")["binaries"]


def binaries_meta() -> dict[str, Any]:
    """Release host, architectures and date read (binaries.yml top level)."""
    return {k: v for k, v in load("binaries").items() if k != "binaries"}


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in str(version).split("."))


def binary_naming(name: str, entry: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The release naming of the pinned version of CLI ``name`` (binaries.yml).

    Raises ValueError when the pinned version is in no recorded range or in a
    range without Linux assets: a build would download nothing.
    """
    entry = entry if entry is not None else binaries_catalog()[name]
    version = _version_key(entry["version"])
    for rng in entry.get("naming") or ():
        if _version_key(rng["from"]) <= version <= _version_key(rng["to"]):
            if not rng.get("linux"):
                raise ValueError(f"binaries: {name} {entry['version']} has no Linux release assets "
                                 f"({' '.join(str(rng.get('why', '')).split())}); pin a later version")
            return rng
    raise ValueError(f"binaries: no release naming recorded for {name} {entry['version']} "
                     f"(binaries.yml: add a naming range read from its goreleaser config)")


def platform_facts(platform: str) -> dict[str, Any]:
    return platforms()[platform]


# --------------------------------------------------------------------------
# Validation: one function per field (model.VALIDATORS), each returning "" or a message that
# names the field and what is allowed. copier.yml calls these through the
# Jinja extension; tests call them directly.
# --------------------------------------------------------------------------


def _allowed(values: Iterable[Any]) -> str:
    return ", ".join(str(v) for v in values)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{1,9}", value.strip()):
        return int(value)
    return None


def _as_list(value: Any) -> list[Any] | None:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        import yaml

        parsed = yaml.safe_load(value)
        if isinstance(parsed, list):
            return parsed
        if isinstance(parsed, str):
            return [parsed]
    return None


def _check_multi(what: str, value: Any, allowed: Iterable[str]) -> str:
    allowed = list(allowed)
    items = _as_list(value)
    if items is None:
        return f"expected a list of names\nany {what} of: {_allowed(allowed)}; got {value!r}"
    bad = [item for item in items if item not in allowed]
    if bad:
        return f"not a known {what}\n{_allowed(bad)}: not allowed; choose any of: {_allowed(allowed)}"
    return ""


def memory_range(platform: str, size: str) -> tuple[int, int]:
    low, high = platform_facts(platform)["sizes"][size]["memory_mb"]
    return int(low), int(high)


def usable_memory_range(platform: str, size: str) -> tuple[int, int]:
    """The memory a size can be given that is not refused: its range above the floor.

    The choice labels, the memory question's help and its check all read this one range."""
    low, high = memory_range(platform, size)
    floor = int(openclaw()["memory"]["refuse_below_mb"])
    return (max(low, floor), high) if high >= floor else (low, high)  # below: the size is refused


def memory_help(platform: str | None, size: str | None) -> str:
    """The vm_memory_mb question's help for this size (what its check accepts, warns about, refuses)."""
    mem = openclaw()["memory"]
    floor, recommended = int(mem["refuse_below_mb"]), int(mem["recommended_mb"])
    facts = platforms().get(platform) if isinstance(platform, str) else None
    if not facts or size not in facts["sizes"]:
        return (f"Memory in MB. {recommended} recommended; below {floor} refused\n"
                "(an idle gateway uses ~810 MB).")
    low, high = usable_memory_range(platform, size)
    lines = [f"Memory in MB for {size}: {low}-{high}, in steps of 256."]
    if low < recommended <= high:
        lines.append(f"{recommended} recommended; {low}-{recommended - 256} accepted with a warning.")
    if memory_range(platform, size)[0] < floor:
        lines.append(f"Below {floor} refused (an idle gateway uses ~810 MB).")
    return "\n".join(lines)


def gateway_port_help(answers: Mapping[str, Any]) -> str:
    """The gateway_port question's help: who forwards to the port, by privacy."""
    first = f"Port the gateway listens on inside the machine ({PORT_RANGE[0]}-{PORT_RANGE[1]});"
    if answers.get("privacy") == "private":
        return first + "\nonly the private network, a tunnel or SSH reach it."
    facts = platforms().get(answers.get("platform")) if isinstance(answers.get("platform"), str) else None
    proxy = (facts or {}).get("proxy") or {}
    who = f"{proxy['service'].capitalize()} (the HTTPS proxy)" if proxy.get("service") else "the platform's proxy"
    return first + f"\n{who} forwards to it."


def volume_help(answers: Mapping[str, Any]) -> str:
    """The volume_size_gb question's help: a volume, or a Compose VM's boot disk."""
    facts = platforms().get(answers.get("platform")) if isinstance(answers.get("platform"), str) else None
    if facts and facts.get("host"):
        return ("Persistent disk in GB: the VM's boot disk, where the Docker\n"
                "volumes (config, state and workspace) live.")
    return "Persistent volume size in GB (config, state and workspace live\nthere)."


def gateway_webhook_channels() -> list[str]:
    """Channels with a webhook mode on the gateway port: the only paths ngrok forwards."""
    return [ch for ch, facts in openclaw()["channels"].items() if facts.get("webhook_paths")]


def default_memory_mb(platform: str | None, size: str | None) -> int:
    """The recommended memory, moved into the size's range (fixed-memory sizes)."""
    recommended = int(openclaw()["memory"]["recommended_mb"])
    facts = platforms().get(platform) if isinstance(platform, str) else None
    if not facts or size not in facts["sizes"]:
        return recommended
    low, high = memory_range(platform, size)
    return min(max(recommended, low), high)


def needs_domain(answers: Mapping[str, Any]) -> bool:
    """The `domain` question applies: a public deploy on a platform whose HTTPS
    name the user brings (Caddy on a VM, a Kubernetes Ingress)."""
    facts = platforms().get(answers.get("platform")) if isinstance(answers.get("platform"), str) else None
    return bool(facts and facts.get("needs_domain") and answers.get("privacy") == "public")


# An image repository a cluster can pull from: registry host (with a dot or a
# port, or localhost), then at least one lowercase path component; no tag.
_IMAGE_REPO = re.compile(
    r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+(?::\d{1,5})?"
    r"|localhost(?::\d{1,5})?|[a-z0-9-]+:\d{1,5})"
    r"(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)+$")
PLACEHOLDER_REGISTRY_OWNER = "your-github-user"


def needs_image_registry(answers: Mapping[str, Any]) -> bool:
    """A platform that runs the official image as is (platforms.yml ``official_image_in``) runs a
    custom one for baked CLIs or a tunnel agent: someone must build and push it, so the deploy
    needs a repository in a registry."""
    facts = platforms().get(str(answers.get("platform")), {})
    return bool(isinstance(facts, dict) and facts.get("official_image_in")) and bool(
        (_as_list(answers.get("binaries")) or [])
        # a tunnel exists on private deploys only (the question is not asked on public ones)
        or (answers.get("privacy") == "private" and answers.get("tunnel") not in (None, "", "none")))


def default_image_registry(answers: Mapping[str, Any]) -> str:
    return f"ghcr.io/{PLACEHOLDER_REGISTRY_OWNER}/{answers.get('app_name') or 'openclaw'}-gateway"


def image_has_registry(reference: str) -> bool:
    """``reference`` names a registry host (else a runtime pulls it from Docker Hub)."""
    first, _, rest = str(reference).partition("/")
    return bool(rest) and ("." in first or ":" in first or first == "localhost")


def uptime_facts() -> dict[str, Any]:
    """The scheduled uptime workflow's interval choices (data/ci.yml ``uptime``)."""
    return load("ci")["uptime"]


def backup_facts() -> dict[str, Any]:
    """The scheduled backup workflow's defaults and secrets (data/ci.yml ``backup``)."""
    return load("ci")["backup"]


# A cron field: numbers, ranges, steps, lists, `*` (GitHub's schedule takes POSIX cron,
# 5 fields, UTC; names like MON/JAN too). Ranges per field: minute hour day month weekday.
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_CRON_NAMES = (None, None, None,
               ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
               ("sun", "mon", "tue", "wed", "thu", "fri", "sat"))


def _cron_value(text: str, field: int) -> int | None:
    names = _CRON_NAMES[field]
    if names and text.lower() in names:
        return names.index(text.lower()) + (1 if field == 3 else 0)
    if not text.isdigit():
        return None
    low, high = _CRON_RANGES[field]
    return int(text) if low <= int(text) <= high else None


def cron_problem(expr: str) -> str:
    """"" when ``expr`` is a 5-field cron expression GitHub's `schedule` takes, else why not."""
    fields = expr.split()
    if len(fields) != 5:
        return f"needs 5 fields (minute hour day month weekday), got {len(fields)}"
    labels = ("minute", "hour", "day", "month", "weekday")
    for i, part in enumerate(fields):
        for item in part.split(","):
            base, _, step = item.partition("/")
            if step and (not step.isdigit() or int(step) == 0):
                return f"{labels[i]} '{item}': the step after / must be a whole number above 0"
            if base == "*":
                continue
            ends = base.split("-")
            if len(ends) > 2 or any(_cron_value(e, i) is None for e in ends):
                low, high = _CRON_RANGES[i]
                return f"{labels[i]} '{item}': use {low}-{high}, a range a-b, a list a,b, */n or *"
    return ""


# age's X25519 recipient: Bech32 (BIP 173) with the human-readable part "age": "age1" and
# 58 data characters (32 bytes and a 6-character checksum). Checked here with the checksum,
# so a key mistyped in the form is refused there (copier's environment has no age library).
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _bech32_polymod(values: Iterable[int]) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for bit in range(5):
            check ^= generator[bit] if (top >> bit) & 1 else 0
    return check


def age_recipient_problem(value: Any) -> str:
    """"" when ``value`` is an age X25519 public key (age1...), else why not: a short first
    line, the detail on the second. Never repeats a secret key (AGE-SECRET-KEY-...)."""
    text = value.strip() if isinstance(value, str) else ""
    if text.upper().startswith("AGE-SECRET-KEY-"):
        return ("that is a SECRET key\ngive its public half (age-keygen -y <identity file> prints age1...) "
                "and make a new identity: this one was typed into a form")
    if not text.startswith("age1"):
        shown = repr(value) if not isinstance(value, str) else repr(text[:12] + ("..." if len(text) > 12 else ""))
        return f"not an age public key\none starts with age1 (age-keygen -y <identity file>); got {shown}"
    data = text[4:]
    if len(data) != 58 or any(ch not in _BECH32 for ch in data):
        return (f"not an age public key\nage1 and 58 characters of {_BECH32}; "
                f"got {len(data)} characters after age1")
    hrp = [ord(ch) >> 5 for ch in "age"] + [0] + [ord(ch) & 31 for ch in "age"]
    if _bech32_polymod(hrp + [_BECH32.index(ch) for ch in data]) != 1:
        return "not an age public key\nits checksum does not match (a typo?): copy it again"
    return ""


def default_domain(answers: Mapping[str, Any]) -> str:
    return f"{answers.get('app_name') or 'openclaw'}.example.com"


def is_placeholder_domain(domain: str | None) -> bool:
    return bool(domain) and (domain in PLACEHOLDER_DOMAINS[:3] or domain.endswith(
        tuple(d if d.startswith(".") else "." + d for d in PLACEHOLDER_DOMAINS)))


# Questions the platform may decide (one region, a size that fixes memory, an
# unsized volume): not asked then, and a different value given with -d is refused.
DERIVED_FIELDS = ("region", "vm_memory_mb", "volume_size_gb")


def asked(name: str, answers: Mapping[str, Any]) -> bool:
    """Whether copier asks ``name`` for these answers (its ``when:``).

    A question is asked only when its answer can change a file or a command:
    one region to choose from, a machine type that fixes the memory, or a
    platform whose volume takes no size leave nothing to decide.
    """
    facts = platforms().get(answers.get("platform")) if isinstance(answers.get("platform"), str) else None
    if name == "domain":
        return needs_domain(answers)
    if name == "primary_model_provider":
        return len(_as_list(answers.get("model_providers")) or []) > 1
    if name == "tunnel":  # a public deploy has the platform's HTTPS URL already
        return answers.get("privacy") == "private"
    if name == "image_registry":
        return needs_image_registry(answers)
    if name == "backup_recipient":  # no schedule, no key to encrypt with
        return str(answers.get("backup_schedule") or "").strip() != "off"
    if facts is None:
        return True
    if name == "region":
        return len(facts["regions"]) > 1
    if name == "vm_memory_mb":
        size = answers.get("vm_size")
        if size in facts["sizes"]:
            low, high = memory_range(answers["platform"], size)
            return low != high
        return True
    if name == "volume_size_gb":
        return facts["volume"].get("sized", True)
    return True


def derived(name: str, answers: Mapping[str, Any]) -> Any:
    """The value a question that is not asked takes (see ``asked``)."""
    facts = platforms().get(answers.get("platform")) if isinstance(answers.get("platform"), str) else {}
    if name == "region":
        return facts.get("default_region")
    if name == "vm_memory_mb":
        return default_memory_mb(answers.get("platform"), answers.get("vm_size"))
    if name == "volume_size_gb":
        return (facts.get("volume") or {}).get("default_gb", 1)
    if name == "primary_model_provider":
        chosen = _as_list(answers.get("model_providers")) or []
        return chosen[0] if chosen else None
    return answers.get(name)


def complete(answers: Mapping[str, Any]) -> dict[str, Any]:
    """``answers`` with every question that is not asked set to its derived value.

    copier records no answer for a question it did not ask, and `copier update
    -d vm_memory_mb=...` on a machine type that fixes memory passes a value
    nobody checks: both become the value the platform actually gives.
    Answers files of earlier releases (no ``primary_model_provider``) work too.
    """
    out = dict(answers)
    for name in (*DERIVED_FIELDS, "primary_model_provider"):
        if not asked(name, out) or (name == "primary_model_provider" and name not in out):
            out[name] = derived(name, out)
    # answers files of 0.1.0 have no uptime_minutes: the default (the check runs)
    if out.get("uptime_minutes") in (None, ""):
        out["uptime_minutes"] = uptime_facts()["default_minutes"]
    # answers files of 0.1.0/0.2.0 have no backup questions: the daily schedule, and no
    # recipient, so no backup workflow until one is given (make update, RUNBOOK Day two)
    if out.get("backup_schedule") in (None, ""):
        out["backup_schedule"] = backup_facts()["default_schedule"]
    if out.get("backup_recipient") is None:
        out["backup_recipient"] = ""
    # answers files of 0.1.0 (Kubernetes with a custom image) have no image_registry:
    # the placeholder, which make verify and the post-copy message warn about
    if needs_image_registry(out) and not out.get("image_registry"):
        out["image_registry"] = default_image_registry(out)
    return out


def _size_refusal(platform: str, size: str) -> str:
    """Why a listed size can never run the gateway ("" when it can)."""
    spec = platform_facts(platform)["sizes"][size]
    if spec.get("refuse"):
        return " ".join(str(spec["refuse"]).split())
    floor = openclaw()["memory"]["refuse_below_mb"]
    _, high = memory_range(platform, size)
    if high < floor:
        return (f"it has at most {high} MB and an idle OpenClaw gateway already uses about 810 MB "
                f"(the floor is {floor} MB)")
    return ""


@dataclass(frozen=True)
class Field:
    """One answer being checked, with what its validator may read."""
    name: str
    value: Any
    answers: Mapping[str, Any]
    platform: Any
    facts: dict[str, Any] | None  # the platform's facts; None while the platform is not valid
    plats: dict[str, Any]


# field -> its validator ("" or the message); one small named function per question
VALIDATORS: dict[str, Callable[[Field], str]] = {}
# checked before the platform is known to be valid (the others wait for it)
PLATFORM_FREE = ("app_name", "platform", "privacy")


def _validates(name: str) -> Callable[[Callable[[Field], str]], Callable[[Field], str]]:
    def register(check: Callable[[Field], str]) -> Callable[[Field], str]:
        VALIDATORS[name] = check
        return check
    return register


def validate_field(name: str, answers: Mapping[str, Any]) -> str:
    """Return "" when ``answers[name]`` is valid, else why not.

    The message leads with the reason in a first line short enough to stay
    on screen after copier's own prefix (``Validation error for question
    '<name>': ``) in an 80-column terminal; the value given and what is
    allowed follow on the next line. It does not repeat the field name:
    copier names it, and ``errors`` adds it where copier does not.
    """
    plats = platforms()
    platform = answers.get("platform")
    facts = plats.get(platform) if isinstance(platform, str) else None
    given = Field(name, answers.get(name), answers, platform, facts, plats)
    if name not in PLATFORM_FREE:
        if facts is None:
            # Platform-dependent fields are checked once the platform is valid.
            return ""
        if name in DERIVED_FIELDS and not asked(name, answers):
            return _fixed_by_platform(given)
    check = VALIDATORS.get(name)
    if check is None:
        raise KeyError(f"unknown field {name!r}")
    return check(given)


def _fixed_by_platform(f: Field) -> str:
    """Not asked: the platform decides. A value given anyway (`-d`) must agree."""
    name, value, answers, platform, facts = f.name, f.value, f.answers, f.platform, f.facts
    fixed = derived(name, answers)
    if value is None or str(value) == str(fixed):
        return ""
    if name == "region":
        return (f"{platform} has one region: {fixed}\n"
                f"region is not asked on {facts['label']}; leave it out; got {value!r}")
    if name == "vm_memory_mb":
        return (f"fixed by vm_size: {fixed} MB\n"
                f"{answers.get('vm_size')} on {facts['label']} has no other; choose another "
                f"vm_size to change it (vm_memory_mb is not asked here); got {value!r}")
    return (f"the volume takes no size here\n{facts['label']} sizes the volume itself and bills "
            f"the GB it stores; leave volume_size_gb out; got {value!r}")


@_validates("app_name")
def _check_app_name(f: Field) -> str:
    value = f.value
    if not isinstance(value, str) or not _DNS_LABEL.fullmatch(value) or "--" in value:
        return (
            "must be a DNS label: a-z, 0-9 and '-'\n"
            f"2-63 characters, starting with a letter, not ending with '-', no '--'; got {value!r}"
        )
    if value in YAML_WORDS:
        return (f"{value!r} is a YAML null/boolean word\n"
                "it would change meaning in the generated platform files; "
                f"choose another name (for example {value}-claw)")
    return ""


@_validates("platform")
def _check_platform(f: Field) -> str:
    value, plats = f.value, f.plats
    if value not in plats:
        return f"not a platform this template knows\nallowed: {_allowed(plats)}; got {value!r}"
    return ""


@_validates("privacy")
def _check_privacy(f: Field) -> str:
    value = f.value
    if value not in PRIVACY_CHOICES:
        return f"must be {' or '.join(PRIVACY_CHOICES)}\ngot {value!r}"
    return ""


@_validates("domain")
def _check_domain(f: Field) -> str:
    value, answers, facts = f.value, f.answers, f.facts
    if not needs_domain(answers):
        return ""
    if not isinstance(value, str) or not _HOSTNAME.fullmatch(value):
        return (
            "needs a hostname like claw.example.org\n"
            f"a public deploy on {facts['label']} gets its HTTPS certificate for this name: "
            f"lowercase, at least one dot, no scheme, port or path; got {value!r}"
        )
    return ""


@_validates("region")
def _check_region(f: Field) -> str:
    value, platform, facts, plats = f.value, f.platform, f.facts, f.plats
    regions = facts["regions"]
    if value not in regions:
        others = [p for p, f in plats.items() if value in f.get("regions", {})]
        hint = f"{value!r} is a {_allowed(others)} region; " if others else f"got {value!r}; "
        return f"not a region of platform {platform}\n{hint}allowed: {_allowed(regions)}"
    return ""


@_validates("openclaw_version")
def _check_openclaw_version(f: Field) -> str:
    value = f.value
    if not isinstance(value, str) or not _VERSION.fullmatch(value):
        return (
            "pin a release: YYYY.M.D\n"
            f"for example {openclaw()['default_version']}, never 'latest'; got {value!r}"
        )
    return ""


@_validates("gateway_port")
def _check_gateway_port(f: Field) -> str:
    value = f.value
    port = _as_int(value)
    if port is None or not PORT_RANGE[0] <= port <= PORT_RANGE[1]:
        return f"must be a whole number {PORT_RANGE[0]}-{PORT_RANGE[1]}\ngot {value!r}"
    return ""


@_validates("vm_size")
def _check_vm_size(f: Field) -> str:
    value, platform, facts = f.value, f.platform, f.facts
    usable = [s for s in facts["sizes"] if not _size_refusal(platform, s)]
    if value not in facts["sizes"]:
        return (f"not a size of platform {platform}\n"
                f"{facts['label']} sizes: {_allowed(facts['sizes'])}; got {value!r}")
    reason = _size_refusal(platform, value)
    if reason:
        return (f"this size can't run the gateway\n{value} on {facts['label']} is refused: "
                f"{reason}; choose one of: {_allowed(usable)}")
    return ""


@_validates("vm_memory_mb")
def _check_vm_memory_mb(f: Field) -> str:
    value, answers, platform, facts = f.value, f.answers, f.platform, f.facts
    mem = _as_int(value)
    floor = openclaw()["memory"]["refuse_below_mb"]
    if mem is None:
        return f"must be a whole number of MB\nfor example 2048 (recommended); got {value!r}"
    if mem < floor:
        return (
            f"refused: the floor is {floor} MB\n"
            "an idle OpenClaw gateway already uses about 810 MB and would be killed for running "
            f"out of memory ({openclaw()['memory']['recommended_mb']} recommended); got {mem}"
        )
    size = answers.get("vm_size")
    if size in facts["sizes"]:
        low, high = usable_memory_range(platform, size)
        if not low <= mem <= high or mem % 256:
            return f"use {low}-{high} MB, in steps of 256\nthe range of {size} on {facts['label']}; got {mem}"
    return ""


@_validates("volume_size_gb")
def _check_volume_size_gb(f: Field) -> str:
    value, facts = f.value, f.facts
    gb = _as_int(value)
    vol = facts["volume"]
    if gb is None or not vol["min_gb"] <= gb <= vol["max_gb"]:
        return (
            f"use whole GB from {vol['min_gb']} to {vol['max_gb']}\n"
            f"the volume limits of {facts['label']}; got {value!r}"
        )
    return ""


@_validates("model_providers")
def _check_model_providers(f: Field) -> str:
    value = f.value
    return _check_multi("provider", value, openclaw()["model_providers"])


@_validates("primary_model_provider")
def _check_primary_model_provider(f: Field) -> str:
    value, answers = f.value, f.answers
    chosen = _as_list(answers.get("model_providers")) or []
    if len(chosen) < 2 and value in (None, "", *chosen):
        return ""
    if not chosen:  # given with -d next to an empty model_providers: it would be dropped
        return f"no provider is chosen\nmodel_providers is empty: leave it out; got {value!r}"
    if value not in chosen:
        return f"pick a chosen provider\nmodel_providers has: {_allowed(chosen)}; got {value!r}"
    return ""


@_validates("channels")
def _check_channels(f: Field) -> str:
    value = f.value
    return _check_multi("channel", value, openclaw()["channels"])


@_validates("binaries")
def _check_binaries(f: Field) -> str:
    value = f.value
    return _check_multi("binary", value, binaries_catalog()) or _check_binary_releases(value)


@_validates("image_registry")
def _check_image_registry(f: Field) -> str:
    value, answers = f.value, f.answers
    if not needs_image_registry(answers):
        return ""
    if not isinstance(value, str) or not _IMAGE_REPO.fullmatch(value):
        return (
            "needs a registry host, no tag\n"
            f"e.g. ghcr.io/<owner>/{answers.get('app_name') or 'openclaw'}-gateway; got {value!r}"
        )
    return ""


@_validates("tunnel")
def _check_tunnel(f: Field) -> str:
    value = f.value
    tunnels = openclaw()["tunnels"]
    if value is None:  # not asked on public deploys (copier `when:`): none
        return ""
    if value not in tunnels:
        return f"not a known tunnel\nallowed: {_allowed(tunnels)}; got {value!r}"
    return ""


@_validates("uptime_minutes")
def _check_uptime_minutes(f: Field) -> str:
    value = f.value
    allowed = uptime_facts()["allowed_minutes"]
    if _as_int(value) not in allowed:
        return (f"not an interval offered\nminutes between two uptime checks: 0 (off) or one of "
                f"{', '.join(str(a) for a in allowed if a)} (GitHub runs a schedule at most every 5); got {value!r}")
    return ""


@_validates("backup_schedule")
def _check_backup_schedule(f: Field) -> str:
    value = f.value
    example = f"for example {backup_facts()['default_schedule']!r} (daily, 03:17 UTC)"
    if not isinstance(value, str):
        return f"a cron expression or off\n{example}; got {value!r}"
    if value.strip() == "off":
        return ""
    problem = cron_problem(value)
    if problem:
        return f"a cron expression or off\n{problem}; {example}"
    return ""


@_validates("backup_recipient")
def _check_backup_recipient(f: Field) -> str:
    if not asked(f.name, f.answers) or f.value in (None, ""):
        return ""  # empty: no scheduled backups (the post-copy message says so)
    return age_recipient_problem(f.value)


def _check_binary_releases(value: Any) -> str:
    """A selected CLI whose pinned version has no Linux asset cannot be baked in."""
    for name in _as_list(value) or ():
        try:
            binary_naming(name)
        except ValueError as exc:
            return str(exc)
    return ""


def errors(answers: Mapping[str, Any]) -> list[str]:
    """Every validation message for a full answer set, in form order, each
    naming its field (``field: reason``): outside copier nobody else does."""
    answers = complete(answers)
    return [f"{name}: {msg}" for name in FIELDS if asked(name, answers) and (msg := validate_field(name, answers))]


class AnswerError(ValueError):
    """Raised by ``build`` when answers are invalid; ``messages`` lists why."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


# --------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Binary:
    name: str
    repo: str
    version: str
    asset: str
    checksums: str
    binary: str
    secrets: tuple[str, ...] = ()
    # Environment the CLI needs in the image (Dockerfile ENV), already formatted.
    env: tuple[tuple[str, str], ...] = ()
    lock_source: str = ""

    @property
    def release_path(self) -> str:
        """Release download path below the release host (``{arch}`` left in)."""
        return f"{self.repo}/releases/download/v{self.version}"

    def asset_name(self, arch: str) -> str:
        return self.asset.replace("{arch}", arch)


@dataclass(frozen=True)
class DeployModel:
    app_name: str
    platform: str
    platform_label: str
    kind: str
    privacy: str
    public: bool
    region: str
    openclaw_version: str
    image: str
    port: int
    bind: str
    state_dir: str
    workspace_dir: str
    config_path: str
    volume_name: str
    volume_mount: str
    volume_size_gb: int
    vm_size: str
    vcpu: float
    memory_mb: int
    heap_mb: int
    node_options: str
    startup_path: str
    liveness_path: str
    readiness_path: str
    public_origin: str | None
    allowed_origins: tuple[str, ...]
    tunnel: str
    model_providers: tuple[str, ...]
    channels: tuple[str, ...]
    binaries: tuple[Binary, ...]
    token_env: str
    secret_names: tuple[str, ...]
    optional_env: tuple[str, ...]
    gateway_command: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    domain: str | None = None
    workspace_volume_name: str | None = None
    workspace_volume_mount: str | None = None
    # The env var a platform (or our secrets script) sets to the public origin,
    # substituted into the config at start ("" when the origin is literal).
    origin_env: str = ""
    # Addresses whose forwarded-client headers the gateway accepts: the platform's
    # proxy (public) or the local tunnel agent (private with a tunnel).
    trusted_proxies: tuple[str, ...] = ()
    # Kubernetes with a custom image: the reference `make image` pushes and the
    # Deployment pulls (registry/repository:openclaw_version); "" elsewhere.
    pushed_image: str = ""
    # Seconds between SIGTERM and SIGKILL on a stop (openclaw.yml stop_grace_seconds).
    stop_grace_s: int = 30
    # The path the platform's own health checker probes (platforms.yml checker_probe).
    check_path: str = ""
    # Env variables the entrypoint fills with the platform edge's addresses
    # (name -> ipv4/ipv6), substituted into gateway.trustedProxies.
    edge_address_env: dict[str, str] = field(default_factory=dict)
    # ngrok: the only paths its public endpoint forwards (traffic policy), and
    # the one method each is forwarded for, as (method, path) pairs.
    tunnel_paths: tuple[str, ...] = ()
    tunnel_routes: tuple[tuple[str, str], ...] = ()
    # The selected channels' webhook paths on the gateway port (any tunnel).
    webhook_paths: tuple[str, ...] = ()
    # The provider whose model is the default (others are fallbacks, in order).
    primary_model_provider: str | None = None
    # The gateway container's memory limit: the machine's memory, except on a VM
    # shared with the OS, Docker and Caddy (Compose: see container_memory).
    container_memory_mb: int = 0
    # Compose on a VM below the recommended memory: the swap the container may use
    # (memswap_limit = container_memory_mb + this); 0 elsewhere.
    swap_mb: int = 0
    # Caddy's mem_limit on a public Compose deploy; 0 elsewhere.
    proxy_memory_mb: int = 0
    # Minutes between two runs of the uptime workflow; 0: no uptime workflow.
    uptime_minutes: int = 15
    # The scheduled backup workflow: its cron (UTC) or "off", and the age public key the
    # archive is encrypted to ("" = no workflow: nothing to encrypt with).
    backup_schedule: str = "off"
    backup_recipient: str = ""

    @property
    def scheduled_backups(self) -> bool:
        """Whether .github/workflows/backup.yml exists: a schedule and a recipient."""
        return self.backup_schedule != "off" and bool(self.backup_recipient)

    @property
    def k8s_image(self) -> str:
        """The image the Kubernetes Deployment names: the pushed custom image
        (baked CLIs or a tunnel agent) or the official one."""
        return self.pushed_image or self.image

    @property
    def k8s_image_name(self) -> str:
        """k8s_image without its tag: what a kustomize `images:` entry matches."""
        return self.k8s_image.rsplit(":", 1)[0]

    @property
    def gateway_command_line(self) -> str:
        return " ".join(self.gateway_command)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _binary(name: str, entry: Mapping[str, Any], state_dir: str) -> Binary:
    naming = binary_naming(name, entry)
    version = str(entry["version"])
    return Binary(name=name, repo=entry["repo"], version=version,
                  asset=naming["asset"].replace("{version}", version),
                  checksums=naming["checksums"].replace("{version}", version),
                  binary=entry["binary"], secrets=tuple(entry.get("secrets") or ()),
                  env=tuple((k, str(v).format(state_dir=state_dir)) for k, v in (entry.get("env") or {}).items()),
                  lock_source=str(entry.get("lock_source") or ""))


def heap_mb(memory_mb: int) -> int:
    """V8 old-space size that leaves room for the rest of the process."""
    return int(memory_mb * openclaw()["memory"]["heap_fraction"])


def container_memory(platform: str, memory_mb: int, public: bool) -> tuple[int, int, int]:
    """(gateway limit, swap it may use, Caddy's limit) in MB for a machine of ``memory_mb``.

    Managed platforms give the container the whole size. A Compose VM is shared:
    the OS and Docker keep ``host.reserve_mb`` and Caddy (public) its own limit,
    so the gateway's mem_limit plus those never exceeds the VM. Below the
    recommended memory the VM gets swap and the container may use part of it.
    """
    facts = platform_facts(platform)
    host = facts.get("host")
    if not host:
        return memory_mb, 0, 0
    proxy = int((facts.get("proxy") or {}).get("mem_limit_mb", 0)) if public else 0
    limit = memory_mb - int(host["reserve_mb"]) - proxy
    swap = int(host.get("swap_mb", 0)) if memory_mb < openclaw()["memory"]["recommended_mb"] else 0
    return limit, swap, proxy


def build(answers: Mapping[str, Any]) -> DeployModel:
    """Derive the deploy model from an answer set (raises AnswerError)."""
    answers = complete(answers)
    problems = errors(answers)
    if problems:
        raise AnswerError(problems)
    oc = openclaw()
    facts = platform_facts(answers["platform"])
    public = answers["privacy"] == "public"
    port = int(answers["gateway_port"])
    memory = int(answers["vm_memory_mb"])
    limit, swap, proxy_memory = container_memory(answers["platform"], memory, public)
    heap = heap_mb(limit)
    providers = tuple(_as_list(answers.get("model_providers")) or ())
    channels = tuple(_as_list(answers.get("channels")) or ())
    chosen_bins = _as_list(answers.get("binaries")) or []
    catalog = binaries_catalog()
    bins = tuple(_binary(n, catalog[n], facts["state_dir"]) for n in catalog if n in chosen_bins)
    # The tunnel question is asked on private deploys only (copier.yml `when:`):
    # a public deploy already has the platform's HTTPS URL, and copier records no
    # answer for a question it skipped, so a public deploy has no tunnel.
    tunnel = (answers.get("tunnel") or "none") if answers["privacy"] == "private" else "none"
    tunnel_facts = oc["tunnels"][tunnel]

    secrets: list[str] = [oc["token_env"]]
    for p in providers:
        secrets += oc["model_providers"][p]["secrets"]
    for c in channels:
        secrets += list(oc["channels"][c]["secrets"].values())
    secrets += tunnel_facts["secrets"]
    for b in bins:
        secrets += list(b.secrets)

    domain = answers.get("domain") if needs_domain(answers) else None
    origin = (facts["public_origin"].format(**{**answers, "domain": domain})
              if public and facts.get("public_origin") else None)
    origin_env_match = re.fullmatch(r"(?:https://)?\$\{([A-Z_][A-Z0-9_]*)\}", origin or "")
    allowed = (origin,) if origin else ()
    state_dir = facts["state_dir"]
    command = (
        "node",
        "openclaw.mjs",
        "gateway",
        "--allow-unconfigured",
        "--port",
        str(port),
        "--bind",
        facts["bind"],
    )
    env = {
        "NODE_ENV": "production",
        "OPENCLAW_STATE_DIR": state_dir,
        "OPENCLAW_WORKSPACE_DIR": facts["workspace_dir"],
        "NODE_OPTIONS": f"--max-old-space-size={heap}",
    }
    # Platform variables (port the platform routes to, ...), formatted from the model.
    for key, template in (facts.get("extra_env") or {}).items():
        env[key] = str(template).format(port=port)
    return DeployModel(
        app_name=answers["app_name"],
        platform=answers["platform"],
        platform_label=facts["label"],
        kind=facts.get("kind", answers["platform"]),
        privacy=answers["privacy"],
        public=public,
        region=answers["region"],
        openclaw_version=answers["openclaw_version"],
        image=f"{oc['image']}:{answers['openclaw_version']}",
        port=port,
        bind=facts["bind"],
        state_dir=state_dir,
        workspace_dir=facts["workspace_dir"],
        config_path=f"{state_dir}/openclaw.json",
        volume_name=facts["volume"]["name"],
        volume_mount=facts["volume"]["mount"],
        volume_size_gb=int(answers["volume_size_gb"]),
        vm_size=answers["vm_size"],
        vcpu=facts["sizes"][answers["vm_size"]]["vcpu"],
        memory_mb=memory,
        heap_mb=heap,
        node_options=env["NODE_OPTIONS"],
        startup_path=oc["health"]["startup"],
        liveness_path=oc["health"]["liveness"],
        readiness_path=oc["health"]["readiness"],
        public_origin=origin,
        allowed_origins=allowed,
        tunnel=tunnel,
        model_providers=providers,
        channels=channels,
        binaries=bins,
        token_env=oc["token_env"],
        secret_names=tuple(dict.fromkeys(secrets)),
        optional_env=tuple(tunnel_facts.get("optional_env", ())),
        gateway_command=command,
        env=env,
        domain=domain,
        workspace_volume_name=(facts.get("workspace_volume") or {}).get("name"),
        workspace_volume_mount=(facts.get("workspace_volume") or {}).get("mount"),
        origin_env=origin_env_match.group(1) if origin_env_match else "",
        trusted_proxies=_trusted_proxies(facts, public, tunnel_facts),
        check_path=oc["health"][(facts.get("checker_probe") or {}).get(answers["privacy"], "startup")],
        edge_address_env=dict(facts.get("edge_address_env") or {}) if public else {},
        tunnel_paths=tuple(path for _, path in _tunnel_routes(tunnel_facts, channels)),
        tunnel_routes=_tunnel_routes(tunnel_facts, channels),
        webhook_paths=tuple(dict.fromkeys(p for ch in channels for p in oc["channels"][ch].get("webhook_paths") or [])),
        pushed_image=(f"{answers['image_registry']}:{answers['openclaw_version']}"
                      if needs_image_registry(answers) else ""),
        stop_grace_s=int(oc.get("stop_grace_seconds", 30)),
        primary_model_provider=answers.get("primary_model_provider") if providers else None,
        container_memory_mb=limit,
        swap_mb=swap,
        proxy_memory_mb=proxy_memory,
        uptime_minutes=int(answers["uptime_minutes"]),
        backup_schedule=" ".join(str(answers["backup_schedule"]).split()),
        backup_recipient=str(answers.get("backup_recipient") or "").strip()
        if str(answers["backup_schedule"]).strip() != "off" else "",
    )


def resize_to(model: DeployModel) -> dict[str, Any]:
    """The answers that give this deploy more memory ({} at the largest size).

    Memory doubles within the size's range where the platform takes a memory
    answer; otherwise (or at the top of the range) the next size with more
    memory is named, never the size the deploy already has. ``vm_memory_mb``
    is always in the result (the memory it leads to).
    """
    sizes = platform_facts(model.platform)["sizes"]
    low, high = memory_range(model.platform, model.vm_size)
    if low != high and model.memory_mb < high:
        return {"vm_memory_mb": min(high, model.memory_mb * 2)}
    bigger = sorted((memory_range(model.platform, s)[1], s) for s in sizes
                    if memory_range(model.platform, s)[1] > model.memory_mb and not sizes[s].get("refuse"))
    if not bigger:
        return {}
    _, size = bigger[0]
    nlow, nhigh = memory_range(model.platform, size)
    return {"vm_size": size, "vm_memory_mb": max(nlow, min(nhigh, model.memory_mb * 2))}


def resize_args(model: DeployModel) -> str:
    """``resize_to`` as copier ``-d`` arguments (memory left out where the size fixes it)."""
    to = resize_to(model)
    if "vm_size" in to and len(set(memory_range(model.platform, to["vm_size"]))) == 1:
        to = {"vm_size": to["vm_size"]}
    return " ".join(f"-d {k}={v}" for k, v in to.items())


def _trusted_proxies(facts: Mapping[str, Any], public: bool, tunnel_facts: Mapping[str, Any]) -> tuple[str, ...]:
    """Only the sender that is there: the platform's proxy on a public deploy,
    the tunnel agent (loopback) on a private one with a tunnel, else nothing."""
    out: list[str] = []
    if public:
        proxy = facts.get("proxy") or {}
        out += [str(proxy["address"])] if proxy.get("address") else [str(r) for r in facts.get("trusted_proxies") or ()]
    if tunnel_facts.get("forwards_from"):
        out.append(str(tunnel_facts["forwards_from"]))
    return tuple(dict.fromkeys(out))


def _tunnel_routes(tunnel_facts: Mapping[str, Any], channels: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(method, path) pairs the tunnel's public endpoint forwards: the always-open
    probes with their method, then each channel's webhook paths (POST)."""
    if not tunnel_facts.get("policy_file"):
        return ()
    routes = {path: str(method) for path, method in (tunnel_facts.get("always_open") or {}).items()}
    for ch in channels:
        for path in openclaw()["channels"][ch].get("webhook_paths") or []:
            routes.setdefault(path, str(tunnel_facts["webhook_method"]))
    return tuple((method, path) for path, method in routes.items())


def warnings(model: DeployModel) -> list[str]:
    """Things that deploy but deserve the user's attention (printed after copy)."""
    oc = openclaw()
    out: list[str] = []
    if model.memory_mb < oc["memory"]["recommended_mb"]:
        shared = ""
        if model.container_memory_mb < model.memory_mb:
            shared = (f" On this VM the OS, Docker{' and Caddy' if model.proxy_memory_mb else ''} keep "
                      f"{model.memory_mb - model.container_memory_mb} MB: the gateway gets "
                      f"{model.container_memory_mb} MB plus {model.swap_mb} MB of swap (RUNBOOK: add a swap file).")
        out.append(
            f"vm_memory_mb={model.memory_mb}: accepted, but an idle gateway uses ~810 MB and "
            f"{model.memory_mb} MB may be killed for running out of memory under load; "
            f"{oc['memory']['recommended_mb']} MB is recommended." + shared
        )
    if not model.model_providers:
        out.append(
            "model_providers is empty: the gateway starts, but its agent has no model and "
            "answers nothing until you sign one in inside the machine (`openclaw models auth "
            "login --provider <id>` or `openclaw onboard`; docs/gateway/authentication.md in "
            'the openclaw package) or pick one: `make update ARGS="-d model_providers=[anthropic]"`.'
        )
    if model.domain and is_placeholder_domain(model.domain):
        out.append(
            f"domain={model.domain} is a placeholder: no certificate can be issued for it. Point a DNS "
            'A/AAAA record of a name you own at the machine, then `make update ARGS="-d domain=<that name>"`.'
        )
    if f"/{PLACEHOLDER_REGISTRY_OWNER}/" in model.pushed_image:
        out.append(
            f"image_registry={model.pushed_image.rsplit(':', 1)[0]} is a placeholder: `make image` cannot push "
            'there. `make update ARGS="-d image_registry=<registry>/<owner>/<repo>"` with a repository '
            "you can push to and your cluster can pull from."
        )
    idle = idle_tunnel_note(model)
    out += [idle] if idle else []
    out += [note.text for note in private_channel_notes(model)]
    return out


def idle_tunnel_note(model: DeployModel) -> str | None:
    """The ngrok tunnel forwards nothing a chosen channel listens on (its URL would only 404)."""
    oc = openclaw()
    if model.tunnel != "ngrok" or set(model.tunnel_paths) - set(oc["tunnels"]["ngrok"].get("always_open") or ()):
        return None
    chosen = (f"none of {', '.join(model.channels)} takes webhooks on the gateway port" if model.channels
              else "no channel is chosen")
    return (
        f"tunnel=ngrok forwards only the chosen channels' webhook paths, and {chosen}: its URL answers "
        f"only {', '.join(model.tunnel_paths)}, yet it needs NGROK_AUTHTOKEN. Add a channel that does "
        f"({', '.join(gateway_webhook_channels())}, HTTP mode), or drop it: "
        '`make update ARGS="-d tunnel=none"` (tunnel=tailscale reaches the Control UI).'
    )


@dataclass(frozen=True)
class ChannelNote:
    """A chosen channel on a private deploy without a tunnel: works as started, with a caveat."""

    channel: str
    tunnel_helps: bool  # its webhook is on the gateway port, which a tunnel would forward
    text: str


def private_channel_notes(model: DeployModel) -> list[ChannelNote]:
    oc = openclaw()
    if model.public or model.tunnel != "none":
        return []
    out: list[ChannelNote] = []
    for ch in model.channels:
        note = oc["channels"][ch].get("webhook_mode")
        if note and ch in gateway_webhook_channels():
            out.append(ChannelNote(ch, True,
                f"channels={ch} on a private deploy without a tunnel: the starter config uses "
                f"{oc['channels'][ch]['transport']}, which works; but {note}, so switching to "
                "webhooks needs tunnel=ngrok or tunnel=tailscale (Funnel), or privacy=public."))
        elif note:  # its webhook listens on a port of its own, which no tunnel here forwards
            out.append(ChannelNote(ch, False,
                f"channels={ch} on a private deploy without a tunnel: the starter config uses "
                f"{oc['channels'][ch]['transport']}, which works and needs no inbound URL. {note}, "
                "and its webhook listener is not on the gateway port that a tunnel or the platform "
                "forwards: keep the starter config."))
    return out


def ignored(answers: Mapping[str, Any]) -> list[str]:
    """Answers given (``-d``) to a question these answers never ask, which the deploy drops:
    said after copy, since nothing else shows them (copier records no answer it did not ask)."""
    out: list[str] = []
    tunnel = answers.get("tunnel")
    if answers.get("privacy") == "public" and tunnel not in (None, "", "none"):
        out.append(f"tunnel={tunnel} is ignored: a public deploy already has an HTTPS URL and takes no tunnel "
                   "(it would be a second way in around the platform's proxy); use it with privacy=private.")
    return out


def starter_config(model: DeployModel) -> dict[str, Any]:
    """The openclaw.json seeded onto the volume on first boot.

    Secrets are SecretRefs to environment variables: the file holds names only.
    """
    oc = openclaw()

    def ref(env_name: str) -> dict[str, str]:
        return {"source": "env", "provider": "default", "id": env_name}

    gateway: dict[str, Any] = {
        "mode": "local",
        "bind": model.bind,
        "port": model.port,
        "auth": {"mode": "token", "token": ref(model.token_env)},
    }
    if model.public_origin:
        # The gateway's own external origin: MCP OAuth callbacks, Slack action links, Control UI
        # deep links (docs/gateway/config-gateway.md). A ${VAR} form is substituted at start and
        # must then be a bare https origin, or the config is invalid (measured with 2026.9.6).
        gateway["publicOrigin"] = model.public_origin
    if model.allowed_origins:
        gateway["controlUi"] = {"allowedOrigins": list(model.allowed_origins)}
    if model.trusted_proxies:
        gateway["trustedProxies"] = list(model.trusted_proxies)
    if model.public:  # HTTPS only, from the first visit on (the platform proxy or Caddy terminates TLS)
        gateway["http"] = {"securityHeaders": {"strictTransportSecurity": oc["hsts"]}}
    config: dict[str, Any] = {"gateway": gateway}
    if model.model_providers:
        config["auth"] = {
            "profiles": {
                f"{p}:default": {"mode": "api_key", "provider": p} for p in model.model_providers
            }
        }
        first = model.primary_model_provider or model.model_providers[0]
        order = [first, *(p for p in model.model_providers if p != first)]
        primary, *fallbacks = [oc["model_providers"][p]["model"] for p in order]
        model_block: dict[str, Any] = {"primary": primary}
        if fallbacks:
            model_block["fallbacks"] = fallbacks
        config["agents"] = {"defaults": {"model": model_block}}
    # bounds on runaway use (concurrency, turn and sub-agent timeouts, heartbeat cadence)
    config.setdefault("agents", {}).setdefault("defaults", {}).update(copy.deepcopy(oc["guardrails"]))
    if model.channels:
        channels: dict[str, Any] = {}
        for ch in model.channels:
            facts = oc["channels"][ch]
            block: dict[str, Any] = {"enabled": True, **facts.get("extra", {})}
            for key, env_name in facts["secrets"].items():
                block[key] = ref(env_name)
            channels[ch] = block
        config["channels"] = channels
    return config


def channel_steps(channel: str) -> list[dict[str, str]]:
    """The runbook's first-run steps for a channel (channel_setup.yml): the plugin
    install first when the channel is an official external plugin, then its own steps."""
    entry = load("channel_setup")["channels"][channel]
    steps = [dict(s) for s in entry["steps"]]
    if entry.get("plugin"):
        label = openclaw()["channels"][channel]["label"]
        steps.insert(0, {
            "text": f"{label} is an official plugin outside the core package; install it on the machine "
                    "(kept in the state dir on the volume):",
            "run": f"openclaw plugins install {entry['plugin']}",
        })
    return steps


def answers_from_file(path: str | Path) -> dict[str, Any]:
    """Read a deploy repo's ``.copier-answers.yml`` (private ``_`` keys dropped)."""
    import yaml

    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    return {k: v for k, v in data.items() if not str(k).startswith("_")}


def images(model: DeployModel) -> list[tuple[str, str, str]]:
    """Every image the generated files pull, as (name, tag, where): images.lock
    lists them and `make pin-images` pins each by digest (ops/pin_images.py)."""
    oc = openclaw()
    official = "Dockerfile FROM"
    also_in = platforms().get(model.platform, {}).get("official_image_in")
    if also_in and not model.pushed_image:
        official += f", {also_in}"
    out = [(oc["image"], model.openclaw_version, official)]
    if model.binaries:
        meta = binaries_meta()
        out.append((meta["builder_image"], str(meta["builder_tag"]), "Dockerfile FROM ... AS binaries"))
    if model.tunnel != "none":
        tunnel = oc["tunnels"][model.tunnel]
        out.append((tunnel["image"], str(tunnel["image_tag"]), "Dockerfile FROM ... AS tunnel"))
    proxy = platforms().get(model.platform, {}).get("proxy")
    if model.public and proxy:
        out.append((proxy["image"], str(proxy["tag"]), f"docker-compose.yml service {proxy['service']}"))
    return out
