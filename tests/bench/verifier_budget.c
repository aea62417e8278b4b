// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * How much of the verifier's budget each of slotap's programs takes on this
 * kernel: instructions processed (the limit is 1,000,000 per program, its
 * global functions included), states, and verification time, from the
 * verifier's own statistics (log level 4).
 *
 * The same program can take very different walks on kernels whose verifiers
 * prune differently: slotap_sock_recv took 370k instructions on one 6.18
 * build and more than the limit on another. A margin is the only defence,
 * so this fails (exit 1) when a program is past BUDGET percent of the limit.
 * Programs the kernel refuses before verifying them (the agent probes for
 * those and loads an alternative) are reported and left out.
 *
 * Usage: verifier-budget [BUDGET_PERCENT]   (default 50; needs root)
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "slotap.skel.h"

#define VERIFIER_INSN_LIMIT	1000000
#define LOG_SIZE		(64 * 1024)
#define PROGS_MAX		32

struct prog_log {
	struct bpf_program *prog;
	bool refused;
	char buf[LOG_SIZE];
};

/* A number after key in a statistics log ("processed 1234 insns"); -1 if none. */
static long stat_after(const char *log, const char *key)
{
	const char *at = strstr(log, key);

	return at ? strtol(at + strlen(key), NULL, 10) : -1;
}

/* Open and load every program, the test-only ones too: they share the parser. */
static int load(struct slotap_bpf **skel, struct prog_log *logs, int *n)
{
	struct bpf_program *prog;

	*skel = slotap_bpf__open();
	if (!*skel)
		return -errno;
	*n = 0;
	bpf_object__for_each_program(prog, (*skel)->obj) {
		if (*n == PROGS_MAX)
			return -E2BIG;
		logs[*n].prog = prog;
		logs[*n].buf[0] = '\0';
		bpf_program__set_autoload(prog, !logs[*n].refused);
		bpf_program__set_log_level(prog, 4);
		bpf_program__set_log_buf(prog, logs[*n].buf, LOG_SIZE);
		(*n)++;
	}
	return slotap_bpf__load(*skel);
}

int main(int argc, char **argv)
{
	static struct prog_log logs[PROGS_MAX];
	long budget = argc > 1 ? strtol(argv[1], NULL, 10) : 50;
	struct slotap_bpf *skel = NULL;
	int n, over = 0, err;

	if (budget <= 0 || budget > 100) {
		fprintf(stderr, "usage: %s [BUDGET_PERCENT 1-100]\n", argv[0]);
		return 2;
	}
	/* libbpf would report the first try's refusals as errors: the table says it */
	libbpf_set_print(NULL);
	err = load(&skel, logs, &n);
	if (err == -EPERM) {
		/* a program refused outright shows a log with nothing processed */
		bool retry = false;

		for (int i = 0; i < n; i++) {
			if (stat_after(logs[i].buf, "processed ") == 0) {
				logs[i].refused = true;
				retry = true;
			}
		}
		if (retry) {
			slotap_bpf__destroy(skel);
			err = load(&skel, logs, &n);
		}
	}

	printf("%-28s %10s %8s %10s %10s\n", "program", "insns", "of limit", "states", "time ms");
	for (int i = 0; i < n; i++) {
		const char *name = bpf_program__name(logs[i].prog);
		long insns = stat_after(logs[i].buf, "processed ");
		long states = stat_after(logs[i].buf, "total_states ");
		long usec = stat_after(logs[i].buf, "verification time ");

		if (logs[i].refused) {
			printf("%-28s refused by this kernel before verification\n", name);
			continue;
		}
		if (insns < 0)
			continue;	/* not reached: the load stopped at an earlier one */
		printf("%-28s %10ld %7.1f%% %10ld %10.1f\n", name, insns,
		       100.0 * insns / VERIFIER_INSN_LIMIT, states, usec / 1000.0);
		if (insns * 100 > budget * VERIFIER_INSN_LIMIT)
			over++;
	}
	if (err)
		printf("load failed: %s\n", strerror(-err));
	if (over)
		printf("%d program(s) past %ld%% of the verifier's limit\n", over, budget);
	slotap_bpf__destroy(skel);
	return err || over ? 1 : 0;
}
