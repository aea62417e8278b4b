#!/usr/bin/env bash
# Runs each cmocka unit test binary and prints one closing total.
set -u
pass=0 fail=0 skip=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	k=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${k:-0}))
	# a crash or a binary that ran nothing still fails the run
	if [ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ]; then fail=$((fail + 1)); fi
done
if [ $skip -gt 0 ]; then
	echo "note: tests that load BPF skip when not run as root"
	echo "unit: $pass passed, $fail failed, $skip skipped"
else
	echo "unit: $pass passed, $fail failed"
fi
[ $fail -eq 0 ]
