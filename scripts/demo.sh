#!/usr/bin/env bash
# Set everything up and generate ./demo-deploy with the default answers (Fly.io, public).
# An existing ./demo-deploy is moved aside, never overwritten. Extra arguments go to copier.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ -e demo-deploy ]; then
  backup="demo-deploy.$(date +%Y%m%d-%H%M%S)"
  mv demo-deploy "$backup"
  echo "demo: moved the previous demo-deploy to $backup" >&2
fi
# -r HEAD: this checkout, not the newest release tag.
exec bash "$ROOT/scripts/new.sh" demo-deploy --defaults -r HEAD "$@"
