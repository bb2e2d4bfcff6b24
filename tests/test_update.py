"""`copier update` of a generated deploy repo, across template releases written by the test.

Each scenario: a throwaway clone of this template tagged v0.1.0, a deploy repo
generated from it and committed, user edits committed on top, then a v0.2.0
release that changes the template, and a real in-process `copier update`.
copier exits 0 even when it leaves conflicts, so every scenario asks
`ops.conflicts` (what `make update` and `make verify` run) what was left.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from ops import checks, conflicts, model as m, template_source, verify
from tests.support.template_history import (TemplateHistory, changed_files, commit_all, edit_file,
                                            generate, update)

FLY_TOML = "template/_partials/fly/files/fly.toml.jinja"
UPGRADING = "template/_partials/upgrading.md.jinja"
DEPENDABOT = "version: 2\nupdates:\n  - package-ecosystem: github-actions\n    directory: /\n    schedule:\n      interval: weekly\n"
TEMPLATE_NOTE = "Take `openclaw backup create` before every `make update`."
USER_NOTE = "On call: page Alice, never restart during business hours."


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> TemplateHistory:
    """v0.1.0 = this working tree; v0.2.0 = the same plus three template changes."""
    h = TemplateHistory(tmp_path_factory.mktemp("history") / "openclaw-deploy", first_tag="v0.1.0")
    h.edit(FLY_TOML, 'interval = "15s"', 'interval = "30s"')              # a changed line
    h.edit(UPGRADING, "## Upgrading\n", f"## Upgrading\n\n{TEMPLATE_NOTE}\n")  # a changed doc
    h.write("template/.github/dependabot.yml", DEPENDABOT)                 # a new file
    h.release("v0.2.0")
    return h


def user_edits(repo: Path) -> None:
    """What a user does after the first deploy, committed."""
    edit_file(repo, "fly.toml", 'primary_region = "iad"\n', 'primary_region = "iad"\nswap_size_mb = 512\n')
    edit_file(repo, "RUNBOOK.md", "\n", f"\n\n> {USER_NOTE}\n")  # under the title
    path = repo / "config" / "openclaw.json"
    config = json.loads(path.read_text())
    config["logging"] = {"level": "debug"}
    path.write_text(json.dumps(config, indent=2, ensure_ascii=False))
    commit_all(repo, "our edits")


def test_user_edits_survive_and_template_changes_arrive(history, tmp_path):
    repo = generate(history, tmp_path / "deploy", {"app_name": "my-claw"}, tag="v0.1.0")
    user_edits(repo)
    update(repo)

    assert conflicts.find_conflicts(repo) == []
    fly = tomllib.loads((repo / "fly.toml").read_text())
    assert fly["swap_size_mb"] == 512                                     # user's
    assert fly["http_service"]["checks"][0]["interval"] == "30s"          # template's
    runbook = (repo / "RUNBOOK.md").read_text()
    assert USER_NOTE in runbook and TEMPLATE_NOTE in runbook
    config = json.loads((repo / "config" / "openclaw.json").read_text())
    assert config["logging"] == {"level": "debug"}
    assert config["gateway"]["port"] == 3000
    assert (repo / ".github" / "dependabot.yml").read_text() == DEPENDABOT  # new file arrives
    assert "_commit: v0.2.0" in (repo / ".copier-answers.yml").read_text()
    assert [r for r in checks.run_static(repo) if r.status == checks.FAIL] == []


@pytest.mark.parametrize("platform", sorted(m.platforms()))
def test_update_keeps_edits_on_every_platform(history, tmp_path, platform):
    data = {"app_name": "my-claw", "platform": platform}
    if m.platforms()[platform].get("needs_domain"):
        data["domain"] = "claw.example.org"
    repo = generate(history, tmp_path / "deploy", data, tag="v0.1.0")
    edit_file(repo, "RUNBOOK.md", "\n", f"\n\n> {USER_NOTE}\n")
    commit_all(repo, "our note")
    update(repo)
    assert conflicts.find_conflicts(repo) == []
    runbook = (repo / "RUNBOOK.md").read_text()
    assert USER_NOTE in runbook and TEMPLATE_NOTE in runbook
    assert (repo / ".github" / "dependabot.yml").exists()
    assert [r for r in checks.run_static(repo) if r.status == checks.FAIL] == []


def test_true_conflict_leaves_inline_markers_and_fails_verify(history, tmp_path):
    repo = generate(history, tmp_path / "deploy", {"app_name": "my-claw"}, tag="v0.1.0")
    edit_file(repo, "fly.toml", 'interval = "15s"', 'interval = "20s"')   # the line v0.2.0 changes
    commit_all(repo, "slower checks")
    update(repo)                                                          # returns normally

    text = (repo / "fly.toml").read_text()
    assert "<<<<<<< before updating" in text and ">>>>>>> after updating" in text
    ours, theirs = text.split("<<<<<<< before updating")[1].split(">>>>>>> after updating")[0].split("=======")
    assert 'interval = "20s"' in ours and 'interval = "30s"' in theirs
    found = conflicts.find_conflicts(repo)
    assert "fly.toml: unmerged (git status UU)" in found
    assert any(f.startswith("fly.toml:") and f.endswith("conflict markers") for f in found)
    results = {r.check: r for r in verify.run_all(repo)}
    assert results["no update conflicts left"].status == checks.FAIL
    assert results["TOML/YAML/JSON files parse"].status == checks.FAIL
    # the rest of the update still arrived
    assert (repo / ".github" / "dependabot.yml").exists()


def test_true_conflict_as_rej_file(history, tmp_path):
    repo = generate(history, tmp_path / "deploy", {"app_name": "my-claw"}, tag="v0.1.0")
    edit_file(repo, "fly.toml", 'interval = "15s"', 'interval = "20s"')
    commit_all(repo, "slower checks")
    update(repo, conflict="rej")

    # copier replays the user's diff onto the new release: the file holds the template's
    # new line, the .rej holds the user's change that did not apply
    rej = repo / "fly.toml.rej"
    assert rej.exists() and '+    interval = "20s"' in rej.read_text()
    assert tomllib.loads((repo / "fly.toml").read_text())["http_service"]["checks"][0]["interval"] == "30s"
    assert "fly.toml.rej: hunks copier could not apply" in conflicts.find_conflicts(repo)
    assert {r.check: r.status for r in verify.run_all(repo)}["no update conflicts left"] == checks.FAIL


def test_openclaw_version_bump_changes_the_image_tag_and_nothing_the_user_owns(history, tmp_path):
    old, new = "2026.9.6", "2026.11.2"
    repo = generate(history, tmp_path / "deploy", {"app_name": "my-claw", "openclaw_version": old}, tag="v0.1.0")
    user_edits(repo)
    before = {p: (repo / p).read_text() for p in subprocess.run(
        ["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=True).stdout.split()}
    update(repo, data={"openclaw_version": new}, vcs_ref="v0.1.0")        # same template release

    assert conflicts.find_conflicts(repo) == []
    changed = changed_files(repo)
    assert {"Dockerfile", ".copier-answers.yml"} <= changed
    assert "config/openclaw.json" not in changed and "fly.toml" not in changed
    for path in changed:  # every changed line is the version, nothing else
        assert path in before, f"update created {path}"
        assert (repo / path).read_text().replace(new, "@V@") == before[path].replace(old, "@V@"), path
    assert f"FROM ghcr.io/openclaw/openclaw:{new}" in (repo / "Dockerfile").read_text()
    assert USER_NOTE in (repo / "RUNBOOK.md").read_text()
    assert tomllib.loads((repo / "fly.toml").read_text())["swap_size_mb"] == 512
    assert {r.check: r.status for r in checks.run_static(repo)}["image pinned to openclaw_version"] == checks.PASS


def test_data_file_change_in_a_release_reaches_the_deploy_repo(tmp_path):
    """copier renders the old and the new release in one process: the new release's
    template/ops/data must be the one used (extensions/openclaw.py loads ops per release)."""
    h = TemplateHistory(tmp_path / "template", first_tag="v0.1.0")
    repo = generate(h, tmp_path / "deploy", {"app_name": "my-claw"}, tag="v0.1.0")
    assert "FROM ghcr.io/openclaw/openclaw:" in (repo / "Dockerfile").read_text()
    h.edit("template/ops/data/openclaw.yml", "image: ghcr.io/openclaw/openclaw", "image: docker.io/openclaw/openclaw")
    h.release("v0.2.0")
    update(repo)
    assert "FROM docker.io/openclaw/openclaw:" in (repo / "Dockerfile").read_text()
    assert conflicts.find_conflicts(repo) == []


def test_deleted_file_is_not_recreated(history, tmp_path):
    repo = generate(history, tmp_path / "deploy", {"app_name": "my-claw"}, tag="v0.1.0")
    (repo / "RUNBOOK.md").unlink()
    commit_all(repo, "we keep our runbook in the wiki")
    update(repo)
    assert not (repo / "RUNBOOK.md").exists()
    assert conflicts.find_conflicts(repo) == []


def _venv_shim(repo: Path) -> None:
    """`make update` uses .venv/bin/{python,copier}: point them at this interpreter's
    (ops.tools finds every pin of requirements-update.txt met there: nothing is installed)."""
    bindir = repo / ".venv" / "bin"
    bindir.mkdir(parents=True)
    real = Path(sys.executable).parent
    for name in ("python", "copier"):
        shim = bindir / name
        shim.write_text(f'#!/bin/sh\nexec "{real / name}" "$@"\n')
        shim.chmod(0o755)


@pytest.mark.runbook_step("make update")
@pytest.mark.parametrize("conflict", [False, True], ids=["clean", "conflict"])
def test_make_update(history, tmp_path, conflict):
    repo = generate(history, tmp_path / "deploy", {"app_name": "my-claw"}, tag="v0.1.0")
    if conflict:
        edit_file(repo, "fly.toml", 'interval = "15s"', 'interval = "20s"')
    else:
        user_edits(repo)
    commit_all(repo, "our edits")
    _venv_shim(repo)  # .venv/ is git-ignored in the deploy repo, so the tree stays clean
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    proc = subprocess.run(["make", "update"], cwd=repo, capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=300)
    out = proc.stdout + proc.stderr
    assert "_commit: v0.2.0" in (repo / ".copier-answers.yml").read_text(), out
    if conflict:
        assert proc.returncode != 0, out
        assert "the update left conflicts" in out and "fly.toml: unmerged" in out
    else:
        assert proc.returncode == 0, out
        assert "no conflicts" in out


def test_make_update_prints_a_refused_answer_as_one_line(history, tmp_path):
    """`make update ARGS="-d vm_memory_mb=2048"` on a machine type that fixes memory."""
    repo = generate(history, tmp_path / "deploy", {"app_name": "my-claw", "platform": "gcp", "vm_size": "e2-micro"},
                    tag="v0.1.0")
    _venv_shim(repo)
    proc = subprocess.run(["make", "update", "ARGS=-d vm_memory_mb=2048"], cwd=repo, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=300,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "Traceback" not in out
    assert [l for l in out.splitlines() if l.startswith("error: ")] == [
        next(l for l in out.splitlines() if l.startswith("error: vm_memory_mb: fixed by vm_size: 1024 MB; e2-micro"))], out
    assert "_commit: v0.1.0" in (repo / ".copier-answers.yml").read_text()


def _hostile_template(root: Path, marker: Path) -> Path:
    """A template on disk whose task writes ``marker``: what an edited _src_path could run."""
    from tests.conftest import git

    root.mkdir(parents=True)
    (root / "copier.yml").write_text(
        "_tasks:\n"
        f"  - [\"{sys.executable}\", \"-c\", \"open('{marker}', 'w').write('ran')\"]\n"
        "app_name: {type: str, default: x}\n")
    (root / "README.md").write_text("nothing to see\n")
    git("init", "-q", "-b", "main", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "hostile", cwd=root)
    for tag in ("v0.1.0", "v0.2.0", "v9.0.0"):
        git("tag", tag, cwd=root)
    return root


def test_make_update_refuses_a_template_other_than_the_recorded_one(history, tmp_path):
    repo = generate(history, tmp_path / "deploy", {"app_name": "my-claw"}, tag="v0.1.0")
    assert f"TEMPLATE := {history.root}\n" in (repo / "Makefile").read_text()
    marker = tmp_path / "PWNED"
    hostile = _hostile_template(tmp_path / "hostile", marker)
    # a pull request that edits only the answers file
    edit_file(repo, ".copier-answers.yml", f"_src_path: {history.root}", f"_src_path: {hostile}")
    commit_all(repo, "innocent-looking bump")
    results = {r.check: r for r in checks.run_static(repo)}
    assert results["update runs the recorded template"].status == checks.FAIL
    assert str(hostile) in results["update runs the recorded template"].seen

    _venv_shim(repo)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    proc = subprocess.run(["make", "update"], cwd=repo, capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=300)
    out = proc.stdout + proc.stderr
    assert not marker.exists(), "the hostile template's task ran"
    assert proc.returncode != 0, out
    refusal = [line for line in out.splitlines() if "refused" in line]
    assert len(refusal) == 1 and str(hostile) in refusal[0] and str(history.root) in refusal[0], out
    assert "_commit: v0.1.0" in (repo / ".copier-answers.yml").read_text()  # nothing was updated


def test_a_commit_the_template_does_not_have_is_named_in_one_line(history, tmp_path):
    """What copier records from a dirty template checkout: a describe of a commit made in its temp copy."""
    repo = generate(history, tmp_path / "deploy", {"app_name": "my-claw"}, tag="v0.1.0")
    assert template_source.missing_commit(repo) == ""
    edit_file(repo, ".copier-answers.yml", "_commit: v0.1.0", "_commit: v0.1.0-1-g0123abc")
    commit_all(repo, "generated from a dirty checkout")
    result = {r.check: r for r in checks.run_static(repo)}["update runs the recorded template"]
    assert result.status == checks.FAIL and "v0.1.0-1-g0123abc" in result.seen and "(e.g. v0.1.0)" in result.seen

    _venv_shim(repo)
    proc = subprocess.run(["make", "update"], cwd=repo, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Traceback" not in out and "Unknown revision" not in out, out
    assert [line for line in out.splitlines() if "v0.1.0-1-g0123abc" in line] == [
        f"make update: refused: {template_source.missing_commit(repo)}"], out
