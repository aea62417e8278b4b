// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The set of network namespaces the socket sweeps enter: which it holds,
 * when it lets one go, and that a thread sent into one comes back. The
 * tests with a namespace of their own need root (unshare); they skip
 * without it, except under CI.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "netns.h"

/* This thread's network namespace, by inode. */
static ino_t thread_netns(void)
{
	struct stat st;

	assert_int_equal(stat("/proc/thread-self/ns/net", &st), 0);
	return st.st_ino;
}

struct visits {
	int n;
	ino_t seen[4];
};

static int visit(void *ctx)
{
	struct visits *v = ctx;

	if (v->n < 4)
		v->seen[v->n] = thread_netns();
	v->n++;
	return 0;
}

static int fail_second(void *ctx)
{
	struct visits *v = ctx;

	return ++v->n == 2 ? -EIO : 0;
}

static bool need_root(void)
{
	if (geteuid() == 0)
		return true;
	if (getenv("CI"))
		fail_msg("test_netns needs root (unshare), and CI must run it");
	skip();
	return false;
}

/* A child parked in a network namespace of its own; its pid. */
static pid_t child_in_new_netns(void)
{
	int ready[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		if (unshare(CLONE_NEWNET))
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

static void end_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void own_namespace_is_not_held(void **state)
{
	struct netns_set *set = netns_set__new();
	__u32 tgids[] = { getpid(), 0x7ffffff0 /* no such process */ };
	struct visits v = {};

	(void)state;
	assert_non_null(set);
	assert_int_equal(netns_set__refresh(set, tgids, 2), 0);
	assert_int_equal(netns_set__size(set), 0);
	assert_int_equal(netns_set__for_each(set, visit, &v), 0);
	assert_int_equal(v.n, 1);	/* ours only */
	assert_int_equal(v.seen[0], thread_netns());
	netns_set__free(set);
}

static void enters_each_namespace_and_returns(void **state)
{
	struct netns_set *set;
	struct visits v = {};
	ino_t home;
	pid_t a, b;
	__u32 tgids[3];

	(void)state;
	if (!need_root())
		return;
	home = thread_netns();
	a = child_in_new_netns();
	b = child_in_new_netns();
	set = netns_set__new();
	assert_non_null(set);
	tgids[0] = a;
	tgids[1] = b;
	tgids[2] = a;	/* a namespace named twice is held once */
	assert_int_equal(netns_set__refresh(set, tgids, 3), 0);
	assert_int_equal(netns_set__size(set), 2);
	assert_int_equal(netns_set__for_each(set, visit, &v), 0);
	assert_int_equal(v.n, 3);
	assert_int_equal(v.seen[0], home);
	assert_int_not_equal(v.seen[1], home);
	assert_int_not_equal(v.seen[2], home);
	assert_int_not_equal(v.seen[1], v.seen[2]);
	assert_int_equal(thread_netns(), home);

	/* an error in one namespace is said, the others are still walked */
	v.n = 0;
	assert_int_equal(netns_set__for_each(set, fail_second, &v), -EIO);
	assert_int_equal(v.n, 3);
	assert_int_equal(thread_netns(), home);

	/* b gone from the serving processes: its namespace is let go */
	assert_int_equal(netns_set__refresh(set, tgids, 1), 0);
	assert_int_equal(netns_set__size(set), 1);
	/* a's process gone: only b's namespace is held */
	end_child(a);
	assert_int_equal(netns_set__refresh(set, tgids, 3), 0);
	assert_int_equal(netns_set__size(set), 1);	/* b's, named again */
	end_child(b);
	assert_int_equal(netns_set__refresh(set, tgids, 3), 0);
	assert_int_equal(netns_set__size(set), 0);
	netns_set__free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(own_namespace_is_not_held),
		cmocka_unit_test(enters_each_namespace_and_returns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
