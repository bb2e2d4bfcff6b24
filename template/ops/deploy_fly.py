"""`python3 -m ops.deploy_fly`: the Fly deploy step (_partials/fly/deploy-steps.yml.jinja) calls it by name.
The code is ``main`` in ops/platforms/fly.py (one room per platform)."""

import sys

from .platforms.fly import main

if __name__ == "__main__":
    sys.exit(main())
