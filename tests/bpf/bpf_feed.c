// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf_feed.h"
#include "parser_test.h"
#include "parser_test.skel.h"

static struct parser_test_bpf *skel;
static struct ring_buffer *rb;
static bpf_feed_fail_fn fail_fn;

static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (fail_fn)
		fail_fn(msg);
	fprintf(stderr, "%s\n", msg);
	abort();
}

bool bpf_feed__open(const char *ring_map, ring_buffer_sample_fn on_sample, bpf_feed_fail_fn fn)
{
	struct bpf_map *map;
	cpu_set_t one;

	fail_fn = fn;
	if (geteuid() != 0)
		return false;
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		fail("cannot pin to one CPU: %s", strerror(errno));
	skel = parser_test_bpf__open_and_load();
	if (!skel)
		fail("cannot load tests/bpf/parser_test.bpf.c: %s", strerror(errno));
	map = bpf_object__find_map_by_name(skel->obj, ring_map);
	rb = map ? ring_buffer__new(bpf_map__fd(map), on_sample, NULL, NULL) : NULL;
	if (!rb)
		fail("no ring buffer on map %s", ring_map);
	return true;
}

void bpf_feed__close(void)
{
	ring_buffer__free(rb);
	parser_test_bpf__destroy(skel);
	rb = NULL;
	skel = NULL;
}

struct parser_test_bpf *bpf_feed__skel(void)
{
	return skel;
}

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

void bpf_feed__silence(void)
{
	libbpf_set_print(silent);
}

int bpf_feed__run(__u64 dir, const void *buf, size_t len, __u64 now)
{
	__u64 args[4] = { dir, (__u64)(unsigned long)buf, len, now };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));

	if (!skel)
		fail("bpf_feed__run: nothing loaded");
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.slotap_test_feed), &opts))
		fail("test run: %s", strerror(errno));
	return (int)opts.retval;
}

void bpf_feed__consume(void)
{
	if (!rb || ring_buffer__consume(rb) < 0)
		fail("ring_buffer__consume: %s", rb ? strerror(errno) : "nothing loaded");
}

void bpf_feed__drain(void)
{
	int ncpus = libbpf_num_possible_cpus(), flush_fd;
	__u64 args[1] = {};

	if (!skel)
		fail("bpf_feed__drain: nothing loaded");
	flush_fd = bpf_program__fd(skel->progs.slotap_flush_events);
	/* ENXIO: a possible CPU that is not online, where nothing was staged */
	for (int cpu = 0; cpu < ncpus; cpu++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args),
			    .cpu = cpu, .flags = BPF_F_TEST_RUN_ON_CPU);

		if (bpf_prog_test_run_opts(flush_fd, &opts) && errno != ENXIO)
			fail("flush on CPU %d: %s", cpu, strerror(errno));
	}
	bpf_feed__consume();
}

__u64 bpf_feed__loss(enum http_loss_reason reason)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 values[ncpus], sum = 0;
	__u32 key = reason;

	if (!skel)
		fail("bpf_feed__loss: nothing loaded");
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.loss_counters), &key, values))
		fail("loss_counters[%u]: %s", key, strerror(errno));
	for (int i = 0; i < ncpus; i++)
		sum += values[i];
	return sum;
}
