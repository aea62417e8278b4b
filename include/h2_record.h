/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What crosses the h2_records ring buffer: the HTTP/2 framing the kernel
 * follows for each connection (bpf/http2.bpf.h), for the agent to decode
 * (user/h2_conn.c, user/hpack.c). The kernel splits frames and copies
 * header-block bytes; it decodes nothing (docs/design-http2.md, option B).
 *
 * A record is a struct h2_record, then items_len bytes of items: each a
 * struct h2_item, followed for H2_ITEM_BLOCK (and H2_ITEM_UPGRADE) by its
 * payload padded to 4 bytes. Everything little-endian host order.
 */
#ifndef SLOTAP_H2_RECORD_H
#define SLOTAP_H2_RECORD_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "http_server.h"

#define H2_RECORD_MAX		4096	/* bytes of one record, head and items */
#define H2_RECORDS_PER_OP	4	/* records one socket operation may send */
#define H2_PATH_MAX		128	/* bytes of :path the agent keeps */
/* iovec entries of one socket operation an HTTP/2 connection follows (HTTP/1: HTTP_IOV_MAX) */
#define H2_IOV_MAX		64

enum h2_record_kind {
	H2_REC_OPEN = 1,	/* a connection classified HTTP/2: h2_open follows */
	H2_REC_IO,		/* one socket operation's items */
	H2_REC_END,		/* closed, reset, or its framing lost: end_reason */
};

/* h2_record.flags */
enum h2_record_flag {
	H2_REC_CONTINUED = 1 << 0,	/* the operation's items go on in the next record */
	H2_REC_MIDSTREAM = 1 << 1,	/* OPEN: classified after its first bytes (older
					 * than the agent): decoders start prefix-unknown */
	H2_REC_ITEMS_LOST = 1 << 2,	/* IO: items of the operation did not fit in its
					 * H2_RECORDS_PER_OP records and were dropped: a gap */
};

/* h2_record.end_reason beside enum http_failure's values */
#define H2_END_UNFRAMED		0xff	/* the kernel lost the framing */

struct h2_record {
	__u64 sock_id;
	__u64 ts_ns;		/* end of the socket operation */
	/*
	 * IO: this direction's byte offset where the record's span starts, and
	 * the span's bytes (len). Operations with no items send no record, so
	 * a span is the bytes since the previous IO record of the direction
	 * (sent or lost) up to the end of this operation: one record's
	 * offset + len is the next one's offset, and anything else is a lost
	 * record or a reordering. The records of one operation (CONTINUED)
	 * share offset and len. OPEN and END: the request direction's offset.
	 */
	__u64 offset;
	__u32 gen;		/* with sock_id, the connection */
	__u32 len;
	__u16 items_len;	/* bytes of items after this head */
	__u8 kind;		/* enum h2_record_kind */
	__u8 dir;		/* 0: request direction (client to server), 1: response */
	__u8 flags;		/* enum h2_record_flag */
	__u8 end_reason;	/* H2_REC_END: enum http_failure, or H2_END_UNFRAMED */
	__u8 __pad[2];
};
_Static_assert(sizeof(struct h2_record) == 40, "h2_record is 40 bytes");

/* After an H2_REC_OPEN head: who the connection belongs to, once. */
struct h2_open {
	__u64 cgroup_id;
	__u32 tgid;
	__u16 service_id;	/* as http_event.service_id */
	__u16 local_port;
	__u16 remote_port;
	__u8 client;		/* 1: the tracked process is the client */
	__u8 __pad[5];
	__u8 remote_addr[16];
	char exe_name[EXE_NAME_LEN];
};
_Static_assert(sizeof(struct h2_open) == 56, "h2_open is 56 bytes");

enum h2_item_kind {
	H2_ITEM_BLOCK = 1,	/* a header-block piece: len bytes follow (padded to 4) */
	H2_ITEM_TRUNCATED,	/* a piece not copied (record or op bounds): len is its size */
	H2_ITEM_END_STREAM,	/* DATA with END_STREAM */
	H2_ITEM_FIRST_DATA,	/* first response DATA of a stream awaiting it */
	H2_ITEM_RST,		/* RST_STREAM; value: error code */
	H2_ITEM_GOAWAY,		/* stream: last-stream-id; value: error code */
	H2_ITEM_SETTING,	/* value: SETTINGS_HEADER_TABLE_SIZE */
	H2_ITEM_UPGRADE,	/* stream 1 is an HTTP/1 request: h2_upgrade follows */
};

/* h2_item.flags */
enum h2_item_flag {
	H2_IF_FIRST = 1 << 0,		/* first piece of a block (HEADERS or PUSH_PROMISE) */
	H2_IF_END_HEADERS = 1 << 1,	/* last piece of a block */
	H2_IF_END_STREAM = 1 << 2,	/* the HEADERS frame ends its stream */
	H2_IF_PUSH = 1 << 3,		/* a PUSH_PROMISE block; value: the promised stream */
};

struct h2_item {
	__u32 stream;
	__u32 value;
	__u32 start_delta_ns;	/* ts_ns minus the end of the op that moved the frame's
				 * first byte; saturated at ~4.29 s */
	__u16 len;		/* payload bytes after the item (BLOCK, UPGRADE), or the
				 * size of what was not copied (TRUNCATED) */
	__u8 kind;		/* enum h2_item_kind */
	__u8 flags;		/* enum h2_item_flag */
};
_Static_assert(sizeof(struct h2_item) == 16, "h2_item is 16 bytes");

/* After an H2_ITEM_UPGRADE item: the HTTP/1 request that asked for h2c. */
struct h2_upgrade {
	__u64 start_ns;
	__u8 operation;		/* enum http_method */
	__u8 resource_len;
	__u8 flags;		/* enum http_event_flag */
	__u8 __pad[5];
	char resource[HTTP_PATH_MAX];
};
_Static_assert(sizeof(struct h2_upgrade) == 16 + HTTP_PATH_MAX, "h2_upgrade size");

#endif /* SLOTAP_H2_RECORD_H */
