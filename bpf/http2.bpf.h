/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Protocol module HTTP/2 (layer 4): follows each direction's frames,
 * split anywhere across socket operations, and sends what the agent needs
 * to decode them on the h2_records ring buffer (include/h2_record.h):
 * header-block fragments (HEADERS, CONTINUATION, PUSH_PROMISE, padding
 * and priority stripped), END_STREAM, the first response DATA of awaited
 * streams, RST_STREAM, GOAWAY and SETTINGS_HEADER_TABLE_SIZE. DATA
 * payloads are skipped by count, never read. It decodes nothing: HPACK
 * and the streams are the agent's (docs/design-http2.md, option B).
 * A whole socket operation is one call (h2_io), up to H2_IOV_MAX iovecs,
 * its cursors and record in per-CPU memory (h2_scratch): the socket
 * programs' stack is spent. Uses conn, capture, events, counters, and
 * http1's word macros.
 */
#ifndef SLOTAP_HTTP2_BPF_H
#define SLOTAP_HTTP2_BPF_H

#define H2_FRAME_HEAD		9
#define H2_PREFACE_LEN		24

/* Frame types (RFC 9113, 6) */
#define H2_DATA			0x0
#define H2_HEADERS		0x1
#define H2_PRIORITY		0x2
#define H2_RST_STREAM		0x3
#define H2_SETTINGS		0x4
#define H2_PUSH_PROMISE		0x5
#define H2_PING			0x6
#define H2_GOAWAY		0x7
#define H2_WINDOW_UPDATE	0x8
#define H2_CONTINUATION		0x9

/* Frame flags */
#define H2F_END_STREAM		0x01
#define H2F_ACK			0x01
#define H2F_END_HEADERS		0x04
#define H2F_PADDED		0x08
#define H2F_PRIORITY		0x20

#define H2_SETTINGS_HEADER_TABLE_SIZE	1

/* h2_dir.value of a direction lost in the preface: not HTTP/2 (no stream id is this) */
#define H2_NOT_HTTP		0xffffffffu

/* The client preface, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", as three little-endian words. */
#define H2_PREFACE_0		M8('P', 'R', 'I', ' ', '*', ' ', 'H', 'T')
#define H2_PREFACE_1		M8('T', 'P', '/', '2', '.', '0', '\r', '\n')
#define H2_PREFACE_2		M8('\r', '\n', 'S', 'M', '\r', '\n', '\r', '\n')

/*
 * Walk steps of one socket operation (a frame takes one to three, a
 * fragment piece one per record it fills): beyond, the framing is lost.
 */
#define H2_OP_STEPS_MAX		8192
/* Client reads a connection may stay unclassified, for mid-stream HTTP/2. */
#define H2_MIDSTREAM_READS	4
/* Frame headers a read's chain may have to be taken for mid-stream HTTP/2. */
#define H2_MIDSTREAM_FRAMES	16

static __always_inline __u32 h2_be32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

/*
 * Whether the 9 bytes at h are a frame header a peer may send: a known
 * type, flags and length valid for it, the reserved bit clear, stream 0
 * exactly where the type wants it. What mid-stream classification trusts.
 */
static __always_inline bool h2_plausible(const __u8 *h, __u32 *flen)
{
	__u32 len = (__u32)h[0] << 16 | (__u32)h[1] << 8 | h[2];
	__u32 stream = h2_be32(h + 5);
	__u8 type = h[3], flags = h[4], allowed;
	bool stream0;

	if (stream & 0x80000000u)
		return false;
	switch (type) {
	case H2_DATA:
		allowed = H2F_END_STREAM | H2F_PADDED;
		stream0 = false;
		break;
	case H2_HEADERS:
		allowed = H2F_END_STREAM | H2F_END_HEADERS | H2F_PADDED | H2F_PRIORITY;
		stream0 = false;
		break;
	case H2_PRIORITY:
		allowed = 0;
		stream0 = false;
		if (len != 5)
			return false;
		break;
	case H2_RST_STREAM:
		allowed = 0;
		stream0 = false;
		if (len != 4)
			return false;
		break;
	case H2_SETTINGS:
		allowed = H2F_ACK;
		stream0 = true;
		if (len % 6 || ((flags & H2F_ACK) && len))
			return false;
		break;
	case H2_PUSH_PROMISE:
		allowed = H2F_END_HEADERS | H2F_PADDED;
		stream0 = false;
		if (len < 4)
			return false;
		break;
	case H2_PING:
		allowed = H2F_ACK;
		stream0 = true;
		if (len != 8)
			return false;
		break;
	case H2_GOAWAY:
		allowed = 0;
		stream0 = true;
		if (len < 8)
			return false;
		break;
	case H2_WINDOW_UPDATE:
		*flen = len;
		return !flags && len == 4;	/* on a stream or the connection */
	case H2_CONTINUATION:
		allowed = H2F_END_HEADERS;
		stream0 = false;
		break;
	default:
		return false;
	}
	if (flags & ~allowed)
		return false;
	if (stream0 != !stream)
		return false;
	*flen = len;
	return true;
}

/* ---------------------------------------------------------------------- */
/* Records                                                                */

static __always_inline __u64 h2_wakeup_flag(void)
{
	if (bpf_ringbuf_query(&h2_records, BPF_RB_AVAIL_DATA) < wakeup_bytes)
		return BPF_RB_NO_WAKEUP;
	count_stat(STAT_WAKEUPS);
	return BPF_RB_FORCE_WAKEUP;
}

/* The head of a record of kind at s->rec; its span as IO records have it. */
static __always_inline void h2_rec_begin(struct conn *c, struct h2_scratch *s, __u8 kind)
{
	struct h2_record *r = (void *)s->rec;
	struct h2_dir *d = &c->h2.dir[s->dir & 1];

	r->sock_id = c->sock_id;
	r->ts_ns = s->now;
	r->offset = d->span_start;
	r->gen = c->gen;
	r->len = s->op_end - d->span_start;
	r->items_len = 0;
	r->kind = kind;
	r->dir = s->dir;
	r->flags = 0;
	r->end_reason = 0;
	r->__pad[0] = 0;
	r->__pad[1] = 0;
	s->rec_len = sizeof(*r);
}

/* The record at s->rec onto the ring, if one is begun; continued: more of the operation follow. */
static __always_inline void h2_rec_send(struct h2_scratch *s, bool continued)
{
	struct h2_record *r = (void *)s->rec;
	__u32 len = s->rec_len;

	if (!len)
		return;
	barrier_var(len);
	if (len < sizeof(*r) || len > H2_RECORD_MAX)
		return;	/* cannot happen; bounds the size */
	r->items_len = len - sizeof(*r);
	r->flags |= s->rec_flags | (continued ? H2_REC_CONTINUED : 0);
	if (bpf_ringbuf_output(&h2_records, s->rec, len, h2_wakeup_flag()))
		count_loss(LOSS_H2_RINGBUF_FULL);
	else
		count_stat(STAT_H2_RECORDS);
	if (r->kind == H2_REC_IO)
		s->n_rec++;
	s->rec_len = 0;
	s->rec_flags = 0;
}

/*
 * Bytes free in the operation's current record (begun if need be) for
 * an item of want payload bytes: a full record is sent and another begun
 * while the operation has records left (H2_RECORDS_PER_OP).
 */
static __always_inline __u32 h2_room(struct conn *c, struct h2_scratch *s, __u32 want)
{
	__u32 len = s->rec_len;

	if (!len) {
		h2_rec_begin(c, s, H2_REC_IO);
		len = s->rec_len;
	}
	if (len > H2_RECORD_MAX)
		return 0;
	if (H2_RECORD_MAX - len < sizeof(struct h2_item) + want && len > sizeof(struct h2_record) &&
	    s->n_rec + 1 < H2_RECORDS_PER_OP) {
		h2_rec_send(s, true);
		h2_rec_begin(c, s, H2_REC_IO);
		len = s->rec_len;
	}
	return H2_RECORD_MAX - len;
}

/* An item did not fit in the operation's records: the agent makes a gap. */
static __always_inline void h2_items_lost(struct h2_scratch *s)
{
	if (!(s->rec_flags & H2_REC_ITEMS_LOST))
		count_stat(STAT_H2_ITEMS_LOST);
	s->rec_flags |= H2_REC_ITEMS_LOST;
}

static __always_inline __u32 h2_delta(const struct h2_scratch *s, const struct h2_dir *d)
{
	__u64 delta = s->now - d->frame_start_ns;

	return delta > 0xffffffffULL ? 0xffffffffu : delta;
}

/* The item head at the record's end, room checked; its payload (len bytes) after it. */
static __always_inline struct h2_item *h2_item_at(struct h2_scratch *s)
{
	__u32 len = s->rec_len;

	if (len > H2_RECORD_MAX - sizeof(struct h2_item))
		return NULL;
	return (struct h2_item *)&s->rec[len & (H2_RECORD_MAX - 1)];
}

/* An item without payload about the current frame. */
static __always_inline void h2_item_add(struct conn *c, struct h2_scratch *s, struct h2_dir *d,
					__u8 kind, __u32 stream, __u32 value)
{
	struct h2_item *it;

	if (h2_room(c, s, 0) < sizeof(*it) || !(it = h2_item_at(s))) {
		h2_items_lost(s);
		return;
	}
	it->stream = stream;
	it->value = value;
	it->start_delta_ns = h2_delta(s, d);
	it->len = 0;
	it->kind = kind;
	it->flags = 0;
	s->rec_len += sizeof(*it);
}

/* ---------------------------------------------------------------------- */
/* The walker                                                             */

struct h2_walk {
	struct conn *conn;
	struct h2_scratch *s;
	struct scan_buf *b;	/* the scan window: bytes of the buffer being walked */
};

static __always_inline void h2_advance(struct h2_scratch *s, struct h2_dir *d, __u32 n)
{
	s->off += n;
	d->offset += n;
}

static __always_inline void h2_lost(struct h2_dir *d)
{
	d->phase = H2_LOST;
}

/* Streams whose response HEADERS came without END_STREAM: their first DATA is reported. */
static __always_inline void h2_await_add(struct conn *c, __u32 stream)
{
	__u32 i = c->h2.await_next;

	if (i >= H2_AWAIT_SLOTS)
		i = 0;
	c->h2.await_data[i] = stream;
	c->h2.await_next = i + 1;
}

static __always_inline bool h2_await_take(struct conn *c, __u32 stream)
{
#pragma unroll
	for (int i = 0; i < H2_AWAIT_SLOTS; i++) {
		if (c->h2.await_data[i] == stream) {
			c->h2.await_data[i] = 0;
			return true;
		}
	}
	return false;
}

/*
 * The next min(need - have, bytes left) bytes of the buffer into d->acc,
 * through the scan window (one user read covers the frame headers of up
 * to 4 KiB of frames). False when they cannot be read.
 */
static __always_inline bool h2_collect(struct h2_scratch *s, struct scan_buf *b, struct h2_dir *d,
				       __u32 need)
{
	__u64 off = s->off, k = need - d->have, pos;

	if (k > s->len - off)
		k = s->len - off;
	if (off < s->win_base || off + k > s->win_base + s->win_len) {
		__u64 n = s->len - off;

		if (n > HTTP_SCAN_MAX)
			n = HTTP_SCAN_MAX;
		barrier_var(n);
		if (n == 0 || n > HTTP_SCAN_MAX ||
		    bpf_probe_read_user(b->data, n, (const void *)(s->ubuf + off)))
			return false;
		s->win_base = off;
		s->win_len = n;
	}
	pos = (off - s->win_base) & (HTTP_SCAN_MAX - 1);
#pragma unroll
	for (int i = 0; i < 16; i++) {
		if (i >= k)
			break;
		d->acc[(d->have + i) & 15] = b->data[pos + i];
	}
	d->have += k;
	h2_advance(s, d, k);
	return true;
}

/* A frame header, whole in d->acc: what its payload is to the walker. */
static __always_inline void h2_frame_begin(struct conn *c, struct h2_scratch *s, struct h2_dir *d)
{
	__u32 len = (__u32)d->acc[0] << 16 | (__u32)d->acc[1] << 8 | d->acc[2];
	__u8 type = d->acc[3], flags = d->acc[4];
	__u32 stream = h2_be32(&d->acc[5]) & 0x7fffffffu, prefix;

	d->left = len;
	d->type = type;
	d->flags = flags;
	d->stream = stream;
	d->pad_left = 0;
	d->value = 0;
	d->step = H2S_SKIP;
	switch (type) {
	case H2_DATA:
		if (s->dir == DIR_RESPONSE && stream && h2_await_take(c, stream))
			h2_item_add(c, s, d, H2_ITEM_FIRST_DATA, stream, 0);
		if (flags & H2F_END_STREAM)
			h2_item_add(c, s, d, H2_ITEM_END_STREAM, stream, 0);
		return;
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
		prefix = (flags & H2F_PADDED) ? 1 : 0;
		if (type == H2_PUSH_PROMISE)
			prefix += 4;
		else if (flags & H2F_PRIORITY)
			prefix += 5;
		if (len < prefix) {
			h2_lost(d);	/* malformed: a connection error for its peer too */
			return;
		}
		if (type == H2_HEADERS && s->dir == DIR_RESPONSE && !(flags & H2F_END_STREAM) &&
		    stream)
			h2_await_add(c, stream);
		d->first = 1;
		if (prefix) {
			d->step = H2S_PREFIX;
			d->need = prefix;
		} else {
			d->step = H2S_FRAG;
		}
		return;
	case H2_CONTINUATION:
		d->step = H2S_FRAG;
		return;
	case H2_RST_STREAM:
		if (len == 4) {
			d->step = H2S_PREFIX;
			d->need = 4;
		}
		return;
	case H2_GOAWAY:
		if (len >= 8) {
			d->step = H2S_PREFIX;
			d->need = 8;
		}
		return;
	case H2_SETTINGS:
		if (!(flags & H2F_ACK) && len >= 6) {
			d->step = H2S_PREFIX;
			d->need = 6;
		}
		return;
	}
	/* PRIORITY, PING, WINDOW_UPDATE, unknown types: skipped */
}

/* The payload prefix the walker wanted, whole in d->acc. */
static __always_inline void h2_prefix_done(struct conn *c, struct h2_scratch *s, struct h2_dir *d)
{
	__u32 pad = 0, id;

	d->left -= d->need;
	switch (d->type) {
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
		if (d->flags & H2F_PADDED)
			pad = d->acc[0];
		if (d->type == H2_PUSH_PROMISE)
			d->value = h2_be32(&d->acc[(d->flags & H2F_PADDED) ? 1 : 0]) & 0x7fffffffu;
		if (pad > d->left) {
			h2_lost(d);
			return;
		}
		d->pad_left = pad;
		d->step = H2S_FRAG;
		return;
	case H2_RST_STREAM:
		h2_item_add(c, s, d, H2_ITEM_RST, d->stream, h2_be32(d->acc));
		break;
	case H2_GOAWAY:
		h2_item_add(c, s, d, H2_ITEM_GOAWAY, h2_be32(d->acc) & 0x7fffffffu,
			    h2_be32(&d->acc[4]));
		break;
	case H2_SETTINGS:
		id = (__u32)d->acc[0] << 8 | d->acc[1];
		if (id == H2_SETTINGS_HEADER_TABLE_SIZE)
			h2_item_add(c, s, d, H2_ITEM_SETTING, 0, h2_be32(&d->acc[2]));
		if (d->left >= 6)
			return;	/* the next setting */
		break;
	}
	d->step = H2S_SKIP;	/* the rest of the payload */
}

/*
 * The next piece of the current fragment: the bytes of it this buffer
 * holds, or what the record has room for, copied from user memory as one
 * H2_ITEM_BLOCK item (or, with no record left, an H2_ITEM_TRUNCATED
 * item). A fragment of 0 bytes is a piece too: its flags matter.
 */
static __always_inline void h2_piece(struct conn *c, struct h2_scratch *s, struct h2_dir *d)
{
	__u32 frag = d->left - d->pad_left, k = frag, room, pos;
	__u8 flags = 0, kind = H2_ITEM_BLOCK;
	struct h2_item *it;

	if (k > s->len - s->off)
		k = s->len - s->off;
	room = h2_room(c, s, (k + 3) & ~3u);
	if (room < sizeof(*it) || !(it = h2_item_at(s))) {
		h2_items_lost(s);
		goto advance;
	}
	room -= sizeof(*it);
	if (k > room) {
		if (s->n_rec + 1 >= H2_RECORDS_PER_OP)
			kind = H2_ITEM_TRUNCATED;	/* the last record: its size only */
		else
			k = room & ~3u;	/* a fresh record is smaller than the piece */
	}
	if (d->first)
		flags |= H2_IF_FIRST;
	if (k == frag && (d->flags & H2F_END_HEADERS))
		flags |= H2_IF_END_HEADERS;
	if (d->type == H2_HEADERS && (d->flags & H2F_END_STREAM))
		flags |= H2_IF_END_STREAM;
	if (d->type == H2_PUSH_PROMISE)
		flags |= H2_IF_PUSH;
	it->stream = d->stream;
	it->value = d->value;
	it->start_delta_ns = h2_delta(s, d);
	it->len = k;
	it->kind = kind;
	it->flags = flags;
	pos = s->rec_len + sizeof(*it);
	s->rec_len = pos;
	if (kind == H2_ITEM_BLOCK && k) {
		barrier_var(pos);
		barrier_var(k);
		if (pos > H2_RECORD_MAX || k > H2_RECORD_MAX ||
		    bpf_probe_read_user(&s->rec[pos], k, (const void *)(s->ubuf + s->off))) {
			it->kind = H2_ITEM_TRUNCATED;	/* unreadable: its size only */
		} else {
			/* padded to 4 with zeros, not with an earlier record's bytes */
#pragma unroll
			for (int i = 0; i < 3; i++)
				if ((pos + k + i) & 3)
					s->rec[(pos + k + i) & (2 * H2_RECORD_MAX - 1)] = 0;
			s->rec_len = pos + ((k + 3) & ~3u);
		}
	}
	d->first = 0;
advance:
	d->left -= k;
	h2_advance(s, d, k);
	if (d->left == d->pad_left) {
		d->step = d->pad_left ? H2S_SKIP : H2S_HEAD;
		d->pad_left = 0;	/* SKIP: left is the padding */
	}
}

/* The client preface, 8 bytes at a time: not HTTP/2 after all when it differs. */
static __always_inline void h2_preface_word(struct h2_dir *d)
{
	__u64 w, want;

	__builtin_memcpy(&w, d->acc, sizeof(w));
	want = d->offset <= 8 ? H2_PREFACE_0 : d->offset <= 16 ? H2_PREFACE_1 : H2_PREFACE_2;
	if (w != want) {
		h2_lost(d);
		d->value = H2_NOT_HTTP;
		return;
	}
	if (d->offset >= H2_PREFACE_LEN)
		d->phase = H2_FRAMES;
}

/*
 * One step of the walk of the buffer in s: 0 to go on, 1 when it is
 * done. Global, and so verified once: as the body of a bpf_loop callback
 * the verifier would walk it again for every state it loops with.
 */
__noinline int h2_step_one(struct conn *c, struct h2_scratch *s, struct scan_buf *b)
{
	struct h2_dir *d;
	__u32 need;

	if (!c || !s || !b)
		return 1;
	d = &c->h2.dir[s->dir & 1];

	if (d->phase == H2_LOST || ++s->steps > H2_OP_STEPS_MAX)
		return 1;
	if (d->step == H2S_SKIP && !d->left)
		d->step = H2S_HEAD;
	if (d->step == H2S_FRAG && d->left == d->pad_left) {
		h2_piece(c, s, d);	/* an empty fragment: its flags */
		return 0;
	}
	if (s->off >= s->len)
		return 1;
	switch (d->step) {
	case H2S_SKIP: {
		__u64 k = s->len - s->off;

		if (k > d->left)
			k = d->left;
		d->left -= k;
		h2_advance(s, d, k);
		return 0;
	}
	case H2S_FRAG:
		h2_piece(c, s, d);
		return 0;
	}
	need = d->phase == H2_PREFACE ? 8 : d->step == H2S_HEAD ? H2_FRAME_HEAD : d->need;
	if (d->step == H2S_HEAD && !d->have)
		d->frame_start_ns = s->now;
	if (!h2_collect(s, b, d, need)) {
		h2_lost(d);	/* a frame header it cannot read */
		return 1;
	}
	if (d->have < need)
		return 0;	/* the rest in the next buffer */
	d->have = 0;
	if (d->phase == H2_PREFACE)
		h2_preface_word(d);
	else if (d->step == H2S_HEAD)
		h2_frame_begin(c, s, d);
	else
		h2_prefix_done(c, s, d);
	return 0;
}

/* bpf_loop callback: the next step of the walk. */
static long h2_step(__u64 index, void *ctx)
{
	struct h2_walk *w = ctx;

	return h2_step_one(w->conn, w->s, w->b) ? 1 : 0;
}

/*
 * The len user bytes at ubuf, in direction s->dir. Global: the walk is
 * verified once, not in every path of the socket programs. 0, or -1 when
 * the framing is lost (the walk ran out of steps with bytes left, or
 * could not go on).
 */
__noinline int h2_feed_buf(struct conn *c, __u64 ubuf, __u64 len)
{
	struct h2_walk w = { .conn = c };
	struct h2_scratch *s;
	__u32 zero = 0;

	if (!c)
		return 0;
	w.s = s = bpf_map_lookup_elem(&h2_scratch, &zero);
	w.b = bpf_map_lookup_elem(&scan_scratch, &zero);
	if (!s || !w.b)
		return 0;
	s->ubuf = ubuf;
	s->len = len;
	s->off = 0;
	s->win_base = 0;
	s->win_len = 0;
	bpf_loop(H2_OP_STEPS_MAX, h2_step, &w, 0);
	if (s->off < s->len || s->steps > H2_OP_STEPS_MAX) {
		c->h2.dir[s->dir & 1].phase = H2_LOST;
		return -1;
	}
	return 0;
}

/*
 * n bytes the operation moved that cannot be read (sendfile, iovecs
 * beyond H2_IOV_MAX): a DATA payload's are skipped; anything else hid a
 * frame header or a header block, and the framing is lost.
 */
static __always_inline void h2_hidden(struct conn *c, struct h2_scratch *s, __u64 n)
{
	struct h2_dir *d = &c->h2.dir[s->dir & 1];

	if (d->phase == H2_LOST)
		return;
	if (d->phase == H2_SYNC) {
		d->offset += n;	/* not at a frame yet: passed over */
		return;
	}
	if (d->phase == H2_FRAMES && d->step == H2S_SKIP && !d->have && d->left >= n) {
		d->left -= n;
		d->offset += n;
		return;
	}
	h2_lost(d);
}

/*
 * The iovec array of a vector operation (readv and writev: buf; recvmsg
 * and sendmsg: buf's msghdr's), its first nr entries into s->iov, at most
 * H2_IOV_MAX: how many, 0 when it cannot be read. The msghdr's two
 * fields are read into s->rec, not onto the stack.
 */
static __always_inline __u32 h2_iov_read(struct h2_scratch *s, __u64 buf, __u32 op, __u64 nr)
{
	if (op == IO_RECVMSG || op == IO_SENDMSG) {
		/* struct user_msghdr: msg_iov at 16, msg_iovlen at 24 */
		if (bpf_probe_read_user(s->rec, 16, (void *)(buf + 16)))
			return 0;
		buf = *(__u64 *)s->rec;
		nr = *(__u64 *)&s->rec[8];
	}
	if (nr > H2_IOV_MAX)
		nr = H2_IOV_MAX;
	barrier_var(nr);
	if (!nr || nr > H2_IOV_MAX ||
	    bpf_probe_read_user(s->iov, nr * sizeof(s->iov[0]), (void *)buf))
		return 0;
	return nr;
}

/* ---------------------------------------------------------------------- */
/* Connection records: OPEN, END                                          */

/*
 * The connection is HTTP/2 from now on: who it is, once, for the agent.
 * Global: the socket programs' paths do not grow by it.
 */
__noinline int h2_open(struct conn *c, int midstream)
{
	struct h2_scratch *s;
	struct h2_record *r;
	struct h2_open *o;
	__u32 zero = 0;

	if (!c)
		return 0;
	__builtin_memset(&c->h2, 0, sizeof(c->h2));
	c->h2.midstream = midstream;
	/*
	 * mid-stream, the read that classified it starts at a frame; the
	 * server's next write may not
	 */
	c->h2.dir[DIR_REQUEST].phase = midstream ? H2_FRAMES : H2_PREFACE;
	c->h2.dir[DIR_RESPONSE].phase = midstream ? H2_SYNC : H2_FRAMES;
	s = bpf_map_lookup_elem(&h2_scratch, &zero);
	if (!s)
		return 0;
	s->dir = DIR_REQUEST;
	s->now = bpf_ktime_get_ns();
	s->op_end = 0;
	h2_rec_begin(c, s, H2_REC_OPEN);
	r = (void *)s->rec;
	r->len = 0;
	if (midstream)
		r->flags = H2_REC_MIDSTREAM;
	o = (void *)&s->rec[sizeof(*r)];
	o->cgroup_id = c->cgroup_id;
	o->tgid = c->tgid;
	o->service_id = c->service_id;
	o->local_port = c->local_port;
	o->remote_port = c->remote_port;
	o->client = c->client;
	__builtin_memset(o->__pad, 0, sizeof(o->__pad));
	__builtin_memcpy(o->remote_addr, c->remote_addr, sizeof(o->remote_addr));
	__builtin_memcpy(o->exe_name, c->exe_name, sizeof(o->exe_name));
	s->rec_len = sizeof(*r) + sizeof(*o);
	s->rec_flags = 0;
	h2_rec_send(s, false);
	return 0;
}

/*
 * The connection ends (closed, reset: enum http_failure) or its framing
 * is lost (H2_END_UNFRAMED): the agent fails its open streams. Built on
 * the stack: a close comes from softirq too, where the scratch may be in
 * use by the program it interrupted.
 */
static __always_inline void h2_end(const struct conn *c, __u8 reason)
{
	struct h2_record r = {
		.sock_id = c->sock_id,
		.ts_ns = bpf_ktime_get_ns(),
		.offset = c->h2.dir[DIR_REQUEST].offset,
		.gen = c->gen,
		.kind = H2_REC_END,
		.end_reason = reason,
	};

	if (bpf_ringbuf_output(&h2_records, &r, sizeof(r), h2_wakeup_flag()))
		count_loss(LOSS_H2_RINGBUF_FULL);
	else
		count_stat(STAT_H2_RECORDS);
}

/* The same, from the socket path: in the scratch, whose record is sent. */
static __always_inline void h2_end_scratch(struct conn *c, struct h2_scratch *s, __u8 reason)
{
	struct h2_record *r = (void *)s->rec;

	s->dir = DIR_REQUEST;
	s->op_end = c->h2.dir[DIR_REQUEST].offset;
	h2_rec_begin(c, s, H2_REC_END);
	r->offset = s->op_end;
	r->len = 0;
	r->end_reason = reason;
	h2_rec_send(s, false);
}

/* ---------------------------------------------------------------------- */
/* Mid-stream classification                                              */

/*
 * Whether the len bytes at buf start with a chain of plausible frame
 * headers (at most H2_MIDSTREAM_FRAMES) that ends exactly at their end, or
 * whose last frame ends beyond it within limit bytes (its payload in the
 * operation's next iovecs). The frame headers are read into the scratch's
 * record. Global: its loop verified once, its stack apart.
 */
__noinline int h2_chain(__u64 buf, __u64 len, __u64 limit)
{
	struct h2_scratch *s;
	__u32 flen = 0, zero = 0;
	__u64 pos = 0;

	s = bpf_map_lookup_elem(&h2_scratch, &zero);
	if (!s)
		return 0;
	for (int i = 0; i < H2_MIDSTREAM_FRAMES; i++) {
		if (pos + H2_FRAME_HEAD > len)
			return false;
		if (bpf_probe_read_user(s->rec, H2_FRAME_HEAD, (const void *)(buf + pos)))
			return false;
		if (!h2_plausible(s->rec, &flen))
			return false;
		pos += H2_FRAME_HEAD + flen;
		if (pos >= len)
			return pos == len || pos <= limit;
	}
	return false;
}

/*
 * Whether a client's read (ret bytes; op, buf as in struct io_args) on a
 * connection no module took is a chain of plausible frame headers that
 * ends exactly at the read's end: a connection older than the agent, at
 * a frame boundary (docs/design-http2.md, section 5). HTTP/1 never passes
 * ("GET " reads as a 4.5 MiB frame of type 0x20). Global: its loop,
 * verified once, and only connections no module took pay it.
 */
__noinline int h2_midstream(__u64 buf, __u32 op, long ret)
{
	struct h2_scratch *s;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&h2_scratch, &zero);
	if (!s || ret < H2_FRAME_HEAD)
		return 0;
	if (op == IO_READV || op == IO_RECVMSG) {
		/* the first iovec, which must hold the whole read */
		if (!h2_iov_read(s, buf, op, 1) || s->iov[0].iov_len < (__u64)ret)
			return 0;
		buf = (__u64)s->iov[0].iov_base;
	} else if (op != IO_READ) {
		return 0;
	}
	return h2_chain(buf, ret, ret);
}

/*
 * Mid-stream, the server's side: an operation whose first buffer (len
 * bytes of its ret) is a chain of frames as above, its last frame ending
 * at the operation's end at the latest, is at a frame boundary; the
 * others are passed over until one is.
 */
static __always_inline bool h2_sync(__u64 buf, __u64 len, long ret)
{
	return h2_chain(buf, len, ret);
}

/* ---------------------------------------------------------------------- */
/* A socket operation                                                     */

/* bpf_loop callback: the next iovec of the operation (the walk's state in s). */
static long h2_iov_step(__u64 index, void *ctx)
{
	struct h2_walk *w = ctx;
	struct h2_scratch *s = w->s;
	__u64 n;

	if (index >= s->iov_nr || index >= H2_IOV_MAX || !s->iov_left)
		return 1;
	n = s->iov[index & (H2_IOV_MAX - 1)].iov_len;
	if (n > s->iov_left)
		n = s->iov_left;
	s->iov_left -= n;
	if (n && h2_feed_buf(w->conn, (__u64)s->iov[index & (H2_IOV_MAX - 1)].iov_base, n)) {
		s->iov_err = 1;
		return 1;
	}
	return 0;
}

/*
 * The operation's end: its last record out, the next span starting after
 * it; framing lost: counted, an END record, the connection dropped.
 */
static __always_inline void h2_io_end(struct conn *c, struct h2_scratch *s)
{
	struct h2_dir *d = &c->h2.dir[s->dir & 1];

	h2_rec_send(s, false);
	if (s->n_rec)
		d->span_start = s->op_end;
	if (d->phase != H2_LOST)
		return;
	count_loss(d->value == H2_NOT_HTTP ? LOSS_NOT_HTTP : LOSS_H2_UNFRAMED);
	h2_end_scratch(c, s, H2_END_UNFRAMED);
	conn_drop(c);
}

/*
 * One socket operation of an HTTP/2 connection, whole: io moved ret
 * bytes in direction dir. Global: verified once, its stack apart from the
 * socket programs' own.
 */
__noinline int h2_io(struct conn *c, const struct io_args *io, __u32 dir, long ret, __u64 now)
{
	struct h2_walk w = { .conn = c };
	__u64 first, first_len, buf;
	struct h2_scratch *s;
	struct h2_dir *d;
	__u32 zero = 0, op;

	if (!c || !io || ret <= 0)
		return 0;
	dir &= 1;
	op = io->op;
	buf = io->buf;
	s = bpf_map_lookup_elem(&h2_scratch, &zero);
	if (!s)
		return 0;
	w.s = s;
	d = &c->h2.dir[dir];
	s->dir = dir;
	s->now = now ? now : bpf_ktime_get_ns();
	s->op_end = d->offset + ret;
	s->rec_len = 0;
	s->n_rec = 0;
	s->rec_flags = 0;
	s->steps = 0;
	s->iov_left = ret;
	s->iov_err = 0;
	s->iov_nr = 0;

	switch (op) {
	case IO_READ:
	case IO_WRITE:
		first = buf;
		first_len = ret;
		break;
	case IO_READV:
	case IO_WRITEV:
	case IO_RECVMSG:
	case IO_SENDMSG:
		s->iov_nr = h2_iov_read(s, buf, op, io->iovcnt);
		if (!s->iov_nr)
			goto hidden;
		first = (__u64)s->iov[0].iov_base;
		first_len = s->iov[0].iov_len < (__u64)ret ? s->iov[0].iov_len : ret;
		break;
	default:
		goto hidden;	/* sendfile */
	}

	if (d->phase == H2_SYNC) {
		if (!h2_sync(first, first_len, ret)) {
			d->offset += ret;	/* not at a frame yet: passed over */
			return 0;
		}
		d->phase = H2_FRAMES;
		d->span_start = d->offset;
	}
	if (op == IO_READ || op == IO_WRITE) {
		if (h2_feed_buf(c, buf, ret))
			goto end;
		s->iov_left = 0;
	} else {
		bpf_loop(H2_IOV_MAX, h2_iov_step, &w, 0);
		if (s->iov_err)
			goto end;
	}
hidden:
	if (s->iov_left)
		h2_hidden(c, s, s->iov_left);
end:
	h2_io_end(c, s);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* The module's interface (protocol.bpf.h)                                */

/* The client preface's first bytes ("PRI * HT"), as many as n of them, at least "PRI". */
static __always_inline bool http2_classify(__u64 w, __u32 n)
{
	__u64 mask;

	if (n < 3)
		return false;
	mask = n >= 8 ? ~0ULL : (1ULL << (8 * n)) - 1;
	return (w & mask) == (H2_PREFACE_0 & mask);
}

static __always_inline bool http2_io_fast(struct conn *c, __u32 dir, const struct io_args *io,
					  long ret, __u64 now)
{
	h2_io(c, io, dir, ret, now);
	return true;	/* every operation: the module's own walk */
}

/* At a frame boundary, as far as the kernel knows (it knows no streams). */
static __always_inline bool http2_between_requests(const struct conn *c)
{
	const struct h2_dir *d = &c->h2.dir[DIR_REQUEST];

	return d->phase == H2_FRAMES && d->step == H2S_HEAD && !d->have;
}

#endif /* SLOTAP_HTTP2_BPF_H */
