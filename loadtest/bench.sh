#!/usr/bin/env bash
# The standard load scenario (make bench): the server binary and the
# loadtest as separate processes on loopback, 30 Hz ticks, a snapshot every
# tick, arena rooms of 8. Arbiter and the transport floor at 400 and 800
# bots (30 s each after warm-up), 800 bots with free-running inputs, then a
# capacity search. Reports go to bench-out/<time>/ (not committed).
#
# Environment: BENCH_OUT (bench-out), BENCH_DURATION (30s),
# BENCH_CAPACITY_DURATION (15s), BENCH_PORT (28080), BENCH_ADMIN_PORT (29090).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${BENCH_OUT:-bench-out}/$(date +%Y%m%d-%H%M%S)"
dur="${BENCH_DURATION:-30s}"
capdur="${BENCH_CAPACITY_DURATION:-15s}"
port="${BENCH_PORT:-28080}"
admin="${BENCH_ADMIN_PORT:-29090}"
mkdir -p "$out"
go build -o "$out/arbiter" ./cmd/arbiter
go build -o "$out/loadtest" ./cmd/loadtest

srv=""
start_server() {
	"$out/arbiter" -addr "127.0.0.1:$port" -admin-addr "127.0.0.1:$admin" -log-level warn >>"$out/server.log" 2>&1 &
	srv=$!
	for _ in $(seq 100); do
		curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "server did not start" >&2
	exit 1
}
stop_server() {
	if [ -n "$srv" ]; then
		kill "$srv" 2>/dev/null || true
		wait "$srv" 2>/dev/null || true
		srv=""
	fi
}
trap stop_server EXIT

scenario() { # name, extra loadtest flags...
	local name=$1
	shift
	start_server
	echo "== $name" | tee -a "$out/summary.txt"
	"$out/loadtest" -url "ws://127.0.0.1:$port/v1/connect" -metrics-url "http://127.0.0.1:$admin/metrics" \
		-ramp 200 -warmup 5s -duration "$dur" -json "$out/$name.json" -html "$out/$name.html" "$@" \
		2>"$out/$name.log" | tee -a "$out/summary.txt"
	stop_server
}

scenario arbiter-400 -bots 400 -floor
scenario arbiter-800 -bots 800 -floor
scenario arbiter-800-unaligned -bots 800 -align=false -floor
start_server
echo "== capacity" | tee -a "$out/summary.txt"
"$out/loadtest" -url "ws://127.0.0.1:$port/v1/connect" -metrics-url "http://127.0.0.1:$admin/metrics" \
	-ramp 300 -warmup 5s -duration "$capdur" -bots 800 -find-capacity -capacity-step 200 -capacity-max 3000 \
	-json "$out/capacity.json" 2>"$out/capacity.log" | tee -a "$out/summary.txt"
stop_server
echo "reports in $out"
