"""One stop grace period (ops/data/openclaw.yml stop_grace_seconds) in every
platform file that has the setting; Docker's/Fly's/Railway's defaults (10 s,
5 s, 0 s) may cut a gateway off while it drains."""

from __future__ import annotations

import json

import pytest
import tomllib
import yaml

from ops import model as m

WHERE = {
    "fly": lambda r: tomllib.loads((r / "fly.toml").read_text())["kill_timeout"],
    "gcp": lambda r: yaml.safe_load((r / "docker-compose.yml").read_text())["services"]["openclaw-gateway"][
        "stop_grace_period"],
    "render": lambda r: yaml.safe_load((r / "render.yaml").read_text())["services"][0]["maxShutdownDelaySeconds"],
    "railway": lambda r: json.loads((r / "railway.json").read_text())["deploy"]["drainingSeconds"],
    # the combined service's deployment.gracePeriodSeconds (@northflank/js-client 0.9.5 types)
    "northflank": lambda r: _northflank_service(r)["deployment"]["gracePeriodSeconds"],
    "kubernetes": lambda r: yaml.safe_load((r / "k8s/base/deployment.yaml").read_text().split("\n---")[0])[
        "spec"]["template"]["spec"]["terminationGracePeriodSeconds"],
}


def _northflank_service(repo) -> dict:
    steps = json.loads((repo / "northflank.json").read_text())["spec"]["spec"]["steps"][1]["spec"]["steps"]
    return next(s["spec"] for s in steps if s["kind"] == "CombinedService")


@pytest.mark.parametrize("platform", sorted(WHERE))
def test_stop_grace_from_the_data_file(render, platform):
    want = m.openclaw()["stop_grace_seconds"]
    assert isinstance(want, int) and want > 10
    data = {"platform": platform, "privacy": "private"}
    if platform in ("gcp", "kubernetes"):
        data["domain"] = "claw.example.com"
    value = WHERE[platform](render(**data))
    assert str(value) in (str(want), f"{want}s"), value
