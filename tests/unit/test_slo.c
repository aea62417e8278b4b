// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "slo.h"

#define MIN_S	60ULL
#define HOUR_S	3600ULL
#define DAY_S	86400ULL
#define WEEK_S	(7 * DAY_S)

/* Monday 2024-01-01T00:00:00Z: the first day of ISO year 2024 and of a month */
#define T_2024	1704067200ULL

static struct slo *mk(double objective, enum slo_window_kind kind, __u64 window_s,
		      bool timeslices, double target, __u64 now)
{
	struct slo_spec spec = {
		.objective = objective,
		.window = kind,
		.window_s = window_s,
		.timeslices = timeslices,
		.timeslice_target = target,
	};
	struct slo *s = slo__new(&spec, now);

	assert_non_null(s);
	return s;
}

static struct slo *rolling(double objective, __u64 window_s, __u64 now)
{
	return mk(objective, SLO_WINDOW_ROLLING, window_s, false, 0, now);
}

static struct slo_status st(const struct slo *s, __u64 now)
{
	struct slo_status out;

	slo__status(s, now, &out);
	return out;
}

static void test_constants(void **state)
{
	const __u64 want[] = { 300, 1800, 3600, 7200, 21600, 86400, 259200 };
	unsigned int i;

	(void)state;
	assert_int_equal(SLO_BURN_WINDOWS, 7);
	for (i = 0; i < SLO_BURN_WINDOWS; i++)
		assert_int_equal(slo_burn_window_s[i], want[i]);
	assert_string_equal(slo_default_alert_rules[0].severity, "page");
	assert_int_equal(slo_default_alert_rules[0].long_s, HOUR_S);
	assert_int_equal(slo_default_alert_rules[0].short_s, 5 * MIN_S);
	assert_true(slo_default_alert_rules[0].factor == 14.4);
	assert_string_equal(slo_default_alert_rules[1].severity, "page");
	assert_int_equal(slo_default_alert_rules[1].long_s, 6 * HOUR_S);
	assert_int_equal(slo_default_alert_rules[1].short_s, 30 * MIN_S);
	assert_true(slo_default_alert_rules[1].factor == 6);
	assert_string_equal(slo_default_alert_rules[2].severity, "ticket");
	assert_int_equal(slo_default_alert_rules[2].long_s, DAY_S);
	assert_int_equal(slo_default_alert_rules[2].short_s, 2 * HOUR_S);
	assert_true(slo_default_alert_rules[2].factor == 3);
	assert_string_equal(slo_default_alert_rules[3].severity, "ticket");
	assert_int_equal(slo_default_alert_rules[3].long_s, 3 * DAY_S);
	assert_int_equal(slo_default_alert_rules[3].short_s, 6 * HOUR_S);
	assert_true(slo_default_alert_rules[3].factor == 1);
	assert_int_equal(slo_book_alert_rule.long_s, HOUR_S);
	assert_int_equal(slo_book_alert_rule.short_s, 0);
	assert_true(slo_book_alert_rule.factor == 2);
	assert_int_equal(SLO_POLICY_FAST_BURN_PCT, 30);
	assert_int_equal(SLO_POLICY_FAST_BURN_S, DAY_S);
	assert_int_equal(SLO_POLICY_SLOW_BURN_PCT, 50);
	assert_int_equal(SLO_POLICY_SLOW_BURN_S, WEEK_S);
	assert_int_equal(SLO_POLICY_PERIOD_PCT, 70);
}

static void expect_invalid(double objective, enum slo_window_kind kind, __u64 window_s,
			   bool timeslices, double target, __u64 now)
{
	struct slo_spec spec = {
		.objective = objective,
		.window = kind,
		.window_s = window_s,
		.timeslices = timeslices,
		.timeslice_target = target,
	};

	errno = 0;
	assert_null(slo__new(&spec, now));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(slo__mem_size(&spec), 0);
}

static void test_spec_validation(void **state)
{
	const __u64 t = T_2024;
	struct slo *s;

	(void)state;
	expect_invalid(0, SLO_WINDOW_ROLLING, 28 * DAY_S, false, 0, t);
	expect_invalid(1, SLO_WINDOW_ROLLING, 28 * DAY_S, false, 0, t);
	expect_invalid(-0.5, SLO_WINDOW_ROLLING, 28 * DAY_S, false, 0, t);
	expect_invalid(NAN, SLO_WINDOW_ROLLING, 28 * DAY_S, false, 0, t);
	/* rounds to 1 at the ppb precision: no budget at all */
	expect_invalid(0.9999999999, SLO_WINDOW_ROLLING, 28 * DAY_S, false, 0, t);
	expect_invalid(0.99, SLO_WINDOW_ROLLING, 0, false, 0, t);
	expect_invalid(0.99, SLO_WINDOW_ROLLING, 59, false, 0, t);
	expect_invalid(0.99, SLO_WINDOW_ROLLING, 31 * DAY_S + HOUR_S, false, 0, t);
	/* not a whole number of the covering level's buckets */
	expect_invalid(0.99, SLO_WINDOW_ROLLING, 28 * DAY_S + 1, false, 0, t);
	expect_invalid(0.99, SLO_WINDOW_ROLLING, 2 * HOUR_S + 30, false, 0, t);
	expect_invalid(0.99, SLO_WINDOW_ROLLING, 12 * HOUR_S + 60, false, 0, t);
	expect_invalid(0.99, SLO_WINDOW_ROLLING, 25 * MIN_S + 5, false, 0, t);
	/* minutes cannot be judged over 10 s buckets */
	expect_invalid(0.99, SLO_WINDOW_ROLLING, 25 * MIN_S + 30, true, 0, t);
	expect_invalid(0.99, (enum slo_window_kind)99, 0, false, 0, t);
	expect_invalid(0.99, SLO_WINDOW_CALENDAR_WEEK, 0, true, 1.5, t);
	expect_invalid(0.99, SLO_WINDOW_CALENDAR_WEEK, 0, true, -0.1, t);
	expect_invalid(0.99, SLO_WINDOW_CALENDAR_WEEK, 0, true, NAN, t);

	/* an unset clock */
	errno = 0;
	assert_null(slo__new(&(struct slo_spec){ .objective = 0.99,
						 .window = SLO_WINDOW_CALENDAR_WEEK }, 1000));
	assert_int_equal(errno, EINVAL);
	assert_null(slo__new(NULL, t));

	/* the edges that are valid */
	slo__free(rolling(0.99, MIN_S, t));
	slo__free(rolling(0.99, 25 * MIN_S + 10, t));
	slo__free(rolling(0.99, 12 * HOUR_S + 600, t));
	slo__free(rolling(0.99, 31 * DAY_S, t));
	slo__free(mk(0.99, SLO_WINDOW_ROLLING, MIN_S, true, 0, t));
	slo__free(mk(0.99, SLO_WINDOW_CALENDAR_MONTH, 12345, true, 1, t));
	s = mk(0.000000001, SLO_WINDOW_CALENDAR_4W, 0, false, 0, SLO_TIME_MAX_S);
	slo__free(s);
	slo__free(NULL);
}

/* §3.3.1: "98% ... over four calendar weeks" is a budget of 2% of the requests */
static void test_book_98_percent_over_4_weeks(void **state)
{
	struct slo *s = mk(0.98, SLO_WINDOW_CALENDAR_4W, 0, false, 0, T_2024);
	struct slo_status o;

	(void)state;
	o = st(s, T_2024);
	assert_true(o.error_budget == 0.02);
	assert_int_equal(o.window_start_s, T_2024);
	assert_int_equal(o.window_end_s, T_2024 + 28 * DAY_S);
	assert_true(isnan(o.sli));
	assert_true(o.budget_remaining == 1);
	assert_true(isinf(o.exhaustion_s));

	/* 2% of 10,000 requests is 200: 199 bad leaves a little */
	slo__record(s, T_2024 + 3 * DAY_S, 9801, 10000);
	o = st(s, T_2024 + 3 * DAY_S);
	assert_true(o.sli == 0.9801);
	assert_true(o.budget_remaining > 0);
	/* (at that hour's rate it would be gone in 3.4 h: ask once the hour is over) */
	assert_false(slo__policy(s, T_2024 + 3 * DAY_S + 2 * HOUR_S) & SLO_POLICY_EXHAUSTION);
	/* 1000 bad of 50,000 is all of it */
	slo__record(s, T_2024 + 10 * DAY_S, 39199, 40000);
	o = st(s, T_2024 + 10 * DAY_S);
	assert_int_equal(o.window_total, 50000);
	assert_int_equal(o.window_good, 49000);
	assert_true(o.budget_remaining == 0);
	assert_true(o.exhaustion_s == 0);
	assert_true(slo__policy(s, T_2024 + 10 * DAY_S) & SLO_POLICY_EXHAUSTION);
	assert_true(slo__policy(s, T_2024 + 10 * DAY_S) & SLO_POLICY_PERIOD_BUDGET);
	assert_int_equal(o.good_total, 49000);
	assert_int_equal(o.events_total, 50000);
	slo__free(s);
}

/*
 * Table 9.10: 99.7%, alert when the error budget depletion in 60 minutes is
 * over 200% of the hourly budget: 0.3% x 2 = 0.6% errors in the last hour.
 */
static void test_book_alert_997_two_x_hourly(void **state)
{
	const __u64 t0 = T_2024 + 5 * HOUR_S;
	const __u64 now = t0 + HOUR_S - 1;
	struct slo *hot = rolling(0.997, 28 * DAY_S, T_2024);
	struct slo *cool = rolling(0.997, 28 * DAY_S, T_2024);
	__u64 i;

	(void)state;
	/* a bad hour before the one that counts does not matter */
	slo__record(hot, t0 - 1800, 0, 100);
	slo__record(cool, t0 - 1800, 0, 100);
	/* 1000 requests in the hour: 6 bad (0.6%) against 5 bad (0.5%) */
	for (i = 0; i < 10; i++) {
		slo__record(hot, t0 + i * 6 * MIN_S + 30, i < 6 ? 99 : 100, 100);
		slo__record(cool, t0 + i * 6 * MIN_S + 30, i < 5 ? 99 : 100, 100);
	}
	assert_true(st(hot, now).burn_rate[SLO_BURN_1H] == 2.0);
	assert_true(slo__burn_alert(hot, now, &slo_book_alert_rule));
	assert_true(st(cool, now).burn_rate[SLO_BURN_1H] < 2.0);
	assert_false(slo__burn_alert(cool, now, &slo_book_alert_rule));
	/* a minute later the first request of the hour has left the window */
	assert_false(slo__burn_alert(hot, now + MIN_S, &slo_book_alert_rule));
	slo__free(hot);
	slo__free(cool);
}

/* 600 requests a minute, one record per 10 s, from..to with bad per 100 */
static void steady(struct slo *s, __u64 from, __u64 to, __u64 bad_per_100)
{
	__u64 t;

	for (t = from; t < to; t += 10)
		slo__record(s, t, 100 - bad_per_100, 100);
}

/* SRE Workbook: 14.4x over 1h AND 5m both required */
static void test_workbook_multiwindow(void **state)
{
	const struct slo_alert_rule *page = &slo_default_alert_rules[0];
	const __u64 t = T_2024 + 2 * DAY_S;
	struct slo *spike = rolling(0.999, 30 * DAY_S, T_2024);
	struct slo *burn = rolling(0.999, 30 * DAY_S, T_2024);
	struct slo_status o;

	(void)state;
	/* a 5-minute spike of 10% errors after good traffic */
	steady(spike, t, t + 2 * HOUR_S - 5 * MIN_S, 0);
	steady(spike, t + 2 * HOUR_S - 5 * MIN_S, t + 2 * HOUR_S, 10);
	o = st(spike, t + 2 * HOUR_S - 1);
	assert_true(o.burn_rate[SLO_BURN_5M] == 100);
	/* 300 bad in 36,000: 8.33x, short of 14.4 */
	assert_true(o.burn_rate[SLO_BURN_1H] == 300.0 * 1e9 / (36000.0 * 1e6));
	assert_true(o.burn_rate[SLO_BURN_1H] < 14.4);
	assert_false(slo__burn_alert(spike, t + 2 * HOUR_S - 1, page));

	/* 2% errors for an hour: 20x on both windows */
	steady(burn, t, t + HOUR_S, 0);
	steady(burn, t + HOUR_S, t + 2 * HOUR_S, 2);
	o = st(burn, t + 2 * HOUR_S - 1);
	assert_true(o.burn_rate[SLO_BURN_5M] == 20);
	assert_true(o.burn_rate[SLO_BURN_1H] == 20);
	assert_true(slo__burn_alert(burn, t + 2 * HOUR_S - 1, page));
	/* it stops; 10 minutes later the 5m window is clean, the 1h one still hot */
	steady(burn, t + 2 * HOUR_S, t + 2 * HOUR_S + 10 * MIN_S, 0);
	o = st(burn, t + 2 * HOUR_S + 10 * MIN_S - 1);
	assert_true(o.burn_rate[SLO_BURN_5M] == 0);
	assert_true(o.burn_rate[SLO_BURN_1H] >= 14.4);
	assert_false(slo__burn_alert(burn, t + 2 * HOUR_S + 10 * MIN_S - 1, page));
	/* the slower page still fires: 30m at 13.3x, 6h (2h10m of traffic) at 9.2x */
	assert_true(slo__burn_alert(burn, t + 2 * HOUR_S + 10 * MIN_S - 1,
				    &slo_default_alert_rules[1]));
	slo__free(spike);
	slo__free(burn);
}

/* Every burn window forgets an event exactly when its bucket leaves it. */
static void test_burn_windows_edges(void **state)
{
	const __u64 t = T_2024 + 10 * DAY_S;	/* a bucket edge at every level */
	/* the bucket width each window is served at */
	const __u64 w[SLO_BURN_WINDOWS] = { 10, 10, 60, 60, 60, 600, 3600 };
	struct slo *s = rolling(0.99, 28 * DAY_S, T_2024), *late;
	unsigned int i;

	(void)state;
	slo__record(s, t, 0, 1);
	for (i = 0; i < SLO_BURN_WINDOWS; i++) {
		__u64 len = slo_burn_window_s[i];

		assert_true(st(s, t).burn_rate[i] == 100);
		assert_true(st(s, t + len - 1).burn_rate[i] == 100);
		assert_true(st(s, t + len).burn_rate[i] == 0);
		/* in the last second of its bucket: it leaves w - 1 s early, never late */
		late = rolling(0.99, 28 * DAY_S, T_2024);
		slo__record(late, t + w[i] - 1, 0, 1);
		assert_true(st(late, t + len - 1).burn_rate[i] == 100);
		assert_true(st(late, t + len).burn_rate[i] == 0);
		slo__free(late);
	}
	slo__free(s);
}

/*
 * Fig 11.4: half the budget lost in the second week, all of it in one day of
 * the third: the period ends at -50%, and the next starts again at 100%.
 */
static void test_negative_budget_and_replenishment(void **state)
{
	const __u64 end = T_2024 + 28 * DAY_S;
	struct slo *s = mk(0.98, SLO_WINDOW_CALENDAR_4W, 0, false, 0, T_2024);
	struct slo_status o;
	__u64 h, bad;

	(void)state;
	/* 1000 requests an hour: 672,000 in the period, a budget of 13,440 */
	for (h = 0; h < 28 * 24; h++) {
		bad = 0;
		if (h >= 7 * 24 && h < 14 * 24)
			bad = 40;	/* 6720 over week 2 */
		if (h >= 16 * 24 && h < 17 * 24)
			bad = 560;	/* 13,440 on Jan 17 */
		slo__record(s, T_2024 + h * HOUR_S + 1800, 1000 - bad, 1000);
	}
	o = st(s, end - 1);
	assert_int_equal(o.window_total, 672000);
	assert_int_equal(o.window_good, 672000 - 20160);
	assert_true(o.budget_remaining == -0.5);
	assert_true(o.exhaustion_s == 0);
	assert_int_equal(slo__policy(s, end - 1) &
			 (SLO_POLICY_EXHAUSTION | SLO_POLICY_PERIOD_BUDGET),
			 SLO_POLICY_EXHAUSTION | SLO_POLICY_PERIOD_BUDGET);

	/* the boundary: full budget again, no debt, the counters go on */
	o = st(s, end);
	assert_int_equal(o.window_start_s, end);
	assert_int_equal(o.window_end_s, end + 28 * DAY_S);
	assert_int_equal(o.window_total, 0);
	assert_true(o.budget_remaining == 1);
	assert_true(isnan(o.sli));
	assert_true(o.budget_consumed_24h == 0 && o.budget_consumed_7d == 0);
	assert_int_equal(slo__policy(s, end), 0);
	assert_int_equal(o.events_total, 672000);
	assert_int_equal(o.good_total, 672000 - 20160);
	slo__record(s, end + 10, 990, 1000);
	o = st(s, end + 10);
	assert_true(o.budget_remaining == 0.5);
	slo__free(s);
}

static void test_week_and_month_boundaries(void **state)
{
	const __u64 mon = T_2024 + WEEK_S;		/* 2024-01-08 */
	const __u64 feb = 1706745600ULL;		/* 2024-02-01 */
	const __u64 mar = 1709251200ULL;		/* 2024-03-01 (leap year) */
	struct slo *wk = mk(0.99, SLO_WINDOW_CALENDAR_WEEK, 0, false, 0, T_2024 + DAY_S);
	struct slo *mo = mk(0.99, SLO_WINDOW_CALENDAR_MONTH, 0, false, 0, T_2024 + DAY_S);
	struct slo_status o;

	(void)state;
	slo__record(wk, mon - 1800, 80, 100);
	o = st(wk, mon - 1);
	assert_int_equal(o.window_start_s, T_2024);
	assert_int_equal(o.window_end_s, mon);
	assert_true(o.budget_remaining == -19);
	assert_true(o.budget_consumed_24h == 20);
	o = st(wk, mon);
	assert_int_equal(o.window_start_s, mon);
	assert_int_equal(o.window_end_s, mon + WEEK_S);
	assert_true(o.budget_remaining == 1);
	/* rates look back across the boundary; the budget does not */
	assert_true(o.burn_rate[SLO_BURN_1H] == 20);
	assert_true(o.budget_consumed_24h == 0);
	slo__record(wk, mon + 60, 99, 100);
	assert_true(st(wk, mon + 60).budget_remaining == 0);

	slo__record(mo, feb - 1, 0, 1);
	o = st(mo, feb - 1);
	assert_int_equal(o.window_start_s, T_2024);
	assert_int_equal(o.window_end_s, feb);
	assert_true(o.budget_remaining == -99);
	o = st(mo, feb);
	assert_int_equal(o.window_start_s, feb);
	assert_int_equal(o.window_end_s, mar);
	assert_true(o.budget_remaining == 1);
	assert_int_equal(o.window_total, 0);
	/* a record in the new period resets it for real */
	slo__record(mo, feb + DAY_S, 1, 1);
	o = st(mo, feb + DAY_S);
	assert_int_equal(o.window_total, 1);
	assert_true(o.budget_remaining == 1);
	slo__free(wk);
	slo__free(mo);
}

static void period(enum slo_window_kind kind, __u64 t, __u64 start, __u64 end)
{
	__u64 s = 0, e = 0;

	assert_int_equal(slo__calendar_period(kind, t, &s, &e), 0);
	assert_int_equal(s, start);
	assert_int_equal(e, end);
}

static void test_calendar_rules(void **state)
{
	const __u64 iso2020 = 1577664000ULL;	/* Mon 2019-12-30 */
	const __u64 p13_2020 = 1606694400ULL;	/* Mon 2020-11-30, ISO week 49 */
	const __u64 iso2021 = 1609718400ULL;	/* Mon 2021-01-04 */
	const __u64 iso2026 = 1766966400ULL;	/* Mon 2025-12-29 */
	const __u64 p13_2026 = 1795996800ULL;	/* Mon 2026-11-30 */
	const __u64 iso2027 = 1799020800ULL;	/* Mon 2027-01-04 */
	const __u64 p13_2024 = 1733097600ULL;	/* Mon 2024-12-02 */
	const __u64 iso2025 = 1735516800ULL;	/* Mon 2024-12-30 */
	__u64 s, e, t, prev_s[4] = { 0 }, prev_e[4] = { 0 };
	unsigned int k, long_4w = 0;
	struct tm tm;
	time_t tt;

	(void)state;
	/* a week is Monday 00:00 UTC to the next Monday */
	period(SLO_WINDOW_CALENDAR_WEEK, 1704283200ULL, T_2024, T_2024 + WEEK_S);
	period(SLO_WINDOW_CALENDAR_WEEK, T_2024 + WEEK_S - 1, T_2024, T_2024 + WEEK_S);
	period(SLO_WINDOW_CALENDAR_WEEK, T_2024 + WEEK_S, T_2024 + WEEK_S, T_2024 + 2 * WEEK_S);
	/* months */
	period(SLO_WINDOW_CALENDAR_MONTH, 1706745600ULL + 5, 1706745600ULL, 1709251200ULL);
	period(SLO_WINDOW_CALENDAR_MONTH, 1677628799ULL, 1675209600ULL, 1677628800ULL);
	period(SLO_WINDOW_CALENDAR_MONTH, 1735689599ULL, 1733011200ULL, 1735689600ULL);
	period(SLO_WINDOW_CALENDAR_MONTH, 1735689600ULL, 1735689600ULL, 1735689600ULL + 31 * DAY_S);
	/* 4w: from the Monday of ISO week 1, every 28 days */
	period(SLO_WINDOW_CALENDAR_4W, T_2024, T_2024, T_2024 + 28 * DAY_S);
	period(SLO_WINDOW_CALENDAR_4W, T_2024 + 28 * DAY_S, T_2024 + 28 * DAY_S,
	       T_2024 + 56 * DAY_S);
	/* 52-week ISO 2024: the 13th period is 28 days and ISO 2025 starts in December */
	period(SLO_WINDOW_CALENDAR_4W, iso2025 - 1, p13_2024, iso2025);
	period(SLO_WINDOW_CALENDAR_4W, iso2025, iso2025, iso2025 + 28 * DAY_S);
	/* 53-week ISO 2020: weeks 49-53 make one 35-day period */
	period(SLO_WINDOW_CALENDAR_4W, iso2020 + 1, iso2020, iso2020 + 28 * DAY_S);
	period(SLO_WINDOW_CALENDAR_4W, p13_2020 + 30 * DAY_S, p13_2020, iso2021);
	period(SLO_WINDOW_CALENDAR_4W, iso2021 - 1, p13_2020, iso2021);
	period(SLO_WINDOW_CALENDAR_4W, iso2021, iso2021, iso2021 + 28 * DAY_S);
	assert_int_equal(iso2021 - p13_2020, 35 * DAY_S);
	/* ISO 2026 starts in calendar 2025 and ends in calendar 2027 */
	period(SLO_WINDOW_CALENDAR_4W, iso2026, iso2026, iso2026 + 28 * DAY_S);
	period(SLO_WINDOW_CALENDAR_4W, iso2026 - 1, iso2026 - 28 * DAY_S, iso2026);
	period(SLO_WINDOW_CALENDAR_4W, 1798977600ULL, p13_2026, iso2027);

	assert_int_equal(slo__calendar_period(SLO_WINDOW_ROLLING, T_2024, &s, &e), -EINVAL);
	assert_int_equal(slo__calendar_period(SLO_WINDOW_CALENDAR_WEEK, 1000, &s, &e), -EINVAL);

	/* every day of 2000-2039: the periods tile time and keep their rules */
	for (t = SLO_TIME_MIN_S + 2 * DAY_S + 43200; t < 2208988800ULL; t += DAY_S) {
		for (k = SLO_WINDOW_CALENDAR_WEEK; k <= SLO_WINDOW_CALENDAR_MONTH; k++) {
			assert_int_equal(slo__calendar_period(k, t, &s, &e), 0);
			assert_true(s <= t && t < e && s % DAY_S == 0 && e % DAY_S == 0);
			/* no gap, no overlap: a new period starts where the last ended */
			if (s != prev_s[k]) {
				if (prev_e[k])
					assert_int_equal(s, prev_e[k]);
				if (k == SLO_WINDOW_CALENDAR_4W && e - s == 35 * DAY_S)
					long_4w++;
			} else {
				assert_int_equal(e, prev_e[k]);
			}
			prev_s[k] = s;
			prev_e[k] = e;
			tt = s;
			gmtime_r(&tt, &tm);
			if (k == SLO_WINDOW_CALENDAR_MONTH) {
				assert_int_equal(tm.tm_mday, 1);
				tt = e;
				gmtime_r(&tt, &tm);
				assert_int_equal(tm.tm_mday, 1);
				continue;
			}
			assert_int_equal(tm.tm_wday, 1);
			if (k == SLO_WINDOW_CALENDAR_WEEK) {
				assert_int_equal(e - s, WEEK_S);
				continue;
			}
			assert_true(e - s == 28 * DAY_S || e - s == 35 * DAY_S);
			tt = e;
			gmtime_r(&tt, &tm);
			/* a period that ends the ISO year ends on the Monday of Dec 29 - Jan 4 */
			if (e - s == 35 * DAY_S)
				assert_true((tm.tm_mon == 0 && tm.tm_mday <= 4) ||
					    (tm.tm_mon == 11 && tm.tm_mday >= 29));
			/* January 4th always lies in the first period of an ISO year */
			tt = t;
			gmtime_r(&tt, &tm);
			if (tm.tm_mon == 0 && tm.tm_mday == 4)
				assert_true(t - s < 7 * DAY_S);
		}
	}
	/* 53-week ISO years 2004, 2009, 2015, 2020, 2026, 2032, 2037 */
	assert_int_equal(long_4w, 7);
}

/* A rolling 28-day window forgets bad events when their hour bucket ages out. */
static void test_rolling_28d_forgets(void **state)
{
	const __u64 t = T_2024 + 3 * DAY_S;
	struct slo *s = rolling(0.99, 28 * DAY_S, T_2024);
	struct slo *steady_slo = rolling(0.99, 28 * DAY_S, T_2024);
	struct slo_status o;
	__u64 h;

	(void)state;
	slo__record(s, t, 0, 100);
	slo__record(s, t + 1800, 0, 50);
	o = st(s, t + 28 * DAY_S - 1);
	assert_int_equal(o.window_total, 150);
	assert_int_equal(o.window_good, 0);
	assert_true(o.budget_remaining == -99);
	assert_int_equal(o.window_end_s - o.window_start_s, 28 * DAY_S);
	/* both leave with their bucket: the second 30 minutes early, never late */
	o = st(s, t + 28 * DAY_S);
	assert_int_equal(o.window_total, 0);
	assert_true(o.budget_remaining == 1);
	assert_true(isnan(o.sli));
	assert_int_equal(o.events_total, 150);

	/* one event an hour for 60 days: the ring wraps and holds 672 hours */
	for (h = 0; h < 60 * 24; h++) {
		slo__record(steady_slo, t + h * HOUR_S + 600, h % 2, 1);
		if (h >= 28 * 24) {
			o = st(steady_slo, t + h * HOUR_S + 700);
			assert_int_equal(o.window_total, 672);
			assert_int_equal(o.window_good, 336);
		}
	}
	/* a gap longer than the window empties it */
	o = st(steady_slo, t + 100 * DAY_S);
	assert_int_equal(o.window_total, 0);
	slo__record(steady_slo, t + 100 * DAY_S, 1, 1);
	o = st(steady_slo, t + 100 * DAY_S);
	assert_int_equal(o.window_total, 1);
	slo__free(s);
	slo__free(steady_slo);
}

/* 28 days of 1000 requests an hour, with bad[h] bad requests in hour h */
static struct slo *month_of(const __u64 *bad, __u64 t)
{
	struct slo *s = rolling(0.99, 28 * DAY_S, t);
	__u64 h;

	for (h = 0; h < 28 * 24; h++)
		slo__record(s, t + h * HOUR_S + 1800, 1000 - bad[h], 1000);
	return s;
}

/* Table 10.2 E and F: 30% of the budget in 24 h, 50% in 7 days */
static void test_policy_24h_7d(void **state)
{
	const __u64 t = T_2024, now = t + 28 * DAY_S - 1;
	__u64 bad[28 * 24] = { 0 }, h;
	struct slo_status o;
	struct slo *s;

	(void)state;
	/* budget: 1% of 672,000 = 6720; 30% of it = 2016 in the last day */
	for (h = 27 * 24; h < 28 * 24; h++)
		bad[h] = 84;
	s = month_of(bad, t);
	o = st(s, now);
	assert_true(fabs(o.budget_consumed_24h - 0.3) < 1e-12);
	assert_true(fabs(o.budget_consumed_7d - 0.3) < 1e-12);
	assert_int_equal(slo__policy(s, now), SLO_POLICY_FAST_BURN);
	slo__free(s);
	bad[27 * 24]--;		/* 2015 */
	s = month_of(bad, t);
	assert_int_equal(slo__policy(s, now), 0);
	/* 24 h later the day has left the window */
	assert_int_equal(st(s, now + DAY_S).window_total, 672000 - 24000);
	slo__free(s);

	/* 50% = 3360 over the last week, 20 an hour: 7.1% a day */
	for (h = 0; h < 28 * 24; h++)
		bad[h] = h >= 21 * 24 ? 20 : 0;
	s = month_of(bad, t);
	o = st(s, now);
	assert_true(fabs(o.budget_consumed_7d - 0.5) < 1e-12);
	assert_true(fabs(o.budget_consumed_24h - 480.0 / 6720) < 1e-12);
	assert_int_equal(slo__policy(s, now), SLO_POLICY_SLOW_BURN);
	slo__free(s);
	bad[21 * 24]--;
	s = month_of(bad, t);
	assert_int_equal(slo__policy(s, now), 0);
	slo__free(s);

	/* B: 70% of the period's budget, at any time */
	for (h = 0; h < 28 * 24; h++)
		bad[h] = h < 24 * 7 ? 28 : 0;	/* 4704 = 70% */
	s = month_of(bad, t);
	assert_int_equal(slo__policy(s, now), SLO_POLICY_PERIOD_BUDGET);
	slo__free(s);
}

static void test_forecast(void **state)
{
	const __u64 t = T_2024 + 5 * DAY_S, now = t + 10 * HOUR_S - 1;
	struct slo *s = rolling(0.999, 28 * DAY_S, T_2024);
	struct slo *calm = rolling(0.999, 28 * DAY_S, T_2024);
	struct slo *wk;
	struct slo_status o;

	(void)state;
	/* 1,000,000 requests, 500 bad: half the budget left; 12 of 1000 in the last hour */
	slo__record(s, t, 999000 - 488, 999000);
	slo__record(s, t + 9 * HOUR_S + 1800, 1000 - 12, 1000);
	o = st(s, now);
	assert_true(o.budget_remaining == 0.5);
	assert_true(o.burn_rate[SLO_BURN_1H] == 12);
	assert_true(o.depletion_per_hour == 12.0 * 3600 / (28 * DAY_S));
	/* 0.5 x 28 d / 12 = 28 hours */
	assert_true(o.exhaustion_s == 100800);
	/* rolling windows have no end: only exhaustion itself is condition A */
	assert_false(slo__policy(s, now) & SLO_POLICY_EXHAUSTION);

	slo__record(calm, t, 1000, 1000);
	o = st(calm, now);
	assert_true(isinf(o.exhaustion_s) && o.exhaustion_s > 0);
	assert_true(o.depletion_per_hour == 0);

	/* a calendar week, 6 days in: 100,000 good requests, then an hour of 5% bad */
	wk = mk(0.99, SLO_WINDOW_CALENDAR_WEEK, 0, false, 0, T_2024);
	slo__record(wk, T_2024 + 1800, 100000, 100000);
	slo__record(wk, T_2024 + 6 * DAY_S + 1800, 950, 1000);
	o = st(wk, T_2024 + 6 * DAY_S + 1801);
	assert_true(o.burn_rate[SLO_BURN_1H] == 5);
	/* 0.95 of the budget at 5x: 31.9 h, more than the 23.5 h left */
	assert_true(o.exhaustion_s > 23.5 * HOUR_S);
	assert_int_equal(slo__policy(wk, T_2024 + 6 * DAY_S + 1801), 0);
	/* another 150 bad in the hour: 0.8 left at 17.4x, 7.75 h */
	slo__record(wk, T_2024 + 6 * DAY_S + 1802, 0, 150);
	o = st(wk, T_2024 + 6 * DAY_S + 1802);
	assert_true(o.budget_remaining > 0.8 && o.exhaustion_s < 8 * HOUR_S);
	assert_int_equal(slo__policy(wk, T_2024 + 6 * DAY_S + 1802), SLO_POLICY_EXHAUSTION);
	slo__free(s);
	slo__free(calm);
	slo__free(wk);
}

static void test_timeslices(void **state)
{
	const __u64 t = T_2024 + 2 * WEEK_S;	/* a Monday */
	struct slo *s = mk(0.99, SLO_WINDOW_CALENDAR_WEEK, 0, true, 0.95, t);
	struct slo *def = mk(0.99, SLO_WINDOW_ROLLING, DAY_S, true, 0, t);
	struct slo_status o, o2;

	(void)state;
	slo__record(s, t + 10, 94, 100);	/* minute 0: 94% < 95%, bad */
	slo__record(s, t + 70, 95, 100);	/* minute 1: exactly the target, good */
						/* minute 2: no events, good */
	slo__record(s, t + 190, 0, 1);		/* minute 3: bad */
	slo__record(s, t + 250, 100, 100);	/* minute 4: good, still open */
	o = st(s, t + 250);
	assert_int_equal(o.window_total, 4);
	assert_int_equal(o.window_good, 2);
	assert_true(o.sli == 0.5);
	/* the budget is 1% of the week's 10,080 minutes */
	assert_true(o.budget_remaining == 1 - 2.0 * 1e9 / (10080.0 * 1e7));
	/* 5 closed minutes (one before the SLO existed, good), 2 bad */
	assert_true(o.burn_rate[SLO_BURN_5M] == 40);
	assert_int_equal(o.good_total, 289);
	assert_int_equal(o.events_total, 301);

	/* minute 4 is judged once over, whether or not a record closes it */
	o = st(s, t + 300);
	assert_int_equal(o.window_total, 5);
	assert_int_equal(o.window_good, 3);
	slo__record(s, t + 300, 0, 0);
	o2 = st(s, t + 300);
	assert_memory_equal(&o, &o2, sizeof(o));

	/* a bad last minute of the week is the old week's */
	slo__record(s, t + WEEK_S - 30, 0, 5);
	o = st(s, t + WEEK_S - 1);
	assert_int_equal(o.window_total - o.window_good, 2);
	o = st(s, t + WEEK_S);
	assert_int_equal(o.window_start_s, t + WEEK_S);
	assert_int_equal(o.window_total, 0);
	assert_true(o.budget_remaining == 1);
	assert_true(o.burn_rate[SLO_BURN_5M] == 20);
	slo__record(s, t + WEEK_S + 65, 1, 1);
	o = st(s, t + WEEK_S + 65);
	assert_int_equal(o.window_total, 1);
	assert_int_equal(o.window_good, 1);

	/* target defaults to the objective: 99 of 100 is a good minute, 98 a bad one */
	slo__record(def, t + 5, 99, 100);
	slo__record(def, t + 65, 98, 100);
	o = st(def, t + 120);
	/*
	 * every minute counts, those before the SLO too: 143 whole 10-minute
	 * buckets and the 2 closed minutes of the current one
	 */
	assert_int_equal(o.window_total, 1432);
	assert_int_equal(o.window_good, 1431);
	/* the budget is 1% of the day's 1440 minutes */
	assert_true(o.budget_remaining == 1 - 1.0 * 1e9 / (1440.0 * 1e7));
	assert_true(o.burn_rate[SLO_BURN_5M] == 20);
	/* rules in whole minutes work; below a minute they cannot */
	assert_true(slo__burn_alert(def, t + 120, &(struct slo_alert_rule){
		"page", "10x", 10 * MIN_S, 5 * MIN_S, 10 }));
	assert_false(slo__burn_alert(def, t + 120, &(struct slo_alert_rule){
		"page", "sub-minute", 10 * MIN_S, 30, 1 }));
	slo__free(s);
	slo__free(def);
}

static void test_late_and_rejected(void **state)
{
	const __u64 t = T_2024 + 25;
	struct slo *s = rolling(0.99, 28 * DAY_S, T_2024);
	struct slo_status o;

	(void)state;
	slo__record(s, t, 10, 10);
	slo__record(s, t - 4, 1, 1);		/* same 10 s bucket: on time */
	assert_int_equal(st(s, t).late_events_total, 0);
	slo__record(s, t - 6, 0, 3);		/* an older bucket: folded, counted */
	o = st(s, t);
	assert_int_equal(o.late_events_total, 3);
	assert_int_equal(o.window_total, 14);
	assert_true(o.burn_rate[SLO_BURN_5M] == 3.0 * 1e9 / (14.0 * 1e7));
	/* status asked for the past answers for the latest record */
	o = st(s, t - 1000);
	assert_int_equal(o.window_total, 14);

	slo__record(s, t, 2, 1);
	slo__record(s, SLO_TIME_MAX_S + 1, 1, 1);
	slo__record(s, t, 0, UINT64_MAX - 10);
	o = st(s, t);
	assert_int_equal(o.rejected_records_total, 3);
	assert_int_equal(o.events_total, 14);
	slo__free(s);
}

/* Decisions are exact where doubles are not: 2^62 of 2^63 against 2^62 + 1 */
static void test_exact_at_huge_counts(void **state)
{
	const struct slo_alert_rule rule = { "page", "half", HOUR_S, 0, 1 };
	struct slo *a = rolling(0.5, 28 * DAY_S, T_2024);
	struct slo *b = rolling(0.5, 28 * DAY_S, T_2024);

	(void)state;
	slo__record(a, T_2024 + 10, 1ULL << 62, 1ULL << 63);
	slo__record(b, T_2024 + 10, (1ULL << 62) + 1, 1ULL << 63);
	assert_true(slo__burn_alert(a, T_2024 + 20, &rule));
	assert_false(slo__burn_alert(b, T_2024 + 20, &rule));
	assert_true(slo__policy(a, T_2024 + 20) & SLO_POLICY_EXHAUSTION);
	assert_false(slo__policy(b, T_2024 + 20) & SLO_POLICY_EXHAUSTION);
	slo__free(a);
	slo__free(b);
}

static void test_alert_rule_edges(void **state)
{
	struct slo *s = rolling(0.99, 28 * DAY_S, T_2024);
	struct slo_alert_rule r = { "page", "x", HOUR_S, 0, 100 };

	(void)state;
	assert_false(slo__burn_alert(s, T_2024 + 5, &r));	/* no events */
	slo__record(s, T_2024 + 5, 0, 7);
	/* all bad is 100x at 99%: the highest factor that can fire */
	assert_true(slo__burn_alert(s, T_2024 + 5, &r));
	r.factor = 100.000001;
	assert_false(slo__burn_alert(s, T_2024 + 5, &r));
	r.factor = 1e6;
	assert_false(slo__burn_alert(s, T_2024 + 5, &r));
	r.factor = 0;
	assert_false(slo__burn_alert(s, T_2024 + 5, &r));
	r.factor = NAN;
	assert_false(slo__burn_alert(s, T_2024 + 5, &r));
	r.factor = 1;
	r.long_s = 0;
	assert_false(slo__burn_alert(s, T_2024 + 5, &r));
	r.long_s = 40 * DAY_S;
	assert_false(slo__burn_alert(s, T_2024 + 5, &r));
	r.long_s = 28 * DAY_S;
	assert_true(slo__burn_alert(s, T_2024 + 5, &r));
	r.short_s = 45;
	assert_true(slo__burn_alert(s, T_2024 + 5, &r));
	assert_false(slo__burn_alert(s, T_2024 + 5, NULL));
	slo__free(s);

	/* factor x budget past 2^64 in fixed point must not wrap around to "small" */
	s = rolling(0.5, 28 * DAY_S, T_2024);
	slo__record(s, T_2024 + 5, 0, 7);
	r.long_s = HOUR_S;
	r.short_s = 0;
	r.factor = 2;
	assert_true(slo__burn_alert(s, T_2024 + 5, &r));
	r.factor = 36893.488148;	/* 36893488148e-6 x 5e8 = 2^64 + 290448384 */
	assert_false(slo__burn_alert(s, T_2024 + 5, &r));
	slo__free(s);
}

static void test_memory_bound(void **state)
{
	const __u64 windows[] = { MIN_S, 30 * MIN_S, 6 * HOUR_S, DAY_S, 3 * DAY_S, 7 * DAY_S,
				  28 * DAY_S, 30 * DAY_S, 31 * DAY_S };
	struct slo_spec spec = { .objective = 0.999 };
	size_t sz, rolling28, week;
	unsigned int i, k, ts;
	struct slo *s;

	(void)state;
	for (ts = 0; ts < 2; ts++) {
		spec.timeslices = ts;
		spec.window = SLO_WINDOW_ROLLING;
		for (i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
			spec.window_s = windows[i];
			sz = slo__mem_size(&spec);
			assert_true(sz > 0 && sz <= SLO_MEM_MAX_BYTES);
			s = slo__new(&spec, T_2024);
			assert_non_null(s);
			assert_true((size_t)slo__serialize(s, NULL, 0) <= SLO_MEM_MAX_BYTES);
			slo__free(s);
		}
		for (k = SLO_WINDOW_CALENDAR_WEEK; k <= SLO_WINDOW_CALENDAR_MONTH; k++) {
			spec.window = k;
			sz = slo__mem_size(&spec);
			assert_true(sz > 0 && sz <= 14 * 1024);
		}
	}
	/* 16 bytes a bucket: 28 d keeps 672 hours where calendar kinds keep 168 */
	spec.timeslices = false;
	spec.window = SLO_WINDOW_ROLLING;
	spec.window_s = 28 * DAY_S;
	rolling28 = slo__mem_size(&spec);
	spec.window = SLO_WINDOW_CALENDAR_WEEK;
	week = slo__mem_size(&spec);
	assert_int_equal(rolling28 - week, (672 - 168) * 16);
	assert_true(rolling28 <= 22 * 1024);
	/* timeslices need no 10 s level, and a spare bucket on the others */
	spec.timeslices = true;
	assert_int_equal(week - slo__mem_size(&spec), (180 - 3) * 16);
}

/* A day of varied traffic, and for timeslices a pending minute. */
static void busy(struct slo *s, __u64 from, __u64 hours)
{
	__u64 t;

	for (t = from; t < from + hours * HOUR_S; t += 37)
		slo__record(s, t, 1000 - (t / 37) % 7, 1000 + (t / 41) % 3);
	slo__record(s, from + hours * HOUR_S - 100, 1, 2);	/* late */
	slo__record(s, from + hours * HOUR_S, 3, 2);	/* rejected */
}

/* Every figure but the process counters, which the state does not carry. */
static void assert_status_equal(const struct slo *a, const struct slo *b, __u64 now)
{
	struct slo_status x = st(a, now), y = st(b, now);

	x.process_good_total = y.process_good_total = 0;
	x.process_events_total = y.process_events_total = 0;
	assert_memory_equal(&x, &y, sizeof(x));
}

/*
 * A reference model: every event kept, every window summed from scratch by
 * the rules slo.h documents (which level serves which window, folding of
 * late records, minutes judged once over), against random traffic with
 * gaps from seconds to days.
 */
struct ref_event {
	__u64 t, good, total;
};

struct ref {
	struct ref_event *ev;
	size_t n, cap;
	struct slo_spec spec;
	__u64 budget_ppb, target_ppb, last;
};

struct ref_win {
	__u64 w, k;	/* bucket width and count */
};

static void ref_add(struct ref *m, __u64 t, __u64 good, __u64 total)
{
	if (t < m->last)
		t = m->last;
	m->last = t;
	if (!total)
		return;
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 1024;
		m->ev = realloc(m->ev, m->cap * sizeof(*m->ev));
		assert_non_null(m->ev);
	}
	m->ev[m->n++] = (struct ref_event){ t, good, total };
}

static void ref_span(const struct ref *m, __u64 now, struct ref_win win, __u64 clip,
		     __u64 *bad, __u64 *total)
{
	__u64 last, first, mnow, start_min, minute, g, t;
	size_t i;

	*bad = 0;
	*total = 0;
	mnow = now / MIN_S;
	last = m->spec.timeslices ? (mnow * MIN_S - 1) / win.w : now / win.w;
	first = last - win.k + 1;
	if (clip && first < (clip + win.w - 1) / win.w)
		first = (clip + win.w - 1) / win.w;
	if (!m->spec.timeslices) {
		for (i = 0, g = t = 0; i < m->n; i++) {
			if (m->ev[i].t / win.w >= first && m->ev[i].t / win.w <= last) {
				g += m->ev[i].good;
				t += m->ev[i].total;
			}
		}
		*bad = t - g;
		*total = t;
		return;
	}
	start_min = first * win.w / MIN_S;
	if (mnow <= start_min)
		return;
	*total = mnow - start_min;
	/* events are in time order: a minute's are together */
	for (i = 0; i < m->n;) {
		minute = m->ev[i].t / MIN_S;
		for (g = t = 0; i < m->n && m->ev[i].t / MIN_S == minute; i++) {
			g += m->ev[i].good;
			t += m->ev[i].total;
		}
		if (minute >= start_min && minute < mnow && g * SLO_PPB < m->target_ppb * t)
			(*bad)++;
	}
}

static double ref_frac(const struct ref *m, __u64 bad, __u64 total)
{
	return total ? (double)bad * 1e9 / ((double)total * (double)m->budget_ppb) : 0;
}

static void ref_check(const struct ref *m, const struct slo *s, __u64 now)
{
	const struct ref_win req[SLO_BURN_WINDOWS] = {
		{ 10, 30 }, { 10, 180 }, { 60, 60 }, { 60, 120 }, { 60, 360 }, { 600, 144 },
		{ 3600, 72 } };
	const struct ref_win mins[SLO_BURN_WINDOWS] = {
		{ 60, 5 }, { 60, 30 }, { 60, 60 }, { 60, 120 }, { 60, 360 }, { 600, 144 },
		{ 3600, 72 } };
	const struct ref_win day = { 600, 144 }, week = { 3600, 168 };
	struct slo_status o = st(s, now);
	__u64 bad, total, good, budget_total, pstart = 0, pend, clip = 0, b24, b7;
	struct ref_win win;
	unsigned int i;

	if (m->spec.window == SLO_WINDOW_ROLLING) {
		win.w = m->spec.window_s > DAY_S ? 3600 : m->spec.window_s > 6 * HOUR_S ? 600 : 60;
		win.k = m->spec.window_s / win.w;
		ref_span(m, now, win, 0, &bad, &total);
		budget_total = m->spec.timeslices ? m->spec.window_s / MIN_S : total;
	} else {
		assert_int_equal(slo__calendar_period(m->spec.window, now, &pstart, &pend), 0);
		clip = pstart;
		if (m->spec.timeslices) {
			/* the period's closed minutes */
			win.w = MIN_S;
			win.k = now / MIN_S - pstart / MIN_S;
			ref_span(m, now, win, pstart, &bad, &total);
		} else {
			for (i = 0, bad = total = 0; i < m->n; i++) {
				if (m->ev[i].t >= pstart) {
					bad += m->ev[i].total - m->ev[i].good;
					total += m->ev[i].total;
				}
			}
		}
		budget_total = m->spec.timeslices ? (pend - pstart) / MIN_S : total;
		assert_int_equal(o.window_start_s, pstart);
		assert_int_equal(o.window_end_s, pend);
	}
	good = total - bad;
	assert_int_equal(o.window_total, total);
	assert_int_equal(o.window_good, good);
	assert_true(o.budget_remaining == 1 - ref_frac(m, bad, budget_total));
	for (i = 0; i < SLO_BURN_WINDOWS; i++) {
		ref_span(m, now, m->spec.timeslices ? mins[i] : req[i], 0, &b24, &total);
		assert_true(o.burn_rate[i] == ref_frac(m, b24, total));
	}
	if (!clip && m->spec.window_s <= DAY_S)
		b24 = bad;
	else
		ref_span(m, now, day, clip, &b24, &total);
	if (!clip && m->spec.window_s <= WEEK_S)
		b7 = bad;
	else
		ref_span(m, now, week, clip, &b7, &total);
	assert_true(o.budget_consumed_24h == ref_frac(m, b24, budget_total));
	assert_true(o.budget_consumed_7d == ref_frac(m, b7, budget_total));
}

static __u64 rnd(__u64 *x)
{
	*x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
	return *x >> 33;
}

static void against_reference(const struct slo_spec *spec, __u64 seed)
{
	const __u64 start = T_2024 + 3 * DAY_S + 12345;
	struct ref ma = { .spec = *spec, .last = start }, mb = ma;
	/* a is only ever asked (status works out the time since), b is moved forward */
	struct slo *a = slo__new(spec, start), *b = slo__new(spec, start);
	__u64 t = start, x = seed, r, total, bad, when, checks = 0;
	bool incident = false;
	unsigned int i;

	assert_non_null(a);
	assert_non_null(b);
	ma.budget_ppb = mb.budget_ppb = SLO_PPB - (__u64)(spec->objective * 1e9 + 0.5);
	ma.target_ppb = mb.target_ppb = (__u64)((spec->timeslice_target ? spec->timeslice_target :
						spec->objective) * 1e9 + 0.5);
	for (i = 0; i < 5000; i++) {
		r = rnd(&x) % 1000;
		t += r < 700 ? rnd(&x) % 30 : r < 900 ? rnd(&x) % 600 :
		     r < 985 ? rnd(&x) % (6 * HOUR_S) : rnd(&x) % (3 * DAY_S);
		if (rnd(&x) % 50 == 0)
			incident = !incident;
		total = rnd(&x) % 60;
		bad = incident ? rnd(&x) % (total + 1) : rnd(&x) % 4 == 0 ? rnd(&x) % (total / 20 + 1) : 0;
		/* now and then a record from up to 2 minutes back */
		when = rnd(&x) % 20 == 0 ? t - rnd(&x) % 120 : t;
		slo__record(a, when, total - bad, total);
		ref_add(&ma, when, total - bad, total);
		slo__record(b, when, total - bad, total);
		ref_add(&mb, when, total - bad, total);
		if (rnd(&x) % 15)
			continue;
		/* a check a little later; b is moved there first, a is asked as it is */
		when = t + rnd(&x) % (2 * HOUR_S);
		if (rnd(&x) % 2) {
			slo__record(b, when, 0, 0);
			ref_add(&mb, when, 0, 0);
		}
		/* (a and b may differ: b folds records into the time it was moved to) */
		ref_check(&ma, a, when);
		ref_check(&mb, b, when);
		checks++;
		t = when;
	}
	assert_true(checks > 200);
	assert_true(t - start > 60 * DAY_S);
	slo__free(a);
	slo__free(b);
	free(ma.ev);
	free(mb.ev);
}

static void test_against_reference_model(void **state)
{
	struct slo_spec spec = { .objective = 0.99, .window = SLO_WINDOW_ROLLING,
				 .window_s = 28 * DAY_S };

	(void)state;
	against_reference(&spec, 1);
	spec.window_s = 2 * HOUR_S;
	against_reference(&spec, 2);
	spec.window_s = 12 * HOUR_S;
	against_reference(&spec, 3);
	spec.window = SLO_WINDOW_CALENDAR_WEEK;
	against_reference(&spec, 4);
	spec.window = SLO_WINDOW_CALENDAR_MONTH;
	against_reference(&spec, 5);
	spec.timeslices = true;
	spec.timeslice_target = 0.97;
	against_reference(&spec, 6);
	spec.window = SLO_WINDOW_CALENDAR_4W;
	spec.timeslice_target = 0;
	against_reference(&spec, 7);
	spec.window = SLO_WINDOW_ROLLING;
	spec.window_s = DAY_S;
	against_reference(&spec, 8);
	spec.window_s = 30 * DAY_S;
	spec.timeslice_target = 0.9;
	against_reference(&spec, 9);
}

static void roundtrip(const struct slo_spec *spec, __u64 start)
{
	const __u64 now = start + 32 * HOUR_S + 17;
	struct slo *s = slo__new(spec, start), *r;
	unsigned char *buf, *buf2;
	int n;

	assert_non_null(s);
	busy(s, start + 1000, 30);
	n = slo__serialize(s, NULL, 0);
	assert_true(n > 208);
	assert_int_equal(slo__serialize(s, NULL, n), n);
	buf = malloc(n);
	buf2 = malloc(n);
	assert_non_null(buf);
	assert_non_null(buf2);
	assert_int_equal(slo__serialize(s, buf, n - 1), n);	/* too short: nothing written */
	assert_int_equal(slo__serialize(s, buf, n), n);

	r = slo__deserialize(spec, buf, n, now);
	assert_non_null(r);
	assert_status_equal(s, r, now);
	/* a restored SLO's exported counters start at 0; a reload's go on */
	assert_int_equal(st(r, now).events_total, st(s, now).events_total);
	assert_true(st(s, now).process_events_total == st(s, now).events_total);
	assert_int_equal(st(r, now).process_events_total, 0);
	assert_int_equal(st(r, now).process_good_total, 0);
	slo__record(r, now, 1, 2);
	assert_int_equal(st(r, now).process_events_total, 2);
	slo__take_counters(r, s);
	assert_int_equal(st(r, now).process_events_total, st(s, now).process_events_total);
	assert_int_equal(st(r, now).process_good_total, st(s, now).process_good_total);
	slo__free(r);
	r = slo__deserialize(spec, buf, n, now);
	assert_non_null(r);
	/* same state, same bytes */
	slo__record(s, now, 0, 0);
	assert_int_equal(slo__serialize(r, buf2, n), n);
	assert_int_equal(slo__serialize(s, buf, n), n);
	assert_memory_equal(buf, buf2, n);
	/* and the same future */
	busy(s, now + 50, 40);
	busy(r, now + 50, 40);
	assert_status_equal(s, r, now + 41 * HOUR_S);
	assert_status_equal(s, r, now + 40 * DAY_S);
	slo__free(r);

	/* brought forward on load: the same as the original asked later */
	assert_int_equal(slo__serialize(s, buf, n), n);
	r = slo__deserialize(spec, buf, n, now + 45 * HOUR_S);
	assert_non_null(r);
	assert_status_equal(s, r, now + 45 * HOUR_S);
	assert_status_equal(s, r, now + 3 * DAY_S);
	slo__free(r);
	slo__free(s);
	free(buf);
	free(buf2);
}

static void test_serialize_roundtrip(void **state)
{
	struct slo_spec spec = { .objective = 0.995, .window = SLO_WINDOW_ROLLING,
				 .window_s = 28 * DAY_S };

	(void)state;
	roundtrip(&spec, T_2024 + 3 * DAY_S + 7);
	spec.timeslices = true;
	spec.timeslice_target = 0.999;
	roundtrip(&spec, T_2024 + 3 * DAY_S + 7);
	spec.window = SLO_WINDOW_CALENDAR_MONTH;
	/* across a month boundary */
	roundtrip(&spec, 1706745600ULL - 20 * HOUR_S);
	spec.timeslices = false;
	spec.window = SLO_WINDOW_CALENDAR_4W;
	roundtrip(&spec, 1706745600ULL - 20 * HOUR_S);
}

static __u64 fnv1a64(const unsigned char *p, size_t n)
{
	__u64 h = 0xcbf29ce484222325ULL;

	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void put_le(unsigned char *p, __u64 v, unsigned int bytes)
{
	unsigned int i;

	for (i = 0; i < bytes; i++)
		p[i] = v >> (8 * i);
}

static __u64 get_le(const unsigned char *p, unsigned int bytes)
{
	__u64 v = 0;
	unsigned int i;

	for (i = 0; i < bytes; i++)
		v |= (__u64)p[i] << (8 * i);
	return v;
}

/* a damaged field with a valid checksum: the check of the field itself must catch it */
static void expect_rejected_forged(const struct slo_spec *spec, const unsigned char *good,
				   size_t n, size_t off, unsigned int bytes, __u64 v, __u64 now)
{
	unsigned char *b = malloc(n);

	assert_non_null(b);
	memcpy(b, good, n);
	put_le(b + off, v, bytes);
	put_le(b + n - 8, fnv1a64(b, n - 8), 8);
	errno = 0;
	assert_null(slo__deserialize(spec, b, n, now));
	assert_int_equal(errno, EINVAL);
	free(b);
}

static void test_deserialize_rejects(void **state)
{
	struct slo_spec spec = { .objective = 0.995, .window = SLO_WINDOW_CALENDAR_WEEK,
				 .timeslices = true };
	struct slo_spec big = { .objective = 0.995, .window = SLO_WINDOW_ROLLING,
				.window_s = 28 * DAY_S };
	struct slo_spec other = spec;
	const __u64 start = T_2024 + DAY_S + 5, now = start + 31 * HOUR_S;
	unsigned char *buf, *b;
	struct slo *s, *r;
	size_t n, i, slot0, l3;
	__u64 last;

	(void)state;
	s = slo__new(&spec, start);
	assert_non_null(s);
	busy(s, start + 100, 30);
	n = slo__serialize(s, NULL, 0);
	buf = malloc(n + 1);
	b = malloc(n + 1);
	assert_non_null(buf);
	assert_non_null(b);
	assert_int_equal(slo__serialize(s, buf, n), n);
	r = slo__deserialize(&spec, buf, n, now);
	assert_non_null(r);
	slo__free(r);

	/* truncated at every length, or with a byte too many */
	for (i = 0; i <= n + 1; i++) {
		if (i == n)
			continue;
		errno = 0;
		assert_null(slo__deserialize(&spec, buf, i, now));
		assert_int_equal(errno, EINVAL);
	}
	assert_null(slo__deserialize(&spec, NULL, n, now));
	/* one bit flipped, in every byte */
	for (i = 0; i < n; i++) {
		memcpy(b, buf, n);
		b[i] ^= 1u << (i % 8);
		errno = 0;
		assert_null(slo__deserialize(&spec, b, n, now));
		assert_int_equal(errno, EINVAL);
	}
	/* a clock before 2000 */
	assert_null(slo__deserialize(&spec, buf, n, 1000));
	/* another spec */
	other.objective = 0.99;
	assert_null(slo__deserialize(&other, buf, n, now));
	other = spec;
	other.timeslice_target = 0.9;
	assert_null(slo__deserialize(&other, buf, n, now));
	other = spec;
	other.window = SLO_WINDOW_CALENDAR_MONTH;
	assert_null(slo__deserialize(&other, buf, n, now));
	other.timeslices = false;
	assert_null(slo__deserialize(&other, buf, n, now));

	/* damaged fields under a valid checksum */
	last = get_le(buf + 56, 8);
	slot0 = 208;
	expect_rejected_forged(&spec, buf, n, 0, 1, 'X', now);		/* magic */
	expect_rejected_forged(&spec, buf, n, 4, 4, SLO_STATE_VERSION + 1, now);
	expect_rejected_forged(&spec, buf, n, 4, 4, 0, now);
	expect_rejected_forged(&spec, buf, n, 8, 4, n + 8, now);	/* length */
	expect_rejected_forged(&spec, buf, n, 12, 4, 0, now);		/* flags */
	expect_rejected_forged(&spec, buf, n, 16, 4, SLO_WINDOW_CALENDAR_4W, now);
	expect_rejected_forged(&spec, buf, n, 20, 4, 5, now);		/* levels */
	expect_rejected_forged(&spec, buf, n, 32, 8, 995000001, now);	/* objective */
	expect_rejected_forged(&spec, buf, n, 48, 8, last + 1, now);	/* created > last */
	expect_rejected_forged(&spec, buf, n, 48, 8, 1000, now);	/* created unset */
	expect_rejected_forged(&spec, buf, n, 56, 8, now + 1, now);	/* last without its buckets */
	expect_rejected_forged(&spec, buf, n, 64, 8, get_le(buf + 72, 8) + 1, now);
	expect_rejected_forged(&spec, buf, n, 80, 8, get_le(buf + 72, 8) + 1, now);
	expect_rejected_forged(&spec, buf, n, 96, 8, get_le(buf + 96, 8) - WEEK_S, now);
	expect_rejected_forged(&spec, buf, n, 104, 8, get_le(buf + 112, 8) + 1, now);
	expect_rejected_forged(&spec, buf, n, 112, 8, 1u << 30, now);	/* minutes */
	expect_rejected_forged(&spec, buf, n, 120, 8, last / 60 - 1, now);
	expect_rejected_forged(&spec, buf, n, 128, 8, get_le(buf + 136, 8) + 1, now);
	expect_rejected_forged(&spec, buf, n, 144, 4, 20, now);		/* width */
	expect_rejected_forged(&spec, buf, n, 148, 4, 1, now);		/* L0 unused */
	expect_rejected_forged(&spec, buf, n, 160, 4, 61, now);
	expect_rejected_forged(&spec, buf, n, 168, 8, last / 60 + 1, now);	/* head */
	expect_rejected_forged(&spec, buf, n, 152, 8, 1, now);		/* L0 head */
	/* a bucket: good > total, too many minutes in a minute */
	expect_rejected_forged(&spec, buf, n, slot0, 8, get_le(buf + slot0 + 8, 8) + 1, now);
	expect_rejected_forged(&spec, buf, n, slot0 + 8, 8, 2, now);
	/* the hour before the SLO began, still in the L3 ring (after L1 and L2) */
	l3 = slot0 + 16 * (get_le(buf + 164, 4) + get_le(buf + 180, 4));
	assert_int_equal(get_le(buf + 196, 4), 169);
	i = (start / HOUR_S - 1) % 169;
	expect_rejected_forged(&spec, buf, n, l3 + 16 * i + 8, 8, 1, now);
	/* and an hour after it did holds 60 minutes, not 61 */
	i = (last / HOUR_S - 1) % 169;
	assert_true(get_le(buf + l3 + 16 * i + 8, 8) > 0);
	expect_rejected_forged(&spec, buf, n, l3 + 16 * i + 8, 8, 61, now);
	/* the same forgeries pass when left as they were */
	memcpy(b, buf, n);
	put_le(b + n - 8, fnv1a64(b, n - 8), 8);
	r = slo__deserialize(&spec, b, n, now);
	assert_non_null(r);
	slo__free(r);
	slo__free(s);

	/* requests-based: bucket sums beyond the totals */
	s = slo__new(&big, start);
	assert_non_null(s);
	slo__record(s, start + 20, 5, 10);
	n = slo__serialize(s, NULL, 0);
	buf = realloc(buf, n);
	assert_non_null(buf);
	assert_int_equal(slo__serialize(s, buf, n), n);
	for (i = 0; i < 180; i++) {
		if (get_le(buf + slot0 + 16 * i + 8, 8) == 10) {
			expect_rejected_forged(&big, buf, n, slot0 + 16 * i + 8, 8, 11, now);
			expect_rejected_forged(&big, buf, n, slot0 + 16 * i, 8, 6, now);
			expect_rejected_forged(&big, buf, n, slot0 + 16 * ((i + 1) % 180) + 8, 8,
					       1, now);
		}
	}
	expect_rejected_forged(&big, buf, n, 96, 8, 1, now);	/* period of a rolling SLO */
	expect_rejected_forged(&big, buf, n, 120, 8, 1, now);	/* minute without timeslices */
	expect_rejected_forged(&big, buf, n, 24, 8, 30 * DAY_S, now);
	slo__free(s);
	free(buf);
	free(b);
}

static struct slo *round_trip(const struct slo_spec *spec, const struct slo *s, __u64 now)
{
	int n = slo__serialize(s, NULL, 0);
	unsigned char *buf = malloc(n);
	struct slo *r;

	assert_non_null(buf);
	assert_int_equal(slo__serialize(s, buf, n), n);
	r = slo__deserialize(spec, buf, n, now);
	free(buf);
	return r;
}

/* A state saved before the clock went back by up to a day waits for it. */
static void test_clock_step_back_waits(void **state)
{
	struct slo_spec spec = { .objective = 0.99, .window = SLO_WINDOW_ROLLING,
				 .window_s = 28 * DAY_S };
	const __u64 t0 = T_2024 + DAY_S, end = t0 + 30 * HOUR_S, back = end - 20 * HOUR_S;
	struct slo *s = slo__new(&spec, t0), *r;
	struct slo_status a, b;

	(void)state;
	assert_non_null(s);
	busy(s, t0, 30);
	slo__record(s, end, 90, 100);
	r = round_trip(&spec, s, back);
	assert_non_null(r);			/* not "from the future" */
	assert_status_equal(s, r, back);	/* every figure as of its own latest time */
	a = st(r, end);
	slo__record(r, back + 60, 1, 2);	/* folded into the newest bucket */
	b = st(r, end);
	assert_int_equal(b.events_total, a.events_total + 2);
	assert_int_equal(b.window_total, a.window_total + 2);
	assert_int_equal(b.late_events_total, a.late_events_total + 2);
	assert_int_equal(b.burn_rate[SLO_BURN_5M] > a.burn_rate[SLO_BURN_5M], true);
	/* and once the clock is past it, time moves on as usual */
	slo__record(r, end + 20, 1, 1);
	assert_int_equal(st(r, end + 20).late_events_total, b.late_events_total);
	/* a tick never moves it back for a step it waits for */
	assert_false(slo__clock(r, back));
	slo__free(r);
	slo__free(s);
}

/*
 * Further back, its history moves back with the clock: the same buckets
 * make the same windows, nothing dropped; running or restored alike, and
 * what comes out saves and loads again.
 */
static void test_clock_step_back_far_moves_history(void **state)
{
	const struct slo_spec specs[] = {
		{ .objective = 0.99, .window = SLO_WINDOW_ROLLING, .window_s = 28 * DAY_S },
		{ .objective = 0.99, .window = SLO_WINDOW_ROLLING, .window_s = HOUR_S },
		{ .objective = 0.99, .window = SLO_WINDOW_ROLLING, .window_s = 28 * DAY_S,
		  .timeslices = true },
		{ .objective = 0.99, .window = SLO_WINDOW_CALENDAR_MONTH, .timeslices = true },
		{ .objective = 0.99, .window = SLO_WINDOW_CALENDAR_WEEK },
	};
	const __u64 t0 = T_2024 + 3 * DAY_S + 7, end = t0 + 30 * HOUR_S;
	const __u64 steps[] = { DAY_S + 1, 40 * DAY_S + 1234, 3 * 365 * DAY_S + 17 };

	(void)state;
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			const __u64 back = end - steps[k];
			struct slo *s = slo__new(&specs[i], t0), *r, *again;
			struct slo_status a, b;

			assert_non_null(s);
			busy(s, t0, 30);
			slo__record(s, end, 90, 100);
			a = st(s, end);
			r = round_trip(&specs[i], s, back);
			assert_non_null(r);
			b = st(r, back);
			assert_int_equal(b.events_total, a.events_total);
			assert_int_equal(b.good_total, a.good_total);
			if (specs[i].window == SLO_WINDOW_ROLLING && !specs[i].timeslices) {
				assert_int_equal(b.window_total, a.window_total);
				assert_int_equal(b.window_good, a.window_good);
				for (int w = 0; w < SLO_BURN_WINDOWS; w++)
					assert_true(b.burn_rate[w] == a.burn_rate[w]);
			}
			/* a record at the stepped clock counts at once, not as late */
			slo__record(r, back, 1, 1);
			assert_int_equal(st(r, back).events_total, a.events_total + 1);
			assert_int_equal(st(r, back).late_events_total, a.late_events_total);
			again = round_trip(&specs[i], r, back + 30);
			assert_non_null(again);
			slo__free(again);
			/* running: the same, through a record or a tick */
			slo__record(s, back, 1, 1);
			assert_status_equal(s, r, back);
			slo__free(r);
			r = round_trip(&specs[i], s, end);	/* saved, then back */
			assert_non_null(r);
			assert_true(slo__clock(r, back));
			assert_false(slo__clock(r, back));
			again = round_trip(&specs[i], r, back);
			assert_non_null(again);
			assert_status_equal(r, again, back);
			slo__free(again);
			slo__free(r);
			slo__free(s);
		}
	}
}

/* Forward, the state is brought forward: what the step passed over ages out. */
static void test_clock_step_forward(void **state)
{
	struct slo_spec spec = { .objective = 0.99, .window = SLO_WINDOW_ROLLING,
				 .window_s = 28 * DAY_S };
	const __u64 t0 = T_2024 + DAY_S, end = t0 + 30 * HOUR_S;
	struct slo *s = slo__new(&spec, t0), *r;
	struct slo_status a, b;

	(void)state;
	assert_non_null(s);
	busy(s, t0, 30);
	a = st(s, end);
	r = round_trip(&spec, s, end + 27 * DAY_S);
	assert_non_null(r);
	b = st(r, end + 27 * DAY_S);
	assert_int_equal(b.events_total, a.events_total);
	assert_true(b.window_total > 0 && b.window_total < a.window_total);
	slo__free(r);
	r = round_trip(&spec, s, end + 40 * DAY_S);
	assert_non_null(r);
	b = st(r, end + 40 * DAY_S);
	assert_int_equal(b.events_total, a.events_total);
	assert_int_equal(b.window_total, 0);
	slo__free(r);
	slo__free(s);
}

static struct slo *with_min(double objective, enum slo_window_kind kind, __u64 window_s,
			    bool timeslices, __u64 min_events, __u64 now)
{
	struct slo_spec spec = {
		.objective = objective,
		.window = kind,
		.window_s = window_s,
		.timeslices = timeslices,
		.min_events = min_events,
	};
	struct slo *s = slo__new(&spec, now);

	assert_non_null(s);
	return s;
}

/*
 * Low traffic: three requests an hour, all failing, burn at 100x a 99%
 * budget, yet page no one while the hour holds fewer than min_events; the
 * budget is unknown (NaN) until the SLO window holds that many, then the
 * same traffic alerts as without a minimum.
 */
static void test_min_events_low_traffic(void **state)
{
	const struct slo_alert_rule *page = &slo_default_alert_rules[0];
	struct slo *low = with_min(0.99, SLO_WINDOW_ROLLING, 28 * DAY_S, false, 20, T_2024);
	struct slo *none = with_min(0.99, SLO_WINDOW_ROLLING, 28 * DAY_S, false, 0, T_2024);
	__u64 t = T_2024;
	struct slo_status o;

	(void)state;
	for (int i = 0; i < 3; i++, t += 20 * MIN_S) {
		slo__record(low, t, 0, 1);
		slo__record(none, t, 0, 1);
	}
	t -= 20 * MIN_S;
	assert_true(slo__burn_alert(none, t, page));
	assert_int_not_equal(slo__policy(none, t), 0);
	assert_false(slo__burn_alert(low, t, page));
	assert_int_equal(slo__policy(low, t), 0);
	o = st(low, t);
	assert_true(o.insufficient_data);
	assert_int_equal(o.window_events, 3);
	assert_true(isnan(o.budget_remaining));
	assert_true(isnan(o.exhaustion_s));
	assert_true(isnan(o.budget_consumed_24h));
	/* the burn rates and the SLI are still what was measured */
	assert_true(o.burn_rate[SLO_BURN_1H] == 100);
	assert_true(o.sli == 0);
	assert_false(st(none, t).insufficient_data);

	/* 17 more within the hour: 20 events, the page fires */
	slo__record(low, t, 0, 17);
	assert_true(slo__burn_alert(low, t, page));
	o = st(low, t);
	assert_false(o.insufficient_data);
	assert_int_equal(o.window_events, 20);
	assert_true(o.budget_remaining == 1 - 100);
	assert_true(slo__policy(low, t) & SLO_POLICY_EXHAUSTION);

	/* two hours on: the 1h window is empty of them, the 28d window not */
	t += 2 * HOUR_S;
	assert_false(slo__burn_alert(low, t, page));
	assert_false(st(low, t).insufficient_data);
	assert_true(slo__policy(low, t) & SLO_POLICY_EXHAUSTION);
	slo__free(low);
	slo__free(none);
}

/* The minimum on the long window alone: the short one needs one event. */
static void test_min_events_long_window_only(void **state)
{
	const struct slo_alert_rule *page = &slo_default_alert_rules[0];
	struct slo *s = with_min(0.99, SLO_WINDOW_ROLLING, 28 * DAY_S, false, 50, T_2024);
	__u64 t = T_2024 + 10 * MIN_S;

	(void)state;
	slo__record(s, T_2024, 0, 49);
	assert_false(slo__burn_alert(s, t, page));
	slo__record(s, t, 0, 1);	/* 50 in the hour, 1 in the last 5 minutes */
	assert_true(slo__burn_alert(s, t, page));
	slo__free(s);
}

/* Timeslices: min_events counts the minutes that had requests. */
static void test_min_events_timeslices(void **state)
{
	struct slo *s = with_min(0.99, SLO_WINDOW_CALENDAR_MONTH, 0, true, 3, T_2024);
	__u64 t = T_2024;
	struct slo_status o;

	(void)state;
	slo__record(s, t, 0, 100);		/* one bad minute of 100 requests */
	slo__record(s, t + MIN_S, 0, 100);	/* another */
	o = st(s, t + 2 * MIN_S);
	assert_int_equal(o.window_events, 2);
	assert_true(o.insufficient_data);
	assert_int_equal(slo__policy(s, t + 2 * MIN_S), 0);
	slo__record(s, t + 2 * MIN_S, 1, 1);	/* a good minute with a request */
	o = st(s, t + 3 * MIN_S);
	assert_int_equal(o.window_events, 3);
	assert_false(o.insufficient_data);
	assert_true(isfinite(o.budget_remaining));
	slo__free(s);
}

/* min_events is no part of the state: a state saved under one loads under another. */
static void test_min_events_not_in_state(void **state)
{
	struct slo *a = with_min(0.99, SLO_WINDOW_ROLLING, 28 * DAY_S, false, 0, T_2024), *b;
	struct slo_spec spec = {
		.objective = 0.99, .window = SLO_WINDOW_ROLLING, .window_s = 28 * DAY_S,
		.min_events = 1000,
	};
	unsigned char buf[32768];
	int len;

	(void)state;
	slo__record(a, T_2024, 5, 10);
	len = slo__serialize(a, buf, sizeof(buf));
	assert_true(len > 0 && (size_t)len <= sizeof(buf));
	b = slo__deserialize(&spec, buf, len, T_2024 + 10);
	assert_non_null(b);
	assert_true(st(b, T_2024 + 10).insufficient_data);
	assert_false(st(a, T_2024 + 10).insufficient_data);
	slo__free(a);
	slo__free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constants),
		cmocka_unit_test(test_spec_validation),
		cmocka_unit_test(test_book_98_percent_over_4_weeks),
		cmocka_unit_test(test_book_alert_997_two_x_hourly),
		cmocka_unit_test(test_workbook_multiwindow),
		cmocka_unit_test(test_burn_windows_edges),
		cmocka_unit_test(test_negative_budget_and_replenishment),
		cmocka_unit_test(test_week_and_month_boundaries),
		cmocka_unit_test(test_calendar_rules),
		cmocka_unit_test(test_rolling_28d_forgets),
		cmocka_unit_test(test_policy_24h_7d),
		cmocka_unit_test(test_forecast),
		cmocka_unit_test(test_timeslices),
		cmocka_unit_test(test_late_and_rejected),
		cmocka_unit_test(test_exact_at_huge_counts),
		cmocka_unit_test(test_alert_rule_edges),
		cmocka_unit_test(test_memory_bound),
		cmocka_unit_test(test_against_reference_model),
		cmocka_unit_test(test_serialize_roundtrip),
		cmocka_unit_test(test_deserialize_rejects),
		cmocka_unit_test(test_clock_step_back_waits),
		cmocka_unit_test(test_clock_step_back_far_moves_history),
		cmocka_unit_test(test_clock_step_forward),
		cmocka_unit_test(test_min_events_low_traffic),
		cmocka_unit_test(test_min_events_long_window_only),
		cmocka_unit_test(test_min_events_timeslices),
		cmocka_unit_test(test_min_events_not_in_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
