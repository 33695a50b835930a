/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A strict JSON (RFC 8259) reader for the library's own files (CPU
 * profiles); not installed.  The shim only ever wrote JSON before.
 * libhvrelay promises its users libc and <linux/kvm.h> only (hvrelay.h);
 * json-c or jansson would make every VMM that links it carry one more
 * library for a few hundred bytes of profile, so the reader is our own.
 *
 * Strict means: what RFC 8259 allows and nothing else (no comments, no
 * trailing commas, no single quotes, no NaN, no byte order mark), UTF-8
 * that is well-formed, and no object with the same member twice (the RFC
 * leaves that to the reader; a profile with two "vendor"s is an error, not
 * a choice).  A document is at most HVR_JSON_MAX_BYTES, HVR_JSON_MAX_DEPTH
 * deep and HVR_JSON_MAX_MEMBERS wide per object, so that a hostile file
 * costs bounded memory, stack and time.
 */
#ifndef HVR_JSON_H
#define HVR_JSON_H

#include "internal.h"

#define HVR_JSON_MAX_BYTES	(4u << 20)
#define HVR_JSON_MAX_DEPTH	32
/* Members of one object: the duplicate check is quadratic in it. */
#define HVR_JSON_MAX_MEMBERS	1024

enum hvr_json_type {
	HVR_JSON_NULL,
	HVR_JSON_FALSE,
	HVR_JSON_TRUE,
	HVR_JSON_NUMBER,
	HVR_JSON_STRING,
	HVR_JSON_ARRAY,
	HVR_JSON_OBJECT,
};

/**
 * struct hvr_json_node - one value of a document
 * @type: what it is
 * @line: where it starts, 1-based, for messages
 * @col: likewise, in bytes
 * @key: for a member of an object, its name (decoded); else NULL
 * @str: a string's decoded text, or a number's text as written; NUL is
 *	refused in strings, so this is a C string
 * @first: an array's or object's first element (node index), -1 if empty
 * @next: the next element of the same array or object, -1 after the last
 * @count: how many elements an array or object has
 */
struct hvr_json_node {
	enum hvr_json_type type;
	unsigned int line, col;
	const char *key;
	const char *str;
	int first, next;
	unsigned int count;
};

/**
 * struct hvr_json - a parsed document; node 0 is the top-level value
 * @nodes: every value, in document order
 * @n: how many
 * @cap: room in @nodes
 * @text: the decoded strings and numbers @nodes point into
 */
struct hvr_json {
	struct hvr_json_node *nodes;
	unsigned int n, cap;
	char *text;
};

/**
 * hvr_json_parse() - read a whole document
 * @s: the text; need not be NUL-terminated
 * @len: its length
 * @doc: filled on success; hvr_json_free() it
 * @err: optional; "line L, column C: ..." for the first error
 *
 * Return: 0, -EINVAL (not strict JSON), -EFBIG or -ENOMEM; @doc is empty
 * on failure.
 */
int hvr_json_parse(const char *s, size_t len, struct hvr_json *doc, struct hvr_error *err);

void hvr_json_free(struct hvr_json *doc);

/* An object's member by name, or NULL. */
const struct hvr_json_node *hvr_json_member(const struct hvr_json *doc,
					    const struct hvr_json_node *obj, const char *key);

/* The element after @node in its array or object, or NULL. */
const struct hvr_json_node *hvr_json_next(const struct hvr_json *doc,
					  const struct hvr_json_node *node);

/* An array's or object's first element, or NULL. */
const struct hvr_json_node *hvr_json_first(const struct hvr_json *doc,
					   const struct hvr_json_node *node);

/* "a string", "an object", ... for messages. */
const char *hvr_json_type_name(enum hvr_json_type type);

#endif /* HVR_JSON_H */
