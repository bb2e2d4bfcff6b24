"""`make outdated`: the newest upstream release of every pinned thing (online, advice only).

    python -m ops.outdated          (from the repository root)

Reads the pins from this repo's own files: images.lock (images), binaries.lock
(baked-in CLIs), the `uses: owner/repo@<sha>  # vX` lines of .github/workflows/
(actions) and ops/data/ci.yml `tools` (the CI's platform CLIs). Asks each
upstream named in ops/data/upstreams.yml (GitHub releases, the npm registry,
Docker Hub tags; base URLs overridable there) and prints one table row per pin:
name, pinned, newest ("current" when the pin is the newest), where it is
pinned. A pin it could not ask about reads "?" and gets one line below the
table. Always exits 0: nothing is changed, moving a pin is `make update` or an
edit plus `make pin-images` / scripts/pin-binaries.sh.

HTTP with urllib only. GITHUB_TOKEN (optional) goes to the GitHub API only, as
a header that is dropped on a redirect to another origin, and is never printed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ops import model as m
from ops.checks import read_lock as read_binaries_lock
from ops.pin_images import read_lock as read_images_lock

WIDTH = 80
TIMEOUT = 20
USER_AGENT = "openclaw-deploy-outdated"
USES = re.compile(r"^\s*-?\s*uses:\s*(?P<action>[\w.-]+/[\w.-]+)(?:/[\w./-]*)?@[0-9a-f]{40}\s+#\s*(?P<version>\S+)")
VERSION = re.compile(r"v?(\d+(?:\.\d+)*)")


@dataclass(frozen=True)
class Pin:
    name: str
    pinned: str
    where: str
    api: str    # key of upstreams.yml `apis`, "" when no upstream is known
    ref: str    # repo or package name at that API


@dataclass
class Row:
    pin: Pin
    newest: str = ""
    problem: str = ""


class Unanswered(Exception):
    """The upstream could not say: the message is one short reason, no secrets."""


# ---------------------------------------------------------------- pins

def _upstream(entry: dict) -> tuple[str, str]:
    for api in ("github", "npm", "dockerhub"):
        if entry.get(api):
            return api, str(entry[api])
    return "", ""


def pins(root: Path) -> list[Pin]:
    """Every pin of the repo at ``root``, in table order."""
    ups = m.load("upstreams")
    out: list[Pin] = []
    for entry in read_images_lock(root / "images.lock"):
        api, ref = _upstream(ups["images"].get(entry.name, {}))
        out.append(Pin(entry.name, entry.tag, "images.lock", api, ref))
    catalog = m.binaries_catalog()
    seen = set()
    for name, version, _arch in read_binaries_lock(root / "binaries.lock"):
        if (name, version) not in seen:
            seen.add((name, version))
            repo = catalog.get(name, {}).get("repo", "")
            out.append(Pin(name, version, "binaries.lock", "github" if repo else "", repo))
    workflows = root / ".github" / "workflows"
    for path in sorted(workflows.glob("*.y*ml")) if workflows.is_dir() else []:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = USES.match(line)
            pin = match and Pin(match["action"], match["version"], f"workflows/{path.name}", "github",
                                match["action"])
            if pin and pin not in out:
                out.append(pin)
    for name, tool in m.load("ci")["tools"].items():
        api, ref = ("npm", tool["npm"]) if tool.get("npm") else _upstream(ups["tools"].get(name, {}))
        out.append(Pin(name, str(tool["version"]), "ops/data/ci.yml", api, ref))
    return out


# ---------------------------------------------------------------- asking

def api_base(api: str) -> str:
    """The API's base: its override variable, else ``url``, else what ``url_from`` prints
    (npm: the registry the npm CLI is configured with, never a host written here)."""
    facts = m.load("upstreams")["apis"][api]
    base = os.environ.get(facts["env"]) or facts.get("url") or _configured(facts.get("url_from") or [], facts["env"])
    return base.rstrip("/")


def _configured(argv: list[str], env: str) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired, IndexError):
        raise Unanswered(f"`{' '.join(argv)}` did not answer (install it, or set {env})") from None
    value = proc.stdout.strip()
    if proc.returncode or not value.startswith(("https://", "http://")):
        raise Unanswered(f"`{' '.join(argv)}` gave no URL (set {env})")
    return value


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.netloc


class _SameOriginAuth(urllib.request.HTTPRedirectHandler):
    """Follow redirects; carry the token only to the origin it was meant for."""

    def __init__(self, origin: tuple[str, str], token: str):
        self.origin, self.token = origin, token

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and self.token and _origin(new.full_url) == self.origin:
            new.add_unredirected_header("Authorization", f"Bearer {self.token}")
        return new


def get_json(url: str, token: str = "") -> object:
    """GET ``url`` as JSON. The token (if any) is an unredirected header: urllib
    does not copy it to a redirect; _SameOriginAuth adds it back on the same origin."""
    req = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": USER_AGENT})
    token = token if url.startswith("https://") else ""  # never in clear text
    if token:
        req.add_unredirected_header("Authorization", f"Bearer {token}")
    opener = urllib.request.build_opener(_SameOriginAuth(_origin(url), token))
    try:
        with opener.open(req, timeout=TIMEOUT) as resp:
            return json.loads(resp.read(5_000_000))
    except urllib.error.HTTPError as exc:
        raise Unanswered(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unanswered(str(getattr(reason, "strerror", None) or reason)[:120]) from None
    except ValueError:
        raise Unanswered("the answer is not JSON") from None


def _key(version: str) -> tuple[int, ...]:
    match = VERSION.match(version)
    return tuple(int(p) for p in match[1].split(".")) if match else ()


def _shape(tag: str) -> re.Pattern:
    """The pinned tag with each number generalised: 3.39.9-alpine -> ^\\d+\\.\\d+\\.\\d+-alpine$."""
    return re.compile("^" + re.sub(r"\d+", r"\\d+", re.escape(tag)) + "$")


def newest(pin: Pin) -> str:
    base = api_base(pin.api)
    if pin.api == "github":
        # Every recent release, not releases/latest: that one is the newest by commit date, which
        # can be a patch of an older line (tailscale v1.98.10 came after v1.102.0).
        data = get_json(f"{base}/repos/{pin.ref}/releases?per_page=100", os.environ.get("GITHUB_TOKEN", "").strip())
        tags = [r.get("tag_name") or "" for r in data if isinstance(r, dict) and not r.get("draft")
                and not r.get("prerelease")] if isinstance(data, list) else []
        value = max((tag for tag in tags if _key(tag)), key=_key, default="")
    elif pin.api == "npm":
        data = get_json(f"{base}/-/package/{urllib.parse.quote(pin.ref, safe='@')}/dist-tags")
        value = isinstance(data, dict) and data.get("latest")
    else:
        namespace, _, repository = pin.ref.partition("/")
        data = get_json(f"{base}/v2/namespaces/{namespace}/repositories/{repository}/tags"
                        "?page_size=100&ordering=last_updated")
        shape = _shape(pin.pinned)
        names = [r.get("name", "") for r in (data.get("results") or [])] if isinstance(data, dict) else []
        value = max((n for n in names if shape.match(n)), key=_key, default="")
    if not value:
        raise Unanswered("no release in the answer")
    return str(value)


def ask(pin: Pin) -> Row:
    if not pin.api:
        return Row(pin, problem=f"could not ask about {pin.name}: no upstream known (ops/data/upstreams.yml)")
    try:
        return Row(pin, newest=newest(pin))
    except Unanswered as exc:
        hint = ""
        if pin.api == "github" and str(exc) in ("HTTP 403", "HTTP 429") and not os.environ.get("GITHUB_TOKEN"):
            hint = " (rate limit? set GITHUB_TOKEN)"
        return Row(pin, problem=f"could not ask {pin.api} about {pin.ref}: {exc}{hint}")


# ---------------------------------------------------------------- table

def _shown(row: Row) -> str:
    if row.problem:
        return "?"
    return "current" if _key(row.newest) <= _key(row.pin.pinned) else row.newest


def table(rows: list[Row]) -> list[str]:
    cells = [("name", "pinned", "newest", "where pinned")]
    cells += [(r.pin.name, r.pin.pinned, _shown(r), r.pin.where) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(3)]
    room = WIDTH - sum(widths) - 6
    lines = []
    for cell in cells:
        where = cell[3] if len(cell[3]) <= room else "..." + cell[3][-(room - 3):]
        lines.append("  ".join(v.ljust(w) for v, w in zip(cell[:3], widths)) + "  " + where)
    return [line.rstrip()[:WIDTH] for line in lines]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args in (["-h"], ["--help"]):
        print(__doc__.strip())
        return 0
    if args:
        print("outdated: takes no arguments (python -m ops.outdated --help)", file=sys.stderr)
        return 2
    found = pins(Path.cwd())
    with ThreadPoolExecutor(max_workers=8) as pool:
        rows = list(pool.map(ask, found))
    print("\n".join(table(rows)))
    newer = sum(1 for r in rows if _shown(r) not in ("current", "?"))
    problems = [r.problem for r in rows if r.problem]
    print(f"\n{newer} of {len(rows)} pins have a newer upstream release"
          + (f"; {len(problems)} could not be asked:" if problems else "."))
    for problem in problems:
        print(problem)
    if newer:
        print("Advice only, nothing changed. Move a pin with `make update` (template\n"
              "releases) or an edit, then `make pin-images` or scripts/pin-binaries.sh.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
