"""HTTP/1.1 over TLS with asyncio, whose ssl layer runs OpenSSL over memory
BIOs (ssl.MemoryBIO): SSL_read and SSL_write do no socket operation, so the
agent cannot tell which connection their plaintext is. GET -> 200,
keep-alive. Usage: tls_memory_bio_server.py CERT KEY READY_FILE PORT.
Stopped by SIGTERM."""
import asyncio
import os
import signal
import ssl
import sys


async def serve(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if not head:
                break
            body = b"bio\n"
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def main():
    cert, key, ready, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server = await asyncio.start_server(serve, "127.0.0.1", port, ssl=ctx)
    tmp = ready + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.sockets[0].getsockname()[1]))
    os.rename(tmp, ready)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    asyncio.run(main())
