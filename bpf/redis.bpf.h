/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Protocol module Redis (layer 4): RESP2 and RESP3 commands and replies,
 * split anywhere across syscalls, each command a request (its name the
 * operation, looked up in redis_names), each reply its response (an error
 * reply's first word the status), pub/sub pushes no responses. Bulk
 * strings are skipped by count, never read but for a command's name.
 * Its interface is in protocol.bpf.h; docs/redis.md says what a request
 * is and what it costs. Uses conn, capture, events, counters.
 */
#ifndef SLOTAP_REDIS_BPF_H
#define SLOTAP_REDIS_BPF_H

/*
 * Names the parser maps to small ids: command names, error prefixes and
 * pub/sub push kinds, in upper case. Filled by the agent before it
 * attaches (user/redis.c); a name not in it is _OTHER, so the operations
 * of a service are bounded by what the agent put there.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, REDIS_NAMES_MAX);
	__type(key, struct redis_name_key);
	__type(value, struct redis_name_value);
} redis_names SEC(".maps");

/* A buffer's windows, walked by bpf_loop. */
struct redis_walk {
	struct conn *conn;
	__u64 ubuf;
	__u64 len;
	__u64 off;		/* bytes of the buffer parsed */
	__u64 now;
	__u32 dir;
	__u32 __pad;
};

/*
 * One socket operation's iovec array, per CPU: the socket programs' stack
 * is spent (HTTP/1's path fills it). No pointer to a conn in it: clang
 * would leave struct conn a forward declaration in the BTF.
 */
struct redis_scratch {
	struct user_msghdr msg;
	struct iovec iov[HTTP_IOV_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct redis_scratch);
} redis_scratch SEC(".maps");

/* Bounds: a count or length beyond these is no RESP a server sends or takes. */
#define RESP_NUM_MAX		(1ULL << 32)
/* Redis's own limit on a command's elements (INT_MAX) */
#define RESP_ARGS_MAX		0x7fffffffULL
/* An inline command line longer than this is refused by Redis (PROTO_INLINE_MAX_SIZE). */
#define RESP_INLINE_MAX		(64 * 1024)

/* redis_parse_byte()'s answer */
enum resp_result {
	RESP_OK = 0,
	RESP_STOP,		/* nothing more to learn from this buffer */
};

static __always_inline struct resp_parser *resp_of(struct conn *c, __u32 dir)
{
	return dir == DIR_REQUEST ? &c->redis_req : &c->redis_resp;
}

static __always_inline __u8 upper(__u8 ch)
{
	return (ch >= 'a' && ch <= 'z') ? ch - 32 : ch;
}

/* What the agent mapped the name captured in p to, as kind; NULL: not a name of ours. */
static __always_inline struct redis_name_value *name_lookup(struct resp_parser *p, __u8 kind)
{
	if (!p->key.len || (p->flags & RF_NAME_LONG))
		return NULL;
	p->key.kind = kind;
	return bpf_map_lookup_elem(&redis_names, &p->key);
}

static __always_inline void capture_start(struct resp_parser *p)
{
	__builtin_memset(p->key.name, 0, sizeof(p->key.name));
	p->key.len = 0;
	p->flags = (p->flags & ~RF_NAME_LONG) | RF_CAPTURE;
}

/* One byte of a name being captured; false once the name ended (a reply's word: a space). */
static __always_inline void capture_byte(struct resp_parser *p, __u32 dir, __u8 ch)
{
	__u8 n = p->key.len;

	if (dir == DIR_RESPONSE && ch == ' ') {
		p->flags &= ~RF_CAPTURE;	/* an error's first word, a push kind */
		return;
	}
	if (n < REDIS_NAME_MAX) {
		p->key.name[n] = upper(ch);
		p->key.len = n + 1;
	} else {
		p->flags |= RF_NAME_LONG;
	}
}

/*
 * Per-request data Redis keeps in pending_req.resource, which it has no
 * other use for: what a subscribe-family command's confirmations are.
 */
struct redis_req {
	__u32 channels;		/* confirmations it gets: one per channel named */
	__u8 subscribe;		/* a (p|s)(un)subscribe command */
};

/*
 * Where the stream goes on cannot be told. Commands: the one being read
 * costs itself (LOSS_UNPARSABLE_REQUEST), the others in flight are lost
 * with the connection (R_LOST: redis_io_done()). Replies, with commands in
 * flight: the one it would answer costs itself (LOSS_UNPARSABLE_RESPONSE),
 * the others are given up; with none, the next write that starts with a
 * reply's type byte starts again.
 */
static __always_inline int resp_lost(struct conn *c, __u32 dir, struct resp_parser *p)
{
	if (dir == DIR_REQUEST) {
		if (!c->req_seq)
			count_loss(LOSS_NOT_HTTP);	/* no command ever: not Redis after all */
		if (p->flags & RF_COMMAND) {
			struct pending_req *r = req_tail(c);

			if (conn_pending(c) && !(r->flags & (REQ_DISCARD | HTTP_EVENT_LATE))) {
				count_loss(LOSS_UNPARSABLE_REQUEST);
				r->flags |= REQ_DISCARD;
			}
		}
		p->state = R_LOST;
		return RESP_STOP;
	}
	if (!conn_pending(c)) {
		p->state = R_UNKNOWN;
		return RESP_STOP;
	}
	if (!(p->flags & RF_UNMATCHED))
		conn_emit_response(c, LOSS_UNPARSABLE_RESPONSE);
	p->state = conn_pending(c) ? R_LOST : R_UNKNOWN;
	return RESP_STOP;
}

/* A command starts: numbered, timed, its name still to come. */
static __always_inline void command_start(struct conn *c, struct resp_parser *p, __u64 now)
{
	struct redis_req *rr;

	conn_req_push(c, p->start_ns);
	/* the slot's last command may have been a subscribe */
	rr = (struct redis_req *)req_tail(c)->resource;
	rr->channels = 0;
	rr->subscribe = 0;
	p->flags = (p->flags & ~(RF_BLOCK_ARG | RF_CAPTURE)) | RF_COMMAND;
}

/* The command's name is read: its operation, and what kind of command it is. */
static __always_inline void command_named(struct conn *c, struct resp_parser *p)
{
	struct pending_req *r = req_tail(c);
	struct redis_name_value *v = name_lookup(p, REDIS_NAME_COMMAND);
	struct redis_req *rr = (struct redis_req *)r->resource;

	p->flags &= ~RF_CAPTURE;
	if (!v)
		return;		/* _OTHER */
	r->operation = v->id;
	if (v->flags & REDIS_CMD_BLOCKING)
		r->flags |= HTTP_EVENT_BLOCKING;
	if (v->flags & REDIS_CMD_BLOCK_ARG)
		p->flags |= RF_BLOCK_ARG;
	if (v->flags & REDIS_CMD_MONITOR)
		c->redis_resp.conn_flags |= RC_MONITOR;
	if (v->flags & REDIS_CMD_SUBSCRIBE) {
		rr->channels = p->elements ? p->elements - 1 : 0;
		rr->subscribe = 1;
		/* RESP2: from now on, arrays may be pushes */
		c->redis_resp.conn_flags |= RC_SUBSCRIBED;
	}
}

/* An argument of a command that blocks when told to: "BLOCK" says it does. */
static __always_inline void argument_read(struct conn *c, struct resp_parser *p)
{
	p->flags &= ~RF_CAPTURE;
	if (p->key.len == 5 && p->key.name[0] == 'B' && p->key.name[1] == 'L' && p->key.name[2] == 'O' &&
	    p->key.name[3] == 'C' && p->key.name[4] == 'K')
		req_tail(c)->flags |= HTTP_EVENT_BLOCKING;
}

/* A command is read to its end. */
static __always_inline void command_done(struct conn *c, struct resp_parser *p)
{
	struct pending_req *r = req_tail(c);

	p->flags &= ~RF_COMMAND;
	r->head_bytes = p->bytes;
	if (r == &c->cur)
		conn_req_spill(c);
}

/*
 * The oldest command in flight is a subscribe-family one that no
 * confirmation answered yet: how many channels it named, or -1. Global:
 * its lookup's key would crowd the parser's stack frame.
 */
__noinline long redis_awaiting_confirmation(struct conn *c)
{
	struct pending_req *r;
	struct redis_req *rr;
	__u32 where;

	if (!c || !conn_pending(c))
		return -1;
	r = req_find(c, c->resp_seq, &where);
	if (!r)
		return -1;
	rr = (struct redis_req *)r->resource;
	return rr->subscribe ? rr->channels : -1;
}

/*
 * The answered command is one more of the event this CPU staged last:
 * the same connection, operation and outcome, read by the same socket
 * operation and answered by the same one (so the same latency, to the
 * nanosecond), as a pipeline's commands are. That event counts it
 * (http_event.count) and no other is made: at -P 16 one event crosses
 * the ring buffer for 16 GETs (docs/redis.md). 1 when merged. Global: its
 * lookups stay out of the parser's frame.
 */
__noinline int redis_merge(struct conn *c)
{
	struct event_batch *b;
	struct pending_req *r;
	struct http_event *e;
	__u32 zero = 0, where, n;
	int merged = 0;

	if (!c || c->client || !conn_pending(c))
		return 0;	/* a client's events go to the ring one by one */
	r = req_find(c, c->resp_seq, &where);
	if (!r || (r->flags & (REQ_DISCARD | HTTP_EVENT_LATE)))
		return 0;
	b = bpf_map_lookup_elem(&event_batches, &zero);
	if (!b || b->busy)
		return 0;
	n = b->n;
	if (!n || n > HTTP_EVENT_BATCH_MAX)
		return 0;
	b->busy = 1;
	barrier();	/* same CPU only: the compiler must keep the order */
	e = &b->ev[(n - 1) & (HTTP_EVENT_BATCH_MAX - 1)];
	if (e->sock_id == c->sock_id && e->protocol == PROTO_REDIS && !e->failure &&
	    e->req_start_ns == r->start_ns && e->resp_start_ns == c->resp_start_ns &&
	    e->operation == r->operation && e->status == c->resp_status &&
	    (e->flags & REQ_EVENT_FLAGS) == (r->flags & REQ_EVENT_FLAGS) &&
	    e->count < 0x7fffffff) {
		e->count++;
		e->req_bytes += r->head_bytes + r->body_bytes;
		e->resp_bytes += c->resp_bytes;
		merged = 1;
	}
	barrier();
	b->busy = 0;
	if (!merged)
		return 0;
	r->flags |= REQ_DISCARD;
	req_forget(c, c->resp_seq, where);
	c->resp_seq++;
	return 1;
}

/* A reply is read to its end: the response of the oldest command in flight, or a push. */
static __always_inline void reply_done(struct conn *c, struct resp_parser *p)
{
	struct redis_name_value *v;
	long channels;

	if (p->flags & RF_CONFIRM) {
		if (p->last_int == 0)
			p->conn_flags &= ~RC_SUBSCRIBED;	/* no subscription left */
		/*
		 * One confirmation per channel: the first answers the command,
		 * the others are no responses. An (un)subscribe to all channels
		 * (no names) is answered by its first.
		 */
		if (p->confirm_skip) {
			p->confirm_skip--;
		} else if ((channels = redis_awaiting_confirmation(c)) >= 0) {
			p->confirm_skip = channels > 1 ? channels - 1 : 0;
			goto answer;
		}
		return;
	}
	if (p->flags & RF_PUSH)
		return;
answer:
	if (p->flags & RF_UNMATCHED) {
		if (!(p->conn_flags & RC_MONITOR))
			count_loss(LOSS_UNMATCHED_RESPONSE);
		return;	/* MONITOR's feed: no responses */
	}
	c->resp_status = REDIS_STATUS_OK;
	c->resp_class = STATUS_CLASS_OK;
	if (p->top == '-' || p->top == '!') {
		v = name_lookup(p, REDIS_NAME_ERROR);
		c->resp_status = v ? v->id : REDIS_ERROR_OTHER;
		c->resp_class = v ? v->flags : STATUS_CLASS_CLIENT_ERROR;
	}
	c->resp_bytes = p->bytes;
	c->resp_flags = HTTP_EVENT_RESP_SIZE_KNOWN;
	if (!redis_merge(c))
		conn_emit_response(c, 0);
}

/* A push's first element, its kind, is read: a message, a confirmation, or (RESP2) a reply. */
static __always_inline void push_kind_read(struct resp_parser *p)
{
	struct redis_name_value *v = name_lookup(p, REDIS_NAME_PUSH);

	p->flags &= ~RF_CAPTURE;
	if (v && v->flags == REDIS_PUSH_CONFIRM)
		p->flags = (p->flags & ~RF_PUSH) | RF_CONFIRM;
	else if (v && v->flags == REDIS_PUSH_MESSAGE)
		p->flags |= RF_PUSH;
	/* else: RESP3, any other push (invalidate, ...); RESP2, an ordinary array */
}

/* A value is read to its end: the message's end when no value is left to come. */
static __always_inline void value_done(struct conn *c, __u32 dir, struct resp_parser *p)
{
	p->state = R_IDLE;
	if (p->left_values)
		return;
	if (dir == DIR_REQUEST)
		command_done(c, p);
	else
		reply_done(c, p);
}

/* A captured bulk string ended: what it was. */
static __always_inline void captured(struct conn *c, __u32 dir, struct resp_parser *p)
{
	if (dir == DIR_REQUEST) {
		if (p->flags & RF_FIRST)
			command_named(c, p);
		else
			argument_read(c, p);
	} else if (p->top != '!') {
		push_kind_read(p);
	} else {
		p->flags &= ~RF_CAPTURE;	/* a blob error's first word */
	}
	p->flags &= ~RF_FIRST;
}

/* A length or count line ended, with p->num (negative: RF_NEG). */
static __always_inline int number_done(struct conn *c, __u32 dir, struct resp_parser *p, __u64 now)
{
	bool top = !p->elements;	/* the message's own line */
	__u64 n = p->num;

	if (!(p->flags & RF_DIGITS))
		return resp_lost(c, dir, p);
	if (dir == DIR_REQUEST && p->type == '*' && (!n || (p->flags & RF_NEG))) {
		/* a command of no elements: skipped by Redis, no reply */
		p->state = R_IDLE;
		p->left_values = 0;
		return RESP_OK;
	}
	if (p->flags & RF_NEG) {
		/* -1: RESP2's null bulk string or array; a command has none */
		if (n != 1 || dir == DIR_REQUEST)
			return resp_lost(c, dir, p);
		value_done(c, dir, p);
		return RESP_OK;
	}
	if (top)
		p->elements = n < RESP_ARGS_MAX ? n : RESP_ARGS_MAX;
	switch (p->type) {
	case '*':
		if (dir == DIR_REQUEST) {
			if (n > RESP_ARGS_MAX)
				return resp_lost(c, dir, p);
			command_start(c, p, now);
			p->flags |= RF_FIRST;
		}
		/* fall through */
	case '>':
		if (dir == DIR_RESPONSE && top && (p->flags & RF_KIND))
			p->flags |= RF_FIRST;	/* its first element is its kind */
		/* fall through */
	case '~':
		p->left_values += n;
		break;
	case '%':
	case '|':
		p->left_values += 2 * n;
		break;
	case '$':
	case '!':
	case '=':
		p->left = n + 2;
		p->state = R_BULK;
		if (p->flags & RF_FIRST) {
			capture_start(p);	/* a command's name, a push's kind */
		} else if (dir == DIR_REQUEST && (p->flags & RF_BLOCK_ARG) && n == 5) {
			capture_start(p);	/* BLOCK? */
		} else if (dir == DIR_RESPONSE && p->type == '!' && top) {
			capture_start(p);	/* a blob error's first word */
		} else {
			p->flags &= ~RF_CAPTURE;
		}
		if (!n && (p->flags & (RF_CAPTURE | RF_FIRST)))
			captured(c, dir, p);	/* an empty name is no name */
		return RESP_OK;
	}
	if (!n) {
		value_done(c, dir, p);	/* an empty aggregate */
		return RESP_OK;
	}
	p->state = R_IDLE;
	return RESP_OK;
}

/* The type byte of a value: what its line is. */
static __always_inline int value_start(struct conn *c, __u32 dir, struct resp_parser *p, __u64 now,
				       __u8 ch)
{
	if (!p->left_values) {
		/* a message starts */
		p->top = ch;
		p->bytes = 1;
		p->start_ns = now;
		p->elements = 0;
		p->flags = 0;
		p->last_int = -1;
		if (dir == DIR_RESPONSE) {
			if (conn_pending(c))
				c->resp_start_ns = now;
			else
				p->flags |= RF_UNMATCHED;
			if (ch == '>' || (ch == '*' && (p->conn_flags & (RC_SUBSCRIBED | RC_RESP3)) ==
					  RC_SUBSCRIBED))
				p->flags |= RF_KIND;	/* its kind says whether it is a push */
			if (ch == '>') {
				p->flags |= RF_PUSH;
				p->conn_flags |= RC_RESP3;
			}
		}
		p->left_values = 1;
	} else if (dir == DIR_REQUEST && ch != '$') {
		return resp_lost(c, dir, p);	/* a command's elements are bulk strings */
	} else if ((p->flags & RF_FIRST) && ch != '$' && ch != '+') {
		p->flags &= ~RF_FIRST;		/* a first element that is no kind */
	}
	if (ch != '|')
		p->left_values--;	/* an attribute is no value: the one after it is */
	p->type = ch;
	p->num = 0;
	p->flags &= ~(RF_NEG | RF_DIGITS);
	switch (ch) {
	case '*': case '%': case '~': case '>': case '|': case '$': case '!': case '=':
		p->state = R_NUM;
		return RESP_OK;
	case ':':
		p->state = R_INT;
		return RESP_OK;
	case '-':
		if (p->top == '-' && !p->left_values)
			capture_start(p);	/* a top-level error: its first word is the status */
		p->state = R_ERROR;
		return RESP_OK;
	case '+': case ',': case '(': case '#': case '_':
		p->state = R_LINE;
		if (p->flags & RF_FIRST) {
			/* a push kind as a simple string */
			capture_start(p);
			p->state = R_ERROR;
		}
		return RESP_OK;
	}
	return resp_lost(c, dir, p);	/* RESP3's streamed types included */
}

/* The end of a line ("\r\n"; Redis itself skips the byte after the "\r"). */
static __always_inline int line_done(struct conn *c, __u32 dir, struct resp_parser *p, __u64 now)
{
	switch (p->line) {
	case R_NUM:
		return number_done(c, dir, p, now);
	case R_INT:
		p->last_int = p->flags & RF_NEG ? -(__s64)p->num : (__s64)p->num;
		break;
	case R_ERROR:
		if (p->flags & RF_FIRST)
			captured(c, dir, p);	/* a push kind */
		p->flags &= ~RF_CAPTURE;
		break;
	case R_INLINE:
		/* a line of blanks is no command, as for Redis */
		if (p->flags & RF_FIRST) {
			if (!p->num)
				command_named(c, p);
			command_done(c, p);
		}
		p->state = R_IDLE;
		p->left_values = 0;
		p->flags = 0;
		return RESP_OK;
	}
	value_done(c, dir, p);
	return RESP_OK;
}

/* One byte of a message: a line's, or one of a bulk string whose bytes are captured or last. */
__noinline int redis_parse_byte(struct conn *c, __u32 dir, __u64 now, __u8 ch)
{
	struct resp_parser *p;

	if (!c)
		return RESP_STOP;
	p = resp_of(c, dir);
	p->bytes++;
	switch (p->state) {
	case R_IDLE:
		if (dir == DIR_REQUEST && !p->left_values && ch != '*') {
			/* an inline command: words on a line */
			p->top = 0;
			p->bytes = 1;
			p->start_ns = now;
			p->flags = 0;
			p->state = R_INLINE;
			p->left_values = 1;
			p->num = 0;
			goto inline_byte;
		}
		return value_start(c, dir, p, now, ch);
	case R_NUM:
	case R_INT:
		if (ch >= '0' && ch <= '9') {
			p->num = p->num * 10 + (ch - '0');
			p->flags |= RF_DIGITS;
			if (p->num > RESP_NUM_MAX && p->state == R_NUM)
				return resp_lost(c, dir, p);
			if (p->num > RESP_NUM_MAX)
				p->num = RESP_NUM_MAX;	/* an integer: only 0 matters */
		} else if (ch == '-' && !(p->flags & (RF_DIGITS | RF_NEG))) {
			p->flags |= RF_NEG;
		} else if (ch == '\r') {
			p->line = p->state;
			p->state = R_LF;
		} else if (p->state == R_NUM) {
			return resp_lost(c, dir, p);	/* "?": streamed, or garbage */
		} else {
			p->state = R_LINE;	/* a big number's digits: not ours to check */
			p->line = R_LINE;
		}
		return RESP_OK;
	case R_ERROR:
		if (ch == '\r') {
			p->line = R_ERROR;
			p->state = R_LF;
		} else if (p->flags & RF_CAPTURE) {
			capture_byte(p, dir, ch);
		}
		return RESP_OK;
	case R_LINE:
		if (ch == '\r') {
			p->line = R_LINE;
			p->state = R_LF;
		}
		return RESP_OK;
	case R_LF:
		return line_done(c, dir, p, now);
	case R_BULK:
		if (p->left > 2 && (p->flags & RF_CAPTURE))
			capture_byte(p, dir, ch);
		if (--p->left)
			return RESP_OK;
		if (p->flags & (RF_CAPTURE | RF_FIRST))
			captured(c, dir, p);
		value_done(c, dir, p);
		return RESP_OK;
	case R_INLINE:
		goto inline_byte;
	}
	return RESP_STOP;

inline_byte:
	/* sdssplitargs: words between blanks; the first is the command */
	if (ch == '\n') {
		p->line = R_INLINE;
		return line_done(c, dir, p, now);
	}
	if (p->bytes > RESP_INLINE_MAX)
		return resp_lost(c, dir, p);
	if (ch == ' ' || ch == '\t' || ch == '\r') {
		if ((p->flags & RF_FIRST) && !p->num) {
			command_named(c, p);
			p->num = 1;	/* the name is over */
		}
		return RESP_OK;
	}
	if (!(p->flags & RF_FIRST)) {
		command_start(c, p, now);
		p->flags |= RF_FIRST;
		capture_start(p);
	}
	if ((p->flags & RF_CAPTURE) && !p->num)
		capture_byte(p, dir, ch);
	return RESP_OK;
}

/* ---------------------------------------------------------------------- */
/* Feeding the parser from syscall buffers                                */

struct redis_scan {
	struct conn *conn;
	struct scan_buf *buf;
	__u64 now;
	__u32 dir;
	__u32 __pad;
};

/* bpf_loop callback: one step of the parser over the scan buffer. */
static long redis_step(__u64 index, void *ctx)
{
	struct redis_scan *s = ctx;
	struct scan_buf *b = s->buf;
	struct resp_parser *p = resp_of(s->conn, s->dir);
	__u32 pos = b->pos, len = b->len;
	__u8 ch;

	if (pos >= len || len > HTTP_SCAN_MAX)
		return 1;
	if (p->state >= R_UNKNOWN)
		return 1;
	/*
	 * What needs no decision is done here, a byte a step: a name's bytes,
	 * a number's digits, a line's bytes to its "\r". redis_parse_byte() is
	 * called for the bytes that change something (a type, a line's end, a
	 * bulk string's last byte): a GET is 8 of its calls, not 20. (A loop
	 * here would be walked by the verifier iteration by iteration.)
	 */
	if (p->state == R_BULK && p->left > 1 && (!(p->flags & RF_CAPTURE) || p->left <= 2)) {
		/* a bulk string's bytes but its last: by count */
		__u64 k = p->left - 1;

		if (k > len - pos)
			k = len - pos;
		p->left -= k;
		p->bytes += k;
		b->pos = pos + k;
		return 0;
	}
	ch = b->data[pos & (HTTP_SCAN_MAX - 1)];
	switch (p->state) {
	case R_BULK:
		if (p->left <= 2 || (s->dir == DIR_RESPONSE && ch == ' '))
			goto byte;
		/* a name's byte, in upper case */
		if (p->key.len < REDIS_NAME_MAX) {
			__u8 n = p->key.len;

			/* the mask, which clang cannot drop, is the verifier's bound */
			barrier_var(n);
			p->key.name[n & 31] = upper(ch);
			p->key.len = n + 1;
		} else {
			p->flags |= RF_NAME_LONG;
		}
		p->left--;
		break;
	case R_NUM:
	case R_INT:
		if (ch == '\r')
			goto line_end;
		if (ch < '0' || ch > '9' || p->num * 10 + (ch - '0') > RESP_NUM_MAX)
			goto byte;	/* a sign, no number, too long: the byte parser */
		p->num = p->num * 10 + (ch - '0');
		p->flags |= RF_DIGITS;
		break;
	case R_LINE:
		if (ch == '\r')
			goto line_end;
		break;
	default:
		goto byte;
	}
	p->bytes++;
	b->pos = pos + 1;
	return 0;
line_end:
	p->line = p->state;
	p->state = R_LF;
	p->bytes++;
	b->pos = pos + 1;
	return 0;
byte:
	b->pos = pos + 1;
	return redis_parse_byte(s->conn, s->dir, s->now, ch) == RESP_STOP;
}

/* A reply's first byte: a RESP type. */
static __always_inline bool resp_type_byte(__u8 ch)
{
	switch (ch) {
	case '*': case '%': case '~': case '>': case '|': case '$': case '!': case '=':
	case ':': case '-': case '+': case ',': case '(': case '#': case '_':
		return true;
	}
	return false;
}

/*
 * The len user bytes at ubuf, up to one scan window of them. Returns the
 * bytes it used, or FEED_STOP. Global: a buffer's windows are a loop.
 */
__noinline long redis_feed_window(struct conn *c, __u32 how, __u64 ubuf, __u64 len, __u64 now)
{
	__u32 dir = how & DIR_RESPONSE, off = how & FEED_MID_BUFFER;
	struct redis_scan s = { .conn = c, .now = now, .dir = dir };
	struct resp_parser *p;
	__u32 zero = 0, n;

	if (!c || !len)
		return FEED_STOP;
	p = resp_of(c, dir);
	if (p->state == R_BULK && !(p->flags & RF_CAPTURE) && p->left > 1) {
		/* a bulk string's bytes, never read */
		__u64 k = p->left - 1 < len ? p->left - 1 : len;

		p->left -= k;
		p->bytes += k;
		return k;
	}
	if (p->state >= R_LOST)
		return FEED_STOP;
	if (p->state == R_UNKNOWN && (dir != DIR_RESPONSE || off || !conn_pending(c)))
		return FEED_STOP;	/* replies of unknown framing: not until a write starts */
	s.buf = bpf_map_lookup_elem(&scan_scratch, &zero);
	if (!s.buf)
		return FEED_STOP;
	n = scan_load(s.buf, ubuf, len, false);	/* a syscall's buffer: Redis over TLS is not followed */
	if (!n)
		return FEED_STOP;
	if (p->state == R_UNKNOWN) {
		if (!resp_type_byte(s.buf->data[0]))
			return FEED_STOP;
		p->state = R_IDLE;
		p->left_values = 0;
	}
	bpf_loop(n, redis_step, &s, 0);
	return s.buf->pos;
}

/* bpf_loop callback: the next window of the buffer. */
static long redis_walk_step(__u64 index, void *ctx)
{
	struct redis_walk *w = ctx;
	long used;

	if (w->off >= w->len)
		return 1;
	used = redis_feed_window(w->conn, w->dir | (w->off ? FEED_MID_BUFFER : 0),
				 w->ubuf + w->off, w->len - w->off, w->now);
	if (used <= 0) {
		w->off = w->len;	/* nothing more to learn here */
		return 1;
	}
	w->off += used;
	return 0;
}

/* One user buffer, at now. */
static __always_inline void redis_feed(struct conn *c, struct redis_walk *w, __u32 dir,
				       __u64 ubuf, __u64 len, __u64 now)
{
	struct resp_parser *p;

	w->conn = c;
	w->ubuf = ubuf;
	w->len = len;
	w->off = 0;
	w->now = now;
	w->dir = dir;
	bpf_loop(FEED_WINDOWS_MAX, redis_walk_step, w, 0);
	p = resp_of(c, dir);
	if (w->off < len && p->state < R_UNKNOWN)
		resp_lost(c, dir, p);	/* more windows than we follow */
}

/* ---------------------------------------------------------------------- */
/* The module's interface (protocol.bpf.h)                                */

/*
 * A RESP array, a command's only start Redis clients use: "*". Its first
 * byte alone decides (no HTTP server takes a method starting with "*"),
 * so that a read of "*" alone is judged as the whole would be: a "*" that
 * starts no command costs the connection (LOSS_NOT_HTTP), as for HTTP.
 * Inline commands (PING\r\n), which look like anything, are followed only
 * after a RESP one.
 */
static __always_inline bool redis_classify(__u64 w, __u32 n)
{
	return n && (__u8)w == '*';
}

/* n bytes that cannot be read: a bulk string's, or framing is lost. */
static __always_inline int redis_skip(struct conn *c, __u32 dir, __u64 n)
{
	struct resp_parser *p = resp_of(c, dir);

	if (p->state == R_BULK && !(p->flags & RF_CAPTURE) && p->left > n) {
		p->left -= n;
		p->bytes += n;
		return SCAN_KEEP;
	}
	if (p->state < R_UNKNOWN)
		resp_lost(c, dir, p);
	return SCAN_KEEP;
}

/*
 * The socket operation is over: framing lost with commands in flight
 * counts them lost (LOSS_UNFRAMED), and gives up the replies (the
 * commands still parse, each lost as it comes) or, lost in the commands,
 * the connection.
 */
static __always_inline int redis_io_done(struct conn *c, __u32 dir)
{
	struct resp_parser *p = resp_of(c, dir);

	if (p->state != R_LOST)
		return SCAN_KEEP;
	conn_end(c, 0, LOSS_UNFRAMED);
	if (dir == DIR_REQUEST)
		return SCAN_DROP_LOST;
	p->state = R_GIVEN_UP;
	c->responses_given_up = 1;
	return SCAN_KEEP;
}

/*
 * A socket operation of a Redis connection, whole: its buffer, or its
 * iovecs (the first HTTP_IOV_MAX, the rest by count), then its end.
 * Global, reached from proto_io_other(): off the socket programs' own
 * stack frame, which HTTP/1's inlined path fills. Returns 1: done.
 */
__noinline int redis_io(struct conn *c, const struct io_args *io, long ret, __u64 now)
{
	struct redis_walk walk;
	struct redis_scratch *s;
	const struct iovec *iov;
	__u32 zero = 0, dir, nr;
	__u64 bytes = ret, cnt;
	int drop;

	if (!c || !io)
		return 1;
	s = bpf_map_lookup_elem(&redis_scratch, &zero);
	if (!s)
		return 1;
	/* a server reads commands and writes replies; a client the reverse */
	dir = (io->op >= IO_WRITE) != !!c->client ? DIR_RESPONSE : DIR_REQUEST;
	/* one clock read per socket operation: every message it starts ends it */
	if (!now)
		now = bpf_ktime_get_ns();
	switch (io->op) {
	case IO_READ:
	case IO_WRITE:
		redis_feed(c, &walk, dir, io->buf, bytes, now);
		bytes = 0;
		break;
	case IO_READV:
	case IO_WRITEV:
		iov = (const struct iovec *)io->buf;
		cnt = io->iovcnt;
		goto vec;
	case IO_RECVMSG:
	case IO_SENDMSG:
		if (bpf_probe_read_user(&s->msg, sizeof(s->msg), (void *)io->buf))
			return 1;
		iov = s->msg.msg_iov;
		cnt = s->msg.msg_iovlen;
vec:
		nr = cnt < HTTP_IOV_MAX ? cnt : HTTP_IOV_MAX;
		/* one read for the whole array */
		if (!nr || bpf_probe_read_user(s->iov, nr * sizeof(s->iov[0]), iov))
			return 1;
		for (int i = 0; i < HTTP_IOV_MAX; i++) {
			__u64 n;

			if (i >= nr || !bytes)
				break;
			n = s->iov[i].iov_len < bytes ? s->iov[i].iov_len : bytes;
			redis_feed(c, &walk, dir, (__u64)s->iov[i].iov_base, n, now);
			bytes -= n;
		}
		break;
	}
	if (bytes)
		redis_skip(c, dir, bytes);	/* sendfile, iovecs beyond HTTP_IOV_MAX */
	drop = redis_io_done(c, dir);
	if (drop)
		conn_drop(c);
	return 1;
}

static __always_inline bool redis_between_requests(const struct conn *c)
{
	return c->redis_req.state == R_IDLE && !c->redis_req.left_values;
}

#endif /* SLOTAP_REDIS_BPF_H */
