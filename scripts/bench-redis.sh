#!/usr/bin/env bash
# Overhead of slotap on redis-server: what the agent adds to the server's
# CPU time per command, at a fixed rate (scripts/redis-load.py: the CPU a
# command costs depends on how many one wakeup finds), unpipelined and at
# -P 16, in interleaved rounds of two modes:
#   none    no BPF at all
#   agent   slotap tracking redis-server
# The server's CPU time is its threads' time on a CPU (schedstat, in ns),
# kernel time included: what a tracepoint program costs shows there. Prints
# the medians of the per-round ratios agent / none, the kernel's own BPF
# run time per command (one extra run of each with kernel.bpf_stats_enabled),
# what the agent lost, and checks the targets: at most +10 % a command
# unpipelined, +5 % at -P 16.
#
# Each round runs the two modes in a rotated order (round 1: none agent,
# round 2: agent none, ...): use an even number of rounds.
#
# Usage: scripts/bench-redis.sh [ROUNDS] [SECONDS]   (default 6 rounds of 10 s)
#   BENCH_REDIS_RATE_P1 (5000), BENCH_REDIS_RATE_P16 (40000): commands a second
set -euo pipefail

ROUNDS=${1:-6}
SECS=${2:-10}
RATE_P1=${BENCH_REDIS_RATE_P1:-5000}
RATE_P16=${BENCH_REDIS_RATE_P16:-40000}
# free ports by default: other benchmarks may run on the machine
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=${BENCH_PORT:-$(free_port)}
METRICS_PORT=${BENCH_METRICS_PORT:-$(free_port)}

. "$(dirname "$0")/bench-common.sh"
bench_start bench bench-redis redis-server python3 curl bpftool

# The server on CPU 0, the load on the others, as bench-nginx.sh pins
# nginx: the server's CPU is what is measured, the agent is not pinned.
if [ "${BENCH_PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ]; then
	SERVER=(taskset -c 0)
	LOAD=(taskset -c "1-$(($(nproc) - 1))")
else
	SERVER=() LOAD=()
fi

bench_agent_config redis "$PORT"

"${SERVER[@]}" redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no \
	--daemonize no --logfile "$WORK/redis.log" --dir "$WORK" &
REDIS_PID=$!
for _ in $(seq 50); do
	[ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ] && break
	sleep 0.1
done
[ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ] || { echo "bench: redis-server did not start" >&2; exit 1; }

# server_cpu_ns: the server's threads' time on a CPU so far, in ns
server_cpu_ns() {
	cat /proc/"$REDIS_PID"/task/*/schedstat | awk '{ s += $1 } END { printf "%.0f", s }'
}

# run_load RATE PIPELINE: "ANSWERED CPU_NS_A_COMMAND"
run_load() {
	local c0 c1 sent answered
	c0=$(server_cpu_ns)
	read -r sent answered _ < <("${LOAD[@]}" python3 "$ROOT/scripts/redis-load.py" "$PORT" "$1" "$2" "$SECS" 16)
	c1=$(server_cpu_ns)
	[ "$answered" -eq "$sent" ] || { echo "bench: $answered of $sent commands answered" >&2; exit 1; }
	awk -v a="$answered" -v c="$((c1 - c0))" -v want="$(awk -v r="$1" -v s="$SECS" 'BEGIN { print r * s }')" 'BEGIN {
		if (a < want * 0.9) { print "bench: the load did not keep its rate (" a " of " want ")" > "/dev/stderr"; exit 1 }
		printf "%d %.1f\n", a, c / a }'
}

start_agent() {
	"$BUILD/slotap" --config "$WORK/slotap.yaml" \
		--web.listen-address "127.0.0.1:$METRICS_PORT" 2> "$WORK/agent.err" &
	AGENT_PID=$!
	wait_for "$AGENT_PID" "$WORK/agent.err" "metrics at" agent
}

stop_agent() {
	kill -TERM "$AGENT_PID"
	wait "$AGENT_PID" || { echo "bench: the agent exited with an error" >&2; exit 1; }
}

AGENT_LOST=0 AGENT_EVENTS=0 AGENT_COMMANDS=0
declare -A NS RATIOS
for P in 1 16; do
	rate=$RATE_P1
	[ "$P" = 16 ] && rate=$RATE_P16
	for round in $(seq "$ROUNDS"); do
		if [ $((round % 2)) = 1 ]; then order=(none agent); else order=(agent none); fi
		for mode in "${order[@]}"; do
			[ "$mode" = agent ] && start_agent
			sleep 2		# the kernel's deferred work after a load, in both modes
			read -r answered ns < <(run_load "$rate" "$P")
			NS[$P,$mode]="${NS[$P,$mode]:-} $ns"
			eval "ns_$mode=$ns"
			if [ "$mode" = agent ]; then
				sleep 0.5	# let the consumer drain
				m=$(curl -sf "http://127.0.0.1:$METRICS_PORT/metrics") ||
					{ echo "bench: the agent's metrics did not answer" >&2; exit 1; }
				AGENT_LOST=$((AGENT_LOST + $(awk '/^slotap_events_lost_total/ { s += $2 } END { print s + 0 }' <<<"$m")))
				AGENT_EVENTS=$((AGENT_EVENTS + $(awk '/^slotap_events_received_total/ { print $2 }' <<<"$m")))
				AGENT_COMMANDS=$((AGENT_COMMANDS + $(awk '/^db_server_operation_duration_seconds_count/ { s += $2 } END { print s + 0 }' <<<"$m")))
				stop_agent
			fi
			printf -- '-P %-2s round %d %-5s %8d commands  %7.1f ns of server CPU a command\n' \
				"$P" "$round" "$mode" "$answered" "$ns"
		done
		RATIOS[$P]="${RATIOS[$P]:-} $(awk -v a="$ns_agent" -v b="$ns_none" 'BEGIN { print a / b }')"
	done
done

# The kernel's own cost per command, from its BPF run-time stats (on only
# for these runs: they add two clock reads per program run).
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
COST=""
for P in 1 16; do
	rate=$RATE_P1
	[ "$P" = 16 ] && rate=$RATE_P16
	sysctl -qw kernel.bpf_stats_enabled=1
	start_agent
	sleep 2
	read -r answered _ < <(run_load "$rate" "$P")
	COST+="-P $P, $answered commands at $rate a second:"$'\n'"$(bpf_cost "$answered" command "$AGENT_PID")"$'\n'
	stop_agent
	sysctl -qw kernel.bpf_stats_enabled="$stats_was"
done

r1=$(median <<<"${RATIOS[1]}"); r16=$(median <<<"${RATIOS[16]}")
echo
echo "redis-server on CPU 0, ${SECS}s of redis-load.py (16 connections, SET and GET) a run, $ROUNDS interleaved rounds"
awk -v n1="$(median <<<"${NS[1,none]}")" -v a1="$(median <<<"${NS[1,agent]}")" \
    -v n16="$(median <<<"${NS[16,none]}")" -v a16="$(median <<<"${NS[16,agent]}")" \
    -v r1="$r1" -v r16="$r16" -v s1="$(spread <<<"${RATIOS[1]}")" -v s16="$(spread <<<"${RATIOS[16]}")" \
    -v rate1="$RATE_P1" -v rate16="$RATE_P16" -v lost="$AGENT_LOST" -v ev="$AGENT_EVENTS" \
    -v cmds="$AGENT_COMMANDS" 'BEGIN {
	printf "server CPU a command, medians of the runs:\n"
	printf "  -P 1  at %6d/s: none %7.1f ns, agent %7.1f ns\n", rate1, n1, a1
	printf "  -P 16 at %6d/s: none %7.1f ns, agent %7.1f ns\n", rate16, n16, a16
	printf "medians of the per-round ratios agent / none: -P 1 %.3f (%s), -P 16 %.3f (%s)\n",
	       r1, s1, r16, s16
	printf "agent: %d commands measured in %d events, %d lost\n", cmds, ev, lost
	ok = (r1 <= 1.10) && (r16 <= 1.05) && (lost == 0)
	printf "targets (-P 1 <= 1.10, -P 16 <= 1.05, 0 lost): %s\n", ok ? "met" : "NOT met"
}'
echo "kernel-side cost, from BPF run-time stats in one extra ${SECS}s run of each:"
printf '%s' "$COST"
