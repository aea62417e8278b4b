// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>

#include "endpoint_cache.h"

#define ENDPOINT_CACHE_SLOTS	1024	/* a power of two */

/* Zero-padded, so that keys compare and hash as plain words. */
struct endpoint_key {
	__u16 service_id;
	__u16 status;
	__u8 method;
	__u8 path_len;
	__u8 truncated;
	__u8 __pad;
	char exe_name[EXE_NAME_LEN];
	char path[HTTP_PATH_MAX];
};
_Static_assert(sizeof(struct endpoint_key) % sizeof(__u64) == 0, "hashed a word at a time");

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
	memcpy(k->exe_name, e->exe_name, sizeof(k->exe_name));
	memcpy(k->path, e->resource, len);
}

static size_t slot_of(const struct endpoint_key *k)
{
	__u64 w, h = 0x9e3779b97f4a7c15ULL;
	const char *p = (const char *)k;

	for (size_t i = 0; i < sizeof(*k); i += sizeof(w)) {
		memcpy(&w, p + i, sizeof(w));
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	return h & (ENDPOINT_CACHE_SLOTS - 1);
}

const struct endpoint_cache_value *endpoint_cache__get(struct endpoint_cache *cache,
						       const struct http_event *e)
{
	struct endpoint_key k;
	struct slot *s;

	key_of(e, &k);
	s = &cache->slots[slot_of(&k)];
	return s->used && !memcmp(&s->key, &k, sizeof(k)) ? &s->value : NULL;
}

void endpoint_cache__put(struct endpoint_cache *cache, const struct http_event *e,
			 const struct endpoint_cache_value *v)
{
	struct endpoint_key k;
	struct slot *s;

	key_of(e, &k);
	s = &cache->slots[slot_of(&k)];
	s->key = k;
	s->value = *v;
	s->used = true;
}
