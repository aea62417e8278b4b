# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Debian's redis-server, started and stopped by a test on 127.0.0.1, and
what it says it did (INFO commandstats, errorstats), against which the
agent's Redis series are counted."""

import collections
import shutil
import socket
import subprocess
from pathlib import Path

import slotap_harness as h
from slotap_harness import HarnessError

REDIS_SERVER = "/usr/bin/redis-server"
DB_SERVER = "db_server_operation_duration_seconds"
DB_CLIENT = "db_client_operation_duration_seconds"


def require_redis():
    for tool in ("redis-server", "redis-cli", "redis-benchmark"):
        if not shutil.which(tool):
            raise HarnessError(f"{tool} not found: apt-get install redis-server redis-tools")


class Redis:
    """redis-server on a free port of 127.0.0.1, no persistence, its files
    in tmpdir/NAME. Stopped with SIGTERM (no save: nothing to save)."""

    def __init__(self, tmpdir, name="redis", port=None):
        require_redis()
        self.dir = Path(tmpdir) / name
        self.dir.mkdir(parents=True)
        self.port = port or h.free_port()
        self.proc = h.Proc([REDIS_SERVER, "--port", self.port, "--bind", "127.0.0.1",
                            "--save", "", "--appendonly", "no", "--dir", self.dir,
                            "--daemonize", "no", "--logfile", self.dir / "redis.log",
                            "--protected-mode", "no"], name, Path(tmpdir))
        h.wait_for_port(self.port, proc=self.proc)

    @property
    def pid(self):
        return self.proc.pid

    def cli(self, *args, resp3=False, check=True):
        """redis-cli on its own connection; its output (errors are output too)."""
        argv = ["redis-cli", "-p", str(self.port)] + (["-3"] if resp3 else []) + \
            [str(a) for a in args]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        if check and out.returncode:
            raise HarnessError(f"{' '.join(argv)}: {out.stderr.strip()}")
        return out.stdout

    def stats(self):
        """What the server counted: ({COMMAND: replies}, {COMMAND: errors},
        {ERRORPREFIX: errors}). A command's replies are its calls and its
        rejected calls (refused before it ran: arity, ...); its errors its
        failed and rejected calls; subcommands (config|get) count as their
        container. The INFO that reads them is not in them yet."""
        calls, errors, prefixes = collections.Counter(), collections.Counter(), \
            collections.Counter()
        for line in self.cli("INFO", "commandstats", "errorstats").splitlines():
            line = line.strip()
            if line.startswith("cmdstat_"):
                name, _, fields = line[len("cmdstat_"):].partition(":")
                f = dict(kv.split("=") for kv in fields.split(","))
                cmd = name.split("|")[0].upper()
                rejected = int(f.get("rejected_calls", 0))
                calls[cmd] += int(f["calls"]) + rejected
                errors[cmd] += int(f.get("failed_calls", 0)) + rejected
            elif line.startswith("errorstat_"):
                name, _, fields = line[len("errorstat_"):].partition(":")
                prefixes[name] += int(fields.split("=")[1])
        return calls, errors, prefixes

    def benchmark(self, tests, requests, clients, pipeline, extra=()):
        """redis-benchmark; raises unless it ran every request."""
        argv = ["redis-benchmark", "-p", str(self.port), "-t", ",".join(tests),
                "-n", str(requests), "-c", str(clients), "-P", str(pipeline), "-q",
                *[str(a) for a in extra]]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if out.returncode or "requests per second" not in out.stdout:
            raise HarnessError(f"{' '.join(argv)}: {out.stdout[-300:]} {out.stderr[-300:]}")
        return out.stdout

    def stop(self):
        rc, killed = self.proc.stop()
        if killed:
            raise HarnessError("redis-server did not exit within 10s of SIGTERM")
        return rc


def resp_command(*args):
    """One command as a RESP array of bulk strings."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class RawRedis:
    """A connection of our own, to send bytes exactly as a test wants them."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def send(self, data):
        self.sock.sendall(data)

    def read_until(self, predicate):
        """Reads until predicate(data so far) holds; returns the data."""
        data = b""
        while not predicate(data):
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise HarnessError(f"no more from redis after {data[-160:]!r}") from None
            if not chunk:
                raise HarnessError(f"redis closed the connection after {data[-80:]!r}")
            data += chunk
        return data

    def close(self):
        self.sock.close()


def db_counts(m, service, metric=DB_SERVER):
    """{(operation, status): count} of service's Redis series."""
    out = collections.Counter()
    for labels, v in m.series(metric + "_count", service_name=service):
        if v:
            out[(labels["db_operation_name"], labels.get("db_response_status_code", ""))] += int(v)
    return out


# An HTTP service that calls Redis: GET /get reads key k, GET /set writes
# it; a Redis error reply is a 500. One Redis connection, opened at the
# first request (by then the agent knows the process serves a port of a
# service, so that the connection is its dependency's).
APP = r'''
import http.server, socket, sys

port, redis_port = int(sys.argv[1]), int(sys.argv[2])
conn = None


def call(*args):
    global conn
    if conn is None:
        conn = socket.create_connection(("127.0.0.1", redis_port))
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    conn.sendall(out)
    data = b""
    while True:
        data += conn.recv(65536)
        if data[:1] in b"+-:" and data.endswith(b"\r\n"):
            return data
        if data[:1] == b"$" and b"\r\n" in data:
            n = int(data[1:data.index(b"\r\n")])
            if n < 0 or len(data) >= data.index(b"\r\n") + 2 + n + 2:
                return data


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        reply = call(b"SET", b"k", b"v") if self.path == "/set" else call(b"GET", b"k")
        self.send_response(500 if reply.startswith(b"-") else 200)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
'''


class RedisApp:
    """APP on a free port, calling the Redis server on redis_port."""

    def __init__(self, tmpdir, redis_port, name="app", port=None):
        path = Path(tmpdir) / "redis_app.py"
        path.write_text(APP)
        self.port = port or h.free_port()
        self.proc = h.Proc(["/usr/bin/python3", path, self.port, redis_port], name,
                           Path(tmpdir))
        h.wait_for_port(self.port, proc=self.proc)

    def stop(self):
        rc, killed = self.proc.stop()
        if killed:
            raise HarnessError("the Redis app did not exit within 10s of SIGTERM")
        return rc
