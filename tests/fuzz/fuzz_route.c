// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fuzz target: route templating and folding (user/route.c), on paths as
 * the kernel captures them (any byte).
 *
 * Input: byte 0 is max_routes (0: no cap), byte 1 the number of templates
 * (bits 0-2) and strict mode (bit 3); then that many templates, each ending
 * at '\n'; then paths, each
 * one byte (bit 7: truncated by the kernel; bits 0-6: length) and that
 * many bytes. tests/fuzz/make-seeds.py writes the seeds.
 *
 * Checked: a table is refused exactly when a template fails validation;
 * every label is printable ASCII, without a query, and one of a template,
 * a folded path with as many segments as the path (strict mode: never),
 * or a fixed label; the
 * same path gives the same label; at most max_routes labels come from the
 * heuristic, and the overflow counter counts what did not fit.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "route.h"

const char fuzz_target_name[] = "route";

#define TEMPLATES_MAX	8
#define PATHS_MAX	512

struct input {
	const uint8_t *p, *end;
};

/* One template: the bytes up to '\n' (or the end), as a C string. */
static char *next_template(struct input *in)
{
	const uint8_t *nl = memchr(in->p, '\n', in->end - in->p);
	size_t len = (nl ? nl : in->end) - in->p;
	char *s = malloc(len + 1);

	FUZZ_CHECK(s, "out of memory");
	memcpy(s, in->p, len);
	s[len] = '\0';
	in->p += len + (nl != NULL);
	return s;
}

static size_t segments(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += s[i] == '/';
	return n;
}

static bool is_fixed(const char *label)
{
	return !strcmp(label, ROUTE_INVALID) || !strcmp(label, ROUTE_TRUNCATED) ||
	       !strcmp(label, ROUTE_ASTERISK) || !strcmp(label, ROUTE_OVERFLOW) ||
	       !strcmp(label, ROUTE_OTHER);
}

/* A label from a template: one of them, or a prefix of one cut at '/' and marked truncated. */
static bool from_template(char **templates, size_t n, const char *label)
{
	size_t len = strlen(label), cut = sizeof(ROUTE_TRUNCATED) - 1;

	for (size_t i = 0; i < n; i++) {
		if (!strcmp(templates[i], label))
			return true;
		if (len > cut && !strcmp(label + len - cut, ROUTE_TRUNCATED) &&
		    !strncmp(templates[i], label, len - cut) && templates[i][len - cut] == '/')
			return true;
	}
	return false;
}

/*
 * What the label of a path no template matched must be: its segments,
 * each as it was or folded to {id}, the query cut off.
 */
static void check_folded(const char *path, size_t len, const char *label)
{
	const char *q = memchr(path, '?', len), *h = memchr(path, '#', len), *s = path, *l = label;

	if (q)
		len = q - path;
	if (h && (size_t)(h - path) < len)
		len = h - path;
	FUZZ_CHECK(segments(path, len) == segments(label, strlen(label)),
		   "\"%.*s\" folded to \"%s\": not as many segments", (int)len, path, label);
	while (s < path + len) {
		const char *slash = memchr(s + 1, '/', path + len - s - 1);
		size_t sl = (slash ? slash : path + len) - s - 1, ll = strcspn(l + 1, "/");

		FUZZ_CHECK((sl == ll && !memcmp(s + 1, l + 1, sl)) ||
			   (ll == sizeof(ROUTE_ID) - 1 && !memcmp(l + 1, ROUTE_ID, ll)),
			   "\"%.*s\" folded to \"%s\"", (int)len, path, label);
		s += 1 + sl;
		l += 1 + ll;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, data + size };
	char *templates[TEMPLATES_MAX] = {};
	const char *labels[PATHS_MAX];
	size_t n_templates, n_paths = 0, heuristic = 0, overflowed = 0;
	unsigned int max_routes;
	struct route_table *rt;
	enum route_mode mode;
	bool valid = true;

	if (size < 2)
		return 0;
	max_routes = data[0];
	n_templates = data[1] % TEMPLATES_MAX;
	mode = data[1] & 8 ? ROUTE_MODE_STRICT : ROUTE_MODE_FOLD;
	in.p += 2;
	for (size_t i = 0; i < n_templates; i++) {
		templates[i] = next_template(&in);
		valid &= !route_template__validate(templates[i], NULL, 0);
	}
	rt = route_table__new((const char *const *)templates, n_templates, max_routes, mode);
	FUZZ_CHECK(!rt == !valid, "table %s with %s templates", rt ? "made" : "refused",
		   valid ? "valid" : "invalid");
	if (!rt) {
		FUZZ_CHECK(errno == EINVAL, "refused with errno %d", errno);
		goto out;
	}

	while (in.p < in.end && n_paths < PATHS_MAX) {
		bool truncated = *in.p & 0x80;
		size_t len = *in.p & 0x7f;
		const char *path = (const char *)in.p + 1, *label;
		size_t before = route_table__count(rt);

		in.p++;
		if (len > (size_t)(in.end - in.p))
			len = in.end - in.p;
		in.p += len;
		label = route_table__resolve(rt, path, len, truncated);
		FUZZ_CHECK(label && *label, "no label for \"%.*s\"", (int)len, path);
		for (const char *c = label; *c; c++)
			FUZZ_CHECK(*c >= 0x21 && *c <= 0x7e && *c != '?' && *c != '#',
				   "label \"%s\": byte 0x%02x", label, (unsigned char)*c);
		FUZZ_CHECK(label[0] == '/' || is_fixed(label), "label \"%s\"", label);
		FUZZ_CHECK(route_table__resolve(rt, path, len, truncated) == label,
			   "\"%.*s\": another label the second time", (int)len, path);
		if (!strcmp(label, ROUTE_OVERFLOW)) {
			overflowed += 2;	/* the second resolve overflows as well */
		} else if (route_table__count(rt) > before && !is_fixed(label) &&
			   !from_template(templates, n_templates, label)) {
			heuristic++;
		}
		/* strict: nothing of the path but what a template says */
		FUZZ_CHECK(mode != ROUTE_MODE_STRICT || is_fixed(label) ||
			   from_template(templates, n_templates, label),
			   "strict mode: label \"%s\"", label);
		/* a valid path that no template matches, whole: folded */
		if (!truncated && !n_templates && len && path[0] == '/' &&
		    !is_fixed(label))
			check_folded(path, len, label);
		labels[n_paths++] = label;
	}
	FUZZ_CHECK(!max_routes || heuristic <= max_routes, "%zu routes from the heuristic, cap %u",
		   heuristic, max_routes);
	FUZZ_CHECK(route_table__overflowed(rt) == overflowed, "overflowed %llu, seen %zu",
		   (unsigned long long)route_table__overflowed(rt), overflowed);
	/* interned: every label stays valid while the table lives */
	for (size_t i = 0; i < n_paths; i++)
		FUZZ_CHECK(strlen(labels[i]), "label %zu emptied", i);
	route_table__free(rt);
out:
	for (size_t i = 0; i < n_templates; i++)
		free(templates[i]);
	return 0;
}
