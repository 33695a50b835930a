// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay_shim: a VMM that knows only libhvrelay (tools/shim).  Every case
 * gives its vCPU a Hyper-V identity with the library (spec, host query,
 * resolve, vCPU setup) and drives the relay with it (query, enable, the
 * device); nothing Hyper-V specific comes from the selftest library.
 *
 * identity_* rows: L1 reads the Hyper-V CPUID leaves.  They must be what
 * hvr_cpuid_build() made of the resolved configuration, so what "kvm-hv-relay
 * show" prints is what a guest sees, with the vmbus privileges and (Intel)
 * the eVMCS version KVM reported while the library enabled eVMCS.
 * relay_* rows: an authorised L2 issues one hypercall; the row says which
 * classes the library turned on, through which interface, and whether the
 * call must reach the VMM (nested bit cleared, L1 GPA) or L1.
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

#define HV_LEAVES		11	/* 0x40000000..0x4000000A */
#define CPUID_PRIV_POST_SIGNAL	(BIT(4) | BIT(5))	/* 0x40000003 EBX */
#define CONN_ID			5

enum enable_by { BY_CAP, BY_DEVICE };
enum lands { TO_VMM, TO_L1 };

struct shim_case {
	const char *name;
	const char *spec;	/* identity rows: the spec to resolve */
	bool hyperv;		/* identity rows: "Microsoft Hv" expected */
	u64 mask;		/* relay rows: classes the library enables */
	bool disable_after;	/* ... then turns the relay off again */
	enum enable_by by;
	u64 input;
	enum lands lands;
	u64 exit_input;
};

static const struct shim_case cases[] = {
	{ .name = "shim_identity_windows", .spec = "windows", .hyperv = true },
	{ .name = "shim_identity_default", .spec = "default", .hyperv = true },
	{ .name = "shim_identity_pinned",
	  .spec = "windows+no_stimer_direct+spinlocks=0x1fff", .hyperv = true },
	{ .name = "shim_identity_none", .spec = "none" },
	{ .name = "shim_relay_post", .mask = HVR_RELAY_ALL,
	  .input = HC_NESTED | HC_POST, .lands = TO_VMM, .exit_input = HC_POST },
	{ .name = "shim_relay_signal_fast", .mask = HVR_RELAY_SIGNAL_EVENT,
	  .input = HC_NESTED | HC_FAST | HC_SIGNAL, .lands = TO_VMM,
	  .exit_input = HC_FAST | HC_SIGNAL },
	{ .name = "shim_relay_post_class_off", .mask = HVR_RELAY_SIGNAL_EVENT,
	  .input = HC_NESTED | HC_POST, .lands = TO_L1 },
	{ .name = "shim_relay_post_device", .mask = HVR_RELAY_POST_MESSAGE,
	  .by = BY_DEVICE, .input = HC_NESTED | HC_POST, .lands = TO_VMM,
	  .exit_input = HC_POST },
	{ .name = "shim_relay_disabled", .mask = HVR_RELAY_ALL, .disable_after = true,
	  .input = HC_NESTED | HC_POST, .lands = TO_L1 },
};

/* --- guest ------------------------------------------------------------------ */

static u32 seen[HV_LEAVES][4];

static void identity_guest(void)
{
	int i;

	for (i = 0; i < HV_LEAVES; i++)
		__cpuid(0x40000000 + i, 0, &seen[i][0], &seen[i][1], &seen[i][2],
			&seen[i][3]);
	GUEST_DONE();
}

static struct {
	u64 input, in;
	u64 rax;
	u64 done;
} l2_call;

#define SYNC_L1_SAW_VMCALL	1

static void l2_guest_code(void)
{
	struct relay_hc_regs after;

	relay_l2_hypercall(l2_call.input, l2_call.in, 0, &after);
	l2_call.rax = after.rax;
	l2_call.done = 1;
	relay_l2_back_to_l1();
}

static void l1_guest_code(void *nested, struct relay_l1 *l1)
{
	relay_l1_setup(l1, nested);
	relay_l1_enter(l1, nested, true);
	for (;;) {
		if (l2_call.done)
			GUEST_DONE();
		GUEST_SYNC(SYNC_L1_SAW_VMCALL);
		relay_l1_skip(nested);
		relay_l1_enter(l1, nested, false);
	}
}

/* --- host ------------------------------------------------------------------- */

static void fail_on(int r, const struct hvr_error *err, const char *what)
{
	TEST_ASSERT(!r, "%s: %s", what, err->msg);
}

static void run_identity(const struct shim_case *c)
{
	struct kvm_cpuid_entry2 want[HVR_CPUID_MAX_LEAVES];
	struct hvr_error err = { 0 };
	struct hvr_config cfg;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	int n, i;

	vm = vm_create_with_one_vcpu(&vcpu, identity_guest);
	relay_shim_vcpu_setup(vcpu, c->spec, &cfg);
	vcpu_run(vcpu);
	TEST_ASSERT(get_ucall(vcpu, &uc) == UCALL_DONE, "guest did not finish");
	sync_global_from_guest(vm, seen);

	n = hvr_cpuid_build(&cfg, want, HVR_CPUID_MAX_LEAVES, &err);
	TEST_ASSERT(n >= 0, "hvr_cpuid_build: %s", err.msg);
	/* "MicrosoftHv" is 0x7263694d 0x666f736f 0x76482074 in EBX, ECX, EDX. */
	TEST_ASSERT((seen[0][1] == 0x7263694d && seen[0][2] == 0x666f736f &&
		     seen[0][3] == 0x76482074) == c->hyperv,
		    "0x40000000 vendor %08x %08x %08x, Hyper-V %s", seen[0][1], seen[0][2],
		    seen[0][3], c->hyperv ? "expected" : "not expected");
	TEST_ASSERT(c->hyperv == (n > 0), "%d leaves built", n);

	for (i = 0; i < n; i++) {
		const struct kvm_cpuid_entry2 *e = &want[i];
		u32 *s;

		if (e->function - 0x40000000 >= HV_LEAVES)
			continue;
		s = seen[e->function - 0x40000000];
		TEST_ASSERT(s[0] == e->eax && s[1] == e->ebx && s[2] == e->ecx &&
			    s[3] == e->edx,
			    "leaf 0x%x: guest sees %08x %08x %08x %08x, library built %08x %08x %08x %08x",
			    e->function, s[0], s[1], s[2], s[3], e->eax, e->ebx, e->ecx,
			    e->edx);
	}
	if (!c->hyperv)
		goto out;

	TEST_ASSERT((seen[3][1] & CPUID_PRIV_POST_SIGNAL) == CPUID_PRIV_POST_SIGNAL,
		    "0x40000003 EBX 0x%x: no PostMessages/SignalEvents for vmbus", seen[3][1]);
	if (cfg.flags & HVR_FLAG(HVR_EVMCS)) {
		TEST_ASSERT(cfg.evmcs_version, "eVMCS enabled without a version");
		TEST_ASSERT((seen[10][0] & 0xffff) == cfg.evmcs_version,
			    "0x4000000A EAX 0x%x, KVM reported eVMCS version 0x%x",
			    seen[10][0], cfg.evmcs_version);
	} else {
		/* eVMCS is Intel's; on AMD the host query must have dropped it. */
		TEST_ASSERT(relay_host_is_svm() || !strstr(c->spec, "windows"),
			    "the nested windows preset lost eVMCS on Intel");
		TEST_ASSERT(!(seen[10][0] & 0xffff), "eVMCS version without eVMCS");
	}
out:
	kvm_vm_free(vm);
}

static void enable_relay(struct kvm_vm *vm, const struct shim_case *c)
{
	struct hvr_error err = { 0 };
	uint64_t mask;
	bool has_state;
	int dev;

	if (c->by == BY_CAP) {
		fail_on(hvr_relay_enable(vm->fd, c->mask, &err), &err, "hvr_relay_enable");
		if (c->disable_after)
			fail_on(hvr_relay_enable(vm->fd, 0, &err), &err, "hvr_relay_enable(0)");
		return;
	}
	dev = hvr_relay_dev_open(&err);
	TEST_ASSERT(dev >= 0, "hvr_relay_dev_open: %s", err.msg);
	fail_on(hvr_relay_get_mask(dev, vm->fd, &mask, &has_state, &err), &err,
		"hvr_relay_get_mask");
	TEST_ASSERT(!mask && !has_state, "new VM: mask 0x%llx, state %d",
		    (unsigned long long)mask, has_state);
	fail_on(hvr_relay_set_mask(dev, vm->fd, c->mask, &err), &err, "hvr_relay_set_mask");
	fail_on(hvr_relay_get_mask(dev, vm->fd, &mask, &has_state, &err), &err,
		"hvr_relay_get_mask");
	TEST_ASSERT(mask == c->mask && has_state, "device reads back mask 0x%llx, state %d",
		    (unsigned long long)mask, has_state);
	close(dev);
}

static void run_relay(const struct shim_case *c)
{
	struct hvr_error err = { 0 };
	struct relay_nested_vcpu nv;
	relay_gva_t msg_gva, stack_gva;
	struct relay_run r;
	struct kvm_vcpu *vcpu;
	uint64_t supported;
	u64 msg_gpa;
	struct kvm_vm *vm;

	vm = vm_create_with_one_vcpu(&vcpu, l1_guest_code);
	fail_on(hvr_relay_query(vm->fd, &supported, &err), &err, "hvr_relay_query");
	TEST_ASSERT(supported == HVR_RELAY_ALL, "module supports 0x%llx",
		    (unsigned long long)supported);
	relay_nested_vcpu_init(vm, vcpu, &nv);

	msg_gva = relay_alloc_page(vm);
	msg_gpa = addr_gva2gpa(vm, msg_gva);
	stack_gva = relay_alloc_page(vm);
	relay_nested_set_stage2(&nv, relay_build_stage2(vm, msg_gpa, msg_gpa));
	nv.l1->direct_hypercall = 1;
	nv.l1->nested_flush = 1;
	nv.l1->l2_rip = (u64)l2_guest_code;
	nv.l1->l2_rsp = stack_gva + 4096;
	l2_call.input = c->input;
	l2_call.in = c->input & HC_FAST ? CONN_ID : ALIAS_BASE + ALIAS_MSG * 4096ULL;
	sync_global_to_guest(vm, l2_call);
	enable_relay(vm, c);

	relay_run_to_done(vcpu, HV_STATUS_SUCCESS, SYNC_L1_SAW_VMCALL, &r);

	if (c->lands == TO_L1) {
		TEST_ASSERT(!r.hyperv_exits && r.l1_syncs == 1,
			    "%d exits to the VMM, %d to L1; want 0 and 1", r.hyperv_exits,
			    r.l1_syncs);
		goto out;
	}
	TEST_ASSERT(r.hyperv_exits == 1 && !r.l1_syncs,
		    "%d exits to the VMM, %d to L1; want 1 and 0", r.hyperv_exits, r.l1_syncs);
	TEST_ASSERT(r.last.u.hcall.input == c->exit_input, "exit input 0x%llx, want 0x%llx",
		    (unsigned long long)r.last.u.hcall.input, (unsigned long long)c->exit_input);
	TEST_ASSERT(r.last.u.hcall.params[0] == (c->input & HC_FAST ? CONN_ID : msg_gpa),
		    "params[0] 0x%llx: not %s", (unsigned long long)r.last.u.hcall.params[0],
		    c->input & HC_FAST ? "the connection id" : "the message's L1 GPA");
out:
	kvm_vm_free(vm);
}

static void run_case(const struct shim_case *c)
{
	if (c->spec)
		run_identity(c);
	else
		run_relay(c);
}

static int run_child(const struct shim_case *c)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (!pid) {
		run_case(c);
		exit(KSFT_PASS);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return KSFT_FAIL;
	return WEXITSTATUS(status);
}

int main(void)
{
	size_t i;

	relay_require_nested();
	ksft_print_header();
	ksft_set_plan(ARRAY_SIZE(cases));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int status = run_child(&cases[i]);

		if (status == KSFT_SKIP)
			ksft_test_result_skip("%s\n", cases[i].name);
		else
			ksft_test_result(status == KSFT_PASS, "%s\n", cases[i].name);
	}
	ksft_finished();
}
