#!/usr/bin/env bash
# One command for every check, from a fresh clone: installs what is missing, then formatting,
# clippy for the server build and the wasm32 hydrate build (warnings are errors), the unit and
# integration tests, and the browser tests in Debian's Chromium against a real server.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

scripts/setup.sh --tests

log "formatting (cargo fmt --check)"
cargo fmt --all --check

log "clippy: server build (ssr)"
cargo clippy --locked --workspace --exclude frontend --all-targets -- -D warnings

log "clippy: browser build (hydrate, wasm32)"
cargo clippy --locked -p frontend -p app -p livedash --target wasm32-unknown-unknown -- -D warnings

log "unit and integration tests"
cargo test --locked --workspace --exclude frontend

log "browser tests (Playwright, Debian's Chromium)"
scripts/build.sh --debug-server
(cd end2end && npx playwright test)
log "all checks passed"
