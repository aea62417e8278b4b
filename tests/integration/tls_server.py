"""HTTP/1.1 over TLS with Python's ssl module (OpenSSL, Debian's
libssl.so.3): GET /ok -> 200, /missing -> 404, /fail -> 503, keep-alive.
Usage: tls_server.py CERT KEY READY_FILE [PORT]; writes its port to
READY_FILE once listening (PORT, or one the kernel picks). Stopped by
SIGTERM."""
import http.server
import os
import signal
import ssl
import sys

STATUS = {"/ok": 200, "/missing": 404, "/fail": 503}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = b"tls\n"
        self.send_response(STATUS.get(self.path, 400))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    cert, key, ready = sys.argv[1:4]
    port = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    tmp = ready + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, ready)
    server.serve_forever()


if __name__ == "__main__":
    main()
