#!/usr/bin/env bash
# One command from a fresh clone to the dashboard on this machine's own metrics:
# installs what is missing, builds in release mode and runs target/release/livedash.
# Extra arguments go to livedash (e.g. --listen 127.0.0.1:8080); see `livedash --help`.
# Before starting the server it prints how long each step took.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
step "tools (scripts/setup.sh)" scripts/setup.sh
step "build (scripts/build.sh)" scripts/build.sh
steps_report
log "starting livedash (Ctrl-C to stop)"
exec target/release/livedash "$@"
