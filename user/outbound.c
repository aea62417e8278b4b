// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator.h"
#include "outbound.h"
#include "prom.h"
#include "route.h"
#include "metric_names.h"

static const struct aggregator_family client_requests = {
	.metric = METRIC_HTTP_CLIENT,
	.help = "Duration of HTTP client requests of tracked services: from the return of the "
		"syscall that sent the request's first byte to the return of the one that "
		"read the response's first byte.",
	.labels = { "service_name", "server_address", "server_port", "http_request_method",
		    "network_protocol_version" },
	.status_label = "http_response_status_code",
};

static const struct aggregator_family client_calls = {
	.metric = METRIC_RPC_CLIENT,
	.help = "Duration of gRPC client calls of tracked services: from the return of the "
		"syscall that sent the request's first byte to the return of the one that "
		"read the first response message (or the status of a call without one).",
	.labels = { "service_name", "server_address", "server_port", "rpc_system_name",
		    "rpc_method", "rpc_response_status_code" },
};

static const struct aggregator_family client_failures = {
	.metric = METRIC_HTTP_CLIENT_FAILURES,
	.help = "HTTP client requests of tracked services that got no response, by reason.",
	.labels = { "service_name", "server_address", "server_port", "reason" },
	.counter = true,
};

static const struct aggregator_family connects = {
	.metric = METRIC_TCP_CONNECT,
	.help = "Duration of successful outbound TCP connects of tracked services: from "
		"the SYN to the handshake's end.",
	.labels = { "service_name", "server_address", "server_port" },
};

static const struct aggregator_family connect_failures = {
	.metric = METRIC_TCP_CONNECT_FAILURES,
	.help = "Outbound TCP connects of tracked services that failed, by reason.",
	.labels = { "service_name", "server_address", "server_port", "reason" },
	.counter = true,
};

enum {
	FAM_REQUESTS, FAM_REQUEST_FAILURES, FAM_CONNECTS, FAM_CONNECT_FAILURES, FAM_CALLS, FAM_MAX
};

static const struct aggregator_family *const families[FAM_MAX] = {
	[FAM_REQUESTS] = &client_requests,
	[FAM_REQUEST_FAILURES] = &client_failures,
	[FAM_CONNECTS] = &connects,
	[FAM_CONNECT_FAILURES] = &connect_failures,
	[FAM_CALLS] = &client_calls,
};

_Static_assert(FAM_MAX == OUTBOUND_FAMILIES, "outbound.h counts the families");
_Static_assert(OUTBOUND_DESTINATIONS_MAX == 1024, "the help text names the cap");

/* A destination seen, by service: the cardinality budget. */
struct destination {
	char *key;		/* "service\naddress\nport" */
	struct route_table *rpc_methods;	/* gRPC methods called there; made when needed */
};

struct outbound {
	struct aggregator *fam[FAM_MAX];
	struct destination *dests;	/* unsorted; OUTBOUND_DESTINATIONS_MAX at most */
	size_t n_dests;
	__u64 overflowed;	/* events whose destination did not fit */
};

static const char *const failure_names[HTTP_FAILURE_MAX] = {
	[HTTP_FAILURE_NONE] = "none",
	[HTTP_FAILURE_CONN_RESET] = "connection_reset",
	[HTTP_FAILURE_CONN_CLOSED] = "connection_closed",
	[HTTP_FAILURE_TIMEOUT] = "timeout",
	[HTTP_FAILURE_CONNECT_REFUSED] = "refused",
	[HTTP_FAILURE_CONNECT_TIMEOUT] = "timed_out",
	[HTTP_FAILURE_CONNECT_UNREACHABLE] = "unreachable",
	[HTTP_FAILURE_CONNECT_OTHER] = "other",
	[HTTP_FAILURE_REFUSED] = "refused",
	[HTTP_FAILURE_LISTEN_OVERFLOW] = "listen_overflow",
	[HTTP_FAILURE_STREAM_RESET] = "stream_reset",
	[HTTP_FAILURE_STREAM_CANCELLED] = "stream_cancelled",
	[HTTP_FAILURE_GOAWAY] = "goaway",
	[HTTP_FAILURE_UNFRAMED] = "unframed",
	[HTTP_FAILURE_TLS_HANDSHAKE] = "tls_handshake",
	[HTTP_FAILURE_GOAWAY_ERROR] = "goaway_error",
};

const char *http_failure__name(enum http_failure failure)
{
	return failure < HTTP_FAILURE_MAX ? failure_names[failure] : "other";
}

bool http_failure__counts_in_slos(enum http_failure failure)
{
	/*
	 * A server rotating its connections (nginx every keepalive_requests)
	 * says so by a graceful GOAWAY; the streams above its last-stream-id
	 * were not processed (RFC 9113 6.8), a client retries them on a new
	 * connection, where they are measured as requests of their own.
	 */
	return failure != HTTP_FAILURE_GOAWAY;
}

void outbound__address(const __u8 addr[16], char *buf, size_t len)
{
	static const __u8 v4mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (!memcmp(addr, v4mapped, sizeof(v4mapped)))
		inet_ntop(AF_INET, addr + 12, buf, len);
	else
		inet_ntop(AF_INET6, addr, buf, len);
}

struct outbound *outbound__new(const struct latency_buckets *lb)
{
	struct outbound *ob = calloc(1, sizeof(*ob));

	if (!ob)
		return NULL;
	ob->dests = calloc(OUTBOUND_DESTINATIONS_MAX, sizeof(*ob->dests));
	if (!ob->dests)
		goto fail;
	for (int f = 0; f < FAM_MAX; f++) {
		ob->fam[f] = aggregator__new(families[f], lb);
		if (!ob->fam[f])
			goto fail;
	}
	return ob;
fail:
	outbound__free(ob);
	return NULL;
}

struct aggregator *outbound__family(struct outbound *ob, size_t i)
{
	return ob->fam[i];
}

void outbound__free(struct outbound *ob)
{
	if (!ob)
		return;
	for (int f = 0; f < FAM_MAX; f++)
		aggregator__free(ob->fam[f]);
	for (size_t i = 0; ob->dests && i < ob->n_dests; i++) {
		free(ob->dests[i].key);
		route_table__free(ob->dests[i].rpc_methods);
	}
	free(ob->dests);
	free(ob);
}

/* The destination, which has (or now gets) series of its own; NULL when it has no room. */
static struct destination *destination_find(struct outbound *ob, const char *service,
					    const char *addr, const char *port)
{
	char key[256];

	snprintf(key, sizeof(key), "%s\n%s\n%s", service, addr, port);
	/* linear: a service has a handful of dependencies, and the cap bounds it */
	for (size_t i = 0; i < ob->n_dests; i++) {
		if (!strcmp(ob->dests[i].key, key))
			return &ob->dests[i];
	}
	if (ob->n_dests == OUTBOUND_DESTINATIONS_MAX)
		return NULL;
	ob->dests[ob->n_dests].key = strdup(key);
	if (!ob->dests[ob->n_dests].key)
		return NULL;
	return &ob->dests[ob->n_dests++];
}

static bool destination_admitted(struct outbound *ob, const char *service, const char *addr,
				 const char *port)
{
	return destination_find(ob, service, addr, port);
}

/* The destination's labels, or the overflow's when it has no room. */
static void destination_of(struct outbound *ob, const char *service, const struct http_event *e,
			   char addr[INET6_ADDRSTRLEN], char port[8])
{
	outbound__address(e->remote_addr, addr, INET6_ADDRSTRLEN);
	snprintf(port, 8, "%u", e->remote_port);
	if (!destination_admitted(ob, service, addr, port)) {
		ob->overflowed++;
		strcpy(addr, "__overflow__");
		strcpy(port, "0");
	}
}

int outbound__record(struct outbound *ob, const char *service, const char *method,
		     const char *version, const struct http_event *e)
{
	char addr[INET6_ADDRSTRLEN], port[8];
	__u64 latency = e->resp_start_ns > e->req_start_ns ? e->resp_start_ns - e->req_start_ns : 0;
	const char *reason = http_failure__name(e->failure);

	destination_of(ob, service, e, addr, port);
	if (e->kind == HTTP_EVENT_CONNECT) {
		if (e->failure)
			return aggregator__record(ob->fam[FAM_CONNECT_FAILURES],
						  (const char *const[]){ service, addr, port, reason },
						  0, 0);
		return aggregator__record(ob->fam[FAM_CONNECTS],
					  (const char *const[]){ service, addr, port }, 0, latency);
	}
	if (e->failure)
		return aggregator__record(ob->fam[FAM_REQUEST_FAILURES],
					  (const char *const[]){ service, addr, port, reason }, 0, 0);
	return aggregator__record(ob->fam[FAM_REQUESTS],
				  (const char *const[]){ service, addr, port, method, version },
				  e->status, latency);
}

int outbound__record_call(struct outbound *ob, const char *service, const char *rpc_method,
			  const char *code, const struct http_event *e)
{
	char addr[INET6_ADDRSTRLEN], port[8];
	__u64 latency = e->resp_start_ns > e->req_start_ns ? e->resp_start_ns - e->req_start_ns : 0;

	destination_of(ob, service, e, addr, port);
	if (e->failure)
		return aggregator__record(ob->fam[FAM_REQUEST_FAILURES],
					  (const char *const[]){ service, addr, port,
								 http_failure__name(e->failure) },
					  0, 0);
	return aggregator__record(ob->fam[FAM_CALLS],
				  (const char *const[]){ service, addr, port, RPC_SYSTEM_GRPC,
							 rpc_method, code }, 0, latency);
}

const char *outbound__rpc_method(struct outbound *ob, const char *service,
				 const struct http_event *e, const char *path, size_t len,
				 bool admit, unsigned int max_methods)
{
	char addr[INET6_ADDRSTRLEN], port[8];
	struct destination *d;
	const char *m;

	outbound__address(e->remote_addr, addr, sizeof(addr));
	snprintf(port, sizeof(port), "%u", e->remote_port);
	d = destination_find(ob, service, addr, port);
	if (!d)
		return NULL;	/* the overflow destination: no methods of its own */
	if (!d->rpc_methods) {
		d->rpc_methods = route_table__new(NULL, 0, max_methods ? max_methods : 1,
						  ROUTE_MODE_FOLD);
		if (!d->rpc_methods)
			return NULL;
	}
	m = admit ? route_table__resolve_verbatim(d->rpc_methods, path, len)
		  : route_table__find_verbatim(d->rpc_methods, path, len);
	return m && m[0] == '/' ? m + 1 : m;
}

int outbound__write_prometheus(const struct outbound *ob, FILE *out)
{
	__u64 methods_overflowed = 0;
	int err = 0;

	for (int f = 0; f < FAM_MAX && !err; f++)
		err = aggregator__write_prometheus(ob->fam[f], out);
	prom__header(out, METRIC_OUTBOUND_OVERFLOW, "counter",
		     "Outbound events of destinations beyond the first 1024, counted under "
		     "server_address=\"__overflow__\".");
	fprintf(out, METRIC_OUTBOUND_OVERFLOW " %llu\n",
		(unsigned long long)ob->overflowed);
	for (size_t i = 0; i < ob->n_dests; i++)
		if (ob->dests[i].rpc_methods)
			methods_overflowed += route_table__overflowed(ob->dests[i].rpc_methods);
	prom__header(out, METRIC_OUTBOUND_RPC_METHODS_OVERFLOW, "counter",
		     "gRPC client calls whose new method exceeded the destination's cap "
		     "(max_routes_per_service), counted under rpc_method=\"__overflow__\".");
	fprintf(out, METRIC_OUTBOUND_RPC_METHODS_OVERFLOW " %llu\n",
		(unsigned long long)methods_overflowed);
	return err ? err : ferror(out) ? -EIO : 0;
}
