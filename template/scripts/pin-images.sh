#!/usr/bin/env bash
# Pin each image in images.lock by digest (`make pin-images`); run it once, online.
#
# Asks YOUR docker for the digest of each tag's manifest list (buildx imagetools
# inspect, else pull + image inspect), writes it into images.lock and rewrites the
# references in the Dockerfile, docker-compose.yml and k8s/ to name:tag@sha256:...
# Nothing changes when one image fails. Commit images.lock and the files it changed.
# The logic is ops/pin_images.py (Python standard library only).
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 -m ops.pin_images "$@"
