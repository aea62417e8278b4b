// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * OpenSLO v1 documents onto slotap SLOs. OpenSLO describes SLIs as queries
 * against some metric store; slotap measures its own requests, so the only
 * metric source it reads is "type: slotap", whose spec selects requests the
 * way a slos item does (endpoint, bad_statuses). Everything else OpenSLO
 * can say either has one exact slotap meaning or is refused with its field
 * path: a config that loads is never a looser reading of its document.
 *
 * Two passes over the stream: the first indexes the kind: SLI documents by
 * name, so an indicatorRef may point forward; the second maps every
 * document in order, an SLI document once (when reached, or when first
 * referenced if that is earlier).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "alert_scheme.h"
#include "config_fields.h"
#include "grpc.h"
#include "openslo.h"
#include "slo.h"
#include "yaml_reader.h"

#define OPENSLO_API_VERSION	"openslo/v1"
/* Longest field path, e.g. "spec.indicator.spec.ratioMetric.total.metricSource.spec.endpoint[9999]" */
#define PATH_SIZE		160
#define QSIZE			YAML_READER_QUOTE_SIZE

#define node_error(st, n, path, ...) \
	yaml_reader__error(&(st)->ld->rd, n, path, __VA_ARGS__)

/* What an SLI measures, in slotap's terms: sli, endpoints and bad_status. */
struct indicator {
	struct slo_config sel;
	bool mapped;
};

struct sli_doc {
	yaml_document_t *doc;
	const char *name;		/* metadata.name, owned by doc */
	const yaml_node_t *name_node;
	struct indicator ind;
};

struct state {
	struct loader *ld;
	struct slotap_config *cfg;
	yaml_document_t *doc;		/* the one being walked */
	struct sli_doc *slis;		/* sorted by name, then position */
	size_t n_slis;
};

/* A document's apiVersion, kind and metadata, checked. */
struct header {
	const yaml_node_t *root, *kind_node, *name_node, *spec;
	const yaml_node_t *annotations;	/* metadata.annotations, or NULL */
	const char *kind, *name;
};

struct window {
	enum slo_window_kind kind;
	__u64 s;			/* rolling: the length */
	const yaml_node_t *duration;	/* blamed by the engine's checks */
};

static yaml_node_t *node_at(const struct state *st, yaml_node_item_t id)
{
	return yaml_document_get_node(st->doc, id);
}

static void use_doc(struct state *st, yaml_document_t *doc)
{
	st->doc = doc;
	st->ld->rd.doc = doc;
}

static const char *value_of(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static size_t seq_len(const yaml_node_t *n)
{
	return n->data.sequence.items.top - n->data.sequence.items.start;
}

/* A path cut short says so; none of slotap's own is that long. */
static const char *path_end(char *buf, int len)
{
	if (len >= PATH_SIZE)
		memcpy(buf + PATH_SIZE - 4, "...", 4);
	return buf;
}

/* base.key, or key alone at the top */
static const char *join(char *buf, const char *base, const char *key)
{
	return path_end(buf, snprintf(buf, PATH_SIZE, "%s%s%s",
				      base ? base : "",
				      base && *base ? "." : "", key));
}

static const char *join_idx(char *buf, const char *base, const char *key,
			    size_t i)
{
	return path_end(buf, snprintf(buf, PATH_SIZE, "%s%s%s[%zu]",
				      base ? base : "",
				      base && *base ? "." : "", key, i));
}

static int missing(struct state *st, const yaml_node_t *n, const char *path,
		   const char *key, const char *why)
{
	return node_error(st, n, path, "missing required key \"%s\"%s", key,
			  why ? why : "");
}

static int get_bool(struct state *st, const yaml_node_t *n, const char *path,
		    bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", NULL };
	static const char *const no[] = { "false", "False", "FALSE", NULL };
	size_t i;

	if (n->type == YAML_SCALAR_NODE &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		for (i = 0; yes[i]; i++) {
			if (!strcmp(value_of(n), yes[i])) {
				*out = true;
				return 0;
			}
			if (!strcmp(value_of(n), no[i])) {
				*out = false;
				return 0;
			}
		}
	}
	return yaml_reader__type_error(&st->ld->rd, n, path, "true or false");
}

/* Looks a key up without judging the mapping: for the SLI index. */
static yaml_node_t *find_value(yaml_document_t *doc, const yaml_node_t *map,
			       const char *key)
{
	yaml_node_pair_t *pair;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(doc, pair->key);

		if (k->type == YAML_SCALAR_NODE &&
		    k->data.scalar.length == strlen(key) &&
		    !strcmp(value_of(k), key))
			return yaml_document_get_node(doc, pair->value);
	}
	return NULL;
}

static const char *find_string(yaml_document_t *doc, const yaml_node_t *map,
			       const char *key)
{
	yaml_node_t *v = find_value(doc, map, key);

	if (!v || v->type != YAML_SCALAR_NODE || yaml_reader__is_null(v) ||
	    strlen(value_of(v)) != v->data.scalar.length)
		return NULL;
	return value_of(v);
}

bool openslo__is_document(yaml_document_t *doc)
{
	return find_value(doc, yaml_document_get_root_node(doc), "apiVersion");
}

static void selectors_free(struct slo_config *sel)
{
	size_t i;

	for (i = 0; i < sel->n_endpoints; i++)
		free(sel->endpoints[i]);
	free(sel->endpoints);
	sel->endpoints = NULL;
	sel->n_endpoints = 0;
}

/* ---- documents ------------------------------------------------------------ */

static int load_metadata(struct state *st, const yaml_node_t *n,
			 const char *path, bool need_name, struct header *h)
{
	static const char *const keys[] = {
		"name", "displayName", "labels", "annotations", NULL
	};
	char p[PATH_SIZE];
	struct yaml_fields f;
	int err;

	/* displayName and labels are for people and tools; annotations too but runbook_url */
	err = yaml_reader__walk(&st->ld->rd, n, path, keys, &f);
	if (err)
		return err;
	h->annotations = f.val[3];
	if (!f.val[0]) {
		if (need_name)
			return missing(st, n, path, "name", NULL);
		return 0;
	}
	h->name_node = f.val[0];
	return yaml_reader__get_string(&st->ld->rd, f.val[0], join(p, path, "name"),
				       "a name", &h->name);
}

static int load_header(struct state *st, const yaml_node_t *root,
		       struct header *h)
{
	static const char *const keys[] = {
		"apiVersion", "kind", "metadata", "spec", NULL
	};
	enum { K_API, K_KIND, K_METADATA, K_SPEC };
	char q[QSIZE];
	const char *s;
	struct yaml_fields f;
	int err;

	memset(h, 0, sizeof(*h));
	h->root = root;
	err = yaml_reader__walk(&st->ld->rd, root, NULL, keys, &f);
	if (err)
		return err;
	err = yaml_reader__get_string(&st->ld->rd, f.val[K_API], "apiVersion",
				      "an API version", &s);
	if (err)
		return err;
	if (strcmp(s, OPENSLO_API_VERSION))
		return node_error(st, f.val[K_API], "apiVersion",
				  "%s is not supported: slotap reads OpenSLO v1 documents (apiVersion: %s)",
				  yaml_reader__quote(q, s, strlen(s)),
				  OPENSLO_API_VERSION);
	if (!f.val[K_KIND])
		return missing(st, root, NULL, "kind", NULL);
	h->kind_node = f.val[K_KIND];
	err = yaml_reader__get_string(&st->ld->rd, h->kind_node, "kind", "a kind",
				      &h->kind);
	if (err)
		return err;
	if (!f.val[K_METADATA])
		return missing(st, root, NULL, "metadata", NULL);
	h->spec = f.val[K_SPEC];
	return load_metadata(st, f.val[K_METADATA], "metadata", true, h);
}

/*
 * A good, bad or total (or thresholdMetric) source: metricSource of type
 * slotap, whose spec may select endpoints and, for good and bad only, the
 * bad statuses. Endpoints given by several sources of one ratioMetric must
 * be the same: good and total count the same requests.
 */
struct source_ctx {
	struct slo_config *sel;
	bool statuses_ok;		/* good or bad of a ratioMetric */
	bool statuses_given;
	bool grpc_codes_given;
	char endpoint_path[PATH_SIZE];	/* the first source's, once given */
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Same endpoints, in any order (each list has no repeats). */
static int same_endpoints(struct state *st, const struct slo_config *a,
			  const struct slo_config *b, bool *same)
{
	char **x, **y;
	size_t i, n = a->n_endpoints;

	*same = n == b->n_endpoints;
	if (!*same || !n)
		return 0;
	x = calloc(n, sizeof(*x));
	y = calloc(n, sizeof(*y));
	if (!x || !y) {
		free(x);
		free(y);
		return yaml_reader__oom(&st->ld->rd);
	}
	memcpy(x, a->endpoints, n * sizeof(*x));
	memcpy(y, b->endpoints, n * sizeof(*y));
	qsort(x, n, sizeof(*x), cmp_str);
	qsort(y, n, sizeof(*y), cmp_str);
	for (i = 0; i < n && *same; i++)
		*same = !strcmp(x[i], y[i]);
	free(x);
	free(y);
	return 0;
}

static int load_source_spec(struct state *st, const yaml_node_t *n,
			    const char *path, struct source_ctx *sx)
{
	static const char *const keys[] = { "endpoint", "bad_statuses", "bad_grpc_codes", NULL };
	enum { K_ENDPOINT, K_BAD, K_BAD_GRPC };
	struct slo_config tmp = {};
	char p[PATH_SIZE];
	struct yaml_fields f;
	bool same;
	int err;

	if (yaml_reader__is_null(n))
		return 0;
	err = yaml_reader__walk(&st->ld->rd, n, path, keys, &f);
	if (err)
		return err;
	if (f.val[K_BAD]) {
		if (!sx->statuses_ok)
			return node_error(st, f.key[K_BAD], join(p, path, "bad_statuses"),
					  sx->sel->sli == SLO_SLI_LATENCY ?
					  "cannot be mapped: bad statuses are for ratioMetric (availability) SLIs" :
					  "belongs on good or bad: total counts every request");
		err = config_fields__slo_bad_statuses(st->ld, sx->sel, f.val[K_BAD],
						      path);
		if (err)
			return err;
		sx->statuses_given = true;
	}
	if (f.val[K_BAD_GRPC]) {
		if (!sx->statuses_ok)
			return node_error(st, f.key[K_BAD_GRPC], join(p, path, "bad_grpc_codes"),
					  sx->sel->sli == SLO_SLI_LATENCY ?
					  "cannot be mapped: bad gRPC codes are for ratioMetric (availability) SLIs" :
					  "belongs on good or bad: total counts every request");
		err = config_fields__slo_bad_grpc_codes(st->ld, sx->sel, f.val[K_BAD_GRPC], path);
		if (err)
			return err;
		sx->grpc_codes_given = true;
	}
	if (!f.val[K_ENDPOINT])
		return 0;
	if (!sx->endpoint_path[0]) {
		snprintf(sx->endpoint_path, sizeof(sx->endpoint_path), "%s",
			 join(p, path, "endpoint"));
		return config_fields__slo_endpoints(st->ld, sx->sel,
						    f.val[K_ENDPOINT], path);
	}
	err = config_fields__slo_endpoints(st->ld, &tmp, f.val[K_ENDPOINT], path);
	if (!err)
		err = same_endpoints(st, &tmp, sx->sel, &same);
	if (!err && !same)
		err = node_error(st, f.val[K_ENDPOINT], join(p, path, "endpoint"),
				 "differs from %s: good (or bad) and total count the same requests",
				 sx->endpoint_path);
	selectors_free(&tmp);
	return err;
}

static int load_source(struct state *st, const yaml_node_t *n,
		       const char *path, struct source_ctx *sx)
{
	static const char *const keys[] = { "metricSource", NULL };
	static const char *const ms_keys[] = {
		"metricSourceRef", "type", "spec", NULL
	};
	enum { K_REF, K_TYPE, K_SPEC };
	char p[PATH_SIZE], ms[PATH_SIZE], q[QSIZE];
	const char *s;
	struct yaml_fields f;
	int err;

	err = yaml_reader__walk(&st->ld->rd, n, path, keys, &f);
	if (err)
		return err;
	if (!f.val[0])
		return missing(st, n, path, "metricSource", NULL);
	n = f.val[0];
	join(ms, path, "metricSource");
	err = yaml_reader__walk(&st->ld->rd, n, ms, ms_keys, &f);
	if (err)
		return err;
	if (f.val[K_REF])
		return node_error(st, f.key[K_REF], join(p, ms, "metricSourceRef"),
				  "cannot be mapped: slotap reads no data source, it measures its own SLIs: use type: slotap");
	if (!f.val[K_TYPE])
		return missing(st, n, ms, "type",
			       " (slotap measures its own SLIs: use type: slotap)");
	join(p, ms, "type");
	err = yaml_reader__get_string(&st->ld->rd, f.val[K_TYPE], p,
				      "a metric source type", &s);
	if (err)
		return err;
	if (strcmp(s, "slotap"))
		return node_error(st, f.val[K_TYPE], p,
				  "%s cannot be mapped; slotap measures its own SLIs: use type: slotap",
				  yaml_reader__quote(q, s, strlen(s)));
	if (!f.val[K_SPEC])
		return 0;
	return load_source_spec(st, f.val[K_SPEC], join(p, ms, "spec"), sx);
}

static int load_ratio_metric(struct state *st, const yaml_node_t *n,
			     const char *path, struct slo_config *sel)
{
	static const char *const keys[] = {
		"counter", "good", "bad", "total", "rawType", "raw", NULL
	};
	enum { K_COUNTER, K_GOOD, K_BAD, K_TOTAL, K_RAW_TYPE, K_RAW };
	struct source_ctx sx = { .sel = sel };
	char p[PATH_SIZE];
	struct yaml_fields f;
	bool counter;
	int err, i, k, order[2];

	err = yaml_reader__walk(&st->ld->rd, n, path, keys, &f);
	if (err)
		return err;
	for (k = K_RAW_TYPE; k <= K_RAW; k++)
		if (f.key[k])
			return node_error(st, f.key[k], join(p, path, keys[k]),
					  "cannot be mapped: slotap counts good and total requests itself, it reads no precomputed ratio: use good (or bad) and total");
	/* slotap's counts are counters whatever it says */
	if (f.val[K_COUNTER]) {
		err = get_bool(st, f.val[K_COUNTER], join(p, path, "counter"),
			       &counter);
		if (err)
			return err;
	}
	if (f.key[K_GOOD] && f.key[K_BAD]) {
		k = f.key[K_GOOD]->start_mark.index < f.key[K_BAD]->start_mark.index ?
		    K_BAD : K_GOOD;
		return node_error(st, f.key[k], join(p, path, keys[k]),
				  "good and bad together: give one of them, with total");
	}
	if (!f.val[K_GOOD] && !f.val[K_BAD])
		return node_error(st, n, path,
				  "missing required key \"good\" or \"bad\"");
	if (!f.val[K_TOTAL])
		return missing(st, n, path, "total", NULL);
	/* in file order: a second endpoint list is blamed, not the first */
	order[0] = f.val[K_GOOD] ? K_GOOD : K_BAD;
	order[1] = K_TOTAL;
	if (f.key[K_TOTAL]->start_mark.index < f.key[order[0]]->start_mark.index) {
		order[1] = order[0];
		order[0] = K_TOTAL;
	}
	for (i = 0; i < 2; i++) {
		k = order[i];
		sx.statuses_ok = k != K_TOTAL;
		err = load_source(st, f.val[k], join(p, path, keys[k]), &sx);
		if (err)
			return err;
	}
	if (!sx.statuses_given) {
		__u32 codes = sel->bad_grpc_codes;

		config_fields__slo_default_bad_statuses(sel);
		if (sx.grpc_codes_given)
			sel->bad_grpc_codes = codes;
	}
	if (!sx.grpc_codes_given)
		sel->bad_grpc_codes = GRPC_BAD_CODES_DEFAULT;
	return 0;
}

static int load_indicator_spec(struct state *st, const yaml_node_t *n,
			       const char *path, struct indicator *ind)
{
	static const char *const keys[] = {
		"description", "thresholdMetric", "ratioMetric", NULL
	};
	enum { K_DESCRIPTION, K_THRESHOLD, K_RATIO };
	struct slo_config *sel = &ind->sel;
	struct source_ctx sx = { .sel = sel };
	char p[PATH_SIZE];
	struct yaml_fields f;
	int err, k;

	err = yaml_reader__walk(&st->ld->rd, n, path, keys, &f);
	if (err)
		return err;
	if (f.key[K_THRESHOLD] && f.key[K_RATIO]) {
		k = f.key[K_THRESHOLD]->start_mark.index <
		    f.key[K_RATIO]->start_mark.index ? K_RATIO : K_THRESHOLD;
		return node_error(st, f.key[k], join(p, path, keys[k]),
				  "thresholdMetric and ratioMetric together: give one of them");
	}
	if (f.val[K_RATIO]) {
		sel->sli = SLO_SLI_AVAILABILITY;
		err = load_ratio_metric(st, f.val[K_RATIO],
					join(p, path, "ratioMetric"), sel);
	} else if (f.val[K_THRESHOLD]) {
		sel->sli = SLO_SLI_LATENCY;
		err = load_source(st, f.val[K_THRESHOLD],
				  join(p, path, "thresholdMetric"), &sx);
	} else {
		return node_error(st, n, path,
				  "missing required key \"ratioMetric\" or \"thresholdMetric\"");
	}
	if (err)
		return err;
	ind->mapped = true;
	return 0;
}

static int load_inline_indicator(struct state *st, const yaml_node_t *n,
				 const char *path, struct indicator *ind)
{
	static const char *const keys[] = { "metadata", "spec", NULL };
	enum { K_METADATA, K_SPEC };
	char p[PATH_SIZE];
	struct header h;
	struct yaml_fields f;
	int err;

	err = yaml_reader__walk(&st->ld->rd, n, path, keys, &f);
	if (err)
		return err;
	/* its name and displayName are for people: nothing refers to them */
	if (f.val[K_METADATA]) {
		err = load_metadata(st, f.val[K_METADATA], join(p, path, "metadata"),
				    false, &h);
		if (err)
			return err;
	}
	if (!f.val[K_SPEC])
		return missing(st, n, path, "spec", NULL);
	return load_indicator_spec(st, f.val[K_SPEC], join(p, path, "spec"), ind);
}

/* ---- kind: SLI index ------------------------------------------------------ */

static int cmp_sli(const void *a, const void *b)
{
	const struct sli_doc *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->name_node->start_mark.index < y->name_node->start_mark.index ?
	       -1 : 1;
}

static int cmp_sli_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct sli_doc *)elem)->name);
}

/*
 * Every kind: SLI document with a name, whatever else is wrong with it:
 * pass two reports that, in stream order.
 */
static int index_slis(struct state *st, yaml_document_t *docs, size_t n)
{
	char q[QSIZE];
	size_t i, count = 0;
	const char *s;

	for (i = 0; i < n; i++) {
		yaml_document_t *doc = &docs[i];
		yaml_node_t *root = yaml_document_get_root_node(doc);
		yaml_node_t *meta = find_value(doc, root, "metadata");
		const char *api = find_string(doc, root, "apiVersion");
		const char *kind = find_string(doc, root, "kind");

		if (!api || strcmp(api, OPENSLO_API_VERSION) || !kind ||
		    strcmp(kind, "SLI") || !find_string(doc, meta, "name"))
			continue;
		if (!st->slis) {
			st->slis = calloc(n, sizeof(*st->slis));
			if (!st->slis)
				return yaml_reader__oom(&st->ld->rd);
		}
		st->slis[count].doc = doc;
		st->slis[count].name = find_string(doc, meta, "name");
		st->slis[count].name_node = find_value(doc, meta, "name");
		count++;
	}
	st->n_slis = count;
	if (count > 1)
		qsort(st->slis, count, sizeof(*st->slis), cmp_sli);
	for (i = 1; i < count; i++) {
		const struct sli_doc *a = &st->slis[i - 1], *b = &st->slis[i];

		if (strcmp(a->name, b->name))
			continue;
		s = b->name;
		return node_error(st, b->name_node, "metadata.name",
				  "duplicate SLI name %s (the first is at %zu:%zu)",
				  yaml_reader__quote(q, s, strlen(s)),
				  a->name_node->start_mark.line + 1,
				  a->name_node->start_mark.column + 1);
	}
	return 0;
}

static struct sli_doc *find_sli(const struct state *st, const char *name)
{
	if (!st->n_slis)
		return NULL;
	return bsearch(name, st->slis, st->n_slis, sizeof(*st->slis),
		       cmp_sli_name);
}

static int load_sli_doc(struct state *st, struct sli_doc *s,
			const struct header *h)
{
	if (s->ind.mapped)
		return 0;
	if (!h->spec)
		return missing(st, h->root, NULL, "spec", NULL);
	return load_indicator_spec(st, h->spec, "spec", &s->ind);
}

static int resolve_ref(struct state *st, const yaml_node_t *n,
		       const struct indicator **out)
{
	const char *path = "spec.indicatorRef";
	yaml_document_t *cur = st->doc;
	struct sli_doc *sli;
	struct header h;
	char q[QSIZE];
	const char *s;
	int err;

	err = yaml_reader__get_string(&st->ld->rd, n, path, "an SLI name", &s);
	if (err)
		return err;
	sli = find_sli(st, s);
	if (!sli)
		return node_error(st, n, path,
				  "%s is not the metadata.name of a kind: SLI document in this file",
				  yaml_reader__quote(q, s, strlen(s)));
	if (!sli->ind.mapped) {
		/* forward: map it now, its messages pointing into it */
		use_doc(st, sli->doc);
		err = load_header(st, yaml_document_get_root_node(sli->doc), &h);
		if (!err)
			err = load_sli_doc(st, sli, &h);
		use_doc(st, cur);
		if (err)
			return err;
	}
	*out = &sli->ind;
	return 0;
}

/* ---- timeWindow ----------------------------------------------------------- */

/* OpenSLO's duration-shorthand: a positive whole number and one unit letter. */
static int parse_shorthand(const char *s, __u64 *num, char *unit)
{
	const char *p = s;
	__u64 v = 0;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > 1000000000ull)
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	if (p == s || !v || !*p || p[1] || !strchr("mhdwMQY", *p))
		return -EINVAL;
	*num = v;
	*unit = *p;
	return 0;
}

static bool take_digits(const char **p, int count, int *out)
{
	int v = 0;

	for (; count; count--, (*p)++) {
		if (**p < '0' || **p > '9')
			return false;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (year >= 0). */
static long long days_from_civil(int y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD[( |T)HH:MM:SS][Z]", UTC, into unix seconds. */
static int parse_time(const char *s, long long *out)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h = 0, mi = 0, sec = 0, dim;
	const char *p = s;

	if (!take_digits(&p, 4, &y) || *p++ != '-' || !take_digits(&p, 2, &mo) ||
	    *p++ != '-' || !take_digits(&p, 2, &d))
		return -EINVAL;
	if (*p == ' ' || *p == 'T') {
		p++;
		if (!take_digits(&p, 2, &h) || *p++ != ':' ||
		    !take_digits(&p, 2, &mi) || *p++ != ':' ||
		    !take_digits(&p, 2, &sec))
			return -EINVAL;
	}
	if (*p == 'Z')
		p++;
	if (*p || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59)
		return -EINVAL;
	dim = mdays[mo - 1] + (mo == 2 && y % 4 == 0 && (y % 100 || y % 400 == 0));
	if (d < 1 || d > dim)
		return -EINVAL;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

static int load_calendar(struct state *st, const yaml_node_t *n,
			 const char *path, enum slo_window_kind kind)
{
	static const char *const keys[] = { "startTime", "timeZone", NULL };
	static const char *const utc[] = { "UTC", "Etc/UTC", "GMT", "Etc/GMT", NULL };
	enum { K_START, K_ZONE };
	__u64 start = 0, end = 0;
	char p[PATH_SIZE], q[QSIZE];
	const char *s, *why;
	struct yaml_fields f;
	long long t;
	size_t i;
	int err;

	if (yaml_reader__is_null(n))
		return 0;
	err = yaml_reader__walk(&st->ld->rd, n, path, keys, &f);
	if (err)
		return err;
	if (f.val[K_ZONE]) {
		join(p, path, "timeZone");
		err = yaml_reader__get_string(&st->ld->rd, f.val[K_ZONE], p,
					      "a time zone", &s);
		if (err)
			return err;
		for (i = 0; utc[i] && strcmp(s, utc[i]); i++)
			;
		if (!utc[i])
			return node_error(st, f.val[K_ZONE], p,
					  "%s cannot be mapped: slotap's calendar periods are in UTC (timeZone: UTC)",
					  yaml_reader__quote(q, s, strlen(s)));
	}
	if (!f.val[K_START])
		return 0;
	join(p, path, "startTime");
	err = yaml_reader__get_string(&st->ld->rd, f.val[K_START], p, "a start time",
				      &s);
	if (err)
		return err;
	yaml_reader__quote(q, s, strlen(s));
	if (parse_time(s, &t))
		return node_error(st, f.val[K_START], p,
				  "%s is not a start time (YYYY-MM-DD HH:MM:SS, UTC)",
				  q);
	if (t < (long long)SLO_TIME_MIN_S || t > (long long)SLO_TIME_MAX_S)
		return node_error(st, f.val[K_START], p,
				  "%s is before 2000-01-01, where slotap's calendar starts",
				  q);
	/* slotap's periods are fixed: the start can only say which they are */
	if (slo__calendar_period(kind, t, &start, &end) || start == (__u64)t)
		return 0;
	switch (kind) {
	case SLO_WINDOW_CALENDAR_WEEK:
		why = "weeks start on Monday at 00:00:00 UTC";
		break;
	case SLO_WINDOW_CALENDAR_4W:
		why = "four-week periods start on the Monday of ISO week 1, 5, 9, ..., 49 at 00:00:00 UTC";
		break;
	default:
		why = "months start on the 1st at 00:00:00 UTC";
		break;
	}
	return node_error(st, f.val[K_START], p,
			  "%s cannot be mapped: slotap's %s", q, why);
}

static int load_time_window(struct state *st, const yaml_node_t *n,
			    struct window *w)
{
	static const char *const keys[] = {
		"duration", "isRolling", "calendar", NULL
	};
	enum { K_DURATION, K_ROLLING, K_CALENDAR };
	static const char *const path = "spec.timeWindow";
	static const char *const ip = "spec.timeWindow[0]";
	char p[PATH_SIZE], q[QSIZE];
	const yaml_node_t *item;
	struct yaml_fields f;
	bool rolling;
	__u64 num, mult;
	const char *s;
	char unit;
	int err;

	if (n->type != YAML_SEQUENCE_NODE)
		return yaml_reader__type_error(&st->ld->rd, n, path,
					       "a list of one time window");
	if (seq_len(n) != 1)
		return node_error(st, n, path,
				  "%zu time windows: an SLO has exactly one",
				  seq_len(n));
	item = node_at(st, n->data.sequence.items.start[0]);
	err = yaml_reader__walk(&st->ld->rd, item, ip, keys, &f);
	if (err)
		return err;
	if (!f.val[K_DURATION])
		return missing(st, item, ip, "duration", NULL);
	w->duration = f.val[K_DURATION];
	join(p, ip, "duration");
	err = yaml_reader__get_string(&st->ld->rd, w->duration, p, "a duration", &s);
	if (err)
		return err;
	yaml_reader__quote(q, s, strlen(s));
	if (parse_shorthand(s, &num, &unit))
		return node_error(st, w->duration, p,
				  "%s is not a duration (a whole number and m, h, d, w, M, Q or Y, e.g. 28d)",
				  q);
	if (f.val[K_ROLLING]) {
		err = get_bool(st, f.val[K_ROLLING], join(p, ip, "isRolling"),
			       &rolling);
		if (err)
			return err;
	} else if (f.val[K_CALENDAR]) {
		rolling = false;
	} else {
		return missing(st, item, ip, "isRolling",
			       " (true for a rolling window; false, with calendar, for a calendar one)");
	}
	join(p, ip, "duration");
	if (rolling) {
		if (f.key[K_CALENDAR])
			return node_error(st, f.key[K_CALENDAR],
					  join(p, ip, "calendar"),
					  "is for calendar windows (isRolling: false)");
		switch (unit) {
		case 'm':
			mult = 60;
			break;
		case 'h':
			mult = 3600;
			break;
		case 'd':
			mult = 86400;
			break;
		case 'w':
			mult = 7 * 86400;
			break;
		default:
			return node_error(st, w->duration, p,
					  "%s cannot be mapped: slotap's rolling windows are 1m to 31d, in m, h, d or w (e.g. 28d)",
					  q);
		}
		if (num > SLO_WINDOW_MAX_S / mult || num * mult < 60)
			return node_error(st, w->duration, p,
					  "%s is not a rolling window from 1m to 31d",
					  q);
		w->kind = SLO_WINDOW_ROLLING;
		w->s = num * mult;
		return 0;
	}
	if (!strcmp(s, "1w"))
		w->kind = SLO_WINDOW_CALENDAR_WEEK;
	else if (!strcmp(s, "4w"))
		w->kind = SLO_WINDOW_CALENDAR_4W;
	else if (!strcmp(s, "1M"))
		w->kind = SLO_WINDOW_CALENDAR_MONTH;
	else
		return node_error(st, w->duration, p,
				  "%s cannot be mapped: slotap's calendar windows are 1w (weeks from Monday), 4w (ISO four-week periods) and 1M (months), in UTC",
				  q);
	w->s = 0;
	if (!f.val[K_CALENDAR])
		return 0;
	return load_calendar(st, f.val[K_CALENDAR], join(p, ip, "calendar"),
			     w->kind);
}

/* ---- kind: SLO ------------------------------------------------------------ */

/* What the objectives of one SLO document share. */
struct slo_doc {
	const struct header *h;
	const yaml_node_t *service;
	const struct indicator *ind;
	struct window w;
	bool timeslices;
};

static int copy_selectors(struct state *st, struct slo_config *sc,
			  const struct slo_config *sel)
{
	size_t i;

	sc->sli = sel->sli;
	memcpy(sc->bad_status, sel->bad_status, sizeof(sc->bad_status));
	sc->bad_grpc_codes = sel->bad_grpc_codes;
	if (!sel->n_endpoints)
		return 0;
	sc->endpoints = calloc(sel->n_endpoints, sizeof(*sc->endpoints));
	if (!sc->endpoints)
		return yaml_reader__oom(&st->ld->rd);
	for (i = 0; i < sel->n_endpoints; i++) {
		sc->endpoints[i] = strdup(sel->endpoints[i]);
		if (!sc->endpoints[i])
			return yaml_reader__oom(&st->ld->rd);
		sc->n_endpoints++;
	}
	return 0;
}

/*
 * One SLO's name: metadata.name alone for one objective, else with the
 * objective's displayName or index appended.
 */
static int objective_name(struct state *st, const struct slo_doc *sd,
			  struct slo_config *sc, size_t slo, size_t i,
			  size_t count, const yaml_node_t *display,
			  const char *ip)
{
	char name[256], p[PATH_SIZE], q[QSIZE], q2[QSIZE];
	const yaml_node_t *blame = sd->h->name_node;
	const char *s = NULL;
	int err;

	if (display) {
		err = yaml_reader__get_string(&st->ld->rd, display,
					      join(p, ip, "displayName"),
					      "a string", &s);
		if (err)
			return err;
	}
	if (count == 1) {
		snprintf(name, sizeof(name), "%s", sd->h->name);
	} else if (s) {
		snprintf(name, sizeof(name), "%s-%s", sd->h->name, s);
		blame = display;
	} else {
		snprintf(name, sizeof(name), "%s-%zu", sd->h->name, i);
	}
	if (!config_fields__valid_name(name)) {
		if (count == 1)
			return node_error(st, blame, "metadata.name",
					  "%s is not a valid slotap SLO name (1..%d characters of A-Z a-z 0-9 _ . -)",
					  yaml_reader__quote(q, name, strlen(name)),
					  CONFIG_NAME_MAX);
		return node_error(st, blame,
				  blame == display ? p : "metadata.name",
				  "%s makes the SLO name %s, not a valid slotap name (1..%d characters of A-Z a-z 0-9 _ . -)",
				  yaml_reader__describe(q2, blame),
				  yaml_reader__quote(q, name, strlen(name)),
				  CONFIG_NAME_MAX);
	}
	return config_fields__slo_name(st->ld, sc, slo, name, blame);
}

/* A latency threshold in seconds, e.g. 0.3. */
static int load_value(struct state *st, struct slo_config *sc,
		      const yaml_node_t *n, const char *path)
{
	char q[QSIZE], buf[64];

	/* as a duration in s: a leading sign is refused there */
	if (yaml_reader__looks_numeric(n) &&
	    n->data.scalar.length < sizeof(buf) - 1) {
		snprintf(buf, sizeof(buf), "%ss", value_of(n));
		if (!parse_duration_ns(buf, &sc->threshold_ns))
			return 0;
	}
	return node_error(st, n, path,
			  "%s is not a latency in seconds above zero (e.g. 0.3)",
			  yaml_reader__describe(q, n));
}

/*
 * Timeslices: slotap's slice is the engine's minute, good when its
 * requests meet the objective itself.
 */
static int load_timeslices(struct state *st, struct slo_config *sc,
			   const struct yaml_fields *f, int k_target, int k_window,
			   const char *ip)
{
	struct slo_config tmp = {};
	char p[PATH_SIZE], q[QSIZE];
	const yaml_node_t *v;
	int err;

	v = f->val[k_window];
	if (v && !(v->type == YAML_SCALAR_NODE &&
		   v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		   (!strcmp(value_of(v), "1m") || !strcmp(value_of(v), "1"))))
		return node_error(st, v, join(p, ip, "timeSliceWindow"),
				  "%s cannot be mapped: slotap's time slices are minutes (1m)",
				  yaml_reader__describe(q, v));
	v = f->val[k_target];
	if (!v)
		return 0;
	join(p, ip, "timeSliceTarget");
	err = config_fields__slo_objective(st->ld, &tmp, v, p, true);
	if (err)
		return err;
	/* the engine's precision: parts per billion */
	if ((__u64)(tmp.objective * (double)SLO_PPB + 0.5) !=
	    (__u64)(sc->objective * (double)SLO_PPB + 0.5))
		return node_error(st, v, p,
				  "%s cannot be mapped: a slotap minute is good when it meets the objective's own target; leave timeSliceTarget out or make it the target",
				  yaml_reader__describe(q, v));
	return 0;
}

static int load_objective(struct state *st, const struct slo_doc *sd,
			  const yaml_node_t *n, size_t i, size_t count,
			  size_t slo)
{
	static const char *const keys[] = {
		"displayName", "op", "value", "target", "targetPercent",
		"timeSliceTarget", "timeSliceWindow", NULL
	};
	enum {
		K_DISPLAY, K_OP, K_VALUE, K_TARGET, K_PERCENT, K_TS_TARGET,
		K_TS_WINDOW
	};
	struct slo_config *sc = &st->cfg->slos[slo];
	bool latency = sd->ind->sel.sli == SLO_SLI_LATENCY;
	char ip[PATH_SIZE], p[PATH_SIZE], q[QSIZE];
	struct yaml_fields f;
	const char *s;
	int err, k;

	join_idx(ip, "spec", "objectives", i);
	err = yaml_reader__walk(&st->ld->rd, n, ip, keys, &f);
	if (err)
		return err;
	err = objective_name(st, sd, sc, slo, i, count, f.val[K_DISPLAY], ip);
	if (!err)
		err = config_fields__slo_service(st->ld, st->cfg, sc, sd->service,
						 "spec.service");
	if (!err)
		err = copy_selectors(st, sc, &sd->ind->sel);
	if (err)
		return err;

	if (f.key[K_TARGET] && f.key[K_PERCENT]) {
		k = f.key[K_TARGET]->start_mark.index <
		    f.key[K_PERCENT]->start_mark.index ? K_PERCENT : K_TARGET;
		return node_error(st, f.key[k], join(p, ip, keys[k]),
				  "target and targetPercent together: give one of them");
	}
	if (f.val[K_TARGET])
		err = config_fields__slo_objective(st->ld, sc, f.val[K_TARGET],
						   join(p, ip, "target"), true);
	else if (f.val[K_PERCENT])
		err = config_fields__slo_objective(st->ld, sc, f.val[K_PERCENT],
						   join(p, ip, "targetPercent"),
						   false);
	else
		err = node_error(st, n, ip,
				 "missing required key \"target\" or \"targetPercent\"");
	if (err)
		return err;

	if (!latency) {
		for (k = K_OP; k <= K_VALUE; k++)
			if (f.key[k])
				return node_error(st, f.key[k], join(p, ip, keys[k]),
						  "is for thresholdMetric SLIs: a ratioMetric objective is its target alone");
	} else {
		if (!f.val[K_OP])
			return missing(st, n, ip, "op",
				       " (a thresholdMetric objective is op: lte and value: a latency in seconds)");
		join(p, ip, "op");
		err = yaml_reader__get_string(&st->ld->rd, f.val[K_OP], p,
					      "an operator", &s);
		if (err)
			return err;
		yaml_reader__quote(q, s, strlen(s));
		if (!strcmp(s, "gt") || !strcmp(s, "gte"))
			return node_error(st, f.val[K_OP], p,
					  "%s cannot be mapped: a slotap latency SLO counts the requests answered within value seconds (op: lte or lt)",
					  q);
		if (strcmp(s, "lte") && strcmp(s, "lt"))
			return node_error(st, f.val[K_OP], p,
					  "%s is not an operator (lte, lt, gte or gt)",
					  q);
		if (!f.val[K_VALUE])
			return missing(st, n, ip, "value",
				       " (the latency threshold in seconds)");
		err = load_value(st, sc, f.val[K_VALUE], join(p, ip, "value"));
		if (err)
			return err;
	}

	sc->timeslices = sd->timeslices;
	if (sd->timeslices) {
		err = load_timeslices(st, sc, &f, K_TS_TARGET, K_TS_WINDOW, ip);
		if (err)
			return err;
	} else {
		for (k = K_TS_TARGET; k <= K_TS_WINDOW; k++)
			if (f.key[k])
				return node_error(st, f.key[k], join(p, ip, keys[k]),
						  "is for budgetingMethod: Timeslices");
	}

	sc->window = sd->w.kind;
	sc->window_s = sd->w.s;
	err = config_fields__slo_check_window(st->ld, sc, sd->w.duration,
					      "spec.timeWindow[0].duration");
	if (err || !latency)
		return err;
	return config_fields__slo_threshold(st->ld, st->cfg, f.val[K_VALUE],
					    join(p, ip, "value"),
					    sc->threshold_ns);
}

static int load_budgeting(struct state *st, const yaml_node_t *n,
			  bool *timeslices)
{
	static const char *const path = "spec.budgetingMethod";
	char q[QSIZE];
	const char *s;
	int err;

	err = yaml_reader__get_string(&st->ld->rd, n, path, "a budgeting method", &s);
	if (err)
		return err;
	yaml_reader__quote(q, s, strlen(s));
	if (!strcmp(s, "Occurrences")) {
		*timeslices = false;
		return 0;
	}
	if (!strcmp(s, "Timeslices")) {
		*timeslices = true;
		return 0;
	}
	if (!strcmp(s, "RatioTimeslices"))
		return node_error(st, n, path,
				  "%s cannot be mapped: slotap budgets requests (Occurrences) or good minutes (Timeslices), not an average of per-slice ratios",
				  q);
	return node_error(st, n, path,
			  "%s is not a budgeting method (Occurrences, Timeslices or RatioTimeslices)",
			  q);
}

/*
 * metadata.annotations.runbook_url (OpenSLO v1 has no field for it, and
 * leaves annotations to implementations; the key is Prometheus' annotation
 * name) for every SLO of the document's objectives.
 */
static int load_runbook_url(struct state *st, const struct header *h, size_t first,
			    size_t count)
{
	static const char path[] = "metadata.annotations." ALERT_ANN_RUNBOOK;
	const yaml_node_t *a = h->annotations, *v = NULL;
	yaml_node_pair_t *pair;
	int err = 0;

	if (!a || yaml_reader__is_null(a))
		return 0;
	if (a->type != YAML_MAPPING_NODE)
		return yaml_reader__type_error(&st->ld->rd, a, "metadata.annotations",
					       "a mapping of names to strings");
	for (pair = a->data.mapping.pairs.start; pair < a->data.mapping.pairs.top; pair++) {
		const yaml_node_t *k = node_at(st, pair->key);

		if (k->type == YAML_SCALAR_NODE && !strcmp(value_of(k), ALERT_ANN_RUNBOOK))
			v = node_at(st, pair->value);
	}
	for (size_t i = 0; v && !err && i < count; i++)
		err = config_fields__slo_runbook_url(st->ld, &st->cfg->slos[first + i], v, path);
	return err;
}

static int load_slo_doc(struct state *st, const struct header *h)
{
	static const char *const keys[] = {
		"description", "service", "indicator", "indicatorRef",
		"timeWindow", "budgetingMethod", "objectives", "alertPolicies",
		NULL
	};
	enum {
		K_DESCRIPTION, K_SERVICE, K_INDICATOR, K_REF, K_WINDOW,
		K_BUDGETING, K_OBJECTIVES, K_ALERTS
	};
	struct indicator inline_ind = {};
	struct slo_doc sd = { .h = h };
	const yaml_node_t *objs, *alerts;
	size_t i, count, first;
	struct yaml_fields f;
	int err, k;

	if (!h->spec)
		return missing(st, h->root, NULL, "spec", NULL);
	err = yaml_reader__walk(&st->ld->rd, h->spec, "spec", keys, &f);
	if (err)
		return err;
	if (!f.val[K_SERVICE])
		return missing(st, h->spec, "spec", "service", NULL);
	sd.service = f.val[K_SERVICE];
	if (f.key[K_INDICATOR] && f.key[K_REF]) {
		k = f.key[K_INDICATOR]->start_mark.index <
		    f.key[K_REF]->start_mark.index ? K_REF : K_INDICATOR;
		return node_error(st, f.key[k], k == K_REF ? "spec.indicatorRef" :
				  "spec.indicator",
				  "indicator and indicatorRef together: give one of them");
	}
	if (!f.val[K_INDICATOR] && !f.val[K_REF])
		return node_error(st, h->spec, "spec",
				  "missing required key \"indicator\" or \"indicatorRef\"");
	if (!f.val[K_WINDOW])
		return missing(st, h->spec, "spec", "timeWindow",
			       " (slotap needs the SLO's window)");
	if (!f.val[K_BUDGETING])
		return missing(st, h->spec, "spec", "budgetingMethod", NULL);
	if (!f.val[K_OBJECTIVES])
		return missing(st, h->spec, "spec", "objectives", NULL);

	alerts = f.val[K_ALERTS];
	if (alerts && !yaml_reader__is_null(alerts) &&
	    !(alerts->type == YAML_SEQUENCE_NODE && !seq_len(alerts))) {
		bool list = alerts->type == YAML_SEQUENCE_NODE;

		return node_error(st, list ?
				  node_at(st, alerts->data.sequence.items.start[0]) :
				  alerts,
				  list ? "spec.alertPolicies[0]" : "spec.alertPolicies",
				  "cannot be mapped: slotap alerts on every SLO with its built-in multiwindow burn-rate rules and budget policy conditions; remove alertPolicies");
	}

	if (f.val[K_REF]) {
		err = resolve_ref(st, f.val[K_REF], &sd.ind);
	} else {
		err = load_inline_indicator(st, f.val[K_INDICATOR], "spec.indicator",
					    &inline_ind);
		sd.ind = &inline_ind;
	}
	if (!err)
		err = load_time_window(st, f.val[K_WINDOW], &sd.w);
	if (!err)
		err = load_budgeting(st, f.val[K_BUDGETING], &sd.timeslices);
	if (err)
		goto out;

	objs = f.val[K_OBJECTIVES];
	if (objs->type != YAML_SEQUENCE_NODE) {
		err = yaml_reader__type_error(&st->ld->rd, objs, "spec.objectives",
					      "a list of objectives");
		goto out;
	}
	count = seq_len(objs);
	if (!count) {
		err = node_error(st, objs, "spec.objectives", "empty list");
		goto out;
	}
	err = config_fields__add_slos(st->ld, st->cfg, count, objs, &first);
	for (i = 0; !err && i < count; i++)
		err = load_objective(st, &sd,
				     node_at(st, objs->data.sequence.items.start[i]),
				     i, count, first + i);
	if (!err)
		err = load_runbook_url(st, h, first, count);
out:
	selectors_free(&inline_ind.sel);
	return err;
}

static int load_service_doc(struct state *st, const struct header *h)
{
	static const char *const keys[] = { "description", NULL };
	struct yaml_fields f;

	/* a name to group SLOs by: spec.service says it already */
	if (!h->spec || yaml_reader__is_null(h->spec))
		return 0;
	return yaml_reader__walk(&st->ld->rd, h->spec, "spec", keys, &f);
}

static int load_document(struct state *st, const struct header *h)
{
	char q[QSIZE];
	struct sli_doc *sli;

	yaml_reader__quote(q, h->kind, strlen(h->kind));
	if (!strcmp(h->kind, "SLO"))
		return load_slo_doc(st, h);
	if (!strcmp(h->kind, "SLI")) {
		sli = find_sli(st, h->name);
		/* indexed under the same rules load_header() checked */
		if (!sli || sli->doc != st->doc)
			return node_error(st, h->name_node, "metadata.name",
					  "SLI not indexed (internal error)");
		return load_sli_doc(st, sli, h);
	}
	if (!strcmp(h->kind, "Service"))
		return load_service_doc(st, h);
	if (!strcmp(h->kind, "DataSource"))
		return node_error(st, h->kind_node, "kind",
				  "%s cannot be mapped: slotap reads no data source, it measures its own SLIs (metricSource type: slotap)",
				  q);
	if (!strcmp(h->kind, "AlertPolicy") || !strcmp(h->kind, "AlertCondition") ||
	    !strcmp(h->kind, "AlertNotificationTarget"))
		return node_error(st, h->kind_node, "kind",
				  "%s cannot be mapped: slotap alerts on every SLO with its built-in multiwindow burn-rate rules and budget policy conditions",
				  q);
	return node_error(st, h->kind_node, "kind",
			  "%s is not an OpenSLO v1 kind slotap reads (SLO, SLI or Service)",
			  q);
}

int openslo__load(struct loader *ld, struct slotap_config *cfg,
		  yaml_document_t *docs, size_t n_docs)
{
	struct state st = { .ld = ld, .cfg = cfg };
	bool any = false;
	struct header h;
	size_t i;
	int err;

	err = index_slis(&st, docs, n_docs);
	for (i = 0; !err && i < n_docs; i++) {
		if (!openslo__is_document(&docs[i]))
			continue;
		any = true;
		use_doc(&st, &docs[i]);
		err = load_header(&st, yaml_document_get_root_node(&docs[i]), &h);
		if (!err)
			err = load_document(&st, &h);
	}
	if (!err && any)
		err = config_fields__check_slo_names(ld);
	for (i = 0; i < st.n_slis; i++)
		selectors_free(&st.slis[i].ind.sel);
	free(st.slis);
	return err;
}
