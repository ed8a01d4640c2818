#!/usr/bin/env bash
# What rule evaluation costs (a benchmark, not a test; loopback only, bounded, everything it
# starts is stopped by its process id): livedash relaying a real 200-series HTTP upstream every
# 100 ms (memory only, no store, so that only the alerts differ), with no configured rule (the
# implicit "source down" rule alone), with 50 rules that each watch every one of the 200 series
# (10,000 instances judged per sample) and never fire, and with the same 50 rules firing and
# resolving all the time, in turn, ROUNDS times; the server's CPU (utime + stime, % of one core)
# over SECONDS after a warm-up, per run, and the differences and ratios of the medians.
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

wide_upstream 39181 3 HTTP/1.1

source_table='[[source]]
name = "wide"
url = "http://127.0.0.1:39181/"
interval = "100ms"
'
printf '%s' "$source_table" >"$out/none.toml"
rules() { # BASE -> 50 rules over every series, the threshold of rule i at BASE + i
  printf '%s\n' "$source_table"
  for i in $(seq 0 49); do
    printf '[[alert]]\nname = "rule %d"\nsource = "wide"\nseries = "*"\nabove = %d\nclear = %d\nfor = "%ds"\nkeep_firing_for = "1s"\n\n' \
      "$i" "$(($1 + i))" "$(($1 - 5 + i))" "$((i % 5))"
  done
}
# Quiet: values (0 to 100) never reach the thresholds: the cost of judging 10,000 instances per sample.
rules 1000 >"$out/quiet.toml"
# Churning: thresholds across the values' range, so that thousands of instances go pending, fire and
# resolve all the time (and the alerts frame, listing them, is made again on nearly every sample).
rules 50 >"$out/churn.toml"

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

none=() quiet=() churn=()
for r in $(seq "$rounds"); do
  log "round $r/$rounds: no rules, 50 quiet rules, 50 churning rules (x 200 series), ${seconds}s each"
  none+=("$(run "none-$r" "$out/none.toml")")
  quiet+=("$(run "quiet-$r" "$out/quiet.toml")")
  churn+=("$(run "churn-$r" "$out/churn.toml")")
  log "  none ${none[-1]} %, quiet ${quiet[-1]} %, churning ${churn[-1]} % of a core"
done
python3 - "${none[*]}" "${quiet[*]}" "${churn[*]}" <<'PY' | tee "$out/result.json"
import json, statistics, sys
runs = [[float(x) for x in arg.split()] for arg in sys.argv[1:4]]
a, q, c = (statistics.median(r) for r in runs)
print(json.dumps({"series": 200, "interval_ms": 100, "rules": 50, "instances": 50 * 200,
                  "cpu_pct_of_core": {"none": runs[0], "quiet": runs[1], "churn": runs[2]},
                  "median": {"none": a, "quiet": q, "churn": c},
                  "added_points": {"quiet": round(q - a, 2), "churn": round(c - a, 2)},
                  "ratio": {"quiet": round(q / a, 3) if a else None, "churn": round(c / a, 3) if a else None}}))
PY
cat "$out"/churn-1.metrics
log "results in $out"
