// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm_hv_relay: keep a nested Hyper-V root partition's HvPostMessage and
 * HvSignalEvent hypercalls in L0 and hand them to the VMM.
 *
 * The module extends a running, unmodified KVM through ftrace entry hooks on
 * global functions.  Every hook either lets the call through untouched or
 * redirects it, by rewriting the saved instruction pointer, to a function of
 * ours with the same signature that fully replaces it.  The original of a
 * hooked function is never called, and no non-exported KVM function is ever
 * called through a pointer: with IBT, KVM functions whose address is never
 * taken have their ENDBR sealed and an indirect call to them faults.
 *
 * Flow of a relayed call:
 *  1. The vendor's reflect decision (nested_vmx_reflect_vmexit /
 *     nested_svm_exit_special) is hooked.  Its callback runs in atomic
 *     context and calls relay_decide(), which reads only public vCPU state
 *     and L1 memory without faulting.  If the call is ours it marks the vCPU
 *     and diverts the decision to "L0 handles this exit".
 *  2. KVM then calls its hypercall handler, whose hook sees the mark and
 *     diverts it to relay_hypercall(), which may sleep: it translates the
 *     L2 input GPA, signals an eventfd, or exits to userspace with our own
 *     complete_userspace_io.
 *  3. relay_complete() writes the VMM's result into L2's registers.
 *
 * That path is relay_call.c, the arming of the hooks relay_hooks.c and the
 * per-VM state relay_vm.c; the vendors' halves are vmx_nested.c and
 * svm_nested.c.  This file loads and unloads them in order.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/utsname.h>

#include "uapi/linux/kvm_hv_relay.h"
#include "compat.h"
#include "kvm_hv_relay.h"

#define CREATE_TRACE_POINTS
#include "relay_trace.h"

#define RELAY_VERSION "0.1.0"

static_assert(RELAY_CLASS_POST == KVM_NESTED_HYPERV_RELAY_POST_MESSAGE);
static_assert(RELAY_CLASS_SIGNAL == KVM_NESTED_HYPERV_RELAY_SIGNAL_EVENT);
static_assert(RELAY_HC_NESTED == KVM_NESTED_HYPERV_RELAY_NESTED_BIT);

const struct relay_vendor *relay_vendor;
/*
 * Published only once loading can no longer fail: a failed load frees the
 * module whatever its reference count, so until then no hook may take a
 * reference, create state or leave a sleeping replacement of ours running.
 * Zero again from the start of unload.
 */
u64 relay_supported;
static struct dentry *relay_debugfs_dir;

static int relay_state_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "version: %s\nvendor: %s\nsupported: 0x%llx\narmed: %d\nvms: %d\n",
		   RELAY_VERSION, relay_vendor->name, READ_ONCE(relay_supported),
		   READ_ONCE(relay_armed), atomic_read(&relay_nr_vms));
	/*
	 * A VM's state: one relay_vm, its table of chunks, and one chunk of
	 * chunk_vcpus relay_vcpu for every such range of vCPU indexes in use.
	 */
	seq_printf(m, "vm_bytes: %zu\nvcpu_bytes: %zu\nchunk_vcpus: %d\nlive_bytes: %ld\n",
		   sizeof(struct relay_vm), sizeof(struct relay_vcpu),
		   RELAY_VCPU_CHUNK, atomic_long_read(&relay_live_bytes));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(relay_state);

/* The one load-time line: kernel, vendor and every hook armed. */
static void __init relay_log_loaded(void)
{
	const struct relay_vendor *vendor = relay_vendor;
	char hooks[256];
	size_t n;
	unsigned int i;

	n = scnprintf(hooks, sizeof(hooks), "%s", relay_destroy_hook.name);
	for (i = 0; i < vendor->nr_hooks; i++)
		if (vendor->hooks[i].armed)
			n += scnprintf(hooks + n, sizeof(hooks) - n, " %s",
				       vendor->hooks[i].name);
	for (i = 0; i < ARRAY_SIZE(relay_cap_hooks); i++)
		n += scnprintf(hooks + n, sizeof(hooks) - n, " %s",
			       relay_cap_hooks[i].name);
	pr_info("%s loaded on %s, vendor %s, hooks armed: %s\n", RELAY_VERSION,
		utsname()->release, vendor->name, hooks);
}

/*
 * Order: the module notifier first, so that a vendor module reload while we
 * arm cannot go unseen; the hooks, under the same mutex the notifier takes;
 * /dev/kvm_hv_relay, the last step that can fail.  A failed load frees the
 * module whatever its reference count, so what a process could keep across
 * it (VM state, the completion callback, a debugfs file) comes after: until
 * the capability is published every hook passes through.
 */
static int __init relay_init(void)
{
	int ret;

	if (!RELAY_HAVE_KVM_HYPERV) {
		pr_err("refusing to load: this KVM is built without CONFIG_KVM_HYPERV\n");
		return -EOPNOTSUPP;
	}
	if (boot_cpu_has(X86_FEATURE_VMX)) {
		relay_vendor = &relay_vmx_vendor;
	} else if (boot_cpu_has(X86_FEATURE_SVM)) {
		relay_vendor = &relay_svm_vendor;
	} else {
		pr_err("refusing to load: no supported virtualization extension (Intel VMX, AMD SVM) on this CPU\n");
		return -EOPNOTSUPP;
	}

	ret = register_module_notifier(&relay_module_nb);
	if (ret) {
		pr_err("refusing to load: cannot register a module notifier: error %d\n",
		       ret);
		return ret;
	}

	mutex_lock(&relay_arm_mutex);
	ret = relay_verify_and_arm("refusing to load");
	if (!ret)
		WRITE_ONCE(relay_armed, true);
	mutex_unlock(&relay_arm_mutex);
	if (ret)
		goto out_notifier;

	/*
	 * Last of what can fail: once it exists a process may hold it open,
	 * and a failed load would not wait for that file.  Until the
	 * capability is published it sets no mask (relay_set_mask()).
	 */
	ret = relay_dev_register();
	if (ret) {
		pr_err("refusing to load: cannot register /dev/%s: error %d\n",
		       KBUILD_MODNAME, ret);
		goto out_disarm;
	}

	WRITE_ONCE(relay_supported, KVM_NESTED_HYPERV_RELAY_ALL);

	relay_debugfs_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("state", 0444, relay_debugfs_dir, NULL,
			    &relay_state_fops);

	relay_log_loaded();
	return 0;

out_disarm:
	relay_disarm_for_good();
out_notifier:
	unregister_module_notifier(&relay_module_nb);
	return ret;
}

/* The reverse of relay_init(); only once no VM has state (each pins us). */
static void __exit relay_exit_module(void)
{
	debugfs_remove(relay_debugfs_dir);
	WRITE_ONCE(relay_supported, 0);
	relay_dev_unregister();
	relay_disarm_for_good();
	unregister_module_notifier(&relay_module_nb);
	/* State is freed by RCU callbacks that end with module_put(). */
	rcu_barrier();
}

module_init(relay_init);
module_exit(relay_exit_module);

MODULE_DESCRIPTION("Relay a nested Hyper-V root partition's HvPostMessage/HvSignalEvent to the VMM");
MODULE_AUTHOR("kvm-hv-relay developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(RELAY_VERSION);
MODULE_SOFTDEP("pre: kvm");
