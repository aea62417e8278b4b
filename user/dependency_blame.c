// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>

#include "dependency_blame.h"

struct failed_call {
	__u64 end_ns;
	int dep;
};

struct process_calls {
	__u32 tgid;		/* 0: empty slot */
	__u32 next;		/* ring cursor */
	struct failed_call calls[BLAME_CALLS];
};

struct dependency_blame {
	struct process_calls procs[BLAME_PROCESSES];
};

static __u32 slot_of(__u32 tgid)
{
	return (tgid * 2654435761u) & (BLAME_PROCESSES - 1);
}

struct dependency_blame *dependency_blame__new(void)
{
	return calloc(1, sizeof(struct dependency_blame));
}

void dependency_blame__free(struct dependency_blame *b)
{
	free(b);
}

void dependency_blame__note_failure(struct dependency_blame *b, __u32 tgid, int dep,
				    __u64 end_ns)
{
	struct process_calls *p = &b->procs[slot_of(tgid)];

	if (p->tgid != tgid) {
		/* another process had the slot: its calls are not ours */
		*p = (struct process_calls){ .tgid = tgid };
	}
	p->calls[p->next] = (struct failed_call){ .end_ns = end_ns, .dep = dep };
	p->next = (p->next + 1) % BLAME_CALLS;
}

int dependency_blame__find(const struct dependency_blame *b, __u32 tgid, __u64 start_ns,
			   __u64 end_ns)
{
	const struct process_calls *p = &b->procs[slot_of(tgid)];
	__u64 latest = 0;
	int dep = -1;

	if (!tgid || p->tgid != tgid)
		return -1;
	for (int i = 0; i < BLAME_CALLS; i++) {
		const struct failed_call *c = &p->calls[i];

		if (c->end_ns && c->end_ns >= start_ns && c->end_ns <= end_ns &&
		    c->end_ns >= latest) {
			latest = c->end_ns;
			dep = c->dep;
		}
	}
	return dep;
}
