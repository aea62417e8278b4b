/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * `slotap status`: fetch a running agent's /metrics and show its SLOs and
 * its least available and slowest endpoints at a glance (or as JSON).
 */
#ifndef SLOTAP_STATUS_H
#define SLOTAP_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Parses a Prometheus text exposition (len bytes; need not be
 * NUL-terminated) and writes the status table, or one JSON object when json
 * is set, to out. Unknown metrics and malformed lines are skipped.
 * Returns 0, -ENOMEM, or -EIO when writing to out failed.
 */
int status__render(const char *exposition, size_t len, bool json, FILE *out);

/* The `slotap status` command; argv[0] is "status". Returns the exit status. */
int status__main(int argc, char **argv);

#endif /* SLOTAP_STATUS_H */
