// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hook machinery: arming and disarming the ftrace hooks, the table of
 * kvm.ko's hooks (the vendors' are in vmx_nested.c and svm_nested.c), and
 * the module notifier that disarms them when the vendor module goes away and
 * arms them again, after verifying its facts, on the copy loaded anew.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kallsyms.h>
#include <linux/module.h>
#include <linux/mutex.h>

#include "compat.h"
#include "kvm_hv_relay.h"

/*
 * Return: 0, -ENOENT when ftrace knows no function of that name (absent in
 * this kernel, or its module not loaded), else register_ftrace_function()'s
 * error: -EBUSY when another ftrace user already claims IPMODIFY on it.
 */
int relay_hook_arm(struct relay_hook *hook)
{
	char name[KSYM_NAME_LEN];
	int ret;

	strscpy(name, hook->name, sizeof(name));
	/*
	 * ftrace_free_filter() leaves the ops pointing at the hashes it freed:
	 * re-arming after a vendor module reload must start from a fresh ops.
	 */
	memset(&hook->ops, 0, sizeof(hook->ops));
	hook->ops.func = hook->func;
	/*
	 * No FTRACE_OPS_FL_RECURSION: none of our callbacks reaches a function
	 * we hook, so ftrace's recursion guard (an extra call on every exit of
	 * every VM) buys nothing.  The callbacks take no lock that sleeps and
	 * are fine to run preemptible, as ftrace may then call them.  The
	 * arguments and the resume address are all they touch, so the
	 * trampoline saves no more than those (compat.h).
	 */
	hook->ops.flags = hook->pass_through ? 0 : RELAY_FTRACE_OPS_FLAGS;
	ret = ftrace_set_filter(&hook->ops, name, strlen(name), 1);
	if (ret)
		/* A plain name that matches no traceable function. */
		return ret == -EINVAL ? -ENOENT : ret;
	ret = register_ftrace_function(&hook->ops);
	if (ret) {
		ftrace_free_filter(&hook->ops);
		return ret;
	}
	hook->armed = true;
	return 0;
}

void relay_hook_disarm(struct relay_hook *hook)
{
	if (!hook->armed)
		return;
	unregister_ftrace_function(&hook->ops);
	ftrace_free_filter(&hook->ops);
	hook->armed = false;
}

/*
 * Armed in this order, disarmed in reverse: state is dropped before it can
 * be created, and the capability is announced only once the relay path is
 * complete.
 */
struct relay_hook relay_destroy_hook = {
	.name = "kvm_arch_destroy_vm", .func = relay_destroy_vm_hook,
	.pass_through = true,
};

struct relay_hook relay_cap_hooks[] = {
	{ .name = "kvm_vm_ioctl_enable_cap", .func = relay_enable_cap_hook },
	{ .name = "kvm_vm_ioctl_check_extension",
	  .func = relay_check_extension_hook },
};

static void relay_disarm_all(void)
{
	const struct relay_vendor *vendor = relay_vendor;
	int i;

	for (i = ARRAY_SIZE(relay_cap_hooks) - 1; i >= 0; i--)
		relay_hook_disarm(&relay_cap_hooks[i]);
	for (i = vendor->nr_hooks - 1; i >= 0; i--)
		relay_hook_disarm(&vendor->hooks[i]);
	relay_hook_disarm(&relay_destroy_hook);
}

/*
 * Arm every hook, or none: on failure everything armed so far is disarmed
 * again and @failed names the hook that could not be armed.
 */
static int relay_arm_all(const char **failed)
{
	const struct relay_vendor *vendor = relay_vendor;
	struct relay_hook *hook;
	unsigned int i;
	int ret;

	hook = &relay_destroy_hook;
	ret = relay_hook_arm(hook);
	if (ret)
		goto fail;
	for (i = 0; i < vendor->nr_hooks; i++) {
		hook = &vendor->hooks[i];
		ret = relay_hook_arm(hook);
		/*
		 * Absent is fine for an optional hook; present but not ours to
		 * hook is not: its calls would go to KVM unrelayed, and e.g. an
		 * L2 VMMCALL then gets #UD instead of its answer.
		 */
		if (ret && !(hook->optional && ret == -ENOENT))
			goto fail;
	}
	for (i = 0; i < ARRAY_SIZE(relay_cap_hooks); i++) {
		hook = &relay_cap_hooks[i];
		ret = relay_hook_arm(hook);
		if (ret)
			goto fail;
	}
	return 0;
fail:
	relay_disarm_all();
	*failed = hook->name;
	return ret;
}

/* The likely cause of relay_hook_arm()'s error, for the one dmesg line. */
static const char *relay_arm_cause(int err)
{
	switch (err) {
	case -ENOENT:
		return "ftrace knows no such function: are kvm and the vendor module loaded?";
	case -EBUSY:
		return "another ftrace user, such as a livepatch, already redirects that function";
	case -ENODEV:
		return "ftrace is disabled";
	default:
		return "ftrace refused the hook";
	}
}

/*
 * Verify kvm's layout and the vendor's facts, then arm.  On failure, prints
 * one line that starts with @ctx and says why, and leaves everything
 * disarmed.  kvm itself cannot be reloaded under us (we link against it),
 * but checking it again with the vendor module keeps one path.
 */
int relay_verify_and_arm(const char *ctx)
{
	const struct relay_vendor *vendor = relay_vendor;
	const char *failed;
	int ret;

	ret = relay_kvm_verify(ctx);
	if (ret)
		return ret;
	if (vendor->verify) {
		ret = vendor->verify(ctx);
		if (ret)
			return ret;
	}
	ret = relay_arm_all(&failed);
	if (ret)
		pr_err("%s: cannot hook %s: error %d (%s)\n", ctx, failed, ret,
		       relay_arm_cause(ret));
	return ret;
}

/*
 * The vendor module may be unloaded and loaded again under us (no VM can
 * exist then: every VM pins it).  Its functions then move, so the hooks
 * are disarmed before its text goes away and armed anew on the new copy,
 * which may be another build of it: its facts are verified again first.
 * Until that succeeds the capability is not announced.
 */
DEFINE_MUTEX(relay_arm_mutex);
bool relay_armed;
/* Set at unload under relay_arm_mutex: from then on, nothing is armed. */
static bool relay_unloading;

/*
 * Whether the hooks are armed, and so whether state set now will be freed
 * with its VM.  Stable while the caller holds a VM: the VM pins the vendor
 * module, whose unload and reload are the only changes.
 */
bool relay_is_armed(void)
{
	return READ_ONCE(relay_armed);
}

static bool relay_is_vendor_module(struct module *mod)
{
	char name[MODULE_NAME_LEN];

	snprintf(name, sizeof(name), "kvm_%s", relay_vendor->name);
	return !strcmp(mod->name, name);
}

static int relay_module_notify(struct notifier_block *nb, unsigned long state,
			       void *data)
{
	struct module *mod = data;
	char ctx[MODULE_NAME_LEN + 48];

	if (!relay_is_vendor_module(mod))
		return NOTIFY_DONE;

	mutex_lock(&relay_arm_mutex);
	if (state == MODULE_STATE_GOING && relay_armed) {
		relay_disarm_all();
		WRITE_ONCE(relay_armed, false);
		pr_warn("%s is going away: relay disarmed until it is loaded again\n",
			mod->name);
	} else if (state == MODULE_STATE_LIVE && !relay_armed &&
		   !relay_unloading) {
		snprintf(ctx, sizeof(ctx), "%s loaded again, relay stays disarmed",
			 mod->name);
		if (!relay_verify_and_arm(ctx)) {
			WRITE_ONCE(relay_armed, true);
			pr_info("%s reloaded: relay armed again\n", mod->name);
		}
	}
	mutex_unlock(&relay_arm_mutex);
	return NOTIFY_OK;
}

struct notifier_block relay_module_nb = {
	.notifier_call = relay_module_notify,
};

/* At unload: disarm, and let no vendor module reload arm again. */
void relay_disarm_for_good(void)
{
	mutex_lock(&relay_arm_mutex);
	relay_unloading = true;
	relay_disarm_all();
	WRITE_ONCE(relay_armed, false);
	mutex_unlock(&relay_arm_mutex);
}
