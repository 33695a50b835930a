// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay_test: the kvm_hv_relay contract, one table row per case, on Intel
 * and on AMD.
 *
 * L1 guest code (lib/relay_nested.h) plays hvix64: it enables the VP assist
 * page, runs L2 through an enlightened VMCS with EPT (Intel) or a VMCB12 with
 * Hyper-V enlightenments and nested paging (AMD) and authorises L2 (or, per
 * case, does not).  L2 issues one hypercall.  The stage-2 tables
 * map L1 memory 1:1 for L2's code and data, plus an alias window far above
 * L1 memory: the GPAs L2 passes point into that window, so an L2 GPA that
 * reaches the VMM untranslated is caught.
 *
 * Each case runs in its own VM in a child process and prints one TAP line.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"
#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#include "lib/relay_nested.h"

#define CONN_ID		5
#define MSG_SEED	0x5a

enum expect { EXPECT_EXIT, EXPECT_STATUS, EXPECT_L1 };
/* GPA_2M: at .in in the message page, through the 2M leaf (ALIAS_2M_BASE). */
enum gpa_kind { GPA_RAW, GPA_ALIAS, GPA_L1_MSG, GPA_2M };

struct relay_case {
	const char *name;
	u64 mask;		/* relay classes enabled; 0: capability not enabled */
	u64 mask_after;		/* if non-zero, KVM_ENABLE_CAP again with this */
	bool invalid_caps;	/* issue rejected KVM_ENABLE_CAPs in between */
	bool no_direct_hypercall;
	bool no_nested_flush;
	bool no_ept;
	u16 evmcs_ptr_bits;	/* Intel: low bits L1 sets in its eVMCS pointer */
	bool save_after_exit;	/* complete with immediate_exit, save, restore */
	bool prefixed;		/* L2's call has a CS prefix (2e) */
	bool eventfd;
	enum l2_mode mode;
	u64 input;
	enum gpa_kind in_kind;	/* how to build the input GPA / operand */
	u64 in;			/* raw value, or alias page * 4096 + offset */
	u64 operand;		/* slow signal: the 8 bytes L2 writes */
	enum expect expect;
	u64 status;		/* EXPECT_STATUS: what L2 must see */
	u64 exit_input;		/* EXPECT_EXIT: run->hyperv.u.hcall.input */
	u64 exit_param0;	/* EXPECT_EXIT: params[0] unless it is an L1 GPA */
	bool param0_is_msg;	/* params[0] is the message's L1 GPA */
	u64 result;		/* what the VMM answers */
	int eventfd_count;	/* expected eventfd counter */
};

#define POST_SLOW	(HC_NESTED | HC_POST)
#define SIGNAL_SLOW	(HC_NESTED | HC_SIGNAL)
#define SIGNAL_FAST	(HC_NESTED | HC_FAST | HC_SIGNAL)
#define MSG_AT(off)	(ALIAS_MSG * 4096ULL + (off))

static const struct relay_case cases[] = {
	{ .name = "relay_post_slow", .mask = 3, .input = POST_SLOW,
	  .in_kind = GPA_ALIAS, .in = MSG_AT(0x100), .expect = EXPECT_EXIT,
	  .exit_input = HC_POST, .param0_is_msg = true, .result = 0x1234 },
	/* KVM maps the page the pointer is in; the relay must read that page. */
	{ .name = "relay_post_evmcs_ptr_low_bits", .mask = 3,
	  .evmcs_ptr_bits = 0x100, .input = POST_SLOW, .in_kind = GPA_ALIAS,
	  .in = MSG_AT(0x100), .expect = EXPECT_EXIT, .exit_input = HC_POST,
	  .param0_is_msg = true, .result = 0x0 },
	/*
	 * A VMM that saves state with a relayed exit pending first completes
	 * it with KVM_RUN and immediate_exit (api.rst): L2 is then past the
	 * call with the result, and the restored state does not post again.
	 */
	{ .name = "relay_post_completed_before_save", .mask = 3,
	  .save_after_exit = true, .input = POST_SLOW, .in_kind = GPA_ALIAS,
	  .in = MSG_AT(0x100), .expect = EXPECT_EXIT, .exit_input = HC_POST,
	  .param0_is_msg = true, .result = 0x77 },
	/*
	 * A prefixed call is 4 bytes: Intel's exit and AMD's next RIP say so
	 * and the relay skips 4.  Without next-RIP saving (QEMU TCG) the
	 * length is unknown and the relay leaves the call to L1.
	 */
	{ .name = "relay_post_prefixed", .mask = 3, .prefixed = true,
	  .input = POST_SLOW, .in_kind = GPA_ALIAS, .in = MSG_AT(0x100),
	  .expect = EXPECT_EXIT, .exit_input = HC_POST, .param0_is_msg = true,
	  .result = 0x99 },
	{ .name = "relay_post_slow_no_ept", .mask = 3, .no_ept = true,
	  .input = POST_SLOW, .in_kind = GPA_L1_MSG, .in = 0x100,
	  .expect = EXPECT_EXIT, .exit_input = HC_POST, .param0_is_msg = true,
	  .result = 0x0 },
	{ .name = "relay_post_fast", .mask = 3,
	  .input = HC_NESTED | HC_FAST | HC_POST, .in = 0x1111,
	  .expect = EXPECT_EXIT, .exit_input = HC_FAST | HC_POST,
	  .exit_param0 = 0x1111, .result = 0x5 },
	{ .name = "relay_post_compat", .mask = 3, .mode = L2_COMPAT,
	  .input = POST_SLOW, .in_kind = GPA_ALIAS, .in = MSG_AT(0x200),
	  .expect = EXPECT_EXIT, .exit_input = HC_POST, .param0_is_msg = true,
	  .result = 0x0000000a0000000bULL },
	{ .name = "relay_signal_fast_exit", .mask = 3, .input = SIGNAL_FAST,
	  .in = CONN_ID, .expect = EXPECT_EXIT, .exit_input = HC_FAST | HC_SIGNAL,
	  .exit_param0 = CONN_ID, .result = 0x0 },
	{ .name = "relay_signal_fast_eventfd", .mask = 3, .eventfd = true,
	  .input = SIGNAL_FAST, .in = CONN_ID, .expect = EXPECT_STATUS,
	  .status = HV_STATUS_SUCCESS, .eventfd_count = 1 },
	{ .name = "relay_signal_slow_eventfd", .mask = 3, .eventfd = true,
	  .input = SIGNAL_SLOW, .in_kind = GPA_ALIAS,
	  .in = ALIAS_OPERAND * 4096ULL + 0x10, .operand = CONN_ID,
	  .expect = EXPECT_STATUS, .status = HV_STATUS_SUCCESS,
	  .eventfd_count = 1 },
	{ .name = "relay_signal_slow_exit", .mask = 3, .input = SIGNAL_SLOW,
	  .in_kind = GPA_ALIAS, .in = ALIAS_OPERAND * 4096ULL + 0x18,
	  .operand = CONN_ID, .expect = EXPECT_EXIT,
	  .exit_input = HC_FAST | HC_SIGNAL, .exit_param0 = CONN_ID,
	  .result = 0x0 },
	{ .name = "relay_signal_flag_nonzero", .mask = 3, .eventfd = true,
	  .input = SIGNAL_FAST, .in = CONN_ID | (7ULL << 32),
	  .expect = EXPECT_EXIT, .exit_input = HC_FAST | HC_SIGNAL,
	  .exit_param0 = CONN_ID | (7ULL << 32), .result = 0x11 },
	{ .name = "relay_bad_signal_operand", .mask = 3, .input = SIGNAL_FAST,
	  .in = CONN_ID | BIT_ULL(24), .expect = EXPECT_STATUS,
	  .status = HV_STATUS_INVALID_INPUT },
	{ .name = "relay_bad_unaligned", .mask = 3, .input = POST_SLOW,
	  .in_kind = GPA_ALIAS, .in = MSG_AT(0x104), .expect = EXPECT_STATUS,
	  .status = HV_STATUS_INVALID_ALIGNMENT },
	{ .name = "relay_bad_cross_page", .mask = 3, .input = POST_SLOW,
	  .in_kind = GPA_ALIAS, .in = MSG_AT(4096 - 128), .expect = EXPECT_STATUS,
	  .status = HV_STATUS_INVALID_ALIGNMENT },
	{ .name = "relay_bad_unmapped", .mask = 3, .input = POST_SLOW,
	  .in_kind = GPA_ALIAS, .in = ALIAS_HOLE * 4096ULL,
	  .expect = EXPECT_STATUS, .status = HV_STATUS_INVALID_INPUT },
	{ .name = "relay_bad_not_readable", .mask = 3, .input = POST_SLOW,
	  .in_kind = GPA_ALIAS, .in = ALIAS_XONLY * 4096ULL,
	  .expect = EXPECT_STATUS, .status = HV_STATUS_INVALID_INPUT },
	{ .name = "relay_bad_outside_memory", .mask = 3, .input = POST_SLOW,
	  .in_kind = GPA_ALIAS, .in = ALIAS_OUTSIDE * 4096ULL,
	  .expect = EXPECT_STATUS, .status = HV_STATUS_INVALID_INPUT },
	/* Other shapes of L1's tables: a 2M leaf; read missing above the leaf. */
	{ .name = "relay_post_stage2_2m_leaf", .mask = 3, .input = POST_SLOW,
	  .in_kind = GPA_2M, .in = 0x100, .expect = EXPECT_EXIT,
	  .exit_input = HC_POST, .param0_is_msg = true, .result = 0x2 },
	{ .name = "relay_bad_stage2_table_not_readable", .mask = 3, .input = POST_SLOW,
	  .in = ALIAS_NOREAD_TABLE, .expect = EXPECT_STATUS,
	  .status = HV_STATUS_INVALID_INPUT },
	{ .name = "relay_bad_stage2_table_outside_memory", .mask = 3,
	  .input = POST_SLOW, .in = ALIAS_TABLE_OUTSIDE, .expect = EXPECT_STATUS,
	  .status = HV_STATUS_INVALID_INPUT },
	{ .name = "relay_bad_kvm_private_memslot", .mask = 3, .input = POST_SLOW,
	  .in_kind = GPA_ALIAS, .in = ALIAS_APIC * 4096ULL,
	  .expect = EXPECT_STATUS, .status = HV_STATUS_INVALID_INPUT },
	{ .name = "relay_bad_kvm_private_memslot_no_ept", .mask = 3, .no_ept = true,
	  .input = POST_SLOW, .in = APIC_L1_GPA, .expect = EXPECT_STATUS,
	  .status = HV_STATUS_INVALID_INPUT },
	{ .name = "relay_bad_signal_kvm_private_memslot", .mask = 3,
	  .input = SIGNAL_SLOW, .in_kind = GPA_ALIAS, .in = ALIAS_APIC * 4096ULL,
	  .expect = EXPECT_STATUS, .status = HV_STATUS_INVALID_INPUT },
	{ .name = "relay_bad_signal_unmapped", .mask = 3, .input = SIGNAL_SLOW,
	  .in_kind = GPA_ALIAS, .in = ALIAS_HOLE * 4096ULL,
	  .expect = EXPECT_STATUS, .status = HV_STATUS_INVALID_INPUT },
	{ .name = "relay_bad_rep_count", .mask = 3,
	  .input = POST_SLOW | (1ULL << 32), .in_kind = GPA_ALIAS, .in = MSG_AT(0),
	  .expect = EXPECT_STATUS, .status = HV_STATUS_INVALID_INPUT },
	{ .name = "relay_bad_rep_start", .mask = 3,
	  .input = POST_SLOW | (1ULL << 48), .in_kind = GPA_ALIAS, .in = MSG_AT(0),
	  .expect = EXPECT_STATUS, .status = HV_STATUS_INVALID_INPUT },
	{ .name = "relay_bad_varhead", .mask = 3,
	  .input = POST_SLOW | (1ULL << 17), .in_kind = GPA_ALIAS, .in = MSG_AT(0),
	  .expect = EXPECT_STATUS, .status = HV_STATUS_INVALID_INPUT },
	{ .name = "relay_bad_reserved", .mask = 3,
	  .input = POST_SLOW | (1ULL << 27), .in_kind = GPA_ALIAS, .in = MSG_AT(0),
	  .expect = EXPECT_STATUS, .status = HV_STATUS_INVALID_INPUT },
	{ .name = "relay_bad_compat_unaligned", .mask = 3, .mode = L2_COMPAT,
	  .input = POST_SLOW, .in_kind = GPA_ALIAS, .in = MSG_AT(0x101),
	  .expect = EXPECT_STATUS, .status = HV_STATUS_INVALID_ALIGNMENT },
	{ .name = "relay_not_nested_bit", .mask = 3, .input = HC_POST,
	  .in_kind = GPA_ALIAS, .in = MSG_AT(0), .expect = EXPECT_L1 },
	{ .name = "relay_not_in_mask", .mask = KVM_NESTED_HYPERV_RELAY_SIGNAL_EVENT,
	  .input = POST_SLOW, .in_kind = GPA_ALIAS, .in = MSG_AT(0),
	  .expect = EXPECT_L1 },
	{ .name = "relay_not_authorised_vp_assist", .mask = 3,
	  .no_direct_hypercall = true, .input = POST_SLOW, .in_kind = GPA_ALIAS,
	  .in = MSG_AT(0), .expect = EXPECT_L1 },
	{ .name = "relay_not_authorised_evmcs", .mask = 3,
	  .no_nested_flush = true, .input = POST_SLOW, .in_kind = GPA_ALIAS,
	  .in = MSG_AT(0), .expect = EXPECT_L1 },
	{ .name = "relay_not_enabled", .mask = 0, .input = POST_SLOW,
	  .in_kind = GPA_ALIAS, .in = MSG_AT(0), .expect = EXPECT_L1 },
	{ .name = "relay_not_cpl3", .mask = 3, .mode = L2_USER,
	  .input = POST_SLOW, .in_kind = GPA_ALIAS, .in = MSG_AT(0),
	  .expect = EXPECT_L1 },
	{ .name = "relay_not_compat_not_authorised", .mask = 3,
	  .mode = L2_COMPAT, .no_nested_flush = true, .input = POST_SLOW,
	  .in_kind = GPA_ALIAS, .in = MSG_AT(0), .expect = EXPECT_L1 },
	{ .name = "relay_cap_disabled_at_runtime", .mask = 3, .mask_after = ~0ULL,
	  .input = POST_SLOW, .in_kind = GPA_ALIAS, .in = MSG_AT(0),
	  .expect = EXPECT_L1 },
	{ .name = "relay_cap_mask_changed", .mask = 1,
	  .mask_after = KVM_NESTED_HYPERV_RELAY_SIGNAL_EVENT, .input = POST_SLOW,
	  .in_kind = GPA_ALIAS, .in = MSG_AT(0), .expect = EXPECT_L1 },
	{ .name = "relay_cap_invalid_keeps_state", .mask = 3, .invalid_caps = true,
	  .input = POST_SLOW, .in_kind = GPA_ALIAS, .in = MSG_AT(0x8),
	  .expect = EXPECT_EXIT, .exit_input = HC_POST, .param0_is_msg = true,
	  .result = 0x0 },
};

/* What L2 needs to know of its case; synced before the run. */
struct l2_config {
	u8 mode;
	u64 compat_frame;	/* GVA of the 32-bit L2's frame */
};

struct l2_call {
	u64 input, in, out;
	u64 msg_gva;		/* L2 writes the message here... */
	u64 operand_gva;	/* ...and the signal operand here */
	u64 operand;
	u64 rax, rcx, rdx, r8;	/* as L2 saw them after the call */
	u64 done;
};

/* The 32-bit L2 works on a frame at its ESP: inputs, then its registers. */
struct compat_frame {
	u32 input_lo, input_hi, in_lo, in_hi, out_lo, out_hi;
	u32 eax, edx, ecx, ebx, esi, edi;
	u32 done;
	u32 svm;
};

static struct l2_config l2_config;
static struct l2_call l2_call;

#define SYNC_L1_SAW_VMCALL	1

/*
 * An HvPostMessage input block as the TLFS lays it out: connection id,
 * message type, payload size, reserved, then 240 payload bytes.
 */
struct hv_post_message_input {
	u32 connection_id;
	u32 reserved;
	u32 message_type;
	u32 payload_size;
	u8 payload[240];
};

#define DEMO_TEXT	"vmbus hello from L2 "

static void fill_message(u8 *msg)
{
	struct hv_post_message_input *m = (void *)msg;
	int i;

	m->connection_id = 1;
	m->reserved = 0;
	m->message_type = 1;
	m->payload_size = sizeof(m->payload);
	for (i = 0; i < (int)sizeof(m->payload); i++)
		m->payload[i] = i < 200 ? DEMO_TEXT[i % (sizeof(DEMO_TEXT) - 1)] :
					  (u8)(i * 7 + MSG_SEED);
}

/* --demo: narrate one relayed post the way a VMM developer would look at it. */
static bool demo;

static void demo_exit(struct kvm_vm *vm, const struct relay_case *c, u64 in,
		      const struct kvm_hyperv_exit *hv)
{
	const struct hv_post_message_input *m;

	if (!demo)
		return;
	printf("L2 issued %s: input 0x%llx (TLFS nested bit 31 set), input block at L2 GPA 0x%llx\n",
	       relay_host_is_svm() ? "VMMCALL" : "VMCALL", (unsigned long long)c->input,
	       (unsigned long long)in);
	printf("VMM got KVM_EXIT_HYPERV, type KVM_EXIT_HYPERV_HCALL:\n");
	printf("  u.hcall.input     = 0x%llx (HvPostMessage, nested bit cleared)\n",
	       (unsigned long long)hv->u.hcall.input);
	printf("  u.hcall.params[0] = 0x%llx (the L1 GPA behind L2's buffer)\n",
	       (unsigned long long)hv->u.hcall.params[0]);
	printf("  u.hcall.params[1] = 0x%llx\n",
	       (unsigned long long)hv->u.hcall.params[1]);
	m = addr_gpa2hva(vm, hv->u.hcall.params[0]);
	printf("VMM read the message from L1 memory: connection %u, type %u, %u bytes: \"%.40s...\"\n",
	       m->connection_id, m->message_type, m->payload_size,
	       (const char *)m->payload);
	printf("VMM completes with result 0x%llx\n", (unsigned long long)c->result);
}

static void l2_guest_code(void)
{
	struct relay_hc_regs after;

	if (l2_call.msg_gva)
		fill_message((u8 *)l2_call.msg_gva);
	if (l2_call.operand_gva)
		*(u64 *)l2_call.operand_gva = l2_call.operand;

	relay_l2_hypercall(l2_call.input, l2_call.in, l2_call.out, &after);

	l2_call.rax = after.rax;
	l2_call.rcx = after.rcx;
	l2_call.rdx = after.rdx;
	l2_call.r8 = after.r8;
	l2_call.done = 1;
	relay_l2_back_to_l1();
}

/*
 * The 32-bit (compatibility mode) L2: operands from its frame, the call,
 * its registers back into the frame, then a plain call to L1.
 */
void l2_compat_entry(void);
asm(".pushsection .text\n"
    ".code32\n"
    "l2_compat_entry:\n\t"
    "mov 0(%esp), %eax\n\t"
    "mov 4(%esp), %edx\n\t"
    "mov 8(%esp), %ecx\n\t"
    "mov 12(%esp), %ebx\n\t"
    "mov 16(%esp), %esi\n\t"
    "mov 20(%esp), %edi\n\t"
    RELAY_HYPERCALL_ASM("52(%esp)")
    "mov %eax, 24(%esp)\n\t"
    "mov %edx, 28(%esp)\n\t"
    "mov %ecx, 32(%esp)\n\t"
    "mov %ebx, 36(%esp)\n\t"
    "mov %esi, 40(%esp)\n\t"
    "mov %edi, 44(%esp)\n\t"
    "movl $1, 48(%esp)\n\t"
    "mov $1, %eax\n\t"
    "xor %edx, %edx\n\t"
    RELAY_HYPERCALL_ASM("52(%esp)")
    "hlt\n\t"
    ".code64\n"
    ".popsection\n");

static bool l2_done(void)
{
	struct compat_frame *frame = (void *)l2_config.compat_frame;

	return l2_config.mode == L2_COMPAT ? frame->done : l2_call.done;
}

/* L1: run L2 once, report every VMCALL that reaches it. */
static void l1_guest_code(void *nested, struct relay_l1 *l1)
{
	relay_l1_setup(l1, nested);
	relay_l1_enter(l1, nested, true);
	for (;;) {
		if (l2_done())
			GUEST_DONE();
		GUEST_SYNC(SYNC_L1_SAW_VMCALL);
		relay_l1_skip(nested);
		relay_l1_enter(l1, nested, false);
	}
}

/* Host side. */
struct relay_env {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	u64 msg_gpa;		/* L1 GPA of the message page */
	u8 *msg_hva;
	u64 operand_gpa;
	struct compat_frame *frame;
	int eventfd;
};

static void expect_einval(struct kvm_vm *vm, struct kvm_enable_cap *cap,
			  const char *what)
{
	int r = __vm_ioctl(vm, KVM_ENABLE_CAP, cap);

	TEST_ASSERT(r == -1 && errno == EINVAL,
		    "KVM_ENABLE_CAP with %s: %d errno %d, want EINVAL", what, r,
		    errno);
}

static void issue_invalid_caps(struct kvm_vm *vm)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_NESTED_HYPERV_HCALL_RELAY };

	cap.args[0] = BIT_ULL(2);
	expect_einval(vm, &cap, "an unknown class bit");
	cap.args[0] = KVM_NESTED_HYPERV_RELAY_ALL | BIT_ULL(63);
	expect_einval(vm, &cap, "bit 63");
	cap.args[0] = 0;
	cap.flags = 1;
	expect_einval(vm, &cap, "flags");
	cap.flags = 0;
	cap.args[1] = 1;
	expect_einval(vm, &cap, "args[1]");
	cap.args[1] = 0;
	cap.args[3] = 1;
	expect_einval(vm, &cap, "args[3]");
}

static void setup(struct relay_env *env, const struct relay_case *c)
{
	struct relay_nested_vcpu nv;
	relay_gva_t gva, frame_gva, stack_gva;

	env->vm = vm_create_with_one_vcpu(&env->vcpu, l1_guest_code);
	relay_nested_vcpu_init(env->vm, env->vcpu, &nv);
	nv.l1->evmcs_gpa |= c->evmcs_ptr_bits;

	/* The message sits where the call points, within the message page. */
	gva = relay_alloc_page(env->vm);
	env->msg_gpa = addr_gva2gpa(env->vm, gva);
	env->msg_hva = addr_gva2hva(env->vm, gva);
	l2_call.msg_gva = gva + (c->in & 0xff8);

	gva = relay_alloc_page(env->vm);
	env->operand_gpa = addr_gva2gpa(env->vm, gva);
	l2_call.operand_gva = gva + (c->in & 0xfff);
	l2_call.operand = c->operand;

	frame_gva = relay_alloc_page(env->vm);
	env->frame = addr_gva2hva(env->vm, frame_gva);
	stack_gva = relay_alloc_page(env->vm);

	if (!c->no_ept)
		relay_nested_set_stage2(&nv, relay_build_stage2(env->vm, env->msg_gpa,
								env->operand_gpa));
	if (c->mode == L2_USER)
		relay_set_user_bit(env->vm);

	nv.l1->mode = c->mode;
	nv.l1->direct_hypercall = !c->no_direct_hypercall;
	nv.l1->nested_flush = !c->no_nested_flush;
	nv.l1->l2_rip = c->mode == L2_COMPAT ? (u64)l2_compat_entry : (u64)l2_guest_code;
	nv.l1->l2_rsp = c->mode == L2_COMPAT ? frame_gva : stack_gva + 4096;
	l2_config.mode = c->mode;
	l2_config.compat_frame = frame_gva;
	sync_global_to_guest(env->vm, l2_config);
	relay_hc_prefixed = c->prefixed;
	sync_global_to_guest(env->vm, relay_hc_prefixed);

	env->eventfd = -1;
	if (c->eventfd) {
		struct kvm_hyperv_eventfd hvevfd = { .conn_id = CONN_ID };

		env->eventfd = eventfd(0, EFD_NONBLOCK);
		TEST_ASSERT(env->eventfd >= 0, "eventfd");
		hvevfd.fd = env->eventfd;
		vm_ioctl(env->vm, KVM_HYPERV_EVENTFD, &hvevfd);
	}

	if (c->mask)
		TEST_ASSERT(!relay_enable(env->vm, c->mask),
			    "KVM_ENABLE_CAP(relay, 0x%llx) failed", (unsigned long long)c->mask);
	if (c->invalid_caps)
		issue_invalid_caps(env->vm);
	if (c->mask_after)
		TEST_ASSERT(!relay_enable(env->vm, c->mask_after == ~0ULL ? 0 : c->mask_after),
			    "changing the relay mask failed");
}

static u64 case_in_value(struct relay_env *env, const struct relay_case *c)
{
	switch (c->in_kind) {
	case GPA_ALIAS:
		return ALIAS_BASE + c->in;
	case GPA_L1_MSG:
		return env->msg_gpa + c->in;
	case GPA_2M:
		return ALIAS_2M_BASE + (env->msg_gpa & (RELAY_2M - 1)) + c->in;
	default:
		return c->in;
	}
}

/*
 * The module's observability, case by case: its per-VM counters file in
 * KVM's debugfs directory, and (where tracefs is mounted) its trace events.
 */
static const char *tracefs;

static bool file_has(const char *path, const char *needle)
{
	static char buf[1 << 16];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = 0;
	return strstr(buf, needle);
}

static void write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC);

	if (fd >= 0) {
		TEST_ASSERT(write(fd, val, strlen(val)) >= 0, "write %s", path);
		close(fd);
	}
}

static void trace_setup(void)
{
	static const char * const roots[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char path[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(roots) && !tracefs; i++) {
		snprintf(path, sizeof(path), "%s/events/kvm_hv_relay/enable", roots[i]);
		if (!access(path, W_OK)) {
			write_file(path, "1");
			tracefs = roots[i];
		}
	}
}

static void trace_clear(void)
{
	char path[128];

	if (!tracefs)
		return;
	snprintf(path, sizeof(path), "%s/trace", tracefs);
	write_file(path, "");
}

static void check_observability(struct relay_env *env, const struct relay_case *c)
{
	const char *counter = NULL, *event = NULL;
	bool post = (c->input & 0xffff) == HC_POST;
	char path[128];

	switch (c->expect) {
	case EXPECT_EXIT:
		counter = post ? "post_exits: 1\n" : "signal_exits: 1\n";
		event = "kvm_hv_relay_relayed";
		break;
	case EXPECT_STATUS:
		counter = c->eventfd_count ? "signal_eventfd: 1\n" : "rejected: 1\n";
		event = c->eventfd_count ? "kvm_hv_relay_completed" :
					   "kvm_hv_relay_rejected";
		break;
	case EXPECT_L1:
		if (c->no_direct_hypercall || c->no_nested_flush) {
			counter = "unauthorised: 1\n";
			event = "kvm_hv_relay_unauthorised";
		}
		break;
	}

	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/hv_relay",
		 getpid(), env->vm->fd);
	if (c->mask && counter)
		TEST_ASSERT(file_has(path, counter), "%s lacks \"%.*s\"", path,
			    (int)strlen(counter) - 1, counter);
	if (c->expect == EXPECT_EXIT && c->mask_after == 0)
		TEST_ASSERT(file_has(path, "completed: 1\n"),
			    "%s: the completion was not counted", path);

	if (tracefs && event) {
		snprintf(path, sizeof(path), "%s/trace", tracefs);
		TEST_ASSERT(file_has(path, event), "no %s trace event", event);
	}
}

/*
 * Run to the relayed exit, then do what a VMM that saves the vCPU (for
 * migration or a snapshot) must do first: KVM_RUN with immediate_exit,
 * which completes the call and returns EINTR without entering the guest.
 * Then save and restore the vCPU's state.  Returns the exit.
 */
static struct kvm_hyperv_exit complete_then_save(struct relay_env *env,
						 const struct relay_case *c)
{
	struct kvm_run *run = env->vcpu->run;
	int r, size = kvm_check_cap(KVM_CAP_NESTED_STATE);
	struct kvm_nested_state *state;
	struct kvm_hyperv_exit hv;
	struct kvm_regs at_exit, after;
	struct kvm_sregs sregs;

	vcpu_run(env->vcpu);
	TEST_ASSERT(run->exit_reason == KVM_EXIT_HYPERV &&
		    run->hyperv.type == KVM_EXIT_HYPERV_HCALL,
		    "first exit %u (%s), want the relayed call", run->exit_reason,
		    exit_reason_str(run->exit_reason));
	hv = run->hyperv;
	vcpu_regs_get(env->vcpu, &at_exit);
	run->hyperv.u.hcall.result = c->result;
	run->immediate_exit = 1;
	r = __vcpu_run(env->vcpu);
	TEST_ASSERT(r == -1 && errno == EINTR,
		    "KVM_RUN with immediate_exit: %d errno %d, want EINTR", r, errno);
	run->immediate_exit = 0;
	vcpu_regs_get(env->vcpu, &after);
	TEST_ASSERT(after.rax == c->result && after.rip == at_exit.rip + 3,
		    "after the completing KVM_RUN: RAX 0x%llx RIP 0x%llx, want 0x%llx and 0x%llx",
		    (unsigned long long)after.rax, (unsigned long long)after.rip,
		    (unsigned long long)c->result,
		    (unsigned long long)at_exit.rip + 3);

	/*
	 * What a VMM carries over for a vCPU in L2: its registers and its
	 * nested state (L1's VMCS/VMCB12 pointers, L2's state), set back as
	 * a migration target would.
	 */
	vcpu_sregs_get(env->vcpu, &sregs);
	state = calloc(1, size);
	TEST_ASSERT(state, "calloc");
	state->size = size;
	vcpu_nested_state_get(env->vcpu, state);
	TEST_ASSERT(state->flags & KVM_STATE_NESTED_GUEST_MODE,
		    "nested state not in guest mode after the completion");
	vcpu_nested_state_set(env->vcpu, state);
	vcpu_sregs_set(env->vcpu, &sregs);
	vcpu_regs_set(env->vcpu, &after);
	free(state);
	return hv;
}

static void run_case(const struct relay_case *row)
{
	struct relay_case nrips_case = *row;
	const struct relay_case *c = row;
	u64 in, out = 0xdead000ULL, rax, rdx;
	struct kvm_hyperv_exit hv;
	int nr_exits, nr_l1;
	struct relay_env env;
	struct relay_run run;
	u8 expect_msg[256], *got;
	size_t i;

	/* Without next-RIP saving, only a plain VMMCALL's length is known. */
	if (c->prefixed && relay_host_is_svm() && !kvm_cpu_has(X86_FEATURE_NRIPS)) {
		nrips_case.expect = EXPECT_L1;
		c = &nrips_case;
	}
	memset(&l2_call, 0, sizeof(l2_call));
	setup(&env, c);
	in = case_in_value(&env, c);
	l2_call.input = c->input;
	l2_call.in = in;
	l2_call.out = out;
	if (c->mode == L2_COMPAT) {
		*env.frame = (struct compat_frame) {
			.input_lo = (u32)c->input, .input_hi = c->input >> 32,
			.in_lo = (u32)in, .in_hi = in >> 32,
			.out_lo = (u32)out, .out_hi = out >> 32,
			.svm = relay_host_is_svm(),
		};
		fill_message(env.msg_hva + (l2_call.msg_gva & 0xfff));
		l2_call.msg_gva = 0;
	}
	if (c->in_kind != GPA_ALIAS || c->in / 4096 != ALIAS_OPERAND)
		l2_call.operand_gva = 0;
	sync_global_to_guest(env.vm, l2_call);

	if (c->save_after_exit)
		hv = complete_then_save(&env, c);
	relay_run_to_done(env.vcpu, c->result, SYNC_L1_SAW_VMCALL, &run);
	nr_exits = run.hyperv_exits;
	nr_l1 = run.l1_syncs;
	if (c->save_after_exit)
		nr_exits++;
	else
		hv = run.last;
	if (nr_exits)
		demo_exit(env.vm, c, in, &hv);

	sync_global_from_guest(env.vm, l2_call);
	if (c->mode == L2_COMPAT) {
		rax = (u64)env.frame->edx << 32 | env.frame->eax;
		rdx = env.frame->ebx;
		/* Only L0 promises to leave them alone; L1 resumes with its own. */
		TEST_ASSERT(c->expect == EXPECT_L1 ||
			    (env.frame->ecx == (u32)in && env.frame->ebx == in >> 32 &&
			     env.frame->esi == (u32)out && env.frame->edi == out >> 32),
			    "32-bit L2's EBX:ECX/EDI:ESI changed by the call");
	} else {
		rax = l2_call.rax;
		rdx = l2_call.rdx;
	}

	switch (c->expect) {
	case EXPECT_EXIT:
		TEST_ASSERT(nr_exits == 1 && nr_l1 == 0,
			    "%d KVM_EXIT_HYPERV, L1 saw %d VMCALLs; want 1 and 0",
			    nr_exits, nr_l1);
		TEST_ASSERT(hv.u.hcall.input == c->exit_input,
			    "exit input 0x%llx, want 0x%llx",
			    (unsigned long long)hv.u.hcall.input,
			    (unsigned long long)c->exit_input);
		if (c->param0_is_msg) {
			u64 want = env.msg_gpa + (c->in_kind == GPA_ALIAS ?
						  c->in - MSG_AT(0) : c->in);

			TEST_ASSERT(hv.u.hcall.params[0] == want,
				    "params[0] 0x%llx, want the L1 GPA 0x%llx",
				    (unsigned long long)hv.u.hcall.params[0],
				    (unsigned long long)want);
			fill_message(expect_msg);
			got = addr_gpa2hva(env.vm, hv.u.hcall.params[0]);
			for (i = 0; i < sizeof(expect_msg) && got[i] == expect_msg[i]; i++)
				;
			TEST_ASSERT(i == sizeof(expect_msg),
				    "message at params[0] differs from what L2 wrote at byte %zu: 0x%x, want 0x%x",
				    i, got[i], expect_msg[i]);
			TEST_ASSERT(hv.u.hcall.params[1] == 0, "params[1] 0x%llx, want 0",
				    (unsigned long long)hv.u.hcall.params[1]);
		} else {
			TEST_ASSERT(hv.u.hcall.params[0] == c->exit_param0,
				    "params[0] 0x%llx, want 0x%llx",
				    (unsigned long long)hv.u.hcall.params[0],
				    (unsigned long long)c->exit_param0);
		}
		if (c->input & HC_FAST && (c->input & 0xffff) == HC_POST)
			TEST_ASSERT(hv.u.hcall.params[1] == out,
				    "fast post params[1] 0x%llx, want 0x%llx",
				    (unsigned long long)hv.u.hcall.params[1],
				    (unsigned long long)out);
		TEST_ASSERT(rax == c->result, "L2 result 0x%llx, want 0x%llx",
			    (unsigned long long)rax, (unsigned long long)c->result);
		break;
	case EXPECT_STATUS:
		TEST_ASSERT(nr_exits == 0 && nr_l1 == 0,
			    "%d KVM_EXIT_HYPERV, L1 saw %d VMCALLs; want none",
			    nr_exits, nr_l1);
		TEST_ASSERT(rax == c->status, "L2 status 0x%llx, want 0x%llx",
			    (unsigned long long)rax, (unsigned long long)c->status);
		break;
	case EXPECT_L1:
		TEST_ASSERT(nr_exits == 0 && nr_l1 == 1,
			    "%d KVM_EXIT_HYPERV, L1 saw %d VMCALLs; want 0 and 1",
			    nr_exits, nr_l1);
		break;
	}

	/* Relayed or completed in L0: L2's input registers are untouched. */
	if (c->expect != EXPECT_L1 && c->mode != L2_COMPAT)
		TEST_ASSERT(l2_call.rcx == c->input && rdx == in &&
			    l2_call.r8 == out,
			    "L2's RCX/RDX/R8 changed: 0x%llx 0x%llx 0x%llx",
			    (unsigned long long)l2_call.rcx,
			    (unsigned long long)rdx,
			    (unsigned long long)l2_call.r8);
	if (demo)
		printf("L2 continued after the call with RAX = 0x%llx; RCX, RDX and R8 as it left them\n",
		       (unsigned long long)rax);

	if (env.eventfd >= 0) {
		u64 count = 0;

		if (read(env.eventfd, &count, sizeof(count)) != sizeof(count))
			count = 0;
		TEST_ASSERT(count == (u64)c->eventfd_count,
			    "eventfd count %llu, want %d",
			    (unsigned long long)count, c->eventfd_count);
	}
	check_observability(&env, c);
	kvm_vm_free(env.vm);
}

/* KVM_CHECK_EXTENSION answers on /dev/kvm (kvm == NULL) and on a VM fd. */
static void check_extension(void)
{
	struct kvm_vm *vm;
	int r;

	r = kvm_check_cap(KVM_CAP_NESTED_HYPERV_HCALL_RELAY);
	TEST_ASSERT(r == KVM_NESTED_HYPERV_RELAY_ALL,
		    "/dev/kvm answers 0x%x, want 0x%llx", r,
		    (unsigned long long)KVM_NESTED_HYPERV_RELAY_ALL);
	vm = vm_create_barebones();
	r = __vm_ioctl(vm, KVM_CHECK_EXTENSION,
		       (void *)(unsigned long)KVM_CAP_NESTED_HYPERV_HCALL_RELAY);
	TEST_ASSERT(r == KVM_NESTED_HYPERV_RELAY_ALL, "VM fd answers 0x%x", r);
	/* An unrelated capability still gets KVM's own answer. */
	TEST_ASSERT(__vm_ioctl(vm, KVM_CHECK_EXTENSION,
			       (void *)(unsigned long)KVM_CAP_NR_MEMSLOTS) > 1,
		    "KVM_CAP_NR_MEMSLOTS lost its answer");
	kvm_vm_free(vm);
}

static int run_child(void (*fn)(const struct relay_case *),
		     const struct relay_case *c)
{
	pid_t pid;

	trace_clear();
	/* Output to a file is fully buffered: do not hand it to the child too. */
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	int status;

	if (pid == 0) {
		fn(c);
		exit(KSFT_PASS);
	}
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status))
		return KSFT_FAIL;
	return WEXITSTATUS(status);
}

static void check_extension_case(const struct relay_case *unused)
{
	check_extension();
}

static void report(int status, const char *name)
{
	if (status == KSFT_SKIP)
		ksft_test_result_skip("%s\n", name);
	else
		ksft_test_result(status == KSFT_PASS, "%s\n", name);
}

int main(int argc, char *argv[])
{
	const char *only = argc > 1 ? argv[1] : NULL;
	size_t i;

	demo = only && !strcmp(only, "--demo");

	/* Checked once, before any child runs: a skip is the whole program's. */
	relay_require_nested();

	trace_setup();
	ksft_print_header();
	if (!tracefs)
		ksft_print_msg("tracefs not available: trace events not checked\n");
	if (demo) {
		ksft_set_plan(1);
		report(run_child(run_case, &cases[0]), cases[0].name);
		ksft_finished();
	}
	ksft_set_plan(ARRAY_SIZE(cases) + 1);
	report(run_child(check_extension_case, NULL), "relay_cap_check_extension");
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (only && strcmp(only, cases[i].name))
			ksft_test_result_skip("%s\n", cases[i].name);
		/* An AMD VMCB12 address has no low bits: VMRUN would #GP. */
		else if (cases[i].evmcs_ptr_bits && relay_host_is_svm())
			ksft_test_result_skip("%s: eVMCS is Intel only\n",
					      cases[i].name);
		else
			report(run_child(run_case, &cases[i]), cases[i].name);
	}
	ksft_finished();
}
