// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fuzz target: the configuration loader, slotap's YAML and OpenSLO's
 * (config__load_string). The input is the file. Loaded, the config must
 * be one config.h allows, and the agent must be able to run it: a route
 * table per service, the SLO registry. Refused, it is one line that
 * starts with the source name, without control bytes, and *cfg is zeroed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "config_fields.h"
#include "fuzz.h"
#include "route.h"
#include "slo_registry.h"

const char fuzz_target_name[] = "config";

#define SOURCE		"fuzz.yaml"
#define NOW_S		1767225600ULL	/* 2026-01-01T00:00:00Z */

static bool in_list(char *const *v, size_t n, const char *s, size_t before)
{
	for (size_t i = 0; i < n && i < before; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static bool is_service(const struct slotap_config *cfg, const char *s)
{
	for (size_t i = 0; i < cfg->n_services; i++)
		if (!strcmp(cfg->services[i].name, s))
			return true;
	return false;
}

static bool is_dependency(const struct slotap_config *cfg, const char *s)
{
	for (size_t i = 0; i < cfg->n_dependencies; i++)
		if (!strcmp(cfg->dependencies[i].name, s))
			return true;
	return false;
}

static bool is_threshold(const struct slotap_config *cfg, __u64 ns)
{
	for (size_t i = 0; i < cfg->n_thresholds; i++)
		if (cfg->latency_thresholds_ns[i] == ns)
			return true;
	return false;
}

static void check_endpoint(const char *ep)
{
	static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH",
					       "OPTIONS", "CONNECT", "TRACE" };
	const char *sp = strchr(ep, ' ');
	size_t i;

	FUZZ_CHECK(sp, "endpoint \"%s\" has no space", ep);
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strlen(methods[i]) == (size_t)(sp - ep) && !memcmp(methods[i], ep, sp - ep))
			break;
	FUZZ_CHECK(i < sizeof(methods) / sizeof(methods[0]), "endpoint \"%s\": no method", ep);
	FUZZ_CHECK(!route_template__validate(sp + 1, NULL, 0), "endpoint \"%s\": bad route", ep);
}

/* One SLO, explicit (template false) or a default SLO's template. */
static void check_slo(const struct slotap_config *cfg, const struct slo_config *sc, bool template)
{
	static const __u8 zero[sizeof(sc->bad_status)];
	double ppb = sc->objective * 1e9;

	FUZZ_CHECK(config_fields__valid_name(sc->name), "SLO name \"%s\"", sc->name);
	if (template) {
		FUZZ_CHECK(!sc->service && !sc->n_endpoints && !sc->dependency,
			   "default SLO %s is about something", sc->name);
	} else {
		FUZZ_CHECK(sc->service, "SLO %s has no service", sc->name);
		FUZZ_CHECK(sc->dependency ? is_dependency(cfg, sc->service) && !sc->n_endpoints
					  : !cfg->n_services || is_service(cfg, sc->service),
			   "SLO %s: service %s", sc->name, sc->service);
	}
	for (size_t i = 0; i < sc->n_endpoints; i++) {
		check_endpoint(sc->endpoints[i]);
		FUZZ_CHECK(!in_list(sc->endpoints, sc->n_endpoints, sc->endpoints[i], i),
			   "SLO %s: endpoint %s twice", sc->name, sc->endpoints[i]);
	}
	FUZZ_CHECK(sc->objective > 0 && sc->objective < 1 && ppb >= 0.5 && ppb < 999999999.5,
		   "SLO %s: objective %.17g", sc->name, sc->objective);
	if (sc->sli == SLO_SLI_LATENCY) {
		FUZZ_CHECK(sc->threshold_ns && is_threshold(cfg, sc->threshold_ns) &&
			   !memcmp(sc->bad_status, zero, sizeof(zero)),
			   "latency SLO %s: threshold %llu", sc->name,
			   (unsigned long long)sc->threshold_ns);
	} else {
		FUZZ_CHECK(sc->sli == SLO_SLI_AVAILABILITY && !sc->threshold_ns,
			   "SLO %s: sli %d, threshold %llu", sc->name, sc->sli,
			   (unsigned long long)sc->threshold_ns);
	}
	if (sc->window == SLO_WINDOW_ROLLING)
		FUZZ_CHECK(sc->window_s >= 60 && sc->window_s <= 31 * 86400ULL,
			   "SLO %s: window %llu s", sc->name, (unsigned long long)sc->window_s);
	else
		FUZZ_CHECK(!sc->window_s, "SLO %s: calendar window with a length", sc->name);
}

static void check_services(const struct slotap_config *cfg)
{
	FUZZ_CHECK(cfg->n_services <= CONFIG_MAX_SERVICES, "%zu services", cfg->n_services);
	for (size_t s = 0; s < cfg->n_services; s++) {
		const struct service_config *sc = &cfg->services[s];
		struct route_table *rt;

		FUZZ_CHECK(config_fields__valid_name(sc->name), "service name \"%s\"", sc->name);
		FUZZ_CHECK(!is_dependency(cfg, sc->name), "%s: a service and a dependency",
			   sc->name);
		for (size_t t = 0; t < s; t++)
			FUZZ_CHECK(strcmp(cfg->services[t].name, sc->name), "service %s twice",
				   sc->name);
		FUZZ_CHECK(sc->n_ports || sc->n_processes || sc->n_cgroups,
			   "service %s matches nothing", sc->name);
		for (size_t i = 0; i < sc->n_ports; i++) {
			FUZZ_CHECK(sc->ports[i], "service %s: port 0", sc->name);
			for (size_t t = 0; t <= s; t++)
				for (size_t j = 0; j < cfg->services[t].n_ports; j++)
					FUZZ_CHECK((t == s && j == i) ||
						   cfg->services[t].ports[j] != sc->ports[i],
						   "port %u twice", sc->ports[i]);
		}
		for (size_t i = 0; i < sc->n_processes; i++) {
			const char *p = sc->processes[i];

			FUZZ_CHECK(p[0] == '/' || (strlen(p) >= 1 && strlen(p) <= CONFIG_EXE_NAME_MAX &&
						   !strchr(p, '/')),
				   "service %s: process \"%s\"", sc->name, p);
			for (const char *c = p; *c; c++)
				FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f,
					   "service %s: a control byte in a process", sc->name);
			for (size_t t = 0; t <= s; t++)
				FUZZ_CHECK(!in_list(cfg->services[t].processes,
						    cfg->services[t].n_processes, p,
						    t == s ? i : SIZE_MAX),
					   "process %s twice", p);
		}
		FUZZ_CHECK(sc->max_routes <= CONFIG_ROUTES_LIMIT, "service %s: max_routes %u",
			   sc->name, sc->max_routes);
		for (size_t i = 0; i < sc->n_routes; i++)
			FUZZ_CHECK(!in_list(sc->routes, sc->n_routes, sc->routes[i], i),
				   "service %s: route %s twice", sc->name, sc->routes[i]);
		/* what the agent makes of it: every template taken */
		rt = route_table__new((const char *const *)sc->routes, sc->n_routes,
				      sc->max_routes ? sc->max_routes : cfg->max_routes_per_service,
				      sc->route_mode);
		FUZZ_CHECK(rt, "service %s: route_table__new: %s", sc->name, strerror(errno));
		route_table__free(rt);
	}
}

static void check_config(const struct slotap_config *cfg)
{
	struct slo_registry *reg;
	char key[64];

	FUZZ_CHECK(cfg->source && !strcmp(cfg->source, SOURCE), "source %s", cfg->source);
	check_services(cfg);
	FUZZ_CHECK(cfg->n_thresholds >= 1 && cfg->n_thresholds <= CONFIG_MAX_THRESHOLDS,
		   "%zu thresholds", cfg->n_thresholds);
	for (size_t i = 0; i < cfg->n_thresholds; i++)
		FUZZ_CHECK(cfg->latency_thresholds_ns[i] &&
			   (!i || cfg->latency_thresholds_ns[i - 1] < cfg->latency_thresholds_ns[i]),
			   "thresholds not ascending at %zu", i);
	FUZZ_CHECK(cfg->max_routes_per_service >= 1 &&
		   cfg->max_routes_per_service <= CONFIG_ROUTES_LIMIT,
		   "max_routes_per_service %u", cfg->max_routes_per_service);
	FUZZ_CHECK(cfg->request_timeout_ns, "request_timeout 0");
	FUZZ_CHECK(cfg->n_dependencies <= CONFIG_MAX_DEPENDENCIES, "%zu dependencies",
		   cfg->n_dependencies);
	for (size_t i = 0; i < cfg->n_dependencies; i++) {
		const struct dependency_config *dc = &cfg->dependencies[i];

		FUZZ_CHECK(config_fields__valid_name(dc->name) && dc->port,
			   "dependency \"%s\" port %u", dc->name, dc->port);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(cfg->dependencies[j].name, dc->name),
				   "dependency %s twice", dc->name);
	}
	FUZZ_CHECK(cfg->n_slos <= CONFIG_MAX_SLOS, "%zu SLOs", cfg->n_slos);
	for (size_t i = 0; i < cfg->n_slos; i++) {
		check_slo(cfg, &cfg->slos[i], false);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(cfg->slos[j].name, cfg->slos[i].name), "SLO %s twice",
				   cfg->slos[i].name);
	}
	FUZZ_CHECK(cfg->n_default_slos <= CONFIG_MAX_DEFAULT_SLOS, "%zu default SLOs",
		   cfg->n_default_slos);
	for (size_t i = 0; i < cfg->n_default_slos; i++) {
		check_slo(cfg, &cfg->default_slos[i], true);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(cfg->default_slos[j].name, cfg->default_slos[i].name),
				   "default SLO %s twice", cfg->default_slos[i].name);
	}
	FUZZ_CHECK(cfg->max_default_slos <= CONFIG_MAX_SLOS, "max_default_slos %u",
		   cfg->max_default_slos);
	/* a config is the same as itself: a reload of it needs no new programs */
	FUZZ_CHECK(!config__kernel_key(cfg, cfg, key, sizeof(key)), "kernel key of itself");
	/* the engine takes every SLO the loader took */
	reg = slo_registry__new(cfg, NOW_S);
	FUZZ_CHECK(reg, "slo_registry__new: %s", strerror(errno));
	slo_registry__free(reg);
}

static void check_error(const struct slotap_config *cfg, int ret, const char *err)
{
	static const struct slotap_config zero;

	FUZZ_CHECK(ret == -EINVAL || ret == -ENOMEM, "returned %d", ret);
	FUZZ_CHECK(!memcmp(cfg, &zero, sizeof(zero)), "config not zeroed on error");
	FUZZ_CHECK(!strncmp(err, SOURCE ":", strlen(SOURCE ":")) && err[strlen(SOURCE ":")],
		   "message \"%s\"", err);
	for (const char *c = err; *c; c++)
		FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f,
			   "control byte 0x%02x in \"%s\"", (unsigned char)*c, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slotap_config cfg;
	char err[512];
	int ret;

	/* the agent's own buffer size: a longer message is cut, never overrun */
	ret = config__load_string(&cfg, (const char *)data, size, SOURCE, err, sizeof(err));
	if (ret) {
		check_error(&cfg, ret, err);
		return 0;
	}
	FUZZ_CHECK(!err[0], "loaded, with a message \"%s\"", err);
	check_config(&cfg);
	config__free(&cfg);
	return 0;
}
