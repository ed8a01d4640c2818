#!/usr/bin/env bash
# Runs nginx in the foreground with the round-robin block of README.md ("Several instances") in
# front of two livedash instances, so that the browser tests check the snippet people copy. Only
# what cannot run here changes: it listens on 127.0.0.1:PROXY_PORT without TLS and its upstream
# servers are BACKEND_A and BACKEND_B. Each request's path and the instance that served it are
# logged to target/e2e-nginx-cluster/upstreams.log for the tests to read.
#
#   end2end/nginx-cluster.sh PROXY_PORT BACKEND_A BACKEND_B
set -euo pipefail

proxy_port=${1:?usage: nginx-cluster.sh PROXY_PORT BACKEND_A BACKEND_B}
backend_a=${2:?usage: nginx-cluster.sh PROXY_PORT BACKEND_A BACKEND_B}
backend_b=${3:?usage: nginx-cluster.sh PROXY_PORT BACKEND_A BACKEND_B}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/target/e2e-nginx-cluster
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "nginx-cluster.sh: nginx is not installed (bash scripts/setup.sh --tests installs it)" >&2; exit 1; }

# The README's nginx block that holds `upstream livedash`.
block=$(awk '
  /^```nginx$/ { inside = 1; text = ""; next }
  inside && /^```$/ { inside = 0; if (text ~ /upstream livedash \{/) { printf "%s", text; exit } next }
  inside { text = text $0 "\n" }
' "$root/README.md")
block=$(printf '%s\n' "$block" | sed \
  -e "s/listen 443 ssl;/listen 127.0.0.1:$proxy_port;/" \
  -e '/ssl_certificate/d' \
  -e "s/server 127.0.0.1:3001;/server 127.0.0.1:$backend_a;/" \
  -e "s/server 127.0.0.1:3002;/server 127.0.0.1:$backend_b;/")
for expected in "listen 127.0.0.1:$proxy_port;" "server 127.0.0.1:$backend_a;" "server 127.0.0.1:$backend_b;" \
  "proxy_pass http://livedash;"; do
  if ! grep -qF "$expected" <<<"$block"; then
    echo "nginx-cluster.sh: the README's upstream block no longer has the line this script adapts ($expected)" >&2
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
    log_format upstreams '\$request_uri \$upstream_addr';
    access_log $dir/upstreams.log upstreams;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
$block
}
CONF
exec "$nginx" -p "$dir" -c "$dir/nginx.conf"
