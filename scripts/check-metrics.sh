#!/usr/bin/env bash
# Starts livedash on loopback with a metrics listener, in a cluster on a redis-server of its own so
# that the cluster's families appear too, lets every kind of metric appear (a login, a refusal, a
# socket), and checks the exposition with Prometheus's own linter (`promtool check metrics`): no
# finding is allowed. The server and Redis are stopped by their process ids.
# Usage: scripts/check-metrics.sh [path/to/livedash]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bin=${1:-target/debug/livedash}
[ -x "$bin" ] || die "build livedash first (scripts/build.sh)"
command -v promtool >/dev/null || die "promtool not found (scripts/setup.sh --tests installs it)"
command -v redis-server >/dev/null || die "redis-server not found (scripts/setup.sh --tests installs it)"
port=$((20000 + RANDOM % 20000))
data=$(mktemp -d)
redis-server --bind 127.0.0.1 --port $((port + 2)) --save '' --appendonly no --loglevel warning >/dev/null 2>&1 &
redis=$!
head -c 32 /dev/urandom | base64 >"$data/cluster.key"
for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$((port + 2))") 2>/dev/null && break; sleep 0.1; done
LIVEDASH_ADMIN_PASSWORD=metrics-pw RUST_LOG=error "$bin" --listen 127.0.0.1:$port \
  --metrics-listen 127.0.0.1:$((port + 1)) --data-dir "$data" --redis-url "redis://127.0.0.1:$((port + 2))" \
  --cluster-key-file "$data/cluster.key" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid $redis 2>/dev/null; wait $pid $redis 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
curl -s -o /dev/null -u admin:metrics-pw "http://127.0.0.1:$port/api/ws-ticket"
curl -s -o /dev/null -u admin:wrong "http://127.0.0.1:$port/"
sleep 1
exposition=$(curl -s --max-time 3 "http://127.0.0.1:$((port + 1))/metrics")
families=$(grep -c '^# TYPE' <<<"$exposition")
grep -q '^livedash_cluster_redis_up 1$' <<<"$exposition" || die "the cluster's families are not in /metrics (or Redis was not reached)"
findings=$(promtool check metrics <<<"$exposition" 2>&1) || { echo "$findings"; die "promtool found problems in /metrics"; }
log "promtool check metrics: no findings in $families metric families"
