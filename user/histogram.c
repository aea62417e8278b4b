// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

int latency_buckets__init(struct latency_buckets *lb, const __u64 *thresholds_ns,
			  size_t n_thresholds)
{
	size_t n = 0, i, j, cap;
	unsigned int k;
	__u64 *bounds, *shrunk;
	bool *is_threshold;

	memset(lb, 0, sizeof(*lb));
	for (i = 0; i < n_thresholds; i++) {
		/* le="0" would only ever count zero-latency requests: a config mistake */
		if (!thresholds_ns[i])
			return -EINVAL;
	}
	if (n_thresholds > SIZE_MAX / sizeof(*bounds) - LATENCY_BUCKETS_LOG_LINEAR)
		return -ENOMEM;
	cap = LATENCY_BUCKETS_LOG_LINEAR + n_thresholds;
	bounds = malloc(cap * sizeof(*bounds));
	if (!bounds)
		return -ENOMEM;

	bounds[n++] = LATENCY_BUCKETS_MIN_NS;
	for (k = LATENCY_BUCKETS_MIN_SHIFT; k < LATENCY_BUCKETS_MAX_SHIFT; k++) {
		/*
		 * Rounding down keeps each sub-bucket within 1/21 of its upper
		 * bound even though 2^k / 20 is not an integer for every k.
		 */
		for (j = 1; j <= LATENCY_BUCKETS_SUB; j++)
			bounds[n++] = ((1ULL << k) * (LATENCY_BUCKETS_SUB + j)) /
				      LATENCY_BUCKETS_SUB;
	}
	if (n_thresholds)
		memcpy(bounds + n, thresholds_ns, n_thresholds * sizeof(*bounds));
	n += n_thresholds;

	qsort(bounds, n, sizeof(*bounds), cmp_u64);
	for (i = 1, j = 1; i < n; i++) {
		if (bounds[i] != bounds[j - 1])
			bounds[j++] = bounds[i];
	}
	n = j;

	/* thresholds are usually few: give back what deduplication freed */
	shrunk = realloc(bounds, n * sizeof(*bounds));
	if (shrunk)
		bounds = shrunk;

	is_threshold = calloc(n, sizeof(*is_threshold));
	if (!is_threshold) {
		free(bounds);
		return -ENOMEM;
	}
	lb->bounds_ns = bounds;
	lb->n = n;
	for (i = 0; i < n_thresholds; i++)
		is_threshold[latency_buckets__index(lb, thresholds_ns[i])] = true;
	lb->is_threshold = is_threshold;
	return 0;
}

void latency_buckets__free(struct latency_buckets *lb)
{
	free(lb->bounds_ns);
	free(lb->is_threshold);
	memset(lb, 0, sizeof(*lb));
}

size_t latency_buckets__index(const struct latency_buckets *lb, __u64 ns)
{
	size_t lo = 0, hi = lb->n;

	/* lower bound: le is inclusive, so a value equal to a bound belongs to it */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (lb->bounds_ns[mid] < ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool latency_buckets__is_threshold(const struct latency_buckets *lb, size_t i)
{
	return i < lb->n && lb->is_threshold[i];
}

int histogram__init(struct histogram *h, const struct latency_buckets *lb)
{
	memset(h, 0, sizeof(*h));
	h->counts = calloc(lb->n + 1, sizeof(*h->counts));
	return h->counts ? 0 : -ENOMEM;
}

void histogram__record(struct histogram *h, const struct latency_buckets *lb, __u64 ns)
{
	h->counts[latency_buckets__index(lb, ns)]++;
	h->count++;
	/*
	 * Modulo 2^64, i.e. after ~584 years of summed latency in one series;
	 * Prometheus reads the wrap as a counter reset.
	 */
	h->sum_ns += ns;
}

void histogram__free(struct histogram *h)
{
	free(h->counts);
	memset(h, 0, sizeof(*h));
}
