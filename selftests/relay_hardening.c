// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay_hardening: host situations around the module's own loading that no
 * other test stages, each with what the module must do in it.
 *
 *  - Another ftrace user with IPMODIFY (a distribution livepatch) on
 *    kvm_arch_destroy_vm, whose hook of ours only passes through: the
 *    module loads beside it and still frees a VM's state with the VM.
 *  - Another IPMODIFY user on a function the module must redirect: the
 *    load is refused with that errno (EBUSY), one kernel log line says
 *    which function and which error, and the capability is not announced.
 *    On AMD kernels that have vmmcall_interception, that one (the module
 *    hooks it only where it exists).
 *  - The vendor module reloaded with a BTF that is not the one the module
 *    was built against (a vcpu_svm or vcpu_vmx member renamed; test bed:
 *    kvm_amd_btfmod.ko or kvm_intel_btfmod.ko beside the genuine one): the
 *    module stays disarmed and says so; the genuine one loaded again arms
 *    it, and a relayed post works end to end.
 *  - A load that fails late: another driver holds the name of the misc
 *    device, so misc_register() fails with EEXIST, while a VMM enables the
 *    capability in a loop and runs the relayed post whenever that succeeds.
 *    A failed load frees the module whatever its reference count, so no
 *    enable may succeed during it; afterwards KVM_RUN and a read of the
 *    VM's hv_relay debugfs file must not reach the module's code (the
 *    module of 8e80fb5 oopses here).
 *
 * The situations are staged with the test-only module relay_testmod
 * (selftests/kmod).  Each case runs in a child process; after each, the
 * parent puts the modules back as it found them: kvm_hv_relay loaded, the
 * genuine vendor module loaded, relay_testmod not loaded.
 *
 * Arguments: the paths of kvm_hv_relay.ko and relay_testmod.ko; the vendor
 * modules are expected beside kvm_hv_relay.ko.
 *
 * Usage: relay_hardening [-q] RELAY_KO TESTMOD_KO.  -q: the VMM of (d)
 * pauses between its enables, so that the load it races gets most of the
 * CPU (an emulated guest has one): fewer tries, the same window covered.
 *
 * testbed-args: /lib/mods/kvm_hv_relay.ko /lib/mods/relay_testmod.ko
 * testbed-args-brief: -q /lib/mods/kvm_hv_relay.ko /lib/mods/relay_testmod.ko
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"
#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#include "lib/relay_nested.h"
#include "lib/relay_modules.h"
#include "lib/relay_post.h"

#define RELAY_MOD	"kvm_hv_relay"
#define TESTMOD		"relay_testmod"
#define KMSG_LINE	512
#define TESTMOD_MISC	"/sys/kernel/debug/relay_testmod/misc"
/* What sysfs names in the stack dump of the duplicate, for the test bed. */
#define MISC_SYSFS	"'/devices/virtual/misc/" RELAY_MOD "'"

static const char *relay_ko, *testmod_ko;
/* -q: microseconds (d)'s VMM waits after a failed enable */
static unsigned int enable_pause_us;
static char mods_dir[512];
static char vendor_mod[32];		/* kvm_intel or kvm_amd */

/* The vendor module's BTF as the kernel shows it, read while the genuine one is loaded. */
#define BTF_MAX		(4 << 20)
static char *genuine_btf;
static ssize_t genuine_btf_len;

static ssize_t read_all(const char *path, char *buf, size_t size)
{
	ssize_t n, len = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + len, size - len)) > 0 && (size_t)len < size)
		len += n;
	close(fd);
	return n < 0 ? -1 : len;
}

/*
 * Is the vendor module loaded now the one whose BTF was read at the start?  The
 * buffer is on the heap: the selftest library loads the whole ELF image,
 * .bss included, into every VM's memory, and 4 MiB there leaves the VM no
 * room for its page tables.
 */
static void vendor_btf_path(char *buf, size_t size)
{
	snprintf(buf, size, "/sys/kernel/btf/%s", vendor_mod);
}

static bool vendor_btf_genuine(void)
{
	char *now = malloc(BTF_MAX), path[64];
	ssize_t n;
	bool same;

	TEST_ASSERT(now, "malloc");
	vendor_btf_path(path, sizeof(path));
	n = read_all(path, now, BTF_MAX);
	same = n == genuine_btf_len && !memcmp(now, genuine_btf, n);
	free(now);
	return same;
}

static void mod_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s.ko", mods_dir, name);
}

static bool is_amd(void)
{
	return !strcmp(vendor_mod, "kvm_amd");
}

/* Unload @name if it is loaded; false (and a message) if that fails. */
static bool restore_unload(const char *name)
{
	int err;

	if (!relay_mod_loaded(name))
		return true;
	err = relay_mod_unload(name);
	if (err)
		ksft_print_msg("%s: rmmod %s: errno %d\n", __func__, name, err);
	return !err;
}

/* Load @path with @params; false (and a message) if that fails. */
static bool restore_load(const char *path, const char *params)
{
	int err = relay_mod_load(path, params);

	if (err)
		ksft_print_msg("%s: insmod %s: errno %d\n", __func__, path, err);
	return !err;
}

/*
 * Back to the state the plan expects: no relay_testmod, the genuine vendor
 * module with nested=1, kvm_hv_relay loaded.  Returns false if it cannot.
 */
static bool restore(void)
{
	char path[600];
	bool ok;

	ok = restore_unload(TESTMOD);
	if (!relay_mod_loaded(vendor_mod) || !vendor_btf_genuine()) {
		ok &= restore_unload(vendor_mod);
		mod_path(path, sizeof(path), vendor_mod);
		ok &= restore_load(path, "nested=1");
	}
	if (!relay_mod_loaded(RELAY_MOD))
		ok &= restore_load(relay_ko, "");
	return ok;
}

static void load_testmod(const char *params)
{
	int err = relay_mod_load(testmod_ko, params);

	TEST_ASSERT(!err, "insmod %s %s: errno %d (%s)", testmod_ko, params, err,
		    strerror(err));
}

static void unload(const char *name)
{
	int err = relay_mod_unload(name);

	TEST_ASSERT(!err, "rmmod %s: errno %d (%s)", name, err, strerror(err));
}

static long cap(void)
{
	return kvm_check_cap(KVM_CAP_NESTED_HYPERV_HCALL_RELAY);
}

/* --- (a) a livepatch on kvm_arch_destroy_vm ---------------------------------- */

static void test_destroy_hook_shared(void)
{
	struct kvm_vm *vm;
	long base;
	int err;

	unload(RELAY_MOD);
	load_testmod("claim=kvm_arch_destroy_vm");
	err = relay_mod_load(relay_ko, "");
	TEST_ASSERT(!err,
		    "insmod %s beside another IPMODIFY hook on kvm_arch_destroy_vm: errno %d (%s)",
		    relay_ko, err, strerror(err));
	TEST_ASSERT(cap() == KVM_NESTED_HYPERV_RELAY_ALL,
		    "capability answers 0x%lx, want 0x%llx", cap(),
		    (unsigned long long)KVM_NESTED_HYPERV_RELAY_ALL);

	base = relay_state_value("vms");
	vm = vm_create_barebones();
	TEST_ASSERT(!relay_enable(vm, KVM_NESTED_HYPERV_RELAY_ALL), "enable");
	TEST_ASSERT(relay_state_value("vms") == base + 1, "no relay state for the VM");
	kvm_vm_free(vm);
	TEST_ASSERT(relay_vms_settle(base),
		    "VM destroyed, its relay state not freed: %ld VMs with state, want %ld",
		    relay_state_value("vms"), base);
	ksft_print_msg("loaded beside the other hook; the VM's state was freed with it\n");
}

/* --- (b) a function the module must redirect is taken ------------------------ */

/* Is @sym a function of module @mod (exactly that name, no .isra etc.)? */
static bool kallsyms_has(const char *sym, const char *mod)
{
	char line[512], want[256];
	bool found = false;
	FILE *f = fopen("/proc/kallsyms", "r");

	snprintf(want, sizeof(want), " %s\t[%s]", sym, mod);
	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, want);
	if (f)
		fclose(f);
	return found;
}

static const char *conflict_function(void)
{
	if (!is_amd())
		return "nested_vmx_reflect_vmexit";
	if (kallsyms_has("vmmcall_interception", "kvm_amd"))
		return "vmmcall_interception";
	return "nested_svm_exit_special";
}

static void test_hook_conflict(void)
{
	const char *fn = conflict_function();
	char params[128], line[KMSG_LINE], want[160], found[KMSG_LINE] = "";
	int err, kmsg, refusals = 0;

	ksft_print_msg("claiming %s before loading kvm_hv_relay\n", fn);
	unload(RELAY_MOD);
	snprintf(params, sizeof(params), "claim=%s", fn);
	load_testmod(params);

	kmsg = relay_kmsg_open();
	TEST_ASSERT(kmsg >= 0, "open /dev/kmsg: errno %d", errno);
	err = relay_mod_load(relay_ko, "");
	snprintf(want, sizeof(want), "refusing to load: cannot hook %s", fn);
	while (relay_kmsg_next(kmsg, line, sizeof(line))) {
		if (strncmp(line, RELAY_MOD ":", strlen(RELAY_MOD ":")))
			continue;
		ksft_print_msg("kernel: %s\n", line);
		if (strstr(line, "refusing to load")) {
			refusals++;
			snprintf(found, sizeof(found), "%s", line);
		}
	}
	close(kmsg);

	TEST_ASSERT(err == EBUSY,
		    "insmod with %s taken by another IPMODIFY hook: %s%s, want EBUSY",
		    fn, err ? "errno " : "success", err ? strerror(err) : "");
	TEST_ASSERT(refusals == 1, "%d \"refusing to load\" lines from %s, want 1",
		    refusals, RELAY_MOD);
	TEST_ASSERT(strstr(found, want) && strstr(found, "error -16"),
		    "the refusal \"%s\" does not say \"%s\" and \"error -16\"", found, want);
	TEST_ASSERT(!relay_mod_loaded(RELAY_MOD), "%s loaded after all", RELAY_MOD);
	TEST_ASSERT(cap() == 0, "capability answers 0x%lx without the module", cap());

	/* Once the other hook is gone the module loads as usual. */
	unload(TESTMOD);
	err = relay_mod_load(relay_ko, "");
	TEST_ASSERT(!err, "insmod after the other hook is gone: errno %d", err);
	TEST_ASSERT(cap() == KVM_NESTED_HYPERV_RELAY_ALL,
		    "capability answers 0x%lx after the load", cap());
}

/* --- (c) AMD: kvm_amd reloaded with another BTF ------------------------------ */

static void test_vendor_btf_changed(void)
{
	char path[600], line[KMSG_LINE];
	bool said = false;
	int err, kmsg;

	snprintf(line, sizeof(line), "%s_btfmod", vendor_mod);
	mod_path(path, sizeof(path), line);
	TEST_ASSERT(!access(path, R_OK), "%s missing", path);
	TEST_ASSERT(genuine_btf_len > 0, "the genuine %s's BTF was not read", vendor_mod);

	kmsg = relay_kmsg_open();
	TEST_ASSERT(kmsg >= 0, "open /dev/kmsg: errno %d", errno);
	unload(vendor_mod);
	TEST_ASSERT(relay_state_value("armed") == 0, "still armed without %s", vendor_mod);
	err = relay_mod_load(path, "nested=1");
	TEST_ASSERT(!err, "insmod %s: errno %d (%s)", path, err, strerror(err));
	TEST_ASSERT(!vendor_btf_genuine(),
		    "/sys/kernel/btf/%s is the genuine one: the staging failed", vendor_mod);
	while (relay_kmsg_next(kmsg, line, sizeof(line))) {
		if (strncmp(line, RELAY_MOD ":", strlen(RELAY_MOD ":")))
			continue;
		ksft_print_msg("kernel: %s\n", line);
		said |= !!strstr(line, "relay stays disarmed");
	}
	close(kmsg);
	TEST_ASSERT(relay_state_value("armed") == 0,
		    "armed again on a %s with another BTF (armed: %ld)", vendor_mod,
		    relay_state_value("armed"));
	TEST_ASSERT(cap() == 0, "capability answers 0x%lx on a %s with another BTF",
		    cap(), vendor_mod);
	TEST_ASSERT(said, "no \"relay stays disarmed\" line from %s", RELAY_MOD);

	/* The genuine one back: armed, announced, and it relays. */
	unload(vendor_mod);
	mod_path(path, sizeof(path), vendor_mod);
	err = relay_mod_load(path, "nested=1");
	TEST_ASSERT(!err, "insmod %s: errno %d (%s)", path, err, strerror(err));
	TEST_ASSERT(vendor_btf_genuine(), "the genuine %s's BTF changed on reload", vendor_mod);
	TEST_ASSERT(relay_state_value("armed") == 1, "not armed with the genuine %s",
		    vendor_mod);
	TEST_ASSERT(cap() == KVM_NESTED_HYPERV_RELAY_ALL,
		    "capability answers 0x%lx with the genuine %s", cap(), vendor_mod);
	relay_post_end_to_end(0x4242);
	ksft_print_msg("disarmed with the other BTF; re-armed by the genuine %s, relayed post ok\n",
		       vendor_mod);
}

/* --- (d) a load that fails after the hooks would be armed ------------------- */

struct late_fail {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	bool stop;
	long tries, enabled, hyperv_exits;
	int last_errno;
};

/* The VMM: enable, and once enabled run the vCPU to its relayed post. */
static void *late_fail_vmm(void *arg)
{
	struct late_fail *lf = arg;
	struct kvm_run *run = lf->vcpu->run;

	while (!READ_ONCE(lf->stop)) {
		WRITE_ONCE(lf->tries, lf->tries + 1);
		if (relay_enable(lf->vm, KVM_NESTED_HYPERV_RELAY_ALL)) {
			lf->last_errno = errno;
			if (enable_pause_us)
				usleep(enable_pause_us);
			continue;
		}
		lf->enabled++;
		if (lf->hyperv_exits)
			continue;
		/* Left at the exit: the next KVM_RUN completes the call. */
		if (!_vcpu_run(lf->vcpu) && run->exit_reason == KVM_EXIT_HYPERV) {
			run->hyperv.u.hcall.result = 0;
			lf->hyperv_exits++;
		}
	}
	return NULL;
}

static void test_load_fails_late(void)
{
	char line[KMSG_LINE], want[160];
	struct late_fail lf = { 0 };
	int err, kmsg, refusals = 0;
	pthread_t vmm;
	u64 msg_gpa;
	long mask;

	unload(RELAY_MOD);
	load_testmod("");
	err = relay_write_file(TESTMOD_MISC, RELAY_MOD);
	TEST_ASSERT(!err, "%s: take the name %s: errno %d (%s)", TESTMOD_MISC,
		    RELAY_MOD, err, strerror(err));
	lf.vm = relay_post_vm_prepare(&lf.vcpu, &msg_gpa);

	kmsg = relay_kmsg_open();
	TEST_ASSERT(kmsg >= 0, "open /dev/kmsg: errno %d", errno);
	err = relay_write_file("/dev/kmsg", "<4>testbed: tolerate once: " MISC_SYSFS
			       " (relay_hardening: the misc name is taken)\n");
	TEST_ASSERT(!err, "write /dev/kmsg: errno %d", err);
	pthread_create(&vmm, NULL, late_fail_vmm, &lf);
	while (!READ_ONCE(lf.tries))
		usleep(1000);
	err = relay_mod_load(relay_ko, "");
	WRITE_ONCE(lf.stop, true);
	pthread_join(vmm, NULL);

	snprintf(want, sizeof(want), "refusing to load: cannot register /dev/%s: error -17",
		 RELAY_MOD);
	while (relay_kmsg_next(kmsg, line, sizeof(line))) {
		if (strncmp(line, RELAY_MOD ":", strlen(RELAY_MOD ":")))
			continue;
		ksft_print_msg("kernel: %s\n", line);
		refusals += !!strstr(line, want);
	}
	close(kmsg);
	ksft_print_msg("during the load: %ld enables tried, %ld succeeded, %ld relayed posts\n",
		       lf.tries, lf.enabled, lf.hyperv_exits);
	ksft_print_msg("last errno of a failed enable: %d\n", lf.last_errno);

	/*
	 * The module refuses with misc_register()'s -EEXIST (its kernel line
	 * says so); from 7.x the loader hands an init's -EEXIST to userspace
	 * as -EBUSY, EEXIST being finit_module()'s "already loaded".
	 */
	TEST_ASSERT(err == EEXIST || err == EBUSY,
		    "insmod with the misc name taken: %s%s, want EEXIST (EBUSY from 7.x)",
		    err ? "errno " : "success", err ? strerror(err) : "");
	TEST_ASSERT(!relay_mod_loaded(RELAY_MOD), "%s loaded after all", RELAY_MOD);
	TEST_ASSERT(refusals == 1, "no \"%s\" line", want);

	/*
	 * A completion or debugfs file left behind runs freed code here.  A
	 * raw KVM_RUN: without the relay, L2's post goes to L1, whose check
	 * that it did not then fails, as it must; the selftest library of
	 * 6.12 reports such a guest assertion from _vcpu_run() itself.
	 */
	do {
		err = __vcpu_run(lf.vcpu);
	} while (err == -1 && errno == EINTR);
	ksft_print_msg("KVM_RUN after the failed load: %d, exit %s\n", err,
		       exit_reason_str(lf.vcpu->run->exit_reason));
	mask = relay_vm_counter(lf.vm, "mask");
	TEST_ASSERT(!lf.enabled && !lf.hyperv_exits,
		    "the capability was enabled %ld times (%ld relayed posts) during a load that failed",
		    lf.enabled, lf.hyperv_exits);
	TEST_ASSERT(mask == -1, "the VM has a hv_relay debugfs file (mask %ld)", mask);
	TEST_ASSERT(lf.vcpu->run->exit_reason != KVM_EXIT_HYPERV,
		    "KVM_RUN after the failed load exits to the VMM for a relayed call");
	kvm_vm_free(lf.vm);

	err = relay_write_file(TESTMOD_MISC, "-");
	TEST_ASSERT(!err, "%s: give the name back: errno %d", TESTMOD_MISC, err);
	err = relay_mod_load(relay_ko, "");
	TEST_ASSERT(!err, "insmod once the name is free: errno %d", err);
	TEST_ASSERT(cap() == KVM_NESTED_HYPERV_RELAY_ALL,
		    "capability answers 0x%lx after the load", cap());
	relay_post_end_to_end(0x4242);
}

/* --------------------------------------------------------------------------- */

struct hardening_case {
	const char *name;
	void (*fn)(void);
};

static const struct hardening_case cases[] = {
	{ "relay_hardening_destroy_hook_shared", test_destroy_hook_shared },
	{ "relay_hardening_hook_conflict_refused", test_hook_conflict },
	{ "relay_hardening_vendor_btf_changed", test_vendor_btf_changed },
	{ "relay_hardening_load_fails_late", test_load_fails_late },
};

static int run_child(void (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		fn();
		exit(KSFT_PASS);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : KSFT_FAIL;
}

int main(int argc, char *argv[])
{
	const char *slash;
	bool restored = true;
	size_t i;
	FILE *f;
	char line[128];
	int opt;

	while ((opt = getopt(argc, argv, "q")) != -1) {
		TEST_ASSERT(opt == 'q', "usage: %s [-q] RELAY_KO TESTMOD_KO", argv[0]);
		enable_pause_us = 200;
	}
	relay_require_nested();
	ksft_print_header();
	ksft_set_plan(ARRAY_SIZE(cases));
	if (argc - optind < 2) {
		for (i = 0; i < ARRAY_SIZE(cases); i++)
			ksft_test_result_skip("%s: no module paths given\n", cases[i].name);
		ksft_finished();
	}
	relay_ko = argv[optind];
	testmod_ko = argv[optind + 1];
	slash = strrchr(relay_ko, '/');
	snprintf(mods_dir, sizeof(mods_dir), "%.*s", slash ? (int)(slash - relay_ko) : 1,
		 slash ? relay_ko : ".");

	f = fopen(RELAY_STATE_FILE, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "vendor: ", 8))
			snprintf(vendor_mod, sizeof(vendor_mod), "kvm_%.*s",
				 (int)strcspn(line + 8, "\n"), line + 8);
	if (f)
		fclose(f);
	TEST_ASSERT(vendor_mod[0], "no vendor in %s", RELAY_STATE_FILE);
	genuine_btf = malloc(BTF_MAX);
	TEST_ASSERT(genuine_btf, "malloc");
	vendor_btf_path(line, sizeof(line));
	genuine_btf_len = read_all(line, genuine_btf, BTF_MAX);

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int status;

		status = run_child(cases[i].fn);
		ksft_test_result(status == KSFT_PASS, "%s\n", cases[i].name);
		if (!restore()) {
			restored = false;
			ksft_print_msg("could not put the modules back after %s\n",
				       cases[i].name);
		}
	}
	TEST_ASSERT(restored, "modules not as the test found them");
	ksft_finished();
}
