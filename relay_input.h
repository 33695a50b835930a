/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Decoding and validation of a relayed hypercall's input, with no kernel
 * dependency beyond fixed-width types, so that the same code runs in the
 * module and in the userspace fuzz harness.
 *
 * The layouts are the architectural ones of the Hyper-V TLFS, "Hypercall
 * Interface": they are spelled out here rather than taken from the kernel's
 * TLFS headers because those headers move between releases and are not
 * usable from userspace.
 */
#ifndef KVM_HV_RELAY_INPUT_H
#define KVM_HV_RELAY_INPUT_H

/* The module gets these from the kernel; the fuzz harness defines them. */
#define RELAY_HC_CODE_MASK		0xffffULL
#define RELAY_HC_FAST			BIT_ULL(16)
#define RELAY_HC_NESTED			BIT_ULL(31)

#define RELAY_HVCALL_POST_MESSAGE	0x005c
#define RELAY_HVCALL_SIGNAL_EVENT	0x005d

#define RELAY_HV_STATUS_SUCCESS			0
#define RELAY_HV_STATUS_INVALID_HYPERCALL_INPUT	3
#define RELAY_HV_STATUS_INVALID_ALIGNMENT	4

/* HvPostMessage's input block: connection id, type, size, 240 payload bytes. */
#define RELAY_POST_MESSAGE_INPUT_SIZE	256
#define RELAY_SIGNAL_EVENT_INPUT_SIZE	8
#define RELAY_INPUT_ALIGN		8
#define RELAY_PAGE_SIZE			4096ULL

/* HvSignalEvent's operand: connection id in 23:0, flag number in 47:32. */
#define RELAY_SIGNAL_CONN_ID_MASK	0x00ffffffULL
#define RELAY_SIGNAL_FLAG_SHIFT		32
#define RELAY_SIGNAL_FLAG_MASK		(0xffffULL << RELAY_SIGNAL_FLAG_SHIFT)

/* Class bits, equal to the uapi KVM_NESTED_HYPERV_RELAY_* values. */
#define RELAY_CLASS_POST		BIT(0)
#define RELAY_CLASS_SIGNAL		BIT(1)

/**
 * relay_input_class() - relay class a nested hypercall input belongs to
 * @input: input value as L2 passed it
 *
 * Return: RELAY_CLASS_* for a nested HvPostMessage or HvSignalEvent, else 0.
 */
static inline unsigned int relay_input_class(unsigned long long input)
{
	if (!(input & RELAY_HC_NESTED))
		return 0;
	switch (input & RELAY_HC_CODE_MASK) {
	case RELAY_HVCALL_POST_MESSAGE:
		return RELAY_CLASS_POST;
	case RELAY_HVCALL_SIGNAL_EVENT:
		return RELAY_CLASS_SIGNAL;
	}
	return 0;
}

/**
 * relay_input_status() - TLFS status for the control bits of an input value
 * @input: input value with the nested bit already cleared
 *
 * Neither call takes a variable header or is a rep call, and every other bit
 * besides the code and the fast bit is reserved (27-30, 44-47, 60-63) or one
 * of those fields, so any of them set makes the input invalid.
 */
static inline unsigned short relay_input_status(unsigned long long input)
{
	if (input & ~(RELAY_HC_CODE_MASK | RELAY_HC_FAST))
		return RELAY_HV_STATUS_INVALID_HYPERCALL_INPUT;
	return RELAY_HV_STATUS_SUCCESS;
}

/**
 * relay_gpa_status() - TLFS alignment rule for a slow call's input block
 * @gpa: guest physical address of the block
 * @size: size of the block
 *
 * The block must be 8-byte aligned and must not cross a page boundary.
 */
static inline unsigned short relay_gpa_status(unsigned long long gpa,
					      unsigned int size)
{
	if (gpa & (RELAY_INPUT_ALIGN - 1))
		return RELAY_HV_STATUS_INVALID_ALIGNMENT;
	if ((gpa & (RELAY_PAGE_SIZE - 1)) + size > RELAY_PAGE_SIZE)
		return RELAY_HV_STATUS_INVALID_ALIGNMENT;
	return RELAY_HV_STATUS_SUCCESS;
}

/**
 * relay_signal_status() - validate an HvSignalEvent operand
 * @operand: the 8-byte operand
 *
 * Bits outside the connection id and the flag number are reserved.
 */
static inline unsigned short relay_signal_status(unsigned long long operand)
{
	if (operand & ~(RELAY_SIGNAL_CONN_ID_MASK | RELAY_SIGNAL_FLAG_MASK))
		return RELAY_HV_STATUS_INVALID_HYPERCALL_INPUT;
	return RELAY_HV_STATUS_SUCCESS;
}

/* CPUID 0x40000004.EAX, Hyper-V's recommendations: "use the enlightened VMCS". */
#define RELAY_HV_HINT_ENLIGHTENED_VMCS	BIT(14)

/**
 * relay_host_vmcs_readable() - can VMREAD see the VMCS KVM runs L2 with?
 * @on_hyperv: this kernel runs as a guest of Hyper-V
 * @hints: Hyper-V's recommendations (CPUID 0x40000004.EAX)
 *
 * Where Hyper-V recommends the enlightened VMCS, kvm_intel runs its guests
 * through it (kvm_intel.enlightened_vmcs, on by default) and never loads
 * them with VMPTRLD; the TLFS then leaves VMREAD and VMWRITE unsupported.
 */
static inline bool relay_host_vmcs_readable(bool on_hyperv, unsigned int hints)
{
	return !(on_hyperv && (hints & RELAY_HV_HINT_ENLIGHTENED_VMCS));
}

#endif /* KVM_HV_RELAY_INPUT_H */
