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
 * The expected outcome is stock KVM's, measured in the same boot: a second
 * VM, without relay state, stopped in L2 at a port I/O that its L1 does not
 * intercept, runs first once VMX is off.  KVM itself warns there once
 * (WARN_ON_ONCE in nested_vmx_vmexit(): the VM-instruction error it reads is
 * not 7 any more); the test asserts that this warning came while the stock
 * vCPU ran, and that the relayed vCPU then gets what the stock one got with
 * nothing more in the kernel log.  The test bed tolerates that one warning
 * only after this test's "testbed: tolerate once:" line (known-bad.list).
 *
 * Staged with relay_testmod's /sys/kernel/debug/relay_testmod/vmxoff,
 * written while the relayed vCPU is stopped at the KVM_EXIT_HYPERV of a
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

#define CASE_STOCK	"relay_vmxoff_stock_vcpu_runs_again"
#define CASE		"relay_vmxoff_relayed_vcpu_runs_again"
#define VMXOFF_FILE	"/sys/kernel/debug/relay_testmod/vmxoff"
#define KVM_WARN_FN	"nested_vmx_vmexit"
#define L2_SYNC		0x5354

static void load_if_absent(const char *name, const char *path)
{
	int err;

	if (relay_mod_loaded(name))
		return;
	err = relay_mod_load(path, "");
	TEST_ASSERT(!err, "insmod %s: errno %d (%s)", path, err, strerror(err));
}

/* The stock VM's L2: a ucall is port I/O, which its L1 does not intercept. */
static void stock_l2_code(void)
{
	GUEST_SYNC(L2_SYNC);
	relay_l2_back_to_l1();
}

static void stock_l1_code(void *nested, struct relay_l1 *l1)
{
	relay_l1_setup(l1, nested);
	relay_l1_enter(l1, nested, true);
	GUEST_DONE();
}

/* The kernel log from now on, read record by record. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	TEST_ASSERT(fd >= 0, "open /dev/kmsg: errno %d", errno);
	TEST_ASSERT(lseek(fd, 0, SEEK_END) >= 0, "seek /dev/kmsg: errno %d", errno);
	return fd;
}

struct kmsg_count {
	int kvm_warn;	/* "WARNING:" lines in KVM_WARN_FN */
	int other;	/* any other warning, BUG, oops or trap */
};

static struct kmsg_count kmsg_since(int fd)
{
	static const char * const bad[] = {
		"WARNING:", "BUG:", "Oops", "invalid opcode", "general protection",
		"Call Trace",
	};
	struct kmsg_count c = { 0 };
	bool in_kvm_warn = false;
	char rec[8192];
	ssize_t n;
	size_t i;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on reading */
		if (n <= 0)
			break;
		rec[n] = 0;
		if (strstr(rec, "WARNING:") && strstr(rec, KVM_WARN_FN)) {
			c.kvm_warn++;
			in_kvm_warn = true;
			continue;
		}
		/* that warning's own registers and trace */
		if (in_kvm_warn) {
			in_kvm_warn = !strstr(rec, "---[ end trace");
			continue;
		}
		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			if (strstr(rec, bad[i])) {
				ksft_print_msg("kernel: %s", strchr(rec, ';') ? strchr(rec, ';') + 1 : rec);
				c.other++;
				break;
			}
		}
	}
	return c;
}

static void kmsg_say(const char *msg)
{
	int err = relay_write_file("/dev/kmsg", msg);

	TEST_ASSERT(!err, "write /dev/kmsg: errno %d", err);
}

struct outcome {
	int r[2], err[2];
	u32 reason[2];
};

/* Two KVM_RUNs once VMX is off, as a VMM that keeps trying would do. */
static struct outcome run_twice(struct kvm_vcpu *vcpu, const char *who)
{
	struct outcome o;
	int i;

	for (i = 0; i < 2; i++) {
		o.r[i] = __vcpu_run(vcpu);
		o.err[i] = o.r[i] ? errno : 0;
		o.reason[i] = vcpu->run->exit_reason;
		ksft_print_msg("%s vCPU: KVM_RUN %d returned %d (errno %d), exit reason %u (%s)\n",
			       who, i + 1, o.r[i], o.err[i], o.reason[i],
			       exit_reason_str(o.reason[i]));
	}
	return o;
}

int main(int argc, char *argv[])
{
	struct kvm_vcpu *vcpu, *stock_vcpu;
	struct kvm_vm *vm, *stock_vm;
	struct kmsg_count k_stock, k_relay;
	struct outcome o_stock, o_relay;
	struct kvm_run *run;
	struct ucall uc;
	u64 msg_gpa;
	int err, kfd;

	ksft_print_header();
	ksft_set_plan(2);
	if (kvm_cpu_has(X86_FEATURE_SVM)) {
		ksft_test_result_skip("%s: Intel only (VMXOFF under a vCPU in L2)\n", CASE_STOCK);
		ksft_test_result_skip("%s: Intel only (VMXOFF under a vCPU in L2)\n", CASE);
		ksft_finished();
	}
	TEST_ASSERT(argc >= 3, "usage: %s KVM_HV_RELAY.KO RELAY_TESTMOD.KO", argv[0]);
	load_if_absent("kvm_hv_relay", argv[1]);
	load_if_absent("relay_testmod", argv[2]);
	relay_require_nested();

	/* Stock: no relay state; stopped in L2 at its port I/O. */
	stock_vm = relay_l2_vm_create(&stock_vcpu, stock_l1_code, stock_l2_code);
	vcpu_run(stock_vcpu);
	TEST_ASSERT(get_ucall(stock_vcpu, &uc) == UCALL_SYNC && uc.args[1] == L2_SYNC,
		    "stock VM: exit %u (%s), want L2's GUEST_SYNC",
		    stock_vcpu->run->exit_reason, exit_reason_str(stock_vcpu->run->exit_reason));

	/* Relayed: stopped at the KVM_EXIT_HYPERV of L2's post. */
	vm = relay_post_vm_create(&vcpu, KVM_NESTED_HYPERV_RELAY_ALL, &msg_gpa);
	run = vcpu->run;
	vcpu_run(vcpu);
	TEST_ASSERT(run->exit_reason == KVM_EXIT_HYPERV && relay_post_is_exit(&run->hyperv, msg_gpa),
		    "first exit %u (%s), want the relayed post's KVM_EXIT_HYPERV",
		    run->exit_reason, exit_reason_str(run->exit_reason));
	run->hyperv.u.hcall.result = 0;
	ksft_print_msg("both vCPUs are in L2: the stock one at a port I/O, the relayed one at its post\n");

	kfd = kmsg_open();
	err = relay_write_file(VMXOFF_FILE, "1");
	TEST_ASSERT(!err, "write %s: errno %d", VMXOFF_FILE, err);
	ksft_print_msg("VMX turned off on every CPU, KVM's rebooting flag set\n");

	kmsg_say("<4>testbed: tolerate once: " KVM_WARN_FN " (relay_vmxoff: the stock vCPU runs)\n");
	o_stock = run_twice(stock_vcpu, "stock");
	k_stock = kmsg_since(kfd);
	ksft_print_msg("stock vCPU: %d warning(s) in %s, %d other kernel complaint(s)\n",
		       k_stock.kvm_warn, KVM_WARN_FN, k_stock.other);
	/* The process lives on: what the relayed case must match. */
	kvm_vm_free(stock_vm);
	ksft_test_result(k_stock.kvm_warn == 1 && !k_stock.other,
			 "%s\n", CASE_STOCK);

	o_relay = run_twice(vcpu, "relayed");
	k_relay = kmsg_since(kfd);
	ksft_print_msg("relayed vCPU: %d warning(s) in %s, %d other kernel complaint(s)\n",
		       k_relay.kvm_warn, KVM_WARN_FN, k_relay.other);
	kvm_vm_free(vm);
	ksft_print_msg("both VMs destroyed; the process lives\n");
	close(kfd);

	/* KVM's warning is once per boot: the stock vCPU had it. */
	ksft_test_result(!memcmp(&o_relay, &o_stock, sizeof(o_stock)) &&
			 !k_relay.kvm_warn && !k_relay.other, "%s\n", CASE);
	ksft_finished();
}
