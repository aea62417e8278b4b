/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which path segments are identifiers or secrets rather than words: the
 * ones route folding replaces with {id}, so that a password-reset token,
 * an e-mail address or an API key in a path never becomes a label.
 * README.md ("Routes") states the rule; route_segment.c has its reasons.
 */
#ifndef SLOTAP_ROUTE_SEGMENT_H
#define SLOTAP_ROUTE_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>

/* Segments longer than this (bytes as sent, before percent-decoding) always fold. */
#define ROUTE_SEGMENT_KEEP_MAX	40
/* Runs of letters and digits shorter than this are never judged random. */
#define ROUTE_SEGMENT_RANDOM_MIN	8

/*
 * seg: one path segment as sent (len bytes, no '/', any byte). True when
 * it looks like an identifier or a secret; judged percent-decoded.
 */
bool route_segment__is_id(const char *seg, size_t len);

#endif /* SLOTAP_ROUTE_SEGMENT_H */
