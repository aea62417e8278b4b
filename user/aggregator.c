// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator.h"
#include "prom.h"

#define SERIES_MIN_CAP	64

struct series {
	__u64 hash;
	const char *service;	/* the three point into labels[] */
	const char *method;
	const char *route;
	unsigned int status;
	struct histogram h;
	char labels[];
};

struct aggregator {
	const struct latency_buckets *lb;
	/* open addressing with linear probing: NULL is an empty slot */
	struct series **slots;
	size_t cap;		/* power of two */
	size_t n;
};

static __u64 fnv1a(__u64 h, const char *s)
{
	/* the terminating NUL is hashed too, so ("ab", "c") and ("a", "bc") differ */
	do {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	} while (*s++);
	return h;
}

static __u64 series_hash(const char *service, const char *method, const char *route,
			 unsigned int status)
{
	__u64 h = 0xcbf29ce484222325ULL;

	h = fnv1a(h, service);
	h = fnv1a(h, method);
	h = fnv1a(h, route);
	h ^= status;
	/* murmur3 finaliser: the table indexes by the low bits only */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static size_t slot_of(const struct aggregator *agg, __u64 hash, const char *service,
		      const char *method, const char *route, unsigned int status)
{
	size_t i = hash & (agg->cap - 1);
	const struct series *s;

	for (; (s = agg->slots[i]); i = (i + 1) & (agg->cap - 1)) {
		if (s->hash == hash && s->status == status && !strcmp(s->route, route) &&
		    !strcmp(s->method, method) && !strcmp(s->service, service))
			break;
	}
	return i;
}

static size_t empty_slot(const struct aggregator *agg, __u64 hash)
{
	size_t i = hash & (agg->cap - 1);

	while (agg->slots[i])
		i = (i + 1) & (agg->cap - 1);
	return i;
}

static int grow(struct aggregator *agg)
{
	struct series **old = agg->slots;
	size_t old_cap = agg->cap, i;

	agg->slots = calloc(old_cap * 2, sizeof(*agg->slots));
	if (!agg->slots) {
		agg->slots = old;
		return -ENOMEM;
	}
	agg->cap = old_cap * 2;
	for (i = 0; i < old_cap; i++) {
		if (old[i])
			agg->slots[empty_slot(agg, old[i]->hash)] = old[i];
	}
	free(old);
	return 0;
}

static struct series *series_new(const struct aggregator *agg, __u64 hash, const char *service,
				 const char *method, const char *route, unsigned int status)
{
	size_t ls = strlen(service) + 1, lm = strlen(method) + 1, lr = strlen(route) + 1;
	struct series *s = malloc(sizeof(*s) + ls + lm + lr);

	if (!s)
		return NULL;
	if (histogram__init(&s->h, agg->lb)) {
		free(s);
		return NULL;
	}
	s->hash = hash;
	s->status = status;
	s->service = memcpy(s->labels, service, ls);
	s->method = memcpy(s->labels + ls, method, lm);
	s->route = memcpy(s->labels + ls + lm, route, lr);
	return s;
}

struct aggregator *aggregator__new(const struct latency_buckets *lb)
{
	struct aggregator *agg = calloc(1, sizeof(*agg));

	if (!agg)
		return NULL;
	agg->lb = lb;
	agg->cap = SERIES_MIN_CAP;
	agg->slots = calloc(agg->cap, sizeof(*agg->slots));
	if (!agg->slots) {
		free(agg);
		return NULL;
	}
	return agg;
}

void aggregator__free(struct aggregator *agg)
{
	size_t i;

	if (!agg)
		return;
	for (i = 0; i < agg->cap; i++) {
		if (agg->slots[i]) {
			histogram__free(&agg->slots[i]->h);
			free(agg->slots[i]);
		}
	}
	free(agg->slots);
	free(agg);
}

int aggregator__record(struct aggregator *agg, const char *service, const char *method,
		       const char *route, unsigned int status, __u64 latency_ns)
{
	__u64 hash;
	size_t i;
	struct series *s;

	if (!service || !method || !route)
		return -EINVAL;
	hash = series_hash(service, method, route, status);
	i = slot_of(agg, hash, service, method, route, status);
	s = agg->slots[i];
	if (!s) {
		/* grow first: a failed grow must not leave a series uncounted in n */
		if ((agg->n + 1) * 4 > agg->cap * 3) {
			if (grow(agg))
				return -ENOMEM;
			i = empty_slot(agg, hash);
		}
		s = series_new(agg, hash, service, method, route, status);
		if (!s)
			return -ENOMEM;
		agg->slots[i] = s;
		agg->n++;
	}
	histogram__record(&s->h, agg->lb, latency_ns);
	return 0;
}

size_t aggregator__series(const struct aggregator *agg)
{
	return agg->n;
}

static int series_cmp(const void *a, const void *b)
{
	const struct series *x = *(const struct series *const *)a;
	const struct series *y = *(const struct series *const *)b;
	int c;

	c = strcmp(x->service, y->service);
	if (!c)
		c = strcmp(x->method, y->method);
	if (!c)
		c = strcmp(x->route, y->route);
	if (!c)
		c = x->status < y->status ? -1 : x->status > y->status;
	return c;
}

static void write_labels(FILE *out, const struct series *s)
{
	fputs("{service_name=", out);
	prom__label_value(out, s->service);
	fputs(",http_request_method=", out);
	prom__label_value(out, s->method);
	fputs(",http_route=", out);
	prom__label_value(out, s->route);
	fprintf(out, ",http_response_status_code=\"%u\"", s->status);
}

static void write_series(FILE *out, const struct latency_buckets *lb, const struct series *s)
{
	__u64 cum = 0;
	size_t i;

	for (i = 0; i < lb->n; i++) {
		cum += s->h.counts[i];
		/*
		 * An empty bucket repeats the previous cumulative value: skip it,
		 * except thresholds, which SLO queries select by le. A bucket
		 * never empties again, so a le once written stays.
		 */
		if (!s->h.counts[i] && !latency_buckets__is_threshold(lb, i))
			continue;
		fputs(AGGREGATOR_METRIC "_bucket", out);
		write_labels(out, s);
		fputs(",le=\"", out);
		prom__seconds(out, lb->bounds_ns[i]);
		fprintf(out, "\"} %llu\n", (unsigned long long)cum);
	}
	fputs(AGGREGATOR_METRIC "_bucket", out);
	write_labels(out, s);
	fprintf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)s->h.count);

	fputs(AGGREGATOR_METRIC "_sum", out);
	write_labels(out, s);
	fputs("} ", out);
	prom__seconds(out, s->h.sum_ns);
	fputc('\n', out);

	fputs(AGGREGATOR_METRIC "_count", out);
	write_labels(out, s);
	fprintf(out, "} %llu\n", (unsigned long long)s->h.count);
}

int aggregator__write_prometheus(const struct aggregator *agg, FILE *out)
{
	struct series **sorted = NULL;
	size_t i, n = 0;

	if (agg->n) {
		sorted = malloc(agg->n * sizeof(*sorted));
		if (!sorted)
			return -ENOMEM;
	}
	for (i = 0; i < agg->cap; i++) {
		if (agg->slots[i])
			sorted[n++] = agg->slots[i];
	}
	if (n)
		qsort(sorted, n, sizeof(*sorted), series_cmp);

	prom__header(out, AGGREGATOR_METRIC, "histogram",
		     "Duration of HTTP server requests: from the return of the syscall that read the request's first byte to the return of the syscall that wrote the response's first byte.");
	for (i = 0; i < n; i++)
		write_series(out, agg->lb, sorted[i]);
	free(sorted);
	return ferror(out) ? -EIO : 0;
}
