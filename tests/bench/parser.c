// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What the request path's own code costs, apart from the tracepoints'
 * dispatch, the socket storage lookup and the syscall registers: the
 * parser and the event of one keep-alive request as wrk sends it and nginx
 * answers it (its read, the head's write, the body's sendfile), through the
 * slotap_test_feed entry and the kernel's run-time statistics. It includes
 * the user reads of the request and of the status line, and no clock read
 * (the test entry is given its time). A development tool for changes to
 * the parser: steadier than a load test, as it runs the same code on the
 * same bytes every time.
 *
 * Usage: bench-parser [REQUESTS]   (default 200000; needs root)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "run_stats.h"
#include "http_server.h"
#include "parser_test.h"
#include "parser_test.skel.h"

#define DRAIN_EVERY	1024	/* requests: well under what the ring holds */

static const char request[] = "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:18081\r\n\r\n";
static const char response[] =
	"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 06 Dec 2026 02:00:00 GMT\r\n"
	"Content-Type: text/html\r\nContent-Length: 17\r\n"
	"Last-Modified: Sun, 06 Dec 2026 01:00:00 GMT\r\nConnection: keep-alive\r\n"
	"ETag: \"6932e1a0-11\"\r\nAccept-Ranges: bytes\r\n\r\n";

static __u64 events;

static int on_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	events += size / sizeof(struct http_event);
	return 0;
}

/* One run of the test entry: dir, buffer, length, clock. */
static int feed(int fd, __u64 dir, const void *buf, __u64 len, __u64 now)
{
	__u64 args[4] = { dir, (__u64)(unsigned long)buf, len, now };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));

	if (bpf_prog_test_run_opts(fd, &opts))
		return -errno;
	return opts.retval ? -EPROTO : 0;
}

/* Staged events into the ring on every CPU, then the ring drained. */
static int drain(int flush_fd, struct ring_buffer *rb, int ncpus)
{
	__u64 args[1] = {};

	for (int cpu = 0; cpu < ncpus; cpu++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args),
			    .cpu = cpu, .flags = BPF_F_TEST_RUN_ON_CPU);

		if (bpf_prog_test_run_opts(flush_fd, &opts) && errno != ENXIO)
			return -errno;
	}
	return ring_buffer__consume(rb) < 0 ? -EIO : 0;
}

int main(int argc, char **argv)
{
	long requests = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
	__u64 t_req = 0, t_resp = 0, t_body = 0, t;
	struct parser_test_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	int stats_fd, fd, flush_fd, ncpus, err = 0;

	if (requests <= 0) {
		fprintf(stderr, "usage: %s [REQUESTS]\n", argv[0]);
		return 2;
	}
	stats_fd = run_stats_enable("bench-parser");
	if (stats_fd < 0)
		return 1;
	skel = parser_test_bpf__open();
	if (!skel) {
		err = -errno;
		goto out;
	}
	err = parser_test_bpf__load(skel);
	if (err)
		goto out;
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_record, NULL, NULL);
	if (!rb) {
		err = -errno;
		goto out;
	}
	fd = bpf_program__fd(skel->progs.slotap_test_feed);
	flush_fd = bpf_program__fd(skel->progs.slotap_flush_events);
	ncpus = libbpf_num_possible_cpus();

	err = feed(fd, TEST_RESET, NULL, 0, 0);
	for (long i = 0; i < requests && !err; i++) {
		__u64 now = 1000000 + i * 1000;

		t = run_time_ns(fd);
		err = feed(fd, 0, request, sizeof(request) - 1, now);
		t_req += run_time_ns(fd) - t;
		t = run_time_ns(fd);
		err = err ?: feed(fd, 1, response, sizeof(response) - 1, now + 500);
		t_resp += run_time_ns(fd) - t;
		t = run_time_ns(fd);
		err = err ?: feed(fd, 1, NULL, 17, now + 600);	/* sendfile */
		t_body += run_time_ns(fd) - t;
		if (!err && (i + 1) % DRAIN_EVERY == 0)
			err = drain(flush_fd, rb, ncpus);
	}
	err = err ?: drain(flush_fd, rb, ncpus);
	if (err)
		goto out;
	if (events != (__u64)requests) {
		fprintf(stderr, "bench-parser: %llu events for %ld requests\n",
			(unsigned long long)events, requests);
		err = -EPROTO;
		goto out;
	}
	printf("%ld requests; each figure includes a run's statistics (bench-helpers: empty_run):\n", requests);
	printf("  request  (read, %3zu bytes)   %6.1f ns\n", sizeof(request) - 1,
	       (double)t_req / requests);
	printf("  response (write, %3zu bytes)  %6.1f ns\n", sizeof(response) - 1,
	       (double)t_resp / requests);
	printf("  body     (sendfile, 17 bytes) %6.1f ns\n", (double)t_body / requests);
	printf("  a request in all             %6.1f ns\n",
	       (double)(t_req + t_resp + t_body) / requests);
out:
	if (err)
		fprintf(stderr, "bench-parser: %s\n", strerror(-err));
	ring_buffer__free(rb);
	parser_test_bpf__destroy(skel);
	close(stats_fd);
	return err ? 1 : 0;
}
