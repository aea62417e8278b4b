#!/usr/bin/env bash
# Throughput and memory of the SLO engine (user/slo.c): 2000 SLOs fed a
# steady stream of events on one core; prints events/s and peak RSS.
# Targets: >= 1,000,000 events/s, < 64 MB. Usage: scripts/bench-slo.sh [EVENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/tests/bench-slo
for mix in 0 1; do
	taskset -c 0 build/tests/bench-slo "${1:-200000000}" "$mix"
done
