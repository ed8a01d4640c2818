#!/usr/bin/env bash
# Runs nginx in the foreground with the round-robin block of README.md ("Several instances") in
# front of two livedash instances, so that the browser tests check the snippet people copy. Only
# what cannot run here changes: it listens on 127.0.0.1:PROXY_PORT without TLS and its upstream
# servers are BACKEND_A and BACKEND_B. Each request's path and the instance that served it are
# logged to target/e2e-nginx-cluster/upstreams.log for the tests to read.
#
#   end2end/nginx-cluster.sh PROXY_PORT BACKEND_A BACKEND_B
set -euo pipefail
. "$(dirname "$0")/nginx-lib.sh"

usage="usage: nginx-cluster.sh PROXY_PORT BACKEND_A BACKEND_B"
proxy_port=${1:?$usage}
backend_a=${2:?$usage}
backend_b=${3:?$usage}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/target/e2e-nginx-cluster

block=$(readme_nginx_block "$root/README.md" 'upstream livedash \{')
block=$(printf '%s\n' "$block" | sed \
  -e "s/listen 443 ssl;/listen 127.0.0.1:$proxy_port;/" \
  -e '/ssl_certificate/d' \
  -e "s/server 127.0.0.1:3001;/server 127.0.0.1:$backend_a;/" \
  -e "s/server 127.0.0.1:3002;/server 127.0.0.1:$backend_b;/")
expect_lines "$block" "listen 127.0.0.1:$proxy_port;" "server 127.0.0.1:$backend_a;" "server 127.0.0.1:$backend_b;" \
  "proxy_pass http://livedash;"
run_nginx "$dir" "$block" "    log_format upstreams '\$request_uri \$upstream_addr';
    access_log $dir/upstreams.log upstreams;"
