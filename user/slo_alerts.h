/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The SLO alerts active at the registry's last evaluation, as the alerts
 * the agent pushes: the labels and annotations of alert_scheme.h, with how
 * far each condition is broken and the budget left.
 */
#ifndef SLOTAP_SLO_ALERTS_H
#define SLOTAP_SLO_ALERTS_H

#include <linux/types.h>

struct slo_registry;
struct alert_push;

/* Hands them to p (memory only: call it under the lock that guards reg). 0 or -ENOMEM. */
int slo_alerts__push(const struct slo_registry *reg, __u64 now_s, struct alert_push *p);

#endif /* SLOTAP_SLO_ALERTS_H */
