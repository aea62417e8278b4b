// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `slotap status`: what it reads of an exposition and how it shows it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include "status.h"

/* 2 SLOs and 4 endpoints, as the agent writes them */
static const char expo[] =
	"# HELP http_server_request_duration_seconds Duration of HTTP server requests: from the return of the syscall that read the request's first byte to the return of the syscall that wrote the response's first byte.\n"
	"# TYPE http_server_request_duration_seconds histogram\n"
	"http_server_request_duration_seconds_bucket{service_name=\"billing\",http_request_method=\"GET\",http_route=\"/invoices/{id}\",http_response_status_code=\"200\",le=\"0.0123\"} 50\n"
	"http_server_request_duration_seconds_bucket{service_name=\"billing\",http_request_method=\"GET\",http_route=\"/invoices/{id}\",http_response_status_code=\"200\",le=\"0.1\"} 50\n"
	"http_server_request_duration_seconds_bucket{service_name=\"billing\",http_request_method=\"GET\",http_route=\"/invoices/{id}\",http_response_status_code=\"200\",le=\"0.3\"} 50\n"
	"http_server_request_duration_seconds_bucket{service_name=\"billing\",http_request_method=\"GET\",http_route=\"/invoices/{id}\",http_response_status_code=\"200\",le=\"1\"} 50\n"
	"http_server_request_duration_seconds_bucket{service_name=\"billing\",http_request_method=\"GET\",http_route=\"/invoices/{id}\",http_response_status_code=\"200\",le=\"+Inf\"} 50\n"
	"http_server_request_duration_seconds_sum{service_name=\"billing\",http_request_method=\"GET\",http_route=\"/invoices/{id}\",http_response_status_code=\"200\"} 0.5\n"
	"http_server_request_duration_seconds_count{service_name=\"billing\",http_request_method=\"GET\",http_route=\"/invoices/{id}\",http_response_status_code=\"200\"} 50\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/api/items/{id}\",http_response_status_code=\"200\",le=\"0.0456\"} 900\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/api/items/{id}\",http_response_status_code=\"200\",le=\"0.1\"} 900\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/api/items/{id}\",http_response_status_code=\"200\",le=\"0.3\"} 900\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/api/items/{id}\",http_response_status_code=\"200\",le=\"1\"} 900\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/api/items/{id}\",http_response_status_code=\"200\",le=\"+Inf\"} 900\n"
	"http_server_request_duration_seconds_sum{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/api/items/{id}\",http_response_status_code=\"200\"} 40.5\n"
	"http_server_request_duration_seconds_count{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/api/items/{id}\",http_response_status_code=\"200\"} 900\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/api/items/{id}\",http_response_status_code=\"404\",le=\"0.0301\"} 10\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/api/items/{id}\",http_response_status_code=\"404\",le=\"0.1\"} 10\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/api/items/{id}\",http_response_status_code=\"404\",le=\"0.3\"} 10\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/api/items/{id}\",http_response_status_code=\"404\",le=\"1\"} 10\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/api/items/{id}\",http_response_status_code=\"404\",le=\"+Inf\"} 10\n"
	"http_server_request_duration_seconds_sum{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/api/items/{id}\",http_response_status_code=\"404\"} 0.3\n"
	"http_server_request_duration_seconds_count{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/api/items/{id}\",http_response_status_code=\"404\"} 10\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/api/items/{id}\",http_response_status_code=\"500\",le=\"0.0467\"} 90\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/api/items/{id}\",http_response_status_code=\"500\",le=\"0.1\"} 90\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/api/items/{id}\",http_response_status_code=\"500\",le=\"0.3\"} 90\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/api/items/{id}\",http_response_status_code=\"500\",le=\"1\"} 90\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/api/items/{id}\",http_response_status_code=\"500\",le=\"+Inf\"} 90\n"
	"http_server_request_duration_seconds_sum{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/api/items/{id}\",http_response_status_code=\"500\"} 4.2\n"
	"http_server_request_duration_seconds_count{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/api/items/{id}\",http_response_status_code=\"500\"} 90\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/healthz\",http_response_status_code=\"200\",le=\"4.8828e-05\"} 5000\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/healthz\",http_response_status_code=\"200\",le=\"0.1\"} 5000\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/healthz\",http_response_status_code=\"200\",le=\"0.3\"} 5000\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/healthz\",http_response_status_code=\"200\",le=\"1\"} 5000\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/healthz\",http_response_status_code=\"200\",le=\"+Inf\"} 5000\n"
	"http_server_request_duration_seconds_sum{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/healthz\",http_response_status_code=\"200\"} 0.25\n"
	"http_server_request_duration_seconds_count{service_name=\"shop\",http_request_method=\"GET\",http_route=\"/healthz\",http_response_status_code=\"200\"} 5000\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"POST\",http_route=\"/api/orders\",http_response_status_code=\"201\",le=\"0.1\"} 0\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"POST\",http_route=\"/api/orders\",http_response_status_code=\"201\",le=\"0.297\"} 200\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"POST\",http_route=\"/api/orders\",http_response_status_code=\"201\",le=\"0.3\"} 200\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"POST\",http_route=\"/api/orders\",http_response_status_code=\"201\",le=\"1\"} 200\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"POST\",http_route=\"/api/orders\",http_response_status_code=\"201\",le=\"+Inf\"} 200\n"
	"http_server_request_duration_seconds_sum{service_name=\"shop\",http_request_method=\"POST\",http_route=\"/api/orders\",http_response_status_code=\"201\"} 59.2\n"
	"http_server_request_duration_seconds_count{service_name=\"shop\",http_request_method=\"POST\",http_route=\"/api/orders\",http_response_status_code=\"201\"} 200\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"POST\",http_route=\"/api/orders\",http_response_status_code=\"503\",le=\"0.1\"} 0\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"POST\",http_route=\"/api/orders\",http_response_status_code=\"503\",le=\"0.3\"} 0\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"POST\",http_route=\"/api/orders\",http_response_status_code=\"503\",le=\"0.4\"} 2\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"POST\",http_route=\"/api/orders\",http_response_status_code=\"503\",le=\"1\"} 2\n"
	"http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method=\"POST\",http_route=\"/api/orders\",http_response_status_code=\"503\",le=\"+Inf\"} 2\n"
	"http_server_request_duration_seconds_sum{service_name=\"shop\",http_request_method=\"POST\",http_route=\"/api/orders\",http_response_status_code=\"503\"} 0.8\n"
	"http_server_request_duration_seconds_count{service_name=\"shop\",http_request_method=\"POST\",http_route=\"/api/orders\",http_response_status_code=\"503\"} 2\n"
	"# HELP slotap_events_lost_total Requests or responses not measured, by reason.\n"
	"# TYPE slotap_events_lost_total counter\n"
	"slotap_events_lost_total{reason=\"ringbuf_full\"} 0\n"
	"# HELP slotap_slo_events_total Requests an SLO counted, good or bad, since the agent started.\n"
	"# TYPE slotap_slo_events_total counter\n"
	/* since the agent started: status shows the window's events below instead */
	"slotap_slo_events_total{slo=\"shop-availability\",service=\"shop\",result=\"good\"} 7\n"
	"slotap_slo_events_total{slo=\"shop-availability\",service=\"shop\",result=\"bad\"} 0\n"
	"# HELP slotap_slo_window_events Events in the SLO's window.\n"
	"# TYPE slotap_slo_window_events gauge\n"
	"slotap_slo_window_events{slo=\"shop-availability\",service=\"shop\",result=\"good\"} 50\n"
	"slotap_slo_window_events{slo=\"shop-availability\",service=\"shop\",result=\"bad\"} 1\n"
	"slotap_slo_window_events{slo=\"shop-latency\",service=\"shop\",result=\"good\"} 1000\n"
	"slotap_slo_window_events{slo=\"shop-latency\",service=\"shop\",result=\"bad\"} 10\n"
	"slotap_slo_events_total{slo=\"shop-latency\",service=\"shop\",result=\"good\"} 9\n"
	"slotap_slo_events_total{slo=\"shop-latency\",service=\"shop\",result=\"bad\"} 1\n"
	"# HELP slotap_slo_objective_ratio The SLO's objective.\n"
	"# TYPE slotap_slo_objective_ratio gauge\n"
	"slotap_slo_objective_ratio{slo=\"shop-availability\",service=\"shop\"} 0.995\n"
	"slotap_slo_objective_ratio{slo=\"shop-latency\",service=\"shop\"} 0.95\n"
	"# HELP slotap_slo_sli_ratio Good over total events in the SLO's window.\n"
	"# TYPE slotap_slo_sli_ratio gauge\n"
	"slotap_slo_sli_ratio{slo=\"shop-availability\",service=\"shop\",window=\"28d\"} 0.980392157\n"
	"slotap_slo_sli_ratio{slo=\"shop-latency\",service=\"shop\",window=\"4w\"} 0.99009901\n"
	"# HELP slotap_slo_error_budget_remaining_ratio Fraction of the window's error budget left; negative once overspent.\n"
	"# TYPE slotap_slo_error_budget_remaining_ratio gauge\n"
	"slotap_slo_error_budget_remaining_ratio{slo=\"shop-availability\",service=\"shop\"} -2.92156863\n"
	"slotap_slo_error_budget_remaining_ratio{slo=\"shop-latency\",service=\"shop\"} 0.801980198\n"
	"# HELP slotap_slo_burn_rate Error rate over the window divided by the error budget (1 spends it in one SLO window).\n"
	"# TYPE slotap_slo_burn_rate gauge\n"
	"slotap_slo_burn_rate{slo=\"shop-availability\",service=\"shop\",window=\"5m\"} 10\n"
	"slotap_slo_burn_rate{slo=\"shop-availability\",service=\"shop\",window=\"30m\"} 5\n"
	"slotap_slo_burn_rate{slo=\"shop-availability\",service=\"shop\",window=\"1h\"} 3.92156863\n"
	"slotap_slo_burn_rate{slo=\"shop-availability\",service=\"shop\",window=\"2h\"} 3\n"
	"slotap_slo_burn_rate{slo=\"shop-availability\",service=\"shop\",window=\"6h\"} 2.5\n"
	"slotap_slo_burn_rate{slo=\"shop-availability\",service=\"shop\",window=\"1d\"} 2\n"
	"slotap_slo_burn_rate{slo=\"shop-availability\",service=\"shop\",window=\"3d\"} 1.5\n"
	"slotap_slo_burn_rate{slo=\"shop-latency\",service=\"shop\",window=\"5m\"} 0\n"
	"slotap_slo_burn_rate{slo=\"shop-latency\",service=\"shop\",window=\"30m\"} 0.1\n"
	"slotap_slo_burn_rate{slo=\"shop-latency\",service=\"shop\",window=\"1h\"} 0.2\n"
	"slotap_slo_burn_rate{slo=\"shop-latency\",service=\"shop\",window=\"2h\"} 0.25\n"
	"slotap_slo_burn_rate{slo=\"shop-latency\",service=\"shop\",window=\"6h\"} 0.3\n"
	"slotap_slo_burn_rate{slo=\"shop-latency\",service=\"shop\",window=\"1d\"} 0.35\n"
	"slotap_slo_burn_rate{slo=\"shop-latency\",service=\"shop\",window=\"3d\"} 0.4\n"
	"# HELP slotap_slo_budget_exhaustion_seconds Forecast seconds until the budget is spent at the 1h burn rate (+Inf: not burning).\n"
	"# TYPE slotap_slo_budget_exhaustion_seconds gauge\n"
	"slotap_slo_budget_exhaustion_seconds{slo=\"shop-availability\",service=\"shop\"} 0\n"
	"slotap_slo_budget_exhaustion_seconds{slo=\"shop-latency\",service=\"shop\"} +Inf\n"
	"# HELP slotap_slo_alert_active 1 while a multiwindow burn-rate rule or an error budget policy condition holds.\n"
	"# TYPE slotap_slo_alert_active gauge\n"
	"slotap_slo_alert_active{slo=\"shop-availability\",service=\"shop\",severity=\"page\",condition=\"burn_rate_1h_5m_14.4\"} 0\n"
	"slotap_slo_alert_active{slo=\"shop-availability\",service=\"shop\",severity=\"page\",condition=\"burn_rate_6h_30m_6\"} 0\n"
	"slotap_slo_alert_active{slo=\"shop-availability\",service=\"shop\",severity=\"ticket\",condition=\"burn_rate_1d_2h_3\"} 0\n"
	"slotap_slo_alert_active{slo=\"shop-availability\",service=\"shop\",severity=\"ticket\",condition=\"burn_rate_3d_6h_1\"} 1\n"
	"slotap_slo_alert_active{slo=\"shop-availability\",service=\"shop\",severity=\"page\",condition=\"budget_exhausted\"} 1\n"
	"slotap_slo_alert_active{slo=\"shop-availability\",service=\"shop\",severity=\"ticket\",condition=\"budget_70pct_of_period\"} 1\n"
	"slotap_slo_alert_active{slo=\"shop-availability\",service=\"shop\",severity=\"page\",condition=\"budget_30pct_in_24h\"} 0\n"
	"slotap_slo_alert_active{slo=\"shop-availability\",service=\"shop\",severity=\"ticket\",condition=\"budget_50pct_in_7d\"} 0\n"
	"slotap_slo_alert_active{slo=\"shop-latency\",service=\"shop\",severity=\"page\",condition=\"burn_rate_1h_5m_14.4\"} 0\n"
	"slotap_slo_alert_active{slo=\"shop-latency\",service=\"shop\",severity=\"page\",condition=\"burn_rate_6h_30m_6\"} 0\n"
	"slotap_slo_alert_active{slo=\"shop-latency\",service=\"shop\",severity=\"ticket\",condition=\"burn_rate_1d_2h_3\"} 0\n"
	"slotap_slo_alert_active{slo=\"shop-latency\",service=\"shop\",severity=\"ticket\",condition=\"burn_rate_3d_6h_1\"} 0\n"
	"slotap_slo_alert_active{slo=\"shop-latency\",service=\"shop\",severity=\"page\",condition=\"budget_exhausted\"} 0\n"
	"slotap_slo_alert_active{slo=\"shop-latency\",service=\"shop\",severity=\"ticket\",condition=\"budget_70pct_of_period\"} 0\n"
	"slotap_slo_alert_active{slo=\"shop-latency\",service=\"shop\",severity=\"page\",condition=\"budget_30pct_in_24h\"} 0\n"
	"slotap_slo_alert_active{slo=\"shop-latency\",service=\"shop\",severity=\"ticket\",condition=\"budget_50pct_in_7d\"} 0\n"
	"# HELP slotap_uptime_seconds Seconds since the agent started.\n"
	"# TYPE slotap_uptime_seconds gauge\n"
	"slotap_uptime_seconds 3600\n"
	;

static char *render(const char *text, size_t len, bool json)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *out = open_memstream(&buf, &n);

	assert_non_null(out);
	assert_int_equal(status__render(text, len, json, out), 0);
	assert_int_equal(fclose(out), 0);
	return buf;
}

/* The line of text that holds needle, as a new string. */
static char *line_with(const char *text, const char *needle)
{
	const char *p = strstr(text, needle), *b, *e;

	if (!p)
		fail_msg("missing: %s", needle);
	for (b = p; b > text && b[-1] != '\n'; b--)
		;
	e = strchrnul(p, '\n');
	return strndup(b, e - b);
}

static void assert_has(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		fail_msg("missing \"%s\" in:\n%s", needle, text);
}

static void assert_in_order(const char *text, const char *const *needles, size_t n)
{
	const char *p = text;

	for (size_t i = 0; i < n; i++) {
		const char *q = strstr(p, needles[i]);

		if (!q)
			fail_msg("\"%s\" missing or out of order in:\n%s", needles[i], text);
		p = q + strlen(needles[i]);
	}
}

static void table_cells(void **state)
{
	char *text = render(expo, sizeof(expo) - 1, false), *row;
	const char *least, *slow;

	(void)state;
	row = line_with(text, "shop-availability");
	assert_has(row, " shop ");
	assert_has(row, "98.04% (28d)");
	assert_has(row, "99.5%");
	assert_has(row, "-292.16%");
	assert_has(row, "3.92");	/* burn 1h, 6h, 1d, 3d */
	assert_in_order(row, (const char *[]){ "3.92", "2.50", "2.00", "1.50" }, 4);
	assert_has(row, "exhausted");
	assert_has(row, "burn_rate_3d_6h_1,budget_exhausted,budget_70pct_of_period");
	free(row);

	row = line_with(text, "shop-latency");
	assert_has(row, "99.01% (4w)");
	assert_has(row, "95%");
	assert_has(row, "80.20%");
	assert_in_order(row, (const char *[]){ "0.20", "0.30", "0.35", "0.40", " - ", " ok" }, 6);
	free(row);

	/* the columns line up: each row's SLI cell ends where its header does */
	{
		char *head = line_with(text, "SLI (WINDOW)"), *r1 = line_with(text, "shop-availability"),
		     *r2 = line_with(text, "shop-latency");
		size_t end = strstr(head, "SLI (WINDOW)") - head + strlen("SLI (WINDOW)");

		assert_memory_equal(r1 + end - 5, "(28d)", 5);
		assert_memory_equal(r2 + end - 4, "(4w)", 4);
		assert_int_equal(strstr(head, "ALERTS") - head, strstr(r1, "burn_rate_3d") - r1);
		free(head);
		free(r1);
		free(r2);
	}

	least = strstr(text, "Least available endpoints\n");
	slow = strstr(text, "Slowest endpoints\n");
	assert_non_null(least);
	assert_non_null(slow);
	assert_true(least < slow);
	assert_in_order(least, (const char *[]){ "/api/items/{id}", "91.00%", "90", "1000",
		"/api/orders", "99.01%", "202", "/healthz", "100.00%", "5000",
		"/invoices/{id}", "100.00%", "50", "Slowest endpoints" }, 14);
	assert_in_order(slow, (const char *[]){ "/api/orders", "297.0ms", "202",
		"/api/items/{id}", "45.0ms", "1000", "/invoices/{id}", "10.0ms", "50",
		"/healthz", "50µs", "5000" }, 12);
	free(text);
}

static cJSON *get(const cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v)
		fail_msg("no \"%s\"", key);
	return v;
}

static double num(const cJSON *o, const char *key)
{
	cJSON *v = get(o, key);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static void json_parses_back(void **state)
{
	char *text = render(expo, sizeof(expo) - 1, true);
	cJSON *root = cJSON_Parse(text), *slos, *s, *alerts, *least, *slow, *e;

	(void)state;
	assert_non_null(root);
	slos = get(root, "slos");
	assert_int_equal(cJSON_GetArraySize(slos), 2);

	s = cJSON_GetArrayItem(slos, 0);
	assert_string_equal(get(s, "slo")->valuestring, "shop-availability");
	assert_string_equal(get(s, "service")->valuestring, "shop");
	assert_string_equal(get(s, "window")->valuestring, "28d");
	assert_float_equal(num(s, "sli"), 0.980392157, 1e-12);
	assert_float_equal(num(s, "objective"), 0.995, 1e-12);
	assert_float_equal(num(s, "budget_remaining"), -2.92156863, 1e-12);
	assert_float_equal(num(get(s, "burn_rate"), "1h"), 3.92156863, 1e-12);
	assert_float_equal(num(get(s, "burn_rate"), "6h"), 2.5, 0);
	assert_float_equal(num(get(s, "burn_rate"), "1d"), 2, 0);
	assert_float_equal(num(get(s, "burn_rate"), "3d"), 1.5, 0);
	assert_float_equal(num(get(s, "burn_rate"), "5m"), 10, 0);
	assert_float_equal(num(s, "exhaustion_seconds"), 0, 0);
	alerts = get(s, "alerts");
	assert_int_equal(cJSON_GetArraySize(alerts), 3);
	assert_string_equal(cJSON_GetArrayItem(alerts, 0)->valuestring, "burn_rate_3d_6h_1");
	assert_string_equal(cJSON_GetArrayItem(alerts, 1)->valuestring, "budget_exhausted");
	assert_string_equal(cJSON_GetArrayItem(alerts, 2)->valuestring, "budget_70pct_of_period");
	assert_float_equal(num(get(s, "events"), "good"), 50, 0);
	assert_float_equal(num(get(s, "events"), "bad"), 1, 0);

	s = cJSON_GetArrayItem(slos, 1);
	assert_string_equal(get(s, "slo")->valuestring, "shop-latency");
	assert_true(cJSON_IsNull(get(s, "exhaustion_seconds")));	/* +Inf */
	assert_int_equal(cJSON_GetArraySize(get(s, "alerts")), 0);
	assert_float_equal(num(get(s, "events"), "good"), 1000, 0);

	least = get(root, "least_available");
	assert_int_equal(cJSON_GetArraySize(least), 4);
	e = cJSON_GetArrayItem(least, 0);
	assert_string_equal(get(e, "service")->valuestring, "shop");
	assert_string_equal(get(e, "method")->valuestring, "GET");
	assert_string_equal(get(e, "route")->valuestring, "/api/items/{id}");
	assert_float_equal(num(e, "availability"), 0.91, 1e-12);
	assert_float_equal(num(e, "requests"), 1000, 0);
	assert_float_equal(num(e, "errors_5xx"), 90, 0);
	assert_string_equal(get(cJSON_GetArrayItem(least, 1), "route")->valuestring, "/api/orders");
	assert_string_equal(get(cJSON_GetArrayItem(least, 2), "route")->valuestring, "/healthz");
	assert_string_equal(get(cJSON_GetArrayItem(least, 3), "route")->valuestring, "/invoices/{id}");

	slow = get(root, "slowest");
	assert_int_equal(cJSON_GetArraySize(slow), 4);
	e = cJSON_GetArrayItem(slow, 0);
	assert_string_equal(get(e, "route")->valuestring, "/api/orders");
	assert_float_equal(num(e, "mean_seconds"), 60.0 / 202, 1e-12);
	assert_float_equal(num(e, "requests"), 202, 0);
	assert_string_equal(get(cJSON_GetArrayItem(slow, 3), "route")->valuestring, "/healthz");

	cJSON_Delete(root);
	free(text);
}

#define SLO_LABELS "{slo=\"s\",service=\"svc\""

static void nan_and_inf(void **state)
{
	static const char text[] =
		"slotap_slo_objective_ratio" SLO_LABELS "} 0.999\n"
		"slotap_slo_sli_ratio" SLO_LABELS ",window=\"28d\"} NaN\n"
		"slotap_slo_error_budget_remaining_ratio" SLO_LABELS "} NaN\n"
		"slotap_slo_burn_rate" SLO_LABELS ",window=\"1h\"} NaN\n"
		"slotap_slo_burn_rate" SLO_LABELS ",window=\"6h\"} +Inf\n"
		"slotap_slo_burn_rate" SLO_LABELS ",window=\"1d\"} -Inf\n"
		"slotap_slo_budget_exhaustion_seconds" SLO_LABELS "} +Inf\n"
		"slotap_slo_alert_active" SLO_LABELS ",severity=\"page\",condition=\"budget_exhausted\"} NaN\n";
	char *out = render(text, sizeof(text) - 1, false), *row;
	cJSON *root, *s;

	(void)state;
	row = line_with(out, "svc");
	assert_has(row, "- (28d)");
	assert_has(row, "99.9%");
	assert_in_order(row, (const char *[]){ "99.9%", " - ", " - ", " inf ", " -inf ", " - ", " - ", " ok" }, 8);
	free(row);
	assert_has(out, "No requests measured yet.");
	free(out);

	out = render(text, sizeof(text) - 1, true);
	root = cJSON_Parse(out);
	assert_non_null(root);
	s = cJSON_GetArrayItem(get(root, "slos"), 0);
	assert_true(cJSON_IsNull(get(s, "sli")));
	assert_true(cJSON_IsNull(get(s, "budget_remaining")));
	assert_true(cJSON_IsNull(get(get(s, "burn_rate"), "1h")));
	assert_true(cJSON_IsNull(get(get(s, "burn_rate"), "6h")));
	assert_true(cJSON_IsNull(get(s, "exhaustion_seconds")));
	assert_true(cJSON_IsNull(get(get(s, "events"), "good")));	/* never exported */
	assert_int_equal(cJSON_GetArraySize(get(s, "alerts")), 0);
	assert_int_equal(cJSON_GetArraySize(get(root, "least_available")), 0);
	cJSON_Delete(root);
	free(out);
}

static void forecast_is_human(void **state)
{
	static const struct {
		const char *value, *want;
	} cases[] = {
		{ "720", " 12m " }, { "12240", " 3.4h " }, { "181440", " 2.1d " },
		{ "0", " exhausted " }, { "30", " <1m " }, { "+Inf", "  -  " },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text, *out, *row;

		assert_true(asprintf(&text, "slotap_slo_budget_exhaustion_seconds" SLO_LABELS "} %s\n",
				     cases[i].value) > 0);
		out = render(text, strlen(text), false);
		row = line_with(out, "svc");
		assert_has(row, cases[i].want);
		free(row);
		free(out);
		free(text);
	}
}

/* Bad events blamed on dependencies: a table with their share of the SLO's bad ones. */
static void blamed_dependencies(void **state)
{
	static const char text[] =
		"slotap_slo_events_total{slo=\"front\",service=\"web\",endpoint=\"\",result=\"good\"} 96\n"
		"slotap_slo_events_total{slo=\"front\",service=\"web\",endpoint=\"\",result=\"bad\"} 4\n"
		"slotap_slo_bad_events_blamed_total{slo=\"front\",service=\"web\",endpoint=\"\",dependency=\"db\"} 3\n"
		"slotap_slo_bad_events_blamed_total{slo=\"front\",service=\"web\",endpoint=\"\",dependency=\"cache\"} 1\n"
		/* an SLO a reload removed: its counter stays, but it is no row */
		"slotap_slo_bad_events_blamed_total{slo=\"gone\",service=\"web\",endpoint=\"\",dependency=\"db\"} 7\n";
	char *out = render(text, sizeof(text) - 1, false), *line;

	(void)state;
	assert_in_order(out, (const char *[]){ "SLOs", "Bad events during failing dependency calls",
		"DEPENDENCY", "OF ALL BAD" }, 4);
	line = line_with(out, " db ");
	assert_in_order(line, (const char *[]){ "front", "web", "(all)", "db", "3", "75.00%" }, 6);
	free(line);
	line = line_with(out, " cache ");
	assert_in_order(line, (const char *[]){ "cache", "1", "25.00%" }, 3);
	free(line);
	assert_null(strstr(out, "gone"));
	free(out);
	out = render(text, sizeof(text) - 1, true);
	assert_has(out, "\"bad_events_blamed\":");
	assert_has(out, "\"db\":\t3");
	free(out);
}

static void no_slos_one_line(void **state)
{
	static const char text[] =
		"# TYPE http_server_request_duration_seconds histogram\n"
		"http_server_request_duration_seconds_sum{service_name=\"a\",http_request_method=\"GET\",http_route=\"/x\",http_response_status_code=\"200\"} 1\n"
		"http_server_request_duration_seconds_count{service_name=\"a\",http_request_method=\"GET\",http_route=\"/x\",http_response_status_code=\"200\"} 4\n";
	char *out = render(text, sizeof(text) - 1, false);

	(void)state;
	assert_true(!strncmp(out, "No SLOs", 7));
	assert_int_equal(strchr(out, '\n') - out + 1, strstr(out, "\n\nLeast available") - out + 1);
	assert_in_order(out, (const char *[]){ "Least available endpoints", "/x", "100.00%",
		"Slowest endpoints", "/x", "250.0ms", "4" }, 7);
	free(out);
	out = render("", 0, false);
	assert_has(out, "No SLOs");
	assert_has(out, "No requests measured yet.");
	free(out);
}

/* Below min_events the budget is not known: "no data", insufficient_data in JSON. */
static void insufficient_data_shown(void **state)
{
	static const char text[] =
		"slotap_slo_events_total{slo=\"quiet\",service=\"shop\",endpoint=\"\",result=\"good\"} 0\n"
		"slotap_slo_events_total{slo=\"quiet\",service=\"shop\",endpoint=\"\",result=\"bad\"} 3\n"
		"slotap_slo_objective_ratio{slo=\"quiet\",service=\"shop\",endpoint=\"\"} 0.99\n"
		"slotap_slo_sli_ratio{slo=\"quiet\",service=\"shop\",endpoint=\"\",window=\"28d\"} 0\n"
		"slotap_slo_error_budget_remaining_ratio{slo=\"quiet\",service=\"shop\",endpoint=\"\"} NaN\n"
		"slotap_slo_insufficient_data{slo=\"quiet\",service=\"shop\",endpoint=\"\"} 1\n"
		"slotap_slo_events_total{slo=\"busy\",service=\"shop\",endpoint=\"\",result=\"good\"} 99\n"
		"slotap_slo_events_total{slo=\"busy\",service=\"shop\",endpoint=\"\",result=\"bad\"} 1\n"
		"slotap_slo_error_budget_remaining_ratio{slo=\"busy\",service=\"shop\",endpoint=\"\"} 0\n"
		"slotap_slo_insufficient_data{slo=\"busy\",service=\"shop\",endpoint=\"\"} 0\n";
	char *out = render(text, sizeof(text) - 1, false), *line;

	(void)state;
	line = line_with(out, "quiet");
	assert_has(line, "no data");
	free(line);
	line = line_with(out, "busy");
	assert_has(line, "0.00%");
	assert_null(strstr(line, "no data"));
	free(line);
	free(out);
	out = render(text, sizeof(text) - 1, true);
	assert_has(out, "\"insufficient_data\":\ttrue");
	assert_has(out, "\"insufficient_data\":\tfalse");
	free(out);
}

#define EP(route, code) "http_server_request_duration_seconds_count{service_name=\"g\"," \
	"http_request_method=\"GET\",http_route=\"" route "\",http_response_status_code=\"" code "\"}"

static void garbage_is_skipped(void **state)
{
	char *huge = malloc(200000), *text, *out;
	size_t len;

	(void)state;
	assert_non_null(huge);
	memset(huge, 'x', 199999);
	huge[199999] = '\0';
	assert_true(asprintf(&text,
		EP("/ok", "200") " 7\n"
		EP("/escaped\\\"q\\\\b\\nn", "500") " 1\n"
		EP("/trunc", "200")			/* no value, no newline before the next */
		"\n" EP("/novalue", "200") "\n"
		EP("/badvalue", "200") " 12abc\n"
		EP("/badescape\\q", "200") " 1\n"
		"http_server_request_duration_seconds_count{service_name=\"g\",http_route=\"/nobrace\" 3\n"
		"http_server_request_duration_seconds_count service_name=\"g\"} 3\n"
		"http_server_request_duration_seconds_count{service_name=\"g\",http_request_method=\"GET\",http_route=\"/unterminated} 3\n"
		EP("/huge%s", "200") " 5\n"
		"http_server_request_duration_seconds_count{%s=\"v\"} 5\n"
		"{}} 1\n\n\n   \t\n# only a comment\n}\"\\\n"
		"slotap_slo_objective_ratio{slo=\"s\"} 0.9\n"		/* no service: no row */
		"slotap_slo_unknown_thing{slo=\"s\",service=\"v\"} 1\n"
		EP("/ts", "200") " 2 1767225600000\n"
		EP("/trailing", "200") " 2 junk\n"
		EP("/last", "503") " 3",				/* truncated: no final newline */
		huge, huge) > 0);
	len = strlen(text);

	out = render(text, len, false);
	assert_has(out, "No SLOs");
	assert_has(out, "/ok");
	assert_has(out, "/escaped\"q\\b?n");	/* a \n in a label does not break the table */
	assert_has(out, "/ts");
	assert_has(out, "/last");
	assert_null(strstr(out, "/trunc"));
	assert_null(strstr(out, "/novalue"));
	assert_null(strstr(out, "/badvalue"));
	assert_null(strstr(out, "/badescape"));
	assert_null(strstr(out, "/nobrace"));
	assert_null(strstr(out, "/unterminated"));
	assert_null(strstr(out, "/huge"));
	assert_null(strstr(out, "/trailing"));
	assert_null(strstr(out, "xxxxxxxx"));
	free(out);

	/* every prefix of the garbage and of the real exposition, unterminated */
	for (size_t n = 0; n <= len; n += 97) {
		char *cut = malloc(n ? n : 1);

		memcpy(cut, text, n);
		free(render(cut, n, false));
		free(render(cut, n, true));
		free(cut);
	}
	for (size_t n = 0; n < sizeof(expo); n++) {
		char *cut = malloc(n ? n : 1);

		memcpy(cut, expo, n);
		free(render(cut, n, n & 1));
		free(cut);
	}
	/* random bytes, and the exposition with random bytes flipped */
	srand(1);
	for (int round = 0; round < 200; round++) {
		char buf[sizeof(expo)];

		memcpy(buf, expo, sizeof(buf));
		for (int k = 0; k < 1 + round % 40; k++)
			buf[rand() % sizeof(buf)] = round < 100 ? (char)rand() : "{}\",\\= \n"[rand() % 8];
		free(render(buf, sizeof(buf), round & 1));
	}
	free(render(NULL, 0, false));
	free(text);
	free(huge);
}


#define DA(ep) "{slo=\"default-availability\",service=\"shop\",endpoint=\"" ep "\""

/* Default SLO copies: one row per endpoint, and the alerts with their payload. */
static void default_copies_and_alerts(void **state)
{
	static const char text[] =
		"slotap_slo_events_total" DA("GET /a") ",result=\"good\"} 80\n"
		"slotap_slo_events_total" DA("GET /a") ",result=\"bad\"} 20\n"
		"slotap_slo_events_total" DA("POST /b") ",result=\"good\"} 7\n"
		"slotap_slo_events_total" DA("POST /b") ",result=\"bad\"} 0\n"
		"slotap_slo_events_total{slo=\"whole\",service=\"shop\",endpoint=\"\",result=\"good\"} 3\n"
		"slotap_slo_objective_ratio" DA("GET /a") "} 0.99\n"
		"slotap_slo_objective_ratio" DA("POST /b") "} 0.99\n"
		"slotap_slo_sli_ratio" DA("GET /a") ",window=\"28d\"} 0.8\n"
		"slotap_slo_sli_ratio" DA("POST /b") ",window=\"28d\"} 1\n"
		"slotap_slo_error_budget_remaining_ratio" DA("GET /a") "} -19\n"
		"slotap_slo_error_budget_remaining_ratio" DA("POST /b") "} 1\n"
		"slotap_slo_burn_rate" DA("GET /a") ",window=\"5m\"} 31\n"
		"slotap_slo_burn_rate" DA("GET /a") ",window=\"1h\"} 20\n"
		"slotap_slo_burn_rate" DA("GET /a") ",window=\"1d\"} 4.5\n"
		"slotap_slo_burn_rate" DA("POST /b") ",window=\"1h\"} 0\n"
		"slotap_slo_alert_active" DA("GET /a") ",severity=\"ticket\",condition=\"budget_70pct_of_period\"} 1\n"
		"slotap_slo_alert_active" DA("GET /a") ",severity=\"page\",condition=\"burn_rate_1h_5m_14.4\"} 1\n"
		"slotap_slo_alert_active" DA("GET /a") ",severity=\"page\",condition=\"budget_30pct_in_24h\"} 1\n"
		"slotap_slo_alert_active" DA("POST /b") ",severity=\"page\",condition=\"burn_rate_1h_5m_14.4\"} 0\n";
	char *out = render(text, sizeof(text) - 1, false), *row, *alerts;
	cJSON *root, *slos, *s, *d;

	(void)state;
	row = line_with(out, "GET /a");
	assert_in_order(row, (const char *[]){ "default-availability", "shop", "GET /a", "80.00% (28d)",
		"99%", "-1900.00%", "20.00", "4.50",
		"budget_70pct_of_period,burn_rate_1h_5m_14.4,budget_30pct_in_24h" }, 9);
	free(row);
	row = line_with(out, "POST /b");
	assert_in_order(row, (const char *[]){ "default-availability", "shop", "POST /b", "100.00% (28d)",
		" ok" }, 5);
	free(row);
	row = line_with(out, "whole");
	assert_has(row, " (all) ");
	free(row);
	/* one line per alert, pages first, each with how far its SLO is broken */
	alerts = strstr(out, "Active alerts\n");
	assert_non_null(alerts);
	assert_in_order(alerts, (const char *[]){ "SEVERITY", "SLO", "SERVICE", "ENDPOINT",
		"CONDITION", "BROKEN BY", "BUDGET LEFT",
		"page", "default-availability", "shop", "GET /a", "burn_rate_1h_5m_14.4",
		"burn 1h 20.00x, 5m 31.00x (>= 14.4x)", "-1900.00%",
		"page", "GET /a", "budget_30pct_in_24h", "burn 1d 4.50x", "-1900.00%",
		"ticket", "GET /a", "budget_70pct_of_period", "budget spent 2000.00%", "-1900.00%",
		"No requests measured yet." }, 25);
	assert_null(strstr(alerts, "POST /b"));
	free(out);

	out = render(text, sizeof(text) - 1, true);
	root = cJSON_Parse(out);
	assert_non_null(root);
	slos = get(root, "slos");
	assert_int_equal(cJSON_GetArraySize(slos), 3);
	s = cJSON_GetArrayItem(slos, 0);
	assert_string_equal(get(s, "endpoint")->valuestring, "GET /a");
	assert_float_equal(num(get(s, "events"), "bad"), 20, 0);
	assert_int_equal(cJSON_GetArraySize(get(s, "alerts")), 3);
	d = cJSON_GetArrayItem(get(s, "alert_details"), 1);
	assert_string_equal(get(d, "condition")->valuestring, "burn_rate_1h_5m_14.4");
	assert_string_equal(get(d, "severity")->valuestring, "page");
	assert_float_equal(num(get(d, "burn_rate"), "1h"), 20, 0);
	assert_float_equal(num(get(d, "burn_rate"), "5m"), 31, 0);
	assert_float_equal(num(d, "factor"), 14.4, 1e-12);
	assert_float_equal(num(d, "budget_remaining"), -19, 0);
	d = cJSON_GetArrayItem(get(s, "alert_details"), 0);
	assert_null(cJSON_GetObjectItemCaseSensitive(d, "factor"));
	assert_string_equal(get(d, "broken_by")->valuestring, "budget spent 2000.00%");
	s = cJSON_GetArrayItem(slos, 1);
	assert_string_equal(get(s, "endpoint")->valuestring, "POST /b");
	assert_float_equal(num(get(s, "events"), "good"), 7, 0);
	assert_int_equal(cJSON_GetArraySize(get(s, "alert_details")), 0);
	assert_string_equal(get(cJSON_GetArrayItem(slos, 2), "endpoint")->valuestring, "");
	cJSON_Delete(root);
	free(out);

	/* no alert at all: said in one line */
	out = render(text, strstr(text, "slotap_slo_alert_active") - text, false);
	assert_has(out, "\nNo active alerts.\n\n");
	free(out);
}

/*
 * HTTP/2 and gRPC: the versions of an endpoint are one row; gRPC calls are
 * rows of their own (METHOD grpc), their errors the default bad codes;
 * what HTTP/2 lost is listed, and only then.
 */
static void http2_and_grpc(void **state)
{
	static const char text[] =
		"http_server_request_duration_seconds_count{service_name=\"s\",http_request_method=\"GET\",http_route=\"/a\",network_protocol_version=\"1.1\",http_response_status_code=\"200\"} 6\n"
		"http_server_request_duration_seconds_count{service_name=\"s\",http_request_method=\"GET\",http_route=\"/a\",network_protocol_version=\"2\",http_response_status_code=\"500\"} 2\n"
		"http_server_request_duration_seconds_sum{service_name=\"s\",http_request_method=\"GET\",http_route=\"/a\",network_protocol_version=\"2\",http_response_status_code=\"500\"} 0.8\n"
		"rpc_server_call_duration_seconds_count{service_name=\"s\",rpc_system_name=\"grpc\",rpc_method=\"p.Cart/Add\",rpc_response_status_code=\"OK\"} 7\n"
		"rpc_server_call_duration_seconds_count{service_name=\"s\",rpc_system_name=\"grpc\",rpc_method=\"p.Cart/Add\",rpc_response_status_code=\"NOT_FOUND\"} 2\n"
		"rpc_server_call_duration_seconds_count{service_name=\"s\",rpc_system_name=\"grpc\",rpc_method=\"p.Cart/Add\",rpc_response_status_code=\"UNAVAILABLE\"} 1\n"
		"rpc_server_call_duration_seconds_sum{service_name=\"s\",rpc_system_name=\"grpc\",rpc_method=\"p.Cart/Add\",rpc_response_status_code=\"OK\"} 0.07\n"
		"slotap_h2_gaps_total{cause=\"record_lost\"} 3\n"
		"slotap_h2_gaps_total{cause=\"truncated\"} 0\n"
		"slotap_h2_fields_undecoded_total{service_name=\"s\",field=\"path\",cause=\"before_agent\"} 4\n"
		"slotap_h2_fields_undecoded_total{service_name=\"t\",field=\"path\",cause=\"before_agent\"} 1\n"
		"slotap_h2_streams_uncounted_total{reason=\"unmatched\"} 2\n"
		"slotap_h2_records_dropped_total{reason=\"malformed\"} 0\n";
	char *out = render(text, sizeof(text) - 1, false), *row;
	cJSON *root;

	(void)state;
	row = line_with(out, "/a ");
	assert_has(row, "75.00%");	/* 2 of 8, HTTP/1.1 and HTTP/2 together */
	free(row);
	row = line_with(out, "p.Cart/Add");
	assert_has(row, " grpc ");
	assert_has(row, "90.00%");	/* UNAVAILABLE bad, NOT_FOUND not */
	free(row);
	assert_has(out, "HTTP/2 losses");
	assert_has(out, "gaps (table state lost, by cause): record_lost 3\n");
	assert_has(out, "fields undecoded (field/cause): path/before_agent 5\n");
	assert_has(out, "streams not measured: unmatched 2\n");
	assert_null(strstr(out, "records dropped"));	/* all 0 */
	free(out);
	out = render(text, sizeof(text) - 1, true);
	root = cJSON_Parse(out);
	assert_non_null(root);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
		root, "http2_losses"), "gaps"), "record_lost")->valuedouble, 3);
	cJSON_Delete(root);
	free(out);
	/* nothing lost: no section */
	out = render(expo, sizeof(expo) - 1, false);
	assert_null(strstr(out, "HTTP/2"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_cells),
		cmocka_unit_test(http2_and_grpc),
		cmocka_unit_test(json_parses_back),
		cmocka_unit_test(nan_and_inf),
		cmocka_unit_test(forecast_is_human),
		cmocka_unit_test(no_slos_one_line),
		cmocka_unit_test(insufficient_data_shown),
		cmocka_unit_test(blamed_dependencies),
		cmocka_unit_test(garbage_is_skipped),
		cmocka_unit_test(default_copies_and_alerts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
