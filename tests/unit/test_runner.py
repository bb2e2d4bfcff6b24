"""ops.runner: one recorded, redacted, time-limited way to run a command."""

from __future__ import annotations

import sys
import time

import pytest

from ops.runner import REDACTED, Runner, StreamingCommand, streaming_logs_rules, streaming_reason


def test_records_exit_code_duration_and_output():
    r = Runner(timeout=20, env={"PATH": "/usr/bin:/bin"})
    rec = r.run([sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"])
    assert (rec.exit_code, rec.stdout.strip(), rec.stderr.strip()) == (3, "out", "err")
    assert rec.duration_s > 0 and r.records == [rec]
    assert r.table()[0]["exit"] == 3


def test_timeout_kills_and_records():
    r = Runner(timeout=1, env={"PATH": "/usr/bin:/bin"})
    start = time.monotonic()
    rec = r.run([sys.executable, "-c", "import time; print('x', flush=True); time.sleep(30)"])
    assert time.monotonic() - start < 10
    assert rec.timed_out and rec.exit_code is None and "timed out" in rec.error


def test_missing_program_is_recorded_not_raised():
    rec = Runner(env={"PATH": "/nonexistent"}).run(["definitely-not-a-program-xyz"])
    assert rec.exit_code is None and rec.error


def test_redaction_of_env_values_flags_and_patterns():
    secret = "s3cr3t-value-from-env-123"
    r = Runner(env={"PATH": "/usr/bin:/bin", "OPENCLAW_GATEWAY_TOKEN": secret})
    key = "sk-ant-" + "a" * 30
    rec = r.run([sys.executable, "-c", f"print('{secret} {key}')", "--token", "plain-flag-token", "--password=hunter22"])
    assert secret not in rec.stdout and key not in rec.stdout and rec.stdout.count(REDACTED) == 2
    assert "plain-flag-token" not in rec.command and "hunter22" not in rec.command
    assert f"--token {REDACTED}" in rec.command and f"--password={REDACTED}" in rec.command
    assert secret not in str(rec.as_dict()) and "raw_stdout" not in rec.as_dict()


def test_scrub_hides_values_before_recording():
    r = Runner(env={"PATH": "/usr/bin:/bin"})
    rec = r.run([sys.executable, "-c", "print('{\"API\": \"v1\"}')"], scrub=lambda s: s.replace("v1", "***"))
    assert "v1" not in rec.stdout and "v1" in rec.raw_stdout


@pytest.mark.parametrize("argv", [
    ["fly", "logs", "-a", "x"],
    ["docker", "compose", "logs", "-f"],
    ["kubectl", "logs", "pod", "--follow"],
    ["railway", "logs"],
    ["kubectl", "get", "pods", "-w"],
])
def test_streaming_commands_are_refused(argv):
    assert streaming_reason(argv)
    with pytest.raises(StreamingCommand):
        Runner().run(argv)


@pytest.mark.parametrize("argv", [
    ["fly", "logs", "-a", "x", "--no-tail"],
    ["docker", "compose", "logs", "--no-color", "--tail", "200"],
    ["railway", "logs", "-n", "200"],
    ["railway", "logs", "--since=1h"],
    ["/usr/local/bin/flyctl", "logs", "--no-tail"],
])
def test_bounded_log_commands_are_allowed(argv):
    assert streaming_reason(argv) == ""


def test_the_platform_clis_logs_rules_come_from_their_rooms():
    """runner.py names no platform: each room says how its CLI's `logs` is bounded."""
    rules = {rule["programs"]: rule for rule in streaming_logs_rules()}
    assert sorted(rules) == [("fly", "flyctl"), ("railway",)]
    assert streaming_reason(["flyctl", "logs", "-a", "x"]) == rules[("fly", "flyctl")]["reason"]
    assert streaming_reason(["railway", "logs", "--lines", "5", "x"]) == ""
    assert streaming_reason(["railway", "logs", "--service", "x"]) == rules[("railway",)]["reason"]


def test_run_until_ready_stops_the_program(tmp_path):
    flag = tmp_path / "ready"
    r = Runner(env={"PATH": "/usr/bin:/bin"})
    code = f"import pathlib, time; pathlib.Path({str(flag)!r}).write_text('1'); time.sleep(60)"
    rec, ready = r.run_until([sys.executable, "-c", code], lambda pid: flag.exists(), timeout=20)
    assert ready and rec.exit_code is None and "stopped by the runbook" in rec.error
    rec, ready = r.run_until([sys.executable, "-c", "import sys; print('bye'); sys.exit(78)"], lambda pid: False, timeout=20)
    assert not ready and rec.exit_code == 78 and "bye" in rec.stdout


def test_run_until_gives_up_on_a_failure_line():
    r = Runner(env={"PATH": "/usr/bin:/bin"})
    code = "import sys, time; print('Gateway failed to start: x', flush=True); time.sleep(60)"
    start = time.monotonic()
    rec, ready = r.run_until([sys.executable, "-c", code], lambda pid: False, timeout=30,
                             give_up=lambda text: "failed to start" in text)
    assert time.monotonic() - start < 15
    assert not ready and "after its failure line" in rec.error and "failed to start" in rec.stdout


def test_colour_codes_are_dropped():
    r = Runner(env={"PATH": "/usr/bin:/bin"})
    rec = r.run([sys.executable, "-c", "print('\\x1b[31m[gateway]\\x1b[39m up')"])
    assert rec.stdout.strip() == "[gateway] up"
