// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * HTTP/2 connections from the kernel's records to events: see h2_conn.h
 * and docs/design-http2.md, section 7.
 */
#include "h2_conn.h"

static const char *const cause_names[HPACK_CAUSE_MAX] = {
	[HPACK_CAUSE_NONE] = "none",
	[HPACK_CAUSE_BEFORE_AGENT] = "before_agent",
	[HPACK_CAUSE_RECORD_LOST] = "record_lost",
	[HPACK_CAUSE_TRUNCATED] = "truncated",
	[HPACK_CAUSE_REORDERED] = "reordered",
	[HPACK_CAUSE_HIDDEN_BYTES] = "hidden_bytes",
	[HPACK_CAUSE_CORRUPT] = "corrupt",
	[HPACK_CAUSE_EVICTED] = "decoder_evicted",
};

static const char *const drop_names[H2_DROP_MAX] = {
	[H2_DROP_MALFORMED] = "malformed",
	[H2_DROP_NO_OPEN] = "no_open",
	[H2_DROP_STALE] = "stale",
};

static const char *const field_names[H2_FIELD_MAX] = {
	[H2_FIELD_METHOD] = "method",
	[H2_FIELD_PATH] = "path",
	[H2_FIELD_STATUS] = "status",
};

const char *h2_cause__name(enum hpack_cause cause)
{
	return cause < HPACK_CAUSE_MAX ? cause_names[cause] : "other";
}

const char *h2_drop__name(enum h2_drop reason)
{
	return reason < H2_DROP_MAX ? drop_names[reason] : "other";
}

const char *h2_field__name(enum h2_field field)
{
	return field < H2_FIELD_MAX ? field_names[field] : "other";
}
