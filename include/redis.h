/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Redis (RESP2 and RESP3) between the kernel's parser (bpf/redis.bpf.h)
 * and the agent (user/redis.c): the names the kernel maps to small ids
 * (command names, error prefixes), the map the agent fills with them, and
 * what a Redis event's fields mean. docs/redis.md says why.
 */
#ifndef SLOTAP_REDIS_H
#define SLOTAP_REDIS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/*
 * Bytes of a command name (or an error's first word) the kernel copies to
 * look it up: every Redis command name is shorter (GEORADIUSBYMEMBER_RO,
 * 20). A longer one is no name we know: _OTHER.
 */
#define REDIS_NAME_MAX		24

/* redis_name_key.kind */
enum redis_name_kind {
	REDIS_NAME_COMMAND = 1,
	REDIS_NAME_ERROR,
	REDIS_NAME_PUSH,	/* the first element of a pub/sub message: its kind */
};

/*
 * Key of redis_names: a name in upper case, zero padded, with its length
 * (a name with NUL bytes in it is another name).
 */
struct redis_name_key {
	__u8 name[REDIS_NAME_MAX];
	__u8 len;
	__u8 kind;		/* enum redis_name_kind */
	__u8 __pad[6];
};

/* redis_name_value.flags of a command */
#define REDIS_CMD_BLOCKING	0x01	/* waits on purpose (BLPOP, WAIT, ...) */
#define REDIS_CMD_BLOCK_ARG	0x02	/* waits when an argument says BLOCK (XREAD, XREADGROUP) */
#define REDIS_CMD_SUBSCRIBE	0x04	/* answered by one confirmation per channel */
#define REDIS_CMD_MONITOR	0x08	/* what follows its reply is a feed, no responses */

/* redis_name_value.flags of a push kind */
#define REDIS_PUSH_MESSAGE	1	/* message, pmessage, smessage: no response */
#define REDIS_PUSH_CONFIRM	2	/* (p|s)(un)subscribe: a command's confirmation */

struct redis_name_value {
	__u8 id;		/* command: the operation id; error: the status id */
	__u8 flags;		/* command: REDIS_CMD_*; error: enum status_class; push: REDIS_PUSH_* */
	__u8 __pad[2];
};

/* Entries of redis_names: commands and errors together, with room to spare. */
#define REDIS_NAMES_MAX		512

/*
 * A Redis event (http_event with protocol PROTO_REDIS): operation is the
 * command's id (0: _OTHER, any name not in redis_names), status 0 for a
 * reply that is no error, else the error's id (REDIS_ERROR_OTHER: an error
 * whose first word is not in redis_names), status_class whether the error
 * is the client's or the server's. count is how many commands of the same
 * connection, name, outcome, read and write the event stands for.
 */
#define REDIS_OP_OTHER		0
#define REDIS_STATUS_OK		0
#define REDIS_ERROR_OTHER	1

#endif /* SLOTAP_REDIS_H */
