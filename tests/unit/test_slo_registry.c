// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Which requests an SLO counts, and the slotap_slo_* series it exports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "config.h"
#include "route.h"
#include "slo.h"
#include "slo_registry.h"
#include "state.h"

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
	assert_line(text, "slotap_slo_events_total{slo=\"shop-availability\",service=\"shop\",endpoint=\"GET /a\",result=\"good\"} 90");
	assert_line(text, "slotap_slo_events_total{slo=\"shop-availability\",service=\"shop\",endpoint=\"GET /a\",result=\"bad\"} 10");
	/* latency <= 300 ms is good: 96 + the POST at exactly 300 ms; bad: 4 at 400, 1 at 301 */
	assert_line(text, "slotap_slo_events_total{slo=\"shop-latency\",service=\"shop\",endpoint=\"\",result=\"good\"} 97");
	assert_line(text, "slotap_slo_events_total{slo=\"shop-latency\",service=\"shop\",endpoint=\"\",result=\"bad\"} 5");
	assert_line(text, "slotap_slo_events_total{slo=\"other\",service=\"billing\",endpoint=\"\",result=\"good\"} 1");
	assert_line(text, "slotap_slo_objective_ratio{slo=\"shop-availability\",service=\"shop\",endpoint=\"GET /a\"} 0.99");
	assert_line(text, "slotap_slo_sli_ratio{slo=\"shop-availability\",service=\"shop\",endpoint=\"GET /a\",window=\"28d\"} 0.9");
	assert_line(text, "slotap_slo_sli_ratio{slo=\"shop-latency\",service=\"shop\",endpoint=\"\",window=\"4w\"} 0.950980392");
	/* 10 bad of 100 against a 1% budget: 10 budgets spent, 9 overspent */
	assert_line(text, "slotap_slo_error_budget_remaining_ratio{slo=\"shop-availability\",service=\"shop\",endpoint=\"GET /a\"} -9");
	assert_line(text, "slotap_slo_burn_rate{slo=\"shop-availability\",service=\"shop\",endpoint=\"GET /a\",window=\"5m\"} 10");
	/* burning 10x: a 28-day budget spent 10 times over in 28 days, 10/672 of it an hour */
	assert_line(text, "slotap_slo_error_budget_depletion_per_hour_ratio{slo=\"shop-availability\",service=\"shop\",endpoint=\"GET /a\"} 0.0148809524");
	assert_line(text, "slotap_slo_alert_active{slo=\"shop-availability\",service=\"shop\",endpoint=\"GET /a\",severity=\"page\",condition=\"budget_exhausted\"} 1");
	assert_line(text, "slotap_slo_alert_active{slo=\"other\",service=\"billing\",endpoint=\"\",severity=\"page\",condition=\"budget_exhausted\"} 0");
	assert_non_null(strstr(text, "# TYPE slotap_slo_events_total counter\n"));
	free(text);
	slo_registry__free(reg);
}

static size_t evaluate_logged(struct slo_registry *reg, __u64 now_s, char **log);

/* Below min_events: insufficient data exported, no budget, no alert; then both. */
static void low_traffic_insufficient_data(void **state)
{
	struct slo_config low = {
		.name = "low", .service = "shop", .sli = SLO_SLI_AVAILABILITY,
		.objective = 0.99, .window = SLO_WINDOW_ROLLING, .window_s = 28 * 86400ULL,
		.min_events = 20, .runbook_url = "https://runbooks.example/low",
	};
	struct slotap_config cfg = { .slos = &low, .n_slos = 1 };
	struct slo_registry *reg;
	char *text, *log;

	(void)state;
	set_bad(&low, 500, 599);
	reg = slo_registry__new(&cfg, T0);
	assert_non_null(reg);
	for (int i = 0; i < 3; i++)
		slo_registry__record(reg, "shop", "GET", "/a", 500, 10 * MS, T0 + 10);
	text = expose(reg, T0 + 20);
	assert_line(text, "slotap_slo_insufficient_data{slo=\"low\",service=\"shop\",endpoint=\"\"} 1");
	assert_line(text, "slotap_slo_error_budget_remaining_ratio{slo=\"low\",service=\"shop\",endpoint=\"\"} NaN");
	assert_line(text, "slotap_slo_burn_rate{slo=\"low\",service=\"shop\",endpoint=\"\",window=\"1h\"} 100");
	assert_line(text, "slotap_slo_alert_active{slo=\"low\",service=\"shop\",endpoint=\"\",severity=\"page\",condition=\"burn_rate_1h_5m_14.4\"} 0");
	assert_line(text, "slotap_slo_alert_active{slo=\"low\",service=\"shop\",endpoint=\"\",severity=\"page\",condition=\"budget_exhausted\"} 0");
	assert_int_equal(slo_registry__evaluate_alerts(reg, T0 + 20), 0);
	free(text);
	for (int i = 0; i < 17; i++)
		slo_registry__record(reg, "shop", "GET", "/a", 500, 10 * MS, T0 + 30);
	text = expose(reg, T0 + 40);
	assert_line(text, "slotap_slo_insufficient_data{slo=\"low\",service=\"shop\",endpoint=\"\"} 0");
	assert_line(text, "slotap_slo_error_budget_remaining_ratio{slo=\"low\",service=\"shop\",endpoint=\"\"} -99");
	assert_line(text, "slotap_slo_alert_active{slo=\"low\",service=\"shop\",endpoint=\"\",severity=\"page\",condition=\"burn_rate_1h_5m_14.4\"} 1");
	free(text);
	/* the alert log line carries the runbook */
	assert_true(evaluate_logged(reg, T0 + 40, &log) > 0);
	assert_non_null(strstr(log, "condition=burn_rate_1h_5m_14.4 "));
	assert_non_null(strstr(log, " runbook_url=\"https://runbooks.example/low\"\n"));
	free(log);
	slo_registry__free(reg);
}

/*
 * gRPC calls: bad_grpc_codes judges them (bad_statuses does not), an
 * undecoded status is neither good nor bad for availability, a streaming
 * call is skipped by latency SLOs; the "grpc pkg.Service/Method" endpoint;
 * an __undecoded__ route gets no default copies.
 */
static void grpc_and_undecoded_outcomes(void **state)
{
	static char *ep[] = { "grpc shop.Cart/Add" };
	struct slo_config c[] = {
		{
			.name = "cart", .service = "shop", .endpoints = ep, .n_endpoints = 1,
			.sli = SLO_SLI_AVAILABILITY, .objective = 0.99,
			.window = SLO_WINDOW_ROLLING, .window_s = 28 * 86400ULL,
			.bad_grpc_codes = 1u << 14,
		},
		{
			.name = "fast", .service = "shop", .sli = SLO_SLI_LATENCY, .objective = 0.9,
			.threshold_ns = 100 * MS, .window = SLO_WINDOW_ROLLING,
			.window_s = 28 * 86400ULL,
		},
		{
			.name = "all", .service = "shop", .sli = SLO_SLI_LATENCY, .objective = 0.9,
			.threshold_ns = 100 * MS, .window = SLO_WINDOW_ROLLING,
			.window_s = 28 * 86400ULL, .streaming_include = true,
		},
	};
	struct slo_config tmpl = {
		.name = "dflt", .sli = SLO_SLI_AVAILABILITY, .objective = 0.9,
		.window = SLO_WINDOW_ROLLING, .window_s = 28 * 86400ULL,
	};
	struct slotap_config cfg = { .slos = c, .n_slos = 3, .default_slos = &tmpl,
				     .n_default_slos = 1, .max_default_slos = 100 };
	struct slo_registry *reg;
	char *text;

	(void)state;
	set_bad(&c[0], 500, 599);
	reg = slo_registry__new(&cfg, T0);
	assert_non_null(reg);
	/* OK and 13 (not in this SLO's codes) good; 14 bad; 503 as a code: no such code, bad */
	slo_registry__record_request(reg, "shop", "grpc", "shop.Cart/Add",
				     &(struct slo_request){ .status = 0, .grpc = true }, T0 + 10);
	slo_registry__record_request(reg, "shop", "grpc", "shop.Cart/Add",
				     &(struct slo_request){ .status = 13, .grpc = true }, T0 + 10);
	slo_registry__record_request(reg, "shop", "grpc", "shop.Cart/Add",
				     &(struct slo_request){ .status = 14, .grpc = true }, T0 + 10);
	slo_registry__record_request(reg, "shop", "grpc", "shop.Cart/Add",
				     &(struct slo_request){ .status = 503, .grpc = true }, T0 + 10);
	/* undecoded: skipped by availability, counted by latency (200 ms: bad) */
	slo_registry__record_request(reg, "shop", "grpc", "shop.Cart/Add",
				     &(struct slo_request){ .grpc = true, .status_undecoded = true,
							    .latency_ns = 200 * MS }, T0 + 10);
	/* streaming: skipped by latency, counted by availability */
	slo_registry__record_request(reg, "shop", "grpc", "shop.Cart/Add",
				     &(struct slo_request){ .grpc = true, .streaming = true,
							    .latency_ns = 5000 * MS }, T0 + 10);
	/* no default copy for an undecoded route; one for a decoded one */
	slo_registry__record_request(reg, "shop", "_OTHER", ROUTE_UNDECODED,
				     &(struct slo_request){ .status = 200 }, T0 + 10);
	slo_registry__record_request(reg, "shop", "GET", "/x",
				     &(struct slo_request){ .status = 200 }, T0 + 10);
	text = expose(reg, T0 + 20);
	assert_line(text, "slotap_slo_events_total{slo=\"cart\",service=\"shop\",endpoint=\"grpc shop.Cart/Add\",result=\"good\"} 3");
	assert_line(text, "slotap_slo_events_total{slo=\"cart\",service=\"shop\",endpoint=\"grpc shop.Cart/Add\",result=\"bad\"} 2");
	assert_line(text, "slotap_slo_events_total{slo=\"fast\",service=\"shop\",endpoint=\"\",result=\"good\"} 6");
	assert_line(text, "slotap_slo_events_total{slo=\"fast\",service=\"shop\",endpoint=\"\",result=\"bad\"} 1");
	/* streaming: include counts the streaming call (5 s: bad) */
	assert_line(text, "slotap_slo_events_total{slo=\"all\",service=\"shop\",endpoint=\"\",result=\"bad\"} 2");
	assert_line(text, "slotap_slo_events_total{slo=\"dflt\",service=\"shop\",endpoint=\"GET /x\",result=\"good\"} 1");
	assert_null(strstr(text, "__undecoded__"));
	/* the gRPC endpoint got its default copy too (availability is covered: none) */
	assert_null(strstr(text, "slo=\"dflt\",service=\"shop\",endpoint=\"grpc shop.Cart/Add\""));
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


/* ---- default SLOs ---- */

/* default-availability 99% (5xx bad) and default-latency 95% within 300 ms, 28 d */
static struct slo_config templates[2] = {
	{
		.name = "default-availability", .sli = SLO_SLI_AVAILABILITY, .objective = 0.99,
		.window = SLO_WINDOW_ROLLING, .window_s = 28 * 86400ULL,
	},
	{
		.name = "default-latency", .sli = SLO_SLI_LATENCY, .objective = 0.95,
		.threshold_ns = 300 * MS, .window = SLO_WINDOW_ROLLING, .window_s = 28 * 86400ULL,
	},
};

static struct slo_registry *new_with_defaults(struct slo_config *explicit, size_t n,
					      unsigned int max_defaults)
{
	struct slotap_config cfg = {
		.slos = explicit, .n_slos = n,
		.default_slos = templates, .n_default_slos = 2, .max_default_slos = max_defaults,
	};
	struct slo_registry *reg;

	memset(templates[0].bad_status, 0, sizeof(templates[0].bad_status));
	set_bad(&templates[0], 500, 599);
	reg = slo_registry__new(&cfg, T0);
	assert_non_null(reg);
	return reg;
}

/* index of the SLO called name about (service, endpoint) */
static size_t find(const struct slo_registry *reg, const char *name, const char *service,
		   const char *endpoint)
{
	for (size_t i = 0; i < slo_registry__count(reg); i++)
		if (!strcmp(slo_registry__config(reg, i)->name, name) &&
		    !strcmp(slo_registry__service(reg, i), service) &&
		    !strcmp(slo_registry__endpoint(reg, i), endpoint))
			return i;
	fail_msg("no SLO %s of %s %s", name, service, endpoint);
	return 0;
}

static bool has(const struct slo_registry *reg, const char *name, const char *service,
		const char *endpoint)
{
	for (size_t i = 0; i < slo_registry__count(reg); i++)
		if (!strcmp(slo_registry__config(reg, i)->name, name) &&
		    !strcmp(slo_registry__service(reg, i), service) &&
		    !strcmp(slo_registry__endpoint(reg, i), endpoint))
			return true;
	return false;
}

static void assert_counts(const struct slo_registry *reg, const char *name, const char *service,
			  const char *endpoint, __u64 good, __u64 total)
{
	struct slo_status st;

	slo__status(slo_registry__engine(reg, find(reg, name, service, endpoint)), T0 + 20, &st);
	if (st.good_total != good || st.events_total != total)
		fail_msg("%s of %s %s: %llu good of %llu, want %llu of %llu", name, service,
			 endpoint, (unsigned long long)st.good_total,
			 (unsigned long long)st.events_total, (unsigned long long)good,
			 (unsigned long long)total);
}

static void defaults_made_at_first_request(void **state)
{
	struct slo_registry *reg = new_with_defaults(NULL, 0, 1000);
	char *text;

	(void)state;
	assert_false(slo_registry__empty(reg));
	assert_int_equal(slo_registry__count(reg), 0);
	for (int i = 0; i < 8; i++)
		slo_registry__record(reg, "shop", "GET", "/a", 200, 10 * MS, T0 + 10);
	slo_registry__record(reg, "shop", "GET", "/a", 503, 10 * MS, T0 + 10);
	slo_registry__record(reg, "shop", "GET", "/a", 200, 301 * MS, T0 + 10);
	assert_int_equal(slo_registry__count(reg), 2);
	/* the same route with another method, and another service, are other endpoints */
	slo_registry__record(reg, "shop", "POST", "/a", 500, 400 * MS, T0 + 10);
	slo_registry__record(reg, "billing", "GET", "/a", 200, 1 * MS, T0 + 10);
	assert_int_equal(slo_registry__count(reg), 6);
	assert_true(slo_registry__is_default(reg, find(reg, "default-latency", "shop", "GET /a")));
	assert_counts(reg, "default-availability", "shop", "GET /a", 9, 10);
	assert_counts(reg, "default-latency", "shop", "GET /a", 9, 10);
	assert_counts(reg, "default-availability", "shop", "POST /a", 0, 1);
	assert_counts(reg, "default-latency", "shop", "POST /a", 0, 1);
	assert_counts(reg, "default-availability", "billing", "GET /a", 1, 1);

	text = expose(reg, T0 + 20);
	assert_line(text, "slotap_slo_events_total{slo=\"default-availability\",service=\"shop\",endpoint=\"GET /a\",result=\"good\"} 9");
	assert_line(text, "slotap_slo_events_total{slo=\"default-availability\",service=\"shop\",endpoint=\"GET /a\",result=\"bad\"} 1");
	assert_line(text, "slotap_slo_events_total{slo=\"default-latency\",service=\"shop\",endpoint=\"POST /a\",result=\"bad\"} 1");
	assert_line(text, "slotap_slo_objective_ratio{slo=\"default-latency\",service=\"billing\",endpoint=\"GET /a\"} 0.95");
	assert_line(text, "slotap_slo_sli_ratio{slo=\"default-availability\",service=\"shop\",endpoint=\"GET /a\",window=\"28d\"} 0.9");
	assert_line(text, "slotap_slo_default_instances 6");
	assert_line(text, "slotap_slo_default_instances_dropped_total 0");
	assert_line(text, "slotap_slo_default_requests_dropped_total 0");
	free(text);
	slo_registry__free(reg);
}

/*
 * Failures below HTTP: bad for availability SLOs, ignored by latency ones,
 * unless transport_failures says otherwise; without a request, only SLOs
 * about a whole service see them.
 */
static void transport_failures_are_bad_events(void **state)
{
	struct slo_config explicit[] = {
		{
			.name = "items-availability", .service = "shop",
			.endpoints = ep_get_a, .n_endpoints = 1,
			.sli = SLO_SLI_AVAILABILITY, .objective = 0.99,
			.window = SLO_WINDOW_ROLLING, .window_s = 28 * 86400ULL,
		},
		{
			.name = "shop-availability", .service = "shop",
			.sli = SLO_SLI_AVAILABILITY, .objective = 0.99,
			.window = SLO_WINDOW_ROLLING, .window_s = 28 * 86400ULL,
		},
		{
			.name = "shop-lenient", .service = "shop",
			.sli = SLO_SLI_AVAILABILITY, .objective = 0.99,
			.window = SLO_WINDOW_ROLLING, .window_s = 28 * 86400ULL,
			.transport_failures = SLO_FAILURES_IGNORE,
		},
		{
			.name = "shop-latency", .service = "shop",
			.sli = SLO_SLI_LATENCY, .objective = 0.95, .threshold_ns = 300 * MS,
			.window = SLO_WINDOW_ROLLING, .window_s = 28 * 86400ULL,
		},
		{
			.name = "shop-latency-strict", .service = "shop",
			.sli = SLO_SLI_LATENCY, .objective = 0.95, .threshold_ns = 300 * MS,
			.window = SLO_WINDOW_ROLLING, .window_s = 28 * 86400ULL,
			.transport_failures = SLO_FAILURES_BAD,
		},
	};
	struct slo_registry *reg;

	(void)state;
	for (size_t i = 0; i < 5; i++)
		set_bad(&explicit[i], 500, 599);
	reg = new_with_defaults(explicit, 5, 1000);
	for (int i = 0; i < 7; i++)
		slo_registry__record(reg, "shop", "GET", "/a", 200, 10 * MS, T0 + 10);
	/* 2 requests of GET /a reset, 1 of GET /b timed out, 4 connections refused */
	slo_registry__record_failure(reg, "shop", "GET", "/a", 2, T0 + 10);
	slo_registry__record_failure(reg, "shop", "GET", "/b", 1, T0 + 10);
	slo_registry__record_failure(reg, "shop", NULL, NULL, 4, T0 + 10);
	slo_registry__record_failure(reg, "billing", NULL, NULL, 3, T0 + 10);

	assert_counts(reg, "items-availability", "shop", "GET /a", 7, 9);
	assert_counts(reg, "shop-availability", "shop", "", 7, 14);
	assert_counts(reg, "shop-lenient", "shop", "", 7, 7);
	assert_counts(reg, "shop-latency", "shop", "", 7, 7);
	assert_counts(reg, "shop-latency-strict", "shop", "", 7, 14);
	/* explicit SLOs cover shop; billing's refused connections have no endpoint for a copy */
	assert_int_equal(slo_registry__count(reg), 5);
	/* a first sight by failure makes an endpoint's default copies, which count it */
	slo_registry__record_failure(reg, "billing", "GET", "/x", 1, T0 + 10);
	assert_counts(reg, "default-availability", "billing", "GET /x", 0, 1);
	assert_counts(reg, "default-latency", "billing", "GET /x", 0, 0);
	slo_registry__free(reg);
}

/* The bad-event hook's calls, as "slo service endpoint count" lines. */
static void note_bad(void *ctx, const char *slo, const char *service, const char *endpoint,
		     __u64 count)
{
	FILE *log = ctx;

	fprintf(log, "%s %s [%s] %llu\n", slo, service, endpoint, (unsigned long long)count);
}

/* SLOs about a dependency count calls only; the hook sees every bad event. */
static void dependency_slos_and_bad_hook(void **state)
{
	struct slo_config explicit[] = {
		{
			.name = "shop-availability", .service = "shop",
			.sli = SLO_SLI_AVAILABILITY, .objective = 0.99,
			.window = SLO_WINDOW_ROLLING, .window_s = 28 * 86400ULL,
		},
		/* a dependency named like a service with no SLO: it must not count its requests */
		{
			.name = "billing-calls", .service = "billing", .dependency = true,
			.sli = SLO_SLI_AVAILABILITY, .objective = 0.99,
			.window = SLO_WINDOW_ROLLING, .window_s = 28 * 86400ULL,
		},
		{
			.name = "billing-fast", .service = "billing", .dependency = true,
			.sli = SLO_SLI_LATENCY, .objective = 0.9, .threshold_ns = 100 * MS,
			.window = SLO_WINDOW_ROLLING, .window_s = 28 * 86400ULL,
		},
	};
	struct slotap_config cfg = { .slos = explicit, .n_slos = 3 };
	struct slo_registry *reg;
	char *text = NULL;
	size_t len = 0;
	FILE *log = open_memstream(&text, &len);

	(void)state;
	assert_non_null(log);
	set_bad(&explicit[0], 500, 599);
	set_bad(&explicit[1], 500, 599);
	reg = slo_registry__new(&cfg, T0);
	assert_non_null(reg);
	slo_registry__set_bad_hook(reg, note_bad, log);
	for (int i = 0; i < 6; i++)
		slo_registry__record_call(reg, "billing", 200, 10 * MS, false, T0 + 10);
	slo_registry__record_call(reg, "billing", 503, 10 * MS, false, T0 + 10);
	slo_registry__record_call(reg, "billing", 200, 150 * MS, false, T0 + 10);
	slo_registry__record_call(reg, "billing", 0, 0, true, T0 + 10);	/* refused */
	slo_registry__record_call(reg, "nobody", 500, 0, false, T0 + 10);
	slo_registry__record(reg, "billing", "GET", "/a", 500, MS, T0 + 10);
	slo_registry__record(reg, "shop", "GET", "/a", 502, MS, T0 + 10);
	assert_counts(reg, "billing-calls", "billing", "", 7, 9);
	/* latency: answered calls within 100 ms; the failed call is not counted */
	assert_counts(reg, "billing-fast", "billing", "", 7, 8);
	assert_counts(reg, "shop-availability", "shop", "", 0, 1);
	assert_int_equal(fclose(log), 0);
	assert_string_equal(text, "billing-calls billing [] 1\n"
				  "billing-fast billing [] 1\n"
				  "billing-calls billing [] 1\n"
				  "shop-availability shop [] 1\n");
	free(text);
	slo_registry__free(reg);
}

static char *ep_get_b[] = { "GET /b" };

static void explicit_slos_override_defaults(void **state)
{
	struct slo_config explicit[] = {
		/* an endpoint's availability: it gets the default latency SLO only */
		{
			.name = "b-availability", .service = "shop", .endpoints = ep_get_b,
			.n_endpoints = 1, .sli = SLO_SLI_AVAILABILITY, .objective = 0.999,
			.window = SLO_WINDOW_ROLLING, .window_s = 7 * 86400ULL,
		},
		/* a whole service's latency: none of its endpoints gets the default one */
		{
			.name = "billing-latency", .service = "billing", .sli = SLO_SLI_LATENCY,
			.objective = 0.9, .threshold_ns = 100 * MS, .window = SLO_WINDOW_CALENDAR_WEEK,
		},
	};
	struct slo_registry *reg;
	char *text;

	(void)state;
	set_bad(&explicit[0], 500, 599);
	reg = new_with_defaults(explicit, 2, 1000);
	assert_int_equal(slo_registry__count(reg), 2);
	slo_registry__record(reg, "shop", "GET", "/b", 500, 10 * MS, T0 + 10);
	slo_registry__record(reg, "shop", "GET", "/a", 500, 10 * MS, T0 + 10);
	slo_registry__record(reg, "billing", "GET", "/x", 500, 200 * MS, T0 + 10);
	slo_registry__record(reg, "billing", "PUT", "/y", 200, 20 * MS, T0 + 10);

	/* shop GET /b: explicit availability, default latency */
	assert_false(has(reg, "default-availability", "shop", "GET /b"));
	assert_counts(reg, "b-availability", "shop", "GET /b", 0, 1);
	assert_counts(reg, "default-latency", "shop", "GET /b", 1, 1);
	/* shop GET /a: both defaults */
	assert_counts(reg, "default-availability", "shop", "GET /a", 0, 1);
	assert_counts(reg, "default-latency", "shop", "GET /a", 1, 1);
	/* billing: the explicit latency SLO counts both, default availability each */
	assert_false(has(reg, "default-latency", "billing", "GET /x"));
	assert_false(has(reg, "default-latency", "billing", "PUT /y"));
	assert_counts(reg, "billing-latency", "billing", "", 1, 2);
	assert_counts(reg, "default-availability", "billing", "GET /x", 0, 1);
	assert_counts(reg, "default-availability", "billing", "PUT /y", 1, 1);
	assert_int_equal(slo_registry__count(reg), 2 + 1 + 2 + 2);

	text = expose(reg, T0 + 20);
	assert_line(text, "slotap_slo_events_total{slo=\"b-availability\",service=\"shop\",endpoint=\"GET /b\",result=\"bad\"} 1");
	assert_line(text, "slotap_slo_events_total{slo=\"billing-latency\",service=\"billing\",endpoint=\"\",result=\"good\"} 1");
	assert_line(text, "slotap_slo_default_instances 5");
	free(text);
	slo_registry__free(reg);
}

/* an explicit SLO of several endpoints: its label joins them */
static void explicit_endpoints_label(void **state)
{
	static char *eps[] = { "GET /a", "POST /b" };
	struct slo_config sc = {
		.name = "two", .service = "shop", .endpoints = eps, .n_endpoints = 2,
		.sli = SLO_SLI_LATENCY, .objective = 0.9, .threshold_ns = MS,
		.window = SLO_WINDOW_CALENDAR_WEEK,
	};
	struct slotap_config cfg = { .slos = &sc, .n_slos = 1 };
	struct slo_registry *reg = slo_registry__new(&cfg, T0);

	(void)state;
	assert_non_null(reg);
	assert_string_equal(slo_registry__endpoint(reg, 0), "GET /a,POST /b");
	assert_false(slo_registry__is_default(reg, 0));
	slo_registry__record(reg, "shop", "POST", "/b", 200, MS, T0 + 10);
	slo_registry__record(reg, "shop", "GET", "/a", 200, 2 * MS, T0 + 10);
	slo_registry__record(reg, "shop", "GET", "/b", 200, 2 * MS, T0 + 10);
	assert_counts(reg, "two", "shop", "GET /a,POST /b", 1, 2);
	/* no defaults configured: none made */
	assert_int_equal(slo_registry__count(reg), 1);
	slo_registry__free(reg);
}

static void default_cap_counts_what_it_drops(void **state)
{
	struct slo_registry *reg = new_with_defaults(NULL, 0, 3);
	char *text;

	(void)state;
	slo_registry__record(reg, "shop", "GET", "/1", 200, MS, T0 + 10);	/* 2 copies */
	slo_registry__record(reg, "shop", "GET", "/2", 200, MS, T0 + 10);	/* 1, 1 dropped */
	slo_registry__record(reg, "shop", "GET", "/3", 200, MS, T0 + 10);	/* 2 dropped */
	slo_registry__record(reg, "shop", "GET", "/3", 200, MS, T0 + 10);
	slo_registry__record(reg, "shop", "GET", "/1", 200, MS, T0 + 10);
	assert_int_equal(slo_registry__count(reg), 3);
	assert_true(has(reg, "default-availability", "shop", "GET /2"));
	assert_false(has(reg, "default-latency", "shop", "GET /2"));
	assert_false(has(reg, "default-availability", "shop", "GET /3"));
	assert_counts(reg, "default-availability", "shop", "GET /1", 2, 2);
	text = expose(reg, T0 + 20);
	assert_line(text, "slotap_slo_default_instances 3");
	/* once per copy not made, however many requests follow */
	assert_line(text, "slotap_slo_default_instances_dropped_total 3");
	/* the requests no default SLO counted that one should have: /2 once, /3 twice */
	assert_line(text, "slotap_slo_default_requests_dropped_total 3");
	free(text);
	slo_registry__free(reg);

	/* max_default_slos: 0, none at all */
	reg = new_with_defaults(NULL, 0, 0);
	slo_registry__record(reg, "shop", "GET", "/1", 200, MS, T0 + 10);
	assert_int_equal(slo_registry__count(reg), 0);
	text = expose(reg, T0 + 20);
	assert_line(text, "slotap_slo_default_instances_dropped_total 2");
	free(text);
	slo_registry__free(reg);
}

/* Many endpoints: the table grows and finds each one again. */
static void many_endpoints(void **state)
{
	struct slo_registry *reg = new_with_defaults(NULL, 0, 10000);
	char route[32];

	(void)state;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 3000; i++) {
			snprintf(route, sizeof(route), "/r%d", i);
			slo_registry__record(reg, i % 2 ? "a" : "b", "GET", route,
					     i % 7 ? 200 : 500, MS, T0 + 10);
		}
	}
	assert_int_equal(slo_registry__count(reg), 6000);
	assert_counts(reg, "default-availability", "a", "GET /r7", 0, 2);
	assert_counts(reg, "default-availability", "b", "GET /r2998", 2, 2);
	assert_false(has(reg, "default-availability", "a", "GET /r2998"));
	slo_registry__free(reg);
}

/* ---- alerts ---- */

/* stderr into a temporary file, from capture_begin() to capture_end(). */
struct capture {
	FILE *f;
	int saved;
};

static void capture_begin(struct capture *c)
{
	c->f = tmpfile();
	assert_non_null(c->f);
	fflush(stderr);
	c->saved = dup(STDERR_FILENO);
	assert_true(c->saved >= 0);
	assert_true(dup2(fileno(c->f), STDERR_FILENO) >= 0);
}

/* What was written meanwhile; the caller frees it. */
static char *capture_end(struct capture *c)
{
	long size;
	char *text;

	fflush(stderr);
	assert_true(dup2(c->saved, STDERR_FILENO) >= 0);
	close(c->saved);
	size = ftell(c->f);
	assert_true(size >= 0);
	rewind(c->f);
	text = calloc(1, size + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, size, c->f), size);
	fclose(c->f);
	return text;
}

/* slo_registry__evaluate_alerts() with its log captured: the caller frees *log. */
static size_t evaluate_logged(struct slo_registry *reg, __u64 now_s, char **log)
{
	struct capture c;
	size_t changes;

	capture_begin(&c);
	changes = slo_registry__evaluate_alerts(reg, now_s);
	*log = capture_end(&c);
	return changes;
}

static size_t lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

#define AVAIL_GET_A "slo=\"default-availability\" service=\"shop\" endpoint=\"GET /a\""

static void alert_start_and_end_logged(void **state)
{
	struct slo_registry *reg = new_with_defaults(NULL, 0, 1000);
	__u64 t = T0 + 60;
	size_t i;
	char *log;

	(void)state;
	/* 20% errors against a 1% budget: a burn rate of 20 */
	for (i = 0; i < 100; i++)
		slo_registry__record(reg, "shop", "GET", "/a", i % 5 ? 200 : 500, MS, t);
	i = find(reg, "default-availability", "shop", "GET /a");

	/* every burn-rate rule and every policy condition starts: 8 lines, warnings */
	assert_int_equal(evaluate_logged(reg, t, &log), 8);
	assert_int_equal(lines(log), 8);
	assert_int_equal(slo_registry__alerts(reg, i), 0xff);
	assert_int_equal(slo_registry__alerts(reg, find(reg, "default-latency", "shop", "GET /a")), 0);
	assert_non_null(strstr(log, "slotap: warning: SLO alert started: " AVAIL_GET_A
			       " severity=page condition=burn_rate_1h_5m_14.4 burn_rate_1h=20"
			       " burn_rate_5m=20 factor=14.4 sli=0.8 objective=0.99 window=28d"
			       " budget_remaining=-19\n"));
	assert_non_null(strstr(log, "severity=ticket condition=burn_rate_3d_6h_1 burn_rate_3d=20"
			       " burn_rate_6h=20 factor=1 "));
	assert_non_null(strstr(log, AVAIL_GET_A " severity=page condition=budget_exhausted "));
	assert_non_null(strstr(log, "condition=budget_30pct_in_24h budget_consumed_24h=20 threshold=0.3 "));
	free(log);

	/* nothing changed: nothing logged */
	assert_int_equal(evaluate_logged(reg, t + 5, &log), 0);
	assert_string_equal(log, "");
	free(log);

	/* 10 minutes on, the 5m window is empty: the fastest page ends */
	assert_int_equal(evaluate_logged(reg, t + 600, &log), 1);
	assert_non_null(strstr(log, "slotap: SLO alert ended: " AVAIL_GET_A
			       " severity=page condition=burn_rate_1h_5m_14.4 burn_rate_1h=20"
			       " burn_rate_5m=0 factor=14.4 "));
	assert_int_equal(slo_registry__alerts(reg, i), 0xfe);
	free(log);

	/* 3 hours on: the 30m and 2h windows are empty too */
	assert_int_equal(evaluate_logged(reg, t + 3 * 3600, &log), 2);
	assert_non_null(strstr(log, "ended: " AVAIL_GET_A " severity=page condition=burn_rate_6h_30m_6 "));
	assert_non_null(strstr(log, "ended: " AVAIL_GET_A " severity=ticket condition=burn_rate_1d_2h_3 "));
	assert_int_equal(slo_registry__alerts(reg, i), 0xf8);
	free(log);

	/* the exposition agrees with the state */
	log = expose(reg, t + 3 * 3600);
	assert_line(log, "slotap_slo_alert_active{slo=\"default-availability\",service=\"shop\",endpoint=\"GET /a\",severity=\"page\",condition=\"burn_rate_1h_5m_14.4\"} 0");
	assert_line(log, "slotap_slo_alert_active{slo=\"default-availability\",service=\"shop\",endpoint=\"GET /a\",severity=\"ticket\",condition=\"burn_rate_3d_6h_1\"} 1");
	free(log);
	slo_registry__free(reg);
}

/* A reload keeps the alert state of the SLOs it keeps, and ends the others'. */
static void reload_carries_alerts(void **state)
{
	struct slo_registry *old = new_with_defaults(NULL, 0, 1000), *next;
	struct slotap_config no_defaults = {};
	struct state_restored carried;
	struct capture c;
	__u64 t = T0 + 60;
	char *log;

	(void)state;
	for (int i = 0; i < 100; i++)
		slo_registry__record(old, "shop", "GET", "/a", i % 5 ? 200 : 500, MS, t);
	assert_int_equal(evaluate_logged(old, t, &log), 8);
	free(log);

	/* the same default SLOs: their copies and their 8 alerts carry on, quietly */
	next = new_with_defaults(NULL, 0, 1000);
	assert_int_equal(state__carry_over(next, old, t + 5, &carried), 0);
	assert_int_equal(carried.defaults, 2);
	assert_int_equal(slo_registry__carry_alerts(next, old), 0);
	assert_int_equal(slo_registry__alerts(next, find(next, "default-availability", "shop",
							 "GET /a")), 0xff);
	assert_int_equal(evaluate_logged(next, t + 5, &log), 0);
	free(log);
	slo_registry__free(next);

	/* no default SLOs any more: each of the 8 ends, logged */
	next = slo_registry__new(&no_defaults, t + 5);
	assert_non_null(next);
	capture_begin(&c);
	assert_int_equal(slo_registry__carry_alerts(next, old), 0);
	assert_int_equal(slo_registry__end_removed_alerts(next, old, t + 5), 0);
	log = capture_end(&c);
	assert_int_equal(lines(log), 8);
	assert_non_null(strstr(log, "slotap: SLO alert ended: " AVAIL_GET_A
			       " severity=page condition=burn_rate_1h_5m_14.4 "));
	free(log);
	slo_registry__free(next);
	slo_registry__free(old);
}

/* tick() evaluates every SLO_REGISTRY_ALERT_INTERVAL_S, not at every call */
static void tick_every_interval(void **state)
{
	struct slo_registry *reg = new_with_defaults(NULL, 0, 1000);
	__u64 t = T0 + 60;
	size_t i;
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);

	(void)state;
	assert_non_null(f);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
	slo_registry__tick(reg, t);	/* nothing yet */
	slo_registry__record(reg, "shop", "GET", "/a", 500, MS, t);
	i = find(reg, "default-availability", "shop", "GET /a");
	slo_registry__tick(reg, t + SLO_REGISTRY_ALERT_INTERVAL_S - 1);
	assert_int_equal(slo_registry__alerts(reg, i), 0);
	slo_registry__tick(reg, t + SLO_REGISTRY_ALERT_INTERVAL_S);
	assert_int_equal(slo_registry__alerts(reg, i), 0xff);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	fclose(f);
	slo_registry__free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counts_by_endpoint_status_and_latency),
		cmocka_unit_test(grpc_and_undecoded_outcomes),
		cmocka_unit_test(no_slos_no_series),
		cmocka_unit_test(low_traffic_insufficient_data),
		cmocka_unit_test(defaults_made_at_first_request),
		cmocka_unit_test(explicit_slos_override_defaults),
		cmocka_unit_test(explicit_endpoints_label),
		cmocka_unit_test(default_cap_counts_what_it_drops),
		cmocka_unit_test(many_endpoints),
		cmocka_unit_test(alert_start_and_end_logged),
		cmocka_unit_test(tick_every_interval),
		cmocka_unit_test(reload_carries_alerts),
		cmocka_unit_test(transport_failures_are_bad_events),
		cmocka_unit_test(dependency_slos_and_bad_hook),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
