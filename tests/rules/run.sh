#!/usr/bin/env bash
# Regenerates the rules of every config here with `slotap rules`, checks them
# with `promtool check rules`, then runs every *.test.yml here on them with
# `promtool test rules`, in OUTDIR, so that the tests can never run on rules
# that drifted from what slotap writes.
# Usage: tests/rules/run.sh SLOTAP OUTDIR
set -euo pipefail

slotap=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v promtool >/dev/null; then
	echo "rules: promtool not found (Debian's prometheus package: scripts/install-deps.sh)" >&2
	exit 1
fi
mkdir -p "$out"
fail=0
for cfg in "$here"/*.yaml "$here"/../../docs/examples/openslo-shop.yaml; do
	name=$(basename "$cfg" .yaml)
	"$slotap" rules --config "$cfg" --output "$out/$name.rules.yml"
	if ! promtool check rules "$out/$name.rules.yml" >"$out/$name.check.log" 2>&1; then
		cat "$out/$name.check.log" >&2
		echo "rules: promtool check rules failed on the rules of $cfg" >&2
		fail=1
	fi
done
"$slotap" rules --output "$out/default.rules.yml"
promtool check rules "$out/default.rules.yml" >/dev/null || { echo "rules: the built-in config's rules fail promtool check rules" >&2; fail=1; }
for t in "$here"/*.test.yml; do
	cp "$t" "$out/"
	if ! (cd "$out" && promtool test rules "$(basename "$t")"); then
		echo "rules: $t failed" >&2
		fail=1
	fi
done
[ $fail -eq 0 ] && echo "rules: every config's rules check out, every promtool test passes"
exit $fail
