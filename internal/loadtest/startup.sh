#!/usr/bin/env bash
# Start-up on a large schedule: writes the benchmarks' synthetic
# schedule.json (100,000 sessions unless told otherwise) and starts confcal
# on it ROUNDS times, each time until /readyz answers. Prints, per run, the
# wall time from launch to serving and the peak resident set (VmHWM) of the
# process at that moment, then stops it with SIGTERM.
#
# With STATE=1 confcal runs with -state on a file that starts empty: the
# first run is a first load, which records every session, and the later
# ones are restarts on the same schedule.
#
# Usage: internal/loadtest/startup.sh [sessions, default 100000]
# (ROUNDS=n runs, default 3; STATE=1). Needs curl and Linux's /proc.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-100000}
rounds=${ROUNDS:-3}
tmp=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

CGO_ENABLED=0 go build -o "$tmp/confcal" .
go test ./feed -run '^TestWriteSynthetic$' -count=1 -synthetic "$tmp/schedule.json" -synthetic-sessions "$n" >/dev/null
echo "schedule.json: $n sessions, $(($(stat -c %s "$tmp/schedule.json") / 1000000)) MB"
state=()
if [ "${STATE:-}" = 1 ]; then state=(-state "$tmp/state.db"); fi
for i in $(seq "$rounds"); do
	: >"$tmp/out" # read at once below, maybe before confcal's shell opens it
	start=$(date +%s%N)
	"$tmp/confcal" -addr 127.0.0.1:0 -access-log=false -schedule "$tmp/schedule.json" "${state[@]}" >"$tmp/out" 2>"$tmp/log" &
	pid=$!
	base=
	until [ -n "$base" ] && curl -fsS -o /dev/null "$base/readyz" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || { cat "$tmp/log" >&2; exit 1; }
		base=$(sed -n 's|.* on \(http://[^ ]*\)/$|\1|p' "$tmp/out")
		sleep 0.01
	done
	ms=$((($(date +%s%N) - start) / 1000000))
	peak=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
	kill -TERM "$pid"
	wait "$pid"
	pid=
	echo "run $i: serving after $ms ms, peak RSS $((peak / 1024)) MB"
done
if [ "${STATE:-}" = 1 ]; then echo "state file: $(($(stat -c %s "$tmp/state.db") / 1000000)) MB"; fi
