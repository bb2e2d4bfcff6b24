"""Scheduled, encrypted backups (issue 17, item 3): the age bundle, `make decrypt`, and the
scheduled job's refusals, through the generated repo. The platform CLI on PATH is the
RECORDING stand-in (tests/standins): it contacts nothing; with no canned output it fails
like a CLI that cannot reach a running machine. The whole workflow step against a real
gateway in a container, on every platform runner: scheduled_step in
tests/container/test_backup.py."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.standins import protocol

STANDINS = Path(__file__).resolve().parent / "standins"
APP = "claw-bk"


def identity(path: Path) -> str:
    """A test identity file; returns its public key (the recipient)."""
    from pyrage import x25519

    key = x25519.Identity.generate()
    path.write_text(f"# test identity\n{key}\n")
    path.chmod(0o600)
    return str(key.to_public())


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    base = tmp_path_factory.mktemp("keys")
    mine, other = base / "mine.key", base / "other.key"
    return {"mine": mine, "recipient": identity(mine), "other": other, "other_recipient": identity(other)}


@pytest.fixture(scope="module")
def fly_repo(template_repo, tmp_path_factory, keys) -> Path:
    from tests.conftest import copy_template

    return copy_template(template_repo, tmp_path_factory.mktemp("sched") / "deploy",
                         {"platform": "fly", "app_name": APP, "privacy": "private",
                          "backup_recipient": keys["recipient"]})


def run(repo: Path, tmp: Path, *args: str, module: bool = False, env: dict | None = None):
    env = {**os.environ, "STANDIN_LOG": str(tmp / "calls.log"), "STANDIN_DIR": str(tmp / "canned"),
           "PATH": os.pathsep.join([str(STANDINS), os.environ["PATH"]]), **(env or {})}
    argv = [sys.executable, "-m", "ops.backup", *args] if module else \
        ["make", "-s", "-o", "venv", f"PY={sys.executable}", *args]
    return subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True, timeout=120)


def calls(tmp: Path) -> list[list[str]]:
    return protocol.argvs(tmp / "calls.log")


def flip_last(recipient: str) -> str:
    """The key with its last character changed, so its checksum no longer matches."""
    return recipient[:-1] + ("q" if recipient[-1] != "q" else "p")


def one_line(proc: subprocess.CompletedProcess, *words: str, make: bool = True) -> str:
    assert proc.returncode != 0, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == (2 if make else 1), proc.stderr  # ours (then make's own)
    assert all(w in lines[0] for w in words), lines[0]
    return lines[0]


def plain_archive(folder: Path, name: str = f"{APP}-20261202T031700Z.tar.gz", app: str = APP) -> Path:
    """A real gzip'd tar with a manifest beside it, as make backup leaves them."""
    folder.mkdir(parents=True, exist_ok=True)
    payload = folder / "payload.txt"
    payload.write_bytes(os.urandom(4096))
    archive = folder / name
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(payload, arcname="payload/marker.txt")
    payload.unlink()
    data = archive.read_bytes()
    Path(f"{archive}.json").write_text(json.dumps({"app": app, "platform": "fly", "created": "20261202T031700Z",
                                                   "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}))
    return archive


def sealed(tmp: Path, recipient: str, **kw) -> Path:
    from pyrage import x25519

    from ops import backup

    archive = plain_archive(tmp / "plain", **kw)
    out = backup.encrypt(archive, x25519.Recipient.from_str(recipient), tmp / "artifact")
    return out


@pytest.mark.runbook_step("make decrypt")
def test_decrypt_then_restore_check_accepts_it(fly_repo, tmp_path, keys):
    """The .age artifact -> make decrypt -> the archive + manifest make restore takes: its
    checks pass and only the (stopped) platform is left to refuse."""
    age_file = sealed(tmp_path, keys["recipient"])
    original = (tmp_path / "plain" / age_file.name[:-4]).read_bytes()
    assert original not in age_file.read_bytes() and age_file.read_bytes().startswith(b"age-encryption.org/v1\n")
    proc = run(fly_repo, tmp_path, "decrypt", f"ARCHIVE={age_file}", f"IDENTITY={keys['mine']}")
    assert proc.returncode == 0, proc.stderr
    archive = fly_repo / proc.stdout.strip().splitlines()[-1]
    assert archive.parent == fly_repo / "backups" and archive.read_bytes() == original
    assert archive.stat().st_mode & 0o777 == 0o600 and Path(f"{archive}.json").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in (fly_repo / "backups").iterdir()) == [archive.name, archive.name + ".json"]
    restore = run(fly_repo, tmp_path, "restore", f"ARCHIVE={archive.relative_to(fly_repo)}", "ARGS=--yes")
    one_line(restore, "restore: cannot reach the gateway")  # past every archive check
    assert calls(tmp_path)[0][:3] == ["fly", "ssh", "console"]
    for path in (fly_repo / "backups").iterdir():
        path.unlink()


@pytest.mark.parametrize("case", ["other-identity", "tampered", "not-age", "not-a-bundle", "no-identity",
                                  "manifest-mismatch"])
def test_decrypt_refuses_in_one_line_and_leaves_nothing(fly_repo, tmp_path, keys, case):
    age_file = sealed(tmp_path, keys["recipient"])
    ident = keys["mine"]
    words = {"other-identity": ["cannot decrypt", "IDENTITY="], "tampered": ["cannot decrypt"],
             "not-age": ["cannot decrypt"], "not-a-bundle": ["not a scheduled backup"],
             "no-identity": ["IDENTITY=", "no such file"],
             "manifest-mismatch": ["does not match the manifest"]}[case]
    if case == "other-identity":
        ident = keys["other"]
    elif case == "tampered":
        data = bytearray(age_file.read_bytes())
        data[-100] ^= 0x01
        age_file.write_bytes(bytes(data))
    elif case == "not-age":
        age_file.write_bytes(b"\x1f\x8b just a gzip" * 20)
    elif case == "not-a-bundle":  # a valid age file of something else: a lone archive
        from pyrage import encrypt, x25519

        age_file.write_bytes(encrypt(b"a tar.gz that came without its manifest" * 30,
                                     [x25519.Recipient.from_str(keys["recipient"])]))
    elif case == "no-identity":
        ident = tmp_path / "nope.key"
    elif case == "manifest-mismatch":  # sealed as made, but the archive inside is not the one its .json names
        from pyrage import x25519

        from ops import backup

        archive = plain_archive(tmp_path / "odd")
        meta = Path(f"{archive}.json")
        meta.write_text(meta.read_text().replace('"sha256": "', '"sha256": "0'))
        age_file = backup.encrypt(archive, x25519.Recipient.from_str(keys["recipient"]), tmp_path / "odd-out")
    proc = run(fly_repo, tmp_path, "decrypt", f"ARCHIVE={age_file}", f"IDENTITY={ident}")
    line = one_line(proc, "decrypt:", *words)
    assert "AGE-SECRET-KEY" not in proc.stderr + proc.stdout
    assert not (fly_repo / "backups").exists() or list((fly_repo / "backups").iterdir()) == [], line


def test_decrypt_needs_both_arguments(fly_repo, tmp_path):
    one_line(run(fly_repo, tmp_path, "decrypt"), "ARCHIVE and IDENTITY", "required")


def test_the_bundle_is_plain_age_and_tar(tmp_path, keys):
    """`age -d -i KEY FILE | tar -x` opens it without this repo: standard age, a plain tar."""
    import pyrage

    from ops import backup

    age_file = sealed(tmp_path, keys["recipient"])
    bundle = tmp_path / "bundle.tar"
    bundle.write_bytes(pyrage.decrypt(age_file.read_bytes(), backup.read_identities(keys["mine"])))
    listing = subprocess.run(["tar", "-tf", str(bundle)], capture_output=True, text=True, check=True).stdout.split()
    assert listing == [age_file.name[:-4], age_file.name[:-4] + ".json"]


def test_scheduled_refuses_a_missing_or_bad_recipient_before_the_platform(fly_repo, tmp_path, keys):
    answers_file = fly_repo / ".copier-answers.yml"
    original = answers_file.read_text()
    out = tmp_path / "encrypted"
    try:
        for value, words in (("", ["backup_recipient: empty", "age1"]),
                             (flip_last(keys["recipient"]), ["backup_recipient:", "not an age public key"])):
            data = yaml.safe_load(original)
            data["backup_recipient"] = value
            answers_file.write_text(yaml.safe_dump(data))
            proc = run(fly_repo, tmp_path, "scheduled", "--out", str(out), module=True)
            one_line(proc, *words, make=False)
            assert calls(tmp_path) == [] and not out.exists()  # the platform was never asked
    finally:
        answers_file.write_text(original)


def test_scheduled_of_a_stopped_deploy_says_so_and_leaves_no_plaintext(fly_repo, tmp_path):
    runner = tmp_path / "runner"
    runner.mkdir()
    out = runner / "encrypted"
    proc = run(fly_repo, tmp_path, "scheduled", "--out", str(out), module=True,
               env={"RUNNER_TEMP": str(runner), "GITHUB_ACTIONS": "true", "FLY_API_TOKEN": "FlyV1 standin"})
    one_line(proc, "backup: cannot reach the gateway", "stopped", make=False)
    assert [c[:3] for c in calls(tmp_path)] == [["fly", "ssh", "console"]]
    assert list(runner.iterdir()) == [] and not list((fly_repo / "backups").glob("*"))


def test_scheduled_in_ci_names_a_missing_secret(fly_repo, tmp_path):
    runner = tmp_path / "runner"
    runner.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "FLY_API_TOKEN"}
    env.update({"RUNNER_TEMP": str(runner), "GITHUB_ACTIONS": "true", "FLY_API_TOKEN": ""})
    proc = run(fly_repo, tmp_path, "scheduled", "--out", str(runner / "encrypted"), module=True, env=env)
    one_line(proc, "FLY_API_TOKEN (secret FLY_BACKUP_TOKEN): empty", "`backup`", make=False)
    assert calls(tmp_path) == [] and list(runner.iterdir()) == []


@pytest.mark.runbook_step("python -m ops.backup keygen")
def test_keygen_makes_an_identity_its_recipient_passes_the_answer_check(tmp_path):
    from ops import model as m

    path = tmp_path / "claw-backup.key"
    proc = subprocess.run([sys.executable, "-m", "ops.backup", "keygen", str(path)], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "template")})
    assert proc.returncode == 0, proc.stderr
    public = proc.stdout.strip()
    assert m.age_recipient_problem(public) == "" and path.stat().st_mode & 0o777 == 0o600
    assert "AGE-SECRET-KEY-" in path.read_text() and "AGE-SECRET-KEY-" not in proc.stdout + proc.stderr
    again = subprocess.run([sys.executable, "-m", "ops.backup", "keygen", str(path)], capture_output=True, text=True,
                           cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "template")})
    assert again.returncode == 1 and "not overwriting" in again.stderr


@pytest.mark.parametrize("bad, why", [
    ("age1w9r2k0waumevyjdne89jerjs2qrzpc3kxv4vpjl753qkv7mn6ayqftt0v6", "checksum"),  # one character off
    ("age1w9r2k0waumevyjdne89jerjs2qrzpc3kxv4vpjl753qkv7mn6ayqftt0v", "58 characters"),
    ("AGE-SECRET-KEY-1GQ9778VQXMMJVE8SK7J6VT8UJ4HDQAJUVSFCWCKQCQ4RF5JXFPJQ0GSHLK", "SECRET key"),
    ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG", "starts with age1"),
])
def test_recipient_check_agrees_with_age(bad, why):
    """The form's pure-Python check (copier has no age library) refuses what age refuses,
    and never repeats a secret key."""
    import pyrage

    from ops import model as m

    problem = m.age_recipient_problem(bad)
    assert why in problem and "AGE-SECRET-KEY-1GQ" not in problem
    with pytest.raises(pyrage.RecipientError):
        pyrage.x25519.Recipient.from_str(bad)
    for _ in range(20):  # and accepts what age makes
        assert m.age_recipient_problem(str(pyrage.x25519.Identity.generate().to_public())) == ""


CI_SECRETS = {
    "FLY_API_TOKEN": "FlyV1 fm2_" + "f" * 30, "RAILWAY_TOKEN": "rw-" + "r" * 30,
    "RENDER_SSH_KEY": "-----BEGIN OPENSSH PRIVATE KEY-----\nRENDERKEY\n-----END OPENSSH PRIVATE KEY-----",
    "RENDER_SSH_KNOWN_HOSTS": "ssh.oregon.render.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIRENDER",
    "RENDER_SERVICE_ID": "srv-standin0001", "NORTHFLANK_API_TOKEN": "nf-" + "n" * 30,
    "DEPLOY_SSH_KEY": "-----BEGIN OPENSSH PRIVATE KEY-----\nVMKEY\n-----END OPENSSH PRIVATE KEY-----",
    "DEPLOY_SSH_KNOWN_HOSTS": "203.0.113.7 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHOST",
    "DEPLOY_SSH_TARGET": "deploy@203.0.113.7",
    "KUBECONFIG_DATA": "apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: KUBE" + "t" * 20,
}


@pytest.mark.parametrize("platform", ["fly", "gcp", "vps", "railway", "northflank", "render", "kubernetes"])
def test_ci_credentials_and_transport_per_platform(monkeypatch, tmp_path, platform):
    """What the backup job turns its secrets into, per platform: files 0600 in the job's private
    directory, only the variables each CLI reads, the argv CI runs; a missing secret is named."""
    from ops import backup, model as m, remote

    facts = m.platform_facts(platform)
    answers = {"platform": platform, "app_name": APP, "privacy": "private", "region": facts["default_region"],
               "openclaw_version": "2026.9.6", "gateway_port": str(facts["default_port"]),
               "vm_size": facts["default_size"], "vm_memory_mb": "2048", "volume_size_gb": "10"}
    if platform in ("gcp", "vps", "kubernetes"):
        answers["domain"] = "claw.localhost"
    model = m.build(m.complete(answers))
    kind = model.kind
    names = [s["env"] for s in m.load("ci")["backup"]["secrets"][kind]]
    home, work, bindir = tmp_path / "home", tmp_path / "work", tmp_path / "bin"
    for d in (home, work, bindir):
        d.mkdir()
    log = tmp_path / "nf.log"
    (bindir / "northflank").write_text(f"#!/bin/sh\n# RECORDING STAND-IN for northflank login\necho \"$@\" >> {log}\n")
    (bindir / "northflank").chmod(0o755)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    for name in {*CI_SECRETS, "DOCKER_HOST", "COMPOSE_PROJECT_NAME", "KUBECONFIG"}:
        monkeypatch.delenv(name, raising=False)
    # every missing secret is named, under the name it has in the GitHub environment
    secrets = [s["name"] for s in m.load("ci")["backup"]["secrets"][kind]]
    with pytest.raises(remote.RemoteError) as err:
        remote.ci_credentials(model, work)
    assert str(err.value).count("\n") == 0 and "empty" in str(err.value)
    assert all(name in str(err.value) for name in names + secrets), str(err.value)
    for name in names:
        monkeypatch.setenv(name, CI_SECRETS[name])
    remote.ci_credentials(model, work)
    for path in work.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path
    argv = remote.connect(model, ci=True).argv("true")
    if platform == "render":
        config = (home / ".ssh" / "config").read_text()
        assert "Host ssh.oregon.render.com" in config and "StrictHostKeyChecking yes" in config
        assert (work / "ssh_key").read_text().strip() == CI_SECRETS["RENDER_SSH_KEY"]
        assert argv[:2] == ["ssh", "srv-standin0001@ssh.oregon.render.com"]
    elif kind == "compose":
        config = (home / ".ssh" / "config").read_text()
        assert "Host 203.0.113.7" in config and "UserKnownHostsFile" in config
        assert os.environ["DOCKER_HOST"] == "ssh://deploy@203.0.113.7" and os.environ["COMPOSE_PROJECT_NAME"] == APP
        assert argv[:3] == ["docker", "compose", "exec"]
    elif platform == "kubernetes":
        assert Path(os.environ["KUBECONFIG"]).read_text().strip() == CI_SECRETS["KUBECONFIG_DATA"]
        assert argv[:3] == ["kubectl", "exec", "-i"]
    elif platform == "railway":  # no linked directory in CI: service and environment on the argv
        assert argv[:7] == ["railway", "ssh", "--service", APP, "--environment",
                            m.load("ci")["tools"]["railway"]["environment"], "--"]
    elif platform == "northflank":
        assert log.read_text().split() == ["login", "-n", "backup", "-t", CI_SECRETS["NORTHFLANK_API_TOKEN"]]
    else:
        assert argv[:3] == ["fly", "ssh", "console"]
    secret_values = [v for k, v in CI_SECRETS.items() if k not in ("RENDER_SERVICE_ID", "DEPLOY_SSH_TARGET")]
    assert not any(v in " ".join(argv) for v in secret_values)  # no secret on the transport's argv
    del backup
