// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The folding rule against real-looking secrets, which must all fold, and
 * ordinary routes, which must all be kept: the false positive rate on
 * them is 0 of the 236 routes (549 segments) below.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "route.h"
#include "route_segment.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static bool is_id(const char *seg)
{
	return route_segment__is_id(seg, strlen(seg));
}

/* Each one segment as a client sends it ('/' inside a token as %2F). */
static const char *const secrets[] = {
	/* e-mail addresses, plain and percent-encoded */
	"alice@example.com", "bob.smith+newsletter@gmail.com", "j.doe@corp.example.co.uk",
	"admin@localhost", "first.last@sub.domain.org", "alice%40example.com",
	"user_1987@yahoo.fr", "x@y.io", "mailto:carol@example.net", "support%40acme-corp.com",
	"john.o%27reilly%40example.ie", "dave@10.0.0.7",
	/* JWTs and base64 JSON (cut as a 64-byte capture cuts them) */
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e",
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ",
	"eyJzdWIiOiIxMjM0NTY3ODkwIn0", "eyJ1c2VyIjoiYWxpY2UifQ", "Bearer%20eyJhbGciOiJFUzI1NiJ9",
	"eyJhbGciOiJub25lIn0.eyJhIjoxfQ.",
	/* base64 and base64url blobs */
	"mggFhIpjlgyrLKgn", "rlI3CZv8ocwYq7QjEs4mGA==", "R1EiQpVGmNWceg4y+CkcVANf",
	"LLimMDoj0gD30oXn8FdGB9vWIHo=", "xbrCasQvBocwOcdRP37TitCIRLOvtupy",
	"K9MkuibdkqpHZheSsO2qxDGVvuhZBbb9qwDc", "e%2Fv+sCU4tYvK9vmCd1fbau176g0rIh3zvuht9Q==",
	"NSgUtetjQP_Y67x5HzNIdA", "WViC3ddVeQhNTBURSeeUEOkt", "uVNmJMMEMJviPw3LiYYFPuXInYE",
	"wnmIzzIcFH0bMdZUBQ6lHeOSEbQxzDL8", "rmfUVLdN6guoeAvLlLmlisNrEjHuDqFGR0icYA",
	"dGVzdDp0ZXN0", "YWxhZGRpbjpvcGVuc2VzYW1l", "SGVsbG8gV29ybGQh",
	"dXNlckBleGFtcGxlLmNvbQ==",
	/* API keys of known formats */
	"sk_live_r2gblviztbsvFQOZj2FFMpdf", "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
	"pk_live_Eq6iuyIgz5uxrit0FkVl4hU6", "rk_live_qTXA3gwDfdh3PD4Ig1fqbEAI",
	"whsec_AcKBUuiIT4zBKWmBBpWkc6lALor4XS1o", "ghp_oQcOMvCpNn3K93EpzFfRUe0GENkD7Jj0hmQ4",
	"gho_oL0U5kSsmwl7wt0nWs9rFdv6EJLxTFUilxuO", "github_pat_11ADYzW4avNQSk6L9aXHlQNhC",
	"glpat-a87f30De9GhXs20VeEfF", "AKIAIOSFODNN7EXAMPLE", "AKIAQ30OCNKNELHLYWE4",
	"ASIAL67GMEFENIMPVV28", "xoxb-344886867737-4194698665821", "xoxp-10188679531-22293510175",
	"xapp-1-A095384543", "AIzaXZ_aOOtppQrvVK1Ruql3ivkcGR3ccflFgHI",
	"ya29.dwbyGkuoP3AN0MZSVvPXH-CbVNVioK", "SG.cFUtqTS_5McjJdRsOyjKyV",
	"sk-proj-NNXCv4qacQhvZ3UkWdLfle383_Ba6X", "sk-ant-api03-ffiMsYh4KqDHkUqo1cQb_sXc",
	"npm_Bbg2omYl4DHQlywF8MGi4YrSCm0ayQikNqtY", "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",
	"dop_v1_dc289f90b96acc5f7ce18258514d18c0", "hf_JVhVTatyK9qIgjWLh6cm6ngLGMalaVzW7b",
	"key-a8cec4a5c0beffc065e96d3a0dd6c7c9", "SKbacd2fa93e4c99ba7faef131ff30a877",
	"AC87a0cbc7a1ea0f4abd3822ab18e40f91", "sq0atp-hEGWnF2H6VBe6nodYH4XUo",
	"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",
	/* session ids (PHP, Java, ASP.NET, Django, connect.sid) */
	"oorrgvo9oemop2u2d46q2afido", "8cebuchqlnas8kb692drl63suf", "gqsahi4rl1uqk4luhk14o1ea4g",
	"eu9a43qnj89t2nvcrq9hskfg4u", "8A2F5088812BB079CF91333B40D42B12",
	"6D2126358B8E5C80339D84D78F92FE1F", "1x2n40gy5qq3uc3vypxordz1",
	"1q03gzw5e5pflm40hlb1vhxi", "htgyqheaetmqfxsm1qqwbrm3",
	"c1ec2fa46ar1fbiopoaf0z5wd8q9wzcx", "dcb648umeufd06tit8xp4wfef0jhh67n",
	"40nyy2fxpjaqebafzq2he3wltm6xr239", "cart;jsessionid=CEF6C3E1A8DE43162A15",
	"s%3AeiljeFygwrbgZmJ485cBiGoi",
	/* password-reset and magic-link tokens (Django, Devise, Laravel, Rails, token_urlsafe) */
	"c4x9ts-9581b4c0cb06d20f3f93fa25d2fb570c", "bz4kxg-a76f345c3983e5e745c0",
	"a4570b1fef39e275aaab13b86007fd8498b7c1b6", "3oh2xdkGD2tFY-Sr6dGe",
	"0z4-Vmj4xrwO902WbO9H", "GWfsCSmLSt3VLdQkyYv1s1yU", "Rtz0xu0gMf2YAXzzAeIIR7sX",
	"JSpJ8R-Lfgj9Y1DqfvPefHnf6pWNu7hTQcBYw9JZDfY", "xV7U6NZ6rLuXS3CVA9hewJ5DlsFRe5yQ",
	"q1r7j3gCqE8lQoPc6OrE3w", "SUnsHjgrimgDu5pgYRJ2fe", "GRK6OIJGQMPLC6TIGYC6TI6SZYUIEZQ2",
	/* long random strings: one case, TOTP secrets, base62 */
	"shgrrwlwibgpovsrjfor", "wpqijtlkwxpprrekhjwdtwdv", "mlmwouswmszzfvgzhmazpwvtuaporuvs",
	"UNFIKQIDLLKRNOCMQEYD", "OHDWOAEZGACUODBBMQZOPDCW", "JBSWY3DPEHPK3PXP",
	"M6BDAZBBVIKM3MQC", "FTJMKTPVOEQROT6AEUZQSW5LWG", "Kj6gYDHxXCbJ3nmh",
	"mOtWnIoRglcU1iBxkTD7", "MCQIquQNsrscuRvScnJdivyt", "n53gavqo5vgftl74",
	/* phone, card, social security and bank account numbers, IP addresses, birth dates */
	"+4915112345678", "+1-555-123-4567", "4111111111111111", "4111-1111-1111-1111",
	"123-45-6789", "DE89370400440532013000", "GB29NWBK60161331926819", "192.168.100.200",
	"1985-04-12", "%2B33612345678",
};

/* Paths of real APIs, sites, frameworks and tools, none with an identifier. */
static const char *const ordinary[] = {
	"/api/v1/users", "/static/app.min.js", "/blog/how-to-write-c", "/healthz", "/v2",
	"/readyz", "/livez", "/metrics", "/favicon.ico", "/robots.txt", "/sitemap.xml",
	"/.well-known/openid-configuration", "/.well-known/acme-challenge",
	"/.well-known/security.txt", "/oauth2/authorize", "/oauth/token", "/auth/login",
	"/auth/logout", "/auth/callback", "/password/reset", "/account/settings",
	"/users/me/preferences", "/api/graphql", "/graphql", "/graphiql",
	"/swagger-ui/index.html", "/swagger.json", "/openapi.yaml", "/api-docs",
	"/docs/getting-started", "/docs/api-reference/authentication", "/admin/dashboard",
	"/wp-admin/admin-ajax.php", "/wp-content/themes/twentytwentyfour/style.css",
	"/wp-json/wp/v2/posts", "/xmlrpc.php", "/phpmyadmin/index.php",
	"/assets/fonts/fontawesome-webfont.woff2", "/assets/img/apple-touch-icon-precomposed.png",
	"/assets/img/android-chrome-512x512.png", "/static/css/bootstrap.min.css",
	"/static/js/jquery-3.7.1.min.js", "/static/js/bootstrap.bundle.min.js",
	"/vendor/react-dom.production.min.js", "/images/logo@2x.png",
	"/images/hero-banner-1920x1080.jpg", "/products/wireless-noise-cancelling-headphones",
	"/products/iphone-15-pro-max", "/category/mens-shoes/running", "/cart/checkout",
	"/checkout/shipping-address", "/checkout/payment-method", "/orders/history", "/wishlist",
	"/search", "/api/search/suggestions", "/api/notifications/unread-count",
	"/api/subscriptions/cancel", "/api/webhooks/stripe", "/api/webhooks/github",
	"/webhooks/slack/events", "/api/internal/featureFlags", "/api/getUserById",
	"/rpc/UserService/GetUserProfile", "/grpc.health.v1.Health/Check",
	"/helloworld.Greeter/SayHello", "/api/v1/namespaces/kube-system/pods",
	"/apis/apps/v1/deployments", "/api/v1/nodes/worker-node-1/proxy", "/v1/chat/completions",
	"/v1/embeddings", "/v1/models", "/computeMetadata/v1/instance",
	"/latest/meta-data/iam/security-credentials", "/s3/buckets/backups",
	"/storage/v1/b/my-bucket/o", "/repos/torvalds/linux/pulls", "/users/octocat/repos",
	"/r/programming/comments", "/wiki/Main_Page", "/wiki/Special:Search",
	"/wiki/Albert_Einstein", "/wiki/Category:Programming_languages",
	"/en-US/docs/Web/JavaScript", "/de/produkte/kaffeemaschinen",
	"/fr/produits/chaussures-de-sport", "/es/ayuda/preguntas-frecuentes", "/ja/about",
	"/zh-CN/download", "/pt-BR/contato", "/status", "/ping", "/version", "/debug/pprof/heap",
	"/debug/vars", "/server-status", "/nginx_status", "/stub_status",
	"/actuator/health/liveness", "/actuator/prometheus", "/management/info",
	"/q/health/ready", "/_next/static/chunks/webpack.js", "/_next/image", "/__webpack_hmr",
	"/sockjs-node/info", "/socket.io/", "/ws/chat", "/events/stream", "/feed.rss",
	"/atom.xml", "/newsletter/subscribe", "/unsubscribe", "/contact-us", "/about-us/team",
	"/careers/senior-software-engineer", "/pricing/enterprise", "/terms-of-service",
	"/privacy-policy", "/cookie-policy", "/legal/gdpr", "/support/tickets/new",
	"/help/articles/troubleshooting-login-problems", "/downloads/linux/x86_64",
	"/downloads/windows/amd64", "/releases/latest", "/releases/tag/release-candidate",
	"/api/v3/reports/quarterly-revenue.csv", "/export/invoices.pdf",
	"/reports/annual-report.pdf", "/uploads/avatars/default.png", "/thumbnails/medium",
	"/media/videos/intro.mp4", "/podcasts/episodes/latest.mp3", "/api/translate/en/de",
	"/api/geo/countries/DE/cities", "/api/currency/EUR/USD", "/api/timezones/Europe/Berlin",
	"/api/v1/sessions/current", "/api/v1/tokens/refresh", "/api/v1/apikeys",
	"/api/keys/rotate", "/login/oauth/access_token", "/signin-oidc", "/saml/acs",
	"/SAML2/SSO/Redirect", "/cgi-bin/test.cgi", "/index.php", "/default.aspx",
	"/Account/Login.aspx", "/ServiceReference.svc", "/jsonrpc", "/xmlrpc", "/api/json",
	"/odata/Products", "/api/v1/healthcheck", "/internal/readiness-probe",
	"/kubernetes/dashboard", "/grafana/d/overview", "/prometheus/api/v1/query_range",
	"/loki/api/v1/push", "/api/v1/traces", "/v1/traces", "/otlp/v1/metrics",
	"/elasticsearch/_search", "/_cluster/health", "/_cat/indices", "/kibana/app/discover",
	"/jenkins/job/build-pipeline", "/sonarqube/dashboard", "/artifactory/libs-release-local",
	"/npm/package/lodash", "/pypi/simple/requests", "/maven2/org/apache/commons",
	"/go/github.com/stretchr/testify", "/crates/serde_json", "/gems/rails",
	"/Microsoft.Graph/users", "/sharepoint/sites/marketing", "/teams/engineering/channels",
	"/photos/albums/summer-vacation", "/recipes/chocolate-chip-cookies",
	"/news/technology/artificial-intelligence", "/sports/football/premier-league",
	"/weather/forecast/hourly", "/maps/directions", "/flights/search/round-trip",
	"/hotels/new-york-city", "/jobs/remote/backend-developer",
	"/courses/machine-learning/lecture-notes", "/api/ElasticSearchIndex",
	"/api/UserProfilePicture", "/SomeController/SomeAction", "/api/XMLHttpRequest",
	"/strengths", "/rhythms", "/twelfths", "/thresholds", "/api/v1/accounts/transactions",
	"/node_modules/@babel/core", "/@vite/client", "/images/logo@2x.png",
	"/icons/close@3x.png", "/blog/i-am-a-developer", "/guides/sk-ski-resort-guide",
	"/regions/ASIA-PACIFIC", "/colors/deadbeef", "/ru/%D1%81%D1%82%D0%B0%D1%82%D1%8C%D0%B8",
	"/menu/caf%C3%A9", "/search/hello%20world", "/files/report%20final.pdf",
	"/api/v1/users/me/avatar.png", "/api/HealthCheck", "/api/OrderManagement/GetOrderDetails",
	"/README.md", "/LICENSE", "/CHANGELOG.md", "/docs/FAQ", "/lib/jquery.min.js",
	"/js/main.chunk.js", "/css/styles.css", "/fonts/Roboto-Regular.ttf",
	"/fonts/OpenSans-Bold.woff2", "/img/background-pattern.svg", "/manifest.webmanifest",
	"/service-worker.js", "/browserconfig.xml", "/ads.txt", "/humans.txt", "/crossdomain.xml",
	"/api/v1/users/search", "/api/v1/admin/audit-logs", "/api/v1/billing/invoices/upcoming",
	"/api/v1/teams/members/invite", "/api/v1/projects/settings/integrations",
	"/api/v1/analytics/events/batch",
};

static void test_secrets_fold(void **state)
{
	size_t i, kept = 0;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(secrets); i++) {
		if (!is_id(secrets[i])) {
			print_error("kept: %s\n", secrets[i]);
			kept++;
		}
	}
	assert_int_equal(kept, 0);
	/* as whole paths too: the secret's segment and nothing else goes */
	{
		struct route_table *rt = route_table__new(NULL, 0, 0, ROUTE_MODE_FOLD);
		char path[128];

		assert_non_null(rt);
		for (i = 0; i < ARRAY_SIZE(secrets); i++) {
			snprintf(path, sizeof(path), "/reset/%s/confirm", secrets[i]);
			assert_string_equal(route_table__resolve(rt, path, strlen(path), false),
					    "/reset/{id}/confirm");
		}
		route_table__free(rt);
	}
}

static void test_ordinary_routes_kept(void **state)
{
	struct route_table *rt = route_table__new(NULL, 0, 0, ROUTE_MODE_FOLD);
	size_t i, folded = 0;

	(void)state;
	assert_non_null(rt);
	assert_int_equal(ARRAY_SIZE(ordinary), 236);
	for (i = 0; i < ARRAY_SIZE(ordinary); i++) {
		const char *r = route_table__resolve(rt, ordinary[i], strlen(ordinary[i]), false);

		assert_non_null(r);
		if (strcmp(r, ordinary[i])) {
			print_error("folded: %s -> %s\n", ordinary[i], r);
			folded++;
		}
	}
	assert_int_equal(folded, 0);
	route_table__free(rt);
}

/* Numbers are identifiers even where a human would not say so. */
static void test_numbers_fold(void **state)
{
	(void)state;
	assert_true(is_id("2023"));
	assert_true(is_id("2015-03-31"));	/* an API version date too */
	assert_true(is_id("20240115"));
	assert_true(is_id("10.0.0.12.34"));
	assert_true(is_id("%31%32%33"));
	assert_true(is_id("report-20240115.pdf"));	/* a run of 8 hex digits */
	assert_true(is_id("main.3f9a8b7c.chunk.js"));
	/* fewer than 8 digits with separators: versions */
	assert_false(is_id("1.2.3"));
	assert_false(is_id("10.0.0.1"));
	assert_false(is_id("v1.22.3-rc1"));
	assert_false(is_id("100%25"));
	assert_false(is_id("-1"));
}

static void test_bounds(void **state)
{
	char seg[ROUTE_SEGMENT_KEEP_MAX + 2];

	(void)state;
	/* the longest segment kept, then one byte more */
	memset(seg, 0, sizeof(seg));
	memcpy(seg, "wireless-noise-cancelling-headphones-set", ROUTE_SEGMENT_KEEP_MAX);
	assert_int_equal(strlen(seg), ROUTE_SEGMENT_KEEP_MAX);
	assert_false(is_id(seg));
	seg[ROUTE_SEGMENT_KEEP_MAX] = 's';
	assert_true(is_id(seg));
	/* the bound is on the bytes sent, before decoding */
	assert_true(is_id("%62%6c%6f%67%2d%70%6f%73%74%2d%74%69%74%6c%65"));
	assert_false(is_id("%62%6c%6f%67%2d%70%6f%73%74"));	/* "blog-post" */
	/* random runs: 7 characters are not judged, 8 are */
	assert_false(is_id("aZ3kP9q"));
	assert_true(is_id("aZ3kP9qR"));
	assert_false(is_id("xkqzvbw"));
	assert_true(is_id("xkqzvbwj"));
	/* 7 hex digits are a word ("decade1"?), 8 an id */
	assert_false(is_id("4f2a9c1"));
	assert_true(is_id("4f2a9c1e"));
	assert_false(is_id(""));
}

static void test_rules(void **state)
{
	(void)state;
	/* '@': addresses, but not an image density or a leading scope */
	assert_true(is_id("a@b"));
	assert_true(is_id("logo@2xl.png"));
	assert_false(is_id("logo@2x"));
	assert_false(is_id("@scope"));
	/* JSON in base64 */
	assert_true(is_id("eyJhbGciOiJI"));
	assert_false(is_id("heyJude"));
	/* key prefixes need a key after them, with a capital or a digit */
	assert_true(is_id("sk_live_helloworlD"));
	assert_false(is_id("sk_live_hellowoD"));
	assert_false(is_id("sk_live_helloworld"));
	assert_false(is_id("sk-ski-resort-guide-for-beginners"));
	assert_true(is_id("AKIAIOSFODNN7EXAMPLE"));
	assert_false(is_id("AKIAIOSFODNN7EXAMPL"));
	assert_false(is_id("ASIA-PACIFIC-REGION-2"));
	/* padding: base64 of at least 8 characters */
	assert_true(is_id("abcdefgh="));
	assert_false(is_id("abcdefg="));
	/* case and digits: camelCase words, not random pieces */
	assert_false(is_id("getUserById"));
	assert_false(is_id("XMLHttpRequest"));
	assert_true(is_id("aB1cD2eF"));
	assert_true(is_id("xYzAbCdEfG"));
	/* base64(url) runs are judged together when capitals or digits say so */
	assert_true(is_id("Xq3-9fZ_kLmN"));
	assert_true(is_id("u5ZA+v8a%2F08LW"));	/* base64, its '/' sent as %2F */
	assert_false(is_id("__webpack_hmr"));
	/* percent-decoding: binary data folds, UTF-8 words stay */
	assert_true(is_id("%00"));
	assert_true(is_id("%ff%fe"));
	assert_true(is_id("caf%C3"));
	assert_false(is_id("caf%C3%A9"));
	assert_false(is_id("%zz"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secrets_fold),
		cmocka_unit_test(test_ordinary_routes_kept),
		cmocka_unit_test(test_numbers_fold),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_rules),
	};

	return cmocka_run_group_tests_name("route_segment", tests, NULL, NULL);
}
