/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel modules and the kernel log as the selftests that stage host
 * situations use them (relay_hardening, relay_vmxoff): load and unload
 * modules by path and name, tell whether one is loaded, write their debugfs
 * controls, and read what the kernel logged meanwhile from /dev/kmsg.
 *
 * The test bed's guest has every module at /lib/mods/<name>.ko; tests get
 * paths through a "testbed-args:" line.
 */
#ifndef RELAY_MODULES_H
#define RELAY_MODULES_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* finit_module(2) of @path with @params: 0, or the errno of the failure. */
static inline int relay_mod_load(const char *path, const char *params)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return errno;
	if (syscall(__NR_finit_module, fd, params, 0))
		err = errno;
	close(fd);
	return err;
}

/* Loaded and live (a built-in module has a /sys/module directory too). */
static inline bool relay_mod_loaded(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/initstate", name);
	return !access(path, F_OK);
}

/*
 * delete_module(2) of @name: 0, or the errno of the failure.  References a
 * freed VM held are dropped by RCU callbacks: a busy module is retried for
 * up to three seconds.
 */
static inline int relay_mod_unload(const char *name)
{
	int i;

	for (i = 0; i < 300; i++) {
		if (!syscall(__NR_delete_module, name, O_NONBLOCK))
			return 0;
		if (errno != EWOULDBLOCK && errno != EBUSY)
			return errno;
		usleep(10000);
	}
	return errno;
}

/* @str into @path in one write(2): 0, or the errno of the failure. */
static inline int relay_write_file(const char *path, const char *str)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;
	ssize_t n;

	if (fd < 0)
		return errno;
	n = write(fd, str, strlen(str));
	if (n < 0)
		err = errno;
	else if ((size_t)n != strlen(str))
		err = EIO;
	close(fd);
	return err;
}

/* /dev/kmsg from now on: records logged after relay_kmsg_open(). */
static inline int relay_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Next message logged since relay_kmsg_open(), into @buf without the
 * record's prefix and dictionary; false when there is none (yet).
 */
static inline bool relay_kmsg_next(int fd, char *buf, size_t size)
{
	char rec[2048];
	char *msg, *nl;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: skip them */
		if (n <= 0)
			return false;
		rec[n] = 0;
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = 0;
		snprintf(buf, size, "%s", msg);
		return true;
	}
}

#endif /* RELAY_MODULES_H */
