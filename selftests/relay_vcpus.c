// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay_vcpus: per-VM relay state is sized by the vCPUs a VM has, not by
 * the vCPUs it may have (KVM_CAP_MAX_VCPUS: 1024 on Debian 6.1, 4096 on
 * 6.12 and 7.3), and a vCPU created after the capability was enabled
 * relays exactly like vCPU 0.
 *
 *  - post on the last of 70 vCPUs: a VM enables the capability before it creates any vCPU,
 *    then creates LATE_VCPUS of them; an L2 on the last one, then one on
 *    vCPU 0, make a relayed HvPostMessage.  Each must reach the VMM as one
 *    KVM_EXIT_HYPERV with the nested bit cleared and L2's message GPA (the
 *    relay contract, as relay_post_end_to_end() in lib/relay_post.h checks
 *    it), never L1, and L2 must get the VMM's result.
 *  - state_bytes: for a VM of 1, 4 and 64 vCPUs, the module's live_bytes
 *    (/sys/kernel/debug/kvm_hv_relay/state) grow by at most one page
 *    (4096 bytes, the goal issue 15 set) when the capability is enabled,
 *    and return to where they were when the VM is freed.
 *  - kernel_view: the same from the kernel's side, which is not the code
 *    under test: NR_VMS VMs enable the capability between two readings of
 *    /proc/meminfo (after emptying the slab caches) and the unreclaimable
 *    slab (kmalloc) and free memory (the page allocator, where allocations
 *    larger than two pages go) may not change by more than a page per VM.
 *
 * testbed-timeout: 600
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
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
#include "lib/relay_post.h"
#include "lib/relay_mem.h"

/* More than one of the module's chunks of vCPUs, whatever their size <= 64. */
#define LATE_VCPUS	70
#define PAGE_BYTES	4096
#define NR_VMS		200

/* Relay VMs before the test, and the bytes of relay state they hold. */
static long base_vms, base_bytes;

/* Make @vcpu an L1 whose authorised L2 posts once; check it end to end. */
static void post_on(struct kvm_vm *vm, struct kvm_vcpu *vcpu, u64 result)
{
	struct relay_nested_vcpu nv;
	struct relay_run r;
	u64 msg_gpa;

	relay_nested_vcpu_init(vm, vcpu, &nv);
	nv.l1->direct_hypercall = 1;
	nv.l1->nested_flush = 1;
	nv.l1->l2_rip = (u64)relay_post_l2_code;
	nv.l1->l2_rsp = relay_alloc_page(vm) + 4096;

	memset(&relay_post_l2_state, 0, sizeof(relay_post_l2_state));
	msg_gpa = addr_gva2gpa(vm, relay_alloc_page(vm));
	relay_post_l2_state.msg_gpa = msg_gpa;
	sync_global_to_guest(vm, relay_post_l2_state);

	relay_run_to_done(vcpu, result, ~0ULL, &r);
	sync_global_from_guest(vm, relay_post_l2_state);
	TEST_ASSERT(r.hyperv_exits == 1 && !r.l1_syncs,
		    "vCPU %u: %d KVM_EXIT_HYPERV, L1 saw %d calls; want 1 and 0",
		    vcpu->id, r.hyperv_exits, r.l1_syncs);
	TEST_ASSERT(relay_post_is_exit(&r.last, msg_gpa),
		    "vCPU %u: exit input 0x%llx params[0] 0x%llx, want 0x%llx 0x%llx",
		    vcpu->id, (unsigned long long)r.last.u.hcall.input,
		    (unsigned long long)r.last.u.hcall.params[0],
		    (unsigned long long)HC_POST, (unsigned long long)msg_gpa);
	TEST_ASSERT(relay_post_l2_state.rax == result,
		    "vCPU %u: L2 got 0x%llx, want 0x%llx", vcpu->id,
		    (unsigned long long)relay_post_l2_state.rax,
		    (unsigned long long)result);
}

static void test_late_vcpus(void)
{
	struct kvm_vcpu *vcpus[LATE_VCPUS];
	struct kvm_vm *vm;
	int i;

	vm = vm_create(LATE_VCPUS);
	TEST_ASSERT(!relay_enable(vm, KVM_NESTED_HYPERV_RELAY_ALL),
		    "KVM_ENABLE_CAP before any vCPU");
	for (i = 0; i < LATE_VCPUS; i++)
		vcpus[i] = vm_vcpu_add(vm, i, relay_post_l1_code);

	post_on(vm, vcpus[LATE_VCPUS - 1], 0x4711);
	post_on(vm, vcpus[0], 0x4712);
	ksft_print_msg("%d vCPUs created after enabling, 2 posts: %ld bytes of state\n",
		       LATE_VCPUS, relay_state_value("live_bytes") - base_bytes);
	kvm_vm_free(vm);
	TEST_ASSERT(relay_vms_settle(base_vms), "state freed with the VM");
	TEST_ASSERT(relay_state_value("live_bytes") == base_bytes,
		    "relay state: %ld bytes live after the VM, %ld before",
		    relay_state_value("live_bytes"), base_bytes);
}

/* The module's bytes for a VM of @n vCPUs that enables the capability. */
static long state_bytes(int n)
{
	struct kvm_vm *vm = vm_create_barebones();
	long bytes;
	int i;

	for (i = 0; i < n; i++)
		__vm_vcpu_add(vm, i);
	TEST_ASSERT(!relay_enable(vm, KVM_NESTED_HYPERV_RELAY_ALL), "enable, %d vCPUs", n);
	bytes = relay_state_value("live_bytes") - base_bytes;
	kvm_vm_free(vm);
	TEST_ASSERT(relay_vms_settle(base_vms), "%d vCPUs: state freed with the VM", n);
	TEST_ASSERT(relay_state_value("live_bytes") == base_bytes,
		    "%d vCPUs: %ld bytes live after the VM, %ld before", n,
		    relay_state_value("live_bytes"), base_bytes);
	return bytes;
}

static void test_state_bytes(void)
{
	static const int sizes[] = { 1, 4, 64 };
	long bytes[3];
	int i;

	for (i = 0; i < 3; i++)
		bytes[i] = state_bytes(sizes[i]);
	ksft_print_msg("relay state per VM: %ld bytes with 1 vCPU, %ld with 4, %ld with 64\n",
		       bytes[0], bytes[1], bytes[2]);
	for (i = 0; i < 3; i++)
		TEST_ASSERT(bytes[i] > 0 && bytes[i] <= PAGE_BYTES,
			    "%d vCPUs: %ld bytes of relay state, want 1..%d",
			    sizes[i], bytes[i], PAGE_BYTES);
}

static long slab_long(const char *cache, const char *file)
{
	char path[300];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/%s", cache, file);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/*
 * Bytes in use in the kmalloc caches, and free memory.  Freed objects sit
 * in per-CPU slabs until asked back, so ask first; "objects" then counts
 * the objects in use.
 */
static void mem_read(long *kmalloc_bytes, long *free_kb)
{
	struct dirent *e;
	long sum = 0, n, size;
	DIR *d;

	relay_mem_settle();
	d = opendir("/sys/kernel/slab");
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "kmalloc-", 8))
			continue;
		n = slab_long(e->d_name, "objects");
		size = slab_long(e->d_name, "object_size");
		if (n < 0 || size < 0) {
			sum = -1;
			break;
		}
		sum += n * size;
	}
	if (d)
		closedir(d);
	*kmalloc_bytes = sum;
	*free_kb = meminfo_kb("MemFree");
}

/*
 * What the page allocator's count resolves: with NR_VMS VMs, a few hundred
 * KiB of per-CPU page lists and page cache between two readings are about
 * 2 KiB per VM.  A large allocation, which kvmalloc() takes from the page
 * allocator (the old per-VM array: 32,896 bytes on 6.1, 131,200 on 6.12),
 * is far above it.
 */
#define FREE_NOISE_PER_VM	(3 * PAGE_BYTES)

static void test_kernel_view(void)
{
	long km0, free0, km1, free1, module, km_per_vm, free_per_vm;
	struct kvm_vm *vms[NR_VMS];
	int i;

	for (i = 0; i < NR_VMS; i++) {
		vms[i] = vm_create_barebones();
		__vm_vcpu_add(vms[i], 0);
	}
	mem_read(&km0, &free0);
	for (i = 0; i < NR_VMS; i++)
		TEST_ASSERT(!relay_enable(vms[i], KVM_NESTED_HYPERV_RELAY_ALL),
			    "enable VM %d", i);
	mem_read(&km1, &free1);
	module = (relay_state_value("live_bytes") - base_bytes) / NR_VMS;
	for (i = 0; i < NR_VMS; i++)
		kvm_vm_free(vms[i]);
	TEST_ASSERT(relay_vms_settle(base_vms), "state freed with the VMs");

	TEST_ASSERT(km0 >= 0 && free0 >= 0,
		    "no objects/object_size in /sys/kernel/slab/kmalloc-*, or no MemFree");
	km_per_vm = (km1 - km0) / NR_VMS;
	free_per_vm = (free0 - free1) * 1024 / NR_VMS;
	ksft_print_msg("%d VMs of 1 vCPU enabling the relay, per VM: module %ld bytes\n",
		       NR_VMS, module);
	ksft_print_msg("per VM, kernel: kmalloc caches +%ld bytes, free memory -%ld bytes\n",
		       km_per_vm, free_per_vm);
	TEST_ASSERT(km_per_vm <= PAGE_BYTES,
		    "kmalloc caches grew by %ld bytes per VM, want at most %d",
		    km_per_vm, PAGE_BYTES);
	TEST_ASSERT(free_per_vm <= PAGE_BYTES + FREE_NOISE_PER_VM,
		    "free memory shrank by %ld bytes per VM, want at most %d",
		    free_per_vm, PAGE_BYTES + FREE_NOISE_PER_VM);
}

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{ "relay_vcpus_post_on_the_last_of_70_vcpus_created_after_enable", test_late_vcpus },
	{ "relay_vcpus_state_within_a_page_for_1_4_64_vcpus", test_state_bytes },
	{ "relay_vcpus_kernel_sees_at_most_a_page_per_vm", test_kernel_view },
};

/* Each case in a child, so that one failing does not hide the others. */
static int run_child(void (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		fn();
		exit(KSFT_PASS);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : KSFT_FAIL;
}

int main(int argc, char *argv[])
{
	size_t i;

	relay_require_module();
	base_vms = relay_state_value("vms");
	base_bytes = relay_state_value("live_bytes");
	TEST_ASSERT(base_vms >= 0 && base_bytes >= 0, "no \"vms\"/\"live_bytes\" in %s",
		    RELAY_STATE_FILE);
	relay_require_nested();

	ksft_print_header();
	ksft_set_plan(ARRAY_SIZE(cases));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ksft_test_result(run_child(cases[i].fn) == KSFT_PASS, "%s\n", cases[i].name);
		/* A failed case's VMs are freed with its process. */
		TEST_ASSERT(relay_vms_settle(base_vms), "after %s: %ld VMs with relay state",
			    cases[i].name, relay_state_value("vms"));
	}
	TEST_ASSERT(relay_state_value("live_bytes") == base_bytes,
		    "relay state: %ld bytes live after the test, %ld before",
		    relay_state_value("live_bytes"), base_bytes);
	ksft_finished();
}
