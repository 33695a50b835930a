// SPDX-License-Identifier: GPL-2.0-only
/*
 * L1's VP assist page, the half of the authorisation both vendors share.
 *
 * KVM keeps the page's GPA in the public pv_eoi gfn_to_hva_cache (the same
 * mechanism as the KVM PV-EOI MSR, told apart by its length).  The page is
 * L1 memory and is read through the VMM's mapping, as L1 wrote it.
 */
#include <linux/kvm_host.h>

#include "compat.h"
#include "kvm_hv_relay.h"

#define RELAY_ASSIST_LO	offsetof(struct hv_vp_assist_page, nested_control)
#define RELAY_ASSIST_HI	offsetofend(struct hv_vp_assist_page, current_nested_vmcs)
#define RELAY_ASSIST_AT(buf, member) \
	((buf) + offsetof(struct hv_vp_assist_page, member) - RELAY_ASSIST_LO)

/**
 * relay_vp_assist() - what L1's VP assist page says about nested hypercalls
 * @vcpu: the vCPU
 * @atomic: the caller cannot sleep, so the page must already be present
 * @evmcs: if not NULL, set to the current enlightened VMCS's GPA, or to 0
 *	without enlightened VM entry (Intel only)
 *
 * Return: RELAY_AUTH_DIRECT_HYPERCALL (nested_control.features.
 * directhypercall) and RELAY_AUTH_INTER_PARTITION (hypercall controls'
 * inter_partition_comm) bits, -ENOENT without a VP assist page, or
 * relay_read_l1()'s error.
 */
int relay_vp_assist(struct kvm_vcpu *vcpu, bool atomic, u64 *evmcs)
{
	struct gfn_to_hva_cache *assist = &vcpu->arch.pv_eoi.data;
	u8 buf[RELAY_ASSIST_HI - RELAY_ASSIST_LO];
	u32 features, controls;
	int auth = 0, ret;

	if (!(vcpu->arch.pv_eoi.msr_val & KVM_MSR_ENABLED) ||
	    assist->len < sizeof(struct hv_vp_assist_page))
		return -ENOENT;

	ret = relay_read_l1(vcpu->kvm, assist->gpa + RELAY_ASSIST_LO, buf,
			    sizeof(buf), atomic);
	if (ret)
		return ret;

	memcpy(&features, RELAY_ASSIST_AT(buf, nested_control), sizeof(features));
	memcpy(&controls, RELAY_ASSIST_AT(buf, nested_control) + 4,
	       sizeof(controls));
	if (features & BIT(0))
		auth |= RELAY_AUTH_DIRECT_HYPERCALL;
	if (controls & BIT(0))
		auth |= RELAY_AUTH_INTER_PARTITION;

	if (evmcs) {
		*evmcs = 0;
		if (*RELAY_ASSIST_AT(buf, enlighten_vmentry))
			memcpy(evmcs, RELAY_ASSIST_AT(buf, current_nested_vmcs),
			       sizeof(*evmcs));
	}
	return auth;
}
