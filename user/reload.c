// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * SIGHUP: the config file again, all of it, and the kernel programs anew
 * when what they filter on changed, with nothing counted so far lost.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include "agent.h"
#include "dependency_blame.h"
#include "endpoint_cache.h"
#include "h2_conn.h"
#include "log.h"
#include "services.h"
#include "slo_registry.h"
#include "state.h"

#define DRAINER_INTERVAL_MS	20	/* while a reload loads programs */

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
		agent__drain(d->a, false);	/* an error shows again in the main loop's next drain */
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

	agent__sweep_transport_locked(a);	/* the old listeners' drops and retransmits so far */
	http_source__measure(a->src, false);
	http_source__measure(next_src, true);
	http_source__stop(a->src);
	if (http_source__consume_all(a->src) < 0)
		log__warn("reload: the old ring buffer could not be read to the end");
	if (!http_source__read_counters(a->src, &c)) {
		for (int r = 0; r < LOSS_REASON_MAX; r++)
			a->retired.loss[r] += c.loss[r];
		for (int k = 0; k < H2_RECEIVED_MAX; k++)
			a->retired.h2_received[k] += c.h2_received[k];
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
	agent__sweep_transport_locked(a);
}

/*
 * SIGHUP: the config file again, all of it. New service filters mean new
 * kernel programs (config__kernel_key(), hand_over()), loaded, attached
 * and pointed at the configured executables before the lock is taken; SLO
 * state moves over as a restart would restore it, so nothing counted so
 * far is lost. A config that does not load, or cannot be set up, leaves
 * everything as it was.
 */
void agent__reload(struct agent *a, int ep)
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

	if (!a->config_path) {
		log__warn("SIGHUP: running on the built-in configuration (no --config): "
			  "nothing to reload");
		return;
	}
	err = config__load_file(&next, a->config_path, errbuf, sizeof(errbuf));
	if (err)
		goto refused;
	if (next.empty) {
		/* a truncated write or a failed template, not a wish for no config */
		snprintf(errbuf, sizeof(errbuf), "%s is empty (no YAML document); write {} "
			 "to mean every default", a->config_path);
		config__free(&next);
		goto refused;
	}
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
	slo_registry__set_bad_hook(slos, agent__blame_bad_event, a);
	key = config__kernel_key(&a->cfg, &next, keybuf, sizeof(keybuf));
	if (key) {
		struct drainer drainer;

		log__info("reload: %s changed: loading the kernel programs anew", key);
		drainer_start(&drainer, a);
		err = agent__open_source(a, &next, &next_src) || http_source__start(next_src) ||
		      agent__tls_attach(a, next_src);
		if (!err)	/* executables and cgroups: known before the programs measure */
			service_registry__refresh(services, next_src);
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
	err = agent__drain_locked(a, true, now_s);
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
	agent__limit_series(a);
	if (next_src)
		agent__retransmits_zero(a);
	if (a->src)
		http_source__set_request_timeout(a->src, a->cfg.request_timeout_ns);
	h2_conns__set_request_timeout(a->h2, a->cfg.request_timeout_ns);
	h2_conns__set_limits(a->h2, a->cfg.max_h2_connections, a->cfg.max_h2_streams);
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
