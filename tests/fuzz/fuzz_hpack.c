// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fuzz target: the HPACK decoder (user/hpack.c), with libnghttp2 as the
 * oracle.
 *
 * Input: byte 0 is the mode: bit 0 lists (else raw blocks), bits 1-2 the
 * SETTINGS_HEADER_TABLE_SIZE in force (4096, 0, 256, 1 MiB), bits 3-7 the
 * block k a second decoder starts at, prefix unknown (and, for lists, the
 * block a third one loses). Raw: blocks, each a 2-byte little-endian length
 * and that many bytes (0xffff: a gap, no bytes). Lists: blocks, each a byte
 * (bits 0-3: headers, bit 4: a settings change to the size of bits 5-6),
 * then per header a byte (bits 0-3: its name from a pool, bit 4: never
 * indexed, bits 5-7: its value from a pool, 7: the next byte's length of
 * input bytes); pseudo-headers are put first, once each, as HTTP/2 wants.
 * tests/fuzz/make-seeds.py writes the seeds.
 *
 * Checked, always: no crash, no read out of bounds (the sanitizers); each
 * field absent, known within its bound, or undecoded with a cause; the
 * table within HPACK_TABLE_BYTES_MAX, the memory within its bound.
 * Raw: while the decoder's table is known and libnghttp2's inflater fed
 * the same blocks accepts them, a block the decoder accepts the inflater
 * accepts too, and the fields are the inflater's first of each name; the
 * second decoder refuses nothing the first accepts, and its known regular
 * fields are the first's. Lists (encoded by libnghttp2's deflater): every
 * block decodes to the list's values; the second and third decoders give
 * each field the list's value or undecoded, with their cause.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <nghttp2/nghttp2.h>
#include "fuzz.h"
#include "hpack.h"

const char fuzz_target_name[] = "hpack";

#define BLOCKS_MAX	64
#define LIST_MAX	16
#define BLOCK_MAX	(HPACK_BLOCK_BYTES_MAX + 1)
#define MEMORY_BOUND	(HPACK_TABLE_BYTES_MAX / 32 * 12 + HPACK_TABLE_BYTES_MAX)

static const __u32 settings_sizes[] = { 4096, 0, 256, 1u << 20 };

static const char *const field_names[HPACK_F_MAX] = {
	":path", ":method", ":status", ":authority", "content-type", "grpc-status",
	"grpc-timeout",
};

struct input {
	const uint8_t *p, *end;
};

static int next_byte(struct input *in)
{
	return in->p < in->end ? *in->p++ : -1;
}

static void check_invariants(const struct hpack_decoder *d, const struct hpack_fields *out)
{
	for (int f = 0; f < HPACK_F_MAX; f++) {
		const struct hpack_value *v = &out->field[f];

		FUZZ_CHECK(v->state <= HPACK_UNDECODED, "%s: state %d", field_names[f], v->state);
		if (v->state == HPACK_KNOWN)
			FUZZ_CHECK(v->len <= (f == HPACK_F_PATH ? H2_PATH_MAX : HPACK_VALUE_MAX) &&
				   v->cause == HPACK_CAUSE_NONE, "%s: len %d", field_names[f],
				   v->len);
		if (v->state == HPACK_UNDECODED)
			FUZZ_CHECK(v->cause > HPACK_CAUSE_NONE && v->cause < HPACK_CAUSE_MAX,
				   "%s: cause %d", field_names[f], v->cause);
	}
	FUZZ_CHECK(d->bytes <= HPACK_TABLE_BYTES_MAX, "table of %u bytes", d->bytes);
	FUZZ_CHECK((__u64)d->count * 32 <= d->bytes, "%u entries in %u bytes", d->count, d->bytes);
	FUZZ_CHECK(hpack_decoder__memory(d) <= MEMORY_BOUND, "%zu bytes held",
		   hpack_decoder__memory(d));
	FUZZ_CHECK(d->prefix_unknown || (!d->evicted && d->cause == HPACK_CAUSE_NONE),
		   "known table with evicted entries or a cause");
}

static bool value_equal(const struct hpack_value *a, const struct hpack_value *b)
{
	return a->state == b->state && a->len == b->len && a->truncated == b->truncated &&
	       !memcmp(a->value, b->value, a->len);
}

static void set_known(struct hpack_value *v, int f, const __u8 *value, size_t len)
{
	size_t keep = f == HPACK_F_PATH ? H2_PATH_MAX : HPACK_VALUE_MAX;

	v->state = HPACK_KNOWN;
	v->len = len < keep ? len : keep;
	v->truncated = len > keep;
	memcpy(v->value, value, v->len);
}

/* The first of each name, as the decoder reports a fully known block. */
static void ref_add(struct hpack_fields *ref, const __u8 *name, size_t name_len,
		    const __u8 *value, size_t value_len)
{
	for (int f = 0; f < HPACK_F_MAX; f++)
		if (strlen(field_names[f]) == name_len && !memcmp(field_names[f], name, name_len) &&
		    ref->field[f].state == HPACK_ABSENT)
			set_known(&ref->field[f], f, value, value_len);
}

/* libnghttp2's inflater on one block: 0 and ref filled, or -1 when it refuses it. */
static int oracle_inflate(nghttp2_hd_inflater *inf, const __u8 *p, size_t len,
			  struct hpack_fields *ref)
{
	memset(ref, 0, sizeof(*ref));
	for (;;) {
		nghttp2_nv nv;
		int flags = 0;
		ssize_t n = nghttp2_hd_inflate_hd2(inf, &nv, &flags, p, len, 1);

		if (n < 0)
			return -1;
		p += n;
		len -= n;
		if (flags & NGHTTP2_HD_INFLATE_EMIT)
			ref_add(ref, nv.name, nv.namelen, nv.value, nv.valuelen);
		if (flags & NGHTTP2_HD_INFLATE_FINAL)
			break;
	}
	nghttp2_hd_inflate_end_headers(inf);
	return 0;
}

/* RFC 7541 5.1 */
static size_t int_put(__u8 *p, __u8 first, int prefix, __u32 v)
{
	__u32 max = (1u << prefix) - 1;
	size_t n = 1;

	if (v < max) {
		p[0] = first | v;
		return 1;
	}
	p[0] = first | max;
	for (v -= max; v >= 128; v >>= 7)
		p[n++] = 0x80 | (v & 0x7f);
	p[n++] = v;
	return n;
}

static void run_raw(struct input *in, __u32 settings, int k)
{
	struct hpack_decoder d, u;
	struct hpack_fields out, uout, ref;
	nghttp2_hd_inflater *inf;
	bool compare = true, u_started = false;

	hpack_decoder__init(&d, false, HPACK_CAUSE_NONE);
	hpack_decoder__set_settings_max(&d, settings);
	FUZZ_CHECK(!nghttp2_hd_inflate_new(&inf), "nghttp2_hd_inflate_new");
	nghttp2_hd_inflate_change_table_size(inf, settings);
	if (settings != 4096) {
		/* the encoder's answer to the settings, which libnghttp2 requires */
		__u8 update[8];
		size_t n = int_put(update, 0x20, 5, settings);

		FUZZ_CHECK(!hpack_decoder__decode(&d, update, n, &out), "size update refused");
		FUZZ_CHECK(!oracle_inflate(inf, update, n, &ref),
			   "libnghttp2 refused a size update");
	}
	for (int i = 0; i < BLOCKS_MAX && in->end - in->p >= 2; i++) {
		size_t len = in->p[0] | in->p[1] << 8;
		int err, uerr;

		in->p += 2;
		if (i == k) {
			hpack_decoder__init(&u, true, HPACK_CAUSE_BEFORE_AGENT);
			u_started = true;
		}
		if (len == 0xffff) {
			hpack_decoder__gap(&d, HPACK_CAUSE_RECORD_LOST);
			if (u_started)
				hpack_decoder__gap(&u, HPACK_CAUSE_RECORD_LOST);
			compare = false;
			continue;
		}
		if (len > (size_t)(in->end - in->p))
			len = in->end - in->p;
		err = hpack_decoder__decode(&d, in->p, len, &out);
		check_invariants(&d, &out);
		FUZZ_CHECK(err == 0 || err == -EBADMSG, "decode returned %d", err);
		if (compare) {
			int oerr = oracle_inflate(inf, in->p, len, &ref);
			size_t size = nghttp2_hd_inflate_get_dynamic_table_size(inf);

			if (!err) {
				FUZZ_CHECK(!oerr, "block %d accepted, refused by libnghttp2", i);
				for (int f = 0; f < HPACK_F_MAX; f++)
					FUZZ_CHECK(value_equal(&out.field[f], &ref.field[f]),
						   "block %d %s: not libnghttp2's", i,
						   field_names[f]);
				FUZZ_CHECK(d.bytes == size, "table of %u bytes, libnghttp2's %zu",
					   d.bytes, size);
			}
			/* beyond this the two tables may differ (a gap, our bounds) */
			compare = !err && !oerr && !d.prefix_unknown;
		}
		if (u_started) {
			uerr = hpack_decoder__decode(&u, in->p, len, &uout);
			check_invariants(&u, &uout);
			FUZZ_CHECK(err || !uerr, "block %d refused from the middle only", i);
			for (int f = HPACK_F_CONTENT_TYPE; f < HPACK_F_MAX && !err; f++)
				FUZZ_CHECK(uout.field[f].state != HPACK_KNOWN ||
					   value_equal(&uout.field[f], &out.field[f]),
					   "block %d %s: from the middle, another value", i,
					   field_names[f]);
			/* once they differ in what they saw, nothing more to compare */
			if (err) {
				hpack_decoder__free(&u);
				u_started = false;
				k = -1;
			}
		}
		in->p += len;
	}
	if (u_started)
		hpack_decoder__free(&u);
	hpack_decoder__free(&d);
	nghttp2_hd_inflate_del(inf);
}

struct hdr {
	const __u8 *name, *value;
	size_t name_len, value_len;
	bool no_index;
};

static const char *const names[16] = {
	":path", ":method", ":status", ":authority", ":scheme", "content-type", "grpc-status",
	"grpc-timeout", "user-agent", "cookie", "grpc-message", "x-request-id", "te", "date",
	"accept", "x-custom-header-with-a-long-name",
};
static const char *const values[7] = {
	"/", "GET", "200", "application/grpc", "0", "/pkg.Service/Method",
	"a value longer than thirty-two bytes, cut when kept",
};

/* One list from the input, pseudo-headers first and once. */
static size_t list_read(struct input *in, int n, struct hdr *list)
{
	size_t count = 0;
	bool seen[16] = { false };

	for (int pass = 0; pass < 2; pass++) {
		const uint8_t *start = in->p;

		for (int i = 0; i < n; i++) {
			int b = next_byte(in), len = 0;
			const char *name;
			struct hdr h;

			if (b < 0)
				break;
			name = names[b & 15];
			h.name = (const __u8 *)name;
			h.name_len = strlen(name);
			h.no_index = b & 16;
			if ((b >> 5) == 7) {
				len = next_byte(in);
				len = len < 0 ? 0 : len;
				if (len > in->end - in->p)
					len = in->end - in->p;
				h.value = in->p;
				h.value_len = len;
				in->p += len;
			} else {
				h.value = (const __u8 *)values[b >> 5];
				h.value_len = strlen(values[b >> 5]);
			}
			/* pass 0 takes the pseudo-headers, pass 1 the others */
			if ((name[0] == ':') != (pass == 0) || (name[0] == ':' && seen[b & 15]))
				continue;
			seen[b & 15] = true;
			list[count++] = h;
		}
		if (pass == 0)
			in->p = start;
	}
	return count;
}

struct encoded {
	__u8 *bytes;
	size_t len;
	bool new_settings;
	__u32 settings;
	struct hpack_fields ref;
};

static void check_suffix(const struct hpack_fields *out, const struct hpack_fields *ref,
			 enum hpack_cause cause, int blk)
{
	for (int f = 0; f < HPACK_F_MAX; f++) {
		const struct hpack_value *v = &out->field[f];

		if (v->state == HPACK_UNDECODED)
			FUZZ_CHECK(v->cause == cause || v->cause == HPACK_CAUSE_EVICTED,
				   "block %d %s: cause %d", blk, field_names[f], v->cause);
		else
			FUZZ_CHECK(value_equal(v, &ref->field[f]), "block %d %s: another value",
				   blk, field_names[f]);
	}
}

static void run_lists(struct input *in, __u32 settings, int k)
{
	static struct encoded blk[BLOCKS_MAX];
	struct hpack_decoder d;
	struct hpack_fields out;
	nghttp2_hd_deflater *def;
	int n = 0;

	FUZZ_CHECK(!nghttp2_hd_deflate_new(&def, 1u << 20), "nghttp2_hd_deflate_new");
	nghttp2_hd_deflate_change_table_size(def, settings);
	while (n < BLOCKS_MAX) {
		struct hdr list[LIST_MAX];
		nghttp2_nv nv[LIST_MAX];
		struct encoded *e = &blk[n];
		int b = next_byte(in);
		size_t count;
		ssize_t len;

		if (b < 0)
			break;
		e->new_settings = b & 16;
		if (e->new_settings) {
			e->settings = settings_sizes[(b >> 5) & 3];
			nghttp2_hd_deflate_change_table_size(def, e->settings);
		}
		count = list_read(in, b & 15, list);
		memset(&e->ref, 0, sizeof(e->ref));
		for (size_t i = 0; i < count; i++) {
			nv[i] = (nghttp2_nv){ (__u8 *)list[i].name, (__u8 *)list[i].value,
					      list[i].name_len, list[i].value_len,
					      list[i].no_index ? NGHTTP2_NV_FLAG_NO_INDEX : 0 };
			ref_add(&e->ref, list[i].name, list[i].name_len, list[i].value,
				list[i].value_len);
		}
		e->bytes = malloc(BLOCK_MAX);
		FUZZ_CHECK(e->bytes, "out of memory");
		len = nghttp2_hd_deflate_hd(def, e->bytes, BLOCK_MAX, nv, count);
		FUZZ_CHECK(len >= 0, "nghttp2_hd_deflate_hd: %zd", len);
		e->len = len;
		n++;
	}
	nghttp2_hd_deflate_del(def);

	/* from the start: every value */
	hpack_decoder__init(&d, false, HPACK_CAUSE_NONE);
	hpack_decoder__set_settings_max(&d, settings);
	for (int i = 0; i < n; i++) {
		if (blk[i].new_settings)
			hpack_decoder__set_settings_max(&d, blk[i].settings);
		FUZZ_CHECK(!hpack_decoder__decode(&d, blk[i].bytes, blk[i].len, &out),
			   "block %d refused", i);
		check_invariants(&d, &out);
		check_suffix(&out, &blk[i].ref, HPACK_CAUSE_EVICTED, i);
	}
	hpack_decoder__free(&d);
	/* from block k, prefix unknown */
	hpack_decoder__init(&d, true, HPACK_CAUSE_BEFORE_AGENT);
	for (int i = k; i < n; i++) {
		FUZZ_CHECK(!hpack_decoder__decode(&d, blk[i].bytes, blk[i].len, &out),
			   "block %d refused from the middle", i);
		check_invariants(&d, &out);
		check_suffix(&out, &blk[i].ref, HPACK_CAUSE_BEFORE_AGENT, i);
	}
	hpack_decoder__free(&d);
	/* block k lost */
	hpack_decoder__init(&d, false, HPACK_CAUSE_NONE);
	hpack_decoder__set_settings_max(&d, settings);
	for (int i = 0; i < n; i++) {
		if (blk[i].new_settings)
			hpack_decoder__set_settings_max(&d, blk[i].settings);
		if (i == k) {
			hpack_decoder__gap(&d, HPACK_CAUSE_RECORD_LOST);
			continue;
		}
		FUZZ_CHECK(!hpack_decoder__decode(&d, blk[i].bytes, blk[i].len, &out),
			   "block %d refused after a gap", i);
		check_invariants(&d, &out);
		check_suffix(&out, &blk[i].ref, i < k ? HPACK_CAUSE_EVICTED :
			     HPACK_CAUSE_RECORD_LOST, i);
	}
	hpack_decoder__free(&d);
	for (int i = 0; i < n; i++)
		free(blk[i].bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, data + size };
	int mode = next_byte(&in);

	if (mode < 0)
		return 0;
	if (mode & 1)
		run_lists(&in, settings_sizes[(mode >> 1) & 3], mode >> 3);
	else
		run_raw(&in, settings_sizes[(mode >> 1) & 3], mode >> 3);
	return 0;
}
