// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Configuration loader. libyaml's document API builds the node graph; the
 * schema below walks it, so every message can point at the offending node.
 * Nothing is kept from a failed load: the result is built in a local
 * struct slotap_config and only handed over when complete.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "grpc.h"
#include "http_server.h"
#include "config.h"
#include "config_fields.h"
#include "errbuf.h"
#include "yaml_reader.h"
#include "openslo.h"
#include "route.h"
#include "slo.h"

const char config__default_yaml[] =
"# slotap configuration.\n"
"#\n"
"# Every key is optional: one left out takes the value shown here, and an\n"
"# empty file is the same as this one. Unknown keys are errors.\n"
"\n"
"# services: the HTTP servers to measure, each with:\n"
"#   name        required; 1-63 characters of A-Z a-z 0-9 _ . - and unique.\n"
"#   match       required, with port, process, cgroup, or several. A\n"
"#               connection belongs to the service whose port list has its\n"
"#               local port; failing that, to the one whose cgroup list has\n"
"#               its process's cgroup (the deepest such); failing that, to\n"
"#               the one whose executable path, then executable name, is\n"
"#               its process's.\n"
"#     port      a local port (1-65535) the server accepts on, or a list.\n"
"#     process   an executable, or a list. An absolute path matches the\n"
"#               processes running that file (symlinks followed), also\n"
"#               under another name or in another mount namespace; when the\n"
"#               path is replaced (an upgrade), the new file is matched\n"
"#               within a second and processes still running the old one\n"
"#               stay matched. A name without '/' is compared with the\n"
"#               basename of the process's executable, which the kernel\n"
"#               keeps to 15 bytes, so longer names are refused: give the\n"
"#               path. Neither looks at what a process says it is (its\n"
"#               comm or argv). A name matches whatever anyone runs under\n"
"#               that name, a path whoever may run that file: to select\n"
"#               one unit's processes, match its cgroup.\n"
"#     cgroup    a cgroup v2 path from the hierarchy's root, or a list, as\n"
"#               /proc/PID/cgroup shows it (/system.slice/nginx.service):\n"
"#               the processes in it and in the cgroups below it, moved\n"
"#               there by whoever may write its cgroup.procs, never by\n"
"#               themselves. One that does not exist yet is a warning and\n"
"#               is matched once it does (checked every second, as after\n"
"#               a unit's restart makes it anew). One more than 8\n"
"#               components deep matches the processes directly in it only.\n"
"#   routes      route templates tried in order, each a path whose {name}\n"
"#               segments stand for any one segment. Other paths: see\n"
"#               route_mode.\n"
"#   max_routes  the most distinct routes of the service (1-10000); new\n"
"#               routes beyond it are counted as __overflow__. Default:\n"
"#               max_routes_per_service.\n"
"#   route_mode  fold or strict, as route_mode below, for this service.\n"
"# A port, a process or a cgroup belongs to one service at most.\n"
"#\n"
"# With no services at all, as here, slotap tracks every listening TCP\n"
"# service on the node, as one service per executable name.\n"
"#\n"
"# services:\n"
"#   - name: shop\n"
"#     match:\n"
"#       port: [8080, 8443]\n"
"#       process: [nginx, /usr/local/bin/shop]\n"
"#     routes: [\"/api/items/{id}\", \"/api/users/{user}/orders\"]\n"
"#     max_routes: 200\n"
"#   - name: api\n"
"#     match:\n"
"#       cgroup: /system.slice/api.service\n"
"#   - name: billing\n"
"#     match:\n"
"#       port: 9000\n"
"services: []\n"
"\n"
"# dependencies: destinations of the tracked processes' outbound calls, named\n"
"# so that slos can be about them (dependency: NAME) and so that a service's\n"
"# bad requests that coincided with a failing call to one (a connect or call\n"
"# failure, or a 5xx) are counted against it\n"
"# (slotap_slo_bad_events_blamed_total). Each with:\n"
"#   name     required; as a service name, and no service's.\n"
"#   port     required; the destination port.\n"
"#   address  an IPv4 or IPv6 address; default: any host on that port.\n"
"#\n"
"# dependencies:\n"
"#   - name: payments\n"
"#     address: 10.0.0.7\n"
"#     port: 8443\n"
"dependencies: []\n"
"\n"
"# slos: service level objectives, each with:\n"
"#   name          required; 1-63 characters of A-Z a-z 0-9 _ . - and unique\n"
"#                 among the slos.\n"
"#   service       required; the name of the service it is about: one of\n"
"#                 services, or with none, a process name.\n"
"#   endpoint      \"METHOD /route\" (GET, HEAD, POST, PUT, DELETE, PATCH,\n"
"#                 OPTIONS, CONNECT or TRACE, one space, a route template as\n"
"#                 in routes), or a gRPC method, \"grpc pkg.Service/Method\",\n"
"#                 or a list of them: the SLO is then about their requests\n"
"#                 together. Default: every request of the service.\n"
"#   sli           required: availability (good: a status not in\n"
"#                 bad_statuses) or latency (good: answered within threshold).\n"
"#   objective     required; the percentage of good requests, above 0 and\n"
"#                 below 100, e.g. 99.5.\n"
"#   threshold     latency SLOs only, and required: a duration as in\n"
"#                 latency_thresholds, which it is added to.\n"
"#   window        required: rolling, a duration from 1m to 31d (units s, m,\n"
"#                 h, d) such as 28d; or calendar: week (from Monday 00:00\n"
"#                 UTC), 4w (four ISO weeks, from week 1, 5, ..., 49) or\n"
"#                 month. A rolling window is a whole number of the engine's\n"
"#                 buckets: over 1d whole hours, up to 1d whole 10m, up to 6h\n"
"#                 whole minutes, up to 30m multiples of 10s (of 1m with\n"
"#                 timeslices).\n"
"#   bad_statuses  availability SLOs only: the status codes (100-599) and\n"
"#                 classes (1xx-5xx) counted bad, or a list. Default: 5xx.\n"
"#   bad_grpc_codes  availability SLOs only: the gRPC status codes counted\n"
"#                 bad in gRPC calls (which bad_statuses does not judge), by\n"
"#                 name or number (0-16), or a list. Default: UNKNOWN,\n"
"#                 DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE,\n"
"#                 DATA_LOSS. A call whose status could not be decoded is\n"
"#                 neither good nor bad.\n"
"#   streaming     latency SLOs only: include or exclude the gRPC calls whose\n"
"#                 client still sent after the first response message\n"
"#                 (client or bidirectional streaming), measured to that\n"
"#                 message. Default: exclude.\n"
"#   budgeting     occurrences (the error budget counts requests) or\n"
"#                 timeslices (it counts minutes, a minute being good when its\n"
"#                 requests meet the objective). Default: occurrences.\n"
"#   dependency    instead of service: the name of one of dependencies; the\n"
"#                 SLO counts the calls tracked processes make to it (their\n"
"#                 status and latency, connect and call failures as bad).\n"
"#   transport_failures  bad or ignore: requests that failed below HTTP\n"
"#                 (connection refused or dropped by a full listen queue,\n"
"#                 reset or closed before any response, no response within\n"
"#                 request_timeout) count as bad events, or not at all.\n"
"#                 Refused and dropped connections have no endpoint: only\n"
"#                 SLOs about a whole service count them. Default: bad for\n"
"#                 availability SLOs, ignore for latency ones.\n"
"#   min_events    this SLO's own min_events (below).\n"
"#   runbook_url   a link for on-call, put in its alerts (slotap rules,\n"
"#                 the agent's alerts): printable ASCII without spaces.\n"
"#\n"
"# slos:\n"
"#   - name: shop-availability\n"
"#     service: shop\n"
"#     endpoint: \"GET /api/items/{id}\"\n"
"#     sli: availability\n"
"#     objective: 99.5\n"
"#     window: 28d\n"
"#     bad_statuses: [5xx, 429]\n"
"#   - name: shop-latency\n"
"#     service: shop\n"
"#     endpoint: [\"GET /api/items/{id}\", \"POST /api/users/{user}/orders\"]\n"
"#     sli: latency\n"
"#     threshold: 300ms\n"
"#     objective: 95\n"
"#     window: 4w\n"
"#     budgeting: timeslices\n"
"slos: []\n"
"\n"
"# default_slos: the SLOs every endpoint (a METHOD /route of a service) gets\n"
"# as soon as its first request is seen, one copy per endpoint, unless an\n"
"# explicit SLO with the same sli covers it: one naming the endpoint, or one\n"
"# about its whole service (that service then gets no default of that sli).\n"
"# Items as in slos, without service and endpoint; names unique among them\n"
"# (each copy is exported as slo=NAME with its service and endpoint). At most\n"
"# 16; default_slos: [] turns them off. These follow the book's example of a\n"
"# user-facing service (Establishing SRE Foundations, 6.7): 90% of each\n"
"# endpoint's requests available and 80% answered within 1s, over 28 days.\n"
"default_slos:\n"
"  - name: default-availability\n"
"    sli: availability\n"
"    objective: 90\n"
"    window: 28d\n"
"  - name: default-latency\n"
"    sli: latency\n"
"    threshold: 1s\n"
"    objective: 80\n"
"    window: 28d\n"
"\n"
"# The most default SLO copies (endpoints x default_slos), 0-10000. Each takes\n"
"# up to 24 KiB; endpoints seen once it is reached get none, and are counted\n"
"# in slotap_slo_default_instances_dropped_total.\n"
"max_default_slos: 1000\n"
"\n"
"# Low-traffic protection (0-1000000; 0: none): a burn-rate alert needs this\n"
"# many events in its long window (1h of the 1h & 5m rule, ...), a budget\n"
"# policy condition and the error budget this many in the SLO window (with\n"
"# budgeting: timeslices, minutes that had requests). Below it the SLO has\n"
"# insufficient data: slotap_slo_insufficient_data is 1, its budget NaN, no\n"
"# alert fires, so three requests an hour page no one. slotap rules writes\n"
"# the same condition into the Prometheus rules.\n"
"min_events: 20\n"
"\n"
"# Latency SLO thresholds, each an exact bucket bound (le) of the latency\n"
"# histograms: a number and a unit (ns, us, ms, s, m, h), e.g. 250ms or 1.5s.\n"
"# Sorted, duplicates dropped, 1 to 32 of them.\n"
"latency_thresholds: [100ms, 250ms, 500ms, 1s]\n"
"\n"
"# The default of every service's max_routes (1-10000).\n"
"max_routes_per_service: 100\n"
"\n"
"# What a path that no route template matches becomes, for the services\n"
"# without a route_mode of their own and the discovered ones: fold (the\n"
"# path, its segments that look like identifiers or secrets, such as\n"
"# numbers, UUIDs, e-mail addresses, tokens and keys, replaced by {id}) or\n"
"# strict (http_route=\"__other__\", so that only templates the operator\n"
"# wrote reach the labels).\n"
"route_mode: fold\n"
"\n"
"# The most series of each metric family (1-1000000): whoever sends or\n"
"# answers requests chooses label values (paths, statuses, process names),\n"
"# so every family has a cap. Events of further label combinations go to\n"
"# one series labelled otel_metric_overflow=\"true\" and are counted in\n"
"# slotap_metric_series_overflow_total. A latency histogram series takes\n"
"# about 4 KiB: 5000 is about 20 MiB per family at most.\n"
"max_series_per_metric: 5000\n"
"\n"
"# HTTP/2: the connections whose header compression state the agent follows\n"
"# (1-1048576; a few KiB each, at most about 10 KiB, plus header blocks sent\n"
"# in pieces while they are put together, 8 MiB for all: beyond, the least\n"
"# recently used is forgotten and counted in\n"
"# slotap_h2_connections_evicted_total), and the requests open at once on all\n"
"# of them (1-4194304; about 200 bytes each: beyond, a new one is not\n"
"# measured, counted in slotap_h2_streams_uncounted_total).\n"
"max_h2_connections: 16384\n"
"max_h2_streams: 65536\n"
"\n"
"# A request still unanswered after this long has failed (reason timeout):\n"
"# counted once, when the time passes, even while its connection stays open.\n"
"request_timeout: 30s\n";

/* Keep in step with config__default_yaml; the unit tests compare them. */
static const __u64 default_thresholds_ns[] = {
	100000000ull, 250000000ull, 500000000ull, 1000000000ull,
};

/* Keep in step with config__default_yaml's default_slos; the unit tests compare them. */
static const struct slo_config builtin_default_slos[] = {
	{
		.name = "default-availability", .sli = SLO_SLI_AVAILABILITY,
		.objective = 0.90, .window = SLO_WINDOW_ROLLING, .window_s = 28 * 86400,
	},
	{
		.name = "default-latency", .sli = SLO_SLI_LATENCY, .objective = 0.80,
		.threshold_ns = 1000000000ull, .window = SLO_WINDOW_ROLLING,
		.window_s = 28 * 86400,
	},
};

#define QUOTE_SIZE	YAML_READER_QUOTE_SIZE
#define MSG_SIZE	YAML_READER_MSG_SIZE
#define node_error(ld, n, path, ...)	yaml_reader__error(&(ld)->rd, n, path, __VA_ARGS__)

/*
 * The list n: at most max items, of elem_size bytes each, allocated
 * zeroed in *items (nothing for an empty list) with their number in
 * *count, for the caller to load one by one. 0, or -errno with the message
 * written ("more than MAX WHAT").
 */
static int list_alloc(struct loader *ld, const yaml_node_t *n, const char *key, size_t max,
		      const char *what, size_t elem_size, void **items, size_t *count)
{
	size_t len;

	if (n->type != YAML_SEQUENCE_NODE)
		return yaml_reader__type_error(&ld->rd, n, key, "a list");
	len = yaml_reader__len(n);
	if (len > max)
		return node_error(ld, n, key, "more than %zu %s", max, what);
	if (!len)
		return 0;
	*items = calloc(len, elem_size);
	if (!*items)
		return yaml_reader__oom(&ld->rd);
	*count = len;
	return 0;
}

int parse_duration_ns(const char *s, __u64 *out)
{
	static const struct {
		const char *unit;
		__u64 ns;
	} units[] = {
		{ "ns", 1 },
		{ "us", 1000 },
		{ "\xc2\xb5s", 1000 },	/* U+00B5 micro sign */
		{ "\xce\xbcs", 1000 },	/* U+03BC greek mu */
		{ "ms", 1000000 },
		{ "s", 1000000000ull },
		{ "m", 60 * 1000000000ull },
		{ "h", 3600 * 1000000000ull },
	};
	__u64 whole = 0, frac = 0, scale = 1, unit = 0, total, frac_ns;
	const char *p = s;
	int fdigits = 0;
	size_t i;

	if (!s || !(*p >= '0' && *p <= '9'))
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (UINT64_MAX - (__u64)(*p - '0')) / 10)
			return -EINVAL;
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		if (!(p[1] >= '0' && p[1] <= '9'))
			return -EINVAL;
		/* Digits past 10^-18 change nothing once truncated to ns. */
		for (p++; *p >= '0' && *p <= '9'; p++, fdigits++) {
			if (fdigits < 18) {
				frac = frac * 10 + (*p - '0');
				scale *= 10;
			}
		}
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(p, units[i].unit)) {
			unit = units[i].ns;
			break;
		}
	}
	if (!unit || whole > UINT64_MAX / unit)
		return -EINVAL;
	total = whole * unit;
	/* frac < scale, so this is below unit and fits */
	frac_ns = (__u64)((unsigned __int128)frac * unit / scale);
	if (total > UINT64_MAX - frac_ns)
		return -EINVAL;
	total += frac_ns;
	if (!total)
		return -EINVAL;
	*out = total;
	return 0;
}

/* A service's or an SLO's name: valid, copied, and unique among its kind. */
static int load_name(struct loader *ld, yaml_node_t *v, char **out, struct yaml_unique *names,
		     size_t owner)
{
	char q[QUOTE_SIZE];
	const char *s;
	int err;

	err = yaml_reader__get_string(&ld->rd, v, "name", "a string", &s);
	if (err)
		return err;
	if (!config_fields__valid_name(s))
		return node_error(ld, v, "name",
				  "%s is not a valid name (1..%d characters of A-Z a-z 0-9 _ . -)",
				  yaml_reader__quote(q, s, strlen(s)), CONFIG_NAME_MAX);
	*out = strdup(s);
	if (!*out)
		return yaml_reader__oom(&ld->rd);
	return yaml_unique__add(&ld->rd, names, *out, v, owner, -1);
}

static int add_port(struct loader *ld, struct slotap_config *cfg, size_t svc,
		    const yaml_node_t *n, long idx)
{
	struct service_config *sc = &cfg->services[svc];
	char path[48], q[QUOTE_SIZE];
	unsigned long port;
	size_t i, j;
	int err;

	yaml_reader__item_path(path, sizeof(path), "match.port", idx);
	err = yaml_reader__get_uint(&ld->rd, n, path, "a port", 1, 65535, &port);
	if (err)
		return err;
	if (ld->port_seen[port / 8] & (1u << (port % 8))) {
		for (i = 0; i <= svc; i++) {
			for (j = 0; j < cfg->services[i].n_ports; j++) {
				if (cfg->services[i].ports[j] != port)
					continue;
				if (i == svc)
					return node_error(ld, n, path,
							  "duplicate port %lu",
							  port);
				return node_error(ld, n, path,
						  "port %lu is already matched by service %s",
						  port,
						  yaml_reader__quote(q, cfg->services[i].name,
								     strlen(cfg->services[i].name)));
			}
		}
	}
	ld->port_seen[port / 8] |= 1u << (port % 8);
	sc->ports[sc->n_ports++] = port;
	return 0;
}

/* A match string: no control characters; *s and its quote q for messages. */
static int get_match_string(struct loader *ld, const yaml_node_t *n, const char *path,
			    const char *expected, const char **s, char q[QUOTE_SIZE])
{
	int err = yaml_reader__get_string(&ld->rd, n, path, expected, s);

	if (err)
		return err;
	yaml_reader__quote(q, *s, strlen(*s));
	for (const char *c = *s; *c; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return node_error(ld, n, path, "%s contains a control character", q);
	}
	return 0;
}

static int add_process(struct loader *ld, struct service_config *sc,
		       size_t svc, const yaml_node_t *n, long idx)
{
	char path[48], q[QUOTE_SIZE];
	const char *s;
	size_t len;
	int err;

	yaml_reader__item_path(path, sizeof(path), "match.process", idx);
	err = get_match_string(ld, n, path, "a process name or path", &s, q);
	if (err)
		return err;
	len = strlen(s);
	if (s[0] == '/') {
		if (len >= PATH_MAX)
			return node_error(ld, n, path,
					  "%s is longer than PATH_MAX", q);
		/* it is compared with readlink(/proc/PID/exe), canonical */
		if (strstr(s, "//") || strstr(s, "/./") || strstr(s, "/../") ||
		    s[len - 1] == '/' || !strcmp(s + len - 2, "/.") ||
		    (len >= 3 && !strcmp(s + len - 3, "/..")))
			return node_error(ld, n, path,
					  "%s is not a canonical path (no //, /./, /../ or trailing / or /. or /..)",
					  q);
	} else if (strchr(s, '/')) {
		return node_error(ld, n, path,
				  "%s is neither a process name (no '/') nor an absolute path",
				  q);
	} else if (!len) {
		return node_error(ld, n, path, "empty process name");
	} else if (len > CONFIG_EXE_NAME_MAX) {
		return node_error(ld, n, path,
				  "process name %s is %zu bytes, but the executable name it is matched against keeps only %d (as a comm): use the executable's absolute path",
				  q, len, CONFIG_EXE_NAME_MAX);
	}
	if (s[0] == '/' && ++ld->n_exe_paths > CONFIG_MAX_EXE_PATHS)
		return node_error(ld, n, path,
				  "more than %d executable paths in all services",
				  CONFIG_MAX_EXE_PATHS);
	sc->processes[sc->n_processes] = strdup(s);
	if (!sc->processes[sc->n_processes])
		return yaml_reader__oom(&ld->rd);
	sc->n_processes++;
	return yaml_unique__add(&ld->rd, &ld->processes, sc->processes[sc->n_processes - 1],
				n, svc, idx);
}

/*
 * A cgroup v2 path from the hierarchy's root, as systemd and
 * /proc/PID/cgroup write it: the agent finds it under the cgroup2 mount.
 */
static int add_cgroup(struct loader *ld, struct service_config *sc,
		      size_t svc, const yaml_node_t *n, long idx)
{
	char path[48], q[QUOTE_SIZE];
	const char *s, *c;
	size_t len;
	int err;

	yaml_reader__item_path(path, sizeof(path), "match.cgroup", idx);
	err = get_match_string(ld, n, path, "a cgroup path", &s, q);
	if (err)
		return err;
	len = strlen(s);
	if (s[0] != '/')
		return node_error(ld, n, path,
				  "%s is not a cgroup path from the cgroup v2 root (starting with /, e.g. /system.slice/nginx.service)",
				  q);
	if (len == 1)
		return node_error(ld, n, path,
				  "/ is the root cgroup, every process: leave services out to track every service");
	if (len > CONFIG_CGROUP_PATH_MAX)
		return node_error(ld, n, path, "%s is longer than %d bytes", q,
				  CONFIG_CGROUP_PATH_MAX);
	for (c = s; *c; ) {
		const char *end = strchrnul(c + 1, '/');
		size_t part = end - c - 1;

		/* c is at a '/': the component is c + 1 .. end */
		if (!part || (part == 1 && c[1] == '.') || (part == 2 && !strncmp(c + 1, "..", 2)))
			return node_error(ld, n, path,
					  "%s is not a canonical path (no //, /./, /../ or trailing /)",
					  q);
		if (part > 255)
			return node_error(ld, n, path,
					  "%s has a component longer than 255 bytes", q);
		c = end;
	}
	if (ld->cgroups.n >= CONFIG_MAX_CGROUPS)
		return node_error(ld, n, path, "more than %d cgroups in all services",
				  CONFIG_MAX_CGROUPS);
	sc->cgroups[sc->n_cgroups] = strdup(s);
	if (!sc->cgroups[sc->n_cgroups])
		return yaml_reader__oom(&ld->rd);
	sc->n_cgroups++;
	return yaml_unique__add(&ld->rd, &ld->cgroups, sc->cgroups[sc->n_cgroups - 1],
				n, svc, idx);
}

static int load_match(struct loader *ld, struct slotap_config *cfg,
		      size_t svc, const yaml_node_t *n)
{
	static const char *const keys[] = { "port", "process", "cgroup", NULL };
	static const char *const paths[] = { "match.port", "match.process", "match.cgroup" };
	static const char *const types[] = {
		"a port or a list of ports", "a process or a list of processes",
		"a cgroup path or a list of cgroup paths",
	};
	enum { K_PORT, K_PROCESS, K_CGROUP };
	struct service_config *sc = &cfg->services[svc];
	struct yaml_fields f;
	int err, k;
	size_t i;

	err = yaml_reader__walk(&ld->rd, n, "match", keys, &f);
	if (err)
		return err;
	for (unsigned at = 0; at < f.n; at++) {
		yaml_node_t *v = f.val[k = f.order[at]];
		bool list = v->type == YAML_SEQUENCE_NODE;
		size_t count = list ? yaml_reader__len(v) : 1;
		void *items;

		if (v->type == YAML_MAPPING_NODE)
			return yaml_reader__type_error(&ld->rd, v, paths[k], types[k]);
		if (!count)
			return node_error(ld, v, paths[k], "empty list");
		if (k == K_PORT)
			items = sc->ports = calloc(count, sizeof(*sc->ports));
		else if (k == K_PROCESS)
			items = sc->processes = calloc(count, sizeof(*sc->processes));
		else
			items = sc->cgroups = calloc(count, sizeof(*sc->cgroups));
		if (!items)
			return yaml_reader__oom(&ld->rd);
		for (i = 0; i < count; i++) {
			yaml_node_t *item = list ? yaml_reader__item(&ld->rd, v, i) : v;
			long idx = list ? (long)i : -1;

			if (k == K_PORT)
				err = add_port(ld, cfg, svc, item, idx);
			else if (k == K_PROCESS)
				err = add_process(ld, sc, svc, item, idx);
			else
				err = add_cgroup(ld, sc, svc, item, idx);
			if (err)
				return err;
		}
	}
	if (!f.seen)
		return node_error(ld, n, "match", "needs port, process or cgroup");
	return 0;
}

static int load_routes(struct loader *ld, struct service_config *sc,
		       size_t svc, const yaml_node_t *n)
{
	size_t i, count;
	char path[48];
	int err;

	if (n->type != YAML_SEQUENCE_NODE)
		return yaml_reader__type_error(&ld->rd, n, "routes", "a list of route templates");
	count = yaml_reader__len(n);
	if (count > CONFIG_ROUTES_LIMIT)
		return node_error(ld, n, "routes", "more than %d routes",
				  CONFIG_ROUTES_LIMIT);
	if (!count)
		return 0;
	sc->routes = calloc(count, sizeof(*sc->routes));
	if (!sc->routes)
		return yaml_reader__oom(&ld->rd);
	for (i = 0; i < count; i++) {
		yaml_node_t *item = yaml_reader__item(&ld->rd, n, i);
		char msg[MSG_SIZE];
		const char *s;

		yaml_reader__item_path(path, sizeof(path), "routes", i);
		err = yaml_reader__get_string(&ld->rd, item, path, "a route template", &s);
		if (err)
			return err;
		msg[0] = '\0';
		if (route_template__validate(s, msg, sizeof(msg)))
			return node_error(ld, item, path, "%s",
					  msg[0] ? msg : "invalid route template");
		sc->routes[sc->n_routes] = strdup(s);
		if (!sc->routes[sc->n_routes])
			return yaml_reader__oom(&ld->rd);
		sc->n_routes++;
		err = yaml_unique__add(&ld->rd, &ld->routes, sc->routes[sc->n_routes - 1],
				       item, svc, i);
		if (err)
			return err;
	}
	return 0;
}

static int load_route_mode(struct loader *ld, const yaml_node_t *n, enum route_mode *mode)
{
	int word = 0, err;

	err = yaml_reader__get_keyword(&ld->rd, n, "route_mode", "a route mode",
				       "a route mode (fold or strict)",
				       (const char *const[]){ "fold", "strict", NULL }, &word);
	*mode = word ? ROUTE_MODE_STRICT : ROUTE_MODE_FOLD;
	return err;
}

static int load_service(struct loader *ld, struct slotap_config *cfg,
			size_t svc, const yaml_node_t *n)
{
	static const char *const keys[] = {
		"name", "match", "routes", "max_routes", "route_mode", NULL
	};
	enum { K_NAME, K_MATCH, K_ROUTES, K_MAX_ROUTES, K_ROUTE_MODE };
	struct service_config *sc = &cfg->services[svc];
	struct yaml_fields f;
	char path[48];
	unsigned long max = 0;
	int err;

	sc->route_mode = cfg->route_mode;
	snprintf(path, sizeof(path), "services[%zu]", svc);
	err = yaml_reader__walk(&ld->rd, n, path, keys, &f);
	if (err)
		return err;
	for (unsigned at = 0; at < f.n; at++) {
		yaml_node_t *v = f.val[f.order[at]];

		switch (f.order[at]) {
		case K_NAME:
			err = load_name(ld, v, &sc->name, &ld->names, svc);
			break;
		case K_MATCH:
			err = load_match(ld, cfg, svc, v);
			break;
		case K_ROUTES:
			err = load_routes(ld, sc, svc, v);
			break;
		case K_MAX_ROUTES:
			err = yaml_reader__get_uint(&ld->rd, v, "max_routes", "a route count", 1,
						    CONFIG_ROUTES_LIMIT, &max);
			sc->max_routes = max;
			break;
		case K_ROUTE_MODE:
			err = load_route_mode(ld, v, &sc->route_mode);
			break;
		}
		if (err)
			return err;
	}
	return yaml_reader__require(&ld->rd, n, path, keys, &f, (1u << K_NAME) | (1u << K_MATCH));
}

static int load_services(struct loader *ld, struct slotap_config *cfg,
			 const yaml_node_t *n)
{
	const struct yaml_unique_str *dup, *first = NULL;
	char q[QUOTE_SIZE], q2[QUOTE_SIZE], path[48];
	size_t i, count;
	int err;

	err = list_alloc(ld, n, "services", CONFIG_MAX_SERVICES, "services",
			 sizeof(*cfg->services), (void **)&cfg->services, &cfg->n_services);
	if (err || !(count = cfg->n_services))
		return err;
	for (i = 0; i < count; i++) {
		err = load_service(ld, cfg, i, yaml_reader__item(&ld->rd, n, i));
		if (err)
			return err;
	}

	dup = yaml_unique__first_dup(&ld->names, false, &first);
	if (dup)
		return node_error(ld, dup->node, NULL,
				  "duplicate service name %s",
				  yaml_reader__quote(q, dup->s, strlen(dup->s)));
	dup = yaml_unique__first_dup(&ld->processes, false, &first);
	if (dup) {
		yaml_reader__item_path(path, sizeof(path), "match.process", dup->idx);
		if (dup->owner == first->owner)
			return node_error(ld, dup->node, path,
					  "duplicate process %s",
					  yaml_reader__quote(q, dup->s, strlen(dup->s)));
		return node_error(ld, dup->node, path,
				  "process %s is already matched by service %s",
				  yaml_reader__quote(q, dup->s, strlen(dup->s)),
				  yaml_reader__quote(q2, cfg->services[first->owner].name,
						     strlen(cfg->services[first->owner].name)));
	}
	dup = yaml_unique__first_dup(&ld->cgroups, false, &first);
	if (dup) {
		yaml_reader__item_path(path, sizeof(path), "match.cgroup", dup->idx);
		if (dup->owner == first->owner)
			return node_error(ld, dup->node, path, "duplicate cgroup %s",
					  yaml_reader__quote(q, dup->s, strlen(dup->s)));
		return node_error(ld, dup->node, path,
				  "cgroup %s is already matched by service %s",
				  yaml_reader__quote(q, dup->s, strlen(dup->s)),
				  yaml_reader__quote(q2, cfg->services[first->owner].name,
						     strlen(cfg->services[first->owner].name)));
	}
	dup = yaml_unique__first_dup(&ld->routes, true, &first);
	if (dup) {
		yaml_reader__item_path(path, sizeof(path), "routes", dup->idx);
		return node_error(ld, dup->node, path, "duplicate route %s",
				  yaml_reader__quote(q, dup->s, strlen(dup->s)));
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static int load_thresholds(struct loader *ld, struct slotap_config *cfg,
			   const yaml_node_t *n)
{
	size_t i, j, count;
	char path[48], q[QUOTE_SIZE];
	const char *s;
	int err;

	if (n->type != YAML_SEQUENCE_NODE)
		return yaml_reader__type_error(&ld->rd, n, "latency_thresholds",
					       "a list of durations");
	count = yaml_reader__len(n);
	if (!count)
		return node_error(ld, n, "latency_thresholds", "empty list");
	if (count > CONFIG_MAX_THRESHOLDS)
		return node_error(ld, n, "latency_thresholds",
				  "%zu thresholds, more than %d", count,
				  CONFIG_MAX_THRESHOLDS);
	cfg->latency_thresholds_ns = calloc(count, sizeof(__u64));
	if (!cfg->latency_thresholds_ns)
		return yaml_reader__oom(&ld->rd);
	for (i = 0; i < count; i++) {
		yaml_node_t *item = yaml_reader__item(&ld->rd, n, i);

		yaml_reader__item_path(path, sizeof(path), "latency_thresholds", i);
		err = yaml_reader__get_string(&ld->rd, item, path, "a duration", &s);
		if (err)
			return err;
		if (parse_duration_ns(s, &cfg->latency_thresholds_ns[i]))
			return node_error(ld, item, path,
					  "%s is not a duration above zero (a number and ns, us, ms, s, m or h, e.g. 300ms)",
					  yaml_reader__quote(q, s, strlen(s)));
	}
	qsort(cfg->latency_thresholds_ns, count, sizeof(__u64), cmp_u64);
	for (i = 1, j = 1; i < count; i++)
		if (cfg->latency_thresholds_ns[i] != cfg->latency_thresholds_ns[j - 1])
			cfg->latency_thresholds_ns[j++] = cfg->latency_thresholds_ns[i];
	cfg->n_thresholds = j;
	return 0;
}

/* ---- slos ---------------------------------------------------------------- */

static int load_window(struct loader *ld, struct slo_config *sc,
		       const yaml_node_t *v)
{
	char q[QUOTE_SIZE], buf[32];
	const char *s;
	__u64 ns = 0;
	size_t len;
	int err;

	err = yaml_reader__get_string(&ld->rd, v, "window", "a window", &s);
	if (err)
		return err;
	yaml_reader__quote(q, s, strlen(s));
	sc->window_s = 0;
	if (!strcmp(s, "week")) {
		sc->window = SLO_WINDOW_CALENDAR_WEEK;
		return 0;
	}
	if (!strcmp(s, "4w")) {
		sc->window = SLO_WINDOW_CALENDAR_4W;
		return 0;
	}
	if (!strcmp(s, "month")) {
		sc->window = SLO_WINDOW_CALENDAR_MONTH;
		return 0;
	}
	sc->window = SLO_WINDOW_ROLLING;
	len = strlen(s);
	if (len > 1 && len < sizeof(buf) && s[len - 1] == 'd') {
		/* days: as hours, times 24 */
		memcpy(buf, s, len + 1);
		buf[len - 1] = 'h';
		err = parse_duration_ns(buf, &ns);
		if (!err && ns > UINT64_MAX / 24)
			err = -EINVAL;
		if (!err)
			ns *= 24;
	} else {
		err = parse_duration_ns(s, &ns);
	}
	if (err)
		return node_error(ld, v, "window",
				  "%s is not a window (a rolling length such as 28d, 7d or 1h, or a calendar period: week, 4w or month)",
				  q);
	if (ns % 1000000000ull)
		return node_error(ld, v, "window",
				  "%s is not a whole number of seconds", q);
	if (ns < 60 * 1000000000ull || ns / 1000000000ull > SLO_WINDOW_MAX_S)
		return node_error(ld, v, "window",
				  "%s is not a rolling window length from 1m to 31d",
				  q);
	sc->window_s = ns / 1000000000ull;
	return 0;
}

/* One dependencies item: {name, port, address}. */
static int load_dependency(struct loader *ld, struct slotap_config *cfg, size_t idx,
			   const yaml_node_t *n)
{
	static const char *const keys[] = { "name", "port", "address", NULL };
	enum { K_NAME, K_PORT, K_ADDRESS };
	struct dependency_config *dc = &cfg->dependencies[idx];
	char path[48], q[QUOTE_SIZE];
	struct yaml_fields f;
	unsigned long port;
	struct in_addr v4;
	const char *s;
	int err = 0;

	snprintf(path, sizeof(path), "dependencies[%zu]", idx);
	err = yaml_reader__walk(&ld->rd, n, path, keys, &f);
	if (err)
		return err;
	dc->any_address = true;
	for (unsigned at = 0; at < f.n; at++) {
		yaml_node_t *v = f.val[f.order[at]];

		switch (f.order[at]) {
		case K_NAME:
			err = load_name(ld, v, &dc->name, &ld->dependency_names, idx);
			if (!err && yaml_unique__find(&ld->names, dc->name))
				err = node_error(ld, v, "name", "%s is a service's name too",
						 yaml_reader__quote(q, dc->name, strlen(dc->name)));
			break;
		case K_PORT:
			err = yaml_reader__get_uint(&ld->rd, v, "port", "a port", 1, 65535, &port);
			dc->port = port;
			break;
		case K_ADDRESS:
			err = yaml_reader__get_string(&ld->rd, v, "address", "an IP address", &s);
			if (err)
				return err;
			dc->any_address = false;
			if (inet_pton(AF_INET, s, &v4) == 1) {
				/* as the kernel side stores IPv4 peers: ::ffff:a.b.c.d */
				memset(dc->address, 0, 10);
				memset(dc->address + 10, 0xff, 2);
				memcpy(dc->address + 12, &v4, 4);
			} else if (inet_pton(AF_INET6, s, dc->address) != 1) {
				err = node_error(ld, v, "address",
						 "%s is not an IPv4 or IPv6 address (host names are not resolved)",
						 yaml_reader__quote(q, s, strlen(s)));
			}
			break;
		}
		if (err)
			return err;
	}
	return yaml_reader__require(&ld->rd, n, path, keys, &f, (1u << K_NAME) | (1u << K_PORT));
}

static int load_dependencies(struct loader *ld, struct slotap_config *cfg, const yaml_node_t *n)
{
	const struct yaml_unique_str *dup, *first = NULL;
	char q[QUOTE_SIZE];
	size_t count;
	int err;

	err = list_alloc(ld, n, "dependencies", CONFIG_MAX_DEPENDENCIES, "dependencies",
			 sizeof(*cfg->dependencies), (void **)&cfg->dependencies,
			 &cfg->n_dependencies);
	if (err || !(count = cfg->n_dependencies))
		return err;
	for (size_t i = 0; i < count; i++) {
		err = load_dependency(ld, cfg, i, yaml_reader__item(&ld->rd, n, i));
		if (err)
			return err;
	}
	dup = yaml_unique__first_dup(&ld->dependency_names, false, &first);
	if (dup)
		return node_error(ld, dup->node, NULL, "duplicate dependency name %s",
				  yaml_reader__quote(q, dup->s, strlen(dup->s)));
	return 0;
}

int config__dependency_of(const struct slotap_config *cfg, const __u8 addr[16], __u16 port)
{
	int any = -1;

	/* an address named beats "any host on the port", wherever it is listed */
	for (size_t i = 0; i < cfg->n_dependencies; i++) {
		const struct dependency_config *dc = &cfg->dependencies[i];

		if (dc->port != port)
			continue;
		if (!dc->any_address && !memcmp(dc->address, addr, 16))
			return i;
		if (dc->any_address && any < 0)
			any = i;
	}
	return any;
}

static int both_service_and_dependency(struct loader *ld, const yaml_node_t *n, const char *path)
{
	return node_error(ld, n, path, "an SLO is about a service or a dependency, not both");
}

/*
 * One slos item, or with tmpl one default_slos item: the same keys but
 * service and endpoint, which the endpoint each copy is made for gives.
 */
static int load_slo(struct loader *ld, struct slotap_config *cfg, size_t slo,
		    const yaml_node_t *n, bool tmpl)
{
	static const char *const keys[] = {
		"name", "service", "endpoint", "sli", "objective", "threshold",
		"window", "bad_statuses", "budgeting", "transport_failures", "dependency",
		"min_events", "runbook_url", "bad_grpc_codes", "streaming", NULL
	};
	enum {
		K_NAME, K_SERVICE, K_ENDPOINT, K_SLI, K_OBJECTIVE, K_THRESHOLD,
		K_WINDOW, K_BAD_STATUSES, K_BUDGETING, K_TRANSPORT_FAILURES, K_DEPENDENCY,
		K_MIN_EVENTS, K_RUNBOOK_URL, K_BAD_GRPC_CODES, K_STREAMING
	};
	static const int required[] = {
		K_NAME, K_SERVICE, K_SLI, K_OBJECTIVE, K_WINDOW
	};
	struct slo_config *sc = tmpl ? &cfg->default_slos[slo] : &cfg->slos[slo];
	const yaml_node_t *threshold_key = NULL, *threshold = NULL;
	const yaml_node_t *bad_key = NULL, *grpc_key = NULL, *streaming_key = NULL, *window = NULL;
	char path[48], q[QUOTE_SIZE];
	struct yaml_fields f;
	unsigned seen;
	const char *s;
	size_t i;
	int err, k, word = 0;

	snprintf(path, sizeof(path), "%s[%zu]", tmpl ? "default_slos" : "slos", slo);
	err = yaml_reader__walk(&ld->rd, n, path, keys, &f);
	if (err)
		return err;
	seen = f.seen;
	for (unsigned at = 0; at < f.n; at++) {
		yaml_node_t *v = f.val[k = f.order[at]];

		if (tmpl && (k == K_SERVICE || k == K_ENDPOINT || k == K_DEPENDENCY))
			return node_error(ld, f.key[k], path,
					  "a default SLO has no %s: it applies to every endpoint of every service (write an slos item for one)",
					  keys[k]);
		err = 0;
		switch (k) {
		case K_NAME:
			err = load_name(ld, v, &sc->name,
					tmpl ? &ld->default_names : &ld->slo_names, slo);
			break;
		case K_SERVICE:
			if (seen & (1u << K_DEPENDENCY))
				return both_service_and_dependency(ld, n, path);
			err = config_fields__slo_service(ld, cfg, sc, v, "service");
			break;
		case K_ENDPOINT:
			err = config_fields__slo_endpoints(ld, sc, v, NULL);
			break;
		case K_SLI:
			err = yaml_reader__get_keyword(&ld->rd, v, "sli", "an SLI",
						       "an SLI (availability or latency)",
						       (const char *const[]){ "availability", "latency", NULL },
						       &word);
			sc->sli = word ? SLO_SLI_LATENCY : SLO_SLI_AVAILABILITY;
			break;
		case K_OBJECTIVE:
			err = config_fields__slo_objective(ld, sc, v, "objective", false);
			break;
		case K_THRESHOLD:
			threshold_key = f.key[k];
			threshold = v;
			err = yaml_reader__get_string(&ld->rd, v, "threshold", "a duration", &s);
			if (err)
				return err;
			if (parse_duration_ns(s, &sc->threshold_ns))
				return node_error(ld, v, "threshold",
						  "%s is not a duration above zero (a number and ns, us, ms, s, m or h, e.g. 300ms)",
						  yaml_reader__quote(q, s, strlen(s)));
			break;
		case K_WINDOW:
			window = v;
			err = load_window(ld, sc, v);
			break;
		case K_BAD_STATUSES:
			bad_key = f.key[k];
			err = config_fields__slo_bad_statuses(ld, sc, v, NULL);
			break;
		case K_BAD_GRPC_CODES:
			grpc_key = f.key[k];
			err = config_fields__slo_bad_grpc_codes(ld, sc, v, NULL);
			break;
		case K_STREAMING:
			streaming_key = f.key[k];
			err = yaml_reader__get_keyword(&ld->rd, v, "streaming", "include or exclude",
						       "include or exclude",
						       (const char *const[]){ "exclude", "include", NULL },
						       &word);
			sc->streaming_include = word == 1;
			break;
		case K_BUDGETING:
			err = yaml_reader__get_keyword(&ld->rd, v, "budgeting", "a budgeting method",
						       "a budgeting method (occurrences or timeslices)",
						       (const char *const[]){ "occurrences", "timeslices", NULL },
						       &word);
			sc->timeslices = word == 1;
			break;
		case K_DEPENDENCY:
			if (seen & (1u << K_SERVICE))
				return both_service_and_dependency(ld, n, path);
			err = yaml_reader__get_string(&ld->rd, v, "dependency", "a dependency name", &s);
			if (err)
				return err;
			for (i = 0; i < cfg->n_dependencies; i++)
				if (!strcmp(cfg->dependencies[i].name, s))
					break;
			if (i == cfg->n_dependencies)
				return node_error(ld, v, "dependency", "%s is not one of the dependencies",
						  yaml_reader__quote(q, s, strlen(s)));
			sc->service = strdup(s);
			if (!sc->service)
				return yaml_reader__oom(&ld->rd);
			sc->dependency = true;
			break;
		case K_TRANSPORT_FAILURES:
			err = yaml_reader__get_keyword(&ld->rd, v, "transport_failures",
						       "bad or ignore", "bad or ignore",
						       (const char *const[]){ "bad", "ignore", NULL }, &word);
			sc->transport_failures = word ? SLO_FAILURES_IGNORE : SLO_FAILURES_BAD;
			break;
		case K_MIN_EVENTS: {
			unsigned long min = 0;

			err = yaml_reader__get_uint(&ld->rd, v, "min_events", "an event count", 0,
						    CONFIG_MAX_MIN_EVENTS, &min);
			sc->min_events = min;
			sc->has_min_events = true;
			break;
		}
		case K_RUNBOOK_URL:
			err = config_fields__slo_runbook_url(ld, sc, v, "runbook_url");
			break;
		}
		if (err)
			return err;
	}
	if ((seen & (1u << K_DEPENDENCY)) && (seen & (1u << K_ENDPOINT)))
		return node_error(ld, n, path,
				  "an SLO about a dependency counts all its calls: it has no endpoint");
	if (seen & (1u << K_DEPENDENCY))
		seen |= 1u << K_SERVICE;
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!(seen & (1u << required[i])) && !(tmpl && required[i] == K_SERVICE))
			return node_error(ld, n, path,
					  "missing required key \"%s\"%s",
					  keys[required[i]],
					  required[i] == K_SERVICE ? " (or \"dependency\")" : "");
	if (sc->sli == SLO_SLI_LATENCY) {
		if (!threshold)
			return node_error(ld, n, path,
					  "missing required key \"threshold\" (latency SLOs need one)");
		if (bad_key || grpc_key)
			return node_error(ld, bad_key ? bad_key : grpc_key, path,
					  "%s is for availability SLOs, not latency ones",
					  bad_key ? "bad_statuses" : "bad_grpc_codes");
	} else {
		__u32 grpc_codes = sc->bad_grpc_codes;

		if (threshold_key || streaming_key)
			return node_error(ld, threshold_key ? threshold_key : streaming_key, path,
					  "%s is for latency SLOs, not availability ones",
					  threshold_key ? "threshold" : "streaming");
		if (!bad_key)
			config_fields__slo_default_bad_statuses(sc);
		sc->bad_grpc_codes = grpc_key ? grpc_codes : GRPC_BAD_CODES_DEFAULT;
	}
	err = config_fields__slo_check_window(ld, sc, window, "window");
	if (err)
		return err;
	if (sc->sli == SLO_SLI_LATENCY)
		return config_fields__slo_threshold(ld, cfg, threshold, "threshold", sc->threshold_ns);
	return 0;
}

static int load_slos(struct loader *ld, struct slotap_config *cfg,
		     const yaml_node_t *n)
{
	size_t i, count;
	int err;

	err = list_alloc(ld, n, "slos", CONFIG_MAX_SLOS, "SLOs", sizeof(*cfg->slos),
			 (void **)&cfg->slos, &cfg->n_slos);
	if (err || !(count = cfg->n_slos))
		return err;
	err = config_fields__reserve_thresholds(ld, cfg);
	if (err)
		return err;
	for (i = 0; i < count; i++) {
		err = load_slo(ld, cfg, i, yaml_reader__item(&ld->rd, n, i), false);
		if (err)
			return err;
	}

	return config_fields__check_slo_names(ld);
}

static int load_default_slos(struct loader *ld, struct slotap_config *cfg,
			     const yaml_node_t *n)
{
	const struct yaml_unique_str *dup, *first = NULL;
	char q[QUOTE_SIZE];
	size_t i, count;
	int err = 0;

	err = list_alloc(ld, n, "default_slos", CONFIG_MAX_DEFAULT_SLOS, "default SLOs",
			 sizeof(*cfg->default_slos), (void **)&cfg->default_slos,
			 &cfg->n_default_slos);
	if (err || !(count = cfg->n_default_slos))
		return err;
	err = config_fields__reserve_thresholds(ld, cfg);
	for (i = 0; !err && i < count; i++)
		err = load_slo(ld, cfg, i, yaml_reader__item(&ld->rd, n, i), true);
	if (!err) {
		dup = yaml_unique__first_dup(&ld->default_names, false, &first);
		if (dup)
			err = node_error(ld, dup->node, NULL,
					 "duplicate default SLO name %s (the first is at %zu:%zu)",
					 yaml_reader__quote(q, dup->s, strlen(dup->s)),
					 first->node->start_mark.line + 1,
					 first->node->start_mark.column + 1);
	}
	yaml_unique__free(&ld->default_names);
	return err;
}

/*
 * Without a default_slos key, the ones config__default_yaml shows. Their
 * threshold joins latency_thresholds (thresholds: that key's node, or NULL).
 */
static int builtin_default_slos_load(struct loader *ld, struct slotap_config *cfg,
				     const yaml_node_t *thresholds)
{
	size_t i, j, count = sizeof(builtin_default_slos) / sizeof(builtin_default_slos[0]);
	int err;

	err = config_fields__reserve_thresholds(ld, cfg);
	if (err)
		return err;
	cfg->default_slos = calloc(count, sizeof(*cfg->default_slos));
	if (!cfg->default_slos)
		return yaml_reader__oom(&ld->rd);
	cfg->n_default_slos = count;
	for (i = 0; i < count; i++) {
		struct slo_config *sc = &cfg->default_slos[i];

		*sc = builtin_default_slos[i];
		sc->name = strdup(builtin_default_slos[i].name);
		if (!sc->name)
			return yaml_reader__oom(&ld->rd);
		if (sc->sli == SLO_SLI_AVAILABILITY) {
			config_fields__slo_default_bad_statuses(sc);
			continue;
		}
		for (j = 0; j < cfg->n_thresholds; j++)
			if (cfg->latency_thresholds_ns[j] == sc->threshold_ns)
				break;
		/* thresholds is not NULL: the built-in list is far from full */
		if (j == cfg->n_thresholds && j == CONFIG_MAX_THRESHOLDS)
			return node_error(ld, thresholds, "latency_thresholds",
					  "%d thresholds leave no room for the %llums of the default SLO %s: give one less, or default_slos",
					  CONFIG_MAX_THRESHOLDS,
					  (unsigned long long)(sc->threshold_ns / 1000000),
					  sc->name);
		if (j == cfg->n_thresholds)
			config_fields__slo_threshold(ld, cfg, thresholds, "threshold", sc->threshold_ns);
	}
	return 0;
}

static int load_root(struct loader *ld, const yaml_node_t *root,
		     struct slotap_config *cfg)
{
	static const char *const keys[] = {
		"services", "latency_thresholds", "max_routes_per_service",
		"slos", "request_timeout", "default_slos", "max_default_slos", "dependencies",
		"max_series_per_metric", "route_mode", "min_events", "max_h2_connections",
		"max_h2_streams", NULL
	};
	enum {
		K_SERVICES, K_THRESHOLDS, K_MAX_ROUTES, K_SLOS, K_REQUEST_TIMEOUT,
		K_DEFAULT_SLOS, K_MAX_DEFAULT_SLOS, K_DEPENDENCIES, K_MAX_SERIES, K_ROUTE_MODE,
		K_MIN_EVENTS, K_MAX_H2_CONNS, K_MAX_H2_STREAMS
	};
	const yaml_node_t *services = NULL, *slos = NULL, *default_slos = NULL;
	const yaml_node_t *dependencies = NULL;
	const yaml_node_t *thresholds = NULL;
	struct yaml_fields f;
	unsigned long max = 0;
	int err = 0;

	cfg->max_routes_per_service = CONFIG_DEFAULT_MAX_ROUTES;
	cfg->route_mode = ROUTE_MODE_FOLD;
	cfg->request_timeout_ns = CONFIG_DEFAULT_REQUEST_TIMEOUT_NS;
	cfg->max_default_slos = CONFIG_DEFAULT_MAX_DEFAULT_SLOS;
	cfg->max_series_per_metric = CONFIG_DEFAULT_MAX_SERIES;
	cfg->min_events = CONFIG_DEFAULT_MIN_EVENTS;
	cfg->max_h2_connections = CONFIG_DEFAULT_MAX_H2_CONNECTIONS;
	cfg->max_h2_streams = CONFIG_DEFAULT_MAX_H2_STREAMS;
	/* An empty document means "all defaults", like an empty mapping. */
	if (root && !yaml_reader__is_null(root)) {
		if (root->type != YAML_MAPPING_NODE)
			return node_error(ld, root, NULL,
					  "the top level must be a mapping, got %s",
					  root->type == YAML_SEQUENCE_NODE ?
					  "a list" : "a scalar");
		/*
		 * Services and SLOs last: the services' checks need
		 * max_routes_per_service and route_mode, the SLOs' the
		 * services and the thresholds.
		 */
		err = yaml_reader__walk(&ld->rd, root, NULL, keys, &f);
		if (err)
			return err;
		for (unsigned at = 0; at < f.n; at++) {
			yaml_node_t *v = f.val[f.order[at]];

			switch (f.order[at]) {
			case K_SERVICES:
				services = v;
				break;
			case K_SLOS:
				slos = v;
				break;
			case K_DEPENDENCIES:
				dependencies = v;
				break;
			case K_THRESHOLDS:
				thresholds = v;
				err = load_thresholds(ld, cfg, v);
				break;
			case K_DEFAULT_SLOS:
				default_slos = v;
				break;
			case K_MAX_DEFAULT_SLOS:
				err = yaml_reader__get_uint(&ld->rd, v, "max_default_slos",
							    "an SLO count", 0, CONFIG_MAX_SLOS, &max);
				cfg->max_default_slos = max;
				break;
			case K_MAX_SERIES:
				err = yaml_reader__get_uint(&ld->rd, v, "max_series_per_metric",
							    "a series count", 1,
							    CONFIG_MAX_SERIES_LIMIT, &max);
				cfg->max_series_per_metric = max;
				break;
			case K_MAX_H2_CONNS:
				err = yaml_reader__get_uint(&ld->rd, v, "max_h2_connections",
							    "a connection count", 1,
							    CONFIG_MAX_H2_CONNECTIONS_LIMIT, &max);
				cfg->max_h2_connections = max;
				break;
			case K_MAX_H2_STREAMS:
				err = yaml_reader__get_uint(&ld->rd, v, "max_h2_streams",
							    "a stream count", 1,
							    CONFIG_MAX_H2_STREAMS_LIMIT, &max);
				cfg->max_h2_streams = max;
				break;
			case K_MAX_ROUTES:
				err = yaml_reader__get_uint(&ld->rd, v, "max_routes_per_service",
							    "a route count", 1,
							    CONFIG_ROUTES_LIMIT, &max);
				cfg->max_routes_per_service = max;
				break;
			case K_ROUTE_MODE:
				err = load_route_mode(ld, v, &cfg->route_mode);
				break;
			case K_MIN_EVENTS:
				err = yaml_reader__get_uint(&ld->rd, v, "min_events", "an event count",
							    0, CONFIG_MAX_MIN_EVENTS, &max);
				cfg->min_events = max;
				break;
			case K_REQUEST_TIMEOUT: {
				const char *s;
				char q[QUOTE_SIZE];

				err = yaml_reader__get_string(&ld->rd, v, "request_timeout", "a duration", &s);
				if (!err && parse_duration_ns(s, &cfg->request_timeout_ns))
					err = node_error(ld, v, "request_timeout",
							 "%s is not a duration above zero (a number and ns, us, ms, s, m or h, e.g. 30s)",
							 yaml_reader__quote(q, s, strlen(s)));
				break;
			}
			}
			if (err)
				return err;
		}
	}
	if (!cfg->latency_thresholds_ns) {
		cfg->latency_thresholds_ns = malloc(sizeof(default_thresholds_ns));
		if (!cfg->latency_thresholds_ns)
			return yaml_reader__oom(&ld->rd);
		memcpy(cfg->latency_thresholds_ns, default_thresholds_ns,
		       sizeof(default_thresholds_ns));
		cfg->n_thresholds = sizeof(default_thresholds_ns) /
				    sizeof(default_thresholds_ns[0]);
	}
	if (services) {
		err = load_services(ld, cfg, services);
		if (err)
			return err;
	}
	if (dependencies) {
		err = load_dependencies(ld, cfg, dependencies);
		if (err)
			return err;
	}
	if (slos) {
		err = load_slos(ld, cfg, slos);
		if (err)
			return err;
	}
	if (default_slos)
		return load_default_slos(ld, cfg, default_slos);
	return builtin_default_slos_load(ld, cfg, thresholds);
}

/*
 * What a config stream may cost beyond its size: slotap's and OpenSLO's
 * documents nest 8 deep; libyaml loads about 500,000 nodes a second here,
 * and 10 services of 10,000 routes each are 100,000; its loader looks each
 * anchor up among all before it.
 */
static const struct yaml_limits config_limits = {
	.depth = 64, .nodes = 100000, .anchors = 1000,
};

/*
 * Most documents in one stream: room for every SLO in an OpenSLO document
 * of its own, with an SLI and a Service document each.
 */
#define CONFIG_MAX_DOCUMENTS	(3 * CONFIG_MAX_SLOS + 1)

/*
 * The whole stream, so that syntax errors anywhere come before schema errors
 * and an OpenSLO indicatorRef may point forward. The caller deletes *docs,
 * also on error.
 */
static int load_documents(struct loader *ld, yaml_parser_t *parser,
			  const char *buf, size_t len, yaml_document_t **docs,
			  size_t *n)
{
	yaml_document_t doc, *v;
	size_t cap = 0, expanded = 0;
	int ret;

	for (;;) {
		if (!yaml_parser_load(parser, &doc))
			return yaml_reader__parser_error(&ld->rd, parser, buf, len);
		/* no root: the end of the stream */
		if (!yaml_document_get_root_node(&doc)) {
			yaml_document_delete(&doc);
			return 0;
		}
		if (*n == CONFIG_MAX_DOCUMENTS) {
			ret = yaml_reader__error_at(&ld->rd, doc.start_mark.line,
						    doc.start_mark.column, NULL,
						    "more than %d YAML documents",
						    CONFIG_MAX_DOCUMENTS);
			yaml_document_delete(&doc);
			return ret;
		}
		ret = yaml_reader__add_expanded(&ld->rd, &doc, &config_limits, &expanded);
		if (ret) {
			yaml_document_delete(&doc);
			return ret;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			v = reallocarray(*docs, cap, sizeof(*v));
			if (!v) {
				yaml_document_delete(&doc);
				return yaml_reader__oom(&ld->rd);
			}
			*docs = v;
		}
		(*docs)[(*n)++] = doc;
	}
}

/*
 * At most one slotap document (one without apiVersion; empty ones do not
 * count) and any number of OpenSLO v1 ones, in any order. The slotap one is
 * loaded first: OpenSLO SLOs need its services and thresholds.
 */
static int load_stream(struct loader *ld, yaml_document_t *docs, size_t n,
		       struct slotap_config *cfg)
{
	yaml_document_t *own = NULL;
	bool any = false;
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		if (yaml_reader__is_null(yaml_document_get_root_node(&docs[i])))
			continue;
		any = true;
		if (openslo__is_document(&docs[i]))
			continue;
		if (own)
			return yaml_reader__error_at(&ld->rd, docs[i].start_mark.line,
						     docs[i].start_mark.column, NULL,
						     "more than one slotap configuration document (the first starts at line %zu): the others must be OpenSLO documents (apiVersion: openslo/v1)",
						     own->start_mark.line + 1);
		own = &docs[i];
	}
	cfg->empty = !any;
	ld->rd.doc = own;
	ret = load_root(ld, own ? yaml_document_get_root_node(own) : NULL, cfg);
	if (!ret)
		ret = openslo__load(ld, cfg, docs, n);
	if (ret)
		return ret;
	/* every SLO, from whichever document, has its min_events from here on */
	for (i = 0; i < cfg->n_slos; i++)
		if (!cfg->slos[i].has_min_events)
			cfg->slos[i].min_events = cfg->min_events;
	for (i = 0; i < cfg->n_default_slos; i++)
		if (!cfg->default_slos[i].has_min_events)
			cfg->default_slos[i].min_events = cfg->min_events;
	return 0;
}

int config__load_string(struct slotap_config *cfg, const char *yaml, size_t len,
			const char *source_name, char *err, size_t errlen)
{
	struct slotap_config tmp = {};
	yaml_document_t *docs = NULL;
	size_t i, n_docs = 0;
	yaml_parser_t parser;
	struct loader *ld;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	errbuf__set(err, errlen, "%s", "");
	if (!source_name)
		source_name = "<string>";
	if (!yaml) {
		if (len) {
			errbuf__set(err, errlen, "%s: no input", source_name);
			return -EINVAL;
		}
		yaml = "";
	}
	/* The port bitmap makes it too big for the stack of a small thread. */
	ld = calloc(1, sizeof(*ld));
	tmp.source = strdup(source_name);
	if (!ld || !tmp.source) {
		free(ld);
		free(tmp.source);
		errbuf__set(err, errlen, "%s: out of memory", source_name);
		return -ENOMEM;
	}
	ld->rd.source = tmp.source;
	ld->rd.err = err;
	ld->rd.errlen = errlen;

	if (!yaml_parser_initialize(&parser)) {
		ret = yaml_reader__oom(&ld->rd);
		goto out;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	ret = yaml_reader__prescan(&ld->rd, yaml, len, &config_limits);
	if (!ret)
		ret = load_documents(ld, &parser, yaml, len, &docs, &n_docs);
	if (!ret)
		ret = load_stream(ld, docs, n_docs, &tmp);
	for (i = 0; i < n_docs; i++)
		yaml_document_delete(&docs[i]);
	free(docs);
	yaml_parser_delete(&parser);
out:
	yaml_unique__free(&ld->names);
	yaml_unique__free(&ld->processes);
	yaml_unique__free(&ld->cgroups);
	yaml_unique__free(&ld->routes);
	yaml_unique__free(&ld->slo_names);
	yaml_unique__free(&ld->dependency_names);
	free(ld);
	if (ret) {
		config__free(&tmp);
		return ret;
	}
	*cfg = tmp;
	return 0;
}

int config__load_file(struct slotap_config *cfg, const char *path, char *err,
		      size_t errlen)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, ebuf[128];
	int fd, ret;

	memset(cfg, 0, sizeof(*cfg));
	if (!path) {
		errbuf__set(err, errlen, "no configuration file given");
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto err;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nbuf;

			/* one byte over the limit tells a too large file */
			if (len > CONFIG_FILE_MAX) {
				close(fd);
				free(buf);
				errbuf__set(err, errlen, "%s: larger than %u bytes",
					path, CONFIG_FILE_MAX);
				return -EFBIG;
			}
			cap = cap ? cap * 2 : 4096;
			if (cap > CONFIG_FILE_MAX)
				cap = CONFIG_FILE_MAX + 1;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				ret = -ENOMEM;
				close(fd);
				goto err;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			close(fd);
			goto err;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	ret = config__load_string(cfg, buf, len, path, err, errlen);
	free(buf);
	return ret;
err:
	free(buf);
	errbuf__set(err, errlen, "%s: %s", path, strerror_r(-ret, ebuf, sizeof(ebuf)));
	return ret;
}

void config__free(struct slotap_config *cfg)
{
	size_t i, j;

	for (i = 0; i < cfg->n_services; i++) {
		struct service_config *sc = &cfg->services[i];

		free(sc->name);
		free(sc->ports);
		for (j = 0; j < sc->n_processes; j++)
			free(sc->processes[j]);
		free(sc->processes);
		for (j = 0; j < sc->n_cgroups; j++)
			free(sc->cgroups[j]);
		free(sc->cgroups);
		for (j = 0; j < sc->n_routes; j++)
			free(sc->routes[j]);
		free(sc->routes);
	}
	free(cfg->services);
	for (i = 0; i < cfg->n_slos; i++) {
		struct slo_config *sc = &cfg->slos[i];

		free(sc->name);
		free(sc->service);
		free(sc->runbook_url);
		for (j = 0; j < sc->n_endpoints; j++)
			free(sc->endpoints[j]);
		free(sc->endpoints);
	}
	free(cfg->slos);
	for (i = 0; i < cfg->n_dependencies; i++)
		free(cfg->dependencies[i].name);
	free(cfg->dependencies);
	for (i = 0; i < cfg->n_default_slos; i++) {
		free(cfg->default_slos[i].name);	/* no service, no endpoints */
		free(cfg->default_slos[i].runbook_url);
	}
	free(cfg->default_slos);
	free(cfg->latency_thresholds_ns);
	free(cfg->source);
	memset(cfg, 0, sizeof(*cfg));
}

static bool same_strings(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return true;
}

const char *config__kernel_key(const struct slotap_config *now, const struct slotap_config *next,
				char *buf, size_t size)
{
	if (now->n_services != next->n_services)
		return "services";
	for (size_t i = 0; i < now->n_services; i++) {
		const struct service_config *a = &now->services[i], *b = &next->services[i];
		const char *key = NULL;

		if (strcmp(a->name, b->name))
			key = "name";
		/* a service matched by process alone has no ports array to compare */
		else if (a->n_ports != b->n_ports ||
			 (a->n_ports && memcmp(a->ports, b->ports, a->n_ports * sizeof(*a->ports))))
			key = "match.port";
		else if (!same_strings(a->processes, a->n_processes, b->processes, b->n_processes))
			key = "match.process";
		else if (!same_strings(a->cgroups, a->n_cgroups, b->cgroups, b->n_cgroups))
			key = "match.cgroup";
		if (key) {
			snprintf(buf, size, "services[%zu].%s", i, key);
			return buf;
		}
	}
	return NULL;
}
