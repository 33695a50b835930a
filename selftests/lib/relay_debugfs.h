/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The module's debugfs files as our selftests and the benchmark read them:
 * its global state (/sys/kernel/debug/kvm_hv_relay/state) and each VM's
 * counters (/sys/kernel/debug/kvm/<pid>-<vmfd>/hv_relay).
 */
#ifndef RELAY_DEBUGFS_H
#define RELAY_DEBUGFS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

#endif /* RELAY_DEBUGFS_H */
