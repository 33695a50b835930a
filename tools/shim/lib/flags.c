// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One row per enlightenment: its spec names, what it needs, what the host
 * must offer for it, what the guest is shown and which KVM capability backs
 * it.  Parsing (spec.c), host narrowing (host.c, resolve.c), leaf building
 * (cpuid.c) and vCPU setup (vcpu.c) all read this table, so that a flag is
 * described once, as QEMU's kvm_hyperv_properties[] describes its hv-* set.
 */
#include "internal.h"
#include "tlfs.h"

#define F(x)		HVR_FLAG(HVR_##x)
#define BITS(fn, r, m)	{ .function = HV_CPUID_##fn, .reg = HVR_##r, .mask = (m) }
#define ANY(fn, r, m)	{ .function = HV_CPUID_##fn, .reg = HVR_##r, .mask = (m), .any = true }

/*
 * Dependencies are QEMU's docs/system/i386/hyperv.rst's.  tlbflush and ipi
 * target VPs by index, hence vpindex.  Host bits are what QEMU's
 * kvm_hyperv_properties[] asks KVM_GET_SUPPORTED_HV_CPUID for; guest bits
 * are what its hyperv_fill_cpuids() shows for the same hv-* property,
 * except where a comment says otherwise.
 */
const struct hvr_flag_row hvr_flag_rows[HVR_NR_FLAGS] = {
	[HVR_RELAXED] = {
		.name = "relaxed",
		.host = { BITS(ENLIGHTENMENT_INFO, EAX, HV_USE_RELAXED_TIMING) },
		.host_what = "0x40000004 EAX bit 5, relaxed timing",
		.guest = { BITS(ENLIGHTENMENT_INFO, EAX, HV_USE_RELAXED_TIMING) },
	},
	/*
	 * The APIC MSRs are recommended with or without avic: without them
	 * vmbus.sys takes the GHCB path and bugchecks 0x7E.
	 */
	[HVR_VAPIC] = {
		.name = "vapic",
		.host = { BITS(FEATURES, EAX, HV_ACCESS_INTR_CTRL_REGS) },
		.host_what = "0x40000003 EAX bit 4, APIC MSRs",
		.guest = { BITS(FEATURES, EAX, HV_ACCESS_INTR_CTRL_REGS),
			   BITS(ENLIGHTENMENT_INFO, EAX, HV_USE_APIC_MSRS) },
	},
	/* Its count is 0x40000004 EBX, which cpuid.c fills from the spec. */
	[HVR_SPINLOCKS] = {
		.name = "spinlocks",
		.quiet = true,
	},
	[HVR_VPINDEX] = {
		.name = "vpindex",
		.alias = "vp_index",
		.host = { BITS(FEATURES, EAX, HV_ACCESS_VP_INDEX) },
		.host_what = "0x40000003 EAX bit 6, VP index MSR",
		.guest = { BITS(FEATURES, EAX, HV_ACCESS_VP_INDEX) },
	},
	[HVR_RUNTIME] = {
		.name = "runtime",
		.alias = "vp_runtime",
		.host = { BITS(FEATURES, EAX, HV_ACCESS_VP_RUNTIME_REG) },
		.host_what = "0x40000003 EAX bit 0, VP runtime MSR",
		.guest = { BITS(FEATURES, EAX, HV_ACCESS_VP_RUNTIME_REG) },
	},
	[HVR_CRASH] = {
		.name = "crash",
		.host = { BITS(FEATURES, EDX, HV_GUEST_CRASH_REGS_AVAILABLE) },
		.host_what = "0x40000003 EDX bit 10, guest crash MSRs",
		.guest = { BITS(FEATURES, EDX, HV_GUEST_CRASH_REGS_AVAILABLE) },
	},
	[HVR_TIME] = {
		.name = "time",
		.host = { BITS(FEATURES, EAX, HV_ACCESS_PARTITION_REFERENCE_COUNTER |
					      HV_ACCESS_PARTITION_REFERENCE_TSC) },
		.host_what = "0x40000003 EAX bits 1 and 9, reference counter and TSC page",
		.guest = { BITS(FEATURES, EAX, HV_ACCESS_PARTITION_REFERENCE_COUNTER |
					       HV_ACCESS_PARTITION_REFERENCE_TSC) },
	},
	/*
	 * vmbus posts messages and signals events, the two calls the relay
	 * forwards; QEMU grants exactly these with hv-synic.  Not CreatePort or
	 * ConnectPort: KVM implements neither hypercall and its
	 * KVM_GET_SUPPORTED_HV_CPUID does not offer them.  Never
	 * CreatePartitions, AccessMemoryPool or StartVirtualProcessor either:
	 * those would make the root manage partitions that KVM does not have.
	 */
	[HVR_SYNIC] = {
		.name = "synic",
		.deps = F(VPINDEX),
		.host = { BITS(FEATURES, EAX, HV_ACCESS_SYNIC_REGS) },
		.host_what = "0x40000003 EAX bit 2, SynIC MSRs",
		.guest = { BITS(FEATURES, EAX, HV_ACCESS_SYNIC_REGS),
			   BITS(FEATURES, EBX, HV_POST_MESSAGES | HV_SIGNAL_EVENTS) },
		.kvm_cap = KVM_CAP_HYPERV_SYNIC2,
	},
	[HVR_STIMER] = {
		.name = "stimer",
		.deps = F(VPINDEX) | F(SYNIC) | F(TIME),
		.host = { BITS(FEATURES, EAX, HV_ACCESS_SYNTHETIC_TIMER_REGS) },
		.host_what = "0x40000003 EAX bit 3, synthetic timer MSRs",
		.guest = { BITS(FEATURES, EAX, HV_ACCESS_SYNTHETIC_TIMER_REGS) },
	},
	[HVR_STIMER_DIRECT] = {
		.name = "stimer_direct",
		.deps = F(STIMER),
		.host = { BITS(FEATURES, EDX, HV_DIRECT_SYNTHETIC_TIMERS) },
		.host_what = "0x40000003 EDX bit 19, direct synthetic timers",
		.guest = { BITS(FEATURES, EDX, HV_DIRECT_SYNTHETIC_TIMERS) },
	},
	/*
	 * Remote flushes only: with EPT or NPT a local INVLPG does not exit, the
	 * hypercall would.  Neither QEMU nor KVM's own leaves recommend it.  The
	 * guest is told to use ex processor masks, so the host must offer them.
	 */
	[HVR_TLBFLUSH] = {
		.name = "tlbflush",
		.deps = F(VPINDEX),
		.host = { BITS(ENLIGHTENMENT_INFO, EAX,
			       HV_USE_HYPERCALL_FOR_REMOTE_FLUSH | HV_USE_EX_PROCESSOR_MASKS) },
		.host_what = "0x40000004 EAX bits 2 and 11, remote flush hypercalls",
		.guest = { BITS(ENLIGHTENMENT_INFO, EAX,
				HV_USE_HYPERCALL_FOR_REMOTE_FLUSH | HV_USE_EX_PROCESSOR_MASKS) },
	},
	[HVR_TLBFLUSH_EXT] = {
		.name = "tlbflush_ext",
		.deps = F(TLBFLUSH),
		.host = { BITS(FEATURES, EDX, HV_EXTENDED_GVA_RANGES_FOR_FLUSH) },
		.host_what = "0x40000003 EDX bit 14, extended GVA ranges for flush",
		.guest = { BITS(FEATURES, EDX, HV_EXTENDED_GVA_RANGES_FOR_FLUSH) },
	},
	[HVR_TLBFLUSH_DIRECT] = {
		.name = "tlbflush_direct",
		.deps = F(VAPIC),
		.host = { BITS(NESTED_FEATURES, EAX, HV_NESTED_DIRECT_FLUSH) },
		.host_what = "0x4000000A EAX bit 17, direct flush",
		.guest = { BITS(NESTED_FEATURES, EAX, HV_NESTED_DIRECT_FLUSH) },
	},
	[HVR_IPI] = {
		.name = "ipi",
		.deps = F(VPINDEX),
		.host = { BITS(ENLIGHTENMENT_INFO, EAX,
			       HV_USE_SYNTHETIC_CLUSTER_IPI | HV_USE_EX_PROCESSOR_MASKS) },
		.host_what = "0x40000004 EAX bits 10 and 11, synthetic cluster IPI",
		.guest = { BITS(ENLIGHTENMENT_INFO, EAX,
				HV_USE_SYNTHETIC_CLUSTER_IPI | HV_USE_EX_PROCESSOR_MASKS) },
	},
	[HVR_RESET] = {
		.name = "reset",
		.host = { BITS(FEATURES, EAX, HV_ACCESS_RESET_REG) },
		.host_what = "0x40000003 EAX bit 7, reset MSR",
		.guest = { BITS(FEATURES, EAX, HV_ACCESS_RESET_REG) },
	},
	[HVR_FREQUENCIES] = {
		.name = "frequencies",
		.host = { BITS(FEATURES, EAX, HV_ACCESS_FREQUENCY_REGS),
			  BITS(FEATURES, EDX, HV_FREQUENCY_REGS_AVAILABLE) },
		.host_what = "0x40000003 EAX bit 11 and EDX bit 8, frequency MSRs",
		.guest = { BITS(FEATURES, EAX, HV_ACCESS_FREQUENCY_REGS),
			   BITS(FEATURES, EDX, HV_FREQUENCY_REGS_AVAILABLE) },
	},
	/* Without it hvix64 resets the partition mid-boot. */
	[HVR_REENLIGHTENMENT] = {
		.name = "reenlightenment",
		.context = HVR_NEEDS_NESTED,
		.host = { BITS(FEATURES, EAX, HV_ACCESS_REENLIGHTENMENT_CONTROLS) },
		.host_what = "0x40000003 EAX bit 13, reenlightenment controls",
		.guest = { BITS(FEATURES, EAX, HV_ACCESS_REENLIGHTENMENT_CONTROLS) },
	},
	/*
	 * KVM reports version and recommendation both or neither; QEMU asks for
	 * the recommendation.  The version the guest sees is the one enabling
	 * the capability returned (cpuid.c).
	 */
	[HVR_EVMCS] = {
		.name = "evmcs",
		.deps = F(VAPIC),
		.context = HVR_NEEDS_NESTED | HVR_NEEDS_INTEL,
		.host = { ANY(NESTED_FEATURES, EAX, HV_ENLIGHTENED_VMCS_VERSION_MASK),
			  BITS(ENLIGHTENMENT_INFO, EAX, HV_USE_VMCS_ENLIGHTENMENTS) },
		.host_what = "0x4000000A EAX bits 0-15, eVMCS version, and 0x40000004 EAX bit 14; kvm_intel nested=1?",
		.guest = { BITS(ENLIGHTENMENT_INFO, EAX, HV_USE_VMCS_ENLIGHTENMENTS) },
		.kvm_cap = KVM_CAP_HYPERV_ENLIGHTENED_VMCS,
	},
	[HVR_EMSR_BITMAP] = {
		.name = "emsr_bitmap",
		.host = { BITS(NESTED_FEATURES, EAX, HV_NESTED_ENLIGHTENED_MSR_BITMAP) },
		.host_what = "0x4000000A EAX bit 19, enlightened MSR bitmap",
		.guest = { BITS(NESTED_FEATURES, EAX, HV_NESTED_ENLIGHTENED_MSR_BITMAP) },
	},
	[HVR_AVIC] = {
		.name = "avic",
		.host = { BITS(ENLIGHTENMENT_INFO, EAX, HV_DEPRECATE_AUTO_EOI) },
		.host_what = "0x40000004 EAX bit 9, AutoEOI deprecation",
		.guest = { BITS(ENLIGHTENMENT_INFO, EAX, HV_DEPRECATE_AUTO_EOI) },
	},
	[HVR_XMM_INPUT] = {
		.name = "xmm_input",
		.host = { BITS(FEATURES, EDX, HV_XMM_REGISTERS_FOR_FAST_HYPERCALL) },
		.host_what = "0x40000003 EDX bit 4, XMM fast hypercall input",
		.guest = { BITS(FEATURES, EDX, HV_XMM_REGISTERS_FOR_FAST_HYPERCALL) },
	},
	/*
	 * QEMU asks for the debug MSRs; the guest is also shown 0x40000080..82
	 * (cpuid.c).
	 */
	[HVR_SYNDBG] = {
		.name = "syndbg",
		.deps = F(RELAXED) | F(TIME) | F(VAPIC) | F(VPINDEX) | F(SYNIC) | F(RUNTIME) |
			F(STIMER),
		.host = { BITS(FEATURES, EDX, HV_DEBUG_REGS_AVAILABLE),
			  BITS(SYNDBG_PLATFORM_CAPS, EAX, HV_SYNDBG_ALLOW_KERNEL_DEBUGGING) },
		.host_what = "0x40000003 EDX bit 11 and 0x40000082 EAX bit 1, synthetic debugger",
		.guest = { BITS(FEATURES, EBX, HV_DEBUGGING),
			   BITS(FEATURES, EDX, HV_DEBUG_REGS_AVAILABLE) },
	},
	/* KVM's business, not something the guest sees. */
	[HVR_ENFORCE_CPUID] = {
		.name = "enforce_cpuid",
		.quiet = true,
		.kvm_cap = KVM_CAP_HYPERV_ENFORCE_CPUID,
	},
	/*
	 * A statement about the host's SMT, not an enlightenment: QEMU's
	 * hyperv_enabled() does not count hv-no-nonarch-coresharing either, so
	 * on its own it leaves the guest plain KVM.
	 */
	[HVR_NO_NONARCH_CORESHARING] = {
		.name = "no_nonarch_coresharing",
		.quiet = true,
		.host = { BITS(ENLIGHTENMENT_INFO, EAX, HV_NO_NON_ARCH_CORE_SHARING) },
		.host_what = "0x40000004 EAX bit 18, no non-architectural core sharing (SMT off)",
		.guest = { BITS(ENLIGHTENMENT_INFO, EAX, HV_NO_NON_ARCH_CORE_SHARING) },
	},
	/*
	 * A flag of its own, not "any nested spec": Linux reads the bit as
	 * HV_X64_HYPERV_NESTED and moves its SynIC to the HV_X64_MSR_NESTED_*
	 * MSRs, which KVM does not emulate, so a Linux L1 would lose vmbus.
	 */
	[HVR_NESTED_HINT] = {
		.name = "nested_hint",
		.context = HVR_NEEDS_NESTED,
		.guest = { BITS(ENLIGHTENMENT_INFO, EAX, HV_NESTED) },
	},
};

const struct hvr_flag_row *hvr_flag_row(int flag)
{
	if ((unsigned int)flag >= HVR_NR_FLAGS)
		return NULL;
	return &hvr_flag_rows[flag];
}

uint64_t hvr_flags_with(unsigned int context)
{
	uint64_t m = 0;
	int f;

	for (f = 0; f < HVR_NR_FLAGS; f++) {
		if (hvr_flag_rows[f].context & context)
			m |= HVR_FLAG(f);
	}
	return m;
}
