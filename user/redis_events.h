/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Redis events to their families and SLOs (redis_events.c), part of the
 * agent (agent.h) as event_router.c is.
 */
#ifndef SLOTAP_REDIS_EVENTS_H
#define SLOTAP_REDIS_EVENTS_H

#include "http_server.h"

struct agent;
struct aggregator_family;

/*
 * A Redis operation's SLO endpoint is "redis OPERATION" (as gRPC's are
 * "grpc pkg.Service/Method"): its method, and the operation its route.
 */
#define REDIS_ENDPOINT_METHOD	"redis"

extern const struct aggregator_family agent_db_server;	/* service, system, operation, status */
extern const struct aggregator_family agent_db_client;	/* + server address and port */
extern const struct aggregator_family agent_db_client_failures;	/* by destination, reason */

/* One event of protocol PROTO_REDIS, with agent.lock held. */
int agent__route_redis(struct agent *a, const struct http_event *e);

#endif /* SLOTAP_REDIS_EVENTS_H */
