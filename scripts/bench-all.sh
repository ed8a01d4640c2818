#!/usr/bin/env bash
# The benchmark, in one sitting on loopback: every scenario against the floor (`wsload serve`, a
# bare broadcast server) and then against livedash (release build, relaying wsload's fake
# upstream at the same interval), and a Markdown table of the absolute figures and their ratios
# to the floor, with the machine's load, written to bench/RESULTS.md (raw JSON in
# target/bench-all/), keeping the sections that scripts/bench-history.sh and bench-fleet.sh write there.
# Not part of the test command: it takes about 15 minutes, plus the soak.
#
#   scripts/bench-all.sh            every scenario, the soak for SOAK_SECS (default 3600)
#   SOAK_SECS=0 scripts/bench-all.sh   without the soak
#   scripts/bench-all.sh --smoke    50 clients for 3 s, one scenario, into target/bench-smoke/
#   scripts/bench-all.sh --report   the results file again from the raw figures of the last run
#                                   (SOAK_SECS as that run had it)
#                                   (the test command runs it so that this script keeps working)
#
# Scenarios: 1000 and 5000 clients at 10 Hz, 10,000 connecting at once, 18,000 at 1 Hz, 5000 at
# 10 Hz with the history store on, the same split over two instances on one Redis, and the soak
# (5000 clients, RSS every minute). Needs wsload (../shared/wsload, built here if missing) and
# redis-server; builds livedash in release unless LIVEDASH names a binary.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bench-lib.sh"

smoke=false
report_only=false
[ "${1:-}" = "--smoke" ] && smoke=true
[ "${1:-}" = "--report" ] && report_only=true
wsload=$(wsload_binary)
livedash=${LIVEDASH:-}
if [ -z "$livedash" ] && ! $report_only; then
  scripts/build.sh >/dev/null
  livedash=target/release/livedash
fi
command -v redis-server >/dev/null || die "no redis-server (scripts/setup.sh --tests installs it)"

if $smoke; then
  out=target/bench-smoke
  results=$out/RESULTS.md
  scenarios=("smoke|50|100|3|1|plain")
  soak=0
else
  out=target/bench-all
  results=bench/RESULTS.md
  # name|clients|interval ms|seconds|ramp s|kind
  scenarios=(
    "1000 x 10 Hz|1000|100|20|5|plain"
    "5000 x 10 Hz|5000|100|20|10|plain"
    "10,000 at once|10000|100|20|0|plain"
    "18,000 x 1 Hz|18000|1000|30|20|plain"
    "5000 x 10 Hz, history store on|5000|100|20|10|store"
    "5000 x 10 Hz, two instances on Redis|5000|100|20|10|cluster"
  )
  soak=${SOAK_SECS:-3600}
fi
# Everything that runs, as one function (not indented: it holds heredocs).
run_all() {
rm -rf "$out" && mkdir -p "$out"
password=bench-$RANDOM$RANDOM
until_gone() { while kill -0 "$1" 2>/dev/null; do sleep 0.1; done; }

"$wsload" upstream --addr 127.0.0.1:9100 --max-secs 90000 >"$out/upstream.log" 2>&1 &
pids+=($!)
wait_port 9100
redis-server --bind 127.0.0.1 --port 9400 --save '' --appendonly no --loglevel warning >"$out/redis.log" 2>&1 &
pids+=($!)
wait_port 9400
head -c 32 /dev/urandom | base64 >"$out/cluster.key"

rss_mib() { awk '/VmRSS/ { printf "%.2f", $2 / 1024 }' "/proc/$1/status"; }
clients_run() { # file url clients interval seconds ramp pid
  # The server's RSS before the clients come (for livedash, before its first login: see
  # livedash_on), kept beside the run's figures (`.start`): RSS per client is measured from it.
  # And its RSS a second before the clients stop, every one connected (`.end`).
  if [ -f "$out/idle-$7" ]; then cp "$out/idle-$7" "$1.start"; else rss_mib "$7" >"$1.start"; fi
  (sleep $(($6 + $5 - 1)) && rss_mib "$7" >"$1.end") &
  "$wsload" clients --url "$2" --user admin --pass "$password" --clients "$3" --ramp-secs "$6" \
    --duration-secs "$5" --expect-interval-ms "$4" --pid "$7" --ignore-frames '"type"\s*:\s*"hello"' >"$1" 2>/dev/null
}
livedash_on() { # port interval [args...]: starts livedash, prints its pid
  local port=$1 interval=$2
  shift 2
  LIVEDASH_ADMIN_PASSWORD=$password RUST_LOG=warn "$livedash" --listen "127.0.0.1:$port" \
    --source "up=http://127.0.0.1:9100/" --interval "${interval}ms" --max-connections-per-ip 100000 \
    --max-connections 100000 --max-http-connections-per-ip 100000 --max-http-connections 100000 \
    --data-dir "$out/data-$port" "$@" >"$out/livedash-$port.log" 2>&1 &
  local pid=$!
  wait_port "$port"
  # The idle RSS, then one login (the clients' own first login is then cached). Its password
  # hash (argon2) takes 19 MiB, which the allocator gives back only once it is busy again: RSS per
  # client is measured from before the login to the end of the run, with every client connected.
  rss_mib "$pid" >"$out/idle-$pid"
  curl -s -o /dev/null -u "admin:$password" "http://127.0.0.1:$port/api/ws-ticket"
  echo "$pid"
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
echo "before $(loadavg)" >"$out/load.txt"
i=0
for scenario in "${scenarios[@]}"; do
  IFS='|' read -r name n interval seconds ramp kind <<<"$scenario"
  i=$((i + 1))
  log "$name: floor"
  "$wsload" serve --addr 127.0.0.1:9200 --interval-ms "$interval" --user admin --pass "$password" \
    >"$out/floor-$i.log" 2>&1 &
  floor=$!
  wait_port 9200
  clients_run "$out/$i-floor.json" ws://127.0.0.1:9200/ws "$n" "$interval" "$seconds" "$ramp" "$floor"
  kill "$floor"
  until_gone "$floor"
  log "$name: livedash ($kind)"
  case $kind in
    plain)
      server=$(livedash_on 9300 "$interval" --store none)
      sleep 1
      clients_run "$out/$i-livedash.json" ws://127.0.0.1:9300/ws "$n" "$interval" "$seconds" "$ramp" "$server"
      kill "$server" && until_gone "$server" ;;
    store)
      server=$(livedash_on 9300 "$interval" --store "$out/data-store/history.db")
      sleep 1
      clients_run "$out/$i-livedash.json" ws://127.0.0.1:9300/ws "$n" "$interval" "$seconds" "$ramp" "$server"
      kill "$server" && until_gone "$server" ;;
    cluster)
      cluster=(--store none --redis-url redis://127.0.0.1:9400 --cluster-key-file "$out/cluster.key" --redis-prefix "bench$i")
      a=$(livedash_on 9301 "$interval" "${cluster[@]}")
      b=$(livedash_on 9302 "$interval" "${cluster[@]}")
      sleep 2
      clients_run "$out/$i-a.json" ws://127.0.0.1:9301/ws $((n / 2)) "$interval" "$seconds" "$ramp" "$a" &
      wa=$!
      clients_run "$out/$i-b.json" ws://127.0.0.1:9302/ws $((n - n / 2)) "$interval" "$seconds" "$ramp" "$b" &
      wb=$!
      wait "$wa" "$wb"
      kill "$a" "$b" && until_gone "$a" && until_gone "$b"
      python3 - "$out/$i-a.json" "$out/$i-b.json" "$out/$i-livedash.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
# The script's own RSS readings, summed beside the merged figures (the report reads them as for any run).
for kept in (".start", ".end"):
    try:
        total = sum(float(open(p + kept).read()) for p in sys.argv[1:3])
        open(sys.argv[3] + kept, "w").write(f"{total:.2f}")
    except (OSError, ValueError):
        pass
n = a["connected"] + b["connected"]
merged = dict(a)
merged["connected"] = n
merged["delivery_ratio"] = (a["delivery_ratio"] * a["connected"] + b["delivery_ratio"] * b["connected"]) / max(n, 1)
merged["latency_ms"] = {k: max(a["latency_ms"][k], b["latency_ms"][k]) for k in ("p50", "p99", "max")}
merged["connect_ms"] = {"p99": max(a["connect_ms"]["p99"], b["connect_ms"]["p99"])}
ta, tb = a["target"], b["target"]
merged["target"] = {key: ta[key] + tb[key] for key in ("cpu_pct", "rss_start_mib", "rss_peak_mib", "rss_final_mib")}
merged["machine_cpu_busy_pct"] = max(a["machine_cpu_busy_pct"], b["machine_cpu_busy_pct"])
json.dump(merged, open(sys.argv[3], "w"))
PY
      ;;
  esac
  echo "$name $(loadavg)" >>"$out/load.txt"
done

if [ "$soak" -gt 0 ]; then
  log "soak: 5000 clients at 10 Hz for $soak s, RSS every minute"
  server=$(livedash_on 9300 100 --store none)
  sleep 1
  (while kill -0 "$server" 2>/dev/null; do
    echo "$(date +%s) $(awk '/VmRSS/ { print $2 }' "/proc/$server/status")"
    sleep 60
  done) >"$out/soak-rss.txt" &
  sampler=$!
  clients_run "$out/soak.json" ws://127.0.0.1:9300/ws 5000 100 "$soak" 10 "$server"
  kill "$server" "$sampler" 2>/dev/null || true
  echo "soak $(loadavg)" >>"$out/load.txt"
fi

}
$report_only || run_all

python3 - "$out" "$results" "$(git rev-parse --short HEAD)" "$(nproc)" "$soak" "${scenarios[@]}" <<'PY'
import json, os, sys, datetime
out, results, commit, cores, soak = sys.argv[1:6]
scenarios = sys.argv[6:]
def get(d, path):
    for k in path.split("."):
        d = d.get(k) if isinstance(d, dict) else None
    return d
def load(path):
    """A run's figures, with the script's own RSS readings (`.start`, `.end`) where kept."""
    run = json.load(open(path))
    t = run["target"]
    try:
        t["rss_start_mib"] = min(t["rss_start_mib"], float(open(path + ".start").read()))
        t["rss_end_mib"] = float(open(path + ".end").read())
    except (OSError, ValueError, KeyError):
        pass
    return run
def per_client(d):
    t = d["target"]
    end = t["rss_end_mib"] if "rss_end_mib" in t else t["rss_final_mib"]
    return (end - t["rss_start_mib"]) * 1024 / max(d["connected"], 1)
cols = [("connected", lambda d: d["connected"], "{:.0f}"),
        ("delivery", lambda d: d["delivery_ratio"], "{:.3f}"),
        ("p50 ms", lambda d: get(d, "latency_ms.p50"), "{:.1f}"),
        ("p99 ms", lambda d: get(d, "latency_ms.p99"), "{:.1f}"),
        ("max ms", lambda d: get(d, "latency_ms.max"), "{:.1f}"),
        ("connect p99 ms", lambda d: get(d, "connect_ms.p99"), "{:.1f}"),
        ("CPU %", lambda d: get(d, "target.cpu_pct"), "{:.1f}"),
        ("RSS KiB/client", per_client, "{:.2f}"),
        ("machine busy %", lambda d: d.get("machine_cpu_busy_pct"), "{:.1f}")]
lines = [f"# Benchmark results", "",
         f"`scripts/bench-all.sh` at {commit}, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
         f"{cores} cores, loopback. Each scenario ran against the floor (`wsload serve`) and then livedash, one after the other; "
         "ratio = livedash / floor (lower is better, but for connected and delivery). RSS per client = (RSS a second before the end, every client "
         "connected - the lowest RSS read before the clients) / connected. livedash's allocator (mimalloc) gives freed memory "
         "back lazily: what start-up and the first login's password hash (19 MiB) took stays resident until it is busy again, "
         "so a server's idle RSS reads anywhere from 22 to 42 MiB and a figure over 1000 or 2500 clients is within that noise "
         "(even negative); over 10,000 and 18,000 clients it is a few percent.", ""]
lines.append("| scenario | server | " + " | ".join(c[0] for c in cols) + " |")
lines.append("|---|---|" + "---|" * len(cols))
for i, s in enumerate(scenarios, 1):
    name = s.split("|")[0]
    try:
        floor = load(f"{out}/{i}-floor.json")
        dash = load(f"{out}/{i}-livedash.json")
    except (OSError, ValueError) as e:
        lines.append(f"| {name} | missing: {e} |" + " |" * len(cols))
        continue
    fmt = lambda c, d: (c[2].format(c[1](d)) if isinstance(c[1](d), (int, float)) else "-")
    lines.append(f"| {name} | floor | " + " | ".join(fmt(c, floor) for c in cols) + " |")
    lines.append(f"| | livedash | " + " | ".join(fmt(c, dash) for c in cols) + " |")
    ratios = []
    for c in cols:
        f, d = c[1](floor), c[1](dash)
        ratios.append(f"{d / f:.2f}x" if isinstance(f, (int, float)) and isinstance(d, (int, float)) and f else "-")
    lines.append(f"| | ratio | " + " | ".join(ratios) + " |")
if int(soak) > 0 and os.path.exists(f"{out}/soak-rss.txt"):
    rows = [l.split() for l in open(f"{out}/soak-rss.txt") if len(l.split()) == 2]
    kib = [int(r[1]) for r in rows]
    began = datetime.datetime.fromtimestamp(int(rows[0][0]), datetime.timezone.utc) if rows else None
    lines += ["", f"**Soak** ({int(soak)} s, 5000 clients at 10 Hz{f', from {began:%H:%M} UTC' if began else ''}): RSS every minute, MiB: " + ", ".join(f"{k / 1024:.1f}" for k in kib)]
    last = kib[-50:] if len(kib) > 50 else kib[len(kib) // 6:]
    if last:
        lines.append(f"Over the last {len(last)} minutes: min {min(last) / 1024:.1f}, max {max(last) / 1024:.1f} MiB, spread {(max(last) - min(last)) / max(min(last), 1) * 100:.1f} %.")
    try:
        s = json.load(open(f"{out}/soak.json"))
        lines.append(f"Delivery {s['delivery_ratio']:.3f}, p99 {get(s, 'latency_ms.p99')} ms, CPU {get(s, 'target.cpu_pct')} %.")
    except (OSError, ValueError):
        pass
# The targets of the benchmark, each with its verdict and the figures it rests on.
runs, clients = {}, {s.split("|")[0]: int(s.split("|")[1]) for s in scenarios}
for i, s in enumerate(scenarios, 1):
    try:
        runs[s.split("|")[0]] = (load(f"{out}/{i}-floor.json"), load(f"{out}/{i}-livedash.json"))
    except (OSError, ValueError):
        pass
checks = []
def check(what, ok, figures):
    checks.append(f"- {'met' if ok else '**missed**'}: {what} ({figures})")
for name, (floor, dash) in runs.items():
    if name == "smoke":
        continue
    rf, rd = per_client(floor), per_client(dash)
    check(f"{name}: RSS per client at most the floor's", rd <= rf, f"{rd:.2f} vs {rf:.2f} KiB")
    for label, path in (("server CPU", "target.cpu_pct"), ("p99 latency", "latency_ms.p99")):
        f, d = get(floor, path), get(dash, path)
        check(f"{name}: {label} at most 1.2x the floor's", d <= 1.2 * f, f"{d:.1f} vs {f:.1f}, {d / f:.3f}x")
    if "at once" in name:
        n = clients[name]
        check(f"{name}: every client connected", dash["connected"] == n, f"{dash['connected']} of {n}")
        f, d = get(floor, "connect_ms.p99"), get(dash, "connect_ms.p99")
        check(f"{name}: connect p99 at most the floor's", d <= f, f"{d:.0f} vs {f:.0f} ms")
        check(f"{name}: delivery at least the floor's", dash["delivery_ratio"] >= floor["delivery_ratio"],
              f"{dash['delivery_ratio']:.3f} vs {floor['delivery_ratio']:.3f}")
store = next((v for k, v in runs.items() if "store on" in k), None)
plain = runs.get("5000 x 10 Hz")
if store and plain:
    d, f = get(store[1], "target.cpu_pct"), get(plain[1], "target.cpu_pct")
    check("history store on: CPU at most 1.1x the store-off run (5000 x 10 Hz)", d <= 1.1 * f, f"{d:.1f} vs {f:.1f} %, {d / f:.2f}x")
if int(soak) > 0 and os.path.exists(f"{out}/soak-rss.txt"):
    kib = [int(l.split()[1]) for l in open(f"{out}/soak-rss.txt") if len(l.split()) == 2]
    last = kib[-50:] if len(kib) > 50 else kib[len(kib) // 6:]
    if last:
        spread = (max(last) - min(last)) / max(min(last), 1) * 100
        check(f"soak: RSS flat within 5 % over the last {len(last)} minutes", spread <= 5, f"spread {spread:.1f} %")
if checks:
    lines += ["", "**Targets** (figures: livedash vs floor):", ""] + checks
lines += ["", "Machine load (1, 5, 15 min) before and after each scenario:", "", "```"] + open(f"{out}/load.txt").read().splitlines() + ["```", ""]
# The sections of scripts/bench-history.sh (history queries beside Prometheus) and
# scripts/bench-fleet.sh (a fleet beside Prometheus), each from another sitting, are kept.
kept = ""
try:
    old = open(results).read()
    for section in ("history", "fleet"):
        b, e = old.find(f"<!-- bench-{section}: begin"), old.find(f"<!-- bench-{section}: end -->")
        if b >= 0 and e > b:
            kept += "\n" + old[b:e + len(f"<!-- bench-{section}: end -->")] + "\n"
except OSError:
    pass
os.makedirs(os.path.dirname(results), exist_ok=True)
open(results, "w").write("\n".join(lines) + kept)
print("\n".join(lines))
PY
log "results in $results"
