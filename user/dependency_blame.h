/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which bad requests of a service coincided with failing calls to one of
 * its dependencies: the error budget policy's "depleted because of a
 * dependency" condition, measured. A failing call (connect failure, call
 * failure, or a 5xx) is remembered per
 * process for a short while; a bad request of the same process whose
 * lifetime covers the end of such a call is blamed on that dependency.
 *
 * Bounded memory: a fixed table of processes, each with its last few
 * failing calls; a collision forgets the older process's calls, which can
 * only lose a blame, never count one wrongly.
 */
#ifndef SLOTAP_DEPENDENCY_BLAME_H
#define SLOTAP_DEPENDENCY_BLAME_H

#include <linux/types.h>

#define BLAME_PROCESSES		1024	/* power of two */
#define BLAME_CALLS		8	/* failing calls remembered per process */

struct dependency_blame;

struct dependency_blame *dependency_blame__new(void);
void dependency_blame__free(struct dependency_blame *b);
/* Process tgid's call to dependency dep (>= 0) failed at end_ns (monotonic). */
void dependency_blame__note_failure(struct dependency_blame *b, __u32 tgid, int dep,
				    __u64 end_ns);
/*
 * The dependency whose failing call by tgid ended within [start_ns, end_ns]
 * (the latest such call), or -1.
 */
int dependency_blame__find(const struct dependency_blame *b, __u32 tgid, __u64 start_ns,
			   __u64 end_ns);

#endif
