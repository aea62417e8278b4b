// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fuzz target: HTTP/2 connections from the kernel's records to events
 * (user/h2_conn.c, with user/hpack.c under it), on records as a broken or
 * hostile kernel side, or a peer choosing every header byte, could make
 * them.
 *
 * Input: a sequence of records, each a 2-byte little-endian length then
 * that many bytes (a struct h2_record, then its items; shorter ones
 * too). The connection's identity is forced to one of two (bit 0 of the
 * generation) so that records meet; ts_ns is made to grow so that sweeps
 * see time pass. Bounds are small (2 connections, 8 streams) so that they
 * are hit.
 *
 * Checked: every event is in range (protocol, method, path length and no
 * query, failure or status and its class, undecoded bits and their
 * causes; answered only without a failure or an undecoded status); the
 * connections, streams and header-block bytes followed stay within their
 * bounds, and sweeps H2_BLOCK_WAIT_NS apart after the last record leave no
 * block being put together. Leaks and memory errors: the sanitizers.
 */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "grpc.h"
#include "h2_conn.h"

const char fuzz_target_name[] = "h2_conn";

#define RECORD_MAX	(H2_RECORD_MAX + 64)


static __u64 n_events;

static void on_event(void *ctx, const struct h2_event *ev)
{
	const struct http_event *e = &ev->e;

	(void)ctx;
	n_events++;
	FUZZ_CHECK(e->protocol == PROTO_HTTP2 || e->protocol == PROTO_GRPC, "protocol %u",
		   e->protocol);
	FUZZ_CHECK(ev->path_len <= H2_PATH_MAX, "path %u", ev->path_len);
	FUZZ_CHECK(!memchr(ev->path, '?', ev->path_len), "a query in the path");
	FUZZ_CHECK(e->operation < HTTP_METHOD_MAX, "method %u", e->operation);
	FUZZ_CHECK(!(ev->undecoded & ~7u), "undecoded %x", ev->undecoded);
	for (int f = 0; f < H2_FIELD_MAX; f++)
		FUZZ_CHECK(!(ev->undecoded & (1u << f)) ||
			   (ev->cause[f] > HPACK_CAUSE_NONE && ev->cause[f] < HPACK_CAUSE_MAX),
			   "field %d undecoded with cause %u", f, ev->cause[f]);
	FUZZ_CHECK(e->failure < HTTP_FAILURE_MAX, "failure %u", e->failure);
	if (e->failure) {
		FUZZ_CHECK(e->status == 0 && e->status_class == STATUS_CLASS_NONE,
			   "a failure with status %u class %u", e->status, e->status_class);
		FUZZ_CHECK(!(ev->undecoded & (1u << H2_FIELD_STATUS)),
			   "a failure's status undecoded");
	} else if (e->protocol == PROTO_GRPC) {
		FUZZ_CHECK(e->status <= GRPC_CODE_MAX, "gRPC code %u", e->status);
	}
	FUZZ_CHECK(e->status_class < STATUS_CLASS_MAX, "class %u", e->status_class);
	FUZZ_CHECK(!ev->answered || (!e->failure && !(ev->undecoded & (1u << H2_FIELD_STATUS))),
		   "answered with a failure or an undecoded status");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct h2_conns *hc = h2_conns__new(&(struct h2_conns_opts){
		.max_connections = 2, .max_streams = 8, .request_timeout_ns = 1000000000ull,
		.on_event = on_event });
	__u64 *buf = malloc(RECORD_MAX);	/* aligned as the ring's samples */
	__u64 now = 1000000000ull;
	struct h2_conns_stats st;
	size_t off = 0;

	FUZZ_CHECK(hc && buf, "out of memory");
	n_events = 0;
	while (off + 2 <= size) {
		size_t len = data[off] | (size_t)data[off + 1] << 8;
		struct h2_record *r = (struct h2_record *)buf;

		off += 2;
		if (len > size - off)
			len = size - off;
		if (len > RECORD_MAX)
			len = RECORD_MAX;
		memset(buf, 0, RECORD_MAX);
		memcpy(buf, data + off, len);
		off += len;
		if (len >= sizeof(*r)) {
			r->sock_id = 0x1000 + (r->gen & 1);
			r->gen &= 1;
			now += r->ts_ns & 0xfffffff;	/* up to ~268 ms a record */
			r->ts_ns = now;
		}
		h2_conns__record(hc, r, len, now);
		if (len && (data[off - 1] & 0x0f) == 0x0f)
			h2_conns__sweep(hc, now);
		h2_conns__stats(hc, &st);
		FUZZ_CHECK(st.block_bytes <= H2_BLOCK_BYTES_TOTAL && st.streams_open <= 8,
			   "%llu block bytes, %llu streams", (unsigned long long)st.block_bytes,
			   (unsigned long long)st.streams_open);
	}
	/* the first sweep may apply waiting records that begin blocks: the second gives them up */
	h2_conns__sweep(hc, now + H2_BLOCK_WAIT_NS + 1);
	h2_conns__sweep(hc, now + 2 * (H2_BLOCK_WAIT_NS + 1));
	h2_conns__stats(hc, &st);
	FUZZ_CHECK(!st.block_bytes, "%llu bytes of blocks unfinished after their wait",
		   (unsigned long long)st.block_bytes);
	FUZZ_CHECK(st.conns_known + st.conns_partial <= 2, "%llu connections",
		   (unsigned long long)(st.conns_known + st.conns_partial));
	h2_conns__free(hc);
	free(buf);
	return 0;
}
