#!/usr/bin/env bash
# Overhead of slotap on an HTTP/2 server: nginx (one worker, h2c by prior
# knowledge) under h2load at a fixed rate on loopback, in interleaved
# rounds of two modes:
#   none    no BPF at all
#   agent   slotap tracking nginx
# At a fixed rate both modes serve the same requests, so what the agent
# costs is server CPU: the nginx worker's time on CPU (schedstat, in ns)
# per request, medians over the rounds and of the per-round ratios to
# none. Then the kernel-side cost per request from the BPF run-time stats
# in one extra run, as bench-overhead.sh reads them, the agent's own CPU
# per request, and what it lost.
#
# Each round runs the two modes in a rotated order: use an even number of
# rounds.
#
# Usage: scripts/bench-overhead-h2.sh [ROUNDS] [SECONDS]   (default 10 rounds of 10 s)
#   BENCH_H2_RATE  requests a second in all (default 5000), from 10 clients
#                  with 10 streams in flight each (h2load -c 10 -m 10 --rps RATE/10)
set -euo pipefail

ROUNDS=${1:-10}
SECS=${2:-10}
RATE=${BENCH_H2_RATE:-5000}
CLIENTS=10
PORT=${BENCH_PORT:-18082}
METRICS_PORT=${BENCH_METRICS_PORT:-19465}

. "$(dirname "$0")/bench-nginx.sh"
bench_start bench bench-h2 nginx h2load curl bpftool
[ $((RATE % CLIENTS)) -eq 0 ] && [ "$RATE" -gt 0 ] ||
	{ echo "bench: BENCH_H2_RATE must be a positive multiple of $CLIENTS" >&2; exit 2; }

NGINX_LISTEN=http2 write_nginx_site "$WORK" "$PORT"
bench_agent_config nginx "$PORT"
start_nginx_site "$WORK" "$PORT" h2c
read -r -a kids < "/proc/$NGINX_PID/task/$NGINX_PID/children" || true
[ "${#kids[@]}" -eq 1 ] || { echo "bench: not one nginx worker: ${kids[*]}" >&2; exit 1; }
WORKER=${kids[0]}

# on_cpu_ns PID: the time PID's threads spent on a CPU (schedstat: ns, not ticks)
on_cpu_ns() {
	cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# run_h2load: "requests-succeeded requests-failed"; every one must succeed
run_h2load() {
	local out ok
	out=$("${H2LOAD[@]}" -c "$CLIENTS" -m 10 --rps "$((RATE / CLIENTS))" -D "$SECS" \
		"http://127.0.0.1:$PORT/index.html")
	grep -q 'h2c' <<<"$out" || { echo "bench: h2load did not speak h2c: $out" >&2; exit 1; }
	ok=$(awk '/^requests:/ { print $8 }' <<<"$out")
	awk '/^requests:/ { print $8, $10 }' <<<"$out"
	[ "$ok" -gt 0 ] || { echo "bench: h2load: $out" >&2; exit 1; }
}

if [ -n "${NGINX_AFFINITY:-}" ]; then
	H2LOAD=(taskset -c "1-$(($(nproc) - 1))" h2load)
else
	H2LOAD=(h2load)
fi

AGENT_LOST=0
AGENT_EVENTS=0
AGENT_CPU_NS=0
AGENT_REQUESTS=0
declare -A CPU_US
RATIOS=""
MODES=(none agent)
for round in $(seq "$ROUNDS"); do
	order=("${MODES[$(( (round - 1) % 2 ))]}" "${MODES[$(( round % 2 ))]}")
	for mode in "${order[@]}"; do
		pid=""
		if [ "$mode" = agent ]; then
			"$BUILD/slotap" --config "$WORK/slotap.yaml" \
				--web.listen-address "127.0.0.1:$METRICS_PORT" 2> "$WORK/agent.err" &
			pid=$!
			wait_for "$pid" "$WORK/agent.err" "metrics at" agent
		fi
		# deferred work of a fresh program load (RCU frees of verifier
		# state); every mode waits the same
		sleep 2
		w0=$(on_cpu_ns "$WORKER")
		[ -n "$pid" ] && a0=$(on_cpu_ns "$pid")
		read -r ok failed < <(run_h2load)
		w1=$(on_cpu_ns "$WORKER")
		[ "$failed" -eq 0 ] || { echo "bench: $failed requests failed in $mode" >&2; exit 1; }
		us=$(awk -v d=$((w1 - w0)) -v n="$ok" 'BEGIN { printf "%.2f", d / n / 1000 }')
		CPU_US[$mode]="${CPU_US[$mode]:-} $us"
		if [ -n "$pid" ]; then
			sleep 0.5	# let the consumer drain
			AGENT_CPU_NS=$((AGENT_CPU_NS + $(on_cpu_ns "$pid") - a0))
			AGENT_REQUESTS=$((AGENT_REQUESTS + ok))
			m=$(curl -sf "http://127.0.0.1:$METRICS_PORT/metrics") ||
				{ echo "bench: the agent's metrics did not answer" >&2; exit 1; }
			lost=$(awk '/^slotap_events_lost_total/ { s += $2 } /^slotap_h2_streams_uncounted_total/ { s += $2 }
				    END { print s + 0 }' <<<"$m")
			ev=$(awk '/^http_server_request_duration_seconds_count/ { s += $2 } END { print s + 0 }' <<<"$m")
			AGENT_LOST=$((AGENT_LOST + lost))
			[ "$lost" -eq 0 ] || awk '(/^slotap_events_lost_total/ ||
				/^slotap_h2_streams_uncounted_total/) && $2 > 0 { print "  " $0 }' <<<"$m"
			AGENT_EVENTS=$((AGENT_EVENTS + ev))
			kill -TERM "$pid"
			wait "$pid" || { echo "bench: the agent exited with an error" >&2; exit 1; }
		fi
		printf 'round %d %-5s %8d requests  nginx %6.2f us CPU a request\n' "$round" "$mode" "$ok" "$us"
		eval "c_$mode=$us"
	done
	RATIOS+=" $(awk -v a="$c_agent" -v b="$c_none" 'BEGIN { print a / b }')"
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
spread() { tr ' ' '\n' | grep -v '^$' | awk 'NR == 1 || $1 < lo { lo = $1 } NR == 1 || $1 > hi { hi = $1 }
	{ s += $1 } END { printf "%.3f-%.3f, mean %.3f", lo, hi, s / NR }'; }

# Kernel-side cost per request, from the kernel's BPF run-time stats of
# this agent's own programs (--bpf-stats: on only for this extra run, they
# add two clock reads per program run), as it exports them: other agents
# may run on a shared machine, and bpftool may not say which process
# holds a program.
"$BUILD/slotap" --config "$WORK/slotap.yaml" --web.listen-address "127.0.0.1:$METRICS_PORT" \
	--bpf-stats 2> "$WORK/agent.err" &
pid=$!
wait_for "$pid" "$WORK/agent.err" "metrics at" agent
sleep 2
curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" > "$WORK/stats0"
read -r requests_stats _ < <(run_h2load)
curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" > "$WORK/stats1"
kill -TERM "$pid"; wait "$pid" || true
COST=$(python3 - "$WORK/stats0" "$WORK/stats1" "$requests_stats" <<'EOF_PY'
import re, sys
def read(path):
    out = {}
    for line in open(path):
        m = re.match(r'slotap_bpf_program_(runs|run_seconds)_total\{program="([^"]+)"\} (\S+)', line)
        if m:
            out[(m[2], m[1])] = float(m[3])
    return out
a, b, n = read(sys.argv[1]), read(sys.argv[2]), int(sys.argv[3])
total = 0
for prog in sorted({p for p, _ in b}):
    runs = b.get((prog, "runs"), 0) - a.get((prog, "runs"), 0)
    ns = (b.get((prog, "run_seconds"), 0) - a.get((prog, "run_seconds"), 0)) * 1e9
    if runs > 0:
        total += ns / n
        print("  %-28s %6.0f ns a run, %5.2f runs and %5.0f ns a request"
              % (prog, ns / runs, runs / n, ns / n))
print("  %-28s %6.0f ns a request" % ("all programs", total))
EOF_PY
)

echo
echo "nginx 1 worker, h2c, h2load -c $CLIENTS -m 10 at $RATE requests/s for ${SECS}s," \
     "$ROUNDS interleaved rounds${NGINX_AFFINITY:+, nginx on CPU 0 and h2load on the others}"
awk -v cn="$(median <<<"${CPU_US[none]}")" -v ca="$(median <<<"${CPU_US[agent]}")" \
    -v r="$(median <<<"$RATIOS")" -v s="$(spread <<<"$RATIOS")" \
    -v lost="$AGENT_LOST" -v ev="$AGENT_EVENTS" -v req="$AGENT_REQUESTS" \
    -v acpu="$AGENT_CPU_NS" 'BEGIN {
	printf "nginx worker CPU a request, medians of the rounds:\n"
	printf "  none : %6.2f us\n  agent: %6.2f us (%+.2f us)\n", cn, ca, ca - cn
	printf "median of the per-round ratios agent/none: %.3f (%s)\n", r, s
	printf "agent: %d requests measured of %d served, %d lost or not measured\n", ev, req, lost
	if (req > 0)
		printf "agent process CPU %.2f us a request\n", acpu / req / 1000
}'
echo "kernel-side cost, from BPF run-time stats in one extra ${SECS}s run ($requests_stats requests):"
echo "$COST"
