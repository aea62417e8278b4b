/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The dependencies of tracked services, as their outbound connections show
 * them: TCP connect latency and failures, HTTP client requests (latency
 * and status, or the failure) and gRPC client calls, per destination
 * address and port.
 */
#ifndef SLOTAP_OUTBOUND_H
#define SLOTAP_OUTBOUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "http_server.h"

struct latency_buckets;
struct outbound;

/* Destinations beyond this share server_address="__overflow__". */
#define OUTBOUND_DESTINATIONS_MAX	1024

struct outbound *outbound__new(const struct latency_buckets *lb);
void outbound__free(struct outbound *ob);
/*
 * One client event (HTTP_EVENT_CLIENT) of service. method is the request's
 * method name, version its network_protocol_version (both ignored for
 * connects). 0 or -ENOMEM (then not counted).
 */
int outbound__record(struct outbound *ob, const char *service, const char *method,
		     const char *version, const struct http_event *e);
/*
 * One gRPC client call of service: answered with code (a name, or
 * "undecoded"), or failed (e->failure, counted with the HTTP requests'
 * failures). 0 or -ENOMEM.
 */
int outbound__record_call(struct outbound *ob, const char *service, const char *rpc_method,
			  const char *code, const struct http_event *e);
/*
 * The rpc_method label of a gRPC client call of service to e's destination
 * (path: its :path, len bytes): "pkg.Service/Method" from the destination's
 * own table of methods, at most max_methods of them (beyond:
 * "__overflow__", counted), a new one added only when admit (the server
 * answered the call). NULL when not admitted (or the destination has no
 * room, or ENOMEM): the caller's _OTHER.
 */
const char *outbound__rpc_method(struct outbound *ob, const char *service,
				 const struct http_event *e, const char *path, size_t len,
				 bool admit, unsigned int max_methods);
/* "127.0.0.1", "::1": the text of an event's remote address. */
void outbound__address(const __u8 addr[16], char *buf, size_t len);
const char *http_failure__name(enum http_failure failure);
/* Whether SLOs count a request failed so (transport_failures): all but a graceful goaway. */
bool http_failure__counts_in_slos(enum http_failure failure);
int outbound__write_prometheus(const struct outbound *ob, FILE *out);
/* Its metric families, OUTBOUND_FAMILIES of them, for the series limit. */
#define OUTBOUND_FAMILIES	5
struct aggregator *outbound__family(struct outbound *ob, size_t i);

#endif
