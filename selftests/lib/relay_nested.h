/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the relay selftests share: an L1 that plays hvix64 and runs an L2,
 * on Intel (eVMCS + EPT) and on AMD (VMCB12 with Hyper-V enlightenments +
 * nested paging, lib/relay_svm.h), and the host side that builds L1's
 * stage-2 tables for L2 with an alias window.
 *
 * L1 is configured per vCPU through a struct relay_l1 in guest memory that
 * the host fills; L1 applies it every time it (re)enters L2, so a test can
 * change L2's mode, L1's authorisation and stage-2 paging between runs.
 *
 * Include after the selftest library's kvm_util.h and processor.h.
 */
#ifndef RELAY_NESTED_H
#define RELAY_NESTED_H

#include "vmx.h"
#include "evmcs.h"
#include "svm_util.h"

#include <linux/kvm_hv_relay.h>
#include "relay_compat.h"
#include "relay_shim.h"
#include "relay_debugfs.h"

#define HV_STATUS_SUCCESS		0
#define HV_STATUS_INVALID_INPUT		3
#define HV_STATUS_INVALID_ALIGNMENT	4

#define HC_POST		0x005cULL
#define HC_SIGNAL	0x005dULL
#define HC_FAST		BIT_ULL(16)
#define HC_NESTED	BIT_ULL(31)
/* A plain, non-nested call that L0 never keeps: L2's way back to L1. */
#define HC_BACK_TO_L1	0x0001ULL

/* L2 GPA window, PML4 slot 1 of L1's stage-2 tables for L2: never L1 memory. */
#define ALIAS_BASE	(1ULL << 39)
enum alias_page {
	ALIAS_MSG,		/* -> the message page, readable */
	ALIAS_XONLY,		/* -> the message page, not readable */
	ALIAS_HOLE,		/* not present */
	ALIAS_OUTSIDE,		/* readable, but to an L1 GPA in no memslot */
	ALIAS_OPERAND,		/* -> the signal operand page */
	ALIAS_APIC,		/* readable, to the xAPIC page: no user memslot */
	ALIAS_NR,
};
#define OUTSIDE_L1_GPA	(0x7fULL << 32)
/*
 * Other shapes of L1's tables, one PDPT entry of the alias window each: a
 * 2M leaf over the 2M of L1 memory that holds the message page; a readable
 * leaf for the message page under a table entry that does not grant read;
 * a table page at an L1 GPA in no memslot.
 */
#define ALIAS_2M_BASE		(ALIAS_BASE + (1ULL << 30))
#define ALIAS_NOREAD_TABLE	(ALIAS_BASE + (2ULL << 30))
#define ALIAS_TABLE_OUTSIDE	(ALIAS_BASE + (3ULL << 30))
#define RELAY_2M		BIT_ULL(21)
/*
 * KVM may back this GPA with a private memslot of its own (the VMX APIC
 * access page); for the VMM it is not guest memory.
 */
#define APIC_L1_GPA	0xfee00000ULL

enum l2_mode { L2_LONG, L2_COMPAT, L2_USER, L2_NR_MODES };

/* Per-vCPU L1 configuration and state, in guest memory. */
struct relay_l1 {
	/* Host-written, applied by L1 at every (re)entry of L2. */
	u8 mode;
	u8 direct_hypercall;	/* VP assist page nested_control.features */
	u8 nested_flush;	/* eVMCS / VMCB12 nested_flush_hypercall */
	u8 stage2;		/* L2 runs on the stage-2 tables at stage2_root */
	u64 stage2_root;	/* 0: L2 never gets stage-2 tables */
	u64 l2_rip, l2_rsp;
	/* Host-written once. */
	u64 vp_assist_gpa;
	void *vp_assist;
	u64 evmcs_gpa;		/* Intel */
	void *evmcs;
	/* L1's own. */
	u8 launched;
	u16 cs_sel, ss_sel;
	u32 cs_ar, ss_ar;
};

/* VMCALL on Intel, VMMCALL on AMD: the guest side cannot tell by itself. */
static u8 relay_hc_svm;
/* relay_l2_hypercall() puts a CS prefix (2e) before the instruction. */
static u8 relay_hc_prefixed;

#define RELAY_HYPERCALL_ASM(svm)	"testb $1, " svm "\n\t"		\
					"jnz 1f\n\t"			\
					"vmcall\n\t"			\
					"jmp 2f\n"			\
					"1:\tvmmcall\n"			\
					"2:\n\t"

/* As RELAY_HYPERCALL_ASM(), with a CS prefix if the byte at @pfx says so. */
#define RELAY_HYPERCALL_ASM_PFX(svm, pfx)				\
	"testb $1, " pfx "\n\t"						\
	"jnz 3f\n\t"							\
	RELAY_HYPERCALL_ASM(svm)					\
	"jmp 4f\n"							\
	"3:\ttestb $1, " svm "\n\t"					\
	"jnz 5f\n\t"							\
	".byte 0x2e\n\tvmcall\n\t"					\
	"jmp 4f\n"							\
	"5:\t.byte 0x2e\n\tvmmcall\n"					\
	"4:\n\t"

/* L2 registers after a 64-bit hypercall. */
struct relay_hc_regs {
	u64 rax, rcx, rdx, r8;
};

/*
 * A 64-bit hypercall from L2: input in RCX, operands in RDX and R8.  If L1
 * takes it, L1 resumes L2 with L1's own GPRs: the callee-saved ones are kept
 * on L2's stack (RSP is in the VMCS/VMCB), below the red zone.
 */
static inline void relay_l2_hypercall(u64 input, u64 in, u64 out,
				      struct relay_hc_regs *after)
{
	register u64 r8 asm("r8") = out;
	u64 rax, rcx = input, rdx = in;

	asm volatile("sub $128, %%rsp\n\t"
		     "push %%rbx\n\tpush %%rbp\n\tpush %%r12\n\t"
		     "push %%r13\n\tpush %%r14\n\tpush %%r15\n\t"
		     RELAY_HYPERCALL_ASM_PFX("%[svm]", "%[pfx]")
		     "pop %%r15\n\tpop %%r14\n\tpop %%r13\n\t"
		     "pop %%r12\n\tpop %%rbp\n\tpop %%rbx\n\t"
		     "add $128, %%rsp"
		     : "=a"(rax), "+c"(rcx), "+d"(rdx), "+r"(r8)
		     : [svm] "m"(relay_hc_svm), [pfx] "m"(relay_hc_prefixed)
		     : "rsi", "rdi", "r9", "r10", "r11", "memory", "cc");
	after->rax = rax;
	after->rcx = rcx;
	after->rdx = rdx;
	after->r8 = r8;
}

static inline void relay_l2_back_to_l1(void)
{
	asm volatile(RELAY_HYPERCALL_ASM("%[svm]")
		     : : "c"(HC_BACK_TO_L1), "d"(0), "a"(0),
		       [svm] "m"(relay_hc_svm) : "memory", "cc");
}

#include "relay_svm.h"

/* --- L1, Intel: eVMCS ------------------------------------------------------ */

#define RELAY_VMX_CS_L		BIT(13)
#define RELAY_VMX_CS_DB		BIT(14)
#define RELAY_VMX_DPL3		(3 << 5)

static inline void relay_l1_vmx_setup(struct relay_l1 *l1, struct vmx_pages *vmx)
{
	struct relay_evmcs_pages ev = {
		.vp_assist_gpa = l1->vp_assist_gpa, .vp_assist = l1->vp_assist,
		.evmcs_gpa = l1->evmcs_gpa, .evmcs = l1->evmcs,
	};

	enable_vp_assist(l1->vp_assist_gpa, l1->vp_assist);
	GUEST_ASSERT(prepare_for_vmx_operation(vmx));
	relay_guest_load_evmcs(vmx, &ev, (void *)l1->l2_rip, (void *)l1->l2_rsp);
	l1->cs_sel = current_evmcs->guest_cs_selector;
	l1->ss_sel = current_evmcs->guest_ss_selector;
	l1->cs_ar = current_evmcs->guest_cs_ar_bytes;
	l1->ss_ar = current_evmcs->guest_ss_ar_bytes;
}

static inline void relay_l1_vmx_configure(struct relay_l1 *l1)
{
	struct hv_enlightened_vmcs *e = current_evmcs;
	u32 cs_ar = l1->cs_ar, ss_ar = l1->ss_ar;
	u16 cs_sel = l1->cs_sel, ss_sel = l1->ss_sel;

	e->hv_enlightenments_control.nested_flush_hypercall = l1->nested_flush;
	if (l1->stage2 && l1->stage2_root)
		e->secondary_vm_exec_control |= SECONDARY_EXEC_ENABLE_EPT;
	else
		e->secondary_vm_exec_control &= ~SECONDARY_EXEC_ENABLE_EPT;

	if (l1->mode == L2_COMPAT) {
		/* IA-32e mode stays on; a CS with L=0, D=1 is compatibility mode. */
		cs_ar = (cs_ar & ~RELAY_VMX_CS_L) | RELAY_VMX_CS_DB;
	} else if (l1->mode == L2_USER) {
		/* CPL is SS.DPL; RPLs and CS.DPL must agree with it. */
		cs_sel |= 3;
		ss_sel |= 3;
		cs_ar |= RELAY_VMX_DPL3;
		ss_ar |= RELAY_VMX_DPL3;
	}
	e->guest_cs_selector = cs_sel;
	e->guest_ss_selector = ss_sel;
	e->guest_cs_ar_bytes = cs_ar;
	e->guest_ss_ar_bytes = ss_ar;
	e->guest_rip = l1->l2_rip;
	e->guest_rsp = l1->l2_rsp;
	e->hv_clean_fields = 0;
}

static inline void relay_l1_vmx_run(struct relay_l1 *l1)
{
	if (!l1->launched) {
		l1->launched = 1;
		GUEST_ASSERT(!vmlaunch());
	} else {
		GUEST_ASSERT(!vmresume());
	}
	GUEST_ASSERT_EQ(current_evmcs->vm_exit_reason, EXIT_REASON_VMCALL);
}

/* --- L1, both vendors -------------------------------------------------------- */

/*
 * Once per vCPU: VP assist page, VMX or SVM set up for L2.  @nested is the
 * struct vmx_pages / struct svm_test_data the host allocated.
 */
static inline void relay_l1_setup(struct relay_l1 *l1, void *nested)
{
	/* Selftest page tables carry U only for the CPL 3 case: no SMEP/SMAP. */
	GUEST_ASSERT(!(get_cr4() & (X86_CR4_SMEP | X86_CR4_SMAP)));
	if (relay_hc_svm)
		relay_l1_svm_setup(l1, nested);
	else
		relay_l1_vmx_setup(l1, nested);
}

/*
 * Enter L2 with the current configuration; returns at its next hypercall
 * exit (asserted).  @restart: (re)start L2 at l2_rip/l2_rsp with l1's mode
 * and authorisation, else resume it where it is.
 */
static inline void relay_l1_enter(struct relay_l1 *l1, void *nested, bool restart)
{
	/* TLFS VP assist page: nested_control.features at byte 32, bit 0. */
	*(volatile u32 *)((u8 *)l1->vp_assist + 32) = l1->direct_hypercall;
	if (relay_hc_svm) {
		if (restart)
			relay_l1_svm_configure(l1, nested);
		relay_l1_svm_run(nested);
	} else {
		if (restart)
			relay_l1_vmx_configure(l1);
		relay_l1_vmx_run(l1);
	}
}

/*
 * Move L2 past its VMCALL / VMMCALL: 3 bytes either way, one more with
 * relay_l2_hypercall()'s prefix (the only prefixed call L2 makes).
 */
static inline void relay_l1_skip(void *nested)
{
	int len = 3 + relay_hc_prefixed;

	if (relay_hc_svm)
		((struct svm_test_data *)nested)->vmcb->save.rip += len;
	else
		current_evmcs->guest_rip += len;
}

/* --- host ---------------------------------------------------------------------- */

/* A host pointer to a guest global, live (not a copy). */
#define relay_guest_ptr(vm, sym) \
	((typeof(&(sym)))addr_gva2hva(vm, (relay_gva_t)&(sym)))

struct relay_nested_vcpu {
	struct kvm_vcpu *vcpu;
	struct relay_l1 *l1;		/* host view */
	relay_gva_t l1_gva;
	struct vmx_pages *vmx;		/* Intel, host view */
};

static inline bool relay_host_is_svm(void)
{
	return kvm_cpu_has(X86_FEATURE_SVM);
}

/*
 * Skip unless the host has nested virtualization with stage-2 paging and
 * kvm_hv_relay is loaded; fail where the module is loaded but short.
 */
static inline void relay_require_nested(void)
{
	/* Before the CPU checks: lost nesting hides VMX/SVM, a skip otherwise. */
	relay_assert_nested_if_loaded();
	TEST_REQUIRE(kvm_cpu_has(X86_FEATURE_VMX) || kvm_cpu_has(X86_FEATURE_SVM));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_NESTED_STATE));
	if (relay_host_is_svm())
		TEST_REQUIRE(kvm_cpu_has(X86_FEATURE_NPT));
	else
		TEST_REQUIRE(kvm_has_cap(KVM_CAP_HYPERV_ENLIGHTENED_VMCS));
	relay_require_module();
}

/*
 * Make @vcpu an L1 that can run L2: its Hyper-V identity from libhvrelay's
 * nested "windows" preset (eVMCS on Intel, SynIC2, CPUID), the VMX or SVM
 * pages, the VP assist page and its struct relay_l1.  Its guest code gets
 * (nested, l1) as arguments.
 */
static inline void relay_nested_vcpu_init(struct kvm_vm *vm, struct kvm_vcpu *vcpu,
					  struct relay_nested_vcpu *nv)
{
	relay_gva_t nested_gva, gva;
	struct relay_evmcs_pages ev;

	memset(nv, 0, sizeof(*nv));
	nv->vcpu = vcpu;
	nv->l1_gva = relay_alloc_page(vm);
	nv->l1 = addr_gva2hva(vm, nv->l1_gva);
	memset(nv->l1, 0, sizeof(*nv->l1));

	relay_shim_vcpu_setup(vcpu, RELAY_SHIM_SPEC, NULL);
	if (relay_host_is_svm()) {
		vcpu_alloc_svm(vm, &nested_gva);
		gva = relay_alloc_page(vm);
		nv->l1->vp_assist_gpa = addr_gva2gpa(vm, gva);
		nv->l1->vp_assist = (void *)gva;
	} else {
		nv->vmx = vcpu_alloc_vmx(vm, &nested_gva);
		relay_evmcs_pages(vm, nv->vmx, &ev);
		nv->l1->vp_assist_gpa = ev.vp_assist_gpa;
		nv->l1->vp_assist = ev.vp_assist;
		nv->l1->evmcs_gpa = ev.evmcs_gpa;
		nv->l1->evmcs = ev.evmcs;
	}
	vcpu_args_set(vcpu, 2, nested_gva, nv->l1_gva);

	relay_hc_svm = relay_host_is_svm();
	sync_global_to_guest(vm, relay_hc_svm);
}

/* Give L2 the stage-2 tables at @root (0: none). */
static inline void relay_nested_set_stage2(struct relay_nested_vcpu *nv, u64 root)
{
	nv->l1->stage2_root = root;
	nv->l1->stage2 = root != 0;
	/* Intel: prepare_vmcs() sets up the EPTP from vmx_pages. */
	if (nv->vmx)
		nv->vmx->eptp_gpa = root;
}

#define EPT_RWX		0x7ULL
#define EPT_X		0x4ULL
#define EPT_WB		(6ULL << 3)

/* Entry bits of L1's stage-2 tables for L2: EPT (Intel) or NPT (AMD). */
struct relay_stage2_format {
	bool l1_levels;		/* as many levels as L1's paging (NPT), else 4 */
	u64 table;		/* non-leaf entry */
	u64 leaf;		/* readable 4K page */
	u64 leaf_noread;	/* mapped, but not readable by L2 */
	u64 table_noread;	/* a table entry that does not grant read */
	u64 large;		/* the bit that makes a PD entry a 2M leaf */
};

static const struct relay_stage2_format relay_ept_format = {
	.table = EPT_RWX, .leaf = EPT_RWX | EPT_WB, .leaf_noread = EPT_X | EPT_WB,
	.table_noread = EPT_X, .large = BIT_ULL(7),
};

/* Nested page table walks are user accesses: a supervisor page is unreadable. */
static const struct relay_stage2_format relay_npt_format = {
	.l1_levels = true, .table = NPT_P | NPT_RW | NPT_US,
	.leaf = NPT_P | NPT_RW | NPT_US, .leaf_noread = NPT_P | NPT_RW,
	.table_noread = NPT_P | NPT_RW, .large = BIT_ULL(7),
};

static inline u64 *relay_table_page(struct kvm_vm *vm, u64 *gpa)
{
	relay_gva_t gva = relay_alloc_page(vm);

	*gpa = addr_gva2gpa(vm, gva);
	return addr_gva2hva(vm, gva);
}

/* Size of memslot 0, which L1's stage-2 tables map 1:1. */
static inline u64 relay_identity_size(struct kvm_vm *vm)
{
	return memslot2region(vm, 0)->region.memory_size;
}

/*
 * L1's EPT or NPT for L2, built by the host in L1 memory: 4K identity pages
 * over memslot 0, the alias window (enum alias_page) at ALIAS_BASE and the
 * other shapes after it (ALIAS_2M_BASE, ...).  Returns the root's GPA.
 */
static inline u64 relay_build_stage2(struct kvm_vm *vm, u64 msg_gpa, u64 operand_gpa)
{
	const struct relay_stage2_format *f =
		relay_host_is_svm() ? &relay_npt_format : &relay_ept_format;
	u64 size = relay_identity_size(vm);
	u64 pml4_gpa, pdpt_gpa, pd_gpa, gpa, hi_pdpt_gpa, hi_pd_gpa, hi_pt_gpa;
	u64 *pml4, *pdpt, *pd, *pt, *hi_pdpt, *hi_pd, *hi_pt;
	u64 addr = 0;
	int i;

	TEST_ASSERT(size <= (1ULL << 30), "memslot 0 larger than 1 GiB");
	pml4 = relay_table_page(vm, &pml4_gpa);
	pdpt = relay_table_page(vm, &pdpt_gpa);
	pd = relay_table_page(vm, &pd_gpa);
	pml4[0] = pdpt_gpa | f->table;
	pdpt[0] = pd_gpa | f->table;
	for (i = 0; addr < size; i++) {
		int j;

		pt = relay_table_page(vm, &gpa);
		pd[i] = gpa | f->table;
		for (j = 0; j < 512 && addr < size; j++, addr += 4096)
			pt[j] = addr | f->leaf;
	}

	hi_pdpt = relay_table_page(vm, &hi_pdpt_gpa);
	hi_pd = relay_table_page(vm, &hi_pd_gpa);
	hi_pt = relay_table_page(vm, &hi_pt_gpa);
	pml4[ALIAS_BASE >> 39] = hi_pdpt_gpa | f->table;
	hi_pdpt[0] = hi_pd_gpa | f->table;
	hi_pd[0] = hi_pt_gpa | f->table;
	hi_pt[ALIAS_MSG] = msg_gpa | f->leaf;
	hi_pt[ALIAS_XONLY] = msg_gpa | f->leaf_noread;
	hi_pt[ALIAS_HOLE] = 0;
	hi_pt[ALIAS_OUTSIDE] = OUTSIDE_L1_GPA | f->leaf;
	hi_pt[ALIAS_OPERAND] = operand_gpa | f->leaf;
	hi_pt[ALIAS_APIC] = APIC_L1_GPA | f->leaf;

	pd = relay_table_page(vm, &gpa);
	hi_pdpt[(ALIAS_2M_BASE - ALIAS_BASE) >> 30] = gpa | f->table;
	pd[0] = (msg_gpa & ~(RELAY_2M - 1)) | f->leaf | f->large;

	pd = relay_table_page(vm, &gpa);
	hi_pdpt[(ALIAS_NOREAD_TABLE - ALIAS_BASE) >> 30] = gpa | f->table;
	pt = relay_table_page(vm, &gpa);
	pd[0] = gpa | f->table_noread;
	pt[0] = msg_gpa | f->leaf;

	hi_pdpt[(ALIAS_TABLE_OUTSIDE - ALIAS_BASE) >> 30] = OUTSIDE_L1_GPA | f->table;

	/* Nested paging has the format of L1's own paging: maybe 5 levels. */
	if (f->l1_levels && relay_vm_levels(vm) == 5) {
		u64 pml5_gpa, *pml5 = relay_table_page(vm, &pml5_gpa);

		pml5[0] = pml4_gpa | f->table;
		return pml5_gpa;
	}
	return pml4_gpa;
}

static inline void relay_set_user_bit_level(struct kvm_vm *vm, u64 table_gpa, int level)
{
	u64 *table = addr_gpa2hva(vm, table_gpa);
	int i;

	for (i = 0; i < 512; i++) {
		if (!(table[i] & 1))
			continue;
		table[i] |= 4;
		if (level > 1 && !(table[i] & BIT_ULL(7)))
			relay_set_user_bit_level(vm, table[i] & GENMASK_ULL(51, 12),
						 level - 1);
	}
}

/* Let L2 run at CPL 3 on L1's page tables: set U at every level. */
static inline void relay_set_user_bit(struct kvm_vm *vm)
{
	relay_set_user_bit_level(vm, relay_vm_pgd(vm), relay_vm_levels(vm));
}

/* What a VMM saw while running a relay test's vCPU to GUEST_DONE. */
struct relay_run {
	int hyperv_exits;		/* KVM_EXIT_HYPERV (HCALL) */
	int l1_syncs;			/* GUEST_SYNCs: calls that reached L1 */
	struct kvm_hyperv_exit last;	/* the last KVM_EXIT_HYPERV */
};

/*
 * Run @vcpu until its guest is done, answering every hypercall exit with
 * @result; every GUEST_SYNC must carry @sync.  Any other exit fails.
 */
static inline void relay_run_to_done(struct kvm_vcpu *vcpu, u64 result, u64 sync,
				     struct relay_run *r)
{
	struct kvm_run *run = vcpu->run;
	struct ucall uc;

	memset(r, 0, sizeof(*r));
	for (;;) {
		vcpu_run(vcpu);
		if (run->exit_reason == KVM_EXIT_HYPERV) {
			TEST_ASSERT(run->hyperv.type == KVM_EXIT_HYPERV_HCALL,
				    "KVM_EXIT_HYPERV of type %u", run->hyperv.type);
			r->last = run->hyperv;
			r->hyperv_exits++;
			run->hyperv.u.hcall.result = result;
			continue;
		}
		TEST_ASSERT(run->exit_reason == KVM_EXIT_IO, "unexpected exit %u (%s)",
			    run->exit_reason, exit_reason_str(run->exit_reason));
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_SYNC:
			TEST_ASSERT(uc.args[1] == sync, "sync %lu, want %lu",
				    (unsigned long)uc.args[1], (unsigned long)sync);
			r->l1_syncs++;
			continue;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			return;
		case UCALL_DONE:
			return;
		default:
			TEST_FAIL("unknown ucall %lu", (unsigned long)uc.cmd);
		}
	}
}

#endif /* RELAY_NESTED_H */
