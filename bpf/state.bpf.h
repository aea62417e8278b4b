/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Layer 1, state: the kernel side's own types. A tracked connection
 * (struct conn) is its identity, the requests it has in flight (numbered,
 * for pairing; see conn.bpf.h) and each protocol's parser state. Uses
 * settings and the protocols' state types.
 */
#ifndef SLOTAP_STATE_BPF_H
#define SLOTAP_STATE_BPF_H

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

/*
 * Or'ed into the dir a module's _feed() gets: ubuf is not an address but
 * an offset into the head of this CPU's tls_scratch[0], read with capture_load()
 * (the plaintext of a TLS read, copied when SSL_read returned: the
 * application may have changed its buffer since). Never set for an
 * address a process gave.
 */
#define FEED_FROM_COPY	0x200

/* pending_req.flags beside HTTP_EVENT_PATH_TRUNCATED and HTTP_EVENT_LATE */
/*
 * Counted as a loss, or done with (answered, failed with the connection):
 * its response emits nothing, and a bad rest of its head costs nothing more.
 */
#define REQ_DISCARD	0x40
#define REQ_PARSING	0x80	/* conn.cur: its head is being parsed, not yet spilled */
#define REQ_EVENT_FLAGS	(HTTP_EVENT_PATH_TRUNCATED | HTTP_EVENT_LATE | HTTP_EVENT_BLOCKING)

struct pending_req {
	__u64 start_ns;
	__u64 head_bytes;
	__u64 body_bytes;
	__u32 seq;		/* the connection's request number (conn.req_seq) */
	__u8 operation;		/* the protocol's: enum http_method for HTTP */
	__u8 resource_len;
	__u8 flags;		/* HTTP_EVENT_PATH_TRUNCATED, HTTP_EVENT_LATE, REQ_* */
	__u8 __pad;
	char resource[HTTP_PATH_MAX];	/* HTTP: the path, without the query */
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
	__u8 proto;		/* enum slotap_protocol; 0 until its first request bytes */
	/* its module gave up on responses: every request is lost as it starts */
	__u8 responses_given_up;
	/* the answer conn_emit_response() reports, filled by the module */
	__u16 resp_status;
	__u64 resp_bytes;
	__u8 resp_class;	/* enum status_class */
	__u8 resp_flags;	/* HTTP_EVENT_RESP_SIZE_KNOWN */
	/* client reads seen while no module took it: HTTP/2 mid-stream (http2.bpf.h) */
	__u8 undecided;
	__u8 tls;		/* TLS_ bits: ciphertext, plaintext comes from uprobes */
	__u8 __pad[4];
	__u64 connect_start_ns;	/* client: connect() began, 0 once reported */
	__u8 remote_addr[16];	/* IPv6 or IPv4-mapped */
	char exe_name[EXE_NAME_LEN];	/* see EXE_NAME_LEN */
	/*
	 * Each protocol module's parser state, one at a time; before the
	 * requests, next to the fields every socket operation reads.
	 */
	union {
		struct {	/* PROTO_HTTP1 */
			struct parser req;
			struct parser resp;
		};
	};
	struct pending_req q[HTTP_PIPELINE_INLINE];
	struct pending_req cur;	/* a deeper request while its head is parsed */
	/*
	 * PROTO_HTTP2's framing. Not in the union: laid out there it moves
	 * the fields after it and clang 14 then spills one more slot in
	 * http1_fast_start, past the socket programs' 512-byte stack.
	 */
	union {
		struct h2_state h2;
		struct {	/* PROTO_REDIS: here too, for the same reason */
			struct resp_parser redis_req;
			struct resp_parser redis_resp;
		};
	};
};

/* kmalloc-1k with the socket storage element's own head (~80 bytes) */
_Static_assert(sizeof(struct conn) <= 896, "struct conn stays in kmalloc-1k");

/*
 * What a protocol module's feed returns: go on, or drop the connection
 * (no longer followed) for a reason.
 */
enum scan_drop {
	SCAN_KEEP = 0,
	SCAN_DROP_NOT_HTTP,	/* not the protocol after all: counted as LOSS_NOT_HTTP */
	SCAN_DROP_UPGRADED,	/* switched protocols: measured so far, not followed */
	SCAN_DROP_LOST,		/* framing lost: its requests in flight already counted */
};

struct io_args {
	__u64 buf;		/* buffer, iovec array or msghdr, by op */
	__u32 op;		/* enum io_op */
	__u32 iovcnt;		/* readv/writev */
};

/* A connection, as the TLS maps key it: its socket and its conn's gen. */
struct tls_conn_key {
	__u64 sk;
	__u32 gen;
	__u32 __pad;
};

enum tls_call_kind {
	TLS_CALL_READ = 0,	/* SSL_read, SSL_read_ex */
	TLS_CALL_WRITE,		/* SSL_write, SSL_write_ex */
	TLS_CALL_HANDSHAKE,	/* SSL_do_handshake */
};

/*
 * A call into the TLS library in progress on a thread (tls_calls, by
 * pid_tgid), recorded at its entry, bound to its connection by a socket
 * operation inside it (docs/tls.md).
 */
struct tls_call {
	__u64 ssl;		/* the SSL *, to remember the binding by */
	__u64 buf;		/* the plaintext buffer */
	__u64 num;		/* write: its length */
	__u64 readbytes;	/* SSL_read_ex: where the length goes; SSL_write_ex: written */
	/* the connection, once bound; also the key its reads are looked up by */
	struct tls_conn_key conn;
	/*
	 * write: bytes of earlier calls fed and not yet written (tls_bound's
	 * write_ahead at the entry), and the bytes this one fed
	 */
	__u64 ahead;
	__u64 fed_bytes;
	/* write: buf as the application passed it (HTTP/2's walk: tls_h2_plain) */
	__u64 app_buf;
	__u8 kind;		/* enum tls_call_kind */
	__u8 fed;		/* write: nothing more of it to feed */
	__u8 __pad[6];
};

/* conn.tls */
#define TLS_CIPHERTEXT	0x1	/* its client's first bytes were a TLS handshake record */
#define TLS_PROBED	0x2	/* a probed SSL call did a socket operation on it */
#define TLS_COUNTED	0x4	/* closed with no plaintext: counted once */
/* a copy of it in tls_h2, for the uprobes: HTTP/2, or not classified yet */
#define TLS_H2_COPY	0x8

struct tls_ssl_key {
	__u64 ssl;
	__u32 tgid;
	__u32 __pad;
};

/*
 * Where an SSL * was last seen (tls_ssl, by tgid and SSL *): its
 * connection, and how many bytes its reads will bring that the protocol
 * skips by count (a body's rest) as of the last parse, which the
 * uretprobe needs no copy of.
 */
struct tls_bound {
	__u64 sk;
	__u32 gen;
	__u32 __pad;
	__u64 skippable;
	/*
	 * Plaintext of SSL_write calls fed to the parser and not yet accepted
	 * (a partial write, WANT_WRITE after a partial send): the calls that
	 * write it again feed it no more.
	 */
	__u64 write_ahead;
};

/*
 * How much of a connection's TLS reads is kept as SSL_read returned them:
 * request heads beyond it are parsed from the application's buffer, or
 * counted. An entry of tls_pending stays within a 2 KiB allocation.
 */
#define TLS_HEAD_COPY	1536

/*
 * Plaintext SSL_read returned, not parsed yet: the reads since the last
 * parse of the connection (tls_pending, by conn), parsed at its next
 * socket operation. In stream order: lead bytes by count (the rest of a
 * body: the protocol skips them), then the copy (head: the following
 * bytes, as returned, whatever buffers they went to: applications rewrite
 * a head in place once they parsed it, as nginx puts a NUL after each
 * header name and value), then len bytes at buf (the rest of a read the
 * copy had no room for, in the application's buffer), then skip bytes by
 * count (later reads into other buffers, which may have been reused).
 */
struct tls_read {
	__u64 lead;
	__u64 body_left;	/* skippable bytes still to come (struct tls_bound) */
	__u64 buf;
	__u64 len;
	__u64 skip;
	__u64 t;		/* when the first bytes past lead returned: a request's start */
	__u32 copied;		/* bytes in head */
	__u32 __pad;
	__u8 head[TLS_HEAD_COPY];
};

/* conn.state; the zero of fresh storage is CONN_NEW */

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

struct scan_buf {
	/*
	 * The cursor lives in map memory, which the verifier does not track:
	 * kept on the stack, its exact value would make the verifier walk
	 * every bpf_loop iteration ("8193 jumps is too complex").
	 */
	__u32 pos;
	__u32 len;
	__u32 clen_at;		/* http1_head_scan(): where a Content-Length value starts */
	__u32 __pad;
	union {
		/* + HTTP_PATH_MAX: a path copied in bulk may overrun the data */
		__u8 data[HTTP_SCAN_MAX + HTTP_PATH_MAX];
		__u64 words[(HTTP_SCAN_MAX + HTTP_PATH_MAX) / 8];	/* aligned word loads */
	};
};

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

/*
 * Listeners of services: what sk_drops was when last looked at, so that
 * the sweep and the close count each drop once. In the listener's own
 * storage: gone with it.
 */
struct listen_state {
	__u32 drops;
	__u32 __pad;
};

#endif /* SLOTAP_STATE_BPF_H */
