"""One command inside the running deploy, as argv, from platforms.yml `exec`.

The runbook's channel and tunnel steps print ``exec.command`` for a person at a
terminal; a runbook that runs the command itself (``make cost P='-p mode live'``)
needs the same command without a terminal: no ``-it``/``--pty``, and Compose's
``-T``. Where ``exec`` has a ``where`` that is not this machine's shell (Render's
dashboard Shell) there is no argv: the caller says where to run it instead.
Compose (gcp, vps) runs on the VM, in the repo, like the troubleshooting live mode.

Per-platform differences are in ``BATCH`` (one entry a platform), so the whole
table can move into ``ops/platforms/<name>.py`` later.
"""

from __future__ import annotations

import shlex

from . import model as m

# platform -> how its interactive exec line becomes a batch one:
# (flags to drop, flags to add after the first word pair, where it runs)
BATCH: dict[str, dict] = {
    "fly": {"drop": ["--pty"]},
    "gcp": {"add_after": ["docker", "compose", "exec"], "add": ["-T"]},
    "vps": {"add_after": ["docker", "compose", "exec"], "add": ["-T"]},
    "railway": {},
    "northflank": {},
    "kubernetes": {"drop": ["-it"]},
    "render": {"manual": True},
}


def argv(platform: str, app: str, region: str | None, cmd: str) -> tuple[list[str] | None, str]:
    """(argv, "") to run ``cmd`` in the deploy, or (None, where to run it by hand)."""
    facts = m.platforms().get(platform) or {}
    spec = facts.get("exec")
    batch = BATCH.get(platform)
    if not spec or batch is None:
        return None, f"no exec recorded for {platform}"
    if batch.get("manual"):
        return None, f"{facts.get('label', platform)} runs commands {spec.get('where', 'by hand').format(app=app, region=region)}"
    line = spec["command"]
    # the command is substituted as one shell word where the template quotes it ("{cmd}")
    words = shlex.split(line.replace('"{cmd}"', "{cmd}").replace("{cmd}", "\0CMD\0"))
    out: list[str] = []
    for word in words:
        word = word.format(app=app, region=region) if "\0" not in word else word
        if word in batch.get("drop", ()):
            continue
        if word == "\0CMD\0":
            quoted = '"{cmd}"' in line
            out += [cmd] if quoted else shlex.split(cmd)
            continue
        out.append(word)
        after = batch.get("add_after")
        if after and out[-len(after):] == after:
            out += batch["add"]
    return out, ""
