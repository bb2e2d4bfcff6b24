#!/usr/bin/env bash
# Set everything up and run the whole test suite (unit, render, e2e with the real gateway).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k fly -x`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
# The public Compose variant is checked through the real Caddy (Debian package).
if ! command -v caddy >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test: installing caddy (Debian package) for the TLS proxy test" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq caddy >/dev/null
  else
    echo "test: caddy is missing; install it (apt-get install caddy) or the Caddy test fails" >&2
  fi
fi
# scripts/secrets.sh on Kubernetes runs against the real kubectl (Debian's kubernetes-client)
# and a recording stand-in of the API (tests/test_k8s_secrets.py).
if ! command -v kubectl >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test: installing kubectl (Debian package kubernetes-client) for the Kubernetes secrets test" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubernetes-client >/dev/null
  else
    echo "test: kubectl is missing; install it (apt-get install kubernetes-client) or that test is skipped" >&2
  fi
fi
# The real OpenClaw (and Node 24) from npm, installed once into .cache/ and reused.
export OPENCLAW_NPM_CACHE="${OPENCLAW_NPM_CACHE:-$ROOT/.cache/openclaw-npm}"
python -c 'import sys; sys.path.insert(0, "."); from tests.conftest import DEFAULT_VERSION; from tests.support.openclaw_npm import ensure_openclaw; print("openclaw:", ensure_openclaw(DEFAULT_VERSION).prefix)'
bash "$ROOT/scripts/container-engine.sh" start --stop-after $$  # engine for tests/container
exec python -m pytest -n 2 "$@"
