/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One-line error messages written into a caller's buffer. */
#ifndef SLOTAP_ERRBUF_H
#define SLOTAP_ERRBUF_H

#include <stddef.h>

/* Formats into err; does nothing when err is NULL or errlen is 0. */
void errbuf__set(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
