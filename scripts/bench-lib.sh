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
