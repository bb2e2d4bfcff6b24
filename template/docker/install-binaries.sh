#!/bin/sh
# Build-time installer for pinned CLI release assets (runs in the image build).
#
#   install-binaries.sh <binaries.tsv> <binaries.lock> <arch> <outdir>
#
# binaries.tsv (generated from ops/data/binaries.yml): name, version, asset
# path, checksums path, binary -- tab-separated, paths relative to the release
# host, "{arch}" replaced by <arch>. The host is $BINARIES_BASE_URL (the
# Dockerfile build ARG of the same name; default https://github.com).
#
# binaries.lock: "<name> <version> <arch> <sha256>" lines. Every asset must
# match its line; a CLI without a line for its version and <arch> is refused
# (run scripts/pin-binaries.sh), so a replaced release cannot slip in.
set -eu
tsv="$1" lock="$2" arch="$3" out="$4"
base="${BINARIES_BASE_URL:-https://github.com}"
base="${base%/}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tab="$(printf '\t')"

while IFS="$tab" read -r name version path _sums binary; do
  case "$name" in ''|'#'*) continue ;; esac
  asset_path="$(printf '%s' "$path" | sed "s/{arch}/$arch/g")"
  asset="${asset_path##*/}"
  pinned="$(awk -v n="$name" -v v="$version" -v a="$arch" \
    '$1 == n && $2 == v && $3 == a { print $4 }' "$lock" 2>/dev/null || true)"
  if [ -z "$pinned" ]; then
    echo "install-binaries: REFUSED $name $version ($arch): binaries.lock has no sha256 for $asset." >&2
    echo "install-binaries: pin it on your machine with: scripts/pin-binaries.sh   (then commit binaries.lock)" >&2
    exit 1
  fi
  echo "install-binaries: $name $version ($arch): $asset"
  curl -fsSL --retry 3 -o "$work/$asset" "$base/$asset_path"
  actual="$(sha256sum "$work/$asset" | cut -d' ' -f1)"
  if [ "$actual" != "$pinned" ]; then
    echo "install-binaries: REFUSED $asset: sha256 $actual is not the $pinned recorded in binaries.lock" >&2
    echo "install-binaries: the release asset changed; check upstream before re-pinning with scripts/pin-binaries.sh" >&2
    exit 1
  fi
  echo "install-binaries: $asset sha256 matches binaries.lock"
  tar -xzf "$work/$asset" -C "$work" "$binary"
  install -m 0755 "$work/$binary" "$out/$binary"
done < "$tsv"
