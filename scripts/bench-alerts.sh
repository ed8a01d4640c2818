#!/usr/bin/env bash
# What rule evaluation costs (a benchmark, not a test; loopback only, bounded, everything it
# starts is stopped by its process id): livedash relaying a real 200-series HTTP upstream every
# 100 ms (memory only, no store, so that only the alerts differ), once with no configured rule
# (the implicit "source down" rule alone) and once with 50 rules that each watch every one of the
# 200 series (10,000 instances stepped per sample: the worst case), alternating ROUNDS times;
# the server's CPU (utime + stime, % of one core) over SECONDS after a warm-up, per run, and the
# difference and ratio of the medians.
#
#   scripts/bench-alerts.sh [SECONDS] [ROUNDS]      (needs the release build: scripts/build.sh)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bench-lib.sh"

seconds=${1:-30}
rounds=${2:-3}
out=${BENCH_OUT:-target/bench/alerts}
bin=${LIVEDASH:-target/release/livedash}
[ -x "$bin" ] || die "no $bin (run scripts/build.sh)"
rm -rf "$out" && mkdir -p "$out"
pw=bench-$RANDOM$RANDOM

python3 - 39181 <<'PY' &
import http.server, json, random, sys
values = [random.random() * 100 for _ in range(200)]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        for i in range(200):
            values[i] = round(min(100.0, max(0.0, values[i] + random.uniform(-3, 3))), 2)
        body = json.dumps({f"s{i}_pct": v for i, v in enumerate(values)}).encode()
        self.send_response(200); self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
pids+=($!)
wait_port 39181 300

source_table='[[source]]
name = "wide"
url = "http://127.0.0.1:39181/"
interval = "100ms"
'
printf '%s' "$source_table" >"$out/none.toml"
{
  printf '%s\n' "$source_table"
  for i in $(seq 0 49); do
    # Thresholds spread over the values' range, so that instances go pending, fire and resolve.
    printf '[[alert]]\nname = "rule %d"\nsource = "wide"\nseries = "*"\nabove = %d\nclear = %d\nfor = "%ds"\nkeep_firing_for = "1s"\n\n' \
      "$i" "$((50 + i))" "$((45 + i))" "$((i % 5))"
  done
} >"$out/rules.toml"

run() { # name config -> prints the % of one core
  local name=$1 config=$2
  LIVEDASH_ADMIN_PASSWORD=$pw RUST_LOG=warn "$bin" --listen 127.0.0.1:39182 --data-dir "$out/data" --store none \
    --config "$config" >"$out/$name.log" 2>&1 &
  local pid=$!
  pids+=($pid)
  wait_port 39182 300
  sleep 5
  local t0 t1
  t0=$(awk '{print $14+$15}' /proc/"$pid"/stat)
  sleep "$seconds"
  t1=$(awk '{print $14+$15}' /proc/"$pid"/stat)
  curl -s -u "admin:$pw" http://127.0.0.1:39182/metrics | grep -E '^livedash_alert' >"$out/$name.metrics" || true
  kill "$pid"; wait "$pid" 2>/dev/null || true
  python3 -c "import sys; print(f'{100 * int(sys.argv[1]) / int(sys.argv[2]) / int(sys.argv[3]):.2f}')" \
    "$((t1 - t0))" "$(getconf CLK_TCK)" "$seconds"
}

none=() rules=()
for r in $(seq "$rounds"); do
  log "round $r/$rounds: no rules, then 50 rules x 200 series, ${seconds}s each"
  none+=("$(run "none-$r" "$out/none.toml")")
  rules+=("$(run "rules-$r" "$out/rules.toml")")
  log "  none ${none[-1]} %, rules ${rules[-1]} % of a core"
done
python3 - "${none[*]}" "${rules[*]}" <<'PY' | tee "$out/result.json"
import json, statistics, sys
none = [float(x) for x in sys.argv[1].split()]
rules = [float(x) for x in sys.argv[2].split()]
a, b = statistics.median(none), statistics.median(rules)
print(json.dumps({"series": 200, "interval_ms": 100, "rules": 50, "instances": 50 * 200,
                  "cpu_pct_of_core_none": none, "cpu_pct_of_core_rules": rules,
                  "median_none": a, "median_rules": b, "added_points": round(b - a, 2),
                  "ratio": round(b / a, 3) if a else None}))
PY
cat "$out"/rules-1.metrics
log "results in $out"
