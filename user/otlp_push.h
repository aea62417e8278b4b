/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The agent's metrics pushed as OTLP over HTTP/protobuf (POST, the
 * otlp_metrics.h encoding) every interval, by a thread of its own: it
 * writes the same exposition /metrics serves, encodes it and posts it.
 * Cumulative temporality, so an export that failed loses no count: it is
 * retried with backoff (http_push.h) until the next one is due, which
 * replaces it (counted as superseded).
 */
#ifndef SLOTAP_OTLP_PUSH_H
#define SLOTAP_OTLP_PUSH_H

#include <stdio.h>
#include <linux/types.h>
#include "metrics_server.h"

#define OTLP_PUSH_INTERVAL_DEFAULT_S	60
#define OTLP_PUSH_INTERVAL_MAX_S	3600

struct otlp_push;

/*
 * endpoint: http(s)://HOST[:PORT][/PATH], /v1/metrics when there is no
 * path; every interval_s, write(ctx, out) gives the exposition (called on
 * the push thread, as the metrics server calls it). NULL with the reason in
 * err and errno set (EINVAL, ENOMEM).
 */
struct otlp_push *otlp_push__new(const char *endpoint, unsigned int interval_s,
				 metrics_write_fn write, void *ctx, char *err, size_t err_len);
/* The thread; it inherits the caller's capabilities (main.c gives it none). */
int otlp_push__start(struct otlp_push *p);
/* Stops the thread, if started (an export in flight ends within its timeout). NULL is fine. */
void otlp_push__free(struct otlp_push *p);

/* slotap_otlp_* self-metrics. */
void otlp_push__write_metrics(struct otlp_push *p, FILE *out);

#endif /* SLOTAP_OTLP_PUSH_H */
