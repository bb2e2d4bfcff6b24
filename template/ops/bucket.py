"""The optional S3-compatible bucket of scheduled backups: a copy of the encrypted
``.age`` file off GitHub as well (.github/workflows/backup.yml, its bucket step).

Configured at run time, never by copier (RUNBOOK.md, Day two), in the GitHub
repository (or `backup` environment):

  variables  BACKUP_S3_URL       s3://bucket/prefix  (unset: no bucket, the artifact only)
             BACKUP_S3_ENDPOINT  https://... of an S3-compatible store (R2, B2, MinIO, Spaces...);
                                 unset: AWS S3
             BACKUP_S3_REGION    the store's region (unset: us-east-1; R2 takes `auto`)
  secrets    BACKUP_S3_ACCESS_KEY_ID, BACKUP_S3_SECRET_ACCESS_KEY
             a key that may put objects under the prefix; nothing more is needed

    python -m ops.bucket upload DIR     every DIR/*.age to s3://bucket/prefix/<name>

Only ``.age`` files are ever sent (the plaintext never leaves the job). Each PUT
carries the file's Content-MD5, so the store refuses bytes that differ from the
file's; no read, list or delete permission is needed (a write-only key cannot
erase older backups). How long objects are kept is the bucket's own lifecycle rule.
Any failure is one line naming the variable or secret at fault; a secret's value
is never printed.

Why boto3 and not the aws CLI: AWS's own SDK, released weekly, installs as pinned
wheels with sha256 hashes like every other tool here (requirements-s3.txt, only
when the bucket is configured), and its error codes let each failure name the
setting at fault; the CLI v2 comes as a zip installer outside the package
registries, and the runner's preinstalled one is not pinned.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import ipaddress
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping
from urllib.parse import urlsplit

from ops.terminal import one_line_exit

URL, ENDPOINT, REGION = "BACKUP_S3_URL", "BACKUP_S3_ENDPOINT", "BACKUP_S3_REGION"
KEY_ID, SECRET = "BACKUP_S3_ACCESS_KEY_ID", "BACKUP_S3_SECRET_ACCESS_KEY"
DEFAULT_REGION = "us-east-1"
SUFFIX = ".age"
MAX_SINGLE_PUT = 5 * 1024**3  # S3's limit for one PUT (a Content-MD5 covers the whole object)
HINT = "(RUNBOOK.md, Day two: the bucket)"

# Bucket names as S3 and its look-alikes accept them (3-63 characters, lowercase letters,
# digits, dots, hyphens; a letter or digit at both ends).
BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
REGION_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,30}")


class BucketError(Exception):
    """One line to print: the variable or secret at fault first."""


def _variable(name: str, problem: str) -> str:
    return f"{name} (variable): {problem} {HINT}"


def _secret(name: str, problem: str) -> str:
    return f"{name} (secret): {problem} {HINT}"


@dataclass(frozen=True)
class Target:
    bucket: str
    prefix: str  # "" or "a/b" (no slash at either end)
    endpoint: str  # "" = AWS S3
    region: str

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def url(self, name: str = "") -> str:
        return f"s3://{self.bucket}/{self.key(name)}" if name else f"s3://{self.bucket}/{self.prefix}".rstrip("/")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def target_from(env: Mapping[str, str]) -> Target | None:
    """The bucket the variables name, or None when BACKUP_S3_URL is unset (no bucket)."""
    raw = (env.get(URL) or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise BucketError(_variable(URL, "is not s3://bucket/prefix"))
    if "@" in parts.netloc:  # never repeated: it may hold a key
        raise BucketError(_variable(URL, f"holds a user or password: put the key in the secrets {KEY_ID} "
                                         f"and {SECRET}"))
    if not BUCKET.fullmatch(parts.netloc) or ".." in parts.netloc:
        raise BucketError(_variable(URL, f"bucket {parts.netloc!r}: 3-63 lowercase letters, digits, "
                                              "dots or hyphens, a letter or digit at both ends"))
    prefix = parts.path.strip("/")
    if any(seg in ("", ".", "..") for seg in prefix.split("/")) and prefix:
        raise BucketError(_variable(URL, "the prefix has an empty, '.' or '..' part"))
    endpoint = (env.get(ENDPOINT) or "").strip().rstrip("/")
    if endpoint:
        ep = urlsplit(endpoint)
        if ep.username or ep.password:  # never repeated: it may hold a key
            raise BucketError(_variable(ENDPOINT, "holds a user or password: put the key in the "
                                                       f"secrets {KEY_ID} and {SECRET}"))
        if ep.scheme not in ("https", "http") or not ep.hostname or ep.query or ep.fragment:
            raise BucketError(_variable(ENDPOINT, "is not an https:// URL of an S3-compatible store"))
        if ep.scheme == "http" and not _loopback(ep.hostname):
            raise BucketError(_variable(ENDPOINT, "is plain http: only https:// leaves the runner"))
    region = (env.get(REGION) or "").strip() or DEFAULT_REGION
    if not REGION_RE.fullmatch(region):
        raise BucketError(_variable(REGION, "is not a region name (lowercase letters, digits, hyphens; "
                                                 "R2 takes auto)"))
    return Target(parts.netloc, prefix, endpoint, region)


def credentials(env: Mapping[str, str]) -> tuple[str, str]:
    key_id, secret = (env.get(KEY_ID) or "").strip(), (env.get(SECRET) or "").strip()
    empty = [name for name, value in ((KEY_ID, key_id), (SECRET, secret)) if not value]
    if empty:
        raise BucketError(f"{' and '.join(empty)} (secret{'s' if len(empty) > 1 else ''}): empty: "
                          f"{URL} is set, so the bucket needs its key {HINT}")
    return key_id, secret


def client(target: Target, key_id: str, secret: str):
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise BucketError("bucket: boto3 is not installed: python3 -m ops.tools --python .venv/bin/python "
                          "requirements-s3.txt") from None
    config = Config(
        signature_version="s3v4",
        # Path-style requests on a store of your own (MinIO answers nothing else by default);
        # AWS itself picks virtual-hosted style.
        s3={"addressing_style": "path" if target.endpoint else "auto"},
        # Checksums only where the API requires them: several S3-compatible stores refused the
        # CRC32 headers that botocore sends by default since 1.36. The Content-MD5 below is checked
        # by every S3 dialect.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        connect_timeout=15,
        read_timeout=120,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    return boto3.session.Session().client(
        "s3", endpoint_url=target.endpoint or None, region_name=target.region,
        aws_access_key_id=key_id, aws_secret_access_key=secret, config=config)


def explain(err: Exception, target: Target) -> str:
    """The one line for a failed upload: the variable or secret at fault, never a value of a secret."""
    from botocore import exceptions as bx

    where = f"{target.endpoint} ({ENDPOINT})" if target.endpoint else f"AWS S3 in {target.region} ({REGION})"
    if isinstance(err, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ProxyConnectionError)):
        if target.endpoint:
            return _variable(ENDPOINT, f"cannot connect to {target.endpoint}")
        return _variable(REGION, f"cannot connect to AWS S3 in {target.region}")
    if isinstance(err, bx.SSLError):
        return _variable(ENDPOINT, f"TLS failed with {target.endpoint or 'AWS S3'}")
    if isinstance(err, bx.ClientError):
        code = str(err.response.get("Error", {}).get("Code", "")) or "?"
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        if code == "InvalidAccessKeyId":
            return _secret(KEY_ID, f"{where} does not know this key ({code})")
        if code == "SignatureDoesNotMatch":
            return _secret(SECRET, f"does not belong to {KEY_ID} at {where} ({code})")
        if code == "NoSuchBucket":
            return _variable(URL, f"no bucket {target.bucket!r} at {where} ({code})")
        if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException",
                    "InvalidRegion"):
            return _variable(REGION, f"{target.region!r} is not the bucket's region ({code})")
        if code in ("AccessDenied", "Forbidden", "403") or status == 403:
            return _secret(KEY_ID, f"the key may not put objects under {target.url()} "
                                                    f"({code}): allow s3:PutObject there")
        if code == "BadDigest":
            return f"bucket: {target.url()}: the store received other bytes than were sent ({code}): run it again"
        return f"bucket: {target.url()}: the store refused the upload ({code}, HTTP {status}) {HINT}"
    if isinstance(err, bx.BotoCoreError):
        return f"bucket: {target.url()} at {where}: {type(err).__name__} {HINT}"
    return f"bucket: {target.url()}: {type(err).__name__} {HINT}"


def upload(folder: Path, env: Mapping[str, str] = os.environ, say: Callable[[str], None] = print,
           make_client: Callable = client) -> list[str]:
    """Every ``folder/*.age`` to the bucket; the s3:// URLs written. Nothing when BACKUP_S3_URL is unset."""
    target = target_from(env)
    if target is None:
        say(f"bucket: {URL} is not set: the artifact is the only copy")
        return []
    key_id, secret = credentials(env)
    files = sorted(p for p in folder.glob(f"*{SUFFIX}") if p.is_file()) if folder.is_dir() else []
    if not files:
        raise BucketError(f"bucket: no {SUFFIX} file in {folder}: the backup step made none")
    s3 = make_client(target, key_id, secret)
    done = []
    for path in files:
        size = path.stat().st_size
        if size > MAX_SINGLE_PUT:
            raise BucketError(f"bucket: {path.name} is {size} bytes, over the 5 GiB of one checked PUT")
        digest = hashlib.md5(usedforsecurity=False)
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        md5 = base64.b64encode(digest.digest()).decode()
        try:
            with path.open("rb") as body:
                s3.put_object(Bucket=target.bucket, Key=target.key(path.name), Body=body,
                              ContentLength=size, ContentMD5=md5, ContentType="application/octet-stream")
        except Exception as err:  # botocore's errors, explained without the secret
            raise BucketError(explain(err, target)) from None
        say(f"bucket: {target.url(path.name)} ({size} bytes, Content-MD5 checked by the store)")
        done.append(target.url(path.name))
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ops.bucket", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upload", help="every DIR/*.age to BACKUP_S3_URL (nothing when it is unset)")
    up.add_argument("folder")
    args = parser.parse_args(argv)

    def run() -> None:
        upload(Path(args.folder))
    return one_line_exit(run, BucketError)


if __name__ == "__main__":
    sys.exit(main())
