// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the host's KVM offers: KVM_GET_SUPPORTED_HV_CPUID, live or from a
 * fixture file, and whether it backs an enlightenment (its row's host bits,
 * flags.c).
 */
#include <cpuid.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"
#include "tlfs.h"

const struct kvm_cpuid_entry2 *hvr_host_leaf(const struct hvr_host *host, uint32_t function)
{
	unsigned int i;

	for (i = 0; i < host->nent && i < HVR_HOST_MAX_LEAVES; i++) {
		if (host->ent[i].function == function && host->ent[i].index == 0)
			return &host->ent[i];
	}
	return NULL;
}

static bool req_met(const struct hvr_host *host, const struct hvr_cpuid_bits *r)
{
	const struct kvm_cpuid_entry2 *e;
	uint32_t v;

	if (!r->mask)
		return true;
	e = hvr_host_leaf(host, r->function);
	if (!e)
		return false;
	v = hvr_reg_get(e, r->reg) & r->mask;
	return r->any ? v != 0 : v == r->mask;
}

bool hvr_host_offers(const struct hvr_host *host, enum hvr_flag flag)
{
	const struct hvr_flag_row *row = hvr_flag_row(flag);
	unsigned int i;

	if (!row)
		return false;
	for (i = 0; i < ARRAY_SIZE(row->host); i++) {
		if (!req_met(host, &row->host[i]))
			return false;
	}
	return true;
}

const char *hvr_host_requirement(enum hvr_flag flag)
{
	const struct hvr_flag_row *row = hvr_flag_row(flag);

	return row && row->host_what ? row->host_what : "nothing";
}

enum hvr_vendor hvr_cpu_vendor(void)
{
	unsigned int a, b, c, d;
	char id[13];

	/* What matters is VMX versus SVM; the vendor string only breaks ties. */
	if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 5)))
		return HVR_VENDOR_INTEL;
	if (__get_cpuid(0x80000001, &a, &b, &c, &d) && (c & (1u << 2)))
		return HVR_VENDOR_AMD;
	if (!__get_cpuid(0, &a, &b, &c, &d))
		return HVR_VENDOR_UNKNOWN;
	memcpy(id, &b, 4);
	memcpy(id + 4, &d, 4);
	memcpy(id + 8, &c, 4);
	id[12] = '\0';
	if (!strcmp(id, "GenuineIntel"))
		return HVR_VENDOR_INTEL;
	if (!strcmp(id, "AuthenticAMD") || !strcmp(id, "HygonGenuine"))
		return HVR_VENDOR_AMD;
	return HVR_VENDOR_UNKNOWN;
}

static int query(int fd, bool vcpu, struct hvr_host *host, struct hvr_error *err)
{
	const char *what = vcpu ? "KVM_GET_SUPPORTED_HV_CPUID(vCPU)" :
				  "KVM_GET_SUPPORTED_HV_CPUID";
	struct kvm_cpuid2 *c;
	int ret;

	c = calloc(1, sizeof(*c) + HVR_HOST_MAX_LEAVES * sizeof(c->entries[0]));
	if (!c)
		return hvr_fail(err, -ENOMEM, "out of memory");
	c->nent = HVR_HOST_MAX_LEAVES;
	ret = ioctl(fd, KVM_GET_SUPPORTED_HV_CPUID, c);
	if (ret < 0) {
		ret = -errno;
		free(c);
		/* Unknown ioctls fail with EINVAL here; say which kind of unknown. */
		if ((ret == -EINVAL || ret == -ENOTTY) &&
		    ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_HYPERV) == 0)
			return hvr_fail(err, ret,
					"%s: %s (this KVM has no Hyper-V emulation: CONFIG_KVM_HYPERV=n?)",
					what, strerror(-ret));
		if (!vcpu && (ret == -EINVAL || ret == -ENOTTY) &&
		    ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_SYS_HYPERV_CPUID) == 0)
			return hvr_fail(err, ret,
					"%s: %s (the system ioctl needs Linux 5.11 or later; use a vCPU fd)",
					what, strerror(-ret));
		return hvr_fail(err, ret, "%s: %s", what, strerror(-ret));
	}
	memset(host, 0, sizeof(*host));
	host->vendor = hvr_cpu_vendor();
	host->nent = c->nent < HVR_HOST_MAX_LEAVES ? c->nent : HVR_HOST_MAX_LEAVES;
	memcpy(host->ent, c->entries, host->nent * sizeof(host->ent[0]));
	free(c);
	return 0;
}

int hvr_host_query(int fd, struct hvr_host *host, struct hvr_error *err)
{
	return query(fd, false, host, err);
}

/*
 * The same ioctl; it is the vCPU's answer that knows the VM: KVM reports
 * direct timers and cluster IPIs there only with an in-kernel LAPIC
 * (kvm_get_hv_cpuid() in arch/x86/kvm/hyperv.c), where /dev/kvm always does.
 */
int hvr_host_query_vcpu(int vcpu_fd, struct hvr_host *host, struct hvr_error *err)
{
	return query(vcpu_fd, true, host, err);
}

static bool parse_u32(const char **pp, uint32_t *out)
{
	const char *p = *pp;
	unsigned long long v;
	char *end;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!isdigit((unsigned char)*p))
		return false;
	errno = 0;
	v = strtoull(p, &end, 0);
	if (errno || v > 0xffffffffull || end == p)
		return false;
	*out = (uint32_t)v;
	*pp = end;
	return true;
}

static int parse_line(const char *line, unsigned int lineno, struct hvr_host *h,
		      struct hvr_error *err)
{
	struct kvm_cpuid_entry2 e = { 0 };
	const char *p = line;
	char shown[64];
	uint32_t v[6];
	unsigned int i;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return 0;
	if (!strncmp(p, "vendor", 6) && (p[6] == ' ' || p[6] == '\t')) {
		p += 6;
		while (*p == ' ' || *p == '\t')
			p++;
		/* "unknown" is what host-cpuid prints for a CPU it cannot place. */
		if (!strcmp(p, "intel"))
			h->vendor = HVR_VENDOR_INTEL;
		else if (!strcmp(p, "amd"))
			h->vendor = HVR_VENDOR_AMD;
		else if (!strcmp(p, "unknown"))
			h->vendor = HVR_VENDOR_UNKNOWN;
		else
			return hvr_fail(err, -EINVAL,
					"line %u: unknown vendor '%s' (intel, amd or unknown)", lineno,
					hvr_printable(p, strlen(p), shown, sizeof(shown)));
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		if (!parse_u32(&p, &v[i]))
			goto bad;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p)
		goto bad;
	if (h->nent >= HVR_HOST_MAX_LEAVES)
		return hvr_fail(err, -E2BIG, "line %u: more than %u leaves", lineno,
				HVR_HOST_MAX_LEAVES);
	/* Two dumps pasted together would otherwise be read as the first. */
	for (i = 0; i < h->nent; i++) {
		if (h->ent[i].function == v[0] && h->ent[i].index == v[1])
			return hvr_fail(err, -EINVAL, "line %u: leaf 0x%08x index %u again",
					lineno, v[0], v[1]);
	}
	e.function = v[0];
	e.index = v[1];
	e.eax = v[2];
	e.ebx = v[3];
	e.ecx = v[4];
	e.edx = v[5];
	h->ent[h->nent++] = e;
	return 0;
bad:
	return hvr_fail(err, -EINVAL, "line %u: expected 'FUNCTION INDEX EAX EBX ECX EDX'",
			lineno);
}

/*
 * Every KVM_GET_SUPPORTED_HV_CPUID answer since the ioctl exists (Linux 5.0)
 * has 0x40000000..0x40000005, and 0x40000000 EAX names its last leaf, which
 * is there too.  Anything less is an empty or cut file, and resolving against
 * it would quietly drop every enlightenment.
 */
static int check_whole(const struct hvr_host *h, struct hvr_error *err)
{
	const struct kvm_cpuid_entry2 *base;
	uint32_t f;

	if (!h->nent)
		return hvr_fail(err, -EINVAL,
				"no CPUID leaves: expected KVM_GET_SUPPORTED_HV_CPUID as 'kvm-hv-relay host-cpuid' prints it");
	for (f = HV_CPUID_VENDOR_AND_MAX_FUNCTIONS; f <= HV_CPUID_IMPLEMENTATION_LIMITS; f++) {
		if (!hvr_host_leaf(h, f))
			return hvr_fail(err, -EINVAL,
					"no leaf 0x%08x, which every KVM reports (truncated?)", f);
	}
	base = hvr_host_leaf(h, HV_CPUID_VENDOR_AND_MAX_FUNCTIONS);
	if (!hvr_host_leaf(h, base->eax))
		return hvr_fail(err, -EINVAL,
				"leaf 0x40000000 names 0x%08x as the last leaf, which is missing (truncated?)",
				base->eax);
	return 0;
}

int hvr_host_parse(const char *text, struct hvr_host *host, struct hvr_error *err)
{
	struct hvr_host h = { .vendor = HVR_VENDOR_UNKNOWN };
	unsigned int lineno = 0;
	const char *p = text;
	char line[256];
	int ret;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *hash;

		lineno++;
		if (len >= sizeof(line))
			return hvr_fail(err, -EINVAL, "line %u: too long", lineno);
		memcpy(line, p, len);
		line[len] = '\0';
		hash = strchr(line, '#');
		if (hash) {
			*hash = '\0';
			len = (size_t)(hash - line);
		}
		/* Trailing blanks and CR would otherwise upset "vendor intel". */
		while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' ||
			       line[len - 1] == '\r'))
			line[--len] = '\0';
		ret = parse_line(line, lineno, &h, err);
		if (ret)
			return ret;
		if (!nl)
			break;
		p = nl + 1;
	}
	ret = check_whole(&h, err);
	if (ret)
		return ret;
	*host = h;
	return 0;
}

static void put(char *buf, size_t size, size_t *len, const char *fmt, ...) HVR_PRINTF(4, 5);

static void put(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*len < size ? buf + *len : NULL, *len < size ? size - *len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n;
}

int hvr_host_format(const struct hvr_host *host, char *buf, size_t size)
{
	size_t len = 0;
	unsigned int i;

	if (size)
		buf[0] = '\0';
	put(buf, size, &len, "vendor %s\n", hvr_vendor_name(host->vendor));
	for (i = 0; i < host->nent && i < HVR_HOST_MAX_LEAVES; i++) {
		const struct kvm_cpuid_entry2 *e = &host->ent[i];

		put(buf, size, &len, "0x%08x 0x%x 0x%08x 0x%08x 0x%08x 0x%08x\n", e->function,
		    e->index, e->eax, e->ebx, e->ecx, e->edx);
	}
	return (int)len;
}

int hvr_host_load(const char *path, struct hvr_host *host, struct hvr_error *err)
{
	char buf[32768], shown[HVR_ERR_MSG_MAX];
	size_t n;
	FILE *f;
	int ret;

	hvr_printable(path, strlen(path), shown, sizeof(shown));
	f = fopen(path, "r");
	if (!f)
		return hvr_fail(err, -errno, "%s: %s", shown, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	if (ferror(f)) {
		ret = -EIO;
		fclose(f);
		return hvr_fail(err, ret, "%s: read error", shown);
	}
	if (n == sizeof(buf) - 1 && fgetc(f) != EOF) {
		fclose(f);
		return hvr_fail(err, -EFBIG, "%s: larger than %zu bytes", shown, sizeof(buf) - 1);
	}
	fclose(f);
	buf[n] = '\0';
	ret = hvr_host_parse(buf, host, err);
	if (ret && err) {
		char msg[HVR_ERR_MSG_MAX];

		memcpy(msg, err->msg, sizeof(msg));
		return hvr_fail(err, ret, "%s: %s", shown, msg);
	}
	return ret;
}
