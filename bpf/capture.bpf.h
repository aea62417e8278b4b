/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Layer 3, capture: which syscall a socket operation belongs to and where
 * its bytes are (the task's saved user registers), without a syscall
 * hook; a protocol module's reads of them (capture_load()). Uses state,
 * maps.
 */
#ifndef SLOTAP_CAPTURE_BPF_H
#define SLOTAP_CAPTURE_BPF_H

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

		/* HTTP/1 follows HTTP_IOV_MAX of them, HTTP/2 H2_IOV_MAX */
		io->iovcnt = cnt > H2_IOV_MAX ? H2_IOV_MAX + 1 : cnt;
	}
	return true;
}

/*
 * Where the first bytes a socket operation moved that are in one piece
 * are, and how many (*len, at most ret): its buffer, or its first
 * iovec's. 0 when they cannot be read (sendfile's come from a file).
 */
static __always_inline __u64 first_buffer(const struct io_args *io, long ret, __u64 *len)
{
	__u64 buf = io->buf;
	struct user_msghdr msg;
	struct iovec v;

	*len = ret;
	switch (io->op) {
	case IO_READ:
	case IO_WRITE:
		return buf;
	case IO_RECVMSG:
	case IO_SENDMSG:
		if (bpf_probe_read_user(&msg, sizeof(msg), (void *)buf) || !msg.msg_iovlen)
			return 0;
		buf = (__u64)msg.msg_iov;
		/* fall through: its iovec array */
	case IO_READV:
	case IO_WRITEV:
		if (bpf_probe_read_user(&v, sizeof(v), (void *)buf))
			return 0;
		if (v.iov_len < *len)
			*len = v.iov_len;
		return (__u64)v.iov_base;
	}
	return 0;
}

/*
 * The first bytes (8 at most) a socket operation moved, to tell which
 * protocol its connection speaks: how many are in *w; 0 when they cannot
 * be read.
 */
static __always_inline __u32 capture_first_bytes(const struct io_args *io, long ret, __u64 *w)
{
	__u64 buf, len;
	__u32 n;

	buf = first_buffer(io, ret, &len);
	n = len < sizeof(*w) ? len : sizeof(*w);
	if (!buf || !n || bpf_probe_read_user(w, n, (void *)buf))
		return 0;
	return n;
}

/*
 * n bytes at offset off of this CPU's copy of a TLS read (tls.bpf.h) to
 * the start of the scan buffer b, never beyond the copy's end. Global:
 * called from the parser's deepest frames, its key and its checks stay off
 * their stack.
 */
__noinline int capture_load_copy(struct scan_buf *b, __u32 n, __u64 off)
{
	struct tls_read *p;
	__u32 zero = 0;

	p = bpf_map_lookup_elem(&tls_scratch, &zero);
	if (!b || !p || off > sizeof(p->head) || n > sizeof(p->head) - off ||
	    n > sizeof(b->data))
		return -1;
	return bpf_probe_read_kernel(b->data, n, p->head + off);
}

/*
 * n bytes of a buffer a protocol module is fed to the start of the scan
 * buffer b: at ubuf in the process's memory, or, from_copy
 * (FEED_FROM_COPY), at offset ubuf of this CPU's copy of a TLS read.
 * Nonzero when they cannot be read.
 */
static __always_inline long capture_load(struct scan_buf *b, __u32 n, __u64 ubuf, bool from_copy)
{
	if (from_copy)
		return capture_load_copy(b, n, ubuf);
	return bpf_probe_read_user(b->data, n, (const void *)ubuf);
}

#endif /* SLOTAP_CAPTURE_BPF_H */
