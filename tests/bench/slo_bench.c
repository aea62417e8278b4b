// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * SLO engine throughput and memory: 2000 SLOs fed a steady stream of single
 * events on one core, over 35 simulated days so that every bucket of every
 * ring has been written (the RSS is then the engine's full footprint, not
 * only the pages touched so far). Not part of make test: scripts/bench-slo.sh
 * builds and runs it, as build/tests/bench-slo [events] [mix].
 *
 * mix 0 (default): every SLO a requests-based rolling 28-day window, the
 * largest common layout; mix 1: a quarter each of rolling 28 d, calendar
 * 4w, calendar month with timeslices, and rolling 30 d with timeslices.
 *
 * mix 2 and 3 go through the registry (user/slo_registry.c) as the agent
 * does: requests of 1000 endpoints (100 services x 10 routes), each
 * endpoint with an availability and a latency SLO, all rolling 28 d. mix 2:
 * 2000 explicit SLOs, one per endpoint and SLI; mix 3: the same as default
 * SLOs, instantiated as the endpoints are first seen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "config.h"
#include "slo.h"
#include "slo_registry.h"

#define N_SLOS		2000
#define SIM_DAYS	35ULL
#define T_START		1704067200ULL	/* 2024-01-01T00:00:00Z */
#define N_SERVICES	100
#define N_ROUTES	10

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static __u64 rnd(__u64 *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* The agent's path: slo_registry__record() per request. */
static int bench_registry(__u64 events, int mix)
{
	static const char slo_fmt[] =
		"  - {name: %s-%d-%d, service: svc%d, endpoint: \"GET /r%d/{id}\", sli: %s,"
		" objective: 99.9, window: 28d%s}\n";
	static const char defaults[] =
		"default_slos:\n"
		"  - {name: availability, sli: availability, objective: 99.9, window: 28d}\n"
		"  - {name: latency, sli: latency, threshold: 100ms, objective: 99.9, window: 28d}\n"
		"max_default_slos: 2000\n";
	__u64 span = SIM_DAYS * 86400, i, x = 88172645463325252ULL, now;
	char services[N_SERVICES][16], routes[N_ROUTES][16], err[512];
	size_t yaml_len = 0, n;
	struct slotap_config cfg;
	struct slo_registry *reg;
	char *yaml = NULL;
	FILE *f = open_memstream(&yaml, &yaml_len);
	double t0, t1;
	struct rusage ru;

	if (!f)
		return 1;
	if (mix == 2) {
		fputs("default_slos: []\nslos:\n", f);
		for (int s = 0; s < N_SERVICES; s++) {
			for (int r = 0; r < N_ROUTES; r++) {
				fprintf(f, slo_fmt, "avail", s, r, s, r, "availability", "");
				fprintf(f, slo_fmt, "lat", s, r, s, r, "latency",
					", threshold: 100ms");
			}
		}
	} else {
		fputs(defaults, f);
	}
	if (fclose(f))
		return 1;
	if (config__load_string(&cfg, yaml, yaml_len, "bench", err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	free(yaml);
	reg = slo_registry__new(&cfg, T_START);
	if (!reg) {
		perror("slo_registry__new");
		return 1;
	}
	for (int s = 0; s < N_SERVICES; s++)
		snprintf(services[s], sizeof(services[s]), "svc%d", s);
	for (int r = 0; r < N_ROUTES; r++)
		snprintf(routes[r], sizeof(routes[r]), "/r%d/{id}", r);

	t0 = seconds();
	for (i = 0; i < events; i++) {
		__u64 r = rnd(&x);
		unsigned int ep = r % (N_SERVICES * N_ROUTES);

		now = T_START + (__u64)((double)i * span / events);
		slo_registry__record(reg, services[ep / N_ROUTES], "GET", routes[ep % N_ROUTES],
				     (r >> 32) % 1000 ? 200 : 500, (r >> 40) % 128 * 1000000ULL, now);
	}
	t1 = seconds();
	n = slo_registry__count(reg);

	getrusage(RUSAGE_SELF, &ru);
	printf("registry (mix %d): %zu SLOs over %d endpoints, events %llu over %llu simulated days\n",
	       mix, n, N_SERVICES * N_ROUTES, (unsigned long long)events,
	       (unsigned long long)SIM_DAYS);
	printf("record: %.0f events/s (%.1f ns/event) on one core\n", events / (t1 - t0),
	       (t1 - t0) * 1e9 / events);
	printf("peak RSS: %.1f MiB\n", ru.ru_maxrss / 1024.0);
	slo_registry__free(reg);
	config__free(&cfg);
	return 0;
}

int main(int argc, char **argv)
{
	__u64 events = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000000ULL;
	int mix = argc > 2 ? atoi(argv[2]) : 0;
	__u64 span = SIM_DAYS * 86400, i, x = 88172645463325252ULL, now, sink = 0;
	struct slo_spec spec = { .objective = 0.999 };
	struct slo **slos = calloc(N_SLOS, sizeof(*slos));
	struct slo_status st;
	size_t mem = 0;
	double t0, t1, t2;
	struct rusage ru;
	unsigned int k;

	if (!slos || !events)
		return 1;
	if (mix >= 2)
		return bench_registry(events, mix);
	for (k = 0; k < N_SLOS; k++) {
		spec.window = SLO_WINDOW_ROLLING;
		spec.window_s = 28 * 86400;
		spec.timeslices = false;
		if (mix) {
			switch (k % 4) {
			case 1:
				spec.window = SLO_WINDOW_CALENDAR_4W;
				break;
			case 2:
				spec.window = SLO_WINDOW_CALENDAR_MONTH;
				spec.timeslices = true;
				break;
			case 3:
				spec.window_s = 30 * 86400;
				spec.timeslices = true;
				break;
			}
		}
		slos[k] = slo__new(&spec, T_START);
		if (!slos[k]) {
			perror("slo__new");
			return 1;
		}
		mem += slo__mem_size(&spec);
	}

	/* one event at a time, time spread evenly over the simulated span */
	t0 = seconds();
	for (i = 0; i < events; i++) {
		__u64 r = rnd(&x);

		now = T_START + (__u64)((double)i * span / events);
		slo__record(slos[r % N_SLOS], now, (r >> 32) % 1000 != 0, 1);
	}
	t1 = seconds();

	/* a scrape: every SLO's status */
	now = T_START + span;
	for (k = 0; k < N_SLOS; k++) {
		slo__status(slos[k], now, &st);
		sink += st.window_total;
	}
	t2 = seconds();

	getrusage(RUSAGE_SELF, &ru);
	printf("slos %d (mix %d), events %llu over %llu simulated days\n", N_SLOS, mix,
	       (unsigned long long)events, (unsigned long long)SIM_DAYS);
	printf("record: %.0f events/s (%.1f ns/event) on one core\n", events / (t1 - t0),
	       (t1 - t0) * 1e9 / events);
	printf("status: %.1f us per SLO (%.1f ms for all %d)\n", (t2 - t1) * 1e6 / N_SLOS,
	       (t2 - t1) * 1e3, N_SLOS);
	printf("engine memory: %zu bytes (%.1f KiB per SLO)\n", mem, mem / 1024.0 / N_SLOS);
	printf("peak RSS: %.1f MiB\n", ru.ru_maxrss / 1024.0);
	printf("(checksum %llu)\n", (unsigned long long)sink);
	for (k = 0; k < N_SLOS; k++)
		slo__free(slos[k]);
	free(slos);
	return 0;
}
