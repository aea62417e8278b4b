/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef SLOTAP_LOG_H
#define SLOTAP_LOG_H

#include <stdbool.h>

/* One line per message, "slotap: " first, to stderr. */
void log__set_verbose(bool verbose);
bool log__verbose(void);
void log__error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log__warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log__info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log__debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Route libbpf's messages through us: silent unless verbose, verifier logs truncated. */
void log__install_libbpf_printer(void);

#endif
