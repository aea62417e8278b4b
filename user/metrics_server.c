// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "log.h"
#include "metrics_server.h"

/* A scrape is small and quick: a few clients at a time is plenty. */
#define MAX_CLIENTS	16
#define CLIENT_TIMEOUT_S 10

struct metrics_server {
	struct MHD_Daemon *daemon;
	const char *listen_addr;
	int listen_fd;
	metrics_write_fn write;
	void *ctx;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
			     char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_size, void **req_cls)
{
	static const char text[] = "text/plain; charset=utf-8";
	struct metrics_server *srv = cls;
	char *body = NULL;
	size_t len = 0;
	FILE *out;
	int err;

	(void)version;
	(void)upload_data;
	(void)req_cls;
	if (*upload_size)
		return MHD_NO;	/* no request bodies here */
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, text, "only GET\n", 9,
			     MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/"))
		return reply(conn, MHD_HTTP_OK, text, "slotap: metrics at /metrics\n", 28,
			     MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, text, "not found\n", 10,
			     MHD_RESPMEM_PERSISTENT);

	out = open_memstream(&body, &len);
	if (!out)
		return MHD_NO;
	err = srv->write(srv->ctx, out);
	if (fclose(out))
		err = -errno;
	if (err) {
		free(body);
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, text, "scrape failed\n", 14,
			     MHD_RESPMEM_PERSISTENT);
	}
	return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len,
		     MHD_RESPMEM_MUST_FREE);
}

int metrics_server__parse_address(const char *listen_addr, char *host, size_t host_len,
				  char port[6])
{
	const char *colon = strrchr(listen_addr, ':'), *h = listen_addr;
	size_t n = colon ? (size_t)(colon - listen_addr) : 0;
	unsigned long v = 0;

	if (!colon || !n || !colon[1] || strlen(colon + 1) > 5)
		return -EINVAL;
	for (const char *p = colon + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	if (h[0] == '[') {	/* [V6HOST] */
		if (n < 3 || h[n - 1] != ']')
			return -EINVAL;
		h++;
		n -= 2;
	}
	if (n >= host_len || memchr(h, '[', n) || memchr(h, ']', n))
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	snprintf(port, 6, "%lu", v);
	return 0;
}

/* Bind ourselves: libmicrohttpd would only say that it failed, not why. */
static int listen_on(const char *listen_addr)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char host[256], port[6];
	int fd, one = 1, err;

	if (metrics_server__parse_address(listen_addr, host, sizeof(host), port))
		goto bad;
	err = getaddrinfo(host, port, &hints, &res);
	if (err) {
		log__error("--web.listen-address %s: %s", listen_addr, gai_strerror(err));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 64)) {
		log__error("cannot listen on %s: %s", listen_addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
bad:
	log__error("--web.listen-address %s: expected HOST:PORT, PORT 1 to 65535", listen_addr);
	return -1;
}

struct metrics_server *metrics_server__listen(const char *listen_addr, metrics_write_fn write,
					      void *ctx)
{
	struct metrics_server *srv = calloc(1, sizeof(*srv));

	if (!srv)
		return NULL;
	srv->listen_addr = listen_addr;
	srv->write = write;
	srv->ctx = ctx;
	srv->listen_fd = listen_on(listen_addr);
	if (srv->listen_fd < 0) {
		metrics_server__stop(srv);
		return NULL;
	}
	return srv;
}

int metrics_server__serve(struct metrics_server *srv)
{
	srv->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL,
				       NULL, handle, srv,
				       MHD_OPTION_LISTEN_SOCKET, srv->listen_fd,
				       MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CLIENTS,
				       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CLIENT_TIMEOUT_S,
				       MHD_OPTION_END);
	if (!srv->daemon) {
		log__error("cannot start the metrics server on %s", srv->listen_addr);
		return -1;
	}
	return 0;
}

struct metrics_server *metrics_server__start(const char *listen_addr, metrics_write_fn write,
					     void *ctx)
{
	struct metrics_server *srv = metrics_server__listen(listen_addr, write, ctx);

	if (srv && metrics_server__serve(srv)) {
		metrics_server__stop(srv);
		return NULL;
	}
	return srv;
}

void metrics_server__stop(struct metrics_server *srv)
{
	if (!srv)
		return;
	if (srv->daemon)
		MHD_stop_daemon(srv->daemon);
	if (srv->listen_fd > 0)
		close(srv->listen_fd);
	free(srv);
}
