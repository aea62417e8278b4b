# Sourced by the benchmarks: what they check and set up first, how they
# wait for what they start, and how they sum up their rounds and the
# kernel's BPF run-time stats.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build

# bench_start WHO NAME TOOL...: fails (WHO: why) unless root, with every
# TOOL and the agent built; then WORK, a fresh /tmp/slotap-NAME.XXXXXX,
# removed at exit once what still runs of ours is stopped
bench_start() {
	local who=$1 name=$2 tool
	shift 2
	[ "$(id -u)" -eq 0 ] || { echo "$who: needs root (BPF)" >&2; exit 1; }
	for tool in "$@"; do
		command -v "$tool" >/dev/null ||
			{ echo "$who: $tool missing: run scripts/install-deps.sh" >&2; exit 1; }
	done
	[ -x "$BUILD/slotap" ] || { echo "$who: run make first" >&2; exit 1; }
	WORK=$(mktemp -d "/tmp/slotap-$name.XXXXXX")
	trap bench_cleanup EXIT
}

# jobs, not PIDs: never a PID already waited for and maybe reused (nginx's
# master stops its worker itself)
bench_cleanup() {
	for pid in $(jobs -p); do kill -TERM "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}

# bench_agent_config NAME PORT: $WORK/slotap.yaml, the one service NAME on PORT
bench_agent_config() {
	printf 'services:\n  - name: %s\n    match: {port: %s}\n' "$1" "$2" > "$WORK/slotap.yaml"
}

# wait_for PID FILE TEXT NAME: until FILE says TEXT (ready); fails loudly if
# PID exits first or takes over 30 s (the verifier alone takes seconds)
wait_for() {
	for _ in $(seq 300); do
		grep -q "$3" "$2" 2>/dev/null && return 0
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench: $4 did not start:" >&2
	cat "$2" >&2
	exit 1
}

# median, of the numbers on stdin (space or line separated)
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# "min-max, mean m": how far one round's ratio is from another's (the
# noise a median of this many rounds stands on)
spread() { tr ' ' '\n' | grep -v '^$' | awk 'NR == 1 || $1 < lo { lo = $1 } NR == 1 || $1 > hi { hi = $1 }
	{ s += $1 } END { printf "%.3f-%.3f, mean %.3f", lo, hi, s / NR }'; }

# bpf_cost N UNIT [PID]: each loaded slotap_ program's run time from the
# kernel's BPF stats (kernel.bpf_stats_enabled on), a run and per UNIT
# (request, command) over N of them, and the sum; with PID, only the
# programs that process holds (another agent may run on the machine). A
# program's runs include the socket operations of everything else that
# leave at its first filter.
bpf_cost() {
	bpftool -j prog show | python3 -c '
import glob, json, re, sys
n, unit, pid = float(sys.argv[1]), sys.argv[2], sys.argv[3]
ids = set()
for f in glob.glob(f"/proc/{pid}/fdinfo/*") if pid else ():
    try:
        ids.update(int(m) for m in re.findall(r"^prog_id:\s*(\d+)", open(f).read(), re.M))
    except OSError:
        pass
total = 0
for p in json.load(sys.stdin):
    if not p.get("name", "").startswith("slotap_") or not p.get("run_cnt"):
        continue
    if pid and p["id"] not in ids:
        continue
    t, c, name = p.get("run_time_ns", 0), p["run_cnt"], p["name"]
    print("  %-28s %6.0f ns a run, %5.2f runs and %5.0f ns a %s" % (name, t / c, c / n, t / n, unit))
    total += t / n
print("  %-28s %6.0f ns a %s" % ("all programs", total, unit))' "$1" "$2" "${3:-}"
}
