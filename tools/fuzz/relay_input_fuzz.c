// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for relay_input.h, the pure decode and validation
 * helpers the module runs on every relayed hypercall.
 *
 * Each helper's answer is compared with a reference model written here from
 * the Hyper-V TLFS ("Hypercall Interface": the hypercall input value, the
 * input block rules, HvSignalEvent's input) by a different route: the input
 * value is decoded through a table of named fields, HvSignalEvent's operand
 * through its byte layout, the page rule with 128-bit arithmetic.  Any
 * disagreement aborts with both answers.
 *
 * Input: 8 bytes input value, 8 bytes GPA, 8 bytes operand, 4 bytes block
 * size, 4 bytes Hyper-V hints, 1 byte "on Hyper-V"; shorter inputs are
 * zero-padded.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIT(n)		(1U << (n))
#define BIT_ULL(n)	(1ULL << (n))
#include "../../relay_input.h"

/* TLFS hypercall input value, field by field (bit offset, width). */
enum field { F_CODE, F_FAST, F_VARHDR, F_RSVD27, F_NESTED, F_REPCNT, F_RSVD44,
	     F_REPSTART, F_RSVD60, F_NR };

static const struct { unsigned int shift, width; } fields[F_NR] = {
	[F_CODE]	= { 0, 16 },	/* call code */
	[F_FAST]	= { 16, 1 },	/* register-based calling convention */
	[F_VARHDR]	= { 17, 10 },	/* variable header size, in 8-byte units */
	[F_RSVD27]	= { 27, 4 },	/* RsvdZ */
	[F_NESTED]	= { 31, 1 },	/* for the L0 hypervisor */
	[F_REPCNT]	= { 32, 12 },	/* rep count */
	[F_RSVD44]	= { 44, 4 },	/* RsvdZ */
	[F_REPSTART]	= { 48, 12 },	/* rep start index */
	[F_RSVD60]	= { 60, 4 },	/* RsvdZ */
};

static uint64_t field(uint64_t v, enum field f)
{
	return (v >> fields[f].shift) & ((1ULL << fields[f].width) - 1);
}

/* The fields tile the 64 bits exactly once. */
static void check_fields(void)
{
	uint64_t seen = 0;
	int f;

	for (f = 0; f < F_NR; f++) {
		uint64_t m = ((1ULL << fields[f].width) - 1) << fields[f].shift;

		if (seen & m)
			abort();
		seen |= m;
	}
	if (seen != ~0ULL)
		abort();
}

#define HVCALL_POST_MESSAGE	0x005c
#define HVCALL_SIGNAL_EVENT	0x005d
#define STATUS_SUCCESS		0x0000
#define STATUS_INVALID_INPUT	0x0003
#define STATUS_INVALID_ALIGN	0x0004

static unsigned int ref_class(uint64_t input)
{
	if (!field(input, F_NESTED))
		return 0;
	if (field(input, F_CODE) == HVCALL_POST_MESSAGE)
		return 1;	/* KVM_NESTED_HYPERV_RELAY_POST_MESSAGE */
	if (field(input, F_CODE) == HVCALL_SIGNAL_EVENT)
		return 2;	/* KVM_NESTED_HYPERV_RELAY_SIGNAL_EVENT */
	return 0;
}

/*
 * After the nested bit is cleared: neither call takes a variable header or
 * reps, and RsvdZ must be zero.  (A set nested bit is itself not valid
 * input to the L1 hypervisor: the relay clears it first.)
 */
static unsigned int ref_input_status(uint64_t input)
{
	static const enum field must_be_zero[] = {
		F_VARHDR, F_RSVD27, F_NESTED, F_REPCNT, F_RSVD44, F_REPSTART, F_RSVD60,
	};
	size_t i;

	for (i = 0; i < sizeof(must_be_zero) / sizeof(must_be_zero[0]); i++)
		if (field(input, must_be_zero[i]))
			return STATUS_INVALID_INPUT;
	return STATUS_SUCCESS;
}

/* Input block: 8-byte aligned, within one 4 KiB page. */
static unsigned int ref_gpa_status(uint64_t gpa, unsigned int size)
{
	unsigned __int128 first = gpa, last = (unsigned __int128)gpa + size - 1;

	if (gpa % 8)
		return STATUS_INVALID_ALIGN;
	if (size && first / 4096 != last / 4096)
		return STATUS_INVALID_ALIGN;
	return STATUS_SUCCESS;
}

/*
 * HvSignalEvent input: HV_CONNECTION_ID ConnectionId (Id:24, Reserved:8),
 * UINT16 FlagNumber, UINT16 RsvdZ; little-endian.
 */
static unsigned int ref_signal_status(uint64_t operand)
{
	uint8_t b[8];
	uint32_t conn;
	uint16_t rsvd;

	for (int i = 0; i < 8; i++)
		b[i] = operand >> (8 * i);
	conn = b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
	rsvd = b[6] | b[7] << 8;
	if (conn >> 24 || rsvd)
		return STATUS_INVALID_INPUT;
	return STATUS_SUCCESS;
}

/*
 * TLFS, "Implementation Recommendations" (CPUID 0x40000004.EAX), by name:
 * only "recommend using enlightened VMCS" changes how KVM runs L2.
 */
static const char *const hyperv_hints[32] = {
	[0] = "hypercall for address space switch",
	[1] = "hypercall for local TLB flush",
	[2] = "hypercall for remote TLB flush",
	[3] = "MSRs for APIC access",
	[4] = "MSR for system reset",
	[5] = "relaxed timing",
	[6] = "DMA remapping",
	[7] = "interrupt remapping",
	[8] = "x2APIC MSRs",
	[9] = "deprecating AutoEOI",
	[10] = "SyntheticClusterIpi hypercall",
	[11] = "ExProcessorMasks interface",
	[12] = "nested hypervisor",
	[13] = "INT for MBEC system calls",
	[14] = "enlightened VMCS",
	[15] = "synced timeline",
	[17] = "direct local flush entire",
	[18] = "no non-architectural core sharing",
};

static bool ref_vmcs_readable(bool on_hyperv, uint32_t hints)
{
	int bit;

	if (!on_hyperv)
		return true;
	for (bit = 0; bit < 32; bit++)
		if ((hints >> bit & 1) && hyperv_hints[bit] &&
		    !strcmp(hyperv_hints[bit], "enlightened VMCS"))
			return false;
	return true;
}

#define DIFFER(what, arg, got, want) do {					\
	fprintf(stderr, "relay_input.h: %s(0x%llx) = %u, reference %u\n",	\
		what, (unsigned long long)(arg), (unsigned int)(got),		\
		(unsigned int)(want));						\
	abort();								\
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[33] = { 0 };
	uint64_t input, gpa, operand;
	uint32_t blk, hints;
	bool on_hyperv;
	unsigned int sizes[3];
	int i;

	memcpy(buf, data, size < sizeof(buf) ? size : sizeof(buf));
	memcpy(&input, buf, 8);
	memcpy(&gpa, buf + 8, 8);
	memcpy(&operand, buf + 16, 8);
	memcpy(&blk, buf + 24, 4);
	memcpy(&hints, buf + 28, 4);
	on_hyperv = buf[32] & 1;
	check_fields();

	if (relay_input_class(input) != ref_class(input))
		DIFFER("relay_input_class", input, relay_input_class(input), ref_class(input));
	/* The module validates the input with the nested bit cleared. */
	input &= ~RELAY_HC_NESTED;
	if (relay_input_status(input) != ref_input_status(input))
		DIFFER("relay_input_status", input, relay_input_status(input),
		       ref_input_status(input));

	/* The two sizes the module uses, and any block of 1..4096 bytes. */
	sizes[0] = RELAY_POST_MESSAGE_INPUT_SIZE;
	sizes[1] = RELAY_SIGNAL_EVENT_INPUT_SIZE;
	sizes[2] = blk % 4096 + 1;
	for (i = 0; i < 3; i++)
		if (relay_gpa_status(gpa, sizes[i]) != ref_gpa_status(gpa, sizes[i]))
			DIFFER("relay_gpa_status", gpa, relay_gpa_status(gpa, sizes[i]),
			       ref_gpa_status(gpa, sizes[i]));

	if (relay_signal_status(operand) != ref_signal_status(operand))
		DIFFER("relay_signal_status", operand, relay_signal_status(operand),
		       ref_signal_status(operand));

	if (relay_host_vmcs_readable(on_hyperv, hints) !=
	    ref_vmcs_readable(on_hyperv, hints))
		DIFFER("relay_host_vmcs_readable", (uint64_t)on_hyperv << 32 | hints,
		       relay_host_vmcs_readable(on_hyperv, hints),
		       ref_vmcs_readable(on_hyperv, hints));
	return 0;
}
