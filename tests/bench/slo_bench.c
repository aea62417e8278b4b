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
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "slo.h"

#define N_SLOS		2000
#define SIM_DAYS	35ULL
#define T_START		1704067200ULL	/* 2024-01-01T00:00:00Z */

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
