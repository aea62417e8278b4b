// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "grpc.h"

#define MS(x)	((__u64)(x) * 1000000ull)

static const __u64 default_thresholds[] = { MS(100), MS(250), MS(500), MS(1000) };

static bool is_zeroed(const struct slotap_config *cfg)
{
	static const struct slotap_config zero;

	return !memcmp(cfg, &zero, sizeof(zero));
}

/* The default SLOs config__default_yaml documents */
static void assert_default_slos(const struct slotap_config *cfg)
{
	const struct slo_config *a = &cfg->default_slos[0], *l = &cfg->default_slos[1];
	unsigned code;

	assert_int_equal(cfg->n_default_slos, 2);
	assert_int_equal(cfg->max_default_slos, 1000);
	assert_int_equal(cfg->max_series_per_metric, CONFIG_DEFAULT_MAX_SERIES);
	assert_int_equal(cfg->max_h2_connections, 16384);
	assert_int_equal(cfg->max_h2_streams, 65536);
	assert_string_equal(a->name, "default-availability");
	assert_null(a->service);
	assert_int_equal(a->n_endpoints, 0);
	assert_int_equal(a->sli, SLO_SLI_AVAILABILITY);
	assert_true(a->objective == 0.9);
	assert_int_equal(a->window, SLO_WINDOW_ROLLING);
	assert_int_equal(a->window_s, 28 * 86400);
	assert_false(a->timeslices);
	assert_int_equal(a->threshold_ns, 0);
	for (code = 0; code <= CONFIG_STATUS_MAX; code++)
		assert_int_equal(!!(a->bad_status[code / 8] & (1u << (code % 8))),
				 code >= 500);
	assert_string_equal(l->name, "default-latency");
	assert_null(l->service);
	assert_int_equal(l->sli, SLO_SLI_LATENCY);
	assert_true(l->objective == 0.8);
	assert_int_equal(l->threshold_ns, MS(1000));
	assert_int_equal(l->window, SLO_WINDOW_ROLLING);
	assert_int_equal(l->window_s, 28 * 86400);
	for (code = 0; code < sizeof(l->bad_status); code++)
		assert_int_equal(l->bad_status[code], 0);
}

static void assert_defaults(const struct slotap_config *cfg)
{
	size_t i;

	assert_default_slos(cfg);
	assert_int_equal(cfg->n_services, 0);
	assert_null(cfg->services);
	assert_int_equal(cfg->n_slos, 0);
	assert_null(cfg->slos);
	assert_int_equal(cfg->max_routes_per_service, 100);
	assert_int_equal(cfg->route_mode, ROUTE_MODE_FOLD);
	assert_int_equal(cfg->n_thresholds, 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(cfg->latency_thresholds_ns[i], default_thresholds[i]);
}

static int load(struct slotap_config *cfg, const char *yaml, char *err, size_t errlen)
{
	/* garbage in: the loader must not rely on an initialised cfg */
	memset(cfg, 0xa5, sizeof(*cfg));
	return config__load_string(cfg, yaml, strlen(yaml), "t.yaml", err, errlen);
}

static void load_ok(struct slotap_config *cfg, const char *yaml)
{
	char err[512] = "";
	int ret = load(cfg, yaml, err, sizeof(err));

	if (ret)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(ret, 0);
	assert_string_equal(err, "");
	assert_string_equal(cfg->source, "t.yaml");
}

/* The whole message must be want; the config must come back zeroed. */
static void expect_error(const char *yaml, const char *want)
{
	struct slotap_config cfg;
	char err[512];
	int ret = load(&cfg, yaml, err, sizeof(err));

	assert_int_equal(ret, -EINVAL);
	assert_string_equal(err, want);
	assert_true(is_zeroed(&cfg));
}

/* For messages partly written by libyaml or route.c: exact prefix, substring. */
static void expect_error_sub(const char *yaml, const char *prefix, const char *sub)
{
	struct slotap_config cfg;
	char err[512];
	int ret = load(&cfg, yaml, err, sizeof(err));

	assert_int_equal(ret, -EINVAL);
	if (strncmp(err, prefix, strlen(prefix)) || !strstr(err + strlen(prefix), sub))
		fail_msg("got \"%s\", want prefix \"%s\" and \"%s\"", err, prefix, sub);
	assert_true(strlen(err) > strlen(prefix));
	assert_null(strchr(err, '\n'));
	assert_true(is_zeroed(&cfg));
}

static void test_default_config(void **state)
{
	struct slotap_config cfg;
	char err[256] = "";

	(void)state;
	memset(&cfg, 0xa5, sizeof(cfg));
	assert_int_equal(config__load_string(&cfg, config__default_yaml,
					     strlen(config__default_yaml),
					     CONFIG_DEFAULT_SOURCE, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_defaults(&cfg);
	assert_string_equal(cfg.source, "<default>");
	config__free(&cfg);
	assert_true(is_zeroed(&cfg));
	/* the text says tracking everything is the default: keep it saying so */
	assert_non_null(strstr(config__default_yaml, "every listening TCP"));
}

/* Uncomments the example from "# KEY:" to the line before "KEY: []". */
static char *uncomment_example(char *o, const char *key)
{
	char from[64], to[64];
	const char *start, *end, *p;

	snprintf(from, sizeof(from), "# %s:\n", key);
	snprintf(to, sizeof(to), "\n%s: []\n", key);
	start = strstr(config__default_yaml, from);
	end = strstr(config__default_yaml, to);
	assert_non_null(start);
	assert_non_null(end);
	assert_true(start < end);
	for (p = start; p <= end;) {
		const char *nl = strchr(p, '\n');

		p += p[1] == ' ' ? 2 : 1;	/* "# " or a lone "#" */
		memcpy(o, p, nl + 1 - p);
		o += nl + 1 - p;
		p = nl + 1;
	}
	*o = '\0';
	return o;
}

/* The examples in the default config's comments, uncommented, are valid. */
static void test_default_config_example(void **state)
{
	static const __u64 thresholds[] = { MS(100), MS(250), MS(300), MS(500), MS(1000) };
	struct slotap_config cfg;
	char yaml[8192], *o;
	size_t i;

	(void)state;
	o = uncomment_example(yaml, "services");
	uncomment_example(o, "slos");
	load_ok(&cfg, yaml);
	assert_int_equal(cfg.n_services, 3);
	assert_string_equal(cfg.services[0].name, "shop");
	assert_int_equal(cfg.services[0].n_ports, 2);
	assert_int_equal(cfg.services[0].ports[1], 8443);
	assert_int_equal(cfg.services[0].n_processes, 2);
	assert_string_equal(cfg.services[0].processes[1], "/usr/local/bin/shop");
	assert_int_equal(cfg.services[0].n_routes, 2);
	assert_int_equal(cfg.services[0].max_routes, 200);
	assert_string_equal(cfg.services[1].name, "api");
	assert_int_equal(cfg.services[1].n_cgroups, 1);
	assert_string_equal(cfg.services[1].cgroups[0], "/system.slice/api.service");
	assert_string_equal(cfg.services[2].name, "billing");
	assert_int_equal(cfg.services[2].ports[0], 9000);
	/* one SLO of each kind */
	assert_int_equal(cfg.n_slos, 2);
	assert_int_equal(cfg.slos[0].sli, SLO_SLI_AVAILABILITY);
	assert_string_equal(cfg.slos[0].service, "shop");
	assert_int_equal(cfg.slos[1].sli, SLO_SLI_LATENCY);
	assert_int_equal(cfg.slos[1].threshold_ns, MS(300));
	assert_int_equal(cfg.slos[1].n_endpoints, 2);
	/* its threshold joins the default ones */
	assert_int_equal(cfg.n_thresholds, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(cfg.latency_thresholds_ns[i], thresholds[i]);
	config__free(&cfg);
}

/*
 * Decision: an empty document is the defaults, like "{}": every key is
 * optional, and the default config is mostly comments anyway.
 */
static void test_empty_documents_are_defaults(void **state)
{
	static const char *const docs[] = {
		"", "# only a comment\n", "\n\n", "---\n", "---\n...\n", "~\n",
		"null\n", "{}\n",
	};
	struct slotap_config cfg;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		load_ok(&cfg, docs[i]);
		assert_defaults(&cfg);
		/* all but "{}" hold nothing: a reload refuses them (a truncated file) */
		assert_int_equal(cfg.empty, strcmp(docs[i], "{}\n") != 0);
		config__free(&cfg);
	}
	/* no buffer at all is an empty one */
	assert_int_equal(config__load_string(&cfg, NULL, 0, NULL, err, sizeof(err)), 0);
	assert_defaults(&cfg);
	assert_string_equal(cfg.source, "<string>");
	assert_true(cfg.empty);
	config__free(&cfg);
}

static void test_full_config(void **state)
{
	static const char yaml[] =
		"# two services\n"
		"services:\n"
		"  - name: shop\n"
		"    match:\n"
		"      port: [8080, 8443]\n"
		"      process: [nginx, /usr/local/bin/shop]\n"
		"    routes: [\"/api/items/{id}\", \"/api/users/{user}/orders\"]\n"
		"    max_routes: 200\n"
		"  - name: billing-v2.1_x\n"
		"    match:\n"
		"      process: billingd\n"
		"  - match: {port: 9000}\n"
		"    name: \"quoted\"\n"
		"    routes: []\n"
		"latency_thresholds: [1s, 100ms, 1.5s, '300ms', 1000ms, 250us, 100000000ns]\n"
		"max_routes_per_service: 50\n";
	static const __u64 want[] = { 250000, MS(100), MS(300), MS(1000), MS(1500) };
	struct slotap_config cfg;
	const struct service_config *s;
	size_t i;

	(void)state;
	load_ok(&cfg, yaml);
	assert_int_equal(cfg.n_services, 3);

	s = &cfg.services[0];
	assert_string_equal(s->name, "shop");
	assert_int_equal(s->n_ports, 2);
	assert_int_equal(s->ports[0], 8080);
	assert_int_equal(s->ports[1], 8443);
	assert_int_equal(s->n_processes, 2);
	assert_string_equal(s->processes[0], "nginx");
	assert_string_equal(s->processes[1], "/usr/local/bin/shop");
	assert_int_equal(s->n_routes, 2);
	assert_string_equal(s->routes[0], "/api/items/{id}");
	assert_string_equal(s->routes[1], "/api/users/{user}/orders");
	assert_int_equal(s->max_routes, 200);

	s = &cfg.services[1];
	assert_string_equal(s->name, "billing-v2.1_x");
	assert_int_equal(s->n_ports, 0);
	assert_null(s->ports);
	assert_int_equal(s->n_processes, 1);
	assert_string_equal(s->processes[0], "billingd");
	assert_int_equal(s->n_routes, 0);
	assert_null(s->routes);
	assert_int_equal(s->max_routes, 0);

	s = &cfg.services[2];
	assert_string_equal(s->name, "quoted");
	assert_int_equal(s->n_ports, 1);
	assert_int_equal(s->ports[0], 9000);
	assert_int_equal(s->n_processes, 0);
	assert_int_equal(s->n_routes, 0);

	/* sorted and deduplicated (1s == 1000ms, 100ms == 100000000ns) */
	assert_int_equal(cfg.n_thresholds, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(cfg.latency_thresholds_ns[i], want[i]);
	assert_int_equal(cfg.max_routes_per_service, 50);
	config__free(&cfg);
	assert_true(is_zeroed(&cfg));
	config__free(&cfg);	/* twice is fine */
}

/* Anchors and aliases work, and a self-referencing one cannot loop. */
static void test_aliases(void **state)
{
	struct slotap_config cfg;

	(void)state;
	load_ok(&cfg,
		"services:\n"
		"  - name: a\n"
		"    match: {port: 1}\n"
		"    routes: &r [\"/x/{id}\", \"/y\"]\n"
		"  - name: b\n"
		"    match: {port: 2}\n"
		"    routes: *r\n");
	assert_int_equal(cfg.services[1].n_routes, 2);
	assert_string_equal(cfg.services[1].routes[1], "/y");
	assert_ptr_not_equal(cfg.services[0].routes[0], cfg.services[1].routes[0]);
	config__free(&cfg);

	expect_error("services: &a [*a]\n",
		     "t.yaml:1:11: this node contains an alias of itself");
	expect_error_sub("services: *nope\n", "t.yaml:1:11: invalid YAML: ",
			 "found undefined alias");
}

/*
 * What would cost far more than the file's size to load is refused, with
 * its place: aliases that multiply (the "billion laughs"), deep nesting,
 * too many nodes or anchors.
 */
static void test_costly_yaml(void **state)
{
	char *yaml = malloc(1 << 20), *o;
	int i;

	(void)state;
	assert_non_null(yaml);
	/* 10 levels of 10 aliases each: 10^10 nodes from 600 bytes */
	o = yaml + sprintf(yaml, "x0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n");
	for (i = 1; i < 10; i++)
		o += sprintf(o, "x%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n",
			     i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	expect_error(yaml, "t.yaml:1:1: with its aliases written out, the config has more than "
		     "100000 YAML nodes");
	/* nesting */
	o = yaml + sprintf(yaml, "x: ");
	for (i = 0; i < 100000; i++)
		*o++ = '[';
	*o = '\0';
	expect_error(yaml, "t.yaml:1:67: lists and mappings nested more than 64 deep");
	/* nodes as written */
	o = yaml + sprintf(yaml, "x: [1");
	for (i = 0; i < 100000; i++)
		o += sprintf(o, ",1");
	sprintf(o, "]\n");
	expect_error(yaml, "t.yaml:1:199999: more than 100000 YAML nodes (scalars, lists and mappings)");
	/* anchors */
	o = yaml + sprintf(yaml, "x: [");
	for (i = 0; i < 1001; i++)
		o += sprintf(o, "&a%d 1, ", i);
	sprintf(o, "]\n");
	expect_error(yaml, "t.yaml:1:8895: YAML anchor \"a1000\" is one more than 1000");
	free(yaml);
}

static void test_port_errors(void **state)
{
	(void)state;
	expect_error("services:\n"
		     "  - name: shop\n"
		     "    match:\n"
		     "      port: 70000\n",
		     "t.yaml:4:13: match.port: 70000 is not a port (1..65535)");
	expect_error("services:\n"
		     "  - name: shop\n"
		     "    match:\n"
		     "      port: 0\n",
		     "t.yaml:4:13: match.port: 0 is not a port (1..65535)");
	expect_error("services:\n"
		     "  - name: shop\n"
		     "    match:\n"
		     "      port: -80\n",
		     "t.yaml:4:13: match.port: -80 is not a port (1..65535)");
	expect_error("services:\n"
		     "  - name: shop\n"
		     "    match:\n"
		     "      port: [80, http]\n",
		     "t.yaml:4:18: match.port[1]: \"http\" is not a port (1..65535)");
	/* quoted is a string, not a number */
	expect_error("services:\n"
		     "  - name: shop\n"
		     "    match:\n"
		     "      port: \"8080\"\n",
		     "t.yaml:4:13: match.port: \"8080\" is not a port (1..65535)");
	expect_error("services:\n"
		     "  - name: shop\n"
		     "    match:\n"
		     "      port: 99999999999999999999999\n",
		     "t.yaml:4:13: match.port: 99999999999999999999999 is not a port (1..65535)");
	expect_error("services:\n"
		     "  - name: shop\n"
		     "    match:\n"
		     "      port: []\n",
		     "t.yaml:4:13: match.port: empty list");
	expect_error("services:\n"
		     "  - name: shop\n"
		     "    match:\n"
		     "      port: [[80]]\n",
		     "t.yaml:4:14: match.port[0]: expected a port, got a list");
	/* a port is one service's only */
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {port: [80, 443]}\n"
		     "  - name: b\n"
		     "    match: {port: 443}\n",
		     "t.yaml:5:19: match.port: port 443 is already matched by service \"a\"");
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {port: [80, 80]}\n",
		     "t.yaml:3:24: match.port[1]: duplicate port 80");
}

static void test_unknown_and_duplicate_keys(void **state)
{
	(void)state;
	expect_error("services:\n"
		     "  - matchh: {port: 80}\n"
		     "    name: shop\n",
		     "t.yaml:2:5: services[0]: unknown key \"matchh\"");
	expect_error("servicess: []\n", "t.yaml:1:1: unknown key \"servicess\"");
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {prot: 80}\n",
		     "t.yaml:3:13: match: unknown key \"prot\"");
	expect_error("max_routes_per_service: 1\n"
		     "max_routes_per_service: 2\n",
		     "t.yaml:2:1: duplicate key \"max_routes_per_service\"");
	/* user text in a message stays on one line, and short */
	expect_error("\"a\\nb\": 1\n", "t.yaml:1:1: unknown key \"a\\x0ab\"");
	expect_error("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx: 1\n",
		     "t.yaml:1:1: unknown key "
		     "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\"");
	expect_error("[a]: 1\n", "t.yaml:1:1: keys must be strings, got a list");
}

static void test_service_errors(void **state)
{
	(void)state;
	expect_error("services:\n"
		     "  - name: shop\n"
		     "    match: {port: 80}\n"
		     "  - name: shop\n"
		     "    match: {port: 81}\n",
		     "t.yaml:4:11: duplicate service name \"shop\"");
	expect_error("services:\n"
		     "  - match: {port: 80}\n",
		     "t.yaml:2:5: services[0]: missing required key \"name\"");
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {port: 80}\n"
		     "  - name: b\n",
		     "t.yaml:4:5: services[1]: missing required key \"match\"");
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {}\n",
		     "t.yaml:3:12: match: needs port, process or cgroup");
	expect_error("services:\n"
		     "  - name: \"sh op\"\n"
		     "    match: {port: 80}\n",
		     "t.yaml:2:11: name: \"sh op\" is not a valid name "
		     "(1..63 characters of A-Z a-z 0-9 _ . -)");
	expect_error("services:\n"
		     "  - name: a\xc3\xa9\n"
		     "    match: {port: 80}\n",
		     "t.yaml:2:11: name: \"a\xc3\xa9\" is not a valid name "
		     "(1..63 characters of A-Z a-z 0-9 _ . -)");
	expect_error("services:\n"
		     "  - name: \"a\\0b\"\n"
		     "    match: {port: 80}\n",
		     "t.yaml:2:11: name: contains a NUL character");
	expect_error("services:\n"
		     "  - name:\n"
		     "    match: {port: 80}\n",
		     "t.yaml:2:10: name: expected a string, got null");
	expect_error("services:\n"
		     "  - name: [a]\n",
		     "t.yaml:2:11: name: expected a string, got a list");
}

static void test_name_length(void **state)
{
	char yaml[256];
	struct slotap_config cfg;
	const char *n63 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";

	(void)state;
	assert_int_equal(strlen(n63), 63);
	snprintf(yaml, sizeof(yaml), "services:\n  - name: %s\n    match: {port: 1}\n", n63);
	load_ok(&cfg, yaml);
	assert_string_equal(cfg.services[0].name, n63);
	config__free(&cfg);

	snprintf(yaml, sizeof(yaml), "services:\n  - name: %sx\n    match: {port: 1}\n", n63);
	expect_error_sub(yaml, "t.yaml:2:11: name: \"", "is not a valid name");
}

static void test_process(void **state)
{
	struct slotap_config cfg;

	(void)state;
	/* the executable's name is kept to 15 bytes: 15 is fine, 16 says why it is not */
	load_ok(&cfg,
		"services:\n"
		"  - name: a\n"
		"    match: {process: abcdefghijklmno}\n");
	assert_int_equal(cfg.services[0].n_processes, 1);
	assert_string_equal(cfg.services[0].processes[0], "abcdefghijklmno");
	config__free(&cfg);
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {process: abcdefghijklmnop}\n",
		     "t.yaml:3:22: match.process: process name \"abcdefghijklmnop\" is 16 "
		     "bytes, but the executable name it is matched against keeps only 15 "
		     "(as a comm): use the executable's absolute path");
	/* a long absolute path is fine */
	load_ok(&cfg,
		"services:\n"
		"  - name: a\n"
		"    match: {process: /opt/a-rather-long-directory/bin/server}\n");
	assert_string_equal(cfg.services[0].processes[0],
			    "/opt/a-rather-long-directory/bin/server");
	config__free(&cfg);

	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {process: bin/nginx}\n",
		     "t.yaml:3:22: match.process: \"bin/nginx\" is neither a process "
		     "name (no '/') nor an absolute path");
	expect_error_sub("services:\n"
			 "  - name: a\n"
			 "    match: {process: [nginx, /usr//bin/x]}\n",
			 "t.yaml:3:30: match.process[1]: \"/usr//bin/x\" ",
			 "not a canonical path");
	expect_error_sub("services:\n"
			 "  - name: a\n"
			 "    match: {process: /usr/bin/}\n",
			 "t.yaml:3:22: match.process: ", "not a canonical path");
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {process: \"\"}\n",
		     "t.yaml:3:22: match.process: empty process name");
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {process: \"ng\\tinx\"}\n",
		     "t.yaml:3:22: match.process: \"ng\\x09inx\" contains a control character");
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {process: {x: 1}}\n",
		     "t.yaml:3:22: match.process: expected a process or a list of processes, "
		     "got a mapping");
	/* a process is one service's only */
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {process: nginx}\n"
		     "  - name: b\n"
		     "    match: {process: [x, nginx]}\n",
		     "t.yaml:5:26: match.process[1]: process \"nginx\" is already matched "
		     "by service \"a\"");
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {process: [nginx, nginx]}\n",
		     "t.yaml:3:30: match.process[1]: duplicate process \"nginx\"");
}

/* Executable paths: each holds descriptors open in the agent, so they are bounded. */
static void test_exe_paths_bounded(void **state)
{
	struct slotap_config cfg;
	size_t size = 64 * (CONFIG_MAX_EXE_PATHS + 2);
	char *yaml = malloc(size), *o = yaml;

	(void)state;
	assert_non_null(yaml);
	o += sprintf(o, "services:\n  - name: a\n    match:\n      process:\n");
	for (int i = 0; i < CONFIG_MAX_EXE_PATHS; i++)
		o += sprintf(o, "        - /opt/bin/s%d\n", i);
	load_ok(&cfg, yaml);
	assert_int_equal(cfg.services[0].n_processes, CONFIG_MAX_EXE_PATHS);
	config__free(&cfg);
	/* names do not count, one more path does */
	o += sprintf(o, "        - nginx\n        - /opt/bin/one-more\n");
	expect_error(yaml, "t.yaml:134:11: match.process[129]: more than 128 executable paths "
		     "in all services");
	free(yaml);
}

static void test_cgroup(void **state)
{
	struct slotap_config cfg, other;
	char buf[64], long_path[CONFIG_CGROUP_PATH_MAX + 16], *yaml;
	const char *key;

	(void)state;
	load_ok(&cfg,
		"services:\n"
		"  - name: a\n"
		"    match: {cgroup: /system.slice/nginx.service}\n"
		"  - name: b\n"
		"    match:\n"
		"      port: 8080\n"
		"      cgroup: [/kubepods.slice/x.scope, \"/user.slice/user-1000.slice/a b\"]\n");
	assert_int_equal(cfg.services[0].n_cgroups, 1);
	assert_string_equal(cfg.services[0].cgroups[0], "/system.slice/nginx.service");
	assert_int_equal(cfg.services[1].n_cgroups, 2);
	assert_string_equal(cfg.services[1].cgroups[1], "/user.slice/user-1000.slice/a b");
	/* a changed cgroup needs new kernel programs (match_cgroups, at load) */
	load_ok(&other,
		"services:\n"
		"  - name: a\n"
		"    match: {cgroup: /system.slice/nginx.service}\n"
		"  - name: b\n"
		"    match:\n"
		"      port: 8080\n"
		"      cgroup: [/kubepods.slice/x.scope]\n");
	key = config__kernel_key(&cfg, &other, buf, sizeof(buf));
	assert_non_null(key);
	assert_string_equal(key, "services[1].match.cgroup");
	assert_null(config__kernel_key(&cfg, &cfg, buf, sizeof(buf)));
	config__free(&other);
	config__free(&cfg);

	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {cgroup: system.slice/nginx.service}\n",
		     "t.yaml:3:21: match.cgroup: \"system.slice/nginx.service\" is not a cgroup "
		     "path from the cgroup v2 root (starting with /, e.g. "
		     "/system.slice/nginx.service)");
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {cgroup: /}\n",
		     "t.yaml:3:21: match.cgroup: / is the root cgroup, every process: leave "
		     "services out to track every service");
	expect_error_sub("services:\n"
			 "  - name: a\n"
			 "    match: {cgroup: /system.slice/../user.slice}\n",
			 "t.yaml:3:21: match.cgroup: \"/system.slice/../user.slice\" ",
			 "not a canonical path");
	expect_error_sub("services:\n"
			 "  - name: a\n"
			 "    match: {cgroup: [/a, /a/./b]}\n",
			 "t.yaml:3:26: match.cgroup[1]: ", "not a canonical path");
	expect_error_sub("services:\n"
			 "  - name: a\n"
			 "    match: {cgroup: /a//b}\n",
			 "t.yaml:3:21: match.cgroup: ", "not a canonical path");
	expect_error_sub("services:\n"
			 "  - name: a\n"
			 "    match: {cgroup: /a/b/}\n",
			 "t.yaml:3:21: match.cgroup: ", "not a canonical path");
	expect_error_sub("services:\n"
			 "  - name: a\n"
			 "    match: {cgroup: /a/..}\n",
			 "t.yaml:3:21: match.cgroup: ", "not a canonical path");
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {cgroup: \"/a\\tb\"}\n",
		     "t.yaml:3:21: match.cgroup: \"/a\\x09b\" contains a control character");
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {cgroup: {x: 1}}\n",
		     "t.yaml:3:21: match.cgroup: expected a cgroup path or a list of cgroup "
		     "paths, got a mapping");
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {cgroup: []}\n",
		     "t.yaml:3:21: match.cgroup: empty list");
	/* a cgroup is one service's only */
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {cgroup: /a.service}\n"
		     "  - name: b\n"
		     "    match: {cgroup: [/b.service, /a.service]}\n",
		     "t.yaml:5:34: match.cgroup[1]: cgroup \"/a.service\" is already matched "
		     "by service \"a\"");
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {cgroup: [/a.service, /a.service]}\n",
		     "t.yaml:3:34: match.cgroup[1]: duplicate cgroup \"/a.service\"");
	/* too long: as a whole, and one component */
	memset(long_path, 'a', sizeof(long_path));
	long_path[0] = '/';
	long_path[CONFIG_CGROUP_PATH_MAX + 1] = '\0';
	yaml = malloc(2 * CONFIG_CGROUP_PATH_MAX);
	assert_non_null(yaml);
	sprintf(yaml, "services:\n  - name: a\n    match: {cgroup: %s}\n", long_path);
	expect_error_sub(yaml, "t.yaml:3:21: match.cgroup: \"/aaa", "is longer than 1024 bytes");
	long_path[257] = '\0';
	sprintf(yaml, "services:\n  - name: a\n    match: {cgroup: %s}\n", long_path);
	expect_error_sub(yaml, "t.yaml:3:21: match.cgroup: \"/aaa",
			 "has a component longer than 255 bytes");
	long_path[256] = '\0';
	sprintf(yaml, "services:\n  - name: a\n    match: {cgroup: %s}\n", long_path);
	load_ok(&cfg, yaml);
	config__free(&cfg);
	free(yaml);
}

static void test_routes(void **state)
{
	(void)state;
	/* the reason comes from route_template__validate() */
	expect_error_sub("services:\n"
			 "  - name: a\n"
			 "    match: {port: 1}\n"
			 "    routes: [\"/ok\", \"api\"]\n",
			 "t.yaml:4:21: routes[1]: ", "");
	expect_error_sub("services:\n"
			 "  - name: a\n"
			 "    match: {port: 1}\n"
			 "    routes: [\"/a/{id\"]\n",
			 "t.yaml:4:14: routes[0]: ", "");
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {port: 1}\n"
		     "    routes: [\"/a\", \"/a\"]\n",
		     "t.yaml:4:20: routes[1]: duplicate route \"/a\"");
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {port: 1}\n"
		     "    routes: /a\n",
		     "t.yaml:4:13: routes: expected a list of route templates, got \"/a\"");
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {port: 1}\n"
		     "    max_routes: 0\n",
		     "t.yaml:4:17: max_routes: 0 is not a route count (1..10000)");
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {port: 1}\n"
		     "    max_routes: lots\n",
		     "t.yaml:4:17: max_routes: \"lots\" is not a route count (1..10000)");
}

static void test_route_mode(void **state)
{
	struct slotap_config cfg;

	(void)state;
	/* the top-level mode is every service's default, wherever it is written */
	load_ok(&cfg, "services:\n"
		      "  - {name: a, match: {port: 1}}\n"
		      "  - {name: b, match: {port: 2}, route_mode: fold}\n"
		      "  - {name: c, match: {port: 3}, route_mode: strict}\n"
		      "route_mode: strict\n");
	assert_int_equal(cfg.route_mode, ROUTE_MODE_STRICT);
	assert_int_equal(cfg.services[0].route_mode, ROUTE_MODE_STRICT);
	assert_int_equal(cfg.services[1].route_mode, ROUTE_MODE_FOLD);
	assert_int_equal(cfg.services[2].route_mode, ROUTE_MODE_STRICT);
	config__free(&cfg);
	load_ok(&cfg, "services:\n"
		      "  - {name: a, match: {port: 1}}\n"
		      "  - {name: b, match: {port: 2}, route_mode: strict}\n");
	assert_int_equal(cfg.route_mode, ROUTE_MODE_FOLD);
	assert_int_equal(cfg.services[0].route_mode, ROUTE_MODE_FOLD);
	assert_int_equal(cfg.services[1].route_mode, ROUTE_MODE_STRICT);
	config__free(&cfg);

	expect_error("route_mode: STRICT\n",
		     "t.yaml:1:13: route_mode: \"STRICT\" is not a route mode (fold or strict)");
	expect_error("services:\n"
		     "  - {name: a, match: {port: 1}, route_mode: [strict]}\n",
		     "t.yaml:2:45: route_mode: expected a route mode, got a list");
}

static void test_type_errors(void **state)
{
	(void)state;
	expect_error("- a\n- b\n", "t.yaml:1:1: the top level must be a mapping, got a list");
	expect_error("hello\n", "t.yaml:1:1: the top level must be a mapping, got a scalar");
	expect_error("services: {a: 1}\n",
		     "t.yaml:1:11: services: expected a list, got a mapping");
	/* strict: write [] or leave the key out */
	expect_error("services:\n", "t.yaml:1:10: services: expected a list, got null");
	expect_error("services: [[1]]\n",
		     "t.yaml:1:12: services[0]: expected a mapping, got a list");
	expect_error("services: [shop]\n",
		     "t.yaml:1:12: services[0]: expected a mapping, got \"shop\"");
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: [80]\n",
		     "t.yaml:3:12: match: expected a mapping, got a list");
	expect_error("services:\n"
		     "  - name: a\n"
		     "    match: {port: {a: 1}}\n",
		     "t.yaml:3:19: match.port: expected a port or a list of ports, got a mapping");
	expect_error("max_routes_per_service: 0\n",
		     "t.yaml:1:25: max_routes_per_service: 0 is not a route count (1..10000)");
	expect_error("max_routes_per_service: 10001\n",
		     "t.yaml:1:25: max_routes_per_service: 10001 is not a route count (1..10000)");
	expect_error("max_routes_per_service: 1.5\n",
		     "t.yaml:1:25: max_routes_per_service: 1.5 is not a route count (1..10000)");
	expect_error("max_routes_per_service: [1]\n",
		     "t.yaml:1:25: max_routes_per_service: expected a route count, got a list");
}

static void test_threshold_errors(void **state)
{
	char yaml[512], *o = yaml;
	struct slotap_config cfg;
	int i;

	(void)state;
	expect_error("latency_thresholds: 1s\n",
		     "t.yaml:1:21: latency_thresholds: expected a list of durations, got \"1s\"");
	expect_error("latency_thresholds: []\n", "t.yaml:1:21: latency_thresholds: empty list");
	expect_error_sub("latency_thresholds: [1s, abc]\n",
			 "t.yaml:1:26: latency_thresholds[1]: \"abc\" is not a duration", "");
	expect_error_sub("latency_thresholds: [0s]\n",
			 "t.yaml:1:22: latency_thresholds[0]: \"0s\" is not a duration", "");
	expect_error_sub("latency_thresholds: [100]\n",
			 "t.yaml:1:22: latency_thresholds[0]: \"100\" is not a duration", "");
	expect_error("latency_thresholds: [[1s]]\n",
		     "t.yaml:1:22: latency_thresholds[0]: expected a duration, got a list");

	/* 32 is the limit, the default SLOs' 1s included */
	o += sprintf(o, "latency_thresholds: [");
	for (i = 1; i <= 31; i++)
		o += sprintf(o, "%dms, ", i);
	strcpy(o, "1s]\n");
	load_ok(&cfg, yaml);
	assert_int_equal(cfg.n_thresholds, 32);
	assert_int_equal(cfg.latency_thresholds_ns[30], MS(31));
	assert_int_equal(cfg.latency_thresholds_ns[31], MS(1000));
	config__free(&cfg);
	strcpy(o, "32ms]\n");
	expect_error(yaml, "t.yaml:1:21: latency_thresholds: 32 thresholds leave no room for the "
		     "1000ms of the default SLO default-latency: give one less, or default_slos");
	strcpy(o, "32ms]\ndefault_slos: []\n");
	load_ok(&cfg, yaml);
	assert_int_equal(cfg.n_thresholds, 32);
	assert_int_equal(cfg.latency_thresholds_ns[31], MS(32));
	config__free(&cfg);
	strcpy(o, "32ms, 33ms]\ndefault_slos: []\n");
	expect_error(yaml, "t.yaml:1:21: latency_thresholds: 33 thresholds, more than 32");
}

static void test_syntax_errors(void **state)
{
	(void)state;
	expect_error_sub("a: b: c\n", "t.yaml:1:5: invalid YAML: ",
			 "mapping values are not allowed in this context");
	expect_error_sub("services:\n\t- name: a\n", "t.yaml:2:1: invalid YAML: ",
			 "found character that cannot start any token");
	expect_error_sub("services: [\n", "t.yaml:2:1: invalid YAML: ",
			 "did not find expected node content");
	/* a syntax error after a schema error still wins: it is found first */
	expect_error_sub("bogus: 1\nx: [\n", "t.yaml:3:1: invalid YAML: ", "");
	/* invalid UTF-8, located by byte offset */
	expect_error("services: []\nx: \xff\n",
		     "t.yaml:2:4: invalid YAML: invalid leading UTF-8 octet (#xFF)");
	expect_error("services: []\n---\nservices: []\n",
		     "t.yaml:2:1: more than one slotap configuration document (the first starts at line 1): "
		     "the others must be OpenSLO documents (apiVersion: openslo/v1)");
}

static void test_error_buffer(void **state)
{
	struct slotap_config cfg;
	char err[8];

	(void)state;
	/* no buffer at all */
	assert_int_equal(config__load_string(&cfg, "x: [", 4, "t", NULL, 0), -EINVAL);
	assert_true(is_zeroed(&cfg));
	/* a small one is truncated, NUL-terminated */
	memset(err, 'z', sizeof(err));
	assert_int_equal(config__load_string(&cfg, "x: 1", 4, "t.yaml", err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "t.yaml:");
	/* the length is honoured: what follows is not parsed */
	assert_int_equal(config__load_string(&cfg, "{}garbage", 2, "t", NULL, 0), 0);
	assert_defaults(&cfg);
	config__free(&cfg);
}

static void test_durations(void **state)
{
	static const struct {
		const char *s;
		__u64 ns;
	} good[] = {
		{ "300ms", MS(300) },
		{ "1.5s", 1500000000ull },
		{ "250us", 250000 },
		{ "250\xc2\xb5s", 250000 },
		{ "100ns", 100 },
		{ "2m", 120000000000ull },
		{ "1h", 3600000000000ull },
		{ "0.5ms", 500000 },
		{ "1.25ms", 1250000 },
		{ "0.000000001s", 1 },
		{ "1.9ns", 1 },		/* fractions of a ns are truncated */
		{ "007s", 7000000000ull },
		{ "1.00000000005m", 60000000003ull },
		{ "18446744073709551615ns", UINT64_MAX },
		{ "18446744073.709551615s", UINT64_MAX },
		{ "5124095h", 5124095ull * 3600000000000ull },
	};
	static const char *const bad[] = {
		"", "0", "0s", "0.0ms", "0.1ns", "-1s", "+1s", "1", "s", "1.s", ".5s",
		"1x", "1 s", " 1s", "1s ", "1.5.s", "1sec", "1S", "1e3ms", "1h30m", "0x10s",
		"18446744073709551616ns",	/* 2^64 */
		"18446744073.709551616s",
		"18446744073.709551617s",	/* would wrap to 1 */
		"18446744074s",
		"5124096h",
		"99999999999999999999999999h",
	};
	__u64 v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 0;
		if (parse_duration_ns(good[i].s, &v) || v != good[i].ns)
			fail_msg("\"%s\": got %llu", good[i].s, (unsigned long long)v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 42;
		if (parse_duration_ns(bad[i], &v) != -EINVAL || v != 42)
			fail_msg("\"%s\" was accepted", bad[i]);
	}
	assert_int_equal(parse_duration_ns(NULL, &v), -EINVAL);
}

static char *write_tmp(const char *content, size_t len)
{
	char *path = strdup("/tmp/test_config.XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

static bool status_bad(const struct slo_config *s, unsigned code)
{
	return s->bad_status[code / 8] & (1u << (code % 8));
}

static void test_slos(void **state)
{
	static const char yaml[] =
		"services:\n"
		"  - name: shop\n"
		"    match: {port: 8080}\n"
		"  - name: billing\n"
		"    match: {port: 9000}\n"
		"slos:\n"
		"  - name: shop-availability\n"
		"    service: shop\n"
		"    endpoint: \"GET /api/items/{id}\"\n"
		"    sli: availability\n"
		"    objective: 99.5\n"
		"    window: 28d\n"
		"    bad_statuses: [5xx, 429]\n"
		"    budgeting: occurrences\n"
		"    transport_failures: ignore\n"
		"  - name: shop-latency\n"
		"    service: shop\n"
		"    sli: latency\n"
		"    threshold: 300ms\n"
		"    objective: 95\n"
		"    window: 4w\n"
		"    endpoint: [\"GET /a\", \"POST /users/{user}/orders\", \"OPTIONS /a\"]\n"
		"    budgeting: timeslices\n"
		"    transport_failures: bad\n"
		"  - name: billing.month\n"
		"    service: billing\n"
		"    sli: availability\n"
		"    objective: 99.95\n"
		"    window: month\n"
		"  - window: week\n"
		"    name: billing_week\n"
		"    objective: 90\n"
		"    threshold: 1s\n"
		"    sli: latency\n"
		"    service: billing\n"
		"  - name: rolling\n"
		"    service: billing\n"
		"    sli: availability\n"
		"    objective: 0.5\n"
		"    window: 90m\n"
		"    bad_statuses: [\"503\", 4XX]\n";
	static const __u64 thresholds[] = { MS(100), MS(250), MS(300), MS(500), MS(1000) };
	struct slotap_config cfg;
	const struct slo_config *s;
	unsigned code;
	size_t i;

	(void)state;
	load_ok(&cfg, yaml);
	assert_int_equal(cfg.n_slos, 5);

	s = &cfg.slos[0];
	assert_string_equal(s->name, "shop-availability");
	assert_string_equal(s->service, "shop");
	assert_int_equal(s->n_endpoints, 1);
	assert_string_equal(s->endpoints[0], "GET /api/items/{id}");
	assert_int_equal(s->sli, SLO_SLI_AVAILABILITY);
	/* the double nearest 0.995, not 99.5 / 100 computed some other way */
	assert_true(s->objective == 0.995);
	assert_true(s->objective == strtod("0.995", NULL));
	assert_int_equal(s->threshold_ns, 0);
	for (code = 0; code <= 599; code++)
		assert_int_equal(status_bad(s, code), code >= 500 || code == 429);
	assert_int_equal(s->window, SLO_WINDOW_ROLLING);
	assert_int_equal(s->window_s, 28 * 86400);
	assert_false(s->timeslices);
	assert_false(slo_config__counts_failures(s));

	s = &cfg.slos[1];
	assert_string_equal(s->name, "shop-latency");
	assert_int_equal(s->sli, SLO_SLI_LATENCY);
	assert_int_equal(s->threshold_ns, MS(300));
	assert_true(s->objective == 0.95);
	assert_int_equal(s->n_endpoints, 3);
	assert_string_equal(s->endpoints[0], "GET /a");
	assert_string_equal(s->endpoints[1], "POST /users/{user}/orders");
	assert_string_equal(s->endpoints[2], "OPTIONS /a");
	for (code = 0; code <= 599; code++)
		assert_false(status_bad(s, code));
	assert_int_equal(s->window, SLO_WINDOW_CALENDAR_4W);
	assert_int_equal(s->window_s, 0);
	assert_true(s->timeslices);
	assert_true(slo_config__counts_failures(s));

	s = &cfg.slos[2];
	assert_true(slo_config__counts_failures(s));	/* the default of availability SLOs */
	assert_false(slo_config__counts_failures(&cfg.slos[3]));	/* and of latency ones */
	assert_int_equal(s->n_endpoints, 0);
	assert_null(s->endpoints);
	assert_true(s->objective == 0.9995);
	/* the default: 5xx */
	for (code = 0; code <= 599; code++)
		assert_int_equal(status_bad(s, code), code >= 500);
	assert_int_equal(s->window, SLO_WINDOW_CALENDAR_MONTH);
	assert_int_equal(s->window_s, 0);
	assert_false(s->timeslices);

	s = &cfg.slos[3];
	assert_string_equal(s->name, "billing_week");
	assert_string_equal(s->service, "billing");
	assert_int_equal(s->window, SLO_WINDOW_CALENDAR_WEEK);
	assert_true(s->objective == 0.9);
	assert_int_equal(s->threshold_ns, MS(1000));

	s = &cfg.slos[4];
	assert_true(s->objective == 0.005);
	assert_int_equal(s->window, SLO_WINDOW_ROLLING);
	assert_int_equal(s->window_s, 5400);
	for (code = 0; code <= 599; code++)
		assert_int_equal(status_bad(s, code),
				 code == 503 || (code >= 400 && code <= 499));

	/* 300ms joins the defaults, 1s was one of them already */
	assert_int_equal(cfg.n_thresholds, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(cfg.latency_thresholds_ns[i], thresholds[i]);
	config__free(&cfg);
	assert_true(is_zeroed(&cfg));

	/* empty is fine, and so are no services: any service name goes */
	load_ok(&cfg, "slos: []\n");
	assert_defaults(&cfg);
	config__free(&cfg);
	load_ok(&cfg,
		"slos:\n"
		"  - {name: a, service: nginx, sli: availability, objective: 99, window: 7d}\n");
	assert_int_equal(cfg.n_slos, 1);
	assert_string_equal(cfg.slos[0].service, "nginx");
	assert_int_equal(cfg.slos[0].window_s, 7 * 86400);
	config__free(&cfg);
}

/* The rolling lengths the engine takes: whole buckets of 10 s .. 1 h. */
static void test_slo_windows(void **state)
{
	static const struct {
		const char *window;
		bool timeslices;
		__u64 s;
	} ok[] = {
		{ "60s", false, 60 }, { "1m", true, 60 }, { "70s", false, 70 },
		{ "30m", false, 1800 }, { "31m", false, 1860 },
		{ "6h", false, 21600 }, { "370m", false, 22200 },
		{ "1d", false, 86400 }, { "25h", false, 90000 },
		{ "1.5d", false, 129600 }, { "28d", true, 28 * 86400 },
		{ "31d", false, 31 * 86400 }, { "744h", false, 31 * 86400 },
	};
	static const struct {
		const char *window, *budgeting, *msg;
	} bad[] = {
		{ "3x", "occurrences", "\"3x\" is not a window (a rolling length such as 28d, 7d or 1h, or a calendar period: week, 4w or month)" },
		{ "2w", "occurrences", "\"2w\" is not a window (a rolling length such as 28d, 7d or 1h, or a calendar period: week, 4w or month)" },
		{ "Month", "occurrences", "\"Month\" is not a window (a rolling length such as 28d, 7d or 1h, or a calendar period: week, 4w or month)" },
		{ "d", "occurrences", "\"d\" is not a window (a rolling length such as 28d, 7d or 1h, or a calendar period: week, 4w or month)" },
		{ "59s", "occurrences", "\"59s\" is not a rolling window length from 1m to 31d" },
		{ "32d", "occurrences", "\"32d\" is not a rolling window length from 1m to 31d" },
		{ "60.5s", "occurrences", "\"60.5s\" is not a whole number of seconds" },
		{ "65s", "occurrences", "\"65s\" is not a multiple of 10s, the SLO engine's bucket for rolling windows up to 30m" },
		{ "70s", "timeslices", "\"70s\" is not a multiple of 1m, the SLO engine's bucket for rolling windows up to 6h (budgeting: timeslices)" },
		{ "1810s", "occurrences", "\"1810s\" is not a multiple of 1m, the SLO engine's bucket for rolling windows up to 6h" },
		{ "361m", "occurrences", "\"361m\" is not a multiple of 10m, the SLO engine's bucket for rolling windows up to 1d" },
		{ "1441m", "timeslices", "\"1441m\" is not a multiple of 1h, the SLO engine's bucket for rolling windows over 1d" },
		{ "27.51d", "occurrences", "\"27.51d\" is not a multiple of 1h, the SLO engine's bucket for rolling windows over 1d" },
	};
	struct slotap_config cfg;
	char yaml[256], want[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(yaml, sizeof(yaml),
			 "slos:\n"
			 "  - name: a\n"
			 "    service: shop\n"
			 "    sli: availability\n"
			 "    objective: 99\n"
			 "    budgeting: %s\n"
			 "    window: %s\n",
			 ok[i].timeslices ? "timeslices" : "occurrences", ok[i].window);
		load_ok(&cfg, yaml);
		assert_int_equal(cfg.slos[0].window, SLO_WINDOW_ROLLING);
		assert_int_equal(cfg.slos[0].window_s, ok[i].s);
		assert_int_equal(cfg.slos[0].timeslices, ok[i].timeslices);
		config__free(&cfg);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(yaml, sizeof(yaml),
			 "slos:\n"
			 "  - name: a\n"
			 "    service: shop\n"
			 "    sli: availability\n"
			 "    objective: 99\n"
			 "    window: %s\n"
			 "    budgeting: %s\n",
			 bad[i].window, bad[i].budgeting);
		snprintf(want, sizeof(want), "t.yaml:6:13: window: %s", bad[i].msg);
		expect_error(yaml, want);
	}
	expect_error("slos:\n"
		     "  - name: a\n"
		     "    window: [28d]\n",
		     "t.yaml:3:13: window: expected a window, got a list");
}

static void test_dependencies(void **state)
{
	static const char yaml[] =
		"services:\n"
		"  - name: shop\n"
		"    match: {port: 8080}\n"
		"dependencies:\n"
		"  - {name: payments, address: 10.0.0.7, port: 8443}\n"
		"  - {name: cache, port: 6379}\n"
		"  - {name: v6, address: \"::1\", port: 80}\n"
		"slos:\n"
		"  - name: payments-up\n"
		"    dependency: payments\n"
		"    sli: availability\n"
		"    objective: 99.9\n"
		"    window: 28d\n";
	static const __u8 v4[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 7 };
	static const __u8 other[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 8 };
	static const __u8 v6[16] = { [15] = 1 };
	struct slotap_config cfg;

	(void)state;
	load_ok(&cfg, yaml);
	assert_int_equal(cfg.n_dependencies, 3);
	assert_string_equal(cfg.dependencies[0].name, "payments");
	assert_false(cfg.dependencies[0].any_address);
	assert_true(cfg.dependencies[1].any_address);
	assert_int_equal(config__dependency_of(&cfg, v4, 8443), 0);
	assert_int_equal(config__dependency_of(&cfg, other, 8443), -1);
	assert_int_equal(config__dependency_of(&cfg, other, 6379), 1);
	assert_int_equal(config__dependency_of(&cfg, v6, 80), 2);
	assert_int_equal(config__dependency_of(&cfg, v4, 80), -1);
	assert_string_equal(cfg.slos[0].service, "payments");
	assert_true(cfg.slos[0].dependency);
	config__free(&cfg);

	/* a named address wins over any host on the port, listed before it or not */
	load_ok(&cfg, "dependencies:\n  - {name: any, port: 8443}\n"
		      "  - {name: payments, address: 10.0.0.7, port: 8443}\n");
	assert_int_equal(config__dependency_of(&cfg, v4, 8443), 1);
	assert_int_equal(config__dependency_of(&cfg, other, 8443), 0);
	config__free(&cfg);
	expect_error("dependencies:\n  - {name: a, port: 1}\n"
		     "slos:\n  - {name: s, service: x, dependency: a, sli: availability, objective: 99, window: 1d}\n",
		     "t.yaml:4:5: slos[0]: an SLO is about a service or a dependency, not both");
	expect_error("dependencies:\n  - {name: a}\n",
		     "t.yaml:2:5: dependencies[0]: missing required key \"port\"");
	expect_error("dependencies:\n  - {name: a, port: 1, address: db.local}\n",
		     "t.yaml:2:33: address: \"db.local\" is not an IPv4 or IPv6 address (host names are not resolved)");
	expect_error("dependencies:\n  - {name: a, port: 1}\n  - {name: a, port: 2}\n",
		     "t.yaml:3:12: duplicate dependency name \"a\"");
	expect_error("services:\n  - {name: shop, match: {port: 1}}\n"
		     "dependencies:\n  - {name: shop, port: 2}\n",
		     "t.yaml:4:12: name: \"shop\" is a service's name too");
	expect_error("dependencies:\n  - {name: a, port: 1}\n"
		     "slos:\n  - {name: s, dependency: b, sli: availability, objective: 99, window: 1d}\n",
		     "t.yaml:4:27: dependency: \"b\" is not one of the dependencies");
	expect_error("dependencies:\n  - {name: a, port: 1}\n"
		     "slos:\n  - {name: s, dependency: a, endpoint: \"GET /\", sli: availability, objective: 99, window: 1d}\n",
		     "t.yaml:4:5: slos[0]: an SLO about a dependency counts all its calls: it has no endpoint");
	expect_error("slos:\n  - {name: s, sli: availability, objective: 99, window: 1d}\n",
		     "t.yaml:2:5: slos[0]: missing required key \"service\" (or \"dependency\")");
}

#define SLO_HEAD	"slos:\n  - name: a\n    service: shop\n"

/* gRPC: bad_grpc_codes by name or number, its default, and "grpc pkg.Service/Method" */
static void test_slo_grpc(void **state)
{
	static const char yaml[] =
		"slos:\n"
		"  - name: a\n"
		"    service: shop\n"
		"    endpoint: [\"grpc shop.v1.Cart/Add\", \"GET /a\"]\n"
		"    sli: availability\n"
		"    objective: 99\n"
		"    window: 28d\n"
		"    bad_grpc_codes: [UNAVAILABLE, 4, resource_exhausted]\n"
		"  - name: b\n"
		"    service: shop\n"
		"    sli: availability\n"
		"    objective: 99\n"
		"    window: 28d\n"
		"    bad_statuses: 503\n"
		"  - name: c\n"
		"    service: shop\n"
		"    sli: latency\n"
		"    threshold: 100ms\n"
		"    objective: 99\n"
		"    window: 28d\n"
		"    streaming: include\n"
		"default_slos:\n"
		"  - name: d\n"
		"    sli: availability\n"
		"    objective: 99\n"
		"    window: 28d\n"
		"    bad_grpc_codes: INTERNAL\n";
	struct slotap_config cfg;

	(void)state;
	load_ok(&cfg, yaml);
	assert_int_equal(cfg.slos[0].bad_grpc_codes, (1u << 14) | (1u << 4) | (1u << 8));
	assert_string_equal(cfg.slos[0].endpoints[0], "grpc shop.v1.Cart/Add");
	assert_true(status_bad(&cfg.slos[0], 503));	/* bad_statuses keeps its default */
	assert_int_equal(cfg.slos[1].bad_grpc_codes, GRPC_BAD_CODES_DEFAULT);
	assert_int_equal(cfg.slos[1].bad_grpc_codes,
			 (1u << 2) | (1u << 4) | (1u << 12) | (1u << 13) | (1u << 14) | (1u << 15));
	assert_int_equal(cfg.slos[2].bad_grpc_codes, 0);
	assert_true(cfg.slos[2].streaming_include);
	assert_false(cfg.slos[0].streaming_include);
	assert_int_equal(cfg.default_slos[0].bad_grpc_codes, 1u << 13);
	config__free(&cfg);
	/* the built-in default availability SLO has the default codes */
	load_ok(&cfg, "{}\n");
	assert_int_equal(cfg.default_slos[0].sli, SLO_SLI_AVAILABILITY);
	assert_int_equal(cfg.default_slos[0].bad_grpc_codes, GRPC_BAD_CODES_DEFAULT);
	config__free(&cfg);

	expect_error(SLO_HEAD "    bad_grpc_codes: [OK, 17]\n",
		     "t.yaml:4:26: bad_grpc_codes[1]: 17 is not a gRPC status code (a name such as UNAVAILABLE, or 0..16)");
	expect_error(SLO_HEAD "    bad_grpc_codes: NOPE\n",
		     "t.yaml:4:21: bad_grpc_codes: \"NOPE\" is not a gRPC status code (a name such as UNAVAILABLE, or 0..16)");
	expect_error(SLO_HEAD "    bad_grpc_codes: [14, UNAVAILABLE]\n",
		     "t.yaml:4:26: bad_grpc_codes[1]: duplicate gRPC status code UNAVAILABLE");
	expect_error(SLO_HEAD "    bad_grpc_codes: []\n", "t.yaml:4:21: bad_grpc_codes: empty list");
	expect_error(SLO_HEAD "    bad_grpc_codes: {a: 1}\n",
		     "t.yaml:4:21: bad_grpc_codes: expected a gRPC status code, or a list of them, got a mapping");
	expect_error(SLO_HEAD "    sli: latency\n    threshold: 1s\n    objective: 99\n"
		     "    window: 28d\n    bad_grpc_codes: [14]\n",
		     "t.yaml:8:5: slos[0]: bad_grpc_codes is for availability SLOs, not latency ones");
	expect_error(SLO_HEAD "    sli: availability\n    objective: 99\n    window: 28d\n"
		     "    streaming: include\n",
		     "t.yaml:7:5: slos[0]: streaming is for latency SLOs, not availability ones");
	expect_error(SLO_HEAD "    sli: latency\n    threshold: 1s\n    objective: 99\n"
		     "    window: 28d\n    streaming: yes\n",
		     "t.yaml:8:16: streaming: \"yes\" is not include or exclude");
	expect_error(SLO_HEAD "    endpoint: \"grpc /shop.Cart/Add\"\n",
		     "t.yaml:4:15: endpoint: \"grpc /shop.Cart/Add\" is not \"grpc pkg.Service/Method\" (printable, one '/' between service and method, no braces)");
	expect_error(SLO_HEAD "    endpoint: \"grpc shop.Cart\"\n",
		     "t.yaml:4:15: endpoint: \"grpc shop.Cart\" is not \"grpc pkg.Service/Method\" (printable, one '/' between service and method, no braces)");
	expect_error(SLO_HEAD "    endpoint: \"grpc shop.Cart/{m}\"\n",
		     "t.yaml:4:15: endpoint: \"grpc shop.Cart/{m}\" is not \"grpc pkg.Service/Method\" (printable, one '/' between service and method, no braces)");
	/* Redis operations: the names the kernel tells apart, in upper case */
	expect_error(SLO_HEAD "    endpoint: \"redis get\"\n",
		     "t.yaml:4:15: endpoint: \"redis get\" is not \"redis COMMAND\" (a command name in upper case, e.g. \"redis GET\", or \"redis _OTHER\")");
	expect_error(SLO_HEAD "    endpoint: [\"redis GET\", \"redis NOSUCHCOMMAND\"]\n",
		     "t.yaml:4:29: endpoint[1]: \"redis NOSUCHCOMMAND\" is not \"redis COMMAND\" (a command name in upper case, e.g. \"redis GET\", or \"redis _OTHER\")");
}

static void test_slo_errors(void **state)
{
	(void)state;
	expect_error("slos: {}\n", "t.yaml:1:7: slos: expected a list, got a mapping");
	expect_error("slos: [a]\n", "t.yaml:1:8: slos[0]: expected a mapping, got \"a\"");
	/* unknown and missing keys */
	expect_error(SLO_HEAD
		     "    servce: shop\n",
		     "t.yaml:4:5: slos[0]: unknown key \"servce\"");
	expect_error(SLO_HEAD
		     "    objective: 99\n"
		     "    window: 28d\n",
		     "t.yaml:2:5: slos[0]: missing required key \"sli\"");
	expect_error("slos:\n"
		     "  - sli: availability\n",
		     "t.yaml:2:5: slos[0]: missing required key \"name\"");
	expect_error(SLO_HEAD
		     "    sli: availability\n"
		     "    objective: 99\n",
		     "t.yaml:2:5: slos[0]: missing required key \"window\"");
	expect_error(SLO_HEAD
		     "    sli: latency\n"
		     "    objective: 99\n"
		     "    window: 28d\n",
		     "t.yaml:2:5: slos[0]: missing required key \"threshold\" (latency SLOs need one)");
	expect_error(SLO_HEAD
		     "    sli: availability\n"
		     "    objective: 99\n"
		     "    threshold: 1s\n"
		     "    window: 28d\n",
		     "t.yaml:6:5: slos[0]: threshold is for latency SLOs, not availability ones");
	expect_error(SLO_HEAD
		     "    bad_statuses: 5xx\n"
		     "    sli: latency\n"
		     "    threshold: 1s\n"
		     "    objective: 99\n"
		     "    window: 28d\n",
		     "t.yaml:4:5: slos[0]: bad_statuses is for availability SLOs, not latency ones");
	expect_error(SLO_HEAD
		     "    sli: errors\n",
		     "t.yaml:4:10: sli: \"errors\" is not an SLI (availability or latency)");
	expect_error(SLO_HEAD
		     "    transport_failures: maybe\n",
		     "t.yaml:4:25: transport_failures: \"maybe\" is not bad or ignore");
	expect_error(SLO_HEAD
		     "    budgeting: minutes\n",
		     "t.yaml:4:16: budgeting: \"minutes\" is not a budgeting method (occurrences or timeslices)");
	expect_error(SLO_HEAD
		     "    threshold: 0ms\n",
		     "t.yaml:4:16: threshold: \"0ms\" is not a duration above zero (a number and ns, us, ms, s, m or h, e.g. 300ms)");
	expect_error("slos:\n"
		     "  - name: \"a b\"\n",
		     "t.yaml:2:11: name: \"a b\" is not a valid name (1..63 characters of A-Z a-z 0-9 _ . -)");
	expect_error("slos:\n"
		     "  - service: \"a/b\"\n",
		     "t.yaml:2:14: service: \"a/b\" is not a valid service name (1..63 characters of A-Z a-z 0-9 _ . -)");

	/* objective: a percentage strictly between 0 and 100 */
	expect_error(SLO_HEAD "    objective: 100\n",
		     "t.yaml:4:16: objective: 100 is not a percentage above 0 and below 100 (e.g. 99.5)");
	expect_error(SLO_HEAD "    objective: 0\n",
		     "t.yaml:4:16: objective: 0 is not a percentage above 0 and below 100 (e.g. 99.5)");
	expect_error(SLO_HEAD "    objective: 150\n",
		     "t.yaml:4:16: objective: 150 is not a percentage above 0 and below 100 (e.g. 99.5)");
	expect_error(SLO_HEAD "    objective: -5\n",
		     "t.yaml:4:16: objective: -5 is not a percentage above 0 and below 100 (e.g. 99.5)");
	expect_error(SLO_HEAD "    objective: 99.5%\n",
		     "t.yaml:4:16: objective: \"99.5%\" is not a percentage above 0 and below 100 (e.g. 99.5)");
	expect_error(SLO_HEAD "    objective: \"99\"\n",
		     "t.yaml:4:16: objective: \"99\" is not a percentage above 0 and below 100 (e.g. 99.5)");
	expect_error(SLO_HEAD "    objective: [99]\n",
		     "t.yaml:4:16: objective: expected a percentage, got a list");
	expect_error(SLO_HEAD "    objective: 99.99999999999\n",
		     "t.yaml:4:16: objective: 99.99999999999 rounds to 100 at the SLO engine's precision (1e-7 percent)");
	expect_error(SLO_HEAD "    objective: 0.00000000001\n",
		     "t.yaml:4:16: objective: 0.00000000001 rounds to 0 at the SLO engine's precision (1e-7 percent)");

	/* endpoints */
	expect_error(SLO_HEAD "    endpoint: \"FETCH /a\"\n",
		     "t.yaml:4:15: endpoint: \"FETCH /a\": \"FETCH\" is not a method "
		     "(GET HEAD POST PUT DELETE PATCH OPTIONS CONNECT TRACE, grpc or redis)");
	expect_error(SLO_HEAD "    endpoint: [\"GET /a\", get /b]\n",
		     "t.yaml:4:26: endpoint[1]: \"get /b\": \"get\" is not a method "
		     "(GET HEAD POST PUT DELETE PATCH OPTIONS CONNECT TRACE, grpc or redis)");
	/* user text stays on one line */
	expect_error(SLO_HEAD "    endpoint: \"G\\tT /a\"\n",
		     "t.yaml:4:15: endpoint: \"G\\x09T /a\": \"G\\x09T\" is not a method "
		     "(GET HEAD POST PUT DELETE PATCH OPTIONS CONNECT TRACE, grpc or redis)");
	expect_error(SLO_HEAD "    endpoint: /a\n",
		     "t.yaml:4:15: endpoint: \"/a\" is not \"METHOD /route\" (one space between, "
		     "e.g. \"GET /api/items/{id}\")");
	expect_error(SLO_HEAD "    endpoint: \"GET  /a\"\n",
		     "t.yaml:4:15: endpoint: \"GET  /a\" is not \"METHOD /route\" (one space between, "
		     "e.g. \"GET /api/items/{id}\")");
	/* the reason comes from route_template__validate() */
	expect_error_sub(SLO_HEAD "    endpoint: [\"GET /a\", \"GET a/{id\"]\n",
			 "t.yaml:4:26: endpoint[1]: \"GET a/{id\": route ", "");
	expect_error_sub(SLO_HEAD "    endpoint: \"GET /a/{id\"\n",
			 "t.yaml:4:15: endpoint: \"GET /a/{id\": route ", "{name}");
	expect_error(SLO_HEAD
		     "    endpoint: [\"GET /a\", \"PUT /a\", \"GET /a\"]\n"
		     "    sli: availability\n"
		     "    objective: 99\n"
		     "    window: 28d\n",
		     "t.yaml:4:36: endpoint[2]: duplicate endpoint \"GET /a\"");
	expect_error(SLO_HEAD "    endpoint: []\n", "t.yaml:4:15: endpoint: empty list");
	expect_error(SLO_HEAD "    endpoint: {GET: /a}\n",
		     "t.yaml:4:15: endpoint: expected an endpoint or a list of endpoints, got a mapping");

	/* bad_statuses */
	expect_error(SLO_HEAD "    bad_statuses: [5xx, 600]\n",
		     "t.yaml:4:25: bad_statuses[1]: 600 is not a status code (100..599) or class (1xx..5xx)");
	expect_error(SLO_HEAD "    bad_statuses: 6xx\n",
		     "t.yaml:4:19: bad_statuses: \"6xx\" is not a status code (100..599) or class (1xx..5xx)");
	expect_error(SLO_HEAD "    bad_statuses: [99]\n",
		     "t.yaml:4:20: bad_statuses[0]: 99 is not a status code (100..599) or class (1xx..5xx)");
	expect_error(SLO_HEAD "    bad_statuses: [503, 5xx]\n",
		     "t.yaml:4:25: bad_statuses[1]: 5xx includes 503, listed before");
	expect_error(SLO_HEAD "    bad_statuses: [5xx, 503]\n",
		     "t.yaml:4:25: bad_statuses[1]: 503 is already in 5xx");
	expect_error(SLO_HEAD "    bad_statuses: [429, 429]\n",
		     "t.yaml:4:25: bad_statuses[1]: duplicate status 429");
	expect_error(SLO_HEAD "    bad_statuses: [5xx, 5XX]\n",
		     "t.yaml:4:25: bad_statuses[1]: duplicate status class 5xx");
	expect_error(SLO_HEAD "    bad_statuses: []\n", "t.yaml:4:19: bad_statuses: empty list");
	expect_error(SLO_HEAD "    bad_statuses: {a: 1}\n",
		     "t.yaml:4:19: bad_statuses: expected a status code or class, or a list of them, "
		     "got a mapping");
	expect_error(SLO_HEAD "    bad_statuses: [[500]]\n",
		     "t.yaml:4:20: bad_statuses[0]: expected a status code or class, got a list");

	/* names are unique: the second is blamed */
	expect_error("slos:\n"
		     "  - {name: a, service: s, sli: availability, objective: 99, window: week}\n"
		     "  - {name: b, service: s, sli: availability, objective: 99, window: week}\n"
		     "  - {name: a, service: s, sli: availability, objective: 99, window: week}\n",
		     "t.yaml:4:12: duplicate SLO name \"a\" (the first is at 2:12)");
	/* with services, service names one of them */
	expect_error("services:\n"
		     "  - name: shop\n"
		     "    match: {port: 80}\n"
		     "  - name: billing\n"
		     "    match: {port: 81}\n"
		     "slos:\n"
		     "  - {name: a, service: billing, sli: availability, objective: 99, window: week}\n"
		     "  - name: b\n"
		     "    service: nope\n",
		     "t.yaml:9:14: service: \"nope\" is not one of the services");
	/* also when slos come first in the file */
	expect_error("slos:\n"
		     "  - name: a\n"
		     "    service: nope\n"
		     "services:\n"
		     "  - name: shop\n"
		     "    match: {port: 80}\n",
		     "t.yaml:3:14: service: \"nope\" is not one of the services");
}

/* Latency SLO thresholds are histogram bucket bounds too. */
static void test_slo_thresholds(void **state)
{
	char yaml[2048], *o = yaml;
	struct slotap_config cfg;
	int i;

	(void)state;
	load_ok(&cfg,
		"latency_thresholds: [1s]\n"
		"slos:\n"
		"  - {name: a, service: s, sli: latency, threshold: 250ms, objective: 99, window: week}\n"
		"  - {name: b, service: s, sli: latency, threshold: 2s, objective: 99, window: week}\n"
		"  - {name: c, service: s, sli: latency, threshold: 0.25s, objective: 90, window: week}\n"
		"  - {name: d, service: s, sli: latency, threshold: 1000ms, objective: 90, window: week}\n");
	assert_int_equal(cfg.n_thresholds, 3);
	assert_int_equal(cfg.latency_thresholds_ns[0], MS(250));
	assert_int_equal(cfg.latency_thresholds_ns[1], MS(1000));
	assert_int_equal(cfg.latency_thresholds_ns[2], MS(2000));
	config__free(&cfg);

	/* 31 configured, one new from the SLOs: 32, the limit */
	o += sprintf(o, "latency_thresholds: [");
	for (i = 1; i <= 31; i++)
		o += sprintf(o, "%dms, ", i);
	o += sprintf(o, "]\ndefault_slos: []\nslos:\n"
		     "  - {name: a, service: s, sli: latency, threshold: 5ms, objective: 99, window: week}\n"
		     "  - {name: b, service: s, sli: latency, threshold: 99ms, objective: 99, window: week}\n");
	load_ok(&cfg, yaml);
	assert_int_equal(cfg.n_thresholds, 32);
	assert_int_equal(cfg.latency_thresholds_ns[31], MS(99));
	config__free(&cfg);
	/* a second new one is one too many */
	sprintf(o, "  - {name: c, service: s, sli: latency, threshold: 98ms, objective: 99, window: week}\n");
	expect_error(yaml, "t.yaml:6:52: threshold: \"98ms\" would be latency threshold 33, more than 32 "
		     "(latency_thresholds and the thresholds of latency SLOs together)");
}


static void test_default_slos(void **state)
{
	static const __u64 thresholds[] = { MS(100), MS(250), MS(300), MS(500), MS(1000) };
	struct slotap_config cfg;
	const struct slo_config *s;
	size_t i;

	(void)state;
	/* replaced as a whole; thresholds merged like those of slos */
	load_ok(&cfg,
		"slos:\n"
		"  - {name: lat, service: shop, sli: latency, threshold: 1s, objective: 99, window: week}\n"
		"default_slos:\n"
		"  - name: lat\n"
		"    sli: latency\n"
		"    threshold: 300ms\n"
		"    objective: 99\n"
		"    window: 4w\n"
		"    budgeting: timeslices\n"
		"  - {name: avail, sli: availability, objective: 99.9, window: 7d, bad_statuses: [5xx, 429]}\n"
		"max_default_slos: 0\n");
	assert_int_equal(cfg.n_slos, 1);
	assert_int_equal(cfg.n_default_slos, 2);
	assert_int_equal(cfg.max_default_slos, 0);
	s = &cfg.default_slos[0];
	assert_string_equal(s->name, "lat");	/* names apart from those of slos */
	assert_null(s->service);
	assert_int_equal(s->threshold_ns, MS(300));
	assert_int_equal(s->window, SLO_WINDOW_CALENDAR_4W);
	assert_true(s->timeslices);
	s = &cfg.default_slos[1];
	assert_true(s->objective == 0.999);
	assert_int_equal(s->window_s, 7 * 86400);
	assert_true(s->bad_status[429 / 8] & (1u << (429 % 8)));
	assert_false(s->bad_status[404 / 8] & (1u << (404 % 8)));
	assert_int_equal(cfg.n_thresholds, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(cfg.latency_thresholds_ns[i], thresholds[i]);
	config__free(&cfg);
	assert_true(is_zeroed(&cfg));

	/* an empty list: none; max_default_slos alone keeps the default ones */
	load_ok(&cfg, "default_slos: []\n");
	assert_int_equal(cfg.n_default_slos, 0);
	assert_null(cfg.default_slos);
	assert_int_equal(cfg.max_default_slos, 1000);
	config__free(&cfg);
	load_ok(&cfg, "max_default_slos: 10000\n");
	assert_int_equal(cfg.max_default_slos, 10000);
	config__free(&cfg);
	load_ok(&cfg, "max_series_per_metric: 7\nmax_h2_connections: 1048576\nmax_h2_streams: 1\n");
	assert_int_equal(cfg.max_series_per_metric, 7);
	assert_int_equal(cfg.max_h2_connections, 1048576);
	assert_int_equal(cfg.max_h2_streams, 1);
	assert_int_equal(cfg.n_default_slos, 2);
	config__free(&cfg);

	/* the built-in ones bring their threshold, 1s, to configured thresholds */
	load_ok(&cfg, "latency_thresholds: [50ms]\n");
	assert_int_equal(cfg.n_thresholds, 2);
	assert_int_equal(cfg.latency_thresholds_ns[0], MS(50));
	assert_int_equal(cfg.latency_thresholds_ns[1], MS(1000));
	assert_default_slos(&cfg);
	config__free(&cfg);

	expect_error("default_slos: {}\n",
		     "t.yaml:1:15: default_slos: expected a list, got a mapping");
	expect_error("default_slos: [a]\n",
		     "t.yaml:1:16: default_slos[0]: expected a mapping, got \"a\"");
	expect_error("default_slos:\n"
		     "  - name: a\n"
		     "    service: shop\n"
		     "    sli: availability\n",
		     "t.yaml:3:5: default_slos[0]: a default SLO has no service: it applies to every "
		     "endpoint of every service (write an slos item for one)");
	expect_error("default_slos:\n"
		     "  - {name: a, sli: availability, objective: 90, window: 28d}\n"
		     "  - {name: b, sli: availability, endpoint: \"GET /\", objective: 90, window: 28d}\n",
		     "t.yaml:3:34: default_slos[1]: a default SLO has no endpoint: it applies to "
		     "every endpoint of every service (write an slos item for one)");
	expect_error("default_slos:\n"
		     "  - {sli: availability, objective: 90, window: 28d}\n",
		     "t.yaml:2:5: default_slos[0]: missing required key \"name\"");
	expect_error("default_slos:\n"
		     "  - {name: a, sli: latency, objective: 90, window: 28d}\n",
		     "t.yaml:2:5: default_slos[0]: missing required key \"threshold\" (latency SLOs need one)");
	expect_error("default_slos:\n"
		     "  - {name: a, sli: availability, objective: 100, window: 28d}\n",
		     "t.yaml:2:45: objective: 100 is not a percentage above 0 and below 100 (e.g. 99.5)");
	expect_error("default_slos:\n"
		     "  - {name: a, sli: availability, objective: 90, window: 25h30m}\n",
		     "t.yaml:2:57: window: \"25h30m\" is not a window (a rolling length such as 28d, "
		     "7d or 1h, or a calendar period: week, 4w or month)");
	expect_error("default_slos:\n"
		     "  - {name: a, sli: availability, objective: 90, window: 28d}\n"
		     "  - {name: a, sli: latency, threshold: 1s, objective: 90, window: 28d}\n",
		     "t.yaml:3:12: duplicate default SLO name \"a\" (the first is at 2:12)");
	expect_error("max_default_slos: 10001\n",
		     "t.yaml:1:19: max_default_slos: 10001 is not an SLO count (0..10000)");
	expect_error("max_default_slos: [1]\n",
		     "t.yaml:1:19: max_default_slos: expected an SLO count, got a list");
	expect_error("max_h2_connections: 0\n",
		     "t.yaml:1:21: max_h2_connections: 0 is not a connection count (1..1048576)");
	expect_error("max_h2_connections: 1048577\n",
		     "t.yaml:1:21: max_h2_connections: 1048577 is not a connection count (1..1048576)");
	expect_error("max_h2_streams: 4194305\n",
		     "t.yaml:1:17: max_h2_streams: 4194305 is not a stream count (1..4194304)");
	expect_error("max_h2_streams: 0\n",
		     "t.yaml:1:17: max_h2_streams: 0 is not a stream count (1..4194304)");
	expect_error("max_series_per_metric: 0\n",
		     "t.yaml:1:24: max_series_per_metric: 0 is not a series count (1..1000000)");
	expect_error("max_series_per_metric: 1000001\n",
		     "t.yaml:1:24: max_series_per_metric: 1000001 is not a series count (1..1000000)");
	{
		char yaml[2048], *o = yaml;

		o += sprintf(o, "default_slos:\n");
		for (i = 0; i <= CONFIG_MAX_DEFAULT_SLOS; i++)
			o += sprintf(o, "  - {name: d%zu, sli: availability, objective: 90, window: 28d}\n", i);
		expect_error(yaml, "t.yaml:2:3: default_slos: more than 16 default SLOs");
		/* 16 is fine */
		strcpy(strrchr(yaml, '\n') - strlen("  - {name: d16, sli: availability, objective: 90, window: 28d}"),
		       "\n");
		load_ok(&cfg, yaml);
		assert_int_equal(cfg.n_default_slos, 16);
		config__free(&cfg);
	}
}

static void test_load_file(void **state)
{
	static const char bad[] = "services:\n  - name: shop\n    match:\n      port: 70000\n";
	struct slotap_config cfg;
	char err[512], want[512];
	char *path, *big;

	(void)state;
	path = write_tmp("max_routes_per_service: 7\n", 26);
	memset(&cfg, 0xa5, sizeof(cfg));
	assert_int_equal(config__load_file(&cfg, path, err, sizeof(err)), 0);
	assert_string_equal(cfg.source, path);
	assert_int_equal(cfg.max_routes_per_service, 7);
	assert_int_equal(cfg.n_thresholds, 4);
	config__free(&cfg);
	unlink(path);
	free(path);

	path = write_tmp(bad, strlen(bad));
	assert_int_equal(config__load_file(&cfg, path, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:4:13: match.port: 70000 is not a port (1..65535)", path);
	assert_string_equal(err, want);
	assert_true(is_zeroed(&cfg));
	unlink(path);
	free(path);

	assert_int_equal(config__load_file(&cfg, "/nonexistent/slotap.yaml", err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "/nonexistent/slotap.yaml: No such file or directory");
	assert_true(is_zeroed(&cfg));
	assert_int_equal(config__load_file(&cfg, "/", err, sizeof(err)), -EISDIR);
	assert_string_equal(err, "/: Is a directory");

	/* exactly the limit loads; one byte more is refused unparsed */
	big = malloc(CONFIG_FILE_MAX + 1);
	assert_non_null(big);
	memset(big, '#', CONFIG_FILE_MAX + 1);
	big[CONFIG_FILE_MAX - 1] = '\n';
	path = write_tmp(big, CONFIG_FILE_MAX);
	assert_int_equal(config__load_file(&cfg, path, err, sizeof(err)), 0);
	assert_defaults(&cfg);
	config__free(&cfg);
	unlink(path);
	free(path);
	big[CONFIG_FILE_MAX] = '\n';
	path = write_tmp(big, CONFIG_FILE_MAX + 1);
	assert_int_equal(config__load_file(&cfg, path, err, sizeof(err)), -EFBIG);
	snprintf(want, sizeof(want), "%s: larger than %u bytes", path, CONFIG_FILE_MAX);
	assert_string_equal(err, want);
	assert_true(is_zeroed(&cfg));
	unlink(path);
	free(path);
	free(big);
}

/* min_events: top level for every SLO, per SLO its own; runbook_url as given. */
static void test_min_events_and_runbook(void **state)
{
	struct slotap_config cfg;

	(void)state;
	load_ok(&cfg, "slos:\n"
		"  - {name: a, service: s, sli: availability, objective: 99, window: 28d,\n"
		"     runbook_url: 'https://runbooks.example/a?x=1#y'}\n"
		"  - {name: b, service: s, sli: availability, objective: 99, window: 28d,\n"
		"     min_events: 0}\n");
	assert_int_equal(cfg.min_events, CONFIG_DEFAULT_MIN_EVENTS);
	assert_int_equal(cfg.slos[0].min_events, 20);
	assert_string_equal(cfg.slos[0].runbook_url, "https://runbooks.example/a?x=1#y");
	assert_int_equal(cfg.slos[1].min_events, 0);
	assert_null(cfg.slos[1].runbook_url);
	assert_int_equal(cfg.default_slos[0].min_events, 20);
	config__free(&cfg);

	load_ok(&cfg, "min_events: 5\n"
		"default_slos:\n"
		"  - {name: d, sli: availability, objective: 90, window: 28d, runbook_url: /rb}\n"
		"  - {name: e, sli: availability, objective: 90, window: 28d, min_events: 7}\n"
		"slos:\n"
		"  - {name: a, service: s, sli: availability, objective: 99, window: 28d}\n"
		"---\n"
		"apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: o}\n"
		"spec:\n  service: s\n  indicator:\n    spec:\n      thresholdMetric:\n"
		"        metricSource: {type: slotap}\n"
		"  timeWindow: [{duration: 28d, isRolling: true}]\n"
		"  budgetingMethod: Occurrences\n"
		"  objectives: [{op: lte, value: 0.3, target: 0.95}]\n");
	assert_int_equal(cfg.slos[0].min_events, 5);
	assert_int_equal(cfg.slos[1].min_events, 5);	/* the OpenSLO one */
	assert_int_equal(cfg.default_slos[0].min_events, 5);
	assert_string_equal(cfg.default_slos[0].runbook_url, "/rb");
	assert_int_equal(cfg.default_slos[1].min_events, 7);
	config__free(&cfg);

	expect_error("min_events: -1\n",
		     "t.yaml:1:13: min_events: -1 is not an event count (0..1000000000)");
	expect_error("slos:\n  - {name: a, service: s, sli: availability, objective: 99,"
		     " window: 28d, runbook_url: 'a b'}\n",
		     "t.yaml:2:87: runbook_url: \"a b\": printable ASCII without spaces, "
		     "quotes, backslashes or braces (Prometheus would read {{ }} as a template)");
	/* a template in the URL would make Prometheus refuse the generated rules */
	expect_error("slos:\n  - {name: a, service: s, sli: availability, objective: 99,"
		     " window: 28d, runbook_url: 'https://wiki/{{slo}}'}\n",
		     "t.yaml:2:87: runbook_url: \"https://wiki/{{slo}}\": printable ASCII without "
		     "spaces, quotes, backslashes or braces (Prometheus would read {{ }} as a "
		     "template)");
	expect_error("slos:\n  - {name: a, service: s, sli: availability, objective: 99,"
		     " window: 28d, runbook_url: ''}\n",
		     "t.yaml:2:87: runbook_url: a URL of 1 to 1024 bytes");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_config),
		cmocka_unit_test(test_default_config_example),
		cmocka_unit_test(test_empty_documents_are_defaults),
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_min_events_and_runbook),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_costly_yaml),
		cmocka_unit_test(test_port_errors),
		cmocka_unit_test(test_unknown_and_duplicate_keys),
		cmocka_unit_test(test_service_errors),
		cmocka_unit_test(test_name_length),
		cmocka_unit_test(test_process),
		cmocka_unit_test(test_exe_paths_bounded),
		cmocka_unit_test(test_cgroup),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_route_mode),
		cmocka_unit_test(test_type_errors),
		cmocka_unit_test(test_threshold_errors),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_slos),
		cmocka_unit_test(test_dependencies),
		cmocka_unit_test(test_slo_windows),
		cmocka_unit_test(test_slo_errors),
		cmocka_unit_test(test_slo_grpc),
		cmocka_unit_test(test_slo_thresholds),
		cmocka_unit_test(test_default_slos),
		cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
