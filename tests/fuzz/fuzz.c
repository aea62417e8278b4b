// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "fuzz.h"

const char *fuzz_unavailable;

void fuzz__fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz %s: %s:%d: invariant broken: %s: ", fuzz_target_name, file, line,
		cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void fuzz__fail_msg(const char *msg)
{
	fprintf(stderr, "fuzz %s: %s\n", fuzz_target_name, msg);
	abort();
}

/* The sanitizers' runtime has it; a plain build does not (weak: NULL). */
void __sanitizer_set_report_fd(void *fd) __attribute__((weak));

void fuzz__keep_reports(int fd)
{
	if (__sanitizer_set_report_fd)
		__sanitizer_set_report_fd((void *)(intptr_t)fd);
}
