#!/usr/bin/env bash
# Micro-benchmarks of the server's hot paths, with criterion (a benchmark, not a test; no sockets,
# no other process): one sample fanned out to 100 and 1000 clients, a handshake with a warm
# credential cache, a WebSocket ticket check, flattening a JSON sample, and a batch written to
# the SQLite history store (a temporary file, removed after). What each measures:
# server/benches/hot_paths.rs. Reports and the last run's figures are kept in target/criterion/.
#
#   scripts/bench-micro.sh                     every benchmark (a few minutes)
#   scripts/bench-micro.sh ticket              those whose name contains `ticket`
#   scripts/bench-micro.sh fanout --quick      any criterion option after the filter
#                                              (`--warm-up-time 1 --measurement-time 2`, `--list`)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# `scripts/bench-micro.sh fanout -- --quick` means the same as without the `--`.
args=()
for arg in "$@"; do
  [ "$arg" = "--" ] || args+=("$arg")
done
exec cargo bench --locked -p livedash-server --bench hot_paths -- "${args[@]}"
