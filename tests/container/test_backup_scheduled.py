"""The scheduled backup workflow's step, run as GitHub Actions would run it, against the real
gateway in the generated Fly image on a real engine.

The step's `run:` script is taken from the generated .github/workflows/backup.yml and run in
the generated repo with its `env:` filled in (a stand-in token: nothing checks it), the
variables the runner sets (GITHUB_ACTIONS, RUNNER_TEMP) and `fly` replaced on PATH by the
DRIVING stand-in (tests/standins/drive: `fly ssh console -C` -> `docker exec` on that
container; it records its argv and contacts no platform). `make venv` runs for real. The
workflow's bucket step then runs too, with BACKUP_S3_URL set, against a real S3 server on loopback
(moto's server mode: tests/support/s3_server.py). Then what a user does with the copy in the
bucket: download it, `make decrypt` with the test identity, `make restore`.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.container.conftest import c, logs
from tests.support import s3_server
from tests.container.test_backup import as_node, make, platform_run, recorded, seed_state, state_survived  # noqa: F401

EXPR = re.compile(r"\$\{\{\s*secrets\.(\w+)\s*\}\}")
SETTING = re.compile(r"\$\{\{\s*(vars|secrets)\.(\w+)\s*\}\}")


@pytest.mark.runbook_step("make venv", "make decrypt")
def test_workflow_step_encrypts_before_anything_leaves_and_the_artifact_restores(platform_run, tmp_path):
    from pyrage import x25519

    key = x25519.Identity.generate()
    ident = tmp_path / "claw-backup.key"
    ident.write_text(f"{key}\n")
    ident.chmod(0o600)
    repo, name, _, _, env = platform_run("fly", answers={"backup_recipient": str(key.to_public())})
    seed_state(name, "/data", "/data/workspace")

    (job,) = yaml.safe_load((repo / ".github/workflows/backup.yml").read_text())["jobs"].values()
    (step,) = [s for s in job["steps"] if "ops.backup scheduled" in s.get("run", "")]
    runner = tmp_path / "runner"
    runner.mkdir()
    token = "FlyV1 fm2_standin-" + "t" * 24
    step_env = {**env, "GITHUB_ACTIONS": "true", "CI": "true", "RUNNER_TEMP": str(runner),
                **{k: EXPR.sub(lambda mt: token, v) for k, v in step["env"].items()}}
    assert step_env["FLY_API_TOKEN"] == token  # the ssh token reaches flyctl under the name it reads
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=repo,
                          env=step_env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr + logs(name)[-2000:]
    assert token not in proc.stdout + proc.stderr
    sealed = Path(proc.stdout.strip().splitlines()[-1])
    assert sealed.parent == runner / "encrypted" and sealed.name.endswith(".tar.gz.age")
    # only the encrypted file is left: nothing in the workspace, the job's temp or the container
    assert [p for p in runner.rglob("*") if p.is_file()] == [sealed]
    assert sealed.read_bytes().startswith(b"age-encryption.org/v1\n")
    assert not (repo / "backups").exists() and not list(repo.rglob("*.tar.gz"))
    assert not as_node(name, "ls -A /tmp/openclaw-backup", "/data").strip()
    calls = recorded(tmp_path)
    assert calls and all(call[:2] == ["fly", "ssh"] and "claw-ct" in call for call in calls)
    assert token not in str(calls)

    # the bucket step (BACKUP_S3_URL set): the same .age, and only it, into a real S3 server
    (bucket_step,) = [s for s in job["steps"] if "ops.bucket upload" in s.get("run", "")]
    with s3_server.running() as srv:
        values = {"vars": {"BACKUP_S3_URL": f"s3://{srv.bucket}/claw-ct", "BACKUP_S3_ENDPOINT": srv.endpoint},
                  "secrets": {"BACKUP_S3_ACCESS_KEY_ID": srv.key_id, "BACKUP_S3_SECRET_ACCESS_KEY": srv.secret}}
        bucket_env = {**env, "GITHUB_ACTIONS": "true", "CI": "true", "RUNNER_TEMP": str(runner), "UV_OFFLINE": "1",
                      **{k: SETTING.sub(lambda mt: values[mt.group(1)].get(mt.group(2), ""), v)
                         for k, v in bucket_step["env"].items()}}
        up = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", bucket_step["run"]], cwd=repo,
                            env=bucket_env, capture_output=True, text=True, timeout=600)
        assert up.returncode == 0, up.stdout + up.stderr
        assert srv.secret not in up.stdout + up.stderr
        assert srv.keys() == [f"claw-ct/{sealed.name}"]
        from_bucket = tmp_path / "from-bucket" / sealed.name
        from_bucket.parent.mkdir()
        srv.client().download_file(srv.bucket, f"claw-ct/{sealed.name}", str(from_bucket))
    assert from_bucket.read_bytes() == sealed.read_bytes()

    # the user's side: the bucket's copy, decrypted with the identity kept offline, restores
    as_node(name, "echo changed > /data/workspace/marker.txt", "/data")
    dec = make(repo, env, "decrypt", f"ARCHIVE={from_bucket}", f"IDENTITY={ident}")
    assert dec.returncode == 0, dec.stderr
    archive = repo / dec.stdout.strip().splitlines()[-1]
    assert archive.name == sealed.name[:-4] and Path(f"{archive}.json").is_file()
    proc = make(repo, env, "restore", f"ARCHIVE={archive.relative_to(repo)}", "ARGS=--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr + logs(name)[-3000:]
    state_survived(name, "/data", "/data/workspace")
