// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The HPACK decoder (user/hpack.c): RFC 7541 Appendix C, header streams
 * encoded by libnghttp2's deflater (the oracle; its inflater checks the
 * table sizes), the known-suffix property (streams decoded from their
 * middle, or with a block lost: every field right or undecoded with the
 * right cause, never another value), the memory bound, and every kind of
 * corrupt block.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <nghttp2/nghttp2.h>

#include "hpack.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* What hpack_decoder__memory() may be: 2,048 12-byte entries and 64 KiB of values. */
#define MEMORY_BOUND		(HPACK_TABLE_BYTES_MAX / 32 * 12 + HPACK_TABLE_BYTES_MAX)
#define MEMORY_BOUND_4K		(4096 / 32 * 12 + 4096)

static const char *const field_names[HPACK_F_MAX] = {
	":path", ":method", ":status", ":authority", "content-type", "grpc-status",
	"grpc-timeout",
};

static size_t unhex(const char *s, __u8 *out)
{
	size_t n = 0;
	unsigned int v;

	while (*s) {
		if (*s == ' ') {
			s++;
			continue;
		}
		assert_int_equal(sscanf(s, "%2x", &v), 1);
		out[n++] = v;
		s += 2;
	}
	return n;
}

static int decode_hex(struct hpack_decoder *d, const char *hex, struct hpack_fields *out)
{
	__u8 buf[1024];

	return hpack_decoder__decode(d, buf, unhex(hex, buf), out);
}

/* RFC 7541 5.1, for blocks made by hand. */
static size_t int_put(__u8 *p, __u8 first, int prefix, __u64 v)
{
	__u64 max = (1u << prefix) - 1;
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

static void assert_known(const struct hpack_fields *out, int f, const char *value)
{
	const struct hpack_value *v = &out->field[f];

	if (v->state != HPACK_KNOWN || v->len != strlen(value) || memcmp(v->value, value, v->len))
		fail_msg("%s: state %d cause %d '%.*s', want '%s'", field_names[f], v->state,
			 v->cause, v->len, v->value, value);
}

static void assert_absent_but(const struct hpack_fields *out, unsigned int known_mask)
{
	for (int f = 0; f < HPACK_F_MAX; f++)
		if (!(known_mask & 1u << f) && out->field[f].state != HPACK_ABSENT)
			fail_msg("%s: state %d, want absent", field_names[f], out->field[f].state);
}

/* ---- RFC 7541 Appendix C ---- */

static void test_rfc_c2(void **state)
{
	struct hpack_decoder d;
	struct hpack_fields out;

	(void)state;
	/* C.2.1: literal with indexing, a header slotap does not report */
	hpack_decoder__init(&d, false, HPACK_CAUSE_NONE);
	assert_int_equal(decode_hex(&d, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865"
				    "6164 6572", &out), 0);
	assert_absent_but(&out, 0);
	assert_int_equal(d.bytes, 55);
	assert_int_equal(d.count, 1);
	hpack_decoder__free(&d);
	/* C.2.2: literal without indexing */
	hpack_decoder__init(&d, false, HPACK_CAUSE_NONE);
	assert_int_equal(decode_hex(&d, "040c 2f73 616d 706c 652f 7061 7468", &out), 0);
	assert_known(&out, HPACK_F_PATH, "/sample/path");
	assert_absent_but(&out, 1u << HPACK_F_PATH);
	assert_int_equal(d.count, 0);
	hpack_decoder__free(&d);
	/* C.2.3: never indexed */
	hpack_decoder__init(&d, false, HPACK_CAUSE_NONE);
	assert_int_equal(decode_hex(&d, "1008 7061 7373 776f 7264 0673 6563 7265 74", &out), 0);
	assert_absent_but(&out, 0);
	assert_int_equal(d.count, 0);
	hpack_decoder__free(&d);
	/* C.2.4: indexed, static */
	hpack_decoder__init(&d, false, HPACK_CAUSE_NONE);
	assert_int_equal(decode_hex(&d, "82", &out), 0);
	assert_known(&out, HPACK_F_METHOD, "GET");
	assert_absent_but(&out, 1u << HPACK_F_METHOD);
	hpack_decoder__free(&d);
}

/* C.3 (plain) and C.4 (Huffman): three requests on one connection. */
static void requests(const char *const blocks[3])
{
	static const __u32 sizes[] = { 57, 110, 164 };
	static const char *const paths[] = { "/", "/", "/index.html" };
	struct hpack_decoder d;
	struct hpack_fields out;

	hpack_decoder__init(&d, false, HPACK_CAUSE_NONE);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(decode_hex(&d, blocks[i], &out), 0);
		assert_known(&out, HPACK_F_METHOD, "GET");
		assert_known(&out, HPACK_F_PATH, paths[i]);
		/* from the dynamic table from the second request on */
		assert_known(&out, HPACK_F_AUTHORITY, "www.example.com");
		assert_absent_but(&out, 1u << HPACK_F_METHOD | 1u << HPACK_F_PATH |
					1u << HPACK_F_AUTHORITY);
		assert_int_equal(d.bytes, sizes[i]);
		assert_int_equal(d.count, i + 1);
		assert_false(d.prefix_unknown);
	}
	assert_true(hpack_decoder__memory(&d) <= MEMORY_BOUND_4K);
	hpack_decoder__free(&d);
}

static void test_rfc_c3(void **state)
{
	static const char *const blocks[] = {
		"8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
		"8286 84be 5808 6e6f 2d63 6163 6865",
		"8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
	};

	(void)state;
	requests(blocks);
}

static void test_rfc_c4(void **state)
{
	static const char *const blocks[] = {
		"8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
		"8286 84be 5886 a8eb 1064 9cbf",
		"8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
	};

	(void)state;
	requests(blocks);
}

/* C.5 (plain) and C.6 (Huffman): three responses in a 256-byte table, with eviction. */
static void responses(const char *const blocks[3])
{
	static const __u32 sizes[] = { 222, 222, 215 };
	static const __u32 counts[] = { 4, 4, 3 };
	static const char *const statuses[] = { "302", "307", "200" };
	struct hpack_decoder d;
	struct hpack_fields out;

	hpack_decoder__init(&d, false, HPACK_CAUSE_NONE);
	/* the examples' premise: SETTINGS_HEADER_TABLE_SIZE 256, in force */
	hpack_decoder__set_settings_max(&d, 256);
	d.max_size = 256;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(decode_hex(&d, blocks[i], &out), 0);
		assert_known(&out, HPACK_F_STATUS, statuses[i]);
		assert_absent_but(&out, 1u << HPACK_F_STATUS);
		assert_int_equal(d.bytes, sizes[i]);
		assert_int_equal(d.count, counts[i]);
		assert_false(d.prefix_unknown);
	}
	/* C.5.3's table, newest first: set-cookie, content-encoding, date */
	assert_int_equal(d.bytes, 98 + 52 + 65);
	hpack_decoder__free(&d);
}

static void test_rfc_c5(void **state)
{
	static const char *const blocks[] = {
		"4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230"
		"3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65"
		"7861 6d70 6c65 2e63 6f6d",
		"4803 3330 37c1 c0bf",
		"88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220"
		"474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157"
		"454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076"
		"6572 7369 6f6e 3d31",
	};

	(void)state;
	responses(blocks);
}

static void test_rfc_c6(void **state)
{
	static const char *const blocks[] = {
		"4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0"
		"82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
		"4883 640e ffc1 c0bf",
		"88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b"
		"d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27"
		"0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
	};

	(void)state;
	responses(blocks);
}

/* ---- header streams encoded by libnghttp2 ---- */

#define STREAM_BLOCKS	40
#define LIST_MAX	48
#define BLOCK_MAX	(64 * 1024)

static __u64 rng_state;

static __u32 rnd(__u32 n)
{
	/* xorshift64*: the same streams for a seed, on every machine */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (rng_state * 0x2545f4914f6cdd1dULL >> 32) % n;
}

static const char *pick(const char *const *pool, size_t n)
{
	return pool[rnd(n)];
}

#define PICK(pool)	pick(pool, ARRAY_SIZE(pool))

struct hdr {
	char name[32];
	char value[1200];
	size_t name_len, value_len;
	bool no_index;
};

/* One header block: the list encoded, and what the decoder must report. */
struct block {
	__u8 *bytes;
	size_t len;
	bool new_settings;		/* SETTINGS_HEADER_TABLE_SIZE changed before it: */
	__u32 settings;			/* to this */
	struct hpack_fields ref;
};

struct stream {
	struct block b[STREAM_BLOCKS];
	__u32 settings0;		/* in force before the first block */
	bool big;			/* values up to 1 KiB, a 1 MiB table */
};

static void hdr_set(struct hdr *h, const char *name, const char *value, size_t value_len)
{
	h->name_len = strlen(name);
	memcpy(h->name, name, h->name_len);
	memcpy(h->value, value, value_len);
	h->value_len = value_len;
	h->no_index = !rnd(10);
}

static void random_bytes(struct hdr *h, const char *name, size_t max)
{
	char v[sizeof(h->value)];
	size_t n = rnd(max + 1);

	for (size_t i = 0; i < n; i++)
		v[i] = rnd(256);
	hdr_set(h, name, v, n);
}

static void pooled(struct hdr *h, const char *name, const char *value)
{
	hdr_set(h, name, value, strlen(value));
}

/* A request or a response as HTTP/2 allows: pseudo-headers once each, first. */
static size_t random_list(struct hdr *list, bool big)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "DELETE", "PATCH" };
	static const char *const paths[] = {
		"/", "/index.html", "/api/items/42?full=1", "/pkg.Service/Method",
		"/helloworld.Greeter/SayHello",
		"/a/very/long/path/that/goes/on/and/on/beyond/the/hundred/and/twenty/eight/bytes/"
		"slotap/keeps/of/a/path/so/that/it/is/truncated/when/reported",
	};
	static const char *const authorities[] = { "www.example.com", "127.0.0.1:8080", "svc" };
	static const char *const statuses[] = { "200", "204", "404", "500", "503", "302", "101" };
	static const char *const ctypes[] = {
		"application/grpc", "application/json", "text/html; charset=utf-8",
		"application/grpc+proto", "multipart/form-data; boundary=0123456789abcdef",
	};
	static const char *const timeouts[] = { "100m", "5S", "2H", "999999n" };
	static const char *const names[] = {
		"user-agent", "accept", "cookie", "x-request-id", "grpc-message", "te",
		"accept-encoding", "grpc-encoding", "date", "server", "x-forwarded-for",
		"content-length", "grpc-accept-encoding", "x-b3-traceid",
	};
	static const char *const values[] = { "trailers", "gzip", "nginx", "0", "*/*", "" };
	const char *pseudo[5];
	size_t n = 0, np = 0, others;

	if (rnd(2)) {
		if (rnd(10))
			pseudo[np++] = ":method";
		if (rnd(10))
			pseudo[np++] = ":scheme";
		if (rnd(10))
			pseudo[np++] = ":path";
		if (rnd(10))
			pseudo[np++] = ":authority";
	} else if (rnd(10)) {
		pseudo[np++] = ":status";
	}
	for (size_t i = np; i > 1; i--) {
		size_t j = rnd(i);
		const char *t = pseudo[i - 1];

		pseudo[i - 1] = pseudo[j];
		pseudo[j] = t;
	}
	for (size_t i = 0; i < np; i++) {
		struct hdr *h = &list[n++];

		if (!strcmp(pseudo[i], ":method"))
			pooled(h, ":method", PICK(methods));
		else if (!strcmp(pseudo[i], ":scheme"))
			pooled(h, ":scheme", rnd(2) ? "http" : "https");
		else if (!strcmp(pseudo[i], ":path") && rnd(8))
			pooled(h, ":path", PICK(paths));
		else if (!strcmp(pseudo[i], ":path"))
			random_bytes(h, ":path", 200);
		else if (!strcmp(pseudo[i], ":authority"))
			pooled(h, ":authority", PICK(authorities));
		else if (rnd(8))
			pooled(h, ":status", PICK(statuses));
		else
			random_bytes(h, ":status", 4);
	}
	others = big ? 8 + rnd(24) : rnd(16);
	for (size_t i = 0; i < others && n < LIST_MAX; i++) {
		struct hdr *h = &list[n++];
		char name[21];
		size_t len;

		switch (rnd(8)) {
		case 0:
			pooled(h, "content-type", PICK(ctypes));
			break;
		case 1:
			if (rnd(4)) {
				char code[4];

				snprintf(code, sizeof(code), "%u", rnd(17));
				pooled(h, "grpc-status", code);
			} else {
				random_bytes(h, "grpc-status", 40);
			}
			break;
		case 2:
			pooled(h, "grpc-timeout", PICK(timeouts));
			break;
		case 3:
			len = 1 + rnd(20);
			for (size_t k = 0; k < len; k++)
				name[k] = 'a' + rnd(26);
			name[len] = 0;
			random_bytes(h, name, big ? 1000 : 60);
			break;
		case 4:
			random_bytes(h, PICK(names), big ? 1000 : 60);
			break;
		default:
			pooled(h, PICK(names), PICK(values));
			break;
		}
	}
	return n;
}

/* The first occurrence of each reported field, as the decoder keeps it. */
static void list_ref(const struct hdr *list, size_t n, struct hpack_fields *ref)
{
	memset(ref, 0, sizeof(*ref));
	for (size_t i = 0; i < n; i++) {
		for (int f = 0; f < HPACK_F_MAX; f++) {
			struct hpack_value *v = &ref->field[f];
			size_t keep = f == HPACK_F_PATH ? H2_PATH_MAX : HPACK_VALUE_MAX;

			if (strlen(field_names[f]) != list[i].name_len ||
			    memcmp(field_names[f], list[i].name, list[i].name_len) ||
			    v->state != HPACK_ABSENT)
				continue;
			v->state = HPACK_KNOWN;
			v->len = list[i].value_len < keep ? list[i].value_len : keep;
			v->truncated = list[i].value_len > keep;
			memcpy(v->value, list[i].value, v->len);
		}
	}
}

/*
 * A connection's stream of blocks: random table sizes (settings changes
 * between blocks, which the deflater answers with size updates), some
 * lists repeated (what dynamic references are made of).
 */
static void stream_make(struct stream *s, __u64 seed, bool big)
{
	static struct hdr list[LIST_MAX], prev[LIST_MAX];
	static const __u32 sizes[] = { 0, 32, 64, 100, 256, 512, 1024, 4096, 4096, 8192 };
	nghttp2_nv nv[LIST_MAX];
	nghttp2_hd_deflater *def;
	size_t n = 0, nprev = 0;
	__u32 settings;

	rng_state = seed * 0x9e3779b97f4a7c15ULL + 1;
	s->big = big;
	settings = big ? 1u << 20 : sizes[rnd(ARRAY_SIZE(sizes))];
	s->settings0 = settings;
	assert_int_equal(nghttp2_hd_deflate_new(&def, big ? 1u << 20 : 4096 + rnd(4096)), 0);
	nghttp2_hd_deflate_change_table_size(def, settings);
	for (int i = 0; i < STREAM_BLOCKS; i++) {
		struct block *b = &s->b[i];
		ssize_t len;

		b->new_settings = !big && !rnd(8);
		if (b->new_settings) {
			settings = sizes[rnd(ARRAY_SIZE(sizes))];
			b->settings = settings;
			nghttp2_hd_deflate_change_table_size(def, settings);
		}
		if (nprev && (big ? !rnd(4) : rnd(3))) {
			memcpy(list, prev, sizeof(list[0]) * nprev);
			n = nprev;
		} else {
			n = random_list(list, big);
		}
		for (size_t k = 0; k < n; k++)
			nv[k] = (nghttp2_nv){ (__u8 *)list[k].name, (__u8 *)list[k].value,
					      list[k].name_len, list[k].value_len,
					      list[k].no_index ? NGHTTP2_NV_FLAG_NO_INDEX : 0 };
		b->bytes = malloc(BLOCK_MAX);
		assert_non_null(b->bytes);
		len = nghttp2_hd_deflate_hd(def, b->bytes, BLOCK_MAX, nv, n);
		assert_true(len >= 0);
		b->len = len;
		list_ref(list, n, &b->ref);
		memcpy(prev, list, sizeof(list[0]) * n);
		nprev = n;
	}
	nghttp2_hd_deflate_del(def);
}

static void stream_free(struct stream *s)
{
	for (int i = 0; i < STREAM_BLOCKS; i++)
		free(s->b[i].bytes);
}

struct tally {
	unsigned int known, undecoded, recovered;
	unsigned int cause[HPACK_CAUSE_MAX];
};

static void check_exact(const struct hpack_fields *out, const struct hpack_fields *ref,
			__u64 seed, int blk)
{
	for (int f = 0; f < HPACK_F_MAX; f++) {
		const struct hpack_value *v = &out->field[f], *r = &ref->field[f];

		if (v->state != r->state || v->len != r->len || v->truncated != r->truncated ||
		    memcmp(v->value, r->value, r->len))
			fail_msg("seed %llu block %d %s: state %d cause %d len %d '%.*s', want "
				 "state %d len %d '%.*s'", (unsigned long long)seed, blk,
				 field_names[f], v->state, v->cause, v->len, v->len, v->value,
				 r->state, r->len, r->len, r->value);
	}
}

/* Every field the reference value, or undecoded for one of causes; never another value. */
static void check_suffix(const struct hpack_fields *out, const struct hpack_fields *ref,
			 unsigned int causes, __u64 seed, int blk, struct tally *t)
{
	for (int f = 0; f < HPACK_F_MAX; f++) {
		const struct hpack_value *v = &out->field[f], *r = &ref->field[f];

		if (v->state == HPACK_UNDECODED) {
			if (!(causes & 1u << v->cause))
				fail_msg("seed %llu block %d %s: undecoded, cause %d",
					 (unsigned long long)seed, blk, field_names[f], v->cause);
			t->undecoded++;
			t->cause[v->cause]++;
			continue;
		}
		if (v->state != r->state || v->len != r->len || v->truncated != r->truncated ||
		    memcmp(v->value, r->value, r->len))
			fail_msg("seed %llu block %d %s: state %d len %d '%.*s', want state %d "
				 "'%.*s'", (unsigned long long)seed, blk, field_names[f], v->state,
				 v->len, v->len, v->value, r->state, r->len, r->value);
		t->known += v->state == HPACK_KNOWN;
	}
}

static void inflate_block(nghttp2_hd_inflater *inf, const struct block *b)
{
	const __u8 *p = b->bytes;
	size_t left = b->len;

	for (;;) {
		nghttp2_nv nv;
		int flags = 0;
		ssize_t n = nghttp2_hd_inflate_hd2(inf, &nv, &flags, p, left, 1);

		assert_true(n >= 0);
		p += n;
		left -= n;
		if (flags & NGHTTP2_HD_INFLATE_FINAL)
			break;
	}
	nghttp2_hd_inflate_end_headers(inf);
}

#define SEEDS	150

/* Decoded from the start: equal to the lists, and the table equal to libnghttp2's inflater's. */
static void test_nghttp2_streams(void **state)
{
	static struct stream s;
	unsigned int updates = 0;

	(void)state;
	for (__u64 seed = 1; seed <= SEEDS; seed++) {
		struct hpack_decoder d;
		struct hpack_fields out;
		nghttp2_hd_inflater *inf;

		stream_make(&s, seed, false);
		hpack_decoder__init(&d, false, HPACK_CAUSE_NONE);
		hpack_decoder__set_settings_max(&d, s.settings0);
		assert_int_equal(nghttp2_hd_inflate_new(&inf), 0);
		nghttp2_hd_inflate_change_table_size(inf, s.settings0);
		for (int i = 0; i < STREAM_BLOCKS; i++) {
			const struct block *b = &s.b[i];

			if (b->new_settings) {
				hpack_decoder__set_settings_max(&d, b->settings);
				nghttp2_hd_inflate_change_table_size(inf, b->settings);
			}
			updates += b->len && (b->bytes[0] & 0xe0) == 0x20;
			assert_int_equal(hpack_decoder__decode(&d, b->bytes, b->len, &out), 0);
			check_exact(&out, &b->ref, seed, i);
			inflate_block(inf, b);
			assert_false(d.prefix_unknown);
			assert_int_equal(d.bytes, nghttp2_hd_inflate_get_dynamic_table_size(inf));
			assert_int_equal(d.count + 61,
					 nghttp2_hd_inflate_get_num_table_entries(inf));
			assert_true(hpack_decoder__memory(&d) <= MEMORY_BOUND_4K * 2);
		}
		nghttp2_hd_inflate_del(inf);
		hpack_decoder__free(&d);
		stream_free(&s);
	}
	/* the streams did exercise size updates */
	assert_true(updates > SEEDS);
}

/* The settings in force before block k. */
static __u32 settings_before(const struct stream *s, int k)
{
	__u32 settings = s->settings0;

	for (int i = 0; i <= k; i++)
		if (s->b[i].new_settings)
			settings = s->b[i].settings;
	return settings;
}

/* Started at block k, prefix unknown: right or undecoded (before_agent) until it knows again. */
static void test_known_suffix_from_middle(void **state)
{
	static struct stream s;
	struct tally t = { 0 };

	(void)state;
	for (__u64 seed = 1; seed <= SEEDS; seed++) {
		stream_make(&s, seed, false);
		for (int k = 1; k < STREAM_BLOCKS; k++) {
			struct hpack_decoder d;
			struct hpack_fields out;
			bool told = k & 1;

			hpack_decoder__init(&d, true, HPACK_CAUSE_BEFORE_AGENT);
			/* half the time the agent saw the connection's SETTINGS, half not */
			if (told)
				hpack_decoder__set_settings_max(&d, settings_before(&s, k));
			for (int i = k; i < STREAM_BLOCKS; i++) {
				const struct block *b = &s.b[i];
				bool was_unknown = d.prefix_unknown;

				if (told && i > k && b->new_settings)
					hpack_decoder__set_settings_max(&d, b->settings);
				assert_int_equal(hpack_decoder__decode(&d, b->bytes, b->len, &out),
						 0);
				/* known again, entries named after unknown ones may remain */
				check_suffix(&out, &b->ref, 1u << HPACK_CAUSE_BEFORE_AGENT, seed,
					     i, &t);
				t.recovered += was_unknown && !d.prefix_unknown;
			}
			hpack_decoder__free(&d);
		}
		stream_free(&s);
	}
	/* the property was tested, not skipped: both outcomes, and recoveries */
	assert_true(t.undecoded > 1000);
	assert_true(t.known > 1000);
	assert_true(t.recovered > 100);
	print_message("from the middle: %u fields known, %u undecoded, %u recoveries\n", t.known,
		      t.undecoded, t.recovered);
}

/* Block m lost: right or undecoded (record_lost) after it; exact before. */
static void test_known_suffix_gap(void **state)
{
	static struct stream s;
	struct tally t = { 0 };

	(void)state;
	for (__u64 seed = 1; seed <= SEEDS; seed++) {
		stream_make(&s, seed, false);
		for (int m = 0; m < STREAM_BLOCKS; m++) {
			struct hpack_decoder d;
			struct hpack_fields out;

			hpack_decoder__init(&d, false, HPACK_CAUSE_NONE);
			hpack_decoder__set_settings_max(&d, s.settings0);
			for (int i = 0; i < STREAM_BLOCKS; i++) {
				const struct block *b = &s.b[i];

				if (b->new_settings)
					hpack_decoder__set_settings_max(&d, b->settings);
				if (i == m) {
					hpack_decoder__gap(&d, HPACK_CAUSE_RECORD_LOST);
					assert_true(d.prefix_unknown);
					assert_int_equal(d.count, 0);
					assert_int_equal(hpack_decoder__memory(&d), 0);
					continue;
				}
				assert_int_equal(hpack_decoder__decode(&d, b->bytes, b->len, &out),
						 0);
				if (i < m)
					check_exact(&out, &b->ref, seed, i);
				else
					check_suffix(&out, &b->ref, 1u << HPACK_CAUSE_RECORD_LOST,
						     seed, i, &t);
			}
			hpack_decoder__free(&d);
		}
		stream_free(&s);
	}
	assert_true(t.undecoded > 1000);
	assert_true(t.cause[HPACK_CAUSE_RECORD_LOST] == t.undecoded);
}

/* A 1 MiB table: the decoder keeps 64 KiB of it; the rest is undecoded (evicted), never wrong. */
static void test_memory_bound(void **state)
{
	static struct stream s;
	struct tally t = { 0 };
	size_t most = 0;
	__u32 most_bytes = 0;

	(void)state;
	for (__u64 seed = 1; seed <= 40; seed++) {
		struct hpack_decoder d;
		struct hpack_fields out;

		stream_make(&s, seed, true);
		hpack_decoder__init(&d, false, HPACK_CAUSE_NONE);
		hpack_decoder__set_settings_max(&d, s.settings0);
		for (int i = 0; i < STREAM_BLOCKS; i++) {
			const struct block *b = &s.b[i];

			assert_int_equal(hpack_decoder__decode(&d, b->bytes, b->len, &out), 0);
			check_suffix(&out, &b->ref, 1u << HPACK_CAUSE_EVICTED, seed, i, &t);
			assert_true(d.bytes <= HPACK_TABLE_BYTES_MAX);
			if (hpack_decoder__memory(&d) > most)
				most = hpack_decoder__memory(&d);
			if (d.bytes > most_bytes)
				most_bytes = d.bytes;
		}
		hpack_decoder__free(&d);
		stream_free(&s);
	}
	assert_true(most <= MEMORY_BOUND);
	/* the table did reach its bound: the decoder, not the streams, limited it */
	assert_true(most_bytes > HPACK_TABLE_BYTES_MAX - 2048);
	assert_true(t.cause[HPACK_CAUSE_EVICTED] > 0);
	print_message("1 MiB tables: %u fields known, %u evicted; at most %zu bytes held\n",
		      t.known, t.cause[HPACK_CAUSE_EVICTED], most);
}

/* ---- blocks made by hand: bounds, corrupt input, the table's states ---- */

/* The bound by hand: the smallest entries (most descriptors), then the largest kept values. */
static void test_memory_bound_by_hand(void **state)
{
	static __u8 buf[HPACK_BLOCK_BYTES_MAX];
	struct hpack_decoder d;
	struct hpack_fields out;
	size_t n = 0;
	__u32 evicted;

	(void)state;
	hpack_decoder__init(&d, false, HPACK_CAUSE_NONE);
	hpack_decoder__set_settings_max(&d, 1u << 30);
	n = int_put(buf, 0x20, 5, 1u << 30);
	/* 250 blocks of 250 entries of 33 bytes ("a", ""): 2 MB through a 64 KiB bound */
	for (int i = 0; i < 250; i++) {
		for (int k = 0; k < 250; k++) {
			buf[n++] = 0x40;
			buf[n++] = 0x01;
			buf[n++] = 'a';
			buf[n++] = 0x00;
		}
		assert_int_equal(hpack_decoder__decode(&d, buf, n, &out), 0);
		assert_true(d.bytes <= HPACK_TABLE_BYTES_MAX);
		assert_true(hpack_decoder__memory(&d) <= MEMORY_BOUND);
		n = 0;
	}
	assert_int_equal(d.count, HPACK_TABLE_BYTES_MAX / 33);
	assert_true(d.prefix_unknown);
	assert_int_equal(d.cause, HPACK_CAUSE_EVICTED);
	/* :path values of 200 bytes, 128 of each kept */
	for (int i = 0; i < 300; i++) {
		n = 0;
		buf[n++] = 0x44;
		n += int_put(buf + n, 0, 7, 200);
		memset(buf + n, 'a' + i % 26, 200);
		buf[n] = '/';
		n += 200;
		assert_int_equal(hpack_decoder__decode(&d, buf, n, &out), 0);
		assert_true(d.bytes <= HPACK_TABLE_BYTES_MAX);
		assert_true(hpack_decoder__memory(&d) <= MEMORY_BOUND);
	}
	assert_int_equal(d.count, HPACK_TABLE_BYTES_MAX / 237);
	/* the newest known; the one just older evicted by the bound; beyond those, corrupt */
	assert_int_equal(decode_hex(&d, "be", &out), 0);
	assert_int_equal(out.field[HPACK_F_PATH].state, HPACK_KNOWN);
	assert_int_equal(out.field[HPACK_F_PATH].value[1], 'a' + 299 % 26);
	n = int_put(buf, 0x80, 7, 62 + d.count);
	assert_int_equal(hpack_decoder__decode(&d, buf, n, &out), 0);
	assert_int_equal(out.field[HPACK_F_PATH].state, HPACK_UNDECODED);
	assert_int_equal(out.field[HPACK_F_PATH].cause, HPACK_CAUSE_EVICTED);
	evicted = d.evicted;
	n = int_put(buf, 0x80, 7, 62 + d.count + evicted);
	assert_int_equal(hpack_decoder__decode(&d, buf, n, &out), -EBADMSG);
	hpack_decoder__free(&d);
}

/* Each corrupt: -EBADMSG, and the decoder is a gap (corrupt) with nothing kept. */
static void test_corrupt(void **state)
{
	static const struct {
		const char *what, *hex;
		bool prefix_unknown;
	} cases[] = {
		{ "index 0", "80", false },
		{ "index beyond the static table, dynamic empty", "be", false },
		{ "index beyond both tables", "82 44 01 2f c0", false },
		/* 4,096 bytes hold at most 128 entries: index 62 + 130 */
		{ "index beyond any 4 KiB table", "ff 41", true },
		{ "literal's name index beyond the tables", "7f 00 01 61", false },
		{ "integer of 2^31", "ff e1 ff ff ff 07", false },
		{ "integer overflowing 32 bits", "ff ff ff ff ff 0f", false },
		{ "integer over 5 continuation bytes", "ff 80 80 80 80 80 00", false },
		{ "integer cut", "ff 80", false },
		{ "integer missing", "7f", false },
		{ "string cut", "00 81 1f 85 61", false },
		{ "string length missing", "00", false },
		{ "Huffman padding of zeros", "00 81 1f 81 18", false },
		{ "Huffman padding of 8 bits and more", "00 81 1f 82 1f ff", false },
		{ "Huffman EOS in a string", "00 81 1f 84 ff ff ff ff", false },
		{ "Huffman EOS in a name", "00 84 ff ff ff ff 00", false },
		{ "size update after a field", "82 20", false },
		{ "size update above the settings", "3f e2 1f", false },
		{ "size update cut", "3f", false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hpack_decoder d;
		struct hpack_fields out;

		hpack_decoder__init(&d, cases[i].prefix_unknown, HPACK_CAUSE_BEFORE_AGENT);
		if (cases[i].prefix_unknown)
			hpack_decoder__set_settings_max(&d, 4096);
		if (decode_hex(&d, cases[i].hex, &out) != -EBADMSG)
			fail_msg("%s: not corrupt", cases[i].what);
		if (!d.prefix_unknown || d.cause != HPACK_CAUSE_CORRUPT || d.count ||
		    hpack_decoder__memory(&d))
			fail_msg("%s: decoder not a gap", cases[i].what);
		hpack_decoder__free(&d);
	}
}

/* The valid neighbours of the corrupt cases decode: the bounds are where they say. */
static void test_bounds_valid_side(void **state)
{
	struct hpack_decoder d;
	struct hpack_fields out;
	__u8 buf[16];
	size_t n;

	(void)state;
	/* 2^31 - 1 is an integer; with the settings unknown, a size update of it is valid */
	hpack_decoder__init(&d, true, HPACK_CAUSE_BEFORE_AGENT);
	n = int_put(buf, 0x20, 5, 0x7fffffff);
	assert_int_equal(hpack_decoder__decode(&d, buf, n, &out), 0);
	assert_int_equal(d.max_size, 0x7fffffff);
	n = int_put(buf, 0x20, 5, 0x80000000);
	assert_int_equal(hpack_decoder__decode(&d, buf, n, &out), -EBADMSG);
	hpack_decoder__free(&d);
	/* the settings' max itself, and a Huffman string padded with 7 ones */
	hpack_decoder__init(&d, false, HPACK_CAUSE_NONE);
	assert_int_equal(decode_hex(&d, "3f e1 1f 00 81 1f 81 1f", &out), 0);
	assert_int_equal(d.max_size, 4096);
	/* several size updates at the start, the last in force */
	assert_int_equal(decode_hex(&d, "20 3f 21 3f e1 1f 82", &out), 0);
	assert_int_equal(d.max_size, 4096);
	assert_known(&out, HPACK_F_METHOD, "GET");
	/* an empty Huffman string */
	assert_int_equal(decode_hex(&d, "04 80", &out), 0);
	assert_known(&out, HPACK_F_PATH, "");
	hpack_decoder__free(&d);
}

static void test_fields_and_block_bounds(void **state)
{
	static __u8 buf[HPACK_BLOCK_BYTES_MAX + 1];
	struct hpack_decoder d;
	struct hpack_fields out;
	size_t n;

	(void)state;
	/* 256 fields decode, 257 do not; what came before the fault is reported */
	memset(buf, 0x82, sizeof(buf));
	buf[0] = 0x84;
	hpack_decoder__init(&d, false, HPACK_CAUSE_NONE);
	assert_int_equal(hpack_decoder__decode(&d, buf, HPACK_BLOCK_FIELDS_MAX, &out), 0);
	assert_known(&out, HPACK_F_PATH, "/");
	assert_int_equal(hpack_decoder__decode(&d, buf, HPACK_BLOCK_FIELDS_MAX + 1, &out),
			 -EBADMSG);
	assert_known(&out, HPACK_F_PATH, "/");
	assert_known(&out, HPACK_F_METHOD, "GET");
	assert_int_equal(d.cause, HPACK_CAUSE_CORRUPT);
	hpack_decoder__free(&d);
	/* one literal filling 64 KiB exactly decodes; a byte more does not */
	hpack_decoder__init(&d, false, HPACK_CAUSE_NONE);
	buf[0] = 0x00;
	buf[1] = 0x01;
	buf[2] = 'x';
	n = 3 + int_put(buf + 3, 0, 7, HPACK_BLOCK_BYTES_MAX - 3 - 4);
	assert_int_equal(n, 3 + 4);
	memset(buf + n, 'v', HPACK_BLOCK_BYTES_MAX - n);
	assert_int_equal(hpack_decoder__decode(&d, buf, HPACK_BLOCK_BYTES_MAX, &out), 0);
	assert_absent_but(&out, 0);
	n = 3 + int_put(buf + 3, 0, 7, HPACK_BLOCK_BYTES_MAX + 1 - 3 - 4);
	buf[HPACK_BLOCK_BYTES_MAX] = 'v';
	assert_int_equal(hpack_decoder__decode(&d, buf, HPACK_BLOCK_BYTES_MAX + 1, &out), -EBADMSG);
	hpack_decoder__free(&d);
}

/* Values longer than kept: cut to their bound, flagged, and the same through the table. */
static void test_truncated_values(void **state)
{
	char hex[1024], path[201], ctype[41];
	struct hpack_decoder d;
	struct hpack_fields out;
	size_t n = 0;

	(void)state;
	memset(path, 'p', 200);
	path[0] = '/';
	path[200] = 0;
	memset(ctype, 'c', 40);
	ctype[40] = 0;
	/* :path (static name 4) and content-type (31), both inserted */
	n += sprintf(hex + n, "44 7f 49");
	for (int i = 0; i < 200; i++)
		n += sprintf(hex + n, " %02x", path[i]);
	n += sprintf(hex + n, " 5f 28");
	for (int i = 0; i < 40; i++)
		n += sprintf(hex + n, " %02x", ctype[i]);
	hpack_decoder__init(&d, false, HPACK_CAUSE_NONE);
	assert_int_equal(decode_hex(&d, hex, &out), 0);
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(out.field[HPACK_F_PATH].state, HPACK_KNOWN);
		assert_int_equal(out.field[HPACK_F_PATH].len, H2_PATH_MAX);
		assert_true(out.field[HPACK_F_PATH].truncated);
		assert_memory_equal(out.field[HPACK_F_PATH].value, path, H2_PATH_MAX);
		assert_int_equal(out.field[HPACK_F_CONTENT_TYPE].len, HPACK_VALUE_MAX);
		assert_true(out.field[HPACK_F_CONTENT_TYPE].truncated);
		assert_memory_equal(out.field[HPACK_F_CONTENT_TYPE].value, ctype, HPACK_VALUE_MAX);
		/* their sizes count whole values: 5 + 200 + 32 and 12 + 40 + 32 */
		assert_int_equal(d.bytes, 237 + 84);
		/* the same two from the dynamic table */
		assert_int_equal(decode_hex(&d, "bf be", &out), 0);
	}
	hpack_decoder__free(&d);
}

/* Literals not indexed (0000, never indexed 0001) are reported, not inserted; dynamic names. */
static void test_literals_not_indexed(void **state)
{
	struct hpack_decoder d;
	struct hpack_fields out;

	(void)state;
	hpack_decoder__init(&d, false, HPACK_CAUSE_NONE);
	assert_int_equal(decode_hex(&d, "14 02 2f 61 00 0b 67 72 70 63 2d 73 74 61 74 75 73 01 37"
				    " 1f 10 03 61 2f 62", &out), 0);
	assert_known(&out, HPACK_F_PATH, "/a");
	assert_known(&out, HPACK_F_GRPC_STATUS, "7");
	assert_known(&out, HPACK_F_CONTENT_TYPE, "a/b");
	assert_int_equal(d.count, 0);
	assert_int_equal(d.bytes, 0);
	/* a literal named after a dynamic entry (62: the newest), inserted in turn */
	assert_int_equal(decode_hex(&d, "44 02 2f 61 7e 02 2f 62", &out), 0);
	assert_known(&out, HPACK_F_PATH, "/a");
	assert_int_equal(d.count, 2);
	assert_int_equal(d.bytes, 2 * (5 + 2 + 32));
	assert_int_equal(decode_hex(&d, "be", &out), 0);
	assert_known(&out, HPACK_F_PATH, "/b");
	hpack_decoder__free(&d);
}

/*
 * A decoder started prefix-unknown: references beyond what it knows are
 * undecoded; a field named after an unknown entry may be any field not
 * yet seen, but no pseudo-header once a regular field came, and a later
 * known pseudo-header is the one.
 */
static void test_unknown_references(void **state)
{
	struct hpack_decoder d;
	struct hpack_fields out;

	(void)state;
	hpack_decoder__init(&d, true, HPACK_CAUSE_BEFORE_AGENT);
	assert_int_equal(decode_hex(&d, "be 84", &out), 0);
	assert_known(&out, HPACK_F_PATH, "/");
	for (int f = 0; f < HPACK_F_MAX; f++) {
		if (f == HPACK_F_PATH)
			continue;
		assert_int_equal(out.field[f].state, HPACK_UNDECODED);
		assert_int_equal(out.field[f].cause, HPACK_CAUSE_BEFORE_AGENT);
	}
	/* user-agent (static 58, without indexing) then an unknown entry */
	assert_int_equal(decode_hex(&d, "84 0f 2b 00 be", &out), 0);
	assert_known(&out, HPACK_F_PATH, "/");
	assert_int_equal(out.field[HPACK_F_METHOD].state, HPACK_ABSENT);
	assert_int_equal(out.field[HPACK_F_AUTHORITY].state, HPACK_ABSENT);
	assert_int_equal(out.field[HPACK_F_CONTENT_TYPE].state, HPACK_UNDECODED);
	/* a regular field after an unknown one stays undecoded (it may be the second) */
	assert_int_equal(decode_hex(&d, "be 5f 03 61 2f 62", &out), 0);
	assert_int_equal(out.field[HPACK_F_CONTENT_TYPE].state, HPACK_UNDECODED);
	/* an entry named after an unknown one: its value known, its name not */
	hpack_decoder__gap(&d, HPACK_CAUSE_TRUNCATED);
	assert_int_equal(decode_hex(&d, "7f 01 01 2f be", &out), 0);
	assert_int_equal(d.count, 1);
	assert_int_equal(out.field[HPACK_F_PATH].state, HPACK_UNDECODED);
	assert_int_equal(out.field[HPACK_F_PATH].cause, HPACK_CAUSE_TRUNCATED);
	/* and still after a gap of another cause, the entry keeps the cause of its name */
	hpack_decoder__gap(&d, HPACK_CAUSE_REORDERED);
	assert_int_equal(decode_hex(&d, "be", &out), 0);
	assert_int_equal(out.field[HPACK_F_PATH].cause, HPACK_CAUSE_REORDERED);
	hpack_decoder__free(&d);
}

/* What makes the table known again, and what a known table refuses. */
static void test_known_again(void **state)
{
	struct hpack_decoder d;
	struct hpack_fields out;

	(void)state;
	/* a size update to 0 */
	hpack_decoder__init(&d, true, HPACK_CAUSE_BEFORE_AGENT);
	assert_int_equal(decode_hex(&d, "be", &out), 0);
	assert_int_equal(out.field[HPACK_F_PATH].state, HPACK_UNDECODED);
	assert_int_equal(decode_hex(&d, "20 3f e1 1f 44 02 2f 61", &out), 0);
	assert_false(d.prefix_unknown);
	assert_int_equal(decode_hex(&d, "be", &out), 0);
	assert_known(&out, HPACK_F_PATH, "/a");
	assert_int_equal(decode_hex(&d, "bf", &out), -EBADMSG);
	assert_int_equal(d.cause, HPACK_CAUSE_CORRUPT);
	/* after corruption, references are undecoded (corrupt), not refused */
	assert_int_equal(decode_hex(&d, "be", &out), 0);
	assert_int_equal(out.field[HPACK_F_PATH].cause, HPACK_CAUSE_CORRUPT);
	hpack_decoder__free(&d);
	/* the encoder evicting a known entry: nothing older can be left */
	hpack_decoder__init(&d, true, HPACK_CAUSE_BEFORE_AGENT);
	hpack_decoder__set_settings_max(&d, 64);
	assert_int_equal(decode_hex(&d, "44 02 2f 61", &out), 0);	/* 39 bytes */
	assert_true(d.prefix_unknown);
	assert_int_equal(decode_hex(&d, "44 02 2f 62", &out), 0);	/* evicts the first */
	assert_false(d.prefix_unknown);
	assert_int_equal(d.count, 1);
	assert_int_equal(decode_hex(&d, "be", &out), 0);
	assert_known(&out, HPACK_F_PATH, "/b");
	hpack_decoder__free(&d);
	/* an entry larger than the table empties it (RFC 7541 4.4) */
	hpack_decoder__init(&d, true, HPACK_CAUSE_RECORD_LOST);
	hpack_decoder__set_settings_max(&d, 40);
	assert_int_equal(decode_hex(&d, "44 09 2f 31 32 33 34 35 36 37 38", &out), 0);
	assert_false(d.prefix_unknown);
	assert_int_equal(d.count, 0);
	assert_known(&out, HPACK_F_PATH, "/12345678");
	assert_int_equal(decode_hex(&d, "be", &out), -EBADMSG);
	hpack_decoder__free(&d);
}

/* Settings: the size updates they allow, and a gap's table size. */
static void test_settings(void **state)
{
	struct hpack_decoder d;
	struct hpack_fields out;

	(void)state;
	hpack_decoder__init(&d, false, HPACK_CAUSE_NONE);
	assert_int_equal(d.settings_max, 4096);
	hpack_decoder__set_settings_max(&d, 8192);
	/* the encoder keeps its size until it says otherwise */
	assert_int_equal(d.max_size, 4096);
	assert_int_equal(decode_hex(&d, "3f e1 3f", &out), 0);	/* 8192 */
	assert_int_equal(d.max_size, 8192);
	hpack_decoder__set_settings_max(&d, 100);
	assert_int_equal(decode_hex(&d, "3f 45", &out), 0);		/* 100 */
	assert_int_equal(d.max_size, 100);
	assert_false(d.prefix_unknown);
	hpack_decoder__free(&d);
	hpack_decoder__init(&d, false, HPACK_CAUSE_NONE);
	hpack_decoder__set_settings_max(&d, 100);
	assert_int_equal(decode_hex(&d, "3f 46", &out), -EBADMSG);	/* 101 */
	/* after a gap the table may be as large as the settings allow */
	hpack_decoder__gap(&d, HPACK_CAUSE_HIDDEN_BYTES);
	assert_int_equal(d.max_size, 100);
	assert_int_equal(d.cause, HPACK_CAUSE_HIDDEN_BYTES);
	hpack_decoder__free(&d);
	/* a decoder started mid-stream knows no settings until told */
	hpack_decoder__init(&d, true, HPACK_CAUSE_BEFORE_AGENT);
	assert_int_equal(d.settings_max, HPACK_SIZE_UNKNOWN);
	assert_int_equal(decode_hex(&d, "3f e1 ff 03", &out), 0);	/* 65,536 */
	hpack_decoder__free(&d);
	hpack_decoder__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_c2),
		cmocka_unit_test(test_rfc_c3),
		cmocka_unit_test(test_rfc_c4),
		cmocka_unit_test(test_rfc_c5),
		cmocka_unit_test(test_rfc_c6),
		cmocka_unit_test(test_nghttp2_streams),
		cmocka_unit_test(test_known_suffix_from_middle),
		cmocka_unit_test(test_known_suffix_gap),
		cmocka_unit_test(test_memory_bound),
		cmocka_unit_test(test_memory_bound_by_hand),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_bounds_valid_side),
		cmocka_unit_test(test_fields_and_block_bounds),
		cmocka_unit_test(test_truncated_values),
		cmocka_unit_test(test_literals_not_indexed),
		cmocka_unit_test(test_unknown_references),
		cmocka_unit_test(test_known_again),
		cmocka_unit_test(test_settings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
