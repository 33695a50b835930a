// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay_attach: set the relay mask of a VM from outside its VMM through
 * /dev/kvm_hv_relay.
 *
 * A child process plays the VMM: it creates a VM and waits.  The test takes
 * a copy of the child's VM fd with pidfd_open() + pidfd_getfd(), sees KVM
 * refuse KVM_ENABLE_CAP on it (EIO: another mm), then sets and reads the
 * mask through the device and checks it in the VM's debugfs file
 * /sys/kernel/debug/kvm/<child pid>-<child fd>/hv_relay.  Then the errors:
 * fds that are no KVM VM, bad flags, unknown classes, no CAP_SYS_ADMIN.
 *
 * With argv[1] = path of the kvm-hv-relay CLI (statically linked for the
 * test bed), "relay enable|status|disable --pid" is run against the child
 * as well.
 *
 * testbed-args: /t/extra/kvm-hv-relay
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "kselftest.h"
#include "test_util.h"
#include "kvm_util.h"

#include <linux/kvm_hv_relay.h>
#include "lib/relay_debugfs.h"

#ifndef __NR_pidfd_open
#define __NR_pidfd_open		434
#endif
#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd	438
#endif

#define NR_TESTS	21

static int dev_fd;

/* The "mask: 0x..." line of a VM's debugfs file, or "" when there is none. */
static const char *debugfs_mask(pid_t pid, int vm_fd)
{
	static char line[64];
	char path[128];
	FILE *f;

	line[0] = 0;
	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/hv_relay",
		 (int)pid, vm_fd);
	f = fopen(path, "r");
	if (!f)
		return line;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	line[strcspn(line, "\n")] = 0;
	return line;
}

/* ioctl on the device; 0 or -errno. */
static int dev_ioctl(unsigned long cmd, int vm_fd, __u32 flags, __u64 *mask)
{
	struct kvm_hv_relay_vm_mask m = {
		.vm_fd = vm_fd, .flags = flags, .mask = mask ? *mask : 0,
	};

	if (ioctl(dev_fd, cmd, &m))
		return -errno;
	if (mask)
		*mask = m.mask;
	return m.flags;
}

static int set_mask(int vm_fd, __u64 mask)
{
	return dev_ioctl(KVM_HV_RELAY_SET_VM_MASK, vm_fd, 0, &mask);
}

/* Flags (KVM_HV_RELAY_VM_HAS_STATE) or -errno; the mask in *mask. */
static int get_mask(int vm_fd, __u64 *mask)
{
	return dev_ioctl(KVM_HV_RELAY_GET_VM_MASK, vm_fd, 0, mask);
}

static void result(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (!ok) {
		va_start(ap, fmt);
		ksft_print_msg("%s: ", name);
		vprintf(fmt, ap);
		printf("\n");
		va_end(ap);
	}
	ksft_test_result(ok, "%s\n", name);
}

/* --- the VMM: a child that creates one VM and waits ------------------------ */

struct vmm {
	pid_t pid;
	int vm_fd;		/* in the child's table */
	int go;			/* closing it lets the child exit */
};

static struct vmm vmm_start(void)
{
	int up[2], down[2];
	struct vmm v;
	char c;

	TEST_ASSERT(!pipe(up) && !pipe(down), "pipe");
	/* Output to a file is fully buffered: do not hand it to the child too. */
	fflush(stdout);
	fflush(stderr);
	v.pid = fork();
	TEST_ASSERT(v.pid >= 0, "fork");
	if (!v.pid) {
		struct kvm_vm *vm = vm_create_barebones();

		close(up[0]);
		close(down[1]);
		if (write(up[1], &vm->fd, sizeof(vm->fd)) != sizeof(vm->fd))
			_exit(1);
		/* Until the test closes its end. */
		while (read(down[0], &c, 1) > 0)
			;
		kvm_vm_free(vm);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	TEST_ASSERT(read(up[0], &v.vm_fd, sizeof(v.vm_fd)) == sizeof(v.vm_fd),
		    "the VMM child did not report its VM fd");
	close(up[0]);
	v.go = down[1];
	return v;
}

static void vmm_stop(struct vmm *v)
{
	int status;

	close(v->go);
	TEST_ASSERT(waitpid(v->pid, &status, 0) == v->pid, "waitpid");
	TEST_ASSERT(WIFEXITED(status) && !WEXITSTATUS(status),
		    "VMM child status 0x%x", status);
}

static int grab_fd(pid_t pid, int fd)
{
	int pidfd = syscall(__NR_pidfd_open, pid, 0), ret;

	TEST_ASSERT(pidfd >= 0, "pidfd_open(%d): errno %d", (int)pid, errno);
	ret = syscall(__NR_pidfd_getfd, pidfd, fd, 0);
	TEST_ASSERT(ret >= 0, "pidfd_getfd(%d, %d): errno %d", (int)pid, fd, errno);
	close(pidfd);
	return ret;
}

/* --- the CLI ----------------------------------------------------------------- */

/* Run "CLI relay ARGS --pid PID"; its exit status, its output in @out. */
static int cli(const char *prog, const char *args, pid_t pid, char *out,
	       size_t size)
{
	char cmd[512];
	size_t n = 0, r;
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "%s relay %s --pid %d 2>&1", prog, args, (int)pid);
	p = popen(cmd, "r");
	TEST_ASSERT(p, "popen %s", cmd);
	while (n < size - 1 && (r = fread(out + n, 1, size - 1 - n, p)) > 0)
		n += r;
	out[n] = 0;
	st = pclose(p);
	ksft_print_msg("$ %s relay %s --pid %d: exit %d\n", prog, args, (int)pid,
		       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli(const char *prog, struct vmm *v)
{
	char out[4096], *line, *save = NULL;
	bool ok;
	int rc;

	rc = cli(prog, "enable --mask post", v->pid, out, sizeof(out));
	result(!rc && !strcmp(debugfs_mask(v->pid, v->vm_fd), "mask: 0x1"),
	       "relay_attach_cli_enable", "exit %d, debugfs '%s', output: %s", rc,
	       debugfs_mask(v->pid, v->vm_fd), out);

	rc = cli(prog, "status", v->pid, out, sizeof(out));
	ok = !rc && strstr(out, "mask: 0x1 (post)") && strstr(out, "post_exits: 0");
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		ksft_print_msg("  %s\n", line);
	result(ok, "relay_attach_cli_status", "exit %d", rc);

	rc = cli(prog, "disable", v->pid, out, sizeof(out));
	result(!rc && !strcmp(debugfs_mask(v->pid, v->vm_fd), "mask: 0x0"),
	       "relay_attach_cli_disable", "exit %d, debugfs '%s', output: %s", rc,
	       debugfs_mask(v->pid, v->vm_fd), out);
}

/* --- errors ------------------------------------------------------------------ */

static void test_not_vm_fds(void)
{
	struct kvm_vm *vm = vm_create_barebones();
	int null = open("/dev/null", O_RDWR);
	int kvm = open("/dev/kvm", O_RDWR);
	int vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	int stats = ioctl(vm->fd, KVM_GET_STATS_FD, NULL);
	int r1, r2, r3, r4;

	TEST_ASSERT(null >= 0 && kvm >= 0 && vcpu >= 0 && stats >= 0,
		    "fds: null %d kvm %d vcpu %d stats %d", null, kvm, vcpu, stats);
	r1 = set_mask(null, 3);
	result(r1 == -EINVAL, "relay_attach_not_kvm_fd", "/dev/null: %d", r1);
	r1 = set_mask(vcpu, 3);
	r2 = get_mask(vcpu, NULL);
	result(r1 == -EINVAL && r2 == -EINVAL, "relay_attach_vcpu_fd",
	       "vCPU fd: set %d get %d", r1, r2);
	r3 = set_mask(stats, 3);
	r4 = set_mask(kvm, 3);
	result(r3 == -EINVAL && r4 == -EINVAL, "relay_attach_other_kvm_fds",
	       "kvm-vm-stats %d, /dev/kvm %d", r3, r4);
	/* A fd number this process has no file for, and a negative one. */
	r1 = set_mask(1000000, 3);
	r2 = set_mask(-1, 3);
	r3 = get_mask(-1, NULL);
	result(r1 == -EBADF && r2 == -EBADF && r3 == -EBADF, "relay_attach_bad_fd",
	       "unopened %d, -1 set %d get %d", r1, r2, r3);
	close(stats);
	close(vcpu);
	close(kvm);
	close(null);
	kvm_vm_free(vm);
}

static void test_bad_args(int vm_fd)
{
	__u64 mask = 3, got = 0;
	int r1, r2, r3, r4, flags;

	r1 = dev_ioctl(KVM_HV_RELAY_SET_VM_MASK, vm_fd, 1, &mask);
	r2 = dev_ioctl(KVM_HV_RELAY_GET_VM_MASK, vm_fd, KVM_HV_RELAY_VM_HAS_STATE, &mask);
	result(r1 == -EINVAL && r2 == -EINVAL, "relay_attach_bad_flags",
	       "set %d get %d", r1, r2);

	TEST_ASSERT(!set_mask(vm_fd, KVM_NESTED_HYPERV_RELAY_SIGNAL_EVENT), "set 2");
	r1 = set_mask(vm_fd, KVM_NESTED_HYPERV_RELAY_ALL << 1);
	r2 = set_mask(vm_fd, 1ULL << 63);
	flags = get_mask(vm_fd, &got);
	result(r1 == -EINVAL && r2 == -EINVAL && got == 2 &&
	       flags == KVM_HV_RELAY_VM_HAS_STATE, "relay_attach_unknown_mask",
	       "set 0x6: %d, set 1<<63: %d, mask after 0x%llx flags %d", r1, r2,
	       (unsigned long long)got, flags);

	r3 = ioctl(dev_fd, _IOW(KVM_HV_RELAY_IOCTL_TYPE, 0x7f, __u64), &mask) ? errno : 0;
	r4 = ioctl(dev_fd, KVM_CHECK_EXTENSION, 0) ? errno : 0;
	result(r3 == ENOTTY && r4 == ENOTTY, "relay_attach_unknown_ioctl",
	       "errno %d and %d", r3, r4);
}

/* A child without CAP_SYS_ADMIN, with the device already open. */
static void test_no_cap(int vm_fd)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (!pid) {
		if (syscall(SYS_capget, &hdr, data))
			_exit(10);
		data[0].effective &= ~(1U << CAP_SYS_ADMIN);
		if (syscall(SYS_capset, &hdr, data))
			_exit(11);
		if (set_mask(vm_fd, 3) != -EPERM)
			_exit(12);
		if (get_mask(vm_fd, NULL) != -EPERM)
			_exit(13);
		_exit(0);
	}
	TEST_ASSERT(waitpid(pid, &status, 0) == pid, "waitpid");
	result(WIFEXITED(status) && !WEXITSTATUS(status), "relay_attach_no_cap_sys_admin",
	       "child status 0x%x (10/11: capget/capset, 12: set, 13: get not EPERM)",
	       status);
}

int main(int argc, char *argv[])
{
	const char *prog = argc > 1 ? argv[1] : NULL;
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_NESTED_HYPERV_HCALL_RELAY,
		.args = { KVM_NESTED_HYPERV_RELAY_ALL },
	};
	struct kvm_vm *own;
	struct stat st;
	struct vmm v;
	__u64 mask;
	long base;
	int fd, r, flags;

	relay_require_module();
	TEST_ASSERT(!stat(KVM_HV_RELAY_DEVICE, &st), "stat %s: errno %d",
		    KVM_HV_RELAY_DEVICE, errno);
	base = relay_state_value("vms");
	TEST_ASSERT(base >= 0, "no \"vms\" in %s", RELAY_STATE_FILE);
	dev_fd = open(KVM_HV_RELAY_DEVICE, O_RDWR | O_CLOEXEC);
	TEST_ASSERT(dev_fd >= 0, "open %s: errno %d", KVM_HV_RELAY_DEVICE, errno);

	ksft_print_header();
	ksft_set_plan(NR_TESTS);

	result(S_ISCHR(st.st_mode) && (st.st_mode & 07777) == 0600 && !st.st_uid,
	       "relay_attach_device_mode", "mode 0%o uid %d", st.st_mode,
	       (int)st.st_uid);

	v = vmm_start();
	fd = grab_fd(v.pid, v.vm_fd);
	ksft_print_msg("VMM pid %d, VM fd %d there, %d here\n", (int)v.pid, v.vm_fd, fd);

	/* The problem the device solves. */
	r = ioctl(fd, KVM_ENABLE_CAP, &cap) ? errno : 0;
	result(r == EIO, "relay_attach_enable_cap_foreign_eio", "errno %d", r);

	flags = get_mask(fd, &mask);
	result(!flags && !mask, "relay_attach_get_no_state", "flags %d mask 0x%llx",
	       flags, (unsigned long long)mask);

	r = set_mask(fd, 0);
	result(!r && !strcmp(debugfs_mask(v.pid, v.vm_fd), "") &&
	       relay_state_value("vms") == base, "relay_attach_zero_creates_nothing",
	       "%d, debugfs '%s', vms %ld", r, debugfs_mask(v.pid, v.vm_fd),
	       relay_state_value("vms") - base);

	r = set_mask(fd, KVM_NESTED_HYPERV_RELAY_ALL);
	result(!r && !strcmp(debugfs_mask(v.pid, v.vm_fd), "mask: 0x3") &&
	       relay_state_value("vms") == base + 1, "relay_attach_set",
	       "%d, debugfs '%s'", r, debugfs_mask(v.pid, v.vm_fd));

	flags = get_mask(fd, &mask);
	result(flags == KVM_HV_RELAY_VM_HAS_STATE && mask == 3, "relay_attach_get",
	       "flags %d mask 0x%llx", flags, (unsigned long long)mask);

	r = set_mask(fd, 0);
	flags = get_mask(fd, &mask);
	result(!r && !strcmp(debugfs_mask(v.pid, v.vm_fd), "mask: 0x0") &&
	       flags == KVM_HV_RELAY_VM_HAS_STATE && !mask, "relay_attach_disable",
	       "%d, debugfs '%s', flags %d mask 0x%llx", r,
	       debugfs_mask(v.pid, v.vm_fd), flags, (unsigned long long)mask);

	test_bad_args(fd);
	test_no_cap(fd);

	/* The VM lives on in the child after our copy is gone. */
	close(fd);
	result(!strcmp(debugfs_mask(v.pid, v.vm_fd), "mask: 0x2"),
	       "relay_attach_copy_closed", "debugfs '%s'", debugfs_mask(v.pid, v.vm_fd));

	if (prog && !access(prog, X_OK)) {
		test_cli(prog, &v);
	} else {
		ksft_test_result_skip("relay_attach_cli_enable: no CLI given\n");
		ksft_test_result_skip("relay_attach_cli_status: no CLI given\n");
		ksft_test_result_skip("relay_attach_cli_disable: no CLI given\n");
	}

	vmm_stop(&v);

	/* A VM of our own: the device and KVM_ENABLE_CAP act on one state. */
	own = vm_create_barebones();
	r = set_mask(own->fd, KVM_NESTED_HYPERV_RELAY_POST_MESSAGE);
	cap.args[0] = KVM_NESTED_HYPERV_RELAY_SIGNAL_EVENT;
	r |= ioctl(own->fd, KVM_ENABLE_CAP, &cap);
	flags = get_mask(own->fd, &mask);
	result(!r && mask == 2 && flags == KVM_HV_RELAY_VM_HAS_STATE &&
	       relay_state_value("vms") == base + 1, "relay_attach_own_vm",
	       "%d, mask 0x%llx flags %d vms %ld", r, (unsigned long long)mask,
	       flags, relay_state_value("vms") - base);

	test_not_vm_fds();
	kvm_vm_free(own);

	result(relay_vms_settle(base), "relay_attach_state_freed_with_vms", "%ld VMs left",
	       relay_state_value("vms") - base);
	close(dev_fd);
	ksft_finished();
}
