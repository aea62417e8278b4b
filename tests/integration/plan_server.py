#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A test server that answers a plan, for tests that need a server process
of a chosen executable (run it with a link to the Python interpreter under
that name) or one that lies about its name.

    plan_server.py PLAN_JSON READY_FILE [COMM]

PLAN_JSON: a list of connections, each a list of [request, status]
(requests as latin-1 text). Listens on 127.0.0.1 on a port of the
kernel's choice, writes it to READY_FILE, then accepts the connections in
order, reads each request whole (no bodies) and answers it with
"HTTP/1.1 <status> X" and an empty body, then exits 0. With COMM it calls
itself COMM (prctl(PR_SET_NAME)) before it listens, and again at every
connection, as a process posing as another would.
"""

import ctypes
import json
import os
import socket
import sys

PR_SET_NAME = 15


def main():
    plan_path, ready_path = sys.argv[1], sys.argv[2]
    comm = sys.argv[3].encode() if len(sys.argv) > 3 else None
    libc = ctypes.CDLL(None, use_errno=True)
    with open(plan_path) as f:
        plan = json.load(f)

    def rename():
        if comm is not None and libc.prctl(PR_SET_NAME, comm, 0, 0, 0):
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NAME)")

    rename()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    with open(ready_path + ".tmp", "w") as f:
        f.write(str(ls.getsockname()[1]))
    os.rename(ready_path + ".tmp", ready_path)
    for exchanges in plan:
        srv, _ = ls.accept()
        rename()
        buf = b""
        for req, status in exchanges:
            req = req.encode("latin-1")
            while len(buf) < len(req):
                chunk = srv.recv(65536)
                if not chunk:
                    raise EOFError("client closed early")
                buf += chunk
            buf = buf[len(req):]
            srv.sendall(b"HTTP/1.1 %03d X\r\nContent-Length: 0\r\n\r\n" % status)
        srv.close()
    ls.close()


if __name__ == "__main__":
    main()
