// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http_server.h"
#include "route.h"

static const char *res(struct route_table *rt, const char *path)
{
	const char *r = route_table__resolve(rt, path, strlen(path), false);

	assert_non_null(r);
	return r;
}

static const char *res_trunc(struct route_table *rt, const char *path)
{
	const char *r = route_table__resolve(rt, path, strlen(path), true);

	assert_non_null(r);
	return r;
}

static void test_templates_first_and_in_order(void **state)
{
	const char *const tmpl[] = {
		"/users/me",
		"/users/{id}",
		"/users/{user}/orders/{order}",
		"/files/{name}",
		"/",
	};
	struct route_table *rt = route_table__new(tmpl, 5, 0, ROUTE_MODE_FOLD);

	(void)state;
	assert_non_null(rt);
	/* the earlier literal template wins over the later {id} */
	assert_string_equal(res(rt, "/users/me"), "/users/me");
	assert_string_equal(res(rt, "/users/alice"), "/users/{id}");
	assert_string_equal(res(rt, "/users/42/orders/7"), "/users/{user}/orders/{order}");
	/* a parameter does not swallow a word the heuristic would keep */
	assert_string_equal(res(rt, "/files/report.pdf"), "/files/{name}");
	assert_string_equal(res(rt, "/"), "/");
	/* segment counts must agree, a parameter needs a non-empty segment */
	assert_string_equal(res(rt, "/users/"), "/users/");
	assert_string_equal(res(rt, "/users/42/orders"), "/users/{id}/orders");
	assert_string_equal(res(rt, "/users/42/orders/7/x"), "/users/{id}/orders/{id}/x");
	assert_string_equal(res(rt, "/files/a/b"), "/files/a/b");
	/* literal segments are case-sensitive */
	assert_string_equal(res(rt, "/Users/me"), "/Users/me");
	/* the returned label is the template text, interned */
	assert_ptr_equal(res(rt, "/users/bob"), res(rt, "/users/carol"));
	route_table__free(rt);
}

static void test_heuristic_digits(void **state)
{
	struct route_table *rt = route_table__new(NULL, 0, 0, ROUTE_MODE_FOLD);

	(void)state;
	assert_non_null(rt);
	assert_string_equal(res(rt, "/items/123"), "/items/{id}");
	assert_string_equal(res(rt, "/items/0/parts/99999999999999999999"),
			    "/items/{id}/parts/{id}");
	assert_string_equal(res(rt, "/v2/items"), "/v2/items");
	assert_string_equal(res(rt, "/items/12a"), "/items/12a");
	assert_string_equal(res(rt, "/items/-1"), "/items/-1");
	assert_string_equal(res(rt, "/1"), "/{id}");
	route_table__free(rt);
}

static void test_heuristic_uuid(void **state)
{
	struct route_table *rt = route_table__new(NULL, 0, 0, ROUTE_MODE_FOLD);

	(void)state;
	assert_non_null(rt);
	assert_string_equal(res(rt, "/o/123e4567-e89b-12d3-a456-426614174000/x"), "/o/{id}/x");
	assert_string_equal(res(rt, "/o/123E4567-E89B-12D3-A456-426614174000"), "/o/{id}");
	/* letters-only hex groups still form a UUID */
	assert_string_equal(res(rt, "/o/abcdefab-cdef-abcd-efab-cdefabcdefab"), "/o/{id}");
	/* wrong grouping, non-hex, or one character short: still 8+ hex digits */
	assert_string_equal(res(rt, "/o/123e4567e-89b-12d3-a456-426614174000"), "/o/{id}");
	assert_string_equal(res(rt, "/o/123e4567-e89b-12d3-a456-42661417400g"), "/o/{id}");
	assert_string_equal(res(rt, "/o/123e4567-e89b-12d3-a456-42661417400"), "/o/{id}");
	route_table__free(rt);
}

static void test_heuristic_hex_and_words(void **state)
{
	struct route_table *rt = route_table__new(NULL, 0, 0, ROUTE_MODE_FOLD);

	(void)state;
	assert_non_null(rt);
	assert_string_equal(res(rt, "/commit/4f2a9c1e"), "/commit/{id}");
	assert_string_equal(res(rt, "/commit/4F2A9C1E0B"), "/commit/{id}");
	assert_string_equal(res(rt, "/blob/da39a3ee5e6b4b0d3255bfef95601890afd80709"),
			    "/blob/{id}");
	/* seven hex characters are too short */
	assert_string_equal(res(rt, "/commit/4f2a9c1"), "/commit/4f2a9c1");
	/* hex letters only: a word, not an id */
	assert_string_equal(res(rt, "/deadbeef"), "/deadbeef");
	assert_string_equal(res(rt, "/api/items/deadline"), "/api/items/deadline");
	assert_string_equal(res(rt, "/api/items/feedback"), "/api/items/feedback");
	assert_string_equal(res(rt, "/api/v1/healthz"), "/api/v1/healthz");
	assert_string_equal(res(rt, "/static/app.js"), "/static/app.js");
	route_table__free(rt);
}

static void test_query_and_fragment_cut(void **state)
{
	struct route_table *rt = route_table__new(NULL, 0, 0, ROUTE_MODE_FOLD);
	const char p[] = "/items/5?x=1";

	(void)state;
	assert_non_null(rt);
	assert_string_equal(res(rt, "/items/5?q=a b"), "/items/{id}");
	assert_string_equal(res(rt, "/items/5#frag"), "/items/{id}");
	assert_string_equal(res(rt, "/items?"), "/items");
	/* a truncation past the '?' cut only the query: the path is whole */
	assert_string_equal(route_table__resolve(rt, p, sizeof(p) - 1, true), "/items/{id}");
	/* an empty path before the query has no leading '/' */
	assert_string_equal(res(rt, "?a=1"), ROUTE_INVALID);
	route_table__free(rt);
}

static void test_truncation(void **state)
{
	const char *const tmpl[] = { "/users/{user}/orders/{order}" };
	struct route_table *rt = route_table__new(tmpl, 1, 0, ROUTE_MODE_FOLD);
	char path[HTTP_PATH_MAX];

	(void)state;
	assert_non_null(rt);
	assert_string_equal(res_trunc(rt, "/items/123/partial-segm"), "/items/{id}/{truncated}");
	assert_string_equal(res_trunc(rt, "/items/123/"), "/items/{id}/{truncated}");
	assert_string_equal(res_trunc(rt, "/abcdefgh"), ROUTE_TRUNCATED);
	assert_string_equal(res_trunc(rt, "/"), ROUTE_TRUNCATED);
	/* a template prefix keeps the template's own segments */
	assert_string_equal(res_trunc(rt, "/users/alice/ord"), "/users/{user}/{truncated}");
	assert_string_equal(res_trunc(rt, "/users/alice/orders/12"),
			    "/users/{user}/orders/{truncated}");
	/* the whole template cannot be a prefix of a longer path */
	assert_string_equal(res_trunc(rt, "/users/alice/orders/12/x"),
			    "/users/alice/orders/{id}/{truncated}");

	/* as the kernel hands it over: exactly HTTP_PATH_MAX bytes, no NUL */
	memset(path, 'a', sizeof(path));
	memcpy(path, "/a/77/", 6);
	assert_string_equal(route_table__resolve(rt, path, sizeof(path), true),
			    "/a/{id}/{truncated}");
	route_table__free(rt);
}

static void test_invalid_bytes(void **state)
{
	struct route_table *rt = route_table__new(NULL, 0, 0, ROUTE_MODE_FOLD);
	const char nul[] = "/a\0b";
	const char hi[] = "/caf\xc3\xa9";
	const char *inv;

	(void)state;
	assert_non_null(rt);
	inv = res(rt, "/a b");
	assert_string_equal(inv, ROUTE_INVALID);
	assert_ptr_equal(route_table__resolve(rt, nul, sizeof(nul) - 1, false), inv);
	assert_ptr_equal(route_table__resolve(rt, hi, sizeof(hi) - 1, false), inv);
	assert_ptr_equal(res(rt, "/tab\there"), inv);
	assert_ptr_equal(res(rt, "/del\x7f"), inv);
	assert_ptr_equal(res(rt, "items/1"), inv);
	assert_ptr_equal(route_table__resolve(rt, "", 0, false), inv);
	assert_ptr_equal(route_table__resolve(rt, "", 0, true), inv);
	/* 0x21 and 0x7e are the edges of the accepted range */
	assert_string_equal(res(rt, "/!~"), "/!~");
	route_table__free(rt);
}

static void test_asterisk_and_absolute_form(void **state)
{
	const char *const tmpl[] = { "/users/{id}" };
	struct route_table *rt = route_table__new(tmpl, 1, 0, ROUTE_MODE_FOLD);

	(void)state;
	assert_non_null(rt);
	assert_string_equal(res(rt, "*"), "*");
	assert_string_equal(res(rt, "**"), ROUTE_INVALID);
	assert_string_equal(res(rt, "http://example.com/items/9"), "/items/{id}");
	assert_string_equal(res(rt, "https://example.com:8443/users/bob?x"), "/users/{id}");
	assert_string_equal(res(rt, "HTTP://example.com/a"), "/a");
	assert_string_equal(res(rt, "http://example.com"), "/");
	assert_string_equal(res(rt, "http://example.com?q"), "/");
	assert_string_equal(res_trunc(rt, "http://very-long-host-na"), ROUTE_TRUNCATED);
	assert_string_equal(res_trunc(rt, "http://h/items/42/x"), "/items/{id}/{truncated}");
	/* other schemes are not absolute-form HTTP */
	assert_string_equal(res(rt, "ftp://example.com/a"), ROUTE_INVALID);
	assert_string_equal(res(rt, "http://ex ample.com/a"), ROUTE_INVALID);
	route_table__free(rt);
}

static void test_cap_and_overflow(void **state)
{
	const char *const tmpl[] = { "/t/{x}/{y}" };
	struct route_table *rt = route_table__new(tmpl, 1, 3, ROUTE_MODE_FOLD);
	const char *a;

	(void)state;
	assert_non_null(rt);
	a = res(rt, "/a");
	assert_string_equal(res(rt, "/b/1"), "/b/{id}");
	assert_string_equal(res(rt, "/b/2"), "/b/{id}");
	assert_int_equal(route_table__count(rt), 2);
	assert_string_equal(res(rt, "/c"), "/c");
	assert_int_equal(route_table__count(rt), 3);
	assert_int_equal(route_table__overflowed(rt), 0);

	/* full: new heuristic routes overflow, known ones still resolve */
	assert_string_equal(res(rt, "/d"), ROUTE_OVERFLOW);
	assert_string_equal(res(rt, "/e/f"), ROUTE_OVERFLOW);
	assert_string_equal(res_trunc(rt, "/e/f"), ROUTE_OVERFLOW);
	assert_int_equal(route_table__overflowed(rt), 3);
	assert_ptr_equal(res(rt, "/a"), a);
	assert_string_equal(res(rt, "/b/3"), "/b/{id}");
	assert_int_equal(route_table__overflowed(rt), 3);
	assert_int_equal(route_table__count(rt), 3);

	/* templates and the fixed labels are always admitted */
	assert_string_equal(res(rt, "/t/zzz/1"), "/t/{x}/{y}");
	assert_string_equal(res(rt, "/\x01"), ROUTE_INVALID);
	assert_string_equal(res(rt, "*"), "*");
	assert_string_equal(res_trunc(rt, "/trunc"), ROUTE_TRUNCATED);
	assert_string_equal(res_trunc(rt, "/t/abc/d"), "/t/{x}/{truncated}");
	assert_int_equal(route_table__count(rt), 8);
	/* a truncated path longer than every template is the heuristic's again */
	assert_string_equal(res_trunc(rt, "/t/abc/d/e"), ROUTE_OVERFLOW);
	assert_int_equal(route_table__overflowed(rt), 4);
	assert_string_equal(res(rt, "/g"), ROUTE_OVERFLOW);
	assert_int_equal(route_table__overflowed(rt), 5);
	route_table__free(rt);
}

static void test_unlimited_and_interning(void **state)
{
	struct route_table *rt = route_table__new(NULL, 0, 0, ROUTE_MODE_FOLD);
	char path[32];
	const char *first[1000];
	unsigned int i;

	(void)state;
	assert_non_null(rt);
	/* enough to grow the intern table several times */
	for (i = 0; i < 1000; i++) {
		snprintf(path, sizeof(path), "/w%u", i);
		first[i] = res(rt, path);
		assert_string_equal(first[i], path);
	}
	for (i = 0; i < 1000; i++) {
		snprintf(path, sizeof(path), "/w%u", i);
		/* interned: same pointer, not a buffer the caller could see reused */
		assert_ptr_equal(res(rt, path), first[i]);
	}
	assert_int_equal(route_table__count(rt), 1000);
	assert_int_equal(route_table__overflowed(rt), 0);
	route_table__free(rt);
}

static void test_strict(void **state)
{
	const char *const tmpl[] = { "/users/{user}/orders/{order}", "/healthz", "/" };
	struct route_table *rt = route_table__new(tmpl, 3, 2, ROUTE_MODE_STRICT);
	char path[64];
	unsigned int i;

	(void)state;
	assert_non_null(rt);
	assert_string_equal(res(rt, "/users/alice@example.com/orders/7"),
			    "/users/{user}/orders/{order}");
	assert_string_equal(res(rt, "/healthz?token=x"), "/healthz");
	assert_string_equal(res(rt, "/"), "/");
	/* whatever else, words or not, is one route: nothing the client chose */
	assert_string_equal(res(rt, "/about"), ROUTE_OTHER);
	assert_string_equal(res(rt, "/items/42"), ROUTE_OTHER);
	assert_string_equal(res(rt, "/reset/c4x9ts-8f14e45fceea167a5a36dedd4bea2543"), ROUTE_OTHER);
	assert_string_equal(res(rt, "http://h/healthz"), "/healthz");
	assert_string_equal(res(rt, "http://h/x"), ROUTE_OTHER);
	/* a truncated path keeps only what a template says */
	assert_string_equal(res_trunc(rt, "/users/alice/ord"), "/users/{user}/{truncated}");
	assert_string_equal(res_trunc(rt, "/reset/secret-token/par"), ROUTE_OTHER);
	assert_string_equal(res_trunc(rt, "/abcdefgh"), ROUTE_TRUNCATED);
	/* the fixed labels stay what they are */
	assert_string_equal(res(rt, "*"), ROUTE_ASTERISK);
	assert_string_equal(res(rt, "/a b"), ROUTE_INVALID);
	/* so the cap (2 here) is never reached: thousands of paths, one route */
	for (i = 0; i < 5000; i++) {
		snprintf(path, sizeof(path), "/p%u/%x", i, i * 2654435761u);
		assert_string_equal(res(rt, path), ROUTE_OTHER);
	}
	assert_int_equal(route_table__overflowed(rt), 0);
	/* the templates matched, __other__, the two truncated and the fixed labels */
	assert_int_equal(route_table__count(rt), 8);
	route_table__free(rt);

	/* strict without templates: every request of the service is one route */
	rt = route_table__new(NULL, 0, 0, ROUTE_MODE_STRICT);
	assert_non_null(rt);
	assert_string_equal(res(rt, "/"), ROUTE_OTHER);
	assert_string_equal(res(rt, "/api/v1/users"), ROUTE_OTHER);
	assert_string_equal(res_trunc(rt, "/api/v1/users/partial"), ROUTE_OTHER);
	assert_int_equal(route_table__count(rt), 1);
	route_table__free(rt);
}

/* A gRPC method is a route as it is: templates, strict mode and the cap apply, no folding. */
static void test_verbatim(void **state)
{
	static const char *const tmpl[] = { "/p.Admin/Reset" };
	struct route_table *rt = route_table__new(tmpl, 1, 3, ROUTE_MODE_FOLD);
	struct route_table *strict = route_table__new(tmpl, 1, 0, ROUTE_MODE_STRICT);

	(void)state;
	assert_non_null(rt);
	assert_string_equal(route_table__resolve_verbatim(rt, "/p.Cart/Get12345", 16),
			    "/p.Cart/Get12345");	/* digits not folded */
	assert_string_equal(route_table__resolve_verbatim(rt, "/p.Admin/Reset", 14),
			    "/p.Admin/Reset");
	assert_string_equal(route_table__resolve_verbatim(rt, "/p.Cart/Add", 11), "/p.Cart/Add");
	assert_string_equal(route_table__resolve_verbatim(rt, "/p.Cart/Del", 11), ROUTE_OVERFLOW);
	assert_int_equal(route_table__overflowed(rt), 1);
	assert_string_equal(route_table__resolve_verbatim(rt, "p.Cart/Add", 10), ROUTE_INVALID);
	assert_string_equal(route_table__resolve_verbatim(rt, "/p.C\x01/A", 8), ROUTE_INVALID);
	assert_string_equal(route_table__resolve_verbatim(rt, "", 0), ROUTE_INVALID);
	assert_string_equal(route_table__resolve_verbatim(strict, "/p.Cart/Add", 11), ROUTE_OTHER);
	assert_string_equal(route_table__resolve_verbatim(strict, "/p.Admin/Reset", 14),
			    "/p.Admin/Reset");
	/* found, never admitted: templates and names admitted already, else NULL */
	assert_string_equal(route_table__find_verbatim(rt, "/p.Cart/Add", 11), "/p.Cart/Add");
	assert_string_equal(route_table__find_verbatim(rt, "/p.Admin/Reset", 14), "/p.Admin/Reset");
	assert_string_equal(route_table__find_verbatim(rt, "/p\x01", 3), ROUTE_INVALID);
	assert_null(route_table__find_verbatim(rt, "/p.Cart/Del", 11));
	assert_int_equal(route_table__overflowed(rt), 1);
	assert_string_equal(route_table__find_verbatim(strict, "/junk/x", 7), ROUTE_OTHER);
	route_table__free(rt);
	rt = route_table__new(NULL, 0, 3, ROUTE_MODE_FOLD);
	assert_non_null(rt);
	for (int i = 0; i < 10; i++)
		assert_null(route_table__find_verbatim(rt, "/junk/x", 7));
	assert_int_equal(route_table__count(rt), 0);
	route_table__free(rt);
	route_table__free(strict);
}

static void test_validate(void **state)
{
	const char *const bad[] = { "/ok", "users/{id}" };
	char err[128];

	(void)state;
	assert_int_equal(route_template__validate("/", err, sizeof(err)), 0);
	assert_int_equal(route_template__validate("/users/{id}/orders/{order_id}", err,
						  sizeof(err)), 0);
	assert_int_equal(route_template__validate("/a//{x-y}/", NULL, 0), 0);

	assert_int_equal(route_template__validate("users", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'/'"));
	assert_int_equal(route_template__validate("", err, sizeof(err)), -EINVAL);
	assert_int_equal(route_template__validate(NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(route_template__validate("/a b", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "0x20"));
	assert_int_equal(route_template__validate("/caf\xc3\xa9", err, sizeof(err)), -EINVAL);
	assert_int_equal(route_template__validate("/a?b=1", err, sizeof(err)), -EINVAL);
	assert_int_equal(route_template__validate("/{}", err, sizeof(err)), -EINVAL);
	assert_int_equal(route_template__validate("/{id", err, sizeof(err)), -EINVAL);
	assert_int_equal(route_template__validate("/id}", err, sizeof(err)), -EINVAL);
	assert_int_equal(route_template__validate("/{id}.json", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "{id}.json"));
	assert_int_equal(route_template__validate("/{a{b}", err, sizeof(err)), -EINVAL);
	assert_int_equal(route_template__validate("/{a.b}", err, sizeof(err)), -EINVAL);
	/* a tiny error buffer is truncated, not overrun */
	assert_int_equal(route_template__validate("x", err, 4), -EINVAL);
	assert_int_equal(strlen(err), 3);

	errno = 0;
	assert_null(route_table__new(bad, 2, 0, ROUTE_MODE_FOLD));
	assert_int_equal(errno, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_templates_first_and_in_order),
		cmocka_unit_test(test_heuristic_digits),
		cmocka_unit_test(test_heuristic_uuid),
		cmocka_unit_test(test_heuristic_hex_and_words),
		cmocka_unit_test(test_query_and_fragment_cut),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_invalid_bytes),
		cmocka_unit_test(test_asterisk_and_absolute_form),
		cmocka_unit_test(test_cap_and_overflow),
		cmocka_unit_test(test_unlimited_and_interning),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_verbatim),
	};

	return cmocka_run_group_tests_name("route", tests, NULL, NULL);
}
