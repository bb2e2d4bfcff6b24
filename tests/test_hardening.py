"""Hardening (issue 11): credentials only as references in config/openclaw.json, `make update`
only from the template the repo was generated from, HSTS on public deploys, a read-only root
filesystem on Kubernetes, no `export SECRET=...` in the docs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ops import checks, model as m
from tests.support.template_history import commit_all

ALL_CHANNELS = {"channels": ["discord", "telegram", "slack", "whatsapp"],
                "model_providers": ["anthropic", "openai", "google", "openrouter"], "tunnel": "ngrok"}


def answers_for(platform: str, **extra) -> dict:
    data = {"platform": platform, **extra}
    if m.platforms()[platform].get("needs_domain"):
        data["domain"] = "claw.example.org"
    return data


def committed(render, **answers) -> Path:
    repo = render(**answers)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    commit_all(repo, "generated")
    return repo


def run_verify(repo: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "OPENCLAW_BIN"}
    env["PATH"] = f"{Path(sys.executable).parent}:/usr/bin:/bin"
    env["COLUMNS"] = "1000"  # a terminal that wide: one line per check, what these tests read
    return subprocess.run([sys.executable, "-m", "ops.verify"], cwd=repo, capture_output=True, text=True,
                          env=env, timeout=120)


# ------------------------------------------------- 4: credentials in the config --

GATEWAY_TOKEN = os.urandom(32).hex()
DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4." + "GhIjKl" + "." + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7"
PROVIDER_KEY = "pk-" + os.urandom(10).hex()
PASSWORD = "hunter2-correct-horse"


@pytest.mark.parametrize("platform", sorted(m.platforms()))
def test_generated_config_references_every_credential(render, platform):
    repo = render(**answers_for(platform, **ALL_CHANNELS))
    config = json.loads((repo / "config" / "openclaw.json").read_text())
    assert checks.inline_credentials(config) == []
    repo_obj = checks.load_repo(repo)
    assert checks.check_config_credentials_are_refs(repo_obj).status == checks.PASS


def test_inline_credentials_fail_verify_naming_the_path_not_the_value(render):
    repo = committed(render, channels=["discord"])
    path = repo / "config" / "openclaw.json"
    config = json.loads(path.read_text())
    config["gateway"]["auth"]["token"] = GATEWAY_TOKEN
    config["channels"]["discord"]["token"] = DISCORD_TOKEN
    config["gateway"]["remote"] = {"password": PASSWORD}
    config["models"] = {"providers": {"acme": {"apiKey": PROVIDER_KEY, "baseUrl": "https://llm.example.org"}}}
    config["gateway"]["controlUi"]["allowedOrigins"].append("https://token.example.org")  # not a credential
    path.write_text(json.dumps(config, indent=2))
    commit_all(repo, "inline secrets")
    proc = run_verify(repo)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    line = next(l for l in out.splitlines() if "config credentials are secret references" in l)
    assert line.startswith("FAIL"), out
    for where in ("gateway.auth.token", "channels.discord.token", "gateway.remote.password",
                  "models.providers.acme.apiKey"):
        assert where in line, line
    for value in (GATEWAY_TOKEN, DISCORD_TOKEN, PROVIDER_KEY, PASSWORD):
        assert value not in out and value[:12] not in out


@pytest.mark.parametrize("value, inline", [
    ({"source": "env", "provider": "default", "id": "X_TOKEN"}, False),
    ("${OPENCLAW_GATEWAY_TOKEN}", False),
    ("", False),
    ("${lower}", True),                      # only uppercase names are substituted
    ("prefix-${OPENCLAW_GATEWAY_TOKEN}", True),
    ("0" * 64, True),
])
def test_what_counts_as_a_reference(value, inline):
    config = {"channels": {"telegram": {"accounts": {"main": {"botToken": value}}}}, "tls": [{"key": value}]}
    found = checks.inline_credentials(config)
    assert found == (["channels.telegram.accounts.main.botToken", "tls[0].key"] if inline else [])


# ------------------------------------------------------------------- 8: HSTS --

@pytest.mark.parametrize("platform", sorted(m.platforms()))
def test_public_deploys_send_hsts_private_ones_do_not(render, platform):
    public = render(**answers_for(platform, privacy="public"))
    config = json.loads((public / "config" / "openclaw.json").read_text())
    assert config["gateway"]["http"]["securityHeaders"]["strictTransportSecurity"] == "max-age=31536000"
    assert checks.check_hsts(checks.load_repo(public)).status == checks.PASS
    if (public / "caddy" / "Caddyfile").exists():
        assert 'header Strict-Transport-Security "max-age=31536000"' in (public / "caddy" / "Caddyfile").read_text()
    private = render(**answers_for(platform, privacy="private"))
    assert "http" not in json.loads((private / "config" / "openclaw.json").read_text())["gateway"]


def test_hsts_removed_fails_verify(render):
    repo = render()
    path = repo / "config" / "openclaw.json"
    config = json.loads(path.read_text())
    del config["gateway"]["http"]
    path.write_text(json.dumps(config))
    result = checks.check_hsts(checks.load_repo(repo))
    assert result.status == checks.FAIL and "strictTransportSecurity" in result.seen


def test_caddy_sets_the_header(render, tmp_path):
    """The real Caddy (Debian package) adapts the Caddyfile into a header handler."""
    import shutil
    assert shutil.which("caddy"), "caddy is not installed: apt-get install caddy"
    repo = render(platform="vps", privacy="public", domain="claw.example.org")
    proc = subprocess.run(["caddy", "adapt", "--config", str(repo / "caddy" / "Caddyfile"), "--adapter", "caddyfile"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert '"Strict-Transport-Security":["max-age=31536000"]' in proc.stdout.replace(" ", "")


# ------------------------------------------------ 8: read-only root on Kubernetes --

def _deployment(repo: Path) -> dict:
    import yaml
    return yaml.safe_load((repo / "k8s" / "base" / "deployment.yaml").read_text())


@pytest.mark.parametrize("privacy", ["public", "private"])
def test_kubernetes_gateway_root_is_read_only_and_its_writes_have_volumes(render, privacy):
    repo = render(**answers_for("kubernetes", privacy=privacy))
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
    pod = _deployment(repo)["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    for container in [*pod["initContainers"], *pod["containers"]]:
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, container["name"]
    gateway = next(c for c in pod["containers"] if c["name"] == "gateway")
    mounts = {mt["mountPath"]: volumes[mt["name"]] for mt in gateway["volumeMounts"]}
    # every path the gateway writes is a volume: the state dir (PVC), /tmp/openclaw logs, locks,
    # compile cache (emptyDir /tmp), the secure temp fallback $HOME/.cache (emptyDir)
    assert "persistentVolumeClaim" in mounts[model.volume_mount]
    assert model.state_dir == model.volume_mount or model.state_dir.startswith(model.volume_mount + "/")
    for path in ("/tmp", "/home/node/.cache"):
        assert "emptyDir" in mounts[path], path


@pytest.mark.e2e
@pytest.mark.container
@pytest.mark.slow
def test_gateway_starts_with_the_manifests_read_only_root(render, tmp_path):
    """The real gateway image under the Deployment's own constraints: read-only root, its
    emptyDirs as tmpfs, the PVC as a volume, uid 1000, no capabilities; it must answer
    /startupz, with the public config's Strict-Transport-Security header. Runs in the
    container layer's engine, on the image the manifest names (the containers lab's stand-in
    built from the npm package: no registry is reachable here), built first when missing.
    Every engine call goes through the layer's helper, whose timeouts allow for an engine
    busy building images for the other worker (a 180 s `image inspect` timed out in CI)."""
    from tests.conftest import DEFAULT_VERSION
    from tests.support import containers as c

    repo = render(**answers_for("kubernetes", privacy="public"))
    model = m.build(m.answers_from_file(repo / ".copier-answers.yml"))
    # no `docker info` probe first: its 60 s limit is for the layer's start, and an engine busy with
    # the other worker answered it too late in CI; the image helper fails with the engine's own error
    assert model.image == c.openclaw_image(DEFAULT_VERSION)
    pod = _deployment(repo)["spec"]["template"]["spec"]
    gateway = next(ct for ct in pod["containers"] if ct["name"] == "gateway")
    volumes = {v["name"]: v for v in pod["volumes"]}
    uid = pod["securityContext"]["runAsUser"]
    name = f"claw-ro-{os.getpid()}-{os.urandom(3).hex()}"
    state = tmp_path / "state"
    state.mkdir()
    (state / "openclaw.json").write_text((repo / "config" / "openclaw.json").read_text())  # the init container's seed
    os.chown(state, uid, uid) if os.geteuid() == 0 else None
    os.chown(state / "openclaw.json", uid, uid) if os.geteuid() == 0 else None
    argv = ["run", "-d", "--name", name, "--read-only", "--user", f"{uid}:{uid}", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--network", "none"]
    assert gateway["securityContext"]["readOnlyRootFilesystem"] is True
    for mount in gateway["volumeMounts"]:
        volume = volumes[mount["name"]]
        if "emptyDir" in volume:
            argv += ["--tmpfs", f"{mount['mountPath']}:uid={uid},gid={uid},mode=0755"]
        elif "persistentVolumeClaim" in volume:
            argv += ["-v", f"{state}:{mount['mountPath']}"]
    for env in gateway["env"]:
        argv += ["-e", f"{env['name']}={env['value']}"]
    argv += ["-e", f"OPENCLAW_GATEWAY_TOKEN={os.urandom(32).hex()}", model.image, *gateway["args"]]
    port = model.port
    c.docker(*argv)

    def logs() -> str:
        return c.docker("logs", name, check=False).stderr[-3000:]

    try:
        import time
        deadline, body = time.monotonic() + 300, ""
        while time.monotonic() < deadline:
            running = c.docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip()
            assert running == "true", logs()
            body = c.docker("exec", name, "node", "-e",
                            f"fetch('http://127.0.0.1:{port}/startupz').then(async r=>console.log("
                            "'hsts=' + r.headers.get('strict-transport-security') + ' ' + await r.text()))"
                            ".catch(()=>console.log('down'))", check=False).stdout
            if '"ok":true' in body:
                break
            time.sleep(3)
        assert '"ok":true' in body, logs()
        assert "hsts=max-age=31536000 " in body  # the public config's header, sent by the gateway itself
        text = c.docker("logs", name, check=False).stderr
        assert "EROFS" not in text and "read-only file system" not in text.lower()
    finally:
        c.docker("rm", "-f", name, check=False, timeout=120)


# ------------------------------------------- 8: Compose secrets.sh cleans up --

@pytest.mark.parametrize("platform", [p for p, f in sorted(m.platforms().items()) if f.get("kind") == "compose"])
def test_compose_secrets_script_leaves_no_temp_file_on_failure(render, tmp_path, platform):
    repo = render(**answers_for(platform))
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "mv").write_text("#!/bin/sh\necho 'mv: disk full (stub)' >&2\nexit 1\n")  # fails after the write
    (stub / "mv").chmod(0o755)
    value = "sk-test-" + os.urandom(12).hex()
    env = {"PATH": f"{stub}:/usr/bin:/bin", "HOME": str(tmp_path), "ANTHROPIC_API_KEY": value}
    proc = subprocess.run(["bash", "scripts/secrets.sh"], cwd=repo, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode != 0 and "disk full" in proc.stderr
    left = [p.name for p in repo.iterdir() if p.name.startswith(".env.") and p.name != ".env.example"]
    assert left == [], f"temp files with the secrets left behind: {left}"
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert value not in path.read_text(errors="replace"), path


# ------------------------------------------- 8: the local live target binds loopback --

def test_local_target_starts_the_gateway_on_loopback(render, tmp_path):
    from ops import troubleshoot as t
    from ops.runner import Runner

    repo = render()  # fly.toml starts the gateway with --bind lan
    fake = tmp_path / "openclaw"  # records its argv and exits like a gateway that failed
    log = tmp_path / "argv.json"
    fake.write_text(f"#!{sys.executable}\nimport json, sys\n"
                    f"if sys.argv[1:] != ['--version']:\n    json.dump(sys.argv[1:], open({str(log)!r}, 'w'))\n"
                    "print('OpenClaw 2026.9.6'); sys.exit(0 if sys.argv[1:] == ['--version'] else 3)\n")
    fake.chmod(0o755)
    env = {"PATH": "/usr/bin:/bin", "OPENCLAW_GATEWAY_TOKEN": os.urandom(32).hex()}
    results, runner = t.run(t.parameters(repo, mode="live", platform="local"), runner=Runner(env=env),
                            openclaw_bin=str(fake), state_dir=str(tmp_path / "state"), start_timeout=20)
    argv = json.loads(log.read_text())
    assert argv[argv.index("--bind") + 1] == "loopback" and "lan" not in argv and argv.count("--bind") == 1


def test_local_target_names_the_lan_refusal_it_does_not_run(tmp_path):
    from ops import local_gateway as t

    assert t.loopback_args(["gateway", "--bind", "lan", "--port", "3000"]) == (
        ["gateway", "--port", "3000", "--bind", "loopback"], "lan")
    assert t.loopback_args(["gateway", "--bind=auto"])[1] == "auto"
    config = tmp_path / "openclaw.json"
    config.write_text(json.dumps({"gateway": {"port": 3000}}))
    refusal = t.lan_refusal(config, "lan", {}, "OPENCLAW_GATEWAY_TOKEN")
    assert refusal.status == checks.FAIL and "refuses a lan bind without a token (exit 78)" in refusal.check
    assert t.lan_refusal(config, "lan", {"OPENCLAW_GATEWAY_TOKEN": "x" * 64}, "OPENCLAW_GATEWAY_TOKEN") is None
    assert t.lan_refusal(config, "loopback", {}, "OPENCLAW_GATEWAY_TOKEN") is None


# ------------------------------------- 8: no `export SECRET=...` in any generated doc --

SECRET_NAME = r"[A-Z][A-Z0-9_]*(?:TOKEN|API_KEY|SECRET|PASSWORD|AUTHKEY|AUTH_KEY)"
# NAME=<anything>: a value typed on a command line lands in the shell history and in ps
VALUE_ON_COMMAND_LINE = re.compile(rf"(?:\bexport\s+{SECRET_NAME}=|(?<![\w^])\b{SECRET_NAME}=(?=\S))")


def doc_files(repo: Path) -> list[Path]:
    return [p for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts and
            (p.suffix in (".md", ".ipynb") or p.name == "Makefile" or p.parent.name == "ops" and p.suffix == ".py")]


@pytest.mark.parametrize("platform", sorted(m.platforms()))
def test_docs_never_put_a_secret_value_on_a_command_line(render, platform):
    repo = render(**answers_for(platform, **ALL_CHANNELS))
    hits = []
    for path in doc_files(repo):
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if VALUE_ON_COMMAND_LINE.search(line):
                hits.append(f"{path.relative_to(repo)}:{number}: {line.strip()[:160]}")
    assert hits == [], "\n".join(hits)


@pytest.mark.parametrize("line, bad", [
    ("export RENDER_API_KEY=...", True),
    ("NORTHFLANK_API_TOKEN=... make secrets", True),
    ("`export OPENCLAW_GATEWAY_TOKEN=$(openssl rand -hex 32)`", True),
    ("grep ^OPENCLAW_GATEWAY_TOKEN= .env", False),
    ("read -rs OPENCLAW_GATEWAY_TOKEN && export OPENCLAW_GATEWAY_TOKEN", False),
    ("copier update -d KEY=VALUE", False),
])
def test_the_doc_rule_sees_a_value_on_a_command_line(line, bad):
    assert bool(VALUE_ON_COMMAND_LINE.search(line)) is bad
