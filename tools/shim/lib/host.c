// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the host's KVM offers: KVM_GET_SUPPORTED_HV_CPUID, live or from a
 * fixture file, and which of its bits back which enlightenment.
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

struct host_req {
	uint32_t function;
	enum hvr_reg reg;
	uint32_t mask;
	bool any;		/* any bit of @mask will do, rather than all */
};

struct flag_host {
	struct host_req req[2];
	const char *what;	/* the same, for error messages */
};

#define REQ(fn, r, m)	{ .function = (fn), .reg = (r), .mask = (m) }

static const struct flag_host flag_host[HVR_NR_FLAGS] = {
	[HVR_RELAXED] = {
		{ REQ(HV_CPUID_ENLIGHTENMENT_INFO, HVR_EAX, HV_USE_RELAXED_TIMING) },
		"0x40000004 EAX bit 5, relaxed timing" },
	[HVR_VAPIC] = {
		{ REQ(HV_CPUID_FEATURES, HVR_EAX, HV_ACCESS_INTR_CTRL_REGS) },
		"0x40000003 EAX bit 4, APIC MSRs" },
	[HVR_VPINDEX] = {
		{ REQ(HV_CPUID_FEATURES, HVR_EAX, HV_ACCESS_VP_INDEX) },
		"0x40000003 EAX bit 6, VP index MSR" },
	[HVR_RUNTIME] = {
		{ REQ(HV_CPUID_FEATURES, HVR_EAX, HV_ACCESS_VP_RUNTIME_REG) },
		"0x40000003 EAX bit 0, VP runtime MSR" },
	[HVR_CRASH] = {
		{ REQ(HV_CPUID_FEATURES, HVR_EDX, HV_GUEST_CRASH_REGS_AVAILABLE) },
		"0x40000003 EDX bit 10, guest crash MSRs" },
	[HVR_TIME] = {
		{ REQ(HV_CPUID_FEATURES, HVR_EAX,
		      HV_ACCESS_PARTITION_REFERENCE_COUNTER | HV_ACCESS_PARTITION_REFERENCE_TSC) },
		"0x40000003 EAX bits 1 and 9, reference counter and TSC page" },
	[HVR_SYNIC] = {
		{ REQ(HV_CPUID_FEATURES, HVR_EAX, HV_ACCESS_SYNIC_REGS) },
		"0x40000003 EAX bit 2, SynIC MSRs" },
	[HVR_STIMER] = {
		{ REQ(HV_CPUID_FEATURES, HVR_EAX, HV_ACCESS_SYNTHETIC_TIMER_REGS) },
		"0x40000003 EAX bit 3, synthetic timer MSRs" },
	[HVR_STIMER_DIRECT] = {
		{ REQ(HV_CPUID_FEATURES, HVR_EDX, HV_DIRECT_SYNTHETIC_TIMERS) },
		"0x40000003 EDX bit 19, direct synthetic timers" },
	/* The guest is told to use ex processor masks with it, so the host must offer them. */
	[HVR_TLBFLUSH] = {
		{ REQ(HV_CPUID_ENLIGHTENMENT_INFO, HVR_EAX,
		      HV_USE_HYPERCALL_FOR_REMOTE_FLUSH | HV_USE_EX_PROCESSOR_MASKS) },
		"0x40000004 EAX bits 2 and 11, remote flush hypercalls" },
	[HVR_TLBFLUSH_EXT] = {
		{ REQ(HV_CPUID_FEATURES, HVR_EDX, HV_EXTENDED_GVA_RANGES_FOR_FLUSH) },
		"0x40000003 EDX bit 14, extended GVA ranges for flush" },
	[HVR_TLBFLUSH_DIRECT] = {
		{ REQ(HV_CPUID_NESTED_FEATURES, HVR_EAX, HV_NESTED_DIRECT_FLUSH) },
		"0x4000000A EAX bit 17, direct flush" },
	[HVR_IPI] = {
		{ REQ(HV_CPUID_ENLIGHTENMENT_INFO, HVR_EAX,
		      HV_USE_SYNTHETIC_CLUSTER_IPI | HV_USE_EX_PROCESSOR_MASKS) },
		"0x40000004 EAX bits 10 and 11, synthetic cluster IPI" },
	[HVR_RESET] = {
		{ REQ(HV_CPUID_FEATURES, HVR_EAX, HV_ACCESS_RESET_REG) },
		"0x40000003 EAX bit 7, reset MSR" },
	[HVR_FREQUENCIES] = {
		{ REQ(HV_CPUID_FEATURES, HVR_EAX, HV_ACCESS_FREQUENCY_REGS),
		  REQ(HV_CPUID_FEATURES, HVR_EDX, HV_FREQUENCY_REGS_AVAILABLE) },
		"0x40000003 EAX bit 11 and EDX bit 8, frequency MSRs" },
	[HVR_REENLIGHTENMENT] = {
		{ REQ(HV_CPUID_FEATURES, HVR_EAX, HV_ACCESS_REENLIGHTENMENT_CONTROLS) },
		"0x40000003 EAX bit 13, reenlightenment controls" },
	/* KVM reports both or neither; QEMU asks for the recommendation. */
	[HVR_EVMCS] = {
		{ { .function = HV_CPUID_NESTED_FEATURES, .reg = HVR_EAX,
		    .mask = HV_ENLIGHTENED_VMCS_VERSION_MASK, .any = true },
		  REQ(HV_CPUID_ENLIGHTENMENT_INFO, HVR_EAX, HV_USE_VMCS_ENLIGHTENMENTS) },
		"0x4000000A EAX bits 0-15, eVMCS version, and 0x40000004 EAX bit 14; kvm_intel nested=1?" },
	[HVR_EMSR_BITMAP] = {
		{ REQ(HV_CPUID_NESTED_FEATURES, HVR_EAX, HV_NESTED_ENLIGHTENED_MSR_BITMAP) },
		"0x4000000A EAX bit 19, enlightened MSR bitmap" },
	[HVR_AVIC] = {
		{ REQ(HV_CPUID_ENLIGHTENMENT_INFO, HVR_EAX, HV_DEPRECATE_AUTO_EOI) },
		"0x40000004 EAX bit 9, AutoEOI deprecation" },
	[HVR_XMM_INPUT] = {
		{ REQ(HV_CPUID_FEATURES, HVR_EDX, HV_XMM_REGISTERS_FOR_FAST_HYPERCALL) },
		"0x40000003 EDX bit 4, XMM fast hypercall input" },
	/* QEMU asks for the debug MSRs; the guest is also shown 0x40000082. */
	[HVR_SYNDBG] = {
		{ REQ(HV_CPUID_FEATURES, HVR_EDX, HV_DEBUG_REGS_AVAILABLE),
		  REQ(HV_CPUID_SYNDBG_PLATFORM_CAPS, HVR_EAX, HV_SYNDBG_ALLOW_KERNEL_DEBUGGING) },
		"0x40000003 EDX bit 11 and 0x40000082 EAX bit 1, synthetic debugger" },
	[HVR_NO_NONARCH_CORESHARING] = {
		{ REQ(HV_CPUID_ENLIGHTENMENT_INFO, HVR_EAX, HV_NO_NON_ARCH_CORE_SHARING) },
		"0x40000004 EAX bit 18, no non-architectural core sharing (SMT off)" },
};

const struct kvm_cpuid_entry2 *hvr_host_leaf(const struct hvr_host *host, uint32_t function)
{
	unsigned int i;

	for (i = 0; i < host->nent && i < HVR_HOST_MAX_LEAVES; i++) {
		if (host->ent[i].function == function && host->ent[i].index == 0)
			return &host->ent[i];
	}
	return NULL;
}

static bool req_met(const struct hvr_host *host, const struct host_req *r)
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
	const struct flag_host *fh;

	if ((unsigned int)flag >= HVR_NR_FLAGS)
		return false;
	fh = &flag_host[flag];
	return req_met(host, &fh->req[0]) && req_met(host, &fh->req[1]);
}

const char *hvr_host_requirement(enum hvr_flag flag)
{
	const char *w = (unsigned int)flag < HVR_NR_FLAGS ? flag_host[flag].what : NULL;

	return w ? w : "nothing";
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
