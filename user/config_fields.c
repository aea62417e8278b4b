// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The fields every document kind of a config stream checks alike. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_fields.h"
#include "grpc.h"
#include "redis_events.h"
#include "redis_names.h"
#include "route.h"
#include "slo.h"

#define QUOTE_SIZE	YAML_READER_QUOTE_SIZE
#define node_error(ld, n, path, ...)	yaml_reader__error(&(ld)->rd, n, path, __VA_ARGS__)

static const char *const http_methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT",
	"TRACE", NULL
};

bool config_fields__valid_name(const char *s)
{
	size_t len = strlen(s);

	if (!len || len > CONFIG_NAME_MAX)
		return false;
	for (; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' ||
		      *s == '-'))
			return false;
	}
	return true;
}

int config_fields__reserve_thresholds(struct loader *ld, struct slotap_config *cfg)
{
	__u64 *t = reallocarray(cfg->latency_thresholds_ns, CONFIG_MAX_THRESHOLDS, sizeof(*t));

	if (!t)
		return yaml_reader__oom(&ld->rd);
	cfg->latency_thresholds_ns = t;
	return 0;
}

int config_fields__add_slos(struct loader *ld, struct slotap_config *cfg,
			    size_t count, const yaml_node_t *n, size_t *first)
{
	struct slo_config *v;
	int err;

	if (count > CONFIG_MAX_SLOS - cfg->n_slos)
		return node_error(ld, n, NULL,
				  "more than %d SLOs (slos and OpenSLO objectives together)",
				  CONFIG_MAX_SLOS);
	err = config_fields__reserve_thresholds(ld, cfg);
	if (err)
		return err;
	v = reallocarray(cfg->slos, cfg->n_slos + count, sizeof(*v));
	if (!v)
		return yaml_reader__oom(&ld->rd);
	memset(v + cfg->n_slos, 0, count * sizeof(*v));
	cfg->slos = v;
	*first = cfg->n_slos;
	cfg->n_slos += count;
	return 0;
}

int config_fields__slo_name(struct loader *ld, struct slo_config *sc,
			    size_t slo, const char *name, const yaml_node_t *n)
{
	sc->name = strdup(name);
	if (!sc->name)
		return yaml_reader__oom(&ld->rd);
	return yaml_unique__add(&ld->rd, &ld->slo_names, sc->name, n, slo, -1);
}

int config_fields__check_slo_names(struct loader *ld)
{
	const struct yaml_unique_str *dup, *first = NULL;
	char q[QUOTE_SIZE];

	dup = yaml_unique__first_dup(&ld->slo_names, false, &first);
	if (!dup)
		return 0;
	return node_error(ld, dup->node, NULL, "duplicate SLO name %s (the first is at %zu:%zu)",
			  yaml_reader__quote(q, dup->s, strlen(dup->s)),
			  first->node->start_mark.line + 1, first->node->start_mark.column + 1);
}

int config_fields__slo_service(struct loader *ld, const struct slotap_config *cfg,
			       struct slo_config *sc, const yaml_node_t *n,
			       const char *path)
{
	char q[QUOTE_SIZE];
	const char *s;
	int err;

	err = yaml_reader__get_string(&ld->rd, n, path, "a service name", &s);
	if (err)
		return err;
	yaml_reader__quote(q, s, strlen(s));
	if (!config_fields__valid_name(s))
		return node_error(ld, n, path,
				  "%s is not a valid service name (1..%d characters of A-Z a-z 0-9 _ . -)",
				  q, CONFIG_NAME_MAX);
	/* with no services, they are found by process name */
	if (cfg->n_services && !yaml_unique__find(&ld->names, s))
		return node_error(ld, n, path, "%s is not one of the services", q);
	sc->service = strdup(s);
	if (!sc->service)
		return yaml_reader__oom(&ld->rd);
	return 0;
}

static void status_set(__u8 *bits, unsigned code)
{
	bits[code / 8] |= 1u << (code % 8);
}

static bool status_test(const __u8 *bits, unsigned code)
{
	return bits[code / 8] & (1u << (code % 8));
}

/* "pkg.Service/Method": printable ASCII, no braces, one '/' with a name each side. */
static bool valid_grpc_method(const char *m)
{
	const char *slash = strchr(m, '/');

	if (!slash || slash == m || !slash[1] || strchr(slash + 1, '/'))
		return false;
	for (; *m; m++)
		if (*m < 0x21 || *m > 0x7e || *m == '{' || *m == '}' || *m == '?' || *m == '#')
			return false;
	return true;
}

static int add_endpoint(struct loader *ld, struct slo_config *sc, struct yaml_unique *seen,
			const yaml_node_t *n, long idx)
{
	char path[48], q[QUOTE_SIZE], q2[QUOTE_SIZE], msg[YAML_READER_MSG_SIZE];
	const char *s, *sp;
	size_t i, mlen;
	int err;

	yaml_reader__item_path(path, sizeof(path), "endpoint", idx);
	err = yaml_reader__get_string(&ld->rd, n, path, "an endpoint (\"METHOD /route\")", &s);
	if (err)
		return err;
	yaml_reader__quote(q, s, strlen(s));
	sp = strchr(s, ' ');
	if (!sp || sp == s || sp[1] == ' ')
		return node_error(ld, n, path,
				  "%s is not \"METHOD /route\" (one space between, e.g. \"GET /api/items/{id}\")",
				  q);
	mlen = sp - s;
	if (mlen == 4 && !memcmp(s, "grpc", 4)) {
		/* the gRPC method is the route, as rpc_method writes it */
		if (!valid_grpc_method(sp + 1))
			return node_error(ld, n, path,
					  "%s is not \"grpc pkg.Service/Method\" (printable, one '/' between service and method, no braces)",
					  q);
		goto add;
	}
	if (mlen == strlen(REDIS_ENDPOINT_METHOD) && !memcmp(s, REDIS_ENDPOINT_METHOD, mlen)) {
		/* a Redis operation: one the kernel names, or _OTHER */
		if (!redis_names__known(sp + 1))
			return node_error(ld, n, path,
					  "%s is not \"redis COMMAND\" (a command name in upper case, e.g. \"redis GET\", or \"redis _OTHER\")",
					  q);
		goto add;
	}
	for (i = 0; http_methods[i]; i++)
		if (strlen(http_methods[i]) == mlen && !memcmp(http_methods[i], s, mlen))
			break;
	if (!http_methods[i])
		return node_error(ld, n, path,
				  "%s: %s is not a method (GET HEAD POST PUT DELETE PATCH OPTIONS CONNECT TRACE, grpc or redis)",
				  q, yaml_reader__quote(q2, s, mlen));
	msg[0] = '\0';
	if (route_template__validate(sp + 1, msg, sizeof(msg)))
		return node_error(ld, n, path, "%s: route %s", q, msg[0] ? msg : "invalid route template");
add:
	sc->endpoints[sc->n_endpoints] = strdup(s);
	if (!sc->endpoints[sc->n_endpoints])
		return yaml_reader__oom(&ld->rd);
	sc->n_endpoints++;
	return yaml_unique__add(&ld->rd, seen, sc->endpoints[sc->n_endpoints - 1], n, 0, idx);
}

/* A scalar or a list: each item through add_endpoint(), then no repeats. */
static int load_endpoints(struct loader *ld, struct slo_config *sc, const yaml_node_t *v,
			  struct yaml_unique *seen)
{
	bool list = v->type == YAML_SEQUENCE_NODE;
	size_t i, count = list ? yaml_reader__len(v) : 1;
	const struct yaml_unique_str *dup, *first = NULL;
	char path[48], q[QUOTE_SIZE];
	int err;

	if (v->type == YAML_MAPPING_NODE)
		return yaml_reader__type_error(&ld->rd, v, "endpoint",
					       "an endpoint or a list of endpoints");
	if (!count)
		return node_error(ld, v, "endpoint", "empty list");
	if (count > CONFIG_ROUTES_LIMIT)
		return node_error(ld, v, "endpoint", "more than %d endpoints", CONFIG_ROUTES_LIMIT);
	sc->endpoints = calloc(count, sizeof(*sc->endpoints));
	if (!sc->endpoints)
		return yaml_reader__oom(&ld->rd);
	for (i = 0; i < count; i++) {
		err = add_endpoint(ld, sc, seen, list ? yaml_reader__item(&ld->rd, v, i) : v,
				   list ? (long)i : -1);
		if (err)
			return err;
	}
	dup = yaml_unique__first_dup(seen, false, &first);
	if (!dup)
		return 0;
	yaml_reader__item_path(path, sizeof(path), "endpoint", dup->idx);
	return node_error(ld, dup->node, path, "duplicate endpoint %s",
			  yaml_reader__quote(q, dup->s, strlen(dup->s)));
}

int config_fields__slo_endpoints(struct loader *ld, struct slo_config *sc,
				 const yaml_node_t *n, const char *prefix)
{
	struct yaml_unique seen = {};
	int err;

	ld->rd.prefix = prefix;
	err = load_endpoints(ld, sc, n, &seen);
	ld->rd.prefix = NULL;
	yaml_unique__free(&seen);
	return err;
}

/* How load_one_or_list() adds an item: idx is -1 for a lone scalar. */
typedef int (*add_item_fn)(struct loader *ld, void *into, const yaml_node_t *n, long idx);

/*
 * A field of one value or a list of them (not a mapping, nor an empty
 * list; expected names the value for the type error): each item to add,
 * in order, until one fails.
 */
static int load_one_or_list(struct loader *ld, const yaml_node_t *v, const char *path,
			    const char *expected, add_item_fn add, void *into)
{
	bool list = v->type == YAML_SEQUENCE_NODE;
	size_t i, count = list ? yaml_reader__len(v) : 1;
	int err = 0;

	if (v->type == YAML_MAPPING_NODE)
		return yaml_reader__type_error(&ld->rd, v, path, expected);
	if (!count)
		return node_error(ld, v, path, "empty list");
	for (i = 0; !err && i < count; i++)
		err = add(ld, into, list ? yaml_reader__item(&ld->rd, v, i) : v,
			  list ? (long)i : -1);
	return err;
}

struct bad_statuses {
	__u8 *bits;		/* the SLO's bitmap */
	unsigned classes;	/* the classes (1 << digit) listed so far */
};

/* "5xx", or a code as digits (quoted or not), into the bitmap. */
static int add_bad_status(struct loader *ld, void *into, const yaml_node_t *n, long idx)
{
	struct bad_statuses *b = into;
	__u8 *bits = b->bits;
	unsigned *classes = &b->classes;
	char path[48], q[QUOTE_SIZE];
	const char *s, *p;
	unsigned code = 0, c;

	yaml_reader__item_path(path, sizeof(path), "bad_statuses", idx);
	if (n->type != YAML_SCALAR_NODE || yaml_reader__is_null(n))
		return yaml_reader__type_error(&ld->rd, n, path, "a status code or class");
	s = yaml_reader__scalar(n);
	if (strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' &&
	    (s[1] == 'x' || s[1] == 'X') && (s[2] == 'x' || s[2] == 'X')) {
		c = s[0] - '0';
		if (*classes & (1u << c))
			return node_error(ld, n, path, "duplicate status class %cxx", s[0]);
		for (code = c * 100; code < c * 100 + 100; code++)
			if (status_test(bits, code))
				return node_error(ld, n, path, "%cxx includes %u, listed before",
						  s[0], code);
		*classes |= 1u << c;
		for (code = c * 100; code < c * 100 + 100; code++)
			status_set(bits, code);
		return 0;
	}
	for (p = s; *p >= '0' && *p <= '9' && code < 1000; p++)
		code = code * 10 + (*p - '0');
	if (p == s || *p || code < 100 || code > CONFIG_STATUS_MAX ||
	    strlen(s) != n->data.scalar.length)
		return node_error(ld, n, path, "%s is not a status code (100..%d) or class (1xx..5xx)",
				  yaml_reader__describe(q, n), CONFIG_STATUS_MAX);
	if (*classes & (1u << (code / 100)))
		return node_error(ld, n, path, "%u is already in %uxx", code, code / 100);
	if (status_test(bits, code))
		return node_error(ld, n, path, "duplicate status %u", code);
	status_set(bits, code);
	return 0;
}

int config_fields__slo_bad_statuses(struct loader *ld, struct slo_config *sc,
				    const yaml_node_t *v, const char *prefix)
{
	struct bad_statuses b = { sc->bad_status, 0 };
	int err;

	ld->rd.prefix = prefix;
	err = load_one_or_list(ld, v, "bad_statuses", "a status code or class, or a list of them",
			       add_bad_status, &b);
	ld->rd.prefix = NULL;
	return err;
}

void config_fields__slo_default_bad_statuses(struct slo_config *sc)
{
	for (unsigned code = 500; code <= 599; code++)
		status_set(sc->bad_status, code);
	sc->bad_grpc_codes = GRPC_BAD_CODES_DEFAULT;
}

static int add_bad_grpc_code(struct loader *ld, void *into, const yaml_node_t *n, long idx)
{
	__u32 *codes = into;
	char path[48], q[QUOTE_SIZE];
	int code;

	yaml_reader__item_path(path, sizeof(path), "bad_grpc_codes", idx);
	if (n->type != YAML_SCALAR_NODE || yaml_reader__is_null(n))
		return yaml_reader__type_error(&ld->rd, n, path, "a gRPC status code");
	code = strlen(yaml_reader__scalar(n)) == n->data.scalar.length ?
	       grpc_code__parse(yaml_reader__scalar(n)) : -EINVAL;
	if (code < 0)
		return node_error(ld, n, path,
				  "%s is not a gRPC status code (a name such as UNAVAILABLE, or 0..16)",
				  yaml_reader__describe(q, n));
	if (*codes & GRPC_CODE_BIT(code))
		return node_error(ld, n, path, "duplicate gRPC status code %s",
				  grpc_code__name(code));
	*codes |= GRPC_CODE_BIT(code);
	return 0;
}

int config_fields__slo_bad_grpc_codes(struct loader *ld, struct slo_config *sc,
				      const yaml_node_t *v, const char *prefix)
{
	__u32 codes = 0;
	int err;

	ld->rd.prefix = prefix;
	err = load_one_or_list(ld, v, "bad_grpc_codes", "a gRPC status code, or a list of them",
			       add_bad_grpc_code, &codes);
	ld->rd.prefix = NULL;
	if (!err)
		sc->bad_grpc_codes = codes;
	return err;
}

/*
 * It goes into alert labels and annotations as it is: printable ASCII, no
 * spaces, quotes or braces, so that no label, log line or rules file needs
 * it escaped.
 */
int config_fields__slo_runbook_url(struct loader *ld, struct slo_config *sc,
				   const yaml_node_t *v, const char *path)
{
	char q[QUOTE_SIZE];
	const char *s;
	size_t len;
	int err;

	err = yaml_reader__get_string(&ld->rd, v, path, "a URL", &s);
	if (err)
		return err;
	len = strlen(s);
	if (!len || len > CONFIG_RUNBOOK_URL_MAX)
		return node_error(ld, v, path, "a URL of 1 to %d bytes", CONFIG_RUNBOOK_URL_MAX);
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || strchr("\"\\{}", s[i]))
			return node_error(ld, v, path,
					  "%s: printable ASCII without spaces, quotes, backslashes "
					  "or braces (Prometheus would read {{ }} as a template)",
					  yaml_reader__quote(q, s, len));
	free(sc->runbook_url);
	sc->runbook_url = strdup(s);
	return sc->runbook_url ? 0 : yaml_reader__oom(&ld->rd);
}

/* The ratio nearest the decimal value, as the SLO engine can hold it. */
int config_fields__slo_objective(struct loader *ld, struct slo_config *sc,
				 const yaml_node_t *v, const char *path, bool ratio)
{
	char q[QUOTE_SIZE], buf[YAML_READER_QUOTE_MAX + 8];
	double x = 0;
	__u64 ppb;

	if (v->type != YAML_SCALAR_NODE)
		return yaml_reader__type_error(&ld->rd, v, path,
					       ratio ? "a ratio" : "a percentage");
	if (yaml_reader__looks_numeric(v) && v->data.scalar.length <= YAML_READER_QUOTE_MAX) {
		/* "99.5e-2" is read as 0.995 itself, not 99.5 / 100 */
		snprintf(buf, sizeof(buf), "%s%s", yaml_reader__scalar(v), ratio ? "" : "e-2");
		x = strtod(buf, NULL);
	}
	if (!(x > 0 && x < 1))
		return node_error(ld, v, path, ratio ?
				  "%s is not a ratio above 0 and below 1 (e.g. 0.995)" :
				  "%s is not a percentage above 0 and below 100 (e.g. 99.5)",
				  yaml_reader__describe(q, v));
	/* the engine keeps parts per billion, rounded */
	ppb = (__u64)(x * (double)SLO_PPB + 0.5);
	if (!ppb || ppb >= SLO_PPB)
		return node_error(ld, v, path, "%s rounds to %s at the SLO engine's precision (%s)",
				  yaml_reader__describe(q, v), ppb ? (ratio ? "1" : "100") : "0",
				  ratio ? "1e-9" : "1e-7 percent");
	sc->objective = x;
	return 0;
}

/*
 * The SLO engine sums whole buckets, whose width grows with the window
 * (user/slo.h): slo__mem_size() decides, this explains.
 */
int config_fields__slo_check_window(struct loader *ld, const struct slo_config *sc,
				    const yaml_node_t *v, const char *path)
{
	struct slo_spec spec = {
		.objective = sc->objective,
		.window = sc->window,
		.window_s = sc->window_s,
		.timeslices = sc->timeslices,
	};
	const char *unit, *range;
	char q[QUOTE_SIZE];
	__u64 w = sc->window_s;

	if (slo__mem_size(&spec))
		return 0;
	if (w <= 1800 && !sc->timeslices) {
		unit = "10s";
		range = "up to 30m";
	} else if (w <= 6 * 3600) {
		unit = "1m";
		range = sc->timeslices && w <= 1800 ?
			"up to 6h (budgeting: timeslices)" : "up to 6h";
	} else if (w <= 86400) {
		unit = "10m";
		range = "up to 1d";
	} else {
		unit = "1h";
		range = "over 1d";
	}
	return node_error(ld, v, path,
			  "%s is not a multiple of %s, the SLO engine's bucket for rolling windows %s",
			  yaml_reader__quote_scalar(q, v), unit, range);
}

int config_fields__slo_threshold(struct loader *ld, struct slotap_config *cfg,
				 const yaml_node_t *v, const char *path, __u64 t)
{
	char q[QUOTE_SIZE];
	size_t i;

	for (i = 0; i < cfg->n_thresholds && cfg->latency_thresholds_ns[i] < t; i++)
		;
	if (i < cfg->n_thresholds && cfg->latency_thresholds_ns[i] == t)
		return 0;
	if (cfg->n_thresholds == CONFIG_MAX_THRESHOLDS)
		return node_error(ld, v, path,
				  "%s would be latency threshold %d, more than %d (latency_thresholds and the thresholds of latency SLOs together)",
				  yaml_reader__quote_scalar(q, v), CONFIG_MAX_THRESHOLDS + 1,
				  CONFIG_MAX_THRESHOLDS);
	memmove(&cfg->latency_thresholds_ns[i + 1], &cfg->latency_thresholds_ns[i],
		(cfg->n_thresholds - i) * sizeof(__u64));
	cfg->latency_thresholds_ns[i] = t;
	cfg->n_thresholds++;
	return 0;
}
