// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * HPACK (RFC 7541) decoding with the known-suffix property
 * (docs/design-http2.md, section 4). HPACK evicts oldest first and an
 * encoder refers only to live entries, so dynamic index 62 + j is the j-th
 * newest entry whatever the table's size: the decoder keeps the entries
 * inserted since its last gap, newest first, resolves j against them when
 * it can, and calls a field undecoded when j lies beyond them in a prefix
 * it never saw. It never guesses: a field is right, undecoded, or absent.
 *
 * Entries keep their RFC 7541 size, a name id and, for the names slotap
 * reports (enum hpack_field), the value's first bytes; every other header
 * is sized, never stored.
 *
 * Memory bound per decoder (hpack_decoder__memory()): the known entries'
 * RFC sizes never exceed min(the encoder's table size, HPACK_TABLE_BYTES_MAX
 * = 64 KiB), an entry is at least 32 of those bytes, and a kept value at
 * most its entry's size minus 32: at most 2,048 descriptors of 12 bytes
 * and 64 KiB of values, 88 KiB; with the default 4,096-byte table, 128
 * descriptors and 4 KiB, 5.5 KiB. Beyond 64 KiB the oldest known entries
 * are dropped and references to them are undecoded (HPACK_CAUSE_EVICTED).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hpack.h"
#include "hpack_huffman.h"	/* generated from RFC 7541 Appendix B by the build */

/* What an entry's name is; the first HPACK_F_MAX are enum hpack_field. */
enum hpack_name {
	NAME_PSEUDO = HPACK_F_MAX,	/* another pseudo-header (:scheme, :protocol) */
	NAME_OTHER,			/* a regular header slotap does not report */
	NAME_UNKNOWN,			/* named after an entry the decoder never saw */
};

/* hpack_entry.flags */
enum {
	ENTRY_TRUNCATED = 1 << 0,	/* the value was longer than kept */
	ENTRY_VALUE_LOST = 1 << 1,	/* no memory for its value: references undecoded */
};

struct hpack_entry {
	__u32 size;		/* RFC 7541 size; NAME_UNKNOWN: a lower bound (value + 32) */
	__u16 name_len;		/* NAME_UNKNOWN: 0 */
	__u16 value_off;	/* in d->values, when value_len */
	__u8 name;		/* enum hpack_name */
	__u8 value_len;		/* bytes kept in d->values */
	__u8 flags;
	__u8 cause;		/* NAME_UNKNOWN: enum hpack_cause of the entry named after */
};
_Static_assert(sizeof(struct hpack_entry) == 12, "hpack_entry is 12 bytes");

#define ENTRY_OVERHEAD		32	/* RFC 7541 4.1 */
#define SETTINGS_DEFAULT	4096	/* SETTINGS_HEADER_TABLE_SIZE's initial value */
#define STATIC_ENTRIES		61
#define INT_MAX_VALUE		0x7fffffffu	/* integers above are corrupt */
#define INT_MAX_BYTES		5		/* continuation bytes of a 31-bit integer */
#define NAME_KEEP		16		/* literal name bytes matched against ours */

/* RFC 7541 Appendix A */
static const struct {
	const char *name, *value;
} static_table[STATIC_ENTRIES] = {
	{":authority", ""}, {":method", "GET"}, {":method", "POST"}, {":path", "/"},
	{":path", "/index.html"}, {":scheme", "http"}, {":scheme", "https"},
	{":status", "200"}, {":status", "204"}, {":status", "206"}, {":status", "304"},
	{":status", "400"}, {":status", "404"}, {":status", "500"}, {"accept-charset", ""},
	{"accept-encoding", "gzip, deflate"}, {"accept-language", ""}, {"accept-ranges", ""},
	{"accept", ""}, {"access-control-allow-origin", ""}, {"age", ""}, {"allow", ""},
	{"authorization", ""}, {"cache-control", ""}, {"content-disposition", ""},
	{"content-encoding", ""}, {"content-language", ""}, {"content-length", ""},
	{"content-location", ""}, {"content-range", ""}, {"content-type", ""}, {"cookie", ""},
	{"date", ""}, {"etag", ""}, {"expect", ""}, {"expires", ""}, {"from", ""}, {"host", ""},
	{"if-match", ""}, {"if-modified-since", ""}, {"if-none-match", ""}, {"if-range", ""},
	{"if-unmodified-since", ""}, {"last-modified", ""}, {"link", ""}, {"location", ""},
	{"max-forwards", ""}, {"proxy-authenticate", ""}, {"proxy-authorization", ""},
	{"range", ""}, {"referer", ""}, {"refresh", ""}, {"retry-after", ""}, {"server", ""},
	{"set-cookie", ""}, {"strict-transport-security", ""}, {"transfer-encoding", ""},
	{"user-agent", ""}, {"vary", ""}, {"via", ""}, {"www-authenticate", ""},
};

static const char *const field_names[HPACK_F_MAX] = {
	[HPACK_F_PATH] = ":path",
	[HPACK_F_METHOD] = ":method",
	[HPACK_F_STATUS] = ":status",
	[HPACK_F_AUTHORITY] = ":authority",
	[HPACK_F_CONTENT_TYPE] = "content-type",
	[HPACK_F_GRPC_STATUS] = "grpc-status",
	[HPACK_F_GRPC_TIMEOUT] = "grpc-timeout",
};

/* One header field as read, before it is reported and perhaps inserted. */
struct field {
	__u8 name;		/* enum hpack_name */
	__u8 cause;		/* NAME_UNKNOWN or value_lost: why undecoded */
	bool value_lost;
	bool truncated;
	__u32 name_len;
	__u32 value_len;	/* the whole value's length */
	__u32 kept;		/* bytes of it in value */
	char value[H2_PATH_MAX];
};

struct cursor {
	const __u8 *p, *end;
};

static __u8 name_classify(const char *name, size_t len)
{
	for (int i = 0; i < HPACK_F_MAX; i++)
		if (strlen(field_names[i]) == len && !memcmp(field_names[i], name, len))
			return i;
	return len && name[0] == ':' ? NAME_PSEUDO : NAME_OTHER;
}

static bool field_is_pseudo(int f)
{
	return field_names[f][0] == ':';
}

static __u32 value_keep(__u8 name)
{
	if (name == HPACK_F_PATH)
		return H2_PATH_MAX;
	return name < HPACK_F_MAX ? HPACK_VALUE_MAX : 0;
}

/* RFC 7541 5.1; at most 31 bits in at most INT_MAX_BYTES continuation bytes. */
static int int_read(struct cursor *c, int prefix, __u32 *out)
{
	__u32 max = (1u << prefix) - 1;
	__u64 v;
	int n;

	if (c->p >= c->end)
		return -EBADMSG;
	v = *c->p++ & max;
	for (n = 0; v >= max; n++) {
		__u8 b;

		if (c->p >= c->end || n == INT_MAX_BYTES)
			return -EBADMSG;
		b = *c->p++;
		v += (__u64)(b & 0x7f) << (7 * n);
		if (v > INT_MAX_VALUE)
			return -EBADMSG;
		if (!(b & 0x80))
			break;
	}
	*out = v;
	return 0;
}

/* The whole string is decoded, for its length and its validity; keep bytes of it stored. */
static int huffman_decode(const __u8 *in, __u32 n, char *buf, __u32 keep, __u32 *len)
{
	__u8 state = 0, flags = HPACK_HUFF_ACCEPT;
	__u32 out = 0;

	for (__u32 i = 0; i < n; i++) {
		for (int shift = 4; shift >= 0; shift -= 4) {
			const struct hpack_huff_step *s;

			s = &hpack_huff_steps[state][(in[i] >> shift) & 0xf];

			if (s->flags & HPACK_HUFF_FAIL)
				return -EBADMSG;
			if (s->flags & HPACK_HUFF_SYM) {
				if (out < keep)
					buf[out] = s->sym;
				out++;
			}
			state = s->state;
			flags = s->flags;
		}
	}
	/* padding: at most 7 bits, EOS's leading ones (RFC 7541 5.2) */
	if (!(flags & HPACK_HUFF_ACCEPT))
		return -EBADMSG;
	*len = out;
	return 0;
}

static int string_read(struct cursor *c, char *buf, __u32 keep, __u32 *len, __u32 *kept)
{
	bool huffman;
	__u32 n;
	int err;

	if (c->p >= c->end)
		return -EBADMSG;
	huffman = *c->p & 0x80;
	err = int_read(c, 7, &n);
	if (err)
		return err;
	if (n > (size_t)(c->end - c->p))
		return -EBADMSG;
	if (huffman) {
		err = huffman_decode(c->p, n, buf, keep, len);
		if (err)
			return err;
	} else {
		memcpy(buf, c->p, n < keep ? n : keep);
		*len = n;
	}
	*kept = *len < keep ? *len : keep;
	c->p += n;
	return 0;
}

static struct hpack_entry *entry_at(const struct hpack_decoder *d, __u32 j)
{
	return &d->entries[(d->head + d->cap - j) & (d->cap - 1)];
}

static void value_copy_out(const struct hpack_decoder *d, const struct hpack_entry *e, char *buf)
{
	__u32 first = d->values_cap - e->value_off;

	if (first > e->value_len)
		first = e->value_len;
	memcpy(buf, d->values + e->value_off, first);
	memcpy(buf + first, d->values, e->value_len - first);
}

static void value_copy_in(struct hpack_decoder *d, const struct hpack_entry *e, const char *buf)
{
	__u32 first = d->values_cap - e->value_off;

	if (first > e->value_len)
		first = e->value_len;
	memcpy(d->values + e->value_off, buf, first);
	memcpy(d->values, buf + first, e->value_len - first);
}

static void entry_drop_oldest(struct hpack_decoder *d)
{
	struct hpack_entry *e = entry_at(d, d->count - 1);

	if (e->value_len) {
		d->values_tail = (d->values_tail + e->value_len) % d->values_cap;
		d->values_used -= e->value_len;
	}
	d->bytes -= e->size;
	d->count--;
}

/* Empty and free the table; the caller says what is known of older entries. */
static void table_reset(struct hpack_decoder *d)
{
	free(d->entries);
	free(d->values);
	d->entries = NULL;
	d->values = NULL;
	d->cap = d->count = d->head = d->bytes = d->evicted = 0;
	d->values_cap = d->values_tail = d->values_used = 0;
}

static void table_known_again(struct hpack_decoder *d)
{
	d->prefix_unknown = false;
	d->cause = HPACK_CAUSE_NONE;
	d->evicted = 0;
}

/* n entries (counted from the oldest known) dropped by the memory bound, not the encoder. */
static void note_evicted(struct hpack_decoder *d, __u32 n)
{
	d->evicted = d->evicted > UINT32_MAX - n ? UINT32_MAX : d->evicted + n;
	if (!d->prefix_unknown) {
		d->prefix_unknown = true;
		d->cause = HPACK_CAUSE_EVICTED;
	}
}

/*
 * The encoder evicts oldest first until need more bytes fit in max_size.
 * When that takes a known entry, every older entry went before it: the
 * table is all known again. max_size is never below the encoder's (section
 * 4), and known sizes are exact or lower bounds, so this never runs early.
 */
static void table_evict_for(struct hpack_decoder *d, __u32 need)
{
	bool any = false;

	while (d->count && (__u64)d->bytes + need > d->max_size) {
		entry_drop_oldest(d);
		any = true;
	}
	if (any)
		table_known_again(d);
}

static __u32 table_limit(const struct hpack_decoder *d)
{
	return d->max_size < HPACK_TABLE_BYTES_MAX ? d->max_size : HPACK_TABLE_BYTES_MAX;
}

static int entries_grow(struct hpack_decoder *d)
{
	__u32 cap = d->cap ? 2 * d->cap : 8;
	struct hpack_entry *e;

	e = malloc(cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	/* oldest first from 0: the ring's order is the table's */
	for (__u32 i = 0; i < d->count; i++)
		e[i] = *entry_at(d, d->count - 1 - i);
	free(d->entries);
	d->entries = e;
	d->cap = cap;
	d->head = d->count ? d->count - 1 : cap - 1;
	return 0;
}

static int values_grow(struct hpack_decoder *d, __u32 need)
{
	__u32 cap = d->values_cap ? d->values_cap : 64, off = 0;
	char *v;

	while (cap < d->values_used + need)
		cap *= 2;
	if (cap > HPACK_TABLE_BYTES_MAX)
		cap = HPACK_TABLE_BYTES_MAX;
	if (cap < d->values_used + need)
		return -ENOMEM;
	v = malloc(cap);
	if (!v)
		return -ENOMEM;
	for (__u32 i = 0; i < d->count; i++) {
		struct hpack_entry *e = entry_at(d, d->count - 1 - i);

		if (!e->value_len)
			continue;
		value_copy_out(d, e, v + off);
		e->value_off = off;
		off += e->value_len;
	}
	free(d->values);
	d->values = v;
	d->values_cap = cap;
	d->values_tail = 0;
	return 0;
}

/* Adds f as the newest entry (RFC 7541 4.4), within the decoder's memory bound. */
static void table_insert(struct hpack_decoder *d, const struct field *f)
{
	__u32 size = f->name_len + f->value_len + ENTRY_OVERHEAD;
	__u32 lim = table_limit(d);
	struct hpack_entry *e;
	__u32 keep = 0;

	if (size > d->max_size) {
		/* larger than the table: the encoder empties it (RFC 7541 4.4) */
		table_reset(d);
		table_known_again(d);
		return;
	}
	table_evict_for(d, size);
	if (size > lim) {
		note_evicted(d, d->count + 1);
		d->count = d->bytes = d->values_used = d->values_tail = 0;
		return;
	}
	while (d->count && d->bytes + size > lim) {
		entry_drop_oldest(d);
		note_evicted(d, 1);
	}
	if (d->count == d->cap && entries_grow(d)) {
		note_evicted(d, d->count + 1);
		d->count = d->bytes = d->values_used = d->values_tail = 0;
		return;
	}
	d->head = (d->head + 1) & (d->cap - 1);
	d->count++;
	d->bytes += size;
	e = entry_at(d, 0);
	*e = (struct hpack_entry){
		.size = size,
		.name_len = f->name_len,
		.name = f->name,
		.cause = f->cause,
		.flags = f->truncated ? ENTRY_TRUNCATED : 0,
	};
	if (f->name < HPACK_F_MAX)
		keep = f->kept;
	if (!keep)
		return;
	if (d->values_used + keep > d->values_cap && values_grow(d, keep)) {
		e->flags |= ENTRY_VALUE_LOST;
		return;
	}
	e->value_off = (d->values_tail + d->values_used) % d->values_cap;
	e->value_len = keep;
	d->values_used += keep;
	value_copy_in(d, e, f->value);
}

/* The name (and with want_value the value) of index idx (RFC 7541 2.3.3). */
static int index_resolve(const struct hpack_decoder *d, __u32 idx, struct field *f,
			 bool want_value)
{
	const struct hpack_entry *e;
	__u32 j;

	if (idx == 0)
		return -EBADMSG;
	if (idx <= STATIC_ENTRIES) {
		const char *name = static_table[idx - 1].name;
		const char *value = static_table[idx - 1].value;

		f->name_len = strlen(name);
		f->name = name_classify(name, f->name_len);
		if (want_value) {
			f->value_len = strlen(value);
			f->kept = f->value_len;
			memcpy(f->value, value, f->value_len);
		}
		return 0;
	}
	j = idx - STATIC_ENTRIES - 1;
	/* no table of max_size bytes holds more entries than this */
	if (d->max_size != HPACK_SIZE_UNKNOWN && j >= d->max_size / ENTRY_OVERHEAD)
		return -EBADMSG;
	if (j >= d->count) {
		f->name = NAME_UNKNOWN;
		if (j - d->count < d->evicted)
			f->cause = HPACK_CAUSE_EVICTED;
		else if (d->prefix_unknown && d->cause != HPACK_CAUSE_EVICTED)
			f->cause = d->cause;
		else
			return -EBADMSG;	/* beyond a table known to its end */
		return 0;
	}
	e = entry_at(d, j);
	f->name = e->name;
	f->name_len = e->name_len;
	f->cause = e->cause;
	if (!want_value)
		return 0;
	f->value_len = e->size - e->name_len - ENTRY_OVERHEAD;
	f->truncated = e->flags & ENTRY_TRUNCATED;
	if (e->flags & ENTRY_VALUE_LOST) {
		f->value_lost = true;
		f->cause = HPACK_CAUSE_EVICTED;
	} else if (e->value_len) {
		value_copy_out(d, e, f->value);
		f->kept = e->value_len;
	}
	return 0;
}

/*
 * The first occurrence of each field is reported. A field named after an
 * unknown entry may be any of them: each not yet seen is undecoded, and
 * stays so (it may have been the first), except pseudo-headers: they
 * appear once and before every regular field (RFC 9113 8.3), so one that
 * comes after a regular field is none of them, and a later known one is it.
 */
static void field_report(struct hpack_fields *out, bool *regular_seen, const struct field *f)
{
	struct hpack_value *v;

	if (f->name == NAME_UNKNOWN) {
		for (int i = 0; i < HPACK_F_MAX; i++) {
			v = &out->field[i];
			if (v->state != HPACK_ABSENT || (field_is_pseudo(i) && *regular_seen))
				continue;
			v->state = HPACK_UNDECODED;
			v->cause = f->cause;
		}
		return;
	}
	if (f->name == NAME_OTHER || (f->name < HPACK_F_MAX && !field_is_pseudo(f->name)))
		*regular_seen = true;
	if (f->name >= HPACK_F_MAX)
		return;
	v = &out->field[f->name];
	if (v->state == HPACK_KNOWN ||
	    (v->state == HPACK_UNDECODED && !field_is_pseudo(f->name)))
		return;
	if (f->value_lost) {
		v->state = HPACK_UNDECODED;
		v->cause = f->cause;
		return;
	}
	v->state = HPACK_KNOWN;
	v->cause = HPACK_CAUSE_NONE;
	v->len = f->kept;
	v->truncated = f->truncated;
	memcpy(v->value, f->value, f->kept);
}

/* A literal (RFC 7541 6.2): name by index or literal, then the value. */
static int literal_read(struct hpack_decoder *d, struct cursor *c, int prefix, struct field *f)
{
	char name[NAME_KEEP];
	__u32 idx, kept;
	int err;

	err = int_read(c, prefix, &idx);
	if (err)
		return err;
	if (idx) {
		err = index_resolve(d, idx, f, false);
	} else {
		err = string_read(c, name, sizeof(name), &f->name_len, &kept);
		if (!err && f->name_len <= sizeof(name))
			f->name = name_classify(name, f->name_len);
		else if (!err)
			f->name = name[0] == ':' ? NAME_PSEUDO : NAME_OTHER;
	}
	if (err)
		return err;
	err = string_read(c, f->value, value_keep(f->name), &f->value_len, &f->kept);
	if (err)
		return err;
	f->truncated = f->value_len > f->kept;
	return 0;
}

int hpack_decoder__decode(struct hpack_decoder *d, const __u8 *block, size_t len,
			  struct hpack_fields *out)
{
	struct cursor c = { block, block + len };
	bool regular_seen = false;
	__u32 fields = 0, v;
	struct field f;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (len > HPACK_BLOCK_BYTES_MAX)
		goto corrupt;
	while (c.p < c.end) {
		__u8 b = *c.p;

		if ((b & 0xe0) == 0x20) {
			/* dynamic table size update: only before the first field (RFC 7541 4.2) */
			err = int_read(&c, 5, &v);
			if (err || fields ||
			    (d->settings_max != HPACK_SIZE_UNKNOWN && v > d->settings_max))
				goto corrupt;
			d->max_size = v;
			if (!v) {
				/* nothing older survives: the whole table is known again */
				table_reset(d);
				table_known_again(d);
			}
			table_evict_for(d, 0);
			continue;
		}
		if (++fields > HPACK_BLOCK_FIELDS_MAX)
			goto corrupt;
		memset(&f, 0, offsetof(struct field, value));
		if (b & 0x80) {
			err = int_read(&c, 7, &v);
			if (!err)
				err = index_resolve(d, v, &f, true);
		} else if (b & 0x40) {
			err = literal_read(d, &c, 6, &f);
			if (!err)
				table_insert(d, &f);
		} else {
			/* without indexing (0000) or never indexed (0001): the same to a decoder */
			err = literal_read(d, &c, 4, &f);
		}
		if (err)
			goto corrupt;
		field_report(out, &regular_seen, &f);
	}
	return 0;
corrupt:
	hpack_decoder__gap(d, HPACK_CAUSE_CORRUPT);
	return -EBADMSG;
}

void hpack_decoder__init(struct hpack_decoder *d, bool prefix_unknown, enum hpack_cause cause)
{
	memset(d, 0, sizeof(*d));
	d->prefix_unknown = prefix_unknown;
	d->cause = prefix_unknown ? cause : HPACK_CAUSE_NONE;
	/* a connection seen from its start has the protocol's default; another, any */
	d->settings_max = prefix_unknown ? HPACK_SIZE_UNKNOWN : SETTINGS_DEFAULT;
	d->max_size = d->settings_max;
}

void hpack_decoder__free(struct hpack_decoder *d)
{
	if (d)
		table_reset(d);
}

size_t hpack_decoder__memory(const struct hpack_decoder *d)
{
	return (size_t)d->cap * sizeof(struct hpack_entry) + d->values_cap;
}

void hpack_decoder__gap(struct hpack_decoder *d, enum hpack_cause cause)
{
	table_reset(d);
	d->prefix_unknown = true;
	d->cause = cause;
	/* a lost block may have resized the table, within the settings */
	d->max_size = d->settings_max;
}

void hpack_decoder__set_settings_max(struct hpack_decoder *d, __u32 max)
{
	d->settings_max = max;
	/*
	 * The encoder's table is then within max; a smaller current size
	 * stays until the encoder's own size update says otherwise (lowering
	 * it here, before the encoder saw the setting, would drop entries it
	 * still refers to).
	 */
	if (d->max_size == HPACK_SIZE_UNKNOWN)
		d->max_size = max;
}
