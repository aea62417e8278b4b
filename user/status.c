// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `slotap status`: one look at a running agent. Fetches /metrics, keeps the
 * slotap_slo_* series, the request and gRPC call histograms' _count and
 * _sum and what HTTP/2 lost, and prints the SLOs, the least available and
 * slowest endpoints, and the HTTP/2 losses when there are some.
 *
 * The parser reads only what this needs of the text format 0.0.4:
 * `name{label="value",...} value [timestamp]` lines. Anything else, and any
 * line that does not fit the fixed bounds below, is skipped.
 */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>
#include "metric_names.h"
#include "metrics_server.h"
#include "slo.h"
#include "status.h"

#define DEFAULT_LISTEN	"127.0.0.1:9464"
#define FETCH_TIMEOUT_S	5L
#define MAX_BODY	(64u << 20)	/* an exposition bigger than this is not an agent's */
#define TOP_N		5

#define MAX_NAME	128
#define MAX_LABELS	16
#define MAX_LKEY	64
#define MAX_LVAL	512
#define MAX_VALUE	64
#define MAX_ALERTS	32
/* Dependencies blamed per SLO row: config's CONFIG_MAX_DEPENDENCIES is 64. */
#define MAX_BLAMES	64


/* ---- parsing ---- */

struct label {
	char key[MAX_LKEY];
	char val[MAX_LVAL];
};

struct sample {
	char name[MAX_NAME];
	size_t n_labels;
	struct label labels[MAX_LABELS];
	double value;
};

static bool is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

static const char *skip_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* A label value after its opening quote; p is left after the closing one. */
static bool parse_label_value(const char **pp, const char *end, char *out, size_t cap)
{
	const char *p = *pp;
	size_t n = 0;

	for (;;) {
		char c;

		if (p >= end)
			return false;
		c = *p++;
		if (c == '"')
			break;
		if (c == '\\') {
			if (p >= end)
				return false;
			switch (*p++) {
			case 'n':
				c = '\n';
				break;
			case '\\':
				c = '\\';
				break;
			case '"':
				c = '"';
				break;
			default:
				return false;
			}
		}
		if (n + 1 >= cap)
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	*pp = p;
	return true;
}

static bool parse_labels(const char **pp, const char *end, struct sample *s)
{
	const char *p = *pp;

	for (;;) {
		struct label *l;
		size_t n = 0;

		p = skip_blanks(p, end);
		if (p >= end)
			return false;
		if (*p == '}')
			break;
		if (s->n_labels == MAX_LABELS || !is_name_start(*p) || *p == ':')
			return false;
		l = &s->labels[s->n_labels];
		while (p < end && is_name_char(*p) && *p != ':') {
			if (n + 1 >= sizeof(l->key))
				return false;
			l->key[n++] = *p++;
		}
		l->key[n] = '\0';
		p = skip_blanks(p, end);
		if (p >= end || *p++ != '=')
			return false;
		p = skip_blanks(p, end);
		if (p >= end || *p++ != '"')
			return false;
		if (!parse_label_value(&p, end, l->val, sizeof(l->val)))
			return false;
		s->n_labels++;
		p = skip_blanks(p, end);
		if (p < end && *p == ',')
			p++;
		else if (p >= end || *p != '}')
			return false;
	}
	*pp = p + 1;
	return true;
}

/* One line, without its newline. False: not a sample, or one out of bounds. */
static bool parse_line(const char *p, const char *end, struct sample *s)
{
	char num[MAX_VALUE];
	const char *tok;
	char *num_end;
	size_t n = 0;

	s->n_labels = 0;
	while (end > p && end[-1] == '\r')
		end--;
	p = skip_blanks(p, end);
	if (p >= end || !is_name_start(*p))
		return false;	/* blank, a # comment, or garbage */
	while (p < end && is_name_char(*p)) {
		if (n + 1 >= sizeof(s->name))
			return false;
		s->name[n++] = *p++;
	}
	s->name[n] = '\0';
	if (p < end && *p == '{') {
		p++;
		if (!parse_labels(&p, end, s))
			return false;
	}
	if (p >= end || (*p != ' ' && *p != '\t'))
		return false;
	p = skip_blanks(p, end);
	tok = p;
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	n = p - tok;
	if (!n || n >= sizeof(num))
		return false;
	memcpy(num, tok, n);
	num[n] = '\0';
	errno = 0;
	s->value = strtod(num, &num_end);
	if (num_end != num + n)
		return false;
	/* an optional integer timestamp, and nothing after it */
	p = skip_blanks(p, end);
	if (p < end && *p == '-')
		p++;
	tok = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (p != tok)
		p = skip_blanks(p, end);
	return p >= end;
}

static const char *label(const struct sample *s, const char *key)
{
	for (size_t i = 0; i < s->n_labels; i++) {
		if (!strcmp(s->labels[i].key, key))
			return s->labels[i].val;
	}
	return NULL;
}

/* ---- what is kept ---- */

static const int table_burns[] = { SLO_BURN_1H, SLO_BURN_6H, SLO_BURN_1D, SLO_BURN_3D };

struct alert {
	char *condition, *severity;
};

/* Bad events of an SLO that coincided with failing calls to a dependency. */
struct blame {
	char *dependency;
	double bad;
};

struct slo_row {
	char *slo, *service, *endpoint, *window;	/* endpoint "": the whole service */
	double sli, objective, budget, exhaustion, good, bad;
	bool from_window;	/* good and bad from the window gauge */
	bool insufficient_data;		/* fewer events than min_events: no budget, no alert */
	double burn[SLO_BURN_WINDOWS];
	struct alert alerts[MAX_ALERTS];
	size_t n_alerts;
	struct blame *blames;
	size_t n_blames;
};

struct endpoint {
	char *service, *method, *route;
	double total, errors, sum;
};

/* One count of a kind of HTTP/2 loss: its label value(s), summed over the rest. */
#define MAX_LOSS_KINDS	32
struct loss {
	char what[MAX_LKEY];
	double n;
};

struct losses {
	struct loss v[MAX_LOSS_KINDS];
	size_t n;
};

struct status_data {
	struct slo_row *slos;
	size_t n_slos, cap_slos;
	struct endpoint *eps;
	size_t n_eps, cap_eps;
	size_t last_ep;		/* the agent writes an endpoint's series together */
	size_t last_slo;	/* and each metric's series in the same SLO order */
	/* HTTP/2: gaps by cause, undecoded fields by "field/cause", streams and records */
	struct losses h2_gaps, h2_undecoded, h2_uncounted, h2_dropped;
	bool oom;
};

static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return true;
	ncap = *cap ? *cap * 2 : 16;
	if (ncap > SIZE_MAX / elem)
		return false;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return false;
	*arr = p;
	*cap = ncap;
	return true;
}

/* The row of an SLO seen already, or NULL. */
static struct slo_row *slo_find(struct status_data *d, const char *slo, const char *service,
				const char *endpoint)
{
	/* from the last one: with a thousand default SLO copies, a scan each is slow */
	for (size_t k = 0; k < d->n_slos; k++) {
		size_t i = (d->last_slo + k) % d->n_slos;
		struct slo_row *r = &d->slos[i];

		if (!strcmp(r->slo, slo) && !strcmp(r->service, service) &&
		    !strcmp(r->endpoint, endpoint)) {
			d->last_slo = i;
			return r;
		}
	}
	return NULL;
}

static struct slo_row *slo_of(struct status_data *d, const char *slo, const char *service,
			       const char *endpoint)
{
	struct slo_row *r = slo_find(d, slo, service, endpoint);

	if (r)
		return r;
	if (!grow((void **)&d->slos, &d->cap_slos, d->n_slos, sizeof(*d->slos)))
		goto oom;
	r = &d->slos[d->n_slos];
	*r = (struct slo_row){ .sli = NAN, .objective = NAN, .budget = NAN, .exhaustion = NAN,
			       .good = NAN, .bad = NAN };
	for (int w = 0; w < SLO_BURN_WINDOWS; w++)
		r->burn[w] = NAN;
	r->slo = strdup(slo);
	r->service = strdup(service);
	r->endpoint = strdup(endpoint);
	if (!r->slo || !r->service || !r->endpoint) {
		free(r->slo);
		free(r->service);
		free(r->endpoint);
		goto oom;
	}
	d->last_slo = d->n_slos++;
	return r;
oom:
	d->oom = true;
	return NULL;
}

static struct endpoint *endpoint_of(struct status_data *d, const char *service,
				    const char *method, const char *route)
{
	struct endpoint *e;

	for (size_t k = 0; k < d->n_eps; k++) {
		size_t i = (d->last_ep + k) % d->n_eps;

		e = &d->eps[i];
		if (!strcmp(e->service, service) && !strcmp(e->method, method) &&
		    !strcmp(e->route, route)) {
			d->last_ep = i;
			return e;
		}
	}
	if (!grow((void **)&d->eps, &d->cap_eps, d->n_eps, sizeof(*d->eps)))
		goto oom;
	e = &d->eps[d->n_eps];
	*e = (struct endpoint){ .service = strdup(service), .method = strdup(method),
				.route = strdup(route) };
	if (!e->service || !e->method || !e->route) {
		free(e->service);
		free(e->method);
		free(e->route);
		goto oom;
	}
	d->last_ep = d->n_eps++;
	return e;
oom:
	d->oom = true;
	return NULL;
}

static void add_alert(struct status_data *d, struct slo_row *r, const char *condition,
		      const char *severity)
{
	struct alert *a;

	for (size_t i = 0; i < r->n_alerts; i++) {
		if (!strcmp(r->alerts[i].condition, condition))
			return;
	}
	if (r->n_alerts == MAX_ALERTS)
		return;
	a = &r->alerts[r->n_alerts];
	a->condition = strdup(condition);
	a->severity = strdup(severity ? severity : "");
	if (!a->condition || !a->severity) {
		free(a->condition);
		free(a->severity);
		d->oom = true;
	} else {
		r->n_alerts++;
	}
}

static void add_blame(struct status_data *d, struct slo_row *r, const char *dependency,
		      double bad)
{
	struct blame *b;

	if (!dependency || !isfinite(bad) || bad <= 0 || r->n_blames == MAX_BLAMES)
		return;
	if (!r->blames && !(r->blames = calloc(MAX_BLAMES, sizeof(*r->blames)))) {
		d->oom = true;
		return;
	}
	b = &r->blames[r->n_blames];
	b->dependency = strdup(dependency);
	b->bad = bad;
	if (b->dependency)
		r->n_blames++;
	else
		d->oom = true;
}

static void take_slo_sample(struct status_data *d, const struct sample *s)
{
	const char *slo = label(s, "slo"), *service = label(s, "service"), *v;
	const char *endpoint = label(s, "endpoint"), *m = s->name;
	struct slo_row *r;

	if (!slo || !service)
		return;
	if (!endpoint)
		endpoint = "";	/* an agent from before default SLOs */
	if (strcmp(m, METRIC_SLO_EVENTS) && strcmp(m, METRIC_SLO_WINDOW_EVENTS) &&
	    strcmp(m, METRIC_SLO_OBJECTIVE) &&
	    strcmp(m, METRIC_SLO_SLI) && strcmp(m, METRIC_SLO_BUDGET_REMAINING) &&
	    strcmp(m, METRIC_SLO_BURN_RATE) && strcmp(m, METRIC_SLO_EXHAUSTION) &&
	    strcmp(m, METRIC_SLO_ALERT) && strcmp(m, METRIC_SLO_BLAMED) &&
	    strcmp(m, METRIC_SLO_INSUFFICIENT_DATA))
		return;		/* a series this does not know: no row for it */
	if (!strcmp(m, METRIC_SLO_BLAMED)) {
		/* only for SLOs the agent has now: a removed one's counter lingers */
		r = slo_find(d, slo, service, endpoint);
		if (r)
			add_blame(d, r, label(s, "dependency"), s->value);
		return;
	}
	r = slo_of(d, slo, service, endpoint);
	if (!r)
		return;
	if (!strcmp(m, METRIC_SLO_EVENTS) || !strcmp(m, METRIC_SLO_WINDOW_EVENTS)) {
		/*
		 * The window's events, beside the SLI and budget of that window;
		 * the counter (since the agent started) only from an agent that
		 * exports no window.
		 */
		bool window = !strcmp(m, METRIC_SLO_WINDOW_EVENTS);

		v = label(s, "result");
		if (!window && r->from_window)
			return;
		r->from_window |= window;
		if (v && !strcmp(v, "good"))
			r->good = s->value;
		else if (v && !strcmp(v, "bad"))
			r->bad = s->value;
	} else if (!strcmp(m, METRIC_SLO_OBJECTIVE)) {
		r->objective = s->value;
	} else if (!strcmp(m, METRIC_SLO_SLI)) {
		r->sli = s->value;
		v = label(s, "window");
		if (v && !r->window) {
			r->window = strdup(v);
			if (!r->window)
				d->oom = true;
		}
	} else if (!strcmp(m, METRIC_SLO_BUDGET_REMAINING)) {
		r->budget = s->value;
	} else if (!strcmp(m, METRIC_SLO_BURN_RATE)) {
		v = label(s, "window");
		for (int w = 0; v && w < SLO_BURN_WINDOWS; w++) {
			if (!strcmp(v, slo_burn_window_names[w]))
				r->burn[w] = s->value;
		}
	} else if (!strcmp(m, METRIC_SLO_EXHAUSTION)) {
		r->exhaustion = s->value;
	} else if (!strcmp(m, METRIC_SLO_INSUFFICIENT_DATA)) {
		r->insufficient_data = s->value == 1;
	} else {
		v = label(s, "condition");
		if (v && s->value == 1)
			add_alert(d, r, v, label(s, "severity"));
	}
}

/* gRPC's codes that availability SLOs count bad unless told otherwise */
static bool grpc_code_bad(const char *code)
{
	static const char *const bad[] = {
		"UNKNOWN", "DEADLINE_EXCEEDED", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE",
		"DATA_LOSS", "invalid",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!strcmp(code, bad[i]))
			return true;
	return false;
}

static void take_hist_sample(struct status_data *d, const struct sample *s, bool is_count,
			     bool rpc)
{
	const char *service = label(s, "service_name");
	const char *method = rpc ? label(s, "rpc_system_name") : label(s, "http_request_method");
	const char *route = label(s, rpc ? "rpc_method" : "http_route");
	const char *code = label(s, rpc ? "rpc_response_status_code" : "http_response_status_code");
	struct endpoint *e;

	if (!service || !method || !route || !code || !isfinite(s->value) || s->value < 0)
		return;
	e = endpoint_of(d, service, method, route);
	if (!e)
		return;
	if (!is_count) {
		e->sum += s->value;
		return;
	}
	e->total += s->value;
	if (rpc ? grpc_code_bad(code) :
	    strlen(code) == 3 && code[0] == '5' && code[1] >= '0' && code[1] <= '9' &&
	    code[2] >= '0' && code[2] <= '9')
		e->errors += s->value;
}

static void loss_add(struct losses *l, const char *what, const char *what2, double n)
{
	char key[MAX_LKEY];
	size_t i;

	if (!what || !isfinite(n) || n <= 0)
		return;
	snprintf(key, sizeof(key), "%s%s%s", what, what2 ? "/" : "", what2 ? what2 : "");
	for (i = 0; i < l->n && strcmp(l->v[i].what, key); i++)
		;
	if (i == l->n) {
		if (l->n == MAX_LOSS_KINDS)
			return;	/* more kinds than slotap has: not an agent's */
		snprintf(l->v[l->n++].what, MAX_LKEY, "%s", key);
	}
	l->v[i].n += n;
}

static void take_h2_sample(struct status_data *d, const struct sample *s)
{
	if (!strcmp(s->name, METRIC_H2_GAPS))
		loss_add(&d->h2_gaps, label(s, "cause"), NULL, s->value);
	else if (!strcmp(s->name, METRIC_H2_UNDECODED))
		loss_add(&d->h2_undecoded, label(s, "field"), label(s, "cause"), s->value);
	else if (!strcmp(s->name, METRIC_H2_STREAMS_UNCOUNTED))
		loss_add(&d->h2_uncounted, label(s, "reason"), NULL, s->value);
	else if (!strcmp(s->name, METRIC_H2_RECORDS_DROPPED))
		loss_add(&d->h2_dropped, label(s, "reason"), NULL, s->value);
}

static void parse_exposition(struct status_data *d, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	struct sample *s = malloc(sizeof(*s));

	if (!s) {
		d->oom = true;
		return;
	}
	while (p < end && !d->oom) {
		const char *nl = memchr(p, '\n', end - p);
		const char *eol = nl ? nl : end;

		if (parse_line(p, eol, s)) {
			if (!strncmp(s->name, METRIC_SLO_PREFIX, strlen(METRIC_SLO_PREFIX)))
				take_slo_sample(d, s);
			else if (!strcmp(s->name, METRIC_HTTP_SERVER "_count"))
				take_hist_sample(d, s, true, false);
			else if (!strcmp(s->name, METRIC_HTTP_SERVER "_sum"))
				take_hist_sample(d, s, false, false);
			else if (!strcmp(s->name, METRIC_RPC_SERVER "_count"))
				take_hist_sample(d, s, true, true);
			else if (!strcmp(s->name, METRIC_RPC_SERVER "_sum"))
				take_hist_sample(d, s, false, true);
			else if (!strncmp(s->name, "slotap_h2_", 10))
				take_h2_sample(d, s);
		}
		p = nl ? nl + 1 : end;
	}
	free(s);
}

static void free_data(struct status_data *d)
{
	for (size_t i = 0; i < d->n_slos; i++) {
		struct slo_row *r = &d->slos[i];

		free(r->slo);
		free(r->service);
		free(r->endpoint);
		free(r->window);
		for (size_t a = 0; a < r->n_alerts; a++) {
			free(r->alerts[a].condition);
			free(r->alerts[a].severity);
		}
		for (size_t b = 0; b < r->n_blames; b++)
			free(r->blames[b].dependency);
		free(r->blames);
	}
	for (size_t i = 0; i < d->n_eps; i++) {
		free(d->eps[i].service);
		free(d->eps[i].method);
		free(d->eps[i].route);
	}
	free(d->slos);
	free(d->eps);
}

/* ---- ranking ---- */

static double availability(const struct endpoint *e)
{
	return 1 - e->errors / e->total;
}

static double mean_latency(const struct endpoint *e)
{
	return e->sum / e->total;
}

static int by_name(const struct endpoint *x, const struct endpoint *y)
{
	int c = strcmp(x->service, y->service);

	if (!c)
		c = strcmp(x->route, y->route);
	if (!c)
		c = strcmp(x->method, y->method);
	return c;
}

static int cmp_double(double a, double b)
{
	return a < b ? -1 : a > b;
}

static int least_available_first(const void *a, const void *b)
{
	const struct endpoint *x = *(const struct endpoint *const *)a;
	const struct endpoint *y = *(const struct endpoint *const *)b;
	int c = cmp_double(availability(x), availability(y));

	if (!c)
		c = cmp_double(y->total, x->total);	/* the busier first */
	return c ? c : by_name(x, y);
}

static int slowest_first(const void *a, const void *b)
{
	const struct endpoint *x = *(const struct endpoint *const *)a;
	const struct endpoint *y = *(const struct endpoint *const *)b;
	int c = cmp_double(mean_latency(y), mean_latency(x));

	if (!c)
		c = cmp_double(y->total, x->total);
	return c ? c : by_name(x, y);
}

/* The top TOP_N endpoints with requests, in order; *n is how many. */
static const struct endpoint **rank(const struct status_data *d,
				    int (*cmp)(const void *, const void *), size_t *n)
{
	const struct endpoint **v = calloc(d->n_eps ? d->n_eps : 1, sizeof(*v));

	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < d->n_eps; i++) {
		if (d->eps[i].total > 0)
			v[(*n)++] = &d->eps[i];
	}
	qsort(v, *n, sizeof(*v), cmp);
	if (*n > TOP_N)
		*n = TOP_N;
	return v;
}

/* ---- the tables ---- */

struct table {
	size_t ncols, n, cap;	/* n cells so far, appended row by row */
	const char *const *heads;
	const bool *right;
	char **cells;
	bool oom;
};

/* What the terminal shows: control bytes (a label's \n) become '?'. */
static char *clean(char *s)
{
	for (char *c = s; c && *c; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	}
	return s;
}

__attribute__((format(printf, 2, 3)))
static void cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (!grow((void **)&t->cells, &t->cap, t->n, sizeof(*t->cells))) {
		t->oom = true;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		s = NULL;
		t->oom = true;
	}
	va_end(ap);
	t->cells[t->n++] = clean(s);
}

/* Display width: UTF-8 code points. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; s && *s; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	}
	return w;
}

static void print_table(FILE *out, const struct table *t)
{
	size_t w[16] = {}, nrows = t->n / t->ncols;

	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = width(t->heads[c]);
		for (size_t r = 0; r < nrows; r++) {
			size_t cw = width(t->cells[r * t->ncols + c]);

			if (cw > w[c])
				w[c] = cw;
		}
	}
	for (size_t r = 0; r <= nrows; r++) {
		fputs("  ", out);
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = r ? t->cells[(r - 1) * t->ncols + c] : t->heads[c];
			size_t pad = w[c] - width(s);
			bool last = c + 1 == t->ncols;

			if (t->right[c])
				fprintf(out, "%*s", (int)pad, "");
			fputs(s ? s : "", out);
			if (!t->right[c] && !last)
				fprintf(out, "%*s", (int)pad, "");
			if (!last)
				fputs("  ", out);
		}
		fputc('\n', out);
	}
}

static void free_table(struct table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->cells[i]);
	free(t->cells);
}

static void pct_cell(struct table *t, double ratio)
{
	if (!isfinite(ratio))
		cell(t, "-");
	else
		cell(t, "%.2f%%", ratio * 100);
}

static void burn_cell(struct table *t, double v)
{
	if (isnan(v))
		cell(t, "-");
	else if (isinf(v))
		cell(t, v > 0 ? "inf" : "-inf");
	else
		cell(t, "%.2f", v);
}

static void forecast_cell(struct table *t, double s)
{
	if (isnan(s) || (isinf(s) && s > 0))
		cell(t, "-");
	else if (s <= 0)
		cell(t, "exhausted");
	else if (s < 60)
		cell(t, "<1m");
	else if (s < 3600)
		cell(t, "%.0fm", s / 60);
	else if (s < 86400)
		cell(t, "%.1fh", s / 3600);
	else
		cell(t, "%.1fd", s / 86400);
}

static void latency_cell(struct table *t, double s)
{
	if (!isfinite(s))
		cell(t, "-");
	else if (s < 1e-3)
		cell(t, "%.0fµs", s * 1e6);
	else if (s < 1)
		cell(t, "%.1fms", s * 1e3);
	else
		cell(t, "%.2fs", s);
}

/* "" is an SLO about every request of its service */
static const char *endpoint_shown(const struct slo_row *r)
{
	return r->endpoint[0] ? r->endpoint : "(all)";
}

static int burn_window(const char *label)
{
	for (int w = 0; w < SLO_BURN_WINDOWS; w++)
		if (!strcmp(label, slo_burn_window_names[w]))
			return w;
	return -1;
}

/*
 * A burn-rate rule's windows and factor from its condition,
 * "burn_rate_1h_5m_14.4"; false for other conditions.
 */
static bool burn_rule(const char *condition, int *lw, int *sw, double *factor)
{
	char l[16], sh[16], f[32], *end;

	if (sscanf(condition, "burn_rate_%15[^_]_%15[^_]_%31s", l, sh, f) != 3)
		return false;
	*lw = burn_window(l);
	*sw = burn_window(sh);
	*factor = strtod(f, &end);
	return *lw >= 0 && *sw >= 0 && !*end;
}

static void fmt_burn(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2fx", v);
}

/* How far the SLO is broken, in the terms of the alert's condition. */
static void broken_by(char *buf, size_t len, const struct slo_row *r, const char *condition)
{
	char a[32], b[32];
	double factor;
	int lw, sw;

	if (burn_rule(condition, &lw, &sw, &factor)) {
		fmt_burn(a, sizeof(a), r->burn[lw]);
		fmt_burn(b, sizeof(b), r->burn[sw]);
		snprintf(buf, len, "burn %s %s, %s %s (>= %gx)", slo_burn_window_names[lw], a,
			 slo_burn_window_names[sw], b, factor);
	} else if (!strcmp(condition, "budget_exhausted") ||
		   !strcmp(condition, "budget_70pct_of_period")) {
		if (isfinite(r->budget))
			snprintf(buf, len, "budget spent %.2f%%", (1 - r->budget) * 100);
		else
			snprintf(buf, len, "-");
	} else if (!strcmp(condition, "budget_30pct_in_24h")) {
		fmt_burn(a, sizeof(a), r->burn[SLO_BURN_1D]);
		snprintf(buf, len, "burn 1d %s", a);
	} else if (!strcmp(condition, "budget_50pct_in_7d")) {
		fmt_burn(a, sizeof(a), r->burn[SLO_BURN_3D]);
		snprintf(buf, len, "burn 3d %s", a);
	} else {
		snprintf(buf, len, "-");
	}
}

/* Every active alert, pages first, with what the on-call engineer needs. */
static int render_alerts(const struct status_data *d, FILE *out)
{
	static const char *const heads[] = { "SEVERITY", "SLO", "SERVICE", "ENDPOINT",
		"CONDITION", "BROKEN BY", "BUDGET LEFT" };
	static const bool right[] = { 0, 0, 0, 0, 0, 0, 1 };
	struct table t = { .ncols = 7, .heads = heads, .right = right };

	for (int pages = 1; pages >= 0; pages--) {
		for (size_t i = 0; i < d->n_slos && !t.oom; i++) {
			const struct slo_row *r = &d->slos[i];

			for (size_t a = 0; a < r->n_alerts; a++) {
				const struct alert *al = &r->alerts[a];
				char why[160];

				if ((strcmp(al->severity, "page") == 0) != pages)
					continue;
				broken_by(why, sizeof(why), r, al->condition);
				cell(&t, "%s", al->severity[0] ? al->severity : "-");
				cell(&t, "%s", r->slo);
				cell(&t, "%s", r->service);
				cell(&t, "%s", endpoint_shown(r));
				cell(&t, "%s", al->condition);
				cell(&t, "%s", why);
				pct_cell(&t, r->budget);
			}
		}
	}
	if (!t.oom) {
		if (t.n) {
			fputs("Active alerts\n", out);
			print_table(out, &t);
		} else {
			fputs("No active alerts.\n", out);
		}
	}
	free_table(&t);
	return t.oom ? -ENOMEM : 0;
}

/* Which dependencies spent whose budget: the policy's "because of a dependency". */
static int render_blames(const struct status_data *d, FILE *out)
{
	static const char *const heads[] = { "SLO", "SERVICE", "ENDPOINT", "DEPENDENCY",
		"BAD EVENTS", "OF ALL BAD" };
	static const bool right[] = { 0, 0, 0, 0, 1, 1 };
	struct table t = { .ncols = 6, .heads = heads, .right = right };

	for (size_t i = 0; i < d->n_slos && !t.oom; i++) {
		const struct slo_row *r = &d->slos[i];

		for (size_t b = 0; b < r->n_blames; b++) {
			cell(&t, "%s", r->slo);
			cell(&t, "%s", r->service);
			cell(&t, "%s", endpoint_shown(r));
			cell(&t, "%s", r->blames[b].dependency);
			cell(&t, "%.0f", r->blames[b].bad);
			pct_cell(&t, r->bad > 0 ? r->blames[b].bad / r->bad : NAN);
		}
	}
	if (!t.oom && t.n) {
		fputs("\nBad events during failing dependency calls\n", out);
		print_table(out, &t);
	}
	free_table(&t);
	return t.oom ? -ENOMEM : 0;
}

static int render_slos(const struct status_data *d, FILE *out)
{
	static const char *const heads[] = { "SLO", "SERVICE", "ENDPOINT", "SLI (WINDOW)",
		"OBJECTIVE", "BUDGET LEFT", "BURN 1h", "BURN 6h", "BURN 1d", "BURN 3d",
		"EXHAUSTED IN", "ALERTS" };
	static const bool right[] = { 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0 };
	struct table t = { .ncols = 12, .heads = heads, .right = right };

	if (!d->n_slos) {
		fputs("No SLOs: the agent exports no slotap_slo_* series (none configured).\n", out);
		return 0;
	}
	for (size_t i = 0; i < d->n_slos && !t.oom; i++) {
		const struct slo_row *r = &d->slos[i];
		char alerts[1024] = "";
		size_t used = 0;

		cell(&t, "%s", r->slo);
		cell(&t, "%s", r->service);
		cell(&t, "%s", endpoint_shown(r));
		if (isfinite(r->sli))
			cell(&t, "%.2f%% (%s)", r->sli * 100, r->window ? r->window : "?");
		else
			cell(&t, "- (%s)", r->window ? r->window : "?");
		if (isfinite(r->objective))
			cell(&t, "%.6g%%", r->objective * 100);
		else
			cell(&t, "-");
		if (r->insufficient_data)
			cell(&t, "no data");	/* below min_events: a budget it cannot know */
		else
			pct_cell(&t, r->budget);
		for (size_t b = 0; b < sizeof(table_burns) / sizeof(table_burns[0]); b++)
			burn_cell(&t, r->burn[table_burns[b]]);
		forecast_cell(&t, r->exhaustion);
		for (size_t a = 0; a < r->n_alerts; a++) {
			int n = snprintf(alerts + used, sizeof(alerts) - used, "%s%s",
					 a ? "," : "", r->alerts[a].condition);

			if (n < 0 || (size_t)n >= sizeof(alerts) - used)
				break;	/* the cell is full: what fits */
			used += n;
		}
		cell(&t, "%s", r->n_alerts ? alerts : "ok");
	}
	if (!t.oom) {
		fputs("SLOs\n", out);
		print_table(out, &t);
		fputc('\n', out);
	}
	free_table(&t);
	if (t.oom)
		return -ENOMEM;
	return render_alerts(d, out) ?: render_blames(d, out);
}

static int render_endpoints(const struct status_data *d, FILE *out)
{
	/* errors: 5xx, and for gRPC calls (METHOD grpc) the default bad codes */
	static const char *const avail_heads[] = { "SERVICE", "METHOD", "ROUTE", "AVAILABILITY",
						   "ERRORS", "REQUESTS" };
	static const bool avail_right[] = { 0, 0, 0, 1, 1, 1 };
	static const char *const slow_heads[] = { "SERVICE", "METHOD", "ROUTE", "MEAN", "REQUESTS" };
	static const bool slow_right[] = { 0, 0, 0, 1, 1 };
	struct table ta = { .ncols = 6, .heads = avail_heads, .right = avail_right };
	struct table ts = { .ncols = 5, .heads = slow_heads, .right = slow_right };
	const struct endpoint **least, **slow;
	size_t n_least, n_slow;
	int err = 0;

	least = rank(d, least_available_first, &n_least);
	slow = rank(d, slowest_first, &n_slow);
	if (!least || !slow) {
		err = -ENOMEM;
		goto out;
	}
	if (!n_least) {
		fputs("No requests measured yet.\n", out);
		goto out;
	}
	for (size_t i = 0; i < n_least; i++) {
		cell(&ta, "%s", least[i]->service);
		cell(&ta, "%s", least[i]->method);
		cell(&ta, "%s", least[i]->route);
		pct_cell(&ta, availability(least[i]));
		cell(&ta, "%.0f", least[i]->errors);
		cell(&ta, "%.0f", least[i]->total);
	}
	for (size_t i = 0; i < n_slow; i++) {
		cell(&ts, "%s", slow[i]->service);
		cell(&ts, "%s", slow[i]->method);
		cell(&ts, "%s", slow[i]->route);
		latency_cell(&ts, mean_latency(slow[i]));
		cell(&ts, "%.0f", slow[i]->total);
	}
	if (ta.oom || ts.oom) {
		err = -ENOMEM;
		goto out;
	}
	fputs("Least available endpoints\n", out);
	print_table(out, &ta);
	fputs("\nSlowest endpoints\n", out);
	print_table(out, &ts);
out:
	free_table(&ta);
	free_table(&ts);
	free(least);
	free(slow);
	return err;
}

static bool losses_any(const struct status_data *d)
{
	return d->h2_gaps.n || d->h2_undecoded.n || d->h2_uncounted.n || d->h2_dropped.n;
}

static void render_losses(FILE *out, const char *title, const struct losses *l)
{
	if (!l->n)
		return;
	fprintf(out, "  %s:", title);
	for (size_t i = 0; i < l->n; i++) {
		char what[MAX_LKEY];

		snprintf(what, sizeof(what), "%s", l->v[i].what);
		fprintf(out, "%s %s %.0f", i ? "," : "", clean(what), l->v[i].n);
	}
	fputc('\n', out);
}

/* What HTTP/2 lost or could not decode: only when something was. */
static void render_h2(const struct status_data *d, FILE *out)
{
	if (!losses_any(d))
		return;
	fputs("\nHTTP/2 losses\n", out);
	render_losses(out, "gaps (table state lost, by cause)", &d->h2_gaps);
	render_losses(out, "fields undecoded (field/cause)", &d->h2_undecoded);
	render_losses(out, "streams not measured", &d->h2_uncounted);
	render_losses(out, "records dropped", &d->h2_dropped);
}

/* ---- JSON ---- */

static bool json_ok = true;

static void jnum(cJSON *obj, const char *key, double v)
{
	if (!(isfinite(v) ? cJSON_AddNumberToObject(obj, key, v) : cJSON_AddNullToObject(obj, key)))
		json_ok = false;
}

static void jstr(cJSON *obj, const char *key, const char *v)
{
	if (!(v ? cJSON_AddStringToObject(obj, key, v) : cJSON_AddNullToObject(obj, key)))
		json_ok = false;
}

static cJSON *jadd(cJSON *parent, const char *key, cJSON *child)
{
	if (!child) {
		json_ok = false;
		return NULL;
	}
	if (key ? !cJSON_AddItemToObject(parent, key, child) : !cJSON_AddItemToArray(parent, child)) {
		cJSON_Delete(child);
		json_ok = false;
		return NULL;
	}
	return child;
}

static void json_endpoints(cJSON *root, const char *key, const struct endpoint **v, size_t n,
			   bool slowest)
{
	cJSON *arr = jadd(root, key, cJSON_CreateArray());

	for (size_t i = 0; arr && i < n; i++) {
		cJSON *o = jadd(arr, NULL, cJSON_CreateObject());

		if (!o)
			return;
		jstr(o, "service", v[i]->service);
		jstr(o, "method", v[i]->method);
		jstr(o, "route", v[i]->route);
		if (slowest) {
			jnum(o, "mean_seconds", mean_latency(v[i]));
		} else {
			jnum(o, "availability", availability(v[i]));
			jnum(o, "errors_5xx", v[i]->errors);
		}
		jnum(o, "requests", v[i]->total);
	}
}

/* The alerts again, each with how far its SLO is broken */
static void json_alert_details(cJSON *o, const struct slo_row *r)
{
	cJSON *arr = jadd(o, "alert_details", cJSON_CreateArray());

	for (size_t k = 0; arr && k < r->n_alerts; k++) {
		const struct alert *al = &r->alerts[k];
		cJSON *a = jadd(arr, NULL, cJSON_CreateObject()), *b;
		char why[160];
		double factor;
		int lw, sw;

		if (!a)
			return;
		jstr(a, "condition", al->condition);
		jstr(a, "severity", al->severity);
		if (burn_rule(al->condition, &lw, &sw, &factor)) {
			b = jadd(a, "burn_rate", cJSON_CreateObject());
			if (b) {
				jnum(b, slo_burn_window_names[lw], r->burn[lw]);
				jnum(b, slo_burn_window_names[sw], r->burn[sw]);
			}
			jnum(a, "factor", factor);
		}
		jnum(a, "budget_remaining", r->budget);
		broken_by(why, sizeof(why), r, al->condition);
		jstr(a, "broken_by", why);
	}
}

static int render_json(const struct status_data *d, FILE *out)
{
	const struct endpoint **least = NULL, **slow = NULL;
	cJSON *root = cJSON_CreateObject(), *slos;
	size_t n_least, n_slow;
	char *text = NULL;
	int err = 0;

	json_ok = root != NULL;
	slos = root ? jadd(root, "slos", cJSON_CreateArray()) : NULL;
	for (size_t i = 0; slos && i < d->n_slos; i++) {
		const struct slo_row *r = &d->slos[i];
		cJSON *o = jadd(slos, NULL, cJSON_CreateObject()), *b, *a, *ev;

		if (!o)
			break;
		jstr(o, "slo", r->slo);
		jstr(o, "service", r->service);
		jstr(o, "endpoint", r->endpoint);
		jstr(o, "window", r->window);
		jnum(o, "sli", r->sli);
		jnum(o, "objective", r->objective);
		jnum(o, "budget_remaining", r->budget);
		jadd(o, "insufficient_data", cJSON_CreateBool(r->insufficient_data));
		b = jadd(o, "burn_rate", cJSON_CreateObject());
		for (int w = 0; b && w < SLO_BURN_WINDOWS; w++)
			jnum(b, slo_burn_window_names[w], r->burn[w]);
		jnum(o, "exhaustion_seconds", r->exhaustion);	/* +Inf: null */
		a = jadd(o, "alerts", cJSON_CreateArray());
		for (size_t k = 0; a && k < r->n_alerts; k++)
			jadd(a, NULL, cJSON_CreateString(r->alerts[k].condition));
		json_alert_details(o, r);
		ev = jadd(o, "events", cJSON_CreateObject());
		if (ev) {
			jnum(ev, "good", r->good);
			jnum(ev, "bad", r->bad);
		}
		b = jadd(o, "bad_events_blamed", cJSON_CreateObject());
		for (size_t k = 0; b && k < r->n_blames; k++)
			jnum(b, r->blames[k].dependency, r->blames[k].bad);
	}
	if (root && losses_any(d)) {
		const struct losses *all[] = { &d->h2_gaps, &d->h2_undecoded, &d->h2_uncounted,
					       &d->h2_dropped };
		static const char *const keys[] = { "gaps", "fields_undecoded",
						    "streams_not_measured", "records_dropped" };
		cJSON *h2 = jadd(root, "http2_losses", cJSON_CreateObject());

		for (size_t k = 0; h2 && k < 4; k++) {
			cJSON *o = jadd(h2, keys[k], cJSON_CreateObject());

			for (size_t i = 0; o && i < all[k]->n; i++)
				jnum(o, all[k]->v[i].what, all[k]->v[i].n);
		}
	}
	least = rank(d, least_available_first, &n_least);
	slow = rank(d, slowest_first, &n_slow);
	if (root && least && slow) {
		json_endpoints(root, "least_available", least, n_least, false);
		json_endpoints(root, "slowest", slow, n_slow, true);
		if (json_ok)
			text = cJSON_Print(root);
	}
	if (text) {
		fputs(text, out);
		fputc('\n', out);
	} else {
		err = -ENOMEM;
	}
	cJSON_free(text);
	cJSON_Delete(root);
	free(least);
	free(slow);
	return err;
}

int status__render(const char *exposition, size_t len, bool json, FILE *out)
{
	struct status_data d = {};
	int err;

	parse_exposition(&d, exposition ? exposition : "", exposition ? len : 0);
	if (d.oom) {
		err = -ENOMEM;
	} else if (json) {
		err = render_json(&d, out);
	} else {
		err = render_slos(&d, out);
		if (!err) {
			fputc('\n', out);
			err = render_endpoints(&d, out);
		}
		if (!err)
			render_h2(&d, out);
	}
	free_data(&d);
	if (!err && (fflush(out) || ferror(out)))
		err = -EIO;
	return err;
}

/* ---- the command ---- */

static const char status_doc[] =
"Show a running slotap agent's SLOs and its least available and slowest\n"
"endpoints, from its /metrics.\n"
"\n"
"USAGE: slotap status [--web.listen-address HOST:PORT] [--json] [--tls]\n"
"         [--cacert FILE] [--cert FILE --key FILE]\n"
"         [--user NAME --password-file FILE]\n"
"\n"
"An agent started with --web.config.file serves /metrics over TLS, with basic\n"
"authentication or both: --cacert (or --tls, to trust the system's CAs) fetches\n"
"it over https, --cert and --key give a client certificate, --user and\n"
"--password-file the credentials (a file, so that the password is not in ps).\n"
"\n"
"Exit status: 0, 1 when the agent cannot be reached, 2 on a usage error.";

enum {
	OPT_LISTEN = 0x100, OPT_JSON, OPT_USAGE, OPT_TLS, OPT_CACERT, OPT_CERT, OPT_KEY, OPT_USER,
	OPT_PASSWORD_FILE,
};

static const struct argp_option status_options[] = {
	{ "web.listen-address", OPT_LISTEN, "HOST:PORT", 0,
	  "Where the agent serves /metrics (default " DEFAULT_LISTEN ")", 0 },
	{ "json", OPT_JSON, NULL, 0, "Print one JSON object instead of the tables", 0 },
	{ "tls", OPT_TLS, NULL, 0, "Fetch over https (implied by --cacert, --cert)", 0 },
	{ "cacert", OPT_CACERT, "FILE", 0, "CA certificates (PEM) that signed the agent's certificate", 0 },
	{ "cert", OPT_CERT, "FILE", 0, "Client certificate (PEM), with --key", 0 },
	{ "key", OPT_KEY, "FILE", 0, "Its private key (PEM)", 0 },
	{ "user", OPT_USER, "NAME", 0, "Basic authentication user, with --password-file", 0 },
	{ "password-file", OPT_PASSWORD_FILE, "FILE", 0, "File whose first line is the password", 0 },
	{ "help", 'h', NULL, 0, "Give this help list", -1 },
	{ "usage", OPT_USAGE, NULL, 0, "Give a short usage message", -1 },
	{},
};

struct status_env {
	const char *listen;
	bool json, tls;
	const char *cacert, *cert, *key, *user, *password_file;
};

static error_t status_parse_arg(int key, char *arg, struct argp_state *state)
{
	struct status_env *env = state->input;

	switch (key) {
	case OPT_LISTEN:
		env->listen = arg;
		break;
	case OPT_JSON:
		env->json = true;
		break;
	case OPT_TLS:
		env->tls = true;
		break;
	case OPT_CACERT:
		env->cacert = arg;
		env->tls = true;
		break;
	case OPT_CERT:
		env->cert = arg;
		env->tls = true;
		break;
	case OPT_KEY:
		env->key = arg;
		break;
	case OPT_USER:
		env->user = arg;
		break;
	case OPT_PASSWORD_FILE:
		env->password_file = arg;
		break;
	case ARGP_KEY_END:
		if (!env->cert != !env->key)
			argp_error(state, "--cert and --key go together");
		if (!env->user != !env->password_file)
			argp_error(state, "--user and --password-file go together");
		break;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case OPT_USAGE:
		argp_state_help(state, stdout, ARGP_HELP_USAGE | ARGP_HELP_EXIT_OK);
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument %s", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* SCHEME://HOST:PORT/metrics, or NULL when listen is not a HOST:PORT. */
static char *metrics_url(const char *listen, const char *scheme)
{
	char host[256], port[6], *url;
	const char *h = host;
	bool v6;

	if (metrics_server__parse_address(listen, host, sizeof(host), port))
		return NULL;
	for (const char *p = host; *p; p++) {
		if ((unsigned char)*p <= ' ' || strchr("/\\@?#%\"<>", *p))
			return NULL;
	}
	/* an agent listening on every address answers on loopback */
	if (!strcmp(host, "0.0.0.0"))
		h = "127.0.0.1";
	else if (!strcmp(host, "::"))
		h = "::1";
	v6 = strchr(h, ':') != NULL;
	if (asprintf(&url, "%s://%s%s%s:%s/metrics", scheme, v6 ? "[" : "", h, v6 ? "]" : "",
		     port) < 0)
		return NULL;
	return url;
}

struct body {
	char *p;
	size_t len, cap;
	bool too_big;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *ud)
{
	struct body *b = ud;
	size_t n = size * nmemb;

	if (n > MAX_BODY - b->len) {
		b->too_big = true;
		return 0;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 64 << 10;
		char *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return n;
}

/* The first line of path, without its newline. */
static int read_password(const char *path, char **out)
{
	FILE *f = fopen(path, "re");
	size_t cap = 0;
	ssize_t n;

	if (!f) {
		fprintf(stderr, "slotap status: --password-file %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = getline(out, &cap, f);
	fclose(f);
	if (n < 0) {
		fprintf(stderr, "slotap status: --password-file %s: empty\n", path);
		return -1;
	}
	(*out)[strcspn(*out, "\r\n")] = '\0';
	return 0;
}

int status__main(int argc, char **argv)
{
	static const struct argp argp = { status_options, status_parse_arg, NULL, status_doc,
					  NULL, NULL, NULL };
	struct status_env env = { .listen = DEFAULT_LISTEN };
	char errbuf[CURL_ERROR_SIZE] = "", *url = NULL, *password = NULL, **args;
	struct body body = {};
	CURL *curl = NULL;
	CURLcode rc;
	int exit_code = 1, err;

	/* messages and --help name the command as people type it */
	args = calloc(argc + 1, sizeof(*args));
	if (!args) {
		fputs("slotap status: out of memory\n", stderr);
		return 1;
	}
	memcpy(args, argv, argc * sizeof(*args));
	args[0] = "slotap status";
	argp_err_exit_status = 2;
	err = argp_parse(&argp, argc, args, ARGP_NO_HELP, NULL, &env);
	free(args);
	if (err)
		return 2;
	url = metrics_url(env.listen, env.tls ? "https" : "http");
	if (!url) {
		fprintf(stderr, "slotap status: --web.listen-address %s: expected HOST:PORT\n",
			env.listen);
		return 2;
	}
	if (env.password_file && read_password(env.password_file, &password))
		goto out;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) || !(curl = curl_easy_init())) {
		fputs("slotap status: cannot initialize libcurl\n", stderr);
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, FETCH_TIMEOUT_S);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");	/* the agent is local, not behind a proxy */
	curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "slotap-status");
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
	if (env.cacert)
		curl_easy_setopt(curl, CURLOPT_CAINFO, env.cacert);
	if (env.cert) {
		curl_easy_setopt(curl, CURLOPT_SSLCERT, env.cert);
		curl_easy_setopt(curl, CURLOPT_SSLKEY, env.key);
	}
	if (env.user) {
		curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(curl, CURLOPT_USERNAME, env.user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, password);
	}
	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK) {
		fprintf(stderr, "slotap status: cannot reach the agent at %s: %s\n", url,
			body.too_big ? "response larger than 64 MiB"
			: rc == CURLE_WRITE_ERROR ? "out of memory"
			: errbuf[0] ? errbuf : curl_easy_strerror(rc));
		goto out;
	}
	err = status__render(body.p, body.len, env.json, stdout);
	if (err) {
		fprintf(stderr, "slotap status: %s\n", strerror(-err));
		goto out;
	}
	exit_code = 0;
out:
	if (curl)
		curl_easy_cleanup(curl);
	curl_global_cleanup();
	free(body.p);
	free(url);
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	return exit_code;
}
