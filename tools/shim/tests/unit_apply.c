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

static struct hvr_cpu_profile *fixture(const char *name)
{
	struct hvr_cpu_profile *p = calloc(1, sizeof(*p));
	struct hvr_error err;
	char path[512];

	snprintf(path, sizeof(path), "%s/%s.profile.json", fixtures, name);
	if (!p || hvr_profile_load(path, p, &err)) {
		fprintf(stderr, "cannot load fixture: %s\n", p ? err.msg : "out of memory");
		exit(2);
	}
	return p;
}

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

void test_apply(void)
{
	test_apply_profile();
	test_apply_span();
	test_apply_model();
	test_apply_refusals();
}
