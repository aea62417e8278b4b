/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/2 connections as the kernel's h2_records show them (include/h2_record.h):
 * per connection, its identity, two HPACK decoders, each direction's
 * records put in order, and its open streams; from those, one event per
 * request or gRPC call, built at the latency points and with the failure
 * rules of docs/design-http2.md, section 7. Bounded: max_connections
 * (least recently used beyond, counted) and max_streams open streams in
 * all (beyond, a new stream is counted lost). Not thread-safe: the agent's
 * main thread, under its lock.
 */
#ifndef SLOTAP_H2_CONN_H
#define SLOTAP_H2_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "h2_record.h"
#include "hpack.h"
#include "http_server.h"

#define H2_DEFAULT_MAX_CONNECTIONS	16384
#define H2_DEFAULT_MAX_STREAMS		65536
/*
 * Open streams of one connection; beyond, the oldest already counted
 * (answered, or failed as timed out) is forgotten to make room, and when
 * there is none the new one is counted lost.
 */
#define H2_CONN_STREAMS_MAX		256
/* A stream failed as timed out is kept this long after for its late answer. */
#define H2_LATE_KEEP_NS			60000000000ull
/* A direction's records held for one missing before it: at most, and how long. */
#define H2_REORDER_MAX			8
#define H2_REORDER_WAIT_NS		250000000ull
/* Bytes of one header block put together from its pieces (hpack's bound). */
#define H2_BLOCK_MAX			HPACK_BLOCK_BYTES_MAX
/*
 * Bytes of all connections' blocks being put together (a piece beyond is
 * not kept: the block is lost, counted), and how long a block may stay
 * unfinished (then a gap, counted).
 */
#define H2_BLOCK_BYTES_TOTAL		(8u << 20)
#define H2_BLOCK_WAIT_NS		2000000000ull

/* The fields of an event that may be undecoded. */
enum h2_field {
	H2_FIELD_METHOD = 0,
	H2_FIELD_PATH,
	H2_FIELD_STATUS,
	H2_FIELD_MAX,
};

/*
 * One HTTP/2 request or gRPC call. e is as an HTTP/1 event (protocol
 * PROTO_HTTP2 or PROTO_GRPC; resource unused, the path is beside it);
 * e.status: HTTP's, or for gRPC the code (GRPC_CODE_MAX: invalid),
 * with e.status_class set either way.
 */
struct h2_event {
	struct http_event e;
	__u8 undecoded;			/* bit 1 << enum h2_field: not decoded */
	__u8 cause[H2_FIELD_MAX];	/* enum hpack_cause of each undecoded field */
	bool streaming;			/* gRPC: the client still sent after the first message */
	/*
	 * The status is the server's own answer (a response HEADERS: :status,
	 * or grpc-status, decoded), not one standing for a reset, a cancel, a
	 * GOAWAY or a timeout: only such a call says its gRPC method exists.
	 */
	bool answered;
	bool path_truncated;		/* longer than H2_PATH_MAX */
	__u8 path_len;
	char path[H2_PATH_MAX];		/* :path, its query cut */
};

typedef void (*h2_event_fn)(void *ctx, const struct h2_event *ev);

struct h2_conns_opts {
	__u32 max_connections;		/* 0: H2_DEFAULT_MAX_CONNECTIONS */
	__u32 max_streams;		/* 0: H2_DEFAULT_MAX_STREAMS */
	__u64 request_timeout_ns;	/* unanswered longer: failed (timeout); 0: never */
	h2_event_fn on_event;
	void *ctx;
};

/* Why a direction had a gap (slotap_h2_gaps_total{cause}): enum hpack_cause's. */
/* What records were dropped for (slotap_h2_records_dropped_total{reason}). */
enum h2_drop {
	H2_DROP_MALFORMED = 0,	/* a record whose head or items do not add up */
	H2_DROP_NO_OPEN,	/* of a connection whose H2_REC_OPEN was not seen */
	H2_DROP_STALE,		/* before the direction's expected offset (seen already) */
	H2_DROP_MAX,
};

/* What HTTP/2 counts that is not an event (self-metrics). */
struct h2_conns_stats {
	__u64 gaps[HPACK_CAUSE_MAX];	/* by cause */
	__u64 dropped[H2_DROP_MAX];
	__u64 conns_known, conns_partial;	/* now: decoders known, or prefix unknown */
	__u64 conns_evicted;		/* by max_connections */
	__u64 streams_open;		/* now */
	__u64 block_bytes;		/* now: header blocks being put together */
	/* header blocks lost: unfinished H2_BLOCK_WAIT_NS after their first piece;
	 * a piece beyond H2_BLOCK_BYTES_TOTAL */
	__u64 blocks_unfinished, blocks_over_budget;
	__u64 streams_overflow;		/* by max_streams or H2_CONN_STREAMS_MAX */
	__u64 streams_evicted;		/* open when their connection was evicted */
	/* counted already, forgotten before their end: timed out and no answer
	 * within H2_LATE_KEEP_NS more; the oldest, for a new stream at
	 * H2_CONN_STREAMS_MAX */
	__u64 streams_forgotten_late, streams_forgotten_cap;
	__u64 pushed;			/* PUSH_PROMISE streams: no request */
	__u64 unmatched;		/* responses of streams never seen opened */
	/* gRPC calls ended at their trailers: no first message seen (none sent, or
	 * more than the kernel's 6 await_data slots waiting at once) */
	__u64 first_data_untracked;
};

struct h2_conns;

/* NULL on ENOMEM. */
struct h2_conns *h2_conns__new(const struct h2_conns_opts *opts);
void h2_conns__free(struct h2_conns *hc);
void h2_conns__set_request_timeout(struct h2_conns *hc, __u64 ns);
/* New bounds (a reload): connections and streams beyond them go as new ones would. */
void h2_conns__set_limits(struct h2_conns *hc, __u32 max_connections, __u32 max_streams);
/*
 * One record of the h2_records ring (len bytes: head then items), at
 * monotonic now_ns. Events go to on_event. 0, or -EINVAL for a record
 * that does not add up (counted in dropped[H2_DROP_MALFORMED]).
 */
int h2_conns__record(struct h2_conns *hc, const struct h2_record *r, size_t len, __u64 now_ns);
/*
 * Every second or so: streams unanswered longer than the request timeout
 * fail (timeout, once; a later answer is counted late), and reorder queues
 * held longer than H2_REORDER_WAIT_NS become gaps (reordered).
 */
void h2_conns__sweep(struct h2_conns *hc, __u64 now_ns);
void h2_conns__stats(const struct h2_conns *hc, struct h2_conns_stats *out);
/* "record_lost", ...: the label of a cause (hpack.h); "before_agent" included. */
const char *h2_cause__name(enum hpack_cause cause);
const char *h2_drop__name(enum h2_drop reason);
const char *h2_field__name(enum h2_field field);

#endif /* SLOTAP_H2_CONN_H */
