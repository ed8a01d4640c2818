#!/usr/bin/env bash
# The page's budgets, measured in headless Chromium on loopback (a benchmark, not a test): load to
# first value over ten page loads, and the main thread's busy share with a source of 200 series
# at 10 Hz beside the same page with its source stopped. Needs a release build (scripts/build.sh)
# and the end-to-end tools (scripts/setup.sh installs both). Prints JSON; BENCH_OUT keeps a copy.
#
#   scripts/bench-page.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -x "${LIVEDASH:-target/release/livedash}" ] || die "no ${LIVEDASH:-target/release/livedash} (run scripts/build.sh)"
[ -d end2end/node_modules ] || die "no end2end/node_modules (run scripts/setup.sh)"
out=${BENCH_OUT:-target/bench}
mkdir -p "$out"
(cd end2end && node bench/page.mjs) | tee "$out/page.json"
