/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Internal to the configuration loader: what config.c lends the loaders of
 * other document kinds in a config stream (user/openslo.c), so that their
 * SLOs get the same checks and their messages the same shape
 * ("SOURCE:LINE:COLUMN: PATH: message"). The agent uses config.h only.
 *
 * Every function that can fail returns 0 or a negative errno with the
 * message already written, -EINVAL for bad content, -ENOMEM.
 */
#ifndef SLOTAP_CONFIG_LOADER_H
#define SLOTAP_CONFIG_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <yaml.h>

#include "config.h"

struct loader;		/* one load's state, config.c */

/* Room config_loader__quote() and config_loader__describe() write into. */
#define CONFIG_LOADER_QUOTE_SIZE	(48 * 4 + 8)

/* The document whose nodes map_key looks up: set before walking one. */
void config_loader__set_doc(struct loader *ld, yaml_document_t *doc);

/* The message at n's position; path may be NULL. */
int config_loader__error(struct loader *ld, const yaml_node_t *n,
			 const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* "expected EXPECTED, got WHAT-n-IS" */
int config_loader__type_error(struct loader *ld, const yaml_node_t *n,
			      const char *path, const char *expected);
int config_loader__oom(struct loader *ld);

/* User text quoted and escaped for a one-line message, cut at 48 bytes. */
const char *config_loader__quote(char *buf, const char *s, size_t len);
/* What n is: a number as is, a string quoted, "null", "a list", ... */
const char *config_loader__describe(char *buf, const yaml_node_t *n);
bool config_loader__is_null(const yaml_node_t *n);
/* A plain [-+]digits[.digits] scalar. */
bool config_loader__looks_numeric(const yaml_node_t *n);
/* 1..CONFIG_NAME_MAX characters of [A-Za-z0-9_.-] */
bool config_loader__valid_name(const char *s);

/* A non-null scalar without NUL bytes, as a C string owned by the document. */
int config_loader__get_string(struct loader *ld, const yaml_node_t *n,
			      const char *path, const char *expected,
			      const char **out);
/* Keys a mapping may have: CONFIG_LOADER_KEYS_MAX at most (map_key's seen bits). */
#define CONFIG_LOADER_KEYS_MAX	32

/*
 * A mapping walked: its values and keys (to blame) by index in the keys[]
 * it was walked with, NULL for a key it does not have, and the indices in
 * the document's order.
 */
struct config_fields {
	yaml_node_t *key[CONFIG_LOADER_KEYS_MAX], *val[CONFIG_LOADER_KEYS_MAX];
	unsigned char order[CONFIG_LOADER_KEYS_MAX];
	unsigned n;		/* keys it has */
	unsigned seen;		/* bit k: it has keys[k] */
};

/*
 * The walker every loader uses, table-driven: n is a mapping whose keys
 * are each one of keys[] (NULL-terminated), at most once; f says which,
 * with their values. A negative errno after "expected a mapping",
 * "unknown key" or "duplicate key" at its place.
 */
int config_loader__walk(struct loader *ld, const yaml_node_t *n, const char *path,
			const char *const keys[], struct config_fields *f);

/*
 * Appends count zeroed SLOs to cfg->slos (*first: the index of the first)
 * and makes room for the latency SLOs' thresholds. Blames n for going past
 * CONFIG_MAX_SLOS.
 */
int config_loader__add_slos(struct loader *ld, struct slotap_config *cfg,
			    size_t count, const yaml_node_t *n, size_t *first);
/*
 * Gives SLO slo its name, already checked with config_loader__valid_name();
 * n is the node blamed if it repeats another SLO's name (see
 * config_loader__check_slo_names()).
 */
int config_loader__slo_name(struct loader *ld, struct slo_config *sc,
			    size_t slo, const char *name, const yaml_node_t *n);
/* The service: a valid name, one of the services when there are some. */
int config_loader__slo_service(struct loader *ld,
			       const struct slotap_config *cfg,
			       struct slo_config *sc, const yaml_node_t *n,
			       const char *path);
/*
 * endpoint and bad_statuses as in a slos item, each with its messages'
 * path as "PREFIX.endpoint[i]". The endpoints must be distinct; sc needs
 * none yet. An SLO without bad_statuses needs
 * config_loader__slo_default_bad_statuses().
 */
int config_loader__slo_endpoints(struct loader *ld, struct slo_config *sc,
				 const yaml_node_t *n, const char *prefix);
int config_loader__slo_bad_statuses(struct loader *ld, struct slo_config *sc,
				    const yaml_node_t *n, const char *prefix);
void config_loader__slo_default_bad_statuses(struct slo_config *sc);
/* objective from a percentage, or with ratio from a fraction in (0, 1) */
int config_loader__slo_objective(struct loader *ld, struct slo_config *sc,
				 const yaml_node_t *n, const char *path,
				 bool ratio);
/*
 * Whether the SLO engine takes sc's window (a whole number of its buckets,
 * given objective and budgeting); n is the window's scalar.
 */
int config_loader__slo_check_window(struct loader *ld,
				    const struct slo_config *sc,
				    const yaml_node_t *n, const char *path);
/* Adds a latency SLO's threshold to cfg->latency_thresholds_ns; n: its scalar. */
int config_loader__slo_threshold(struct loader *ld, struct slotap_config *cfg,
				 const yaml_node_t *n, const char *path,
				 __u64 threshold_ns);
/* Every SLO name given so far, from whichever document, is unique. */
int config_loader__check_slo_names(struct loader *ld);

#endif /* SLOTAP_CONFIG_LOADER_H */
