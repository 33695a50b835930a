// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for applying a model or profile (lib/cpu_apply.c).  The
 * library has no fake ioctl layer, so the pure part, hvr_cpu_apply_plan(),
 * is held to the fixtures: every CPUID value, MSR and filter range below
 * is worked out by hand from the tests/fixtures profiles, the model's
 * QEMU feature list and the boot MSR list Documentation/shim.rst gives.
 * Then, where /dev/kvm opens, hvr_cpu_apply() on a real VM and vCPU.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hvrelay.h"
#include "cpu_apply.h"
#include "unit.h"

static const struct kvm_cpuid_entry2 *plan_leaf(const struct hvr_apply_plan *p, uint32_t fn,
						uint32_t idx)
{
	unsigned int i;

	for (i = 0; i < p->ncpuid; i++) {
		if (p->cpuid[i].function == fn && p->cpuid[i].index == idx)
			return &p->cpuid[i];
	}
	return NULL;
}

static void expect_range(const struct hvr_apply_plan *p, unsigned int i, uint32_t base,
			 uint32_t nmsrs)
{
	if (i >= p->nranges) {
		note("no range %u (%u ranges)", i, p->nranges);
		return;
	}
	if (p->ranges[i].base != base || p->ranges[i].nmsrs != nmsrs)
		note("range %u: base 0x%x, %u MSRs; want base 0x%x, %u", i, p->ranges[i].base,
		     p->ranges[i].nmsrs, base, nmsrs);
}

/*
 * The ranges without Hyper-V, by hand from the boot list: 0x10 (TSC) up to
 * 0xda0 (IA32_XSS), 0xd91 MSRs, holds all the low ones and every profile
 * MSR of the AMD fixtures but DE_CFG; EFER 0xc0000080 up to TSC_AUX
 * 0xc0000103 is 0x84; the AMD block 0xc0010000 up to 0xc001020b is 0x20c.
 */
static void expect_plain_ranges(const struct hvr_apply_plan *p)
{
	EXPECT(p->nranges == 3);
	expect_range(p, 0, 0x10, 0xd91);
	expect_range(p, 1, 0xc0000080, 0x84);
	expect_range(p, 2, 0xc0010000, 0x20c);
}

static int resolve(const char *spec_text, struct hvr_config *cfg)
{
	struct hvr_spec spec;
	struct hvr_host host;
	struct hvr_error err;
	char path[512];

	snprintf(path, sizeof(path), "%s/amd-host.cpuid", fixtures);
	if (hvr_host_load(path, &host, &err) || hvr_spec_parse(spec_text, &spec, &err) ||
	    hvr_resolve(&spec, &host, false, cfg, &err)) {
		note("%s", err.msg);
		return -1;
	}
	return 0;
}

/* amd-epyc-rich runs amd-epyc (the profile tests hold that): no Hyper-V. */
static void test_apply_profile(void)
{
	struct hvr_cpu_profile *rich = fixture("amd-epyc-rich"), *epyc = fixture("amd-epyc");
	struct hvr_apply_plan *p = calloc(1, sizeof(*p));
	const struct kvm_cpuid_entry2 *e;
	struct hvr_error err;
	int ret;

	ret = hvr_cpu_apply_plan(rich, NULL, epyc, NULL, p, &err);
	EXPECT(ret == 0);
	if (ret)
		note("%s", err.msg);
	/* The profile's 12 leaves as they are: rich has every feature of them. */
	EXPECT(p->ncpuid == 12 && !p->hyperv && !p->kvm_pv);
	e = plan_leaf(p, 7, 0);
	EXPECT(e && e->ebx == 0x219c07ab && e->ecx == 0x00400684 && e->edx == 0x00000010);
	e = plan_leaf(p, 1, 0);
	EXPECT(e && e->eax == 0x00a00f11 && e->ecx == 0xfffa3203 && e->edx == 0x178bfbff);
	e = plan_leaf(p, 0x80000008, 0);
	EXPECT(e && e->eax == 0x00303030);
	EXPECT(!plan_leaf(p, 0x40000000, 0));
	/* The four feature MSRs of the fixture, in its order and values. */
	EXPECT(p->nmsrs == 4);
	EXPECT(p->msrs[0].index == 0x8b && p->msrs[0].value == 0x0000000001000065);
	EXPECT(p->msrs[1].index == 0xce && p->msrs[1].value == 0x0000000080000000);
	EXPECT(p->msrs[2].index == 0x10a && p->msrs[2].value == 0x400000000c000069);
	EXPECT(p->msrs[3].index == 0x345 && p->msrs[3].value == 0);
	expect_plain_ranges(p);
	EXPECT(hvr_plan_allows(p, 0x10a) && hvr_plan_allows(p, 0xce) && hvr_plan_allows(p, 0x345));
	EXPECT(hvr_plan_allows(p, 0x10) && hvr_plan_allows(p, 0x1a0) && hvr_plan_allows(p, 0x47f));
	EXPECT(hvr_plan_allows(p, 0xc0000080) && hvr_plan_allows(p, 0xc0000103));
	EXPECT(hvr_plan_allows(p, 0xc0010015) && hvr_plan_allows(p, 0xc001020b));
	/* Neighbours and strangers: denied. */
	EXPECT(!hvr_plan_allows(p, 0xf) && !hvr_plan_allows(p, 0xcf) && !hvr_plan_allows(p, 0x1fc));
	EXPECT(!hvr_plan_allows(p, 0x480) && !hvr_plan_allows(p, 0xda1));
	EXPECT(!hvr_plan_allows(p, 0x40000000) && !hvr_plan_allows(p, 0x4b564d01));
	EXPECT(!hvr_plan_allows(p, 0xc0000104) && !hvr_plan_allows(p, 0xc0010016));
	EXPECT(!hvr_plan_allows(p, 0xc0011029));
	report("apply/profile-plan");

	/*
	 * With Hyper-V: leaves 0x40000000..0x4000000A (11) join the 12, and
	 * the synthetic MSRs their own range between the low one and EFER's.
	 */
	{
		struct hvr_config cfg;

		if (!resolve("none+vpindex+relaxed", &cfg)) {
			EXPECT(!hvr_cpu_apply_plan(rich, NULL, epyc, &cfg, p, &err));
			EXPECT(p->ncpuid == 23 && p->hyperv && !p->kvm_pv);
			e = plan_leaf(p, 0x40000000, 0);
			EXPECT(e && !memcmp(&e->ebx, "Microsoft Hv", 12));
			EXPECT(p->nranges == 4);
			expect_range(p, 0, 0x10, 0xd91);
			expect_range(p, 1, 0x40000000, 0x100);
			expect_range(p, 2, 0xc0000080, 0x84);
			expect_range(p, 3, 0xc0010000, 0x20c);
			EXPECT(hvr_plan_allows(p, 0x40000070) && hvr_plan_allows(p, 0x400000ff));
			EXPECT(!hvr_plan_allows(p, 0x40000100));

			/*
			 * A profile with KVM's signature at 0x40000000: the
			 * merge moves it to 0x40000100, and the guest that
			 * sees it gets KVM's MSRs 0x4b564d00..ff too.
			 */
			epyc->cpuid[epyc->ncpuid] = (struct kvm_cpuid_entry2){
				.function = 0x40000000, .eax = 0x40000001,
				.ebx = 0x4b4d564b, .ecx = 0x564b4d56, .edx = 0x0000004d,
			};
			epyc->ncpuid++;
			EXPECT(!hvr_cpu_apply_plan(rich, NULL, epyc, &cfg, p, &err));
			EXPECT(p->hyperv && p->kvm_pv);
			e = plan_leaf(p, 0x40000100, 0);
			EXPECT(e && e->ebx == 0x4b4d564b);
			EXPECT(p->nranges == 5);
			expect_range(p, 2, 0x4b564d00, 0x100);
			EXPECT(hvr_plan_allows(p, 0x4b564d01));
			epyc->ncpuid--;
		}
	}
	report("apply/profile-hyperv-plan");
	free(p);
	free(rich);
	free(epyc);
}

/* EPYC-Rome-v1 on the amd-epyc host (its newest QEMU model there). */
static void test_apply_model(void)
{
	struct hvr_cpu_profile *epyc = fixture("amd-epyc");
	struct hvr_apply_plan *p = calloc(1, sizeof(*p));
	const struct hvr_cpu_model *m;
	const struct kvm_cpuid_entry2 *e;
	struct hvr_error err;
	unsigned int i;

	/*
	 * What QEMU's EPYC models list and the fixture lacks, by their APM
	 * bits, as the profile tests' newest-model case adds them.
	 */
	for (i = 0; i < epyc->ncpuid; i++) {
		struct kvm_cpuid_entry2 *l = &epyc->cpuid[i];

		if (l->function == 1)
			l->ecx |= 1u << 3;				/* MONITOR */
		if (l->function == 0x80000001)
			l->ecx |= 1u << 2 | 1u << 23;			/* SVM, PerfCtrExtCore */
		if (l->function == 0x80000008)
			l->ebx |= 1u << 9 | 1u << 12 | 1u << 15;	/* WBNOINVD, IBPB, STIBP */
		if (l->function == 0x8000000a)
			l->edx |= 1u << 0 | 1u << 3;			/* NP, NRIPS */
	}
	EXPECT(!hvr_cpu_model_lookup("EPYC-Rome-v1", &m, &err));
	if (hvr_cpu_apply_plan(epyc, m, NULL, NULL, p, &err))
		note("%s", err.msg);
	/*
	 * 7.0 EBX: the host's 0x219c07ab AND Rome's fsgsbase bmi1 avx2 smep
	 * bmi2 rdseed adx smap clflushopt clwb sha-ni (0x219c01a9): the host's
	 * tsc_adjust, erms and invpcid (bits 1, 9, 10) go.  Leaf 1 EAX is
	 * family 23, model 49, stepping 0: extended family 8 and family 0xf,
	 * extended model 3 and model 1, so 0x00830f10; 0x80000001 EAX too.
	 */
	e = plan_leaf(p, 7, 0);
	EXPECT(e && e->ebx == 0x219c01a9);
	e = plan_leaf(p, 1, 0);
	EXPECT(e && e->eax == 0x00830f10);
	e = plan_leaf(p, 0x80000001, 0);
	EXPECT(e && e->eax == 0x00830f10);
	e = plan_leaf(p, 0x80000002, 0);
	EXPECT(e && !memcmp(&e->eax, "AMD EPYC-Rome Pr", 16));
	/* A model sets no MSR; the filter is the boot list alone. */
	EXPECT(p->nmsrs == 0 && !p->hyperv);
	expect_plain_ranges(p);
	EXPECT(!hvr_plan_allows(p, 0x10a));
	report("apply/model-plan");
	free(p);
	free(epyc);
}

static void expect_refusal(int ret, int code, const struct hvr_error *err, const char *msg)
{
	if (ret != code)
		note("returned %d, want %d (%s)", ret, code, err->msg);
	else if (strcmp(err->msg, msg))
		note("message \"%s\", want \"%s\"", err->msg, msg);
}

static void test_apply_refusals(void)
{
	struct hvr_cpu_profile *epyc = fixture("amd-epyc"), *rich = fixture("amd-epyc-rich");
	struct hvr_cpu_profile *intel = fixture("intel-vmx-a");
	struct hvr_apply_plan *p = calloc(1, sizeof(*p));
	const struct hvr_cpu_model *m;
	struct hvr_error err;
	unsigned int i;

	/* rich on epyc: nine problems, the first as the profile tests list it. */
	expect_refusal(hvr_cpu_apply_plan(epyc, NULL, rich, NULL, p, &err), -EOPNOTSUPP, &err,
		       "this host cannot run the profile: 9 problems (kvm-hv-relay cpu check lists them), the first: "
		       "CPUID avx512f (leaf 0x00000007 index 0 EBX bit 16): not on this host");
	expect_refusal(hvr_cpu_apply_plan(epyc, NULL, intel, NULL, p, &err), -EINVAL, &err,
		       "the profile is GenuineIntel, this host is AuthenticAMD: a guest cannot move between vendors");
	EXPECT(!hvr_cpu_model_lookup("Skylake-Server-v4", &m, &err));
	expect_refusal(hvr_cpu_apply_plan(epyc, m, NULL, NULL, p, &err), -EINVAL, &err,
		       "CPU model 'Skylake-Server-v4' is GenuineIntel, this host is AuthenticAMD");
	/* Those eight bits the model test adds to epyc, MONITOR the first word's. */
	EXPECT(!hvr_cpu_model_lookup("EPYC-Rome-v1", &m, &err));
	expect_refusal(hvr_cpu_apply_plan(epyc, m, NULL, NULL, p, &err), -EOPNOTSUPP, &err,
		       "this host cannot run CPU model 'EPYC-Rome-v1': 8 of its CPUID features missing, the first 'monitor'");
	/* x86-64-v4 is v3 (which epyc runs) and AVX-512 F, DQ, CD, BW, VL. */
	EXPECT(!hvr_cpu_model_lookup("x86-64-v4", &m, &err));
	expect_refusal(hvr_cpu_apply_plan(epyc, m, NULL, NULL, p, &err), -EOPNOTSUPP, &err,
		       "this host cannot run CPU model 'x86-64-v4': 5 of its CPUID features missing, the first 'avx512f'");
	expect_refusal(hvr_cpu_apply_plan(epyc, m, epyc, NULL, p, &err), -EINVAL, &err,
		       "give a host profile and exactly one of a CPU model and a profile");
	expect_refusal(hvr_cpu_apply_plan(epyc, NULL, NULL, NULL, p, &err), -EINVAL, &err,
		       "give a host profile and exactly one of a CPU model and a profile");

	/* Refused before any ioctl: bad fds would otherwise say EBADF. */
	expect_refusal(hvr_cpu_apply(-1, -1, epyc, NULL, rich, NULL, &err), -EOPNOTSUPP, &err,
		       "this host cannot run the profile: 9 problems (kvm-hv-relay cpu check lists them), the first: "
		       "CPUID avx512f (leaf 0x00000007 index 0 EBX bit 16): not on this host");

	/* An x2APIC MSR (filled in by hand; the parser refuses one). */
	rich->msrs[rich->nmsrs++] = (struct hvr_msr){ .index = 0x808 };
	expect_refusal(hvr_cpu_apply_plan(epyc, NULL, rich, NULL, p, &err), -EINVAL, &err,
		       "profile MSR 0x808 is an x2APIC MSR (0x800-0x8ff), which KVM_X86_SET_MSR_FILTER cannot filter");

	/*
	 * Twenty MSRs 64 Ki apart from 0x10000000, each a range of its own (a
	 * bitmap spans 0x3000), after the boot list's 0x10 range and before
	 * its two others: the 16th of them, 0x100f0000, would be range 17.
	 */
	free(rich);
	rich = fixture("amd-epyc");
	for (i = 0; i < 20; i++) {
		epyc->msrs[epyc->nmsrs++] = (struct hvr_msr){ .index = 0x10000000 + i * 0x10000 };
		rich->msrs[rich->nmsrs++] = epyc->msrs[epyc->nmsrs - 1];
	}
	expect_refusal(hvr_cpu_apply_plan(epyc, NULL, rich, NULL, p, &err), -E2BIG, &err,
		       "the MSR filter needs more than 16 ranges (MSR 0x100f0000 is the first left out)");
	report("apply/refusals");
	free(p);
	free(epyc);
	free(rich);
	free(intel);
}

/*
 * A bitmap holds KVM_MSR_FILTER_MAX_BITMAP_SIZE (0x600) bytes, 0x3000 MSRs:
 * from the boot list's 0x10, 0x300f is the last MSR one range reaches and
 * 0x3010 starts the next.
 */
static void test_apply_span(void)
{
	struct hvr_cpu_profile *host = fixture("amd-epyc"), *want = fixture("amd-epyc");
	struct hvr_apply_plan *p = calloc(1, sizeof(*p));
	struct hvr_error err;

	host->msrs[host->nmsrs++] = (struct hvr_msr){ .index = 0x300f };
	host->msrs[host->nmsrs++] = (struct hvr_msr){ .index = 0x3010 };
	memcpy(want->msrs, host->msrs, sizeof(want->msrs));
	want->nmsrs = host->nmsrs;
	EXPECT(!hvr_cpu_apply_plan(host, NULL, want, NULL, p, &err));
	EXPECT(p->nranges == 4);
	expect_range(p, 0, 0x10, 0x3000);
	expect_range(p, 1, 0x3010, 1);
	expect_range(p, 2, 0xc0000080, 0x84);
	EXPECT(hvr_plan_allows(p, 0x300f) && hvr_plan_allows(p, 0x3010));
	EXPECT(!hvr_plan_allows(p, 0x300e) && !hvr_plan_allows(p, 0x3011));
	report("apply/filter-range-span");
	free(p);
	free(host);
	free(want);
}

/* ------------------------------------------------------ on /dev/kvm */

#define GUEST_MEM	0x10000
#define GUEST_CODE	0x1000
#define GUEST_GP	0x2000
#define GUEST_PORT	0x10
#define DENIED_MSR	0x1fc	/* MSR_POWER_CTL: KVM keeps one, no list here allows it */
#define UCODE_MSR	0x8b	/* IA32_BIOS_SIGN_ID: check leaves it alone */
#define UCODE_VALUE	0x0000004200000000ull
#define PLATFORM_INFO_MSR	0xce

/*
 * Real mode, CS = 0: read the TSC (allowed), OUT 1; read DENIED_MSR, OUT 2;
 * HLT.  #GP (vector 13, IVT entry at 0x34) goes to GUEST_GP: OUT 13; HLT.
 */
static const uint8_t guest_code[] = {
	0x66, 0xb9, 0x10, 0x00, 0x00, 0x00,	/* mov ecx, 0x10 */
	0x0f, 0x32,				/* rdmsr */
	0xb0, 0x01, 0xe6, GUEST_PORT,		/* mov al, 1; out GUEST_PORT, al */
	0x66, 0xb9, DENIED_MSR & 0xff, DENIED_MSR >> 8, 0x00, 0x00,	/* mov ecx, DENIED_MSR */
	0x0f, 0x32,				/* rdmsr */
	0xb0, 0x02, 0xe6, GUEST_PORT,		/* mov al, 2; out GUEST_PORT, al */
	0xf4,					/* hlt */
};

static const uint8_t guest_gp[] = {
	0xb0, 0x0d, 0xe6, GUEST_PORT,		/* mov al, 13; out GUEST_PORT, al */
	0xf4,					/* hlt */
};

/* The next OUT to GUEST_PORT: its byte, or -1 (*why says what came instead). */
static int guest_out(int vcpu, struct kvm_run *run, char *why, size_t size)
{
	if (ioctl(vcpu, KVM_RUN, 0) < 0) {
		snprintf(why, size, "KVM_RUN: %s", strerror(errno));
		return -1;
	}
	if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT ||
	    run->io.port != GUEST_PORT) {
		snprintf(why, size, "exit reason %u, not an OUT to port 0x%x", run->exit_reason,
			 GUEST_PORT);
		return -1;
	}
	return ((uint8_t *)run)[run->io.data_offset];
}

static uint64_t get_msr(int vcpu, uint32_t index, bool *ok)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m;

	memset(&m, 0, sizeof(m));
	m.h.nmsrs = 1;
	m.e.index = index;
	*ok = ioctl(vcpu, KVM_GET_MSRS, &m) == 1;
	return m.e.data;
}

static const struct kvm_cpuid_entry2 *got_leaf(const struct kvm_cpuid2 *c, uint32_t fn)
{
	unsigned int i;

	for (i = 0; i < c->nent; i++) {
		if (c->entries[i].function == fn && c->entries[i].index == 0)
			return &c->entries[i];
	}
	return NULL;
}

/*
 * A VM and a vCPU given a small profile, and Hyper-V where KVM offers it:
 * this host's CPUID less CMPXCHG16B (leaf 1 ECX bit 13), and two feature
 * MSRs, PLATFORM_INFO as the host has it and another microcode revision.
 * KVM_GET_CPUID2 and KVM_GET_MSRS must show exactly that, and a guest's
 * read of an MSR the filter leaves out must be #GP.  The profile leaves
 * IA32_ARCH_CAPABILITIES out: this machine's KVM (6.18, paravirtual)
 * refuses every non-zero KVM_SET_MSRS of it, its own /dev/kvm value too.
 */
static void test_apply_kvm(void)
{
	const char *name = "apply/kvm-vcpu";
	struct hvr_cpu_profile *host = calloc(1, sizeof(*host)), *want = calloc(1, sizeof(*want));
	struct kvm_cpuid2 *got = calloc(1, sizeof(*got) + 300 * sizeof(got->entries[0]));
	const struct kvm_cpuid_entry2 *e;
	struct hvr_config cfg, *hv = NULL;
	struct kvm_userspace_memory_region mem;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run = MAP_FAILED;
	uint8_t *ram = MAP_FAILED;
	int kvm, vm = -1, vcpu = -1, out, run_size = 0;
	bool ok, cx16;
	char why[128];
	unsigned int i;
	uint64_t v;
	struct hvr_error err;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		skip(name, "cannot open /dev/kvm: %s", strerror(errno));
		goto out;
	}
	if (ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_X86_MSR_FILTER) <= 0) {
		skip(name, "this KVM has no KVM_CAP_X86_MSR_FILTER");
		goto out;
	}
	if (hvr_profile_capture(kvm, host, &err)) {
		note("%s", err.msg);
		goto done;
	}
	{
		struct hvr_spec spec;
		struct hvr_host hh;

		if (!hvr_host_query(kvm, &hh, &err) && !hvr_spec_parse("none+vpindex+relaxed", &spec, &err) &&
		    !hvr_resolve(&spec, &hh, false, &cfg, &err))
			hv = &cfg;
	}
	*want = *host;
	cx16 = false;
	for (i = 0; i < want->ncpuid; i++) {
		if (want->cpuid[i].function == 1) {
			cx16 = want->cpuid[i].ecx & 1u << 13;
			want->cpuid[i].ecx &= ~(1u << 13);
		}
	}
	/* Sorted by index, as a profile is; check does not compare microcode. */
	want->nmsrs = 0;
	want->msrs[want->nmsrs++] = (struct hvr_msr){ .index = UCODE_MSR, .value = UCODE_VALUE };
	for (i = 0; i < host->nmsrs; i++) {
		if (host->msrs[i].index == PLATFORM_INFO_MSR)
			want->msrs[want->nmsrs++] = host->msrs[i];
	}

	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm < 0 || run_size <= 0) {
		note("KVM_CREATE_VM or KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		goto done;
	}
	ram = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(&mem, 0, sizeof(mem));
	mem.memory_size = GUEST_MEM;
	mem.userspace_addr = (uintptr_t)ram;
	if (ram == MAP_FAILED || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mem) ||
	    (vcpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0) {
		note("guest memory or KVM_CREATE_VCPU: %s", strerror(errno));
		goto done;
	}
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED) {
		note("mmap of the vCPU: %s", strerror(errno));
		goto done;
	}

	if (hvr_cpu_apply(vm, vcpu, host, NULL, want, hv, &err)) {
		note("hvr_cpu_apply: %s", err.msg);
		goto done;
	}

	got->nent = 300;
	if (ioctl(vcpu, KVM_GET_CPUID2, got)) {
		note("KVM_GET_CPUID2: %s", strerror(errno));
		goto done;
	}
	e = got_leaf(got, 0);
	EXPECT(e && !memcmp(&e->ebx, host->vendor, 4) && !memcmp(&e->edx, host->vendor + 4, 4) &&
	       !memcmp(&e->ecx, host->vendor + 8, 4));
	e = got_leaf(got, 1);
	EXPECT(e && !(e->ecx & 1u << 13));
	if (!cx16)
		note("this host has no CMPXCHG16B: the removed bit proves nothing");
	if (hv) {
		EXPECT(e && (e->ecx & 1u << 31));
		e = got_leaf(got, 0x40000000);
		EXPECT(e && !memcmp(&e->ebx, "Microsoft Hv", 12));
	}
	for (i = 0; i < want->nmsrs; i++) {
		v = get_msr(vcpu, want->msrs[i].index, &ok);
		if (!ok || v != want->msrs[i].value)
			note("MSR 0x%x reads 0x%llx%s, want 0x%llx", want->msrs[i].index,
			     (unsigned long long)v, ok ? "" : " (refused)",
			     (unsigned long long)want->msrs[i].value);
	}

	memcpy(ram + GUEST_CODE, guest_code, sizeof(guest_code));
	memcpy(ram + GUEST_GP, guest_gp, sizeof(guest_gp));
	ram[13 * 4] = GUEST_GP & 0xff;
	ram[13 * 4 + 1] = GUEST_GP >> 8;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) || ioctl(vcpu, KVM_GET_REGS, &regs)) {
		note("KVM_GET_SREGS/REGS: %s", strerror(errno));
		goto done;
	}
	sregs.cs.selector = 0;
	sregs.cs.base = 0;
	memset(&regs, 0, sizeof(regs));
	regs.rip = GUEST_CODE;
	regs.rsp = 0x8000;
	regs.rflags = 0x2;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) || ioctl(vcpu, KVM_SET_REGS, &regs)) {
		note("KVM_SET_SREGS/REGS: %s", strerror(errno));
		goto done;
	}
	out = guest_out(vcpu, run, why, sizeof(why));
	if (out != 1) {
		/* The read-back above stands; only the guest part cannot run here. */
		report("apply/kvm-vcpu");
		skip("apply/kvm-guest-gp", "the guest's allowed RDMSR did not come back: %s",
		     out < 0 ? why : "#GP on IA32_TIME_STAMP_COUNTER");
		goto out;
	}
	report("apply/kvm-vcpu");
	out = guest_out(vcpu, run, why, sizeof(why));
	if (out != 13)
		note("RDMSR 0x%x: guest says %d (13 is #GP, 2 read it)%s%s", DENIED_MSR, out,
		     out < 0 ? ": " : "", out < 0 ? why : "");
	/* The VMM's own read is not filtered: the #GP was the filter's. */
	get_msr(vcpu, DENIED_MSR, &ok);
	EXPECT(ok);
	name = "apply/kvm-guest-gp";
done:
	report(name);
out:
	if (run != MAP_FAILED)
		munmap(run, (size_t)run_size);
	if (vcpu >= 0)
		close(vcpu);
	if (vm >= 0)
		close(vm);
	if (ram != MAP_FAILED)
		munmap(ram, GUEST_MEM);
	if (kvm >= 0)
		close(kvm);
	free(got);
	free(host);
	free(want);
}

void test_apply(void)
{
	test_apply_profile();
	test_apply_span();
	test_apply_model();
	test_apply_refusals();
	test_apply_kvm();
}
