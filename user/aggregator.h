/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Series store for one metric family: per combination of label values (and
 * an optional numeric status label), a latency histogram or a counter.
 * Counters only grow. Not thread-safe: one writer, and exposition from the
 * same thread (or under the caller's lock).
 */
#ifndef SLOTAP_AGGREGATOR_H
#define SLOTAP_AGGREGATOR_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "histogram.h"

#define AGGREGATOR_LABELS_MAX	6
/*
 * Series a family keeps unless told otherwise (aggregator__set_max_series):
 * about 4 KB each for a latency histogram, so about 20 MB at most.
 */
#define AGGREGATOR_DEFAULT_MAX_SERIES	5000
/*
 * The status label's value for a status that is no HTTP status (outside
 * 100..599, which whoever answers chooses): one series, not one each.
 */
#define AGGREGATOR_STATUS_INVALID	"invalid"
/*
 * A status the agent could not decode (HTTP/2's, docs/design-http2.md):
 * pass this as the status to get the value "undecoded".
 */
#define AGGREGATOR_STATUS_UNDECODED	0x10000u	/* above any __u16 status */
#define AGGREGATOR_STATUS_UNDECODED_VALUE	"undecoded"

/* What a family exports; static data, it must outlive its aggregators. */
struct aggregator_family {
	const char *metric;	/* histograms: the base name; counters end in _total */
	const char *help;
	const char *labels[AGGREGATOR_LABELS_MAX];	/* label names; unused ones NULL */
	const char *status_label;	/* a last, numeric label; NULL: none */
	bool counter;		/* a counter of events, not a latency histogram */
};

/*
 * The server request histogram, named after OpenTelemetry's HTTP conventions:
 * service, method, route, protocol version ("1.1", "2"), then the status.
 */
extern const struct aggregator_family aggregator_http_server;

struct aggregator;

/* lb (unused by counters) must outlive the aggregator. NULL on ENOMEM. */
struct aggregator *aggregator__new(const struct aggregator_family *fam,
				   const struct latency_buckets *lb);
void aggregator__free(struct aggregator *agg);
/*
 * At most max series (max >= 1); events of any further combination of
 * label values go to one overflow series, labelled only
 * otel_metric_overflow="true" as OpenTelemetry's cardinality limit does,
 * and are counted (aggregator__overflow_events). Series already made stay.
 */
void aggregator__set_max_series(struct aggregator *agg, size_t max);
/* Events recorded into the overflow series. */
__u64 aggregator__overflow_events(const struct aggregator *agg);
const struct aggregator_family *aggregator__family(const struct aggregator *agg);
/*
 * One event of the series with these label values (as many as the family
 * has labels; copied when a series is created): a histogram records
 * latency_ns, a counter counts one. Returns 0, -EINVAL for a NULL value, or
 * -ENOMEM (the event is then not counted).
 */
int aggregator__record(struct aggregator *agg, const char *const *values, unsigned int status,
		       __u64 latency_ns);
/*
 * The series with these label values, made if new: a handle to record into
 * with aggregator__observe() for as long as the aggregator lives (a cache
 * of the label lookup). NULL on a NULL value or ENOMEM.
 */
struct aggregator_series;
struct aggregator_series *aggregator__find(struct aggregator *agg, const char *const *values,
					   unsigned int status);
/* One event of a series of agg, as aggregator__record(). */
void aggregator__observe(struct aggregator *agg, struct aggregator_series *s, __u64 latency_ns);
/*
 * Counters only: n events of the series with these label values (n may be
 * 0: the series then exists, at 0). 0, -EINVAL (a NULL value, or not a
 * counter family) or -ENOMEM.
 */
int aggregator__count(struct aggregator *agg, const char *const *values, __u64 n);
/* Series made, the overflow series included. */
size_t aggregator__series(const struct aggregator *agg);
/*
 * Writes HELP, TYPE and every series sorted by label values bytewise, then
 * status numerically. Returns 0, -ENOMEM, or -EIO if out has its error flag
 * set. An empty family writes nothing but its HELP and TYPE.
 */
int aggregator__write_prometheus(const struct aggregator *agg, FILE *out);

#endif /* SLOTAP_AGGREGATOR_H */
