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
 * The protocol a TLS connection speaks, from the first plaintext its
 * client sent, in this CPU's tls_scratch[0]. Global: its word stays off
 * the socket programs' stack.
 */
__noinline int tls_classify(void)
{
	struct tls_read *p;
	__u32 zero = 0, n;
	__u64 w = 0;

	p = bpf_map_lookup_elem(&tls_scratch, &zero);
	if (!p)
		return PROTO_NONE;
	if (p->copied) {
		n = p->copied < sizeof(w) ? p->copied : sizeof(w);
		__builtin_memcpy(&w, p->head, sizeof(w));	/* bytes past n: never judged */
	} else {
		n = p->len < sizeof(w) ? p->len : sizeof(w);
		if (bpf_probe_read_user(&w, n, (void *)p->buf))
			return PROTO_NONE;
	}
	return proto_classify(w, n);
}

/*
 * Plaintext of a TLS connection to its protocol module, as p (this CPU's
 * tls_scratch[0]) describes it (struct tls_read: lead, copy, the rest at
 * buf, skip), at time t (0: now, as handle_io()); op says whether it was
 * read or written. In map memory: few values live across the parser's
 * calls keep the socket programs' frame small enough for its call chain.
 */
static __always_inline int tls_feed(struct conn *c, __u32 op, const struct tls_read *p)
{
	__u32 dir;
	int drop = 0;

	if (!c || p->copied > sizeof(p->head) || p->len > 0x7fffffff ||
	    c->state != CONN_TRACKED)
		return 0;
	/*
	 * handle_io() for one stream of bytes, without its io_args, iovec
	 * arrays or shortcut: the socket programs' stack, less the parser's
	 * call chain, has no room for them twice.
	 */
	dir = (op >= IO_WRITE) != !!c->client ? DIR_RESPONSE : DIR_REQUEST;
	if (!c->proto && (p->copied || p->len)) {
		if (dir != DIR_REQUEST)
			return 0;
		c->proto = tls_classify();
		if (c->proto == PROTO_HTTP2 && (c->tls & TLS_H2_COPY)) {
			/* a client's preface: walked at its SSL_write's return (tls_h2_plain) */
			c->proto = PROTO_NONE;
			return 0;
		}
		if (!c->proto || c->proto == PROTO_HTTP2 || c->proto == PROTO_REDIS) {
			/*
			 * HTTP/2 with no copy for the uprobes (tls_h2 full): not
			 * followed; Redis's parser walks a socket operation, not
			 * plaintext: not yet (counted as not_http)
			 */
			count_loss(c->proto == PROTO_HTTP2 ? LOSS_TLS_HTTP2 : LOSS_NOT_HTTP);
			conn_drop(c);
			return 0;
		}
	}
	if (p->lead)
		drop = proto_skip(c, dir, p->lead);
	if (!drop && p->copied)
		drop = proto_feed(c, dir | FEED_FROM_COPY, 0, p->copied, p->t);
	if (!drop && p->len)
		drop = proto_feed(c, dir, p->buf, p->len, p->t);
	if (!drop && p->skip)
		drop = proto_skip(c, dir, p->skip);
	if (!drop)
		drop = proto_io_done(c, dir);
	if (drop == SCAN_DROP_UPGRADED)
		conn_end(c, 0, LOSS_UNFRAMED);
	if (drop)
		conn_drop(c);
	return 0;
}

/*
 * The reads of the connection not parsed yet, if any: into this CPU's
 * tls_scratch[0] for tls_feed() (a map value's address cannot be handed
 * to the parser), and out of tls_pending.
 */
static __always_inline void tls_drain(struct conn *c, const struct tls_conn_key *k)
{
	struct tls_read *r, *p;
	__u32 zero = 0, copied;

	r = bpf_map_lookup_elem(&tls_pending, k);
	p = bpf_map_lookup_elem(&tls_scratch, &zero);
	if (!r || !p)
		return;
	p->lead = r->lead;
	p->buf = r->buf;
	p->len = r->len;
	p->skip = r->skip;
	p->t = r->t;
	copied = r->copied;
	if (copied > sizeof(r->head))
		copied = 0;
	barrier_var(copied);
	if (copied && copied <= sizeof(p->head) &&
	    bpf_probe_read_kernel(p->head, copied, r->head))
		copied = 0;
	p->copied = copied;
	bpf_map_delete_elem(&tls_pending, k);
	tls_feed(c, IO_READ, p);
}

/* A write's plaintext, from the application's buffer, at its first socket send. */
static __always_inline void tls_feed_write(struct conn *c, const struct tls_call *call)
{
	struct tls_read *p;
	__u32 zero = 0;

	p = bpf_map_lookup_elem(&tls_scratch, &zero);
	if (!p)
		return;
	p->lead = 0;
	p->buf = call->buf;
	p->len = call->num;
	p->skip = 0;
	p->t = 0;
	p->copied = 0;
	tls_feed(c, IO_WRITE, p);
}

/*
 * Remembers which connection an SSL * is on, for its calls that do no
 * socket operation, and what its reads will bring that the protocol
 * skips. Global: its keys stay off the socket programs' stack, which the
 * parser's call chain needs.
 */
__noinline int tls_bind(__u64 ssl, __u32 tgid, __u64 sk, __u32 gen, __u64 skippable)
{
	struct tls_ssl_key key = { .ssl = ssl, .tgid = tgid };
	struct tls_bound bound = { .sk = sk, .gen = gen, .skippable = skippable };
	struct tls_bound *b;

	b = bpf_map_lookup_elem(&tls_ssl, &key);
	if (b && b->sk == sk && b->gen == gen) {
		b->skippable = skippable;
		return 0;
	}
	bpf_map_update_elem(&tls_ssl, &key, &bound, BPF_ANY);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* HTTP/2 over TLS: walked by the uprobes, on a copy of the connection    */

/*
 * The socket side of an HTTP/2-over-TLS connection: a socket program owns
 * the connection but sees ciphertext; the uretprobes see the plaintext
 * intact (an SSL_read's buffer at its return, an SSL_write's until its
 * return) but cannot reach a socket's storage. So each TLS connection not
 * classified yet gets a copy in tls_h2 at its first socket operation in an
 * SSL call, and the uretprobes classify and walk its plaintext on that copy
 * (tls_h2_plain()): the same walker, records and offsets as h2c. 1 when
 * the connection is such an HTTP/2 connection (the socket operation has
 * nothing more to do), 0 otherwise. Global: off the socket programs' stack.
 */
__noinline int tls_h2_socket(struct conn *c)
{
	struct tls_conn_key k = {};
	struct conn *h;

	if (!c || (c->proto && c->proto != PROTO_HTTP2))
		return 0;
	k.sk = c->sock_id;
	k.gen = c->gen;
	if (!(c->tls & TLS_H2_COPY)) {
		/* full: its HTTP/2, if it is, counted tls_http2 (tls_feed()) */
		if (!c->proto && c->state == CONN_TRACKED &&
		    !bpf_map_update_elem(&tls_h2, &k, c, BPF_NOEXIST))
			c->tls |= TLS_H2_COPY;
		return 0;
	}
	h = bpf_map_lookup_elem(&tls_h2, &k);
	if (!h) {
		c->tls &= ~TLS_H2_COPY;	/* not HTTP/2: the uretprobe let it go */
		return 0;
	}
	if (h->proto != PROTO_HTTP2)
		return 0;
	c->proto = PROTO_HTTP2;
	if (h->state != CONN_TRACKED && c->state == CONN_TRACKED) {
		/* the walk lost the framing: counted and ended on the copy */
		c->resp_seq = c->req_seq;
		c->state = CONN_IGNORED;
	}
	return 1;
}

/*
 * At the close: the copy's framing state back into the connection (its END
 * record's offset, whether it is between requests), and the copy deleted.
 * Global: the close's stack is the parser's too.
 */
__noinline int tls_h2_close(struct conn *c)
{
	struct tls_conn_key k = {};
	struct conn *h;

	if (!c || !(c->tls & TLS_H2_COPY))
		return 0;
	c->tls &= ~TLS_H2_COPY;
	k.sk = c->sock_id;
	k.gen = c->gen;
	h = bpf_map_lookup_elem(&tls_h2, &k);
	if (!h)
		return 0;
	if (h->proto == PROTO_HTTP2) {
		c->proto = PROTO_HTTP2;
		__builtin_memcpy(&c->h2, &h->h2, sizeof(c->h2));
		if (h->state != CONN_TRACKED && c->state == CONN_TRACKED) {
			c->resp_seq = c->req_seq;
			c->state = CONN_IGNORED;	/* ended already (framing lost) */
		}
	}
	bpf_map_delete_elem(&tls_h2, &k);
	return 0;
}

/*
 * A uretprobe's plaintext of connection k: len bytes at buf, read or
 * written. The connection's first bytes from its client (or a server's
 * first write, when it is a chain of frames: HTTP/2's SETTINGS, sent
 * before the client's preface was read) say whether it is HTTP/2; if so
 * the copy is opened (H2_REC_OPEN) and every later SSL_read and SSL_write
 * of it walked here, one user buffer each, as h2c's socket operations
 * are. 1 when the bytes were taken here, 0 for the other protocols' path.
 * Global: verified once, its stack apart.
 */
__noinline int tls_h2_plain(const struct tls_conn_key *k, __u64 buf, __u64 len, int write)
{
	struct io_args io = { .buf = buf, .op = write ? IO_WRITE : IO_READ };
	struct tls_conn_key key;
	bool preface = false;
	struct conn *h;
	int midstream = 0;
	__u64 w = 0;
	__u32 dir, n;

	if (!k || !len || len > 0x7fffffff)
		return 0;
	key = *k;
	h = bpf_map_lookup_elem(&tls_h2, &key);
	if (!h)
		return 0;
	if (h->state != CONN_TRACKED)
		return 1;	/* given up: the socket side drops it */
	dir = !!write != !!h->client ? DIR_RESPONSE : DIR_REQUEST;
	if (dir == DIR_REQUEST && (h->proto != PROTO_HTTP2 || h->undecided)) {
		n = len < sizeof(w) ? len : sizeof(w);
		if (bpf_probe_read_user(&w, n, (void *)buf))
			n = 0;
		preface = n && http2_classify(w, n);
	}
	if (h->proto == PROTO_HTTP2 && h->undecided && dir == DIR_REQUEST) {
		/* opened by its server's first write: new after all when this is the preface */
		h->undecided = 0;
		if (preface && !h->h2.dir[DIR_REQUEST].offset)
			h->h2.dir[DIR_REQUEST].phase = H2_PREFACE;
	}
	if (h->proto != PROTO_HTTP2) {
		h->undecided = 0;
		if (dir == DIR_REQUEST) {
			/*
			 * no preface: a connection older than the agent when its
			 * first plaintext is a chain of frames (as h2_midstream(),
			 * one read: a client's record holds whole frames)
			 */
			if (preface) {
				midstream = 0;
			} else if (h2_chain(buf, len, len)) {
				midstream = 1;
			} else {
				/* HTTP/1 or not HTTP: the socket side's path, as before */
				bpf_map_delete_elem(&tls_h2, &key);
				return 0;
			}
		} else if (h2_chain(buf, len, len)) {
			/*
			 * its server's first write (ALPN h2: its SETTINGS, sent
			 * before the client's preface was read). New when its
			 * handshake was seen; else maybe older than the agent:
			 * opened mid-stream, its client's side in frames unless
			 * its first bytes are the preface (h2_open() is fine with
			 * either, the agent's decoders too)
			 */
			midstream = !bpf_map_lookup_elem(&tls_handshakes, &key);
			h->undecided = midstream;
		} else {
			return 0;	/* not known yet: bytes the other way are not looked at */
		}
		h->proto = PROTO_HTTP2;
		h2_open(h, midstream);
	}
	h2_io(h, &io, dir, len, 0);
	return 1;
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
	int h2;

	call = bpf_map_lookup_elem(&tls_calls, &id);
	if (!call)
		return c->tls;	/* a handshake's records, or a connection not TLS */
	c->tls |= TLS_PROBED;
	call->conn.sk = c->sock_id;
	call->conn.gen = c->gen;
	/* the key in map memory: the parser's call chain needs the stack */
	tls_drain(c, &call->conn);
	h2 = tls_h2_socket(c);
	/* looked up again: held across the drain, it would take the parser's stack */
	call = bpf_map_lookup_elem(&tls_calls, &id);
	if (!call)
		return true;
	if (send && call->kind == TLS_CALL_WRITE && !call->fed && !h2) {
		call->fed = 1;
		call->fed_bytes = call->num;
		tls_feed_write(c, call);
	}
	tls_bind(call->ssl, id >> 32, c->sock_id, c->gen,
		 proto_skippable(c, c->client ? DIR_RESPONSE : DIR_REQUEST));
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

/*
 * A write whose first bytes an earlier call fed already (it wrote them in
 * part, or failed with WANT_WRITE after a partial send, and this one
 * writes them again, as OpenSSL asks): only the rest is fed.
 */
static __always_inline void tls_write_ahead(struct tls_call *call, __u32 tgid)
{
	struct tls_ssl_key key = { .ssl = call->ssl, .tgid = tgid };
	struct tls_bound *b = bpf_map_lookup_elem(&tls_ssl, &key);
	__u64 ahead;

	if (!b || !b->write_ahead)
		return;
	ahead = b->write_ahead;
	call->ahead = ahead;
	if (ahead >= call->num) {
		call->fed = 1;	/* all of it fed before */
		return;
	}
	call->buf += ahead;
	call->num -= ahead;
}

static __always_inline void tls_call_start(void *ssl, void *buf, __u64 num, void *readbytes,
					   __u8 kind)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_call call = {
		.ssl = (__u64)ssl, .buf = (__u64)buf, .num = num,
		.readbytes = (__u64)readbytes, .app_buf = (__u64)buf, .kind = kind,
	};

	if (!measuring || (id >> 32) == self_tgid)
		return;
	if (kind == TLS_CALL_WRITE)
		tls_write_ahead(&call, id >> 32);
	/*
	 * An entry left by a call whose return was not seen (the thread died
	 * in it) is replaced: the thread is in a new call.
	 */
	bpf_map_update_elem(&tls_calls, &id, &call, BPF_ANY);
}

/*
 * The n bytes in scratch's head go on r's copy where it ends; returns how
 * many fitted.
 */
static __always_inline __u32 tls_copy_more(struct tls_read *r, const struct tls_read *scratch,
					   __u32 n)
{
	struct bpf_dynptr head;
	__u32 at = r->copied;

	if (at >= sizeof(r->head))
		return 0;
	if (n > sizeof(r->head) - at)
		n = sizeof(r->head) - at;
	if (!n || n > sizeof(scratch->head))
		return 0;
	/* a dynptr: an offset and a length the verifier cannot bound together */
	if (bpf_dynptr_from_mem(r->head, sizeof(r->head), 0, &head) ||
	    bpf_dynptr_write(&head, at, (void *)scratch->head, n, 0))
		return 0;
	r->copied = at + n;
	return n;
}

/*
 * SSL_read(_ex) returned len bytes of plaintext at buf (0: none, or an
 * error): onto the connection's reads not parsed yet (struct tls_read),
 * the protocol's skippable bytes by count, the rest copied while the copy
 * has room and follows on.
 */
static __always_inline void tls_read_done(__u64 len, bool ex)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_ssl_key sk_key = { .tgid = id >> 32 };
	struct tls_conn_key k = {};
	__u64 buf, take, left = 0, now;
	struct tls_read *s, *r;
	struct tls_bound *bound;
	struct tls_call *call;
	__u32 one = 1, n = 0;

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
	if (!len || len > 0x7fffffff)
		goto out;
	k = call->conn;
	sk_key.ssl = call->ssl;
	bound = bpf_map_lookup_elem(&tls_ssl, &sk_key);
	if (!k.sk) {
		/* the record was buffered already: no socket read in this call */
		if (!bound)
			goto out;	/* never bound: a connection we do not follow */
		k.sk = bound->sk;
		k.gen = bound->gen;
	}
	if (tls_h2_plain(&k, call->buf, len, 0))
		goto out;
	if (bound && bound->sk == k.sk && bound->gen == k.gen)
		left = bound->skippable;
	s = bpf_map_lookup_elem(&tls_scratch, &one);
	if (!s)
		goto out;
	now = bpf_ktime_get_ns();
	r = bpf_map_lookup_elem(&tls_pending, &k);
	if (r)
		left = r->body_left;
	take = len < left ? len : left;
	buf = call->buf + take;
	len -= take;
	/* the bytes past the skippable ones, while a copy can take them */
	if (len && (!r || (!r->len && !r->skip && r->copied < sizeof(r->head)))) {
		n = len < sizeof(s->head) ? len : sizeof(s->head);
		barrier_var(n);
		if (n > sizeof(s->head) || bpf_probe_read_user(s->head, n, (void *)buf))
			n = 0;	/* parsed from the buffer, then, as far as it can be read */
	}
	if (!r) {
		s->lead = take;
		s->body_left = left - take;
		s->copied = n;
		s->buf = buf + n;
		s->len = len - n;
		s->skip = 0;
		s->t = len ? now : 0;
		if (bpf_map_update_elem(&tls_pending, &k, s, BPF_NOEXIST) && len)
			count_loss(LOSS_TLS_UNREAD);	/* the map is full */
		goto out;
	}
	r->lead += take;
	r->body_left -= take;
	if (!len)
		goto out;
	if (!r->t)
		r->t = now;
	if (!r->len && !r->skip) {
		n = tls_copy_more(r, s, n);
		buf += n;
		len -= n;
		if (len) {
			r->buf = buf;	/* the rest of this read, in its buffer */
			r->len = len;
		}
	} else if (!r->skip && r->buf + r->len == buf && r->len + len <= 0x7fffffff) {
		r->len += len;	/* read on into the same buffer */
	} else if (r->skip + len <= 0x7fffffff) {
		r->skip += len;	/* into another buffer, reused since, maybe: by count */
	}
out:
	bpf_map_delete_elem(&tls_calls, &id);
}

/*
 * SSL_write returned having written n bytes (SSL_write_ex: ok, and n in
 * *written): what was fed and is not written yet is ahead of the next
 * write of the same SSL *, which writes it again.
 */
static __always_inline void tls_write_done(__u64 n, bool ex)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_ssl_key key = { .tgid = id >> 32 };
	struct tls_conn_key k;
	struct tls_call *call;
	struct tls_bound *b;
	__u64 fed;

	call = bpf_map_lookup_elem(&tls_calls, &id);
	if (!call || call->kind != TLS_CALL_WRITE)
		return;
	if (ex && n) {
		n = 0;
		if (bpf_probe_read_user(&n, sizeof(n), (void *)call->readbytes))
			n = 0;
	}
	fed = call->ahead + call->fed_bytes;
	key.ssl = call->ssl;
	b = bpf_map_lookup_elem(&tls_ssl, &key);
	k = call->conn;
	if (!k.sk && b) {
		k.sk = b->sk;	/* no socket send in this call: the SSL's connection */
		k.gen = b->gen;
	}
	/*
	 * HTTP/2: the n bytes written, from the buffer as the application
	 * passed it (write_ahead is HTTP/1's: never fed for HTTP/2)
	 */
	if (k.sk && n && tls_h2_plain(&k, call->app_buf, n, 1)) {
		if (b)
			b->write_ahead = 0;
		goto out;
	}
	if (b && (fed || b->write_ahead))
		b->write_ahead = fed > n ? fed - n : 0;
out:
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
	struct tls_conn_key k;
	struct tls_bound *bound;
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
		k.sk = bound->sk;
		k.gen = bound->gen;
	}
	bpf_map_update_elem(&tls_handshakes, &k, &failed, BPF_ANY);
out:
	bpf_map_delete_elem(&tls_calls, &id);
}

/*
 * A TLS connection closes: its reads not parsed yet are parsed. True,
 * once, when its handshake
 * failed: its last SSL_do_handshake returned <= 0 and no request bytes
 * ever came, on a server connection.
 */
static __always_inline bool tls_close(struct conn *c)
{
	struct tls_conn_key k = { .sk = c->sock_id, .gen = c->gen };
	struct tls_read *r;
	bool failed = false;
	__u8 *hs;

	if (!tls_enabled || !c->tls)
		return false;
	tls_h2_close(c);
	/*
	 * TLS whose plaintext no probed call gave: not measured, counted once
	 * (its requests are not known). A connection a probed library served
	 * without a request (a handshake alone) is no loss.
	 */
	if (!(c->tls & (TLS_PROBED | TLS_COUNTED)) && !c->proto && c->state == CONN_TRACKED) {
		c->tls |= TLS_COUNTED;
		count_loss(LOSS_TLS_NO_PLAINTEXT);
	}
	/*
	 * Reads not parsed yet, parsed now: a client's last response (no
	 * socket operation of its connection follows it), a request the
	 * server read and leaves unanswered.
	 */
	tls_drain(c, &k);
	r = bpf_map_lookup_elem(&tls_pending, &k);
	if (r) {
		if (r->copied || r->len || r->skip)
			count_loss(LOSS_TLS_UNREAD);
		bpf_map_delete_elem(&tls_pending, &k);
	}
	hs = bpf_map_lookup_elem(&tls_handshakes, &k);
	if (!hs)
		return false;
	failed = *hs && !c->proto && !c->client && c->state == CONN_TRACKED;
	bpf_map_delete_elem(&tls_handshakes, &k);
	return failed;
}

#endif /* SLOTAP_TLS_BPF_H */
