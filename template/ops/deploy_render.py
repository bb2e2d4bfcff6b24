"""`python3 -m ops.deploy_render`: the Render deploy step (_partials/render/deploy-steps.yml.jinja) calls it by name.
The code is ``main`` in ops/platforms/render.py (one room per platform)."""

import sys

from .platforms.render import main

if __name__ == "__main__":
    sys.exit(main())
