/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Series store: one latency histogram per (service, method, route, status),
 * exposed as the http_server_request_duration_seconds histogram. Counters
 * only grow. Not thread-safe: one writer, and exposition from the same thread
 * (or under the caller's lock).
 */
#ifndef SLOTAP_AGGREGATOR_H
#define SLOTAP_AGGREGATOR_H

#include <linux/types.h>
#include <stddef.h>
#include <stdio.h>

#include "histogram.h"

#define AGGREGATOR_METRIC	"http_server_request_duration_seconds"

struct aggregator;

/* lb must outlive the aggregator. Returns NULL on ENOMEM. */
struct aggregator *aggregator__new(const struct latency_buckets *lb);
void aggregator__free(struct aggregator *agg);
/*
 * Strings are copied when a series is created. Returns 0, -EINVAL for a NULL
 * string, or -ENOMEM (the request is then not counted).
 */
int aggregator__record(struct aggregator *agg, const char *service, const char *method,
		       const char *route, unsigned int status, __u64 latency_ns);
size_t aggregator__series(const struct aggregator *agg);
/*
 * Writes HELP, TYPE and every series sorted by (service, method, route) bytewise,
 * then status numerically. Returns 0, -ENOMEM, or -EIO if out has its error flag set.
 */
int aggregator__write_prometheus(const struct aggregator *agg, FILE *out);

#endif /* SLOTAP_AGGREGATOR_H */
