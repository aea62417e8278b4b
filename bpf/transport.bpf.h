/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Layer 7, transport failures: what ends a connection (its requests in
 * flight fail), resets the kernel sends (refused connections, requests
 * never read), listen queue drops, retransmits, outbound connects, and
 * the request timeout sweep. Uses tls (a TLS connection's close), protocol,
 * conn, events, counters.
 */
#ifndef SLOTAP_TRANSPORT_BPF_H
#define SLOTAP_TRANSPORT_BPF_H

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
	if (newstate == TCP_CLOSE && (oldstate == TCP_ESTABLISHED || oldstate == TCP_CLOSE_WAIT))
		failure = HTTP_FAILURE_CONN_RESET;
	if (conn_pending(c))
		conn_end(c, failure, 0);
	if (c->proto == PROTO_HTTP2)
		h2_end(c, failure);	/* the agent fails the streams it has open */
	else if (c->proto == PROTO_NONE && c->undecided)
		count_loss(LOSS_NOT_HTTP);	/* client bytes no module took */
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
	struct http_event *e = event_new(HTTP_EVENT_REQUEST, HTTP_EVENT_NO_REQUEST, failure);

	if (!e)
		return NULL;
	e->req_start_ns = e->resp_start_ns = bpf_ktime_get_ns();
	e->service_id = service_id;
	e->local_port = local_port;
	e->remote_port = remote_port;
	return e;
}

/* A TLS connection of a service closed after a failed handshake: its failure. */
static __always_inline void tls_handshake_failed(const struct conn *c)
{
	struct http_event *e;

	e = unserved_event(HTTP_FAILURE_TLS_HANDSHAKE, c->service_id, c->local_port,
			   c->remote_port);
	if (!e)
		return;
	e->sock_id = c->sock_id;
	e->cgroup_id = c->cgroup_id;
	e->tgid = c->tgid;
	__builtin_memcpy(e->remote_addr, c->remote_addr, sizeof(e->remote_addr));
	__builtin_memcpy(e->exe_name, c->exe_name, sizeof(e->exe_name));
	event_submit(e);
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
		if (c->state != CONN_TRACKED || c->client || !proto_between_requests(c))
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
		__builtin_memcpy(e->exe_name, c->exe_name, sizeof(e->exe_name));
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
	e = event_new(HTTP_EVENT_CONNECT, HTTP_EVENT_CLIENT, failure);
	if (!e)
		goto out;
	e->req_start_ns = c->connect_start_ns;
	e->resp_start_ns = bpf_ktime_get_ns();
	e->cgroup_id = c->cgroup_id;
	e->sock_id = c->sock_id;
	e->tgid = c->tgid;
	e->service_id = c->service_id;
	e->local_port = sk->__sk_common.skc_num;
	e->remote_port = c->remote_port;
	__builtin_memcpy(e->remote_addr, c->remote_addr, sizeof(e->remote_addr));
	__builtin_memcpy(e->exe_name, c->exe_name, sizeof(e->exe_name));
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
	__u16 family = sk->__sk_common.skc_family, id, *served;
	struct proc_ident p = {};
	struct conn *c;

	if ((family != AF_INET && family != AF_INET6) || sk->sk_protocol != IPPROTO_TCP ||
	    tgid == self_tgid)
		return;
	proc_ident_read(&p);
	served = bpf_map_lookup_elem(&serving_tgids, &tgid);
	if (served)
		id = *served;
	else if (!service_of_process(&p, &id))
		return;
	c = bpf_sk_storage_get(&conns, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (!c) {
		count_loss(LOSS_CONN_MAP_FULL);
		return;
	}
	__builtin_memset(c, 0, sizeof(*c));
	conn_init(c, sk, tgid, &p, id);
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
	struct proc_ident p = {};
	struct listen_state *l;
	__u16 id;

	if (!pi->service) {
		__u16 learnt = 0;

		if (tgid != self_tgid) {
			proc_ident_read(&p);
			if (service_of_process(&p, &id))
				learnt = id + 1;
		}
		pi->listen_service = learnt;
	}
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
		__builtin_memcpy(key.exe_name, c->exe_name, sizeof(key.exe_name));
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
	request_failed(c, r, HTTP_FAILURE_TIMEOUT, f->now);
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

/* The listen drop sweep visits a socket: 1 ends the walk (see slotap_listen_drops). */
static __always_inline int listen_drops_visit(struct sock_common *skc)
{
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

/*
 * A socket changes TCP state: listeners counted and their drops read,
 * outbound connects timed, and connections that end fail their requests
 * in flight.
 */
static __always_inline int on_sock_state(struct sock *sk, int oldstate, int newstate)
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
	/* a failed handshake's bytes left unread are that failure, not another */
	if (c && tls_close(c)) {
		tls_handshake_failed(c);
		remember_gone(sk, c, GONE_COUNTED);
	} else if (newstate == TCP_CLOSE &&
		   (oldstate == TCP_ESTABLISHED || oldstate == TCP_CLOSE_WAIT) &&
		   unread_request_failed(sk, c, oldstate))
		remember_gone(sk, c, GONE_COUNTED);
	else if (c && c->state == CONN_TRACKED && !c->client)
		remember_gone(sk, c, conn_pending(c) || !proto_between_requests(c) ? GONE_MID_MESSAGE :
									       GONE_IDLE);
	if (!c)
		return 0;
	if (oldstate == TCP_SYN_SENT)
		connect_done(c, sk, false);
	conn_close(c, sk, oldstate, newstate);
	return 0;
}

#endif /* SLOTAP_TRANSPORT_BPF_H */
