"""Fixtures for the e2e suite: gateways that never outlive their test.

``boot(plan, name)`` starts one boot of a deploy (its entrypoint, then the
gateway) and registers it; the finalizer stops every boot of the test
(SIGTERM, then SIGKILL after a bound), whether the test passed or not.

Measured figures (startup seconds, RSS against machine memory) are attached to
the test report as the ``e2e`` user property and printed in the terminal
summary, also under pytest-xdist.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from tests.e2e.harness import Gateway, Plan


@pytest.fixture
def boot(tmp_path: Path) -> Callable[..., Gateway]:
    started: list[Gateway] = []

    def _boot(plan: Plan, name: str, *, check_consistent: bool = True) -> Gateway:
        gateway = Gateway(plan, tmp_path / "logs" / f"{name}.log", name)
        started.append(gateway)
        return gateway.start(check_consistent=check_consistent)

    yield _boot
    for gateway in started:
        gateway.stop()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = []
    for key in ("passed", "failed"):
        for report in terminalreporter.stats.get(key, []):
            for name, value in getattr(report, "user_properties", []):
                if name == "e2e":
                    lines.append(f"{report.nodeid.split('::')[-1]}: {value}")
    if lines:
        terminalreporter.write_sep("-", "e2e figures")
        for line in sorted(lines):
            terminalreporter.write_line(line)


def figures(**values) -> str:
    return json.dumps(values, sort_keys=False)
