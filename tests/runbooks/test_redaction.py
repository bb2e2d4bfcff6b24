"""No secret in any troubleshooting report: `make troubleshoot` (papermill running the real
notebook, then nbconvert) in live mode against the RECORDING STAND-IN `fly` (tests/standins/),
whose canned output carries one secret of every known shape in the places rows quote:
doctor findings, health-check bodies, log lines, and the raw JSON of every command."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ops import model as m
from ops.runner import REDACTED, redact_text
from tests.runbooks.conftest import STANDINS
from tests.runbooks.test_live import APP, fly_canned

GATEWAY_TOKEN = os.urandom(32).hex()  # in the environment, as `make troubleshoot` sees it
SECRETS = {
    "json token": "tokJson" + os.urandom(6).hex(),
    "json password": "pw-" + os.urandom(5).hex(),
    "json apiKey": "ak_" + os.urandom(8).hex(),
    "json SECRET (any case)": "Sx" + os.urandom(5).hex(),
    "bearer": "bearerTok" + os.urandom(10).hex(),
    "flyv1": "fm2_lJPECAAAAAAAA" + os.urandom(12).hex() + ",fm2_lJPETtZ" + os.urandom(6).hex(),
    "discord": "MTE5ODc2NTQzMjEwOTg3NjU0Mw.GzT9aB." + "Kq3" + os.urandom(16).hex()[:30],
    "ngrok": "2Z" + os.urandom(12).hex()[:25] + "_" + "7x" + os.urandom(10).hex()[:20],
    "short token=": "Zq7" + os.urandom(2).hex(),
    "anthropic": "sk-ant-api03-" + os.urandom(16).hex(),
    "gateway token (env)": GATEWAY_TOKEN,
}


def leaky_canned(model: m.DeployModel) -> dict[str, str]:
    s = SECRETS
    canned = fly_canned(model, broken=True)
    status = json.loads(canned["fly-status.json"])
    status["Config"] = {"env": {"OPENCLAW_GATEWAY_TOKEN": GATEWAY_TOKEN}}
    canned["fly-status.json"] = json.dumps(status, indent=2)
    checks = json.loads(canned["fly-checks-list.json"])
    for machine in checks.values():
        machine[0]["output"] = json.dumps({"ok": False, "error": "unauthorized", "apiKey": s["json apiKey"]})
    canned["fly-checks-list.json"] = json.dumps(checks, indent=2)
    doctor = {"schemaVersion": 1, "ok": False, "findings": [
        {"checkId": "channels.discord.token", "severity": "error",
         "message": f"discord login failed with token {s['discord']}: 401",
         "path": json.dumps({"token": s["json token"], "Password": s["json password"]}),
         "fixHint": f"check the header Authorization: Bearer {s['bearer']}"},
        {"checkId": "tunnel.ngrok", "severity": "warning",
         "message": f"ngrok rejected authtoken {s['ngrok']}", "path": "", "fixHint": ""}]}
    canned["fly-ssh-console~doctor.json"] = "Connecting to fdaa::3... complete\n" + json.dumps(doctor, indent=2)
    canned["fly-logs.txt"] = "\n".join([
        f"2026-11-24T10:00:00Z Error: EACCES: permission denied; FLY_API_TOKEN=FlyV1 {s['flyv1']}",
        f"2026-11-24T10:00:01Z Refusing to bind gateway to lan without auth. GET /hook?token={s['short token=']}",
        f"2026-11-24T10:00:02Z EADDRINUSE {{\"SECRET\": \"{s['json SECRET (any case)']}\"}}",
        f"2026-11-24T10:00:03Z origin not allowed; key {s['anthropic']} gw {GATEWAY_TOKEN}",
        f"2026-11-24T10:00:04Z JavaScript heap out of memory ngrok={s['ngrok']} d={s['discord']}",
    ]) + "\n"
    return canned


@pytest.mark.parametrize("name, secret", sorted(SECRETS.items()), ids=sorted(SECRETS))  # no random values in ids (xdist)
def test_redact_text_hides_each_shape(name, secret):
    line = {"json token": f'{{"token": "{secret}"}}', "json password": f'{{"Password":"{secret}"}}',
            "json apiKey": f'{{"apiKey": "{secret}"}}', "json SECRET (any case)": f'{{"SECRET": "{secret}"}}',
            "bearer": f"Authorization: Bearer {secret}", "flyv1": f"FlyV1 {secret}",
            "short token=": f"GET /x?token={secret}&a=1"}.get(name, f"value {secret} end")
    out = redact_text(line)
    assert REDACTED in out and secret not in out
    for piece in secret.split(","):
        assert piece not in out


@pytest.mark.parametrize("text", [
    "dial tcp 172.19.0.2:3000: connect: connection refused",
    "set OPENCLAW_GATEWAY_TOKEN: `make secrets`; locally `export OPENCLAW_GATEWAY_TOKEN=...`",
    "openclaw doctor: gateway.auth.token",
    "OPENCLAW_STATE_DIR=/data/.openclaw",
    "d8d9e1=started, white-pond-123",
    "image ghcr.io/openclaw/openclaw:2026.9.6@sha256:" + "ab" * 32,  # a digest is not a secret
])
def test_redaction_keeps_diagnostics(text):
    assert redact_text(text) == text


def test_no_secret_in_any_written_report(generated, broken, tmp_path):
    repo = broken(generated("fly-public-redact", app_name=APP), "redact")
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
    canned = tmp_path / "canned"
    canned.mkdir()
    for name, text in leaky_canned(model).items():
        (canned / name).write_text(text)
    py = sys.executable  # the pinned tools are installed here; -o: do not rebuild .venv
    env = {**os.environ, "PATH": f"{STANDINS}{os.pathsep}{os.environ['PATH']}", "STANDIN_DIR": str(canned),
           "STANDIN_LOG": str(tmp_path / "argv.jsonl"), "OPENCLAW_GATEWAY_TOKEN": GATEWAY_TOKEN}
    proc = subprocess.run(["make", "-o", py, f"PY={py}", "troubleshoot", "P=-p mode live"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0, proc.stdout[-2000:] + proc.stderr[-2000:]  # broken: FAIL steps
    reports = repo / "reports"
    files = {name: (reports / name).read_text() for name in
             ("troubleshooting.ipynb", "troubleshooting.json", "troubleshooting.html")}
    data = json.loads(files["troubleshooting.json"])
    # the secrets were in what the report quotes (so a leak would be seen) ...
    quoted = " ".join(r["seen"] + r["fix"] for r in data["results"])
    for step in ("openclaw doctor: channels.discord.token", "health checks passing",
                 "recent logs: permission denied on the state dir (volume owned by root, gateway runs as uid 1000)"):
        assert any(r["check"] == step for r in data["results"]), step
    assert quoted.count(REDACTED) >= 8, quoted
    assert any(REDACTED in c["stdout"] for c in data["commands"])  # raw command output too
    # ... and none is in any written file, nor on the terminal
    for name, secret in SECRETS.items():
        for piece in secret.split(","):
            for fname, text in files.items():
                assert piece not in text, f"{name} in reports/{fname}"
            assert piece not in proc.stdout + proc.stderr, f"{name} printed"
