// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "aggregator.h"
#include "histogram.h"

/* label values of aggregator_http_server: service, method, route (version 1.1) */
#define L(...)	((const char *const[]){ __VA_ARGS__, "1.1" })
#define MS(x)	((__u64)(x) * 1000000ULL)

struct fixture {
	struct latency_buckets lb;
	struct aggregator *agg;
};

static int setup(void **state)
{
	const __u64 thr[] = { MS(300) };
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || latency_buckets__init(&f->lb, thr, 1))
		return -1;
	f->agg = aggregator__new(&aggregator_http_server, &f->lb);
	if (!f->agg)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	aggregator__free(f->agg);
	latency_buckets__free(&f->lb);
	free(f);
	return 0;
}

/* The whole exposition as one string; the caller frees it. */
static char *expose(const struct aggregator *agg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	assert_int_equal(aggregator__write_prometheus(agg, out), 0);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(strlen(buf), len);
	return buf;
}

#define HEADER \
	"# HELP http_server_request_duration_seconds Duration of HTTP server requests: " \
	"from the return of the syscall that read the request's first byte to the return " \
	"of the syscall that wrote the response's first byte.\n" \
	"# TYPE http_server_request_duration_seconds histogram\n"

#define M	"http_server_request_duration_seconds"
#define L1	"{service_name=\"a\\\"b\\\\c\",http_request_method=\"GET\"," \
		"http_route=\"/x\",network_protocol_version=\"1.1\",http_response_status_code=\"200\""
#define L2	"{service_name=\"svc\",http_request_method=\"POST\"," \
		"http_route=\"/y\",network_protocol_version=\"1.1\",http_response_status_code=\"500\""

static void test_exact_exposition(void **state)
{
	struct fixture *f = *state;
	char *text;

	/* inserted out of order: the output is sorted */
	assert_int_equal(aggregator__record(f->agg, L("svc", "POST", "/y"), 500, MS(300)), 0);
	assert_int_equal(aggregator__record(f->agg, L("a\"b\\c", "GET", "/x"), 200, MS(500)), 0);
	assert_int_equal(aggregator__record(f->agg, L("a\"b\\c", "GET", "/x"), 200, MS(1)), 0);
	assert_int_equal(aggregator__series(f->agg), 2);

	text = expose(f->agg);
	/*
	 * 1 ms lands in the bucket bounded by floor(2^19 * 39 / 20) ns and
	 * 500 ms in floor(2^28 * 38 / 20) ns; 300 ms is the threshold, written
	 * even where its bucket is empty, and inclusive for series 2.
	 */
	assert_string_equal(text,
		HEADER
		M "_bucket" L1 ",le=\"0.001022361\"} 1\n"
		M "_bucket" L1 ",le=\"0.3\"} 1\n"
		M "_bucket" L1 ",le=\"0.510027366\"} 2\n"
		M "_bucket" L1 ",le=\"+Inf\"} 2\n"
		M "_sum" L1 "} 0.501\n"
		M "_count" L1 "} 2\n"
		M "_bucket" L2 ",le=\"0.3\"} 1\n"
		M "_bucket" L2 ",le=\"+Inf\"} 1\n"
		M "_sum" L2 "} 0.3\n"
		M "_count" L2 "} 1\n");
	free(text);
}

static void test_empty(void **state)
{
	struct fixture *f = *state;
	char *text = expose(f->agg);

	assert_int_equal(aggregator__series(f->agg), 0);
	assert_string_equal(text, HEADER);
	free(text);
}

/* Sum of the values ending the lines of text that start with prefix. */
static unsigned long long line_value(const char *text, const char *prefix, int *lines)
{
	unsigned long long v = 0;
	const char *p, *eol;

	*lines = 0;
	for (p = text; *p; p = eol + 1) {
		eol = strchr(p, '\n');
		assert_non_null(eol);
		if (strncmp(p, prefix, strlen(prefix)))
			continue;
		v += strtoull((const char *)memrchr(p, ' ', eol - p) + 1, NULL, 10);
		(*lines)++;
	}
	return v;
}

static void test_cumulative_and_inf_equals_count(void **state)
{
	struct fixture *f = *state;
	const __u64 lat[] = { 0, MS(1), MS(1), MS(2), MS(250), MS(300), MS(301), MS(200000) };
	static const char *const want_le[] = {
		"1.6384e-05", "0.001022361", "0.002044723", "0.255013683", "0.3", "0.308700774",
		"+Inf",
	};
	const unsigned long long want_cum[] = { 1, 3, 4, 5, 6, 7, 8 };
	char le[32], *text;
	unsigned long long cum;
	const char *p;
	int lines, n = 0;
	size_t i;

	for (i = 0; i < sizeof(lat) / sizeof(lat[0]); i++)
		assert_int_equal(aggregator__record(f->agg, L("s", "GET", "/"), 200, lat[i]), 0);
	assert_int_equal(aggregator__series(f->agg), 1);
	text = expose(f->agg);

	/* 0 goes to the first bucket, 200 s above every finite bound to +Inf only */
	for (p = strstr(text, M "_bucket"); p; p = strstr(p + 1, M "_bucket")) {
		assert_true(n < 7);
		p = strstr(p, ",le=\"");
		assert_non_null(p);
		assert_int_equal(sscanf(p, ",le=\"%31[^\"]\"} %llu", le, &cum), 2);
		assert_string_equal(le, want_le[n]);
		assert_int_equal(cum, want_cum[n]);
		n++;
	}
	assert_int_equal(n, 7);
	assert_int_equal(line_value(text, M "_count", &lines), 8);
	assert_int_equal(lines, 1);
	assert_non_null(strstr(text, M "_sum{service_name=\"s\",http_request_method=\"GET\","
			       "http_route=\"/\",network_protocol_version=\"1.1\",http_response_status_code=\"200\"} 200.855\n"));
	free(text);
}

static void test_sort_order_and_keys(void **state)
{
	struct fixture *f = *state;
	static const char *const order[] = {
		"service_name=\"a\",http_request_method=\"GET\",http_route=\"/a\","
		"network_protocol_version=\"1.1\",http_response_status_code=\"200\"",
		"service_name=\"a\",http_request_method=\"GET\",http_route=\"/a\","
		"network_protocol_version=\"1.1\",http_response_status_code=\"404\"",
		"service_name=\"a\",http_request_method=\"GET\",http_route=\"/a\","
		"network_protocol_version=\"1.1\",http_response_status_code=\"599\"",
		"service_name=\"a\",http_request_method=\"GET\",http_route=\"/b\","
		"network_protocol_version=\"1.1\",http_response_status_code=\"200\"",
		"service_name=\"a\",http_request_method=\"POST\",http_route=\"/a\","
		"network_protocol_version=\"1.1\",http_response_status_code=\"200\"",
		"service_name=\"b\",http_request_method=\"GET\",http_route=\"/a\","
		"network_protocol_version=\"1.1\",http_response_status_code=\"200\"",
	};
	const char *prev = NULL, *cur;
	char *text;
	size_t i;

	assert_int_equal(aggregator__record(f->agg, L("b", "GET", "/a"), 200, MS(1)), 0);
	assert_int_equal(aggregator__record(f->agg, L("a", "POST", "/a"), 200, MS(1)), 0);
	assert_int_equal(aggregator__record(f->agg, L("a", "GET", "/b"), 200, MS(1)), 0);
	assert_int_equal(aggregator__record(f->agg, L("a", "GET", "/a"), 599, MS(1)), 0);
	assert_int_equal(aggregator__record(f->agg, L("a", "GET", "/a"), 404, MS(1)), 0);
	assert_int_equal(aggregator__record(f->agg, L("a", "GET", "/a"), 200, MS(1)), 0);
	/* same key again: no new series */
	assert_int_equal(aggregator__record(f->agg, L("a", "GET", "/a"), 200, MS(2)), 0);
	/* boundaries between strings are part of the key */
	assert_int_equal(aggregator__record(f->agg, L("aG", "ET", "/a"), 200, MS(1)), 0);
	assert_int_equal(aggregator__series(f->agg), 7);
	assert_int_equal(aggregator__record(f->agg, L(NULL, "GET", "/a"), 200, 1), -EINVAL);
	assert_int_equal(aggregator__series(f->agg), 7);

	text = expose(f->agg);
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		cur = strstr(text, order[i]);
		assert_non_null(cur);
		assert_true(!prev || cur > prev);
		prev = cur;
	}
	assert_non_null(strstr(text, M "_count{" "service_name=\"a\",http_request_method=\"GET\","
				     "http_route=\"/a\",network_protocol_version=\"1.1\",http_response_status_code=\"200\"} 2\n"));
	free(text);
}

static void test_many_series(void **state)
{
	struct fixture *f = *state;
	char route[32], *text;
	unsigned long long total;
	unsigned int i;
	int lines;

	/* grows the table many times; every series keeps its own counts */
	for (i = 0; i < 5000; i++) {
		snprintf(route, sizeof(route), "/r%u", i);
		assert_int_equal(aggregator__record(f->agg, L("s", "GET", route), 200, MS(1)), 0);
	}
	for (i = 0; i < 5000; i += 2) {
		snprintf(route, sizeof(route), "/r%u", i);
		assert_int_equal(aggregator__record(f->agg, L("s", "GET", route), 200, MS(1)), 0);
	}
	assert_int_equal(aggregator__series(f->agg), 5000);
	text = expose(f->agg);
	total = line_value(text, M "_count", &lines);
	assert_int_equal(lines, 5000);
	assert_int_equal(total, 7500);
	assert_non_null(strstr(text, "_count{service_name=\"s\",http_request_method=\"GET\","
			       "http_route=\"/r4998\",network_protocol_version=\"1.1\",http_response_status_code=\"200\"} 2\n"));
	assert_non_null(strstr(text, "_count{service_name=\"s\",http_request_method=\"GET\","
			       "http_route=\"/r4999\",network_protocol_version=\"1.1\",http_response_status_code=\"200\"} 1\n"));
	free(text);
}

/* aggregator__count: n at once, 0 makes the series, histograms refuse it. */
static void test_count_n(void **state)
{
	static const struct aggregator_family fam = {
		.metric = "t_total", .help = "h.", .labels = { "service", "reason" },
		.counter = true,
	};
	struct fixture *f = *state;
	struct aggregator *c = aggregator__new(&fam, NULL);
	char *text;

	assert_non_null(c);
	assert_int_equal(aggregator__count(c, L("b", "x"), 0), 0);
	assert_int_equal(aggregator__count(c, L("a", "y"), 5), 0);
	assert_int_equal(aggregator__record(c, L("a", "y"), 0, 0), 0);
	assert_int_equal(aggregator__count(c, L("a", "y"), 3), 0);
	assert_int_equal(aggregator__count(c, L("a", NULL), 1), -EINVAL);
	assert_int_equal(aggregator__count(f->agg, L("s", "GET", "/"), 1), -EINVAL);
	assert_int_equal(aggregator__series(f->agg), 0);
	text = expose(c);
	assert_string_equal(text, "# HELP t_total h.\n# TYPE t_total counter\n"
			    "t_total{service=\"a\",reason=\"y\"} 9\n"
			    "t_total{service=\"b\",reason=\"x\"} 0\n");
	free(text);
	aggregator__free(c);
}

/*
 * Whoever answers picks the status: anything outside 100..599 is one
 * "invalid" series, not one each.
 */
static void test_invalid_statuses_share_a_series(void **state)
{
	static const unsigned int bad[] = { 0, 1, 42, 99, 600, 799, 999, 1000, 65535, 4000000000u };
	struct fixture *f = *state;
	char *text;
	int lines;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(aggregator__record(f->agg, L("s", "GET", "/"), bad[i], MS(1)), 0);
	assert_int_equal(aggregator__record(f->agg, L("s", "GET", "/"), 100, MS(1)), 0);
	assert_int_equal(aggregator__record(f->agg, L("s", "GET", "/"), 599, MS(1)), 0);
	assert_int_equal(aggregator__series(f->agg), 3);
	text = expose(f->agg);
	assert_non_null(strstr(text, M "_count{service_name=\"s\",http_request_method=\"GET\","
			       "http_route=\"/\",network_protocol_version=\"1.1\",http_response_status_code=\"invalid\"} 10\n"));
	assert_non_null(strstr(text, "http_response_status_code=\"100\"} 1\n"));
	assert_non_null(strstr(text, "http_response_status_code=\"599\"} 1\n"));
	assert_int_equal(line_value(text, M "_count", &lines), 12);
	assert_int_equal(lines, 3);
	free(text);
}

/*
 * Past max_series, new label combinations share the overflow series;
 * the series made before it keep counting on their own.
 */
static void test_series_cap_overflows(void **state)
{
	struct fixture *f = *state;
	char route[32], *text;
	int lines;

	aggregator__set_max_series(f->agg, 100);
	for (unsigned int i = 0; i < 1000; i++) {
		snprintf(route, sizeof(route), "/r%u", i);
		assert_int_equal(aggregator__record(f->agg, L("s", "GET", route), 200 + i % 300,
						    MS(1)), 0);
	}
	assert_int_equal(aggregator__record(f->agg, L("s", "GET", "/r0"), 200, MS(1)), 0);
	assert_int_equal(aggregator__series(f->agg), 101);
	assert_int_equal(aggregator__overflow_events(f->agg), 900);
	text = expose(f->agg);
	assert_int_equal(line_value(text, M "_count", &lines), 1001);
	assert_int_equal(lines, 101);
	assert_non_null(strstr(text, "http_route=\"/r0\",network_protocol_version=\"1.1\",http_response_status_code=\"200\"} 2\n"));
	assert_null(strstr(text, "\"/r100\""));
	/* the overflow series last, with its own label only */
	assert_non_null(strstr(text, M "_count{otel_metric_overflow=\"true\"} 900\n"));
	assert_non_null(strstr(text, M "_bucket{otel_metric_overflow=\"true\",le=\"+Inf\"} 900\n"));
	assert_int_equal(text[strlen(text) - 1], '\n');
	assert_non_null(strstr(strstr(text, M "_count{otel_metric_overflow"), "} 900\n"));
	free(text);

	/* a counter family alike */
	static const struct aggregator_family fam = {
		.metric = "t_total", .help = "h.", .labels = { "service" }, .counter = true,
	};
	struct aggregator *c = aggregator__new(&fam, NULL);

	assert_non_null(c);
	aggregator__set_max_series(c, 1);
	assert_int_equal(aggregator__count(c, L("a"), 2), 0);
	assert_int_equal(aggregator__count(c, L("b"), 3), 0);
	assert_int_equal(aggregator__count(c, L("c"), 4), 0);
	assert_int_equal(aggregator__overflow_events(c), 7);
	text = expose(c);
	assert_string_equal(text, "# HELP t_total h.\n# TYPE t_total counter\n"
			    "t_total{service=\"a\"} 2\n"
			    "t_total{otel_metric_overflow=\"true\"} 7\n");
	free(text);
	aggregator__free(c);
}

/* An undecoded status (HTTP/2) is a series of its own, apart from invalid ones. */
static void test_undecoded_status(void **state)
{
	struct fixture *f = *state;
	char *text;
	int lines;

	assert_int_equal(aggregator__record(f->agg, L("s", "GET", "/"), 0, MS(1)), 0);
	assert_int_equal(aggregator__record(f->agg, L("s", "GET", "/"), AGGREGATOR_STATUS_UNDECODED,
					    MS(1)), 0);
	assert_int_equal(aggregator__record(f->agg, L("s", "GET", "/"), AGGREGATOR_STATUS_UNDECODED,
					    MS(1)), 0);
	assert_int_equal(aggregator__series(f->agg), 2);
	text = expose(f->agg);
	assert_non_null(strstr(text, "http_response_status_code=\"undecoded\"} 2\n"));
	assert_non_null(strstr(text, "http_response_status_code=\"invalid\"} 1\n"));
	assert_int_equal(line_value(text, M "_count", &lines), 3);
	assert_int_equal(lines, 2);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exact_exposition, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cumulative_and_inf_equals_count, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sort_order_and_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_series, setup, teardown),
		cmocka_unit_test_setup_teardown(test_count_n, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_statuses_share_a_series, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_series_cap_overflows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_undecoded_status, setup, teardown),
	};

	return cmocka_run_group_tests_name("aggregator", tests, NULL, NULL);
}
