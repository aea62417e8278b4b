// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "prom.h"
#include "slo.h"
#include "slo_registry.h"

struct slo_entry {
	const struct slo_config *cfg;
	struct slo *engine;
};

struct slo_registry {
	struct slo_entry *entries;	/* sorted by service, so one service's SLOs are adjacent */
	size_t n;
};

static int by_service(const void *a, const void *b)
{
	const struct slo_entry *x = a, *y = b;

	return strcmp(x->cfg->service, y->cfg->service);
}

static void spec_of(const struct slo_config *sc, struct slo_spec *spec)
{
	*spec = (struct slo_spec){
		.objective = sc->objective,
		.window = sc->window,
		.window_s = sc->window_s,
		.timeslices = sc->timeslices,
	};
}

struct slo_registry *slo_registry__new(const struct slotap_config *cfg, __u64 now_s)
{
	struct slo_registry *reg = calloc(1, sizeof(*reg));

	if (!reg)
		return NULL;
	reg->entries = calloc(cfg->n_slos ? cfg->n_slos : 1, sizeof(*reg->entries));
	if (!reg->entries)
		goto fail;
	for (size_t i = 0; i < cfg->n_slos; i++) {
		const struct slo_config *sc = &cfg->slos[i];
		struct slo_spec spec;

		spec_of(sc, &spec);
		reg->entries[i].cfg = sc;
		reg->entries[i].engine = slo__new(&spec, now_s);
		if (!reg->entries[i].engine)
			goto fail;
		reg->n++;
	}
	qsort(reg->entries, reg->n, sizeof(*reg->entries), by_service);
	return reg;
fail:
	slo_registry__free(reg);
	return NULL;
}

void slo_registry__free(struct slo_registry *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->n; i++)
		slo__free(reg->entries[i].engine);
	free(reg->entries);
	free(reg);
}

size_t slo_registry__count(const struct slo_registry *reg)
{
	return reg->n;
}

const struct slo_config *slo_registry__config(const struct slo_registry *reg, size_t i)
{
	return reg->entries[i].cfg;
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
	if (status >= 600)
		return true;	/* not an HTTP status: the response is broken */
	return sc->bad_status[status / 8] & (1u << (status % 8));
}

void slo_registry__record(struct slo_registry *reg, const char *service, const char *method,
			  const char *route, unsigned int status, __u64 latency_ns, __u64 now_s)
{
	struct slo_config key_cfg = { .service = (char *)service };
	struct slo_entry key = { .cfg = &key_cfg }, *e;
	size_t first;

	e = bsearch(&key, reg->entries, reg->n, sizeof(*reg->entries), by_service);
	if (!e)
		return;		/* no SLO about this service */
	first = e - reg->entries;
	while (first > 0 && !by_service(&reg->entries[first - 1], &key))
		first--;
	for (size_t i = first; i < reg->n && !by_service(&reg->entries[i], &key); i++) {
		const struct slo_config *sc = reg->entries[i].cfg;
		bool good;

		if (!endpoint_matches(sc, method, route))
			continue;
		good = sc->sli == SLO_SLI_LATENCY ? latency_ns <= sc->threshold_ns
						  : !status_is_bad(sc, status);
		slo__record(reg->entries[i].engine, now_s, good, 1);
	}
}

static void write_labels(FILE *out, const struct slo_config *sc)
{
	fputs("{slo=", out);
	prom__label_value(out, sc->name);
	fputs(",service=", out);
	prom__label_value(out, sc->service);
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
static void duration_label(char *buf, size_t len, __u64 s)
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

static void window_label(char *buf, size_t len, const struct slo_config *sc)
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
		duration_label(buf, len, sc->window_s);
	}
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

static void write_one(const struct slo_entry *e, FILE *out, __u64 now_s, int metric,
		      const struct slo_status *st)
{
	const struct slo_config *sc = e->cfg;
	char label[32], s2[32];

	switch (metric) {
	case 0:
		write_labels(out, sc);
		fprintf(out, ",result=\"good\"} %llu\n", (unsigned long long)st->good_total);
		fputs("slotap_slo_events_total", out);
		write_labels(out, sc);
		fprintf(out, ",result=\"bad\"} %llu\n",
			(unsigned long long)(st->events_total - st->good_total));
		break;
	case 1:
		write_labels(out, sc);
		fputc('}', out);
		write_value(out, sc->objective);
		break;
	case 2:
		window_label(label, sizeof(label), sc);
		write_labels(out, sc);
		fprintf(out, ",window=\"%s\"}", label);
		write_value(out, st->sli);
		break;
	case 3:
		write_labels(out, sc);
		fputc('}', out);
		write_value(out, st->budget_remaining);
		break;
	case 4:
		for (int w = 0; w < SLO_BURN_WINDOWS; w++) {
			if (w)
				fputs("slotap_slo_burn_rate", out);
			duration_label(label, sizeof(label), slo_burn_window_s[w]);
			write_labels(out, sc);
			fprintf(out, ",window=\"%s\"}", label);
			write_value(out, st->burn_rate[w]);
		}
		break;
	case 5:
		write_labels(out, sc);
		fputc('}', out);
		write_value(out, st->exhaustion_s);
		break;
	case 6: {
		unsigned int met = slo__policy(e->engine, now_s);

		for (int r = 0; r < SLO_DEFAULT_ALERT_RULES; r++) {
			const struct slo_alert_rule *rule = &slo_default_alert_rules[r];

			if (r)
				fputs("slotap_slo_alert_active", out);
			duration_label(label, sizeof(label), rule->long_s);
			duration_label(s2, sizeof(s2), rule->short_s);
			write_labels(out, sc);
			fprintf(out, ",severity=\"%s\",condition=\"burn_rate_%s_%s_%g\"} %d\n",
				rule->severity, label, s2, rule->factor,
				slo__burn_alert(e->engine, now_s, rule));
		}
		for (size_t p = 0; p < sizeof(policies) / sizeof(policies[0]); p++) {
			fputs("slotap_slo_alert_active", out);
			write_labels(out, sc);
			fprintf(out, ",severity=\"%s\",condition=\"%s\"} %d\n", policies[p].severity,
				policies[p].condition, !!(met & policies[p].bit));
		}
		break;
	}
	}
}

int slo_registry__write_prometheus(const struct slo_registry *reg, FILE *out, __u64 now_s)
{
	static const struct {
		const char *name, *type, *help;
	} metrics[] = {
		{ "slotap_slo_events_total", "counter",
		  "Requests an SLO counted, good or bad, since the agent started." },
		{ "slotap_slo_objective_ratio", "gauge", "The SLO's objective." },
		{ "slotap_slo_sli_ratio", "gauge", "Good over total events in the SLO's window." },
		{ "slotap_slo_error_budget_remaining_ratio", "gauge",
		  "Fraction of the window's error budget left; negative once overspent." },
		{ "slotap_slo_burn_rate", "gauge",
		  "Error rate over the window divided by the error budget (1 spends it in one SLO window)." },
		{ "slotap_slo_budget_exhaustion_seconds", "gauge",
		  "Forecast seconds until the budget is spent at the 1h burn rate (+Inf: not burning)." },
		{ "slotap_slo_alert_active", "gauge",
		  "1 while a multiwindow burn-rate rule or an error budget policy condition holds." },
	};

	struct slo_status *st;

	if (!reg->n)
		return 0;
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
