// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * HTTP/1.x server requests, seen from the sockets of the serving process.
 *
 * The socket layer's sock_recv_length / sock_send_length tracepoints say
 * which socket moved how many bytes; the syscall that moved them, and its
 * buffer, come from the task's saved user registers (bpf_task_pt_regs).
 * Received bytes feed the request parser, sent ones the response parser,
 * both state machines that carry their state in the socket's local
 * storage, so heads and bodies may be split anywhere; bodies with a
 * Content-Length are skipped by length, never copied. Requests queue in a
 * per-connection FIFO (pipelining); each response start pops one and emits
 * one struct http_event.
 *
 * No syscall hook at all: sys_enter or sys_exit would run on every syscall
 * of the node. No kprobes, no fentry: tracepoints only.
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
#define IPPROTO_TCP	6
#define MSG_PEEK	2
#define TCP_FIN_WAIT1	4
#define TCP_CLOSE	7
#define TCP_LAST_ACK	9
#define TCP_LISTEN	10

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* From include/uapi/asm-generic/errno.h: sk_err of a failed connect. */
#define ENETUNREACH	101
#define ETIMEDOUT	110
#define ECONNREFUSED	111
#define EHOSTUNREACH	113

/* Set by the loader before load. */
const volatile bool track_all_listeners = true;	/* no services configured */
const volatile __u32 self_tgid = 0;		/* never track the agent itself */
const volatile __u64 wakeup_bytes = 256 * 1024;	/* wake the consumer past this backlog */
/* Set at any time by the agent: requests unanswered for longer have failed. */
__u64 request_timeout_ns = 30000000000ULL;
/*
 * Set by the agent once every program is attached: until then they only
 * keep the listener counts. A reload's new programs so take over from the
 * old ones at one instant, not program by program.
 */
bool measuring = false;

/* What a syscall did with a socket, as far as the parser cares. */
enum io_op {
	IO_NONE = 0,
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
	P_BODY,			/* body or chunk of known length: parser.left bytes to go */
	P_UNKNOWN,		/* not followed: a lone response's rest, or framing lost */
	P_CHUNK_SIZE,		/* chunked: the hex size of the next chunk */
	P_CHUNK_EXT,		/* chunked: the rest of a chunk-size line */
	P_CHUNK_END,		/* chunked: the CRLF after a chunk's data */
	/* from here on, nothing is parsed: */
	P_UNTIL_CLOSE,		/* response: a body delimited by the connection's close */
	P_LOST,			/* framing lost with requests in flight: handle_io() gives up */
	P_GIVEN_UP,		/* response: given up; each request is lost as it comes */
};

/* The stream is not parsed any more (for now, or for good). */
static __always_inline bool parser_stopped(__u8 state)
{
	return state >= P_UNTIL_CLOSE;
}

/* parser.flags */
#define PF_CLEN		0x01	/* saw Content-Length */
#define PF_CHUNKED	0x02	/* saw Transfer-Encoding: chunked */
#define PF_TRAILERS	0x04	/* chunked: in the trailer section after the last chunk */
#define PF_EMIT_DUE	0x10	/* response: status parsed, event not yet sent */

struct parser {
	__u64 left;		/* P_BODY: body bytes still to come */
	__u64 clen;		/* Content-Length being parsed */
	__u64 head_bytes;	/* bytes of the current head so far */
	__u64 token;		/* method or version bytes, header name or value hash */
	__u16 status;
	__u8 state;		/* enum parse_state */
	__u8 flags;
	__u8 pos;		/* position in the current token or header name */
	/*
	 * Response: the method of the request it answers (a reply to HEAD has
	 * no body), read when its status is parsed. Its own field: the header
	 * scan and the pairing share nothing.
	 */
	__u8 req_method;
	__u8 __pad[2];
};

/* pending_req.flags beside HTTP_EVENT_PATH_TRUNCATED and HTTP_EVENT_LATE */
#define REQ_DISCARD	0x40	/* already counted as a loss: its response emits nothing */
#define REQ_PARSING	0x80	/* conn.cur: its head is being parsed, not yet spilled */
#define REQ_EVENT_FLAGS	(HTTP_EVENT_PATH_TRUNCATED | HTTP_EVENT_LATE)

struct pending_req {
	__u64 start_ns;
	__u64 head_bytes;
	__u64 body_bytes;
	__u32 seq;		/* the connection's request number (conn.req_seq) */
	__u8 method;
	__u8 path_len;
	__u8 flags;		/* HTTP_EVENT_PATH_TRUNCATED, HTTP_EVENT_LATE, REQ_* */
	__u8 __pad;
	char path[HTTP_PATH_MAX];
};

enum conn_state {
	CONN_NEW = 0,		/* storage just created, not yet classified */
	CONN_TRACKED,
	CONN_IGNORED,		/* not a selected server-side HTTP connection */
	CONN_CLOSED,		/* closed: its unanswered requests are counted */
};

struct conn {
	__u64 sock_id;
	__u64 resp_start_ns;	/* end of the send that began the current response */
	/* Of the process that opened it, read once: failures are reported
	 * from softirq or from the agent's sweep, where current is another. */
	__u64 cgroup_id;
	__u32 tgid;
	__u16 service_id;
	__u16 local_port;
	__u16 remote_port;
	__u8 state;		/* enum conn_state */
	__u8 client;		/* outbound: we send requests, read responses */
	__u8 port_counted;	/* client: counted in ports[local_port].clients */
	/*
	 * A request started while another was in flight: every response of
	 * the connection is framed from then on, not only its status line.
	 */
	__u8 pipelined;
	/*
	 * The requests in flight are numbers req_seq - resp_seq .. req_seq - 1
	 * (u32, wrapping): started, and not yet answered or failed. Request s
	 * is kept in q[s % HTTP_PIPELINE_INLINE] when it started with fewer
	 * than HTTP_PIPELINE_INLINE before it, else in cur while its head is
	 * parsed and then in pipeline_spill; a request kept nowhere is still
	 * counted, so each response pairs with its own request at any depth.
	 */
	__u32 req_seq;
	__u32 resp_seq;
	__u32 gen;		/* random: this connection's keys in pipeline_spill */
	__u64 connect_start_ns;	/* client: connect() began, 0 once reported */
	__u8 remote_addr[16];	/* IPv6 or IPv4-mapped */
	char comm[TASK_COMM_LEN_SLOTAP];
	struct parser req;
	struct parser resp;
	struct pending_req q[HTTP_PIPELINE_INLINE];
	struct pending_req cur;	/* a deeper request while its head is parsed */
};

struct io_args {
	__u64 buf;		/* buffer, iovec array or msghdr, by op */
	__u32 op;		/* enum io_op */
	__u32 iovcnt;		/* readv/writev */
};

/* conn.state; the zero of fresh storage is CONN_NEW */

/*
 * Per-connection state, in the socket's own storage: found from the
 * struct sock the socket tracepoints hand us, freed with the socket.
 */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct conn);
} conns SEC(".maps");

/*
 * Requests deeper in a connection's pipeline than its HTTP_PIPELINE_INLINE
 * slots, by socket, connection generation and request number. Not LRU:
 * when it is full, the newest requests go unkept, not the oldest, whose
 * responses come first. A request kept nowhere is counted as
 * LOSS_PIPELINE_OVERFLOW when its response comes; the connection's end or
 * give-up removes its entries.
 */
struct spill_key {
	__u64 sock_id;
	__u32 gen;
	__u32 seq;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HTTP_PIPELINE_SPILL_MAX);
	__type(key, struct spill_key);
	__type(value, struct pending_req);
} pipeline_spill SEC(".maps");

/*
 * What slotap knows of each local port, indexed by port: an array, so that
 * the test every socket operation of the node starts with is an inlined
 * lookup. A socket whose local port is listened on is the server side of a
 * connection; any other (a client's) is dismissed right there.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct port_info);
} ports SEC(".maps");

/* Service filters by process, filled by the loader from the config. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct service_comm_key);
	__type(value, __u16);
} service_by_comm SEC(".maps");

/* Processes matched by executable path, kept current by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SERVICE_TGIDS_MAX);
	__type(key, __u32);
	__type(value, __u16);
} service_by_tgid SEC(".maps");

/*
 * Processes that served a tracked connection or listen on a service's
 * port, and as which service: their outbound connections are the service's
 * dependencies, and the agent's socket sweeps enter their network
 * namespaces. LRU: a process that stops serving ages out.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SERVING_TGIDS_MAX);
	__type(key, __u32);
	__type(value, __u16);
} serving_tgids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);	/* resized by the loader */
} events SEC(".maps");

/*
 * A CPU's request events on their way to the ring buffer. A ring buffer
 * reserve and commit cost ~150 ns an event here, mostly locked operations
 * waiting on the ring's cold cache lines; staged in this warm per-CPU
 * buffer, HTTP_EVENT_BATCH_MAX events share one. The agent flushes what is
 * staged before every drain (slotap_flush_events), so none waits long.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event_batch);
} event_batches SEC(".maps");

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
	__u32 clen_at;		/* http_head_scan(): where a Content-Length value starts */
	__u32 __pad;
	union {
		/* + HTTP_PATH_MAX: a path copied in bulk may overrun the data */
		__u8 data[HTTP_SCAN_MAX + HTTP_PATH_MAX];
		__u64 words[(HTTP_SCAN_MAX + HTTP_PATH_MAX) / 8];	/* aligned word loads */
	};
};

/* Per-CPU copy of the bytes being parsed: too big for the stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scan_buf);
} scan_scratch SEC(".maps");

/*
 * Sockets seen and found not to be selected server connections: a byte of
 * storage each, so that their I/O costs one lookup, not a classification.
 */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u8);
} ignored_socks SEC(".maps");

/*
 * Server connections that ended lately, by peer and local port: what a
 * reset the kernel sends afterwards, answering the peer's data, means.
 * Between messages (GONE_IDLE) the data is a request the service never
 * saw, the first reset counts it (GONE_COUNTED); in the middle of one
 * (GONE_MID_MESSAGE: a body the server stopped reading after it answered)
 * or once counted, more resets are the same request's. LRU: it only has to
 * outlive the peer's segments in flight.
 */
enum gone_how {
	GONE_IDLE = 1,
	GONE_MID_MESSAGE,
	GONE_COUNTED,
};

struct gone_key {
	__u8 peer[16];		/* IPv6, or IPv4-mapped */
	__u16 peer_port;
	__u16 local_port;
	__u32 __pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct gone_key);
	__type(value, __u8);
} gone_conns SEC(".maps");

/*
 * Listeners of services: what sk_drops was when last looked at, so that
 * the sweep and the close count each drop once. In the listener's own
 * storage: gone with it.
 */
struct listen_state {
	__u32 drops;
	__u32 __pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct listen_state);
} listeners SEC(".maps");

/* Listen drops per configured service id, cumulative; sized by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} listen_drops SEC(".maps");

/* Segments retransmitted on tracked server connections, per service. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct service_key);
	__type(value, __u64);
} retransmits SEC(".maps");

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

static __always_inline void count_stat_n(__u32 stat, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&stat_counters, &stat);

	if (v)
		*v += n;
}

static __always_inline void count_stat(__u32 stat)
{
	count_stat_n(stat, 1);
}

/* ---------------------------------------------------------------------- */
/* Connection lifecycle                                                   */

/* The service (id + 1) a port is claimed by, configured or learnt; 0: none. */
static __always_inline __u16 port_service(const struct port_info *pi)
{
	return pi->service ? pi->service : pi->listen_service;
}

/* The configured service the current process belongs to, by name or exe path. */
static __always_inline bool service_of_process(__u32 tgid, __u16 *service_id)
{
	struct service_comm_key comm = {};
	__u16 *id;

	bpf_get_current_comm(comm.comm, sizeof(comm.comm));
	id = bpf_map_lookup_elem(&service_by_comm, &comm);
	if (!id)
		id = bpf_map_lookup_elem(&service_by_tgid, &tgid);
	if (!id)
		return false;
	*service_id = *id;
	return true;
}

static __always_inline bool service_lookup(struct port_info *pi, __u32 tgid, __u16 *service_id)
{
	if (pi->service) {
		*service_id = pi->service - 1;
		return true;
	}
	if (service_of_process(tgid, service_id)) {
		/* the port is this service's while it restarts, too */
		if (pi->listen_service != *service_id + 1)
			pi->listen_service = *service_id + 1;
		return true;
	}
	if (track_all_listeners) {
		*service_id = SERVICE_ID_AUTO;
		return true;
	}
	return false;
}

/*
 * The local port of sk. Not skc_num: tcp_set_state(TCP_CLOSE) has already
 * released the port of a socket that did not bind() it itself
 * (inet_put_port() zeroes inet_num), as every accepted one; inet_sport
 * stays.
 */
static __always_inline __u16 sock_local_port(const struct sock *sk)
{
	/* a read, not a field access: the verifier's sock is not an inet_sock */
	return bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
}

/* The IPv4 address v4 (network order) as events carry it: ::ffff:a.b.c.d. */
static __always_inline void ipv4_mapped(__u8 addr[16], const void *v4)
{
	__builtin_memset(addr, 0, 10);
	addr[10] = 0xff;
	addr[11] = 0xff;
	__builtin_memcpy(&addr[12], v4, 4);
}

/* The peer of sk as events carry it: IPv6, or IPv4-mapped. */
static __always_inline void sock_peer(const struct sock *sk, __u8 addr[16])
{
	if (sk->__sk_common.skc_family == AF_INET6)
		BPF_CORE_READ_INTO(addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	else
		ipv4_mapped(addr, &sk->__sk_common.skc_daddr);
}

/* A connection starts being tracked: who it belongs to, read once. */
static __always_inline void conn_init(struct conn *c, struct sock *sk, __u32 tgid, __u16 service_id)
{
	c->state = CONN_TRACKED;
	c->sock_id = (__u64)sk;
	c->cgroup_id = bpf_get_current_cgroup_id();
	c->gen = bpf_get_prandom_u32();
	c->tgid = tgid;
	c->service_id = service_id;
	c->local_port = sk->__sk_common.skc_num;
	c->remote_port = bpf_ntohs(sk->__sk_common.skc_dport);
	bpf_get_current_comm(c->comm, sizeof(c->comm));
	sock_peer(sk, c->remote_addr);
	count_stat(STAT_CONNS_OPENED);
}

/*
 * A socket on a port of ours seen for the first time: tracked, or
 * remembered as ignored. Not inlined: the hot path stays short.
 */
static __noinline struct conn *conn_classify(struct sock *sk, struct port_info *pi)
{
	__u16 family, service_id;
	struct conn *c;
	__u32 tgid;

	if (bpf_sk_storage_get(&ignored_socks, sk, NULL, 0))
		return NULL;

	family = sk->__sk_common.skc_family;
	tgid = bpf_get_current_pid_tgid() >> 32;
	if ((family != AF_INET && family != AF_INET6) || sk->sk_protocol != IPPROTO_TCP ||
	    tgid == self_tgid || !service_lookup(pi, tgid, &service_id)) {
		if (!bpf_sk_storage_get(&ignored_socks, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE))
			count_loss(LOSS_CONN_MAP_FULL);
		return NULL;
	}
	c = bpf_sk_storage_get(&conns, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (!c) {
		count_loss(LOSS_CONN_MAP_FULL);
		return NULL;
	}
	conn_init(c, sk, tgid, service_id);
	bpf_map_update_elem(&serving_tgids, &tgid, &service_id, BPF_ANY);
	return c;
}

/* The connection of sk if it is tracked, classifying it on first sight. */
static __always_inline struct conn *conn_get(struct sock *sk)
{
	__u32 port = sk->__sk_common.skc_num;
	struct port_info *pi;
	struct conn *c;

	pi = bpf_map_lookup_elem(&ports, &port);
	/*
	 * A service's port stays open to this test after its last listener
	 * closes: a server that shuts down gracefully serves the connections
	 * it accepted before (in auto mode, with no services, it does not).
	 */
	if (!pi || (!pi->listeners && !pi->service && !pi->listen_service && !pi->clients))
		return NULL;	/* an untracked client socket: the common case */
	c = bpf_sk_storage_get(&conns, sk, NULL, 0);
	if (c)
		return c->state == CONN_TRACKED ? c : NULL;
	return conn_classify(sk, pi);
}


/* ---------------------------------------------------------------------- */
/* The parser                                                             */

struct scan_ctx {
	struct conn *conn;
	struct parser *p;	/* &conn->req or &conn->resp */
	struct scan_buf *buf;
	__u64 now;
	__u32 dir;		/* enum direction */
	__u32 drop;		/* stop tracking this connection: enum scan_drop */
};

enum scan_drop {
	SCAN_KEEP = 0,
	SCAN_DROP_NOT_HTTP,	/* counted as LOSS_NOT_HTTP */
	SCAN_DROP_UPGRADED,	/* 101 Switching Protocols: measured, then not HTTP/1 */
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
	return HTTP_METHOD_OTHER;
}

/*
 * A byte of a token (RFC 9110 5.6.2), which a method is: any visible
 * ASCII but the delimiters.
 */
static __always_inline bool is_tchar(__u8 ch)
{
	if (ch <= ' ' || ch >= 127)
		return false;
	switch (ch) {
	case '"': case '(': case ')': case ',': case '/': case ':': case ';': case '<':
	case '=': case '>': case '?': case '@': case '[': case '\\': case ']': case '{':
	case '}':
		return false;
	}
	return true;
}

/* Longer method tokens are not taken for a request line (nginx: 32 bytes). */
#define HTTP_METHOD_LEN_MAX	32
/* "PRI": HTTP/2's connection preface (RFC 9113 3.4), never an HTTP/1 method. */
#define TOKEN_PRI		M3('P', 'R', 'I')

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
#define MASK7			0x00ffffffffffffffULL

/* ---------------------------------------------------------------------- */
/* Requests in flight                                                     */

#define INLINE_MASK	(HTTP_PIPELINE_INLINE - 1)

static __always_inline __u32 conn_pending(const struct conn *c)
{
	return c->req_seq - c->resp_seq;
}

/* The request whose head is being parsed: the last one started. */
static __always_inline struct pending_req *req_tail(struct conn *c)
{
	__u32 seq = c->req_seq - 1;
	struct pending_req *r = &c->q[seq & INLINE_MASK];

	return r->seq == seq ? r : &c->cur;
}

/*
 * conn.cur's head is parsed: into pipeline_spill, or, that failing,
 * counted when its response finds nothing. The helpers of the request
 * FIFO that branch are global functions, verified once on their own, not
 * in every path of the parser that calls them.
 */
__noinline int http_req_spill(struct conn *c)
{
	struct spill_key key = {};

	if (!c || !(c->cur.flags & REQ_PARSING))
		return 0;
	key.sock_id = c->sock_id;
	key.gen = c->gen;
	key.seq = c->cur.seq;
	c->cur.flags &= ~REQ_PARSING;
	bpf_map_update_elem(&pipeline_spill, &key, &c->cur, BPF_ANY);
	return 0;
}

/* A request starts: its number, and where it is kept while in flight. */
__noinline int http_req_push(struct conn *c, __u64 now)
{
	struct pending_req *r;
	__u32 seq, depth;
	__u8 flags = 0;

	if (!c)
		return 0;
	seq = c->req_seq;
	depth = conn_pending(c);
	if (c->resp.state == P_GIVEN_UP) {
		/* responses are no longer followed: lost as it comes, never in flight */
		count_loss(LOSS_UNFRAMED);
		c->resp_seq = seq + 1;
		flags = REQ_DISCARD;
		depth = 0;
	}
	if (depth)
		c->pipelined = 1;
	if (depth < HTTP_PIPELINE_INLINE) {
		r = &c->q[seq & INLINE_MASK];
	} else {
		http_req_spill(c);	/* a head that never ended (truncated) */
		r = &c->cur;
		flags = REQ_PARSING;
	}
	c->req_seq = seq + 1;
	r->seq = seq;
	r->start_ns = now;
	r->head_bytes = 0;
	r->body_bytes = 0;
	r->method = HTTP_METHOD_OTHER;
	r->path_len = 0;
	r->flags = flags;
	return 0;
}

enum req_where { REQ_INLINE, REQ_CUR, REQ_SPILLED };

/* Request seq of c, where it is kept; NULL if nowhere. */
static __always_inline struct pending_req *req_find(struct conn *c, __u32 seq, __u32 *where)
{
	struct spill_key key = { .sock_id = c->sock_id, .gen = c->gen, .seq = seq };
	struct pending_req *r = &c->q[seq & INLINE_MASK];

	*where = REQ_INLINE;
	if (r->seq == seq)
		return r;
	*where = REQ_CUR;
	if ((c->cur.flags & REQ_PARSING) && c->cur.seq == seq)
		return &c->cur;
	*where = REQ_SPILLED;
	return bpf_map_lookup_elem(&pipeline_spill, &key);
}

/* Request seq, found at where, is done with: answered or failed for good. */
static __always_inline void req_forget(struct conn *c, __u32 seq, __u32 where)
{
	struct spill_key key = { .sock_id = c->sock_id, .gen = c->gen, .seq = seq };

	if (where == REQ_CUR)
		c->cur.flags &= ~REQ_PARSING;	/* answered before its head ended */
	else if (where == REQ_SPILLED)
		bpf_map_delete_elem(&pipeline_spill, &key);
}

/*
 * Waking the consumer costs ~1.5 us an event: let it poll instead, unless
 * a backlog builds up.
 */
static __always_inline __u64 wakeup_flag(void)
{
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) < wakeup_bytes)
		return BPF_RB_NO_WAKEUP;
	count_stat(STAT_WAKEUPS);
	return BPF_RB_FORCE_WAKEUP;
}

/* A ring buffer record for one event; NULL, counted, when the ring is full. */
static __always_inline struct http_event *event_reserve(void)
{
	struct http_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		count_loss(LOSS_RINGBUF_FULL);
	return e;
}

static __always_inline void event_submit(struct http_event *e)
{
	bpf_ringbuf_submit(e, wakeup_flag());
	count_stat(STAT_EVENTS_SUBMITTED);
}

/* The staged events of this CPU into the ring buffer, as one record. */
static __always_inline void batch_flush(struct event_batch *b)
{
	__u32 n = b->n;

	if (!n)
		return;
	if (n > HTTP_EVENT_BATCH_MAX)
		n = HTTP_EVENT_BATCH_MAX;	/* cannot happen; bounds the size */
	if (bpf_ringbuf_output(&events, b->ev, n * sizeof(b->ev[0]), wakeup_flag()))
		count_loss_n(LOSS_RINGBUF_FULL, n);
	else
		count_stat_n(STAT_EVENTS_SUBMITTED, n);
	b->n = 0;
}

/*
 * Where the next request event of this CPU goes: a slot of its batch, or,
 * when the batch is in use by the program this one interrupted (a socket
 * state change in softirq, say), a ring buffer record of its own. *batch
 * says which, for event_commit(). NULL, counted, when the ring is full.
 */
static __always_inline struct http_event *event_stage(struct event_batch **batch)
{
	struct event_batch *b;
	__u32 zero = 0, n;

	b = bpf_map_lookup_elem(&event_batches, &zero);
	if (b && !b->busy) {
		b->busy = 1;
		barrier();	/* same CPU only: the compiler must keep the order */
		n = b->n;
		if (n >= HTTP_EVENT_BATCH_MAX) {
			n = 0;	/* cannot happen: full batches are flushed at once */
			b->n = 0;
		}
		*batch = b;
		return &b->ev[n];
	}
	*batch = NULL;
	return event_reserve();
}

static __always_inline void event_commit(struct http_event *e, struct event_batch *b)
{
	if (!b) {
		event_submit(e);
		return;
	}
	if (++b->n >= HTTP_EVENT_BATCH_MAX)
		batch_flush(b);
	barrier();
	b->busy = 0;
}

/*
 * Send the event of request r of c: answered (failure 0, the response's
 * status and start in c) or failed at end_ns. A server's events are
 * staged; a client's go straight to the ring: a failing call to a
 * dependency must reach the agent before the bad response it caused, which
 * the agent blames on it.
 */
static __always_inline void emit_request(struct conn *c, struct pending_req *r, __u32 failure,
					 __u64 end_ns)
{
	struct event_batch *batch = NULL;
	struct http_event *e;

	e = c->client ? event_reserve() : event_stage(&batch);
	if (!e)
		return;
	e->req_start_ns = r->start_ns;
	e->cgroup_id = c->cgroup_id;
	e->sock_id = c->sock_id;
	e->req_bytes = r->head_bytes + r->body_bytes;
	e->flags = r->flags & REQ_EVENT_FLAGS;
	if (c->client)
		e->flags |= HTTP_EVENT_CLIENT;
	if (failure) {
		e->resp_start_ns = end_ns;
		e->resp_bytes = 0;
		e->status = 0;
	} else {
		e->resp_start_ns = c->resp_start_ns;
		e->resp_bytes = c->resp.head_bytes;
		if (c->resp.flags & PF_CLEN) {
			e->resp_bytes += c->resp.clen;
			e->flags |= HTTP_EVENT_RESP_SIZE_KNOWN;
		}
		e->status = c->resp.status;
	}
	e->tgid = c->tgid;
	e->service_id = c->service_id;
	e->local_port = c->local_port;
	e->remote_port = c->remote_port;
	e->method = r->method;
	e->path_len = r->path_len;
	e->kind = HTTP_EVENT_REQUEST;
	e->failure = failure;
	e->__pad0 = 0;
	__builtin_memset(e->__pad, 0, sizeof(e->__pad));
	__builtin_memcpy(e->remote_addr, c->remote_addr, sizeof(e->remote_addr));
	__builtin_memcpy(e->comm, c->comm, sizeof(e->comm));
	__builtin_memcpy(e->path, r->path, HTTP_PATH_MAX);

	event_commit(e, batch);
}

/*
 * The parser's pieces are global functions: the verifier checks each once,
 * on its own, instead of once per call site inside every bpf_loop callback
 * path (which exceeds the 1M instruction budget). Their pointer arguments
 * may be NULL as far as the verifier knows, hence the checks.
 */
/*
 * The response being parsed answers the oldest request in flight: its
 * event goes out, or, for a request kept nowhere, its loss is counted, and
 * the request is done with. Called once per response, the only place
 * resp_seq moves but for failures (conn_fail_all).
 */
__noinline int http_emit_response(struct conn *c, __u32 loss)
{
	struct pending_req *r;
	__u32 seq, where;

	if (!c || !conn_pending(c))
		return 0;
	seq = c->resp_seq;
	c->resp.flags &= ~PF_EMIT_DUE;
	r = req_find(c, seq, &where);
	if (!r)
		count_loss(LOSS_PIPELINE_OVERFLOW);
	else if (loss)
		count_loss(loss);	/* a response that cannot be read costs its request */
	else if (!(r->flags & REQ_DISCARD))
		emit_request(c, r, HTTP_FAILURE_NONE, 0);
	if (r)
		req_forget(c, seq, where);
	c->resp_seq = seq + 1;
	return 0;
}

/*
 * Request seq of c failed: reported once. A timed-out request stays in
 * flight (HTTP_EVENT_LATE marks it) so that its response, if one comes,
 * still pairs with it; with forget, the connection ended and it is done
 * with. Returns -1 for a request kept nowhere.
 */
__noinline int http_emit_failure(struct conn *c, __u32 seq, __u32 failure, __u64 now,
				 __u32 forget)
{
	struct pending_req *r;
	__u32 where;

	if (!c)
		return 0;
	r = req_find(c, seq, &where);
	if (!r)
		return -1;
	if (!(r->flags & (HTTP_EVENT_LATE | REQ_DISCARD))) {
		emit_request(c, r, failure, now);
		r->flags |= HTTP_EVENT_LATE;
	}
	if (forget)
		req_forget(c, seq, where);
	return 0;
}

/* http_answered_method() of a request kept nowhere */
#define METHOD_UNKNOWN	HTTP_METHOD_MAX

/* The method of the request the response being parsed answers. */
__noinline int http_answered_method(struct conn *c)
{
	struct pending_req *r;
	__u32 where;

	if (!c)
		return METHOD_UNKNOWN;
	r = req_find(c, c->resp_seq, &where);
	return r ? r->method : METHOD_UNKNOWN;
}

/* Requests in flight one walk of http_conn_end() or the timeout sweep visits. */
#define FAIL_WALK_MAX	(1u << 16)

struct fail_walk {
	struct conn *conn;
	__u64 now;
	__u32 failure;		/* enum http_failure */
	__u32 loss;		/* or enum http_loss_reason: lost, not failed */
};

/* bpf_loop callback: request resp_seq + index failed, or was lost, with the connection. */
static long fail_step(__u64 index, void *ctx)
{
	struct fail_walk *f = ctx;
	struct conn *c = f->conn;
	__u32 seq = c->resp_seq + (__u32)index, where;
	struct pending_req *r;

	if (!f->loss) {
		if (http_emit_failure(c, seq, f->failure, f->now, 1) < 0)
			count_loss(LOSS_PIPELINE_OVERFLOW);	/* kept nowhere: lost, counted */
		return 0;
	}
	r = req_find(c, seq, &where);
	if (!r) {
		count_loss(LOSS_PIPELINE_OVERFLOW);
		return 0;
	}
	/* one already reported (timed out) or counted is not lost again */
	if (!(r->flags & (HTTP_EVENT_LATE | REQ_DISCARD)))
		count_loss(f->loss);
	req_forget(c, seq, where);
	return 0;
}

/*
 * The connection ends, or is given up: every request in flight on c
 * failed (one event each), or, with loss, is lost (counted so); those kept
 * nowhere are lost as LOSS_PIPELINE_OVERFLOW. None is in flight after.
 */
__noinline int http_conn_end(struct conn *c, __u32 failure, __u32 loss)
{
	struct fail_walk f = { .conn = c, .failure = failure, .loss = loss };
	__u32 n;

	if (!c)
		return 0;
	n = conn_pending(c);
	if (n > FAIL_WALK_MAX) {
		count_loss_n(loss ? loss : LOSS_PIPELINE_OVERFLOW, n - FAIL_WALK_MAX);
		n = FAIL_WALK_MAX;
	}
	if (n && !loss)
		f.now = bpf_ktime_get_ns();
	bpf_loop(n, fail_step, &f, 0);
	c->resp_seq = c->req_seq;
	return 0;
}

enum parse_result {
	PARSE_OK = 0,
	PARSE_NOT_HTTP,		/* drop the connection, counted */
	PARSE_STOP,		/* nothing more to learn from this buffer */
	PARSE_UPGRADED,		/* 101: no longer HTTP/1, stop following it */
};

/*
 * Where the stream goes on cannot be told (a broken chunked body, a
 * response that is not one, more heads in one buffer than we follow).
 * With no request in flight, the next write that starts with a status
 * line starts the next response. With some, a response hidden in what
 * cannot be framed would pair every later one with the wrong request:
 * the stream is given up instead (P_LOST: handle_io() counts the requests
 * in flight as lost, for reason).
 */
static __always_inline int framing_lost(struct conn *c, __u32 dir, struct parser *p, __u32 reason)
{
	if (dir == DIR_RESPONSE && !conn_pending(c)) {
		p->state = P_UNKNOWN;
	} else {
		p->state = P_LOST;
		p->token = reason;
	}
	return PARSE_STOP;
}

/*
 * End of a head ("\r\n\r\n"), or of a chunked body's trailers: decide
 * how the body is framed.
 */
static __always_inline void head_done(__u32 dir, struct conn *c, struct parser *p)
{
	bool has_body = true;
	__u64 body = 0;

	if (p->flags & PF_TRAILERS) {
		p->state = P_IDLE;	/* the chunked message is over */
		p->flags = 0;
		return;
	}
	if (dir == DIR_REQUEST) {
		struct pending_req *r = req_tail(c);

		if (p->flags & PF_CLEN)
			body = p->clen;
		r->head_bytes = p->head_bytes;
		r->body_bytes = body;
		if (r == &c->cur)
			http_req_spill(c);
	} else {
		if (p->status >= 100 && p->status < 200) {
			/* interim response (100 Continue): the real one follows */
			p->state = P_IDLE;
			p->flags = 0;
			return;
		}
		if (p->flags & PF_EMIT_DUE)
			http_emit_response(c, 0);
		if (p->status == 204 || p->status == 304 || p->req_method == HTTP_METHOD_HEAD) {
			has_body = false;
		} else if (p->req_method == METHOD_UNKNOWN && (!(p->flags & PF_CLEN) || p->clen)) {
			/* a reply to HEAD has no body: which, of a request kept nowhere? */
			framing_lost(c, dir, p, LOSS_UNFRAMED);
			return;
		} else if (p->flags & PF_CLEN)
			body = p->clen;
		else if (!(p->flags & PF_CHUNKED))
			body = ~0ULL;	/* delimited by close */
	}

	if (has_body && (p->flags & PF_CHUNKED)) {
		/* chunked wins over a Content-Length (RFC 9112 6.3) */
		p->state = P_CHUNK_SIZE;
		p->left = 0;
		p->pos = 0;
	} else if (has_body && body == ~0ULL) {
		p->state = P_UNTIL_CLOSE;
	} else if (has_body && body) {
		p->state = P_BODY;
		p->left = body;
	} else {
		p->state = P_IDLE;
	}
}

/* The body bytes of known length are over: the message, or one chunk of it. */
static __always_inline void body_done(struct parser *p)
{
	p->state = p->flags & PF_CHUNKED ? P_CHUNK_END : P_IDLE;
}

/* A chunk-size line ended: a chunk's data, or, after the last, trailers. */
static __always_inline void chunk_size_done(struct parser *p)
{
	if (p->left) {
		p->state = P_BODY;
	} else {
		p->flags |= PF_TRAILERS;
		p->state = P_HSTART;
	}
}

/*
 * A message starts: the moment that times it. now is 0 in production, and
 * the clock is read only here, once per message, not once per socket
 * operation; tests pass their own clock.
 */
static __always_inline void start_message(__u32 dir, __u64 now, struct conn *c, struct parser *p)
{
	if (!now)
		now = bpf_ktime_get_ns();
	p->flags = 0;
	p->clen = 0;
	p->head_bytes = 0;
	p->token = 0;
	p->pos = 0;
	p->status = 0;
	if (dir == DIR_REQUEST) {
		http_req_push(c, now);
		p->state = P_METHOD;
	} else {
		if (!conn_pending(c)) {
			count_loss(LOSS_UNMATCHED_RESPONSE);
			p->state = P_UNKNOWN;
			return;
		}
		c->resp_start_ns = now;
		p->state = P_VERSION;
		/* a response starting ends a request whose length was unknown */
		if (c->req.state == P_UNKNOWN)
			c->req.state = P_IDLE;
	}
}

/* Only the status line of a response is parsed, not how long it is. */
static __always_inline bool response_is_lone(const struct conn *c)
{
	return conn_pending(c) == 1 && !c->pipelined;
}

static __always_inline int status_parsed(struct conn *c, struct parser *p)
{
	p->state = P_LINE;
	if (p->status == 101) {
		http_emit_response(c, 0);
		return PARSE_UPGRADED;
	}
	if (p->status < 200)
		return PARSE_OK;	/* interim response: parse its head to its end */
	p->flags |= PF_EMIT_DUE;
	if (!response_is_lone(c)) {
		/* pipelining: its length tells where the next starts */
		p->req_method = http_answered_method(c);
		return PARSE_OK;
	}
	/*
	 * Nothing is queued behind this response, and the client never had
	 * two requests in flight, so where it ends does not matter: it ends
	 * where the next one starts. Skipping its head keeps the common case
	 * cheap.
	 */
	http_emit_response(c, 0);
	p->state = P_UNKNOWN;
	return PARSE_STOP;
}

/*
 * A request line that is not HTTP/1: the first of the connection says the
 * connection is not HTTP/1 (dropped, counted once as LOSS_NOT_HTTP); a
 * later one costs that request alone, and the parser goes on at the next
 * line, the head's.
 */
static __always_inline int bad_request(struct conn *c, struct parser *p)
{
	struct pending_req *r;

	if (c->req_seq == 1)
		return PARSE_NOT_HTTP;
	r = req_tail(c);
	if (!(r->flags & REQ_DISCARD)) {
		count_loss(LOSS_UNPARSABLE_REQUEST);
		r->flags |= REQ_DISCARD;
	}
	p->state = P_LINE;
	return PARSE_OK;
}



static __always_inline int hex_digit(__u8 ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* One byte of a head, or the first byte of a message. */
__noinline int http_parse_byte(struct conn *c, __u32 dir, __u64 now, __u8 ch)
{
	struct pending_req *r;
	struct parser *p;

	if (!c)
		return PARSE_STOP;
	p = dir == DIR_REQUEST ? &c->req : &c->resp;
	if (p->state == P_IDLE) {
		/* empty lines before a message are tolerated (RFC 9112 2.2) */
		if (ch == '\r' || ch == '\n')
			return PARSE_OK;
		start_message(dir, now, c, p);
		if (p->state == P_UNKNOWN)
			return PARSE_STOP;
	}
	p->head_bytes++;
	switch (p->state) {
	case P_METHOD:
		if (ch == ' ') {
			if (!p->pos || p->token == TOKEN_PRI)
				return bad_request(c, p);
			/* a token longer than 8 bytes is no method we name */
			req_tail(c)->method = p->pos <= 8 ? method_from_token(p->token) :
							    HTTP_METHOD_OTHER;
			p->state = P_PATH;
		} else if (p->pos >= HTTP_METHOD_LEN_MAX || !is_tchar(ch)) {
			return bad_request(c, p);
		} else {
			if (p->pos < 8)
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
			return bad_request(c, p);
		} else {
			r = req_tail(c);
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
		if (++p->pos < 3)
			break;
		return status_parsed(c, p);
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
	case P_CHUNK_SIZE: {
		int d = hex_digit(ch);

		if (d >= 0) {
			if (p->left >= (1ULL << 56))
				return framing_lost(c, dir, p, LOSS_UNFRAMED);
			p->left = p->left * 16 + d;
			p->pos = 1;
		} else if (!p->pos) {
			return framing_lost(c, dir, p, LOSS_UNFRAMED);	/* a size line without a size */
		} else if (ch == '\n') {
			chunk_size_done(p);
		} else if (ch == ';' || ch == ' ' || ch == '\t' || ch == '\r') {
			p->state = P_CHUNK_EXT;	/* extensions: skipped */
		} else {
			return framing_lost(c, dir, p, LOSS_UNFRAMED);
		}
		break;
	}
	case P_CHUNK_EXT:
		if (ch == '\n')
			chunk_size_done(p);
		break;
	case P_CHUNK_END:
		if (ch == '\n') {
			p->state = P_CHUNK_SIZE;
			p->left = 0;
			p->pos = 0;
		} else if (ch != '\r') {
			return framing_lost(c, dir, p, LOSS_UNFRAMED);
		}
		break;
	}
	return PARSE_OK;

bad_response:
	/* not a status line where one must start: it costs its request */
	http_emit_response(c, LOSS_UNPARSABLE_RESPONSE);
	return framing_lost(c, dir, p, LOSS_UNFRAMED);
}

/*
 * Index of the lowest byte whose top bit is set in m (m != 0, only top
 * bits set), without a branch: each branch doubles the paths the verifier
 * walks in a loop. The lowest mark, moved to bit 8k, shifts byte 7 - k of
 * the constant, which holds k, to the top.
 */
static __always_inline __u32 first_marked_byte(__u64 m)
{
	return (((m & -m) >> 7) * 0x0001020304050607ULL) >> 56;
}


#define ONES	0x0101010101010101ULL
#define LOW7	0x7f7f7f7f7f7f7f7fULL

/* The top bit of every byte of w that equals the byte c, exactly. */
static __always_inline __u64 bytes_equal(__u64 w, __u8 c)
{
	__u64 x = w ^ (ONES * c);

	return ~(((x & LOW7) + LOW7) | x | LOW7);
}

/*
 * Offset of the first of ' ', '?' or '#' at or after from, looking at most
 * HTTP_PATH_MAX + 16 bytes ahead; len if there is none in reach.
 */
static __always_inline __u32 find_path_end(struct scan_buf *b, __u32 from, __u32 len)
{
	__u32 base = from & ~7u;

	for (int i = 0; i < (HTTP_PATH_MAX + 16) / 8; i++) {
		__u32 at = base + i * 8;
		__u64 w, m;

		if (at >= len)
			break;
		w = b->words[(at / 8) % ((HTTP_SCAN_MAX + HTTP_PATH_MAX) / 8)];
		m = bytes_equal(w, ' ') | bytes_equal(w, '?') | bytes_equal(w, '#');
		if (i == 0)
			m &= ~0ULL << ((from & 7) * 8);
		if (m) {
			at += first_marked_byte(m);
			return at < len ? at : len;
		}
	}
	return len;
}

/* The request method at the start of a word, and its length with the space. */
static __always_inline __u8 method_from_word(__u64 w, __u32 *len)
{
#define TRY(n, token, method)						\
	if ((w & (~0ULL >> (64 - 8 * (n)))) == (token)) {		\
		*len = (n);						\
		return (method);					\
	}
	TRY(4, M4('G', 'E', 'T', ' '), HTTP_METHOD_GET)
	TRY(5, M5('P', 'O', 'S', 'T', ' '), HTTP_METHOD_POST)
	TRY(5, M5('H', 'E', 'A', 'D', ' '), HTTP_METHOD_HEAD)
	TRY(4, M4('P', 'U', 'T', ' '), HTTP_METHOD_PUT)
	TRY(7, M7('D', 'E', 'L', 'E', 'T', 'E', ' '), HTTP_METHOD_DELETE)
	TRY(6, M6('P', 'A', 'T', 'C', 'H', ' '), HTTP_METHOD_PATCH)
#undef TRY
	return HTTP_METHOD_OTHER;	/* rarer ones: the byte-wise parser knows them */
}

#define LOWER8		0x2020202020202020ULL	/* | this: ASCII letters to lower case */
#define M8(a, b, c, d, e, f, g, h)	(M7(a, b, c, d, e, f, g) | (__u64)(h) << 56)

/* The 8 bytes at any offset pos of the scan buffer, from its aligned words. */
static __always_inline __u64 word_at(const struct scan_buf *b, __u32 pos)
{
	__u32 i = (pos / 8) & (HTTP_SCAN_MAX / 8 - 1), shift = (pos & 7) * 8;

	/* no branch, and no shift by 64 when pos is aligned */
	return b->words[i] >> shift | (b->words[i + 1] << 1) << (63 - shift);
}

/*
 * A Content-Length value at pos: digits, blanks before them, up to the end
 * of the line. false for anything else (the byte parser decides then) or
 * for a line that goes on past the buffer.
 */
static __always_inline bool content_length_at(const struct scan_buf *b, __u32 pos, __u32 len,
					      __u64 *clen)
{
	bool digits = false;
	__u64 v = 0;

	for (int i = 0; i < 24; i++, pos++) {
		__u8 ch;

		if (pos >= len)
			return false;
		ch = b->data[pos & (HTTP_SCAN_MAX - 1)];
		if (ch >= '0' && ch <= '9') {
			if (v < (1ULL << 48))	/* as http_parse_byte(): beyond, garbage anyway */
				v = v * 10 + (ch - '0');
			digits = true;
		} else if (ch == '\r' || ch == '\n') {
			*clen = v;
			return digits;
		} else if (digits || (ch != ' ' && ch != '\t')) {
			return false;
		}
	}
	return false;
}

/*
 * A value read from map memory, never from a copy the compiler kept in a
 * register or on the stack: a loop's state kept there instead has bounds
 * that differ on every path, and the verifier cannot prune them.
 */
#define FORGET(x)	(*(volatile typeof(x) *)&(x))

/* Steps of http_head_scan(): a word without a newline, or a line, each. */
#define HEAD_SCAN_STEPS		96

/*
 * The rest of a request head, from the end of its path (b->pos) on, a word
 * at a time: its lines are only looked at for Content-Length, up to the
 * empty line that ends the head. Returns 1 having finished the head (as
 * head_done()); 0, having changed nothing, for what the byte parser must
 * see: a head that goes on past the buffer or past HEAD_SCAN_STEPS, a
 * Transfer-Encoding, an odd or repeated Content-Length. Inlined in
 * http_fast_start(), which is verified once: a call costs ~10 ns where
 * returns are slow (SRSO's safe RET), and the verifier's walk is no longer.
 */
static __always_inline int http_head_scan(struct conn *c, struct scan_buf *b)
{
	__u32 start, len, end = 0;
	__u64 clen = 0;

	start = b->pos;
	b->clen_at = 0;
	for (int i = 0; i < HEAD_SCAN_STEPS; i++) {
		__u32 pos = FORGET(b->pos), base = pos & ~7u, line;
		__u64 m, name;
		__u8 ch;

		len = FORGET(b->len);
		if (pos >= len || len > HTTP_SCAN_MAX)
			break;
		m = bytes_equal(b->words[(base / 8) & (HTTP_SCAN_MAX / 8 - 1)], '\n');
		m &= ~0ULL << ((pos & 7) * 8);	/* bytes before pos are done */
		if (!m) {
			b->pos = base + 8;
			continue;
		}
		line = base + first_marked_byte(m) + 1;
		if (line >= len)
			break;	/* past the data, or the head goes on */
		b->pos = line;
		ch = b->data[line & (HTTP_SCAN_MAX - 1)];
		if (ch == '\n') {
			end = line + 1;
			break;
		}
		if (ch == '\r') {
			if (line + 1 < len && b->data[(line + 1) & (HTTP_SCAN_MAX - 1)] == '\n')
				end = line + 2;
			break;
		}
		ch |= 0x20;	/* C and T to lower case; no other byte becomes c or t */
		if ((ch != 'c' && ch != 't') || line + 16 > len)
			continue;	/* a line that does not matter, or too short to tell */
		name = word_at(b, line) | LOWER8;
		if (name == M8('t', 'r', 'a', 'n', 's', 'f', 'e', 'r'))
			break;
		if (name == M8('c', 'o', 'n', 't', 'e', 'n', 't', '-') &&
		    ((word_at(b, line + 8) | LOWER8) & MASK7) == M7('l', 'e', 'n', 'g', 't', 'h', ':')) {
			if (FORGET(b->clen_at))
				break;	/* twice: the byte parser takes the last */
			b->clen_at = line + 15;
		}
	}
	if (!end || (b->clen_at && !content_length_at(b, b->clen_at, b->len, &clen))) {
		b->pos = start;
		return 0;
	}
	if (b->clen_at) {
		c->req.flags |= PF_CLEN;
		c->req.clen = clen;
	}
	c->req.head_bytes += end - start;
	b->pos = end;
	head_done(DIR_REQUEST, c, &c->req);
	return 1;
}

/*
 * The status code of a status line starting "HTTP/1.x NNN": bytes 0-7 are
 * w0, 8-11 the low bytes of w1. -1 for anything else.
 */
static __always_inline int status_line(__u64 w0, __u64 w1)
{
	__u8 d0 = (__u8)(w1 >> 8) - '0', d1 = (__u8)(w1 >> 16) - '0', d2 = (__u8)(w1 >> 24) - '0';

	if ((w0 & MASK7) != TOKEN_HTTP1 || (__u8)w1 != ' ' || d0 > 9 || d1 > 9 || d2 > 9)
		return -1;
	return d0 * 100 + d1 * 10 + d2;
}

/*
 * A message starting at the beginning of the scan buffer, parsed a word at
 * a time: the request line up to the end of its path, or the status line up
 * to its code. Anything unusual is left to the byte-wise parser, from the
 * start of the message.
 */
__noinline int http_fast_start(struct conn *c, struct scan_buf *b, __u32 dir, __u64 now)
{
	__u32 len, mlen = 0, end;
	struct pending_req *r;
	struct parser *p;
	__u64 w;

	if (!c || !b)
		return PARSE_OK;
	p = dir == DIR_REQUEST ? &c->req : &c->resp;
	len = b->len;
	w = b->words[0];
	if ((__u8)w == '\r' || (__u8)w == '\n')
		return PARSE_OK;	/* empty lines first: the byte parser skips them */
	start_message(dir, now, c, p);
	if (p->state == P_UNKNOWN)
		return PARSE_STOP;

	if (dir == DIR_RESPONSE) {
		int status = len < 12 ? -1 : status_line(w, b->words[1]);

		if (status < 0)
			return PARSE_OK;
		p->status = status;
		p->head_bytes = 12;
		b->pos = 12;
		return status_parsed(c, p);
	}

	r = req_tail(c);
	r->method = method_from_word(w, &mlen);
	if (r->method == HTTP_METHOD_OTHER || mlen >= len)
		return PARSE_OK;
	end = find_path_end(b, mlen, len);
	if (end >= len)
		return PARSE_OK;	/* the path goes on past this buffer */
	if (end - mlen > HTTP_PATH_MAX) {
		r->flags |= HTTP_EVENT_PATH_TRUNCATED;
		r->path_len = HTTP_PATH_MAX;
	} else {
		r->path_len = end - mlen;
	}
	/* plain (unaligned) loads from the scan buffer: a helper call costs more */
	for (int i = 0; i < HTTP_PATH_MAX / 8; i++)
		((__u64 *)r->path)[i] = *(__u64 *)&b->data[(mlen & 15) + i * 8];
	p->state = b->data[end & (HTTP_SCAN_MAX - 1)] == ' ' ? P_LINE : P_QUERY;
	p->head_bytes = end + 1;
	b->pos = end + 1;
	if (!http_head_scan(c, b))
		return PARSE_OK;	/* the byte parser goes on from the path's end */
	return b->pos < len ? PARSE_OK : PARSE_STOP;
}

/* Offset just past the first '\n' in the aligned word at base, from pos on; 0 if none. */
static __always_inline __u32 newline_in_word(struct scan_buf *b, __u32 base, __u32 pos)
{
	__u64 m = bytes_equal(b->words[(base / 8) & (HTTP_SCAN_MAX / 8 - 1)], '\n');

	m &= ~0ULL << ((pos - base) * 8);	/* bytes before pos are done */
	return m ? base + first_marked_byte(m) + 1 : 0;
}

/*
 * A header line starting with c or t, 24 bytes at a time: Content-Length
 * and Transfer-Encoding lead to their values' states; any other name
 * becomes a line to skip. Returns true having moved past the name; false,
 * unchanged, when fewer than 24 bytes are left (the byte parser decides).
 */
static __always_inline bool header_name(struct scan_buf *b, struct parser *p, __u32 pos, __u32 len)
{
	__u64 w[3];

	if (len - pos < sizeof(w))
		return false;
	__builtin_memcpy(w, &b->data[pos & (HTTP_SCAN_MAX - 1)], sizeof(w));
	if ((w[0] | LOWER8) == M8('c', 'o', 'n', 't', 'e', 'n', 't', '-') &&
	    ((w[1] | LOWER8) & MASK7) == M7('l', 'e', 'n', 'g', 't', 'h', ':')) {
		p->state = P_CLEN;
		p->clen = 0;
		p->flags |= PF_CLEN;
		pos += 15;
	} else if ((w[0] | LOWER8) == M8('t', 'r', 'a', 'n', 's', 'f', 'e', 'r') &&
		   (w[1] | LOWER8) == M8('-', 'e', 'n', 'c', 'o', 'd', 'i', 'n') &&
		   (__u16)(w[2] | 0x20) == M2('g', ':')) {
		p->state = P_TENC;
		p->token = 0;
		pos += 18;
	} else {
		p->state = P_HSKIP;
		return false;	/* the caller skips the line */
	}
	p->head_bytes += pos - b->pos;
	b->pos = pos;
	return true;
}

/*
 * Skip the rest of a header line that does not matter, up to two aligned
 * words a step (no loop: an unrolled one multiplies the verifier's paths).
 * A line starting with anything but c or t (for Content-Length and
 * Transfer-Encoding) or the head's empty line is skipped right away too.
 * Returns false, having moved nothing, at a line the byte parser must see.
 */
static __always_inline bool skip_line(struct scan_buf *b, struct parser *p, __u32 pos, __u32 len)
{
	__u32 base = pos & ~7u, end;

	if (p->state == P_HSTART) {
		__u8 ch = lower(b->data[pos & (HTTP_SCAN_MAX - 1)]);

		if (ch == '\r' || ch == '\n')
			return false;
		if ((ch == 'c' || ch == 't') && header_name(b, p, pos, len))
			return true;
		if (p->state == P_HSTART && (ch == 'c' || ch == 't'))
			return false;	/* too near the end of the buffer to tell */
		p->state = P_HSKIP;
	}
	end = newline_in_word(b, base, pos);
	if (!end && base + 8 < len)
		end = newline_in_word(b, base + 8, base + 8);
	if (end && end <= len) {
		p->state = P_HSTART;
	} else {
		end = end ? len : base + 16;
		if (end > len)
			end = len;	/* the line goes on in the next buffer */
	}
	p->head_bytes += end - pos;
	b->pos = end;
	return true;
}

/* The empty line that ends a head starts at pos. */
static __always_inline bool head_ends_at(struct scan_buf *b, __u32 pos, __u32 len)
{
	return pos + 1 < len && b->data[pos & (HTTP_SCAN_MAX - 1)] == '\r' &&
	       b->data[(pos + 1) & (HTTP_SCAN_MAX - 1)] == '\n';
}

#define HEAD_LINES_PER_STEP	4

enum skip_result {
	SKIP_MORE,	/* moved on: next step */
	SKIP_DONE,	/* the buffer is used up */
	SKIP_BYTE,	/* at a byte the byte parser must see */
};

/*
 * Header lines that do not matter, and the head's end, several a bpf_loop
 * step: a step is a call, and most heads are a few short lines. Global:
 * verified once, on its own, not in every path of the callback.
 */
__noinline int http_skip_lines(struct conn *c, struct scan_buf *b, __u32 dir)
{
	struct parser *p;
	__u32 pos, len;

	if (!c || !b)
		return SKIP_DONE;
	p = dir == DIR_REQUEST ? &c->req : &c->resp;
	pos = b->pos;
	len = b->len;
	for (int i = 0; i < HEAD_LINES_PER_STEP; i++) {
		if (p->state == P_HSTART && head_ends_at(b, pos, len)) {
			p->head_bytes += 2;
			b->pos = pos + 2;
			head_done(dir, c, p);
			return SKIP_MORE;
		}
		if (!skip_line(b, p, pos, len))
			return SKIP_BYTE;
		pos = b->pos;
		if (pos >= len)
			return SKIP_DONE;
		if (p->state != P_HSTART && p->state != P_HSKIP)
			return SKIP_MORE;	/* a value the byte parser reads */
	}
	return SKIP_MORE;
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
				body_done(p);
			return 1;
		}
		b->pos = pos + p->left;
		p->left = 0;
		body_done(p);
		return 0;
	}
	case P_UNKNOWN:
	case P_UNTIL_CLOSE:
	case P_LOST:
	case P_GIVEN_UP:
		return 1;	/* the caller decides how to resynchronise */
	case P_LINE:
	case P_HSKIP:
	case P_HSTART:
		switch (http_skip_lines(s->conn, b, s->dir)) {
		case SKIP_MORE:
			return 0;
		case SKIP_DONE:
			return 1;
		}
		pos = b->pos;
		break;		/* a line the byte parser must see */
	}

	ch = b->data[pos & (HTTP_SCAN_MAX - 1)];
	b->pos = pos + 1;
	switch (http_parse_byte(s->conn, s->dir, s->now, ch)) {
	case PARSE_NOT_HTTP:
		s->drop = SCAN_DROP_NOT_HTTP;
		return 1;
	case PARSE_UPGRADED:
		s->drop = SCAN_DROP_UPGRADED;
		return 1;
	case PARSE_STOP:
		return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Feeding the parser from syscall buffers                                */

/*
 * Body bytes of known length, skipped by count, never copied (sendfile's
 * we cannot even see): returns how many of the n bytes the body took.
 */
static __always_inline __u64 skip_body(struct parser *p, __u64 n)
{
	__u64 skip;

	if (p->state != P_BODY)
		return 0;
	skip = p->left < n ? p->left : n;
	p->left -= skip;
	if (!p->left)
		body_done(p);
	return skip;
}

/* Empty lines a response may start with (RFC 9112 2.2) that resync looks past. */
#define RESYNC_BLANKS_MAX	4

/*
 * Whether the n bytes in the scan buffer start a response: "HTTP/1.", or
 * as much of it as they hold (a status line split anywhere), after at most
 * RESYNC_BLANKS_MAX CR or LF bytes. Global: its loop, verified once.
 */
__noinline int http_starts_response(const struct scan_buf *b, __u32 n)
{
	__u32 k = 0, m;
	__u64 mask;

	if (!b)
		return 0;
	for (int i = 0; i < RESYNC_BLANKS_MAX; i++) {
		__u8 ch = b->data[k & 7];

		if (ch != '\r' && ch != '\n')
			break;
		k++;
	}
	if (k >= n)
		return 0;
	m = n - k < 7 ? n - k : 7;
	mask = MASK7 >> (8 * (7 - m));
	return (word_at(b, k) & mask) == (TOKEN_HTTP1 & mask);
}

/*
 * http_feed_window() returns the bytes it parsed, or FEED_STOP (nothing
 * more to learn from this buffer), or -SCAN_DROP_* (drop the connection).
 */
#define FEED_STOP		(-1000)
/* Scan windows of one buffer: 256 KiB of heads, bodies skipped by count. */
#define FEED_WINDOWS_MAX	64

/* http_feed_window()'s how: the direction, or'ed with this */
#define FEED_MID_BUFFER		0x100	/* not the start of the syscall's buffer */

/*
 * The len user bytes at ubuf, up to one scan window of them. Returns the
 * bytes it used, or a FEED_ result. Global: the buffer's windows are a
 * loop, and verified inline each would multiply the paths of the others.
 */
__noinline long http_feed_window(struct conn *c, __u32 how, __u64 ubuf, __u64 len, __u64 now)
{
	__u32 dir = how & DIR_RESPONSE, off = how & FEED_MID_BUFFER;
	struct scan_ctx s = { .conn = c, .now = now, .dir = dir };
	bool resync = false;
	struct parser *p;
	__u32 zero = 0;
	__u64 n;

	if (!c || !len)
		return FEED_STOP;
	p = dir == DIR_REQUEST ? &c->req : &c->resp;
	s.p = p;
	s.buf = bpf_map_lookup_elem(&scan_scratch, &zero);
	if (!s.buf || parser_stopped(p->state))
		return FEED_STOP;
	if (p->state == P_BODY)
		return skip_body(p, len);
	if (p->state == P_UNKNOWN) {
		/* a response of unknown length ends where a write starts the next */
		if (dir != DIR_RESPONSE || off || !conn_pending(c))
			return FEED_STOP;
		resync = true;
	}

	n = len;
	/* a lone response needs only its status line */
	if (dir == DIR_RESPONSE && response_is_lone(c) && (p->state == P_IDLE || resync) &&
	    n > 12 + RESYNC_BLANKS_MAX)
		n = 12 + RESYNC_BLANKS_MAX;
	if (n > HTTP_SCAN_MAX)
		n = HTTP_SCAN_MAX;
	barrier_var(n);
	if (n == 0 || n > HTTP_SCAN_MAX)
		return FEED_STOP;
	if (bpf_probe_read_user(s.buf->data, n, (const void *)ubuf))
		return FEED_STOP;
	s.buf->pos = 0;
	s.buf->len = n;
	if (resync) {
		if (!http_starts_response(s.buf, n))
			return FEED_STOP;
		p->state = P_IDLE;
	}
	if (p->state == P_IDLE && !off) {
		int r = http_fast_start(c, s.buf, dir, now);

		if (r == PARSE_UPGRADED)
			return -SCAN_DROP_UPGRADED;
		if (r == PARSE_STOP)
			return s.buf->pos;
	}
	bpf_loop(n, scan_step, &s, 0);
	if (s.drop)
		return -(long)s.drop;
	return s.buf->pos;
}

struct feed_walk {
	struct conn *conn;
	__u64 ubuf;
	__u64 len;
	__u64 off;		/* bytes of the buffer parsed */
	__u64 now;
	__u32 dir;
	__u32 drop;		/* enum scan_drop */
};

/* bpf_loop callback: the next window of the buffer. */
static long feed_step(__u64 index, void *ctx)
{
	struct feed_walk *w = ctx;
	long used;

	if (w->off >= w->len)
		return 1;
	used = http_feed_window(w->conn, w->dir | (w->off ? FEED_MID_BUFFER : 0),
				w->ubuf + w->off, w->len - w->off, w->now);
	if (used == FEED_STOP || used == 0) {
		w->off = w->len;	/* nothing more to learn here */
		return 1;
	}
	if (used < 0) {
		w->drop = -used;
		return 1;
	}
	w->off += used;
	return 0;
}

/*
 * Bytes of a buffer the parser did not follow: where a body of known
 * length, or a stream no longer followed, goes on, nothing is lost; else
 * framing is (framing_lost()), the requests in flight as LOSS_TRUNCATED.
 */
static __always_inline int unframed_rest(struct conn *c, __u32 dir)
{
	struct parser *p = dir == DIR_REQUEST ? &c->req : &c->resp;

	if (p->state != P_UNKNOWN && !parser_stopped(p->state))
		framing_lost(c, dir, p, LOSS_TRUNCATED);
	return SCAN_KEEP;
}

/*
 * Parse one user buffer. Returns SCAN_KEEP, or why the connection must be
 * dropped.
 */
__noinline int http_feed_segment(struct conn *c, __u32 dir, __u64 ubuf_addr, __u64 len, __u64 now)
{
	struct feed_walk w = { .conn = c, .ubuf = ubuf_addr, .len = len, .now = now, .dir = dir };

	if (!c)
		return SCAN_KEEP;
	bpf_loop(FEED_WINDOWS_MAX, feed_step, &w, 0);
	if (w.drop == SCAN_DROP_NOT_HTTP)
		count_loss(LOSS_NOT_HTTP);
	if (w.drop || w.off >= len)
		return w.drop;
	/* more heads in one buffer than we scan */
	return unframed_rest(c, dir);
}

static __always_inline int feed_iov(struct conn *c, __u32 dir, const struct iovec *iov,
				    __u64 iovcnt, __u64 bytes, __u64 now)
{
	struct iovec v[HTTP_IOV_MAX];
	__u32 nr = iovcnt < HTTP_IOV_MAX ? iovcnt : HTTP_IOV_MAX;
	int drop;

	/* one read for the whole array: each user read costs ~200 ns here */
	if (!nr || bpf_probe_read_user(v, nr * sizeof(v[0]), iov))
		return SCAN_KEEP;
	for (int i = 0; i < HTTP_IOV_MAX; i++) {
		__u64 n;

		if (i >= nr || !bytes)
			break;
		n = v[i].iov_len < bytes ? v[i].iov_len : bytes;
		drop = http_feed_segment(c, dir, (__u64)v[i].iov_base, n, now);
		if (drop)
			return drop;
		bytes -= n;
	}
	if (bytes) {
		/* more iovecs than we follow: only lengths matter for a body */
		struct parser *p = dir == DIR_REQUEST ? &c->req : &c->resp;

		if (p->state == P_BODY && p->left >= bytes)
			skip_body(p, bytes);
		else
			return unframed_rest(c, dir);
	}
	return SCAN_KEEP;
}

/* A response head longer than what was sent so far: emit with what we know. */
static __always_inline void response_flush(struct conn *c)
{
	if (c->resp.flags & PF_EMIT_DUE)
		http_emit_response(c, 0);
}

/*
 * Where the first need bytes a write moved are, all in one piece: its
 * buffer, or its first iovec's. 0 when they are not, or cannot be told
 * with one read.
 */
static __always_inline __u64 first_segment(const struct io_args *io, __u64 need)
{
	struct iovec v;

	if (io->op == IO_WRITE)
		return io->buf;
	if (io->op != IO_WRITEV || !io->iovcnt ||
	    bpf_probe_read_user(&v, sizeof(v), (void *)io->buf) || v.iov_len < need)
		return 0;
	return (__u64)v.iov_base;
}

/*
 * A server's one awaited response starting, in its status line alone: the
 * common case, done with one read of 16 bytes and none of the scanner's
 * state. The event goes out at once, and the rest of the response is not
 * parsed (the next one starts where a write begins with "HTTP/1."), as
 * status_parsed() does. Returns false, having changed nothing, for the
 * general parser: pipelined requests, an interim (1xx) or odd status line,
 * a head split before its status code, readv-style sends.
 */
static __always_inline bool response_fast(struct conn *c, const struct io_args *io, long ret,
					  __u64 now)
{
	struct parser *p = &c->resp;
	__u64 w[2], buf;
	int status;

	if (c->client || !response_is_lone(c) || ret < (long)sizeof(w) ||
	    (p->state != P_IDLE && p->state != P_UNKNOWN))
		return false;
	buf = first_segment(io, sizeof(w));
	if (!buf || bpf_probe_read_user(w, sizeof(w), (void *)buf))
		return false;
	if ((w[0] & MASK7) != TOKEN_HTTP1) {
		if ((__u8)w[0] == '\r' || (__u8)w[0] == '\n')
			return false;	/* empty lines first: the general parser */
		/* in a response of unknown length, more of its body */
		return p->state == P_UNKNOWN;
	}
	status = status_line(w[0], w[1]);
	if (status < 200)
		return false;
	start_message(DIR_RESPONSE, now, c, p);
	p->status = status;
	p->head_bytes = 12;
	status_parsed(c, p);	/* a lone response: emitted, the rest not parsed */
	return true;
}

/*
 * The tracked connection c moved ret bytes in the syscall described by io.
 * now is 0, for the clock to be read when a message starts, except in tests.
 */
static __always_inline void handle_io(struct conn *c, struct io_args *io, long ret, __u64 now)
{
	/* a server reads requests and writes responses; a client the reverse */
	__u32 dir = (io->op >= IO_WRITE) != !!c->client ? DIR_RESPONSE : DIR_REQUEST;
	int drop = SCAN_KEEP;
	struct parser *p;

	if (dir == DIR_RESPONSE && response_fast(c, io, ret, now))
		return;

	switch (io->op) {
	case IO_READ:
	case IO_WRITE:
		drop = http_feed_segment(c, dir, io->buf, ret, now);
		break;
	case IO_READV:
	case IO_WRITEV:
		drop = feed_iov(c, dir, (const struct iovec *)io->buf, io->iovcnt, ret, now);
		break;
	case IO_RECVMSG:
	case IO_SENDMSG: {
		struct user_msghdr msg;

		if (bpf_probe_read_user(&msg, sizeof(msg), (void *)io->buf))
			return;
		drop = feed_iov(c, dir, msg.msg_iov, msg.msg_iovlen, ret, now);
		break;
	}
	case IO_SENDFILE:
		skip_body(dir == DIR_REQUEST ? &c->req : &c->resp, ret);
		break;
	}

	if (dir == DIR_RESPONSE)
		response_flush(c);
	p = dir == DIR_REQUEST ? &c->req : &c->resp;
	if (p->state == P_LOST) {
		/* framing lost with requests in flight: they are lost */
		http_conn_end(c, 0, p->token);
		if (dir == DIR_RESPONSE) {
			p->state = P_GIVEN_UP;	/* the requests still parse, to count them */
			return;
		}
		drop = SCAN_DROP_NOT_HTTP;	/* no telling where requests start */
	}
	if (drop == SCAN_DROP_UPGRADED)
		http_conn_end(c, 0, LOSS_UNFRAMED);	/* anything pipelined behind it */
	if (drop) {
		/* not HTTP/1: its one request is counted as such */
		c->resp_seq = c->req_seq;
		c->state = CONN_IGNORED;
		count_stat(STAT_CONNS_CLOSED);
	}
}

/* ---------------------------------------------------------------------- */
/* Entry points                                                           */

/*
 * The syscall this socket operation belongs to, from the task's saved user
 * registers: its number says which kind of buffer its second argument is.
 * Operations without a syscall of ours (io_uring, splice, kernel users)
 * come out as IO_NONE.
 */
static __always_inline bool io_from_syscall(struct io_args *io, bool send)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	long nr = SYSCALL_NR(regs);

	io->op = IO_NONE;
	if (send) {
		switch (nr) {
		case NR_write:
		case NR_sendto:
			io->op = IO_WRITE;
			break;
		case NR_writev:
			io->op = IO_WRITEV;
			break;
		case NR_sendmsg:
			io->op = IO_SENDMSG;
			break;
		case NR_sendfile:
			io->op = IO_SENDFILE;
			return true;	/* the body comes from a file: no buffer */
		}
	} else {
		switch (nr) {
		case NR_read:
		case NR_recvfrom:
			io->op = IO_READ;
			break;
		case NR_readv:
			io->op = IO_READV;
			break;
		case NR_recvmsg:
			io->op = IO_RECVMSG;
			break;
		}
	}
	if (io->op == IO_NONE)
		return false;
	io->buf = PT_REGS_PARM2_SYSCALL(regs);
	if (io->op == IO_READV || io->op == IO_WRITEV) {
		__u64 cnt = PT_REGS_PARM3_SYSCALL(regs);

		io->iovcnt = cnt > HTTP_IOV_MAX ? HTTP_IOV_MAX + 1 : cnt;
	}
	return true;
}

static __always_inline int on_socket_io(struct sock *sk, int ret, bool send)
{
	struct io_args io = {};
	struct conn *c;

	if (ret <= 0 || !measuring)
		return 0;	/* errors and EOF */
	c = conn_get(sk);
	if (!c)
		return 0;
	/*
	 * The rest of a server's lone response (its body: nginx's sendfile
	 * after the head's writev): no request awaits a response, so there is
	 * nothing to learn, not even which syscall this is.
	 */
	if (send && !c->client && !conn_pending(c) &&
	    (c->resp.state == P_UNKNOWN || c->resp.state == P_GIVEN_UP))
		return 0;
	if (!io_from_syscall(&io, send))
		return 0;
	handle_io(c, &io, ret, 0);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(slotap_sock_recv, struct sock *sk, int ret, int flags)
{
	if (flags & MSG_PEEK)
		return 0;	/* the same bytes will be read again */
	return on_socket_io(sk, ret, false);
}

/* sendfile sends in chunks, each a socket send of its own */
SEC("tp_btf/sock_send_length")
int BPF_PROG(slotap_sock_send, struct sock *sk, int ret, int flags)
{
	return on_socket_io(sk, ret, true);
}

/* ---------------------------------------------------------------------- */
/* Connection state changes: listeners, closes, outbound connects          */

/*
 * The connection ends with requests unanswered: each one failed. Straight
 * from ESTABLISHED or CLOSE_WAIT to CLOSE is an abort, ours or the peer's
 * (a reset); through FIN_WAIT1 or LAST_ACK, an orderly close.
 */
static __always_inline void conn_close(struct conn *c, struct sock *sk, int oldstate, int newstate)
{
	__u32 failure = HTTP_FAILURE_CONN_CLOSED;

	if (c->state != CONN_TRACKED)
		return;
	if (c->port_counted) {
		__u32 port = c->local_port;
		struct port_info *pi = bpf_map_lookup_elem(&ports, &port);

		if (pi && pi->clients)
			__sync_fetch_and_add(&pi->clients, -1);
		c->port_counted = 0;
	}
	if (conn_pending(c)) {
		if (newstate == TCP_CLOSE && (oldstate == TCP_ESTABLISHED || oldstate == TCP_CLOSE_WAIT))
			failure = HTTP_FAILURE_CONN_RESET;
		http_conn_end(c, failure, 0);
	}
	c->state = CONN_CLOSED;
	count_stat(STAT_CONNS_CLOSED);
}

/*
 * The event of a failure with no request read (refused, or reset unread):
 * reserved and filled but for the peer, for the caller to finish and
 * submit; NULL, counted, when the ring is full.
 */
static __always_inline struct http_event *unserved_event(__u32 failure, __u16 service_id,
							 __u16 local_port, __u16 remote_port)
{
	struct http_event *e = event_reserve();

	if (!e)
		return NULL;
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = HTTP_EVENT_REQUEST;
	e->failure = failure;
	e->flags = HTTP_EVENT_NO_REQUEST;
	e->req_start_ns = e->resp_start_ns = bpf_ktime_get_ns();
	e->service_id = service_id;
	e->local_port = local_port;
	e->remote_port = remote_port;
	return e;
}

/*
 * The request parser of c is at a message boundary: the next byte starts
 * a request. Not in a chunked body, whose end the parser does not follow
 * (P_UNKNOWN until the next request, or P_IDLE once a response to it
 * started, with PF_CHUNKED still set until then).
 */
static __always_inline bool between_requests(const struct conn *c)
{
	return c->req.state == P_IDLE && !(c->req.flags & PF_CHUNKED);
}

/*
 * The connection dies with bytes the service never read: a request it
 * never saw, and whose client gets a reset. tcp_close() resets a
 * connection closed with data unread, and a listener that closes resets
 * the connections still in its accept queue (inet_csk_listen_stop() ->
 * inet_child_forget() -> tcp_disconnect()); both move to TCP_CLOSE before
 * they drop the data, and neither has moved copied_seq, so rcv_nxt -
 * copied_seq still tells. In CLOSE_WAIT the peer's FIN takes one sequence
 * number of its own. A tracked connection counts only between messages:
 * unread bytes in the middle of a request belong to one already counted.
 */
static __always_inline bool unread_request_failed(struct sock *sk, const struct conn *c,
						  int oldstate)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	struct http_event *e;
	struct port_info *pi;
	__u32 port;
	__u16 service_id;

	if (!tp)
		return false;
	/*
	 * Or never read, and aborted from our side (a peer's reset sets
	 * sk_err before the state moves, tcp_reset(); tcp_disconnect() after):
	 * a connection in the accept queue of a listener that closes, its
	 * client's request about to be sent. It gets the reset.
	 */
	if (tp->rcv_nxt - tp->copied_seq <= (oldstate == TCP_CLOSE_WAIT ? 1u : 0u) &&
	    (c || oldstate != TCP_ESTABLISHED || sk->sk_err))
		return false;
	port = sock_local_port(sk);
	if (c) {
		if (c->state != CONN_TRACKED || c->client || !between_requests(c))
			return false;
		service_id = c->service_id;
	} else {
		/* never read at all: still in the accept queue, or accepted only */
		pi = bpf_map_lookup_elem(&ports, &port);
		if (!pi || !port_service(pi) || bpf_sk_storage_get(&ignored_socks, sk, NULL, 0))
			return false;
		service_id = port_service(pi) - 1;
	}
	e = unserved_event(HTTP_FAILURE_CONN_RESET, service_id, port,
			   bpf_ntohs(sk->__sk_common.skc_dport));
	if (!e)
		return true;
	e->sock_id = (__u64)sk;
	if (c) {
		e->cgroup_id = c->cgroup_id;
		e->tgid = c->tgid;
		__builtin_memcpy(e->remote_addr, c->remote_addr, sizeof(e->remote_addr));
		__builtin_memcpy(e->comm, c->comm, sizeof(e->comm));
	} else {
		sock_peer(sk, e->remote_addr);
	}
	event_submit(e);
	return true;
}

/* A server connection ends: how a reset answering its peer's data reads. */
static __always_inline void remember_gone(struct sock *sk, const struct conn *c, __u8 how)
{
	struct gone_key key = {
		.peer_port = bpf_ntohs(sk->__sk_common.skc_dport),
		.local_port = sock_local_port(sk),
	};

	if (c)
		__builtin_memcpy(key.peer, c->remote_addr, sizeof(key.peer));
	else
		sock_peer(sk, key.peer);
	bpf_map_update_elem(&gone_conns, &key, &how, BPF_ANY);
}

/* An outbound connect's outcome: established, or the error that ended it. */
static __always_inline void connect_done(struct conn *c, struct sock *sk, bool established)
{
	__u32 failure = HTTP_FAILURE_NONE;
	struct http_event *e;

	if (!c->connect_start_ns)
		return;
	if (!established) {
		switch (sk->sk_err) {
		case ECONNREFUSED:
			failure = HTTP_FAILURE_CONNECT_REFUSED;
			break;
		case ETIMEDOUT:
			failure = HTTP_FAILURE_CONNECT_TIMEOUT;
			break;
		case EHOSTUNREACH:
		case ENETUNREACH:
			failure = HTTP_FAILURE_CONNECT_UNREACHABLE;
			break;
		default:
			failure = HTTP_FAILURE_CONNECT_OTHER;
		}
	}
	e = event_reserve();
	if (!e)
		goto out;
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = HTTP_EVENT_CONNECT;
	e->flags = HTTP_EVENT_CLIENT;
	e->failure = failure;
	e->req_start_ns = c->connect_start_ns;
	e->resp_start_ns = bpf_ktime_get_ns();
	e->cgroup_id = c->cgroup_id;
	e->sock_id = c->sock_id;
	e->tgid = c->tgid;
	e->service_id = c->service_id;
	e->local_port = sk->__sk_common.skc_num;
	e->remote_port = c->remote_port;
	__builtin_memcpy(e->remote_addr, c->remote_addr, sizeof(e->remote_addr));
	__builtin_memcpy(e->comm, c->comm, sizeof(e->comm));
	event_submit(e);
out:
	c->connect_start_ns = 0;
}

/*
 * connect() by a process that serves a tracked service: its dependency.
 * Runs in the connecting process; the local port is not chosen yet.
 */
static __always_inline void connect_start(struct sock *sk)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u16 family = sk->__sk_common.skc_family, *id;
	struct conn *c;

	if ((family != AF_INET && family != AF_INET6) || sk->sk_protocol != IPPROTO_TCP ||
	    tgid == self_tgid)
		return;
	id = bpf_map_lookup_elem(&serving_tgids, &tgid);
	if (!id)
		id = bpf_map_lookup_elem(&service_by_tgid, &tgid);
	if (!id) {
		struct service_comm_key comm = {};

		bpf_get_current_comm(comm.comm, sizeof(comm.comm));
		id = bpf_map_lookup_elem(&service_by_comm, &comm);
	}
	if (!id)
		return;
	c = bpf_sk_storage_get(&conns, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (!c) {
		count_loss(LOSS_CONN_MAP_FULL);
		return;
	}
	__builtin_memset(c, 0, sizeof(*c));
	conn_init(c, sk, tgid, *id);
	c->client = 1;
	c->connect_start_ns = bpf_ktime_get_ns();
}

/* ---------------------------------------------------------------------- */
/* Failures before any request: refused connections, listen queue drops   */

/* Byte 13 of the TCP header (RFC 9293): the control bits. */
#define TCP_FLAGS_OFF	13
#define TCPF_SYN	0x02
#define TCPF_RST	0x04
#define TCPF_ACK	0x10

/*
 * A listener's drop count as sk_drops_read() reads it: Linux 6.18 can keep
 * a socket's drops per NUMA node instead (sk_drop_counters, used by UDP and
 * raw sockets so far); a TCP listener has none and counts in sk_drops.
 */
static __always_inline __u32 listener_drops(const struct sock *sk)
{
	if (bpf_core_field_exists(sk->sk_drop_counters)) {
		const struct numa_drop_counters *ndc = sk->sk_drop_counters;

		if (ndc)
			return ndc->drops0.counter + ndc->drops1.counter;
	}
	return sk->sk_drops.counter;
}

static __always_inline void listen_drops_add(__u16 service, __u32 n)
{
	__u32 key = service - 1;
	__u64 *v;

	if (!n || !service)
		return;
	v = bpf_map_lookup_elem(&listen_drops, &key);
	if (v)
		__sync_fetch_and_add(v, n);
}

/*
 * Why a listener's sk_drops: a full listen queue drops packets silently in
 * tcp_listendrop() (include/net/tcp.h), which bumps only sk->sk_drops and
 * LINUX_MIB_LISTENDROPS; no tracepoint fires there. Its callers:
 * tcp_conn_request() for a SYN (accept queue full, also counted as
 * LINUX_MIB_LISTENOVERFLOWS; SYN queue full without syncookies; no memory
 * or route for the request) and tcp_v4_syn_recv_sock() /
 * tcp_v6_syn_recv_sock() for the handshake's last ACK (accept queue full,
 * no memory for the child). The only other writer of a listener's sk_drops
 * is tcp_v4_rcv() / tcp_v6_rcv() at discard_and_relse: filter, xfrm, MD5/AO
 * and min TTL drops, and segments of a pending handshake that
 * tcp_check_req() turned into no child (a repeated SYN; the last ACK
 * above, which so counts twice). All of them are connection attempts the
 * service never saw. tcp:tcp_retransmit_synack is no substitute: it fires
 * for SYN-ACKs the server resends, not for the SYNs it drops. So these are
 * drops, not clients: a client whose SYN is dropped sends it again after
 * 1 s, 3 s, ... and each drop counts.
 *
 * The sweep reads every service listener's delta once a second; the close
 * (listener_stop) reads the last one, so a listener that goes away between
 * sweeps loses nothing. A listener's first sight by the sweep (one that
 * was listening before the agent started) sets the baseline.
 */
static __always_inline void listener_account(const struct sock *sk, const struct port_info *pi,
					     bool first_is_baseline)
{
	struct listen_state *l;
	__u32 now = listener_drops(sk);

	l = bpf_sk_storage_get(&listeners, (void *)sk, NULL, 0);
	if (!l) {
		if (!first_is_baseline)
			return;
		l = bpf_sk_storage_get(&listeners, (void *)sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
		if (!l)
			count_loss(LOSS_CONN_MAP_FULL);
		else
			l->drops = now;
		return;
	}
	listen_drops_add(port_service(pi), now - l->drops);
	l->drops = now;
}

/*
 * listen() on a port: learn whether a process-matched service owns it, and
 * start counting its drops from what the socket has now (0 for a new one).
 */
static __always_inline void listener_start(const struct sock *sk, struct port_info *pi)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct listen_state *l;
	__u16 id;

	if (!pi->service)
		pi->listen_service = tgid != self_tgid && service_of_process(tgid, &id) ? id + 1 : 0;
	if (!port_service(pi))
		return;
	/* a service's process from now on: the agent's sweeps enter its netns */
	id = port_service(pi) - 1;
	bpf_map_update_elem(&serving_tgids, &tgid, &id, BPF_ANY);
	l = bpf_sk_storage_get(&listeners, (void *)sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (!l) {
		count_loss(LOSS_CONN_MAP_FULL);
		return;
	}
	l->drops = listener_drops(sk);
}

/* The listener closes: its drops since the last sweep are counted now. */
static __always_inline void listener_stop(const struct sock *sk, const struct port_info *pi)
{
	if (port_service(pi))
		listener_account(sk, pi, false);
}

/*
 * A reset the kernel sends in answer to a segment for a service's port.
 *
 * To a bare SYN it is a refused connection. Nothing listening there is the
 * only case: a listener never resets a SYN (tcp_rcv_state_process()), an
 * established or TIME_WAIT socket answers one with an ACK (RFC 5961), so
 * it comes from tcp_v4_rcv() / tcp_v6_rcv()'s no_tcp_socket path, sk NULL
 * and reason SK_RST_REASON_NO_SOCKET. The test is on the SYN, not on that
 * enum, which is not ABI.
 *
 * To a segment carrying data it is a request the service will never see:
 * its connection is gone (the listener closed with the handshake still
 * pending, the server socket closed or in TIME_WAIT). The client gets the
 * reset instead of an answer: a connection_reset with no request read.
 *
 * Active resets (abort, linger 0, close with data unread) come with no
 * skb: unread_request_failed() counts the last of them.
 */
#define RESET_TH_LEN	(TCP_FLAGS_OFF + 1)	/* TCP header bytes looked at */
#define RESET_IP_LEN	24			/* IP header bytes: IPv6 saddr ends at 24 */

/* Bytes of TCP payload in the segment (no IPv6 extension headers assumed). */
static __always_inline __u32 segment_payload(const __u8 *th, const __u8 *ip)
{
	__u32 tcp_len = (th[12] >> 4) * 4, len;

	if ((ip[0] >> 4) == 4)
		len = ((__u32)ip[2] << 8 | ip[3]) - (ip[0] & 0xf) * 4;
	else
		len = (__u32)ip[4] << 8 | ip[5];
	return len > tcp_len ? len - tcp_len : 0;
}

/* The client of the segment, as events carry it: IPv4 saddr at 12, IPv6 at 8. */
static __always_inline void segment_peer(const __u8 *ip, __u8 peer[16])
{
	if ((ip[0] >> 4) == 4)
		ipv4_mapped(peer, &ip[12]);
	else
		__builtin_memcpy(peer, &ip[8], 16);
}

/*
 * Whether the request this data segment carried is counted already (see
 * gone_conns); if not, it is from now on: one per connection.
 */
static __always_inline bool reset_seen(const __u8 *th, const __u8 *ip)
{
	struct gone_key key = {
		.peer_port = (__u16)th[0] << 8 | th[1],
		.local_port = (__u16)th[2] << 8 | th[3],
	};
	__u8 counted = GONE_COUNTED, *how;

	segment_peer(ip, key.peer);
	how = bpf_map_lookup_elem(&gone_conns, &key);
	if (how && *how != GONE_IDLE)
		return true;
	bpf_map_update_elem(&gone_conns, &key, &counted, BPF_ANY);
	return false;
}

/*
 * The reset answered the segment whose TCP header starts with th, in an IP
 * packet whose header starts with ip: 1 if it failed a connection or a
 * request of a service, reported; 0 otherwise.
 */
static __always_inline int reset_answered(const __u8 *th, const void *ip_src, bool user)
{
	__u8 ip[RESET_IP_LEN] = {}, flags = th[TCP_FLAGS_OFF] & (TCPF_SYN | TCPF_ACK | TCPF_RST);
	struct http_event *e;
	struct port_info *pi;
	__u32 port, failure;
	__u16 service;

	port = (__u32)th[2] << 8 | th[3];
	pi = bpf_map_lookup_elem(&ports, &port);
	if (!pi || !(service = port_service(pi)))
		return 0;	/* not a service's port: the common case, one lookup */
	if (flags != TCPF_SYN && flags != TCPF_ACK)
		return 0;
	if (user ? bpf_probe_read_user(ip, sizeof(ip), ip_src) :
		   bpf_probe_read_kernel(ip, sizeof(ip), ip_src))
		return 0;
	if (flags == TCPF_SYN)
		failure = HTTP_FAILURE_REFUSED;
	else if (segment_payload(th, ip) && !reset_seen(th, ip))
		failure = HTTP_FAILURE_CONN_RESET;
	else
		return 0;	/* a late ACK or FIN, or a request already counted */

	e = unserved_event(failure, service - 1, port, (__u16)th[0] << 8 | th[1]);
	if (!e)
		return 1;
	segment_peer(ip, e->remote_addr);
	event_submit(e);
	return 1;
}

static __always_inline int on_reset_sent(const struct sk_buff *skb)
{
	__u8 th[RESET_TH_LEN];
	unsigned char *head;

	if (!skb)
		return 0;
	head = skb->head;
	if (bpf_probe_read_kernel(th, sizeof(th), head + skb->transport_header))
		return 0;
	reset_answered(th, head + skb->network_header, false);
	return 0;
}

/*
 * With this prototype (the reset reason, Linux 6.10's rstreason series),
 * the tracepoint also fires for resets sent with no socket: 19822a980e19
 * ("trace: tcp: fully support trace_tcp_send_reset"), same release. The
 * loader checks the prototype before loading.
 */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(slotap_tcp_send_reset, const struct sock *sk, const struct sk_buff *skb, int reason)
{
	return measuring ? on_reset_sent(skb) : 0;
}

/*
 * The listen drop sweep, run by the agent (a read of this iterator) every
 * second. iter/tcp walks the listening hash before the established one
 * (bpf_iter_tcp_batch()), so at the first socket that is not a listener
 * the walk is over for us: returning 1 makes bpf_iter_run_prog() answer
 * -EAGAIN, and bpf_seq_read() then ends the read with nothing printed, so
 * the agent's sweep costs its listeners, not every connection of the node.
 */
SEC("iter/tcp")
int slotap_listen_drops(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct port_info *pi;
	struct tcp_sock *tp;
	__u32 port;

	if (!skc)
		return 0;
	if (skc->skc_state != TCP_LISTEN)
		return 1;
	port = skc->skc_num;
	pi = bpf_map_lookup_elem(&ports, &port);
	if (!pi || !port_service(pi))
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (tp)
		listener_account(&tp->inet_conn.icsk_inet.sk, pi, true);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Retransmits: a signal per service                                      */

static __always_inline void on_retransmit(const struct sock *sk, const struct sk_buff *skb)
{
	struct service_key key = {};
	struct tcp_skb_cb *cb;
	struct conn *c;
	__u64 *v, zero = 0;
	__u16 segs = 0;

	c = bpf_sk_storage_get(&conns, (void *)sk, NULL, 0);
	if (!c || c->state != CONN_TRACKED || c->client)
		return;
	key.service_id = c->service_id;
	if (c->service_id == SERVICE_ID_AUTO)
		__builtin_memcpy(key.comm, c->comm, sizeof(key.comm));
	/* tcp_skb_pcount(): segments, as RetransSegs and tcp_info count them */
	cb = (struct tcp_skb_cb *)skb->cb;
	bpf_probe_read_kernel(&segs, sizeof(segs), &cb->tcp_gso_segs);
	v = bpf_map_lookup_elem(&retransmits, &key);
	if (!v) {
		/* EEXIST: another CPU made it first; the lookup decides */
		bpf_map_update_elem(&retransmits, &key, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&retransmits, &key);
		if (!v) {
			count_loss(LOSS_SERVICE_MAP_FULL);
			return;
		}
	}
	*v += segs ? segs : 1;	/* per-CPU slot */
}

/*
 * Fires after every retransmit attempt of a segment, timer, fast
 * retransmit or loss probe (__tcp_retransmit_skb()), with err 0 when the
 * segment went out. Not on the hot path of requests: a connection
 * without loss never gets here.
 */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(slotap_tcp_retransmit, const struct sock *sk, const struct sk_buff *skb, int err)
{
	if (!err && sk && skb && measuring)
		on_retransmit(sk, skb);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(slotap_sock_state, struct sock *sk, int oldstate, int newstate)
{
	__u32 port = sk->__sk_common.skc_num;
	struct port_info *pi;
	struct conn *c;

	/*
	 * Not every move out of LISTEN is a listener's: inet_csk_clone_lock()
	 * makes each new child from its listener and moves it LISTEN ->
	 * SYN_RECV. A listener itself only ever goes to CLOSE.
	 */
	if (newstate == TCP_LISTEN || (oldstate == TCP_LISTEN && newstate == TCP_CLOSE)) {
		pi = bpf_map_lookup_elem(&ports, &port);
		if (!pi)
			return 0;
		if (newstate == TCP_LISTEN) {
			__sync_fetch_and_add(&pi->listeners, 1);
			listener_start(sk, pi);
		} else {
			if (pi->listeners)
				__sync_fetch_and_add(&pi->listeners, -1);
			listener_stop(sk, pi);
		}
		return 0;
	}
	if (!measuring)
		return 0;
	if (newstate == TCP_SYN_SENT) {
		connect_start(sk);
		return 0;
	}
	if (oldstate == TCP_SYN_SENT && newstate == TCP_ESTABLISHED) {
		c = bpf_sk_storage_get(&conns, (void *)sk, NULL, 0);
		if (!c || !c->client)
			return 0;
		connect_done(c, sk, true);
		/* the port is chosen now: let its I/O through the port filter */
		c->local_port = port;
		pi = bpf_map_lookup_elem(&ports, &port);
		if (pi) {
			__sync_fetch_and_add(&pi->clients, 1);
			c->port_counted = 1;
		}
		return 0;
	}
	/* the server closing, or the connection dying; not the peer's FIN */
	if (newstate != TCP_FIN_WAIT1 && newstate != TCP_LAST_ACK && newstate != TCP_CLOSE)
		return 0;
	c = bpf_sk_storage_get(&conns, (void *)sk, NULL, 0);
	if (newstate == TCP_CLOSE && (oldstate == TCP_ESTABLISHED || oldstate == TCP_CLOSE_WAIT) &&
	    unread_request_failed(sk, c, oldstate))
		remember_gone(sk, c, GONE_COUNTED);
	else if (c && c->state == CONN_TRACKED && !c->client)
		remember_gone(sk, c, conn_pending(c) || !between_requests(c) ? GONE_MID_MESSAGE :
									       GONE_IDLE);
	if (!c)
		return 0;
	if (oldstate == TCP_SYN_SENT)
		connect_done(c, sk, false);
	conn_close(c, sk, oldstate, newstate);
	return 0;
}

/*
 * The request timeout sweep, run by the agent (a read of an iterator)
 * every second over every tracked connection: a request unanswered for
 * longer than request_timeout_ns is reported failed, once, even while its
 * connection stays open. It races with the connection's own CPU at worst
 * by one report: the sweep is rare and the marks are single bytes.
 */
/* bpf_loop callback: request resp_seq + index, if it waited too long. */
static long timeout_step(__u64 index, void *ctx)
{
	struct fail_walk *f = ctx;
	struct conn *c = f->conn;
	__u32 seq = c->resp_seq + (__u32)index, where;
	struct pending_req *r;

	if (index >= conn_pending(c))
		return 1;
	r = req_find(c, seq, &where);
	if (!r)
		return 0;	/* kept nowhere: its response or the close counts it */
	if (f->now - r->start_ns <= request_timeout_ns)
		return 1;	/* the ones after it started later still */
	http_emit_failure(c, seq, HTTP_FAILURE_TIMEOUT, f->now, 0);
	return 0;
}

static __always_inline void conn_sweep_timeouts(struct sock *sk)
{
	struct conn *c = bpf_sk_storage_get(&conns, sk, NULL, 0);
	struct fail_walk f = { .conn = c };
	__u32 n;

	if (!c || c->state != CONN_TRACKED || !conn_pending(c))
		return;
	f.now = bpf_ktime_get_ns();
	n = conn_pending(c);
	bpf_loop(n < FAIL_WALK_MAX ? n : FAIL_WALK_MAX, timeout_step, &f, 0);
}

/* Over the conns map itself: tracked connections only, in every netns. */
SEC("iter/bpf_sk_storage_map")
int slotap_request_timeouts(struct bpf_iter__bpf_sk_storage_map *ctx)
{
	if (ctx->sk && ctx->value)
		conn_sweep_timeouts(ctx->sk);
	return 0;
}

/*
 * The same sweep where the kernel refuses map element iterators (EPERM at
 * load, as some hardened kernels do): over every TCP socket of the network
 * namespace the iterator was created in; the agent creates one in each
 * namespace a serving process is in (user/netns.c). The loader picks one.
 */
SEC("iter/tcp")
int slotap_request_timeouts_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tcp_sock *tp;

	if (!skc || skc->skc_state == TCP_LISTEN)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (tp)
		conn_sweep_timeouts(&tp->inet_conn.icsk_inet.sk);
	return 0;
}

/* Not attached: run by the agent through BPF_PROG_TEST_RUN to read the
 * ring buffer's backlog, which libbpf 1.1 has no API for. */
SEC("raw_tp")
int slotap_ringbuf_backlog(void *ctx)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
}

/*
 * Not attached: run by the agent on each CPU with events staged
 * (BPF_PROG_TEST_RUN with BPF_F_TEST_RUN_ON_CPU, with preemption off on
 * that CPU) before each drain of the ring buffer, to flush them. A batch being written
 * by the program this run interrupted is left for the next flush. Returns
 * the events flushed.
 */
SEC("raw_tp")
int slotap_flush_events(void *ctx)
{
	struct event_batch *b;
	__u32 zero = 0, n;

	b = bpf_map_lookup_elem(&event_batches, &zero);
	if (!b || b->busy)
		return 0;
	n = b->n;
	batch_flush(b);
	return n;
}

/*
 * Test entry, never attached and not loaded by the agent: feeds one buffer
 * to the parser of a connection kept in test_conns, with the clock given by
 * the caller, through BPF_PROG_TEST_RUN (tests/unit/test_http_parser.c).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct conn);
} test_conns SEC(".maps");

#define TEST_RESET	2	/* dir value: start a fresh connection */

/*
 * Test entry, never attached: the refused-connection filter on a TCP and
 * an IP header in the caller's memory (tests/unit/test_http_parser.c).
 */
SEC("raw_tp")
int BPF_PROG(slotap_test_reset, __u64 th_addr, __u64 ip_addr)
{
	__u8 th[RESET_TH_LEN];

	if (bpf_probe_read_user(th, sizeof(th), (void *)th_addr))
		return -1;
	return reset_answered(th, (void *)ip_addr, true);
}

SEC("raw_tp")
int BPF_PROG(slotap_test_feed, __u64 dir, __u64 ubuf, __u64 len, __u64 now)
{
	struct io_args io = {};
	__u32 zero = 0;
	struct conn *c = bpf_map_lookup_elem(&test_conns, &zero);

	if (!c)
		return -1;
	if (dir == TEST_RESET) {
		__builtin_memset(c, 0, sizeof(*c));
		c->state = CONN_TRACKED;
		c->service_id = 7;
		c->local_port = 8080;
		c->remote_port = 40000;
		return 0;
	}
	if (c->state != CONN_TRACKED)
		return -1;
	/* a server's read or write of one buffer; no buffer: a sendfile */
	io.op = dir == DIR_REQUEST ? IO_READ : ubuf ? IO_WRITE : IO_SENDFILE;
	io.buf = ubuf;
	handle_io(c, &io, len, now);
	return c->state == CONN_TRACKED ? 0 : 1;
}
