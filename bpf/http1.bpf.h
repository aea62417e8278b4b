/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Protocol module HTTP/1.x (layer 4): a state machine over requests and
 * responses, split anywhere across syscalls, that frames each message
 * (Content-Length, chunked, until close, none for HEAD, 1xx, 204, 304)
 * and reports requests through the connection layer. Its interface is in
 * protocol.bpf.h. Uses conn, capture, events, counters.
 */
#ifndef SLOTAP_HTTP1_BPF_H
#define SLOTAP_HTTP1_BPF_H

/* ---------------------------------------------------------------------- */
/* The parser                                                             */

struct scan_ctx {
	struct conn *conn;
	struct parser *p;	/* &conn->req or &conn->resp */
	struct scan_buf *buf;
	__u64 now;
	__u32 dir;		/* enum direction */
	__u32 drop;		/* stop tracking this connection: enum scan_drop */
};

static __always_inline __u8 lower(__u8 ch)
{
	return (ch >= 'A' && ch <= 'Z') ? ch | 0x20 : ch;
}

/* Methods packed little-endian into a u64, as the parser accumulates them. */
#define M2(a, b)		((__u64)(a) | (__u64)(b) << 8)
#define M3(a, b, c)		(M2(a, b) | (__u64)(c) << 16)
#define M4(a, b, c, d)		(M3(a, b, c) | (__u64)(d) << 24)
#define M5(a, b, c, d, e)	(M4(a, b, c, d) | (__u64)(e) << 32)
#define M6(a, b, c, d, e, f)	(M5(a, b, c, d, e) | (__u64)(f) << 40)
#define M7(a, b, c, d, e, f, g)	(M6(a, b, c, d, e, f) | (__u64)(g) << 48)

static __always_inline __u8 method_from_token(__u64 t)
{
	switch (t) {
	case M3('G', 'E', 'T'): return HTTP_METHOD_GET;
	case M4('H', 'E', 'A', 'D'): return HTTP_METHOD_HEAD;
	case M4('P', 'O', 'S', 'T'): return HTTP_METHOD_POST;
	case M3('P', 'U', 'T'): return HTTP_METHOD_PUT;
	case M6('D', 'E', 'L', 'E', 'T', 'E'): return HTTP_METHOD_DELETE;
	case M5('P', 'A', 'T', 'C', 'H'): return HTTP_METHOD_PATCH;
	case M7('O', 'P', 'T', 'I', 'O', 'N', 'S'): return HTTP_METHOD_OPTIONS;
	case M7('C', 'O', 'N', 'N', 'E', 'C', 'T'): return HTTP_METHOD_CONNECT;
	case M5('T', 'R', 'A', 'C', 'E'): return HTTP_METHOD_TRACE;
	}
	return HTTP_METHOD_OTHER;
}

/*
 * A byte of a token (RFC 9110 5.6.2), which a method is: any visible
 * ASCII but the delimiters.
 */
static __always_inline bool is_tchar(__u8 ch)
{
	if (ch <= ' ' || ch >= 127)
		return false;
	switch (ch) {
	case '"': case '(': case ')': case ',': case '/': case ':': case ';': case '<':
	case '=': case '>': case '?': case '@': case '[': case '\\': case ']': case '{':
	case '}':
		return false;
	}
	return true;
}

/* Longer method tokens are not taken for a request line (nginx: 32 bytes). */
#define HTTP_METHOD_LEN_MAX	32
/* "PRI": HTTP/2's connection preface (RFC 9113 3.4), never an HTTP/1 method. */
#define TOKEN_PRI		M3('P', 'R', 'I')

/*
 * Header names and tokens are matched by a rolling hash of their lowercase
 * bytes (h = h * 131 + c) plus their length, not against string tables: a
 * byte-indexed table costs the verifier a bounds proof per byte, and clang 14
 * places static const arrays at a wrong offset in .rodata's BTF, which makes
 * the kernel reject the object's BTF altogether.
 */
#define HASH_STEP(h, c)		((h) * 131 + (c))
#define HASH_CONTENT_LENGTH	0x32a989edf5322ddaULL	/* "content-length" */
#define HASH_TRANSFER_ENCODING	0x23e53dcc3aed110dULL	/* "transfer-encoding" */
#define HASH_CHUNKED		0x1cabc236ed018ULL	/* "chunked" */
#define TOKEN_HTTP1		M7('H', 'T', 'T', 'P', '/', '1', '.')
#define MASK7			0x00ffffffffffffffULL

/* The protocol-neutral class of an HTTP status code. */
static __always_inline __u8 http1_status_class(__u16 status)
{
	if (status < 100 || status > 599)
		return STATUS_CLASS_INVALID;
	if (status >= 500)
		return STATUS_CLASS_SERVER_ERROR;
	return status >= 400 ? STATUS_CLASS_CLIENT_ERROR : STATUS_CLASS_OK;
}

/*
 * The response being parsed answers the oldest request in flight: what
 * is known of it so far (its head may go on in the next write) becomes
 * the answer conn_emit_response() reports, once: PF_EMIT_DUE is cleared.
 */
static __always_inline void http1_emit(struct conn *c, __u32 loss)
{
	struct parser *p = &c->resp;

	p->flags &= ~PF_EMIT_DUE;
	c->resp_status = p->status;
	c->resp_class = http1_status_class(p->status);
	c->resp_bytes = p->head_bytes;
	c->resp_flags = 0;
	if (p->flags & PF_CLEN) {
		c->resp_bytes += p->clen;
		c->resp_flags = HTTP_EVENT_RESP_SIZE_KNOWN;
	}
	conn_emit_response(c, loss);
}

enum parse_result {
	PARSE_OK = 0,
	PARSE_NOT_HTTP,		/* drop the connection, counted */
	PARSE_STOP,		/* nothing more to learn from this buffer */
	PARSE_UPGRADED,		/* 101: no longer HTTP/1, stop following it */
	PARSE_NOT_HTTP_COUNTED,	/* drop the connection, its one request counted already */
};

/*
 * Where the stream goes on cannot be told (a broken chunked body, a
 * response that is not one, more heads in one buffer than we follow).
 * With no request in flight, the next write that starts with a status
 * line starts the next response. With some, a response hidden in what
 * cannot be framed would pair every later one with the wrong request:
 * the stream is given up instead (P_LOST: handle_io() counts the requests
 * in flight as lost, for reason).
 */
static __always_inline int framing_lost(struct conn *c, __u32 dir, struct parser *p, __u32 reason)
{
	if (dir == DIR_RESPONSE && !conn_pending(c)) {
		p->state = P_UNKNOWN;
	} else {
		p->state = P_LOST;
		p->token = reason;
	}
	return PARSE_STOP;
}

/*
 * End of a head ("\r\n\r\n"), or of a chunked body's trailers: decide
 * how the body is framed.
 */
static __always_inline void head_done(__u32 dir, struct conn *c, struct parser *p)
{
	bool has_body = true;
	__u64 body = 0;

	if (p->flags & PF_TRAILERS) {
		p->state = P_IDLE;	/* the chunked message is over */
		p->flags = 0;
		return;
	}
	if (dir == DIR_REQUEST) {
		struct pending_req *r = req_tail(c);

		if (p->flags & PF_CLEN)
			body = p->clen;
		r->head_bytes = p->head_bytes;
		r->body_bytes = body;
		if (r == &c->cur)
			conn_req_spill(c);
	} else {
		if (p->status >= 100 && p->status < 200) {
			/* interim response (100 Continue): the real one follows */
			p->state = P_IDLE;
			p->flags = 0;
			return;
		}
		if (p->flags & PF_EMIT_DUE)
			http1_emit(c, 0);
		if (p->status == 204 || p->status == 304 || p->req_method == HTTP_METHOD_HEAD) {
			has_body = false;
		} else if (p->req_method == METHOD_UNKNOWN && (!(p->flags & PF_CLEN) || p->clen)) {
			/* a reply to HEAD has no body: which, of a request kept nowhere? */
			framing_lost(c, dir, p, LOSS_UNFRAMED);
			return;
		} else if (p->flags & PF_CLEN)
			body = p->clen;
		else if (!(p->flags & PF_CHUNKED))
			body = ~0ULL;	/* delimited by close */
	}

	if (has_body && (p->flags & PF_CHUNKED)) {
		/* chunked wins over a Content-Length (RFC 9112 6.3) */
		p->state = P_CHUNK_SIZE;
		p->left = 0;
		p->pos = 0;
	} else if (has_body && body == ~0ULL) {
		p->state = P_UNTIL_CLOSE;
	} else if (has_body && body) {
		p->state = P_BODY;
		p->left = body;
	} else {
		p->state = P_IDLE;
	}
}

/* The body bytes of known length are over: the message, or one chunk of it. */
static __always_inline void body_done(struct parser *p)
{
	p->state = p->flags & PF_CHUNKED ? P_CHUNK_END : P_IDLE;
}

/* A chunk-size line ended: a chunk's data, or, after the last, trailers. */
static __always_inline void chunk_size_done(struct parser *p)
{
	if (p->left) {
		p->state = P_BODY;
	} else {
		p->flags |= PF_TRAILERS;
		p->state = P_HSTART;
	}
}

/*
 * A message starts: the moment that times it. now is 0 in production, and
 * the clock is read only here, once per message, not once per socket
 * operation; tests pass their own clock.
 */
static __always_inline void start_message(__u32 dir, __u64 now, struct conn *c, struct parser *p)
{
	if (!now)
		now = bpf_ktime_get_ns();
	p->flags = 0;
	p->clen = 0;
	p->head_bytes = 0;
	p->token = 0;
	p->pos = 0;
	p->status = 0;
	if (dir == DIR_REQUEST) {
		conn_req_push(c, now);
		p->state = P_METHOD;
	} else {
		if (!conn_pending(c)) {
			count_loss(LOSS_UNMATCHED_RESPONSE);
			p->state = P_UNKNOWN;
			return;
		}
		c->resp_start_ns = now;
		p->state = P_VERSION;
	}
}

/* Only the status line of a response is parsed, not how long it is. */
static __always_inline bool response_is_lone(const struct conn *c)
{
	return conn_pending(c) == 1 && !c->pipelined;
}

static __always_inline int status_parsed(struct conn *c, struct parser *p)
{
	p->state = P_LINE;
	if (p->status == 101) {
		http1_emit(c, 0);
		return PARSE_UPGRADED;
	}
	if (p->status >= 100 && p->status < 200)
		return PARSE_OK;	/* interim response: parse its head to its end */
	p->flags |= PF_EMIT_DUE;
	if (!response_is_lone(c)) {
		/* pipelining: its length tells where the next starts */
		p->req_method = conn_answered_op(c);
		return PARSE_OK;
	}
	/*
	 * Nothing is queued behind this response, and the client never had
	 * two requests in flight, so where it ends does not matter: it ends
	 * where the next one starts. Skipping its head keeps the common case
	 * cheap.
	 */
	http1_emit(c, 0);
	p->state = P_UNKNOWN;
	return PARSE_STOP;
}

/*
 * A request line that is not HTTP/1: the first of the connection says the
 * connection is not HTTP/1 (dropped, counted once as LOSS_NOT_HTTP); a
 * later one costs that request alone, and the parser goes on at the next
 * line, the head's.
 */
static __always_inline int bad_request(struct conn *c, struct parser *p)
{
	struct pending_req *r = req_tail(c);

	/*
	 * A request already answered, reported (timed out) or counted lost
	 * (the responses' framing) before its head ended is not counted again
	 */
	if (c->req_seq == 1)
		return r->flags & (REQ_DISCARD | HTTP_EVENT_LATE) ? PARSE_NOT_HTTP_COUNTED
								  : PARSE_NOT_HTTP;
	if (!(r->flags & (REQ_DISCARD | HTTP_EVENT_LATE)))
		count_loss(LOSS_UNPARSABLE_REQUEST);
	r->flags |= REQ_DISCARD;
	p->state = P_LINE;
	return PARSE_OK;
}



static __always_inline int hex_digit(__u8 ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* One byte of a head, or the first byte of a message. */
__noinline int http1_parse_byte(struct conn *c, __u32 dir, __u64 now, __u8 ch)
{
	struct pending_req *r;
	struct parser *p;

	if (!c)
		return PARSE_STOP;
	p = dir == DIR_REQUEST ? &c->req : &c->resp;
	if (p->state == P_IDLE) {
		/* empty lines before a message are tolerated (RFC 9112 2.2) */
		if (ch == '\r' || ch == '\n')
			return PARSE_OK;
		start_message(dir, now, c, p);
		if (p->state == P_UNKNOWN)
			return PARSE_STOP;
	}
	p->head_bytes++;
	switch (p->state) {
	case P_METHOD:
		if (ch == ' ') {
			if (!p->pos || p->token == TOKEN_PRI)
				return bad_request(c, p);
			/* a token longer than 8 bytes is no method we name */
			req_tail(c)->operation = p->pos <= 8 ? method_from_token(p->token) :
							    HTTP_METHOD_OTHER;
			p->state = P_PATH;
		} else if (p->pos >= HTTP_METHOD_LEN_MAX || !is_tchar(ch)) {
			return bad_request(c, p);
		} else {
			if (p->pos < 8)
				p->token |= (__u64)ch << (8 * (p->pos & 7));
			p->pos++;
		}
		break;
	case P_PATH:
	case P_QUERY:
		if (ch == ' ') {
			p->state = P_LINE;
		} else if (ch == '\r' || ch == '\n') {
			return bad_request(c, p);	/* a request line without a version */
		} else if (p->state == P_QUERY) {
			/* never exported: may carry secrets */
		} else if (ch == '?' || ch == '#') {
			p->state = P_QUERY;
		} else {
			r = req_tail(c);
			if (r->resource_len < HTTP_PATH_MAX)
				r->resource[r->resource_len++ & (HTTP_PATH_MAX - 1)] = ch;
			else
				r->flags |= HTTP_EVENT_PATH_TRUNCATED;
		}
		break;
	case P_VERSION:
		if (p->pos < 7) {
			p->token |= (__u64)ch << (8 * (p->pos & 7));
		} else if (p->pos == 7) {
			if (p->token != TOKEN_HTTP1)
				goto bad_response;
		} else if (p->pos == 8) {
			if (ch != ' ')
				goto bad_response;
			p->state = P_STATUS;
			p->pos = 0;
			break;
		}
		p->pos++;
		break;
	case P_STATUS:
		if (ch < '0' || ch > '9')
			goto bad_response;
		p->status = p->status * 10 + (ch - '0');
		if (++p->pos < 3)
			break;
		return status_parsed(c, p);
	case P_LINE:
	case P_HSKIP:	/* scan_step skips these a word at a time */
		if (ch == '\n')
			p->state = P_HSTART;
		break;
	case P_HSTART:
		if (ch == '\r') {
			p->state = P_HEND;
		} else if (ch == '\n') {
			head_done(dir, c, p);
		} else if (lower(ch) == 'c' || lower(ch) == 't') {
			/* only Content-Length and Transfer-Encoding matter */
			p->state = P_HNAME;
			p->pos = 1;
			p->token = lower(ch);
		} else {
			p->state = P_HSKIP;
		}
		break;
	case P_HEND:
		if (ch == '\n')
			head_done(dir, c, p);
		else
			p->state = P_HSKIP;
		break;
	case P_HNAME:
		if (ch == ':') {
			if (p->pos == 14 && p->token == HASH_CONTENT_LENGTH) {
				p->state = P_CLEN;
				p->clen = 0;
				p->flags |= PF_CLEN;
			} else if (p->pos == 17 && p->token == HASH_TRANSFER_ENCODING) {
				p->state = P_TENC;
				p->token = 0;
			} else {
				p->state = P_HSKIP;
			}
		} else if (ch == '\n') {
			p->state = P_HSTART;
		} else if (p->pos >= 17) {
			p->state = P_HSKIP;	/* longer than any name we want */
		} else {
			p->token = HASH_STEP(p->token, lower(ch));
			p->pos++;
		}
		break;
	case P_CLEN:
		if (ch >= '0' && ch <= '9') {
			if (p->clen < (1ULL << 48))	/* beyond that it is garbage anyway */
				p->clen = p->clen * 10 + (ch - '0');
		} else if (ch == '\n') {
			p->state = P_HSTART;
		} else if (ch == '\r') {
			/* the value ends, as content_length_at() reads it (a bare CR too) */
			p->state = P_HSKIP;
		}
		break;
	case P_TENC:
		/* "chunked" is the last coding whenever it is present */
		if (ch == '\r' || ch == '\n') {
			if (p->token == HASH_CHUNKED)
				p->flags |= PF_CHUNKED;
			if (ch == '\n')
				p->state = P_HSTART;
		} else if (ch == ',' || ch == ' ' || ch == '\t') {
			p->token = 0;
		} else {
			p->token = HASH_STEP(p->token, lower(ch));
		}
		break;
	case P_CHUNK_SIZE: {
		int d = hex_digit(ch);

		if (d >= 0) {
			if (p->left >= (1ULL << 56))
				return framing_lost(c, dir, p, LOSS_UNFRAMED);
			p->left = p->left * 16 + d;
			p->pos = 1;
		} else if (!p->pos) {
			return framing_lost(c, dir, p, LOSS_UNFRAMED);	/* a size line without a size */
		} else if (ch == '\n') {
			chunk_size_done(p);
		} else if (ch == ';' || ch == ' ' || ch == '\t' || ch == '\r') {
			p->state = P_CHUNK_EXT;	/* extensions: skipped */
		} else {
			return framing_lost(c, dir, p, LOSS_UNFRAMED);
		}
		break;
	}
	case P_CHUNK_EXT:
		if (ch == '\n')
			chunk_size_done(p);
		break;
	case P_CHUNK_END:
		if (ch == '\n') {
			p->state = P_CHUNK_SIZE;
			p->left = 0;
			p->pos = 0;
		} else if (ch != '\r') {
			return framing_lost(c, dir, p, LOSS_UNFRAMED);
		}
		break;
	}
	return PARSE_OK;

bad_response:
	/* not a status line where one must start: it costs its request */
	http1_emit(c, LOSS_UNPARSABLE_RESPONSE);
	return framing_lost(c, dir, p, LOSS_UNFRAMED);
}

/*
 * Index of the lowest byte whose top bit is set in m (m != 0, only top
 * bits set), without a branch: each branch doubles the paths the verifier
 * walks in a loop. The lowest mark, moved to bit 8k, shifts byte 7 - k of
 * the constant, which holds k, to the top.
 */
static __always_inline __u32 first_marked_byte(__u64 m)
{
	return (((m & -m) >> 7) * 0x0001020304050607ULL) >> 56;
}


#define ONES	0x0101010101010101ULL
#define LOW7	0x7f7f7f7f7f7f7f7fULL

/* The top bit of every byte of w that equals the byte c, exactly. */
static __always_inline __u64 bytes_equal(__u64 w, __u8 c)
{
	__u64 x = w ^ (ONES * c);

	return ~(((x & LOW7) + LOW7) | x | LOW7);
}

/*
 * The request target at from: the offset of the ' ', '\r' or '\n' that
 * ends it, looking at most HTTP_PATH_MAX + 16 bytes ahead (len if there is
 * none in reach), and in *path_end that of the '?' or '#' that ends its
 * path, or the same. A line break ends it too, as in the byte parser (a
 * request line without a version is a bad request, not a target with the
 * headers in it).
 */
static __always_inline __u32 find_target_end(struct scan_buf *b, __u32 from, __u32 len,
					     __u32 *path_end)
{
	__u32 base = from & ~7u, query = ~0u;

	for (int i = 0; i < (HTTP_PATH_MAX + 16) / 8; i++) {
		__u32 at = base + i * 8;
		__u64 w, m, q;

		if (at >= len)
			break;
		w = b->words[(at / 8) % ((HTTP_SCAN_MAX + HTTP_PATH_MAX) / 8)];
		m = bytes_equal(w, ' ') | bytes_equal(w, '\r') | bytes_equal(w, '\n');
		q = bytes_equal(w, '?') | bytes_equal(w, '#');
		if (i == 0) {
			m &= ~0ULL << ((from & 7) * 8);
			q &= ~0ULL << ((from & 7) * 8);
		}
		if (q && query == ~0u)
			query = at + first_marked_byte(q);
		if (m) {
			at += first_marked_byte(m);
			*path_end = query < at ? query : at;
			return at < len ? at : len;
		}
	}
	return len;
}

/* The request method at the start of a word, and its length with the space. */
static __always_inline __u8 method_from_word(__u64 w, __u32 *len)
{
#define TRY(n, token, method)						\
	if ((w & (~0ULL >> (64 - 8 * (n)))) == (token)) {		\
		*len = (n);						\
		return (method);					\
	}
	TRY(4, M4('G', 'E', 'T', ' '), HTTP_METHOD_GET)
	TRY(5, M5('P', 'O', 'S', 'T', ' '), HTTP_METHOD_POST)
	TRY(5, M5('H', 'E', 'A', 'D', ' '), HTTP_METHOD_HEAD)
	TRY(4, M4('P', 'U', 'T', ' '), HTTP_METHOD_PUT)
	TRY(7, M7('D', 'E', 'L', 'E', 'T', 'E', ' '), HTTP_METHOD_DELETE)
	TRY(6, M6('P', 'A', 'T', 'C', 'H', ' '), HTTP_METHOD_PATCH)
#undef TRY
	return HTTP_METHOD_OTHER;	/* rarer ones: the byte-wise parser knows them */
}

#define LOWER8		0x2020202020202020ULL	/* | this: ASCII letters to lower case */
/* the same for bytes 0-6, 0-5, 1-7 only: the others must match exactly */
#define LOWER_0_6	0x0020202020202020ULL
#define LOWER_0_5	0x0000202020202020ULL
#define LOWER_1_7	0x2020202020202000ULL
#define M8(a, b, c, d, e, f, g, h)	(M7(a, b, c, d, e, f, g) | (__u64)(h) << 56)

/* The 8 bytes at any offset pos of the scan buffer, from its aligned words. */
static __always_inline __u64 word_at(const struct scan_buf *b, __u32 pos)
{
	__u32 i = (pos / 8) & (HTTP_SCAN_MAX / 8 - 1), shift = (pos & 7) * 8;

	/* no branch, and no shift by 64 when pos is aligned */
	return b->words[i] >> shift | (b->words[i + 1] << 1) << (63 - shift);
}

/*
 * A Content-Length value at pos: digits, blanks before them, up to the end
 * of the line. false for anything else (the byte parser decides then) or
 * for a line that goes on past the buffer.
 */
static __always_inline bool content_length_at(const struct scan_buf *b, __u32 pos, __u32 len,
					      __u64 *clen)
{
	bool digits = false;
	__u64 v = 0;

	for (int i = 0; i < 24; i++, pos++) {
		__u8 ch;

		if (pos >= len)
			return false;
		ch = b->data[pos & (HTTP_SCAN_MAX - 1)];
		if (ch >= '0' && ch <= '9') {
			if (v < (1ULL << 48))	/* as http1_parse_byte(): beyond, garbage anyway */
				v = v * 10 + (ch - '0');
			digits = true;
		} else if (ch == '\r' || ch == '\n') {
			*clen = v;
			return digits;
		} else if (digits || (ch != ' ' && ch != '\t')) {
			return false;
		}
	}
	return false;
}

/*
 * A value read from map memory, never from a copy the compiler kept in a
 * register or on the stack: a loop's state kept there instead has bounds
 * that differ on every path, and the verifier cannot prune them.
 */
#define FORGET(x)	(*(volatile typeof(x) *)&(x))

/* Steps of http1_head_scan(): a word without a newline, or a line, each. */
#define HEAD_SCAN_STEPS		96

/*
 * The rest of a request head, from the end of its path (b->pos) on, a word
 * at a time: its lines are only looked at for Content-Length, up to the
 * empty line that ends the head. Returns 1 having finished the head (as
 * head_done()); 0, having changed nothing, for what the byte parser must
 * see: a head that goes on past the buffer or past HEAD_SCAN_STEPS, a
 * Transfer-Encoding, an odd or repeated Content-Length. Inlined in
 * http1_fast_start(), which is verified once: a call costs ~10 ns where
 * returns are slow (SRSO's safe RET), and the verifier's walk is no longer.
 */
static __always_inline int http1_head_scan(struct conn *c, struct scan_buf *b)
{
	__u32 start, len, end = 0;
	__u64 clen = 0;

	start = b->pos;
	b->clen_at = 0;
	for (int i = 0; i < HEAD_SCAN_STEPS; i++) {
		__u32 pos = FORGET(b->pos), base = pos & ~7u, line;
		__u64 m, name;
		__u8 ch;

		len = FORGET(b->len);
		if (pos >= len || len > HTTP_SCAN_MAX)
			break;
		m = bytes_equal(b->words[(base / 8) & (HTTP_SCAN_MAX / 8 - 1)], '\n');
		m &= ~0ULL << ((pos & 7) * 8);	/* bytes before pos are done */
		if (!m) {
			b->pos = base + 8;
			continue;
		}
		line = base + first_marked_byte(m) + 1;
		if (line >= len)
			break;	/* past the data, or the head goes on */
		b->pos = line;
		ch = b->data[line & (HTTP_SCAN_MAX - 1)];
		if (ch == '\n') {
			end = line + 1;
			break;
		}
		if (ch == '\r') {
			if (line + 1 < len && b->data[(line + 1) & (HTTP_SCAN_MAX - 1)] == '\n')
				end = line + 2;
			break;
		}
		ch |= 0x20;	/* C and T to lower case; no other byte becomes c or t */
		if ((ch != 'c' && ch != 't') || line + 16 > len)
			continue;	/* a line that does not matter, or too short to tell */
		name = word_at(b, line);
		if ((name | LOWER8) == M8('t', 'r', 'a', 'n', 's', 'f', 'e', 'r'))
			break;
		/* as in header_name(): '-' and ':' exactly */
		if ((name | LOWER_0_6) == M8('c', 'o', 'n', 't', 'e', 'n', 't', '-') &&
		    ((word_at(b, line + 8) | LOWER_0_5) & MASK7) ==
		    M7('l', 'e', 'n', 'g', 't', 'h', ':')) {
			if (FORGET(b->clen_at))
				break;	/* twice: the byte parser takes the last */
			b->clen_at = line + 15;
		}
	}
	if (!end || (b->clen_at && !content_length_at(b, b->clen_at, b->len, &clen))) {
		b->pos = start;
		return 0;
	}
	if (b->clen_at) {
		c->req.flags |= PF_CLEN;
		c->req.clen = clen;
	}
	c->req.head_bytes += end - start;
	b->pos = end;
	head_done(DIR_REQUEST, c, &c->req);
	return 1;
}

/*
 * The status code of a status line starting "HTTP/1.x NNN": bytes 0-7 are
 * w0, 8-11 the low bytes of w1. -1 for anything else.
 */
static __always_inline int status_line(__u64 w0, __u64 w1)
{
	__u8 d0 = (__u8)(w1 >> 8) - '0', d1 = (__u8)(w1 >> 16) - '0', d2 = (__u8)(w1 >> 24) - '0';

	if ((w0 & MASK7) != TOKEN_HTTP1 || (__u8)w1 != ' ' || d0 > 9 || d1 > 9 || d2 > 9)
		return -1;
	return d0 * 100 + d1 * 10 + d2;
}

/*
 * A message starting at the beginning of the scan buffer, parsed a word at
 * a time: the request line up to the end of its path, or the status line up
 * to its code. Anything unusual is left to the byte-wise parser, from the
 * start of the message.
 */
__noinline int http1_fast_start(struct conn *c, struct scan_buf *b, __u32 dir, __u64 now)
{
	__u32 len, mlen = 0, end, path_end = 0;
	struct pending_req *r;
	struct parser *p;
	__u64 w;
	__u8 ch, method;

	if (!c || !b)
		return PARSE_OK;
	p = dir == DIR_REQUEST ? &c->req : &c->resp;
	len = b->len;
	w = b->words[0];
	if ((__u8)w == '\r' || (__u8)w == '\n')
		return PARSE_OK;	/* empty lines first: the byte parser skips them */
	start_message(dir, now, c, p);
	if (p->state == P_UNKNOWN)
		return PARSE_STOP;

	if (dir == DIR_RESPONSE) {
		int status = len < 12 ? -1 : status_line(w, b->words[1]);

		if (status < 0)
			return PARSE_OK;
		p->status = status;
		p->head_bytes = 12;
		b->pos = 12;
		return status_parsed(c, p);
	}

	/* the word's bytes past len are another buffer's: no method from them */
	method = method_from_word(w, &mlen);
	if (method == HTTP_METHOD_OTHER || mlen >= len)
		return PARSE_OK;
	r = req_tail(c);
	r->operation = method;
	end = find_target_end(b, mlen, len, &path_end);
	if (end >= len)
		return PARSE_OK;	/* the target goes on past this buffer */
	ch = b->data[end & (HTTP_SCAN_MAX - 1)];
	if (ch == '\r' || ch == '\n')
		return PARSE_OK;	/* no version: the byte parser counts the bad request */
	/* the query (or fragment) is never exported: it may carry secrets */
	if (path_end - mlen > HTTP_PATH_MAX) {
		r->flags |= HTTP_EVENT_PATH_TRUNCATED;
		r->resource_len = HTTP_PATH_MAX;
	} else {
		r->resource_len = path_end - mlen;
	}
	/* plain (unaligned) loads from the scan buffer: a helper call costs more */
	for (int i = 0; i < HTTP_PATH_MAX / 8; i++)
		((__u64 *)r->resource)[i] = *(__u64 *)&b->data[(mlen & 15) + i * 8];
	p->state = P_LINE;
	p->head_bytes = end + 1;
	b->pos = end + 1;
	if (!http1_head_scan(c, b))
		return PARSE_OK;	/* the byte parser goes on from the path's end */
	return b->pos < len ? PARSE_OK : PARSE_STOP;
}

/* Offset just past the first '\n' in the aligned word at base, from pos on; 0 if none. */
static __always_inline __u32 newline_in_word(struct scan_buf *b, __u32 base, __u32 pos)
{
	__u64 m = bytes_equal(b->words[(base / 8) & (HTTP_SCAN_MAX / 8 - 1)], '\n');

	m &= ~0ULL << ((pos - base) * 8);	/* bytes before pos are done */
	return m ? base + first_marked_byte(m) + 1 : 0;
}

/*
 * A header line starting with c or t, 24 bytes at a time: Content-Length
 * and Transfer-Encoding lead to their values' states; any other name
 * becomes a line to skip. Returns true having moved past the name; false,
 * unchanged, when fewer than 24 bytes are left (the byte parser decides).
 */
static __always_inline bool header_name(struct scan_buf *b, struct parser *p, __u32 pos, __u32 len)
{
	__u64 w[3];

	if (len - pos < sizeof(w))
		return false;
	__builtin_memcpy(w, &b->data[pos & (HTTP_SCAN_MAX - 1)], sizeof(w));
	/*
	 * Letters to lower case, and nothing else: | 0x20 would make '\r'
	 * a '-' and 0x1a a ':' (the byte parser's lower() touches A-Z only).
	 */
	if ((w[0] | LOWER_0_6) == M8('c', 'o', 'n', 't', 'e', 'n', 't', '-') &&
	    ((w[1] | LOWER_0_5) & MASK7) == M7('l', 'e', 'n', 'g', 't', 'h', ':')) {
		p->state = P_CLEN;
		p->clen = 0;
		p->flags |= PF_CLEN;
		pos += 15;
	} else if ((w[0] | LOWER8) == M8('t', 'r', 'a', 'n', 's', 'f', 'e', 'r') &&
		   (w[1] | LOWER_1_7) == M8('-', 'e', 'n', 'c', 'o', 'd', 'i', 'n') &&
		   (__u16)(w[2] | 0x20) == M2('g', ':')) {
		p->state = P_TENC;
		p->token = 0;
		pos += 18;
	} else {
		p->state = P_HSKIP;
		return false;	/* the caller skips the line */
	}
	p->head_bytes += pos - b->pos;
	b->pos = pos;
	return true;
}

/*
 * Skip the rest of a header line that does not matter, up to two aligned
 * words a step (no loop: an unrolled one multiplies the verifier's paths).
 * A line starting with anything but c or t (for Content-Length and
 * Transfer-Encoding) or the head's empty line is skipped right away too.
 * Returns false, having moved nothing, at a line the byte parser must see.
 */
static __always_inline bool skip_line(struct scan_buf *b, struct parser *p, __u32 pos, __u32 len)
{
	__u32 base = pos & ~7u, end;

	if (p->state == P_HSTART) {
		__u8 ch = lower(b->data[pos & (HTTP_SCAN_MAX - 1)]);

		if (ch == '\r' || ch == '\n')
			return false;
		if ((ch == 'c' || ch == 't') && header_name(b, p, pos, len))
			return true;
		if (p->state == P_HSTART && (ch == 'c' || ch == 't'))
			return false;	/* too near the end of the buffer to tell */
		p->state = P_HSKIP;
	}
	end = newline_in_word(b, base, pos);
	if (!end && base + 8 < len)
		end = newline_in_word(b, base + 8, base + 8);
	if (end && end <= len) {
		p->state = P_HSTART;
	} else {
		end = end ? len : base + 16;
		if (end > len)
			end = len;	/* the line goes on in the next buffer */
	}
	p->head_bytes += end - pos;
	b->pos = end;
	return true;
}

/* The empty line that ends a head starts at pos. */
static __always_inline bool head_ends_at(struct scan_buf *b, __u32 pos, __u32 len)
{
	return pos + 1 < len && b->data[pos & (HTTP_SCAN_MAX - 1)] == '\r' &&
	       b->data[(pos + 1) & (HTTP_SCAN_MAX - 1)] == '\n';
}

#define HEAD_LINES_PER_STEP	4

enum skip_result {
	SKIP_MORE,	/* moved on: next step */
	SKIP_DONE,	/* the buffer is used up */
	SKIP_BYTE,	/* at a byte the byte parser must see */
};

/*
 * Header lines that do not matter, and the head's end, several a bpf_loop
 * step: a step is a call, and most heads are a few short lines. Global:
 * verified once, on its own, not in every path of the callback.
 */
__noinline int http1_skip_lines(struct conn *c, struct scan_buf *b, __u32 dir)
{
	struct parser *p;
	__u32 pos, len;

	if (!c || !b)
		return SKIP_DONE;
	p = dir == DIR_REQUEST ? &c->req : &c->resp;
	pos = b->pos;
	len = b->len;
	for (int i = 0; i < HEAD_LINES_PER_STEP; i++) {
		if (p->state == P_HSTART && head_ends_at(b, pos, len)) {
			p->head_bytes += 2;
			b->pos = pos + 2;
			head_done(dir, c, p);
			return SKIP_MORE;
		}
		if (!skip_line(b, p, pos, len))
			return SKIP_BYTE;
		pos = b->pos;
		if (pos >= len)
			return SKIP_DONE;
		if (p->state != P_HSTART && p->state != P_HSKIP)
			return SKIP_MORE;	/* a value the byte parser reads */
	}
	return SKIP_MORE;
}

/* bpf_loop callback: one step of the parser over the scan buffer. */
static long scan_step(__u64 index, void *ctx)
{
	struct scan_ctx *s = ctx;
	struct scan_buf *b = s->buf;
	struct parser *p = s->p;
	__u32 pos = b->pos, len = b->len;
	__u8 ch;

	if (pos >= len || len > HTTP_SCAN_MAX)
		return 1;

	switch (p->state) {
	case P_BODY: {
		__u32 room = len - pos;

		if (p->left >= room) {
			/* the rest of the buffer is body */
			p->left -= room;
			b->pos = len;
			if (!p->left)
				body_done(p);
			return 1;
		}
		b->pos = pos + p->left;
		p->left = 0;
		body_done(p);
		return 0;
	}
	case P_UNKNOWN:
	case P_UNTIL_CLOSE:
	case P_LOST:
	case P_GIVEN_UP:
		return 1;	/* the caller decides how to resynchronise */
	case P_LINE:
	case P_HSKIP:
	case P_HSTART:
		switch (http1_skip_lines(s->conn, b, s->dir)) {
		case SKIP_MORE:
			return 0;
		case SKIP_DONE:
			return 1;
		}
		pos = b->pos;
		break;		/* a line the byte parser must see */
	}

	ch = b->data[pos & (HTTP_SCAN_MAX - 1)];
	b->pos = pos + 1;
	switch (http1_parse_byte(s->conn, s->dir, s->now, ch)) {
	case PARSE_NOT_HTTP:
		s->drop = SCAN_DROP_NOT_HTTP;
		return 1;
	case PARSE_NOT_HTTP_COUNTED:
		s->drop = SCAN_DROP_LOST;
		return 1;
	case PARSE_UPGRADED:
		s->drop = SCAN_DROP_UPGRADED;
		return 1;
	case PARSE_STOP:
		return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Feeding the parser from syscall buffers                                */

/*
 * Body bytes of known length, skipped by count, never copied (sendfile's
 * we cannot even see): returns how many of the n bytes the body took.
 */
static __always_inline __u64 skip_body(struct parser *p, __u64 n)
{
	__u64 skip;

	if (p->state != P_BODY)
		return 0;
	skip = p->left < n ? p->left : n;
	p->left -= skip;
	if (!p->left)
		body_done(p);
	return skip;
}

/* Empty lines a response may start with (RFC 9112 2.2) that resync looks past. */
#define RESYNC_BLANKS_MAX	4

/*
 * Whether the n bytes in the scan buffer start a response: "HTTP/1.", or
 * as much of it as they hold (a status line split anywhere), after at most
 * RESYNC_BLANKS_MAX CR or LF bytes. Global: its loop, verified once.
 */
__noinline int http1_starts_response(const struct scan_buf *b, __u32 n)
{
	__u32 k = 0, m;
	__u64 mask;

	if (!b)
		return 0;
	for (int i = 0; i < RESYNC_BLANKS_MAX; i++) {
		__u8 ch = b->data[k & 7];

		if (ch != '\r' && ch != '\n')
			break;
		k++;
	}
	if (k >= n)
		return 0;
	m = n - k < 7 ? n - k : 7;
	mask = MASK7 >> (8 * (7 - m));
	return (word_at(b, k) & mask) == (TOKEN_HTTP1 & mask);
}

/*
 * http1_feed_window() returns the bytes it parsed, or FEED_STOP (nothing
 * more to learn from this buffer), or -SCAN_DROP_* (drop the connection).
 */
#define FEED_STOP		(-1000)
/* Scan windows of one buffer: 256 KiB of heads, bodies skipped by count. */
#define FEED_WINDOWS_MAX	64

/* http1_feed_window()'s how: the direction, or'ed with these (and FEED_FROM_COPY) */
#define FEED_MID_BUFFER		0x100	/* not the start of the syscall's buffer */

/*
 * Up to HTTP_SCAN_MAX of the n bytes at ubuf (capture_load()) into the
 * scan buffer, from its start: how many, 0 when none could be read.
 */
static __always_inline __u32 scan_load(struct scan_buf *b, __u64 ubuf, __u64 n, bool from_copy)
{
	if (n > HTTP_SCAN_MAX)
		n = HTTP_SCAN_MAX;
	barrier_var(n);
	if (n == 0 || n > HTTP_SCAN_MAX || capture_load(b, n, ubuf, from_copy))
		return 0;
	b->pos = 0;
	b->len = n;
	return n;
}

/*
 * The len user bytes at ubuf, up to one scan window of them. Returns the
 * bytes it used, or a FEED_ result. Global: a buffer's windows after the
 * first are a loop, and verified inline each would multiply the paths of
 * the others.
 */
__noinline long http1_feed_window(struct conn *c, __u32 how, __u64 ubuf, __u64 len, __u64 now)
{
	__u32 dir = how & DIR_RESPONSE, off = how & FEED_MID_BUFFER, copy = how & FEED_FROM_COPY;
	struct scan_ctx s = { .conn = c, .now = now, .dir = dir };
	bool resync = false;
	struct parser *p;
	__u32 zero = 0;
	__u64 n;

	if (!c || !len)
		return FEED_STOP;
	p = dir == DIR_REQUEST ? &c->req : &c->resp;
	s.p = p;
	s.buf = bpf_map_lookup_elem(&scan_scratch, &zero);
	if (!s.buf || parser_stopped(p->state))
		return FEED_STOP;
	if (p->state == P_BODY)
		return skip_body(p, len);
	if (p->state == P_UNKNOWN) {
		/* a response of unknown length ends where a write starts the next */
		if (dir != DIR_RESPONSE || off || !conn_pending(c))
			return FEED_STOP;
		resync = true;
	}

	n = len;
	/* a lone response needs only its status line */
	if (dir == DIR_RESPONSE && response_is_lone(c) && (p->state == P_IDLE || resync) &&
	    n > 12 + RESYNC_BLANKS_MAX)
		n = 12 + RESYNC_BLANKS_MAX;
	n = scan_load(s.buf, ubuf, n, copy);
	if (!n)
		return FEED_STOP;
	if (resync) {
		if (!http1_starts_response(s.buf, n))
			return FEED_STOP;
		p->state = P_IDLE;
	}
	if (p->state == P_IDLE && !off) {
		int r = http1_fast_start(c, s.buf, dir, now);

		if (r == PARSE_UPGRADED)
			return -SCAN_DROP_UPGRADED;
		if (r == PARSE_STOP)
			return s.buf->pos;
	}
	bpf_loop(n, scan_step, &s, 0);
	if (s.drop)
		return -(long)s.drop;
	return s.buf->pos;
}

struct feed_walk {
	struct conn *conn;
	__u64 ubuf;
	__u64 len;
	__u64 off;		/* bytes of the buffer parsed */
	__u64 now;
	__u32 dir;		/* or'ed with FEED_FROM_COPY */
	__u32 drop;		/* enum scan_drop */
};

/* bpf_loop callback: the next window of the buffer. */
static long feed_step(__u64 index, void *ctx)
{
	struct feed_walk *w = ctx;
	long used;

	if (w->off >= w->len)
		return 1;
	used = http1_feed_window(w->conn, w->dir | (w->off ? FEED_MID_BUFFER : 0),
				w->ubuf + w->off, w->len - w->off, w->now);
	if (used == FEED_STOP || used == 0) {
		w->off = w->len;	/* nothing more to learn here */
		return 1;
	}
	if (used < 0) {
		w->drop = -used;
		return 1;
	}
	w->off += used;
	return 0;
}

/*
 * Bytes of a buffer the parser did not follow: where a body of known
 * length, or a stream no longer followed, goes on, nothing is lost; else
 * framing is (framing_lost()), the requests in flight as LOSS_TRUNCATED.
 */
static __always_inline int unframed_rest(struct conn *c, __u32 dir)
{
	struct parser *p = dir == DIR_REQUEST ? &c->req : &c->resp;

	if (p->state != P_UNKNOWN && !parser_stopped(p->state))
		framing_lost(c, dir, p, LOSS_TRUNCATED);
	return SCAN_KEEP;
}

/*
 * Parse one user buffer (dir may carry FEED_FROM_COPY). Returns SCAN_KEEP,
 * or why the connection must be dropped.
 */
__noinline int http1_feed(struct conn *c, __u32 dir, __u64 ubuf_addr, __u64 len, __u64 now)
{
	struct feed_walk w = { .conn = c, .ubuf = ubuf_addr, .len = len, .now = now,
			       .dir = dir & (DIR_RESPONSE | FEED_FROM_COPY) };

	if (!c)
		return SCAN_KEEP;
	dir &= DIR_RESPONSE;
	/*
	 * The common case, one whole request head and nothing after it, here:
	 * each call level costs (SRSO's safe RET). Whatever it leaves goes on
	 * in the windows, from where it stopped.
	 */
	if (dir == DIR_REQUEST && c->req.state == P_IDLE && len <= HTTP_SCAN_MAX) {
		__u32 zero = 0;
		struct scan_buf *b = bpf_map_lookup_elem(&scan_scratch, &zero);

		if (!b || !scan_load(b, ubuf_addr, len, w.dir & FEED_FROM_COPY))
			return SCAN_KEEP;
		if (http1_fast_start(c, b, dir, now) == PARSE_STOP && b->pos >= len)
			return SCAN_KEEP;
		w.off = b->pos;
	}
	/* else the first window, called directly: a bpf_loop only for more */
	if (w.off || !feed_step(0, &w))
		bpf_loop(FEED_WINDOWS_MAX - 1, feed_step, &w, 0);
	if (w.drop == SCAN_DROP_NOT_HTTP)
		count_loss(LOSS_NOT_HTTP);
	if (w.drop || w.off >= len)
		return w.drop;
	/* more heads in one buffer than we scan */
	return unframed_rest(c, dir);
}

/* A response head longer than what was sent so far: emit with what we know. */
static __always_inline void response_flush(struct conn *c)
{
	if (c->resp.flags & PF_EMIT_DUE)
		http1_emit(c, 0);
}

/*
 * A server's one awaited response starting, in its status line alone: the
 * common case, done with one read of 16 bytes and none of the scanner's
 * state. The event goes out at once, and the rest of the response is not
 * parsed (the next one starts where a write begins with "HTTP/1."), as
 * status_parsed() does. Returns false, having changed nothing, for the
 * general parser: pipelined requests, an interim (1xx) or odd status line,
 * a head split before its status code, a first buffer shorter than 16 bytes.
 */
static __always_inline bool response_fast(struct conn *c, const struct io_args *io, long ret,
					  __u64 now)
{
	struct parser *p = &c->resp;
	__u64 w[2], buf, len;
	int status;

	if (c->client || !response_is_lone(c) || ret < (long)sizeof(w) ||
	    (p->state != P_IDLE && p->state != P_UNKNOWN))
		return false;
	buf = first_buffer(io, ret, &len);
	if (!buf || len < sizeof(w) || bpf_probe_read_user(w, sizeof(w), (void *)buf))
		return false;
	if ((w[0] & MASK7) != TOKEN_HTTP1) {
		if ((__u8)w[0] == '\r' || (__u8)w[0] == '\n')
			return false;	/* empty lines first: the general parser */
		/* in a response of unknown length, more of its body */
		return p->state == P_UNKNOWN;
	}
	status = status_line(w[0], w[1]);
	if (status < 200)
		return false;
	start_message(DIR_RESPONSE, now, c, p);
	p->status = status;
	p->head_bytes = 12;
	status_parsed(c, p);	/* a lone response: emitted, the rest not parsed */
	return true;
}

/*
 * The request parser of c is at a message boundary: the next byte starts
 * a request. Requests are framed to their end, chunked ones included; one
 * whose framing is lost gives the connection up (http1_io_done()).
 */
static __always_inline bool http1_between_requests(const struct conn *c)
{
	return c->req.state == P_IDLE;
}

/* ---------------------------------------------------------------------- */
/* The module's interface (protocol.bpf.h)                                */

/*
 * A request line's start: a method token (any RFC 9110 token) and a
 * space, after empty lines; or a token, or empty lines, that go on past
 * the n bytes.
 * "PRI" is HTTP/2's preface, not HTTP/1. Global: its loop, verified once.
 */
__noinline int http1_classify(__u64 w, __u32 n)
{
	__u32 start = 0, len = 0;

	for (int i = 0; i < 8; i++) {
		__u8 ch = w >> (8 * i);

		if (i >= n)
			break;
		if (!len && (ch == '\r' || ch == '\n')) {
			start = i + 1;
			continue;
		}
		if (ch == ' ') {
			if (len == 3 && ((w >> (8 * (start & 7))) & 0xffffff) == TOKEN_PRI)
				return 0;
			return len > 0;
		}
		if (!is_tchar(ch))
			return 0;
		len++;
	}
	/*
	 * Empty lines alone (a read of the "\r\n" before a request) are what
	 * HTTP/1 may start with: the parser skips them and judges what follows
	 */
	return len > 0 || start >= (n < 8 ? n : 8);
}

static __always_inline bool http1_io_fast(struct conn *c, __u32 dir, const struct io_args *io,
					  long ret, __u64 now)
{
	return dir == DIR_RESPONSE && response_fast(c, io, ret, now);
}

/* The rest of a body (or chunk) of known length: skipped by count, never read. */
static __always_inline __u64 http1_skippable(const struct conn *c, __u32 dir)
{
	const struct parser *p = dir == DIR_REQUEST ? &c->req : &c->resp;

	return p->state == P_BODY ? p->left : 0;
}

/* n bytes that cannot be read: a body's, or framing is lost. */
static __always_inline int http1_skip(struct conn *c, __u32 dir, __u64 n)
{
	struct parser *p = dir == DIR_REQUEST ? &c->req : &c->resp;

	n -= skip_body(p, n);
	return n ? unframed_rest(c, dir) : SCAN_KEEP;
}

/*
 * The socket operation is over: a response head that goes on is reported
 * with what is known; framing lost with requests in flight counts them
 * lost, and gives up the responses (the requests still parse, each lost
 * as it comes) or, lost in the requests, the connection.
 */
static __always_inline int http1_io_done(struct conn *c, __u32 dir)
{
	struct parser *p = dir == DIR_REQUEST ? &c->req : &c->resp;

	if (dir == DIR_RESPONSE)
		response_flush(c);
	if (p->state != P_LOST)
		return SCAN_KEEP;
	conn_end(c, 0, p->token);
	if (dir == DIR_REQUEST)
		return SCAN_DROP_LOST;	/* no telling where requests start */
	p->state = P_GIVEN_UP;
	c->responses_given_up = 1;
	return SCAN_KEEP;
}

/*
 * The rest of a server's lone response (its body: nginx's sendfile after
 * the head's writev): no request awaits a response, so there is nothing
 * to learn, not even which syscall this is.
 */
static __always_inline bool http1_send_ignorable(const struct conn *c)
{
	return !conn_pending(c) && (c->resp.state == P_UNKNOWN || c->resp.state == P_GIVEN_UP);
}

#endif /* SLOTAP_HTTP1_BPF_H */
