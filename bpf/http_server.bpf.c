// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * HTTP/1.x server requests, seen from the syscalls of the serving process.
 *
 * accept()/accept4() of a selected service starts tracking the new
 * (tgid, fd). Reads on it feed the request parser, writes and sendfile the
 * response parser. Both parsers are byte-wise state machines that carry
 * their state across syscalls, so heads and bodies may be split anywhere;
 * bodies with a Content-Length are skipped arithmetically, never copied.
 * Requests queue in a per-connection FIFO (pipelining); each response start
 * pops one and emits one struct http_event. close() or the socket reaching
 * TCP_CLOSE ends tracking.
 *
 * Only raw tracepoints are used: no kprobes, no fentry.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "http_server.h"
#include "syscalls.bpf.h"

#define AF_INET		2
#define AF_INET6	10
#define TCP_CLOSE	7

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader before load. */
const volatile bool track_all_listeners = true;	/* no services configured */
const volatile __u32 self_tgid = 0;		/* never track the agent itself */
const volatile __u64 wakeup_bytes = 256 * 1024;	/* wake the consumer past this backlog */

enum io_op {
	IO_NONE = 0,
	IO_ACCEPT,
	IO_READ,	/* read, recvfrom: one buffer */
	IO_READV,	/* readv: iovec array */
	IO_RECVMSG,	/* recvmsg: msghdr */
	IO_WRITE,
	IO_WRITEV,
	IO_SENDMSG,
	IO_SENDFILE,	/* body bytes we cannot see */
};

enum direction { DIR_REQUEST = 0, DIR_RESPONSE = 1 };

/* Parser states; the same machine parses both directions. */
enum parse_state {
	P_IDLE = 0,		/* at the start of a message */
	P_METHOD,		/* request: method token */
	P_PATH,			/* request: target, copied up to HTTP_PATH_MAX */
	P_QUERY,		/* request: query string, skipped */
	P_VERSION,		/* response: "HTTP/1.x " */
	P_STATUS,		/* response: three digits */
	P_LINE,			/* rest of the start line */
	P_HSTART,		/* start of a header line */
	P_HNAME,		/* header name, matched against the two we need */
	P_CLEN,			/* Content-Length value */
	P_TENC,			/* Transfer-Encoding value */
	P_HSKIP,		/* rest of an uninteresting header line */
	P_HEND,			/* saw "\r" on an empty line */
	P_BODY,			/* body of known length: parser.left bytes to go */
	P_UNKNOWN,		/* length unknown (chunked, close-delimited, lost sync) */
};

/* parser.flags */
#define PF_CLEN		0x01	/* saw Content-Length */
#define PF_CHUNKED	0x02	/* saw Transfer-Encoding: chunked */
#define PF_EMIT_DUE	0x10	/* response: status parsed, event not yet sent */
#define PF_BAD		0x20	/* request did not parse as HTTP */

struct parser {
	__u64 left;		/* P_BODY: body bytes still to come */
	__u64 clen;		/* Content-Length being parsed */
	__u64 head_bytes;	/* bytes of the current head so far */
	__u64 token;		/* method or version bytes, header name or value hash */
	__u16 status;
	__u8 state;		/* enum parse_state */
	__u8 flags;
	__u8 pos;		/* position in the current token or header name */
	__u8 __pad[3];
};

struct pending_req {
	__u64 start_ns;
	__u64 head_bytes;
	__u64 body_bytes;
	__u8 method;
	__u8 path_len;
	__u8 flags;		/* HTTP_EVENT_PATH_TRUNCATED */
	__u8 __pad[5];
	char path[HTTP_PATH_MAX];
};

struct conn_key {
	__u32 tgid;
	__u32 fd;
};

struct conn {
	__u64 sock_id;
	__u64 resp_start_ns;	/* return of the write that began the current response */
	__u32 fd;
	__u16 service_id;
	__u16 local_port;
	__u16 remote_port;
	__u8 head;		/* FIFO of requests waiting for a response */
	__u8 count;
	__u8 __pad[4];
	struct parser req;
	struct parser resp;
	struct pending_req q[HTTP_PIPELINE_MAX];
};

struct io_args {
	__u64 buf;		/* buffer, iovec array or msghdr, by op */
	__u32 fd;
	__u16 op;		/* enum io_op */
	__u16 iovcnt;		/* readv/writev */
};

/* Tracked connections of selected services. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);	/* resized by the loader */
	__type(key, struct conn_key);
	__type(value, struct conn);
} conns SEC(".maps");

/* struct sock -> connection, to end tracking when the socket closes. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct conn_key);
} conn_by_sock SEC(".maps");

/* Syscalls between entry and exit on tracked connections, by thread. */
struct {
	/* LRU: a thread that dies inside a syscall never reaches its exit */
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct io_args);
} io_in_flight SEC(".maps");

/* Service filters, filled by the loader from the config. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u16);
	__type(value, __u16);
} service_by_port SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct service_comm_key);
	__type(value, __u16);
} service_by_comm SEC(".maps");

/* Processes matched by executable path, kept current by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u16);
} service_by_tgid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);	/* resized by the loader */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LOSS_REASON_MAX);
	__type(key, __u32);
	__type(value, __u64);
} loss_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stat_counters SEC(".maps");

struct scan_buf {
	/*
	 * The cursor lives in map memory, which the verifier does not track:
	 * kept on the stack, its exact value would make the verifier walk
	 * every bpf_loop iteration ("8193 jumps is too complex").
	 */
	__u32 pos;
	__u32 len;
	__u8 data[HTTP_SCAN_MAX + 8];	/* +8: word loads near the end stay inside */
};

/* Per-CPU copy of the bytes being parsed: too big for the stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scan_buf);
} scan_scratch SEC(".maps");

/*
 * One bit per tgid (modulo the size) that ever had a tracked connection:
 * an inlined array lookup that spares every other process the hash lookup
 * in conns. Bits are never cleared; a stale one only costs that lookup.
 */
#define TGID_BITMAP_WORDS	4096	/* 262144 bits */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TGID_BITMAP_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} tracked_tgids SEC(".maps");

static __always_inline bool tgid_may_be_tracked(__u32 tgid)
{
	__u32 word = (tgid / 64) % TGID_BITMAP_WORDS;
	__u64 *bits = bpf_map_lookup_elem(&tracked_tgids, &word);

	return bits && (*bits & (1ULL << (tgid % 64)));
}

static __always_inline void tgid_mark_tracked(__u32 tgid)
{
	__u32 word = (tgid / 64) % TGID_BITMAP_WORDS;
	__u64 *bits = bpf_map_lookup_elem(&tracked_tgids, &word);

	if (bits && !(*bits & (1ULL << (tgid % 64))))
		__sync_fetch_and_or(bits, 1ULL << (tgid % 64));
}

/* Never written: the zeroed initial value of a new connection. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct conn);
} conn_zero SEC(".maps");

static __always_inline void count_loss_n(__u32 reason, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&loss_counters, &reason);

	if (v)
		*v += n;	/* per-CPU slot: no atomics needed */
}

static __always_inline void count_loss(__u32 reason)
{
	count_loss_n(reason, 1);
}

static __always_inline void count_stat(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&stat_counters, &stat);

	if (v)
		*v += 1;
}

/* ---------------------------------------------------------------------- */
/* Connection lifecycle                                                   */

static __always_inline bool service_lookup(__u16 port, __u32 tgid, __u16 *service_id)
{
	struct service_comm_key comm = {};
	__u16 *id;

	id = bpf_map_lookup_elem(&service_by_port, &port);
	if (!id) {
		bpf_get_current_comm(comm.comm, sizeof(comm.comm));
		id = bpf_map_lookup_elem(&service_by_comm, &comm);
	}
	if (!id)
		id = bpf_map_lookup_elem(&service_by_tgid, &tgid);
	if (id) {
		*service_id = *id;
		return true;
	}
	if (track_all_listeners) {
		*service_id = SERVICE_ID_AUTO;
		return true;
	}
	return false;
}

static __always_inline struct sock *sock_from_fd(__u32 fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
	struct file *file = NULL;
	struct socket *socket;

	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	socket = BPF_CORE_READ(file, private_data);
	return socket ? BPF_CORE_READ(socket, sk) : NULL;
}

static __always_inline void conn_forget(struct conn_key *key, struct conn *c)
{
	/* one loss per unanswered request, not per connection */
	if (c->count)
		count_loss_n(LOSS_CLOSED_BEFORE_RESPONSE, c->count);
	bpf_map_delete_elem(&conn_by_sock, &c->sock_id);
	bpf_map_delete_elem(&conns, key);
	count_stat(STAT_CONNS_CLOSED);
}

static __always_inline void handle_accept(__u32 tgid, __u32 fd)
{
	struct conn_key key = { .tgid = tgid, .fd = fd };
	__u32 zero = 0;
	struct conn *init, *c;
	__u16 family, port, service_id;
	struct sock *sk;
	__u64 sock_id;

	sk = sock_from_fd(fd);
	if (!sk)
		return;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return;		/* unix sockets and the like */
	port = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (!service_lookup(port, tgid, &service_id))
		return;

	c = bpf_map_lookup_elem(&conns, &key);
	if (c) {
		/* the fd was closed in a way we did not see (dup2, exec...) */
		if (c->count)
			count_loss_n(LOSS_CONN_REPLACED, c->count);
		bpf_map_delete_elem(&conn_by_sock, &c->sock_id);
	}
	init = bpf_map_lookup_elem(&conn_zero, &zero);
	if (!init)
		return;
	if (bpf_map_update_elem(&conns, &key, init, BPF_ANY)) {
		count_loss(LOSS_CONN_MAP_FULL);
		return;
	}
	c = bpf_map_lookup_elem(&conns, &key);
	if (!c)
		return;
	sock_id = (__u64)sk;
	c->sock_id = sock_id;
	c->fd = fd;
	c->service_id = service_id;
	c->local_port = port;
	c->remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (bpf_map_update_elem(&conn_by_sock, &sock_id, &key, BPF_ANY)) {
		count_loss(LOSS_CONN_MAP_FULL);
		bpf_map_delete_elem(&conns, &key);
		return;
	}
	tgid_mark_tracked(tgid);
	count_stat(STAT_CONNS_OPENED);
}

/* ---------------------------------------------------------------------- */
/* The parser                                                             */

struct scan_ctx {
	struct conn *conn;
	struct parser *p;	/* &conn->req or &conn->resp */
	struct scan_buf *buf;
	__u64 now;
	__u32 dir;		/* enum direction */
	__u32 drop;		/* stop tracking this connection */
};

static __always_inline __u8 lower(__u8 ch)
{
	return (ch >= 'A' && ch <= 'Z') ? ch | 0x20 : ch;
}

/* Methods packed little-endian into a u64, as the parser accumulates them. */
#define M2(a, b)		((__u64)(a) | (__u64)(b) << 8)
#define M3(a, b, c)		(M2(a, b) | (__u64)(c) << 16)
#define M4(a, b, c, d)		(M3(a, b, c) | (__u64)(d) << 24)
#define M5(a, b, c, d, e)	(M4(a, b, c, d) | (__u64)(e) << 32)
#define M6(a, b, c, d, e, f)	(M5(a, b, c, d, e) | (__u64)(f) << 40)
#define M7(a, b, c, d, e, f, g)	(M6(a, b, c, d, e, f) | (__u64)(g) << 48)

static __always_inline __u8 method_from_token(__u64 t)
{
	switch (t) {
	case M3('G', 'E', 'T'): return HTTP_METHOD_GET;
	case M4('H', 'E', 'A', 'D'): return HTTP_METHOD_HEAD;
	case M4('P', 'O', 'S', 'T'): return HTTP_METHOD_POST;
	case M3('P', 'U', 'T'): return HTTP_METHOD_PUT;
	case M6('D', 'E', 'L', 'E', 'T', 'E'): return HTTP_METHOD_DELETE;
	case M5('P', 'A', 'T', 'C', 'H'): return HTTP_METHOD_PATCH;
	case M7('O', 'P', 'T', 'I', 'O', 'N', 'S'): return HTTP_METHOD_OPTIONS;
	case M7('C', 'O', 'N', 'N', 'E', 'C', 'T'): return HTTP_METHOD_CONNECT;
	case M5('T', 'R', 'A', 'C', 'E'): return HTTP_METHOD_TRACE;
	}
	return HTTP_METHOD_UNKNOWN;
}

/*
 * Header names and tokens are matched by a rolling hash of their lowercase
 * bytes (h = h * 131 + c) plus their length, not against string tables: a
 * byte-indexed table costs the verifier a bounds proof per byte, and clang 14
 * places static const arrays at a wrong offset in .rodata's BTF, which makes
 * the kernel reject the object's BTF altogether.
 */
#define HASH_STEP(h, c)		((h) * 131 + (c))
#define HASH_CONTENT_LENGTH	0x32a989edf5322ddaULL	/* "content-length" */
#define HASH_TRANSFER_ENCODING	0x23e53dcc3aed110dULL	/* "transfer-encoding" */
#define HASH_CHUNKED		0x1cabc236ed018ULL	/* "chunked" */
#define TOKEN_HTTP1		M7('H', 'T', 'T', 'P', '/', '1', '.')

static __always_inline struct pending_req *fifo_tail(struct conn *c)
{
	return &c->q[(c->head + c->count - 1) & (HTTP_PIPELINE_MAX - 1)];
}

/*
 * The parser's pieces are global functions: the verifier checks each once,
 * on its own, instead of once per call site inside every bpf_loop callback
 * path (which exceeds the 1M instruction budget). Their pointer arguments
 * may be NULL as far as the verifier knows, hence the checks.
 */
__noinline int http_emit_response(struct conn *c)
{
	struct pending_req *r;
	struct http_event *e;
	__u64 avail;

	if (!c)
		return 0;
	r = &c->q[c->head & (HTTP_PIPELINE_MAX - 1)];
	c->resp.flags &= ~PF_EMIT_DUE;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_loss(LOSS_RINGBUF_FULL);
		goto pop;
	}
	e->req_start_ns = r->start_ns;
	e->resp_start_ns = c->resp_start_ns;
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->sock_id = c->sock_id;
	e->req_bytes = r->head_bytes + r->body_bytes;
	e->flags = r->flags;
	e->resp_bytes = c->resp.head_bytes;
	if (c->resp.flags & PF_CLEN) {
		e->resp_bytes += c->resp.clen;
		e->flags |= HTTP_EVENT_RESP_SIZE_KNOWN;
	}
	e->tgid = bpf_get_current_pid_tgid() >> 32;
	e->fd = c->fd;
	e->service_id = c->service_id;
	e->local_port = c->local_port;
	e->remote_port = c->remote_port;
	e->status = c->resp.status;
	e->method = r->method;
	e->path_len = r->path_len;
	__builtin_memset(e->__pad, 0, sizeof(e->__pad));
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	__builtin_memcpy(e->path, r->path, HTTP_PATH_MAX);

	/* Waking the consumer costs ~1.5 us an event: let it poll instead,
	 * unless a backlog builds up. */
	avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	if (avail >= wakeup_bytes) {
		bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
		count_stat(STAT_WAKEUPS);
	} else {
		bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	}
	count_stat(STAT_EVENTS_SUBMITTED);
pop:
	c->resp.token = r->method;	/* head_done needs it after the pop */
	c->head++;
	c->count--;
	return 0;
}

/* End of a head ("\r\n\r\n"): decide how the body is framed. */
static __always_inline void head_done(__u32 dir, struct conn *c, struct parser *p)
{
	bool has_body = true;
	__u64 body = 0;

	if (dir == DIR_REQUEST) {
		struct pending_req *r = fifo_tail(c);

		if (p->flags & PF_CLEN)
			body = p->clen;
		r->head_bytes = p->head_bytes;
		r->body_bytes = body;
	} else {
		if (p->status >= 100 && p->status < 200) {
			/* interim response (100 Continue): the real one follows */
			p->state = P_IDLE;
			p->flags = 0;
			return;
		}
		if (p->flags & PF_EMIT_DUE)
			http_emit_response(c);
		if (p->token == HTTP_METHOD_HEAD || p->status == 204 || p->status == 304)
			has_body = false;
		else if (p->flags & PF_CLEN)
			body = p->clen;
		else if (!(p->flags & PF_CHUNKED))
			body = ~0ULL;	/* delimited by close */
	}

	if (has_body && (p->flags & PF_CHUNKED || body == ~0ULL)) {
		/* chunked: the next response start (or request) resynchronises */
		p->state = P_UNKNOWN;
	} else if (has_body && body) {
		p->state = P_BODY;
		p->left = body;
	} else {
		p->state = P_IDLE;
	}
}

static __always_inline void start_message(__u32 dir, __u64 now, struct conn *c, struct parser *p)
{
	p->flags = 0;
	p->clen = 0;
	p->head_bytes = 0;
	p->token = 0;
	p->pos = 0;
	p->status = 0;
	if (dir == DIR_REQUEST) {
		struct pending_req *r;

		if (c->count >= HTTP_PIPELINE_MAX) {
			count_loss(LOSS_PIPELINE_OVERFLOW);
			p->state = P_UNKNOWN;
			return;
		}
		/* a new request after an unframed response ends that response */
		if (c->count == 0 && c->resp.state == P_UNKNOWN)
			c->resp.state = P_IDLE;
		c->count++;
		r = fifo_tail(c);
		r->start_ns = now;
		r->method = HTTP_METHOD_UNKNOWN;
		r->path_len = 0;
		r->flags = 0;
		p->state = P_METHOD;
	} else {
		if (c->count == 0) {
			count_loss(LOSS_UNMATCHED_RESPONSE);
			p->state = P_UNKNOWN;
			return;
		}
		c->resp_start_ns = now;
		p->state = P_VERSION;
	}
}

enum parse_result {
	PARSE_OK = 0,
	PARSE_NOT_HTTP,		/* drop the connection */
	PARSE_LOST,		/* framing unknown from here: stop scanning */
};

/* One byte of a head, or the first byte of a message. */
static __always_inline int parse_byte(struct conn *c, struct parser *p, __u32 dir, __u64 now,
				      __u8 ch)
{
	struct pending_req *r;

	if (p->state == P_IDLE) {
		start_message(dir, now, c, p);
		if (p->state == P_UNKNOWN)
			return PARSE_LOST;
	}
	p->head_bytes++;
	switch (p->state) {
	case P_METHOD:
		if (ch == ' ') {
			r = fifo_tail(c);
			r->method = method_from_token(p->token);
			if (r->method == HTTP_METHOD_UNKNOWN)
				return PARSE_NOT_HTTP;
			p->state = P_PATH;
		} else if (p->pos >= 7 || ch < 'A' || ch > 'Z') {
			return PARSE_NOT_HTTP;
		} else {
			p->token |= (__u64)ch << (8 * (p->pos & 7));
			p->pos++;
		}
		break;
	case P_PATH:
		if (ch == ' ') {
			p->state = P_LINE;
		} else if (ch == '?' || ch == '#') {
			p->state = P_QUERY;	/* never exported: may carry secrets */
		} else if (ch == '\r' || ch == '\n') {
			return PARSE_NOT_HTTP;
		} else {
			r = fifo_tail(c);
			if (r->path_len < HTTP_PATH_MAX)
				r->path[r->path_len++ & (HTTP_PATH_MAX - 1)] = ch;
			else
				r->flags |= HTTP_EVENT_PATH_TRUNCATED;
		}
		break;
	case P_QUERY:
		if (ch == ' ')
			p->state = P_LINE;
		break;
	case P_VERSION:
		if (p->pos < 7) {
			p->token |= (__u64)ch << (8 * (p->pos & 7));
		} else if (p->pos == 7) {
			if (p->token != TOKEN_HTTP1)
				goto bad_response;
		} else if (p->pos == 8) {
			if (ch != ' ')
				goto bad_response;
			p->state = P_STATUS;
			p->pos = 0;
			break;
		}
		p->pos++;
		break;
	case P_STATUS:
		if (ch < '0' || ch > '9')
			goto bad_response;
		p->status = p->status * 10 + (ch - '0');
		if (++p->pos == 3) {
			p->state = P_LINE;
			if (p->status >= 200)
				p->flags |= PF_EMIT_DUE;
		}
		break;
	case P_LINE:
	case P_HSKIP:	/* scan_step skips these a word at a time */
		if (ch == '\n')
			p->state = P_HSTART;
		break;
	case P_HSTART:
		if (ch == '\r') {
			p->state = P_HEND;
		} else if (ch == '\n') {
			head_done(dir, c, p);
		} else if (lower(ch) == 'c' || lower(ch) == 't') {
			/* only Content-Length and Transfer-Encoding matter */
			p->state = P_HNAME;
			p->pos = 1;
			p->token = lower(ch);
		} else {
			p->state = P_HSKIP;
		}
		break;
	case P_HEND:
		if (ch == '\n')
			head_done(dir, c, p);
		else
			p->state = P_HSKIP;
		break;
	case P_HNAME:
		if (ch == ':') {
			if (p->pos == 14 && p->token == HASH_CONTENT_LENGTH) {
				p->state = P_CLEN;
				p->clen = 0;
				p->flags |= PF_CLEN;
			} else if (p->pos == 17 && p->token == HASH_TRANSFER_ENCODING) {
				p->state = P_TENC;
				p->token = 0;
			} else {
				p->state = P_HSKIP;
			}
		} else if (ch == '\n') {
			p->state = P_HSTART;
		} else if (p->pos >= 17) {
			p->state = P_HSKIP;	/* longer than any name we want */
		} else {
			p->token = HASH_STEP(p->token, lower(ch));
			p->pos++;
		}
		break;
	case P_CLEN:
		if (ch >= '0' && ch <= '9') {
			if (p->clen < (1ULL << 48))	/* beyond that it is garbage anyway */
				p->clen = p->clen * 10 + (ch - '0');
		} else if (ch == '\n') {
			p->state = P_HSTART;
		}
		break;
	case P_TENC:
		/* "chunked" is the last coding whenever it is present */
		if (ch == '\r' || ch == '\n') {
			if (p->token == HASH_CHUNKED)
				p->flags |= PF_CHUNKED;
			if (ch == '\n')
				p->state = P_HSTART;
		} else if (ch == ',' || ch == ' ' || ch == '\t') {
			p->token = 0;
		} else {
			p->token = HASH_STEP(p->token, lower(ch));
		}
		break;
	}
	return PARSE_OK;

bad_response:
	count_loss(LOSS_UNPARSABLE_RESPONSE);
	p->flags &= ~PF_EMIT_DUE;
	p->state = P_UNKNOWN;
	return PARSE_LOST;
}

/* Index of the lowest byte whose top bit is set in m (m != 0). */
static __always_inline __u32 first_marked_byte(__u64 m)
{
	__u32 n = 0;

	if (!(m & 0xffffffffULL)) {
		n += 4;
		m >>= 32;
	}
	if (!(m & 0xffff)) {
		n += 2;
		m >>= 16;
	}
	if (!(m & 0xff))
		n += 1;
	return n;
}

/* Skip to just past the next '\n', eight bytes a step. */
static __always_inline void skip_line(struct scan_buf *b, struct parser *p, __u32 pos, __u32 len)
{
	__u64 w = *(__u64 *)&b->data[pos & (HTTP_SCAN_MAX - 1)];
	__u64 x = w ^ 0x0a0a0a0a0a0a0a0aULL;
	/* top bit of each byte of x that is zero, exact up to the first one */
	__u64 m = (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
	__u32 step = 8;

	if (m) {
		step = first_marked_byte(m) + 1;
		if (step <= len - pos)
			p->state = P_HSTART;
	}
	if (step > len - pos)
		step = len - pos;	/* the line goes on in the next buffer */
	p->head_bytes += step;
	b->pos = pos + step;
}

/* bpf_loop callback: one step of the parser over the scan buffer. */
static long scan_step(__u64 index, void *ctx)
{
	struct scan_ctx *s = ctx;
	struct scan_buf *b = s->buf;
	struct parser *p = s->p;
	__u32 pos = b->pos, len = b->len;
	__u8 ch;

	if (pos >= len || len > HTTP_SCAN_MAX)
		return 1;

	switch (p->state) {
	case P_BODY: {
		__u32 room = len - pos;

		if (p->left >= room) {
			/* the rest of the buffer is body */
			p->left -= room;
			b->pos = len;
			if (!p->left)
				p->state = P_IDLE;
			return 1;
		}
		b->pos = pos + p->left;
		p->left = 0;
		p->state = P_IDLE;
		return 0;
	}
	case P_UNKNOWN:
		return 1;	/* the caller decides how to resynchronise */
	case P_LINE:
	case P_HSKIP:
		skip_line(b, p, pos, len);
		return 0;
	}

	ch = b->data[pos & (HTTP_SCAN_MAX - 1)];
	b->pos = pos + 1;
	switch (parse_byte(s->conn, p, s->dir, s->now, ch)) {
	case PARSE_NOT_HTTP:
		s->drop = 1;
		return 1;
	case PARSE_LOST:
		return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Feeding the parser from syscall buffers                                */

static __always_inline bool starts_with_http(const void *ubuf, __u64 len)
{
	__u64 head = 0;

	if (len < 7 || bpf_probe_read_user(&head, 7, ubuf))
		return false;
	return head == M7('H', 'T', 'T', 'P', '/', '1', '.');
}

/*
 * Parse one user buffer. Returns false when the connection turned out not
 * to be HTTP and must be dropped.
 */
__noinline bool http_feed_segment(struct conn *c, __u32 dir, __u64 ubuf_addr, __u64 len, __u64 now)
{
	const __u8 *ubuf = (const __u8 *)ubuf_addr;
	struct scan_ctx s = { .conn = c, .now = now, .dir = dir };
	struct parser *p;
	__u32 zero = 0;
	__u64 off = 0;

	if (!c)
		return true;
	p = dir == DIR_REQUEST ? &c->req : &c->resp;
	s.p = p;

	/* a response that begins with its own write after one of unknown length */
	if (dir == DIR_RESPONSE && p->state == P_UNKNOWN && c->count && starts_with_http(ubuf, len))
		p->state = P_IDLE;

	s.buf = bpf_map_lookup_elem(&scan_scratch, &zero);
	if (!s.buf)
		return true;

	for (int window = 0; window < 4; window++) {
		__u64 n;

		if (off >= len)
			return true;
		if (p->state == P_BODY) {
			__u64 skip = p->left < len - off ? p->left : len - off;

			/* bodies are skipped by length, never copied */
			p->left -= skip;
			off += skip;
			if (p->left)
				return true;
			p->state = P_IDLE;
			continue;
		}
		if (p->state == P_UNKNOWN)
			return true;

		n = len - off;
		if (n > HTTP_SCAN_MAX)
			n = HTTP_SCAN_MAX;
		barrier_var(n);
		if (n == 0 || n > HTTP_SCAN_MAX)
			return true;
		if (bpf_probe_read_user(s.buf->data, n, ubuf + off))
			return true;
		s.buf->pos = 0;
		s.buf->len = n;
		bpf_loop(n, scan_step, &s, 0);
		if (s.drop) {
			count_loss(LOSS_NOT_HTTP);
			return false;
		}
		off += s.buf->pos;
	}
	if (off < len && p->state != P_BODY && p->state != P_UNKNOWN) {
		/* a head longer than we scan: give up on framing until resync */
		count_loss(LOSS_TRUNCATED);
		p->state = P_UNKNOWN;
	}
	return true;
}

static __always_inline bool feed_iov(struct conn *c, __u32 dir, const struct iovec *iov,
				     __u64 iovcnt, __u64 bytes, __u64 now)
{
	for (int i = 0; i < HTTP_IOV_MAX; i++) {
		struct iovec v;
		__u64 n;

		if (i >= iovcnt || !bytes)
			break;
		if (bpf_probe_read_user(&v, sizeof(v), &iov[i]))
			break;
		n = v.iov_len < bytes ? v.iov_len : bytes;
		if (!http_feed_segment(c, dir, (__u64)v.iov_base, n, now))
			return false;
		bytes -= n;
	}
	if (bytes) {
		/* more iovecs than we follow: only lengths matter for a body */
		struct parser *p = dir == DIR_REQUEST ? &c->req : &c->resp;

		if (p->state == P_BODY && p->left >= bytes) {
			p->left -= bytes;
			if (!p->left)
				p->state = P_IDLE;
		} else if (p->state != P_UNKNOWN) {
			count_loss(LOSS_TRUNCATED);
			p->state = P_UNKNOWN;
		}
	}
	return true;
}

static __always_inline void handle_io(__u32 tgid, struct io_args *io, long ret)
{
	struct conn_key key = { .tgid = tgid, .fd = io->fd };
	__u64 now = bpf_ktime_get_ns();
	__u32 dir = io->op >= IO_WRITE ? DIR_RESPONSE : DIR_REQUEST;
	struct conn *c;
	bool ok = true;

	c = bpf_map_lookup_elem(&conns, &key);
	if (!c)
		return;

	switch (io->op) {
	case IO_READ:
	case IO_WRITE:
		ok = http_feed_segment(c, dir, io->buf, ret, now);
		break;
	case IO_READV:
	case IO_WRITEV:
		ok = feed_iov(c, dir, (const struct iovec *)io->buf, io->iovcnt, ret, now);
		break;
	case IO_RECVMSG:
	case IO_SENDMSG: {
		struct user_msghdr msg;

		if (bpf_probe_read_user(&msg, sizeof(msg), (void *)io->buf))
			return;
		ok = feed_iov(c, dir, msg.msg_iov, msg.msg_iovlen, ret, now);
		break;
	}
	case IO_SENDFILE:
		if (c->resp.state == P_BODY) {
			if (c->resp.left > (__u64)ret) {
				c->resp.left -= ret;
			} else {
				c->resp.left = 0;
				c->resp.state = P_IDLE;
			}
		}
		break;
	}

	if (!ok) {
		conn_forget(&key, c);
		return;
	}
	if (dir == DIR_RESPONSE) {
		/* a response started: the request before it is complete */
		if (c->req.state == P_UNKNOWN)
			c->req.state = P_IDLE;
		/* head longer than this write: emit with what we know */
		if (c->resp.flags & PF_EMIT_DUE)
			http_emit_response(c);
	}
}

/* ---------------------------------------------------------------------- */
/* Entry points                                                           */

static __always_inline int on_sys_enter(struct pt_regs *regs, long id)
{
	struct io_args io = {};
	__u64 pid_tgid;
	__u32 tgid;

	switch (id) {
	case NR_read:
	case NR_recvfrom:
		io.op = IO_READ;
		break;
	case NR_readv:
		io.op = IO_READV;
		break;
	case NR_recvmsg:
		io.op = IO_RECVMSG;
		break;
	case NR_write:
	case NR_sendto:
		io.op = IO_WRITE;
		break;
	case NR_writev:
		io.op = IO_WRITEV;
		break;
	case NR_sendmsg:
		io.op = IO_SENDMSG;
		break;
	case NR_sendfile:
		io.op = IO_SENDFILE;
		break;
	case NR_accept:
	case NR_accept4:
		io.op = IO_ACCEPT;
		break;
	case NR_close:
		break;
	default:
		return 0;
	}

	pid_tgid = bpf_get_current_pid_tgid();
	tgid = pid_tgid >> 32;
	if (tgid == self_tgid)
		return 0;
	if (io.op != IO_ACCEPT && !tgid_may_be_tracked(tgid))
		return 0;	/* the common case: a process we never tracked */
	io.fd = PT_REGS_PARM1_SYSCALL(regs);

	if (io.op == IO_NONE) {
		struct conn_key key = { .tgid = tgid, .fd = io.fd };
		struct conn *c = bpf_map_lookup_elem(&conns, &key);

		if (c)
			conn_forget(&key, c);
		return 0;
	}
	if (io.op != IO_ACCEPT) {
		struct conn_key key = { .tgid = tgid, .fd = io.fd };

		/* the filter that keeps untracked I/O cheap */
		if (!bpf_map_lookup_elem(&conns, &key))
			return 0;
		io.buf = PT_REGS_PARM2_SYSCALL(regs);
		if (io.op == IO_READV || io.op == IO_WRITEV) {
			__u64 cnt = PT_REGS_PARM3_SYSCALL(regs);

			io.iovcnt = cnt > HTTP_IOV_MAX ? HTTP_IOV_MAX + 1 : cnt;
		}
	}
	if (bpf_map_update_elem(&io_in_flight, &pid_tgid, &io, BPF_ANY))
		count_loss(LOSS_IO_MAP_FULL);
	return 0;
}

static __always_inline int on_sys_exit(struct pt_regs *regs, long ret)
{
	struct io_args *inflight, io;
	__u64 pid_tgid;
	long id;

	id = SYSCALL_NR(regs);
	switch (id) {
	case NR_read: case NR_recvfrom: case NR_readv: case NR_recvmsg:
	case NR_write: case NR_sendto: case NR_writev: case NR_sendmsg:
	case NR_sendfile: case NR_accept: case NR_accept4:
		break;
	default:
		return 0;
	}
	pid_tgid = bpf_get_current_pid_tgid();
	if (id != NR_accept && id != NR_accept4 && !tgid_may_be_tracked(pid_tgid >> 32))
		return 0;
	inflight = bpf_map_lookup_elem(&io_in_flight, &pid_tgid);
	if (!inflight)
		return 0;
	io = *inflight;
	bpf_map_delete_elem(&io_in_flight, &pid_tgid);
	if (ret <= 0)
		return 0;

	if (io.op == IO_ACCEPT)
		handle_accept(pid_tgid >> 32, ret);
	else
		handle_io(pid_tgid >> 32, &io, ret);
	return 0;
}

/*
 * tp_btf, not raw_tp: regs is a BTF pointer, so its fields are direct loads
 * instead of bpf_probe_read_kernel() calls, on the path every syscall of
 * the node takes.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(slotap_sys_enter, struct pt_regs *regs, long id)
{
	return on_sys_enter(regs, id);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(slotap_sys_exit, struct pt_regs *regs, long ret)
{
	return on_sys_exit(regs, ret);
}

/* Backstop for sockets that die without a close() we saw (process killed). */
SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(slotap_sock_state, struct sock *sk, int oldstate, int newstate)
{
	struct conn_key *keyp, key;
	__u64 sock_id = (__u64)sk;
	struct conn *c;

	if (newstate != TCP_CLOSE)
		return 0;
	keyp = bpf_map_lookup_elem(&conn_by_sock, &sock_id);
	if (!keyp)
		return 0;
	key = *keyp;
	c = bpf_map_lookup_elem(&conns, &key);
	if (c && c->sock_id == sock_id)
		conn_forget(&key, c);
	else
		bpf_map_delete_elem(&conn_by_sock, &sock_id);
	return 0;
}

/* Not attached: run by the agent through BPF_PROG_TEST_RUN to read the
 * ring buffer's backlog, which libbpf 1.1 has no API for. */
SEC("raw_tp")
int slotap_ringbuf_backlog(void *ctx)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
}
