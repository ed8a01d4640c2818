#!/usr/bin/env bash
# The fleet benchmark (issue 24), livedash beside Debian's Prometheus scraping the same targets (a
# benchmark, not a test; loopback only, bounded, everything it starts is stopped by its process id):
#   - the fake_exporter example serves N node_exporter targets on consecutive ports (Debian's
#     prometheus-node-exporter's body, every value different per target and per scrape);
#   - Prometheus reads them from a file_sd targets file and keeps, by metric_relabel_configs, only
#     the series the host figures need (KEEP below), its storage in the run's directory;
#   - livedash reads the same targets file (`--targets-file`, the default), or, as the baseline
#     before the fleet wing (FLEET_FROM=sources), a config file with one `[[source]]`
#     table per target (type prometheus, the same metrics); the history store on either way;
#   - per scenario (1000 targets every 15 s, 200 every 1 s) Prometheus runs alone, then livedash
#     alone, each WARMUP seconds, then a window of SECS seconds over which the script reads from
#     /proc its CPU (utime + stime) and RSS (peak: VmHWM, the process's whole life; end: VmRSS), the
#     exporter's CPU, and the exporter's count of the server's requests; then it checks the server
#     scraped every target (Prometheus: `up` through its query API; livedash: every source `ok` on
#     /healthz of its metrics listener, which needs no login) and stops it.
#   - page bytes (FLEET_FROM=targets, scenarios at 1 s, PAGE_BYTES=1): after livedash's window,
#     the sub_bytes example opens a `/ws?sub=overview` socket (what the overview page reads), one
#     with `sub=configured` (the dashboard `/`) and one without `sub` (everything, as an API
#     client) at the same time and counts the bytes each receives over PAGE_SECS seconds after
#     3 s (20; 3 in the smoke run);
# A table with the ratios livedash / Prometheus goes into its own section of bench/RESULTS.md
# (between its markers; bench-all.sh keeps it), raw figures in target/bench-fleet/.
#
#   scripts/bench-fleet.sh            both scenarios, WARMUP=30 and SECS=120 (about 12 minutes)
#   scripts/bench-fleet.sh --smoke    20 targets every 1 s, WARMUP=6, SECS=4 (Prometheus applies
#                                     a targets file up to 5 s after it starts), into
#                                     target/bench-fleet-smoke/ (bench/RESULTS.md untouched)
#   scripts/bench-fleet.sh --report   the section again from the last run's raw figures
#   scripts/bench-fleet.sh --browser  the overview page's main thread in headless Chromium with 200
#                                     hosts at 1 s (end2end/bench/fleet.mjs), JSON into
#                                     target/bench-fleet-browser.json
#
# WARMUP, SECS, SCENARIOS (e.g. "1000:15 200:1", targets:seconds), BENCH_OUT, BENCH_RESULTS (`-`:
# print only), FLEET_FROM (`targets`, or `sources` for the baseline of one `[[source]]` a target),
# PAGE_BYTES (1 or 0), PAGE_SECS override; LIVEDASH, FAKE_EXPORTER and SUB_BYTES name binaries
# (default: the release builds, built here when missing). Needs Debian's prometheus (installed when missing, its system service
# left stopped).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bench-lib.sh"

mode=full
case "${1:-}" in
  --smoke) mode=smoke ;;
  --report) mode=report ;;
  --browser) mode=browser ;;
  '') ;;
  *) die "usage: scripts/bench-fleet.sh [--smoke | --report | --browser]" ;;
esac
if [ $mode = browser ]; then
  [ -d end2end/node_modules ] || die "no end2end/node_modules (run scripts/setup.sh --tests)"
  export LIVEDASH=${LIVEDASH:-target/release/livedash} FAKE_EXPORTER=${FAKE_EXPORTER:-target/release/examples/fake_exporter}
  [ -x "$LIVEDASH" ] || die "no $LIVEDASH (run scripts/build.sh)"
  [ -x "$FAKE_EXPORTER" ] || cargo build --release --locked -q -p livedash-server --example fake_exporter
  (cd end2end && node bench/fleet.mjs) | tee target/bench-fleet-browser.json
  exit 0
fi
if [ $mode = smoke ]; then
  out=${BENCH_OUT:-target/bench-fleet-smoke} warmup=${WARMUP:-6} secs=${SECS:-4}
  scenarios=("smoke: 20 x 1 s|20|1")
else
  out=${BENCH_OUT:-target/bench-fleet} warmup=${WARMUP:-30} secs=${SECS:-120}
  scenarios=()
  for pair in ${SCENARIOS:-1000:15 200:1}; do  # targets:interval in whole seconds
    [[ $pair =~ ^[0-9]+:[0-9]+$ ]] || die "SCENARIOS: $pair is not TARGETS:SECONDS"
    scenarios+=("${pair%:*} x ${pair#*:} s|${pair%:*}|${pair#*:}")  # name|targets|interval
  done
fi
results=${BENCH_RESULTS:-bench/RESULTS.md}
[ $mode = smoke ] && results=-
fleet_from=${FLEET_FROM:-targets}
case $fleet_from in sources | targets) ;; *) die "FLEET_FROM: $fleet_from is not sources or targets" ;; esac
page_bytes=${PAGE_BYTES:-1}
[ "$fleet_from" = targets ] || page_bytes=0  # the overview has rows only for a targets file's hosts
page_secs=${PAGE_SECS:-$([ $mode = smoke ] && echo 3 || echo 20)}
# The series the host figures need (CPU busy, memory used, root disk used, load, network, uptime).
KEEP=(node_cpu_seconds_total node_memory_MemTotal_bytes node_memory_MemAvailable_bytes
  node_filesystem_size_bytes node_filesystem_avail_bytes node_load1 node_network_receive_bytes_total
  node_network_transmit_bytes_total node_time_seconds node_boot_time_seconds)
# Below the ephemeral range (32768 and up): no client socket holds them.
base=21000 pport=29190 lport=29191 mport=29192

# The section of RESULTS.md from the raw figures in $out (one JSON file per run, load.txt).
report() {
python3 - "$out" "$results" "$(nproc)" <<'PY'
import json, sys
out, results, cores = sys.argv[1:4]
scenarios = open(f"{out}/scenarios.txt").read().splitlines()
BEGIN = "<!-- bench-fleet: begin (scripts/bench-fleet.sh rewrites this section; bench-all.sh keeps it) -->"
END = "<!-- bench-fleet: end -->"
meta = json.load(open(f"{out}/meta.json"))
targets = meta.get("fleet_from") == "targets"
title = "livedash reading a targets file" if targets else "baseline with [[source]] tables"
how = ("livedash reads the same `file_sd` file (`--targets-file`, its fleet wing: host figures only), "
       if targets else "livedash as it is today: one `[[source]]` table per target (`type = \"prometheus\"`, `metrics` = the same "
       "names), ")
lines = [BEGIN, "", f"## Fleet (issue 24): {title}", "",
         f"`scripts/bench-fleet.sh` at {meta['commit']}, {meta['when']} UTC, {cores} cores ({meta['cpu']}), loopback, "
         f"Prometheus {meta['prometheus_version']} (Debian), livedash `{meta['livedash']}`. The `fake_exporter` example serves "
         "every target from one thread (Debian's `prometheus-node-exporter` 1.5.0 body, 507 series, about 58 KB, plain; "
         "every value different per target and per scrape). Prometheus reads the targets from a `file_sd` file and keeps "
         f"{len(meta['keep'])} metrics by `metric_relabel_configs` (`{'|'.join(meta['keep'])}`: 29 series a target); "
         + how + "the history store on. Per scenario Prometheus ran alone, then livedash alone, each for "
         f"{meta['warmup']} s of warm-up, then a window of {meta['secs']} s: CPU = user + system time over the window, "
         "% of one core; RSS peak = VmHWM (the whole life, start-up included), end = VmRSS at the window's end; "
         "fetches = the exporter's count of the server's requests in the window / (targets x window / interval); "
         "up = targets Prometheus reports `up == 1`, or livedash sources `ok` on `/healthz`; disk = the server's "
         "data directory at the end; exporter CPU = the fake exporter's over the same window (% of one core); machine busy = "
         "all cores over the window, other work on the machine included. Ratio = livedash / Prometheus (lower is better).", "",
         "| scenario | server | up | fetches | CPU % | RSS peak MiB | RSS end MiB | disk MiB | exporter CPU % | machine busy % |",
         "|---|---|---|---|---|---|---|---|---|---|"]
checks = []
for i, s in enumerate(scenarios, 1):
    name, n, interval = s.split("|")
    runs = {}
    for server in ("prometheus", "livedash"):
        try:
            runs[server] = json.load(open(f"{out}/{i}-{server}.json"))
        except (OSError, ValueError) as e:
            lines.append(f"| {name} | {server}: missing ({e}) |" + " |" * 9)
    if len(runs) < 2:
        continue
    row = lambda r: [f"{r['up']}/{n}", f"{r['fetch_ratio']:.3f}", f"{r['cpu_pct']:.2f}", f"{r['rss_peak_mib']:.1f}",
                     f"{r['rss_end_mib']:.1f}", f"{r['disk_mib']:.1f}", f"{r['exporter_cpu_pct']:.2f}", f"{r['machine_busy_pct']:.0f}"]
    p, l = runs["prometheus"], runs["livedash"]
    lines.append(f"| {name} | Prometheus | " + " | ".join(row(p)) + " |")
    lines.append("| | livedash | " + " | ".join(row(l)) + " |")
    ratio = lambda k: f"{l[k] / p[k]:.2f}x" if p[k] else "-"
    lines.append("| | ratio | | | " + " | ".join(ratio(k) for k in ("cpu_pct", "rss_peak_mib", "rss_end_mib", "disk_mib")) + " | | |")
    if n == "1000" and interval == "15":
        cpu, rss = l["cpu_pct"] / p["cpu_pct"], l["rss_end_mib"] / p["rss_end_mib"]
        peak = l["rss_peak_mib"] / p["rss_peak_mib"]
        checks.append(f"- {'met' if cpu <= 1.0 else '**missed**'}: {name}: livedash's CPU at most 1.0x Prometheus's "
                      f"({l['cpu_pct']:.2f} vs {p['cpu_pct']:.2f} %, {cpu:.2f}x)")
        checks.append(f"- {'met' if rss <= 0.5 else '**missed**'}: {name}: livedash's RSS at most 0.5x Prometheus's "
                      f"(end {l['rss_end_mib']:.1f} vs {p['rss_end_mib']:.1f} MiB, {rss:.2f}x; peak {peak:.2f}x)")
    for server, r in runs.items():
        if r["up"] != int(n):
            try:
                states = json.load(open(f"{out}/{i}-{server}-up.json"))
                if server == "livedash":
                    states = [s["state"] for s in states["sources"]]
                else:
                    states = ["up" if r["value"][1] == "1" else "down" for r in states["data"]["result"]]
                how = ", ".join(f"{states.count(s)} {s}" for s in sorted(set(states)))
            except (OSError, ValueError, KeyError) as e:
                how = f"states unknown: {e}"
            checks.append(f"- **not every target up at the window's end**: {name}: {server} {r['up']} of {n} ({how})")
if checks:
    lines += ["", "**Targets** (issue 24, at 1000 x 15 s; 200 x 1 s is given for the record):", ""] + checks
pages = []
for i, s in enumerate(scenarios, 1):
    name = s.split("|")[0]
    # sub_bytes prints a title, a header, then one line per socket: SUB HELLO_BYTES BYTES_PER_S.
    try:
        rows = [l.split() for l in open(f"{out}/{i}-pagebytes.txt").read().splitlines()[2:]]
        rows = [(r[0], int(r[1]), float(r[2])) for r in rows if len(r) == 3]
    except (OSError, ValueError):
        continue
    every = next((r for r in rows if r[0] == "-"), None)
    for sub, hello, rate in rows:
        share = f"{rate / every[2]:.3f}x" if every and every[2] else "-"
        shown = "no `sub` (everything)" if sub == "-" else f"`?sub={sub}`"
        pages.append(f"| {name} | {shown} | {hello:,} | {rate:,.0f} | {share} |")
if pages:
    lines += ["", f"**Page bytes**: sockets opened together on livedash after its window (the `sub_bytes` example, 3 s, then "
              f"{meta.get('page_secs', '?')} s counted): `overview` is what `/fleet` reads, `configured` what `/` reads, no `sub` "
              "what an API client (and every page before subscriptions) reads; bytes = text frames' payloads after the hello "
              "(framing adds 2-4 bytes a frame):", "",
              "| scenario | socket | hello bytes | bytes/s | vs everything |", "|---|---|---|---|---|"] + pages
lines += ["", "Machine load (1, 5, 15 min) after each run (other work on the machine included):", "", "```"]
lines += open(f"{out}/load.txt").read().splitlines() + ["```", "", "Commands:", "", "```",
          "scripts/build.sh   # or cargo build --release -p livedash-server --bin livedash --example fake_exporter",
          f"FLEET_FROM={meta.get('fleet_from', 'sources')} WARMUP={meta['warmup']} SECS={meta['secs']} scripts/bench-fleet.sh",
          "```", "", END]
section = "\n".join(lines)
print(section)
if results != "-":
    try:
        old = open(results).read()
    except OSError:
        old = ""
    b, e = old.find(BEGIN), old.find(END)
    new = old[:b] + section + old[e + len(END):] if b >= 0 and e > b else old.rstrip("\n") + "\n\n" + section + "\n"
    open(results, "w").write(new)
PY
}

if [ $mode = report ]; then
  report >/dev/null
  log "section rewritten in $results"
  exit 0
fi

if ! command -v prometheus >/dev/null; then
  log "installing prometheus (Debian)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus
  if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
    as_root systemctl stop prometheus
  fi
fi
livedash=${LIVEDASH:-${CARGO_TARGET_DIR:-target}/release/livedash}
exporter=${FAKE_EXPORTER:-${CARGO_TARGET_DIR:-target}/release/examples/fake_exporter}
sub_bytes=${SUB_BYTES:-${CARGO_TARGET_DIR:-target}/release/examples/sub_bytes}
if [ -z "${LIVEDASH:-}" ] && [ ! -x "$livedash" ]; then
  log "building livedash (release)"
  cargo build --release --locked -q -p livedash-server --bin livedash
fi
if [ -z "${FAKE_EXPORTER:-}" ]; then
  cargo build --release --locked -q -p livedash-server --example fake_exporter
fi
if [ "$page_bytes" = 1 ] && [ -z "${SUB_BYTES:-}" ]; then
  cargo build --release --locked -q -p livedash-server --example sub_bytes
fi
[ -x "$livedash" ] || die "no $livedash"
[ -x "$exporter" ] || die "no $exporter"
[ "$page_bytes" = 0 ] || [ -x "$sub_bytes" ] || die "no $sub_bytes"
for port in "$pport" "$lport" "$mport"; do
  for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null || continue 2; sleep 0.1; done
  die "port $port is in use"
done
rm -rf "$out" && mkdir -p "$out"
printf '%s\n' "${scenarios[@]}" >"$out/scenarios.txt"
hz=$(getconf CLK_TCK)
pw=bench-$RANDOM$RANDOM
python3 - "$out" "$(git rev-parse --short HEAD)" "$warmup" "$secs" "$(prometheus --version 2>&1 | awk 'NR == 1 { print $3 }')" \
  "$livedash" "$fleet_from" "$page_secs" "${KEEP[@]}" <<'PY'
import datetime, json, sys
out, commit, warmup, secs, version, livedash, fleet_from, page_secs = sys.argv[1:9]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
json.dump({"commit": commit, "when": f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M}", "warmup": int(warmup),
           "secs": int(secs), "prometheus_version": version, "keep": sys.argv[9:], "cpu": cpu, "livedash": livedash,
           "fleet_from": fleet_from, "page_secs": int(page_secs)}, open(f"{out}/meta.json", "w"))
PY

ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }  # utime + stime, after the name
kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }  # a clock that only moves forward (seconds since boot)
busy() { awk 'NR == 1 { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }  # idle, total
until_gone() { for _ in $(seq 300); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; die "pid $1 did not stop"; }
requests() { # the exporter's count of CLIENT's requests
  curl -sf "http://127.0.0.1:$base/stats" | python3 -c "import json, sys; print(json.load(sys.stdin)['requests']['$1'])"
}
echo "before $(cut -d' ' -f1-3 /proc/loadavg)" >"$out/load.txt"

# Runs one server for WARMUP + SECS and writes its figures. measure I SERVER PID N INTERVAL
measure() {
  local i=$1 server=$2 pid=$3 n=$4 interval=$5 client
  client=$server
  sleep "$warmup"
  kill -0 "$pid" 2>/dev/null || die "$server stopped (see $out/$server-$i.log)"
  # The request counts are read around the window, each between two readings of the clock.
  local r0 q0 t0 e0 b0 s0
  q0=$(uptime_s) r0=$(requests "$client") q0="$q0 $(uptime_s)"
  s0=$(uptime_s) t0=$(ticks "$pid") e0=$(ticks "$exporter_pid") b0=$(busy)
  sleep "$secs"
  local r1 q1 t1 e1 b1 s1 rss hwm
  t1=$(ticks "$pid") e1=$(ticks "$exporter_pid") b1=$(busy) s1=$(uptime_s)
  rss=$(kib "$pid" VmRSS) hwm=$(kib "$pid" VmHWM)
  q1=$(uptime_s) r1=$(requests "$client") q1="$q1 $(uptime_s)"
  # Every target's state, kept beside the figures ($i-$server-up.json), and how many are up.
  local up
  if [ "$server" = prometheus ]; then
    curl -sf "http://127.0.0.1:$pport/api/v1/query?query=up" >"$out/$i-$server-up.json"
    up=$(python3 -c "import json, sys; print(sum(r['value'][1] == '1' for r in json.load(sys.stdin)['data']['result']))" \
      <"$out/$i-$server-up.json")
  else
    curl -sf "http://127.0.0.1:$mport/healthz" >"$out/$i-$server-up.json"
    # This machine's `local` source is a host of the fleet too (with a targets file): not a target.
    up=$(python3 -c "import json, sys; print(sum(s['state'] == 'ok' for s in json.load(sys.stdin)['sources'] if s['source'] != 'local'))" \
      <"$out/$i-$server-up.json")
  fi
  python3 - "$out/$i-$server.json" "$hz" "$n" "$interval" "$t0" "$t1" "$e0" "$e1" "$s0" "$s1" "$r0" "$r1" \
    "$rss" "$hwm" "$up" "$(du -sk "$out/data-$server-$i" | cut -f1)" $b0 $b1 $q0 $q1 <<'PY'
import json, sys
path = sys.argv[1]
hz, n, interval, t0, t1, e0, e1, s0, s1, r0, r1, rss, hwm, up, disk, i0, a0, i1, a1, qa0, qb0, qa1, qb1 = map(float, sys.argv[2:])
window = s1 - s0
counted = (qa1 + qb1) / 2 - (qa0 + qb0) / 2  # between the middles of the two readings
figures = {"cpu_pct": 100 * (t1 - t0) / hz / window, "exporter_cpu_pct": 100 * (e1 - e0) / hz / window,
           "rss_end_mib": rss / 1024, "rss_peak_mib": hwm / 1024, "up": int(up), "disk_mib": disk / 1024,
           "fetches": int(r1 - r0), "fetch_ratio": (r1 - r0) / (n * counted / interval), "window_s": window,
           "machine_busy_pct": 100 * (1 - (i1 - i0) / (a1 - a0)) if a1 > a0 else 0}
json.dump(figures, open(path, "w"))
print(json.dumps(figures))
PY
  if [ "$server" = livedash ] && [ "$page_bytes" = 1 ] && [ "$interval" = 1 ]; then
    log "$name: page bytes, ${page_secs} s"
    LIVEDASH_PASSWORD=$pw "$sub_bytes" "ws://127.0.0.1:$lport" "$page_secs" overview configured - \
      >"$out/$i-pagebytes.txt" 2>&1 || die "sub_bytes failed (see $out/$i-pagebytes.txt)"
    cat "$out/$i-pagebytes.txt"
  fi
  kill "$pid"
  until_gone "$pid"
  echo "$name, $server $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/load.txt"
}

i=0
for scenario in "${scenarios[@]}"; do
  IFS='|' read -r name n interval <<<"$scenario"
  i=$((i + 1))
  log "$name: the fake exporter on 127.0.0.1:$base-$((base + n - 1))"
  "$exporter" "$n" "$base" $((4 * (warmup + secs) + 600)) >"$out/exporter-$i.log" 2>&1 &
  exporter_pid=$!
  pids+=("$exporter_pid")
  wait_port $((base + n - 1)) 300
  python3 - "$out/targets-$i.json" "$out/livedash-$i.toml" "$base" "$n" "$interval" "$fleet_from" "${KEEP[@]}" <<'PY'
import json, sys
targets, toml, base, n, interval = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
fleet_from, keep = sys.argv[6], sys.argv[7:]
hosts = [f"127.0.0.1:{base + t}" for t in range(n)]
half = n // 2
json.dump([{"targets": hosts[:half], "labels": {"env": "prod"}}, {"targets": hosts[half:], "labels": {"env": "test"}}],
          open(targets, "w"), indent=1)
with open(toml, "w") as f:
    f.write(f'interval = "{interval}s"\n')
    metrics = ", ".join(json.dumps(m) for m in keep)
    for t, host in enumerate(hosts if fleet_from == "sources" else []):
        f.write(f'\n[[source]]\nname = "fleet-{t:04}"\ntype = "prometheus"\nurl = "http://{host}/metrics"\nmetrics = [{metrics}]\n')
PY
  timeout_ms=$((interval * 900))
  regex=$(IFS='|'; echo "${KEEP[*]}")
  cat >"$out/prometheus-$i.yml" <<EOF
global:
  scrape_interval: ${interval}s
  scrape_timeout: ${timeout_ms}ms
scrape_configs:
  - job_name: fleet
    file_sd_configs:
      - files: ['$PWD/$out/targets-$i.json']
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: '$regex'
        action: keep
EOF

  log "$name: Prometheus, ${warmup} s warm-up + ${secs} s"
  prometheus --config.file="$out/prometheus-$i.yml" --storage.tsdb.path="$out/data-prometheus-$i" \
    --web.listen-address="127.0.0.1:$pport" --log.level=warn >"$out/prometheus-$i.log" 2>&1 &
  prom=$!
  pids+=("$prom")
  wait_port "$pport" 300
  measure "$i" prometheus "$prom" "$n" "$interval"

  log "$name: livedash, ${warmup} s warm-up + ${secs} s"
  mkdir -p "$out/data-livedash-$i"
  fleet=()
  [ "$fleet_from" = targets ] && fleet=(--targets-file "$out/targets-$i.json")
  LIVEDASH_ADMIN_PASSWORD=$pw RUST_LOG=warn "$livedash" --config "$out/livedash-$i.toml" "${fleet[@]}" --listen "127.0.0.1:$lport" \
    --metrics-listen "127.0.0.1:$mport" --data-dir "$out/data-livedash-$i" --store "$out/data-livedash-$i/history.db" \
    >"$out/livedash-$i.log" 2>&1 &
  ld=$!
  pids+=("$ld")
  wait_port "$lport" 600
  measure "$i" livedash "$ld" "$n" "$interval"

  kill "$exporter_pid"
  until_gone "$exporter_pid"
done
rm -rf "$out"/data-*
report
# Each server scraped every target, at about its interval (what the smoke run is for).
python3 - "$out" <<'PY' || die "a server did not scrape every target (see $out)"
import json, sys
out = sys.argv[1]
bad = []
for i, scenario in enumerate(open(f"{out}/scenarios.txt").read().splitlines(), 1):
    n = int(scenario.split("|")[1])
    for server in ("prometheus", "livedash"):
        r = json.load(open(f"{out}/{i}-{server}.json"))
        if r["up"] != n or not 0.5 <= r["fetch_ratio"] <= 1.5:
            bad.append(f"{scenario.split('|')[0]}: {server}: {r['up']} of {n} up, fetches {r['fetch_ratio']:.2f}")
print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
log "raw figures in $out$([ "$results" = - ] || echo "; section rewritten in $results")"
