#!/usr/bin/env bash
# Cluster figures (make bench-cluster): match time on one node against a
# three-node cluster at the same load, and the allocation round trip. The
# same binaries and bots as bench.sh, all on this machine's loopback: the
# three nodes share its cores, so this measures the cluster's coordination
# cost, not its extra capacity. Duel rooms with 10 s rounds, so that bots
# queue again and again during the window. Node 1 runs the embedded NATS
# server (-nats-embed); nodes 2 and 3 connect to it. Reports go to
# bench-out/<time>/ (not committed).
#
# Environment: BENCH_OUT (bench-out), BENCH_DURATION (30s), BENCH_BOTS (400),
# BENCH_PORT (28080: nodes use it and the next two), BENCH_ADMIN_PORT
# (29090, likewise), BENCH_NATS_PORT (24222).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${BENCH_OUT:-bench-out}/cluster-$(date +%Y%m%d-%H%M%S)"
dur="${BENCH_DURATION:-30s}"
bots="${BENCH_BOTS:-400}"
port="${BENCH_PORT:-28080}"
admin="${BENCH_ADMIN_PORT:-29090}"
natsport="${BENCH_NATS_PORT:-24222}"
secret="bench-cluster-shared-secret"
mkdir -p "$out"
go build -o "$out/arbiter" ./cmd/arbiter
go build -o "$out/loadtest" ./cmd/loadtest

pids=()
start_node() { # index, extra flags...
	local i=$1
	shift
	"$out/arbiter" -addr "127.0.0.1:$((port + i))" -admin-addr "127.0.0.1:$((admin + i))" \
		-round-seconds 10 -log-level warn "$@" >>"$out/node$i.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		curl -fs "http://127.0.0.1:$((port + i))/readyz" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "node $i did not start" >&2
	exit 1
}
stop_nodes() {
	# The node with the embedded NATS server goes last.
	for ((k = ${#pids[@]} - 1; k >= 0; k--)); do
		kill "${pids[$k]}" 2>/dev/null || true
		wait "${pids[$k]}" 2>/dev/null || true
	done
	pids=()
}
trap stop_nodes EXIT

run() { # name, urls
	echo "== $1 ($bots bots, duel, 10 s rounds)" | tee -a "$out/summary.txt"
	"$out/loadtest" -url "$2" -mode duel -bots "$bots" -ramp 200 -warmup 5s -duration "$dur" \
		-json "$out/$1.json" 2>"$out/$1.log" | tee -a "$out/summary.txt"
}

# allocation prints the allocation round trip from every node's metrics:
# count, mean and the bucket bounds under which half and 99% fall.
allocation() {
	for i in 0 1 2; do
		curl -fs "http://127.0.0.1:$((admin + i))/metrics" | awk -v node=$((i + 1)) '
			/^arbiter_cluster_allocation_seconds_bucket/ { match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5); n++; les[n] = le; cum[n] = $2 }
			/^arbiter_cluster_allocation_seconds_sum/ { sum = $2 }
			/^arbiter_cluster_allocation_seconds_count/ { cnt = $2 }
			END {
				if (cnt == 0) { printf "node %d: no allocations\n", node; exit }
				for (k = 1; k <= n; k++) { if (p50 == "" && cum[k] >= cnt * 0.5) p50 = les[k]; if (p99 == "" && cum[k] >= cnt * 0.99) p99 = les[k] }
				printf "node %d: %d allocations, mean %.3f ms, p50 <= %s s, p99 <= %s s\n", node, cnt, sum / cnt * 1000, p50, p99
			}'
	done | tee -a "$out/summary.txt"
}

start_node 0
run single "ws://127.0.0.1:$port/v1/connect"
stop_nodes

start_node 0 -nats-embed "127.0.0.1:$natsport" -nats-dir "$out/nats" -node-id n1 -secret "$secret"
start_node 1 -nats "nats://127.0.0.1:$natsport" -node-id n2 -secret "$secret"
start_node 2 -nats "nats://127.0.0.1:$natsport" -node-id n3 -secret "$secret"
sleep 2
run cluster "ws://127.0.0.1:$port/v1/connect,ws://127.0.0.1:$((port + 1))/v1/connect,ws://127.0.0.1:$((port + 2))/v1/connect"
echo "== allocation round trip (arbiter_cluster_allocation_seconds)" | tee -a "$out/summary.txt"
allocation
for i in 0 1 2; do
	curl -fs "http://127.0.0.1:$((admin + i))/metrics" | grep -E '^arbiter_(rooms|players|cluster_lease_changes_total|cluster_tickets_total)' | sed "s/^/node $((i + 1)): /" | tee -a "$out/summary.txt"
done
stop_nodes
echo "reports in $out"
