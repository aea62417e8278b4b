/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The configured SLOs: which requests each one counts, good or bad, fed to
 * its engine (slo.c), and their Prometheus series.
 */
#ifndef SLOTAP_SLO_REGISTRY_H
#define SLOTAP_SLO_REGISTRY_H

#include <stdio.h>
#include <linux/types.h>

struct slotap_config;
struct slo_registry;

/* now_s: unix time. NULL with errno set (EINVAL: a spec the engine refuses). */
struct slo_registry *slo_registry__new(const struct slotap_config *cfg, __u64 now_s);
void slo_registry__free(struct slo_registry *reg);
size_t slo_registry__count(const struct slo_registry *reg);

/* The i-th SLO (0 <= i < count), for persistence: its config, its spec,
 * its engine, and a way to swap in an engine restored from disk. */
struct slo;
struct slo_config;
struct slo_spec;
const struct slo_config *slo_registry__config(const struct slo_registry *reg, size_t i);
void slo_registry__spec(const struct slo_registry *reg, size_t i, struct slo_spec *out);
const struct slo *slo_registry__engine(const struct slo_registry *reg, size_t i);
/* Takes ownership of engine, freeing the one it replaces. */
void slo_registry__replace(struct slo_registry *reg, size_t i, struct slo *engine);

/* One measured request, at unix time now_s. */
void slo_registry__record(struct slo_registry *reg, const char *service, const char *method,
			  const char *route, unsigned int status, __u64 latency_ns, __u64 now_s);

/* slotap_slo_* series; returns 0 or -EIO. */
int slo_registry__write_prometheus(const struct slo_registry *reg, FILE *out, __u64 now_s);

#endif
