/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the kernel side costs the node, as self-metrics: each program's
 * runs and run time (the kernel's run-time statistics), each map's fill.
 * The statistics cost every run of every BPF program of the node (two
 * clock reads, ~20-40 ns), so the agent turns them on only when asked.
 */
#ifndef SLOTAP_BPF_STATS_H
#define SLOTAP_BPF_STATS_H

#include <stdbool.h>
#include <stdio.h>

struct bpf_object;

/*
 * Turns the kernel's run-time statistics on for as long as the returned fd
 * stays open (BPF_ENABLE_STATS): a negative errno when the kernel refuses.
 */
int bpf_stats__enable(void);
/* Whether kernel.bpf_stats_enabled has the kernel count run time for everyone. */
bool bpf_stats__sysctl_enabled(void);
/*
 * Writes the families for obj's loaded programs and maps: runs and run
 * time per program (counting: whether the kernel counts them now),
 * entries and capacity per map. 0 or -EIO.
 */
int bpf_stats__write_prometheus(const struct bpf_object *obj, bool counting, FILE *out);

#endif /* SLOTAP_BPF_STATS_H */
