"""Every fly x privacy x tunnel x binaries combination renders, parses, lints and agrees.

Files are parsed (TOML, JSON), never grepped; the linters are the real binaries.
"""

from __future__ import annotations

import itertools
import json
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from ops import checks, model as m

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ALL_BINARIES = list(m.binaries_catalog())

MATRIX = list(itertools.product(["public", "private"], ["none", "ngrok", "tailscale"], [[], ALL_BINARIES]))


def flags(command: str) -> dict[str, str]:
    argv = shlex.split(command)
    return {argv[i][2:]: argv[i + 1] for i in range(len(argv) - 1) if argv[i].startswith("--")}


@pytest.mark.parametrize(("privacy", "tunnel", "binaries"), MATRIX,
                         ids=[f"{p}-{t}-{'bins' if b else 'nobins'}" for p, t, b in MATRIX])
def test_fly_combination(render, privacy, tunnel, binaries):
    repo = render(app_name="claw-test", privacy=privacy, tunnel=tunnel, binaries=binaries)
    fly = tomllib.loads((repo / "fly.toml").read_text())
    config = json.loads((repo / "config" / "openclaw.json").read_text())
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))

    process = flags(fly["processes"]["app"])
    assert int(process["port"]) == model.port == config["gateway"]["port"]
    assert process["bind"] == "lan" == config["gateway"]["bind"]
    assert "--allow-unconfigured" in fly["processes"]["app"]
    assert fly["mounts"]["destination"] == fly["env"]["OPENCLAW_STATE_DIR"] == "/data"
    assert fly["env"]["NODE_OPTIONS"] == "--max-old-space-size=1536"
    assert fly["vm"][0] == {"size": "shared-cpu-2x", "memory": "2048mb", "processes": ["app"]}
    if privacy == "public":
        service = fly["http_service"]
        assert service["internal_port"] == int(process["port"])
        assert service["force_https"] is True and service["min_machines_running"] == 1
        assert service["auto_stop_machines"] == "off"
        assert [c["path"] for c in service["checks"]] == ["/healthz"]
        assert config["gateway"]["controlUi"]["allowedOrigins"] == ["https://claw-test.fly.dev"]
    else:
        assert "http_service" not in fly and "services" not in fly
        assert "controlUi" not in config["gateway"]
        assert fly["checks"]["startup"]["port"] == int(process["port"])

    # the tunnel question is asked on private deploys only: a public one has none
    tunnel = tunnel if privacy == "private" else "none"
    assert model.tunnel == tunnel
    dockerfile = (repo / "Dockerfile").read_text()
    assert ("ngrok" in dockerfile) == (tunnel == "ngrok")
    assert ("tailscaled" in dockerfile) == (tunnel == "tailscale")
    entrypoint = (repo / "docker" / "entrypoint.sh").read_text()
    assert ("ngrok http" in entrypoint) == (tunnel == "ngrok")
    assert ("tailscale --socket" in entrypoint) == (tunnel == "tailscale")
    secrets = (repo / "scripts" / "secrets.sh").read_text()
    assert ('"NGROK_AUTHTOKEN"' in secrets) == (tunnel == "ngrok")
    assert ('"TS_AUTHKEY"' in secrets) == (tunnel == "tailscale")
    tsv = (repo / "docker" / "binaries.tsv").read_text().splitlines()
    assert [line.split("\t")[0] for line in tsv] == binaries
    assert ("COPY --from=binaries" in dockerfile) == bool(binaries)

    # the deploy repo's own static checks agree with the template
    results = checks.run_static(repo)
    assert [r for r in results if r.status == checks.FAIL] == []

    lint = subprocess.run([BIN / "hadolint", "--failure-threshold", "warning", "Dockerfile"],
                          cwd=repo, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    scripts = [str(p.relative_to(repo)) for p in [*repo.glob("scripts/*.sh"), *repo.glob("docker/*.sh")]]
    sc = subprocess.run([BIN / "shellcheck", *scripts], cwd=repo, capture_output=True, text=True)
    assert sc.returncode == 0, sc.stdout
    # SchemaStore's fly.toml schema, vendored into every deploy repo (ops/schemas/README.md)
    schema = subprocess.run([BIN / "check-jsonschema", "--schemafile", "ops/schemas/fly.json", "fly.toml"],
                            cwd=repo, capture_output=True, text=True)
    assert schema.returncode == 0, schema.stdout + schema.stderr
    for script in scripts:
        assert (repo / script).stat().st_mode & 0o111, f"{script} is not executable"


def test_answers_file_records_answers_and_no_secret(render):
    repo = render(channels=["discord"], model_providers=["openai"])
    answers = (repo / ".copier-answers.yml").read_text()
    assert "channels:\n- discord" in answers and "_commit: v999.0.0" in answers
    assert "TOKEN" not in answers and "KEY" not in answers


def test_other_platform_files_not_generated(render):
    repo = render()
    generated = {p.name for p in repo.iterdir()}
    assert "fly.toml" in generated
    assert not generated & {"railway.json", "render.yaml", "docker-compose.yml", "_partials"}


def test_memory_and_port_flow_into_every_file(render):
    repo = render(gateway_port=8080, vm_memory_mb=4096, vm_size="shared-cpu-4x", region="fra")
    fly = tomllib.loads((repo / "fly.toml").read_text())
    assert fly["primary_region"] == "fra"
    assert fly["http_service"]["internal_port"] == 8080
    assert flags(fly["processes"]["app"])["port"] == "8080"
    assert fly["env"]["NODE_OPTIONS"] == "--max-old-space-size=3072"
    assert fly["vm"][0]["memory"] == "4096mb"
    assert '"8080", "/healthz"' in (repo / "Dockerfile").read_text()
    assert json.loads((repo / "config/openclaw.json").read_text())["gateway"]["port"] == 8080


def test_static_checks_catch_a_hand_edited_port(render):
    repo = render()
    path = repo / "fly.toml"
    path.write_text(path.read_text().replace("internal_port = 3000", "internal_port = 8080"))
    failed = {r.check for r in checks.run_static(repo) if r.status == checks.FAIL}
    assert failed == {"port agreement"}
