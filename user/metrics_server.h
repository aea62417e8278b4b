/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The Prometheus endpoint: GET /metrics, served by libmicrohttpd, a thread
 * per connection, over TLS and with basic authentication when a web config
 * says so. Bounds, so that idle or slow clients cannot starve a scrape:
 */
#ifndef SLOTAP_METRICS_SERVER_H
#define SLOTAP_METRICS_SERVER_H

#include <stdio.h>
#include "web_config.h"

/* Connections open at once; more are closed as they are accepted, and counted. */
#define METRICS_SERVER_MAX_CONNECTIONS	32
/* Connections open at once from one client address. */
#define METRICS_SERVER_MAX_PER_CLIENT	4
/*
 * Seconds a connection has for each request's head to arrive whole (TLS
 * handshake included), from its accept or from the end of the previous
 * response; then for the response to be made and sent.
 */
#define METRICS_SERVER_TIMEOUT_S	10

/* Writes the whole exposition; called on the server's threads. */
typedef int (*metrics_write_fn)(void *ctx, FILE *out);

/*
 * Whether the agent is healthy: 0, or nonzero; why: one line either way
 * (no newline). Called on the server's threads.
 */
typedef int (*metrics_health_fn)(void *ctx, char *why, size_t len);

struct metrics_server;

/*
 * listen: "HOST:PORT" or "[V6HOST]:PORT", PORT a number from 1 to 65535,
 * split into host and port (its digits); -EINVAL for anything else.
 */
int metrics_server__parse_address(const char *listen, char *host, size_t host_len, char port[6]);

/*
 * listen as above; web: TLS and basic authentication (NULL, or an empty
 * one: plain HTTP, anyone), kept by reference until stop. In two steps:
 * listen binds (a port below 1024 needs CAP_NET_BIND_SERVICE), serve
 * starts the server's threads, which inherit the caller's capabilities
 * (main.c gives them none: see privileges.h). listen returns NULL, serve
 * -1, with one line logged; listen_addr must outlive the server.
 */
struct metrics_server *metrics_server__listen(const char *listen, const struct web_config *web,
					      metrics_write_fn write, void *ctx);
int metrics_server__serve(struct metrics_server *srv);
void metrics_server__stop(struct metrics_server *srv);
/* GET /healthz: 200 when fn says healthy, else 503, with its line; before serve. */
void metrics_server__set_health(struct metrics_server *srv, metrics_health_fn fn, void *ctx);

#endif
