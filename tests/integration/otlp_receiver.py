#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A minimal OTLP/HTTP receiver for the tests: saves the body of every POST
to DIR/NNNN.bin (NNNN counting from 0) and answers an empty
ExportMetricsServiceResponse; the first --fail-first requests get a 503.

usage: otlp_receiver.py PORT DIR [--fail-first N]"""
import argparse
import http.server
import os


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("dir")
    ap.add_argument("--fail-first", type=int, default=0)
    args = ap.parse_args()
    seen = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            n = seen[0]
            seen[0] += 1
            if n < args.fail_first:
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            path = os.path.join(args.dir, f"{n:04d}.bin")
            with open(path + ".tmp", "wb") as f:
                f.write(body)
            os.rename(path + ".tmp", path)
            meta = {"path": self.path, "type": self.headers.get("Content-Type", "")}
            with open(path + ".meta", "w") as f:
                f.write(repr(meta))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, fmt, *a):
            pass

    http.server.HTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
