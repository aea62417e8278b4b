"""HTTP/1.1 over TLS (Python's ssl, OpenSSL's SSL_write_ex) writing each
response with a non-blocking socket: against a client that does not read
yet, OpenSSL writes part of a record, fails with WANT_WRITE, and the same
bytes are written again by the next call, as OpenSSL asks. GET /big ->
200 with a 4 MiB body, anything else -> 200 with a short one; keep-alive,
pipelining. Usage: tls_slow_reader_server.py CERT KEY READY_FILE PORT.
Stopped by SIGTERM."""
import os
import select
import signal
import socket
import ssl
import sys

BIG = 4 << 20


def send_all(s, data):
    """Non-blocking writes, each retried with the same bytes on WANT_WRITE."""
    view = memoryview(data)
    s.setblocking(False)
    try:
        while view:
            try:
                n = s.send(view)
            except ssl.SSLWantWriteError:
                select.select([], [s], [], 10)
                continue
            except ssl.SSLWantReadError:
                select.select([s], [], [], 10)
                continue
            view = view[n:]
    finally:
        s.setblocking(True)


def serve(s):
    buf = b""
    while True:
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                return
            buf += chunk
        head, buf = buf.split(b"\r\n\r\n", 1)
        path = head.split(b" ", 2)[1]
        body = b"b" * BIG if path == b"/big" else b"ok\n"
        send_all(s, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
        send_all(s, body)


def main():
    cert, key, ready, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ls = socket.create_server(("127.0.0.1", port))
    tmp = ready + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(ls.getsockname()[1]))
    os.rename(tmp, ready)
    while True:
        c, _ = ls.accept()
        # a small send buffer: WANT_WRITE comes soon
        c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
        try:
            with ctx.wrap_socket(c, server_side=True) as s:
                serve(s)
        except (OSError, ssl.SSLError):
            pass


if __name__ == "__main__":
    main()
