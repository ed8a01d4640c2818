#!/usr/bin/env bash
# Runs nginx in the foreground with the server block of README.md ("Behind a reverse proxy"),
# so that the browser tests check the snippet people copy. Only what cannot run here changes:
# it listens on 127.0.0.1:PROXY_PORT without TLS and proxies to BACKEND_PORT.
#
#   end2end/nginx.sh PROXY_PORT BACKEND_PORT
set -euo pipefail

proxy_port=${1:?usage: nginx.sh PROXY_PORT BACKEND_PORT}
backend_port=${2:?usage: nginx.sh PROXY_PORT BACKEND_PORT}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/target/e2e-nginx
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "nginx.sh: nginx is not installed (bash scripts/setup.sh --tests installs it)" >&2; exit 1; }

block=$(awk '/^```nginx$/ { inside = 1; next } inside && /^```$/ { exit } inside' "$root/README.md")
block=$(printf '%s\n' "$block" | sed \
  -e "s/listen 443 ssl;/listen 127.0.0.1:$proxy_port;/" \
  -e '/ssl_certificate/d' \
  -e "s#proxy_pass http://127.0.0.1:3000;#proxy_pass http://127.0.0.1:$backend_port;#")
for expected in "listen 127.0.0.1:$proxy_port;" "proxy_pass http://127.0.0.1:$backend_port;"; do
  if ! grep -qF "$expected" <<<"$block"; then
    echo "nginx.sh: the README's nginx block no longer has the line this script adapts ($expected)" >&2
    exit 1
  fi
done

rm -rf "$dir"
mkdir -p "$dir/tmp"
cat >"$dir/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log stderr warn;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
$block
}
CONF
exec "$nginx" -p "$dir" -c "$dir/nginx.conf"
