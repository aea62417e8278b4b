#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seed inputs of the fuzz targets whose input is a binary
format of their own (route, http_parser, hpack, h2_conn) into tests/fuzz/corpus/.
The other targets' seeds are plain files (YAML, state files, /metrics)."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# route: max_routes, template count (| 8: strict mode), templates ending
# in '\n', then paths:
# one byte (0x80: truncated, low 7 bits: length) and the path.
def route(max_routes, templates, paths):
    out = bytes([max_routes, len(templates)])
    for t in templates:
        out += t.encode() + b"\n"
    for p, truncated in paths:
        p = p if isinstance(p, bytes) else p.encode()
        out += bytes([(0x80 if truncated else 0) | len(p)]) + p
    return out


def seeds_route():
    paths = [("/api/items/42", False), ("/api/items/42?x=1", False),
             ("/api/users/7f3e9a1c-0b2d-4e5f-8a9b-0c1d2e3f4a5b/orders", False),
             ("/static/app.deadbeef12.js", False), ("*", False),
             ("http://example.com/a/b", False), ("https://host", False),
             ("/very/long/path/that/the/kernel/cut/at/sixty/four/bytes/abcdefgh", True),
             (b"/bad\x01byte", False), ("", False), ("relative", False), ("//x//", False)]
    write("route", "templates", route(0, ["/api/items/{id}", "/api/users/{user}/orders",
                                          "/static/{file}"], paths))
    write("route", "heuristic-capped", route(3, [], paths + [("/a/%d" % i, False)
                                                             for i in range(8)]))
    write("route", "invalid-template", route(10, ["/a/{b", "/ok"], paths[:3]))
    strict = bytearray(route(0, ["/api/items/{id}", "/static/{file}"], paths))
    strict[1] |= 8
    write("route", "strict", bytes(strict))


# http_parser: byte 0: bit 0 the connection's protocol is not told (the
# parser classifies it), bit 1 the connection ends with a reset rather than
# a close; then pieces: a header byte h, dir = h & 1, length = h >> 1, or,
# when that is 0, the next two bytes (little-endian); then the bytes.
# h = 0xff is a sendfile (response bytes the parser cannot see) of the
# next two bytes' count.
def piece(direction, data):
    data = data if isinstance(data, bytes) else data.encode()
    n = len(data)
    if 0 < n < 127:
        return bytes([n << 1 | direction]) + data
    return bytes([direction]) + struct.pack("<H", n) + data


SENDFILE = 2


def conn(mode, pieces):
    out = bytes([mode])
    for d, p in pieces:
        if d == SENDFILE:
            out += b"\xff" + struct.pack("<H", p)
        else:
            out += piece(d, p)
    return out


REQ, RESP = 0, 1
GET = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"
OK = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


def seeds_http_parser():
    write("http_parser", "exchange", conn(0, [(REQ, GET), (RESP, OK)]))
    write("http_parser", "split-every-byte",
          conn(0, [(REQ, c) for c in GET] + [(RESP, c) for c in OK]))
    write("http_parser", "pipelined",
          conn(0, [(REQ, GET * 6), (RESP, OK * 3),
                   (RESP, "HTTP/1.1 204 No Content\r\n\r\n"),
                   (RESP, "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "5;x=1\r\nhello\r\n0\r\nTrailer: y\r\n\r\n"),
                   (RESP, "HTTP/1.1 500 Oops\r\nContent-Length: 3\r\n\r\nabc")]))
    write("http_parser", "head-and-interim",
          conn(0, [(REQ, "HEAD / HTTP/1.1\r\n\r\nPOST /up?q=1 HTTP/1.1\r\n"
                         "Content-Length: 3\r\nExpect: 100-continue\r\n\r\n"),
                   (RESP, "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"),
                   (RESP, "HTTP/1.1 100 Continue\r\n\r\n"), (REQ, "abc"),
                   (RESP, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")]))
    write("http_parser", "unclassified-not-http",
          conn(1, [(REQ, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")]))
    write("http_parser", "bad-lines",
          conn(2, [(REQ, GET), (REQ, "NOT A REQUEST\r\n\r\n"), (REQ, GET),
                   (RESP, "garbage\r\n\r\n"), (RESP, OK)]))
    write("http_parser", "upgrade",
          conn(0, [(REQ, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n" + GET),
                   (RESP, "HTTP/1.1 101 Switching Protocols\r\n\r\n")]))
    write("http_parser", "sendfile-and-long",
          conn(0, [(REQ, "GET /" + "p" * 80 + "?secret HTTP/1.1\r\n\r\n" + GET),
                   (RESP, "HTTP/1.1 200 OK\r\nContent-Length: 600\r\n\r\n"),
                   (SENDFILE, 600), (RESP, OK)]))
    write("http_parser", "until-close",
          conn(0, [(REQ, GET), (RESP, "HTTP/1.0 200 OK\r\n\r\nbody until close"),
                   (REQ, GET)]))
    # Redis: a connection whose first bytes are a RESP command (protocol not told)
    SET = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\nv\r\n*\r\n"
    write("http_parser", "redis-pipelined",
          conn(1, [(REQ, SET * 3 + "ping\r\n"), (RESP, "+OK\r\n-ERR x\r\n"),
                   (RESP, "*2\r\n$1\r\na\r\n%1\r\n+k\r\n_\r\n+PONG\r\n")]))
    write("http_parser", "redis-split-every-byte",
          conn(1, [(REQ, c) for c in SET] + [(RESP, c) for c in "$5\r\nv\r\n*\r\n"]))
    write("http_parser", "redis-pubsub",
          conn(1, [(REQ, "*3\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n"),
                   (RESP, ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
                          "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nx\r\n"),
                   (REQ, "*1\r\n$4\r\nPING\r\n"), (RESP, "!5\r\nERR x\r\n")]))


# hpack: byte 0 the mode (bit 0: lists, bits 1-2: settings 4096, 0, 256,
# 1 MiB; bits 3-7: block k); raw blocks as a 2-byte length (0xffff: a gap)
# and the bytes; lists as a byte (bits 0-3: headers, bit 4: settings change
# to bits 5-6) and a byte per header (bits 0-3: name, bit 4: never indexed,
# bits 5-7: value, 7: a length byte and that many bytes).
RFC_C3 = ["828684410f7777772e6578616d706c652e636f6d", "828684be58086e6f2d6361636865",
          "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"]
RFC_C4 = ["828684418cf1e3c2e5f23a6ba0ab90f4ff", "828684be5886a8eb10649cbf",
          "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"]
RFC_C6 = ["488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad"
          "171863c78f0b97c8e9ae82ae43d3", "4883640effc1c0bf",
          "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2"
          "e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007"]


def hpack_raw(mode, blocks):
    out = bytes([mode])
    for b in blocks:
        if b is None:
            out += struct.pack("<H", 0xffff)
        else:
            data = bytes.fromhex(b)
            out += struct.pack("<H", len(data)) + data
    return out


def hpack_lists(mode, blocks):
    out = bytes([mode | 1])
    for settings, headers in blocks:
        out += bytes([len(headers) | (0 if settings is None else 16 | settings << 5)])
        for h in headers:
            if isinstance(h, tuple):
                out += bytes([h[0] | 7 << 5, len(h[1])]) + h[1]
            else:
                out += bytes([h])
    return out


def seeds_hpack():
    write("hpack", "rfc-c3", hpack_raw(1 << 3, RFC_C3))
    write("hpack", "rfc-c4-gap", hpack_raw(2 << 3, RFC_C4[:1] + [None] + RFC_C4[1:]))
    write("hpack", "rfc-c6-256", hpack_raw(2 << 1 | 1 << 3, RFC_C6))
    write("hpack", "corrupt", hpack_raw(0, ["82", "80", "be", "0081 1f81 18", "8220"]))
    request = [0 | 5 << 5, 1 | 1 << 5, 3, 4, 5 | 3 << 5, (7, b"100m"), 8, 9 | 16]
    response = [2 | 2 << 5, 5 | 3 << 5, 13]
    trailers = [6 | 4 << 5, (10, b"done")]
    grpc = [(None, request), (None, response), (None, trailers)] * 4
    write("hpack", "lists-grpc", hpack_lists(3 << 3, grpc))
    write("hpack", "lists-resized", hpack_lists(1 << 1 | 2 << 3,
          [(None, request), (2, request), (3, response), (None, trailers), (1, request),
           (0, [(0, b"/" + b"p" * 200), (15, bytes(range(256))[:200])]), (None, request)]))


# h2_conn: records as include/h2_record.h lays them out, each preceded by
# its length (2 bytes, little-endian). Header blocks by hand: static-table
# indexes and literals.
H2_HEAD = struct.Struct("<QQQIIHBBBB2x")
H2_ITEM = struct.Struct("<IIIHBB")


def h2_record(kind, dir_, offset, span, items=b"", gen=0, ts=1000, flags=0, end=0):
    return H2_HEAD.pack(0x1000, ts, offset, gen, span, len(items), kind, dir_, flags, end) + items


def h2_open(midstream=False):
    ident = struct.pack("<QIHHHB5x16s16s", 7, 4242, 0, 8080, 50000, 0, b"", b"seed")
    return h2_record(1, 0, 0, 0, ident, flags=2 if midstream else 0)


def h2_item(kind, stream, value=0, flags=0, delta=0, payload=b"", length=None):
    n = len(payload) if length is None else length
    return H2_ITEM.pack(stream, value, delta, n, kind, flags) + payload + b"\0" * (-len(payload) % 4)


def h2_lit(name, value):
    return bytes([0x40, len(name)]) + name + bytes([len(value)]) + value


def h2_input(records):
    return b"".join(struct.pack("<H", len(r)) + r for r in records)


def seeds_h2_conn():
    FIRST, END_HEADERS, END_STREAM = 1, 2, 4
    req = bytes([0x82, 0x86, 0x44, 4]) + b"/a/b"
    grpc_req = bytes([0x83, 0x86, 0x44, 6]) + b"/p.S/M" + bytes([0x5f, 16]) + b"application/grpc"
    write("h2_conn", "http2-get", h2_input([
        h2_open(),
        h2_record(2, 0, 0, 60, h2_item(1, 1, 0, FIRST | END_HEADERS | END_STREAM, 5, req)),
        h2_record(2, 1, 0, 40, h2_item(1, 1, 0, FIRST | END_HEADERS | END_STREAM, 0, bytes([0x88])),
                  ts=3000),
        h2_record(3, 0, 0, 0, end=2),
    ]))
    write("h2_conn", "grpc-unary", h2_input([
        h2_open(),
        h2_record(2, 0, 0, 90, h2_item(1, 1, 0, FIRST | END_HEADERS, 5, grpc_req) +
                  h2_item(3, 1)),
        h2_record(2, 1, 0, 50, h2_item(1, 1, 0, FIRST | END_HEADERS, 0, bytes([0x88])) +
                  h2_item(4, 1, delta=2), ts=4000),
        h2_record(2, 1, 50, 20, h2_item(1, 1, 0, FIRST | END_HEADERS | END_STREAM, 0,
                                        h2_lit(b"grpc-status", b"0")), ts=5000),
    ]))
    write("h2_conn", "reorder-rst-goaway", h2_input([
        h2_open(midstream=True),
        h2_record(2, 0, 100, 60, h2_item(1, 3, 0, FIRST | END_HEADERS, 0, req[:3]) +
                  h2_item(2, 5, 0, FIRST, 0, length=9000)),
        h2_record(2, 0, 0, 100, h2_item(1, 1, 0, FIRST, 0, req[:2]) +
                  h2_item(1, 1, 0, END_HEADERS, 0, req[2:]) + h2_item(5, 1, 8)),
        h2_record(2, 1, 0, 30, h2_item(6, 1, 0) + h2_item(7, 0, 0) + h2_item(5, 3, 7)),
        h2_record(3, 0, 0, 0, end=0xff),
    ]))


# http2: byte 0: bit 0 no preface prepended (judged mid-stream), bit 1 a
# reset; then pieces as http_parser's.
def h2frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream) + payload


def seeds_http2():
    settings = h2frame(4, 0, 0, b"\x00\x01\x00\x00\x10\x00\x00\x03\x00\x00\x00\x64")
    req = (settings + h2frame(8, 0, 0, b"\x00\x00\x10\x00") +
           h2frame(1, 0x25, 1, b"\x80\x00\x00\x00\x10" + b"\x82\x86\x84\x41\x8a") +
           h2frame(1, 0x08, 3, b"\x02\x82\x86\x00\x00") +
           h2frame(9, 0x04, 3, b"\x84") + h2frame(0, 0x01, 3, b"body"))
    resp = (settings + h2frame(4, 1, 0) + h2frame(1, 0x04, 1, b"\x88") +
            h2frame(0, 0, 1, b"x" * 40) + h2frame(0, 0x01, 1) +
            h2frame(5, 0x04, 1, b"\x00\x00\x00\x02\x82") +
            h2frame(3, 0, 3, b"\x00\x00\x00\x08") +
            h2frame(7, 0, 0, b"\x00\x00\x00\x03\x00\x00\x00\x00debug"))
    write("http2", "exchange", conn(0, [(REQ, req), (RESP, resp)]))
    write("http2", "split-frames",
          conn(2, [(REQ, req[i:i + 5]) for i in range(0, len(req), 5)] +
               [(RESP, resp[i:i + 7]) for i in range(0, len(resp), 7)]))
    write("http2", "midstream",
          conn(1, [(REQ, req[5:20]), (REQ, req[len(settings):]), (RESP, resp[3:10]),
                   (RESP, resp)]))
    write("http2", "data-by-sendfile",
          conn(0, [(REQ, req), (RESP, h2frame(1, 0x04, 1, b"\x88") +
                                bytes([0, 2, 0, 0, 0, 0, 0, 0, 1])),
                   (SENDFILE, 512), (RESP, h2frame(0, 1, 1))]))
    write("http2", "wrong-preface", bytes([1]) + piece(REQ, "PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n"))


if __name__ == "__main__":
    seeds_route()
    seeds_http_parser()
    seeds_hpack()
    seeds_h2_conn()
    seeds_http2()
