// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Each event the kernel sends, to the metric families and SLOs it counts
 * in, by its protocol and kind: a request a service answered or failed, a
 * failure before any request, an outbound call or connect. And the kernel
 * counters the agent sweeps (listen drops, retransmits). Everything runs
 * with agent.lock held.
 */
#include <string.h>
#include "agent.h"
#include "aggregator.h"
#include "dependency_blame.h"
#include "endpoint_cache.h"
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

/* An outbound call of a tracked process: its dependency's SLOs, and blame. */
static void record_call(struct agent *a, const struct http_event *e)
{
	__u64 latency = e->resp_start_ns > e->req_start_ns ? e->resp_start_ns - e->req_start_ns : 0;
	int dep = config__dependency_of(&a->cfg, e->remote_addr, e->remote_port);
	bool failed = e->failure != HTTP_FAILURE_NONE;

	if (dep < 0 || (e->kind == HTTP_EVENT_CONNECT && !failed))
		return;	/* a connect that worked is no call yet */
	slo_registry__record_call(a->slos, a->cfg.dependencies[dep].name, e->status, latency,
				  failed, a->drain_unix_s);
	if (failed || e->status >= 500)
		dependency_blame__note_failure(a->blame, e->tgid, dep, e->resp_start_ns);
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
	slo_registry__record_failure(a->slos, svc->name, method, route, count, a->drain_unix_s);
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

	v.series = aggregator__find(a->agg, (const char *const[]){ service, method, route },
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
		if (!svc || outbound__record(a->outbound, svc->name, method, e))
			a->events_unattributed++;
		else
			record_call(a, e);
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
	}
	a->events_unknown_protocol++;	/* a kernel side newer than this agent */
	return 0;
}
