// SPDX-License-Identifier: GPL-2.0-only
/*
 * "show": what a spec resolves to, as text or JSON; "host-cpuid": what KVM
 * offers, in the fixture format.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"

#define HV_NESTED_LEAF	0x4000000au

static const char *const reg_names[] = { "eax", "ebx", "ecx", "edx" };

static int parse_vendor(const char *s, enum hvr_vendor *v)
{
	if (!strcmp(s, "intel"))
		*v = HVR_VENDOR_INTEL;
	else if (!strcmp(s, "amd"))
		*v = HVR_VENDOR_AMD;
	else
		return -1;
	return 0;
}

static int load_host(const char *file, bool have_vendor, enum hvr_vendor vendor,
		     struct hvr_host *host)
{
	struct hvr_error err;
	int fd, ret;

	if (file) {
		if (hvr_host_load(file, host, &err))
			return fail("%s", err.msg);
	} else {
		fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return fail("/dev/kvm: %s (use --host-cpuid FILE to resolve without KVM)",
				    strerror(errno));
		ret = hvr_host_query(fd, host, &err);
		close(fd);
		if (ret)
			return fail("%s", err.msg);
	}
	if (have_vendor)
		host->vendor = vendor;
	else if (host->vendor == HVR_VENDOR_UNKNOWN)
		host->vendor = hvr_cpu_vendor();
	return 0;
}

/*
 * A JSON string of user text: a spec, and for `cpu show`, model names and
 * brands (from the table, but printed with the same care).
 */
void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static const char *drop_reason(unsigned char why)
{
	return why == HVR_DROP_HOST ? "not offered by the host" : "needs a flag that was left out";
}

static void print_json(const char *spec, const struct hvr_config *cfg,
		       const struct kvm_cpuid_entry2 *ent, int n)
{
	const char *sep = "";
	int f, i;

	printf("{\n  \"spec\": ");
	json_string(spec);
	printf(",\n  \"vendor\": \"%s\",\n", hvr_vendor_name(cfg->vendor));
	printf("  \"nested\": %s,\n", cfg->nested ? "true" : "false");
	printf("  \"enabled\": [");
	for (f = 0; f < HVR_NR_FLAGS; f++) {
		if (cfg->flags & HVR_FLAG(f)) {
			printf("%s\"%s\"", sep, hvr_flag_name(f));
			sep = ", ";
		}
	}
	printf("],\n  \"left_out\": {");
	sep = "";
	for (f = 0; f < HVR_NR_FLAGS; f++) {
		if (cfg->dropped & HVR_FLAG(f)) {
			printf("%s\"%s\": \"%s\"", sep, hvr_flag_name(f),
			       drop_reason(cfg->dropped_why[f]));
			sep = ", ";
		}
	}
	printf("},\n  \"leaves\": {");
	for (i = 0; i < n; i++) {
		printf("%s\n    \"0x%08x\": { \"eax\": \"0x%08x\", \"ebx\": \"0x%08x\", "
		       "\"ecx\": \"0x%08x\", \"edx\": \"0x%08x\" }",
		       i ? "," : "", ent[i].function, ent[i].eax, ent[i].ebx, ent[i].ecx,
		       ent[i].edx);
	}
	printf("%s}\n}\n", n ? "\n  " : "");
}

static void print_sig(const struct kvm_cpuid_entry2 *e)
{
	char s[13];

	memcpy(s, &e->ebx, 4);
	memcpy(s + 4, &e->ecx, 4);
	memcpy(s + 8, &e->edx, 4);
	s[12] = '\0';
	printf("  \"%s\"", s);
}

static void print_bits(const struct kvm_cpuid_entry2 *e, unsigned int reg, uint32_t v,
		       uint32_t skip, const char *prefix)
{
	unsigned int bit;
	int col = 18;

	v &= ~skip;
	if (!v && !prefix[0])
		return;
	printf("\n              %s:%s", reg_names[reg], prefix);
	col += (int)strlen(prefix);
	for (bit = 0; bit < 32; bit++) {
		const char *name;
		char unk[16];

		if (!(v & (1u << bit)))
			continue;
		name = hvr_cpuid_bit_name(e->function, reg, bit);
		if (!name) {
			snprintf(unk, sizeof(unk), "bit%u", bit);
			name = unk;
		}
		if (col + 1 + (int)strlen(name) > 96) {
			printf("\n                  ");
			col = 18;
		}
		printf(" %s", name);
		col += 1 + (int)strlen(name);
	}
}

static void print_leaf_notes(const struct kvm_cpuid_entry2 *e)
{
	unsigned int reg;

	switch (e->function) {
	case 0x40000000:
		print_sig(e);
		printf(", max leaf 0x%08x", e->eax);
		break;
	case 0x40000001:
	case 0x40000081: {
		char s[5];

		memcpy(s, &e->eax, 4);
		s[4] = '\0';
		printf("  interface \"%s\"", s);
		break;
	}
	case 0x40000002:
		printf("  build %u, version %u.%u", e->eax, e->ebx >> 16, e->ebx & 0xffff);
		break;
	case 0x40000003:
		for (reg = 0; reg < 4; reg++) {
			uint32_t v = reg == 0 ? e->eax : reg == 1 ? e->ebx : reg == 2 ? e->ecx : e->edx;

			print_bits(e, reg, v, 0, "");
		}
		break;
	case 0x40000004:
		print_bits(e, 0, e->eax, 0, "");
		printf("\n              ebx: spinlock retries 0x%08x%s", e->ebx,
		       e->ebx == HVR_SPIN_NEVER_NOTIFY ? " (never notify)" : "");
		break;
	case 0x40000005:
		printf("  max VPs %u, max LPs %u", e->eax, e->ebx);
		break;
	case HV_NESTED_LEAF:
		if (e->eax & 0xffff) {
			char ver[32];

			snprintf(ver, sizeof(ver), " eVMCS versions %u..%u", e->eax & 0xff,
				 (e->eax >> 8) & 0xff);
			print_bits(e, 0, e->eax, 0xffff, ver);
		} else {
			print_bits(e, 0, e->eax, 0, "");
		}
		break;
	case 0x40000080:
		print_sig(e);
		break;
	case 0x40000082:
		print_bits(e, 0, e->eax, 0, "");
		break;
	}
}

static void print_text(const char *spec, const struct hvr_config *cfg,
		       const struct kvm_cpuid_entry2 *ent, int n, const char *source)
{
	int f, i;

	printf("spec      %s\n", *spec ? spec : "(empty: default)");
	printf("host      %s, %s\n", hvr_vendor_name(cfg->vendor), source);
	printf("nested    %s\n", cfg->nested ? "yes" : "no");
	printf("enabled  ");
	for (f = 0; f < HVR_NR_FLAGS; f++) {
		if (cfg->flags & HVR_FLAG(f))
			printf(" %s", hvr_flag_name(f));
	}
	if (!cfg->flags)
		printf(" (nothing)");
	printf("\n");
	for (f = 0; f < HVR_NR_FLAGS; f++) {
		if (cfg->dropped & HVR_FLAG(f))
			printf("left out  %s: %s\n", hvr_flag_name(f),
			       drop_reason(cfg->dropped_why[f]));
	}
	if (!n) {
		printf("\nNo Hyper-V leaves: the guest sees plain KVM.\n");
		return;
	}
	printf("\nleaf        eax        ebx        ecx        edx\n");
	for (i = 0; i < n; i++) {
		const struct kvm_cpuid_entry2 *e = &ent[i];

		printf("0x%08x  0x%08x 0x%08x 0x%08x 0x%08x", e->function, e->eax, e->ebx,
		       e->ecx, e->edx);
		print_leaf_notes(e);
		printf("\n");
	}
}

/*
 * The spec is taken as written, as OpenVMM takes it; where QEMU would refuse
 * it for a missing dependency, say so on stderr without failing.
 */
static void note_unmet(const struct hvr_config *cfg)
{
	int f, d;

	for (f = 0; f < HVR_NR_FLAGS; f++) {
		uint64_t missing = hvr_flag_deps(f) & ~cfg->flags;

		if (!(cfg->flags & HVR_FLAG(f)) || !missing)
			continue;
		fprintf(stderr, PROG ": note: '%s' without", hvr_flag_name(f));
		for (d = 0; d < HVR_NR_FLAGS; d++) {
			if (missing & HVR_FLAG(d))
				fprintf(stderr, " '%s'", hvr_flag_name(d));
		}
		fprintf(stderr, ", which QEMU would ask for too\n");
	}
}

int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nested",	no_argument,		NULL, 'n' },
		{ "vendor",	required_argument,	NULL, 'v' },
		{ "host-cpuid",	required_argument,	NULL, 'f' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct kvm_cpuid_entry2 ent[HVR_CPUID_MAX_LEAVES];
	enum hvr_vendor vendor = HVR_VENDOR_UNKNOWN;
	bool nested = false, json = false, have_vendor = false;
	const char *file = NULL, *spec_text;
	struct hvr_config cfg;
	struct hvr_spec spec;
	struct hvr_host host;
	struct hvr_error err;
	int c, n, ret;

	opterr = 0;
	/* GNU getopt permutes, so options may come before or after the spec. */
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			nested = true;
			break;
		case 'v':
			if (parse_vendor(optarg, &vendor))
				return usage_error("--vendor: '%s' is neither intel nor amd",
						   esc(optarg));
			have_vendor = true;
			break;
		case 'f':
			file = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			print_help("show");
			return 0;
		case ':':
			return usage_error("show: '%s' needs a value", esc(argv[optind - 1]));
		default:
			return usage_error("show: unknown option '%s'", esc(argv[optind - 1]));
		}
	}
	if (optind >= argc)
		return usage_error("show: which SPEC? (e.g. 'windows')");
	spec_text = argv[optind++];
	if (optind < argc)
		return usage_error("show: one SPEC only; '%s' is extra (join tokens with '+')",
				   esc(argv[optind]));

	if (hvr_spec_parse(spec_text, &spec, &err))
		return fail("spec '%s': %s", esc(spec_text), err.msg);
	ret = load_host(file, have_vendor, vendor, &host);
	if (ret)
		return ret;
	if (hvr_resolve(&spec, &host, nested, &cfg, &err))
		return fail("spec '%s': %s", esc(spec_text), err.msg);
	n = hvr_cpuid_build(&cfg, ent, HVR_CPUID_MAX_LEAVES, &err);
	if (n < 0)
		return fail("%s", err.msg);

	note_unmet(&cfg);
	if (json)
		print_json(spec_text, &cfg, ent, n);
	else
		print_text(spec_text, &cfg, ent, n,
			   file ? "as described by --host-cpuid" :
				  "as KVM_GET_SUPPORTED_HV_CPUID on /dev/kvm reports");
	return 0;
}

/*
 * What a vCPU is told, which /dev/kvm cannot say: a throwaway VM, with the
 * in-kernel irqchip unless @irqchip is false, and one vCPU created after it.
 */
static int load_vcpu_host(bool irqchip, struct hvr_host *host)
{
	const char *what = "KVM_CREATE_VM";
	struct hvr_error err;
	int kvm, vm, vcpu = -1, ret;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("/dev/kvm: %s (use --host-cpuid FILE to resolve without KVM)",
			    strerror(errno));
	ret = vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (ret >= 0 && irqchip) {
		what = "KVM_CREATE_IRQCHIP";
		ret = ioctl(vm, KVM_CREATE_IRQCHIP, 0);
	}
	if (ret >= 0) {
		what = "KVM_CREATE_VCPU";
		ret = vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	}
	if (ret < 0)
		ret = fail("%s: %s", what, strerror(errno));
	else if (hvr_host_query_vcpu(vcpu, host, &err))
		ret = fail("%s", err.msg);
	else
		ret = 0;
	if (vcpu >= 0)
		close(vcpu);
	if (vm >= 0)
		close(vm);
	close(kvm);
	return ret;
}

int cmd_host_cpuid(int argc, char **argv)
{
	char text[HVR_HOST_MAX_LEAVES * 64 + 32];
	struct hvr_host host;
	enum hvr_vendor vendor = HVR_VENDOR_UNKNOWN;
	bool have_vendor = false, vcpu = false, irqchip = true;
	int i_arg, ret;

	for (i_arg = 1; i_arg < argc; i_arg++) {
		if (is_help(argv[i_arg])) {
			print_help("host-cpuid");
			return 0;
		}
		if (!strcmp(argv[i_arg], "--vendor") && i_arg + 1 < argc) {
			if (parse_vendor(argv[++i_arg], &vendor))
				return usage_error("--vendor: '%s' is neither intel nor amd",
						   esc(argv[i_arg]));
			have_vendor = true;
			continue;
		}
		if (!strcmp(argv[i_arg], "--vcpu")) {
			vcpu = true;
			continue;
		}
		if (!strcmp(argv[i_arg], "--no-irqchip")) {
			irqchip = false;
			continue;
		}
		return usage_error("host-cpuid: unexpected '%s'", esc(argv[i_arg]));
	}
	if (!irqchip && !vcpu)
		return usage_error("host-cpuid: --no-irqchip goes with --vcpu");
	if (vcpu) {
		ret = load_vcpu_host(irqchip, &host);
		if (!ret && have_vendor)
			host.vendor = vendor;
	} else {
		ret = load_host(NULL, have_vendor, vendor, &host);
	}
	if (ret)
		return ret;
	/* The library's own format, so that --host-cpuid always reads it back. */
	if (hvr_host_format(&host, text, sizeof(text)) >= (int)sizeof(text))
		return fail("host-cpuid: %u leaves do not fit in %zu bytes", host.nent,
			    sizeof(text));
	if (!vcpu)
		printf("# KVM_GET_SUPPORTED_HV_CPUID (system ioctl on /dev/kvm)\n");
	else
		printf("# KVM_GET_SUPPORTED_HV_CPUID (vCPU ioctl, a VM %s an in-kernel irqchip)\n",
		       irqchip ? "with" : "without");
	printf("# function   index      eax        ebx        ecx        edx\n");
	fputs(text, stdout);
	return 0;
}
