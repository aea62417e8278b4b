// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Typed reading of a libyaml document, with positioned one-line errors. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "yaml_reader.h"

int yaml_reader__oom(struct yaml_reader *rd)
{
	errbuf__set(rd->err, rd->errlen, "%s: out of memory", rd->source);
	return -ENOMEM;
}

static int verror_at(struct yaml_reader *rd, size_t line, size_t col,
		     const char *path, const char *fmt, va_list ap)
{
	const char *pre = rd->prefix ? rd->prefix : "";
	char msg[YAML_READER_MSG_SIZE];

	if (!path)
		path = "";
	vsnprintf(msg, sizeof(msg), fmt, ap);
	errbuf__set(rd->err, rd->errlen, "%s:%zu:%zu: %s%s%s%s%s", rd->source,
		    line + 1, col + 1, pre, *pre && *path ? "." : "", path,
		    *pre || *path ? ": " : "", msg);
	return -EINVAL;
}

int yaml_reader__error_at(struct yaml_reader *rd, size_t line, size_t col,
			  const char *path, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = verror_at(rd, line, col, path, fmt, ap);
	va_end(ap);
	return ret;
}

int yaml_reader__error(struct yaml_reader *rd, const yaml_node_t *n,
		       const char *path, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = verror_at(rd, n->start_mark.line, n->start_mark.column, path, fmt, ap);
	va_end(ap);
	return ret;
}

/* Line and column (0-based) of a byte offset, for reader errors. */
static void offset_mark(const char *buf, size_t len, size_t off, size_t *line,
			size_t *col)
{
	size_t i;

	*line = 0;
	*col = 0;
	for (i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 0;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			/* libyaml counts characters, not bytes */
			(*col)++;
		}
	}
}

int yaml_reader__parser_error(struct yaml_reader *rd, const yaml_parser_t *p, const char *buf,
			      size_t len)
{
	const char *problem = p->problem ? p->problem : "unknown error";
	size_t line, col;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return yaml_reader__oom(rd);
	case YAML_READER_ERROR:
		offset_mark(buf, len, p->problem_offset, &line, &col);
		if (p->problem_value != -1)
			return yaml_reader__error_at(rd, line, col, NULL,
						     "invalid YAML: %s (#x%X)", problem,
						     (unsigned)p->problem_value);
		return yaml_reader__error_at(rd, line, col, NULL, "invalid YAML: %s",
					     problem);
	default:
		if (p->context)
			return yaml_reader__error_at(rd, p->problem_mark.line,
						     p->problem_mark.column, NULL,
						     "invalid YAML: %s (%s at %zu:%zu)",
						     problem, p->context,
						     p->context_mark.line + 1,
						     p->context_mark.column + 1);
		return yaml_reader__error_at(rd, p->problem_mark.line, p->problem_mark.column,
					     NULL, "invalid YAML: %s", problem);
	}
}

const char *yaml_reader__quote(char *buf, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	buf[o++] = '"';
	for (i = 0; i < len && i < YAML_READER_QUOTE_MAX; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = c;
		} else if (c < 0x20 || c == 0x7f) {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 0xf];
		} else {
			buf[o++] = c;
		}
	}
	if (i < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

const char *yaml_reader__quote_scalar(char *buf, const yaml_node_t *n)
{
	return yaml_reader__quote(buf, yaml_reader__scalar(n), n->data.scalar.length);
}

bool yaml_reader__is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	size_t i;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (!strcmp(yaml_reader__scalar(n), nulls[i]))
			return true;
	return false;
}

bool yaml_reader__looks_numeric(const yaml_node_t *n)
{
	const char *p = yaml_reader__scalar(n);
	bool digits = false;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	if (*p == '-' || *p == '+')
		p++;
	for (; *p >= '0' && *p <= '9'; p++)
		digits = true;
	if (digits && *p == '.') {
		for (p++, digits = false; *p >= '0' && *p <= '9'; p++)
			digits = true;
	}
	return digits && !*p && n->data.scalar.length == strlen(yaml_reader__scalar(n));
}

const char *yaml_reader__describe(char *buf, const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_SCALAR_NODE:
		if (yaml_reader__is_null(n))
			return "null";
		if (yaml_reader__looks_numeric(n))
			return yaml_reader__scalar(n);
		return yaml_reader__quote_scalar(buf, n);
	default:
		return "nothing";
	}
}

int yaml_reader__type_error(struct yaml_reader *rd, const yaml_node_t *n,
			    const char *path, const char *expected)
{
	char q[YAML_READER_QUOTE_SIZE];

	return yaml_reader__error(rd, n, path, "expected %s, got %s", expected,
				  yaml_reader__describe(q, n));
}

void yaml_reader__item_path(char *buf, size_t size, const char *base, long idx)
{
	if (idx < 0)
		snprintf(buf, size, "%s", base);
	else
		snprintf(buf, size, "%s[%ld]", base, idx);
}

int yaml_reader__get_string(struct yaml_reader *rd, const yaml_node_t *n,
			    const char *path, const char *expected, const char **out)
{
	if (n->type != YAML_SCALAR_NODE || yaml_reader__is_null(n))
		return yaml_reader__type_error(rd, n, path, expected);
	if (strlen(yaml_reader__scalar(n)) != n->data.scalar.length)
		return yaml_reader__error(rd, n, path, "contains a NUL character");
	*out = yaml_reader__scalar(n);
	return 0;
}

int yaml_reader__get_keyword(struct yaml_reader *rd, const yaml_node_t *n,
			     const char *path, const char *expected,
			     const char *what, const char *const words[], int *out)
{
	char q[YAML_READER_QUOTE_SIZE];
	const char *s;
	int err = yaml_reader__get_string(rd, n, path, expected, &s);

	if (err)
		return err;
	for (int i = 0; words[i]; i++) {
		if (!strcmp(s, words[i])) {
			*out = i;
			return 0;
		}
	}
	return yaml_reader__error(rd, n, path, "%s is not %s",
				  yaml_reader__quote(q, s, strlen(s)), what);
}

int yaml_reader__get_uint(struct yaml_reader *rd, const yaml_node_t *n,
			  const char *path, const char *what, unsigned long min,
			  unsigned long max, unsigned long *out)
{
	char q[YAML_READER_QUOTE_SIZE];
	unsigned long v = 0;
	const char *p;

	if (n->type != YAML_SCALAR_NODE)
		return yaml_reader__type_error(rd, n, path, what);
	p = yaml_reader__scalar(n);
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || !*p)
		goto bad;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (ULONG_MAX - (*p - '0')) / 10)
			goto bad;
		v = v * 10 + (*p - '0');
	}
	if (*p || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	return yaml_reader__error(rd, n, path, "%s is not %s (%lu..%lu)",
				  yaml_reader__describe(q, n), what, min, max);
}

int yaml_reader__get_bool(struct yaml_reader *rd, const yaml_node_t *n, const char *path,
			  bool *out)
{
	static const char *const words[] = { "false", "False", "FALSE", "true", "True", "TRUE" };

	if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
			if (!strcmp(yaml_reader__scalar(n), words[i])) {
				*out = i >= 3;
				return 0;
			}
		}
	}
	return yaml_reader__type_error(rd, n, path, "true or false");
}

/*
 * One key of a mapping: a string, one of keys[] (NULL-terminated), not
 * seen before. Its index in keys[], or a negative errno.
 */
static int map_key(struct yaml_reader *rd, const yaml_node_t *key,
		   const char *path, const char *const keys[], unsigned *seen)
{
	char q[YAML_READER_QUOTE_SIZE];
	int i;

	if (key->type != YAML_SCALAR_NODE || yaml_reader__is_null(key))
		return yaml_reader__error(rd, key, path, "keys must be strings, got %s",
					  yaml_reader__describe(q, key));
	for (i = 0; keys[i]; i++) {
		if (strcmp(yaml_reader__scalar(key), keys[i]) ||
		    strlen(keys[i]) != key->data.scalar.length)
			continue;
		if (*seen & (1u << i))
			return yaml_reader__error(rd, key, path, "duplicate key %s",
						  yaml_reader__quote(q, keys[i], strlen(keys[i])));
		*seen |= 1u << i;
		return i;
	}
	return yaml_reader__error(rd, key, path, "unknown key %s",
				  yaml_reader__quote_scalar(q, key));
}

int yaml_reader__walk(struct yaml_reader *rd, const yaml_node_t *n, const char *path,
		      const char *const keys[], struct yaml_fields *f)
{
	yaml_node_pair_t *pair;
	int k;

	memset(f, 0, sizeof(*f));
	if (n->type != YAML_MAPPING_NODE)
		return yaml_reader__type_error(rd, n, path, "a mapping");
	for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
		yaml_node_t *key = yaml_document_get_node(rd->doc, pair->key);

		k = map_key(rd, key, path, keys, &f->seen);
		if (k < 0)
			return k;
		f->key[k] = key;
		f->val[k] = yaml_document_get_node(rd->doc, pair->value);
		f->order[f->n++] = k;
	}
	return 0;
}

int yaml_reader__require(struct yaml_reader *rd, const yaml_node_t *n, const char *path,
			 const char *const keys[], const struct yaml_fields *f,
			 unsigned required)
{
	for (int k = 0; keys[k]; k++)
		if ((required & (1u << k)) && !(f->seen & (1u << k)))
			return yaml_reader__error(rd, n, path, "missing required key \"%s\"",
						  keys[k]);
	return 0;
}

/* The child i of node n (a list's items; a mapping's keys and values in turn). */
static int child_id(const yaml_node_t *n, size_t i)
{
	if (n->type == YAML_SEQUENCE_NODE)
		return n->data.sequence.items.start[i];
	return i % 2 ? n->data.mapping.pairs.start[i / 2].value
		     : n->data.mapping.pairs.start[i / 2].key;
}

static size_t children(const yaml_node_t *n)
{
	if (n->type == YAML_SEQUENCE_NODE)
		return yaml_reader__len(n);
	if (n->type == YAML_MAPPING_NODE)
		return 2 * (n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	return 0;
}

/*
 * How many nodes doc stands for with every alias written out, counting
 * from its root, in *out; past max the count stops. 0, -E2BIG past max,
 * -ELOOP when an alias is inside the node it names (*at: that node), or
 * -ENOMEM.
 */
static int expanded_nodes(yaml_document_t *doc, size_t max, size_t *out, const yaml_node_t **at)
{
	enum { NEW, OPEN, DONE };
	struct frame {
		int id;
		size_t next;	/* the next child to count */
	} *stack;
	size_t n = doc->nodes.top - doc->nodes.start, depth = 0, *size;
	unsigned char *state;
	int ret = 0;

	*out = 0;
	if (!n)
		return 0;
	/* every node is on the stack at most once: an open one again is a loop */
	size = calloc(n, sizeof(*size));
	state = calloc(n, 1);
	stack = calloc(n, sizeof(*stack));
	if (!size || !state || !stack) {
		ret = -ENOMEM;
		goto out;
	}
	stack[depth++] = (struct frame){ .id = 1 };
	state[0] = OPEN;
	size[0] = 1;
	while (depth) {
		struct frame *f = &stack[depth - 1];
		const yaml_node_t *node = &doc->nodes.start[f->id - 1];
		int child;

		if (f->next == children(node)) {
			state[f->id - 1] = DONE;
			if (--depth) {
				size_t *parent = &size[stack[depth - 1].id - 1];

				/* saturating: past max the count no longer matters */
				*parent += size[f->id - 1];
				if (*parent > max)
					*parent = max + 1;
			}
			continue;
		}
		child = child_id(node, f->next++);
		if (child < 1 || (size_t)child > n)
			continue;	/* libyaml makes none such */
		switch (state[child - 1]) {
		case DONE:
			size[f->id - 1] += size[child - 1];
			if (size[f->id - 1] > max)
				size[f->id - 1] = max + 1;
			break;
		case OPEN:
			*at = &doc->nodes.start[child - 1];
			ret = -ELOOP;
			goto out;
		default:
			state[child - 1] = OPEN;
			size[child - 1] = 1;
			stack[depth++] = (struct frame){ .id = child };
		}
	}
	*out = size[0];
	if (size[0] > max)
		ret = -E2BIG;
out:
	free(size);
	free(state);
	free(stack);
	return ret;
}

/*
 * What would make a document cost far more than its size to load,
 * refused from the event stream before anything is loaded: libyaml's
 * scanner takes time quadratic in the nesting depth (200 KB of "[" took
 * 50 s), so the scan stops at the first level too deep; its loader looks
 * anchors up one by one (200,000 of them took 110 s); and the count of
 * nodes bounds the rest. What aliases expand to is checked once loaded
 * (yaml_reader__add_expanded(): an alias makes one node the value of many
 * keys, so each level of aliases can multiply the one below).
 */
int yaml_reader__prescan(struct yaml_reader *rd, const char *buf, size_t len,
			 const struct yaml_limits *lim)
{
	unsigned depth = 0, nodes = 0, anchors = 0;
	yaml_parser_t parser;
	yaml_event_t event;
	char q[YAML_READER_QUOTE_SIZE];
	int ret = 0;

	if (!yaml_parser_initialize(&parser))
		return yaml_reader__oom(rd);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	/* a syntax error is left to the loader, which says it in full */
	while (!ret && yaml_parser_parse(&parser, &event)) {
		const yaml_mark_t *at = &event.start_mark;
		const char *anchor = NULL;
		bool node = true;

		switch (event.type) {
		case YAML_ALIAS_EVENT:
			break;
		case YAML_SCALAR_EVENT:
			anchor = (const char *)event.data.scalar.anchor;
			break;
		case YAML_SEQUENCE_START_EVENT:
			anchor = (const char *)event.data.sequence_start.anchor;
			depth++;
			break;
		case YAML_MAPPING_START_EVENT:
			anchor = (const char *)event.data.mapping_start.anchor;
			depth++;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			node = false;
			break;
		default:
			node = false;
			break;
		}
		if (ret)
			;
		else if (anchor && ++anchors > lim->anchors)
			ret = yaml_reader__error_at(rd, at->line, at->column, NULL,
						    "YAML anchor %s is one more than %d",
						    yaml_reader__quote(q, anchor, strlen(anchor)),
						    lim->anchors);
		else if (depth > lim->depth)
			ret = yaml_reader__error_at(rd, at->line, at->column, NULL,
						    "lists and mappings nested more than %u deep",
						    lim->depth);
		else if (node && ++nodes > lim->nodes)
			ret = yaml_reader__error_at(rd, at->line, at->column, NULL,
						    "more than %u YAML nodes (scalars, lists and mappings)",
						    lim->nodes);
		if (event.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&event);
			break;
		}
		yaml_event_delete(&event);
	}
	yaml_parser_delete(&parser);
	return ret;
}

int yaml_reader__add_expanded(struct yaml_reader *rd, yaml_document_t *doc,
			      const struct yaml_limits *lim, size_t *total)
{
	const yaml_node_t *root = yaml_document_get_root_node(doc), *at = root;
	size_t n;
	int err;

	err = expanded_nodes(doc, lim->nodes - *total, &n, &at);
	if (err == -ENOMEM)
		return yaml_reader__oom(rd);
	if (err == -ELOOP)
		return yaml_reader__error(rd, at, NULL,
					  "this node contains an alias of itself");
	if (err)
		return yaml_reader__error(rd, root, NULL,
					  "with its aliases written out, the config has more than %u YAML nodes",
					  lim->nodes);
	*total += n;
	return 0;
}

int yaml_unique__add(struct yaml_reader *rd, struct yaml_unique *l, const char *s,
		     const yaml_node_t *node, size_t owner, long idx)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct yaml_unique_str *v = reallocarray(l->v, cap, sizeof(*v));

		if (!v)
			return yaml_reader__oom(rd);
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct yaml_unique_str){ s, node, owner, idx };
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	const struct yaml_unique_str *x = a, *y = b;
	int c = strcmp(x->s, y->s);

	if (c)
		return c;
	return x->node->start_mark.index < y->node->start_mark.index ? -1 :
	       x->node->start_mark.index > y->node->start_mark.index;
}

static int cmp_owner_str(const void *a, const void *b)
{
	const struct yaml_unique_str *x = a, *y = b;

	if (x->owner != y->owner)
		return x->owner < y->owner ? -1 : 1;
	return cmp_str(a, b);
}

const struct yaml_unique_str *yaml_unique__first_dup(struct yaml_unique *l, bool per_owner,
						     const struct yaml_unique_str **first)
{
	const struct yaml_unique_str *dup = NULL;
	size_t i, group = 0;

	if (l->n < 2)
		return NULL;
	qsort(l->v, l->n, sizeof(*l->v), per_owner ? cmp_owner_str : cmp_str);
	for (i = 1; i < l->n; i++) {
		const struct yaml_unique_str *a = &l->v[group], *b = &l->v[i];

		if (strcmp(a->s, b->s) || (per_owner && a->owner != b->owner)) {
			group = i;
			continue;
		}
		if (!dup || b->node->start_mark.index < dup->node->start_mark.index) {
			dup = b;
			*first = a;
		}
	}
	return dup;
}

static int cmp_key_str(const void *key, const void *elem)
{
	return strcmp(key, ((const struct yaml_unique_str *)elem)->s);
}

bool yaml_unique__find(const struct yaml_unique *l, const char *s)
{
	return l->n && bsearch(s, l->v, l->n, sizeof(*l->v), cmp_key_str);
}

void yaml_unique__free(struct yaml_unique *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}
