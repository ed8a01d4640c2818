#!/usr/bin/env bash
# Tests the Debian package and its unit (README, "Install on a server"), with the debug build the
# test command made (scripts/build.sh --debug-server), so no release build:
#  1. the package's contents are exactly the expected files, config.toml its one conffile;
#  2. `dpkg --root DIR --force-script-chrootless` installs it into a scratch root: the user
#     livedash, the users file (livedash 0600, `admin`), the admin password (root 0600), the boot
#     link; the host's own users and units untouched;
#  3. the installed binary, run as that user under the unit's restrictions as far as this machine
#     can reproduce them (scripts/test-confined.sh), logs in with that password and shows real CPU
#     and memory figures;
#  4. a second package of a higher version installs over it, keeping the edited config, the users
#     file, the password and the data; `-r` keeps the data, `-P` removes it;
#  5. `systemd-analyze verify` passes on the unit, and `systemd-analyze security` holds it at the
#     README's exposure level and fails a weakened copy.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

fail() { die "test-package: $*"; }
# Under target/, not /tmp: the confined run hides /tmp as the unit's PrivateTmp does.
mkdir -p target
scratch=$(mktemp -d "$ROOT/target/package-test.XXXXXX")
chmod 0755 "$scratch"
trap 'rm -rf "$scratch"' EXIT
root=$scratch/root

log "package: building two debug packages (the second one's version is higher)"
deb1=$(scripts/package.sh --debug)
version=$(dpkg-deb -f "$deb1" Version)
deb2=$(scripts/package.sh --debug --deb-version "$version+upgrade1")
[ "$(dpkg-deb -f "$deb2" Version)" = "$version+upgrade1" ] || fail "the second package's version is not $version+upgrade1"

log "package: contents"
expected="./etc/livedash/config.toml
./usr/bin/livedash
./usr/lib/systemd/system/livedash.service
./usr/lib/sysusers.d/livedash.conf
./usr/share/doc/livedash/README.md
./usr/share/doc/livedash/copyright
./usr/share/doc/livedash/examples/bind-443.conf"
actual=$(dpkg-deb --fsys-tarfile "$deb1" | tar -t | sed 's|^\([^.]\)|./\1|' | grep -v '/$' | sort)
[ "$actual" = "$expected" ] || fail "the package holds other files than expected:
$(diff <(echo "$expected") <(echo "$actual") || true)"
[ "$(dpkg-deb -I "$deb1" conffiles)" = /etc/livedash/config.toml ] || fail "config.toml is not the one conffile"
for script in postinst prerm postrm; do
  dpkg-deb -I "$deb1" "$script" >/dev/null || fail "the package has no $script"
done
# The packaged files are the ones in packaging/ (the binary apart).
dpkg-deb -x "$deb1" "$scratch/x"
cmp -s "$scratch/x/usr/lib/systemd/system/livedash.service" packaging/livedash.service || fail "the unit is not packaging/livedash.service"
cmp -s "$scratch/x/etc/livedash/config.toml" packaging/config.toml || fail "config.toml is not packaging/config.toml"

log "package: installing into a scratch root (dpkg --root, scripts run on the host)"
# What dpkg needs in an empty root: its database (status, info/, updates/), and the root
# user and group that sysusers adds to.
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc"
: >"$root/var/lib/dpkg/status"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
# What of the host the maintainer scripts could touch: its users, its units, livedash's paths.
host_state() {
  sha256sum /etc/passwd /etc/group /etc/shadow /etc/gshadow
  ls -A /etc/systemd/system 2>/dev/null || true
  ls -d /etc/livedash /var/lib/livedash /usr/bin/livedash 2>/dev/null || true
}
host_before=$(host_state)
# --force-depends: the scratch root has no libc6 package registered (the host's libc runs it).
dpkg_root() { dpkg --root "$root" --force-script-chrootless --force-depends "$@"; }
dpkg_root -i "$deb1" >"$scratch/install.log" 2>&1 || { cat "$scratch/install.log"; fail "dpkg -i failed"; }
grep -q 'admin-password' "$scratch/install.log" || fail "the install did not say where the admin password is"
host_after=$(host_state)
[ "$host_before" = "$host_after" ] || fail "installing into the scratch root changed the host (its users, units or livedash paths)"

# stat's owner, group and mode of a file in the scratch root.
owner_mode() { stat -c '%u:%g %a' "$root$1"; }
uid=$(awk -F: '$1 == "livedash" { print $3 }' "$root/etc/passwd")
gid=$(awk -F: '$1 == "livedash" { print $3 }' "$root/etc/group")
[ -n "$uid" ] && [ -n "$gid" ] || fail "no system user/group livedash in the root's /etc/passwd, /etc/group"
[ "$uid" -lt 1000 ] || fail "livedash's uid $uid is not a system uid"
grep -q '^livedash:[^:]*:[0-9]*:[0-9]*:[^:]*:/var/lib/livedash:/usr/sbin/nologin$' "$root/etc/passwd" ||
  fail "livedash's passwd line has not the home /var/lib/livedash and no login shell"
[ -x "$root/usr/bin/livedash" ] || fail "no /usr/bin/livedash"
[ "$(owner_mode /etc/livedash/users)" = "$uid:$gid 600" ] ||
  fail "/etc/livedash/users is $(owner_mode /etc/livedash/users), not livedash:livedash 600"
grep -Eq '^admin:\$argon2id\$' "$root/etc/livedash/users" || fail "the users file has no argon2id line for admin"
[ "$(owner_mode /etc/livedash/admin-password)" = "0:0 600" ] ||
  fail "/etc/livedash/admin-password is $(owner_mode /etc/livedash/admin-password), not root:root 600"
password=$(cat "$root/etc/livedash/admin-password")
[ "${#password}" -ge 16 ] || fail "the admin password is shorter than 16 characters"
grep -qF "$password" "$root/etc/livedash/users" && fail "the users file holds the password in clear"
[ "$(owner_mode /var/lib/livedash)" = "$uid:$gid 750" ] || fail "/var/lib/livedash is $(owner_mode /var/lib/livedash)"
[ -L "$root/etc/systemd/system/multi-user.target.wants/livedash.service" ] || fail "the service is not enabled in the root"

log "package: check-config on the shipped config, as the service's user with the unit's environment"
check_config() {
  setpriv --reuid="$uid" --regid="$gid" --clear-groups -- env -i PATH=/usr/bin:/bin \
    LIVEDASH_CONFIG="$1" LIVEDASH_DATA_DIR="$root/var/lib/livedash" \
    LIVEDASH_USERS_FILE="$root/etc/livedash/users" "$root/usr/bin/livedash" check-config
}
check_config "$root/etc/livedash/config.toml" >&2 || fail "check-config refused the shipped /etc/livedash/config.toml"
# The defaults the file shows in comments are values the server accepts: uncommented, it passes.
sed -E 's/^# ((interval|history|history_bytes|store_max_bytes|store_raw_for|store_1m_for|store_1h_for|store_max_reads|login|session_idle|session_lifetime|session_remember_idle|session_remember_lifetime) = )/\1/' \
  "$root/etc/livedash/config.toml" >"$scratch/defaults.toml"
[ "$(grep -cE '^[a-z_0-9]+ = ' "$scratch/defaults.toml")" -ge 13 ] || fail "fewer commented defaults than expected in config.toml"
chmod 0644 "$scratch/defaults.toml"
check_config "$scratch/defaults.toml" >/dev/null || fail "check-config refused the defaults config.toml shows in comments"
echo 'intervall = "1s"' >>"$scratch/defaults.toml"
out=$(check_config "$scratch/defaults.toml" 2>&1) && fail "check-config accepted an unknown key"
grep -q "defaults.toml: line [0-9]*, column 1: unknown field .intervall." <<<"$out" ||
  fail "check-config did not name the bad key's line: $out"

log "package: the installed binary under the unit's restrictions (scripts/test-confined.sh)"
scripts/test-confined.sh "$root" "$password"

log "package: upgrading to $version+upgrade1 over a local edit"
echo 'marker' >"$root/var/lib/livedash/marker"
mkdir -p "$root/var/lib/livedash/tls"
echo 'certificate' >"$root/var/lib/livedash/tls/cert.pem"
echo '# a local edit' >>"$root/etc/livedash/config.toml"
kept() { sha256sum "$root/etc/livedash/config.toml" "$root/etc/livedash/users" "$root/etc/livedash/admin-password" \
  "$root/var/lib/livedash/marker" "$root/var/lib/livedash/tls/cert.pem" "$root/var/lib/livedash/history.db"; }
before=$(kept)
dpkg_root -i "$deb2" >"$scratch/upgrade.log" 2>&1 || { cat "$scratch/upgrade.log"; fail "the upgrade failed"; }
grep -q 'admin-password' "$scratch/upgrade.log" && fail "the upgrade made a new admin password"
[ "$(dpkg-query --root "$root" -W -f '${Version}' livedash)" = "$version+upgrade1" ] || fail "the upgrade did not install $version+upgrade1"
[ "$(kept)" = "$before" ] || fail "the upgrade changed the config, users file, password or data:
$(diff <(echo "$before") <(kept) || true)"
[ "$(owner_mode /etc/livedash/users)" = "$uid:$gid 600" ] || fail "the upgrade changed the users file's owner or mode"

log "package: remove keeps the data, purge deletes it"
dpkg_root -r livedash >"$scratch/remove.log" 2>&1 || { cat "$scratch/remove.log"; fail "dpkg -r failed"; }
[ ! -e "$root/usr/bin/livedash" ] || fail "remove left /usr/bin/livedash"
[ ! -e "$root/usr/lib/systemd/system/livedash.service" ] || fail "remove left the unit"
[ "$(kept)" = "$before" ] || fail "remove changed the config, users file, password or data"
dpkg_root -P livedash >"$scratch/purge.log" 2>&1 || { cat "$scratch/purge.log"; fail "dpkg -P failed"; }
for gone in /var/lib/livedash /etc/livedash /etc/systemd/system/multi-user.target.wants/livedash.service; do
  [ ! -e "$root$gone" ] && [ ! -L "$root$gone" ] || fail "purge left $gone"
done
grep -q '^livedash:' "$root/etc/passwd" || fail "purge removed the system user (Debian keeps it)"
host_after=$(host_state)
[ "$host_before" = "$host_after" ] || fail "the scratch root's remove or purge changed the host"

log "unit: systemd-analyze verify"
# verify looks for the unit's programs and dependencies under --root: a root with the host's
# units, /bin/kill and the packaged unit and binary.
verify=$scratch/verify
mkdir -p "$verify/usr/bin" "$verify/usr/lib/systemd"
cp -a /usr/lib/systemd/system "$verify/usr/lib/systemd/"
ln -s usr/bin "$verify/bin"
cp "$(type -P kill)" "$verify/usr/bin/kill"
cp "$scratch/x/usr/bin/livedash" "$verify/usr/bin/livedash"
cp "$scratch/x/usr/lib/systemd/system/livedash.service" "$verify/usr/lib/systemd/system/"
systemd-analyze verify --root="$verify" livedash.service || fail "systemd-analyze verify failed"
# and it can fail: the same unit with a program that is not there.
sed -i 's|^ExecStart=/usr/bin/livedash|ExecStart=/usr/bin/livedash-missing|' "$verify/usr/lib/systemd/system/livedash.service"
if systemd-analyze verify --root="$verify" livedash.service 2>/dev/null; then
  fail "systemd-analyze verify passed a unit whose program is missing"
fi

log "unit: systemd-analyze security at the README's exposure level"
score=$(grep -oE 'exposure level \*\*[0-9]+\.[0-9]\*\*' README.md | head -n 1 | grep -oE '[0-9]+\.[0-9]' || true)
[ -n "$score" ] || fail "README states no exposure level (\"exposure level **N.N**\")"
threshold=${score/./}  # systemd-analyze's threshold is in tenths: 1.1 is 11
threshold=$((10#$threshold))
systemd-analyze security --offline=true --threshold="$threshold" packaging/livedash.service >"$scratch/security.txt" 2>&1 ||
  { tail -n 3 "$scratch/security.txt"; fail "the unit's exposure is above the README's $score"; }
grep "Overall exposure level" "$scratch/security.txt" >&2
# The threshold bites: one option less (no system call filter) and the same check fails.
grep -v '^SystemCallFilter=' packaging/livedash.service >"$scratch/weak.service"
if systemd-analyze security --offline=true --threshold="$threshold" "$scratch/weak.service" >/dev/null 2>&1; then
  fail "a unit without SystemCallFilter still passed --threshold=$threshold"
fi
log "package and unit: all checks passed"
