#!/usr/bin/env bash
# Load test: confcal serving a cached feed, against the least a Go net/http
# server can do with the same bytes (baseline) and nginx serving them as a
# static file (sendfile off, gzip precompressed). Each server is pinned to
# CPU 0 and wrk to CPU 1, all on loopback, one after the other in one run.
#
# Usage: internal/loadtest/load.sh [seconds per run, default 10]
# Needs: wrk and nginx (Debian: apt-get install wrk nginx-light).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}
conns=${CONNS:-32}
feedpath=${FEEDPATH:-/tracks/spotlight.ics?tz=Europe/Berlin}
tmp=$(mktemp -d)
chmod 755 "$tmp" # nginx workers run as an unprivileged user
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

for tool in wrk nginx taskset curl; do
  command -v "$tool" >/dev/null || { echo "load.sh: $tool is not installed" >&2; exit 1; }
done

CGO_ENABLED=0 go build -o "$tmp/confcal" .
go build -o "$tmp/baseline" ./internal/loadtest/baseline

wait_for() { for _ in $(seq 100); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }

# rps URL [header ...]: requests per second wrk measured.
rps() {
  local url=$1; shift
  local args=()
  for h in "$@"; do args+=(-H "$h"); done
  taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --latency "${args[@]}" "$url" >"$tmp/wrk.out"
  grep -q 'Non-2xx or 3xx' "$tmp/wrk.out" && { cat "$tmp/wrk.out" >&2; echo "errors in run against $url" >&2; exit 1; }
  awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out"
}

declare -A result
measure() { # name base-url path
  local name=$1 url=$2$3 etag
  etag=$(curl -fsS -D - -o /dev/null "$url" | awk 'tolower($1)=="etag:" {sub(/\r$/,"",$2); print $2}')
  result[$name,plain]=$(rps "$url")
  result[$name,gzip]=$(rps "$url" "Accept-Encoding: gzip")
  result[$name,304]=$(rps "$url" "If-None-Match: $etag")
}

# confcal, one core.
GOMAXPROCS=1 taskset -c 0 "$tmp/confcal" -addr 127.0.0.1:18080 -log-format json 2>/dev/null &
pids+=($!)
wait_for "http://127.0.0.1:18080/healthz"
curl -fsS -o "$tmp/feed.ics" "http://127.0.0.1:18080$feedpath"
measure confcal http://127.0.0.1:18080 "$feedpath"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

# Go baseline, one core.
GOMAXPROCS=1 taskset -c 0 "$tmp/baseline" -addr 127.0.0.1:18081 -file "$tmp/feed.ics" &
pids+=($!)
wait_for "http://127.0.0.1:18081/"
measure baseline http://127.0.0.1:18081 /feed.ics
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

# nginx, one worker on the same core: static file, precompressed gzip.
mkdir -p "$tmp/www" "$tmp/nginx"
cp "$tmp/feed.ics" "$tmp/www/feed.ics"
gzip -k -9 "$tmp/www/feed.ics"
cat >"$tmp/nginx.conf" <<CONF
daemon off;
worker_processes 1;
worker_cpu_affinity 01;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile off;
  gzip_static on;
  types { text/calendar ics; }
  client_body_temp_path $tmp/nginx; proxy_temp_path $tmp/nginx; fastcgi_temp_path $tmp/nginx;
  uwsgi_temp_path $tmp/nginx; scgi_temp_path $tmp/nginx;
  server { listen 127.0.0.1:18082; root $tmp/www; }
}
CONF
taskset -c 0 nginx -c "$tmp/nginx.conf" &
pids+=($!)
wait_for "http://127.0.0.1:18082/feed.ics"
measure nginx http://127.0.0.1:18082 /feed.ics

printf '\nfeed %s (%s bytes), %ss per run, %s connections, server on CPU 0, wrk on CPU 1\n' \
  "$feedpath" "$(wc -c <"$tmp/feed.ics")" "$secs" "$conns"
printf '%-12s %12s %12s %12s %14s %12s\n' variant confcal baseline nginx confcal/base confcal/nginx
for v in plain gzip 304; do
  c=${result[confcal,$v]} b=${result[baseline,$v]} n=${result[nginx,$v]}
  printf '%-12s %12s %12s %12s %14.2f %12.2f\n' "$v" "$c" "$b" "$n" "$(echo "$c / $b" | bc -l)" "$(echo "$c / $n" | bc -l)"
done
