#!/usr/bin/env bash
# The history store, measured (a benchmark, not a test; loopback only, bounded, everything it
# starts is stopped by its process id):
#   1. bytes per point on disk at full resolution, for this machine's series and for a 200-series
#      JSON source, sampled every second for 24 h (synthetic history written by the fill_store
#      example, as the store keeps it);
#   2. the writer's CPU, as % of one core, while livedash keeps the local source and a real
#      200-series HTTP upstream, both every second, for SECONDS;
#   3. a 30-day query of one series through GET /api/history (p50/p99 of 50);
#   4. start-up time (to /healthz, and to the first hello) on a store of about 1 GiB.
#
#   scripts/bench-store.sh [SECONDS]      (needs the release build: scripts/build.sh)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bench-lib.sh"

seconds=${1:-60}
out=${BENCH_OUT:-target/bench/store}
bin=${LIVEDASH:-target/release/livedash}
[ -x "$bin" ] || die "no $bin (run scripts/build.sh)"
cargo build --release --locked -q -p livedash-server --example fill_store
fill=${CARGO_TARGET_DIR:-target}/release/examples/fill_store
rm -rf "$out" && mkdir -p "$out"
pw=bench-$RANDOM$RANDOM

log "1. bytes per point (24 h at 1 s, synthetic)"
"$fill" "$out/local.db" local 24h | tee "$out/size-local.json"
"$fill" "$out/wide.db" wide:200 24h | tee "$out/size-wide.json"
python3 - "$out/local.db" "$out/wide.db" <<'PY' | tee "$out/size-tiers.txt"
import sqlite3, sys
for path in sys.argv[1:]:
    db = sqlite3.connect(path)
    for tier, n, b in db.execute("SELECT tier, sum(count), sum(length(data)) FROM chunk GROUP BY tier"):
        print(f"{path}: tier {tier}: {n} points/buckets, {b} bytes of chunks, {b / n:.2f} bytes each")
    pages = db.execute("PRAGMA page_count").fetchone()[0] * db.execute("PRAGMA page_size").fetchone()[0]
    raw = db.execute("SELECT sum(count) FROM chunk WHERE tier = 0").fetchone()[0]
    print(f"{path}: whole file {pages} bytes = {pages / raw:.2f} bytes per raw point, roll-ups and SQLite's pages included")
PY

log "2. writer CPU for ${seconds}s: local + a 200-series upstream, both every second"
wide_upstream 39171 2
LIVEDASH_ADMIN_PASSWORD=$pw RUST_LOG=warn "$bin" --listen 127.0.0.1:39172 --data-dir "$out/data" \
  --source local --source wide=http://127.0.0.1:39171/ >/dev/null 2>&1 &
pid=$!
pids+=($pid)
wait_port 39172 300
sleep 3
ticks() { # utime+stime of the writer thread, and of the whole process
  local writer=0
  for t in /proc/"$pid"/task/*; do
    if [ "$(cat "$t/comm")" = history-writer ]; then writer=$(awk '{print $14+$15}' "$t/stat"); fi
  done
  echo "$writer $(awk '{print $14+$15}' /proc/"$pid"/stat)"
}
read -r w0 p0 < <(ticks)
sleep "$seconds"
read -r w1 p1 < <(ticks)
hz=$(getconf CLK_TCK)
points=$(curl -s -u "admin:$pw" http://127.0.0.1:39172/metrics | awk '/^livedash_store_points_written_total/ {print $2}')
python3 -c "import sys; w,p,s,hz,pts=map(float,sys.argv[1:]); print(f'writer {100*w/hz/s:.2f} % of a core, whole server {100*p/hz/s:.2f} %, {pts:.0f} points written in all')" \
  "$((w1 - w0))" "$((p1 - p0))" "$seconds" "$hz" "${points:-0}" | tee "$out/writer-cpu.txt"
kill "$pid"; wait "$pid" 2>/dev/null || true

log "3. a 30-day query of one series (50 requests)"
"$fill" "$out/month.db" local 30d | tee "$out/size-month.json"
LIVEDASH_ADMIN_PASSWORD=$pw RUST_LOG=warn "$bin" --listen 127.0.0.1:39173 --data-dir "$out/data3" \
  --store "$out/month.db" >/dev/null 2>&1 &
pid=$!
pids+=($pid)
wait_port 39173 300
for _ in $(seq 50); do
  curl -s -o /dev/null -w '%{time_total}\n' -u "admin:$pw" \
    "http://127.0.0.1:39173/api/history?source=synthetic&series=cpu_pct&from=now-30d&points=1000"
done | sort -n | awk '{a[NR]=$1} END {printf "30-day query: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", a[int(NR*0.5)]*1000, a[int(NR*0.99)]*1000, a[NR]*1000}' \
  | tee "$out/query.txt"
kill "$pid"; wait "$pid" 2>/dev/null || true

log "4. start-up on a store of about 1 GiB"
"$fill" "$out/big.db" wide:200 30d 30d | tee "$out/size-big.json"
start=$(date +%s%N)
LIVEDASH_ADMIN_PASSWORD=$pw RUST_LOG=warn "$bin" --listen 127.0.0.1:39174 --data-dir "$out/data4" \
  --store "$out/big.db" >/dev/null 2>&1 &
pid=$!
pids+=($pid)
wait_port 39174 300
ready=$(date +%s%N)
curl -s -o /dev/null -u "admin:$pw" http://127.0.0.1:39174/api/snapshot
hello=$(date +%s%N)
echo "start-up on $(du -h "$out/big.db" | cut -f1): listening after $(( (ready - start) / 1000000 )) ms, first snapshot after $(( (hello - start) / 1000000 )) ms" \
  | tee "$out/startup.txt"
kill "$pid"; wait "$pid" 2>/dev/null || true
rm -f "$out"/*.db "$out"/*.db-*
log "results in $out"
