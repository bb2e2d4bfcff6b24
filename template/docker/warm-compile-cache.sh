#!/bin/sh
# Image build step: fill Node's compile cache (NODE_COMPILE_CACHE, set in the Dockerfile) by
# starting the gateway once, so every container of this image starts warm (ops/data/openclaw.yml,
# compile_cache_image_dir).
#
#   warm-compile-cache.sh PORT SEED_CONFIG COMMAND...
#
# Runs as the gateway's user (the cache directory carries its uid: a cache written by another
# user is not read). The gateway gets a throwaway state dir, HOME and TMPDIR, a throwaway token,
# and listens on loopback; once /startupz says started it is stopped (the cache is written on a
# clean exit) and everything but the cache is removed. A start that fails does not fail the
# build: the image then starts cold, as without this step.
set -eu

port="$1" seed="$2"
shift 2
: "${NODE_COMPILE_CACHE:?NODE_COMPILE_CACHE must name the cache directory}"
log() { printf 'warm-compile-cache: %s\n' "$*" >&2; }

work="$(mktemp -d)"
mkdir -p "$work/state/workspace" "$work/home" "$work/tmp" "$NODE_COMPILE_CACHE"
cp "$seed" "$work/state/openclaw.json"
token="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"

started=0 status=0
(
  cd /app
  exec env HOME="$work/home" TMPDIR="$work/tmp" OPENCLAW_STATE_DIR="$work/state" \
    OPENCLAW_CONFIG_PATH="$work/state/openclaw.json" OPENCLAW_WORKSPACE_DIR="$work/state/workspace" \
    OPENCLAW_GATEWAY_TOKEN="$token" "$@" --port "$port" --bind loopback
) > "$work/gateway.log" 2>&1 &
gateway=$!
i=0
while [ "$i" -lt 600 ] && kill -0 "$gateway" 2>/dev/null; do
  if node /opt/openclaw-deploy/healthcheck.mjs "$port" /startupz > /dev/null 2>&1; then
    started=1
    break
  fi
  sleep 1
  i=$((i + 1))
done
kill -TERM "$gateway" 2>/dev/null || true
wait "$gateway" || status=$?
if [ "$started" = 1 ]; then
  log "gateway started in ~${i} s and stopped ($status); cache: $(du -sh "$NODE_COMPILE_CACHE" | cut -f1)"
else
  log "the gateway did not start (exit $status): the image starts with a cold cache. Its log:"
  tail -n 20 "$work/gateway.log" >&2 || true
fi
rm -rf "$work"
