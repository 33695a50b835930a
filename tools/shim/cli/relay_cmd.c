// SPDX-License-Identifier: GPL-2.0-only
/*
 * "relay enable|disable|status --pid PID": act on a running VMM's VM through
 * a duplicate of its VM fd, handed to /dev/kvm_hv_relay (KVM itself refuses
 * VM ioctls from any process but the VM's creator).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define MAX_VM_FDS	16

static int pick_fd(int pidfd, pid_t pid, int want, int *fd)
{
	int fds[MAX_VM_FDS], n, i;
	struct hvr_error err;

	n = hvr_vm_fds_pidfd(pidfd, pid, fds, MAX_VM_FDS, &err);
	if (n < 0)
		return fail("%s", err.msg);
	if (n > MAX_VM_FDS)
		n = MAX_VM_FDS;
	if (want >= 0) {
		for (i = 0; i < n; i++) {
			if (fds[i] == want) {
				*fd = want;
				return 0;
			}
		}
		return fail("pid %d: fd %d is not a KVM VM (anon_inode:kvm-vm)", (int)pid, want);
	}
	if (n == 0)
		return fail("pid %d holds no KVM VM fd (anon_inode:kvm-vm) - is it the VMM?",
			    (int)pid);
	if (n > 1) {
		fprintf(stderr, PROG ": pid %d holds %d VMs, on fds", (int)pid, n);
		for (i = 0; i < n; i++)
			fprintf(stderr, " %d", fds[i]);
		fprintf(stderr, "; choose one with --fd\n");
		return EXIT_NOT_OK;
	}
	*fd = fds[0];
	return 0;
}

static void print_counters(pid_t pid, int target_fd)
{
	char path[128], buf[4096];
	size_t n;
	FILE *f;

	/* KVM names a VM's debugfs directory "<creator pid>-<fd>". */
	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/hv_relay", (int)pid, target_fd);
	f = fopen(path, "r");
	if (!f) {
		printf("counters: %s: %s (debugfs not mounted, not root, or the VM was created by another thread)\n",
		       path, strerror(errno));
		return;
	}
	printf("counters (%s):\n", path);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
}

/* The VM's own mask, through the device; a note instead when it cannot. */
static void print_vm_mask(int pidfd, pid_t pid, int target_fd)
{
	struct hvr_error err;
	bool has_state;
	uint64_t mask;
	int fd, dev, ret;
	char buf[64];

	fd = hvr_vm_fd_grab_pidfd(pidfd, pid, target_fd, &err);
	if (fd < 0) {
		printf("mask: unknown: %s\n", err.msg);
		return;
	}
	dev = hvr_relay_dev_open(&err);
	ret = dev < 0 ? dev : hvr_relay_get_mask(dev, fd, &mask, &has_state, &err);
	if (dev >= 0)
		close(dev);
	close(fd);
	if (ret)
		printf("mask: unknown: %s\n", err.msg);
	else if (!has_state)
		printf("mask: 0x0 (none; the relay was never enabled for this VM)\n");
	else
		printf("mask: 0x%llx (%s)\n", (unsigned long long)mask,
		       hvr_relay_mask_str(mask, buf, sizeof(buf)));
}

static int relay_status(int pidfd, pid_t pid, int target_fd)
{
	struct hvr_error err;
	uint64_t supported;
	char buf[64];
	int fd, ret;

	/* The supported mask is the same on /dev/kvm, which anyone may ask. */
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail("/dev/kvm: %s", strerror(errno));
	ret = hvr_relay_query(fd, &supported, &err);
	close(fd);
	if (ret)
		return fail("%s", err.msg);
	printf("pid %d, VM fd %d\n", (int)pid, target_fd);
	if (!supported) {
		printf("supported: none (kvm_hv_relay is not loaded)\n");
		return 0;
	}
	printf("supported: 0x%llx (%s)\n", (unsigned long long)supported,
	       hvr_relay_mask_str(supported, buf, sizeof(buf)));
	print_vm_mask(pidfd, pid, target_fd);
	print_counters(pid, target_fd);
	return 0;
}

enum action { ENABLE, DISABLE, STATUS };

int cmd_relay(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid",	required_argument,	NULL, 'p' },
		{ "fd",		required_argument,	NULL, 'f' },
		{ "mask",	required_argument,	NULL, 'm' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	uint64_t mask = HVR_RELAY_ALL;
	bool have_mask = false;
	int target_fd = -1, fd, dev, opt, ret, pidfd;
	long long pid = -1, want_fd = -1;
	struct hvr_error err;
	enum action act;
	const char *a;
	char buf[64];

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			/* pid_t is an int: a larger number would wrap to another pid. */
			ret = parse_option_number("--pid", optarg, 1, INT_MAX, &pid);
			if (ret)
				return ret;
			break;
		case 'f':
			ret = parse_option_number("--fd", optarg, 0, INT_MAX, &want_fd);
			if (ret)
				return ret;
			break;
		case 'm':
			if (hvr_relay_mask_parse(optarg, &mask, &err))
				return usage_error("--mask: %s", err.msg);
			have_mask = true;
			break;
		case 'h':
			print_help("relay");
			return 0;
		case ':':
			return usage_error("relay: '%s' needs a value", esc(argv[optind - 1]));
		default:
			return usage_error("relay: unknown option '%s'", esc(argv[optind - 1]));
		}
	}
	if (optind >= argc)
		return usage_error("relay: enable, disable or status?");
	a = argv[optind++];
	if (!strcmp(a, "enable"))
		act = ENABLE;
	else if (!strcmp(a, "disable"))
		act = DISABLE;
	else if (!strcmp(a, "status"))
		act = STATUS;
	else
		return usage_error("relay: '%s' is not enable, disable or status", esc(a));
	if (optind < argc)
		return usage_error("relay: unexpected '%s'", esc(argv[optind]));
	if (pid < 0)
		return usage_error("relay %s: which VMM? (--pid PID)", a);
	if (have_mask && act != ENABLE)
		return usage_error("relay %s: --mask goes with enable only", a);
	if (act == DISABLE)
		mask = 0;

	/* From here on the pidfd names the process; the number may be reused. */
	pidfd = hvr_pidfd_open((pid_t)pid, &err);
	if (pidfd < 0)
		return fail("%s", err.msg);
	ret = pick_fd(pidfd, (pid_t)pid, (int)want_fd, &target_fd);
	if (!ret && act == STATUS)
		ret = relay_status(pidfd, (pid_t)pid, target_fd);
	if (ret || act == STATUS) {
		close(pidfd);
		return ret;
	}

	fd = hvr_vm_fd_grab_pidfd(pidfd, (pid_t)pid, target_fd, &err);
	close(pidfd);
	if (fd < 0)
		return fail("%s", err.msg);
	dev = hvr_relay_dev_open(&err);
	ret = dev < 0 ? dev : hvr_relay_set_mask(dev, fd, mask, &err);
	if (dev >= 0)
		close(dev);
	close(fd);
	if (ret)
		return fail("pid %lld, VM fd %d: %s", pid, target_fd, err.msg);
	if (mask)
		printf("relay enabled for pid %lld, VM fd %d: mask 0x%llx (%s)\n", pid, target_fd,
		       (unsigned long long)mask, hvr_relay_mask_str(mask, buf, sizeof(buf)));
	else
		printf("relay disabled for pid %lld, VM fd %d\n", pid, target_fd);
	return 0;
}
