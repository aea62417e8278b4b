/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The Prometheus endpoint: GET /metrics, served by libmicrohttpd's own thread. */
#ifndef SLOTAP_METRICS_SERVER_H
#define SLOTAP_METRICS_SERVER_H

#include <stdio.h>

/* Writes the whole exposition; called on the server thread. */
typedef int (*metrics_write_fn)(void *ctx, FILE *out);

struct metrics_server;

/*
 * listen: "HOST:PORT" or "[V6HOST]:PORT", PORT a number from 1 to 65535,
 * split into host and port (its digits); -EINVAL for anything else.
 */
int metrics_server__parse_address(const char *listen, char *host, size_t host_len, char port[6]);

/* listen as above. Returns NULL with one line logged. */
struct metrics_server *metrics_server__start(const char *listen, metrics_write_fn write, void *ctx);
/*
 * The same in two steps: listen binds (a port below 1024 needs
 * CAP_NET_BIND_SERVICE), serve starts the server's thread, which inherits
 * the caller's capabilities (main.c gives it none: see privileges.h).
 * listen returns NULL, serve -1, with one line logged; listen must outlive
 * the server.
 */
struct metrics_server *metrics_server__listen(const char *listen, metrics_write_fn write,
					      void *ctx);
int metrics_server__serve(struct metrics_server *srv);
void metrics_server__stop(struct metrics_server *srv);

#endif
