// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The exposition to OTLP: what otlp_metrics__encode() packs, unpacked
 * again with protobuf-c (the integration test otlp_push decodes it with
 * the OpenTelemetry project's own definitions).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "otlp_metrics.h"

typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest Request;
typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;

static const struct otlp_source src = {
	.service_name = "slotap", .service_version = "0.1.0", .host_name = "node-1",
	.start_unix_ns = 1000,
};

static Request *encode(const char *text, struct otlp_encoded *enc)
{
	Request *r;

	assert_int_equal(otlp_metrics__encode(text, strlen(text), &src, 5000, enc), 0);
	r = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
		NULL, enc->len, enc->buf);
	assert_non_null(r);
	assert_int_equal(r->n_resource_metrics, 1);
	assert_int_equal(r->resource_metrics[0]->n_scope_metrics, 1);
	return r;
}

static Metric *metric(Request *r, size_t i)
{
	assert_true(i < r->resource_metrics[0]->scope_metrics[0]->n_metrics);
	return r->resource_metrics[0]->scope_metrics[0]->metrics[i];
}

static const char *attr(Opentelemetry__Proto__Common__V1__KeyValue **kv, size_t n,
			const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kv[i]->key, key))
			return kv[i]->value->string_value;
	return NULL;
}

static void done(Request *r, struct otlp_encoded *enc)
{
	opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(
		r, NULL);
	free(enc->buf);
}

static void test_histogram(void **state)
{
	static const char text[] =
		"# HELP http_server_request_duration_seconds Latency.\n"
		"# TYPE http_server_request_duration_seconds histogram\n"
		"http_server_request_duration_seconds_bucket{service_name=\"shop\",le=\"0.1\"} 2\n"
		"http_server_request_duration_seconds_bucket{service_name=\"shop\",le=\"0.3\"} 2\n"
		"http_server_request_duration_seconds_bucket{service_name=\"shop\",le=\"1\"} 5\n"
		"http_server_request_duration_seconds_bucket{service_name=\"shop\",le=\"+Inf\"} 6\n"
		"http_server_request_duration_seconds_sum{service_name=\"shop\"} 3.25\n"
		"http_server_request_duration_seconds_count{service_name=\"shop\"} 6\n"
		"http_server_request_duration_seconds_bucket{service_name=\"a\\\"b\",le=\"+Inf\"} 1\n"
		"http_server_request_duration_seconds_sum{service_name=\"a\\\"b\"} 0.5\n"
		"http_server_request_duration_seconds_count{service_name=\"a\\\"b\"} 1\n";
	struct otlp_encoded enc;
	Request *r = encode(text, &enc);
	Metric *m = metric(r, 0);
	Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *p;

	(void)state;
	assert_string_equal(m->name, "http_server_request_duration_seconds");
	assert_string_equal(m->description, "Latency.");
	assert_string_equal(m->unit, "s");
	assert_int_equal(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM);
	assert_int_equal(m->histogram->aggregation_temporality,
			 OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE);
	assert_int_equal(m->histogram->n_data_points, 2);
	p = m->histogram->data_points[0];
	assert_string_equal(attr(p->attributes, p->n_attributes, "service_name"), "shop");
	assert_int_equal(p->n_attributes, 1);	/* le is no attribute */
	assert_int_equal(p->n_explicit_bounds, 3);
	assert_true(p->explicit_bounds[0] == 0.1 && p->explicit_bounds[1] == 0.3 &&
		    p->explicit_bounds[2] == 1);
	/* per bucket, not cumulative: 2, 0, 3, and 1 above the last bound */
	assert_int_equal(p->n_bucket_counts, 4);
	assert_int_equal(p->bucket_counts[0], 2);
	assert_int_equal(p->bucket_counts[1], 0);
	assert_int_equal(p->bucket_counts[2], 3);
	assert_int_equal(p->bucket_counts[3], 1);
	assert_int_equal(p->count, 6);
	assert_true(p->sum == 3.25);
	assert_int_equal(p->start_time_unix_nano, 1000);
	assert_int_equal(p->time_unix_nano, 5000);
	/* a label value's escapes undone; a series with only +Inf */
	p = m->histogram->data_points[1];
	assert_string_equal(attr(p->attributes, p->n_attributes, "service_name"), "a\"b");
	assert_int_equal(p->n_explicit_bounds, 0);
	assert_int_equal(p->n_bucket_counts, 1);
	assert_int_equal(p->bucket_counts[0], 1);
	assert_int_equal(enc.points, 2);
	assert_int_equal(enc.skipped, 0);
	done(r, &enc);
}

static void test_counters_gauges_resource(void **state)
{
	static const char text[] =
		"# HELP slotap_events_lost_total Lost.\n"
		"# TYPE slotap_events_lost_total counter\n"
		"slotap_events_lost_total{reason=\"ringbuf_full\"} 3\n"
		"slotap_events_lost_total{reason=\"not_http\"} 0\n"
		"# TYPE slotap_slo_burn_rate gauge\n"
		"slotap_slo_burn_rate{slo=\"a\",window=\"1h\"} +Inf\n"
		"slotap_uptime_seconds 12.5\n"
		"this is not a sample\n";
	struct otlp_encoded enc;
	Request *r = encode(text, &enc);
	Opentelemetry__Proto__Resource__V1__Resource *res = r->resource_metrics[0]->resource;
	Metric *m;

	(void)state;
	assert_string_equal(attr(res->attributes, res->n_attributes, "service.name"), "slotap");
	assert_string_equal(attr(res->attributes, res->n_attributes, "host.name"), "node-1");
	m = metric(r, 0);
	assert_string_equal(m->name, "slotap_events_lost_total");
	assert_int_equal(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM);
	assert_true(m->sum->is_monotonic);
	assert_int_equal(m->sum->aggregation_temporality,
			 OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE);
	assert_int_equal(m->sum->n_data_points, 2);
	assert_true(m->sum->data_points[0]->as_double == 3);
	assert_int_equal(m->sum->data_points[0]->start_time_unix_nano, 1000);
	m = metric(r, 1);
	assert_int_equal(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE);
	assert_true(m->gauge->data_points[0]->as_double > 1e308);
	/* no TYPE line: a gauge of its own, with its unit */
	m = metric(r, 2);
	assert_string_equal(m->name, "slotap_uptime_seconds");
	assert_string_equal(m->unit, "s");
	assert_true(m->gauge->data_points[0]->as_double == 12.5);
	assert_int_equal(r->resource_metrics[0]->scope_metrics[0]->n_metrics, 3);
	/* what it did not understand is counted, not guessed at */
	assert_int_equal(enc.skipped, 1);
	assert_int_equal(enc.points, 4);
	done(r, &enc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_counters_gauges_resource),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
