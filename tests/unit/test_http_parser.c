// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel's HTTP parser, driven without traffic: tests/bpf/parser_test.bpf.c.s
 * slotap_test_feed entry runs http_feed_segment() on our buffers through
 * BPF_PROG_TEST_RUN, with a clock we choose, so latencies are exact and
 * every split of a message can be tried (a clock of 0 would mean the real
 * one, so ours starts at 1); tests/unit/bpf_feed.c loads and feeds.
 * slotap_test_reset runs the refused-connection
 * filter on headers of ours. Needs root (BPF); skipped otherwise, except
 * under CI, where it fails.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cmocka.h>
#include <llhttp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "http_server.h"
#include "bpf_feed.h"
#include "parser_test.h"
#include "parser_test.skel.h"

enum { DIR_REQ = 0, DIR_RESP = 1, RESET = 2, RESET_NEW = 3 };

#define MAX_EVENTS 16384

static struct parser_test_bpf *skel;	/* NULL: not root, the tests skip */
static struct http_event events[MAX_EVENTS];
static int n_events;

/* one event, or a CPU's batch of them */
static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	assert_true(size >= sizeof(struct http_event));
	assert_int_equal(size % sizeof(struct http_event), 0);
	for (size_t off = 0; off < size; off += sizeof(struct http_event)) {
		if (n_events < MAX_EVENTS)
			memcpy(&events[n_events], (char *)data + off, sizeof(struct http_event));
		n_events++;
	}
	return 0;
}

/* a feed that failed fails the test (or the group) */
static void feed_failed(const char *msg)
{
	fail_msg("%s", msg);
}

static int group_setup(void **state)
{
	(void)state;
	if (!bpf_feed__open("events", on_event, feed_failed) && getenv("CI"))
		fail_msg("test_http_parser needs root (BPF), and CI must run it");
	skel = bpf_feed__skel();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	bpf_feed__close();
	return 0;
}

static int feed(__u64 dir, const char *s, __u64 now)
{
	return bpf_feed__run(dir, s, strlen(s), now);
}

/* len bytes of buf in writes of at most piece bytes, all at time now */
static void feed_pieces(__u64 dir, const char *buf, size_t len, size_t piece, __u64 now)
{
	for (size_t off = 0; off < len; off += piece) {
		size_t n = len - off < piece ? len - off : piece;

		assert_int_equal(bpf_feed__run(dir, buf + off, n, now), 0);
	}
}

static int test_setup(void **state)
{
	(void)state;
	if (!skel)
		return 0;	/* not root: the test skips itself */
	bpf_feed__drain();
	n_events = 0;
	assert_int_equal(bpf_feed__run(RESET, NULL, 0, 0), 0);
	return 0;
}

static void assert_event(int i, __u8 method, const char *path, unsigned status, __u64 latency)
{
	const struct http_event *e = &events[i];

	assert_true(i < n_events);
	assert_int_equal(e->operation, method);
	assert_int_equal(e->resource_len, strlen(path));
	assert_memory_equal(e->resource, path, strlen(path));
	assert_int_equal(e->status, status);
	assert_int_equal(e->resp_start_ns - e->req_start_ns, latency);
	assert_int_equal(e->service_id, 7);
	assert_int_equal(e->local_port, 8080);
}

static const char GET_INDEX[] = "GET /index.html HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
static const char OK_17[] = "HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\nhello from nginx\n";

static void simple_exchange(void **state)
{
	(void)state;
	REQUIRE_BPF();
	assert_int_equal(feed(DIR_REQ, GET_INDEX, 1000), 0);
	assert_int_equal(feed(DIR_RESP, OK_17, 4000), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 1);
	assert_event(0, HTTP_METHOD_GET, "/index.html", 200, 3000);
	assert_int_equal(events[0].req_bytes, strlen(GET_INDEX));
}

/*
 * A server's events are staged per CPU: a full batch crosses the ring
 * buffer by itself, one record of HTTP_EVENT_BATCH_MAX; the rest waits for
 * the agent's flush (bpf_feed__drain() here).
 */
static void events_staged_until_batch_or_flush(void **state)
{
	cpu_set_t one, was;
	int cpu = sched_getcpu();

	(void)state;
	REQUIRE_BPF();
	/* staging is per CPU: feed from one */
	assert_int_equal(sched_getaffinity(0, sizeof(was), &was), 0);
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	for (int i = 0; i <= HTTP_EVENT_BATCH_MAX; i++) {
		assert_int_equal(feed(DIR_REQ, GET_INDEX, 1000 * i + 1), 0);
		assert_int_equal(feed(DIR_RESP, OK_17, 1000 * i + 5), 0);
		bpf_feed__consume();	/* no flush */
		assert_int_equal(n_events, i < HTTP_EVENT_BATCH_MAX - 1 ? 0 : HTTP_EVENT_BATCH_MAX);
	}
	bpf_feed__drain();
	assert_int_equal(sched_setaffinity(0, sizeof(was), &was), 0);
	assert_int_equal(n_events, HTTP_EVENT_BATCH_MAX + 1);
	for (int i = 0; i <= HTTP_EVENT_BATCH_MAX; i++) {
		assert_event(i, HTTP_METHOD_GET, "/index.html", 200, 4);
		assert_int_equal(events[i].req_start_ns, 1000 * i + 1);
	}
}

static void keep_alive(void **state)
{
	static const char *const statuses[] = { "200 OK", "404 Not Found", "503 Unavailable" };
	char resp[128];

	(void)state;
	REQUIRE_BPF();
	for (int i = 0; i < 3; i++) {
		snprintf(resp, sizeof(resp), "HTTP/1.1 %s\r\nContent-Length: 0\r\n\r\n",
			 statuses[i]);
		assert_int_equal(feed(DIR_REQ, "GET /a/1 HTTP/1.1\r\n\r\n", 100 * i + 1), 0);
		assert_int_equal(feed(DIR_RESP, resp, 100 * i + 8), 0);
	}
	bpf_feed__drain();
	assert_int_equal(n_events, 3);
	assert_event(0, HTTP_METHOD_GET, "/a/1", 200, 7);
	assert_event(1, HTTP_METHOD_GET, "/a/1", 404, 7);
	assert_event(2, HTTP_METHOD_GET, "/a/1", 503, 7);
}

static void pipelined_requests(void **state)
{
	(void)state;
	REQUIRE_BPF();
	assert_int_equal(feed(DIR_REQ,
			      "GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
			      "POST /two HTTP/1.1\r\nContent-Type: text/plain\r\n"
			      "Connection: keep-alive\r\nCONTENT-LENGTH: 5\r\n"
			      "Trailer-Like: x\r\n\r\nhello"
			      "DELETE /three HTTP/1.1\r\n\r\n", 10), 0);
	/* three responses, each its own write */
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 20), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 30), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 204 No Content\r\n\r\n", 40), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 3);
	assert_event(0, HTTP_METHOD_GET, "/one", 200, 10);
	assert_event(1, HTTP_METHOD_POST, "/two", 201, 20);
	assert_event(2, HTTP_METHOD_DELETE, "/three", 204, 30);
}

static void pipelined_responses_in_one_write(void **state)
{
	(void)state;
	REQUIRE_BPF();
	assert_int_equal(feed(DIR_REQ, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"
				       "HEAD /c HTTP/1.1\r\n\r\nGET /d HTTP/1.1\r\n\r\n", 5), 0);
	assert_int_equal(feed(DIR_RESP,
			      "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc"
			      "HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\nHTTP"
			      /* HEAD: Content-Length, but no body follows */
			      "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
			      "HTTP/1.1 302 Found\r\nLocation: /\r\nContent-Length: 0\r\n\r\n", 9),
			 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 4);
	assert_event(0, HTTP_METHOD_GET, "/a", 200, 4);
	assert_event(1, HTTP_METHOD_GET, "/b", 500, 4);
	assert_event(2, HTTP_METHOD_HEAD, "/c", 200, 4);
	assert_event(3, HTTP_METHOD_GET, "/d", 302, 4);
	assert_int_equal(bpf_feed__loss(LOSS_UNMATCHED_RESPONSE), 0);
}

/* Every way of cutting the request and the response in two gives one event. */
static void split_anywhere(void **state)
{
	static const char req[] = "PUT /api/items/42?token=secret HTTP/1.1\r\n"
				  "Host: example\r\nContent-Length: 4\r\n\r\nbody";
	static const char resp[] = "HTTP/1.1 422 Unprocessable\r\nContent-Length: 2\r\n\r\nno";
	size_t rl = strlen(req), sl = strlen(resp);

	(void)state;
	REQUIRE_BPF();
	for (size_t cut = 1; cut < rl; cut++) {
		size_t rcut = 1 + cut % (sl - 1);

		bpf_feed__drain();
		n_events = 0;
		assert_int_equal(bpf_feed__run(RESET, NULL, 0, 0), 0);
		assert_int_equal(bpf_feed__run(DIR_REQ, req, cut, 100), 0);
		assert_int_equal(bpf_feed__run(DIR_REQ, req + cut, rl - cut, 200), 0);
		assert_int_equal(bpf_feed__run(DIR_RESP, resp, rcut, 300), 0);
		assert_int_equal(bpf_feed__run(DIR_RESP, resp + rcut, sl - rcut, 400), 0);
		/* and the connection is still in step: a second exchange */
		assert_int_equal(feed(DIR_REQ, "GET /next HTTP/1.1\r\n\r\n", 500), 0);
		assert_int_equal(feed(DIR_RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
				      600), 0);
		bpf_feed__drain();
		assert_int_equal(n_events, 2);
		/* timed from the first piece of each; the query never leaves the kernel */
		assert_event(0, HTTP_METHOD_PUT, "/api/items/42", 422, 200);
		assert_int_equal(events[0].req_bytes, rl);
		assert_event(1, HTTP_METHOD_GET, "/next", 200, 100);
	}
}

static void body_split_across_reads(void **state)
{
	char body[3000];

	(void)state;
	REQUIRE_BPF();
	memset(body, 'G', sizeof(body));	/* a body that looks like requests */
	memcpy(body, "GET / HTTP/1.1\r\n\r\n", 18);
	assert_int_equal(feed(DIR_REQ, "POST /upload HTTP/1.1\r\nContent-Length: 3000\r\n\r\n",
			      1000), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(bpf_feed__run(DIR_REQ, body + 1000 * i, 1000, 2000 + i), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 9000),
			 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 1);
	assert_event(0, HTTP_METHOD_POST, "/upload", 201, 8000);
	assert_int_equal(bpf_feed__loss(LOSS_PIPELINE_OVERFLOW), 0);
}

/*
 * Heads the word-at-a-time scanner leaves to the byte parser, or takes
 * itself: bare line feeds, a Content-Length twice (the last counts), one
 * with a blank after it, in any case. The body must be skipped exactly
 * each time, or the next request is lost.
 */
static void head_scanner_hands_over_odd_heads(void **state)
{
	static const char *const reqs[] = {
		"POST /lf HTTP/1.1\nHost: x\ncontent-length: 3\n\nabc",
		"POST /twice HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 4\r\n\r\nabcd",
		"POST /blank HTTP/1.1\r\nCONTENT-LENGTH:  5 \r\nConnection: close\r\n\r\nhello",
		"POST /cookie HTTP/1.1\r\nCookie: a=b\r\nTE: trailers\r\nContent-length:1\r\n\r\nz",
	};
	static const char *const paths[] = { "/lf", "/twice", "/blank", "/cookie" };

	(void)state;
	REQUIRE_BPF();
	for (int i = 0; i < 4; i++) {
		assert_int_equal(feed(DIR_REQ, reqs[i], 100 * i + 1), 0);
		assert_int_equal(feed(DIR_RESP, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
				      100 * i + 3), 0);
	}
	assert_int_equal(feed(DIR_REQ, "GET /after HTTP/1.1\r\n\r\n", 1000), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1001), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 5);
	for (int i = 0; i < 4; i++) {
		assert_event(i, HTTP_METHOD_POST, paths[i], 201, 2);
		assert_int_equal(events[i].req_bytes, strlen(reqs[i]));
	}
	assert_event(4, HTTP_METHOD_GET, "/after", 200, 1);
	assert_int_equal(bpf_feed__loss(LOSS_NOT_HTTP), 0);
}

/*
 * Random heads, whole (the word scanner's path where it is sure) and a byte
 * at a time (the byte parser's only): the same request, its size, and the
 * body skipped by its last Content-Length, so the next request parses.
 */
static void head_scanner_agrees_with_byte_parser(void **state)
{
	static const char *const lines[] = {
		"Host: example\r\n", "Content-Length: 3\r\n", "content-length:2\r\n",
		"CONTENT-LENGTH:  3\r\n", "Content-Length: 2 \r\n", "TE: trailers\r\n",
		"Cookie: session=0123456789abcdef0123456789abcdef\r\n", "Accept: */*\n",
		"Connection: keep-alive\r\n", "Content-Type: text/plain\r\n", "c: d\r\n",
		"X-Padding: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n",
	};
	char req[1024], path[32];
	unsigned seed = 1;

	(void)state;
	REQUIRE_BPF();
	for (int i = 0; i < 200; i++) {
		int n = rand_r(&seed) % 8, body = 0, len;
		bool bytewise = i % 2;

		snprintf(path, sizeof(path), "/r/%d", i);
		len = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\n", path);
		for (int k = 0; k < n; k++) {
			const char *l = lines[rand_r(&seed) % (sizeof(lines) / sizeof(lines[0]))];

			if (strncasecmp(l, "content-length:", 15) == 0)
				body = atoi(l + 15);	/* the last one counts */
			len += snprintf(req + len, sizeof(req) - len, "%s", l);
		}
		len += snprintf(req + len, sizeof(req) - len, "\r\n%.*s", body, "abc");

		bpf_feed__drain();
		n_events = 0;
		assert_int_equal(bpf_feed__run(RESET, NULL, 0, 0), 0);
		if (bytewise) {
			for (int k = 0; k < len; k++)
				assert_int_equal(bpf_feed__run(DIR_REQ, req + k, 1, 10), 0);
		} else {
			assert_int_equal(bpf_feed__run(DIR_REQ, req, len, 10), 0);
		}
		assert_int_equal(feed(DIR_RESP, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 30), 0);
		assert_int_equal(feed(DIR_REQ, "GET /next HTTP/1.1\r\n\r\n", 40), 0);
		assert_int_equal(feed(DIR_RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 41), 0);
		bpf_feed__drain();
		assert_int_equal(n_events, 2);
		assert_event(0, HTTP_METHOD_POST, path, 201, 20);
		assert_int_equal(events[0].req_bytes, len);
		assert_event(1, HTTP_METHOD_GET, "/next", 200, 1);
	}
	assert_int_equal(bpf_feed__loss(LOSS_NOT_HTTP), 0);
}

static void chunked_request_and_response(void **state)
{
	(void)state;
	REQUIRE_BPF();
	assert_int_equal(feed(DIR_REQ, "POST /c HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
				       "5\r\nhello\r\n0\r\n\r\n", 1), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 2),
			 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 looks like a status line but is a chunk\r\n", 3),
			 0);
	assert_int_equal(feed(DIR_RESP, "0\r\n\r\n", 4), 0);
	assert_int_equal(feed(DIR_REQ, "GET /after HTTP/1.1\r\n\r\n", 10), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 15),
			 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 2);
	assert_event(0, HTTP_METHOD_POST, "/c", 200, 1);
	assert_event(1, HTTP_METHOD_GET, "/after", 404, 5);
}

static void interim_response_is_not_the_response(void **state)
{
	(void)state;
	REQUIRE_BPF();
	assert_int_equal(feed(DIR_REQ, "PUT /big HTTP/1.1\r\nExpect: 100-continue\r\n"
				       "Content-Length: 2\r\n\r\n", 100), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 100 Continue\r\n\r\n", 110), 0);
	assert_int_equal(feed(DIR_REQ, "hi", 120), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 204 No Content\r\n\r\n", 150), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 1);
	assert_event(0, HTTP_METHOD_PUT, "/big", 204, 50);
}

static void sendfile_body_keeps_framing(void **state)
{
	(void)state;
	REQUIRE_BPF();
	assert_int_equal(feed(DIR_REQ, "GET /f HTTP/1.1\r\n\r\nGET /g HTTP/1.1\r\n\r\n", 1), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", 10),
			 0);
	assert_int_equal(bpf_feed__run(DIR_RESP, NULL, 60000, 11), 0);	/* sendfile */
	assert_int_equal(bpf_feed__run(DIR_RESP, NULL, 40000, 12), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 206 Partial\r\nContent-Length: 1\r\n\r\nx", 20), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 2);
	assert_event(0, HTTP_METHOD_GET, "/f", 200, 9);
	assert_event(1, HTTP_METHOD_GET, "/g", 206, 19);
	assert_int_equal(events[0].resp_bytes, strlen("HTTP/1.1 200 OK\r\nContent-Length: "
						      "100000\r\n\r\n") + 100000);
	assert_true(events[0].flags & HTTP_EVENT_RESP_SIZE_KNOWN);
}

static void long_path_is_truncated(void **state)
{
	char req[300];

	(void)state;
	REQUIRE_BPF();
	snprintf(req, sizeof(req), "GET /%0100d HTTP/1.1\r\n\r\n", 7);
	assert_int_equal(feed(DIR_REQ, req, 0), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 200 OK\r\n\r\n", 1), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 1);
	assert_int_equal(events[0].resource_len, HTTP_PATH_MAX);
	assert_true(events[0].flags & HTTP_EVENT_PATH_TRUNCATED);
	assert_memory_equal(events[0].resource, req + 4, HTTP_PATH_MAX);
}

static void not_http_is_dropped(void **state)
{
	__u64 before;

	(void)state;
	REQUIRE_BPF();
	before = bpf_feed__loss(LOSS_NOT_HTTP);
	/* a redis command: the connection is given up, and counted once */
	assert_int_equal(feed(DIR_REQ, "*1\r\n$4\r\nPING\r\n", 0), 1);
	assert_int_equal(bpf_feed__loss(LOSS_NOT_HTTP), before + 1);
	bpf_feed__drain();
	assert_int_equal(n_events, 0);
}

static void bad_and_unmatched_responses_are_counted(void **state)
{
	__u64 unmatched, unparsable;

	(void)state;
	REQUIRE_BPF();
	unmatched = bpf_feed__loss(LOSS_UNMATCHED_RESPONSE);
	unparsable = bpf_feed__loss(LOSS_UNPARSABLE_RESPONSE);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 200 OK\r\n\r\n", 0), 0);
	assert_int_equal(bpf_feed__loss(LOSS_UNMATCHED_RESPONSE), unmatched + 1);
	assert_int_equal(bpf_feed__run(RESET, NULL, 0, 0), 0);
	assert_int_equal(feed(DIR_REQ, "GET / HTTP/1.1\r\n\r\n", 0), 0);
	assert_int_equal(feed(DIR_RESP, "SSH-2.0-OpenSSH_9.2\r\n", 1), 0);
	assert_int_equal(bpf_feed__loss(LOSS_UNPARSABLE_RESPONSE), unparsable + 1);
	bpf_feed__drain();
	assert_int_equal(n_events, 0);
}

static void fresh_connection(void)
{
	bpf_feed__drain();
	n_events = 0;
	assert_int_equal(bpf_feed__run(RESET, NULL, 0, 0), 0);
}

/* every loss reason's counter, summed */
static __u64 losses(void)
{
	__u64 sum = 0;

	for (int r = 0; r < LOSS_REASON_MAX; r++)
		sum += bpf_feed__loss(r);
	return sum;
}

static void assert_request(int i, __u8 method, const char *path, unsigned status)
{
	const struct http_event *e = &events[i];

	assert_true(i < n_events);
	assert_int_equal(e->operation, method);
	assert_int_equal(e->resource_len, strlen(path));
	assert_memory_equal(e->resource, path, strlen(path));
	assert_int_equal(e->status, status);
	assert_int_equal(e->failure, 0);
}

static const char *const DEPTH_METHODS[] = { "GET", "POST", "PROPFIND", "PURGE", "HEAD",
					     "REPORT", "DELETE", "M-SEARCH" };
static const __u8 DEPTH_METHOD_IDS[] = { HTTP_METHOD_GET, HTTP_METHOD_POST, HTTP_METHOD_OTHER,
					 HTTP_METHOD_OTHER, HTTP_METHOD_HEAD, HTTP_METHOD_OTHER,
					 HTTP_METHOD_DELETE, HTTP_METHOD_OTHER };
static const unsigned DEPTH_STATUSES[] = { 200, 201, 404, 500, 503, 207, 302 };

/*
 * depth pipelined requests of every kind (bodies, HEAD, methods HTTP allows
 * but nobody names) on a fresh connection, answered in order, in writes of
 * req_piece and resp_piece bytes (0: each response its own write).
 */
static void pipeline(int depth, size_t req_piece, size_t resp_piece, __u64 now)
{
	static char reqs[64 * 16384], resps[80 * 16384];
	size_t rl = 0, sl = 0;

	for (int i = 0; i < depth; i++) {
		int m = i % 8;
		unsigned status = DEPTH_STATUSES[i % 7];

		rl += sprintf(reqs + rl, "%s /d/%d HTTP/1.1\r\nHost: x\r\n%s", DEPTH_METHODS[m], i,
			      m == 1 ? "Content-Length: 3\r\n\r\nabc" : "\r\n");
		/* a reply to HEAD announces a body it does not carry */
		sl += sprintf(resps + sl, "HTTP/1.1 %u X\r\nContent-Length: %d\r\n\r\n%s", status,
			      m == 4 ? 50 : 2, m == 4 ? "" : "ok");
	}
	assert_true(rl < sizeof(reqs) && sl < sizeof(resps));
	if (!resp_piece) {
		/* each response its own write: built above, fed now, after the requests */
		fresh_connection();
		feed_pieces(DIR_REQ, reqs, rl, req_piece, now);
		for (size_t at = 0, end; at < sl; at = end) {
			end = at + 1;
			while (end < sl && strncmp(resps + end, "HTTP/1.1 ", 9))
				end++;
			assert_int_equal(bpf_feed__run(DIR_RESP, resps + at, end - at, now + 100),
					 0);
		}
		return;
	}
	fresh_connection();
	feed_pieces(DIR_REQ, reqs, rl, req_piece, now);
	feed_pieces(DIR_RESP, resps, sl, resp_piece, now + 100);
}

/*
 * Any pipelining depth stays framed: every request measured with its own
 * method, path, status and latency, in one write or split anywhere.
 */
static void pipelining_at_any_depth(void **state)
{
	static const int depths[] = { 1, 8, 9, 16, 64, 128, 1000 };
	static const size_t pieces[][2] = { { 1 << 20, 1 << 20 }, { 13, 0 }, { 1 << 20, 17 },
					    { 7, 1 << 20 } };
	char path[32];

	(void)state;
	REQUIRE_BPF();
	for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
		for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
			__u64 lost = losses();

			pipeline(depths[d], pieces[k][0], pieces[k][1], 10);
			bpf_feed__drain();
			assert_int_equal(n_events, depths[d]);
			for (int i = 0; i < depths[d]; i++) {
				snprintf(path, sizeof(path), "/d/%d", i);
				assert_request(i, DEPTH_METHOD_IDS[i % 8], path, DEPTH_STATUSES[i % 7]);
				if (k == 0)
					assert_int_equal(events[i].resp_start_ns - events[i].req_start_ns,
							 100);
			}
			assert_int_equal(losses(), lost);
		}
	}
}

/*
 * Deeper than the connection and the spill map keep: still framed, and
 * every request is measured or counted lost, none twice.
 */
static void pipelining_beyond_what_is_kept(void **state)
{
	int depth = HTTP_PIPELINE_INLINE + HTTP_PIPELINE_SPILL_MAX + 500;
	__u64 lost, overflow;

	(void)state;
	REQUIRE_BPF();
	lost = losses();
	overflow = bpf_feed__loss(LOSS_PIPELINE_OVERFLOW);
	pipeline(depth, 4000, 4000, 10);
	bpf_feed__drain();
	assert_true(bpf_feed__loss(LOSS_PIPELINE_OVERFLOW) - overflow >= 500);
	assert_int_equal(n_events + losses() - lost, depth);
	/* the ones measured are still paired with their own responses */
	for (int i = 0; i < n_events && i < MAX_EVENTS; i++) {
		unsigned n = strtoul(events[i].resource + 3, NULL, 10);

		assert_int_equal(events[i].status, DEPTH_STATUSES[n % 7]);
		assert_int_equal(events[i].operation, DEPTH_METHOD_IDS[n % 8]);
	}
	/* and each later request is measured or counted too */
	lost = losses();
	assert_int_equal(feed(DIR_REQ, "GET /after HTTP/1.1\r\n\r\n", 20), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 30), 0);
	n_events = 0;
	bpf_feed__drain();
	assert_int_equal(n_events + losses() - lost, 1);
}

/*
 * Any token is a method; a request line that is not HTTP costs that
 * request alone once the connection has shown it speaks HTTP/1.
 */
static void any_method_and_bad_request_lines(void **state)
{
	char longest[64];
	__u64 bad;

	(void)state;
	REQUIRE_BPF();
	memset(longest, 'X', 31);
	strcpy(longest + 31, " /long HTTP/1.1\r\n\r\n");
	bad = bpf_feed__loss(LOSS_UNPARSABLE_REQUEST);
	assert_int_equal(feed(DIR_REQ, "PROPFIND /dav/x HTTP/1.1\r\nDepth: 1\r\n\r\n", 1), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 207 Multi-Status\r\nContent-Length: 0\r\n\r\n",
			      2), 0);
	assert_int_equal(feed(DIR_REQ, "PURGE /cache HTTP/1.1\r\n\r\nget /lower HTTP/1.1\r\n\r\n"
				       "M-SEARCH * HTTP/1.1\r\n\r\n", 3), 0);
	assert_int_equal(feed(DIR_REQ, longest, 3), 0);
	/* a delimiter in the method, a line feed in the target, a 33-byte method */
	assert_int_equal(feed(DIR_REQ, "GE(T /x HTTP/1.1\r\nHost: y\r\n\r\n"
				       "GET /broken\r\n\r\n"
				       "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX /x HTTP/1.1\r\n\r\n"
				       "DELETE /y HTTP/1.1\r\n\r\n", 4), 0);
	for (int i = 0; i < 8; i++) {
		static const unsigned statuses[] = { 200, 405, 200, 200, 400, 400, 400, 204 };
		char resp[64];

		snprintf(resp, sizeof(resp), "HTTP/1.1 %u X\r\nContent-Length: 0\r\n\r\n",
			 statuses[i]);
		assert_int_equal(feed(DIR_RESP, resp, 5 + i), 0);
	}
	bpf_feed__drain();
	assert_int_equal(n_events, 6);
	assert_request(0, HTTP_METHOD_OTHER, "/dav/x", 207);
	assert_request(1, HTTP_METHOD_OTHER, "/cache", 200);
	assert_request(2, HTTP_METHOD_OTHER, "/lower", 405);
	assert_request(3, HTTP_METHOD_OTHER, "*", 200);
	assert_request(4, HTTP_METHOD_OTHER, "/long", 200);
	assert_request(5, HTTP_METHOD_DELETE, "/y", 204);
	assert_int_equal(bpf_feed__loss(LOSS_UNPARSABLE_REQUEST), bad + 3);
}

/*
 * One response stream shape: the request it answers, the response bytes
 * (empty lines, interim responses and all) and the status a strict client
 * reads from them.
 */
struct shape {
	const char *name;
	const char *req;
	const char *resp;
	__u8 method;
	unsigned status;
};

static const struct shape SHAPES[] = {
	{ "reason", "GET /s HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	  HTTP_METHOD_GET, 200 },
	{ "no reason", "GET /s HTTP/1.1\r\n\r\n", "HTTP/1.1 404\r\nContent-Length: 1\r\n\r\nx",
	  HTTP_METHOD_GET, 404 },
	{ "empty reason", "GET /s HTTP/1.1\r\n\r\n", "HTTP/1.1 503 \r\nContent-Length: 0\r\n\r\n",
	  HTTP_METHOD_GET, 503 },
	{ "empty lines first", "GET /s HTTP/1.1\r\n\r\n",
	  "\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", HTTP_METHOD_GET, 201 },
	{ "bare LF", "GET /s HTTP/1.1\r\n\r\n", "\nHTTP/1.1 202 A\nContent-Length: 3\n\nabc",
	  HTTP_METHOD_GET, 202 },
	{ "100 continue", "PUT /s HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
	  "HTTP/1.1 100 Continue\r\n\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", HTTP_METHOD_PUT, 204 },
	{ "103 with headers", "GET /s HTTP/1.1\r\n\r\n",
	  "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
	  "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody", HTTP_METHOD_GET, 200 },
	{ "HEAD", "HEAD /s HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n",
	  HTTP_METHOD_HEAD, 200 },
	{ "HEAD chunked", "HEAD /s HTTP/1.1\r\n\r\n",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_METHOD_HEAD, 200 },
	{ "204 with length", "DELETE /s HTTP/1.1\r\n\r\n",
	  "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", HTTP_METHOD_DELETE, 204 },
	{ "304 with length", "GET /s HTTP/1.1\r\n\r\n",
	  "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n", HTTP_METHOD_GET, 304 },
	{ "chunked", "GET /s HTTP/1.1\r\n\r\n",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "5\r\nhello\r\n1A;name=value;q=\"x\"\r\nHTTP/1.1 200 OK looks like\r\n0\r\n\r\n",
	  HTTP_METHOD_GET, 200 },
	{ "chunked trailers", "POST /s HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
	  "HTTP/1.1 500 Oops\r\ntransfer-encoding: gzip, chunked\r\nContent-Length: 3\r\n\r\n"
	  "a \r\n0123456789\r\n0;last\r\nX-Checksum: 1\r\nExpires: never\r\n\r\n",
	  HTTP_METHOD_POST, 500 },
};

/*
 * Each shape, split at every byte, alone and pipelined with a plain
 * request behind it, and a plain exchange after: the statuses go to their
 * own requests, nothing is lost, the connection is still followed.
 */
static void responses_as_strict_clients_read_them(void **state)
{
	static const char PLAIN_REQ[] = "GET /plain HTTP/1.1\r\n\r\n";
	static const char PLAIN_RESP[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	char reqs[256], resps[512];

	(void)state;
	REQUIRE_BPF();
	for (size_t i = 0; i < sizeof(SHAPES) / sizeof(SHAPES[0]); i++) {
		const struct shape *sh = &SHAPES[i];

		for (int pipelined = 0; pipelined <= 1; pipelined++) {
			size_t sl;

			snprintf(reqs, sizeof(reqs), "%s%s", sh->req, pipelined ? PLAIN_REQ : "");
			sl = snprintf(resps, sizeof(resps), "%s%s", sh->resp,
				      pipelined ? PLAIN_RESP : "");
			for (size_t cut = 0; cut < sl; cut++) {
				__u64 lost = losses();

				fresh_connection();
				/* a lone exchange first: the lone fast path's state after it */
				assert_int_equal(feed(DIR_REQ, PLAIN_REQ, 1), 0);
				assert_int_equal(feed(DIR_RESP, PLAIN_RESP, 2), 0);
				assert_int_equal(feed(DIR_REQ, reqs, 3), 0);
				if (cut)
					assert_int_equal(bpf_feed__run(DIR_RESP, resps, cut, 4), 0);
				assert_int_equal(bpf_feed__run(DIR_RESP, resps + cut, sl - cut, 5),
						 0);
				if (!pipelined) {
					assert_int_equal(feed(DIR_REQ, PLAIN_REQ, 6), 0);
					assert_int_equal(feed(DIR_RESP, PLAIN_RESP, 7), 0);
				}
				assert_int_equal(feed(DIR_REQ, PLAIN_REQ, 8), 0);
				assert_int_equal(feed(DIR_RESP, PLAIN_RESP, 9), 0);
				bpf_feed__drain();
				if (n_events != 4 || events[1].status != sh->status ||
				    losses() != lost)
					fail_msg("shape \"%s\"%s, cut at %zu: %d events, status %u, "
						 "%llu lost", sh->name, pipelined ? " pipelined" : "",
						 cut, n_events, n_events > 1 ? events[1].status : 0,
						 (unsigned long long)(losses() - lost));
				assert_request(0, HTTP_METHOD_GET, "/plain", 200);
				assert_request(1, sh->method, "/s", sh->status);
				assert_request(2, HTTP_METHOD_GET, "/plain", 200);
				assert_request(3, HTTP_METHOD_GET, "/plain", 200);
			}
		}
	}
}

/*
 * A body delimited by the close: what follows it is body, not a response,
 * and the request behind it fails with the connection.
 */
static void close_delimited_body(void **state)
{
	(void)state;
	REQUIRE_BPF();
	assert_int_equal(feed(DIR_REQ, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", 1), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody ", 2), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 3), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 1);
	assert_request(0, HTTP_METHOD_GET, "/a", 200);
}

/*
 * A response that is no response costs its own request; with more in
 * flight the connection is given up and each of them counted, never paired
 * with a later status.
 */
static void unframable_responses_cost_their_requests(void **state)
{
	__u64 unparsable, unframed;

	(void)state;
	REQUIRE_BPF();
	unparsable = bpf_feed__loss(LOSS_UNPARSABLE_RESPONSE);
	unframed = bpf_feed__loss(LOSS_UNFRAMED);
	/* alone: the next status line resynchronises */
	assert_int_equal(feed(DIR_REQ, "GET /one HTTP/1.1\r\n\r\n", 1), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 2), 0);
	assert_int_equal(feed(DIR_REQ, "GET /two HTTP/1.1\r\n\r\nGET /three HTTP/1.1\r\n\r\n", 3), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 4), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 2x0 OK\r\n\r\n", 5), 0);
	assert_int_equal(bpf_feed__loss(LOSS_UNPARSABLE_RESPONSE), unparsable + 1);
	assert_int_equal(feed(DIR_REQ, "GET /four HTTP/1.1\r\n\r\n", 6), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 7), 0);
	/*
	 * With two more in flight: responses given up, both counted, and
	 * every later request too, as it comes.
	 */
	assert_int_equal(feed(DIR_REQ, "GET /5 HTTP/1.1\r\n\r\nGET /6 HTTP/1.1\r\n\r\n"
				       "GET /7 HTTP/1.1\r\n\r\n", 8), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
					"zz\r\n", 9), 0);
	assert_int_equal(bpf_feed__loss(LOSS_UNFRAMED), unframed + 2);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 10), 0);
	assert_int_equal(feed(DIR_REQ, "GET /8 HTTP/1.1\r\n\r\n", 11), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 12), 0);
	assert_int_equal(bpf_feed__loss(LOSS_UNFRAMED), unframed + 3);
	bpf_feed__drain();
	assert_int_equal(n_events, 4);
	assert_request(0, HTTP_METHOD_GET, "/one", 200);
	assert_request(1, HTTP_METHOD_GET, "/two", 200);
	assert_request(2, HTTP_METHOD_GET, "/four", 404);
	assert_request(3, HTTP_METHOD_GET, "/5", 200);
}

/* 101 Switching Protocols is measured, and what follows is not HTTP/1. */
static void upgrade_ends_http1(void **state)
{
	(void)state;
	REQUIRE_BPF();
	assert_int_equal(feed(DIR_REQ, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", 1), 0);
	assert_int_equal(feed(DIR_RESP, "HTTP/1.1 101 Switching Protocols\r\n"
					"Upgrade: websocket\r\n\r\n", 2), 1);
	bpf_feed__drain();
	assert_int_equal(n_events, 1);
	assert_request(0, HTTP_METHOD_GET, "/ws", 101);
}

/* ---- against a reference client parser: llhttp (Debian's node-llhttp) ---- */

#define REF_REQUESTS	24

struct ref_client {
	const __u8 *methods;	/* of the requests, in order */
	int answered;		/* final responses seen */
	unsigned statuses[REF_REQUESTS];
};

static int ref_on_headers_complete(llhttp_t *parser)
{
	struct ref_client *rc = parser->data;
	unsigned status = llhttp_get_status_code(parser);
	bool head;

	if (status < 200)
		return 0;	/* interim: the final response follows */
	assert_true(rc->answered < REF_REQUESTS);
	head = rc->methods[rc->answered] == HTTP_METHOD_HEAD;
	rc->statuses[rc->answered++] = status;
	/*
	 * 1: this response has no body, as a client tells llhttp (Node's does)
	 * for a reply to HEAD, a 204 or a 304 (RFC 9112 6.3), whatever its
	 * Content-Length
	 */
	return head || status == 204 || status == 304 ? 1 : 0;
}

/* The final statuses a strict client reads from the response stream. */
static int ref_statuses(const char *stream, size_t len, const __u8 *methods, unsigned *statuses)
{
	struct ref_client rc = { .methods = methods };
	llhttp_settings_t settings;
	llhttp_t parser;

	llhttp_settings_init(&settings);
	settings.on_headers_complete = ref_on_headers_complete;
	llhttp_init(&parser, HTTP_RESPONSE, &settings);
	parser.data = &rc;
	if (llhttp_execute(&parser, stream, len) != HPE_OK)
		fail_msg("llhttp: %s at byte %zu", llhttp_get_error_reason(&parser),
			 (size_t)(llhttp_get_error_pos(&parser) - stream));
	memcpy(statuses, rc.statuses, sizeof(rc.statuses));
	return rc.answered;
}

static unsigned pick(unsigned *seed, unsigned n)
{
	return rand_r(seed) % n;
}

/* One random valid response to a request with method m, appended at out. */
static size_t random_response(unsigned *seed, __u8 m, char *out)
{
	static const unsigned statuses[] = { 200, 201, 204, 206, 304, 400, 404, 500, 503 };
	static const char *const reasons[] = { " OK", "", " ", " Some Reason Phrase" };
	static const char *const extra[] = { "Server: x\r\n", "Date: Mon, 07 Dec 2026\r\n",
					     "Content-Type: text/plain\r\n", "X-Long: " \
					     "HTTP/1.1 200 OK looks like a status line\r\n" };
	unsigned status = statuses[pick(seed, 9)];
	bool no_body = m == HTTP_METHOD_HEAD || status == 204 || status == 304;
	size_t n = 0;

	for (unsigned i = pick(seed, 3); i > 1; i--)
		n += sprintf(out + n, "\r\n");
	if (!pick(seed, 4))
		n += sprintf(out + n, pick(seed, 2) ? "HTTP/1.1 100 Continue\r\n\r\n" :
			     "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n");
	/* 1.1: a 1.0 response without keep-alive ends the connection */
	n += sprintf(out + n, "HTTP/1.1 %u%s\r\n", status, reasons[pick(seed, 4)]);
	for (unsigned i = pick(seed, 3); i > 0; i--)
		n += sprintf(out + n, "%s", extra[pick(seed, 4)]);
	if (!no_body && pick(seed, 3) == 0) {
		/* chunked, with extensions and trailers at times */
		n += sprintf(out + n, "Transfer-Encoding: chunked\r\n\r\n");
		for (unsigned i = pick(seed, 4); i > 0; i--) {
			unsigned size = 1 + pick(seed, 40);

			n += sprintf(out + n, pick(seed, 2) ? "%x" : "%X", size);
			n += sprintf(out + n, "%s\r\n", pick(seed, 3) ? "" : ";ext=\"v\"");
			memset(out + n, "HTTP/1.1 200\r\n"[pick(seed, 14)], size);
			n += size;
			n += sprintf(out + n, "\r\n");
		}
		n += sprintf(out + n, "0\r\n%s\r\n", pick(seed, 2) ? "" : "X-Trailer: t\r\n");
	} else {
		unsigned len = pick(seed, 2) ? pick(seed, 300) : 0;

		n += sprintf(out + n, "Content-Length: %u\r\n\r\n", len);
		if (!no_body) {
			for (unsigned i = 0; i < len; i++)
				out[n + i] = "HTTP/1.1 200 OK\r\n"[pick(seed, 17)];
			n += len;
		}
	}
	return n;
}

/*
 * Random valid response streams, pipelined or one exchange at a time, split
 * into writes at random: the (request, status) pairs slotap emits are the
 * ones llhttp reads, and nothing is counted lost.
 */
static void pairs_agree_with_llhttp(void **state)
{
	static const __u8 methods_pool[] = { HTTP_METHOD_GET, HTTP_METHOD_HEAD, HTTP_METHOD_POST,
					     HTTP_METHOD_OTHER };
	static const char *const names[] = { [HTTP_METHOD_GET] = "GET", [HTTP_METHOD_HEAD] = "HEAD",
					     [HTTP_METHOD_POST] = "POST",
					     [HTTP_METHOD_OTHER] = "PURGE" };
	static char stream[REF_REQUESTS * 1024], reqs[REF_REQUESTS * 64];
	unsigned seed = 7, want[REF_REQUESTS];

	(void)state;
	REQUIRE_BPF();
	for (int round = 0; round < 3000; round++) {
		size_t starts[REF_REQUESTS + 1], sl = 0, rl = 0;
		int n = 1 + pick(&seed, REF_REQUESTS), got;
		bool pipelined = round % 2;
		__u8 methods[REF_REQUESTS];
		__u64 lost = losses();
		char path[16];

		for (int i = 0; i < n; i++) {
			methods[i] = methods_pool[pick(&seed, 4)];
			rl += sprintf(reqs + rl, "%s /r/%d HTTP/1.1\r\n\r\n", names[methods[i]], i);
			starts[i] = sl;
			sl += random_response(&seed, methods[i], stream + sl);
		}
		starts[n] = sl;
		got = ref_statuses(stream, sl, methods, want);
		assert_int_equal(got, n);

		fresh_connection();
		if (pipelined)
			assert_int_equal(feed(DIR_REQ, reqs, 1), 0);
		for (int i = 0, at = 0; i < n; i++) {
			size_t end = starts[i + 1];

			if (!pipelined) {
				char one[64];

				snprintf(one, sizeof(one), "%s /r/%d HTTP/1.1\r\n\r\n", names[methods[i]],
					 i);
				assert_int_equal(feed(DIR_REQ, one, 1), 0);
			}
			/* this response in random pieces; pipelined, pieces span responses */
			while ((size_t)at < (pipelined ? sl : end)) {
				size_t piece = 1 + pick(&seed, pick(&seed, 4) ? 16 : 400);
				size_t stop = pipelined ? sl : end;

				if (at + piece > stop)
					piece = stop - at;
				assert_int_equal(bpf_feed__run(DIR_RESP, stream + at, piece, 2), 0);
				at += piece;
			}
		}
		bpf_feed__drain();
		if (n_events != n || losses() != lost)
			fail_msg("round %d (%s, %d requests): %d events, %llu lost", round,
				 pipelined ? "pipelined" : "one at a time", n, n_events,
				 (unsigned long long)(losses() - lost));
		for (int i = 0; i < n; i++) {
			snprintf(path, sizeof(path), "/r/%d", i);
			if (events[i].status != want[i] || events[i].resource_len != strlen(path) ||
			    memcmp(events[i].resource, path, strlen(path)))
				fail_msg("round %d, request %d: slotap %.*s %u, llhttp %s %u", round, i,
					 events[i].resource_len, events[i].resource, events[i].status, path,
					 want[i]);
		}
	}
}

/*
 * A new connection's protocol, from its client's first bytes: HTTP/1 for a
 * request line (any method, empty lines first); for another protocol,
 * nothing followed, and after the reads judged for HTTP/2 mid-stream
 * (test_http2_parser.c) counted once and dropped.
 */
static void protocol_from_first_bytes(void **state)
{
	static const char *const http1[] = { "GET / HTTP/1.1\r\n\r\n", "\r\nGET / HTTP/1.1\r\n\r\n",
					     "PROPFIND /x HTTP/1.1\r\n\r\n", "X-VERY-LONG-METHOD /x HTTP/1.1\r\n\r\n" };
	/* "*" starts Redis's (test_redis_parser.c) */
	static const char *const others[] = { "\x16\x04\x01\x02\x00\x01\x00\x01",
					      "\0\0\0\x08\x04\xd2\x16\x2f" };
	__u64 before;

	(void)state;
	REQUIRE_BPF();
	for (size_t i = 0; i < sizeof(http1) / sizeof(http1[0]); i++) {
		bpf_feed__drain();
		n_events = 0;
		assert_int_equal(bpf_feed__run(RESET_NEW, NULL, 0, 0), 0);
		/* a server's greeting before any request is not looked at */
		assert_int_equal(feed(DIR_RESP, "220 ready\r\n", 1), 0);
		assert_int_equal(feed(DIR_REQ, http1[i], 2), 0);
		assert_int_equal(feed(DIR_RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 3), 0);
		bpf_feed__drain();
		assert_int_equal(n_events, 1);
		assert_int_equal(events[0].protocol, PROTO_HTTP1);
		assert_int_equal(events[0].status_class, STATUS_CLASS_OK);
	}
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		before = bpf_feed__loss(LOSS_NOT_HTTP);
		assert_int_equal(bpf_feed__run(RESET_NEW, NULL, 0, 0), 0);
		for (int r = 1; r < 4; r++)
			assert_int_equal(bpf_feed__run(DIR_REQ, others[i], 8, r), 0);
		assert_int_equal(bpf_feed__loss(LOSS_NOT_HTTP), before);
		assert_int_equal(bpf_feed__run(DIR_REQ, others[i], 8, 4), 1);
		assert_int_equal(bpf_feed__loss(LOSS_NOT_HTTP), before + 1);
	}
}

/*
 * A connection whose client starts with a TLS handshake record is TLS: its
 * ciphertext is neither parsed nor counted not_http, whatever it looks
 * like (its plaintext comes from the TLS library's uprobes, tls.bpf.h).
 */
static void tls_ciphertext_is_not_parsed(void **state)
{
	static const char *const hellos[] = { "\x16\x03\x01\x02\x00\x01\x00\x01",
					      "\x16\x03\x03\x00\x7a\x02\x00\x00",
					      "\x16\x03\x00\x00\x05\x01\x00\x00" };
	__u64 before;

	(void)state;
	REQUIRE_BPF();
	for (size_t i = 0; i < sizeof(hellos) / sizeof(hellos[0]); i++) {
		bpf_feed__drain();
		n_events = 0;
		before = bpf_feed__loss(LOSS_NOT_HTTP);
		assert_int_equal(bpf_feed__run(RESET_NEW, NULL, 0, 0), 0);
		assert_int_equal(bpf_feed__run(DIR_REQ, hellos[i], 8, 1), 0);
		/* ciphertext that happens to read as HTTP is not parsed either */
		assert_int_equal(feed(DIR_REQ, "GET / HTTP/1.1\r\n\r\n", 2), 0);
		assert_int_equal(feed(DIR_RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 3), 0);
		assert_int_equal(feed(DIR_REQ, "\x17\x03\x03\x00\x20\xaa\xbb\xcc", 4), 0);
		bpf_feed__drain();
		assert_int_equal(n_events, 0);
		assert_int_equal(bpf_feed__loss(LOSS_NOT_HTTP), before);
	}
}

/* Statuses outside what HTTP defines are their own class. */
static void status_classes(void **state)
{
	static const struct { const char *line; __u8 class; } cases[] = {
		{ "HTTP/1.1 204 No Content\r\n\r\n", STATUS_CLASS_OK },
		{ "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n", STATUS_CLASS_OK },
		{ "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", STATUS_CLASS_CLIENT_ERROR },
		{ "HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\n\r\n", STATUS_CLASS_SERVER_ERROR },
		{ "HTTP/1.1 799 Odd\r\nContent-Length: 0\r\n\r\n", STATUS_CLASS_INVALID },
		{ "HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n", STATUS_CLASS_INVALID },
	};

	(void)state;
	REQUIRE_BPF();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(feed(DIR_REQ, "GET /c HTTP/1.1\r\n\r\n", 1), 0);
		assert_int_equal(feed(DIR_RESP, cases[i].line, 2), 0);
	}
	bpf_feed__drain();
	assert_int_equal(n_events, sizeof(cases) / sizeof(cases[0]));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(events[i].status_class, cases[i].class);
}

static void set_port(__u32 port, __u16 service, __u16 listen_service)
{
	struct port_info pi = { .service = service, .listen_service = listen_service };

	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.ports), &port, &pi, BPF_ANY),
			 0);
}

/*
 * The reset answered a segment to port dport with these TCP flags and
 * payload bytes: reported?
 */
static int reset_to_with(__u32 dport, __u8 flags, __u16 payload)
{
	/* IPv4 from 127.0.0.9, then the TCP header from port 40000 (no options) */
	__u16 total = 20 + 20 + payload;
	__u8 ip[24] = { 0x45, [2] = total >> 8, [3] = total & 0xff, [12] = 127, [15] = 9 };
	__u8 th[14] = { 40000 >> 8, 40000 & 0xff, dport >> 8, dport & 0xff, [12] = 0x50,
			[13] = flags };
	__u64 args[2] = { (__u64)(unsigned long)th, (__u64)(unsigned long)ip };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));

	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.slotap_test_reset),
						&opts), 0);
	return (int)opts.retval;
}

static int reset_to(__u32 dport, __u8 flags)
{
	return reset_to_with(dport, flags, 0);
}

/*
 * Only a reset answering a bare SYN to a port a service claims is a refused
 * connection: by configuration, or learnt from a process-matched service.
 * One answering data there is a request that connection lost.
 */
static void refused_needs_a_bare_syn_to_a_service_port(void **state)
{
	static const __u8 SYN = 0x02, RST = 0x04, ACK = 0x10, FIN = 0x01;
	const struct http_event *e;

	(void)state;
	REQUIRE_BPF();
	set_port(31001, 3, 0);		/* service 2, by port */
	set_port(31002, 0, 5);		/* service 4, last seen listening there */
	set_port(31003, 0, 0);
	assert_int_equal(reset_to(31001, SYN), 1);
	assert_int_equal(reset_to(31002, SYN), 1);
	assert_int_equal(reset_to(31003, SYN), 0);	/* nobody's port */
	assert_int_equal(reset_to(31001, SYN | ACK), 0);	/* a SYN-ACK: we connected */
	assert_int_equal(reset_to(31001, ACK), 0);	/* a late ACK */
	assert_int_equal(reset_to(31001, ACK | FIN), 0);
	assert_int_equal(reset_to(31001, SYN | RST), 0);
	assert_int_equal(reset_to_with(31003, ACK, 100), 0);	/* nobody's port */
	assert_int_equal(reset_to_with(31001, ACK | FIN, 100), 1);	/* a request, lost */
	bpf_feed__drain();
	assert_int_equal(n_events, 3);
	assert_int_equal(events[2].failure, HTTP_FAILURE_CONN_RESET);
	assert_int_equal(events[2].flags, HTTP_EVENT_NO_REQUEST);
	assert_int_equal(events[2].service_id, 2);
	e = &events[0];
	assert_int_equal(e->kind, HTTP_EVENT_REQUEST);
	assert_int_equal(e->failure, HTTP_FAILURE_REFUSED);
	assert_int_equal(e->flags, HTTP_EVENT_NO_REQUEST);
	assert_int_equal(e->service_id, 2);
	assert_int_equal(e->local_port, 31001);
	assert_int_equal(e->remote_port, 40000);
	assert_int_equal(e->remote_addr[10], 0xff);
	assert_int_equal(e->remote_addr[12], 127);
	assert_int_equal(e->remote_addr[15], 9);
	assert_int_equal(e->status, 0);
	assert_int_equal(e->resource_len, 0);
	assert_int_equal(events[1].service_id, 4);
	set_port(31001, 0, 0);
	set_port(31002, 0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(simple_exchange, test_setup),
		cmocka_unit_test_setup(events_staged_until_batch_or_flush, test_setup),
		cmocka_unit_test_setup(keep_alive, test_setup),
		cmocka_unit_test_setup(pipelined_requests, test_setup),
		cmocka_unit_test_setup(pipelined_responses_in_one_write, test_setup),
		cmocka_unit_test_setup(split_anywhere, test_setup),
		cmocka_unit_test_setup(body_split_across_reads, test_setup),
		cmocka_unit_test_setup(head_scanner_hands_over_odd_heads, test_setup),
		cmocka_unit_test_setup(head_scanner_agrees_with_byte_parser, test_setup),
		cmocka_unit_test_setup(chunked_request_and_response, test_setup),
		cmocka_unit_test_setup(interim_response_is_not_the_response, test_setup),
		cmocka_unit_test_setup(sendfile_body_keeps_framing, test_setup),
		cmocka_unit_test_setup(long_path_is_truncated, test_setup),
		cmocka_unit_test_setup(not_http_is_dropped, test_setup),
		cmocka_unit_test_setup(tls_ciphertext_is_not_parsed, test_setup),
		cmocka_unit_test_setup(bad_and_unmatched_responses_are_counted, test_setup),
		cmocka_unit_test_setup(pipelining_at_any_depth, test_setup),
		cmocka_unit_test_setup(pipelining_beyond_what_is_kept, test_setup),
		cmocka_unit_test_setup(any_method_and_bad_request_lines, test_setup),
		cmocka_unit_test_setup(responses_as_strict_clients_read_them, test_setup),
		cmocka_unit_test_setup(close_delimited_body, test_setup),
		cmocka_unit_test_setup(unframable_responses_cost_their_requests, test_setup),
		cmocka_unit_test_setup(upgrade_ends_http1, test_setup),
		cmocka_unit_test_setup(pairs_agree_with_llhttp, test_setup),
		cmocka_unit_test_setup(protocol_from_first_bytes, test_setup),
		cmocka_unit_test_setup(status_classes, test_setup),
		cmocka_unit_test_setup(refused_needs_a_bare_syn_to_a_service_port, test_setup),
	};

	return cmocka_run_group_tests_name("http_parser (BPF)", tests, group_setup,
					   group_teardown);
}
