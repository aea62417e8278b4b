// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "http_server.h"
#include "http_source.h"
#include "log.h"
#include "prom.h"
#include "route.h"
#include "services.h"
#include "metric_names.h"

struct tracked_tgid {
	__u32 tgid;
	__u16 service_id;
	bool seen;		/* still alive at the last scan */
};

struct service_registry {
	const struct slotap_config *cfg;
	struct service *configured;	/* index = service_id */
	size_t n_configured;
	struct service *autos;		/* discovered, by process name */
	size_t n_autos;
	struct service auto_overflow;
	struct tracked_tgid *tracked;
	size_t n_tracked;
	size_t cap_tracked;
	bool has_exe_paths;
};

static int service__init(struct service *svc, const char *name, const char *const *templates,
			 size_t n_templates, unsigned max_routes, enum route_mode mode)
{
	svc->name = strdup(name);
	svc->routes = route_table__new(templates, n_templates, max_routes, mode);
	return svc->name && svc->routes ? 0 : -ENOMEM;
}

static void service__free(struct service *svc)
{
	free(svc->name);
	route_table__free(svc->routes);
}

static unsigned max_routes(const struct slotap_config *cfg, const struct service_config *sc)
{
	return sc->max_routes ? sc->max_routes : cfg->max_routes_per_service;
}

struct service_registry *service_registry__new(const struct slotap_config *cfg)
{
	struct service_registry *reg = calloc(1, sizeof(*reg));

	if (!reg)
		return NULL;
	reg->cfg = cfg;
	reg->configured = calloc(cfg->n_services ? cfg->n_services : 1, sizeof(*reg->configured));
	reg->autos = calloc(SERVICES_AUTO_MAX, sizeof(*reg->autos));
	if (!reg->configured || !reg->autos)
		goto fail;
	for (size_t i = 0; i < cfg->n_services; i++) {
		const struct service_config *sc = &cfg->services[i];
		unsigned max = max_routes(cfg, sc);

		reg->n_configured++;
		if (service__init(&reg->configured[i], sc->name, (const char *const *)sc->routes,
				  sc->n_routes, max, sc->route_mode))
			goto fail;
		for (size_t j = 0; j < sc->n_processes; j++)
			if (sc->processes[j][0] == '/')
				reg->has_exe_paths = true;
	}
	if (service__init(&reg->auto_overflow, "__overflow__", NULL, 0,
			  cfg->max_routes_per_service, cfg->route_mode))
		goto fail;
	return reg;
fail:
	service_registry__free(reg);
	return NULL;
}

void service_registry__free(struct service_registry *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->n_configured; i++)
		service__free(&reg->configured[i]);
	for (size_t i = 0; i < reg->n_autos; i++)
		service__free(&reg->autos[i]);
	service__free(&reg->auto_overflow);
	free(reg->configured);
	free(reg->autos);
	free(reg->tracked);
	free(reg);
}

/* A comm is whatever the process set with prctl(): make it a sane label. */
static void comm_to_name(const char *comm, char *name, size_t size)
{
	size_t i;

	for (i = 0; i + 1 < size && i < TASK_COMM_LEN_SLOTAP && comm[i]; i++)
		name[i] = isalnum((unsigned char)comm[i]) || strchr("_.-", comm[i]) ? comm[i] : '_';
	if (i == 0)
		name[i++] = '_';
	name[i] = '\0';
}

struct service *service_registry__lookup(struct service_registry *reg, __u16 service_id,
					 const char *comm)
{
	char name[TASK_COMM_LEN_SLOTAP + 1];

	if (service_id != SERVICE_ID_AUTO)
		return service_id < reg->n_configured ? &reg->configured[service_id] : NULL;

	comm_to_name(comm, name, sizeof(name));
	for (size_t i = 0; i < reg->n_autos; i++)
		if (!strcmp(reg->autos[i].name, name))
			return &reg->autos[i];
	if (reg->n_autos == SERVICES_AUTO_MAX)
		return &reg->auto_overflow;
	if (service__init(&reg->autos[reg->n_autos], name, NULL, 0,
			  reg->cfg->max_routes_per_service, reg->cfg->route_mode)) {
		service__free(&reg->autos[reg->n_autos]);
		memset(&reg->autos[reg->n_autos], 0, sizeof(struct service));
		return NULL;
	}
	log__debug("discovered service %s", name);
	return &reg->autos[reg->n_autos++];
}

static int exe_service(const struct slotap_config *cfg, const char *exe)
{
	for (size_t i = 0; i < cfg->n_services; i++)
		for (size_t j = 0; j < cfg->services[i].n_processes; j++)
			if (!strcmp(cfg->services[i].processes[j], exe))
				return i;
	return -1;
}

static int track(struct service_registry *reg, struct http_source *src, __u32 tgid, __u16 id)
{
	for (size_t i = 0; i < reg->n_tracked; i++) {
		if (reg->tracked[i].tgid == tgid) {
			reg->tracked[i].seen = true;
			return 0;
		}
	}
	if (reg->n_tracked == reg->cap_tracked) {
		size_t cap = reg->cap_tracked ? 2 * reg->cap_tracked : 16;
		struct tracked_tgid *t = realloc(reg->tracked, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		reg->tracked = t;
		reg->cap_tracked = cap;
	}
	reg->tracked[reg->n_tracked++] = (struct tracked_tgid){ tgid, id, true };
	log__debug("tracking pid %u as service %s", tgid, reg->configured[id].name);
	return http_source__track_tgid(src, tgid, id);
}

int service_registry__scan_processes(struct service_registry *reg, struct http_source *src)
{
	struct dirent *de;
	DIR *proc;
	int err = 0;

	if (!reg->has_exe_paths)
		return 0;
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	for (size_t i = 0; i < reg->n_tracked; i++)
		reg->tracked[i].seen = false;
	while ((de = readdir(proc))) {
		char link[300], exe[PATH_MAX];
		ssize_t n;
		int id;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(link, sizeof(link), "/proc/%s/exe", de->d_name);
		n = readlink(link, exe, sizeof(exe) - 1);
		if (n <= 0)
			continue;	/* kernel thread, or gone */
		exe[n] = '\0';
		id = exe_service(reg->cfg, exe);
		if (id >= 0 && (err = track(reg, src, strtoul(de->d_name, NULL, 10), id)))
			break;
	}
	closedir(proc);
	/* forget processes that exited: their pid may come back as anything */
	for (size_t i = 0; i < reg->n_tracked;) {
		if (reg->tracked[i].seen) {
			i++;
			continue;
		}
		http_source__untrack_tgid(src, reg->tracked[i].tgid);
		reg->tracked[i] = reg->tracked[--reg->n_tracked];
	}
	return err;
}

static void write_route_metrics(const struct service *svc, FILE *out, bool overflow)
{
	if (overflow) {
		fputs(METRIC_HTTP_ROUTE_OVERFLOW "{service_name=", out);
		prom__label_value(out, svc->name);
		fprintf(out, "} %llu\n", (unsigned long long)route_table__overflowed(svc->routes));
	} else {
		fputs(METRIC_HTTP_ROUTES "{service_name=", out);
		prom__label_value(out, svc->name);
		fprintf(out, "} %zu\n", route_table__count(svc->routes));
	}
}

void service_registry__write_prometheus(const struct service_registry *reg, FILE *out)
{
	prom__header(out, METRIC_HTTP_ROUTES, "gauge",
		     "Distinct routes admitted per service (bounded by max_routes).");
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			prom__header(out, METRIC_HTTP_ROUTE_OVERFLOW, "counter",
				     "Requests whose new route exceeded the service's max_routes "
				     "and were reported under http_route=\"__overflow__\".");
		for (size_t i = 0; i < reg->n_configured; i++)
			write_route_metrics(&reg->configured[i], out, pass);
		for (size_t i = 0; i < reg->n_autos; i++)
			write_route_metrics(&reg->autos[i], out, pass);
	}
}

void service_registry__set_config(struct service_registry *reg, const struct slotap_config *cfg)
{
	reg->cfg = cfg;
}

static bool same_routes(const struct slotap_config *ca, const struct service_config *a,
			const struct slotap_config *cb, const struct service_config *b)
{
	if (a->n_routes != b->n_routes || max_routes(ca, a) != max_routes(cb, b) ||
	    a->route_mode != b->route_mode)
		return false;
	for (size_t i = 0; i < a->n_routes; i++)
		if (strcmp(a->routes[i], b->routes[i]))
			return false;
	return true;
}

static void swap_routes(struct service *a, struct service *b)
{
	struct route_table *t = a->routes;

	a->routes = b->routes;
	b->routes = t;
}

void service_registry__adopt(struct service_registry *reg, struct service_registry *old,
			     const struct slotap_config *old_cfg, bool same_source)
{
	if (same_source) {
		/* the processes it pointed the kernel at: to forget when they exit */
		free(reg->tracked);
		reg->tracked = old->tracked;
		reg->n_tracked = old->n_tracked;
		reg->cap_tracked = old->cap_tracked;
		old->tracked = NULL;
		old->n_tracked = old->cap_tracked = 0;
	}
	for (size_t i = 0; i < reg->n_configured; i++) {
		for (size_t j = 0; j < old->n_configured; j++) {
			if (strcmp(reg->configured[i].name, old->configured[j].name))
				continue;
			if (same_routes(reg->cfg, &reg->cfg->services[i], old_cfg,
					&old_cfg->services[j]))
				swap_routes(&reg->configured[i], &old->configured[j]);
			break;
		}
	}
	/* discovered services: only while both track every listener, alike */
	if (reg->n_configured || old->n_configured ||
	    reg->cfg->max_routes_per_service != old_cfg->max_routes_per_service ||
	    reg->cfg->route_mode != old_cfg->route_mode)
		return;
	for (size_t j = 0; j < old->n_autos; j++) {
		reg->autos[j] = old->autos[j];
		old->autos[j] = (struct service){};
	}
	reg->n_autos = old->n_autos;
	old->n_autos = 0;
	swap_routes(&reg->auto_overflow, &old->auto_overflow);
}
