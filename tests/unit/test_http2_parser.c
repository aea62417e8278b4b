// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel's HTTP/2 framer (bpf/http2.bpf.h), driven without traffic
 * through tests/bpf/parser_test.bpf.c's slotap_test_feed, as
 * test_http_parser.c drives HTTP/1: frame streams cut at every byte
 * (frame headers included), a byte at a time, in many iovecs, with
 * sendfile over them; the records it sends on h2_records are compared,
 * block by block and item by item, with what a small reference framer
 * written here reads from the same bytes whole. Needs root (BPF); skipped
 * otherwise, except under CI, where it fails.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "http_server.h"
#include "h2_record.h"
#include "http_source.h"
#include "bpf_feed.h"
#include "parser_test.h"
#include "parser_test.skel.h"

enum { DIR_REQ = 0, DIR_RESP = 1, RESET_NEW = 3 };

#define PREFACE		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define PREFACE_LEN	24
#define RECS_MAX	8192
#define OPS_MAX		65536
#define EVS_MAX		256

/* frame types and flags, as RFC 9113 numbers them */
enum { DATA = 0, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY,
       WINDOW_UPDATE, CONTINUATION };
enum { END_STREAM = 0x1, ACK = 0x1, END_HEADERS = 0x4, PADDED = 0x8, PRIO = 0x20 };

static struct parser_test_bpf *skel;	/* NULL: not root, the tests skip */

struct rec {
	size_t len;
	unsigned char data[H2_RECORD_MAX];
};
static struct rec *recs;
static int n_recs;

static int on_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	assert_true(size <= H2_RECORD_MAX);
	if (n_recs < RECS_MAX) {
		recs[n_recs].len = size;
		memcpy(recs[n_recs].data, data, size);
	}
	n_recs++;
	return 0;
}

/* a feed that failed fails the test (or the group) */
static void feed_failed(const char *msg)
{
	fail_msg("%s", msg);
}

static int group_setup(void **state)
{
	(void)state;
	recs = calloc(RECS_MAX, sizeof(*recs));
	if (!recs)
		return -1;
	if (!bpf_feed__open("h2_records", on_record, feed_failed) && getenv("CI"))
		fail_msg("test_http2_parser needs root (BPF), and CI must run it");
	skel = bpf_feed__skel();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	bpf_feed__close();
	free(recs);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Byte streams of frames                                                  */

struct bytes {
	unsigned char *p;
	size_t len, cap;
};

static void put(struct bytes *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put32(struct bytes *b, __u32 v)
{
	unsigned char x[4] = { v >> 24, v >> 16, v >> 8, v };

	put(b, x, 4);
}

static void frame(struct bytes *b, __u8 type, __u8 flags, __u32 stream, const void *payload,
		  size_t n)
{
	unsigned char h[9] = { n >> 16, n >> 8, n, type, flags, stream >> 24, stream >> 16,
			       stream >> 8, stream };

	put(b, h, 9);
	if (n)
		put(b, payload, n);
}

/* A header block's bytes (what HPACK would have made: the framer does not care). */
static void block_bytes(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 131 + i * 7 + 1);
}

/* HEADERS with optional padding and priority: frag is the fragment. */
static void headers(struct bytes *b, __u8 flags, __u32 stream, const unsigned char *frag,
		    size_t n, __u8 pad)
{
	struct bytes pl = {};
	unsigned char zeros[256] = {}, prio[5] = { 0x80, 0, 0, 3, 15 };

	if (flags & PADDED)
		put(&pl, &pad, 1);
	if (flags & PRIO)
		put(&pl, prio, 5);
	put(&pl, frag, n);
	if (flags & PADDED)
		put(&pl, zeros, pad);
	frame(b, HEADERS, flags, stream, pl.p, pl.len);
	free(pl.p);
}

static void push_promise(struct bytes *b, __u8 flags, __u32 stream, __u32 promised,
			 const unsigned char *frag, size_t n, __u8 pad)
{
	struct bytes pl = {};
	unsigned char zeros[256] = {};

	if (flags & PADDED)
		put(&pl, &pad, 1);
	put32(&pl, promised);
	put(&pl, frag, n);
	if (flags & PADDED)
		put(&pl, zeros, pad);
	frame(b, PUSH_PROMISE, flags, stream, pl.p, pl.len);
	free(pl.p);
}

static void data(struct bytes *b, __u8 flags, __u32 stream, size_t n)
{
	unsigned char *p = calloc(1, n + 1);

	frame(b, DATA, flags, stream, p, n);
	free(p);
}

/* The client's side of a connection: every frame kind the framer reports or skips. */
static void request_stream(struct bytes *b, bool preface, bool unknown_type)
{
	unsigned char frag[300], settings[12] = { 0, 3, 0, 0, 0, 100, 0, 1, 0, 0, 0x10, 0 };
	unsigned char wu[4] = { 0, 0, 0x10, 0 }, ping[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	unsigned char rst[4] = { 0, 0, 0, 8 };

	if (preface)
		put(b, PREFACE, PREFACE_LEN);
	frame(b, SETTINGS, 0, 0, settings, sizeof(settings));
	frame(b, WINDOW_UPDATE, 0, 0, wu, 4);
	block_bytes(frag, sizeof(frag), 1);
	headers(b, END_HEADERS | END_STREAM, 1, frag, 45, 0);
	block_bytes(frag, sizeof(frag), 2);
	headers(b, PADDED | PRIO, 3, frag, 40, 7);
	frame(b, CONTINUATION, 0, 3, frag + 40, 30);
	frame(b, CONTINUATION, END_HEADERS, 3, frag + 70, 11);
	data(b, 0, 3, 100);
	frame(b, PING, 0, 0, ping, 8);
	frame(b, SETTINGS, ACK, 0, NULL, 0);
	data(b, END_STREAM | PADDED, 3, 20);
	block_bytes(frag, sizeof(frag), 3);
	headers(b, END_HEADERS | PRIO, 5, frag, 0, 0);	/* an empty fragment, then another */
	headers(b, END_HEADERS | END_STREAM, 7, frag, 9, 0);
	frame(b, RST_STREAM, 0, 5, rst, 4);
	frame(b, PRIORITY, 0, 7, frag, 5);
	if (unknown_type)
		frame(b, 0x42, 0x3, 9, frag, 17);	/* skipped */
}

/* The server's side: the table size setting, awaited DATA, a push, a GOAWAY. */
static void response_stream(struct bytes *b)
{
	unsigned char frag[300], settings[18] = { 0, 1, 0, 0, 0x20, 0, 0, 4, 0, 1, 0, 0,
						  0, 1, 0, 0, 0, 0 };
	unsigned char goaway[12] = { 0, 0, 0, 7, 0, 0, 0, 2, 'b', 'y', 'e', '!' };

	frame(b, SETTINGS, 0, 0, settings, sizeof(settings));
	frame(b, SETTINGS, ACK, 0, NULL, 0);
	block_bytes(frag, sizeof(frag), 4);
	headers(b, END_HEADERS, 1, frag, 60, 0);	/* no END_STREAM: its first DATA is awaited */
	data(b, 0, 1, 50);
	data(b, END_STREAM, 1, 10);
	push_promise(b, END_HEADERS | PADDED, 3, 2, frag + 60, 21, 4);
	headers(b, 0, 3, frag + 100, 12, 0);
	frame(b, CONTINUATION, END_HEADERS, 3, frag + 112, 3);
	data(b, END_STREAM, 3, 0);
	headers(b, END_HEADERS | END_STREAM | PADDED, 5, frag + 130, 1, 255);
	frame(b, GOAWAY, 0, 0, goaway, sizeof(goaway));
}

/* ---------------------------------------------------------------------- */
/* Feeding, with the time of each operation                               */

static __u64 clk;

struct ops {
	size_t n;
	size_t start[OPS_MAX];
	__u64 time[OPS_MAX];
};
static struct ops *ops[2];

static void ops_reset(void)
{
	for (int d = 0; d < 2; d++) {
		if (!ops[d])
			ops[d] = malloc(sizeof(*ops[d]));
		ops[d]->n = 0;
	}
	n_recs = 0;
}

/* An operation of direction dir that moved bytes from off of its stream: returns its time. */
static __u64 op_note(int dir, size_t off)
{
	struct ops *o = ops[dir];

	clk += 1000;
	assert_true(o->n < OPS_MAX);
	o->start[o->n] = off;
	o->time[o->n] = clk;
	o->n++;
	return clk;
}

/* The time of the operation that moved byte off of direction dir. */
static __u64 op_time(int dir, size_t off)
{
	struct ops *o = ops[dir];
	__u64 t = 0;

	for (size_t i = 0; i < o->n && o->start[i] <= off; i++)
		t = o->time[i];
	return t;
}

/* Bytes [off, off + n) of a direction's stream in one read or write; the connection's answer. */
static int feed(int dir, const struct bytes *b, size_t off, size_t n)
{
	__u64 now = op_note(dir, off);

	return bpf_feed__run(dir, b->p + off, n, now);
}

/* The whole stream from off in pieces of at most piece bytes. */
static void feed_pieces(int dir, const struct bytes *b, size_t off, size_t piece)
{
	for (; off < b->len; off += piece)
		assert_int_equal(feed(dir, b, off, b->len - off < piece ? b->len - off : piece), 0);
}

static void drain(void);

/* A fresh connection, no record of an earlier one left on the ring. */
static void new_conn(void)
{
	drain();
	ops_reset();
	assert_int_equal(bpf_feed__run(RESET_NEW, NULL, 0, 0), 0);
}

static void drain(void)
{
	bpf_feed__consume();
	assert_true(n_recs <= RECS_MAX);
}

/* ---------------------------------------------------------------------- */
/* What the records say, and what a reference framer says                 */

struct ev {
	__u8 kind;		/* enum h2_item_kind: BLOCK for a whole block, or the item's */
	__u8 flags;		/* BLOCK: H2_IF_END_STREAM, H2_IF_PUSH */
	__u32 stream, value;
	__u64 start_ns;
	size_t len;		/* BLOCK: its bytes */
	unsigned char bytes[20480];
	bool truncated;		/* some piece was H2_ITEM_TRUNCATED */
	bool done;		/* END_HEADERS seen */
};

struct evs {
	int n;
	struct ev *ev;
};

static struct ev *ev_new(struct evs *e, __u8 kind, __u32 stream, __u32 value, __u64 start)
{
	struct ev *v;

	assert_true(e->n < EVS_MAX);
	if (!e->ev)
		e->ev = calloc(EVS_MAX, sizeof(*e->ev));
	v = &e->ev[e->n++];
	memset(v, 0, offsetof(struct ev, bytes));
	v->len = 0;
	v->truncated = v->done = false;
	v->kind = kind;
	v->stream = stream;
	v->value = value;
	v->start_ns = start;
	return v;
}

static __u32 be32(const unsigned char *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

/*
 * The reference: the frames of a direction's stream from off (after the
 * preface, or at a frame), read whole, as events; the response direction's
 * awaited streams as the kernel keeps them (6 slots, oldest overwritten).
 */
static void ref_events(int dir, const struct bytes *b, size_t off, struct evs *out)
{
	__u32 await[6] = {}, next = 0;
	struct ev *open = NULL;

	out->n = 0;
	while (off + 9 <= b->len) {
		const unsigned char *h = b->p + off, *p = h + 9;
		size_t len = (size_t)h[0] << 16 | h[1] << 8 | h[2], fo = 0, pad = 0;
		__u8 type = h[3], flags = h[4];
		__u32 stream = be32(h + 5) & 0x7fffffff;
		__u64 t = op_time(dir, off);
		struct ev *v;

		assert_true(off + 9 + len <= b->len);
		switch (type) {
		case DATA:
			for (int i = 0; dir == DIR_RESP && stream && i < 6; i++) {
				if (await[i] == stream) {
					await[i] = 0;
					ev_new(out, H2_ITEM_FIRST_DATA, stream, 0, t);
					break;
				}
			}
			if (flags & END_STREAM)
				ev_new(out, H2_ITEM_END_STREAM, stream, 0, t);
			break;
		case HEADERS:
		case PUSH_PROMISE:
			if (flags & PADDED) {
				pad = p[0];
				fo = 1;
			}
			v = ev_new(out, H2_ITEM_BLOCK, stream, 0, t);
			if (type == PUSH_PROMISE) {
				v->value = be32(p + fo) & 0x7fffffff;
				v->flags |= H2_IF_PUSH;
				fo += 4;
			} else if (flags & PRIO) {
				fo += 5;
			}
			if (type == HEADERS && (flags & END_STREAM))
				v->flags |= H2_IF_END_STREAM;
			if (type == HEADERS && dir == DIR_RESP && !(flags & END_STREAM) && stream) {
				await[next % 6] = stream;
				next = next % 6 + 1;
			}
			memcpy(v->bytes, p + fo, len - fo - pad);
			v->len = len - fo - pad;
			v->done = flags & END_HEADERS;
			open = v->done ? NULL : v;
			break;
		case CONTINUATION:
			assert_non_null(open);
			memcpy(open->bytes + open->len, p, len);
			open->len += len;
			open->done = flags & END_HEADERS;
			if (open->done)
				open = NULL;
			break;
		case RST_STREAM:
			ev_new(out, H2_ITEM_RST, stream, be32(p), t);
			break;
		case GOAWAY:
			ev_new(out, H2_ITEM_GOAWAY, be32(p) & 0x7fffffff, be32(p + 4), t);
			break;
		case SETTINGS:
			for (size_t i = 0; !(flags & ACK) && i + 6 <= len; i += 6)
				if ((p[i] << 8 | p[i + 1]) == 1)
					ev_new(out, H2_ITEM_SETTING, 0, be32(p + i + 2), t);
			break;
		}
		off += 9 + len;
	}
}

struct kern {
	struct evs ev[2];
	int opens, ends, midstream;
	__u8 end_reason;
	bool items_lost;
	int continued;
};

/*
 * The kernel's records, by direction: pieces joined into blocks, items
 * as they are; each direction's spans contiguous (offset + len is the next
 * record's offset, but for the records of one operation, which share them).
 */
static void kern_events(struct kern *k)
{
	__u64 expect[2] = {}, counts[H2_RECEIVED_MAX] = {};
	bool seen[2] = {};
	struct ev *open[2] = {};

	k->ev[0].n = k->ev[1].n = 0;
	k->opens = k->ends = k->midstream = k->continued = 0;
	k->items_lost = false;
	for (int i = 0; i < n_recs; i++) {
		const struct h2_record *r = (const void *)recs[i].data;
		size_t off = sizeof(*r), end;
		int d = r->dir;

		assert_int_equal(h2_record__count(r, recs[i].len, counts), 0);
		assert_int_equal(r->sock_id, 0x5eed);
		assert_int_equal(r->gen, 42);
		if (r->kind == H2_REC_OPEN) {
			const struct h2_open *o = (const void *)(r + 1);

			assert_int_equal(r->items_len, sizeof(*o));
			assert_int_equal(o->service_id, 7);
			assert_int_equal(o->local_port, 8080);
			k->opens++;
			k->midstream = !!(r->flags & H2_REC_MIDSTREAM);
			continue;
		}
		if (r->kind == H2_REC_END) {
			k->ends++;
			k->end_reason = r->end_reason;
			continue;
		}
		assert_int_equal(r->kind, H2_REC_IO);
		assert_true(d == 0 || d == 1);
		if (seen[d])
			assert_int_equal(r->offset, expect[d]);
		seen[d] = true;
		if (!(r->flags & H2_REC_CONTINUED))
			expect[d] = r->offset + r->len;
		else
			k->continued++;
		if (r->flags & H2_REC_ITEMS_LOST)
			k->items_lost = true;
		end = sizeof(*r) + r->items_len;
		while (off < end) {
			const struct h2_item *it = (const void *)(recs[i].data + off);
			__u64 start = r->ts_ns - it->start_delta_ns;
			struct ev *v;

			off += sizeof(*it);
			switch (it->kind) {
			case H2_ITEM_BLOCK:
			case H2_ITEM_TRUNCATED:
				if (it->flags & H2_IF_FIRST) {
					assert_null(open[d]);
					v = open[d] = ev_new(&k->ev[d], H2_ITEM_BLOCK, it->stream,
							     it->value, start);
					v->flags = it->flags & (H2_IF_END_STREAM | H2_IF_PUSH);
				}
				v = open[d];
				assert_non_null(v);
				assert_int_equal(it->stream, v->stream);
				assert_true(v->len + it->len <= sizeof(v->bytes));
				if (it->kind == H2_ITEM_BLOCK)
					memcpy(v->bytes + v->len, recs[i].data + off, it->len);
				else
					v->truncated = true;
				v->len += it->len;
				if (it->kind == H2_ITEM_BLOCK)
					off += (it->len + 3) & ~3u;
				if (it->flags & H2_IF_END_HEADERS) {
					v->done = true;
					open[d] = NULL;
				}
				break;
			default:
				ev_new(&k->ev[d], it->kind, it->stream, it->value, start);
			}
		}
		assert_int_equal(off, end);
	}
	assert_int_equal(counts[H2_RECEIVED_MALFORMED], 0);
}

static void expect_same(const struct evs *ref, const struct evs *got, const char *what)
{
	if (got->n != ref->n)
		fail_msg("%s: %d events, the reference %d", what, got->n, ref->n);
	for (int i = 0; i < ref->n; i++) {
		const struct ev *a = &ref->ev[i], *b = &got->ev[i];

		if (a->kind != b->kind || a->stream != b->stream || a->value != b->value ||
		    a->flags != b->flags || a->start_ns != b->start_ns || a->len != b->len ||
		    a->done != b->done || b->truncated || memcmp(a->bytes, b->bytes, a->len))
			fail_msg("%s: event %d: kind %u stream %u value %u flags %x start %llu len %zu "
				 "done %d truncated %d; the reference: kind %u stream %u value %u "
				 "flags %x start %llu len %zu done %d", what, i, b->kind, b->stream,
				 b->value, b->flags, (unsigned long long)b->start_ns, b->len, b->done,
				 b->truncated, a->kind, a->stream, a->value, a->flags,
				 (unsigned long long)a->start_ns, a->len, a->done);
	}
}

static struct kern *kern;
static struct evs ref_req, ref_resp;

static int test_setup(void **state)
{
	(void)state;
	if (!kern)
		kern = calloc(1, sizeof(*kern));
	return kern ? 0 : -1;
}

/* Both directions of the connection fed so far against the reference. */
static void check_both(const struct bytes *req, size_t req_from, const struct bytes *resp,
		       size_t resp_from, const char *what)
{
	drain();
	kern_events(kern);
	ref_events(DIR_REQ, req, req_from, &ref_req);
	ref_events(DIR_RESP, resp, resp_from, &ref_resp);
	expect_same(&ref_req, &kern->ev[DIR_REQ], what);
	expect_same(&ref_resp, &kern->ev[DIR_RESP], what);
	assert_false(kern->items_lost);
}

/* ---------------------------------------------------------------------- */
/* Tests                                                                  */

/*
 * Both directions cut in two at every byte (frame headers, the preface
 * after its first 3 bytes, padding, priority, fragments), and a byte at a
 * time: the same blocks and items as the reference reads whole, with the
 * time of the operation that moved each frame's first byte.
 */
static void frames_split_everywhere(void **state)
{
	struct bytes req = {}, resp = {};
	char what[64];

	(void)state;
	REQUIRE_BPF();
	request_stream(&req, true, true);
	response_stream(&resp);
	for (size_t cut = 3; cut < req.len + resp.len; cut++) {
		size_t rc = cut < req.len ? cut : req.len - 1, sc = cut % resp.len;

		new_conn();
		assert_int_equal(feed(DIR_REQ, &req, 0, rc), 0);
		assert_int_equal(feed(DIR_REQ, &req, rc, req.len - rc), 0);
		if (sc)
			assert_int_equal(feed(DIR_RESP, &resp, 0, sc), 0);
		assert_int_equal(feed(DIR_RESP, &resp, sc, resp.len - sc), 0);
		snprintf(what, sizeof(what), "cut at %zu, %zu", rc, sc);
		check_both(&req, PREFACE_LEN, &resp, 0, what);
		assert_int_equal(kern->opens, 1);
		assert_int_equal(kern->midstream, 0);
	}
	/* a byte at a time, the preface's first 3 bytes together */
	new_conn();
	assert_int_equal(feed(DIR_REQ, &req, 0, 3), 0);
	feed_pieces(DIR_REQ, &req, 3, 1);
	feed_pieces(DIR_RESP, &resp, 0, 1);
	check_both(&req, PREFACE_LEN, &resp, 0, "a byte at a time");
	/* and whole, with the connection's end */
	new_conn();
	assert_int_equal(feed(DIR_REQ, &req, 0, req.len), 0);
	assert_int_equal(feed(DIR_RESP, &resp, 0, resp.len), 0);
	assert_int_equal(bpf_feed__run(TEST_ABORT, NULL, 0, 0), 0);
	check_both(&req, PREFACE_LEN, &resp, 0, "whole");
	assert_int_equal(kern->ends, 1);
	assert_int_equal(kern->end_reason, HTTP_FAILURE_CONN_RESET);
	free(req.p);
	free(resp.p);
}

/* Not the preface after its first bytes: not HTTP/2, counted once, an END for the agent. */
static void wrong_preface(void **state)
{
	static const char bad[] = "PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n";
	__u64 before;

	(void)state;
	REQUIRE_BPF();
	before = bpf_feed__loss(LOSS_NOT_HTTP);
	new_conn();
	assert_int_equal(bpf_feed__run(DIR_REQ, bad, 8, 1), 0);
	/* dropped */
	assert_int_equal(bpf_feed__run(DIR_REQ, bad + 8, sizeof(bad) - 9, 2), 1);
	assert_int_equal(bpf_feed__loss(LOSS_NOT_HTTP), before + 1);
	drain();
	kern_events(kern);
	assert_int_equal(kern->opens, 1);
	assert_int_equal(kern->ends, 1);
	assert_int_equal(kern->end_reason, H2_END_UNFRAMED);
}

/*
 * A response written as separate iovecs for each frame header and
 * payload (as nginx and gRPC C-core write), 27, 64 and more of them: up
 * to H2_IOV_MAX are read; beyond, DATA payload bytes are skipped by count,
 * and a frame header there loses the framing (counted, an END record).
 */
static void many_iovecs(void **state)
{
	static const int counts[] = { 28, 64, 70 };
	struct bytes req = {}, resp = {};
	struct iovec iov[80];

	(void)state;
	REQUIRE_BPF();
	request_stream(&req, true, true);
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		/* k frames of 2 iovecs, a DATA header, its payload in 7: 2 k + 8 iovecs */
		int k = (counts[c] - 8) / 2, n = 0;
		unsigned char frag[64];
		size_t off = 0;

		resp.len = 0;
		block_bytes(frag, sizeof(frag), 9);
		for (int i = 0; i < k - 1; i++)
			headers(&resp, END_HEADERS | END_STREAM, 1 + 2 * i, frag, 1 + i % 50, 0);
		headers(&resp, END_HEADERS, 201, frag, 20, 0);
		data(&resp, END_STREAM, 201, 6 * 100 + 1);
		for (int f = 0; f <= k; f++) {
			size_t len = resp.p[off] << 16 | resp.p[off + 1] << 8 | resp.p[off + 2];

			iov[n].iov_base = resp.p + off;
			iov[n++].iov_len = 9;
			iov[n].iov_base = resp.p + off + 9;
			iov[n++].iov_len = f < k ? len : 1;
			off += 9 + (f < k ? len : 1);
		}
		for (int i = 0; i < 6; i++, off += 100) {
			iov[n].iov_base = resp.p + off;
			iov[n++].iov_len = 100;
		}
		assert_int_equal(off, resp.len);
		assert_int_equal(n, counts[c]);
		new_conn();
		assert_int_equal(feed(DIR_REQ, &req, 0, req.len), 0);
		op_note(DIR_RESP, 0);
		assert_int_equal(bpf_feed__run(TEST_VEC_DIR(n) | DIR_RESP, iov, resp.len, clk), 0);
		check_both(&req, PREFACE_LEN, &resp, 0, "iovecs");
	}
	/* a frame header in the 65th iovec: not seen, the framing lost */
	{
		__u64 before = bpf_feed__loss(LOSS_H2_UNFRAMED);
		unsigned char frag[8] = {};
		int n = 0;

		resp.len = 0;
		for (int i = 0; i < 33; i++)
			headers(&resp, END_HEADERS | END_STREAM, 1 + 2 * i, frag, 8, 0);
		for (size_t off = 0; off < resp.len; off += 17) {
			iov[n].iov_base = resp.p + off;
			iov[n++].iov_len = 9;
			iov[n].iov_base = resp.p + off + 9;
			iov[n++].iov_len = 8;
		}
		new_conn();
		assert_int_equal(feed(DIR_REQ, &req, 0, req.len), 0);
		assert_int_equal(bpf_feed__run(TEST_VEC_DIR(n) | DIR_RESP, iov, resp.len,
					       clk += 1000), 1);
		assert_int_equal(bpf_feed__loss(LOSS_H2_UNFRAMED), before + 1);
		drain();
		kern_events(kern);
		assert_int_equal(kern->ev[DIR_RESP].n, 32);	/* the frames it saw */
		assert_int_equal(kern->ends, 1);
		assert_int_equal(kern->end_reason, H2_END_UNFRAMED);
	}
	free(req.p);
	free(resp.p);
}

/*
 * DATA payloads are skipped by count: a large one cut anywhere, and sent
 * by sendfile (a payload the kernel cannot see). A sendfile over a frame
 * header loses the framing.
 */
static void data_skipped(void **state)
{
	struct bytes req = {}, resp = {};
	unsigned char frag[32];
	__u64 before;
	size_t pay;

	(void)state;
	REQUIRE_BPF();
	request_stream(&req, true, true);
	block_bytes(frag, sizeof(frag), 5);
	headers(&resp, END_HEADERS, 1, frag, 30, 0);
	pay = resp.len + 9;
	data(&resp, 0, 1, 70000);
	headers(&resp, END_HEADERS | END_STREAM, 1, frag, 5, 0);
	for (size_t piece = 1000; piece < 80000; piece *= 3) {
		new_conn();
		assert_int_equal(feed(DIR_REQ, &req, 0, req.len), 0);
		feed_pieces(DIR_RESP, &resp, 0, piece);
		check_both(&req, PREFACE_LEN, &resp, 0, "large DATA");
	}
	/* the payload by sendfile */
	new_conn();
	assert_int_equal(feed(DIR_REQ, &req, 0, req.len), 0);
	assert_int_equal(feed(DIR_RESP, &resp, 0, pay), 0);
	op_note(DIR_RESP, pay);
	assert_int_equal(bpf_feed__run(DIR_RESP, NULL, 70000, clk), 0);
	assert_int_equal(feed(DIR_RESP, &resp, pay + 70000, resp.len - pay - 70000), 0);
	check_both(&req, PREFACE_LEN, &resp, 0, "DATA by sendfile");
	/* a sendfile over the next frame header */
	before = bpf_feed__loss(LOSS_H2_UNFRAMED);
	new_conn();
	assert_int_equal(feed(DIR_REQ, &req, 0, req.len), 0);
	assert_int_equal(feed(DIR_RESP, &resp, 0, pay), 0);
	assert_int_equal(bpf_feed__run(DIR_RESP, NULL, 70010, clk += 1000), 1);
	assert_int_equal(bpf_feed__loss(LOSS_H2_UNFRAMED), before + 1);
	free(req.p);
	free(resp.p);
}

/*
 * A header block larger than an operation's records hold (20,000 bytes,
 * HEADERS and CONTINUATION, in one write): four records, three of them
 * CONTINUED, the pieces that do not fit sent as their size alone
 * (TRUNCATED: the agent makes a gap). Written in smaller pieces, it all
 * arrives.
 */
static void record_bounds(void **state)
{
	struct bytes req = {}, resp = {};
	static unsigned char frag[20000];
	size_t total = 0;
	bool truncated = false;

	(void)state;
	REQUIRE_BPF();
	request_stream(&req, true, true);
	block_bytes(frag, sizeof(frag), 6);
	headers(&resp, 0, 1, frag, 16384, 0);
	frame(&resp, CONTINUATION, END_HEADERS, 1, frag + 16384, sizeof(frag) - 16384);
	new_conn();
	assert_int_equal(feed(DIR_REQ, &req, 0, req.len), 0);
	assert_int_equal(feed(DIR_RESP, &resp, 0, resp.len), 0);
	drain();
	kern_events(kern);
	assert_int_equal(kern->continued, H2_RECORDS_PER_OP - 1);
	assert_int_equal(kern->ev[DIR_RESP].n, 1);
	total = kern->ev[DIR_RESP].ev[0].len;
	truncated = kern->ev[DIR_RESP].ev[0].truncated;
	assert_int_equal(total, sizeof(frag));	/* every byte accounted for */
	assert_true(truncated);
	assert_true(kern->ev[DIR_RESP].ev[0].done);
	/* what was copied is the block's beginning */
	assert_memory_equal(kern->ev[DIR_RESP].ev[0].bytes, frag, 3 * 4000);
	new_conn();
	assert_int_equal(feed(DIR_REQ, &req, 0, req.len), 0);
	feed_pieces(DIR_RESP, &resp, 0, 3000);
	check_both(&req, PREFACE_LEN, &resp, 0, "a large block in pieces");
	free(req.p);
	free(resp.p);
}

/*
 * A connection older than the agent: its first client read starts inside
 * a frame (not classified), the next at one, ending at a frame's end
 * (HTTP/2 mid-stream). The server's first write after that starts inside
 * a frame too (passed over), the next at one: from there both directions
 * are framed as the reference frames them.
 */
static void midstream(void **state)
{
	struct bytes req = {}, resp = {}, tail = {};
	size_t at;

	(void)state;
	REQUIRE_BPF();
	request_stream(&req, false, false);
	response_stream(&resp);
	/* the request stream's second frame starts at 9 + 12: read from there */
	at = 9 + 12;
	put(&tail, resp.p + 5, 20);	/* the inside of a frame the server was writing */
	new_conn();
	assert_int_equal(feed(DIR_REQ, &req, 3, at - 3), 0);	/* inside the SETTINGS frame */
	drain();
	assert_int_equal(n_recs, 0);
	assert_int_equal(skel->bss->test_view.proto, PROTO_NONE);
	assert_int_equal(feed(DIR_REQ, &req, at, req.len - at), 0);
	assert_int_equal(skel->bss->test_view.proto, PROTO_HTTP2);
	assert_int_equal(bpf_feed__run(DIR_RESP, tail.p, tail.len, clk += 1000), 0);
	assert_int_equal(feed(DIR_RESP, &resp, 0, resp.len), 0);
	check_both(&req, at, &resp, 0, "mid-stream");
	assert_int_equal(kern->opens, 1);
	assert_true(kern->midstream);
	free(req.p);
	free(resp.p);
	free(tail.p);
}

/*
 * HTTP/1 and bytes of other protocols (random ones included) are never
 * taken for HTTP/2 mid-stream: HTTP/1 is HTTP/1, the rest not_http after
 * H2_MIDSTREAM_READS reads, and no OPEN record.
 */
static void never_midstream(void **state)
{
	static const char *const http1[] = { "GET / HTTP/1.1\r\n\r\n", "POST /x HTTP/1.1\r\n",
					     "PRI /x HTTP/1.1\r\n\r\n" };
	unsigned char buf[512];
	__u64 before;

	(void)state;
	REQUIRE_BPF();
	for (size_t i = 0; i < sizeof(http1) / sizeof(http1[0]); i++) {
		new_conn();
		bpf_feed__run(DIR_REQ, http1[i], strlen(http1[i]), 1);
		assert_int_not_equal(skel->bss->test_view.proto, PROTO_HTTP2);
	}
	srandom(7);
	before = bpf_feed__loss(LOSS_NOT_HTTP);
	for (int i = 0; i < 500; i++) {
		int reads = 0, ret = 0;

		new_conn();
		while (!ret) {
			size_t len = 9 + random() % (sizeof(buf) - 9);

			for (size_t j = 0; j < len; j++)
				buf[j] = random();
			if (i % 2)
				buf[0] = 0;	/* a small frame length, as frames have */
			ret = bpf_feed__run(DIR_REQ, buf, len, 1 + reads++);
			if (skel->bss->test_view.proto == PROTO_HTTP1 ||
			    skel->bss->test_view.proto == PROTO_REDIS)
				break;	/* random bytes that start like a method, or "*": fine */
			assert_int_equal(skel->bss->test_view.proto, PROTO_NONE);
		}
		assert_true(reads <= 4);
	}
	drain();
	kern_events(kern);
	assert_int_equal(kern->opens, 0);
	assert_true(bpf_feed__loss(LOSS_NOT_HTTP) > before);
}

/*
 * The bounds, each at and past its limit: the walk's steps in one
 * operation (H2_OP_STEPS_MAX: two a PING frame), the frames of a
 * mid-stream chain (16), and the streams awaiting their first DATA (6:
 * a seventh takes the oldest's slot, whose DATA is then not reported).
 */
static void bounds(void **state)
{
	static const unsigned char ping[8];
	struct bytes req = {}, resp = {};
	unsigned char frag[8] = { 1, 2, 3 };
	__u64 before;

	(void)state;
	REQUIRE_BPF();
	request_stream(&req, true, true);
	for (int frames = 4000; frames <= 4200; frames += 200) {
		resp.len = 0;
		for (int i = 0; i < frames; i++)
			frame(&resp, PING, ACK, 0, ping, 8);
		before = bpf_feed__loss(LOSS_H2_UNFRAMED);
		new_conn();
		assert_int_equal(feed(DIR_REQ, &req, 0, req.len), 0);
		assert_int_equal(feed(DIR_RESP, &resp, 0, resp.len), frames > 4096);
		assert_int_equal(bpf_feed__loss(LOSS_H2_UNFRAMED), before + (frames > 4096));
	}
	for (int frames = 16; frames <= 17; frames++) {
		req.len = 0;
		for (int i = 0; i < frames; i++)
			frame(&req, PING, 0, 0, ping, 8);
		new_conn();
		assert_int_equal(feed(DIR_REQ, &req, 0, req.len), 0);
		assert_int_equal(skel->bss->test_view.proto, frames <= 16 ? PROTO_HTTP2 : PROTO_NONE);
	}
	/* eight streams answered with HEADERS alone, then their DATA */
	req.len = 0;
	request_stream(&req, true, true);
	resp.len = 0;
	for (int i = 0; i < 8; i++)
		headers(&resp, END_HEADERS, 1 + 2 * i, frag, 3, 0);
	for (int i = 0; i < 8; i++)
		data(&resp, END_STREAM, 1 + 2 * i, 4);
	new_conn();
	assert_int_equal(feed(DIR_REQ, &req, 0, req.len), 0);
	feed_pieces(DIR_RESP, &resp, 0, 20);
	check_both(&req, PREFACE_LEN, &resp, 0, "eight awaited streams");
	before = 0;
	for (int i = 0; i < kern->ev[DIR_RESP].n; i++)
		before += kern->ev[DIR_RESP].ev[i].kind == H2_ITEM_FIRST_DATA;
	assert_int_equal(before, 6);
	free(req.p);
	free(resp.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(frames_split_everywhere, test_setup),
		cmocka_unit_test_setup(wrong_preface, test_setup),
		cmocka_unit_test_setup(many_iovecs, test_setup),
		cmocka_unit_test_setup(data_skipped, test_setup),
		cmocka_unit_test_setup(record_bounds, test_setup),
		cmocka_unit_test_setup(midstream, test_setup),
		cmocka_unit_test_setup(never_midstream, test_setup),
		cmocka_unit_test_setup(bounds, test_setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
