/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Log-linear latency histogram.
 *
 * Every power-of-two octave [2^k, 2^(k+1)) between LATENCY_BUCKETS_MIN_NS and
 * LATENCY_BUCKETS_MAX_NS is split into LATENCY_BUCKETS_SUB equal-width
 * sub-buckets. A sub-bucket (lower, upper] then satisfies
 * (upper - lower) / upper <= 1/21 < 5%, so any latency in the covered range is
 * reported within 5% of its bucket's upper bound (the Prometheus le).
 * Configured SLO thresholds are added as exact bounds on top of that layout,
 * so "requests faster than the threshold" is an exact count, never an
 * interpolation.
 */
#ifndef SLOTAP_HISTOGRAM_H
#define SLOTAP_HISTOGRAM_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#define LATENCY_BUCKETS_MIN_SHIFT	14	/* 16.384 us: below, bucket 0 */
#define LATENCY_BUCKETS_MAX_SHIFT	37	/* ~137.4 s: above, +Inf (or a threshold) */
#define LATENCY_BUCKETS_MIN_NS		(1ULL << LATENCY_BUCKETS_MIN_SHIFT)
#define LATENCY_BUCKETS_MAX_NS		(1ULL << LATENCY_BUCKETS_MAX_SHIFT)
#define LATENCY_BUCKETS_SUB		20	/* sub-buckets per octave */
/* Bounds of the log-linear layout alone, before thresholds are merged in. */
#define LATENCY_BUCKETS_LOG_LINEAR \
	(1 + (LATENCY_BUCKETS_MAX_SHIFT - LATENCY_BUCKETS_MIN_SHIFT) * LATENCY_BUCKETS_SUB)

/* Immutable bucket layout shared by all series. */
struct latency_buckets {
	__u64 *bounds_ns;	/* strictly ascending inclusive upper bounds (Prometheus le) */
	bool *is_threshold;	/* n entries: bound i is a configured threshold */
	size_t n;		/* +Inf bucket is index n, implicit */
};

/*
 * Builds the log-linear layout plus every threshold as an exact bound
 * (duplicates merged; thresholds above the covered range are still added).
 * Returns 0, -EINVAL for a zero threshold, or -ENOMEM.
 */
int latency_buckets__init(struct latency_buckets *lb, const __u64 *thresholds_ns,
			  size_t n_thresholds);
void latency_buckets__free(struct latency_buckets *lb);
/* Smallest i with ns <= bounds_ns[i], or n (+Inf). O(log n). */
size_t latency_buckets__index(const struct latency_buckets *lb, __u64 ns);
/* Whether bound i (< n) came from the configured thresholds. */
bool latency_buckets__is_threshold(const struct latency_buckets *lb, size_t i);

struct histogram {
	__u64 *counts;		/* n + 1 entries, per bucket (not cumulative) */
	__u64 count;
	__u64 sum_ns;		/* wraps modulo 2^64, see histogram__record() */
};

/* Returns 0 or -ENOMEM. */
int histogram__init(struct histogram *h, const struct latency_buckets *lb);
void histogram__record(struct histogram *h, const struct latency_buckets *lb, __u64 ns);
void histogram__free(struct histogram *h);

#endif /* SLOTAP_HISTOGRAM_H */
