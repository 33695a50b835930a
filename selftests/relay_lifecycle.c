// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay_lifecycle: per-VM relay state is created by KVM_ENABLE_CAP, freed
 * with the VM, pins the module while it exists, and nothing is left behind
 * after many create/enable/destroy cycles.  Optionally (argv[1] = path of
 * kvm_hv_relay.ko) unloads and reloads the module around a live VM.
 *
 * The module's own object count is read from debugfs
 * (/sys/kernel/debug/kvm_hv_relay/state, "vms: N").
 *
 * testbed-args: /lib/mods/kvm_hv_relay.ko
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest.h"
#include "test_util.h"
#include "kvm_util.h"

#include <linux/kvm_hv_relay.h>
#include "lib/relay_debugfs.h"

#define CYCLES		500

static int enable(struct kvm_vm *vm, u64 mask)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_NESTED_HYPERV_HCALL_RELAY,
		.args = { mask },
	};

	return __vm_ioctl(vm, KVM_ENABLE_CAP, &cap);
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
	int i;

	for (i = 0; i < CYCLES; i++) {
		struct kvm_vm *vm = vm_create_barebones();

		TEST_ASSERT(!enable(vm, i & 1 ? 1 : 3), "cycle %d: enable", i);
		kvm_vm_free(vm);
	}
	TEST_ASSERT(relay_vms_settle(base), "%d cycles left %ld VMs with state",
		    CYCLES, relay_state_value("vms") - base);
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
}

int main(int argc, char *argv[])
{
	long base;

	TEST_REQUIRE(kvm_check_cap(KVM_CAP_NESTED_HYPERV_HCALL_RELAY));
	base = relay_state_value("vms");
	TEST_REQUIRE(base >= 0);

	ksft_print_header();
	ksft_set_plan(4);

	test_state_follows_vm(base);
	ksft_test_result_pass("relay_lifecycle_state_follows_vm\n");
	test_cycles(base);
	ksft_test_result_pass("relay_lifecycle_%d_cycles\n", CYCLES);
	if (argc > 1) {
		test_unload(argv[1], base);
		ksft_test_result_pass("relay_lifecycle_rmmod_busy_then_clean\n");
		test_vendor_reload(argv[1]);
		ksft_test_result_pass("relay_lifecycle_vendor_module_reload\n");
	} else {
		ksft_test_result_skip("relay_lifecycle_rmmod_busy_then_clean: no module path given\n");
		ksft_test_result_skip("relay_lifecycle_vendor_module_reload: no module path given\n");
	}
	ksft_finished();
}
