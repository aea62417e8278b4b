// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The registry's active SLO alerts as pushed alerts (see slo_alerts.h),
 * worded as the generated Prometheus rules word the same alerts, with the
 * agent's own figures where the rules query Prometheus for theirs.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "alert_push.h"
#include "alert_scheme.h"
#include "config.h"
#include "slo.h"
#include "slo_alerts.h"
#include "slo_registry.h"

struct texts {
	char condition[64], window[24], summary[512], description[640], broken_by[160];
	char budget[48];
};

static int burn_index(__u64 window_s)
{
	for (int w = 0; w < SLO_BURN_WINDOWS; w++)
		if (slo_burn_window_s[w] == window_s)
			return w;
	return SLO_BURN_1H;
}

/* Prometheus' humanizePercentage for the figures a person reads. */
static void percent(char *buf, size_t len, double ratio)
{
	/* a budget below min_events: as the rules' annotation says it */
	if (isnan(ratio))
		snprintf(buf, len, "unknown (fewer than min_events events)");
	else
		snprintf(buf, len, "%.4g%%", ratio * 100);
}

/* What the condition of bit means, and how far it is broken now. */
static const char *describe(char *broken_by, size_t len, unsigned int bit,
			    const struct slo_status *st, const struct slo_config *sc)
{
	char pct[48];

	if (bit < SLO_DEFAULT_ALERT_RULES) {
		const struct slo_alert_rule *r = &slo_default_alert_rules[bit];
		int l = burn_index(r->long_s), s = burn_index(r->short_s);

		snprintf(broken_by, len, "burn rate %s %.2fx, %s %.2fx (>= %gx)",
			 slo_burn_window_names[l], st->burn_rate[l], slo_burn_window_names[s],
			 st->burn_rate[s], r->factor);
		return r->condition;
	}
	switch (bit - SLO_DEFAULT_ALERT_RULES) {
	case 0:
		percent(pct, sizeof(pct), st->budget_remaining);
		snprintf(broken_by, len, "budget remaining %s", pct);
		return sc->window == SLO_WINDOW_ROLLING ? "error budget exhausted"
			: "error budget exhausted, or forecast to be before the period ends";
	case 1:
		percent(pct, sizeof(pct), st->budget_remaining);
		snprintf(broken_by, len, "budget remaining %s (<= %d%%)", pct,
			 100 - SLO_POLICY_PERIOD_PCT);
		return "70% of the window's error budget spent";
	case 2:
		percent(pct, sizeof(pct), st->budget_consumed_24h);
		snprintf(broken_by, len, "%s of the budget spent in 24h (>= %d%%)", pct,
			 SLO_POLICY_FAST_BURN_PCT);
		return "30% of the error budget spent in 24h";
	default:
		percent(pct, sizeof(pct), st->budget_consumed_7d);
		snprintf(broken_by, len, "%s of the budget spent in 7d (>= %d%%)", pct,
			 SLO_POLICY_SLOW_BURN_PCT);
		return "50% of the error budget spent in 7d";
	}
}

int slo_alerts__push(const struct slo_registry *reg, __u64 now_s, struct alert_push *p)
{
	size_t n_slos = slo_registry__count(reg), n = 0, more = 0;
	struct alert_push_item *items;
	struct texts *tx;

	items = calloc(ALERT_PUSH_ALERTS_MAX, sizeof(*items));
	tx = calloc(ALERT_PUSH_ALERTS_MAX, sizeof(*tx));
	if (!items || !tx) {
		free(items);
		free(tx);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n_slos; i++) {
		unsigned int active = slo_registry__alerts(reg, i);
		const struct slo_config *sc = slo_registry__config(reg, i);
		const char *service = slo_registry__service(reg, i);
		const char *endpoint = slo_registry__endpoint(reg, i);
		const char *sli = sc->sli == SLO_SLI_LATENCY ? "latency" : "availability";
		struct slo_status st;

		if (!active)
			continue;
		slo__status(slo_registry__engine(reg, i), now_s, &st);
		for (unsigned int bit = 0; bit < 32; bit++) {
			struct alert_push_item *it = &items[n];
			struct texts *t = &tx[n];
			const char *severity, *what;

			if (!(active & (1u << bit)))
				continue;
			if (n == ALERT_PUSH_ALERTS_MAX) {
				more++;
				continue;
			}
			if (!slo_registry__alert_condition(bit, &severity, t->condition,
							   sizeof(t->condition)))
				break;
			slo_registry__window_label(t->window, sizeof(t->window), sc);
			what = describe(t->broken_by, sizeof(t->broken_by), bit, &st, sc);
			percent(t->budget, sizeof(t->budget), st.budget_remaining);
			snprintf(t->summary, sizeof(t->summary), "SLO %s of %s%s%s%s: %s", sc->name,
				 service, endpoint[0] ? " (" : "", endpoint, endpoint[0] ? ")" : "",
				 what);
			snprintf(t->description, sizeof(t->description),
				 "%s %s SLO, objective %.9g%% over %s: %s; budget remaining %s.",
				 slo_registry__is_default(reg, i) ? "Default" : "The", sli,
				 sc->objective * 100, t->window, what, t->budget);
			*it = (struct alert_push_item){
				.alertname = bit < SLO_DEFAULT_ALERT_RULES ? ALERT_NAME_SLO_BURN
									   : ALERT_NAME_SLO_POLICY,
				.slo = sc->name,
				.service = service,
				.endpoint = endpoint,
				.severity = severity,
				.condition = t->condition,
				.sli = sli,
				.window = t->window,
				.summary = t->summary,
				.description = t->description,
				.broken_by = t->broken_by,
				.budget_remaining = t->budget,
				.runbook_url = sc->runbook_url,
			};
			n++;
		}
	}
	alert_push__update(p, items, n, more, (double)now_s);
	free(items);
	free(tx);
	return 0;
}
