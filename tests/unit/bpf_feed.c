// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <sched.h>
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
#include "bpf_feed.h"
#include "parser_test.h"
#include "parser_test.skel.h"

static struct parser_test_bpf *skel;
static struct ring_buffer *rb;

int bpf_feed__open(const char *test, const char *ring_map, ring_buffer_sample_fn on_sample)
{
	struct bpf_map *map;
	cpu_set_t one;

	if (geteuid() != 0) {
		if (getenv("CI"))
			fail_msg("%s needs root (BPF), and CI must run it", test);
		return 0;
	}
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	if (sched_setaffinity(0, sizeof(one), &one)) {
		fprintf(stderr, "%s: cannot pin to one CPU: %s\n", test, strerror(errno));
		return -1;
	}
	skel = parser_test_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "%s: cannot load tests/bpf/parser_test.bpf.c: %s\n", test,
			strerror(errno));
		return -1;
	}
	map = bpf_object__find_map_by_name(skel->obj, ring_map);
	rb = map ? ring_buffer__new(bpf_map__fd(map), on_sample, NULL, NULL) : NULL;
	if (!rb) {
		fprintf(stderr, "%s: no ring buffer on map %s\n", test, ring_map);
		bpf_feed__close();
		return -1;
	}
	return 0;
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

int bpf_feed__run(__u64 dir, const void *buf, size_t len, __u64 now)
{
	__u64 args[4] = { dir, (__u64)(unsigned long)buf, len, now };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));

	assert_non_null(skel);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.slotap_test_feed),
						&opts), 0);
	return (int)opts.retval;
}

void bpf_feed__consume(void)
{
	assert_non_null(rb);
	assert_true(ring_buffer__consume(rb) >= 0);
}

void bpf_feed__drain(void)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 args[1] = {};

	assert_non_null(skel);
	/* ENXIO: a possible CPU that is not online, where nothing was staged */
	for (int cpu = 0; cpu < ncpus; cpu++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args),
			    .cpu = cpu, .flags = BPF_F_TEST_RUN_ON_CPU);

		assert_true(!bpf_prog_test_run_opts(bpf_program__fd(skel->progs.slotap_flush_events),
						    &opts) || errno == ENXIO);
	}
	bpf_feed__consume();
}

__u64 bpf_feed__loss(enum http_loss_reason reason)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 values[ncpus], sum = 0;
	__u32 key = reason;

	assert_non_null(skel);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.loss_counters), &key, values),
			 0);
	for (int i = 0; i < ncpus; i++)
		sum += values[i];
	return sum;
}
