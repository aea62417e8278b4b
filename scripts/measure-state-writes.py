#!/usr/bin/env python3
"""What saving the SLO state writes to disk, per hour, at 1000 default SLO
copies: the agent and our test server on 127.0.0.1, 500 endpoints each
given the two built-in default SLOs, then /proc/PID/io write_bytes over
two periods: every endpoint answering a request every 10 s (each save
has news for every copy), then no traffic (nothing new to save).

As root, after make: scripts/measure-state-writes.py [BUSY_SECONDS [IDLE_SECONDS]]
(default 900 and 60: the busy period holds journal compactions, a whole
file every ~40 saves at this size).
The state directory is on the disk (/var/tmp), not a tmpfs: write_bytes
counts only what reaches a block device.
"""
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import slotap_harness as h  # noqa: E402

ENDPOINTS = 500             # x 2 built-in default SLOs = 1000 copies
INTERVAL = 10               # --state-interval, the default


def write_bytes(pid):
    with open(f"/proc/{pid}/io") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("write_bytes:"))


def main():
    busy_s = float(sys.argv[1]) if len(sys.argv) > 1 else 900.0
    idle_s = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    tmp = tempfile.mkdtemp(prefix="slotap-state-writes-", dir="/var/tmp")
    os.chmod(tmp, 0o755)
    paths = [f"/page-n{i}x" for i in range(ENDPOINTS)]
    try:
        t = h.Testd(tmp)
        cfg = (f"services:\n  - name: testd\n    match: {{port: {t.port}}}\n"
               f"    max_routes: {ENDPOINTS + 10}\nmax_default_slos: {2 * ENDPOINTS}\n")
        a = h.Agent(cfg, tmp, verbose=False,
                    args=["--state-dir", os.path.join(tmp, "state"),
                          "--state-interval", str(INTERVAL)])
        h.keepalive_requests(t.port, paths)
        h.wait_for(lambda: a.metrics().value("slotap_slo_default_instances") == 2 * ENDPOINTS,
                   30.0, proc=a.proc, what=f"{2 * ENDPOINTS} default SLO copies")
        time.sleep(INTERVAL + 1)            # the first full save
        size = os.path.getsize(os.path.join(tmp, "state", "slo-state.bin"))
        per_tick = ENDPOINTS // 10          # a second: every endpoint once per 10 s
        print(f"{2 * ENDPOINTS} default SLO copies, state file {size} bytes")
        for name, busy, period in (("traffic on every endpoint", True, busy_s),
                                   ("no traffic", False, idle_s)):
            before, start, i = write_bytes(a.pid), time.monotonic(), 0
            saves = a.metrics().value("slotap_state_saves_total", result="written")
            while time.monotonic() - start < period:
                tick = time.monotonic()
                if busy:
                    batch = [paths[(i + k) % ENDPOINTS] for k in range(per_tick)]
                    h.keepalive_requests(t.port, batch)
                    i += per_tick
                time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
            elapsed = time.monotonic() - start
            written = write_bytes(a.pid) - before
            saves = a.metrics().value("slotap_state_saves_total", result="written") - saves
            whole = a.metrics().value("slotap_state_written_bytes_total")
            print(f"{name}: {written} bytes in {elapsed:.0f} s ({saves:g} saves written): "
                  f"{written * 3600 / elapsed / 1e6:.1f} MB per hour "
                  f"(the agent counts {whole:g} bytes of state written since its start)")
        a.stop()
    finally:
        h.REGISTRY.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
