/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The benchmark tools' clock: the kernel's run-time statistics of a
 * program (BPF_ENABLE_STATS adds two clock reads to each of its runs).
 */
#ifndef SLOTAP_BENCH_RUN_STATS_H
#define SLOTAP_BENCH_RUN_STATS_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>

/* Turns the statistics on while the fd is open: the fd, or -1, said on stderr. */
static inline int run_stats_enable(const char *tool)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	if (fd < 0)
		fprintf(stderr, "%s: cannot enable BPF run-time stats: %s\n", tool,
			strerror(errno));
	return fd;
}

/* The time the program of fd has run, all its runs; 0 if it cannot be read. */
static inline __u64 run_time_ns(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.run_time_ns;
}

#endif
