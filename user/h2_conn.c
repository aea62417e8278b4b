// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * HTTP/2 connections from the kernel's records to events: see h2_conn.h
 * and docs/design-http2.md, section 7.
 *
 * A direction's records are applied in the order of their offsets (a
 * record's offset + len is the next one's; the records of one operation,
 * H2_REC_CONTINUED, share both): one ahead waits in the direction's queue
 * for the one missing, and a missing one that does not come (the queue
 * full, or H2_REORDER_WAIT_NS) is a gap: the direction's decoder forgets
 * its table, and what it decodes next is right or undecoded, never wrong.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grpc.h"
#include "h2_conn.h"

/* RFC 9113 section 7 */
#define H2_NO_ERROR		0x0

enum stream_flag {
	SF_GRPC = 1 << 0,	/* a gRPC call: content-type or grpc-status says so */
	SF_REQ_END = 1 << 1,	/* the client half-closed: t_req_end */
	SF_RESP = 1 << 2,	/* a final (non-1xx) response HEADERS was seen: t_resp */
	SF_END_TAKEN = 1 << 3,	/* gRPC: the latency's end is known (t_end), the status not yet */
	SF_EMITTED = 1 << 4,	/* its event went out: only its end is still to come */
	SF_LATE = 1 << 5,	/* failed as timed out: a later answer is counted late */
	SF_FIRST_DATA = 1 << 6,	/* the kernel reported its first response DATA: t_first_data */
	SF_TYPE_UNKNOWN = 1 << 7,	/* a POST (or any) whose content-type was not decoded */
	SF_HELD = 1 << 8,	/* answered, and which of gRPC or HTTP/2 only its end tells */
	SF_ANSWERED = 1 << 9,	/* its status is from the server's response HEADERS */
};

struct h2_stream {
	__u32 id;
	__u16 flags;		/* enum stream_flag */
	__u16 http_status;
	__u64 t_req;		/* end of the op that moved its first HEADERS' first byte */
	__u64 t_req_end;	/* of the op that moved the client's END_STREAM */
	__u64 t_end;		/* gRPC: the first message, or the status; HTTP/2: the response */
	__u64 t_first_data;	/* its first response DATA (gRPC's first message) */
	__u64 timeout_ns;	/* grpc-timeout, 0: none */
	__u8 method;		/* enum http_method */
	__u8 undecoded;		/* as h2_event.undecoded */
	__u8 cause[H2_FIELD_MAX];
	bool path_truncated;
	__u8 path_len;
	char path[H2_PATH_MAX];
};

/* A record waiting for the one before it. */
struct pending {
	struct h2_record *r;	/* a copy, len bytes */
	size_t len;
	__u64 since_ns;
};

struct h2_dir {
	struct hpack_decoder dec;
	__u64 next_offset;	/* where the next record's span starts */
	struct pending queue[H2_REORDER_MAX];
	__u32 queued;
	__u8 gap_cause;		/* of its last gap: what a response not seen was lost to */
	/* the header block being put together from its pieces */
	bool in_block;
	bool block_lost;	/* a piece was not copied: cause */
	bool block_given_up;	/* unfinished too long: its pieces still to come are ignored */
	__u8 block_cause;
	__u8 block_flags;	/* its first piece's H2_IF_ flags */
	__u32 block_stream;
	__u64 block_start_ns;	/* the op that moved its first byte */
	__u64 block_since_ns;	/* the agent's clock at its first piece */
	__u8 *block;
	size_t block_len, block_cap;
};

struct h2_conn {
	__u64 sock_id;
	__u32 gen;
	struct h2_open open;
	struct h2_dir dir[2];
	bool goaway;
	__u32 goaway_last;	/* the server's last-stream-id */
	__u32 goaway_error;	/* and its error code */
	struct h2_stream **streams;	/* unordered, n_streams of cap_streams */
	__u32 n_streams, cap_streams;
	struct h2_conn *hash_next;	/* chain of its bucket */
	struct h2_conn *lru_prev, *lru_next;	/* most recently used first */
};

struct h2_conns {
	struct h2_conns_opts o;
	struct h2_conn **buckets;	/* n_buckets: a power of two */
	size_t n_buckets;
	struct h2_conn *lru_head, *lru_tail;
	size_t n_conns, n_streams;
	size_t block_bytes;	/* of the assembly buffers of all connections */
	__u64 now_ns;		/* of the record or sweep being handled */
	struct h2_conns_stats st;
};

enum { DIR_REQ = 0, DIR_RESP = 1 };

static const char *const cause_names[HPACK_CAUSE_MAX] = {
	[HPACK_CAUSE_NONE] = "none",
	[HPACK_CAUSE_BEFORE_AGENT] = "before_agent",
	[HPACK_CAUSE_RECORD_LOST] = "record_lost",
	[HPACK_CAUSE_TRUNCATED] = "truncated",
	[HPACK_CAUSE_REORDERED] = "reordered",
	[HPACK_CAUSE_HIDDEN_BYTES] = "hidden_bytes",
	[HPACK_CAUSE_CORRUPT] = "corrupt",
	[HPACK_CAUSE_EVICTED] = "decoder_evicted",
};

static const char *const drop_names[H2_DROP_MAX] = {
	[H2_DROP_MALFORMED] = "malformed",
	[H2_DROP_NO_OPEN] = "no_open",
	[H2_DROP_STALE] = "stale",
};

static const char *const field_names[H2_FIELD_MAX] = {
	[H2_FIELD_METHOD] = "method",
	[H2_FIELD_PATH] = "path",
	[H2_FIELD_STATUS] = "status",
};

const char *h2_cause__name(enum hpack_cause cause)
{
	return cause < HPACK_CAUSE_MAX ? cause_names[cause] : "other";
}

const char *h2_drop__name(enum h2_drop reason)
{
	return reason < H2_DROP_MAX ? drop_names[reason] : "other";
}

const char *h2_field__name(enum h2_field field)
{
	return field < H2_FIELD_MAX ? field_names[field] : "other";
}

/* ---- the table of connections ------------------------------------------- */

struct h2_conns *h2_conns__new(const struct h2_conns_opts *opts)
{
	struct h2_conns *hc = calloc(1, sizeof(*hc));

	if (!hc)
		return NULL;
	hc->o = *opts;
	if (!hc->o.max_connections)
		hc->o.max_connections = H2_DEFAULT_MAX_CONNECTIONS;
	if (!hc->o.max_streams)
		hc->o.max_streams = H2_DEFAULT_MAX_STREAMS;
	for (hc->n_buckets = 64; hc->n_buckets < hc->o.max_connections; hc->n_buckets *= 2)
		;
	hc->buckets = calloc(hc->n_buckets, sizeof(*hc->buckets));
	if (!hc->buckets) {
		free(hc);
		return NULL;
	}
	return hc;
}

void h2_conns__set_request_timeout(struct h2_conns *hc, __u64 ns)
{
	hc->o.request_timeout_ns = ns;
}

static size_t bucket_of(const struct h2_conns *hc, __u64 sock_id, __u32 gen)
{
	__u64 h = (sock_id ^ ((__u64)gen << 32 | gen)) * 0x9e3779b97f4a7c15ULL;

	return (h >> 32) & (hc->n_buckets - 1);
}

static struct h2_conn *conn_find(struct h2_conns *hc, __u64 sock_id, __u32 gen)
{
	struct h2_conn *c = hc->buckets[bucket_of(hc, sock_id, gen)];

	while (c && (c->sock_id != sock_id || c->gen != gen))
		c = c->hash_next;
	return c;
}

static void lru_unlink(struct h2_conns *hc, struct h2_conn *c)
{
	if (c->lru_prev)
		c->lru_prev->lru_next = c->lru_next;
	else
		hc->lru_head = c->lru_next;
	if (c->lru_next)
		c->lru_next->lru_prev = c->lru_prev;
	else
		hc->lru_tail = c->lru_prev;
	c->lru_prev = c->lru_next = NULL;
}

static void lru_push(struct h2_conns *hc, struct h2_conn *c)
{
	c->lru_next = hc->lru_head;
	if (hc->lru_head)
		hc->lru_head->lru_prev = c;
	hc->lru_head = c;
	if (!hc->lru_tail)
		hc->lru_tail = c;
}

static void stream_drop(struct h2_conns *hc, struct h2_conn *c, __u32 i)
{
	free(c->streams[i]);
	c->streams[i] = c->streams[--c->n_streams];
	hc->n_streams--;
}

/* The direction's assembly buffer, given back to the budget. */
static void block_free(struct h2_conns *hc, struct h2_dir *dir)
{
	free(dir->block);
	hc->block_bytes -= dir->block_cap;
	dir->block = NULL;
	dir->block_cap = dir->block_len = 0;
}

static void dir_free(struct h2_conns *hc, struct h2_dir *d)
{
	hpack_decoder__free(&d->dec);
	for (__u32 i = 0; i < d->queued; i++)
		free(d->queue[i].r);
	block_free(hc, d);
}

/* Forget c: out of the table, its streams and memory freed (nothing emitted). */
static void conn_free(struct h2_conns *hc, struct h2_conn *c)
{
	struct h2_conn **p = &hc->buckets[bucket_of(hc, c->sock_id, c->gen)];

	while (*p != c)
		p = &(*p)->hash_next;
	*p = c->hash_next;
	lru_unlink(hc, c);
	while (c->n_streams)
		stream_drop(hc, c, c->n_streams - 1);
	free(c->streams);
	dir_free(hc, &c->dir[DIR_REQ]);
	dir_free(hc, &c->dir[DIR_RESP]);
	free(c);
	hc->n_conns--;
}

void h2_conns__free(struct h2_conns *hc)
{
	if (!hc)
		return;
	while (hc->lru_head)
		conn_free(hc, hc->lru_head);
	free(hc->buckets);
	free(hc);
}

void h2_conns__set_limits(struct h2_conns *hc, __u32 max_connections, __u32 max_streams)
{
	hc->o.max_connections = max_connections ? max_connections : H2_DEFAULT_MAX_CONNECTIONS;
	hc->o.max_streams = max_streams ? max_streams : H2_DEFAULT_MAX_STREAMS;
	while (hc->n_conns > hc->o.max_connections) {
		hc->st.conns_evicted++;
		hc->st.streams_evicted += hc->lru_tail->n_streams;
		conn_free(hc, hc->lru_tail);
	}
}

/* ---- events --------------------------------------------------------------- */

/* The event of stream s, ending at end_ns (0: failed with failure at end_ns). */
static void emit(struct h2_conns *hc, const struct h2_conn *c, const struct h2_stream *s,
		 __u64 end_ns, enum http_failure failure, unsigned int status, __u16 extra_flags)
{
	const struct h2_open *o = &c->open;
	struct h2_event ev = {};
	struct http_event *e = &ev.e;

	e->req_start_ns = s->t_req;
	e->resp_start_ns = end_ns;
	e->cgroup_id = o->cgroup_id;
	e->sock_id = c->sock_id;
	e->tgid = o->tgid;
	e->service_id = o->service_id;
	e->local_port = o->local_port;
	e->remote_port = o->remote_port;
	e->operation = s->method;
	e->flags = extra_flags | (o->client ? HTTP_EVENT_CLIENT : 0);
	e->kind = HTTP_EVENT_REQUEST;
	e->failure = failure;
	e->protocol = s->flags & SF_GRPC ? PROTO_GRPC : PROTO_HTTP2;
	memcpy(e->remote_addr, o->remote_addr, sizeof(e->remote_addr));
	memcpy(e->exe_name, o->exe_name, sizeof(e->exe_name));
	ev.undecoded = s->undecoded;
	memcpy(ev.cause, s->cause, sizeof(ev.cause));
	if (failure) {
		/* a failure has no status: only the request's fields can be undecoded */
		ev.undecoded &= ~(1u << H2_FIELD_STATUS);
		e->status_class = STATUS_CLASS_NONE;
	} else if (e->protocol == PROTO_GRPC) {
		e->status = status;
		e->status_class = grpc_code__status_class(status);
	} else {
		e->status = status;
		e->status_class = status < 100 || status > 599 ? STATUS_CLASS_INVALID :
				  status >= 500 ? STATUS_CLASS_SERVER_ERROR :
				  status >= 400 ? STATUS_CLASS_CLIENT_ERROR : STATUS_CLASS_OK;
	}
	if (!failure && (s->undecoded & (1u << H2_FIELD_STATUS)))
		e->status_class = STATUS_CLASS_NONE;
	ev.answered = !failure && (s->flags & SF_ANSWERED) &&
		      !(s->undecoded & (1u << H2_FIELD_STATUS));
	ev.streaming = e->protocol == PROTO_GRPC && !failure &&
		       (!(s->flags & SF_REQ_END) || s->t_req_end > end_ns);
	ev.path_truncated = s->path_truncated;
	ev.path_len = s->path_len;
	memcpy(ev.path, s->path, s->path_len);
	if (hc->o.on_event)
		hc->o.on_event(hc->o.ctx, &ev);
}

/*
 * A gRPC call's status is known: its event, ending at its first message if
 * that came, else at end_ns. status_undecoded: the code is not known.
 */
static void grpc_done(struct h2_conns *hc, struct h2_conn *c, struct h2_stream *s, __u64 end_ns,
		      unsigned int code, bool status_undecoded, enum hpack_cause cause)
{
	if (status_undecoded) {
		s->undecoded |= 1u << H2_FIELD_STATUS;
		s->cause[H2_FIELD_STATUS] = cause;
	}
	if (!(s->flags & SF_END_TAKEN))
		s->t_end = end_ns;
	emit(hc, c, s, s->t_end, HTTP_FAILURE_NONE, code,
	     s->flags & SF_LATE ? HTTP_EVENT_LATE : 0);
	s->flags |= SF_EMITTED;
}

/* An HTTP/2 request's event: its latency ended at its final response HEADERS (t_end). */
static void emit_http2(struct h2_conns *hc, struct h2_conn *c, struct h2_stream *s)
{
	s->flags &= ~SF_HELD;
	s->flags |= SF_ANSWERED;
	emit(hc, c, s, s->t_end, HTTP_FAILURE_NONE,
	     s->undecoded & (1u << H2_FIELD_STATUS) ? 0 : s->http_status,
	     s->flags & SF_LATE ? HTTP_EVENT_LATE : 0);
	s->flags |= SF_EMITTED;
}

/* A stream ends without its answer: the failure, or for gRPC the code that stands for it. */
static void stream_fail(struct h2_conns *hc, struct h2_conn *c, struct h2_stream *s, __u64 at_ns,
			enum http_failure failure, int grpc_code)
{
	if (s->flags & SF_EMITTED)
		return;
	if (s->flags & SF_HELD) {
		/* answered, with no trailers to say gRPC: an HTTP/2 request */
		emit_http2(hc, c, s);
		return;
	}
	if ((s->flags & SF_GRPC) && grpc_code >= 0) {
		grpc_done(hc, c, s, at_ns, grpc_code, false, HPACK_CAUSE_NONE);
		return;
	}
	if (s->flags & SF_LATE)
		return;	/* failed once already, as timed out */
	emit(hc, c, s, at_ns, failure, 0, 0);
	s->flags |= SF_EMITTED;
}

static int stream_index(const struct h2_conn *c, __u32 id)
{
	for (__u32 i = 0; i < c->n_streams; i++)
		if (c->streams[i]->id == id)
			return i;
	return -1;
}

static struct h2_stream *stream_find(const struct h2_conn *c, __u32 id)
{
	int i = stream_index(c, id);

	return i < 0 ? NULL : c->streams[i];
}

static void stream_remove(struct h2_conns *hc, struct h2_conn *c, __u32 id)
{
	int i = stream_index(c, id);

	if (i >= 0)
		stream_drop(hc, c, i);
}

/*
 * Room for a new stream on c at H2_CONN_STREAMS_MAX: the oldest stream
 * counted already (answered and awaiting its end, or timed out and
 * awaiting a late answer) is forgotten. Lost records would otherwise leave
 * such streams until the connection's end, and use up its streams.
 */
static bool stream_make_room(struct h2_conns *hc, struct h2_conn *c)
{
	int oldest = -1;

	for (__u32 i = 0; i < c->n_streams; i++) {
		const struct h2_stream *s = c->streams[i];

		if ((s->flags & (SF_EMITTED | SF_LATE)) &&
		    (oldest < 0 || s->t_req < c->streams[oldest]->t_req))
			oldest = i;
	}
	if (oldest < 0)
		return false;
	stream_drop(hc, c, oldest);
	hc->st.streams_forgotten_cap++;
	return true;
}

/* A new stream, or NULL (counted) when a bound is reached. */
static struct h2_stream *stream_new(struct h2_conns *hc, struct h2_conn *c, __u32 id, __u64 t_req)
{
	struct h2_stream *s;

	if (c->n_streams >= H2_CONN_STREAMS_MAX && !stream_make_room(hc, c)) {
		hc->st.streams_overflow++;
		return NULL;
	}
	if (hc->n_streams >= hc->o.max_streams) {
		hc->st.streams_overflow++;
		return NULL;
	}
	if (c->n_streams == c->cap_streams) {
		__u32 cap = c->cap_streams ? c->cap_streams * 2 : 4;
		struct h2_stream **v = reallocarray(c->streams, cap, sizeof(*v));

		if (!v) {
			hc->st.streams_overflow++;
			return NULL;
		}
		c->streams = v;
		c->cap_streams = cap;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		hc->st.streams_overflow++;
		return NULL;
	}
	s->id = id;
	s->t_req = t_req;
	c->streams[c->n_streams++] = s;
	hc->n_streams++;
	return s;
}

/* ---- header blocks -------------------------------------------------------- */

static __u8 method_of(const struct hpack_value *v)
{
	static const char *const names[HTTP_METHOD_MAX] = {
		[HTTP_METHOD_GET] = "GET", [HTTP_METHOD_HEAD] = "HEAD",
		[HTTP_METHOD_POST] = "POST", [HTTP_METHOD_PUT] = "PUT",
		[HTTP_METHOD_DELETE] = "DELETE", [HTTP_METHOD_PATCH] = "PATCH",
		[HTTP_METHOD_OPTIONS] = "OPTIONS", [HTTP_METHOD_CONNECT] = "CONNECT",
		[HTTP_METHOD_TRACE] = "TRACE",
	};

	for (int m = 1; m < HTTP_METHOD_MAX; m++)
		if (!v->truncated && strlen(names[m]) == v->len && !memcmp(names[m], v->value, v->len))
			return m;
	return HTTP_METHOD_OTHER;
}

static bool is_grpc_type(const struct hpack_value *v)
{
	return v->state == HPACK_KNOWN && v->len >= 16 && !memcmp(v->value, "application/grpc", 16) &&
	       (v->len == 16 || v->value[16] == '+' || v->value[16] == ';');
}

static void set_undecoded(struct h2_stream *s, enum h2_field f, __u8 cause)
{
	s->undecoded |= 1u << f;
	s->cause[f] = cause;
}

/*
 * A stream above the last-stream-id of the server's GOAWAY was not
 * processed: after a graceful one (NO_ERROR) it is the client's to retry,
 * after an error, the server's failure (gRPC: UNAVAILABLE). The client may
 * open it before the GOAWAY reaches it, so this is checked both when the
 * GOAWAY comes and when a stream opens after it (request_after_goaway).
 * True when s is gone.
 */
static bool goaway_check(struct h2_conns *hc, struct h2_conn *c, struct h2_stream *s,
			 __u64 at_ns)
{
	if (!c->goaway || s->id <= c->goaway_last || (s->flags & SF_EMITTED))
		return false;
	if (c->goaway_error == H2_NO_ERROR)
		stream_fail(hc, c, s, at_ns, HTTP_FAILURE_GOAWAY, -1);
	else
		stream_fail(hc, c, s, at_ns, HTTP_FAILURE_GOAWAY_ERROR, GRPC_UNAVAILABLE);
	stream_remove(hc, c, s->id);
	return true;
}

/* A request's HEADERS, decoded (f), or lost (f NULL: every field undecoded for cause). */
static void request_headers(struct h2_conns *hc, struct h2_conn *c, __u32 id, __u8 flags,
			    __u64 start_ns, __u64 ts_ns, const struct hpack_fields *f, __u8 cause)
{
	struct h2_stream *s = stream_find(c, id);
	const struct hpack_value *v;

	if (s) {
		/* the client's trailers: only its END_STREAM matters */
		if ((flags & H2_IF_END_STREAM) && !(s->flags & SF_REQ_END)) {
			s->flags |= SF_REQ_END;
			s->t_req_end = ts_ns;
		}
		return;
	}
	if (!(id & 1))
		return;	/* a client opens odd streams only */
	s = stream_new(hc, c, id, start_ns);
	if (!s)
		return;
	if (flags & H2_IF_END_STREAM) {
		s->flags |= SF_REQ_END;
		s->t_req_end = ts_ns;
	}
	if (!f) {
		set_undecoded(s, H2_FIELD_METHOD, cause);
		set_undecoded(s, H2_FIELD_PATH, cause);
		s->flags |= SF_TYPE_UNKNOWN;
		return;
	}
	v = &f->field[HPACK_F_METHOD];
	if (v->state == HPACK_UNDECODED)
		set_undecoded(s, H2_FIELD_METHOD, v->cause);
	else if (v->state == HPACK_KNOWN)
		s->method = method_of(v);
	v = &f->field[HPACK_F_PATH];
	if (v->state == HPACK_UNDECODED) {
		set_undecoded(s, H2_FIELD_PATH, v->cause);
	} else if (v->state == HPACK_KNOWN) {
		const char *q = memchr(v->value, '?', v->len);

		s->path_len = q ? q - v->value : v->len;
		s->path_truncated = !q && v->truncated;
		memcpy(s->path, v->value, s->path_len);
	}
	if (is_grpc_type(&f->field[HPACK_F_CONTENT_TYPE]))
		s->flags |= SF_GRPC;
	/* gRPC is always a POST: another method known says HTTP/2 whatever the type */
	else if (f->field[HPACK_F_CONTENT_TYPE].state == HPACK_UNDECODED &&
		 (s->method == HTTP_METHOD_POST || (s->undecoded & (1u << H2_FIELD_METHOD))))
		s->flags |= SF_TYPE_UNKNOWN;
	v = &f->field[HPACK_F_GRPC_TIMEOUT];
	if (v->state == HPACK_KNOWN && !v->truncated)
		grpc_timeout__parse(v->value, v->len, &s->timeout_ns);
}

/*
 * A request applied after the server's GOAWAY (each direction is put in
 * order on its own) whose stream is above its last-stream-id: the server
 * did not process it either.
 */
static void request_after_goaway(struct h2_conns *hc, struct h2_conn *c, __u32 id, __u64 ts_ns)
{
	struct h2_stream *s = stream_find(c, id);

	if (s)
		goaway_check(hc, c, s, ts_ns);
}

static int status_of(const struct hpack_value *v)
{
	if (v->len != 3 || v->truncated)
		return 0;
	for (int i = 0; i < 3; i++)
		if (v->value[i] < '0' || v->value[i] > '9')
			return 0;
	return (v->value[0] - '0') * 100 + (v->value[1] - '0') * 10 + (v->value[2] - '0');
}

/* The code grpc-status says: the code, GRPC_CODE_MAX (invalid), or -1 (undecoded) */
static int grpc_status_of(const struct hpack_value *v)
{
	int code;

	if (v->state == HPACK_UNDECODED)
		return -1;
	code = v->truncated ? -EINVAL : grpc_status__parse(v->value, v->len);
	return code < 0 ? GRPC_CODE_MAX : code;
}

/*
 * A gRPC call's status: from grpc-status (g), else from its HTTP status
 * (gRPC's table). Emits the call.
 */
static void grpc_status(struct h2_conns *hc, struct h2_conn *c, struct h2_stream *s,
			__u64 at_ns, const struct hpack_value *g)
{
	int code;

	s->flags |= SF_ANSWERED;
	if (g && g->state != HPACK_ABSENT) {
		code = grpc_status_of(g);
		grpc_done(hc, c, s, at_ns, code < 0 ? 0 : code, code < 0, g->cause);
	} else if (s->undecoded & (1u << H2_FIELD_STATUS)) {
		grpc_done(hc, c, s, at_ns, 0, true, s->cause[H2_FIELD_STATUS]);
	} else {
		grpc_done(hc, c, s, at_ns, grpc_code__from_http(s->http_status), false,
			  HPACK_CAUSE_NONE);
	}
}

/* A held stream's trailers say gRPC: its latency ends at its first message, if seen. */
static void held_as_grpc(struct h2_stream *s)
{
	s->flags &= ~SF_HELD;
	s->flags |= SF_GRPC;
	if (s->flags & SF_FIRST_DATA) {
		s->flags |= SF_END_TAKEN;
		s->t_end = s->t_first_data;
	}
}

/*
 * Why a response's final HEADERS were not seen when what follows them came:
 * lost in the direction's last gap, or never sent (framing the peer broke).
 */
static __u8 lost_cause(const struct h2_dir *dir)
{
	return dir->gap_cause ? dir->gap_cause : HPACK_CAUSE_CORRUPT;
}

/* A response that ended with its HEADERS not seen: still counted, its status undecoded. */
static void response_lost(struct h2_conns *hc, struct h2_conn *c, struct h2_stream *s,
			  __u64 at_ns, __u8 cause)
{
	s->flags |= SF_RESP;
	if (s->flags & SF_GRPC) {
		grpc_done(hc, c, s, at_ns, 0, true, cause);
		return;
	}
	set_undecoded(s, H2_FIELD_STATUS, cause);
	emit(hc, c, s, at_ns, HTTP_FAILURE_NONE, 0, s->flags & SF_LATE ? HTTP_EVENT_LATE : 0);
	s->flags |= SF_EMITTED;
}

/* A response's HEADERS (final, interim or trailers), decoded (f) or lost (f NULL). */
static void response_headers(struct h2_conns *hc, struct h2_conn *c, __u32 id, __u8 flags,
			     __u64 start_ns, const struct hpack_fields *f, __u8 cause)
{
	struct h2_stream *s = stream_find(c, id);
	const struct hpack_value *st = f ? &f->field[HPACK_F_STATUS] : NULL;
	const struct hpack_value *g = f ? &f->field[HPACK_F_GRPC_STATUS] : NULL;
	bool end = flags & H2_IF_END_STREAM;

	if (!s) {
		if (id & 1)
			hc->st.unmatched++;	/* its request was not seen (or was counted lost) */
		return;	/* even: the response of a pushed stream */
	}
	if (s->flags & SF_EMITTED) {
		if (end)
			stream_remove(hc, c, id);
		return;
	}
	if (!(s->flags & SF_RESP)) {
		if (f && st->state == HPACK_KNOWN && status_of(st) >= 100 && status_of(st) < 200)
			return;	/* interim: the final one follows */
		s->flags |= SF_RESP;
		if (!f || st->state == HPACK_UNDECODED)
			set_undecoded(s, H2_FIELD_STATUS, f ? st->cause : cause);
		else if (st->state == HPACK_ABSENT && g->state != HPACK_KNOWN)
			/* trailers: the HEADERS before them were not seen */
			set_undecoded(s, H2_FIELD_STATUS, lost_cause(&c->dir[DIR_RESP]));
		else
			s->http_status = st->state == HPACK_KNOWN ? status_of(st) : 0;
		/* an undecoded field may be any: only a known one says gRPC */
		if (f && (is_grpc_type(&f->field[HPACK_F_CONTENT_TYPE]) ||
			  g->state == HPACK_KNOWN))
			s->flags |= SF_GRPC;
		if (!(s->flags & SF_GRPC)) {
			/* HTTP/2: the request's latency ends at its final response HEADERS */
			s->t_end = start_ns;
			if ((s->flags & SF_TYPE_UNKNOWN) && !end &&
			    (!f || f->field[HPACK_F_CONTENT_TYPE].state == HPACK_UNDECODED))
				s->flags |= SF_HELD;	/* gRPC if its trailers say so */
			else
				emit_http2(hc, c, s);
		} else if (g && (g->state == HPACK_KNOWN || (end && g->state != HPACK_ABSENT))) {
			grpc_status(hc, c, s, start_ns, g);	/* Trailers-Only */
		} else if (end || !f) {
			grpc_status(hc, c, s, start_ns, NULL);	/* no grpc-status: the HTTP status */
		}
		if (end)
			stream_remove(hc, c, id);
		return;
	}
	/* trailers: a gRPC call's status */
	if (s->flags & SF_HELD) {
		/* trailers are gRPC's; a grpc-status not decoded is one all the same */
		if (f && g->state != HPACK_ABSENT)
			held_as_grpc(s);
		else
			emit_http2(hc, c, s);
	} else if (!(s->flags & SF_GRPC) && f && g->state == HPACK_KNOWN) {
		s->flags |= SF_GRPC;
	}
	if (s->flags & SF_GRPC) {
		if (!(s->flags & SF_END_TAKEN))
			hc->st.first_data_untracked++;
		if (f)
			grpc_status(hc, c, s, start_ns, g);
		else
			grpc_done(hc, c, s, start_ns, 0, true, cause);
	}
	if (end)
		stream_remove(hc, c, id);
}

/* A whole block of direction d is known (f) or lost (f NULL, for cause). */
static void block_done(struct h2_conns *hc, struct h2_conn *c, int d, __u64 ts_ns,
		       const struct hpack_fields *f, __u8 cause)
{
	struct h2_dir *dir = &c->dir[d];

	dir->in_block = false;
	block_free(hc, dir);
	if (dir->block_flags & H2_IF_PUSH) {
		hc->st.pushed++;	/* a promised stream is no request */
		return;
	}
	if (d == DIR_REQ) {
		request_headers(hc, c, dir->block_stream, dir->block_flags, dir->block_start_ns,
				ts_ns, f, cause);
		request_after_goaway(hc, c, dir->block_stream, ts_ns);
	} else
		response_headers(hc, c, dir->block_stream, dir->block_flags, dir->block_start_ns,
				 f, cause);
}

/* The direction's table forgotten, counted. */
static void dir_forget(struct h2_conns *hc, struct h2_dir *dir, __u8 cause)
{
	if (cause >= HPACK_CAUSE_MAX)
		cause = HPACK_CAUSE_CORRUPT;
	hc->st.gaps[cause]++;
	hpack_decoder__gap(&dir->dec, cause);
	dir->gap_cause = cause;
}

/* Something of direction d was not seen: the table forgotten, a block in progress lost. */
static void dir_gap(struct h2_conns *hc, struct h2_conn *c, int d, __u64 ts_ns, __u8 cause)
{
	struct h2_dir *dir = &c->dir[d];

	dir_forget(hc, dir, cause);
	if (dir->in_block)
		block_done(hc, c, d, ts_ns, NULL, cause);
}

/*
 * A piece's bytes onto the block being put together; false when they
 * cannot be kept: over H2_BLOCK_MAX, over H2_BLOCK_BYTES_TOTAL for all
 * connections (counted), or no memory.
 */
static bool block_append(struct h2_conns *hc, struct h2_dir *dir, const __u8 *payload, size_t len)
{
	size_t cap;
	__u8 *b;

	if (dir->block_len + len > H2_BLOCK_MAX)
		return false;
	if (dir->block_len + len > dir->block_cap) {
		for (cap = dir->block_cap ? dir->block_cap : 256; cap < dir->block_len + len;)
			cap *= 2;
		if (hc->block_bytes - dir->block_cap + cap > H2_BLOCK_BYTES_TOTAL) {
			hc->st.blocks_over_budget++;
			return false;
		}
		b = realloc(dir->block, cap);
		if (!b)
			return false;
		hc->block_bytes += cap - dir->block_cap;
		dir->block = b;
		dir->block_cap = cap;
	}
	if (len)
		memcpy(dir->block + dir->block_len, payload, len);
	dir->block_len += len;
	return true;
}

/* Decodes a whole block of direction d (len bytes at b) for its stream. */
static void block_decode(struct h2_conns *hc, struct h2_conn *c, int d, __u64 ts_ns,
			 const __u8 *b, size_t len)
{
	struct hpack_fields f;

	memset(&f, 0, sizeof(f));
	if (hpack_decoder__decode(&c->dir[d].dec, b, len, &f)) {
		/*
		 * The decoder made itself a gap; the fields before the fault
		 * stand, and those the block would have held after it are not
		 * known either way: a gRPC call's grpc-status and content-type
		 * too, or its status would be guessed from :status.
		 */
		static const int key[] = { HPACK_F_METHOD, HPACK_F_PATH, HPACK_F_STATUS,
					   HPACK_F_GRPC_STATUS, HPACK_F_CONTENT_TYPE };

		hc->st.gaps[HPACK_CAUSE_CORRUPT]++;
		c->dir[d].gap_cause = HPACK_CAUSE_CORRUPT;
		for (size_t i = 0; i < sizeof(key) / sizeof(key[0]); i++) {
			if (f.field[key[i]].state != HPACK_ABSENT)
				continue;
			f.field[key[i]].state = HPACK_UNDECODED;
			f.field[key[i]].cause = HPACK_CAUSE_CORRUPT;
		}
	}
	block_done(hc, c, d, ts_ns, &f, HPACK_CAUSE_CORRUPT);
}

/*
 * One piece of a header block (payload NULL: not copied). A block in one
 * piece, the common case, is decoded where it lies; pieces are put
 * together in the direction's buffer, freed once the block is done, so
 * that an idle connection holds none.
 */
static void block_piece(struct h2_conns *hc, struct h2_conn *c, int d, const struct h2_record *r,
			const struct h2_item *it, const __u8 *payload)
{
	struct h2_dir *dir = &c->dir[d];

	if (it->flags & H2_IF_FIRST) {
		if (dir->in_block)	/* the last block never ended: the framing is corrupt */
			dir_gap(hc, c, d, r->ts_ns, HPACK_CAUSE_CORRUPT);
		dir->in_block = true;
		dir->block_lost = false;
		dir->block_given_up = false;
		dir->block_flags = it->flags;
		dir->block_stream = it->stream;
		dir->block_start_ns = r->ts_ns - it->start_delta_ns;
		dir->block_since_ns = hc->now_ns;
		dir->block_len = 0;
		if (payload && (it->flags & H2_IF_END_HEADERS)) {
			block_decode(hc, c, d, r->ts_ns, payload, it->len);
			return;
		}
	} else if (!dir->in_block && dir->block_given_up && dir->block_stream == it->stream) {
		/* the rest of a block given up (counted then) */
		if (it->flags & H2_IF_END_HEADERS)
			dir->block_given_up = false;
		return;
	} else if (!dir->in_block || dir->block_stream != it->stream) {
		/* a CONTINUATION of nothing, or of another stream */
		dir_gap(hc, c, d, r->ts_ns, HPACK_CAUSE_CORRUPT);
		return;
	}
	if (!dir->block_lost && (!payload || !block_append(hc, dir, payload, it->len))) {
		/* what it held is of no use now: only the block's end is awaited */
		dir->block_lost = true;
		dir->block_cause = HPACK_CAUSE_TRUNCATED;
		block_free(hc, dir);
	}
	if (!(it->flags & H2_IF_END_HEADERS))
		return;
	if (dir->block_lost) {
		__u8 cause = dir->block_cause;

		dir_forget(hc, dir, cause);
		block_done(hc, c, d, r->ts_ns, NULL, cause);
	} else {
		block_decode(hc, c, d, r->ts_ns, dir->block, dir->block_len);
	}
}

/*
 * A block unfinished H2_BLOCK_WAIT_NS after its first piece (peers send a
 * block's frames back to back): given up as a gap, its request counted
 * with its fields undecoded, its buffer freed.
 */
static void block_give_up(struct h2_conns *hc, struct h2_conn *c, int d, __u64 now_ns)
{
	struct h2_dir *dir = &c->dir[d];

	/* by the agent's clock: the kernel's times are not to be trusted for a bound */
	if (!dir->in_block || now_ns - dir->block_since_ns <= H2_BLOCK_WAIT_NS)
		return;
	hc->st.blocks_unfinished++;
	dir_gap(hc, c, d, now_ns, HPACK_CAUSE_TRUNCATED);
	dir->block_given_up = true;
}

/* ---- the other items ---------------------------------------------------- */

static void end_stream(struct h2_conns *hc, struct h2_conn *c, int d, __u32 id, __u64 ts_ns)
{
	struct h2_stream *s = stream_find(c, id);

	if (!s)
		return;
	if (d == DIR_REQ) {
		if (!(s->flags & SF_REQ_END)) {
			s->flags |= SF_REQ_END;
			s->t_req_end = ts_ns;
		}
		return;
	}
	if (!(s->flags & (SF_RESP | SF_EMITTED)))
		response_lost(hc, c, s, ts_ns, lost_cause(&c->dir[d]));
	else if (s->flags & SF_HELD)
		emit_http2(hc, c, s);	/* no trailers: no gRPC call */
	else if ((s->flags & SF_GRPC) && !(s->flags & SF_EMITTED))
		/* the response ended without trailers: a gRPC call's status is its HTTP status */
		grpc_status(hc, c, s, ts_ns, NULL);
	stream_remove(hc, c, id);
}

static void first_data(struct h2_conn *c, __u32 id, __u64 at_ns)
{
	struct h2_stream *s = stream_find(c, id);

	if (!s || (s->flags & (SF_EMITTED | SF_END_TAKEN)))
		return;
	if (!(s->flags & SF_FIRST_DATA)) {
		/* kept for any stream: a held one's trailers may say gRPC later */
		s->flags |= SF_FIRST_DATA;
		s->t_first_data = at_ns;
	}
	if (s->flags & SF_GRPC) {
		s->flags |= SF_END_TAKEN;
		s->t_end = at_ns;
	}
}

static void rst_stream(struct h2_conns *hc, struct h2_conn *c, int d, __u32 id, __u32 error,
		       __u64 at_ns)
{
	struct h2_stream *s = stream_find(c, id);

	if (!s)
		return;
	if (s->flags & SF_EMITTED) {
		/* after its answer (a server stopping an upload with NO_ERROR): no failure */
	} else if (d == DIR_RESP) {
		if ((s->flags & SF_GRPC) && (s->flags & SF_RESP) && error == H2_NO_ERROR)
			grpc_status(hc, c, s, at_ns, NULL);	/* ended without trailers */
		else
			stream_fail(hc, c, s, at_ns, HTTP_FAILURE_STREAM_RESET,
				    grpc_code__from_rst(error));
	} else {
		stream_fail(hc, c, s, at_ns, HTTP_FAILURE_STREAM_CANCELLED,
			    grpc_code__client_cancel(at_ns > s->t_req ? at_ns - s->t_req : 0,
						     s->timeout_ns));
	}
	stream_remove(hc, c, id);
}

/* The server's GOAWAY: the streams above last_id were not processed. */
static void goaway(struct h2_conns *hc, struct h2_conn *c, __u32 last_id, __u32 error,
		   __u64 at_ns)
{
	c->goaway = true;
	c->goaway_last = last_id & 0x7fffffff;
	c->goaway_error = error;
	for (__u32 i = 0; i < c->n_streams;)
		if (!goaway_check(hc, c, c->streams[i], at_ns))
			i++;
}

static void upgrade(struct h2_conns *hc, struct h2_conn *c, const struct h2_upgrade *u)
{
	struct h2_stream *s;
	size_t len = u->resource_len < HTTP_PATH_MAX ? u->resource_len : HTTP_PATH_MAX;

	if (stream_find(c, 1))
		return;
	s = stream_new(hc, c, 1, u->start_ns);
	if (!s)
		return;
	/* the HTTP/1 request that asked for h2c is stream 1, already sent whole */
	s->flags |= SF_REQ_END;
	s->t_req_end = u->start_ns;
	s->method = u->operation < HTTP_METHOD_MAX ? u->operation : HTTP_METHOD_OTHER;
	s->path_len = len;
	s->path_truncated = !!(u->flags & HTTP_EVENT_PATH_TRUNCATED);
	memcpy(s->path, u->resource, len);
}

/* The items of one IO record of direction d, checked: -EINVAL if they do not add up. */
static int items_check(const struct h2_record *r, size_t len)
{
	const __u8 *p = (const __u8 *)(r + 1), *end = p + r->items_len;

	if (sizeof(*r) + r->items_len > len)
		return -EINVAL;
	while (p < end) {
		struct h2_item it;
		size_t pay = 0;

		if ((size_t)(end - p) < sizeof(it))
			return -EINVAL;
		memcpy(&it, p, sizeof(it));
		if (it.kind < H2_ITEM_BLOCK || it.kind > H2_ITEM_UPGRADE ||
		    (it.kind == H2_ITEM_UPGRADE && it.len < sizeof(struct h2_upgrade)))
			return -EINVAL;
		if (it.kind == H2_ITEM_BLOCK || it.kind == H2_ITEM_UPGRADE)
			pay = (it.len + 3u) & ~3u;
		if ((size_t)(end - p) - sizeof(it) < pay)
			return -EINVAL;
		p += sizeof(it) + pay;
	}
	return 0;
}

static void apply_io(struct h2_conns *hc, struct h2_conn *c, const struct h2_record *r)
{
	const __u8 *p = (const __u8 *)(r + 1), *end = p + r->items_len;
	int d = r->dir ? DIR_RESP : DIR_REQ;

	while (p < end) {
		struct h2_item it;
		const __u8 *pay = p + sizeof(it);
		__u64 at;

		memcpy(&it, p, sizeof(it));
		p = pay;
		at = r->ts_ns - it.start_delta_ns;
		switch (it.kind) {
		case H2_ITEM_BLOCK:
			block_piece(hc, c, d, r, &it, pay);
			p += (it.len + 3u) & ~3u;
			break;
		case H2_ITEM_TRUNCATED:
			block_piece(hc, c, d, r, &it, NULL);
			break;
		case H2_ITEM_END_STREAM:
			end_stream(hc, c, d, it.stream, r->ts_ns);
			break;
		case H2_ITEM_FIRST_DATA:
			if (d == DIR_RESP)
				first_data(c, it.stream, at);
			break;
		case H2_ITEM_RST:
			rst_stream(hc, c, d, it.stream, it.value, at);
			break;
		case H2_ITEM_GOAWAY:
			if (d == DIR_RESP)
				goaway(hc, c, it.stream, it.value, at);
			break;
		case H2_ITEM_SETTING:
			/* the peer of the sender encodes under this bound: the other direction */
			hpack_decoder__set_settings_max(&c->dir[!d].dec, it.value);
			break;
		case H2_ITEM_UPGRADE: {
			struct h2_upgrade u;

			memcpy(&u, pay, sizeof(u));
			upgrade(hc, c, &u);
			p += (it.len + 3u) & ~3u;
			break;
		}
		}
	}
	if (r->flags & H2_REC_ITEMS_LOST)
		dir_gap(hc, c, d, r->ts_ns, HPACK_CAUSE_TRUNCATED);
}

/* ---- ordering ------------------------------------------------------------ */

/*
 * Takes the i-th waiting record out. The queue stays in arrival order: the
 * records of one operation share its offset and must be applied in the
 * order the kernel sent them (a block's later fields refer to entries its
 * earlier ones inserted).
 */
static struct pending queue_take(struct h2_dir *dir, __u32 i)
{
	struct pending pd = dir->queue[i];

	memmove(&dir->queue[i], &dir->queue[i + 1], (dir->queued - i - 1) * sizeof(pd));
	dir->queued--;
	return pd;
}

/* Applies r if it is next, and whatever waited behind it. */
static void dir_apply(struct h2_conns *hc, struct h2_conn *c, const struct h2_record *r)
{
	struct h2_dir *dir = &c->dir[r->dir ? DIR_RESP : DIR_REQ];

	apply_io(hc, c, r);
	if (!(r->flags & H2_REC_CONTINUED))
		dir->next_offset = r->offset + r->len;
	for (__u32 i = 0; i < dir->queued;) {
		struct pending pd;

		if (dir->queue[i].r->offset > dir->next_offset) {
			i++;
			continue;
		}
		pd = queue_take(dir, i);
		if (pd.r->offset < dir->next_offset) {
			/* its span overlaps what was applied: the kernel's offsets disagree */
			hc->st.dropped[H2_DROP_STALE]++;
		} else {
			apply_io(hc, c, pd.r);
			if (!(pd.r->flags & H2_REC_CONTINUED))
				dir->next_offset = pd.r->offset + pd.r->len;
		}
		free(pd.r);
		i = 0;	/* the next offset moved: what waited before it may be next now */
	}
}

/*
 * The waiting record of the lowest offset (the first come of them) goes
 * in, after a gap for what never came before it.
 */
static void dir_give_up(struct h2_conns *hc, struct h2_conn *c, struct h2_dir *dir, int d,
			__u64 ts_ns)
{
	__u32 first = 0;
	struct pending pd;

	for (__u32 i = 1; i < dir->queued; i++)
		if (dir->queue[i].r->offset < dir->queue[first].r->offset)
			first = i;
	pd = queue_take(dir, first);
	if (pd.r->offset < dir->next_offset) {
		/* never move back over what was applied */
		hc->st.dropped[H2_DROP_STALE]++;
		free(pd.r);
		return;
	}
	if (pd.r->offset > dir->next_offset)
		dir_gap(hc, c, d, ts_ns, HPACK_CAUSE_RECORD_LOST);
	dir->next_offset = pd.r->offset;
	dir_apply(hc, c, pd.r);
	free(pd.r);
}

static int dir_record(struct h2_conns *hc, struct h2_conn *c, const struct h2_record *r,
		      size_t len, __u64 now_ns)
{
	int d = r->dir ? DIR_RESP : DIR_REQ;
	struct h2_dir *dir = &c->dir[d];
	struct h2_record *copy;

	if (r->offset < dir->next_offset) {
		hc->st.dropped[H2_DROP_STALE]++;	/* its place was given up: a gap was made */
		return 0;
	}
	if (r->offset == dir->next_offset) {
		dir_apply(hc, c, r);
		return 0;
	}
	if (dir->queued == H2_REORDER_MAX)
		dir_give_up(hc, c, dir, d, r->ts_ns);
	if (r->offset < dir->next_offset) {
		hc->st.dropped[H2_DROP_STALE]++;
		return 0;
	}
	if (r->offset == dir->next_offset) {
		dir_apply(hc, c, r);
		return 0;
	}
	copy = malloc(len);
	if (!copy) {
		/* cannot wait for the one before: take the gap now */
		dir_gap(hc, c, d, r->ts_ns, HPACK_CAUSE_RECORD_LOST);
		dir->next_offset = r->offset;
		dir_apply(hc, c, r);
		return 0;
	}
	memcpy(copy, r, len);
	dir->queue[dir->queued++] = (struct pending){ .r = copy, .len = len, .since_ns = now_ns };
	return 0;
}

/* ---- records ------------------------------------------------------------ */

static void conn_end(struct h2_conns *hc, struct h2_conn *c, __u8 reason, __u64 at_ns)
{
	enum http_failure failure = reason == H2_END_UNFRAMED ? HTTP_FAILURE_UNFRAMED :
				    reason == HTTP_FAILURE_CONN_RESET ? HTTP_FAILURE_CONN_RESET :
				    HTTP_FAILURE_CONN_CLOSED;

	/* what waited for records before these is what the kernel saw last */
	for (int d = 0; d < 2; d++)
		while (c->dir[d].queued)
			dir_give_up(hc, c, &c->dir[d], d, at_ns);
	for (__u32 i = 0; i < c->n_streams; i++) {
		struct h2_stream *s = c->streams[i];

		/* a gRPC call whose answer started: its status never came */
		stream_fail(hc, c, s, at_ns, failure, -1);
	}
	conn_free(hc, c);
}

static struct h2_conn *conn_open(struct h2_conns *hc, const struct h2_record *r,
				 const struct h2_open *o)
{
	bool midstream = r->flags & H2_REC_MIDSTREAM;
	struct h2_conn *c = conn_find(hc, r->sock_id, r->gen);
	size_t b;

	if (c)
		conn_end(hc, c, HTTP_FAILURE_CONN_CLOSED, r->ts_ns);	/* opened again: a new life */
	if (hc->n_conns >= hc->o.max_connections) {
		struct h2_conn *old = hc->lru_tail;

		hc->st.conns_evicted++;
		hc->st.streams_evicted += old->n_streams;
		conn_free(hc, old);
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->sock_id = r->sock_id;
	c->gen = r->gen;
	c->open = *o;
	for (int d = 0; d < 2; d++)
		hpack_decoder__init(&c->dir[d].dec, midstream,
				    midstream ? HPACK_CAUSE_BEFORE_AGENT : HPACK_CAUSE_NONE);
	b = bucket_of(hc, c->sock_id, c->gen);
	c->hash_next = hc->buckets[b];
	hc->buckets[b] = c;
	lru_push(hc, c);
	hc->n_conns++;
	return c;
}

int h2_conns__record(struct h2_conns *hc, const struct h2_record *r, size_t len, __u64 now_ns)
{
	struct h2_conn *c;
	struct h2_open o;

	hc->now_ns = now_ns;
	if (len < sizeof(*r) || r->dir > 1) {
		hc->st.dropped[H2_DROP_MALFORMED]++;
		return -EINVAL;
	}
	switch (r->kind) {
	case H2_REC_OPEN:
		if (len < sizeof(*r) + sizeof(o)) {
			hc->st.dropped[H2_DROP_MALFORMED]++;
			return -EINVAL;
		}
		memcpy(&o, r + 1, sizeof(o));
		if (!conn_open(hc, r, &o))
			hc->st.dropped[H2_DROP_NO_OPEN]++;	/* no memory: as if never opened */
		return 0;
	case H2_REC_IO:
		if (items_check(r, len)) {
			hc->st.dropped[H2_DROP_MALFORMED]++;
			return -EINVAL;
		}
		c = conn_find(hc, r->sock_id, r->gen);
		if (!c) {
			hc->st.dropped[H2_DROP_NO_OPEN]++;
			return 0;
		}
		lru_unlink(hc, c);
		lru_push(hc, c);
		return dir_record(hc, c, r, len, now_ns);
	case H2_REC_END:
		c = conn_find(hc, r->sock_id, r->gen);
		if (c)
			conn_end(hc, c, r->end_reason, r->ts_ns);
		return 0;
	}
	hc->st.dropped[H2_DROP_MALFORMED]++;
	return -EINVAL;
}

void h2_conns__sweep(struct h2_conns *hc, __u64 now_ns)
{
	__u64 timeout = hc->o.request_timeout_ns;

	hc->now_ns = now_ns;
	for (struct h2_conn *c = hc->lru_head; c; c = c->lru_next) {
		for (int d = 0; d < 2; d++) {
			struct h2_dir *dir = &c->dir[d];

			while (dir->queued) {
				__u64 oldest = ~0ull;

				for (__u32 i = 0; i < dir->queued; i++)
					if (dir->queue[i].since_ns < oldest)
						oldest = dir->queue[i].since_ns;
				if (now_ns - oldest < H2_REORDER_WAIT_NS)
					break;
				dir_give_up(hc, c, dir, d, now_ns);
			}
			block_give_up(hc, c, d, now_ns);
		}
		for (__u32 i = 0; i < c->n_streams;) {
			struct h2_stream *s = c->streams[i];

			if ((s->flags & SF_LATE) &&
			    !(s->flags & (SF_EMITTED | SF_RESP | SF_END_TAKEN)) &&
			    now_ns > s->t_req && now_ns - s->t_req > timeout + H2_LATE_KEEP_NS) {
				/* no late answer began either: counted once, forgotten */
				stream_drop(hc, c, i);
				hc->st.streams_forgotten_late++;
				continue;
			}
			i++;
		}
		for (__u32 i = 0; timeout && i < c->n_streams; i++) {
			struct h2_stream *s = c->streams[i];

			/* a response that started (gRPC's initial metadata too) is no timeout */
			if ((s->flags & (SF_EMITTED | SF_LATE | SF_END_TAKEN | SF_RESP)) ||
			    now_ns < s->t_req || now_ns - s->t_req <= timeout)
				continue;
			emit(hc, c, s, now_ns, HTTP_FAILURE_TIMEOUT, 0, 0);
			s->flags |= SF_LATE;
		}
	}
}

void h2_conns__stats(const struct h2_conns *hc, struct h2_conns_stats *out)
{
	*out = hc->st;
	out->conns_known = out->conns_partial = 0;
	out->streams_open = hc->n_streams;
	out->block_bytes = hc->block_bytes;
	for (const struct h2_conn *c = hc->lru_head; c; c = c->lru_next) {
		if (c->dir[DIR_REQ].dec.prefix_unknown || c->dir[DIR_RESP].dec.prefix_unknown)
			out->conns_partial++;
		else
			out->conns_known++;
	}
}
