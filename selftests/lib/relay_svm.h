/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The AMD side of lib/relay_nested.h: L1 plays hvix64 on SVM.  It enables
 * the VP assist page, runs L2 from a VMCB12 whose Hyper-V enlightenments
 * area (TLFS "enlightened VMCB") authorises it, with nested paging through
 * page tables the host built in L1 memory.
 *
 * Included by relay_nested.h after struct relay_l1; the selftest library's
 * SVM API is told apart by relay_compat.h.
 *
 * The library's run_guest() keeps L2's GPRs in one global, so only one vCPU
 * at a time may run an L2 on SVM.
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

static inline void relay_l1_svm_setup(struct relay_l1 *l1, struct svm_test_data *svm)
{
	struct vmcb_save_area *save = &svm->vmcb->save;

	wrmsr(HV_X64_MSR_VP_ASSIST_PAGE, l1->vp_assist_gpa | 1);
#ifdef RELAY_LIB_GVA_T
	generic_svm_setup(svm, (void *)l1->l2_rip);
#else
	generic_svm_setup(svm, (void *)l1->l2_rip, (void *)l1->l2_rsp);
#endif
	l1->cs_sel = save->cs.selector;
	l1->ss_sel = save->ss.selector;
	l1->cs_ar = save->cs.attrib;
	l1->ss_ar = save->ss.attrib;
}

static inline void relay_l1_svm_configure(struct relay_l1 *l1, struct svm_test_data *svm)
{
	struct vmcb *vmcb = svm->vmcb;
	struct vmcb_save_area *save = &vmcb->save;
	struct vmcb_control_area *ctrl = &vmcb->control;

	ctrl->hv_enlightenments.hv_enlightenments_control.nested_flush_hypercall =
		l1->nested_flush;
	if (l1->stage2 && l1->stage2_root) {
		relay_vmcb_np_ctl(ctrl) |= RELAY_VMCB_NP_ENABLE;
		ctrl->nested_cr3 = l1->stage2_root;
	} else {
		relay_vmcb_np_ctl(ctrl) &= ~RELAY_VMCB_NP_ENABLE;
	}

	save->cs.selector = l1->cs_sel;
	save->ss.selector = l1->ss_sel;
	save->cs.attrib = l1->cs_ar;
	save->ss.attrib = l1->ss_ar;
	save->cpl = 0;
	if (l1->mode == L2_COMPAT) {
		/* EFER.LMA stays on; a CS with L=0, D=1 is compatibility mode. */
		save->cs.attrib &= ~SVM_SELECTOR_L_MASK;
		save->cs.attrib |= SVM_SELECTOR_DB_MASK;
	} else if (l1->mode == L2_USER) {
		save->cpl = 3;
		save->cs.selector |= 3;
		save->ss.selector |= 3;
		save->cs.attrib |= 3 << SVM_SELECTOR_DPL_SHIFT;
		save->ss.attrib |= 3 << SVM_SELECTOR_DPL_SHIFT;
	}
	save->rip = l1->l2_rip;
	save->rsp = l1->l2_rsp;
	/* Segments, nested paging: nothing is as KVM cached it. */
	ctrl->clean = 0;
}

static inline void relay_l1_svm_run(struct svm_test_data *svm)
{
	run_guest(svm->vmcb, svm->vmcb_gpa);
	GUEST_ASSERT_EQ(svm->vmcb->control.exit_code, SVM_EXIT_VMMCALL);
}

#endif /* RELAY_SVM_H */
