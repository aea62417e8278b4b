// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* --web.listen-address: what is taken, and what is refused before anything loads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "metrics_server.h"

static void good_addresses(void **state)
{
	static const struct { const char *arg, *host, *port; } cases[] = {
		{ "127.0.0.1:9464", "127.0.0.1", "9464" },
		{ "0.0.0.0:1", "0.0.0.0", "1" },
		{ "localhost:65535", "localhost", "65535" },
		{ "[::1]:9464", "::1", "9464" },
		{ "[fe80::1%lo]:80", "fe80::1%lo", "80" },
		{ "127.0.0.1:09464", "127.0.0.1", "9464" },
	};
	char host[64], port[6];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(metrics_server__parse_address(cases[i].arg, host, sizeof(host), port),
				 0);
		assert_string_equal(host, cases[i].host);
		assert_string_equal(port, cases[i].port);
	}
}

static void bad_addresses(void **state)
{
	static const char *const bad[] = {
		"0.0.0.0:99999", "127.0.0.1:65536", "127.0.0.1:0", ":9464", "9464",
		"127.0.0.1:", "127.0.0.1:94a", "127.0.0.1:-1", "[::1:9464", "[]:9464", "::1:9464x",
		"127.0.0.1:123456", "127.0.0.1: 9464", "",
	};
	char host[64], port[6];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!metrics_server__parse_address(bad[i], host, sizeof(host), port))
			fail_msg("\"%s\" taken as host \"%s\" port %s", bad[i], host, port);
	/* a host longer than the buffer is refused, not cut */
	assert_int_not_equal(metrics_server__parse_address("abcdefgh:80", host, 8, port), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_addresses),
		cmocka_unit_test(bad_addresses),
	};

	return cmocka_run_group_tests_name("metrics_server", tests, NULL, NULL);
}
