// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * user/event_router.c: each kind of kernel event lands in its metric
 * family and SLOs, read back from the agent's own /metrics text. No BPF:
 * an agent with no kernel source, fed events as a drain would.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent.h"
#include "grpc.h"
#include "h2_conn.h"

#define MS(x)	((__u64)(x) * 1000000ULL)

static const char CONFIG[] =
	"services:\n"
	"  - name: shop\n"
	"    match: {port: 8080}\n"
	"    routes: [\"/items/{id}\"]\n"
	"slos:\n"
	"  - name: shop-availability\n"
	"    service: shop\n"
	"    sli: availability\n"
	"    objective: 99\n"
	"    window: 28d\n"
	"  - name: pay-calls\n"
	"    dependency: pay\n"
	"    sli: availability\n"
	"    objective: 99\n"
	"    window: 28d\n"
	"dependencies:\n"
	"  - {name: pay, address: 10.0.0.9, port: 9000}\n"
	"latency_thresholds: [10ms, 100ms]\n";

static int setup(void **state)
{
	struct agent *a = calloc(1, sizeof(*a));
	char errbuf[256];

	if (!a)
		return -1;
	pthread_mutex_init(&a->lock, NULL);
	if (config__load_string(&a->cfg, CONFIG, strlen(CONFIG), "test", errbuf, sizeof(errbuf)) ||
	    agent__init(a)) {
		fprintf(stderr, "setup: %s\n", errbuf);
		return -1;
	}
	*state = a;
	return 0;
}

static int teardown(void **state)
{
	struct agent *a = *state;

	agent__free(a);
	free(a);
	return 0;
}

/* A request of service 0 (shop) answered with status after latency_ns. */
static struct http_event answered(const char *path, __u8 method, __u16 status, __u64 latency_ns)
{
	struct http_event e = {
		.req_start_ns = MS(1000), .resp_start_ns = MS(1000) + latency_ns, .tgid = 42,
		.service_id = 0, .local_port = 8080, .remote_port = 40000, .status = status,
		.operation = method, .protocol = PROTO_HTTP1, .kind = HTTP_EVENT_REQUEST,
		.status_class = status >= 500 ? STATUS_CLASS_SERVER_ERROR : STATUS_CLASS_OK,
	};

	e.resource_len = strlen(path);
	memcpy(e.resource, path, e.resource_len);
	memcpy(e.exe_name, "shopd", 6);
	return e;
}

static char *metrics(struct agent *a)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	assert_int_equal(agent__write_metrics(a, out), 0);
	fclose(out);
	return text;
}

/* The sample line "name{labels} value" is in the text, exactly. */
static void assert_sample(const char *text, const char *sample)
{
	const char *p = strstr(text, sample);

	if (!p || (p != text && p[-1] != '\n') || p[strlen(sample)] != '\n')
		fail_msg("no line \"%s\" in /metrics", sample);
}

static void route(struct agent *a, const struct http_event *e)
{
	assert_int_equal(agent__route_event(a, e), 0);
}

static void answered_requests_by_route_and_status(void **state)
{
	struct agent *a = *state;
	struct http_event e = answered("/items/42", HTTP_METHOD_GET, 200, MS(5));
	char *text;

	route(a, &e);
	route(a, &e);	/* the second one through the endpoint cache */
	e = answered("/items/7", HTTP_METHOD_GET, 503, MS(50));
	route(a, &e);
	text = metrics(a);
	assert_sample(text, "http_server_request_duration_seconds_count{service_name=\"shop\","
		      "http_request_method=\"GET\",http_route=\"/items/{id}\","
		      "network_protocol_version=\"1.1\",http_response_status_code=\"200\"} 2");
	assert_sample(text, "http_server_request_duration_seconds_bucket{service_name=\"shop\","
		      "http_request_method=\"GET\",http_route=\"/items/{id}\","
		      "network_protocol_version=\"1.1\",http_response_status_code=\"503\",le=\"0.01\"} 0");
	assert_sample(text, "slotap_slo_events_total{slo=\"shop-availability\",service=\"shop\","
		      "endpoint=\"\",result=\"good\"} 2");
	assert_sample(text, "slotap_slo_events_total{slo=\"shop-availability\",service=\"shop\","
		      "endpoint=\"\",result=\"bad\"} 1");
	assert_sample(text, "slotap_events_received_total 3");
	free(text);
}

/*
 * Failures: with a request (its endpoint's SLO counts it bad), and before
 * any (refused: the service's); a late response is counted once, as late.
 */
static void failures_and_late_responses(void **state)
{
	struct agent *a = *state;
	struct http_event e = answered("/items/1", HTTP_METHOD_POST, 0, MS(30));
	char *text;

	e.failure = HTTP_FAILURE_CONN_RESET;
	route(a, &e);
	e = (struct http_event){ .protocol = PROTO_NONE, .failure = HTTP_FAILURE_REFUSED,
				 .flags = HTTP_EVENT_NO_REQUEST, .service_id = 0, .local_port = 8080 };
	route(a, &e);
	e = answered("/items/1", HTTP_METHOD_GET, 200, MS(40000));
	e.flags = HTTP_EVENT_LATE;
	route(a, &e);
	text = metrics(a);
	assert_sample(text, "slotap_transport_failures_total{service=\"shop\","
		      "reason=\"connection_reset\"} 1");
	assert_sample(text, "slotap_transport_failures_total{service=\"shop\",reason=\"refused\"} 1");
	assert_sample(text, "slotap_http_late_responses_total 1");
	assert_sample(text, "slotap_slo_events_total{slo=\"shop-availability\",service=\"shop\","
		      "endpoint=\"\",result=\"bad\"} 2");
	assert_null(strstr(text, "http_response_status_code=\"200\"} 1\n"));
	free(text);
}

/* What cannot be attributed is counted, by why: never silently dropped. */
static void unattributable_events_are_counted(void **state)
{
	struct agent *a = *state;
	struct http_event e = answered("/items/1", HTTP_METHOD_GET, 200, MS(1));
	char *text;

	e.protocol = PROTO_MAX + 7;	/* from a newer kernel side */
	route(a, &e);
	e = answered("/items/1", HTTP_METHOD_GET, 200, MS(1));
	e.service_id = 99;		/* no such service */
	route(a, &e);
	e = answered("/items/1", HTTP_METHOD_GET, 200, MS(1));
	e.flags = HTTP_EVENT_PATH_TRUNCATED;
	route(a, &e);
	text = metrics(a);
	assert_sample(text, "slotap_events_lost_total{reason=\"unknown_protocol\"} 1");
	assert_sample(text, "slotap_events_lost_total{reason=\"out_of_memory\"} 1");
	assert_sample(text, "slotap_http_paths_truncated_total 1");
	assert_sample(text, "slotap_events_received_total 3");
	free(text);
}

/* An outbound call of a tracked process: the client family, by destination. */
static void outbound_calls(void **state)
{
	struct agent *a = *state;
	struct http_event e = answered("/pay", HTTP_METHOD_POST, 201, MS(20));
	char *text;

	e.flags = HTTP_EVENT_CLIENT;
	e.remote_port = 9000;
	e.remote_addr[10] = e.remote_addr[11] = 0xff;	/* ::ffff:10.0.0.9 */
	e.remote_addr[12] = 10;
	e.remote_addr[15] = 9;
	route(a, &e);
	text = metrics(a);
	assert_sample(text, "http_client_request_duration_seconds_count{service_name=\"shop\","
		      "server_address=\"10.0.0.9\",server_port=\"9000\",http_request_method=\"POST\","
		      "network_protocol_version=\"1.1\",http_response_status_code=\"201\"} 1");
	assert_null(strstr(text, "http_server_request_duration_seconds_count{"));
	free(text);
}

static struct h2_event h2(const char *path, bool grpc, __u16 status, __u64 latency_ns)
{
	struct h2_event h = { .e = answered("", HTTP_METHOD_POST, status, latency_ns),
			      .answered = true };

	h.e.protocol = grpc ? PROTO_GRPC : PROTO_HTTP2;
	h.e.status_class = grpc ? grpc_code__status_class(status) : h.e.status_class;
	h.path_len = strlen(path);
	memcpy(h.path, path, h.path_len);
	return h;
}

/*
 * HTTP/2 requests: the HTTP family with network_protocol_version "2";
 * undecoded fields: their route, status and count. gRPC calls: the RPC
 * family only, by method and code name; UNIMPLEMENTED is _OTHER; a
 * streaming call is counted apart. The availability SLO: bad by
 * bad_grpc_codes, undecoded neither good nor bad.
 */
static void http2_and_grpc(void **state)
{
	struct agent *a = *state;
	struct h2_event h = h2("/items/5?x=1", false, 200, MS(5));
	char *text;

	agent__route_h2_event(a, &h);
	h = h2("/items/6", false, 0, MS(5));
	h.undecoded = 1u << H2_FIELD_STATUS | 1u << H2_FIELD_PATH | 1u << H2_FIELD_METHOD;
	h.cause[H2_FIELD_STATUS] = HPACK_CAUSE_BEFORE_AGENT;
	h.cause[H2_FIELD_PATH] = HPACK_CAUSE_RECORD_LOST;
	h.cause[H2_FIELD_METHOD] = HPACK_CAUSE_RECORD_LOST;
	agent__route_h2_event(a, &h);
	h = h2("/shop.Cart/Add", true, GRPC_OK, MS(2));
	agent__route_h2_event(a, &h);
	h = h2("/shop.Cart/Add", true, GRPC_UNAVAILABLE, MS(2));
	agent__route_h2_event(a, &h);
	h = h2("/shop.Cart/Add", true, GRPC_NOT_FOUND, MS(2));	/* not a bad code */
	h.streaming = true;
	agent__route_h2_event(a, &h);
	h = h2("/shop.Cart/Nope", true, GRPC_UNIMPLEMENTED, MS(1));
	agent__route_h2_event(a, &h);
	h = h2("/shop.Cart/Add", true, 0, MS(1));
	h.undecoded = 1u << H2_FIELD_STATUS;
	h.cause[H2_FIELD_STATUS] = HPACK_CAUSE_BEFORE_AGENT;
	agent__route_h2_event(a, &h);
	h = h2("/shop.Cart/Add", true, 0, MS(1));
	h.e.failure = HTTP_FAILURE_UNFRAMED;
	agent__route_h2_event(a, &h);
	text = metrics(a);
	assert_sample(text, "http_server_request_duration_seconds_count{service_name=\"shop\","
		      "http_request_method=\"POST\",http_route=\"/items/{id}\","
		      "network_protocol_version=\"2\",http_response_status_code=\"200\"} 1");
	assert_sample(text, "http_server_request_duration_seconds_count{service_name=\"shop\","
		      "http_request_method=\"_OTHER\",http_route=\"__undecoded__\","
		      "network_protocol_version=\"2\",http_response_status_code=\"undecoded\"} 1");
	assert_sample(text, "rpc_server_call_duration_seconds_count{service_name=\"shop\","
		      "rpc_system_name=\"grpc\",rpc_method=\"shop.Cart/Add\","
		      "rpc_response_status_code=\"OK\"} 1");
	assert_sample(text, "rpc_server_call_duration_seconds_count{service_name=\"shop\","
		      "rpc_system_name=\"grpc\",rpc_method=\"shop.Cart/Add\","
		      "rpc_response_status_code=\"UNAVAILABLE\"} 1");
	assert_sample(text, "rpc_server_call_duration_seconds_count{service_name=\"shop\","
		      "rpc_system_name=\"grpc\",rpc_method=\"shop.Cart/Add\","
		      "rpc_response_status_code=\"undecoded\"} 1");
	assert_sample(text, "rpc_server_call_duration_seconds_count{service_name=\"shop\","
		      "rpc_system_name=\"grpc\",rpc_method=\"_OTHER\","
		      "rpc_response_status_code=\"UNIMPLEMENTED\"} 1");
	assert_null(strstr(text, "Nope"));
	assert_sample(text, "slotap_grpc_streaming_calls_total{service_name=\"shop\","
		      "rpc_method=\"shop.Cart/Add\"} 1");
	assert_sample(text, "slotap_h2_fields_undecoded_total{service_name=\"shop\","
		      "field=\"status\",cause=\"before_agent\"} 2");
	assert_sample(text, "slotap_h2_fields_undecoded_total{service_name=\"shop\","
		      "field=\"path\",cause=\"record_lost\"} 1");
	assert_sample(text, "slotap_transport_failures_total{service=\"shop\","
		      "reason=\"unframed\"} 1");
	/* good: 200, OK, NOT_FOUND; bad: UNAVAILABLE, UNIMPLEMENTED, the failure */
	assert_sample(text, "slotap_slo_events_total{slo=\"shop-availability\",service=\"shop\","
		      "endpoint=\"\",result=\"good\"} 3");
	assert_sample(text, "slotap_slo_events_total{slo=\"shop-availability\",service=\"shop\","
		      "endpoint=\"\",result=\"bad\"} 3");
	assert_null(strstr(text, "http_route=\"/shop.Cart"));
	free(text);
}

/* gRPC client calls: by destination, method and code; blame by status class. */
static void grpc_client_calls(void **state)
{
	struct agent *a = *state;
	struct h2_event h = h2("/pay.Api/Charge", true, GRPC_INTERNAL, MS(20));
	char *text;

	h.e.flags = HTTP_EVENT_CLIENT;
	h.e.remote_port = 9000;
	h.e.remote_addr[10] = h.e.remote_addr[11] = 0xff;
	h.e.remote_addr[12] = 10;
	h.e.remote_addr[15] = 9;
	agent__route_h2_event(a, &h);
	h.e.protocol = PROTO_HTTP2;
	h.e.status = 204;
	h.e.status_class = STATUS_CLASS_OK;
	agent__route_h2_event(a, &h);
	text = metrics(a);
	assert_sample(text, "rpc_client_call_duration_seconds_count{service_name=\"shop\","
		      "server_address=\"10.0.0.9\",server_port=\"9000\",rpc_system_name=\"grpc\","
		      "rpc_method=\"pay.Api/Charge\",rpc_response_status_code=\"INTERNAL\"} 1");
	assert_sample(text, "http_client_request_duration_seconds_count{service_name=\"shop\","
		      "server_address=\"10.0.0.9\",server_port=\"9000\",http_request_method=\"POST\","
		      "network_protocol_version=\"2\",http_response_status_code=\"204\"} 1");
	free(text);
}

/*
 * Names a client invents stay out of the route table: a call the server
 * did not answer (cancelled, reset, timed out, its status undecoded) takes
 * a route admitted already or _OTHER (review finding 6).
 */
static void grpc_invented_methods(void **state)
{
	struct agent *a = *state;
	struct h2_event h;
	char path[32], *text;

	h = h2("/shop.Cart/Add", true, GRPC_OK, MS(1));
	agent__route_h2_event(a, &h);
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "/junk%d/x", i);
		h = h2(path, true, GRPC_CANCELLED, MS(1));	/* the client's RST_STREAM */
		h.answered = false;
		agent__route_h2_event(a, &h);
		h = h2(path, true, 0, MS(1));
		h.e.failure = HTTP_FAILURE_TIMEOUT;
		h.answered = false;
		agent__route_h2_event(a, &h);
		h = h2(path, true, 0, MS(1));
		h.undecoded = 1u << H2_FIELD_STATUS;
		h.answered = false;
		agent__route_h2_event(a, &h);
	}
	h = h2("/shop.Cart/Add", true, GRPC_CANCELLED, MS(1));	/* a method known: its name */
	h.answered = false;
	agent__route_h2_event(a, &h);
	h = h2("/shop.Cart/Del", true, GRPC_OK, MS(1));	/* answered: admitted */
	agent__route_h2_event(a, &h);
	text = metrics(a);
	assert_sample(text, "slotap_http_routes{service_name=\"shop\"} 2");
	assert_sample(text, "slotap_http_route_overflow_total{service_name=\"shop\"} 0");
	assert_null(strstr(text, "junk"));
	assert_sample(text, "rpc_server_call_duration_seconds_count{service_name=\"shop\","
		      "rpc_system_name=\"grpc\",rpc_method=\"_OTHER\","
		      "rpc_response_status_code=\"CANCELLED\"} 300");
	assert_sample(text, "rpc_server_call_duration_seconds_count{service_name=\"shop\","
		      "rpc_system_name=\"grpc\",rpc_method=\"shop.Cart/Add\","
		      "rpc_response_status_code=\"CANCELLED\"} 1");
	assert_sample(text, "rpc_server_call_duration_seconds_count{service_name=\"shop\","
		      "rpc_system_name=\"grpc\",rpc_method=\"shop.Cart/Del\","
		      "rpc_response_status_code=\"OK\"} 1");
	assert_sample(text, "slotap_transport_failures_total{service=\"shop\","
		      "reason=\"timeout\"} 300");
	free(text);
}

/*
 * A tracked client's gRPC methods, by destination: capped at
 * max_routes_per_service (beyond, __overflow__, counted), and a name only
 * from a call the server answered (review finding 7).
 */
static void grpc_client_methods_capped(void **state)
{
	struct agent *a = *state;
	struct h2_event h;
	char path[32], *text;

	for (int i = 0; i < 150; i++) {
		snprintf(path, sizeof(path), "/fwd%d/x", i);
		h = h2(path, true, GRPC_OK, MS(1));
		h.e.flags = HTTP_EVENT_CLIENT;
		h.e.remote_port = 9000;
		agent__route_h2_event(a, &h);
	}
	h = h2("/never/answered", true, GRPC_CANCELLED, MS(1));
	h.e.flags = HTTP_EVENT_CLIENT;
	h.e.remote_port = 9000;
	h.answered = false;
	agent__route_h2_event(a, &h);
	h = h2("/fwd3/x", true, GRPC_DEADLINE_EXCEEDED, MS(1));	/* known there */
	h.e.flags = HTTP_EVENT_CLIENT;
	h.e.remote_port = 9000;
	h.answered = false;
	agent__route_h2_event(a, &h);
	h = h2("/fwd3/x", true, GRPC_OK, MS(1));	/* another destination: its own table */
	h.e.flags = HTTP_EVENT_CLIENT;
	h.e.remote_port = 9001;
	agent__route_h2_event(a, &h);
	text = metrics(a);
	assert_sample(text, "rpc_client_call_duration_seconds_count{service_name=\"shop\","
		      "server_address=\"::\",server_port=\"9000\",rpc_system_name=\"grpc\","
		      "rpc_method=\"fwd99/x\",rpc_response_status_code=\"OK\"} 1");
	assert_null(strstr(text, "rpc_method=\"fwd100/x\""));
	assert_sample(text, "rpc_client_call_duration_seconds_count{service_name=\"shop\","
		      "server_address=\"::\",server_port=\"9000\",rpc_system_name=\"grpc\","
		      "rpc_method=\"__overflow__\",rpc_response_status_code=\"OK\"} 50");
	assert_sample(text, "slotap_outbound_rpc_methods_overflow_total 50");
	assert_null(strstr(text, "rpc_method=\"never"));
	assert_sample(text, "rpc_client_call_duration_seconds_count{service_name=\"shop\","
		      "server_address=\"::\",server_port=\"9000\",rpc_system_name=\"grpc\","
		      "rpc_method=\"_OTHER\",rpc_response_status_code=\"CANCELLED\"} 1");
	assert_sample(text, "rpc_client_call_duration_seconds_count{service_name=\"shop\","
		      "server_address=\"::\",server_port=\"9000\",rpc_system_name=\"grpc\","
		      "rpc_method=\"fwd3/x\",rpc_response_status_code=\"DEADLINE_EXCEEDED\"} 1");
	assert_sample(text, "rpc_client_call_duration_seconds_count{service_name=\"shop\","
		      "server_address=\"::\",server_port=\"9001\",rpc_system_name=\"grpc\","
		      "rpc_method=\"fwd3/x\",rpc_response_status_code=\"OK\"} 1");
	free(text);
}

/*
 * A stream above a graceful GOAWAY's last-stream-id was not processed: a
 * transport failure, of the server or the client, but no SLO's event and
 * no blame; above a GOAWAY with an error code, a bad event.
 */
static void graceful_goaway_is_no_slo_event(void **state)
{
	struct agent *a = *state;
	struct h2_event h = h2("/items/5", false, 0, MS(1));
	char *text;

	h.e.failure = HTTP_FAILURE_GOAWAY;
	agent__route_h2_event(a, &h);
	h = h2("/pay.Api/Charge", true, 0, MS(1));
	h.e.failure = HTTP_FAILURE_GOAWAY;
	h.e.flags = HTTP_EVENT_CLIENT;
	h.e.remote_port = 9000;
	h.e.remote_addr[10] = h.e.remote_addr[11] = 0xff;	/* ::ffff:10.0.0.9 */
	h.e.remote_addr[12] = 10;
	h.e.remote_addr[15] = 9;
	agent__route_h2_event(a, &h);
	text = metrics(a);
	assert_sample(text, "slotap_transport_failures_total{service=\"shop\",reason=\"goaway\"} 1");
	assert_sample(text, "slotap_http_client_request_failures_total{service_name=\"shop\","
		      "server_address=\"10.0.0.9\",server_port=\"9000\",reason=\"goaway\"} 1");
	assert_sample(text, "slotap_slo_events_total{slo=\"shop-availability\",service=\"shop\","
		      "endpoint=\"\",result=\"bad\"} 0");
	assert_sample(text, "slotap_slo_events_total{slo=\"pay-calls\",service=\"pay\","
		      "endpoint=\"\",result=\"bad\"} 0");
	free(text);
	h.e.failure = HTTP_FAILURE_GOAWAY_ERROR;
	agent__route_h2_event(a, &h);
	h = h2("/items/5", false, 0, MS(1));
	h.e.failure = HTTP_FAILURE_GOAWAY_ERROR;
	agent__route_h2_event(a, &h);
	text = metrics(a);
	assert_sample(text, "slotap_transport_failures_total{service=\"shop\","
		      "reason=\"goaway_error\"} 1");
	assert_sample(text, "slotap_slo_events_total{slo=\"shop-availability\",service=\"shop\","
		      "endpoint=\"\",result=\"bad\"} 1");
	assert_sample(text, "slotap_slo_events_total{slo=\"pay-calls\",service=\"pay\","
		      "endpoint=\"\",result=\"bad\"} 1");
	free(text);
}

/*
 * The second and later requests of an HTTP/2 or gRPC endpoint go through
 * the endpoint cache: the same series and SLO events as the first. A call
 * the server did not answer is resolved each time: its method's name once
 * an answered call admitted it, not the _OTHER it had before.
 */
static void h2_endpoints_cached(void **state)
{
	struct agent *a = *state;
	struct h2_event h = h2("/items/5", false, 200, MS(5)), g;
	char *text;

	g = h2("/shop.Cart/Add", true, GRPC_CANCELLED, MS(1));
	g.answered = false;
	agent__route_h2_event(a, &g);
	g = h2("/shop.Cart/Add", true, GRPC_OK, MS(50));
	for (int i = 0; i < 3; i++) {
		agent__route_h2_event(a, &h);
		agent__route_h2_event(a, &g);
	}
	g.e.status = GRPC_UNAVAILABLE;
	g.e.status_class = grpc_code__status_class(GRPC_UNAVAILABLE);
	agent__route_h2_event(a, &g);
	agent__route_h2_event(a, &g);
	g = h2("/shop.Cart/Add", true, GRPC_CANCELLED, MS(1));
	g.answered = false;
	agent__route_h2_event(a, &g);
	text = metrics(a);
	assert_sample(text, "http_server_request_duration_seconds_count{service_name=\"shop\","
		      "http_request_method=\"POST\",http_route=\"/items/{id}\","
		      "network_protocol_version=\"2\",http_response_status_code=\"200\"} 3");
	assert_sample(text, "rpc_server_call_duration_seconds_count{service_name=\"shop\","
		      "rpc_system_name=\"grpc\",rpc_method=\"shop.Cart/Add\","
		      "rpc_response_status_code=\"OK\"} 3");
	assert_sample(text, "rpc_server_call_duration_seconds_bucket{service_name=\"shop\","
		      "rpc_system_name=\"grpc\",rpc_method=\"shop.Cart/Add\","
		      "rpc_response_status_code=\"UNAVAILABLE\",le=\"0.1\"} 2");
	assert_sample(text, "rpc_server_call_duration_seconds_count{service_name=\"shop\","
		      "rpc_system_name=\"grpc\",rpc_method=\"_OTHER\","
		      "rpc_response_status_code=\"CANCELLED\"} 1");
	assert_sample(text, "rpc_server_call_duration_seconds_count{service_name=\"shop\","
		      "rpc_system_name=\"grpc\",rpc_method=\"shop.Cart/Add\","
		      "rpc_response_status_code=\"CANCELLED\"} 1");
	assert_sample(text, "slotap_slo_events_total{slo=\"shop-availability\",service=\"shop\","
		      "endpoint=\"\",result=\"good\"} 8");
	assert_sample(text, "slotap_slo_events_total{slo=\"shop-availability\",service=\"shop\","
		      "endpoint=\"\",result=\"bad\"} 2");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(answered_requests_by_route_and_status, setup, teardown),
		cmocka_unit_test_setup_teardown(failures_and_late_responses, setup, teardown),
		cmocka_unit_test_setup_teardown(unattributable_events_are_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(outbound_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(http2_and_grpc, setup, teardown),
		cmocka_unit_test_setup_teardown(grpc_client_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(grpc_invented_methods, setup, teardown),
		cmocka_unit_test_setup_teardown(grpc_client_methods_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(graceful_goaway_is_no_slo_event, setup, teardown),
		cmocka_unit_test_setup_teardown(h2_endpoints_cached, setup, teardown),
	};

	return cmocka_run_group_tests_name("event_router", tests, NULL, NULL);
}
