# Shared by the benchmark scripts (sourced after lib.sh): the processes a run starts, stopped by
# their ids when the script exits; waiting for a port; the wsload tool.
# shellcheck shell=bash

pids=()
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap stop_all EXIT

# Waits until something listens on 127.0.0.1:PORT (TRIES tenths of a second, default 100).
wait_port() { # PORT [TRIES]
  for _ in $(seq "${2:-100}"); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done
  die "port $1 did not open"
}

# A real JSON upstream on 127.0.0.1:PORT in the background (its id in pids): 200 series `s0_pct` ..
# `s199_pct`, each a random walk in [0, 100] moving up to STEP per fetch; HTTP/1.0 (a connection per
# fetch) unless HTTP/1.1 (keep-alive) is asked for.
wide_upstream() { # PORT STEP [HTTP/1.0|HTTP/1.1]
  python3 - "$1" "$2" "${3:-HTTP/1.0}" <<'PY' &
import http.server, json, random, sys
step = float(sys.argv[2])
values = [random.random() * 100 for _ in range(200)]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = sys.argv[3]
    def do_GET(self):
        for i in range(200):
            values[i] = round(min(100.0, max(0.0, values[i] + random.uniform(-step, step))), 2)
        body = json.dumps({f"s{i}_pct": v for i, v in enumerate(values)}).encode()
        self.send_response(200); self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
  pids+=($!)
  wait_port "$1" 300
}

# The wsload binary: $WSLOAD, or built (release) from ../shared/wsload into target/wsload.
wsload_binary() {
  if [ -n "${WSLOAD:-}" ]; then
    [ -x "$WSLOAD" ] || die "no wsload at $WSLOAD"
    echo "$WSLOAD"
    return
  fi
  [ -f ../shared/wsload/Cargo.toml ] || die "no ../shared/wsload (set WSLOAD=path/to/wsload)"
  log "building wsload (release) into target/wsload"
  CARGO_TARGET_DIR=target/wsload cargo build --release -q --manifest-path ../shared/wsload/Cargo.toml >&2
  echo target/wsload/release/wsload
}
