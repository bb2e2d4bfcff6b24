"""The generated deploy workflow, run for real against RECORDING STAND-INS.

Each platform's deploy job is taken from the generated
.github/workflows/deploy.yml: its `run:` scripts are executed in the generated
repo with the environment the workflow gives them (`${{ secrets.X }}`,
`${{ vars.X }}`, `${{ steps.ID.outputs.X }}` filled in as Actions would), the
variables the Actions runner sets (GITHUB_SHA, GITHUB_REPOSITORY, RUNNER_TEMP,
GITHUB_OUTPUT, ...), stand-in CLIs first on PATH (tests/standins/ci: they
record argv and stdin and contact nothing) and platform APIs pointed at a
loopback HTTPS stand-in through the variables the product reads with real
defaults (RENDER_API_URL, NORTHFLANK_API_URL; DEPLOY_TIMEOUT, POLL_INTERVAL).
Steps that only install a pinned tool (`install ...`, `uses:`) are skipped:
the stand-in is on PATH instead. Nothing is deployed anywhere.

For platforms whose public URL is fixed by the answers (Fly, Compose, Kubernetes)
the step's OPENCLAW_PUBLIC_URL is first asserted to be that https:// origin,
then pointed at the stand-in (no DNS here).
"""

from __future__ import annotations

import json
import shutil
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, copy_template
from tests.support.api_standin import ApiStandin
from tests.standins import protocol

STANDINS = ROOT / "tests" / "standins" / "ci"
# the real kubectl (Debian kubernetes-client): its built-in kustomize renders what CI applies
REAL_KUBECTL = shutil.which("kubectl") or ""
WORKFLOW = ".github/workflows/deploy.yml"
APP = "claw-ci"
SHA = "0123456789abcdef0123456789abcdef01234567"
REPO = "Owner/Claw-Repo"
IMAGE = f"ghcr.io/owner/claw-repo:{SHA}"
SECRETS = {
    "FLY_API_TOKEN": "FlyV1 fm2_" + "f" * 40,
    "RAILWAY_TOKEN": "rw-project-" + "r" * 32,
    "RENDER_API_KEY": "rnd_" + "k" * 32,
    "NORTHFLANK_API_TOKEN": "nf-" + "n" * 40,
    "DEPLOY_SSH_KEY": "-----BEGIN OPENSSH PRIVATE KEY-----\nSSHKEY" + "s" * 40 + "\n-----END OPENSSH PRIVATE KEY-----",
    "DEPLOY_SSH_KNOWN_HOSTS": "203.0.113.7 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHOSTKEY" + "h" * 20,
    "DEPLOY_SSH_TARGET": "deploy@203.0.113.7",
    "KUBECONFIG_DATA": "apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: KUBETOKEN" + "t" * 30,
    "GITHUB_TOKEN": "ghs_" + "g" * 36,
    "REGISTRY_PULL_TOKEN": "ghp_" + "p" * 36,
    "RENDER_SSH_KEY": "-----BEGIN OPENSSH PRIVATE KEY-----\nRENDERKEY" + "q" * 40 + "\n-----END OPENSSH PRIVATE KEY-----",
    "RENDER_SSH_KNOWN_HOSTS": "ssh.oregon.render.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIRENDERHOST" + "j" * 20,
}
STARTED = {"ok": True, "status": "started"}
EXPR = re.compile(r"\$\{\{\s*([\w.\-]+)\s*\}\}")


# a failed upgrade's way back, in the order the remote commands must show it
WAY_BACK = ("openclaw backup create", "restore.mjs enter", "restore.mjs stage", "restore.mjs activate",
            "restore.mjs leave")


def assert_way_back_in_order(lines: list[str]) -> None:
    order = [next(i for i, line in enumerate(lines) if needle in line) for needle in WAY_BACK]
    assert order == sorted(order), lines


@pytest.fixture(scope="module")
def generated(template_repo, tmp_path_factory):
    cache: dict[tuple[str, str], Path] = {}
    base = tmp_path_factory.mktemp("ci-generated")

    def _get(platform: str, privacy: str) -> Path:
        if (platform, privacy) not in cache:
            data = {"platform": platform, "privacy": privacy, "app_name": APP}
            if platform in ("gcp", "vps", "kubernetes"):
                data["domain"] = "claw.example.org"
            cache[platform, privacy] = copy_template(template_repo, base / f"{platform}-{privacy}", data)
        return cache[platform, privacy]

    return _get


@pytest.fixture
def api(tmp_path):
    standin = ApiStandin(tmp_path / "tls")
    yield standin
    standin.close()


def deploy_steps(repo: Path) -> list[dict[str, Any]]:
    return yaml.safe_load((repo / WORKFLOW).read_text())["jobs"]["deploy"]["steps"]


class Job:
    """Runs a generated deploy job's `run:` steps the way the Actions runner does."""

    def __init__(self, repo: Path, tmp: Path, api: ApiStandin | None = None, plan: list | None = None,
                 variables: dict[str, str] | None = None, public_url: str | None = None):
        self.repo, self.tmp = repo, tmp
        self.log, self.plan = tmp / "standin.jsonl", tmp / "plan.json"
        self.log.write_text("")
        self.plan.write_text(json.dumps(plan or []))
        (tmp / "runner").mkdir(exist_ok=True)
        self.variables = variables or {}
        self.public_url = public_url
        self.env = {
            "PATH": f"{STANDINS}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp),
            "GITHUB_SHA": SHA, "GITHUB_REPOSITORY": REPO, "GITHUB_ACTOR": "ci-bot",
            "GITHUB_REF": "refs/heads/main", "RUNNER_TEMP": str(tmp / "runner"), "CI": "true",
            "STANDIN_LOG": str(self.log), "STANDIN_PLAN": str(self.plan),
            "DEPLOY_TIMEOUT": "3", "POLL_INTERVAL": "0.05",
        }
        if REAL_KUBECTL:
            self.env.update(STANDIN_REAL_KUBECTL=REAL_KUBECTL, STANDIN_PYTHON=sys.executable)
        # every platform API on loopback: the stand-in, or a closed port (nothing leaves this machine)
        base = api.base if api is not None else "https://127.0.0.1:9"
        self.env.update(RENDER_API_URL=base + "/v1", NORTHFLANK_API_URL=base + "/v1",
                        RAILWAY_API_URL=base + "/graphql/v2")
        if api is not None:
            self.env.update(api.ca_env())
        self.outputs: dict[str, dict[str, str]] = {}
        self.ran: list[tuple[dict, subprocess.CompletedProcess]] = []

    def expand(self, value: Any) -> str:
        def one(match: re.Match) -> str:
            parts = match.group(1).split(".")
            if parts[0] == "secrets":  # a secret not set expands to "" (as Actions does)
                return SECRETS.get(parts[1], "")
            if parts[0] == "vars":
                return self.variables.get(parts[1], "")
            if parts[0] == "steps" and parts[2] == "outputs":
                return self.outputs.get(parts[1], {}).get(parts[3], "")
            if parts == ["github", "sha"]:
                return SHA
            if parts == ["runner", "temp"]:
                return self.env["RUNNER_TEMP"]
            raise AssertionError(f"unexpected expression {match.group(0)}")
        return EXPR.sub(one, str(value))

    def run(self) -> int:
        for step in deploy_steps(self.repo):
            if "uses" in step or step.get("name", "").startswith("install "):
                continue
            env = {**self.env, **{k: self.expand(v) for k, v in (step.get("env") or {}).items()}}
            if "OPENCLAW_PUBLIC_URL" in env and self.public_url is not None and "vars." not in str(step.get("env")):
                assert env["OPENCLAW_PUBLIC_URL"].startswith("https://"), env["OPENCLAW_PUBLIC_URL"]
                env["OPENCLAW_PUBLIC_URL"] = self.public_url
            out = self.tmp / "github_output"
            out.write_text("")
            env["GITHUB_OUTPUT"] = str(out)
            proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                                  cwd=self.repo, env=env, capture_output=True, text=True, timeout=120)
            self.ran.append((step, proc))
            if "id" in step:
                self.outputs[step["id"]] = dict(line.split("=", 1) for line in out.read_text().splitlines()
                                                if "=" in line)
            if proc.returncode:
                return proc.returncode
        return 0

    @property
    def calls(self) -> list[dict]:
        return protocol.records(self.log)

    @property
    def output(self) -> str:
        return "\n".join(p.stdout + p.stderr for _, p in self.ran)


def assert_no_secret_leaked(job: Job, api: ApiStandin | None = None, login: tuple[str, ...] = ()) -> None:
    """No secret in any argv, output or URL; ``login``: the one CLI call that may carry its token
    on the argv because the CLI takes it no other way (`northflank login -t`, as the scheduled
    backup does: the runner does not log argv)."""
    argv = json.dumps([c["argv"] for c in job.calls if not login or tuple(c["argv"][:len(login)]) != login])
    for name, value in SECRETS.items():
        if name in ("DEPLOY_SSH_TARGET",):
            continue
        assert value not in argv, f"{name} in argv"
        assert value not in job.output, f"{name} printed"
        if api is not None:
            assert not any(value in r["path"] for r in api.requests), f"{name} in a URL"


def assert_bearer_only(api: ApiStandin, secret: str) -> None:
    assert api.requests
    for req in api.requests:
        if req["path"].startswith("/v1/"):
            assert req["headers"].get("authorization") == f"Bearer {secret}", req
        else:  # the gateway's /startupz gets no platform credential
            assert "authorization" not in req["headers"], req


# ------------------------------------------------------------------ render --


def render_routes(api: ApiStandin, deploy_states: list[str], startup: list) -> None:
    service = {"id": "srv-1", "name": APP, "type": "web_service", "serviceDetails": {"url": api.base}}
    api.route("GET", r"/v1/services\?name=claw-ci&limit=20", (200, [{"cursor": "c1", "service": service}]))
    api.route("POST", "/v1/services/srv-1/deploys", (201, {"id": "dep-1", "status": "created"}))
    api.route("GET", "/v1/services/srv-1/deploys/dep-1", *[(200, {"id": "dep-1", "status": s}) for s in deploy_states])
    api.route("GET", "/startupz", *startup)


@pytest.mark.parametrize("privacy", ["public", "private"])
def test_render_deploys_this_commit_and_waits_until_live(generated, api, tmp_path, privacy):
    repo = generated("render", privacy)
    render_routes(api, ["build_in_progress", "update_in_progress", "live"], [(503, "starting"), (200, STARTED)])
    job = Job(repo, tmp_path, api)
    assert job.run() == 0, job.output
    calls = api.calls()
    # the safe upgrade looks first (the service, what runs: nothing answers exec here), then the deploy
    assert calls[0] == ("GET", "/v1/services?name=claw-ci&limit=20")
    (post,) = [r for r in api.requests if r["method"] == "POST"]
    assert post["path"] == "/v1/services/srv-1/deploys" and post["body"] == {"commitId": SHA}
    assert calls.count(("GET", "/v1/services/srv-1/deploys/dep-1")) == 3
    assert (("GET", "/startupz") in calls) == (privacy == "public")
    assert_bearer_only(api, SECRETS["RENDER_API_KEY"])
    assert_no_secret_leaked(job, api)


def test_render_failed_deploy_fails_the_job(generated, api, tmp_path):
    render_routes(api, ["build_in_progress", "build_failed"], [(200, STARTED)])
    job = Job(generated("render", "public"), tmp_path, api)
    assert job.run() != 0
    assert "build_failed" in job.output and ("GET", "/startupz") not in api.calls()
    # the build failed: Render made no deploy, so nothing is rolled back (NotDeployed, not the error's text)
    assert "upgrade: nothing was deployed (Render deploy dep-1: build_failed)" in job.output
    assert not any(r["path"].endswith("/rollback") for r in api.requests)


def test_render_live_but_gateway_not_started_fails_the_job(generated, api, tmp_path):
    # unknown paths answer 200 with the Control UI's HTML: only the started JSON counts
    render_routes(api, ["live"], [(200, "<!doctype html><title>OpenClaw</title>")])
    job = Job(generated("render", "public"), tmp_path, api)
    assert job.run() != 0
    assert "/startupz: not done after" in job.output


# -------------------------------------------------------------- northflank --


def northflank_routes(api: ApiStandin, builds: list[str], deployments: list[str], startup: list) -> None:
    svc = "/v1/projects/claw-ci/services/claw-ci"
    host = api.base.removeprefix("https://")
    api.route("POST", svc + "/build", (200, {"data": {"id": "build-7", "status": "PENDING"}}))
    api.route("GET", svc + "/build/build-7", *[(200, {"data": {"id": "build-7", "status": s}}) for s in builds])
    # the first answer still runs the previous commit (COMPLETED): not this deploy yet
    previous = {"data": {"id": APP, "status": {"deployment": {"status": "COMPLETED"}},
                         "deployment": {"internal": {"deployedSHA": "f" * 40}}}}
    api.route("GET", svc, (200, previous),
              *[(200, {"data": {"id": APP, "status": {"deployment": {"status": s}},
                                "deployment": {"internal": {"deployedSHA": SHA}},
                                "ports": [{"name": "http", "public": True, "dns": host}]}})
                for s in deployments])
    api.route("GET", "/startupz", *startup)


@pytest.mark.parametrize("privacy", ["public", "private"])
def test_northflank_builds_this_commit_and_waits_until_running(generated, api, tmp_path, privacy):
    northflank_routes(api, ["BUILDING", "SUCCESS"], ["IN_PROGRESS", "COMPLETED"], [(200, STARTED)])
    job = Job(generated("northflank", privacy), tmp_path, api)
    assert job.run() == 0, job.output
    svc = "/v1/projects/claw-ci/services/claw-ci"
    calls = api.calls()
    # the safe upgrade's look at what runs (the previous commit), then the build and the deployment
    assert calls[0] == ("GET", svc)
    assert calls[1] == ("POST", svc + "/build") and api.requests[1]["body"] == {"sha": SHA}
    assert calls[2:4] == [("GET", svc + "/build/build-7")] * 2 and calls[4:6] == [("GET", svc)] * 2
    assert (("GET", "/startupz") in calls) == (privacy == "public")
    assert_bearer_only(api, SECRETS["NORTHFLANK_API_TOKEN"])
    assert_no_secret_leaked(job, api, login=("northflank", "login"))


@pytest.mark.parametrize("failure", ["FAILURE", "SUBMISSION_FAILURE", "ABORTED", "CRASHED"])
def test_northflank_failed_build_fails_the_job(generated, api, tmp_path, failure):
    # the terminal build statuses of Northflank's API types (@northflank/js-client 0.9.5): each
    # fails the job at once (before: SUBMISSION_FAILURE was polled until the timeout)
    northflank_routes(api, ["BUILDING", failure], ["COMPLETED"], [(200, STARTED)])
    job = Job(generated("northflank", "private"), tmp_path, api)
    assert job.run() != 0
    assert f"build build-7: {failure}" in job.output and "not done after" not in job.output
    assert api.calls().count(("GET", "/v1/projects/claw-ci/services/claw-ci/build/build-7")) == 2
    # only the safe upgrade's look before the build; nothing new ran, so nothing is set back
    assert api.calls().count(("GET", "/v1/projects/claw-ci/services/claw-ci")) == 1
    assert ("POST", "/v1/projects/claw-ci/services/claw-ci/deployment") not in api.calls()
    assert f"upgrade: nothing was deployed (Northflank build build-7: {failure})" in job.output
    assert f"Northflank still runs {'f' * 40}" in job.output


def test_northflank_failed_deployment_fails_the_job(generated, api, tmp_path):
    northflank_routes(api, ["SUCCESS"], ["IN_PROGRESS", "FAILED"], [(200, STARTED)])
    job = Job(generated("northflank", "private"), tmp_path, api)
    assert job.run() != 0
    assert "claw-ci: FAILED" in job.output and "not done after" not in job.output


# ----------------------------------------------------------------- railway --


def railway_status(dep_id: str, status: str) -> str:
    # a project with a second environment listed first, holding a service of the same name
    # (what `railway status --json` prints for every environment when none is named)
    def env(name: str, dep: dict) -> dict:
        return {"node": {"name": name, "serviceInstances": {"edges": [
            {"node": {"serviceName": APP, "latestDeployment": dep}}]}}}
    return json.dumps({"environments": {"edges": [env("staging", {"id": "d-staging", "status": "SUCCESS"}),
                                                  env("production", {"id": dep_id, "status": status})]}})


def railway_plan(final: str) -> list[dict]:
    # what runs (the safe upgrade's look), the deploy's "before", then the new deployment
    return [{"prog": "railway", "has": ["status --json"], "stdout": railway_status("d-old", "SUCCESS"), "times": 1},
            {"prog": "railway", "has": ["status --json"], "stdout": railway_status("d-old", "SUCCESS"), "times": 1},
            {"prog": "railway", "has": ["status --json"], "stdout": railway_status("d-old", "SUCCESS"), "times": 1},
            {"prog": "railway", "has": ["status --json"], "stdout": railway_status("d-new", "DEPLOYING"), "times": 1},
            {"prog": "railway", "has": ["status --json"], "stdout": railway_status("d-new", final)}]


@pytest.mark.parametrize("privacy", ["public", "private"])
def test_railway_up_then_waits_for_the_new_deployment(generated, api, tmp_path, privacy):
    api.route("GET", "/startupz", (200, STARTED))
    job = Job(generated("railway", privacy), tmp_path, api, plan=railway_plan("SUCCESS"),
              variables={"OPENCLAW_PUBLIC_URL": api.base})
    assert job.run() == 0, job.output
    argvs = [c["argv"] for c in job.calls]
    assert ["railway", "up", "--ci", "--service", APP, "--environment", "production"] in argvs
    # what runs, before, previous, deploying, success: each scoped to the token's environment
    assert argvs.count(["railway", "status", "--json", "--environment", "production"]) == 5
    assert "previous deployment: d-old" in job.output
    assert (("GET", "/startupz") in api.calls()) == (privacy == "public")
    assert_no_secret_leaked(job, api)


def test_railway_crashed_deployment_fails_the_job(generated, tmp_path):
    job = Job(generated("railway", "private"), tmp_path, plan=railway_plan("CRASHED"))
    assert job.run() != 0
    assert "CRASHED" in job.output


def test_railway_deployment_is_read_in_the_deploy_environment_only(generated, tmp_path):
    # staging's deployment (SUCCESS, listed first) must not pass for production's crash
    job = Job(generated("railway", "private"), tmp_path, plan=railway_plan("CRASHED"))
    assert job.run() != 0
    assert "d-staging" not in job.output and "CRASHED" in job.output


def test_railway_public_without_the_url_variable_fails_clearly(generated, tmp_path):
    job = Job(generated("railway", "public"), tmp_path, plan=railway_plan("SUCCESS"))
    assert job.run() != 0
    assert "OPENCLAW_PUBLIC_URL is empty" in job.output


# --------------------------------------------------------------------- fly --


def test_fly_public_deploys_then_waits_for_startupz(generated, api, tmp_path):
    api.route("GET", "/startupz", (502, "bad gateway"), (200, STARTED))
    job = Job(generated("fly", "public"), tmp_path, api, public_url=api.base)
    assert job.run() == 0, job.output
    # through the safe path (ops/safe_upgrade.py): nothing answers `fly ssh` here (a first deploy), so
    # the machines' image is read and `fly deploy` runs plain, without a backup
    calls = [c["argv"] for c in job.calls]
    assert calls[0][:5] == ["fly", "ssh", "console", "-a", APP] and "package.json" in calls[0][-1]
    assert calls[1:] == [["fly", "machine", "list", "-a", APP, "--json"], ["fly", "deploy", "-a", APP, "--remote-only"]]
    assert "a plain deploy, without a pre-update backup" in job.output
    assert api.calls() == [("GET", "/startupz")] * 2
    assert_no_secret_leaked(job, api)


def test_fly_public_unhealthy_release_fails_the_job(generated, api, tmp_path):
    api.route("GET", "/startupz", (200, {"ok": False, "status": "starting"}))
    job = Job(generated("fly", "public"), tmp_path, api, public_url=api.base)
    assert job.run() != 0


@pytest.mark.parametrize("state,ok", [("passing", True), ("critical", False)])
def test_fly_private_waits_for_fly_health_checks(generated, tmp_path, state, ok):
    checks = json.dumps({"d8d9e1": [{"name": "servicecheck-00-http-3000", "status": state}]})
    job = Job(generated("fly", "private"), tmp_path,
              plan=[{"prog": "flyctl", "has": ["checks", "list"], "stdout": checks}])
    assert (job.run() == 0) == ok, job.output
    assert ["flyctl", "checks", "list", "-a", APP, "--json"] in [c["argv"] for c in job.calls]


# ----------------------------------------------------------------- compose --


@pytest.mark.parametrize("platform", ["vps", "gcp"])
def test_compose_pushes_the_image_and_pulls_it_on_the_vm_over_pinned_ssh(generated, api, tmp_path, platform):
    repo = generated(platform, "public")
    api.route("GET", "/startupz", (200, STARTED))
    plan = [{"prog": "ssh", "has": ["{{.Health}}"], "stdout": "starting\n", "times": 1},
            {"prog": "ssh", "has": ["{{.Health}}"], "stdout": "healthy\n"}]
    job = Job(repo, tmp_path, api, plan=plan, public_url=api.base)
    assert job.run() == 0, job.output
    calls = job.calls
    docker = [c for c in calls if c["argv"][0] == "docker"]
    assert [c["argv"][1] for c in docker] == ["login", "build", "push"]
    assert docker[0]["argv"][2:] == ["ghcr.io", "--username", "ci-bot", "--password-stdin"]
    assert docker[0]["stdin"].strip() == SECRETS["GITHUB_TOKEN"]
    assert docker[2]["argv"] == ["docker", "push", IMAGE]
    ssh = [c for c in calls if c["argv"][0] == "ssh"]
    for call in ssh:
        argv = call["argv"]
        assert "StrictHostKeyChecking=yes" in argv and "StrictHostKeyChecking=no" not in argv
        assert argv[-2] == SECRETS["DEPLOY_SSH_TARGET"]
        # only the pinned host key from the secret is trusted; the key file is private
        known = next(a.split("=", 1)[1] for a in argv if a.startswith("UserKnownHostsFile="))
        key = argv[argv.index("-i") + 1]
        assert call["files"][known] == {"text": SECRETS["DEPLOY_SSH_KNOWN_HOSTS"] + "\n", "mode": "0o600"}
        assert call["files"][key] == {"text": SECRETS["DEPLOY_SSH_KEY"] + "\n", "mode": "0o600"}
        assert "GlobalKnownHostsFile=/dev/null" in argv
    assert not list((tmp_path / "runner").glob("ssh.*"))  # removed after the job
    remote = [c["argv"][-1] for c in ssh]
    assert remote[0] == "mkdir -p claw-ci/caddy"
    by_cmd = {c["argv"][-1]: c["stdin"] for c in ssh}
    assert by_cmd["cat > claw-ci/docker-compose.yml"] == (repo / "docker-compose.yml").read_text()
    assert by_cmd["cat > claw-ci/caddy/Caddyfile"] == (repo / "caddy" / "Caddyfile").read_text()
    assert yaml.safe_load(by_cmd["cat > claw-ci/docker-compose.override.yml"]) == {
        "services": {"openclaw-gateway": {"image": IMAGE}}}
    # the real Compose merges what CI wrote on the VM: the gateway runs the pushed image
    vm = tmp_path / "vm" / APP
    (vm / "caddy").mkdir(parents=True)
    for name in ("docker-compose.yml", "docker-compose.override.yml", "caddy/Caddyfile"):
        (vm / name).write_text(by_cmd[f"cat > claw-ci/{name}"])
    merged = subprocess.run([str(Path(sys.executable).parent / "docker-compose"), "config", "--format", "json"],
                            cwd=vm, capture_output=True, text=True, timeout=60)
    assert merged.returncode == 0, merged.stderr
    assert json.loads(merged.stdout)["services"]["openclaw-gateway"]["image"] == IMAGE
    pull = next(cmd for cmd in remote if "docker compose pull" in cmd)
    # a read-only pull credential, only on stdin; the job's token (it can push) never leaves the runner
    assert by_cmd[pull].strip() == SECRETS["REGISTRY_PULL_TOKEN"]
    assert not any(SECRETS["GITHUB_TOKEN"] in (c["stdin"] + " ".join(c["argv"])) for c in ssh)
    assert "--password-stdin" in pull and "DOCKER_CONFIG=$cfg docker login" in pull
    assert "docker compose up -d" not in pull  # the safe path starts it (ops/platforms/compose.py)
    assert f"cd {APP} && docker compose up -d --no-build --remove-orphans" in remote
    assert "a plain deploy, without a pre-update backup" in job.output  # nothing answered exec: a first deploy
    assert not any("git " in cmd or "docker build" in cmd or "compose build" in cmd for cmd in remote)
    assert api.calls() == [("GET", "/startupz")]
    assert_no_secret_leaked(job, api)


@pytest.mark.parametrize("failure", ["hang-up", "pull-fails", "none"])
def test_compose_pull_credential_never_stays_on_the_vm(generated, api, tmp_path, failure):
    """The remote pull command, run by a real `sh` as the VM's login shell would,
    with a stand-in `docker` that stores the login like the real one (in
    $DOCKER_CONFIG/config.json, else ~/.docker/config.json). Before: the token was
    logged in to ~/.docker/config.json and only a `docker logout` at the end
    removed it, so a cut SSH session (hang-up) left it there."""
    repo = generated("vps", "public")
    api.route("GET", "/startupz", (200, STARTED))
    plan = [{"prog": "ssh", "has": ["{{.Health}}"], "stdout": "healthy\n"}]
    job = Job(repo, tmp_path, api, plan=plan, public_url=api.base)
    assert job.run() == 0, job.output
    ssh = [c for c in job.calls if c["argv"][0] == "ssh"]
    pull = next(c for c in ssh if "docker compose pull" in c["argv"][-1])
    vm = tmp_path / "vm"
    (vm / "home" / APP).mkdir(parents=True)
    (vm / "tmp").mkdir()
    (vm / "bin").mkdir()
    (vm / "bin" / "docker").write_text(
        "#!/bin/sh\n# RECORDING STAND-IN for docker on the VM: login stores the credential as docker does\n"
        'if [ "$1" = login ]; then d="${DOCKER_CONFIG:-$HOME/.docker}"; mkdir -p "$d"; '
        'printf \'{"auths":{"ghcr.io":{"auth":"%s"}}}\' "$(cat)" > "$d/config.json"; exit 0; fi\n'
        'if [ "$1" = logout ]; then rm -f "${DOCKER_CONFIG:-$HOME/.docker}/config.json"; exit 0; fi\n'
        f'if [ "$1 $2" = "compose pull" ]; then case "{failure}" in hang-up) kill -HUP $PPID; exit 1;; '
        "pull-fails) exit 1;; esac; fi\nexit 0\n")
    (vm / "bin" / "docker").chmod(0o755)
    env = {"HOME": str(vm / "home"), "TMPDIR": str(vm / "tmp"), "PATH": f"{vm / 'bin'}:/usr/bin:/bin"}
    subprocess.run(["sh", "-c", pull["argv"][-1]], input=pull["stdin"], cwd=vm / "home", env=env, text=True,
                   capture_output=True, timeout=30)
    token = pull["stdin"].strip()  # the credential the VM got
    left = [p for p in vm.rglob("*") if p.is_file() and token in p.read_text()]
    assert left == [], f"the pull credential stayed on the VM in {left}"
    assert list((vm / "tmp").iterdir()) == []


def test_compose_unhealthy_container_fails_the_job(generated, tmp_path):
    plan = [{"prog": "ssh", "has": ["{{.Health}}"], "stdout": "unhealthy\n"}]
    job = Job(generated("vps", "private"), tmp_path, plan=plan)
    assert job.run() != 0
    assert "openclaw-gateway is unhealthy" in job.output


# -------------------------------------------------------------- kubernetes --


@pytest.mark.parametrize("privacy", ["public", "private"])
def test_kubernetes_sets_the_image_applies_and_waits_for_the_rollout(generated, api, tmp_path, privacy):
    repo = generated("kubernetes", privacy)
    api.route("GET", "/startupz", (200, STARTED))
    kdir = "k8s/overlays/public" if privacy == "public" else "k8s/base"
    before = (repo / kdir / "kustomization.yaml").read_text()
    try:
        job = Job(repo, tmp_path, api, public_url=api.base)
        assert job.run() == 0, job.output
        kustomization = yaml.safe_load((repo / kdir / "kustomization.yaml").read_text())
    finally:
        (repo / kdir / "kustomization.yaml").write_text(before)
    # the official image the Deployment names is replaced by this commit's build
    assert kustomization["images"] == [{"name": "ghcr.io/openclaw/openclaw", "newName": "ghcr.io/owner/claw-repo",
                                        "newTag": SHA}]
    kubectl = [c["argv"][:5] for c in job.calls if c["argv"][0] == "kubectl"]
    # nothing answers `kubectl exec` here (a first deploy): no backup, a plain apply + rollout
    assert kubectl == [["kubectl", "kustomize", kdir], ["kubectl", "exec", "-i", "-n", APP],
                       ["kubectl", "get", "deployment", APP, "-n"], ["kubectl", "apply", "-k", kdir],
                       ["kubectl", "rollout", "status", f"deployment/{APP}", "-n"],
                       ["kubectl", "get", "deployment", APP, "-n"]]
    assert "a plain deploy, without a pre-update backup" in job.output
    assert f"deployment/{APP} runs {IMAGE}" in job.output
    assert (("GET", "/startupz") in api.calls()) == (privacy == "public")
    assert_no_secret_leaked(job, api)


needs_kubectl = pytest.mark.skipif(not REAL_KUBECTL, reason="needs kubectl (its built-in kustomize)")
OLD_IMAGE = "ghcr.io/owner/claw-repo:" + "9" * 40


def test_kubernetes_failed_rollout_without_a_reachable_gateway_puts_the_image_back(generated, tmp_path):
    """Nothing answered exec before the deploy (no backup possible): the previous image goes back."""
    repo = generated("kubernetes", "private")
    before = (repo / "k8s/base/kustomization.yaml").read_text()
    plan = [{"prog": "kubectl", "has": ["get", "deployment"], "stdout": OLD_IMAGE, "times": 1},
            {"prog": "kubectl", "has": ["rollout", "status"], "exit": 1, "times": 1,
             "stderr": "error: timed out waiting for the condition\n"}]
    try:
        job = Job(repo, tmp_path, plan=plan)
        assert job.run() != 0
    finally:
        (repo / "k8s/base/kustomization.yaml").write_text(before)
    kubectl = [c["argv"][1:3] for c in job.calls if c["argv"][0] == "kubectl"]
    assert kubectl == [["kustomize", "k8s/base"], ["exec", "-i"], ["get", "deployment"], ["apply", "-k"],
                       ["rollout", "status"], ["set", "image"], ["rollout", "status"]]
    set_image = next(c["argv"] for c in job.calls if c["argv"][1:3] == ["set", "image"])
    assert f"gateway={OLD_IMAGE}" in set_image and f"seed-config={OLD_IMAGE}" in set_image
    assert "rolling back" in job.output and "not upgraded" in job.output


# The gateway as `kubectl exec` would answer it: 2026.8.2 running, the archive it backs up is
# these bytes. Each rule answers one remote command of ops/safe_upgrade.py and ops/backup.py.
ARCHIVE_BYTES = "openclaw-archive-standin"


def gateway_plan(releases: list[str], deploy_fails: bool) -> list[dict]:
    import hashlib

    digest = hashlib.sha256(ARCHIVE_BYTES.encode()).hexdigest()
    plan: list[dict] = [{"prog": "kubectl", "has": ["exec", "package.json"], "stdout": f"{r}\n", "times": 1}
                        for r in releases]
    plan += [
        {"prog": "kubectl", "has": ["get", "deployment"], "stdout": OLD_IMAGE, "times": 1},
        {"prog": "kubectl", "has": ["exec", "then echo maintenance"], "stdout": "live\n"},
        {"prog": "kubectl", "has": ["exec", "stat -c %s"], "stdout": f"{len(ARCHIVE_BYTES)}\n{digest}  /x\n"},
        {"prog": "kubectl", "has": ["exec", "cat /tmp/openclaw-backup/"], "stdout": ARCHIVE_BYTES},
        {"prog": "kubectl", "has": ["exec", "restore.mjs enter"], "stdout": '{"step":"enter"}\n'},
        {"prog": "kubectl", "has": ["exec", "restore.mjs stage"], "stdout": '{"step":"stage","warnings":[]}\n'},
        {"prog": "kubectl", "has": ["exec", "restore.mjs activate"],
         "stdout": '{"step":"activate","kept":["/data/.openclaw.before-restore-x"]}\n'},
        {"prog": "kubectl", "has": ["exec", "restore.mjs leave"], "stdout": '{"step":"leave"}\n'},
    ]
    if deploy_fails:
        plan.insert(0, {"prog": "kubectl", "has": ["rollout", "status", "--timeout=600s"], "exit": 1, "times": 1,
                        "stderr": "error: timed out waiting for the condition\n"})
    return plan


def remote_commands(job: Job) -> list[str]:
    return [c["argv"][-1] for c in job.calls if c["argv"][:2] == ["kubectl", "exec"]]


@needs_kubectl
def test_kubernetes_upgrade_takes_a_backup_first_and_keeps_it_for_the_job(generated, tmp_path):
    repo = generated("kubernetes", "private")
    before = (repo / "k8s/base/kustomization.yaml").read_text()
    plan = gateway_plan(["2026.8.2 started", "2026.9.6 started"], deploy_fails=False)
    try:
        job = Job(repo, tmp_path, plan=plan)
        assert job.run() == 0, job.output
    finally:
        (repo / "k8s/base/kustomization.yaml").write_text(before)
    verbs = [c["argv"][1] for c in job.calls if c["argv"][0] == "kubectl"]
    # the backup (exec) comes before the apply; no rollback
    assert verbs.index("apply") > max(i for i, v in enumerate(verbs[:verbs.index("apply")]) if v == "exec")
    assert "set" not in verbs
    commands = remote_commands(job)
    assert any("openclaw backup create" in cmd and "--verify" in cmd for cmd in commands)
    assert any(".openclaw-upgrade" in cmd and cmd.startswith("umask 077 && printf") for cmd in commands)
    assert any(cmd.startswith("rm -f") and ".openclaw-upgrade" in cmd for cmd in commands)
    out = job.output
    assert "runs openclaw 2026.8.2" in out and "pre-update backup kept at" in out and "started" in out
    # the archive lived in the job's private temp dir, removed when the step ended
    assert not list((tmp_path / "runner").glob("kube.*"))
    assert_no_secret_leaked(job)


@needs_kubectl
def test_kubernetes_failed_upgrade_rolls_back_and_restores_the_backup(generated, tmp_path):
    """The rollout of 2026.9.6 fails: the new pod is held, the old image goes back (seen held in
    maintenance: the watch flag), the pre-update archive is uploaded and restored by the old
    release, it starts; the job fails and says so."""
    repo = generated("kubernetes", "private")
    before = (repo / "k8s/base/kustomization.yaml").read_text()
    plan = gateway_plan(["2026.8.2 started", "2026.9.6 starting", "2026.8.2 held", "2026.8.2 started"],
                        deploy_fails=True)
    try:
        job = Job(repo, tmp_path, plan=plan)
        assert job.run() != 0
    finally:
        (repo / "k8s/base/kustomization.yaml").write_text(before)
    kubectl = [c for c in job.calls if c["argv"][0] == "kubectl"]
    verbs = [c["argv"][1] for c in kubectl]
    apply, set_image = verbs.index("apply"), verbs.index("set")
    assert apply < set_image and "rollout" in verbs[apply:set_image]
    assert f"gateway={OLD_IMAGE}" in kubectl[set_image]["argv"]
    commands = remote_commands(job)
    assert_way_back_in_order(commands)
    # the upload: the archive's bytes on stdin of `cat >` into the volume
    upload = next(c for c in kubectl if "archive.tar.gz" in c["argv"][-1] and "cat >" in c["argv"][-1])
    assert upload["stdin"] == ARCHIVE_BYTES
    out = job.output
    assert "rolling back to openclaw 2026.8.2" in out
    assert "rolled back: openclaw 2026.8.2 started on the pre-update state" in out
    assert "was not upgraded" in out
    assert_no_secret_leaked(job)



def _applied_gateway_image(job: Job) -> str:
    """The gateway image in what `kubectl apply -k` sent (real kustomize output)."""
    docs = yaml.safe_load_all(Path(str(job.log) + ".applied.yaml").read_text())
    dep = next(d for d in docs if d and d.get("kind") == "Deployment")
    return next(c["image"] for c in dep["spec"]["template"]["spec"]["containers"] if c["name"] == "gateway")


@needs_kubectl
@pytest.mark.parametrize("answers", [{"binaries": ["wacli"], "privacy": "public"},
                                     {"tunnel": "ngrok", "privacy": "private"}])
def test_kubernetes_with_an_image_built_here_deploys_that_image(template_repo, tmp_path, api, answers):
    """The security review's reproduction: the image built here is pushed under the
    repository's name, but the override named `<app>-gateway` while the Deployment
    names `<image_registry>:<version>`, so kustomize matched nothing and the
    mutable tag shipped while the job printed success."""
    data = {"platform": "kubernetes", "app_name": APP, "domain": "claw.example.org",
            "image_registry": "ghcr.io/acme/claw-gateway", **answers}
    repo = copy_template(template_repo, tmp_path / "repo", data)
    api.route("GET", "/startupz", (200, STARTED))
    (tmp_path / "job").mkdir()
    job = Job(repo, tmp_path / "job", api, public_url=api.base)
    assert job.run() == 0, job.output
    assert _applied_gateway_image(job) == IMAGE
    assert f"deployment/{APP} runs {IMAGE}" in job.output


@needs_kubectl
def test_kubernetes_refuses_an_override_that_matches_nothing(generated, tmp_path):
    repo = generated("kubernetes", "private")
    dep, kus = repo / "k8s/base/deployment.yaml", repo / "k8s/base/kustomization.yaml"
    before = dep.read_text(), kus.read_text()
    try:
        dep.write_text(before[0].replace("ghcr.io/openclaw/openclaw:", "ghcr.io/someone-else/openclaw:"))
        job = Job(repo, tmp_path)
        assert job.run() != 0
    finally:
        dep.write_text(before[0])
        kus.write_text(before[1])
    assert "matched no image" in job.output
    assert not [c for c in job.calls if c["argv"][:2] == ["kubectl", "apply"]]


@needs_kubectl
def test_kubernetes_fails_when_the_cluster_runs_another_image(generated, tmp_path):
    repo = generated("kubernetes", "private")
    kus = repo / "k8s/base/kustomization.yaml"
    before = kus.read_text()
    plan = [{"prog": "kubectl", "has": ["get", "deployment"], "stdout": "ghcr.io/openclaw/openclaw:2026.9.6"}]
    try:
        job = Job(repo, tmp_path, plan=plan)
        assert job.run() != 0
    finally:
        kus.write_text(before)
    assert f"runs ghcr.io/openclaw/openclaw:2026.9.6, not the image built here ({IMAGE})" in job.output


# ------------------------------------------------------------- health wait --


@pytest.mark.parametrize("answers,ok", [
    ([(200, STARTED)], True),
    ([(503, {"ok": False, "status": "starting"}), (200, STARTED)], True),   # becomes healthy in time
    ([(200, "<!doctype html><title>OpenClaw Control</title>")], False),      # Control UI HTML, not the JSON
    ([(200, {"ok": True, "status": "starting"})], False),                  # answering, not started
    ([(502, "bad gateway")], False),
])
def test_wait_healthy_script(generated, api, tmp_path, answers, ok):
    repo = generated("fly", "public")
    api.route("GET", "/startupz", *answers)
    env = {"PATH": os.environ["PATH"], "DEPLOY_TIMEOUT": "1", "POLL_INTERVAL": "0.05", **api.ca_env()}
    proc = subprocess.run(["python3", "-m", "ops.wait_healthy", api.base + "/startupz"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=60)
    assert (proc.returncode == 0) == ok, proc.stdout + proc.stderr
    assert ("::error::" in proc.stderr) == (not ok)


def test_wait_healthy_refuses_plain_http(generated):
    proc = subprocess.run(["python3", "-m", "ops.wait_healthy", "http://127.0.0.1:9/startupz"],
                          cwd=generated("fly", "public"), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "over HTTPS only" in proc.stderr
