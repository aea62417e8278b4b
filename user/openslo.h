/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * OpenSLO v1 documents (apiVersion: openslo/v1) in a config stream, mapped
 * onto slotap's SLOs: kind SLO with an inline indicator or an indicatorRef
 * to a kind SLI document of the same stream, ratioMetric as availability,
 * thresholdMetric as latency. kind Service is checked and otherwise
 * ignored. Whatever has no slotap meaning is an error naming its field; the
 * README's "SLOs as OpenSLO v1" has the whole mapping. Called by config.c.
 */
#ifndef SLOTAP_OPENSLO_H
#define SLOTAP_OPENSLO_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "config.h"

struct loader;

/* A mapping with an apiVersion key: OpenSLO's, or meant to be. */
bool openslo__is_document(yaml_document_t *doc);

/*
 * Maps the OpenSLO documents among docs (the others are skipped) in stream
 * order, appending one SLO per objective to cfg->slos, which already holds
 * the slotap document's services, thresholds and SLOs. SLO names are
 * unique across both on success.
 */
int openslo__load(struct loader *ld, struct slotap_config *cfg,
		  yaml_document_t *docs, size_t n_docs);

#endif /* SLOTAP_OPENSLO_H */
