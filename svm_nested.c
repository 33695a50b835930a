// SPDX-License-Identifier: GPL-2.0-only
/*
 * AMD side of the relay: the decision at an L2 VMMCALL exit, L1's
 * authorisation (VP assist page + VMCB12's Hyper-V enlightenments), our own
 * walk of the nested page tables L1 built for L2, and moving L2 past the
 * VMMCALL.
 *
 * The argument of nested_svm_exit_special() is KVM's private struct
 * vcpu_svm, whose first member is the struct kvm_vcpu (KVM asserts it).  The
 * two other things we need from it, the current VMCB (vmcb02 while L2 runs)
 * and the GPA of L1's VMCB12, are at offsets read from kvm_amd's BTF at build
 * time (btf_facts.c, svm_btf.h); relay_svm_verify() checks at load that the
 * running kvm_amd is the one those facts describe, and every decision
 * cross-checks the VMCB pointer against vmcb02's.  Everything else is the
 * architectural VMCB (public asm/svm.h) or L1 memory: VMCB12 and the nested
 * page tables are read through the VMM's mapping, as L1 wrote them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kvm_host.h>
#include <asm/svm.h>

#include "compat.h"
#include "kvm_hv_relay.h"

/* nested_svm_exit_special()'s return values (private svm.h, 0/1/2 always). */
#define RELAY_NESTED_EXIT_HOST	0	/* L0 handles the exit */
#define RELAY_NESTED_EXIT_DONE	1	/* exit handled, resume the guest */

/*
 * VMCB control-area fields read from VMCB12 in L1 memory, at their
 * architectural offsets (AMD APM vol. 2, appendix B).  The nested-paging
 * control field changed its name between releases, not its place.
 */
#define RELAY_VMCB_NP_CTL		0x090
#define RELAY_VMCB_NP_ENABLE		BIT_ULL(0)
#define RELAY_VMCB_NCR3			0x0b0
/* Software-reserved area: Hyper-V's enlightenments (TLFS, "enlightened VMCB") */
#define RELAY_VMCB_HV_ENLIGHTENMENTS	0x3e0
#define RELAY_VMCB_NESTED_FLUSH		BIT(0)	/* nested_flush_hypercall */

static_assert(offsetof(struct vmcb_control_area, avic_vapic_bar) ==
	      RELAY_VMCB_NP_CTL + 8);
static_assert(offsetof(struct vmcb_control_area, nested_cr3) == RELAY_VMCB_NCR3);
static_assert(offsetof(struct vmcb_control_area, reserved_sw) ==
	      RELAY_VMCB_HV_ENLIGHTENMENTS);

/* Nested page table entries: long-mode page table format (APM 5.3). */
#define RELAY_NPT_P		BIT_ULL(0)
#define RELAY_NPT_US		BIT_ULL(2)

#define RELAY_VMMCALL_LEN	3	/* 0f 01 d9 */
#define RELAY_INSN_MAX_LEN	15

static struct vmcb *relay_svm_vmcb(struct kvm_vcpu *vcpu)
{
	return *(struct vmcb **)((u8 *)vcpu + RELAY_SVM_OFF_VMCB);
}

static struct vmcb *relay_svm_vmcb02(struct kvm_vcpu *vcpu)
{
	return *(struct vmcb **)((u8 *)vcpu + RELAY_SVM_OFF_VMCB02);
}

/*
 * KVM keeps VMCB12's address as L1 passed it (VMRUN's rAX on 6.1 and 6.12,
 * the RSM path everywhere) but maps and reads the page it is in, so the
 * VMCB12 L2 runs under starts at that page, whatever the low bits say.
 */
static u64 relay_svm_vmcb12_gpa(struct kvm_vcpu *vcpu)
{
	return *(u64 *)((u8 *)vcpu + RELAY_SVM_OFF_VMCB12_GPA) & PAGE_MASK;
}

static bool relay_svm_hypercall_exit(struct kvm_vcpu *vcpu)
{
	struct vmcb *vmcb = relay_svm_vmcb(vcpu);

	/* While L2 runs the current VMCB is vmcb02: the layout holds. */
	if (unlikely(vmcb != relay_svm_vmcb02(vcpu))) {
		pr_err_once("vcpu_svm layout check failed at an L2 exit: not relaying\n");
		return false;
	}
	return relay_svm_exit_code(&vmcb->control) == SVM_EXIT_VMMCALL;
}

/*
 * The nested page tables L1 gave L2, from VMCB12 in L1 memory: 1 and @npt
 * filled when nested paging is on for L2, 0 when it is off, or
 * relay_read_l1()'s error.
 */
static int relay_svm_npt12(struct kvm_vcpu *vcpu, u64 vmcb12, bool atomic,
			   struct relay_s2 *npt)
{
	struct kvm *kvm = vcpu->kvm;
	u64 np_ctl;
	int ret;

	ret = relay_read_l1(kvm, vmcb12 + RELAY_VMCB_NP_CTL, &np_ctl,
			    sizeof(np_ctl), atomic);
	if (!ret)
		ret = relay_read_l1(kvm, vmcb12 + RELAY_VMCB_NCR3, &npt->root,
				    sizeof(npt->root), atomic);
	if (ret)
		return ret;
	if (!(np_ctl & RELAY_VMCB_NP_ENABLE))
		return 0;
	npt->levels = relay_nested_npt_level(vcpu);
	/* Nested table walks are user accesses: present and user everywhere. */
	npt->need = RELAY_NPT_P | RELAY_NPT_US;
	return 1;
}

/*
 * Is the instruction at L2's CS:RIP the plain three-byte VMMCALL?  Read
 * without faulting, through L2's page tables and L1's nested page tables
 * for L2, all in L1 memory.  The walk covers L2 without paging and with
 * 4- or 5-level paging (long mode, 64-bit or compatibility code); for
 * anything else, or any read that fails, the answer is no.
 */
static bool relay_svm_plain_vmmcall(struct kvm_vcpu *vcpu, struct vmcb *vmcb,
				    const struct relay_exit *ex)
{
	static const u8 vmmcall[RELAY_VMMCALL_LEN] = { 0x0f, 0x01, 0xd9 };
	struct vmcb_save_area *save = &vmcb->save;
	struct relay_s2 npt, paging = { .need = RELAY_NPT_P };
	u8 insn[RELAY_VMMCALL_LEN];
	u64 addr;
	int np;

	np = relay_svm_npt12(vcpu, relay_svm_vmcb12_gpa(vcpu), true, &npt);
	if (np < 0)
		return false;

	/* 64-bit code ignores CS's base; compatibility code wraps at 4G. */
	addr = ex->long_mode ? ex->rip : (u32)(save->cs.base + ex->rip);
	if (vcpu->arch.cr0 & X86_CR0_PG) {
		if (!(vcpu->arch.efer & EFER_LMA))
			return false;	/* 32-bit or PAE paging */
		paging.root = save->cr3;
		paging.levels = save->cr4 & X86_CR4_LA57 ? 5 : 4;
		/* The walk takes the address bits below the sign extension. */
		addr &= BIT_ULL(PAGE_SHIFT + 9 * paging.levels) - 1;
		if (relay_stage2_walk(vcpu->kvm, &paging, np ? &npt : NULL, addr,
				      true, &addr))
			return false;
	}
	if (offset_in_page(addr) > PAGE_SIZE - RELAY_VMMCALL_LEN)
		return false;
	if (np && relay_stage2_walk(vcpu->kvm, &npt, NULL, addr, true, &addr))
		return false;
	return !relay_read_l1(vcpu->kvm, addr, insn, sizeof(insn), true) &&
	       !memcmp(insn, vmmcall, sizeof(insn));
}

static bool relay_svm_exit_info(struct kvm_vcpu *vcpu, struct relay_exit *ex)
{
	struct vmcb *vmcb = relay_svm_vmcb(vcpu);
	u64 next_rip;

	/* PE: KVM syncs its copy of CR0 at every exit where L2 owns CR0. */
	if (!(vcpu->arch.cr0 & X86_CR0_PE) || vmcb->save.cpl)
		return false;
	/*
	 * A single-stepped VMMCALL would owe L2 a #DB after the skip; queueing
	 * exceptions is KVM-internal, so such a call is left to L1.
	 */
	if (vmcb->save.rflags & X86_EFLAGS_TF)
		return false;

	ex->long_mode = (vcpu->arch.efer & EFER_LMA) &&
			(vmcb->save.cs.attrib & SVM_SELECTOR_L_MASK);
	ex->rip = vmcb->save.rip;
	/*
	 * With next-RIP saving the CPU tells the length, prefixes included.
	 * Taken now, at the exit: by completion time next_rip may have been
	 * reused.  Without it (e.g. QEMU TCG) the length is known only for
	 * the plain 0f 01 d9: a prefixed VMMCALL is left to KVM and L1 rather
	 * than skipped into the middle of the instruction.
	 */
	next_rip = vmcb->control.next_rip;
	if (boot_cpu_has(X86_FEATURE_NRIPS) && next_rip > ex->rip &&
	    next_rip - ex->rip <= RELAY_INSN_MAX_LEN)
		ex->insn_len = next_rip - ex->rip;
	else if (relay_svm_plain_vmmcall(vcpu, vmcb, ex))
		ex->insn_len = RELAY_VMMCALL_LEN;
	else
		return false;
	return true;
}

/* VP assist page as on Intel; L2's control block is VMCB12. */
static int relay_svm_authorisation(struct kvm_vcpu *vcpu, bool atomic,
				   u64 *ctl_gpa)
{
	u64 vmcb12 = relay_svm_vmcb12_gpa(vcpu);
	u32 hv_ctl;
	int auth, ret;

	auth = relay_vp_assist(vcpu, atomic, NULL);
	if (auth < 0)
		return auth;

	*ctl_gpa = vmcb12;
	ret = relay_read_l1(vcpu->kvm, vmcb12 + RELAY_VMCB_HV_ENLIGHTENMENTS,
			    &hv_ctl, sizeof(hv_ctl), atomic);
	if (ret)
		return ret;
	if (hv_ctl & RELAY_VMCB_NESTED_FLUSH)
		auth |= RELAY_AUTH_NESTED_FLUSH;
	return auth;
}

static int relay_svm_translate(struct kvm_vcpu *vcpu, u64 vmcb12, u64 l2_gpa,
			       u64 *l1_gpa)
{
	struct relay_s2 npt;
	int ret;

	ret = relay_svm_npt12(vcpu, vmcb12, false, &npt);
	if (ret < 0)
		return ret;
	/* Without nested paging for L2, L2's physical addresses are L1's. */
	if (!ret) {
		*l1_gpa = l2_gpa;
		return 0;
	}
	return relay_stage2_walk(vcpu->kvm, &npt, NULL, l2_gpa, false, l1_gpa);
}

static void relay_svm_skip(struct kvm_vcpu *vcpu, u8 insn_len, bool long_mode)
{
	unsigned long rip = relay_rip_read(vcpu) + insn_len;

	relay_rip_write(vcpu, long_mode ? rip : (u32)rip);
	/* As after any emulated instruction, an STI shadow ends here. */
	relay_svm_vmcb(vcpu)->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
}

/*
 * Replacements for nested_svm_exit_special(), same signature: its
 * struct vcpu_svm * argument is the struct kvm_vcpu *.
 */
static int relay_svm_l0_handles(struct kvm_vcpu *vcpu)
{
	/* L0 handles the VMMCALL: KVM goes on to its hypercall handler. */
	return RELAY_NESTED_EXIT_HOST;
}

static int relay_svm_fault_in(struct kvm_vcpu *vcpu)
{
	relay_fault_in(vcpu);
	/* Resume L2 on the VMMCALL; it exits again with the page present. */
	return RELAY_NESTED_EXIT_DONE;
}

static void relay_svm_special_hook(unsigned long ip, unsigned long parent_ip,
				   struct ftrace_ops *op,
				   struct ftrace_regs *fregs)
{
	relay_decide_and_divert(fregs, relay_svm_l0_handles, relay_svm_fault_in);
}

static int relay_svm_verify(const char *ctx)
{
	static const struct relay_vendor_btf facts =
		RELAY_VENDOR_BTF(SVM, "kvm_amd", "vcpu_svm", RELAY_SVM_OFF_VMCB);

	return relay_vendor_btf_verify(ctx, &facts);
}

/*
 * Armed in this order: the handlers before the decision that feeds them.
 * vmmcall_interception() exists only where an unhandled L2 VMMCALL gets #UD
 * (Debian 6.12.86+, 7.2+); elsewhere the exit table points straight at
 * kvm_emulate_hypercall().
 */
static struct relay_hook relay_svm_hooks[] = {
	{ .name = "kvm_emulate_hypercall", .func = relay_handler_hook },
	{ .name = "vmmcall_interception", .func = relay_handler_hook,
	  .optional = true },
	{ .name = "nested_svm_exit_special", .func = relay_svm_special_hook },
};

const struct relay_vendor relay_svm_vendor = {
	.name = "amd",
	.hooks = relay_svm_hooks,
	.nr_hooks = ARRAY_SIZE(relay_svm_hooks),
	.verify = relay_svm_verify,
	.hypercall_exit = relay_svm_hypercall_exit,
	.exit_info = relay_svm_exit_info,
	.authorisation = relay_svm_authorisation,
	.translate = relay_svm_translate,
	.skip = relay_svm_skip,
};
