"""Northflank facts against Northflank's own packages (issue 18, items 3-5).

- Every `northflank ...` command a generated repo prints (Makefile recipes, README, RUNBOOK,
  the exec wrapper of the channel steps) is walked through the real CLI's `--help`
  (@northflank/cli, pinned in tests/support/northflank_npm.py): each word a subcommand of the
  one before, each flag an option of the last. Before: `make status` ran
  `northflank get service details ...`, which the CLI refuses ("too many arguments").
- The status values ops/platforms/northflank.py waits on are values of the API's types
  (@northflank/js-client api-client.d.ts); before, the failure set named FAILED, ERROR and
  CANCELLED (no build status) and missed SUBMISSION_FAILURE, so such a build polled until the
  timeout.
- The combined service's fields in northflank.json exist in the API's create type, and the
  template turns Northflank's own build on push off (disabledCI) and sets the stop grace
  period (deployment.gracePeriodSeconds).

The other platform CLIs are not checked this way: Railway's npm package (@railway/cli)
downloads its binary from the vendor's release host in a postinstall step, and Render's CLI
is published neither on npm nor on PyPI; flyctl, gcloud and kubectl are binary downloads.
Nothing here contacts a service.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from functools import lru_cache

import pytest

from ops.platforms import northflank as dn
from ops import model as m
from tests.support.northflank_npm import api_types, cli_help

APP = "claw-nf"


def _union(type_text: str, marker: str) -> set[str]:
    """The string literals of the first union after `marker` in the client's types."""
    at = type_text.index(marker)
    line = type_text[at:type_text.index(";", at)]
    return set(re.findall(r"'([A-Z_]+)'", line))


def _braced(text: str, marker: str) -> str:
    """The `{...}` block that follows `marker` (its first occurrence) in the client's types."""
    start = text.index("{", text.index(marker))
    depth = 0
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i + 1]
    raise AssertionError(f"unbalanced block after {marker}")


def _fields(block: str) -> set[str]:
    """The field names at the block's own level (one indent step below its opening line)."""
    indent = min(len(ln) - len(ln.lstrip()) for ln in block.splitlines()[1:] if ln.strip().startswith("'"))
    return set(re.findall(rf"(?m)^ {{{indent}}}'(\w+)'\??:", block))


def test_status_sets_are_api_values():
    types = api_types()
    build = _union(types, "/** The status of the build. Example: \"SUCCESS\" */")
    deployment = _union(types, "/** Details about the current deployment status. */")
    assert {"SUCCESS", "FAILURE", "SUBMISSION_FAILURE", "QUEUED"} <= build, build
    assert dn.BUILD_OK in build and dn.BUILD_FAILED <= build, dn.BUILD_FAILED - build
    # every status that cannot turn into SUCCESS any more fails the job at once
    assert {"ABORTED", "FAILURE", "SUBMISSION_FAILURE", "CRASHED"} <= dn.BUILD_FAILED
    assert dn.DEPLOY_OK in deployment and dn.DEPLOY_FAILED <= deployment, dn.DEPLOY_FAILED - deployment


def test_logs_query_is_the_clients_range_query():
    text = (m.DATA_DIR.parent / "platforms" / "northflank.py").read_text()
    assert "/logs?queryType=range&" in text
    assert "queryType: 'range'" in api_types()


def _combined_service(repo) -> dict:
    steps = json.loads((repo / "northflank.json").read_text())["spec"]["spec"]["steps"][1]["spec"]["steps"]
    return next(s["spec"] for s in steps if s["kind"] == "CombinedService")


def test_combined_service_fields_exist_and_ci_builds_are_off(render):
    spec = _combined_service(render(app_name=APP, platform="northflank", privacy="public"))
    create = _braced(api_types(), "type CreateServiceCombinedData = ")
    top, deployment = _fields(create), _fields(_braced(create, "'deployment': {"))
    assert set(spec) <= top, set(spec) - top
    assert set(spec["deployment"]) <= deployment, set(spec["deployment"]) - deployment
    assert spec["disabledCI"] is True  # a push builds once: the workflow's verified build
    assert spec["deployment"]["gracePeriodSeconds"] == m.openclaw()["stop_grace_seconds"]


# ------------------------------------------------------------------ the CLI --

@lru_cache(maxsize=None)
def _help(path: tuple[str, ...]) -> str:
    return cli_help(*path)


def _subcommands(text: str) -> set[str]:
    section = text.split("\nCommands:\n", 1)[1] if "\nCommands:\n" in text else ""
    names = set()
    for line in section.splitlines():
        found = re.match(r"^  ([\w|-]+)", line)
        if found:
            names.update(found.group(1).split("|"))
    return names


def _options(text: str) -> dict[str, bool]:
    """--flag -> takes a value, from the Options section."""
    section = text.split("\nOptions:\n", 1)[1].split("\nCommands:\n", 1)[0]
    opts = {}
    for line in section.splitlines():
        found = re.match(r"^\s+((?:-\w, )?(?:--[\w-]+ ?)+)([<\[])?", line)
        if found:
            for flag in re.findall(r"--[\w-]+", found.group(1)):
                opts[flag] = bool(found.group(2))
    return opts


def check_command(words: list[str]) -> None:
    path: list[str] = []
    rest = list(words)
    while rest and not rest[0].startswith("-"):
        subs = _subcommands(_help(tuple(path)))
        if not subs:
            break
        assert rest[0] in subs, f"`northflank {' '.join(words)}`: {rest[0]!r} is no subcommand of " \
                                f"`northflank {' '.join(path)}` ({sorted(subs)})"
        path.append(rest.pop(0))
    text = _help(tuple(path))
    usage = re.search(r"Usage: northflank (.*)", text).group(1)
    opts = _options(text)
    while rest:
        word = rest.pop(0)
        if word.startswith("--"):
            assert word in opts, f"`northflank {' '.join(words)}`: {word} is no option of `northflank {' '.join(path)}`"
            if opts[word]:
                assert rest, f"`northflank {' '.join(words)}`: {word} needs a value"
                rest.pop(0)
        else:
            assert re.search(r"\] [<\[]", usage), f"`northflank {' '.join(words)}`: takes no argument {word!r}"


def generated_commands(repo) -> list[str]:
    texts = []
    for name in ("README.md", "RUNBOOK.md"):
        doc = (repo / name).read_text()
        texts += re.findall(r"`([^`\n]+)`", doc)
        texts += [ln for block in re.findall(r"(?s)```\w*\n(.*?)```", doc) for ln in block.splitlines()]
    targets = [t for t in ("status", "logs", "deploy") if re.search(rf"(?m)^{t}:", (repo / "Makefile").read_text())]
    dry = subprocess.run(["make", "-n", *targets], cwd=repo, capture_output=True, text=True, check=True).stdout
    texts += [part for ln in dry.splitlines() for part in re.split(r"\(or: |\)\"?$", ln)]
    found = []
    for text in texts:
        hit = re.search(r"(?<![\w/@.-])northflank ([a-z].*)$", text.strip())
        if hit:
            found.append(hit.group(1).split("  #")[0].strip())
    return sorted(set(found))


@pytest.mark.parametrize("privacy", ["public", "private"])
def test_every_generated_command_is_accepted_by_the_cli(render, privacy):
    repo = render(app_name=APP, platform="northflank", privacy=privacy, channels=["telegram"])
    commands = generated_commands(repo)
    # the Makefile's status target and the channel steps' exec wrapper are among them
    assert any(c.startswith("get service --projectId") for c in commands), commands
    assert any(c.startswith("exec service ") and "--cmd" in c for c in commands), commands
    for command in commands:
        check_command(shlex.split(command))


def test_the_checker_refuses_what_the_cli_refuses():
    with pytest.raises(AssertionError, match="no subcommand"):
        check_command(shlex.split("get service details --projectId p --serviceId s"))
    with pytest.raises(AssertionError, match="no option"):
        check_command(shlex.split("exec service --projectId p --service-id s"))
    check_command(shlex.split("get service logs --projectId p --serviceId s"))
