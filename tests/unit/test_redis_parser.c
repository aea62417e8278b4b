// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel's Redis parser (bpf/redis.bpf.h), driven without traffic as
 * test_http_parser.c drives HTTP/1's: tests/bpf/parser_test.bpf.c's
 * slotap_test_feed through BPF_PROG_TEST_RUN, with a clock we choose, its
 * redis_names filled from the agent's table (user/redis_names.c). Commands
 * and replies split at every byte, pipelines, pub/sub, transactions,
 * RESP3, hostile lengths; random streams whose (command, status) pairs
 * must come out exactly, in any pieces. Needs root (BPF); skipped
 * otherwise, except under CI, where it fails.
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
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "http_server.h"
#include "redis.h"
#include "redis_names.h"
#include "bpf_feed.h"
#include "parser_test.h"
#include "parser_test.skel.h"

enum { DIR_REQ = 0, DIR_RESP = 1 };

#define MAX_EVENTS 65536

static struct parser_test_bpf *skel;	/* NULL: not root, the tests skip */
static struct http_event events[MAX_EVENTS];
static int n_events;

static int n_records;	/* events as they came, before expanding their counts */

/* one event, or a CPU's batch; an event of count n is n commands here */
static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	assert_int_equal(size % sizeof(struct http_event), 0);
	for (size_t off = 0; off < size; off += sizeof(struct http_event)) {
		struct http_event e;

		memcpy(&e, (char *)data + off, sizeof(e));
		assert_true(e.count >= 1);
		n_records++;
		for (__u32 i = 0; i < e.count; i++) {
			if (n_events < MAX_EVENTS) {
				events[n_events] = e;
				events[n_events].count = 1;
			}
			n_events++;
		}
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
		fail_msg("test_redis_parser needs root (BPF), and CI must run it");
	skel = bpf_feed__skel();
	if (skel && redis_names__fill(bpf_map__fd(skel->maps.redis_names)))
		return -1;
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

/* the counters as the test started: every test sees its own */
static __u64 base[LOSS_REASON_MAX];

static __u64 loss(enum http_loss_reason reason)
{
	return bpf_feed__loss(reason) - base[reason];
}

static __u64 losses(void)
{
	__u64 sum = 0;

	for (int r = 0; r < LOSS_REASON_MAX; r++)
		sum += loss(r);
	return sum;
}

/* losses of commands: an unmatched reply is none */
static __u64 command_losses(void)
{
	return losses() - loss(LOSS_UNMATCHED_RESPONSE);
}

static void reset(void)
{
	bpf_feed__drain();
	n_events = 0;
	n_records = 0;
	assert_int_equal(bpf_feed__run(TEST_RESET_REDIS, NULL, 0, 0), 0);
}

static int test_setup(void **state)
{
	(void)state;
	if (!skel)
		return 0;
	reset();
	for (int r = 0; r < LOSS_REASON_MAX; r++)
		base[r] = bpf_feed__loss(r);
	return 0;
}

/* The operation id of a command name, as the agent's table has it (0: _OTHER). */
static __u8 op(const char *name)
{
	for (unsigned int i = 1; i <= redis_names__commands(); i++)
		if (!strcmp(redis_names__operation(i), name))
			return i;
	return REDIS_OP_OTHER;
}

/* The status id of an error prefix (REDIS_ERROR_OTHER: not ours). */
static __u16 err(const char *name)
{
	for (unsigned int i = 2; i < 2 + redis_names__errors(); i++)
		if (!strcmp(redis_names__status(i), name))
			return i;
	return REDIS_ERROR_OTHER;
}

static void assert_event(int i, __u8 operation, __u16 status, __u64 latency)
{
	const struct http_event *e = &events[i];

	assert_true(i < n_events);
	assert_int_equal(e->protocol, PROTO_REDIS);
	assert_int_equal(e->operation, operation);
	assert_int_equal(e->status, status);
	assert_int_equal(e->resp_start_ns - e->req_start_ns, latency);
	assert_int_equal(e->failure, 0);
	assert_int_equal(e->count, 1);
}

static void set_and_get(void **state)
{
	static const char set[] = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";

	(void)state;
	REQUIRE_BPF();
	assert_int_equal(feed(DIR_REQ, set, 1000), 0);
	assert_int_equal(feed(DIR_RESP, "+OK\r\n", 4000), 0);
	assert_int_equal(feed(DIR_REQ, "*2\r\n$3\r\nget\r\n$3\r\nkey\r\n", 5000), 0);
	assert_int_equal(feed(DIR_RESP, "$5\r\nvalue\r\n", 5500), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 2);
	assert_event(0, op("SET"), REDIS_STATUS_OK, 3000);
	assert_int_equal(events[0].req_bytes, strlen(set));
	assert_int_equal(events[0].resp_bytes, 5);
	assert_event(1, op("GET"), REDIS_STATUS_OK, 500);	/* names in any case */
	assert_int_equal(events[1].status_class, STATUS_CLASS_OK);
	assert_int_equal(losses(), 0);
}

/* The connection's first bytes say Redis: "*" and a digit. */
static void classified_by_first_bytes(void **state)
{
	(void)state;
	REQUIRE_BPF();
	assert_int_equal(bpf_feed__run(TEST_RESET_NEW, NULL, 0, 0), 0);
	assert_int_equal(feed(DIR_REQ, "*1\r\n$4\r\nPING\r\n", 10), 0);
	assert_int_equal(feed(DIR_RESP, "+PONG\r\n", 30), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 1);
	assert_event(0, op("PING"), REDIS_STATUS_OK, 20);
}

/* An error reply's first word is its status; whose fault it is, its class. */
static void errors_are_statuses(void **state)
{
	(void)state;
	REQUIRE_BPF();
	assert_int_equal(feed(DIR_REQ, "*1\r\n$7\r\nNOTACMD\r\n"
				       "*2\r\n$5\r\nLPUSH\r\n$1\r\nk\r\n"
				       "*2\r\n$7\r\nEVALSHA\r\n$2\r\nab\r\n"
				       "*1\r\n$3\r\nGET\r\n"
				       "*1\r\n$4\r\nEVAL\r\n"
				       "*1\r\n$4\r\nINCR\r\n"
				       "*1\r\n$4\r\nHGET\r\n", 1), 0);
	assert_int_equal(feed(DIR_RESP, "-ERR unknown command 'NOTACMD'\r\n"
					"-WRONGTYPE Operation against a key\r\n"
					"-NOSCRIPT No matching script\r\n"
					"-OOM command not allowed\r\n"
					"-MYERR raised by a script\r\n"
					/* RESP3's blob error, its first word the status */
					"!21\r\nLOADING Redis is busy\r\n"
					/* a bare word; a word longer than any name */
					"-ERRORSTHATARELONGERTHANANYNAMEWEKNOW\r\n", 2), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 7);
	assert_event(0, REDIS_OP_OTHER, err("ERR"), 1);
	assert_int_equal(events[0].status_class, STATUS_CLASS_CLIENT_ERROR);
	assert_event(1, op("LPUSH"), err("WRONGTYPE"), 1);
	assert_event(2, op("EVALSHA"), err("NOSCRIPT"), 1);
	assert_event(3, op("GET"), err("OOM"), 1);
	assert_int_equal(events[3].status_class, STATUS_CLASS_SERVER_ERROR);
	assert_event(4, op("EVAL"), REDIS_ERROR_OTHER, 1);
	assert_event(5, op("INCR"), err("LOADING"), 1);
	assert_int_equal(events[5].status_class, STATUS_CLASS_SERVER_ERROR);
	assert_event(6, op("HGET"), REDIS_ERROR_OTHER, 1);
	assert_string_equal(redis_names__status(events[1].status), "WRONGTYPE");
	assert_int_equal(losses(), 0);
}

/*
 * Every reply type of RESP2 and RESP3, nested: one response each, and
 * errors inside an aggregate (EXEC's) are not its status.
 */
static void reply_types(void **state)
{
	static const char *const replies[] = {
		"+OK\r\n", ":-12\r\n", "$-1\r\n", "*-1\r\n", "$0\r\n\r\n", "*0\r\n",
		"$10\r\n\r\n*1\r\n$1\r\n\r\n",		/* CRLF and RESP inside a bulk */
		"*3\r\n:1\r\n*2\r\n+a\r\n-ERR inner\r\n$2\r\nxy\r\n",
		"%2\r\n+k1\r\n:1\r\n+k2\r\n*1\r\n_\r\n",	/* RESP3 map */
		"~2\r\n,1.5\r\n#t\r\n", "(3492890328409238509324850943850943825024385\r\n",
		"=15\r\ntxt:Some string\r\n", "_\r\n", ",inf\r\n",
		"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n:7\r\n",	/* attribute */
	};
	size_t n = sizeof(replies) / sizeof(replies[0]);

	(void)state;
	REQUIRE_BPF();
	for (size_t i = 0; i < n; i++)
		assert_int_equal(feed(DIR_REQ, "*1\r\n$4\r\nTIME\r\n", 10), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(feed(DIR_RESP, replies[i], 20 + i), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, n);
	for (size_t i = 0; i < n; i++)
		assert_event(i, op("TIME"), REDIS_STATUS_OK, 10 + i);
	assert_int_equal(losses(), 0);
}

/* A transaction: each command is answered, queued, then EXEC by the array. */
static void multi_exec(void **state)
{
	(void)state;
	REQUIRE_BPF();
	assert_int_equal(feed(DIR_REQ, "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
				       "*2\r\n$4\r\nINCR\r\n$1\r\na\r\n*1\r\n$4\r\nEXEC\r\n", 10), 0);
	assert_int_equal(feed(DIR_RESP, "+OK\r\n+QUEUED\r\n+QUEUED\r\n", 20), 0);
	assert_int_equal(feed(DIR_RESP, "*2\r\n+OK\r\n-ERR not an integer\r\n", 50), 0);
	/* an aborted one: EXECABORT is EXEC's own status */
	assert_int_equal(feed(DIR_REQ, "*1\r\n$5\r\nMULTI\r\n*1\r\n$4\r\nNOPE\r\n*1\r\n$4\r\nEXEC\r\n",
			      100), 0);
	assert_int_equal(feed(DIR_RESP, "+OK\r\n-ERR unknown command\r\n"
					"-EXECABORT Transaction discarded\r\n", 110), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 7);
	assert_event(0, op("MULTI"), REDIS_STATUS_OK, 10);
	assert_event(1, op("SET"), REDIS_STATUS_OK, 10);
	assert_event(2, op("INCR"), REDIS_STATUS_OK, 10);
	assert_event(3, op("EXEC"), REDIS_STATUS_OK, 40);
	assert_event(5, REDIS_OP_OTHER, err("ERR"), 10);
	assert_event(6, op("EXEC"), err("EXECABORT"), 10);
}

/* Inline commands (after a RESP one), and what Redis takes for no command. */
static void inline_and_empty_commands(void **state)
{
	(void)state;
	REQUIRE_BPF();
	assert_int_equal(feed(DIR_REQ, "*1\r\n$4\r\nPING\r\n", 1), 0);
	assert_int_equal(feed(DIR_REQ, "\r\n  \t \r\n*0\r\n*-1\r\nset k v\r\n  get   k\n", 2), 0);
	assert_int_equal(feed(DIR_REQ, "ExIsTs k\r\n", 3), 0);
	assert_int_equal(feed(DIR_RESP, "+PONG\r\n+OK\r\n$1\r\nv\r\n:1\r\n", 10), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 4);
	assert_event(0, op("PING"), REDIS_STATUS_OK, 9);
	assert_event(1, op("SET"), REDIS_STATUS_OK, 8);
	assert_event(2, op("GET"), REDIS_STATUS_OK, 8);
	assert_event(3, op("EXISTS"), REDIS_STATUS_OK, 7);
	assert_int_equal(losses(), 0);
}

/* Blocking commands say so: BLPOP always, XREAD when told BLOCK. */
static void blocking_commands(void **state)
{
	(void)state;
	REQUIRE_BPF();
	assert_int_equal(feed(DIR_REQ, "*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n"
				       "*4\r\n$5\r\nXREAD\r\n$7\r\nSTREAMS\r\n$1\r\ns\r\n$1\r\n0\r\n"
				       "*6\r\n$5\r\nxread\r\n$5\r\nblock\r\n$3\r\n100\r\n"
				       "$7\r\nSTREAMS\r\n$1\r\ns\r\n$1\r\n$\r\n"
				       "*2\r\n$3\r\nGET\r\n$5\r\nBLOCK\r\n", 1), 0);
	assert_int_equal(feed(DIR_RESP, "*2\r\n$1\r\nq\r\n$1\r\nx\r\n*-1\r\n*-1\r\n$-1\r\n", 5), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 4);
	assert_true(events[0].flags & HTTP_EVENT_BLOCKING);
	assert_false(events[1].flags & HTTP_EVENT_BLOCKING);
	assert_true(events[2].flags & HTTP_EVENT_BLOCKING);
	assert_false(events[3].flags & HTTP_EVENT_BLOCKING);
	assert_event(2, op("XREAD"), REDIS_STATUS_OK, 4);
}

/* RESP2 pub/sub: one confirmation per channel answers the command; messages answer nothing. */
static void pubsub_resp2(void **state)
{
	(void)state;
	REQUIRE_BPF();
	assert_int_equal(feed(DIR_REQ, "*3\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n"
				       "*2\r\n$10\r\nPSUBSCRIBE\r\n$2\r\nc*\r\n", 10), 0);
	assert_int_equal(feed(DIR_RESP, "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
					"*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
					"*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$5\r\nhello\r\n", 20), 0);
	assert_int_equal(feed(DIR_RESP, "*3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:3\r\n", 30), 0);
	assert_int_equal(feed(DIR_RESP, "*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\ncd\r\n$1\r\nx\r\n"
					"*3\r\n$7\r\nmessage\r\n$1\r\nb\r\n$0\r\n\r\n", 40), 0);
	assert_int_equal(feed(DIR_REQ, "*1\r\n$4\r\nPING\r\n*1\r\n$11\r\nUNSUBSCRIBE\r\n", 50), 0);
	assert_int_equal(feed(DIR_RESP, "*2\r\n$4\r\npong\r\n$0\r\n\r\n"
					"*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:2\r\n"
					"*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:1\r\n", 60), 0);
	assert_int_equal(feed(DIR_REQ, "*1\r\n$12\r\nPUNSUBSCRIBE\r\n", 70), 0);
	assert_int_equal(feed(DIR_RESP, "*3\r\n$12\r\npunsubscribe\r\n$2\r\nc*\r\n:0\r\n", 80), 0);
	/* no subscription left: an array that starts with "message" is a reply */
	assert_int_equal(feed(DIR_REQ, "*4\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$1\r\n0\r\n$2\r\n-1\r\n", 90),
			 0);
	assert_int_equal(feed(DIR_RESP, "*1\r\n$7\r\nmessage\r\n", 95), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 6);
	assert_event(0, op("SUBSCRIBE"), REDIS_STATUS_OK, 10);
	assert_event(1, op("PSUBSCRIBE"), REDIS_STATUS_OK, 20);
	assert_event(2, op("PING"), REDIS_STATUS_OK, 10);
	assert_event(3, op("UNSUBSCRIBE"), REDIS_STATUS_OK, 10);
	assert_event(4, op("PUNSUBSCRIBE"), REDIS_STATUS_OK, 10);
	assert_event(5, op("LRANGE"), REDIS_STATUS_OK, 5);
	assert_int_equal(losses(), 0);
}

/* RESP3: pushes are '>', confirmations among them, any command in between. */
static void pubsub_resp3(void **state)
{
	(void)state;
	REQUIRE_BPF();
	assert_int_equal(feed(DIR_REQ, "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n", 1), 0);
	assert_int_equal(feed(DIR_RESP, "%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n",
			      2), 0);
	assert_int_equal(feed(DIR_REQ, "*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n", 10), 0);
	assert_int_equal(feed(DIR_RESP, ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n", 15), 0);
	assert_int_equal(feed(DIR_REQ, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", 20), 0);
	/* a message and a tracking invalidation before GET's reply: neither answers it */
	assert_int_equal(feed(DIR_RESP, ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
					">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"
					"*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nb\r\n", 28), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 3);
	assert_event(0, op("HELLO"), REDIS_STATUS_OK, 1);
	assert_event(1, op("SUBSCRIBE"), REDIS_STATUS_OK, 5);
	/* in RESP3, an array is a reply whatever it starts with */
	assert_event(2, op("GET"), REDIS_STATUS_OK, 8);
	assert_int_equal(losses(), 0);
}

/* MONITOR's feed is no response; nothing is counted lost for it. */
static void monitor_feed(void **state)
{
	(void)state;
	REQUIRE_BPF();
	assert_int_equal(feed(DIR_REQ, "*1\r\n$7\r\nMONITOR\r\n", 1), 0);
	assert_int_equal(feed(DIR_RESP, "+OK\r\n", 2), 0);
	assert_int_equal(feed(DIR_RESP, "+1700000000.1 [0 127.0.0.1:1] \"GET\" \"k\"\r\n", 3), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 1);
	assert_int_equal(losses(), 0);
}

/* Every cut of a pipelined stream in two gives the same pairs. */
static void split_anywhere(void **state)
{
	static const char good_req[] = "*3\r\n$3\r\nSET\r\n$4\r\nk\r\nx\r\n$12\r\n*1\r\n$4\r\nPING\r\n\r\n"
				       "*2\r\n$7\r\nHGETALL\r\n$1\r\nh\r\n"
				       "*1\r\n$20\r\nGEORADIUSBYMEMBER_RO\r\n"
				       "echo hi\r\n";
	static const char resp[] = "+OK\r\n*2\r\n$1\r\nf\r\n$3\r\nv\r\n\r\n-ERR wrong number\r\n"
				   "$2\r\nhi\r\n";
	size_t rl = strlen(good_req), sl = strlen(resp);

	(void)state;
	REQUIRE_BPF();
	for (size_t cut = 1; cut < rl; cut++) {
		size_t rcut = 1 + cut % (sl - 1);

		reset();
		assert_int_equal(bpf_feed__run(DIR_REQ, good_req, cut, 100), 0);
		assert_int_equal(bpf_feed__run(DIR_REQ, good_req + cut, rl - cut, 200), 0);
		assert_int_equal(bpf_feed__run(DIR_RESP, resp, rcut, 300), 0);
		assert_int_equal(bpf_feed__run(DIR_RESP, resp + rcut, sl - rcut, 400), 0);
		bpf_feed__drain();
		assert_int_equal(n_events, 4);
		/* a CRLF and RESP inside a value are its bytes */
		assert_int_equal(events[0].operation, op("SET"));
		assert_int_equal(events[1].operation, op("HGETALL"));
		assert_int_equal(events[2].operation, op("GEORADIUSBYMEMBER_RO"));
		assert_int_equal(events[2].status, err("ERR"));
		assert_int_equal(events[3].operation, op("ECHO"));
		assert_int_equal(losses(), 0);
	}
}

/* A byte at a time, both ways. */
static void byte_at_a_time(void **state)
{
	static const char req[] = "*2\r\n$4\r\nLLEN\r\n$1\r\nq\r\n*1\r\n$4\r\nexec\r\nping\r\n";
	static const char resp[] = ":3\r\n*2\r\n-ERR x\r\n:1\r\n+PONG\r\n";

	(void)state;
	REQUIRE_BPF();
	for (size_t i = 0; i < strlen(req); i++)
		assert_int_equal(bpf_feed__run(DIR_REQ, req + i, 1, 10 + i), 0);
	for (size_t i = 0; i < strlen(resp); i++)
		assert_int_equal(bpf_feed__run(DIR_RESP, resp + i, 1, 100 + i), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 3);
	assert_event(0, op("LLEN"), REDIS_STATUS_OK, 100 - 10);
	assert_int_equal(events[1].operation, op("EXEC"));
	assert_int_equal(events[1].status, REDIS_STATUS_OK);
	assert_int_equal(events[2].operation, op("PING"));
	assert_int_equal(losses(), 0);
}

/* Deep pipelines (redis-benchmark -P 64): every reply pairs with its own command. */
static void deep_pipeline(void **state)
{
	static char req[64 * 1024], resp[64 * 1024];
	size_t rl = 0, sl = 0;
	int depth = 600;

	(void)state;
	REQUIRE_BPF();
	for (int i = 0; i < depth; i++) {
		rl += sprintf(req + rl, "*2\r\n$%d\r\n%s\r\n$3\r\nkey\r\n", i % 3 ? 3 : 4,
			      i % 3 ? "GET" : "INCR");
		sl += sprintf(resp + sl, i % 5 ? ":%d\r\n" : "-ERR %d\r\n", i);
	}
	assert_int_equal(bpf_feed__run(DIR_REQ, req, rl, 7), 0);
	assert_int_equal(bpf_feed__run(DIR_RESP, resp, sl, 9), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, depth);
	for (int i = 0; i < depth; i++)
		assert_event(i, i % 3 ? op("GET") : op("INCR"), i % 5 ? 0 : err("ERR"), 2);
	assert_int_equal(losses(), 0);
	/* runs of the same command and outcome are one event each */
	assert_true(n_records < depth);
}

/*
 * A pipeline's commands of the same name and outcome, read by one read and
 * answered by one write, are one event that counts them; any difference
 * (name, status, read, write, connection) is another event.
 */
static void pipelined_runs_are_one_event(void **state)
{
	static const char get[] = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
	char req[1024] = "";

	(void)state;
	REQUIRE_BPF();
	for (int i = 0; i < 16; i++)
		strcat(req, get);
	assert_int_equal(feed(DIR_REQ, req, 10), 0);
	assert_int_equal(feed(DIR_RESP, "$1\r\nv\r\n$1\r\nv\r\n$1\r\nv\r\n$1\r\nv\r\n"
					"$1\r\nv\r\n-ERR x\r\n$1\r\nv\r\n$1\r\nv\r\n", 20), 0);
	/* the rest in another write: another event */
	assert_int_equal(feed(DIR_RESP, "$1\r\nv\r\n$1\r\nv\r\n$1\r\nv\r\n$1\r\nv\r\n"
					"$1\r\nv\r\n$1\r\nv\r\n$1\r\nv\r\n$1\r\nv\r\n", 30), 0);
	/* unpipelined: one each */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(feed(DIR_REQ, get, 40 + i), 0);
		assert_int_equal(feed(DIR_RESP, "$-1\r\n", 50 + i), 0);
	}
	bpf_feed__drain();
	assert_int_equal(n_events, 19);
	assert_int_equal(n_records, 3 + 1 + 3);	/* GETx5, ERR, GETx2 | GETx8 | 3 */
	for (int i = 0; i < 16; i++)
		assert_event(i, op("GET"), i == 5 ? err("ERR") : 0, i < 8 ? 10 : 20);
	assert_int_equal(events[0].resp_bytes, 5 * 7);	/* an event's bytes are its commands' */
	assert_int_equal(losses(), 0);
}

/* A value's bytes are skipped by count, never read: a big one across reads, and unseen. */
static void big_values(void **state)
{
	static char val[300000];
	char head[64];

	(void)state;
	REQUIRE_BPF();
	memset(val, '*', sizeof(val));	/* looks like arrays everywhere */
	snprintf(head, sizeof(head), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%zu\r\n", sizeof(val));
	assert_int_equal(feed(DIR_REQ, head, 1), 0);
	assert_int_equal(bpf_feed__run(DIR_REQ, val, 100000, 2), 0);
	assert_int_equal(bpf_feed__run(DIR_REQ, val, 200000, 3), 0);
	assert_int_equal(feed(DIR_REQ, "\r\n", 4), 0);
	assert_int_equal(feed(DIR_RESP, "+OK\r\n", 10), 0);
	/* a reply sent from a file (sendfile): its body by count */
	assert_int_equal(feed(DIR_REQ, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", 20), 0);
	snprintf(head, sizeof(head), "$%zu\r\n", sizeof(val));
	assert_int_equal(feed(DIR_RESP, head, 30), 0);
	assert_int_equal(bpf_feed__run(DIR_RESP, NULL, sizeof(val), 31), 0);
	assert_int_equal(feed(DIR_RESP, "\r\n", 32), 0);
	assert_int_equal(feed(DIR_REQ, "*1\r\n$4\r\nPING\r\n", 40), 0);
	assert_int_equal(feed(DIR_RESP, "+PONG\r\n", 41), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 3);
	assert_event(0, op("SET"), 0, 9);
	assert_int_equal(events[0].req_bytes,
			 strlen("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$300000\r\n") + sizeof(val) + 2);
	assert_event(1, op("GET"), 0, 10);
	assert_int_equal(events[1].resp_bytes, strlen(head) + sizeof(val) + 2);
	assert_event(2, op("PING"), 0, 1);
	assert_int_equal(losses(), 0);
}

/*
 * Lengths no server sends or takes: the command being read costs itself,
 * the others in flight are counted; nothing is measured wrong, and the
 * connection is given up.
 */
static void hostile_lengths(void **state)
{
	static const char *const bad[] = {
		"*2\r\n$3\r\nGET\r\n$99999999999999999999\r\nk\r\n",	/* huge bulk */
		"*99999999999999\r\n$3\r\nGET\r\n",			/* huge count */
		"*2\r\n$3\r\nGET\r\n$-5\r\n",				/* negative bulk */
		"*2\r\n$3\r\nGET\r\n:5\r\n",				/* not a bulk */
		"*2\r\n$3\r\nGET\r\n$x\r\n",				/* no number */
		"*2\r\n$3\r\nGET\r\n$\r\n",				/* no digits */
		"*?\r\n",						/* streamed */
	};

	(void)state;
	REQUIRE_BPF();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		__u64 before = losses(), unparsable = loss(LOSS_UNPARSABLE_REQUEST);
		__u64 unframed = loss(LOSS_UNFRAMED);

		reset();
		/* one answered, one in flight, then the bad one */
		assert_int_equal(feed(DIR_REQ, "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n", 1), 0);
		assert_int_equal(feed(DIR_RESP, "+PONG\r\n", 2), 0);
		assert_int_equal(feed(DIR_REQ, bad[i], 3), 1);	/* given up */
		bpf_feed__drain();
		assert_int_equal(n_events, 1);
		assert_int_equal(loss(LOSS_UNFRAMED), unframed + 1);
		/* a command started costs itself; a count line that is none started none */
		assert_int_equal(loss(LOSS_UNPARSABLE_REQUEST), unparsable + (i != 1 && i != 6));
		assert_int_equal(losses(), before + 1 + (i != 1 && i != 6));
	}
}

/* A reply that is no RESP costs its command, and gives up the replies after it. */
static void bad_reply(void **state)
{
	(void)state;
	REQUIRE_BPF();
	assert_int_equal(feed(DIR_REQ, "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n",
			      1), 0);
	assert_int_equal(feed(DIR_RESP, "+PONG\r\nHTTP/1.1 200 OK\r\n", 2), 0);
	assert_int_equal(feed(DIR_REQ, "*1\r\n$4\r\nPING\r\n", 3), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 1);
	assert_int_equal(loss(LOSS_UNPARSABLE_RESPONSE), 1);
	assert_int_equal(loss(LOSS_UNFRAMED), 2);	/* the third in flight; the fourth as read */
}

/* Commands in flight when the connection ends fail with it. */
static void close_fails_commands_in_flight(void **state)
{
	(void)state;
	REQUIRE_BPF();
	assert_int_equal(feed(DIR_REQ, "*2\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n*1\r\n$4\r\nPING\r\n", 1), 0);
	assert_int_equal(bpf_feed__run(TEST_CLOSE, NULL, 0, 0), 0);
	bpf_feed__drain();
	assert_int_equal(n_events, 2);
	assert_int_equal(events[0].failure, HTTP_FAILURE_CONN_CLOSED);
	assert_int_equal(events[0].operation, op("BLPOP"));
	assert_true(events[0].flags & HTTP_EVENT_BLOCKING);
	assert_int_equal(events[1].operation, op("PING"));
}

/* ---------------------------------------------------------------------- */
/* Random streams                                                         */

static unsigned int rnd_state = 12345;

static unsigned int rnd(unsigned int n)
{
	rnd_state = rnd_state * 1103515245 + 12345;
	return (rnd_state >> 8) % n;
}

struct stream {
	char *buf;
	size_t len, cap;
};

static void put(struct stream *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->cap - s->len < 4096) {
		s->cap = s->cap * 2 + 65536;
		s->buf = realloc(s->buf, s->cap);
		assert_non_null(s->buf);
	}
	va_start(ap, fmt);
	n = vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap);
	va_end(ap);
	s->len += n;
}

/* bytes that look like RESP, CRLFs included */
static void put_junk(struct stream *s, size_t n)
{
	static const char alphabet[] = "*$+-:\r\n0123456789abc ";

	for (size_t i = 0; i < n; i++)
		put(s, "%c", alphabet[rnd(sizeof(alphabet) - 1)]);
}

static void put_bulk(struct stream *s, const char *v)
{
	put(s, "$%zu\r\n%s\r\n", strlen(v), v);
}

/* A random reply, depth levels deep at most; pushes (RESP3) before it. */
static void put_reply(struct stream *s, int depth)
{
	switch (rnd(depth ? 12 : 9)) {
	case 0: put(s, "+OK\r\n"); break;
	case 1: put(s, ":%d\r\n", (int)rnd(1000) - 500); break;
	case 2: {
		size_t n = rnd(40);

		put(s, "$%zu\r\n", n);
		put_junk(s, n);
		put(s, "\r\n");
		break;
	}
	case 3: put(s, "$-1\r\n"); break;
	case 4: put(s, "_\r\n"); break;
	case 5: put(s, ",3.14\r\n"); break;
	case 6: put(s, "#f\r\n"); break;
	case 7: put(s, "(12345678901234567890\r\n"); break;
	case 8: put(s, "=%d\r\ntxt:%s\r\n", 4 + 3, "abc"); break;
	default: {
		unsigned int n = rnd(4), kind = rnd(3);

		put(s, "%c%u\r\n", "*~%"[kind], n);
		for (unsigned int i = 0; i < (kind == 2 ? 2 * n : n); i++)
			put_reply(s, depth - 1);
	}
	}
}

struct expect {
	__u8 op;
	__u16 status;
};

/*
 * A random exchange: n commands (RESP arrays with random arguments,
 * inline ones, names known and not, in any case) and their replies
 * (any type, errors, RESP3 pushes in between).
 */
static void random_exchange(struct stream *req, struct stream *resp, struct expect *ex, int n)
{
	static const char *const names[] = { "GET", "set", "Hgetall", "ZADD", "EVALSHA",
					     "XADD", "FOO", "CLIENT", "Command", "BITFIELD_RO" };
	static const char *const errs[] = { "ERR", "WRONGTYPE", "OOM", "BUSY", "CUSTOM" };

	for (int i = 0; i < n; i++) {
		const char *name = names[rnd(10)];
		char upper_name[32];
		int args = rnd(5);

		for (size_t k = 0; k <= strlen(name); k++)
			upper_name[k] = name[k] >= 'a' && name[k] <= 'z' ? name[k] - 32 : name[k];
		ex[i].op = op(upper_name);
		if (rnd(8) == 0) {
			put(req, "%s", name);
			for (int a = 0; a < args; a++)
				put(req, " arg%d", a);
			put(req, rnd(2) ? "\r\n" : "\n");
		} else {
			put(req, "*%d\r\n", args + 1);
			put_bulk(req, name);
			for (int a = 0; a < args; a++) {
				size_t len = rnd(30);

				put(req, "$%zu\r\n", len);
				put_junk(req, len);
				put(req, "\r\n");
			}
		}
		if (rnd(9) == 0)
			put(req, "*0\r\n");	/* no command */
		while (rnd(6) == 0) {
			put(resp, ">3\r\n");
			put_bulk(resp, "message");
			put_bulk(resp, "chan");
			put_reply(resp, 2);
		}
		if (rnd(4) == 0) {
			const char *e = errs[rnd(5)];

			ex[i].status = err(e);
			if (rnd(2))
				put(resp, "-%s some words\r\n", e);
			else
				put(resp, "!%zu\r\n%s blob\r\n", strlen(e) + 5, e);
		} else {
			ex[i].status = REDIS_STATUS_OK;
			put_reply(resp, 3);
		}
	}
}

/* Fed in random pieces, both ways interleaved as a server would see them. */
static void random_streams_in_random_pieces(void **state)
{
	struct stream req = {}, resp = {};
	struct expect ex[200];

	(void)state;
	REQUIRE_BPF();
	for (int round = 0; round < 60; round++) {
		int n = 1 + rnd(150);
		size_t ro = 0, so = 0;

		req.len = resp.len = 0;
		memset(ex, 0, sizeof(ex));
		random_exchange(&req, &resp, ex, n);
		reset();
		while (ro < req.len || so < resp.len) {
			/* replies never run ahead of the commands they answer: all read first */
			if (ro < req.len) {
				size_t k = 1 + rnd(round % 3 ? 40 : 3000);

				k = k < req.len - ro ? k : req.len - ro;
				assert_int_equal(bpf_feed__run(DIR_REQ, req.buf + ro, k, 1000 + ro),
						 0);
				ro += k;
				continue;
			}
			size_t k = 1 + rnd(round % 2 ? 17 : 5000);

			k = k < resp.len - so ? k : resp.len - so;
			assert_int_equal(bpf_feed__run(DIR_RESP, resp.buf + so, k, 1000000 + so),
					 0);
			so += k;
		}
		bpf_feed__drain();
		assert_int_equal(losses(), 0);
		assert_int_equal(n_events, n);
		for (int i = 0; i < n; i++) {
			assert_int_equal(events[i].operation, ex[i].op);
			assert_int_equal(events[i].status, ex[i].status);
		}
	}
	free(req.buf);
	free(resp.buf);
}

/*
 * Garbage anywhere in a stream: whatever happens, every command started is
 * measured or counted lost once, never measured with another's reply.
 */
static void garbage_never_misframes(void **state)
{
	struct stream req = {}, resp = {};
	struct expect ex[100];

	(void)state;
	REQUIRE_BPF();
	for (int round = 0; round < 200; round++) {
		int n = 1 + rnd(40);
		__u64 before = command_losses();
		size_t cut;

		req.len = resp.len = 0;
		random_exchange(&req, &resp, ex, n);
		reset();
		/* garbage in the replies: what was read is what it is */
		cut = rnd(resp.len);
		assert_int_equal(bpf_feed__run(DIR_REQ, req.buf, req.len, 1), 0);
		assert_int_equal(bpf_feed__run(DIR_RESP, resp.buf, cut, 2), 0);
		resp.len = cut;
		put_junk(&resp, 1 + rnd(20));
		assert_int_equal(bpf_feed__run(DIR_RESP, resp.buf + cut, resp.len - cut, 3), 0);
		assert_int_equal(bpf_feed__run(TEST_CLOSE, NULL, 0, 0), 0);
		bpf_feed__drain();
		/* commands: each one event (answered or failed with the close) or one loss */
		assert_int_equal(n_events + (command_losses() - before), n);
		for (int i = 0; i < n_events && !events[i].failure; i++) {
			/* answered ones are answered in order, by their own replies */
			assert_int_equal(events[i].operation, ex[i].op);
		}
	}
	free(req.buf);
	free(resp.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(set_and_get, test_setup),
		cmocka_unit_test_setup(classified_by_first_bytes, test_setup),
		cmocka_unit_test_setup(errors_are_statuses, test_setup),
		cmocka_unit_test_setup(reply_types, test_setup),
		cmocka_unit_test_setup(multi_exec, test_setup),
		cmocka_unit_test_setup(inline_and_empty_commands, test_setup),
		cmocka_unit_test_setup(blocking_commands, test_setup),
		cmocka_unit_test_setup(pubsub_resp2, test_setup),
		cmocka_unit_test_setup(pubsub_resp3, test_setup),
		cmocka_unit_test_setup(monitor_feed, test_setup),
		cmocka_unit_test_setup(split_anywhere, test_setup),
		cmocka_unit_test_setup(byte_at_a_time, test_setup),
		cmocka_unit_test_setup(deep_pipeline, test_setup),
		cmocka_unit_test_setup(pipelined_runs_are_one_event, test_setup),
		cmocka_unit_test_setup(big_values, test_setup),
		cmocka_unit_test_setup(hostile_lengths, test_setup),
		cmocka_unit_test_setup(bad_reply, test_setup),
		cmocka_unit_test_setup(close_fails_commands_in_flight, test_setup),
		cmocka_unit_test_setup(random_streams_in_random_pieces, test_setup),
		cmocka_unit_test_setup(garbage_never_misframes, test_setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
