/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The module's debugfs files as our selftests and the benchmark read them:
 * its global state (/sys/kernel/debug/kvm_hv_relay/state) and each VM's
 * counters (/sys/kernel/debug/kvm/<pid>-<vmfd>/hv_relay), and what a
 * relay suite requires of the loaded module.
 *
 * Include after the selftest library's kvm_util.h.
 */
#ifndef RELAY_DEBUGFS_H
#define RELAY_DEBUGFS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm_hv_relay.h>

#define RELAY_STATE_FILE	"/sys/kernel/debug/kvm_hv_relay/state"

/* "key: value" from a debugfs file, -1 if absent. */
static inline long relay_file_value(const char *path, const char *key)
{
	char line[128];
	long val = -1;
	size_t n = strlen(key);
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			val = strtol(line + n + 1, NULL, 0);
	fclose(f);
	return val;
}

static inline long relay_state_value(const char *key)
{
	return relay_file_value(RELAY_STATE_FILE, key);
}

/* A counter of the VM's own file, /sys/kernel/debug/kvm/<pid>-<fd>/hv_relay. */
static inline long relay_vm_counter(struct kvm_vm *vm, const char *key)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/hv_relay",
		 getpid(), vm->fd);
	return relay_file_value(path, key);
}

/* VM state is freed by an RCU callback: give it a few grace periods. */
static inline bool relay_vms_settle(long want)
{
	int i;

	for (i = 0; i < 300; i++) {
		if (relay_state_value("vms") == want)
			return true;
		usleep(10000);
	}
	return false;
}

#define RELAY_REFCNT_FILE	"/sys/module/kvm_hv_relay/refcnt"

/* The module's reference count: VMs with relay state and open devices pin it. */
static inline long relay_module_refcnt(void)
{
	long v = -1;
	FILE *f = fopen(RELAY_REFCNT_FILE, "r");

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* Relay state and module references back where they were before @when. */
static inline void relay_expect_baseline(const char *when, long base_vms,
					 long base_refcnt)
{
	int i;

	TEST_ASSERT(relay_vms_settle(base_vms), "%s: %ld VMs with relay state, want %ld",
		    when, relay_state_value("vms"), base_vms);
	for (i = 0; i < 300 && relay_module_refcnt() != base_refcnt; i++)
		usleep(10000);
	TEST_ASSERT(relay_module_refcnt() == base_refcnt,
		    "%s: module refcount %ld, want %ld", when,
		    relay_module_refcnt(), base_refcnt);
}

#define RELAY_MODULE_DIR	"/sys/module/kvm_hv_relay"

/* The vendor module's nested= parameter: 1 for Y or 1, 0 otherwise, -1 if absent. */
static inline int relay_vendor_nested(void)
{
	static const char *const params[] = {
		"/sys/module/kvm_intel/parameters/nested",
		"/sys/module/kvm_amd/parameters/nested",
	};
	char v[8] = "";
	size_t i;

	for (i = 0; i < ARRAY_SIZE(params); i++) {
		FILE *f = fopen(params[i], "r");

		if (!f)
			continue;
		if (!fgets(v, sizeof(v), f))
			v[0] = 0;
		fclose(f);
		return v[0] == 'Y' || v[0] == '1';
	}
	return -1;
}

/*
 * With kvm_hv_relay loaded, what it promises is there or the suite fails:
 * a host that lost nesting, a capability that does not answer the whole
 * supported mask on /dev/kvm or on a VM fd, or a missing device or debugfs
 * file would otherwise turn every case into a skip and the run green.
 * Without the module a relay suite has nothing to test, which is a skip.
 */
/* With kvm_hv_relay loaded, the vendor module must have nested= set. */
static inline void relay_assert_nested_if_loaded(void)
{
	int nested;

	if (access(RELAY_MODULE_DIR, F_OK))
		return;
	nested = relay_vendor_nested();
	TEST_ASSERT(nested == 1,
		    "kvm_hv_relay is loaded but the vendor module's nested= is %d, want 1",
		    nested);
}

static inline void relay_require_module(void)
{
	struct kvm_vm *vm;
	int sys, on_vm;

	TEST_REQUIRE(!access(RELAY_MODULE_DIR, F_OK));
	relay_assert_nested_if_loaded();
	sys = kvm_check_cap(KVM_CAP_NESTED_HYPERV_HCALL_RELAY);
	TEST_ASSERT(sys == KVM_NESTED_HYPERV_RELAY_ALL,
		    "kvm_hv_relay is loaded but /dev/kvm answers 0x%x for its capability, want 0x%x",
		    sys, (unsigned int)KVM_NESTED_HYPERV_RELAY_ALL);
	vm = vm_create_barebones();
	on_vm = __vm_ioctl(vm, KVM_CHECK_EXTENSION,
			   (void *)(unsigned long)KVM_CAP_NESTED_HYPERV_HCALL_RELAY);
	kvm_vm_free(vm);
	TEST_ASSERT(on_vm == KVM_NESTED_HYPERV_RELAY_ALL,
		    "kvm_hv_relay is loaded but a VM fd answers 0x%x for its capability, want 0x%x",
		    on_vm, (unsigned int)KVM_NESTED_HYPERV_RELAY_ALL);
	TEST_ASSERT(!access(KVM_HV_RELAY_DEVICE, R_OK | W_OK),
		    "kvm_hv_relay is loaded but %s is missing: errno %d",
		    KVM_HV_RELAY_DEVICE, errno);
	TEST_ASSERT(!access(RELAY_STATE_FILE, R_OK),
		    "kvm_hv_relay is loaded but %s is missing: errno %d", RELAY_STATE_FILE, errno);
}

#endif /* RELAY_DEBUGFS_H */
