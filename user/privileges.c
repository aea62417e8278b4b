// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Dropping capabilities (see privileges.h). libcap rather than capset(2)
 * and prctl(2) by hand: it knows the capset ABI versions and how many
 * capabilities this kernel has.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include "log.h"
#include "privileges.h"

/*
 * What runs after attach needs these, and nothing else: the list is
 * SECURITY.md's, which the integration test privileges_dropped holds the
 * running agent to. why: what fails without it.
 */
static const struct {
	cap_value_t cap;
	const char *why;
} kept[] = {
	{ CAP_BPF, "a reload that changes the services cannot load its new programs" },
	{ CAP_PERFMON, "a reload that changes the services cannot load its new tracing "
		       "programs" },
	{ CAP_SYS_ADMIN, "the socket sweeps cannot enter the network namespaces of services "
			 "(setns): listen queue drops there are not counted" },
	{ CAP_SYS_PTRACE, "the network namespaces of processes of other users, or with more "
			  "capabilities than the agent, cannot be found: the socket sweeps do not "
			  "enter them" },
};

#define N_KEPT	(sizeof(kept) / sizeof(kept[0]))

static bool listed(cap_value_t c, const cap_value_t *caps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (caps[i] == c)
			return true;
	return false;
}

/*
 * The calling thread down to caps (permitted and effective; inheritable
 * and ambient empty; the bounding set caps alone), no_new_privs set, and
 * read back. 0, or -errno with one line logged; who: whose they are.
 */
static int drop_to(const char *who, const cap_value_t *caps, size_t n)
{
	cap_value_t max = cap_max_bits();
	cap_t want = NULL, got = NULL;
	const char *step;
	int err = 0;

	step = "setting no_new_privs";
	if (cap_prctlw(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0))
		goto fail;
	/* first: dropping from the bounding set takes CAP_SETPCAP, given up below */
	step = "narrowing the bounding set (takes CAP_SETPCAP)";
	for (cap_value_t c = 0; c < max; c++) {
		int on = listed(c, caps, n) ? 0 : cap_get_bound(c);

		if (on < 0 || (on && cap_drop_bound(c)))
			goto fail;
	}
	step = "clearing the ambient set";
	if (cap_reset_ambient())
		goto fail;
	step = "setting the permitted and effective sets";
	want = cap_init();	/* all clear, inheritable too */
	if (!want || (n && (cap_set_flag(want, CAP_PERMITTED, n, caps, CAP_SET) ||
			    cap_set_flag(want, CAP_EFFECTIVE, n, caps, CAP_SET))) ||
	    cap_set_proc(want))
		goto fail;

	/* what the kernel says now, not what we asked for */
	step = "reading the capability sets back";
	got = cap_get_proc();
	if (!got)
		goto fail;
	errno = EPERM;
	if (cap_compare(got, want))
		goto fail;
	step = "reading the bounding and ambient sets back";
	for (cap_value_t c = 0; c < max; c++) {
		if (cap_get_ambient(c) != 0 || (!listed(c, caps, n) && cap_get_bound(c) != 0))
			goto fail;
	}
	step = "reading no_new_privs back";
	if (cap_prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0, 0) != 1)
		goto fail;
	goto out;
fail:
	err = errno ? -errno : -EPERM;
	log__error("cannot drop the capabilities of %s: %s: %s", who, step, strerror(-err));
out:
	cap_free(want);
	cap_free(got);
	return err;
}

int privileges__drop(void)
{
	cap_value_t caps[N_KEPT];
	cap_t now = cap_get_proc();
	size_t n = 0;

	if (!now) {
		log__error("cannot read the agent's capabilities: %s", strerror(errno));
		return -errno;
	}
	/* one the process never had cannot be kept: said, and the rest goes on */
	for (size_t i = 0; i < N_KEPT; i++) {
		cap_flag_value_t v = CAP_CLEAR;
		char *name;

		if (!cap_get_flag(now, kept[i].cap, CAP_PERMITTED, &v) && v == CAP_SET) {
			caps[n++] = kept[i].cap;
			continue;
		}
		name = cap_to_name(kept[i].cap);
		log__warn("running without %s: %s", name ? name : "a capability", kept[i].why);
		cap_free(name);
	}
	cap_free(now);
	return drop_to("the agent's main thread", caps, n);
}

struct unprivileged_run {
	int (*fn)(void *arg);
	void *arg;
	int ret;
};

static void *unprivileged_main(void *p)
{
	struct unprivileged_run *run = p;

	run->ret = drop_to("the metrics server's threads", NULL, 0);
	if (!run->ret)
		run->ret = run->fn(run->arg);
	return NULL;
}

int privileges__run_unprivileged(int (*fn)(void *arg), void *arg)
{
	struct unprivileged_run run = { .fn = fn, .arg = arg };
	pthread_t thread;
	int err;

	err = pthread_create(&thread, NULL, unprivileged_main, &run);
	if (err) {
		log__error("cannot start a thread to drop capabilities in: %s", strerror(err));
		return -err;
	}
	pthread_join(thread, NULL);
	return run.ret;
}
