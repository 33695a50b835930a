// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the strict JSON reader (lib/json.c).  What is and is not
 * JSON comes from RFC 8259's grammar, written out here case by case; the
 * fuzzing at the end feeds it every cut and random damage of a valid
 * document and wants a clean answer each time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "unit.h"

static void test_json_good(void)
{
	static const struct {
		const char *text;
		enum hvr_json_type type;
		const char *str;	/* a string's decoded text, a number's as written */
	} good[] = {
		{ "null", HVR_JSON_NULL, NULL },
		{ " \t\r\n true \n", HVR_JSON_TRUE, NULL },
		{ "false", HVR_JSON_FALSE, NULL },
		{ "0", HVR_JSON_NUMBER, "0" },
		{ "-0", HVR_JSON_NUMBER, "-0" },
		{ "12345678901234567890", HVR_JSON_NUMBER, "12345678901234567890" },
		{ "-1.5e+10", HVR_JSON_NUMBER, "-1.5e+10" },
		{ "2E-3", HVR_JSON_NUMBER, "2E-3" },
		{ "\"\"", HVR_JSON_STRING, "" },
		{ "\"a\\\"b\\\\c\\/d\"", HVR_JSON_STRING, "a\"b\\c/d" },
		{ "\"\\b\\f\\n\\r\\t\"", HVR_JSON_STRING, "\b\f\n\r\t" },
		/* U+00E9, U+20AC and U+1F600 (a surrogate pair), escaped and raw */
		{ "\"\\u00e9\\u20AC\\ud83d\\ude00\"", HVR_JSON_STRING, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" },
		{ "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", HVR_JSON_STRING, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" },
		{ "[]", HVR_JSON_ARRAY, NULL },
		{ "{}", HVR_JSON_OBJECT, NULL },
		{ "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", HVR_JSON_ARRAY, NULL },
	};
	struct hvr_json doc;
	struct hvr_error err;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		if (hvr_json_parse(good[i].text, strlen(good[i].text), &doc, &err)) {
			note("'%s': %s", good[i].text, err.msg);
			continue;
		}
		if (doc.nodes[0].type != good[i].type)
			note("'%s': type %d, want %d", good[i].text, doc.nodes[0].type, good[i].type);
		else if (good[i].str && strcmp(doc.nodes[0].str, good[i].str))
			note("'%s': \"%s\", want \"%s\"", good[i].text, doc.nodes[0].str, good[i].str);
		hvr_json_free(&doc);
	}
	report("json/rfc8259-values");
}

static void test_json_tree(void)
{
	static const char text[] = "{ \"a\": [1, \"x\", {\"b\": null}],\n  \"c\": {} }";
	const struct hvr_json_node *a, *e, *c;
	struct hvr_json doc;
	struct hvr_error err;

	if (hvr_json_parse(text, strlen(text), &doc, &err)) {
		note("%s", err.msg);
		report("json/tree");
		return;
	}
	EXPECT(doc.nodes[0].count == 2);
	a = hvr_json_member(&doc, &doc.nodes[0], "a");
	c = hvr_json_member(&doc, &doc.nodes[0], "c");
	EXPECT(a && a->type == HVR_JSON_ARRAY && a->count == 3);
	EXPECT(c && c->type == HVR_JSON_OBJECT && c->count == 0 && c->line == 2 && c->col == 8);
	EXPECT(!hvr_json_member(&doc, &doc.nodes[0], "b"));
	if (a) {
		e = hvr_json_first(&doc, a);
		EXPECT(e && e->type == HVR_JSON_NUMBER && !strcmp(e->str, "1") && !e->key);
		e = e ? hvr_json_next(&doc, e) : NULL;
		EXPECT(e && e->type == HVR_JSON_STRING && !strcmp(e->str, "x"));
		e = e ? hvr_json_next(&doc, e) : NULL;
		EXPECT(e && e->type == HVR_JSON_OBJECT && hvr_json_member(&doc, e, "b") &&
		       hvr_json_member(&doc, e, "b")->type == HVR_JSON_NULL);
		EXPECT(e && !hvr_json_next(&doc, e));
	}
	hvr_json_free(&doc);
	report("json/tree");
}

static void test_json_bad(void)
{
	static const struct {
		const char *name, *text, *msg;
	} bad[] = {
		{ "empty", "", "no JSON value: the text is empty" },
		{ "blank", " \n ", "no JSON value: the text is empty" },
		{ "bom", "\xef\xbb\xbf{}", "line 1, column 1: a byte order mark (RFC 8259 forbids one)" },
		{ "comment", "{} // no", "line 1, column 4: '/' after the JSON value" },
		{ "two-values", "{} {}", "line 1, column 4: '{' after the JSON value" },
		{ "trailing-comma-array", "[1,]", "line 1, column 4: trailing comma before ']'" },
		{ "trailing-comma-object", "{\"a\":1,\n}", "line 2, column 1: trailing comma before '}'" },
		{ "single-quotes", "{'a':1}", "line 1, column 2: expected a member name in quotes, found '''" },
		{ "bare-key", "{a:1}", "line 1, column 2: expected a member name in quotes, found 'a'" },
		{ "no-colon", "{\"a\" 1}", "line 1, column 6: expected ':' after a member name, found '1'" },
		{ "duplicate", "{\"a\":1,\"a\":2}", "line 1, column 10: member \"a\" given twice" },
		{ "missing-comma", "[1 2]", "line 1, column 4: expected ',' or ']', found '2'" },
		{ "truncated-object", "{\"a\":", "line 1, column 6: expected a value, found the end of the text (truncated?)" },
		{ "truncated-array", "[1,", "line 1, column 4: expected a value, found the end of the text (truncated?)" },
		{ "truncated-close", "[1", "line 1, column 3: expected ',' or ']', found the end of the text (truncated?)" },
		{ "truncated-string", "\"abc", "line 1, column 1: string not closed (truncated?)" },
		{ "truncated-escape", "\"a\\", "line 1, column 1: string not closed (truncated?)" },
		{ "truncated-u", "\"\\u12", "line 1, column 4: \\u needs four hex digits (truncated?)" },
		{ "truncated-literal", "tru", "line 1, column 1: not a JSON value (true, false, null, a number, a string, [ or {)" },
		{ "capital-true", "True", "line 1, column 1: expected a value, found 'T'" },
		{ "nan", "NaN", "line 1, column 1: expected a value, found 'N'" },
		{ "plus", "+1", "line 1, column 1: expected a value, found '+'" },
		{ "leading-zero", "01", "line 1, column 1: a number has no leading zero" },
		{ "hex-number", "0x10", "line 1, column 2: 'x' after the JSON value" },
		{ "dot-first", ".5", "line 1, column 1: expected a value, found '.'" },
		{ "dot-last", "5.", "line 1, column 1: a number needs a digit after '.'" },
		{ "bare-minus", "-", "line 1, column 1: a number needs a digit after '-'" },
		{ "bare-exponent", "1e", "line 1, column 1: a number needs a digit in its exponent" },
		{ "control-in-string", "\"a\tb\"", "line 1, column 3: control byte 0x09 in a string (escape it)" },
		{ "newline-in-string", "\"a\nb\"", "line 1, column 3: control byte 0x0a in a string (escape it)" },
		{ "bad-escape", "\"\\x41\"", "line 1, column 2: unknown escape '\\x'" },
		{ "bad-hex", "\"\\u12g4\"", "line 1, column 4: \\u needs four hex digits" },
		{ "nul-escape", "\"a\\u0000\"", "line 1, column 3: \\u0000 in a string is not accepted" },
		{ "lone-high", "\"\\ud83d\"", "line 1, column 2: \\ud83d is a high surrogate without a low one" },
		{ "lone-low", "\"\\ude00\"", "line 1, column 2: \\ude00 is a low surrogate without a high one" },
		{ "high-high", "\"\\ud83d\\ud83d\"", "line 1, column 2: \\ud83d is a high surrogate without a low one" },
		{ "latin1", "\"caf\xe9\"", "line 1, column 5: not UTF-8 (byte 0xe9)" },
		{ "overlong", "\"\xc0\xaf\"", "line 1, column 2: not UTF-8 (byte 0xc0)" },
		{ "utf8-surrogate", "\"\xed\xa0\x80\"", "line 1, column 2: not UTF-8 (byte 0xed)" },
		{ "past-10ffff", "\"\xf4\x90\x80\x80\"", "line 1, column 2: not UTF-8 (byte 0xf4)" },
		{ "cut-utf8", "\"\xe2\x82\"", "line 1, column 2: not UTF-8 (byte 0xe2)" },
		{ "nul-byte", "[1,\0]", "line 1, column 4: expected a value, found byte 0x00" },
		{ "too-deep", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
		  "line 1, column 33: nested deeper than 32" },
	};
	struct hvr_json doc;
	struct hvr_error err;
	unsigned int i;
	size_t len;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		/* "nul-byte" has a NUL inside: its length is the literal's. */
		len = !strcmp(bad[i].name, "nul-byte") ? 5 : strlen(bad[i].text);
		memset(&err, 0, sizeof(err));
		if (hvr_json_parse(bad[i].text, len, &doc, &err) != -EINVAL) {
			note("%s: accepted", bad[i].name);
			hvr_json_free(&doc);
		} else if (strcmp(err.msg, bad[i].msg)) {
			note("%s: \"%s\", want \"%s\"", bad[i].name, err.msg, bad[i].msg);
		} else if (doc.nodes || doc.text) {
			note("%s: the document was not emptied", bad[i].name);
		}
	}
	report("json/malformed");
}

static void test_json_limits(void)
{
	size_t big = HVR_JSON_MAX_BYTES + 1, i;
	struct hvr_json doc;
	struct hvr_error err;
	char *s = malloc(big), *m;
	size_t o = 0;

	EXPECT(s != NULL);
	if (s) {
		memset(s, ' ', big);
		s[0] = '0';
		EXPECT(hvr_json_parse(s, big, &doc, &err) == -EFBIG);
		EXPECT(!strcmp(err.msg, "larger than 4194304 bytes"));
		free(s);
	}
	/* One member past the limit: the duplicate check must stay cheap. */
	m = malloc(16 * (HVR_JSON_MAX_MEMBERS + 2));
	if (m) {
		m[o++] = '{';
		for (i = 0; i <= HVR_JSON_MAX_MEMBERS; i++)
			o += (size_t)sprintf(m + o, "%s\"%zu\":0", i ? "," : "", i);
		m[o++] = '}';
		EXPECT(hvr_json_parse(m, o, &doc, &err) == -EINVAL);
		EXPECT(strstr(err.msg, "more than 1024 members in one object") != NULL);
		free(m);
	}
	report("json/limits");
}

/*
 * Every proper prefix of an object is cut short, so each must fail (and
 * none may read past its end: the copy has no terminator to stop at), and
 * damaging a byte must give either a document or -EINVAL with a located
 * message, never anything else.
 */
static void test_json_fuzz(void)
{
	static const char text[] =
		"{\n  \"format\": \"kvm-hv-relay cpu profile\",\n  \"version\": 1,\n"
		"  \"vendor\": \"AuthenticAMD\", \"comment\": \"caf\\u00e9 \xe2\x82\xac \\ud83d\\ude00\",\n"
		"  \"cpuid\": [ { \"function\": \"0x00000000\", \"index\": 0, \"eax\": \"0xd\" } ],\n"
		"  \"msrs\": [ { \"index\": \"0x10a\", \"value\": \"0x2000000\" }, -1.5e3, true, null ]\n}\n";
	static const char noise[] = "{}[],:\"\\0123456789.eE+-tfnu \t\n\x01\x7f\x80\xc3\xed\xf4\xff";
	size_t len = strlen(text), cut, i;
	unsigned int seed = 17, bad_cut = 0, odd = 0, round;
	struct hvr_json doc;
	struct hvr_error err;
	char *copy;
	int ret;

	for (cut = 0; cut < len; cut++) {
		copy = malloc(cut ? cut : 1);
		if (!copy)
			break;
		memcpy(copy, text, cut);
		ret = hvr_json_parse(copy, cut, &doc, &err);
		/* Only the trailing newline may be cut without harm. */
		if (cut >= len - 1 ? ret != 0 : ret != -EINVAL)
			bad_cut++;
		if (!ret)
			hvr_json_free(&doc);
		free(copy);
	}
	EXPECT(bad_cut == 0);
	ret = hvr_json_parse(text, len, &doc, &err);
	EXPECT(ret == 0);
	if (!ret)
		hvr_json_free(&doc);
	report("json/fuzz-truncated");

	copy = malloc(len);
	for (round = 0; copy && round < 20000; round++) {
		memcpy(copy, text, len);
		for (i = 0; i < 1 + round % 3; i++) {
			seed = seed * 1103515245u + 12345u;
			copy[(seed >> 8) % len] = noise[(seed >> 20) % (sizeof(noise) - 1)];
		}
		memset(&err, 0, sizeof(err));
		ret = hvr_json_parse(copy, len, &doc, &err);
		if (!ret)
			hvr_json_free(&doc);
		else if (ret != -EINVAL || strncmp(err.msg, "line ", 5))
			odd++;
	}
	free(copy);
	EXPECT(odd == 0);
	report("json/fuzz-damaged");
}

void test_json(void)
{
	test_json_good();
	test_json_tree();
	test_json_bad();
	test_json_limits();
	test_json_fuzz();
}
