// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The Alertmanager push's set of alerts: starts, refreshes, ends, the
 * resolved ones kept and then forgotten, the bound, and the JSON the v2 API
 * takes (read back with cJSON). The thread is not started: no network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "alert_push.h"
#include "http_push.h"

#define T0	1780000000.0	/* 2026-05-28T20:26:40Z */

static struct alert_push *new_push(void)
{
	const char *urls[] = { "http://user:secret@127.0.0.1:9093/" };
	char err[256];
	struct alert_push *p = alert_push__new(urls, 1, err, sizeof(err));

	assert_non_null(p);
	return p;
}

static struct alert_push_item item(const char *slo, const char *condition, const char *broken)
{
	return (struct alert_push_item){
		.alertname = "SlotapErrorBudgetBurn", .slo = slo, .service = "shop", .endpoint = "",
		.severity = "page", .condition = condition, .sli = "availability",
		.window = "28d", .summary = "s", .description = "d", .broken_by = broken,
		.budget_remaining = "50%",
	};
}

/* The payload, parsed; *n: alerts in it. */
static cJSON *payload(struct alert_push *p, double now, size_t *n)
{
	char *s = alert_push__payload(p, now, n);
	cJSON *j;

	assert_non_null(s);
	j = cJSON_Parse(s);
	free(s);
	assert_non_null(j);
	assert_true(cJSON_IsArray(j));
	assert_int_equal(cJSON_GetArraySize(j), *n);
	return j;
}

static cJSON *find(cJSON *arr, const char *slo, const char *condition)
{
	cJSON *x;

	cJSON_ArrayForEach(x, arr) {
		cJSON *l = cJSON_GetObjectItem(x, "labels");

		if (!strcmp(cJSON_GetObjectItem(l, "slo")->valuestring, slo) &&
		    !strcmp(cJSON_GetObjectItem(l, "condition")->valuestring, condition))
			return x;
	}
	return NULL;
}

static const char *str(cJSON *o, const char *a, const char *b)
{
	cJSON *x = cJSON_GetObjectItem(o, a);

	x = b ? cJSON_GetObjectItem(x, b) : x;
	return x ? x->valuestring : NULL;
}

static void test_start_refresh_resolve(void **state)
{
	struct alert_push *p = new_push();
	struct alert_push_item a = item("avail", "burn_rate_1h_5m_14.4", "20");
	struct alert_push_item b = item("avail", "budget_exhausted", "20");
	struct alert_push_item both[2] = { a, b };
	size_t n;
	cJSON *j, *x;

	(void)state;
	alert_push__update(p, both, 2, 0, T0);
	j = payload(p, T0, &n);
	assert_int_equal(n, 2);
	x = find(j, "avail", "burn_rate_1h_5m_14.4");
	assert_non_null(x);
	assert_string_equal(str(x, "labels", "alertname"), "SlotapErrorBudgetBurn");
	assert_string_equal(str(x, "labels", "service"), "shop");
	assert_string_equal(str(x, "labels", "slo_window"), "28d");
	assert_string_equal(str(x, "labels", "severity"), "page");
	/* an empty value is left out, as Alertmanager drops empty labels anyway */
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(x, "labels"), "endpoint"));
	assert_string_equal(str(x, "annotations", "broken_by"), "20");
	assert_string_equal(str(x, "annotations", "budget_remaining"), "50%");
	/* an annotation is no label: it may change without making another alert */
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(x, "labels"), "broken_by"));
	assert_string_equal(str(x, "startsAt", NULL), "2026-05-28T20:26:40.000Z");
	/* active: valid for 4 resends of 60 s */
	assert_string_equal(str(x, "endsAt", NULL), "2026-05-28T20:30:40.000Z");
	cJSON_Delete(j);

	/* 10 s later, a refreshed figure: same alert, same start, new annotation */
	a.broken_by = "25";
	alert_push__update(p, (struct alert_push_item[]){ a, b }, 2, 0, T0 + 10);
	j = payload(p, T0 + 10, &n);
	assert_int_equal(n, 2);
	x = find(j, "avail", "burn_rate_1h_5m_14.4");
	assert_string_equal(str(x, "annotations", "broken_by"), "25");
	assert_string_equal(str(x, "startsAt", NULL), "2026-05-28T20:26:40.000Z");
	assert_string_equal(str(x, "endsAt", NULL), "2026-05-28T20:30:50.000Z");
	cJSON_Delete(j);

	/* the burn-rate alert ends: sent with its end, the other stays active */
	alert_push__update(p, &b, 1, 0, T0 + 20);
	j = payload(p, T0 + 30, &n);
	assert_int_equal(n, 2);
	x = find(j, "avail", "burn_rate_1h_5m_14.4");
	assert_string_equal(str(x, "endsAt", NULL), "2026-05-28T20:27:00.000Z");
	x = find(j, "avail", "budget_exhausted");
	assert_string_equal(str(x, "endsAt", NULL), "2026-05-28T20:31:10.000Z");
	cJSON_Delete(j);

	/* it comes back: a new start, no end */
	alert_push__update(p, both, 2, 0, T0 + 40);
	j = payload(p, T0 + 40, &n);
	assert_int_equal(n, 2);
	x = find(j, "avail", "burn_rate_1h_5m_14.4");
	assert_string_equal(str(x, "startsAt", NULL), "2026-05-28T20:27:20.000Z");
	assert_string_equal(str(x, "endsAt", NULL), "2026-05-28T20:31:20.000Z");
	cJSON_Delete(j);
	alert_push__free(p);
}

/* Resolved alerts are resent for 15 minutes, then forgotten: counted, never taken here. */
static void test_resolved_kept_then_dropped(void **state)
{
	struct alert_push *p = new_push();
	struct alert_push_item a = item("avail", "budget_exhausted", "3");
	char *m = NULL;
	size_t n, len;
	FILE *out;

	(void)state;
	alert_push__update(p, &a, 1, 0, T0);
	alert_push__update(p, NULL, 0, 0, T0 + 10);
	cJSON_Delete(payload(p, T0 + 10, &n));
	assert_int_equal(n, 1);
	alert_push__update(p, NULL, 0, 0, T0 + 10 + 899);
	cJSON_Delete(payload(p, T0 + 909, &n));
	assert_int_equal(n, 1);
	alert_push__update(p, NULL, 0, 0, T0 + 10 + 900);
	cJSON_Delete(payload(p, T0 + 910, &n));
	assert_int_equal(n, 0);

	out = open_memstream(&m, &len);
	alert_push__write_metrics(p, out);
	fclose(out);
	/* the URL's password never reaches a label */
	assert_non_null(strstr(m, "slotap_alertmanager_alerts_sent_total{alertmanager="
				  "\"http://127.0.0.1:9093/api/v2/alerts\"} 0\n"));
	assert_null(strstr(m, "secret"));
	assert_non_null(strstr(m, "slotap_alertmanager_alerts_dropped_total{reason=\"undelivered\"} 1\n"));
	assert_non_null(strstr(m, "slotap_alertmanager_alerts{state=\"active\"} 0\n"));
	free(m);
	alert_push__free(p);
}

/* Past ALERT_PUSH_ALERTS_MAX alerts, the rest are counted, not kept. */
static void test_bound(void **state)
{
	struct alert_push *p = new_push();
	struct alert_push_item *items = calloc(ALERT_PUSH_ALERTS_MAX + 5, sizeof(*items));
	char (*names)[16] = calloc(ALERT_PUSH_ALERTS_MAX + 5, sizeof(*names));
	char *m = NULL;
	size_t n, len;
	FILE *out;

	(void)state;
	for (int i = 0; i < ALERT_PUSH_ALERTS_MAX + 5; i++) {
		snprintf(names[i], sizeof(names[i]), "slo%d", i);
		items[i] = item(names[i], "budget_exhausted", "1");
	}
	alert_push__update(p, items, ALERT_PUSH_ALERTS_MAX + 5, 7, T0);
	cJSON_Delete(payload(p, T0, &n));
	assert_int_equal(n, ALERT_PUSH_ALERTS_MAX);
	out = open_memstream(&m, &len);
	alert_push__write_metrics(p, out);
	fclose(out);
	assert_non_null(strstr(m, "slotap_alertmanager_alerts_dropped_total{reason=\"too_many\"} 12\n"));
	free(m);
	free(items);
	free(names);
	alert_push__free(p);
}

static void test_bad_urls(void **state)
{
	const char *bad[] = { "127.0.0.1:9093", "ftp://x/", "http://", "http://user@/x" };
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_null(alert_push__new(&bad[i], 1, err, sizeof(err)));
		assert_non_null(strstr(err, "want an http:// or https:// URL"));
	}
}

/* A refused URL's password never reaches the error message (nor the log). */
static void test_bad_url_password_hidden(void **state)
{
	const char *bad[] = { "http://am:s3cret@", "https://u:s3cret@/x", "am:s3cret@host:9093" };
	char err[256], buf[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_null(alert_push__new(&bad[i], 1, err, sizeof(err)));
		assert_null(strstr(err, "s3cret"));
		assert_non_null(strstr(err, "***@"));
	}
	assert_string_equal(http_push__shown("http://a:b@h/x", buf, sizeof(buf)), "http://***@h/x");
	assert_string_equal(http_push__shown("http://h/x", buf, sizeof(buf)), "http://h/x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_refresh_resolve),
		cmocka_unit_test(test_resolved_kept_then_dropped),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_bad_urls),
		cmocka_unit_test(test_bad_url_password_hidden),
	};
	int ret;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return ret;
}
