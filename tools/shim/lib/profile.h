/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What profile.c and profile_rules.c share; not installed. */
#ifndef HVR_PROFILE_H
#define HVR_PROFILE_H

#include "internal.h"

/* Sort the CPUID entries by function and index, the MSRs by index. */
void hvr_profile_sort(struct hvr_cpu_profile *p);

/* A CPUID entry of a profile, or NULL. */
const struct kvm_cpuid_entry2 *hvr_profile_leaf(const struct hvr_cpu_profile *p,
						uint32_t function, uint32_t index);

/* An MSR of a profile, or NULL. */
const struct hvr_msr *hvr_profile_msr(const struct hvr_cpu_profile *p, uint32_t index);

/*
 * Whether KVM_X86_SET_MSR_FILTER can permit or deny @index: KVM always
 * allows the x2APIC MSRs 0x800..0x8ff, whatever the filter says
 * (Documentation/virt/kvm/api.rst, KVM_X86_SET_MSR_FILTER).
 */
bool hvr_msr_filterable(uint32_t index);

#endif /* HVR_PROFILE_H */
