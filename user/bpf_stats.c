// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Per-program run statistics and per-map fill, read with BPF_OBJ_GET_INFO_BY_FD. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_stats.h"
#include "metric_names.h"
#include "prom.h"

/* Entries read per batch when counting a map's: a few syscalls for the largest. */
#define COUNT_BATCH	1024

int bpf_stats__enable(void)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	return fd < 0 ? -errno : fd;
}

bool bpf_stats__sysctl_enabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "re");
	int on = 0;

	if (!f)
		return false;
	if (fscanf(f, "%d", &on) != 1)
		on = 0;
	fclose(f);
	return on;
}

/*
 * Entries of a hash map now, by batches of keys and values; -errno when the
 * kernel cannot say (then the map's line is left out).
 */
static long map_entries(const struct bpf_map *map)
{
	__u32 key_size = bpf_map__key_size(map), value_size = bpf_map__value_size(map);
	int fd = bpf_map__fd(map);
	void *keys, *values;
	__u64 in = 0, out = 0;
	bool first = true;
	long n = 0;
	int err;

	if (bpf_map__type(map) == BPF_MAP_TYPE_PERCPU_HASH ||
	    bpf_map__type(map) == BPF_MAP_TYPE_LRU_PERCPU_HASH)
		value_size = ((value_size + 7) & ~7u) * libbpf_num_possible_cpus();
	keys = malloc((size_t)COUNT_BATCH * key_size);
	values = malloc((size_t)COUNT_BATCH * value_size);
	if (!keys || !values) {
		n = -ENOMEM;
		goto out;
	}
	for (;;) {
		__u32 count = COUNT_BATCH;

		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, values, &count,
					   NULL);
		err = err < 0 ? -errno : 0;
		n += count;
		if (err == -ENOENT)
			break;		/* the last batch */
		if (err) {
			n = err;
			break;
		}
		in = out;
		first = false;
	}
out:
	free(keys);
	free(values);
	return n;
}

static bool is_hash(enum bpf_map_type type)
{
	return type == BPF_MAP_TYPE_HASH || type == BPF_MAP_TYPE_LRU_HASH ||
	       type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

int bpf_stats__write_prometheus(const struct bpf_object *obj, bool counting, FILE *out)
{
	struct bpf_program *prog;
	struct bpf_map *map;

	prom__header(out, METRIC_BPF_STATS_ENABLED, "gauge",
		     "1 while the kernel counts BPF run time (--bpf-stats, or "
		     "kernel.bpf_stats_enabled): the run counters below grow only then.");
	fprintf(out, METRIC_BPF_STATS_ENABLED " %d\n", counting);
	prom__header(out, METRIC_BPF_RUNS, "counter", "Runs of each of slotap's BPF programs.");
	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;	/* not loaded (autoload off) */
		fprintf(out, METRIC_BPF_RUNS "{program=\"%s\"} %llu\n", bpf_program__name(prog),
			(unsigned long long)info.run_cnt);
	}
	prom__header(out, METRIC_BPF_RUN_SECONDS, "counter",
		     "Time spent in each of slotap's BPF programs.");
	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		fprintf(out, METRIC_BPF_RUN_SECONDS "{program=\"%s\"} ", bpf_program__name(prog));
		prom__seconds(out, info.run_time_ns);
		fputc('\n', out);
	}
	prom__header(out, METRIC_BPF_MAP_CAPACITY, "gauge",
		     "Entries each of slotap's BPF maps can hold (ring buffer: bytes).");
	bpf_object__for_each_map(map, obj) {
		/* global data is one entry; socket storage has no capacity */
		if (bpf_map__fd(map) < 0 || bpf_map__is_internal(map) || !bpf_map__max_entries(map))
			continue;
		fprintf(out, METRIC_BPF_MAP_CAPACITY "{map=\"%s\"} %u\n", bpf_map__name(map),
			bpf_map__max_entries(map));
	}
	prom__header(out, METRIC_BPF_MAP_ENTRIES, "gauge",
		     "Entries in each of slotap's BPF hash maps now: at its capacity, new "
		     "entries fail (and are counted as lost) or, for LRU maps, evict old ones.");
	bpf_object__for_each_map(map, obj) {
		long n;

		if (bpf_map__fd(map) < 0 || !is_hash(bpf_map__type(map)))
			continue;
		n = map_entries(map);
		if (n >= 0)
			fprintf(out, METRIC_BPF_MAP_ENTRIES "{map=\"%s\"} %ld\n",
				bpf_map__name(map), n);
	}
	return ferror(out) ? -EIO : 0;
}
