// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay_bench: what kvm_hv_relay costs, as ratios measured in one boot.
 *
 * Usage: relay_bench [-m] [-n iterations] [-r rounds] <path of kvm_hv_relay.ko>
 *
 * Start it with the module NOT loaded (the test bed's --no-relay): it loads
 * and unloads the module itself, so that "absent", "loaded" and "enabled"
 * are measured in the same boot, on the same emulated machine.
 *
 * Each round creates one VM whose L1 plays hvix64 as in relay_test (VP
 * assist page, eVMCS + EPT on Intel, VMCB12 + NPT on AMD, L2 authorised)
 * and has Hyper-V on for itself (guest OS id, SynIC active), then times,
 * with RDTSC around the instruction, in chunks of N calls:
 *   - an L2 CPUID reflected to L1 (module absent twice, loaded, enabled)
 *   - a non-nested slow HvPostMessage from L1: the floor, one exit to
 *     userspace (absent, loaded, enabled)
 *   - a non-nested fast HvSignalEvent from L1 with a KVM_HYPERV_EVENTFD
 *     (absent, enabled)
 *   - the relayed L2 slow HvPostMessage and fast HvSignalEvent (eventfd).
 * The userspace side answers every post the same way: it reads the 256
 * bytes at params[0] and checks them.  The last round also counts kernel
 * allocations (kmem tracepoints, this process only) across relayed calls.
 *
 * Last, the bytes of relay state a VM of 1, 4 and 64 vCPUs gets by enabling
 * the relay; -m measures only those.
 *
 * Output: "# ..." detail lines, then "<name>: <value>" result lines.
 * Absolute TSC ticks under emulation are not claims; only ratios are.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "kselftest.h"
#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "vmx.h"
#include "evmcs.h"
#include "svm_util.h"

#include <linux/kvm_hv_relay.h>
#include "../selftests/lib/relay_compat.h"
#include "../selftests/lib/relay_debugfs.h"

#define MSR_GUEST_OS_ID		0x40000000	/* HV_X64_MSR_GUEST_OS_ID */
#define MSR_SCONTROL		0x40000080	/* HV_X64_MSR_SCONTROL */
#define MSR_VP_ASSIST_PAGE	0x40000073
#define GUEST_OS_ID_LINUX	(0x8100ULL << 48)

#define HC_POST		0x005cULL
#define HC_SIGNAL	0x005dULL
#define HC_FAST		BIT_ULL(16)
#define HC_NESTED	BIT_ULL(31)
#define HC_BACK_TO_L1	0x0001ULL	/* not a flush code: always L1's */

#define CONN_ID		5
#define MSG_SIZE	256
#define MAX_ITERS	4096
#define WARMUP		32
#define L2_STACK_WORDS	1024

#define MODULE_NAME	"kvm_hv_relay"

enum op { OP_VMCALL, OP_VMMCALL, OP_CPUID };

enum cmd {
	CMD_L1_POST,		/* non-nested HvPostMessage, slow */
	CMD_L1_SIGNAL,		/* non-nested HvSignalEvent, fast */
	CMD_L2_CPUID,		/* L2 CPUID, reflected to L1 */
	CMD_L2_POST,		/* nested HvPostMessage, slow: relayed */
	CMD_L2_SIGNAL,		/* nested HvSignalEvent, fast: relayed */
	CMD_DONE,
};

/* Host -> L1/L2, synced before every chunk. */
struct bench_ctl {
	u32 svm;
	u32 cmd;
	u32 iters;
	u32 warmup;
	u64 msg_gpa;		/* L1 GPA = L2 GPA (identity stage 2) */
	/* L1 setup */
	u64 vp_assist_gpa;
	void *vp_assist;
	u64 ncr3;
	struct relay_evmcs_pages ev;
};

static struct bench_ctl ctl;
static u64 samples[MAX_ITERS];
static u64 l2_phase_done;

/*
 * One timed instruction.  The callee-saved registers and the start time
 * live on the stack across it: a call reflected to an Intel L1 comes back
 * with L1's GPRs.  Returns the TSC delta, *status = RAX after the call.
 */
#define TIMED_ASM(insn)							\
	"sub $128, %%rsp\n\t"						\
	"push %%rbx\n\tpush %%rbp\n\tpush %%r12\n\t"			\
	"push %%r13\n\tpush %%r14\n\tpush %%r15\n\t"			\
	"lfence\n\trdtsc\n\tshl $32, %%rdx\n\tor %%rdx, %%rax\n\t"	\
	"push %%rax\n\t"						\
	"mov %%rsi, %%rcx\n\tmov %%rdi, %%rdx\n\t"			\
	"xor %%r8d, %%r8d\n\txor %%eax, %%eax\n\t"			\
	insn "\n\t"							\
	"mov %%rax, %%r14\n\t"						\
	"lfence\n\trdtsc\n\tshl $32, %%rdx\n\tor %%rdx, %%rax\n\t"	\
	"pop %%rcx\n\tsub %%rcx, %%rax\n\tmov %%r14, %%rdx\n\t"		\
	"pop %%r15\n\tpop %%r14\n\tpop %%r13\n\t"			\
	"pop %%r12\n\tpop %%rbp\n\tpop %%rbx\n\t"			\
	"add $128, %%rsp"

#define TIMED_OUT	"=a"(delta), "=d"(st), "+S"(input), "+D"(param)
#define TIMED_CLOBBER	"rcx", "r8", "r9", "r10", "r11", "memory", "cc"

static u64 timed_op(int op, u64 input, u64 param, u64 *status)
{
	u64 delta, st;

	if (op == OP_VMCALL)
		asm volatile(TIMED_ASM("vmcall") : TIMED_OUT : : TIMED_CLOBBER);
	else if (op == OP_VMMCALL)
		asm volatile(TIMED_ASM("vmmcall") : TIMED_OUT : : TIMED_CLOBBER);
	else
		asm volatile(TIMED_ASM("cpuid") : TIMED_OUT : : TIMED_CLOBBER);
	*status = st;
	return delta;
}

/* The chunk of the current command, from L1 or L2. */
static void guest_chunk(int op, u64 input, u64 param, bool check_status)
{
	u32 i, n = ctl.warmup + ctl.iters;
	u64 st, d;

	for (i = 0; i < n; i++) {
		d = timed_op(op, input, param, &st);
		if (check_status)
			GUEST_ASSERT_EQ(st, 0);
		if (i >= ctl.warmup)
			samples[i - ctl.warmup] = d;
	}
}

static void l2_guest_code(void)
{
	int call = ctl.svm ? OP_VMMCALL : OP_VMCALL;
	u64 st;

	for (;;) {
		switch (ctl.cmd) {
		case CMD_L2_CPUID:
			guest_chunk(OP_CPUID, 0, 0, false);
			break;
		case CMD_L2_POST:
			guest_chunk(call, HC_NESTED | HC_POST, ctl.msg_gpa, true);
			break;
		case CMD_L2_SIGNAL:
			guest_chunk(call, HC_NESTED | HC_FAST | HC_SIGNAL, CONN_ID,
				    true);
			break;
		}
		l2_phase_done = 1;
		timed_op(call, HC_BACK_TO_L1, 0, &st);
	}
}

/* L1 is a Hyper-V guest itself: guest OS id, SynIC on (exits, see host). */
static void l1_hyperv_setup(void)
{
	wrmsr(MSR_GUEST_OS_ID, GUEST_OS_ID_LINUX);
	wrmsr(MSR_SCONTROL, 1);
}

/* Runs an L1 command; false for an L2 one. CMD_DONE does not return. */
static bool l1_chunk(void)
{
	int call = ctl.svm ? OP_VMMCALL : OP_VMCALL;

	switch (ctl.cmd) {
	case CMD_L1_POST:
		guest_chunk(call, HC_POST, ctl.msg_gpa, true);
		return true;
	case CMD_L1_SIGNAL:
		guest_chunk(call, HC_FAST | HC_SIGNAL, CONN_ID, true);
		return true;
	case CMD_DONE:
		GUEST_DONE();
	}
	return false;
}

static void l1_vmx_code(struct vmx_pages *vmx)
{
	unsigned long l2_stack[L2_STACK_WORDS];
	bool launched = false;

	l1_hyperv_setup();
	enable_vp_assist(ctl.ev.vp_assist_gpa, ctl.ev.vp_assist);
	GUEST_ASSERT(prepare_for_vmx_operation(vmx));
	relay_guest_load_evmcs(vmx, &ctl.ev, l2_guest_code, &l2_stack[L2_STACK_WORDS]);
	/* Authorise L2 as hvix64 does its root: see relay-contract.md. */
	*(u32 *)((u8 *)ctl.ev.vp_assist + 32) = 1;
	current_evmcs->hv_enlightenments_control.nested_flush_hypercall = 1;
	current_evmcs->hv_clean_fields = 0;

	for (;;) {
		GUEST_SYNC(0);
		if (l1_chunk())
			continue;
		l2_phase_done = 0;
		GUEST_ASSERT(!(launched ? vmresume() : vmlaunch()));
		launched = true;
		for (;;) {
			u32 reason = current_evmcs->vm_exit_reason;

			if (reason == EXIT_REASON_CPUID) {
				current_evmcs->guest_rip += 2;
				GUEST_ASSERT(!vmresume());
				continue;
			}
			GUEST_ASSERT_EQ(reason, EXIT_REASON_VMCALL);
			/* Anything else reaching L1 was not relayed. */
			GUEST_ASSERT(l2_phase_done);
			current_evmcs->guest_rip += 3;
			break;
		}
	}
}

static void l1_svm_code(struct svm_test_data *svm)
{
	unsigned long l2_stack[L2_STACK_WORDS];
	struct vmcb *vmcb = svm->vmcb;
	struct vmcb_control_area *c = &vmcb->control;

	l1_hyperv_setup();
	wrmsr(MSR_VP_ASSIST_PAGE, ctl.vp_assist_gpa | 1);
	*(u32 *)((u8 *)ctl.vp_assist + 32) = 1;	/* directhypercall */
#ifdef RELAY_LIB_GVA_T
	generic_svm_setup(svm, l2_guest_code);
#else
	generic_svm_setup(svm, l2_guest_code, &l2_stack[L2_STACK_WORDS]);
#endif
	vmcb->save.rsp = (u64)&l2_stack[L2_STACK_WORDS];
	c->hv_enlightenments.hv_enlightenments_control.nested_flush_hypercall = 1;
	c->intercept |= 1ULL << INTERCEPT_CPUID;
#ifdef SVM_MISC_ENABLE_NP
	c->misc_ctl |= SVM_MISC_ENABLE_NP;
#else
	c->nested_ctl |= SVM_NESTED_CTL_NP_ENABLE;
#endif
	c->nested_cr3 = ctl.ncr3;

	for (;;) {
		GUEST_SYNC(0);
		if (l1_chunk())
			continue;
		l2_phase_done = 0;
		for (;;) {
			run_guest(vmcb, svm->vmcb_gpa);
			if (c->exit_code == SVM_EXIT_CPUID) {
				vmcb->save.rip += 2;
				continue;
			}
			GUEST_ASSERT_EQ(c->exit_code, SVM_EXIT_VMMCALL);
			GUEST_ASSERT(l2_phase_done);
			vmcb->save.rip += 3;
			break;
		}
	}
}

/* ------------------------------------------------------------------ host */

static const char *ko_path;
static int iters = 1000, rounds = 3;
/* -m: only the memory figures, e.g. of another build of the module. */
static bool memory_only;

struct bench_vm {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	int eventfd;
	u8 msg[MSG_SIZE];
	u64 post_exits;
	u64 signals;
};

#define EPT_RWX		0x7ULL
#define EPT_WB		(6ULL << 3)
#define NPT_PRU		(BIT_ULL(0) | BIT_ULL(1) | BIT_ULL(2))

static u64 *table_page(struct kvm_vm *vm, u64 *gpa)
{
	relay_gva_t gva = relay_alloc_page(vm);

	*gpa = addr_gva2gpa(vm, gva);
	return addr_gva2hva(vm, gva);
}

/* L1's EPT/NPT for L2: 4K identity pages over memslot 0, as in relay_test. */
static u64 build_stage2(struct kvm_vm *vm, u64 table, u64 leaf, bool l1_levels)
{
	u64 size = memslot2region(vm, 0)->region.memory_size;
	u64 pml4_gpa, pdpt_gpa, pd_gpa, gpa, addr = 0;
	u64 *pml4, *pdpt, *pd, *pt;
	int i, j;

	TEST_ASSERT(size <= (1ULL << 30), "memslot 0 larger than 1 GiB");
	pml4 = table_page(vm, &pml4_gpa);
	pdpt = table_page(vm, &pdpt_gpa);
	pd = table_page(vm, &pd_gpa);
	pml4[0] = pdpt_gpa | table;
	pdpt[0] = pd_gpa | table;
	for (i = 0; addr < size; i++) {
		pt = table_page(vm, &gpa);
		pd[i] = gpa | table;
		for (j = 0; j < 512 && addr < size; j++, addr += 4096)
			pt[j] = addr | leaf;
	}
	if (l1_levels && relay_vm_levels(vm) == 5) {
		u64 pml5_gpa, *pml5 = table_page(vm, &pml5_gpa);

		pml5[0] = pml4_gpa | table;
		return pml5_gpa;
	}
	return pml4_gpa;
}

static void vm_setup(struct bench_vm *b)
{
	struct kvm_hyperv_eventfd hvevfd = { .conn_id = CONN_ID };
	struct vmx_pages *vmx = NULL;
	relay_gva_t arg_gva, gva;
	u8 *msg;
	int i;

	memset(b, 0, sizeof(*b));
	memset(&ctl, 0, sizeof(ctl));
	ctl.svm = kvm_cpu_has(X86_FEATURE_SVM);
	b->vm = vm_create_with_one_vcpu(&b->vcpu, ctl.svm ? (void *)l1_svm_code :
					(void *)l1_vmx_code);
	vcpu_set_hv_cpuid(b->vcpu);
	vcpu_enable_cap(b->vcpu, KVM_CAP_HYPERV_SYNIC2, 0);
	if (ctl.svm) {
		gva = relay_alloc_page(b->vm);
		ctl.vp_assist_gpa = addr_gva2gpa(b->vm, gva);
		ctl.vp_assist = (void *)gva;
		vcpu_alloc_svm(b->vm, &arg_gva);
		ctl.ncr3 = build_stage2(b->vm, NPT_PRU, NPT_PRU, true);
	} else {
		vcpu_enable_evmcs(b->vcpu);
		vmx = vcpu_alloc_vmx(b->vm, &arg_gva);
		relay_evmcs_pages(b->vm, vmx, &ctl.ev);
		vmx->eptp_gpa = build_stage2(b->vm, EPT_RWX, EPT_RWX | EPT_WB, false);
	}
	vcpu_args_set(b->vcpu, 1, arg_gva);

	/* An HvPostMessage input block: connection id, type, size, payload. */
	gva = relay_alloc_page(b->vm);
	ctl.msg_gpa = addr_gva2gpa(b->vm, gva) + 0x100;
	msg = addr_gpa2hva(b->vm, ctl.msg_gpa);
	for (i = 0; i < MSG_SIZE; i++)
		msg[i] = (u8)(i * 7 + 0x5a);
	*(u32 *)msg = 1;		/* vmbus connection id */
	*(u32 *)(msg + 4) = 1;		/* message type */
	*(u32 *)(msg + 8) = MSG_SIZE - 16;
	memcpy(b->msg, msg, MSG_SIZE);

	b->eventfd = eventfd(0, EFD_NONBLOCK);
	TEST_ASSERT(b->eventfd >= 0, "eventfd");
	hvevfd.fd = b->eventfd;
	vm_ioctl(b->vm, KVM_HYPERV_EVENTFD, &hvevfd);
	sync_global_to_guest(b->vm, ctl);
}

/* Run until L1's next GUEST_SYNC, answering Hyper-V exits like a VMM. */
static void run_to_sync(struct bench_vm *b, enum cmd cmd)
{
	struct kvm_run *run = b->vcpu->run;
	u8 got[MSG_SIZE];
	struct ucall uc;

	for (;;) {
		vcpu_run(b->vcpu);
		if (run->exit_reason == KVM_EXIT_HYPERV) {
			if (run->hyperv.type == KVM_EXIT_HYPERV_SYNIC)
				continue;	/* L1's SCONTROL write */
			TEST_ASSERT(run->hyperv.type == KVM_EXIT_HYPERV_HCALL,
				    "KVM_EXIT_HYPERV of type %u", run->hyperv.type);
			TEST_ASSERT(run->hyperv.u.hcall.input == HC_POST &&
				    (cmd == CMD_L1_POST || cmd == CMD_L2_POST),
				    "unexpected hypercall exit 0x%llx in command %d",
				    (unsigned long long)run->hyperv.u.hcall.input, cmd);
			/* What a VMM does: read the message where params[0] says. */
			memcpy(got, addr_gpa2hva(b->vm, run->hyperv.u.hcall.params[0]),
			       MSG_SIZE);
			TEST_ASSERT(!memcmp(got, b->msg, MSG_SIZE),
				    "message at params[0] 0x%llx is not the one posted",
				    (unsigned long long)run->hyperv.u.hcall.params[0]);
			run->hyperv.u.hcall.result = 0;
			b->post_exits++;
			continue;
		}
		TEST_ASSERT(run->exit_reason == KVM_EXIT_IO, "unexpected exit %u (%s)",
			    run->exit_reason, exit_reason_str(run->exit_reason));
		switch (get_ucall(b->vcpu, &uc)) {
		case UCALL_SYNC:
			return;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			break;
		case UCALL_DONE:
			return;
		default:
			TEST_FAIL("unknown ucall %lu", (unsigned long)uc.cmd);
		}
	}
}

/* Samples of one condition, pooled over the rounds. */
struct cond {
	const char *name;
	u64 *s;
	int n;
	int round_start[16];
};

enum {
	C_CPUID_ABSENT, C_CPUID_ABSENT2, C_CPUID_LOADED, C_CPUID_ENABLED,
	C_POST_ABSENT, C_POST_LOADED, C_POST_ENABLED,
	C_SIGNAL_ABSENT, C_SIGNAL_ENABLED,
	C_RELAY_POST, C_RELAY_SIGNAL, C_NR,
};

static struct cond conds[C_NR] = {
	[C_CPUID_ABSENT] = { "L2 CPUID -> L1, module absent" },
	[C_CPUID_ABSENT2] = { "L2 CPUID -> L1, module absent (repeat)" },
	[C_CPUID_LOADED] = { "L2 CPUID -> L1, module loaded" },
	[C_CPUID_ENABLED] = { "L2 CPUID -> L1, relay enabled on the VM" },
	[C_POST_ABSENT] = { "L1 HvPostMessage, module absent" },
	[C_POST_LOADED] = { "L1 HvPostMessage, module loaded" },
	[C_POST_ENABLED] = { "L1 HvPostMessage, relay enabled" },
	[C_SIGNAL_ABSENT] = { "L1 HvSignalEvent eventfd, module absent" },
	[C_SIGNAL_ENABLED] = { "L1 HvSignalEvent eventfd, relay enabled" },
	[C_RELAY_POST] = { "L2 HvPostMessage, relayed" },
	[C_RELAY_SIGNAL] = { "L2 HvSignalEvent eventfd, relayed" },
};

static void chunk(struct bench_vm *b, enum cmd cmd, int c, int round)
{
	struct cond *cd = &conds[c];
	u64 exits = b->post_exits;

	ctl.cmd = cmd;
	ctl.iters = iters;
	ctl.warmup = WARMUP;
	sync_global_to_guest(b->vm, ctl);
	run_to_sync(b, cmd);
	sync_global_from_guest(b->vm, samples);

	if (cmd == CMD_L1_POST || cmd == CMD_L2_POST)
		TEST_ASSERT(b->post_exits - exits == (u64)(iters + WARMUP),
			    "%s: %llu exits for %d posts", cd->name,
			    (unsigned long long)(b->post_exits - exits), iters + WARMUP);
	if (cmd == CMD_L1_SIGNAL || cmd == CMD_L2_SIGNAL)
		b->signals += iters + WARMUP;
	cd->round_start[round] = cd->n;
	memcpy(cd->s + cd->n, samples, iters * sizeof(u64));
	cd->n += iters;
}

static void vm_finish(struct bench_vm *b)
{
	u64 count = 0;

	ctl.cmd = CMD_DONE;
	sync_global_to_guest(b->vm, ctl);
	run_to_sync(b, CMD_DONE);
	TEST_ASSERT(read(b->eventfd, &count, sizeof(count)) == sizeof(count) &&
		    count == b->signals, "eventfd counted %llu of %llu signals",
		    (unsigned long long)count, (unsigned long long)b->signals);
	close(b->eventfd);
	kvm_vm_free(b->vm);
}

/* ------------------------------------------------------- module control */

static bool module_loaded(void)
{
	return access("/sys/module/" MODULE_NAME, F_OK) == 0;
}

static void module_load(void)
{
	int fd = open(ko_path, O_RDONLY | O_CLOEXEC);

	TEST_ASSERT(fd >= 0, "open %s", ko_path);
	TEST_ASSERT(!syscall(__NR_finit_module, fd, "", 0), "loading %s: errno %d",
		    ko_path, errno);
	close(fd);
}

/* VM state is freed by RCU callbacks: retry while the module is busy. */
static void module_unload(void)
{
	int i;

	for (i = 0; i < 500 && module_loaded(); i++) {
		if (!syscall(__NR_delete_module, MODULE_NAME, O_NONBLOCK))
			return;
		TEST_ASSERT(errno == EWOULDBLOCK || errno == EBUSY || errno == EAGAIN,
			    "rmmod: errno %d", errno);
		usleep(10000);
	}
	TEST_ASSERT(!module_loaded(), "cannot unload " MODULE_NAME);
}

static void relay_enable(struct kvm_vm *vm, u64 mask)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_NESTED_HYPERV_HCALL_RELAY,
		.args = { mask },
	};

	TEST_ASSERT(!__vm_ioctl(vm, KVM_ENABLE_CAP, &cap),
		    "KVM_ENABLE_CAP(relay, 0x%llx)", (unsigned long long)mask);
}

/* ------------------------------------------- allocation count (tracefs) */

static const char *tracefs;
static char trace_names[256];
static bool trace_named;
static const char * const alloc_events[] = {
	"kmem/kmalloc", "kmem/kmalloc_node", "kmem/kmem_cache_alloc",
	"kmem/kmem_cache_alloc_node", "kmem/mm_page_alloc",
	"vmalloc/alloc_vmap_area", "percpu/percpu_alloc_percpu",
};

static bool write_file(const char *dir, const char *name, const char *s, int flags)
{
	char path[256];
	int fd, len = strlen(s);
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | flags);
	if (fd < 0)
		return false;
	ok = write(fd, s, len) == len;
	close(fd);
	return ok;
}

static bool trace_setup(void)
{
	if (access("/sys/kernel/tracing/trace", F_OK))
		mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
	if (!access("/sys/kernel/tracing/trace", F_OK))
		tracefs = "/sys/kernel/tracing";
	else if (!access("/sys/kernel/debug/tracing/trace", F_OK))
		tracefs = "/sys/kernel/debug/tracing";
	return tracefs != NULL;
}

/*
 * Arm the allocation events for this process with recording off, so that
 * arming itself is not counted; returns how many of them this kernel has.
 */
static int trace_arm(bool on)
{
	char pid[32], path[256];
	size_t i;
	int n = 0;

	write_file(tracefs, "tracing_on", "0", 0);
	if (on) {
		snprintf(pid, sizeof(pid), "%d", getpid());
		write_file(tracefs, "set_event_pid", pid, O_TRUNC);
		write_file(tracefs, "trace", "", O_TRUNC);
	}
	for (i = 0; i < ARRAY_SIZE(alloc_events); i++) {
		snprintf(path, sizeof(path), "events/%s/enable", alloc_events[i]);
		if (write_file(tracefs, path, on ? "1" : "0", 0)) {
			n++;
			if (on && !trace_named)
				snprintf(trace_names + strlen(trace_names),
					 sizeof(trace_names) - strlen(trace_names),
					 " %s", alloc_events[i]);
		}
	}
	trace_named |= on;
	if (!on) {
		write_file(tracefs, "set_event_pid", "", O_TRUNC);
		write_file(tracefs, "tracing_on", "1", 0);
	}
	return n;
}

/* Events recorded; if more than @expected, the first few are shown. */
static long trace_count(const char *what, long expected)
{
	char path[256], line[512];
	long n = 0, shown = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace", tracefs);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += line[0] != '#' && line[0] != '\n';
	rewind(f);
	while (expected >= 0 && n > expected && shown < 5 && fgets(line, sizeof(line), f))
		if (line[0] != '#' && line[0] != '\n' && ++shown)
			printf("#   %s: %s", what, line);
	fclose(f);
	return n;
}

/*
 * Allocation events in this process across one untimed chunk of @n calls of
 * @cmd, including what the harness itself does around a chunk.
 */
static long count_allocs(struct bench_vm *b, enum cmd cmd, int n, const char *what,
			 long expected)
{
	u64 exits = b->post_exits;

	ctl.cmd = cmd;
	ctl.iters = n;
	ctl.warmup = 0;
	sync_global_to_guest(b->vm, ctl);
	if (trace_arm(true) <= 0)
		return -1;
	write_file(tracefs, "tracing_on", "1", 0);
	run_to_sync(b, cmd);
	write_file(tracefs, "tracing_on", "0", 0);
	trace_arm(false);
	if (cmd == CMD_L1_SIGNAL || cmd == CMD_L2_SIGNAL)
		b->signals += n;
	TEST_ASSERT(cmd != CMD_L2_POST || b->post_exits - exits == (u64)n,
		    "untimed relayed posts did not all exit");
	return trace_count(what, expected);
}

/*
 * Do the armed events record anything at all?  An open() allocates a
 * struct file (kmem_cache_alloc); without that, "0 allocations" would only
 * mean that nothing was counted.
 */
static long trace_control(void)
{
	int fd;

	if (trace_arm(true) <= 0)
		return -1;
	write_file(tracefs, "tracing_on", "1", 0);
	fd = open("/dev/null", O_RDONLY);
	write_file(tracefs, "tracing_on", "0", 0);
	if (fd >= 0)
		close(fd);
	trace_arm(false);
	return trace_count("control", -1);
}

/* -------------------------------------------------------------- results */

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static double pct(const u64 *s, int n, double p)
{
	u64 *t = malloc(n * sizeof(*t));
	double v;

	TEST_ASSERT(t, "malloc");
	memcpy(t, s, n * sizeof(*t));
	qsort(t, n, sizeof(*t), cmp_u64);
	v = t[(int)(p * (n - 1) + 0.5)];
	free(t);
	return v;
}

static double median(int c)
{
	return pct(conds[c].s, conds[c].n, 0.5);
}

/* Median of @c over two conditions pooled (the absent CPUID baseline). */
static double median2(int a, int b)
{
	int n = conds[a].n + conds[b].n;
	u64 *t = malloc(n * sizeof(*t));
	double v;

	TEST_ASSERT(t, "malloc");
	memcpy(t, conds[a].s, conds[a].n * sizeof(*t));
	memcpy(t + conds[a].n, conds[b].s, conds[b].n * sizeof(*t));
	v = pct(t, n, 0.5);
	free(t);
	return v;
}

static double round_median(int c, int r)
{
	return pct(conds[c].s + conds[c].round_start[r], iters, 0.5);
}

static void one_round(int r, bool last)
{
	struct bench_vm b;
	long v;

	if (module_loaded())
		module_unload();
	vm_setup(&b);
	run_to_sync(&b, CMD_DONE);	/* L1 set up, at its first GUEST_SYNC */

	/* Stock KVM. */
	chunk(&b, CMD_L2_CPUID, C_CPUID_ABSENT, r);
	chunk(&b, CMD_L1_POST, C_POST_ABSENT, r);
	chunk(&b, CMD_L1_SIGNAL, C_SIGNAL_ABSENT, r);
	chunk(&b, CMD_L2_CPUID, C_CPUID_ABSENT2, r);

	/* Module loaded, this VM without relay state. */
	module_load();
	chunk(&b, CMD_L2_CPUID, C_CPUID_LOADED, r);
	chunk(&b, CMD_L1_POST, C_POST_LOADED, r);

	/* Relay enabled on this VM. */
	relay_enable(b.vm, KVM_NESTED_HYPERV_RELAY_ALL);
	chunk(&b, CMD_L2_CPUID, C_CPUID_ENABLED, r);
	chunk(&b, CMD_L2_POST, C_RELAY_POST, r);
	chunk(&b, CMD_L2_SIGNAL, C_RELAY_SIGNAL, r);
	chunk(&b, CMD_L1_POST, C_POST_ENABLED, r);
	chunk(&b, CMD_L1_SIGNAL, C_SIGNAL_ENABLED, r);

	v = relay_vm_counter(b.vm, "post_exits");
	TEST_ASSERT(v == iters + WARMUP, "module counted %ld relayed posts, want %d",
		    v, iters + WARMUP);
	v = relay_vm_counter(b.vm, "signal_eventfd");
	TEST_ASSERT(v == iters + WARMUP, "module counted %ld eventfd signals, want %d",
		    v, iters + WARMUP);

	if (last) {
		long post, sig, floor, empty, control;

		/* A figure that could not be measured fails; it is never a 0. */
		TEST_ASSERT(trace_setup(),
			    "no tracefs at /sys/kernel/tracing or /sys/kernel/debug/tracing: allocation events cannot be counted");
		control = trace_control();
		TEST_ASSERT(control > 0,
			    "allocation events%s armed, but an open() recorded %ld of them: they cannot be counted",
			    trace_named ? trace_names : " (none)", control);
		/* The harness's own share: a chunk of no calls. */
		empty = count_allocs(&b, CMD_L1_POST, 0, "chunk of 0 calls", -1);
		post = count_allocs(&b, CMD_L2_POST, iters, "relayed posts", empty);
		sig = count_allocs(&b, CMD_L2_SIGNAL, iters, "relayed signals", empty);
		floor = count_allocs(&b, CMD_L1_POST, iters, "non-nested posts", empty);
		TEST_ASSERT(empty >= 0 && post >= 0 && sig >= 0 && floor >= 0,
			    "allocation events could not be armed or read back");
		printf("# allocation events: an open() of /dev/null as control: %ld\n", control);
		printf("# allocation events traced for this process:%s (%s)\n",
		       trace_names, tracefs);
		printf("# allocation events: chunk of 0 calls %ld, %d relayed posts %ld, %d relayed signals %ld, %d non-nested posts %ld\n",
		       empty, iters, post, iters, sig, iters, floor);
		printf("relay alloc events: %ld in %d relayed posts, %ld in %d relayed signals\n",
		       post - empty, iters, sig - empty, iters);
		printf("floor alloc events: %ld in %d non-nested posts\n", floor - empty, iters);
		v = relay_vm_counter(b.vm, "fault_in");
		printf("# module counters: post_exits %ld, signal_eventfd %ld, completed %ld, fault_in %ld, rejected %ld\n",
		       relay_vm_counter(b.vm, "post_exits"), relay_vm_counter(b.vm, "signal_eventfd"),
		       relay_vm_counter(b.vm, "completed"), v, relay_vm_counter(b.vm, "rejected"));
	}
	vm_finish(&b);
	module_unload();

	printf("# round %d: relay post %.3f, nested exit loaded %.3f, enabled %.3f, relay signal %.3f, control %.3f\n",
	       r + 1,
	       round_median(C_RELAY_POST, r) / round_median(C_POST_ABSENT, r),
	       round_median(C_CPUID_LOADED, r) / round_median(C_CPUID_ABSENT, r),
	       round_median(C_CPUID_ENABLED, r) / round_median(C_CPUID_ABSENT, r),
	       round_median(C_RELAY_SIGNAL, r) / round_median(C_SIGNAL_ABSENT, r),
	       round_median(C_CPUID_ABSENT2, r) / round_median(C_CPUID_ABSENT, r));
	fflush(stdout);
}

/* The bytes of relay state a VM of @n vCPUs gets by enabling the relay. */
static long state_bytes(int n)
{
	struct kvm_vm *vm = vm_create_barebones();
	long base = relay_state_value("live_bytes"), bytes;
	int i;

	for (i = 0; i < n; i++)
		__vm_vcpu_add(vm, i);
	relay_enable(vm, KVM_NESTED_HYPERV_RELAY_ALL);
	bytes = relay_state_value("live_bytes") - base;
	kvm_vm_free(vm);
	return base < 0 ? -1 : bytes;
}

/*
 * Measured, not computed from the structure sizes: the growth of the
 * module's live_bytes, which the relay_vcpus selftest checks against the
 * kernel's kmalloc caches.
 */
static void memory(void)
{
	static const int sizes[] = { 1, 4, 64 };
	long bytes[3], max_vcpus, chunk;
	struct kvm_vm *vm;
	int i;

	module_load();
	vm = vm_create_barebones();
	max_vcpus = __vm_ioctl(vm, KVM_CHECK_EXTENSION, (void *)(long)KVM_CAP_MAX_VCPUS);
	kvm_vm_free(vm);
	for (i = 0; i < 3; i++)
		bytes[i] = state_bytes(sizes[i]);
	chunk = relay_state_value("chunk_vcpus");
	printf("# per-VM state: struct relay_vm %ld bytes, struct relay_vcpu %ld bytes\n",
	       relay_state_value("vm_bytes"), relay_state_value("vcpu_bytes"));
	if (chunk > 0)
		printf("# a pointer per %ld of max_vcpus %ld, a chunk per %ld vCPUs created\n",
		       chunk, max_vcpus, chunk);
	else
		printf("# one struct relay_vcpu per possible vCPU, max_vcpus %ld\n", max_vcpus);
	module_unload();
	if (bytes[0] < 0) {
		printf("# %s has no live_bytes line\n", RELAY_STATE_FILE);
		for (i = 0; i < 3; i++)
			printf("state bytes %d-vcpu vm: n/a\n", sizes[i]);
		return;
	}
	for (i = 0; i < 3; i++)
		printf("state bytes %d-vcpu vm: %ld\n", sizes[i], bytes[i]);
}

int main(int argc, char *argv[])
{
	struct utsname u;
	int opt, c, r;

	while ((opt = getopt(argc, argv, "mn:r:")) != -1) {
		if (opt == 'm')
			memory_only = true;
		else if (opt == 'n')
			iters = atoi(optarg);
		else if (opt == 'r')
			rounds = atoi(optarg);
	}
	TEST_ASSERT(optind < argc, "usage: %s [-m] [-n iters] [-r rounds] kvm_hv_relay.ko",
		    argv[0]);
	ko_path = argv[optind];
	TEST_ASSERT(iters > 0 && iters <= MAX_ITERS && rounds > 0 && rounds <= 16,
		    "1 <= iterations <= %d, 1 <= rounds <= 16", MAX_ITERS);

	TEST_REQUIRE(kvm_cpu_has(X86_FEATURE_VMX) || kvm_cpu_has(X86_FEATURE_SVM));
	if (kvm_cpu_has(X86_FEATURE_SVM))
		TEST_REQUIRE(kvm_cpu_has(X86_FEATURE_NPT));
	else
		TEST_REQUIRE(kvm_has_cap(KVM_CAP_HYPERV_ENLIGHTENED_VMCS));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_HYPERV_SYNIC2));

	if (memory_only) {
		memory();
		return 0;
	}
	for (c = 0; c < C_NR; c++) {
		conds[c].s = calloc((size_t)iters * rounds, sizeof(u64));
		TEST_ASSERT(conds[c].s, "calloc");
	}
	uname(&u);
	printf("# relay_bench: kernel %s, vendor %s, %d calls x %d rounds per condition (+%d warm-up), guest RDTSC\n",
	       u.release, kvm_cpu_has(X86_FEATURE_SVM) ? "amd" : "intel", iters,
	       rounds, WARMUP);
	fflush(stdout);

	for (r = 0; r < rounds; r++)
		one_round(r, r == rounds - 1);

	printf("# condition: p10 / median / p90, TSC ticks (emulated: relative only)\n");
	for (c = 0; c < C_NR; c++)
		printf("#   %-44s %9.0f %9.0f %9.0f  (n=%d)\n", conds[c].name,
		       pct(conds[c].s, conds[c].n, 0.1), median(c),
		       pct(conds[c].s, conds[c].n, 0.9), conds[c].n);
	printf("# relayed post / floor with the module loaded and enabled: %.2f\n",
	       median(C_RELAY_POST) / median(C_POST_ENABLED));
	printf("# floor post, module loaded / absent: %.3f; enabled / absent: %.3f\n",
	       median(C_POST_LOADED) / median(C_POST_ABSENT),
	       median(C_POST_ENABLED) / median(C_POST_ABSENT));
	printf("# floor signal, enabled / absent: %.3f\n",
	       median(C_SIGNAL_ENABLED) / median(C_SIGNAL_ABSENT));

	printf("# the same ratios to 3 decimals: post %.3f, loaded %.3f, enabled %.3f, control %.3f, signal %.3f\n",
	       median(C_RELAY_POST) / median(C_POST_ABSENT),
	       median(C_CPUID_LOADED) / median2(C_CPUID_ABSENT, C_CPUID_ABSENT2),
	       median(C_CPUID_ENABLED) / median2(C_CPUID_ABSENT, C_CPUID_ABSENT2),
	       median(C_CPUID_ABSENT2) / median(C_CPUID_ABSENT),
	       median(C_RELAY_SIGNAL) / median(C_SIGNAL_ABSENT));
	printf("relay post ratio: %.2f\n", median(C_RELAY_POST) / median(C_POST_ABSENT));
	printf("nested exit ratio loaded: %.2f\n",
	       median(C_CPUID_LOADED) / median2(C_CPUID_ABSENT, C_CPUID_ABSENT2));
	printf("nested exit ratio enabled: %.2f\n",
	       median(C_CPUID_ENABLED) / median2(C_CPUID_ABSENT, C_CPUID_ABSENT2));
	printf("nested exit ratio control: %.2f\n",
	       median(C_CPUID_ABSENT2) / median(C_CPUID_ABSENT));
	printf("relay signal ratio: %.2f\n", median(C_RELAY_SIGNAL) / median(C_SIGNAL_ABSENT));
	memory();
	return 0;
}
