#!/usr/bin/env bash
# One command for every check, from a fresh clone: installs what is missing, then formatting,
# clippy for the server build and the wasm32 hydrate build (warnings are errors), the unit and
# integration tests, 30 s of fuzzing the credential parsers, the security probes and promtool's
# check of /metrics against the built binary, the fleet benchmark's smoke run, and the browser tests
# in Debian's Chromium. Prints how long each step took at the end (also when one fails).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

step "tools (scripts/setup.sh --tests)" scripts/setup.sh --tests

# A clean clone gains nothing from incremental builds, only tens of GB under target/ (CI once ran out
# of disk); a developer's own run keeps whatever they set.
if [ "${CI:-}" = "true" ]; then export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"; fi

step "formatting (cargo fmt --check)" cargo fmt --all --check
step "clippy: server build (ssr)" \
  cargo clippy --locked --workspace --exclude frontend --all-targets -- -D warnings
step "clippy: browser build (hydrate, wasm32)" \
  cargo clippy --locked -p frontend -p app -p livedash --target wasm32-unknown-unknown -- -D warnings

# The cluster tests start Debian's redis-server (installed above) on loopback ports: here a
# missing one is a failure, not a skip.
# Likewise Debian's libfaketime for the store's clock-jump test, and Debian's node_exporter for the
# fleet's figures checked against this machine's own.
export LIVEDASH_REQUIRE_REDIS=1 LIVEDASH_REQUIRE_FAKETIME=1 LIVEDASH_REQUIRE_NODE_EXPORTER=1
# The examples are built here too (cargo test builds them), with the features the binary below has.
step "unit and integration tests: build" cargo test --locked --workspace --exclude frontend --no-run
# Most tests wait on real servers and timers, not on the CPU: cargo-nextest (on this kind of machine)
# runs the test binaries side by side instead of one after another; `cargo test` runs them when it is
# missing. The doc tests are run by `cargo test --doc` (nextest does not run them).
run_tests() {
  if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --locked --workspace --exclude frontend --profile ci
    cargo test --locked --workspace --exclude frontend --doc
  else
    cargo test --locked --workspace --exclude frontend
  fi
}
step "unit and integration tests: run" run_tests

fuzz() {
  mkdir -p target
  if ! (cd fuzz && cargo fuzz run credentials --sanitizer none -- -max_total_time=30 -print_final_stats=1) \
      > target/fuzz.log 2>&1; then
    tail -n 60 target/fuzz.log
    die "the fuzzer found an input that breaks the parsers (fuzz/artifacts/credentials/)"
  fi
  grep -E "^Done|stat::number_of_executed_units" target/fuzz.log || true
}
step "fuzzing the credential and ticket parsers (build + 30 s)" fuzz

step "site and debug server (scripts/build.sh --debug-server)" scripts/build.sh --debug-server
step "the Debian package and its unit (scripts/test-package.sh)" scripts/test-package.sh
# Writes a week of history for the browser tests' store-backed server, and serves the fleet spec's fake
# node_exporters (end2end/playwright.config.ts); the fleet smoke run's tools. All built by the tests'
# build above: this only checks that they are there and fresh.
step "examples (fill_store, fake_exporter, sub_bytes)" \
  cargo build --locked -q -p livedash-server --example fill_store --example fake_exporter --example sub_bytes

step "security probes against the built binary (scripts/probe-security.sh)" \
  scripts/probe-security.sh target/debug/livedash
step "the /metrics exposition against Prometheus's linter (scripts/check-metrics.sh)" \
  scripts/check-metrics.sh target/debug/livedash

# The fleet benchmark's smoke run (20 fake node_exporter targets at 1 s, livedash beside Debian's
# Prometheus, about 30 s): it fails when a server did not fetch every target on time, so the
# benchmark command keeps working; its figures are not checked. The debug builds made above.
fleet_smoke() {
  LIVEDASH=target/debug/livedash FAKE_EXPORTER=target/debug/examples/fake_exporter SUB_BYTES=target/debug/examples/sub_bytes \
    scripts/bench-fleet.sh --smoke >target/bench-fleet-smoke.log 2>&1 ||
    { tail -n 30 target/bench-fleet-smoke.log; die "the fleet benchmark's smoke run failed"; }
}
step "the fleet benchmark's smoke run (scripts/bench-fleet.sh --smoke)" fleet_smoke

# The benchmark's smoke run (50 clients for 3 s against the floor and the debug build), so that the
# benchmark command keeps working; its figures are not checked. It needs the wsload tool's source
# beside the project (../shared/wsload).
bench_smoke() {
  LIVEDASH=target/debug/livedash scripts/bench-all.sh --smoke >target/bench-smoke.log 2>&1 ||
    { tail -n 30 target/bench-smoke.log; die "the benchmark's smoke run failed"; }
  grep -q '^| smoke | floor |' target/bench-smoke/RESULTS.md || die "the smoke run wrote no table"
}
if [ -f ../shared/wsload/Cargo.toml ]; then
  step "the benchmark's smoke run (scripts/bench-all.sh --smoke)" bench_smoke
else
  log "no ../shared/wsload: the benchmark's smoke run is skipped"
fi

step "browser tests (Playwright, Debian's Chromium)" env -C end2end npx playwright test
log "all checks passed"
