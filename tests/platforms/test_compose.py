"""ops/platforms/compose.py: what the ops package knows about compose (parsers of the CLI
shapes its live checks read; shapes follow the documented output, no CLI)."""

from __future__ import annotations

import json

import pytest

from ops.platforms import compose as room


def test_compose_ps_accepts_an_array_and_one_object_per_line():
    services = [{"Service": "openclaw", "State": "running", "Health": "healthy", "ExitCode": 0},
                {"Service": "caddy", "State": "exited", "Health": "", "ExitCode": 1}]
    assert room.parse_compose_ps(json.dumps(services)) == services
    assert room.parse_compose_ps("\n".join(json.dumps(s) for s in services)) == services
    assert room.parse_compose_ps("") == []


class _Rec:
    def __init__(self, code, out="", err="", command="docker compose version"):
        self.exit_code, self.stdout, self.stderr, self.command, self.error = code, out, err, command, ""


@pytest.mark.parametrize("err", [
    "docker: 'compose' is not a docker command.\nSee 'docker --help'",  # Docker 20.10 CLI, no plugin
    "docker: unknown command: docker compose\n\nRun 'docker --help' for more information",
])
def test_missing_compose_plugin_is_named_not_the_daemon(err):
    step = room.compose_plugin_result(_Rec(1, err=err))
    assert step.status == "FAIL" and step.check == "Docker Compose plugin"
    assert "no Compose plugin" in step.fix and "not a daemon problem" in step.fix
    assert "~/.docker/cli-plugins" in step.fix
    # what the old code ran next: `ps -a` read as docker's own flag; the fix it gave blamed the daemon
    assert "no Compose plugin" in room.compose_failure_fix("unknown shorthand flag: 'a' in -a")
    assert "daemon" in room.compose_failure_fix("Cannot connect to the Docker daemon at unix:///var/run/docker.sock.")
    ok = room.compose_plugin_result(_Rec(0, out="Docker Compose version v2.29.7\n"))
    assert (ok.status, ok.seen) == ("PASS", "Docker Compose version v2.29.7")
