/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A relay VM whose L2 makes one relayed HvPostMessage, for tests that need
 * "a relayed post works" as one step among others (relay_hardening,
 * relay_vmxoff).  L1 authorises L2 and runs it without stage-2 tables, so
 * L2's message GPA is an L1 GPA and comes back unchanged in params[0].
 *
 * Include after lib/relay_nested.h, once per program.
 */
#ifndef RELAY_POST_H
#define RELAY_POST_H

/* Guest globals: the host sets msg_gpa, L2 reports the call's result. */
static struct {
	u64 msg_gpa;
	u64 rax;
	u64 done;
} relay_post_l2_state;

static void relay_post_l2_code(void)
{
	struct relay_hc_regs regs;

	relay_l2_hypercall(HC_NESTED | HC_POST, relay_post_l2_state.msg_gpa, 0, &regs);
	relay_post_l2_state.rax = regs.rax;
	relay_post_l2_state.done = 1;
	relay_l2_back_to_l1();
}

/* L1 sees only L2's way back: the post itself stays in L0. */
static void relay_post_l1_code(void *nested, struct relay_l1 *l1)
{
	relay_l1_setup(l1, nested);
	relay_l1_enter(l1, nested, true);
	GUEST_ASSERT(relay_post_l2_state.done);
	GUEST_DONE();
}

/*
 * A VM whose L1 (@l1_code) authorises its L2 (@l2_code) and runs it without
 * stage-2 tables: L2's GPAs are L1's.
 */
static inline struct kvm_vm *relay_l2_vm_create(struct kvm_vcpu **vcpu, void *l1_code,
						void *l2_code)
{
	struct relay_nested_vcpu nv;
	struct kvm_vm *vm;
	relay_gva_t stack;

	vm = vm_create_with_one_vcpu(vcpu, l1_code);
	relay_nested_vcpu_init(vm, *vcpu, &nv);
	stack = relay_alloc_page(vm);
	nv.l1->direct_hypercall = 1;
	nv.l1->nested_flush = 1;
	nv.l1->l2_rip = (u64)l2_code;
	nv.l1->l2_rsp = stack + 4096;
	return vm;
}

/* The post's VM, its capability not enabled; returns the message's GPA. */
static inline struct kvm_vm *relay_post_vm_prepare(struct kvm_vcpu **vcpu, u64 *msg_gpa)
{
	struct kvm_vm *vm = relay_l2_vm_create(vcpu, relay_post_l1_code, relay_post_l2_code);

	memset(&relay_post_l2_state, 0, sizeof(relay_post_l2_state));
	relay_post_l2_state.msg_gpa = addr_gva2gpa(vm, relay_alloc_page(vm));
	sync_global_to_guest(vm, relay_post_l2_state);
	*msg_gpa = relay_post_l2_state.msg_gpa;
	return vm;
}

/* The post's VM, its capability enabled with @mask; returns the message's GPA. */
static inline struct kvm_vm *relay_post_vm_create(struct kvm_vcpu **vcpu, u64 mask,
						  u64 *msg_gpa)
{
	struct kvm_vm *vm = relay_post_vm_prepare(vcpu, msg_gpa);

	TEST_ASSERT(!relay_enable(vm, mask), "KVM_ENABLE_CAP(relay, 0x%llx)",
		    (unsigned long long)mask);
	return vm;
}

/* Is @hv the exit of that post, the nested bit gone and the GPA as L2 gave it? */
static inline bool relay_post_is_exit(const struct kvm_hyperv_exit *hv, u64 msg_gpa)
{
	return hv->type == KVM_EXIT_HYPERV_HCALL && hv->u.hcall.input == HC_POST &&
	       hv->u.hcall.params[0] == msg_gpa;
}

/*
 * A relayed post end to end: exactly one KVM_EXIT_HYPERV for it, L1 never
 * sees it, and L2 gets the result the VMM wrote.
 */
static inline void relay_post_end_to_end(u64 result)
{
	struct kvm_vcpu *vcpu;
	struct relay_run r;
	struct kvm_vm *vm;
	u64 msg_gpa;

	vm = relay_post_vm_create(&vcpu, KVM_NESTED_HYPERV_RELAY_ALL, &msg_gpa);
	relay_run_to_done(vcpu, result, ~0ULL, &r);
	sync_global_from_guest(vm, relay_post_l2_state);
	TEST_ASSERT(r.hyperv_exits == 1 && !r.l1_syncs,
		    "relayed post: %d KVM_EXIT_HYPERV, L1 saw %d calls; want 1 and 0",
		    r.hyperv_exits, r.l1_syncs);
	TEST_ASSERT(relay_post_is_exit(&r.last, msg_gpa),
		    "relayed post: exit input 0x%llx params[0] 0x%llx, want 0x%llx 0x%llx",
		    (unsigned long long)r.last.u.hcall.input,
		    (unsigned long long)r.last.u.hcall.params[0],
		    (unsigned long long)HC_POST, (unsigned long long)msg_gpa);
	TEST_ASSERT(relay_post_l2_state.rax == result,
		    "relayed post: L2 got 0x%llx, want 0x%llx",
		    (unsigned long long)relay_post_l2_state.rax,
		    (unsigned long long)result);
	kvm_vm_free(vm);
}

#endif /* RELAY_POST_H */
