"""Wait until a public gateway answers its started JSON over HTTPS; exit 1 otherwise.

    python3 -m ops.wait_healthy https://HOST/startupz [--timeout SECONDS]

The deploy workflow runs it after every deploy of a public gateway: a deploy
that never becomes healthy fails the job. Standard library only.
"""

from __future__ import annotations

import argparse
import sys

from .ci_http import main_guard, say, wait_started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="https://HOST/startupz")
    parser.add_argument("--timeout", type=float, default=None, help="seconds (default $DEPLOY_TIMEOUT or 900)")
    args = parser.parse_args(argv)
    return main_guard(lambda: say(f"healthy: {args.url} {wait_started(args.url, args.timeout)}"))


if __name__ == "__main__":
    sys.exit(main())
