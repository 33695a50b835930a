// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * CPU profiles as data: capturing one from KVM, and reading and writing the
 * JSON file format.  What a profile means for a host (check, baseline) is
 * profile_rules.c's business.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>

#include "json.h"
#include "profile.h"

#define FORMAT_NAME		"kvm-hv-relay cpu profile"
/* KVM_X86_SET_MSR_FILTER never applies to these: KVM always allows them. */
#define X2APIC_MSR_FIRST	0x800u
#define X2APIC_MSR_LAST		0x8ffu

static int cmp_cpuid(const void *a, const void *b)
{
	const struct kvm_cpuid_entry2 *x = a, *y = b;

	if (x->function != y->function)
		return x->function < y->function ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int cmp_msr(const void *a, const void *b)
{
	const struct hvr_msr *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

void hvr_profile_sort(struct hvr_cpu_profile *p)
{
	qsort(p->cpuid, p->ncpuid, sizeof(p->cpuid[0]), cmp_cpuid);
	qsort(p->msrs, p->nmsrs, sizeof(p->msrs[0]), cmp_msr);
}

const struct kvm_cpuid_entry2 *hvr_profile_leaf(const struct hvr_cpu_profile *p,
						uint32_t function, uint32_t index)
{
	unsigned int i;

	for (i = 0; i < p->ncpuid; i++) {
		if (p->cpuid[i].function == function && p->cpuid[i].index == index)
			return &p->cpuid[i];
	}
	return NULL;
}

const struct hvr_msr *hvr_profile_msr(const struct hvr_cpu_profile *p, uint32_t index)
{
	unsigned int i;

	for (i = 0; i < p->nmsrs; i++) {
		if (p->msrs[i].index == index)
			return &p->msrs[i];
	}
	return NULL;
}

bool hvr_msr_filterable(uint32_t index)
{
	return index < X2APIC_MSR_FIRST || index > X2APIC_MSR_LAST;
}

static void vendor_of(const struct kvm_cpuid_entry2 *leaf0, char v[16])
{
	memset(v, 0, 16);
	memcpy(v, &leaf0->ebx, 4);
	memcpy(v + 4, &leaf0->edx, 4);
	memcpy(v + 8, &leaf0->ecx, 4);
}

/* ------------------------------------------------------------- capture */

static int capture_msrs(int fd, struct hvr_cpu_profile *p, struct hvr_error *err)
{
	struct {
		struct kvm_msr_list h;
		__u32 idx[HVR_PROFILE_MAX_MSRS];
	} list;
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[HVR_PROFILE_MAX_MSRS];
	} m;
	unsigned int i, start, n;
	int r;

	r = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_GET_MSR_FEATURES);
	if (r <= 0)
		return hvr_fail(err, r < 0 ? -errno : -EOPNOTSUPP,
				"KVM_CAP_GET_MSR_FEATURES: this KVM does not report feature MSRs (Linux 4.17 or later does)");
	memset(&list, 0, sizeof(list));
	list.h.nmsrs = HVR_PROFILE_MAX_MSRS;
	if (ioctl(fd, KVM_GET_MSR_FEATURE_INDEX_LIST, &list) < 0) {
		if (errno == E2BIG)
			return hvr_fail(err, -E2BIG, "KVM_GET_MSR_FEATURE_INDEX_LIST: more than %u MSRs",
					HVR_PROFILE_MAX_MSRS);
		return hvr_fail(err, -errno, "KVM_GET_MSR_FEATURE_INDEX_LIST: %s", strerror(errno));
	}
	n = list.h.nmsrs;
	/*
	 * KVM_GET_MSRS stops at the first MSR it declines (an emulated one
	 * the vendor module does not back, say) and returns how many it read
	 * before it: skip that one and go on, so one refusal costs one MSR.
	 */
	for (start = 0; start < n; start += (unsigned int)r + 1) {
		memset(&m, 0, sizeof(m));
		m.h.nmsrs = n - start;
		for (i = 0; i < n - start; i++)
			m.e[i].index = list.idx[start + i];
		r = ioctl(fd, KVM_GET_MSRS, &m);
		if (r < 0)
			return hvr_fail(err, -errno, "KVM_GET_MSRS on /dev/kvm: %s", strerror(errno));
		for (i = 0; i < (unsigned int)r && i < n - start; i++) {
			if (!hvr_msr_filterable(m.e[i].index))
				continue;
			p->msrs[p->nmsrs].index = m.e[i].index;
			p->msrs[p->nmsrs].value = m.e[i].data;
			p->nmsrs++;
		}
	}
	return 0;
}

int hvr_profile_capture(int kvm_fd, struct hvr_cpu_profile *p, struct hvr_error *err)
{
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[HVR_PROFILE_MAX_CPUID];
	} c;
	const struct kvm_cpuid_entry2 *leaf0;
	struct utsname u;
	int ret;

	memset(p, 0, sizeof(*p));
	memset(&c, 0, sizeof(c));
	c.h.nent = HVR_PROFILE_MAX_CPUID;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, &c) < 0) {
		if (errno == E2BIG)
			return hvr_fail(err, -E2BIG, "KVM_GET_SUPPORTED_CPUID: more than %u entries",
					HVR_PROFILE_MAX_CPUID);
		return hvr_fail(err, -errno, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
	}
	p->version = HVR_PROFILE_VERSION;
	p->ncpuid = c.h.nent;
	memcpy(p->cpuid, c.e, c.h.nent * sizeof(c.e[0]));
	ret = capture_msrs(kvm_fd, p, err);
	if (ret)
		return ret;
	hvr_profile_sort(p);
	leaf0 = hvr_profile_leaf(p, 0, 0);
	if (!leaf0)
		return hvr_fail(err, -EINVAL, "KVM_GET_SUPPORTED_CPUID returned no leaf 0");
	vendor_of(leaf0, p->vendor);
	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "(unknown)");
	snprintf(p->comment, sizeof(p->comment),
		 "KVM_GET_SUPPORTED_CPUID and KVM_GET_MSRS on /dev/kvm, Linux %s", u.release);
	return 0;
}

/* ----------------------------------------------------------------- parse */

struct reader {
	const struct hvr_json *doc;
	struct hvr_error *err;
};

static int bad(struct reader *r, const struct hvr_json_node *at, const char *path,
	       const char *fmt, ...) HVR_PRINTF(4, 5);

static int bad(struct reader *r, const struct hvr_json_node *at, const char *path,
	       const char *fmt, ...)
{
	char msg[HVR_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return hvr_fail(r->err, -EINVAL, "line %u, column %u: %s: %s", at->line, at->col, path, msg);
}

/* Exactly the fields named in @known, each of them there unless optional. */
static int fields(struct reader *r, const struct hvr_json_node *obj, const char *path,
		  const char *const *known, unsigned int optional)
{
	const struct hvr_json_node *m;
	char shown[64];
	unsigned int i;

	if (obj->type != HVR_JSON_OBJECT)
		return bad(r, obj, path, "expected an object, found %s", hvr_json_type_name(obj->type));
	for (m = hvr_json_first(r->doc, obj); m; m = hvr_json_next(r->doc, m)) {
		for (i = 0; known[i] && strcmp(known[i], m->key); i++)
			;
		if (!known[i])
			return bad(r, m, path, "unknown field \"%s\"",
				   hvr_printable(m->key, strlen(m->key), shown, sizeof(shown)));
	}
	for (i = 0; known[i]; i++) {
		if (!(optional & 1u << i) && !hvr_json_member(r->doc, obj, known[i]))
			return bad(r, obj, path, "no \"%s\" field", known[i]);
	}
	return 0;
}

/* "0x" and 1 to @digits hex digits: how the format writes registers and MSRs. */
static int hex_field(struct reader *r, const struct hvr_json_node *obj, const char *path,
		     const char *key, unsigned int digits, uint64_t *out)
{
	const struct hvr_json_node *v = hvr_json_member(r->doc, obj, key);
	char where[96];
	size_t len;
	uint64_t x = 0;
	unsigned int i;

	snprintf(where, sizeof(where), "%s.%s", path, key);
	if (v->type != HVR_JSON_STRING)
		return bad(r, v, where, "expected a hex string, found %s", hvr_json_type_name(v->type));
	len = strlen(v->str);
	if (len < 3 || len > 2 + digits || v->str[0] != '0' || v->str[1] != 'x')
		return bad(r, v, where, "expected \"0x\" and 1 to %u hex digits", digits);
	for (i = 2; i < len; i++) {
		char c = v->str[i];

		x <<= 4;
		if (c >= '0' && c <= '9')
			x |= (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			x |= (uint64_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			x |= (uint64_t)(c - 'A' + 10);
		else
			return bad(r, v, where, "expected \"0x\" and 1 to %u hex digits", digits);
	}
	*out = x;
	return 0;
}

/* A JSON number that is a whole number from 0 to @max, written plainly. */
static int uint_field(struct reader *r, const struct hvr_json_node *obj, const char *path,
		      const char *key, uint64_t max, uint64_t *out)
{
	const struct hvr_json_node *v = hvr_json_member(r->doc, obj, key);
	char where[96];

	snprintf(where, sizeof(where), "%s.%s", path, key);
	if (v->type != HVR_JSON_NUMBER)
		return bad(r, v, where, "expected a number, found %s", hvr_json_type_name(v->type));
	if (hvr_parse_u64(v->str, strlen(v->str), out) || (v->str[0] == '0' && v->str[1]) ||
	    *out > max)
		return bad(r, v, where, "expected a whole number from 0 to %llu", (unsigned long long)max);
	return 0;
}

static int string_field(struct reader *r, const struct hvr_json_node *obj, const char *key,
			const struct hvr_json_node **out)
{
	const struct hvr_json_node *v = hvr_json_member(r->doc, obj, key);

	if (v && v->type != HVR_JSON_STRING)
		return bad(r, v, key, "expected a string, found %s", hvr_json_type_name(v->type));
	*out = v;
	return 0;
}

/* @arr is the array member @name, of at most @max entries. */
static int check_array(struct reader *r, const struct hvr_json_node *arr, const char *name,
		       unsigned int max)
{
	if (arr->type != HVR_JSON_ARRAY)
		return bad(r, arr, name, "expected an array, found %s", hvr_json_type_name(arr->type));
	if (arr->count > max)
		return hvr_fail(r->err, -E2BIG, "line %u, column %u: %s: %u entries, at most %u",
				arr->line, arr->col, name, arr->count, max);
	return 0;
}

static int read_cpuid(struct reader *r, const struct hvr_json_node *arr, struct hvr_cpu_profile *p)
{
	static const char *const known[] = {
		"function", "index", "flags", "eax", "ebx", "ecx", "edx", NULL
	};
	static const char *const regs[] = { "eax", "ebx", "ecx", "edx" };
	const struct hvr_json_node *e;
	unsigned int i, j;
	char path[32];
	uint64_t v;
	int ret;

	ret = check_array(r, arr, "cpuid", HVR_PROFILE_MAX_CPUID);
	if (ret)
		return ret;
	for (e = hvr_json_first(r->doc, arr), i = 0; e; e = hvr_json_next(r->doc, e), i++) {
		struct kvm_cpuid_entry2 *c = &p->cpuid[i];

		snprintf(path, sizeof(path), "cpuid[%u]", i);
		ret = fields(r, e, path, known, 0);
		if (ret)
			return ret;
		if ((ret = hex_field(r, e, path, "function", 8, &v)))
			return ret;
		c->function = (uint32_t)v;
		if ((ret = uint_field(r, e, path, "index", UINT32_MAX, &v)))
			return ret;
		c->index = (uint32_t)v;
		if ((ret = uint_field(r, e, path, "flags", UINT32_MAX, &v)))
			return ret;
		c->flags = (uint32_t)v;
		for (j = 0; j < 4; j++) {
			if ((ret = hex_field(r, e, path, regs[j], 8, &v)))
				return ret;
			hvr_reg_set(c, j, (uint32_t)v);
		}
		for (j = 0; j < i; j++) {
			if (p->cpuid[j].function == c->function && p->cpuid[j].index == c->index)
				return bad(r, e, path, "leaf 0x%08x index %u is already cpuid[%u]",
					   c->function, c->index, j);
		}
	}
	p->ncpuid = i;
	return 0;
}

static int read_msrs(struct reader *r, const struct hvr_json_node *arr, struct hvr_cpu_profile *p)
{
	static const char *const known[] = { "index", "value", NULL };
	const struct hvr_json_node *e;
	unsigned int i, j;
	char path[32];
	uint64_t v;
	int ret;

	ret = check_array(r, arr, "msrs", HVR_PROFILE_MAX_MSRS);
	if (ret)
		return ret;
	for (e = hvr_json_first(r->doc, arr), i = 0; e; e = hvr_json_next(r->doc, e), i++) {
		struct hvr_msr *m = &p->msrs[i];

		snprintf(path, sizeof(path), "msrs[%u]", i);
		ret = fields(r, e, path, known, 0);
		if (ret)
			return ret;
		if ((ret = hex_field(r, e, path, "index", 8, &v)))
			return ret;
		m->index = (uint32_t)v;
		if ((ret = hex_field(r, e, path, "value", 16, &m->value)))
			return ret;
		/*
		 * A VMM applying the profile permits its MSRs through
		 * KVM_X86_SET_MSR_FILTER; KVM always allows the x2APIC range,
		 * whatever the filter says, so a profile cannot promise
		 * anything about those.
		 */
		if (!hvr_msr_filterable(m->index))
			return bad(r, e, path,
				   "MSR 0x%x is in the x2APIC range 0x800-0x8ff, which KVM_X86_SET_MSR_FILTER cannot filter",
				   m->index);
		for (j = 0; j < i; j++) {
			if (p->msrs[j].index == m->index)
				return bad(r, e, path, "MSR 0x%x is already msrs[%u]", m->index, j);
		}
	}
	p->nmsrs = i;
	return 0;
}

static int read_profile(struct reader *r, struct hvr_cpu_profile *p)
{
	static const char *const known[] = {
		"format", "version", "vendor", "comment", "cpuid", "msrs", NULL
	};
	const struct hvr_json_node *top = &r->doc->nodes[0], *f, *vendor, *comment;
	const struct kvm_cpuid_entry2 *leaf0;
	char shown[64], v0[16];
	uint64_t version;
	int ret;

	if (top->type != HVR_JSON_OBJECT)
		return bad(r, top, "profile", "expected an object, found %s",
			   hvr_json_type_name(top->type));
	/* The format first: a file that is no profile gets that said, not a missing field. */
	ret = string_field(r, top, "format", &f);
	if (ret)
		return ret;
	if (!f || strcmp(f->str, FORMAT_NAME))
		return bad(r, f ? f : top, "format", "not a CPU profile (want \"format\": \"%s\")",
			   FORMAT_NAME);
	ret = fields(r, top, "profile", known, 1u << 3);
	if (ret)
		return ret;
	ret = uint_field(r, top, "profile", "version", UINT32_MAX, &version);
	if (ret)
		return ret;
	if (version != HVR_PROFILE_VERSION)
		return bad(r, hvr_json_member(r->doc, top, "version"), "version",
			   "profile version %llu; this library reads version %u",
			   (unsigned long long)version, HVR_PROFILE_VERSION);
	p->version = (uint32_t)version;
	if ((ret = string_field(r, top, "vendor", &vendor)) ||
	    (ret = string_field(r, top, "comment", &comment)))
		return ret;
	if (strlen(vendor->str) != 12)
		return bad(r, vendor, "vendor", "\"%s\" is not a 12-character CPUID vendor",
			   hvr_printable(vendor->str, strlen(vendor->str), shown, sizeof(shown)));
	memcpy(p->vendor, vendor->str, 12);
	if (comment) {
		if (strlen(comment->str) >= sizeof(p->comment))
			return bad(r, comment, "comment", "longer than %zu bytes", sizeof(p->comment) - 1);
		memcpy(p->comment, comment->str, strlen(comment->str));
	}
	ret = read_cpuid(r, hvr_json_member(r->doc, top, "cpuid"), p);
	if (ret)
		return ret;
	ret = read_msrs(r, hvr_json_member(r->doc, top, "msrs"), p);
	if (ret)
		return ret;
	hvr_profile_sort(p);
	/* Check and baseline compare vendors by this field; it must not lie. */
	leaf0 = hvr_profile_leaf(p, 0, 0);
	if (!leaf0)
		return bad(r, hvr_json_member(r->doc, top, "cpuid"), "cpuid", "no leaf 0x00000000 index 0");
	vendor_of(leaf0, v0);
	if (strcmp(v0, p->vendor))
		return bad(r, vendor, "vendor", "\"%s\", but cpuid leaf 0 says \"%s\"", p->vendor,
			   hvr_printable(v0, strlen(v0), shown, sizeof(shown)));
	return 0;
}

int hvr_profile_parse(const char *text, size_t len, struct hvr_cpu_profile *p,
		      struct hvr_error *err)
{
	struct hvr_json doc;
	struct reader r = { .doc = &doc, .err = err };
	int ret;

	memset(p, 0, sizeof(*p));
	ret = hvr_json_parse(text, len, &doc, err);
	if (ret)
		return ret;
	ret = read_profile(&r, p);
	hvr_json_free(&doc);
	if (ret)
		memset(p, 0, sizeof(*p));
	return ret;
}

int hvr_profile_load(const char *path, struct hvr_cpu_profile *p, struct hvr_error *err)
{
	char shown[HVR_ERR_MSG_MAX / 2], msg[HVR_ERR_MSG_MAX];
	size_t n = 0, cap = 65536;
	char *buf = malloc(cap);
	FILE *f;
	int ret;

	hvr_printable(path, strlen(path), shown, sizeof(shown));
	if (!buf)
		return hvr_fail(err, -ENOMEM, "%s: out of memory", shown);
	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		free(buf);
		return hvr_fail(err, ret, "%s: %s", shown, strerror(-ret));
	}
	for (;;) {
		n += fread(buf + n, 1, cap - n, f);
		if (ferror(f) || feof(f) || n > HVR_JSON_MAX_BYTES)
			break;
		if (n == cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
	}
	if (ferror(f))
		ret = hvr_fail(err, -EIO, "%s: read error", shown);
	else if (!feof(f) && n <= HVR_JSON_MAX_BYTES)
		ret = hvr_fail(err, -ENOMEM, "%s: out of memory", shown);
	else
		ret = hvr_profile_parse(buf, n, p, err);
	fclose(f);
	free(buf);
	if (ret && err && strncmp(err->msg, shown, strlen(shown))) {
		memcpy(msg, err->msg, sizeof(msg));
		hvr_fail(err, ret, "%s: %s", shown, msg);
	}
	return ret;
}

/* ---------------------------------------------------------------- format */

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, const char *fmt, ...) HVR_PRINTF(2, 3);

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->len < o->size ? o->buf + o->len : NULL,
		      o->len < o->size ? o->size - o->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static void put_string(struct out *o, const char *s)
{
	put(o, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			put(o, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			put(o, "\\u%04x", c);
		else
			put(o, "%c", c);
	}
	put(o, "\"");
}

int hvr_profile_format(const struct hvr_cpu_profile *p, char *buf, size_t size)
{
	struct out o = { .buf = buf, .size = size };
	unsigned int i;

	if (size)
		buf[0] = '\0';
	put(&o, "{\n  \"format\": \"%s\",\n  \"version\": %u,\n  \"vendor\": ", FORMAT_NAME,
	    p->version);
	put_string(&o, p->vendor);
	put(&o, ",\n  \"comment\": ");
	put_string(&o, p->comment);
	put(&o, ",\n  \"cpuid\": [");
	for (i = 0; i < p->ncpuid; i++) {
		const struct kvm_cpuid_entry2 *c = &p->cpuid[i];

		put(&o, "%s\n    { \"function\": \"0x%08x\", \"index\": %u, \"flags\": %u, "
		    "\"eax\": \"0x%08x\", \"ebx\": \"0x%08x\", \"ecx\": \"0x%08x\", \"edx\": \"0x%08x\" }",
		    i ? "," : "", c->function, c->index, c->flags, c->eax, c->ebx, c->ecx, c->edx);
	}
	put(&o, "\n  ],\n  \"msrs\": [");
	for (i = 0; i < p->nmsrs; i++)
		put(&o, "%s\n    { \"index\": \"0x%08x\", \"value\": \"0x%016llx\" }", i ? "," : "",
		    p->msrs[i].index, (unsigned long long)p->msrs[i].value);
	put(&o, "\n  ]\n}\n");
	return (int)o.len;
}

int hvr_profile_save(const struct hvr_cpu_profile *p, const char *path, struct hvr_error *err)
{
	char shown[HVR_ERR_MSG_MAX / 2];
	int len = hvr_profile_format(p, NULL, 0);
	char *buf = malloc((size_t)len + 1);
	FILE *f;
	int ret = 0;

	hvr_printable(path, strlen(path), shown, sizeof(shown));
	if (!buf)
		return hvr_fail(err, -ENOMEM, "%s: out of memory", shown);
	hvr_profile_format(p, buf, (size_t)len + 1);
	f = fopen(path, "w");
	if (!f) {
		ret = -errno;
		free(buf);
		return hvr_fail(err, ret, "%s: %s", shown, strerror(-ret));
	}
	if (fwrite(buf, 1, (size_t)len, f) != (size_t)len)
		ret = -errno ? -errno : -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	free(buf);
	if (ret)
		return hvr_fail(err, ret, "%s: %s", shown, strerror(-ret));
	return 0;
}
