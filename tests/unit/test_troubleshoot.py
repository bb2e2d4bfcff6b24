"""The runbook frame and what every live target shares: JSON streams (ops.live), lock
judgement (ops.locks), failure signatures (ops.signatures), the local launcher
(ops.local_gateway), the table and verdict (ops.troubleshoot). No network, no CLI;
each platform's own parsers are tested in tests/platforms/."""

from __future__ import annotations

import json

import pytest

from ops import live as lv
from ops import local_gateway as lg
from ops import locks as lk
from ops import signatures as sig
from ops import troubleshoot as t
from ops.checks import Result


def test_json_stream_decodes_indented_objects_back_to_back():
    text = json.dumps({"a": 1}, indent=2) + json.dumps({"b": [1, 2]}, indent=4) + "\nnot json\n" + '{"c": 3}'
    assert lv.parse_json_stream(text) == [{"a": 1}, {"b": [1, 2]}, {"c": 3}]


@pytest.mark.parametrize(("text", "what"), [
    ("2026-11-24T18:20:37Z Refusing to bind gateway to lan without auth.", "without a token"),
    ("Gateway failed to start: StateDatabaseCoordinatorContentionError: another OpenClaw process owns "
     "gateway-lifecycle", "second gateway"),
    ("Error: EACCES: permission denied, mkdir '/data/tmp'", "permission denied"),
    ("WARNING The app is not listening on the expected address", "proxy finds nothing"),
])
def test_signatures_name_the_failure_and_fix(text, what):
    hits = sig.diagnose_output("noise\n" + text + "\nmore noise")
    assert len(hits) == 1 and what in hits[0][1] and hits[0][2]
    assert sig.diagnose_output("all fine\nlistening on 0.0.0.0:3000") == []


def test_lock_judged_by_pid_and_start_time(tmp_path):
    lockdir = tmp_path / "tmp" / "openclaw-1000"
    lockdir.mkdir(parents=True)
    # the real lock: indented JSON padded with whitespace
    (lockdir / "gateway.state.lock").write_text(json.dumps({"pid": 7, "port": 3000, "startTime": 500}, indent=2) + "\n\t \t")
    alive = lk.read_locks(tmp_path, start_time_of=lambda pid: 500)
    assert alive[0].alive and alive[0].port == 3000
    reused = lk.read_locks(tmp_path, start_time_of=lambda pid: 900)  # a container restart reused pid 7
    assert reused[0].stale and "reused" in reused[0].reason
    gone = lk.read_locks(tmp_path, start_time_of=lambda pid: None)
    assert gone[0].stale
    res = lk.lock_result(gone, str(tmp_path))
    assert res.status == "WARN" and "rm " in res.fix and "not done here" in res.fix
    assert lk.lock_result(alive, str(tmp_path)).status == "PASS"
    assert lk.lock_result([], str(tmp_path)).status == "PASS"


def test_proc_start_time_of_this_process():
    import os
    assert isinstance(lk.proc_start_time(os.getpid()), int)
    assert lk.proc_start_time(2 ** 22 + 12345) is None


def test_doctor_findings_become_steps():
    from ops.runner import Record
    report = {"schemaVersion": 1, "ok": False, "findings": [
        {"checkId": "gateway.auth", "severity": "error", "message": "no token", "path": "gateway.auth",
         "fixHint": "set OPENCLAW_GATEWAY_TOKEN"},
        {"checkId": "x.y", "severity": "info", "message": "fine"}]}
    rec = Record(["fly", "ssh"], 0, 0.1, "Connecting...\n" + json.dumps(report, indent=2), "")
    res = lv.doctor_results(rec)
    assert [(r.check, r.status, r.fix) for r in res] == [("openclaw doctor: gateway.auth", "FAIL", "set OPENCLAW_GATEWAY_TOKEN")]
    ok = Record(["fly"], 0, 0.1, json.dumps({"ok": True, "findings": []}), "")
    assert lv.doctor_results(ok)[0].status == "PASS"


def test_verdict_raises_only_with_fail_on_error():
    results = [Result("a", "PASS", ""), Result("b", "FAIL", "x", "y")]
    assert "1 failed" in t.verdict(results, False)
    with pytest.raises(t.RunbookFailed, match="b"):
        t.verdict(results, True)
    assert t.verdict(results[:1], True).startswith("0 failed")


def test_parameters_fill_from_answers(tmp_path):
    (tmp_path / ".copier-answers.yml").write_text("_commit: x\napp_name: claw\nplatform: fly\n")
    p = t.parameters(tmp_path)
    assert (p["mode"], p["platform"], p["app"], p["fail_on_error"]) == ("static", "fly", "claw", False)
    assert t.parameters(tmp_path, platform="local", mode="live")["platform"] == "local"
    with pytest.raises(ValueError):
        t.parameters(tmp_path, mode="fix-everything")


def test_descends_from():
    import os
    assert lk.descends_from(os.getpid(), os.getpid())
    assert lk.descends_from(os.getpid(), os.getppid())
    assert not lk.descends_from(os.getppid(), os.getpid())


def test_remote_lock_probe_parsing_and_judgement():
    from ops.runner import Record
    cmd = lk.lock_probe_command("/data")
    assert cmd.startswith("sh -c ") and "/data/tmp/openclaw-*/gateway.*.lock" in cmd
    stat = lambda pid, start: f"@@stat {pid} (node x) S " + " ".join(["0"] * 18) + f" {start} 0"  # noqa: E731
    text = "\n".join(["@@lock /data/tmp/openclaw-1000/gateway.state.lock", json.dumps({"pid": 7, "startTime": 50}, indent=2),
                      stat(1, 10), stat(7, 50)])
    locks, starts = lk.parse_lock_probe(text)
    assert locks == [("/data/tmp/openclaw-1000/gateway.state.lock", {"pid": 7, "startTime": 50})]
    assert starts == {1: 10, 7: 50}
    ok = lk.remote_lock_result(Record(["fly"], 0, 0.1, text, ""), "/data", "fly ssh console -C", "restart")
    assert ok.status == "PASS" and "pid 7" in ok.seen
    stale = lk.remote_lock_result(Record(["fly"], 0, 0.1, text.replace(stat(7, 50), stat(7, 99)), ""), "/data",
                              "fly ssh console -a x -C", "`fly machine restart`")
    assert stale.status == "WARN" and "fly ssh console -a x -C 'rm /data/tmp/openclaw-1000/gateway.state.lock'" in stale.fix
    down = lk.remote_lock_result(Record(["fly"], 1, 0.1, "", "machine not running"), "/data", "x", "y")
    assert down.status == "WARN"


def test_expand_env_like_compose():
    assert lg.expand_env("${OPENCLAW_GATEWAY_PORT:-18789}", {}) == "18789"
    assert lg.expand_env("${OPENCLAW_GATEWAY_PORT:-18789}", {"OPENCLAW_GATEWAY_PORT": "3000"}) == "3000"
    assert lg.expand_env("--bind", {}) == "--bind"


def test_terminal_table_one_row_per_step_and_skip_says_how_to_run():
    results = [Result("files parse", "PASS", "ok"),
               Result("port agreement", "FAIL", "8080 vs 3000", "every place must say 3000 " + "x" * 150),
               Result("Control UI allowed origins", "SKIP", "private deploy", "runs for a public deploy"),
               Result("bare skip", "SKIP", "nothing to look at")]
    text = t.table(results, width=80)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert lines[0].split()[:2] == ["verdict", "step"]
    assert any(line.startswith("PASS ") and "files parse" in line for line in lines)
    fail = next(i for i, line in enumerate(lines) if line.startswith("FAIL "))
    assert "every place must say 3000" in lines[fail] and lines[fail + 1].startswith(" " * 20)  # wrapped, aligned
    assert any(line.startswith("SKIP ") and "runs for a public deploy" in line for line in lines)
    assert any(line.startswith("SKIP ") and "skipped: nothing to look at" in line for line in lines)
    assert lines[-1] == "1 PASS, 1 FAIL, 0 WARN, 2 SKIP"
    # the report rows keep a SKIP's hint too (it used to be dropped)
    assert t.rows(results)[2]["fix"] == "runs for a public deploy"


def test_static_mode_says_how_to_run_the_live_checks(tmp_path):
    results, _ = t.run({"repo": str(tmp_path), "mode": "static"})
    live = results[-1]
    assert (live.check, live.status) == ("live checks", "SKIP")
    assert "-p mode live" in live.fix and "OPENCLAW_BIN" in live.fix


def test_verify_prints_what_would_make_a_skip_run():
    from ops import verify

    out = verify.render([Result("openclaw config validate", "SKIP", "OpenClaw is not installed here",
                                "npm install openclaw@2026.9.6 (Node >= 24), then OPENCLAW_BIN=... make verify")])
    assert "fix: npm install openclaw@2026.9.6" in out and "OPENCLAW_BIN=... make verify" in out


