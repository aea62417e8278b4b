// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * OpenSLO v1 documents in a config stream (user/openslo.c): each mapping
 * checked against the native slos item it stands for, and each refusal
 * against its exact message.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "grpc.h"

#define MS(x)	((__u64)(x) * 1000000ull)

static bool is_zeroed(const struct slotap_config *cfg)
{
	static const struct slotap_config zero;

	return !memcmp(cfg, &zero, sizeof(zero));
}

static void load_ok(struct slotap_config *cfg, const char *yaml)
{
	char err[512] = "";
	int ret;

	memset(cfg, 0xa5, sizeof(*cfg));
	ret = config__load_string(cfg, yaml, strlen(yaml), "t.yaml", err,
				  sizeof(err));
	if (ret)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(ret, 0);
	assert_string_equal(err, "");
}

/* The whole message must be want; the config must come back zeroed. */
static void expect_error(const char *yaml, const char *want)
{
	struct slotap_config cfg;
	char err[512];
	int ret;

	memset(&cfg, 0xa5, sizeof(cfg));
	ret = config__load_string(&cfg, yaml, strlen(yaml), "t.yaml", err,
				  sizeof(err));
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(err, want);
	assert_true(is_zeroed(&cfg));
}

static bool has_endpoint(const struct slo_config *sc, const char *e)
{
	size_t i;

	for (i = 0; i < sc->n_endpoints; i++)
		if (!strcmp(sc->endpoints[i], e))
			return true;
	return false;
}

/* Every field; endpoints as a set (OpenSLO lists may come in any order). */
static void assert_slo_equal(const struct slo_config *a,
			     const struct slo_config *b)
{
	size_t i;

	assert_string_equal(a->name, b->name);
	assert_string_equal(a->service, b->service);
	assert_int_equal(a->n_endpoints, b->n_endpoints);
	for (i = 0; i < a->n_endpoints; i++)
		assert_true(has_endpoint(b, a->endpoints[i]));
	assert_int_equal(a->sli, b->sli);
	/* the same decimal must give the same double, not a near one */
	assert_memory_equal(&a->objective, &b->objective, sizeof(double));
	assert_int_equal(a->threshold_ns, b->threshold_ns);
	assert_memory_equal(a->bad_status, b->bad_status, sizeof(a->bad_status));
	assert_int_equal(a->bad_grpc_codes, b->bad_grpc_codes);
	assert_int_equal(a->window, b->window);
	assert_int_equal(a->window_s, b->window_s);
	assert_int_equal(a->timeslices, b->timeslices);
}

static void assert_thresholds_equal(const struct slotap_config *a,
				    const struct slotap_config *b)
{
	assert_int_equal(a->n_thresholds, b->n_thresholds);
	assert_memory_equal(a->latency_thresholds_ns, b->latency_thresholds_ns,
			    a->n_thresholds * sizeof(__u64));
}

static bool status_bad(const struct slo_config *sc, unsigned code)
{
	return sc->bad_status[code / 8] & (1u << (code % 8));
}

#define SERVICES \
	"services:\n" \
	"  - name: shop\n" \
	"    match: {port: 8080}\n"

static void test_ratio_metric_is_availability(void **state)
{
	static const char native[] = SERVICES
		"slos:\n"
		"  - name: shop-availability\n"
		"    service: shop\n"
		"    endpoint: [\"GET /api/items/{id}\", \"POST /api/orders\"]\n"
		"    sli: availability\n"
		"    objective: 99.5\n"
		"    window: 28d\n"
		"    bad_statuses: [5xx, 429]\n";
	static const char openslo[] = SERVICES
		"---\n"
		"apiVersion: openslo/v1\n"
		"kind: SLO\n"
		"metadata:\n"
		"  name: shop-availability\n"
		"  displayName: Shop availability\n"
		"  labels: {team: shop, tier: [\"1\"]}\n"
		"spec:\n"
		"  description: items and orders answer without server errors\n"
		"  service: shop\n"
		"  indicator:\n"
		"    metadata:\n"
		"      name: shop-errors\n"
		"    spec:\n"
		"      ratioMetric:\n"
		"        counter: true\n"
		"        good:\n"
		"          metricSource:\n"
		"            type: slotap\n"
		"            spec:\n"
		"              endpoint: [\"GET /api/items/{id}\", \"POST /api/orders\"]\n"
		"              bad_statuses: [5xx, 429]\n"
		"        total:\n"
		"          metricSource:\n"
		"            type: slotap\n"
		"            spec:\n"
		"              endpoint: [\"POST /api/orders\", \"GET /api/items/{id}\"]\n"
		"  timeWindow:\n"
		"    - duration: 4w\n"
		"      isRolling: true\n"
		"  budgetingMethod: Occurrences\n"
		"  objectives:\n"
		"    - displayName: only one, so not in the name\n"
		"      target: 0.995\n"
		"  alertPolicies: []\n";
	/* bad and total, the whole service, the default bad statuses */
	static const char native_bad[] =
		"slos:\n"
		"  - name: api\n"
		"    service: nginx\n"
		"    sli: availability\n"
		"    objective: 99.9\n"
		"    window: 7d\n";
	static const char openslo_bad[] =
		"apiVersion: openslo/v1\n"
		"kind: SLO\n"
		"metadata: {name: api}\n"
		"spec:\n"
		"  service: nginx\n"
		"  indicator:\n"
		"    spec:\n"
		"      ratioMetric:\n"
		"        bad: {metricSource: {type: slotap, spec: {}}}\n"
		"        total: {metricSource: {type: slotap}}\n"
		"  timeWindow: [{duration: 1w, isRolling: true}]\n"
		"  budgetingMethod: Occurrences\n"
		"  objectives: [{targetPercent: 99.9}]\n";
	struct slotap_config a, b;

	(void)state;
	load_ok(&a, native);
	load_ok(&b, openslo);
	assert_int_equal(b.n_slos, 1);
	assert_slo_equal(&a.slos[0], &b.slos[0]);
	assert_true(status_bad(&b.slos[0], 429));
	assert_true(status_bad(&b.slos[0], 503));
	assert_false(status_bad(&b.slos[0], 404));
	assert_int_equal(b.slos[0].window_s, 28 * 86400);
	assert_thresholds_equal(&a, &b);
	config__free(&a);
	config__free(&b);

	load_ok(&a, native_bad);
	load_ok(&b, openslo_bad);
	assert_int_equal(b.n_slos, 1);
	assert_slo_equal(&a.slos[0], &b.slos[0]);
	assert_true(status_bad(&b.slos[0], 500));
	assert_false(status_bad(&b.slos[0], 499));
	assert_int_equal(b.slos[0].n_endpoints, 0);
	config__free(&a);
	config__free(&b);
}

static void test_threshold_metric_is_latency(void **state)
{
	static const char native[] = SERVICES
		"slos:\n"
		"  - name: shop-latency\n"
		"    service: shop\n"
		"    endpoint: \"GET /api/items/{id}\"\n"
		"    sli: latency\n"
		"    threshold: 300ms\n"
		"    objective: 95\n"
		"    window: 4w\n"
		"    budgeting: timeslices\n";
	static const char openslo[] = SERVICES
		"---\n"
		"apiVersion: openslo/v1\n"
		"kind: SLO\n"
		"metadata:\n"
		"  name: shop-latency\n"
		"spec:\n"
		"  service: shop\n"
		"  indicator:\n"
		"    spec:\n"
		"      thresholdMetric:\n"
		"        metricSource:\n"
		"          type: slotap\n"
		"          spec:\n"
		"            endpoint: \"GET /api/items/{id}\"\n"
		"  timeWindow:\n"
		"    - duration: 4w\n"
		"      isRolling: false\n"
		"  budgetingMethod: Timeslices\n"
		"  objectives:\n"
		"    - op: lte\n"
		"      value: 0.3\n"
		"      target: 0.95\n"
		"      timeSliceTarget: 0.95\n"
		"      timeSliceWindow: 1m\n";
	struct slotap_config a, b;

	(void)state;
	load_ok(&a, native);
	load_ok(&b, openslo);
	assert_int_equal(b.n_slos, 1);
	assert_slo_equal(&a.slos[0], &b.slos[0]);
	assert_int_equal(b.slos[0].threshold_ns, MS(300));
	assert_int_equal(b.slos[0].window, SLO_WINDOW_CALENDAR_4W);
	assert_true(b.slos[0].timeslices);
	/* 300ms joined the default thresholds in both */
	assert_thresholds_equal(&a, &b);
	assert_int_equal(b.n_thresholds, 5);
	assert_int_equal(b.latency_thresholds_ns[1], MS(250));
	assert_int_equal(b.latency_thresholds_ns[2], MS(300));
	config__free(&a);
	config__free(&b);
}

/* kind: SLI documents, referred to from before and after them */
static void test_indicator_ref(void **state)
{
	static const char yaml[] =
		"apiVersion: openslo/v1\n"
		"kind: SLO\n"
		"metadata: {name: before}\n"
		"spec:\n"
		"  service: shop\n"
		"  indicatorRef: item-latency\n"
		"  timeWindow: [{duration: 1h, isRolling: true}]\n"
		"  budgetingMethod: Occurrences\n"
		"  objectives: [{op: lt, value: 0.25, target: 0.99}]\n"
		"---\n"
		"apiVersion: openslo/v1\n"
		"kind: SLI\n"
		"metadata:\n"
		"  name: item-latency\n"
		"spec:\n"
		"  description: answered in time\n"
		"  thresholdMetric:\n"
		"    metricSource:\n"
		"      type: slotap\n"
		"      spec: {endpoint: [\"GET /items/{id}\", \"HEAD /items/{id}\"]}\n"
		"---\n"
		"apiVersion: openslo/v1\n"
		"kind: Service\n"
		"metadata: {name: shop, displayName: The shop}\n"
		"spec: {description: sells things}\n"
		"---\n"
		"apiVersion: openslo/v1\n"
		"kind: SLO\n"
		"metadata: {name: after}\n"
		"spec:\n"
		"  service: shop\n"
		"  indicatorRef: item-latency\n"
		"  timeWindow: [{duration: 2d, isRolling: true}]\n"
		"  budgetingMethod: Occurrences\n"
		"  objectives: [{op: lte, value: 1.5, targetPercent: 90}]\n";
	struct slotap_config cfg;
	size_t i;

	(void)state;
	load_ok(&cfg, yaml);
	assert_int_equal(cfg.n_slos, 2);
	assert_string_equal(cfg.slos[0].name, "before");
	assert_string_equal(cfg.slos[1].name, "after");
	for (i = 0; i < 2; i++) {
		assert_string_equal(cfg.slos[i].service, "shop");
		assert_int_equal(cfg.slos[i].sli, SLO_SLI_LATENCY);
		assert_int_equal(cfg.slos[i].n_endpoints, 2);
		assert_string_equal(cfg.slos[i].endpoints[0], "GET /items/{id}");
		assert_string_equal(cfg.slos[i].endpoints[1], "HEAD /items/{id}");
		assert_int_equal(cfg.slos[i].window, SLO_WINDOW_ROLLING);
	}
	assert_int_equal(cfg.slos[0].threshold_ns, MS(250));
	assert_int_equal(cfg.slos[0].window_s, 3600);
	assert_true(cfg.slos[0].objective == 0.99);
	assert_int_equal(cfg.slos[1].threshold_ns, MS(1500));
	assert_int_equal(cfg.slos[1].window_s, 2 * 86400);
	assert_true(cfg.slos[1].objective == 0.9);
	/* 250ms was there; 1.5s joins */
	assert_int_equal(cfg.n_thresholds, 5);
	assert_int_equal(cfg.latency_thresholds_ns[4], MS(1500));
	config__free(&cfg);
}

#define SLO_HEAD \
	"apiVersion: openslo/v1\n"		/* 1 */ \
	"kind: SLO\n"				/* 2 */ \
	"metadata:\n"				/* 3 */ \
	"  name: avail\n"			/* 4 */ \
	"spec:\n"				/* 5 */ \
	"  service: shop\n"			/* 6 */
#define RATIO \
	"  indicator:\n"			/* 7 */ \
	"    spec:\n"				/* 8 */ \
	"      ratioMetric:\n"			/* 9 */ \
	"        good:\n"			/* 10 */ \
	"          metricSource:\n"		/* 11 */ \
	"            type: slotap\n"		/* 12 */ \
	"        total:\n"			/* 13 */ \
	"          metricSource:\n"		/* 14 */ \
	"            type: slotap\n"		/* 15 */
#define LATENCY \
	"  indicator:\n"			/* 7 */ \
	"    spec:\n"				/* 8 */ \
	"      thresholdMetric:\n"		/* 9 */ \
	"        metricSource:\n"		/* 10 */ \
	"          type: slotap\n"		/* 11 */
#define CAL_WINDOW(d) \
	"  timeWindow:\n" \
	"    - duration: " d "\n" \
	"      calendar:\n" \
	"        startTime: 2024-01-01 00:00:00\n" \
	"        timeZone: UTC\n"
#define OCCURRENCES	"  budgetingMethod: Occurrences\n"
/* SLO_HEAD with metadata.annotations on line 4 (from column 16) */
#define SLO_HEAD_ANNOTATED(annotations) \
	"apiVersion: openslo/v1\n"		/* 1 */ \
	"kind: SLO\n"				/* 2 */ \
	"metadata:\n"				/* 3 */ \
	"  annotations: " annotations "\n"	/* 4 */ \
	"  name: avail\n"			/* 5 */ \
	"spec:\n"				/* 6 */ \
	"  service: shop\n"			/* 7 */
#define TARGET		"  objectives: [{target: 0.999}]\n"

static void test_calendar_windows(void **state)
{
	/* 2024-01-01 is a Monday, the start of ISO week 1 and of January */
	static const char *const durations[] = { "1w", "4w", "1M" };
	static const enum slo_window_kind kinds[] = {
		SLO_WINDOW_CALENDAR_WEEK, SLO_WINDOW_CALENDAR_4W,
		SLO_WINDOW_CALENDAR_MONTH,
	};
	struct slotap_config cfg;
	char yaml[1024];
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		snprintf(yaml, sizeof(yaml),
			 SLO_HEAD RATIO
			 "  timeWindow:\n"
			 "    - duration: %s\n"
			 "      calendar:\n"
			 "        startTime: 2024-01-01 00:00:00\n"
			 "        timeZone: UTC\n"
			 OCCURRENCES TARGET, durations[i]);
		load_ok(&cfg, yaml);
		assert_int_equal(cfg.n_slos, 1);
		assert_int_equal(cfg.slos[0].window, kinds[i]);
		assert_int_equal(cfg.slos[0].window_s, 0);
		config__free(&cfg);
	}
	/* isRolling: false without calendar: UTC periods all the same */
	load_ok(&cfg, SLO_HEAD RATIO
		"  timeWindow: [{duration: 1M, isRolling: false}]\n"
		OCCURRENCES TARGET);
	assert_int_equal(cfg.slos[0].window, SLO_WINDOW_CALENDAR_MONTH);
	config__free(&cfg);
	/* another month start, as ISO 8601 */
	load_ok(&cfg, SLO_HEAD RATIO
		"  timeWindow:\n"
		"    - duration: 1M\n"
		"      calendar: {startTime: \"2023-03-01T00:00:00Z\"}\n"
		OCCURRENCES TARGET);
	assert_int_equal(cfg.slos[0].window, SLO_WINDOW_CALENDAR_MONTH);
	config__free(&cfg);

	expect_error(SLO_HEAD RATIO
		     "  timeWindow:\n"
		     "    - duration: 1M\n"
		     "      calendar:\n"
		     "        startTime: 2024-01-02 00:00:00\n"
		     OCCURRENCES TARGET,
		     "t.yaml:19:20: spec.timeWindow[0].calendar.startTime: \"2024-01-02 00:00:00\" cannot be mapped: slotap's months start on the 1st at 00:00:00 UTC");
	/* 2024-01-29 is a Monday, but of ISO week 5 only with 1w */
	expect_error(SLO_HEAD RATIO
		     "  timeWindow:\n"
		     "    - duration: 4w\n"
		     "      calendar: {startTime: 2024-01-22 00:00:00}\n"
		     OCCURRENCES TARGET,
		     "t.yaml:18:29: spec.timeWindow[0].calendar.startTime: \"2024-01-22 00:00:00\" cannot be mapped: slotap's four-week periods start on the Monday of ISO week 1, 5, 9, ..., 49 at 00:00:00 UTC");
	expect_error(SLO_HEAD RATIO
		     "  timeWindow:\n"
		     "    - duration: 1w\n"
		     "      calendar: {startTime: 2024-01-22 00:00:00, timeZone: America/New_York}\n"
		     OCCURRENCES TARGET,
		     "t.yaml:18:60: spec.timeWindow[0].calendar.timeZone: \"America/New_York\" cannot be mapped: slotap's calendar periods are in UTC (timeZone: UTC)");
	expect_error(SLO_HEAD RATIO CAL_WINDOW("1Q") OCCURRENCES TARGET,
		     "t.yaml:17:17: spec.timeWindow[0].duration: \"1Q\" cannot be mapped: slotap's calendar windows are 1w (weeks from Monday), 4w (ISO four-week periods) and 1M (months), in UTC");
	expect_error(SLO_HEAD RATIO
		     "  timeWindow: [{duration: 1M, isRolling: true}]\n"
		     OCCURRENCES TARGET,
		     "t.yaml:16:27: spec.timeWindow[0].duration: \"1M\" cannot be mapped: slotap's rolling windows are 1m to 31d, in m, h, d or w (e.g. 28d)");
	expect_error(SLO_HEAD RATIO
		     "  timeWindow: [{duration: 5w, isRolling: true}]\n"
		     OCCURRENCES TARGET,
		     "t.yaml:16:27: spec.timeWindow[0].duration: \"5w\" is not a rolling window from 1m to 31d");
	/* the engine's buckets: over 1d, whole hours */
	expect_error(SLO_HEAD RATIO
		     "  timeWindow: [{duration: 1441m, isRolling: true}]\n"
		     OCCURRENCES TARGET,
		     "t.yaml:16:27: spec.timeWindow[0].duration: \"1441m\" is not a multiple of 1h, the SLO engine's bucket for rolling windows over 1d");
	expect_error(SLO_HEAD RATIO
		     "  timeWindow: [{duration: 28d}]\n"
		     OCCURRENCES TARGET,
		     "t.yaml:16:16: spec.timeWindow[0]: missing required key \"isRolling\" (true for a rolling window; false, with calendar, for a calendar one)");
	expect_error(SLO_HEAD RATIO
		     "  timeWindow: [{duration: 28d, isRolling: true}, {duration: 1d, isRolling: true}]\n"
		     OCCURRENCES TARGET,
		     "t.yaml:16:15: spec.timeWindow: 2 time windows: an SLO has exactly one");
}

static void test_multiple_objectives(void **state)
{
	static const char yaml[] = SERVICES
		"---\n"
		"apiVersion: openslo/v1\n"
		"kind: SLO\n"
		"metadata: {name: items-latency}\n"
		"spec:\n"
		"  service: shop\n"
		"  indicator:\n"
		"    spec:\n"
		"      thresholdMetric:\n"
		"        metricSource: {type: slotap, spec: {endpoint: \"GET /api/items/{id}\"}}\n"
		"  timeWindow: [{duration: 28d, isRolling: true}]\n"
		"  budgetingMethod: Occurrences\n"
		"  objectives:\n"
		"    - displayName: p95\n"
		"      op: lte\n"
		"      value: 0.7\n"
		"      targetPercent: 95\n"
		"    - op: lte\n"
		"      value: 0.35\n"
		"      target: 0.75\n";
	struct slotap_config cfg;

	(void)state;
	load_ok(&cfg, yaml);
	assert_int_equal(cfg.n_slos, 2);
	assert_string_equal(cfg.slos[0].name, "items-latency-p95");
	assert_int_equal(cfg.slos[0].threshold_ns, MS(700));
	assert_true(cfg.slos[0].objective == 0.95);
	assert_string_equal(cfg.slos[1].name, "items-latency-1");
	assert_int_equal(cfg.slos[1].threshold_ns, MS(350));
	assert_true(cfg.slos[1].objective == 0.75);
	assert_string_equal(cfg.slos[1].endpoints[0], "GET /api/items/{id}");
	assert_int_equal(cfg.slos[1].window_s, 28 * 86400);
	/* both thresholds join the defaults, sorted */
	assert_int_equal(cfg.n_thresholds, 6);
	assert_int_equal(cfg.latency_thresholds_ns[2], MS(350));
	assert_int_equal(cfg.latency_thresholds_ns[4], MS(700));
	config__free(&cfg);

	expect_error(SLO_HEAD RATIO
		     "  timeWindow: [{duration: 28d, isRolling: true}]\n"
		     OCCURRENCES
		     "  objectives:\n"
		     "    - target: 0.999\n"
		     "    - displayName: Business hours\n"
		     "      target: 0.99\n",
		     "t.yaml:20:20: spec.objectives[1].displayName: \"Business hours\" makes the SLO name \"avail-Business hours\", not a valid slotap name (1..63 characters of A-Z a-z 0-9 _ . -)");
	expect_error(SLO_HEAD RATIO
		     "  timeWindow: [{duration: 28d, isRolling: true}]\n"
		     OCCURRENCES
		     "  objectives:\n"
		     "    - {displayName: strict, target: 0.999}\n"
		     "    - {displayName: strict, target: 0.99}\n",
		     "t.yaml:20:21: duplicate SLO name \"avail-strict\" (the first is at 19:21)");
}

/*
 * metadata.annotations.runbook_url (OpenSLO has no field for a runbook) is
 * every objective's runbook_url, checked as the slotap document's; other
 * annotations are the implementations' own and ignored.
 */
static void test_runbook_url(void **state)
{
	static const char yaml[] = SERVICES
		"---\n"
		"apiVersion: openslo/v1\n"
		"kind: SLO\n"
		"metadata:\n"
		"  name: avail\n"
		"  annotations:\n"
		"    openslo.com/key1: value1\n"
		"    runbook_url: https://runbooks.example/shop?slo=avail#now\n"
		"spec:\n"
		"  service: shop\n"
		RATIO
		"  timeWindow: [{duration: 28d, isRolling: true}]\n"
		OCCURRENCES
		"  objectives: [{displayName: a, target: 0.999}, {displayName: b, target: 0.99}]\n"
		"---\n"
		"apiVersion: openslo/v1\n"
		"kind: SLO\n"
		"metadata: {name: other, annotations: {dashboard: x}}\n"
		"spec:\n"
		"  service: shop\n"
		RATIO
		"  timeWindow: [{duration: 28d, isRolling: true}]\n"
		OCCURRENCES
		TARGET;
	struct slotap_config cfg;

	(void)state;
	load_ok(&cfg, yaml);
	assert_int_equal(cfg.n_slos, 3);
	assert_string_equal(cfg.slos[0].name, "avail-a");
	assert_string_equal(cfg.slos[0].runbook_url, "https://runbooks.example/shop?slo=avail#now");
	assert_string_equal(cfg.slos[1].runbook_url, "https://runbooks.example/shop?slo=avail#now");
	assert_string_equal(cfg.slos[2].name, "other");
	assert_null(cfg.slos[2].runbook_url);
	config__free(&cfg);

	expect_error(SLO_HEAD_ANNOTATED("{runbook_url: 'see the wiki'}") RATIO
		     "  timeWindow: [{duration: 28d, isRolling: true}]\n"
		     OCCURRENCES TARGET,
		     "t.yaml:4:30: metadata.annotations.runbook_url: \"see the wiki\": printable "
		     "ASCII without spaces, quotes, backslashes or braces (Prometheus would read "
		     "{{ }} as a template)");
	expect_error(SLO_HEAD_ANNOTATED("{runbook_url: ''}") RATIO
		     "  timeWindow: [{duration: 28d, isRolling: true}]\n"
		     OCCURRENCES TARGET,
		     "t.yaml:4:30: metadata.annotations.runbook_url: a URL of 1 to 1024 bytes");
	expect_error(SLO_HEAD_ANNOTATED("{runbook_url: [a]}") RATIO
		     "  timeWindow: [{duration: 28d, isRolling: true}]\n"
		     OCCURRENCES TARGET,
		     "t.yaml:4:30: metadata.annotations.runbook_url: expected a URL, got a list");
	expect_error(SLO_HEAD_ANNOTATED("[runbook_url]") RATIO
		     "  timeWindow: [{duration: 28d, isRolling: true}]\n"
		     OCCURRENCES TARGET,
		     "t.yaml:4:16: metadata.annotations: expected a mapping of names to strings, "
		     "got a list");
}

/* A slotap document and OpenSLO ones, in any order, in one stream. */
static void test_mixed_stream(void **state)
{
	static const char yaml[] =
		"# OpenSLO first: the slotap document is loaded before it anyway\n"
		"apiVersion: openslo/v1\n"
		"kind: SLO\n"
		"metadata: {name: billing-availability}\n"
		"spec:\n"
		"  service: billing\n"
		"  indicator:\n"
		"    spec:\n"
		"      ratioMetric:\n"
		"        good: {metricSource: {type: slotap, spec: {bad_statuses: 5xx}}}\n"
		"        total: {metricSource: {type: slotap}}\n"
		"  timeWindow: [{duration: 30d, isRolling: true}]\n"
		"  budgetingMethod: Timeslices\n"
		"  objectives: [{target: 0.99, timeSliceWindow: 1m}]\n"
		"---\n"
		"services:\n"
		"  - name: billing\n"
		"    match: {port: 9000}\n"
		"latency_thresholds: [200ms, 1s]\n"
		"request_timeout: 10s\n"
		"slos:\n"
		"  - name: billing-latency\n"
		"    service: billing\n"
		"    sli: latency\n"
		"    threshold: 200ms\n"
		"    objective: 99\n"
		"    window: 30d\n"
		"---\n"
		"apiVersion: openslo/v1\n"
		"kind: Service\n"
		"metadata: {name: billing}\n"
		"---\n";
	struct slotap_config cfg;

	(void)state;
	load_ok(&cfg, yaml);
	assert_int_equal(cfg.n_services, 1);
	assert_int_equal(cfg.request_timeout_ns, 10000000000ull);
	assert_int_equal(cfg.n_thresholds, 2);
	assert_int_equal(cfg.latency_thresholds_ns[0], MS(200));
	assert_int_equal(cfg.latency_thresholds_ns[1], MS(1000));
	assert_int_equal(cfg.n_slos, 2);
	/* the slotap document's slos first */
	assert_string_equal(cfg.slos[0].name, "billing-latency");
	assert_string_equal(cfg.slos[1].name, "billing-availability");
	assert_int_equal(cfg.slos[1].sli, SLO_SLI_AVAILABILITY);
	assert_true(cfg.slos[1].timeslices);
	assert_int_equal(cfg.slos[1].window_s, 30 * 86400);
	config__free(&cfg);

	/* names are unique across both kinds of document */
	expect_error("slos:\n"
		     "  - name: avail\n"
		     "    service: shop\n"
		     "    sli: availability\n"
		     "    objective: 99\n"
		     "    window: 1d\n"
		     "---\n"
		     SLO_HEAD RATIO
		     "  timeWindow: [{duration: 1d, isRolling: true}]\n"
		     OCCURRENCES TARGET,
		     "t.yaml:11:9: duplicate SLO name \"avail\" (the first is at 2:11)");
	/* OpenSLO SLOs are checked against the slotap document's services */
	expect_error(SERVICES "---\n"
		     "apiVersion: openslo/v1\n"
		     "kind: SLO\n"
		     "metadata: {name: x}\n"
		     "spec:\n"
		     "  service: billing\n"
		     "  indicator: {spec: {ratioMetric: {good: {metricSource: {type: slotap}}, total: {metricSource: {type: slotap}}}}}\n"
		     "  timeWindow: [{duration: 1d, isRolling: true}]\n"
		     OCCURRENCES TARGET,
		     "t.yaml:9:12: spec.service: \"billing\" is not one of the services");
	expect_error("services: []\n---\nmax_routes_per_service: 5\n",
		     "t.yaml:2:1: more than one slotap configuration document (the first starts at line 1): the others must be OpenSLO documents (apiVersion: openslo/v1)");
}

/* With OpenSLO documents alone, the slotap settings are the defaults. */
static void test_openslo_only(void **state)
{
	struct slotap_config cfg;

	(void)state;
	load_ok(&cfg, "---\n" SLO_HEAD RATIO
		"  timeWindow: [{duration: 1d, isRolling: true}]\n"
		OCCURRENCES TARGET "...\n");
	assert_int_equal(cfg.n_services, 0);
	assert_int_equal(cfg.max_routes_per_service, 100);
	assert_int_equal(cfg.request_timeout_ns, 30000000000ull);
	assert_int_equal(cfg.n_thresholds, 4);
	assert_int_equal(cfg.latency_thresholds_ns[0], MS(100));
	assert_int_equal(cfg.n_slos, 1);
	assert_string_equal(cfg.slos[0].name, "avail");
	assert_string_equal(cfg.slos[0].service, "shop");
	assert_int_equal(cfg.slos[0].window_s, 86400);
	config__free(&cfg);
}

#define WINDOW_1D	"  timeWindow: [{duration: 1d, isRolling: true}]\n"

/* bad_grpc_codes beside bad_statuses, as in a slos item */
static void test_bad_grpc_codes(void **state)
{
	static const char native[] =
		"slos:\n"
		"  - {name: a, service: s, sli: availability, objective: 99.9, window: 1d,\n"
		"     endpoint: \"grpc p.S/M\", bad_grpc_codes: [UNAVAILABLE, 13]}\n"
		"  - {name: b, service: s, sli: availability, objective: 99.9, window: 1d,\n"
		"     bad_statuses: 503}\n";
	static const char openslo[] =
		"apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n  service: s\n"
		"  indicator:\n    spec:\n      ratioMetric:\n"
		"        bad: {metricSource: {type: slotap, spec: {endpoint: \"grpc p.S/M\",\n"
		"              bad_grpc_codes: [UNAVAILABLE, 13]}}}\n"
		"        total: {metricSource: {type: slotap, spec: {endpoint: \"grpc p.S/M\"}}}\n"
		WINDOW_1D OCCURRENCES "  objectives: [{target: 0.999}]\n"
		"---\n"
		"apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: b}\nspec:\n  service: s\n"
		"  indicator:\n    spec:\n      ratioMetric:\n"
		"        bad: {metricSource: {type: slotap, spec: {bad_statuses: 503}}}\n"
		"        total: {metricSource: {type: slotap}}\n"
		WINDOW_1D OCCURRENCES "  objectives: [{target: 0.999}]\n";
	struct slotap_config a, b;

	(void)state;
	load_ok(&a, native);
	load_ok(&b, openslo);
	assert_int_equal(b.n_slos, 2);
	assert_int_equal(b.slos[0].bad_grpc_codes, (1u << 14) | (1u << 13));
	assert_int_equal(b.slos[1].bad_grpc_codes, GRPC_BAD_CODES_DEFAULT);
	assert_slo_equal(&a.slos[0], &b.slos[0]);
	assert_slo_equal(&a.slos[1], &b.slos[1]);
	config__free(&a);
	config__free(&b);
	expect_error(SLO_HEAD
		     "  indicator:\n"
		     "    spec:\n"
		     "      ratioMetric:\n"
		     "        good: {metricSource: {type: slotap}}\n"
		     "        total: {metricSource: {type: slotap, spec: {bad_grpc_codes: 14}}}\n"
		     WINDOW_1D OCCURRENCES TARGET,
		     "t.yaml:11:53: spec.indicator.spec.ratioMetric.total.metricSource.spec.bad_grpc_codes: belongs on good or bad: total counts every request");
}

static void test_errors(void **state)
{
	(void)state;
	/* what the brief names */
	expect_error(SLO_HEAD
		     "  indicator:\n"
		     "    spec:\n"
		     "      ratioMetric:\n"
		     "        good:\n"
		     "          metricSource:\n"
		     "            type: prometheus\n"
		     "            spec: {query: \"sum(rate(http_requests_total[5m]))\"}\n"
		     "        total:\n"
		     "          metricSource: {type: slotap}\n"
		     WINDOW_1D OCCURRENCES TARGET,
		     "t.yaml:12:19: spec.indicator.spec.ratioMetric.good.metricSource.type: \"prometheus\" cannot be mapped; slotap measures its own SLIs: use type: slotap");
	expect_error(SLO_HEAD LATENCY WINDOW_1D OCCURRENCES
		     "  objectives: [{op: gte, value: 0.3, target: 0.99}]\n",
		     "t.yaml:14:21: spec.objectives[0].op: \"gte\" cannot be mapped: a slotap latency SLO counts the requests answered within value seconds (op: lte or lt)");
	expect_error(SLO_HEAD RATIO WINDOW_1D
		     "  budgetingMethod: RatioTimeslices\n" TARGET,
		     "t.yaml:17:20: spec.budgetingMethod: \"RatioTimeslices\" cannot be mapped: slotap budgets requests (Occurrences) or good minutes (Timeslices), not an average of per-slice ratios");
	expect_error("apiVersion: openslo/v1\n"
		     "kind: SLO\n"
		     "metadata: {name: avail}\n"
		     "spec:\n"
		     RATIO WINDOW_1D OCCURRENCES TARGET,
		     "t.yaml:5:3: spec: missing required key \"service\"");
	expect_error(SLO_HEAD RATIO WINDOW_1D OCCURRENCES TARGET
		     "  sloType: availability\n",
		     "t.yaml:19:3: spec: unknown key \"sloType\"");
	expect_error(SLO_HEAD
		     "  indicatorRef: item-errors\n"
		     WINDOW_1D OCCURRENCES TARGET
		     "---\n"
		     "apiVersion: openslo/v1\n"
		     "kind: SLI\n"
		     "metadata: {name: items-errors}\n"
		     "spec: {thresholdMetric: {metricSource: {type: slotap}}}\n",
		     "t.yaml:7:17: spec.indicatorRef: \"item-errors\" is not the metadata.name of a kind: SLI document in this file");

	/* metric sources */
	expect_error(SLO_HEAD
		     "  indicator:\n"
		     "    spec:\n"
		     "      ratioMetric:\n"
		     "        rawType: success\n"
		     "        raw: {metricSource: {type: slotap}}\n"
		     WINDOW_1D OCCURRENCES TARGET,
		     "t.yaml:10:9: spec.indicator.spec.ratioMetric.rawType: cannot be mapped: slotap counts good and total requests itself, it reads no precomputed ratio: use good (or bad) and total");
	expect_error(SLO_HEAD LATENCY
		     "          metricSourceRef: redshift\n"
		     WINDOW_1D OCCURRENCES TARGET,
		     "t.yaml:12:11: spec.indicator.spec.thresholdMetric.metricSource.metricSourceRef: cannot be mapped: slotap reads no data source, it measures its own SLIs: use type: slotap");
	expect_error(SLO_HEAD
		     "  indicator:\n"
		     "    spec:\n"
		     "      thresholdMetric:\n"
		     "        metricSource: {spec: {endpoint: \"GET /\"}}\n"
		     WINDOW_1D OCCURRENCES TARGET,
		     "t.yaml:10:23: spec.indicator.spec.thresholdMetric.metricSource: missing required key \"type\" (slotap measures its own SLIs: use type: slotap)");
	expect_error(SLO_HEAD
		     "  indicator:\n"
		     "    spec:\n"
		     "      ratioMetric:\n"
		     "        good: {metricSource: {type: slotap, spec: {endpoint: \"GET /a\"}}}\n"
		     "        total: {metricSource: {type: slotap, spec: {endpoint: [\"GET /a\", \"GET /b\"]}}}\n"
		     WINDOW_1D OCCURRENCES TARGET,
		     "t.yaml:11:63: spec.indicator.spec.ratioMetric.total.metricSource.spec.endpoint: differs from spec.indicator.spec.ratioMetric.good.metricSource.spec.endpoint: good (or bad) and total count the same requests");
	expect_error(SLO_HEAD
		     "  indicator:\n"
		     "    spec:\n"
		     "      ratioMetric:\n"
		     "        good: {metricSource: {type: slotap}}\n"
		     "        total: {metricSource: {type: slotap, spec: {bad_statuses: 5xx}}}\n"
		     WINDOW_1D OCCURRENCES TARGET,
		     "t.yaml:11:53: spec.indicator.spec.ratioMetric.total.metricSource.spec.bad_statuses: belongs on good or bad: total counts every request");
	expect_error(SLO_HEAD
		     "  indicator:\n"
		     "    spec:\n"
		     "      ratioMetric:\n"
		     "        good: {metricSource: {type: slotap}}\n"
		     "        bad: {metricSource: {type: slotap}}\n"
		     "        total: {metricSource: {type: slotap}}\n"
		     WINDOW_1D OCCURRENCES TARGET,
		     "t.yaml:11:9: spec.indicator.spec.ratioMetric.bad: good and bad together: give one of them, with total");
	/* slotap's own checks, at the OpenSLO field's path */
	expect_error(SLO_HEAD
		     "  indicator:\n"
		     "    spec:\n"
		     "      thresholdMetric:\n"
		     "        metricSource:\n"
		     "          type: slotap\n"
		     "          spec:\n"
		     "            endpoint: [\"GET /a\", \"FETCH /b\"]\n"
		     WINDOW_1D OCCURRENCES TARGET,
		     "t.yaml:13:34: spec.indicator.spec.thresholdMetric.metricSource.spec.endpoint[1]: \"FETCH /b\": \"FETCH\" is not a method (GET HEAD POST PUT DELETE PATCH OPTIONS CONNECT TRACE, grpc or redis)");
	expect_error(SLO_HEAD
		     "  indicator:\n"
		     "    spec:\n"
		     "      ratioMetric:\n"
		     "        good: {metricSource: {type: slotap, spec: {bad_statuses: [5xx, 503]}}}\n"
		     "        total: {metricSource: {type: slotap}}\n"
		     WINDOW_1D OCCURRENCES TARGET,
		     "t.yaml:10:72: spec.indicator.spec.ratioMetric.good.metricSource.spec.bad_statuses[1]: 503 is already in 5xx");
	expect_error(SLO_HEAD
		     "  indicator:\n"
		     "    spec:\n"
		     "      thresholdMetric:\n"
		     "        metricSource: {type: slotap, spec: {endpoint: [\"GET /a\", \"GET /a\"]}}\n"
		     WINDOW_1D OCCURRENCES TARGET,
		     "t.yaml:10:66: spec.indicator.spec.thresholdMetric.metricSource.spec.endpoint[1]: duplicate endpoint \"GET /a\"");

	/* objectives */
	expect_error(SLO_HEAD RATIO WINDOW_1D OCCURRENCES
		     "  objectives: [{op: lte, target: 0.99}]\n",
		     "t.yaml:18:17: spec.objectives[0].op: is for thresholdMetric SLIs: a ratioMetric objective is its target alone");
	expect_error(SLO_HEAD LATENCY WINDOW_1D OCCURRENCES
		     "  objectives: [{op: lte, value: 300ms, target: 0.99}]\n",
		     "t.yaml:14:33: spec.objectives[0].value: \"300ms\" is not a latency in seconds above zero (e.g. 0.3)");
	expect_error(SLO_HEAD LATENCY WINDOW_1D OCCURRENCES
		     "  objectives: [{op: lte, value: -0.3, target: 0.99}]\n",
		     "t.yaml:14:33: spec.objectives[0].value: -0.3 is not a latency in seconds above zero (e.g. 0.3)");
	expect_error(SLO_HEAD LATENCY WINDOW_1D OCCURRENCES
		     "  objectives: [{value: 0.3, target: 0.99}]\n",
		     "t.yaml:14:16: spec.objectives[0]: missing required key \"op\" (a thresholdMetric objective is op: lte and value: a latency in seconds)");
	expect_error(SLO_HEAD RATIO WINDOW_1D OCCURRENCES
		     "  objectives: [{target: 99.9}]\n",
		     "t.yaml:18:25: spec.objectives[0].target: 99.9 is not a ratio above 0 and below 1 (e.g. 0.995)");
	expect_error(SLO_HEAD RATIO WINDOW_1D OCCURRENCES
		     "  objectives: [{target: 0.99, targetPercent: 99}]\n",
		     "t.yaml:18:31: spec.objectives[0].targetPercent: target and targetPercent together: give one of them");
	expect_error(SLO_HEAD RATIO WINDOW_1D OCCURRENCES
		     "  objectives: [{target: 0.99, timeSliceWindow: 1m}]\n",
		     "t.yaml:18:31: spec.objectives[0].timeSliceWindow: is for budgetingMethod: Timeslices");
	expect_error(SLO_HEAD RATIO WINDOW_1D
		     "  budgetingMethod: Timeslices\n"
		     "  objectives: [{target: 0.99, timeSliceWindow: 5m}]\n",
		     "t.yaml:18:48: spec.objectives[0].timeSliceWindow: \"5m\" cannot be mapped: slotap's time slices are minutes (1m)");
	expect_error(SLO_HEAD RATIO WINDOW_1D
		     "  budgetingMethod: Timeslices\n"
		     "  objectives: [{target: 0.995, timeSliceTarget: 0.99}]\n",
		     "t.yaml:18:49: spec.objectives[0].timeSliceTarget: 0.99 cannot be mapped: a slotap minute is good when it meets the objective's own target; leave timeSliceTarget out or make it the target");

	/* the rest of an SLO */
	expect_error(SLO_HEAD RATIO WINDOW_1D OCCURRENCES TARGET
		     "  alertPolicies:\n"
		     "    - alertPolicyRef: page-on-fast-burn\n",
		     "t.yaml:20:7: spec.alertPolicies[0]: cannot be mapped: slotap alerts on every SLO with its built-in multiwindow burn-rate rules and budget policy conditions; remove alertPolicies");
	expect_error(SLO_HEAD RATIO "  indicatorRef: x\n" WINDOW_1D OCCURRENCES TARGET,
		     "t.yaml:16:3: spec.indicatorRef: indicator and indicatorRef together: give one of them");
	expect_error(SLO_HEAD RATIO OCCURRENCES TARGET,
		     "t.yaml:6:3: spec: missing required key \"timeWindow\" (slotap needs the SLO's window)");
	expect_error(SLO_HEAD RATIO WINDOW_1D TARGET,
		     "t.yaml:6:3: spec: missing required key \"budgetingMethod\"");

	/* documents */
	expect_error("apiVersion: openslo/v1alpha\nkind: SLO\n",
		     "t.yaml:1:13: apiVersion: \"openslo/v1alpha\" is not supported: slotap reads OpenSLO v1 documents (apiVersion: openslo/v1)");
	expect_error("apiVersion: openslo/v1\n"
		     "kind: AlertPolicy\n"
		     "metadata: {name: page}\n"
		     "spec: {conditions: []}\n",
		     "t.yaml:2:7: kind: \"AlertPolicy\" cannot be mapped: slotap alerts on every SLO with its built-in multiwindow burn-rate rules and budget policy conditions");
	expect_error("apiVersion: openslo/v1\n"
		     "kind: DataSource\n"
		     "metadata: {name: prom}\n"
		     "spec: {type: Prometheus}\n",
		     "t.yaml:2:7: kind: \"DataSource\" cannot be mapped: slotap reads no data source, it measures its own SLIs (metricSource type: slotap)");
	expect_error("apiVersion: openslo/v1\nkind: SLO\nspec: {}\n",
		     "t.yaml:1:1: missing required key \"metadata\"");
	expect_error("apiVersion: openslo/v1\n"
		     "kind: Service\n"
		     "metadata: {name: shop, owner: team-a}\n",
		     "t.yaml:3:24: metadata: unknown key \"owner\"");
	expect_error(SLO_HEAD RATIO WINDOW_1D OCCURRENCES TARGET
		     "---\n"
		     "apiVersion: openslo/v1\n"
		     "kind: SLI\n"
		     "metadata: {name: s}\n"
		     "spec: {thresholdMetric: {metricSource: {type: slotap}}}\n"
		     "---\n"
		     "apiVersion: openslo/v1\n"
		     "kind: SLI\n"
		     "metadata: {name: s}\n"
		     "spec: {thresholdMetric: {metricSource: {type: slotap}}}\n",
		     "t.yaml:27:18: metadata.name: duplicate SLI name \"s\" (the first is at 22:18)");
	/* an SLI document nobody refers to is still checked */
	expect_error("apiVersion: openslo/v1\n"
		     "kind: SLI\n"
		     "metadata: {name: s}\n"
		     "spec: {thresholdMetric: {metricSource: {type: datadog}}}\n",
		     "t.yaml:4:47: spec.thresholdMetric.metricSource.type: \"datadog\" cannot be mapped; slotap measures its own SLIs: use type: slotap");
	/* an SLI referred to before it comes is blamed where it is */
	expect_error(SLO_HEAD "  indicatorRef: s\n" WINDOW_1D OCCURRENCES TARGET
		     "---\n"
		     "apiVersion: openslo/v1\n"
		     "kind: SLI\n"
		     "metadata: {name: s}\n"
		     "spec: {ratioMetric: {good: {metricSource: {type: slotap}}}}\n",
		     "t.yaml:15:21: spec.ratioMetric: missing required key \"total\"");
}

/* docs/examples/openslo-shop.yaml, which the README points to, maps as it says */
static void test_example_file(void **state)
{
	static const char rel[] = "tests/unit/test_openslo.c";
	struct slotap_config cfg;
	char path[4096], err[512] = "";
	size_t len = strlen(__FILE__) - strlen(rel);
	FILE *f;

	(void)state;
	/* __FILE__ is as make passed it: relative to the repository */
	assert_true(strlen(__FILE__) >= strlen(rel));
	snprintf(path, sizeof(path), "%.*sdocs/examples/openslo-shop.yaml",
		 (int)len, __FILE__);
	f = fopen(path, "r");
	if (!f)
		skip();
	fclose(f);
	assert_int_equal(config__load_file(&cfg, path, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(cfg.n_services, 1);
	assert_int_equal(cfg.n_slos, 4);
	assert_string_equal(cfg.slos[0].name, "shop-availability");
	assert_true(status_bad(&cfg.slos[0], 429));
	assert_string_equal(cfg.slos[1].name, "item-latency-p95");
	assert_int_equal(cfg.slos[1].threshold_ns, MS(500));
	assert_int_equal(cfg.slos[1].n_endpoints, 2);
	assert_string_equal(cfg.slos[2].name, "item-latency-p75");
	assert_int_equal(cfg.slos[2].threshold_ns, MS(250));
	assert_string_equal(cfg.slos[3].name, "orders-availability");
	assert_int_equal(cfg.slos[3].window, SLO_WINDOW_CALENDAR_MONTH);
	assert_true(cfg.slos[3].timeslices);
	assert_string_equal(cfg.slos[3].endpoints[0], "POST /api/orders/{order}");
	/* both thresholds were bucket bounds already */
	assert_int_equal(cfg.n_thresholds, 4);
	config__free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ratio_metric_is_availability),
		cmocka_unit_test(test_threshold_metric_is_latency),
		cmocka_unit_test(test_indicator_ref),
		cmocka_unit_test(test_calendar_windows),
		cmocka_unit_test(test_multiple_objectives),
		cmocka_unit_test(test_runbook_url),
		cmocka_unit_test(test_mixed_stream),
		cmocka_unit_test(test_openslo_only),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_bad_grpc_codes),
		cmocka_unit_test(test_example_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
