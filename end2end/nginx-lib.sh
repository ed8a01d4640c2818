# Shared by end2end/nginx.sh and end2end/nginx-cluster.sh: runs nginx in the foreground, as an
# ordinary user, with one README block inside an http {} of its own, everything it writes kept in
# one folder under target/.
# shellcheck shell=bash

# The nginx binary, or a message saying how to get it.
nginx_binary() {
  local nginx
  nginx=$(command -v nginx || echo /usr/sbin/nginx)
  [ -x "$nginx" ] || { echo "$(basename "$0"): nginx is not installed (bash scripts/setup.sh --tests installs it)" >&2; exit 1; }
  echo "$nginx"
}

# The README's nginx block (```nginx ... ```) that holds PATTERN (an awk regex).
readme_nginx_block() { # README PATTERN
  awk -v pattern="$2" '
    /^```nginx$/ { inside = 1; text = ""; next }
    inside && /^```$/ { inside = 0; if (text ~ pattern) { printf "%s", text; exit } next }
    inside { text = text $0 "\n" }
  ' "$1"
}

# Fails naming the line when BLOCK lacks any of the EXPECTED lines (what the caller adapted).
expect_lines() { # BLOCK EXPECTED...
  local block=$1 expected
  shift
  for expected in "$@"; do
    if ! grep -qF "$expected" <<<"$block"; then
      echo "$(basename "$0"): the README's nginx block no longer has the line this script adapts ($expected)" >&2
      exit 1
    fi
  done
}

# Writes DIR/nginx.conf around BLOCK (HTTP_EXTRA: more lines for http {}) and runs nginx on it.
run_nginx() { # DIR BLOCK HTTP_EXTRA
  local dir=$1 block=$2 extra=$3 nginx
  nginx=$(nginx_binary)
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
$extra
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
$block
}
CONF
  exec "$nginx" -p "$dir" -c "$dir/nginx.conf"
}
