// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What the BPF building blocks of the request path cost on this kernel
 * and machine: each program does one operation OPS times; run through
 * BPF_PROG_TEST_RUN with run-time statistics on (tests/bench/helpers.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define OPS	100

__u64 sink;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[4096]);
} scratch SEC(".maps");

__noinline int global_function(__u64 x)
{
	sink += x;
	return 0;
}

static long loop_step(__u64 i, void *ctx)
{
	sink += i;
	return 0;
}

static __always_inline char *scratch_buf(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch, &zero);
}

SEC("raw_tp")
int BPF_PROG(empty_run, __u64 ubuf)
{
	return 0;
}

SEC("raw_tp")
int BPF_PROG(probe_read_user_16, __u64 ubuf)
{
	char *b = scratch_buf();

	for (int i = 0; b && i < OPS; i++)
		bpf_probe_read_user(b, 16, (void *)ubuf);
	return 0;
}

SEC("raw_tp")
int BPF_PROG(probe_read_user_64, __u64 ubuf)
{
	char *b = scratch_buf();

	for (int i = 0; b && i < OPS; i++)
		bpf_probe_read_user(b, 64, (void *)ubuf);
	return 0;
}

SEC("raw_tp")
int BPF_PROG(probe_read_kernel_64, __u64 ubuf)
{
	char *b = scratch_buf();

	for (int i = 0; b && i < OPS; i++)
		bpf_probe_read_kernel(b + 128, 64, b);
	return 0;
}

SEC("raw_tp")
int BPF_PROG(ktime_get_ns, __u64 ubuf)
{
	for (int i = 0; i < OPS; i++)
		sink += bpf_ktime_get_ns();
	return 0;
}

SEC("raw_tp")
int BPF_PROG(percpu_array_lookup, __u64 ubuf)
{
	for (int i = 0; i < OPS; i++) {
		char *b = scratch_buf();

		if (b)
			sink += b[0];
	}
	return 0;
}

SEC("raw_tp")
int BPF_PROG(ringbuf_reserve_discard, __u64 ubuf)
{
	for (int i = 0; i < OPS; i++) {
		__u64 *e = bpf_ringbuf_reserve(&ring, 168, 0);

		if (e) {
			*e = i;
			bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		}
	}
	return 0;
}

SEC("raw_tp")
int BPF_PROG(task_pt_regs, __u64 ubuf)
{
	for (int i = 0; i < OPS; i++)
		if (bpf_task_pt_regs(bpf_get_current_task_btf()))
			sink++;
	return 0;
}

SEC("raw_tp")
int BPF_PROG(bpf_loop_step, __u64 ubuf)
{
	bpf_loop(OPS, loop_step, NULL, 0);
	return 0;
}

SEC("raw_tp")
int BPF_PROG(global_function_call, __u64 ubuf)
{
	for (int i = 0; i < OPS; i++)
		global_function(i);
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u16);
} ids SEC(".maps");

/* What a connection's process identity cost when it was its comm. */
SEC("raw_tp")
int BPF_PROG(current_comm, __u64 ubuf)
{
	char *b = scratch_buf();

	for (int i = 0; b && i < OPS; i++)
		bpf_get_current_comm(b, 16);
	return 0;
}

/* What it costs now (proc_ident_read(), bpf/conn.bpf.h): the executable's inode and name. */
SEC("raw_tp")
int BPF_PROG(exe_identity, __u64 ubuf)
{
	char *b = scratch_buf();

	for (int i = 0; b && i < OPS; i++) {
		struct task_struct *task = bpf_get_current_task_btf();
		struct mm_struct *mm = task->mm;
		struct file *exe;

		if (!mm)
			continue;
		exe = mm->exe_file;
		if (!exe)
			continue;
		if (exe->f_inode)
			sink++;
		bpf_probe_read_kernel_str(b, 16, exe->f_path.dentry->d_name.name);
	}
	return 0;
}

/* A cgroup match that finds nothing (service_of_cgroup()): its cgroup and 8 ancestors. */
SEC("raw_tp")
int BPF_PROG(cgroup_match_miss, __u64 ubuf)
{
	for (int i = 0; i < OPS; i++) {
		__u64 id = bpf_get_current_cgroup_id();

		if (bpf_map_lookup_elem(&ids, &id))
			continue;
		for (int level = 8; level >= 1; level--) {
			id = bpf_get_current_ancestor_cgroup_id(level);
			if (id && bpf_map_lookup_elem(&ids, &id))
				break;
		}
	}
	return 0;
}
