"""A real S3-speaking server on loopback for tests: moto's server mode (ThreadedMotoServer,
its S3 and IAM APIs) bound to 127.0.0.1 on a free port, in its own process so its
settings never leak into the test process.

Authentication is ON (moto checks SigV4 signatures and IAM access keys, as a store does)
after the first SETUP_ACTIONS requests, which the fixture spends, unauthenticated, on:
an IAM user, its access key, a policy allowing S3, and the bucket. A wrong key id is then
InvalidAccessKeyId, a wrong secret SignatureDoesNotMatch, as on AWS.

    python -m tests.support.s3_server     prints {"endpoint": "http://127.0.0.1:PORT"}, serves
                                          until its stdin closes
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

SETUP_ACTIONS = 4  # create_user, create_access_key, put_user_policy, create_bucket
REGION = "us-east-1"


@dataclass
class S3Server:
    endpoint: str
    bucket: str
    key_id: str
    secret: str

    def client(self, key_id: str | None = None, secret: str | None = None):
        import boto3

        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, region_name=REGION,
            aws_access_key_id=key_id or self.key_id, aws_secret_access_key=secret or self.secret)

    def keys(self) -> list[str]:
        listing = self.client().list_objects_v2(Bucket=self.bucket)
        return sorted(obj["Key"] for obj in listing.get("Contents", []))


@contextmanager
def running(bucket: str = "claw-backups") -> Iterator[S3Server]:
    import boto3

    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_ACTIONS)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.s3_server"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the moto server did not start (exit {proc.wait()})")
        endpoint = json.loads(line)["endpoint"]
        admin = {"endpoint_url": endpoint, "region_name": REGION,
                 "aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
        iam = boto3.session.Session().client("iam", **admin)
        iam.create_user(UserName="backup-writer")
        key = iam.create_access_key(UserName="backup-writer")["AccessKey"]
        iam.put_user_policy(UserName="backup-writer", PolicyName="s3", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        boto3.session.Session().client("s3", **admin).create_bucket(Bucket=bucket)
        yield S3Server(endpoint, bucket, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(json.dumps({"endpoint": f"http://{host}:{port}"}), flush=True)
    sys.stdin.read()  # until the test closes it
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
