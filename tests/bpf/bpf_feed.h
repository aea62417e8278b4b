/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel's parsers driven without traffic, for the tests that do so
 * (tests/unit/test_{http,http2,redis}_parser.c, tests/fuzz/fuzz_http_parser.c
 * and fuzz_http2.c): parser_test.bpf.c loaded once per test binary, bytes
 * fed through its slotap_test_feed by BPF_PROG_TEST_RUN with a clock the
 * test chooses, and what the kernel staged drained as the agent drains it.
 * A test binary has one such load, so the module keeps it.
 *
 * A call that fails calls the fail function given to bpf_feed__open() with
 * a one-line message: cmocka's fail_msg() or fuzz__fail_msg(), neither of
 * which returns (should one return, the process aborts).
 */
#ifndef SLOTAP_TESTS_BPF_FEED_H
#define SLOTAP_TESTS_BPF_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <bpf/libbpf.h>
#include "http_server.h"

struct parser_test_bpf;

typedef void (*bpf_feed_fail_fn)(const char *msg);

/*
 * Loads the programs, pins this process to the CPU it runs on (events are
 * staged per CPU: fed from one, they come out in the order they were fed)
 * and opens a ring buffer on the map ring_map that calls on_sample. false
 * when not root, with nothing loaded: the caller skips, or fails under CI.
 */
bool bpf_feed__open(const char *ring_map, ring_buffer_sample_fn on_sample, bpf_feed_fail_fn fail);

/* Frees what bpf_feed__open() made; safe when it made nothing. */
void bpf_feed__close(void);

/* The loaded programs and maps, NULL when not loaded. */
struct parser_test_bpf *bpf_feed__skel(void);

/* libbpf's own messages off: a fuzzer's millions of runs would drown in them. */
void bpf_feed__silence(void);

/*
 * One slotap_test_feed run: dir (a direction or a TEST_* command of
 * parser_test.h), len bytes at buf, at time now (0 means the real clock,
 * so tests start theirs at 1). Returns the program's return value.
 */
int bpf_feed__run(__u64 dir, const void *buf, size_t len, __u64 now);

/* What the ring buffer holds, to on_sample. */
void bpf_feed__consume(void);

/* What every CPU staged, then the ring buffer: as the agent drains. */
void bpf_feed__drain(void);

/* A loss counter, summed over the CPUs, since the load. */
__u64 bpf_feed__loss(enum http_loss_reason reason);

/* For the cmocka tests: without root, each test reports itself skipped. */
#define REQUIRE_BPF()				\
	do {					\
		if (!bpf_feed__skel())		\
			skip();			\
	} while (0)

#endif /* SLOTAP_TESTS_BPF_FEED_H */
