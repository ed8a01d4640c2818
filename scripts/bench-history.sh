#!/usr/bin/env bash
# History queries, livedash beside Debian's Prometheus on the same data (a benchmark, not a test;
# loopback only, bounded, everything it starts is stopped by its process id):
#   1. 30 days of this machine's 15 series sampled every second (38.9 M points), written by the
#      fill_store example into a livedash store that keeps full resolution for all of them
#      (--store-raw-for 31d) and, as OpenMetrics text, into Prometheus blocks by
#      `promtool tsdb create-blocks-from openmetrics`; the script checks both hold the same points;
#   2. each side's disk bytes per point: the whole store file (roll-ups and SQLite's pages
#      included) and the block directories (chunks, index, meta), and their chunk data alone;
#   3. a 30-day and a 24-hour range query of one series at 1000 points: livedash's
#      GET /api/history (Basic auth) and Prometheus's /api/v1/query_range with a step giving 1000
#      points (and, beside it, max_over_time over each step, which reads every point as livedash's
#      min/max bands do), and a second livedash on a copy of the store as the default retention
#      leaves it (full resolution for 24 h, roll-ups beyond); the servers up at once and idle
#      otherwise, one Python client (http.client, a keep-alive connection per server), requests
#      alternating between the servers so that the machine's load falls on all alike: WARMUP
#      untimed, then RUNS timed each, one at a time: p50, p99, max, and each server's CPU per query.
#      The OpenMetrics text takes about 2 GB of disk until promtool has read it.
# Raw figures in target/bench-history/; its section of bench/RESULTS.md is rewritten between its
# markers (bench-all.sh keeps that section when it rewrites the file).
#
#   scripts/bench-history.sh [RUNS]   RUNS timed queries of each kind (default 100): a few minutes
#   scripts/bench-history.sh --smoke  2 hours of data, one query of each kind, into
#                                     target/bench-history-smoke/ (bench/RESULTS.md untouched)
#   scripts/bench-history.sh --report the section again from the last run's raw figures
#
# BENCH_OUT and BENCH_RESULTS name other places for the raw figures and the results file (`-`: the
# section is only printed), e.g. to try a build of another branch with LIVEDASH.
# Needs the release build (scripts/build.sh; LIVEDASH names another binary); installs Debian's
# prometheus package (the server and promtool) when missing and leaves its system service stopped.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bench-lib.sh"

mode=full
case "${1:-}" in
  --smoke) mode=smoke ;;
  --report) mode=report ;;
  '' | [0-9]*) ;;
  *) die "usage: scripts/bench-history.sh [RUNS | --smoke | --report]" ;;
esac
if [ $mode = smoke ]; then
  out=target/bench-history-smoke span=2h short=1h runs=1 warmup=1
else
  out=${BENCH_OUT:-target/bench-history} span=30d short=24h runs=${1:-100} warmup=10
fi
results=${BENCH_RESULTS:-bench/RESULTS.md}
lport=29181 pport=29183  # below the ephemeral range (32768 and up): no client socket holds them
series=cpu_pct source=synthetic

# The section of RESULTS.md from the raw figures in $out (figures.json, load.txt).
report() {
python3 - "$out" "$results" "$(git rev-parse --short HEAD)" "$(nproc)" <<'PY'
import json, sys, datetime
out, results, commit, cores = sys.argv[1:5]
BEGIN = "<!-- bench-history: begin (scripts/bench-history.sh rewrites this section; bench-all.sh keeps it) -->"
END = "<!-- bench-history: end -->"
f = json.load(open(f"{out}/figures.json"))
d = f["disk"]
n, unit = int(f["span"][:-1]), {"h": "hour", "d": "day"}[f["span"][-1]]
span = f"{n} {unit}{'s' if n != 1 else ''}"
lines = [BEGIN, "", "## History queries beside Prometheus", "",
         f"`scripts/bench-history.sh` at {f.get('commit', commit)}, {f['when']} UTC, {cores} cores, loopback, {f['runs']} timed queries of each "
         f"kind after {f['warmup']} untimed, one at a time, alternating between the servers (one Python http.client "
         "keep-alive connection each). The same data on both sides: "
         f"{d['points']:,} points, this machine's {d['series']} series every second for {span} (the `fill_store` "
         f"example; Prometheus {f['prometheus_version']} from Debian, blocks by `promtool tsdb create-blocks-from "
         "openmetrics`); livedash keeps full resolution for the whole span (`--store-raw-for 31d`). The query: series "
         f"`{f['series']}` at 1000 points; livedash `GET /api/history?...&points=1000` (Basic auth), each answer one "
         "point per bucket with its min/max band; Prometheus `/api/v1/query_range` with step = range / 999 (the "
         "value at each step), and `max_over_time(...[step])` beside it (reads every point, as the bands do). "
         "Beside it, a second livedash on a copy of the store as its default retention leaves it (full "
         "resolution for the last 24 h, the 1-minute and 1-hour roll-ups beyond), which answers a longer range from a "
         "roll-up tier. The servers' files were in the page cache. Order: livedash, livedash with default retention "
         "and Prometheus alternating, one request at a time; then max_over_time alone. CPU ms/query: the server's "
         "user+system time over its timed runs / runs (within a phase each server answers one kind only).", "",
         "| query | server | answer points | p50 ms | p99 ms | max ms | CPU ms/query |", "|---|---|---|---|---|---|---|"]
checks = []
for q in f["queries"]:
    first = True
    for side in ("livedash", "livedash_default", "prometheus", "prometheus_max"):
        r = q.get(side)
        if r is None:
            continue
        name = {"livedash": f"livedash, full resolution kept: {r.get('tier', '?')} tier",
                "livedash_default": f"livedash, default retention: {r.get('tier', '?')} tier",
                "prometheus": "Prometheus", "prometheus_max": "Prometheus, max_over_time"}[side]
        lines.append(f"| {q['name'] if first else ''} | {name} | {r['points']} | {r['p50']:.1f} | {r['p99']:.1f} | "
                     f"{r['max']:.1f} | {r['cpu_ms']:.1f} |")
        first = False
    lv, pr = q["livedash"]["p99"], q["prometheus"]["p99"]
    checks.append(f"- {'met' if lv <= pr else '**missed**'}: {q['name']}: livedash's p99 at most Prometheus's "
                  f"({lv:.1f} vs {pr:.1f} ms, {lv / pr:.2f}x)")
lb, pb = d["livedash_file_bytes"] / d["points"], d["prometheus_bytes"] / d["points"]
lines += ["", "| disk | livedash | Prometheus |", "|---|---|---|",
          f"| bytes per point, whole (store file with roll-ups / blocks with index) | {lb:.2f} | {pb:.2f} |",
          f"| bytes per point, chunk data alone (raw tier / chunks/) | {d['livedash_raw_chunk_bytes'] / d['points']:.2f} | "
          f"{d['prometheus_chunk_bytes'] / d['points']:.2f} |",
          f"| bytes on disk | {d['livedash_file_bytes']:,} | {d['prometheus_bytes']:,} ({d['prometheus_blocks']} block{'s' if d['prometheus_blocks'] != 1 else ''}) |"]
checks.append(f"- {'met' if lb < pb else '**missed**'}: fewer bytes per point on disk than Prometheus "
              f"({lb:.2f} vs {pb:.2f}, {lb / pb:.2f}x)")
lines += ["", "**Targets:**", ""] + checks
lines += ["", "Machine load (1, 5, 15 min), and how busy its cores were during the timed queries (the "
          "comparison, then max_over_time; other work on the machine included):", "", "```"] + open(f"{out}/load.txt").read().splitlines() + ["```", "", END]
section = "\n".join(lines)
print(section)
if results != "-":
    try:
        old = open(results).read()
    except OSError:
        old = ""
    b, e = old.find(BEGIN), old.find(END)
    if b >= 0 and e > b:
        new = old[:b] + section + old[e + len(END):]
    else:
        new = old.rstrip("\n") + "\n\n" + section + "\n"
    open(results, "w").write(new)
PY
}

if [ $mode = report ]; then
  report
  log "section rewritten in $results"
  exit 0
fi

if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
  log "installing prometheus (Debian): its server and promtool"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus
  # The package's own service, where the init system started it, is not this benchmark's.
  for service in prometheus prometheus-node-exporter; do
    if command -v systemctl >/dev/null && systemctl is-active --quiet "$service" 2>/dev/null; then
      as_root systemctl stop "$service"
    fi
  done
fi
bin=${LIVEDASH:-target/release/livedash}
[ -x "$bin" ] || die "no $bin (run scripts/build.sh)"
cargo build --release --locked -q -p livedash-server --example fill_store
fill=${CARGO_TARGET_DIR:-target}/release/examples/fill_store
rm -rf "$out" && mkdir -p "$out/prometheus"
pw=bench-$RANDOM$RANDOM
# A server of a run that just ended may still be shutting down: its port is given 10 s.
for port in "$lport" $((lport + 1)) "$pport"; do
  for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null || continue 2; sleep 0.1; done
  die "port $port is in use"
done
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
echo "before $(loadavg)" >"$out/load.txt"

log "1. $span of this machine's series at 1 s: a livedash store and the same points as OpenMetrics"
FILL_OPENMETRICS="$out/points.om" "$fill" "$out/history.db" local "$span" 31d | tee "$out/fill.json"
log "   promtool tsdb create-blocks-from openmetrics ($(du -h "$out/points.om" | cut -f1) of text)"
# Blocks of up to 486 h: the largest a long-running Prometheus compacts to with a long retention
# (2 h x 3^5), so it finds nothing to compact here and stays idle during the queries.
promtool tsdb create-blocks-from openmetrics --quiet --max-block-duration=486h "$out/points.om" "$out/prometheus" \
  >"$out/promtool.log" 2>&1 || { tail -n 20 "$out/promtool.log"; die "promtool failed"; }
rm -f "$out/points.om"

log "2. bytes per point on disk"
python3 - "$out" <<'PY' | tee "$out/disk.json"
import glob, json, os, sqlite3, sys
out = sys.argv[1]
db = sqlite3.connect(f"{out}/history.db")
raw_points, raw_bytes = db.execute("SELECT sum(count), sum(length(data)) FROM chunk WHERE tier = 0").fetchone()
n_series = db.execute("SELECT count(*) FROM series").fetchone()[0]
db.close()
file_bytes = sum(os.path.getsize(p) for p in glob.glob(f"{out}/history.db*"))
blocks = [p for p in glob.glob(f"{out}/prometheus/*") if os.path.exists(f"{p}/meta.json")]
samples = sum(json.load(open(f"{b}/meta.json"))["stats"]["numSamples"] for b in blocks)
size = lambda root: sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs)
if samples != raw_points:
    sys.exit(f"the two sides differ: livedash keeps {raw_points} points, Prometheus's blocks {samples}")
print(json.dumps({"points": raw_points, "series": n_series, "livedash_file_bytes": file_bytes,
                  "livedash_raw_chunk_bytes": raw_bytes, "prometheus_bytes": sum(size(b) for b in blocks),
                  "prometheus_chunk_bytes": sum(size(f"{b}/chunks") for b in blocks), "prometheus_blocks": len(blocks)}))
PY

log "3. the servers on loopback, then the queries ($warmup untimed, $runs timed of each kind)"
# A second livedash on a copy of the store as its default retention leaves it (full resolution
# for 24 h only): a longer range is answered from the roll-ups.
python3 - "$out" <<'PY'
import json, sqlite3, sys
out = sys.argv[1]
to = json.load(open(f"{out}/fill.json"))["to_ms"]
src, dst = sqlite3.connect(f"{out}/history.db"), sqlite3.connect(f"{out}/default.db")
src.backup(dst)
src.close()
dst.execute("DELETE FROM chunk WHERE tier = 0 AND end <= ?", (to - 86_400_000,))
dst.commit()
dst.execute("VACUUM")
dst.close()
PY
LIVEDASH_ADMIN_PASSWORD=$pw RUST_LOG=warn "$bin" --listen "127.0.0.1:$lport" --data-dir "$out/data" \
  --store "$out/history.db" --store-raw-for 31d >"$out/livedash.log" 2>&1 &
livedash=$!
pids+=($livedash)
LIVEDASH_ADMIN_PASSWORD=$pw RUST_LOG=warn "$bin" --listen "127.0.0.1:$((lport + 1))" --data-dir "$out/data-default" \
  --store "$out/default.db" >"$out/livedash-default.log" 2>&1 &
default=$!
pids+=($default)
printf 'global:\n  scrape_interval: 1m\n' >"$out/prometheus.yml"
prometheus --config.file="$out/prometheus.yml" --storage.tsdb.path="$out/prometheus" \
  --storage.tsdb.retention.time=10y --web.listen-address="127.0.0.1:$pport" >"$out/prometheus.log" 2>&1 &
prom=$!
pids+=($prom)
wait_port "$lport" 300
wait_port $((lport + 1)) 300
wait_port "$pport" 300
for _ in $(seq 300); do curl -sf -o /dev/null "http://127.0.0.1:$pport/-/ready" && break; sleep 0.1; done
curl -sf -o /dev/null "http://127.0.0.1:$pport/-/ready" || die "prometheus is not ready (see $out/prometheus.log)"
python3 - "$out" "$pw" "$warmup" "$runs" "$span" "$short" "$source" "$series" \
  "$(prometheus --version 2>&1 | awk 'NR == 1 { print $3 }')" "$(git rev-parse --short HEAD)" \
  "livedash:$lport:$livedash" "livedash_default:$((lport + 1)):$default" "prometheus:$pport:$prom" <<'PY'
import base64, datetime, http.client, json, math, os, sys, time, urllib.parse
out, pw, warmup, runs, span, short, source, series, version, commit = sys.argv[1:11]
warmup, runs = int(warmup), int(runs)
servers = {name: (int(port), int(pid)) for name, port, pid in (a.split(":") for a in sys.argv[11:])}
fill = json.load(open(f"{out}/fill.json"))
disk = json.load(open(f"{out}/disk.json"))
first, last = fill["from_ms"], fill["to_ms"]
to = last - 1000  # the last point written
hz = os.sysconf("SC_CLK_TCK")
def cpu_ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])
def busy():
    v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return v[3] + v[4], sum(v)
def span_ms(text):
    n, unit = int(text[:-1]), text[-1]
    return n * {"h": 3_600_000, "d": 86_400_000}[unit]
auth = "Basic " + base64.b64encode(f"admin:{pw}".encode()).decode()
conns = {name: http.client.HTTPConnection("127.0.0.1", port, timeout=60) for name, (port, _) in servers.items()}
def get(server, path, headers):
    for attempt in (1, 2):
        conn = conns[server]
        began = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            break
        except (http.client.RemoteDisconnected, ConnectionError):
            # A server closes a keep-alive connection left idle (livedash after its header timeout,
            # e.g. while the other phase runs): a new one, and the request again, timed from there.
            conn.close()
            if attempt == 2:
                raise
    took = (time.perf_counter() - began) * 1000
    if resp.status != 200:
        sys.exit(f"{server} answered {resp.status} to {path}: {body[:300]!r}")
    return took, json.loads(body)
def pct(sorted_ms, p):
    return sorted_ms[max(0, math.ceil(p * len(sorted_ms)) - 1)]
def timed(kinds, result):
    """WARMUP untimed, then RUNS timed rounds of KINDS, one request at a time, alternating."""
    answers, times = {}, {k: [] for k in kinds}
    for _ in range(warmup):
        for k, (server, path, headers) in kinds.items():
            answers[k] = get(server, path, headers)[1]
    pids = {server: servers[server][1] for server, _, _ in kinds.values()}
    c0, b0 = {s: cpu_ticks(p) for s, p in pids.items()}, busy()
    for _ in range(runs):
        for k, (server, path, headers) in kinds.items():
            took, answers[k] = get(server, path, headers)
            times[k].append(took)
    b1, c1 = busy(), {s: cpu_ticks(p) for s, p in pids.items()}
    idle, total = b1[0] - b0[0], b1[1] - b0[1]
    result.setdefault("machine_busy_pct", []).append(100 * (1 - idle / total) if total else 0)
    for k, (server, _, _) in kinds.items():
        ms, a = sorted(times[k]) or [float("nan")], answers[k]
        if server.startswith("livedash"):
            points, extra = len(a["points"]), {"tier": a.get("tier")}
        else:
            res = a["data"]["result"]
            points, extra = (len(res[0]["values"]) if res else 0), {}
        if points == 0:
            sys.exit(f"{k}: an empty answer for {result['name']}")
        # Each kind has its server to itself within a phase: its CPU over the timed runs, per query.
        cpu = (c1[server] - c0[server]) / hz * 1000 / max(runs, 1)
        result[k] = {"points": points, "p50": pct(ms, 0.5), "p99": pct(ms, 0.99), "max": ms[-1], "cpu_ms": cpu, **extra}
        print(f"{result['name']} {k}: {points} points, p50 {result[k]['p50']:.1f} ms, p99 {result[k]['p99']:.1f} ms, "
              f"max {result[k]['max']:.1f} ms, {cpu:.1f} CPU ms/query", file=sys.stderr)
queries = []
for name, length in ((span, span_ms(span)), (short, span_ms(short))):
    frm = max(first, to - length)
    step_ms = (to - frm) // 999
    selector = f'{series}{{source="{source}"}}'
    history = "/api/history?" + urllib.parse.urlencode({"source": source, "series": series, "from": frm, "to": to, "points": 1000})
    query_range = lambda q: "/api/v1/query_range?" + urllib.parse.urlencode(
        {"query": q, "start": f"{frm / 1000:.3f}", "end": f"{to / 1000:.3f}", "step": f"{step_ms / 1000:.3f}"})
    label = f"{name[:-1]}-{ {'h': 'hour', 'd': 'day'}[name[-1]] }"
    result = {"name": f"{label} range", "from_ms": frm, "to_ms": to, "step_ms": step_ms}
    # The comparison, alternating; then max_over_time alone (its CPU apart from the plain query's).
    timed({"livedash": ("livedash", history, {"Authorization": auth}),
           "livedash_default": ("livedash_default", history, {"Authorization": auth}),
           "prometheus": ("prometheus", query_range(selector), {})}, result)
    timed({"prometheus_max": ("prometheus", query_range(f"max_over_time({selector}[{step_ms}ms])"), {})}, result)
    queries.append(result)
    with open(f"{out}/load.txt", "a") as load:
        load.write(f"{label} queries {' '.join(open('/proc/loadavg').read().split()[:3])}, cores "
                   + " and ".join(f"{b:.0f}" for b in result["machine_busy_pct"]) + " % busy\n")
json.dump({"when": f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M}", "commit": commit, "span": span, "series": series,
           "runs": runs, "warmup": warmup, "prometheus_version": version, "disk": disk, "queries": queries},
          open(f"{out}/figures.json", "w"), indent=1)
PY
kill "$livedash" "$default" "$prom"
wait "$livedash" "$default" "$prom" 2>/dev/null || true
rm -f "$out"/history.db* "$out"/default.db*
rm -rf "$out/prometheus" "$out/data" "$out/data-default"
if [ $mode = smoke ]; then
  results=- report >"$out/section.md"
  log "smoke run passed: $out/section.md"
else
  report
  log "results in $out; section rewritten in $results"
fi
