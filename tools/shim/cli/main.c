// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm-hv-relay: show what a Hyper-V enlightenment spec gives a guest, check
 * that a host can run a nested Hyper-V root, and switch the relay of a
 * running VMM.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef HVR_VERSION
#error "HVR_VERSION comes from the Makefile (RELAY_VERSION in kvm_hv_relay.c)"
#endif

static const char help_intro[] =
"Usage: " PROG " COMMAND [OPTIONS]\n"
"\n"
"Present Hyper-V to a KVM guest so that a nested Hyper-V root partition\n"
"(hvix64 as L1, Windows root as L2) boots, and control the kvm_hv_relay\n"
"module, which keeps the root's HvPostMessage and HvSignalEvent calls in L0\n"
"and hands them to the VMM.\n"
"\n"
"Commands:\n"
"  show SPEC          print the Hyper-V CPUID leaves SPEC gives a guest here\n"
"  check              tell whether this host can run a nested Hyper-V root\n"
"  relay ACTION       enable, disable or inspect the relay of a running VMM\n"
"  host-cpuid         print what KVM offers, in the fixture format\n"
"  cpu models|show    the named CPU models a guest's CPUID can be masked to\n"
"  cpu capture|check|baseline\n"
"                     CPU profiles: what a host offers, whether a host runs\n"
"                     one, and the greatest one a cluster's hosts all run\n"
"  help [COMMAND]     this text, or one command's\n"
"  version, --version, -V\n"
"                     the version of this program\n"
"\n"
"Run '" PROG " help COMMAND' or '" PROG " COMMAND --help' for details.\n"
"The manual page kvm-hv-relay(1) has all of it in one place.\n";

static const char help_spec[] =
"Enlightenment spec (the grammar of OpenVMM's hv=<spec>):\n"
"\n"
"  SPEC     := [PRESET] { '+' TOKEN }\n"
"  PRESET   := default | windows | none          (omitted: default)\n"
"  TOKEN    := NAME | no_NAME | spinlocks=<n>\n"
"\n"
"  Tokens apply left to right; the last word on a flag wins.  As in OpenVMM,\n"
"  blanks around a token are trimmed and empty tokens skipped.  <n> is any\n"
"  32-bit count, decimal (a leading zero is no octal marker: 017777 is 17777)\n"
"  or 0x-hex; 0xffffffff means never notify (the default), and spinlocks\n"
"  alone with it shows the guest no Hyper-V, as in QEMU.\n"
"  OpenVMM's hv= names work too: vp_index, vp_runtime (vpindex, runtime), and\n"
"  hypercall, reference_tsc_page, which are always granted (no_ is refused).\n"
"\n"
"  Presets:\n"
"    none      nothing: the guest sees plain KVM, no Hyper-V leaves at all\n"
"    default   vapic spinlocks vpindex runtime time synic stimer frequencies\n"
"              (OpenVMM's base set)\n"
"    windows   default and relaxed tlbflush ipi stimer_direct reset avic;\n"
"              with --nested also reenlightenment tlbflush_direct emsr_bitmap\n"
"              nested_hint, and evmcs on Intel.\n"
"              This is what a nested VBS root (hvix64) needs.\n"
"    No preset turns on enforce_cpuid: it stalls hvix64 before its first\n"
"    nested entry.  Ask for it explicitly if you want it.\n"
"\n"
"  Names (QEMU's hv-* properties with '-' as '_'), and what they need:\n"
"    relaxed          no watchdog timeouts from a preempted vCPU\n"
"    vapic            APIC access through MSRs\n"
"    spinlocks        spinlock retry count before notifying the hypervisor\n"
"    vpindex          VP index MSR\n"
"    runtime          VP runtime MSR\n"
"    crash            guest crash MSRs\n"
"    time             reference counter and reference TSC page\n"
"    synic            synthetic interrupt controller      needs vpindex\n"
"    stimer           synthetic timers                    needs vpindex synic time\n"
"    stimer_direct    direct-mode synthetic timers        needs stimer\n"
"    tlbflush         flush hypercalls                    needs vpindex\n"
"    tlbflush_ext     extended GVA ranges for flushes     needs tlbflush\n"
"    tlbflush_direct  L2 flushes handled by L0 (nested)   needs vapic\n"
"    ipi              synthetic cluster IPIs              needs vpindex\n"
"    reset            reset MSR\n"
"    frequencies      TSC and APIC frequency MSRs\n"
"    reenlightenment  TSC reenlightenment (nested only)\n"
"    evmcs            enlightened VMCS (nested, Intel)    needs vapic\n"
"    emsr_bitmap      enlightened MSR bitmap (nested)\n"
"    avic             AutoEOI deprecated, for APICv/AVIC\n"
"    xmm_input        fast hypercall input in XMM registers\n"
"    syndbg           synthetic debugger                  needs relaxed time\n"
"                                                         vapic vpindex synic\n"
"                                                         runtime stimer\n"
"    enforce_cpuid    KVM refuses what CPUID does not advertise\n"
"    no_nonarch_coresharing  no SMT sibling runs another VM's code\n"
"    nested_hint      0x40000004 EAX bit 12, \"runs nested\" (nested only);\n"
"                     not for a Linux guest: it moves SynIC to MSRs KVM lacks\n"
"\n"
"  Needs are QEMU's, and decide what leaves a preset along with a flag the\n"
"  host lacks; otherwise the spec is taken as written, as OpenVMM takes it,\n"
"  and show notes on stderr a flag whose needs are off.\n"
"\n"
"  Host awareness: what this host's KVM does not offer\n"
"  (KVM_GET_SUPPORTED_HV_CPUID) is left out of a preset quietly, together\n"
"  with preset flags that need it.  A flag you name yourself is never left\n"
"  out: if the host lacks it, the spec is refused with a message naming it.\n";

static const char help_show[] =
"Usage: " PROG " show SPEC [--nested] [--vendor intel|amd] [--host-cpuid FILE]\n"
"                         [--json]\n"
"\n"
"Resolve SPEC against a host and print the CPUID leaves 0x40000000 to\n"
"0x4000000A the guest will see, with each bit named as in the Hyper-V TLFS.\n"
"\n"
"  --nested            the guest gets VMX/SVM (it will run hvix64)\n"
"  --vendor V          resolve for an intel or amd host (default: this CPU,\n"
"                      or the 'vendor' line of --host-cpuid)\n"
"  --host-cpuid FILE   take what KVM offers from FILE instead of /dev/kvm;\n"
"                      FILE is what '" PROG " host-cpuid' prints\n"
"  --json              machine-readable output; leaves keyed \"0x4000000a\"\n"
"\n"
"Exit status: 0 resolved, 1 refused (the message names the token), 2 usage.\n"
"\n"
"Examples:\n"
"  " PROG " show windows --nested\n"
"  " PROG " show 'none+vpindex+synic+stimer+time' --json\n"
"  " PROG " show windows+no_avic --host-cpuid amd-host.cpuid --nested\n";

static const char help_check[] =
"Usage: " PROG " check [--root DIR]\n"
"\n"
"Check that this host can run a nested Hyper-V root with the relay, one line\n"
"per item, each 'ok' or 'fail' with the reason:\n"
"\n"
"  kernel      the running kernel is a Debian 6.1, 6.12 or 7.3 series build\n"
"  module      kvm_hv_relay is loaded (and its version)\n"
"  nested      kvm_intel or kvm_amd was loaded with nested=1\n"
"  /dev/kvm    can be opened\n"
"  evmcs       KVM_CHECK_EXTENSION(KVM_CAP_HYPERV_ENLIGHTENED_VMCS) (Intel)\n"
"  relay       KVM_CHECK_EXTENSION on /dev/kvm answers the relay capability\n"
"  hv-cpuid    the windows preset with nesting resolves on this host\n"
"  lockdown    kernel lockdown and Secure Boot allow (or allowed) the module\n"
"\n"
"  --root DIR  read /proc, /sys and /dev under DIR (for tests)\n"
"\n"
"Exit status: 0 ready, 1 not ready, 2 usage.\n";

static const char help_relay[] =
"Usage: " PROG " relay enable  --pid PID [--mask MASK] [--fd FD]\n"
"       " PROG " relay disable --pid PID [--fd FD]\n"
"       " PROG " relay status  --pid PID [--fd FD]\n"
"\n"
"Act on the VM of a running VMM.  Its VM fd is found by scanning\n"
"/proc/PID/fd for anon_inode:kvm-vm (use --fd when it holds several) and\n"
"duplicated with pidfd_getfd(2), which needs ptrace rights over PID: the same\n"
"user with ptrace_scope permitting it, or CAP_SYS_PTRACE.  The duplicate goes\n"
"to the module's /dev/kvm_hv_relay (root, CAP_SYS_ADMIN): stock KVM\n"
"refuses VM ioctls (EIO) from any process but the one that created the VM.\n"
"\n"
"  enable    KVM_HV_RELAY_SET_VM_MASK with MASK: as the VMM's own\n"
"            KVM_ENABLE_CAP(KVM_CAP_NESTED_HYPERV_HCALL_RELAY, MASK) would\n"
"  disable   the same with mask 0\n"
"  status    the mask the module supports (KVM_CHECK_EXTENSION on /dev/kvm),\n"
"            the VM's mask (KVM_HV_RELAY_GET_VM_MASK) and its counters from\n"
"            debugfs, each if readable\n"
"\n"
"  --pid PID   the VMM process\n"
"  --fd FD     its VM fd number, when it has more than one VM\n"
"  --mask MASK comma-separated classes: post (HvPostMessage), signal\n"
"              (HvSignalEvent), all, none, or a number (decimal or 0x-hex);\n"
"              default post,signal\n"
"\n"
"PID and FD are decimal and at most 2147483647.  The process is pinned with\n"
"pidfd_open(2) before /proc/PID/fd is read, so a pid that is reused meanwhile\n"
"is noticed rather than acted on.\n"
"\n"
"Exit status: 0 done, 1 refused or failed, 2 usage.\n";

static const char help_host_cpuid[] =
"Usage: " PROG " host-cpuid [--vendor intel|amd] [--vcpu [--no-irqchip]]\n"
"\n"
"Print what KVM_GET_SUPPORTED_HV_CPUID on /dev/kvm returns, as lines\n"
"'FUNCTION INDEX EAX EBX ECX EDX' after a 'vendor' line (intel, amd or\n"
"unknown): the format of --host-cpuid and of the test fixtures.  --host-cpuid\n"
"refuses a file without leaves 0x40000000..0x40000005 and the last leaf\n"
"0x40000000 EAX names: an empty or cut file is not a host.\n"
"\n"
"  --vcpu          the answer of a vCPU instead, in a throwaway VM with an\n"
"                  in-kernel irqchip: unlike /dev/kvm, a vCPU is told direct\n"
"                  synthetic timers and cluster IPIs only when its VM has\n"
"                  the in-kernel LAPIC they need\n"
"  --no-irqchip    with --vcpu: a VM without the in-kernel irqchip\n";

static const char help_cpu[] =
"Usage: " PROG " cpu models\n"
"       " PROG " cpu show MODEL [--json]\n"
"       " PROG " cpu capture [-o FILE]\n"
"       " PROG " cpu check PROFILE [--host FILE]\n"
"       " PROG " cpu baseline PROFILE... [-o FILE]\n"
"\n"
"The named CPU models libhvrelay masks a guest's CPUID to (guest = host AND\n"
"model, in every feature word): the models of Debian's QEMU, generated from\n"
"that QEMU with each feature's CPUID bit taken from the Intel SDM and AMD\n"
"APM, and the x86-64 psABI levels x86-64-v2, x86-64-v2-AES, x86-64-v3 and\n"
"x86-64-v4.\n"
"\n"
"  models      one line per model: name, vendor, family/model/stepping and\n"
"              the other names QEMU gives it\n"
"  show MODEL  the model's identity and every feature word, with the\n"
"              features set in it; MODEL as QEMU spells it (case matters)\n"
"              or one of its aliases\n"
"  --json      one object: name, aliases, source, vendor (null for a psABI\n"
"              level), family, model, stepping, brand, features,\n"
"              msr_features and words (function, index, reg, value)\n"
"\n"
"OSXSAVE, OSPKE and the hypervisor bit are not model features: the OS and\n"
"the VMM set them.  A psABI level has no vendor: the host's identity stays.\n"
"\n"
"A profile is what one host's KVM offers a guest, as a JSON file: its CPUID\n"
"(KVM_GET_SUPPORTED_CPUID) and feature MSRs (KVM_GET_MSR_FEATURE_INDEX_LIST\n"
"and KVM_GET_MSRS on /dev/kvm), the VMX capability MSRs among them when KVM\n"
"offers nested VMX.\n"
"\n"
"  capture     this host's profile, on stdout or to -o FILE\n"
"  check       whether this host (or the captured --host FILE) runs\n"
"              PROFILE; if not, every missing CPUID feature (QEMU's name\n"
"              where known, else leaf, register and bit) and every MSR\n"
"              value it cannot give, one per line.  IA32_ARCH_CAPABILITIES\n"
"              is checked here (KVM does not): a \"not affected\" bit such\n"
"              as MDS_NO in PROFILE must be the host's too.  A profile of\n"
"              another vendor is refused outright.\n"
"  baseline    the greatest profile every host given can run: features and\n"
"              capability bits ANDed, VMX allowed-0 bits ORed, counts the\n"
"              smallest (the rules and their SDM sections are in the\n"
"              manual page).  With -o FILE the profile goes there and the\n"
"              newest named model and psABI level the hosts all run are\n"
"              printed; without, the profile is printed and they go to\n"
"              stderr.  Hosts of different vendors are refused.\n"
"\n"
"Exit status: 0 shown (check: this host runs PROFILE), 1 check found\n"
"problems, or a file, /dev/kvm or the vendors would not do, 2 usage (an\n"
"unknown MODEL included).\n";

static const char help_tail[] =
"Files:\n"
"  /dev/kvm                             KVM system ioctls\n"
"  /sys/module/kvm_hv_relay/version     module version\n"
"  /sys/kernel/debug/kvm/PID-FD/hv_relay  per-VM relay counters\n"
"\n"
"Messages show control and non-ASCII bytes of what you typed as \\xHH.\n"
"\n"
"Exit status: 0 success, 1 refused/not ready/failed, 2 usage error (also\n"
"for 'help' on an unknown COMMAND).\n";

bool is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

/* Return: false for a topic there is no help on. */
static bool print_topic(const char *topic)
{
	if (!topic) {
		fputs(help_intro, stdout);
		putchar('\n');
		fputs(help_spec, stdout);
		putchar('\n');
		fputs(help_show, stdout);
		putchar('\n');
		fputs(help_check, stdout);
		putchar('\n');
		fputs(help_relay, stdout);
		putchar('\n');
		fputs(help_host_cpuid, stdout);
		putchar('\n');
		fputs(help_cpu, stdout);
		putchar('\n');
		fputs(help_tail, stdout);
	} else if (!strcmp(topic, "show")) {
		fputs(help_show, stdout);
		putchar('\n');
		fputs(help_spec, stdout);
	} else if (!strcmp(topic, "spec")) {
		fputs(help_spec, stdout);
	} else if (!strcmp(topic, "check")) {
		fputs(help_check, stdout);
	} else if (!strcmp(topic, "relay")) {
		fputs(help_relay, stdout);
	} else if (!strcmp(topic, "host-cpuid")) {
		fputs(help_host_cpuid, stdout);
	} else if (!strcmp(topic, "cpu")) {
		fputs(help_cpu, stdout);
	} else {
		return false;
	}
	return true;
}

void print_help(const char *topic)
{
	print_topic(topic);
}

const char *esc(const char *s)
{
	static char bufs[4][160];
	static unsigned int next;
	char *b = bufs[next++ % ARRAY_SIZE(bufs)];
	size_t o = 0;

	for (; *s && o + 5 < sizeof(bufs[0]); s++) {
		unsigned char c = (unsigned char)*s;

		/* A terminal acts on control bytes; a message must not pass them on. */
		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(b + o, sizeof(bufs[0]) - o, "\\x%02x", c);
		else
			b[o++] = (char)c;
	}
	b[o] = '\0';
	return b;
}

int parse_option_number(const char *opt, const char *s, long long min, long long max,
			long long *out)
{
	unsigned long long v = 0;
	const char *p = s;
	bool range = false;

	/* strtol would take blanks and a sign, and wrap or clamp what overflows. */
	if (!*p)
		return usage_error("%s: '' is not a number", opt);
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return usage_error("%s: '%s' is not a number", opt, esc(s));
		if (v > (unsigned long long)max)
			range = true;
		else
			v = v * 10 + (unsigned long long)(*p - '0');
	}
	if (range || v > (unsigned long long)max || (long long)v < min)
		return usage_error("%s: %s is out of range (%lld to %lld)", opt, esc(s), min, max);
	*out = (long long)v;
	return 0;
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry '" PROG " --help'.\n", stderr);
	return EXIT_USAGE;
}

int fail(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_NOT_OK;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd)
		return usage_error("no command given");
	if (is_help(cmd)) {
		print_help(NULL);
		return 0;
	}
	/* The spellings other tools have taught users. */
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") || !strcmp(cmd, "version")) {
		printf(PROG " %s\n", HVR_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help")) {
		if (argc > 3)
			return usage_error("help: one COMMAND only; '%s' is extra", esc(argv[3]));
		if (!print_topic(argc > 2 ? argv[2] : NULL))
			return usage_error("help: no help on '%s' (show, check, relay, host-cpuid, cpu or spec)",
					   esc(argv[2]));
		return 0;
	}
	if (!strcmp(cmd, "show"))
		return cmd_show(argc - 1, argv + 1);
	if (!strcmp(cmd, "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(cmd, "relay"))
		return cmd_relay(argc - 1, argv + 1);
	if (!strcmp(cmd, "host-cpuid"))
		return cmd_host_cpuid(argc - 1, argv + 1);
	if (!strcmp(cmd, "cpu"))
		return cmd_cpu(argc - 1, argv + 1);
	return usage_error("unknown command '%s'", esc(cmd));
}
