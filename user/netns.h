/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The network namespaces of the processes that serve tracked connections.
 * A TCP socket iterator (iter/tcp) walks the sockets of the namespace of
 * the task that creates it; to walk those of a service in a container, the
 * agent creates one inside each such namespace. The set holds an fd of
 * each namespace but the agent's own, refreshed from the serving processes.
 */
#ifndef SLOTAP_NETNS_H
#define SLOTAP_NETNS_H

#include <linux/types.h>

struct netns_set;

/* NULL with errno set when the agent's own namespace cannot be opened. */
struct netns_set *netns_set__new(void);
void netns_set__free(struct netns_set *set);
/*
 * Keep the namespaces of the processes whose ids are in tgids (serving
 * and service processes), forget the others. 0 or -errno.
 */
int netns_set__refresh(struct netns_set *set, const __u32 *tgids, size_t n);
/* Namespaces held besides the agent's own. */
size_t netns_set__size(const struct netns_set *set);
/*
 * fn(ctx) in the agent's namespace, then in each other one the set holds,
 * with the calling thread moved there and back. Goes on past a namespace
 * that fails: 0, or the first -errno.
 */
int netns_set__for_each(struct netns_set *set, int (*fn)(void *ctx), void *ctx);

#endif
