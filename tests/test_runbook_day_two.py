"""Every step the RUNBOOK's "Day two" and "Upgrading" sections tell a user to run is run by a test.

A step is a command line in those sections' code blocks, or a `make ...` in their text, on every
platform's RUNBOOK, private and public. A test that runs a step says so where it is written:
``@pytest.mark.runbook_step("make restore")``. This file reads those marks from the test sources
(an AST walk: nothing is imported or run) and fails when a RUNBOOK step has no test, or when a mark
names a step no RUNBOOK has any more. A few steps run tools this machine cannot reach; NOT_RUN_HERE
names them and the check that stands in for each (in this file).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from ops import model as m

TESTS = Path(__file__).resolve().parent
SECTIONS = ("## Day two", "## Upgrading")

# step -> why no test runs it here, and what checks it instead
NOT_RUN_HERE = {
    "gh run list": "GitHub's API is out of reach; a listing only (no state changes)",
    "gh run download": "GitHub's API is out of reach; the artifact names it asks for are the workflows' "
                       "(test_gh_run_download_names_the_artifacts_the_workflows_upload), and what it "
                       "downloads is decrypted and restored by the marked `make decrypt` test",
    "aws": "the aws CLI is not installed here; the RUNBOOK's bucket lines as written (its lifecycle rule, "
           "the prefix it lists, the object it copies) are made as the same S3 calls with boto3 against "
           "a real S3 server on loopback (tests/test_backup_bucket.py::"
           "test_the_runbooks_bucket_commands_as_boto3_calls)",
    "age-keygen": "the age CLI is not installed here; `python -m ops.backup keygen` (marked) writes the "
                  "same identity format with the same library the workflow encrypts with",
}


def step_of(line: str) -> str:
    """The step a RUNBOOK command line is: `make <target>`, `python -m <module> <verb>`,
    `gh <group> <verb>`, or the program's name."""
    words = line.split("  #")[0].split()
    if not words:
        return ""
    if words[0].endswith("/python") or words[0] == "python":
        return " ".join(["python", *words[1:4]])
    if words[0] in ("make", "gh"):
        return " ".join(words[: 2 if words[0] == "make" else 3])
    return words[0]


def runbook_steps(runbook: str) -> set[str]:
    steps: set[str] = set()
    for head in SECTIONS:
        if head not in runbook:
            continue
        section = runbook.split(head, 1)[1]
        section = re.split(r"^## ", section, flags=re.M)[0] if "\n## " in section else section
        for block in re.findall(r"```[a-z]*\n(.*?)```", section, re.S):
            lines = [line for line in block.replace("\\\n", " ").splitlines() if not line.startswith("#")]
            steps |= {step_of(line) for line in lines} - {""}
        prose = re.sub(r"```.*?```", "", section, flags=re.S)
        steps |= {step_of(code) for code in re.findall(r"`(make [a-z][^`]*)`", prose)}
    return steps


def marked_steps() -> dict[str, list[str]]:
    """step -> the tests marked as running it (path::function)."""
    found: dict[str, list[str]] = {}
    for path in sorted(TESTS.rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for deco in node.decorator_list:
                if (isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute)
                        and deco.func.attr == "runbook_step"):
                    for arg in deco.args:
                        found.setdefault(arg.value, []).append(f"{path.relative_to(TESTS.parent)}::{node.name}")
    return found


@pytest.fixture(scope="module")
def recipient() -> str:
    from pyrage import x25519

    return str(x25519.Identity.generate().to_public())


@pytest.fixture(scope="module")
def runbooks(rendered_once, recipient) -> dict[str, str]:
    """Every platform's RUNBOOK, private and public, with scheduled backups on (read, never changed)."""
    return {f"{platform}-{privacy}": (rendered_once({"platform": platform, "privacy": privacy,
                                                     "backup_recipient": recipient}) / "RUNBOOK.md").read_text()
            for platform in m.platforms() for privacy in ("private", "public")}


def test_every_day_two_step_of_every_runbook_is_run_by_a_marked_test(runbooks):
    marked = marked_steps()
    missing = {}
    for name, text in runbooks.items():
        steps = runbook_steps(text)
        assert "make backup" in steps and "make restore" in steps, name  # the sections were found
        for step in steps - set(marked) - set(NOT_RUN_HERE):
            missing.setdefault(step, []).append(name)
    assert not missing, f"RUNBOOK steps no test is marked as running (@pytest.mark.runbook_step): {missing}"


def test_every_mark_names_a_step_a_runbook_still_has(runbooks):
    everywhere = set().union(*(runbook_steps(text) for text in runbooks.values()))
    stale = {step: tests for step, tests in marked_steps().items() if step not in everywhere}
    assert not stale, f"marked steps no RUNBOOK has any more: {stale}"
    assert set(NOT_RUN_HERE) <= everywhere, set(NOT_RUN_HERE) - everywhere
    assert not set(NOT_RUN_HERE) & set(marked_steps()), "a step both run and listed as not run"


def test_step_of_reads_the_step_a_line_is():
    assert step_of("make restore ARCHIVE=backups/x.tar.gz   # asks first") == "make restore"
    assert step_of('make update ARGS="-d openclaw_version=<version>"') == "make update"
    assert step_of(".venv/bin/python -m ops.backup keygen claw-backup.key") == "python -m ops.backup keygen"
    assert step_of("gh run download <run id> --name backup-a-<run id> --dir backups/") == "gh run download"
    assert step_of("age-keygen -o claw-backup.key") == "age-keygen"


@pytest.mark.parametrize("platform", ["fly", "render"])
def test_gh_run_download_names_the_artifacts_the_workflows_upload(rendered_once, recipient, platform):
    repo = rendered_once({"platform": platform, "privacy": "private", "backup_recipient": recipient})
    runbook = (repo / "RUNBOOK.md").read_text()
    # the part before the run id: `--name backup-<app>-<run id>` / `name: backup-<app>-${{ github.run_id }}`
    asked = set(re.findall(r"gh run download <run id> (?:--name|-n) ([\w.-]+)<run id>", runbook))
    uploaded = set()
    for workflow in (repo / ".github" / "workflows").glob("*.yml"):
        for job in (yaml.safe_load(workflow.read_text()) or {}).get("jobs", {}).values():
            for step in job.get("steps", []):
                if str(step.get("uses", "")).startswith("actions/upload-artifact@"):
                    uploaded.add(step["with"]["name"].split("${{ github.run_id }}")[0])
    assert len(asked) == 2, runbook  # the scheduled backup and the pre-update archive
    assert asked <= uploaded, (asked, uploaded)
