// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "log.h"

/*
 * A verifier log can run to 200k lines; a CI log or a journal must not.
 * Its head says which program, its tail says why: keep both.
 */
#define LOG_HEAD_LINES	20
#define LOG_TAIL_LINES	60

static bool verbose;

void log__set_verbose(bool v)
{
	verbose = v;
}

bool log__verbose(void)
{
	return verbose;
}

static void vlog(const char *level, const char *fmt, va_list ap)
{
	fprintf(stderr, "slotap: %s", level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

#define DEFINE_LOG(fn, level, gate)			\
void fn(const char *fmt, ...)				\
{							\
	va_list ap;					\
	if (!(gate))					\
		return;					\
	va_start(ap, fmt);				\
	vlog(level, fmt, ap);				\
	va_end(ap);					\
}

DEFINE_LOG(log__error, "error: ", true)
DEFINE_LOG(log__warn, "warning: ", true)
DEFINE_LOG(log__info, "", true)
DEFINE_LOG(log__debug, "debug: ", verbose)

static int libbpf_printer(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *msg = NULL, *p;
	size_t lines = 0, line = 0;
	int n;

	(void)level;
	if (!verbose)
		return 0;	/* our own one-line errors explain failures */
	n = vasprintf(&msg, fmt, ap);
	if (n < 0)
		return n;
	for (p = msg; *p; p++)
		lines += *p == '\n';
	if (lines <= LOG_HEAD_LINES + LOG_TAIL_LINES) {
		fputs(msg, stderr);
		free(msg);
		return n;
	}
	for (p = msg; *p; p++) {
		if (line < LOG_HEAD_LINES || line >= lines - LOG_TAIL_LINES)
			fputc(*p, stderr);
		if (*p == '\n' && ++line == LOG_HEAD_LINES)
			fprintf(stderr, "... %zu lines omitted ...\n",
				lines - LOG_HEAD_LINES - LOG_TAIL_LINES);
	}
	free(msg);
	return n;
}

void log__install_libbpf_printer(void)
{
	libbpf_set_print(libbpf_printer);
}
