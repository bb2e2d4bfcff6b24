"""The optional S3-compatible bucket of scheduled backups (issue 17, item 3): the generated
backup workflow's bucket step, run as GitHub Actions would run it (its `run:` script with its
`env:` filled from repository variables and secrets), against a REAL S3-speaking server on
loopback (moto's server mode with authentication on: tests/support/s3_server.py). boto3 comes
from the generated requirements-s3.txt, installed by the step itself with uv from its cache
(UV_OFFLINE: nothing is downloaded here). The platform CLI on PATH is the RECORDING stand-in:
the restore at the end goes past every archive check and stops at the (stopped) platform."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.support import s3_server
from tests.test_backup_scheduled import APP, calls, identity, one_line, plain_archive, run

WORKFLOW = ".github/workflows/backup.yml"
EXPR = re.compile(r"\$\{\{\s*(vars|secrets)\.(\w+)\s*\}\}")
PREFIX = "nightly/claw"
IF = "${{ !cancelled() && steps.backup.outcome == 'success' && vars.BACKUP_S3_URL != '' }}"


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    base = tmp_path_factory.mktemp("keys")
    mine = base / "mine.key"
    return {"mine": mine, "recipient": identity(mine)}


@pytest.fixture(scope="module")
def repo(template_repo, tmp_path_factory, keys) -> Path:
    from tests.conftest import copy_template

    return copy_template(template_repo, tmp_path_factory.mktemp("bucket") / "deploy",
                         {"platform": "fly", "app_name": APP, "privacy": "private",
                          "backup_recipient": keys["recipient"]})


@pytest.fixture(scope="module")
def server():
    with s3_server.running() as srv:
        yield srv


def job(repo: Path) -> dict:
    (only,) = yaml.safe_load((repo / WORKFLOW).read_text())["jobs"].values()
    return only


def bucket_step(repo: Path) -> dict:
    (step,) = [s for s in job(repo)["steps"] if "ops.bucket upload" in s.get("run", "")]
    return step


def sealed_backup(runner: Path, recipient: str) -> Path:
    """What the backup step leaves: $RUNNER_TEMP/encrypted/<app>-<UTC>.tar.gz.age, a real bundle."""
    from pyrage import x25519

    from ops import backup

    archive = plain_archive(runner / "plain")
    sealed = backup.encrypt(archive, x25519.Recipient.from_str(recipient), runner / "encrypted")
    for path in (runner / "plain").iterdir():
        path.unlink()
    (runner / "plain").rmdir()
    return sealed


def run_step(repo: Path, runner: Path, variables: dict, secrets: dict) -> subprocess.CompletedProcess:
    """The bucket step's script, as the runner runs it: bash -eo pipefail, its env: with the
    repository's variables and secrets (an unset one is the empty string, as in GitHub)."""
    step = bucket_step(repo)
    values = {"vars": variables, "secrets": secrets}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BACKUP_S3_"))}
    env.update({"GITHUB_ACTIONS": "true", "CI": "true", "RUNNER_TEMP": str(runner), "UV_OFFLINE": "1",
                **{k: EXPR.sub(lambda mt: values[mt.group(1)].get(mt.group(2), ""), v)
                   for k, v in step["env"].items()}})
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=repo,
                          env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def tools_installed(repo, tmp_path_factory, server):
    """The step's first run installs requirements-s3.txt into .venv (quietly, after that)."""
    runner = tmp_path_factory.mktemp("first-runner")
    sealed_backup(runner, identity(runner / "k"))
    proc = run_step(repo, runner, {"BACKUP_S3_URL": f"s3://{server.bucket}/warm-up",
                                   "BACKUP_S3_ENDPOINT": server.endpoint},
                    {"BACKUP_S3_ACCESS_KEY_ID": server.key_id, "BACKUP_S3_SECRET_ACCESS_KEY": server.secret})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "installing requirements-s3.txt" in proc.stderr  # the step installs boto3 itself
    pins = {ln.split("==")[0] for ln in (repo / "requirements-s3.txt").read_text().splitlines()
            if "==" in ln and not ln.startswith(("#", " "))}
    assert {"boto3", "botocore", "s3transfer", "jmespath"} <= pins
    for key in server.keys():
        server.client().delete_object(Bucket=server.bucket, Key=key)
    return True


def good(server, **over) -> tuple[dict, dict]:
    variables = {"BACKUP_S3_URL": f"s3://{server.bucket}/{PREFIX}/", "BACKUP_S3_ENDPOINT": server.endpoint,
                 "BACKUP_S3_REGION": "us-east-1"}
    secrets = {"BACKUP_S3_ACCESS_KEY_ID": server.key_id, "BACKUP_S3_SECRET_ACCESS_KEY": server.secret}
    for name, value in over.items():
        (secrets if name in secrets else variables)[name] = value
    return variables, secrets


def test_the_step_comes_after_the_artifact_and_only_with_a_bucket(repo):
    """Unset BACKUP_S3_URL: the step is skipped (the artifact alone, as before); set, it runs
    after the artifact's step whatever became of it, never after a failed backup."""
    steps = job(repo)["steps"]
    names = [s.get("id") or s.get("uses", "").split("@")[0] or s.get("name") for s in steps]
    backup_at, artifact_at = names.index("backup"), names.index("actions/upload-artifact")
    step = bucket_step(repo)
    assert backup_at < artifact_at < steps.index(step) == len(steps) - 1
    assert "if" not in steps[artifact_at]  # the artifact: as before, on the backup's success
    assert step["if"] == IF
    assert set(step["env"]) == {"BACKUP_S3_URL", "BACKUP_S3_ENDPOINT", "BACKUP_S3_REGION",
                                "BACKUP_S3_ACCESS_KEY_ID", "BACKUP_S3_SECRET_ACCESS_KEY"}
    assert step["env"]["BACKUP_S3_SECRET_ACCESS_KEY"] == "${{ secrets.BACKUP_S3_SECRET_ACCESS_KEY }}"
    assert step["env"]["BACKUP_S3_URL"] == "${{ vars.BACKUP_S3_URL }}"
    assert "requirements-s3.txt" in step["run"] and "requirements-s3.txt" not in (repo / "Makefile").read_text()
    runbook = (repo / "RUNBOOK.md").read_text()
    section = runbook.split("#### The bucket", 1)[1].split("\n### ", 1)[0]
    for name in step["env"]:
        assert f"| `{name}` |" in section, name
    assert "lifecycle rule" in section and "put-bucket-lifecycle-configuration" in section
    assert f"aws s3 cp s3://claw-backups/{APP}/{APP}-<UTC>.tar.gz.age backups/" in section
    assert "make decrypt" in section and "make restore" in section


def test_no_bucket_text_or_file_without_the_workflow(render):
    repo = render(app_name=APP)  # no backup_recipient: no backup workflow
    assert not (repo / "requirements-s3.txt").exists() and "BACKUP_S3_URL" not in (repo / "RUNBOOK.md").read_text()


def test_bucket_gets_only_the_encrypted_file_and_it_decrypts_and_restores(repo, server, tools_installed,
                                                                          keys, tmp_path):
    runner = tmp_path / "runner"
    sealed = sealed_backup(runner, keys["recipient"])
    (runner / "encrypted" / "stray.tar.gz").write_bytes(b"never sent: only .age files leave")
    variables, secrets = good(server)
    proc = run_step(repo, runner, variables, secrets)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    key = f"{PREFIX}/{sealed.name}"
    assert proc.stdout.strip().splitlines()[-1].startswith(f"bucket: s3://{server.bucket}/{key} (")
    assert server.secret not in proc.stdout + proc.stderr
    assert server.keys() == [key]  # the .age alone, under the prefix
    assert sealed.is_file()  # the artifact's file is still there for its step

    # the user's side (RUNBOOK, Day two): download, make decrypt, make restore
    download = tmp_path / "download" / sealed.name
    download.parent.mkdir()
    server.client().download_file(server.bucket, key, str(download))
    assert download.read_bytes() == sealed.read_bytes()
    assert download.read_bytes().startswith(b"age-encryption.org/v1\n")
    dec = run(repo, tmp_path, "decrypt", f"ARCHIVE={download}", f"IDENTITY={keys['mine']}")
    assert dec.returncode == 0, dec.stderr
    archive = repo / dec.stdout.strip().splitlines()[-1]
    assert archive.name == sealed.name[:-4] and tarfile.is_tarfile(archive)
    restore = run(repo, tmp_path, "restore", f"ARCHIVE={archive.relative_to(repo)}", "ARGS=--yes")
    one_line(restore, "restore: cannot reach the gateway")  # past every archive check
    assert calls(tmp_path)[0][:3] == ["fly", "ssh", "console"]
    for path in (repo / "backups").iterdir():
        path.unlink()
    server.client().delete_object(Bucket=server.bucket, Key=key)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when this returns: nothing listens there


@pytest.mark.parametrize("case, words", [
    ("wrong-secret", ["BACKUP_S3_SECRET_ACCESS_KEY (secret)", "SignatureDoesNotMatch"]),
    ("wrong-key-id", ["BACKUP_S3_ACCESS_KEY_ID (secret)", "InvalidAccessKeyId"]),
    ("unreachable", ["BACKUP_S3_ENDPOINT (variable)", "cannot connect to http://127.0.0.1:"]),
    ("no-bucket", ["BACKUP_S3_URL (variable)", "no bucket 'claw-nowhere'"]),
    ("empty-secret", ["BACKUP_S3_SECRET_ACCESS_KEY (secret): empty"]),
    ("plain-http", ["BACKUP_S3_ENDPOINT (variable)", "plain http"]),
    ("not-s3-url", ["BACKUP_S3_URL (variable)", "s3://bucket/prefix"]),
    ("bad-region", ["BACKUP_S3_REGION (variable)", "region"]),
])
def test_a_failed_upload_fails_in_one_line_naming_the_setting_and_keeps_the_artifact(
        repo, server, tools_installed, keys, tmp_path, case, words):
    runner = tmp_path / "runner"
    sealed = sealed_backup(runner, keys["recipient"])
    before = sealed.read_bytes()
    over = {"wrong-secret": {"BACKUP_S3_SECRET_ACCESS_KEY": "x" + server.secret[1:]},
            "wrong-key-id": {"BACKUP_S3_ACCESS_KEY_ID": "AKIA" + "Z" * 16},
            "unreachable": {"BACKUP_S3_ENDPOINT": f"http://127.0.0.1:{closed_port()}"},
            "no-bucket": {"BACKUP_S3_URL": "s3://claw-nowhere/x"},
            "empty-secret": {"BACKUP_S3_SECRET_ACCESS_KEY": ""},
            "plain-http": {"BACKUP_S3_ENDPOINT": "http://s3.example.org"},
            "not-s3-url": {"BACKUP_S3_URL": "https://claw-backups.s3.amazonaws.com/x"},
            "bad-region": {"BACKUP_S3_REGION": "US East"}}[case]
    variables, secrets = good(server, **over)
    proc = run_step(repo, runner, variables, secrets)
    assert proc.returncode != 0, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and all(w in lines[0] for w in words), proc.stderr
    for value in (server.secret, secrets["BACKUP_S3_SECRET_ACCESS_KEY"]):
        assert not value or value not in proc.stdout + proc.stderr
    assert server.keys() == []  # nothing half-written
    assert sealed.read_bytes() == before  # the artifact step still has the day's backup


def test_unset_url_sends_nothing(repo, server, tools_installed, keys, tmp_path):
    """The step is skipped then (its `if:`); run anyway, it says so and sends nothing."""
    runner = tmp_path / "runner"
    sealed_backup(runner, keys["recipient"])
    variables, secrets = good(server, BACKUP_S3_URL="")
    proc = run_step(repo, runner, variables, secrets)
    assert proc.returncode == 0, proc.stderr
    assert "BACKUP_S3_URL is not set" in proc.stdout and server.keys() == []


@pytest.mark.parametrize("url, bucket, prefix", [
    ("s3://claw-backups", "claw-backups", ""),
    ("s3://claw-backups/", "claw-backups", ""),
    ("s3://claw.backups/a/b/", "claw.backups", "a/b"),
])
def test_url_forms(url, bucket, prefix):
    from ops import bucket as b

    target = b.target_from({"BACKUP_S3_URL": url})
    assert (target.bucket, target.prefix, target.endpoint, target.region) == (bucket, prefix, "", "us-east-1")
    assert target.key("x.age") == (f"{prefix}/x.age" if prefix else "x.age")
    assert b.target_from({"BACKUP_S3_URL": "  "}) is None


@pytest.mark.parametrize("env, words", [
    ({"BACKUP_S3_URL": "s3://AKIAKEY:SECRETVALUE@claw-backups/x"}, ["BACKUP_S3_URL (variable)", "user or password"]),
    ({"BACKUP_S3_URL": "s3://x/y"}, ["BACKUP_S3_URL (variable)", "3-63"]),
    ({"BACKUP_S3_URL": "s3://claw-backups/a//b"}, ["BACKUP_S3_URL (variable)", "empty"]),
    ({"BACKUP_S3_URL": "s3://claw-backups/a/../b"}, ["BACKUP_S3_URL (variable)", "'..'"]),
    ({"BACKUP_S3_URL": "s3://claw-backups", "BACKUP_S3_ENDPOINT": "https://AKIAKEY:SECRETVALUE@r2.example.org"},
     ["BACKUP_S3_ENDPOINT (variable)", "user or password"]),
    ({"BACKUP_S3_URL": "s3://claw-backups", "BACKUP_S3_ENDPOINT": "ftp://r2.example.org"},
     ["BACKUP_S3_ENDPOINT (variable)", "https://"]),
])
def test_bad_settings_are_refused_without_repeating_a_secret(env, words):
    from ops import bucket as b

    with pytest.raises(b.BucketError) as err:
        b.target_from(env)
    line = str(err.value)
    assert "\n" not in line and all(w in line for w in words) and "SECRETVALUE" not in line


def test_each_put_carries_the_files_md5(server, keys, tmp_path):
    """The request that leaves carries the file's Content-MD5 (seen at the HTTP layer), which
    S3 and its look-alikes check against the bytes they store (BadDigest otherwise). moto does
    not check it, so the store's side is its documentation's word, not this test's."""
    import base64
    import hashlib

    from ops import bucket as b

    runner = tmp_path / "runner"
    sealed = sealed_backup(runner, keys["recipient"])
    sent = []

    def recording_client(target, key_id, secret):
        real = b.client(target, key_id, secret)
        real.meta.events.register("before-send.s3.PutObject",
                                  lambda request, **_: sent.append(request.headers.get("Content-MD5")))
        return real

    variables, secrets = good(server)
    (url,) = b.upload(runner / "encrypted", {**variables, **secrets}, say=lambda _: None, make_client=recording_client)
    assert [v.decode() if isinstance(v, bytes) else v for v in sent] == \
        [base64.b64encode(hashlib.md5(sealed.read_bytes()).digest()).decode()]
    assert url == f"s3://{server.bucket}/{PREFIX}/{sealed.name}"
    server.client().delete_object(Bucket=server.bucket, Key=f"{PREFIX}/{sealed.name}")
    assert server.keys() == []


def test_the_runbooks_bucket_commands_as_boto3_calls(repo, server, tools_installed, keys, tmp_path):
    """The RUNBOOK's bucket lines, as written, made as the same S3 calls with boto3 (the aws CLI
    is not installed here; tests/test_runbook_day_two.py names this test for them): its
    lifecycle rule is accepted and read back for the deploy's prefix, its `aws s3 ls` prefix
    lists what the step uploaded, and its `aws s3 cp` path names that object."""
    import json

    section = (repo / "RUNBOOK.md").read_text().split("#### The bucket", 1)[1].split("\n### ", 1)[0]
    command = re.search(r"aws s3api put-bucket-lifecycle-configuration --bucket (\S+) "
                        r"--lifecycle-configuration \\\n\s*'(\{.*\})'", section)
    assert command, section
    bucket, rule = command.group(1), json.loads(command.group(2))
    listed = re.search(r"aws s3 ls s3://([^/\s]+)/(\S+)", section)
    copied = re.search(r"aws s3 cp s3://([^/\s]+)/(\S+)<UTC>\.tar\.gz\.age backups/", section)
    assert bucket == server.bucket == listed.group(1) == copied.group(1)
    prefix = listed.group(2)
    assert rule["Rules"][0]["Filter"]["Prefix"] == prefix

    client = server.client()
    client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=rule)
    back = client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [(r["Status"], r["Filter"]["Prefix"], r["Expiration"]["Days"]) for r in back] == \
        [("Enabled", prefix, rule["Rules"][0]["Expiration"]["Days"])]

    runner = tmp_path / "runner"
    sealed = sealed_backup(runner, keys["recipient"])
    variables, secrets = good(server, BACKUP_S3_URL=f"s3://{bucket}/{prefix}")  # the RUNBOOK's example
    proc = run_step(repo, runner, variables, secrets)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    listing = client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    assert [obj["Key"] for obj in listing] == [prefix + sealed.name]
    assert re.fullmatch(re.escape(copied.group(2)) + r"\d{8}T\d{6}Z\.tar\.gz\.age", listing[0]["Key"])
    client.delete_object(Bucket=bucket, Key=listing[0]["Key"])
    client.delete_bucket_lifecycle(Bucket=bucket)
