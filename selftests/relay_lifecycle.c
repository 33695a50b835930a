// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay_lifecycle: per-VM relay state is created by KVM_ENABLE_CAP, freed
 * with the VM, pins the module while it exists, and nothing is left behind
 * after many create/enable/destroy cycles, with and without a relayed call
 * in each.  Optionally (an argument: the path of kvm_hv_relay.ko) unloads and
 * reloads the module around a live VM, again and again while unrelated
 * nested VMs keep running, and reloads the vendor module under it.
 *
 * "Nothing left behind" is the module's own accounting in debugfs
 * (/sys/kernel/debug/kvm_hv_relay/state: "vms", "live_bytes"), the module
 * reference count, and the kernel's unreclaimable slab and free memory,
 * measured after emptying the slab caches.  The module's count must come
 * back exactly; the kernel's catch what the module does not count.
 *
 * testbed-args: /lib/mods/kvm_hv_relay.ko
 * testbed-args-brief: -q /lib/mods/kvm_hv_relay.ko
 * testbed-timeout: 900
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <dirent.h>
#include <pthread.h>

#include "kselftest.h"
#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#include "lib/relay_nested.h"
#include "lib/relay_post.h"
#include "lib/relay_mem.h"

/* Plain cycles only add to the relayed ones the VMs that never ran a vCPU. */
static int nr_cycles = 100;
static int nr_relay_cycles = 500;
/*
 * Each reload shares the guest's one CPU with the bystander's vCPU, and loads
 * cost the most under Bochs: about 2 minutes per round on Bochs tigerlake.
 * Three rounds still unload a module that was itself loaded under load.
 */
static int nr_reloads = 3;

#define enable(vm, mask)	relay_enable(vm, mask)

/* --- memory: the module's accounting and the kernel's ------------------------ */

struct mem_snap {
	long live_bytes;	/* the module's relay state */
	long slab_kb;		/* SUnreclaim */
	long free_kb;		/* MemFree */
};

/* Only live memory counts: relay_mem_settle() first. */
static void mem_snapshot(struct mem_snap *m)
{
	relay_mem_settle();
	m->live_bytes = relay_state_value("live_bytes");
	m->slab_kb = meminfo_kb("SUnreclaim");
	m->free_kb = meminfo_kb("MemFree");
}

/*
 * Bounds: 2 KiB of slab or 16 KiB of pages per cycle would show, such as a
 * VM the module kept alive.  One leaked VM's relay state is 1.4 to 3.2 KiB
 * (sized by its vCPUs, relay_vcpus.c) and may stay below them: live_bytes,
 * compared exactly, catches that.
 */
static void mem_expect_baseline(const struct mem_snap *before, int cycles)
{
	struct mem_snap after;
	long slab_max = cycles * 2, free_max = cycles * 16;

	mem_snapshot(&after);
	TEST_ASSERT(after.live_bytes == before->live_bytes,
		    "relay state: %ld bytes live, %ld before", after.live_bytes,
		    before->live_bytes);
	TEST_ASSERT(after.slab_kb - before->slab_kb < slab_max,
		    "unreclaimable slab grew by %ld KiB over %d cycles (bound %ld)",
		    after.slab_kb - before->slab_kb, cycles, slab_max);
	TEST_ASSERT(before->free_kb - after.free_kb < free_max,
		    "free memory shrank by %ld KiB over %d cycles (bound %ld)",
		    before->free_kb - after.free_kb, cycles, free_max);
	ksft_print_msg("%d cycles: relay state %ld bytes; unreclaimable slab %ld -> %ld KiB, free %ld -> %ld KiB\n",
		       cycles, after.live_bytes, before->slab_kb, after.slab_kb,
		       before->free_kb, after.free_kb);
}

static bool vm_file_has_mask(struct kvm_vm *vm, const char *want)
{
	char path[128], buf[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/hv_relay",
		 getpid(), vm->fd);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return strstr(buf, want) != NULL;
}

static void test_state_follows_vm(long base)
{
	struct kvm_vm *vm = vm_create_barebones();
	struct kvm_vm *plain = vm_create_barebones();

	TEST_ASSERT(relay_state_value("vms") == base, "state before enabling");
	TEST_ASSERT(!enable(plain, 0), "mask 0 on a VM without state");
	TEST_ASSERT(relay_state_value("vms") == base, "mask 0 must not create state");
	TEST_ASSERT(!enable(vm, KVM_NESTED_HYPERV_RELAY_ALL), "enable");
	TEST_ASSERT(relay_state_value("vms") == base + 1, "one VM with state");
	TEST_ASSERT(vm_file_has_mask(vm, "mask: 0x3"), "per-VM counters file");
	TEST_ASSERT(!enable(vm, KVM_NESTED_HYPERV_RELAY_ALL), "enable again");
	TEST_ASSERT(relay_state_value("vms") == base + 1, "re-enabling adds no state");
	TEST_ASSERT(!enable(vm, 0), "disable");
	TEST_ASSERT(vm_file_has_mask(vm, "mask: 0x0"), "mask 0 shown");
	kvm_vm_free(plain);
	kvm_vm_free(vm);
	TEST_ASSERT(relay_vms_settle(base), "state freed with the VM");
}

static void test_cycles(long base)
{
	struct mem_snap before;
	int i;

	mem_snapshot(&before);
	for (i = 0; i < nr_cycles; i++) {
		struct kvm_vm *vm = vm_create_barebones();

		TEST_ASSERT(!enable(vm, i & 1 ? 1 : 3), "cycle %d: enable", i);
		kvm_vm_free(vm);
	}
	TEST_ASSERT(relay_vms_settle(base), "%d cycles left %ld VMs with state",
		    nr_cycles, relay_state_value("vms") - base);
	mem_expect_baseline(&before, nr_cycles);
}

/* --- cycles with a relayed call (lib/relay_post.h) ------------------------ */

static void relayed_cycle(int i)
{
	u64 mask = i & 1 ? KVM_NESTED_HYPERV_RELAY_POST_MESSAGE : KVM_NESTED_HYPERV_RELAY_ALL;
	struct kvm_vcpu *vcpu;
	struct relay_run r;
	struct kvm_vm *vm;
	u64 msg_gpa;

	vm = relay_post_vm_create(&vcpu, mask, &msg_gpa);

	/* relay_post_l1_code() never syncs: any sync fails, whatever its value. */
	relay_run_to_done(vcpu, 0x10000 + i, ~0ULL, &r);
	sync_global_from_guest(vm, relay_post_l2_state);
	TEST_ASSERT(r.hyperv_exits == 1 && !r.l1_syncs &&
		    relay_post_l2_state.rax == 0x10000ULL + i,
		    "cycle %d: %d exits, %d syncs, L2 got 0x%llx", i, r.hyperv_exits,
		    r.l1_syncs, (unsigned long long)relay_post_l2_state.rax);
	TEST_ASSERT(relay_post_is_exit(&r.last, msg_gpa),
		    "cycle %d: exit input 0x%llx params[0] 0x%llx", i,
		    (unsigned long long)r.last.u.hcall.input,
		    (unsigned long long)r.last.u.hcall.params[0]);
	kvm_vm_free(vm);
	relay_lib_vm_freed();
}

static void test_relayed_cycles(long base)
{
	struct mem_snap before;
	int i;

	/* KVM's and the kernel's first-use allocations are no leak of ours. */
	for (i = 0; i < 10; i++)
		relayed_cycle(i);
	TEST_ASSERT(relay_vms_settle(base), "warm-up left VMs with relay state");
	mem_snapshot(&before);
	for (i = 0; i < nr_relay_cycles; i++)
		relayed_cycle(i);
	TEST_ASSERT(relay_vms_settle(base), "%d relayed cycles left %ld VMs with state",
		    nr_relay_cycles, relay_state_value("vms") - base);
	mem_expect_baseline(&before, nr_relay_cycles);
}

static long delete_module(const char *name)
{
	return syscall(__NR_delete_module, name, O_NONBLOCK);
}

static void load_module(const char *path, const char *params)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	TEST_ASSERT(fd >= 0, "open %s", path);
	TEST_ASSERT(!syscall(__NR_finit_module, fd, params, 0),
		    "loading %s: errno %d", path, errno);
	close(fd);
}

static void test_unload(const char *ko, long base)
{
	struct kvm_vm *vm = vm_create_barebones();

	TEST_ASSERT(!enable(vm, KVM_NESTED_HYPERV_RELAY_ALL), "enable");
	TEST_ASSERT(delete_module("kvm_hv_relay") == -1 &&
		    (errno == EWOULDBLOCK || errno == EBUSY),
		    "rmmod with a live relay VM: errno %d, want busy", errno);
	kvm_vm_free(vm);
	TEST_ASSERT(relay_vms_settle(base), "state freed with the VM");
	TEST_ASSERT(!delete_module("kvm_hv_relay"), "rmmod after the VM: errno %d",
		    errno);
	TEST_ASSERT(kvm_check_cap(KVM_CAP_NESTED_HYPERV_HCALL_RELAY) == 0,
		    "stock KVM answers 0 for the capability");

	load_module(ko, "");
	TEST_ASSERT(kvm_check_cap(KVM_CAP_NESTED_HYPERV_HCALL_RELAY) ==
		    KVM_NESTED_HYPERV_RELAY_ALL, "capability back after reload");
}

/* --- reloads while unrelated VMs run ---------------------------------------- */

#define KVM_HC_VAPIC_POLL_IRQ	1

/* A KVM (not Hyper-V) hypercall from L1: KVM's hypercall handler is hooked. */
static u64 l1_kvm_hypercall(void)
{
	u64 rax = KVM_HC_VAPIC_POLL_IRQ;

	asm volatile(RELAY_HYPERCALL_ASM("%[svm]")
		     : "+a"(rax) : [svm] "m"(relay_hc_svm)
		     : "rbx", "rcx", "rdx", "rsi", "memory", "cc");
	return rax;
}

/* L2 of a VM without the capability: nested posts, all for L1. */
static void l2_post_forever(void)
{
	struct relay_hc_regs after;

	for (;;)
		relay_l2_hypercall(HC_NESTED | HC_POST, 0x1000, 0, &after);
}

static void l1_count_forever(void *nested, struct relay_l1 *l1)
{
	u64 n;

	relay_l1_setup(l1, nested);
	relay_l1_enter(l1, nested, true);
	for (n = 1;; n++) {
		if (!(n % 64)) {
			GUEST_ASSERT_EQ(l1_kvm_hypercall(), 0);
			GUEST_SYNC(n);
		}
		relay_l1_skip(nested);
		relay_l1_enter(l1, nested, false);
	}
}

struct bystander {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	pthread_t thread;
	volatile bool stop;
	volatile u64 l1_calls;	/* L2 calls L1 has seen so far */
};

static void *bystander_run(void *arg)
{
	struct bystander *b = arg;
	struct ucall uc;

	while (!b->stop) {
		vcpu_run(b->vcpu);
		TEST_ASSERT(b->vcpu->run->exit_reason == KVM_EXIT_IO,
			    "VM without the relay: exit %u (%s)", b->vcpu->run->exit_reason,
			    exit_reason_str(b->vcpu->run->exit_reason));
		switch (get_ucall(b->vcpu, &uc)) {
		case UCALL_SYNC:
			TEST_ASSERT(uc.args[1] == b->l1_calls + 64, "L1 saw %lu calls, want %llu",
				    (unsigned long)uc.args[1],
				    (unsigned long long)b->l1_calls + 64);
			b->l1_calls = uc.args[1];
			/*
			 * A VMM's vCPU thread sleeps now and then: leave the
			 * (maybe only) CPU to rmmod and insmod in between.
			 */
			usleep(1000);
			break;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			break;
		default:
			TEST_FAIL("ucall %lu", (unsigned long)uc.cmd);
		}
	}
	return NULL;
}

/* Wait (bounded) until the bystander has made progress since @since. */
static bool bystander_moved(struct bystander *b, u64 since)
{
	int i;

	for (i = 0; i < 6000 && b->l1_calls <= since; i++)
		usleep(10000);
	return b->l1_calls > since;
}

static void test_reload_under_load(const char *ko, long base)
{
	struct bystander b = { 0 };
	u64 seen;
	int i;

	b.vm = relay_l2_vm_create(&b.vcpu, l1_count_forever, l2_post_forever);
	TEST_ASSERT(!pthread_create(&b.thread, NULL, bystander_run, &b), "thread");
	TEST_ASSERT(bystander_moved(&b, 0), "the bystander VM does not run");

	for (i = 0; i < nr_reloads; i++) {
		TEST_ASSERT(relay_vms_settle(base), "reload %d: VMs with relay state", i);
		seen = b.l1_calls;
		TEST_ASSERT(!delete_module("kvm_hv_relay"), "reload %d: rmmod: errno %d", i,
			    errno);
		TEST_ASSERT(kvm_check_cap(KVM_CAP_NESTED_HYPERV_HCALL_RELAY) == 0,
			    "reload %d: capability announced without the module", i);
		TEST_ASSERT(bystander_moved(&b, seen), "reload %d: VM stalled after rmmod", i);
		seen = b.l1_calls;
		load_module(ko, "");
		TEST_ASSERT(kvm_check_cap(KVM_CAP_NESTED_HYPERV_HCALL_RELAY) ==
			    KVM_NESTED_HYPERV_RELAY_ALL, "reload %d: capability", i);
		TEST_ASSERT(bystander_moved(&b, seen), "reload %d: VM stalled after insmod", i);
	}
	b.stop = true;
	pthread_join(b.thread, NULL);
	ksft_print_msg("%d reloads; the bystander's L1 saw %llu nested posts meanwhile\n",
		       nr_reloads, (unsigned long long)b.l1_calls);
	kvm_vm_free(b.vm);

	/* And the reloaded module still relays. */
	relayed_cycle(0);
}

/*
 * kvm_intel/kvm_amd unloaded and loaded again under the relay: its hooks
 * must follow the new copy, and the capability must not be announced while
 * the vendor module is away.  The vendor module is expected beside ours.
 */
static void test_vendor_reload(const char *ko)
{
	char vendor[64], mod[80], path[512];
	const char *slash = strrchr(ko, '/');
	struct kvm_vm *vm;
	FILE *f = fopen(RELAY_STATE_FILE, "r");
	char line[128];

	vendor[0] = 0;
	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "vendor: %63s", vendor);
	if (f)
		fclose(f);
	TEST_ASSERT(vendor[0], "vendor not in %s", RELAY_STATE_FILE);
	snprintf(mod, sizeof(mod), "kvm_%s", vendor);
	snprintf(path, sizeof(path), "%.*s/%s.ko",
		 slash ? (int)(slash - ko) : 1, slash ? ko : ".", mod);

	TEST_ASSERT(!delete_module(mod), "rmmod %s: errno %d", mod, errno);
	TEST_ASSERT(relay_state_value("armed") == 0, "still armed without %s", mod);
	load_module(path, "nested=1");
	TEST_ASSERT(relay_state_value("armed") == 1, "not armed again after %s", mod);

	vm = vm_create_barebones();
	TEST_ASSERT(kvm_check_cap(KVM_CAP_NESTED_HYPERV_HCALL_RELAY) ==
		    KVM_NESTED_HYPERV_RELAY_ALL, "capability after the reload");
	TEST_ASSERT(!enable(vm, KVM_NESTED_HYPERV_RELAY_ALL), "enable after reload");
	kvm_vm_free(vm);

	/* "armed" is the module's word: a relayed post shows the hooks work. */
	relayed_cycle(0);
}

int main(int argc, char *argv[])
{
	const char *ko;
	long base;
	int opt;

	/*
	 * -q: a fifth of the cycles and one reload, for a cell that runs this
	 * for the locking and lifetime it exercises, not for the leak bound:
	 * make check's Bochs cells.  QEMU's cells, ten times faster, and make
	 * soak run it in full (Documentation/test-bed.rst, "Repetitions").
	 */
	while ((opt = getopt(argc, argv, "q")) != -1) {
		TEST_ASSERT(opt == 'q', "usage: %s [-q] [KVM_HV_RELAY.KO]", argv[0]);
		nr_cycles /= 5;
		nr_relay_cycles /= 5;
		nr_reloads = 1;
	}
	ko = optind < argc ? argv[optind] : NULL;

	relay_require_module();
	base = relay_state_value("vms");
	TEST_ASSERT(base >= 0, "no \"vms\" in %s", RELAY_STATE_FILE);
	relay_require_nested();

	ksft_print_header();
	ksft_set_plan(6);

	test_state_follows_vm(base);
	ksft_test_result_pass("relay_lifecycle_state_follows_vm\n");
	test_cycles(base);
	ksft_test_result_pass("relay_lifecycle_%d_cycles\n", nr_cycles);
	test_relayed_cycles(base);
	ksft_test_result_pass("relay_lifecycle_%d_relayed_cycles\n", nr_relay_cycles);
	if (ko) {
		test_unload(ko, base);
		ksft_test_result_pass("relay_lifecycle_rmmod_busy_then_clean\n");
		test_reload_under_load(ko, base);
		ksft_test_result_pass("relay_lifecycle_%d_reloads_under_load\n", nr_reloads);
		test_vendor_reload(ko);
		ksft_test_result_pass("relay_lifecycle_vendor_module_reload\n");
	} else {
		ksft_test_result_skip("relay_lifecycle_rmmod_busy_then_clean: no module path given\n");
		ksft_test_result_skip("relay_lifecycle_%d_reloads_under_load: no module path given\n",
				      nr_reloads);
		ksft_test_result_skip("relay_lifecycle_vendor_module_reload: no module path given\n");
	}
	ksft_finished();
}
