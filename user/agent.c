// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The agent's set-up and tear-down, its kernel source, draining the ring
 * buffer and saving the SLO state (see agent.h).
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "agent.h"
#include "redis_events.h"
#include "aggregator.h"
#include "alert_push.h"
#include "dependency_blame.h"
#include "endpoint_cache.h"
#include "h2_conn.h"
#include "log.h"
#include "outbound.h"
#include "services.h"
#include "slo.h"
#include "slo_alerts.h"
#include "slo_registry.h"
#include "state.h"
#include "tls_libs.h"
#include "util.h"

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

/* The kernel side for cfg, loaded and not attached yet. */
int agent__open_source(struct agent *a, const struct slotap_config *cfg,
		       struct http_source **out)
{
	struct http_source_opts opts = {
		.cfg = cfg,
		.ringbuf_bytes = a->ringbuf_bytes ? a->ringbuf_bytes : ringbuf_default_bytes(),
		.request_timeout_ns = cfg->request_timeout_ns,
		.on_event = agent__route_event,
		.on_h2_record = agent__h2_record,
		.ctx = a,
		.no_tls = a->no_tls,
	};

	return http_source__open(out, &opts);
}

static int tls_attach(void *ctx, const char *path)
{
	return http_source__attach_tls(ctx, path);
}

int agent__tls_start(struct agent *a)
{
	int err;

	if (a->no_tls)
		return 0;
	a->tls = tls_libs__new();
	if (!a->tls)
		return -ENOMEM;
	for (unsigned int i = 0; i < a->n_tls_paths; i++) {
		err = tls_libs__add(a->tls, a->tls_paths[i], "flag", tls_attach, a->src);
		if (err < 0) {
			log__error("--tls-library %s: cannot probe it (see above)", a->tls_paths[i]);
			return err;
		}
	}
	tls_libs__add_defaults(a->tls, tls_attach, a->src);
	agent__tls_refresh(a);
	return 0;
}

/*
 * A process that starts serving is looked at within a second: until then
 * its TLS connections are not measured (counted tls_no_plaintext), unless
 * its library was probed already (the usual libssl is, from the start).
 */
void agent__tls_refresh(struct agent *a)
{
	static __u32 tgids[SERVING_TGIDS_MAX];
	size_t n;

	if (!a->tls)
		return;
	n = http_source__serving_tgids(a->src, tgids, SERVING_TGIDS_MAX);
	pthread_mutex_lock(&a->lock);	/* the files are a self-metric */
	tls_libs__scan(a->tls, tgids, n, tls_attach, a->src);
	pthread_mutex_unlock(&a->lock);
}

int agent__tls_attach(struct agent *a, struct http_source *src)
{
	return a->tls ? tls_libs__attach_all(a->tls, tls_attach, src) : 0;
}

/*
 * What the kernel sent, as of now_s; all: with what CPUs still have staged
 * (see http_source.h). Returns the records drained, or a negative error.
 * Called with agent.lock held.
 */
/* A step of this many seconds or more is reported (NTP slews smaller errors). */
#define CLOCK_STEP_MIN_S	2
/* A failure that lasts, or steps that repeat, are logged again at most this often. */

/*
 * A wall clock step (NTP at boot, a VM restored from a snapshot, date -s):
 * the wall clock moved against the monotonic one. The SLOs handle it
 * themselves (slo__clock()); this says so, once per step, or once an hour
 * with the count of those since when they keep coming. a->lock held.
 */
static void clock_check(struct agent *a, __u64 now_s)
{
	__s64 offset = (__s64)now_s - (__s64)(monotonic_ns() / 1000000000ULL), step;
	__u64 mono = monotonic_ns();

	if (!a->clock.known) {
		a->clock.known = true;
		a->clock.offset_s = offset;
		return;
	}
	step = offset - a->clock.offset_s;
	if (step > -CLOCK_STEP_MIN_S && step < CLOCK_STEP_MIN_S)
		return;
	a->clock.offset_s = offset;
	if (step < 0)
		a->clock.back++;
	else
		a->clock.forward++;
	if (a->clock.reported_ns && mono - a->clock.reported_ns < TROUBLE_REPORT_INTERVAL_NS) {
		a->clock.unreported++;
		return;
	}
	a->clock.reported_ns = mono;
	log__warn("the wall clock stepped %s by %lld s%s: SLO buckets keep their times; %s",
		  step < 0 ? "back" : "forward", (long long)(step < 0 ? -step : step),
		  a->clock.unreported ? " (and more steps since the last report)" : "",
		  step > 0 ? "the SLOs move on as if that time had passed"
		  : -step <= (__s64)SLO_CLOCK_WAIT_MAX_S
		  ? "the SLOs wait for the clock to catch up (events meanwhile count in their "
		    "newest bucket)"
		  : "the SLOs move their history back with the clock (every bucket keeps its age)");
	a->clock.unreported = 0;
}

/*
 * What the kernel sent, as of now_s; all: with what CPUs still have staged
 * (see http_source.h). Returns the records drained, or a negative error.
 * Called with agent.lock held.
 */
int agent__drain_locked(struct agent *a, bool all, __u64 now_s)
{
	int n;

	clock_check(a, now_s);
	a->drain_unix_s = now_s;
	a->last_drain_ns = monotonic_ns();
	if (!a->src)
		n = 0;	/* an agent with no kernel side: the unit tests' */
	else
		n = all ? http_source__consume_all(a->src) : http_source__consume(a->src);
	slo_registry__tick(a->slos, now_s);	/* alert transitions, logged */
	return n;
}

int agent__drain(struct agent *a, bool all)
{
	int n;

	pthread_mutex_lock(&a->lock);
	n = agent__drain_locked(a, all, time(NULL));
	pthread_mutex_unlock(&a->lock);
	return n;
}

void agent__save_state(struct agent *a)
{
	struct state_image img = {};
	size_t written = 0;
	char why[320];
	int err;

	if (!a->state_dir || !slo_registry__count(a->slos))
		return;
	/* memory only under the lock: draining and scraping wait on it */
	pthread_mutex_lock(&a->lock);
	err = state__snapshot(a->slos, time(NULL), &img);
	pthread_mutex_unlock(&a->lock);
	if (err) {
		snprintf(why, sizeof(why), "%s", strerror(-err));
	} else if (a->save.written && img.content_hash == a->save.content_hash) {
		/* the file holds this already */
		pthread_mutex_lock(&a->lock);
		a->save.unchanged++;
		pthread_mutex_unlock(&a->lock);
		state__image_free(&img);
		trouble__note(&a->save.trouble, 0, NULL, monotonic_ns());
		return;
	} else {
		/* the chunks that changed, appended to the journal; or the whole file */
		err = state_journal__save(&a->save.journal, &img, a->state_dir, why, sizeof(why),
					  &written);
	}
	pthread_mutex_lock(&a->lock);
	if (err) {
		a->save.errors++;
	} else {
		a->save.saves++;
		a->save.bytes += written;
	}
	pthread_mutex_unlock(&a->lock);
	if (!err) {
		a->save.content_hash = img.content_hash;
		a->save.written = true;
	}
	state__image_free(&img);
	trouble__note(&a->save.trouble, err, why, monotonic_ns());
}

void agent__push_alerts(struct agent *a)
{
	int err;

	if (!a->alerts)
		return;
	pthread_mutex_lock(&a->lock);
	err = slo_alerts__push(a->slos, time(NULL), a->alerts);
	pthread_mutex_unlock(&a->lock);
	if (err)
		log__warn("cannot hand the SLO alerts to the Alertmanager push: %s", strerror(-err));
}

int agent__init(struct agent *a)
{
	int err;

	a->save.trouble = (struct trouble){
		.what = "saving the SLO state",
		.impact = "the last state saved stays, and every save retries "
			  "(slotap_state_save_errors_total counts them)",
	};
	a->timeout_sweep = (struct trouble){
		.what = "the request timeout sweep",
		.impact = "requests left unanswered are not counted as timed out until it works",
	};
	a->drop_sweep = (struct trouble){
		.what = "the listen drop sweep",
		.impact = "listen queue drops are counted when it works again",
	};
	a->retransmit_sweep = (struct trouble){
		.what = "reading the retransmit counters",
		.impact = "retransmits are counted when it works again",
	};

	err = latency_buckets__init(&a->buckets, a->cfg.latency_thresholds_ns, a->cfg.n_thresholds);
	if (!err) {
		a->agg = aggregator__new(&aggregator_http_server, &a->buckets);
		a->rpc = aggregator__new(&agent_rpc_server, &a->buckets);
		a->db_server = aggregator__new(&agent_db_server, &a->buckets);
		a->db_client = aggregator__new(&agent_db_client, &a->buckets);
		a->db_client_failures = aggregator__new(&agent_db_client_failures, NULL);
		a->h2_undecoded = aggregator__new(&agent_h2_undecoded, NULL);
		a->grpc_streaming = aggregator__new(&agent_grpc_streaming, NULL);
		a->transport_failures = aggregator__new(&agent_transport_failures, NULL);
		a->retransmits = aggregator__new(&agent_retransmits, NULL);
		a->outbound = outbound__new(&a->buckets);
		a->services = service_registry__new(&a->cfg);
		a->blame = dependency_blame__new();
		a->blamed = aggregator__new(&agent_blamed_events, NULL);
		a->endpoints = endpoint_cache__new();
		a->h2 = h2_conns__new(&(struct h2_conns_opts){
			.max_connections = a->cfg.max_h2_connections,
			.max_streams = a->cfg.max_h2_streams,
			.request_timeout_ns = a->cfg.request_timeout_ns,
			.on_event = agent__route_h2_event,
			.ctx = a,
		});
	}
	if (err || !a->agg || !a->rpc || !a->db_server || !a->db_client ||
	    !a->db_client_failures || !a->h2_undecoded || !a->grpc_streaming ||
	    !a->transport_failures || !a->retransmits || !a->outbound ||
	    !a->services || !a->blame || !a->blamed || !a->endpoints || !a->h2) {
		log__error("out of memory");
		return -ENOMEM;
	}
	a->slos = slo_registry__new(&a->cfg, time(NULL));
	if (!a->slos) {
		err = -errno;
		log__error("cannot set up the SLOs: %s", strerror(errno));
		return err;
	}
	slo_registry__set_bad_hook(a->slos, agent__blame_bad_event, a);
	agent__limit_series(a);
	return 0;
}

size_t agent__families(struct agent *a, struct aggregator *out[AGENT_FAMILIES_MAX])
{
	size_t n = 0;

	out[n++] = a->agg;
	out[n++] = a->rpc;
	out[n++] = a->db_server;
	out[n++] = a->db_client;
	out[n++] = a->db_client_failures;
	out[n++] = a->h2_undecoded;
	out[n++] = a->grpc_streaming;
	out[n++] = a->transport_failures;
	out[n++] = a->retransmits;
	out[n++] = a->blamed;
	for (size_t i = 0; i < OUTBOUND_FAMILIES; i++)
		out[n++] = outbound__family(a->outbound, i);
	return n;
}

_Static_assert(10 + OUTBOUND_FAMILIES <= AGENT_FAMILIES_MAX, "room for every family");

void agent__limit_series(struct agent *a)
{
	struct aggregator *fams[AGENT_FAMILIES_MAX];
	size_t n = agent__families(a, fams);

	for (size_t i = 0; i < n; i++)
		aggregator__set_max_series(fams[i], a->cfg.max_series_per_metric);
}

void agent__free(struct agent *a)
{
	http_source__destroy(a->src);
	tls_libs__free(a->tls);
	slo_registry__free(a->slos);
	state_journal__free(&a->save.journal);
	service_registry__free(a->services);
	aggregator__free(a->agg);
	aggregator__free(a->rpc);
	aggregator__free(a->db_server);
	aggregator__free(a->db_client);
	aggregator__free(a->db_client_failures);
	aggregator__free(a->h2_undecoded);
	aggregator__free(a->grpc_streaming);
	aggregator__free(a->transport_failures);
	aggregator__free(a->retransmits);
	outbound__free(a->outbound);
	aggregator__free(a->blamed);
	endpoint_cache__free(a->endpoints);
	h2_conns__free(a->h2);
	dependency_blame__free(a->blame);
	latency_buckets__free(&a->buckets);
	config__free(&a->cfg);
}
