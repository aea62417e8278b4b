#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""slotap integration tests: the real agent against real servers.

Run from the repository root after `make` (as `make integration` does):

    python3 tests/integration/run.py [-k NAME]... [--list] [--keep] [-v]

One line per test (PASS name / FAIL name: reason / SKIP name: reason), then
exactly one closing line `integration: N passed, N failed[, N skipped]`.
Exit status 1 if any test failed. Needs root (BPF); without it every test
is skipped, or fails when $CI is set.
"""

import argparse
import collections
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import urllib.parse
import urllib.request
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import slotap_harness as h  # noqa: E402
from slotap_harness import HarnessError  # noqa: E402

THRESHOLDS = "[10ms, 30ms, 100ms]"
TESTD_ROUTES = ["/delay/{delay}/status/{code}", "/status/{code}", "/size/{bytes}"]
R_STATUS = "/status/{code}"
R_DELAY = "/delay/{delay}/status/{code}"
IO_PAIRS = [("read", "write"), ("recv", "send"), ("readv", "writev"),
            ("recvmsg", "sendmsg")]
LOST_CLOSED = "closed_before_response"

TESTS = []          # [(name, function(ctx))]


def test(name):
    def register(fn):
        TESTS.append((name, fn))
        return fn
    return register


# ---------------------------------------------------------------- context --

class Ctx:
    """Per-test temp dir and the processes the test started, stopped in
    reverse order by close() whatever happened."""

    def __init__(self, name):
        self.name = name
        self.tmp = tempfile.mkdtemp(prefix=f"slotap-it-{name}-")
        os.chmod(self.tmp, 0o755)
        self.stops = []

    def testd(self, io="read", wio="write", split=False):
        t = h.Testd(self.tmp, io, wio, split)
        self.stops.append(("slotap-testd", t.stop))
        return t

    def nginx(self):
        n = h.Nginx(self.tmp)
        self.stops.append(("nginx", n.stop))
        return n

    def agent(self, config_text, args=()):
        a = h.Agent(config_text, self.tmp, args=args)
        AGENTS.append(a)
        self.stops.append(("agent", lambda: stop_agent_checked(a)))
        return a

    def close(self):
        """Stops everything; returns the error messages of stops that went
        wrong (a test that passed fails on them)."""
        errors = []
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            while self.stops:
                what, stop = self.stops.pop()
                try:
                    stop()
                except Exception as e:  # noqa: BLE001
                    errors.append(f"stopping {what}: {e}")
        finally:
            signal.signal(signal.SIGINT, old)
        return errors

    def remove(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


BASELINE_PROGS = {}     # agent-looking BPF programs loaded before we started


AGENTS = []             # every Agent started, for the final check


def new_agent_programs():
    """Agent-named programs loaded since we started that no live process
    (other than ours) holds."""
    return h.stray_agent_programs(BASELINE_PROGS, [p.pid for p in h.REGISTRY.procs])


def stop_agent_checked(agent):
    """SIGTERM: the agent must exit 0, and its BPF programs must be gone."""
    agent.stop()


# --------------------------------------------------------------- helpers --

def service_config(name, port, routes=None):
    lines = ["services:", f"  - name: {name}", f"    match: {{port: {port}}}"]
    if routes:
        lines.append("    routes: [" + ", ".join(json.dumps(r) for r in routes) + "]")
    lines.append(f"latency_thresholds: {THRESHOLDS}")
    return "\n".join(lines) + "\n"


def counts_total(m, service):
    return m.total(h.HIST + "_count", service_name=service)


def wait_counts(agent, service, total, extra=None, what=None):
    """Polls /metrics until service has at least total requests counted
    (and extra(m) holds), then returns a scrape taken a moment later."""
    def pred(m):
        return counts_total(m, service) >= total and (extra is None or extra(m))
    return agent.wait_metrics(pred, timeout=10.0,
                              what=what or f"{total} requests of {service} in /metrics")


def expect_counts(m, service, expected):
    """The request counts of service, per (method, route, status), must be
    exactly expected (no other series with a non-zero count)."""
    got = {k: v for k, v in m.request_counts(service_name=service).items() if v}
    exp = {k: float(v) for k, v in expected.items()}
    if got != exp:
        raise HarnessError(f"request counts {h.fmt_counts(got)}, expected {h.fmt_counts(exp)}")


def check_common(m, allow_closed=True):
    """Histogram consistency, and no event lost for any reason (except
    closed_before_response unless allow_closed is False)."""
    problems = m.check_histograms()
    if problems:
        raise HarnessError("histogram: " + "; ".join(problems[:3]))
    lost = {r: v for r, v in m.losses().items()
            if v and (r != LOST_CLOSED or not allow_closed)}
    if lost:
        raise HarnessError(f"events lost: {h.fmt_losses(lost)}")


def expect_untracked(agent):
    """Once every client connection is closed, slotap_tracked_connections
    must drop back to 0 (a leak in the connection map otherwise)."""
    if agent.metrics().value(h.TRACKED) is None:
        return
    try:
        agent.wait_metrics(lambda m: m.value(h.TRACKED) == 0, timeout=5.0, settle=0,
                           what=f"{h.TRACKED} to return to 0")
    except HarnessError:
        raise HarnessError(f"{h.TRACKED} is {agent.metrics().value(h.TRACKED):g} "
                           f"after every connection was closed") from None


def expect_bucket(m, le, want, **labels):
    got = m.bucket(le, **labels)
    if got != want:
        raise HarnessError(f"bucket le={le:g} of {labels} is {got:g}, expected {want}")


def client_statuses(responses):
    return collections.Counter(r.status for r in responses)


def expect_client(got, expected, what="client got"):
    if dict(got) != dict(expected):
        raise HarnessError(f"{what} {dict(got)}, expected {dict(expected)} "
                           f"(server problem, not the agent)")


# ----------------------------------------------------------------- tests --

BAD_CONFIGS = [
    # (name, yaml text, expected error line or None)
    ("yaml_syntax", 'services:\n  - name: "testd\n    match: {port: 18090}\n', None),
    ("bad_threshold", "services:\n  - name: testd\n    match: {port: 18090}\n"
     "    routes: [\"/status/{code}\"]\nlatency_thresholds: [10ms, banana, 100ms]\n", 5),
    ("bad_port", "services:\n  - name: testd\n    match: {port: 70000}\n"
     f"latency_thresholds: {THRESHOLDS}\n", 3),
]


@test("config_errors")
def t_config_errors(ctx):
    h._require(h.AGENT_BIN, "run make (the agent is not built)")
    for name, text, line in BAD_CONFIGS:
        path = os.path.join(ctx.tmp, f"bad-{name}.yaml")
        with open(path, "w") as f:
            f.write(text)
        before = set(h.agent_programs())
        p = h.Proc([h.AGENT_BIN, "--config", path, "--web.listen-address",
                    f"127.0.0.1:{h.free_port()}"], f"slotap-{name}", ctx.tmp)
        rc = p.wait(20.0)
        if rc is None:
            p.stop()
            raise HarnessError(f"{name}: agent still running 20s after a bad config")
        err = [l for l in p.stderr().splitlines() if l.strip()]
        if rc != 2:
            raise HarnessError(f"{name}: exit {rc}, expected 2 ({' | '.join(err[-3:])})")
        if len(err) != 1:
            raise HarnessError(f"{name}: {len(err)} lines on stderr, expected 1: {err[:4]}")
        m = None
        for shown in (path, os.path.basename(path)):
            m = re.search(re.escape(shown) + r":(\d+):(\d+): \S", err[0])
            if m:
                break
        if not m:
            raise HarnessError(f"{name}: no 'FILE:LINE:COL: message' in {err[0]!r}")
        if line is not None and int(m.group(1)) != line:
            raise HarnessError(f"{name}: error on line {m.group(1)}, expected {line}: {err[0]!r}")
        if h.READY_MARK in p.stderr():
            raise HarnessError(f"{name}: agent said it was ready")
        left = h.stray_agent_programs(before)
        if left:
            raise HarnessError(f"{name}: BPF programs loaded after a bad config: "
                               f"{sorted(left.values())}")


def io_pair_test(io, wio):
    def run(ctx):
        t = ctx.testd(io, wio)
        a = ctx.agent(service_config("testd", t.port, TESTD_ROUTES))
        paths = ["/delay/30ms/status/500" if i % 6 == 5 else "/status/200" for i in range(60)]
        rs = h.keepalive_requests(t.port, paths)
        expect_client(client_statuses(rs), {200: 50, 500: 10})
        m = wait_counts(a, "testd", 60)
        expect_counts(m, "testd", {("GET", R_STATUS, "200"): 50, ("GET", R_DELAY, "500"): 10})
        slow = dict(service_name="testd", http_route=R_DELAY, http_response_status_code="500")
        expect_bucket(m, 0.01, 0, **slow)
        expect_bucket(m, 0.03, 0, **slow)
        expect_bucket(m, 0.1, 10, **slow)
        expect_bucket(m, math.inf, 10, **slow)
        s = m.total(h.HIST + "_sum", **slow)
        if not 0.3 <= s < 1.0:
            raise HarnessError(f"_sum of the 10 x 30ms requests is {s:g}s, expected 0.3..1")
        check_common(m)
        expect_untracked(a)
    return run


for _io, _wio in IO_PAIRS:
    test(f"testd_{_io}_{_wio}")(io_pair_test(_io, _wio))


@test("pipelining")
def t_pipelining(ctx):
    t = ctx.testd()
    a = ctx.agent(service_config("testd", t.port, TESTD_ROUTES))
    batch = ["/status/200", "/status/201", "/status/200", "/status/503", "/status/200"]
    rs = h.pipelined_requests(t.port, [batch] * 20)
    expect_client(client_statuses(rs), {200: 60, 201: 20, 503: 20})
    m = wait_counts(a, "testd", 100)
    expect_counts(m, "testd", {("GET", R_STATUS, "200"): 60, ("GET", R_STATUS, "201"): 20,
                               ("GET", R_STATUS, "503"): 20})
    check_common(m)
    expect_untracked(a)


@test("split_request_body")
def t_split_request_body(ctx):
    t = ctx.testd()
    a = ctx.agent(service_config("testd", t.port, TESTD_ROUTES))
    r, dt = h.post_in_chunks(t.port, "/status/201", body_len=10000, chunks=5, pause=0.020)
    if r.status != 201 or dt < 0.08:
        raise HarnessError(f"client: status {r.status} after {dt:.3f}s, expected 201 "
                           f"after >= 0.08s")
    m = wait_counts(a, "testd", 1)
    expect_counts(m, "testd", {("POST", R_STATUS, "201"): 1})
    post = dict(service_name="testd", http_request_method="POST")
    expect_bucket(m, 0.03, 0, **post)
    s = m.total(h.HIST + "_sum", **post)
    if s < 0.075:
        raise HarnessError(f"latency {s:.4f}s, expected >= ~0.08s (from the first "
                           f"request byte to the response)")
    check_common(m)
    expect_untracked(a)


def split_responses_test(io, wio):
    def run(ctx):
        t = ctx.testd(io, wio, split=True)
        a = ctx.agent(service_config("testd", t.port, TESTD_ROUTES))
        paths = ["/delay/10ms/status/503" if i % 3 == 2 else "/status/200" for i in range(30)]
        rs = h.keepalive_requests(t.port, paths)
        expect_client(client_statuses(rs), {200: 20, 503: 10})
        m = wait_counts(a, "testd", 30)
        expect_counts(m, "testd", {("GET", R_STATUS, "200"): 20, ("GET", R_DELAY, "503"): 10})
        check_common(m)
        expect_untracked(a)
    return run


test("split_responses")(split_responses_test("read", "write"))
test("split_responses_writev")(split_responses_test("readv", "writev"))


@test("bodies")
def t_bodies(ctx):
    """Big responses (many write syscalls each) and request bodies made of
    fake request lines: both must be skipped by Content-Length."""
    t = ctx.testd("readv", "writev")
    a = ctx.agent(service_config("testd", t.port, TESTD_ROUTES))
    fake = b"GET /status/200 HTTP/1.1\r\nHost: x\r\n\r\n"
    body = (fake * (20000 // len(fake) + 1))[:20000]
    got = collections.Counter()
    with h.RawHTTP(t.port) as c:
        for _ in range(5):
            r = c.request("GET", "/size/300000")
            got[("GET", r.status, len(r.body))] += 1
            r = c.request("POST", "/status/201", body=body)
            got[("POST", r.status, len(r.body))] += 1
    expect_client(got, {("GET", 200, 300000): 5, ("POST", 201, 7): 5})
    m = wait_counts(a, "testd", 10)
    expect_counts(m, "testd", {("GET", "/size/{bytes}", "200"): 5,
                               ("POST", R_STATUS, "201"): 5})
    check_common(m)
    expect_untracked(a)


@test("concurrent_connections")
def t_concurrent(ctx):
    t = ctx.testd()
    a = ctx.agent(service_config("testd", t.port, TESTD_ROUTES))
    st, errors = h.concurrent_requests(t.port, 200, 5, "/status/200")
    if errors:
        raise HarnessError(f"client: {len(errors)} connection(s) failed, first: {errors[0]}")
    expect_client(st, {200: 1000})
    m = wait_counts(a, "testd", 1000)
    expect_counts(m, "testd", {("GET", R_STATUS, "200"): 1000})
    check_common(m)
    expect_untracked(a)


@test("closed_mid_request")
def t_closed(ctx):
    t = ctx.testd()
    a = ctx.agent(service_config("testd", t.port, TESTD_ROUTES))
    base = a.metrics().losses().get(LOST_CLOSED, 0)
    conns, closed = 10, 0
    for _ in range(conns):
        with h.RawHTTP(t.port) as c:
            for _ in range(2):
                if c.request("GET", "/status/200").status != 200:
                    raise HarnessError("client: /status/200 did not answer 200")
            c.sendall(h.build_request("GET", "/close", c.host))
            closed += c.expect_close()
    if closed != conns:
        raise HarnessError(f"client: server closed {closed} of {conns} /close requests")
    m = wait_counts(a, "testd", 2 * conns,
                    extra=lambda mm: mm.losses().get(LOST_CLOSED, 0) >= base + conns,
                    what=f"{2 * conns} requests and {conns} {LOST_CLOSED} losses")
    expect_counts(m, "testd", {("GET", R_STATUS, "200"): 2 * conns})
    lost = m.losses().get(LOST_CLOSED, 0) - base
    if lost != conns:
        raise HarnessError(f"{h.LOST}{{reason=\"{LOST_CLOSED}\"}} rose by {lost:g}, "
                           f"expected {conns}")
    check_common(m)
    expect_untracked(a)


@test("nginx")
def t_nginx(ctx):
    n = ctx.nginx()
    a = ctx.agent(service_config("nginx", n.port))
    plan = (["/index.html"] * 100 + [h.NGINX_BIG_PATH] * 20 + ["/notfound"] * 30 +
            ["/unavailable"] * 10)
    random.Random(1).shuffle(plan)
    rs = h.keepalive_requests(n.port, plan)
    got = collections.Counter((p, r.status) for p, r in zip(plan, rs))
    want = {("/index.html", 200): 100, (h.NGINX_BIG_PATH, 200): 20, ("/notfound", 404): 30,
            ("/unavailable", 503): 10}
    expect_client(got, want)
    for p, r in zip(plan, rs):
        if p == "/index.html" and r.body != h.NGINX_INDEX or \
                p == h.NGINX_BIG_PATH and len(r.body) != h.NGINX_BIG_SIZE:
            raise HarnessError(f"client: wrong body for {p} ({len(r.body)} bytes)")
    m = wait_counts(a, "nginx", len(plan))
    expect_counts(m, "nginx", {("GET", p, str(s)): v for (p, s), v in want.items()})
    check_common(m)
    expect_untracked(a)


@test("route_folding")
def t_route_folding(ctx):
    t = ctx.testd()
    a = ctx.agent(service_config("testd", t.port))      # no route templates
    long_path = "/files/" + "x" * 100     # longer than the 64 bytes the kernel keeps
    plan = (["/status/200"] * 3 + ["/users/123e4567-e89b-12d3-a456-426614174000"] * 2 +
            ["/about"] + ["/size/42?x=1"] * 2 + [long_path])
    rs = h.keepalive_requests(t.port, plan)
    expect_client(client_statuses(rs), {200: 5, 404: 4})
    m = wait_counts(a, "testd", len(plan))
    expect_counts(m, "testd", {("GET", "/status/{id}", "200"): 3,
                               ("GET", "/users/{id}", "404"): 2,
                               ("GET", "/about", "404"): 1,
                               ("GET", "/size/{id}", "200"): 2,
                               ("GET", "/files/{truncated}", "404"): 1})
    truncated = m.value("slotap_http_paths_truncated_total")
    if truncated != 1:
        raise HarnessError(f"slotap_http_paths_truncated_total is {truncated}, want 1")
    check_common(m)
    expect_untracked(a)


@test("slo_events")
def t_slo_events(ctx):
    """The SLOs of issue 3 count good and bad requests exactly."""
    t = ctx.testd()
    cfg = service_config("testd", t.port, ["/delay/{delay}/status/{code}", "/status/{code}"])
    cfg += ("slos:\n"
            "  - name: avail\n    service: testd\n    sli: availability\n"
            "    objective: 99\n    window: 28d\n"
            "  - name: fast-status\n    service: testd\n    endpoint: \"GET /status/{code}\"\n"
            "    sli: latency\n    threshold: 100ms\n    objective: 95\n    window: 4w\n")
    a = ctx.agent(cfg)
    plan = ["/status/200"] * 20 + ["/status/500"] * 5 + ["/delay/150ms/status/200"] * 3
    rs = h.keepalive_requests(t.port, plan)
    expect_client(client_statuses(rs), {200: 23, 500: 5})
    m = wait_counts(a, "testd", len(plan))
    want = {("avail", "good"): 23, ("avail", "bad"): 5,
            ("fast-status", "good"): 25, ("fast-status", "bad"): 0}
    for (slo, result), n in want.items():
        got = m.value("slotap_slo_events_total", slo=slo, service="testd", result=result)
        if got != n:
            raise HarnessError(f"slotap_slo_events_total{{slo={slo},result={result}}} is {got}, want {n}")
    objective = m.value("slotap_slo_objective_ratio", slo="avail", service="testd")
    if objective != 0.99:
        raise HarnessError(f"slotap_slo_objective_ratio is {objective}, want 0.99")
    # slotap status, from the running agent, for scripts
    out = subprocess.run([h.AGENT_BIN, "status", "--json", "--web.listen-address",
                          f"127.0.0.1:{a.port}"], capture_output=True, text=True, timeout=10)
    if out.returncode != 0:
        raise HarnessError(f"slotap status exited {out.returncode}: {out.stderr.strip()}")
    status = {x["slo"]: x for x in json.loads(out.stdout)["slos"]}
    if status["avail"]["events"] != {"good": 23, "bad": 5}:
        raise HarnessError(f"slotap status --json: avail events {status['avail']['events']}")
    check_common(m)
    expect_untracked(a)


@test("slo_state_survives_kill")
def t_slo_state_survives_kill(ctx):
    """SIGKILL after a save: the restarted agent carries the SLO counts on."""
    t = ctx.testd()
    cfg = service_config("testd", t.port, ["/status/{code}"])
    cfg += ("slos:\n  - name: avail\n    service: testd\n    sli: availability\n"
            "    objective: 99\n    window: 28d\n")
    args = ["--state-dir", os.path.join(ctx.tmp, "state"), "--state-interval", "1"]

    def slo_counts(m):
        return tuple(m.value("slotap_slo_events_total", slo="avail", service="testd",
                             result=r) for r in ("good", "bad"))

    a = ctx.agent(cfg, args)
    h.keepalive_requests(t.port, ["/status/200"] * 20 + ["/status/500"] * 5)
    a.wait_metrics(lambda m: slo_counts(m) == (20, 5), what="SLO counts 20/5")
    time.sleep(2.5)          # at least one save (every second) after the traffic
    a.kill()
    b = ctx.agent(cfg, args)
    m = b.metrics()
    if slo_counts(m) != (20, 5):
        raise HarnessError(f"after SIGKILL and restart the SLO counts are {slo_counts(m)}, "
                           f"want (20, 5)")
    h.keepalive_requests(t.port, ["/status/200"] * 10 + ["/status/503"] * 2)
    b.wait_metrics(lambda m: slo_counts(m) == (30, 7), what="SLO counts 30/7")
    check_common(b.metrics())


@test("slo_state_random_kills")
def t_slo_state_random_kills(ctx):
    """SIGKILL at random moments under traffic, three times: each restart
    carries the SLO counts on, losing at most one save interval."""
    t = ctx.testd()
    cfg = service_config("testd", t.port, ["/status/{code}"])
    cfg += ("slos:\n  - name: avail\n    service: testd\n    sli: availability\n"
            "    objective: 99\n    window: 28d\n")
    interval = 1.0
    args = ["--state-dir", os.path.join(ctx.tmp, "state"), "--state-interval", "1"]
    rng = random.Random(1234)

    def total(m):
        return sum(m.value("slotap_slo_events_total", slo="avail", service="testd",
                           result=r) or 0 for r in ("good", "bad"))

    a = ctx.agent(cfg, args)
    for _ in range(3):
        history = []                    # (time, counted) scraped under traffic
        deadline = time.monotonic() + rng.uniform(1.5, 3.0)
        while time.monotonic() < deadline:
            h.keepalive_requests(t.port, ["/status/200"] * 8 + ["/status/500"] * 2)
            history.append((time.monotonic(), total(a.metrics())))
        kill_at = time.monotonic()
        a.kill()
        a = ctx.agent(cfg, args)
        restored = total(a.metrics())
        # what was counted one save interval (plus a drain) before the kill was saved
        floor = max([n for when, n in history if when <= kill_at - interval - 0.3], default=0)
        ceiling = history[-1][1] + 10
        if not floor <= restored <= ceiling:
            raise HarnessError(f"restored {restored} SLO events, want between {floor} "
                               f"(saved by then) and {ceiling} (counted at the kill)")
    check_common(a.metrics())


PROMETHEUS_BIN = shutil.which("prometheus") or "/usr/bin/prometheus"


def start_prometheus(ctx, target_port):
    """Debian's Prometheus scraping the agent every second; stopped by PID
    with the other processes of the test."""
    if not os.path.exists(PROMETHEUS_BIN):
        raise HarnessError("prometheus is not installed: run scripts/install-deps.sh")
    d = os.path.join(ctx.tmp, "prometheus")
    os.makedirs(d)
    cfg = os.path.join(d, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                "scrape_configs:\n"
                "  - job_name: slotap\n"
                f"    static_configs: [{{targets: ['127.0.0.1:{target_port}']}}]\n")
    port = h.free_port()
    p = h.Proc([PROMETHEUS_BIN, f"--config.file={cfg}", f"--storage.tsdb.path={d}/data",
                f"--web.listen-address=127.0.0.1:{port}"], "prometheus", ctx.tmp)
    ctx.stops.append(("prometheus", lambda: p.stop(signal.SIGTERM, 10.0)))
    return port


def prometheus_value(port, query):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            data = json.load(r)
    except OSError:
        return None
    result = data.get("data", {}).get("result", [])
    return float(result[0]["value"][1]) if len(result) == 1 else None


@test("prometheus_slo")
def t_prometheus_slo(ctx):
    """A real Prometheus scrapes the agent: the SLO series read back through
    its HTTP API match the traffic sent (40 good, 10 bad, objective 99%)."""
    t = ctx.testd()
    cfg = service_config("testd", t.port, ["/status/{code}"])
    cfg += ("slos:\n  - name: avail\n    service: testd\n    sli: availability\n"
            "    objective: 99\n    window: 28d\n")
    a = ctx.agent(cfg)
    prom = start_prometheus(ctx, a.port)
    h.keepalive_requests(t.port, ["/status/200"] * 40 + ["/status/500"] * 10)
    sel = 'slo="avail",service="testd"'
    want = {
        f'slotap_slo_events_total{{{sel},result="good"}}': 40,
        f'slotap_slo_events_total{{{sel},result="bad"}}': 10,
        f'slotap_slo_sli_ratio{{{sel},window="28d"}}': 0.8,
        # 10 bad of 50 against a 1% budget: 20 budgets spent
        f'slotap_slo_error_budget_remaining_ratio{{{sel}}}': -19,
        f'slotap_slo_burn_rate{{{sel},window="1h"}}': 20,
        f'slotap_slo_alert_active{{{sel},condition="burn_rate_1h_5m_14.4"}}': 1,
    }
    got = {}

    def all_there():
        for q, v in want.items():
            got[q] = prometheus_value(prom, q)
        return all(got[q] is not None and math.isclose(got[q], v, rel_tol=1e-6)
                   for q, v in want.items())
    try:
        # Prometheus applies its targets about 5 s after it starts
        h.wait_for(all_there, 30.0, interval=0.5, what="the SLO series in Prometheus")
    except HarnessError:
        raise HarnessError("through Prometheus: " + ", ".join(
            f"{q} = {got.get(q)} (want {v})" for q, v in want.items())) from None


# ------------------------------------------------------------------ main --

def final_cleanup_check():
    """No process we started is alive, no agent program is left loaded."""
    left = h.REGISTRY.leftovers()
    if left:
        raise HarnessError(f"processes still alive: {left}")
    def programs():
        progs = new_agent_programs()
        for a in AGENTS:
            progs.update(a.programs_left())
        return progs
    # the kernel frees programs a little after their last fd is closed
    deadline = time.monotonic() + 5.0
    while programs() and time.monotonic() < deadline:
        time.sleep(0.1)
    progs = programs()
    if progs:
        raise HarnessError(f"BPF programs still loaded: {sorted(progs.values())}")


def first_own_frame(exc):
    here = os.path.dirname(os.path.abspath(__file__))
    where = ""
    for fs in traceback.extract_tb(exc.__traceback__):
        if os.path.dirname(os.path.abspath(fs.filename)) == here:
            where = f"{os.path.basename(fs.filename)}:{fs.lineno}"
    return where


def run_one(name, fn, keep, verbose):
    """Returns (ok, reason)."""
    ctx = Ctx(name)
    reason = None
    t0 = time.monotonic()
    try:
        fn(ctx)
    except HarnessError as e:
        reason = str(e)
    except KeyboardInterrupt:
        ctx.close()
        raise
    except Exception as e:  # noqa: BLE001 - a bug in a test is a failure
        reason = f"{type(e).__name__}: {e} ({first_own_frame(e)})"
        if verbose:
            traceback.print_exc()
    errors = ctx.close()
    if reason is None and errors:
        reason = "; ".join(errors)
    if reason is None:
        if keep:
            print(f"  logs kept in {ctx.tmp}", flush=True)
        else:
            ctx.remove()
    else:
        reason += f" (logs: {ctx.tmp})"
    if verbose:
        print(f"  {name}: {time.monotonic() - t0:.1f}s", flush=True)
    return reason is None, reason


class Terminated(KeyboardInterrupt):
    pass


def on_term(signum, frame):
    raise Terminated()


def main():
    ap = argparse.ArgumentParser(description="slotap integration tests")
    ap.add_argument("-k", action="append", default=[], metavar="NAME",
                    help="run only tests whose name contains NAME (repeatable)")
    ap.add_argument("--list", action="store_true", help="list the tests and exit")
    ap.add_argument("--keep", action="store_true", help="keep logs of passing tests too")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    selected = [(n, f) for n, f in TESTS if not args.k or any(k in n for k in args.k)]
    if args.list:
        for n, _ in TESTS:
            print(n)
        return 0
    if not selected:
        print(f"run.py: no test matches {args.k}; see --list", file=sys.stderr)
        return 2
    names = [n for n, _ in selected] + ["cleanup"]

    passed = failed = skipped = 0
    if os.geteuid() != 0:
        for n in names:
            if os.environ.get("CI"):
                print(f"FAIL {n}: needs root", flush=True)
                failed += 1
            else:
                print(f"SKIP {n}: integration tests need root and BPF: run as root",
                      flush=True)
                skipped += 1
        return summary(passed, failed, skipped)

    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if inherited ignored
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    interrupted = False
    try:
        try:
            BASELINE_PROGS.update(h.agent_programs())
        except (HarnessError, OSError) as e:
            print(f"run.py: warning: cannot list BPF programs: {e}", file=sys.stderr)
        if BASELINE_PROGS:
            print(f"run.py: note: BPF programs named like the agent's were already loaded "
                  f"(ignored): {sorted(set(BASELINE_PROGS.values()))}", file=sys.stderr)
        for name, fn in selected:
            ok, reason = run_one(name, fn, args.keep, args.verbose)
            if ok:
                print(f"PASS {name}", flush=True)
                passed += 1
            else:
                print(f"FAIL {name}: {reason}", flush=True)
                failed += 1
    except KeyboardInterrupt:
        interrupted = True
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        h.REGISTRY.stop_all()
    try:
        final_cleanup_check()
        print("PASS cleanup", flush=True)
        passed += 1
    except (HarnessError, OSError) as e:
        print(f"FAIL cleanup: {e}", flush=True)
        failed += 1
    if interrupted:
        print("run.py: interrupted", file=sys.stderr, flush=True)
        summary(passed, failed, skipped)
        return 130
    return summary(passed, failed, skipped)


def summary(passed, failed, skipped):
    line = f"integration: {passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
