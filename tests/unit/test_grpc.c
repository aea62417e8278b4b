// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "grpc.h"
#include "http_server.h"

static void test_names_round_trip(void **state)
{
	char num[8];

	(void)state;
	for (unsigned int c = 0; c < GRPC_CODE_MAX; c++) {
		assert_non_null(grpc_code__name(c));
		assert_int_equal(grpc_code__parse(grpc_code__name(c)), c);
		snprintf(num, sizeof(num), "%u", c);
		assert_int_equal(grpc_code__parse(num), c);
	}
	assert_string_equal(grpc_code__name(4), "DEADLINE_EXCEEDED");
	assert_string_equal(grpc_code__name(16), "UNAUTHENTICATED");
	assert_null(grpc_code__name(17));
	assert_int_equal(grpc_code__parse("unavailable"), GRPC_UNAVAILABLE);
	assert_int_equal(grpc_code__parse("Data_Loss"), GRPC_DATA_LOSS);
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"", "17", "99", "-1", "1 ", " 1", "001", "OK ", "DEADLINE", "0x1", "UNKNOWNX",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(grpc_code__parse(bad[i]), -EINVAL);
}

static void test_status_header(void **state)
{
	(void)state;
	assert_int_equal(grpc_status__parse("0", 1), 0);
	assert_int_equal(grpc_status__parse("13", 2), 13);
	assert_int_equal(grpc_status__parse("016", 3), 16);
	assert_int_equal(grpc_status__parse("16", 2), 16);
	/* only the len bytes count */
	assert_int_equal(grpc_status__parse("140", 2), 14);
	assert_int_equal(grpc_status__parse("17", 2), -EINVAL);
	assert_int_equal(grpc_status__parse("", 0), -EINVAL);
	assert_int_equal(grpc_status__parse("1a", 2), -EINVAL);
	assert_int_equal(grpc_status__parse("0000", 4), -EINVAL);
	assert_int_equal(grpc_status__parse("-1", 2), -EINVAL);
	assert_int_equal(grpc_status__parse("OK", 2), -EINVAL);
}

/* grpc/grpc doc/http-grpc-status-mapping.md */
static void test_from_http(void **state)
{
	(void)state;
	assert_int_equal(grpc_code__from_http(400), GRPC_INTERNAL);
	assert_int_equal(grpc_code__from_http(431), GRPC_INTERNAL);
	assert_int_equal(grpc_code__from_http(401), GRPC_UNAUTHENTICATED);
	assert_int_equal(grpc_code__from_http(403), GRPC_PERMISSION_DENIED);
	assert_int_equal(grpc_code__from_http(404), GRPC_UNIMPLEMENTED);
	for (unsigned int s = 0; s < 1000; s++) {
		enum grpc_code c = grpc_code__from_http(s);

		if (s == 429 || s == 502 || s == 503 || s == 504)
			assert_int_equal(c, GRPC_UNAVAILABLE);
		else if (s != 400 && s != 431 && s != 401 && s != 403 && s != 404)
			assert_int_equal(c, GRPC_UNKNOWN);	/* 200 included */
	}
}

/* doc/PROTOCOL-HTTP2.md: RST_STREAM error codes of a server */
static void test_from_rst(void **state)
{
	(void)state;
	assert_int_equal(grpc_code__from_rst(0x7), GRPC_UNAVAILABLE);
	assert_int_equal(grpc_code__from_rst(0x8), GRPC_CANCELLED);
	assert_int_equal(grpc_code__from_rst(0xb), GRPC_RESOURCE_EXHAUSTED);
	assert_int_equal(grpc_code__from_rst(0xc), GRPC_PERMISSION_DENIED);
	assert_int_equal(grpc_code__from_rst(0x0), GRPC_INTERNAL);
	assert_int_equal(grpc_code__from_rst(0x2), GRPC_INTERNAL);
	assert_int_equal(grpc_code__from_rst(0xffffffff), GRPC_INTERNAL);
}

static void test_timeout(void **state)
{
	__u64 ns = 42;

	(void)state;
	assert_int_equal(grpc_timeout__parse("100m", 4, &ns), 0);
	assert_int_equal(ns, 100000000ull);
	assert_int_equal(grpc_timeout__parse("1S", 2, &ns), 0);
	assert_int_equal(ns, 1000000000ull);
	assert_int_equal(grpc_timeout__parse("2M", 2, &ns), 0);
	assert_int_equal(ns, 120000000000ull);
	assert_int_equal(grpc_timeout__parse("1H", 2, &ns), 0);
	assert_int_equal(ns, 3600000000000ull);
	assert_int_equal(grpc_timeout__parse("250u", 4, &ns), 0);
	assert_int_equal(ns, 250000ull);
	assert_int_equal(grpc_timeout__parse("99999999n", 9, &ns), 0);
	assert_int_equal(ns, 99999999ull);
	/* 8 digits of hours: beyond 2^64 ns, saturated */
	assert_int_equal(grpc_timeout__parse("99999999H", 9, &ns), 0);
	assert_true(ns == ~0ull);
	ns = 42;
	static const char *const bad[] = {
		"", "m", "100", "100x", "100 m", "-1S", "123456789S", "1.5S", "1s",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(grpc_timeout__parse(bad[i], strlen(bad[i]), &ns), -EINVAL);
		assert_int_equal(ns, 42);
	}
}

/* DEADLINE_EXCEEDED from 99 % of the timeout on, else CANCELLED */
static void test_client_cancel(void **state)
{
	(void)state;
	assert_int_equal(grpc_code__client_cancel(990, 1000), GRPC_DEADLINE_EXCEEDED);
	assert_int_equal(grpc_code__client_cancel(989, 1000), GRPC_CANCELLED);
	assert_int_equal(grpc_code__client_cancel(5000, 1000), GRPC_DEADLINE_EXCEEDED);
	assert_int_equal(grpc_code__client_cancel(5000, 0), GRPC_CANCELLED);
	assert_int_equal(grpc_code__client_cancel(~0ull, ~0ull), GRPC_DEADLINE_EXCEEDED);
	assert_int_equal(grpc_code__client_cancel(0, ~0ull), GRPC_CANCELLED);
}

static void test_status_class(void **state)
{
	(void)state;
	assert_int_equal(grpc_code__status_class(GRPC_OK), STATUS_CLASS_OK);
	for (unsigned int c = 1; c < GRPC_CODE_MAX; c++) {
		bool bad = c == 2 || c == 4 || c == 12 || c == 13 || c == 14 || c == 15;

		assert_int_equal(grpc_code__status_class(c),
				 bad ? STATUS_CLASS_SERVER_ERROR : STATUS_CLASS_CLIENT_ERROR);
		assert_int_equal(!!(GRPC_BAD_CODES_DEFAULT & GRPC_CODE_BIT(c)), bad);
	}
	assert_int_equal(grpc_code__status_class(17), STATUS_CLASS_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_status_header),
		cmocka_unit_test(test_from_http),
		cmocka_unit_test(test_from_rst),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_client_cancel),
		cmocka_unit_test(test_status_class),
	};

	return cmocka_run_group_tests_name("grpc", tests, NULL, NULL);
}
