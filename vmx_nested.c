// SPDX-License-Identifier: GPL-2.0-only
/*
 * Intel side of the relay: the decision at an L2 VMCALL exit, L1's
 * authorisation (VP assist page + enlightened VMCS), our own walk of the
 * EPT tables L1 built for L2, and moving L2 past the VMCALL.
 *
 * Exit information comes from our own VMREAD of the current VMCS, which is
 * vmcs02 while L2 runs, rather than from KVM's private struct vcpu_vmx whose
 * layout changes between releases; only whether the entry failed, which no
 * VMCS field says, is read there, at the offset kvm_intel's BTF gives.  The
 * eVMCS and the EPT tables are L1 memory and are read through the VMM's
 * mapping, as L1 wrote them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kvm_host.h>
#include <asm/asm.h>
#include <asm/hypervisor.h>
#include <asm/mshyperv.h>
#include <asm/vmx.h>

#include "compat.h"
#include "kvm_hv_relay.h"

/* Bits of an EPT paging-structure entry and of the EPTP (SDM 29.3.2). */
#define RELAY_EPT_READ		BIT_ULL(0)
#define RELAY_EPTP_PWL(eptp)	((((eptp) >> 3) & 7) + 1)

#define RELAY_EVMCS(field)	offsetof(struct hv_enlightened_vmcs, field)

/*
 * VMREAD and VMWRITE raise #UD once VMX is off, and KVM turns it off on
 * every CPU at reboot, shutdown and kexec while vCPU threads may still be
 * exiting from L2 (a VMRESUME that faults is then a VM-Fail, which KVM still
 * hands to nested_vmx_reflect_vmexit()).  KVM's own accessors survive that
 * through their exception table entries; ours do too, and a faulting access
 * reads as "no such field", so that the exit is left to KVM.
 */
static bool relay_vmread(unsigned long field, unsigned long *value)
{
	/* A VM-fail (CF or ZF) and a fault both end up at 2. */
	asm_goto_output("1: vmread %[field], %[value]\n\t"
			"ja 3f\n\t"
			"2: jmp %l[failed]\n\t"
			"3:\n\t"
			_ASM_EXTABLE(1b, 2b)
			: [value] "=r" (*value)
			: [field] "r" (field)
			: "cc"
			: failed);
	return true;
failed:
	return false;
}

static bool relay_vmwrite(unsigned long field, unsigned long value)
{
	asm goto("1: vmwrite %[value], %[field]\n\t"
		 "ja 3f\n\t"
		 "2: jmp %l[failed]\n\t"
		 "3:\n\t"
		 _ASM_EXTABLE(1b, 2b)
		 : : [field] "r" (field), [value] "rm" (value)
		 : "cc"
		 : failed);
	return true;
failed:
	return false;
}

/*
 * A VM entry that VM-failed (VMfailValid) writes no exit information: the
 * exit reason field still holds the previous exit's, e.g. the VMCALL that L1
 * was given before it resumed L2 with a vmcs12 that hardware then refused.
 * Like KVM, believe the field only when vcpu_vmx.fail (kvm_intel's BTF) says
 * the entry did not fail; L1 then sees its late VM-Fail, as without us.
 */
static bool relay_vmx_entry_failed(struct kvm_vcpu *vcpu)
{
	return READ_ONCE(*((u8 *)vcpu + RELAY_VMX_OFF_FAIL));
}

static bool relay_vmx_hypercall_exit(struct kvm_vcpu *vcpu)
{
	unsigned long reason;

	return !relay_vmx_entry_failed(vcpu) &&
	       relay_vmread(VM_EXIT_REASON, &reason) &&
	       (u16)reason == EXIT_REASON_VMCALL &&
	       !(reason & VMX_EXIT_REASONS_FAILED_VMENTRY);
}

static bool relay_vmx_exit_info(struct kvm_vcpu *vcpu, struct relay_exit *ex)
{
	unsigned long ss_ar, cs_ar, rflags, rip, len;

	/* PE is never guest-owned in CR0, so KVM's copy is current. */
	if (!(vcpu->arch.cr0 & X86_CR0_PE))
		return false;
	if (!relay_vmread(GUEST_SS_AR_BYTES, &ss_ar) || VMX_AR_DPL(ss_ar))
		return false;
	/*
	 * A single-stepped VMCALL would owe L2 a #DB after the skip; queueing
	 * exceptions is KVM-internal, so such a call is left to L1.
	 */
	if (!relay_vmread(GUEST_RFLAGS, &rflags) || (rflags & X86_EFLAGS_TF))
		return false;
	if (!relay_vmread(GUEST_CS_AR_BYTES, &cs_ar) ||
	    !relay_vmread(GUEST_RIP, &rip) ||
	    !relay_vmread(VM_EXIT_INSTRUCTION_LEN, &len))
		return false;

	ex->long_mode = (vcpu->arch.efer & EFER_LMA) && (cs_ar & VMX_AR_L_MASK);
	ex->rip = rip;
	ex->insn_len = len;
	return true;
}

/* VP assist page (shared with SVM), then the eVMCS it names. */
static int relay_vmx_authorisation(struct kvm_vcpu *vcpu, bool atomic,
				   u64 *ctl_gpa)
{
	u32 evmcs_ctl;
	u64 evmcs;
	int auth, ret;

	auth = relay_vp_assist(vcpu, atomic, &evmcs);
	if (auth < 0)
		return auth;

	/* Without enlightened VM entry there is no eVMCS to authorise L2. */
	if (!evmcs)
		return auth;
	/* KVM maps the page the pointer is in, whatever its low bits. */
	evmcs &= PAGE_MASK;
	*ctl_gpa = evmcs;

	ret = relay_read_l1(vcpu->kvm, evmcs + RELAY_EVMCS(hv_enlightenments_control),
			    &evmcs_ctl, sizeof(evmcs_ctl), atomic);
	if (ret)
		return ret;
	/* hv_enlightenments_control.nested_flush_hypercall */
	if (evmcs_ctl & BIT(0))
		auth |= RELAY_AUTH_NESTED_FLUSH;
	return auth;
}

static int relay_vmx_translate(struct kvm_vcpu *vcpu, u64 evmcs, u64 l2_gpa,
			       u64 *l1_gpa)
{
	struct kvm *kvm = vcpu->kvm;
	struct relay_s2 ept = { .need = RELAY_EPT_READ };
	u32 primary, secondary;
	u64 eptp;

	if (relay_read_l1(kvm, evmcs + RELAY_EVMCS(cpu_based_vm_exec_control),
			  &primary, sizeof(primary), false) ||
	    relay_read_l1(kvm, evmcs + RELAY_EVMCS(secondary_vm_exec_control),
			  &secondary, sizeof(secondary), false) ||
	    relay_read_l1(kvm, evmcs + RELAY_EVMCS(ept_pointer), &eptp,
			  sizeof(eptp), false))
		return -EFAULT;

	/* Without EPT for L2, L2's physical addresses are L1's. */
	if (!(primary & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) ||
	    !(secondary & SECONDARY_EXEC_ENABLE_EPT)) {
		*l1_gpa = l2_gpa;
		return 0;
	}
	/* EPT: every level must grant read permission. */
	ept.root = eptp;
	ept.levels = RELAY_EPTP_PWL(eptp);
	return relay_stage2_walk(kvm, &ept, NULL, l2_gpa, false, l1_gpa);
}

static void relay_vmx_skip(struct kvm_vcpu *vcpu, u8 insn_len, bool long_mode)
{
	unsigned long rip = relay_rip_read(vcpu) + insn_len;
	unsigned long intr;

	relay_rip_write(vcpu, long_mode ? rip : (u32)rip);

	/* As after any emulated instruction, an STI/MOV SS shadow ends here. */
	preempt_disable();
	if (relay_vmread(GUEST_INTERRUPTIBILITY_INFO, &intr) &&
	    (intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS)))
		relay_vmwrite(GUEST_INTERRUPTIBILITY_INFO,
			      intr & ~(GUEST_INTR_STATE_STI |
				       GUEST_INTR_STATE_MOV_SS));
	preempt_enable();
}

/* Replacements for nested_vmx_reflect_vmexit(), same signature. */
static bool relay_vmx_l0_handles(struct kvm_vcpu *vcpu)
{
	/* L0 handles the VMCALL: KVM goes on to its hypercall handler. */
	return false;
}

static bool relay_vmx_fault_in(struct kvm_vcpu *vcpu)
{
	relay_fault_in(vcpu);
	/* Resume L2 on the VMCALL; it exits again with the page present. */
	return true;
}

static void relay_vmx_reflect_hook(unsigned long ip, unsigned long parent_ip,
				   struct ftrace_ops *op,
				   struct ftrace_regs *fregs)
{
	relay_decide_and_divert(fregs, relay_vmx_l0_handles, relay_vmx_fault_in);
}

/*
 * At load and whenever kvm_intel is loaded anew: the vcpu_vmx offset holds
 * for the running kvm_intel, and the exit can be read with VMREAD.
 */
static int relay_vmx_verify(const char *ctx)
{
	static const struct relay_vendor_btf facts =
		RELAY_VENDOR_BTF(VMX, "kvm_intel", "vcpu_vmx", RELAY_VMX_OFF_FAIL);
	int ret = relay_vendor_btf_verify(ctx, &facts);

	if (ret)
		return ret;
	/*
	 * KVM running on Hyper-V (Azure, a Hyper-V host's nested
	 * virtualization) may run its guests through the enlightened VMCS,
	 * where our VMREADs could not see the exit: refuse rather than guess.
	 */
	if (!relay_host_vmcs_readable(hypervisor_is_type(X86_HYPER_MS_HYPERV),
				      ms_hyperv.hints)) {
		pr_err("%s: KVM runs on Hyper-V with the enlightened VMCS recommended (hints 0x%x), where VMREAD and VMWRITE are unsupported\n",
		       ctx, ms_hyperv.hints);
		return -EOPNOTSUPP;
	}
	return 0;
}

static struct relay_hook relay_vmx_hooks[] = {
	{ .name = "kvm_emulate_hypercall", .func = relay_handler_hook },
	{ .name = "nested_vmx_reflect_vmexit", .func = relay_vmx_reflect_hook },
};

const struct relay_vendor relay_vmx_vendor = {
	.name = "intel",
	.hooks = relay_vmx_hooks,
	.nr_hooks = ARRAY_SIZE(relay_vmx_hooks),
	.verify = relay_vmx_verify,
	.hypercall_exit = relay_vmx_hypercall_exit,
	.exit_info = relay_vmx_exit_info,
	.authorisation = relay_vmx_authorisation,
	.translate = relay_vmx_translate,
	.skip = relay_vmx_skip,
};
