#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A fixed rate of Redis commands, for scripts/bench-redis.sh: redis-benchmark
only saturates, and the CPU a command costs the server depends on how busy
it is (how many commands one epoll wakeup finds), so the modes compared
must see the same rate.

Usage: redis-load.py PORT RATE PIPELINE SECONDS [CONNECTIONS]

RATE commands a second, in batches of PIPELINE commands written at once
(PIPELINE 1: unpipelined), over CONNECTIONS connections (default 8), each
with one batch in flight at most; half the connections SET, half GET a
3-byte value. Prints "COMMANDS ANSWERED SECONDS": fewer answered than sent
at the rate means the server (or this client) could not keep it."""

import selectors
import socket
import sys
import time


def main():
    port, rate, pipeline, secs = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), \
        float(sys.argv[4])
    nconn = int(sys.argv[5]) if len(sys.argv) > 5 else 8
    sel = selectors.DefaultSelector()
    conns = []
    for i in range(nconn):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = b"key:%d" % i
        cmd = (b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$3\r\nxxx\r\n" % (len(key), key)) if i % 2 == 0 \
            else (b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(key), key))
        conns.append({"sock": s, "batch": cmd * pipeline, "set": i % 2 == 0, "waiting": 0,
                      "buf": b""})
        sel.register(s, selectors.EVENT_READ, conns[-1])
    # every key set before the clock starts: GETs find their value
    setup = socket.create_connection(("127.0.0.1", port))
    for i in range(nconn):
        key = b"key:%d" % i
        setup.sendall(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$3\r\nxxx\r\n" % (len(key), key))
        got = b""
        while not got.endswith(b"+OK\r\n"):
            got += setup.recv(64)
    setup.close()
    sent = answered = 0
    start = time.monotonic()
    end = start + secs
    rr = 0
    while True:
        now = time.monotonic()
        if now >= end and not any(c["waiting"] for c in conns):
            break
        due = int((min(now, end) - start) * rate) - sent if now < end else 0
        while due >= pipeline:
            for _ in range(nconn):
                c = conns[rr % nconn]
                rr += 1
                if not c["waiting"]:
                    break
            else:
                break   # every connection busy: the rate is not kept
            c["sock"].sendall(c["batch"])
            c["waiting"] = pipeline
            sent += pipeline
            due -= pipeline
        for key, _ in sel.select(timeout=0.0005):
            c = key.data
            data = c["sock"].recv(65536)
            if not data:
                raise SystemExit("redis-load: the server closed a connection")
            c["buf"] += data
            n = c["buf"].count(b"+OK\r\n") if c["set"] else c["buf"].count(b"xxx\r\n")
            if n:
                c["buf"] = c["buf"][c["buf"].rfind(b"\r\n") + 2:]
                c["waiting"] -= n
                answered += n
    print(sent, answered, f"{time.monotonic() - start:.3f}")


if __name__ == "__main__":
    main()
