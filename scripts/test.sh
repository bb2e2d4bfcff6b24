#!/usr/bin/env bash
# Set everything up and run the whole test suite (unit, render, e2e with the real gateway).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k fly -x`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
# The real OpenClaw (and Node 24) from npm, installed once into .cache/ and reused.
export OPENCLAW_NPM_CACHE="${OPENCLAW_NPM_CACHE:-$ROOT/.cache/openclaw-npm}"
python -c 'import sys; sys.path.insert(0, "."); from tests.conftest import DEFAULT_VERSION; from tests.support.openclaw_npm import ensure_openclaw; print("openclaw:", ensure_openclaw(DEFAULT_VERSION).prefix)'
exec python -m pytest -n 2 "$@"
