/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Services the agent reports on: the configured ones (by service_id), and,
 * when the config names none, one per process name discovered at accept().
 */
#ifndef SLOTAP_SERVICES_H
#define SLOTAP_SERVICES_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

struct slotap_config;
struct http_source;

/* Process names discovered beyond this share one overflow service. */
#define SERVICES_AUTO_MAX	256

struct service {
	char *name;
	struct route_table *routes;
};

struct service_registry;

struct service_registry *service_registry__new(const struct slotap_config *cfg);
void service_registry__free(struct service_registry *reg);
/* The service of an event: service_id from the kernel, comm for discovered ones. */
struct service *service_registry__lookup(struct service_registry *reg, __u16 service_id,
					 const char *comm);
/* Point the kernel's tgid filter at the processes matching configured executable paths. */
int service_registry__scan_processes(struct service_registry *reg, struct http_source *src);
/*
 * A reload: the registry now reads cfg (what it was made from may be
 * copied there); and takes over from old, made from old_cfg, the route
 * tables of the services whose routes and route cap did not change, with
 * the routes they learnt and the overflow they counted, every discovered
 * service, and with same_source (the kernel side stays) the processes old
 * pointed it at.
 */
void service_registry__set_config(struct service_registry *reg, const struct slotap_config *cfg);
void service_registry__adopt(struct service_registry *reg, struct service_registry *old,
			     const struct slotap_config *old_cfg, bool same_source);
/* Route cardinality self-metrics. */
void service_registry__write_prometheus(const struct service_registry *reg, FILE *out);

#endif
