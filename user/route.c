// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errbuf.h"
#include "route.h"
#include "route_segment.h"
#include "util.h"

#define INTERN_MIN_CAP	64

struct intern_slot {
	__u64 hash;
	char *s;		/* NULL: empty slot */
};

struct route_table {
	char **templates;
	size_t n_templates;
	unsigned int max_routes;
	enum route_mode mode;
	__u64 overflowed;
	/* every route admitted so far, open addressing with linear probing */
	struct intern_slot *slots;
	size_t cap;		/* power of two */
	size_t n;
	/* where a route is built before interning: no allocation per request */
	char *buf;
	size_t buf_cap;
};

static __u64 hash_str(const char *s)
{
	return fnv1a64(FNV1A64_OFFSET, s, strlen(s));
}

static bool is_visible(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e;
}

static bool is_param(const char *seg, size_t len)
{
	return len >= 3 && seg[0] == '{' && seg[len - 1] == '}';
}


int route_template__validate(const char *tmpl, char *err, size_t errlen)
{
	size_t i, seg = 0, start;

	if (!tmpl || tmpl[0] != '/') {
		errbuf__set(err, errlen, "must start with '/'");
		return -EINVAL;
	}
	for (i = 0; tmpl[i]; i++) {
		unsigned char c = tmpl[i];

		if (!is_visible(c)) {
			errbuf__set(err, errlen, "byte %zu (0x%02x) is not printable ASCII", i, c);
			return -EINVAL;
		}
		if (c == '?' || c == '#') {
			/* paths are cut there before matching: such a template never matches */
			errbuf__set(err, errlen, "'%c' at byte %zu: a route has no query or fragment",
				c, i);
			return -EINVAL;
		}
	}
	for (start = 1;; seg++) {
		size_t len = strcspn(tmpl + start, "/");
		const char *s = tmpl + start;
		const char *brace = memchr(s, '{', len);

		if (!brace)
			brace = memchr(s, '}', len);
		if (brace) {
			bool ok = is_param(s, len);

			for (i = 1; ok && i + 1 < len; i++)
				ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
				     (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-';
			if (!ok) {
				errbuf__set(err, errlen,
					"segment %zu \"%.*s\": braces only as a whole {name} segment, name of [A-Za-z0-9_-]",
					seg + 1, (int)len, s);
				return -EINVAL;
			}
		}
		if (!s[len])
			break;
		start += len + 1;
	}
	return 0;
}

static int buf_reserve(struct route_table *rt, size_t size)
{
	char *b;

	if (size <= rt->buf_cap)
		return 0;
	b = realloc(rt->buf, size);
	if (!b)
		return -ENOMEM;
	rt->buf = b;
	rt->buf_cap = size;
	return 0;
}

static size_t intern_find(const struct route_table *rt, const char *s, __u64 hash)
{
	size_t i = hash & (rt->cap - 1);

	while (rt->slots[i].s && (rt->slots[i].hash != hash || strcmp(rt->slots[i].s, s)))
		i = (i + 1) & (rt->cap - 1);
	return i;
}

static int intern_grow(struct route_table *rt)
{
	struct intern_slot *old = rt->slots;
	size_t old_cap = rt->cap, i;

	rt->slots = calloc(old_cap * 2, sizeof(*rt->slots));
	if (!rt->slots) {
		rt->slots = old;
		return -ENOMEM;
	}
	rt->cap = old_cap * 2;
	for (i = 0; i < old_cap; i++) {
		if (old[i].s)
			rt->slots[intern_find(rt, old[i].s, old[i].hash)] = old[i];
	}
	free(old);
	return 0;
}

/* capped: s came from the heuristic, so it counts against max_routes when new. */
static const char *intern(struct route_table *rt, const char *s, bool capped)
{
	__u64 hash = hash_str(s);
	size_t i = intern_find(rt, s, hash);
	char *dup;

	if (rt->slots[i].s)
		return rt->slots[i].s;
	if (capped && rt->max_routes && rt->n >= rt->max_routes) {
		rt->overflowed++;
		return ROUTE_OVERFLOW;
	}
	if ((rt->n + 1) * 4 > rt->cap * 3) {
		if (intern_grow(rt))
			return NULL;
		i = intern_find(rt, s, hash);
	}
	dup = strdup(s);
	if (!dup)
		return NULL;
	rt->slots[i].hash = hash;
	rt->slots[i].s = dup;
	rt->n++;
	return dup;
}

/*
 * Matches path segments against template segments. Whole match (prefix
 * false): same number of segments. Prefix match: every path segment matched
 * and the template has more; *tlen is then the matched template length.
 * An empty path has no segments.
 */
static bool template_match(const char *t, const char *p, size_t plen, bool prefix, size_t *tlen)
{
	size_t ti = 0, pi = 0;

	for (;;) {
		size_t tsl, psl;

		if (pi == plen) {
			if (!prefix)
				return !t[ti];
			*tlen = ti;
			return t[ti] == '/';
		}
		if (!t[ti])
			return false;
		/* both at a '/' */
		ti++;
		pi++;
		tsl = strcspn(t + ti, "/");
		for (psl = 0; pi + psl < plen && p[pi + psl] != '/'; psl++)
			;
		if (is_param(t + ti, tsl)) {
			if (!psl)
				return false;
		} else if (tsl != psl || memcmp(t + ti, p + pi, psl)) {
			return false;
		}
		ti += tsl;
		pi += psl;
	}
}

/* Folds p (plen bytes, leading '/', or empty) into rt->buf; returns the length written. */
static size_t fold(struct route_table *rt, const char *p, size_t plen)
{
	size_t pi = 0, o = 0;

	while (pi < plen) {
		size_t sl;

		rt->buf[o++] = '/';
		pi++;
		for (sl = 0; pi + sl < plen && p[pi + sl] != '/'; sl++)
			;
		if (route_segment__is_id(p + pi, sl)) {
			memcpy(rt->buf + o, ROUTE_ID, sizeof(ROUTE_ID) - 1);
			o += sizeof(ROUTE_ID) - 1;
		} else {
			memcpy(rt->buf + o, p + pi, sl);
			o += sl;
		}
		pi += sl;
	}
	return o;
}

static const char *resolve_truncated(struct route_table *rt, const char *p, size_t len)
{
	size_t keep = len, tlen = 0, i, o;

	/* the last segment is partial: keep the complete ones before it */
	while (keep && p[keep - 1] != '/')
		keep--;
	if (keep)
		keep--;
	if (!keep)
		return intern(rt, ROUTE_TRUNCATED, false);

	for (i = 0; i < rt->n_templates; i++) {
		if (template_match(rt->templates[i], p, keep, true, &tlen)) {
			if (buf_reserve(rt, tlen + sizeof(ROUTE_TRUNCATED)))
				return NULL;
			memcpy(rt->buf, rt->templates[i], tlen);
			memcpy(rt->buf + tlen, ROUTE_TRUNCATED, sizeof(ROUTE_TRUNCATED));
			/* bounded by the templates' own segments: never capped */
			return intern(rt, rt->buf, false);
		}
	}
	if (rt->mode == ROUTE_MODE_STRICT)
		return intern(rt, ROUTE_OTHER, false);
	/* a segment grows at most from one byte to "{id}" */
	if (buf_reserve(rt, keep * (sizeof(ROUTE_ID) - 1) + sizeof(ROUTE_TRUNCATED)))
		return NULL;
	o = fold(rt, p, keep);
	memcpy(rt->buf + o, ROUTE_TRUNCATED, sizeof(ROUTE_TRUNCATED));
	return intern(rt, rt->buf, true);
}

const char *route_table__resolve(struct route_table *rt, const char *path, size_t len,
				 bool truncated)
{
	size_t i, o, skip = 0;

	for (i = 0; i < len; i++) {
		if (path[i] == '?' || path[i] == '#') {
			/* whatever the kernel cut was past the path */
			len = i;
			truncated = false;
			break;
		}
	}
	if (len == 1 && path[0] == '*' && !truncated)
		return intern(rt, ROUTE_ASTERISK, false);
	for (i = 0; i < len; i++) {
		if (!is_visible(path[i]))
			return intern(rt, ROUTE_INVALID, false);
	}

	/* absolute-form (proxies, RFC 9112 3.2.2): the scheme is case-insensitive */
	if (len >= 7 && !strncasecmp(path, "http://", 7))
		skip = 7;
	else if (len >= 8 && !strncasecmp(path, "https://", 8))
		skip = 8;
	if (skip) {
		const char *slash = memchr(path + skip, '/', len - skip);

		if (slash) {
			len -= slash - path;
			path = slash;
		} else if (truncated) {
			return intern(rt, ROUTE_TRUNCATED, false);
		} else {
			/* "http://host" asks for the root */
			path = "/";
			len = 1;
		}
	}
	if (!len || path[0] != '/')
		return intern(rt, ROUTE_INVALID, false);
	if (truncated)
		return resolve_truncated(rt, path, len);

	for (i = 0; i < rt->n_templates; i++) {
		if (template_match(rt->templates[i], path, len, false, NULL))
			return intern(rt, rt->templates[i], false);
	}
	if (rt->mode == ROUTE_MODE_STRICT)
		return intern(rt, ROUTE_OTHER, false);
	if (buf_reserve(rt, len * (sizeof(ROUTE_ID) - 1) + 1))
		return NULL;
	o = fold(rt, path, len);
	rt->buf[o] = '\0';
	return intern(rt, rt->buf, true);
}

static const char *verbatim(struct route_table *rt, const char *path, size_t len, bool admit)
{
	size_t i;

	if (!len || path[0] != '/')
		return intern(rt, ROUTE_INVALID, false);
	for (i = 0; i < len; i++) {
		if (!is_visible(path[i]))
			return intern(rt, ROUTE_INVALID, false);
	}
	for (i = 0; i < rt->n_templates; i++) {
		if (template_match(rt->templates[i], path, len, false, NULL))
			return intern(rt, rt->templates[i], false);
	}
	if (rt->mode == ROUTE_MODE_STRICT)
		return intern(rt, ROUTE_OTHER, false);
	if (buf_reserve(rt, len + 1))
		return NULL;
	memcpy(rt->buf, path, len);
	rt->buf[len] = '\0';
	if (!admit)
		return rt->slots[intern_find(rt, rt->buf, hash_str(rt->buf))].s;
	return intern(rt, rt->buf, true);
}

const char *route_table__resolve_verbatim(struct route_table *rt, const char *path, size_t len)
{
	return verbatim(rt, path, len, true);
}

const char *route_table__find_verbatim(struct route_table *rt, const char *path, size_t len)
{
	return verbatim(rt, path, len, false);
}

struct route_table *route_table__new(const char *const *templates, size_t n_templates,
				     unsigned int max_routes, enum route_mode mode)
{
	struct route_table *rt;
	size_t i;

	for (i = 0; i < n_templates; i++) {
		if (route_template__validate(templates[i], NULL, 0)) {
			errno = EINVAL;
			return NULL;
		}
	}
	rt = calloc(1, sizeof(*rt));
	if (!rt)
		goto enomem;
	rt->max_routes = max_routes;
	rt->mode = mode;
	rt->cap = INTERN_MIN_CAP;
	rt->slots = calloc(rt->cap, sizeof(*rt->slots));
	if (!rt->slots)
		goto enomem;
	if (n_templates) {
		rt->templates = calloc(n_templates, sizeof(*rt->templates));
		if (!rt->templates)
			goto enomem;
	}
	for (i = 0; i < n_templates; i++) {
		rt->templates[i] = strdup(templates[i]);
		if (!rt->templates[i])
			goto enomem;
		rt->n_templates++;
	}
	return rt;

enomem:
	route_table__free(rt);
	errno = ENOMEM;
	return NULL;
}

void route_table__free(struct route_table *rt)
{
	size_t i;

	if (!rt)
		return;
	for (i = 0; i < rt->n_templates; i++)
		free(rt->templates[i]);
	free(rt->templates);
	for (i = 0; rt->slots && i < rt->cap; i++)
		free(rt->slots[i].s);
	free(rt->slots);
	free(rt->buf);
	free(rt);
}

__u64 route_table__overflowed(const struct route_table *rt)
{
	return rt->overflowed;
}

size_t route_table__count(const struct route_table *rt)
{
	return rt->n;
}
