// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Requests reach their SLOs through a hash table of endpoints: the first
 * request of an endpoint finds the explicit SLOs that count it and makes its
 * default copies; later ones only feed that list. An endpoint costs one
 * small allocation, far less than the aggregator keeps for it (a latency
 * histogram per status), and the route caps bound both.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "grpc.h"
#include "log.h"
#include "prom.h"
#include "slo.h"
#include "slo_registry.h"
#include "route.h"
#include "metric_names.h"

#define ENDPOINTS_MIN_SLOTS	64
#define METHOD_MAX		16	/* "OPTIONS" and "_OTHER" are the longest */
#define LOG_LINE_MAX		1024

struct slo_entry {
	const struct slo_config *cfg;	/* the SLO, or a default copy's template */
	struct slo *engine;
	const char *service;		/* cfg->service, or the endpoint's */
	const char *endpoint;		/* its endpoint label */
	bool is_default;
	unsigned int alerts;		/* as slo_registry__alerts() */
};

struct endpoint {
	__u64 hash;
	const char *service, *method, *route;
	const char *label;		/* "METHOD /route" */
	bool short_of_defaults;		/* a default copy it should have could not be made */
	unsigned int covered;		/* SLIs its explicit SLOs cover (bit per enum slo_sli) */
	__u32 n_targets;
	__u32 targets[];		/* entries its requests feed; the strings follow */
};

struct slo_registry {
	struct slo_entry *entries;
	size_t n, cap;
	/*
	 * entries[0, n_explicit): configured, those about services (the first
	 * n_service) then those about dependencies, each sorted by service.
	 */
	size_t n_explicit, n_service;
	slo_registry_bad_fn on_bad;
	void *on_bad_ctx;
	const struct slo_config *templates;
	size_t n_templates;
	size_t max_defaults, n_defaults;
	struct endpoint **slots;	/* open addressing, linear probing; NULL: free */
	size_t n_slots, n_endpoints;	/* n_slots: 0 or a power of two */
	__u64 defaults_dropped;		/* default copies not made: the cap, or memory */
	__u64 requests_short;		/* requests of endpoints short of default copies */
	__u64 next_alert_s;		/* 0: evaluate at the next tick */
	bool cap_warned;
	/* state__ restoring default copies: endpoints made without theirs */
	bool restoring;
};

static int by_service(const void *a, const void *b)
{
	const struct slo_entry *x = a, *y = b;

	if (x->cfg->dependency != y->cfg->dependency)
		return x->cfg->dependency ? 1 : -1;
	return strcmp(x->service, y->service);
}

static void spec_of(const struct slo_config *sc, struct slo_spec *spec)
{
	*spec = (struct slo_spec){
		.objective = sc->objective,
		.window = sc->window,
		.window_s = sc->window_s,
		.timeslices = sc->timeslices,
		.min_events = sc->min_events,
	};
}

/* The endpoint label of an explicit SLO: its endpoints joined by ",". */
static char *join_endpoints(const struct slo_config *sc)
{
	size_t len = 1, o = 0;
	char *s;

	for (size_t i = 0; i < sc->n_endpoints; i++)
		len += strlen(sc->endpoints[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	for (size_t i = 0; i < sc->n_endpoints; i++) {
		size_t l = strlen(sc->endpoints[i]);

		if (i)
			s[o++] = ',';
		memcpy(s + o, sc->endpoints[i], l);
		o += l;
	}
	s[o] = '\0';
	return s;
}

struct slo_registry *slo_registry__new(const struct slotap_config *cfg, __u64 now_s)
{
	struct slo_registry *reg = calloc(1, sizeof(*reg));

	if (!reg)
		return NULL;
	reg->cap = cfg->n_slos ? cfg->n_slos : 1;
	reg->entries = calloc(reg->cap, sizeof(*reg->entries));
	if (!reg->entries)
		goto fail;
	for (size_t i = 0; i < cfg->n_slos; i++) {
		const struct slo_config *sc = &cfg->slos[i];
		struct slo_entry *e = &reg->entries[i];
		struct slo_spec spec;

		spec_of(sc, &spec);
		e->cfg = sc;
		e->service = sc->service;
		e->endpoint = join_endpoints(sc);
		if (!e->endpoint)
			goto fail;
		e->engine = slo__new(&spec, now_s);
		reg->n++;
		if (!e->engine)
			goto fail;
	}
	reg->n_explicit = reg->n;
	qsort(reg->entries, reg->n, sizeof(*reg->entries), by_service);
	while (reg->n_service < reg->n && !reg->entries[reg->n_service].cfg->dependency)
		reg->n_service++;
	/* a template the engine refuses would fail at the first request: fail now */
	for (size_t i = 0; i < cfg->n_default_slos; i++) {
		struct slo_spec spec;

		spec_of(&cfg->default_slos[i], &spec);
		if (!slo__mem_size(&spec)) {
			errno = EINVAL;
			goto fail;
		}
	}
	reg->templates = cfg->default_slos;
	reg->n_templates = cfg->n_default_slos;
	reg->max_defaults = cfg->max_default_slos;
	return reg;
fail:
	slo_registry__free(reg);
	return NULL;
}

void slo_registry__free(struct slo_registry *reg)
{
	int err = errno;

	if (!reg)
		return;
	for (size_t i = 0; i < reg->n; i++) {
		slo__free(reg->entries[i].engine);
		if (!reg->entries[i].is_default)
			free((char *)reg->entries[i].endpoint);
	}
	for (size_t i = 0; i < reg->n_slots; i++)
		free(reg->slots[i]);
	free(reg->slots);
	free(reg->entries);
	free(reg);
	errno = err;	/* slo_registry__new() fails with it */
}

bool slo_registry__empty(const struct slo_registry *reg)
{
	return !reg->n_explicit && !reg->n_templates;
}

size_t slo_registry__count(const struct slo_registry *reg)
{
	return reg->n;
}

const struct slo_config *slo_registry__config(const struct slo_registry *reg, size_t i)
{
	return reg->entries[i].cfg;
}

const char *slo_registry__service(const struct slo_registry *reg, size_t i)
{
	return reg->entries[i].service;
}

const char *slo_registry__endpoint(const struct slo_registry *reg, size_t i)
{
	return reg->entries[i].endpoint;
}

bool slo_registry__is_default(const struct slo_registry *reg, size_t i)
{
	return reg->entries[i].is_default;
}

void slo_registry__spec(const struct slo_registry *reg, size_t i, struct slo_spec *out)
{
	spec_of(reg->entries[i].cfg, out);
}

const struct slo *slo_registry__engine(const struct slo_registry *reg, size_t i)
{
	return reg->entries[i].engine;
}

void slo_registry__replace(struct slo_registry *reg, size_t i, struct slo *engine)
{
	slo__free(reg->entries[i].engine);
	reg->entries[i].engine = engine;
}

unsigned int slo_registry__alerts(const struct slo_registry *reg, size_t i)
{
	return reg->entries[i].alerts;
}

/* ---- which SLOs count a request ----------------------------------------- */

/* "METHOD /route", the endpoint as the config names it */
static bool endpoint_matches(const struct slo_config *sc, const char *method, const char *route)
{
	size_t mlen = strlen(method);

	if (!sc->n_endpoints)
		return true;	/* the whole service */
	for (size_t i = 0; i < sc->n_endpoints; i++) {
		const char *e = sc->endpoints[i];

		if (!strncmp(e, method, mlen) && e[mlen] == ' ' && !strcmp(e + mlen + 1, route))
			return true;
	}
	return false;
}

static bool status_is_bad(const struct slo_config *sc, unsigned int status)
{
	if (status < 100 || status >= 600)
		return true;	/* not an HTTP status: the response is broken */
	return sc->bad_status[status / 8] & (1u << (status % 8));
}

static bool grpc_code_is_bad(const struct slo_config *sc, unsigned int code)
{
	/* not a code gRPC defines: the response is broken */
	return code >= GRPC_CODE_MAX || (sc->bad_grpc_codes & GRPC_CODE_BIT(code));
}

/* What a request was: answered (as r says), or failed below HTTP. */
struct outcome {
	struct slo_request r;
	bool failed;
};

static void feed(const struct slo_registry *reg, struct slo_entry *e, const struct outcome *o,
		 __u64 count, __u64 now_s)
{
	const struct slo_config *sc = e->cfg;
	bool good;

	if (o->failed) {
		if (!slo_config__counts_failures(sc))
			return;
		good = false;
	} else if (sc->sli == SLO_SLI_LATENCY) {
		if (o->r.streaming && !sc->streaming_include)
			return;	/* its latency is not the call's: section 7 of design-http2.md */
		good = o->r.latency_ns <= sc->threshold_ns;
	} else {
		if (o->r.status_undecoded)
			return;	/* neither good nor bad: counted as undecoded, not guessed */
		good = o->r.grpc ? !grpc_code_is_bad(sc, o->r.status) : !status_is_bad(sc, o->r.status);
	}
	slo__record(e->engine, now_s, good, count);
	if (!good && reg->on_bad)
		reg->on_bad(reg->on_bad_ctx, e->cfg->name, e->service, e->endpoint, count);
}

/* The SLOs about service in entries [lo, hi): [*first, return value). */
static size_t range_of(const struct slo_registry *reg, size_t lo, size_t hi, const char *service,
		       size_t *first)
{
	size_t end = hi;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(reg->entries[mid].service, service) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (hi < end && !strcmp(reg->entries[hi].service, service))
		hi++;
	return hi;
}

/* The explicit SLOs of service: entries [*first, return value). */
static size_t explicit_range(const struct slo_registry *reg, const char *service, size_t *first)
{
	return range_of(reg, 0, reg->n_service, service, first);
}

/* A mask of 1 << sli: the SLIs an explicit SLO covers this endpoint for. */
static unsigned int explicit_coverage(const struct slo_registry *reg, const char *service,
				      const char *method, const char *route)
{
	unsigned int covered = 0;
	size_t i, end = explicit_range(reg, service, &i);

	for (; i < end; i++)
		if (endpoint_matches(reg->entries[i].cfg, method, route))
			covered |= 1u << reg->entries[i].cfg->sli;
	return covered;
}

/*
 * 8 bytes at a time: this runs for every request. The length goes in with
 * the tail, so ("ab", "c") and ("a", "bc") differ.
 */
static __u64 hash_str(__u64 h, const char *s)
{
	size_t len = strlen(s);
	__u64 w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s, len);
	w ^= (__u64)(len + 1) << 56;
	h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 32);
}

static __u64 endpoint_hash(const char *service, const char *method, const char *route)
{
	__u64 h = hash_str(hash_str(hash_str(0x84222325cbf29ce4ULL, service), method), route);

	/* murmur3 finaliser: the table indexes by the low bits only */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static struct endpoint *endpoint_find(const struct slo_registry *reg, __u64 h,
				      const char *service, const char *method, const char *route)
{
	size_t mask = reg->n_slots - 1;
	struct endpoint *ep;

	if (!reg->n_slots)
		return NULL;
	for (size_t i = h & mask; (ep = reg->slots[i]); i = (i + 1) & mask) {
		if (ep->hash == h && !strcmp(ep->route, route) && !strcmp(ep->method, method) &&
		    !strcmp(ep->service, service))
			return ep;
	}
	return NULL;
}

/* Room for one more endpoint, at most half the slots used. 0 or -ENOMEM. */
static int endpoints_reserve(struct slo_registry *reg)
{
	struct endpoint **slots;
	size_t n_slots;

	if ((reg->n_endpoints + 1) * 2 <= reg->n_slots)
		return 0;
	n_slots = reg->n_slots ? reg->n_slots * 2 : ENDPOINTS_MIN_SLOTS;
	slots = calloc(n_slots, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < reg->n_slots; i++) {
		struct endpoint *ep = reg->slots[i];
		size_t j;

		if (!ep)
			continue;
		for (j = ep->hash & (n_slots - 1); slots[j]; j = (j + 1) & (n_slots - 1))
			;
		slots[j] = ep;
	}
	free(reg->slots);
	reg->slots = slots;
	reg->n_slots = n_slots;
	return 0;
}

static void endpoint_insert(struct slo_registry *reg, struct endpoint *ep)
{
	size_t mask = reg->n_slots - 1, i;

	for (i = ep->hash & mask; reg->slots[i]; i = (i + 1) & mask)
		;
	reg->slots[i] = ep;
	reg->n_endpoints++;
}

/* A default copy of template t for ep, at the end of entries. 0 or -ENOMEM. */
static int default_new(struct slo_registry *reg, const struct slo_config *t,
		       const struct endpoint *ep, __u64 now_s)
{
	struct slo_spec spec;
	struct slo *engine;

	if (reg->n == reg->cap) {
		size_t cap = reg->cap * 2;
		struct slo_entry *v = reallocarray(reg->entries, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		reg->entries = v;
		reg->cap = cap;
	}
	spec_of(t, &spec);
	engine = slo__new(&spec, now_s);
	if (!engine)
		return -errno;
	reg->entries[reg->n++] = (struct slo_entry){
		.cfg = t, .engine = engine, .service = ep->service, .endpoint = ep->label,
		.is_default = true,
	};
	reg->n_defaults++;
	return 0;
}

static bool endpoint_has_copy(const struct slo_registry *reg, const struct endpoint *ep,
			      const struct slo_config *tmpl)
{
	for (__u32 i = 0; i < ep->n_targets; i++)
		if (reg->entries[ep->targets[i]].is_default &&
		    reg->entries[ep->targets[i]].cfg == tmpl)
			return true;
	return false;
}

/*
 * ep's default copies (of template only, or of every template) that it
 * lacks and no explicit SLO covers, while max_default_slos leaves room.
 */
static void endpoint_add_defaults(struct slo_registry *reg, struct endpoint *ep,
				  const struct slo_config *only, __u64 now_s)
{
	for (size_t t = 0; t < reg->n_templates && strcmp(ep->route, ROUTE_UNDECODED); t++) {
		const struct slo_config *tmpl = &reg->templates[t];

		if ((only && tmpl != only) || (ep->covered & (1u << tmpl->sli)) ||
		    endpoint_has_copy(reg, ep, tmpl))
			continue;	/* explicit SLOs override the defaults */
		if (reg->n_defaults < reg->max_defaults && !default_new(reg, tmpl, ep, now_s)) {
			ep->targets[ep->n_targets++] = reg->n - 1;
			continue;
		}
		reg->defaults_dropped++;
		ep->short_of_defaults = true;
		if (!reg->cap_warned && reg->n_defaults >= reg->max_defaults) {
			reg->cap_warned = true;
			log__warn("max_default_slos (%zu) reached: service %s, endpoint %s and the "
				  "endpoints after it get no default SLO copies "
				  "(slotap_slo_default_instances_dropped_total counts them)",
				  reg->max_defaults, ep->service, ep->label);
		}
	}
}

/*
 * The first request of an endpoint: its explicit SLOs, and a default copy
 * of each template whose SLI none of them covers. NULL with errno ENOSPC
 * (SLO_REGISTRY_ENDPOINTS_MAX) or ENOMEM.
 */
static struct endpoint *endpoint_add(struct slo_registry *reg, __u64 h, const char *service,
				     const char *method, const char *route, __u64 now_s)
{
	size_t slen = strlen(service) + 1, mlen = strlen(method) + 1, rlen = strlen(route) + 1;
	size_t first, end = explicit_range(reg, service, &first), n_max;
	unsigned int covered = 0;
	struct endpoint *ep;
	char *text;

	if (reg->n_endpoints >= SLO_REGISTRY_ENDPOINTS_MAX) {
		errno = ENOSPC;
		return NULL;
	}
	if (endpoints_reserve(reg)) {
		errno = ENOMEM;
		return NULL;
	}
	n_max = end - first + reg->n_templates;
	/* service, label ("METHOD /route", holding the route), method */
	ep = malloc(sizeof(*ep) + n_max * sizeof(ep->targets[0]) + slen + mlen + rlen + mlen);
	if (!ep) {
		errno = ENOMEM;
		return NULL;
	}
	text = (char *)(ep->targets + n_max);
	ep->hash = h;
	ep->service = memcpy(text, service, slen);
	ep->label = memcpy(text + slen, method, mlen);
	text[slen + mlen - 1] = ' ';
	memcpy(text + slen + mlen, route, rlen);
	ep->method = memcpy(text + slen + mlen + rlen, method, mlen);
	ep->route = ep->label + mlen;
	ep->short_of_defaults = false;
	ep->n_targets = 0;
	for (size_t i = first; i < end; i++) {
		const struct slo_config *sc = reg->entries[i].cfg;

		if (endpoint_matches(sc, method, route)) {
			ep->targets[ep->n_targets++] = i;
			covered |= 1u << sc->sli;
		}
	}
	ep->covered = covered;
	/* restoring saved copies: theirs first, the others once all are in */
	if (!reg->restoring)
		endpoint_add_defaults(reg, ep, NULL, now_s);
	endpoint_insert(reg, ep);
	return ep;
}

/* The endpoint, made as its first request at now_s would if new; NULL, errno set. */
static struct endpoint *endpoint_get(struct slo_registry *reg, const char *service,
				     const char *method, const char *route, __u64 now_s)
{
	__u64 h = endpoint_hash(service, method, route);
	struct endpoint *ep = endpoint_find(reg, h, service, method, route);

	return ep ? ep : endpoint_add(reg, h, service, method, route, now_s);
}

/* An endpoint the table has no room for: its explicit SLOs, the slow way. */
static void record_unremembered(struct slo_registry *reg, const char *service,
				const char *method, const char *route, const struct outcome *o,
				__u64 count, __u64 now_s)
{
	unsigned int covered = 0;
	size_t i, end = explicit_range(reg, service, &i);

	for (; i < end; i++) {
		struct slo_entry *e = &reg->entries[i];

		if (!endpoint_matches(e->cfg, method, route))
			continue;
		covered |= 1u << e->cfg->sli;
		feed(reg, e, o, count, now_s);
	}
	for (size_t t = 0; t < reg->n_templates; t++) {
		if (!(covered & (1u << reg->templates[t].sli))) {
			reg->requests_short += count;
			break;
		}
	}
}

/* the public handle is the endpoint itself */
struct slo_endpoint {
	struct endpoint ep;
};

int slo_registry__resolve(struct slo_registry *reg, const char *service, const char *method,
			  const char *route, __u64 now_s, struct slo_endpoint **out)
{
	struct endpoint *ep;

	*out = NULL;
	if (!reg->n_service && !reg->n_templates)
		return 0;	/* no SLO about any service */
	ep = endpoint_get(reg, service, method, route, now_s);
	if (!ep)
		return -errno;
	*out = (struct slo_endpoint *)ep;
	return 0;
}

static void record_at(struct slo_registry *reg, struct endpoint *ep, const struct outcome *o,
		      __u64 count, __u64 now_s)
{
	if (ep->short_of_defaults)
		reg->requests_short += count;
	for (__u32 i = 0; i < ep->n_targets; i++)
		feed(reg, &reg->entries[ep->targets[i]], o, count, now_s);
}

void slo_registry__record_endpoint(struct slo_registry *reg, struct slo_endpoint *ep,
				   unsigned int status, __u64 latency_ns, __u64 now_s)
{
	slo_registry__record_endpoint_request(reg, ep, &(struct slo_request){
		.status = status, .latency_ns = latency_ns }, now_s);
}

void slo_registry__record_endpoint_request(struct slo_registry *reg, struct slo_endpoint *ep,
					   const struct slo_request *r, __u64 now_s)
{
	if (ep)
		record_at(reg, &ep->ep, &(struct outcome){ .r = *r }, 1, now_s);
}

static void record(struct slo_registry *reg, const char *service, const char *method,
		   const char *route, const struct outcome *o, __u64 count, __u64 now_s)
{
	struct slo_endpoint *ep;

	if (slo_registry__resolve(reg, service, method, route, now_s, &ep))
		record_unremembered(reg, service, method, route, o, count, now_s);
	else if (ep)
		record_at(reg, &ep->ep, o, count, now_s);
}

void slo_registry__record(struct slo_registry *reg, const char *service, const char *method,
			  const char *route, unsigned int status, __u64 latency_ns, __u64 now_s)
{
	slo_registry__record_request(reg, service, method, route, &(struct slo_request){
		.status = status, .latency_ns = latency_ns }, now_s);
}

void slo_registry__record_request(struct slo_registry *reg, const char *service,
				  const char *method, const char *route,
				  const struct slo_request *r, __u64 now_s)
{
	record(reg, service, method, route, &(struct outcome){ .r = *r }, 1, now_s);
}

void slo_registry__record_failure(struct slo_registry *reg, const char *service,
				  const char *method, const char *route, __u64 count, __u64 now_s)
{
	static const struct outcome failed = { .failed = true };
	size_t i, end;

	if (method && route) {
		record(reg, service, method, route, &failed, count, now_s);
		return;
	}
	/* no request was read: only SLOs about the whole service can count it */
	for (end = explicit_range(reg, service, &i); i < end; i++)
		if (!reg->entries[i].cfg->n_endpoints)
			feed(reg, &reg->entries[i], &failed, count, now_s);
}

void slo_registry__record_call(struct slo_registry *reg, const char *dependency,
			       unsigned int status, __u64 latency_ns, bool failed, __u64 now_s)
{
	slo_registry__record_call_request(reg, dependency, &(struct slo_request){
		.status = status, .latency_ns = latency_ns }, failed, now_s);
}

void slo_registry__record_call_request(struct slo_registry *reg, const char *dependency,
				       const struct slo_request *r, bool failed, __u64 now_s)
{
	const struct outcome o = { .r = *r, .failed = failed };
	size_t i, end = range_of(reg, reg->n_service, reg->n_explicit, dependency, &i);

	for (; i < end; i++)
		feed(reg, &reg->entries[i], &o, 1, now_s);
}

void slo_registry__set_bad_hook(struct slo_registry *reg, slo_registry_bad_fn fn, void *ctx)
{
	reg->on_bad = fn;
	reg->on_bad_ctx = ctx;
}

/* ---- restoring default copies -------------------------------------------- */

static const struct slo_config *template_named(const struct slo_registry *reg, const char *name)
{
	for (size_t t = 0; t < reg->n_templates; t++)
		if (!strcmp(reg->templates[t].name, name))
			return &reg->templates[t];
	return NULL;
}

const struct slo_config *slo_registry__default_spec(const struct slo_registry *reg,
						     const char *name, struct slo_spec *out)
{
	const struct slo_config *t = template_named(reg, name);

	if (t)
		spec_of(t, out);
	return t;
}

int slo_registry__adopt_default(struct slo_registry *reg, const char *name, const char *service,
				const char *endpoint, struct slo *engine, __u64 now_s)
{
	const struct slo_config *t = template_named(reg, name);
	const char *sp = strchr(endpoint, ' '), *route;
	char method[METHOD_MAX];
	struct endpoint *ep;

	if (!t)
		return -ENOENT;
	if (!sp || sp == endpoint || (size_t)(sp - endpoint) >= sizeof(method))
		return -EINVAL;
	memcpy(method, endpoint, sp - endpoint);
	method[sp - endpoint] = '\0';
	route = sp + 1;
	ep = endpoint_get(reg, service, method, route, now_s);
	if (!ep)
		return -errno;
	if (reg->restoring)
		endpoint_add_defaults(reg, ep, t, now_s);
	for (__u32 i = 0; i < ep->n_targets; i++) {
		size_t k = ep->targets[i];

		if (reg->entries[k].is_default && reg->entries[k].cfg == t) {
			slo_registry__replace(reg, k, engine);
			return 0;
		}
	}
	/* no copy: an explicit SLO covers it, or there was no room */
	return explicit_coverage(reg, service, method, route) & (1u << t->sli) ? -ENOENT : -ENOSPC;
}

void slo_registry__restore_begin(struct slo_registry *reg)
{
	reg->restoring = true;
}

void slo_registry__restore_end(struct slo_registry *reg, __u64 now_s)
{
	reg->restoring = false;
	for (size_t i = 0; i < reg->n_slots; i++)
		if (reg->slots[i])
			endpoint_add_defaults(reg, reg->slots[i], NULL, now_s);
}

/* ---- labels ------------------------------------------------------------- */

static void write_labels(FILE *out, const struct slo_entry *e)
{
	fputs("{slo=", out);
	prom__label_value(out, e->cfg->name);
	fputs(",service=", out);
	prom__label_value(out, e->service);
	fputs(",endpoint=", out);
	prom__label_value(out, e->endpoint);
}

static void write_value(FILE *out, double v)
{
	if (isnan(v))
		fputs(" NaN\n", out);
	else if (isinf(v))
		fputs(v > 0 ? " +Inf\n" : " -Inf\n", out);
	else
		fprintf(out, " %.9g\n", v);
}

/* "5m", "28d", "week": a window as people write it */
void slo_registry__duration_label(char *buf, size_t len, __u64 s)
{
	if (s % 86400 == 0)
		snprintf(buf, len, "%llud", (unsigned long long)(s / 86400));
	else if (s % 3600 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(s / 3600));
	else if (s % 60 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(s / 60));
	else
		snprintf(buf, len, "%llus", (unsigned long long)s);
}

void slo_registry__window_label(char *buf, size_t len, const struct slo_config *sc)
{
	switch (sc->window) {
	case SLO_WINDOW_CALENDAR_WEEK:
		snprintf(buf, len, "week");
		break;
	case SLO_WINDOW_CALENDAR_4W:
		snprintf(buf, len, "4w");
		break;
	case SLO_WINDOW_CALENDAR_MONTH:
		snprintf(buf, len, "month");
		break;
	default:
		slo_registry__duration_label(buf, len, sc->window_s);
	}
}

/* The condition label of a burn-rate rule: burn_rate_1h_5m_14.4 */
void slo_registry__rule_condition(char *buf, size_t len, const struct slo_alert_rule *rule)
{
	char l[16], s[16];

	slo_registry__duration_label(l, sizeof(l), rule->long_s);
	slo_registry__duration_label(s, sizeof(s), rule->short_s);
	snprintf(buf, len, "burn_rate_%s_%s_%g", l, s, rule->factor);
}

static const struct {
	unsigned int bit;
	const char *severity, *condition;
} policies[] = {
	{ SLO_POLICY_EXHAUSTION, "page", "budget_exhausted" },
	{ SLO_POLICY_PERIOD_BUDGET, "ticket", "budget_70pct_of_period" },
	{ SLO_POLICY_FAST_BURN, "page", "budget_30pct_in_24h" },
	{ SLO_POLICY_SLOW_BURN, "ticket", "budget_50pct_in_7d" },
};
#define N_POLICIES	(sizeof(policies) / sizeof(policies[0]))

int slo_registry__policy(size_t p, unsigned int *bit, const char **severity,
			 const char **condition)
{
	if (p >= N_POLICIES)
		return -ENOENT;
	*bit = policies[p].bit;
	*severity = policies[p].severity;
	*condition = policies[p].condition;
	return 0;
}

/* ---- alerts ------------------------------------------------------------- */

static unsigned int alerts_now(const struct slo_entry *e, __u64 now_s)
{
	unsigned int active = 0, met = slo__policy(e->engine, now_s);

	for (int r = 0; r < SLO_DEFAULT_ALERT_RULES; r++)
		if (slo__burn_alert(e->engine, now_s, &slo_default_alert_rules[r]))
			active |= 1u << r;
	for (size_t p = 0; p < N_POLICIES; p++)
		if (met & policies[p].bit)
			active |= 1u << (SLO_DEFAULT_ALERT_RULES + p);
	return active;
}

struct line {
	char buf[LOG_LINE_MAX];
	size_t len;
};

__attribute__((format(printf, 2, 3)))
static void line_add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->len >= sizeof(l->buf) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n < sizeof(l->buf) - l->len ? (size_t)n : sizeof(l->buf) - 1 - l->len;
}

/* key="value", logfmt: \ and " escaped, control bytes as \xNN, one line */
static void line_str(struct line *l, const char *key, const char *v)
{
	line_add(l, " %s=\"", key);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			line_add(l, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			line_add(l, "\\x%02x", *p);
		else
			line_add(l, "%c", *p);
	}
	line_add(l, "\"");
}

static int burn_index(__u64 window_s)
{
	for (int w = 0; w < SLO_BURN_WINDOWS; w++)
		if (slo_burn_window_s[w] == window_s)
			return w;
	return -1;
}

static void line_burn(struct line *l, const struct slo_status *st, __u64 window_s)
{
	char label[16];
	int w = burn_index(window_s);

	slo_registry__duration_label(label, sizeof(label), window_s);
	if (w >= 0)
		line_add(l, " burn_rate_%s=%.4g", label, st->burn_rate[w]);
}

/* One alert condition starting or ending: what the on-call engineer needs. */
static void log_transition(const struct slo_entry *e, unsigned int bit, bool started,
			   const struct slo_status *st)
{
	const struct slo_config *sc = e->cfg;
	struct line l = { .len = 0 };
	char cond[64], window[16];

	slo_registry__window_label(window, sizeof(window), sc);
	line_add(&l, "SLO alert %s:", started ? "started" : "ended");
	line_str(&l, "slo", sc->name);
	line_str(&l, "service", e->service);
	line_str(&l, "endpoint", e->endpoint);
	if (bit < SLO_DEFAULT_ALERT_RULES) {
		const struct slo_alert_rule *rule = &slo_default_alert_rules[bit];

		slo_registry__rule_condition(cond, sizeof(cond), rule);
		line_add(&l, " severity=%s condition=%s", rule->severity, cond);
		line_burn(&l, st, rule->long_s);
		line_burn(&l, st, rule->short_s);
		line_add(&l, " factor=%g", rule->factor);
	} else {
		size_t p = bit - SLO_DEFAULT_ALERT_RULES;

		line_add(&l, " severity=%s condition=%s", policies[p].severity,
			 policies[p].condition);
		switch (policies[p].bit) {
		case SLO_POLICY_EXHAUSTION:
			line_add(&l, " exhaustion_seconds=%.0f", st->exhaustion_s);
			break;
		case SLO_POLICY_PERIOD_BUDGET:
			line_add(&l, " budget_consumed=%.4g threshold=%g",
				 1 - st->budget_remaining, SLO_POLICY_PERIOD_PCT / 100.0);
			break;
		case SLO_POLICY_FAST_BURN:
			line_add(&l, " budget_consumed_24h=%.4g threshold=%g",
				 st->budget_consumed_24h, SLO_POLICY_FAST_BURN_PCT / 100.0);
			break;
		case SLO_POLICY_SLOW_BURN:
			line_add(&l, " budget_consumed_7d=%.4g threshold=%g",
				 st->budget_consumed_7d, SLO_POLICY_SLOW_BURN_PCT / 100.0);
			break;
		}
	}
	line_add(&l, " sli=%.6g objective=%.9g window=%s budget_remaining=%.4g", st->sli,
		 sc->objective, window, st->budget_remaining);
	if (sc->runbook_url)
		line_str(&l, "runbook_url", sc->runbook_url);
	if (started)
		log__warn("%s", l.buf);
	else
		log__info("%s", l.buf);
}

size_t slo_registry__evaluate_alerts(struct slo_registry *reg, __u64 now_s)
{
	size_t changes = 0;

	for (size_t i = 0; i < reg->n; i++) {
		struct slo_entry *e = &reg->entries[i];
		unsigned int active = alerts_now(e, now_s), changed = active ^ e->alerts;
		struct slo_status st;

		if (!changed)
			continue;
		slo__status(e->engine, now_s, &st);
		for (unsigned int bit = 0; bit < SLO_DEFAULT_ALERT_RULES + N_POLICIES; bit++) {
			if (!(changed & (1u << bit)))
				continue;
			log_transition(e, bit, active & (1u << bit), &st);
			changes++;
		}
		e->alerts = active;
	}
	return changes;
}

/* The same SLO in two registries: name, labels and whether it is a copy. */
static int entry_key_cmp(const struct slo_entry *x, const struct slo_entry *y)
{
	int c = strcmp(x->cfg->name, y->cfg->name);

	if (!c)
		c = strcmp(x->service, y->service);
	if (!c)
		c = strcmp(x->endpoint, y->endpoint);
	return c ? c : (int)x->is_default - (int)y->is_default;
}

static int entry_index_cmp(const void *a, const void *b, void *entries)
{
	const struct slo_entry *v = entries;

	return entry_key_cmp(&v[*(const size_t *)a], &v[*(const size_t *)b]);
}

/* For each SLO of from: its match in to (same key), or NULL, given to fn. 0 or -ENOMEM. */
static int match_entries(struct slo_registry *to, const struct slo_registry *from,
			 void (*fn)(const struct slo_entry *e, struct slo_entry *match,
				    __u64 now_s),
			 __u64 now_s)
{
	size_t *index = malloc((to->n ? to->n : 1) * sizeof(*index));

	if (!index)
		return -ENOMEM;
	for (size_t i = 0; i < to->n; i++)
		index[i] = i;
	qsort_r(index, to->n, sizeof(*index), entry_index_cmp, to->entries);
	for (size_t i = 0; i < from->n; i++) {
		const struct slo_entry *e = &from->entries[i];
		struct slo_entry *match = NULL;
		size_t lo = 0, hi = to->n;

		while (lo < hi && !match) {
			size_t mid = lo + (hi - lo) / 2;
			int c = entry_key_cmp(e, &to->entries[index[mid]]);

			if (!c)
				match = &to->entries[index[mid]];
			else if (c < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
		fn(e, match, now_s);
	}
	free(index);
	return 0;
}

static void copy_alerts(const struct slo_entry *e, struct slo_entry *match, __u64 now_s)
{
	(void)now_s;
	if (!match)
		return;
	match->alerts = e->alerts;	/* the next evaluation logs only changes */
	/* the same process: its exported counters go on, never back */
	slo__take_counters(match->engine, e->engine);
}

static void end_alerts(const struct slo_entry *e, struct slo_entry *match, __u64 now_s)
{
	struct slo_status st;

	if (match || !e->alerts)
		return;
	slo__status(e->engine, now_s, &st);
	for (unsigned int bit = 0; bit < SLO_DEFAULT_ALERT_RULES + N_POLICIES; bit++)
		if (e->alerts & (1u << bit))
			log_transition(e, bit, false, &st);
}

int slo_registry__carry_alerts(struct slo_registry *to, const struct slo_registry *from)
{
	return match_entries(to, from, copy_alerts, 0);
}

int slo_registry__end_removed_alerts(struct slo_registry *to, const struct slo_registry *from,
				     __u64 now_s)
{
	return match_entries(to, from, end_alerts, now_s);
}

void slo_registry__tick(struct slo_registry *reg, __u64 now_s)
{
	/* also when the clock went back by more than an interval */
	if (now_s < reg->next_alert_s && reg->next_alert_s - now_s <= SLO_REGISTRY_ALERT_INTERVAL_S)
		return;
	reg->next_alert_s = now_s + SLO_REGISTRY_ALERT_INTERVAL_S;
	/* an SLO with no traffic follows a clock set far back too */
	for (size_t i = 0; i < reg->n; i++)
		slo__clock(reg->entries[i].engine, now_s);
	slo_registry__evaluate_alerts(reg, now_s);
}

/* ---- exposition ----------------------------------------------------------- */

static void write_one(const struct slo_entry *e, FILE *out, __u64 now_s, int metric,
		      const struct slo_status *st)
{
	const struct slo_config *sc = e->cfg;
	char label[64];

	switch (metric) {
	case 0:
		write_labels(out, e);
		fprintf(out, ",result=\"good\"} %llu\n",
			(unsigned long long)st->process_good_total);
		fputs(METRIC_SLO_EVENTS, out);
		write_labels(out, e);
		fprintf(out, ",result=\"bad\"} %llu\n",
			(unsigned long long)(st->process_events_total - st->process_good_total));
		break;
	case 1:
		write_labels(out, e);
		fputc('}', out);
		write_value(out, sc->objective);
		break;
	case 2:
		slo_registry__window_label(label, sizeof(label), sc);
		write_labels(out, e);
		fprintf(out, ",window=\"%s\"}", label);
		write_value(out, st->sli);
		break;
	case 3:
		write_labels(out, e);
		fputc('}', out);
		write_value(out, st->budget_remaining);
		break;
	case 4:
		for (int w = 0; w < SLO_BURN_WINDOWS; w++) {
			if (w)
				fputs(METRIC_SLO_BURN_RATE, out);
			write_labels(out, e);
			fprintf(out, ",window=\"%s\"}", slo_burn_window_names[w]);
			write_value(out, st->burn_rate[w]);
		}
		break;
	case 5:
		write_labels(out, e);
		fputc('}', out);
		write_value(out, st->exhaustion_s);
		break;
	case 6: {
		unsigned int met = slo__policy(e->engine, now_s);

		for (int r = 0; r < SLO_DEFAULT_ALERT_RULES; r++) {
			const struct slo_alert_rule *rule = &slo_default_alert_rules[r];

			if (r)
				fputs(METRIC_SLO_ALERT, out);
			slo_registry__rule_condition(label, sizeof(label), rule);
			write_labels(out, e);
			fprintf(out, ",severity=\"%s\",condition=\"%s\"} %d\n", rule->severity,
				label, slo__burn_alert(e->engine, now_s, rule));
		}
		for (size_t p = 0; p < N_POLICIES; p++) {
			fputs(METRIC_SLO_ALERT, out);
			write_labels(out, e);
			fprintf(out, ",severity=\"%s\",condition=\"%s\"} %d\n", policies[p].severity,
				policies[p].condition, !!(met & policies[p].bit));
		}
		break;
	}
	case 7:
		write_labels(out, e);
		fputc('}', out);
		write_value(out, st->depletion_per_hour);
		break;
	case 8:
		write_labels(out, e);
		fprintf(out, "} %d\n", st->insufficient_data);
		break;
	case 9:
		write_labels(out, e);
		fprintf(out, ",result=\"good\"} %llu\n", (unsigned long long)st->window_good);
		fputs(METRIC_SLO_WINDOW_EVENTS, out);
		write_labels(out, e);
		fprintf(out, ",result=\"bad\"} %llu\n",
			(unsigned long long)(st->window_total - st->window_good));
		break;
	}
}

static void write_defaults(const struct slo_registry *reg, FILE *out)
{
	prom__header(out, METRIC_SLO_DEFAULT_INSTANCES, "gauge",
		     "Default SLO copies made for endpoints (at most max_default_slos).");
	fprintf(out, METRIC_SLO_DEFAULT_INSTANCES " %zu\n", reg->n_defaults);
	prom__header(out, METRIC_SLO_DEFAULTS_DROPPED, "counter",
		     "Default SLO copies an endpoint should have got but did not: "
		     "max_default_slos reached (or out of memory).");
	fprintf(out, METRIC_SLO_DEFAULTS_DROPPED " %llu\n",
		(unsigned long long)reg->defaults_dropped);
	prom__header(out, METRIC_SLO_DEFAULT_REQS_DROPPED, "counter",
		     "Requests of endpoints left without some default SLO copy: "
		     "no default SLO counted them.");
	fprintf(out, METRIC_SLO_DEFAULT_REQS_DROPPED " %llu\n",
		(unsigned long long)reg->requests_short);
}

int slo_registry__write_prometheus(const struct slo_registry *reg, FILE *out, __u64 now_s)
{
	static const struct {
		const char *name, *type, *help;
	} metrics[] = {
		{ METRIC_SLO_EVENTS, "counter",
		  "Requests an SLO counted, good or bad, since the agent started (0 at start, "
		  "whatever the saved state)." },
		{ METRIC_SLO_OBJECTIVE, "gauge", "The SLO's objective." },
		{ METRIC_SLO_SLI, "gauge", "Good over total events in the SLO's window." },
		{ METRIC_SLO_BUDGET_REMAINING, "gauge",
		  "Fraction of the window's error budget left; negative once overspent." },
		{ METRIC_SLO_BURN_RATE, "gauge",
		  "Error rate over the window divided by the error budget (1 spends it in one SLO window)." },
		{ METRIC_SLO_EXHAUSTION, "gauge",
		  "Forecast seconds until the budget is spent at the 1h burn rate (+Inf: not burning)." },
		{ METRIC_SLO_ALERT, "gauge",
		  "1 while a multiwindow burn-rate rule or an error budget policy condition holds." },
		{ METRIC_SLO_DEPLETION, "gauge",
		  "Fraction of the window's error budget spent per hour at the 1h burn rate." },
		{ METRIC_SLO_INSUFFICIENT_DATA, "gauge",
		  "1 while the SLO window holds fewer than min_events events: budget unknown (NaN), no alert." },
		{ METRIC_SLO_WINDOW_EVENTS, "gauge",
		  "Good and bad events in the SLO window (minutes with budgeting: timeslices), "
		  "restored from the saved state: what the SLI and the budget are computed from." },
	};

	struct slo_status *st;

	if (reg->n_templates)
		write_defaults(reg, out);
	if (!reg->n)
		return ferror(out) ? -EIO : 0;
	/* each status once: a window sum walks hundreds of buckets */
	st = calloc(reg->n, sizeof(*st));
	if (!st)
		return -ENOMEM;
	for (size_t i = 0; i < reg->n; i++)
		slo__status(reg->entries[i].engine, now_s, &st[i]);
	for (size_t m = 0; m < sizeof(metrics) / sizeof(metrics[0]); m++) {
		prom__header(out, metrics[m].name, metrics[m].type, metrics[m].help);
		for (size_t i = 0; i < reg->n; i++) {
			fputs(metrics[m].name, out);
			write_one(&reg->entries[i], out, now_s, m, &st[i]);
		}
	}
	free(st);
	return ferror(out) ? -EIO : 0;
}

/* ---- alert conditions, for the Alertmanager push -------------------------- */

bool slo_registry__alert_condition(unsigned int bit, const char **severity, char *cond,
				   size_t len)
{
	if (bit < SLO_DEFAULT_ALERT_RULES) {
		*severity = slo_default_alert_rules[bit].severity;
		slo_registry__rule_condition(cond, len, &slo_default_alert_rules[bit]);
		return true;
	}
	bit -= SLO_DEFAULT_ALERT_RULES;
	if (bit >= N_POLICIES)
		return false;
	*severity = policies[bit].severity;
	snprintf(cond, len, "%s", policies[bit].condition);
	return true;
}
