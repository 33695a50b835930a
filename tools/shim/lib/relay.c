// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kvm_hv_relay capability, reaching a running VMM's VM fd, and the
 * module's /dev/kvm_hv_relay, which accepts such a fd.
 */
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/kvm_hv_relay.h>

#include "internal.h"

/* glibc < 2.36 has no wrappers; the numbers are the same on every arch. */
#ifndef __NR_pidfd_open
#define __NR_pidfd_open		434
#endif
#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd	438
#endif

_Static_assert(HVR_RELAY_POST_MESSAGE == KVM_NESTED_HYPERV_RELAY_POST_MESSAGE, "uapi");
_Static_assert(HVR_RELAY_SIGNAL_EVENT == KVM_NESTED_HYPERV_RELAY_SIGNAL_EVENT, "uapi");

/*
 * kvm_vm_ioctl() answers EIO to any process whose mm is not the VM's: a VM fd
 * taken with pidfd_getfd() is good for naming the VM, not for ioctls.
 */
#define FOREIGN_MM_HINT	"KVM serves VM ioctls only to the process that created the VM"

int hvr_relay_query(int fd, uint64_t *mask, struct hvr_error *err)
{
	int r = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NESTED_HYPERV_HCALL_RELAY);

	if (r < 0 && errno == EIO)
		return hvr_fail(err, -EIO, "KVM_CHECK_EXTENSION(relay): %s (" FOREIGN_MM_HINT
				"; ask /dev/kvm instead)", strerror(EIO));
	if (r < 0)
		return hvr_fail(err, -errno, "KVM_CHECK_EXTENSION(relay): %s", strerror(errno));
	*mask = (uint64_t)r;
	return 0;
}

int hvr_relay_enable(int vm_fd, uint64_t mask, struct hvr_error *err)
{
	struct kvm_enable_cap c;
	uint64_t supported;
	int ret;

	memset(&c, 0, sizeof(c));
	c.cap = KVM_CAP_NESTED_HYPERV_HCALL_RELAY;
	c.args[0] = mask;
	if (ioctl(vm_fd, KVM_ENABLE_CAP, &c) == 0)
		return 0;
	ret = -errno;
	if (ret == -EIO)
		return hvr_fail(err, ret, "KVM_ENABLE_CAP(relay, 0x%llx): %s (" FOREIGN_MM_HINT
				", or the VM is dead; from outside the VMM use "
				KVM_HV_RELAY_DEVICE ")", (unsigned long long)mask, strerror(-ret));
	if (ret != -EINVAL)
		return hvr_fail(err, ret, "KVM_ENABLE_CAP(relay, 0x%llx): %s",
				(unsigned long long)mask, strerror(-ret));
	/* EINVAL means two different things; tell the user which. */
	if (hvr_relay_query(vm_fd, &supported, NULL))
		return hvr_fail(err, ret, "KVM_ENABLE_CAP(relay, 0x%llx): %s",
				(unsigned long long)mask, strerror(-ret));
	if (!supported)
		return hvr_fail(err, ret,
				"KVM_ENABLE_CAP(relay): %s (the kvm_hv_relay module is not loaded)",
				strerror(-ret));
	return hvr_fail(err, ret,
			"KVM_ENABLE_CAP(relay, 0x%llx): %s (the module supports mask 0x%llx)",
			(unsigned long long)mask, strerror(-ret), (unsigned long long)supported);
}

int hvr_relay_dev_open(struct hvr_error *err)
{
	int fd = open(KVM_HV_RELAY_DEVICE, O_RDWR | O_CLOEXEC);
	int ret = -errno;

	if (fd >= 0)
		return fd;
	if (ret == -ENOENT)
		return hvr_fail(err, ret,
				"%s: %s (the kvm_hv_relay module is not loaded, or is older than the device)",
				KVM_HV_RELAY_DEVICE, strerror(-ret));
	if (ret == -EACCES || ret == -EPERM)
		return hvr_fail(err, ret, "%s: %s (root only)", KVM_HV_RELAY_DEVICE,
				strerror(-ret));
	return hvr_fail(err, ret, "%s: %s", KVM_HV_RELAY_DEVICE, strerror(-ret));
}

/* The device's errors, for one VM fd of this process. */
static int relay_dev_fail(struct hvr_error *err, int ret, const char *op, int vm_fd,
			  uint64_t mask)
{
	const char *why = "";

	switch (ret) {
	case -EBADF:
		why = " (not an open fd)";
		break;
	case -EINVAL:
		why = " (not a KVM VM fd, or a class the module does not support)";
		break;
	case -EPERM:
		why = " (needs CAP_SYS_ADMIN)";
		break;
	case -ENODEV:
		why = " (the relay is disarmed: see dmesg)";
		break;
	case -ENOTTY:
		why = " (not " KVM_HV_RELAY_DEVICE ")";
		break;
	}
	if (!strcmp(op, "KVM_HV_RELAY_SET_VM_MASK"))
		return hvr_fail(err, ret, "%s(fd %d, 0x%llx): %s%s", op, vm_fd,
				(unsigned long long)mask, strerror(-ret), why);
	return hvr_fail(err, ret, "%s(fd %d): %s%s", op, vm_fd, strerror(-ret), why);
}

int hvr_relay_set_mask(int dev_fd, int vm_fd, uint64_t mask, struct hvr_error *err)
{
	struct kvm_hv_relay_vm_mask m;

	memset(&m, 0, sizeof(m));
	m.vm_fd = vm_fd;
	m.mask = mask;
	if (ioctl(dev_fd, KVM_HV_RELAY_SET_VM_MASK, &m))
		return relay_dev_fail(err, -errno, "KVM_HV_RELAY_SET_VM_MASK", vm_fd, mask);
	return 0;
}

int hvr_relay_get_mask(int dev_fd, int vm_fd, uint64_t *mask, bool *has_state,
		       struct hvr_error *err)
{
	struct kvm_hv_relay_vm_mask m;

	memset(&m, 0, sizeof(m));
	m.vm_fd = vm_fd;
	if (ioctl(dev_fd, KVM_HV_RELAY_GET_VM_MASK, &m))
		return relay_dev_fail(err, -errno, "KVM_HV_RELAY_GET_VM_MASK", vm_fd, 0);
	*mask = m.mask;
	if (has_state)
		*has_state = m.flags & KVM_HV_RELAY_VM_HAS_STATE;
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int hvr_vm_fds(pid_t pid, int *fds, unsigned int max, struct hvr_error *err)
{
	char dir[64], link[64];
	unsigned int n = 0;
	struct dirent *d;
	DIR *dp;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	dp = opendir(dir);
	if (!dp) {
		int ret = -errno;

		if (ret == -EACCES || ret == -EPERM)
			return hvr_fail(err, ret,
					"%s: %s (reading another user's fds needs ptrace rights: same user, or CAP_SYS_PTRACE)",
					dir, strerror(-ret));
		return hvr_fail(err, ret, "%s: %s", dir, strerror(-ret));
	}
	while ((d = readdir(dp))) {
		ssize_t len;
		char *end;
		long fd;

		fd = strtol(d->d_name, &end, 10);
		if (*end || end == d->d_name)
			continue;
		len = readlinkat(dirfd(dp), d->d_name, link, sizeof(link) - 1);
		if (len < 0)
			continue;
		link[len] = '\0';
		if (strcmp(link, "anon_inode:kvm-vm"))
			continue;
		if (n < max)
			fds[n] = (int)fd;
		n++;
	}
	closedir(dp);
	qsort(fds, n < max ? n : max, sizeof(*fds), cmp_int);
	return (int)n;
}

int hvr_vm_fd_grab(pid_t pid, int target_fd, struct hvr_error *err)
{
	int pidfd, fd, ret;

	pidfd = (int)syscall(__NR_pidfd_open, pid, 0);
	if (pidfd < 0)
		return hvr_fail(err, -errno, "pidfd_open(%d): %s", (int)pid, strerror(errno));
	fd = (int)syscall(__NR_pidfd_getfd, pidfd, target_fd, 0);
	ret = -errno;
	close(pidfd);
	if (fd >= 0)
		return fd;
	if (ret == -EPERM)
		return hvr_fail(err, ret,
				"pidfd_getfd(%d, fd %d): %s: taking a VMM's fd needs ptrace rights over it (same user and ptrace_scope permitting, or CAP_SYS_PTRACE)",
				(int)pid, target_fd, strerror(-ret));
	if (ret == -ENOSYS)
		return hvr_fail(err, ret, "pidfd_getfd: %s (needs Linux 5.6 or later)",
				strerror(-ret));
	return hvr_fail(err, ret, "pidfd_getfd(%d, fd %d): %s", (int)pid, target_fd,
			strerror(-ret));
}
