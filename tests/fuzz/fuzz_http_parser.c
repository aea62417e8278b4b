// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fuzz target: the kernel's HTTP/1 parser (and Redis's, for a connection
 * whose first bytes are a RESP command: the same invariants hold), run by the kernel on our bytes
 * through BPF_PROG_TEST_RUN (tests/bpf/parser_test.bpf.c), as
 * tests/unit/test_http_parser.c drives it. Needs root.
 *
 * Input: byte 0, bit 0: the connection's protocol is not told (the first
 * request bytes classify it); bit 1: it ends with a reset rather than a
 * close. Then pieces, each one read (requests) or write (responses) of
 * the server: a header byte h, dir = h & 1, length = h >> 1, or, when
 * that is 0, the next two bytes (little-endian), then the bytes; h = 0xff
 * is a sendfile of the next two bytes' count. Piece i happens at time
 * 1 + 1000 i. tests/fuzz/make-seeds.py writes the seeds.
 *
 * Checked, after the connection ends: every request started was measured
 * or counted lost, once (events + losses = requests); every event is in
 * range (method, path without query or line breaks, status and its class,
 * the connection's ids, times of pieces in request order); the kernel
 * keeps no spilled request of it; and small inputs give the same events
 * and losses fed a byte at a time (the word-at-a-time fast paths against
 * the byte parser), but where a response's end is found by where writes
 * start.
 *
 * The parser runs in the kernel, where libFuzzer sees no coverage: the
 * parser states after each piece are extra counters that it does see.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "fuzz.h"
#include "http_server.h"
#include "redis.h"
#include "bpf_feed.h"
#include "parser_test.h"
#include "parser_test.skel.h"

const char fuzz_target_name[] = "http_parser";

#define DIR_REQ		0
#define DIR_RESP	1
#define MAX_EVENTS	65536
#define PIECES_MAX	4096
/* inputs up to this many bytes are fed a second time, a byte at a time */
#define BYTEWISE_MAX	1024
/* struct conn's states and the parser's, as bpf/state.bpf.h and http1_state.bpf.h */
#define CONN_TRACKED	1
#define CONN_IGNORED	2
#define P_UNKNOWN	14
#define R_UNKNOWN	8	/* redis_state.bpf.h */
#define P_STATES	24

static struct parser_test_bpf *skel;

struct run {
	struct http_event ev[MAX_EVENTS];
	size_t n_events;
	__u64 loss[LOSS_REASON_MAX];
	struct test_conn_view view;	/* before the close */
	__u64 last_now;
	/* a client's read left the protocol undecided (mid-stream HTTP/2 is judged by reads) */
	bool undecided;
};

static struct run first, bytewise, *cur;

/* libFuzzer's view of the parser: (direction, both parsers' states, depth) seen */
static uint8_t parser_states[2 * P_STATES * P_STATES * 8]
	__attribute__((used, section("__libfuzzer_extra_counters")));

static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	FUZZ_CHECK(size && size % sizeof(struct http_event) == 0, "ring record of %zu bytes",
		   size);
	for (size_t off = 0; off < size; off += sizeof(struct http_event)) {
		struct http_event e;

		memcpy(&e, (char *)data + off, sizeof(e));
		/* Redis: an event of count n is n commands, each checked as one */
		FUZZ_CHECK(e.count >= 1 && (e.count == 1 || e.protocol == PROTO_REDIS),
			   "event of count %u, protocol %u", e.count, e.protocol);
		for (__u32 i = 0; i < e.count; i++) {
			FUZZ_CHECK(cur->n_events < MAX_EVENTS, "more than %d events", MAX_EVENTS);
			cur->ev[cur->n_events] = e;
			cur->ev[cur->n_events++].count = 1;
		}
	}
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	bpf_feed__silence();
	if (!bpf_feed__open("events", on_event, fuzz__fail_msg)) {
		fuzz_unavailable = "needs root (BPF_PROG_TEST_RUN)";
		return 0;
	}
	skel = bpf_feed__skel();
	return 0;
}

static void read_losses(__u64 out[LOSS_REASON_MAX])
{
	for (int r = 0; r < LOSS_REASON_MAX; r++)
		out[r] = bpf_feed__loss(r);
}

static void note_states(__u64 dir)
{
	const struct test_conn_view *v = &skel->bss->test_view;
	__u32 depth = v->req_seq - v->resp_seq;
	size_t i = ((dir * P_STATES + v->req_state % P_STATES) * P_STATES +
		    v->resp_state % P_STATES) * 8 + (depth < 7 ? depth : 7);

	parser_states[i]++;
}

/*
 * Responses of unknown length go on until a write starts with a status
 * line (or as much of one as it holds): there, where writes start is what
 * the parser goes by, and a byte at a time would make every byte a start.
 */
static bool resyncing(__u64 dir)
{
	const struct test_conn_view *v = &skel->bss->test_view;

	return dir == DIR_RESP && v->resp_state == (v->proto == PROTO_REDIS ? R_UNKNOWN : P_UNKNOWN);
}

/* One input's connection from start to end, its pieces whole or a byte at a time. */
static void run_connection(const uint8_t *data, size_t size, bool bytewise_feed, struct run *r)
{
	const uint8_t *p = data + 1, *end = data + size;
	__u64 before[LOSS_REASON_MAX], now = 1;
	bool tracked = true;

	cur = r;
	r->n_events = 0;
	r->undecided = false;
	bpf_feed__drain();
	r->n_events = 0;
	read_losses(before);
	FUZZ_CHECK(!bpf_feed__run(data[0] & 1 ? TEST_RESET_NEW : TEST_RESET, NULL, 0, 0), "reset");
	for (size_t piece = 0; tracked && p < end && piece < PIECES_MAX; piece++) {
		__u64 dir = *p & 1, len = *p >> 1;
		const uint8_t *buf = NULL;
		bool sendfile = *p++ == 0xff;

		if (sendfile || !len) {
			if (end - p < 2)
				break;
			len = p[0] | p[1] << 8;
			p += 2;
		}
		if (!sendfile) {
			if (len > (size_t)(end - p))
				len = end - p;
			buf = p;
			p += len;
		}
		now = 1 + piece * 1000;
		if (!len)
			continue;	/* a read of 0 is EOF: never fed */
		if (bytewise_feed && !sendfile) {
			size_t i;

			for (i = 0; tracked && i < len && !resyncing(dir); i++)
				tracked = !bpf_feed__run(dir, buf + i, 1, now);
			if (tracked && i < len)
				tracked = !bpf_feed__run(dir, buf + i, len - i, now);
		} else {
			tracked = !bpf_feed__run(dir, buf, len, now);
		}
		if (dir == DIR_REQ && !skel->bss->test_view.proto)
			r->undecided = true;
		if (!bytewise_feed)
			note_states(dir);
	}
	r->view = skel->bss->test_view;
	r->last_now = now;
	FUZZ_CHECK(!bpf_feed__run(data[0] & 2 ? TEST_ABORT : TEST_CLOSE, NULL, 0, 0), "close");
	bpf_feed__drain();
	read_losses(r->loss);
	for (int i = 0; i < LOSS_REASON_MAX; i++)
		r->loss[i] -= before[i];
}

static bool in_path(const struct http_event *e, char c)
{
	return memchr(e->resource, c, e->resource_len) != NULL;
}

static void check_event(const struct http_event *e, size_t i, const struct run *r, __u64 prev_start)
{
	bool failed = e->failure != HTTP_FAILURE_NONE;
	__u8 class;

	FUZZ_CHECK(e->kind == HTTP_EVENT_REQUEST &&
		   (e->protocol == PROTO_HTTP1 || e->protocol == PROTO_REDIS),
		   "event %zu: kind %u, protocol %u", i, e->kind, e->protocol);

	FUZZ_CHECK(e->service_id == 7 && e->local_port == 8080 && e->remote_port == 40000,
		   "event %zu: service %u, ports %u %u", i, e->service_id, e->local_port,
		   e->remote_port);
	FUZZ_CHECK(e->operation < HTTP_METHOD_MAX, "event %zu: method %u", i, e->operation);
	FUZZ_CHECK(!(e->flags & ~(HTTP_EVENT_PATH_TRUNCATED | HTTP_EVENT_RESP_SIZE_KNOWN)),
		   "event %zu: flags 0x%x", i, e->flags);
	FUZZ_CHECK(e->resource_len <= HTTP_PATH_MAX &&
		   (!(e->flags & HTTP_EVENT_PATH_TRUNCATED) || e->resource_len == HTTP_PATH_MAX),
		   "event %zu: path of %u bytes, flags 0x%x", i, e->resource_len, e->flags);
	FUZZ_CHECK(!in_path(e, ' ') && !in_path(e, '?') && !in_path(e, '#') && !in_path(e, '\r') &&
		   !in_path(e, '\n'), "event %zu: path \"%.*s\"", i, e->resource_len, e->resource);
	FUZZ_CHECK(e->req_start_ns % 1000 == 1 && e->req_start_ns <= r->last_now &&
		   e->req_start_ns >= prev_start,
		   "event %zu: request at %llu, the previous at %llu", i,
		   (unsigned long long)e->req_start_ns, (unsigned long long)prev_start);
	if (failed) {
		FUZZ_CHECK(e->failure == HTTP_FAILURE_CONN_CLOSED ||
			   e->failure == HTTP_FAILURE_CONN_RESET, "event %zu: failure %u", i,
			   e->failure);
		FUZZ_CHECK(!e->status && e->status_class == STATUS_CLASS_NONE && !e->resp_bytes,
			   "event %zu: failed with status %u", i, e->status);
		return;
	}
	FUZZ_CHECK(e->resp_start_ns % 1000 == 1 && e->resp_start_ns >= e->req_start_ns &&
		   e->resp_start_ns <= r->last_now, "event %zu: response at %llu", i,
		   (unsigned long long)e->resp_start_ns);
	if (e->protocol == PROTO_REDIS) {
		/* no names in redis_names here: every command _OTHER, every error too */
		FUZZ_CHECK(e->operation == REDIS_OP_OTHER && !e->resource_len &&
			   ((e->status == REDIS_STATUS_OK && e->status_class == STATUS_CLASS_OK) ||
			    (e->status == REDIS_ERROR_OTHER &&
			     e->status_class == STATUS_CLASS_CLIENT_ERROR)),
			   "event %zu: redis operation %u, status %u, class %u", i, e->operation,
			   e->status, e->status_class);
		return;
	}
	class = e->status < 100 || e->status > 599 ? STATUS_CLASS_INVALID
		: e->status >= 500 ? STATUS_CLASS_SERVER_ERROR
		: e->status >= 400 ? STATUS_CLASS_CLIENT_ERROR : STATUS_CLASS_OK;
	FUZZ_CHECK(e->status <= 999 && e->status_class == class &&
		   (e->status < 100 || e->status > 199 || e->status == 101),
		   "event %zu: status %u, class %u", i, e->status, e->status_class);
}

/* Losses that are a request each: what, with the events, must add up to the requests. */
static __u64 request_losses(const struct run *r)
{
	static const int reasons[] = { LOSS_RINGBUF_FULL, LOSS_NOT_HTTP, LOSS_UNPARSABLE_RESPONSE,
				       LOSS_TRUNCATED, LOSS_PIPELINE_OVERFLOW,
				       LOSS_UNPARSABLE_REQUEST, LOSS_UNFRAMED };
	__u64 n = 0;

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		n += r->loss[reasons[i]];
	return n;
}

static void check_run(const struct run *r)
{
	const struct test_conn_view *v = &r->view;
	/*
	 * Not HTTP from the first bytes: dropped before any request started,
	 * or at the close after reads judged for HTTP/2 mid-stream; or HTTP/2
	 * by its preface's first bytes, and not after all (its requests are
	 * the agent's: none here); or a "*" that began no Redis command.
	 */
	bool unclassified = v->proto != PROTO_HTTP1 && r->loss[LOSS_NOT_HTTP];
	__u64 requests = v->req_seq + unclassified, prev = 0;
	__u32 key, next;

	for (size_t i = 0; i < r->n_events; i++) {
		check_event(&r->ev[i], i, r, prev);
		prev = r->ev[i].req_start_ns;
	}
	FUZZ_CHECK(r->n_events + request_losses(r) == requests,
		   "%llu requests: %zu events + %llu lost (not http %llu, unparsable response %llu, "
		   "truncated %llu, overflow %llu, unparsable request %llu, unframed %llu, "
		   "ring %llu)", (unsigned long long)requests, r->n_events,
		   (unsigned long long)request_losses(r), (unsigned long long)r->loss[LOSS_NOT_HTTP],
		   (unsigned long long)r->loss[LOSS_UNPARSABLE_RESPONSE],
		   (unsigned long long)r->loss[LOSS_TRUNCATED],
		   (unsigned long long)r->loss[LOSS_PIPELINE_OVERFLOW],
		   (unsigned long long)r->loss[LOSS_UNPARSABLE_REQUEST],
		   (unsigned long long)r->loss[LOSS_UNFRAMED],
		   (unsigned long long)r->loss[LOSS_RINGBUF_FULL]);
	FUZZ_CHECK(!r->loss[LOSS_CONN_MAP_FULL] && !r->loss[LOSS_SERVICE_MAP_FULL],
		   "a map full");
	/* the connection's end removes what it spilled */
	FUZZ_CHECK(bpf_map_get_next_key(bpf_map__fd(skel->maps.pipeline_spill), NULL, &key) &&
		   errno == ENOENT, "pipeline_spill keeps entries after the close");
	(void)next;
}

/* Same requests, same answers, same losses, however the bytes were split. */
static void check_same(const struct run *a, const struct run *b)
{
	for (int i = 0; i < LOSS_REASON_MAX; i++)
		FUZZ_CHECK(a->loss[i] == b->loss[i], "loss reason %d: %llu, a byte at a time %llu",
			   i, (unsigned long long)a->loss[i], (unsigned long long)b->loss[i]);
	FUZZ_CHECK(a->n_events == b->n_events, "%zu events, a byte at a time %zu", a->n_events,
		   b->n_events);
	for (size_t i = 0; i < a->n_events; i++) {
		const struct http_event *x = &a->ev[i], *y = &b->ev[i];

		FUZZ_CHECK(x->operation == y->operation && x->resource_len == y->resource_len &&
			   !memcmp(x->resource, y->resource, x->resource_len) &&
			   (x->flags & HTTP_EVENT_PATH_TRUNCATED) ==
			   (y->flags & HTTP_EVENT_PATH_TRUNCATED) &&
			   x->status == y->status && x->failure == y->failure &&
			   x->req_start_ns == y->req_start_ns && x->req_bytes == y->req_bytes,
			   "event %zu: method %u \"%.*s\" status %u failure %u at %llu, %llu bytes; "
			   "a byte at a time: method %u \"%.*s\" status %u failure %u at %llu, "
			   "%llu bytes", i, x->operation, x->resource_len, x->resource, x->status,
			   x->failure, (unsigned long long)x->req_start_ns,
			   (unsigned long long)x->req_bytes, y->operation, y->resource_len,
			   y->resource, y->status, y->failure, (unsigned long long)y->req_start_ns,
			   (unsigned long long)y->req_bytes);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fuzz_unavailable || !size)
		return 0;
	run_connection(data, size, false, &first);
	check_run(&first);
	/*
	 * More heads in one buffer than the parser follows: lost only when
	 * whole. HTTP/2 is told by its preface's first 3 bytes, or mid-stream
	 * by reads that end at frames: not a byte at a time. Nor are the reads
	 * that leave the protocol undecided: each is judged, so other reads of
	 * the same bytes may decide otherwise ("*" or a token at a read's start).
	 */
	if (size <= BYTEWISE_MAX && !first.loss[LOSS_TRUNCATED] && first.view.proto != PROTO_HTTP2 &&
	    !first.undecided) {
		run_connection(data, size, true, &bytewise);
		check_run(&bytewise);
		check_same(&first, &bytewise);
	}
	return 0;
}
