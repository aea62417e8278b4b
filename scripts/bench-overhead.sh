#!/usr/bin/env bash
# Overhead of slotap on a real server: nginx (one worker) under wrk on
# loopback, in interleaved rounds of three modes:
#   none    no BPF at all
#   floor   one trivial raw_tp program on sys_enter (the cheapest possible hook)
#   agent   slotap tracking nginx
# Prints throughput and p99 as ratios to "none" (medians over the rounds),
# the agent's peak RSS and the events it lost, and checks the targets.
#
# Each round runs the three modes in a rotated order (round 1: none floor
# agent, round 2: floor agent none, ...): use a multiple of 3 rounds.
#
# Usage: scripts/bench-overhead.sh [ROUNDS] [SECONDS]   (default 3 rounds of 10 s)
set -euo pipefail

ROUNDS=${1:-3}
SECS=${2:-10}
PORT=${BENCH_PORT:-18081}
METRICS_PORT=${BENCH_METRICS_PORT:-19464}

. "$(dirname "$0")/bench-nginx.sh"
bench_start bench bench nginx wrk curl
[ -x "$BUILD/tests/bench-floor" ] || { echo "bench: run make first" >&2; exit 1; }

write_nginx_site "$WORK" "$PORT"
bench_agent_config nginx "$PORT"
start_nginx_site "$WORK" "$PORT"

# cpu_ticks PID: its user + system time (fields 14 and 15 of stat, counted
# after the ")" that ends the command name)
cpu_ticks() {
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# "99%    1.37ms" -> microseconds
to_us() {
	awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
		if (u == "us") f = 1; else if (u == "ms") f = 1000; else if (u == "s") f = 1e6; else f = 1;
		printf "%.1f", n * f }'
}

run_wrk() {
	local out rps p99
	out=$("${WRK[@]}" -t2 -c50 -d"${SECS}s" --latency "http://127.0.0.1:$PORT/index.html")
	rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
	p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
	total=$(awk '/ requests in / { print $1 }' <<<"$out")
	echo "$rps $(to_us "$p99") $total"
}

AGENT_RSS_KB=0
AGENT_LOST=0
AGENT_EVENTS=0
AGENT_CPU_TICKS=0	# the agent process's user + system time, all rounds
declare -A RPS P99
RATIO_RPS_FLOOR="" RATIO_RPS_AGENT="" RATIO_P99_FLOOR="" RATIO_P99_AGENT=""

MODES=(none floor agent)
for round in $(seq "$ROUNDS"); do
	# each round starts with the next mode: no mode always runs first or
	# last (a mode's place in the round shows in its figures on this VM)
	order=()
	for i in 0 1 2; do order+=("${MODES[$(( (round - 1 + i) % 3 ))]}"); done
	for mode in "${order[@]}"; do
		pid=""
		case $mode in
		floor)
			"$BUILD/tests/bench-floor" > "$WORK/floor.out" &
			pid=$!
			wait_for "$pid" "$WORK/floor.out" attached floor
			;;
		agent)
			"$BUILD/slotap" --config "$WORK/slotap.yaml" \
				--web.listen-address "127.0.0.1:$METRICS_PORT" 2> "$WORK/agent.err" &
			pid=$!
			wait_for "$pid" "$WORK/agent.err" "metrics at" agent
			;;
		esac
		# let the kernel finish deferred work of a fresh program load (RCU
		# frees of verifier state); every mode waits the same
		sleep 2
		[ "$mode" = agent ] && ticks0=$(cpu_ticks "$pid")
		read -r rps p99 _ < <(run_wrk)
		RPS[$mode]="${RPS[$mode]:-} $rps"
		P99[$mode]="${P99[$mode]:-} $p99"
		if [ "$mode" = agent ]; then
			sleep 0.5	# let the consumer drain
			m=$(curl -sf "http://127.0.0.1:$METRICS_PORT/metrics") ||
				{ echo "bench: the agent's metrics did not answer" >&2; exit 1; }
			lost=$(awk '/^slotap_events_lost_total/ && $0 !~ /closed_before_response/ { s += $2 } END { print s + 0 }' <<<"$m")
			ev=$(awk '/^slotap_events_received_total/ { print $2 }' <<<"$m")
			rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
			AGENT_CPU_TICKS=$((AGENT_CPU_TICKS + $(cpu_ticks "$pid") - ticks0))
			AGENT_LOST=$((AGENT_LOST + lost))
			AGENT_EVENTS=$((AGENT_EVENTS + ev))
			[ "$rss" -gt "$AGENT_RSS_KB" ] && AGENT_RSS_KB=$rss
		fi
		if [ -n "$pid" ]; then
			kill -TERM "$pid"
			wait "$pid" || { echo "bench: $mode exited with an error" >&2; exit 1; }
		fi
		printf 'round %d %-5s %10.0f req/s  p99 %8.1f us\n' "$round" "$mode" "$rps" "$p99"
		eval "r_$mode=$rps p_$mode=$p99"
	done
	# ratios within a round: its three runs share the machine's mood
	RATIO_RPS_FLOOR+=" $(awk -v a="$r_floor" -v b="$r_none" 'BEGIN { print a / b }')"
	RATIO_RPS_AGENT+=" $(awk -v a="$r_agent" -v b="$r_none" 'BEGIN { print a / b }')"
	RATIO_P99_FLOOR+=" $(awk -v a="$p_floor" -v b="$p_none" 'BEGIN { print a / b }')"
	RATIO_P99_AGENT+=" $(awk -v a="$p_agent" -v b="$p_none" 'BEGIN { print a / b }')"
done

rps_none=$(median <<<"${RPS[none]}")
rps_floor=$(median <<<"${RPS[floor]}")
rps_agent=$(median <<<"${RPS[agent]}")
p99_none=$(median <<<"${P99[none]}")
p99_floor=$(median <<<"${P99[floor]}")
p99_agent=$(median <<<"${P99[agent]}")

# Kernel-side cost per request, from the kernel's own BPF run-time stats
# (on only for this extra run: they add two clock reads per program run).
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
"$BUILD/slotap" --config "$WORK/slotap.yaml" --web.listen-address "127.0.0.1:$METRICS_PORT" \
	2> "$WORK/agent.err" &
pid=$!
wait_for "$pid" "$WORK/agent.err" "metrics at" agent
sleep 2
read -r rps_stats _ requests_stats < <(run_wrk)
# per request: over the requests wrk completed (runs of the programs are
# nginx's and wrk's own socket operations, which leave at the port filter)
COST=$(bpf_cost "$requests_stats" request "$pid")
kill -TERM "$pid"; wait "$pid" || true
sysctl -qw kernel.bpf_stats_enabled="$stats_was"

tf=$(median <<<"$RATIO_RPS_FLOOR"); ta=$(median <<<"$RATIO_RPS_AGENT")
pf=$(median <<<"$RATIO_P99_FLOOR"); pa=$(median <<<"$RATIO_P99_AGENT")

echo
echo "nginx 1 worker, wrk -t2 -c50 -d${SECS}s, $ROUNDS interleaved rounds${NGINX_AFFINITY:+, nginx on CPU 0 and wrk on the others}"
awk -v rn="$rps_none" -v rf="$rps_floor" -v ra="$rps_agent" \
    -v pn="$p99_none" -v pf_="$p99_floor" -v pa_="$p99_agent" \
    -v tf="$tf" -v ta="$ta" -v pf="$pf" -v pa="$pa" \
    -v sf="$(spread <<<"$RATIO_RPS_FLOOR")" -v sa="$(spread <<<"$RATIO_RPS_AGENT")" \
    -v rss="$AGENT_RSS_KB" -v lost="$AGENT_LOST" -v ev="$AGENT_EVENTS" \
    -v ticks="$AGENT_CPU_TICKS" -v hz="$(getconf CLK_TCK)" 'BEGIN {
	printf "medians of the runs:\n"
	printf "  none : %9.0f req/s  p99 %7.1f us\n", rn, pn
	printf "  floor: %9.0f req/s  p99 %7.1f us\n", rf, pf_
	printf "  agent: %9.0f req/s  p99 %7.1f us\n", ra, pa_
	printf "medians of the per-round ratios to none:\n"
	printf "  floor: throughput %.3f  p99 %.3f\n", tf, pf
	printf "  agent: throughput %.3f  p99 %.3f\n", ta, pa
	printf "per-round throughput ratios: floor %s; agent %s\n", sf, sa
	printf "agent peak RSS %.1f MB, events %d, lost %d\n", rss / 1024, ev, lost
	if (ev > 0)
		printf "agent process CPU under load %.2f s, %.2f us an event\n",
		       ticks / hz, ticks / hz * 1e6 / ev
	ok = (ta >= 0.95) && (pa <= 1.15) && (rss <= 32 * 1024) && (lost == 0)
	printf "targets (throughput >= 0.95, p99 <= 1.15, RSS <= 32 MB, 0 lost): %s\n", ok ? "met" : "NOT met"
}'
echo "kernel-side cost, from BPF run-time stats in one extra ${SECS}s run at $rps_stats req/s:"
echo "$COST"
