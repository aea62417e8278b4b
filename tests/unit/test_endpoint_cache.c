// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "endpoint_cache.h"
#include "h2_conn.h"

/* handles are opaque to the cache: any distinct addresses do */
static char series_a, series_b, slo_a;
#define SERIES(x)	((struct aggregator_series *)&(x))
#define SLO(x)		((struct slo_endpoint *)&(x))

static struct http_event request(const char *path, __u16 status)
{
	struct http_event e;

	memset(&e, 0, sizeof(e));
	e.service_id = 3;
	e.operation = HTTP_METHOD_GET;
	e.status = status;
	e.resource_len = strlen(path);
	memcpy(e.resource, path, e.resource_len);
	memcpy(e.exe_name, "nginx", 5);
	return e;
}

static void test_put_then_get(void **state)
{
	struct endpoint_cache *c = endpoint_cache__new();
	struct http_event e = request("/api/items/42", 200);
	const struct endpoint_cache_value *v;

	(void)state;
	assert_non_null(c);
	assert_null(endpoint_cache__get(c, &e));
	endpoint_cache__put(c, &e, &(struct endpoint_cache_value){ SERIES(series_a), SLO(slo_a) });
	v = endpoint_cache__get(c, &e);
	assert_non_null(v);
	assert_ptr_equal(v->series, SERIES(series_a));
	assert_ptr_equal(v->slo, SLO(slo_a));
	endpoint_cache__free(c);
}

/* Every part of the identity tells requests apart. */
static void test_identity(void **state)
{
	struct endpoint_cache *c = endpoint_cache__new();
	struct http_event e = request("/api/items/42", 200), o;

	(void)state;
	endpoint_cache__put(c, &e, &(struct endpoint_cache_value){ SERIES(series_a), NULL });
	o = request("/api/items/42", 500);
	assert_null(endpoint_cache__get(c, &o));
	o = request("/api/items/43", 200);
	assert_null(endpoint_cache__get(c, &o));
	o = request("/api/items/4", 200);
	assert_null(endpoint_cache__get(c, &o));
	o = e;
	o.operation = HTTP_METHOD_POST;
	assert_null(endpoint_cache__get(c, &o));
	o = e;
	o.service_id = 4;
	assert_null(endpoint_cache__get(c, &o));
	o = e;
	memcpy(o.exe_name, "redis", 5);
	assert_null(endpoint_cache__get(c, &o));
	o = e;
	o.flags |= HTTP_EVENT_PATH_TRUNCATED;
	assert_null(endpoint_cache__get(c, &o));
	/* what else the event carries does not matter */
	o = e;
	o.req_start_ns = 12345;
	o.tgid = 99;
	o.remote_port = 5555;
	assert_non_null(endpoint_cache__get(c, &o));
	endpoint_cache__free(c);
}

/* The kernel's path buffer past path_len holds an earlier request's bytes. */
static void test_bytes_past_the_path_ignored(void **state)
{
	struct endpoint_cache *c = endpoint_cache__new();
	struct http_event e = request("/a", 200), o = request("/a", 200);

	(void)state;
	memcpy(o.resource + 2, "/stale/leftovers", 16);
	endpoint_cache__put(c, &e, &(struct endpoint_cache_value){ SERIES(series_a), NULL });
	assert_non_null(endpoint_cache__get(c, &o));
	endpoint_cache__free(c);
}

static void test_clear_and_replace(void **state)
{
	struct endpoint_cache *c = endpoint_cache__new();
	struct http_event e = request("/x", 200);
	const struct endpoint_cache_value *v;

	(void)state;
	endpoint_cache__put(c, &e, &(struct endpoint_cache_value){ SERIES(series_a), NULL });
	endpoint_cache__clear(c);
	assert_null(endpoint_cache__get(c, &e));
	endpoint_cache__put(c, &e, &(struct endpoint_cache_value){ SERIES(series_a), NULL });
	endpoint_cache__put(c, &e, &(struct endpoint_cache_value){ SERIES(series_b), NULL });
	v = endpoint_cache__get(c, &e);
	assert_non_null(v);
	assert_ptr_equal(v->series, SERIES(series_b));
	endpoint_cache__free(c);
}

/* More endpoints than slots: each lookup is right or a miss, never another's. */
static void test_many_endpoints(void **state)
{
	struct endpoint_cache *c = endpoint_cache__new();
	static char handles[5000];
	size_t hits = 0;
	char path[32];

	(void)state;
	for (int i = 0; i < 5000; i++) {
		struct http_event e;

		snprintf(path, sizeof(path), "/p/%d", i);
		e = request(path, 200);
		endpoint_cache__put(c, &e,
				    &(struct endpoint_cache_value){ SERIES(handles[i]), NULL });
	}
	for (int i = 0; i < 5000; i++) {
		const struct endpoint_cache_value *v;
		struct http_event e;

		snprintf(path, sizeof(path), "/p/%d", i);
		e = request(path, 200);
		v = endpoint_cache__get(c, &e);
		if (!v)
			continue;
		assert_ptr_equal(v->series, SERIES(handles[i]));
		hits++;
	}
	assert_true(hits > 0 && hits <= 1024);
	endpoint_cache__free(c);
}

static struct h2_event h2_request(const char *path, __u8 protocol, __u16 status)
{
	struct h2_event h;

	memset(&h, 0, sizeof(h));
	h.e = request("", status);
	h.e.operation = HTTP_METHOD_POST;
	h.e.protocol = protocol;
	h.path_len = strlen(path);
	memcpy(h.path, path, h.path_len);
	return h;
}

/*
 * HTTP/2 requests and gRPC calls: their paths to 128 bytes, told apart from
 * each other and from HTTP/1's by protocol.
 */
static void test_h2(void **state)
{
	struct endpoint_cache *c = endpoint_cache__new();
	char long_path[H2_PATH_MAX + 1];
	struct h2_event h, o;
	struct http_event e;

	(void)state;
	memset(long_path, 'a', H2_PATH_MAX);
	long_path[0] = '/';
	long_path[H2_PATH_MAX] = '\0';
	h = h2_request(long_path, PROTO_HTTP2, 200);
	assert_null(endpoint_cache__get_h2(c, &h));
	endpoint_cache__put_h2(c, &h, &(struct endpoint_cache_value){ SERIES(series_a), SLO(slo_a) });
	assert_ptr_equal(endpoint_cache__get_h2(c, &h)->series, SERIES(series_a));
	o = h;
	o.path[H2_PATH_MAX - 1] = 'b';		/* the last byte counts */
	assert_null(endpoint_cache__get_h2(c, &o));
	o = h;
	o.path_len--;
	assert_null(endpoint_cache__get_h2(c, &o));
	o = h;
	o.path_truncated = true;
	assert_null(endpoint_cache__get_h2(c, &o));
	o = h;
	o.e.protocol = PROTO_GRPC;
	assert_null(endpoint_cache__get_h2(c, &o));
	o = h;
	o.e.status = 201;
	assert_null(endpoint_cache__get_h2(c, &o));
	/* an HTTP/1 request of the same first 64 bytes is another endpoint */
	e = h.e;
	e.protocol = PROTO_HTTP1;
	e.resource_len = HTTP_PATH_MAX;
	memcpy(e.resource, h.path, HTTP_PATH_MAX);
	e.flags = HTTP_EVENT_PATH_TRUNCATED;
	assert_null(endpoint_cache__get(c, &e));
	endpoint_cache__put(c, &e, &(struct endpoint_cache_value){ SERIES(series_b), NULL });
	assert_ptr_equal(endpoint_cache__get(c, &e)->series, SERIES(series_b));
	assert_ptr_equal(endpoint_cache__get_h2(c, &h)->series, SERIES(series_a));
	/* a gRPC call: method and code */
	h = h2_request("/shop.Cart/Add", PROTO_GRPC, 0);
	endpoint_cache__put_h2(c, &h, &(struct endpoint_cache_value){ SERIES(series_b), NULL });
	o = h;
	o.e.status = 14;
	assert_null(endpoint_cache__get_h2(c, &o));
	o.e.status = 0;
	o.e.req_start_ns = 777;
	assert_ptr_equal(endpoint_cache__get_h2(c, &o)->series, SERIES(series_b));
	endpoint_cache__free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_then_get),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_bytes_past_the_path_ignored),
		cmocka_unit_test(test_clear_and_replace),
		cmocka_unit_test(test_many_endpoints),
		cmocka_unit_test(test_h2),
	};

	return cmocka_run_group_tests_name("endpoint_cache", tests, NULL, NULL);
}
