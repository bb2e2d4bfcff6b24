"""A platform API token never follows a redirect to another origin, and is
never sent over plain HTTP.

The security review's reproduction, with two loopback servers: the "API" (the
HTTPS recording stand-in, tests/support/api_standin.py) answers 302 with a
Location on a second, plain-HTTP server. urllib copies every request header,
Authorization included, onto a redirect to any host, HTTPS -> HTTP too; before
the fix the second server received the bearer token. Both the CI deploy helpers
(ops/ci_http.py, used by the Render and Northflank deploys in ops/platforms/) and the runbook's
live API client (ops/live_api.py) are driven through their public calls.
"""

from __future__ import annotations

import os

import pytest

from ops import ci_http, live_api
from ops.platforms import render as deploy_render
from ops.runner import Runner
from tests.support.api_standin import ApiStandin

TOKEN = "rnd_" + "R" * 32


@pytest.fixture
def servers(tmp_path, monkeypatch):
    api, other = ApiStandin(tmp_path / "api"), ApiStandin(tmp_path / "other", tls=False)
    other.route("GET", r"/.*", (200, [{"service": {"id": "srv-evil", "name": "claw"}}]))
    monkeypatch.setenv("SSL_CERT_FILE", api.ca_env()["SSL_CERT_FILE"])
    yield api, other
    api.close()
    other.close()


def _tokens_seen(server: ApiStandin) -> list[str]:
    return [r["headers"].get("authorization", "") for r in server.requests if r["headers"].get("authorization")]


@pytest.mark.parametrize("target", ["other-plain-http", "same-host-other-port-https"])
def test_ci_deploy_refuses_a_redirect_to_another_origin(servers, tmp_path, monkeypatch, target):
    api, other = servers
    if target != "other-plain-http":
        other = ApiStandin(tmp_path / "third")  # its own certificate: the client trusts only the API's
    api.route("GET", r"/v1/services\?.*", (302, "moved", {"Location": other.base + "/steal"}))
    monkeypatch.setenv("RENDER_API_URL", api.base + "/v1")
    try:
        deploy_render.find_service(TOKEN, "claw")
        error = ""
    except ci_http.DeployError as exc:
        error = str(exc)
    assert _tokens_seen(other) == [], "the bearer token reached the other server"
    assert "to another origin" in error and "refused" in error and TOKEN not in error, error
    assert _tokens_seen(api) == [f"Bearer {TOKEN}"] and other.requests == []


def test_ci_deploy_follows_a_redirect_within_the_api(servers, monkeypatch):
    api, _ = servers
    svc = {"service": {"id": "srv-1", "name": "claw"}}
    api.route("GET", r"/v1/services\?.*", (301, "moved", {"Location": "/v2/services?name=claw"}))
    api.route("GET", r"/v2/services\?name=claw", (200, [svc]))
    monkeypatch.setenv("RENDER_API_URL", api.base + "/v1")
    assert deploy_render.find_service(TOKEN, "claw")["id"] == "srv-1"


@pytest.mark.parametrize("base", ["http://127.0.0.1:9/v1", "ftp://api.render.com/v1", "https:///v1"])
def test_ci_deploy_sends_a_token_over_https_only(monkeypatch, base):
    monkeypatch.setenv("RENDER_API_URL", base)
    with pytest.raises(ci_http.DeployError, match="not an https:// URL"):
        deploy_render.find_service(TOKEN, "claw")


def test_live_api_refuses_a_redirect_to_another_origin(servers):
    api, other = servers
    api.route("GET", r"/v1/services", (307, "moved", {"Location": other.base + "/steal"}))
    runner = Runner(env={**os.environ})
    status, body = live_api.ApiClient(runner, api.base + "/v1", TOKEN).get("/services")
    assert status is None and body is None
    assert "another origin" in runner.records[-1].error and TOKEN not in runner.records[-1].error
    assert other.requests == []


def test_live_api_sends_a_token_over_https_only(servers):
    _, other = servers
    runner = Runner(env={**os.environ})
    status, _ = live_api.ApiClient(runner, other.base + "/v1", TOKEN).get("/services")
    assert status is None and "not an https:// URL" in runner.records[-1].error
    assert other.requests == []
