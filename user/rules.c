// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Prometheus rules for the fleet, written with libyaml's emitter so that
 * every expression and template is quoted as YAML needs. One rule group per
 * SLO, evaluated every minute: its windows, then its SLO-window figures,
 * then its alerts, in that order, as each reads the ones before.
 *
 * Every figure is an increase() of slotap_slo_events_total summed over the
 * agents by (slo, service, endpoint): the agents have already classified
 * each request as the SLO says (status, exact latency threshold, transport
 * failures), so the rules only add up, and increase() takes an agent's
 * restart (a counter reset) in its stride.
 */
#include <argp.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "alert_scheme.h"
#include "config.h"
#include "errbuf.h"
#include "log.h"
#include "metric_names.h"
#include "rules.h"
#include "slo.h"
#include "slo_registry.h"

#define RULES_LABEL_ID	"slo_id"	/* NAME, or default/NAME */
#define BY		"slo, service, endpoint"
#define ON		"on(" BY ")"
/* The group interval: timeslices judge minutes, calendar sums add up minutes. */
#define EVAL_S		60

/* Recording rule names: level:metric:operation, the window in the operation. */
#define REC_EVENTS	"slotap_slo:events:increase"		/* + window */
#define REC_BAD		"slotap_slo:bad_events:increase"	/* + window */
#define REC_BURN	"slotap_slo:burn_rate:ratio"		/* + window */
#define REC_MIN_BAD	"slotap_slo:bad_minute:bool1m"
#define REC_MIN_ACTIVE	"slotap_slo:active_minute:bool1m"
#define REC_PERIOD_EV	"slotap_slo:period_events:sum"
#define REC_PERIOD_BAD	"slotap_slo:period_bad_events:sum"
#define REC_NO_DATA	"slotap_slo:insufficient_data:bool"
#define REC_SLI		"slotap_slo:sli:ratio"
#define REC_OBJECTIVE	"slotap_slo:objective:ratio"
#define REC_REMAINING	"slotap_slo:error_budget_remaining:ratio"
#define REC_CONSUMED	"slotap_slo:error_budget_consumed:ratio"	/* + 24h, 7d */
#define REC_DEPLETION	"slotap_slo:error_budget_depletion:ratio_per_hour"
#define REC_EXHAUSTION	"slotap_slo:error_budget_exhaustion:seconds"

struct emit {
	yaml_emitter_t em;
	int err;
};

static void emit_event(struct emit *o, yaml_event_t *ev, int ok)
{
	if (o->err)
		return;
	if (!ok)
		o->err = -ENOMEM;
	else if (!yaml_emitter_emit(&o->em, ev))
		o->err = o->em.error == YAML_WRITER_ERROR ? -EIO : -ENOMEM;
}

static void emit_str(struct emit *o, const char *s)
{
	yaml_event_t ev;

	if (!s) {
		o->err = o->err ? o->err : -ENOMEM;
		return;
	}
	emit_event(o, &ev, yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s,
							 strlen(s), 1, 1, YAML_ANY_SCALAR_STYLE));
}

static void emit_map(struct emit *o, bool start)
{
	yaml_event_t ev;

	if (start)
		emit_event(o, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
									  YAML_BLOCK_MAPPING_STYLE));
	else
		emit_event(o, &ev, yaml_mapping_end_event_initialize(&ev));
}

static void emit_seq(struct emit *o, bool start)
{
	yaml_event_t ev;

	if (start)
		emit_event(o, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
									   YAML_BLOCK_SEQUENCE_STYLE));
	else
		emit_event(o, &ev, yaml_sequence_end_event_initialize(&ev));
}

static void emit_kv(struct emit *o, const char *k, const char *v)
{
	emit_str(o, k);
	emit_str(o, v);
}

/* A string made with printf; NULL when out of memory (emit_str() says so). */
__attribute__((format(printf, 1, 2)))
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, f);
	n = vasprintf(&s, f, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

/* Emits the key and an owned value, then frees it. */
static void emit_kv_own(struct emit *o, const char *k, char *v)
{
	emit_str(o, k);
	emit_str(o, v);
	free(v);
}

/* One SLO as the rules see it. */
struct rslo {
	const struct slo_config *sc;
	bool is_default;
	char sel[160];		/* the label matchers of its counters */
	char budget[32];	/* 1 - objective, as the engine rounds it */
	char window[16];	/* its window label: 28d, week, 4w, month */
	char wdur[16];		/* a rolling window as a PromQL duration */
	__u64 min_events;
};

static bool calendar(const struct rslo *r)
{
	return r->sc->window != SLO_WINDOW_ROLLING;
}

/* ---- calendar periods in PromQL ------------------------------------------ */

/*
 * PromQL has no calendar: the period's start and length come from the date
 * functions at time t (a scalar expression). A week starts on Monday 00:00
 * UTC (1969-12-29 was one: + 3 days keeps the remainders positive); a
 * month on the 1st; a 4w period on the Monday of ISO week 1, 5, ..., 49,
 * the 13th running to the end of the ISO year.
 */
static char *iso_weekday(const char *t)
{
	return fmt("((scalar(day_of_week(vector(%s))) + 6) %% 7 + 1)", t);
}

/* The ISO week of t, 1..53, as the 4w periods count it. */
static char *iso_week(const char *t)
{
	char *wd = iso_weekday(t), *doy, *raw, *ny, *w0, *s;

	doy = fmt("scalar(day_of_year(vector(%s)))", t);
	raw = fmt("scalar(floor(vector((%s - %s + 10) / 7)))", doy ? doy : "", wd ? wd : "");
	/* the last days of December in week 1 of the next ISO year */
	ny = fmt("((scalar(month(vector(%s))) == bool 12) * "
		 "(scalar(day_of_month(vector(%s))) - %s >= bool 28))", t, t, wd ? wd : "");
	/* week 0: the previous ISO year's last week (52 or 53), counted in that year */
	w0 = fmt("scalar(floor(vector((%s + 365 + ((scalar(year(vector(%s))) - 1) %% 4 == bool 0)"
		 " - ((scalar(year(vector(%s))) - 1) %% 100 == bool 0)"
		 " + ((scalar(year(vector(%s))) - 1) %% 400 == bool 0) - %s + 10) / 7)))",
		 doy ? doy : "", t, t, t, wd ? wd : "");
	s = fmt("(%s + (%s < bool 1) * (%s - %s) + %s * (1 - %s))", raw ? raw : "", raw ? raw : "",
		w0 ? w0 : "", raw ? raw : "", ny ? ny : "", raw ? raw : "");
	free(wd);
	free(doy);
	free(raw);
	free(ny);
	free(w0);
	return s;
}

/* Which period t is in: only compared, for the minute a period starts. */
static char *period_id(enum slo_window_kind kind, const char *t)
{
	char *w, *s;

	switch (kind) {
	case SLO_WINDOW_CALENDAR_WEEK:
		return fmt("scalar(floor(vector((%s + 259200) / 604800)))", t);
	case SLO_WINDOW_CALENDAR_MONTH:
		return fmt("(scalar(year(vector(%s))) * 12 + scalar(month(vector(%s))))", t, t);
	default:
		w = iso_week(t);
		s = fmt("scalar(clamp_max(floor(vector((%s - 1) / 4)), 12))", w ? w : "");
		free(w);
		return s;
	}
}

/* Seconds since the period holding time() started. */
static char *period_elapsed(enum slo_window_kind kind)
{
	char *w, *wd, *s;

	switch (kind) {
	case SLO_WINDOW_CALENDAR_WEEK:
		return fmt("((time() + 259200) %% 604800)");
	case SLO_WINDOW_CALENDAR_MONTH:
		return fmt("((scalar(day_of_month()) - 1) * 86400 + time() %% 86400)");
	default:
		w = iso_week("time()");
		wd = iso_weekday("time()");
		s = fmt("(((%s - 1 - 4 * scalar(clamp_max(floor(vector((%s - 1) / 4)), 12))) * 7 "
			"+ %s - 1) * 86400 + time() %% 86400)", w ? w : "", w ? w : "", wd ? wd : "");
		free(w);
		free(wd);
		return s;
	}
}

/*
 * The period's length. The 13th 4w period of a 53-week ISO year has 35
 * days; PromQL cannot tell that year apart until week 53 itself, so until
 * then it is taken as 28 (docs/rules.md).
 */
static char *period_length(enum slo_window_kind kind)
{
	char *e, *s;

	switch (kind) {
	case SLO_WINDOW_CALENDAR_WEEK:
		return fmt("604800");
	case SLO_WINDOW_CALENDAR_MONTH:
		return fmt("(scalar(days_in_month()) * 86400)");
	default:
		e = period_elapsed(kind);
		s = fmt("((28 + 7 * (%s >= bool 2419200)) * 86400)", e ? e : "");
		free(e);
		return s;
	}
}

/* ---- rules ----------------------------------------------------------------- */

/*
 * Each record carries slo_id, the SLO's group: rules of one name in many
 * groups are told apart by it (promtool's duplicate check wants them to be).
 */
static const char *rule_id;

static void record(struct emit *o, const char *name, char *expr)
{
	emit_map(o, true);
	emit_kv(o, "record", name);
	emit_kv_own(o, "expr", expr);
	emit_str(o, "labels");
	emit_map(o, true);
	emit_kv(o, RULES_LABEL_ID, rule_id);
	emit_map(o, false);
	emit_map(o, false);
}

/* The windows a rolling SLO needs sums over: burn rates, policies, itself. */
static size_t windows_of(const struct rslo *r, __u64 *w)
{
	size_t n = 0;

	for (int i = 0; i < SLO_BURN_WINDOWS; i++)
		w[n++] = slo_burn_window_s[i];
	w[n++] = SLO_POLICY_SLOW_BURN_S;
	if (!calendar(r))
		w[n++] = r->sc->window_s;
	/* distinct, in order */
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (w[j] == w[i])
				w[j--] = w[--n];
	return n;
}

static void record_windows(struct emit *o, const struct rslo *r)
{
	__u64 w[SLO_BURN_WINDOWS + 2];
	size_t n = windows_of(r, w);
	char d[16], name[64];

	if (r->sc->timeslices) {
		/* a minute is bad when its good/total < objective; no requests: good */
		record(o, REC_MIN_BAD,
		       fmt("(sum by (" BY ") (increase(" METRIC_SLO_EVENTS "{%s,result=\"bad\"}[1m])) / "
			   "sum by (" BY ") (increase(" METRIC_SLO_EVENTS "{%s}[1m]))) > bool %s",
			   r->sel, r->sel, r->budget));
		record(o, REC_MIN_ACTIVE,
		       fmt("sum by (" BY ") (increase(" METRIC_SLO_EVENTS "{%s}[1m])) > bool 0",
			   r->sel));
	}
	for (size_t i = 0; i < n; i++) {
		slo_registry__duration_label(d, sizeof(d), w[i]);
		snprintf(name, sizeof(name), REC_EVENTS "%s", d);
		if (r->sc->timeslices)
			record(o, name, fmt("sum_over_time(" REC_MIN_ACTIVE "{%s}[%s])", r->sel, d));
		else
			record(o, name, fmt("sum by (" BY ") (increase(" METRIC_SLO_EVENTS "{%s}[%s]))",
					    r->sel, d));
		snprintf(name, sizeof(name), REC_BAD "%s", d);
		if (r->sc->timeslices)
			record(o, name, fmt("sum_over_time(" REC_MIN_BAD "{%s}[%s])", r->sel, d));
		else
			record(o, name, fmt("sum by (" BY ") (increase(" METRIC_SLO_EVENTS
					    "{%s,result=\"bad\"}[%s]))", r->sel, d));
		snprintf(name, sizeof(name), REC_BURN "%s", d);
		if (r->sc->timeslices)
			record(o, name, fmt(REC_BAD "%s{%s} / %llu / %s", d, r->sel,
					    (unsigned long long)(w[i] / 60), r->budget));
		else
			record(o, name, fmt(REC_BAD "%s{%s} / " REC_EVENTS "%s{%s} / %s", d, r->sel, d,
					    r->sel, r->budget));
	}
	if (!calendar(r))
		return;
	if (!r->sc->timeslices) {
		record(o, REC_EVENTS "1m",
		       fmt("sum by (" BY ") (increase(" METRIC_SLO_EVENTS "{%s}[1m]))", r->sel));
		record(o, REC_BAD "1m",
		       fmt("sum by (" BY ") (increase(" METRIC_SLO_EVENTS "{%s,result=\"bad\"}[1m]))",
			   r->sel));
	}
	/*
	 * The period's sums add each minute's to their own value of a minute
	 * ago, and start again with the minute that begins a period.
	 */
	{
		char *now = period_id(r->sc->window, "time()");
		char *before = period_id(r->sc->window, "time() - 60");
		char *same = fmt("on() (vector(%s) == vector(%s))", now ? now : "",
				 before ? before : "");
		const char *inc_ev = r->sc->timeslices ? REC_MIN_ACTIVE : REC_EVENTS "1m";
		const char *inc_bad = r->sc->timeslices ? REC_MIN_BAD : REC_BAD "1m";

		record(o, REC_PERIOD_EV,
		       fmt("((" REC_PERIOD_EV "{%s} + %s{%s}) and %s) or (" REC_PERIOD_EV
			   "{%s} and %s) or %s{%s}", r->sel, inc_ev, r->sel, same ? same : "",
			   r->sel, same ? same : "", inc_ev, r->sel));
		record(o, REC_PERIOD_BAD,
		       fmt("((" REC_PERIOD_BAD "{%s} + %s{%s}) and %s) or (" REC_PERIOD_BAD
			   "{%s} and %s) or %s{%s}", r->sel, inc_bad, r->sel, same ? same : "",
			   r->sel, same ? same : "", inc_bad, r->sel));
		free(now);
		free(before);
		free(same);
	}
}

/*
 * The SLO window's figures, from these pieces: bad events (or minutes) in
 * it, events (minutes with events) in it, the budget's denominator (events,
 * or every minute of the window or period), and its length in seconds.
 */
struct win {
	char *bad, *events, *denom, *sli_total, *length;
	bool denom_scalar;	/* the denominator has no labels */
};

static void win_free(struct win *w)
{
	free(w->bad);
	free(w->events);
	free(w->denom);
	free(w->sli_total);
	free(w->length);
}

static void win_of(const struct rslo *r, struct win *w)
{
	memset(w, 0, sizeof(*w));
	if (calendar(r)) {
		char *len = period_length(r->sc->window), *el = period_elapsed(r->sc->window);

		w->bad = fmt(REC_PERIOD_BAD "{%s}", r->sel);
		w->events = fmt(REC_PERIOD_EV "{%s}", r->sel);
		w->length = len;
		if (r->sc->timeslices) {
			w->denom = fmt("(%s / 60)", len ? len : "");
			w->sli_total = fmt("clamp_min(floor(vector(%s / 60)), 1)", el ? el : "");
			w->denom_scalar = true;
		} else {
			w->denom = fmt(REC_PERIOD_EV "{%s}", r->sel);
			w->sli_total = fmt(REC_PERIOD_EV "{%s}", r->sel);
		}
		free(el);
		return;
	}
	w->bad = fmt(REC_BAD "%s{%s}", r->wdur, r->sel);
	w->events = fmt(REC_EVENTS "%s{%s}", r->wdur, r->sel);
	w->length = fmt("%llu", (unsigned long long)r->sc->window_s);
	if (r->sc->timeslices) {
		w->denom = fmt("%llu", (unsigned long long)(r->sc->window_s / 60));
		w->sli_total = fmt("%llu", (unsigned long long)(r->sc->window_s / 60));
		w->denom_scalar = true;
	} else {
		w->denom = fmt(REC_EVENTS "%s{%s}", r->wdur, r->sel);
		w->sli_total = fmt(REC_EVENTS "%s{%s}", r->wdur, r->sel);
	}
}

/* Bad events of the last span seconds that fall inside the SLO window. */
static char *recent_bad(const struct rslo *r, const struct win *w, __u64 span)
{
	char d[16];

	if (!calendar(r) && r->sc->window_s <= span)
		return fmt("%s", w->bad);
	slo_registry__duration_label(d, sizeof(d), span);
	if (!calendar(r))
		return fmt(REC_BAD "%s{%s}", d, r->sel);
	/* a period boundary clears them: the smaller of the two */
	return fmt("((" REC_BAD "%s{%s} <= %s) or %s)", d, r->sel, w->bad, w->bad);
}

/* "x / (denom * budget)": a fraction of the window's budget. */
static char *of_budget(const struct rslo *r, const struct win *w, const char *x)
{
	return fmt("%s / %s(%s * %s)", x, w->denom_scalar ? "" : ON " ", w->denom, r->budget);
}

static void record_window(struct emit *o, const struct rslo *r, const struct win *w)
{
	char *b24 = recent_bad(r, w, SLO_POLICY_FAST_BURN_S);
	char *b7 = recent_bad(r, w, SLO_POLICY_SLOW_BURN_S);
	char *spent, *x;

	record(o, REC_NO_DATA, fmt("%s < bool %llu", w->events,
				   (unsigned long long)r->min_events));
	record(o, REC_OBJECTIVE, fmt("%s * 0 + %.9g", w->events, r->sc->objective));
	record(o, REC_SLI, fmt("1 - %s / %s%s", w->bad,
			       calendar(r) && r->sc->timeslices ? "on() group_left " : "",
			       w->sli_total));
	/* below min_events the budget is not known: no sample rather than a guess */
	spent = of_budget(r, w, w->bad);
	record(o, REC_REMAINING, fmt("(1 - %s) unless " ON " (" REC_NO_DATA "{%s} == 1)",
				     spent ? spent : "", r->sel));
	free(spent);
	x = of_budget(r, w, b24);
	record(o, REC_CONSUMED "24h", fmt("(%s) unless " ON " (" REC_NO_DATA "{%s} == 1)",
					  x ? x : "", r->sel));
	free(x);
	x = of_budget(r, w, b7);
	record(o, REC_CONSUMED "7d", fmt("(%s) unless " ON " (" REC_NO_DATA "{%s} == 1)",
					 x ? x : "", r->sel));
	free(x);
	record(o, REC_DEPLETION, fmt(REC_BURN "1h{%s} * 3600 / %s", r->sel, w->length));
	/* spent: 0; not burning: +Inf, as the agent says */
	record(o, REC_EXHAUSTION, fmt("clamp_min(" REC_REMAINING "{%s}, 0) * %s / " ON " "
				      REC_BURN "1h{%s}", r->sel, w->length, r->sel));
	free(b24);
	free(b7);
}

/* The labels every alert of r carries, beside slo, service and endpoint. */
static void alert_labels(struct emit *o, const struct rslo *r, const char *severity,
			 const char *condition)
{
	emit_str(o, "labels");
	emit_map(o, true);
	emit_kv(o, ALERT_LABEL_SEVERITY, severity);
	emit_kv(o, ALERT_LABEL_CONDITION, condition);
	emit_kv(o, ALERT_LABEL_SLI, r->sc->sli == SLO_SLI_LATENCY ? "latency" : "availability");
	emit_kv(o, ALERT_LABEL_WINDOW, r->window);
	emit_kv(o, RULES_LABEL_ID, rule_id);
	emit_map(o, false);
}

/* {{ query of one record of this alert's SLO }}, or else_text with no sample */
static char *query_of(const char *record, const char *filter, const char *else_text)
{
	return fmt("{{ with printf \"%s{slo=%%q,service=%%q,endpoint=%%q}\" $labels.slo "
		   "$labels.service $labels.endpoint | query }}{{ . | first | value | %s }}"
		   "{{ else }}%s{{ end }}", record, filter, else_text);
}

static void alert_annotations(struct emit *o, const struct rslo *r, const char *what,
			      char *broken_by)
{
	char *budget = query_of(REC_REMAINING, "humanizePercentage",
				"unknown (fewer than min_events events)");

	emit_str(o, "annotations");
	emit_map(o, true);
	emit_kv_own(o, ALERT_ANN_SUMMARY,
		    fmt("SLO {{ $labels.slo }} of {{ $labels.service }}{{ if $labels.endpoint }} "
			"({{ $labels.endpoint }}){{ end }}: %s", what));
	emit_kv_own(o, ALERT_ANN_DESCRIPTION,
		    fmt("%s %s SLO, objective %.9g%% over %s: %s; budget remaining %s.",
			r->is_default ? "Default" : "The",
			r->sc->sli == SLO_SLI_LATENCY ? "latency" : "availability",
			r->sc->objective * 100, r->window, what, budget ? budget : ""));
	emit_kv_own(o, ALERT_ANN_BROKEN_BY, broken_by);
	emit_kv_own(o, ALERT_ANN_BUDGET, budget);
	if (r->sc->runbook_url)
		emit_kv(o, ALERT_ANN_RUNBOOK, r->sc->runbook_url);
	emit_map(o, false);
}

static void alert_burn(struct emit *o, const struct rslo *r, const struct slo_alert_rule *rule)
{
	char l[16], s[16], cond[64], fb[32];
	__u64 min = r->min_events ? r->min_events : 1;
	char *long_ok, *short_ok, *shortq;

	slo_registry__duration_label(l, sizeof(l), rule->long_s);
	slo_registry__duration_label(s, sizeof(s), rule->short_s);
	slo_registry__rule_condition(cond, sizeof(cond), rule);
	/* bad >= events x factor x budget, as the engine compares counts */
	snprintf(fb, sizeof(fb), "%.9g", rule->factor * strtod(r->budget, NULL));
	if (r->sc->timeslices) {
		long_ok = fmt("(" REC_BAD "%s{%s} >= %llu * %s)", l, r->sel,
			      (unsigned long long)(rule->long_s / 60), fb);
		short_ok = fmt("(" REC_BAD "%s{%s} >= %llu * %s)", s, r->sel,
			       (unsigned long long)(rule->short_s / 60), fb);
	} else {
		long_ok = fmt("(" REC_BAD "%s{%s} >= " ON " " REC_EVENTS "%s{%s} * %s)", l, r->sel,
			      l, r->sel, fb);
		short_ok = fmt("(" REC_BAD "%s{%s} >= " ON " " REC_EVENTS "%s{%s} * %s) and " ON
			       " (" REC_EVENTS "%s{%s} > 0)", s, r->sel, s, r->sel, fb, s, r->sel);
	}
	emit_map(o, true);
	emit_kv(o, "alert", ALERT_NAME_SLO_BURN);
	emit_kv_own(o, "expr",
		    fmt(REC_BURN "%s{%s} and " ON " %s and " ON " %s and " ON " (" REC_EVENTS
			"%s{%s} >= %llu)", l, r->sel, long_ok ? long_ok : "",
			short_ok ? short_ok : "", l, r->sel, (unsigned long long)min));
	alert_labels(o, r, rule->severity, cond);
	snprintf(cond, sizeof(cond), REC_BURN "%s", s);
	shortq = query_of(cond, "printf \"%.2f\"", "?");
	alert_annotations(o, r, rule->condition,
			  fmt("burn rate %s {{ printf \"%%.2f\" $value }}x, %s %sx (>= %gx)", l, s,
			      shortq ? shortq : "", rule->factor));
	emit_map(o, false);
	free(long_ok);
	free(short_ok);
	free(shortq);
}

static void alert_policies(struct emit *o, const struct rslo *r, const struct win *w)
{
	const char *severity, *condition;
	unsigned int bit;

	for (size_t p = 0; !slo_registry__policy(p, &bit, &severity, &condition); p++) {
		char *expr = NULL, *broken = NULL, *el;
		const char *what = "";

		switch (bit) {
		case SLO_POLICY_EXHAUSTION:
			if (!calendar(r)) {
				what = "error budget exhausted";
				expr = fmt(REC_REMAINING "{%s} <= 0", r->sel);
			} else {
				/* or forecast to be, at the 1h burn rate, before the period ends */
				what = "error budget exhausted, or forecast to be before the period ends";
				el = period_elapsed(r->sc->window);
				expr = fmt(REC_REMAINING "{%s} <= 0 or (" REC_REMAINING "{%s} and " ON
					   " (" REC_EXHAUSTION "{%s} < %s - %s))", r->sel, r->sel, r->sel,
					   w->length, el ? el : "");
				free(el);
			}
			broken = fmt("budget remaining {{ $value | humanizePercentage }}");
			break;
		case SLO_POLICY_PERIOD_BUDGET:
			what = "70% of the window's error budget spent";
			expr = fmt(REC_REMAINING "{%s} <= %g", r->sel, 1 - SLO_POLICY_PERIOD_PCT / 100.0);
			broken = fmt("budget remaining {{ $value | humanizePercentage }} (<= 30%%)");
			break;
		case SLO_POLICY_FAST_BURN:
			what = "30% of the error budget spent in 24h";
			expr = fmt(REC_CONSUMED "24h{%s} >= %g", r->sel, SLO_POLICY_FAST_BURN_PCT / 100.0);
			broken = fmt("{{ $value | humanizePercentage }} of the budget spent in 24h (>= 30%%)");
			break;
		case SLO_POLICY_SLOW_BURN:
			what = "50% of the error budget spent in 7d";
			expr = fmt(REC_CONSUMED "7d{%s} >= %g", r->sel, SLO_POLICY_SLOW_BURN_PCT / 100.0);
			broken = fmt("{{ $value | humanizePercentage }} of the budget spent in 7d (>= 50%%)");
			break;
		}
		emit_map(o, true);
		emit_kv(o, "alert", ALERT_NAME_SLO_POLICY);
		emit_kv_own(o, "expr", expr);
		alert_labels(o, r, severity, condition);
		alert_annotations(o, r, what, broken);
		emit_map(o, false);
	}
}

static void rslo_of(struct rslo *r, const struct slo_config *sc, bool is_default)
{
	__u64 obj_ppb = (__u64)(sc->objective * (double)SLO_PPB + 0.5);

	memset(r, 0, sizeof(*r));
	r->sc = sc;
	r->is_default = is_default;
	r->min_events = sc->min_events;
	/* names are [A-Za-z0-9_.-]: nothing to escape */
	if (is_default)
		snprintf(r->sel, sizeof(r->sel), "slo=\"%s\"", sc->name);
	else
		snprintf(r->sel, sizeof(r->sel), "slo=\"%s\",service=\"%s\"", sc->name,
			 sc->service);
	snprintf(r->budget, sizeof(r->budget), "%.9g",
		 (double)(SLO_PPB - obj_ppb) / (double)SLO_PPB);
	slo_registry__window_label(r->window, sizeof(r->window), sc);
	slo_registry__duration_label(r->wdur, sizeof(r->wdur), sc->window_s);
}

static void group(struct emit *o, const struct slo_config *sc, bool is_default)
{
	struct rslo r;
	struct win w;
	char id[80];

	rslo_of(&r, sc, is_default);
	win_of(&r, &w);
	snprintf(id, sizeof(id), "%s%s", is_default ? "default/" : "", sc->name);
	rule_id = id;
	emit_map(o, true);
	emit_kv_own(o, "name", fmt("slotap-%s%s", is_default ? "default-slo-" : "slo-", sc->name));
	emit_kv_own(o, "interval", fmt("%ds", EVAL_S));
	emit_str(o, "rules");
	emit_seq(o, true);
	record_windows(o, &r);
	record_window(o, &r, &w);
	for (int i = 0; i < SLO_DEFAULT_ALERT_RULES; i++)
		alert_burn(o, &r, &slo_default_alert_rules[i]);
	alert_policies(o, &r, &w);
	emit_seq(o, false);
	emit_map(o, false);
	win_free(&w);
}

int rules__write(const struct slotap_config *cfg, FILE *out, char *err, size_t errlen)
{
	struct emit o = { .err = 0 };
	yaml_event_t ev;

	errbuf__set(err, errlen, "%s", "");
	/* a default SLO's copies are told apart by name alone in the rules */
	for (size_t d = 0; d < cfg->n_default_slos; d++)
		for (size_t i = 0; i < cfg->n_slos; i++)
			if (!strcmp(cfg->default_slos[d].name, cfg->slos[i].name)) {
				errbuf__set(err, errlen,
					    "%s: default SLO %s has the name of an SLO: its rules "
					    "would count both; rename one", cfg->source,
					    cfg->slos[i].name);
				return -EINVAL;
			}
	if (!yaml_emitter_initialize(&o.em))
		return -ENOMEM;
	yaml_emitter_set_output_file(&o.em, out);
	yaml_emitter_set_unicode(&o.em, 1);
	yaml_emitter_set_width(&o.em, -1);
	emit_event(&o, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	emit_event(&o, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	emit_map(&o, true);
	emit_str(&o, "groups");
	emit_seq(&o, true);
	for (size_t i = 0; i < cfg->n_slos; i++)
		group(&o, &cfg->slos[i], false);
	for (size_t i = 0; i < cfg->n_default_slos; i++)
		group(&o, &cfg->default_slos[i], true);
	emit_seq(&o, false);
	emit_map(&o, false);
	emit_event(&o, &ev, yaml_document_end_event_initialize(&ev, 1));
	emit_event(&o, &ev, yaml_stream_end_event_initialize(&ev));
	if (!o.err && !yaml_emitter_flush(&o.em))
		o.err = -EIO;
	yaml_emitter_delete(&o.em);
	if (!o.err && (fflush(out) || ferror(out)))
		o.err = -EIO;
	return o.err;
}

/* ---- the command -------------------------------------------------------- */

static const char rules_doc[] =
"slotap rules -- the Prometheus recording and alerting rules of the SLOs of a\n"
"configuration (OpenSLO documents and default SLOs included), computed from\n"
"the slotap_slo_events_total counters of every agent: burn rates, SLI and\n"
"error budget over the SLO window, the multiwindow burn-rate alerts and the\n"
"budget policy conditions the agent evaluates, with its min_events.\n"
"\n"
"USAGE: slotap rules [--config FILE] [--output FILE]\n"
"\n"
"EXAMPLE:\n"
"  slotap rules -c /etc/slotap.yaml -o /etc/prometheus/rules/slotap.yml\n"
"  promtool check rules /etc/prometheus/rules/slotap.yml\n"
"\n"
"Exit status: 0, 1 when the output cannot be written, 2 on a bad config or usage.";

static const struct argp_option rules_options[] = {
	{ "config", 'c', "FILE", 0, "YAML configuration (default: the built-in one)", 0 },
	{ "output", 'o', "FILE", 0, "Where the rules go (default: standard output)", 0 },
	{},
};

struct rules_env {
	const char *config, *output;
};

static error_t rules_parse(int key, char *arg, struct argp_state *state)
{
	struct rules_env *e = state->input;

	switch (key) {
	case 'c':
		e->config = arg;
		break;
	case 'o':
		e->output = arg;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument %s", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int rules__main(int argc, char **argv)
{
	static const struct argp argp = { rules_options, rules_parse, NULL, rules_doc,
					  NULL, NULL, NULL };
	struct rules_env e = { NULL, NULL };
	struct slotap_config cfg;
	char errbuf[512];
	FILE *out = stdout;
	int err;

	argp_err_exit_status = 2;
	if (argp_parse(&argp, argc, argv, 0, NULL, &e))
		return 2;
	err = e.config ? config__load_file(&cfg, e.config, errbuf, sizeof(errbuf))
		       : config__load_string(&cfg, config__default_yaml,
					     strlen(config__default_yaml), CONFIG_DEFAULT_SOURCE,
					     errbuf, sizeof(errbuf));
	if (err) {
		log__error("%s", errbuf);
		return 2;
	}
	if (e.output) {
		out = fopen(e.output, "we");
		if (!out) {
			log__error("%s: %s", e.output, strerror(errno));
			config__free(&cfg);
			return 1;
		}
	}
	err = rules__write(&cfg, out, errbuf, sizeof(errbuf));
	if (e.output && fclose(out) && !err)
		err = -EIO;
	if (err == -EINVAL)
		log__error("%s", errbuf);
	else if (err)
		log__error("%s: %s", e.output ? e.output : "standard output", strerror(-err));
	config__free(&cfg);
	return err == -EINVAL ? 2 : err ? 1 : 0;
}
