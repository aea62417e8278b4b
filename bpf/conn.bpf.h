/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Layer 3, connections: which sockets are tracked (classified once, state
 * in socket storage), and the requests each has in flight, numbered so
 * that a response pairs with its own request at any pipelining depth. A
 * protocol module starts requests (conn_req_push), and reports each one
 * answered (conn_emit_response) or the connection's end (conn_end); this
 * layer turns them into events. Uses events, counters, maps.
 */
#ifndef SLOTAP_CONN_BPF_H
#define SLOTAP_CONN_BPF_H

/* ---------------------------------------------------------------------- */
/* Connection lifecycle                                                   */

/* The service (id + 1) a port is claimed by, configured or learnt; 0: none. */
static __always_inline __u16 port_service(const struct port_info *pi)
{
	return pi->service ? pi->service : pi->listen_service;
}

/*
 * Who the current process is, read once per connection (never per
 * request) from the kernel's own records of it: its executable file
 * (mm->exe_file), whose inode is what the service filter by path compares
 * and whose name names it. Not its comm: any process sets that to
 * "nginx" with one prctl(PR_SET_NAME), and a process matched as nginx
 * could then spend nginx's error budget. Pointing mm->exe_file elsewhere
 * takes PR_SET_MM_MAP with CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE (in the
 * process's user namespace) and its own executable unmapped first.
 */
struct proc_ident {
	struct exe_key exe;		/* 0: no executable (a kernel thread) */
	char name[EXE_NAME_LEN];	/* its basename, truncated as comm is; "" for none */
};

static __always_inline void proc_ident_read(struct proc_ident *p)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct mm_struct *mm = task->mm;
	struct file *exe;

	if (!mm)
		return;
	exe = mm->exe_file;
	if (!exe)
		return;
	p->exe.inode = (__u64)exe->f_inode;
	bpf_probe_read_kernel_str(p->name, sizeof(p->name), exe->f_path.dentry->d_name.name);
}

/*
 * The configured service of the current process's cgroup v2: the one of
 * its cgroup, else of its nearest configured ancestor (level
 * CGROUP_MATCH_LEVELS up to 1, below the root). Unlike a name or a file,
 * the cgroup of a process is set by whoever may write to the cgroup's
 * cgroup.procs (root, or the user the cgroup is delegated to), not by the
 * process.
 */
static __always_inline __u16 *service_of_cgroup(void)
{
	__u64 id = bpf_get_current_cgroup_id();
	__u16 *svc;

	svc = bpf_map_lookup_elem(&service_by_cgroup, &id);
	if (svc || !match_cgroup_ancestors)
		return svc;
#pragma unroll
	for (int level = CGROUP_MATCH_LEVELS; level >= 1; level--) {
		id = bpf_get_current_ancestor_cgroup_id(level);
		if (!id)
			continue;	/* deeper than the process's own cgroup */
		svc = bpf_map_lookup_elem(&service_by_cgroup, &id);
		if (svc)
			return svc;
	}
	return NULL;
}

/*
 * The configured service the current process belongs to: by cgroup
 * first, then by executable file, then by executable name (README,
 * "match"). Its identity p is read by the caller, once.
 */
static __always_inline bool service_of_process(const struct proc_ident *p, __u16 *service_id)
{
	__u16 *id = NULL;

	if (match_cgroups)
		id = service_of_cgroup();
	if (!id && p->exe.inode)
		id = bpf_map_lookup_elem(&service_by_exe, &p->exe);
	if (!id && p->name[0])
		id = bpf_map_lookup_elem(&service_by_exe_name, p->name);
	if (!id)
		return false;
	*service_id = *id;
	return true;
}

static __always_inline bool service_lookup(struct port_info *pi, const struct proc_ident *p,
					   __u16 *service_id)
{
	if (pi->service) {
		*service_id = pi->service - 1;
		return true;
	}
	if (service_of_process(p, service_id)) {
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
	__u8 any = 0;

	if (sk->__sk_common.skc_family == AF_INET6) {
		BPF_CORE_READ_INTO(addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		for (int i = 0; i < 16; i++)
			any |= addr[i];
		/*
		 * An AF_INET6 socket's connect() to a v4-mapped address (gRPC
		 * C-core's, to 127.0.0.1) is at SYN_SENT with only the IPv4
		 * peer set (measured on 6.18): "::" would name no destination.
		 */
		if (any)
			return;
	}
	ipv4_mapped(addr, &sk->__sk_common.skc_daddr);
}

/* A connection starts being tracked: who it belongs to, read once. */
static __always_inline void conn_init(struct conn *c, struct sock *sk, __u32 tgid,
				      const struct proc_ident *p, __u16 service_id)
{
	c->state = CONN_TRACKED;
	c->sock_id = (__u64)sk;
	c->cgroup_id = bpf_get_current_cgroup_id();
	c->gen = bpf_get_prandom_u32();
	c->tgid = tgid;
	c->service_id = service_id;
	c->local_port = sk->__sk_common.skc_num;
	c->remote_port = bpf_ntohs(sk->__sk_common.skc_dport);
	__builtin_memcpy(c->exe_name, p->name, sizeof(c->exe_name));
	sock_peer(sk, c->remote_addr);
	count_stat(STAT_CONNS_OPENED);
}

/*
 * A socket on a port of ours seen for the first time: tracked, or
 * remembered as ignored. Not inlined: the hot path stays short.
 */
static __noinline struct conn *conn_classify(struct sock *sk, struct port_info *pi)
{
	struct proc_ident p = {};
	__u16 family, service_id;
	struct conn *c;
	__u32 tgid;

	if (bpf_sk_storage_get(&ignored_socks, sk, NULL, 0))
		return NULL;

	family = sk->__sk_common.skc_family;
	tgid = bpf_get_current_pid_tgid() >> 32;
	if ((family != AF_INET && family != AF_INET6) || sk->sk_protocol != IPPROTO_TCP ||
	    tgid == self_tgid)
		goto ignore;
	proc_ident_read(&p);
	if (!service_lookup(pi, &p, &service_id))
		goto ignore;
	c = bpf_sk_storage_get(&conns, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (!c) {
		count_loss(LOSS_CONN_MAP_FULL);
		return NULL;
	}
	conn_init(c, sk, tgid, &p, service_id);
	bpf_map_update_elem(&serving_tgids, &tgid, &service_id, BPF_ANY);
	return c;
ignore:
	if (!bpf_sk_storage_get(&ignored_socks, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE))
		count_loss(LOSS_CONN_MAP_FULL);
	return NULL;
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
__noinline int conn_req_spill(struct conn *c)
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
static __always_inline void conn_req_push(struct conn *c, __u64 now)
{
	struct pending_req *r;
	__u32 seq, depth;
	__u8 flags = 0;

	seq = c->req_seq;
	depth = conn_pending(c);
	if (c->responses_given_up) {
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
		conn_req_spill(c);	/* a head that never ended (truncated) */
		r = &c->cur;
		flags = REQ_PARSING;
	}
	c->req_seq = seq + 1;
	r->seq = seq;
	r->start_ns = now;
	r->head_bytes = 0;
	r->body_bytes = 0;
	r->operation = HTTP_METHOD_OTHER;
	r->resource_len = 0;
	r->flags = flags;
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
		e->status_class = STATUS_CLASS_NONE;
	} else {
		e->resp_start_ns = c->resp_start_ns;
		e->resp_bytes = c->resp_bytes;
		e->flags |= c->resp_flags & HTTP_EVENT_RESP_SIZE_KNOWN;
		e->status = c->resp_status;
		e->status_class = c->resp_class;
	}
	e->tgid = c->tgid;
	e->service_id = c->service_id;
	e->local_port = c->local_port;
	e->remote_port = c->remote_port;
	e->operation = r->operation;
	e->resource_len = r->resource_len;
	e->kind = HTTP_EVENT_REQUEST;
	e->protocol = c->proto;
	e->failure = failure;
	e->count = 1;
	e->__pad = 0;
	__builtin_memcpy(e->remote_addr, c->remote_addr, sizeof(e->remote_addr));
	__builtin_memcpy(e->exe_name, c->exe_name, sizeof(e->exe_name));
	__builtin_memcpy(e->resource, r->resource, HTTP_PATH_MAX);

	event_commit(e, batch);
}

/*
 * The response being parsed answers the oldest request in flight: its
 * event goes out, or, for a request kept nowhere, its loss is counted, and
 * the request is done with. Called once per response, the only place
 * resp_seq moves but for the connection's end (conn_end). Global, as the
 * parser's pieces are: verified once, not in every path that calls it; its
 * pointer may be NULL as far as the verifier knows, hence the check.
 */
__noinline int conn_emit_response(struct conn *c, __u32 loss)
{
	struct pending_req *r;
	__u32 seq, where;

	if (!c || !conn_pending(c))
		return 0;
	seq = c->resp_seq;
	r = req_find(c, seq, &where);
	if (!r)
		count_loss(LOSS_PIPELINE_OVERFLOW);
	else if (r->flags & REQ_DISCARD)
		;	/* counted lost already (its request line): not twice */
	else if (loss && !(r->flags & HTTP_EVENT_LATE))
		count_loss(loss);	/* a response that cannot be read costs its request */
	else if (!loss)
		emit_request(c, r, HTTP_FAILURE_NONE, 0);
	if (r) {
		/* answered before its head ended: a bad rest of it costs nothing more */
		r->flags |= REQ_DISCARD;
		req_forget(c, seq, where);
	}
	c->resp_seq = seq + 1;
	return 0;
}

/*
 * Request r of c failed: reported once, unless it was already (timed out:
 * HTTP_EVENT_LATE, which keeps it in flight so that its response, if one
 * comes, still pairs with it) or counted as lost (REQ_DISCARD).
 */
static __always_inline void request_failed(struct conn *c, struct pending_req *r, __u32 failure,
					   __u64 now)
{
	if (r->flags & (HTTP_EVENT_LATE | REQ_DISCARD))
		return;
	emit_request(c, r, failure, now);
	r->flags |= HTTP_EVENT_LATE;
}

/*
 * c is no longer followed: not its protocol after all (its one request
 * counted as LOSS_NOT_HTTP), switched protocols, or its framing lost (what
 * was in flight already counted by conn_end()).
 */
static __always_inline void conn_drop(struct conn *c)
{
	c->resp_seq = c->req_seq;
	c->state = CONN_IGNORED;
	count_stat(STAT_CONNS_CLOSED);
}

/* conn_answered_op() of a request kept nowhere */
#define METHOD_UNKNOWN	HTTP_METHOD_MAX

/* The method of the request the response being parsed answers. */
__noinline int conn_answered_op(struct conn *c)
{
	struct pending_req *r;
	__u32 where;

	if (!c)
		return METHOD_UNKNOWN;
	r = req_find(c, c->resp_seq, &where);
	return r ? r->operation : METHOD_UNKNOWN;
}

/* Requests in flight one walk of conn_end() or the timeout sweep visits. */
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

	r = req_find(c, seq, &where);
	if (!r) {
		count_loss(LOSS_PIPELINE_OVERFLOW);	/* kept nowhere: lost, counted */
		return 0;
	}
	if (!f->loss)
		request_failed(c, r, f->failure, f->now);
	else if (!(r->flags & (HTTP_EVENT_LATE | REQ_DISCARD)))
		count_loss(f->loss);	/* one already reported or counted is not lost again */
	/* nor later, when the rest of a head still being parsed turns out bad */
	r->flags |= REQ_DISCARD;
	req_forget(c, seq, where);
	return 0;
}

/*
 * The connection ends, or is given up: every request in flight on c
 * failed (one event each), or, with loss, is lost (counted so); those kept
 * nowhere are lost as LOSS_PIPELINE_OVERFLOW. None is in flight after.
 */
__noinline int conn_end(struct conn *c, __u32 failure, __u32 loss)
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

#endif /* SLOTAP_CONN_BPF_H */
