#!/usr/bin/env bash
# make fuzz: runs each libFuzzer target BINDIR/fuzz-NAME for SECONDS, from
# its committed seeds and regressions, growing a working corpus in
# BINDIR/../corpus/NAME. What crashes or breaks an invariant is moved to
# tests/fuzz/regressions/NAME/, for the fix's commit. Prints executions per
# second per target; fails when any target found something.
set -u
[ $# -ge 3 ] || { echo "usage: $0 BINDIR SECONDS NAME..." >&2; exit 2; }
bindir=$1 seconds=$2
shift 2
work=$bindir/..
# targets that drive the kernel's parser through BPF_PROG_TEST_RUN
needs_root=" http_parser "
fail=0

for t in "$@"; do
	bin=$bindir/fuzz-$t
	if [[ $needs_root == *" $t "* ]] && [ "$(id -u)" -ne 0 ]; then
		if [ -n "${CI:-}" ]; then
			echo "fuzz $t: FAILED: needs root (BPF), and CI must run it"
			fail=1
		else
			echo "fuzz $t: skipped: needs root (BPF)"
		fi
		continue
	fi
	corpus=$work/corpus/$t artifacts=$work/artifacts/$t log=$work/fuzz-$t.log
	mkdir -p "$corpus" "$artifacts"
	dirs=("$corpus" "tests/fuzz/corpus/$t")
	[ -d "tests/fuzz/regressions/$t" ] && dirs+=("tests/fuzz/regressions/$t")
	# -timeout: an input that takes 10 s is a hang, kept as one
	"$bin" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$artifacts/" "${dirs[@]}" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	found=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
		-o -name 'oom-*' \) | sort)
	if [ $rc -ne 0 ] || [ -n "$found" ]; then
		fail=1
		grep -v '^#[0-9]' "$log" | tail -40
		if [ -n "$found" ]; then
			mkdir -p "tests/fuzz/regressions/$t"
			for f in $found; do
				mv "$f" "tests/fuzz/regressions/$t/"
				echo "fuzz $t: kept tests/fuzz/regressions/$t/$(basename "$f")"
			done
		fi
		echo "fuzz $t: FAILED after ${runs:-?} runs (log: $log)"
	else
		echo "fuzz $t: ${runs:-?} runs in ${seconds} s, ${rate:-?} exec/s," \
			"corpus $(find "$corpus" -type f | wc -l) inputs: nothing found"
	fi
done
exit $fail
