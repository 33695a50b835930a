// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay_fuzz: an L2 issues thousands of hypercalls with random input values
 * and operands, and the VMM checks the outcome of every one of them against
 * the relay contract (docs: relay-contract, "Defined outcomes for bad input").
 *
 * One VM, one nested vCPU (lib/relay_nested.h: eVMCS + EPT on Intel, VMCB12
 * + NPT on AMD).  Calls go in batches; between batches the VMM changes the
 * relay mask (including "never enabled" and "disabled again"), L1's
 * authorisation (VP assist page and eVMCS/VMCB12 bits), L2's mode (64-bit,
 * 32-bit compatibility mode, CPL 3), L1's stage-2 paging for L2 and the
 * eventfd of the connection, so both authorised and unauthorised setups
 * are covered.
 *
 * Each call's input value mixes HvPostMessage, HvSignalEvent and other
 * codes, nested bit on and off, fast bit, var header / reserved / rep count /
 * rep start bits; slow calls point at a readable alias, a hole, a
 * non-readable page, an L1 GPA outside every memslot, KVM's private xAPIC
 * page, L1 memory directly, unaligned or page-crossing blocks, and random
 * 64-bit values.
 *
 * The expected outcome of each call is computed here from a restatement of
 * the contract (model_call()), cross-checked call by call against the pure
 * helpers of relay_input.h, never through the module.  Checked per call:
 * L1 saw the VMCALL exactly when it must; otherwise the TLFS status L2 got,
 * or the KVM_EXIT_HYPERV fields and the VMM's result in L2's RAX / EDX:EAX;
 * L2's other registers untouched.  Per batch: the eventfd count; at the end:
 * the module's per-VM counters.  Any other userspace exit fails the test.
 *
 * Usage: relay_fuzz [calls [seed]].  The seed is printed; rerun with it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#include "lib/relay_nested.h"
#include "../relay_input.h"

/*
 * Calls per run: about 20 s of host time under Bochs (Intel), a few seconds
 * under QEMU TCG (AMD); Documentation/reliability.rst has the measurements.
 */
#define FUZZ_CALLS		10240
#define FUZZ_BATCH		64

#define CONN_ID			5

/* u64 is unsigned long in some selftest libraries, unsigned long long in others. */
#define X(v)	((unsigned long long)(v))

/*
 * One call.  The host writes the inputs, L2 its registers after the call,
 * L1 whether the call reached it.  The 32-bit L2 is assembly: the offsets
 * are fixed.
 */
struct fuzz_call {
	u64 input;
	u64 p0;
	u64 p1;
	u64 operand_gva;	/* L2 stores operand here before the call */
	u64 operand;
	u64 rax, rcx, rdx, r8;	/* 64-bit L2 */
	u32 eax, edx, ecx, ebx, esi, edi, ebp;	/* 32-bit L2 */
	u32 l1_saw;
	u32 pad[6];
};

#define FC_INPUT	0
#define FC_P0		8
#define FC_P1		16
#define FC_OPERAND_GVA	24
#define FC_OPERAND	32
#define FC_EAX		72
#define FC_EDX		76
#define FC_ECX		80
#define FC_EBX		84
#define FC_ESI		88
#define FC_EDI		92
#define FC_EBP		96
#define FC_SIZE		128
_Static_assert(offsetof(struct fuzz_call, input) == FC_INPUT, "layout");
_Static_assert(offsetof(struct fuzz_call, p0) == FC_P0, "layout");
_Static_assert(offsetof(struct fuzz_call, p1) == FC_P1, "layout");
_Static_assert(offsetof(struct fuzz_call, operand_gva) == FC_OPERAND_GVA, "layout");
_Static_assert(offsetof(struct fuzz_call, operand) == FC_OPERAND, "layout");
_Static_assert(offsetof(struct fuzz_call, eax) == FC_EAX, "layout");
_Static_assert(offsetof(struct fuzz_call, edx) == FC_EDX, "layout");
_Static_assert(offsetof(struct fuzz_call, ecx) == FC_ECX, "layout");
_Static_assert(offsetof(struct fuzz_call, ebx) == FC_EBX, "layout");
_Static_assert(offsetof(struct fuzz_call, esi) == FC_ESI, "layout");
_Static_assert(offsetof(struct fuzz_call, edi) == FC_EDI, "layout");
_Static_assert(offsetof(struct fuzz_call, ebp) == FC_EBP, "layout");
_Static_assert(sizeof(struct fuzz_call) == FC_SIZE, "layout");

struct fuzz_ctl {
	u32 n;			/* calls in this batch */
	u32 cur;		/* the call L2 is making */
	u32 done;		/* L2 went through the batch */
};

#define CTL_N		0
#define CTL_CUR		4
#define CTL_DONE	8
_Static_assert(offsetof(struct fuzz_ctl, n) == CTL_N, "layout");
_Static_assert(offsetof(struct fuzz_ctl, cur) == CTL_CUR, "layout");
_Static_assert(offsetof(struct fuzz_ctl, done) == CTL_DONE, "layout");

static struct fuzz_ctl fuzz_ctl __attribute__((used));
static struct fuzz_call fuzz_calls[FUZZ_BATCH] __attribute__((used));

/* --- guest ------------------------------------------------------------------ */

static void fuzz_l2_long(void)
{
	struct relay_hc_regs after;
	u32 i;

	for (i = 0; i < READ_ONCE(fuzz_ctl.n); i++) {
		struct fuzz_call *c = &fuzz_calls[i];

		WRITE_ONCE(fuzz_ctl.cur, i);
		if (c->operand_gva)
			*(volatile u64 *)c->operand_gva = c->operand;
		relay_l2_hypercall(c->input, c->p0, c->p1, &after);
		c->rax = after.rax;
		c->rcx = after.rcx;
		c->rdx = after.rdx;
		c->r8 = after.r8;
	}
	WRITE_ONCE(fuzz_ctl.cur, i);
	WRITE_ONCE(fuzz_ctl.done, 1);
	relay_l2_back_to_l1();
}

#define STR(x)	#x
#define XSTR(x)	STR(x)

/*
 * The 32-bit (compatibility mode) L2, the same loop: input in EDX:EAX,
 * operands in EBX:ECX and EDI:ESI.  After a call L1 took, every GPR but ESP
 * is L1's: the loop state lives in fuzz_ctl and on the stack.
 */
void fuzz_l2_compat(void);
asm(".pushsection .text\n"
    ".code32\n"
    "fuzz_l2_compat:\n"
    "10:\tmov fuzz_ctl+" XSTR(CTL_CUR) ", %eax\n\t"
    "cmp fuzz_ctl+" XSTR(CTL_N) ", %eax\n\t"
    "jae 19f\n\t"
    "imul $" XSTR(FC_SIZE) ", %eax, %ebp\n\t"
    "add $fuzz_calls, %ebp\n\t"
    "mov " XSTR(FC_OPERAND_GVA) "(%ebp), %edi\n\t"
    "test %edi, %edi\n\t"
    "jz 11f\n\t"
    "mov " XSTR(FC_OPERAND) "(%ebp), %eax\n\t"
    "mov %eax, (%edi)\n\t"
    "mov " XSTR(FC_OPERAND) "+4(%ebp), %eax\n\t"
    "mov %eax, 4(%edi)\n"
    "11:\tpush %ebp\n\t"
    "mov " XSTR(FC_INPUT) "(%ebp), %eax\n\t"
    "mov " XSTR(FC_INPUT) "+4(%ebp), %edx\n\t"
    "mov " XSTR(FC_P0) "(%ebp), %ecx\n\t"
    "mov " XSTR(FC_P0) "+4(%ebp), %ebx\n\t"
    "mov " XSTR(FC_P1) "(%ebp), %esi\n\t"
    "mov " XSTR(FC_P1) "+4(%ebp), %edi\n\t"
    RELAY_HYPERCALL_ASM("relay_hc_svm")
    "push %eax\n\t"
    "mov 4(%esp), %eax\n\t"
    "mov %edx, " XSTR(FC_EDX) "(%eax)\n\t"
    "mov %ecx, " XSTR(FC_ECX) "(%eax)\n\t"
    "mov %ebx, " XSTR(FC_EBX) "(%eax)\n\t"
    "mov %esi, " XSTR(FC_ESI) "(%eax)\n\t"
    "mov %edi, " XSTR(FC_EDI) "(%eax)\n\t"
    "mov %ebp, " XSTR(FC_EBP) "(%eax)\n\t"
    "pop %edx\n\t"
    "mov %edx, " XSTR(FC_EAX) "(%eax)\n\t"
    "add $4, %esp\n\t"
    "incl fuzz_ctl+" XSTR(CTL_CUR) "\n\t"
    "jmp 10b\n"
    "19:\tmovl $1, fuzz_ctl+" XSTR(CTL_DONE) "\n\t"
    "mov $1, %eax\n\t"
    "xor %edx, %edx\n\t"
    RELAY_HYPERCALL_ASM("relay_hc_svm")
    "hlt\n\t"
    ".code64\n"
    ".popsection\n");

/* L1: run each batch from the top with the host's configuration. */
static void fuzz_l1(void *nested, struct relay_l1 *l1)
{
	relay_l1_setup(l1, nested);
	for (;;) {
		bool restart = true;

		for (;;) {
			u32 cur;

			relay_l1_enter(l1, nested, restart);
			restart = false;
			if (READ_ONCE(fuzz_ctl.done))
				break;
			cur = READ_ONCE(fuzz_ctl.cur);
			GUEST_ASSERT(cur < FUZZ_BATCH);
			fuzz_calls[cur].l1_saw++;
			relay_l1_skip(nested);
		}
		GUEST_SYNC(0);
	}
}

/* --- the contract, restated ---------------------------------------------------- */

/* Between batches: what the VMM and L1 set up. */
struct fuzz_setup {
	bool enabled;		/* KVM_ENABLE_CAP ever issued */
	u64 mask;
	u8 mode;
	u8 direct_hypercall;
	u8 nested_flush;
	u8 stage2;
	bool eventfd;
};

enum outcome { OUT_L1, OUT_STATUS, OUT_EXIT };

/* The contract row a call exercises: for coverage and the report. */
enum row {
	ROW_EXIT_POST_SLOW,
	ROW_EXIT_POST_FAST,
	ROW_EXIT_SIGNAL_FAST,
	ROW_EXIT_SIGNAL_SLOW,
	ROW_EXIT_SIGNAL_FLAG,
	ROW_EVENTFD,
	ROW_BAD_INPUT_BITS,
	ROW_BAD_ALIGN,
	ROW_BAD_CROSS_PAGE,
	ROW_BAD_UNMAPPED,
	ROW_BAD_OUTSIDE_MEMORY,
	ROW_BAD_SIGNAL_OPERAND,
	ROW_L1_NOT_NESTED,
	ROW_L1_NOT_IN_MASK,
	ROW_L1_UNAUTHORISED,
	ROW_L1_CPL3,
	ROW_L1_NOT_ENABLED,
	ROW_NR,
};

static const char * const row_names[ROW_NR] = {
	[ROW_EXIT_POST_SLOW] = "exit: slow post, L1 GPA",
	[ROW_EXIT_POST_FAST] = "exit: fast post",
	[ROW_EXIT_SIGNAL_FAST] = "exit: fast signal",
	[ROW_EXIT_SIGNAL_SLOW] = "exit: slow signal, fast form",
	[ROW_EXIT_SIGNAL_FLAG] = "exit: signal, flag number != 0",
	[ROW_EVENTFD] = "eventfd: SUCCESS, no exit",
	[ROW_BAD_INPUT_BITS] = "INVALID_INPUT: rep/varhead/rsvd",
	[ROW_BAD_ALIGN] = "INVALID_ALIGNMENT: not 8-aligned",
	[ROW_BAD_CROSS_PAGE] = "INVALID_ALIGNMENT: crosses page",
	[ROW_BAD_UNMAPPED] = "INVALID_INPUT: hole/not readable",
	[ROW_BAD_OUTSIDE_MEMORY] = "INVALID_INPUT: outside memory",
	[ROW_BAD_SIGNAL_OPERAND] = "INVALID_INPUT: signal operand",
	[ROW_L1_NOT_NESTED] = "L1: nested bit clear",
	[ROW_L1_NOT_IN_MASK] = "L1: code/class not in mask",
	[ROW_L1_UNAUTHORISED] = "L1: not authorised",
	[ROW_L1_CPL3] = "L1: CPL 3",
	[ROW_L1_NOT_ENABLED] = "L1: cap not enabled / mask 0",
};

struct fuzz_expect {
	u8 outcome;
	u8 row;
	u16 status;
	bool eventfd;
	u64 exit_input, exit_p0, exit_p1;
	u64 result;		/* what the VMM answers an exit with */
};

struct fuzz_env {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct relay_nested_vcpu nv;
	struct fuzz_ctl *ctl;		/* host views of the guest globals */
	struct fuzz_call *calls;
	u64 ident_size;			/* stage-2 identity window */
	u64 msg_gpa, operand_gpa;
	relay_gva_t msg_gva, operand_gva, stack_gva;
	int eventfd;
	u64 rng;
};

/* splitmix64 */
static u64 rnd(struct fuzz_env *env)
{
	u64 z = (env->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* True with probability pct/100. */
static bool chance(struct fuzz_env *env, unsigned int pct)
{
	return rnd(env) % 100 < pct;
}

/* Is @gpa in one of the VM's (user) memslots? */
static bool model_is_memory(struct kvm_vm *vm, u64 gpa)
{
	struct userspace_mem_region *region;
	int bkt;

	hash_for_each(vm->regions.slot_hash, bkt, region, slot_node)
		if (gpa >= region->region.guest_phys_addr &&
		    gpa - region->region.guest_phys_addr < region->region.memory_size)
			return true;
	return false;
}

/* L1's stage-2 tables for L2, as relay_build_stage2() laid them out. */
static bool model_translate(struct fuzz_env *env, bool stage2, u64 l2, u64 *l1)
{
	u64 off = l2 & 0xfff;

	if (!stage2) {
		*l1 = l2;
		return true;
	}
	if (l2 < env->ident_size) {
		*l1 = l2;
		return true;
	}
	if (l2 - ALIAS_2M_BASE < RELAY_2M) {
		*l1 = (env->msg_gpa & ~(RELAY_2M - 1)) + (l2 - ALIAS_2M_BASE);
		return true;
	}
	if (l2 - ALIAS_NOREAD_TABLE < 4096)	/* a table above it grants no read */
		return false;
	if (l2 < ALIAS_BASE || l2 >= ALIAS_BASE + ALIAS_NR * 4096ULL)
		return false;
	switch ((l2 - ALIAS_BASE) / 4096) {
	case ALIAS_MSG:
		*l1 = env->msg_gpa + off;
		return true;
	case ALIAS_OPERAND:
		*l1 = env->operand_gpa + off;
		return true;
	case ALIAS_OUTSIDE:
		*l1 = OUTSIDE_L1_GPA + off;
		return true;
	case ALIAS_APIC:
		*l1 = APIC_L1_GPA + off;
		return true;
	default:		/* ALIAS_XONLY: not readable; ALIAS_HOLE */
		return false;
	}
}

/* The GVA of L1 memory the host knows a GVA for, or 0. */
static u64 model_gva(struct fuzz_env *env, u64 l1)
{
	if (l1 - env->msg_gpa < 4096)
		return env->msg_gva + (l1 - env->msg_gpa);
	if (l1 - env->operand_gpa < 4096)
		return env->operand_gva + (l1 - env->operand_gpa);
	return 0;
}

static void set_l1(struct fuzz_expect *e, enum row row)
{
	e->outcome = OUT_L1;
	e->row = row;
}

static void set_status(struct fuzz_expect *e, enum row row, u16 status)
{
	e->outcome = OUT_STATUS;
	e->row = row;
	e->status = status;
}

static void set_exit(struct fuzz_env *env, struct fuzz_expect *e, enum row row,
		     u64 input, u64 p0, u64 p1)
{
	e->outcome = OUT_EXIT;
	e->row = row;
	e->exit_input = input;
	e->exit_p0 = p0;
	e->exit_p1 = p1;
	e->result = rnd(env);
}

/*
 * Slow call: the TLFS alignment rule, then L1's stage-2 translation with read
 * permission, then "is it L1 memory".  Returns 0 or the status.
 */
static u16 model_block(struct fuzz_env *env, const struct fuzz_setup *s, u64 gpa,
		       unsigned int size, u64 *l1, enum row *row)
{
	u16 status = 0;

	if (gpa % 8) {
		*row = ROW_BAD_ALIGN;
		status = HV_STATUS_INVALID_ALIGNMENT;
	} else if (gpa / 4096 != (gpa + size - 1) / 4096) {
		*row = ROW_BAD_CROSS_PAGE;
		status = HV_STATUS_INVALID_ALIGNMENT;
	}
	TEST_ASSERT(relay_gpa_status(gpa, size) == status,
		    "relay_input.h: relay_gpa_status(0x%llx, %u) = %u, model %u",
		    X(gpa), size, relay_gpa_status(gpa, size), status);
	if (status)
		return status;
	if (!model_translate(env, s->stage2, gpa, l1)) {
		*row = ROW_BAD_UNMAPPED;
		return HV_STATUS_INVALID_INPUT;
	}
	if (!model_is_memory(env->vm, *l1)) {
		*row = ROW_BAD_OUTSIDE_MEMORY;
		return HV_STATUS_INVALID_INPUT;
	}
	return 0;
}

/* HvSignalEvent's operand: connection id 23:0, flag number 47:32, rest reserved. */
static void model_signal(struct fuzz_env *env, const struct fuzz_setup *s,
			 struct fuzz_expect *e, u64 in, u64 operand, enum row exit_row)
{
	bool reserved = operand & 0xffff0000ff000000ULL;
	u64 flag = (operand >> 32) & 0xffff;

	TEST_ASSERT(!relay_signal_status(operand) == !reserved,
		    "relay_input.h: relay_signal_status(0x%llx) = %u, model %s",
		    X(operand), relay_signal_status(operand), reserved ? "bad" : "good");
	if (reserved) {
		set_status(e, ROW_BAD_SIGNAL_OPERAND, HV_STATUS_INVALID_INPUT);
	} else if (!flag && s->eventfd && (operand & 0xffffff) == CONN_ID) {
		set_status(e, ROW_EVENTFD, HV_STATUS_SUCCESS);
		e->eventfd = true;
	} else {
		/* Always the fast form: the VMM never gets an L2 address. */
		set_exit(env, e, flag ? ROW_EXIT_SIGNAL_FLAG : exit_row,
			 in | HC_FAST, operand, 0);
	}
}

/* The expected outcome of one call, from the contract alone. */
static void model_call(struct fuzz_env *env, const struct fuzz_setup *s,
		       const struct fuzz_call *c, u64 written_operand,
		       struct fuzz_expect *e)
{
	u64 input = c->input, in = input & ~HC_NESTED, l1 = 0;
	u16 code = input & 0xffff, status;
	bool fast = input & HC_FAST;
	u64 class = code == HC_POST ? KVM_NESTED_HYPERV_RELAY_POST_MESSAGE :
		    code == HC_SIGNAL ? KVM_NESTED_HYPERV_RELAY_SIGNAL_EVENT : 0;
	bool bad_bits;
	enum row row = ROW_NR;

	memset(e, 0, sizeof(*e));
	TEST_ASSERT(relay_input_class(input) == ((input & HC_NESTED) ? class : 0),
		    "relay_input.h: relay_input_class(0x%llx) = %u", X(input),
		    relay_input_class(input));

	/* When a call is relayed: every condition must hold. */
	if (!s->enabled || !s->mask) {
		set_l1(e, ROW_L1_NOT_ENABLED);
		return;
	}
	if (s->mode == L2_USER) {
		set_l1(e, ROW_L1_CPL3);
		return;
	}
	if (!(input & HC_NESTED)) {
		set_l1(e, ROW_L1_NOT_NESTED);
		return;
	}
	if (!(class & s->mask)) {
		set_l1(e, ROW_L1_NOT_IN_MASK);
		return;
	}
	if (!s->direct_hypercall || !s->nested_flush) {
		set_l1(e, ROW_L1_UNAUTHORISED);
		return;
	}

	/* Var header 26:17, reserved 30:27, rep count 43:32, rsvd 47:44, rep start 59:48, rsvd 63:60. */
	bad_bits = ((in >> 17) & 0x3ff) || ((in >> 27) & 0xf) ||
		   ((in >> 32) & 0xfff) || ((in >> 44) & 0xf) ||
		   ((in >> 48) & 0xfff) || (in >> 60);
	TEST_ASSERT(!relay_input_status(in) == !bad_bits,
		    "relay_input.h: relay_input_status(0x%llx) = %u, model %s", X(in),
		    relay_input_status(in), bad_bits ? "bad" : "good");
	if (bad_bits) {
		set_status(e, ROW_BAD_INPUT_BITS, HV_STATUS_INVALID_INPUT);
		return;
	}

	if (code == HC_POST) {
		if (fast) {
			set_exit(env, e, ROW_EXIT_POST_FAST, in, c->p0, c->p1);
			return;
		}
		status = model_block(env, s, c->p0, 256, &l1, &row);
		if (status)
			set_status(e, row, status);
		else
			set_exit(env, e, ROW_EXIT_POST_SLOW, in, l1, 0);
		return;
	}

	if (fast) {
		model_signal(env, s, e, in, c->p0, ROW_EXIT_SIGNAL_FAST);
		return;
	}
	status = model_block(env, s, c->p0, 8, &l1, &row);
	if (status) {
		set_status(e, row, status);
		return;
	}
	model_signal(env, s, e, in, written_operand, ROW_EXIT_SIGNAL_SLOW);
}

/* --- generating calls ---------------------------------------------------------- */

static u64 gen_input(struct fuzz_env *env)
{
	static const u64 extra[] = {
		0x3ffULL << 17,		/* var header */
		0xfULL << 27,		/* reserved */
		0xfffULL << 32,		/* rep count */
		0xfULL << 44,		/* reserved */
		0xfffULL << 48,		/* rep start */
		0xfULL << 60,		/* reserved */
	};
	u64 r = rnd(env), code, input;

	switch (r % 10) {
	case 0 ... 3:
		code = HC_POST;
		break;
	case 4 ... 7:
		code = HC_SIGNAL;
		break;
	default:
		/* Not the L2 TLB flush calls, which stock KVM may keep in L0. */
		do {
			code = rnd(env) & 0xffff;
		} while (code == 0x02 || code == 0x03 || code == 0x13 || code == 0x14);
	}
	input = code;
	if (chance(env, 85))
		input |= HC_NESTED;
	if (chance(env, 40))
		input |= HC_FAST;
	if (chance(env, 15))
		input |= rnd(env) & extra[rnd(env) % ARRAY_SIZE(extra)];
	if (chance(env, 2))
		input |= rnd(env) & ~0xffffULL;
	return input;
}

static u64 gen_operand(struct fuzz_env *env)
{
	u64 op, r = rnd(env) % 4;

	op = r < 2 ? CONN_ID : r == 2 ? CONN_ID + 1 : rnd(env) & 0xffffff;
	if (chance(env, 30))
		op |= (rnd(env) & 0xffff) << 32;
	if (chance(env, 10))
		op |= rnd(env) & 0xffff0000ff000000ULL;
	return op;
}

/* An offset in a page: mostly a valid block, sometimes not. */
static u64 gen_offset(struct fuzz_env *env, unsigned int size)
{
	switch (rnd(env) % 10) {
	case 0 ... 5:
		return (rnd(env) % ((4096 - size) / 8 + 1)) * 8;
	case 6:
		return rnd(env) % 4096;				/* maybe unaligned */
	case 7:
		/* crosses the page: aligned if the block is larger than 8 */
		return size > 8 ? 4096 - size + 8 + (rnd(env) % (size / 8 - 1)) * 8 : 4092;
	default:
		return (rnd(env) % 512) * 8;
	}
}

enum gpa_kind {
	K_ALIAS_MSG, K_ALIAS_OPERAND, K_ALIAS_XONLY, K_ALIAS_HOLE,
	K_ALIAS_OUTSIDE, K_ALIAS_APIC, K_IDENT_MSG, K_IDENT_ANY,
	K_LOW_UNMAPPED, K_APIC_RAW, K_RANDOM, K_NR,
};

static u64 gen_gpa(struct fuzz_env *env, unsigned int size, bool signal)
{
	u64 off = gen_offset(env, size), page;

	switch (rnd(env) % K_NR) {
	case K_ALIAS_MSG:
		return ALIAS_BASE + ALIAS_MSG * 4096ULL + off;
	case K_ALIAS_OPERAND:
		return ALIAS_BASE + ALIAS_OPERAND * 4096ULL + off;
	case K_ALIAS_XONLY:
		return ALIAS_BASE + ALIAS_XONLY * 4096ULL + off;
	case K_ALIAS_HOLE:
		return ALIAS_BASE + ALIAS_HOLE * 4096ULL + off;
	case K_ALIAS_OUTSIDE:
		return ALIAS_BASE + ALIAS_OUTSIDE * 4096ULL + off;
	case K_ALIAS_APIC:
		return ALIAS_BASE + ALIAS_APIC * 4096ULL + off;
	case K_IDENT_MSG:
		return (rnd(env) & 1 ? env->msg_gpa : env->operand_gpa) + off;
	case K_IDENT_ANY:
		/* A signal's operand must be one L2 wrote: only the two pages. */
		if (signal)
			return env->msg_gpa + off;
		return (rnd(env) % (env->ident_size / 4096)) * 4096 + off;
	case K_LOW_UNMAPPED:
		/* Above L1 memory, below the alias window, not near 4G (KVM's own pages). */
		do {
			page = env->ident_size / 4096 +
			       rnd(env) % ((ALIAS_BASE - env->ident_size) / 4096);
		} while (page >= 0xfe000 && page < 0x100000);
		return page * 4096 + off;
	case K_APIC_RAW:
		return APIC_L1_GPA + off;
	default:
		return rnd(env);
	}
}

/*
 * Fill call @i of the batch and its expected outcome.  A slow signal's
 * operand is written by L2 itself just before the call, at the L1 GPA the
 * call points to, when that is memory the host has a GVA for.
 */
static void gen_call(struct fuzz_env *env, const struct fuzz_setup *s,
		     struct fuzz_call *c, struct fuzz_expect *e)
{
	u64 l1, operand = 0;

	memset(c, 0, sizeof(*c));
	c->input = gen_input(env);
	c->p1 = rnd(env);
	if ((c->input & 0xffff) == HC_SIGNAL && (c->input & HC_FAST)) {
		c->p0 = gen_operand(env);
	} else if ((c->input & 0xffff) == HC_SIGNAL) {
		for (;;) {
			c->p0 = gen_gpa(env, 8, true);
			if (c->p0 % 8 || !model_translate(env, s->stage2, c->p0, &l1) ||
			    !model_is_memory(env->vm, l1))
				break;
			c->operand_gva = model_gva(env, l1);
			if (c->operand_gva)
				break;
		}
		operand = gen_operand(env);
		c->operand = operand;
	} else if ((c->input & 0xffff) == HC_POST && !(c->input & HC_FAST)) {
		c->p0 = gen_gpa(env, 256, false);
	} else {
		c->p0 = rnd(env);
	}
	model_call(env, s, c, operand, e);
}

/* Mostly authorised and relaying; every other setup often enough. */
static void gen_setup(struct fuzz_env *env, struct fuzz_setup *s, unsigned int batch)
{
	static const u64 masks[] = { 3, 3, 3, 3, 3, 1, 2, 0 };
	static const u8 modes[] = { L2_LONG, L2_LONG, L2_COMPAT, L2_COMPAT, L2_USER };

	if (batch == 0) {
		/* A VM that never enabled the capability. */
		*s = (struct fuzz_setup) { .mode = L2_LONG, .direct_hypercall = 1,
					   .nested_flush = 1, .stage2 = 1 };
		return;
	}
	s->enabled = true;
	s->mask = masks[rnd(env) % ARRAY_SIZE(masks)];
	s->mode = modes[rnd(env) % ARRAY_SIZE(modes)];
	s->direct_hypercall = !chance(env, 15);
	s->nested_flush = !chance(env, 15);
	s->stage2 = !chance(env, 20);
	s->eventfd = chance(env, 50);
	if (batch <= L2_NR_MODES) {
		/* First every mode once, authorised and relaying. */
		*s = (struct fuzz_setup) { .enabled = true, .mask = 3, .mode = batch - 1,
					   .direct_hypercall = 1, .nested_flush = 1,
					   .stage2 = 1, .eventfd = true };
	}
}

/* --- running it ---------------------------------------------------------------- */

struct fuzz_totals {
	unsigned long calls, exits, post_exits, signal_exits, eventfd,
		rejected, unauthorised;
	unsigned long rows[ROW_NR][L2_NR_MODES];
};

static void apply_setup(struct fuzz_env *env, const struct fuzz_setup *s,
			struct fuzz_setup *prev)
{
	struct kvm_hyperv_eventfd hvevfd = { .conn_id = CONN_ID, .fd = env->eventfd };
	struct relay_l1 *l1 = env->nv.l1;

	if (s->enabled && (!prev->enabled || s->mask != prev->mask))
		TEST_ASSERT(!relay_enable(env->vm, s->mask), "KVM_ENABLE_CAP(0x%llx)",
			    X(s->mask));
	if (s->eventfd != prev->eventfd) {
		hvevfd.flags = s->eventfd ? 0 : KVM_HYPERV_EVENTFD_DEASSIGN;
		vm_ioctl(env->vm, KVM_HYPERV_EVENTFD, &hvevfd);
	}
	l1->mode = s->mode;
	l1->direct_hypercall = s->direct_hypercall;
	l1->nested_flush = s->nested_flush;
	l1->stage2 = s->stage2;
	l1->l2_rip = s->mode == L2_COMPAT ? (u64)fuzz_l2_compat : (u64)fuzz_l2_long;
	l1->l2_rsp = env->stack_gva + 4096;
	*prev = *s;
}

static void check_call(struct fuzz_env *env, const struct fuzz_setup *s,
		       unsigned int batch, unsigned int i, const struct fuzz_expect *e,
		       int exits)
{
	const struct fuzz_call *c = &env->calls[i];
	u64 want = e->outcome == OUT_EXIT ? e->result : e->status;
	u64 got, gva = (u64)(uintptr_t)&fuzz_calls[i];

#define CALL_FMT "batch %u call %u (mode %u mask 0x%llx auth %u/%u stage2 %u): input 0x%llx p0 0x%llx p1 0x%llx: "
#define CALL_ARGS batch, i, s->mode, X(s->enabled ? s->mask : 0), s->direct_hypercall, \
	s->nested_flush, s->stage2, X(c->input), X(c->p0), X(c->p1)

	TEST_ASSERT(c->l1_saw == (e->outcome == OUT_L1),
		    CALL_FMT "L1 saw it %u times, want %u (%s)", CALL_ARGS,
		    c->l1_saw, e->outcome == OUT_L1, row_names[e->row]);
	TEST_ASSERT(exits == (e->outcome == OUT_EXIT),
		    CALL_FMT "%d KVM_EXIT_HYPERV, want %d (%s)", CALL_ARGS, exits,
		    e->outcome == OUT_EXIT, row_names[e->row]);
	if (e->outcome == OUT_L1)
		return;

	if (s->mode == L2_COMPAT) {
		got = (u64)c->edx << 32 | c->eax;
		TEST_ASSERT(c->ecx == (u32)c->p0 && c->ebx == c->p0 >> 32 &&
			    c->esi == (u32)c->p1 && c->edi == c->p1 >> 32 &&
			    c->ebp == (u32)gva,
			    CALL_FMT "32-bit L2's EBX:ECX/EDI:ESI/EBP changed: %x:%x %x:%x %x",
			    CALL_ARGS, c->ebx, c->ecx, c->edi, c->esi, c->ebp);
	} else {
		got = c->rax;
		TEST_ASSERT(c->rcx == c->input && c->rdx == c->p0 && c->r8 == c->p1,
			    CALL_FMT "L2's RCX/RDX/R8 changed: 0x%llx 0x%llx 0x%llx",
			    CALL_ARGS, X(c->rcx), X(c->rdx), X(c->r8));
	}
	TEST_ASSERT(got == want, CALL_FMT "L2 got 0x%llx, want 0x%llx (%s)", CALL_ARGS,
		    X(got), X(want), row_names[e->row]);
}

static void check_exit(struct fuzz_env *env, const struct fuzz_setup *s,
		       unsigned int batch, const struct fuzz_expect *exp, int *exits)
{
	struct kvm_run *run = env->vcpu->run;
	struct kvm_hyperv_exit *hv = &run->hyperv;
	u32 i = READ_ONCE(env->ctl->cur);
	const struct fuzz_call *c = &env->calls[i];
	const struct fuzz_expect *e = &exp[i];

	TEST_ASSERT(hv->type == KVM_EXIT_HYPERV_HCALL, "KVM_EXIT_HYPERV of type %u",
		    hv->type);
	TEST_ASSERT(i < env->ctl->n, "exit outside the batch (call %u)", i);
	TEST_ASSERT(e->outcome == OUT_EXIT,
		    CALL_FMT "KVM_EXIT_HYPERV input 0x%llx params 0x%llx 0x%llx, want %s",
		    CALL_ARGS, X(hv->u.hcall.input), X(hv->u.hcall.params[0]),
		    X(hv->u.hcall.params[1]), row_names[e->row]);
	TEST_ASSERT(hv->u.hcall.input == e->exit_input &&
		    hv->u.hcall.params[0] == e->exit_p0 &&
		    hv->u.hcall.params[1] == e->exit_p1,
		    CALL_FMT "exit input 0x%llx params 0x%llx 0x%llx, want 0x%llx 0x%llx 0x%llx",
		    CALL_ARGS, X(hv->u.hcall.input), X(hv->u.hcall.params[0]),
		    X(hv->u.hcall.params[1]), X(e->exit_input), X(e->exit_p0), X(e->exit_p1));
	exits[i]++;
	hv->u.hcall.result = e->result;
}

static void run_batch(struct fuzz_env *env, const struct fuzz_setup *s,
		      unsigned int batch, unsigned int n, struct fuzz_totals *t)
{
	static struct fuzz_expect exp[FUZZ_BATCH];
	static int exits[FUZZ_BATCH];
	unsigned int i, want_eventfd = 0;
	u64 count = 0;
	struct ucall uc;

	for (i = 0; i < n; i++)
		gen_call(env, s, &env->calls[i], &exp[i]);
	memset(exits, 0, sizeof(exits));
	env->ctl->n = n;
	env->ctl->cur = 0;
	env->ctl->done = 0;

	for (;;) {
		struct kvm_run *run = env->vcpu->run;

		vcpu_run(env->vcpu);
		if (run->exit_reason == KVM_EXIT_HYPERV) {
			check_exit(env, s, batch, exp, exits);
			continue;
		}
		TEST_ASSERT(run->exit_reason == KVM_EXIT_IO,
			    "batch %u call %u: forbidden userspace exit %u (%s)", batch,
			    env->ctl->cur, run->exit_reason,
			    exit_reason_str(run->exit_reason));
		switch (get_ucall(env->vcpu, &uc)) {
		case UCALL_SYNC:
			break;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			break;
		default:
			TEST_FAIL("unexpected ucall %lu", (unsigned long)uc.cmd);
		}
		break;
	}
	TEST_ASSERT(env->ctl->done && env->ctl->cur == n,
		    "batch %u ended at call %u of %u", batch, env->ctl->cur, n);

	for (i = 0; i < n; i++) {
		const struct fuzz_expect *e = &exp[i];
		u16 code = env->calls[i].input & 0xffff;

		check_call(env, s, batch, i, e, exits[i]);
		t->calls++;
		t->rows[e->row][s->mode]++;
		want_eventfd += e->eventfd;
		if (e->outcome == OUT_EXIT) {
			t->exits++;
			if (code == HC_POST)
				t->post_exits++;
			else
				t->signal_exits++;
		} else if (e->eventfd) {
			t->eventfd++;
		} else if (e->outcome == OUT_STATUS) {
			t->rejected++;
		} else if (e->row == ROW_L1_UNAUTHORISED) {
			t->unauthorised++;
		}
	}
	if (read(env->eventfd, &count, sizeof(count)) != sizeof(count)) {
		TEST_ASSERT(errno == EAGAIN, "eventfd read");
		count = 0;
	}
	TEST_ASSERT(count == want_eventfd, "batch %u: eventfd count %llu, want %u",
		    batch, X(count), want_eventfd);
}

static void setup_env(struct fuzz_env *env, u64 seed)
{
	relay_gva_t gva;

	memset(env, 0, sizeof(*env));
	env->rng = seed;
	env->vm = vm_create_with_one_vcpu(&env->vcpu, fuzz_l1);
	relay_nested_vcpu_init(env->vm, env->vcpu, &env->nv);

	gva = relay_alloc_page(env->vm);
	env->msg_gva = gva;
	env->msg_gpa = addr_gva2gpa(env->vm, gva);
	gva = relay_alloc_page(env->vm);
	env->operand_gva = gva;
	env->operand_gpa = addr_gva2gpa(env->vm, gva);
	env->stack_gva = relay_alloc_page(env->vm);
	env->ident_size = relay_identity_size(env->vm);
	relay_nested_set_stage2(&env->nv, relay_build_stage2(env->vm, env->msg_gpa,
							     env->operand_gpa));
	/* CPL 3 batches: after every allocation L2 touches. */
	relay_set_user_bit(env->vm);

	env->ctl = relay_guest_ptr(env->vm, fuzz_ctl);
	env->calls = addr_gva2hva(env->vm, (relay_gva_t)fuzz_calls);
	/* The whole array must be one host mapping. */
	TEST_ASSERT((u8 *)addr_gva2hva(env->vm, (relay_gva_t)&fuzz_calls[FUZZ_BATCH - 1]) ==
		    (u8 *)&env->calls[FUZZ_BATCH - 1], "fuzz_calls not contiguous");
	TEST_ASSERT(!model_is_memory(env->vm, OUTSIDE_L1_GPA) &&
		    !model_is_memory(env->vm, APIC_L1_GPA),
		    "the alias targets must not be VM memory");

	env->eventfd = eventfd(0, EFD_NONBLOCK);
	TEST_ASSERT(env->eventfd >= 0, "eventfd");
}

/* The module's per-VM counters agree with what the VMM saw. */
static void check_counters(struct fuzz_env *env, const struct fuzz_totals *t)
{
	static const struct { const char *key; size_t off; } keys[] = {
		{ "post_exits", offsetof(struct fuzz_totals, post_exits) },
		{ "signal_exits", offsetof(struct fuzz_totals, signal_exits) },
		{ "signal_eventfd", offsetof(struct fuzz_totals, eventfd) },
		{ "completed", offsetof(struct fuzz_totals, exits) },
		{ "rejected", offsetof(struct fuzz_totals, rejected) },
		{ "unauthorised", offsetof(struct fuzz_totals, unauthorised) },
	};
	size_t i;

	if (relay_vm_counter(env->vm, "completed") < 0) {
		ksft_print_msg("no per-VM counters file (debugfs): counters not checked\n");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		long want = *(const unsigned long *)((const u8 *)t + keys[i].off);
		long got = relay_vm_counter(env->vm, keys[i].key);

		TEST_ASSERT(got == want, "per-VM counter %s = %ld, the VMM saw %ld",
			    keys[i].key, got, want);
	}
	TEST_ASSERT(relay_vm_counter(env->vm, "stale_completions") == 0,
		    "stale completions");
}

static void report_rows(const struct fuzz_totals *t)
{
	int r;

	ksft_print_msg("%-34s %7s %7s %7s\n", "contract row", "64-bit", "32-bit", "CPL3");
	for (r = 0; r < ROW_NR; r++)
		ksft_print_msg("%-34s %7lu %7lu %7lu\n", row_names[r],
			       t->rows[r][L2_LONG], t->rows[r][L2_COMPAT],
			       t->rows[r][L2_USER]);
}

int main(int argc, char *argv[])
{
	struct fuzz_setup setup, prev = {};
	struct fuzz_totals totals = {};
	unsigned long calls, done = 0;
	struct fuzz_env env;
	unsigned int batch;
	struct timespec t0, t1;
	u64 seed;
	int r, missing = 0;

	relay_require_nested();
	calls = argc > 1 ? strtoul(argv[1], NULL, 0) : FUZZ_CALLS;
	seed = argc > 2 ? strtoull(argv[2], NULL, 0) : (u64)time(NULL) * 2654435761ULL;

	ksft_print_header();
	ksft_set_plan(2);
	ksft_print_msg("seed 0x%llx, %lu calls (rerun: relay_fuzz %lu 0x%llx)\n",
		       X(seed), calls, calls, X(seed));

	clock_gettime(CLOCK_MONOTONIC, &t0);
	setup_env(&env, seed);
	for (batch = 0; done < calls; batch++) {
		unsigned int n = calls - done < FUZZ_BATCH ? calls - done : FUZZ_BATCH;

		gen_setup(&env, &setup, batch);
		apply_setup(&env, &setup, &prev);
		run_batch(&env, &setup, batch, n, &totals);
		done += n;
	}
	check_counters(&env, &totals);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	kvm_vm_free(env.vm);
	close(env.eventfd);

	ksft_print_msg("%lu calls in %u batches, %.1f s: %lu relayed exits, %lu eventfd, %lu rejected in L0, %lu to L1\n",
		       totals.calls, batch,
		       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
		       totals.exits, totals.eventfd, totals.rejected,
		       totals.calls - totals.exits - totals.eventfd - totals.rejected);
	ksft_test_result_pass("fuzz_guest_hypercalls_%lu\n", calls);

	report_rows(&totals);
	for (r = 0; r < ROW_NR; r++)
		if (!(totals.rows[r][L2_LONG] + totals.rows[r][L2_COMPAT] +
		      totals.rows[r][L2_USER]))
			missing++;
	if (calls < 1024)
		ksft_test_result_skip("fuzz_guest_contract_coverage: fewer than 1024 calls\n");
	else
		ksft_test_result(!missing, "fuzz_guest_contract_coverage\n");
	ksft_finished();
}
