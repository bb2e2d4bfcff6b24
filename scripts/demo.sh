#!/usr/bin/env bash
# Set everything up and generate ./demo-deploy with the default answers (Fly.io, public).
# An existing ./demo-deploy is moved aside, never overwritten.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
if [ -e demo-deploy ]; then
  backup="demo-deploy.$(date +%Y%m%d-%H%M%S)"
  mv demo-deploy "$backup"
  echo "demo: moved the previous demo-deploy to $backup" >&2
fi
# --trust: the template loads its Jinja extension (extensions/openclaw.py).
# -r HEAD: this checkout, not the newest release tag.
copier copy --trust --defaults -r HEAD . demo-deploy "$@"
