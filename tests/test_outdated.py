"""`make outdated` (ops/outdated.py) in a generated repo, against RECORDING STAND-INS of
the GitHub, npm and Docker Hub APIs on loopback (tests/support/api_standin.py). Nothing
here reaches a real upstream: the product's own base-URL variables
(OUTDATED_GITHUB_API, OUTDATED_NPM_REGISTRY, OUTDATED_DOCKER_HUB, ops/data/upstreams.yml)
point it at the stand-ins.

Before: no repo could tell its pins had rotted (flyctl 0.3.87 from March 2025 was still
pinned in November 2026).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ops import model as m
from tests.support.api_standin import ApiStandin

TOKEN = "standin-token-never-printed-5f3a9c"
CASE = dict(app_name="claw-old", platform="fly", privacy="private", tunnel="ngrok", binaries=["wacli"])


@pytest.fixture
def apis(tmp_path):
    standin = ApiStandin(tmp_path / "tls")
    yield standin
    standin.close()


def _env(api: ApiStandin, token: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_TOKEN"}
    env.update(api.ca_env(), OUTDATED_GITHUB_API=api.base + "/gh", OUTDATED_NPM_REGISTRY=api.base + "/npm",
               OUTDATED_DOCKER_HUB=api.base + "/hub")
    if token:
        env["GITHUB_TOKEN"] = token
    return env


def run(repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ops.outdated"], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=120)


def releases(newest: str) -> tuple[int, list[dict]]:
    """A GitHub releases page, most recent first: a tag that is no version, a draft and a
    pre-release above the newest, an older line's patch published after it, then the newest."""
    return 200, [{"tag_name": "latest-nightly", "prerelease": False, "draft": False},
                 {"tag_name": "v99999.1.0", "prerelease": False, "draft": True},
                 {"tag_name": "v99999.0.0-rc.1", "prerelease": True, "draft": False},
                 {"tag_name": "v0.0.1", "prerelease": False, "draft": False},
                 {"tag_name": newest, "prerelease": False, "draft": False}]


def answer_everything(api: ApiStandin, repo: Path, newer: bool) -> dict[str, str]:
    """Route every upstream the repo pins; return {name: version the stand-in says is newest}."""
    said = {}

    def bump(version: str) -> str:  # 3.39.9-alpine -> 3.39.10-alpine
        return re.sub(r"\d+(?=\D*$)", lambda n: str(int(n[0]) + 1), version) if newer else version

    ups = m.load("upstreams")
    for line in (repo / "images.lock").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        name, tag = line.split()[:2]
        up = ups["images"][name]
        if "npm" in up:
            said[name] = bump(tag)
            api.route("GET", rf"/npm/-/package/{up['npm']}/dist-tags",
                      (200, {"latest": said[name], "beta": "9999.1.1"}))
        elif "github" in up:
            said[name] = bump(tag)
            api.route("GET", rf"/gh/repos/{up['github']}/releases\?per_page=100", releases(said[name]))
        else:
            said[name] = bump(tag)
            results = [{"name": n} for n in ("latest", said[name], "9999.0.0-debian", tag, "3")]
            namespace, repository = up["dockerhub"].split("/")
            api.route("GET", rf"/hub/v2/namespaces/{namespace}/repositories/{repository}/tags\?.*",
                      (200, {"results": results}))
    catalog = m.binaries_catalog()
    for name, entry in catalog.items():
        said[name] = "v" + bump(entry["version"])
        api.route("GET", rf"/gh/repos/{entry['repo']}/releases\?per_page=100", releases(said[name]))
    workflow = (repo / ".github/workflows/deploy.yml").read_text()
    for action, version in re.findall(r"uses: ([\w.-]+/[\w.-]+)\S*@[0-9a-f]{40}\s+#\s*(\S+)", workflow):
        said[action] = bump(version)
        api.route("GET", rf"/gh/repos/{action}/releases\?per_page=100", releases(said[action]))
    for name, tool in m.load("ci")["tools"].items():
        said[name] = bump(str(tool["version"]))
        if tool.get("npm"):
            escaped = tool["npm"].replace("/", "%2F")  # @railway/cli -> @railway%2Fcli
            api.route("GET", rf"/npm/-/package/{escaped}/dist-tags", (200, {"latest": said[name]}))
        else:
            repo_of = ups["tools"][name]["github"]
            api.route("GET", rf"/gh/repos/{repo_of}/releases\?per_page=100", releases(said[name]))
    return said


def rows(out: str) -> dict[str, list[str]]:
    """name -> its row (the last one where a pin stands in several files: an action in each workflow)."""
    return {row[0]: row for row in all_rows(out)}


def all_rows(out: str) -> list[list[str]]:
    table = out.split("\n\n")[0].splitlines()
    assert table[0].split() == ["name", "pinned", "newest", "where", "pinned"]
    return [line.split() for line in table[1:]]


@pytest.mark.runbook_step("make outdated")
def test_newer_releases_are_listed_in_80_columns(render, apis):
    repo = render(**CASE)
    said = answer_everything(apis, repo, newer=True)
    out = run(repo, _env(apis))
    assert out.returncode == 0, out.stderr
    assert max(len(line) for line in out.stdout.splitlines()) <= 80
    table = rows(out.stdout)
    # every kind of pin is there, with what the stand-in called newest
    assert table["ghcr.io/openclaw/openclaw"][2] == said["ghcr.io/openclaw/openclaw"]
    assert table["ngrok/ngrok"][1] == m.openclaw()["tunnels"]["ngrok"]["image_tag"]
    assert table["ngrok/ngrok"][2] == said["ngrok/ngrok"]  # the -alpine shape, not -debian or latest
    assert table["wacli"][1:] == [m.binaries_catalog()["wacli"]["version"], said["wacli"], "binaries.lock"]
    assert table["actions/checkout"][2] == said["actions/checkout"]
    assert "workflows/deploy.yml" in {r[3] for r in all_rows(out.stdout) if r[0] == "actions/checkout"}
    assert table["superfly/flyctl-actions"][2] == said["superfly/flyctl-actions"]
    assert table["flyctl"][1:] == [m.load("ci")["tools"]["flyctl"]["version"], said["flyctl"], "ops/data/ci.yml"]
    assert table["railway"][2] == said["railway"]
    count = len(all_rows(out.stdout))
    assert f"{count} of {count} pins have a newer upstream release.\n" in out.stdout
    assert "could not ask" not in out.stdout


def test_already_current_says_current(render, apis):
    repo = render(**CASE)
    answer_everything(apis, repo, newer=False)
    out = run(repo, _env(apis))
    assert out.returncode == 0, out.stderr
    table = rows(out.stdout)
    assert {r[2] for r in table.values()} == {"current"}, out.stdout
    assert f"0 of {len(all_rows(out.stdout))} pins have a newer upstream release" in out.stdout


def test_one_failing_upstream_is_one_line_and_the_rest_are_listed(render, apis):
    repo = render(**CASE)
    said = answer_everything(apis, repo, newer=True)
    apis.route("GET", r"/gh/repos/superfly/flyctl/releases\?per_page=100", (502, "<html>bad gateway</html>"))
    out = run(repo, _env(apis))
    assert out.returncode == 0, out.stderr
    table = rows(out.stdout)
    assert table["flyctl"][2] == "?"
    assert "GITHUB_TOKEN" not in out.stdout  # a 502 is no rate limit
    count = len(all_rows(out.stdout))
    assert f"{count - 1} of {count} pins have a newer upstream release; 1 could not be asked:" in out.stdout
    failures = [line for line in out.stdout.splitlines() if line.startswith("could not ask")]
    assert failures == ["could not ask github about superfly/flyctl: HTTP 502"]
    assert table["wacli"][2] == said["wacli"] and table["ngrok/ngrok"][2] == said["ngrok/ngrok"]
    # an unreachable API: still one line per pin, exit 0
    env = _env(apis)
    env["OUTDATED_NPM_REGISTRY"] = "https://127.0.0.1:9/npm"
    out = run(repo, env)
    assert out.returncode == 0
    lines = [line for line in out.stdout.splitlines() if line.startswith("could not ask")]
    assert lines == ["could not ask npm about openclaw: Connection refused",
                     "could not ask github about superfly/flyctl: HTTP 502",
                     "could not ask npm about @railway/cli: Connection refused",
                     "could not ask npm about @northflank/cli: Connection refused"], out.stdout
    assert rows(out.stdout)["wacli"][2] == said["wacli"]


def test_token_only_in_a_header_to_github_never_printed_never_across_origins(render, apis, tmp_path):
    repo = render(**CASE)
    answer_everything(apis, repo, newer=True)
    elsewhere = ApiStandin(tmp_path / "tls-elsewhere")
    try:
        elsewhere.route("GET", r"/moved/wacli", releases("v99.0.0"))
        # a redirect to another origin (the token must stay behind), one to the same origin (kept)
        apis.route("GET", r"/gh/repos/openclaw/wacli/releases\?per_page=100", (302, elsewhere.base + "/moved/wacli"))
        apis.route("GET", r"/gh/repos/openclaw/gogcli/releases\?per_page=100", (302, apis.base + "/gh/moved/gog"))
        apis.route("GET", r"/gh/moved/gog", releases("v98.0.0"))
        env = _env(apis, TOKEN)
        env["SSL_CERT_FILE"] = str(tmp_path / "both.pem")
        (tmp_path / "both.pem").write_text(apis.cert.read_text() + elsewhere.cert.read_text())
        out = run(repo, env)
    finally:
        elsewhere.close()
    assert out.returncode == 0, out.stderr
    assert TOKEN not in out.stdout + out.stderr
    auth = {r["path"]: r["headers"].get("authorization") for r in apis.requests}
    assert all(v == f"Bearer {TOKEN}" for p, v in auth.items() if p.startswith("/gh/")), auth
    assert all(v is None for p, v in auth.items() if not p.startswith("/gh/")), auth
    assert auth["/gh/moved/gog"] == f"Bearer {TOKEN}"  # same origin: still sent
    assert elsewhere.requests and all("authorization" not in r["headers"] for r in elsewhere.requests)
    table = rows(out.stdout)
    assert table["wacli"][2] == "v99.0.0"


def test_rate_limited_github_names_the_token_and_arguments_are_refused(render, apis):
    repo = render(**CASE)
    answer_everything(apis, repo, newer=False)
    apis.route("GET", r"/gh/repos/openclaw/wacli/releases\?per_page=100",
               (403, {"message": "API rate limit exceeded"}))
    out = run(repo, _env(apis))
    assert "could not ask github about openclaw/wacli: HTTP 403 (rate limit? set GITHUB_TOKEN)" in out.stdout
    refused = subprocess.run([sys.executable, "-m", "ops.outdated", "--fix"], cwd=repo, env=_env(apis),
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "takes no arguments" in refused.stderr and refused.stdout == ""


def test_unknown_image_is_named_not_asked(render, apis):
    repo = render(**CASE)
    answer_everything(apis, repo, newer=False)
    lock = repo / "images.lock"
    lock.write_text(lock.read_text() + "example.com/mine/sidecar 1.2.3\n")
    out = run(repo, _env(apis))
    assert out.returncode == 0
    assert rows(out.stdout)["example.com/mine/sidecar"][2] == "?"
    assert "could not ask about example.com/mine/sidecar: no upstream known" in out.stdout


def test_make_outdated_and_the_upgrading_line_on_every_platform(render):
    for platform in ("fly", "vps", "kubernetes"):
        repo = render(app_name=f"claw-{platform}", platform=platform)
        assert re.search(r"^outdated: venv ## .+\n\t@\$\(PY\) -m ops\.outdated$", (repo / "Makefile").read_text(),
                         re.M)
        assert "`make outdated`" in (repo / "RUNBOOK.md").read_text()  # its Upgrading section



def test_the_npm_registry_is_the_one_npm_is_configured_with(tmp_path, monkeypatch):
    """No registry host is written into the repo: without OUTDATED_NPM_REGISTRY the npm API's base
    is what `npm config get registry` prints; without npm, the run says which variable to set."""
    from ops import outdated

    fake = tmp_path / "npm"  # RECORDING STAND-IN of the npm CLI: answers `config get registry`
    fake.write_text('#!/bin/sh\n[ "$*" = "config get registry" ] && echo "https://127.0.0.1:9/mirror/" \n')
    fake.chmod(0o755)
    monkeypatch.delenv("OUTDATED_NPM_REGISTRY", raising=False)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    assert outdated.api_base("npm") == "https://127.0.0.1:9/mirror"
    fake.unlink()
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(outdated.Unanswered, match="OUTDATED_NPM_REGISTRY"):
        outdated.api_base("npm")
