#!/bin/sh
# Build-time installer for pinned CLI release assets (runs in the image build).
#
#   install-binaries.sh <binaries.tsv> <binaries.lock> <arch> <outdir>
#
# binaries.tsv: name, version, asset URL, checksums URL, binary (tab-separated;
# "{arch}" in URLs is replaced). Each asset must match the sha256 recorded in
# binaries.lock for <name> <arch> when there is one (scripts/pin-binaries.sh),
# else the line for it in the release's published checksums file. Any
# mismatch or missing checksum fails the build, naming the asset.
#
# RELEASES_URL (default https://github.com) replaces that prefix of every URL:
# a mirror of the release host (the tests use a loopback server).
set -eu
default_host="https://github.com"
releases="${RELEASES_URL:-$default_host}"
tsv="$1" lock="$2" arch="$3" out="$4"
work="$(mktemp -d)"
tab="$(printf '\t')"

while IFS="$tab" read -r name version url sums binary; do
  case "$name" in ''|'#'*) continue ;; esac
  asset_url="$(printf '%s' "$url" | sed "s/{arch}/$arch/g")"
  case "$asset_url" in "$default_host"/*) asset_url="$releases${asset_url#"$default_host"}" ;; esac
  case "$sums" in "$default_host"/*) sums="$releases${sums#"$default_host"}" ;; esac
  asset="${asset_url##*/}"
  echo "install-binaries: $name $version ($arch)"
  curl -fsSL --retry 3 -o "$work/$asset" "$asset_url"
  pinned="$(awk -v n="$name" -v a="$arch" '$1 == n && $2 == a { print $3 }' "$lock" 2>/dev/null || true)"
  if [ -n "$pinned" ]; then
    echo "$pinned  $work/$asset" | sha256sum -c - ||
      { echo "install-binaries: $asset does not match its sha256 in binaries.lock ($pinned)" >&2; exit 1; }
  else
    curl -fsSL --retry 3 -o "$work/$name.sums" "$sums"
    expected="$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1 }' "$work/$name.sums")"
    [ -n "$expected" ] || { echo "install-binaries: $asset is not in $sums" >&2; exit 1; }
    echo "$expected  $work/$asset" | sha256sum -c - ||
      { echo "install-binaries: $asset does not match its sha256 in ${sums##*/} ($expected)" >&2; exit 1; }
  fi
  tar -xzf "$work/$asset" -C "$work" "$binary"
  install -m 0755 "$work/$binary" "$out/$binary"
done < "$tsv"
rm -rf "$work"
