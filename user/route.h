/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Route templating: turns a raw request path into a low-cardinality
 * http_route label, either from configured templates or by folding
 * identifier-looking segments to {id} (route_segment.h), with a per-table
 * cap on how many distinct routes the heuristic may create. In strict mode
 * nothing of the path is kept unless a template matches: the label is
 * always text the operator wrote or one of the fixed ones below.
 */
#ifndef SLOTAP_ROUTE_H
#define SLOTAP_ROUTE_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

/* Labels the table may return besides templates and folded paths. */
#define ROUTE_INVALID		"/{invalid}"	/* bytes outside 0x21..0x7e, or no leading '/' */
#define ROUTE_TRUNCATED		"/{truncated}"	/* appended in place of the cut last segment */
#define ROUTE_ASTERISK		"*"		/* OPTIONS * */
#define ROUTE_OVERFLOW		"__overflow__"	/* the heuristic hit max_routes */
#define ROUTE_ID		"{id}"		/* a folded segment */
#define ROUTE_OTHER		"__other__"	/* strict mode: no template matched */
/* HTTP/2: a :path the agent could not decode (docs/design-http2.md, section 7) */
#define ROUTE_UNDECODED		"__undecoded__"

enum route_mode {
	ROUTE_MODE_FOLD,	/* unmatched paths keep their word-like segments */
	ROUTE_MODE_STRICT,	/* unmatched paths are all ROUTE_OTHER */
};

struct route_table;

/*
 * templates: route templates tried in order (copied); max_routes: cap on
 * distinct routes, 0 for none; mode: what an unmatched path becomes.
 * Returns NULL with errno EINVAL when a template fails
 * route_template__validate(), or ENOMEM.
 */
struct route_table *route_table__new(const char *const *templates, size_t n_templates,
				     unsigned int max_routes, enum route_mode mode);
void route_table__free(struct route_table *rt);
/*
 * path: raw path prefix as captured in the kernel (not NUL-terminated, len
 * bytes, may contain any byte); truncated: the kernel cut the path at
 * HTTP_PATH_MAX bytes. Returns an interned string owned by rt, valid until
 * route_table__free(). Never NULL except on ENOMEM. Not thread-safe.
 */
const char *route_table__resolve(struct route_table *rt, const char *path, size_t len,
				 bool truncated);
/*
 * The same for a name that is a route as it is, never folded (a gRPC
 * method, "/pkg.Service/Method"): a template it matches whole, else in
 * strict mode ROUTE_OTHER, else itself, counted against max_routes.
 * ROUTE_INVALID for bytes outside 0x21..0x7e or no leading '/'.
 */
const char *route_table__resolve_verbatim(struct route_table *rt, const char *path, size_t len);
/*
 * The same without admitting a new name: what resolve_verbatim() returns
 * for a template, strict mode, invalid bytes or a name admitted already,
 * else NULL (or on ENOMEM). For names whose call did not show they exist.
 */
const char *route_table__find_verbatim(struct route_table *rt, const char *path, size_t len);
/* Requests sent to ROUTE_OVERFLOW. */
__u64 route_table__overflowed(const struct route_table *rt);
/* Distinct routes admitted (ROUTE_OVERFLOW not included). */
size_t route_table__count(const struct route_table *rt);
/*
 * Used by the config parser: tmpl must start with '/', be printable ASCII
 * (0x21..0x7e) without '?' or '#', and use '{' '}' only as whole {name}
 * segments, name made of [A-Za-z0-9_-]. Returns 0, or -EINVAL with a message
 * in err (if err is not NULL).
 */
int route_template__validate(const char *tmpl, char *err, size_t errlen);

#endif /* SLOTAP_ROUTE_H */
