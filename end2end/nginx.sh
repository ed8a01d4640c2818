#!/usr/bin/env bash
# Runs nginx in the foreground with the server block of README.md ("Behind a reverse proxy"),
# so that the browser tests check the snippet people copy. Only what cannot run here changes:
# it listens on 127.0.0.1:PROXY_PORT without TLS and proxies to BACKEND_PORT.
#
#   end2end/nginx.sh PROXY_PORT BACKEND_PORT
set -euo pipefail
. "$(dirname "$0")/nginx-lib.sh"

proxy_port=${1:?usage: nginx.sh PROXY_PORT BACKEND_PORT}
backend_port=${2:?usage: nginx.sh PROXY_PORT BACKEND_PORT}
root=$(cd "$(dirname "$0")/.." && pwd)

block=$(readme_nginx_block "$root/README.md" 'location /dash/')
block=$(printf '%s\n' "$block" | sed \
  -e "s/listen 443 ssl;/listen 127.0.0.1:$proxy_port;/" \
  -e '/ssl_certificate/d' \
  -e "s#proxy_pass http://127.0.0.1:3000;#proxy_pass http://127.0.0.1:$backend_port;#")
expect_lines "$block" "listen 127.0.0.1:$proxy_port;" "proxy_pass http://127.0.0.1:$backend_port;"
run_nginx "$root/target/e2e-nginx" "$block" "    access_log off;"
