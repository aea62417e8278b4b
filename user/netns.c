// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "netns.h"

/* One namespace: its inode (identity) and an fd that keeps it open. */
struct netns {
	ino_t ino;
	int fd;
	bool seen;	/* in the last refresh */
};

struct netns_set {
	int self_fd;
	ino_t self_ino;
	struct netns *ns;
	size_t n, cap;
};

struct netns_set *netns_set__new(void)
{
	struct netns_set *set = calloc(1, sizeof(*set));
	struct stat st;

	if (!set)
		return NULL;
	set->self_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (set->self_fd < 0 || fstat(set->self_fd, &st)) {
		int err = errno;

		if (set->self_fd >= 0)
			close(set->self_fd);
		free(set);
		errno = err;
		return NULL;
	}
	set->self_ino = st.st_ino;
	return set;
}

void netns_set__free(struct netns_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		close(set->ns[i].fd);
	close(set->self_fd);
	free(set->ns);
	free(set);
}

size_t netns_set__size(const struct netns_set *set)
{
	return set->n;
}

static struct netns *find(struct netns_set *set, ino_t ino)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->ns[i].ino == ino)
			return &set->ns[i];
	return NULL;
}

/* Hold tgid's namespace if it is another one: 0, or -errno (not for a process gone). */
static int hold(struct netns_set *set, __u32 tgid)
{
	char path[64];
	struct stat st;
	struct netns *ns;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/ns/net", tgid);
	/* open, then ask what it is: a pid reused in between cannot mix two up */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? 0 : -errno;	/* gone: nothing to hold */
	if (fstat(fd, &st) || st.st_ino == set->self_ino) {
		close(fd);
		return 0;
	}
	ns = find(set, st.st_ino);
	if (ns) {
		close(fd);
		ns->seen = true;
		return 0;
	}
	if (set->n == set->cap) {
		size_t cap = set->cap ? 2 * set->cap : 8;
		struct netns *grown = realloc(set->ns, cap * sizeof(*grown));

		if (!grown) {
			close(fd);
			return -ENOMEM;
		}
		set->ns = grown;
		set->cap = cap;
	}
	set->ns[set->n++] = (struct netns){ .ino = st.st_ino, .fd = fd, .seen = true };
	return 0;
}

int netns_set__refresh(struct netns_set *set, const __u32 *tgids, size_t n)
{
	size_t kept = 0;
	int err = 0;

	/* with /proc hidden (or not procfs) every process would look gone */
	if (n && access("/proc/self/ns/net", F_OK))
		return -errno;
	for (size_t i = 0; i < set->n; i++)
		set->ns[i].seen = false;
	for (size_t i = 0; i < n; i++) {
		int e = hold(set, tgids[i]);

		if (e && !err)
			err = e;	/* the others are still held */
	}
	/* a namespace no serving process is in any more: let it go (an fd pins it) */
	for (size_t i = 0; i < set->n; i++) {
		if (set->ns[i].seen || err)
			set->ns[kept++] = set->ns[i];
		else
			close(set->ns[i].fd);
	}
	set->n = kept;
	return err;
}

int netns_set__for_each(struct netns_set *set, int (*fn)(void *ctx), void *ctx)
{
	int err = fn(ctx);

	/* one namespace failing does not stop the others: the first error is said */
	for (size_t i = 0; i < set->n; i++) {
		int e;

		if (setns(set->ns[i].fd, CLONE_NEWNET)) {
			err = err ?: -errno;
			continue;
		}
		e = fn(ctx);
		err = err ?: e;
		/* back home whatever fn said: this thread's sockets are made here */
		if (setns(set->self_fd, CLONE_NEWNET)) {
			/* cannot happen (our own fd); going on elsewhere would be worse */
			fprintf(stderr, "slotap: error: cannot return to the agent's network "
				"namespace: %m\n");
			abort();
		}
	}
	return err;
}
