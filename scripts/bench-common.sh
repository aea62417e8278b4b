# Sourced by the benchmarks: how they wait for what they start, and how
# they sum up their rounds and the kernel's BPF run-time stats.

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
