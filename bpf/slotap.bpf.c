// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * slotap's kernel side: requests and responses seen from the sockets of
 * the processes that serve (and call) them, and the transport failures no
 * application sees. Its entry points only; the code is in layers, each
 * header using only those included before it:
 *
 *   settings.bpf.h   kernel ABI constants, the agent's settings
 *   http1_state.bpf.h, redis_state.bpf.h, state.bpf.h   the kernel side's types
 *   maps.bpf.h       every map
 *   counters.bpf.h   loss and stat counters
 *   events.bpf.h     staging events, the ring buffer
 *   conn.bpf.h       tracked connections, requests in flight, pairing
 *   capture.bpf.h    which syscall, which buffer
 *   http1.bpf.h      protocol module HTTP/1.x
 *   redis.bpf.h      protocol module Redis (RESP2, RESP3)
 *   protocol.bpf.h   the protocol interface and its dispatch
 *   tls.bpf.h        capture sources: socket operations, TLS plaintext (uprobes)
 *   transport.bpf.h  resets, refused, listen drops, retransmits, timeouts
 *
 * No syscall hook at all: sys_enter or sys_exit would run on every syscall
 * of the node. No kprobes, no fentry: tracepoints, iterators, and uprobes on
 * a TLS library (--tls).
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

char LICENSE[] SEC("license") = "Dual BSD/GPL";

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

/*
 * TLS plaintext (docs/tls.md): attached by the agent to each library's
 * path (every process mapping it, now or later). The arguments are
 * OpenSSL's: SSL_read(ssl, buf, num), SSL_read_ex(ssl, buf, num,
 * &readbytes), SSL_write(ssl, buf, num), SSL_write_ex(ssl, buf, num,
 * &written).
 */
SEC("uprobe")
int BPF_KPROBE(slotap_ssl_read, void *ssl, void *buf, int num)
{
	tls_call_start(ssl, buf, 0, NULL, TLS_CALL_READ);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(slotap_ssl_read_ex, void *ssl, void *buf, __u64 num, void *readbytes)
{
	tls_call_start(ssl, buf, 0, readbytes, TLS_CALL_READ);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(slotap_ssl_read_ret, int ret)
{
	tls_read_done(ret > 0 ? ret : 0, false);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(slotap_ssl_read_ex_ret, int ret)
{
	tls_read_done(ret, true);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(slotap_ssl_write_ex, void *ssl, const void *buf, __u64 num, void *written)
{
	/* SSL_write's num is an int, SSL_write_ex's a size_t */
	tls_call_start(ssl, (void *)buf, num, written, TLS_CALL_WRITE);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(slotap_ssl_write, void *ssl, const void *buf, int num)
{
	tls_call_start(ssl, (void *)buf, num > 0 ? num : 0, NULL, TLS_CALL_WRITE);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(slotap_ssl_write_ret, int ret)
{
	tls_write_done(ret > 0 ? ret : 0, false);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(slotap_ssl_write_ex_ret, int ret)
{
	tls_write_done(ret == 1, true);
	return 0;
}

/* A server's handshake (SSL_accept calls it too), for its failures. */
SEC("uprobe")
int BPF_KPROBE(slotap_ssl_handshake, void *ssl)
{
	tls_call_start(ssl, NULL, 0, NULL, TLS_CALL_HANDSHAKE);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(slotap_ssl_handshake_ret, int ret)
{
	tls_handshake_done(ret);
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
	return listen_drops_visit(ctx->sk_common);
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
	return on_sock_state(sk, oldstate, newstate);
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
	return events_flush();
}

/* slotap_exe_inode's input, a descriptor of the agent's, and its answer. */
__u32 exe_probe_fd;
__u64 exe_probe_inode;

/*
 * Not attached: run by the agent through BPF_PROG_TEST_RUN, so in the
 * agent's own task, to learn the kernel address of the inode of a file it
 * holds open (exe_probe_fd): the key service_by_exe compares a process's
 * mm->exe_file->f_inode with (struct exe_key). 0, and -1, when the
 * descriptor is not open.
 */
SEC("raw_tp")
int slotap_exe_inode(void *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *f = NULL;
	__u32 fd = exe_probe_fd;

	exe_probe_inode = 0;
	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return -1;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return -1;
	exe_probe_inode = (__u64)BPF_CORE_READ(f, f_inode);
	return exe_probe_inode ? 0 : -1;
}
