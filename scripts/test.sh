#!/usr/bin/env bash
# One command for every check, from a fresh clone: installs what is missing, then formatting,
# clippy for the server build and the wasm32 hydrate build (warnings are errors), the unit and
# integration tests, 30 s of fuzzing the credential parsers, the security probes and promtool's
# check of /metrics against the built binary, the fleet benchmark's smoke run, and the browser tests
# in Debian's Chromium.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

scripts/setup.sh --tests

# A clean clone gains nothing from incremental builds, only tens of GB under target/ (CI once ran out
# of disk); a developer's own run keeps whatever they set.
if [ "${CI:-}" = "true" ]; then export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"; fi

log "formatting (cargo fmt --check)"
cargo fmt --all --check

log "clippy: server build (ssr)"
cargo clippy --locked --workspace --exclude frontend --all-targets -- -D warnings

log "clippy: browser build (hydrate, wasm32)"
cargo clippy --locked -p frontend -p app -p livedash --target wasm32-unknown-unknown -- -D warnings

log "unit and integration tests"
# The cluster tests start Debian's redis-server (installed above) on loopback ports: here a
# missing one is a failure, not a skip.
# Likewise Debian's libfaketime for the store's clock-jump test, and Debian's node_exporter for the
# fleet's figures checked against this machine's own.
LIVEDASH_REQUIRE_REDIS=1 LIVEDASH_REQUIRE_FAKETIME=1 LIVEDASH_REQUIRE_NODE_EXPORTER=1 \
  cargo test --locked --workspace --exclude frontend

log "fuzzing the credential and ticket parsers (30 s)"
mkdir -p target
if ! (cd fuzz && cargo fuzz run credentials --sanitizer none -- -max_total_time=30 -print_final_stats=1) \
    > target/fuzz.log 2>&1; then
  tail -n 60 target/fuzz.log
  die "the fuzzer found an input that breaks the parsers (fuzz/artifacts/credentials/)"
fi
grep -E "^Done|stat::number_of_executed_units" target/fuzz.log || true

scripts/build.sh --debug-server
log "the Debian package and its unit (scripts/test-package.sh)"
scripts/test-package.sh
# Writes a week of history for the browser tests' store-backed server, and serves the fleet spec's fake
# node_exporters (end2end/playwright.config.ts).
cargo build --locked -q -p livedash-server --example fill_store --example fake_exporter
log "security probes against the built binary (scripts/probe-security.sh)"
scripts/probe-security.sh target/debug/livedash

log "the /metrics exposition against Prometheus's linter (scripts/check-metrics.sh)"
scripts/check-metrics.sh target/debug/livedash

# The fleet benchmark's smoke run (20 fake node_exporter targets at 1 s, livedash beside Debian's
# Prometheus, about 30 s): it fails when a server did not fetch every target on time, so the
# benchmark command keeps working; its figures are not checked. The debug builds made above.
log "the fleet benchmark's smoke run (scripts/bench-fleet.sh --smoke)"
cargo build --locked -q -p livedash-server --example fake_exporter --example sub_bytes
LIVEDASH=target/debug/livedash FAKE_EXPORTER=target/debug/examples/fake_exporter SUB_BYTES=target/debug/examples/sub_bytes \
  scripts/bench-fleet.sh --smoke >target/bench-fleet-smoke.log 2>&1 ||
  { tail -n 30 target/bench-fleet-smoke.log; die "the fleet benchmark's smoke run failed"; }

# The benchmark's smoke run (50 clients for 3 s against the floor and the debug build), so that the
# benchmark command keeps working; its figures are not checked. It needs the wsload tool's source
# beside the project (../shared/wsload).
if [ -f ../shared/wsload/Cargo.toml ]; then
  log "the benchmark's smoke run (scripts/bench-all.sh --smoke)"
  LIVEDASH=target/debug/livedash scripts/bench-all.sh --smoke >target/bench-smoke.log 2>&1 ||
    { tail -n 30 target/bench-smoke.log; die "the benchmark's smoke run failed"; }
  grep -q '^| smoke | floor |' target/bench-smoke/RESULTS.md || die "the smoke run wrote no table"
else
  log "no ../shared/wsload: the benchmark's smoke run is skipped"
fi

log "browser tests (Playwright, Debian's Chromium)"
(cd end2end && npx playwright test)
log "all checks passed"
