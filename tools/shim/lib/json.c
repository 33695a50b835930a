// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The strict JSON reader (json.h): a recursive descent over RFC 8259's
 * grammar, into a flat node array.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct parser {
	const char *s;
	size_t len, pos;
	unsigned int line;
	size_t line_start;
	unsigned int depth;
	struct hvr_json *doc;
	size_t tlen;		/* bytes used in doc->text */
	struct hvr_error *err;
};

static int fail_at(struct parser *p, size_t pos, const char *fmt, ...) HVR_PRINTF(3, 4);

static int fail_at(struct parser *p, size_t pos, const char *fmt, ...)
{
	char msg[HVR_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Strings hold no newline, so the line of @pos is the parser's. */
	return hvr_fail(p->err, -EINVAL, "line %u, column %zu: %s", p->line,
			pos - p->line_start + 1, msg);
}

/* What is at @pos, for "expected X, found Y" messages. */
static const char *found(const struct parser *p, char *buf, size_t size)
{
	unsigned char c;

	if (p->pos >= p->len)
		return "the end of the text (truncated?)";
	c = (unsigned char)p->s[p->pos];
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, size, "'%c'", c);
	else
		snprintf(buf, size, "byte 0x%02x", c);
	return buf;
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];

		if (c == '\n') {
			p->line++;
			p->line_start = p->pos + 1;
		} else if (c != ' ' && c != '\t' && c != '\r') {
			return;
		}
		p->pos++;
	}
}

static int new_node(struct parser *p, enum hvr_json_type type, int *idx)
{
	struct hvr_json *d = p->doc;
	struct hvr_json_node *nd;

	if (d->n == d->cap) {
		unsigned int cap = d->cap ? d->cap * 2 : 64;

		nd = realloc(d->nodes, cap * sizeof(*nd));
		if (!nd)
			return hvr_fail(p->err, -ENOMEM, "out of memory");
		d->nodes = nd;
		d->cap = cap;
	}
	nd = &d->nodes[d->n];
	memset(nd, 0, sizeof(*nd));
	nd->type = type;
	nd->line = p->line;
	nd->col = (unsigned int)(p->pos - p->line_start + 1);
	nd->first = -1;
	nd->next = -1;
	*idx = (int)d->n++;
	return 0;
}

/*
 * The length of the well-formed UTF-8 sequence at @s (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or 0.
 */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (avail < n)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return n;
}

static int hex4(struct parser *p, size_t at, unsigned int *out)
{
	unsigned int v = 0, i;

	if (p->len - at < 4)
		return fail_at(p, at, "\\u needs four hex digits (truncated?)");
	for (i = 0; i < 4; i++) {
		char c = p->s[at + i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned int)(c - 'A' + 10);
		else
			return fail_at(p, at, "\\u needs four hex digits");
	}
	*out = v;
	return 0;
}

static void put_utf8(struct parser *p, unsigned int cp)
{
	char *o = p->doc->text + p->tlen;

	if (cp < 0x80) {
		o[0] = (char)cp;
		p->tlen += 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		p->tlen += 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		p->tlen += 3;
	} else {
		o[0] = (char)(0xf0 | cp >> 18);
		o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		p->tlen += 4;
	}
}

/*
 * A string starting at the '"' at p->pos, decoded into doc->text.  A decoded
 * string plus its NUL never outgrows the quoted text it came from (an
 * escape is at least as long as what it stands for), so doc->text, sized
 * to the input, never moves and the pointers into it stay valid.
 */
static int parse_string(struct parser *p, const char **out)
{
	size_t start = p->pos;
	char *t = p->doc->text + p->tlen;
	unsigned int cp, lo;
	int ret;

	p->pos++;
	for (;;) {
		unsigned char c;
		size_t n;

		if (p->pos >= p->len)
			return fail_at(p, start, "string not closed (truncated?)");
		c = (unsigned char)p->s[p->pos];
		if (c == '"')
			break;
		if (c < 0x20)
			return fail_at(p, p->pos, "control byte 0x%02x in a string (escape it)", c);
		if (c != '\\') {
			n = utf8_len((const unsigned char *)p->s + p->pos, p->len - p->pos);
			if (!n)
				return fail_at(p, p->pos, "not UTF-8 (byte 0x%02x)", c);
			memcpy(p->doc->text + p->tlen, p->s + p->pos, n);
			p->tlen += n;
			p->pos += n;
			continue;
		}
		if (++p->pos >= p->len)
			return fail_at(p, start, "string not closed (truncated?)");
		c = (unsigned char)p->s[p->pos++];
		switch (c) {
		case '"': case '\\': case '/':
			p->doc->text[p->tlen++] = (char)c;
			continue;
		case 'b':
			p->doc->text[p->tlen++] = '\b';
			continue;
		case 'f':
			p->doc->text[p->tlen++] = '\f';
			continue;
		case 'n':
			p->doc->text[p->tlen++] = '\n';
			continue;
		case 'r':
			p->doc->text[p->tlen++] = '\r';
			continue;
		case 't':
			p->doc->text[p->tlen++] = '\t';
			continue;
		case 'u':
			break;
		default:
			return fail_at(p, p->pos - 2, "unknown escape '\\%c'", c >= 0x20 && c < 0x7f ? c : '?');
		}
		ret = hex4(p, p->pos, &cp);
		if (ret)
			return ret;
		p->pos += 4;
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return fail_at(p, p->pos - 6, "\\u%04x is a low surrogate without a high one", cp);
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
				return fail_at(p, p->pos - 6, "\\u%04x is a high surrogate without a low one", cp);
			ret = hex4(p, p->pos + 2, &lo);
			if (ret)
				return ret;
			if (lo < 0xdc00 || lo > 0xdfff)
				return fail_at(p, p->pos - 6, "\\u%04x is a high surrogate without a low one", cp);
			p->pos += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		if (!cp)
			return fail_at(p, p->pos - 6, "\\u0000 in a string is not accepted");
		put_utf8(p, cp);
	}
	p->pos++;
	p->doc->text[p->tlen++] = '\0';
	*out = t;
	return 0;
}

static bool digit(const struct parser *p, size_t at)
{
	return at < p->len && p->s[at] >= '0' && p->s[at] <= '9';
}

static int parse_number(struct parser *p, int idx)
{
	size_t start = p->pos, i = p->pos;
	char *t = p->doc->text + p->tlen;

	if (i < p->len && p->s[i] == '-')
		i++;
	if (!digit(p, i))
		return fail_at(p, start, "a number needs a digit after '-'");
	if (p->s[i] == '0' && digit(p, i + 1))
		return fail_at(p, start, "a number has no leading zero");
	while (digit(p, i))
		i++;
	if (i < p->len && p->s[i] == '.') {
		if (!digit(p, ++i))
			return fail_at(p, start, "a number needs a digit after '.'");
		while (digit(p, i))
			i++;
	}
	if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
		i++;
		if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
			i++;
		if (!digit(p, i))
			return fail_at(p, start, "a number needs a digit in its exponent");
		while (digit(p, i))
			i++;
	}
	memcpy(t, p->s + start, i - start);
	t[i - start] = '\0';
	p->tlen += i - start + 1;
	p->doc->nodes[idx].str = t;
	p->pos = i;
	return 0;
}

static int parse_value(struct parser *p, int *out);

static int parse_container(struct parser *p, int idx, bool object)
{
	const char close = object ? '}' : ']';
	int last = -1, child, ret;
	char buf[16];

	if (++p->depth > HVR_JSON_MAX_DEPTH)
		return fail_at(p, p->pos, "nested deeper than %u", HVR_JSON_MAX_DEPTH);
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		p->depth--;
		return 0;
	}
	for (;;) {
		const char *key = NULL;

		skip_ws(p);
		if (object) {
			int m;

			if (p->doc->nodes[idx].count == HVR_JSON_MAX_MEMBERS)
				return fail_at(p, p->pos, "more than %u members in one object",
					       HVR_JSON_MAX_MEMBERS);
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return fail_at(p, p->pos, "expected a member name in quotes, found %s",
					       found(p, buf, sizeof(buf)));
			ret = parse_string(p, &key);
			if (ret)
				return ret;
			for (m = p->doc->nodes[idx].first; m >= 0; m = p->doc->nodes[m].next) {
				if (!strcmp(p->doc->nodes[m].key, key))
					return fail_at(p, p->pos - 1, "member \"%.64s\" given twice", key);
			}
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
				return fail_at(p, p->pos, "expected ':' after a member name, found %s",
					       found(p, buf, sizeof(buf)));
			p->pos++;
			skip_ws(p);
		}
		ret = parse_value(p, &child);
		if (ret)
			return ret;
		p->doc->nodes[child].key = key;
		if (last < 0)
			p->doc->nodes[idx].first = child;
		else
			p->doc->nodes[last].next = child;
		last = child;
		p->doc->nodes[idx].count++;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			skip_ws(p);
			if (p->pos < p->len && p->s[p->pos] == close)
				return fail_at(p, p->pos, "trailing comma before '%c'", close);
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close)
			break;
		return fail_at(p, p->pos, "expected ',' or '%c', found %s", close,
			       found(p, buf, sizeof(buf)));
	}
	p->pos++;
	p->depth--;
	return 0;
}

static int literal(struct parser *p, const char *word, enum hvr_json_type type, int *out)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n))
		return fail_at(p, p->pos, "not a JSON value (true, false, null, a number, a string, [ or {)");
	p->pos += n;
	return new_node(p, type, out);
}

static int parse_value(struct parser *p, int *out)
{
	char buf[16];
	int ret;

	if (p->pos >= p->len)
		return fail_at(p, p->pos, "expected a value, found %s", found(p, buf, sizeof(buf)));
	switch (p->s[p->pos]) {
	case '{':
	case '[':
		ret = new_node(p, p->s[p->pos] == '{' ? HVR_JSON_OBJECT : HVR_JSON_ARRAY, out);
		return ret ? ret : parse_container(p, *out, p->s[p->pos] == '{');
	case '"':
		ret = new_node(p, HVR_JSON_STRING, out);
		return ret ? ret : parse_string(p, &p->doc->nodes[*out].str);
	case 't':
		return literal(p, "true", HVR_JSON_TRUE, out);
	case 'f':
		return literal(p, "false", HVR_JSON_FALSE, out);
	case 'n':
		return literal(p, "null", HVR_JSON_NULL, out);
	default:
		if (p->s[p->pos] == '-' || digit(p, p->pos)) {
			ret = new_node(p, HVR_JSON_NUMBER, out);
			return ret ? ret : parse_number(p, *out);
		}
		return fail_at(p, p->pos, "expected a value, found %s", found(p, buf, sizeof(buf)));
	}
}

int hvr_json_parse(const char *s, size_t len, struct hvr_json *doc, struct hvr_error *err)
{
	struct parser p = { .s = s, .len = len, .line = 1, .doc = doc, .err = err };
	char buf[16];
	int top, ret;

	memset(doc, 0, sizeof(*doc));
	if (len > HVR_JSON_MAX_BYTES)
		return hvr_fail(err, -EFBIG, "larger than %u bytes", HVR_JSON_MAX_BYTES);
	if (len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
		return hvr_fail(err, -EINVAL, "line 1, column 1: a byte order mark (RFC 8259 forbids one)");
	doc->text = malloc(len + 1);
	if (!doc->text)
		return hvr_fail(err, -ENOMEM, "out of memory");
	skip_ws(&p);
	if (p.pos == len) {
		ret = hvr_fail(err, -EINVAL, "no JSON value: the text is empty");
		goto out;
	}
	ret = parse_value(&p, &top);
	if (ret)
		goto out;
	skip_ws(&p);
	if (p.pos < len)
		ret = fail_at(&p, p.pos, "%s after the JSON value", found(&p, buf, sizeof(buf)));
out:
	if (ret)
		hvr_json_free(doc);
	return ret;
}

void hvr_json_free(struct hvr_json *doc)
{
	free(doc->nodes);
	free(doc->text);
	memset(doc, 0, sizeof(*doc));
}

const struct hvr_json_node *hvr_json_first(const struct hvr_json *doc,
					   const struct hvr_json_node *node)
{
	return node->first >= 0 ? &doc->nodes[node->first] : NULL;
}

const struct hvr_json_node *hvr_json_next(const struct hvr_json *doc,
					  const struct hvr_json_node *node)
{
	return node->next >= 0 ? &doc->nodes[node->next] : NULL;
}

const struct hvr_json_node *hvr_json_member(const struct hvr_json *doc,
					    const struct hvr_json_node *obj, const char *key)
{
	const struct hvr_json_node *m;

	if (obj->type != HVR_JSON_OBJECT)
		return NULL;
	for (m = hvr_json_first(doc, obj); m; m = hvr_json_next(doc, m)) {
		if (!strcmp(m->key, key))
			return m;
	}
	return NULL;
}

const char *hvr_json_type_name(enum hvr_json_type type)
{
	static const char *const names[] = {
		[HVR_JSON_NULL] = "null",
		[HVR_JSON_FALSE] = "false",
		[HVR_JSON_TRUE] = "true",
		[HVR_JSON_NUMBER] = "a number",
		[HVR_JSON_STRING] = "a string",
		[HVR_JSON_ARRAY] = "an array",
		[HVR_JSON_OBJECT] = "an object",
	};

	return (unsigned int)type < ARRAY_SIZE(names) ? names[type] : "?";
}
