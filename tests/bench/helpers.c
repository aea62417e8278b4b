// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Prints what each BPF building block of the request path costs here (see
 * helpers.bpf.c): the kernel's run-time statistics over RUNS test runs of
 * each program, per operation. empty_run is the cost of a run itself,
 * statistics included (BPF_ENABLE_STATS adds two clock reads a run).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "run_stats.h"
#include "helpers.skel.h"

#define RUNS	2000
#define OPS	100	/* as helpers.bpf.c */

int main(void)
{
	static char ubuf[4096] = "HTTP/1.1 200 OK\r\nServer: nginx\r\n";
	struct helpers_bpf *skel;
	struct bpf_program *prog;
	int stats_fd, err = 1;

	stats_fd = run_stats_enable("bench-helpers");
	if (stats_fd < 0)
		return 1;
	skel = helpers_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "bench-helpers: cannot load helpers.bpf.o: %s\n", strerror(errno));
		goto out;
	}
	bpf_object__for_each_program(prog, skel->obj) {
		__u64 args[1] = { (__u64)(unsigned long)ubuf };
		int fd = bpf_program__fd(prog);
		bool whole_run = !strcmp(bpf_program__name(prog), "empty_run");
		__u64 start = run_time_ns(fd);

		for (int i = 0; i < RUNS; i++) {
			LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = args,
				    .ctx_size_in = sizeof(args));

			if (bpf_prog_test_run_opts(fd, &run)) {
				fprintf(stderr, "bench-helpers: %s: %s\n", bpf_program__name(prog),
					strerror(errno));
				goto out;
			}
		}
		printf("  %-24s %6.1f ns %s\n", bpf_program__name(prog),
		       (double)(run_time_ns(fd) - start) / RUNS / (whole_run ? 1 : OPS),
		       whole_run ? "a run (statistics included)" : "an operation");
	}
	err = 0;
out:
	helpers_bpf__destroy(skel);
	close(stats_fd);
	return err;
}
