"""The runbook notebooks executed with papermill against generated deploy repos.

Each notebook runs through the papermill CLI once (from the template's
notebooks/ directory and inside a deploy repo); the platform matrix and the
broken fixtures run in one shared kernel (tests/support/nbbatch.py) with
papermill's own parameter injection, to keep kernel starts few.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest

from ops import model as m
from ops import terminal
from tests.runbooks.conftest import COST_NB, NOTEBOOKS, TROUBLE_NB, edit, edit_json
from tests.support.nbbatch import stream_text

PAPERMILL = [sys.executable, "-m", "papermill", "--no-progress-bar"]
PLATFORMS = sorted(m.platforms())


@pytest.mark.parametrize("path", [COST_NB, TROUBLE_NB], ids=lambda p: p.name)
def test_notebooks_are_stored_without_outputs_and_parse(path):
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code), "strip outputs before committing"
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and code[0] is params[0]
    assigned = [line.split("=")[0].strip() for line in params[0].source.splitlines() if "=" in line]
    assert list(papermill.inspect_notebook(str(path))) == assigned  # every parameter line parses


def test_cost_notebook_with_papermill_from_the_template_dir(generated, tmp_path):
    repo = generated("fly-public")
    out = tmp_path / "out"
    proc = subprocess.run([*PAPERMILL, COST_NB.name, str(tmp_path / "cost.ipynb"), "-p", "repo", str(repo),
                           "-p", "egress_gb", "10", "-p", "output_dir", str(out)],
                          cwd=NOTEBOOKS, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads((out / "cost.json").read_text())
    est = data["estimate"]
    assert (est["platform"], est["sku"], est["memory_mb"]) == ("fly", "shared-cpu-2x", 2048)
    assert est["total"] == pytest.approx(11.39 + 0.15 + 0.20)  # egress 10 GB x 0.02 (iad)
    assert data["parameters"]["from_answers"] is True
    assert (out / "cost_estimate.png").read_bytes()[:4] == b"\x89PNG"
    text = stream_text(nbformat.read(str(tmp_path / "cost.ipynb"), as_version=4))
    assert "Monthly estimate: 11.74 USD" in text and "https://fly.io/docs/about/pricing/" in text


@pytest.mark.parametrize("platform", PLATFORMS)
def test_cost_notebook_on_every_platform(platform, generated, batch, tmp_path):
    repo = generated(platform, platform=platform)
    nb = batch.execute(COST_NB, {"repo": str(repo), "output_dir": str(tmp_path)})
    data = json.loads((tmp_path / "cost.json").read_text())
    assert data["estimate"]["platform"] == platform
    assert data["estimate"]["items"], "no line items"
    assert {e["platform"] for e in data["comparison"]} >= set(PLATFORMS)
    assert (tmp_path / "cost_estimate.png").exists()
    text = stream_text(nb)
    assert "Monthly estimate:" in text and "TOTAL" in text
    if data["estimate"]["total"] is None:
        assert "unknown" in text  # shown as unknown, never as a number


def test_cost_notebook_warnings(generated, batch, tmp_path):
    repo = generated("fly-public")
    nb = batch.execute(COST_NB, {"repo": str(repo), "output_dir": str(tmp_path), "memory_mb": 1024,
                                 "region": "syd", "hours": 360})
    text = stream_text(nb)
    assert text.count("below the recommended 2048 MB") == 1  # said once, not once per platform
    assert "Fly region syd" in text and "360 h/month" in text
    assert "cluster cost not included" in text


@pytest.mark.parametrize("platform", PLATFORMS)
def test_troubleshooting_static_passes_on_a_generated_repo(platform, generated, batch, tmp_path):
    repo = generated(platform, platform=platform)
    nb = batch.execute(TROUBLE_NB, {"repo": str(repo), "output_dir": str(tmp_path), "fail_on_error": True})
    data = json.loads((tmp_path / "troubleshooting.json").read_text())
    failed = [r for r in data["results"] if r["status"] == "FAIL"]
    assert not failed, failed
    assert data["summary"]["PASS"] >= 8 and data["parameters"]["platform"] == platform
    assert "0 failed step(s)" in stream_text(nb)


def _break_port(repo):
    edit(repo / "fly.toml", "internal_port = 3000", "internal_port = 8080")


def _break_bind(repo):
    edit(repo / "fly.toml", "--bind lan", "--bind loopback")


def _break_memory(repo):
    edit(repo / "fly.toml", 'memory = "2048mb"', 'memory = "512mb"')


def _break_heap(repo):
    edit(repo / "fly.toml", "--max-old-space-size=1536", "--max-old-space-size=4096")


def _break_state_dir(repo):
    edit(repo / "fly.toml", 'OPENCLAW_STATE_DIR = "/data"', 'OPENCLAW_STATE_DIR = "/home/node/.openclaw"')


def _break_health(repo):
    edit(repo / "fly.toml", 'path = "/healthz"', 'path = "/"')  # public: the check probes liveness


def _break_auth(repo):
    edit_json(repo / "config" / "openclaw.json", lambda c: c["gateway"].update(auth={"mode": "none"}))


def _break_origins(repo):
    edit_json(repo / "config" / "openclaw.json", lambda c: c["gateway"].pop("controlUi"))


def _break_secret(repo):
    with open(repo / "RUNBOOK.md", "a") as fh:
        fh.write("\nANTHROPIC_API_KEY=sk-ant-api03-" + "x7" * 20 + "\n")


def _break_image(repo):
    edit(repo / "Dockerfile", "FROM ghcr.io/openclaw/openclaw:2026.9.6", "FROM ghcr.io/openclaw/openclaw:latest")


def _break_ingress(repo):
    with open(repo / "fly.toml", "a") as fh:
        fh.write("\n[http_service]\n  internal_port = 3000\n")


# name -> (base repo, breaker, failing step, words of the fix)
BROKEN = {
    "port": ("fly-public", _break_port, "port agreement", "every place must say 3000"),
    "bind-loopback": ("fly-public", _break_bind, "bind reachable from the proxy", "--bind lan"),
    "memory-512": ("fly-public", _break_memory, "memory and heap", "2048 MB"),
    "heap-above-memory": ("fly-public", _break_heap, "memory and heap", "--max-old-space-size must stay below"),
    "state-off-volume": ("fly-public", _break_state_dir, "state dir on the volume", "OPENCLAW_STATE_DIR"),
    "health-path-html": ("fly-public", _break_health, "health checks probe JSON endpoints", "Control UI"),
    "public-no-auth": ("fly-public", _break_auth, "gateway auth", "token auth"),
    "origins-missing": ("fly-public", _break_origins, "Control UI allowed origins", "https://my-openclaw.fly.dev"),
    "secret-in-file": ("fly-public", _break_secret, "no secrets in tracked files", "rotate"),
    "image-latest": ("fly-public", _break_image, "image pinned to openclaw_version", "never 'latest'"),
    "private-with-ingress": ("fly-private", _break_ingress, "public ingress matches privacy", "make update"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_troubleshooting_names_each_broken_fixture(name, generated, broken, batch, tmp_path):
    base, breaker, step, fix = BROKEN[name]
    answers = {"privacy": "private"} if base == "fly-private" else {}
    repo = broken(generated(base, **answers), name)
    breaker(repo)
    nb = batch.execute(TROUBLE_NB, {"repo": str(repo), "output_dir": str(tmp_path)})
    data = json.loads((tmp_path / "troubleshooting.json").read_text())
    failed = {r["check"]: r for r in data["results"] if r["status"] == "FAIL"}
    assert step in failed, f"{step!r} not failed; failures: {list(failed)}"
    assert fix in failed[step]["fix"]
    text = stream_text(nb)
    assert f"FAIL  {step}" in text and "fix:" in text


def test_private_webhook_channel_without_tunnel_is_named(generated, batch, tmp_path):
    repo = generated("fly-private-slack", privacy="private", channels=["slack"])  # Events API on the gateway port
    batch.execute(TROUBLE_NB, {"repo": str(repo), "output_dir": str(tmp_path)})
    data = json.loads((tmp_path / "troubleshooting.json").read_text())
    step = next(r for r in data["results"] if r["check"] == "inbound webhooks reachable")
    assert step["status"] == "WARN" and "tunnel" in step["fix"]


def test_fail_on_error_makes_papermill_exit_nonzero(generated, broken, tmp_path):
    repo = broken(generated("fly-public"), "port-cli")
    _break_port(repo)
    (repo / "reports").mkdir()
    out = repo / "reports" / "troubleshooting.ipynb"
    proc = subprocess.run([*PAPERMILL, str(TROUBLE_NB), str(out), "-p", "fail_on_error", "True"],
                          cwd=repo, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "RunbookFailed" in proc.stderr and "port agreement" in proc.stderr
    data = json.loads((repo / "reports" / "troubleshooting.json").read_text())  # written before the verdict
    assert data["summary"]["FAIL"] >= 1
    # without fail_on_error the same repo gives a clean run that still names the failure
    proc = subprocess.run([*PAPERMILL, str(TROUBLE_NB), str(out)], cwd=repo, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "1 failed step(s): port agreement" in stream_text(nbformat.read(str(out), as_version=4))


NOISE = ("WARNING", "Traceback", "KeyboardInterrupt", "ERROR", "Input Notebook", "Executing notebook")


def test_make_cost_and_troubleshoot_in_a_deploy_repo(generated, broken):
    """The two make targets: executed notebooks, HTML reports and side files in
    reports/; the terminal gets the result only (no kernel / nbconvert warnings)."""
    repo = broken(generated("fly-public"), "make-targets")
    py = sys.executable  # the pinned tools are installed here; -o: do not rebuild .venv
    env = {**os.environ, "COLUMNS": "100"}
    for target in ("cost", "troubleshoot", "troubleshoot"):  # twice: the kernel shutdown must stay quiet
        proc = subprocess.run(["make", "-s", "-o", py, f"PY={py}", target], cwd=repo, capture_output=True,
                              text=True, timeout=600, env=env)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        assert all(map(terminal.is_step, proc.stderr.splitlines())), proc.stderr  # progress only
        assert not [line for line in proc.stdout.splitlines() if any(n in line for n in NOISE)], proc.stdout
        if target == "cost":
            assert "Monthly estimate: 11.54 USD" in proc.stdout and "Railway" in proc.stdout
            assert "report: reports/cost_estimate.ipynb and reports/cost_estimate.html" in proc.stdout
        else:
            lines = proc.stdout.splitlines()
            assert "PASS     port agreement" in lines and "0 failed step(s)" in lines
            skip = next(i for i, line in enumerate(lines) if line.startswith("SKIP     live checks"))
            said = " ".join(line.strip() for line in lines[skip:skip + 4])
            assert "-p mode live" in said and "OPENCLAW_BIN" in said  # what would make it run
            assert all(len(line) <= 100 for line in lines[:skip + 4]), "the table fits the terminal"
    reports = repo / "reports"
    for name in ("cost_estimate.ipynb", "cost_estimate.html", "cost_estimate.png", "cost.json",
                 "troubleshooting.ipynb", "troubleshooting.html", "troubleshooting.json"):
        assert (reports / name).stat().st_size > 0, name
    html = (reports / "cost_estimate.html").read_text()
    assert "11.54" in html and 'alt="Bar chart of the monthly cost in USD' in html
    assert "No description has been provided for this image" not in html
    assert "reports/" in (repo / ".gitignore").read_text()
    _break_port(repo)
    proc = subprocess.run(["make", "-s", "-o", py, f"PY={py}", "troubleshoot"], cwd=repo, capture_output=True,
                          text=True, timeout=600, env=env)
    assert proc.returncode != 0 and (reports / "troubleshooting.html").exists()
    assert re.search(r"^FAIL +port agreement +every place must say 3000", proc.stdout, re.M), proc.stdout
    assert "make troubleshoot: 1 failed step(s): port agreement" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout and "WARNING" not in proc.stderr + proc.stdout
