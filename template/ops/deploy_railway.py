"""`python3 -m ops.deploy_railway`: the Railway deploy step (_partials/railway/deploy-steps.yml.jinja) calls it by name.
The code is ``main`` in ops/platforms/railway.py (one room per platform)."""

import sys

from .platforms.railway import main

if __name__ == "__main__":
    sys.exit(main())
