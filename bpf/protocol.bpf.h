/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Layer 5, protocols: the interface every protocol module implements, and
 * the dispatch from a socket operation to the module of its connection.
 * A module, for its PROTO_ id:
 *   <proto>_classify(w, n): whether a connection whose first request
 *       bytes are the n (<= 8) bytes of w speaks it;
 *   <proto>_io_fast(c, dir, io, ret, now): optional shortcut for a whole
 *       socket operation (true: done);
 *   <proto>_feed(c, dir, ubuf, len, now): bytes of one user buffer, in
 *       direction dir (DIR_REQUEST: what the client sent); returns
 *       SCAN_KEEP or why the connection must be dropped;
 *   <proto>_skip(c, dir, n): n bytes moved that cannot be read (sendfile,
 *       iovecs beyond HTTP_IOV_MAX); returns as _feed;
 *   <proto>_io_done(c, dir): the socket operation is over;
 *   <proto>_between_requests(c): the client's stream is at a message
 *       boundary (for a reset's unread bytes, transport.bpf.h);
 *   <proto>_skippable(c, dir): bytes of dir's stream it will skip by
 *       count before it needs to see any (a body's rest: TLS reads need
 *       no copy of them, tls.bpf.h).
 * dir may carry FEED_FROM_COPY in _feed(): ubuf is then an offset to
 * read with capture_load().
 * and reports requests with conn_req_push / conn_emit_response / conn_end.
 * Adding one: a PROTO_ id in include/, its state in struct conn, its
 * module header, and a case in each dispatch below. Uses every layer
 * below.
 */
#ifndef SLOTAP_PROTOCOL_BPF_H
#define SLOTAP_PROTOCOL_BPF_H

/* The protocol a new connection speaks, from the first bytes its client sent. */
static __always_inline __u8 proto_classify(__u64 w, __u32 n)
{
	/* first, inlined: w is not kept across http1_classify()'s call */
	if (redis_classify(w, n))
		return PROTO_REDIS;
	/* before HTTP/1, which would take the preface's PRI for a method */
	if (http2_classify(w, n))
		return PROTO_HTTP2;
	if (http1_classify(w, n))
		return PROTO_HTTP1;
	return PROTO_NONE;
}

static __always_inline bool proto_io_fast(struct conn *c, __u32 dir, const struct io_args *io,
					  long ret, __u64 now)
{
	switch (c->proto) {
	case PROTO_HTTP1:
		return http1_io_fast(c, dir, io, ret, now);
	}
	return false;
}

static __always_inline int proto_feed(struct conn *c, __u32 dir, __u64 ubuf, __u64 len, __u64 now)
{
	switch (c->proto) {
	case PROTO_HTTP1:
		return http1_feed(c, dir, ubuf, len, now);
	}
	return SCAN_KEEP;
}

static __always_inline int proto_skip(struct conn *c, __u32 dir, __u64 n)
{
	switch (c->proto) {
	case PROTO_HTTP1:
		return http1_skip(c, dir, n);
	}
	return SCAN_KEEP;
}

static __always_inline int proto_io_done(struct conn *c, __u32 dir)
{
	switch (c->proto) {
	case PROTO_HTTP1:
		return http1_io_done(c, dir);
	}
	return SCAN_KEEP;
}

/* Bytes of dir's stream the module skips by count before it needs to see one. */
static __always_inline __u64 proto_skippable(const struct conn *c, __u32 dir)
{
	switch (c->proto) {
	case PROTO_HTTP1:
		return http1_skippable(c, dir);
	}
	return 0;
}

static __always_inline bool proto_between_requests(const struct conn *c)
{
	switch (c->proto) {
	case PROTO_HTTP1:
		return http1_between_requests(c);
	case PROTO_HTTP2:
		return http2_between_requests(c);
	case PROTO_REDIS:
		return redis_between_requests(c);
	}
	return !conn_pending(c);
}

/*
 * A server's send that needs no look at all: the rest of a response whose
 * end does not matter, no request waiting. The hot path's early exit,
 * before the syscall's registers are read.
 */
static __always_inline bool proto_send_ignorable(const struct conn *c)
{
	switch (c->proto) {
	case PROTO_HTTP1:
		return http1_send_ignorable(c);
	}
	return false;
}

/* An iovec array of ret bytes: each of the first HTTP_IOV_MAX buffers, then the rest by count. */
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
		drop = proto_feed(c, dir, (__u64)v[i].iov_base, n, now);
		if (drop)
			return drop;
		bytes -= n;
	}
	return bytes ? proto_skip(c, dir, bytes) : SCAN_KEEP;
}

/* A server reads requests and writes responses; a client the reverse. */
static __always_inline __u32 io_direction(const struct conn *c, const struct io_args *io)
{
	return (io->op >= IO_WRITE) != !!c->client ? DIR_RESPONSE : DIR_REQUEST;
}

/*
 * A connection not classified yet: its first bytes from the client say
 * which protocol it speaks. Bytes the other way before them are not
 * looked at. A client's read that no module takes may be HTTP/2 seen
 * mid-stream (a connection older than the agent): up to
 * H2_MIDSTREAM_READS of them are judged before the connection counts as
 * not_http and is dropped. Returns false when it is not followed (yet).
 */
static __always_inline bool conn_classify_protocol(struct conn *c, __u32 dir,
						   const struct io_args *io, long ret)
{
	__u64 w = 0;
	__u32 n;

	if (dir != DIR_REQUEST || c->tls)
		return false;	/* TLS: its plaintext is classified in tls.bpf.h */
	n = capture_first_bytes(io, ret, &w);
	if (!n)
		return false;	/* from a file, or unreadable: the next one */
	/*
	 * a TLS handshake record (16 03 0x): ciphertext, its plaintext comes
	 * from uprobes; as far as a short first read shows, so that where the
	 * reads split does not change what is counted
	 */
	if (tls_enabled && (w & 0xff) == 0x16 && (n < 2 || ((w >> 8) & 0xff) == 0x03) &&
	    (n < 3 || ((w >> 16) & 0xff) <= 4)) {
		c->tls |= TLS_CIPHERTEXT;
		return false;
	}
	c->proto = proto_classify(w, n);
	if (c->proto == PROTO_HTTP2)
		h2_open(c, 0);
	if (c->proto)
		return true;
	if (h2_midstream(io->buf, io->op, ret)) {
		c->proto = PROTO_HTTP2;
		h2_open(c, 1);
		return true;
	}
	if (++c->undecided < H2_MIDSTREAM_READS)
		return false;
	count_loss(LOSS_NOT_HTTP);
	conn_drop(c);
	return false;
}

/*
 * A socket operation of a connection that is not HTTP/1 (yet): its
 * classification, and the whole operation for a module that walks it
 * itself (HTTP/2). Global: off the socket programs' own stack, which
 * HTTP/1's path fills. 1 when done with the operation, 0 for HTTP/1.
 */
__noinline int proto_io_other(struct conn *c, const struct io_args *io, long ret, __u64 now)
{
	__u32 dir;

	if (!c || !io)
		return 1;
	dir = io_direction(c, io);
	if (!c->proto && !conn_classify_protocol(c, dir, io, ret))
		return 1;
	switch (c->proto) {
	case PROTO_HTTP2:
		return http2_io_fast(c, dir, io, ret, now);
	case PROTO_REDIS:
		return redis_io(c, io, ret, now);
	}
	return 0;
}

/*
 * The tracked connection c moved ret bytes in the syscall described by io:
 * to its protocol module. now is 0, for the clock to be read when a
 * message starts, except in tests.
 */
static __always_inline void handle_io(struct conn *c, const struct io_args *io, long ret,
					 __u64 now)
{
	__u32 dir;
	int drop = SCAN_KEEP;

	if (c->proto != PROTO_HTTP1 && proto_io_other(c, io, ret, now))
		return;
	dir = io_direction(c, io);
	if (proto_io_fast(c, dir, io, ret, now))
		return;

	switch (io->op) {
	case IO_READ:
	case IO_WRITE:
		drop = proto_feed(c, dir, io->buf, ret, now);
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
		drop = proto_skip(c, dir, ret);
		break;
	}
	if (!drop)
		drop = proto_io_done(c, dir);
	if (drop == SCAN_DROP_UPGRADED)
		conn_end(c, 0, LOSS_UNFRAMED);	/* anything pipelined behind it */
	if (drop)
		conn_drop(c);
}

#endif /* SLOTAP_PROTOCOL_BPF_H */
