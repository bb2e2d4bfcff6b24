#!/usr/bin/env bash
# CI only (.github/workflows/deploy.yml): deploy the pushed image on the VM.
#
# SSH uses the key in DEPLOY_SSH_KEY and ONLY the host key pinned in
# DEPLOY_SSH_KNOWN_HOSTS (StrictHostKeyChecking=yes: an unknown or changed host
# key stops the deploy). On the VM, in ~/DEPLOY_DIR: the compose files from this
# commit, docker-compose.override.yml naming IMAGE for SERVICE, then
# `docker compose pull` - no source checkout or build there.
# The VM gets a read-only pull credential (REGISTRY_PULL_TOKEN, never the job's
# token, which can push), over stdin to `docker login` into a throwaway docker
# config dir there, removed when the remote shell ends - also when it is cut
# off (hang-up) - so no credential stays in ~/.docker/config.json. Then the safe
# upgrade (ops/safe_upgrade.py, the Compose room in ops/platforms/compose.py), over
# the same ssh: when the running image differs, a pre-update backup (kept on this
# runner for the rollback; with ENCRYPT_TO, also encrypted to backup_recipient there for
# the artifact), `docker compose up -d`, a wait until the container is healthy (its own
# health check asserts the gateway's JSON) and the new release reports started; on a
# failure the previous image back in the override AND that backup restored, and the job
# fails. When OPENCLAW_PUBLIC_URL is set, then a wait until https://.../startupz answers
# the started JSON. .env (secrets) stays on the VM, written there once by `make secrets`.
set -euo pipefail
: "${DEPLOY_SSH_KEY:?DEPLOY_SSH_KEY is empty}" "${DEPLOY_SSH_KNOWN_HOSTS:?DEPLOY_SSH_KNOWN_HOSTS is empty}"
: "${DEPLOY_SSH_TARGET:?DEPLOY_SSH_TARGET is empty}" "${IMAGE:?}" "${DEPLOY_DIR:?}" "${SERVICE:?}"
: "${REGISTRY_PULL_TOKEN:?REGISTRY_PULL_TOKEN is empty (README.md, Continuous deployment)}" "${GITHUB_ACTOR:?}"
registry="${IMAGE%%/*}"

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
--password-stdin >/dev/null && DOCKER_CONFIG=\$cfg docker compose pull $svc"
echo "pulled $IMAGE on $DEPLOY_SSH_TARGET:$DEPLOY_DIR; deploying it with a way back"

py=python3
if [ -x .venv/bin/python ]; then py=.venv/bin/python; fi  # make venv, the step before
"$py" -m ops.safe_upgrade compose --image "$IMAGE" --service "$SERVICE" --dir "$DEPLOY_DIR" \
  --ssh-target "$DEPLOY_SSH_TARGET" --ssh-key "$ssh_dir/key" --known-hosts "$ssh_dir/known_hosts" \
  --backups "$ssh_dir/backups" --encrypt-to "${ENCRYPT_TO:-}" \
  || { echo "::error::$SERVICE was not upgraded (the lines above say what was rolled back)"; exit 1; }
if [ -n "${OPENCLAW_PUBLIC_URL:-}" ]; then
  python3 -m ops.wait_healthy "${OPENCLAW_PUBLIC_URL%/}/startupz"
fi
