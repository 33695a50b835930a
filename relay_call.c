// SPDX-License-Identifier: GPL-2.0-only
/*
 * The path of a relayed call: the decision at L2's hypercall exit (an
 * ftrace callback, atomic), the fault-in retry, the replacement of KVM's
 * hypercall handler for the call the decision marked (process context), and
 * the completion on the next KVM_RUN; with the walk of the stage-2 tables
 * L1 built for L2, through which the handler translates the input address.
 */
#include <linux/rcupdate.h>

#include "compat.h"
#include "kvm_hv_relay.h"
#include "relay_trace.h"

static void relay_count(struct relay_vm *rvm, enum relay_counter c)
{
	atomic64_inc(&rvm->counters[c]);
}

/* Common to EPT and x86-64 paging entries: page size bit, address field. */
#define RELAY_S2_LARGE		BIT_ULL(7)
#define RELAY_S2_ADDR_MASK	GENMASK_ULL(51, 12)
#define RELAY_S2_ENTRIES	512

/**
 * relay_stage2_walk() - translate an address through a 4- or 5-level table
 * @kvm: the VM
 * @s2: the tables: L1's EPT or nested page tables for L2, or L2's own page
 *	tables (which have the same format as nested ones)
 * @outer: NULL when @s2's tables are in L1 memory; else they are at L2
 *	   GPAs, each translated through @outer (L1's tables for L2) first
 * @gpa: the address to translate
 * @atomic: the caller cannot sleep, so every page must already be present
 * @l1_gpa: the result
 *
 * Walks as the CPU would for a read, 1G and 2M pages included.  Accessed
 * and dirty flags are left alone: this is a hypervisor looking at guest
 * memory, not a guest access.
 *
 * Return: 0, -EINVAL for a malformed walk, -EACCES for a missing permission,
 * -EFAULT or -ENOENT when a table is not readable L1 memory (-EFAULT in
 * @atomic mode possibly only because a page is not present).
 */
int relay_stage2_walk(struct kvm *kvm, const struct relay_s2 *s2,
		      const struct relay_s2 *outer, u64 gpa, bool atomic,
		      u64 *l1_gpa)
{
	u64 table = s2->root & RELAY_S2_ADDR_MASK, need = s2->need;
	int level = s2->levels, ret;

	if (level != 4 && level != 5)
		return -EINVAL;
	if (gpa >> (PAGE_SHIFT + 9 * level))
		return -EINVAL;

	for (; level >= 1; level--) {
		int shift = PAGE_SHIFT + 9 * (level - 1);
		u64 index = (gpa >> shift) & (RELAY_S2_ENTRIES - 1);
		u64 entry = table + index * sizeof(u64), pte;

		if (outer) {
			ret = relay_stage2_walk(kvm, outer, NULL, entry, atomic,
						&entry);
			if (ret)
				return ret;
		}
		ret = relay_read_l1(kvm, entry, &pte, sizeof(pte), atomic);
		if (ret)
			return ret;
		if ((pte & need) != need)
			return -EACCES;
		if (level == 1 ||
		    ((level == 2 || level == 3) && (pte & RELAY_S2_LARGE))) {
			u64 offset_mask = BIT_ULL(shift) - 1;

			*l1_gpa = (pte & RELAY_S2_ADDR_MASK & ~offset_mask) |
				  (gpa & offset_mask);
			return 0;
		}
		if (pte & RELAY_S2_LARGE)
			return -EINVAL;
		table = pte & RELAY_S2_ADDR_MASK;
	}
	return -EINVAL;
}

/*
 * Memory the VMM gave the guest: KVM's own private memslots (the VMX APIC
 * access page, the real-mode TSS) are no address a VMM can read a message at.
 */
static bool relay_l1_gpa_is_memory(struct kvm *kvm, u64 gpa)
{
	return kvm_is_visible_memslot(__gfn_to_memslot(kvm_memslots(kvm),
						       gpa_to_gfn(gpa)));
}

/* The hypercall input value: RCX in 64-bit mode, else EDX:EAX. */
static u64 relay_input_value(struct kvm_vcpu *vcpu, bool long_mode)
{
	unsigned long *regs = vcpu->arch.regs;

	if (long_mode)
		return regs[VCPU_REGS_RCX];
	return (u64)(u32)regs[VCPU_REGS_RDX] << 32 | (u32)regs[VCPU_REGS_RAX];
}

/*
 * A call to relay from a vCPU created after the capability was enabled, its
 * entry not allocated yet: nothing may be allocated here, so the fault-in
 * replacement allocates it and L2 makes the call again.
 */
static enum relay_vcpu_state relay_decide_no_entry(struct kvm_vcpu *vcpu,
						   struct relay_vm *rvm)
{
	unsigned int idx = vcpu->vcpu_idx;

	/* max_vcpus never changes on x86: as without state, should it. */
	if (idx >= relay_vm_capacity(rvm))
		return RELAY_IDLE;
	/* The allocation failed for this call: as without the module. */
	if (relay_chunk_unmark(rvm, idx))
		return RELAY_IDLE;
	relay_count(rvm, RELAY_CNT_FAULT_IN);
	return RELAY_FAULT_IN;
}

/**
 * relay_decide() - decide, at an L2 hypercall exit, whether the call is ours
 * @vcpu: the vCPU, in guest mode
 *
 * Called from the vendor's reflect hook, an ftrace callback: nothing may sleep.
 *
 * Return: RELAY_DECIDED when the exit must be handled in L0 by us,
 * RELAY_FAULT_IN when L1 memory needed for the decision must be faulted in
 * first (the vendor then resumes L2 without moving RIP, so the instruction
 * exits again), RELAY_IDLE to let KVM go on exactly as without the module.
 */
enum relay_vcpu_state relay_decide(struct kvm_vcpu *vcpu)
{
	const struct relay_vendor *vendor = relay_vendor;
	struct relay_exit ex;
	struct relay_vcpu *rv;
	struct relay_vm *rvm;
	u64 input, mask, ctl_gpa = 0;
	int auth;

	/* Most L2 exits are no hypercall: tell before any lookup. */
	if (!atomic_read(&relay_nr_vms) || !vendor->hypercall_exit(vcpu))
		return RELAY_IDLE;
	rv = relay_vcpu_find(vcpu, &rvm);
	if (!rvm)
		return RELAY_IDLE;
	/* Any other mark is for an exit that is over. */
	if (rv && rv->state != RELAY_BYPASS)
		rv->state = RELAY_IDLE;

	mask = READ_ONCE(rvm->mask);
	if (!mask || !vendor->exit_info(vcpu, &ex))
		return RELAY_IDLE;

	input = relay_input_value(vcpu, ex.long_mode);
	/*
	 * A bypass is for the call whose L1 memory could not be faulted in,
	 * executed again: any other call is judged on its own (and the mark
	 * dropped: the first call, should it come back, faults in again).
	 */
	if (rv && rv->state == RELAY_BYPASS) {
		rv->state = RELAY_IDLE;
		if (ex.rip == rv->rip && input == rv->input)
			return RELAY_IDLE;
	}
	if (!(relay_input_class(input) & mask))
		return RELAY_IDLE;
	if (!rv)
		return relay_decide_no_entry(vcpu, rvm);

	auth = vendor->authorisation(vcpu, true, &ctl_gpa);
	if (auth == -EFAULT) {
		relay_count(rvm, RELAY_CNT_FAULT_IN);
		rv->input = input;
		rv->rip = ex.rip;
		rv->state = RELAY_FAULT_IN;
		return RELAY_FAULT_IN;
	}
	if (auth < 0 || (auth & RELAY_AUTH_OK) != RELAY_AUTH_OK) {
		relay_count(rvm, RELAY_CNT_UNAUTHORISED);
		trace_kvm_hv_relay_unauthorised(vcpu->vcpu_id, input,
						auth < 0 ? 0 : auth);
		return RELAY_IDLE;
	}

	rv->input = input;
	rv->ctl_gpa = ctl_gpa;
	rv->rip = ex.rip;
	rv->insn_len = ex.insn_len;
	rv->long_mode = ex.long_mode;
	rv->auth = auth;
	rv->state = RELAY_DECIDED;
	return RELAY_DECIDED;
}

/**
 * relay_decide_and_divert() - the body of every vendor's decision hook
 * @fregs: the hooked function's registers at entry; its first argument is
 *	   the vCPU (struct vcpu_vmx/vcpu_svm start with it)
 * @l0_handles: replacement that makes KVM handle the exit in L0
 * @fault_in: replacement that faults L1 memory in and resumes L2 unmoved
 *
 * The replacements are the vendor's, since each must have the signature of
 * the function it replaces.
 */
void relay_decide_and_divert(struct ftrace_regs *fregs, void *l0_handles,
			     void *fault_in)
{
	switch (relay_decide((struct kvm_vcpu *)relay_hook_arg(fregs, 0))) {
	case RELAY_DECIDED:
		relay_hook_divert(fregs, l0_handles);
		break;
	case RELAY_FAULT_IN:
		relay_hook_divert(fregs, fault_in);
		break;
	default:
		break;
	}
}

/**
 * relay_fault_in() - make what the decision needs present
 * @vcpu: the vCPU whose decision found a page not present, or no entry
 *
 * Process context.  When even a faulting read fails the memory is not there
 * at all; the next exit then goes to KVM untouched so that L1 sees the call
 * as it would without the module, instead of looping here.  Likewise when
 * the vCPU's entry cannot be allocated.
 */
void relay_fault_in(struct kvm_vcpu *vcpu)
{
	struct relay_vm *rvm;
	struct relay_vcpu *rv = relay_vcpu_find(vcpu, &rvm);
	unsigned int idx = vcpu->vcpu_idx;
	u64 ctl_gpa;

	if (!rv) {
		if (rvm && idx < relay_vm_capacity(rvm) &&
		    relay_chunk_install(rvm, idx / RELAY_VCPU_CHUNK))
			relay_chunk_mark(rvm, idx);
		return;
	}
	if (relay_vendor->authorisation(vcpu, false, &ctl_gpa) < 0)
		rv->state = RELAY_BYPASS;
	else
		rv->state = RELAY_IDLE;
}

static void relay_set_result(struct kvm_vcpu *vcpu, bool long_mode, u64 result)
{
	if (long_mode) {
		relay_reg_write(vcpu, VCPU_REGS_RAX, result);
	} else {
		relay_reg_write(vcpu, VCPU_REGS_RDX, (u32)(result >> 32));
		relay_reg_write(vcpu, VCPU_REGS_RAX, (u32)result);
	}
}

/* Complete a call in the kernel: status to L2, L2 past the instruction. */
static int relay_finish(struct kvm_vcpu *vcpu, struct relay_vcpu *rv,
			u64 input, u16 status)
{
	relay_set_result(vcpu, rv->long_mode, status);
	relay_vendor->skip(vcpu, rv->insn_len, rv->long_mode);
	trace_kvm_hv_relay_completed(vcpu->vcpu_id, input, status, false);
	return 1;
}

static int relay_reject(struct kvm_vcpu *vcpu, struct relay_vm *rvm,
			struct relay_vcpu *rv, u64 input, u16 status,
			enum relay_reject reason)
{
	relay_count(rvm, RELAY_CNT_REJECTED);
	trace_kvm_hv_relay_rejected(vcpu->vcpu_id, input, status, reason);
	return relay_finish(vcpu, rv, input, status);
}

/* Userspace completes the call on the next KVM_RUN. */
static int relay_complete(struct kvm_vcpu *vcpu)
{
	struct relay_vm *rvm;
	struct relay_vcpu *rv = relay_vcpu_find(vcpu, &rvm);
	u64 result = vcpu->run->hyperv.u.hcall.result;

	if (!rv || rv->state != RELAY_EXITED)
		return 1;
	rv->state = RELAY_IDLE;

	/*
	 * A reset or KVM_SET_NESTED_STATE / KVM_SET_REGS in between means the
	 * L2 context that made the call is gone: writing its registers now
	 * would corrupt whatever runs there instead.
	 */
	if (!(vcpu->arch.hflags & HF_GUEST_MASK) ||
	    relay_rip_read(vcpu) != rv->rip) {
		relay_count(rvm, RELAY_CNT_STALE_COMPLETIONS);
		trace_kvm_hv_relay_completed(vcpu->vcpu_id, rv->input, result,
					     true);
		return 1;
	}

	relay_count(rvm, RELAY_CNT_COMPLETED);
	relay_set_result(vcpu, rv->long_mode, result);
	relay_vendor->skip(vcpu, rv->insn_len, rv->long_mode);
	trace_kvm_hv_relay_completed(vcpu->vcpu_id, rv->input, result, false);
	return 1;
}

static int relay_exit(struct kvm_vcpu *vcpu, struct relay_vm *rvm,
		      struct relay_vcpu *rv, u64 input, u64 l2_gpa, u64 param0,
		      u64 param1)
{
	struct kvm_run *run = vcpu->run;

	relay_count(rvm, (input & RELAY_HC_CODE_MASK) == RELAY_HVCALL_POST_MESSAGE ?
		    RELAY_CNT_POST_EXITS : RELAY_CNT_SIGNAL_EXITS);
	trace_kvm_hv_relay_relayed(vcpu->vcpu_id, input, l2_gpa, param0);

	run->exit_reason = KVM_EXIT_HYPERV;
	run->hyperv.type = KVM_EXIT_HYPERV_HCALL;
	run->hyperv.u.hcall.input = input;
	run->hyperv.u.hcall.result = 0;
	run->hyperv.u.hcall.params[0] = param0;
	run->hyperv.u.hcall.params[1] = param1;
	rv->state = RELAY_EXITED;
	vcpu->arch.complete_userspace_io = relay_complete;
	return 0;
}

/*
 * Check a slow call's input block and translate its L2 GPA.  Returns a TLFS
 * status, with the rejection reason in @reason when it is not success.
 */
static u16 relay_input_block(struct kvm_vcpu *vcpu, struct relay_vcpu *rv,
			     u64 l2_gpa, unsigned int size, u64 *l1_gpa,
			     enum relay_reject *reason)
{
	u16 status = relay_gpa_status(l2_gpa, size);

	if (status) {
		*reason = RELAY_REJECT_ALIGN;
		return status;
	}
	if (relay_vendor->translate(vcpu, rv->ctl_gpa, l2_gpa, l1_gpa)) {
		*reason = RELAY_REJECT_UNMAPPED;
		return RELAY_HV_STATUS_INVALID_HYPERCALL_INPUT;
	}
	if (!relay_l1_gpa_is_memory(vcpu->kvm, *l1_gpa)) {
		*reason = RELAY_REJECT_NO_MEMORY;
		return RELAY_HV_STATUS_INVALID_HYPERCALL_INPUT;
	}
	return RELAY_HV_STATUS_SUCCESS;
}

static int relay_signal_event(struct kvm_vcpu *vcpu, struct relay_vm *rvm,
			      struct relay_vcpu *rv, u64 input, u64 operand,
			      u64 l2_gpa)
{
	struct eventfd_ctx *eventfd = NULL;
	u16 status = relay_signal_status(operand);

	if (status)
		return relay_reject(vcpu, rvm, rv, input, status,
				    RELAY_REJECT_OPERAND);

	if (!(operand & RELAY_SIGNAL_FLAG_MASK)) {
		rcu_read_lock();
		eventfd = relay_conn_eventfd(vcpu->kvm,
					     operand & RELAY_SIGNAL_CONN_ID_MASK);
		if (eventfd)
			relay_eventfd_signal(eventfd);
		rcu_read_unlock();
	}
	if (eventfd) {
		relay_count(rvm, RELAY_CNT_SIGNAL_EVENTFD);
		return relay_finish(vcpu, rv, input, RELAY_HV_STATUS_SUCCESS);
	}

	/*
	 * Maybe the VMM knows this connection, as KVM assumes for a
	 * non-nested guest.  Always in the fast form: the VMM must never be
	 * handed an L2 address it could dereference as an L1 one.
	 */
	return relay_exit(vcpu, rvm, rv, input | RELAY_HC_FAST, l2_gpa, operand,
			  0);
}

/* Same signature as kvm_emulate_hypercall(), which it replaces for our calls. */
static int relay_hypercall(struct kvm_vcpu *vcpu)
{
	unsigned long *regs = vcpu->arch.regs;
	enum relay_reject reason;
	struct relay_vcpu *rv;
	struct relay_vm *rvm;
	u64 input, p0, p1, l1_gpa, operand;
	u16 status;

	rv = relay_vcpu_find(vcpu, &rvm);
	/* The hook diverts only when this state exists and is DECIDED. */
	if (WARN_ON_ONCE(!rv))
		return 1;
	rv->state = RELAY_IDLE;

	input = rv->input & ~RELAY_HC_NESTED;
	if (rv->long_mode) {
		p0 = regs[VCPU_REGS_RDX];
		p1 = regs[VCPU_REGS_R8];
	} else {
		p0 = (u64)(u32)regs[VCPU_REGS_RBX] << 32 | (u32)regs[VCPU_REGS_RCX];
		p1 = (u64)(u32)regs[VCPU_REGS_RDI] << 32 | (u32)regs[VCPU_REGS_RSI];
	}

	status = relay_input_status(input);
	if (status)
		return relay_reject(vcpu, rvm, rv, input, status,
				    RELAY_REJECT_INPUT);

	if ((input & RELAY_HC_CODE_MASK) == RELAY_HVCALL_POST_MESSAGE) {
		if (input & RELAY_HC_FAST)
			return relay_exit(vcpu, rvm, rv, input, 0, p0, p1);
		status = relay_input_block(vcpu, rv, p0,
					   RELAY_POST_MESSAGE_INPUT_SIZE,
					   &l1_gpa, &reason);
		if (status)
			return relay_reject(vcpu, rvm, rv, input, status, reason);
		return relay_exit(vcpu, rvm, rv, input, p0, l1_gpa, 0);
	}

	if (input & RELAY_HC_FAST)
		return relay_signal_event(vcpu, rvm, rv, input, p0, 0);

	status = relay_input_block(vcpu, rv, p0, RELAY_SIGNAL_EVENT_INPUT_SIZE,
				   &l1_gpa, &reason);
	if (status)
		return relay_reject(vcpu, rvm, rv, input, status, reason);
	if (relay_read_l1(vcpu->kvm, l1_gpa, &operand, sizeof(operand), false))
		return relay_reject(vcpu, rvm, rv, input,
				    RELAY_HV_STATUS_INVALID_HYPERCALL_INPUT,
				    RELAY_REJECT_NO_MEMORY);
	return relay_signal_event(vcpu, rvm, rv, input, operand, p0);
}

/*
 * Hook on the hypercall handler(s) L0 reaches for a VMCALL/VMMCALL it keeps:
 * divert only the call our decision marked.
 */
void relay_handler_hook(unsigned long ip, unsigned long parent_ip,
			struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	struct kvm_vcpu *vcpu = (struct kvm_vcpu *)relay_hook_arg(fregs, 0);
	struct relay_vcpu *rv;

	/*
	 * L1's own hypercalls, of every VM, are never ours: no lookup.  The
	 * decision rewrites the mark at every L2 hypercall exit before KVM
	 * gets here, and a mark is taken only by the call it was made for.
	 */
	if (!(vcpu->arch.hflags & HF_GUEST_MASK))
		return;
	rv = relay_vcpu_find(vcpu, NULL);
	if (rv && rv->state == RELAY_DECIDED &&
	    relay_input_value(vcpu, rv->long_mode) == rv->input &&
	    relay_rip_read(vcpu) == rv->rip)
		relay_hook_divert(fregs, relay_hypercall);
}
