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
#include "aggregator.h"
#include "dependency_blame.h"
#include "endpoint_cache.h"
#include "log.h"
#include "outbound.h"
#include "services.h"
#include "slo_registry.h"
#include "state.h"

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
		.ctx = a,
	};

	return http_source__open(out, &opts);
}

/*
 * What the kernel sent, as of now_s; all: with what CPUs still have staged
 * (see http_source.h). Returns the records drained, or a negative error.
 * Called with agent.lock held.
 */
int agent__drain_locked(struct agent *a, bool all, __u64 now_s)
{
	int n;

	a->drain_unix_s = now_s;
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

/* The SLO windows to disk; a failure is a warning, the agent goes on. */
void agent__save_state(struct agent *a)
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

int agent__init(struct agent *a)
{
	int err;

	err = latency_buckets__init(&a->buckets, a->cfg.latency_thresholds_ns, a->cfg.n_thresholds);
	if (!err) {
		a->agg = aggregator__new(&aggregator_http_server, &a->buckets);
		a->transport_failures = aggregator__new(&agent_transport_failures, NULL);
		a->retransmits = aggregator__new(&agent_retransmits, NULL);
		a->outbound = outbound__new(&a->buckets);
		a->services = service_registry__new(&a->cfg);
		a->blame = dependency_blame__new();
		a->blamed = aggregator__new(&agent_blamed_events, NULL);
		a->endpoints = endpoint_cache__new();
	}
	if (err || !a->agg || !a->transport_failures || !a->retransmits || !a->outbound ||
	    !a->services || !a->blame || !a->blamed || !a->endpoints) {
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
	out[n++] = a->transport_failures;
	out[n++] = a->retransmits;
	out[n++] = a->blamed;
	for (size_t i = 0; i < OUTBOUND_FAMILIES; i++)
		out[n++] = outbound__family(a->outbound, i);
	return n;
}

_Static_assert(4 + OUTBOUND_FAMILIES <= AGENT_FAMILIES_MAX, "room for every family");

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
	slo_registry__free(a->slos);
	service_registry__free(a->services);
	aggregator__free(a->agg);
	aggregator__free(a->transport_failures);
	aggregator__free(a->retransmits);
	outbound__free(a->outbound);
	aggregator__free(a->blamed);
	endpoint_cache__free(a->endpoints);
	dependency_blame__free(a->blame);
	latency_buckets__free(&a->buckets);
	config__free(&a->cfg);
}
