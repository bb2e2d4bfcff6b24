#!/usr/bin/env bash
# CI only (.github/workflows/deploy.yml): build this checkout's image and push it to
# the GitHub container registry as ghcr.io/<owner>/<repo>:<commit>.
# Reads GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_ACTOR, GITHUB_OUTPUT (set by Actions)
# and GHCR_TOKEN (the job's token, passed on stdin to `docker login`, never argv).
# The registry login lives in a throwaway DOCKER_CONFIG, removed on exit.
set -euo pipefail
: "${GHCR_TOKEN:?GHCR_TOKEN is empty}" "${GITHUB_REPOSITORY:?}" "${GITHUB_SHA:?}" "${GITHUB_ACTOR:?}"
registry="${GHCR_REGISTRY:-ghcr.io}"
image="${registry}/${GITHUB_REPOSITORY,,}:${GITHUB_SHA}"
DOCKER_CONFIG="$(mktemp -d "${RUNNER_TEMP:-/tmp}/docker.XXXXXX")"
export DOCKER_CONFIG
trap 'rm -rf "$DOCKER_CONFIG"' EXIT
printf '%s\n' "$GHCR_TOKEN" | docker login "$registry" --username "$GITHUB_ACTOR" --password-stdin
docker build --pull --tag "$image" --label "org.opencontainers.image.revision=${GITHUB_SHA}" .
docker push "$image"
echo "image=$image" >> "${GITHUB_OUTPUT:-/dev/stdout}"
echo "pushed $image"
