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
import datetime
import errno
import itertools
import json
import math
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import threading
import urllib.parse
import urllib.request
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import slotap_harness as h  # noqa: E402
from slotap_harness import HarnessError  # noqa: E402
import redis_support as rs  # noqa: E402

THRESHOLDS = "[10ms, 30ms, 100ms]"
TESTD_ROUTES = ["/delay/{delay}/status/{code}", "/status/{code}", "/size/{bytes}"]
R_STATUS = "/status/{code}"
R_DELAY = "/delay/{delay}/status/{code}"
IO_PAIRS = [("read", "write"), ("recv", "send"), ("readv", "writev"),
            ("recvmsg", "sendmsg")]
TRANSPORT = "slotap_transport_failures_total"

TESTS = []          # [(name, function(ctx))]
VERBOSE = False     # -v: tests say what they counted


def note(text):
    if VERBOSE:
        print(f"  {text}", flush=True)


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

    def testd(self, io="read", wio="write", split=False, **kw):
        t = h.Testd(self.tmp, io, wio, split, **kw)
        self.stops.append(("slotap-testd", t.stop))
        return t

    def nginx(self, **kw):
        n = h.Nginx(self.tmp, **kw)
        self.stops.append(("nginx", n.stop))
        return n

    def redis(self, **kw):
        r = rs.Redis(self.tmp, **kw)
        self.stops.append(("redis-server", r.stop))
        return r

    def agent(self, config_text, args=(), env=None, name="slotap", wrap=(), port=None):
        a = h.Agent(config_text, self.tmp, args=args, env=env, name=name, wrap=wrap,
                    port=port)
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

def service_item(name, match, routes=None):
    """One services item; match is e.g. "port: 8080" or "process: nginx"."""
    item = f"  - name: {name}\n    match: {{{match}}}\n"
    if routes:
        item += "    routes: [" + ", ".join(json.dumps(r) for r in routes) + "]\n"
    return item


def services_config(*items):
    return "services:\n" + "".join(items) + f"latency_thresholds: {THRESHOLDS}\n"


def service_config(name, port, routes=None):
    return services_config(service_item(name, f"port: {port}", routes))


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


def check_common(m):
    """Consistency of the server, client and connect histograms, and no
    event lost for any reason."""
    problems = []
    for name in (h.HIST, h.CLIENT_HIST, h.CONNECT_HIST):
        problems += m.check_histograms(name)
    if problems:
        raise HarnessError("histogram: " + "; ".join(problems[:3]))
    lost = {r: v for r, v in m.losses().items() if v}
    if lost:
        raise HarnessError(f"events lost: {h.fmt_losses(lost)}")


def transport_failures(m, service):
    """{reason: count} of slotap_transport_failures_total, non-zero only."""
    return {labels["reason"]: v for labels, v in m.series(TRANSPORT, service=service) if v}


def expect_transport(m, service, expected):
    """The transport failures of service, per reason, must be exactly
    expected."""
    got = transport_failures(m, service)
    if got != {r: float(v) for r, v in expected.items() if v}:
        raise HarnessError(f"{TRANSPORT}{{service={service}}} is {got}, expected {expected}")


def expect_slo_events(m, service, want):
    """slotap_slo_events_total of service: {(slo, endpoint, result): n}."""
    for (slo, endpoint, result), n in want.items():
        got = m.value("slotap_slo_events_total", slo=slo, service=service, endpoint=endpoint,
                      result=result)
        if got != n:
            raise HarnessError(f"slotap_slo_events_total{{slo={slo},endpoint={endpoint},"
                               f"result={result}}} is {got}, want {n}")


AVAIL_SLO = ("  - name: {name}\n    service: {service}\n    sli: availability\n"
             "    objective: 99\n    window: 28d\n")


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


@test("verifier_budget")
def t_verifier_budget(ctx):
    """Every program verifies on this kernel within half the verifier's
    1M-instruction limit: verifiers prune differently from one kernel build
    to the next, and a program near the limit fails to load on some."""
    tool = h.BUILD / "tests" / "verifier-budget"
    h._require(tool, "run make (tests/verifier-budget is not built)")
    before = set(h.agent_programs())
    r = subprocess.run([tool, "50"], capture_output=True, text=True, timeout=120)
    note(r.stdout.strip())
    if r.returncode != 0:
        raise HarnessError("verifier budget: " + " | ".join(r.stdout.strip().splitlines()[-4:]))
    if not re.search(r"^slotap_sock_recv\s+\d+", r.stdout, re.M):
        raise HarnessError(f"no figure for slotap_sock_recv in {r.stdout!r}")
    left = h.stray_agent_programs(before)
    if left:
        raise HarnessError(f"BPF programs left loaded: {sorted(left.values())}")


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
                    extra=lambda mm: sum(transport_failures(mm, "testd").values()) >= conns,
                    what=f"{2 * conns} requests and {conns} transport failures")
    # the /close requests are failures, not requests with a status
    expect_counts(m, "testd", {("GET", R_STATUS, "200"): 2 * conns})
    expect_transport(m, "testd", {"connection_closed": conns})
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


# ------------------------------------------ pipelining at any depth (13) --
# Every request a pipelining client sends is measured with its own method
# and status, or counted lost: the agent's counts equal the server's own
# access log at depths 1-128, requests sent in one write or split anywhere.

PIPELINE_DEPTHS = (1, 8, 9, 16, 64, 128)
OTEL_METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"}


def by_method_status(m, service):
    """{(method, status): count} of service's requests, over every route."""
    out = collections.Counter()
    for (method, _, status), v in m.request_counts(service_name=service).items():
        out[(method, status)] += int(v)
    return out


def as_exported(log_counts):
    """An access log's {(method, status): n} under the agent's method names."""
    out = collections.Counter()
    for (method, status), v in log_counts.items():
        out[(method if method in OTEL_METHODS else "_OTHER", status)] += v
    return out


def send_pipelined(port, reqs, split):
    """reqs: [(method, path)], all sent before any response is read: in one
    send(), or in pieces that cut requests anywhere, sent apart so that the
    server reads them apart. Returns the responses, read in order."""
    with h.RawHTTP(port) as c:
        data = b"".join(h.build_request(meth, path, c.host) for meth, path in reqs)
        if split:
            step = 7 if len(data) < 200 else len(data) // 6 + 5
            for i in range(0, len(data), step):
                c.send_once(data[i:i + step])
                time.sleep(0.002)
        else:
            c.send_once(data)
        return [c.read_response(meth) for meth, _ in reqs]


def pipelining_depths_run(agent, server, service, paths):
    """Every depth, whole and split: the agent's counts grow by what the
    server's access log says it answered, and nothing is lost."""
    methods = ["GET", "HEAD", "PROPFIND", "GET", "PURGE", "GET", "DELETE", "REPORT"]
    rng = random.Random(13)
    for depth in PIPELINE_DEPTHS:
        for split in (False, True):
            before_log = as_exported(server.access_log_counts())
            before = by_method_status(agent.metrics(), service)
            reqs = [(methods[i % len(methods)], rng.choice(paths)) for i in range(depth)]
            rs = send_pipelined(server.port, reqs, split)
            if len(rs) != depth:
                raise HarnessError(f"client: {len(rs)} responses to {depth} requests")
            # a server logs after it answered: a moment after the client read it
            try:
                h.wait_for(lambda: sum(server.access_log_counts().values()) -
                           sum(before_log.values()) >= depth, 5.0, what="the access log")
            except HarnessError:
                pass
            want = as_exported(server.access_log_counts()) - before_log
            if sum(want.values()) != depth:
                raise HarnessError(f"{service} logged {sum(want.values())} of {depth} requests")
            total = sum(before.values()) + depth
            m = wait_counts(agent, service, total,
                            what=f"depth {depth}{' split' if split else ''}: {total} requests")
            got = by_method_status(m, service) - before
            if got != want:
                raise HarnessError(f"depth {depth}{' split' if split else ''}: agent counted "
                                   f"{dict(got)}, {service}'s access log {dict(want)}")
            note(f"depth {depth}{' split' if split else ''}: {dict(got)}")
    check_common(agent.metrics())
    expect_untracked(agent)


@test("pipelining_depths_testd")
def t_pipelining_depths_testd(ctx):
    t = ctx.testd(access_log=True)
    a = ctx.agent(service_config("testd", t.port, TESTD_ROUTES))
    pipelining_depths_run(a, t, "testd", ["/status/200", "/status/404", "/status/503",
                                          "/size/3000", "/nothing"])


@test("pipelining_depths_nginx")
def t_pipelining_depths_nginx(ctx):
    n = ctx.nginx(access_log=True)
    a = ctx.agent(service_config("nginx", n.port))
    pipelining_depths_run(a, n, "nginx", ["/index.html", "/notfound", "/unavailable",
                                          h.NGINX_BIG_PATH])


@test("pipelining_h2load")
def t_pipelining_h2load(ctx):
    """h2load --h1 -m N: a real pipelining load generator, N in flight on
    each connection, against nginx."""
    if not shutil.which("h2load"):
        raise HarnessError("h2load not found: apt-get install nghttp2-client")
    n = ctx.nginx(access_log=True)
    a = ctx.agent(service_config("nginx", n.port))
    done = 0
    for depth in PIPELINE_DEPTHS:
        requests = max(4 * depth, 64)
        out = subprocess.run(["h2load", "--h1", "-n", str(requests), "-c", "2", "-m", str(depth),
                              f"http://127.0.0.1:{n.port}/index.html"],
                             capture_output=True, text=True, timeout=60)
        mm = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded",
                       out.stdout)
        if out.returncode or not mm or int(mm.group(3)) != requests:
            raise HarnessError(f"h2load -m {depth}: {out.stdout[-300:]} {out.stderr[-300:]}")
        done += requests
        logged = sum(n.access_log_counts().values())
        if logged != done:
            raise HarnessError(f"nginx logged {logged} requests, h2load sent {done}")
        m = wait_counts(a, "nginx", done, what=f"h2load -m {depth}: {done} requests")
        got = by_method_status(m, "nginx")
        if got != {("GET", "200"): done}:
            raise HarnessError(f"h2load -m {depth}: agent counted {dict(got)}, nginx logged "
                               f"{done} GET 200")
        note(f"h2load -m {depth}: {requests} requests, all measured")
    check_common(a.metrics())
    expect_untracked(a)


H2_RECORDS = "slotap_h2_records_total"


def h2_records(m):
    """{kind: value} of slotap_h2_records_total."""
    return {labels["kind"]: v for labels, v in m.series(H2_RECORDS)}


@test("h2c_nginx_records")
def t_h2c_nginx_records(ctx):
    """nginx serving HTTP/2 in clear text (h2c by prior knowledge): the
    kernel follows the frames of every connection and sends each request's
    header block to the agent, none lost. h2load -m 10 multiplexes ten
    streams per connection, curl --http2-prior-knowledge adds one of its
    own; the request header blocks received equal the requests nginx
    logged, one connection opened and ended per client connection."""
    if not shutil.which("h2load"):
        raise HarnessError("h2load not found: apt-get install nghttp2-client")
    n = ctx.nginx(access_log=True, http2=True)
    a = ctx.agent(service_config("nginx", n.port))
    requests = 500
    out = subprocess.run(["h2load", "-n", str(requests), "-c", "2", "-m", "10",
                          f"http://127.0.0.1:{n.port}/index.html"],
                         capture_output=True, text=True, timeout=60)
    mm = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded",
                   out.stdout)
    if out.returncode or not mm or int(mm.group(3)) != requests:
        raise HarnessError(f"h2load: {out.stdout[-300:]} {out.stderr[-300:]}")
    if "h2c" not in out.stdout:
        raise HarnessError(f"h2load did not speak h2c: {out.stdout[-300:]}")
    curl = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                           "--http2-prior-knowledge", f"http://127.0.0.1:{n.port}/notfound"],
                          capture_output=True, text=True, timeout=10)
    if curl.stdout != "2 404":
        raise HarnessError(f"curl --http2-prior-knowledge: {curl.stdout!r} {curl.stderr[-200:]}")
    h.wait_for(lambda: sum(n.access_log_counts().values()) >= requests + 1, 5.0,
               what="nginx's access log")
    logged = sum(n.access_log_counts().values())
    if logged != requests + 1:
        raise HarnessError(f"nginx logged {logged} requests, {requests + 1} were sent")
    # h2load's two connections and curl's, each opened and, closed, ended
    m = a.wait_metrics(lambda m: h2_records(m).get("request_header_block", 0) >= logged and
                       h2_records(m).get("end", 0) >= 3, timeout=10.0,
                       what=f"{logged} request header blocks in {H2_RECORDS}")
    got = h2_records(m)
    want = {"open": 3, "open_midstream": 0, "end": 3, "request_header_block": logged,
            "response_header_block": logged, "malformed": 0}
    if any(got.get(k) != v for k, v in want.items()):
        raise HarnessError(f"{H2_RECORDS}: {got}, expected {want}")
    lost = {r: v for r, v in m.losses().items() if v}
    if lost:
        raise HarnessError(f"events lost: {h.fmt_losses(lost)}")
    note(f"h2load -m 10: {requests} requests and curl's one: {got}")
    expect_untracked(a)


# A gRPC server and client on Debian's python3-grpcio (gRPC C-core, whose
# writes are sendmsg()s of a frame header and a payload per iovec, 27 of
# them in its first): a generic unary method echoing its bytes. Debian's
# modules load under /usr/bin/python3 only.
GRPC_ECHO = r"""
import sys
from concurrent import futures
import grpc

mode, port = sys.argv[1], int(sys.argv[2])
if mode == "server":
    echo = grpc.unary_unary_rpc_method_handler(lambda req, ctx: req)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("t.S", {"M": echo}),))
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    print("ready", flush=True)
    server.wait_for_termination()
else:
    calls = int(sys.argv[3])
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.unary_unary("/t.S/M")
        for i in range(calls):
            if call(b"x" * (i % 300)) != b"x" * (i % 300):
                sys.exit("echo differs")
    print("done", calls, flush=True)
"""


def debian_python_with(module):
    if not os.access("/usr/bin/python3", os.X_OK) or subprocess.run(
            ["/usr/bin/python3", "-c", f"import {module}"], capture_output=True).returncode:
        raise HarnessError(f"/usr/bin/python3 cannot import {module}: "
                           f"apt-get install python3-{module.replace('grpc', 'grpcio')}")


@test("h2c_grpc_records")
def t_h2c_grpc_records(ctx):
    """gRPC C-core over h2c, its server tracked: every call's request
    header block reaches the agent and each response's two (headers and
    trailers), none lost: its many-iovec sendmsg()s (up to 64 followed)
    framed."""
    debian_python_with("grpc")
    script = Path(ctx.tmp) / "grpc_echo.py"
    script.write_text(GRPC_ECHO)
    port = h.free_port()
    server = h.Proc(["/usr/bin/python3", script, "server", port], "grpc-server", ctx.tmp)
    ctx.stops.append(("grpc server", lambda: server.stop(timeout=5.0)))
    h.wait_for_port(port, proc=server)
    a = ctx.agent(service_config("grpc", port))
    calls = 300
    out = subprocess.run(["/usr/bin/python3", str(script), "client", str(port), str(calls)],
                         capture_output=True, text=True, timeout=60)
    if out.returncode or f"done {calls}" not in out.stdout:
        raise HarnessError(f"grpc client: {out.stdout[-200:]} {out.stderr[-300:]}")
    m = a.wait_metrics(lambda m: h2_records(m).get("request_header_block", 0) >= calls and
                       h2_records(m).get("end", 0) >= 1, timeout=10.0,
                       what=f"{calls} request header blocks in {H2_RECORDS}")
    got = h2_records(m)
    want = {"open": 1, "open_midstream": 0, "end": 1, "request_header_block": calls,
            "response_header_block": 2 * calls, "malformed": 0}
    if any(got.get(k) != v for k, v in want.items()):
        raise HarnessError(f"{H2_RECORDS}: {got}, expected {want}")
    lost = {r: v for r, v in m.losses().items() if v}
    if lost:
        raise HarnessError(f"events lost: {h.fmt_losses(lost)}")
    note(f"grpc: {calls} unary calls: {got}")


@test("h2c_older_than_agent")
def t_h2c_older_than_agent(ctx):
    """An h2c connection that began before the agent did: found mid-stream
    (no preface seen), its framing followed from a read at a frame on,
    its later requests' header blocks received, nothing lost or unframed."""
    if not shutil.which("h2load"):
        raise HarnessError("h2load not found: apt-get install nghttp2-client")
    n = ctx.nginx(access_log=True, http2=True)
    load = h.Proc(["h2load", "-c", "1", "-m", "1", "-D", "6", "--warm-up-time=0",
                   f"http://127.0.0.1:{n.port}/index.html"], "h2load", ctx.tmp)
    ctx.stops.append(("h2load", lambda: load.stop(timeout=5.0)))
    # one stream at a time, about 20 a second here (h2load -m 1 waits on delayed ACKs)
    h.wait_for(lambda: sum(n.access_log_counts().values()) > 10, 5.0, proc=load,
               what="h2load's first requests")
    a = ctx.agent(service_config("nginx", n.port))
    m = a.wait_metrics(lambda m: h2_records(m).get("request_header_block", 0) >= 20,
                       timeout=10.0, what=f"request header blocks in {H2_RECORDS}")
    got = h2_records(m)
    if got.get("open") != 1 or got.get("open_midstream") != 1 or got.get("malformed"):
        raise HarnessError(f"{H2_RECORDS}: {got}, expected one connection found mid-stream")
    # the response side syncs at a write that starts at a frame: a few
    # responses may go by first, never more than the requests
    if not 0 < got.get("response_header_block", 0) <= got["request_header_block"] + 1:
        raise HarnessError(f"{H2_RECORDS}: {got}: responses not followed")
    lost = {r: v for r, v in m.losses().items() if v}
    if lost:
        raise HarnessError(f"events lost: {h.fmt_losses(lost)}")
    load.wait(10.0)
    note(f"h2load older than the agent: {got}")


def h2_frame(kind, flags, stream, payload):
    """One HTTP/2 frame (RFC 9113 4.1)."""
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + \
        stream.to_bytes(4, "big") + payload


@test("h2c_unfinished_header_block")
def t_h2c_unfinished_header_block(ctx):
    """A client that sends a HEADERS frame without END_HEADERS and its
    CONTINUATION seconds later: the agent gives the block up 2 s after
    its first piece (slotap_h2_header_blocks_lost_total{reason=
    "unfinished"}, a gap: the request counted, its method and path
    undecoded, truncated), ignores the rest of it when it comes (no corrupt
    gap), and measures nginx's answer."""
    n = ctx.nginx(access_log=True, http2=True)
    a = ctx.agent(service_config("nginx", n.port))
    lost = "slotap_h2_header_blocks_lost_total"
    s = socket.create_connection(("127.0.0.1", n.port), timeout=10)
    try:
        # GET, http, then (in the CONTINUATION) :path /index.html, :authority
        first = bytes([0x82, 0x86])
        rest = bytes([0x44, 11]) + b"/index.html" + bytes([0x41, 1]) + b"x"
        # HEADERS with END_STREAM, without END_HEADERS
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + h2_frame(4, 0, 0, b"") +
                  h2_frame(1, 0x1, 1, first))
        m = a.wait_metrics(lambda m: m.value(lost, 0, reason="unfinished") >= 1, timeout=8.0,
                           what=f"{lost}{{reason=\"unfinished\"}}")
        if m.value(lost, reason="unfinished") != 1 or m.value(lost, reason="assembly_budget"):
            raise HarnessError(f"{lost}: unfinished {m.value(lost, reason='unfinished')}, "
                               f"assembly_budget {m.value(lost, reason='assembly_budget')}")
        time.sleep(1.0)
        s.sendall(h2_frame(9, 0x4, 1, rest))  # CONTINUATION, END_HEADERS
        h.wait_for(lambda: sum(n.access_log_counts().values()) >= 1, 5.0,
                   what="nginx's access log")
    finally:
        s.close()
    if n.access_log_counts() != {("GET", "200"): 1}:
        raise HarnessError(f"nginx logged {n.access_log_counts()}, expected one GET 200")
    m = wait_counts(a, "nginx", 1)
    got = {k: v for k, v in m.request_counts(service_name="nginx").items() if v}
    if got != {("_OTHER", "__undecoded__", "200"): 1.0}:
        raise HarnessError(f"request counts {h.fmt_counts(got)}: expected the one answered, "
                           "its method and path undecoded")
    for field in ("method", "path"):
        if m.value("slotap_h2_fields_undecoded_total", service_name="nginx", field=field,
                   cause="truncated") != 1:
            raise HarnessError(f"{field} not counted undecoded (truncated) once")
    gaps = {lb["cause"]: v for lb, v in m.series("slotap_h2_gaps_total") if v}
    if gaps != {"truncated": 1.0}:
        raise HarnessError(f"gaps {gaps}: expected one, truncated (the rest ignored)")
    note(f"a block unfinished for seconds: given up, counted {h.fmt_counts(got)}")


@test("tls_http2_older_than_agent")
def t_tls_http2_older_than_agent(ctx):
    """An HTTP/2-over-TLS connection (h2load to nginx with ssl and http2)
    that began before the agent did: bound to its socket by the next SSL
    call, its first plaintext a chain of frames, so found mid-stream and
    its later requests' header blocks received; nothing lost (not
    not_http, not tls_http2)."""
    require_libssl3()
    if not shutil.which("h2load"):
        raise HarnessError("h2load not found: apt-get install nghttp2-client")
    cert, key = tls_cert(ctx)
    n = ctx.nginx(tls=(cert, key), http2=True, access_log=True)
    load = h.Proc(["h2load", "-c", "1", "-m", "1", "-D", "6", "--warm-up-time=0",
                   f"https://127.0.0.1:{n.port}/index.html"], "h2load", ctx.tmp)
    ctx.stops.append(("h2load", lambda: load.stop(timeout=5.0)))
    h.wait_for(lambda: sum(n.access_log_counts().values()) > 10, 5.0, proc=load,
               what="h2load's first requests")
    a = ctx.agent(service_config("nginx", n.port))
    m = a.wait_metrics(lambda m: h2_records(m).get("request_header_block", 0) >= 20,
                       timeout=10.0, what=f"request header blocks in {H2_RECORDS}")
    got = h2_records(m)
    if got.get("open") != 1 or got.get("open_midstream") != 1 or got.get("malformed"):
        raise HarnessError(f"{H2_RECORDS}: {got}, expected one connection found mid-stream")
    if not 0 < got.get("response_header_block", 0) <= got["request_header_block"] + 1:
        raise HarnessError(f"{H2_RECORDS}: {got}: responses not followed")
    lost = {r: v for r, v in m.losses().items() if v}
    if lost:
        raise HarnessError(f"events lost: {h.fmt_losses(lost)}")
    load.wait(10.0)
    note(f"h2load over TLS older than the agent: {got}")


# Responses read as a strict client reads them (18): every shape of a valid
# response, written by a real server in two send()s cut at every byte.
RESPONSE_SHAPES = [
    # (request method, response bytes, the status a strict client reads)
    ("GET", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "200"),
    ("GET", b"HTTP/1.1 404\r\nContent-Length: 1\r\n\r\nx", "404"),
    ("GET", b"HTTP/1.1 503 \r\nContent-Length: 0\r\n\r\n", "503"),
    ("GET", b"\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", "201"),
    ("PUT", b"HTTP/1.1 100 Continue\r\n\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", "204"),
    ("GET", b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody", "200"),
    ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", "200"),
    ("DELETE", b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", "204"),
    ("GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n", "304"),
    ("GET", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
            b"1A;name=value\r\nHTTP/1.1 200 OK looks like\r\n0\r\n\r\n", "200"),
    ("POST", b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\na \r\n0123456789\r\n"
             b"0;last\r\nX-Checksum: 1\r\n\r\n", "500"),
]
PLAIN_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


@test("responses_split_anywhere")
def t_responses_split_anywhere(ctx):
    """A server of our own (a child process, so that this one stays a
    client) answers each shape in two send()s cut at every byte, alone and
    pipelined with a plain request's response after it, then a plain
    exchange on the same connection: every status goes to its own request,
    none is lost, and the connection is still followed."""
    port = h.free_port()
    a = ctx.agent(service_config("replay", port))
    plain_req = h.build_request("GET", "/plain")
    plan = []   # (request bytes, response bytes, cut): one exchange each
    want = collections.Counter()
    for method, resp, status in RESPONSE_SHAPES:
        shape_req = h.build_request(method, "/s")
        for pipelined in (False, True):
            conn = []
            for cut in range(len(resp) + (len(PLAIN_RESPONSE) if pipelined else 0)):
                if pipelined:
                    conn.append((shape_req + plain_req, resp + PLAIN_RESPONSE, cut))
                    want[("GET", "200")] += 1
                else:
                    conn.append((shape_req, resp, cut))
                conn.append((plain_req, PLAIN_RESPONSE, 0))
                want[(method, status)] += 1
                want[("GET", "200")] += 1
            plan.append(conn)

    def recv_exactly(sock, n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise HarnessError("replay: connection closed early")
            data += chunk
        return data

    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:    # the server: reads each request, writes its response cut
        code = 0
        try:
            # listened on here: a process that listens on a service's port
            # is a serving one, whose own connects would be tracked
            ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind(("127.0.0.1", port))
            ls.listen(8)
            os.write(ready_w, b"1")
            for conn in plan:
                srv, _ = ls.accept()
                srv.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for req, resp, cut in conn:
                    recv_exactly(srv, len(req))
                    for part in (resp[:cut], resp[cut:]) if cut else (resp,):
                        srv.sendall(part)
                srv.close()
        except BaseException:   # noqa: BLE001 (the child must not return)
            traceback.print_exc()
            code = 1
        os._exit(code)
    os.close(ready_w)
    try:
        if os.read(ready_r, 1) != b"1":
            raise HarnessError("replay server did not start")
        for conn in plan:
            c = socket.create_connection(("127.0.0.1", port), timeout=10)
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for req, resp, _ in conn:
                c.sendall(req)
                recv_exactly(c, len(resp))
            c.close()
    finally:
        os.close(ready_r)
        deadline = time.monotonic() + 10
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if not done:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise HarnessError("replay server did not finish")
    if status:
        raise HarnessError(f"replay server failed (wait status {status})")
    total = sum(want.values())
    m = wait_counts(a, "replay", total, what=f"{total} replayed requests")
    got = by_method_status(m, "replay")
    if got != want:
        raise HarnessError(f"agent counted {dict(got)}, the replay server answered {dict(want)}")
    note(f"{total} requests, {len(RESPONSE_SHAPES)} shapes cut at every byte: all paired")
    check_common(m)
    expect_untracked(a)


# ------------------------------------------------------- hostile input --
# Issue 14: whoever sends or answers a request chooses the label values.

HOSTILE_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE",
                   "PROPFIND", "PURGE", "X", "FOO-BAR", "M" * 32, "get", "BREW"]
STANDARD_METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT",
                    "TRACE", "_OTHER"}
HOSTILE_MAX_SERIES = 300


def random_word(rng, n):
    return "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(n))


def hostile_plan(rng, names, conns, per_conn):
    """[(name, [(request bytes, status)])]: random methods, paths and
    statuses (no 1xx: interim responses; no CONNECT: a tunnel)."""
    plan = []
    for i in range(conns):
        exchanges = []
        for _ in range(per_conn):
            method = rng.choice(HOSTILE_METHODS)
            path = "/" + "/".join(random_word(rng, rng.randint(3, 9))
                                  for _ in range(rng.randint(1, 3)))
            status = rng.choice([rng.randint(0, 99), rng.randint(200, 599),
                                 rng.randint(600, 999)])
            exchanges.append((h.build_request(method, path), status))
        plan.append((names[i % len(names)], exchanges))
    return plan


PLAN_SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plan_server.py")


def python_as(ctx, name):
    """This Python interpreter as a file called name in the test's
    directory (a hard link, or a copy across file systems): processes
    started from it have an executable of that name."""
    path = os.path.join(ctx.tmp, name)
    if not os.path.exists(path):
        src = os.path.realpath(sys.executable)
        try:
            os.link(src, path)
        except OSError:
            shutil.copy(src, path)
    return path


class PlanServer:
    """tests/integration/plan_server.py answering plan ([[(request bytes,
    status)]], one list per connection) on a port of its own, run by the
    interpreter binary (python_as()), under the name comm if given."""

    def __init__(self, ctx, plan, binary=None, comm=None, name="plan-server"):
        self.name = name
        plan_path = os.path.join(ctx.tmp, f"{name}.plan.json")
        ready = os.path.join(ctx.tmp, f"{name}.ready")
        with open(plan_path, "w") as f:
            json.dump([[(req.decode("latin-1"), status) for req, status in conn]
                       for conn in plan], f)
        argv = [binary or sys.executable, PLAN_SERVER, plan_path, ready]
        if comm is not None:
            argv.append(comm)
        self.proc = h.Proc(argv, name, ctx.tmp)
        ctx.stops.append((name, self.stop))
        h.wait_for_file(ready, proc=self.proc)
        with open(ready) as f:
            self.port = int(f.read())

    @property
    def pid(self):
        return self.proc.pid

    def finish(self, timeout=20.0):
        """Waits for it to have answered its plan (and exited 0)."""
        rc = self.proc.wait(timeout)
        if rc is None:
            self.proc.stop(signal.SIGKILL, 5.0)
            raise HarnessError(f"{self.name} still running after {timeout:g}s")
        if rc != 0:
            raise HarnessError(f"{self.name} exited {rc}: {self.proc.tail()}")

    def stop(self):
        self.proc.stop(signal.SIGTERM, 5.0)


def drive_plan(port, plan):
    """Sends each connection's requests of plan to port, one connection
    after the other, reading each response's head."""
    for exchanges in plan:
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        f = c.makefile("rb")
        for req, _ in exchanges:
            c.sendall(req)
            if not f.readline():
                raise HarnessError("plan server: connection closed early")
            while f.readline() not in (b"\r\n", b""):
                pass
        f.close()
        c.close()


def proc_status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise HarnessError(f"no {field} in /proc/{pid}/status")


def drive_hostile(ctx, plan, rnd):
    """Answers plan's connections from one server process per name, each
    started from an executable of that name (python_as()), and sends them
    their requests; waits for all."""
    by_name = collections.defaultdict(list)
    for name, exchanges in plan:
        by_name[name].append(exchanges)
    servers = {name: PlanServer(ctx, conns, binary=python_as(ctx, name),
                                name=f"hostile-{rnd}-{name}")
               for name, conns in by_name.items()}
    for name, exchanges in plan:
        drive_plan(servers[name].port, [exchanges])
    for server in servers.values():
        server.finish()


@test("h2c_nginx_requests")
def t_h2c_nginx_requests(ctx):
    """nginx serving h2c, driven by h2load at 1, 10 and 100 streams in
    flight per connection, and curl: the agent's HTTP/2 requests
    (network_protocol_version="2") per route and status equal nginx's
    access log; nothing undecoded (each connection seen from its
    preface: the dynamic table followed), no gap, nothing lost."""
    if not shutil.which("h2load"):
        raise HarnessError("h2load not found: apt-get install nghttp2-client")
    n = ctx.nginx(access_log=True, http2=True)
    a = ctx.agent(service_config("nginx", n.port))
    sent = 0
    for depth in (1, 10, 100):
        out = subprocess.run(["h2load", "-n", "600", "-c", "4", "-m", str(depth),
                              f"http://127.0.0.1:{n.port}/index.html"],
                             capture_output=True, text=True, timeout=60)
        mm = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded",
                       out.stdout)
        if out.returncode or not mm or int(mm.group(1)) != 600 or "h2c" not in out.stdout:
            raise HarnessError(f"h2load -m {depth}: {out.stdout[-300:]} {out.stderr[-300:]}")
        sent += 600
    for i in range(5):
        curl = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                               "--http2-prior-knowledge",
                               f"http://127.0.0.1:{n.port}/missing/{1000 + i}?q={i}"],
                              capture_output=True, text=True, timeout=10)
        if curl.stdout != "2 404":
            raise HarnessError(f"curl --http2-prior-knowledge: {curl.stdout!r}")
    sent += 5
    h.wait_for(lambda: sum(n.access_log_counts().values()) >= sent, 5.0,
               what="nginx's access log")
    logged = n.access_log_counts()
    if sum(logged.values()) != sent:
        raise HarnessError(f"nginx logged {sum(logged.values())} requests, {sent} were sent")
    m = wait_counts(a, "nginx", sent)
    got = {k: v for k, v in m.request_counts(service_name="nginx").items() if v}
    want = {("GET", "/index.html", "200"): float(logged[("GET", "200")]),
            ("GET", "/missing/{id}", "404"): float(logged[("GET", "404")])}
    if got != want:
        raise HarnessError(f"request counts {h.fmt_counts(got)}, nginx logged {h.fmt_counts(want)}")
    if m.total(h.HIST + "_count", network_protocol_version="2") != sent:
        raise HarnessError("not every request is network_protocol_version=\"2\"")
    undecoded = m.total("slotap_h2_fields_undecoded_total")
    gaps = m.total("slotap_h2_gaps_total")
    uncounted = m.total("slotap_h2_streams_uncounted_total")
    if undecoded or gaps or uncounted:
        raise HarnessError(f"undecoded fields {undecoded}, gaps {gaps}, streams not "
                           f"measured {uncounted}: expected none")
    lost = {r: v for r, v in m.losses().items() if v}
    if lost:
        raise HarnessError(f"events lost: {h.fmt_losses(lost)}")
    note(f"h2load -m 1, 10, 100 and curl: {h.fmt_counts(got)}, as nginx logged")


# A gRPC server of generic handlers on Debian's python3-grpcio, and a client
# that tallies what it got per method and code: unary OK, aborts with each
# code, a deadline exceeded, server streaming, client streaming, bidi, an
# unknown method.
GRPC_CALLS = r"""
import sys, time, collections
from concurrent import futures
import grpc

mode, port = sys.argv[1], int(sys.argv[2])
codes = [c for c in grpc.StatusCode if c != grpc.StatusCode.OK]
if mode == "server":
    def fail(req, ctx):
        ctx.abort(codes[req[0]], "fails as asked")
    def slow(req, ctx):
        time.sleep(1.0)
        return req
    def stream(req, ctx):
        time.sleep(0.05)
        for i in range(3):
            yield b"m%d" % i
            time.sleep(0.05)
    def upload(reqs, ctx):
        return b"".join(reqs)
    def bidi(reqs, ctx):
        for r in reqs:
            yield r
    h = grpc.method_handlers_generic_handler("t.S", {
        "Ok": grpc.unary_unary_rpc_method_handler(lambda req, ctx: req),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
        "Slow": grpc.unary_unary_rpc_method_handler(slow),
        "Stream": grpc.unary_stream_rpc_method_handler(stream),
        "Upload": grpc.stream_unary_rpc_method_handler(upload),
        "Bidi": grpc.stream_stream_rpc_method_handler(bidi),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((h,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    print("ready", flush=True)
    server.wait_for_termination()
else:
    tally = collections.Counter()
    def run(method, fn):
        try:
            fn()
            tally[(method, "OK")] += 1
        except grpc.RpcError as e:
            tally[(method, e.code().name)] += 1
    def slowly(msgs):
        for m in msgs:
            time.sleep(0.02)
            yield m
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        for i in range(20):
            run("t.S/Ok", lambda: ch.unary_unary("/t.S/Ok")(b"x" * i))
        for i, c in enumerate(codes):
            run("t.S/Fail", lambda: ch.unary_unary("/t.S/Fail")(bytes([i])))
        # answered once first: a call the client cancels only keeps the name
        # of a method the server showed it has (else _OTHER)
        run("t.S/Slow", lambda: ch.unary_unary("/t.S/Slow")(b"s", timeout=5.0))
        for i in range(3):
            run("t.S/Slow", lambda: ch.unary_unary("/t.S/Slow")(b"s", timeout=0.5))
        for i in range(2):
            # no deadline: the client gives up and cancels, RST_STREAM(CANCEL)
            f = ch.unary_unary("/t.S/Slow").future(b"c")
            time.sleep(0.2)
            tally[("t.S/Slow", "CANCELLED" if f.cancel() else "not cancelled")] += 1
        for i in range(3):
            run("t.S/Stream", lambda: list(ch.unary_stream("/t.S/Stream")(b"s")))
        for i in range(3):
            run("t.S/Upload", lambda: ch.stream_unary("/t.S/Upload")(iter([b"a", b"b"])))
        for i in range(3):
            run("t.S/Bidi", lambda: list(ch.stream_stream("/t.S/Bidi")(slowly([b"a", b"b", b"c"]))))
        for i in range(2):
            run("_OTHER", lambda: ch.unary_unary("/t.S/Nope")(b"x"))
    for (m, c), n in sorted(tally.items()):
        print("tally", m, c, n, flush=True)
    print("done", flush=True)
"""


@test("h2c_grpc_calls")
def t_h2c_grpc_calls(ctx):
    """gRPC C-core over h2c, its server tracked: the calls by rpc_method
    and rpc_response_status_code equal the client's own tallies (OK, each
    code a handler aborts with, DEADLINE_EXCEEDED of a client's deadline
    for a method answered before, CANCELLED of a client's cancel without
    one (its RST_STREAM), UNIMPLEMENTED as _OTHER, server and client
    streaming, bidi); server
    streaming measured to its first message; bidi calls counted as
    streaming; availability bad events are the calls with the default
    bad codes."""
    debian_python_with("grpc")
    script = Path(ctx.tmp) / "grpc_calls.py"
    script.write_text(GRPC_CALLS)
    port = h.free_port()
    server = h.Proc(["/usr/bin/python3", script, "server", port], "grpc-server", ctx.tmp)
    ctx.stops.append(("grpc server", lambda: server.stop(timeout=5.0)))
    h.wait_for_port(port, proc=server)
    a = ctx.agent(service_config("grpc", port) +
                  "slos:\n  - {name: avail, service: grpc, sli: availability, objective: 99, "
                  "window: 1d}\n")
    out = subprocess.run(["/usr/bin/python3", str(script), "client", str(port)],
                         capture_output=True, text=True, timeout=120)
    if out.returncode or "done" not in out.stdout:
        raise HarnessError(f"grpc client: {out.stdout[-300:]} {out.stderr[-300:]}")
    want = {}
    for line in out.stdout.splitlines():
        if line.startswith("tally "):
            _, method, code, n = line.split()
            # a call answered UNIMPLEMENTED is rpc_method _OTHER (semconv), whoever aborted
            method = "_OTHER" if code == "UNIMPLEMENTED" else method
            want[(method, code)] = want.get((method, code), 0.0) + float(n)
    if want.get(("t.S/Slow", "DEADLINE_EXCEEDED")) != 3 or want.get(("_OTHER", "UNIMPLEMENTED")) != 3 \
            or want.get(("t.S/Slow", "CANCELLED")) != 2:
        raise HarnessError(f"the client's tallies are not what it was made for: {want}")
    total = sum(want.values())
    rpc = "rpc_server_call_duration_seconds"

    def counts(m):
        got = collections.Counter()
        for labels, v in m.series(rpc + "_count", service_name="grpc", rpc_system_name="grpc"):
            got[(labels["rpc_method"], labels["rpc_response_status_code"])] += v
        return {k: v for k, v in got.items() if v}
    m = a.wait_metrics(lambda m: sum(counts(m).values()) >= total, timeout=15.0,
                       what=f"{total} gRPC calls in {rpc}")
    got = counts(m)
    if got != want:
        raise HarnessError(f"calls {sorted(got.items())}, the client got {sorted(want.items())}")
    if m.total(h.HIST + "_count", service_name="grpc"):
        raise HarnessError("gRPC calls counted in the HTTP family too")
    bad = sum(v for (meth, code), v in want.items()
              if code in ("UNKNOWN", "DEADLINE_EXCEEDED", "UNIMPLEMENTED", "INTERNAL",
                          "UNAVAILABLE", "DATA_LOSS"))
    got_bad = m.value("slotap_slo_events_total", slo="avail", service="grpc", endpoint="",
                      result="bad")
    if got_bad != bad:
        raise HarnessError(f"availability bad events {got_bad}, expected {bad}")
    streaming = m.total("slotap_grpc_streaming_calls_total", service_name="grpc")
    bidi = m.value("slotap_grpc_streaming_calls_total", service_name="grpc",
                   rpc_method="t.S/Bidi")
    if bidi != 3 or streaming != 3:
        raise HarnessError(f"streaming calls: bidi {bidi}, all {streaming}; expected 3 and 3")
    # server streaming: measured to its first message (50 ms), not its end (200 ms)
    s_sum = m.total(rpc + "_sum", rpc_method="t.S/Stream")
    if not 0.04 * 3 <= s_sum <= 0.15 * 3:
        raise HarnessError(f"server streaming: {s_sum:.3f} s for 3 calls, expected ~0.05 s each")
    undecoded = m.total("slotap_h2_fields_undecoded_total")
    if undecoded or m.total("slotap_h2_gaps_total"):
        raise HarnessError(f"undecoded fields {undecoded}, or gaps: expected none")
    lost = {r: v for r, v in m.losses().items() if v}
    if lost:
        raise HarnessError(f"events lost: {h.fmt_losses(lost)}")
    note(f"grpc: {int(total)} calls as the client tallied them; {int(bad)} bad")


# A gRPC chain on Debian's python3-grpcio: a driver calls a front, whose
# one method calls a backend method the request names ("Ok", "Fail CODE",
# "Delay MS" or any other, unimplemented) and answers with the backend's
# code; the front appends each backend call's method and code to a tally
# file, as the client saw it.
GRPC_CHAIN = r"""
import sys, time, json, threading, collections
from concurrent import futures
import grpc

mode, port = sys.argv[1], int(sys.argv[2])

def serve(handlers, workers=4):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    server.add_generic_rpc_handlers((handlers,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    print("ready", flush=True)
    server.wait_for_termination()

if mode == "backend":
    def fail(req, ctx):
        ctx.abort(grpc.StatusCode[req.decode()], "fails as asked")
    def delay(req, ctx):
        time.sleep(int(req) / 1000)
        return req
    serve(grpc.method_handlers_generic_handler("b.B", {
        "Ok": grpc.unary_unary_rpc_method_handler(lambda req, ctx: req),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
        "Delay": grpc.unary_unary_rpc_method_handler(delay),
    }))
elif mode == "front":
    channel = grpc.insecure_channel(f"127.0.0.1:{sys.argv[3]}")
    tally, lock = open(sys.argv[4], "a"), threading.Lock()
    def call(req, ctx):
        method, _, arg = req.partition(b" ")
        try:
            out = channel.unary_unary("/b.B/" + method.decode())(arg, timeout=10)
            code = "OK"
        except grpc.RpcError as e:
            code = e.code().name
        with lock:
            tally.write(f"b.B/{method.decode()} {code}\n")
            tally.flush()
        if code != "OK":
            ctx.abort(grpc.StatusCode[code], "the backend failed")
        return out
    serve(grpc.method_handlers_generic_handler("f.F", {
        "Call": grpc.unary_unary_rpc_method_handler(call)}))
else:
    tally = collections.Counter()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        call = ch.unary_unary("/f.F/Call")
        for req in json.loads(sys.argv[3]):
            try:
                call(req.encode(), timeout=10)
                tally["OK"] += 1
            except grpc.RpcError as e:
                tally[e.code().name] += 1
    print(json.dumps(tally), flush=True)
"""

GRPC_BAD_CODES = ("UNKNOWN", "DEADLINE_EXCEEDED", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE",
                  "DATA_LOSS")


def debian_python_as(ctx, name):
    """Debian's Python as a file called name in the test's directory (a
    hard link, or a copy across file systems): a process of another
    executable than /usr/bin/python3's, which still finds Debian's modules
    (its prefix is the one built in, /usr)."""
    path = os.path.join(ctx.tmp, name)
    if not os.path.exists(path):
        src = os.path.realpath("/usr/bin/python3")
        try:
            os.link(src, path)
        except OSError:
            shutil.copy(src, path)
    return path


class GrpcChain:
    """GRPC_CHAIN's backend (/usr/bin/python3) and front (Debian's Python
    as the executable front_exe), each on a port of its own."""

    def __init__(self, ctx, front_exe="grpc-caller"):
        debian_python_with("grpc")
        self.script = Path(ctx.tmp) / "grpc_chain.py"
        self.script.write_text(GRPC_CHAIN)
        self.tally = Path(ctx.tmp) / "front.tally"
        self.backend_port, self.front_port = h.free_port(), h.free_port()
        self.backend = h.Proc(["/usr/bin/python3", self.script, "backend", self.backend_port],
                              "grpc-backend", ctx.tmp)
        ctx.stops.append(("grpc backend", lambda: self.backend.stop(timeout=5.0)))
        self.front = h.Proc([debian_python_as(ctx, front_exe), self.script, "front",
                             self.front_port, self.backend_port, self.tally],
                            "grpc-front", ctx.tmp)
        ctx.stops.append(("grpc front", lambda: self.front.stop(timeout=5.0)))
        h.wait_for_port(self.backend_port, proc=self.backend)
        h.wait_for_port(self.front_port, proc=self.front)

    def drive(self, plan):
        """The driver's calls of plan (requests to the front): {code: n}."""
        out = subprocess.run(["/usr/bin/python3", str(self.script), "drive",
                              str(self.front_port), json.dumps(plan)],
                             capture_output=True, text=True, timeout=120)
        if out.returncode:
            raise HarnessError(f"grpc driver: {out.stdout[-300:]} {out.stderr[-300:]}")
        return json.loads(out.stdout.splitlines()[-1])

    def front_calls(self):
        """{(rpc_method, code): n} of the front's calls to the backend as the
        front saw them; a call answered UNIMPLEMENTED is rpc_method _OTHER."""
        got = collections.Counter()
        for line in self.tally.read_text().splitlines():
            method, code = line.split()
            got[("_OTHER" if code == "UNIMPLEMENTED" else method, code)] += 1
        return dict(got)


def rpc_counts(m, family, **match):
    """{(rpc_method, rpc_response_status_code): n} of an RPC family's
    matching series, non-zero only."""
    got = collections.Counter()
    for labels, v in m.series(family + "_count", rpc_system_name="grpc", **match):
        got[(labels["rpc_method"], labels["rpc_response_status_code"])] += v
    return {k: v for k, v in got.items() if v}


RPC_SERVER = "rpc_server_call_duration_seconds"
RPC_CLIENT = "rpc_client_call_duration_seconds"


@test("h2c_grpc_outbound")
def t_h2c_grpc_outbound(ctx):
    """A tracked process calling a gRPC server is measured as a client:
    grpc-front (Debian's Python under another name, matched by process)
    calls grpc-backend (matched by port) for each call it serves. Its calls
    in rpc_client_call_duration_seconds, by server_address, server_port,
    rpc_method and code, equal the front's own tallies, as do the
    backend's server calls; the dependency SLO counts them by the default
    bad codes, and each bad call of the front is blamed on the backend."""
    g = GrpcChain(ctx)
    bp = str(g.backend_port)
    a = ctx.agent("services:\n"
                  f"  - name: grpc-backend\n    match: {{port: {bp}}}\n"
                  "  - name: grpc-front\n    match: {process: grpc-caller}\n"
                  "dependencies:\n"
                  f"  - name: backend\n    address: 127.0.0.1\n    port: {bp}\n"
                  "slos:\n" + AVAIL_SLO.format(name="front-avail", service="grpc-front") +
                  "  - name: backend-calls\n    dependency: backend\n    sli: availability\n"
                  "    objective: 99\n    window: 28d\n"
                  f"latency_thresholds: {THRESHOLDS}\n")
    plan = (["Ok x"] * 20 + ["Fail INTERNAL"] * 4 + ["Fail UNAVAILABLE"] * 3 +
            ["Fail NOT_FOUND"] * 3 + ["Nope x"] * 2)
    random.Random(15).shuffle(plan)
    got_driver = g.drive(plan)
    expect_client(got_driver, {"OK": 20, "INTERNAL": 4, "UNAVAILABLE": 3, "NOT_FOUND": 3,
                               "UNIMPLEMENTED": 2}, what="the driver got")
    want = g.front_calls()
    if sum(want.values()) != len(plan):
        raise HarnessError(f"the front tallied {want} for {len(plan)} calls")
    bad = sum(n for (_, code), n in want.items() if code in GRPC_BAD_CODES)
    m = a.wait_metrics(lambda mm: sum(rpc_counts(mm, RPC_CLIENT,
                                                 service_name="grpc-front").values()) >= len(plan)
                       and sum(rpc_counts(mm, RPC_SERVER,
                                          service_name="grpc-front").values()) >= len(plan),
                       timeout=15.0, what=f"{len(plan)} client and server calls of grpc-front")
    got = rpc_counts(m, RPC_CLIENT, service_name="grpc-front", server_address="127.0.0.1",
                     server_port=bp)
    if got != want:
        raise HarnessError(f"{RPC_CLIENT} of grpc-front: {sorted(got.items())}, the front "
                           f"tallied {sorted(want.items())}; its series "
                           f"{[l for l, v in m.series(RPC_CLIENT + '_count')][:2]}")
    if rpc_counts(m, RPC_CLIENT) != want:
        raise HarnessError(f"{RPC_CLIENT}: {rpc_counts(m, RPC_CLIENT)}: other clients too")
    got = rpc_counts(m, RPC_SERVER, service_name="grpc-backend")
    if got != want:
        raise HarnessError(f"{RPC_SERVER} of grpc-backend: {sorted(got.items())}, the front "
                           f"tallied {sorted(want.items())}")
    front_want = {("_OTHER" if c == "UNIMPLEMENTED" else "f.F/Call", c): float(n)
                  for c, n in got_driver.items()}
    got = rpc_counts(m, RPC_SERVER, service_name="grpc-front")
    if got != front_want:
        raise HarnessError(f"{RPC_SERVER} of grpc-front: {sorted(got.items())}, the driver "
                           f"got {sorted(front_want.items())}")
    if m.total(h.CLIENT_HIST + "_count") or m.total(h.HIST + "_count"):
        raise HarnessError("gRPC calls counted in the HTTP families too")
    expect_labelled(m, h.CONNECT_HIST + "_count", "server_port", {bp: 1},
                    service_name="grpc-front", server_address="127.0.0.1")
    expect_labelled(m, CLIENT_FAILURES, "reason", {}, service_name="grpc-front")
    expect_slo_events(m, "backend", {("backend-calls", "", "good"): len(plan) - bad,
                                     ("backend-calls", "", "bad"): bad})
    expect_slo_events(m, "grpc-front", {("front-avail", "", "good"): len(plan) - bad,
                                        ("front-avail", "", "bad"): bad})
    expect_labelled(m, "slotap_slo_bad_events_blamed_total", "dependency", {"backend": bad},
                    slo="front-avail", service="grpc-front")
    undecoded = m.total("slotap_h2_fields_undecoded_total")
    if undecoded or m.total("slotap_h2_gaps_total"):
        raise HarnessError(f"undecoded fields {undecoded}, or gaps: expected none")
    lost = {r: v for r, v in m.losses().items() if v}
    if lost:
        raise HarnessError(f"events lost: {h.fmt_losses(lost)}")
    note(f"grpc-front: {len(plan)} calls to the backend as it tallied them, {bad} bad, "
         f"each blamed on it")


def expect_buckets(m, family, want, **match):
    """The cumulative counts of family's matching series at each bound of
    want ({le: n}), summed over the series."""
    for le, n in want.items():
        got, seen = 0.0, False
        for labels, v in m.series(family + "_bucket", **match):
            if math.isclose(float(labels["le"]), le, rel_tol=1e-9):
                got += v
                seen = True
        if not seen or got != n:
            raise HarnessError(f"{family}{match}: bucket le={le:g} is "
                               f"{got if seen else 'missing'}, expected {n}")


@test("h2c_latency_buckets")
def t_h2c_latency_buckets(ctx):
    """Latency of HTTP/2 requests and gRPC calls, in the buckets the
    servers' delays imply: the gRPC backend sleeps 20 ms or 120 ms before
    answering (its server calls, the front's calls to it as a client, the
    front's own calls), and nginx in h2c proxies to testd, which sleeps as
    long (h2load, 5 streams in flight on each of 2 connections). Every
    20 ms call is above 10 ms and within 100 ms, every 120 ms one above
    100 ms and within 250 ms."""
    if not shutil.which("h2load"):
        raise HarnessError("h2load not found: apt-get install nghttp2-client")
    g = GrpcChain(ctx)
    t = ctx.testd()
    n = ctx.nginx(http2=True, proxy={"/api": t.port})
    a = ctx.agent(services_config(
        service_item("grpc-backend", f"port: {g.backend_port}"),
        service_item("grpc-front", "process: grpc-caller"),
        service_item("front", f"port: {n.port}", ["/api/delay/{delay}/status/{code}"]))
        .replace(THRESHOLDS, "[10ms, 100ms, 250ms]"))
    calls = {20: 6, 120: 4}
    plan = [f"Delay {ms}" for ms, k in calls.items() for _ in range(k)]
    random.Random(2).shuffle(plan)
    expect_client(g.drive(plan), {"OK": len(plan)}, what="the driver got")
    requests = {20: 10, 120: 10}
    for ms, k in requests.items():
        out = subprocess.run(["h2load", "-n", str(k), "-c", "2", "-m", "5",
                              f"http://127.0.0.1:{n.port}/api/delay/{ms}ms/status/200"],
                             capture_output=True, text=True, timeout=60)
        mm = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded",
                       out.stdout)
        if out.returncode or not mm or int(mm.group(1)) != k or "h2c" not in out.stdout:
            raise HarnessError(f"h2load to {ms} ms: {out.stdout[-300:]} {out.stderr[-300:]}")
    total = len(plan)
    m = a.wait_metrics(lambda mm: mm.total(RPC_SERVER + "_count", service_name="grpc-front")
                       >= total and
                       mm.total(RPC_SERVER + "_count", service_name="grpc-backend") >= total
                       and mm.total(RPC_CLIENT + "_count") >= total and
                       counts_total(mm, "front") >= sum(requests.values()), timeout=15.0,
                       what="the gRPC calls and the HTTP/2 requests")
    fast, slow = calls[20], calls[120]
    want = {0.01: 0, 0.1: fast, 0.25: fast + slow, math.inf: fast + slow}
    expect_buckets(m, RPC_SERVER, want, service_name="grpc-backend", rpc_method="b.B/Delay",
                   rpc_response_status_code="OK")
    expect_buckets(m, RPC_CLIENT, want, service_name="grpc-front", rpc_method="b.B/Delay",
                   rpc_response_status_code="OK")
    expect_buckets(m, RPC_SERVER, want, service_name="grpc-front", rpc_method="f.F/Call",
                   rpc_response_status_code="OK")
    fast, slow = requests[20], requests[120]
    expect_buckets(m, h.HIST, {0.01: 0, 0.1: fast, 0.25: fast + slow, math.inf: fast + slow},
                   service_name="front", http_route="/api/delay/{delay}/status/{code}",
                   network_protocol_version="2", http_response_status_code="200")
    lost = {r: v for r, v in m.losses().items() if v}
    if lost:
        raise HarnessError(f"events lost: {h.fmt_losses(lost)}")
    note(f"gRPC: {calls} calls of 20 and 120 ms, HTTP/2: {requests}: in their buckets")


# An HTTP/2 client on Debian's python3-h2 that counts from the frames: on
# each connection it sends K requests at once, then reads until the server
# closes it; a stream is processed (its response ended), above the
# last-stream-id of the server's GOAWAY, or neither.
H2_GOAWAY_CLIENT = r"""
import json, socket, struct, sys
import h2.config, h2.connection

port, conns, k = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
tally = {"processed": 0, "above_goaway": 0, "other": 0}
for _ in range(conns):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    c.initiate_connection()
    ids = []
    for i in range(k):
        ids.append(c.get_next_available_stream_id())
        c.send_headers(ids[-1], [(":method", "GET"), (":scheme", "http"),
                                 (":authority", "127.0.0.1"), (":path", "/index.html")],
                       end_stream=True)
    s.sendall(c.data_to_send())
    # the server's frames, read by hand: python-h2 takes nothing after a GOAWAY
    buf, ended, last = b"", set(), None
    while True:
        data = s.recv(65536)
        if not data:
            break
        buf += data
        while len(buf) >= 9:
            length = int.from_bytes(buf[:3], "big")
            ftype, flags, sid = buf[3], buf[4], struct.unpack(">I", buf[5:9])[0] & 0x7fffffff
            if len(buf) < 9 + length:
                break
            payload, buf = buf[9:9 + length], buf[9 + length:]
            if ftype in (0x0, 0x1) and flags & 0x1:     # DATA, HEADERS with END_STREAM
                ended.add(sid)
            elif ftype == 0x7:                          # GOAWAY
                last = struct.unpack(">I", payload[:4])[0] & 0x7fffffff
            elif ftype == 0x4 and not flags & 0x1:      # SETTINGS: acknowledged
                s.sendall(b"\x00\x00\x00\x04\x01\x00\x00\x00\x00")
    s.close()
    for i in ids:
        key = ("processed" if i in ended else
               "above_goaway" if last is not None and i > last else "other")
        tally[key] += 1
print(json.dumps(tally), flush=True)
"""


@test("h2c_goaway")
def t_h2c_goaway(ctx):
    """nginx closing each HTTP/2 connection after 10 requests
    (keepalive_requests 10) with a graceful GOAWAY. A python3-h2 client
    sending 16 requests at once on each connection counts from the frames
    the streams above the GOAWAY's last-stream-id: exactly the transport
    failures `goaway`. Then h2load keeping 10 and 16 streams in flight:
    `goaway` failures are the request header blocks nginx did not log. No
    SLO counts them (the client's to retry), and every request nginx
    logged is measured."""
    if not shutil.which("h2load"):
        raise HarnessError("h2load not found: apt-get install nghttp2-client")
    debian_python_with("h2")
    n = ctx.nginx(access_log=True, http2=True, extra_server="keepalive_requests 10;")
    a = ctx.agent(service_config("nginx", n.port) +
                  "slos:\n" + AVAIL_SLO.format(name="avail", service="nginx"))
    script = Path(ctx.tmp) / "h2_goaway_client.py"
    script.write_text(H2_GOAWAY_CLIENT)
    out = subprocess.run(["/usr/bin/python3", str(script), str(n.port), "5", "16"],
                         capture_output=True, text=True, timeout=60)
    if out.returncode:
        raise HarnessError(f"h2 client: {out.stdout[-300:]} {out.stderr[-300:]}")
    tally = json.loads(out.stdout.splitlines()[-1])
    if tally != {"processed": 50, "above_goaway": 30, "other": 0}:
        raise HarnessError(f"h2 client: {tally}, expected 10 processed and 6 above the "
                           f"GOAWAY on each of 5 connections (server problem, not the agent)")
    m = a.wait_metrics(lambda mm: h2_records(mm).get("end", 0) >= 5 and
                       counts_total(mm, "nginx") >= 50, timeout=10.0,
                       what="5 connections ended and 50 requests")
    expect_counts(m, "nginx", {("GET", "/index.html", "200"): 50})
    expect_transport(m, "nginx", {"goaway": tally["above_goaway"]})
    conns, processed = 5, 50
    for depth in (10, 16):
        out = subprocess.run(["h2load", "-n", "100", "-c", "4", "-m", str(depth),
                              f"http://127.0.0.1:{n.port}/index.html"],
                             capture_output=True, text=True, timeout=60)
        mm = re.search(r"requests: \d+ total, (\d+) started, (\d+) done, (\d+) succeeded",
                       out.stdout)
        if not mm or int(mm.group(3)) != 40 or "h2c" not in out.stdout:
            raise HarnessError(f"h2load -m {depth}: {out.stdout[-400:]} {out.stderr[-300:]}")
        conns += 4
        processed += 40
        note(f"h2load -m {depth}: {mm.group(0)}")
    logged = n.access_log_counts()
    if logged != {("GET", "200"): processed}:
        raise HarnessError(f"nginx logged {logged}, expected {processed} GET 200 "
                           f"(10 a connection)")
    m = a.wait_metrics(lambda mm: h2_records(mm).get("end", 0) >= conns and
                       counts_total(mm, "nginx") >= processed, timeout=10.0,
                       what=f"{conns} connections ended and {processed} requests")
    blocks = h2_records(m)["request_header_block"]
    expect_counts(m, "nginx", {("GET", "/index.html", "200"): processed})
    expect_transport(m, "nginx", {"goaway": blocks - processed})
    expect_slo_events(m, "nginx", {("avail", "", "good"): processed, ("avail", "", "bad"): 0})
    lost = {r: v for r, v in m.losses().items() if v}
    if lost:
        raise HarnessError(f"events lost: {h.fmt_losses(lost)}")
    note(f"{int(blocks)} streams sent, {processed} processed, {int(blocks) - processed} "
         f"above a GOAWAY")


@test("hostile_labels")
def t_hostile_labels(ctx):
    """No services configured (every listener tracked, named by executable
    name): servers started from 40 executables of random names answer
    random statuses (0-999) to random methods (any token) and paths, 4,000
    requests, then 12,000 more. Every request is counted, once, in its own
    series or the overflow series; the series stay under
    max_series_per_metric, methods are the standard ones or _OTHER, statuses
    100-599 or "invalid"; the agent's memory (state saved every second: a
    save's peak in both rounds) stays under 16 MiB above its start and does
    not grow with the second round; a scrape takes under 1 s."""
    rng = random.Random(14)
    prefix = f"hx{os.getpid() % 10000}"
    names = [prefix + random_word(rng, 6) for _ in range(40)]
    # default SLO copies (24 KiB each at most) have a cap of their own: small here.
    # A state save holds all their state at once (README: the save's memory),
    # ~2.4 MiB here: saving every second puts that peak in both rounds, where the
    # default 10 s put the first save in whichever round ran at t=10 s.
    a = ctx.agent(f"max_series_per_metric: {HOSTILE_MAX_SERIES}\nmax_default_slos: 100\n",
                  args=["--state-interval=1"])
    rss_start = proc_status_kb(a.pid, "VmRSS")

    def ours(labels):
        return labels.get("service_name", "").startswith(prefix)

    def counted(m):
        return sum(v for lb, v in m.series(h.HIST + "_count") if ours(lb)) + \
            m.value(h.HIST + "_count", 0, otel_metric_overflow="true")
    total, grown_kb = 0, []
    for rnd, conns in enumerate((200, 600)):
        plan = hostile_plan(rng, names, conns=conns, per_conn=20)
        total += sum(len(ex) for _, ex in plan)
        drive_hostile(ctx, plan, rnd)
        a.wait_metrics(lambda m: counted(m) >= total, what=f"{total} hostile requests")
        grown_kb.append(proc_status_kb(a.pid, "VmHWM") - rss_start)
    t0 = time.monotonic()
    text = h.fetch_text(f"http://127.0.0.1:{a.port}/metrics")
    scrape_s = time.monotonic() - t0
    m = h.Metrics(text)
    # Other listeners of the node are tracked too (no services): their
    # requests may share the overflow series. Ours are all counted, and
    # the overflow holds no more than the others' events can explain.
    others = m.value("slotap_events_received_total") - total - \
        sum(v for lb, v in m.series(h.HIST + "_count") if lb.get("service_name")
            and not ours(lb))
    if not total <= counted(m) <= total + max(others, 0):
        raise HarnessError(f"counted {counted(m)} requests, the servers answered {total} "
                           f"(other processes: {others:.0f} events outside their series)")
    series = m.series(h.HIST + "_count")
    if len(series) > HOSTILE_MAX_SERIES + 1:
        raise HarnessError(f"{len(series)} series, more than {HOSTILE_MAX_SERIES} + 1")
    gauge = m.value("slotap_metric_series", metric=h.HIST)
    overflow = m.value("slotap_metric_series_overflow_total", metric=h.HIST)
    if gauge != len(series) or not overflow or \
            overflow != m.value(h.HIST + "_count", 0, otel_metric_overflow="true"):
        raise HarnessError(f"slotap_metric_series {gauge} (exported {len(series)}), "
                           f"overflow {overflow}")
    methods = {lb.get("http_request_method") for lb, _ in series} - {None}
    statuses = {lb.get("http_response_status_code") for lb, _ in series} - {None}
    if not methods <= STANDARD_METHODS or "_OTHER" not in methods:
        raise HarnessError(f"methods exported: {sorted(methods)}")
    bad = {s for s in statuses if s != "invalid" and not 100 <= int(s) <= 599}
    if bad or "invalid" not in statuses:
        raise HarnessError(f"statuses exported: {sorted(statuses)}")
    if grown_kb[-1] > 16 * 1024 or grown_kb[1] - grown_kb[0] > 2 * 1024:
        raise HarnessError(f"the agent grew by {grown_kb[0]} KiB, then {grown_kb[1]} KiB "
                           "(bounds: 16 MiB, and 2 MiB more for the second round)")
    if scrape_s > 1.0:
        raise HarnessError(f"a scrape took {scrape_s:.2f} s, more than 1 s")
    note(f"{total} requests, {len(names)} executable names: {len(series)} series "
         f"({overflow:.0f} events in the overflow series); peak memory +{grown_kb[0]} KiB, "
         f"then +{grown_kb[1]} KiB; scrape {scrape_s * 1000:.0f} ms ({len(text)} bytes)")
    check_common(m)


@test("bpf_self_metrics")
def t_bpf_self_metrics(ctx):
    """--bpf-stats: each program's runs and run time, and each map's
    capacity and fill, in /metrics; the socket programs ran at least once
    per request and the run time per request is plausible (under 100 us).
    Without the flag the agent says the kernel does not count (unless
    kernel.bpf_stats_enabled is set)."""
    t = ctx.testd()
    a = ctx.agent(service_config("stats", t.port, TESTD_ROUTES), args=["--bpf-stats"])
    n = 200
    expect_client(client_statuses(h.keepalive_requests(t.port, ["/status/200"] * n)), {200: n})
    m = wait_counts(a, "stats", n)
    if m.value("slotap_bpf_stats_enabled") != 1:
        raise HarnessError("slotap_bpf_stats_enabled is not 1 with --bpf-stats")
    runs = {lb["program"]: v for lb, v in m.series("slotap_bpf_program_runs_total")}
    secs = {lb["program"]: v for lb, v in m.series("slotap_bpf_program_run_seconds_total")}
    for prog in ("slotap_sock_recv", "slotap_sock_send"):
        if runs.get(prog, 0) < n or not secs.get(prog):
            raise HarnessError(f"{prog}: {runs.get(prog)} runs, {secs.get(prog)} s for {n} "
                               f"requests")
    per_request = sum(secs.values()) / n
    if per_request > 100e-6:
        raise HarnessError(f"{per_request * 1e6:.1f} us of BPF run time per request")
    cap = {lb["map"]: v for lb, v in m.series("slotap_bpf_map_capacity")}
    fill = {lb["map"]: v for lb, v in m.series("slotap_bpf_map_entries")}
    if cap.get("pipeline_spill") != 8192 or "ports" not in cap or \
            any(k.startswith("slotap_b") for k in cap):
        raise HarnessError(f"map capacities: {cap}")
    if not fill.get("serving_tgids") or fill.get("pipeline_spill") != 0:
        raise HarnessError(f"map entries: {fill}")
    note(f"{per_request * 1e9:.0f} ns of BPF run time per request over "
         f"{sum(runs.values()):.0f} program runs; maps {fill}")
    check_common(m)
    plain = ctx.agent("latency_thresholds: [100ms]\n")
    sysctl = open("/proc/sys/kernel/bpf_stats_enabled").read().strip() == "1"
    if plain.metrics().value("slotap_bpf_stats_enabled") != (1 if sysctl else 0):
        raise HarnessError("slotap_bpf_stats_enabled is wrong without --bpf-stats")


@test("proc_hidden")
def t_proc_hidden(ctx):
    """/proc hidden from a running agent (a tmpfs mounted over it in the
    agent's own mount namespace): the listen drop sweep, which needs
    /proc/PID/ns/net, fails; that is logged once (not once a second) and
    counted, requests are still measured exactly, and when /proc is back
    the agent says the sweep works again. Then it stops cleanly."""
    t = ctx.testd()
    a = ctx.agent(service_config("proc", t.port, TESTD_ROUTES),
                  wrap=["unshare", "--mount", "--propagation", "private"])
    expect_client(client_statuses(h.keepalive_requests(t.port, ["/status/200"] * 5)), {200: 5})
    wait_counts(a, "proc", 5)      # testd serves: its namespace is one to sweep
    hide = ["nsenter", "-t", str(a.pid), "-m", "mount", "-t", "tmpfs", "slotap-hidden", "/proc"]
    subprocess.run(hide, check=True)
    try:
        h.wait_for(lambda: "listen drop sweep fails" in a.proc.stderr(), 5.0, proc=a.proc,
                   what="the sweep's failure in the log")
        time.sleep(3.5)            # three more sweeps: still one line
        expect_client(client_statuses(h.keepalive_requests(t.port, ["/status/503"] * 7)),
                      {503: 7})
        m = wait_counts(a, "proc", 12)
        expect_counts(m, "proc", {("GET", R_STATUS, "200"): 5, ("GET", R_STATUS, "503"): 7})
        failures = m.value("slotap_sweep_failures_total", sweep="listen_drops")
        if not failures or failures < 3:
            raise HarnessError(f"slotap_sweep_failures_total{{listen_drops}} {failures}")
    finally:
        subprocess.run(["nsenter", "-t", str(a.pid), "-m", "umount", "/proc"], check=True)
    h.wait_for(lambda: "listen drop sweep works again" in a.proc.stderr(), 5.0, proc=a.proc,
               what="the sweep working again")
    log = a.proc.stderr()
    if log.count("listen drop sweep fails") != 1 or "still fails" in log:
        raise HarnessError(f"{log.count('listen drop sweep fails')} failure lines: "
                           f"{a.proc.tail()}")
    note(f"{failures:.0f} failed sweeps, one line; requests counted throughout")
    check_common(m)


# ------------------------------------ transport failures and dependencies --
# Issue 4: requests that fail below HTTP (reset, closed, timed out) on the
# server side; outbound connects and requests of tracked processes.

def expect_reset(c):
    """True if the server resets the connection without sending a byte."""
    try:
        c.sock.recv(4096)
    except ConnectionResetError:
        return True
    return False


def client_counts(m, service, **match):
    """{(server_port, method, status): count} of the outbound requests of
    service (http_client_request_duration_seconds), non-zero only."""
    out = collections.Counter()
    for labels, v in m.series(h.CLIENT_HIST + "_count", service_name=service, **match):
        if v:
            out[(labels["server_port"], labels["http_request_method"],
                 labels["http_response_status_code"])] += v
    return dict(out)


def expect_client_counts(m, service, expected):
    got = client_counts(m, service)
    exp = {k: float(v) for k, v in expected.items() if v}
    if got != exp:
        raise HarnessError(f"{h.CLIENT_HIST} of {service}: {got}, expected {exp}")


def labelled(m, name, key, **match):
    """{labels[key]: value} of the non-zero samples of name matching."""
    out = collections.Counter()
    for labels, v in m.series(name, **match):
        if v:
            out[labels[key]] += v
    return dict(out)


def expect_labelled(m, name, key, expected, **match):
    got = labelled(m, name, key, **match)
    exp = {k: float(v) for k, v in expected.items() if v}
    if got != exp:
        raise HarnessError(f"{name}{match} by {key}: {got}, expected {exp}")


def client_bucket(m, le, **match):
    """Cumulative count of bucket le of the client histogram's matching series."""
    total, seen = 0.0, False
    for labels, v in m.series(h.CLIENT_HIST + "_bucket", **match):
        if math.isclose(float(labels["le"]), le, rel_tol=1e-9) or float(labels["le"]) == le:
            total += v
            seen = True
    if not seen:
        raise HarnessError(f"no {h.CLIENT_HIST} bucket le={le:g} for {match}")
    return total


CONNECT_FAILURES = "slotap_tcp_connect_failures_total"
CLIENT_FAILURES = "slotap_http_client_request_failures_total"
LATE = "slotap_http_late_responses_total"


def caller_config(backend_port, process, caller="caller"):
    """Service backend on backend_port (testd routes), and caller matched
    by process name: its outbound connects and requests are tracked."""
    return services_config(service_item("backend", f"port: {backend_port}", TESTD_ROUTES),
                           service_item(caller, f"process: {process}"))


@test("reset_mid_request")
def t_reset(ctx):
    t = ctx.testd()
    a = ctx.agent(service_config("testd", t.port, TESTD_ROUTES) + "slos:\n" +
                  AVAIL_SLO.format(name="avail", service="testd") +
                  AVAIL_SLO.format(name="lenient", service="testd") +
                  "    transport_failures: ignore\n")
    conns, reset = 10, 0
    for _ in range(conns):
        with h.RawHTTP(t.port) as c:
            if c.request("GET", "/status/200").status != 200:
                raise HarnessError("client: /status/200 did not answer 200")
            c.sendall(h.build_request("GET", "/reset", c.host))
            reset += expect_reset(c)
    if reset != conns:
        raise HarnessError(f"client: server reset {reset} of {conns} /reset requests")
    m = wait_counts(a, "testd", conns,
                    extra=lambda mm: sum(transport_failures(mm, "testd").values()) >= conns,
                    what=f"{conns} requests and {conns} transport failures")
    # the reset requests are failures only: none in the histogram
    expect_counts(m, "testd", {("GET", R_STATUS, "200"): conns})
    expect_transport(m, "testd", {"connection_reset": conns})
    # bad events of availability SLOs, unless transport_failures: ignore;
    # the endpoint's default latency SLO does not count them
    expect_slo_events(m, "testd", {("avail", "", "good"): conns, ("avail", "", "bad"): conns,
                                   ("lenient", "", "good"): conns, ("lenient", "", "bad"): 0,
                                   ("default-latency", "GET /reset", "bad"): 0})
    check_common(m)
    expect_untracked(a)


@test("request_timeout")
def t_request_timeout(ctx):
    """request_timeout: 1s: K requests that take 3 s are failed (timeout)
    within 2 s, while their connections are open; their late responses are
    counted apart, not in the histogram."""
    t = ctx.testd()
    a = ctx.agent(service_config("testd", t.port, TESTD_ROUTES) + "request_timeout: 1s\n")
    k, slow = 5, "/delay/3000ms/status/200"
    rs = h.keepalive_requests(t.port, ["/status/200"] * 10)     # well within the timeout
    expect_client(client_statuses(rs), {200: 10})
    conns = []
    try:
        for _ in range(k):
            conns.append(h.RawHTTP(t.port, timeout=15.0))
        # every connection waits for its own answer: K requests in flight at once
        t0 = time.monotonic()
        for c in conns:
            c.sendall(h.build_request("GET", slow, c.host))
        # the sweep runs every second: reported 1 to 2 s after the request
        m = a.wait_metrics(lambda mm: sum(transport_failures(mm, "testd").values()) >= k,
                           timeout=2.5, settle=0, what=f"{k} timeouts within 2.5 s")
        seen_at = time.monotonic() - t0
        if seen_at >= 2.9:
            raise HarnessError(f"timeouts seen {seen_at:.2f}s after the requests: the "
                               f"responses (3 s) may have come first")
        expect_transport(m, "testd", {"timeout": k})
        expect_counts(m, "testd", {("GET", R_STATUS, "200"): 10})
        if m.value(LATE, 0):
            raise HarnessError(f"{LATE} is {m.value(LATE):g} before any late response")
        statuses = collections.Counter(c.read_response().status for c in conns)
    finally:
        for c in conns:
            c.close()
    if time.monotonic() - t0 < 2.9:
        raise HarnessError("client: the /delay/3000ms responses came early")
    expect_client(statuses, {200: k})
    m = a.wait_metrics(lambda mm: mm.value(LATE, 0) >= k, what=f"{LATE} to reach {k}")
    if m.value(LATE) != k:
        raise HarnessError(f"{LATE} is {m.value(LATE):g}, expected {k}")
    expect_transport(m, "testd", {"timeout": k})
    expect_counts(m, "testd", {("GET", R_STATUS, "200"): 10})
    check_common(m)
    expect_untracked(a)


# K connections, one slow request each, all sent before any answer; prints
# the statuses (run inside the server's network namespace)
NETNS_CLIENT = """
import socket, sys
port, k, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
conns = [socket.create_connection(("127.0.0.1", port), timeout=15) for _ in range(k)]
for c in conns:
    c.sendall(f"GET {path} HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n".encode())
print("sent", flush=True)
for c in conns:
    data = b""
    while b"\\r\\n" not in data:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    print(data.split(b" ")[1].decode() if data else "none", flush=True)
"""


@test("request_timeout_other_netns")
def t_request_timeout_other_netns(ctx):
    """A service in a network namespace of its own (a container's): its
    unanswered requests time out all the same, whichever iterator the
    kernel lets the agent load (the TCP socket walk must enter the
    namespace)."""
    ns = netns_add(ctx)
    t = h.Testd(ctx.tmp, name="testd-netns", wrap=("ip", "netns", "exec", ns))
    ctx.stops.append(("slotap-testd", t.stop))
    a = ctx.agent(service_config("testd", t.port, TESTD_ROUTES) + "request_timeout: 1s\n")
    k = 3
    client = h.Proc(["ip", "netns", "exec", ns, sys.executable, "-c", NETNS_CLIENT,
                     t.port, k, "/delay/3000ms/status/200"], "netns-client", ctx.tmp)
    ctx.stops.append(("netns client", lambda: client.stop(timeout=2.0)))
    h.wait_for(lambda: "sent" in client.stdout(), 5.0, proc=client, what="the client's requests")
    t0 = time.monotonic()
    m = a.wait_metrics(lambda mm: sum(transport_failures(mm, "testd").values()) >= k,
                       timeout=2.5, settle=0, what=f"{k} timeouts within 2.5 s")
    if time.monotonic() - t0 >= 2.9:
        raise HarnessError("timeouts seen after the responses (3 s) may have come")
    expect_transport(m, "testd", {"timeout": k})
    if client.wait(10.0) != 0:
        raise HarnessError(f"client: {client.tail()}")
    statuses = collections.Counter(client.stdout().split()[1:])
    expect_client(statuses, {"200": k})
    m = a.wait_metrics(lambda mm: mm.value(LATE, 0) >= k, what=f"{LATE} to reach {k}")
    expect_transport(m, "testd", {"timeout": k})
    check_common(m)


# listen(0) never accepted, 12 nonblocking connects; prints how many did not
# connect in 0.3 s (each one dropped SYN), then keeps listening HOLD s
NETNS_BACKLOG = """
import select, socket, sys, time
port, hold = int(sys.argv[1]), float(sys.argv[2])
ls = socket.socket()
ls.bind(("127.0.0.1", port))
ls.listen(0)
clients = []
for _ in range(12):
    c = socket.socket()
    c.setblocking(False)
    c.connect_ex(("127.0.0.1", port))
    clients.append(c)
time.sleep(0.3)
_, done, _ = select.select([], clients, [], 0)
for c in clients:
    c.close()
print(len(clients) - len(done), flush=True)
time.sleep(hold)
"""


def netns_add(ctx):
    """A network namespace of the test's own with its loopback up, deleted
    at the end; its name."""
    if not shutil.which("ip"):
        raise HarnessError("ip (iproute2) is missing: run scripts/install-deps.sh")
    ns = f"slotap-it-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True)
    ctx.stops.append(("netns " + ns, lambda: subprocess.run(
        ["ip", "netns", "delete", ns], check=True, capture_output=True)))
    subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True, capture_output=True)
    return ns


@test("listen_overflow_other_netns")
def t_listen_overflow_other_netns(ctx):
    """A service's listener in a network namespace of its own, never
    accepting: its drops are counted by the once-a-second sweep while it
    still listens (the sweep enters the namespace of the process that
    listened), not only at its close."""
    ns = netns_add(ctx)
    port = h.free_port()
    a = ctx.agent(service_config("backlog", port))
    p = h.Proc(["ip", "netns", "exec", ns, sys.executable, "-c", NETNS_BACKLOG, port, 5],
               "netns-backlog", ctx.tmp)
    ctx.stops.append(("netns backlog", lambda: p.stop(timeout=2.0)))
    h.wait_for(lambda: p.stdout().strip(), 5.0, proc=p, what="the connects")
    t0, pending = time.monotonic(), int(p.stdout().split()[0])
    if pending != 11:
        raise HarnessError(f"{pending} of 12 connects did not complete, expected 11 "
                           f"with listen(0)")
    m = a.wait_metrics(
        lambda mm: transport_failures(mm, "backlog").get("listen_overflow", 0) >= pending,
        timeout=3.0, settle=0, what=f"listen_overflow {pending} while the listener listens")
    if not p.alive() or time.monotonic() - t0 >= 4.5:
        raise HarnessError("the listener had closed: counted at its close, not swept")
    if p.wait(10.0) != 0:
        raise HarnessError(f"backlog process: {p.tail()}")
    m = a.wait_metrics(lambda mm: True, settle=1.2)
    expect_transport(m, "backlog", {"listen_overflow": pending})
    check_common(m)


RETRANSMITS = "slotap_tcp_retransmits_total"


class ConnectLoop:
    """Client threads that each, until stopped, connect to port, send one
    GET on the new connection, read the answer and close (the client
    closes first). They count what they saw: refused connects, responses
    by status, and connections that ended with no response."""

    def __init__(self, port, path="/status/200", threads=2):
        self.port, self.path = port, path
        self.lock = threading.Lock()
        self.refused = 0
        self.statuses = collections.Counter()
        self.no_response = 0
        self.reset_at_connect = 0
        self.errors = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True)
                        for _ in range(threads)]
        for t in self.threads:
            t.start()

    def _one(self):
        try:
            c = h.RawHTTP(self.port, timeout=5.0)
        except ConnectionRefusedError:
            return "refused"
        except ConnectionResetError:
            # the handshake done, the listener closed before connect()
            # returned: no request was sent, so nothing for the agent to count
            return "reset_at_connect"
        except OSError as e:
            return f"connect: {e}"
        try:
            return c.request("GET", self.path).status
        except (h.ConnectionClosed, ConnectionResetError, BrokenPipeError):
            return None
        except OSError as e:
            return f"request: {e}"
        finally:
            c.close()

    def _run(self):
        while not self.stopping.is_set():
            got = self._one()
            with self.lock:
                if got == "refused":
                    self.refused += 1
                elif got is None:
                    self.no_response += 1
                elif got == "reset_at_connect":
                    self.reset_at_connect += 1
                elif isinstance(got, int):
                    self.statuses[got] += 1
                else:
                    self.errors.append(got)
            if got == "refused":
                time.sleep(0.002)       # a down service: keep the count modest

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(15.0)
        if any(t.is_alive() for t in self.threads):
            raise HarnessError("client threads did not finish")
        if self.errors:
            raise HarnessError(f"client: {len(self.errors)} error(s), first: {self.errors[0]}")


def expect_retransmits_signal(m, service, before):
    """slotap_tcp_retransmits_total{service} is there; without loss on lo
    it is 0, and it can never exceed the kernel's RetransSegs delta."""
    got = m.value(RETRANSMITS, service=service)
    kernel = h.kernel_counters()["Tcp:RetransSegs"] - before
    if got is None:
        raise HarnessError(f"no {RETRANSMITS}{{service={service}}}")
    if got > kernel or (kernel == 0 and got != 0):
        raise HarnessError(f"{RETRANSMITS}{{service={service}}} is {got:g}, the kernel "
                           f"retransmitted {kernel} segment(s) meanwhile")


def refused_restart_test(by_process):
    """The server stops under load and starts again on the same port: every
    ECONNREFUSED the clients saw is one refused failure of the service,
    every connection that ended with no answer one reset or closed, and
    every response they got is counted exactly. By process: the service is
    matched by the server's process name only, and keeps the port it was
    last seen listening on while no process of it runs."""
    def run(ctx):
        binary = None
        if by_process:
            # a name of our own: no other test's slotap-testd is this service
            binary = os.path.join(ctx.tmp, f"rtestd{os.getpid() % 100000}")
            shutil.copy(h.TESTD_BIN, binary)
        port = h.free_port()
        t = ctx.testd(port=port, binary=binary, name="testd-1")
        if by_process:
            cfg = services_config(service_item("testd",
                                               f"process: {os.path.basename(binary)}",
                                               TESTD_ROUTES))
        else:
            cfg = service_config("testd", port, TESTD_ROUTES)
        a = ctx.agent(cfg + "slos:\n" + AVAIL_SLO.format(name="avail", service="testd"))
        before = h.kernel_counters()
        loop = ConnectLoop(port)
        try:
            time.sleep(1.0)
            served_before = sum(loop.statuses.values())
            t.stop()                    # SIGTERM: exits at once, listener closed
            time.sleep(1.0)
            refused_down = loop.refused
            ctx.testd(port=port, binary=binary, name="testd-2")
            time.sleep(1.0)
        finally:
            loop.stop()
        if not served_before or not refused_down or \
                sum(loop.statuses.values()) <= served_before:
            raise HarnessError(f"client: {served_before} served before the stop, "
                               f"{refused_down} refused while down, "
                               f"{sum(loop.statuses.values())} served in all: no real restart")
        if set(loop.statuses) != {200}:
            raise HarnessError(f"client got {dict(loop.statuses)} (server problem)")
        served = loop.statuses[200]
        m = wait_counts(a, "testd", served,
                        extra=lambda mm: transport_failures(mm, "testd").get("refused", 0)
                        >= loop.refused,
                        what=f"{served} requests and {loop.refused} refused connects")
        expect_counts(m, "testd", {("GET", R_STATUS, "200"): served})
        got = transport_failures(m, "testd")
        if got.get("refused", 0) != loop.refused:
            raise HarnessError(f"refused is {got.get('refused', 0):g}, the clients saw "
                               f"{loop.refused} ECONNREFUSED")
        # requests the stopping server had read and not answered, or never
        # read (in its accept queue, or sent as its socket went away)
        cut = got.get("connection_reset", 0) + got.get("connection_closed", 0)
        if set(got) - {"refused", "connection_reset", "connection_closed"} or \
                cut != loop.no_response:
            raise HarnessError(f"transport failures {got}; the clients saw "
                               f"{loop.no_response} connections end with no response")
        # the availability SLO: every answered request good, every failure bad
        expect_slo_events(m, "testd", {("avail", "", "good"): served,
                                       ("avail", "", "bad"): loop.refused + cut})
        expect_retransmits_signal(m, "testd", before["Tcp:RetransSegs"])
        note(f"refused {loop.refused} (kernel and clients), served {served}, cut {cut} "
             f"of {loop.no_response} unanswered; SLO avail {served} good, "
             f"{loop.refused + cut} bad")
        check_common(m)
        expect_untracked(a)
    return run


test("refused_restart")(refused_restart_test(False))
test("refused_restart_by_process")(refused_restart_test(True))


def overflow_round(port, backlog, conns, close_listener_first_sweep):
    """A listener of ours with listen(backlog) that never accepts; conns
    nonblocking connects. The first backlog + 1 complete (a full accept
    queue is sk_ack_backlog > backlog); every later SYN is dropped. The
    clients that did not connect within 0.3 s are closed before their SYN
    is sent again (after 1 s), so each of them is exactly one drop.
    Returns (clients not connected, ListenDrops delta, ListenOverflows
    delta)."""
    before = h.kernel_counters()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(backlog)
    clients = []
    try:
        t0 = time.monotonic()
        for _ in range(conns):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setblocking(False)
            clients.append(c)
            rc = c.connect_ex(("127.0.0.1", port))
            if rc not in (0, errno.EINPROGRESS):
                raise HarnessError(f"connect: {os.strerror(rc)}")
        time.sleep(0.3)
        _, done, _ = select.select([], clients, [], 0)
        pending = [c for c in clients if c not in done]
        for c in pending:
            c.close()
        if time.monotonic() - t0 >= 0.9:
            raise HarnessError("connects took too long: SYNs may have been sent again")
        after = h.kernel_counters()
    finally:
        for c in clients:
            c.close()
        if close_listener_first_sweep:
            ls.close()              # before the agent's next sweep: counted at close
    if len(done) != backlog + 1:
        raise HarnessError(f"{len(done)} of {conns} connects completed, expected "
                           f"{backlog + 1} with listen({backlog})")
    return (len(pending), after["TcpExt:ListenDrops"] - before["TcpExt:ListenDrops"],
            after["TcpExt:ListenOverflows"] - before["TcpExt:ListenOverflows"]), ls


def saw_no_answer(c):
    """The client side of a connection whose request the server never
    read: a reset (or end of stream), never a response."""
    c.settimeout(5.0)
    try:
        data = c.recv(4096)
    except ConnectionResetError:
        return True
    return data == b""


@test("unread_requests")
def t_unread_requests(ctx):
    """Requests the service never read are failed requests (connection_reset,
    no endpoint): 1. in the accept queue of a listener that closes, sent
    or about to be; 2.
    accepted, then closed unread; 3. sent on a keep-alive connection the
    server had just closed (the reset answers the data), once however many
    segments it sent; but not 4. the rest of a body the server answered
    early (413) and stopped reading."""
    port = h.free_port()
    a = ctx.agent(service_config("unread", port) + "slos:\n" +
                  AVAIL_SLO.format(name="avail", service="unread"))
    req = h.build_request("GET", "/x")
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    def listener(backlog=8):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", port))
        ls.listen(backlog)
        return ls

    unanswered = served = 0
    # 1. never accepted; the listener closes (2 clients have not sent yet)
    ls = listener()
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(6)]
    for c in clients[:4]:
        c.sendall(req)
    time.sleep(0.2)
    ls.close()
    unanswered += sum(saw_no_answer(c) for c in clients)
    for c in clients:
        c.close()
    # 2. accepted, closed with the request unread
    ls = listener()
    for _ in range(3):
        c = socket.create_connection(("127.0.0.1", port))
        s_, _ = ls.accept()
        c.sendall(req)
        time.sleep(0.1)
        s_.close()
        unanswered += saw_no_answer(c)
        c.close()
    # 3. one answered request, then the server closes; the next one is reset
    for _ in range(2):
        c = socket.create_connection(("127.0.0.1", port))
        s_, _ = ls.accept()
        c.sendall(req)
        s_.recv(4096)
        s_.sendall(answer)
        s_.close()
        if c.recv(4096) != answer:
            raise HarnessError("client: no answer to the first request")
        served += 1
        time.sleep(0.1)             # the server's FIN is in
        c.sendall(req)
        unanswered += saw_no_answer(c)
        c.close()
    # 4. not a lost request: answered (413) in the middle of its body, then
    # closed unread; the rest of the body the client sends gets resets
    c = socket.create_connection(("127.0.0.1", port))
    s_, _ = ls.accept()
    c.sendall(h.build_request("POST", "/x", content_length=100000) + b"x" * 1000)
    time.sleep(0.1)
    s_.recv(65536)
    s_.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n")
    s_.close()
    if not c.recv(4096).startswith(b"HTTP/1.1 413"):
        raise HarnessError("client: no 413")
    try:
        for _ in range(5):
            c.sendall(b"x" * 4000)
            time.sleep(0.02)
    except (ConnectionResetError, BrokenPipeError):
        pass
    c.close()
    ls.close()
    if unanswered != 11:
        raise HarnessError(f"client: {unanswered} of 11 requests unanswered")
    m = a.wait_metrics(lambda mm: sum(transport_failures(mm, "unread").values()) >= 11 and
                       counts_total(mm, "unread") >= served + 1,
                       what="11 unread requests and 3 answered ones")
    expect_transport(m, "unread", {"connection_reset": 11})
    expect_counts(m, "unread", {("GET", "/x", "200"): served, ("POST", "/x", "413"): 1})
    expect_slo_events(m, "unread", {("avail", "", "good"): served + 1, ("avail", "", "bad"): 11})
    check_common(m)


@test("auto_services")
def t_auto_services(ctx):
    """No services configured: every listener is tracked, one service per
    process name, whether it listened before the agent started or after,
    and from the first connection on (each accepted connection's LISTEN ->
    SYN_RECV is not its listener closing)."""
    names, servers = [], []
    for i in range(2):
        # names of our own: other slotap-testd processes of the node are not ours
        names.append(f"atestd{i}{os.getpid() % 100000}")
        shutil.copy(h.TESTD_BIN, os.path.join(ctx.tmp, names[-1]))
    servers.append(ctx.testd(binary=os.path.join(ctx.tmp, names[0]), name="testd-before"))
    a = ctx.agent(f"latency_thresholds: {THRESHOLDS}\n")
    servers.append(ctx.testd(binary=os.path.join(ctx.tmp, names[1]), name="testd-after"))
    for t in servers:
        for _ in range(3):          # a new connection each: every one must count
            expect_client(client_statuses(h.keepalive_requests(t.port, ["/status/200"] * 4)),
                          {200: 4})
    for name in names:
        m = wait_counts(a, name, 12)
        expect_counts(m, name, {("GET", "/status/{id}", "200"): 12})
    # other listeners of the node are tracked too: only our services are checked
    problems = m.check_histograms(h.HIST)
    if problems:
        raise HarnessError("histogram: " + "; ".join(problems[:3]))


# ------------------------------------------------------------- identity --
# A service is matched by what a process cannot say about itself: its
# executable (name or file) and its cgroup, never its comm.

def copy_testd(ctx, path):
    """A copy of slotap-testd at path (a file of its own: its own inode)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    shutil.copy(h.TESTD_BIN, path)
    return path


def served(port, n, path="/status/200"):
    """n requests on a new keep-alive connection, all answered 200."""
    expect_client(client_statuses(h.keepalive_requests(port, [path] * n)), {200: n})


def spoof_plan(n_conns, per_conn, status):
    return [[(h.build_request("GET", "/status/200"), status)] * per_conn
            for _ in range(n_conns)]


def proc_comm(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


def spoofer(ctx, victim, plan):
    """A server started from an executable of its own (spyNNN) that calls
    itself victim (prctl(PR_SET_NAME)) and answers plan; its exe name."""
    spy = f"spy{os.getpid() % 100000}"
    s = PlanServer(ctx, plan, binary=python_as(ctx, spy), comm=victim, name="spoofer")
    if proc_comm(s.pid) != victim:
        raise HarnessError(f"the spoofer's comm is {proc_comm(s.pid)!r}, not {victim!r}")
    drive_plan(s.port, plan)
    s.finish()
    return spy


@test("spoofed_process_name")
def t_spoofed_process_name(ctx):
    """A service matched by process name: a process of another executable
    that renames itself to that name (prctl(PR_SET_NAME), as any local
    user may) and answers 503s is not counted as the service; the real
    one is."""
    victim = f"vtestd{os.getpid() % 100000}"
    real = ctx.testd(binary=copy_testd(ctx, os.path.join(ctx.tmp, victim)), name="victim")
    a = ctx.agent(services_config(service_item("victim", f"process: {victim}",
                                               TESTD_ROUTES)))
    spoofer(ctx, victim, spoof_plan(3, 5, 503))
    served(real.port, 4)
    m = wait_counts(a, "victim", 4)
    expect_counts(m, "victim", {("GET", R_STATUS, "200"): 4})
    note(f"15 503s of a process calling itself {victim} not counted; 4 of the real one")
    check_common(m)
    expect_untracked(a)


@test("spoofed_process_name_discovered")
def t_spoofed_process_name_discovered(ctx):
    """No services: a process that calls itself by another's name is a
    service of its own executable's name, and the other stays as it was."""
    victim = f"vtestd{os.getpid() % 100000}"
    real = ctx.testd(binary=copy_testd(ctx, os.path.join(ctx.tmp, victim)), name="victim")
    a = ctx.agent(f"latency_thresholds: {THRESHOLDS}\n")
    spy = spoofer(ctx, victim, spoof_plan(3, 5, 503))
    served(real.port, 4)
    m = wait_counts(a, spy, 15, extra=lambda mm: counts_total(mm, victim) >= 4)
    expect_counts(m, victim, {("GET", "/status/{id}", "200"): 4})
    expect_counts(m, spy, {("GET", "/status/{id}", "503"): 15})
    note(f"{spy} (calling itself {victim}): 15 503s; {victim}: 4 200s")
    problems = m.check_histograms(h.HIST)
    if problems:
        raise HarnessError("histogram: " + "; ".join(problems[:3]))


@test("process_path_identity")
def t_process_path_identity(ctx):
    """match: process: /abs/path is the file at that path: a process
    started from it before the agent and one after are counted from their
    first connection; a copy of it at another path (same name) is not; the
    file replaced at the path (an upgrade: a new inode) is matched after a
    refresh, and the process still running the old file stays matched."""
    path = copy_testd(ctx, os.path.join(ctx.tmp, "bin", "ptestd"))
    other = copy_testd(ctx, os.path.join(ctx.tmp, "elsewhere", "ptestd"))
    before = ctx.testd(binary=path, name="before")
    a = ctx.agent(services_config(service_item("shop", f"process: {path}", TESTD_ROUTES)))
    after = ctx.testd(binary=path, name="after")
    copy = ctx.testd(binary=other, name="copy")
    for t in (before, after, copy):
        served(t.port, 3)
    m = wait_counts(a, "shop", 6)
    expect_counts(m, "shop", {("GET", R_STATUS, "200"): 6})
    # an upgrade: a new file renamed over the path
    copy_testd(ctx, path + ".new")
    os.rename(path + ".new", path)
    time.sleep(1.5)                 # the agent looks at the path every second
    upgraded = ctx.testd(binary=path, name="upgraded")
    for t in (upgraded, before, copy):
        served(t.port, 2)
    m = wait_counts(a, "shop", 10)
    expect_counts(m, "shop", {("GET", R_STATUS, "200"): 10})
    note("before, after: 3 each; a copy elsewhere: none; after the upgrade, the new "
         "file's process and the old one's: 2 each")
    check_common(m)
    expect_untracked(a)


def cgroup2_mount():
    """Where cgroup v2 is mounted (the first cgroup2 in mountinfo), or None."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[:1] == ["cgroup2"] and left.split()[3] == "/":
                return left.split()[4].replace("\\040", " ")
    return None


def own_cgroup():
    with open("/proc/self/cgroup") as f:
        for line in f:
            if line.startswith("0::"):
                return line[3:].strip()
    raise HarnessError("no cgroup v2 line in /proc/self/cgroup")


def move_to_cgroup(mount, cgroup, pid):
    with open(os.path.join(mount, cgroup.lstrip("/"), "cgroup.procs"), "w") as f:
        f.write(str(pid))


@test("cgroup_match")
def t_cgroup_match(ctx):
    """match: cgroup: a server moved into the configured cgroup, and one
    into a cgroup below it, are counted as that service; the same binary
    outside is not; a configured cgroup made after the agent started is
    matched once it exists."""
    mount = cgroup2_mount()
    if not mount:
        raise HarnessError("no cgroup v2 hierarchy mounted (cgroup2 in /proc/self/mountinfo)")
    base = f"/slotap-it-{os.getpid()}"
    home = own_cgroup()
    made = []

    def cleanup():
        # servers are stopped by now (stops run last first): move back what is left
        for cg in reversed(made):
            d = os.path.join(mount, cg.lstrip("/"))
            try:
                with open(os.path.join(d, "cgroup.procs")) as f:
                    for pid in f.read().split():
                        move_to_cgroup(mount, home, pid)
            except OSError:
                pass
            os.rmdir(d)
    ctx.stops.append(("cgroups " + base, cleanup))

    def mkcg(cg):
        os.mkdir(os.path.join(mount, cg.lstrip("/")))
        made.append(cg)

    mkcg(base)
    mkcg(base + "/app")
    mkcg(base + "/app/worker")
    a = ctx.agent(services_config(service_item("app", f"cgroup: {base}/app", TESTD_ROUTES),
                                  service_item("late", f"cgroup: {base}/late",
                                               TESTD_ROUTES)))
    # a cgroup not there yet: a warning, not an error
    if f"warning: cgroup {base}/late: " not in a.proc.stderr():
        raise HarnessError(f"no warning about the missing cgroup {base}/late: "
                           f"{a.proc.tail()}")
    inside, below, outside = (ctx.testd(name=n) for n in ("inside", "below", "outside"))
    move_to_cgroup(mount, base + "/app", inside.pid)
    move_to_cgroup(mount, base + "/app/worker", below.pid)
    for t in (inside, below, outside):
        served(t.port, 3)
    m = wait_counts(a, "app", 6)
    expect_counts(m, "app", {("GET", R_STATUS, "200"): 6})
    mkcg(base + "/late")
    time.sleep(1.5)                 # the agent looks at the cgroups every second
    late = ctx.testd(name="late")
    move_to_cgroup(mount, base + "/late", late.pid)
    served(late.port, 2)
    served(outside.port, 2)
    m = wait_counts(a, "late", 2)
    expect_counts(m, "late", {("GET", R_STATUS, "200"): 2})
    expect_counts(m, "app", {("GET", R_STATUS, "200"): 6})
    note(f"{base}/app: 3 + 3 (in it, below it), outside: none, {base}/late once made: 2")
    check_common(m)
    expect_untracked(a)


@test("listen_overflow")
def t_listen_overflow(ctx):
    """A tiny backlog never accepted: listen_overflow equals the SYNs the
    kernel dropped (TcpExt ListenDrops, ListenOverflows) and the clients
    that could not connect, counted by the once-a-second listener sweep
    (round 1) and, for a listener that closes first, at its close (round 2)."""
    port = h.free_port()
    a = ctx.agent(service_config("backlog", port) + "slos:\n" +
                  AVAIL_SLO.format(name="avail", service="backlog"))
    want = 0
    for rnd, (backlog, conns, close_first) in enumerate(((0, 12, False), (1, 9, True)), 1):
        (pending, drops, overflows), ls = overflow_round(port, backlog, conns, close_first)
        try:
            if drops != pending or overflows != pending:
                raise HarnessError(f"round {rnd}: {pending} clients not connected, kernel "
                                   f"ListenDrops +{drops}, ListenOverflows +{overflows} "
                                   f"(another process dropping SYNs?)")
            want += pending
            m = a.wait_metrics(
                lambda mm: transport_failures(mm, "backlog").get("listen_overflow", 0) >= want,
                settle=1.2, what=f"round {rnd}: listen_overflow {want}")
        finally:
            ls.close()
        expect_transport(m, "backlog", {"listen_overflow": want})
        note(f"round {rnd}: listen({backlog}), {conns} connects, {pending} not connected, "
             f"ListenDrops +{drops}, ListenOverflows +{overflows}, listen_overflow {want}")
    m = a.wait_metrics(lambda mm: True, settle=1.2)
    expect_transport(m, "backlog", {"listen_overflow": want})
    expect_slo_events(m, "backlog", {("avail", "", "good"): 0, ("avail", "", "bad"): want})
    check_common(m)


@test("outbound_client")
def t_outbound_client(ctx):
    """slotap-client, matched by process name as service caller, against
    testd (service backend): its requests, connects and failures per
    destination equal what it printed; then a port nobody listens on."""
    comm = os.path.basename(h.CLIENT_BIN)
    if len(comm) > 15:
        raise HarnessError(f"{comm} is longer than the 15 bytes of a kernel comm")
    t = ctx.testd()
    a = ctx.agent(caller_config(t.port, comm))
    port = str(t.port)

    # 1. answered requests, two keep-alive connections
    plan = ["/status/200", "/status/503", "/delay/20ms/status/201"]
    rep = h.run_client(ctx.tmp, t.port, plan, conns=2, repeat=10)
    expect_client(rep["responses"], {"200": 10, "503": 10, "201": 10})
    if rep["connects"] != 2 or any(rep["no_response"].values()) or rep["connect_failures"]:
        raise HarnessError(f"client: {rep} (server problem, not the agent)")
    want = {(port, "GET", s): n for s, n in rep["responses"].items()}
    m = a.wait_metrics(lambda mm: sum(client_counts(mm, "caller").values()) >= 30 and
                       counts_total(mm, "backend") >= 30,
                       what="30 client requests of caller and 30 requests of backend")
    expect_client_counts(m, "caller", want)
    expect_labelled(m, h.CONNECT_HIST + "_count", "server_port", {port: rep["connects"]},
                    service_name="caller", server_address="127.0.0.1")
    slow = dict(service_name="caller", server_port=port, http_response_status_code="201")
    for le, n in ((0.01, 0), (0.1, 10), (math.inf, 10)):
        got = client_bucket(m, le, **slow)
        if got != n:
            raise HarnessError(f"client bucket le={le:g} of the 20 ms requests is {got:g}, "
                               f"expected {n}")
    expect_counts(m, "backend", {("GET", R_STATUS, "200"): 10, ("GET", R_STATUS, "503"): 10,
                                 ("GET", R_DELAY, "201"): 10})
    expect_labelled(m, CLIENT_FAILURES, "reason", {}, service_name="caller")
    expect_labelled(m, CONNECT_FAILURES, "reason", {}, service_name="caller")

    # 2. requests the server resets or closes: failed on both sides
    rep2 = h.run_client(ctx.tmp, t.port, ["/status/200", "/reset", "/close"], repeat=3)
    expect_client(rep2["responses"], {"200": 3})
    nr = rep2["no_response"]
    if (nr["reset"], nr["closed"]) != (3, 3) or rep2["connect_failures"]:
        raise HarnessError(f"client: {rep2} (server problem, not the agent)")
    connects = rep["connects"] + rep2["connects"]
    want[(port, "GET", "200")] += rep2["responses"]["200"]
    m = a.wait_metrics(lambda mm: sum(labelled(mm, CLIENT_FAILURES, "reason",
                                               service_name="caller").values()) >= 6 and
                       sum(transport_failures(mm, "backend").values()) >= 6,
                       what="6 client request failures of caller and 6 of backend")
    expect_client_counts(m, "caller", want)
    expect_labelled(m, CLIENT_FAILURES, "reason",
                    {"connection_reset": nr["reset"], "connection_closed": nr["closed"]},
                    service_name="caller", server_address="127.0.0.1", server_port=port)
    expect_transport(m, "backend", {"connection_reset": 3, "connection_closed": 3})
    expect_labelled(m, h.CONNECT_HIST + "_count", "server_port", {port: connects},
                    service_name="caller")

    # 3. nobody listens: every connect refused, nothing sent
    down = h.free_port()
    rep3 = h.run_client(ctx.tmp, down, ["/status/200"], repeat=4)
    if rep3["connects"] or rep3["responses"] or set(rep3["connect_failures"]) != {"ECONNREFUSED"}:
        raise HarnessError(f"client to a closed port: {rep3}")
    refused = rep3["connect_failures"]["ECONNREFUSED"]
    m = a.wait_metrics(lambda mm: sum(labelled(mm, CONNECT_FAILURES, "reason",
                                               service_name="caller").values()) >= refused,
                       what=f"{refused} refused connects of caller")
    expect_labelled(m, CONNECT_FAILURES, "reason", {"refused": refused},
                    service_name="caller", server_address="127.0.0.1", server_port=str(down))
    expect_labelled(m, CONNECT_FAILURES, "server_port", {str(down): refused},
                    service_name="caller")
    expect_client_counts(m, "caller", want)
    expect_labelled(m, h.CONNECT_HIST + "_count", "server_port", {port: connects},
                    service_name="caller")
    check_common(m)
    expect_untracked(a)


@test("outbound_curl")
def t_outbound_curl(ctx):
    """curl, matched by process name: one request with its status, then a
    refused connect."""
    t = ctx.testd()
    a = ctx.agent(caller_config(t.port, "curl", caller="curl"))
    rc, code = h.run_curl(ctx.tmp, f"http://127.0.0.1:{t.port}/status/503")
    if (rc, code) != (0, 503):
        raise HarnessError(f"curl: exit {rc}, status {code}, expected 0 and 503")
    down = h.free_port()
    rc, code = h.run_curl(ctx.tmp, f"http://127.0.0.1:{down}/")
    if rc != 7:     # CURLE_COULDNT_CONNECT
        raise HarnessError(f"curl to a closed port: exit {rc}, expected 7")
    m = a.wait_metrics(lambda mm: client_counts(mm, "curl") and
                       labelled(mm, CONNECT_FAILURES, "reason", service_name="curl"),
                       what="curl's request and refused connect")
    expect_client_counts(m, "curl", {(str(t.port), "GET", "503"): 1})
    expect_labelled(m, h.CONNECT_HIST + "_count", "server_port", {str(t.port): 1},
                    service_name="curl")
    expect_labelled(m, CONNECT_FAILURES, "reason", {"refused": 1},
                    service_name="curl", server_port=str(down))
    expect_labelled(m, CONNECT_FAILURES, "server_port", {str(down): 1}, service_name="curl")
    expect_labelled(m, CLIENT_FAILURES, "reason", {}, service_name="curl")
    expect_counts(m, "backend", {("GET", R_STATUS, "503"): 1})
    check_common(m)
    expect_untracked(a)


@test("nginx_proxy")
def t_nginx_proxy(ctx):
    """nginx (service front) proxies /api/ to testd (service backend) over
    one keep-alive upstream connection, and /down/ to a port nobody
    listens on: front's client requests per status equal what the user
    got, and what backend served; each /down/ request is a refused connect."""
    t = ctx.testd()
    down = h.free_port()
    n = ctx.nginx(proxy={"/api": t.port, "/down": down})
    a = ctx.agent(services_config(
        service_item("front", f"port: {n.port}",
                     ["/api/status/{code}", "/api/delay/{delay}/status/{code}"]),
        service_item("backend", f"port: {t.port}", TESTD_ROUTES)))
    plan = (["/status/200"] * 20 + ["/status/503"] * 5 + ["/delay/20ms/status/201"] * 5)
    random.Random(4).shuffle(plan)
    plan = ["/api" + p for p in plan] + ["/down/x"] * 2
    rs = h.keepalive_requests(n.port, plan)
    got = collections.Counter((p.split("/")[2] if p.startswith("/api") else "down", r.status)
                              for p, r in zip(plan, rs))
    expect_client(got, {("status", 200): 20, ("status", 503): 5, ("delay", 201): 5,
                        ("down", 502): 2})
    m = a.wait_metrics(lambda mm: counts_total(mm, "front") >= len(plan) and
                       counts_total(mm, "backend") >= 30 and
                       sum(client_counts(mm, "front").values()) >= 30 and
                       labelled(mm, CONNECT_FAILURES, "reason", service_name="front"),
                       what="front's requests, its client requests and backend's requests")
    port = str(t.port)
    expect_client_counts(m, "front", {(port, "GET", "200"): 20, (port, "GET", "503"): 5,
                                      (port, "GET", "201"): 5})
    expect_counts(m, "backend", {("GET", R_STATUS, "200"): 20, ("GET", R_STATUS, "503"): 5,
                                 ("GET", R_DELAY, "201"): 5})
    expect_counts(m, "front", {("GET", "/api/status/{code}", "200"): 20,
                               ("GET", "/api/status/{code}", "503"): 5,
                               ("GET", "/api/delay/{delay}/status/{code}", "201"): 5,
                               ("GET", "/down/x", "502"): 2})
    expect_labelled(m, h.CONNECT_HIST + "_count", "server_port", {port: 1},
                    service_name="front", server_address="127.0.0.1")
    expect_labelled(m, CONNECT_FAILURES, "reason", {"refused": 2},
                    service_name="front", server_port=str(down))
    expect_labelled(m, CLIENT_FAILURES, "reason", {}, service_name="front")
    expect_transport(m, "front", {})
    expect_transport(m, "backend", {})
    check_common(m)


@test("dependency_slos")
def t_dependency_slos(ctx):
    """nginx (front) proxies /api/ to testd and /down/ to a port nobody
    listens on, both named dependencies: their SLOs count front's calls
    exactly, and front's bad requests are blamed on the dependency whose
    call failed while they were served."""
    t = ctx.testd()
    down = h.free_port()
    n = ctx.nginx(proxy={"/api": t.port, "/down": down})
    a = ctx.agent("services:\n"
                  f"  - name: front\n    match: {{port: {n.port}}}\n"
                  "    routes: [\"/api/status/{code}\"]\n"
                  "dependencies:\n"
                  f"  - name: backend\n    address: 127.0.0.1\n    port: {t.port}\n"
                  f"  - name: down\n    port: {down}\n"
                  "slos:\n" + AVAIL_SLO.format(name="front-avail", service="front") +
                  "  - name: backend-calls\n    dependency: backend\n    sli: availability\n"
                  "    objective: 99\n    window: 28d\n"
                  "  - name: down-calls\n    dependency: down\n    sli: availability\n"
                  "    objective: 99\n    window: 28d\n"
                  f"latency_thresholds: {THRESHOLDS}\n")
    plan = ["/api/status/200"] * 20 + ["/api/status/503"] * 5 + ["/down/x"] * 2
    random.Random(7).shuffle(plan)
    rs = h.keepalive_requests(n.port, plan)
    expect_client(client_statuses(rs), {200: 20, 503: 5, 502: 2})
    m = a.wait_metrics(lambda mm: counts_total(mm, "front") >= len(plan) and
                       mm.total("slotap_slo_events_total", slo="down-calls") >= 2,
                       what="front's requests and its calls to down")
    expect_slo_events(m, "front", {("front-avail", "", "good"): 20,
                                   ("front-avail", "", "bad"): 7})
    expect_slo_events(m, "backend", {("backend-calls", "", "good"): 20,
                                     ("backend-calls", "", "bad"): 5})
    expect_slo_events(m, "down", {("down-calls", "", "good"): 0,
                                  ("down-calls", "", "bad"): 2})
    expect_labelled(m, "slotap_slo_bad_events_blamed_total", "dependency",
                    {"backend": 5, "down": 2}, slo="front-avail", service="front")
    # slotap status names the dependency that spent the budget
    out = subprocess.run([h.AGENT_BIN, "status", "--web.listen-address",
                          f"127.0.0.1:{a.port}"], capture_output=True, text=True, timeout=10)
    if out.returncode != 0 or not re.search(r"front-avail\s+front\s+\(all\)\s+backend\s+5\s+71\.43%",
                                            out.stdout):
        raise HarnessError(f"slotap status does not blame backend for 5 of 7: {out.stdout}")
    check_common(m)


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


# Realistic secrets of each family, and where a client puts them: none may
# reach /metrics, in any mode. Each path fits the 64 bytes the kernel keeps,
# except the last two, whose secret is cut (the cut segment is dropped).
SECRET_PATHS = [
    ("/reset/c4x9ts-8f14e45fceea167a5a36dedd4bea2543/confirm",
     "c4x9ts-8f14e45fceea167a5a36dedd4bea2543"),                      # Django
    ("/password/edit/yfXr7s9QpLxM2b_HqZ3v", "yfXr7s9QpLxM2b_HqZ3v"),  # Devise
    ("/users/alice.smith@example.com/profile", "alice.smith@example.com"),
    ("/users/bob%40example.org/profile", "bob%40example.org"),
    ("/api/keys/sk_live_51HxQ2eLkR8vT3nY9wZ4aB7c/usage",
     "sk_live_51HxQ2eLkR8vT3nY9wZ4aB7c"),                            # Stripe
    ("/hooks/ghp_R8vT3nY9wZ4aB7cD2eF5gH6jK1mN0pQ3sU", "ghp_R8vT3nY9wZ4aB7cD2eF5gH6jK1mN0pQ3sU"),
    ("/aws/AKIAIOSFODNN7EXAMPLE/objects", "AKIAIOSFODNN7EXAMPLE"),
    ("/slack/xoxb-263594206564-2343594206574/events", "xoxb-263594206564-2343594206574"),
    ("/auth/eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9/callback",
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"),                        # a JWT's header
    ("/session/jsessionid=8F14E45FCEEA167A5A36DEDD/cart",
     "8F14E45FCEEA167A5A36DEDD"),
    ("/s/ahtbjp55ygsv2ymqkj5nsx45/home", "ahtbjp55ygsv2ymqkj5nsx45"),   # ASP.NET
    ("/magic/Kq8vZ3xN1wR5tY7uI9oP2aS4dF6gH8jL/login", "Kq8vZ3xN1wR5tY7uI9oP2aS4dF6gH8jL"),
    ("/dl/dGhpcyBpcyBhIHNlY3JldCB0b2tlbg==/file", "dGhpcyBpcyBhIHNlY3JldCB0b2tlbg=="),
    ("/otp/JBSWY3DPEHPK3PXP/verify", "JBSWY3DPEHPK3PXP"),
    ("/items?token=hunter2hunter2-secret", "hunter2hunter2-secret"),  # a query: never kept
    ("/verify/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.sig",
     "eyJhbGciOiJIUzI1NiJ9"),
    ("/a/b/reset-token/QWxhZGRpbjpvcGVuIHNlc2FtZQQWxhZGRpbjpvcGVuIHNlc2FtZQ",
     "QWxhZGRpbjpvcGVuIHNlc2FtZQ"),
]


def expect_no_secrets(m):
    """No secret, nor its first 10 characters, anywhere in the exposition."""
    for _, secret in SECRET_PATHS:
        for s in {secret, secret[:10]}:
            if s in m.text:
                line = next(x for x in m.text.splitlines() if s in x)
                raise HarnessError(f"{s!r} is in /metrics: {line}")


@test("route_secrets")
def t_route_secrets(ctx):
    """Secrets in paths never become labels: folded in the default mode,
    one __other__ route in strict mode."""
    t = ctx.testd()
    plan = [p for p, _ in SECRET_PATHS] + ["/api/v1/users", "/static/app.min.js",
                                           "/blog/how-to-write-c", "/status/200"]
    a = ctx.agent(service_config("testd", t.port))
    rs = h.keepalive_requests(t.port, plan)
    expect_client(client_statuses(rs), {200: 1, 404: len(plan) - 1})
    m = wait_counts(a, "testd", len(plan))
    expect_no_secrets(m)
    got = {k[1] for k, v in m.request_counts(service_name="testd").items() if v}
    # ordinary routes are kept as they are, the secrets' neighbours too
    for route in ("/api/v1/users", "/static/app.min.js", "/blog/how-to-write-c",
                  "/reset/{id}/confirm", "/users/{id}/profile", "/items",
                  "/a/b/reset-token/{truncated}"):
        if route not in got:
            raise HarnessError(f"no route {route} among {sorted(got)}")
    check_common(m)
    ctx.close()

    t = ctx.testd()
    a = ctx.agent(services_config(service_item("testd", f"port: {t.port}", ["/status/{code}"])) +
                  "route_mode: strict\n")
    rs = h.keepalive_requests(t.port, plan)
    expect_client(client_statuses(rs), {200: 1, 404: len(plan) - 1})
    m = wait_counts(a, "testd", len(plan))
    expect_no_secrets(m)
    expect_counts(m, "testd", {("GET", "/status/{code}", "200"): 1,
                               ("GET", "__other__", "404"): len(plan) - 1})
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
    expect_slo_events(m, "testd", {("avail", "", "good"): 23, ("avail", "", "bad"): 5,
                                   ("fast-status", "GET /status/{code}", "good"): 25,
                                   ("fast-status", "GET /status/{code}", "bad"): 0})
    objective = m.value("slotap_slo_objective_ratio", slo="avail", service="testd", endpoint="")
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


@test("slo_low_traffic")
def t_slo_low_traffic(ctx):
    """min_events: three failing requests burn at 100x a 99% budget, yet the
    SLO has insufficient data (no budget, no alert, "no data" in slotap
    status) until its window holds 20 events; then it alerts."""
    t = ctx.testd()
    cfg = service_config("testd", t.port, ["/status/{code}"])
    cfg += ("min_events: 20\nslos:\n"
            "  - name: quiet\n    service: testd\n    sli: availability\n"
            "    objective: 99\n    window: 28d\n"
            "    runbook_url: https://runbooks.example/quiet\n")
    a = ctx.agent(cfg)
    h.keepalive_requests(t.port, ["/status/500"] * 3)
    sel = {"slo": "quiet", "service": "testd", "endpoint": ""}
    m = a.wait_metrics(lambda m: m.value("slotap_slo_events_total", result="bad", **sel) == 3,
                       what="3 bad events")
    if m.value("slotap_slo_insufficient_data", **sel) != 1:
        raise HarnessError("3 events of 20: slotap_slo_insufficient_data is not 1")
    if not math.isnan(m.value("slotap_slo_error_budget_remaining_ratio", **sel)):
        raise HarnessError("3 events of 20: the budget is not NaN")
    if m.value("slotap_slo_burn_rate", window="1h", **sel) != 100:
        raise HarnessError("3 bad of 3 at 99%: the 1h burn rate is not 100")
    if any(m.value("slotap_slo_alert_active", severity="page", condition=c, **sel) != 0
           for c in ("burn_rate_1h_5m_14.4", "budget_exhausted")):
        raise HarnessError("an SLO with insufficient data alerts")
    out = subprocess.run([h.AGENT_BIN, "status", "--web.listen-address", f"127.0.0.1:{a.port}"],
                         capture_output=True, text=True, timeout=10)
    row = next((l for l in out.stdout.splitlines() if l.strip().startswith("quiet")), "")
    if out.returncode != 0 or "no data" not in row:
        raise HarnessError(f"slotap status: quiet's row {row!r}, want 'no data'")
    time.sleep(11)      # alerts are evaluated every 10 s: none must start meanwhile
    if "SLO alert started" in a.proc.stderr():
        raise HarnessError("an alert started below min_events")
    h.keepalive_requests(t.port, ["/status/500"] * 17)
    m = a.wait_metrics(lambda m: m.value("slotap_slo_insufficient_data", **sel) == 0,
                       what="20 events")
    if m.value("slotap_slo_alert_active", severity="page", condition="burn_rate_1h_5m_14.4",
               **sel) != 1:
        raise HarnessError("20 bad events: the page does not fire")
    line = 'SLO alert started: slo="quiet" service="testd" endpoint="" severity=page'
    h.wait_for(lambda: line in a.proc.stderr(), 15.0, what="the alert log line")
    if 'runbook_url="https://runbooks.example/quiet"' not in a.proc.stderr():
        raise HarnessError("the alert log line has no runbook_url")
    check_common(m)


@test("slo_reload")
def t_slo_reload(ctx):
    """SIGHUP applies a changed config without losing counts; a bad one is
    refused and the running one kept."""
    t = ctx.testd()
    base = service_config("testd", t.port, TESTD_ROUTES)
    a = ctx.agent(base + "slos:\n" + AVAIL_SLO.format(name="avail", service="testd"))

    def sighup_and_wait(mark, count):
        os.kill(a.pid, signal.SIGHUP)
        h.wait_for(lambda: a.proc.stderr().count(mark) >= count, 5.0, proc=a.proc,
                   what=f"'{mark}' #{count} in the agent's log")

    rs = h.keepalive_requests(t.port, ["/status/200"] * 8 + ["/status/503"] * 2)
    expect_client(client_statuses(rs), {200: 8, 503: 2})
    wait_counts(a, "testd", 10)
    # 1. a new latency SLO, with a threshold the histogram has no bound for
    a.config.write_text(base + "slos:\n" + AVAIL_SLO.format(name="avail", service="testd") +
                        "  - name: fast\n    service: testd\n    sli: latency\n"
                        "    threshold: 50ms\n    objective: 90\n    window: 1h\n")
    sighup_and_wait("slotap: reloaded", 1)
    rs = h.keepalive_requests(t.port, ["/status/200"] * 3 + ["/delay/80ms/status/200"])
    expect_client(client_statuses(rs), {200: 4})
    m = wait_counts(a, "testd", 14)
    expect_slo_events(m, "testd", {("avail", "", "good"): 12, ("avail", "", "bad"): 2,
                                   ("fast", "", "good"): 3, ("fast", "", "bad"): 1})
    if "latency_thresholds changed" not in a.proc.stderr():
        raise HarnessError("no warning that the histogram keeps its bucket bounds")
    if "loading the kernel programs anew" in a.proc.stderr():
        raise HarnessError("an SLO change reloaded the kernel programs")
    # 2. broken YAML, then a changed port: both refused, the SLOs go on counting
    good_config = a.config.read_text()
    a.config.write_text(good_config + "slos: [\n")
    sighup_and_wait("reload refused", 1)
    a.config.write_text(good_config.replace("service: testd", "service: nope", 1))
    sighup_and_wait("reload refused", 2)
    log = a.proc.stderr()
    if '"nope" is not one of the services' not in log:
        raise HarnessError(f"refusal does not say why: {log[-400:]}")
    rs = h.keepalive_requests(t.port, ["/status/500"])
    m = wait_counts(a, "testd", 15)
    expect_slo_events(m, "testd", {("avail", "", "good"): 12, ("avail", "", "bad"): 3,
                                   ("fast", "", "good"): 4})
    for result, n in (("success", 1), ("failure", 2)):
        got = m.value("slotap_config_reloads_total", result=result)
        if got != n:
            raise HarnessError(f"slotap_config_reloads_total{{result={result}}} is {got}, want {n}")
    if m.value("slotap_config_last_reload_successful") != 0:
        raise HarnessError("slotap_config_last_reload_successful is not 0 after a refusal")
    # 3. the SLO removed: its series go, the other's counts stay
    a.config.write_text(good_config.split("  - name: fast")[0])
    sighup_and_wait("slotap: reloaded", 2)
    m = a.metrics()
    if m.value("slotap_slo_events_total", slo="fast", service="testd", endpoint="",
               result="good") is not None:
        raise HarnessError("the removed SLO is still exported")
    expect_slo_events(m, "testd", {("avail", "", "good"): 12, ("avail", "", "bad"): 3})
    check_common(m)
    expect_untracked(a)


@test("reload_services")
def t_reload_services(ctx):
    """SIGHUP with a service added: new kernel programs take over, the old
    ones are unloaded, and every request is counted once, also under load
    across the swap (a request in flight then is an unmatched response,
    counted as lost), on connections opened before it too."""
    t1, t2 = ctx.testd(name="testd-1"), ctx.testd(name="testd-2")
    one = services_config(service_item("one", f"port: {t1.port}", TESTD_ROUTES))
    two = services_config(service_item("one", f"port: {t1.port}", TESTD_ROUTES),
                          service_item("two", f"port: {t2.port}", TESTD_ROUTES))
    a = ctx.agent(one)
    old_progs = set(a.prog_ids)
    kept = h.RawHTTP(t1.port)               # a keep-alive connection across the swap
    try:
        for _ in range(4):
            if kept.request("GET", "/status/200").status != 200:
                raise HarnessError("client: no 200 before the reload")
        loop = ConnectLoop(t1.port)
        try:
            time.sleep(0.5)
            a.config.write_text(two)
            os.kill(a.pid, signal.SIGHUP)
            h.wait_for(lambda: "slotap: reloaded" in a.proc.stderr(), 10.0, proc=a.proc,
                       what="'reloaded' in the agent's log")
            if "reload: services changed: loading the kernel programs anew" not in \
                    a.proc.stderr():
                raise HarnessError("the new service did not bring new kernel programs")
            time.sleep(0.5)
        finally:
            loop.stop()
        for _ in range(3):
            if kept.request("GET", "/status/200").status != 200:
                raise HarnessError("client: no 200 after the reload")
    finally:
        kept.close()
    if set(loop.statuses) - {200} or loop.refused or loop.no_response:
        raise HarnessError(f"client: {dict(loop.statuses)}, {loop.refused} refused, "
                           f"{loop.no_response} unanswered")
    rs = h.keepalive_requests(t2.port, ["/status/201"] * 6)
    expect_client(client_statuses(rs), {201: 6})
    served_one = loop.statuses[200] + 7
    m = wait_counts(a, "two", 6)

    def settled(mm):
        return counts_total(mm, "one") + mm.losses().get("unmatched_response", 0) >= served_one
    m = a.wait_metrics(settled, what=f"{served_one} requests of one, counted or lost")
    lost = m.losses()
    unmatched = lost.pop("unmatched_response", 0)
    counted = counts_total(m, "one")
    # each request once: by the old programs or the new; one in flight at
    # the hand-over is an unmatched response of the new ones, and lost
    if counted + unmatched != served_one or any(lost.values()):
        raise HarnessError(f"one: {counted:g} counted + {unmatched:g} unmatched, "
                           f"the clients got {served_one}; other losses {h.fmt_losses(lost)}")
    if unmatched > 4:               # a request or two in flight per client thread
        raise HarnessError(f"{unmatched:g} unmatched responses across one swap")
    expect_transport(m, "one", {})
    expect_counts(m, "two", {("GET", R_STATUS, "201"): 6})
    left = {p["id"] for p in h.bpf_programs()} & old_progs
    if left:
        raise HarnessError(f"the old programs are still loaded after the reload: {sorted(left)}")
    note(f"one: {counts_total(m, 'one'):g} counted, {unmatched:g} unmatched of {served_one}")
    a.prog_ids = h.prog_ids_held(a.pid)     # stop() checks the new ones go too


# ------------------------------------------------------------ privileges --

CAP_HEADER = "/usr/include/linux/capability.h"
CAP_FIELDS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")


def capability_numbers():
    """{"CAP_BPF": 39, ...} from the kernel's UAPI header."""
    try:
        text = open(CAP_HEADER).read()
    except OSError as e:
        raise HarnessError(f"{CAP_HEADER}: {e.strerror} (apt-get install linux-libc-dev)") from None
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^#define\s+(CAP_[A-Z_]+)\s+(\d+)\s*$", text, re.M)}


def documented_capabilities():
    """The capabilities SECURITY.md says the agent keeps: the first column
    of the table under '### Capabilities kept'."""
    text = (h.REPO / "SECURITY.md").read_text()
    m = re.search(r"^### Capabilities kept\n(.*?)(?=^#|\Z)", text, re.M | re.S)
    caps = re.findall(r"^\| `(CAP_[A-Z_]+)` \|", m.group(1) if m else "", re.M)
    if not caps:
        raise HarnessError("SECURITY.md has no '### Capabilities kept' table")
    return caps


def cap_names(mask, numbers):
    by_bit = {v: k for k, v in numbers.items()}
    names = [by_bit.get(b, f"cap{b}") for b in range(64) if mask >> b & 1]
    return ",".join(names) or "none"


def task_privileges(path):
    """{CapInh: mask, ..., NoNewPrivs: n, Name: comm} of a /proc status file."""
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in CAP_FIELDS:
                out[k] = int(v, 16)
            elif k == "NoNewPrivs":
                out[k] = int(v)
            elif k == "Name":
                out[k] = v.strip()
    return out


def privilege_problems(pid, kept, numbers, pushers=0):
    """What differs from the documented privileges, per thread of pid: the
    main thread keeps exactly `kept` (permitted, effective, bounding), the
    metrics server's threads (libmicrohttpd's, "MHD-...", and its reaper,
    "metrics-reaper") and the push threads ("push-...", pushers of them)
    nothing; no inheritable or ambient capability and no_new_privs
    everywhere."""
    problems = []

    def check(what, st, mask):
        want = {"CapInh": 0, "CapPrm": mask, "CapEff": mask, "CapBnd": mask, "CapAmb": 0}
        for k, v in want.items():
            got = st.get(k, 0)
            if got != v:
                problems.append(f"{what} {k} has {cap_names(got & ~v, numbers)} too many, "
                                f"{cap_names(v & ~got, numbers)} missing")
        if st.get("NoNewPrivs") != 1:
            problems.append(f"{what} NoNewPrivs {st.get('NoNewPrivs')}, want 1")

    check("process", task_privileges(f"/proc/{pid}/status"), kept)
    tids = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
    servers = pushes = 0
    for tid in tids:
        st = task_privileges(f"/proc/{pid}/task/{tid}/status")
        if tid == pid:
            check("main thread", st, kept)
        elif st["Name"].startswith(("MHD", "metrics-")):
            servers += 1
            check(f"thread {tid} ({st['Name']})", st, 0)
        elif st["Name"].startswith("push-"):
            pushes += 1
            check(f"thread {tid} ({st['Name']})", st, 0)
        else:
            problems.append(f"thread {tid} ({st['Name']}): not one SECURITY.md describes")
    if not servers:
        problems.append(f"no metrics server thread among {len(tids)} threads")
    if pushes != pushers:
        problems.append(f"{pushes} push threads, want {pushers}")
    return problems


PUSH_THREADS = 1        # --alertmanager.url's


@test("privileges_dropped")
def t_privileges_dropped(ctx):
    """Once attached, the agent holds exactly the capabilities SECURITY.md
    lists (permitted, effective, bounding; none inheritable or ambient;
    no_new_privs), its metrics server's thread none, before and after a
    reload; and it still measures requests, matches a root process by its
    executable path (a file the agent holds open, looked at again every
    second) and reloads new kernel programs (CAP_BPF, CAP_PERFMON)."""
    numbers = capability_numbers()
    kept_names = documented_capabilities()
    unknown = [c for c in kept_names if c not in numbers]
    if unknown:
        raise HarnessError(f"SECURITY.md names capabilities {CAP_HEADER} does not: {unknown}")
    kept = sum(1 << numbers[c] for c in kept_names)
    exe = os.path.join(ctx.tmp, f"xtestd{os.getpid() % 100000}")
    shutil.copy(h.TESTD_BIN, exe)
    t_port = ctx.testd(name="testd-port")
    t_exe = ctx.testd(binary=exe, name="testd-exe")      # root, every capability
    t_new = ctx.testd(name="testd-new")
    items = [service_item("byport", f"port: {t_port.port}", TESTD_ROUTES),
             service_item("byexe", f"process: {exe}", TESTD_ROUTES)]
    # the push threads too (nothing listens there: they only retry)
    a = ctx.agent(services_config(*items),
                  ["--alertmanager.url", f"http://127.0.0.1:{h.free_port()}"])
    at_start = privilege_problems(a.pid, kept, numbers, pushers=PUSH_THREADS)

    def serve(port, n200, n503):
        rs = h.keepalive_requests(port, ["/status/200"] * n200 + ["/status/503"] * n503)
        expect_client(client_statuses(rs), {k: v for k, v in ((200, n200), (503, n503)) if v})

    serve(t_port.port, 5, 2)
    serve(t_exe.port, 4, 1)
    wait_counts(a, "byport", 7)
    m = wait_counts(a, "byexe", 5, what="5 requests of the service matched by executable path")
    expect_counts(m, "byexe", {("GET", R_STATUS, "200"): 4, ("GET", R_STATUS, "503"): 1})

    # a new service: new programs and maps, loaded with what was kept
    old_progs = set(a.prog_ids)
    a.config.write_text(services_config(
        *items, service_item("added", f"port: {t_new.port}", TESTD_ROUTES)))
    os.kill(a.pid, signal.SIGHUP)
    h.wait_for(lambda: "slotap: reloaded" in a.proc.stderr() or
               "reload refused" in a.proc.stderr(), 20.0, proc=a.proc,
               what="the reload's outcome in the agent's log")
    if "reload refused" in a.proc.stderr():
        raise HarnessError(f"reload refused: {a.proc.tail(3)}")
    if "loading the kernel programs anew" not in a.proc.stderr():
        raise HarnessError("the added service did not bring new kernel programs")
    new_progs = h.prog_ids_held(a.pid)
    if not new_progs or new_progs & old_progs:
        raise HarnessError(f"programs held after the reload: {sorted(new_progs)}, "
                           f"before: {sorted(old_progs)}")
    a.prog_ids = new_progs              # stop() checks these go too
    serve(t_port.port, 3, 0)
    serve(t_exe.port, 2, 0)
    serve(t_new.port, 6, 1)
    wait_counts(a, "added", 7)
    wait_counts(a, "byport", 10)
    m = wait_counts(a, "byexe", 7)
    expect_counts(m, "byport", {("GET", R_STATUS, "200"): 8, ("GET", R_STATUS, "503"): 2})
    expect_counts(m, "byexe", {("GET", R_STATUS, "200"): 6, ("GET", R_STATUS, "503"): 1})
    expect_counts(m, "added", {("GET", R_STATUS, "200"): 6, ("GET", R_STATUS, "503"): 1})
    check_common(m)
    after_reload = privilege_problems(a.pid, kept, numbers, pushers=PUSH_THREADS)
    problems = [f"at start: {p}" for p in at_start] + \
        [f"after a reload: {p}" for p in after_reload]
    if problems:
        raise HarnessError("; ".join(problems[:4]) + (" ..." if len(problems) > 4 else ""))
    note(f"kept {cap_names(kept, numbers)} in the main thread, none in the server's")


@test("privileges_not_granted")
def t_privileges_not_granted(ctx):
    """Started with a bounding set without CAP_SETPCAP (capsh --drop), the
    agent cannot drop the rest: one error line, exit 1, nothing left
    loaded. Without a capability it would keep (CAP_SYS_PTRACE), it warns
    once, says what will fail, and runs with the others."""
    capsh = shutil.which("capsh")
    if not capsh:
        raise HarnessError("capsh is missing: run scripts/install-deps.sh (libcap2-bin)")
    numbers = capability_numbers()
    kept = sum(1 << numbers[c] for c in documented_capabilities())
    cfg = os.path.join(ctx.tmp, "cfg.yaml")
    with open(cfg, "w") as f:
        f.write(service_config("testd", h.free_port()))

    def argv(drop):
        return [capsh, f"--drop={drop}", "--", "-c", 'exec "$0" "$@"', h.AGENT_BIN,
                "--config", cfg, "--web.listen-address", f"127.0.0.1:{h.free_port()}",
                "--state-dir", os.path.join(ctx.tmp, "state")]

    before = set(h.agent_programs())
    p = h.Proc(argv("cap_setpcap"), "slotap-no-setpcap", ctx.tmp)
    rc = p.wait(30.0)
    if rc is None:
        p.stop()
        raise HarnessError("agent without CAP_SETPCAP still running after 30 s")
    errors = [l for l in p.stderr().splitlines() if "error:" in l]
    if rc != 1 or len(errors) != 1 or "cannot drop the capabilities" not in errors[0] \
            or "CAP_SETPCAP" not in errors[0]:
        raise HarnessError(f"without CAP_SETPCAP: exit {rc}, error lines {errors}, want exit 1 "
                           f"and one line saying it cannot drop the capabilities")
    if h.READY_MARK in p.stderr():
        raise HarnessError("without CAP_SETPCAP: the agent said it was ready")
    try:
        h.wait_for(lambda: not h.stray_agent_programs(before), 5.0,
                   what="the failed agent's programs to be unloaded")
    except HarnessError:
        raise HarnessError(f"BPF programs left by the failed agent: "
                           f"{sorted(h.stray_agent_programs(before).values())}") from None

    p = h.Proc(argv("cap_sys_ptrace"), "slotap-no-ptrace", ctx.tmp)
    ctx.stops.append(("agent without CAP_SYS_PTRACE", lambda: p.stop()))
    h.wait_for(lambda: h.READY_MARK in p.stderr(), 30.0, proc=p, what="the agent to be ready")
    warned = [l for l in p.stderr().splitlines() if "running without cap_sys_ptrace" in l]
    if len(warned) != 1:
        raise HarnessError(f"without CAP_SYS_PTRACE: {len(warned)} warnings naming it, want 1: "
                           f"{p.tail(3)}")
    problems = privilege_problems(p.pid, kept & ~(1 << numbers["CAP_SYS_PTRACE"]), numbers)
    if problems:
        raise HarnessError("without CAP_SYS_PTRACE: " + "; ".join(problems[:4]))
    rc, killed = p.stop()
    if killed or rc != 0:
        raise HarnessError(f"without CAP_SYS_PTRACE: exit {rc} on SIGTERM (killed: {killed})")


# --------------------------------------------------------- read-only BPF --

# Every program type the agent may load: tracing (tp_btf, iter; which of
# them is told by its link) and raw_tracepoint (run on demand through
# BPF_PROG_TEST_RUN). None can drop, redirect or rewrite a packet, or
# override a return value (kprobe, fmod_ret, lsm), as sched_cls, xdp,
# sk_skb, sk_msg, lwt_*, cgroup_*, sk_lookup or struct_ops programs can.
# kprobe: the TLS uprobes (a kprobe program on a kernel function would show
# in its link as event_type kprobe, which RO_LINKS does not allow)
RO_PROG_TYPES = {"tracing", "raw_tracepoint", "kprobe"}
RO_LINKS = {("raw_tracepoint", tp) for tp in (
    "sock_recv_length", "sock_send_length", "inet_sock_set_state", "tcp_send_reset",
    "tcp_retransmit_skb")} | {("iter", "tcp"), ("iter", "bpf_sk_storage_map"),
                              ("perf", "uprobe"), ("perf", "uretprobe")}
RO_MAP_TYPES = {"hash", "array", "percpu_hash", "percpu_array", "lru_hash", "lru_percpu_hash",
                "sk_storage", "ringbuf"}
# Helpers that write user memory, signal a process, or change what the
# kernel does with a packet, a socket or a return value.
RO_FORBIDDEN_HELPERS = {
    "bpf_probe_write_user", "bpf_override_return", "bpf_send_signal",
    "bpf_send_signal_thread", "bpf_sk_redirect_map", "bpf_sk_redirect_hash",
    "bpf_msg_redirect_map", "bpf_msg_redirect_hash", "bpf_skb_store_bytes",
    "bpf_l3_csum_replace", "bpf_l4_csum_replace", "bpf_redirect", "bpf_redirect_map",
    "bpf_redirect_peer", "bpf_redirect_neigh", "bpf_clone_redirect", "bpf_skb_change_head",
    "bpf_skb_change_tail", "bpf_skb_adjust_room", "bpf_xdp_adjust_head", "bpf_xdp_adjust_tail",
    "bpf_msg_pull_data", "bpf_msg_push_data", "bpf_msg_pop_data", "bpf_setsockopt",
    "bpf_sock_ops_cb_flags_set", "bpf_sk_assign", "bpf_set_retval", "bpf_sys_bpf",
    "bpf_sysctl_set_new_value", "bpf_copy_from_user_task", "bpf_bprm_opts_set",
    "bpf_send_signal_task"}
# What the agent's programs call, reviewed: reads, time, the current task,
# and writes to the agent's own maps, socket storage and ring buffer. The
# kernel's own names in `bpftool prog dump xlated` come first, where the
# verifier renames a helper.
RO_ALLOWED_HELPERS = {
    "bpf_probe_read_user", "bpf_probe_read_kernel", "bpf_probe_read_user_str",
    "bpf_probe_read_kernel_str", "bpf_sk_storage_get_tracing", "bpf_sk_storage_get",
    "bpf_sk_storage_delete_tracing", "bpf_sk_storage_delete", "bpf_ringbuf_query",
    "bpf_ringbuf_reserve", "bpf_ringbuf_submit", "bpf_ringbuf_discard", "bpf_ringbuf_output",
    "bpf_ktime_get_ns", "bpf_get_current_pid_tgid", "bpf_get_current_cgroup_id",
    "bpf_get_current_ancestor_cgroup_id", "bpf_user_rnd_u32", "bpf_get_prandom_u32",
    "bpf_skc_to_tcp_sock", "bpf_task_pt_regs", "bpf_get_current_task_btf", "bpf_loop",
    "bpf_get_smp_processor_id",
    # a dynptr over the agent's own map value, and a write into it (tls.bpf.h)
    "bpf_dynptr_from_mem", "bpf_dynptr_write"}
# map operations, which the verifier turns into the map type's own
# functions (the map types themselves are checked against RO_MAP_TYPES)
RO_MAP_OP = re.compile(r"^_*(bpf|htab|htab_lru|htab_percpu|htab_lru_percpu|array|percpu_array)"
                       r"_map_(lookup|update|delete|lookup_percpu)_elem$")


def bpftool_json(*args):
    r = subprocess.run([h.BPFTOOL_BIN, "--json", *args], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        raise HarnessError(f"bpftool {' '.join(args)}: {r.stderr.strip()}")
    return json.loads(r.stdout)


def held_links(pid):
    """[{link_type, prog_id, tp_name | target_name}] of pid's BPF link fds."""
    links = []
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                info = dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)
        except OSError:
            continue
        if "link_type" in info:
            links.append(info)
    return links


def called_helpers(prog_id):
    """Names of the helpers prog_id calls, from its translated image
    (calls to its own functions, 'call pc+N', left out)."""
    r = subprocess.run([h.BPFTOOL_BIN, "prog", "dump", "xlated", "id", str(prog_id)],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise HarnessError(f"bpftool prog dump xlated id {prog_id}: {r.stderr.strip()}")
    return set(re.findall(r"\bcall ([A-Za-z_][A-Za-z0-9_]*)#", r.stdout)), r.stdout


@test("read_only_programs")
def t_read_only_programs(ctx):
    """Every BPF program the running agent holds is of a type that cannot
    change traffic or a process (tracing on the tracepoints and iterators
    README names, raw_tracepoint attached to nothing, kprobe on uprobes of
    OpenSSL's functions only), uses only map types
    that hold data, and calls no helper that writes user memory, signals,
    redirects or overrides: each helper it calls is in a reviewed
    allow-list (bpftool prog show / prog dump xlated)."""
    t = ctx.testd()
    a = ctx.agent(service_config("testd", t.port, TESTD_ROUTES))
    expect_client(client_statuses(h.keepalive_requests(t.port, ["/status/200"] * 3)), {200: 3})
    wait_counts(a, "testd", 3)
    prog_ids = h.prog_ids_held(a.pid)
    links = held_links(a.pid)
    problems, names, map_ids, helpers = [], set(), set(), collections.Counter()
    linked = collections.defaultdict(list)
    for link in links:
        target = link.get("tp_name") or link.get("target_name") or \
            link.get("event_type") or "?"
        linked[int(link.get("prog_id", 0))].append((link["link_type"], target))
        if (link["link_type"], target) not in RO_LINKS:
            problems.append(f"link {link['link_type']} {target}")
    for pid_ in sorted(prog_ids):
        p = bpftool_json("prog", "show", "id", str(pid_))
        name, ptype = p.get("name", f"id {pid_}"), p.get("type")
        names.add(name)
        map_ids.update(p.get("map_ids", []))
        if ptype not in RO_PROG_TYPES:
            problems.append(f"program {name}: type {ptype}")
        elif ptype == "tracing" and not linked.get(pid_):
            # fentry, fexit, fmod_ret and lsm are tracing programs too: only
            # a tp_btf or iter link tells this one is neither
            problems.append(f"program {name}: tracing, attached to nothing (which kind?)")
        calls, text = called_helpers(pid_)
        if "call" not in text and "exit" not in text:
            problems.append(f"program {name}: no instructions in its dump")
        for c in calls:
            helpers[c] += 1
            if c in RO_FORBIDDEN_HELPERS:
                problems.append(f"program {name} calls {c}")
            elif c not in RO_ALLOWED_HELPERS and not RO_MAP_OP.match(c):
                problems.append(f"program {name} calls {c}, which is not in the reviewed "
                                f"allow-list (if it writes nothing outside the agent's own "
                                f"maps, add it to RO_ALLOWED_HELPERS)")
    for mid in sorted(map_ids):
        mp = bpftool_json("map", "show", "id", str(mid))
        if mp.get("type") not in RO_MAP_TYPES:
            problems.append(f"map {mp.get('name', mid)}: type {mp.get('type')}")
    # not vacuous: the request path's programs were read, and are attached
    for want in ("slotap_sock_recv", "slotap_sock_send"):
        if want not in names:
            problems.append(f"no program {want} among those held: {sorted(names)}")
    if len(links) < 4 or not map_ids:
        problems.append(f"{len(links)} links and {len(map_ids)} maps held: too few to be "
                        f"the agent's")
    if problems:
        raise HarnessError("; ".join(problems[:6]) + (" ..." if len(problems) > 6 else ""))
    note(f"{len(prog_ids)} programs, {len(links)} links, {len(map_ids)} maps; helpers "
         f"{', '.join(sorted(helpers))}")


# each session: what the client sends, in pieces (one send() each, 5 ms
# apart), then reads to the server's close. The last request of each asks
# for the close.
def unchanged_sessions(host):
    def req(method, path, close=False, body=b"", headers=()):
        return h.build_request(method, path, host, headers=headers, body=body, close=close)
    post = bytes(range(32, 127)) * 40
    return {
        "testd": [
            [req("GET", "/status/200") + req("GET", "/size/300000") + req("HEAD", "/status/204")
             + req("POST", "/status/201", body=post)
             + req("GET", "/delay/20ms/status/503") + req("GET", "/nothing/here", close=True)],
            [req("GET", "/status/200"), req("GET", "/size/10"), req("GET", "/status/404"),
             req("GET", "/status/200", close=True)],
            [x for r in (req("GET", "/size/1000"), req("GET", "/status/500", close=True))
             for x in (r[:7], r[7:20], r[20:])],
        ],
        "nginx": [
            [req("GET", "/index.html") + req("GET", h.NGINX_BIG_PATH) + req("HEAD", "/index.html")
             + req("GET", "/notfound") + req("GET", "/unavailable")
             + req("GET", "/index.html?q=1", close=True)],
            [req("GET", "/index.html"), req("POST", "/unavailable", body=post),
             req("GET", "/missing.html", close=True)],
            [x for r in (req("GET", "/index.html"), req("GET", h.NGINX_BIG_PATH, close=True))
             for x in (r[:5], r[5:33], r[33:])],
        ],
    }


# requests of each kind of server in unchanged_sessions(): what the agent
# must have counted while it ran
UNCHANGED_REQUESTS = {"testd": 12, "nginx": 11}


def exchange(port, pieces):
    """Sends the pieces, then returns every byte the server sent until it
    closed the connection."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10.0)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    got = bytearray()
    try:
        for i, piece in enumerate(pieces):
            if i:
                time.sleep(0.005)
            s.sendall(piece)
        while True:
            chunk = s.recv(262144)
            if not chunk:
                return bytes(got)
            got += chunk
    finally:
        s.close()


def capture_responses(ports):
    """{(server, session): bytes} of every session against each server,
    the Date header's value (the one header meant to differ) blanked."""
    out = {}
    for server, sessions in unchanged_sessions("127.0.0.1").items():
        for i, pieces in enumerate(sessions):
            raw = exchange(ports[server], pieces)
            out[(server, i)] = re.sub(rb"\r\nDate: [^\r\n]*", b"\r\nDate: -", raw)
    return out


def first_difference(a, b):
    n = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
    return (f"{len(a)} and {len(b)} bytes, first difference at byte {n}: "
            f"{a[max(0, n - 20):n + 20]!r} / {b[max(0, n - 20):n + 20]!r}")


@test("responses_unchanged")
def t_responses_unchanged(ctx):
    """The same requests (keep-alive, pipelined, split, HEAD, POST bodies,
    sendfile, a 300 kB body, errors) against nginx and slotap-testd get
    byte-identical responses with and without the agent measuring them
    (the Date header's value aside)."""
    t, n = ctx.testd(), ctx.nginx()
    ports = {"testd": t.port, "nginx": n.port}
    without = capture_responses(ports)
    again = capture_responses(ports)
    for k in without:
        if without[k] != again[k]:
            raise HarnessError(f"{k[0]} session {k[1]} differs between two runs without the "
                               f"agent (the test, not the agent): "
                               f"{first_difference(without[k], again[k])}")
    a = ctx.agent(services_config(service_item("testd", f"port: {t.port}", TESTD_ROUTES),
                                  service_item("nginx", f"port: {n.port}")))
    with_agent = capture_responses(ports)
    for k in without:
        if without[k] != with_agent[k]:
            raise HarnessError(f"{k[0]} session {k[1]} differs with the agent running: "
                               f"{first_difference(without[k], with_agent[k])}")
    # not vacuous: the agent measured every one of those requests
    for svc, total in UNCHANGED_REQUESTS.items():
        m = wait_counts(a, svc, total)
        if counts_total(m, svc) != total:
            raise HarnessError(f"{svc}: {counts_total(m, svc):g} requests counted, sent {total}")
    check_common(m)
    note(f"{len(without)} sessions, {sum(len(v) for v in without.values())} bytes, identical")


@test("slo_default_endpoints")
def t_slo_default_endpoints(ctx):
    """The built-in default SLOs (availability 90%, latency 80% within 1s):
    every endpoint gets them at its first request, a route discovered by
    folding too, except where an explicit SLO of the same SLI covers it; the
    alert that starts is logged with its payload; the copies survive a
    SIGKILL and restart."""
    t = ctx.testd()
    cfg = service_config("testd", t.port, ["/delay/{delay}/status/{code}", "/status/{code}"])
    cfg += ("slos:\n"
            "  - name: fast-status\n    service: testd\n    endpoint: \"GET /status/{code}\"\n"
            "    sli: latency\n    threshold: 100ms\n    objective: 95\n    window: 4w\n")
    args = ["--state-dir", os.path.join(ctx.tmp, "state"), "--state-interval", "1"]
    r_size = "/size/{id}"           # no template: the folding heuristic names it
    a = ctx.agent(cfg, args)
    plan = (["/status/200"] * 20 + ["/status/500"] * 5 + ["/delay/10ms/status/200"] * 3 +
            ["/delay/1200ms/status/200"] * 2 + ["/size/10"] * 4)
    rs = h.keepalive_requests(t.port, plan)
    expect_client(client_statuses(rs), {200: 29, 500: 5})
    m = wait_counts(a, "testd", len(plan))
    expect_counts(m, "testd", {("GET", R_STATUS, "200"): 20, ("GET", R_STATUS, "500"): 5,
                               ("GET", R_DELAY, "200"): 5, ("GET", r_size, "200"): 4})
    avail, lat = "default-availability", "default-latency"
    want = {
        (avail, "GET " + R_STATUS): (20, 5),
        (avail, "GET " + R_DELAY): (5, 0),
        (lat, "GET " + R_DELAY): (3, 2),        # 1200 ms is over the 1 s threshold
        (avail, "GET " + r_size): (4, 0),
        (lat, "GET " + r_size): (4, 0),
        ("fast-status", "GET " + R_STATUS): (25, 0),
    }

    def slo_counts(m, metric="slotap_slo_events_total"):
        return {k: tuple(m.value(metric, slo=k[0], service="testd",
                                 endpoint=k[1], result=r) for r in ("good", "bad"))
                for k in want}
    got = slo_counts(m)
    if got != want or slo_counts(m, SLO_WINDOW) != want:
        raise HarnessError(f"SLO counts {got}, in the window {slo_counts(m, SLO_WINDOW)}, "
                           f"want {want}")
    # the explicit latency SLO of GET /status/{code} overrides the default one
    if m.series("slotap_slo_events_total", slo=lat, endpoint="GET " + R_STATUS):
        raise HarnessError(f"{lat} made for GET {R_STATUS}, which fast-status covers")
    if m.value("slotap_slo_default_instances") != 5:
        raise HarnessError(f"slotap_slo_default_instances is "
                           f"{m.value('slotap_slo_default_instances')}, want 5")
    if m.value("slotap_slo_objective_ratio", slo=lat, service="testd",
               endpoint="GET " + r_size) != 0.8:
        raise HarnessError("default-latency's objective is not 0.8")
    # 5 bad of 25 against a 10% budget: spent twice over, logged within 10 s
    line = (f'SLO alert started: slo="{avail}" service="testd" endpoint="GET {R_STATUS}" '
            f'severity=page condition=budget_exhausted ')
    h.wait_for(lambda: line in a.proc.stderr(), 15.0, what="the budget_exhausted alert log line")
    logged = next(l for l in a.proc.stderr().splitlines() if line in l)
    if not re.search(r" sli=0\.[0-9]+ objective=0\.9 window=28d budget_remaining=-[0-9.]+$",
                     logged):
        raise HarnessError(f"alert line without its payload: {logged!r}")
    out = subprocess.run([h.AGENT_BIN, "status", "--json", "--web.listen-address",
                          f"127.0.0.1:{a.port}"], capture_output=True, text=True, timeout=10)
    if out.returncode != 0:
        raise HarnessError(f"slotap status exited {out.returncode}: {out.stderr.strip()}")
    rows = {(x["slo"], x["endpoint"]): x for x in json.loads(out.stdout)["slos"]}
    row = rows.get((avail, "GET " + R_STATUS))
    if not row or row["events"] != {"good": 20, "bad": 5} or \
            "budget_exhausted" not in row["alerts"]:
        raise HarnessError(f"slotap status --json: {avail} of GET {R_STATUS}: {row}")
    check_common(m)

    time.sleep(2.5)          # at least one save (every second) after the traffic
    a.kill()
    b = ctx.agent(cfg, args)
    m = b.metrics()          # before any new request: the copies are back
    zero = {k: (0, 0) for k in want}
    if slo_counts(m, SLO_WINDOW) != want or slo_counts(m) != zero:
        raise HarnessError(f"after SIGKILL and restart the SLO windows hold "
                           f"{slo_counts(m, SLO_WINDOW)}, want {want}; the counters "
                           f"{slo_counts(m)}, want 0 (a new process)")
    h.keepalive_requests(t.port, ["/size/10"] * 2)
    b.wait_metrics(lambda m: m.value(SLO_WINDOW, slo=avail, service="testd",
                                     endpoint="GET " + r_size, result="good") == 6 and
                   m.value("slotap_slo_events_total", slo=avail, service="testd",
                           endpoint="GET " + r_size, result="good") == 2,
                   what=f"{avail} of GET {r_size}: 6 good in the window, 2 counted")
    if b.metrics().value("slotap_slo_default_instances") != 5:
        raise HarnessError("the restarted agent made new copies for restored endpoints")
    expect_untracked(b)


@test("slo_state_survives_kill")
def t_slo_state_survives_kill(ctx):
    """SIGKILL after a save: the restarted agent carries the SLO window's
    counts on, and its exported counters start at 0 (a new process)."""
    t = ctx.testd()
    cfg = service_config("testd", t.port, ["/status/{code}"])
    cfg += ("slos:\n  - name: avail\n    service: testd\n    sli: availability\n"
            "    objective: 99\n    window: 28d\n")
    args = ["--state-dir", os.path.join(ctx.tmp, "state"), "--state-interval", "1"]

    def slo_counts(m):
        return avail_counts(m), avail_counts(m, metric="slotap_slo_events_total")

    a = ctx.agent(cfg, args)
    h.keepalive_requests(t.port, ["/status/200"] * 20 + ["/status/500"] * 5)
    a.wait_metrics(lambda m: slo_counts(m) == ((20, 5), (20, 5)), what="SLO counts 20/5")
    time.sleep(2.5)          # at least one save (every second) after the traffic
    a.kill()
    b = ctx.agent(cfg, args)
    m = b.metrics()
    if slo_counts(m) != ((20, 5), (0, 0)):
        raise HarnessError(f"after SIGKILL and restart (window, counters) are {slo_counts(m)}, "
                           f"want ((20, 5), (0, 0))")
    h.keepalive_requests(t.port, ["/status/200"] * 10 + ["/status/503"] * 2)
    b.wait_metrics(lambda m: slo_counts(m) == ((30, 7), (10, 2)), what="SLO counts 30/7, 10/2")
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
        return sum(n or 0 for n in avail_counts(m))

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


# Debian's libfaketime: the agent's wall clock offset, as a clock step shows it
FAKETIME_LIBS = ["/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
                 "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1"]


def faketime_env(offset=None, path=None):
    """The environment that runs the agent with its wall clock at offset
    ("-2h", "+40d"), or at what the file at path says (re-read every
    second: a step while it runs). The monotonic clock stays real."""
    lib = next((l for l in FAKETIME_LIBS if os.path.exists(l)), None)
    if not lib:
        raise HarnessError("libfaketime is not installed: run scripts/install-deps.sh")
    env = {"LD_PRELOAD": lib, "FAKETIME_DONT_FAKE_MONOTONIC": "1", "FAKETIME_DONT_RESET": "1"}
    if path:
        env.update(FAKETIME_TIMESTAMP_FILE=path, FAKETIME_CACHE_DURATION="1")
    else:
        env["FAKETIME"] = offset
    return env


SLO_WINDOW = "slotap_slo_window_events"      # the engine's counts: restored from the state


def avail_counts(m, slo="avail", service="testd", metric=SLO_WINDOW):
    """(good, bad) of an SLO's window (restored at a restart), or of its
    counters (metric="slotap_slo_events_total": from 0 at each start)."""
    return tuple(m.value(metric, slo=slo, service=service, endpoint="",
                         result=r) for r in ("good", "bad"))


def avail_traffic(agent, port, want, good, bad):
    """good 200s and bad 500s to testd on port; want ([good, bad] so far)
    grows by them, and the agent's avail SLO must count exactly that."""
    h.keepalive_requests(port, ["/status/200"] * good + ["/status/500"] * bad)
    want[0] += good
    want[1] += bad
    agent.wait_metrics(lambda m: avail_counts(m) == tuple(want),
                       what=f"SLO counts {tuple(want)}")


@test("slo_state_clock_step")
def t_slo_state_clock_step(ctx):
    """The SLO state survives the wall clock stepped back or forward: at a
    restart (the agent's clock 2 h, then 3 d behind the saved file, then
    40 d ahead, then back to now) and while it runs (a step of 2 d back,
    then a reload and saves): every count kept in the SLO window (40 d
    ahead, the 28 d window has left them all behind), one warning each
    time."""
    t = ctx.testd()
    cfg = service_config("testd", t.port, ["/status/{code}"])
    cfg += "slos:\n" + AVAIL_SLO.format(name="avail", service="testd")
    args = ["--state-dir", os.path.join(ctx.tmp, "state"), "--state-interval", "1"]
    want = [20, 5]

    def traffic(agent):
        avail_traffic(agent, t.port, want, 10, 2)

    a = ctx.agent(cfg, args)
    h.keepalive_requests(t.port, ["/status/200"] * 20 + ["/status/500"] * 5)
    a.wait_metrics(lambda m: avail_counts(m) == (20, 5), what="SLO counts 20/5")
    a.stop()                                # SIGTERM saves
    steps = [("-2h", "wait for the clock to catch up"),
             ("-3d", "move their history back"),
             ("+40d", None),
             (None, "move their history back")]     # real time: 40 d before the file
    for offset, warned in steps:
        b = ctx.agent(cfg, args, env=faketime_env(offset) if offset else None)
        if offset == "+40d":
            want = [0, 0]                   # all older than the window now
        got = avail_counts(b.metrics())
        if got != tuple(want):
            raise HarnessError(f"clock {offset or 'now'}: restored {got}, want {tuple(want)}: "
                               f"{b.proc.tail()}")
        log = b.proc.stderr()
        if warned and (log.count("the clock went back") != 1 or warned not in log):
            raise HarnessError(f"clock {offset or 'now'}: want one warning that the clock "
                               f"went back and the SLOs {warned}: {b.proc.tail()}")
        if not warned and "the clock went back" in log:
            raise HarnessError(f"clock {offset}: a warning for a clock that went forward")
        traffic(b)
        b.stop()
        note(f"clock {offset or 'now'}: {tuple(want)} carried on")

    # a step while it runs, then a reload and a save under the stepped clock
    clock = os.path.join(ctx.tmp, "faketime")
    with open(clock, "w") as f:
        f.write("+0\n")
    c = ctx.agent(cfg, args, env=faketime_env(path=clock))
    traffic(c)
    with open(clock, "w") as f:
        f.write("-2d\n")
    h.wait_for(lambda: "the wall clock stepped back by" in c.proc.stderr(), 10.0, proc=c.proc,
               what="the clock step warning")
    m = c.metrics()
    if m.value("slotap_clock_steps_total", direction="back") != 1:
        raise HarnessError(f"slotap_clock_steps_total{{direction=back}} is "
                           f"{m.value('slotap_clock_steps_total', direction='back')}, want 1")
    os.kill(c.pid, signal.SIGHUP)
    h.wait_for(lambda: "slotap: reloaded" in c.proc.stderr(), 10.0, proc=c.proc,
               what="'reloaded' in the agent's log")
    if "1 SLOs and 1 default copies carried over, 0 changed" not in c.proc.stderr():
        raise HarnessError(f"the reload under a stepped clock did not carry avail over: "
                           f"{c.proc.tail()}")
    traffic(c)
    time.sleep(2.5)                         # saves under the stepped clock
    c.kill()
    d = ctx.agent(cfg, args)
    got = avail_counts(d.metrics())
    if got != tuple(want):
        raise HarnessError(f"after a step while running, a reload and SIGKILL: restored "
                           f"{got}, want {tuple(want)}")
    check_common(d.metrics())


def mount_tmpfs(ctx, path, size):
    """A tmpfs of size at path (made 0700), unmounted at the end of the test."""
    os.makedirs(path, mode=0o700)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "slotap-test", path],
                   check=True)
    ctx.stops.append(("tmpfs", lambda: subprocess.run(["umount", path], check=True)))


def fill(path):
    """Writes path until the file system is full."""
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as e:
            if e.errno != errno.ENOSPC:
                raise


@test("slo_state_disk_full")
def t_slo_state_disk_full(ctx):
    """Saves failing on a full disk (a small tmpfs as --state-dir), then on
    one remounted read-only: the agent measures on, says so once per kind
    of failure (not once a save), counts every failed save, leaves the last
    state file whole and no temporary file, and saves again once there is
    room; a restart then restores the latest counts."""
    t = ctx.testd()
    cfg = service_config("testd", t.port, ["/status/{code}"])
    cfg += "slos:\n" + AVAIL_SLO.format(name="avail", service="testd")
    state = os.path.join(ctx.tmp, "state")
    mount_tmpfs(ctx, state, "1m")
    args = ["--state-dir", state, "--state-interval", "1"]
    file = os.path.join(state, "slo-state.bin")
    want = [0, 0]

    def traffic(agent):
        avail_traffic(agent, t.port, want, 8, 2)

    def errors(agent):
        return agent.metrics().value("slotap_state_save_errors_total")

    a = ctx.agent(cfg, args)
    traffic(a)
    time.sleep(2.5)                         # saved
    saved = Path(file).read_bytes()
    fill(os.path.join(state, "filler"))
    traffic(a)
    time.sleep(4.5)                         # four saves or more, each failing
    log = a.proc.stderr()
    if log.count("saving the SLO state fails") != 1 or "No space left on device" not in log:
        raise HarnessError(f"want one warning of the full disk, got "
                           f"{log.count('saving the SLO state fails')}: {a.proc.tail()}")
    if errors(a) < 3:
        raise HarnessError(f"slotap_state_save_errors_total is {errors(a)}, want >= 3")
    if Path(file).read_bytes() != saved or os.path.exists(os.path.join(state,
                                                                     ".slo-state.bin.tmp")):
        raise HarnessError("the state file changed, or a temporary file was left, on a full disk")
    subprocess.run(["mount", "-o", "remount,ro", state], check=True)
    traffic(a)
    time.sleep(3.5)
    log = a.proc.stderr()
    if log.count("saving the SLO state fails") != 2 or "Read-only file system" not in log:
        raise HarnessError(f"want a second warning for the read-only disk: {a.proc.tail()}")
    subprocess.run(["mount", "-o", "remount,rw", state], check=True)
    os.unlink(os.path.join(state, "filler"))
    h.wait_for(lambda: "saving the SLO state works again" in a.proc.stderr(), 5.0,
               proc=a.proc, what="'works again'")
    e = errors(a)
    time.sleep(2.5)
    if errors(a) != e or "saving the SLO state still fails" in a.proc.stderr():
        raise HarnessError(f"saves still failing after the disk was freed: {a.proc.tail()}")
    note(f"{e:g} failed saves, {a.proc.stderr().count('saving the SLO state fails')} warnings")
    a.kill()
    b = ctx.agent(cfg, args)
    if avail_counts(b.metrics()) != tuple(want):
        raise HarnessError(f"restored {avail_counts(b.metrics())}, want {tuple(want)}")


@test("slo_state_io_error")
def t_slo_state_io_error(ctx):
    """Saves whose fsync fails with EIO (tests/fault/fsync_eio.c preloaded
    into the agent: a disk that cannot write back): one warning for the
    whole failure, every failed save counted, the agent measuring on; then
    killed (SIGKILL) while they fail, a restart restores a whole state (no
    damaged file set aside), and once fsync works again the latest counts
    are saved and restored."""
    t = ctx.testd()
    cfg = service_config("testd", t.port, ["/status/{code}"])
    cfg += "slos:\n" + AVAIL_SLO.format(name="avail", service="testd")
    state = os.path.join(ctx.tmp, "state")
    switch = os.path.join(ctx.tmp, "eio")
    args = ["--state-dir", state, "--state-interval", "1"]
    env = {"LD_PRELOAD": os.path.join(h.BUILD, "tests", "libfsync_eio.so"),
           "SLOTAP_FAULT_EIO": switch}
    want = [0, 0]

    def traffic(agent):
        avail_traffic(agent, t.port, want, 8, 2)

    a = ctx.agent(cfg, args, env=env)
    traffic(a)
    time.sleep(2.5)                         # saved
    saved = tuple(want)
    Path(switch).touch()
    traffic(a)
    time.sleep(4.5)                         # four saves or more, each failing
    errors = a.metrics().value("slotap_state_save_errors_total")
    log = a.proc.stderr()
    if log.count("saving the SLO state fails") != 1 or "Input/output error" not in log:
        raise HarnessError(f"want one warning of the I/O error, got "
                           f"{log.count('saving the SLO state fails')}: {a.proc.tail()}")
    if errors < 3:
        raise HarnessError(f"slotap_state_save_errors_total is {errors}, want >= 3")
    a.kill()
    b = ctx.agent(cfg, args, env=env)       # still failing: it loads what is whole
    got = avail_counts(b.metrics())
    if got not in (saved, tuple(want)) or "damaged" in b.proc.stderr():
        raise HarnessError(f"restored {got} after EIO, want {saved} or {tuple(want)}: "
                           f"{b.proc.tail()}")
    want[:] = list(got)
    os.unlink(switch)
    traffic(b)
    h.wait_for(lambda: "saving the SLO state works again" in b.proc.stderr() or
               "saving the SLO state fails" not in b.proc.stderr(), 5.0, proc=b.proc,
               what="saves working again")
    time.sleep(2.5)
    b.kill()
    c = ctx.agent(cfg, args)
    if avail_counts(c.metrics()) != tuple(want):
        raise HarnessError(f"restored {avail_counts(c.metrics())}, want {tuple(want)}")
    note(f"{errors:g} failed saves, one warning; restored {got} after SIGKILL during EIO")


@test("slo_state_dir_refused")
def t_slo_state_dir_refused(ctx):
    """A state directory others can write, or a symlink, stops the start
    with one line naming the path and the fix (exit 1)."""
    cfg = os.path.join(ctx.tmp, "slotap.yaml")
    Path(cfg).write_text("slos: []\n")
    real = os.path.join(ctx.tmp, "real")
    os.makedirs(real, mode=0o700)
    open_dir = os.path.join(ctx.tmp, "open")
    os.makedirs(open_dir)
    os.chmod(open_dir, 0o1777)
    link = os.path.join(ctx.tmp, "link")
    os.symlink(real, link)
    for path, why in ((open_dir, "writable by others"), (link, "is a symlink")):
        p = h.Proc([h.AGENT_BIN, "--config", cfg, "--web.listen-address",
                    f"127.0.0.1:{h.free_port()}", "--state-dir", path],
                   "slotap-" + os.path.basename(path), ctx.tmp)
        rc = p.wait(30)
        if rc is None:
            p.stop()
            raise HarnessError(f"the agent runs with --state-dir {path}")
        errors = [l for l in p.stderr().splitlines() if "error:" in l]
        if rc != 1 or len(errors) != 1 or path not in errors[0] or why not in errors[0] \
                or "refused" not in errors[0]:
            raise HarnessError(f"--state-dir {path}: exit {rc}, {p.stderr().strip()!r}")
    if os.listdir(real):
        raise HarnessError(f"something was written through the symlink: {os.listdir(real)}")


@test("reload_empty_config")
def t_reload_empty_config(ctx):
    """An empty config file on SIGHUP (a truncated write) is refused with
    the reason: the running config stays, and so does every SLO's state,
    in the saved file too."""
    t = ctx.testd()
    cfg = service_config("testd", t.port, ["/status/{code}"])
    cfg += "slos:\n" + AVAIL_SLO.format(name="avail", service="testd")
    args = ["--state-interval", "1"]
    a = ctx.agent(cfg, args)
    h.keepalive_requests(t.port, ["/status/200"] * 8 + ["/status/500"] * 2)
    a.wait_metrics(lambda m: avail_counts(m) == (8, 2), what="SLO counts 8/2")
    a.config.write_text("")
    os.kill(a.pid, signal.SIGHUP)
    h.wait_for(lambda: "reload refused" in a.proc.stderr(), 5.0, proc=a.proc,
               what="'reload refused'")
    line = next(l for l in a.proc.stderr().splitlines() if "reload refused" in l)
    if "is empty" not in line:
        raise HarnessError(f"the refusal does not say why: {line}")
    h.keepalive_requests(t.port, ["/status/200"] * 2)
    m = a.wait_metrics(lambda m: avail_counts(m) == (10, 2), what="SLO counts 10/2")
    if m.value("slotap_config_reloads_total", result="failure") != 1:
        raise HarnessError("the refused reload is not counted")
    time.sleep(2.5)                         # saves after the refusal
    a.kill()
    a.config.write_text(cfg)
    b = ctx.agent(cfg, args)
    if avail_counts(b.metrics()) != (10, 2):
        raise HarnessError(f"restored {avail_counts(b.metrics())}, want (10, 2)")


PROMETHEUS_BIN = shutil.which("prometheus") or "/usr/bin/prometheus"


def start_prometheus(ctx, target_port, scrape_extra=""):
    """Debian's Prometheus scraping the agent every second (scrape_extra:
    more keys of the scrape config, indented by four); stopped by PID with
    the other processes of the test."""
    if not os.path.exists(PROMETHEUS_BIN):
        raise HarnessError("prometheus is not installed: run scripts/install-deps.sh")
    d = os.path.join(ctx.tmp, "prometheus")
    os.makedirs(d)
    cfg = os.path.join(d, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                "scrape_configs:\n"
                "  - job_name: slotap\n"
                f"    static_configs: [{{targets: ['127.0.0.1:{target_port}']}}]\n"
                + scrape_extra)
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


# ------------------------------------------------ pushing (Alertmanager) --

ALERTMANAGER_BIN = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
AM_SENT = "slotap_alertmanager_alerts_sent_total"
AM_FAILED = "slotap_alertmanager_push_failures_total"
AM_BURN = "burn_rate_1h_5m_14.4"


def start_alertmanager(ctx, port=None):
    """Debian's Alertmanager on 127.0.0.1 (no cluster, a receiver that
    sends nothing); stopped by PID with the other processes of the test."""
    if not os.path.exists(ALERTMANAGER_BIN):
        raise HarnessError("prometheus-alertmanager is not installed: run scripts/install-deps.sh")
    d = os.path.join(ctx.tmp, f"alertmanager-{port or 'any'}")
    os.makedirs(d)
    cfg = os.path.join(d, "alertmanager.yml")
    with open(cfg, "w") as f:
        f.write("route: {receiver: none, group_wait: 1s}\nreceivers: [{name: none}]\n")
    port = port or h.free_port()
    p = h.Proc([ALERTMANAGER_BIN, f"--config.file={cfg}", f"--storage.path={d}/data",
                f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
               "alertmanager", ctx.tmp)
    ctx.stops.append(("alertmanager", lambda: p.stop(signal.SIGTERM, 10.0)))
    h.wait_for(lambda: alertmanager_alerts(port) is not None, 20.0, proc=p,
               what="Alertmanager's API")
    return port


def alertmanager_alerts(port):
    """The active alerts Alertmanager holds (its v2 API), or None if it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/alerts?active=true",
                                    timeout=5) as r:
            return json.load(r)
    except OSError:
        return None


def am_alert(port, slo, condition):
    for x in alertmanager_alerts(port) or []:
        if x["labels"].get("slo") == slo and x["labels"].get("condition") == condition:
            return x
    return None


@test("alertmanager_push")
def t_alertmanager_push(ctx):
    """The agent pushes its SLO alerts to a real Alertmanager: the burn-rate
    alert of 10 bad requests in 50 (objective 99%: burn rate 20) arrives
    with the scheme's labels and annotations, and once 40 good requests
    bring the 5m burn rate under 14.4 it is resolved there, long before the
    end the agent's resends set would resolve it."""
    am = start_alertmanager(ctx)
    t = ctx.testd()
    cfg = service_config("testd", t.port, ["/status/{code}"])
    cfg += "slos:\n" + AVAIL_SLO.format(name="avail", service="testd")
    a = ctx.agent(cfg, ["--alertmanager.url", f"http://127.0.0.1:{am}/"])
    avail_traffic(a, t.port, [0, 0], 40, 10)
    # evaluated every 10 s, handed over every 10 s
    h.wait_for(lambda: am_alert(am, "avail", AM_BURN), 40.0, interval=0.5, proc=a.proc,
               what=f"the {AM_BURN} alert in Alertmanager")
    x = am_alert(am, "avail", AM_BURN)
    want = {"alertname": "SlotapErrorBudgetBurn", "slo": "avail", "service": "testd",
            "severity": "page", "condition": AM_BURN, "sli": "availability",
            "slo_window": "28d"}
    got = {k: x["labels"].get(k) for k in want}
    if got != want or x["labels"].get("endpoint", "") != "":
        raise HarnessError(f"alert labels {x['labels']}, want {want} and no endpoint")
    ann = x["annotations"]
    want = {"broken_by": "burn rate 1h 20.00x, 5m 20.00x (>= 14.4x)",
            "budget_remaining": "-1900%",
            "summary": "SLO avail of testd: 2% of a 30-day budget in 1h",
            "description": "The availability SLO, objective 99% over 28d: 2% of a 30-day "
                           "budget in 1h; budget remaining -1900%."}
    if any(ann.get(k) != v for k, v in want.items()):
        raise HarnessError(f"alert annotations {ann}, want {want}")
    # its end is a few resends ahead (4 x 60 s), not now
    ends = datetime.datetime.fromisoformat(x["endsAt"].replace("Z", "+00:00"))
    ahead = (ends - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    if not 120 < ahead <= 245:
        raise HarnessError(f"an active alert ends {ahead:.0f} s ahead, want about 240")
    m = a.metrics()
    if m.total(AM_SENT) < 1 or m.total(AM_FAILED) != 0:
        raise HarnessError(f"{AM_SENT} {m.total(AM_SENT)}, {AM_FAILED} {m.total(AM_FAILED)}")

    avail_traffic(a, t.port, [40, 10], 40, 0)       # 10 bad in 90: burn rate 11.1
    h.wait_for(lambda: not am_alert(am, "avail", AM_BURN), 40.0, interval=0.5, proc=a.proc,
               what=f"the {AM_BURN} alert resolved in Alertmanager")
    # the slower rule holds: still there
    if not am_alert(am, "avail", "burn_rate_6h_30m_6"):
        raise HarnessError("burn_rate_6h_30m_6 (burn rate 11.1 >= 6) left Alertmanager too")
    note(f"alert pushed and resolved; {AM_SENT} {a.metrics().total(AM_SENT)}")


@test("alertmanager_down")
def t_alertmanager_down(ctx):
    """With its Alertmanager down, the agent measures as before: every
    request and SLO event counted; each failed push is counted by reason
    and retried with backoff, and once Alertmanager is up the alert
    arrives."""
    am_port = h.free_port()
    t = ctx.testd()
    cfg = service_config("testd", t.port, ["/status/{code}"])
    cfg += "slos:\n" + AVAIL_SLO.format(name="avail", service="testd")
    a = ctx.agent(cfg, ["--alertmanager.url", f"http://127.0.0.1:{am_port}"])
    want = [0, 0]
    avail_traffic(a, t.port, want, 40, 10)
    m = a.wait_metrics(lambda m: m.total(AM_FAILED, reason="connect") >= 2, timeout=40.0,
                       what="two failed pushes counted")
    if m.total(AM_SENT) != 0:
        raise HarnessError(f"{AM_SENT} is {m.total(AM_SENT)} with nothing listening")
    failed = m.total(AM_FAILED, reason="connect")
    # measurement goes on, exactly
    avail_traffic(a, t.port, want, 30, 0)
    m = wait_counts(a, "testd", 80)
    expect_counts(m, "testd", {("GET", R_STATUS, "200"): 70, ("GET", R_STATUS, "500"): 10})
    check_common(m)
    # backoff: 1 s, 2 s, 4 s, ... apart, not one try per loop turn
    time.sleep(3)
    later = a.metrics().total(AM_FAILED, reason="connect")
    if later - failed > 3:
        raise HarnessError(f"{later - failed} failed pushes in 3 s: no backoff")
    start_alertmanager(ctx, am_port)
    h.wait_for(lambda: am_alert(am_port, "avail", AM_BURN), 70.0, interval=0.5, proc=a.proc,
               what="the alert delivered once Alertmanager is up")
    note(f"{later} failed pushes counted, then delivered")


# ------------------------------------------------------------------ fleet --

FLEET_ROUTES = ["/status/{code}", "/delay/{delay}/status/{code}"]
FLEET_SLOS = ("slos:\n"
              "  - {name: shop-avail, service: shop, sli: availability, objective: 99,\n"
              "     window: 28d, runbook_url: 'https://runbooks.example/shop-avail'}\n"
              "  - {name: shop-latency, service: shop, sli: latency, threshold: 100ms,\n"
              "     objective: 90, window: 28d}\n")
FLEET_SLOW = "/delay/150ms/status/200"      # over shop-latency's 100 ms
DASHBOARD = os.path.join(h.REPO, "deploy", "grafana", "slotap.json")
# what the dashboard's Grafana variables stand for in the fleet test
DASHBOARD_VARS = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "15m",
                  "$job": "slotap", "$service": "shop", "$slo": "shop-avail|shop-latency"}


def fleet_config(port):
    """Replica config: the service shop on its own port; the SLOs every
    replica shares."""
    return services_config(service_item("shop", f"port: {port}", FLEET_ROUTES)) + FLEET_SLOS


def prom_query(port, query, at=None):
    """The result of an instant query through Prometheus' HTTP API; a query
    Prometheus refuses fails the test with its error."""
    args = {"query": query}
    if at is not None:
        args["time"] = f"{at:.3f}"
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode(args)
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            data = json.load(r)
    except urllib.error.HTTPError as e:
        raise HarnessError(f"Prometheus refused {query!r}: {e.read().decode()[:300]}") from None
    if data.get("status") != "success":
        raise HarnessError(f"Prometheus refused {query!r}: {data}")
    return data["data"]["result"]


def prom_by(port, query, *labels):
    """{(label values...): value} of an instant vector query."""
    return {tuple(x["metric"].get(k, "") for k in labels): float(x["value"][1])
            for x in prom_query(port, query)}


def start_fleet_prometheus(ctx, targets, rules, am_port):
    """Debian's Prometheus scraping targets every second, evaluating rules
    (their groups' intervals as given) and sending alerts to Alertmanager."""
    if not os.path.exists(PROMETHEUS_BIN):
        raise HarnessError("prometheus is not installed: run scripts/install-deps.sh")
    d = os.path.join(ctx.tmp, "prometheus")
    os.makedirs(d)
    cfg = os.path.join(d, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                f"rule_files: ['{rules}']\n"
                "alerting:\n"
                f"  alertmanagers: [{{static_configs: [{{targets: ['127.0.0.1:{am_port}']}}]}}]\n"
                "scrape_configs:\n"
                "  - job_name: slotap\n"
                "    static_configs: [{targets: [" +
                ", ".join(f"'127.0.0.1:{p}'" for p in targets) + "]}]\n")
    port = h.free_port()
    p = h.Proc([PROMETHEUS_BIN, f"--config.file={cfg}", f"--storage.tsdb.path={d}/data",
                f"--web.listen-address=127.0.0.1:{port}"], "prometheus", ctx.tmp)
    ctx.stops.append(("prometheus", lambda: p.stop(signal.SIGTERM, 10.0)))

    def up():
        try:
            return prom_by(port, "count(up == 1)").get((), 0)
        except (HarnessError, OSError):
            return 0        # not ready yet
    h.wait_for(lambda: up() == len(targets), 30.0, interval=0.5, proc=p,
               what=f"Prometheus scraping {len(targets)} agents")
    return port


class FleetTraffic:
    """Requests to the replicas, what each answered, and when: the figures
    the fleet must read back. Each batch is a new connection."""

    def __init__(self):
        self.sent = []          # (monotonic end, port, path, status or None: closed)
        self.lock = threading.Lock()

    def batch(self, port, good=0, bad=0, slow=0, closed=0):
        paths = ["/status/200"] * good + ["/status/500"] * bad + [FLEET_SLOW] * slow
        done = []
        for p, r in zip(paths, h.keepalive_requests(port, paths)):
            done.append((time.monotonic(), port, p, r.status))
        for _ in range(closed):
            with h.RawHTTP(port) as c:
                c.sendall(h.build_request("GET", "/close", c.host))
                if not c.expect_close():
                    raise HarnessError("client: /close was answered")
            done.append((time.monotonic(), port, "/close", None))
        with self.lock:
            self.sent += done

    def expected(self, port=None, since=None, until=None):
        """{(slo, result): n} of the requests sent (to port, ended in
        [since, until]), as the SLOs judge them: shop-avail counts every
        request (5xx and closed are bad), shop-latency the answered ones
        (slow ones bad)."""
        n = collections.Counter()
        with self.lock:
            sent = list(self.sent)
        for t, p, path, status in sent:
            if (port and p != port) or (since and t < since) or (until and t > until):
                continue
            n[("shop-avail", "bad" if status is None or status >= 500 else "good")] += 1
            if status is not None:
                n[("shop-latency", "bad" if path == FLEET_SLOW else "good")] += 1
        return {k: n[k] for k in (("shop-avail", "good"), ("shop-avail", "bad"),
                                  ("shop-latency", "good"), ("shop-latency", "bad"))}


def counted_through_samples(prom, window="15m"):
    """{(slo, result): n}: every raw sample of every agent's counter in the
    window, summed as increase() does (a value below the one before is a
    counter reset: a restarted agent counting from 0), without its
    extrapolation to the window's edges; the times of the last samples
    before resets, per instance; and the shortest time a series was
    sampled over (increase() extrapolates by at most 1.1 scrape intervals
    over it: the agents' counters start at 0, so not at its start)."""
    total, resets = collections.Counter(), collections.defaultdict(set)
    sampled = math.inf
    for x in prom_query(prom, f'slotap_slo_events_total{{service="shop"}}[{window}]'):
        vals = [(float(t), float(v)) for t, v in x["values"]]
        sampled = min(sampled, vals[-1][0] - vals[0][0])
        inc = 0.0
        for (t0, v0), (_, v1) in zip(vals, vals[1:]):
            if v1 < v0:
                inc += v1
                resets[x["metric"]["instance"]].add(t0)
            else:
                inc += v1 - v0
        total[(x["metric"]["slo"], x["metric"]["result"])] += inc
    return total, resets, sampled


def dashboard_queries():
    """Every PromQL expression of the dashboard (panel targets, and the
    template variables' label_values() as the series they read), with
    Grafana's variables replaced by the test's values."""
    with open(DASHBOARD) as f:
        dash = json.load(f)
    out = []
    for p in dash["panels"]:
        for t in p.get("targets", []):
            out.append((p["title"], t["expr"]))
    for v in dash["templating"]["list"]:
        if v["type"] != "query":
            continue
        m = re.fullmatch(r"label_values\((.*), *(\w+)\)", v["query"]["query"])
        if not m:
            raise HarnessError(f"dashboard variable {v['name']}: not label_values(): {v['query']}")
        out.append((f"variable {v['name']}", f"count by ({m.group(2)}) ({m.group(1)})"))
    subst = []
    for title, expr in out:
        for var in sorted(DASHBOARD_VARS, key=len, reverse=True):
            expr = expr.replace(var, DASHBOARD_VARS[var])
        if "$" in expr:
            raise HarnessError(f"dashboard panel {title!r}: a variable the test does not "
                               f"know in {expr!r}")
        subst.append((title, expr))
    return subst


def fleet_figure(what, want, got, tol):
    ok = got is not None and (abs(got - want) <= tol if tol else got == want)
    print(f"  fleet: {what:<46} expected {want:>10.4g}  read back {got if got is None else f'{got:.6g}':>10}"
          f"  {'ok' if ok else 'WRONG'}{f' (±{tol:.3g})' if tol else ''}", flush=True)
    return ok


@test("fleet_prometheus")
def t_fleet_prometheus(ctx):
    """Two agents, each measuring its own replica of the service shop (its
    port, its metrics address, its state), a real Prometheus scraping both
    every second with the rules `slotap rules` writes for their config
    (groups evaluated every second), and a real Alertmanager. Traffic with
    known errors to both replicas: the fleet's counts read back through
    Prometheus' API equal the combined traffic exactly, its burn rates,
    SLI and budget (the recording rules) equal those of the combined
    traffic within 2% (increase() extrapolates to its window's end by at
    most 1.1 scrape intervals: 1.1 s over the minute sampled), and
    the page alert reaches Alertmanager with the SLO's runbook_url. Then
    one agent is restarted with SIGTERM (traffic paused: nothing lost) and
    the other killed with SIGKILL under traffic and restarted: the counts
    read back (every raw sample, resets included) are the traffic sent less
    what the kill lost, at most the requests sent to that replica from the
    dead agent's last scrape until its successor measured; the restarted
    agents' counters start at 0 and their SLO windows come back from the
    state. Every query of the Grafana dashboard returns data."""
    am = start_alertmanager(ctx)
    ta, tb = ctx.testd(name="testd-a"), ctx.testd(name="testd-b")
    cfg_a, cfg_b = fleet_config(ta.port), fleet_config(tb.port)
    # one rules file for the fleet: both replicas' configs must give the same
    rules = []
    for name, cfg in (("a", cfg_a), ("b", cfg_b)):
        path = os.path.join(ctx.tmp, f"fleet-{name}.yaml")
        with open(path, "w") as f:
            f.write(cfg)
        out = subprocess.run([h.AGENT_BIN, "rules", "--config", path], capture_output=True,
                             text=True, timeout=30)
        if out.returncode != 0:
            raise HarnessError(f"slotap rules exited {out.returncode}: {out.stderr.strip()}")
        rules.append(out.stdout)
    if rules[0] != rules[1]:
        raise HarnessError("the replicas' configs give different rules")
    rules_path = os.path.join(ctx.tmp, "slotap.rules.yml")
    with open(rules_path, "w") as f:         # evaluated every second, not every minute
        f.write(rules[0].replace("  interval: 60s\n", "  interval: 1s\n"))
    # the default --state-interval (10 s): a kill loses seconds of the state
    port_a, port_b = h.free_port(), h.free_port()

    def agent(name, cfg, port):
        return ctx.agent(cfg, ["--state-dir", os.path.join(ctx.tmp, f"state-{name}")],
                         name=f"slotap-{name}", port=port)
    a, b = agent("a", cfg_a, port_a), agent("b", cfg_b, port_b)
    prom = start_fleet_prometheus(ctx, [port_a, port_b], rules_path, am)
    prom_started = time.monotonic()
    traffic = FleetTraffic()
    t_start = time.monotonic()

    def own_counts(m):
        return {k: m.value("slotap_slo_events_total", slo=k[0], service="shop", endpoint="",
                           result=k[1]) or 0 for k in traffic.expected()}

    def settled(agent, port, since=None):
        want = traffic.expected(port, since=since)
        agent.wait_metrics(lambda m: own_counts(m) == want,
                           what=f"the agent of :{port} counting {want}")

    def fleet_counts():
        return prom_by(prom, 'sum by (slo, result) (slotap_slo_events_total{service="shop"})',
                       "slo", "result")

    # 1. known errors to both replicas: 20% bad, some slow, some closed unanswered
    traffic.batch(ta.port, good=60, bad=12, slow=5, closed=3)
    traffic.batch(tb.port, good=40, bad=8, slow=5, closed=2)
    settled(a, ta.port)
    settled(b, tb.port)
    want = traffic.expected()
    h.wait_for(lambda: fleet_counts() == {k: float(v) for k, v in want.items()}, 15.0,
               interval=0.5, what=f"the fleet's counts {want} in Prometheus")
    for k, v in fleet_counts().items():
        fleet_figure(f"sum(slotap_slo_events_total) {k[0]} {k[1]}", want[k], v, 0)

    # the page reaches Alertmanager from Prometheus' rules (the agents push nothing)
    def am_fleet_alert():
        for x in alertmanager_alerts(am) or []:
            lb = x["labels"]
            if lb.get("alertname") == "SlotapErrorBudgetBurn" and lb.get("slo") == "shop-avail" \
                    and lb.get("condition") == AM_BURN and lb.get("slo_id") == "shop-avail":
                return x
        return None
    h.wait_for(am_fleet_alert, 40.0, interval=0.5,
               what=f"Prometheus' {AM_BURN} alert of shop-avail in Alertmanager")
    x = am_fleet_alert()
    lb, ann = x["labels"], x["annotations"]
    if lb.get("severity") != "page" or lb.get("service") != "shop" or "instance" in lb or \
            ann.get("runbook_url") != "https://runbooks.example/shop-avail" or \
            not re.fullmatch(r"burn rate 1h [0-9.]+x, 5m [0-9.]+x \(>= 14\.4x\)",
                             ann.get("broken_by", "")):
        raise HarnessError(f"the fleet alert in Alertmanager: labels {lb}, annotations {ann}")
    print(f"  fleet: alert in Alertmanager: {lb['alertname']} {lb['condition']} "
          f"severity={lb['severity']} broken_by={ann['broken_by']!r} "
          f"runbook_url={ann['runbook_url']}", flush=True)

    # 2. SIGTERM b with the traffic paused, once Prometheus has its last counts
    h.wait_for(lambda: prom_by(prom, f'sum(slotap_slo_events_total{{instance="127.0.0.1:{port_b}"}})')
               .get(()) == sum(traffic.expected(tb.port).values()), 10.0, interval=0.3,
               what="Prometheus scraping b's last counts")
    before_b = own_counts(b.metrics())
    b.stop()
    b = agent("b", cfg_b, port_b)
    b_since = time.monotonic()
    m = b.metrics()
    if own_counts(m) != {k: 0 for k in before_b}:
        raise HarnessError(f"b's counters after a SIGTERM restart: {own_counts(m)}, want 0")
    window = {k: m.value(SLO_WINDOW, slo=k[0], service="shop", endpoint="", result=k[1])
              for k in before_b}
    if window != before_b:
        raise HarnessError(f"b's SLO windows after a SIGTERM restart: {window}, want {before_b}")
    traffic.batch(ta.port, good=20, bad=5)
    traffic.batch(tb.port, good=20, bad=5, slow=2)

    # 3. SIGKILL a under traffic to its replica (4 good, 1 bad a batch), restart it
    stop = threading.Event()
    errors = []

    def load():
        try:
            while not stop.is_set():
                traffic.batch(ta.port, good=4, bad=1)
                time.sleep(0.1)
        except Exception as e:  # noqa: BLE001 - reported by the test
            errors.append(e)
    th = threading.Thread(target=load)
    th.start()
    try:
        time.sleep(3.0)
        t_kill = time.monotonic()
        a.kill()
        a = agent("a", cfg_a, port_a)
        t_ready = time.monotonic()
        time.sleep(3.0)
    finally:
        stop.set()
        th.join(30)
    if errors:
        raise HarnessError(f"traffic to a's replica under the kill: {errors[0]}")
    traffic.batch(tb.port, good=8, bad=2)
    settled(b, tb.port, since=b_since)
    since = traffic.expected(ta.port, since=t_ready + 0.3)
    a.wait_metrics(lambda m: all(own_counts(m)[k] >= v for k, v in since.items()),
                   what=f"the restarted agent a counting at least {since}")
    # scraped and evaluated, and sampled for a minute: increase() within 2%
    time.sleep(max(3.0, 62 - (time.monotonic() - prom_started)))

    # 4. the fleet's figures, read back
    sent = traffic.expected()
    counted, resets, sampled = counted_through_samples(prom)
    # the kill can lose what a counted after Prometheus' last scrape of it (its
    # events drained within 0.1 s) and what a's replica served until the new
    # agent measured; nothing else, and nothing twice
    inst_a = f"127.0.0.1:{port_a}"
    if len(resets[inst_a]) != 1:
        raise HarnessError(f"agent a's counters reset {len(resets[inst_a])} times in "
                           f"Prometheus, want once (its restart): {dict(resets)}")
    wall_to_mono = time.monotonic() - time.time()
    last_scrape = min(resets[inst_a]) + wall_to_mono
    at_risk = traffic.expected(ta.port, since=last_scrape - 0.3, until=t_ready + 0.3)
    print(f"  fleet: a killed {t_kill - last_scrape:.2f} s after Prometheus' last scrape of "
          f"it, measuring again {t_ready - t_kill:.2f} s later: "
          f"{sum(at_risk.values())} SLO events of a's replica in between", flush=True)
    ok = True
    for k in sent:
        lost = sent[k] - counted[k]
        good = 0 <= lost <= at_risk[k]
        ok &= good
        print(f"  fleet: {k[0]} {k[1]:<4} sent {sent[k]:>5}  counted through Prometheus "
              f"{counted[k]:>7.0f}  lost {lost:>4.0f} (at most {at_risk[k]})  "
              f"{'ok' if good else 'WRONG'}", flush=True)
    if not ok:
        raise HarnessError(f"the fleet's counts through Prometheus {dict(counted)}, sent {sent}, "
                           f"at most lost at the kill {at_risk}")

    # increase() and the recording rules, against the counts read back (and so
    # the traffic): increase() extrapolates its last sample to the window's
    # end, by at most 1.1 scrape intervals (1.1 s) over the time sampled
    ext = 1.1 / sampled
    print(f"  fleet: series sampled over {sampled:.1f} s: increase() within +{100 * ext:.1f}%",
          flush=True)
    ok = True
    q = prom_by(prom, 'sum by (slo, result) (increase(slotap_slo_events_total{service="shop"}[1h]))',
                "slo", "result")
    for k in sent:
        ok &= fleet_figure(f"increase(...[1h]) {k[0]} {k[1]}", counted[k], q.get(k),
                           ext * counted[k] + 0.5)
    for slo, budget in (("shop-avail", 0.01), ("shop-latency", 0.1)):
        bad, total = counted[(slo, "bad")], counted[(slo, "bad")] + counted[(slo, "good")]
        sel = f'{{slo="{slo}",service="shop"}}'
        got = {r: prom_by(prom, f"slotap_slo:{r}{sel}").get(()) for r in (
            "events:increase1h", "bad_events:increase1h", "burn_rate:ratio1h",
            "burn_rate:ratio5m", "sli:ratio", "error_budget_remaining:ratio")}
        burn, remaining = bad / total / budget, 1 - bad / (budget * total)
        ok &= fleet_figure(f"slotap_slo:events:increase1h {slo}", total,
                           got["events:increase1h"], ext * total + 0.5)
        ok &= fleet_figure(f"slotap_slo:bad_events:increase1h {slo}", bad,
                           got["bad_events:increase1h"], ext * bad + 0.5)
        # a ratio of two sums whose terms are each stretched by 1 to 1 + ext
        ok &= fleet_figure(f"slotap_slo:burn_rate:ratio1h {slo}", burn,
                           got["burn_rate:ratio1h"], ext * burn)
        if time.monotonic() - t_start < 270:    # every request still in the 5m window
            ok &= fleet_figure(f"slotap_slo:burn_rate:ratio5m {slo}", burn,
                               got["burn_rate:ratio5m"], ext * burn)
        ok &= fleet_figure(f"slotap_slo:sli:ratio {slo}", 1 - bad / total, got["sli:ratio"],
                           ext * bad / total)
        ok &= fleet_figure(f"slotap_slo:error_budget_remaining:ratio {slo}", remaining,
                           got["error_budget_remaining:ratio"], ext * (1 - remaining))
    if not ok:
        raise HarnessError("the fleet's figures through Prometheus differ from the traffic "
                           "(see the lines above)")
    if not am_fleet_alert():
        raise HarnessError("the fleet alert left Alertmanager while the burn rate stayed high")

    # 5. every query of the dashboard returns data from this fleet
    empty = []
    queries = dashboard_queries()
    for title, expr in queries:
        if not prom_query(prom, expr):
            empty.append(f"{title}: {expr}")
    print(f"  fleet: dashboard: {len(queries) - len(empty)} of {len(queries)} queries return data",
          flush=True)
    if empty:
        raise HarnessError("dashboard queries without data: " + "; ".join(empty))


# ------------------------------------------------------- pushing (OTLP) --

OTLP_NPM_DIR = os.path.join(h.REPO, "build", "npm")
# the last release that ships its protobufjs code generated from opentelemetry-proto
OTLP_NPM_PACKAGE = "@opentelemetry/otlp-transformer@0.200.0"
OTLP_FAILED = "slotap_otlp_export_failures_total"
OTLP_EXPORTS = "slotap_otlp_exports_total"
TEMPORALITY_CUMULATIVE = 2
# the endpoint's own counters (metrics_server.c) come after the agent's exposition
WEB_OWN = {"slotap_web_requests_unauthorized_total", "slotap_web_connections_rejected_total",
           "slotap_web_connections_timed_out_total"}


def otlp_decoder():
    """node and the OpenTelemetry definitions, installed with npm into build/npm once."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise HarnessError("node and npm are needed to decode OTLP: run scripts/install-deps.sh")
    root = os.path.join(OTLP_NPM_DIR, "node_modules", "@opentelemetry", "otlp-transformer",
                        "build", "src", "generated", "root.js")
    if not os.path.exists(root):
        r = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", OTLP_NPM_DIR,
                            OTLP_NPM_PACKAGE], capture_output=True, text=True, timeout=300)
        if r.returncode != 0 or not os.path.exists(root):
            raise HarnessError(f"npm install {OTLP_NPM_PACKAGE}: {r.stderr.strip()[-300:]}")
    return node


def otlp_decode(node, path):
    r = subprocess.run([node, os.path.join(h.REPO, "tests", "integration", "otlp_decode.js"), path],
                       capture_output=True, text=True, timeout=60,
                       env={**os.environ, "NODE_PATH": os.path.join(OTLP_NPM_DIR, "node_modules")})
    if r.returncode != 0:
        raise HarnessError(f"decoding {path}: {r.stderr.strip()[-300:]}")
    return json.loads(r.stdout)


def exposition_families(text):
    """{name: (type, [(sample name, {labels}, value)])} of an exposition."""
    fams, cur = {}, None
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            cur = fams.setdefault(name, (typ, []))
        elif line and not line.startswith("#"):
            m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
            labels = dict((k, v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\"))
                          for k, v in re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"',
                                                 m.group(2) or ""))
            cur[1].append((m.group(1), labels, float(m.group(3))))
    return fams


def otlp_attrs(point):
    return {kv["key"]: kv["value"].get("stringValue") for kv in point.get("attributes", [])}


@test("otlp_push")
def t_otlp_push(ctx):
    """--otlp.endpoint pushes the metrics as OTLP over HTTP/protobuf to a
    receiver that refuses the first two exports (503: counted, retried with
    backoff). Decoded with the OpenTelemetry project's own definitions, an
    export after the traffic holds every family /metrics shows: the request
    histogram with cumulative temporality, the same bounds and bucket
    counts, sum and count; counters as monotonic cumulative sums and gauges
    with the same values; service.name and host.name on the resource."""
    node = otlp_decoder()
    port, d = h.free_port(), os.path.join(ctx.tmp, "otlp")
    os.makedirs(d)
    rcv = h.Proc([sys.executable, os.path.join(h.REPO, "tests", "integration", "otlp_receiver.py"),
                  str(port), d, "--fail-first", "2"], "otlp-receiver", ctx.tmp)
    ctx.stops.append(("otlp-receiver", lambda: rcv.stop(signal.SIGTERM, 5.0)))
    h.wait_for(lambda: h.port_open(port), 10.0, proc=rcv, what="the OTLP receiver")
    t = ctx.testd()
    cfg = service_config("testd", t.port, ["/status/{code}", "/delay/{delay}/status/{code}"])
    cfg += "slos:\n" + AVAIL_SLO.format(name="avail", service="testd")
    a = ctx.agent(cfg, ["--otlp.endpoint", f"http://127.0.0.1:{port}", "--otlp.interval", "1"])
    plan = ["/status/200"] * 20 + ["/status/503"] * 3 + ["/delay/30ms/status/200"] * 4
    h.keepalive_requests(t.port, plan)
    wait_counts(a, "testd", len(plan))
    m = a.wait_metrics(lambda m: m.total(OTLP_FAILED, reason="http_5xx") >= 2 and
                       m.value(OTLP_EXPORTS) >= 1, timeout=30.0,
                       what="two refused exports, then one accepted")
    # an export made after every count settled, then the scrape to compare it with
    def exports():
        return len([f for f in os.listdir(d) if f.endswith(".bin")])
    done = exports()
    h.wait_for(lambda: exports() >= done + 2, 15.0, proc=a.proc, what="two more exports")
    with urllib.request.urlopen(f"http://127.0.0.1:{a.port}/metrics", timeout=10) as r:
        fams = exposition_families(r.read().decode())
    last = sorted(f for f in os.listdir(d) if f.endswith(".bin"))[-1]
    meta = open(os.path.join(d, last + ".meta")).read()
    if "'/v1/metrics'" not in meta or "application/x-protobuf" not in meta:
        raise HarnessError(f"export posted as {meta}, want /v1/metrics, application/x-protobuf")
    req = otlp_decode(node, os.path.join(d, last))
    rm = req["resourceMetrics"]
    if len(rm) != 1:
        raise HarnessError(f"{len(rm)} resourceMetrics, want 1")
    res = otlp_attrs(rm[0]["resource"])
    if res.get("service.name") != "slotap" or res.get("host.name") != socket.gethostname():
        raise HarnessError(f"resource attributes {res}")
    metrics = {x["name"]: x for sm in rm[0]["scopeMetrics"] for x in sm["metrics"]}
    missing = set(fams) - WEB_OWN - set(metrics)
    if missing or set(metrics) - set(fams):
        raise HarnessError(f"families not exported: {sorted(missing)}; "
                           f"not in /metrics: {sorted(set(metrics) - set(fams))}")

    # the request histogram: bounds, per-bucket counts, sum and count per series
    hist = metrics[h.HIST]
    if "histogram" not in hist or \
            hist["histogram"]["aggregationTemporality"] != TEMPORALITY_CUMULATIVE or \
            hist.get("unit") != "s":
        raise HarnessError(f"{h.HIST}: {json.dumps(hist)[:300]}")
    points = {tuple(sorted(otlp_attrs(p).items())): p for p in hist["histogram"]["dataPoints"]}
    want = {}
    for name, labels, v in fams[h.HIST][1]:
        key = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
        w = want.setdefault(key, {"le": [], "cum": [], "sum": 0.0, "count": 0})
        if name.endswith("_bucket"):
            w["le"].append(labels["le"])
            w["cum"].append(int(v))
        elif name.endswith("_sum"):
            w["sum"] = v
        else:
            w["count"] = int(v)
    if set(points) != set(want):
        raise HarnessError(f"histogram series {sorted(points)}, want {sorted(want)}")
    for key, w in want.items():
        p = points[key]
        bounds = [float(b) for b in w["le"] if b != "+Inf"]
        cum = list(itertools.accumulate(int(c) for c in p["bucketCounts"]))
        if p.get("explicitBounds") != bounds or cum != w["cum"] or \
                int(p["count"]) != w["count"] or \
                not math.isclose(p.get("sum", 0.0), w["sum"], rel_tol=1e-9):
            raise HarnessError(f"series {dict(key)}: OTLP bounds {p.get('explicitBounds')} "
                               f"cumulative {cum} count {p['count']} sum {p.get('sum')}, "
                               f"/metrics le {w['le']} {w['cum']} {w['count']} {w['sum']}")
    status = collections.Counter()
    for k in points:
        status[dict(k)["http_response_status_code"]] += int(points[k]["count"])
    if status != {"200": 24, "503": 3}:
        raise HarnessError(f"requests by status in OTLP {status}")

    # a counter and a gauge that do not move between the export and the scrape
    for name, kind in (("slotap_slo_events_total", "sum"), ("slotap_slo_objective_ratio", "gauge"),
                       ("slotap_events_received_total", "sum")):
        x = metrics[name]
        if kind not in x:
            raise HarnessError(f"{name} is not a {kind}: {json.dumps(x)[:200]}")
        if kind == "sum" and (x["sum"]["aggregationTemporality"] != TEMPORALITY_CUMULATIVE or
                              not x["sum"].get("isMonotonic")):
            raise HarnessError(f"{name}: not a monotonic cumulative sum")
        got = {tuple(sorted(otlp_attrs(p).items())): p.get("asDouble", 0.0)
               for p in x[kind]["dataPoints"]}
        exp = {tuple(sorted(l.items())): v for _, l, v in fams[name][1]}
        if got != exp:
            raise HarnessError(f"{name}: OTLP {got}, /metrics {exp}")
    note(f"{len(metrics)} families, {len(points)} histogram series decoded; "
         f"{m.total(OTLP_FAILED)} refused exports retried")


def healthz(port):
    """(status, body) of GET /healthz."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@test("healthz")
def t_healthz(ctx):
    """GET /healthz answers 200 while the programs are attached and the ring
    buffer is drained; with the main loop stalled (a state save whose fsync
    hangs: tests/fault/fsync_stall.c preloaded) 503 and how long since the
    last drain, while /metrics still answers; 200 again once it goes on."""
    t = ctx.testd()
    cfg = service_config("testd", t.port, ["/status/{code}"])
    cfg += "slos:\n" + AVAIL_SLO.format(name="avail", service="testd")
    switch = os.path.join(ctx.tmp, "stall")
    env = {"LD_PRELOAD": os.path.join(h.BUILD, "tests", "libfsync_stall.so"),
           "SLOTAP_FAULT_STALL": switch}
    a = ctx.agent(cfg, ["--state-dir", os.path.join(ctx.tmp, "state"), "--state-interval", "1"],
                  env=env)
    # from the main loop's first drain, a moment after the ready line
    h.wait_for(lambda: healthz(a.port)[0] == 200, 5.0, interval=0.1, proc=a.proc,
               what="/healthz healthy")
    code, body = healthz(a.port)
    if code != 200 or not body.startswith("ok: kernel programs attached"):
        raise HarnessError(f"/healthz of a running agent: {code} {body!r}")
    try:
        Path(switch).touch()
        avail_traffic(a, t.port, [0, 0], 5, 0)      # something to save: its fsync hangs
        h.wait_for(lambda: healthz(a.port)[0] == 503, 20.0, interval=0.5, proc=a.proc,
                   what="/healthz saying the agent stalled")
        code, body = healthz(a.port)
        if not re.match(r"stalled: the ring buffer was last drained 1[0-9.]+ s ago", body):
            raise HarnessError(f"/healthz of a stalled agent: {code} {body!r}")
        if a.metrics().total(h.HIST + "_count", service_name="testd", http_request_method="GET",
                             http_route="/status/{code}", http_response_status_code="200") != 5:
            raise HarnessError("/metrics did not answer while the agent stalled")
    finally:
        Path(switch).unlink(missing_ok=True)
    h.wait_for(lambda: healthz(a.port)[0] == 200, 10.0, interval=0.2, proc=a.proc,
               what="/healthz healthy again")


# ------------------------------------------------------------ deploy/ --

@test("deploy_files")
def t_deploy_files(ctx):
    """deploy/slotap.service passes systemd-analyze verify (its ExecStart
    pointed at build/slotap) and bounds the agent to SECURITY.md's
    capabilities and CAP_SETPCAP, on a read-only system with its own state
    directory; deploy/kubernetes/slotap.yaml parses into a ConfigMap whose
    config the agent accepts and a DaemonSet with what it needs (host PID
    and network, the same capabilities, the mounts it names, /healthz
    probes, the scrape annotations)."""
    sa = shutil.which("systemd-analyze")
    if not sa:
        raise HarnessError("systemd-analyze is missing: run scripts/install-deps.sh (systemd)")
    import yaml
    caps = documented_capabilities() + ["CAP_SETPCAP"]
    unit = (h.REPO / "deploy" / "slotap.service").read_text()
    local = os.path.join(ctx.tmp, "slotap.service")
    Path(local).write_text(unit.replace("/usr/local/bin/slotap", str(h.AGENT_BIN)))
    r = subprocess.run([sa, "verify", local], capture_output=True, text=True, timeout=60)
    if r.returncode != 0 or r.stderr.strip():
        raise HarnessError(f"systemd-analyze verify: {r.stderr.strip()}")
    keys = dict(re.findall(r"^([A-Za-z]+)=(.*)$", unit, re.M))
    want = {"ProtectSystem": "strict", "NoNewPrivileges": "yes", "StateDirectory": "slotap",
            "StateDirectoryMode": "0700", "PrivateTmp": "yes"}
    got = {k: keys.get(k) for k in want}
    if got != want or sorted(keys.get("CapabilityBoundingSet", "").split()) != sorted(caps):
        raise HarnessError(f"slotap.service: {got}, CapabilityBoundingSet "
                           f"{keys.get('CapabilityBoundingSet')}; want {want}, {caps}")

    docs = {d["kind"]: d for d in
            yaml.safe_load_all((h.REPO / "deploy" / "kubernetes" / "slotap.yaml").read_text())}
    if set(docs) != {"Namespace", "ConfigMap", "DaemonSet"}:
        raise HarnessError(f"kinds {sorted(docs)}")
    cfg = os.path.join(ctx.tmp, "slotap.yaml")
    Path(cfg).write_text(docs["ConfigMap"]["data"]["slotap.yaml"])
    ds = docs["DaemonSet"]["spec"]
    pod = ds["template"]["spec"]
    c = pod["containers"][0]
    args = [x.replace("$(NODE_IP)", "127.0.0.1") for x in c["args"]]
    r = subprocess.run([h.AGENT_BIN, "--check-config", *args, f"--config={cfg}"],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise HarnessError(f"the DaemonSet's args and ConfigMap: {r.stderr.strip()}")
    labels = ds["template"]["metadata"]["labels"]
    if any(labels.get(k) != v for k, v in ds["selector"]["matchLabels"].items()):
        raise HarnessError(f"selector {ds['selector']} does not match the pod's labels {labels}")
    ann = ds["template"]["metadata"]["annotations"]
    if ann.get("prometheus.io/scrape") != "true" or ann.get("prometheus.io/port") != "9464":
        raise HarnessError(f"scrape annotations {ann}")
    sc = c["securityContext"]
    if sorted("CAP_" + x for x in sc["capabilities"]["add"]) != sorted(caps) or \
            sc["capabilities"]["drop"] != ["ALL"] or sc.get("privileged"):
        raise HarnessError(f"capabilities {sc['capabilities']}, want {caps} and drop ALL")
    if not pod.get("hostPID") or not pod.get("hostNetwork"):
        raise HarnessError("the DaemonSet needs hostPID and hostNetwork")
    for p in ("livenessProbe", "readinessProbe"):
        if c.get(p, {}).get("httpGet", {}).get("path") != "/healthz":
            raise HarnessError(f"{p}: {c.get(p)}")
    vols = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    if any(n not in vols for n in mounts.values()) or \
            {"/etc/slotap", "/var/lib/slotap", "/sys/kernel/btf", "/sys/fs/cgroup"} - set(mounts):
        raise HarnessError(f"mounts {mounts}, volumes {sorted(vols)}")


# ---------------------------------------------- the metrics endpoint (web) --

WEB_SERVICE_PORT = 18099     # a service nobody serves: the agent stays idle
WEB_TIMEOUT_S = 10           # metrics_server.h: METRICS_SERVER_TIMEOUT_S
WEB_PER_CLIENT = 4           # METRICS_SERVER_MAX_PER_CLIENT
WEB_MAX_CONNECTIONS = 32     # METRICS_SERVER_MAX_CONNECTIONS
WEB_SCRAPE_MAX_S = 2.0       # what a scrape may take while the endpoint is under siege
OPENSSL_BIN = shutil.which("openssl") or "/usr/bin/openssl"
WEB_UNAUTH = "slotap_web_requests_unauthorized_total"
WEB_REJECTED = "slotap_web_connections_rejected_total"
WEB_TIMED_OUT = "slotap_web_connections_timed_out_total"


def make_pki(ctx):
    """A CA, a server certificate for 127.0.0.1 it signs, a client one (for
    clientAuth), and a client certificate of another CA, made by openssl in
    the test's temp dir. Returns {name: path}."""
    if not os.access(OPENSSL_BIN, os.X_OK):
        raise HarnessError("openssl is not installed: run scripts/install-deps.sh")
    d = os.path.join(ctx.tmp, "pki")
    os.makedirs(d)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*argv):
        r = subprocess.run([OPENSSL_BIN, *argv], cwd=d, capture_output=True, text=True,
                           timeout=30)
        if r.returncode:
            raise HarnessError(f"openssl {argv[0]}: {r.stderr.strip()[-200:]}")

    def ext(name, text):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)

    for ca in ("ca", "other-ca"):
        run("req", "-x509", *ec, "-days", "2", "-subj", f"/CN=slotap test {ca}",
            "-keyout", f"{ca}.key", "-out", f"{ca}.crt")
    ext("server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                      "extendedKeyUsage=serverAuth\n")
    ext("client.ext", "extendedKeyUsage=clientAuth\n")
    for name, ca, e in (("server", "ca", "server.ext"), ("client", "ca", "client.ext"),
                        ("stranger", "other-ca", "client.ext")):
        run("req", *ec, "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.csr")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-days", "2", "-extfile", e, "-out", f"{name}.crt")
    return {n: os.path.join(d, n) for n in os.listdir(d)}


def bcrypt(password, cost=6):
    """A bcrypt hash from libxcrypt, the library the agent verifies with."""
    import ctypes
    lib = ctypes.CDLL("libcrypt.so.1")
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt.restype = ctypes.c_char_p
    salt = lib.crypt_gensalt(b"$2b$", cost, None, 0)
    h = lib.crypt(password.encode(), salt)
    if not h or not h.startswith(b"$2b$"):
        raise HarnessError(f"libcrypt made no bcrypt hash: {h!r}")
    return h.decode()


def web_agent(ctx, web_yaml):
    """An agent whose /metrics follows web_yaml (written to the temp dir)."""
    path = os.path.join(ctx.tmp, "web.yml")
    with open(path, "w") as f:
        f.write(web_yaml)
    return ctx.agent(service_config("web", WEB_SERVICE_PORT), args=["--web.config.file", path])


def curl(ctx, url, *args, timeout=10.0):
    """curl; returns (exit status, HTTP status or 0, response headers, body)."""
    n = next(CURL_SEQ)
    hdr, body = os.path.join(ctx.tmp, f"curl{n}.h"), os.path.join(ctx.tmp, f"curl{n}.body")
    p = h.run_to_end([h.CURL_BIN, "-sS", "--noproxy", "*", "--max-time", f"{timeout / 2:g}",
                      "-D", hdr, "-o", body, "-w", "%{http_code}", *args, url],
                     ctx.tmp, "curl", timeout)
    code = p.stdout().strip()

    def read(path):
        return open(path, errors="replace").read() if os.path.exists(path) else ""
    return p.returncode, int(code) if code.isdigit() else 0, read(hdr), read(body)


CURL_SEQ = iter(range(1 << 30))


def expect_status(what, got, want):
    rc, code, headers, body = got
    if code != want:
        raise HarnessError(f"{what}: HTTP {code} (curl exit {rc}), expected {want}: "
                           f"{(headers + body)[:300]!r}")


def expect_refused(what, got):
    rc, code, headers, body = got
    if rc == 0 or code != 0:
        raise HarnessError(f"{what}: answered HTTP {code} (curl exit {rc}), expected no "
                           f"answer: {(headers + body)[:200]!r}")


def header_of(headers, name):
    for line in headers.splitlines():
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def web_counters(body):
    m = h.Metrics(body)
    return {k: m.value(n, **{"reason": r} if r else {})
            for k, n, r in (("no_credentials", WEB_UNAUTH, "no_credentials"),
                            ("wrong_credentials", WEB_UNAUTH, "wrong_credentials"),
                            ("per_client_limit", WEB_REJECTED, "per_client_limit"),
                            ("connection_limit", WEB_REJECTED, "connection_limit"),
                            ("client_certificate", WEB_REJECTED, "client_certificate"),
                            ("timed_out", WEB_TIMED_OUT, None))}


def expect_web_counters(body, **want):
    got = web_counters(body)
    bad = {k: (got[k], v) for k, v in want.items() if got[k] != v}
    if bad:
        raise HarnessError("self-metrics (got, want): " + ", ".join(
            f"{k} {g}, {w}" for k, (g, w) in bad.items()))


def run_status(ctx, port, *args):
    p = h.run_to_end([h.AGENT_BIN, "status", "--web.listen-address", f"127.0.0.1:{port}",
                      "--json", *args], ctx.tmp, "status", 20.0)
    return p.returncode, p.stdout(), p.stderr()


WEB_BAD_CONFIGS = [
    # (name, web config text, expected "LINE:COL: message" start)
    ("unsupported_key", "tls_server_config:\n  cert_file: {server_crt}\n"
     "  key_file: {server_key}\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
     "4:3: tls_server_config: cipher_suites is not supported"),
    ("key_mismatch", "tls_server_config:\n  cert_file: {server_crt}\n"
     "  key_file: {client_key}\n", "3:13: tls_server_config.key_file: does not go with"),
    ("plain_password", "basic_auth_users:\n  alice: secret\n",
     "2:10: basic_auth_users: user \"alice\": not a bcrypt hash"),
    ("missing_file", "tls_server_config:\n  cert_file: nowhere.crt\n  key_file: {server_key}\n",
     "2:14: tls_server_config.cert_file: cannot read"),
]


@test("web_config_errors")
def t_web_config_errors(ctx):
    """A bad --web.config.file: exit 2 with one line FILE:LINE:COL: message,
    before any BPF program is loaded, and --check-config says the same."""
    pki = make_pki(ctx)
    for name, text, want in WEB_BAD_CONFIGS:
        path = os.path.join(ctx.tmp, f"web-{name}.yml")
        with open(path, "w") as f:
            f.write(text.format(server_crt=pki["server.crt"], server_key=pki["server.key"],
                                client_key=pki["client.key"]))
        for extra in ([], ["--check-config"]):
            before = set(h.agent_programs())
            p = h.Proc([h.AGENT_BIN, "--web.config.file", path, "--web.listen-address",
                        f"127.0.0.1:{h.free_port()}", "--state-dir", "", *extra],
                       f"slotap-{name}", ctx.tmp)
            rc = p.wait(20.0)
            if rc is None:
                p.stop()
                raise HarnessError(f"{name}: agent still running 20s after a bad web config")
            err = [line for line in p.stderr().splitlines() if line.strip()]
            if rc != 2 or len(err) != 1:
                raise HarnessError(f"{name} {extra}: exit {rc}, {len(err)} lines, expected "
                                   f"exit 2 and 1 line: {err[:3]}")
            if f"{path}:{want}" not in err[0]:
                raise HarnessError(f"{name}: {err[0]!r}, expected {path}:{want}...")
            if h.READY_MARK in p.stderr():
                raise HarnessError(f"{name}: agent said it was ready")
            left = h.stray_agent_programs(before)
            if left:
                raise HarnessError(f"{name}: BPF programs loaded: {sorted(left.values())}")


@test("web_tls_basic_auth")
def t_web_tls_basic_auth(ctx):
    """TLS and basic auth: curl over https trusting the test CA with the
    right password gets the metrics; plain HTTP, an untrusted certificate,
    no or wrong credentials do not (401 with WWW-Authenticate, counted);
    POST is 405 with Allow; the configured header is on every response;
    slotap status reads it with --cacert, --user and --password-file."""
    pki = make_pki(ctx)
    a = web_agent(ctx, "tls_server_config:\n"
                       f"  cert_file: {pki['server.crt']}\n"
                       f"  key_file: {pki['server.key']}\n"
                       "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
                       "basic_auth_users:\n"
                       f"  prometheus: {bcrypt('s3cret pass')}\n"
                       f"  other: {bcrypt('other')}\n")
    url = f"https://127.0.0.1:{a.port}/metrics"
    ca = ["--cacert", pki["ca.crt"]]
    ok = curl(ctx, url, *ca, "-u", "prometheus:s3cret pass")
    expect_status("right password", ok, 200)
    if "slotap_build_info" not in ok[3]:
        raise HarnessError(f"no slotap_build_info in the metrics: {ok[3][:200]!r}")
    if header_of(ok[2], "X-Frame-Options") != "deny":
        raise HarnessError(f"X-Frame-Options is {header_of(ok[2], 'X-Frame-Options')}")
    expect_refused("plain HTTP", curl(ctx, f"http://127.0.0.1:{a.port}/metrics"))
    expect_refused("no --cacert", curl(ctx, url, "-u", "prometheus:s3cret pass"))
    expect_refused("TLS 1.1 at most", curl(ctx, url, *ca, "--tls-max", "1.1"))
    for what, creds, reason in (("no credentials", [], "no_credentials"),
                                ("wrong password", ["-u", "prometheus:s3cret"], "wrong"),
                                ("another's password", ["-u", "prometheus:other"], "wrong"),
                                ("unknown user", ["-u", "nobody:s3cret pass"], "wrong")):
        r = curl(ctx, url, *ca, *creds)
        expect_status(what, r, 401)
        if header_of(r[2], "WWW-Authenticate") != 'Basic realm="slotap"':
            raise HarnessError(f"{what}: WWW-Authenticate is "
                               f"{header_of(r[2], 'WWW-Authenticate')!r}")
        if header_of(r[2], "X-Frame-Options") != "deny":
            raise HarnessError(f"{what}: no X-Frame-Options on the 401")
        if "slotap_" in r[3]:
            raise HarnessError(f"{what}: metrics in the 401's body")
    r = curl(ctx, url, *ca, "-u", "prometheus:s3cret pass", "-X", "POST", "-d", "x=1")
    expect_status("POST", r, 405)
    if header_of(r[2], "Allow") != "GET, HEAD":
        raise HarnessError(f"405 without Allow: GET, HEAD: {r[2]!r}")
    r = curl(ctx, url, *ca, "-u", "prometheus:s3cret pass", "-I")
    expect_status("HEAD", r, 200)

    pw = os.path.join(ctx.tmp, "password")
    with open(pw, "w") as f:
        f.write("s3cret pass\n")
    rc, out, err = run_status(ctx, a.port, *ca, "--user", "prometheus", "--password-file", pw)
    if rc != 0 or not out.lstrip().startswith("{"):
        raise HarnessError(f"slotap status over TLS: exit {rc}: {err.strip()[-200:]}")
    rc, out, err = run_status(ctx, a.port, *ca)
    if rc != 1 or "401" not in err:
        raise HarnessError(f"slotap status without credentials: exit {rc}, {err.strip()!r}")
    rc, out, err = run_status(ctx, a.port, "--user", "prometheus", "--password-file", pw)
    if rc != 1:
        raise HarnessError(f"slotap status over plain HTTP to a TLS agent: exit {rc}")

    r = curl(ctx, url, *ca, "-u", "prometheus:s3cret pass")
    expect_status("scrape", r, 200)
    # the status run without credentials is one more no_credentials
    expect_web_counters(r[3], no_credentials=2, wrong_credentials=3, per_client_limit=0,
                        connection_limit=0, client_certificate=0, timed_out=0)


@test("web_client_cert")
def t_web_client_cert(ctx):
    """client_auth_type RequireAndVerifyClientCert: a client certificate the
    CA signed for clientAuth gets the metrics (curl, slotap status); none,
    another CA's, or the server's own (serverAuth only) fail the handshake,
    each counted."""
    pki = make_pki(ctx)
    a = web_agent(ctx, "tls_server_config:\n"
                       f"  cert_file: {pki['server.crt']}\n"
                       f"  key_file: {pki['server.key']}\n"
                       "  client_auth_type: RequireAndVerifyClientCert\n"
                       f"  client_ca_file: {pki['ca.crt']}\n")
    url = f"https://127.0.0.1:{a.port}/metrics"
    ca = ["--cacert", pki["ca.crt"]]

    def cert(name):
        return ["--cert", pki[f"{name}.crt"], "--key", pki[f"{name}.key"]]
    expect_status("client certificate", curl(ctx, url, *ca, *cert("client")), 200)
    expect_refused("no client certificate", curl(ctx, url, *ca))
    expect_refused("another CA's certificate", curl(ctx, url, *ca, *cert("stranger")))
    expect_refused("a serverAuth certificate", curl(ctx, url, *ca, *cert("server")))
    rc, out, err = run_status(ctx, a.port, *ca, *cert("client"))
    if rc != 0:
        raise HarnessError(f"slotap status with a client certificate: exit {rc}: {err[-200:]}")
    r = curl(ctx, url, *ca, *cert("client"))
    expect_status("scrape", r, 200)
    expect_web_counters(r[3], no_credentials=0, wrong_credentials=0, client_certificate=3,
                        timed_out=0)


def scrape_timed(port, what):
    """One plain scrape from 127.0.0.1; fails unless 200 within WEB_SCRAPE_MAX_S."""
    t0 = time.monotonic()
    try:
        body = h.fetch_text(f"http://127.0.0.1:{port}/metrics", timeout=WEB_SCRAPE_MAX_S)
    except OSError as e:
        raise HarnessError(f"scrape {what}: {e}") from None
    dt = time.monotonic() - t0
    if dt > WEB_SCRAPE_MAX_S:
        raise HarnessError(f"scrape {what} took {dt:.2f}s, more than {WEB_SCRAPE_MAX_S}s")
    return body


class Siege:
    """Connections from one loopback address that send nothing (idle) or
    a request head a byte per second (slow); records when each was closed."""

    def __init__(self, port, source, n, slow):
        self.socks, self.opened, self.closed = [], {}, {}
        self.slow = slow
        self.head = b"GET /metrics HTTP/1.1\r\nHost: x\r\nUser-Agent: slowloris\r\n" * 4
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((source, 0))
            s.connect(("127.0.0.1", port))
            s.setblocking(False)
            self.socks.append(s)
            self.opened[s] = time.monotonic()
        self.sent = 0

    def step(self):
        """Sends the next byte on every open slow socket; notes closes."""
        now = time.monotonic()
        for s in self.socks:
            if s in self.closed:
                continue
            try:
                if s.recv(1) == b"":
                    self.closed[s] = now
                    continue
            except BlockingIOError:
                pass
            except OSError:
                self.closed[s] = now
                continue
            if self.slow:
                try:
                    s.send(self.head[self.sent % len(self.head):][:1])
                except BlockingIOError:
                    pass
                except OSError:
                    self.closed[s] = now
        self.sent += 1

    def lifetimes(self):
        return sorted(self.closed.get(s, math.inf) - self.opened[s] for s in self.socks)

    def close(self):
        for s in self.socks:
            s.close()


@test("web_slow_clients")
def t_web_slow_clients(ctx):
    """Idle and slow clients cannot starve a scrape. 10 idle connections
    from 127.0.0.2 and 10 from 127.0.0.3 sending a request head a byte a
    second: 4 of each are let in, 6 closed at once (per_client_limit); the
    ones let in are shut down 10 s after they connected, whatever they
    trickled (timed_out); meanwhile every scrape from 127.0.0.1 succeeds
    within 2 s. Then 8 addresses x 4 idle connections fill all 32: a scrape
    is refused (connection_limit) until the deadline frees them, at most
    11 s later. A POST is 405 with Allow."""
    a = ctx.agent(service_config("web", WEB_SERVICE_PORT))
    port = a.port
    idle, slow = Siege(port, "127.0.0.2", 10, False), Siege(port, "127.0.0.3", 10, True)
    sieges = [idle, slow]
    try:
        t0 = time.monotonic()
        scrapes = 0
        while time.monotonic() - t0 < WEB_TIMEOUT_S + 3:
            for s in sieges:
                s.step()
            scrape_timed(port, f"at {time.monotonic() - t0:.1f}s of the siege")
            scrapes += 1
            time.sleep(max(0.0, 1.0 - (time.monotonic() - t0) % 1.0))
        for s, name in ((idle, "idle"), (slow, "slow")):
            life = s.lifetimes()
            note(f"{name}: closed after {', '.join(f'{x:.1f}' for x in life)} s")
            rejected = [x for x in life if x < 1.5]
            reaped = [x for x in life if WEB_TIMEOUT_S - 1 <= x <= WEB_TIMEOUT_S + 2.5]
            if len(rejected) != 10 - WEB_PER_CLIENT or len(reaped) != WEB_PER_CLIENT:
                raise HarnessError(f"{name} connections closed after {life} s: expected "
                                   f"{10 - WEB_PER_CLIENT} at once and {WEB_PER_CLIENT} "
                                   f"after ~{WEB_TIMEOUT_S} s")
        m = a.metrics()
        got = (m.value(WEB_REJECTED, reason="per_client_limit"), m.value(WEB_TIMED_OUT))
        if got != (12, 2 * WEB_PER_CLIENT):
            raise HarnessError(f"per_client_limit, timed_out are {got}, expected (12, 8)")
        note(f"{scrapes} scrapes, each within {WEB_SCRAPE_MAX_S}s, during the siege")
        for s in sieges:
            s.close()

        # every slot taken from 8 addresses: refused, counted, freed by the deadline
        sieges = [Siege(port, f"127.0.1.{i}", WEB_PER_CLIENT, False) for i in range(1, 9)]
        t0 = time.monotonic()
        time.sleep(0.3)
        try:
            h.fetch_text(f"http://127.0.0.1:{port}/metrics", timeout=1.0)
            raise HarnessError("a scrape got through 32 open connections")
        except OSError:
            pass
        body = h.wait_for(lambda: _try_scrape(port), WEB_TIMEOUT_S + 3, interval=0.2,
                          what="a scrape once the deadline freed the connections")
        dt = time.monotonic() - t0
        if dt > WEB_TIMEOUT_S + 2:
            raise HarnessError(f"the endpoint was full for {dt:.1f}s, more than "
                               f"{WEB_TIMEOUT_S + 2}s")
        m = h.Metrics(body)
        if not m.value(WEB_REJECTED, reason="connection_limit"):
            raise HarnessError("the refused scrape is not counted as connection_limit")
        note(f"endpoint full for {dt:.1f}s")
        with h.RawHTTP(port) as r:
            r.sendall(h.build_request("POST", "/metrics", body=b"x"))
            resp = r.read_response("POST")
        if resp.status != 405 or resp.header("Allow") != "GET, HEAD":
            raise HarnessError(f"POST: {resp.status}, Allow {resp.header('Allow')!r}")
    finally:
        for s in sieges:
            s.close()


@test("web_prometheus")
def t_web_prometheus(ctx):
    """Debian's Prometheus scrapes an agent behind TLS and basic auth, as a
    scrape config with scheme https, tls_config and basic_auth says."""
    pki = make_pki(ctx)
    a = web_agent(ctx, "tls_server_config:\n"
                       f"  cert_file: {pki['server.crt']}\n"
                       f"  key_file: {pki['server.key']}\n"
                       f"basic_auth_users:\n  prometheus: {bcrypt('scrape me')}\n")
    prom = start_prometheus(ctx, a.port, "    scheme: https\n"
                            f"    tls_config: {{ca_file: {pki['ca.crt']}}}\n"
                            "    basic_auth: {username: prometheus, password: scrape me}\n")
    try:
        h.wait_for(lambda: prometheus_value(prom, 'slotap_build_info{job="slotap"}') == 1,
                   30.0, interval=0.5, what="slotap_build_info through Prometheus")
    except HarnessError:
        raise HarnessError(f"Prometheus has no slotap_build_info: up is "
                           f"{prometheus_value(prom, 'up')}") from None
    if prometheus_value(prom, 'slotap_web_requests_unauthorized_total'
                              '{reason="wrong_credentials"}') != 0:
        raise HarnessError("Prometheus's scrapes were refused")


def _try_scrape(port):
    try:
        return h.fetch_text(f"http://127.0.0.1:{port}/metrics", timeout=1.0)
    except OSError:
        return None


# ------------------------------------------------------------------- TLS --
# Plaintext from uprobes on OpenSSL (docs/tls.md): requests over TLS are
# measured exactly as over cleartext, and their ciphertext is not counted
# not_http.

LIBSSL3 = "/usr/lib/x86_64-linux-gnu/libssl.so.3"
TLS_SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tls_server.py")
TLS_SLOW_READER_SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                      "tls_slow_reader_server.py")
TLS_MEMORY_BIO_SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     "tls_memory_bio_server.py")


def require_libssl3():
    if not os.access(LIBSSL3, os.R_OK):
        raise HarnessError(f"{LIBSSL3} not found: apt-get install libssl3")


def tls_cert(ctx):
    """A self-signed certificate for localhost, made now."""
    cert, key = os.path.join(ctx.tmp, "cert.pem"), os.path.join(ctx.tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    os.chmod(key, 0o644)    # nginx's workers run as nobody
    return cert, key


def tls_plan():
    plan = ["/ok"] * 20 + ["/missing"] * 5 + ["/fail"] * 3
    random.Random(7).shuffle(plan)
    return plan


def tls_requests(port, plan):
    """plan's requests on one keep-alive TLS connection (Python's ssl
    client), then 4 more GET /ok on a connection each (curl -k); returns
    {(path, status): count} as the clients saw it."""
    import http.client
    import ssl
    got = collections.Counter()
    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE
    c = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=tls)
    for p in plan:
        c.request("GET", p)
        r = c.getresponse()
        r.read()
        got[(p, r.status)] += 1
    c.close()
    for _ in range(4):
        out = subprocess.run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}",
                              f"https://127.0.0.1:{port}/ok"],
                             capture_output=True, text=True, timeout=20)
        got[("/ok", int(out.stdout or 0))] += 1
    return got


def tls_expect(a, service, got):
    want = collections.Counter({("/ok", 200): 24, ("/missing", 404): 5, ("/fail", 503): 3})
    expect_client(got, want)
    m = wait_counts(a, service, sum(want.values()))
    expect_counts(m, service, {("GET", p, str(s)): v for (p, s), v in want.items()})
    check_common(m)     # no loss: not_http and tls_unread included
    expect_untracked(a)


@test("tls_python")
def t_tls_python(ctx):
    """Python's ssl module (libssl.so.3, named by --tls-library too): every
    request on a keep-alive connection and on new ones, with its status."""
    require_libssl3()
    port = tls_python_server(ctx)
    a = ctx.agent(service_config("tlspy", port), args=["--tls-library", LIBSSL3])
    tls_expect(a, "tlspy", tls_requests(port, tls_plan()))


def tls_python_server(ctx, port=0, env=None, python=sys.executable):
    """tls_server.py on port (0: one of its own); returns its port."""
    cert, key = tls_cert(ctx)
    ready = os.path.join(ctx.tmp, "tls.ready")
    proc = h.Proc([python, TLS_SERVER, cert, key, ready, str(port)], "tls-server", ctx.tmp,
                  env=env)
    ctx.stops.append(("tls-server", lambda: proc.stop(signal.SIGTERM, 5.0)))
    h.wait_for_file(ready, proc=proc)
    with open(ready) as f:
        return int(f.read())


def tls_probes(m):
    """{(path, found): probes} of slotap_tls_probes."""
    return {(l["path"], l["found"]): v for l, v in m.series("slotap_tls_probes")}


@test("tls_default_later_server")
def t_tls_default_later_server(ctx):
    """No flag: the usual libssl.so.3 is probed from the start, so a TLS
    server started after the agent is measured from its first request."""
    require_libssl3()
    port = h.free_port()
    a = ctx.agent(service_config("tlspy", port))
    m = a.metrics()
    if tls_probes(m).get((LIBSSL3, "default"), 0) < 4:
        raise HarnessError(f"{LIBSSL3} not probed by default: {tls_probes(m)}")
    tls_python_server(ctx, port)
    tls_expect(a, "tlspy", tls_requests(port, tls_plan()))


@test("tls_process_library")
def t_tls_process_library(ctx):
    """A tracked process's own copy of libssl (another inode, as a
    container's would be), found in its /proc/PID/maps within a second of
    it listening on the service's port, probed once however many times it
    is seen, and its TLS requests measured."""
    require_libssl3()
    libdir = os.path.join(ctx.tmp, "lib")
    os.mkdir(libdir)
    shutil.copy(LIBSSL3, os.path.join(libdir, "libssl.so.3"))
    copy = os.path.realpath(os.path.join(libdir, "libssl.so.3"))
    port = h.free_port()
    a = ctx.agent(service_config("tlspy", port))
    env = dict(os.environ, LD_LIBRARY_PATH=libdir)
    # Debian's python3: its _ssl module links libssl.so.3, which the loader finds here
    tls_python_server(ctx, port, env=env, python="/usr/bin/python3")
    m = a.wait_metrics(lambda m: tls_probes(m).get((copy, "process"), 0) >= 4, timeout=10,
                       what=f"{copy} probed")
    if m.value("slotap_tls_attach_failures_total", 0):
        raise HarnessError("TLS attach failures: "
                           f"{m.value('slotap_tls_attach_failures_total')}")
    tls_expect(a, "tlspy", tls_requests(port, tls_plan()))
    m = a.metrics()
    copies = [l for l, _ in m.series("slotap_tls_probes") if l["path"] == copy]
    if len(copies) != 1:
        raise HarnessError(f"the copy probed {len(copies)} times: {tls_probes(m)}")


@test("tls_reload")
def t_tls_reload(ctx):
    """A reload that loads new kernel programs probes the same files again
    (held open by inode, whatever became of their paths): a server's own
    copy of libssl, found in its maps and then deleted from disk, is
    still measured after the swap."""
    require_libssl3()
    libdir = os.path.join(ctx.tmp, "lib")
    os.mkdir(libdir)
    shutil.copy(LIBSSL3, os.path.join(libdir, "libssl.so.3"))
    copy = os.path.realpath(os.path.join(libdir, "libssl.so.3"))
    port, other = h.free_port(), h.free_port()
    a = ctx.agent(service_config("tlspy", port))
    tls_python_server(ctx, port, env=dict(os.environ, LD_LIBRARY_PATH=libdir),
                      python="/usr/bin/python3")
    a.wait_metrics(lambda m: tls_probes(m).get((copy, "process"), 0) >= 4, timeout=10,
                   what=f"{copy} probed")
    os.unlink(copy)     # the path is gone; the file lives on, mapped and held
    plan = ["/ok"] * 6 + ["/missing"] * 2
    got = tls_requests(port, plan)
    a.config.write_text(services_config(service_item("tlspy", f"port: {port}"),
                                        service_item("other", f"port: {other}")))
    os.kill(a.pid, signal.SIGHUP)
    h.wait_for(lambda: "slotap: reloaded" in a.proc.stderr(), 20.0, proc=a.proc,
               what="'reloaded' in the agent's log")
    if "loading the kernel programs anew" not in a.proc.stderr():
        raise HarnessError("the new service did not bring new kernel programs")
    got += tls_requests(port, plan)
    expect_client(got, {("/ok", 200): 20, ("/missing", 404): 4})
    m = wait_counts(a, "tlspy", 24)
    expect_counts(m, "tlspy", {("GET", "/ok", "200"): 20, ("GET", "/missing", "404"): 4})
    if tls_probes(m).get((copy, "process"), 0) < 4:
        raise HarnessError(f"the copy is not probed after the reload: {tls_probes(m)}")
    check_common(m)


@test("tls_no_plaintext")
def t_tls_no_plaintext(ctx):
    """A TLS server whose library gives no plaintext the agent can tie to a
    connection (asyncio: OpenSSL over memory BIOs, no socket operation in
    SSL_read) is not measured, and says so: each of its connections is
    counted once, tls_no_plaintext, at its close; nothing else."""
    require_libssl3()
    port = h.free_port()
    a = ctx.agent(service_config("bio", port))
    cert, key = tls_cert(ctx)
    ready = os.path.join(ctx.tmp, "bio.ready")
    proc = h.Proc([sys.executable, TLS_MEMORY_BIO_SERVER, cert, key, ready, str(port)],
                  "bio-server", ctx.tmp)
    ctx.stops.append(("bio-server", lambda: proc.stop(signal.SIGTERM, 5.0)))
    h.wait_for_file(ready, proc=proc)
    got = tls_requests(port, ["/"] * 6)
    expect_client(got, {("/", 200): 6, ("/ok", 200): 4})
    conns = 5   # the keep-alive one and curl's four
    m = a.wait_metrics(lambda m: m.losses().get("tls_no_plaintext", 0) >= conns, timeout=10,
                       what="tls_no_plaintext counted")
    lost = {r: v for r, v in m.losses().items() if v}
    if lost != {"tls_no_plaintext": conns}:
        raise HarnessError(f"losses {lost}, expected tls_no_plaintext: {conns}")
    if m.request_counts():
        raise HarnessError(f"measured what it cannot see: {m.request_counts()}")


@test("tls_write_retried")
def t_tls_write_retried(ctx):
    """SSL_write retried with the same bytes after it wrote part of them
    (WANT_WRITE, or a partial write) feeds them to the parser once: on a
    connection that pipelined, whose responses are framed to their end, a
    4 MiB body fed twice would run into the next response."""
    require_libssl3()
    port = h.free_port()
    a = ctx.agent(service_config("slow", port))
    cert, key = tls_cert(ctx)
    ready = os.path.join(ctx.tmp, "slow.ready")
    proc = h.Proc([sys.executable, TLS_SLOW_READER_SERVER, cert, key, ready, str(port)],
                  "slow-server", ctx.tmp)
    ctx.stops.append(("slow-server", lambda: proc.stop(signal.SIGTERM, 5.0)))
    h.wait_for_file(ready, proc=proc)
    import ssl
    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE
    rounds = 3
    raw = socket.create_connection(("127.0.0.1", port), timeout=20)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    with tls.wrap_socket(raw, server_hostname="localhost") as c:
        f = c.makefile("rb")
        for _ in range(rounds):
            c.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(0.5)     # the server's writes meet a full socket
            for want in (4 << 20, 3):
                status = f.readline()
                length = None
                while True:
                    line = f.readline()
                    if line in (b"\r\n", b""):
                        break
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if not status.startswith(b"HTTP/1.1 200") or length != want:
                    raise HarnessError(f"client got {status!r} length {length}")
                f.read(length)
    m = wait_counts(a, "slow", 2 * rounds)
    expect_counts(m, "slow", {("GET", "/big", "200"): rounds, ("GET", "/ok", "200"): rounds})
    check_common(m)


@test("tls_handshake_failures")
def t_tls_handshake_failures(ctx):
    """Plain HTTP to a TLS port fails the server's handshake: a transport
    failure tls_handshake each, a bad event of the service's availability
    SLO, counted once (not also as a reset for the bytes left unread). A
    client that completes its handshake and leaves without a request is no
    failure."""
    require_libssl3()
    port = tls_python_server(ctx)
    a = ctx.agent(service_config("tlspy", port) + "slos:\n" +
                  AVAIL_SLO.format(name="avail", service="tlspy"),
                  args=["--tls-library", LIBSSL3])
    failed = 3
    for _ in range(failed):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
            c.sendall(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                while c.recv(4096):
                    pass
            except ConnectionResetError:
                pass
    for _ in range(2):      # a handshake, then nothing
        r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
        if b"BEGIN CERTIFICATE" not in r.stdout:
            raise HarnessError(f"openssl s_client: no handshake: {r.stderr[-200:]!r}")
    got = tls_requests(port, ["/ok"])
    expect_client(got, {("/ok", 200): 5})
    m = wait_counts(a, "tlspy", 5, extra=lambda m: transport_failures(m, "tlspy"))
    expect_counts(m, "tlspy", {("GET", "/ok", "200"): 5})
    expect_transport(m, "tlspy", {"tls_handshake": failed})
    expect_slo_events(m, "tlspy", {("avail", "", "good"): 5, ("avail", "", "bad"): failed})
    check_common(m)
    expect_untracked(a)


def tls_nginx_server(ctx):
    cert, key = tls_cert(ctx)
    return ctx.nginx(tls=(cert, key), extra_server="location = /ok { return 200 'tls'; }\n"
                     "        location = /missing { return 404; }\n"
                     "        location = /fail { return 503; }")


@test("tls_nginx")
def t_tls_nginx(ctx):
    """nginx with ssl (its SSL_read/SSL_write, libssl.so.3)."""
    require_libssl3()
    n = tls_nginx_server(ctx)
    a = ctx.agent(service_config("nginx", n.port))
    tls_expect(a, "nginx", tls_requests(n.port, tls_plan()))


@test("tls_outbound")
def t_tls_outbound(ctx):
    """A tracked process calling an HTTPS dependency is measured as a
    client: curl (matched by process name, libcurl over OpenSSL) against
    nginx with ssl, requests on one connection and on new ones, each with
    its status, per destination; nginx's side measured as a server."""
    require_libssl3()
    n = tls_nginx_server(ctx)
    a = ctx.agent(services_config(service_item("backend", f"port: {n.port}"),
                                  service_item("caller", "process: curl")))
    base = f"https://127.0.0.1:{n.port}"
    plan = ["/ok"] * 5 + ["/missing"] * 3 + ["/fail"] * 2
    got = collections.Counter()
    for urls in (plan, ["/ok"], ["/fail"]):     # one connection for the first batch
        out = subprocess.run([h.CURL_BIN, "-sk", "--http1.1", "-w", "%{http_code}\n",
                              "-o", "/dev/null"] +
                             [x for u in urls for x in ("-o", "/dev/null", base + u)],
                             capture_output=True, text=True, timeout=30)
        for code in out.stdout.split():
            got[int(code)] += 1
    want = {200: 6, 404: 3, 503: 3}
    expect_client(got, want)
    port = str(n.port)
    m = a.wait_metrics(lambda mm: sum(client_counts(mm, "caller").values()) >= 12 and
                       counts_total(mm, "backend") >= 12,
                       what="12 client requests of caller and 12 requests of backend")
    expect_client_counts(m, "caller", {(port, "GET", str(s)): v for s, v in want.items()})
    expect_counts(m, "backend", {("GET", "/ok", "200"): 6, ("GET", "/missing", "404"): 3,
                                 ("GET", "/fail", "503"): 3})
    expect_labelled(m, CLIENT_FAILURES, "reason", {}, service_name="caller")
    check_common(m)


@test("tls_http2_nginx")
def t_tls_http2_nginx(ctx):
    """HTTP/2 over TLS: nginx with ssl and http2 (a certificate made for
    the test), curl --http2 and h2load negotiating h2 by ALPN, h2load at 10
    streams in flight on each of 2 connections, small and 1 MiB responses
    (DATA split across records, writes retried): the plaintext of each
    SSL_read and SSL_write walked at its return, so the agent's HTTP/2
    requests (network_protocol_version="2") per route and status equal
    nginx's access log; curl's own calls measured as a client (its first
    SSL_write is the preface); each connection seen from its preface
    (nothing undecoded, no gap), nothing lost (no tls_http2 either)."""
    require_libssl3()
    if not shutil.which("h2load"):
        raise HarnessError("h2load not found: apt-get install nghttp2-client")
    cert, key = tls_cert(ctx)
    n = ctx.nginx(tls=(cert, key), http2=True, access_log=True,
                  extra_server="location = /ok { return 200 'tls'; }\n"
                  "        location = /missing { return 404; }\n"
                  "        location = /fail { return 503; }")
    # curl under a name of its own: other tests on the node run curl too
    curl = os.path.join(ctx.tmp, "slotap-h2curl")
    shutil.copy(h.CURL_BIN, curl)
    a = ctx.agent(services_config(service_item("nginx", f"port: {n.port}"),
                                  service_item("caller", "process: slotap-h2curl")))
    base = f"https://127.0.0.1:{n.port}"
    sent = 0
    for urls in (["/ok", "/missing", "/ok"], ["/fail"], ["/ok", "/fail"]):
        out = subprocess.run([curl, "-sk", "--http2", "-w", "%{http_version} %{http_code}\n"]
                             + [x for u in urls for x in ("-o", "/dev/null", base + u)],
                             capture_output=True, text=True, timeout=30)
        want = [f"2 {dict(ok=200, missing=404, fail=503)[u[1:]]}" for u in urls]
        if out.stdout.splitlines() != want:
            raise HarnessError(f"curl --http2: {out.stdout!r}, expected {want} "
                               f"({out.stderr[-200:]!r})")
        sent += len(urls)
    # small responses, then 1 MiB ones: SSL_write of DATA retried after
    # WANT_WRITE, frames split across records
    runs = {"/index.html": 400, h.NGINX_BIG_PATH: 40}
    for path, requests in runs.items():
        out = subprocess.run(["h2load", "-n", str(requests), "-c", "2", "-m", "10", base + path],
                             capture_output=True, text=True, timeout=60)
        mm = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded",
                       out.stdout)
        if out.returncode or not mm or int(mm.group(1)) != requests or \
                not re.search(r"Application protocol: h2\b", out.stdout):
            raise HarnessError(f"h2load over TLS: {out.stdout[-400:]} {out.stderr[-300:]}")
        sent += requests
    h.wait_for(lambda: sum(n.access_log_counts().values()) >= sent, 5.0,
               what="nginx's access log")
    logged = n.access_log_counts()
    if sum(logged.values()) != sent:
        raise HarnessError(f"nginx logged {sum(logged.values())} requests, {sent} were sent")
    m = wait_counts(a, "nginx", sent)
    got = {k: v for k, v in m.request_counts(service_name="nginx").items() if v}
    loaded = sum(runs.values())
    want = {("GET", "/index.html", "200"): float(runs["/index.html"]),
            ("GET", h.NGINX_BIG_PATH, "200"): float(runs[h.NGINX_BIG_PATH]),
            ("GET", "/ok", "200"): float(logged[("GET", "200")] - loaded),
            ("GET", "/missing", "404"): float(logged[("GET", "404")]),
            ("GET", "/fail", "503"): float(logged[("GET", "503")])}
    if got != want:
        raise HarnessError(f"request counts {h.fmt_counts(got)}, nginx logged {h.fmt_counts(want)}")
    if m.total(h.HIST + "_count", network_protocol_version="2") != sent:
        raise HarnessError("not every request is network_protocol_version=\"2\"")
    undecoded = m.total("slotap_h2_fields_undecoded_total")
    gaps = m.total("slotap_h2_gaps_total")
    uncounted = m.total("slotap_h2_streams_uncounted_total")
    if undecoded or gaps or uncounted:
        raise HarnessError(f"undecoded fields {undecoded}, gaps {gaps}, streams not "
                           f"measured {uncounted}: expected none")
    # nginx's side and curl's of each connection, h2load's 2 a run: each from its start
    recs = h2_records(m)
    if recs.get("open") != 2 * 3 + 2 * len(runs) or recs.get("open_midstream"):
        raise HarnessError(f"{H2_RECORDS}: {recs}, expected {2 * 3 + 2 * len(runs)} "
                           f"connections opened, none mid-stream")
    # curl's side: a client whose first SSL_write is the preface
    expect_client_counts(m, "caller", {(str(n.port), "GET", "200"): 3,
                                       (str(n.port), "GET", "404"): 1,
                                       (str(n.port), "GET", "503"): 2})
    check_common(m)
    note(f"curl --http2 and h2load -m 10 over TLS: {h.fmt_counts(got)}, as nginx logged; "
         f"curl's as a client: {dict(client_counts(m, 'caller'))}")


def tls_h2_exchange(port, data):
    """A TLS connection negotiating h2 by ALPN: sends data, then reads to
    the server's close (or 3 s)."""
    import ssl
    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE
    tls.set_alpn_protocols(["h2"])
    with socket.create_connection(("127.0.0.1", port), timeout=3.0) as raw:
        with tls.wrap_socket(raw, server_hostname="localhost") as s:
            if s.selected_alpn_protocol() != "h2":
                raise HarnessError(f"ALPN: {s.selected_alpn_protocol()!r}, expected h2")
            s.sendall(data)
            try:
                while s.recv(65536):
                    pass
            except (socket.timeout, ssl.SSLError, ConnectionError):
                pass


@test("tls_http2_hostile")
def t_tls_http2_hostile(ctx):
    """Hostile plaintext on HTTP/2 over TLS (ALPN h2, nginx with ssl and
    http2): a preface that is not one is counted once not_http, a HEADERS
    frame too short for its PADDED flag loses the framing (h2_unframed,
    its END record sent once); each connection given up, nothing measured
    of them, and a good connection after them measured."""
    require_libssl3()
    cert, key = tls_cert(ctx)
    n = ctx.nginx(tls=(cert, key), http2=True,
                  extra_server="location = /ok { return 200 'tls'; }")
    a = ctx.agent(service_config("nginx", n.port))
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    settings = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
    tls_h2_exchange(n.port, b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + settings)
    # HEADERS, PADDED | END_HEADERS, stream 1, 0 bytes: no room for its pad length
    tls_h2_exchange(n.port, preface + settings + b"\x00\x00\x00\x01\x0c\x00\x00\x00\x01")
    out = subprocess.run([h.CURL_BIN, "-sk", "--http2", "-w", "%{http_version} %{http_code}",
                          "-o", "/dev/null", f"https://127.0.0.1:{n.port}/ok"],
                         capture_output=True, text=True, timeout=30)
    if out.stdout != "2 200":
        raise HarnessError(f"curl --http2: {out.stdout!r} {out.stderr[-200:]!r}")
    m = a.wait_metrics(lambda m: counts_total(m, "nginx") >= 1 and
                       h2_records(m).get("end", 0) >= 3, timeout=10.0,
                       what="curl's request and three END records")
    lost = {r: v for r, v in m.losses().items() if v}
    if lost != {"not_http": 1, "h2_unframed": 1}:
        raise HarnessError(f"losses {h.fmt_losses(lost)}, expected not_http 1, h2_unframed 1")
    got = h2_records(m)
    if got.get("open") != 3 or got.get("end") != 3 or got.get("malformed"):
        raise HarnessError(f"{H2_RECORDS}: {got}, expected 3 connections opened and ended")
    expect_counts(m, "nginx", {("GET", "/ok", "200"): 1})
    note(f"hostile h2 over TLS: losses {lost}, records {got}")


@test("tls_nginx_bodies")
def t_tls_nginx_bodies(ctx):
    """Request bodies over TLS to nginx, which NUL-terminates header names
    and values in its buffer once it parsed a head: the head is parsed from
    the copy taken when SSL_read returned, so Content-Length frames the
    body. Python's http.client sends a POST's head and body in two records,
    the body often read from OpenSSL's buffer with no socket read; nginx
    answers before it read a large body, and reads its rest and the next
    request's head into other buffers before any socket operation parses
    them (the rest skipped by count, the head copied: nothing lost)."""
    require_libssl3()
    n = tls_nginx_server(ctx)
    a = ctx.agent(service_config("nginx", n.port))
    import http.client
    import ssl
    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE
    got = collections.Counter()
    c = http.client.HTTPSConnection("127.0.0.1", n.port, timeout=10, context=tls)
    sizes = [1, 100, 1000, 5000, 20000, 100, 3, 70000, 2]
    for size in sizes:
        c.request("POST", "/ok", body=b"x" * size,
                  headers={"Content-Type": "application/octet-stream"})
        r = c.getresponse()
        r.read()
        got[("POST", r.status)] += 1
        c.request("GET", "/missing")
        r = c.getresponse()
        r.read()
        got[("GET", r.status)] += 1
    c.close()
    expect_client(got, {("POST", 200): len(sizes), ("GET", 404): len(sizes)})
    m = wait_counts(a, "nginx", 2 * len(sizes))
    expect_counts(m, "nginx", {("POST", "/ok", "200"): len(sizes),
                               ("GET", "/missing", "404"): len(sizes)})
# ----------------------------------------------------------------- Redis --
# Debian's redis-server, driven by redis-benchmark, redis-cli and our own
# connections: every command the server counted (INFO commandstats: its
# calls and rejected calls; errorstats: its errors by prefix) is one in the
# agent's db_server_operation_duration_seconds, with its name and status.

def redis_expect_exact(agent, r, service, other=0):
    """The agent's Redis counts of service equal what r counted, per
    operation, per operation's errors and per error prefix; other: the
    commands sent whose names Redis does not know (_OTHER). Returns the
    scrape."""
    calls, errors, prefixes = r.stats()
    calls["INFO"] += 1      # the INFO that read them: not in them yet
    total = sum(calls.values()) + other
    m = agent.wait_metrics(lambda m: sum(rs.db_counts(m, service).values()) >= total,
                           timeout=15.0, what=f"{total} Redis commands of {service}")
    got = rs.db_counts(m, service)
    by_op, err_by_op, by_status = collections.Counter(), collections.Counter(), \
        collections.Counter()
    for (op, status), v in got.items():
        by_op[op] += v
        if status:
            err_by_op[op] += v
            by_status[status] += v
    want_ops = collections.Counter(calls)
    if other:
        want_ops["_OTHER"] = other
    want_errs = collections.Counter(errors)
    want_errs["_OTHER"] += other
    if +by_op != +want_ops:
        raise HarnessError(f"commands per operation: agent {dict(+by_op)}, redis {dict(+want_ops)}")
    if +err_by_op != +want_errs:
        raise HarnessError(f"errors per operation: agent {dict(+err_by_op)}, "
                           f"redis {dict(+want_errs)}")
    if +by_status != +prefixes:
        raise HarnessError(f"errors per prefix: agent {dict(+by_status)}, redis {dict(+prefixes)}")
    note(f"{sum(by_op.values())} commands, {sum(by_status.values())} errors, all as redis "
         f"counted: {dict(by_op.most_common(6))}")
    return m


def redis_errors_by_cli(r):
    """Errors of each kind through redis-cli; returns the unknown commands sent."""
    r.cli("RPUSH", "errlist", "a")
    r.cli("GET", "errlist")                       # WRONGTYPE
    r.cli("INCR", "errlist")                      # WRONGTYPE
    r.cli("NOSUCHCOMMAND", "x")                   # ERR unknown command: _OTHER
    r.cli("GET")                                  # ERR wrong number of arguments: rejected
    r.cli("EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0")   # NOSCRIPT
    r.cli("SET", "n", "x")
    r.cli("INCRBY", "n", "notanumber")            # ERR value is not an integer
    return 1


@test("redis_benchmark")
def t_redis_benchmark(ctx):
    """redis-benchmark, unpipelined and -P 16, many clients, then
    redis-cli's errors: counts exact against the server's own."""
    r = ctx.redis()
    a = ctx.agent(service_config("redis", r.port))
    tests = ["set", "get", "incr", "lpush", "rpush", "lpop", "sadd", "hset", "lrange_100", "mset"]
    r.benchmark(tests, 2000, 20, 1)
    r.benchmark(tests, 20000, 50, 16)
    r.benchmark(["get", "set"], 4000, 8, 64, extra=["-r", "1000"])
    other = redis_errors_by_cli(r)
    m = redis_expect_exact(a, r, "redis", other)
    # a pipeline's runs of one command and outcome cross the ring as one event
    events = m.value("slotap_events_received_total")
    note(f"{events:g} events for {sum(rs.db_counts(m, 'redis').values())} commands")
    check_common(m)
    expect_untracked(a)


@test("redis_resp_shapes")
def t_redis_resp_shapes(ctx):
    """Our own connections: MULTI/EXEC (queued, aborted), pub/sub in RESP2
    and RESP3 (pushes are no responses), blocking commands (counted, not
    in a latency SLO by default), inline commands, commands split anywhere
    and pipelined in one write: exact against the server's counts."""
    r = ctx.redis()
    a = ctx.agent(service_config("redis", r.port) +
                  "default_slos:\n"
                  "  - {name: avail, sli: availability, objective: 90, window: 1d}\n"
                  "  - {name: fast, sli: latency, threshold: 100ms, objective: 90, window: 1d}\n")
    c = rs.RawRedis(r.port)
    ok = lambda n: lambda d: d.count(b"\r\n") >= n  # noqa: E731
    # a transaction, and one aborted by a bad command
    c.send(rs.resp_command("MULTI") + rs.resp_command("SET", "k", "1") +
           rs.resp_command("INCR", "k") + rs.resp_command("EXEC"))
    c.read_until(lambda d: d.endswith(b":2\r\n"))
    c.send(rs.resp_command("MULTI") + rs.resp_command("NOSUCH") + rs.resp_command("EXEC"))
    c.read_until(lambda d: b"EXECABORT" in d and d.endswith(b"\r\n"))
    # inline commands, and one command cut at every third byte
    c.send(b"PING\r\nSET inl 1\r\n")
    c.read_until(ok(2))
    cmd = rs.resp_command("SET", "split", "a\r\nvalue with a CRLF\r\n")
    for i in range(0, len(cmd), 3):
        c.send(cmd[i:i + 3])
        time.sleep(0.001)
    c.read_until(lambda d: d.endswith(b"+OK\r\n"))
    # a pipeline of 300 in one write
    c.send(b"".join(rs.resp_command("INCR", "p") for _ in range(300)))
    c.read_until(lambda d: d.endswith(b":300\r\n"))
    # pub/sub, RESP2: one SUBSCRIBE of two channels, messages, PING while subscribed
    sub = rs.RawRedis(r.port)
    sub.send(rs.resp_command("SUBSCRIBE", "ch1", "ch2"))
    sub.read_until(lambda d: d.count(b"subscribe") == 2 and d.endswith(b":2\r\n"))
    for i in range(5):
        c.send(rs.resp_command("PUBLISH", "ch1" if i % 2 else "ch2", f"m{i}"))
    c.read_until(lambda d: d.endswith(b":1\r\n"))
    sub.read_until(lambda d: d.count(b"message") == 5 and d.endswith(b"\r\n"))
    sub.send(rs.resp_command("PING"))
    sub.read_until(lambda d: b"pong" in d)
    sub.send(rs.resp_command("UNSUBSCRIBE"))
    sub.read_until(lambda d: d.endswith(b":0\r\n"))
    sub.send(rs.resp_command("GET", "k"))
    sub.read_until(lambda d: d.endswith(b"$1\r\n2\r\n"))
    sub.close()
    # RESP3: HELLO 3, a subscription whose confirmations and messages are pushes
    sub3 = rs.RawRedis(r.port)
    sub3.send(rs.resp_command("HELLO", "3"))
    sub3.read_until(lambda d: b"modules" in d)
    sub3.send(rs.resp_command("SUBSCRIBE", "ch3"))
    sub3.read_until(lambda d: d.endswith(b":1\r\n"))
    c.send(rs.resp_command("PUBLISH", "ch3", "hello"))
    sub3.send(rs.resp_command("GET", "k"))
    # the push and the reply in either order
    sub3.read_until(lambda d: b"$5\r\nhello\r\n" in d and b"$1\r\n2\r\n" in d)
    sub3.close()
    # blocking: one that times out after 0.3 s, one served by another client
    c.send(rs.resp_command("BLPOP", "q", "0.3"))
    c.read_until(lambda d: d.endswith(b"*-1\r\n") or d.endswith(b"_\r\n"))
    c2 = rs.RawRedis(r.port)
    c.send(rs.resp_command("BLPOP", "q2", "5"))
    time.sleep(0.2)
    c2.send(rs.resp_command("LPUSH", "q2", "x"))
    c2.read_until(ok(1))
    c.read_until(lambda d: d.endswith(b"$1\r\nx\r\n"))
    c.send(rs.resp_command("XADD", "s", "*", "f", "v") +
           rs.resp_command("XREAD", "BLOCK", "200", "STREAMS", "s", "$"))
    c.read_until(lambda d: d.endswith(b"*-1\r\n"))
    c2.close()
    c.close()
    m = redis_expect_exact(a, r, "redis", other=1)
    # blocking commands are counted, and waited: the availability SLO counts
    # them, the latency one does not
    slo = "slotap_slo_events_total"
    blpop = {(l["slo"], l["result"]): v for l, v in m.series(slo, endpoint="redis BLPOP")}
    if blpop.get(("avail", "good")) != 2 or blpop.get(("fast", "bad"), 0) or \
            blpop.get(("fast", "good"), 0):
        raise HarnessError(f"SLO events of redis BLPOP: {blpop}: expected 2 good "
                           f"availability ones and none of the latency SLO")
    xread = {(l["slo"], l["result"]): v for l, v in m.series(slo, endpoint="redis XREAD")}
    if xread.get(("fast", "bad"), 0) or xread.get(("fast", "good"), 0):
        raise HarnessError(f"XREAD BLOCK counted by the latency SLO: {xread}")
    get = {(l["slo"], l["result"]): v for l, v in m.series(slo, endpoint="redis GET")}
    if get.get(("fast", "good")) != 2:
        raise HarnessError(f"SLO events of redis GET: {get}")
    check_common(m)
    expect_untracked(a)


@test("redis_client_dependency")
def t_redis_client_dependency(ctx):
    """A tracked HTTP service calling Redis: its calls per destination and
    operation, a dependency SLO on them, and its 500s blamed on Redis when
    Redis fails them (out of memory: the server's fault)."""
    r = ctx.redis()
    # started first: the harness's polls of its port before it listens are
    # refused connections, which the agent would count
    app = rs.RedisApp(ctx.tmp, r.port)
    ctx.stops.append(("the Redis app", app.stop))
    a = ctx.agent("services:\n"
                  f"  - name: app\n    match: {{port: {app.port}}}\n"
                  "dependencies:\n"
                  f"  - name: cache\n    address: 127.0.0.1\n    port: {r.port}\n"
                  "slos:\n" + AVAIL_SLO.format(name="app-avail", service="app") +
                  "  - name: cache-calls\n    dependency: cache\n    sli: availability\n"
                  "    objective: 99\n    window: 28d\n"
                  f"latency_thresholds: {THRESHOLDS}\n")
    plan = ["/set"] + ["/get"] * 20
    got = h.keepalive_requests(app.port, plan)
    expect_client(client_statuses(got), {200: 21})
    # the database fails writes: out of memory
    r.cli("CONFIG", "SET", "maxmemory-policy", "noeviction")
    r.cli("CONFIG", "SET", "maxmemory", "1")
    got = h.keepalive_requests(app.port, ["/set"] * 7 + ["/get"] * 3)
    expect_client(client_statuses(got), {500: 7, 200: 3})
    m = a.wait_metrics(lambda mm: counts_total(mm, "app") >= 31 and
                       mm.total("slotap_slo_events_total", slo="cache-calls") >= 31,
                       what="app's 31 requests and its 31 calls to Redis")
    calls = rs.db_counts(m, "app", rs.DB_CLIENT)
    if calls != {("SET", ""): 1, ("GET", ""): 23, ("SET", "OOM"): 7}:
        raise HarnessError(f"app's Redis calls: {dict(calls)}")
    dest = {(l["server_address"], l["server_port"], l["db_system_name"])
            for l, _ in m.series(rs.DB_CLIENT + "_count", service_name="app")}
    if dest != {("127.0.0.1", str(r.port), "redis")}:
        raise HarnessError(f"app's Redis calls go to {dest}")
    note(f"app: requests {h.fmt_counts(m.request_counts(service_name='app'))}, transport "
         f"failures {transport_failures(m, 'app')}, Redis calls {dict(calls)}")
    expect_slo_events(m, "cache", {("cache-calls", "", "good"): 24,
                                   ("cache-calls", "", "bad"): 7})
    expect_slo_events(m, "app", {("app-avail", "", "good"): 24, ("app-avail", "", "bad"): 7})
    expect_labelled(m, "slotap_slo_bad_events_blamed_total", "dependency", {"cache": 7},
                    slo="app-avail", service="app")
    check_common(m)


@test("redis_older_than_agent")
def t_redis_older_than_agent(ctx):
    """Connections opened before the agent: one idle, one in the middle
    of a command, one in the middle of a big value. Each is picked up at
    the first read that starts a command; one whose reads never do before
    the protocol is decided is counted not measured (not_http)."""
    r = ctx.redis()
    idle, half, big = rs.RawRedis(r.port), rs.RawRedis(r.port), rs.RawRedis(r.port)
    idle.send(rs.resp_command("PING"))
    idle.read_until(lambda d: d == b"+PONG\r\n")
    cmd = rs.resp_command("SET", "k", "value")
    half.send(cmd[:len(cmd) - 4])
    value = b"x" * 200000
    bigcmd = rs.resp_command("SET", "big", value)
    big.send(bigcmd[:1000])
    time.sleep(0.2)
    a = ctx.agent(service_config("redis", r.port))
    half.send(cmd[len(cmd) - 4:])
    half.read_until(lambda d: d == b"+OK\r\n")
    for i in range(5):
        half.send(rs.resp_command("GET", "k"))
        half.read_until(lambda d: d.endswith(b"value\r\n"))
        idle.send(rs.resp_command("GET", "k"))
        idle.read_until(lambda d: d.endswith(b"value\r\n"))
    # the rest of the value in pieces the server reads apart
    rest = bigcmd[1000:]
    for i in range(0, len(rest), 20000):
        big.send(rest[i:i + 20000])
        time.sleep(0.01)
    big.read_until(lambda d: d == b"+OK\r\n")
    for i in range(3):
        big.send(rs.resp_command("GET", "k"))
        big.read_until(lambda d: d.endswith(b"value\r\n"))
    m = a.wait_metrics(lambda mm: sum(rs.db_counts(mm, "redis").values()) >= 10 and
                       mm.value(h.LOST, reason="not_http") == 1,
                       what="10 GETs, and the big value's connection not measured")
    got = rs.db_counts(m, "redis")
    if got != {("GET", ""): 10}:
        raise HarnessError(f"agent counted {dict(got)}, expected the 10 GETs after the agent "
                           f"started on the idle and the half-sent connections")
    lost = {k: v for k, v in m.losses().items() if v}
    if lost != {"not_http": 1}:
        raise HarnessError(f"losses {lost}, expected not_http 1 (the big value's connection)")
    for c in (idle, half, big):
        c.close()
    expect_untracked(a)


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
    global VERBOSE
    VERBOSE = args.verbose

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
