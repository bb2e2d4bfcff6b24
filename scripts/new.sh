#!/usr/bin/env bash
# Generate a deploy repo from this checkout (its newest release tag, else HEAD; -r HEAD for the
# working copy): bash scripts/new.sh DEST [copier options], e.g.
#   bash scripts/new.sh my-gateway --defaults -d app_name=my-claw -d privacy=private
# It runs copier's own CLI (template/ops/copier_cli.py), except that an answer copier
# refuses (wrong type, not a choice, failed validator) prints one line,
# `error: <field>: <reason>`, instead of a Python traceback, and exits 1; nothing is written.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -lt 1 ] || [[ "$1" == -* ]]; then
  echo "usage: bash scripts/new.sh DEST [copier options, e.g. --defaults -d app_name=my-claw]" >&2
  exit 2
fi
dest="$1"; shift
# copier writes the files it can before it finds it needs an answer it cannot ask (no terminal):
# a non-empty destination is refused here, before anything is written, unless -w/--overwrite/-f.
overwrite=""
for arg in "$@"; do
  case "$arg" in -w|--overwrite|-f|--force) overwrite=1 ;; esac
done
if [ -z "$overwrite" ] && [ -d "$dest" ] && [ -n "$(ls -A "$dest")" ]; then
  echo "error: destination $dest is not empty: choose a new directory, or pass --overwrite to replace its files" >&2
  exit 1
fi
if [ -e "$dest" ] && [ ! -d "$dest" ]; then
  echo "error: destination $dest is a file, not a directory" >&2
  exit 1
fi
SETUP_LOCK=requirements-copier.lock  # copier and the extension only: the tests' stack is not needed
# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"
# --trust: the template loads its Jinja extension (extensions/openclaw.py).
exec python -c 'import sys; sys.path.append(sys.argv.pop(1)); from ops.copier_cli import main; sys.exit(main())' \
  "$ROOT/template" copy --trust "$@" "$ROOT" "$dest"
