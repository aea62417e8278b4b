// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test programs, never attached and not in the agent's object: the same
 * layers as bpf/slotap.bpf.c, driven through BPF_PROG_TEST_RUN with
 * buffers and a clock the test chooses (tests/unit/test_http_parser.c,
 * build/tests/bench-parser). Their maps are their own.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "http_server.h"
#include "h2_record.h"
#include "syscalls.bpf.h"
#include "settings.bpf.h"
#include "http1_state.bpf.h"
#include "http2_state.bpf.h"
#include "redis_state.bpf.h"
#include "state.bpf.h"
#include "maps.bpf.h"
#include "counters.bpf.h"
#include "events.bpf.h"
#include "conn.bpf.h"
#include "capture.bpf.h"
#include "http1.bpf.h"
#include "http2.bpf.h"
#include "redis.bpf.h"
#include "protocol.bpf.h"
#include "tls.bpf.h"
#include "transport.bpf.h"
#include "parser_test.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* What every CPU staged, into the ring buffer (as the agent's flush does). */
SEC("raw_tp")
int slotap_flush_events(void *ctx)
{
	return events_flush();
}

/* The connection the test programs feed. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct conn);
} test_conns SEC(".maps");

/* The connection after each call: parser_test.h */
struct test_conn_view test_view;

static __always_inline void test_view_update(const struct conn *c)
{
	test_view.req_seq = c->req_seq;
	test_view.resp_seq = c->resp_seq;
	test_view.state = c->state;
	test_view.proto = c->proto;
	/* Redis's states are its own: a connection is one protocol's */
	test_view.req_state = c->proto == PROTO_REDIS ? c->redis_req.state : c->req.state;
	test_view.resp_state = c->proto == PROTO_REDIS ? c->redis_resp.state : c->resp.state;
	test_view.pipelined = c->pipelined;
	test_view.responses_given_up = c->responses_given_up;
	test_view.undecided = c->undecided;
}

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
	if (dir == TEST_RESET || dir == TEST_RESET_NEW || dir == TEST_RESET_REDIS) {
		/* a fresh connection: its identity as the agent's records show it */
		__builtin_memset(c, 0, sizeof(*c));
		c->state = CONN_TRACKED;
		c->proto = dir == TEST_RESET ? PROTO_HTTP1 :
			   dir == TEST_RESET_REDIS ? PROTO_REDIS : PROTO_NONE;
		c->service_id = 7;
		c->local_port = 8080;
		c->remote_port = 40000;
		c->sock_id = 0x5eed;
		c->gen = 42;
		test_view_update(c);
		return 0;
	}
	if (dir == TEST_CLOSE || dir == TEST_ABORT) {
		/* as tcp_set_state() would: its unanswered requests fail (the sock is not read) */
		conn_close(c, NULL, dir == TEST_CLOSE ? TCP_FIN_WAIT1 : TCP_ESTABLISHED, TCP_CLOSE);
		test_view_update(c);
		return 0;
	}
	if (c->state != CONN_TRACKED)
		return -1;
	if (dir & TEST_VEC) {
		/* a server's readv or writev, as io_from_syscall() makes it */
		io.iovcnt = TEST_VEC_COUNT(dir) > H2_IOV_MAX ? H2_IOV_MAX + 1 : TEST_VEC_COUNT(dir);
		dir &= DIR_RESPONSE;
		io.op = dir == DIR_REQUEST ? IO_READV : IO_WRITEV;
		io.buf = ubuf;
		handle_io(c, &io, len, now);
		test_view_update(c);
		return c->state == CONN_TRACKED ? 0 : 1;
	}
	/* a server's read or write of one buffer; no buffer: a sendfile */
	io.op = dir == DIR_REQUEST ? IO_READ : ubuf ? IO_WRITE : IO_SENDFILE;
	io.buf = ubuf;
	handle_io(c, &io, len, now);
	test_view_update(c);
	return c->state == CONN_TRACKED ? 0 : 1;
}
