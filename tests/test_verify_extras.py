"""`make verify` (python -m ops.verify) on generated repos: the workflow schema, the parse
of every tracked TOML/YAML/JSON file, the secret scan, the conflict look; and its time."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.template_history import commit_all

FAKE_KEY = "sk-ant-api03-" + "Q7xR2mN9vB4kL8pW3zT6yH1cF5dJ0gS" + "aE"


def committed(render, **answers) -> Path:
    repo = render(**answers)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    commit_all(repo, "generated")
    return repo


def verify(repo: Path) -> tuple[int, str, float]:
    env = {k: v for k, v in os.environ.items() if k != "OPENCLAW_BIN"}
    env["PATH"] = f"{Path(sys.executable).parent}:/usr/bin:/bin"  # no openclaw on PATH: that step SKIPs
    env["COLUMNS"] = "1000"  # a terminal that wide: one line per check, what these tests read
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "ops.verify"], cwd=repo, capture_output=True,
                          text=True, env=env, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - start


def line(out: str, check: str) -> str:
    return next(l for l in out.splitlines() if check in l)


def test_clean_repo_passes_quickly(render):
    repo = committed(render, app_name="claw-verify")
    code, out, seconds = verify(repo)
    assert code == 0, out
    for check in ("GitHub workflows match the schema", "TOML/YAML/JSON files parse",
                  "no update conflicts left", "no secrets in tracked files"):
        assert line(out, check).startswith("PASS"), out
    assert line(out, "openclaw config validate").startswith("SKIP")
    print(f"make verify without OpenClaw: {seconds:.2f} s")
    assert seconds < 10, f"verify took {seconds:.1f} s (budget 10 s)\n{out}"


def test_tracked_secret_fails_without_printing_it(render):
    repo = committed(render)
    notes = repo / "NOTES.md"
    notes.write_text(f"temporary: ANTHROPIC_API_KEY={FAKE_KEY}\n")
    commit_all(repo, "oops")
    code, out, _ = verify(repo)
    assert code == 1
    assert line(out, "no secrets in tracked files").startswith("FAIL") and "NOTES.md:1" in out
    assert FAKE_KEY not in out and FAKE_KEY[:20] not in out


def test_untracked_ignored_env_file_is_not_a_finding(render):
    repo = committed(render)
    (repo / ".env").write_text(f"ANTHROPIC_API_KEY={FAKE_KEY}\n")  # git-ignored: where secrets may live
    code, out, _ = verify(repo)
    assert code == 0, out


def test_broken_workflow_fails_the_schema_check(render):
    repo = committed(render)
    path = repo / ".github" / "workflows" / "deploy.yml"
    path.write_text(path.read_text().replace("    runs-on: ubuntu-latest\n", "", 1))
    commit_all(repo, "broken")
    code, out, _ = verify(repo)
    assert code == 1 and line(out, "GitHub workflows match the schema").startswith("FAIL"), out


@pytest.mark.parametrize(("name", "text"), [
    (".github/dependabot.yml", "version: 2\nupdates:\n  - a: 1\n   b: 2\n"),
    ("config/extra.json", '{"a": 1,}\n'),
    ("extra.toml", 'a = "unterminated\n'),
])
def test_unparsable_tracked_file_fails(render, name, text):
    repo = committed(render)
    (repo / name).parent.mkdir(parents=True, exist_ok=True)
    (repo / name).write_text(text)
    commit_all(repo, "broken file")
    code, out, _ = verify(repo)
    assert code == 1
    found = line(out, "TOML/YAML/JSON files parse")
    assert found.startswith("FAIL") and name in found, out


def test_fresh_copy_before_git_init_passes(render):
    """Right after `copier copy`, before `git init`: the .venv that `make verify` made and a
    git-ignored .env are not "tracked files"; a file git would track still is."""
    repo = render(app_name="claw-fresh")
    assert not (repo / ".git").exists()
    site = repo / ".venv" / "lib" / "python3.11" / "site-packages" / "somepkg"
    site.mkdir(parents=True)
    (site / "test_keys.py").write_text(f'EXAMPLE = "{FAKE_KEY}"\n')  # third-party test data
    (repo / ".env").write_text(f"ANTHROPIC_API_KEY={FAKE_KEY}\n")
    code, out, _ = verify(repo)
    assert code == 0, out
    assert line(out, "no secrets in tracked files").startswith("PASS"), out
    assert line(out, "fly.toml matches the schema").startswith("PASS"), out

    (repo / "NOTES.md").write_text(f"temporary: ANTHROPIC_API_KEY={FAKE_KEY}\n")  # not ignored: would be tracked
    code, out, _ = verify(repo)
    assert code == 1 and "NOTES.md:1" in line(out, "no secrets in tracked files"), out
    assert ".env" not in line(out, "no secrets in tracked files") and ".venv" not in out


def test_git_repo_scans_tracked_and_would_be_tracked_files_only(render):
    repo = committed(render)
    (repo / "notes").mkdir()
    (repo / "notes" / "draft.md").write_text(f"key: {FAKE_KEY}\n")  # untracked, not ignored
    (repo / "reports").mkdir(exist_ok=True)
    (repo / "reports" / "run.json").write_text(f'{{"token": "{FAKE_KEY}"}}\n')  # git-ignored
    code, out, _ = verify(repo)
    found = line(out, "no secrets in tracked files")
    assert code == 1 and "notes/draft.md:1" in found and "reports" not in found, out


def test_deploy_repo_inside_another_git_repo_uses_its_own_gitignore(render, tmp_path):
    """demo-deploy lives inside the template's checkout: the outer repo's index must not decide."""
    outer = tmp_path / "outer"
    outer.mkdir()
    subprocess.run(["git", "init", "-q", str(outer)], check=True)
    (outer / ".gitignore").write_text("inner/\n")
    repo = render()
    inner = outer / "inner"
    repo.rename(inner)
    (inner / "NOTES.md").write_text(f"ANTHROPIC_API_KEY={FAKE_KEY}\n")
    code, out, _ = verify(inner)
    assert code == 1 and "NOTES.md:1" in line(out, "no secrets in tracked files"), out


def test_fly_toml_is_checked_against_the_vendored_schema(render):
    repo = committed(render)
    assert (repo / "ops" / "schemas" / "fly.json").is_file()
    assert "Apache" in (repo / "ops" / "schemas" / "README.md").read_text()
    fly = repo / "fly.toml"
    fly.write_text(fly.read_text().replace("[mounts]\n", "[mounts]\n  snapshot_retention = \"daily\"\n", 1))
    commit_all(repo, "bad retention")
    code, out, _ = verify(repo)
    assert code == 1 and line(out, "fly.toml matches the schema").startswith("FAIL"), out


def test_gitignore_matcher_without_git_agrees_with_git(render):
    from ops import secret_scan

    repo = render(platform="vps")
    for name in (".venv/bin/x", ".env", ".env.local", "reports/a.html", "ops/__pycache__/m.pyc",
                 "secrets/k", "k.secret", "NOTES.md", "node_modules/p/i.js"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("x\n")
    by_git = sorted(p.relative_to(repo).as_posix() for p in secret_scan.tracked_files(repo))
    assert "NOTES.md" in by_git and ".env.example" in by_git and ".env" not in by_git
    assert sorted(secret_scan._walk_unignored(repo)) == by_git
