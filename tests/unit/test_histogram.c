// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "histogram.h"
#include "prom.h"

#define MS(x)	((__u64)(x) * 1000000ULL)
#define SEC(x)	((__u64)(x) * 1000000000ULL)

static void test_layout_without_thresholds(void **state)
{
	struct latency_buckets lb;
	size_t i;

	(void)state;
	assert_int_equal(latency_buckets__init(&lb, NULL, 0), 0);
	assert_int_equal(lb.n, LATENCY_BUCKETS_LOG_LINEAR);
	assert_int_equal(lb.n, 461);
	assert_int_equal(lb.bounds_ns[0], 16384);
	assert_int_equal(lb.bounds_ns[lb.n - 1], 137438953472ULL);
	/* octave boundaries are exact powers of two, every 20 bounds */
	for (i = 0; i <= LATENCY_BUCKETS_MAX_SHIFT - LATENCY_BUCKETS_MIN_SHIFT; i++)
		assert_int_equal(lb.bounds_ns[i * LATENCY_BUCKETS_SUB],
				 1ULL << (LATENCY_BUCKETS_MIN_SHIFT + i));
	/* first sub-bucket of the first octave: floor(16384 * 21 / 20) */
	assert_int_equal(lb.bounds_ns[1], 17203);
	for (i = 1; i < lb.n; i++) {
		assert_true(lb.bounds_ns[i - 1] < lb.bounds_ns[i]);
		assert_false(latency_buckets__is_threshold(&lb, i));
	}
	assert_false(latency_buckets__is_threshold(&lb, lb.n));
	latency_buckets__free(&lb);
	assert_null(lb.bounds_ns);
}

static void test_index_boundaries(void **state)
{
	struct latency_buckets lb;
	size_t i;

	(void)state;
	assert_int_equal(latency_buckets__init(&lb, NULL, 0), 0);
	assert_int_equal(latency_buckets__index(&lb, 0), 0);
	assert_int_equal(latency_buckets__index(&lb, 1), 0);
	assert_int_equal(latency_buckets__index(&lb, 16384), 0);
	assert_int_equal(latency_buckets__index(&lb, 16385), 1);
	assert_int_equal(latency_buckets__index(&lb, 17203), 1);
	assert_int_equal(latency_buckets__index(&lb, 17204), 2);
	/* le is inclusive: the bound itself, then one past it */
	for (i = 0; i < lb.n; i++) {
		assert_int_equal(latency_buckets__index(&lb, lb.bounds_ns[i]), i);
		assert_int_equal(latency_buckets__index(&lb, lb.bounds_ns[i] + 1), i + 1);
		/* bounds are >= 819 ns apart: one below is still the same bucket */
		assert_int_equal(latency_buckets__index(&lb, lb.bounds_ns[i] - 1), i);
	}
	assert_int_equal(latency_buckets__index(&lb, LATENCY_BUCKETS_MAX_NS), lb.n - 1);
	assert_int_equal(latency_buckets__index(&lb, LATENCY_BUCKETS_MAX_NS + 1), lb.n);
	assert_int_equal(latency_buckets__index(&lb, UINT64_MAX), lb.n);
	latency_buckets__free(&lb);
}

static void test_relative_error(void **state)
{
	struct latency_buckets lb;
	__u64 v, up;
	size_t i, idx, checked = 0;

	(void)state;
	assert_int_equal(latency_buckets__init(&lb, NULL, 0), 0);
	/* every bucket of the covered range: (upper - lower) / upper <= 1/21 */
	for (i = 1; i < lb.n; i++) {
		assert_true(lb.bounds_ns[i] <= LATENCY_BUCKETS_MAX_NS);
		assert_true((lb.bounds_ns[i] - lb.bounds_ns[i - 1]) * 21 <= lb.bounds_ns[i]);
		checked++;
	}
	assert_int_equal(checked, 460);
	/* and per value, sampled densely (step ~0.1% of the value) across the range */
	for (v = LATENCY_BUCKETS_MIN_NS; v <= LATENCY_BUCKETS_MAX_NS; v += v / 1024 + 1) {
		idx = latency_buckets__index(&lb, v);
		assert_true(idx < lb.n);
		up = lb.bounds_ns[idx];
		assert_true(v <= up);
		assert_true((up - v) * 20 < up);	/* < 5% */
		assert_true(idx == 0 || v > lb.bounds_ns[idx - 1]);
	}
	latency_buckets__free(&lb);
}

static void test_thresholds_exact_and_deduped(void **state)
{
	/* 300 ms twice, 2^20 already a layout bound, 200 s above the range, 1 ns below */
	const __u64 thr[] = { MS(300), SEC(1), MS(300), 1ULL << 20, SEC(200), 1 };
	struct latency_buckets lb;
	size_t i, n_thr = 0, idx;

	(void)state;
	assert_int_equal(latency_buckets__init(&lb, thr, sizeof(thr) / sizeof(thr[0])), 0);
	/* 300 ms, 1 s, 200 s and 1 ns are new bounds; 2^20 and the duplicate are not */
	assert_int_equal(lb.n, LATENCY_BUCKETS_LOG_LINEAR + 4);
	for (i = 1; i < lb.n; i++)
		assert_true(lb.bounds_ns[i - 1] < lb.bounds_ns[i]);
	for (i = 0; i < sizeof(thr) / sizeof(thr[0]); i++) {
		idx = latency_buckets__index(&lb, thr[i]);
		assert_int_equal(lb.bounds_ns[idx], thr[i]);
		assert_true(latency_buckets__is_threshold(&lb, idx));
		assert_int_equal(latency_buckets__index(&lb, thr[i] + 1), idx + 1);
	}
	for (i = 0; i < lb.n; i++)
		n_thr += latency_buckets__is_threshold(&lb, i);
	assert_int_equal(n_thr, 5);
	assert_int_equal(lb.bounds_ns[0], 1);
	assert_int_equal(lb.bounds_ns[lb.n - 1], SEC(200));
	/* a value above the log-linear range but under the high threshold */
	assert_int_equal(latency_buckets__index(&lb, SEC(150)), lb.n - 1);
	assert_int_equal(latency_buckets__index(&lb, SEC(200) + 1), lb.n);
	latency_buckets__free(&lb);
}

static void test_zero_threshold_rejected(void **state)
{
	const __u64 thr[] = { MS(100), 0 };
	struct latency_buckets lb;

	(void)state;
	assert_int_equal(latency_buckets__init(&lb, thr, 2), -EINVAL);
	assert_null(lb.bounds_ns);
	latency_buckets__free(&lb);
}

static void test_record(void **state)
{
	const __u64 thr[] = { MS(300) };
	struct latency_buckets lb;
	struct histogram h;
	size_t i_thr;
	__u64 total = 0;
	size_t i;

	(void)state;
	assert_int_equal(latency_buckets__init(&lb, thr, 1), 0);
	assert_int_equal(histogram__init(&h, &lb), 0);
	i_thr = latency_buckets__index(&lb, MS(300));

	histogram__record(&h, &lb, 0);
	histogram__record(&h, &lb, MS(300));
	histogram__record(&h, &lb, MS(300) + 1);
	histogram__record(&h, &lb, UINT64_MAX - MS(300) * 2 - 1);

	assert_int_equal(h.count, 4);
	assert_int_equal(h.counts[0], 1);
	assert_int_equal(h.counts[i_thr], 1);
	assert_int_equal(h.counts[i_thr + 1], 1);
	assert_int_equal(h.counts[lb.n], 1);
	for (i = 0; i <= lb.n; i++)
		total += h.counts[i];
	assert_int_equal(total, 4);
	assert_int_equal(h.sum_ns, UINT64_MAX);
	histogram__free(&h);
	assert_null(h.counts);
	latency_buckets__free(&lb);
}

static void expect_seconds(__u64 ns, const char *want)
{
	char buf[64] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	assert_non_null(f);
	prom__seconds(f, ns);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, want);
}

static void test_prom_seconds(void **state)
{
	(void)state;
	expect_seconds(0, "0");
	expect_seconds(1, "1e-09");
	expect_seconds(16384, "1.6384e-05");
	expect_seconds(17203, "1.7203e-05");
	expect_seconds(100000, "0.0001");
	expect_seconds(99999, "9.9999e-05");
	expect_seconds(MS(300), "0.3");
	expect_seconds(MS(250), "0.25");
	expect_seconds(1022361, "0.001022361");
	expect_seconds(SEC(1), "1");
	expect_seconds(1500000000ULL, "1.5");
	expect_seconds(SEC(200), "200");
	expect_seconds(137438953472ULL, "137.438953472");
	expect_seconds(UINT64_MAX, "18446744073.709551615");
}

static void test_prom_escaping(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	prom__header(f, "m", "counter", "a \"q\" \\ b\nc");
	prom__label_value(f, "x\"y\\z\nw");
	fclose(f);
	assert_string_equal(buf, "# HELP m a \"q\" \\\\ b\\nc\n# TYPE m counter\n"
				 "\"x\\\"y\\\\z\\nw\"");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_without_thresholds),
		cmocka_unit_test(test_index_boundaries),
		cmocka_unit_test(test_relative_error),
		cmocka_unit_test(test_thresholds_exact_and_deduped),
		cmocka_unit_test(test_zero_threshold_rejected),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_prom_seconds),
		cmocka_unit_test(test_prom_escaping),
	};

	return cmocka_run_group_tests_name("histogram", tests, NULL, NULL);
}
