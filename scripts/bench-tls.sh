#!/usr/bin/env bash
# Overhead of slotap on a TLS server: nginx (one worker, HTTPS, HTTP/1.1)
# under h2load --h1 on loopback, in interleaved rounds of two modes:
#   none    no BPF at all
#   agent   slotap tracking nginx: its socket programs and the uprobes on
#           OpenSSL's SSL_read/SSL_write in the libssl nginx maps
# Prints, per mode, throughput and nginx's worker CPU time per request
# (what the server pays a request: the uprobes' traps into the kernel are
# in it, and in no BPF run-time statistic), their ratios to "none"
# (medians over the rounds), the events the agent lost, then the kernel
# cost per request from BPF run-time stats, uprobes included, in one extra
# run.
#
# h2load saturates nginx's CPU (Debian 12's h2load 1.52 has no request
# rate option; --rps came in 1.53): CPU time per request is what a request
# costs the server at any rate below that, the figure to compare.
#
# Each round runs the two modes in alternating order: use an even number
# of rounds.
#
# Usage: scripts/bench-tls.sh [ROUNDS] [SECONDS]   (default 10 rounds of 10 s)
set -euo pipefail

ROUNDS=${1:-10}
SECS=${2:-10}
PORT=${BENCH_PORT:-18443}
METRICS_PORT=${BENCH_METRICS_PORT:-19465}
CONNS=${BENCH_CONNS:-16}

. "$(dirname "$0")/bench-nginx.sh"
bench_start bench bench-tls nginx h2load curl openssl

# h2load where wrk would go: pinned off nginx's CPU (bench-nginx.sh)
H2LOAD=("${WRK[@]:0:${#WRK[@]}-1}" h2load)
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
chmod 644 "$WORK/key.pem"	# nginx's worker runs as nobody
write_nginx_site "$WORK" "$PORT" "$WORK/cert.pem" "$WORK/key.pem"
bench_agent_config nginx "$PORT"
start_nginx_site "$WORK" "$PORT" https
WORKER=$(pgrep -P "$NGINX_PID" | head -1)
[ -n "$WORKER" ] || { echo "bench: no nginx worker" >&2; exit 1; }

cpu_ticks() {
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# run_h2load: "req/s requests-succeeded worker-cpu-us-per-request"
run_h2load() {
	local out t0 t1
	t0=$(cpu_ticks "$WORKER")
	out=$("${H2LOAD[@]}" --h1 -c "$CONNS" -m 1 -D "$SECS" \
		"https://127.0.0.1:$PORT/index.html" 2>&1)
	t1=$(cpu_ticks "$WORKER")
	awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" '
		/^finished in/ { for (i = 1; i <= NF; i++) if ($i ~ /req\/s/) rps = $(i - 1) }
		/^requests:/ { for (i = 1; i <= NF; i++) if ($i == "succeeded,") ok = $(i - 1) }
		END { if (!ok) exit 1; printf "%s %d %.2f\n", rps, ok, t / hz * 1e6 / ok }' <<<"$out" ||
		{ echo "bench: h2load failed:" >&2; echo "$out" | tail -5 >&2; exit 1; }
}

AGENT_ARGS=()
start_agent() {
	"$BUILD/slotap" --config "$WORK/slotap.yaml" --state-dir "" "${AGENT_ARGS[@]}" \
		--web.listen-address "127.0.0.1:$METRICS_PORT" 2> "$WORK/agent.err" &
	AGENT=$!
	wait_for "$AGENT" "$WORK/agent.err" "metrics at" agent
	grep -q "TLS: .* probes on" "$WORK/agent.err" ||
		{ echo "bench: the agent probed no TLS library:" >&2; cat "$WORK/agent.err" >&2; exit 1; }
}

AGENT_LOST=0
AGENT_EVENTS=0
declare -A RPS CPU
RATIO_RPS="" RATIO_CPU=""
for round in $(seq "$ROUNDS"); do
	if [ $((round % 2)) = 1 ]; then order=(none agent); else order=(agent none); fi
	for mode in "${order[@]}"; do
		[ "$mode" = agent ] && start_agent
		sleep 2		# deferred work of a fresh program load; every mode waits
		read -r rps requests cpu < <(run_h2load)
		RPS[$mode]="${RPS[$mode]:-} $rps"
		CPU[$mode]="${CPU[$mode]:-} $cpu"
		if [ "$mode" = agent ]; then
			sleep 0.5	# let the consumer drain
			m=$(curl -sf "http://127.0.0.1:$METRICS_PORT/metrics") ||
				{ echo "bench: the agent's metrics did not answer" >&2; exit 1; }
			AGENT_LOST=$((AGENT_LOST + $(awk '/^slotap_events_lost_total/ { s += $2 } END { print s + 0 }' <<<"$m")))
			AGENT_EVENTS=$((AGENT_EVENTS + $(awk '/^slotap_events_received_total/ { print $2 }' <<<"$m")))
			kill -TERM "$AGENT"
			wait "$AGENT" || { echo "bench: the agent exited with an error" >&2; exit 1; }
		fi
		printf 'round %d %-5s %9.0f req/s  nginx %6.2f us CPU a request (%d requests)\n' \
			"$round" "$mode" "$rps" "$cpu" "$requests"
		eval "r_$mode=$rps c_$mode=$cpu"
	done
	RATIO_RPS+=" $(awk -v a="$r_agent" -v b="$r_none" 'BEGIN { print a / b }')"
	RATIO_CPU+=" $(awk -v a="$c_agent" -v b="$c_none" 'BEGIN { print a / b }')"
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# Kernel-side cost per request from the kernel's BPF run-time stats, one
# extra run (--bpf-stats: two clock reads per program run), as the agent
# reports its own programs (another agent's on the node are not counted):
# the socket programs and the uprobes (slotap_ssl_*), not the traps that
# run them.
AGENT_ARGS=(--bpf-stats)
start_agent
sleep 2
m0=$(curl -sf "http://127.0.0.1:$METRICS_PORT/metrics")
read -r rps_stats requests_stats _ < <(run_h2load)
m1=$(curl -sf "http://127.0.0.1:$METRICS_PORT/metrics")
COST=$(awk -v n="$requests_stats" '
	FNR == 1 { f++ }
	/^slotap_bpf_program_(runs_total|run_seconds_total)\{/ {
		split($1, a, "\""); prog = a[2]
		kind = ($1 ~ /^slotap_bpf_program_runs_total/) ? "c" : "t"
		v[f, kind, prog] = $2; progs[prog] = 1 }
	END {
		for (p in progs) {
			c = v[2, "c", p] - v[1, "c", p]; t = (v[2, "t", p] - v[1, "t", p]) * 1e9
			if (c > 0) { printf "  %-28s %6.0f ns a run, %5.2f runs and %5.0f ns a request\n",
					    p, t / c, c / n, t / n; sum += t / n }
		}
		printf "  %-28s %6.0f ns a request\n", "all programs", sum
	}' <(echo "$m0") <(echo "$m1"))
kill -TERM "$AGENT"; wait "$AGENT" || true
AGENT_ARGS=()

echo
echo "nginx 1 worker over TLS, h2load --h1 -c$CONNS -m1 -D${SECS}s, $ROUNDS interleaved rounds${NGINX_AFFINITY:+, nginx on CPU 0 and h2load on the others}"
awk -v rn="$(median <<<"${RPS[none]}")" -v ra="$(median <<<"${RPS[agent]}")" \
    -v cn="$(median <<<"${CPU[none]}")" -v ca="$(median <<<"${CPU[agent]}")" \
    -v tr="$(median <<<"$RATIO_RPS")" -v tc="$(median <<<"$RATIO_CPU")" \
    -v lost="$AGENT_LOST" -v ev="$AGENT_EVENTS" 'BEGIN {
	printf "medians of the runs:\n"
	printf "  none : %9.0f req/s  nginx %6.2f us CPU a request\n", rn, cn
	printf "  agent: %9.0f req/s  nginx %6.2f us CPU a request\n", ra, ca
	printf "medians of the per-round ratios to none: throughput %.3f, CPU a request %.3f (+%.2f us)\n",
	       tr, tc, ca - cn
	printf "agent events %d, lost %d\n", ev, lost
}'
echo "kernel-side cost, from BPF run-time stats in one extra ${SECS}s run at $rps_stats req/s:"
echo "$COST"
