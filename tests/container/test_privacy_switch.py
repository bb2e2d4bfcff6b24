"""Private -> public on the same volume (an answer changed with `make update`,
then a redeploy): the kept config gets the public deploy's trustedProxies and
origin from the new seed, so requests through the new proxy are admitted."""

from __future__ import annotations

import json
import time

from tests.container.conftest import build, c, logs, run_platform, unique, wait_healthy
from tests.container.test_checkers import probe


def test_private_to_public_keeps_the_volume_and_admits_the_proxy(generate, res, base_image):
    private = generate("fly", "private")
    public = generate("fly", "public")
    seed = json.loads((public / "config" / "openclaw.json").read_text())
    assert seed["gateway"].get("trustedProxies"), "the public seed names no trusted proxies"
    network = unique("net")
    c.docker("network", "create", network)
    res.networks.append(network)
    image, _ = build(private, res)
    first, port, volume = run_platform(private, image, res)
    deadline = time.monotonic() + 60
    while "first boot: seeded" not in logs(first):  # the private config is on the volume
        assert time.monotonic() < deadline, logs(first)[-2000:]
        time.sleep(1)
    c.docker("stop", "-t", "30", first)  # the platform stops the old machine with SIGTERM first

    image, _ = build(public, res)
    name, _, _ = run_platform(public, image, res, volume=volume,
                              extra=["--network", network, "--network-alias", "gateway"])
    wait_healthy(name)
    text = logs(name)
    assert "keeping the existing config /data/openclaw.json" in text
    assert "gateway.trustedProxies ->" in text and "(from the deploy's seed)" in text, text[-2000:]
    live = json.loads(c.docker("exec", name, "cat", "/data/openclaw.json").stdout)
    assert live["gateway"]["trustedProxies"] == seed["gateway"]["trustedProxies"]
    assert set(seed["gateway"]["controlUi"]["allowedOrigins"]) <= set(live["gateway"]["controlUi"]["allowedOrigins"])
    # a proxy on the platform's private network forwards a client: admitted, not 403
    proc = c.docker("run", "--rm", "--network", network, "--entrypoint", "curl", "curlimages/curl:8.16.0",
                    "-s", "-m", "10", "-H", "X-Forwarded-For: 203.0.113.7", "-H", "X-Forwarded-Proto: https",
                    "-w", "\n%{http_code}", f"http://gateway:{port}/healthz", check=False)
    body, _, code = proc.stdout.rpartition("\n")
    assert code == "200" and json.loads(body)["status"] == "live", proc.stdout
