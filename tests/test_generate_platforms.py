"""GCP, any VPS, Railway, Northflank, Render and Kubernetes: each platform x
privacy renders, parses, validates with the real offline tools, and agrees
with the deploy model field by field. Files are parsed (YAML/JSON/Caddyfile
tokens), never grepped; the validators are the real binaries.
"""

from __future__ import annotations

import itertools
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ops import checks, declared as d, model as m, verify
from ops.platforms import compose as compose_room, kubernetes, northflank

BIN = Path(sys.executable).parent
# Every platform in the data, less those whose contract has a file of its own.
OWN_FILE = {"fly": "tests/test_generate_fly.py"}
PLATFORMS = [p for p in m.platforms() if p not in OWN_FILE]
MATRIX = list(itertools.product(PLATFORMS, ["public", "private"]))


def load_model(repo: Path) -> m.DeployModel:
    return m.build(m.answers_from_file(repo / ".copier-answers.yml"))


def flags(argv: list[str]) -> dict[str, str]:
    return {argv[i][2:]: argv[i + 1] for i in range(len(argv) - 1) if argv[i].startswith("--")}


def run(argv, cwd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=120, **kw)


# --------------------------------------------------------------------------
# per-platform file contracts
# --------------------------------------------------------------------------


def assert_compose(repo: Path, model: m.DeployModel) -> None:
    compose = yaml.safe_load((repo / "docker-compose.yml").read_text())
    gw = compose["services"]["openclaw-gateway"]
    assert gw["build"] == {"context": ".", "dockerfile": "Dockerfile"}
    assert gw["restart"] == "unless-stopped"
    # the command takes port and bind from .env with the answers as defaults
    command = [d.interpolate(a, {}) for a in gw["command"]]
    assert command == list(model.gateway_command)
    assert f"${{OPENCLAW_GATEWAY_PORT:-{model.port}}}" in gw["command"]
    assert f"${{OPENCLAW_GATEWAY_BIND:-{model.bind}}}" in gw["command"]
    # two separate named volumes: state and workspace
    volumes = dict(v.split(":", 1) for v in gw["volumes"])
    assert volumes == {"openclaw-state": model.state_dir, "openclaw-workspace": model.workspace_dir}
    assert set(compose["volumes"]) >= {"openclaw-state", "openclaw-workspace"}
    assert gw["environment"]["OPENCLAW_STATE_DIR"] == model.state_dir
    # the healthcheck asserts the JSON body via docker/healthcheck.mjs on the same port
    test = [d.interpolate(a, {}) for a in gw["healthcheck"]["test"]]
    assert test == ["CMD", "node", "/opt/openclaw-deploy/healthcheck.mjs", str(model.port), "/healthz"]
    # the VM is shared: gateway + Caddy + what the OS and Docker keep fit in its memory
    reserve = m.platforms()[model.platform]["host"]["reserve_mb"]
    caddy_mb = d.to_mb(compose["services"]["caddy"]["mem_limit"]) if model.public else 0
    assert d.to_mb(gw["mem_limit"]) + caddy_mb + reserve == model.memory_mb
    assert model.heap_mb < d.to_mb(gw["mem_limit"])
    env_example = d.parse_dotenv((repo / ".env.example").read_text())
    assert set(env_example) == {"OPENCLAW_GATEWAY_PORT", "OPENCLAW_GATEWAY_BIND", *model.secret_names}
    assert all(v == "" for v in env_example.values())
    if model.public:
        assert "ports" not in gw, "the gateway must not be published when Caddy fronts it"
        caddy = compose["services"]["caddy"]
        assert caddy["image"].startswith("caddy:") and ":latest" not in caddy["image"]
        assert sorted(caddy["ports"]) == ["443:443", "443:443/udp", "80:80"]
        assert caddy["depends_on"]["openclaw-gateway"]["condition"] == "service_healthy"
        assert "./caddy/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
        tokens = compose_room.caddyfile_tokens((repo / "caddy/Caddyfile").read_text())
        assert [model.domain, "{"] in tokens
        assert ["reverse_proxy", f"openclaw-gateway:{model.port}"] in tokens
        address = m.platforms()[model.platform]["proxy"]["address"]
        assert caddy["networks"] == {"gateway": {"ipv4_address": address}}
        assert compose["networks"]["gateway"]["ipam"]["config"] == [{"subnet": m.platforms()[model.platform]["proxy"]["subnet"]}]
    else:
        assert "caddy" not in compose["services"] and not (repo / "caddy").exists()
        assert gw["ports"] == [f"127.0.0.1:${{OPENCLAW_GATEWAY_PORT:-{model.port}}}:${{OPENCLAW_GATEWAY_PORT:-{model.port}}}"]
    out = run([BIN / "docker-compose", "--env-file", ".env.example", "config", "-q"], repo)
    assert out.returncode == 0, out.stderr
    out = run([BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", "docker-compose.yml"], repo)
    assert out.returncode == 0, out.stdout + out.stderr


def assert_railway(repo: Path, model: m.DeployModel) -> None:
    railway = json.loads((repo / "railway.json").read_text())
    assert railway["build"] == {"builder": "DOCKERFILE", "dockerfilePath": "Dockerfile"}
    deploy = railway["deploy"]
    argv = shlex.split(deploy["startCommand"])
    # a start command replaces ENTRYPOINT on Railway: ours must stay in front
    assert argv[:4] == ["tini", "-s", "--", "/usr/local/bin/openclaw-deploy-entrypoint"]
    assert argv[4:] == list(model.gateway_command)
    # a public deploy trusts the edge range: its headerless checker gets 200 only on /healthz
    assert deploy["healthcheckPath"] == ("/healthz" if model.public else "/startupz")
    assert deploy["restartPolicyType"] == "ON_FAILURE"
    assert deploy["requiredMountPath"] == "/data"
    assert deploy["multiRegionConfig"] == {model.region: {"numReplicas": 1}}
    env = d.parse_dotenv((repo / "config/railway.env").read_text())
    assert env["PORT"] == env["OPENCLAW_GATEWAY_PORT"] == flags(argv)["port"] == str(model.port)
    assert env["OPENCLAW_STATE_DIR"] == "/data/.openclaw"
    assert env["OPENCLAW_WORKSPACE_DIR"] == "/data/workspace"
    assert not set(env) & set(model.secret_names), "secrets never go in a committed file"


def assert_render(repo: Path, model: m.DeployModel) -> None:
    blueprint = yaml.safe_load((repo / "render.yaml").read_text())
    (service,) = blueprint["services"]
    assert service["type"] == ("web" if model.public else "pserv")
    assert service["runtime"] == "docker" and service["plan"] == model.vm_size
    assert service["disk"] == {"name": "openclaw-data", "mountPath": "/data", "sizeGB": model.volume_size_gb}
    env = {e["key"]: e for e in service["envVars"]}
    assert env[model.token_env] == {"key": model.token_env, "generateValue": True}
    assert env["OPENCLAW_STATE_DIR"]["value"] == "/data/.openclaw"
    assert env["OPENCLAW_WORKSPACE_DIR"]["value"] == "/data/workspace"
    assert env["PORT"]["value"] == env["OPENCLAW_GATEWAY_PORT"]["value"] == str(model.port)
    for name in model.secret_names:
        assert "value" not in env[name], f"{name} must not carry a value in render.yaml"
    if model.public:
        assert service["healthCheckPath"] == "/healthz"


def assert_northflank(repo: Path, model: m.DeployModel) -> None:
    template = json.loads((repo / "northflank.json").read_text())
    nodes = list(northflank._walk_nodes(template["spec"]))
    kinds = [n["kind"] for n in nodes]
    assert kinds.count("CombinedService") == 1 and "Volume" in kinds and "SecretGroup" in kinds
    service = next(n["spec"] for n in nodes if n["kind"] == "CombinedService")
    assert service["buildSettings"]["dockerfile"]["dockerFilePath"] == "/Dockerfile"
    assert service["billing"]["deploymentPlan"] == model.vm_size
    assert service["deployment"]["instances"] == 1
    assert service["ports"] == [{"name": "http", "internalPort": model.port, "protocol": "HTTP", "public": model.public}]
    assert {(c["type"], c["path"], c["port"]) for c in service["healthChecks"]} == {
        ("startupProbe", "/healthz" if model.public else "/startupz", model.port), ("livenessProbe", "/healthz", model.port)}
    assert service["runtimeEnvironment"]["OPENCLAW_STATE_DIR"] == "/data/.openclaw"
    volume = next(n["spec"] for n in nodes if n["kind"] == "Volume")
    assert volume["mounts"][0]["containerMountPath"] == "/data"
    group = next(n["spec"] for n in nodes if n["kind"] == "SecretGroup")
    assert group["name"] == f"{model.app_name}-secrets" and group["secrets"]["variables"] == {}


def k8s_docs(repo: Path, entry: str) -> dict[str, dict]:
    docs = kubernetes.kustomize_resources(repo, repo / entry, d.Declared(platform="kubernetes"))
    return {doc["kind"]: doc for doc in docs}


def assert_kubernetes(repo: Path, model: m.DeployModel) -> None:
    base = k8s_docs(repo, "k8s/base")
    assert set(base) == {"Namespace", "ConfigMap", "PersistentVolumeClaim", "Deployment", "Service", "NetworkPolicy"}
    dep = base["Deployment"]["spec"]
    assert dep["replicas"] == 1 and dep["strategy"] == {"type": "Recreate"}
    pod = dep["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsUser"] == 1000
    (gw,) = pod["containers"]
    assert gw["args"] == list(model.gateway_command)
    assert gw["image"] == model.image
    probe = "/healthz" if model.public else "/startupz"
    assert gw["startupProbe"]["httpGet"]["path"] == gw["readinessProbe"]["httpGet"]["path"] == probe
    assert gw["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert gw["ports"] == [{"name": "http", "containerPort": model.port, "protocol": "TCP"}]
    assert gw["resources"]["limits"]["memory"] == f"{model.memory_mb}Mi"
    assert gw["envFrom"] == [{"secretRef": {"name": f"{model.app_name}-secrets"}}]
    assert base["Service"]["spec"]["type"] == "ClusterIP"
    seeded = json.loads(base["ConfigMap"]["data"]["openclaw.json"])
    assert seeded == json.loads((repo / "config/openclaw.json").read_text())
    overlay = repo / "k8s/overlays/public"
    if model.public:
        ingress = k8s_docs(repo, "k8s/overlays/public")["Ingress"]["spec"]
        assert ingress["tls"] == [{"hosts": [model.domain], "secretName": f"{model.app_name}-tls"}]
        assert ingress["rules"][0]["host"] == model.domain
    else:
        assert not overlay.exists()
    files = sorted(str(p.relative_to(repo)) for p in (repo / "k8s").rglob("*.yaml") if p.name != "kustomization.yaml")
    out = run([BIN / "kubernetes-validate", "--strict", "-k", kubernetes.K8S_VERSION, *files], repo)
    assert out.returncode == 0, out.stdout + out.stderr


CONTRACTS = {"gcp": assert_compose, "vps": assert_compose, "railway": assert_railway,
             "render": assert_render, "northflank": assert_northflank, "kubernetes": assert_kubernetes}
PLATFORM_FILES = {"gcp": {"docker-compose.yml", ".env.example"}, "vps": {"docker-compose.yml", ".env.example"},
                  "railway": {"railway.json"}, "render": {"render.yaml"}, "northflank": {"northflank.json"},
                  "kubernetes": {"k8s"}, "fly": {"fly.toml"}}


def test_every_platform_in_the_data_has_a_contract_here():
    assert sorted(CONTRACTS) == sorted(PLATFORMS) and set(PLATFORM_FILES) == set(m.platforms())


@pytest.mark.parametrize(("platform", "privacy"), MATRIX, ids=[f"{p}-{v}" for p, v in MATRIX])
def test_platform_renders_and_agrees(render, platform, privacy):
    repo = render(app_name="my-claw", platform=platform, privacy=privacy)
    model = load_model(repo)
    assert model.platform == platform and model.privacy == privacy
    facts = m.platforms()[platform]
    assert model.region == facts["default_region"] and model.vm_size == facts["default_size"]
    config = json.loads((repo / "config/openclaw.json").read_text())
    assert config["gateway"]["port"] == model.port == facts["default_port"]
    assert config["gateway"]["bind"] == "lan"
    if model.public:
        assert config["gateway"]["controlUi"]["allowedOrigins"] == [model.public_origin]
        # the gateway refuses forwarded headers (403) from a proxy it does not trust
        proxy = facts.get("proxy") or {}
        assert config["gateway"]["trustedProxies"] == ([proxy["address"]] if proxy else facts["trusted_proxies"])
    else:
        assert "controlUi" not in config["gateway"] and "trustedProxies" not in config["gateway"]

    generated = {p.name for p in repo.iterdir()}
    others = set().union(*(f for p, f in PLATFORM_FILES.items() if p != platform)) - PLATFORM_FILES[platform]
    assert PLATFORM_FILES[platform] <= generated and not generated & others
    assert "_partials" not in generated

    CONTRACTS[platform](repo, model)

    # the repo's own `make verify` (static checks + linters + platform validators)
    results = verify.run_all(repo)
    failed = [r for r in results if r.status == checks.FAIL]
    assert failed == [], verify.render(results)
    declared = d.read(repo, platform)
    assert declared.problems == []
    assert declared.command == list(model.gateway_command)
    assert declared.env["OPENCLAW_STATE_DIR"] == model.state_dir
    assert set(declared.ports.values()) == {model.port}
    assert declared.mounts and declared.state_dirs
    # README and RUNBOOK carry the platform's own text
    readme, runbook = (repo / "README.md").read_text(), (repo / "RUNBOOK.md").read_text()
    assert "## First deploy" in runbook and "## Access" in runbook and "## Update" in runbook
    assert f"`{next(iter(PLATFORM_FILES[platform]))}" in readme


# --------------------------------------------------------------------------
# answers specific to these platforms
# --------------------------------------------------------------------------


def test_domain_is_asked_only_when_it_is_used(render):
    public = render(platform="gcp", privacy="public", domain="claw.example.org")
    answers = yaml.safe_load((public / ".copier-answers.yml").read_text())
    assert answers["domain"] == "claw.example.org"
    assert load_model(public).public_origin == "https://claw.example.org"
    for data in ({"platform": "gcp", "privacy": "private"}, {"platform": "railway"}, {}):
        answers = yaml.safe_load((render(**data) / ".copier-answers.yml").read_text())
        assert "domain" not in answers, data


@pytest.mark.parametrize(("data", "field", "hint"), [
    ({"platform": "render", "vm_size": "free"}, "vm_size", "cannot carry a persistent disk"),
    ({"platform": "render", "vm_size": "starter"}, "vm_size", "at most 512 MB"),
    ({"platform": "gcp", "domain": "https://claw.example.org/"}, "domain", "no scheme"),
    ({"platform": "vps", "domain": "localhost"}, "domain", "at least one dot"),
    ({"platform": "railway", "region": "iad"}, "region", "us-west2"),
    ({"platform": "gcp", "region": "oregon"}, "region", "us-central1-a"),
    ({"platform": "northflank", "vm_size": "e2-small"}, "vm_size", "nf-compute-100-2"),
    ({"platform": "kubernetes", "vm_memory_mb": 512}, "vm_memory_mb", "810 MB"),
])
def test_platform_answers_refused_with_the_allowed_list(template_repo, tmp_path, data, field, hint):
    from tests.conftest import copy_template

    with pytest.raises(ValueError) as info:
        copy_template(template_repo, tmp_path / "out", data)
    assert field in str(info.value) and hint in str(info.value)
    assert not (tmp_path / "out").exists()


def test_region_of_another_platform_is_named():
    message = m.validate_field("region", {"platform": "gcp", "region": "oregon"})
    assert "'oregon' is a render region" in message and "allowed: us-central1-a" in message


@pytest.mark.parametrize("privacy", ["private", "public"])
def test_e2_micro_is_accepted_with_an_oom_warning_and_swap(render, privacy):
    repo = render(platform="gcp", privacy=privacy, vm_size="e2-micro", domain="claw.example.org")
    model = load_model(repo)
    host = m.platforms()["gcp"]["host"]
    caddy_mb = m.platforms()["gcp"]["proxy"]["mem_limit_mb"] if privacy == "public" else 0
    limit = 1024 - host["reserve_mb"] - caddy_mb
    assert (model.memory_mb, model.container_memory_mb, model.heap_mb) == (1024, limit, int(limit * 0.75))
    assert any("may be killed for running out of memory" in w and "swap" in w for w in m.warnings(model))
    compose = yaml.safe_load((repo / "docker-compose.yml").read_text())
    gw = compose["services"]["openclaw-gateway"]
    # 0.1.0 gave the gateway all 1024 MB, Caddy and the OS nothing
    assert gw["mem_limit"] == f"{limit}m" and gw["memswap_limit"] == f"{limit + host['swap_mb']}m"
    assert ("caddy" in compose["services"]) == (privacy == "public")
    result = [r for r in checks.run_static(repo) if r.check == "memory and heap"][0]
    assert result.status == checks.WARN and "swap" in result.fix
    runbook = (repo / "RUNBOOK.md").read_text()
    assert f"sudo fallocate -l {host['swap_file_gb']}G /swapfile" in runbook
    assert "sudo swapon /swapfile" in runbook and f"limited to {limit} MB" in runbook


def test_e2_small_gets_no_swap_step(render):
    repo = render(platform="gcp", privacy="public", vm_size="e2-small", domain="claw.example.org")
    gw = yaml.safe_load((repo / "docker-compose.yml").read_text())["services"]["openclaw-gateway"]
    assert "memswap_limit" not in gw and "/swapfile" not in (repo / "RUNBOOK.md").read_text()
    assert [r for r in checks.run_static(repo) if r.check == "memory and heap"][0].status == checks.PASS


@pytest.mark.parametrize("edit, fix", [
    # 0.1.0's file: the gateway limited to the whole VM with Caddy beside it
    (lambda c: c["services"]["openclaw-gateway"].update(mem_limit="2048m"), "use mem_limit: 1664m"),
    (lambda c: c["services"]["caddy"].pop("mem_limit"), "give caddy a mem_limit"),
    (lambda c: c["services"]["openclaw-gateway"]["environment"].update(NODE_OPTIONS="--max-old-space-size=1700"),
     "must stay below mem_limit"),
])
def test_compose_limits_that_overcommit_the_vm_fail(render, edit, fix):
    repo = render(platform="gcp", privacy="public", vm_size="e2-small", domain="claw.example.org")
    path = repo / "docker-compose.yml"
    compose = yaml.safe_load(path.read_text())
    edit(compose)
    path.write_text(yaml.safe_dump(compose, sort_keys=False))
    result = [r for r in checks.run_static(repo) if r.check == "memory and heap"][0]
    assert result.status == checks.FAIL and fix in result.fix, result


def test_placeholder_domain_warns():
    answers = {"app_name": "my-claw", "platform": "gcp", "privacy": "public", "domain": "my-claw.example.com",
               "region": "us-central1-a", "openclaw_version": "2026.9.6", "gateway_port": 18789,
               "vm_size": "e2-small", "vm_memory_mb": 2048, "volume_size_gb": 20, "model_providers": [],
               "channels": [], "binaries": [], "tunnel": "none"}
    assert any(w.startswith("domain=my-claw.example.com is a placeholder") for w in m.warnings(m.build(answers)))
    assert not any("placeholder" in w for w in m.warnings(m.build({**answers, "domain": "claw.mine.dev"})))


# --------------------------------------------------------------------------
# the static checks catch hand edits, per platform
# --------------------------------------------------------------------------


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


BREAKS = [
    ("gcp", "public", "caddy/Caddyfile", "openclaw-gateway:18789", "openclaw-gateway:3000", "port agreement"),
    ("vps", "private", "docker-compose.yml", '"127.0.0.1:${OPENCLAW_GATEWAY_PORT', '"${OPENCLAW_GATEWAY_PORT',
     "public ingress matches privacy"),
    ("gcp", "private", "docker-compose.yml", '"/healthz"]', '"/"]', "health checks probe JSON endpoints"),
    ("gcp", "public", "docker-compose.yml", "ipv4_address: 172.29.163.10", "ipv4_address: 172.29.163.11",
     "reverse proxy is trusted"),
    ("render", "public", "config/openclaw.json", '"trustedProxies"', '"untrustedProxies"', "reverse proxy is trusted"),
    ("vps", "public", "docker-compose.yml", "openclaw-state:/home/node/.openclaw\n",
     "openclaw-state:/srv/state\n", "state dir on the volume"),
    ("railway", "public", "config/railway.env", "PORT=8080\nOPENCLAW", "PORT=3000\nOPENCLAW", "port agreement"),
    ("railway", "private", "railway.json", "tini -s -- /usr/local/bin/openclaw-deploy-entrypoint ", "",
     "files parse"),
    ("render", "public", "render.yaml", "mountPath: /data", "mountPath: /var/data", "state dir on the volume"),
    ("render", "public", "render.yaml", "healthCheckPath: /healthz", "healthCheckPath: /", "health checks probe JSON endpoints"),
    ("northflank", "public", "northflank.json", '"public": true', '"public": false', "public ingress matches privacy"),
    ("kubernetes", "private", "k8s/base/deployment.yaml", "path: /healthz", "path: /status", "health checks probe JSON endpoints"),
    ("kubernetes", "public", "k8s/base/deployment.yaml", "containerPort: 18789", "containerPort: 8080", "port agreement"),
    ("kubernetes", "private", "k8s/base/deployment.yaml", "type: Recreate", "type: RollingUpdate", "files parse"),
    # trust only the proxy that is there; headerless platform checkers need /healthz
    ("railway", "public", "config/openclaw.json", '"100.64.0.0/10"', '"100.64.0.0/10", "10.0.0.0/8"',
     "reverse proxy is trusted"),
    ("fly", "public", "docker/entrypoint.sh", "export OPENCLAW_FLY_APP_IPV4\n", "", "reverse proxy is trusted"),
    ("railway", "public", "railway.json", '"healthcheckPath": "/healthz"', '"healthcheckPath": "/startupz"',
     "platform checks pass without forwarding headers"),
    ("kubernetes", "public", "k8s/base/deployment.yaml", "path: /healthz", "path: /readyz",
     "platform checks pass without forwarding headers"),
    ("kubernetes", "public", "k8s/base/kustomization.yaml", "  - networkpolicy.yaml\n", "",
     "only the ingress controller reaches the gateway"),
    ("kubernetes", "private", "k8s/base/networkpolicy.yaml", "  ingress: []", "  ingress:\n    - {}",
     "only the ingress controller reaches the gateway"),
]


# Edits that break two things at once: without the NetworkPolicy its egress rules go too.
ALSO_FAILS = {("k8s/base/kustomization.yaml", "  - networkpolicy.yaml\n"): {"gateway egress blocks cloud metadata"}}


@pytest.mark.parametrize(("platform", "privacy", "path", "old", "new", "check"), BREAKS,
                         ids=[f"{b[0]}-{b[5].split()[0]}-{i}" for i, b in enumerate(BREAKS)])
def test_static_checks_catch_hand_edits(render, platform, privacy, path, old, new, check):
    repo = render(platform=platform, privacy=privacy)
    assert not [r for r in checks.run_static(repo) if r.status == checks.FAIL]
    edit(repo / path, old, new)
    failed = {r.check for r in checks.run_static(repo) if r.status == checks.FAIL}
    assert failed == {check} | ALSO_FAILS.get((path, old), set())


def test_verify_runs_the_platform_validators_and_they_can_fail(render):
    repo = render(platform="kubernetes", privacy="public")
    edit(repo / "k8s/base/pvc.yaml", "      storage: ", "      storage: [")
    edit(repo / "k8s/base/pvc.yaml", "Gi\n", "Gi]\n")
    result = kubernetes.check_kubernetes_validate(repo)
    assert result.status == checks.FAIL and "pvc.yaml" in result.seen
    repo = render(platform="vps", privacy="private")
    edit(repo / "docker-compose.yml", "restart: unless-stopped", "restarts: unless-stopped")
    assert compose_room.check_compose_config(repo).status == checks.FAIL
    assert compose_room.check_compose_schema(repo).status == checks.FAIL


def test_caddy_adapts_the_generated_caddyfile(render):
    """Caddy itself parses the Caddyfile (Debian package `caddy`)."""
    assert shutil.which("caddy"), "caddy is not installed: apt-get install caddy"
    repo = render(platform="gcp", privacy="public", domain="claw.example.org")
    assert compose_room.check_caddyfile(repo, load_model(repo)).status == checks.PASS
    edit(repo / "caddy/Caddyfile", "reverse_proxy openclaw-gateway:18789", "reverse_proxy gateway:18789")
    assert compose_room.check_caddyfile(repo, load_model(repo)).status == checks.FAIL


# --------------------------------------------------------------------------
# scripts, run for real
# --------------------------------------------------------------------------


def test_compose_secrets_script_writes_env_0600_and_never_prints_values(render):
    repo = render(platform="vps", privacy="private", model_providers=["anthropic", "openai"])
    key = "sk-ant-" + "k" * 40
    env = {"PATH": os.environ["PATH"], "HOME": str(repo), "ANTHROPIC_API_KEY": key}
    first = run(["scripts/secrets.sh"], repo, env=env, stdin=subprocess.DEVNULL)
    assert first.returncode == 0, first.stderr
    path = repo / ".env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    values = d.parse_dotenv(path.read_text())
    assert values["ANTHROPIC_API_KEY"] == key
    assert len(values["OPENCLAW_GATEWAY_TOKEN"]) == 64
    assert values["OPENCLAW_GATEWAY_PORT"] == "18789" and values["OPENCLAW_GATEWAY_BIND"] == "lan"
    assert "OPENAI_API_KEY" not in values  # no value, no terminal: skipped, said so
    assert "OPENAI_API_KEY: skipped" in first.stderr
    for secret in (key, values["OPENCLAW_GATEWAY_TOKEN"]):
        assert secret not in first.stdout + first.stderr
    # idempotent: the token is kept, a new key is added, nothing duplicated
    second = run(["scripts/secrets.sh"], repo, env={**env, "OPENAI_API_KEY": "sk-proj-" + "o" * 40},
                 stdin=subprocess.DEVNULL)
    assert second.returncode == 0, second.stderr
    again = d.parse_dotenv(path.read_text())
    assert again["OPENCLAW_GATEWAY_TOKEN"] == values["OPENCLAW_GATEWAY_TOKEN"]
    assert again["OPENAI_API_KEY"] == "sk-proj-" + "o" * 40
    lines = [line.split("=")[0] for line in path.read_text().splitlines()]
    assert len(lines) == len(set(lines))
    # compose reads the written .env (single-quoted values are taken literally)
    out = run([BIN / "docker-compose", "config", "--format", "json"], repo)
    assert out.returncode == 0, out.stderr
    service = json.loads(out.stdout)["services"]["openclaw-gateway"]
    assert service["environment"]["ANTHROPIC_API_KEY"] == key
    assert "OPENCLAW_GATEWAY_TOKEN" in service["environment"]


def test_kubernetes_init_container_seeds_only_when_missing(render, tmp_path):
    """Run the init container's own shell command: first boot seeds, later boots keep edits."""
    repo = render(platform="kubernetes", privacy="private")
    dep = k8s_docs(repo, "k8s/base")["Deployment"]["spec"]["template"]["spec"]
    (init,) = dep["initContainers"]
    env = {e["name"]: e["value"] for e in init["env"]}
    state = tmp_path / "state"
    env.update(OPENCLAW_STATE_DIR=str(state), OPENCLAW_WORKSPACE_DIR=str(state / "workspace"),
               OPENCLAW_SEED_CONFIG=str(repo / "config/openclaw.json"), PATH=os.environ["PATH"])
    first = run(init["command"], repo, env=env)
    assert first.returncode == 0 and "seeded" in first.stdout
    live = state / "openclaw.json"
    assert json.loads(live.read_text()) == json.loads((repo / "config/openclaw.json").read_text())
    assert stat.S_IMODE(live.stat().st_mode) == 0o600 and (state / "workspace").is_dir()
    live.write_text('{"gateway": {"mode": "local", "port": 1}}')
    second = run(init["command"], repo, env=env)
    assert second.returncode == 0 and "keeping" in second.stdout
    assert json.loads(live.read_text())["gateway"]["port"] == 1


STANDIN = r'''#!/usr/bin/env python3
import json, os, sys
stdin = "" if sys.stdin.isatty() else sys.stdin.read()
with open(os.environ["STANDIN_LOG"], "a") as fh:
    fh.write(json.dumps({"argv": [os.path.basename(sys.argv[0])] + sys.argv[1:], "stdin": stdin}) + "\n")
if sys.argv[1:2] == ["variables"] and "--json" in sys.argv:
    print("{}")
'''


def test_railway_secrets_script_keeps_values_out_of_argv(render, tmp_path):
    """A stand-in `railway` records argv and stdin: secret values only ever arrive on stdin."""
    repo = render(platform="railway", privacy="public")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "railway").write_text(STANDIN)
    (bindir / "railway").chmod(0o755)
    log = tmp_path / "calls.jsonl"
    key = "sk-ant-" + "r" * 40
    env = {"PATH": f"{bindir}:{os.environ['PATH']}", "HOME": str(tmp_path), "STANDIN_LOG": str(log),
           "ANTHROPIC_API_KEY": key}
    out = run(["scripts/secrets.sh", "--create"], repo, env=env, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    argvs = [" ".join(c["argv"]) for c in calls]
    assert any("volume add --mount-path /data" in a for a in argvs)
    assert any("domain --port 8080" in a for a in argvs)
    plain = next(c for c in calls if "--set" in c["argv"])
    assert "PORT=8080" in plain["argv"] and "OPENCLAW_STATE_DIR=/data/.openclaw" in plain["argv"]
    stdin_sets = {c["argv"][c["argv"].index("--set-from-stdin") + 1]: c["stdin"]
                  for c in calls if "--set-from-stdin" in c["argv"]}
    assert stdin_sets["ANTHROPIC_API_KEY"] == key
    assert len(stdin_sets["OPENCLAW_GATEWAY_TOKEN"]) == 64
    for value in stdin_sets.values():
        assert not any(value in a for a in argvs), "a secret value reached argv"
        assert value not in out.stdout + out.stderr


@pytest.mark.parametrize("platform", PLATFORMS)
def test_answers_flow_into_every_platform_file(render, platform):
    """A non-default port and memory reach every place that declares them."""
    facts = m.platforms()[platform]
    size = max(facts["sizes"], key=lambda s: facts["sizes"][s]["memory_mb"][1])
    memory = facts["sizes"][size]["memory_mb"][1]
    repo = render(platform=platform, privacy="public", gateway_port=9123, vm_size=size, vm_memory_mb=memory,
                  domain="claw.example.org")
    declared = d.read(repo, platform)
    assert declared.problems == []
    assert set(declared.ports.values()) == {9123}, declared.ports
    assert declared.command[declared.command.index("--port") + 1] == "9123"
    limit = m.container_memory(platform, memory, True)[0]
    assert set(declared.heap_mb.values()) == {m.heap_mb(limit)}
    if facts.get("declares_memory", True):
        assert set(declared.memory_mb.values()) == {limit}
    assert not [r for r in checks.run_static(repo) if r.status == checks.FAIL]


# --------------------------------------------------------------------------
# the readers' parsing helpers
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "variables", "expected"), [
    ("${P:-18789}", {}, "18789"),
    ("${P:-18789}", {"P": ""}, "18789"),
    ("${P-18789}", {"P": ""}, ""),
    ("${P:-18789}", {"P": "9000"}, "9000"),
    ("127.0.0.1:${P:-1}:${P:-1}", {"P": "2"}, "127.0.0.1:2:2"),
    ("$$HOME and $P", {"P": "x"}, "$HOME and x"),
])
def test_compose_interpolation(value, variables, expected):
    assert d.interpolate(value, variables) == expected


def test_dotenv_and_sizes():
    env = d.parse_dotenv("# c\nA=1\nB='x y'\nexport C=\"q\"\n\nbad line\nD=\n")
    assert env == {"A": "1", "B": "x y", "C": "q", "D": ""}
    assert [d.to_mb(v) for v in ("2048m", "2g", "2Gi", "2048Mi", "1.5G", 2 * 1024 ** 3, "lots")] == [
        2048, 2048, 2048, 2048, 1536, 2048, None]


def test_caddyfile_tokens_skip_comments_and_keep_quotes():
    text = '# head\nclaw.example.org {\n\treverse_proxy "gw:1" # tail\n}\n'
    assert compose_room.caddyfile_tokens(text) == [["claw.example.org", "{"], ["reverse_proxy", "gw:1"], ["}"]]
