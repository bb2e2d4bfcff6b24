"""scripts/secrets.sh for every platform, run against recording stand-ins of the platform
CLIs (tests/standins/secrets/): no secret value reaches stdout, stderr, the argv of any
child process (traced with strace when present), the answers file or any tracked file;
every value does reach the platform (so the test can see a leak); .env is created 0600."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from ops import model as m
from tests.conftest import git
from tests.standins import protocol

STANDINS = Path(__file__).resolve().parent / "standins" / "secrets"
STRACE = shutil.which("strace")
# Credentials the scripts read for the platform API itself (not deploy secrets).
API_TOKENS = {"northflank": ["NORTHFLANK_API_TOKEN"], "render": ["RENDER_API_KEY"]}
ANSWERS = {"model_providers": ["anthropic", "openai"], "channels": ["discord", "telegram", "slack"],
           "privacy": "private", "tunnel": "ngrok"}


def deploy_repo(render, platform: str) -> Path:
    data = {"platform": platform, **ANSWERS}
    if m.platforms()[platform].get("needs_domain"):
        data["domain"] = "claw.example.org"
    repo = render(**data)
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "generated", cwd=repo)
    return repo


def run_secrets(repo: Path, tmp_path: Path, values: dict[str, str], *args: str):
    log = tmp_path / "standin.jsonl"
    trace = tmp_path / "execve.trace"
    env = {"PATH": f"{STANDINS}:/usr/bin:/bin", "HOME": str(tmp_path), "STANDIN_LOG": str(log),
           "LANG": "C.UTF-8", **values}
    argv = ["bash", "scripts/secrets.sh", *args]
    if STRACE:
        argv = [STRACE, "-f", "-qq", "-e", "trace=execve", "-s", "100000", "-o", str(trace), *argv]
    proc = subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=120)
    calls = protocol.records(log)
    execs = trace.read_text() if trace.exists() else ""
    return proc, calls, execs


def values_for(model: m.DeployModel, platform: str, generate_token: bool) -> dict[str, str]:
    names = [n for n in model.secret_names if not (generate_token and n == model.token_env)]
    names += API_TOKENS.get(platform, [])
    # distinctive, secret-shaped values (the verify secret scan would also flag them)
    return {n: f"sk-test-{n.lower().replace('_', '')}-{os.urandom(12).hex()}" for n in names}


@pytest.mark.runbook_step("make secrets")
@pytest.mark.parametrize("platform", sorted(m.platforms()))
def test_secret_values_never_leak(render, tmp_path, platform):
    repo = deploy_repo(render, platform)
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
    values = values_for(model, platform, generate_token=True)
    proc, calls, execs = run_secrets(repo, tmp_path, values)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    # where the values went: the platform's data channel (stdin / fd files) or .env
    delivered = "".join(c["stdin"] + "".join(c["files"].values()) for c in calls)
    env_file = repo / ".env"
    if model.kind == "compose":
        delivered += env_file.read_text()
    for name, value in values.items():
        assert value in delivered, f"{name} never reached {platform}: the test could not see a leak"
    # the generated gateway token: 32 random bytes as hex, the only such string delivered
    tokens = set(re.findall(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])", delivered))
    assert len(tokens) == 1, f"expected one generated gateway token, found {len(tokens)}"
    secrets = {**values, model.token_env: tokens.pop()}

    tracked = git("ls-files", "-z", cwd=repo).split("\0")
    for name, value in secrets.items():
        assert value not in proc.stdout and value not in proc.stderr, f"{name} printed"
        for call in calls:
            assert not any(value in arg for arg in call["argv"]), f"{name} in argv: {call['argv'][:3]}"
        if STRACE:
            assert value not in execs, f"{name} in the argv of a child process"
        for rel in filter(None, tracked):
            assert value not in (repo / rel).read_text(errors="replace"), f"{name} in tracked {rel}"
    assert "sk-test-" not in (repo / ".copier-answers.yml").read_text()
    # no client-side apply of a Secret: it would copy every value into an annotation
    assert not any(c["argv"][:2] == ["kubectl", "apply"] for c in calls), [c["argv"] for c in calls]
    if STRACE:
        assert "execve(" in execs  # the trace really ran

    if model.kind == "compose":
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        assert git("check-ignore", ".env", cwd=repo).strip() == ".env"
        assert git("status", "--porcelain", cwd=repo).strip() == ""


@pytest.mark.parametrize("platform", sorted(m.platforms()))
def test_dry_run_prints_names_only_and_calls_nothing(render, tmp_path, platform):
    repo = deploy_repo(render, platform)
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
    values = values_for(model, platform, generate_token=False)
    proc, calls, _ = run_secrets(repo, tmp_path, values, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert calls == []
    for name, value in values.items():
        assert value not in proc.stdout + proc.stderr
    for name in model.secret_names:
        assert name in proc.stderr


@pytest.mark.skipif(not any(f.get("kind") == "compose" for f in m.platforms().values()),
                    reason="no Docker Compose platform in this tree")
def test_env_file_is_private_even_under_a_permissive_umask(render, tmp_path):
    platform = next(p for p, f in m.platforms().items() if f.get("kind") == "compose")
    repo = deploy_repo(render, platform)
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
    values = values_for(model, platform, generate_token=False)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **values}
    proc = subprocess.run(["bash", "-c", "umask 000 && scripts/secrets.sh"], cwd=repo, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE((repo / ".env").stat().st_mode) == 0o600
    # a second run keeps the values it does not change, and the mode
    proc = subprocess.run(["bash", "-c", "umask 000 && scripts/secrets.sh"], cwd=repo, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE((repo / ".env").stat().st_mode) == 0o600
    text = (repo / ".env").read_text()
    assert all(text.count(f"{name}=") == 1 for name in values)


def test_the_harness_sees_a_leaky_script(render, tmp_path):
    """The same harness on a deliberately leaky script: the value in argv and on stderr is seen."""
    repo = deploy_repo(render, "fly")
    (repo / "scripts" / "secrets.sh").write_text(
        '#!/usr/bin/env bash\nfly secrets set "ANTHROPIC_API_KEY=$ANTHROPIC_API_KEY" -a x\n'
        'echo "set $ANTHROPIC_API_KEY" >&2\n')
    value = "sk-test-leak-" + os.urandom(12).hex()
    proc, calls, execs = run_secrets(repo, tmp_path, {"ANTHROPIC_API_KEY": value})
    assert value in proc.stderr
    assert any(value in arg for call in calls for arg in call["argv"])
    if STRACE:
        assert value in execs


@pytest.mark.parametrize("platform", sorted(m.platforms()))
def test_help_prints_the_whole_header(render, tmp_path, platform):
    """`secrets.sh --help` used to stop mid-sentence (a fixed line range)."""
    repo = deploy_repo(render, platform)
    proc = subprocess.run(["bash", "scripts/secrets.sh", "--help"], cwd=repo, capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 0
    script = (repo / "scripts/secrets.sh").read_text().splitlines()
    header = [line for line in script[1:next(i for i, line in enumerate(script) if i and not line.startswith("#"))]]
    assert proc.stdout.splitlines() == [line[2:] if line.startswith("# ") else line[1:] for line in header]
    assert proc.stdout.rstrip().endswith((".", ")")), proc.stdout
    assert "--dry-run" in proc.stdout and "never" in proc.stdout


# Railway's secrets.sh sets variables through its CLI; its API base is read by the safe upgrade's rollback only
@pytest.mark.parametrize("platform", sorted(p for p, f in m.platforms().items() if f.get("api") and p != "railway"))
def test_the_api_base_and_its_override_come_from_the_data(render, tmp_path, platform):
    """platforms.yml `api: {base, env}` is the one fact secrets.sh, the CI deploy and the live
    checks share: the override variable named there moves every request of the script."""
    api = m.platforms()[platform]["api"]
    repo = deploy_repo(render, platform)
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
    override = "https://api.standin.invalid/v9"
    for env, base in (({}, api["base"]), ({api["env"]: override}, override)):
        proc, calls, _ = run_secrets(repo, tmp_path, {**values_for(model, platform, True), **env})
        assert proc.returncode == 0, proc.stdout + proc.stderr
        urls = [a for c in calls if c["argv"][0] == "curl" for a in c["argv"] if a.startswith("http")]
        assert urls and all(u.startswith(base + "/") for u in urls), urls
        (tmp_path / "standin.jsonl").unlink()


def test_kubernetes_without_a_cluster_stops_with_one_line(render, tmp_path):
    repo = deploy_repo(render, "kubernetes")
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
    values = values_for(model, "kubernetes", generate_token=False)
    proc, calls, _ = run_secrets(repo, tmp_path, {**values, "STANDIN_NO_CLUSTER": "1"})
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "secrets.sh: no cluster answers for kubectl context 'standin-context': check `kubectl cluster-info`"]
    assert [c["argv"][:2] for c in calls] == [["kubectl", "version"], ["kubectl", "config"]]


def test_kubernetes_reads_a_missing_secret_without_a_traceback(render, tmp_path):
    repo = deploy_repo(render, "kubernetes")
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
    proc, _, _ = run_secrets(repo, tmp_path, values_for(model, "kubernetes", generate_token=True))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "JSONDecodeError" not in proc.stderr


@pytest.mark.parametrize("origin, ok", [("https://http--claw--ab12.code.run/", True),
                                        ("https://http--claw--ab12.code.run/ui", False),
                                        ("http--claw--ab12.code.run", False)])
def test_northflank_public_origin_must_be_a_bare_https_origin(render, tmp_path, origin, ok):
    # it becomes gateway.publicOrigin, which the gateway refuses unless it is a bare https origin
    repo = render(platform="northflank", privacy="public")
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
    values = {**values_for(model, "northflank", generate_token=True), "OPENCLAW_PUBLIC_ORIGIN": origin}
    proc, calls, _ = run_secrets(repo, tmp_path, values)
    if ok:
        assert proc.returncode == 0, proc.stderr
        assert "https://http--claw--ab12.code.run/" not in "".join(c["stdin"] for c in calls)
        assert "https://http--claw--ab12.code.run" in "".join(c["stdin"] for c in calls)
    else:
        assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
        assert "OPENCLAW_PUBLIC_ORIGIN: a bare https:// origin" in proc.stderr
        # refused before anything is written: only the secret group was read (no body sent)
        assert len(calls) == 1 and calls[0]["stdin"] == "" and "-X" not in calls[0]["argv"], calls
