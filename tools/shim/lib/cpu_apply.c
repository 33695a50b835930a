// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Applying a CPU model or profile to a vCPU (issue 17): refuse what the host
 * cannot run, then the CPUID (model or profile, masked against the host,
 * with the Hyper-V leaves), the profile's feature MSRs and an MSR filter
 * that allows the profile's MSRs, the ones a guest needs to boot and, with
 * Hyper-V, the synthetic ones.
 *
 * KVM_X86_SET_MSR_FILTER, as Documentation/virt/kvm/api.rst describes it:
 * an MSR access the filter does not permit makes KVM inject #GP into the
 * guest, unless userspace enabled KVM_CAP_X86_USER_SPACE_MSR with
 * KVM_MSR_EXIT_REASON_FILTER, when it exits to userspace
 * (KVM_EXIT_X86_RDMSR / KVM_EXIT_X86_WRMSR) instead.  The x2APIC MSRs
 * 0x800-0x8ff are always allowed whatever the filter says, and the filter
 * is for the guest's RDMSR and WRMSR: the VMM's own KVM_GET_MSRS and
 * KVM_SET_MSRS are not filtered.  At most KVM_MSR_FILTER_MAX_RANGES ranges,
 * each a bitmap of at most KVM_MSR_FILTER_MAX_BITMAP_SIZE bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "cpu_apply.h"
#include "cpu_models.h"
#include "profile.h"

#define HV_MSR_FIRST		0x40000000u	/* TLFS: the synthetic MSRs */
#define HV_MSR_LAST		0x400000ffu
#define KVM_PV_MSR_FIRST	0x4b564d00u	/* KVM's paravirtual MSRs */
#define KVM_PV_MSR_LAST		0x4b564dffu

/*
 * What a guest touches on its way up whatever its CPU model, so that a
 * deny-by-default filter does not turn a boot into a #GP.  Intel SDM vol.
 * 4, table 2-2 (IA-32 architectural MSRs), and AMD APM vol. 2, appendix A
 * (MSR cross-reference), for the AMD ones.  Each is also gated by KVM on
 * the guest's CPUID, so allowing one the model lacks gives the guest
 * nothing: KVM still answers #GP.  Vendor-specific ones are listed for
 * both vendors for that reason.  Sorted, disjoint.
 */
const struct hvr_msr_span hvr_boot_msrs[] = {
	{ 0x10, 0x10 },		/* IA32_TIME_STAMP_COUNTER */
	{ 0x1b, 0x1b },		/* IA32_APIC_BASE */
	{ 0x3a, 0x3b },		/* IA32_FEATURE_CONTROL, IA32_TSC_ADJUST */
	{ 0x48, 0x49 },		/* IA32_SPEC_CTRL, IA32_PRED_CMD */
	{ 0x8b, 0x8b },		/* IA32_BIOS_SIGN_ID (microcode revision) */
	{ 0xc1, 0xc8 },		/* IA32_PMC0..7 */
	{ 0xfe, 0xfe },		/* IA32_MTRRCAP */
	{ 0x10b, 0x10b },	/* IA32_FLUSH_CMD */
	{ 0x174, 0x176 },	/* IA32_SYSENTER_CS, _ESP, _EIP */
	{ 0x179, 0x17b },	/* IA32_MCG_CAP, _STATUS, _CTL */
	{ 0x186, 0x18d },	/* IA32_PERFEVTSEL0..7 */
	{ 0x1a0, 0x1a0 },	/* IA32_MISC_ENABLE */
	{ 0x1d9, 0x1d9 },	/* IA32_DEBUGCTL */
	{ 0x200, 0x20f },	/* IA32_MTRR_PHYSBASE0..PHYSMASK7 */
	{ 0x250, 0x250 },	/* IA32_MTRR_FIX64K_00000 */
	{ 0x258, 0x259 },	/* IA32_MTRR_FIX16K_80000, _A0000 */
	{ 0x268, 0x26f },	/* IA32_MTRR_FIX4K_C0000..F8000 */
	{ 0x277, 0x277 },	/* IA32_PAT */
	{ 0x2ff, 0x2ff },	/* IA32_MTRR_DEF_TYPE */
	{ 0x309, 0x30b },	/* IA32_FIXED_CTR0..2 */
	{ 0x345, 0x345 },	/* IA32_PERF_CAPABILITIES */
	{ 0x38d, 0x390 },	/* IA32_FIXED_CTR_CTRL, IA32_PERF_GLOBAL_STATUS, _CTRL, _OVF_CTRL */
	{ 0x400, 0x47f },	/* IA32_MC0..31_CTL, _STATUS, _ADDR, _MISC */
	{ 0x6e0, 0x6e0 },	/* IA32_TSC_DEADLINE */
	{ 0xda0, 0xda0 },	/* IA32_XSS */
	{ 0xc0000080, 0xc0000084 },	/* IA32_EFER, STAR, LSTAR, CSTAR, FMASK */
	{ 0xc0000100, 0xc0000103 },	/* FS_BASE, GS_BASE, KERNEL_GS_BASE, TSC_AUX */
	{ 0xc0010000, 0xc0010007 },	/* AMD PerfEvtSel0..3, PerfCtr0..3 */
	{ 0xc0010010, 0xc0010010 },	/* AMD SYSCFG */
	{ 0xc0010015, 0xc0010015 },	/* AMD HWCR */
	{ 0xc0010114, 0xc0010114 },	/* AMD VM_CR */
	{ 0xc0010117, 0xc0010117 },	/* AMD VM_HSAVE_PA */
	{ 0xc0010140, 0xc0010141 },	/* AMD OSVW_ID_Length, OSVW_Status */
	{ 0xc0010200, 0xc001020b },	/* AMD PerfEvtSel0..5, PerfCtr0..5 (core extension) */
};

const unsigned int hvr_nr_boot_msrs = ARRAY_SIZE(hvr_boot_msrs);

/* ----------------------------------------------------------- refusal */

static int refuse_model(const struct hvr_cpu_profile *host, const struct hvr_cpu_model *model,
			struct hvr_error *err)
{
	const char *first = NULL;
	unsigned int w, missing = 0;
	char vendor[13];

	memcpy(vendor, host->vendor, 12);
	vendor[12] = '\0';
	if (model->vendor && strcmp(model->vendor, vendor))
		return hvr_fail(err, -EINVAL, "CPU model '%s' is %s, this host is %s",
				model->name, model->vendor, vendor);
	if (hvr_profile_runs_model(host, model))
		return 0;
	for (w = 0; w < HVR_CPU_NR_WORDS; w++) {
		const struct hvr_cpu_word_def *d = &hvr_cpu_word_defs[w];
		const struct kvm_cpuid_entry2 *e = hvr_profile_leaf(host, d->function, d->index);
		uint32_t lack = model->words[w] & ~d->dynamic & ~(e ? hvr_reg_get(e, d->reg) : 0);
		unsigned int bit;

		for (bit = 0; bit < 32; bit++) {
			if (!(lack & (1u << bit)))
				continue;
			if (!first)
				first = d->names[bit] ? d->names[bit] : "(unnamed)";
			missing++;
		}
	}
	if (!missing)
		return hvr_fail(err, -EOPNOTSUPP,
				"this host cannot run CPU model '%s': IA32_ARCH_CAPABILITIES lacks its MSR features",
				model->name);
	return hvr_fail(err, -EOPNOTSUPP,
			"this host cannot run CPU model '%s': %u of its CPUID features missing, the first '%s'",
			model->name, missing, first);
}

static int refuse_profile(const struct hvr_cpu_profile *host, const struct hvr_cpu_profile *p,
			  struct hvr_error *err)
{
	struct hvr_profile_issue first;
	unsigned int i;
	int n;

	/* The filter has to cover every one of them, or the profile lies. */
	for (i = 0; i < p->nmsrs; i++) {
		if (!hvr_msr_filterable(p->msrs[i].index))
			return hvr_fail(err, -EINVAL,
					"profile MSR 0x%x is an x2APIC MSR (0x800-0x8ff), which KVM_X86_SET_MSR_FILTER cannot filter",
					p->msrs[i].index);
	}
	n = hvr_profile_check(host, p, &first, 1, err);
	if (n < 0)
		return n;
	if (n == 1)
		return hvr_fail(err, -EOPNOTSUPP, "this host cannot run the profile: %s",
				first.text);
	if (n > 1)
		return hvr_fail(err, -EOPNOTSUPP,
				"this host cannot run the profile: %d problems (kvm-hv-relay cpu check lists them), the first: %s",
				n, first.text);
	return 0;
}

/* -------------------------------------------------------------- CPUID */

/*
 * The profile is the guest's CPU; check already held its feature words to
 * the host's, and the AND says so once more where the CPUID is made, as the
 * model path does, so that no caller ordering can leak a feature through.
 */
static void mask_profile(const struct hvr_cpu_profile *host, struct kvm_cpuid_entry2 *e,
			 unsigned int n)
{
	unsigned int w;

	for (w = 0; w < HVR_CPU_NR_WORDS; w++) {
		const struct hvr_cpu_word_def *d = &hvr_cpu_word_defs[w];
		const struct kvm_cpuid_entry2 *h = hvr_profile_leaf(host, d->function, d->index);
		struct kvm_cpuid_entry2 *g = hvr_cpuid_find(e, n, d->function, d->index);
		uint32_t v;

		if (!g)
			continue;
		v = hvr_reg_get(g, d->reg);
		hvr_reg_set(g, d->reg, (v & ~d->dynamic & (h ? hvr_reg_get(h, d->reg) : 0)) |
			    (v & d->dynamic));
	}
}

static bool is_kvm_signature(const struct kvm_cpuid_entry2 *e)
{
	return e && !memcmp(&e->ebx, "KVMK", 4) && !memcmp(&e->ecx, "VMKV", 4) &&
	       !memcmp(&e->edx, "M\0\0\0", 4);
}

static int build_cpuid(const struct hvr_cpu_profile *host, const struct hvr_cpu_model *model,
		       const struct hvr_cpu_profile *profile, const struct hvr_config *cfg,
		       struct hvr_apply_plan *plan, struct hvr_error *err)
{
	struct kvm_cpuid_entry2 hv[HVR_CPUID_MAX_LEAVES];
	struct kvm_cpuid_entry2 *base;
	int nbase, nhv = 0, n;

	base = calloc(HVR_APPLY_MAX_CPUID, sizeof(*base));
	if (!base)
		return hvr_fail(err, -ENOMEM, "out of memory");
	if (model) {
		nbase = hvr_cpu_model_mask(model, host->cpuid, host->ncpuid, base,
					   HVR_APPLY_MAX_CPUID, err);
	} else {
		memcpy(base, profile->cpuid, profile->ncpuid * sizeof(*base));
		nbase = (int)profile->ncpuid;
		mask_profile(host, base, profile->ncpuid);
	}
	if (nbase >= 0 && cfg)
		nhv = hvr_cpuid_build(cfg, hv, HVR_CPUID_MAX_LEAVES, err);
	if (nbase < 0 || nhv < 0) {
		free(base);
		return nbase < 0 ? nbase : nhv;
	}
	n = hvr_cpuid_merge(base, (unsigned int)nbase, hv, (unsigned int)nhv, plan->cpuid,
			    HVR_APPLY_MAX_CPUID, err);
	free(base);
	if (n < 0)
		return n;
	plan->ncpuid = (unsigned int)n;
	plan->hyperv = nhv > 0;
	plan->kvm_pv = is_kvm_signature(hvr_cpuid_find(plan->cpuid, plan->ncpuid, 0x40000000, 0)) ||
		       is_kvm_signature(hvr_cpuid_find(plan->cpuid, plan->ncpuid, 0x40000100, 0));
	return 0;
}

/* ------------------------------------------------------------- filter */

static int cmp_span(const void *a, const void *b)
{
	const struct hvr_msr_span *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/*
 * Few ranges, since KVM takes at most 16: a range starts at the lowest MSR
 * not yet covered and takes every following allowed MSR its bitmap reaches.
 */
static int build_filter(struct hvr_apply_plan *plan, const struct hvr_cpu_profile *profile,
			struct hvr_error *err)
{
	unsigned int nspan = 0, i, k;
	struct hvr_msr_span *s;
	struct hvr_filter_range *r = NULL;
	int ret = 0;

	s = calloc(hvr_nr_boot_msrs + HVR_PROFILE_MAX_MSRS + 2, sizeof(*s));
	if (!s)
		return hvr_fail(err, -ENOMEM, "out of memory");
	memcpy(s, hvr_boot_msrs, hvr_nr_boot_msrs * sizeof(*s));
	nspan = hvr_nr_boot_msrs;
	for (i = 0; profile && i < profile->nmsrs; i++) {
		s[nspan].first = profile->msrs[i].index;
		s[nspan++].last = profile->msrs[i].index;
	}
	/*
	 * A guest told it runs on Hyper-V (or KVM) uses the MSRs that come
	 * with it; one that was not told has no business with them.
	 */
	if (plan->hyperv)
		s[nspan++] = (struct hvr_msr_span){ HV_MSR_FIRST, HV_MSR_LAST };
	if (plan->kvm_pv)
		s[nspan++] = (struct hvr_msr_span){ KVM_PV_MSR_FIRST, KVM_PV_MSR_LAST };
	qsort(s, nspan, sizeof(*s), cmp_span);

	plan->nranges = 0;
	memset(plan->ranges, 0, sizeof(plan->ranges));
	for (i = 0; i < nspan; i++) {
		uint32_t m;

		if (!r || s[i].last - r->base >= HVR_FILTER_RANGE_SPAN) {
			if (plan->nranges == KVM_MSR_FILTER_MAX_RANGES) {
				ret = hvr_fail(err, -E2BIG,
					       "the MSR filter needs more than %u ranges (MSR 0x%x is the first left out)",
					       KVM_MSR_FILTER_MAX_RANGES, s[i].first);
				break;
			}
			r = &plan->ranges[plan->nranges++];
			r->base = s[i].first;
		}
		for (m = s[i].first; ; m++) {
			k = m - r->base;
			r->bitmap[k / 8] |= 1u << (k % 8);
			if (k + 1 > r->nmsrs)
				r->nmsrs = k + 1;
			if (m == s[i].last)
				break;
		}
	}
	free(s);
	return ret;
}

bool hvr_plan_allows(const struct hvr_apply_plan *plan, uint32_t index)
{
	unsigned int i, k;

	for (i = 0; i < plan->nranges; i++) {
		const struct hvr_filter_range *r = &plan->ranges[i];

		if (index < r->base || index - r->base >= r->nmsrs)
			continue;
		k = index - r->base;
		if (r->bitmap[k / 8] & (1u << (k % 8)))
			return true;
	}
	return false;
}

int hvr_cpu_apply_plan(const struct hvr_cpu_profile *host, const struct hvr_cpu_model *model,
		       const struct hvr_cpu_profile *profile, const struct hvr_config *cfg,
		       struct hvr_apply_plan *plan, struct hvr_error *err)
{
	int ret;

	if (!host || !plan || !model == !profile)
		return hvr_fail(err, -EINVAL,
				"give a host profile and exactly one of a CPU model and a profile");
	memset(plan, 0, sizeof(*plan));
	ret = model ? refuse_model(host, model, err) : refuse_profile(host, profile, err);
	if (!ret)
		ret = build_cpuid(host, model, profile, cfg, plan, err);
	if (ret)
		return ret;
	if (profile) {
		plan->nmsrs = profile->nmsrs;
		memcpy(plan->msrs, profile->msrs, profile->nmsrs * sizeof(plan->msrs[0]));
	}
	return build_filter(plan, profile, err);
}

/* -------------------------------------------------------------- ioctls */

static int set_msrs(int vcpu_fd, const struct hvr_apply_plan *plan, struct hvr_error *err)
{
	struct kvm_msrs *m;
	unsigned int i;
	int r;

	if (!plan->nmsrs)
		return 0;
	m = calloc(1, sizeof(*m) + plan->nmsrs * sizeof(m->entries[0]));
	if (!m)
		return hvr_fail(err, -ENOMEM, "out of memory");
	m->nmsrs = plan->nmsrs;
	for (i = 0; i < plan->nmsrs; i++) {
		m->entries[i].index = plan->msrs[i].index;
		m->entries[i].data = plan->msrs[i].value;
	}
	/* KVM_SET_MSRS stops at the first MSR KVM refuses and counts those before it. */
	r = ioctl(vcpu_fd, KVM_SET_MSRS, m);
	if (r < 0)
		r = hvr_fail(err, -errno, "KVM_SET_MSRS: %s", strerror(errno));
	else if ((unsigned int)r < plan->nmsrs)
		r = hvr_fail(err, -EINVAL, "KVM_SET_MSRS: KVM refused MSR 0x%x = 0x%llx",
			     plan->msrs[r].index, (unsigned long long)plan->msrs[r].value);
	else
		r = 0;
	free(m);
	return r;
}

static int set_filter(int vm_fd, const struct hvr_apply_plan *plan, struct hvr_error *err)
{
	struct kvm_msr_filter f;
	unsigned int i;

	memset(&f, 0, sizeof(f));
	f.flags = KVM_MSR_FILTER_DEFAULT_DENY;
	for (i = 0; i < plan->nranges; i++) {
		f.ranges[i].flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE;
		f.ranges[i].base = plan->ranges[i].base;
		f.ranges[i].nmsrs = plan->ranges[i].nmsrs;
		f.ranges[i].bitmap = (__u8 *)plan->ranges[i].bitmap;
	}
	if (ioctl(vm_fd, KVM_X86_SET_MSR_FILTER, &f) < 0)
		return hvr_fail(err, -errno, "KVM_X86_SET_MSR_FILTER: %s", strerror(errno));
	return 0;
}

int hvr_cpu_apply(int vm_fd, int vcpu_fd, const struct hvr_cpu_profile *host,
		  const struct hvr_cpu_model *model, const struct hvr_cpu_profile *profile,
		  struct hvr_config *cfg, struct hvr_error *err)
{
	struct hvr_apply_plan *plan;
	int ret;

	plan = malloc(sizeof(*plan));
	if (!plan)
		return hvr_fail(err, -ENOMEM, "out of memory");
	/* Every refusal before the first ioctl that changes anything. */
	ret = hvr_cpu_apply_plan(host, model, profile, cfg, plan, err);
	if (ret)
		goto out;
	ret = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_MSR_FILTER);
	if (ret <= 0) {
		ret = hvr_fail(err, ret < 0 ? -errno : -EOPNOTSUPP,
			       "KVM_CAP_X86_MSR_FILTER: this KVM has no MSR filter (Linux 5.10 or later has)");
		goto out;
	}
	/*
	 * The vCPU may not be offered all cfg came with (no in-kernel LAPIC,
	 * say): what it is narrowed to decides the leaves, so plan again.
	 */
	if (cfg) {
		ret = hvr_vcpu_prepare(vcpu_fd, cfg, err);
		if (!ret)
			ret = hvr_cpu_apply_plan(host, model, profile, cfg, plan, err);
		if (ret)
			goto out;
	}
	/* The CPUID first: KVM gates MSR writes on the guest's CPUID. */
	ret = hvr_vcpu_set_cpuid(vcpu_fd, plan->cpuid, plan->ncpuid, err);
	if (!ret)
		ret = set_msrs(vcpu_fd, plan, err);
	if (!ret)
		ret = set_filter(vm_fd, plan, err);
out:
	free(plan);
	return ret;
}
