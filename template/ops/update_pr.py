"""Update pull requests: a newer OpenClaw release or template release, proposed as one PR.

    .venv/bin/python -m ops.update_pr check                        # newer releases? (GITHUB_OUTPUT)
    .venv/bin/python -m ops.update_pr open --title T --body-file F # open the PR or update the open one

The scheduled workflow (.github/workflows/update.yml) runs `check`; when something is newer it
runs `make update` with the new pin, `make verify`, `make rehearse` on a state made by the
current release, pushes the branch and runs `open`. Standard library HTTP (ops.ci_http); the answers and the
release-notes link come from the deploy model's files (ops.model, hence .venv).

- OpenClaw: the `latest` dist-tag of the `openclaw` package in the npm registry (base URL:
  $NPM_CONFIG_REGISTRY, else what `npm config get registry` answers); a stable YYYY.M.D newer
  than `openclaw_version` in .copier-answers.yml counts.
- Template: the highest vMAJOR.MINOR.PATCH tag of `_src_path` (`git ls-remote`) above `_commit`.
- Pull request: one branch (BRANCH); an open PR from it is updated (title, body), never
  duplicated. GitHub API base: $GITHUB_API_URL; token: $GITHUB_TOKEN (a header, never argv).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path

import yaml

from . import model as m
from .ci_http import DeployError, api, main_guard, request_json, say

BRANCH = "openclaw-deploy/update"
RELEASE = re.compile(r"\d{4}\.\d{1,2}\.\d{1,2}")
TAG = re.compile(r"v(\d+)\.(\d+)\.(\d+)")


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version))


def answers(path: Path = Path(".copier-answers.yml")) -> dict[str, str]:
    """openclaw_version, _commit and _src_path of the answers file."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    return {k: str(data.get(k) or "") for k in ("openclaw_version", "_commit", "_src_path")}


def registry() -> str:
    base = os.environ.get("NPM_CONFIG_REGISTRY", "").strip()
    if not base:
        try:
            base = subprocess.run(["npm", "config", "get", "registry"], capture_output=True, text=True,
                                  timeout=60, check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError) as err:
            raise DeployError(f"no npm registry: set NPM_CONFIG_REGISTRY or install npm ({err})") from err
    return base.rstrip("/")


def latest_openclaw() -> str:
    url = f"{registry()}/openclaw/latest"
    status, body = request_json("GET", url)
    version = body.get("version") if isinstance(body, dict) else None
    if status != 200 or not isinstance(version, str):
        raise DeployError(f"GET {url}: HTTP {status}, no version in the answer")
    return version


def newest_template_tag(source: str) -> str:
    proc = subprocess.run(["git", "ls-remote", "--tags", "--refs", source], capture_output=True, text=True,
                          timeout=120)
    if proc.returncode:
        raise DeployError(f"git ls-remote {source}: {proc.stderr.strip()[-300:]}")
    tags = [ref.rsplit("/", 1)[1] for ref in proc.stdout.split() if ref.startswith("refs/tags/")]
    return max((t for t in tags if TAG.fullmatch(t)), key=_key, default="")


def plan() -> dict[str, str]:
    """What an update would change: the new pins, a title, whether there is anything to do."""
    have = answers()
    pin, commit = have.get("openclaw_version", ""), have.get("_commit", "")
    latest = latest_openclaw()
    version = latest if RELEASE.fullmatch(latest) and _key(latest) > _key(pin) else pin
    tag = newest_template_tag(have["_src_path"]) if have.get("_src_path") else ""
    template = tag if tag and TAG.fullmatch(commit) and _key(tag) > _key(commit) else commit
    changes = []
    if version != pin:
        changes.append(f"OpenClaw {pin} -> {version}")
    if template != commit:
        changes.append(f"template {commit} -> {template}")
    return {"update": "true" if changes else "false", "current": pin, "openclaw_version": version,
            "template": template, "title": "Update " + ", ".join(changes) if changes else "",
            "notes": m.openclaw()["release_notes"].format(version=version), "branch": BRANCH}


def check() -> None:
    result = plan()
    lines = [f"{k}={v}" for k, v in result.items()]
    out = os.environ.get("GITHUB_OUTPUT")
    if out:
        with open(out, "a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
    say("\n".join(lines))


def open_or_update(title: str, body: str, branch: str = BRANCH, base_branch: str = "main") -> str:
    """Open the PR from ``branch``, or update the one already open. Returns its URL."""
    base = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    repo = os.environ.get("GITHUB_REPOSITORY", "")
    token = os.environ.get("GITHUB_TOKEN", "").strip()
    if "/" not in repo or not token:
        raise DeployError("GITHUB_REPOSITORY (owner/name) and GITHUB_TOKEN must be set")
    owner = repo.split("/", 1)[0]
    head = urllib.parse.quote(f"{owner}:{branch}", safe="")
    found = api("GET", base, f"/repos/{repo}/pulls?state=open&head={head}", token)
    if found:
        number = found[0]["number"]
        pr = api("PATCH", base, f"/repos/{repo}/pulls/{number}", token, {"title": title, "body": body})
        say(f"updated pull request #{number}: {pr.get('html_url', '')}")
    else:
        pr = api("POST", base, f"/repos/{repo}/pulls", token,
                 {"title": title, "body": body, "head": branch, "base": base_branch})
        say(f"opened pull request #{pr.get('number')}: {pr.get('html_url', '')}")
    return pr.get("html_url", "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="find newer releases")
    opened = sub.add_parser("open", help="open the update PR, or update the open one")
    opened.add_argument("--title", required=True)
    opened.add_argument("--body-file", required=True, type=Path)
    opened.add_argument("--branch", default=BRANCH)
    opened.add_argument("--base", default="main")
    args = parser.parse_args(argv)
    if args.command == "check":
        return main_guard(check)
    return main_guard(lambda: open_or_update(args.title, args.body_file.read_text(encoding="utf-8"),
                                             args.branch, args.base))


if __name__ == "__main__":
    sys.exit(main())
