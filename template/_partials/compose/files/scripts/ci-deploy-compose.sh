#!/usr/bin/env bash
# CI only (.github/workflows/deploy.yml): deploy the pushed image on the VM.
#
# SSH uses the key in DEPLOY_SSH_KEY and ONLY the host key pinned in
# DEPLOY_SSH_KNOWN_HOSTS (StrictHostKeyChecking=yes: an unknown or changed host
# key stops the deploy). On the VM, in ~/DEPLOY_DIR: the compose files from this
# commit, docker-compose.override.yml naming IMAGE for SERVICE, then
# `docker compose pull && docker compose up -d` - no source checkout or build there.
# The VM gets a read-only pull credential (REGISTRY_PULL_TOKEN, never the job's
# token, which can push), over stdin to `docker login` into a throwaway docker
# config dir there, removed when the remote shell ends - also when it is cut
# off (hang-up) - so no credential stays in ~/.docker/config.json. Then: wait until the container is healthy (its own
# health check asserts the gateway's JSON) and, when OPENCLAW_PUBLIC_URL is set,
# until https://.../startupz answers the started JSON. .env (secrets) stays on
# the VM, written there once by `make secrets`.
set -euo pipefail
: "${DEPLOY_SSH_KEY:?DEPLOY_SSH_KEY is empty}" "${DEPLOY_SSH_KNOWN_HOSTS:?DEPLOY_SSH_KNOWN_HOSTS is empty}"
: "${DEPLOY_SSH_TARGET:?DEPLOY_SSH_TARGET is empty}" "${IMAGE:?}" "${DEPLOY_DIR:?}" "${SERVICE:?}"
: "${REGISTRY_PULL_TOKEN:?REGISTRY_PULL_TOKEN is empty (README.md, Continuous deployment)}" "${GITHUB_ACTOR:?}"
registry="${IMAGE%%/*}"
timeout="${DEPLOY_TIMEOUT:-900}"
interval="${POLL_INTERVAL:-10}"

umask 077
ssh_dir="$(mktemp -d "${RUNNER_TEMP:-/tmp}/ssh.XXXXXX")"
trap 'rm -rf "$ssh_dir"' EXIT
printf '%s\n' "$DEPLOY_SSH_KEY" > "$ssh_dir/key"
printf '%s\n' "$DEPLOY_SSH_KNOWN_HOSTS" > "$ssh_dir/known_hosts"
ssh_opts=(-i "$ssh_dir/key" -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=20
          -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$ssh_dir/known_hosts"
          -o GlobalKnownHostsFile=/dev/null)
# The remote command is built here on purpose, its values quoted with printf %q.
# shellcheck disable=SC2029
remote() { ssh "${ssh_opts[@]}" "$DEPLOY_SSH_TARGET" "$1"; }

dir="$(printf '%q' "$DEPLOY_DIR")"
svc="$(printf '%q' "$SERVICE")"
remote "mkdir -p $dir/caddy"
remote "cat > $dir/docker-compose.yml" < docker-compose.yml
if [ -f caddy/Caddyfile ]; then
  remote "cat > $dir/caddy/Caddyfile" < caddy/Caddyfile
fi
printf 'services:\n  %s:\n    image: %s\n' "$SERVICE" "$IMAGE" \
  | remote "cat > $dir/docker-compose.override.yml"
printf '%s\n' "$REGISTRY_PULL_TOKEN" | remote "cd $dir && cfg=\$(mktemp -d) && \
trap 'rm -rf \"\$cfg\"' EXIT && trap 'exit 129' HUP INT TERM && \
DOCKER_CONFIG=\$cfg docker login $(printf '%q' "$registry") --username $(printf '%q' "$GITHUB_ACTOR") \
--password-stdin >/dev/null && DOCKER_CONFIG=\$cfg docker compose pull $svc && \
docker compose up -d --no-build --remove-orphans"
echo "deployed $IMAGE on $DEPLOY_SSH_TARGET:$DEPLOY_DIR; waiting for $SERVICE to be healthy"

deadline=$(( SECONDS + ${timeout%.*} ))
while :; do
  health="$(remote "cd $dir && docker compose ps --format '{{.Health}}' $svc" || true)"
  echo "$SERVICE: ${health:-no container}"
  case "$health" in
    healthy) break ;;
    unhealthy) echo "::error::$SERVICE is unhealthy: docker compose logs --tail 200 $SERVICE on the VM"; exit 1 ;;
  esac
  if (( SECONDS >= deadline )); then
    echo "::error::$SERVICE not healthy after ${timeout}s"; exit 1
  fi
  sleep "$interval"
done
if [ -n "${OPENCLAW_PUBLIC_URL:-}" ]; then
  python3 -m ops.wait_healthy "${OPENCLAW_PUBLIC_URL%/}/startupz"
fi
