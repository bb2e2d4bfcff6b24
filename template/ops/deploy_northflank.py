"""`python3 -m ops.deploy_northflank`: the Northflank deploy step (_partials/northflank/deploy-steps.yml.jinja) calls it by name.
The code is ``main`` in ops/platforms/northflank.py (one room per platform)."""

import sys

from .platforms.northflank import main

if __name__ == "__main__":
    sys.exit(main())
