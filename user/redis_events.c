// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Redis events (PROTO_REDIS, docs/redis.md) to their families and SLOs:
 * the commands a tracked service served, per operation and status, and
 * the ones a tracked process sent to a Redis server, per destination,
 * for the SLOs of named dependencies and their blame. Runs with
 * agent.lock held, as event_router.c, which hands these events here.
 */
#include <stdio.h>
#include <string.h>
#include "agent.h"
#include "aggregator.h"
#include "dependency_blame.h"
#include "metric_names.h"
#include "outbound.h"
#include "redis.h"
#include "redis_events.h"
#include "redis_names.h"
#include "services.h"
#include "slo_registry.h"

/* OpenTelemetry's db.system.name of Redis */
#define DB_SYSTEM_REDIS		"redis"

const struct aggregator_family agent_db_server = {
	.metric = METRIC_DB_SERVER,
	.help = "Duration of the database operations a service served (Redis commands), "
		"from the read of a command to the write of its reply; _count is the "
		"operation counter. db_response_status_code is an error reply's prefix, "
		"empty for any other reply.",
	.labels = { "service_name", "db_system_name", "db_operation_name",
		    "db_response_status_code" },
};

const struct aggregator_family agent_db_client = {
	.metric = METRIC_DB_CLIENT,
	.help = "Duration of the database operations (Redis commands) a tracked process "
		"sent, per server, from the write of a command to the read of its reply.",
	.labels = { "service_name", "server_address", "server_port", "db_system_name",
		    "db_operation_name", "db_response_status_code" },
};

const struct aggregator_family agent_db_client_failures = {
	.metric = METRIC_DB_CLIENT_FAILURES,
	.help = "Database operations a tracked process sent that got no reply: the "
		"connection reset or closed first, or no reply within request_timeout.",
	.labels = { "service_name", "server_address", "server_port", "reason" },
	.counter = true,
};

/*
 * What the SLOs see of a Redis reply: bad_statuses speak HTTP, so an
 * error that is the server's fault is a 500, the client's a 400, any
 * other reply a 200 (README, "Redis").
 */
static unsigned int slo_status_of(const struct http_event *e)
{
	switch (e->status_class) {
	case STATUS_CLASS_SERVER_ERROR:
		return 500;
	case STATUS_CLASS_CLIENT_ERROR:
		return 400;
	}
	return 200;
}

static __u64 latency_of(const struct http_event *e)
{
	return e->resp_start_ns > e->req_start_ns ? e->resp_start_ns - e->req_start_ns : 0;
}

/* A command a tracked process sent: its destination's series, its dependency's SLOs, blame. */
static void record_client(struct agent *a, const struct service *svc, const struct http_event *e,
			  const char *op, const char *status, __u64 n)
{
	int dep = config__dependency_of(&a->cfg, e->remote_addr, e->remote_port);
	struct slo_request r = {
		.status = slo_status_of(e),
		.latency_ns = latency_of(e),
		.streaming = e->flags & HTTP_EVENT_BLOCKING,
	};
	bool failed = e->failure != HTTP_FAILURE_NONE;
	char addr[64], port[8];

	outbound__address(e->remote_addr, addr, sizeof(addr));
	snprintf(port, sizeof(port), "%u", e->remote_port);
	for (__u64 i = 0; i < n; i++) {
		int err = failed ?
			aggregator__count(a->db_client_failures, (const char *const[]){
				svc->name, addr, port, http_failure__name(e->failure) }, 1) :
			aggregator__record(a->db_client, (const char *const[]){
				svc->name, addr, port, DB_SYSTEM_REDIS, op, status }, 0, r.latency_ns);

		if (err)
			a->events_unattributed++;
		if (dep < 0)
			continue;
		slo_registry__record_call_request(a->slos, a->cfg.dependencies[dep].name, &r,
						  failed, a->drain_unix_s);
		if (failed || e->status_class == STATUS_CLASS_SERVER_ERROR)
			dependency_blame__note_failure(a->blame, e->tgid, dep, e->resp_start_ns);
	}
}

/* A command a tracked service served, answered or failed. */
static void record_server(struct agent *a, const struct service *svc, const struct http_event *e,
			  const char *op, const char *status, __u64 n)
{
	struct slo_request r = {
		.status = slo_status_of(e),
		.latency_ns = latency_of(e),
		/* a blocking command waits on purpose: latency SLOs skip it unless told */
		.streaming = e->flags & HTTP_EVENT_BLOCKING,
	};

	/* the request being recorded, for the blame of its bad events */
	a->blaming.on = true;
	a->blaming.tgid = e->tgid;
	a->blaming.start_ns = e->req_start_ns;
	a->blaming.end_ns = e->resp_start_ns;
	if (e->failure) {
		if (aggregator__count(a->transport_failures, (const char *const[]){
			svc->name, http_failure__name(e->failure) }, n))
			a->events_unattributed += n;
		slo_registry__record_failure(a->slos, svc->name, REDIS_ENDPOINT_METHOD, op, n,
					     a->drain_unix_s);
	} else {
		for (__u64 i = 0; i < n; i++) {
			if (aggregator__record(a->db_server, (const char *const[]){
				svc->name, DB_SYSTEM_REDIS, op, status }, 0, r.latency_ns))
				a->events_unattributed++;
			slo_registry__record_request(a->slos, svc->name, REDIS_ENDPOINT_METHOD, op,
						     &r, a->drain_unix_s);
		}
	}
	a->blaming.on = false;
}

int agent__route_redis(struct agent *a, const struct http_event *e)
{
	const char *op = redis_names__operation(e->operation);
	const char *status = redis_names__status(e->status);
	__u64 n = e->count ? e->count : 1;
	struct service *svc;

	if (e->flags & HTTP_EVENT_LATE) {
		/* counted once already, as failed, when it timed out */
		a->late_responses += n;
		return 0;
	}
	svc = service_registry__lookup(a->services, e->service_id, e->exe_name);
	if (!svc) {
		a->events_unattributed += n;
		return 0;
	}
	if (e->flags & HTTP_EVENT_CLIENT)
		record_client(a, svc, e, op, status, n);
	else
		record_server(a, svc, e, op, status, n);
	return 0;
}
