/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * `slotap rules`: the Prometheus recording and alerting rules that compute,
 * from the slotap_slo_events_total counters of every agent of a fleet, what
 * each agent computes for itself: per SLO (per endpoint for default SLOs)
 * the burn rates, the SLI and the error budget over its window, the
 * multiwindow burn-rate alerts and the budget policy conditions, with the
 * same low-traffic protection (min_events). docs/rules.md names each rule
 * and says where PromQL can only approximate the agent.
 */
#ifndef SLOTAP_RULES_H
#define SLOTAP_RULES_H

#include <stddef.h>
#include <stdio.h>

struct slotap_config;

/*
 * Writes the rules of every SLO and default SLO of cfg to out, one YAML
 * document in Prometheus' rule file format. 0; -EINVAL with one line in err
 * (a config the rules cannot tell apart: a default SLO named as an SLO);
 * -ENOMEM; -EIO when writing failed.
 */
int rules__write(const struct slotap_config *cfg, FILE *out, char *err, size_t errlen);

/* The `slotap rules` command; argv[0] is "rules". Returns the exit status. */
int rules__main(int argc, char **argv);

#endif /* SLOTAP_RULES_H */
