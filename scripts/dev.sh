#!/usr/bin/env bash
# Development with live reload: `cargo leptos watch` rebuilds the server and the WASM on every
# change. Installs cargo-leptos (pinned; about 17 minutes on 2 cores, once) when it is missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
scripts/setup.sh
ensure_wasm_bindgen
if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (once)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi
exec cargo leptos watch "$@"
