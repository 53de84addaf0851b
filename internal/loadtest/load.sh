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

# etag_of URL: the ETag the server answers URL with.
etag_of() { curl -fsS -D - -o /dev/null "$1" | awk 'tolower($1)=="etag:" {sub(/\r$/,"",$2); print $2}'; }

wait_for() { for _ in $(seq 100); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }

# cpu PID: the CPU time, in clock ticks, that process has used so far.
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tick=$(getconf CLK_TCK)

# measure PID URL [header ...]: the requests per second wrk measured, and
# the server's CPU time per request in µs. The second leaves out time the
# server waited for a CPU the machine gave to others (a shared machine's
# noise), so its ratios move less from run to run.
measure() {
  local pid=$1 url=$2; shift 2
  local args=() c0 c1
  for h in "$@"; do args+=(-H "$h"); done
  c0=$(cpu "$pid")
  taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --latency "${args[@]}" "$url" >"$tmp/wrk.out"
  c1=$(cpu "$pid")
  grep -q 'Non-2xx or 3xx' "$tmp/wrk.out" && { cat "$tmp/wrk.out" >&2; echo "errors in run against $url" >&2; exit 1; }
  awk -v c="$((c1 - c0))" -v tick="$tick" '
    / requests in / {n = $1}
    /Requests\/sec/ {rps = $2}
    END {printf "%s %.3f\n", rps, c * 1e6 / tick / n}' "$tmp/wrk.out"
}

# All the servers run at once, pinned to CPU 0; only the one under load
# does any work. Rounds alternate between them, each starting with the
# next, so that drift in the machine's speed (it is shared) falls on all
# alike; medians are reported.
rounds=${ROUNDS:-3}

declare -A pid
GOMAXPROCS=1 taskset -c 0 "$tmp/confcal" -addr 127.0.0.1:18080 -log-format json 2>/dev/null &
pids+=($!)
pid[confcal]=$!
wait_for "http://127.0.0.1:18080/healthz"
curl -fsS -o "$tmp/feed.ics" "http://127.0.0.1:18080$feedpath"

GOMAXPROCS=1 taskset -c 0 "$tmp/baseline" -addr 127.0.0.1:18081 -file "$tmp/feed.ics" &
pids+=($!)
pid[baseline]=$!
wait_for "http://127.0.0.1:18081/"

# The contract baseline sends confcal's other headers, those of its 200
# and those of its 304.
# headers_of FILE [curl args]: the headers confcal answers with, but for
# those every server sends.
headers_of() {
  local out=$1; shift
  { curl -sS -D - -o /dev/null "$@" "http://127.0.0.1:18080$feedpath" | tr -d '\r' | tail -n +2 |
      grep -viE '^(date|content-length|content-type|content-encoding|etag):'; echo; } >"$out"
}
headers_of "$tmp/headers"
headers_of "$tmp/headers304" -H "If-None-Match: $(etag_of "http://127.0.0.1:18080$feedpath")"
GOMAXPROCS=1 taskset -c 0 "$tmp/baseline" -addr 127.0.0.1:18083 -file "$tmp/feed.ics" \
  -headers "$tmp/headers" -headers304 "$tmp/headers304" -timeouts &
pids+=($!)
pid[contract]=$!
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
pid_nginx_master=$!
wait_for "http://127.0.0.1:18082$feedpath"
pid[nginx]=$(pgrep -P "${pid_nginx_master}" | head -n 1) # the worker

servers=(confcal baseline contract nginx)
declare -A url etag
url[confcal]="http://127.0.0.1:18080$feedpath"
url[baseline]="http://127.0.0.1:18081$feedpath"
url[contract]="http://127.0.0.1:18083$feedpath"
url[nginx]="http://127.0.0.1:18082$feedpath"
for srv in "${servers[@]}"; do
  etag[$srv]=$(etag_of "${url[$srv]}")
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf '\nfeed %s (%s bytes), %ss per run, %s rounds, %s connections, servers on CPU 0, wrk on CPU 1\n' \
  "$feedpath" "$(wc -c <"$tmp/feed.ics")" "$secs" "$rounds" "$conns"
printf 'ratios are medians of each round'"'"'s; "by CPU": the other server'"'"'s CPU time per request over confcal'"'"'s\n'
printf '%-8s %9s %9s %9s %9s %7s %7s %7s %7s %7s %7s\n' '' confcal baseline contract nginx \
  'c/base' 'c/contr' 'c/nginx' 'c/base' 'c/contr' 'c/nginx'
printf '%-8s %39s %23s %23s\n' variant 'requests per second' 'by requests/s' 'by CPU'
declare -A cpuus=() contract_base=()
for v in plain gzip 304; do
  declare -A got=() ratio=() cratio=() us=()
  for round in $(seq 0 $((rounds - 1))); do
    # Each round starts with the next server, so that none always runs
    # first (after an idle or a different load) or last.
    k=$((round % ${#servers[@]}))
    declare -A r=() c=()
    for srv in "${servers[@]:k}" "${servers[@]:0:k}"; do
      case $v in
        plain) ask=() ;;
        gzip) ask=("Accept-Encoding: gzip") ;;
        304) ask=("If-None-Match: ${etag[$srv]}") ;;
      esac
      read -r r[$srv] c[$srv] < <(measure "${pid[$srv]}" "${url[$srv]}" "${ask[@]}")
      got[$srv]+=" ${r[$srv]}"
      us[$srv]+=" ${c[$srv]}"
    done
    for srv in baseline contract nginx; do
      ratio[$srv]+=" $(echo "${r[confcal]} / ${r[$srv]}" | bc -l)"
      cratio[$srv]+=" $(echo "${c[$srv]} / ${c[confcal]}" | bc -l)"
    done
    # What the HTTP contract alone costs: the contract server against the
    # minimal one, neither running any of confcal's code.
    cratio[contract_base]+=" $(echo "${c[baseline]} / ${c[contract]}" | bc -l)"
  done
  # shellcheck disable=SC2086 # the lists are meant to split
  printf '%-8s %9.0f %9.0f %9.0f %9.0f %7.2f %7.2f %7.2f %7.2f %7.2f %7.2f\n' "$v" \
    "$(median ${got[confcal]})" "$(median ${got[baseline]})" "$(median ${got[contract]})" "$(median ${got[nginx]})" \
    "$(median ${ratio[baseline]})" "$(median ${ratio[contract]})" "$(median ${ratio[nginx]})" \
    "$(median ${cratio[baseline]})" "$(median ${cratio[contract]})" "$(median ${cratio[nginx]})"
  for srv in "${servers[@]}"; do
    # shellcheck disable=SC2086
    cpuus[$v,$srv]=$(median ${us[$srv]})
  done
  # shellcheck disable=SC2086
  contract_base[$v]=$(median ${cratio[contract_base]})
done
printf '\nserver CPU per request, µs (medians), and the contract against the minimal server by CPU\n'
printf '%-8s %9s %9s %9s %9s %12s\n' variant confcal baseline contract nginx contr/base
for v in plain gzip 304; do
  printf '%-8s %9.2f %9.2f %9.2f %9.2f %12.2f\n' "$v" "${cpuus[$v,confcal]}" "${cpuus[$v,baseline]}" "${cpuus[$v,contract]}" \
    "${cpuus[$v,nginx]}" "${contract_base[$v]}"
done
