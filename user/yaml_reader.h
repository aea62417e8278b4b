/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading a libyaml document the way every loader of a config stream does
 * (user/config.c, user/openslo.c): typed getters and a table-driven
 * mapping walker whose errors all read "SOURCE:LINE:COLUMN: PATH: message",
 * with user text quoted so that a message stays one short line.
 *
 * Every function that can fail returns 0 or a negative errno with the
 * message already written: -EINVAL for bad content, -ENOMEM.
 */
#ifndef SLOTAP_YAML_READER_H
#define SLOTAP_YAML_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

/* Longest piece of user text quoted in a message, in input bytes. */
#define YAML_READER_QUOTE_MAX	48
/* Room yaml_reader__quote() and yaml_reader__describe() write into. */
#define YAML_READER_QUOTE_SIZE	(YAML_READER_QUOTE_MAX * 4 + 8)
/* Longest message, before its position is prepended. */
#define YAML_READER_MSG_SIZE	512

struct yaml_reader {
	yaml_document_t *doc;	/* the document whose nodes are read */
	const char *source;	/* file name, first in every message */
	char *err;		/* the message, errlen bytes */
	size_t errlen;
	const char *prefix;	/* when set, paths in messages are PREFIX.path */
};

/* The message at a position (libyaml's, 0-based); path may be NULL. */
int yaml_reader__error_at(struct yaml_reader *rd, size_t line, size_t col,
			  const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The message at n's position. */
int yaml_reader__error(struct yaml_reader *rd, const yaml_node_t *n,
		       const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* "expected EXPECTED, got WHAT-n-IS" */
int yaml_reader__type_error(struct yaml_reader *rd, const yaml_node_t *n,
			    const char *path, const char *expected);
int yaml_reader__oom(struct yaml_reader *rd);

/*
 * The parser's error (a syntax error, bad bytes, no memory) at its place in
 * buf, the len bytes it read.
 */
int yaml_reader__parser_error(struct yaml_reader *rd, const yaml_parser_t *p, const char *buf,
			      size_t len);

/* User text quoted and escaped for a one-line message, cut at QUOTE_MAX bytes. */
const char *yaml_reader__quote(char *buf, const char *s, size_t len);
/* A scalar's text, quoted. */
const char *yaml_reader__quote_scalar(char *buf, const yaml_node_t *n);
/* What n is: a number as is, a string quoted, "null", "a list", ... */
const char *yaml_reader__describe(char *buf, const yaml_node_t *n);

static inline const char *yaml_reader__scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* A plain scalar that YAML 1.1 reads as null. */
bool yaml_reader__is_null(const yaml_node_t *n);
/* A plain [-+]digits[.digits] scalar. */
bool yaml_reader__looks_numeric(const yaml_node_t *n);

/* Items of a list. */
static inline size_t yaml_reader__len(const yaml_node_t *seq)
{
	return seq->data.sequence.items.top - seq->data.sequence.items.start;
}

static inline yaml_node_t *yaml_reader__item(struct yaml_reader *rd,
					     const yaml_node_t *seq, size_t i)
{
	return yaml_document_get_node(rd->doc, seq->data.sequence.items.start[i]);
}

/* "BASE", or "BASE[IDX]" for idx >= 0: the path of a list's item. */
void yaml_reader__item_path(char *buf, size_t size, const char *base, long idx);

/* A non-null scalar without NUL bytes, as a C string owned by the document. */
int yaml_reader__get_string(struct yaml_reader *rd, const yaml_node_t *n,
			    const char *path, const char *expected,
			    const char **out);
/*
 * A string that is one of words (NULL-terminated): its index in *out.
 * expected names the type, for a non-string; what the words, for another
 * string: "\"x\" is not WHAT".
 */
int yaml_reader__get_keyword(struct yaml_reader *rd, const yaml_node_t *n,
			     const char *path, const char *expected,
			     const char *what, const char *const words[], int *out);
/*
 * A plain decimal integer in [min, max]. "what" names one valid value, as
 * in "70000 is not a port (1..65535)".
 */
int yaml_reader__get_uint(struct yaml_reader *rd, const yaml_node_t *n,
			  const char *path, const char *what, unsigned long min,
			  unsigned long max, unsigned long *out);

/* A plain true or false (or True, TRUE, False, FALSE: YAML's core schema). */
int yaml_reader__get_bool(struct yaml_reader *rd, const yaml_node_t *n, const char *path,
			  bool *out);

/* Keys a mapping may have: YAML_READER_KEYS_MAX at most (the seen bits). */
#define YAML_READER_KEYS_MAX	32

/*
 * A mapping walked: its values and keys (to blame) by index in the keys[]
 * it was walked with, NULL for a key it does not have, and the indices in
 * the document's order.
 */
struct yaml_fields {
	yaml_node_t *key[YAML_READER_KEYS_MAX], *val[YAML_READER_KEYS_MAX];
	unsigned char order[YAML_READER_KEYS_MAX];
	unsigned n;		/* keys it has */
	unsigned seen;		/* bit k: it has keys[k] */
};

/*
 * The walker every loader uses, table-driven: n is a mapping whose keys
 * are each one of keys[] (NULL-terminated), at most once; f says which,
 * with their values. A negative errno after "expected a mapping",
 * "unknown key" or "duplicate key" at its place.
 */
int yaml_reader__walk(struct yaml_reader *rd, const yaml_node_t *n, const char *path,
		      const char *const keys[], struct yaml_fields *f);
/* The first of the keys in required (a mask of their indices) that f lacks. */
int yaml_reader__require(struct yaml_reader *rd, const yaml_node_t *n, const char *path,
			 const char *const keys[], const struct yaml_fields *f,
			 unsigned required);

/*
 * What a document may cost to load, beyond its size: nesting depth, nodes
 * (as written, and with every alias written out), anchors.
 */
struct yaml_limits {
	unsigned depth, nodes, anchors;
};

/*
 * Refuses, with its place, what would make buf cost far more than its size
 * to load, before anything is loaded (see yaml_reader.c). 0, -EINVAL or
 * -ENOMEM. A syntax error is left to the loader.
 */
int yaml_reader__prescan(struct yaml_reader *rd, const char *buf, size_t len,
			 const struct yaml_limits *lim);
/*
 * Adds the nodes doc stands for with its aliases written out to *total
 * (over a stream's documents): past lim->nodes, or an alias inside the
 * node it names, is an error at its place.
 */
int yaml_reader__add_expanded(struct yaml_reader *rd, yaml_document_t *doc,
			      const struct yaml_limits *lim, size_t *total);

/*
 * Strings that must be unique, with the node to blame. Collected while
 * loading and sorted afterwards, so a large config costs n log n, not n^2.
 */
struct yaml_unique_str {
	const char *s;
	const yaml_node_t *node;
	size_t owner;		/* e.g. the index of the service it belongs to */
	long idx;		/* index in its list, -1 for a lone scalar */
};

struct yaml_unique {
	struct yaml_unique_str *v;
	size_t n, cap;
};

int yaml_unique__add(struct yaml_reader *rd, struct yaml_unique *l, const char *s,
		     const yaml_node_t *node, size_t owner, long idx);
/*
 * The repeat that comes first in the file, and in *first the occurrence it
 * repeats; NULL when all are distinct (per owner with per_owner). Sorts l:
 * yaml_unique__find() works after it.
 */
const struct yaml_unique_str *yaml_unique__first_dup(struct yaml_unique *l, bool per_owner,
						     const struct yaml_unique_str **first);
/* Whether s is in l, sorted by yaml_unique__first_dup(l, false, ...). */
bool yaml_unique__find(const struct yaml_unique *l, const char *s);
void yaml_unique__free(struct yaml_unique *l);

#endif /* SLOTAP_YAML_READER_H */
