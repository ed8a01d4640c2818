#!/usr/bin/env bash
# Probes a freshly started livedash on loopback with the refusals the README promises and prints
# one line per case: what was sent, the status expected, the status got. Exits non-zero on any
# mismatch. Bounded: about 40 requests, each with a 3-second cap; the server it starts is stopped
# by its process id. Usage: scripts/probe-security.sh [path/to/livedash]  (default: a built one)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bin=${1:-}
[ -n "$bin" ] || for b in target/release/livedash target/debug/livedash; do [ -x "$b" ] && { bin=$b; break; }; done
[ -x "${bin:-}" ] || die "build livedash first (scripts/build.sh)"
port=$((20000 + RANDOM % 20000))
base=http://127.0.0.1:$port
pw=probe-password-$RANDOM
LIVEDASH_ADMIN_PASSWORD=$pw RUST_LOG=error "$bin" --listen 127.0.0.1:$port --login-attempts-per-ip 5 >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "$base/healthz" && break; sleep 0.1; done

fails=0
ws=(-H "Connection: Upgrade" -H "Upgrade: websocket" -H "Sec-WebSocket-Version: 13" -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==")
check() { # description, expected status, curl arguments...
  local what=$1 want=$2; shift 2
  local got
  got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$@" || true)
  got=${got:0:3}
  local mark=ok; [ "$got" = "$want" ] || { mark=MISMATCH; fails=$((fails + 1)); }
  printf '%-62s %s  %s  %s\n' "$what" "$want" "$got" "$mark"
}
b64() { printf '%s' "$1" | base64 -w0; }
long=$(head -c 49152 /dev/zero | tr '\0' 'A')

printf '%-62s %s  %s\n' "case" "want" "got"
check "GET /healthz, no credentials"                       200 "$base/healthz"
check "GET /, no credentials"                              401 "$base/"
check "GET /pkg/livedash.js, no credentials"               401 "$base/pkg/livedash.js"
check "GET /api/snapshot, no credentials"                  401 "$base/api/snapshot"
check "GET /, wrong password"                              401 -u "admin:wrong" "$base/"
check "GET /, right password"                              200 -u "admin:$pw" "$base/"
check "Authorization: raw non-UTF-8 bytes"                 401 -H $'Authorization: Basic \xff\xfe\xfd' "$base/"
check "Authorization: bad base64"                          401 -H "Authorization: Basic !!!notbase64" "$base/"
check "Authorization: no colon in the decoded value"       401 -H "Authorization: Basic $(b64 admin)" "$base/"
check "Authorization: empty value"                         401 -H "Authorization;" "$base/"
check "Authorization: 'Basic' alone"                       401 -H "Authorization: Basic" "$base/"
check "Authorization: another scheme (Bearer)"             401 -H "Authorization: Bearer abc.def" "$base/"
check "Authorization: 48 KiB value"                        431 -H "Authorization: Basic $long" "$base/"
check "64 KiB of other headers"                            431 -H "X-A: $long" -H "X-B: $long" "$base/"
check "WS: no credentials"                                 401 "${ws[@]}" "$base/ws"
check "WS: wrong password"                                 401 "${ws[@]}" -u "admin:wrong" "$base/ws"
check "WS: garbage ticket"                                 401 "${ws[@]}" "$base/ws?ticket=garbage"
check "WS: truncated ticket"                               401 "${ws[@]}" "$base/ws?ticket=$(curl -s -u admin:$pw $base/api/ws-ticket | tr -d '"' | head -c 30)"
check "WS: foreign Origin, valid credentials"              403 "${ws[@]}" -u "admin:$pw" -H "Origin: https://evil.example" "$base/ws"
check "WS: foreign Origin, no credentials"                 403 "${ws[@]}" -H "Origin: https://evil.example" "$base/ws"
check "WS: own Origin, valid credentials"                  101 "${ws[@]}" -u "admin:$pw" -H "Origin: $base" "$base/ws"
ticket=$(curl -s -u "admin:$pw" "$base/api/ws-ticket" | tr -d '"')
check "WS: fresh ticket"                                   101 "${ws[@]}" "$base/ws?ticket=$ticket"
check "WS: the same ticket again (replay)"                 401 "${ws[@]}" "$base/ws?ticket=$ticket"
for i in 1 2 3 4 5; do
  check "brute force from 127.0.0.2, attempt $i"           401 --interface 127.0.0.2 -u "admin:guess$i" "$base/"
done
check "brute force from 127.0.0.2, attempt 6"              429 --interface 127.0.0.2 -u "admin:guess6" "$base/"
check "right password from 127.0.0.2 while throttled"      429 --interface 127.0.0.2 -u "admin:$pw" "$base/"
check "right password from 127.0.0.3"                      200 --interface 127.0.0.3 -u "admin:$pw" "$base/"
check "WS from 127.0.0.2 while throttled (new credential)" 429 "${ws[@]}" --interface 127.0.0.2 -u "admin:guess7" "$base/ws"
retry=$(curl -s -D - -o /dev/null --interface 127.0.0.2 -u admin:guess8 "$base/" | tr -d '\r' | awk -F': ' 'tolower($1)=="retry-after"{print $2}')
printf '%-62s %s\n' "Retry-After on the 429" "${retry:-none}"
[ -n "$retry" ] || fails=$((fails + 1))
[ "$fails" = 0 ] || die "$fails case(s) did not get the expected status"
log "all cases got the expected status"
