#!/usr/bin/env bash
# Scale-out benchmark on loopback: N WebSocket clients against one livedash instance, then the
# same N split in halves over two instances that share their source through one Redis (each
# instance with half the clients), side by side in one sitting, with the Redis server's CPU and
# memory during the second run, the upstream's fetches per second in each, and then the failover
# time (median and maximum over KILLS kills of the fetching instance, from the cluster_failover
# test). Needs wsload (../shared/wsload/README.md), redis-server and a release build
# (scripts/build.sh). On one 2-core machine two instances do not add cores: the figures show what
# sharing through Redis costs, not what a second machine adds.
#
#   WSLOAD=path/to/wsload scripts/bench-cluster.sh [CLIENTS] [INTERVAL_MS] [SECONDS]
#
# KILLS=N (default 7) failovers to time; KILLS=0 skips them. BENCH_OUT names the results' folder
# (default target/bench-cluster).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bench-lib.sh"

clients=${1:-4000}
interval=${2:-100}
seconds=${3:-20}
wsload=$(wsload_binary)
livedash=${LIVEDASH:-target/release/livedash}
[ -x "$livedash" ] || die "no $livedash (run scripts/build.sh)"
command -v redis-server >/dev/null || die "no redis-server (scripts/setup.sh --tests installs it)"
password=bench-$RANDOM$RANDOM
out=${BENCH_OUT:-target/bench-cluster}
rm -rf "$out" && mkdir -p "$out"
fetches() { curl -s http://127.0.0.1:9100/__stats | grep -o '[0-9]\+' | head -1; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

"$wsload" upstream --addr 127.0.0.1:9100 --max-secs 900 >"$out/upstream.log" 2>&1 &
pids+=($!)
wait_port 9100
redis-server --bind 127.0.0.1 --port 9400 --save '' --appendonly no --loglevel warning >"$out/redis.log" 2>&1 &
redis=$!
pids+=($redis)
wait_port 9400
head -c 32 /dev/urandom | base64 >"$out/cluster.key"

serve() { # port [extra args...]: starts a release livedash relaying the upstream, prints its pid
  local port=$1
  shift
  LIVEDASH_ADMIN_PASSWORD=$password RUST_LOG=warn "$livedash" --listen "127.0.0.1:$port" \
    --source "up=http://127.0.0.1:9100/" --interval "${interval}ms" --max-connections-per-ip 100000 \
    --max-connections 100000 --max-http-connections-per-ip 100000 --data-dir "$out/data-$port" --store none "$@" \
    >"$out/livedash-$port.log" 2>&1 &
  local pid=$!
  wait_port "$port"
  echo "$pid"
}
measure() { # name port pid clients
  "$wsload" clients --url "ws://127.0.0.1:$2/ws" --user admin --pass "$password" --clients "$4" --ramp-secs 10 \
    --duration-secs "$seconds" --expect-interval-ms "$interval" --pid "$3" --ignore-frames '"type"\s*:\s*"hello"' \
    >"$out/$1.json"
}

log "one instance: $clients clients, ${interval} ms, ${seconds} s"
one=$(serve 9300)
pids+=("$one")
sleep 1
f0=$(fetches); t0=$(date +%s.%N)
measure one 9300 "$one" "$clients"
f1=$(fetches); t1=$(date +%s.%N)
kill "$one"
echo "$f0 $f1 $t0 $t1" >"$out/one.fetches"

log "two instances on one Redis: $((clients / 2)) clients each"
cluster=(--redis-url redis://127.0.0.1:9400 --cluster-key-file "$out/cluster.key" --redis-prefix bench)
a=$(serve 9301 "${cluster[@]}")
b=$(serve 9302 "${cluster[@]}")
pids+=("$a" "$b")
for port in 9301 9302; do
  for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/healthz" | grep -q '"cluster":"shared"' && break; sleep 0.1; done
done
sleep 1
f0=$(fetches); t0=$(date +%s.%N); r0=$(cpu_ticks "$redis")
measure two-a 9301 "$a" $((clients / 2)) &
wa=$!
measure two-b 9302 "$b" $((clients - clients / 2)) &
wb=$!
wait "$wa" "$wb"
f1=$(fetches); t1=$(date +%s.%N); r1=$(cpu_ticks "$redis")
echo "$f0 $f1 $t0 $t1" >"$out/two.fetches"
redis-cli -p 9400 info memory | tr -d '\r' | grep -E '^(used_memory|used_memory_peak|used_memory_rss):' >"$out/redis.memory"
redis-cli -p 9400 xlen bench:samples >"$out/redis.xlen"
python3 - "$r0" "$r1" "$t0" "$t1" "$(getconf CLK_TCK)" "$(awk '/VmHWM/ { print $2 }' "/proc/$redis/status")" \
  >"$out/redis.cpu" <<'PY'
import sys
r0, r1, t0, t1, hz, hwm = (float(x) for x in sys.argv[1:7])
print(f"{(r1 - r0) / hz / (t1 - t0) * 100:.1f} {hwm / 1024:.1f}")
PY

python3 - "$out" "$clients" "$interval" <<'PY'
import json, sys
out, clients, interval = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
one = json.load(open(f"{out}/one.json"))
a, b = (json.load(open(f"{out}/two-{x}.json")) for x in "ab")
def get(d, path):
    for k in path.split("."):
        d = d.get(k) if isinstance(d, dict) else None
    return d
def rate(name):
    f0, f1, t0, t1 = (float(x) for x in open(f"{out}/{name}.fetches").read().split())
    return (f1 - f0) / (t1 - t0)
mem = dict(line.split(":") for line in open(f"{out}/redis.memory").read().split())
redis_cpu, redis_hwm = open(f"{out}/redis.cpu").read().split()
rows = [
    ("clients connected", one["connected"], a["connected"] + b["connected"]),
    ("delivery ratio", one["delivery_ratio"], round((a["delivery_ratio"] * a["connected"] + b["delivery_ratio"] * b["connected"]) / max(1, a["connected"] + b["connected"]), 4)),
    ("latency p50 ms", get(one, "latency_ms.p50"), f'{get(a, "latency_ms.p50")} / {get(b, "latency_ms.p50")}'),
    ("latency p99 ms", get(one, "latency_ms.p99"), f'{get(a, "latency_ms.p99")} / {get(b, "latency_ms.p99")}'),
    ("server CPU % (sum)", get(one, "target.cpu_pct"), round(get(a, "target.cpu_pct") + get(b, "target.cpu_pct"), 1)),
    ("server RSS peak MiB (sum)", get(one, "target.rss_peak_mib"), round(get(a, "target.rss_peak_mib") + get(b, "target.rss_peak_mib"), 1)),
    ("upstream fetches / s", round(rate("one"), 2), round(rate("two"), 2)),
    ("machine busy %", get(one, "machine_cpu_busy_pct"), get(a, "machine_cpu_busy_pct")),
]
print(f"{clients} clients, {interval} ms; one instance vs two instances (half the clients each) on one Redis")
print(f"{'':28}{'one':>14}{'two + Redis':>20}")
for label, x, y in rows:
    print(f"{label:28}{str(x):>14}{str(y):>20}")
print(f"Redis during the two-instance run: CPU {redis_cpu} % of one core, RSS peak {redis_hwm} MiB, "
      f"used_memory {int(mem['used_memory']) / 2**20:.1f} MiB (peak {int(mem['used_memory_peak']) / 2**20:.1f} MiB), "
      f"stream length {open(f'{out}/redis.xlen').read().strip()} entries")
PY

kills=${KILLS:-7}
if [ "$kills" -gt 0 ]; then
  stop_all
  log "failover: $kills kills of the fetching instance (cluster_failover test, 1 s lease, 200 ms interval)"
  LIVEDASH_FAILOVER_KILLS=$kills cargo test --locked -q -p livedash-server --test cluster_failover -- --nocapture 2>&1 |
    grep -E "^failover" | tee "$out/failover.txt"
fi
