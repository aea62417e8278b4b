// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Which requests an SLO counts, and the slotap_slo_* series it exports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "config.h"
#include "slo_registry.h"

#define T0	1767225600ULL	/* 2026-01-01T00:00:00Z */
#define MS	1000000ULL

static char *ep_get_a[] = { "GET /a" };

static struct slo_config slos[] = {
	{
		.name = "shop-availability", .service = "shop",
		.endpoints = ep_get_a, .n_endpoints = 1,
		.sli = SLO_SLI_AVAILABILITY, .objective = 0.99,
		.window = SLO_WINDOW_ROLLING, .window_s = 28 * 86400ULL,
	},
	{
		.name = "shop-latency", .service = "shop",
		.sli = SLO_SLI_LATENCY, .objective = 0.95, .threshold_ns = 300 * MS,
		.window = SLO_WINDOW_CALENDAR_4W,
	},
	{
		.name = "other", .service = "billing",
		.sli = SLO_SLI_AVAILABILITY, .objective = 0.9,
		.window = SLO_WINDOW_CALENDAR_MONTH,
	},
};

static void set_bad(struct slo_config *sc, unsigned int from, unsigned int to)
{
	for (unsigned int code = from; code <= to; code++)
		sc->bad_status[code / 8] |= 1u << (code % 8);
}

static struct slo_registry *new_registry(void)
{
	struct slotap_config cfg = { .slos = slos, .n_slos = 3 };

	memset(slos[0].bad_status, 0, sizeof(slos[0].bad_status));
	memset(slos[2].bad_status, 0, sizeof(slos[2].bad_status));
	set_bad(&slos[0], 500, 599);
	set_bad(&slos[0], 429, 429);
	set_bad(&slos[2], 500, 599);
	return slo_registry__new(&cfg, T0);
}

static char *expose(struct slo_registry *reg, __u64 now_s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	assert_int_equal(slo_registry__write_prometheus(reg, out, now_s), 0);
	assert_int_equal(fclose(out), 0);
	return buf;
}

static void assert_line(const char *text, const char *line)
{
	char *want;

	assert_true(asprintf(&want, "\n%s\n", line) > 0);
	if (!strstr(text, want))
		fail_msg("missing line: %s", line);
	free(want);
}

static void counts_by_endpoint_status_and_latency(void **state)
{
	struct slo_registry *reg = new_registry();
	char *text;

	(void)state;
	assert_non_null(reg);
	assert_int_equal(slo_registry__count(reg), 3);
	for (int i = 0; i < 90; i++)
		slo_registry__record(reg, "shop", "GET", "/a", 200, 10 * MS, T0 + 10);
	for (int i = 0; i < 6; i++)
		slo_registry__record(reg, "shop", "GET", "/a", 503, 10 * MS, T0 + 10);
	for (int i = 0; i < 4; i++)
		slo_registry__record(reg, "shop", "GET", "/a", 429, 400 * MS, T0 + 10);
	/* another endpoint: only the whole-service latency SLO counts it */
	slo_registry__record(reg, "shop", "POST", "/a", 500, 300 * MS, T0 + 10);
	slo_registry__record(reg, "shop", "GET", "/b", 200, 301 * MS, T0 + 10);
	/* another service, and one with no SLO */
	slo_registry__record(reg, "billing", "GET", "/x", 404, 1 * MS, T0 + 10);
	slo_registry__record(reg, "nobody", "GET", "/a", 500, 1 * MS, T0 + 10);

	text = expose(reg, T0 + 20);
	assert_line(text, "slotap_slo_events_total{slo=\"shop-availability\",service=\"shop\",result=\"good\"} 90");
	assert_line(text, "slotap_slo_events_total{slo=\"shop-availability\",service=\"shop\",result=\"bad\"} 10");
	/* latency <= 300 ms is good: 96 + the POST at exactly 300 ms; bad: 4 at 400, 1 at 301 */
	assert_line(text, "slotap_slo_events_total{slo=\"shop-latency\",service=\"shop\",result=\"good\"} 97");
	assert_line(text, "slotap_slo_events_total{slo=\"shop-latency\",service=\"shop\",result=\"bad\"} 5");
	assert_line(text, "slotap_slo_events_total{slo=\"other\",service=\"billing\",result=\"good\"} 1");
	assert_line(text, "slotap_slo_objective_ratio{slo=\"shop-availability\",service=\"shop\"} 0.99");
	assert_line(text, "slotap_slo_sli_ratio{slo=\"shop-availability\",service=\"shop\",window=\"28d\"} 0.9");
	assert_line(text, "slotap_slo_sli_ratio{slo=\"shop-latency\",service=\"shop\",window=\"4w\"} 0.950980392");
	/* 10 bad of 100 against a 1% budget: 10 budgets spent, 9 overspent */
	assert_line(text, "slotap_slo_error_budget_remaining_ratio{slo=\"shop-availability\",service=\"shop\"} -9");
	assert_line(text, "slotap_slo_burn_rate{slo=\"shop-availability\",service=\"shop\",window=\"5m\"} 10");
	assert_line(text, "slotap_slo_alert_active{slo=\"shop-availability\",service=\"shop\",severity=\"page\",condition=\"budget_exhausted\"} 1");
	assert_line(text, "slotap_slo_alert_active{slo=\"other\",service=\"billing\",severity=\"page\",condition=\"budget_exhausted\"} 0");
	assert_non_null(strstr(text, "# TYPE slotap_slo_events_total counter\n"));
	free(text);
	slo_registry__free(reg);
}

static void no_slos_no_series(void **state)
{
	struct slotap_config cfg = { 0 };
	struct slo_registry *reg = slo_registry__new(&cfg, T0);
	char *text;

	(void)state;
	assert_non_null(reg);
	slo_registry__record(reg, "shop", "GET", "/a", 500, 1, T0);
	text = expose(reg, T0);
	assert_string_equal(text, "");
	free(text);
	slo_registry__free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counts_by_endpoint_status_and_latency),
		cmocka_unit_test(no_slos_no_series),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
