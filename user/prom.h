/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Prometheus text exposition format 0.0.4 helpers. Write errors are left in
 * the stream: callers check ferror() once after a whole exposition.
 */
#ifndef SLOTAP_PROM_H
#define SLOTAP_PROM_H

#include <linux/types.h>
#include <stdio.h>

/* "# HELP name help" (help escaped: \\ and \n) then "# TYPE name type". */
void prom__header(FILE *out, const char *name, const char *type, const char *help);
/* A quoted label value: "..." with \\, \" and \n escaped. */
void prom__label_value(FILE *out, const char *s);
/*
 * ns as seconds, exact decimal with no trailing zeros, in scientific notation
 * below 1e-4 like printf's %g: 300000000 -> 0.3, 16384 -> 1.6384e-05,
 * 0 -> 0. Exact so that a threshold's le is written as a human wrote it.
 */
void prom__seconds(FILE *out, __u64 ns);

#endif /* SLOTAP_PROM_H */
