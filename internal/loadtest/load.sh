#!/usr/bin/env bash
# Load test: confcal serving a cached feed, against the least a Go net/http
# server can do with the same bytes (baseline), the same server sending
# the rest of confcal's headers with its server timeouts (contract: what
# the feed's HTTP contract costs in net/http), and nginx serving the bytes
# as a static file (sendfile off, gzip precompressed). Each server is
# pinned to CPU 0 and wrk to CPU 1, all on loopback, one after the other,
# and each gets the same requests: confcal's feed URL.
#
# Usage: internal/loadtest/load.sh [seconds per run, default 10]
# (ROUNDS=n rounds per variant, default 3; CONNS, FEEDPATH as below)
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

# All the servers run at once, pinned to CPU 0; only the one under load
# does any work. Rounds alternate between them, each starting with the
# next, so that drift in the machine's speed (it is shared) falls on all
# alike; medians are reported.
rounds=${ROUNDS:-3}

GOMAXPROCS=1 taskset -c 0 "$tmp/confcal" -addr 127.0.0.1:18080 -log-format json 2>/dev/null &
pids+=($!)
wait_for "http://127.0.0.1:18080/healthz"
curl -fsS -o "$tmp/feed.ics" "http://127.0.0.1:18080$feedpath"

GOMAXPROCS=1 taskset -c 0 "$tmp/baseline" -addr 127.0.0.1:18081 -file "$tmp/feed.ics" &
pids+=($!)
wait_for "http://127.0.0.1:18081/"

# The contract baseline sends confcal's other 200 headers.
{ curl -fsS -D - -o /dev/null "http://127.0.0.1:18080$feedpath" | tr -d '\r' | tail -n +2 |
    grep -viE '^(date|content-length|content-type|content-encoding|etag):'; echo; } >"$tmp/headers"
GOMAXPROCS=1 taskset -c 0 "$tmp/baseline" -addr 127.0.0.1:18083 -file "$tmp/feed.ics" -headers "$tmp/headers" -timeouts &
pids+=($!)
wait_for "http://127.0.0.1:18083/"

# Every server gets the same requests, confcal's feed URL: nginx serves the
# bytes as the file at its path (the query is ignored for static files).
static="$tmp/www${feedpath%%\?*}"
mkdir -p "$(dirname "$static")" "$tmp/nginx"
cp "$tmp/feed.ics" "$static"
gzip -k -9 "$static"
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
wait_for "http://127.0.0.1:18082$feedpath"

servers=(confcal baseline contract nginx)
declare -A url etag
url[confcal]="http://127.0.0.1:18080$feedpath"
url[baseline]="http://127.0.0.1:18081$feedpath"
url[contract]="http://127.0.0.1:18083$feedpath"
url[nginx]="http://127.0.0.1:18082$feedpath"
for srv in "${servers[@]}"; do
  etag[$srv]=$(curl -fsS -D - -o /dev/null "${url[$srv]}" | awk 'tolower($1)=="etag:" {sub(/\r$/,"",$2); print $2}')
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf '\nfeed %s (%s bytes), %ss per run, %s rounds, %s connections, servers on CPU 0, wrk on CPU 1\n' \
  "$feedpath" "$(wc -c <"$tmp/feed.ics")" "$secs" "$rounds" "$conns"
printf '%-8s %10s %10s %10s %10s %14s %14s %14s\n' variant confcal baseline contract nginx confcal/base confcal/contr confcal/nginx
for v in plain gzip 304; do
  declare -A got=() ratio=()
  for round in $(seq 0 $((rounds - 1))); do
    # Each round starts with the next server, so that none always runs
    # first (after an idle or a different load) or last.
    k=$((round % ${#servers[@]}))
    declare -A r=()
    for srv in "${servers[@]:k}" "${servers[@]:0:k}"; do
      case $v in
        plain) r[$srv]=$(rps "${url[$srv]}") ;;
        gzip) r[$srv]=$(rps "${url[$srv]}" "Accept-Encoding: gzip") ;;
        304) r[$srv]=$(rps "${url[$srv]}" "If-None-Match: ${etag[$srv]}") ;;
      esac
      got[$srv]+=" ${r[$srv]}"
    done
    for srv in baseline contract nginx; do
      ratio[$srv]+=" $(echo "${r[confcal]} / ${r[$srv]}" | bc -l)"
    done
  done
  # shellcheck disable=SC2086 # the lists are meant to split
  printf '%-8s %10.0f %10.0f %10.0f %10.0f %14.2f %14.2f %14.2f\n' "$v" \
    "$(median ${got[confcal]})" "$(median ${got[baseline]})" "$(median ${got[contract]})" "$(median ${got[nginx]})" \
    "$(median ${ratio[baseline]})" "$(median ${ratio[contract]})" "$(median ${ratio[nginx]})"
done
