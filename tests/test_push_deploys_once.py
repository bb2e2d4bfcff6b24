"""A push deploys once: the workflow's verified deploy of that commit.

Render's API deploys a given commitId without turning Render's own deploy on push off, so a
Blueprint that leaves it on built every push twice (once unverified). Northflank builds on
push unless CI is disabled on the service. Both files now switch the platform's own trigger
off (platforms.yml `push_deploy_off`, with the source of each field).
"""

from __future__ import annotations

import yaml

from ops import model as m


def test_render_blueprint_turns_its_own_deploy_on_push_off(render):
    for privacy in ("public", "private"):
        text = (render(app_name="claw-rd", platform="render", privacy=privacy) / "render.yaml").read_text()
        service = yaml.safe_load(text)["services"][0]
        # the string "off" (YAML 1.1 reads a bare off as false, which the field does not take)
        assert service["autoDeployTrigger"] == "off", service.get("autoDeployTrigger")
        assert "autoDeploy" not in service  # the deprecated field, never both
        assert m.platform_facts("render")["push_deploy_off"] == {
            **m.platform_facts("render")["push_deploy_off"], "field": "autoDeployTrigger", "value": "off"}


def test_make_deploy_says_the_workflow_deploys(render):
    for platform in ("render", "northflank"):
        makefile = (render(app_name="claw-rd", platform=platform) / "Makefile").read_text()
        recipe = makefile.split("\ndeploy:", 1)[1].split("\n\n", 1)[0]
        assert "the workflow" in recipe and "on push is off" in recipe, recipe
