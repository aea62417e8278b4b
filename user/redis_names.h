/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The Redis names the kernel tells apart (include/redis.h): the command
 * names that are operations of their own, the error prefixes that are
 * statuses of their own, and the pub/sub push kinds. One table, written
 * into the kernel's redis_names map and read back as label values.
 */
#ifndef SLOTAP_REDIS_NAMES_H
#define SLOTAP_REDIS_NAMES_H

#include <stdbool.h>
#include <linux/types.h>

/* "_OTHER" as OpenTelemetry names an operation it does not list */
#define REDIS_OTHER_NAME	"_OTHER"

/* Every name into the kernel's map (its fd). 0 or a negative errno. */
int redis_names__fill(int map_fd);
/* The operation of an event: a command name in upper case, or "_OTHER". */
const char *redis_names__operation(__u8 id);
/* The status of an event: "" for a reply that is no error, else the error's prefix or "_OTHER". */
const char *redis_names__status(__u16 status);
/* name is an operation the kernel names ("GET"), or "_OTHER". */
bool redis_names__known(const char *name);
/* Commands the table names (ids 1..n), errors (ids 2..n). */
unsigned int redis_names__commands(void);
unsigned int redis_names__errors(void);

#endif /* SLOTAP_REDIS_NAMES_H */
