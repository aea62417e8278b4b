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

/* Executable names discovered beyond this share one overflow service. */
#define SERVICES_AUTO_MAX	256
/*
 * Files an executable path keeps matched: the current one and those it
 * replaced (upgrades), for the processes still running them; each held
 * open.
 */
#define SERVICES_EXE_FILES	3

struct service {
	char *name;
	struct route_table *routes;
};

struct service_registry;

struct service_registry *service_registry__new(const struct slotap_config *cfg);
void service_registry__free(struct service_registry *reg);
/*
 * The service of an event: service_id from the kernel, the executable's
 * name for discovered ones.
 */
struct service *service_registry__lookup(struct service_registry *reg, __u16 service_id,
					 const char *exe_name);
/*
 * Point the kernel's filters at the files now at the configured
 * executable paths and at the configured cgroups' ids now; run it at
 * start, before measuring, and every second (an upgrade replaces a file, a
 * unit's restart makes its cgroup anew). What is missing is said once,
 * and matched once it is there. 0.
 */
int service_registry__refresh(struct service_registry *reg, struct http_source *src);
/*
 * A reload: the registry now reads cfg (what it was made from may be
 * copied there); and takes over from old, made from old_cfg, the route
 * tables of the services whose routes and route cap did not change, with
 * the routes they learnt and the overflow they counted, every discovered
 * service, and with same_source (the kernel side stays) the files and
 * cgroups old pointed it at.
 */
void service_registry__set_config(struct service_registry *reg, const struct slotap_config *cfg);
void service_registry__adopt(struct service_registry *reg, struct service_registry *old,
			     const struct slotap_config *old_cfg, bool same_source);
/* Route cardinality self-metrics. */
void service_registry__write_prometheus(const struct service_registry *reg, FILE *out);

#endif
