/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The AMD side of relay_test: L1 plays hvix64 on SVM.  It enables the VP
 * assist page, runs L2 from a VMCB12 whose Hyper-V enlightenments area
 * (TLFS "enlightened VMCB") authorises it, with nested paging through page
 * tables the host built in L1 memory.
 *
 * Included by relay_test.c after its shared state (l1_config, l2_call,
 * the L2 entry points, l2_done()); the selftest library's SVM API is
 * told apart by relay_compat.h.
 */
#ifndef RELAY_SVM_H
#define RELAY_SVM_H

#include "svm_util.h"

/* The nested-paging control word was renamed (7.3), its bit 0 was not. */
#ifdef SVM_MISC_ENABLE_NP
#define relay_vmcb_np_ctl(ctrl)		((ctrl)->misc_ctl)
#define RELAY_VMCB_NP_ENABLE		SVM_MISC_ENABLE_NP
#else
#define relay_vmcb_np_ctl(ctrl)		((ctrl)->nested_ctl)
#define RELAY_VMCB_NP_ENABLE		SVM_NESTED_CTL_NP_ENABLE
#endif

/* Long-mode page table bits of L1's nested page tables for L2. */
#define NPT_P		BIT_ULL(0)
#define NPT_RW		BIT_ULL(1)
#define NPT_US		BIT_ULL(2)

/* What the SVM L1 needs beyond relay_test's l1_config. */
struct relay_svm_l1 {
	u64 vp_assist_gpa;
	void *vp_assist;
	u64 ncr3;		/* 0: no nested paging for L2 */
};

static struct relay_svm_l1 relay_svm_l1;

static void relay_svm_l1_code(struct svm_test_data *svm)
{
	unsigned long l2_stack[L2_STACK_WORDS];
	struct vmcb *vmcb = svm->vmcb;
	struct vmcb_save_area *save = &vmcb->save;
	struct vmcb_control_area *ctrl = &vmcb->control;
	struct hv_vmcb_enlightenments *hve = &ctrl->hv_enlightenments;

	GUEST_ASSERT(!(get_cr4() & (X86_CR4_SMEP | X86_CR4_SMAP)));

	wrmsr(HV_X64_MSR_VP_ASSIST_PAGE, relay_svm_l1.vp_assist_gpa | 1);
	/* TLFS VP assist page: nested_control.features.directhypercall */
	*(u32 *)((u8 *)relay_svm_l1.vp_assist + 32) = l1_config.direct_hypercall;

#ifdef RELAY_LIB_GVA_T
	generic_svm_setup(svm, l2_guest_code);
#else
	generic_svm_setup(svm, l2_guest_code, &l2_stack[L2_STACK_WORDS]);
#endif
	save->rsp = (u64)&l2_stack[L2_STACK_WORDS];
	hve->hv_enlightenments_control.nested_flush_hypercall =
		l1_config.nested_flush;
	if (relay_svm_l1.ncr3) {
		relay_vmcb_np_ctl(ctrl) |= RELAY_VMCB_NP_ENABLE;
		ctrl->nested_cr3 = relay_svm_l1.ncr3;
	}

	if (l1_config.mode == L2_COMPAT) {
		/* EFER.LMA stays on; a CS with L=0, D=1 is compatibility mode. */
		save->cs.attrib &= ~SVM_SELECTOR_L_MASK;
		save->cs.attrib |= SVM_SELECTOR_DB_MASK;
		save->rip = (u64)l2_compat_entry;
		save->rsp = l1_config.compat_frame;
	} else if (l1_config.mode == L2_USER) {
		save->cpl = 3;
		save->cs.selector |= 3;
		save->ss.selector |= 3;
		save->cs.attrib |= 3 << SVM_SELECTOR_DPL_SHIFT;
		save->ss.attrib |= 3 << SVM_SELECTOR_DPL_SHIFT;
	}

	for (;;) {
		run_guest(vmcb, svm->vmcb_gpa);
		GUEST_ASSERT_EQ(ctrl->exit_code, SVM_EXIT_VMMCALL);
		if (l2_done())
			GUEST_DONE();
		GUEST_SYNC(SYNC_L1_SAW_VMCALL);
		save->rip += 3;
	}
}

/* Host side: the VMCB pages and the VP assist page, in L1 memory. */
static struct svm_test_data *relay_svm_alloc(struct kvm_vm *vm,
					     relay_gva_t *svm_gva)
{
	relay_gva_t gva = relay_alloc_page(vm);

	relay_svm_l1.vp_assist_gpa = addr_gva2gpa(vm, gva);
	relay_svm_l1.vp_assist = (void *)gva;
	relay_svm_l1.ncr3 = 0;
	return vcpu_alloc_svm(vm, svm_gva);
}

#endif /* RELAY_SVM_H */
