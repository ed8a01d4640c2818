#!/usr/bin/env bash
# Runs livedash as packaging/livedash.service would, on a machine where systemd does not run the
# unit (here PID 1 is not systemd, so `systemd-run` cannot start it), and checks that the `local`
# source still reads real CPU and memory figures and that the admin password logs in.
#
#   scripts/test-confined.sh ROOT PASSWORD      (KEEP_LOG=FILE keeps the server's log)
#
# ROOT is a root the package was installed into (scripts/test-package.sh): its /usr/bin/livedash
# runs as its user livedash with its config, users file and data directory. The unit's options
# reproduced (README, "Install on a server"):
#   User=, NoNewPrivileges, CapabilityBoundingSet=, AmbientCapabilities=   setpriv
#   ProtectSystem=strict (only the data and runtime directories writable), ProtectHome, PrivateTmp,
#   PrivateDevices, ProtectKernelTunables, ProtectControlGroups, ProtectProc=invisible
#                                                     a mount namespace (unshare --mount)
#   ProtectHostname, PrivateIPC                       unshare --uts --ipc
#   UMask, LimitNOFILE                                umask, ulimit
#   SystemCallFilter, SystemCallArchitectures, RestrictAddressFamilies, MemoryDenyWriteExecute,
#   RestrictNamespaces, RestrictSUIDSGID, LockPersonality      scripts/seccomp-exec.py
# Not reproduced: PrivateUsers (a user namespace), ProtectKernelModules/Logs beyond the filter,
# KeyringMode, RemoveIPC, DevicePolicy (a device cgroup), systemd acting on the watchdog. A
# datagram socket in the runtime directory stands in for systemd's notify socket.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

root=${1:?usage: scripts/test-confined.sh ROOT PASSWORD}
password=${2:?usage: scripts/test-confined.sh ROOT PASSWORD}
fail() { die "test-confined: $*"; }
case "$root" in /tmp/* | /var/tmp/* | /home/* | /root/*) fail "ROOT must not be under a path the unit hides: $root" ;; esac

if [ -d /run/systemd/system ]; then
  log "systemd runs here, but the test uses the same namespace reproduction everywhere"
else
  log "no running systemd (PID 1 is $(cat /proc/1/comm)): systemd-run cannot start the unit; reproducing it"
fi

uid=$(awk -F: '$1 == "livedash" { print $3 }' "$root/etc/passwd")
gid=$(awk -F: '$1 == "livedash" { print $3 }' "$root/etc/group")
[ -n "$uid" ] || fail "no user livedash in $root/etc/passwd"
state=$root/var/lib/livedash
runtime=$root/run/livedash
install -d -m 0750 -o "$uid" -g "$gid" "$state" "$runtime"
work=$(mktemp -d /tmp/livedash-confined.XXXXXX)
server_pid=
notify_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$notify_pid" ]; then kill "$notify_pid" 2>/dev/null || true; wait "$notify_pid" 2>/dev/null || true; fi
  [ -n "${KEEP_LOG:-}" ] && cp "$work/server.log" "$KEEP_LOG" && cp "$work/notify.log" "$KEEP_LOG.notify"
  rm -rf "$work"
}
trap cleanup EXIT

# The mount namespace's set-up, as root inside it, then the command as the service's user.
# Every mount read-only, the two directories writable again, empty /tmp, /var/tmp, /home,
# /root, a /dev of the harmless devices only, /proc without other users' processes.
# An array, not a function: started in the background, `$!` is then the server itself (unshare,
# sh, setpriv and the filter each exec the next).
setup='
    state=$1 runtime=$2 uid=$3 gid=$4 seccomp=$5; shift 5
    mount -t proc -o hidepid=invisible,nosuid,nodev,noexec proc /proc
    for m in $(awk "{ print \$5 }" /proc/self/mountinfo | sort -u); do
      mount -o remount,bind,ro "$m" 2>/dev/null || true
    done
    mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys
    for d in "$state" "$runtime"; do
      mount --bind "$d" "$d" && mount -o remount,bind,rw "$d"
    done
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /var/tmp
    for d in /home /root /run/user; do
      [ -d "$d" ] && mount -t tmpfs -o ro,mode=0755 tmpfs "$d"
    done
    mount -t tmpfs -o mode=0755,nosuid,noexec tmpfs /dev
    mknod -m 666 /dev/null c 1 3; mknod -m 666 /dev/zero c 1 5; mknod -m 666 /dev/full c 1 7
    mknod -m 666 /dev/random c 1 8; mknod -m 666 /dev/urandom c 1 9; mknod -m 666 /dev/tty c 5 0
    ln -s /proc/self/fd /dev/fd
    mkdir /dev/shm && mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
    mount -o remount,ro /dev
    umask 077
    ulimit -n 16384
    exec setpriv --reuid="$uid" --regid="$gid" --clear-groups --no-new-privs \
      --bounding-set=-all --inh-caps=-all --ambient-caps=-all -- /usr/bin/python3 "$seccomp" "$@"
'
confined=(unshare --mount --uts --ipc --propagation private -- /bin/sh -euc "$setup" confined
  "$state" "$runtime" "$uid" "$gid" "$ROOT/scripts/seccomp-exec.py")

log "confined: the restrictions hold (each probe must be refused)"
"${confined[@]}" /bin/sh -c "touch $state/probe && rm $state/probe" || fail "the data directory is not writable inside"
"${confined[@]}" /bin/sh -c "touch $ROOT/target/confined-probe" 2>/dev/null && fail "the source tree is writable inside"
"${confined[@]}" /bin/sh -c "ls -A /root | grep -q ." && fail "/root is visible inside"
"${confined[@]}" /bin/sh -c "test -e $work" && fail "the host's /tmp is visible inside"
"${confined[@]}" /bin/sh -c "test -e /dev/vda || test -e /dev/kmsg" && fail "block devices or /dev/kmsg are visible inside"
"${confined[@]}" /bin/sh -c "test -e /proc/1/status" && fail "other users' processes are visible inside"
"${confined[@]}" /usr/bin/python3 -c 'import socket; socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)' 2>/dev/null &&
  fail "a netlink socket could be opened inside"
"${confined[@]}" /usr/bin/python3 -c 'import ctypes, sys; sys.exit(ctypes.CDLL(None).unshare(0x10000000) != 0)' 2>/dev/null &&
  fail "a user namespace could be made inside"

# systemd's notify socket, stood in for by a datagram socket in the runtime directory, the
# service's user allowed to send to it: every message the server sends, one per line.
notify=$runtime/notify
python3 - "$notify" "$uid" >"$work/notify.log" 2>&1 <<'PY' &
import os, socket, sys
path, uid = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
if os.path.exists(path):
    os.unlink(path)
s.bind(path)
os.chown(path, uid, -1)
s.settimeout(60)
try:
    while True:
        msg = s.recv(4096).decode(errors="replace")
        print(msg.replace("\n", " "), flush=True)
        if "STOPPING=1" in msg:
            break
except socket.timeout:
    pass
os.unlink(path)
PY
notify_pid=$!
for _ in $(seq 50); do [ -S "$notify" ] && break; sleep 0.1; done
# The service's user reaches it through the restrictions (an AF_UNIX datagram, as sd_notify sends).
"${confined[@]}" /usr/bin/python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"X_PROBE=1", sys.argv[1])' "$notify" ||
  fail "the service's user cannot send to the notify socket inside"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log "confined: starting $root/usr/bin/livedash on 127.0.0.1:$port as livedash ($uid)"
# The unit's environment, with the scratch root's paths and a loopback port; HTTPS with the
# self-signed certificate, as the package's `listen` off loopback has (made in the data directory).
"${confined[@]}" /usr/bin/env -i PATH=/usr/bin:/bin RUNTIME_DIRECTORY="$runtime" \
  LIVEDASH_CONFIG="$root/etc/livedash/config.toml" LIVEDASH_DATA_DIR="$state" \
  LIVEDASH_USERS_FILE="$root/etc/livedash/users" LIVEDASH_LISTEN="127.0.0.1:$port" \
  LIVEDASH_TLS_SELF_SIGNED=true NOTIFY_SOCKET="$notify" WATCHDOG_USEC=2000000 "$root/usr/bin/livedash" >"$work/server.log" 2>&1 &
server_pid=$!
url=https://127.0.0.1:$port
for _ in $(seq 100); do
  [ -f "$state/tls/cert.pem" ] && curl -fsS --cacert "$state/tls/cert.pem" -o /dev/null "$url/healthz" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; fail "the confined server stopped"; }
  sleep 0.2
done
curl -fsS --cacert "$state/tls/cert.pem" -o /dev/null "$url/healthz" ||
  { cat "$work/server.log"; fail "the confined server did not answer /healthz over HTTPS"; }
# One core kept busy for 3 s (a shell loop outside the confinement): the samples taken meanwhile
# must show it, so the figures are read from this machine, not zeros or constants.
timeout 3 sh -c 'while :; do :; done' || true
curl -fsS --cacert "$state/tls/cert.pem" -u "admin:$password" "$url/api/snapshot" >"$work/snapshot.json" ||
  { cat "$work/server.log"; fail "the admin password from the package did not log in (/api/snapshot)"; }
python3 - "$work/snapshot.json" <<'EOF' || { cat "$work/server.log"; fail "the local source's figures are missing or implausible"; }
import json, os, sys
snap = json.load(open(sys.argv[1]))
found = {}
def walk(v):
    if isinstance(v, dict):
        for k, x in v.items():
            if k in ("cpu_pct", "cpu_core_pct", "mem_pct", "mem_used_bytes", "mem_total_bytes", "load_avg", "uptime_s"):
                found[k] = x
            walk(x)
    elif isinstance(v, list):
        for x in v:
            walk(x)
walk(snap)
series = [s["data"]["cpu_pct"] for s in snap.get("history", []) if "cpu_pct" in s.get("data", {})]
print("CPU % of the samples (one core kept busy meanwhile):", series)
print("confined local source:", {k: found.get(k) for k in ("cpu_pct", "cpu_core_pct", "mem_pct", "mem_total_bytes", "load_avg", "uptime_s")})
assert all(0 <= x <= 100 for x in series), "cpu_pct out of range"
assert max(series) >= 50 / os.cpu_count(), "cpu_pct does not show the busy core"
assert len(found["cpu_core_pct"]) == os.cpu_count(), "cpu_core_pct"
assert 0 < found["mem_pct"] < 100, "mem_pct"
assert found["mem_total_bytes"] > 256 * 2**20, "mem_total_bytes"
assert 0 < found["mem_used_bytes"] < found["mem_total_bytes"], "mem_used_bytes"
assert found["uptime_s"] > 0, "uptime_s"
assert len(found["load_avg"]) == 3, "load_avg"
EOF
grep -qi 'panic\|permission denied\|operation not permitted' "$work/server.log" &&
  { cat "$work/server.log"; fail "the confined server logged a refusal"; }
[ -f "$state/history.db" ] || fail "the confined server wrote no history store in its data directory"
[ "$(stat -c '%u %a' "$state/tls/key.pem")" = "$uid 600" ] || fail "the TLS key is not the service user's, mode 600"
[ "$(stat -c '%u %a' "$state/history.db")" = "$uid 600" ] || fail "the history store is not the service user's, mode 600 (UMask)"
pid_file=$runtime/livedash.pid
# An admin adds a user as root (`livedash users add`, told the server through its PID file in the
# runtime directory): the rewritten file stays the service's, and the new user logs in.
users=$root/etc/livedash/users
alice_password=$(head -c 18 /dev/urandom | base64 | tr -d '+/=')
echo "$alice_password" | RUNTIME_DIRECTORY="$runtime" "$root/usr/bin/livedash" users add alice --role viewer \
  --password-stdin --users-file "$users" 2>"$work/users-add.log" ||
  { cat "$work/users-add.log"; fail "livedash users add failed"; }
[ "$(stat -c '%u:%g %a' "$users")" = "$uid:$gid 600" ] || fail "users add left $users as $(stat -c '%u:%g %a' "$users")"
# A few tries a second apart: failed logins count against the per-user budget (5 a minute).
for _ in 1 2 3; do
  sleep 1
  curl -fsS --cacert "$state/tls/cert.pem" -u "alice:$alice_password" -o /dev/null "$url/api/snapshot" 2>/dev/null && break
done
curl -fsS --cacert "$state/tls/cert.pem" -u "alice:$alice_password" -o /dev/null "$url/api/snapshot" ||
  { cat "$work/users-add.log" "$work/server.log"; fail "the user added while the server ran cannot log in"; }
if [ -f "$pid_file" ]; then
  [ "$(cat "$pid_file")" = "$server_pid" ] || fail "the PID file holds $(cat "$pid_file"), not the server's $server_pid"
fi
kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
kill -0 "$server_pid" 2>/dev/null && fail "the confined server $server_pid did not stop"
server_pid=
[ ! -e "$pid_file" ] || fail "the server left its PID file $pid_file after a clean stop"
# The notify socket: readiness, the watchdog and the stop reached it through the restrictions.
for _ in 1 2 3 4 5; do kill -0 "$notify_pid" 2>/dev/null || break; sleep 0.2; done
kill "$notify_pid" 2>/dev/null || true
wait "$notify_pid" 2>/dev/null || true
notify_pid=
grep -q '^X_PROBE=1' "$work/notify.log" || fail "the notify socket did not get the probe's message"
# The server's own: READY=1 once listening, WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1.
for state in READY=1 WATCHDOG=1 STOPPING=1; do
  grep -q "$state" "$work/notify.log" || { cat "$work/notify.log"; fail "the confined server sent no $state"; }
done
log "confined: the server sent READY=1, WATCHDOG=1 and STOPPING=1 to the notify socket"
log "confined: the local source works under the unit's restrictions"
