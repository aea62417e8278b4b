// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * user/reload.c without BPF: an agent with no kernel side, fed events,
 * reloads configs whose services do not change (no new kernel programs):
 * the SLO counts carry over, a new SLO starts counting, a config that does
 * not load is refused and the running one kept, and /metrics says so.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent.h"

#define MS(x)	((__u64)(x) * 1000000ULL)

static const char SERVICES[] =
	"services:\n"
	"  - name: shop\n"
	"    match: {port: 8080}\n"
	"latency_thresholds: [10ms, 100ms]\n"
	"slos:\n"
	"  - name: avail\n"
	"    service: shop\n"
	"    sli: availability\n"
	"    objective: 99\n"
	"    window: 28d\n";

static const char LATENCY_SLO[] =
	"  - name: fast\n"
	"    service: shop\n"
	"    sli: latency\n"
	"    threshold: 100ms\n"
	"    objective: 90\n"
	"    window: 1h\n";

struct fixture {
	struct agent a;
	char path[64];
};

static void write_config(const char *path, const char *a, const char *b)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(a, f);
	fputs(b, f);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char errbuf[256];
	int fd;

	if (!f)
		return -1;
	strcpy(f->path, "/tmp/slotap-test-reload.XXXXXX");
	fd = mkstemp(f->path);
	if (fd < 0)
		return -1;
	close(fd);
	write_config(f->path, SERVICES, "");
	pthread_mutex_init(&f->a.lock, NULL);
	f->a.config_path = f->path;
	if (config__load_file(&f->a.cfg, f->path, errbuf, sizeof(errbuf)) || agent__init(&f->a))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	agent__free(&f->a);
	unlink(f->path);
	free(f);
	return 0;
}

static void request(struct agent *a, __u16 status, __u64 latency_ns)
{
	struct http_event e = {
		.req_start_ns = MS(1000), .resp_start_ns = MS(1000) + latency_ns,
		.service_id = 0, .local_port = 8080, .status = status, .resource_len = 2,
		.operation = HTTP_METHOD_GET, .protocol = PROTO_HTTP1, .kind = HTTP_EVENT_REQUEST,
	};

	memcpy(e.resource, "/x", 2);
	assert_int_equal(agent__route_event(a, &e), 0);
}

static double value(struct agent *a, const char *series)
{
	char *text = NULL, *p;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	double v;

	assert_non_null(out);
	assert_int_equal(agent__write_metrics(a, out), 0);
	fclose(out);
	/* a sample line, not the HELP or TYPE line that names it too */
	for (p = strstr(text, series); p && p != text && p[-1] != '\n'; p = strstr(p + 1, series))
		;
	if (!p)
		fail_msg("no series %s in /metrics", series);
	v = strtod(p + strlen(series), NULL);
	free(text);
	return v;
}

#define AVAIL(result)	"slotap_slo_events_total{slo=\"avail\",service=\"shop\",endpoint=\"\"," \
			"result=\"" result "\"} "
#define FAST(result)	"slotap_slo_events_total{slo=\"fast\",service=\"shop\",endpoint=\"\"," \
			"result=\"" result "\"} "

static void counts_carry_over_and_bad_configs_are_refused(void **state)
{
	struct fixture *f = *state;
	struct agent *a = &f->a;

	request(a, 200, MS(5));
	request(a, 200, MS(500));
	request(a, 503, MS(5));
	/* a new latency SLO: the old one keeps its counts, the new starts at 0 */
	write_config(f->path, SERVICES, LATENCY_SLO);
	agent__reload(a, -1);
	assert_true(value(a, "slotap_config_reloads_total{result=\"success\"} ") == 1);
	assert_true(value(a, AVAIL("good")) == 2);
	assert_true(value(a, AVAIL("bad")) == 1);
	request(a, 200, MS(5));
	request(a, 200, MS(500));
	assert_true(value(a, AVAIL("good")) == 4);
	assert_true(value(a, FAST("good")) == 1);
	assert_true(value(a, FAST("bad")) == 1);
	/* broken YAML, then an SLO of a service that does not exist: refused */
	write_config(f->path, SERVICES, "  - name: [\n");
	agent__reload(a, -1);
	write_config(f->path, SERVICES, "  - name: x\n    service: nobody\n    sli: availability\n"
			       "    objective: 99\n    window: 28d\n");
	agent__reload(a, -1);
	assert_true(value(a, "slotap_config_reloads_total{result=\"failure\"} ") == 2);
	assert_true(value(a, "slotap_config_last_reload_successful ") == 0);
	/* and the running config measures on */
	request(a, 503, MS(5));
	assert_true(value(a, AVAIL("bad")) == 2);
	assert_true(value(a, FAST("good")) == 2);
}

#define COUNT(route)	"http_server_request_duration_seconds_count{service_name=\"shop\"," \
			"http_request_method=\"GET\",http_route=\"" route "\"," \
			"network_protocol_version=\"1.1\",http_response_status_code=\"200\"} "

/* A service's route table is kept across a reload only if its route_mode is too. */
static void route_mode_change_applies(void **state)
{
	struct fixture *f = *state;
	struct agent *a = &f->a;

	request(a, 200, MS(5));
	assert_true(value(a, COUNT("/x")) == 1);
	write_config(f->path, SERVICES, "route_mode: strict\n");
	agent__reload(a, -1);
	assert_true(value(a, "slotap_config_reloads_total{result=\"success\"} ") == 1);
	request(a, 200, MS(5));
	assert_true(value(a, COUNT("__other__")) == 1);
	assert_true(value(a, COUNT("/x")) == 1);
}

/*
 * An empty file (a truncated write, a template that failed) is refused with
 * the reason, and the running config with its SLO counts is kept; so is
 * one of comments alone ("{}" asks for every default: test_config.c).
 */
static void empty_config_is_refused(void **state)
{
	struct fixture *f = *state;
	struct agent *a = &f->a;

	request(a, 200, MS(5));
	request(a, 503, MS(5));
	write_config(f->path, "", "");
	agent__reload(a, -1);
	write_config(f->path, "# rendered by a template that failed\n", "\n");
	agent__reload(a, -1);
	assert_true(value(a, "slotap_config_reloads_total{result=\"failure\"} ") == 2);
	assert_true(value(a, "slotap_config_reloads_total{result=\"success\"} ") == 0);
	assert_int_equal(a->cfg.n_slos, 1);
	request(a, 200, MS(5));
	assert_true(value(a, AVAIL("good")) == 2);
	assert_true(value(a, AVAIL("bad")) == 1);
	/* and the file written whole again loads */
	write_config(f->path, SERVICES, LATENCY_SLO);
	agent__reload(a, -1);
	assert_true(value(a, "slotap_config_reloads_total{result=\"success\"} ") == 1);
	assert_int_equal(a->cfg.n_slos, 2);
	assert_true(value(a, AVAIL("good")) == 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(counts_carry_over_and_bad_configs_are_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(route_mode_change_applies, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_config_is_refused, setup, teardown),
	};

	return cmocka_run_group_tests_name("reload", tests, NULL, NULL);
}
