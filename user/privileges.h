/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Least privilege once the BPF programs are attached: the main thread
 * keeps the few capabilities what runs later needs (SECURITY.md says
 * which and why), the metrics server's threads keep none.
 *
 * Capabilities, the bounding set and no_new_privs are per thread on Linux
 * (libcap changes the calling thread only, as slotap does not link
 * libpsx); a thread starts with its creator's. Both calls are meant for a
 * process whose only thread is the caller: threads it starts later
 * inherit what the call left.
 */
#ifndef SLOTAP_PRIVILEGES_H
#define SLOTAP_PRIVILEGES_H

/*
 * The calling thread drops every capability but CAP_BPF, CAP_PERFMON,
 * CAP_SYS_ADMIN and CAP_SYS_PTRACE from its
 * permitted, effective and bounding sets, empties its inheritable and
 * ambient sets, and sets no_new_privs; what was kept is read back. 0, or
 * -errno with one line logged that says which step failed. A kept
 * capability the process was never granted is a warning (what it is for
 * will fail), not an error.
 */
int privileges__drop(void);

/*
 * Runs fn(arg) in a new thread that first drops every capability (all
 * sets, bounding included) and sets no_new_privs, so that the threads fn
 * starts have none either; returns what fn returned, or -errno (logged)
 * when the thread could not be set up. Call it before privileges__drop():
 * emptying the bounding set needs CAP_SETPCAP, which that drop gives up.
 */
int privileges__run_unprivileged(int (*fn)(void *arg), void *arg);

#endif /* SLOTAP_PRIVILEGES_H */
