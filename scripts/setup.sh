#!/usr/bin/env bash
# Make .venv with the pinned requirements (idempotent; redone when the lock changes).
# Sourced by scripts/demo.sh and scripts/new.sh (SETUP_LOCK=requirements-copier.lock: copier
# only) and scripts/test.sh (requirements.lock: everything); needs python3 >= 3.11 (with pip)
# and git. The venv is made and filled by uv (template/ops/tools.py fetches the pinned uv
# once per machine with pip); where uv can't be had it says so and uses pip.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "setup: Python 3.11 or newer is needed (found $(python3 --version))" >&2; exit 1; }
python3 "$ROOT/template/ops/tools.py" --venv "$ROOT/.venv" --stamp "$ROOT/${SETUP_LOCK:-requirements.lock}"
export PATH="$ROOT/.venv/bin:$PATH"
