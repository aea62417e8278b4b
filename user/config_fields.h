/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Internal to the configuration loader: one load's state, and the fields
 * that every document kind of a config stream checks alike (names, and an
 * SLO's service, endpoints, bad statuses, objective, window, threshold), so
 * that a slotap slos item and an OpenSLO objective get the same checks and
 * the same messages. Used by user/config.c and user/openslo.c; the agent
 * uses config.h only.
 *
 * Every function that can fail returns 0 or a negative errno with the
 * message already written, -EINVAL for bad content, -ENOMEM.
 */
#ifndef SLOTAP_CONFIG_FIELDS_H
#define SLOTAP_CONFIG_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <yaml.h>

#include "config.h"
#include "yaml_reader.h"

/* One load of a config stream. */
struct loader {
	struct yaml_reader rd;
	struct yaml_unique names;		/* services'; owner: service index */
	struct yaml_unique processes, routes;	/* owner: service index */
	struct yaml_unique cgroups;		/* owner: service index */
	size_t n_exe_paths;			/* of all services, at most CONFIG_MAX_EXE_PATHS */
	struct yaml_unique slo_names;		/* owner: SLO index, any document */
	struct yaml_unique default_names;	/* owner: default_slos index */
	struct yaml_unique dependency_names;	/* owner: dependencies index */
	/* Which ports some service already matches: duplicates are errors. */
	unsigned char port_seen[65536 / 8];
};

/* 1..CONFIG_NAME_MAX characters of [A-Za-z0-9_.-] */
bool config_fields__valid_name(const char *s);

/*
 * Room for every latency threshold an SLO list may add, so that
 * config_fields__slo_threshold() needs no allocation.
 */
int config_fields__reserve_thresholds(struct loader *ld, struct slotap_config *cfg);
/*
 * Appends count zeroed SLOs to cfg->slos (*first: the index of the first)
 * and reserves the thresholds. Blames n for going past CONFIG_MAX_SLOS.
 */
int config_fields__add_slos(struct loader *ld, struct slotap_config *cfg,
			    size_t count, const yaml_node_t *n, size_t *first);
/*
 * Gives SLO slo its name, already checked with config_fields__valid_name();
 * n is the node blamed if it repeats another SLO's name (see
 * config_fields__check_slo_names()).
 */
int config_fields__slo_name(struct loader *ld, struct slo_config *sc,
			    size_t slo, const char *name, const yaml_node_t *n);
/* Every SLO name given so far, from whichever document, is unique. */
int config_fields__check_slo_names(struct loader *ld);
/* The service: a valid name, one of the services when there are some. */
int config_fields__slo_service(struct loader *ld, const struct slotap_config *cfg,
			       struct slo_config *sc, const yaml_node_t *n,
			       const char *path);
/*
 * endpoint and bad_statuses as in a slos item, each with its messages'
 * path as "PREFIX.endpoint[i]" (prefix may be NULL). The endpoints must be
 * distinct; sc needs none yet. An availability SLO without bad_statuses
 * needs config_fields__slo_default_bad_statuses().
 */
int config_fields__slo_endpoints(struct loader *ld, struct slo_config *sc,
				 const yaml_node_t *n, const char *prefix);
int config_fields__slo_bad_statuses(struct loader *ld, struct slo_config *sc,
				    const yaml_node_t *n, const char *prefix);
void config_fields__slo_default_bad_statuses(struct slo_config *sc);
/*
 * bad_grpc_codes as in a slos item: a gRPC code by name or number, or a
 * list of them. Without the key an availability SLO has
 * GRPC_BAD_CODES_DEFAULT (config_fields__slo_default_bad_statuses sets
 * both defaults; this one replaces the codes').
 */
int config_fields__slo_bad_grpc_codes(struct loader *ld, struct slo_config *sc,
				      const yaml_node_t *n, const char *prefix);
/* runbook_url: 1..CONFIG_RUNBOOK_URL_MAX bytes of printable ASCII, no spaces, quotes, braces */
int config_fields__slo_runbook_url(struct loader *ld, struct slo_config *sc,
				   const yaml_node_t *n, const char *path);
/* objective from a percentage, or with ratio from a fraction in (0, 1) */
int config_fields__slo_objective(struct loader *ld, struct slo_config *sc,
				 const yaml_node_t *n, const char *path, bool ratio);
/*
 * Whether the SLO engine takes sc's window (a whole number of its buckets,
 * given objective and budgeting); n is the window's scalar.
 */
int config_fields__slo_check_window(struct loader *ld, const struct slo_config *sc,
				    const yaml_node_t *n, const char *path);
/*
 * Adds a latency SLO's threshold to the sorted, deduplicated
 * cfg->latency_thresholds_ns (reserved); n: its scalar.
 */
int config_fields__slo_threshold(struct loader *ld, struct slotap_config *cfg,
				 const yaml_node_t *n, const char *path, __u64 threshold_ns);

#endif /* SLOTAP_CONFIG_FIELDS_H */
