/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The HTTP server SLI source: loads bpf/slotap.bpf.c, configures its
 * service filters, attaches it and delivers struct http_event records.
 */
#ifndef SLOTAP_HTTP_SOURCE_H
#define SLOTAP_HTTP_SOURCE_H

#include <linux/types.h>
#include <stdbool.h>
#include "http_server.h"
#include "h2_record.h"

struct http_source;
struct bpf_object;
struct slotap_config;

typedef int (*http_event_fn)(void *ctx, const struct http_event *e);
/*
 * One HTTP/2 record of the h2_records ring buffer: r is the whole record
 * (head, then items), len the bytes of the ring sample. Checked before
 * the call: len >= sizeof(*r) and r->items_len fits in len.
 */
typedef int (*h2_record_fn)(void *ctx, const struct h2_record *r, size_t len);

struct http_source_opts {
	const struct slotap_config *cfg;
	/* --no-tls: no TLS uprobe programs (docs/tls.md) */
	bool no_tls;
	__u32 ringbuf_bytes;		/* power of two */
	__u64 request_timeout_ns;	/* unanswered longer: failed (HTTP_FAILURE_TIMEOUT) */
	http_event_fn on_event;
	/* HTTP/2 records, on the same thread as on_event; NULL: counted and dropped */
	int (*on_h2_record)(void *ctx, const struct h2_record *r, size_t len);
	void *ctx;
};

/*
 * open: probe the kernel, load the programs (the verifier runs here) and
 * fill the service filters, attached to nothing yet. start: attach them;
 * they keep the listener counts. measure: they measure requests from this
 * instant on, or no longer (a reload hands over from one source to the
 * next between two stores). open and start return 0 or a negative errno,
 * having logged one line that says why; a failed start leaves nothing
 * attached. stop: detach, keeping the ring to drain; destroy: detach and
 * free.
 */
int http_source__open(struct http_source **out, const struct http_source_opts *opts);
int http_source__start(struct http_source *src);
/*
 * The TLS uprobes on the OpenSSL functions of the file at path (every
 * process that maps it, now or later): how many were attached, or -errno
 * (-ENOENT: it has none of them; -EOPNOTSUPP: --no-tls).
 */
int http_source__attach_tls(struct http_source *src, const char *path);
/* The processes serving tracked connections or listening for a service (serving_tgids). */
size_t http_source__serving_tgids(const struct http_source *src, __u32 *out, size_t max);
void http_source__measure(struct http_source *src, bool on);
void http_source__stop(struct http_source *src);
void http_source__destroy(struct http_source *src);
/* Fd that becomes readable when the kernel forces a wakeup. */
int http_source__epoll_fd(const struct http_source *src);
/*
 * Deliver the events waiting in the ring buffer, and those a CPU staged
 * STAGED_MAX_AGE_NS ago or more; returns how many records or -errno.
 */
int http_source__consume(struct http_source *src);
/* The same with every staged event: before a reload, a carry-over, an exit. */
int http_source__consume_all(struct http_source *src);
/*
 * Report every request unanswered for longer than the request timeout as
 * failed, once (events arrive through the ring buffer). Run it every second
 * or so: a timeout is reported up to one period late. 0 or -errno.
 */
int http_source__sweep_timeouts(struct http_source *src);
void http_source__set_request_timeout(struct http_source *src, __u64 ns);
/*
 * n new counts of a service: configured by id (exe_name ""), or
 * discovered by its executable's name.
 */
typedef void (*http_count_fn)(void *ctx, __u16 service_id, const char *exe_name, __u64 n);
/*
 * Sweep the listeners of configured services (every second or so) and
 * report the listen queue drops of each service since the last call
 * (HTTP_FAILURE_LISTEN_OVERFLOW: packets, not clients). 0 or -errno.
 */
int http_source__sweep_listen_drops(struct http_source *src, http_count_fn fn, void *ctx);
/* Report the segments retransmitted on each service's connections since the last call. */
int http_source__sweep_retransmits(struct http_source *src, http_count_fn fn, void *ctx);
/* Whether the kernel lets us count retransmits (see the start-up log). */
bool http_source__counts_retransmits(const struct http_source *src);
/*
 * The key of the service filter by executable file for the file open at
 * fd in this process (struct exe_key: its inode's address). 0 or -errno.
 */
int http_source__exe_inode(struct http_source *src, int fd, __u64 *inode);
enum http_match {
	HTTP_MATCH_EXE,		/* key: http_source__exe_inode()'s */
	HTTP_MATCH_CGROUP,	/* key: a cgroup v2 id */
};
/* Match the processes of an executable file or cgroup as a service, or no longer. */
int http_source__match(struct http_source *src, enum http_match kind, __u64 key,
		       __u16 service_id);
int http_source__unmatch(struct http_source *src, enum http_match kind, __u64 key);

/* What the agent received on h2_records (slotap_h2_records_total). */
enum h2_received {
	H2_RECEIVED_OPEN = 0,		/* H2_REC_OPEN records */
	H2_RECEIVED_OPEN_MIDSTREAM,	/* of which H2_REC_MIDSTREAM: older than the agent */
	H2_RECEIVED_IO,			/* H2_REC_IO records */
	H2_RECEIVED_END,		/* H2_REC_END records */
	H2_RECEIVED_MALFORMED,		/* records too short for what they say (none expected) */
	/* header blocks begun (H2_ITEM_BLOCK or TRUNCATED items flagged H2_IF_FIRST) */
	H2_RECEIVED_REQUEST_BLOCKS,	/* in the request direction */
	H2_RECEIVED_RESPONSE_BLOCKS,	/* in the response direction */
	H2_RECEIVED_MAX,
};

struct http_source_counters {
	__u64 loss[LOSS_REASON_MAX];
	__u64 stat[STAT_MAX];
	__u64 h2_received[H2_RECEIVED_MAX];
	__u64 ringbuf_backlog_bytes;
	__u64 ringbuf_size_bytes;
};
int http_source__read_counters(struct http_source *src, struct http_source_counters *out);
/* The loaded object, for its programs' and maps' statistics (bpf_stats.h). */
const struct bpf_object *http_source__object(const struct http_source *src);
const char *http_loss_reason__name(enum http_loss_reason reason);
/* The kind label of slotap_h2_records_total for a counter of enum h2_received. */
const char *h2_received__name(enum h2_received what);
/*
 * Count what record r (len bytes of a ring sample) holds into
 * counts[H2_RECEIVED_MAX]: 0, or -EBADMSG when it is shorter than it
 * says (counted as malformed; nothing after the fault is counted).
 */
int h2_record__count(const struct h2_record *r, size_t len, __u64 *counts);

#endif
