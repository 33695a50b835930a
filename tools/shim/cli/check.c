// SPDX-License-Identifier: GPL-2.0-only
/*
 * "check": can this host run a nested Hyper-V root with the relay?  Each
 * item says ok or fail and why; any fail makes the exit status non-zero.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm_hv_relay.h>

#include "cli.h"

/* The kernels the module is built and tested for: Debian's 6.1, 6.12, 7.3. */
static const char *const supported_series[] = { "6.1", "6.12", "7.3" };

struct ctx {
	const char *root;
	int failed;
	int total;
	int kvm_fd;
	bool module_loaded;
	enum hvr_vendor vendor;
};

static int item(struct ctx *c, bool ok, const char *name, const char *fmt, ...)
	CLI_PRINTF(4, 5);

static int item(struct ctx *c, bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	c->total++;
	if (!ok)
		c->failed++;
	printf("%-4s  %-9s ", ok ? "ok" : "fail", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return 0;
}

static void path_of(const struct ctx *c, const char *p, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", c->root, p);
}

/* First line of a small file, without the newline; -errno on failure. */
static int read_line(const struct ctx *c, const char *p, char *buf, size_t size)
{
	char path[512];
	FILE *f;
	size_t len;

	path_of(c, p, path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(buf, (int)size, f))
		buf[0] = '\0';
	fclose(f);
	len = strlen(buf);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	return 0;
}

static bool exists(const struct ctx *c, const char *p)
{
	char path[512];

	path_of(c, p, path, sizeof(path));
	return access(path, F_OK) == 0;
}

static bool series_supported(const char *rel)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(supported_series); i++) {
		size_t n = strlen(supported_series[i]);

		/* "6.1" must not match "6.12.x". */
		if (!strncmp(rel, supported_series[i], n) &&
		    (rel[n] == '.' || rel[n] == '-' || rel[n] == '+'))
			return true;
	}
	return false;
}

static int check_kernel(struct ctx *c)
{
	char rel[128], ver[512];
	bool debian;

	if (read_line(c, "/proc/sys/kernel/osrelease", rel, sizeof(rel)))
		return item(c, false, "kernel", "cannot read /proc/sys/kernel/osrelease");
	debian = !read_line(c, "/proc/version", ver, sizeof(ver)) && strstr(ver, "Debian ");
	if (!series_supported(rel))
		return item(c, false, "kernel",
			    "%s is not a supported series (Debian 6.1, 6.12 or 7.3)", rel);
	if (!debian)
		return item(c, false, "kernel",
			    "%s is a supported series but not a Debian build; the module's hooks are verified on Debian's kernels only",
			    rel);
	return item(c, true, "kernel", "%s (Debian)", rel);
}

static int check_module(struct ctx *c)
{
	char ver[64], state[32];

	if (!exists(c, "/sys/module/kvm_hv_relay"))
		return item(c, false, "module",
			    "kvm_hv_relay is not loaded (modprobe kvm_hv_relay; kvm and kvm_intel/kvm_amd first)");
	if (!read_line(c, "/sys/module/kvm_hv_relay/initstate", state, sizeof(state)) &&
	    strcmp(state, "live"))
		return item(c, false, "module", "kvm_hv_relay is %s, not live", state);
	c->module_loaded = true;
	if (read_line(c, "/sys/module/kvm_hv_relay/version", ver, sizeof(ver)))
		return item(c, true, "module", "kvm_hv_relay loaded (version unknown)");
	return item(c, true, "module", "kvm_hv_relay %s loaded", ver);
}

static int check_nested(struct ctx *c)
{
	const char *mod;
	char path[256], val[16];

	if (exists(c, "/sys/module/kvm_intel")) {
		mod = "kvm_intel";
		c->vendor = HVR_VENDOR_INTEL;
	} else if (exists(c, "/sys/module/kvm_amd")) {
		mod = "kvm_amd";
		c->vendor = HVR_VENDOR_AMD;
	} else {
		char seen[256];

		/* Name the module this CPU needs, so that the fix is one modprobe away. */
		c->vendor = c->root[0] ? HVR_VENDOR_UNKNOWN : hvr_cpu_vendor();
		if (c->vendor == HVR_VENDOR_INTEL || c->vendor == HVR_VENDOR_AMD) {
			mod = c->vendor == HVR_VENDOR_INTEL ? "kvm_intel" : "kvm_amd";
			path_of(c, "/sys/module/", path, sizeof(path));
			return item(c, false, "nested",
				    "%s is not loaded (no %s%s), and this is an %s CPU: modprobe %s nested=1",
				    mod, path, mod, c->vendor == HVR_VENDOR_INTEL ? "Intel" : "AMD",
				    mod);
		}
		path_of(c, "/sys/module/kvm_intel", seen, sizeof(seen));
		path_of(c, "/sys/module/kvm_amd", path, sizeof(path));
		return item(c, false, "nested",
			    "neither kvm_intel nor kvm_amd is loaded (looked for %s and %s)", seen,
			    path);
	}
	snprintf(path, sizeof(path), "/sys/module/%s/parameters/nested", mod);
	if (read_line(c, path, val, sizeof(val)))
		return item(c, false, "nested", "cannot read %s", path);
	if (strcmp(val, "Y") && strcmp(val, "1"))
		return item(c, false, "nested",
			    "%s nested=%s: reload it with nested=1 (modprobe -r %s; modprobe %s nested=1)",
			    mod, val, mod, mod);
	return item(c, true, "nested", "%s nested=%s", mod, val);
}

static int check_dev_kvm(struct ctx *c)
{
	char path[512];

	path_of(c, "/dev/kvm", path, sizeof(path));
	c->kvm_fd = open(path, O_RDWR | O_CLOEXEC);
	if (c->kvm_fd < 0)
		return item(c, false, "/dev/kvm", "cannot open: %s", strerror(errno));
	if (ioctl(c->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		close(c->kvm_fd);
		c->kvm_fd = -1;
		return item(c, false, "/dev/kvm", "%s does not answer KVM_GET_API_VERSION", path);
	}
	return item(c, true, "/dev/kvm", "opened");
}

static int check_evmcs(struct ctx *c)
{
	int r;

	if (c->vendor == HVR_VENDOR_AMD)
		return item(c, true, "evmcs", "not used on AMD (the enlightened VMCB is)");
	if (c->kvm_fd < 0)
		return item(c, false, "evmcs", "cannot ask: /dev/kvm is not available");
	r = ioctl(c->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_HYPERV_ENLIGHTENED_VMCS);
	if (r <= 0)
		return item(c, false, "evmcs",
			    "KVM_CHECK_EXTENSION(KVM_CAP_HYPERV_ENLIGHTENED_VMCS) = %d: hvix64 cannot launch its root without eVMCS",
			    r);
	return item(c, true, "evmcs", "KVM_CAP_HYPERV_ENLIGHTENED_VMCS available");
}

static int check_relay(struct ctx *c)
{
	struct hvr_error err;
	uint64_t mask;
	char buf[64];

	if (c->kvm_fd < 0)
		return item(c, false, "relay", "cannot ask: /dev/kvm is not available");
	if (hvr_relay_query(c->kvm_fd, &mask, &err))
		return item(c, false, "relay", "%s", err.msg);
	if (!mask)
		return item(c, false, "relay",
			    "KVM_CHECK_EXTENSION(0x%x) = 0: KVM does not answer the relay capability (module not loaded, or its hooks are not armed: see dmesg)",
			    KVM_CAP_NESTED_HYPERV_HCALL_RELAY);
	return item(c, true, "relay", "supported mask 0x%llx (%s)", (unsigned long long)mask,
	     hvr_relay_mask_str(mask, buf, sizeof(buf)));
}

static int check_hv_cpuid(struct ctx *c)
{
	struct hvr_config cfg;
	struct hvr_spec spec;
	struct hvr_host host;
	struct hvr_error err;
	char left[256] = "";
	int f;

	if (c->kvm_fd < 0)
		return item(c, false, "hv-cpuid", "cannot ask: /dev/kvm is not available");
	if (hvr_host_query(c->kvm_fd, &host, &err))
		return item(c, false, "hv-cpuid", "%s", err.msg);
	if (c->vendor != HVR_VENDOR_UNKNOWN)
		host.vendor = c->vendor;
	hvr_spec_parse("windows", &spec, NULL);
	if (hvr_resolve(&spec, &host, true, &cfg, &err))
		return item(c, false, "hv-cpuid", "windows preset: %s", err.msg);
	for (f = 0; f < HVR_NR_FLAGS; f++) {
		if (cfg.dropped & HVR_FLAG(f)) {
			strncat(left, " ", sizeof(left) - strlen(left) - 1);
			strncat(left, hvr_flag_name(f), sizeof(left) - strlen(left) - 1);
		}
	}
	/* hvix64 does not boot its root without these (Documentation/shim.rst, presets). */
	if (cfg.dropped & (HVR_FLAG(HVR_EVMCS) | HVR_FLAG(HVR_REENLIGHTENMENT) |
			   HVR_FLAG(HVR_STIMER_DIRECT) | HVR_FLAG(HVR_VAPIC) |
			   HVR_FLAG(HVR_SYNIC)))
		return item(c, false, "hv-cpuid",
			    "windows preset with nesting loses what hvix64 needs:%s", left);
	if (left[0])
		return item(c, true, "hv-cpuid", "windows preset with nesting resolves (left out:%s)",
			    left);
	return item(c, true, "hv-cpuid", "windows preset with nesting resolves in full");
}

static int secure_boot(const struct ctx *c)
{
	char path[512];
	unsigned char b[5];
	size_t n;
	FILE *f;

	path_of(c, "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e0f9b3cbf13a",
		path, sizeof(path));
	f = fopen(path, "rb");
	if (!f)
		return exists(c, "/sys/firmware/efi") ? -1 : -2;
	/* efivarfs: 4 bytes of attributes, then the 1-byte value. */
	n = fread(b, 1, sizeof(b), f);
	fclose(f);
	return n == sizeof(b) ? b[4] : -1;
}

static int check_lockdown(struct ctx *c)
{
	static const char *const sb_names[] = { "Secure Boot unknown", "not EFI" };
	char line[128], mode[32] = "none";
	const char *sb, *l, *r;
	int s = secure_boot(c);

	sb = s == 1 ? "Secure Boot on" : s == 0 ? "Secure Boot off" : sb_names[-s - 1];
	if (!read_line(c, "/sys/kernel/security/lockdown", line, sizeof(line))) {
		l = strchr(line, '[');
		r = l ? strchr(l, ']') : NULL;
		if (l && r && (size_t)(r - l - 1) < sizeof(mode)) {
			memcpy(mode, l + 1, r - l - 1);
			mode[r - l - 1] = '\0';
		}
	}
	if (!strcmp(mode, "none") && s != 1)
		return item(c, true, "lockdown", "lockdown none, %s", sb);
	if (c->module_loaded)
		return item(c, true, "lockdown", "lockdown %s, %s; the module is loaded, so it was accepted",
			    mode, sb);
	return item(c, false, "lockdown",
	     "lockdown %s, %s: an unsigned kvm_hv_relay.ko will be refused; sign it with a key the kernel trusts (e.g. an enrolled MOK)",
	     mode, sb);
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root",	required_argument,	NULL, 'r' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctx c = { .root = "", .kvm_fd = -1 };
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			c.root = optarg;
			break;
		case 'h':
			print_help("check");
			return 0;
		case ':':
			return usage_error("check: '%s' needs a value", esc(argv[optind - 1]));
		default:
			return usage_error("check: unknown option '%s'", esc(argv[optind - 1]));
		}
	}
	if (optind < argc)
		return usage_error("check: unexpected '%s'", esc(argv[optind]));

	check_kernel(&c);
	check_module(&c);
	check_nested(&c);
	check_dev_kvm(&c);
	check_evmcs(&c);
	check_relay(&c);
	check_hv_cpuid(&c);
	check_lockdown(&c);
	if (c.kvm_fd >= 0)
		close(c.kvm_fd);

	if (c.failed) {
		printf("\nNot ready: %d of %d checks failed.\n", c.failed, c.total);
		return EXIT_NOT_OK;
	}
	printf("\nReady: all %d checks passed.\n", c.total);
	return 0;
}
