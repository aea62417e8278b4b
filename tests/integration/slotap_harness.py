# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Shared helpers of slotap's integration tests (stdlib only).

- processes: started in their own session, tracked by PID in REGISTRY and
  always ended by PID (Proc.stop, Registry.stop_all); nginx workers are
  recorded too, with their start time, so a reused PID is never mistaken
  for one of ours;
- free ports, waiting for a ready file or a TCP port;
- Prometheus text format: fetch and parse every sample into
  (name, labels) -> float, with histogram helpers;
- the agent (build/slotap), the test server (build/tests/slotap-testd) and
  nginx with a generated configuration;
- a raw-socket HTTP/1.1 client: keep-alive sequences, pipelined batches in
  one send(), request bodies split over several send()s, many concurrent
  connections.

`python3 tests/integration/slotap_harness.py --selftest` checks the parser,
the client, slotap-testd and nginx without the agent (no root needed for
the testd part).
"""

import collections
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "build"
# SLOTAP_AGENT overrides the agent binary (e.g. an installed build).
AGENT_BIN = Path(os.environ.get("SLOTAP_AGENT") or BUILD / "slotap")
TESTD_BIN = BUILD / "tests" / "slotap-testd"
CLIENT_BIN = BUILD / "tests" / "slotap-client"
CURL_BIN = shutil.which("curl") or "/usr/bin/curl"
NGINX_BIN = shutil.which("nginx") or "/usr/sbin/nginx"
BPFTOOL_BIN = shutil.which("bpftool") or "/usr/sbin/bpftool"

# Names of the agent's BPF programs start with one of these (kernel names
# are cut at 15 characters): every program in bpf/ is named slotap_*.
PROG_PREFIXES = ["slotap_"]

HIST = "http_server_request_duration_seconds"
CLIENT_HIST = "http_client_request_duration_seconds"
CONNECT_HIST = "slotap_tcp_connect_duration_seconds"
LOST = "slotap_events_lost_total"
RECEIVED = "slotap_events_received_total"
TRACKED = "slotap_tracked_connections"

READY_MARK = "metrics at http"  # http:// or https://


class HarnessError(Exception):
    """A test failure with a message meant for the one-line report."""


# ------------------------------------------------------------ processes --

def _proc_starttime(pid):
    """Start time (clock ticks since boot) of pid, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = data[data.rindex(")") + 2:].split()
    return int(fields[19])          # field 22 of stat(5)


def _proc_state(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    return data[data.rindex(")") + 2:].split()[0]


def children_of(pid):
    """PIDs whose parent is pid (scans /proc)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read().decode("ascii", "replace")
        except OSError:
            continue
        fields = data[data.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(name))
    return out


class Proc:
    """A process we started: own session, stdout/stderr in files."""

    def __init__(self, argv, name, log_dir, registry=None, env=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.out_path = Path(log_dir) / f"{name}.out"
        self.err_path = Path(log_dir) / f"{name}.err"
        self.stop_signal = signal.SIGTERM
        self.extra = []             # (pid, starttime) of children we own
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.popen = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                start_new_session=True, close_fds=True,
                env=None if env is None else {**os.environ, **env})
        self.pid = self.popen.pid
        (registry or REGISTRY).add(self)

    def alive(self):
        return self.popen.poll() is None

    @property
    def returncode(self):
        return self.popen.poll()

    def stderr(self):
        try:
            return self.err_path.read_text(errors="replace")
        except OSError:
            return ""

    def stdout(self):
        try:
            return self.out_path.read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, n=5):
        lines = [l for l in (self.stderr() + self.stdout()).splitlines() if l.strip()]
        return " | ".join(lines[-n:])

    def adopt_children(self):
        """Record the current children (e.g. nginx workers) as ours."""
        for cpid in children_of(self.pid):
            st = _proc_starttime(cpid)
            if st is not None and (cpid, st) not in self.extra:
                self.extra.append((cpid, st))

    def wait(self, timeout):
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=None, timeout=10.0):
        """Signals the process (its stop signal by default), waits, and
        SIGKILLs it (and its recorded children) if it does not exit.
        Returns (returncode, killed)."""
        killed = False
        if self.alive():
            try:
                os.kill(self.pid, sig or self.stop_signal)
            except ProcessLookupError:
                pass
            if self.wait(timeout) is None:
                killed = True
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.popen.wait()
        # children outliving their parent are ours to end too
        deadline = time.monotonic() + 2.0
        for cpid, st in self.extra:
            while _proc_starttime(cpid) == st and _proc_state(cpid) != "Z" \
                    and time.monotonic() < deadline:
                time.sleep(0.02)
            if _proc_starttime(cpid) == st and _proc_state(cpid) != "Z":
                killed = True
                try:
                    os.kill(cpid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        return self.popen.returncode, killed

    def leftover_pids(self):
        """PIDs of ours still alive (the process or recorded children)."""
        out = []
        if self.alive():
            out.append(self.pid)
        for cpid, st in self.extra:
            if _proc_starttime(cpid) == st and _proc_state(cpid) != "Z":
                out.append(cpid)
        return out


class Registry:
    """Every process the harness started, to end them whatever happens."""

    def __init__(self):
        self.procs = []
        self.lock = threading.Lock()

    def add(self, proc):
        with self.lock:
            self.procs.append(proc)

    def stop_all(self, timeout=5.0):
        for p in reversed(self.procs):
            try:
                p.stop(timeout=timeout)
            except Exception:           # keep going: end all the others
                pass

    def leftovers(self):
        out = []
        for p in self.procs:
            out += [(p.name, pid) for pid in p.leftover_pids()]
        return out


REGISTRY = Registry()


# ---------------------------------------------------------------- waits --

def free_port(host="127.0.0.1"):
    """A port nobody listens on, outside the ephemeral range."""
    for _ in range(200):
        port = random.randint(20000, 32000)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise HarnessError("no free port found")


def wait_for(predicate, timeout, interval=0.05, proc=None, what="condition"):
    """Polls predicate() until it returns a true value (returned). Fails
    early if proc exits."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if proc is not None and not proc.alive():
            raise HarnessError(f"{proc.name} exited with {proc.returncode} while "
                               f"waiting for {what}: {proc.tail()}")
        if time.monotonic() >= deadline:
            raise HarnessError(f"timeout ({timeout:g}s) waiting for {what}")
        time.sleep(interval)


def wait_for_file(path, timeout=10.0, proc=None):
    return wait_for(lambda: os.path.exists(path), timeout, proc=proc,
                    what=f"ready file {path}")


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(port, host="127.0.0.1", timeout=10.0, proc=None):
    return wait_for(lambda: port_open(port, host), timeout, proc=proc,
                    what=f"{host}:{port} to accept connections")


# ------------------------------------------------------- prometheus text --

_NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


class ParseError(HarnessError):
    pass


def _parse_value(s, lineno):
    t = s.strip()
    low = t.lower()
    if low in ("+inf", "inf"):
        return math.inf
    if low == "-inf":
        return -math.inf
    if low == "nan":
        return math.nan
    try:
        return float(t)
    except ValueError:
        raise ParseError(f"line {lineno}: bad value {s!r}") from None


def parse_prometheus(text):
    """Parses the Prometheus text exposition format (0.0.4).

    Returns (samples, types): samples maps (name, labels) -> float where
    labels is a tuple of sorted (name, value) pairs; types maps metric
    family -> type from the # TYPE lines. Raises ParseError on anything
    malformed, including a sample given twice."""
    samples, types = {}, {}
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.strip(" \t\r")
        if not line:
            continue
        if line.startswith("#"):
            parts = line[1:].split(None, 3)
            if len(parts) >= 3 and parts[0] == "TYPE":
                types[parts[1]] = parts[2]
            continue
        m = _NAME_RE.match(line)
        if not m:
            raise ParseError(f"line {lineno}: no metric name: {raw!r}")
        name, i = m.group(0), m.end()
        labels = {}
        j = i
        while j < len(line) and line[j] in " \t":
            j += 1
        if j < len(line) and line[j] == "{":
            i = j + 1
            while True:
                while i < len(line) and line[i] in " \t":
                    i += 1
                if i < len(line) and line[i] == "}":
                    i += 1
                    break
                lm = _LABEL_RE.match(line, i)
                if not lm:
                    raise ParseError(f"line {lineno}: bad label name at col {i + 1}: {raw!r}")
                lname, i = lm.group(0), lm.end()
                while i < len(line) and line[i] in " \t":
                    i += 1
                if line[i:i + 2] != '="' and not (line[i:i + 1] == "=" and line[i + 1:].lstrip(" \t").startswith('"')):
                    raise ParseError(f"line {lineno}: expected =\"value\" after {lname}: {raw!r}")
                i = line.index('"', i) + 1
                val = []
                while True:
                    if i >= len(line):
                        raise ParseError(f"line {lineno}: unterminated label value: {raw!r}")
                    c = line[i]
                    if c == "\\":
                        if i + 1 >= len(line):
                            raise ParseError(f"line {lineno}: dangling backslash: {raw!r}")
                        e = line[i + 1]
                        if e == "n":
                            val.append("\n")
                        elif e == "\\":
                            val.append("\\")
                        elif e == '"':
                            val.append('"')
                        else:
                            raise ParseError(f"line {lineno}: bad escape \\{e}: {raw!r}")
                        i += 2
                    elif c == '"':
                        i += 1
                        break
                    else:
                        val.append(c)
                        i += 1
                if lname in labels:
                    raise ParseError(f"line {lineno}: label {lname} repeated: {raw!r}")
                labels[lname] = "".join(val)
                while i < len(line) and line[i] in " \t":
                    i += 1
                if i < len(line) and line[i] == ",":
                    i += 1
                    continue
                if i < len(line) and line[i] == "}":
                    i += 1
                    break
                raise ParseError(f"line {lineno}: expected , or }} in labels: {raw!r}")
        rest = line[i:]
        if rest and rest[0] not in " \t":
            raise ParseError(f"line {lineno}: no space before value: {raw!r}")
        fields = rest.split()
        if not 1 <= len(fields) <= 2:
            raise ParseError(f"line {lineno}: expected value [timestamp]: {raw!r}")
        value = _parse_value(fields[0], lineno)
        if len(fields) == 2 and not re.fullmatch(r"-?[0-9]+", fields[1]):
            raise ParseError(f"line {lineno}: bad timestamp: {raw!r}")
        key = (name, tuple(sorted(labels.items())))
        if key in samples:
            raise ParseError(f"line {lineno}: duplicate sample {name}{labels}")
        samples[key] = value
    return samples, types


class Metrics:
    """One scrape: samples[(name, labels_tuple)] = value."""

    def __init__(self, text):
        self.text = text
        self.samples, self.types = parse_prometheus(text)

    def series(self, name, **match):
        """[(labels dict, value)] of the samples of name whose labels
        include match."""
        out = []
        for (n, lt), v in self.samples.items():
            if n != name:
                continue
            labels = dict(lt)
            if all(labels.get(k) == str(val) for k, val in match.items()):
                out.append((labels, v))
        return out

    def value(self, name, default=None, **labels):
        """The sample with exactly these labels, or default."""
        key = (name, tuple(sorted((k, str(v)) for k, v in labels.items())))
        return self.samples.get(key, default)

    def total(self, name, **match):
        return sum(v for _, v in self.series(name, **match))

    # histogram http_server_request_duration_seconds ------------------

    def request_counts(self, **match):
        """{(method, route, status): count} from the histogram's _count."""
        out = {}
        for labels, v in self.series(HIST + "_count", **match):
            key = (labels.get("http_request_method"), labels.get("http_route"),
                   labels.get("http_response_status_code"))
            out[key] = out.get(key, 0) + v
        return out

    def buckets(self, **match):
        """{le (float): cumulative count} summed over the matching series."""
        out = collections.defaultdict(float)
        for labels, v in self.series(HIST + "_bucket", **match):
            out[float(labels["le"])] += v
        return dict(out)

    def bucket(self, le, **match):
        """Cumulative count of bucket le (float) of the matching series."""
        b = self.buckets(**match)
        for k, v in b.items():
            if math.isclose(k, le, rel_tol=1e-9) or k == le:
                return v
        raise HarnessError(f"no bucket le={le:g} for {match}; buckets: {sorted(b)}")

    def losses(self):
        """{reason: value} of slotap_events_lost_total."""
        return {labels.get("reason", ""): v for labels, v in self.series(LOST)}

    def check_histograms(self, name=HIST):
        """Problems (strings) with the consistency of histogram name (the
        request histogram by default): cumulative buckets, +Inf == _count,
        _sum present and >= 0."""
        problems = []
        groups = collections.defaultdict(dict)
        for labels, v in self.series(name + "_bucket"):
            le = labels.pop("le", None)
            if le is None:
                problems.append(f"bucket without le: {labels}")
                continue
            groups[tuple(sorted(labels.items()))][float(le)] = v
        counts = {lt: v for (n, lt), v in self.samples.items() if n == name + "_count"}
        sums = {lt: v for (n, lt), v in self.samples.items() if n == name + "_sum"}
        for lt, b in groups.items():
            les = sorted(b)
            if not les or les[-1] != math.inf:
                problems.append(f"no +Inf bucket for {dict(lt)}")
                continue
            vals = [b[le] for le in les]
            if any(x > y for x, y in zip(vals, vals[1:])):
                problems.append(f"buckets not cumulative for {dict(lt)}: {vals}")
            if counts.get(lt) != b[math.inf]:
                problems.append(f"_count {counts.get(lt)} != +Inf bucket {b[math.inf]} for {dict(lt)}")
            if lt not in sums or not sums[lt] >= 0:
                problems.append(f"_sum missing or negative for {dict(lt)}")
        for lt in counts:
            if lt not in groups:
                problems.append(f"_count without buckets for {dict(lt)}")
        return problems


def fetch_text(url, timeout=5.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        if r.status != 200:
            raise HarnessError(f"GET {url}: status {r.status}")
        return r.read().decode("utf-8")


def fetch_metrics(port, host="127.0.0.1", timeout=5.0):
    return Metrics(fetch_text(f"http://{host}:{port}/metrics", timeout))


# --------------------------------------------------------- kernel MIBs --

def kernel_counters():
    """{"TcpExt:ListenDrops": n, "Tcp:RetransSegs": n, ...} from
    /proc/net/netstat and /proc/net/snmp (this network namespace, every
    process in it)."""
    out = {}
    for path in ("/proc/net/netstat", "/proc/net/snmp"):
        with open(path) as f:
            lines = f.read().splitlines()
        for names, values in zip(lines[0::2], lines[1::2]):
            prefix, names = names.split(":", 1)
            for k, v in zip(names.split(), values.split(":", 1)[1].split()):
                out[f"{prefix}:{k}"] = int(v)
    return out


# ------------------------------------------------------------ bpftool --

def bpf_programs():
    """[{id, name, pids}] of loaded BPF programs (bpftool prog list)."""
    r = subprocess.run([BPFTOOL_BIN, "-j", "prog", "list"], capture_output=True,
                       text=True, timeout=30)
    if r.returncode != 0:
        raise HarnessError(f"bpftool prog list failed: {r.stderr.strip()}")
    out = []
    for p in json.loads(r.stdout or "[]"):
        out.append({"id": p.get("id"), "name": p.get("name", ""),
                    "pids": [x.get("pid") for x in p.get("pids", [])]})
    return out


def prog_ids_held(pid):
    """IDs of the BPF programs process pid holds (prog and link fds), from
    /proc/PID/fdinfo. Empty if it is gone."""
    ids = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fdinfo")
    except OSError:
        return ids
    for fd in fds:
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except (OSError, ValueError, IndexError):
            continue
    return ids


def prog_holders():
    """{prog_id: {pid, ...}} over every live process (this bpftool has no
    'pids' support, so /proc is scanned)."""
    out = collections.defaultdict(set)
    for name in os.listdir("/proc"):
        if name.isdigit():
            for i in prog_ids_held(int(name)):
                out[i].add(int(name))
    return out


def stray_agent_programs(baseline=(), ours=()):
    """{id: name} of agent-named programs that are not in baseline and are
    not held by a live process other than ours (another engineer's agent
    running at the same time is not our leftover)."""
    progs = {i: n for i, n in agent_programs().items() if i not in baseline}
    if not progs:
        return {}
    holders = prog_holders()
    ours = set(ours)
    return {i: n for i, n in progs.items() if not (holders.get(i, set()) - ours)}


def agent_programs(prefixes=None):
    """{id: name} of loaded programs whose name starts with a prefix."""
    prefixes = PROG_PREFIXES if prefixes is None else prefixes
    return {p["id"]: p["name"] for p in bpf_programs()
            if any(p["name"].startswith(x) for x in prefixes)}


# ----------------------------------------------------------- processes --

def _require(path, hint):
    if not os.access(path, os.X_OK):
        raise HarnessError(f"{path} not found: {hint}")


class Agent:
    """build/slotap with a config written to tmpdir; wrap: a command that
    execs it (unshare --mount: the same PID)."""

    def __init__(self, config_text, tmpdir, name="slotap", verbose=True,
                 start_timeout=30.0, args=(), env=None, wrap=(), port=None):
        """port: the metrics port (a restart keeps its address); default a free one."""
        _require(AGENT_BIN, "run make (the agent is not built)")
        self.tmpdir = Path(tmpdir)
        self.config = self.tmpdir / f"{name}.yaml"
        self.config.write_text(config_text)
        self.port = port or free_port()
        self.killed = False
        argv = [*wrap, AGENT_BIN, "--config", self.config,
                "--web.listen-address", f"127.0.0.1:{self.port}"]
        # never the node's own /var/lib/slotap: a test's SLO state is its own
        if "--state-dir" not in args:
            argv += ["--state-dir", str(self.tmpdir / "state")]
        argv += list(args)
        if verbose:
            argv.append("-v")
        self.proc = Proc(argv, name, self.tmpdir, env=env)
        wait_for(lambda: READY_MARK in self.proc.stderr(), start_timeout,
                 proc=self.proc, what=f"'{READY_MARK}' from the agent")
        # the BPF programs this agent holds: all must be gone after stop()
        self.prog_ids = prog_ids_held(self.proc.pid)

    @property
    def pid(self):
        return self.proc.pid

    def metrics(self):
        return fetch_metrics(self.port)

    def wait_metrics(self, predicate, timeout=10.0, settle=0.4, what="metrics"):
        """Polls /metrics until predicate(m) is true, then waits settle
        seconds and returns a fresh scrape (so late extra counts show)."""
        last = [None]

        def ok():
            if not self.proc.alive():
                return False
            m = self.metrics()
            last[0] = m
            return predicate(m)
        try:
            wait_for(ok, timeout, interval=0.1, proc=self.proc, what=what)
        except HarnessError as e:
            seen = ""
            if last[0] is not None:
                seen = f"; seen counts {fmt_counts(last[0].request_counts())}, " \
                       f"losses {fmt_losses(last[0].losses())}"
            raise HarnessError(f"{e}{seen}") from None
        time.sleep(settle)
        return self.metrics()

    def kill(self):
        """SIGKILL, as a crash would: nothing of the agent's runs after it."""
        self.killed = True
        self.proc.stop(signal.SIGKILL, 5.0)

    def stop(self, timeout=10.0):
        """SIGTERM; fails unless the agent exits 0 in time and every BPF
        program it held is unloaded (within 5 s: freeing is deferred)."""
        if not self.killed:
            rc, killed = self.proc.stop(signal.SIGTERM, timeout)
            if killed:
                raise HarnessError(f"agent did not exit within {timeout:g}s of SIGTERM")
            if rc != 0:
                raise HarnessError(f"agent exited {rc} on SIGTERM: {self.proc.tail()}")
        try:
            wait_for(lambda: not self.programs_left(), 5.0,
                     what="the agent's BPF programs to be unloaded")
        except HarnessError:
            raise HarnessError(f"BPF programs still loaded after the agent exited: "
                               f"{sorted(self.programs_left().values())}") from None

    def programs_left(self):
        """{id: name} of the programs this agent held that are still loaded."""
        return {p["id"]: p["name"] for p in bpf_programs() if p["id"] in self.prog_ids}


def access_log_counts(path):
    """{(method, status): n} of an access log of "METHOD STATUS" lines."""
    counts = collections.Counter()
    for line in Path(path).read_text().splitlines():
        method, status = line.split()
        counts[(method, status)] += 1
    return counts


class Testd:
    """build/tests/slotap-testd on a free port."""

    def __init__(self, tmpdir, io="read", wio="write", split=False, name=None,
                 port=None, binary=None, wrap=(), access_log=False):
        """binary: a copy of slotap-testd under another name (another comm);
        wrap: a command that execs it (ip netns exec NS: the same PID);
        access_log: keep one (access_log_counts())."""
        _require(binary or TESTD_BIN, "run make (the test server is not built)")
        self.tmpdir = Path(tmpdir)
        name = name or f"testd-{io}-{wio}{'-split' if split else ''}"
        self.port = port or free_port()
        self.ready = self.tmpdir / f"{name}.ready"
        argv = [*wrap, binary or TESTD_BIN, "--port", self.port, "--io", io, "--wio", wio,
                "--ready-file", self.ready]
        if split:
            argv.append("--split")
        self.access_log = self.tmpdir / f"{name}.access.log" if access_log else None
        if access_log:
            argv += ["--access-log", self.access_log]
        self.proc = Proc(argv, name, self.tmpdir)
        wait_for_file(self.ready, proc=self.proc)

    def access_log_counts(self):
        return access_log_counts(self.access_log)

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        rc, killed = self.proc.stop(signal.SIGTERM, 5.0)
        if killed or rc != 0:
            raise HarnessError(f"slotap-testd did not exit cleanly on SIGTERM "
                               f"(rc={rc}, killed={killed}): {self.proc.tail()}")


_RUN_SEQ = iter(range(1, 1 << 30))


def run_to_end(argv, tmpdir, name, timeout):
    """Runs a client program to completion (own session, by PID like every
    other process); returns the Proc. Fails if it outlives timeout."""
    p = Proc(argv, f"{name}-{next(_RUN_SEQ)}", tmpdir)
    if p.wait(timeout) is None:
        p.stop(signal.SIGKILL, 5.0)
        raise HarnessError(f"{name} still running after {timeout:g}s: {p.tail()}")
    return p


def run_client(tmpdir, port, paths, conns=1, repeat=1, method="GET", timeout_ms=5000,
               timeout=60.0):
    """build/tests/slotap-client: returns its JSON report of what it saw
    (responses by status and path, no_response by reason, connects,
    connect_failures by errno name)."""
    _require(CLIENT_BIN, "run make (the test client is not built)")
    p = run_to_end([CLIENT_BIN, "--port", port, "--conns", conns, "--repeat", repeat,
                    "--method", method, "--timeout-ms", timeout_ms, *paths],
                   tmpdir, "slotap-client", timeout)
    if p.returncode != 0:
        raise HarnessError(f"slotap-client exited {p.returncode}: {p.tail()}")
    try:
        return json.loads(p.stdout())
    except ValueError:
        raise HarnessError(f"slotap-client printed no JSON: {p.stdout()[:200]!r}") from None


def run_curl(tmpdir, url, timeout=10.0):
    """One GET with curl; returns (exit status, HTTP status or 0)."""
    if not os.access(CURL_BIN, os.X_OK):
        raise HarnessError(f"{CURL_BIN} not found: apt-get install curl")
    p = run_to_end([CURL_BIN, "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                    "--max-time", f"{timeout / 2:g}", url], tmpdir, "curl", timeout)
    code = p.stdout().strip()
    return p.returncode, int(code) if code.isdigit() else 0


NGINX_INDEX = b"hello from nginx\n"          # 17 bytes
NGINX_BIG_SIZE = 1 << 20
NGINX_BIG_PATH = "/big.bin"


class Nginx:
    """nginx with a generated config in tmpdir/nginx (1 worker, no access
    log, sendfile, 17-byte index.html, 1 MB big.bin, /notfound -> 404,
    /unavailable -> 503). Stopped with SIGQUIT to the master."""

    def __init__(self, tmpdir, name="nginx", port=None, extra_server="", proxy=None,
                 access_log=False, http2=False, tls=None):
        """proxy: {prefix: port}: location PREFIX/ is proxied to
        127.0.0.1:port/ (the prefix stripped) over keep-alive upstream
        connections, HTTP/1.1. access_log: keep one, "METHOD STATUS" a
        line (access_log_counts()). http2: HTTP/2 in clear text by prior
        knowledge (h2c) on the port, instead of HTTP/1.x. tls:
        (certificate, key) files: the port speaks HTTPS."""
        if not os.access(NGINX_BIN, os.X_OK):
            raise HarnessError(f"{NGINX_BIN} not found: apt-get install nginx")
        self.dir = Path(tmpdir) / name
        self.www = self.dir / "www"
        self.www.mkdir(parents=True)
        (self.dir / "tmp").mkdir()
        # workers run as nobody when we are root: let them read the files
        for d in (Path(tmpdir), self.dir, self.www):
            os.chmod(d, 0o755)
        (self.www / "index.html").write_bytes(NGINX_INDEX)
        big = bytes((i * 7 + 13) % 251 for i in range(65536)) * (NGINX_BIG_SIZE // 65536)
        (self.www / NGINX_BIG_PATH.lstrip("/")).write_bytes(big)
        self.port = port or free_port()
        d = self.dir
        upstreams = ""
        for i, (prefix, up_port) in enumerate(sorted((proxy or {}).items())):
            upstreams += (f"    upstream up{i} {{ server 127.0.0.1:{up_port}; keepalive 8; }}\n")
            extra_server += (f"\n        location {prefix}/ {{ proxy_pass http://up{i}/; "
                             f"proxy_http_version 1.1; proxy_set_header Connection \"\"; }}")
        self.conf = d / "nginx.conf"
        self.conf.write_text(f"""\
worker_processes 1;
error_log {d}/error.log warn;
pid {d}/nginx.pid;
events {{
    worker_connections 4096;
}}
http {{
    log_format counts '$request_method $status';
    access_log {f"{d}/access.log counts" if access_log else "off"};
    sendfile on;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    types {{
        text/html html;
        application/octet-stream bin;
    }}
    default_type application/octet-stream;
{upstreams}    server {{
        listen 127.0.0.1:{self.port}{" http2" if http2 else ""}{" ssl" if tls else ""};
        server_name localhost;
        {f"ssl_certificate {tls[0]}; ssl_certificate_key {tls[1]};" if tls else ""}
        root {self.www};
        location /notfound {{ return 404; }}
        location /unavailable {{ return 503; }}
        {extra_server}
    }}
}}
""")
        self.proc = Proc([NGINX_BIN, "-c", self.conf, "-p", d, "-g", "daemon off;"],
                         name, Path(tmpdir))
        self.proc.stop_signal = signal.SIGQUIT
        wait_for_port(self.port, proc=self.proc)
        wait_for(lambda: children_of(self.proc.pid), 5.0, proc=self.proc,
                 what="an nginx worker")
        self.proc.adopt_children()

    @property
    def pid(self):
        return self.proc.pid

    def worker_pids(self):
        return [pid for pid, _ in self.proc.extra]

    def access_log_counts(self):
        return access_log_counts(self.dir / "access.log")

    def stop(self):
        rc, killed = self.proc.stop(signal.SIGQUIT, 10.0)
        if killed:
            raise HarnessError("nginx did not exit within 10s of SIGQUIT")
        return rc


# ----------------------------------------------------------- http client --

class Response:
    __slots__ = ("version", "status", "reason", "headers", "body")

    def __init__(self, version, status, reason, headers, body):
        self.version, self.status, self.reason = version, status, reason
        self.headers, self.body = headers, body

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def __repr__(self):
        return f"<Response {self.status} {len(self.body)}B>"


class ConnectionClosed(HarnessError):
    """The server closed the connection (before a complete response)."""


def build_request(method, path, host="127.0.0.1", headers=(), body=b"",
                  close=False, content_length=None):
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "User-Agent: slotap-harness"]
    lines += [f"{k}: {v}" for k, v in headers]
    if content_length is None and (body or method in ("POST", "PUT", "PATCH")):
        content_length = len(body)
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


class RawHTTP:
    """One TCP connection speaking HTTP/1.1 by hand."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.host = f"{host}:{port}"
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_once(self, data):
        """Exactly one send() syscall; fails if the kernel took less."""
        n = self.sock.send(data)
        if n != len(data):
            raise HarnessError(f"send() took {n} of {len(data)} bytes")

    def sendall(self, data):
        self.sock.sendall(data)

    def _fill(self):
        try:
            chunk = self.sock.recv(262144)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise ConnectionClosed("connection closed by the server")
        self.buf += chunk

    def _read_line(self, limit=65536):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return line.rstrip(b"\r\n")
            if len(self.buf) > limit:
                raise HarnessError("response line too long")
            self._fill()

    def _read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def read_response(self, method="GET"):
        """Reads one complete response (Content-Length, chunked, or until
        close). Raises ConnectionClosed if the server closes first."""
        status_line = self._read_line().decode("latin-1")
        m = re.fullmatch(r"(HTTP/1\.[01]) (\d{3})(?: (.*))?", status_line)
        if not m:
            raise HarnessError(f"bad status line {status_line!r}")
        headers = []
        while True:
            line = self._read_line().decode("latin-1")
            if not line:
                break
            k, _, v = line.partition(":")
            headers.append((k.strip(), v.strip()))
        resp = Response(m.group(1), int(m.group(2)), m.group(3) or "", headers, b"")
        status = resp.status
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return resp
        te = resp.header("Transfer-Encoding", "")
        cl = resp.header("Content-Length")
        if "chunked" in te.lower():
            body = bytearray()
            while True:
                size = int(self._read_line().split(b";")[0], 16)
                if size == 0:
                    while self._read_line():
                        pass
                    break
                body += self._read_exact(size)
                self._read_exact(2)
            resp.body = bytes(body)
        elif cl is not None:
            resp.body = self._read_exact(int(cl))
        else:
            body = bytearray(self.buf)
            self.buf.clear()
            while True:
                chunk = self.sock.recv(262144)
                if not chunk:
                    break
                body += chunk
            resp.body = bytes(body)
        return resp

    def request(self, method, path, headers=(), body=b"", close=False):
        self.sendall(build_request(method, path, self.host, headers, body, close))
        return self.read_response(method)

    def expect_close(self):
        """True if the server closes the connection without sending a byte."""
        try:
            chunk = self.sock.recv(4096)
        except ConnectionResetError:
            return True
        if chunk:
            self.buf += chunk
            return False
        return True


def keepalive_requests(port, paths, method="GET"):
    """Sends the requests one after the other on one connection; returns
    the responses."""
    out = []
    with RawHTTP(port) as c:
        for p in paths:
            out.append(c.request(method, p))
    return out


def pipelined_requests(port, batches, method="GET"):
    """For each batch (list of paths): all its requests in one send(), then
    its responses read in order. One connection. Returns all responses."""
    out = []
    with RawHTTP(port) as c:
        for batch in batches:
            c.send_once(b"".join(build_request(method, p, c.host) for p in batch))
            for _ in batch:
                out.append(c.read_response(method))
    return out


def post_in_chunks(port, path, body_len=10000, chunks=5, pause=0.020):
    """POST with Content-Length body_len; the head and the first body chunk
    go in one send(), each further chunk in its own send() after pause s.
    Returns (response, seconds from first send to complete response)."""
    body = bytes(48 + i % 10 for i in range(body_len))
    size = -(-body_len // chunks)
    parts = [body[i:i + size] for i in range(0, body_len, size)]
    with RawHTTP(port) as c:
        head = build_request("POST", path, c.host, content_length=body_len)
        t0 = time.monotonic()
        c.send_once(head + parts[0])
        for part in parts[1:]:
            time.sleep(pause)
            c.send_once(part)
        resp = c.read_response("POST")
        return resp, time.monotonic() - t0


def concurrent_requests(port, conns, per_conn, path="/", timeout=30.0):
    """conns connections, all opened before any request is sent, each
    doing per_conn keep-alive GETs of path. Returns (Counter of statuses,
    list of error strings)."""
    statuses = collections.Counter()
    errors = []
    lock = threading.Lock()
    barrier = threading.Barrier(conns, timeout=timeout)

    def worker():
        try:
            c = RawHTTP(port, timeout=timeout)
        except OSError as e:
            with lock:
                errors.append(f"connect: {e}")
            barrier.abort()
            return
        try:
            barrier.wait()
            local = collections.Counter()
            for _ in range(per_conn):
                local[c.request("GET", path).status] += 1
            with lock:
                statuses.update(local)
        except Exception as e:  # noqa: BLE001 - reported to the test
            with lock:
                errors.append(f"{type(e).__name__}: {e}")
        finally:
            c.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 5)
    if any(t.is_alive() for t in threads):
        errors.append("client threads did not finish")
    return statuses, errors


# ---------------------------------------------------------- formatting --

def fmt_counts(counts):
    return "{" + ", ".join(f"{m} {r} {s}: {v:g}" for (m, r, s), v in sorted(
        counts.items(), key=lambda kv: tuple(str(x) for x in kv[0]))) + "}"


def fmt_losses(losses):
    return "{" + ", ".join(f"{k}: {v:g}" for k, v in sorted(losses.items()) if v) + "}"


# ------------------------------------------------------------ selftest --

def _selftest_parser():
    text = r'''# HELP http_server_request_duration_seconds Duration.
# TYPE http_server_request_duration_seconds histogram
http_server_request_duration_seconds_bucket{service_name="a",http_route="/x/{id}",le="0.01"} 1
http_server_request_duration_seconds_bucket{service_name="a",http_route="/x/{id}",le="+Inf"} 3
http_server_request_duration_seconds_sum{service_name="a",http_route="/x/{id}"} 0.25
http_server_request_duration_seconds_count{service_name="a",http_route="/x/{id}"} 3
weird{a="q\"uote",b="back\\slash",c="new\nline",d="",} 1e3 1700000000000
  spaced { x = "1" , y="2" }   -Inf
nolabels NaN
slotap_events_lost_total{reason="ringbuf_full"} 0
'''
    m = Metrics(text)
    assert m.types["http_server_request_duration_seconds"] == "histogram"
    assert m.value("weird", a='q"uote', b="back\\slash", c="new\nline", d="") == 1000.0
    assert m.value("spaced", x="1", y="2") == -math.inf
    assert math.isnan(m.value("nolabels"))
    assert m.request_counts() == {(None, "/x/{id}", None): 3}
    assert m.bucket(0.01, service_name="a") == 1
    assert m.bucket(math.inf) == 3
    assert m.losses() == {"ringbuf_full": 0}
    assert m.check_histograms() == []
    bad = Metrics('h_bucket{le="1"} 5\nh_bucket{le="+Inf"} 4\n'.replace("h_", HIST + "_"))
    assert len(bad.check_histograms()) >= 2, bad.check_histograms()
    for t in ['x{a="1"} 1\nx{a="1"} 2\n', 'x{a="1} 1\n', 'x{a=1} 1\n', 'x{a="\\t"} 1\n',
              'x 1 2 3\n', 'x{a="1"}1\n', '1x 1\n', 'x{a="1" b="2"} 1\n', 'x abc\n']:
        try:
            Metrics(t)
        except ParseError:
            continue
        raise AssertionError(f"accepted malformed {t!r}")
    print("selftest: prometheus parser ok")


def _selftest_testd(tmp):
    for io, wio in (("read", "write"), ("recv", "send"), ("readv", "writev"),
                    ("recvmsg", "sendmsg")):
        for split in (False, True):
            t = Testd(tmp, io, wio, split)
            try:
                rs = keepalive_requests(t.port, ["/status/200"] * 5 +
                                        ["/delay/30ms/status/500"] * 2 + ["/size/100000", "/nope"])
                assert [r.status for r in rs] == [200] * 5 + [500] * 2 + [200, 404], rs
                assert len(rs[7].body) == 100000
                rs = pipelined_requests(t.port, [["/status/200", "/status/201", "/status/503"]] * 3)
                assert [r.status for r in rs] == [200, 201, 503] * 3, rs
                r, dt = post_in_chunks(t.port, "/status/201")
                assert r.status == 201 and dt >= 0.08, (r, dt)
                with RawHTTP(t.port) as c:
                    assert c.request("GET", "/status/200").status == 200
                    c.sendall(build_request("GET", "/close", c.host))
                    assert c.expect_close()
                with RawHTTP(t.port) as c:
                    c.sendall(build_request("GET", "/reset", c.host))
                    try:
                        c.sock.recv(4096)
                        raise AssertionError("/reset: no reset")
                    except ConnectionResetError:
                        pass
            finally:
                t.stop()
    t = Testd(tmp, name="testd-conc")
    try:
        st, errs = concurrent_requests(t.port, 200, 5, "/status/200")
        assert not errs and st == {200: 1000}, (st, errs[:3])
        for bad in (b"GARBAGE\r\n\r\n", b"GET / HTTP/2.0\r\n\r\n", b"GET x HTTP/1.1\r\n\r\n",
                    b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                    b"GET / HTTP/1.1\r\nno colon\r\n\r\n", b"A" * 20000):
            with RawHTTP(t.port) as c:
                c.sendall(bad)
                r = c.read_response()
                assert r.status == 400 and r.header("Connection") == "close", (bad[:30], r)
                assert c.expect_close()
        with RawHTTP(t.port) as c:
            r = c.request("GET", "/status/200", close=True)
            assert r.status == 200 and c.expect_close()
        with RawHTTP(t.port) as c:
            c.sendall(b"GET /status/200 HTTP/1.0\r\n\r\n")
            assert c.read_response().status == 200 and c.expect_close()
        rep = run_client(tmp, t.port, ["/status/200", "/status/503", "/reset", "/close"],
                         conns=2, repeat=3)
        assert rep["responses"] == {"200": 3, "503": 3}, rep
        assert rep["no_response"] == {"reset": 3, "closed": 3, "timeout": 0,
                                      "bad_response": 0, "error": 0}, rep
        assert rep["connects"] == 6 and not rep["connect_failures"], rep
        rep = run_client(tmp, free_port(), ["/"], repeat=2)
        assert rep["connect_failures"] == {"ECONNREFUSED": 2} and not rep["connects"], rep
    finally:
        t.stop()
    print("selftest: slotap-testd and client ok (4 io pairs x split, pipelining, "
          "chunked POST, /close, /reset, 200x5 concurrent, malformed input, "
          "slotap-client)")


def _selftest_nginx(tmp):
    t = Testd(tmp, name="testd-upstream")
    n = Nginx(tmp, proxy={"/api": t.port, "/down": free_port()})
    try:
        rs = keepalive_requests(n.port, ["/api/status/200", "/api/status/503", "/down/x"])
        assert [r.status for r in rs] == [200, 503, 502], rs
        paths = ["/index.html"] * 10 + [NGINX_BIG_PATH] * 2 + ["/notfound"] * 3 + ["/unavailable"] * 2
        rs = keepalive_requests(n.port, paths)
        st = collections.Counter((p, r.status) for p, r in zip(paths, rs))
        assert st == {("/index.html", 200): 10, (NGINX_BIG_PATH, 200): 2,
                      ("/notfound", 404): 3, ("/unavailable", 503): 2}, st
        assert rs[0].body == NGINX_INDEX and len(rs[10].body) == NGINX_BIG_SIZE
        rs = pipelined_requests(n.port, [["/index.html", "/notfound", "/unavailable"]] * 2)
        assert [r.status for r in rs] == [200, 404, 503] * 2
        workers = n.worker_pids()
        assert len(workers) == 1, workers
    finally:
        rc = n.stop()
        t.stop()
    assert rc == 0, rc
    assert not n.proc.leftover_pids()
    print("selftest: nginx ok")


def main(argv):
    if argv[1:] != ["--selftest"]:
        print(__doc__)
        return 2
    _selftest_parser()
    tmp = tempfile.mkdtemp(prefix="slotap-harness-")
    try:
        _selftest_testd(tmp)
        if os.geteuid() == 0:
            _selftest_nginx(tmp)
        else:
            print("selftest: nginx skipped (not root)")
    finally:
        REGISTRY.stop_all()
        left = REGISTRY.leftovers()
        shutil.rmtree(tmp, ignore_errors=True)
    assert not left, left
    print("selftest: all ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
