"""One real-engine run of Render's automated safe upgrade, through its room
(ops/platforms/render.py `safe_upgrade`, as the CI deploy runs it) and ops/safe_upgrade.py:

- Render's API is the loopback HTTPS STAND-IN (tests/support/api_standin.py), extended here so
  that its deploy and rollback calls do to the engine what Render would do to the service:
  POST /services/{id}/deploys replaces the gateway container on the one volume with the new
  release's image, POST /services/{id}/rollback puts the old release's image back;
- Render's ssh is the DRIVING stand-in (tests/standins/drive: `ssh SERVICE@ssh.REGION.render.com
  CMD` -> `docker exec` in that container);
- the images and repos are tests/container/test_upgrade.py's (`releases`: 2026.8.2 and the pin,
  Render's layout), not built again for this file.

The forced failure comes after the new release started (so the state is migrated): Render then
reports `update_failed`. The room rolls back with Render's rollback, the old release (held by the
watch flag) restores the pre-update backup with its own `openclaw backup restore`, starts, and the
marker and the config key written by the old release are there. Nothing contacts Render.
"""

from __future__ import annotations

import argparse
import time

import pytest

from ops import model as m
from tests.container.conftest import Resources, c, run_platform
from tests.container.test_backup import make_env, seed_state, state_survived
from tests.container.test_upgrade import (APP, HEALTHCHECK, NEW, OLD, SAME_HOST, name,  # noqa: F401
                                          release_of, releases, started)
from tests.support.api_standin import ApiStandin

pytestmark = pytest.mark.container


class RenderEngine(ApiStandin):
    """A STAND-IN for Render's API whose deploy and rollback swap the container on the volume."""

    def __init__(self, workdir, releases: dict, res: Resources, volume: str, container: str):
        super().__init__(workdir)
        self.releases, self.res, self.volume, self.container = releases, res, volume, container
        self.port = 0
        self.swaps: list[str] = []

    def swap(self, release: str) -> None:
        c.docker("rm", "-f", self.container, timeout=180)
        repo, image = self.releases[f"{release}_repo"], self.releases[f"{release}_image"]
        _, self.port, _ = run_platform(repo, image, self.res, name=self.container, volume=self.volume,
                                       extra=SAME_HOST)
        self.swaps.append(release)

    def answer(self, method: str, path: str) -> tuple:
        if (method, path) == ("POST", "/v1/services/srv-1/deploys"):
            self.swap("new")
            return 201, {"id": "dep-new", "status": "created"}
        if (method, path) == ("GET", "/v1/services/srv-1/deploys/dep-new"):
            # in progress until the new release is ready (it has migrated the state), then Render fails it
            ready = c.docker("exec", self.container, "node", HEALTHCHECK, str(self.port), "/readyz",
                             check=False, timeout=60).returncode == 0
            return 200, {"id": "dep-new", "status": "update_failed" if ready else "update_in_progress"}
        if (method, path) == ("POST", "/v1/services/srv-1/rollback"):
            self.swap("old")
            return 201, {"id": "dep-rb", "status": "created"}
        return super().answer(method, path)


def test_render_safe_upgrade_failed_after_start_rolls_back_with_render_and_restores(
        releases, tmp_path, monkeypatch):
    from ops.platforms import render
    from ops.safe_upgrade import UpgradeError, upgrade

    res = Resources()
    volume, container = name("vol"), name("render")
    c.docker("volume", "create", volume)
    res.volumes.append(volume)
    engine = RenderEngine(tmp_path / "tls", releases, res, volume, container)
    try:
        engine.swap("old")
        started(container, engine.port)
        model = m.build(m.answers_from_file(releases["new_repo"] / ".copier-answers.yml"))
        seed_state(container, model.state_dir, model.workspace_dir)
        service = {"id": "srv-1", "name": APP, "type": "private_service"}
        engine.route("GET", rf"/v1/services\?name={APP}&limit=20", (200, [{"service": service}]))
        engine.route("GET", r"/v1/services/srv-1/deploys\?limit=20",
                     (200, [{"deploy": {"id": "dep-old", "status": "live"}}]))
        for key, value in {**make_env(tmp_path, DRIVE_CONTAINER=container), **engine.ca_env(),
                           "RENDER_API_URL": engine.base + "/v1", "RENDER_API_KEY": "rnd_" + "k" * 32,
                           "DEPLOY_TIMEOUT": "900", "POLL_INTERVAL": "2"}.items():
            monkeypatch.setenv(key, value)
        args = argparse.Namespace(service=APP, commit="0" * 40, public=False, ci=False, backups=str(tmp_path))
        lines: list[str] = []
        began = time.monotonic()
        with pytest.raises(UpgradeError) as failed:
            upgrade(model, render.safe_upgrade(model, args, say=lines.append), dest=tmp_path / "backups",
                    timeout=600, say=lines.append)
        print(f"Render safe upgrade, failed after start: {time.monotonic() - began:.0f} s", *lines, sep="\n")
        assert "rolled back: openclaw 2026.8.2 started on the pre-update state" in str(failed.value), lines
        assert engine.swaps == ["old", "new", "old"]
        (rollback,) = [r for r in engine.requests if r["path"] == "/v1/services/srv-1/rollback"]
        assert rollback["body"] == {"deployId": "dep-old"}
        assert release_of(container) == OLD
        started(container, engine.port, timeout=120)
        state_survived(container, model.state_dir, model.workspace_dir)
        top = c.docker("exec", container, "ls", "-a", "/data").stdout.split()
        assert any(n.startswith(".openclaw.before-restore-") for n in top), top  # what the new release left
        assert ".openclaw-upgrade" not in top and ".openclaw-maintenance" not in top
        assert list((tmp_path / "backups").glob(f"{APP}-*.tar.gz"))  # the pre-update archive, kept
    finally:
        engine.close()
        res.cleanup()
