#!/usr/bin/env bash
# Builds the site into target/site (the hydrate WASM + JS through wasm-bindgen and wasm-opt, the
# CSS, the public files) and then the server, which embeds that site (server/src/bundle.rs): release
# by default, `--debug-server` for a debug server. Prints the binary's size.
# This is what cargo-leptos does for a release build, in four commands, without its 17-minute
# install; scripts/dev.sh still uses cargo-leptos for live reloading.
# What needs no site runs in the background while the bundle compiles (on 2 cores the bundle's last
# crate, one long single-threaded optimisation, leaves a core idle): the wasm-bindgen CLI's install
# when it is missing, and the server's library; the binary is compiled once the site is there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

server_profile=release
[ "${1:-}" = "--debug-server" ] && server_profile=dev

mkdir -p target
run_bg wasm_bindgen target/wasm-bindgen-install.log ensure_wasm_bindgen
run_bg server_lib target/server-lib-build.log \
  cargo build --locked -p livedash-server --lib --profile "$server_profile"

# The link-time optimisation of the whole bundle runs in the `frontend` crate's rustc, so flags
# given to that one crate reach every crate's code; `-inline-threshold=0` keeps LLVM from inlining
# (bar `#[inline(always)]`) what the framework's many generic copies call: 294.9 -> 253.8 KiB
# gzipped (docs/wasm-size.md). The dependencies are built as before, so their cache still serves.
step "browser bundle (wasm32, size-optimised)" \
  cargo rustc --locked -p frontend --lib --crate-type cdylib --target wasm32-unknown-unknown \
  --profile wasm-release -- -C llvm-args=-inline-threshold=0

step "wasm-bindgen CLI (installed in the background)" wait_bg wasm_bindgen

site_files() {
  local site=target/site staging=target/site.new
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
  local wasm=$site/pkg/livedash_bg.wasm
  log "site ready: $(size_of "$wasm" KiB) wasm, $(size_of "$wasm.gz" KiB) gzipped"
}
step "site (wasm-bindgen, wasm-opt, gzip)" site_files

step "server library ($server_profile, built in the background)" wait_bg server_lib

out_dir=target/release
[ "$server_profile" = dev ] && out_dir=target/debug
# cargo recompiles the binary when a file it embedded changes, but a binary compiled before there
# was any target/site (a `cargo test` on a fresh clone) embedded none, so nothing tells cargo about
# the new site: its dep-info then names no site file, and touching main.rs recompiles the binary
# (only the binary: the library never reads the site). `cargo test` writes no livedash.d beside
# the binary it builds, so a missing one counts as naming no site file (seen on a fresh clone: the
# binary the tests built was Fresh to this build and served no site).
if ! grep -qs "target/site/" "$out_dir/livedash.d"; then
  touch server/src/main.rs
fi
step "server binary ($server_profile, commit ${LIVEDASH_COMMIT:-unknown}, the site embedded)" \
  cargo build --locked -p livedash-server --bin livedash --profile "$server_profile"
log "binary $out_dir/livedash: $(size_of "$out_dir/livedash" MiB) (the site embedded)"
