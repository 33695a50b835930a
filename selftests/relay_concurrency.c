// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay_concurrency: relayed calls while everything around them changes.
 *
 * One VM with three vCPUs.  vCPU 0 is an L1 running an L2 (lib/
 * relay_nested.h) that issues relayed calls in a loop: fast and slow
 * HvPostMessage, HvSignalEvent to a connection with an eventfd and to one
 * without.  vCPUs 1 and 2 are plain (non-nested) vCPUs issuing VMCALL /
 * VMMCALL in a loop, through the same KVM hypercall handler the relay hooks.
 * (The selftest library keeps L1's eVMCS pointer and SVM's L2 GPRs in
 * globals, so only one vCPU can run an L2.)  Meanwhile host threads:
 *   - flip the mask with KVM_ENABLE_CAP and /dev/kvm_hv_relay, valid and
 *     invalid values;
 *   - assign and deassign the connection's eventfd;
 *   - create, enable and destroy other relay VMs (the module's VM table).
 * The emulated guests have one CPU: this is interleaving, at every
 * preemption point of those threads.
 *
 * Every outcome L2 sees must be one the contract allows for the mask of the
 * moment (L1 got the call, or the VMM's answer, or the eventfd's SUCCESS);
 * the plain vCPUs must get KVM's own answer; every exit the VMM gets must be
 * a well-formed relayed one.  Then the VM is torn down with a relayed exit
 * never completed, and in a second run the VMM process exits in the middle
 * of it all.  The module's "vms:" count and refcount must return to their
 * baselines, and the boot must end without a kernel warning (the test bed
 * checks that).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#include "lib/relay_nested.h"

#define NR_VCPUS	3
#define NR_PLAIN	(NR_VCPUS - 1)
#define CONN_ID		5
#define CONN_NO_FD	6
#define RESULT_XOR	0x0123456789abcdefULL
/* KVM's answer to an unknown KVM hypercall: -KVM_ENOSYS. */
#define KVM_ENOSYS_RET	((u64)-1000)
#define PLAIN_NR	0x8000005cULL
#define TARGET_CALLS	3000
#define MAX_SECONDS	120


/* Shared with the guest; the host reads and writes it live. */
struct conc_shared {
	u64 stop_l2;		/* host: L2, finish */
	u64 stop_plain;		/* host: plain vCPUs, finish */
	u64 msg_gpa;		/* L1 GPA behind the alias message page */
	u64 l2_calls;
	u64 l1_saw;
	u64 l2_done;
	u64 bad, bad_input, bad_rax;
	u64 plain_calls[NR_PLAIN];
	u64 plain_bad[NR_PLAIN];
};

static struct conc_shared sh;

/* --- guest ------------------------------------------------------------------ */

static void l2_code(void)
{
	struct relay_hc_regs after;
	u64 i, input, p0, p1, want, alt;

	for (i = 0; !READ_ONCE(sh.stop_l2); i++) {
		u64 l1_before = READ_ONCE(sh.l1_saw);

		p1 = ~i;
		alt = ~0ULL;
		switch (i % 4) {
		case 0:
			input = HC_NESTED | HC_FAST | HC_POST;
			p0 = i;
			want = p0 ^ RESULT_XOR;
			break;
		case 1:
			input = HC_NESTED | HC_POST;
			p0 = ALIAS_BASE + ALIAS_MSG * 4096ULL + (i % 15) * 256;
			want = (sh.msg_gpa + (i % 15) * 256) ^ RESULT_XOR;
			break;
		case 2:
			input = HC_NESTED | HC_FAST | HC_SIGNAL;
			p0 = CONN_ID;
			want = CONN_ID ^ RESULT_XOR;
			alt = HV_STATUS_SUCCESS;	/* the eventfd was there */
			break;
		default:
			input = HC_NESTED | HC_FAST | HC_SIGNAL;
			p0 = CONN_NO_FD;
			want = CONN_NO_FD ^ RESULT_XOR;
			break;
		}
		relay_l2_hypercall(input, p0, p1, &after);
		WRITE_ONCE(sh.l2_calls, i + 1);
		if (READ_ONCE(sh.l1_saw) != l1_before)
			continue;	/* mask off at that moment: L1 took it */
		if ((after.rax != want && after.rax != alt) || after.rcx != input ||
		    after.rdx != p0 || after.r8 != p1) {
			sh.bad++;
			sh.bad_input = input;
			sh.bad_rax = after.rax;
		}
	}
	WRITE_ONCE(sh.l2_done, 1);
	relay_l2_back_to_l1();
}

static u64 plain_hypercall(u64 nr)
{
	u64 rax = nr;

	asm volatile(RELAY_HYPERCALL_ASM("%[svm]")
		     : "+a"(rax) : [svm] "m"(relay_hc_svm), "b"(0), "c"(0), "d"(0), "S"(0)
		     : "memory", "cc");
	return rax;
}

/* vCPU 0: L1 with L2; vCPUs 1, 2: plain hypercalls (@nested == NULL). */
static void guest_code(void *nested, struct relay_l1 *l1, u64 idx)
{
	if (!nested) {
		while (!READ_ONCE(sh.stop_plain)) {
			if (plain_hypercall(PLAIN_NR) != KVM_ENOSYS_RET)
				sh.plain_bad[idx]++;
			sh.plain_calls[idx]++;
		}
		GUEST_DONE();
	}
	relay_l1_setup(l1, nested);
	relay_l1_enter(l1, nested, true);
	for (;;) {
		if (READ_ONCE(sh.l2_done))
			GUEST_DONE();
		WRITE_ONCE(sh.l1_saw, sh.l1_saw + 1);
		relay_l1_skip(nested);
		relay_l1_enter(l1, nested, false);
	}
}

/* --- host ------------------------------------------------------------------- */

struct conc {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpus[NR_VCPUS];
	struct conc_shared *sh;		/* live view */
	u64 msg_gpa;
	int eventfd, relay_dev;
	volatile bool stop_threads;	/* flipper, eventfd, churn */
	volatile bool abandon;		/* vCPU 0: leave the next exit pending */
	unsigned long exits, flips, bad_flips, dev_flips, evfd_toggles, churn_vms;
	u64 final_mask;
};

static void check_relayed_exit(struct conc *c, struct kvm_hyperv_exit *hv)
{
	u64 in = hv->u.hcall.input, p0 = hv->u.hcall.params[0], p1 = hv->u.hcall.params[1];

	TEST_ASSERT(hv->type == KVM_EXIT_HYPERV_HCALL, "KVM_EXIT_HYPERV type %u", hv->type);
	if (in == (HC_FAST | HC_POST))
		TEST_ASSERT(p1 == ~p0, "fast post params 0x%llx 0x%llx",
			    (unsigned long long)p0, (unsigned long long)p1);
	else if (in == HC_POST)
		TEST_ASSERT(p0 - c->msg_gpa < 4096 && !(p0 % 256) && !p1,
			    "slow post params 0x%llx 0x%llx: not the message's L1 GPA",
			    (unsigned long long)p0, (unsigned long long)p1);
	else
		TEST_ASSERT(in == (HC_FAST | HC_SIGNAL) && !p1 &&
			    (p0 == CONN_ID || p0 == CONN_NO_FD),
			    "exit input 0x%llx params 0x%llx 0x%llx",
			    (unsigned long long)in, (unsigned long long)p0,
			    (unsigned long long)p1);
	hv->u.hcall.result = p0 ^ RESULT_XOR;
}

static void *vcpu_thread(void *arg)
{
	struct conc *c = arg;
	struct kvm_vcpu *vcpu = c->vcpus[0];
	struct ucall uc;

	for (;;) {
		struct kvm_run *run = vcpu->run;

		vcpu_run(vcpu);
		if (run->exit_reason == KVM_EXIT_HYPERV) {
			check_relayed_exit(c, &run->hyperv);
			c->exits++;
			if (c->abandon)
				return NULL;	/* never completed */
			continue;
		}
		TEST_ASSERT(run->exit_reason == KVM_EXIT_IO, "vCPU 0: exit %u (%s)",
			    run->exit_reason, exit_reason_str(run->exit_reason));
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_DONE:
			return NULL;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			break;
		default:
			TEST_FAIL("vCPU 0: ucall %lu", (unsigned long)uc.cmd);
		}
	}
}

static void *plain_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct ucall uc;

	vcpu_run(vcpu);
	TEST_ASSERT(vcpu->run->exit_reason == KVM_EXIT_IO, "plain vCPU: exit %u (%s)",
		    vcpu->run->exit_reason, exit_reason_str(vcpu->run->exit_reason));
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_DONE:
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	default:
		TEST_FAIL("plain vCPU: ucall %lu", (unsigned long)uc.cmd);
	}
	return NULL;
}

static void *flip_thread(void *arg)
{
	static const u64 masks[] = { 0, 1, 2, 3, 3, 1ULL << 2, 1ULL << 63 };
	struct conc *c = arg;
	unsigned int i;

	for (i = 0; !c->stop_threads; i++) {
		u64 m = masks[i % ARRAY_SIZE(masks)];
		bool valid = !(m & ~KVM_NESTED_HYPERV_RELAY_ALL);
		int r;

		if (c->relay_dev >= 0 && i % 3 == 1) {
			struct kvm_hv_relay_vm_mask req = { .vm_fd = c->vm->fd, .mask = m };

			r = ioctl(c->relay_dev, KVM_HV_RELAY_SET_VM_MASK, &req);
			c->dev_flips++;
		} else {
			r = relay_enable(c->vm, m);
		}
		TEST_ASSERT(valid ? !r : r == -1 && errno == EINVAL,
			    "mask 0x%llx: %d errno %d", (unsigned long long)m, r, errno);
		c->flips++;
		c->bad_flips += !valid;
		usleep(200);
	}
	/* Relay on at the end, so that vCPU 0 reaches an exit it abandons. */
	TEST_ASSERT(!relay_enable(c->vm, KVM_NESTED_HYPERV_RELAY_ALL), "final mask");
	return NULL;
}

static void *eventfd_thread(void *arg)
{
	struct conc *c = arg;
	struct kvm_hyperv_eventfd ev = { .conn_id = CONN_ID, .fd = c->eventfd };
	u64 count;

	while (!c->stop_threads) {
		ev.flags = c->evfd_toggles & 1 ? KVM_HYPERV_EVENTFD_DEASSIGN : 0;
		vm_ioctl(c->vm, KVM_HYPERV_EVENTFD, &ev);
		c->evfd_toggles++;
		if (read(c->eventfd, &count, sizeof(count)) < 0)
			TEST_ASSERT(errno == EAGAIN, "eventfd read");
		usleep(500);
	}
	return NULL;
}

static void *churn_thread(void *arg)
{
	struct conc *c = arg;

	while (!c->stop_threads) {
		struct kvm_vm *vm = vm_create_barebones();

		TEST_ASSERT(!relay_enable(vm, c->churn_vms & 1 ? 1 : 3), "churn enable");
		kvm_vm_free(vm);
		c->churn_vms++;
		usleep(1000);
	}
	return NULL;
}

static void conc_setup(struct conc *c)
{
	struct relay_nested_vcpu nv;
	relay_gva_t msg_gva;
	int i;

	memset(c, 0, sizeof(*c));
	c->vm = vm_create_with_vcpus(NR_VCPUS, guest_code, c->vcpus);
	/* vCPU 0 gets (nested, l1); its idx is not used. */
	relay_nested_vcpu_init(c->vm, c->vcpus[0], &nv);
	for (i = 1; i < NR_VCPUS; i++)
		vcpu_args_set(c->vcpus[i], 3, 0, 0, i - 1);

	msg_gva = relay_alloc_page(c->vm);
	c->msg_gpa = addr_gva2gpa(c->vm, msg_gva);
	nv.l1->mode = L2_LONG;
	nv.l1->direct_hypercall = 1;
	nv.l1->nested_flush = 1;
	nv.l1->l2_rip = (u64)l2_code;
	nv.l1->l2_rsp = relay_alloc_page(c->vm) + 4096;
	relay_nested_set_stage2(&nv, relay_build_stage2(c->vm, c->msg_gpa, c->msg_gpa));

	c->sh = relay_guest_ptr(c->vm, sh);
	memset(c->sh, 0, sizeof(*c->sh));
	c->sh->msg_gpa = c->msg_gpa;

	c->eventfd = eventfd(0, EFD_NONBLOCK);
	TEST_ASSERT(c->eventfd >= 0, "eventfd");
	c->relay_dev = open(KVM_HV_RELAY_DEVICE, O_RDWR | O_CLOEXEC);
	TEST_ASSERT(!relay_enable(c->vm, KVM_NESTED_HYPERV_RELAY_ALL), "enable");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Run everything until L2 made @target calls.  Then, if @exit_process, the
 * process exits on the spot; else the threads stop, vCPU 0 leaves its next
 * relayed exit pending and the VM is freed.
 */
static void conc_run(struct conc *c, u64 target, bool exit_process)
{
	pthread_t vcpu0, plain[NR_PLAIN], flip, evfd, churn;
	double t0 = now();
	int i;

	pthread_create(&vcpu0, NULL, vcpu_thread, c);
	for (i = 0; i < NR_PLAIN; i++)
		pthread_create(&plain[i], NULL, plain_thread, c->vcpus[i + 1]);
	pthread_create(&flip, NULL, flip_thread, c);
	pthread_create(&evfd, NULL, eventfd_thread, c);
	pthread_create(&churn, NULL, churn_thread, c);

	while (READ_ONCE(c->sh->l2_calls) < target) {
		TEST_ASSERT(now() - t0 < MAX_SECONDS, "L2 made %llu calls in %d s",
			    (unsigned long long)c->sh->l2_calls, MAX_SECONDS);
		usleep(20000);
	}
	if (exit_process)
		_exit(0);

	c->stop_threads = true;
	pthread_join(flip, NULL);
	pthread_join(evfd, NULL);
	pthread_join(churn, NULL);
	WRITE_ONCE(c->sh->stop_plain, 1);
	for (i = 0; i < NR_PLAIN; i++)
		pthread_join(plain[i], NULL);
	c->abandon = true;
	pthread_join(vcpu0, NULL);
}


static long base_vms, base_refcnt;

static void expect_baseline(const char *when)
{
	relay_expect_baseline(when, base_vms, base_refcnt);
}

/* Relayed calls under mask flips, then the VM torn down with one pending. */
static void test_flips_and_teardown(void)
{
	struct conc c;
	int i;

	conc_setup(&c);
	conc_run(&c, TARGET_CALLS, false);

	TEST_ASSERT(!c.sh->bad, "L2 got 0x%llx for input 0x%llx (%llu bad outcomes)",
		    (unsigned long long)c.sh->bad_rax, (unsigned long long)c.sh->bad_input,
		    (unsigned long long)c.sh->bad);
	for (i = 0; i < NR_PLAIN; i++)
		TEST_ASSERT(!c.sh->plain_bad[i] && c.sh->plain_calls[i],
			    "plain vCPU %d: %llu of %llu calls not answered by KVM", i + 1,
			    (unsigned long long)c.sh->plain_bad[i],
			    (unsigned long long)c.sh->plain_calls[i]);
	TEST_ASSERT(c.exits && c.sh->l1_saw && c.flips > 2,
		    "no interleaving: %lu exits, %llu calls to L1, %lu flips", c.exits,
		    (unsigned long long)c.sh->l1_saw, c.flips);
	ksft_print_msg("L2: %llu calls, %lu relayed exits, %llu to L1; plain vCPUs: %llu + %llu calls; %lu mask changes (%lu invalid, %lu via %s), %lu eventfd toggles, %lu other relay VMs\n",
		       (unsigned long long)c.sh->l2_calls, c.exits,
		       (unsigned long long)c.sh->l1_saw,
		       (unsigned long long)c.sh->plain_calls[0],
		       (unsigned long long)c.sh->plain_calls[1], c.flips, c.bad_flips,
		       c.dev_flips, KVM_HV_RELAY_DEVICE, c.evfd_toggles, c.churn_vms);
	TEST_ASSERT(relay_state_value("vms") >= base_vms + 1, "the VM lost its state");
	kvm_vm_free(c.vm);
	close(c.eventfd);
	if (c.relay_dev >= 0)
		close(c.relay_dev);
	expect_baseline("VM freed with a relayed exit pending");
}

/* The VMM process exits while every thread is busy. */
static void test_process_exit(void)
{
	int status;
	pid_t pid;

	/* Output to a file is fully buffered: do not hand it to the child too. */
	fflush(stdout);
	fflush(stderr);
	pid = fork();

	if (!pid) {
		struct conc c;

		conc_setup(&c);
		conc_run(&c, TARGET_CALLS / 3, true);
		_exit(1);
	}
	TEST_ASSERT(pid > 0 && waitpid(pid, &status, 0) == pid, "fork");
	TEST_ASSERT(WIFEXITED(status) && !WEXITSTATUS(status), "the VMM child failed");
	expect_baseline("VMM exited mid-run");
}

static int run_child(void (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();

	if (!pid) {
		fn();
		exit(KSFT_PASS);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : KSFT_FAIL;
}

int main(void)
{
	relay_require_nested();
	base_vms = relay_state_value("vms");
	base_refcnt = relay_module_refcnt();
	TEST_ASSERT(base_vms >= 0 && base_refcnt >= 0,
		    "no \"vms\" in %s or no %s", RELAY_STATE_FILE, RELAY_REFCNT_FILE);

	ksft_print_header();
	ksft_set_plan(2);
	ksft_test_result(run_child(test_flips_and_teardown) == KSFT_PASS,
			 "concurrency_mask_flips_then_teardown_with_pending_exit\n");
	ksft_test_result(run_child(test_process_exit) == KSFT_PASS,
			 "concurrency_vmm_exit_mid_run\n");
	ksft_finished();
}
