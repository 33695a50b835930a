// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay_vmfail: a late VM-Fail of L1's VM entry reaches L1, with the relay
 * enabled as without it.  Intel only.
 *
 * A VM entry that VM-fails (VMfailValid) writes no exit information, so the
 * VMCS's exit reason field still holds the previous exit's.  Staged here:
 * L2 makes a nested HvPostMessage that L1 has not authorised, so L1 gets the
 * VMCALL, as hvix64 would; L1 then authorises L2 and resumes it with L2's
 * registers as they were (RCX still the nested post) and a vmcs12 that
 * passes KVM's checks but not the processor's.  The latter is the one KVM
 * itself forces (nested_get_vmcs12_pages()): a TPR shadow whose virtual-APIC
 * page is no guest memory, for which KVM writes an invalid address into
 * vmcs02, so that the processor fails the entry.  KVM then gives L1 a
 * VM-Fail with VM-instruction error 7 (SDM: "VM entry with invalid control
 * field(s)") and L1 goes on after its VMRESUME.
 *
 * The relay must not take the stale VMCALL exit reason for L2's call: that
 * would hand the exit to L0, whose VMM then gets KVM_EXIT_FAIL_ENTRY instead
 * of L1 its VM-Fail.  Each case is one VM in a child process: first with the
 * capability not enabled (what KVM does by itself), then enabled.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"
#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#include "lib/relay_nested.h"
#include "lib/relay_post.h"

/* Page-aligned, below 4 GiB, and no memslot: neither L1's nor KVM's own. */
#define NO_MEMORY_GPA		0xd0000000ULL
#define VMXERR_INVALID_CONTROL	7
#define SYNC_L1_GOT_VMCALL	1

/* What L1 found, for the host's messages. */
static struct {
	u64 resume_failed;
	u64 insn_error;
} l1_saw;

/*
 * VMRESUME with RCX and RDX as L2 left them at its VMCALL, as an L1 that
 * restores L2's registers before it resumes L2.  Return: 1 if the VMRESUME
 * VM-failed (L1 goes on after it), 0 if L2 ran and exited again.  After a
 * VM exit only RSP and RIP are L1's (the eVMCS host fields): every other
 * register is L2's.
 */
static int l1_vmresume_as_l2_left(struct hv_enlightened_vmcs *e, u64 rcx, u64 rdx)
{
	u64 ret = (u64)e;

	e->hv_clean_fields &= ~(HV_VMX_ENLIGHTENED_CLEAN_FIELD_HOST_GRP1 |
				HV_VMX_ENLIGHTENED_CLEAN_FIELD_HOST_POINTER);
	asm volatile("push %%rbp\n\t"
		     "mov %%rsp, %c[rsp](%%rax)\n\t"
		     "lea 1f(%%rip), %%rbp\n\t"
		     "mov %%rbp, %c[rip](%%rax)\n\t"
		     "vmresume\n\t"
		     "mov $1, %%eax\n\t"
		     "jmp 2f\n"
		     "1:\txor %%eax, %%eax\n"
		     "2:\tpop %%rbp\n\t"
		     : "+a"(ret), "+c"(rcx), "+d"(rdx)
		     : [rsp] "i"(offsetof(struct hv_enlightened_vmcs, host_rsp)),
		       [rip] "i"(offsetof(struct hv_enlightened_vmcs, host_rip))
		     : "rbx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
		       "r14", "r15", "memory", "cc");
	return ret;
}

static void l1_code(void *nested, struct relay_l1 *l1)
{
	struct hv_enlightened_vmcs *e;

	relay_l1_setup(l1, nested);
	/* Not authorised yet: L2's nested post is L1's. */
	l1->direct_hypercall = 0;
	relay_l1_enter(l1, nested, true);
	GUEST_ASSERT(!relay_post_l2_state.done);
	GUEST_SYNC(SYNC_L1_GOT_VMCALL);

	/* Authorised from now on (TLFS VP assist page, byte 32 bit 0). */
	WRITE_ONCE(*(u32 *)((u8 *)l1->vp_assist + 32), 1);
	e = current_evmcs;
	e->cpu_based_vm_exec_control |= CPU_BASED_TPR_SHADOW;
	/* With CR8 exits KVM would drop the TPR shadow instead of failing. */
	e->cpu_based_vm_exec_control &= ~(CPU_BASED_CR8_LOAD_EXITING |
					  CPU_BASED_CR8_STORE_EXITING);
	e->virtual_apic_page_addr = NO_MEMORY_GPA;
	e->tpr_threshold = 0;
	e->hv_clean_fields = 0;

	l1_saw.resume_failed = l1_vmresume_as_l2_left(e, HC_NESTED | HC_POST,
						      relay_post_l2_state.msg_gpa);
	l1_saw.insn_error = e->vm_instruction_error;
	GUEST_DONE();
}

static void run_case(u64 mask)
{
	struct kvm_vcpu *vcpu;
	struct relay_run r;
	struct kvm_vm *vm;

	vm = relay_l2_vm_create(&vcpu, l1_code, relay_post_l2_code);
	relay_guest_ptr(vm, l1_saw)->resume_failed = ~0ULL;
	relay_post_l2_state.msg_gpa = addr_gva2gpa(vm, relay_alloc_page(vm));
	sync_global_to_guest(vm, relay_post_l2_state);
	if (mask)
		TEST_ASSERT(!relay_enable(vm, mask), "KVM_ENABLE_CAP(relay, 0x%llx)",
			    (unsigned long long)mask);
	/* Any exit but I/O fails there, KVM_EXIT_FAIL_ENTRY included. */
	relay_run_to_done(vcpu, 0, SYNC_L1_GOT_VMCALL, &r);
	sync_global_from_guest(vm, l1_saw);
	TEST_ASSERT(!r.hyperv_exits,
		    "%d KVM_EXIT_HYPERV: L1's VMRESUME did not fail, the late VM-Fail was not staged",
		    r.hyperv_exits);
	TEST_ASSERT(r.l1_syncs == 1, "L1 got L2's post %d times, want once", r.l1_syncs);
	TEST_ASSERT(l1_saw.resume_failed == 1,
		    "L1's VMRESUME with an unmapped virtual-APIC page did not VM-fail");
	TEST_ASSERT(l1_saw.insn_error == VMXERR_INVALID_CONTROL,
		    "VM-instruction error %llu, want %d",
		    (unsigned long long)l1_saw.insn_error, VMXERR_INVALID_CONTROL);
	ksft_print_msg("L1 got VM-Fail, VM-instruction error %llu\n",
		       (unsigned long long)l1_saw.insn_error);
	kvm_vm_free(vm);
}

static const struct {
	const char *name;
	u64 mask;
} cases[] = {
	{ "relay_vmfail_late_vmfail_reaches_l1_stock", 0 },
	{ "relay_vmfail_late_vmfail_reaches_l1_relay", KVM_NESTED_HYPERV_RELAY_ALL },
};

int main(int argc, char *argv[])
{
	unsigned int i;

	ksft_print_header();
	ksft_set_plan(ARRAY_SIZE(cases));
	if (kvm_cpu_has(X86_FEATURE_SVM)) {
		for (i = 0; i < ARRAY_SIZE(cases); i++)
			ksft_test_result_skip("%s: Intel only (VMX VM-Fail)\n", cases[i].name);
		ksft_finished();
	}
	relay_require_nested();
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		run_case(cases[i].mask);
		ksft_test_result_pass("%s\n", cases[i].name);
	}
	ksft_finished();
}
