/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/2's per-connection framing state, a member of struct conn
 * (state.bpf.h), and the per-CPU memory one socket operation's walk uses;
 * its code is http2.bpf.h (docs/design-http2.md, section 5). The kernel
 * follows frames only: streams and HPACK live in the agent. Uses nothing.
 */
#ifndef SLOTAP_HTTP2_STATE_BPF_H
#define SLOTAP_HTTP2_STATE_BPF_H

/* h2_dir.phase */
enum h2_phase {
	H2_PREFACE = 0,		/* request direction: the 24-byte client preface */
	H2_FRAMES,		/* at a known place in the frames */
	H2_SYNC,		/* mid-stream: waiting for an operation that starts at a frame */
	H2_LOST,		/* framing lost: the connection is given up after this operation */
};

/* h2_dir.step: what the next bytes of the direction are */
enum h2_step {
	H2S_HEAD = 0,		/* a frame header (need 9 bytes) */
	H2S_PREFIX,		/* the first payload bytes the walker reads (need of them) */
	H2S_FRAG,		/* a header-block fragment: copied into records */
	H2S_SKIP,		/* payload bytes skipped by count */
};

/* Streams whose response HEADERS had no END_STREAM: their first DATA is reported. */
#define H2_AWAIT_SLOTS		6

/* One direction's framing: where in which frame its next byte is. */
struct h2_dir {
	__u64 offset;		/* bytes of this direction seen since classification */
	__u64 span_start;	/* where the next IO record's span starts (h2_record.offset) */
	__u64 frame_start_ns;	/* end of the op that moved the current frame's first byte */
	__u32 left;		/* payload bytes of the current frame still to come */
	__u32 stream;		/* the current frame's stream */
	__u32 value;		/* PUSH_PROMISE: the promised stream */
	__u8 type, flags;	/* the current frame's */
	__u8 step;		/* enum h2_step */
	__u8 phase;		/* enum h2_phase */
	__u8 have, need;	/* bytes of acc collected, and wanted (at most 16) */
	__u8 pad_left;		/* HEADERS, PUSH_PROMISE: padding at the end of the payload */
	__u8 first;		/* the next fragment piece starts its block */
	/* a frame header or payload prefix as it arrives, split across operations */
	__u8 acc[16];
};

struct h2_state {
	struct h2_dir dir[2];	/* DIR_REQUEST, DIR_RESPONSE */
	__u32 await_data[H2_AWAIT_SLOTS];
	__u8 await_next;	/* the await_data slot to overwrite next */
	__u8 midstream;		/* classified mid-stream (H2_REC_MIDSTREAM) */
	__u8 __pad[6];
};

/*
 * One socket operation's walk: its cursors, the record being built and
 * the operation's iovec array, per CPU (the socket programs' stack is
 * spent). The record is built at rec[0]; rec is twice H2_RECORD_MAX so
 * that a copy at any offset below H2_RECORD_MAX with any size up to it is
 * in bounds as far as the verifier can tell.
 */
struct h2_scratch {
	__u64 ubuf;		/* the buffer being walked */
	__u64 len;
	__u64 off;		/* bytes of it walked */
	__u64 now;		/* end of the operation */
	__u64 op_end;		/* the direction's offset after the operation */
	__u64 win_base;		/* offset in the buffer of the scan window's first byte */
	__u32 win_len;		/* bytes in the scan window (scan_scratch) */
	__u32 dir;
	__u32 rec_len;		/* bytes of the record at rec, head included; 0: none begun */
	__u32 n_rec;		/* records of this operation sent (or lost) */
	__u32 rec_flags;	/* flags of the record being built */
	__u32 steps;		/* walk steps of this operation */
	__u64 iov_left;		/* bytes of the operation not walked yet */
	__u32 iov_nr;		/* iovecs in iov */
	__u32 iov_err;		/* the walk of an iovec lost the framing */
	struct iovec iov[H2_IOV_MAX];
	__u8 rec[2 * H2_RECORD_MAX];
};

#endif /* SLOTAP_HTTP2_STATE_BPF_H */
