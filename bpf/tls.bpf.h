/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Layer 6, capture sources: a socket operation (the tracepoints), and the
 * TLS library's plaintext (uprobes on SSL_read/SSL_write, docs/tls.md),
 * both to the protocol dispatch. A uprobe cannot reach a connection's
 * socket storage, so the uprobes record what the library moved and when,
 * and the socket tracepoints, which own the connection, parse it. Uses
 * protocol and every layer below.
 */
#ifndef SLOTAP_TLS_BPF_H
#define SLOTAP_TLS_BPF_H

/*
 * Plaintext of a TLS connection to its protocol module, as a read or a
 * write of one buffer; now as handle_io(). Global: verified once, however
 * many places feed.
 */
static __always_inline int tls_feed(struct conn *c, __u32 op, __u64 buf, __u64 len, __u64 skip,
				    __u64 now)
{
	__u32 dir;
	int drop;

	if (!c || !len || len > 0x7fffffff || c->state != CONN_TRACKED)
		return 0;
	/*
	 * handle_io() for one buffer, without its io_args, iovec arrays or
	 * shortcut: the socket programs' stack, less the parser's call chain,
	 * has no room for them twice.
	 */
	dir = (op >= IO_WRITE) != !!c->client ? DIR_RESPONSE : DIR_REQUEST;
	if (!c->proto) {
		__u64 w = 0;
		__u32 n = len < sizeof(w) ? len : sizeof(w);

		if (dir != DIR_REQUEST || bpf_probe_read_user(&w, n, (void *)buf))
			return 0;
		c->proto = proto_classify(w, n);
		if (!c->proto) {
			count_loss(LOSS_NOT_HTTP);
			conn_drop(c);
			return 0;
		}
	}
	drop = proto_feed(c, dir, buf, len, now);
	if (!drop && skip)
		drop = proto_skip(c, dir, skip);
	if (!drop)
		drop = proto_io_done(c, dir);
	if (drop == SCAN_DROP_UPGRADED)
		conn_end(c, 0, LOSS_UNFRAMED);
	if (drop)
		conn_drop(c);
	return 0;
}

/* The read the connection's previous SSL_read returned, if not parsed yet. */
static __always_inline void tls_drain(struct conn *c, const struct tls_conn_key *k)
{
	struct tls_read *r;
	__u64 buf, len, t, skip;

	r = bpf_map_lookup_elem(&tls_pending, k);
	if (!r)
		return;
	buf = r->buf;
	len = r->len;
	t = r->t;
	skip = r->skip;
	bpf_map_delete_elem(&tls_pending, k);
	tls_feed(c, IO_READ, buf, len, skip, t);
}

/*
 * Remembers which connection an SSL * is on, for its calls that do no
 * socket operation. Global: its keys stay off the socket programs' stack,
 * which the parser's call chain needs.
 */
__noinline int tls_bind(__u64 ssl, __u32 tgid, __u64 sk, __u32 gen)
{
	struct tls_ssl_key key = { .ssl = ssl, .tgid = tgid };
	struct tls_conn_key bound = { .sk = sk, .gen = gen };

	bpf_map_update_elem(&tls_ssl, &key, &bound, BPF_ANY);
	return 0;
}

/*
 * A socket operation of tracked connection c: true when it is TLS and so
 * done here. Inside an SSL call on this thread, the operation binds the
 * call to c and marks c TLS (also a connection older than the agent,
 * whose handshake was not seen); the reads pending on c are parsed, and a
 * write's plaintext at its first socket send. Ciphertext is never parsed.
 */
static __always_inline bool tls_socket_io(struct conn *c, bool send)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_call *call;

	call = bpf_map_lookup_elem(&tls_calls, &id);
	if (!call)
		return c->tls;	/* a handshake's records, or a connection not TLS */
	c->tls = 1;
	if (call->conn.sk != c->sock_id || call->conn.gen != c->gen) {
		call->conn.sk = c->sock_id;
		call->conn.gen = c->gen;
		tls_bind(call->ssl, id >> 32, call->conn.sk, call->conn.gen);
	}
	/* the key in map memory: the parser's call chain needs the stack */
	tls_drain(c, &call->conn);
	if (send && call->kind == TLS_CALL_WRITE && !call->fed) {
		call->fed = 1;
		tls_feed(c, IO_WRITE, call->buf, call->num, 0, 0);
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
	if (tls_enabled && tls_socket_io(c, send))
		return 0;
	if (send && !c->client && proto_send_ignorable(c))
		return 0;
	if (!io_from_syscall(&io, send))
		return 0;
	handle_io(c, &io, ret, 0);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* The uprobes: no connection state reachable here                        */

static __always_inline void tls_call_start(void *ssl, void *buf, __u64 num, void *readbytes,
					   __u8 kind)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_call call = {
		.ssl = (__u64)ssl, .buf = (__u64)buf, .num = num,
		.readbytes = (__u64)readbytes, .kind = kind,
	};

	if (!measuring || (id >> 32) == self_tgid)
		return;
	/*
	 * An entry left by a call whose return was not seen (the thread died
	 * in it) is replaced: the thread is in a new call.
	 */
	bpf_map_update_elem(&tls_calls, &id, &call, BPF_ANY);
}

/* SSL_read(_ex) returned len bytes of plaintext (0: none, or an error). */
static __always_inline void tls_read_done(__u64 len, bool ex)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_ssl_key sk_key = { .tgid = id >> 32 };
	struct tls_conn_key k = {}, *bound;
	struct tls_read rd = {}, *r;
	struct tls_call *call;

	call = bpf_map_lookup_elem(&tls_calls, &id);
	if (!call)
		return;
	if (call->kind != TLS_CALL_READ)
		goto out;	/* not ours: another call's, its return seen here */
	if (ex && len == 1) {
		len = 0;
		if (bpf_probe_read_user(&len, sizeof(len), (void *)call->readbytes))
			len = 0;
	} else if (ex) {
		len = 0;
	}
	if (!len || (__s64)len < 0)
		goto out;
	k = call->conn;
	if (!k.sk) {
		/* the record was buffered already: no socket read in this call */
		sk_key.ssl = call->ssl;
		bound = bpf_map_lookup_elem(&tls_ssl, &sk_key);
		if (!bound)
			goto out;	/* never bound: a connection we do not follow */
		k = *bound;
	}
	rd.buf = call->buf;
	rd.len = len;
	rd.t = bpf_ktime_get_ns();
	if (!bpf_map_update_elem(&tls_pending, &k, &rd, BPF_NOEXIST))
		goto out;
	r = bpf_map_lookup_elem(&tls_pending, &k);
	if (!r)
		count_loss(LOSS_TLS_UNREAD);	/* the map is full */
	else if (!r->skip && r->buf + r->len == rd.buf && r->len + len <= 0x7fffffff)
		r->len += len;	/* read on into the same buffer: one read */
	else if (r->skip + len <= 0x7fffffff)
		r->skip += len;	/* a body read in pieces into one buffer (nginx) */
out:
	bpf_map_delete_elem(&tls_calls, &id);
}

static __always_inline void tls_write_done(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_call *call = bpf_map_lookup_elem(&tls_calls, &id);

	if (call && call->kind == TLS_CALL_WRITE)
		bpf_map_delete_elem(&tls_calls, &id);
}

/*
 * SSL_do_handshake returned ret: 1 done, <= 0 failed or would block (a
 * probe cannot call SSL_get_error to tell). The last verdict of the
 * connection counts at its close (tls_close).
 */
static __always_inline void tls_handshake_done(int ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_ssl_key sk_key = { .tgid = id >> 32 };
	struct tls_conn_key k, *bound;
	struct tls_call *call;
	__u8 failed = ret <= 0;

	call = bpf_map_lookup_elem(&tls_calls, &id);
	if (!call)
		return;
	if (call->kind != TLS_CALL_HANDSHAKE)
		goto out;
	k = call->conn;
	if (!k.sk) {
		/* no socket operation moved data in this call (would block) */
		sk_key.ssl = call->ssl;
		bound = bpf_map_lookup_elem(&tls_ssl, &sk_key);
		if (!bound)
			goto out;
		k = *bound;
	}
	bpf_map_update_elem(&tls_handshakes, &k, &failed, BPF_ANY);
out:
	bpf_map_delete_elem(&tls_calls, &id);
}

/*
 * A TLS connection closes: its reads not parsed yet go with it, counted.
 * True, once, when its handshake failed: its last SSL_do_handshake
 * returned <= 0 and no request bytes ever came, on a server connection.
 */
static __always_inline bool tls_close(struct conn *c)
{
	struct tls_conn_key k = { .sk = c->sock_id, .gen = c->gen };
	bool failed = false;
	__u8 *hs;

	if (!tls_enabled || !c->tls)
		return false;
	if (!bpf_map_delete_elem(&tls_pending, &k))
		count_loss(LOSS_TLS_UNREAD);
	hs = bpf_map_lookup_elem(&tls_handshakes, &k);
	if (!hs)
		return false;
	failed = *hs && !c->proto && !c->client && c->state == CONN_TRACKED;
	bpf_map_delete_elem(&tls_handshakes, &k);
	return failed;
}

#endif /* SLOTAP_TLS_BPF_H */
