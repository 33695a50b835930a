// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The Hyper-V CPUID leaves a resolved config yields, and their merge into
 * the VMM's own CPUID.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "tlfs.h"

#define F(x)		HVR_FLAG(HVR_##x)
#define HAS(cfg, x)	(((cfg)->flags & F(x)) != 0)

/* KVM's paravirt leaves say "KVMKVMKVM\0\0\0" at their base. */
#define KVM_SIG_EBX	0x4b4d564bu
#define KVM_SIG_ECX	0x564b4d56u
#define KVM_SIG_EDX	0x0000004du

#define HV_RANGE_BASE	0x40000000u
#define HV_RANGE_END	0x400000ffu
#define KVM_ALT_BASE	0x40000100u
#define KVM_ALT_END	0x400001ffu

static void sig(struct kvm_cpuid_entry2 *e, const char s[12])
{
	memcpy(&e->ebx, s, 4);
	memcpy(&e->ecx, s + 4, 4);
	memcpy(&e->edx, s + 8, 4);
}

/*
 * ent[] holds 0x40000000..0x4000000A in order, so a row's leaf is its index
 * (unit test flags/table-shape keeps every row's guest bits inside that).
 */
static void guest_bits(const struct hvr_config *cfg, struct kvm_cpuid_entry2 *ent)
{
	unsigned int i;
	int f;

	for (f = 0; f < HVR_NR_FLAGS; f++) {
		const struct hvr_flag_row *row = &hvr_flag_rows[f];

		if (!(cfg->flags & HVR_FLAG(f)))
			continue;
		for (i = 0; i < ARRAY_SIZE(row->guest); i++) {
			const struct hvr_cpuid_bits *b = &row->guest[i];
			struct kvm_cpuid_entry2 *e;

			if (!b->mask)
				continue;
			e = &ent[b->function - HV_CPUID_VENDOR_AND_MAX_FUNCTIONS];
			hvr_reg_set(e, b->reg, hvr_reg_get(e, b->reg) | b->mask);
		}
	}
}

/* Flags that show the guest nothing by themselves. */
static uint64_t quiet_flags(void)
{
	uint64_t m = 0;
	int f;

	for (f = 0; f < HVR_NR_FLAGS; f++) {
		if (hvr_flag_rows[f].quiet)
			m |= HVR_FLAG(f);
	}
	return m;
}

int hvr_cpuid_build(const struct hvr_config *cfg, struct kvm_cpuid_entry2 *ent,
		    unsigned int max, struct hvr_error *err)
{
	unsigned int n = HV_CPUID_NESTED_FEATURES - HV_CPUID_VENDOR_AND_MAX_FUNCTIONS + 1;
	struct kvm_cpuid_entry2 *e;
	unsigned int i;

	/*
	 * No enlightenment, no Hyper-V: the guest keeps seeing plain KVM.
	 * Quiet rows (enforce_cpuid, no_nonarch_coresharing) are not
	 * enlightenments, and a spinlock count of "never notify" tells the
	 * guest nothing: QEMU's
	 * hyperv_enabled() (target/i386/kvm/kvm.c) likewise wants a hv-* feature
	 * or hv-spinlocks other than 0xffffffff before it shows "Microsoft Hv".
	 */
	if (!(cfg->flags & ~quiet_flags()) &&
	    !(HAS(cfg, SPINLOCKS) && cfg->spin_count != HVR_SPIN_NEVER_NOTIFY))
		return 0;
	if (HAS(cfg, SYNDBG))
		n += 3;
	if (n > max)
		return hvr_fail(err, -ENOSPC, "%u CPUID entries do not fit in %u", n, max);

	memset(ent, 0, n * sizeof(*ent));
	for (i = 0; i <= HV_CPUID_NESTED_FEATURES - HV_CPUID_VENDOR_AND_MAX_FUNCTIONS; i++)
		ent[i].function = HV_CPUID_VENDOR_AND_MAX_FUNCTIONS + i;

	/*
	 * A guest that honours the max leaf must reach the debugger's leaves;
	 * QEMU's hv-syndbg and KVM's own KVM_GET_SUPPORTED_HV_CPUID both name
	 * 0x40000082 here.
	 */
	e = &ent[0];
	e->eax = HAS(cfg, SYNDBG) ? HV_CPUID_SYNDBG_PLATFORM_CAPS : HV_CPUID_NESTED_FEATURES;
	sig(e, "Microsoft Hv");

	memcpy(&ent[1].eax, "Hv#1", 4);

	ent[2].eax = HV_VERSION_BUILD;
	ent[2].ebx = HV_VERSION_MAJOR << 16 | HV_VERSION_MINOR;

	guest_bits(cfg, ent);

	e = &ent[3];
	/* The hypercall page is how every enlightened guest talks to us. */
	e->eax |= HV_ACCESS_HYPERCALL_MSRS;
	/*
	 * A hint, not something KVM has to implement: QEMU always sets it,
	 * since Windows wants it before it hot-adds CPUs.
	 */
	e->edx |= HV_CPU_DYNAMIC_PARTITIONING_AVAILABLE;

	ent[4].ebx = cfg->spin_count;

	/* A 2016-era Hyper-V's logical processor limit, as KVM reports it too. */
	ent[5].eax = cfg->max_vps;
	ent[5].ebx = 64;

	/* The version the capability returned, which the host leaf need not know. */
	if (HAS(cfg, EVMCS))
		ent[HV_CPUID_NESTED_FEATURES - HV_CPUID_VENDOR_AND_MAX_FUNCTIONS].eax |=
			cfg->evmcs_version & HV_ENLIGHTENED_VMCS_VERSION_MASK;

	if (HAS(cfg, SYNDBG)) {
		e = &ent[11];
		/* EAX zero, as QEMU and KVM's own answer have it. */
		e->function = HV_CPUID_SYNDBG_VENDOR_AND_MAX;
		sig(e, "Microsoft VS");
		e = &ent[12];
		e->function = HV_CPUID_SYNDBG_INTERFACE;
		memcpy(&e->eax, "VS#1", 4);
		e = &ent[13];
		e->function = HV_CPUID_SYNDBG_PLATFORM_CAPS;
		e->eax = HV_SYNDBG_ALLOW_KERNEL_DEBUGGING;
	}
	return (int)n;
}

struct bit_name {
	uint32_t function;
	unsigned char reg;
	unsigned char bit;
	const char *name;
};

#define BN(fn, r, b, s)	{ HV_CPUID_##fn, HVR_##r, b, s }

static const struct bit_name bit_names[] = {
	BN(FEATURES, EAX, 0, "AccessVpRunTimeReg"),
	BN(FEATURES, EAX, 1, "AccessPartitionReferenceCounter"),
	BN(FEATURES, EAX, 2, "AccessSynicRegs"),
	BN(FEATURES, EAX, 3, "AccessSyntheticTimerRegs"),
	BN(FEATURES, EAX, 4, "AccessIntrCtrlRegs"),
	BN(FEATURES, EAX, 5, "AccessHypercallMsrs"),
	BN(FEATURES, EAX, 6, "AccessVpIndex"),
	BN(FEATURES, EAX, 7, "AccessResetReg"),
	BN(FEATURES, EAX, 8, "AccessStatsReg"),
	BN(FEATURES, EAX, 9, "AccessPartitionReferenceTsc"),
	BN(FEATURES, EAX, 10, "AccessGuestIdleReg"),
	BN(FEATURES, EAX, 11, "AccessFrequencyRegs"),
	BN(FEATURES, EAX, 12, "AccessDebugRegs"),
	BN(FEATURES, EAX, 13, "AccessReenlightenmentControls"),
	BN(FEATURES, EAX, 14, "AccessRootSchedulerReg"),
	BN(FEATURES, EAX, 15, "AccessTscInvariantControls"),
	BN(FEATURES, EBX, 0, "CreatePartitions"),
	BN(FEATURES, EBX, 1, "AccessPartitionId"),
	BN(FEATURES, EBX, 2, "AccessMemoryPool"),
	BN(FEATURES, EBX, 4, "PostMessages"),
	BN(FEATURES, EBX, 5, "SignalEvents"),
	BN(FEATURES, EBX, 6, "CreatePort"),
	BN(FEATURES, EBX, 7, "ConnectPort"),
	BN(FEATURES, EBX, 8, "AccessStats"),
	BN(FEATURES, EBX, 11, "Debugging"),
	BN(FEATURES, EBX, 12, "CpuManagement"),
	BN(FEATURES, EBX, 16, "AccessVsm"),
	BN(FEATURES, EBX, 17, "AccessVpRegisters"),
	BN(FEATURES, EBX, 20, "EnableExtendedHypercalls"),
	BN(FEATURES, EBX, 21, "StartVirtualProcessor"),
	BN(FEATURES, EDX, 1, "GuestDebuggingAvailable"),
	BN(FEATURES, EDX, 3, "CpuDynamicPartitioningAvailable"),
	BN(FEATURES, EDX, 4, "XmmRegistersForFastHypercallAvailable"),
	BN(FEATURES, EDX, 5, "GuestIdleAvailable"),
	BN(FEATURES, EDX, 8, "FrequencyRegsAvailable"),
	BN(FEATURES, EDX, 10, "GuestCrashRegsAvailable"),
	BN(FEATURES, EDX, 11, "DebugRegsAvailable"),
	BN(FEATURES, EDX, 14, "ExtendedGvaRangesForFlushVirtualAddressListAvailable"),
	BN(FEATURES, EDX, 15, "FastHypercallOutputAvailable"),
	BN(FEATURES, EDX, 19, "DirectSyntheticTimers"),
	BN(ENLIGHTENMENT_INFO, EAX, 0, "UseHypercallForAddressSpaceSwitch"),
	BN(ENLIGHTENMENT_INFO, EAX, 1, "UseHypercallForLocalFlush"),
	BN(ENLIGHTENMENT_INFO, EAX, 2, "UseHypercallForRemoteFlushAndLocalFlushEntire"),
	BN(ENLIGHTENMENT_INFO, EAX, 3, "UseApicMsrs"),
	BN(ENLIGHTENMENT_INFO, EAX, 4, "UseHvRegisterForReset"),
	BN(ENLIGHTENMENT_INFO, EAX, 5, "UseRelaxedTiming"),
	BN(ENLIGHTENMENT_INFO, EAX, 9, "DeprecateAutoEoi"),
	BN(ENLIGHTENMENT_INFO, EAX, 10, "UseSyntheticClusterIpi"),
	BN(ENLIGHTENMENT_INFO, EAX, 11, "UseExProcessorMasks"),
	BN(ENLIGHTENMENT_INFO, EAX, 12, "Nested"),
	BN(ENLIGHTENMENT_INFO, EAX, 14, "UseVmcsEnlightenments"),
	BN(ENLIGHTENMENT_INFO, EAX, 18, "NoNonArchitecturalCoreSharing"),
	BN(NESTED_FEATURES, EAX, 17, "DirectVirtualFlush"),
	BN(NESTED_FEATURES, EAX, 18, "FlushGuestPhysicalHypercall"),
	BN(NESTED_FEATURES, EAX, 19, "EnlightenedMsrBitmap"),
	BN(SYNDBG_PLATFORM_CAPS, EAX, 1, "AllowKernelDebugging"),
};

const char *hvr_cpuid_bit_name(uint32_t function, unsigned int reg, unsigned int bit)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bit_names); i++) {
		const struct bit_name *b = &bit_names[i];

		if (b->function == function && b->reg == reg && b->bit == bit)
			return b->name;
	}
	return NULL;
}

static bool in(uint32_t f, uint32_t lo, uint32_t hi)
{
	return f >= lo && f <= hi;
}

static bool before(const struct kvm_cpuid_entry2 *a, const struct kvm_cpuid_entry2 *b)
{
	return a->function < b->function || (a->function == b->function && a->index < b->index);
}

/* Decide what happens to the VMM's own 0x400000xx leaves: drop or move. */
static bool relocate_kvm_leaves(const struct kvm_cpuid_entry2 *vmm, unsigned int nvmm)
{
	bool kvm_sig = false;
	unsigned int i;

	for (i = 0; i < nvmm; i++) {
		const struct kvm_cpuid_entry2 *e = &vmm[i];

		if (in(e->function, KVM_ALT_BASE, KVM_ALT_END))
			return false;
		if (e->function == HV_RANGE_BASE && e->ebx == KVM_SIG_EBX &&
		    e->ecx == KVM_SIG_ECX && e->edx == KVM_SIG_EDX)
			kvm_sig = true;
	}
	return kvm_sig;
}

int hvr_cpuid_merge(const struct kvm_cpuid_entry2 *vmm, unsigned int nvmm,
		    const struct kvm_cpuid_entry2 *hv, unsigned int nhv,
		    struct kvm_cpuid_entry2 *out, unsigned int max, struct hvr_error *err)
{
	bool move = nhv && relocate_kvm_leaves(vmm, nvmm);
	unsigned int i, j, n = 0;

	if (nvmm + nhv > max)
		return hvr_fail(err, -ENOSPC, "%u CPUID entries do not fit in %u",
				nvmm + nhv, max);

	for (i = 0; i < nvmm; i++) {
		struct kvm_cpuid_entry2 e = vmm[i];

		if (nhv && in(e.function, HV_RANGE_BASE, HV_RANGE_END)) {
			if (!move)
				continue;
			/* KVM and Linux look for "KVMKVMKVM" every 0x100 leaves. */
			if (e.function == HV_RANGE_BASE && in(e.eax, HV_RANGE_BASE, HV_RANGE_END))
				e.eax += KVM_ALT_BASE - HV_RANGE_BASE;
			e.function += KVM_ALT_BASE - HV_RANGE_BASE;
		}
		/* CPUID.1:ECX[31], "hypervisor present", gates any look at 0x40000000. */
		if (nhv && e.function == 1)
			e.ecx |= 1u << 31;
		out[n++] = e;
	}
	for (i = 0; i < nhv; i++)
		out[n++] = hv[i];

	/* Insertion sort: a few dozen entries, and it keeps equal keys in order. */
	for (i = 1; i < n; i++) {
		struct kvm_cpuid_entry2 e = out[i];

		for (j = i; j > 0 && before(&e, &out[j - 1]); j--)
			out[j] = out[j - 1];
		out[j] = e;
	}
	return (int)n;
}
