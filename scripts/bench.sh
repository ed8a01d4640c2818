#!/usr/bin/env bash
# Load benchmark on loopback: N WebSocket clients against livedash (relaying wsload's fake
# upstream at a fixed interval) and against `wsload serve` (the floor), one after the other in
# the same sitting, and the ratios between the two. Needs the wsload tool (see
# ../shared/wsload/README.md) and a release build (scripts/build.sh).
#
#   WSLOAD=path/to/wsload scripts/bench.sh [CLIENTS] [INTERVAL_MS] [SECONDS]
#
# LIVEDASH=path/to/livedash measures another build (an older commit's, to compare); BENCH_OUT
# names the folder the results go to (default target/bench). For a reconnect storm against a
# full history: RAMP=0 (every client at once), PAD=2000 (bytes added to each upstream sample),
# WARM=60 (seconds livedash fills its history before the clients come).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bench-lib.sh"

clients=${1:-1000}
interval=${2:-100}
seconds=${3:-20}
wsload=$(wsload_binary)
livedash=${LIVEDASH:-target/release/livedash}
[ -x "$livedash" ] || die "no $livedash (run scripts/build.sh)"
password=bench-$RANDOM$RANDOM
out=${BENCH_OUT:-target/bench}
mkdir -p "$out"

ramp=${RAMP:-10}
warm=${WARM:-1}
"$wsload" upstream --addr 127.0.0.1:9100 --max-secs 900 --pad-bytes "${PAD:-0}" >"$out/upstream.log" 2>&1 &
pids+=($!)
wait_port 9100

measure() { # name url pid [extra clients args...]
  local name=$1 url=$2 pid=$3
  shift 3
  log "$name: $clients clients, ${interval} ms, ${seconds} s"
  "$wsload" clients --url "$url" --user admin --pass "$password" --clients "$clients" --ramp-secs "$ramp" \
    --duration-secs "$seconds" --expect-interval-ms "$interval" --pid "$pid" "$@" | tee "$out/$name.json"
}

"$wsload" serve --addr 127.0.0.1:9200 --interval-ms "$interval" --user admin --pass "$password" >"$out/floor.log" 2>&1 &
floor=$!
pids+=($floor)
wait_port 9200
measure floor ws://127.0.0.1:9200/ws "$floor"
kill "$floor"

LIVEDASH_ADMIN_PASSWORD=$password RUST_LOG=warn "$livedash" --listen 127.0.0.1:9300 \
  --source "up=http://127.0.0.1:9100/" --interval "${interval}ms" --max-connections-per-ip 100000 \
  --max-connections 100000 --max-http-connections-per-ip 100000 --data-dir "$out/data" >"$out/livedash.log" 2>&1 &
server=$!
pids+=($server)
wait_port 9300
sleep "$warm"
measure livedash ws://127.0.0.1:9300/ws "$server" --ignore-frames '"type"\s*:\s*"hello"'

python3 - "$out/floor.json" "$out/livedash.json" <<'PY'
import json, sys
floor, dash = (json.load(open(p)) for p in sys.argv[1:3])
def get(d, path):
    for k in path.split("."):
        d = d.get(k) if isinstance(d, dict) else None
    return d
rows = [("connected", "connected"), ("delivery_ratio", "delivery_ratio"), ("msgs/s", "msgs_per_sec"),
        ("latency p50 ms", "latency_ms.p50"), ("latency p99 ms", "latency_ms.p99"),
        ("server CPU %", "target.cpu_pct"), ("server RSS peak MiB", "target.rss_peak_mib"),
        ("machine busy %", "machine_cpu_busy_pct")]
print(f"{'':20}{'floor':>12}{'livedash':>12}{'ratio':>8}")
for label, path in rows:
    f, d = get(floor, path), get(dash, path)
    ratio = f"{d / f:.2f}" if isinstance(f, (int, float)) and isinstance(d, (int, float)) and f else "-"
    print(f"{label:20}{str(f):>12}{str(d):>12}{ratio:>8}")
PY
