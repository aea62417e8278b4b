// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * slotap: HTTP request latency and errors of unmodified services, measured
 * from the kernel, exported for Prometheus.
 *
 * Threads: the main thread drains the ring buffer into the aggregator;
 * libmicrohttpd's thread serves /metrics. One mutex guards what both touch.
 */
#include <argp.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include "aggregator.h"
#include "config.h"
#include "dependency_blame.h"
#include "endpoint_cache.h"
#include "histogram.h"
#include "http_source.h"
#include "log.h"
#include "metrics_server.h"
#include "outbound.h"
#include "prom.h"
#include "route.h"
#include "services.h"
#include "slo_registry.h"
#include "state.h"
#include "status.h"
#include "util.h"

#define SLOTAP_VERSION		"0.1.0"
/*
 * How often the consumer drains the ring without being woken: while events
 * flow, often enough that the ring never fills to the point where the
 * kernel wakes it (half the ring, see http_source.c). A wakeup is work on
 * the serving process's CPU, and its irq_work tends to pull the agent over
 * to that CPU, next to the server it measures.
 */
#define POLL_INTERVAL_MS	100
#define BUSY_POLL_INTERVAL_MS	20
#define PROC_SCAN_INTERVAL_MS	1000
/* A request timeout is reported up to this late. */
#define TIMEOUT_SWEEP_INTERVAL_MS	1000
#define DRAINER_INTERVAL_MS	20	/* while a reload loads programs */

const char *argp_program_version = "slotap " SLOTAP_VERSION;
const char *argp_program_bug_address = "the slotap issue tracker";

static const char doc[] =
"slotap -- HTTP/1.x request latency and errors of the services on this node,\n"
"measured from the kernel with eBPF and exported for Prometheus.\n"
"\n"
"USAGE: slotap [--config FILE] [--web.listen-address HOST:PORT] [-v]\n"
"\n"
"EXAMPLES:\n"
"  slotap                         # every listening TCP service\n"
"  slotap -c /etc/slotap.yaml     # the services and routes of a config\n"
"  slotap -c f.yaml --check-config   # validate a config, attach nothing\n"
"\n"
"SIGHUP reloads --config, keeping every count: services, SLOs, default SLOs,\n"
"dependencies and request_timeout; a config that does not load is refused\n"
"and the running one kept (the log says why).\n"
"\n"
"Exit status: 0 on SIGINT/SIGTERM, 1 on a runtime failure, 2 on a bad config or usage.";

enum {
	OPT_LISTEN = 0x100,
	OPT_RINGBUF,
	OPT_CHECK,
	OPT_PRINT_DEFAULT,
	OPT_STATE_DIR,
	OPT_STATE_INTERVAL,
};

static const struct argp_option options[] = {
	{ "config", 'c', "FILE", 0, "YAML configuration (default: the built-in one, see --print-default-config)", 0 },
	{ "web.listen-address", OPT_LISTEN, "HOST:PORT", 0, "Where /metrics is served (default 127.0.0.1:9464)", 0 },
	{ "ringbuf-size", OPT_RINGBUF, "BYTES", 0, "Ring buffer size, a power of two >= 64K (default 512K per online CPU, 1M to 16M; K/M suffixes)", 0 },
	{ "check-config", OPT_CHECK, NULL, 0, "Validate the configuration and exit", 0 },
	{ "print-default-config", OPT_PRINT_DEFAULT, NULL, 0, "Print the built-in configuration and exit", 0 },
	{ "state-interval", OPT_STATE_INTERVAL, "SECONDS", 0, "How often the SLO state is saved: what a crash may lose (default 10)", 0 },
	{ "state-dir", OPT_STATE_DIR, "DIR", 0, "Where SLO window state survives restarts (default /var/lib/slotap; \"\" to keep none)", 0 },
	{ "verbose", 'v', NULL, 0, "Debug messages and libbpf's log (verifier output truncated)", 0 },
	{},
};

static struct env {
	const char *config_path;
	const char *listen;
	__u32 ringbuf_bytes;
	const char *state_dir;
	__u32 state_interval_s;
	bool check_only;
	bool verbose;
} env = {
	.listen = "127.0.0.1:9464",
	.ringbuf_bytes = 0,	/* ringbuf_default_bytes() */
	.state_dir = "/var/lib/slotap",
	.state_interval_s = 10,
};

static int parse_size(const char *arg, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg)
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	if (*end || v == 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	unsigned long long v = 0;

	switch (key) {
	case 'c':
		env.config_path = arg;
		break;
	case OPT_LISTEN:
		env.listen = arg;
		break;
	case OPT_RINGBUF:
		if (parse_size(arg, 1u << 30, &v) || v < (64u << 10) || (v & (v - 1)))
			argp_error(state, "--ringbuf-size %s: want a power of two between 64K and 1024M", arg);
		env.ringbuf_bytes = v;
		break;
	case OPT_STATE_DIR:
		env.state_dir = arg;
		break;
	case OPT_STATE_INTERVAL:
		if (parse_size(arg, 3600, &v))
			argp_error(state, "--state-interval %s: want 1 to 3600 seconds", arg);
		env.state_interval_s = v;
		break;
	case OPT_CHECK:
		env.check_only = true;
		break;
	case OPT_PRINT_DEFAULT:
		fputs(config__default_yaml, stdout);
		exit(0);
	case 'v':
		env.verbose = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument %s", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

struct agent {
	pthread_mutex_t lock;		/* aggregator, services, counters below */
	struct slotap_config cfg;
	struct latency_buckets buckets;
	struct aggregator *agg;
	struct aggregator *transport_failures;	/* server side, by service and reason */
	struct aggregator *retransmits;		/* server connections, by service */
	struct outbound *outbound;
	struct service_registry *services;
	struct slo_registry *slos;
	struct endpoint_cache *endpoints;	/* answered requests' series and SLOs */
	struct dependency_blame *blame;	/* failing calls of each process, lately */
	struct aggregator *blamed;	/* bad SLO events, by the dependency blamed */
	/* The server request being recorded, for blame: valid while blaming. */
	struct { bool on; __u32 tgid; __u64 start_ns, end_ns; } blaming;
	const char *state_dir;		/* NULL: no persistence */
	struct http_source *src;
	/* what sources a reload replaced had counted: counters never go back */
	struct http_source_counters retired;
	__u64 drain_unix_s;		/* wall clock of the current drain, for the SLO windows */
	__u64 events_received;
	__u64 events_unattributed;	/* no memory for a new service or series */
	__u64 paths_truncated;		/* path longer than the kernel keeps */
	__u64 late_responses;		/* responses to requests reported timed out */
	__u64 started_ns;
	__u64 reloads_ok, reloads_failed;
	bool last_reload_ok;
	double last_reload_ok_unix_s;	/* or the start */
};

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

static const struct aggregator_family transport_failures = {
	.metric = "slotap_transport_failures_total",
	.help = "Requests of tracked services that failed below HTTP, by reason: the "
		"connection reset or closed before any response, no response within "
		"request_timeout, a connection refused (nothing listening on the service's "
		"port), or a SYN or handshake ACK dropped by a full listen queue "
		"(listen_overflow: packets, not clients).",
	.labels = { "service", "reason" },
	.counter = true,
};

static const struct aggregator_family blamed_events = {
	.metric = "slotap_slo_bad_events_blamed_total",
	.help = "Bad events of each SLO that coincided with a failing call (connect or "
		"call failure, or a 5xx) of the same process to a named dependency: the "
		"share of the error budget that dependency spent.",
	.labels = { "slo", "service", "endpoint", "dependency" },
	.counter = true,
};

/* slo_registry's bad-event hook: the dependency to blame, if any. */
static void blame_bad_event(void *ctx, const char *slo, const char *service,
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

static const struct aggregator_family retransmits = {
	.metric = "slotap_tcp_retransmits_total",
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
static int on_event(void *ctx, const struct http_event *e)
{
	struct agent *a = ctx;
	const char *method = method_names[e->method < HTTP_METHOD_MAX ? e->method : 0];
	size_t path_len = e->path_len < HTTP_PATH_MAX ? e->path_len : HTTP_PATH_MAX;
	__u64 latency = e->resp_start_ns > e->req_start_ns ? e->resp_start_ns - e->req_start_ns : 0;
	const struct endpoint_cache_value *known;
	bool server_request;
	struct service *svc;
	const char *route;

	a->events_received++;
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
	svc = service_registry__lookup(a->services, e->service_id, e->comm);
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
	route = route_table__resolve(svc->routes, e->path, path_len,
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

/*
 * The ring buffer, unless --ringbuf-size says: 512K per online CPU, from 1M
 * to 16M. The event rate grows with the CPUs, and a ring no bigger than it
 * needs stays in cache between the producer's writes and the consumer's
 * reads (1M against 8M on 2 CPUs: see docs/performance.md). Its headroom
 * is what the consumer may fall behind: the main loop drains every 20 ms
 * while events flow (100 ms idle) or on a wakeup at half full, and a
 * drainer thread while a reload loads programs.
 */
static __u32 ringbuf_default_bytes(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	__u32 bytes = 1u << 20;

	while (bytes < (16u << 20) && (long)(bytes / (512u << 10)) < cpus)
		bytes <<= 1;
	return bytes;
}

static void write_counter(FILE *out, const char *name, const char *help, __u64 v)
{
	prom__header(out, name, "counter", help);
	fprintf(out, "%s %llu\n", name, (unsigned long long)v);
}

static void write_gauge(FILE *out, const char *name, const char *help, __u64 v)
{
	prom__header(out, name, "gauge", help);
	fprintf(out, "%s %llu\n", name, (unsigned long long)v);
}

static int write_metrics(void *ctx, FILE *out)
{
	struct agent *a = ctx;
	struct http_source_counters c = {};
	int err;

	pthread_mutex_lock(&a->lock);	/* a reload may replace the source */
	err = http_source__read_counters(a->src, &c);
	if (err)
		log__warn("cannot read the kernel's counters: %s", strerror(-err));
	for (int r = 0; r < LOSS_REASON_MAX; r++)
		c.loss[r] += a->retired.loss[r];
	err = aggregator__write_prometheus(a->agg, out);
	if (!err)
		err = aggregator__write_prometheus(a->transport_failures, out);
	if (!err)
		err = aggregator__write_prometheus(a->retransmits, out);
	if (!err)
		err = outbound__write_prometheus(a->outbound, out);
	if (!err)
		err = slo_registry__write_prometheus(a->slos, out, time(NULL));
	/* after the SLOs: slotap status attaches blame to the SLOs it has seen */
	if (!err)
		err = aggregator__write_prometheus(a->blamed, out);

	prom__header(out, "slotap_build_info", "gauge", "slotap's version.");
	fprintf(out, "slotap_build_info{version=\"%s\"} 1\n", SLOTAP_VERSION);
	write_counter(out, "slotap_events_received_total",
		      "Request events received from the kernel.", a->events_received);
	prom__header(out, "slotap_events_lost_total", "counter",
		     "Requests or responses not turned into a measurement, by reason.");
	for (int r = 0; r < LOSS_REASON_MAX; r++)
		fprintf(out, "slotap_events_lost_total{reason=\"%s\"} %llu\n",
			http_loss_reason__name(r), (unsigned long long)c.loss[r]);
	fprintf(out, "slotap_events_lost_total{reason=\"out_of_memory\"} %llu\n",
		(unsigned long long)a->events_unattributed);
	write_counter(out, "slotap_http_paths_truncated_total",
		      "Requests whose path was longer than the 64 bytes the kernel keeps "
		      "(their route ends in /{truncated}).", a->paths_truncated);
	write_counter(out, "slotap_http_late_responses_total",
		      "Responses to requests already counted as failed by request_timeout "
		      "(reason timeout): not counted again.", a->late_responses);
	write_gauge(out, "slotap_tracked_connections", "Connections being tracked now.",
		    c.stat[STAT_CONNS_OPENED] - c.stat[STAT_CONNS_CLOSED]);
	write_counter(out, "slotap_connections_tracked_total",
		      "Accepted connections of selected services that were tracked.",
		      c.stat[STAT_CONNS_OPENED] + a->retired.stat[STAT_CONNS_OPENED]);
	write_gauge(out, "slotap_ringbuf_backlog_bytes",
		    "Bytes waiting in the ring buffer at scrape time.", c.ringbuf_backlog_bytes);
	write_gauge(out, "slotap_ringbuf_size_bytes", "Size of the ring buffer.",
		    c.ringbuf_size_bytes);
	write_counter(out, "slotap_ringbuf_wakeups_total",
		      "Times the kernel woke the consumer because the backlog grew.",
		      c.stat[STAT_WAKEUPS] + a->retired.stat[STAT_WAKEUPS]);
	service_registry__write_prometheus(a->services, out);
	prom__header(out, "slotap_config_reloads_total", "counter",
		     "Config reloads on SIGHUP, by result (failed: the running config stayed).");
	fprintf(out, "slotap_config_reloads_total{result=\"success\"} %llu\n",
		(unsigned long long)a->reloads_ok);
	fprintf(out, "slotap_config_reloads_total{result=\"failure\"} %llu\n",
		(unsigned long long)a->reloads_failed);
	write_gauge(out, "slotap_config_last_reload_successful",
		    "1 unless the last reload on SIGHUP was refused.", a->last_reload_ok);
	prom__header(out, "slotap_config_last_reload_success_timestamp_seconds", "gauge",
		     "Unix time of the last successful reload, or of the start.");
	fprintf(out, "slotap_config_last_reload_success_timestamp_seconds %.0f\n",
		a->last_reload_ok_unix_s);
	prom__header(out, "slotap_uptime_seconds", "gauge", "Seconds since the agent started.");
	fprintf(out, "slotap_uptime_seconds %.3f\n", (monotonic_ns() - a->started_ns) / 1e9);
	pthread_mutex_unlock(&a->lock);
	return err;
}

/* The kernel side for cfg, loaded and not attached yet. */
static int open_source(struct agent *a, const struct slotap_config *cfg,
		       struct http_source **out)
{
	struct http_source_opts opts = {
		.cfg = cfg,
		.ringbuf_bytes = env.ringbuf_bytes ? env.ringbuf_bytes : ringbuf_default_bytes(),
		.request_timeout_ns = cfg->request_timeout_ns,
		.on_event = on_event,
		.ctx = a,
	};

	return http_source__open(out, &opts);
}

static void on_listen_drops(void *ctx, __u16 service_id, const char *comm, __u64 n)
{
	struct agent *a = ctx;
	struct service *svc = service_registry__lookup(a->services, service_id, comm);

	if (svc)
		record_failure(a, svc, HTTP_FAILURE_LISTEN_OVERFLOW, NULL, NULL, n);
	else
		a->events_unattributed += n;
}

static void on_retransmits(void *ctx, __u16 service_id, const char *comm, __u64 n)
{
	struct agent *a = ctx;
	struct service *svc = service_registry__lookup(a->services, service_id, comm);

	if (!svc || aggregator__count(a->retransmits, (const char *const[]){ svc->name }, n))
		a->events_unattributed += n;
}

/*
 * What the kernel counts rather than reports: listen drops, retransmits.
 * Called with agent.lock held.
 */
static void sweep_transport_locked(struct agent *a)
{
	int err;

	err = http_source__sweep_listen_drops(a->src, on_listen_drops, a);
	if (err)
		log__warn("listen drop sweep: %s", strerror(-err));
	err = http_source__sweep_retransmits(a->src, on_retransmits, a);
	if (err)
		log__warn("retransmit counters: %s", strerror(-err));
}

static void sweep_transport(struct agent *a)
{
	pthread_mutex_lock(&a->lock);
	sweep_transport_locked(a);
	pthread_mutex_unlock(&a->lock);
}

/* A configured service's retransmits are 0 until there are some, not absent. */
static void retransmits_zero(struct agent *a)
{
	for (size_t i = 0; i < a->cfg.n_services && http_source__counts_retransmits(a->src); i++)
		aggregator__count(a->retransmits, (const char *const[]){ a->cfg.services[i].name },
				  0);
}

/*
 * What the kernel sent, as of now_s; all: with what CPUs still have staged
 * (see http_source.h). Returns the records drained, or a negative error.
 * Called with agent.lock held.
 */
static int drain_locked(struct agent *a, bool all, __u64 now_s)
{
	int n;

	a->drain_unix_s = now_s;
	n = all ? http_source__consume_all(a->src) : http_source__consume(a->src);
	slo_registry__tick(a->slos, now_s);	/* alert transitions, logged */
	return n;
}

static int drain(struct agent *a, bool all)
{
	int n;

	pthread_mutex_lock(&a->lock);
	n = drain_locked(a, all, time(NULL));
	pthread_mutex_unlock(&a->lock);
	return n;
}

/*
 * Drains the running source from a thread of its own while a reload sets
 * up new kernel programs: the verifier takes seconds, and a ring buffer
 * left alone that long fills (a 1 MiB one lost half the requests of the
 * reload test).
 */
struct drainer {
	struct agent *a;
	pthread_t thread;
	atomic_bool stop;
	bool running;
};

static void *drainer_main(void *arg)
{
	struct drainer *d = arg;
	const struct timespec pause = { .tv_nsec = DRAINER_INTERVAL_MS * 1000000L };

	while (!atomic_load(&d->stop)) {
		drain(d->a, false);	/* an error shows again in the main loop's next drain */
		nanosleep(&pause, NULL);
	}
	return NULL;
}

static void drainer_start(struct drainer *d, struct agent *a)
{
	d->a = a;
	atomic_init(&d->stop, false);
	d->running = !pthread_create(&d->thread, NULL, drainer_main, d);
	if (!d->running)
		log__warn("reload: no thread to drain the ring buffer meanwhile: events may "
			  "be lost while the new programs load (counted as ringbuf_full)");
}

static void drainer_stop(struct drainer *d)
{
	if (!d->running)
		return;
	atomic_store(&d->stop, true);
	pthread_join(d->thread, NULL);
	d->running = false;
}

/*
 * A reload that changes the services' filters: the new kernel programs,
 * attached and inert, take over from the old ones between two stores
 * (their measuring flags), so that no request is seen by both; one in
 * flight then has its response seen by the new programs only: an
 * unmatched_response, counted as lost. What the old ones measured up to
 * then is drained under the old services (the caller swaps them after).
 * Per-connection state does not move over: a request half read at that
 * instant, and outbound connections opened before it, are not followed.
 * Called with agent.lock held.
 */
static void hand_over(struct agent *a, struct http_source *next_src, int ep)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct http_source_counters c = {};

	sweep_transport_locked(a);	/* the old listeners' drops and retransmits so far */
	http_source__measure(a->src, false);
	http_source__measure(next_src, true);
	http_source__stop(a->src);
	if (http_source__consume_all(a->src) < 0)
		log__warn("reload: the old ring buffer could not be read to the end");
	if (!http_source__read_counters(a->src, &c)) {
		for (int r = 0; r < LOSS_REASON_MAX; r++)
			a->retired.loss[r] += c.loss[r];
		a->retired.stat[STAT_CONNS_OPENED] += c.stat[STAT_CONNS_OPENED];
		a->retired.stat[STAT_WAKEUPS] += c.stat[STAT_WAKEUPS];
	}
	epoll_ctl(ep, EPOLL_CTL_DEL, http_source__epoll_fd(a->src), NULL);
	ev.data.fd = http_source__epoll_fd(next_src);
	if (epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev))
		log__warn("reload: cannot poll the new ring buffer (%s): drained every %d ms",
			  strerror(errno), POLL_INTERVAL_MS);
	http_source__destroy(a->src);
	a->src = next_src;
	/* the listeners' drop counts from now on: a baseline, nothing counted */
	sweep_transport_locked(a);
}

/*
 * SIGHUP: the config file again, all of it. New service filters mean new
 * kernel programs (config__kernel_key(), hand_over()), loaded, attached
 * and pointed at the configured executables before the lock is taken; SLO
 * state moves over as a restart would restore it, so nothing counted so
 * far is lost. A config that does not load, or cannot be set up, leaves
 * everything as it was.
 */
static void reload(struct agent *a, int ep)
{
	struct slotap_config next, prev;
	struct state_restored carried;
	struct dependency_blame *blame = NULL;
	struct service_registry *services = NULL;
	struct http_source *next_src = NULL;
	struct slo_registry *slos = NULL, *old_slos;
	char errbuf[512], keybuf[64];
	const char *key;
	bool thresholds_changed;
	__u64 now_s = time(NULL);
	int err;

	if (!env.config_path) {
		log__warn("SIGHUP: running on the built-in configuration (no --config): "
			  "nothing to reload");
		return;
	}
	err = config__load_file(&next, env.config_path, errbuf, sizeof(errbuf));
	if (err)
		goto refused;
	snprintf(errbuf, sizeof(errbuf), "out of memory");
	services = service_registry__new(&next);
	slos = slo_registry__new(&next, now_s);
	blame = dependency_blame__new();	/* by dependency index, which may change */
	if (!services || !slos || !blame) {
		if (!slos)
			snprintf(errbuf, sizeof(errbuf), "cannot set up the SLOs: %s",
				 strerror(errno));
		goto refused_free;
	}
	slo_registry__set_bad_hook(slos, blame_bad_event, a);
	key = config__kernel_key(&a->cfg, &next, keybuf, sizeof(keybuf));
	if (key) {
		struct drainer drainer;

		log__info("reload: %s changed: loading the kernel programs anew", key);
		drainer_start(&drainer, a);
		err = open_source(a, &next, &next_src) || http_source__start(next_src);
		if (!err) {
			/* processes matched by executable: known before the programs measure */
			err = service_registry__scan_processes(services, next_src);
			if (err)
				log__warn("scanning /proc for configured executables: %s",
					  strerror(-err));
			err = 0;
		}
		drainer_stop(&drainer);
		if (err) {
			snprintf(errbuf, sizeof(errbuf), "%s changed and the kernel programs for it "
				 "could not be set up (see above)", key);
			goto refused_free;
		}
	}
	thresholds_changed = next.n_thresholds != a->cfg.n_thresholds ||
		memcmp(next.latency_thresholds_ns, a->cfg.latency_thresholds_ns,
		       next.n_thresholds * sizeof(*next.latency_thresholds_ns));

	pthread_mutex_lock(&a->lock);
	/* what the kernel measured so far counts under the SLOs it was measured for */
	err = drain_locked(a, true, now_s);
	err = err < 0 ? err : state__carry_over(slos, a->slos, now_s, &carried);
	if (!err)
		err = slo_registry__carry_alerts(slos, a->slos);
	if (err) {
		pthread_mutex_unlock(&a->lock);
		snprintf(errbuf, sizeof(errbuf), "cannot carry the SLO state over: %s",
			 strerror(-err));
		goto refused_free;
	}
	/* from here on the reload cannot fail: what is measured counts in the new SLOs */
	old_slos = a->slos;
	a->slos = slos;
	endpoint_cache__clear(a->endpoints);	/* it points into old_slos */
	if (next_src)
		hand_over(a, next_src, ep);
	service_registry__adopt(services, a->services, &a->cfg, !next_src);
	service_registry__free(a->services);
	a->services = services;
	endpoint_cache__clear(a->endpoints);	/* the hand-over's paths by the old routes */
	prev = a->cfg;
	a->cfg = next;
	dependency_blame__free(a->blame);	/* indices of prev's dependencies */
	a->blame = blame;
	/* the registry read next: it is a->cfg now */
	service_registry__set_config(a->services, &a->cfg);
	if (next_src)
		retransmits_zero(a);
	http_source__set_request_timeout(a->src, a->cfg.request_timeout_ns);
	slo_registry__end_removed_alerts(a->slos, old_slos, now_s);
	slo_registry__free(old_slos);
	a->reloads_ok++;
	a->last_reload_ok = true;
	a->last_reload_ok_unix_s = now_s;
	pthread_mutex_unlock(&a->lock);
	config__free(&prev);

	log__info("reloaded %s: %zu services, %zu SLOs, %zu default SLOs; %zu SLOs and %zu "
		  "default copies carried over, %zu changed and start fresh", a->cfg.source,
		  a->cfg.n_services, a->cfg.n_slos, a->cfg.n_default_slos, carried.explicit,
		  carried.defaults, carried.fresh);
	if (thresholds_changed)
		log__warn("latency_thresholds changed: the histograms keep their bucket bounds "
			  "until a restart (SLOs compare latencies with their exact threshold)");
	return;

refused_free:
	http_source__destroy(next_src);
	dependency_blame__free(blame);
	slo_registry__free(slos);
	service_registry__free(services);
	config__free(&next);
refused:
	pthread_mutex_lock(&a->lock);
	a->reloads_failed++;
	a->last_reload_ok = false;
	pthread_mutex_unlock(&a->lock);
	log__error("reload refused, the running configuration stays: %s", errbuf);
}

/* The SLO windows to disk; a failure is a warning, the agent goes on. */
static void save_state(struct agent *a)
{
	int err;

	if (!a->state_dir || !slo_registry__count(a->slos))
		return;
	pthread_mutex_lock(&a->lock);
	err = state__save(a->slos, a->state_dir);
	pthread_mutex_unlock(&a->lock);
	if (err)
		log__warn("cannot save the SLO state in %s: %s", a->state_dir, strerror(-err));
}

static int run_loop(struct agent *a, int sig_fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	__u64 next_scan = 0, next_sweep = 0, next_save = monotonic_ns() + env.state_interval_s * 1000000000ull;
	int ep, err = 0, timeout_ms = POLL_INTERVAL_MS;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	ev.data.fd = sig_fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sig_fd, &ev))
		goto fail;
	ev.data.fd = http_source__epoll_fd(a->src);
	if (epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev))
		goto fail;

	for (;;) {
		struct epoll_event got[2];
		int n = epoll_wait(ep, got, 2, timeout_ms);

		if (n < 0 && errno != EINTR)
			goto fail;
		for (int i = 0; i < n; i++) {
			if (got[i].data.fd == sig_fd) {
				struct signalfd_siginfo si;

				if (read(sig_fd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP) {
					reload(a, ep);
					continue;
				}
				log__info("signal %u: stopping", si.ssi_signo);
				err = drain(a, true);
				err = err < 0 ? err : 0;
				goto out;
			}
		}
		err = drain(a, false);
		if (err < 0) {
			log__error("ring buffer: %s", strerror(-err));
			goto out;
		}
		timeout_ms = err > 0 ? BUSY_POLL_INTERVAL_MS : POLL_INTERVAL_MS;
		err = 0;
		if (monotonic_ns() >= next_scan) {
			pthread_mutex_lock(&a->lock);
			err = service_registry__scan_processes(a->services, a->src);
			pthread_mutex_unlock(&a->lock);
			if (err)
				log__warn("scanning /proc for configured executables: %s",
					  strerror(-err));
			err = 0;
			next_scan = monotonic_ns() + PROC_SCAN_INTERVAL_MS * 1000000ull;
		}
		if (monotonic_ns() >= next_sweep) {
			err = http_source__sweep_timeouts(a->src);
			if (err)
				log__warn("request timeout sweep: %s", strerror(-err));
			err = 0;
			sweep_transport(a);
			next_sweep = monotonic_ns() + TIMEOUT_SWEEP_INTERVAL_MS * 1000000ull;
		}
		if (monotonic_ns() >= next_save) {
			save_state(a);
			next_save = monotonic_ns() + env.state_interval_s * 1000000000ull;
		}
	}
fail:
	err = -errno;
out:
	close(ep);
	return err;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "status"))
		return status__main(argc - 1, argv + 1);

	static const struct argp argp = { options, parse_arg, NULL, doc, NULL, NULL, NULL };
	struct metrics_server *server = NULL;
	struct agent a = { .lock = PTHREAD_MUTEX_INITIALIZER };
	char errbuf[512];
	sigset_t mask;
	int sig_fd = -1, err, exit_code = 1;

	argp_err_exit_status = 2;
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return 2;
	log__set_verbose(env.verbose);
	log__install_libbpf_printer();
	a.started_ns = monotonic_ns();
	a.last_reload_ok = true;
	a.last_reload_ok_unix_s = time(NULL);

	err = env.config_path
		? config__load_file(&a.cfg, env.config_path, errbuf, sizeof(errbuf))
		: config__load_string(&a.cfg, config__default_yaml, strlen(config__default_yaml),
				      CONFIG_DEFAULT_SOURCE, errbuf, sizeof(errbuf));
	if (err) {
		log__error("%s", errbuf);
		return 2;
	}
	if (env.check_only) {
		log__info("%s: configuration is valid: %zu services, %zu SLOs, %zu default SLOs, "
			  "%zu dependencies", a.cfg.source, a.cfg.n_services, a.cfg.n_slos,
			  a.cfg.n_default_slos, a.cfg.n_dependencies);
		config__free(&a.cfg);
		return 0;
	}

	/* Signals arrive through the epoll loop, not as interruptions. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &mask, NULL) ||
	    (sig_fd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		log__error("cannot set up signal handling: %s", strerror(errno));
		goto cleanup;
	}

	err = latency_buckets__init(&a.buckets, a.cfg.latency_thresholds_ns, a.cfg.n_thresholds);
	if (!err) {
		a.agg = aggregator__new(&aggregator_http_server, &a.buckets);
		a.transport_failures = aggregator__new(&transport_failures, NULL);
		a.retransmits = aggregator__new(&retransmits, NULL);
		a.outbound = outbound__new(&a.buckets);
		a.services = service_registry__new(&a.cfg);
		a.blame = dependency_blame__new();
		a.blamed = aggregator__new(&blamed_events, NULL);
		a.endpoints = endpoint_cache__new();
	}
	if (err || !a.agg || !a.transport_failures || !a.retransmits || !a.outbound ||
	    !a.services || !a.blame || !a.blamed || !a.endpoints) {
		log__error("out of memory");
		goto cleanup;
	}
	a.slos = slo_registry__new(&a.cfg, time(NULL));
	if (!a.slos) {
		log__error("cannot set up the SLOs: %s", strerror(errno));
		goto cleanup;
	}
	slo_registry__set_bad_hook(a.slos, blame_bad_event, &a);
	/* even with no SLO yet: a reload may bring some, saved from then on */
	if (env.state_dir[0]) {
		size_t restored = 0;

		if (mkdir(env.state_dir, 0700) && errno != EEXIST) {
			log__warn("cannot create %s (%s): SLO state will not survive a restart",
				  env.state_dir, strerror(errno));
		} else {
			/* it says itself what it restored, or why it started fresh */
			a.state_dir = env.state_dir;
			if (state__load(a.slos, a.state_dir, time(NULL), &restored)) {
				log__error("out of memory");
				goto cleanup;
			}
		}
	}

	if (open_source(&a, &a.cfg, &a.src) || http_source__start(a.src))
		goto cleanup;
	http_source__measure(a.src, true);
	retransmits_zero(&a);
	err = service_registry__scan_processes(a.services, a.src);
	if (err)
		log__warn("scanning /proc for configured executables: %s", strerror(-err));

	server = metrics_server__start(env.listen, write_metrics, &a);
	if (!server)
		goto cleanup;
	log__info("tracking %s; metrics at http://%s/metrics",
		  a.cfg.n_services ? "the configured services" : "every listening TCP service",
		  env.listen);

	err = run_loop(&a, sig_fd);
	if (err)
		log__error("event loop: %s", strerror(-err));
	else
		exit_code = 0;
	save_state(&a);

cleanup:
	metrics_server__stop(server);	/* before the state it reads goes away */
	http_source__destroy(a.src);
	slo_registry__free(a.slos);
	service_registry__free(a.services);
	aggregator__free(a.agg);
	aggregator__free(a.transport_failures);
	aggregator__free(a.retransmits);
	outbound__free(a.outbound);
	aggregator__free(a.blamed);
	endpoint_cache__free(a.endpoints);
	dependency_blame__free(a.blame);
	latency_buckets__free(&a.buckets);
	config__free(&a.cfg);
	if (sig_fd >= 0)
		close(sig_fd);
	return exit_code;
}
