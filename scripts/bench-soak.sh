#!/usr/bin/env bash
# Soak: nginx (one worker) at saturation under wrk for a long time with the
# agent tracking it. Checks that every request nginx answered is either
# measured or counted as lost (nginx's own access log is the truth), and
# that the agent's memory stays flat once warm (its RSS sampled every
# SAMPLE seconds; growth after the first sample must stay under 1 MiB).
# Not a CI test: it takes DURATION seconds (default 600).
#
# Usage: sudo scripts/bench-soak.sh [DURATION] [SAMPLE]   (default 600 30)
set -euo pipefail

DURATION=${1:-600}
SAMPLE=${2:-30}
PORT=${BENCH_PORT:-18082}
METRICS_PORT=${BENCH_METRICS_PORT:-19465}
GROWTH_MAX_KB=1024

. "$(dirname "$0")/bench-nginx.sh"
bench_start soak soak nginx wrk curl
[ "$DURATION" -ge $((2 * SAMPLE)) ] || { echo "soak: DURATION must be at least 2 x SAMPLE" >&2; exit 2; }

write_nginx_site "$WORK" "$PORT"
# the access log is what nginx answered: buffered, flushed when it stops
sed -i "s|access_log off;|access_log $WORK/logs/access.log combined buffer=256k;|" "$WORK/nginx.conf"
bench_agent_config nginx "$PORT"

start_nginx_site "$WORK" "$PORT"
"$BUILD/slotap" --config "$WORK/slotap.yaml" --state-dir "" \
	--web.listen-address "127.0.0.1:$METRICS_PORT" 2> "$WORK/agent.err" &
agent_pid=$!
wait_for "$agent_pid" "$WORK/agent.err" "metrics at" agent

"${WRK[@]}" -t2 -c50 -d"${DURATION}s" "http://127.0.0.1:$PORT/index.html" > "$WORK/wrk.out" &
wrk_pid=$!
samples=()
for ((t = SAMPLE; t <= DURATION; t += SAMPLE)); do
	sleep "$SAMPLE"
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$agent_pid/status")
	samples+=("$rss")
	printf 'soak: %5d s  agent RSS %6d KiB\n' "$t" "$rss"
done
wait "$wrk_pid"
sleep 1		# the agent drains what is left
m=$(curl -sf "http://127.0.0.1:$METRICS_PORT/metrics") || { echo "soak: no metrics" >&2; exit 1; }
measured=$(awk '/^http_server_request_duration_seconds_count\{service_name="nginx"/ { s += $2 } END { printf "%d", s }' <<<"$m")
lost=$(awk '/^slotap_events_lost_total/ { s += $2 } END { printf "%d", s }' <<<"$m")
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$agent_pid/status")
kill -TERM "$agent_pid"
wait "$agent_pid" || { echo "soak: the agent exited with an error" >&2; exit 1; }
kill -QUIT "$NGINX_PID"		# graceful: the log buffer is written
wait "$NGINX_PID" || true
# wrk's requests answered: not curl's (wait_nginx_site, before the agent),
# nor the 499s of requests wrk gave up on when it stopped (no response)
answered=$(awk '$0 !~ /"curl\// && $9 != 499 { n++ } END { printf "%d", n }' "$WORK/logs/access.log")
rps=$(awk '/^Requests\/sec:/ { print $2 }' "$WORK/wrk.out")

first=${samples[0]}
max=$(printf '%s\n' "${samples[@]}" | sort -n | tail -1)
last=${samples[-1]}
printf 'soak: %d s at %.0f req/s: nginx answered %d, the agent measured %d and counted %d lost (%+d)\n' \
	"$DURATION" "$rps" "$answered" "$measured" "$lost" $((measured + lost - answered))
printf 'soak: agent RSS %d KiB at %d s, at most %d KiB, %d KiB at the end (peak %d KiB)\n' \
	"$first" "$SAMPLE" "$max" "$last" "$hwm"
fail=0
if [ $((measured + lost)) -ne "$answered" ]; then
	echo "soak: FAIL: answered != measured + lost" >&2
	fail=1
fi
if [ $((max - first)) -gt "$GROWTH_MAX_KB" ]; then
	echo "soak: FAIL: the agent grew by $((max - first)) KiB after warming up (bound $GROWTH_MAX_KB KiB)" >&2
	fail=1
fi
[ "$fail" = 0 ] && echo "soak: PASS"
exit "$fail"
