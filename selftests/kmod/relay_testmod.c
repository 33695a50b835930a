// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay_testmod: a test-only module for the kvm-hv-relay selftests, never
 * packaged.  It stages situations a host can be in that no ordinary test
 * reaches:
 *
 * claim=<function>
 *	Hook <function> with an ftrace_ops that has FTRACE_OPS_FL_IPMODIFY
 *	and does nothing, as a distribution livepatch of that function would.
 *	A second IPMODIFY user of the same function is refused by ftrace
 *	(-EBUSY).  Loading fails if no traceable function has that name.
 *
 * /sys/kernel/debug/relay_testmod/vmxoff (Intel only)
 *	Writing anything sets KVM's "rebooting" flag and executes VMXOFF on
 *	every CPU, as KVM's reboot and shutdown path does: VMX is off under a
 *	KVM that still has vCPUs.  There is no way back: use it last.
 *
 * /sys/kernel/debug/relay_testmod/ibt (kernels with IBT enforced)
 *	Writing anything makes an indirect call to an address that is not an
 *	ENDBR64, which IBT must trap (#CP, "Missing ENDBR", an oops that
 *	kills the writer): the test bed's proof that the emulated CPU and
 *	the kernel really enforce what our hooks are meant never to trip.
 *
 * /sys/kernel/debug/relay_testmod/misc
 *	Writing a name registers a misc device of that name, as another
 *	driver that took it first would: a later misc_register() of the same
 *	name fails with -EEXIST (and sysfs logs the duplicate with a stack
 *	dump).  Writing "-", or unloading, gives the name back.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/ftrace.h>
#include <linux/kallsyms.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/asm.h>
#include <asm/cpufeature.h>
#include <asm/nospec-branch.h>

static char *claim;
module_param(claim, charp, 0444);
MODULE_PARM_DESC(claim, "function to hook with FTRACE_OPS_FL_IPMODIFY, as a livepatch would");

static char testmod_claimed[KSYM_NAME_LEN];
static bool testmod_registered;
static struct dentry *testmod_dir;

/* Called at every entry of the claimed function: leaves it as it is. */
static void notrace testmod_passthrough(unsigned long ip, unsigned long parent_ip,
					struct ftrace_ops *op,
					struct ftrace_regs *fregs)
{
}

static struct ftrace_ops testmod_ops = {
	.func = testmod_passthrough,
	.flags = FTRACE_OPS_FL_IPMODIFY,
};

static int testmod_claim(const char *name)
{
	int ret;

	if (strscpy(testmod_claimed, name, sizeof(testmod_claimed)) < 0) {
		pr_err("claim=%s: name too long\n", name);
		return -EINVAL;
	}
	ret = ftrace_set_filter(&testmod_ops, testmod_claimed,
				strlen(testmod_claimed), 1);
	if (ret) {
		pr_err("claim=%s: no traceable function of that name (error %d)\n",
		       testmod_claimed, ret);
		return -ENOENT;
	}
	ret = register_ftrace_function(&testmod_ops);
	if (ret) {
		ftrace_free_filter(&testmod_ops);
		pr_err("claim=%s: cannot register the IPMODIFY hook (error %d)\n",
		       testmod_claimed, ret);
		return ret;
	}
	testmod_registered = true;
	pr_info("claimed %s with an IPMODIFY ftrace_ops\n", testmod_claimed);
	return 0;
}

/*
 * KVM's flag that makes its own VMX instructions ignore faults: kvm.ko's
 * kvm_rebooting up to 6.x, the core kernel's virt_rebooting from 7.x on
 * (exported only to KVM there; __symbol_get() does not check that).
 */
static const char * const testmod_flag_names[] = {
	"kvm_rebooting", "virt_rebooting",
};

static void testmod_vmxoff_cpu(void *arg)
{
	atomic_t *done = arg;
	int off = 0;

	/* #UD when this CPU is not in VMX operation: then nothing changes. */
	asm volatile("1: vmxoff\n\t"
		     "movl $1, %[off]\n"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [off] "+r" (off) : : "cc", "memory");
	if (off)
		atomic_inc(done);
}

static ssize_t testmod_vmxoff_write(struct file *file, const char __user *buf,
				    size_t count, loff_t *ppos)
{
	atomic_t done = ATOMIC_INIT(0);
	const char *name = NULL;
	bool *flag = NULL;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(testmod_flag_names) && !flag; i++) {
		name = testmod_flag_names[i];
		flag = __symbol_get(name);
	}
	if (!flag) {
		pr_err("vmxoff: neither kvm_rebooting nor virt_rebooting is exported here\n");
		return -ENOENT;
	}
	WRITE_ONCE(*flag, true);
	/* The flag must be seen before any CPU leaves VMX operation. */
	smp_mb();
	on_each_cpu(testmod_vmxoff_cpu, &done, 1);
	__symbol_put(name);
	pr_info("vmxoff: %s set, VMXOFF executed on %d of %u CPUs\n", name,
		atomic_read(&done), num_online_cpus());
	return count;
}

static const struct file_operations testmod_vmxoff_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = testmod_vmxoff_write,
	.llseek = noop_llseek,
};

/* Its address is taken, so the compiler gives it an ENDBR64 under IBT. */
static noinline int testmod_ibt_target(void)
{
	return 1;
}

static ssize_t testmod_ibt_write(struct file *file, const char __user *buf,
				 size_t count, loff_t *ppos)
{
	static const u8 endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };
	unsigned long target = (unsigned long)testmod_ibt_target;
	unsigned long ret;

	/* A run-time address: a constant target+4 would be an objtool finding. */
	OPTIMIZER_HIDE_VAR(target);
	if (!cpu_feature_enabled(X86_FEATURE_IBT)) {
		pr_err("ibt: IBT is not enabled on this kernel and CPU\n");
		return -EOPNOTSUPP;
	}
	if (memcmp((void *)target, endbr64, sizeof(endbr64))) {
		pr_err("ibt: %ps does not start with ENDBR64\n", (void *)target);
		return -EINVAL;
	}
	/* Past the ENDBR64: the first instruction of the body. */
	target += sizeof(endbr64);
	/* On the console (loglevel 5): the test bed anchors on this line. */
	pr_warn("ibt: indirect call to %pS, which IBT must trap\n", (void *)target);
	/* A plain indirect call: a retpoline thunk would not be tracked. */
	asm volatile(ANNOTATE_RETPOLINE_SAFE "\n\t"
		     "call *%[target]"
		     : "=a" (ret), ASM_CALL_CONSTRAINT
		     : [target] "r" (target)
		     : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11",
		       "memory", "cc");
	pr_err("ibt: the call returned %lu: IBT did not trap it\n", ret);
	return -EIO;
}

static const struct file_operations testmod_ibt_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = testmod_ibt_write,
	.llseek = noop_llseek,
};

static DEFINE_MUTEX(testmod_misc_mutex);
static char testmod_misc_name[32];
static bool testmod_misc_held;

static const struct file_operations testmod_misc_dev_fops = {
	.owner = THIS_MODULE,
	.open = nonseekable_open,
	.llseek = noop_llseek,
};

static struct miscdevice testmod_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = testmod_misc_name,
	.fops = &testmod_misc_dev_fops,
	.mode = 0600,
};

static void testmod_misc_release(void)
{
	if (!testmod_misc_held)
		return;
	misc_deregister(&testmod_misc);
	testmod_misc_held = false;
	pr_info("misc: gave back the name %s\n", testmod_misc_name);
}

static ssize_t testmod_misc_write(struct file *file, const char __user *buf,
				  size_t count, loff_t *ppos)
{
	char name[sizeof(testmod_misc_name)];
	ssize_t ret = count;

	if (!count || count >= sizeof(name))
		return -EINVAL;
	if (copy_from_user(name, buf, count))
		return -EFAULT;
	name[count] = 0;
	name[strcspn(name, "\n")] = 0;

	mutex_lock(&testmod_misc_mutex);
	testmod_misc_release();
	if (name[0] && strcmp(name, "-")) {
		strscpy(testmod_misc_name, name, sizeof(testmod_misc_name));
		/* misc_deregister() does not give the dynamic minor back here. */
		testmod_misc.minor = MISC_DYNAMIC_MINOR;
		ret = misc_register(&testmod_misc);
		if (!ret) {
			testmod_misc_held = true;
			ret = count;
			pr_info("misc: holding the name %s\n", testmod_misc_name);
		}
	}
	mutex_unlock(&testmod_misc_mutex);
	return ret;
}

static const struct file_operations testmod_misc_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = testmod_misc_write,
	.llseek = noop_llseek,
};

static int __init testmod_init(void)
{
	int ret;

	if (claim && *claim) {
		ret = testmod_claim(claim);
		if (ret)
			return ret;
	}
	testmod_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	if (boot_cpu_has(X86_FEATURE_VMX))
		debugfs_create_file("vmxoff", 0200, testmod_dir, NULL,
				    &testmod_vmxoff_fops);
	debugfs_create_file("ibt", 0200, testmod_dir, NULL, &testmod_ibt_fops);
	debugfs_create_file("misc", 0200, testmod_dir, NULL, &testmod_misc_fops);
	return 0;
}

static void __exit testmod_exit(void)
{
	debugfs_remove(testmod_dir);
	mutex_lock(&testmod_misc_mutex);
	testmod_misc_release();
	mutex_unlock(&testmod_misc_mutex);
	if (testmod_registered) {
		unregister_ftrace_function(&testmod_ops);
		ftrace_free_filter(&testmod_ops);
	}
}

module_init(testmod_init);
module_exit(testmod_exit);

MODULE_DESCRIPTION("kvm-hv-relay selftests: a livepatch-like IPMODIFY hook, KVM's reboot-time VMXOFF, an IBT probe, a taken misc name");
MODULE_AUTHOR("kvm-hv-relay developers");
MODULE_LICENSE("GPL");
