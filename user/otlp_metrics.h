/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The agent's metrics as one OTLP export request (protobuf, protoc-c's
 * code from proto/): read from the Prometheus exposition /metrics serves,
 * so that the OTLP receiver gets exactly the same metrics. Counters become
 * monotonic cumulative sums, gauges (and untyped samples) gauges,
 * histograms cumulative histograms with the bounds written for each
 * series (its le values but +Inf) and per-bucket counts. Names and labels
 * are the exposition's; the unit comes from the name's suffix (_seconds: s,
 * _bytes: By, _ratio: 1).
 */
#ifndef SLOTAP_OTLP_METRICS_H
#define SLOTAP_OTLP_METRICS_H

#include <stddef.h>
#include <linux/types.h>

/* What every export says of where it comes from. */
struct otlp_source {
	const char *service_name;	/* resource service.name: "slotap" */
	const char *service_version;
	const char *host_name;		/* resource host.name: the node */
	__u64 start_unix_ns;		/* start of the cumulative counts: the agent's start */
};

struct otlp_encoded {
	void *buf;		/* malloc'd protobuf bytes */
	size_t len;
	size_t points;		/* data points in it */
	size_t skipped;		/* exposition lines not understood (none from our writer) */
};

/*
 * text (len bytes, the whole exposition) at now_unix_ns into out. 0 or
 * -ENOMEM. A line it does not understand is counted in skipped and left
 * out, never guessed at.
 */
int otlp_metrics__encode(const char *text, size_t len, const struct otlp_source *src,
			 __u64 now_unix_ns, struct otlp_encoded *out);

#endif /* SLOTAP_OTLP_METRICS_H */
