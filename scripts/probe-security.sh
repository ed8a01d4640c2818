#!/usr/bin/env bash
# Probes a freshly started livedash on loopback with the refusals the README promises and prints
# one line per case: what was sent, the status expected, the status got. Exits non-zero on any
# mismatch. Bounded: about 200 requests, each with a 3-second cap; the servers it starts are
# stopped by their process ids. Usage: scripts/probe-security.sh [path/to/livedash]  (default: a built one)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bin=${1:-}
[ -n "$bin" ] || for b in target/release/livedash target/debug/livedash; do [ -x "$b" ] && { bin=$b; break; }; done
[ -x "${bin:-}" ] || die "build livedash first (scripts/build.sh)"
port=$((20000 + RANDOM % 20000))
base=http://127.0.0.1:$port
pw=probe-password-$RANDOM
LIVEDASH_ADMIN_PASSWORD=$pw RUST_LOG=error "$bin" --listen 127.0.0.1:$port --data-dir "$(mktemp -d)" >/dev/null &
pid=$!
pids=($pid)
tmp=$(mktemp -d)
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
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
check "GET /api/history, no credentials"                   401 "$base/api/history?source=local&series=cpu_pct"
check "GET /api/series, no credentials"                    401 "$base/api/series"
check "GET /, wrong password"                              401 -u "admin:wrong" "$base/"
check "GET /, right password (the browser keeps its cookie)"  200 -u "admin:$pw" -c "$tmp/jar" "$base/"
check "GET /api/history: from is no time (a 400, not a 500)" 400 -u "admin:$pw" "$base/api/history?source=local&series=cpu_pct&from=%00%ff"
check "GET /api/history: points out of range"              400 -u "admin:$pw" "$base/api/history?source=local&series=cpu_pct&points=99999999999999999999"
check "GET /api/history: a name like SQL"                  404 -u "admin:$pw" "$base/api/history?source=local&series=x%27%20OR%201=1--"
check "GET /api/notify, no credentials"                     401 "$base/api/notify"
check "POST /api/notify/test, cross-site"                  403 -u "admin:$pw" -H "Sec-Fetch-Site: cross-site" -d "channel=x" "$base/api/notify/test"
check "POST /api/notify/test: garbage (a 400, not a 500)"  400 -u "admin:$pw" -H "Content-Type: application/json" --data-binary $'{\xff' "$base/api/notify/test"
check "POST /api/notify/test: no such channel"             404 -u "admin:$pw" -d "channel=nobody" "$base/api/notify/test"
check "GET /api/notify/deliveries: limit out of range"     400 -u "admin:$pw" "$base/api/notify/deliveries?limit=99999999999999999999"
health=$(curl -s "$base/healthz")
case "$health" in *local*) printf '%-62s %s\n' "GET /healthz names no source" "MISMATCH: $health"; fails=$((fails + 1)) ;;
  *) printf '%-62s %s\n' "GET /healthz names no source" "ok: $health" ;; esac
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

# Lock-out: 11 wrong passwords for admin from each of 3 more addresses.
for a in 4 5 6; do for i in $(seq 11); do curl -s -o /dev/null --max-time 3 --interface 127.0.0.$a -u "admin:wrong$i" "$base/"; done; done
check "after 33 guesses from 3 addresses: the open page's ticket" 200 --interface 127.0.0.7 -u "admin:$pw" -b "$tmp/jar" "$base/api/ws-ticket"
check "after 33 guesses from 3 addresses: a new browser"    200 --interface 127.0.0.8 -u "admin:$pw" "$base/"
# A flood of bad tickets from one address: 401 while its budget lasts, then 429.
codes=$(for i in $(seq 100); do curl -s -o /dev/null -w '%{http_code}\n' --max-time 3 --interface 127.0.0.9 "${ws[@]}" "$base/ws?ticket=garbage$i"; done | sort | uniq -c | tr -s ' ' | tr '\n' ',')
case "$codes" in *" 429"*) mark=ok ;; *) mark=MISMATCH; fails=$((fails + 1)) ;; esac
printf '%-62s %s  %s\n' "100 bad tickets from 127.0.0.9: 401s, then 429s" "$codes" "$mark"

# A SIGHUP 50 ms after the start, as a service manager's reload right after a start.
port2=$((port + 1))
users="$tmp/users"
printf 'admin:%s\n' "$(printf '%s' "$pw" | "$bin" hash-password)" > "$users"
chmod 600 "$users"
RUST_LOG=error "$bin" --listen 127.0.0.1:$port2 --users-file "$users" --data-dir "$tmp/data2" >/dev/null 2>&1 &
pid2=$!
pids+=($pid2)
sleep 0.05
kill -HUP "$pid2"
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port2/healthz" && break; sleep 0.1; done
check "SIGHUP 50 ms after the start: still serving"         200 "http://127.0.0.1:$port2/healthz"
# A ticket minted before a password change, used after the reload.
old_ticket=$(curl -s -u "admin:$pw" "http://127.0.0.1:$port2/api/ws-ticket" | tr -d '"')
printf 'admin:%s\n' "$(printf 'a-new-password' | "$bin" hash-password)" > "$users"
kill -HUP "$pid2"
for _ in $(seq 50); do [ "$(curl -s -o /dev/null -w '%{http_code}' -u admin:a-new-password "http://127.0.0.1:$port2/healthz")" = 200 ] && curl -s -o /dev/null -f -u admin:a-new-password "http://127.0.0.1:$port2/api/ws-ticket" && break; sleep 0.1; done
check "WS: a ticket from before the password change"         401 "${ws[@]}" "http://127.0.0.1:$port2/ws?ticket=$old_ticket"
[ "$fails" = 0 ] || die "$fails case(s) did not get the expected status"
log "all cases got the expected status"
