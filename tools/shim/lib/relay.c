// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kvm_hv_relay capability, reaching a running VMM's VM fd, and the
 * module's /dev/kvm_hv_relay, which accepts such a fd.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

static const struct {
	const char *name;
	uint64_t mask;
} relay_classes[] = {
	{ "post",	HVR_RELAY_POST_MESSAGE },
	{ "signal",	HVR_RELAY_SIGNAL_EVENT },
	{ "all",	HVR_RELAY_ALL },
	{ "none",	0 },
};

#define CLASS_LIST	"post, signal, all, none, a comma list of them, or a number"

static int relay_class(const char *s, size_t len, uint64_t *mask, struct hvr_error *err)
{
	char shown[96];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(relay_classes); i++) {
		if (strlen(relay_classes[i].name) == len && !memcmp(relay_classes[i].name, s, len)) {
			*mask |= relay_classes[i].mask;
			return 0;
		}
	}
	return hvr_fail(err, -EINVAL, "'%s' is not a relay class (" CLASS_LIST ")",
			hvr_printable(s, len, shown, sizeof(shown)));
}

int hvr_relay_mask_parse(const char *text, uint64_t *mask, struct hvr_error *err)
{
	char shown[96];
	const char *p = text;
	uint64_t m = 0;
	int ret;

	if (!text || !*text)
		return hvr_fail(err, -EINVAL, "empty relay mask (" CLASS_LIST ")");
	hvr_printable(text, strlen(text), shown, sizeof(shown));
	if (text[0] >= '0' && text[0] <= '9') {
		ret = hvr_parse_u64(text, strlen(text), &m);
		if (ret == -ERANGE)
			return hvr_fail(err, -EINVAL, "'%s': a relay mask has 64 bits", shown);
		if (ret)
			return hvr_fail(err, -EINVAL, "'%s' is not a number", shown);
		*mask = m;
		return 0;
	}
	/* Each comma separates two classes: ",", "post," or "post,,signal" lack one. */
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (!len)
			return hvr_fail(err, -EINVAL, "'%s': a class is missing around a comma",
					shown);
		ret = relay_class(p, len, &m, err);
		if (ret)
			return ret;
		if (!end)
			break;
		p = end + 1;
	}
	*mask = m;
	return 0;
}

const char *hvr_relay_mask_str(uint64_t mask, char *buf, size_t size)
{
	uint64_t rest = mask & ~HVR_RELAY_ALL;
	size_t len = 0;
	int n;

	if (!size)
		return buf;
	buf[0] = '\0';
	if (!mask) {
		snprintf(buf, size, "none");
		return buf;
	}
	if (mask & HVR_RELAY_POST_MESSAGE) {
		n = snprintf(buf, size, "post");
		len = n > 0 ? (size_t)n : 0;
	}
	if ((mask & HVR_RELAY_SIGNAL_EVENT) && len < size) {
		n = snprintf(buf + len, size - len, "%ssignal", len ? "," : "");
		len += n > 0 ? (size_t)n : 0;
	}
	if (rest && len < size)
		snprintf(buf + len, size - len, "%sunknown 0x%llx", len ? "," : "",
			 (unsigned long long)rest);
	return buf;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int hvr_pidfd_open(pid_t pid, struct hvr_error *err)
{
	int fd;

	if (pid <= 0)
		return hvr_fail(err, -EINVAL, "pid %d is not a process id", (int)pid);
	fd = (int)syscall(__NR_pidfd_open, pid, 0);
	if (fd >= 0)
		return fd;
	if (errno == ENOSYS)
		return hvr_fail(err, -ENOSYS, "pidfd_open: %s (needs Linux 5.3 or later)",
				strerror(ENOSYS));
	return hvr_fail(err, -errno, "pidfd_open(%d): %s", (int)pid, strerror(errno));
}

/* A pidfd polls readable once its process has exited; it never names another. */
static bool pidfd_exited(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL));
}

int hvr_vm_fds(pid_t pid, int *fds, unsigned int max, struct hvr_error *err)
{
	int pidfd = hvr_pidfd_open(pid, err), ret;

	if (pidfd < 0)
		return pidfd;
	ret = hvr_vm_fds_pidfd(pidfd, pid, fds, max, err);
	close(pidfd);
	return ret;
}

static int scan_fds(pid_t pid, int *fds, unsigned int max, struct hvr_error *err)
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

int hvr_vm_fds_pidfd(int pidfd, pid_t pid, int *fds, unsigned int max, struct hvr_error *err)
{
	int ret = scan_fds(pid, fds, max, err);

	/*
	 * The pid named the pidfd's process when the pidfd was opened; if that
	 * process is still there after the scan, its number cannot have gone to
	 * another one in between, so the fds read are its own.
	 */
	if (pidfd_exited(pidfd))
		return hvr_fail(err, -ESRCH,
				"pid %d exited during the scan of its fds (its number may now be another process's)",
				(int)pid);
	return ret;
}

int hvr_vm_fd_grab(pid_t pid, int target_fd, struct hvr_error *err)
{
	int pidfd = hvr_pidfd_open(pid, err), fd;

	if (pidfd < 0)
		return pidfd;
	fd = hvr_vm_fd_grab_pidfd(pidfd, pid, target_fd, err);
	close(pidfd);
	return fd;
}

int hvr_vm_fd_grab_pidfd(int pidfd, pid_t pid, int target_fd, struct hvr_error *err)
{
	int fd, ret;

	fd = (int)syscall(__NR_pidfd_getfd, pidfd, target_fd, 0);
	ret = -errno;
	if (fd >= 0)
		return fd;
	if (ret == -ESRCH)
		return hvr_fail(err, ret, "pidfd_getfd(%d, fd %d): %s (it has exited)", (int)pid,
				target_fd, strerror(-ret));
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
