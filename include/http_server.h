/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Types shared by the kernel side (bpf/) and the agent: the per-request event
 * that crosses the ring buffer, the loss counters, and the service filter.
 * Only fixed-width __u types and explicit padding: this header is compiled
 * both against vmlinux.h (BPF) and against libc (userspace).
 */
#ifndef SLOTAP_HTTP_SERVER_H
#define SLOTAP_HTTP_SERVER_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Bytes of the request path kept in the kernel (query string excluded). */
#define HTTP_PATH_MAX		64
/*
 * Bytes of a process name with its NUL, as the kernel's comm: the basename
 * of the process's executable (mm->exe_file), truncated as comm is. Not
 * the comm itself, which any process sets with prctl(PR_SET_NAME).
 */
#define EXE_NAME_LEN		16
/*
 * Requests in flight on one connection (HTTP/1.1 pipelining) whose details
 * the connection keeps in its own storage; deeper ones go to a shared map
 * of HTTP_PIPELINE_SPILL_MAX entries. Any depth stays framed: a request
 * neither place could keep is still counted, and its response, when it
 * comes, costs it as LOSS_PIPELINE_OVERFLOW. A power of 2.
 */
#define HTTP_PIPELINE_INLINE	4
#define HTTP_PIPELINE_SPILL_MAX	8192
/* Bytes of one syscall buffer segment the kernel parser looks at. */
#define HTTP_SCAN_MAX		4096
/* iovec entries of readv/writev/recvmsg/sendmsg the parser follows. */
#define HTTP_IOV_MAX		4

/*
 * Request events a CPU stages before they cross the ring buffer as one
 * record: a ring buffer record is only HTTP_EVENT_BATCH_MAX events or fewer,
 * back to back (see event_stage() in bpf/events.bpf.h).
 */
#define HTTP_EVENT_BATCH_MAX	16

/* Processes remembered as serving tracked connections (serving_tgids). */
#define SERVING_TGIDS_MAX	4096
/*
 * Executable files of services matched by path (service_by_exe): the
 * current file of each configured path, and a few it replaced (see
 * user/services.c).
 */
#define SERVICE_EXES_MAX	4096
/* Cgroups of services matched by cgroup (service_by_cgroup). */
#define SERVICE_CGROUPS_MAX	4096
/*
 * A process matches a configured cgroup it is in, or one of its ancestors
 * down to this level below the root (bpf_get_current_ancestor_cgroup_id):
 * a configured cgroup deeper than that matches the processes directly in
 * it only.
 */
#define CGROUP_MATCH_LEVELS	8

/* Service id stored with a connection when no configured service matched
 * but the agent tracks every listener (no services in the config). */
#define SERVICE_ID_AUTO		0xffffu

/*
 * The protocol a connection speaks, told from its first bytes (see
 * bpf/protocol.bpf.h): http_event.protocol, and which metric family the
 * agent sends the event to, which reads operation, resource and status
 * as the protocol defines them (HTTP: method, path, status code).
 */
enum slotap_protocol {
	PROTO_NONE = 0,		/* not classified (a failure before any request) */
	PROTO_HTTP1,
	PROTO_HTTP2,		/* framed in the kernel, records on h2_records (h2_record.h) */
	PROTO_GRPC,		/* gRPC over HTTP/2: set by the agent only */
	PROTO_REDIS,		/* RESP2, RESP3: include/redis.h */
	PROTO_MAX,
};

/* What a status says about the request, protocol-neutral: http_event.status_class. */
enum status_class {
	STATUS_CLASS_NONE = 0,		/* no status: a failure, or no response */
	STATUS_CLASS_OK,		/* answered (HTTP 1xx-3xx) */
	STATUS_CLASS_CLIENT_ERROR,	/* the client's fault (HTTP 4xx) */
	STATUS_CLASS_SERVER_ERROR,	/* the server's fault (HTTP 5xx) */
	STATUS_CLASS_INVALID,		/* not a status the protocol defines */
	STATUS_CLASS_MAX,
};

enum http_method {
	/* any other token RFC 9110 allows (PROPFIND, PURGE, ...): "_OTHER" */
	HTTP_METHOD_OTHER = 0,
	HTTP_METHOD_GET,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_POST,
	HTTP_METHOD_PUT,
	HTTP_METHOD_DELETE,
	HTTP_METHOD_PATCH,
	HTTP_METHOD_OPTIONS,
	HTTP_METHOD_CONNECT,
	HTTP_METHOD_TRACE,
	HTTP_METHOD_MAX,
};

/* http_event.flags */
enum http_event_flag {
	HTTP_EVENT_PATH_TRUNCATED = 1 << 0,	/* path longer than HTTP_PATH_MAX */
	HTTP_EVENT_RESP_SIZE_KNOWN = 1 << 1,	/* resp_bytes from Content-Length */
	/* The traced process is the client: an outbound request or connect. */
	HTTP_EVENT_CLIENT = 1 << 2,
	/* A response to a request already reported with HTTP_FAILURE_TIMEOUT. */
	HTTP_EVENT_LATE = 1 << 3,
	/* A failure before any request (HTTP_FAILURE_REFUSED): no method, path
	 * or route; only the service, the ports and the peer are known. */
	HTTP_EVENT_NO_REQUEST = 1 << 4,
	/* A request that waits on purpose (Redis's BLPOP, XREAD BLOCK, ...). */
	HTTP_EVENT_BLOCKING = 1 << 5,
};

/* http_event.kind */
enum http_event_kind {
	/* A request: answered (failure 0) or failed (reason in failure). */
	HTTP_EVENT_REQUEST = 0,
	/* An outbound TCP connect: established (failure 0) or failed. */
	HTTP_EVENT_CONNECT,
};

/* Why a request or connect failed: http_event.failure. */
enum http_failure {
	HTTP_FAILURE_NONE = 0,
	HTTP_FAILURE_CONN_RESET,	/* request: connection reset before any response */
	HTTP_FAILURE_CONN_CLOSED,	/* request: connection closed before any response */
	HTTP_FAILURE_TIMEOUT,		/* request: no response within the timeout */
	HTTP_FAILURE_CONNECT_REFUSED,	/* connect: answered by a reset (nothing listens) */
	HTTP_FAILURE_CONNECT_TIMEOUT,	/* connect: no answer to the SYNs */
	HTTP_FAILURE_CONNECT_UNREACHABLE, /* connect: host or network unreachable */
	HTTP_FAILURE_CONNECT_OTHER,	/* connect: any other error, or closed first */
	/* server: a SYN to the service's port answered by a reset (nothing listens) */
	HTTP_FAILURE_REFUSED,
	/* server: a SYN or handshake ACK the listener dropped (queue full); never
	 * an event: counted by the agent's listener sweep, see listen_drops */
	HTTP_FAILURE_LISTEN_OVERFLOW,
	/* HTTP/2, set by the agent: the server reset the stream before its response ended */
	HTTP_FAILURE_STREAM_RESET,
	/* HTTP/2: the client reset the stream before any response */
	HTTP_FAILURE_STREAM_CANCELLED,
	/*
	 * HTTP/2: a stream above the last-stream-id of the server's graceful
	 * GOAWAY (NO_ERROR): never processed, which a client may retry as a new
	 * request; counted, no SLO event (http_failure__counts_in_slos)
	 */
	HTTP_FAILURE_GOAWAY,
	/* HTTP/2: the kernel lost the connection's framing with the stream open */
	HTTP_FAILURE_UNFRAMED,
	/* server: a TLS connection closed after its last handshake call failed,
	 * no request read (docs/tls.md) */
	HTTP_FAILURE_TLS_HANDSHAKE,
	/* HTTP/2: a stream above the last-stream-id of a GOAWAY with an error code */
	HTTP_FAILURE_GOAWAY_ERROR,
	HTTP_FAILURE_MAX,
};

/*
 * One request, emitted once: when its response starts, or when it fails
 * (failure != 0: reset, closed, timed out). With kind HTTP_EVENT_CONNECT,
 * one outbound connect: req_start_ns is the connect, resp_start_ns its
 * outcome, and the HTTP fields are 0.
 */
struct http_event {
	__u64 req_start_ns;	/* end of the socket operation that moved the first request byte */
	__u64 resp_start_ns;	/* end of the one that moved the first response byte; failure time */
	__u64 cgroup_id;
	__u64 sock_id;		/* kernel address of the struct sock: unique while it lives */
	__u64 req_bytes;	/* request head plus declared body */
	__u64 resp_bytes;	/* response head plus declared body, see HTTP_EVENT_RESP_SIZE_KNOWN */
	__u32 tgid;
	/* requests this event stands for (Redis: docs/redis.md); 0 reads as 1 */
	__u32 count;
	__u16 service_id;	/* index into the config's services, or SERVICE_ID_AUTO */
	__u16 local_port;
	__u16 remote_port;
	__u16 status;		/* 0 when failure != 0 */
	__u8 operation;		/* HTTP: enum http_method */
	__u8 resource_len;
	__u8 flags;		/* enum http_event_flag */
	__u8 kind;		/* enum http_event_kind */
	__u8 failure;		/* enum http_failure */
	__u8 protocol;		/* enum slotap_protocol */
	__u8 status_class;	/* enum status_class */
	__u8 __pad;
	__u8 remote_addr[16];	/* the peer, IPv6 or IPv4-mapped: the server of a client event */
	char exe_name[EXE_NAME_LEN];	/* the process's executable's name, see EXE_NAME_LEN */
	char resource[HTTP_PATH_MAX];	/* HTTP: the path's first bytes, no query */
};

/*
 * A CPU's staged request events (the per-CPU map event_batches). The agent
 * reads n to flush only the CPUs that have some.
 */
struct event_batch {
	__u32 n;		/* events staged */
	__u32 busy;		/* a program is writing ev[]: nested writers and the flush keep off */
	struct http_event ev[HTTP_EVENT_BATCH_MAX];
};

/*
 * Everything the kernel side could not turn into an event. Summed over CPUs
 * and exported as slotap_events_lost_total{reason} (see user/stats.c).
 */
enum http_loss_reason {
	LOSS_RINGBUF_FULL = 0,		/* event reserve failed */
	LOSS_CONN_MAP_FULL,		/* no memory for a new connection's state */
	LOSS_NOT_HTTP,			/* connection did not start with an HTTP/1.x request */
	/* a response that did not start with a status line: its request */
	LOSS_UNPARSABLE_RESPONSE,
	/* a request in flight when a buffer held more heads than the parser follows */
	LOSS_TRUNCATED,
	/* a request in flight that neither the connection nor the spill map kept */
	LOSS_PIPELINE_OVERFLOW,
	LOSS_UNMATCHED_RESPONSE,	/* response with no request waiting for it */
	LOSS_SERVICE_MAP_FULL,		/* no room for a service's retransmit counter */
	/* a request, after the connection's first, whose request line is not HTTP */
	LOSS_UNPARSABLE_REQUEST,
	/*
	 * a request in flight when its connection's framing was lost (a broken
	 * chunked body, a response that is not one): the connection is given up
	 */
	LOSS_UNFRAMED,
	/* an HTTP/2 record the h2_records ring buffer had no room for */
	LOSS_H2_RINGBUF_FULL,
	/*
	 * an HTTP/2 connection whose framing the kernel lost (a frame header
	 * it could not see or read, a malformed frame): given up, its streams
	 * failed by the agent
	 */
	LOSS_H2_UNFRAMED,
	/*
	 * TLS: plaintext a read returned that was not parsed (a second read
	 * before the first was, the pending map full, the call map full): its
	 * connection is given up, its requests in flight counted so
	 */
	LOSS_TLS_UNREAD,
	/*
	 * TLS: a connection whose plaintext no probed library gave (Go's
	 * crypto/tls, GnuTLS, rustls, OpenSSL over memory BIOs, a process not
	 * looked at yet): counted once at its close, its requests unknown
	 */
	LOSS_TLS_NO_PLAINTEXT,
	/*
	 * TLS: a connection whose plaintext is HTTP/2 (ALPN h2), which the
	 * TLS path does not feed the HTTP/2 framer yet: counted once, not
	 * followed
	 */
	LOSS_TLS_HTTP2,
	LOSS_REASON_MAX,
};

/* Gauges and counters that are not losses. */
enum http_stat {
	STAT_CONNS_OPENED = 0,		/* server-side connections of selected services */
	STAT_CONNS_CLOSED,		/* tracked connections closed */
	STAT_EVENTS_SUBMITTED,
	STAT_WAKEUPS,			/* forced consumer wakeups */
	STAT_H2_RECORDS,		/* HTTP/2 records sent on h2_records */
	/* HTTP/2 records that dropped items for lack of room (H2_REC_ITEMS_LOST) */
	STAT_H2_ITEMS_LOST,
	STAT_MAX,
};

/* Value of the per-port array map. */
struct port_info {
	__u32 listeners;	/* sockets listening on the port */
	__u32 clients;		/* tracked outbound connections from the port */
	__u16 service;		/* configured service id + 1; 0: none */
	/*
	 * Service id + 1 of the process-matched service last seen listening
	 * on the port (at listen(), or serving a connection accepted on it);
	 * kept after its listener closes, so that refused connections and
	 * listen drops while it restarts are still its own. 0: none, or the
	 * port was last listened on by a process of no service.
	 */
	__u16 listen_service;
	__u16 __pad[2];
};

/*
 * Key of the per-CPU retransmit counters: a configured service by id
 * (exe_name zero), or, with no services configured, a discovered one by
 * its executable's name.
 */
struct service_key {
	char exe_name[EXE_NAME_LEN];
	__u16 service_id;
	__u16 __pad;
};

/* Key of the service filter by executable name (service_by_exe_name). */
struct exe_name_key {
	char name[EXE_NAME_LEN];
};

/*
 * Key of the service filter by executable file (service_by_exe): the
 * kernel address of the file's struct inode, which the agent learns from
 * a descriptor it holds open on the configured path (so that the inode,
 * and its address, cannot be freed and reused while the key is in the
 * map). Not device and inode number: on btrfs every subvolume numbers its
 * inodes afresh under one superblock, so those two are not unique.
 */
struct exe_key {
	__u64 inode;
};

#endif /* SLOTAP_HTTP_SERVER_H */
