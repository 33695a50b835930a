// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the named CPU models.  The expected bits are written here
 * from the Intel SDM, the AMD APM and the x86-64 psABI, and the masking
 * results are worked out by hand from a captured host CPUID
 * (fixtures/amd-epyc-cpu.cpuid) and what QEMU lists for the model
 * (tests/ref/qemu-cpu-models.json): never read back from the generated
 * table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvrelay.h"
#include "unit.h"

#define B(n)		(UINT32_C(1) << (n))
#define MAX_ENT		96

static const struct hvr_cpu_model *model(const char *name)
{
	const struct hvr_cpu_model *m = NULL;
	struct hvr_error err;

	if (hvr_cpu_model_lookup(name, &m, &err)) {
		note("%s", err.msg);
		return NULL;
	}
	return m;
}

/* "FUNCTION INDEX EAX EBX ECX EDX" lines; '#' lines are comments. */
static unsigned int load_cpuid(const char *name, struct kvm_cpuid_entry2 *e, unsigned int max)
{
	char path[512], line[256];
	unsigned int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fixtures, name);
	f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (n == max) {
			fprintf(stderr, "%s: more than %u leaves\n", path, max);
			exit(2);
		}
		memset(&e[n], 0, sizeof(e[n]));
		if (sscanf(line, "%x %x %x %x %x %x", &e[n].function, &e[n].index, &e[n].eax,
			   &e[n].ebx, &e[n].ecx, &e[n].edx) != 6) {
			fprintf(stderr, "%s: bad line: %s", path, line);
			exit(2);
		}
		n++;
	}
	fclose(f);
	return n;
}

static const struct kvm_cpuid_entry2 *leaf(const struct kvm_cpuid_entry2 *e, int n, uint32_t fn,
					   uint32_t idx)
{
	int i;

	for (i = 0; i < n; i++) {
		if (e[i].function == fn && e[i].index == idx)
			return &e[i];
	}
	note("no leaf 0x%x.%u in the result", fn, idx);
	return NULL;
}

/* The words, where the SDM and APM put them. */
static void test_words(void)
{
	static const struct {
		enum hvr_cpu_word w;
		uint32_t fn, idx;
		unsigned int reg;
	} want[] = {
		{ HVR_CPUW_1_EDX, 1, 0, 3 },
		{ HVR_CPUW_1_ECX, 1, 0, 2 },
		{ HVR_CPUW_6_EAX, 6, 0, 0 },
		{ HVR_CPUW_7_0_EBX, 7, 0, 1 },
		{ HVR_CPUW_7_0_ECX, 7, 0, 2 },
		{ HVR_CPUW_7_0_EDX, 7, 0, 3 },
		{ HVR_CPUW_7_1_EAX, 7, 1, 0 },
		{ HVR_CPUW_7_1_EDX, 7, 1, 3 },
		{ HVR_CPUW_7_2_EDX, 7, 2, 3 },
		{ HVR_CPUW_D_1_EAX, 0xd, 1, 0 },
		{ HVR_CPUW_12_0_EAX, 0x12, 0, 0 },
		{ HVR_CPUW_12_0_EBX, 0x12, 0, 1 },
		{ HVR_CPUW_12_1_EAX, 0x12, 1, 0 },
		{ HVR_CPUW_14_0_ECX, 0x14, 0, 2 },
		{ HVR_CPUW_80000001_ECX, 0x80000001, 0, 2 },
		{ HVR_CPUW_80000001_EDX, 0x80000001, 0, 3 },
		{ HVR_CPUW_80000007_EDX, 0x80000007, 0, 3 },
		{ HVR_CPUW_80000008_EBX, 0x80000008, 0, 1 },
		{ HVR_CPUW_8000000A_EDX, 0x8000000a, 0, 3 },
		{ HVR_CPUW_80000021_EAX, 0x80000021, 0, 0 },
	};
	unsigned int i, reg;
	uint32_t fn, idx;

	EXPECT(ARRAY_SIZE(want) == HVR_CPU_NR_WORDS);
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		EXPECT(hvr_cpu_word_leaf(want[i].w, &fn, &idx, &reg) == 0);
		if (fn != want[i].fn || idx != want[i].idx || reg != want[i].reg)
			note("word %u is 0x%x.%u reg %u, want 0x%x.%u reg %u", i, fn, idx, reg,
			     want[i].fn, want[i].idx, want[i].reg);
	}
	EXPECT(hvr_cpu_word_leaf(HVR_CPU_NR_WORDS, &fn, &idx, &reg) == -EINVAL);

	/* SDM: CPUID.01H:ECX bit 27 OSXSAVE, bit 21 x2APIC; APM: bit 31 for hypervisors. */
	EXPECT(!strcmp(hvr_cpu_feature_name(HVR_CPUW_1_ECX, 27), "osxsave"));
	EXPECT(!strcmp(hvr_cpu_feature_name(HVR_CPUW_1_ECX, 21), "x2apic"));
	EXPECT(!strcmp(hvr_cpu_feature_name(HVR_CPUW_1_ECX, 31), "hypervisor"));
	/* SDM: CPUID.(07H,0):ECX bit 4 OSPKE, EBX bit 16 AVX512F. */
	EXPECT(!strcmp(hvr_cpu_feature_name(HVR_CPUW_7_0_ECX, 4), "ospke"));
	EXPECT(!strcmp(hvr_cpu_feature_name(HVR_CPUW_7_0_EBX, 16), "avx512f"));
	EXPECT(hvr_cpu_feature_name(HVR_CPUW_1_EDX, 10) == NULL);	/* reserved */
	EXPECT(hvr_cpu_feature_name(HVR_CPUW_1_EDX, 32) == NULL);
	report("cpu/words-where-the-manuals-put-them");
}

static void test_lookup(void)
{
	const struct hvr_cpu_model *m = NULL, *v1 = NULL;
	struct hvr_error err;
	unsigned int i, n = hvr_cpu_model_count();

	/* QEMU's alias "EPYC-Rome" is its EPYC-Rome-v1 (query-cpu-definitions). */
	EXPECT(hvr_cpu_model_lookup("EPYC-Rome", &m, NULL) == 0);
	EXPECT(hvr_cpu_model_lookup("EPYC-Rome-v1", &v1, NULL) == 0);
	EXPECT(m && m == v1);
	EXPECT(hvr_cpu_model_lookup("Skylake-Server-IBRS", &m, NULL) == 0);
	EXPECT(m && !strcmp(m->name, "Skylake-Server-v2"));

	EXPECT(hvr_cpu_model_lookup("skylake-server", &m, &err) == -ENOENT);
	EXPECT(!strcmp(err.msg, "unknown CPU model 'skylake-server' (did you mean 'Skylake-Server'?)"));
	EXPECT(hvr_cpu_model_lookup("Pentium4", &m, &err) == -ENOENT);
	EXPECT(!strcmp(err.msg, "unknown CPU model 'Pentium4'"));
	EXPECT(hvr_cpu_model_lookup("x\033[2J", &m, &err) == -ENOENT);
	EXPECT(!strcmp(err.msg, "unknown CPU model 'x\\x1b[2J'"));
	EXPECT(hvr_cpu_model_lookup(NULL, &m, NULL) == -ENOENT);
	/* Not models: whatever the accelerator offers, and QEMU's empty base. */
	EXPECT(hvr_cpu_model_lookup("host", &m, NULL) == -ENOENT);
	EXPECT(hvr_cpu_model_lookup("max", &m, NULL) == -ENOENT);
	EXPECT(hvr_cpu_model_lookup("base", &m, NULL) == -ENOENT);

	/* Every listed model is found by its name, and names are unique. */
	for (i = 0; i < n; i++) {
		const struct hvr_cpu_model *g = hvr_cpu_model_get(i);

		if (hvr_cpu_model_lookup(g->name, &m, NULL) || m != g)
			note("model %u '%s' is not found by its name", i, g->name);
	}
	EXPECT(hvr_cpu_model_get(n) == NULL);
	report("cpu/lookup");
}

/*
 * Spot checks of the table against the manuals: each feature QEMU lists
 * for the model (tests/ref/qemu-cpu-models.json) must sit at the bit the
 * SDM or APM gives it, written out here.
 */
static void test_model_bits(void)
{
	const struct hvr_cpu_model *m;

	m = model("Skylake-Server-v4");
	if (m) {
		EXPECT(!strcmp(m->vendor, "GenuineIntel"));
		EXPECT(m->family == 6 && m->model == 85 && m->stepping == 4);
		EXPECT(!strcmp(m->brand, "Intel Xeon Processor (Skylake, IBRS, no TSX)"));
		EXPECT(m->words[HVR_CPUW_7_0_EBX] & B(16));	/* AVX512F */
		EXPECT(m->words[HVR_CPUW_7_0_EBX] & B(31));	/* AVX512VL */
		EXPECT(m->words[HVR_CPUW_7_0_ECX] & B(3));	/* PKU */
		EXPECT(m->words[HVR_CPUW_7_0_EDX] & B(26));	/* IBRS/IBPB (spec-ctrl) */
		EXPECT(!(m->words[HVR_CPUW_7_0_EBX] & B(4)));	/* no HLE: "no TSX" */
		EXPECT(!(m->words[HVR_CPUW_7_0_EBX] & B(11)));	/* no RTM */
		EXPECT(m->words[HVR_CPUW_1_ECX] & B(21));	/* x2APIC follows the model */
		EXPECT(m->words[HVR_CPUW_80000001_EDX] & B(29));	/* LM */
		/* Intel: 0x80000001 EDX has no copy of leaf 1's bits (SDM: reserved). */
		EXPECT_HEX(m->words[HVR_CPUW_80000001_EDX] & 0x0183f3ff, 0);
	}
	m = model("Cascadelake-Server-v2");
	if (m) {
		const char *const *f;
		bool mds_no = false;

		EXPECT(m->words[HVR_CPUW_7_0_ECX] & B(11));	/* AVX512_VNNI */
		EXPECT(m->words[HVR_CPUW_7_0_EDX] & B(29));	/* IA32_ARCH_CAPABILITIES */
		/* IA32_ARCH_CAPABILITIES bit 5 is an MSR bit, not CPUID. */
		for (f = m->msr_features; *f; f++)
			mds_no |= !strcmp(*f, "mds-no");
		EXPECT(mds_no);
	}
	m = model("EPYC-Rome-v1");
	if (m) {
		EXPECT(!strcmp(m->vendor, "AuthenticAMD"));
		EXPECT(m->family == 23 && m->model == 49 && m->stepping == 0);
		EXPECT(m->words[HVR_CPUW_7_0_EBX] & B(29));	/* SHA */
		EXPECT(m->words[HVR_CPUW_80000001_ECX] & B(2));	/* SVM */
		EXPECT(m->words[HVR_CPUW_8000000A_EDX] & B(0));	/* nested paging */
		EXPECT(m->words[HVR_CPUW_80000008_EBX] & B(0));	/* CLZERO */
		/* APM: Fn8000_0001_EDX repeats FPU (0), APIC (9), CMOV (15) of leaf 1. */
		EXPECT_HEX(m->words[HVR_CPUW_80000001_EDX] & (B(0) | B(9) | B(15)),
			   B(0) | B(9) | B(15));
	}
	/* No model carries the dynamic bits: OSXSAVE, OSPKE, hypervisor. */
	for (unsigned int i = 0; i < hvr_cpu_model_count(); i++) {
		m = hvr_cpu_model_get(i);
		if (m->words[HVR_CPUW_1_ECX] & (B(27) | B(31)) || m->words[HVR_CPUW_7_0_ECX] & B(4))
			note("%s has a dynamic bit as a feature", m->name);
	}
	report("cpu/model-bits-per-sdm-apm");
}

/* The psABI's lists (section 3.1.1) in SDM/APM bits. */
static void test_psabi(void)
{
	/* baseline CMOV CX8 FPU FXSR MMX SSE SSE2 and the firmware set, then v2's */
	const uint32_t v2_1_ecx = B(0) | B(9) | B(13) | B(19) | B(20) | B(23);
	const uint32_t v3_1_ecx = v2_1_ecx | B(12) | B(22) | B(26) | B(28) | B(29);
	const uint32_t v3_7_ebx = B(3) | B(5) | B(8);		/* BMI1 AVX2 BMI2 */
	const uint32_t v4_7_ebx = v3_7_ebx | B(16) | B(17) | B(28) | B(30) | B(31);
	const uint32_t base_1_edx = B(0) | B(1) | B(3) | B(4) | B(5) | B(6) | B(8) | B(9) |
				    B(11) | B(12) | B(13) | B(15) | B(16) | B(23) | B(24) |
				    B(25) | B(26);
	const struct hvr_cpu_model *m;

	m = model("x86-64-v2");
	if (m) {
		EXPECT(m->vendor == NULL && m->brand == NULL);
		EXPECT_HEX(m->words[HVR_CPUW_1_EDX], base_1_edx);
		EXPECT_HEX(m->words[HVR_CPUW_1_ECX], v2_1_ecx);
		/* LAHF-SAHF (bit 0); SYSCALL, NX, LM */
		EXPECT_HEX(m->words[HVR_CPUW_80000001_ECX], B(0));
		EXPECT_HEX(m->words[HVR_CPUW_80000001_EDX], B(11) | B(20) | B(29));
		EXPECT_HEX(m->words[HVR_CPUW_7_0_EBX], 0);
	}
	m = model("x86-64-v2-AES");
	if (m)
		EXPECT_HEX(m->words[HVR_CPUW_1_ECX], v2_1_ecx | B(1) | B(25));
	m = model("x86-64-v3");
	if (m) {
		EXPECT_HEX(m->words[HVR_CPUW_1_ECX], v3_1_ecx);
		EXPECT_HEX(m->words[HVR_CPUW_7_0_EBX], v3_7_ebx);
		EXPECT_HEX(m->words[HVR_CPUW_80000001_ECX], B(0) | B(5));	/* + LZCNT */
	}
	m = model("x86-64-v4");
	if (m) {
		EXPECT_HEX(m->words[HVR_CPUW_1_ECX], v3_1_ecx);
		EXPECT_HEX(m->words[HVR_CPUW_7_0_EBX], v4_7_ebx);
	}
	report("cpu/psabi-levels");
}

/*
 * EPYC-Rome-v1 on the captured AMD host, each word host AND model, worked
 * out by hand: the fixture's bits, less what QEMU's EPYC-Rome-v1 lacks.
 */
static void test_mask_rome(void)
{
	struct kvm_cpuid_entry2 host[MAX_ENT], out[MAX_ENT + 3];
	const struct kvm_cpuid_entry2 *e;
	struct hvr_error err;
	unsigned int nhost = load_cpuid("amd-epyc-cpu.cpuid", host, MAX_ENT);
	const struct hvr_cpu_model *m = model("EPYC-Rome-v1");
	char brand[49] = { 0 };
	int n, i;

	if (!m)
		goto out;
	n = hvr_cpu_model_mask(m, host, nhost, out, ARRAY_SIZE(out), &err);
	if (n < 0) {
		note("mask: %s", err.msg);
		goto out;
	}
	EXPECT(n == (int)nhost);	/* the host has the brand leaves already */

	/* Leaf 1 EDX 0x178bfbff: the model has no VME (1) and no HTT (28). */
	if ((e = leaf(out, n, 1, 0))) {
		EXPECT_HEX(e->edx, 0x078bfbfd);
		/*
		 * ECX 0xfffa3203 less PCID (17), x2APIC (21), TSC deadline
		 * (24), which QEMU's EPYC-Rome-v1 lacks; MONITOR (3) it has,
		 * the host not.  OSXSAVE (27) and the hypervisor bit (31) stay:
		 * the OS's and the VMM's.
		 */
		EXPECT_HEX(e->ecx, 0xfed83203);
		/* family 23 = 0xF + 8, model 49 = 0x31, stepping 0 (APM, SDM) */
		EXPECT_HEX(e->eax, 0x00830f10);
		EXPECT_HEX(e->ebx, 0x01020800);	/* APIC ID, CLFLUSH size: host's */
	}
	if ((e = leaf(out, n, 6, 0)))
		EXPECT_HEX(e->eax, B(2));	/* ARAT */
	if ((e = leaf(out, n, 7, 0))) {
		/* EBX 0x219c07ab less TSC_ADJUST (1), ERMS (9), INVPCID (10) */
		EXPECT_HEX(e->ebx, 0x219c01a9);
		/* ECX 0x00400684: UMIP (2) and RDPID (22); not CET_SS, VAES, VPCLMULQDQ */
		EXPECT_HEX(e->ecx, B(2) | B(22));
		/* EDX 0x10 (FSRM): a word the model leaves empty is cleared */
		EXPECT_HEX(e->edx, 0);
	}
	if ((e = leaf(out, n, 0xd, 1)))
		EXPECT_HEX(e->eax, 0xf);	/* XSAVEOPT XSAVEC XGETBV1 XSAVES */
	if ((e = leaf(out, n, 0x80000001, 0))) {
		/* ECX 0x004003f3 less CmpLegacy (1) */
		EXPECT_HEX(e->ecx, 0x004003f1);
		/* EDX 0x2fd3fbff less VME (1), which the model lacks in leaf 1 too */
		EXPECT_HEX(e->edx, 0x2fd3fbfd);
		EXPECT_HEX(e->eax, 0x00830f10);	/* APM: same as leaf 1 EAX */
	}
	if ((e = leaf(out, n, 0x80000007, 0)))
		EXPECT_HEX(e->edx, 0);		/* the host's invariant TSC (8) */
	if ((e = leaf(out, n, 0x80000008, 0))) {
		EXPECT_HEX(e->ebx, B(0) | B(2));	/* CLZERO, RstrFpErrPtrs */
		EXPECT_HEX(e->eax, 0x00303030);	/* address sizes: the host's */
	}
	if ((e = leaf(out, n, 0x80000021, 0)))
		EXPECT_HEX(e->eax, 0);		/* QEMU 7.2 has no word there */
	if ((e = leaf(out, n, 0, 0)))
		EXPECT(!memcmp(&e->ebx, "Auth", 4) && !memcmp(&e->edx, "enti", 4) &&
		       !memcmp(&e->ecx, "cAMD", 4));
	for (i = 0; i < 3; i++) {
		if ((e = leaf(out, n, 0x80000002 + i, 0))) {
			memcpy(brand + 16 * i, &e->eax, 4);
			memcpy(brand + 16 * i + 4, &e->ebx, 4);
			memcpy(brand + 16 * i + 8, &e->ecx, 4);
			memcpy(brand + 16 * i + 12, &e->edx, 4);
		}
	}
	if (strcmp(brand, "AMD EPYC-Rome Processor"))
		note("brand string '%s'", brand);
	/* Leaves that are no feature word pass through: the cache topology. */
	if ((e = leaf(out, n, 0x8000001d, 3)))
		EXPECT_HEX(e->eax, 0x00004163);
out:
	report("cpu/mask-epyc-rome-on-amd-fixture");
}

/* A psABI level keeps the host's identity and masks the features alone. */
static void test_mask_psabi(void)
{
	struct kvm_cpuid_entry2 host[MAX_ENT], out[MAX_ENT + 3];
	const struct kvm_cpuid_entry2 *e;
	unsigned int nhost = load_cpuid("amd-epyc-cpu.cpuid", host, MAX_ENT);
	const struct hvr_cpu_model *m = model("x86-64-v3");
	int n;

	if (!m)
		goto out;
	n = hvr_cpu_model_mask(m, host, nhost, out, ARRAY_SIZE(out), NULL);
	EXPECT(n == (int)nhost);
	if (n < 0)
		goto out;
	if ((e = leaf(out, n, 1, 0))) {
		EXPECT_HEX(e->eax, 0x00a00f11);	/* the host's family 0x19 */
		/*
		 * SSE3 SSSE3 FMA CX16 SSE4.1 SSE4.2 MOVBE POPCNT XSAVE AVX F16C,
		 * all on the host; OSXSAVE and hypervisor from the host.
		 */
		EXPECT_HEX(e->ecx, 0xbcd83201);
	}
	if ((e = leaf(out, n, 7, 0)))
		EXPECT_HEX(e->ebx, B(3) | B(5) | B(8));
	if ((e = leaf(out, n, 0xd, 1)))
		EXPECT_HEX(e->eax, 0);		/* XSAVEOPT is not in the psABI's v3 */
	if ((e = leaf(out, n, 0x80000002, 0)))
		EXPECT(!memcmp(&e->eax, "AMD ", 4));	/* the host's "AMD EPYC" */
out:
	report("cpu/mask-psabi-keeps-host-identity");
}

static void test_mask_errors(void)
{
	struct kvm_cpuid_entry2 host[MAX_ENT], out[MAX_ENT + 3];
	unsigned int nhost = load_cpuid("amd-epyc-cpu.cpuid", host, MAX_ENT);
	const struct hvr_cpu_model *m = model("Skylake-Server-v4");
	struct hvr_error err;
	unsigned int i, j;

	if (m) {
		EXPECT(hvr_cpu_model_mask(m, host, nhost, out, ARRAY_SIZE(out), &err) == -EINVAL);
		EXPECT(!strcmp(err.msg,
			       "CPU model 'Skylake-Server-v4' is GenuineIntel, this host is AuthenticAMD"));
	}
	m = model("EPYC-v3");
	if (m) {
		EXPECT(hvr_cpu_model_mask(m, host, nhost, out, nhost - 1, &err) == -ENOSPC);
		/* Without leaf 0 there is no vendor to check against. */
		EXPECT(hvr_cpu_model_mask(m, host + 1, nhost - 1, out, ARRAY_SIZE(out), &err) ==
		       -EINVAL);
		EXPECT(!strcmp(err.msg, "the host's CPUID has no leaf 0"));
		/* Brand leaves missing: added, and 0x80000000 EAX covers them. */
		for (i = j = 0; i < nhost; i++) {
			if (host[i].function < 0x80000002 || host[i].function > 0x80000004)
				host[j++] = host[i];
		}
		EXPECT(hvr_cpu_model_mask(m, host, j, out, j + 2, &err) == -ENOSPC);
		EXPECT(hvr_cpu_model_mask(m, host, j, out, j + 3, &err) == (int)j + 3);
		EXPECT(!memcmp(&out[j].eax, "AMD EPYC", 4) && out[j].function == 0x80000002);
	}
	report("cpu/mask-errors");
}

void test_cpu_models(void)
{
	test_words();
	test_lookup();
	test_model_bits();
	test_psabi();
	test_mask_rome();
	test_mask_psabi();
	test_mask_errors();
}
