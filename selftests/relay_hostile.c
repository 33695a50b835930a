// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay_hostile: a VMM that misuses the relay's uAPI.
 *
 * - KVM_ENABLE_CAP with unknown class bits, flags, args[1..3], a bad pointer,
 *   from a process other than the VM's: fails as stock KVM or as documented,
 *   creates no state and leaves existing state as it was;
 * - the capability on a vCPU fd and on /dev/kvm: fails exactly as an
 *   unknown capability does there (the module must not answer);
 * - a relayed KVM_EXIT_HYPERV never completed: the VMM frees the VM, or its
 *   process exits; the state goes (debugfs "vms:"), the module's refcount
 *   returns to its baseline (/sys/module/kvm_hv_relay/refcnt) and, given the
 *   module's path, the module unloads and loads again;
 * - the VMM moves L2's RIP (KVM_SET_REGS) before completing: the completion
 *   must not write L2's registers (L2 sees the VMM's RAX, the per-VM file
 *   counts a stale completion);
 * - the VMM disables the relay, or asks for an immediate exit, before
 *   completing: the call is still completed exactly once.
 *
 * Each case runs in a child process and prints one TAP line.
 *
 * testbed-args: /lib/mods/kvm_hv_relay.ko
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"
#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#include "lib/relay_nested.h"

#define RESULT		0x1234567890abcdefULL
#define MARKER		0x5a5a5a5a5a5a5a5aULL
/* A capability number KVM does not know, next to ours. */
#define UNKNOWN_CAP	(KVM_CAP_NESTED_HYPERV_HCALL_RELAY + 1)

static long base_vms, base_refcnt;
static const char *module_path;


static void expect_baseline(const char *when)
{
	relay_expect_baseline(when, base_vms, base_refcnt);
}

/* --- the nested VM: L2 makes one relayed fast HvPostMessage ---------------- */

struct hostile_l2 {
	u64 input, p0, p1;
	u64 rax;
	u64 done;
};

static struct hostile_l2 hostile_l2;

static void l2_code(void)
{
	struct relay_hc_regs after;

	relay_l2_hypercall(hostile_l2.input, hostile_l2.p0, hostile_l2.p1, &after);
	WRITE_ONCE(hostile_l2.rax, after.rax);
	WRITE_ONCE(hostile_l2.done, 1);
	relay_l2_back_to_l1();
}

#define SYNC_L1_SAW_VMCALL	1

static void l1_code(void *nested, struct relay_l1 *l1)
{
	relay_l1_setup(l1, nested);
	relay_l1_enter(l1, nested, true);
	for (;;) {
		if (READ_ONCE(hostile_l2.done))
			GUEST_DONE();
		GUEST_SYNC(SYNC_L1_SAW_VMCALL);
		relay_l1_skip(nested);
		relay_l1_enter(l1, nested, false);
	}
}

static struct kvm_vm *nested_vm(struct kvm_vcpu **vcpu)
{
	struct relay_nested_vcpu nv;
	struct kvm_vm *vm = vm_create_with_one_vcpu(vcpu, l1_code);

	relay_nested_vcpu_init(vm, *vcpu, &nv);
	nv.l1->mode = L2_LONG;
	nv.l1->direct_hypercall = 1;
	nv.l1->nested_flush = 1;
	nv.l1->l2_rip = (u64)l2_code;
	nv.l1->l2_rsp = relay_alloc_page(vm) + 4096;
	hostile_l2 = (struct hostile_l2) {
		.input = HC_NESTED | HC_FAST | HC_POST, .p0 = 0x1111, .p1 = 0x2222,
	};
	sync_global_to_guest(vm, hostile_l2);
	TEST_ASSERT(!relay_enable(vm, KVM_NESTED_HYPERV_RELAY_ALL), "enable");
	return vm;
}

/* Run until the relayed exit, which is checked. */
static void run_to_exit(struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	vcpu_run(vcpu);
	TEST_ASSERT(run->exit_reason == KVM_EXIT_HYPERV &&
		    run->hyperv.type == KVM_EXIT_HYPERV_HCALL,
		    "want the relayed KVM_EXIT_HYPERV, got exit %u (%s)",
		    run->exit_reason, exit_reason_str(run->exit_reason));
	TEST_ASSERT(run->hyperv.u.hcall.input == (HC_FAST | HC_POST) &&
		    run->hyperv.u.hcall.params[0] == 0x1111 &&
		    run->hyperv.u.hcall.params[1] == 0x2222, "relayed exit fields");
}

/* Run to the end; L1 must not have seen the call, nor may another exit come. */
static u64 run_to_done(struct kvm_vm *vm, struct kvm_vcpu *vcpu)
{
	struct ucall uc;

	vcpu_run(vcpu);
	TEST_ASSERT(vcpu->run->exit_reason == KVM_EXIT_IO, "exit %u (%s) after completion",
		    vcpu->run->exit_reason, exit_reason_str(vcpu->run->exit_reason));
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_DONE:
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	default:
		TEST_FAIL("L1 saw the relayed call (ucall %lu)", (unsigned long)uc.cmd);
	}
	sync_global_from_guest(vm, hostile_l2);
	return hostile_l2.rax;
}

/* --- KVM_ENABLE_CAP misuse -------------------------------------------------- */

struct bad_cap {
	const char *what;
	u32 flags;
	u64 args[4];
};

static void bad_caps(struct kvm_vm *vm, const char *when)
{
	static const struct bad_cap bad[] = {
		{ "flags 1", .flags = 1, .args = { 3 } },
		{ "flags ~0", .flags = ~0U, .args = { 0 } },
		{ "args[1]", .args = { 3, 1 } },
		{ "args[2]", .args = { 3, 0, ~0ULL } },
		{ "args[3]", .args = { 0, 0, 0, 1ULL << 63 } },
	};
	struct kvm_enable_cap cap = { .cap = KVM_CAP_NESTED_HYPERV_HCALL_RELAY };
	size_t i;
	int bit, r;

	for (bit = 2; bit < 64; bit++) {
		cap.args[0] = KVM_NESTED_HYPERV_RELAY_ALL | BIT_ULL(bit);
		r = __vm_ioctl(vm, KVM_ENABLE_CAP, &cap);
		TEST_ASSERT(r == -1 && errno == EINVAL, "%s: class bit %d: %d errno %d",
			    when, bit, r, errno);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		cap.flags = bad[i].flags;
		memcpy(cap.args, bad[i].args, sizeof(cap.args));
		r = __vm_ioctl(vm, KVM_ENABLE_CAP, &cap);
		TEST_ASSERT(r == -1 && errno == EINVAL, "%s: %s: %d errno %d", when,
			    bad[i].what, r, errno);
	}
	/* The kernel copies the argument before any hook can look at it. */
	r = ioctl(vm->fd, KVM_ENABLE_CAP, (void *)8);
	TEST_ASSERT(r == -1 && errno == EFAULT, "%s: bad pointer: %d errno %d", when,
		    r, errno);
}

static void case_bad_args(void)
{
	struct kvm_vm *vm = vm_create_barebones();

	bad_caps(vm, "without state");
	TEST_ASSERT(relay_state_value("vms") == base_vms,
		    "rejected KVM_ENABLE_CAPs created relay state");
	TEST_ASSERT(!relay_enable(vm, KVM_NESTED_HYPERV_RELAY_SIGNAL_EVENT), "enable");
	bad_caps(vm, "with state");
	TEST_ASSERT(relay_vm_counter(vm, "mask") == KVM_NESTED_HYPERV_RELAY_SIGNAL_EVENT,
		    "rejected KVM_ENABLE_CAPs changed the mask to 0x%lx",
		    relay_vm_counter(vm, "mask"));
	kvm_vm_free(vm);
	expect_baseline("after the VM");
}

/* The capability where KVM_ENABLE_CAP means something else, or nothing. */
static void case_wrong_fd(void)
{
	struct kvm_enable_cap ours = { .cap = KVM_CAP_NESTED_HYPERV_HCALL_RELAY,
				       .args = { KVM_NESTED_HYPERV_RELAY_ALL } };
	struct kvm_enable_cap unknown = { .cap = UNKNOWN_CAP,
					  .args = { KVM_NESTED_HYPERV_RELAY_ALL } };
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create_with_one_vcpu(&vcpu, l1_code);
	int r1, e1, r2, e2, kvm_fd;

	r1 = ioctl(vcpu->fd, KVM_ENABLE_CAP, &ours);
	e1 = errno;
	r2 = ioctl(vcpu->fd, KVM_ENABLE_CAP, &unknown);
	e2 = errno;
	TEST_ASSERT(r1 == -1 && r1 == r2 && e1 == e2,
		    "vCPU fd: %d errno %d, an unknown capability: %d errno %d", r1, e1,
		    r2, e2);

	kvm_fd = open_kvm_dev_path_or_exit();
	r1 = ioctl(kvm_fd, KVM_ENABLE_CAP, &ours);
	e1 = errno;
	r2 = ioctl(kvm_fd, KVM_ENABLE_CAP, &unknown);
	e2 = errno;
	close(kvm_fd);
	TEST_ASSERT(r1 == -1 && r1 == r2 && e1 == e2,
		    "/dev/kvm: %d errno %d, an unknown capability: %d errno %d", r1, e1,
		    r2, e2);
	TEST_ASSERT(relay_state_value("vms") == base_vms, "state created");
	kvm_vm_free(vm);
}

/* A process that shares the VM fd but not the mm: KVM refuses (EIO). */
static void case_foreign_process(void)
{
	struct kvm_vm *vm = vm_create_barebones();
	int status;
	pid_t pid;

	/* Buffered TAP lines must not be printed again by the child. */
	fflush(stdout);
	pid = fork();

	if (!pid) {
		int r = relay_enable(vm, KVM_NESTED_HYPERV_RELAY_ALL);

		_exit(r == -1 && errno == EIO ? 0 : 1);
	}
	TEST_ASSERT(pid > 0 && waitpid(pid, &status, 0) == pid, "fork");
	TEST_ASSERT(WIFEXITED(status) && !WEXITSTATUS(status),
		    "KVM_ENABLE_CAP from another process did not fail with EIO");
	TEST_ASSERT(relay_state_value("vms") == base_vms, "state created");
	kvm_vm_free(vm);
}

/* --- a relayed exit never completed ------------------------------------------- */

static void case_exit_then_free(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = nested_vm(&vcpu);

	run_to_exit(vcpu);
	TEST_ASSERT(relay_state_value("vms") == base_vms + 1, "no relay state");
	TEST_ASSERT(relay_module_refcnt() > base_refcnt, "relay state does not pin the module");
	kvm_vm_free(vm);
	expect_baseline("VM freed with a pending completion");
}

static void case_exit_then_process_exit(void)
{
	int status;
	pid_t pid;

	/* Buffered TAP lines must not be printed again by the child. */
	fflush(stdout);
	pid = fork();

	if (!pid) {
		struct kvm_vcpu *vcpu;

		nested_vm(&vcpu);
		run_to_exit(vcpu);
		/* No KVM_RUN, no close, no free: the kernel cleans up. */
		_exit(0);
	}
	TEST_ASSERT(pid > 0 && waitpid(pid, &status, 0) == pid, "fork");
	TEST_ASSERT(WIFEXITED(status) && !WEXITSTATUS(status), "the VMM child failed");
	expect_baseline("VMM exited with a pending completion");
}

static void case_rmmod_after(void)
{
	int fd;

	expect_baseline("before rmmod");
	TEST_ASSERT(!syscall(__NR_delete_module, "kvm_hv_relay", O_NONBLOCK),
		    "rmmod after the abandoned completions: errno %d", errno);
	fd = open(module_path, O_RDONLY | O_CLOEXEC);
	TEST_ASSERT(fd >= 0, "open %s", module_path);
	TEST_ASSERT(!syscall(__NR_finit_module, fd, "", 0), "loading %s: errno %d",
		    module_path, errno);
	close(fd);
	TEST_ASSERT(kvm_check_cap(KVM_CAP_NESTED_HYPERV_HCALL_RELAY) ==
		    KVM_NESTED_HYPERV_RELAY_ALL, "capability back after reload");
}

/* --- the VMM changes the vCPU before completing --------------------------------- */

static void case_set_rip_before_completion(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = nested_vm(&vcpu);
	struct kvm_regs regs;
	u64 rax;

	run_to_exit(vcpu);
	vcpu->run->hyperv.u.hcall.result = RESULT;
	/* The VMM completes the call its own way: past the VMCALL, its RAX. */
	vcpu_regs_get(vcpu, &regs);
	regs.rip += 3;
	regs.rax = MARKER;
	vcpu_regs_set(vcpu, &regs);

	rax = run_to_done(vm, vcpu);
	TEST_ASSERT(rax == MARKER, "L2's RAX 0x%llx: the stale completion wrote it",
		    (unsigned long long)rax);
	TEST_ASSERT(relay_vm_counter(vm, "stale_completions") == 1 &&
		    relay_vm_counter(vm, "completed") == 0,
		    "stale_completions %ld completed %ld, want 1 and 0",
		    relay_vm_counter(vm, "stale_completions"),
		    relay_vm_counter(vm, "completed"));
	kvm_vm_free(vm);
}

static void case_mask_cleared_before_completion(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = nested_vm(&vcpu);
	u64 rax;

	run_to_exit(vcpu);
	vcpu->run->hyperv.u.hcall.result = RESULT;
	TEST_ASSERT(!relay_enable(vm, 0), "disable");
	rax = run_to_done(vm, vcpu);
	TEST_ASSERT(rax == RESULT, "L2's RAX 0x%llx, want the VMM's result",
		    (unsigned long long)rax);
	TEST_ASSERT(relay_vm_counter(vm, "completed") == 1, "completion not counted");
	kvm_vm_free(vm);
}

static void case_immediate_exit_before_completion(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = nested_vm(&vcpu);
	u8 *immediate_exit = (u8 *)&vcpu->run->immediate_exit;
	int r;
	u64 rax;

	run_to_exit(vcpu);
	vcpu->run->hyperv.u.hcall.result = RESULT;
	WRITE_ONCE(*immediate_exit, 1);
	r = __vcpu_run(vcpu);
	WRITE_ONCE(*immediate_exit, 0);
	TEST_ASSERT(r == -1 && errno == EINTR, "KVM_RUN with immediate_exit: %d errno %d",
		    r, errno);
	rax = run_to_done(vm, vcpu);
	TEST_ASSERT(rax == RESULT, "L2's RAX 0x%llx, want the VMM's result",
		    (unsigned long long)rax);
	TEST_ASSERT(relay_vm_counter(vm, "completed") == 1 &&
		    relay_vm_counter(vm, "post_exits") == 1,
		    "completed %ld post_exits %ld, want 1 and 1",
		    relay_vm_counter(vm, "completed"), relay_vm_counter(vm, "post_exits"));
	kvm_vm_free(vm);
}

/* --- the table ------------------------------------------------------------------ */

struct hostile_case {
	const char *name;
	void (*fn)(void);
	bool nested;		/* needs nested virtualization */
	bool module_path;	/* needs the module's path */
};

static const struct hostile_case cases[] = {
	{ "hostile_enable_cap_bad_args", case_bad_args },
	{ "hostile_enable_cap_on_vcpu_and_dev_kvm", case_wrong_fd },
	{ "hostile_enable_cap_from_foreign_process", case_foreign_process },
	{ "hostile_pending_exit_vm_freed", case_exit_then_free, true },
	{ "hostile_pending_exit_vmm_exited", case_exit_then_process_exit, true },
	{ "hostile_pending_exit_then_rmmod", case_rmmod_after, true, true },
	{ "hostile_set_regs_rip_before_completion", case_set_rip_before_completion, true },
	{ "hostile_mask_cleared_before_completion", case_mask_cleared_before_completion, true },
	{ "hostile_immediate_exit_before_completion", case_immediate_exit_before_completion, true },
};

static bool nested_ok(void)
{
	if (!kvm_cpu_has(X86_FEATURE_VMX) && !kvm_cpu_has(X86_FEATURE_SVM))
		return false;
	if (!kvm_has_cap(KVM_CAP_NESTED_STATE))
		return false;
	if (relay_host_is_svm())
		return kvm_cpu_has(X86_FEATURE_NPT);
	return kvm_has_cap(KVM_CAP_HYPERV_ENLIGHTENED_VMCS);
}

int main(int argc, char *argv[])
{
	bool nested;
	size_t i;

	relay_require_module();
	base_vms = relay_state_value("vms");
	base_refcnt = relay_module_refcnt();
	TEST_ASSERT(base_vms >= 0 && base_refcnt >= 0,
		    "no \"vms\" in %s or no %s", RELAY_STATE_FILE, RELAY_REFCNT_FILE);
	module_path = argc > 1 ? argv[1] : NULL;
	nested = nested_ok();

	ksft_print_header();
	ksft_set_plan(ARRAY_SIZE(cases));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct hostile_case *c = &cases[i];
		int status;
		pid_t pid;

		if (c->nested && !nested) {
			ksft_test_result_skip("%s: no nested Hyper-V\n", c->name);
			continue;
		}
		if (c->module_path && !module_path) {
			ksft_test_result_skip("%s: no module path given\n", c->name);
			continue;
		}
		fflush(stdout);
		pid = fork();
		if (!pid) {
			c->fn();
			exit(KSFT_PASS);
		}
		waitpid(pid, &status, 0);
		ksft_test_result(WIFEXITED(status) && WEXITSTATUS(status) == KSFT_PASS,
				 "%s\n", c->name);
	}
	ksft_finished();
}
