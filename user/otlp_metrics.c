// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The exposition to OTLP (see otlp_metrics.h). The messages are built in an
 * arena, packed with protobuf-c, and the arena freed at once. The text
 * parsed is the agent's own, written by prom.c and its callers: one
 * "# TYPE" line before each family's samples, a histogram's buckets, sum
 * and count together per series with le its last label.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "otlp_metrics.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint NumberPoint;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint HistPoint;

/* ---- arena: every message of one export, freed at once ---- */

#define ARENA_CHUNK	(256 * 1024)

struct chunk {
	struct chunk *next;
	size_t used, size;
	max_align_t data[];
};

struct arena {
	struct chunk *head;
	bool failed;
};

static void *arena_alloc(struct arena *a, size_t n)
{
	struct chunk *c = a->head;
	void *p;

	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (!c || c->size - c->used < n) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;

		c = malloc(sizeof(*c) + size);
		if (!c) {
			a->failed = true;
			return NULL;
		}
		c->next = a->head;
		c->used = 0;
		c->size = size;
		a->head = c;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

static void arena_free(struct arena *a)
{
	while (a->head) {
		struct chunk *c = a->head;

		a->head = c->next;
		free(c);
	}
}

static char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (p)
		memcpy(p, s, n);
	return p;
}

/* Room for one more element of a growing array (elements of size sz). */
static bool arena_push(struct arena *a, void **arr, size_t n, size_t *cap, size_t sz)
{
	void *p;

	if (n < *cap)
		return true;
	p = arena_alloc(a, (*cap ? *cap * 2 : 8) * sz);
	if (!p)
		return false;
	if (n)
		memcpy(p, *arr, n * sz);
	*arr = p;
	*cap = *cap ? *cap * 2 : 8;
	return true;
}

/* ---- one sample line ---- */

#define LABELS_MAX	32

struct sample {
	const char *name;
	size_t name_len;
	struct { char *key, *value; } labels[LABELS_MAX];
	size_t n_labels;
	double value;
};

/* A label value's escapes (\\, \", \n) undone, into the arena. */
static char *unescape(struct arena *a, const char *p, const char *end, const char **next)
{
	char *out = arena_alloc(a, end - p + 1), *o = out;

	if (!out)
		return NULL;
	while (p < end && *p != '"') {
		if (*p == '\\' && p + 1 < end) {
			p++;
			*o++ = *p == 'n' ? '\n' : *p;
			p++;
			continue;
		}
		*o++ = *p++;
	}
	if (p == end)
		return NULL;
	*next = p + 1;
	return out;
}

static bool parse_sample(struct arena *a, const char *p, const char *end, struct sample *s)
{
	char num[64], *nend;
	size_t n;

	s->name = p;
	while (p < end && *p != '{' && *p != ' ')
		p++;
	s->name_len = p - s->name;
	s->n_labels = 0;
	if (!s->name_len)
		return false;
	if (p < end && *p == '{') {
		p++;
		while (p < end && *p != '}') {
			const char *k = p;

			if (s->n_labels == LABELS_MAX)
				return false;
			while (p < end && *p != '=')
				p++;
			if (p + 1 >= end || p[1] != '"')
				return false;
			s->labels[s->n_labels].key = arena_strndup(a, k, p - k);
			s->labels[s->n_labels].value = unescape(a, p + 2, end, &p);
			if (!s->labels[s->n_labels].key || !s->labels[s->n_labels].value)
				return false;
			s->n_labels++;
			if (p < end && *p == ',')
				p++;
		}
		if (p == end)
			return false;
		p++;
	}
	while (p < end && *p == ' ')
		p++;
	n = strcspn(p, " \n");
	if (!n || n >= sizeof(num) || p + n > end)
		return false;
	memcpy(num, p, n);
	num[n] = 0;
	s->value = strtod(num, &nend);	/* +Inf, -Inf and NaN too */
	return *nend == 0;
}

/* ---- families ---- */

enum kind { K_GAUGE, K_COUNTER, K_HISTOGRAM };

struct family {
	Metric *m;
	enum kind kind;
	const char *name;
	size_t name_len;
	void **points;		/* NumberPoint * or HistPoint * */
	size_t n_points, cap_points;
	/* the histogram series being read: its le bounds and cumulative counts */
	const char *series_key;
	size_t n_bounds, cap_bounds, cap_counts;
};

struct encoder {
	struct arena a;
	const struct otlp_source *src;
	__u64 now_ns;
	Metric **metrics;
	size_t n_metrics, cap_metrics;
	struct family fam;	/* the current one; fam.m NULL before the first */
	size_t points, skipped;
};

static const char *unit_of(const char *name, size_t len)
{
	static const struct { const char *suffix, *unit; } units[] = {
		{ "_seconds", "s" }, { "_bytes", "By" }, { "_ratio", "1" },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t n = strlen(units[i].suffix);

		if (len > n && !memcmp(name + len - n, units[i].suffix, n))
			return units[i].unit;
	}
	return "";
}

static bool kv_set(struct arena *a, KeyValue **out, const char *key, const char *str)
{
	KeyValue *kv = arena_alloc(a, sizeof(*kv));
	AnyValue *v = arena_alloc(a, sizeof(*v));

	if (!kv || !v)
		return false;
	opentelemetry__proto__common__v1__key_value__init(kv);
	opentelemetry__proto__common__v1__any_value__init(v);
	kv->key = (char *)key;
	kv->value = v;
	v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	v->string_value = (char *)str;
	*out = kv;
	return true;
}

/* The sample's labels but le, as attributes. */
static bool attributes(struct arena *a, const struct sample *s, KeyValue ***out, size_t *n)
{
	*n = 0;
	*out = arena_alloc(a, (s->n_labels ? s->n_labels : 1) * sizeof(**out));
	if (!*out)
		return false;
	for (size_t i = 0; i < s->n_labels; i++) {
		if (!strcmp(s->labels[i].key, "le"))
			continue;
		if (!kv_set(a, &(*out)[(*n)++], s->labels[i].key, s->labels[i].value))
			return false;
	}
	return true;
}

/* The family's data points into its message; then it is done. */
static bool family_close(struct encoder *e)
{
	struct family *f = &e->fam;
	Metric *m = f->m;

	if (!m)
		return true;
	switch (f->kind) {
	case K_HISTOGRAM:
		m->histogram->n_data_points = f->n_points;
		m->histogram->data_points = (HistPoint **)f->points;
		break;
	case K_COUNTER:
		m->sum->n_data_points = f->n_points;
		m->sum->data_points = (NumberPoint **)f->points;
		break;
	default:
		m->gauge->n_data_points = f->n_points;
		m->gauge->data_points = (NumberPoint **)f->points;
	}
	if (!arena_push(&e->a, (void **)&e->metrics, e->n_metrics, &e->cap_metrics,
			sizeof(*e->metrics)))
		return false;
	e->metrics[e->n_metrics++] = m;
	e->points += f->n_points;
	memset(f, 0, sizeof(*f));
	return true;
}

static bool family_open(struct encoder *e, const char *name, size_t len, const char *type,
			const char *help)
{
	struct family *f = &e->fam;
	Metric *m;

	if (!family_close(e))
		return false;
	m = arena_alloc(&e->a, sizeof(*m));
	if (!m)
		return false;
	opentelemetry__proto__metrics__v1__metric__init(m);
	m->name = arena_strndup(&e->a, name, len);
	m->description = (char *)(help ? help : "");
	m->unit = (char *)unit_of(name, len);
	f->m = m;
	f->name = m->name;
	f->name_len = len;
	if (!strcmp(type, "histogram")) {
		f->kind = K_HISTOGRAM;
		m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
		m->histogram = arena_alloc(&e->a, sizeof(*m->histogram));
		if (m->histogram) {
			opentelemetry__proto__metrics__v1__histogram__init(m->histogram);
			m->histogram->aggregation_temporality =
				OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
		}
		return m->name && m->histogram;
	}
	if (!strcmp(type, "counter")) {
		f->kind = K_COUNTER;
		m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
		m->sum = arena_alloc(&e->a, sizeof(*m->sum));
		if (m->sum) {
			opentelemetry__proto__metrics__v1__sum__init(m->sum);
			m->sum->aggregation_temporality =
				OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
			m->sum->is_monotonic = true;
		}
		return m->name && m->sum;
	}
	f->kind = K_GAUGE;	/* gauge, untyped, anything else */
	m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
	m->gauge = arena_alloc(&e->a, sizeof(*m->gauge));
	if (m->gauge)
		opentelemetry__proto__metrics__v1__gauge__init(m->gauge);
	return m->name && m->gauge;
}

static bool number_point(struct encoder *e, const struct sample *s)
{
	struct family *f = &e->fam;
	NumberPoint *p = arena_alloc(&e->a, sizeof(*p));

	if (!p || !arena_push(&e->a, (void **)&f->points, f->n_points, &f->cap_points, sizeof(void *)))
		return false;
	opentelemetry__proto__metrics__v1__number_data_point__init(p);
	if (!attributes(&e->a, s, &p->attributes, &p->n_attributes))
		return false;
	if (f->kind == K_COUNTER)
		p->start_time_unix_nano = e->src->start_unix_ns;
	p->time_unix_nano = e->now_ns;
	p->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
	p->as_double = s->value;
	f->points[f->n_points++] = p;
	return true;
}

/* The labels of a histogram sample but le, as one string: which series it is. */
static char *series_key(struct arena *a, const struct sample *s)
{
	size_t len = 1;
	char *k, *o;

	for (size_t i = 0; i < s->n_labels; i++)
		len += strlen(s->labels[i].key) + strlen(s->labels[i].value) + 2;
	k = o = arena_alloc(a, len);
	if (!k)
		return NULL;
	for (size_t i = 0; i < s->n_labels; i++) {
		if (!strcmp(s->labels[i].key, "le"))
			continue;
		o += sprintf(o, "%s%c%s%c", s->labels[i].key, 0, s->labels[i].value, 0);
	}
	return k;
}

static bool same_key(const char *x, const char *y)
{
	/* both end with an empty key: pairs of NUL-terminated strings */
	for (;;) {
		size_t n = strlen(x), m = strlen(y);

		if (n != m || memcmp(x, y, n))
			return false;
		if (!n)
			return true;
		x += n + 1;
		y += m + 1;
		n = strlen(x);
		if (n != strlen(y) || memcmp(x, y, n))
			return false;
		x += n + 1;
		y += n + 1;
	}
}

static const char *label(const struct sample *s, const char *key)
{
	for (size_t i = 0; i < s->n_labels; i++)
		if (!strcmp(s->labels[i].key, key))
			return s->labels[i].value;
	return NULL;
}

/* A _bucket, _sum or _count line of the current histogram family (suffix: which). */
static bool histogram_sample(struct encoder *e, const struct sample *s, const char *suffix)
{
	struct family *f = &e->fam;
	HistPoint *p = f->n_points ? f->points[f->n_points - 1] : NULL;
	char *key = series_key(&e->a, s);

	if (!key)
		return false;
	if (!p || !same_key(f->series_key, key)) {
		/* a new series: its first line */
		p = arena_alloc(&e->a, sizeof(*p));
		if (!p || !arena_push(&e->a, (void **)&f->points, f->n_points, &f->cap_points,
				      sizeof(void *)))
			return false;
		opentelemetry__proto__metrics__v1__histogram_data_point__init(p);
		if (!attributes(&e->a, s, &p->attributes, &p->n_attributes))
			return false;
		p->start_time_unix_nano = e->src->start_unix_ns;
		p->time_unix_nano = e->now_ns;
		f->points[f->n_points++] = p;
		f->series_key = key;
		f->n_bounds = f->cap_bounds = f->cap_counts = 0;
	}
	if (!strcmp(suffix, "_sum")) {
		p->sum = s->value;
	} else if (!strcmp(suffix, "_count")) {
		p->count = (__u64)s->value;
	} else {
		/* cumulative at each le as written; OTLP wants each bucket's own */
		const char *le = label(s, "le");
		__u64 cum = (__u64)s->value, before = 0;

		if (!le)
			return false;
		for (size_t i = 0; i < p->n_bucket_counts; i++)
			before += p->bucket_counts[i];
		if (!arena_push(&e->a, (void **)&p->bucket_counts, p->n_bucket_counts,
				&f->cap_counts, sizeof(*p->bucket_counts)))
			return false;
		p->bucket_counts[p->n_bucket_counts++] = cum >= before ? cum - before : 0;
		if (strcmp(le, "+Inf")) {
			if (!arena_push(&e->a, (void **)&p->explicit_bounds, p->n_explicit_bounds,
					&f->cap_bounds, sizeof(*p->explicit_bounds)))
				return false;
			p->explicit_bounds[p->n_explicit_bounds++] = strtod(le, NULL);
		}
	}
	return true;
}

/* Which suffix of the family's name a sample's name is ("" for itself), or NULL. */
static const char *suffix_of(const struct family *f, const struct sample *s)
{
	static const char *const suffixes[] = { "", "_bucket", "_sum", "_count" };

	if (!f->m || s->name_len < f->name_len || memcmp(s->name, f->name, f->name_len))
		return NULL;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t n = strlen(suffixes[i]);

		if (s->name_len == f->name_len + n && !memcmp(s->name + f->name_len, suffixes[i], n))
			return suffixes[i];
	}
	return NULL;
}

static bool line(struct encoder *e, const char *p, const char *end, const char **help)
{
	struct sample s;
	const char *suffix;

	if (p == end)
		return true;
	if (!strncmp(p, "# HELP ", 7)) {
		const char *name = p + 7, *sp = memchr(name, ' ', end - name);
		char *h, *o;

		if (!sp)
			return true;
		h = o = arena_alloc(&e->a, end - sp);
		if (!h)
			return false;
		for (p = sp + 1; p < end; p++) {
			if (*p == '\\' && p + 1 < end) {
				p++;
				*o++ = *p == 'n' ? '\n' : *p;
			} else {
				*o++ = *p;
			}
		}
		*help = h;
		return true;
	}
	if (!strncmp(p, "# TYPE ", 7)) {
		const char *name = p + 7, *sp = memchr(name, ' ', end - name);
		char type[16];

		if (!sp || end - sp - 1 >= (long)sizeof(type)) {
			e->skipped++;
			return true;
		}
		memcpy(type, sp + 1, end - sp - 1);
		type[end - sp - 1] = 0;
		if (!family_open(e, name, sp - name, type, *help))
			return false;
		*help = NULL;
		return true;
	}
	if (*p == '#')
		return true;
	if (!parse_sample(&e->a, p, end, &s)) {
		if (e->a.failed)
			return false;
		e->skipped++;
		return true;
	}
	suffix = suffix_of(&e->fam, &s);
	if (!suffix || (e->fam.kind == K_HISTOGRAM) != (*suffix != 0)) {
		/* no TYPE before it: a gauge of its own name */
		if (!family_open(e, s.name, s.name_len, "untyped", NULL))
			return false;
		suffix = "";
	}
	if (e->fam.kind == K_HISTOGRAM)
		return histogram_sample(e, &s, suffix);
	return number_point(e, &s);
}

int otlp_metrics__encode(const char *text, size_t len, const struct otlp_source *src,
			 __u64 now_unix_ns, struct otlp_encoded *out)
{
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest req =
		OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_REQUEST__INIT;
	Opentelemetry__Proto__Metrics__V1__ResourceMetrics rm =
		OPENTELEMETRY__PROTO__METRICS__V1__RESOURCE_METRICS__INIT, *rms[1] = { &rm };
	Opentelemetry__Proto__Resource__V1__Resource res =
		OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
	Opentelemetry__Proto__Metrics__V1__ScopeMetrics sm =
		OPENTELEMETRY__PROTO__METRICS__V1__SCOPE_METRICS__INIT, *sms[1] = { &sm };
	Opentelemetry__Proto__Common__V1__InstrumentationScope scope =
		OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
	struct encoder e = { .src = src, .now_ns = now_unix_ns };
	KeyValue *attrs[3];
	const char *p = text, *end = text + len, *help = NULL;
	bool ok = true;

	memset(out, 0, sizeof(*out));
	while (ok && p < end) {
		const char *nl = memchr(p, '\n', end - p);

		if (!nl)
			nl = end;
		ok = line(&e, p, nl, &help);
		p = nl + 1;
	}
	ok = ok && family_close(&e) &&
	     kv_set(&e.a, &attrs[0], "service.name", src->service_name) &&
	     kv_set(&e.a, &attrs[1], "service.version", src->service_version) &&
	     kv_set(&e.a, &attrs[2], "host.name", src->host_name);
	if (ok) {
		res.n_attributes = 3;
		res.attributes = attrs;
		scope.name = (char *)src->service_name;
		scope.version = (char *)src->service_version;
		sm.scope = &scope;
		sm.n_metrics = e.n_metrics;
		sm.metrics = e.metrics;
		rm.resource = &res;
		rm.n_scope_metrics = 1;
		rm.scope_metrics = sms;
		req.n_resource_metrics = 1;
		req.resource_metrics = rms;
		out->len = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__get_packed_size(&req);
		out->buf = malloc(out->len ? out->len : 1);
		ok = out->buf;
	}
	if (ok) {
		opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__pack(&req, out->buf);
		out->points = e.points;
		out->skipped = e.skipped;
	}
	arena_free(&e.a);
	if (!ok) {
		memset(out, 0, sizeof(*out));
		return -ENOMEM;
	}
	return 0;
}
