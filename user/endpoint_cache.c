// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint_cache.h"
#include "h2_conn.h"

#define ENDPOINT_CACHE_SLOTS	1024	/* a power of two */

/*
 * Zero-padded, so that keys compare and hash as plain words: up to the
 * word that ends the path (key_len), the rest is zeros either way.
 */
struct endpoint_key {
	__u16 service_id;
	__u16 status;
	__u8 method;
	__u8 path_len;
	__u8 truncated;
	__u8 protocol;		/* HTTP/1.1, HTTP/2 and gRPC feed different series */
	char exe_name[EXE_NAME_LEN];
	char path[H2_PATH_MAX];	/* HTTP/1's are HTTP_PATH_MAX at most */
};
_Static_assert(sizeof(struct endpoint_key) % sizeof(__u64) == 0, "hashed a word at a time");
_Static_assert(offsetof(struct endpoint_key, path) % sizeof(__u64) == 0, "hashed a word at a time");
_Static_assert(H2_PATH_MAX >= HTTP_PATH_MAX && H2_PATH_MAX < 256, "path_len holds either");

struct slot {
	struct endpoint_key key;
	struct endpoint_cache_value value;
	bool used;
};

struct endpoint_cache {
	struct slot slots[ENDPOINT_CACHE_SLOTS];
};

struct endpoint_cache *endpoint_cache__new(void)
{
	return calloc(1, sizeof(struct endpoint_cache));
}

void endpoint_cache__free(struct endpoint_cache *cache)
{
	free(cache);
}

void endpoint_cache__clear(struct endpoint_cache *cache)
{
	for (size_t i = 0; i < ENDPOINT_CACHE_SLOTS; i++)
		cache->slots[i].used = false;
}

static void key_of(const struct http_event *e, struct endpoint_key *k)
{
	size_t len = e->resource_len < HTTP_PATH_MAX ? e->resource_len : HTTP_PATH_MAX;

	/* the kernel's path buffer past path_len is whatever came before */
	memset(k, 0, sizeof(*k));
	k->service_id = e->service_id;
	k->status = e->status;
	k->method = e->operation;
	k->path_len = len;
	k->truncated = !!(e->flags & HTTP_EVENT_PATH_TRUNCATED);
	k->protocol = e->protocol;
	memcpy(k->exe_name, e->exe_name, sizeof(k->exe_name));
	memcpy(k->path, e->resource, len);
}

static void key_of_h2(const struct h2_event *h, struct endpoint_key *k)
{
	size_t len = h->path_len < H2_PATH_MAX ? h->path_len : H2_PATH_MAX;

	memset(k, 0, sizeof(*k));
	k->service_id = h->e.service_id;
	k->status = h->e.status;
	k->method = h->e.operation;
	k->path_len = len;
	k->truncated = h->path_truncated;
	k->protocol = h->e.protocol;
	memcpy(k->exe_name, h->e.exe_name, sizeof(k->exe_name));
	memcpy(k->path, h->path, len);
}

/* The bytes of k that can differ from another key's: the rest are zeros. */
static size_t key_len(const struct endpoint_key *k)
{
	return offsetof(struct endpoint_key, path) + ((k->path_len + 7u) & ~7u);
}

static size_t slot_of(const struct endpoint_key *k)
{
	__u64 w, h = 0x9e3779b97f4a7c15ULL;
	const char *p = (const char *)k;

	for (size_t i = 0; i < key_len(k); i += sizeof(w)) {
		memcpy(&w, p + i, sizeof(w));
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	return h & (ENDPOINT_CACHE_SLOTS - 1);
}

static const struct endpoint_cache_value *get(struct endpoint_cache *cache,
					      const struct endpoint_key *k)
{
	struct slot *s = &cache->slots[slot_of(k)];

	/* equal path lengths are in the compared head: key_len(k) covers both */
	return s->used && !memcmp(&s->key, k, key_len(k)) ? &s->value : NULL;
}

static void put(struct endpoint_cache *cache, const struct endpoint_key *k,
		const struct endpoint_cache_value *v)
{
	struct slot *s = &cache->slots[slot_of(k)];

	s->key = *k;
	s->value = *v;
	s->used = true;
}

const struct endpoint_cache_value *endpoint_cache__get(struct endpoint_cache *cache,
						       const struct http_event *e)
{
	struct endpoint_key k;

	key_of(e, &k);
	return get(cache, &k);
}

void endpoint_cache__put(struct endpoint_cache *cache, const struct http_event *e,
			 const struct endpoint_cache_value *v)
{
	struct endpoint_key k;

	key_of(e, &k);
	put(cache, &k, v);
}

const struct endpoint_cache_value *endpoint_cache__get_h2(struct endpoint_cache *cache,
							  const struct h2_event *h)
{
	struct endpoint_key k;

	key_of_h2(h, &k);
	return get(cache, &k);
}

void endpoint_cache__put_h2(struct endpoint_cache *cache, const struct h2_event *h,
			    const struct endpoint_cache_value *v)
{
	struct endpoint_key k;

	key_of_h2(h, &k);
	put(cache, &k, v);
}
