/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Redis's per-connection parser state, a member of struct conn
 * (state.bpf.h); its code is redis.bpf.h. Uses nothing.
 */
#ifndef SLOTAP_REDIS_STATE_BPF_H
#define SLOTAP_REDIS_STATE_BPF_H

#include "redis.h"

/* Parser states; the same machine reads commands and replies (RESP2, RESP3). */
enum resp_state {
	R_IDLE = 0,		/* at a value's type byte (a message's, when resp_parser.left_values is 0) */
	R_NUM,			/* the number of a length or count line: *3, $5, %2 */
	R_INT,			/* an integer line (:12), kept for pub/sub's subscription counts */
	R_LINE,			/* the rest of a line not looked at (+OK, ,1.5, #t) */
	R_ERROR,		/* an error line (-ERR ...): its first word captured */
	R_LF,			/* a line's "\r" seen: "\n" must follow */
	R_BULK,			/* a bulk string's bytes and CRLF: left of them to go */
	R_INLINE,		/* request: an inline command line (PING\r\n) */
	R_UNKNOWN,		/* reply: not followed until a write starts at a reply */
	/* from here on, nothing is parsed: */
	R_LOST,			/* framing lost with commands in flight: handle_io() gives up */
	R_GIVEN_UP,		/* replies given up; each command is lost as it comes */
};

/* resp_parser.flags */
#define RF_NEG		0x01	/* R_NUM, R_INT: a '-' sign */
#define RF_DIGITS	0x02	/* R_NUM, R_INT: a digit seen */
#define RF_CAPTURE	0x04	/* the value read now is captured into name[] */
#define RF_NAME_LONG	0x08	/* the name captured is longer than REDIS_NAME_MAX */
#define RF_PUSH		0x10	/* reply: this message is a push, no response */
#define RF_FIRST	0x20	/* the next value is the message's first element */
#define RF_BLOCK_ARG	0x40	/* request: its arguments may say BLOCK */
#define RF_CONFIRM	0x80	/* reply: a pub/sub (un)subscribe confirmation */
#define RF_UNMATCHED	0x100	/* reply: no command was in flight when it started */
#define RF_KIND		0x200	/* reply: its first element says whether it is a push */
#define RF_COMMAND	0x400	/* request: a command started and not read to its end */

/* resp_parser.conn_flags (kept across messages; replies' parser only) */
#define RC_SUBSCRIBED	0x01	/* RESP2: arrays may be pub/sub pushes */
#define RC_RESP3	0x02	/* a RESP3 push seen: pushes are '>' */
#define RC_MONITOR	0x04	/* MONITOR: replies to no command are its feed */

struct resp_parser {
	__u64 left;		/* R_BULK: bytes to go, its CRLF included */
	__u64 left_values;	/* values still to come in this message (0: between messages) */
	__u64 num;		/* the number being read */
	__s64 last_int;		/* reply: the last integer read (a subscription count) */
	__u64 bytes;		/* bytes of the message so far */
	__u64 start_ns;		/* request: the end of the read of its first byte */
	/*
	 * A command's name, a push's kind, an error's first word, as
	 * redis_names' key: looked up from here, not from the stack, which the
	 * socket programs have no room left on.
	 */
	struct redis_name_key key;
	__u32 elements;		/* request: elements of the command; count of the array at hand */
	/* replies: pub/sub confirmations still to come for the command last answered */
	__u32 confirm_skip;
	__u16 flags;		/* RF_* */
	__u8 state;		/* enum resp_state */
	__u8 line;		/* R_LF: the line's state, whose end it is */
	__u8 top;		/* the message's type byte: '*', '-', '>', ... */
	__u8 type;		/* the value's type byte */
	__u8 conn_flags;	/* RC_*, replies' parser only */
};

#endif /* SLOTAP_REDIS_STATE_BPF_H */
