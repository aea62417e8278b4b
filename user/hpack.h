/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HPACK (RFC 7541) decoding of the header blocks the kernel ships
 * (include/h2_record.h), one decoder per connection and direction, which
 * may start after the connection did or miss a block: the decoder keeps
 * the entries inserted since its last gap, newest first, and answers a
 * reference older than those "undecoded", never a wrong value
 * (docs/design-http2.md, section 4). Only the fields slotap uses are
 * kept; every other header is sized, never stored.
 */
#ifndef SLOTAP_HPACK_H
#define SLOTAP_HPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "h2_record.h"

/* Fields whose values a decoded block reports. */
enum hpack_field {
	HPACK_F_PATH = 0,	/* :path (query included, as sent) */
	HPACK_F_METHOD,		/* :method */
	HPACK_F_STATUS,		/* :status */
	HPACK_F_AUTHORITY,	/* :authority */
	HPACK_F_CONTENT_TYPE,	/* content-type */
	HPACK_F_GRPC_STATUS,	/* grpc-status */
	HPACK_F_GRPC_TIMEOUT,	/* grpc-timeout */
	HPACK_F_MAX,
};

/* Bytes of a field's value kept: :path H2_PATH_MAX, the others this. */
#define HPACK_VALUE_MAX		32
/* Bounds of one block; beyond them the block is corrupt (a gap). */
#define HPACK_BLOCK_FIELDS_MAX	256
#define HPACK_BLOCK_BYTES_MAX	65536
/* Bytes of known entries a decoder keeps at most, whatever is announced. */
#define HPACK_TABLE_BYTES_MAX	65536

enum hpack_state {
	HPACK_ABSENT = 0,	/* not in the block */
	HPACK_KNOWN,		/* value holds it (truncated to its bound: see truncated) */
	HPACK_UNDECODED,	/* in the block, by a reference to an unknown entry */
};

/* Why a decoder's older entries are unknown: the cause of an undecoded field. */
enum hpack_cause {
	HPACK_CAUSE_NONE = 0,
	HPACK_CAUSE_BEFORE_AGENT,	/* connection first seen after its start */
	HPACK_CAUSE_RECORD_LOST,	/* a record of the direction was lost */
	HPACK_CAUSE_TRUNCATED,		/* a block piece was not copied */
	HPACK_CAUSE_REORDERED,		/* a record came too late to be put in order */
	HPACK_CAUSE_HIDDEN_BYTES,	/* bytes the kernel could not see */
	HPACK_CAUSE_CORRUPT,		/* a block that does not decode */
	HPACK_CAUSE_EVICTED,		/* entries dropped by the decoder's memory bound */
	HPACK_CAUSE_MAX,
};

struct hpack_value {
	__u8 state;		/* enum hpack_state */
	__u8 cause;		/* HPACK_UNDECODED: enum hpack_cause */
	__u8 len;		/* bytes in value */
	__u8 truncated;		/* the value was longer than kept */
	char value[H2_PATH_MAX];
};

/* What one block said about the fields of enum hpack_field (the first occurrence of each). */
struct hpack_fields {
	struct hpack_value field[HPACK_F_MAX];
};

struct hpack_entry;

/* settings_max or max_size when not known (a decoder started prefix-unknown) */
#define HPACK_SIZE_UNKNOWN	UINT32_MAX

struct hpack_decoder {
	struct hpack_entry *entries;	/* ring of known entries, newest at head */
	__u32 cap, count, head;
	__u32 bytes;			/* RFC 7541 size of the known entries */
	__u32 max_size;			/* the encoder's current table size */
	__u32 settings_max;		/* SETTINGS_HEADER_TABLE_SIZE the peer announced */
	bool prefix_unknown;		/* entries older than the known ones may exist */
	__u8 cause;			/* enum hpack_cause: why the prefix is unknown */
	/* added by user/hpack.c's implementation: */
	__u32 evicted;			/* entries just older than the known ones, dropped
					 * by the memory bound (HPACK_CAUSE_EVICTED) */
	char *values;			/* ring of the kept values, oldest first */
	__u32 values_cap, values_tail, values_used;
};

/* A decoder whose table is empty and known, or (prefix_unknown) not known at all. */
void hpack_decoder__init(struct hpack_decoder *d, bool prefix_unknown, enum hpack_cause cause);
void hpack_decoder__free(struct hpack_decoder *d);
/*
 * Bytes of memory the decoder holds (for the agent's bounds): its heap, at
 * most 90,112 (5,632 with 4 KiB tables); the struct is the caller's.
 */
size_t hpack_decoder__memory(const struct hpack_decoder *d);
/* Something of this direction was not seen: forget the known entries. */
void hpack_decoder__gap(struct hpack_decoder *d, enum hpack_cause cause);
/*
 * SETTINGS_HEADER_TABLE_SIZE from the decoding side's peer (bounds what the
 * encoder may use); HPACK_SIZE_UNKNOWN when it may have been missed.
 */
void hpack_decoder__set_settings_max(struct hpack_decoder *d, __u32 max);
/*
 * Decode one whole block (the pieces of HEADERS/PUSH_PROMISE and its
 * CONTINUATIONs, concatenated). 0, with out filled; -EBADMSG when the
 * block is corrupt (bad integer, bad Huffman, index beyond a known table,
 * over the bounds): out holds what came before the fault, and the
 * decoder made itself a gap (HPACK_CAUSE_CORRUPT).
 */
int hpack_decoder__decode(struct hpack_decoder *d, const __u8 *block, size_t len,
			  struct hpack_fields *out);

#endif /* SLOTAP_HPACK_H */
