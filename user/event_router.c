// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Each event the kernel sends, to the metric families and SLOs it counts
 * in, by its protocol and kind: a request a service answered or failed, a
 * failure before any request, an outbound call or connect; HTTP/2
 * requests and gRPC calls, which h2_conn.c builds from the kernel's
 * records. And the kernel counters the agent sweeps (listen drops,
 * retransmits). Everything runs with agent.lock held.
 */
#include <string.h>
#include "agent.h"
#include "redis_events.h"
#include "aggregator.h"
#include "dependency_blame.h"
#include "endpoint_cache.h"
#include "grpc.h"
#include "h2_conn.h"
#include "log.h"
#include "outbound.h"
#include "route.h"
#include "services.h"
#include "slo_registry.h"
#include "util.h"
#include "metric_names.h"

static const char *const method_names[HTTP_METHOD_MAX] = {
	[HTTP_METHOD_OTHER] = "_OTHER",	/* OpenTelemetry's name for it */
	[HTTP_METHOD_GET] = "GET",
	[HTTP_METHOD_HEAD] = "HEAD",
	[HTTP_METHOD_POST] = "POST",
	[HTTP_METHOD_PUT] = "PUT",
	[HTTP_METHOD_DELETE] = "DELETE",
	[HTTP_METHOD_PATCH] = "PATCH",
	[HTTP_METHOD_OPTIONS] = "OPTIONS",
	[HTTP_METHOD_CONNECT] = "CONNECT",
	[HTTP_METHOD_TRACE] = "TRACE",
};

const struct aggregator_family agent_transport_failures = {
	.metric = METRIC_TRANSPORT_FAILURES,
	.help = "Requests of tracked services that failed below HTTP, by reason: the "
		"connection reset or closed before any response, no response within "
		"request_timeout, a connection refused (nothing listening on the service's "
		"port), or a SYN or handshake ACK dropped by a full listen queue "
		"(listen_overflow: packets, not clients).",
	.labels = { "service", "reason" },
	.counter = true,
};

const struct aggregator_family agent_rpc_server = {
	.metric = METRIC_RPC_SERVER,
	.help = "Duration of gRPC server calls: from the return of the syscall that read the "
		"request's first byte to the return of the syscall that wrote the first "
		"response message (or the status of a call without one).",
	.labels = { "service_name", "rpc_system_name", "rpc_method", "rpc_response_status_code" },
};

const struct aggregator_family agent_h2_undecoded = {
	.metric = METRIC_H2_UNDECODED,
	.help = "HTTP/2 request fields the agent could not decode, by field and why: the "
		"method is then _OTHER, the route __undecoded__, the status \"undecoded\" "
		"(neither good nor bad for availability SLOs).",
	.labels = { "service_name", "field", "cause" },
	.counter = true,
};

const struct aggregator_family agent_grpc_streaming = {
	.metric = METRIC_GRPC_STREAMING,
	.help = "gRPC calls whose client was still sending when the first response message "
		"went out (client or bidirectional streaming): measured to that message, and "
		"not counted by latency SLOs.",
	.labels = { "service_name", "rpc_method" },
	.counter = true,
};

const struct aggregator_family agent_blamed_events = {
	.metric = METRIC_SLO_BLAMED,
	.help = "Bad events of each SLO that coincided with a failing call (connect or "
		"call failure, or a 5xx) of the same process to a named dependency: the "
		"share of the error budget that dependency spent.",
	.labels = { LABELS_SLO, "dependency" },
	.counter = true,
};

/* slo_registry's bad-event hook: the dependency to blame, if any. */
void agent__blame_bad_event(void *ctx, const char *slo, const char *service,
			    const char *endpoint, __u64 count)
{
	struct agent *a = ctx;
	int dep;

	if (!a->blaming.on)
		return;	/* a dependency's own SLO, or no request to blame */
	dep = dependency_blame__find(a->blame, a->blaming.tgid, a->blaming.start_ns,
				     a->blaming.end_ns);
	if (dep < 0 || (size_t)dep >= a->cfg.n_dependencies)
		return;
	for (__u64 i = 0; i < count; i++)
		if (aggregator__record(a->blamed, (const char *const[]){
			slo, service, endpoint, a->cfg.dependencies[dep].name }, 0, 0))
			a->events_unattributed++;
}

/*
 * An outbound call of a tracked process: its dependency's SLOs, and blame
 * (of a failure, or a status its protocol calls the server's fault).
 */
static void record_call(struct agent *a, const struct http_event *e, const struct slo_request *r)
{
	int dep = config__dependency_of(&a->cfg, e->remote_addr, e->remote_port);
	bool failed = e->failure != HTTP_FAILURE_NONE;

	if (dep < 0 || (e->kind == HTTP_EVENT_CONNECT && !failed))
		return;	/* a connect that worked is no call yet */
	if (failed && !http_failure__counts_in_slos(e->failure))
		return;	/* the client's to retry: neither the dependency's failure nor blamed */
	slo_registry__record_call_request(a->slos, a->cfg.dependencies[dep].name, r, failed,
					  a->drain_unix_s);
	if (failed || e->status_class == STATUS_CLASS_SERVER_ERROR)
		dependency_blame__note_failure(a->blame, e->tgid, dep, e->resp_start_ns);
}

static __u64 latency_of(const struct http_event *e)
{
	return e->resp_start_ns > e->req_start_ns ? e->resp_start_ns - e->req_start_ns : 0;
}

/*
 * count requests of svc that failed below HTTP: the transport failure
 * series, and bad events of the SLOs that count them. method and route are
 * NULL when no request was read (refused, dropped by a full listen queue).
 */
static void record_failure(struct agent *a, const struct service *svc, enum http_failure failure,
			   const char *method, const char *route, __u64 count)
{
	if (aggregator__count(a->transport_failures,
			      (const char *const[]){ svc->name, http_failure__name(failure) }, count))
		a->events_unattributed += count;
	if (http_failure__counts_in_slos(failure))
		slo_registry__record_failure(a->slos, svc->name, method, route, count,
					     a->drain_unix_s);
}

const struct aggregator_family agent_retransmits = {
	.metric = METRIC_TCP_RETRANSMITS,
	.help = "TCP segments retransmitted on the tracked server connections of a service.",
	.labels = { "service" },
	.counter = true,
};

/* The server request being recorded, for blame_bad_event(). */
static void blaming_start(struct agent *a, const struct http_event *e)
{
	a->blaming.on = true;
	a->blaming.tgid = e->tgid;
	a->blaming.start_ns = e->req_start_ns;
	a->blaming.end_ns = e->resp_start_ns;
}

static void record_answered(struct agent *a, const struct http_event *e,
			    const struct endpoint_cache_value *v, __u64 latency)
{
	aggregator__observe(a->agg, v->series, latency);
	slo_registry__record_endpoint(a->slos, v->slo, e->status, latency, a->drain_unix_s);
}

/*
 * An answered request of an endpoint the cache did not know: resolved the
 * slow way, and remembered unless its route is the overflow route (each of
 * whose requests the route table counts) or its endpoint could not be.
 */
static void resolve_answered(struct agent *a, const struct http_event *e, const char *service,
			     const char *method, const char *route, __u64 latency)
{
	struct endpoint_cache_value v = {};

	v.series = aggregator__find(a->agg, (const char *const[]){ service, method, route,
								 PROTOCOL_VERSION_HTTP1 },
				    e->status);
	if (!v.series) {
		a->events_unattributed++;
		return;
	}
	if (slo_registry__resolve(a->slos, service, method, route, a->drain_unix_s, &v.slo)) {
		aggregator__observe(a->agg, v.series, latency);
		slo_registry__record(a->slos, service, method, route, e->status, latency,
				     a->drain_unix_s);
		return;
	}
	if (strcmp(route, ROUTE_OVERFLOW))
		endpoint_cache__put(a->endpoints, e, &v);
	record_answered(a, e, &v, latency);
}

/* Called with agent.lock held, for each event of a ring buffer drain. */
/* An HTTP request (server or client), connect, or failure before any request. */
static int route_http(struct agent *a, const struct http_event *e)
{
	const char *method = method_names[e->operation < HTTP_METHOD_MAX ? e->operation : 0];
	size_t path_len = e->resource_len < HTTP_PATH_MAX ? e->resource_len : HTTP_PATH_MAX;
	__u64 latency = e->resp_start_ns > e->req_start_ns ? e->resp_start_ns - e->req_start_ns : 0;
	const struct endpoint_cache_value *known;
	bool server_request;
	struct service *svc;
	const char *route;

	if (e->flags & HTTP_EVENT_LATE) {
		/* counted once already, as failed, when it timed out */
		a->late_responses++;
		return 0;
	}
	server_request = !(e->flags & (HTTP_EVENT_CLIENT | HTTP_EVENT_NO_REQUEST));
	if (server_request && (e->flags & HTTP_EVENT_PATH_TRUNCATED))
		a->paths_truncated++;
	if (server_request && !e->failure && (known = endpoint_cache__get(a->endpoints, e))) {
		blaming_start(a, e);
		record_answered(a, e, known, latency);
		a->blaming.on = false;
		return 0;
	}
	svc = service_registry__lookup(a->services, e->service_id, e->exe_name);
	if (e->flags & HTTP_EVENT_CLIENT) {
		if (!svc || outbound__record(a->outbound, svc->name, method, PROTOCOL_VERSION_HTTP1, e))
			a->events_unattributed++;
		else
			record_call(a, e, &(struct slo_request){ .status = e->status,
								 .latency_ns = latency });
		return 0;
	}
	if (!svc) {
		a->events_unattributed++;
		return 0;
	}
	if (e->flags & HTTP_EVENT_NO_REQUEST) {
		/* refused before any request: no endpoint */
		record_failure(a, svc, e->failure, NULL, NULL, 1);
		return 0;
	}
	route = route_table__resolve(svc->routes, e->resource, path_len,
				     e->flags & HTTP_EVENT_PATH_TRUNCATED);
	if (!route) {
		a->events_unattributed++;
		return 0;
	}
	blaming_start(a, e);
	if (e->failure)
		record_failure(a, svc, e->failure, method, route, 1);
	else
		resolve_answered(a, e, svc->name, method, route, latency);
	a->blaming.on = false;
	return 0;
}

/* ---- HTTP/2 and gRPC ---------------------------------------------------- */

static const char *h2_method(const struct h2_event *h)
{
	const struct http_event *e = &h->e;

	if (h->undecoded & (1u << H2_FIELD_METHOD))
		return method_names[HTTP_METHOD_OTHER];
	return method_names[e->operation < HTTP_METHOD_MAX ? e->operation : 0];
}

/* Each undecoded field of a request: counted by cause, never guessed. */
static void count_undecoded(struct agent *a, const char *service, const struct h2_event *h)
{
	for (int f = 0; f < H2_FIELD_MAX; f++) {
		if (!(h->undecoded & (1u << f)))
			continue;
		if (aggregator__count(a->h2_undecoded, (const char *const[]){
			service, h2_field__name(f), h2_cause__name(h->cause[f]) }, 1))
			a->events_unattributed++;
	}
}

/*
 * What stands for a call's rpc_method whatever its :path, or NULL. The
 * client chooses the :path: a call answered UNIMPLEMENTED (the server does
 * not know the method) keeps its name out.
 */
static const char *rpc_method_fixed(const struct h2_event *h)
{
	if (h->undecoded & (1u << H2_FIELD_PATH))
		return ROUTE_UNDECODED;
	if (h->e.status == GRPC_UNIMPLEMENTED && !(h->undecoded & (1u << H2_FIELD_STATUS)))
		return method_names[HTTP_METHOD_OTHER];
	return NULL;
}

/*
 * The rpc_method of a call a service answered: "pkg.Service/Method", or
 * what stands for it. Only a call the server answered shows that its
 * method exists and may add a route; one failed, reset, cancelled or
 * undecoded takes a template or a route admitted already, else _OTHER, so
 * that names a client invents cannot fill max_routes.
 */
static const char *rpc_method_of(struct route_table *routes, const struct h2_event *h)
{
	const char *route = rpc_method_fixed(h);

	if (route)
		return route;
	if (h->answered) {
		route = route_table__resolve_verbatim(routes, h->path, h->path_len);
	} else {
		route = route_table__find_verbatim(routes, h->path, h->path_len);
		if (!route)
			return method_names[HTTP_METHOD_OTHER];
	}
	return route && route[0] == '/' ? route + 1 : route;
}

/*
 * A client's rpc_method: the same rule, from a table of each destination
 * (outbound.c) capped at max_routes_per_service: a tracked proxy forwards
 * names its own callers chose.
 */
static const char *client_rpc_method(struct agent *a, const char *service, const struct h2_event *h)
{
	const char *m = rpc_method_fixed(h);

	if (!m)
		m = outbound__rpc_method(a->outbound, service, &h->e, h->path, h->path_len,
					 h->answered, a->cfg.max_routes_per_service);
	return m ? m : method_names[HTTP_METHOD_OTHER];
}

static const char *grpc_status_label(const struct h2_event *h)
{
	if (h->undecoded & (1u << H2_FIELD_STATUS))
		return "undecoded";
	return h->e.status < GRPC_CODE_MAX ? grpc_code__name(h->e.status)
					   : AGGREGATOR_STATUS_INVALID;
}

/*
 * Whether requests like h may go through the endpoint cache: answered by
 * the server itself (a call that was not may name its method only once
 * an answered one admitted it: resolved each time), every field decoded
 * (an undecoded one is counted by cause each time), not streaming
 * (counted apart each time).
 */
static bool h2_cacheable(const struct h2_event *h)
{
	return !h->e.failure && h->answered && !h->undecoded && !h->streaming;
}

static struct slo_request slo_request_of(const struct h2_event *h)
{
	return (struct slo_request){
		.status = h->e.status,
		.latency_ns = latency_of(&h->e),
		.grpc = h->e.protocol == PROTO_GRPC,
		.status_undecoded = !!(h->undecoded & (1u << H2_FIELD_STATUS)),
		.streaming = h->streaming,
	};
}

static void route_h2_client(struct agent *a, const struct service *svc, const struct h2_event *h)
{
	const struct http_event *e = &h->e;
	struct slo_request r = slo_request_of(h);
	int err;

	if (e->protocol == PROTO_GRPC)
		err = outbound__record_call(a->outbound, svc->name,
					    client_rpc_method(a, svc->name, h),
					    grpc_status_label(h), e);
	else
		err = outbound__record(a->outbound, svc->name, h2_method(h), PROTOCOL_VERSION_HTTP2,
				       e);
	if (err)
		a->events_unattributed++;
	else
		record_call(a, e, &r);
}

/* An HTTP/2 request or gRPC call a tracked service answered or failed. */
static void route_h2_server(struct agent *a, const struct service *svc, const struct h2_event *h)
{
	const struct http_event *e = &h->e;
	struct slo_request r = slo_request_of(h);
	bool grpc = e->protocol == PROTO_GRPC;
	const char *method = grpc ? RPC_SYSTEM_GRPC : h2_method(h);
	const char *route, *rpc_method = NULL;
	struct endpoint_cache_value v = {};
	struct aggregator_series *s;

	if (grpc) {
		/* SLO endpoints name a call "grpc pkg.Service/Method": the route has no '/' */
		route = rpc_method = rpc_method_of(svc->routes, h);
	} else if (h->undecoded & (1u << H2_FIELD_PATH)) {
		route = ROUTE_UNDECODED;
	} else {
		route = route_table__resolve(svc->routes, h->path, h->path_len, h->path_truncated);
	}
	if (!route) {
		a->events_unattributed++;
		return;
	}
	if (h->path_truncated && !grpc)
		a->paths_truncated++;
	blaming_start(a, e);
	if (e->failure) {
		record_failure(a, svc, e->failure, method, route, 1);
		a->blaming.on = false;
		return;
	}
	if (grpc)
		s = aggregator__find(a->rpc, (const char *const[]){
			svc->name, RPC_SYSTEM_GRPC, rpc_method, grpc_status_label(h) }, 0);
	else
		s = aggregator__find(a->agg, (const char *const[]){
			svc->name, method, route, PROTOCOL_VERSION_HTTP2 },
			r.status_undecoded ? AGGREGATOR_STATUS_UNDECODED : e->status);
	if (s)
		aggregator__observe(grpc ? a->rpc : a->agg, s, r.latency_ns);
	else
		a->events_unattributed++;
	if (h->streaming &&
	    aggregator__count(a->grpc_streaming, (const char *const[]){ svc->name, rpc_method }, 1))
		a->events_unattributed++;
	if (s && h2_cacheable(h) && strcmp(route, ROUTE_OVERFLOW) &&
	    !slo_registry__resolve(a->slos, svc->name, method, route, a->drain_unix_s, &v.slo)) {
		/* as HTTP/1's resolve_answered(): the route table counts each overflow */
		v.series = s;
		endpoint_cache__put_h2(a->endpoints, h, &v);
		slo_registry__record_endpoint_request(a->slos, v.slo, &r, a->drain_unix_s);
	} else {
		slo_registry__record_request(a->slos, svc->name, method, route, &r,
					     a->drain_unix_s);
	}
	a->blaming.on = false;
}

/*
 * A server's HTTP/2 request or gRPC call already resolved once: its series
 * and SLOs from the endpoint cache. False when the slow way must go.
 */
static bool route_h2_known(struct agent *a, const struct h2_event *h)
{
	const struct http_event *e = &h->e;
	const struct endpoint_cache_value *known;
	struct slo_request r;

	if ((e->flags & HTTP_EVENT_CLIENT) || !h2_cacheable(h) ||
	    !(known = endpoint_cache__get_h2(a->endpoints, h)))
		return false;
	r = slo_request_of(h);
	if (h->path_truncated && e->protocol != PROTO_GRPC)
		a->paths_truncated++;
	blaming_start(a, e);
	aggregator__observe(e->protocol == PROTO_GRPC ? a->rpc : a->agg, known->series,
			    r.latency_ns);
	slo_registry__record_endpoint_request(a->slos, known->slo, &r, a->drain_unix_s);
	a->blaming.on = false;
	return true;
}

int agent__h2_record(void *ctx, const struct h2_record *r, size_t len)
{
	struct agent *a = ctx;

	/* a malformed record is counted by h2_conn; the drain goes on */
	h2_conns__record(a->h2, r, len, monotonic_ns());
	return 0;
}

void agent__route_h2_event(void *ctx, const struct h2_event *h)
{
	struct agent *a = ctx;
	const struct http_event *e = &h->e;
	struct service *svc;

	a->events_received++;
	if (e->flags & HTTP_EVENT_LATE) {
		a->late_responses++;	/* counted once already, as timed out */
		return;
	}
	if (route_h2_known(a, h))
		return;
	svc = service_registry__lookup(a->services, e->service_id, e->exe_name);
	if (!svc) {
		a->events_unattributed++;
		return;
	}
	count_undecoded(a, svc->name, h);
	if (e->flags & HTTP_EVENT_CLIENT)
		route_h2_client(a, svc, h);
	else
		route_h2_server(a, svc, h);
}

static void on_listen_drops(void *ctx, __u16 service_id, const char *exe_name, __u64 n)
{
	struct agent *a = ctx;
	struct service *svc = service_registry__lookup(a->services, service_id, exe_name);

	if (svc)
		record_failure(a, svc, HTTP_FAILURE_LISTEN_OVERFLOW, NULL, NULL, n);
	else
		a->events_unattributed += n;
}

static void on_retransmits(void *ctx, __u16 service_id, const char *exe_name, __u64 n)
{
	struct agent *a = ctx;
	struct service *svc = service_registry__lookup(a->services, service_id, exe_name);

	if (!svc || aggregator__count(a->retransmits, (const char *const[]){ svc->name }, n))
		a->events_unattributed += n;
}

/*
 * What the kernel counts rather than reports: listen drops, retransmits.
 * Called with agent.lock held.
 */
void agent__sweep_transport_locked(struct agent *a)
{
	int err;

	err = http_source__sweep_listen_drops(a->src, on_listen_drops, a);
	trouble__note(&a->drop_sweep, err, NULL, monotonic_ns());
	err = http_source__sweep_retransmits(a->src, on_retransmits, a);
	trouble__note(&a->retransmit_sweep, err, NULL, monotonic_ns());
	/* HTTP/2 streams live in the agent: their timeouts are swept here */
	h2_conns__sweep(a->h2, monotonic_ns());
}

void agent__sweep_transport(struct agent *a)
{
	pthread_mutex_lock(&a->lock);
	agent__sweep_transport_locked(a);
	pthread_mutex_unlock(&a->lock);
}

/* A configured service's retransmits are 0 until there are some, not absent. */
void agent__retransmits_zero(struct agent *a)
{
	for (size_t i = 0; i < a->cfg.n_services && http_source__counts_retransmits(a->src); i++)
		aggregator__count(a->retransmits, (const char *const[]){ a->cfg.services[i].name },
				  0);
}

/*
 * One event of a drain, to the families of its protocol. A protocol
 * module added to the kernel side adds its case here.
 */
int agent__route_event(void *ctx, const struct http_event *e)
{
	struct agent *a = ctx;

	a->events_received++;
	switch (e->protocol) {
	case PROTO_NONE:	/* before any request: refused, unread; connects */
	case PROTO_HTTP1:
		return route_http(a, e);
	case PROTO_REDIS:
		return agent__route_redis(a, e);
	}
	a->events_unknown_protocol++;	/* a kernel side newer than this agent */
	return 0;
}
