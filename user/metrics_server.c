// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The metrics endpoint. A thread per connection, so that a slow client, a
 * bcrypt of a wrong password or a large exposition holds up nobody else.
 * libmicrohttpd's own timeout is one of silence, which a client sending or
 * reading a byte now and then never reaches; so each connection has a slot
 * with a deadline, for its next request head, then for its response, and a
 * reaper thread shuts down the sockets past it (libmicrohttpd's timeout is
 * left as a backstop). Slots are claimed when libmicrohttpd reports a
 * connection started and freed when it reports it closed, which it does
 * before it closes the socket: the reaper, holding the lock, only ever
 * shuts down a socket that is still the connection's.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include "log.h"
#include "metric_names.h"
#include "metrics_server.h"
#include "prom.h"
#include "util.h"
#include "web_auth.h"

#define REALM	"slotap"
/*
 * libmicrohttpd's own connection limit and timeout of silence, backstops
 * only: the accept policy applies METRICS_SERVER_MAX_CONNECTIONS, counting
 * (libmicrohttpd forgets a closed connection a moment after it says so),
 * and the reaper the deadlines.
 */
#define MHD_BACKSTOP_CONNECTIONS	(2 * METRICS_SERVER_MAX_CONNECTIONS)
#define MHD_BACKSTOP_TIMEOUT_S		(2 * METRICS_SERVER_TIMEOUT_S)

enum reject_reason { REJECT_PER_CLIENT, REJECT_TOTAL, REJECT_CLIENT_CERT, REJECT_MAX };
static const char *const reject_names[] = {
	[REJECT_PER_CLIENT] = "per_client_limit",
	[REJECT_TOTAL] = "connection_limit",
	[REJECT_CLIENT_CERT] = "client_certificate",
};
enum unauth_reason { UNAUTH_NONE, UNAUTH_WRONG, UNAUTH_MAX };
static const char *const unauth_names[] = {
	[UNAUTH_NONE] = "no_credentials",
	[UNAUTH_WRONG] = "wrong_credentials",
};

struct conn_slot {
	bool used;
	int fd;
	unsigned char client[16];	/* the address, IPv4 as v4-mapped IPv6 */
	__u64 deadline_ns;		/* for the request head or the response under way */
};

struct metrics_server {
	struct MHD_Daemon *daemon;
	const char *listen_addr;
	int listen_fd;
	metrics_write_fn write;
	void *ctx;
	metrics_health_fn health;	/* NULL: /healthz is not served */
	void *health_ctx;
	const struct web_config *web;	/* NULL: plain HTTP, no authentication */
	struct web_auth *auth;		/* NULL: no authentication */

	pthread_mutex_t lock;		/* what follows */
	pthread_cond_t wake;
	bool stopping;
	struct conn_slot slots[METRICS_SERVER_MAX_CONNECTIONS];
	__u64 rejected[REJECT_MAX];
	__u64 unauthorized[UNAUTH_MAX];
	__u64 timed_out;

	pthread_t reaper;
	bool reaper_running;
};

static void client_key(const struct sockaddr *sa, unsigned char key[16])
{
	memset(key, 0, 16);
	if (sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	}
}

/*
 * Called on the listening thread before each accepted connection starts,
 * which it does on the same thread right after: the slots counted here are
 * every connection open.
 */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t len)
{
	struct metrics_server *srv = cls;
	unsigned char key[16];
	unsigned total = 0, same = 0;
	enum MHD_Result ret = MHD_YES;

	(void)len;
	client_key(addr, key);
	pthread_mutex_lock(&srv->lock);
	for (int i = 0; i < METRICS_SERVER_MAX_CONNECTIONS; i++) {
		if (!srv->slots[i].used)
			continue;
		total++;
		same += !memcmp(srv->slots[i].client, key, 16);
	}
	if (total >= METRICS_SERVER_MAX_CONNECTIONS) {
		srv->rejected[REJECT_TOTAL]++;
		ret = MHD_NO;
	} else if (same >= METRICS_SERVER_MAX_PER_CLIENT) {
		srv->rejected[REJECT_PER_CLIENT]++;
		ret = MHD_NO;
	}
	pthread_mutex_unlock(&srv->lock);
	return ret;
}

static bool wants_client_cert(enum web_client_auth a)
{
	return a != WEB_CLIENT_NONE;
}

static bool requires_client_cert(enum web_client_auth a)
{
	return a == WEB_CLIENT_REQUIRE_ANY || a == WEB_CLIENT_REQUIRE_VERIFY;
}

static bool verifies_client_cert(enum web_client_auth a)
{
	return a == WEB_CLIENT_VERIFY_IF_GIVEN || a == WEB_CLIENT_REQUIRE_VERIFY;
}

/*
 * The client's certificate, during the handshake: present if required,
 * signed by client_ca for clientAuth if checked. Non-zero fails the
 * handshake.
 */
static int verify_client_cert(gnutls_session_t session)
{
	struct metrics_server *srv = gnutls_session_get_ptr(session);
	enum web_client_auth mode = srv->web->client_auth;
	gnutls_typed_vdata_st purpose = {
		.type = GNUTLS_DT_KEY_PURPOSE_OID,
		.data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
	};
	unsigned n = 0, status = 0;

	if (!gnutls_certificate_get_peers(session, &n) || !n) {
		if (!requires_client_cert(mode))
			return 0;
	} else if (!verifies_client_cert(mode) ||
		   (gnutls_certificate_verify_peers(session, &purpose, 1, &status) >= 0 &&
		    !status)) {
		return 0;
	}
	pthread_mutex_lock(&srv->lock);
	srv->rejected[REJECT_CLIENT_CERT]++;
	pthread_mutex_unlock(&srv->lock);
	return -1;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode what)
{
	struct metrics_server *srv = cls;
	struct conn_slot *slot = *socket_ctx;
	const union MHD_ConnectionInfo *fd, *addr, *tls;

	if (what == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (slot) {
			pthread_mutex_lock(&srv->lock);
			slot->used = false;
			pthread_mutex_unlock(&srv->lock);
		}
		return;
	}
	fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	addr = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	pthread_mutex_lock(&srv->lock);
	for (int i = 0; fd && addr && i < METRICS_SERVER_MAX_CONNECTIONS; i++) {
		if (srv->slots[i].used)
			continue;
		slot = &srv->slots[i];
		slot->used = true;
		slot->fd = fd->connect_fd;
		client_key(addr->client_addr, slot->client);
		slot->deadline_ns = monotonic_ns() + METRICS_SERVER_TIMEOUT_S * 1000000000ull;
		*socket_ctx = slot;
		break;
	}
	pthread_mutex_unlock(&srv->lock);

	/* before the handshake, which has not started yet */
	if (srv->web && srv->web->tls && wants_client_cert(srv->web->client_auth)) {
		tls = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
		if (tls && tls->tls_session) {
			gnutls_session_set_ptr(tls->tls_session, srv);
			gnutls_certificate_server_set_request(tls->tls_session,
							      GNUTLS_CERT_REQUEST);
			gnutls_session_set_verify_function(tls->tls_session, verify_client_cert);
		}
	}
}

static struct conn_slot *slot_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* A request head arrived, or a response was sent: the next step has its own time. */
static void renew_deadline(struct metrics_server *srv, struct MHD_Connection *conn)
{
	struct conn_slot *slot = slot_of(conn);

	if (!slot)
		return;
	pthread_mutex_lock(&srv->lock);
	if (slot->deadline_ns)	/* not reaped already */
		slot->deadline_ns = monotonic_ns() + METRICS_SERVER_TIMEOUT_S * 1000000000ull;
	pthread_mutex_unlock(&srv->lock);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_ctx,
			 enum MHD_RequestTerminationCode toe)
{
	(void)req_ctx;
	(void)toe;
	renew_deadline(cls, conn);
}

static void *reap(void *arg)
{
	struct metrics_server *srv = arg;
	struct timespec ts;

	pthread_mutex_lock(&srv->lock);
	while (!srv->stopping) {
		__u64 now = monotonic_ns();

		for (int i = 0; i < METRICS_SERVER_MAX_CONNECTIONS; i++) {
			struct conn_slot *s = &srv->slots[i];

			if (!s->used || !s->deadline_ns || now < s->deadline_ns)
				continue;
			/* its thread sees the end of the stream and closes it */
			shutdown(s->fd, SHUT_RDWR);
			s->deadline_ns = 0;
			srv->timed_out++;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec++;
		pthread_cond_timedwait(&srv->wake, &srv->lock, &ts);
	}
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

/* Headers every response carries: the web config's http_server_config.headers. */
static void add_headers(struct metrics_server *srv, struct MHD_Response *resp)
{
	for (size_t i = 0; srv->web && i < srv->web->n_headers; i++)
		MHD_add_response_header(resp, srv->web->headers[i].name, srv->web->headers[i].value);
}

static enum MHD_Result reply(struct metrics_server *srv, struct MHD_Connection *conn,
			     unsigned status, const char *type, char *body, size_t len,
			     enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!resp) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	add_headers(srv, resp);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A 401 with WWW-Authenticate, counted; or false to go on. */
static bool unauthorized(struct metrics_server *srv, struct MHD_Connection *conn,
			 enum MHD_Result *ret)
{
	static char body[] = "unauthorized\n";
	enum unauth_reason why = UNAUTH_MAX;
	struct MHD_Response *resp;
	char *user, *pass = NULL;

	user = MHD_basic_auth_get_username_password(conn, &pass);
	if (!user)
		why = UNAUTH_NONE;
	else if (!web_auth__check(srv->auth, user, pass ? pass : ""))
		why = UNAUTH_WRONG;
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (user)
		MHD_free(user);
	if (why == UNAUTH_MAX)
		return false;
	pthread_mutex_lock(&srv->lock);
	srv->unauthorized[why]++;
	pthread_mutex_unlock(&srv->lock);
	*ret = MHD_NO;
	resp = MHD_create_response_from_buffer(sizeof(body) - 1, body, MHD_RESPMEM_PERSISTENT);
	if (resp) {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					"text/plain; charset=utf-8");
		add_headers(srv, resp);
		*ret = MHD_queue_basic_auth_fail_response(conn, REALM, resp);
		MHD_destroy_response(resp);
	}
	return true;
}

/* The endpoint's own counters, after the agent's families. */
static void write_own(struct metrics_server *srv, FILE *out)
{
	__u64 rejected[REJECT_MAX], unauth[UNAUTH_MAX], timed_out;

	pthread_mutex_lock(&srv->lock);
	memcpy(rejected, srv->rejected, sizeof(rejected));
	memcpy(unauth, srv->unauthorized, sizeof(unauth));
	timed_out = srv->timed_out;
	pthread_mutex_unlock(&srv->lock);

	prom__header(out, METRIC_WEB_UNAUTHORIZED, "counter",
		     "Requests to the metrics endpoint answered 401, by reason.");
	for (int i = 0; i < UNAUTH_MAX; i++)
		fprintf(out, METRIC_WEB_UNAUTHORIZED "{reason=\"%s\"} %llu\n", unauth_names[i],
			(unsigned long long)unauth[i]);
	prom__header(out, METRIC_WEB_REJECTED, "counter",
		     "Connections to the metrics endpoint closed before any request, by reason.");
	for (int i = 0; i < REJECT_MAX; i++)
		fprintf(out, METRIC_WEB_REJECTED "{reason=\"%s\"} %llu\n", reject_names[i],
			(unsigned long long)rejected[i]);
	prom__header(out, METRIC_WEB_TIMED_OUT, "counter",
		     "Connections to the metrics endpoint shut down because a request head took "
		     "longer to arrive, or its response to be sent, than the deadline.");
	fprintf(out, METRIC_WEB_TIMED_OUT " %llu\n", (unsigned long long)timed_out);
}

/* Whether a required client certificate is there: the handshake checked it already. */
static bool client_cert_missing(struct metrics_server *srv, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *tls;
	unsigned n = 0;

	if (!srv->web || !srv->web->tls || !requires_client_cert(srv->web->client_auth))
		return false;
	tls = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	return !tls || !tls->tls_session ||
	       !gnutls_certificate_get_peers(tls->tls_session, &n) || !n;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_size, void **req_ctx)
{
	static const char text[] = "text/plain; charset=utf-8";
	struct metrics_server *srv = cls;
	enum MHD_Result ret;
	char *body = NULL;
	size_t len = 0;
	FILE *out;
	int err;

	(void)version;
	(void)upload_data;
	if (*req_ctx || *upload_size)
		return MHD_NO;	/* answered at the head: no request bodies here */
	*req_ctx = srv;
	renew_deadline(srv, conn);
	if (client_cert_missing(srv, conn)) {
		pthread_mutex_lock(&srv->lock);
		srv->rejected[REJECT_CLIENT_CERT]++;
		pthread_mutex_unlock(&srv->lock);
		return MHD_NO;
	}
	if (srv->auth && unauthorized(srv, conn, &ret))
		return ret;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(srv, conn, MHD_HTTP_METHOD_NOT_ALLOWED, text, "only GET and HEAD\n", 18,
			     MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/"))
		return reply(srv, conn, MHD_HTTP_OK, text, "slotap: metrics at /metrics\n", 28,
			     MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/healthz") && srv->health) {
		char why[256];
		bool ok = !srv->health(srv->health_ctx, why, sizeof(why) - 1);

		strcat(why, "\n");
		body = strdup(why);
		return body ? reply(srv, conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, text,
				    body, strlen(body), MHD_RESPMEM_MUST_FREE) : MHD_NO;
	}
	if (strcmp(url, "/metrics"))
		return reply(srv, conn, MHD_HTTP_NOT_FOUND, text, "not found\n", 10,
			     MHD_RESPMEM_PERSISTENT);

	out = open_memstream(&body, &len);
	if (!out)
		return MHD_NO;
	err = srv->write(srv->ctx, out);
	if (!err)
		write_own(srv, out);
	if (fclose(out))
		err = -errno;
	if (err) {
		free(body);
		return reply(srv, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, text, "scrape failed\n", 14,
			     MHD_RESPMEM_PERSISTENT);
	}
	return reply(srv, conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len,
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

static struct MHD_Daemon *start_daemon(struct metrics_server *srv)
{
	const struct web_config *web = srv->web;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_POLL;
	struct MHD_OptionItem tls[6] = {}, *o = tls;

	if (web && web->tls) {
		flags |= MHD_USE_TLS;
		*o++ = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, web->cert };
		*o++ = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, web->key };
		*o++ = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0, web->priorities };
		if (web->client_ca)
			*o++ = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0,
							web->client_ca };
	}
	*o = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	return MHD_start_daemon(flags, 0, accept_policy, srv, handle, srv,
				MHD_OPTION_LISTEN_SOCKET, srv->listen_fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)MHD_BACKSTOP_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)MHD_BACKSTOP_TIMEOUT_S,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
				MHD_OPTION_ARRAY, tls,
				MHD_OPTION_END);
}

struct metrics_server *metrics_server__listen(const char *listen_addr, const struct web_config *web,
					      metrics_write_fn write, void *ctx)
{
	struct metrics_server *srv = calloc(1, sizeof(*srv));
	pthread_condattr_t attr;

	if (!srv)
		return NULL;
	srv->listen_addr = listen_addr;
	srv->write = write;
	srv->ctx = ctx;
	srv->web = web;
	srv->listen_fd = -1;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&srv->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (web && web->tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		log__error("%s: this libmicrohttpd is built without TLS", web->source);
		goto fail;
	}
	if (web && web->n_users) {
		srv->auth = web_auth__new(web->users, web->n_users);
		if (!srv->auth) {
			log__error("out of memory");
			goto fail;
		}
		if (!web->tls)
			log__warn("%s: basic authentication without TLS: passwords cross the "
				  "network in the clear", web->source);
	}
	srv->listen_fd = listen_on(listen_addr);
	if (srv->listen_fd < 0)
		goto fail;
	return srv;
fail:
	metrics_server__stop(srv);
	return NULL;
}

int metrics_server__serve(struct metrics_server *srv)
{
	if (pthread_create(&srv->reaper, NULL, reap, srv)) {
		log__error("cannot start the metrics server's reaper thread");
		return -1;
	}
	srv->reaper_running = true;
	/* the metrics server's threads are told apart by name (SECURITY.md) */
	pthread_setname_np(srv->reaper, "metrics-reaper");
	srv->daemon = start_daemon(srv);
	if (!srv->daemon) {
		log__error("cannot start the metrics server on %s", srv->listen_addr);
		return -1;
	}
	srv->listen_fd = -1;	/* libmicrohttpd's now: MHD_stop_daemon() closes it */
	return 0;
}

void metrics_server__stop(struct metrics_server *srv)
{
	if (!srv)
		return;
	if (srv->daemon)
		MHD_stop_daemon(srv->daemon);
	if (srv->reaper_running) {
		pthread_mutex_lock(&srv->lock);
		srv->stopping = true;
		pthread_cond_signal(&srv->wake);
		pthread_mutex_unlock(&srv->lock);
		pthread_join(srv->reaper, NULL);
	}
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	web_auth__free(srv->auth);
	pthread_cond_destroy(&srv->wake);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}

void metrics_server__set_health(struct metrics_server *srv, metrics_health_fn fn, void *ctx)
{
	srv->health = fn;
	srv->health_ctx = ctx;
}
