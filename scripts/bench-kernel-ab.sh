#!/bin/bash
# Kernel cost of two builds of the agent, compared under the same load at
# the same moment: both agents attach to the same tracepoints and each
# request of nginx (one worker, wrk -t2 -c50) runs the programs of both.
# The BPF run-time statistics give each agent's nanoseconds a request.
#
#   sudo scripts/bench-kernel-ab.sh OLD_BINARY NEW_BINARY [PAIRS] [SECS]
#
# The program attached second runs with the first one's cache lines warm,
# and that shows (up to 10 % here): each pair of runs attaches OLD first,
# then NEW first, and the ratio printed is the geometric mean of the two
# orders' medians, which cancels the order. A development tool for A/B
# changes of the kernel side; bench-overhead.sh measures the product.
set -euo pipefail

[ $# -ge 2 ] || { sed -n '2,14p' "$0" >&2; exit 2; }
OLD=$(realpath "$1")
NEW=$(realpath "$2")
PAIRS=${3:-3}
SECS=${4:-4}
PORT=${BENCH_PORT:-18081}

[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (BPF)" >&2; exit 1; }
for tool in nginx wrk curl bpftool python3; do
	command -v "$tool" >/dev/null || { echo "bench: $tool missing: run scripts/install-deps.sh" >&2; exit 1; }
done
for bin in "$OLD" "$NEW"; do
	[ -x "$bin" ] || { echo "bench: $bin is not an executable" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/slotap-ab.XXXXXX)
PIDS=()
NGINX=""
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	[ -z "$NGINX" ] || kill -QUIT "$NGINX" 2>/dev/null || true
	wait 2>/dev/null || true
	sysctl -qw kernel.bpf_stats_enabled="$stats_was"
	rm -rf "$WORK"
}
trap cleanup EXIT

. "$(dirname "$0")/bench-nginx.sh"
write_nginx_site "$WORK" "$PORT"
printf 'services:\n  - name: nginx\n    match: {port: %s}\n' "$PORT" > "$WORK/slotap.yaml"

nginx -c "$WORK/nginx.conf" -p "$WORK/" -g 'daemon off;' &
NGINX=$!
wait_nginx_site "$PORT"

# the ids of the socket programs loaded so far, comma-separated
socket_prog_ids() {
	bpftool -j prog show | python3 -c '
import json, sys
print(",".join(str(p["id"]) for p in json.load(sys.stdin)
               if p.get("name", "").startswith("slotap_sock_")))'
}

start_agent() {	# BINARY NAME METRICS_PORT
	mkdir -p "$WORK/$2"
	"$1" --config "$WORK/slotap.yaml" --state-dir "$WORK/$2" \
		--web.listen-address "127.0.0.1:$3" 2> "$WORK/$2.err" &
	PIDS+=($!)
	for _ in $(seq 100); do grep -q "metrics at" "$WORK/$2.err" 2>/dev/null && return; sleep 0.1; done
	echo "bench: $1 did not start:" >&2
	cat "$WORK/$2.err" >&2
	exit 1
}

# run_time_ns of the socket programs in the id list $1, summed
run_time() {
	bpftool -j prog show | python3 -c '
import json, sys
ids = set(sys.argv[1].split(","))
print(sum(p.get("run_time_ns", 0) for p in json.load(sys.stdin) if str(p["id"]) in ids))' "$1"
}

# one run, OLD attached first (old-first) or NEW first (new-first); prints
# "old_ns new_ns" a request (OLD and NEW may be the same build: an A/A run)
run_pair() {	# old-first | new-first
	local first second rps t0f t0s t1f t1s old new
	if [ "$1" = old-first ]; then start_agent "$OLD" first 19464; else start_agent "$NEW" first 19464; fi
	first=$(socket_prog_ids)
	if [ "$1" = old-first ]; then start_agent "$NEW" second 19465; else start_agent "$OLD" second 19465; fi
	second=$(python3 -c 'import sys; a = set(sys.argv[1].split(",")); print(",".join(i for i in sys.argv[2].split(",") if i not in a))' "$first" "$(socket_prog_ids)")
	sleep 1
	sysctl -qw kernel.bpf_stats_enabled=1
	t0f=$(run_time "$first"); t0s=$(run_time "$second")
	rps=$("${WRK[@]}" -t2 -c50 -d"${SECS}s" "http://127.0.0.1:$PORT/index.html" | awk '/^Requests\/sec:/ { print $2 }')
	t1f=$(run_time "$first"); t1s=$(run_time "$second")
	sysctl -qw kernel.bpf_stats_enabled=0
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	wait "${PIDS[@]}" 2>/dev/null || true
	PIDS=()
	if [ "$1" = old-first ]; then old=$((t1f - t0f)); new=$((t1s - t0s)); else old=$((t1s - t0s)); new=$((t1f - t0f)); fi
	awk -v o="$old" -v n="$new" -v r="$rps" -v s="$SECS" 'BEGIN { printf "%.0f %.0f\n", o / (r * s), n / (r * s) }'
}

RATIOS_OLD_FIRST="" RATIOS_NEW_FIRST=""
for pair in $(seq "$PAIRS"); do
	read -r o n < <(run_pair old-first)
	echo "pair $pair, old attached first: old $o ns, new $n ns a request"
	RATIOS_OLD_FIRST+=" $(awk -v o="$o" -v n="$n" 'BEGIN { print n / o }')"
	read -r o n < <(run_pair new-first)
	echo "pair $pair, new attached first: old $o ns, new $n ns a request"
	RATIOS_NEW_FIRST+=" $(awk -v o="$o" -v n="$n" 'BEGIN { print n / o }')"
done
a=$(median <<<"$RATIOS_OLD_FIRST")
b=$(median <<<"$RATIOS_NEW_FIRST")
awk -v a="$a" -v b="$b" 'BEGIN { printf "kernel cost new / old: %.3f (new second: %.3f, new first: %.3f; statistics included)\n", sqrt(a * b), a, b }'
