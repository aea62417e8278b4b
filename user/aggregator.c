// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator.h"
#include "prom.h"
#include "util.h"
#include "metric_names.h"

#define SERIES_MIN_CAP	64

const struct aggregator_family aggregator_http_server = {
	.metric = METRIC_HTTP_SERVER,
	.help = "Duration of HTTP server requests: from the return of the syscall that read "
		"the request's first byte to the return of the syscall that wrote the "
		"response's first byte.",
	.labels = { "service_name", "http_request_method", "http_route", "network_protocol_version" },
	.status_label = "http_response_status_code",
};

struct series {
	__u64 hash;
	const char *values[AGGREGATOR_LABELS_MAX];	/* point into text[] */
	unsigned int status;	/* 0: AGGREGATOR_STATUS_INVALID; or AGGREGATOR_STATUS_UNDECODED */
	struct histogram h;	/* counters use h.count only */
	char text[];
};

struct aggregator {
	const struct aggregator_family *fam;
	const struct latency_buckets *lb;
	size_t n_labels;
	/* open addressing with linear probing: NULL is an empty slot */
	struct series **slots;
	size_t cap;		/* power of two */
	size_t n;
	size_t max_series;	/* of label values; the overflow series is one more */
	struct series *overflow;	/* made when first needed, not in slots */
};

static __u64 series_hash(const struct aggregator *agg, const char *const *values,
			 unsigned int status)
{
	__u64 h = FNV1A64_OFFSET;

	/* each NUL too, so that ("ab", "c") and ("a", "bc") differ */
	for (size_t i = 0; i < agg->n_labels; i++)
		h = fnv1a64(h, values[i], strlen(values[i]) + 1);
	h ^= status;
	/* murmur3 finaliser: the table indexes by the low bits only */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static bool series_is(const struct aggregator *agg, const struct series *s, __u64 hash,
		      const char *const *values, unsigned int status)
{
	if (s->hash != hash || s->status != status)
		return false;
	for (size_t i = 0; i < agg->n_labels; i++) {
		if (strcmp(s->values[i], values[i]))
			return false;
	}
	return true;
}

static size_t slot_of(const struct aggregator *agg, __u64 hash, const char *const *values,
		      unsigned int status)
{
	size_t i = hash & (agg->cap - 1);
	const struct series *s;

	for (; (s = agg->slots[i]); i = (i + 1) & (agg->cap - 1)) {
		if (series_is(agg, s, hash, values, status))
			break;
	}
	return i;
}

static size_t empty_slot(const struct aggregator *agg, __u64 hash)
{
	size_t i = hash & (agg->cap - 1);

	while (agg->slots[i])
		i = (i + 1) & (agg->cap - 1);
	return i;
}

static int grow(struct aggregator *agg)
{
	struct series **old = agg->slots;
	size_t old_cap = agg->cap, i;

	agg->slots = calloc(old_cap * 2, sizeof(*agg->slots));
	if (!agg->slots) {
		agg->slots = old;
		return -ENOMEM;
	}
	agg->cap = old_cap * 2;
	for (i = 0; i < old_cap; i++) {
		if (old[i])
			agg->slots[empty_slot(agg, old[i]->hash)] = old[i];
	}
	free(old);
	return 0;
}

static struct series *series_new(const struct aggregator *agg, __u64 hash,
				 const char *const *values, unsigned int status)
{
	size_t len[AGGREGATOR_LABELS_MAX], total = 0, off = 0;
	struct series *s;

	for (size_t i = 0; i < agg->n_labels; i++)
		total += len[i] = strlen(values[i]) + 1;
	s = calloc(1, sizeof(*s) + total);
	if (!s)
		return NULL;
	if (!agg->fam->counter && histogram__init(&s->h, agg->lb)) {
		free(s);
		return NULL;
	}
	s->hash = hash;
	s->status = status;
	for (size_t i = 0; i < agg->n_labels; i++) {
		s->values[i] = memcpy(s->text + off, values[i], len[i]);
		off += len[i];
	}
	return s;
}

struct aggregator *aggregator__new(const struct aggregator_family *fam,
				   const struct latency_buckets *lb)
{
	struct aggregator *agg = calloc(1, sizeof(*agg));

	if (!agg)
		return NULL;
	agg->fam = fam;
	agg->lb = lb;
	while (agg->n_labels < AGGREGATOR_LABELS_MAX && fam->labels[agg->n_labels])
		agg->n_labels++;
	agg->max_series = AGGREGATOR_DEFAULT_MAX_SERIES;
	agg->cap = SERIES_MIN_CAP;
	agg->slots = calloc(agg->cap, sizeof(*agg->slots));
	if (!agg->slots) {
		free(agg);
		return NULL;
	}
	return agg;
}

void aggregator__free(struct aggregator *agg)
{
	size_t i;

	if (!agg)
		return;
	for (i = 0; i < agg->cap; i++) {
		if (agg->slots[i]) {
			histogram__free(&agg->slots[i]->h);
			free(agg->slots[i]);
		}
	}
	if (agg->overflow) {
		histogram__free(&agg->overflow->h);
		free(agg->overflow);
	}
	free(agg->slots);
	free(agg);
}

void aggregator__set_max_series(struct aggregator *agg, size_t max)
{
	agg->max_series = max ? max : 1;
}

__u64 aggregator__overflow_events(const struct aggregator *agg)
{
	return agg->overflow ? agg->overflow->h.count : 0;
}

const struct aggregator_family *aggregator__family(const struct aggregator *agg)
{
	return agg->fam;
}

static struct series *series_get(struct aggregator *agg, const char *const *values,
				 unsigned int status);

/* the public handle is the series itself */
struct aggregator_series {
	struct series s;
};

static bool values_complete(const struct aggregator *agg, const char *const *values)
{
	for (size_t i = 0; i < agg->n_labels; i++) {
		if (!values[i])
			return false;
	}
	return true;
}

struct aggregator_series *aggregator__find(struct aggregator *agg, const char *const *values,
					   unsigned int status)
{
	if (!values_complete(agg, values))
		return NULL;
	return (struct aggregator_series *)series_get(agg, values, status);
}

void aggregator__observe(struct aggregator *agg, struct aggregator_series *handle,
			 __u64 latency_ns)
{
	struct series *s = &handle->s;

	if (agg->fam->counter)
		s->h.count++;
	else
		histogram__record(&s->h, agg->lb, latency_ns);
}

int aggregator__record(struct aggregator *agg, const char *const *values, unsigned int status,
		       __u64 latency_ns)
{
	struct series *s;

	if (!values_complete(agg, values))
		return -EINVAL;
	s = series_get(agg, values, status);
	if (!s)
		return -ENOMEM;
	aggregator__observe(agg, (struct aggregator_series *)s, latency_ns);
	return 0;
}

int aggregator__count(struct aggregator *agg, const char *const *values, __u64 n)
{
	struct series *s;

	if (!agg->fam->counter || !values_complete(agg, values))
		return -EINVAL;
	s = series_get(agg, values, 0);
	if (!s)
		return -ENOMEM;
	s->h.count += n;
	return 0;
}

/* The series of all the combinations of label values beyond the cap. */
static struct series *overflow_series(struct aggregator *agg)
{
	static const char *const none[AGGREGATOR_LABELS_MAX] = { "", "", "", "", "", "" };

	if (!agg->overflow)
		agg->overflow = series_new(agg, 0, none, 0);
	return agg->overflow;
}

/*
 * The series of these values, made if new, or the overflow series when
 * there is no room; NULL on ENOMEM.
 */
static struct series *series_get(struct aggregator *agg, const char *const *values,
				 unsigned int status)
{
	__u64 hash;
	size_t i;
	struct series *s;

	if (agg->fam->status_label && (status < 100 || status > 599) &&
	    status != AGGREGATOR_STATUS_UNDECODED)
		status = 0;
	hash = series_hash(agg, values, status);
	i = slot_of(agg, hash, values, status);
	s = agg->slots[i];
	if (!s) {
		if (agg->n >= agg->max_series)
			return overflow_series(agg);
		/* grow first: a failed grow must not leave a series uncounted in n */
		if ((agg->n + 1) * 4 > agg->cap * 3) {
			if (grow(agg))
				return NULL;
			i = empty_slot(agg, hash);
		}
		s = series_new(agg, hash, values, status);
		if (!s)
			return NULL;
		agg->slots[i] = s;
		agg->n++;
	}
	return s;
}

size_t aggregator__series(const struct aggregator *agg)
{
	return agg->n + !!agg->overflow;
}

/* qsort has no context argument: the family being sorted, one sort at a time */
static __thread size_t sort_labels;

static int series_cmp(const void *a, const void *b)
{
	const struct series *x = *(const struct series *const *)a;
	const struct series *y = *(const struct series *const *)b;
	int c = 0;

	for (size_t i = 0; !c && i < sort_labels; i++)
		c = strcmp(x->values[i], y->values[i]);
	if (!c)
		c = x->status < y->status ? -1 : x->status > y->status;
	return c;
}

static void write_labels(FILE *out, const struct aggregator *agg, const struct series *s)
{
	if (s == agg->overflow) {
		fputs("{otel_metric_overflow=\"true\"", out);
		return;
	}
	for (size_t i = 0; i < agg->n_labels; i++) {
		fprintf(out, "%s%s=", i ? "," : "{", agg->fam->labels[i]);
		prom__label_value(out, s->values[i]);
	}
	if (agg->fam->status_label && s->status == AGGREGATOR_STATUS_UNDECODED)
		fprintf(out, "%s%s=\"" AGGREGATOR_STATUS_UNDECODED_VALUE "\"",
			agg->n_labels ? "," : "{", agg->fam->status_label);
	else if (agg->fam->status_label && s->status)
		fprintf(out, "%s%s=\"%u\"", agg->n_labels ? "," : "{", agg->fam->status_label,
			s->status);
	else if (agg->fam->status_label)
		fprintf(out, "%s%s=\"" AGGREGATOR_STATUS_INVALID "\"", agg->n_labels ? "," : "{",
			agg->fam->status_label);
}

static void write_histogram(FILE *out, const struct aggregator *agg, const struct series *s)
{
	const struct latency_buckets *lb = agg->lb;
	const char *name = agg->fam->metric;
	__u64 cum = 0;
	size_t i;

	for (i = 0; i < lb->n; i++) {
		cum += s->h.counts[i];
		/*
		 * An empty bucket repeats the previous cumulative value: skip it,
		 * except thresholds, which SLO queries select by le. A bucket
		 * never empties again, so a le once written stays.
		 */
		if (!s->h.counts[i] && !latency_buckets__is_threshold(lb, i))
			continue;
		fprintf(out, "%s_bucket", name);
		write_labels(out, agg, s);
		fputs(",le=\"", out);
		prom__seconds(out, lb->bounds_ns[i]);
		fprintf(out, "\"} %llu\n", (unsigned long long)cum);
	}
	fprintf(out, "%s_bucket", name);
	write_labels(out, agg, s);
	fprintf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)s->h.count);

	fprintf(out, "%s_sum", name);
	write_labels(out, agg, s);
	fputs("} ", out);
	prom__seconds(out, s->h.sum_ns);
	fputc('\n', out);

	fprintf(out, "%s_count", name);
	write_labels(out, agg, s);
	fprintf(out, "} %llu\n", (unsigned long long)s->h.count);
}

int aggregator__write_prometheus(const struct aggregator *agg, FILE *out)
{
	struct series **sorted = NULL;
	size_t i, n = 0;

	if (agg->n || agg->overflow) {
		sorted = malloc((agg->n + 1) * sizeof(*sorted));
		if (!sorted)
			return -ENOMEM;
	}
	for (i = 0; i < agg->cap; i++) {
		if (agg->slots[i])
			sorted[n++] = agg->slots[i];
	}
	sort_labels = agg->n_labels;
	if (n)
		qsort(sorted, n, sizeof(*sorted), series_cmp);
	if (agg->overflow)
		sorted[n++] = agg->overflow;	/* last, after the series it stands for */

	prom__header(out, agg->fam->metric, agg->fam->counter ? "counter" : "histogram",
		     agg->fam->help);
	for (i = 0; i < n; i++) {
		if (!agg->fam->counter) {
			write_histogram(out, agg, sorted[i]);
			continue;
		}
		fputs(agg->fam->metric, out);
		write_labels(out, agg, sorted[i]);
		fprintf(out, "%s %llu\n",
			agg->n_labels || agg->fam->status_label || sorted[i] == agg->overflow ?
			"}" : "",
			(unsigned long long)sorted[i]->h.count);
	}
	free(sorted);
	return ferror(out) ? -EIO : 0;
}
