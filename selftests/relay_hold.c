// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay_hold: keep a relay VM alive in the background, for the test bed's
 * parity pass.
 *
 * The upstream KVM selftests cannot enable the relay on their own VMs
 * without being modified, so the test bed runs them twice, without the
 * module ("stock/") and with it ("relay/"), and checks that the outcomes
 * are identical (parity/<kernel>/<vendor>).  During the relay/ pass this
 * program holds another VM with relay state, whose vCPU sits in L2 with a
 * relayed KVM_EXIT_HYPERV not completed (when nested virtualization is
 * there; otherwise a VM with the mask set): the module's hooks see a VM
 * table that is not empty and a vCPU whose completion points into it, while
 * the upstream tests' VMs must be untouched.
 *
 *   relay_hold --start   fork the holder, wait until it holds, exit
 *   relay_hold --stop    end the holder, wait until its state is gone
 *   relay_hold           both, as a self-check (selftests/ pass)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"
#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#include "lib/relay_nested.h"

#define PID_FILE	"/tmp/relay_hold.pid"
#define WAIT_STEPS	1000	/* x 10 ms */

static struct {
	u64 input, p0, p1;
} hold_l2;

static void l2_code(void)
{
	struct relay_hc_regs after;

	for (;;)
		relay_l2_hypercall(hold_l2.input, hold_l2.p0, hold_l2.p1, &after);
}

static void l1_code(void *nested, struct relay_l1 *l1)
{
	relay_l1_setup(l1, nested);
	relay_l1_enter(l1, nested, true);
	/* Only if the relay let the call through to L1. */
	GUEST_ASSERT(0);	/* the held call reached L1 */
}

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

/* A VM with relay state; with nesting, its vCPU parked on a relayed exit. */
static struct kvm_vm *hold_vm(bool *parked)
{
	struct relay_nested_vcpu nv;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	*parked = false;
	if (!nested_ok()) {
		vm = vm_create_barebones();
		TEST_ASSERT(!relay_enable(vm, KVM_NESTED_HYPERV_RELAY_ALL), "enable");
		return vm;
	}
	vm = vm_create_with_one_vcpu(&vcpu, l1_code);
	relay_nested_vcpu_init(vm, vcpu, &nv);
	nv.l1->mode = L2_LONG;
	nv.l1->direct_hypercall = 1;
	nv.l1->nested_flush = 1;
	nv.l1->l2_rip = (u64)l2_code;
	nv.l1->l2_rsp = relay_alloc_page(vm) + 4096;
	hold_l2.input = HC_NESTED | HC_FAST | HC_POST;
	hold_l2.p0 = 1;
	sync_global_to_guest(vm, hold_l2);
	TEST_ASSERT(!relay_enable(vm, KVM_NESTED_HYPERV_RELAY_ALL), "enable");
	vcpu_run(vcpu);
	TEST_ASSERT(vcpu->run->exit_reason == KVM_EXIT_HYPERV,
		    "want a relayed exit, got %u (%s)", vcpu->run->exit_reason,
		    exit_reason_str(vcpu->run->exit_reason));
	*parked = true;
	return vm;
}

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	stop = 1;
}

/* Fork the holder; returns its pid once it holds. */
static pid_t start(long *base)
{
	int pipefd[2];
	char c = 0;
	pid_t pid;

	*base = relay_state_value("vms");
	TEST_ASSERT(*base >= 0, "no %s", RELAY_STATE_FILE);
	TEST_ASSERT(!pipe(pipefd), "pipe");
	fflush(stdout);
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (!pid) {
		struct kvm_vm *vm;
		bool parked;
		int fd;

		setsid();
		signal(SIGTERM, on_term);
		close(pipefd[0]);
		vm = hold_vm(&parked);
		c = parked ? 'P' : 'V';
		if (write(pipefd[1], &c, 1) != 1)
			_exit(1);
		close(pipefd[1]);
		fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		while (!stop)
			pause();
		kvm_vm_free(vm);
		_exit(0);
	}
	close(pipefd[1]);
	TEST_ASSERT(read(pipefd[0], &c, 1) == 1, "the holder failed to start");
	close(pipefd[0]);
	TEST_ASSERT(relay_state_value("vms") == *base + 1, "the holder's VM has no state");
	ksft_print_msg("holder %d: a relay VM%s\n", pid,
		       c == 'P' ? " with a vCPU parked on a relayed exit" : "");
	return pid;
}

/*
 * End the holder.  It is our child only in the self-check; otherwise the
 * test bed's init inherited it and may leave it a zombie for a while: what
 * counts is that its VM, and with it the relay state, is gone.
 */
static void stop_holder(pid_t pid, long base, bool child)
{
	int i;

	TEST_ASSERT(!kill(pid, SIGTERM), "kill %d: errno %d", pid, errno);
	if (child)
		TEST_ASSERT(waitpid(pid, NULL, 0) == pid, "waitpid");
	for (i = 0; i < WAIT_STEPS && relay_state_value("vms") != base; i++)
		usleep(10000);
	TEST_ASSERT(relay_state_value("vms") == base,
		    "%ld VMs with relay state after the holder, want %ld",
		    relay_state_value("vms"), base);
}

int main(int argc, char *argv[])
{
	const char *mode = argc > 1 ? argv[1] : "";
	long base;
	pid_t pid;
	FILE *f;

	relay_require_module();
	ksft_print_header();
	ksft_set_plan(1);

	if (!strcmp(mode, "--start")) {
		pid = start(&base);
		f = fopen(PID_FILE, "w");
		TEST_ASSERT(f, "%s", PID_FILE);
		fprintf(f, "%d %ld\n", pid, base);
		fclose(f);
		ksft_test_result_pass("parity_holder_started\n");
	} else if (!strcmp(mode, "--stop")) {
		int p = 0;

		f = fopen(PID_FILE, "r");
		TEST_ASSERT(f && fscanf(f, "%d %ld", &p, &base) == 2, "no holder (%s)", PID_FILE);
		fclose(f);
		stop_holder(p, base, false);
		unlink(PID_FILE);
		ksft_test_result_pass("parity_holder_stopped\n");
	} else {
		pid = start(&base);
		usleep(100000);
		stop_holder(pid, base, true);
		ksft_test_result_pass("parity_holder_selfcheck\n");
	}
	ksft_finished();
}
