/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Layer 2, loss and stat counters: per CPU, summed by the agent at scrape
 * time (slotap_events_lost_total{reason}). Uses maps.
 */
#ifndef SLOTAP_COUNTERS_BPF_H
#define SLOTAP_COUNTERS_BPF_H

static __always_inline void count_loss_n(__u32 reason, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&loss_counters, &reason);

	if (v)
		*v += n;	/* per-CPU slot: no atomics needed */
}

static __always_inline void count_loss(__u32 reason)
{
	count_loss_n(reason, 1);
}

static __always_inline void count_stat_n(__u32 stat, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&stat_counters, &stat);

	if (v)
		*v += n;
}

static __always_inline void count_stat(__u32 stat)
{
	count_stat_n(stat, 1);
}

#endif /* SLOTAP_COUNTERS_BPF_H */
