"""What each platform's health checker gets: a request from another container
on a network the test created (a sender in a private range, like Fly's checks,
kubelet or Render/Railway/Northflank checkers), WITHOUT forwarding headers, on
the path the platform file declares. It must get 200 with the started JSON."""

from __future__ import annotations

import json

import pytest

from tests.container.conftest import c, run_platform, shared_image, unique, wait_healthy
from tests.e2e.harness import launch_spec

# A public deploy trusts its platform's proxy range (gateway.trustedProxies); a
# checker inside it that sends no X-Forwarded-For got 403 proxy_attribution_required
# on /startupz, so public platform checks probe a path the gateway answers before
# attributing the client (platforms.yml checker_probe). Fly private (no trusted
# proxies) is probed in the Fly lifecycle test (tests/container/test_platform_images.py),
# Kubernetes in its own.
CASES = [("fly", "public"), ("render", "public"), ("railway", "public"), ("northflank", "public")]


def probe(network: str, url: str) -> tuple[int, str]:
    """GET url from a fresh container on `network` (no forwarding headers)."""
    proc = c.docker("run", "--rm", "--network", network, "--entrypoint", "curl", "curlimages/curl:8.16.0",
                    "-s", "-m", "10", "-w", "\n%{http_code}", url, check=False, timeout=60)
    body, _, code = proc.stdout.rpartition("\n")
    return int(code or 0), body


@pytest.mark.parametrize(("platform", "privacy"), CASES)
def test_platform_checker_gets_started(generate, res, base_image, platform, privacy):
    repo = generate(platform, privacy)
    image = shared_image(repo)
    c.images_for(repo)
    c.standin_image("curlimages/curl", "8.16.0")
    network = unique("net")
    c.docker("network", "create", network)
    res.networks.append(network)
    name = unique("gw")
    run_platform(repo, image, res, name=name, extra=["--network", network, "--network-alias", "gateway"])
    wait_healthy(name)
    spec = launch_spec(repo)
    paths = set(spec.declared.health_paths.values())
    assert paths, f"{platform}: the platform file declares no health check path"
    port = spec.ports[spec.process_port_place]
    for path in sorted(paths):
        for _ in range(60):
            code, body = probe(network, f"http://gateway:{port}{path}")
            if code != 503:
                break
        assert code == 200, f"{platform} checker on {path}: {code} {body[:200]}"
        parsed = json.loads(body)
        assert parsed.get("status") in ("started", "live") or parsed.get("ready") is True, parsed
