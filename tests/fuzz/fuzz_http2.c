// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel's HTTP/2 framer (bpf/http2.bpf.h) on bytes anyone may send,
 * through tests/bpf/parser_test.bpf.c's slotap_test_feed, as
 * fuzz_http_parser.c drives HTTP/1. Input: byte 0: bit 0 the client's
 * preface is not prepended (the connection is judged mid-stream), bit 1
 * it ends with a reset rather than a close; then pieces as
 * fuzz_http_parser.c reads them (a header byte h: direction h & 1, length
 * h >> 1, or the next two bytes when that is 0; h = 0xff a sendfile of
 * the next two bytes' count).
 *
 * Checked: every record is well formed (items within it, as
 * h2_record__count() reads them), of this connection, its spans
 * contiguous per direction and within the bytes fed; one OPEN at most and
 * first, one END at most and last, an END exactly when an OPEN was sent;
 * a connection dropped was counted (h2_unframed or not_http); inputs up
 * to 1 KiB whose records lost nothing give the same items, pieces joined,
 * fed a byte at a time.
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
#include "h2_record.h"
#include "http_source.h"
#include "bpf_feed.h"
#include "parser_test.h"
#include "parser_test.skel.h"

const char fuzz_target_name[] = "http2";

#define DIR_REQ		0
#define DIR_RESP	1
#define PIECES_MAX	4096
#define BYTEWISE_MAX	1024
#define TOKENS_MAX	4096
#define PREFACE		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define PREFACE_LEN	24

static struct parser_test_bpf *skel;

/* An item, or consecutive block pieces joined (flags or'ed, bytes concatenated). */
struct token {
	__u8 kind, flags, dir;
	__u32 stream, value;
	__u32 len;
	__u64 hash;		/* FNV-1a of a block's bytes */
};

struct run {
	struct token tok[TOKENS_MAX];
	size_t n_tok;
	int opens, ends, after_end;
	bool lossy;		/* a TRUNCATED piece or ITEMS_LOST: pieces depend on the cuts */
	bool seen[2];
	__u64 expect[2];
	__u64 fed[2];
	__u64 losses;		/* h2_unframed + not_http */
	bool dropped;
	__u8 proto;		/* the connection's protocol before its end */
};

static struct run whole, bytewise, *cur;

static __u64 fnv(__u64 h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static int on_record(void *ctx, void *data, size_t size)
{
	const struct h2_record *r = data;
	__u64 counts[H2_RECEIVED_MAX] = {};
	size_t off = sizeof(*r), end;
	struct run *x = cur;

	(void)ctx;
	FUZZ_CHECK(!h2_record__count(r, size, counts), "a malformed record of %zu bytes", size);
	FUZZ_CHECK(r->sock_id == 0x5eed && r->gen == 42, "a record of another connection");
	FUZZ_CHECK(!x->ends, "a record after the END");
	if (r->kind == H2_REC_OPEN) {
		FUZZ_CHECK(!x->opens && !x->n_tok, "an OPEN after records");
		x->opens++;
		return 0;
	}
	FUZZ_CHECK(x->opens, "a record before the OPEN");
	if (r->kind == H2_REC_END) {
		x->ends++;
		return 0;
	}
	FUZZ_CHECK(r->dir <= 1, "direction %u", r->dir);
	if (x->seen[r->dir])
		FUZZ_CHECK(r->offset == x->expect[r->dir], "span at %llu, the last ended at %llu",
			   (unsigned long long)r->offset, (unsigned long long)x->expect[r->dir]);
	x->seen[r->dir] = true;
	if (!(r->flags & H2_REC_CONTINUED))
		x->expect[r->dir] = r->offset + r->len;
	if (r->flags & H2_REC_ITEMS_LOST)
		x->lossy = true;
	end = sizeof(*r) + r->items_len;
	while (off < end) {
		const struct h2_item *it = (const void *)((const char *)data + off);
		struct token *prev = x->n_tok ? &x->tok[x->n_tok - 1] : NULL, *t;
		bool piece = it->kind == H2_ITEM_BLOCK || it->kind == H2_ITEM_TRUNCATED;

		off += sizeof(*it);
		if (it->kind == H2_ITEM_TRUNCATED)
			x->lossy = true;
		if (piece && prev && prev->kind == H2_ITEM_BLOCK && prev->dir == r->dir &&
		    prev->stream == it->stream && !(prev->flags & H2_IF_END_HEADERS) &&
		    !(it->flags & H2_IF_FIRST)) {
			t = prev;	/* the same block goes on */
		} else {
			FUZZ_CHECK(x->n_tok < TOKENS_MAX, "more than %d items", TOKENS_MAX);
			t = &x->tok[x->n_tok++];
			memset(t, 0, sizeof(*t));
			t->kind = piece ? H2_ITEM_BLOCK : it->kind;
			t->dir = r->dir;
			t->stream = it->stream;
			t->hash = 0xcbf29ce484222325ULL;
		}
		t->flags |= it->flags;
		t->value |= it->value;
		if (piece) {
			t->len += it->len;
			if (it->kind == H2_ITEM_BLOCK) {
				t->hash = fnv(t->hash, (const unsigned char *)data + off, it->len);
				off += (it->len + 3) & ~3u;
			}
		}
	}
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	bpf_feed__silence();
	if (!bpf_feed__open("h2_records", on_record, fuzz__fail_msg)) {
		fuzz_unavailable = "needs root (BPF_PROG_TEST_RUN)";
		return 0;
	}
	skel = bpf_feed__skel();
	return 0;
}

static __u64 losses(void)
{
	return bpf_feed__loss(LOSS_H2_UNFRAMED) + bpf_feed__loss(LOSS_NOT_HTTP);
}

/* One piece, whole or a byte at a time; false once the connection is dropped. */
static bool feed_piece(__u64 dir, const uint8_t *buf, size_t len, bool bytewise_feed, __u64 now)
{
	cur->fed[dir] += len;
	if (!buf)
		return !bpf_feed__run(dir, NULL, len, now);	/* sendfile */
	if (!bytewise_feed)
		return !bpf_feed__run(dir, buf, len, now);
	for (size_t i = 0; i < len; i++)
		if (bpf_feed__run(dir, buf + i, 1, now))
			return false;
	return true;
}

static void run_connection(const uint8_t *data, size_t size, bool bytewise_feed, struct run *r)
{
	const uint8_t *p = data + 1, *end = data + size;
	bool tracked = true;
	__u64 before;

	bpf_feed__consume();
	cur = r;
	memset(r, 0, sizeof(*r));
	before = losses();
	FUZZ_CHECK(!bpf_feed__run(TEST_RESET_NEW, NULL, 0, 0), "reset");
	if (!(data[0] & 1)) {
		/* the preface's first 3 bytes together: what classifies it */
		tracked = feed_piece(DIR_REQ, (const uint8_t *)PREFACE, 3, false, 1) &&
			  feed_piece(DIR_REQ, (const uint8_t *)PREFACE + 3, PREFACE_LEN - 3,
				     bytewise_feed, 1);
	}
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
		if (sendfile) {
			dir = DIR_RESP;
		} else {
			if (len > (size_t)(end - p))
				len = end - p;
			buf = p;
			p += len;
		}
		if (!len)
			continue;
		tracked = feed_piece(dir, buf, len, bytewise_feed, 2 + piece * 1000);
	}
	r->dropped = !tracked;
	r->proto = skel->bss->test_view.proto;
	if (tracked)
		FUZZ_CHECK(!bpf_feed__run(data[0] & 2 ? TEST_ABORT : TEST_CLOSE, NULL, 0, 0),
			   "close");
	bpf_feed__consume();
	r->losses = losses() - before;
}

static void check_run(const struct run *r)
{
	FUZZ_CHECK(r->opens <= 1 && r->ends == r->opens, "%d OPEN and %d END records", r->opens,
		   r->ends);
	/* (HTTP/1's drops are fuzz_http_parser.c's) */
	FUZZ_CHECK(!r->dropped || r->proto == PROTO_HTTP1 || r->losses == 1,
		   "dropped, %llu losses counted", (unsigned long long)r->losses);
	for (int d = 0; d < 2; d++)
		FUZZ_CHECK(!r->seen[d] || r->expect[d] <= r->fed[d],
			   "direction %d: spans to %llu, %llu bytes fed", d,
			   (unsigned long long)r->expect[d], (unsigned long long)r->fed[d]);
}

/* The same items, pieces joined, however the bytes were cut. */
static void check_same(const struct run *a, const struct run *b)
{
	FUZZ_CHECK(a->n_tok == b->n_tok, "%zu items, a byte at a time %zu", a->n_tok, b->n_tok);
	for (size_t i = 0; i < a->n_tok; i++) {
		const struct token *x = &a->tok[i], *y = &b->tok[i];

		FUZZ_CHECK(x->kind == y->kind && x->dir == y->dir && x->stream == y->stream &&
			   x->value == y->value && x->flags == y->flags && x->len == y->len &&
			   x->hash == y->hash,
			   "item %zu: kind %u dir %u stream %u value %u flags %x len %u; a byte at "
			   "a time: kind %u dir %u stream %u value %u flags %x len %u", i, x->kind,
			   x->dir, x->stream, x->value, x->flags, x->len, y->kind, y->dir,
			   y->stream, y->value, y->flags, y->len);
	}
	FUZZ_CHECK(a->dropped == b->dropped, "dropped %d, a byte at a time %d", a->dropped,
		   b->dropped);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fuzz_unavailable || !size)
		return 0;
	run_connection(data, size, false, &whole);
	check_run(&whole);
	/*
	 * Mid-stream classification and syncing go by where reads start and
	 * end: not a byte at a time. Nor, when a record overflowed, which
	 * pieces fit.
	 */
	if (size <= BYTEWISE_MAX && !(data[0] & 1) && !whole.lossy) {
		run_connection(data, size, true, &bytewise);
		check_run(&bytewise);
		if (!bytewise.lossy)
			check_same(&whole, &bytewise);
	}
	return 0;
}
