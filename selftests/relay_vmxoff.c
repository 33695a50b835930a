// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay_vmxoff: KVM's reboot and shutdown path turns VMX off on every CPU
 * (it sets its "rebooting" flag, so that KVM's own VMX instructions ignore
 * the faults that follow) while vCPUs still exist.  A vCPU of a relay VM
 * that is in L2 then runs again: its VM entry fails, and KVM still goes
 * through its L2 exit path, where the module's hooks execute VMREAD.  The
 * module must take that as "not ours"; the KVM_RUN must return and the
 * process live.
 *
 * Staged with relay_testmod's /sys/kernel/debug/relay_testmod/vmxoff,
 * written while the vCPU is stopped at the KVM_EXIT_HYPERV of a relayed
 * post from L2.  Intel only.  VMX stays off afterwards: nothing that needs
 * KVM may run after this test (the test bed runs it last, after rmmod, see
 * "testbed-last"); it loads kvm_hv_relay and relay_testmod itself.
 *
 * testbed-args: /lib/mods/kvm_hv_relay.ko /lib/mods/relay_testmod.ko
 * testbed-last: VMX is off after it
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest.h"
#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#include "lib/relay_nested.h"
#include "lib/relay_modules.h"
#include "lib/relay_post.h"

#define CASE		"relay_vmxoff_relayed_vcpu_runs_again"
#define VMXOFF_FILE	"/sys/kernel/debug/relay_testmod/vmxoff"

static void load_if_absent(const char *name, const char *path)
{
	int err;

	if (relay_mod_loaded(name))
		return;
	err = relay_mod_load(path, "");
	TEST_ASSERT(!err, "insmod %s: errno %d (%s)", path, err, strerror(err));
}

int main(int argc, char *argv[])
{
	struct kvm_hyperv_exit hv;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct kvm_run *run;
	u64 msg_gpa;
	int fd, r, err;

	ksft_print_header();
	ksft_set_plan(1);
	if (kvm_cpu_has(X86_FEATURE_SVM)) {
		ksft_test_result_skip("%s: Intel only (VMXOFF under a vCPU in L2)\n", CASE);
		ksft_finished();
	}
	if (argc < 3) {
		ksft_test_result_skip("%s: no module paths given\n", CASE);
		ksft_finished();
	}
	load_if_absent("kvm_hv_relay", argv[1]);
	load_if_absent("relay_testmod", argv[2]);
	relay_require_nested();

	vm = relay_post_vm_create(&vcpu, KVM_NESTED_HYPERV_RELAY_ALL, &msg_gpa);
	run = vcpu->run;
	vcpu_run(vcpu);
	TEST_ASSERT(run->exit_reason == KVM_EXIT_HYPERV && relay_post_is_exit(&run->hyperv, msg_gpa),
		    "first exit %u (%s), want the relayed post's KVM_EXIT_HYPERV",
		    run->exit_reason, exit_reason_str(run->exit_reason));
	hv = run->hyperv;
	run->hyperv.u.hcall.result = 0;
	ksft_print_msg("L2's post reached the VMM: input 0x%llx, params[0] 0x%llx\n",
		       (unsigned long long)hv.u.hcall.input,
		       (unsigned long long)hv.u.hcall.params[0]);

	fd = open(VMXOFF_FILE, O_WRONLY);
	TEST_ASSERT(fd >= 0, "open %s: errno %d", VMXOFF_FILE, errno);
	TEST_ASSERT(write(fd, "1", 1) == 1, "write %s: errno %d", VMXOFF_FILE, errno);
	close(fd);
	ksft_print_msg("VMX turned off on every CPU, KVM's rebooting flag set\n");

	/* The vCPU is still in L2: this entry fails, and KVM handles it. */
	r = __vcpu_run(vcpu);
	err = r ? errno : 0;
	ksft_print_msg("KVM_RUN returned %d (errno %d), exit reason %u (%s)\n", r, err,
		       run->exit_reason, exit_reason_str(run->exit_reason));
	r = __vcpu_run(vcpu);
	err = r ? errno : 0;
	ksft_print_msg("KVM_RUN again returned %d (errno %d), exit reason %u (%s)\n", r, err,
		       run->exit_reason, exit_reason_str(run->exit_reason));
	kvm_vm_free(vm);
	ksft_print_msg("VM destroyed; the process lives\n");
	ksft_test_result_pass("%s\n", CASE);
	ksft_finished();
}
