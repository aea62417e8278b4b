/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the agent resolved for an answered request, by the request's raw
 * identity in its event (service, process name, protocol, method, path
 * bytes, status): the histogram series and the SLOs it feeds. HTTP/1
 * requests, and HTTP/2 requests and gRPC calls whose fields were all
 * decoded (h2_conn.h), with their longer paths. Most requests of a
 * node hit a few endpoints, and resolving one (route templates, label
 * lookups) is string work worth doing once. A fixed table: a miss costs
 * one resolution, never memory. The handles stay valid while the
 * aggregator and SLO registry they came from live; clear the cache when
 * either, or a route table, is replaced.
 */
#ifndef SLOTAP_ENDPOINT_CACHE_H
#define SLOTAP_ENDPOINT_CACHE_H

#include "aggregator.h"
#include "http_server.h"
#include "slo_registry.h"

struct endpoint_cache_value {
	struct aggregator_series *series;
	struct slo_endpoint *slo;	/* NULL: no SLO to feed */
};

struct endpoint_cache;
struct h2_event;

struct endpoint_cache *endpoint_cache__new(void);
void endpoint_cache__free(struct endpoint_cache *cache);
void endpoint_cache__clear(struct endpoint_cache *cache);
/* What is cached for the request of e; NULL when nothing is. */
const struct endpoint_cache_value *endpoint_cache__get(struct endpoint_cache *cache,
						       const struct http_event *e);
/* Remember v for the requests like e, in place of what shares its slot. */
void endpoint_cache__put(struct endpoint_cache *cache, const struct http_event *e,
			 const struct endpoint_cache_value *v);
/* The same for an HTTP/2 request or gRPC call (its path beside its event). */
const struct endpoint_cache_value *endpoint_cache__get_h2(struct endpoint_cache *cache,
							  const struct h2_event *h);
void endpoint_cache__put_h2(struct endpoint_cache *cache, const struct h2_event *h,
			    const struct endpoint_cache_value *v);

#endif /* SLOTAP_ENDPOINT_CACHE_H */
