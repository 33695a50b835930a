// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What a CPU profile means for a host: whether the host can run it
 * (check), the greatest profile a set of hosts can all run (baseline), and
 * the newest named model a profile runs.  Check and baseline read the same
 * rules, one row per MSR, so that a baseline always passes the check on
 * every host it came from.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cpu_models.h"
#include "profile.h"

#define MSR_ARCH_CAPABILITIES	0x10au
#define U64(n)			(UINT64_C(1) << (n))
#define LOW32			UINT64_C(0x00000000ffffffff)
#define HIGH32			UINT64_C(0xffffffff00000000)
#define ALL64			UINT64_MAX

static const char *const reg_names[] = { "EAX", "EBX", "ECX", "EDX" };

/* Bits lo..hi of an MSR that hold one number. */
struct field {
	uint8_t lo, hi;
	const char *name;
};

/**
 * struct msr_rule - how one MSR's values compare and combine
 * @index: the MSR
 * @name: the SDM's or APM's name
 * @caps: bits that offer the guest something: the profile's must be the
 *	host's too; a baseline ANDs them
 * @musts: bits that constrain the guest (VMX allowed-0 and fixed-0 bits,
 *	"affected" bits): the host's must be the profile's too; a baseline
 *	ORs them
 * @ctls: a VMX control MSR: bits 31:0 allowed-0, 63:32 allowed-1 of the
 *	same controls, which messages say
 * @equal: fields that must match; a baseline leaves out an MSR its hosts
 *	disagree on
 * @atmost: counts and sizes: the profile's no larger; a baseline takes
 *	the smallest
 * @bit_names: names of single bits, for messages, or NULL
 *
 * Bits in none of these (reserved, or a microcode revision) are not
 * compared; a baseline keeps the first host's.
 */
struct msr_rule {
	uint32_t index;
	const char *name;
	uint64_t caps, musts;
	bool ctls;
	struct field equal[3];
	struct field atmost[2];
	const char *const *bit_names;
};

/* SDM vol. 4, table 2-2, IA32_ARCH_CAPABILITIES. */
static const char *const arch_cap_names[64] = {
	[0] = "RDCL_NO", [1] = "IBRS_ALL", [2] = "RSBA", [3] = "SKIP_L1DFL_VMENTRY",
	[4] = "SSB_NO", [5] = "MDS_NO", [6] = "IF_PSCHANGE_MC_NO", [7] = "TSX_CTRL",
	[8] = "TAA_NO", [9] = "MCU_CONTROL", [10] = "MISC_PACKAGE_CTLS",
	[11] = "ENERGY_FILTERING_CTL", [12] = "DOITM", [13] = "SBDR_SSDP_NO",
	[14] = "FBSDP_NO", [15] = "PSDP_NO", [17] = "FB_CLEAR", [18] = "FB_CLEAR_CTRL",
	[19] = "RRSBA", [20] = "BHI_NO", [21] = "XAPIC_DISABLE_STATUS",
	[23] = "OVERCLOCKING_STATUS", [24] = "PBRSB_NO", [25] = "GDS_CTRL", [26] = "GDS_NO",
	[27] = "RFDS_NO", [28] = "RFDS_CLEAR",
};

/*
 * RSBA and RRSBA say the processor *is* affected (its RSB may fall back to
 * other predictors): a guest told "not RSBA" on a host that is would skip
 * a mitigation it needs.  Every other bit is a capability or "not affected".
 */
#define ARCH_CAP_AFFECTED	(U64(2) | U64(19))

#define VMX_CTLS(idx, nm)	{ .index = (idx), .name = (nm), .caps = HIGH32, .musts = LOW32, .ctls = true }

static const struct msr_rule msr_rules[] = {
	/* Microcode revision: the host's own, nothing a guest relies on. */
	{ .index = 0x8b, .name = "IA32_BIOS_SIGN_ID" },
	/*
	 * KVM reports bit 31 alone (CPUID faulting, which KVM emulates); the
	 * other fields are the host's clock ratios, nothing a guest is promised.
	 */
	{ .index = 0xce, .name = "MSR_PLATFORM_INFO", .caps = U64(31) },
	{ .index = MSR_ARCH_CAPABILITIES, .name = "IA32_ARCH_CAPABILITIES",
	  .caps = ~ARCH_CAP_AFFECTED, .musts = ARCH_CAP_AFFECTED, .bit_names = arch_cap_names },
	/* SDM vol. 4, IA32_PERF_CAPABILITIES: two format fields, then capability bits. */
	{ .index = 0x345, .name = "IA32_PERF_CAPABILITIES",
	  .caps = ALL64 & ~UINT64_C(0xf3f),
	  .equal = { { 0, 5, "LBR format" }, { 8, 11, "PEBS record format" } } },
	/* SDM vol. 3, appendix A.1: revision, VMCS size and memory type must match. */
	{ .index = 0x480, .name = "IA32_VMX_BASIC",
	  .caps = U64(49) | U64(54) | U64(55) | U64(56), .musts = U64(48),
	  .equal = { { 0, 30, "VMCS revision" }, { 32, 44, "VMCS size" }, { 50, 53, "VMCS memory type" } } },
	/* A.3.1, A.3.2, A.4, A.5: allowed-0 settings in 31:0, allowed-1 in 63:32. */
	VMX_CTLS(0x481, "IA32_VMX_PINBASED_CTLS"),
	VMX_CTLS(0x482, "IA32_VMX_PROCBASED_CTLS"),
	VMX_CTLS(0x483, "IA32_VMX_EXIT_CTLS"),
	VMX_CTLS(0x484, "IA32_VMX_ENTRY_CTLS"),
	/* A.6 */
	{ .index = 0x485, .name = "IA32_VMX_MISC",
	  .caps = U64(5) | U64(6) | U64(7) | U64(8) | U64(14) | U64(15) | U64(28) | U64(29) | U64(30),
	  .equal = { { 0, 4, "preemption timer rate" }, { 32, 63, "MSEG revision" } },
	  .atmost = { { 16, 24, "CR3-target count" }, { 25, 27, "MSR list size" } } },
	/* A.7, A.8: fixed-0 bits must be 1 in VMX operation, fixed-1 bits may be. */
	{ .index = 0x486, .name = "IA32_VMX_CR0_FIXED0", .musts = ALL64 },
	{ .index = 0x487, .name = "IA32_VMX_CR0_FIXED1", .caps = ALL64 },
	{ .index = 0x488, .name = "IA32_VMX_CR4_FIXED0", .musts = ALL64 },
	{ .index = 0x489, .name = "IA32_VMX_CR4_FIXED1", .caps = ALL64 },
	/* A.9 */
	{ .index = 0x48a, .name = "IA32_VMX_VMCS_ENUM", .atmost = { { 1, 9, "highest field index" } } },
	/* A.3.3 */
	VMX_CTLS(0x48b, "IA32_VMX_PROCBASED_CTLS2"),
	/* A.10 */
	{ .index = 0x48c, .name = "IA32_VMX_EPT_VPID_CAP", .caps = ALL64 },
	/* A.3.1 to A.5: the TRUE_ controls, same layout */
	VMX_CTLS(0x48d, "IA32_VMX_TRUE_PINBASED_CTLS"),
	VMX_CTLS(0x48e, "IA32_VMX_TRUE_PROCBASED_CTLS"),
	VMX_CTLS(0x48f, "IA32_VMX_TRUE_EXIT_CTLS"),
	VMX_CTLS(0x490, "IA32_VMX_TRUE_ENTRY_CTLS"),
	/* A.11 */
	{ .index = 0x491, .name = "IA32_VMX_VMFUNC", .caps = ALL64 },
	/* A.3.4: tertiary controls have allowed-1 bits only */
	{ .index = 0x492, .name = "IA32_VMX_PROCBASED_CTLS3", .caps = ALL64 },
	/* AMD: bit 1, LFENCE is dispatch-serialising */
	{ .index = 0xc0011029, .name = "DE_CFG", .caps = ALL64 },
};

/* An MSR no row describes: only the same value is known to be safe. */
static const struct msr_rule unknown_rule = {
	.name = "(no rule)", .equal = { { 0, 63, "value" } },
};

static const struct msr_rule *rule_of(uint32_t index)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(msr_rules); i++) {
		if (msr_rules[i].index == index)
			return &msr_rules[i];
	}
	return &unknown_rule;
}

static uint64_t field_mask(const struct field *f)
{
	unsigned int w = f->hi - f->lo + 1u;

	return (w == 64 ? ALL64 : (U64(w) - 1)) << f->lo;
}

static uint64_t field_get(const struct field *f, uint64_t v)
{
	return (v & field_mask(f)) >> f->lo;
}

/* ------------------------------------------------------------------ issues */

struct issues {
	struct hvr_profile_issue *v;
	unsigned int max, n;
};

static struct hvr_profile_issue *add(struct issues *is, enum hvr_issue_kind kind, uint32_t fn,
				     uint32_t idx, unsigned int reg, uint64_t bits, uint64_t want,
				     uint64_t have)
{
	struct hvr_profile_issue *i;

	if (is->n++ >= is->max || !is->v)
		return NULL;
	i = &is->v[is->n - 1];
	memset(i, 0, sizeof(*i));
	i->kind = kind;
	i->function = fn;
	i->index = idx;
	i->reg = reg;
	i->bits = bits;
	i->want = want;
	i->have = have;
	return i;
}

static void say(struct hvr_profile_issue *i, const char *fmt, ...) HVR_PRINTF(2, 3);

static void say(struct hvr_profile_issue *i, const char *fmt, ...)
{
	va_list ap;

	if (!i)
		return;
	va_start(ap, fmt);
	vsnprintf(i->text, sizeof(i->text), fmt, ap);
	va_end(ap);
}

static uint32_t reg_of(const struct hvr_cpu_profile *p, uint32_t fn, uint32_t idx,
		       unsigned int reg)
{
	const struct kvm_cpuid_entry2 *e = hvr_profile_leaf(p, fn, idx);

	return e ? hvr_reg_get(e, reg) : 0;
}

/* --------------------------------------------------------------- CPUID */

/* SDM vol. 1, 13.1: the XSAVE state components. */
static const char *const xsave_names[] = {
	"x87", "SSE", "AVX", "MPX BNDREGS", "MPX BNDCSR", "AVX-512 opmask", "AVX-512 ZMM_Hi256",
	"AVX-512 Hi16_ZMM", "PT", "PKRU", "PASID", "CET_U", "CET_S", "HDC", "UINTR", "LBR", "HWP",
	"AMX TILECFG", "AMX TILEDATA",
};

/* The XSAVE component bitmaps: XCR0 in 0xD.0 EAX/EDX, IA32_XSS in 0xD.1 ECX/EDX. */
static const struct {
	uint32_t index;
	unsigned int reg, first;
	const char *what;
} xsave_words[] = {
	{ 0, HVR_EAX, 0, "XCR0" }, { 0, HVR_EDX, 32, "XCR0" },
	{ 1, HVR_ECX, 0, "IA32_XSS" }, { 1, HVR_EDX, 32, "IA32_XSS" },
};

/* 0x80000008 EAX: numbers a guest sizes its page tables by (SDM, APM). */
static const struct field addr_fields[] = {
	{ 0, 7, "physical address bits" },
	{ 8, 15, "linear address bits" },
};

static void check_cpuid(const struct hvr_cpu_profile *host, const struct hvr_cpu_profile *want,
			struct issues *is)
{
	unsigned int w, b, k;

	for (w = 0; w < HVR_CPU_NR_WORDS; w++) {
		const struct hvr_cpu_word_def *d = &hvr_cpu_word_defs[w];
		uint32_t pv = reg_of(want, d->function, d->index, d->reg);
		uint32_t hv = reg_of(host, d->function, d->index, d->reg);
		uint32_t miss = pv & ~hv & ~d->dynamic;

		for (b = 0; b < 32; b++) {
			struct hvr_profile_issue *i;

			if (!(miss >> b & 1))
				continue;
			i = add(is, HVR_ISSUE_CPUID, d->function, d->index, d->reg, U64(b), pv, hv);
			if (d->names[b])
				say(i, "CPUID %s (leaf 0x%08x index %u %s bit %u): not on this host",
				    d->names[b], d->function, d->index, reg_names[d->reg], b);
			else
				say(i, "CPUID leaf 0x%08x index %u %s bit %u: not on this host",
				    d->function, d->index, reg_names[d->reg], b);
		}
	}
	for (k = 0; k < ARRAY_SIZE(xsave_words); k++) {
		uint32_t pv = reg_of(want, 0xd, xsave_words[k].index, xsave_words[k].reg);
		uint32_t hv = reg_of(host, 0xd, xsave_words[k].index, xsave_words[k].reg);

		for (b = 0; b < 32; b++) {
			unsigned int c = xsave_words[k].first + b;

			if (!((pv & ~hv) >> b & 1))
				continue;
			say(add(is, HVR_ISSUE_CPUID, 0xd, xsave_words[k].index, xsave_words[k].reg,
				U64(b), pv, hv),
			    "CPUID %s component %u%s%s (leaf 0x0000000d index %u %s bit %u): not on this host",
			    xsave_words[k].what, c, c < ARRAY_SIZE(xsave_names) ? " " : "",
			    c < ARRAY_SIZE(xsave_names) ? xsave_names[c] : "", xsave_words[k].index,
			    reg_names[xsave_words[k].reg], b);
		}
	}
	for (k = 0; k < ARRAY_SIZE(addr_fields); k++) {
		uint32_t pv = reg_of(want, 0x80000008u, 0, HVR_EAX);
		uint32_t hv = reg_of(host, 0x80000008u, 0, HVR_EAX);
		uint64_t pf = field_get(&addr_fields[k], pv), hf = field_get(&addr_fields[k], hv);

		if (pf > hf)
			say(add(is, HVR_ISSUE_CPUID_FIELD, 0x80000008u, 0, HVR_EAX,
				field_mask(&addr_fields[k]), pv, hv),
			    "CPUID %s (leaf 0x80000008 EAX[%u:%u]): the profile has %llu, this host %llu",
			    addr_fields[k].name, addr_fields[k].hi, addr_fields[k].lo,
			    (unsigned long long)pf, (unsigned long long)hf);
	}
}

/* ------------------------------------------------------------------- MSRs */

static void bit_issue(struct issues *is, const struct msr_rule *r, uint32_t index, unsigned int b,
		      bool host_extra, uint64_t want, uint64_t have)
{
	struct hvr_profile_issue *i = add(is, HVR_ISSUE_MSR, index, 0, 0, U64(b), want, have);
	const char *bn = r->bit_names ? r->bit_names[b] : NULL;
	char what[64] = "";

	if (r->ctls)
		snprintf(what, sizeof(what), host_extra ? " (allowed-0 of control %u)" :
			 " (allowed-1 of control %u)", b % 32);
	say(i, "MSR 0x%x %s bit %u%s%s%s: %s", index, r->name, b, bn ? " " : "", bn ? bn : "", what,
	    host_extra ? "this host has it set, the profile does not" :
			 "the profile has it set, this host does not");
}

static void check_msr(const struct hvr_msr *hm, const struct hvr_msr *pm, struct issues *is)
{
	const struct msr_rule *r = rule_of(pm->index);
	uint64_t pv = pm->value, hv = hm->value;
	unsigned int b, k;

	for (b = 0; b < 64; b++) {
		if ((pv & ~hv & r->caps) >> b & 1)
			bit_issue(is, r, pm->index, b, false, pv, hv);
		if ((hv & ~pv & r->musts) >> b & 1)
			bit_issue(is, r, pm->index, b, true, pv, hv);
	}
	for (k = 0; k < ARRAY_SIZE(r->equal) && r->equal[k].name; k++) {
		const struct field *f = &r->equal[k];

		if (field_get(f, pv) != field_get(f, hv))
			say(add(is, HVR_ISSUE_MSR, pm->index, 0, 0, field_mask(f), pv, hv),
			    "MSR 0x%x %s bits %u:%u (%s): the profile has 0x%llx, this host 0x%llx",
			    pm->index, r->name, f->hi, f->lo, f->name,
			    (unsigned long long)field_get(f, pv), (unsigned long long)field_get(f, hv));
	}
	for (k = 0; k < ARRAY_SIZE(r->atmost) && r->atmost[k].name; k++) {
		const struct field *f = &r->atmost[k];

		if (field_get(f, pv) > field_get(f, hv))
			say(add(is, HVR_ISSUE_MSR, pm->index, 0, 0, field_mask(f), pv, hv),
			    "MSR 0x%x %s bits %u:%u (%s): the profile has %llu, this host %llu",
			    pm->index, r->name, f->hi, f->lo, f->name,
			    (unsigned long long)field_get(f, pv), (unsigned long long)field_get(f, hv));
	}
}

int hvr_profile_check(const struct hvr_cpu_profile *host, const struct hvr_cpu_profile *want,
		      struct hvr_profile_issue *issues, unsigned int max, struct hvr_error *err)
{
	struct issues is = { .v = issues, .max = max };
	unsigned int i;

	/*
	 * A guest picks its code paths by vendor at boot (SYSCALL in compat
	 * mode, the vendor's MSRs and errata) and KVM emulates neither vendor
	 * on the other: that is not a missing feature but another machine.
	 */
	if (strcmp(host->vendor, want->vendor))
		return hvr_fail(err, -EINVAL,
				"the profile is %s, this host is %s: a guest cannot move between vendors",
				want->vendor, host->vendor);
	check_cpuid(host, want, &is);
	for (i = 0; i < want->nmsrs; i++) {
		const struct hvr_msr *pm = &want->msrs[i], *hm = hvr_profile_msr(host, pm->index);

		if (!hm)
			say(add(&is, HVR_ISSUE_MSR_ABSENT, pm->index, 0, 0, 0, pm->value, 0),
			    "MSR 0x%x %s: this host's KVM does not report it", pm->index,
			    rule_of(pm->index)->name);
		else
			check_msr(hm, pm, &is);
	}
	return (int)is.n;
}

/* --------------------------------------------------------------- baseline */

static void and_reg(struct kvm_cpuid_entry2 *e, const struct hvr_cpu_profile *p, unsigned int reg)
{
	hvr_reg_set(e, reg, hvr_reg_get(e, reg) & reg_of(p, e->function, e->index, reg));
}

static uint32_t min_field32(uint32_t v, uint32_t other, const struct field *f)
{
	uint64_t m = field_mask(f);

	if (field_get(f, other) < field_get(f, v))
		v = (uint32_t)((v & ~m) | (other & m));
	return v;
}

static void baseline_cpuid(struct hvr_cpu_profile *out, const struct hvr_cpu_profile *p)
{
	static const struct field max_leaf = { 0, 31, "maximum leaf" };
	unsigned int i, o, w, k;

	/* Only what every host has: a leaf one of them lacks is all zeros there. */
	for (i = 0, o = 0; i < out->ncpuid; i++) {
		if (hvr_profile_leaf(p, out->cpuid[i].function, out->cpuid[i].index))
			out->cpuid[o++] = out->cpuid[i];
	}
	out->ncpuid = o;
	for (i = 0; i < out->ncpuid; i++) {
		struct kvm_cpuid_entry2 *e = &out->cpuid[i];
		const struct kvm_cpuid_entry2 *pe = hvr_profile_leaf(p, e->function, e->index);

		if ((e->function == 0 || e->function == 0x80000000u) && e->index == 0)
			e->eax = min_field32(e->eax, pe->eax, &max_leaf);
		if (e->function == 0x80000008u && e->index == 0) {
			for (k = 0; k < ARRAY_SIZE(addr_fields); k++)
				e->eax = min_field32(e->eax, pe->eax, &addr_fields[k]);
		}
		for (w = 0; w < HVR_CPU_NR_WORDS; w++) {
			const struct hvr_cpu_word_def *d = &hvr_cpu_word_defs[w];

			if (d->function == e->function && d->index == e->index)
				and_reg(e, p, d->reg);
		}
		for (k = 0; k < ARRAY_SIZE(xsave_words); k++) {
			if (e->function == 0xd && e->index == xsave_words[k].index)
				and_reg(e, p, xsave_words[k].reg);
		}
	}
}

/* Return: false when the hosts disagree on a field that must match. */
static bool baseline_msr(struct hvr_msr *m, const struct hvr_msr *other, struct issues *is)
{
	const struct msr_rule *r = rule_of(m->index);
	uint64_t v = m->value, o = other->value;
	unsigned int k;

	for (k = 0; k < ARRAY_SIZE(r->equal) && r->equal[k].name; k++) {
		const struct field *f = &r->equal[k];

		if (field_get(f, v) != field_get(f, o)) {
			say(add(is, HVR_ISSUE_MSR, m->index, 0, 0, field_mask(f), v, o),
			    "MSR 0x%x %s bits %u:%u (%s): the hosts differ (0x%llx, 0x%llx), so it is left out",
			    m->index, r->name, f->hi, f->lo, f->name,
			    (unsigned long long)field_get(f, v), (unsigned long long)field_get(f, o));
			return false;
		}
	}
	v = (v & ~r->caps) | (v & o & r->caps);
	v |= o & r->musts;
	for (k = 0; k < ARRAY_SIZE(r->atmost) && r->atmost[k].name; k++) {
		const struct field *f = &r->atmost[k];

		if (field_get(f, o) < field_get(f, v))
			v = (v & ~field_mask(f)) | (o & field_mask(f));
	}
	m->value = v;
	return true;
}

int hvr_profile_baseline(const struct hvr_cpu_profile *const *hosts, unsigned int n,
			 struct hvr_cpu_profile *out, struct hvr_profile_issue *left_out,
			 unsigned int max, struct hvr_error *err)
{
	struct issues is = { .v = left_out, .max = max };
	unsigned int h, i, o;

	if (!n)
		return hvr_fail(err, -EINVAL, "a baseline needs at least one profile");
	for (h = 1; h < n; h++) {
		if (strcmp(hosts[h]->vendor, hosts[0]->vendor))
			return hvr_fail(err, -EINVAL,
					"mixed vendors: profile 1 is %s, profile %u is %s; no guest runs on both",
					hosts[0]->vendor, h + 1, hosts[h]->vendor);
	}
	*out = *hosts[0];
	snprintf(out->comment, sizeof(out->comment), "baseline of %u profiles (kvm-hv-relay cpu baseline)", n);
	for (h = 1; h < n; h++)
		baseline_cpuid(out, hosts[h]);
	for (i = 0, o = 0; i < out->nmsrs; i++) {
		struct hvr_msr m = out->msrs[i];
		bool keep = true;

		for (h = 1; keep && h < n; h++) {
			const struct hvr_msr *other = hvr_profile_msr(hosts[h], m.index);

			if (!other) {
				say(add(&is, HVR_ISSUE_MSR_ABSENT, m.index, 0, 0, 0, m.value, 0),
				    "MSR 0x%x %s: profile %u does not have it, so it is left out",
				    m.index, rule_of(m.index)->name, h + 1);
				keep = false;
			} else {
				keep = baseline_msr(&m, other, &is);
			}
		}
		if (keep)
			out->msrs[o++] = m;
	}
	out->nmsrs = o;
	/* What a later host has and the first lacks is left out too: say so, once. */
	for (h = 1; h < n; h++) {
		for (i = 0; i < hosts[h]->nmsrs; i++) {
			const struct hvr_msr *m = &hosts[h]->msrs[i];
			unsigned int j;

			for (j = 0; j < h && !hvr_profile_msr(hosts[j], m->index); j++)
				;
			if (j == h)
				say(add(&is, HVR_ISSUE_MSR_ABSENT, m->index, 0, 0, 0, m->value, 0),
				    "MSR 0x%x %s: profile 1 does not have it, so it is left out",
				    m->index, rule_of(m->index)->name);
		}
	}
	return (int)is.n;
}

/* ------------------------------------------------------------------ models */

/* QEMU's names of IA32_ARCH_CAPABILITIES bits (SDM vol. 4, table 2-2). */
static const struct {
	const char *name;
	unsigned int bit;
} arch_cap_features[] = {
	{ "rdctl-no", 0 }, { "ibrs-all", 1 }, { "skip-l1dfl-vmentry", 3 }, { "ssb-no", 4 },
	{ "mds-no", 5 }, { "pschange-mc-no", 6 }, { "tsx-ctrl", 7 }, { "taa-no", 8 },
	{ "sbdr-ssdp-no", 13 }, { "fbsdp-no", 14 }, { "psdp-no", 15 }, { "fb-clear", 17 },
	{ "bhi-no", 20 }, { "pbrsb-no", 24 }, { "gds-no", 26 }, { "rfds-no", 27 },
};

static bool has_msr_feature(const struct hvr_cpu_profile *p, const char *name)
{
	const struct hvr_msr *caps = hvr_profile_msr(p, MSR_ARCH_CAPABILITIES);
	unsigned int i;

	/* "rsba" tells the guest it is affected: safe to say on any host. */
	if (!strcmp(name, "rsba"))
		return true;
	for (i = 0; i < ARRAY_SIZE(arch_cap_features); i++) {
		if (!strcmp(arch_cap_features[i].name, name))
			return caps && caps->value >> arch_cap_features[i].bit & 1;
	}
	return false;
}

bool hvr_profile_runs_model(const struct hvr_cpu_profile *p, const struct hvr_cpu_model *model)
{
	const char *const *f;
	unsigned int w;

	if (model->vendor && strcmp(model->vendor, p->vendor))
		return false;
	for (w = 0; w < HVR_CPU_NR_WORDS; w++) {
		const struct hvr_cpu_word_def *d = &hvr_cpu_word_defs[w];

		if (model->words[w] & ~d->dynamic & ~reg_of(p, d->function, d->index, d->reg))
			return false;
	}
	for (f = model->msr_features; f && *f; f++) {
		if (!has_msr_feature(p, *f))
			return false;
	}
	return true;
}

const struct hvr_cpu_model *hvr_profile_newest_model(const struct hvr_cpu_profile *p, bool psabi)
{
	const struct hvr_cpu_model *best = NULL;
	unsigned int i, w, bits, best_bits = 0;

	for (i = 0; i < hvr_cpu_nr_models; i++) {
		const struct hvr_cpu_model *m = &hvr_cpu_models[i];

		if (!m->vendor != psabi || !hvr_profile_runs_model(p, m))
			continue;
		for (w = 0, bits = 0; w < HVR_CPU_NR_WORDS; w++)
			bits += (unsigned int)__builtin_popcount(m->words[w] & ~hvr_cpu_word_defs[w].dynamic);
		if (!best || bits >= best_bits) {
			best = m;
			best_bits = bits;
		}
	}
	return best;
}
