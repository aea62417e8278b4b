// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The registry's active SLO alerts as pushed alerts (see slo_alerts.h).
 * The texts say what the log line of the transition says, in words.
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
	char condition[64], summary[512], description[512], burn[32], budget[32];
};

static int burn_index(__u64 window_s)
{
	for (int w = 0; w < SLO_BURN_WINDOWS; w++)
		if (slo_burn_window_s[w] == window_s)
			return w;
	return SLO_BURN_1H;
}

/* How far the condition of bit is broken, in words. */
static void describe(char *buf, size_t len, unsigned int bit, const struct slo_status *st,
		     double objective)
{
	char tail[200];

	snprintf(tail, sizeof(tail), "; error budget remaining %.4g%%; SLI %.6g%% against an "
		 "objective of %.9g%%", st->budget_remaining * 100,
		 isnan(st->sli) ? 100.0 : st->sli * 100, objective * 100);
	if (bit < SLO_DEFAULT_ALERT_RULES) {
		const struct slo_alert_rule *r = &slo_default_alert_rules[bit];
		int l = burn_index(r->long_s), s = burn_index(r->short_s);

		snprintf(buf, len, "burn rate %.4gx over %s and %.4gx over %s (alert at %gx)%s",
			 st->burn_rate[l], slo_burn_window_names[l], st->burn_rate[s],
			 slo_burn_window_names[s], r->factor, tail);
		return;
	}
	switch (bit - SLO_DEFAULT_ALERT_RULES) {
	case 0:
		snprintf(buf, len, "error budget exhausted, or forecast to be before the period "
			 "ends (%.0f s left at the 1h burn rate)%s", st->exhaustion_s, tail);
		break;
	case 1:
		snprintf(buf, len, "%.4g%% of the period's error budget spent (threshold %d%%)%s",
			 (1 - st->budget_remaining) * 100, SLO_POLICY_PERIOD_PCT, tail);
		break;
	case 2:
		snprintf(buf, len, "%.4g%% of the error budget spent in 24 h (threshold %d%%)%s",
			 st->budget_consumed_24h * 100, SLO_POLICY_FAST_BURN_PCT, tail);
		break;
	default:
		snprintf(buf, len, "%.4g%% of the error budget spent in 7 d (threshold %d%%)%s",
			 st->budget_consumed_7d * 100, SLO_POLICY_SLOW_BURN_PCT, tail);
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
		struct slo_status st;

		if (!active)
			continue;
		slo__status(slo_registry__engine(reg, i), now_s, &st);
		for (unsigned int bit = 0; bit < 32; bit++) {
			struct alert_push_item *it = &items[n];
			struct texts *t = &tx[n];
			const char *severity;

			if (!(active & (1u << bit)))
				continue;
			if (n == ALERT_PUSH_ALERTS_MAX) {
				more++;
				continue;
			}
			if (!slo_registry__alert_condition(bit, &severity, t->condition,
							   sizeof(t->condition)))
				break;
			snprintf(t->summary, sizeof(t->summary), "SLO %s of %s (%s): %s",
				 sc->name, service, endpoint[0] ? endpoint : "all endpoints",
				 t->condition);
			describe(t->description, sizeof(t->description), bit, &st, sc->objective);
			snprintf(t->burn, sizeof(t->burn), "%.4g",
				 st.burn_rate[bit < SLO_DEFAULT_ALERT_RULES
					      ? burn_index(slo_default_alert_rules[bit].long_s)
					      : SLO_BURN_1H]);
			snprintf(t->budget, sizeof(t->budget), "%.4g", st.budget_remaining);
			*it = (struct alert_push_item){
				.alertname = bit < SLO_DEFAULT_ALERT_RULES ? ALERT_NAME_BURN_RATE
									   : ALERT_NAME_POLICY,
				.slo = sc->name,
				.service = service,
				.endpoint = endpoint,
				.severity = severity,
				.condition = t->condition,
				.summary = t->summary,
				.description = t->description,
				.burn_rate = t->burn,
				.budget_remaining = t->budget,
			};
			n++;
		}
	}
	alert_push__update(p, items, n, more, (double)now_s);
	free(items);
	free(tx);
	return 0;
}
