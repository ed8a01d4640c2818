#!/usr/bin/env bash
# Builds the site into target/site (the hydrate WASM + JS through wasm-bindgen and wasm-opt, the
# CSS, the public files) and then the server, which embeds that site (server/src/bundle.rs): release
# by default, `--debug-server` for a debug server. Prints the binary's size.
# This is what cargo-leptos does for a release build, in four commands, without its 17-minute
# install; scripts/dev.sh still uses cargo-leptos for live reloading.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

server_profile=release
[ "${1:-}" = "--debug-server" ] && server_profile=dev

log "building the browser bundle (wasm32, size-optimised)"
# The link-time optimisation of the whole bundle runs in the `frontend` crate's rustc, so flags
# given to that one crate reach every crate's code; `-inline-threshold=0` keeps LLVM from inlining
# (bar `#[inline(always)]`) what the framework's many generic copies call: 294.9 -> 253.8 KiB
# gzipped (docs/wasm-size.md). The dependencies are built as before, so their cache still serves.
cargo rustc --locked -p frontend --lib --crate-type cdylib --target wasm32-unknown-unknown \
  --profile wasm-release -- -C llvm-args=-inline-threshold=0

site=target/site
staging=target/site.new
rm -rf "$staging"
mkdir -p "$staging/pkg"
wasm-bindgen --target web --no-typescript --out-dir "$staging/pkg" --out-name livedash \
  target/wasm32-unknown-unknown/wasm-release/frontend.wasm
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-reference-types \
  --enable-sign-ext --enable-mutable-globals --enable-multivalue \
  "$staging/pkg/livedash_bg.wasm" -o "$staging/pkg/livedash_bg.wasm"
cp style/main.css "$staging/pkg/livedash.css"
cp -R public/. "$staging/"
# Pre-compressed copies: the server sends them to browsers that accept gzip.
for f in "$staging"/pkg/livedash_bg.wasm "$staging"/pkg/livedash.js "$staging"/pkg/livedash.css; do
  gzip -9 -k -f "$f"
done
rm -rf "$site"
mv "$staging" "$site"
wasm=$site/pkg/livedash_bg.wasm
# Sizes in KiB of the files' bytes (du would round up to whole disk blocks).
kib() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }
log "site ready: $(kib "$wasm") wasm, $(kib "$wasm.gz") gzipped"

out_dir=target/release
[ "$server_profile" = dev ] && out_dir=target/debug
# cargo recompiles the binary when a file it embedded changes, but a binary compiled before there
# was any target/site (a `cargo test` on a fresh clone) embedded none, so nothing tells cargo about
# the new site: its dep-info then names no site file, and touching main.rs recompiles the binary
# (only the binary: the library never reads the site).
if [ -f "$out_dir/livedash.d" ] && ! grep -q "target/site/" "$out_dir/livedash.d"; then
  touch server/src/main.rs
fi
log "building the server ($server_profile, commit ${LIVEDASH_COMMIT:-unknown})"
cargo build --locked -p livedash-server --bin livedash --profile "$server_profile"
mib() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
log "binary $out_dir/livedash: $(mib "$out_dir/livedash") (the site embedded)"
