/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What hvr_cpu_apply() works out before it issues any ioctl: the CPUID,
 * the feature MSRs and the MSR filter's allow ranges.  Kept apart from the
 * ioctls so that the unit tests can hold it to hand-worked fixtures;
 * not installed.
 */
#ifndef HVR_CPU_APPLY_H
#define HVR_CPU_APPLY_H

#include "internal.h"

/* The profile's or host's entries, 3 identity leaves a model may add, Hyper-V. */
#define HVR_APPLY_MAX_CPUID	(HVR_PROFILE_MAX_CPUID + 3 + HVR_CPUID_MAX_LEAVES)
/* What one filter range's bitmap can cover (KVM_MSR_FILTER_MAX_BITMAP_SIZE bytes). */
#define HVR_FILTER_RANGE_SPAN	(KVM_MSR_FILTER_MAX_BITMAP_SIZE * 8u)

/**
 * struct hvr_msr_span - MSRs first..last, all of them allowed
 * @first: the lowest index
 * @last: the highest
 */
struct hvr_msr_span {
	uint32_t first;
	uint32_t last;
};

/**
 * struct hvr_filter_range - one range of the KVM_X86_SET_MSR_FILTER list
 * @base: the MSR of bit 0
 * @nmsrs: the bits that count
 * @bitmap: a set bit allows reads and writes of @base + its number
 */
struct hvr_filter_range {
	uint32_t base;
	uint32_t nmsrs;
	uint8_t bitmap[KVM_MSR_FILTER_MAX_BITMAP_SIZE];
};

/**
 * struct hvr_apply_plan - everything hvr_cpu_apply() sets, worked out
 * @hyperv: the guest sees Hyper-V (the leaves and the synthetic MSRs)
 * @kvm_pv: the guest sees KVM's paravirtual signature
 * @ncpuid: entries in @cpuid
 * @cpuid: for KVM_SET_CPUID2
 * @nmsrs: entries in @msrs
 * @msrs: for KVM_SET_MSRS
 * @nranges: ranges in @ranges
 * @ranges: for KVM_X86_SET_MSR_FILTER, ascending, default deny
 */
struct hvr_apply_plan {
	bool hyperv;
	bool kvm_pv;
	unsigned int ncpuid;
	struct kvm_cpuid_entry2 cpuid[HVR_APPLY_MAX_CPUID];
	unsigned int nmsrs;
	struct hvr_msr msrs[HVR_PROFILE_MAX_MSRS];
	unsigned int nranges;
	struct hvr_filter_range ranges[KVM_MSR_FILTER_MAX_RANGES];
};

/* The architectural MSRs every guest is allowed (cpu_apply.c says why). */
extern const struct hvr_msr_span hvr_boot_msrs[];
extern const unsigned int hvr_nr_boot_msrs;

/**
 * hvr_cpu_apply_plan() - hvr_cpu_apply() without the ioctls
 * @host: as hvr_cpu_apply()
 * @model: as hvr_cpu_apply()
 * @profile: as hvr_cpu_apply()
 * @cfg: as hvr_cpu_apply(), but not narrowed to a vCPU here
 * @plan: filled on success
 * @err: optional
 *
 * Return: 0, or what hvr_cpu_apply() returns for a refusal.
 */
int hvr_cpu_apply_plan(const struct hvr_cpu_profile *host, const struct hvr_cpu_model *model,
		       const struct hvr_cpu_profile *profile, const struct hvr_config *cfg,
		       struct hvr_apply_plan *plan, struct hvr_error *err);

/* Whether @plan's filter allows @index. */
bool hvr_plan_allows(const struct hvr_apply_plan *plan, uint32_t index);

#endif /* HVR_CPU_APPLY_H */
