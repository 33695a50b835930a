/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared between the library's translation units; not installed. */
#ifndef HVR_INTERNAL_H
#define HVR_INTERNAL_H

#include "hvrelay.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define HVR_PRINTF(f, a)	__attribute__((format(printf, f, a)))
#else
#define HVR_PRINTF(f, a)
#endif

/* CPUID output registers, in kvm_cpuid_entry2 order. */
enum hvr_reg { HVR_EAX, HVR_EBX, HVR_ECX, HVR_EDX };

/**
 * hvr_fail() - record an error and return it
 * @err: may be NULL
 * @code: negative errno
 * @fmt: printf format of the message
 *
 * Return: @code, so callers can "return hvr_fail(...)".
 */
int hvr_fail(struct hvr_error *err, int code, const char *fmt, ...) HVR_PRINTF(3, 4);

uint32_t hvr_reg_get(const struct kvm_cpuid_entry2 *e, enum hvr_reg reg);
void hvr_reg_set(struct kvm_cpuid_entry2 *e, enum hvr_reg reg, uint32_t val);

/**
 * hvr_printable() - user text made safe to put in a message
 * @s: the text
 * @len: its length (it also ends at a NUL)
 * @buf: output, at least 5 bytes
 * @size: its size
 *
 * Messages are printed to terminals; a control byte in a spec or a file must
 * not reach one raw.  Bytes outside printable ASCII become "\xHH"; what does
 * not fit is cut.
 *
 * Return: @buf.
 */
const char *hvr_printable(const char *s, size_t len, char *buf, size_t size);

/**
 * hvr_parse_u64() - a number as the spec and the relay mask write it
 * @s: the digits, not NUL-terminated
 * @len: their count
 * @out: the value on success
 *
 * Decimal, or hex after "0x"; no sign, no blanks, and a leading zero does not
 * mean octal (OpenVMM reads "spinlocks=017777" as 17777).
 *
 * Return: 0, -EINVAL (not a number) or -ERANGE (more than 64 bits).
 */
int hvr_parse_u64(const char *s, size_t len, uint64_t *out);

/* Describe what the host must report for a flag, for error messages. */
const char *hvr_host_requirement(enum hvr_flag flag);

/* Bits of one CPUID register; on the host side, all of them or, with @any, one. */
struct hvr_cpuid_bits {
	uint32_t function;
	enum hvr_reg reg;
	uint32_t mask;
	bool any;
};

/* A flag only a guest hypervisor looks at, and only hardware nesting makes one. */
#define HVR_NEEDS_NESTED	0x1u
/* A flag for a VMX interface. */
#define HVR_NEEDS_INTEL		0x2u

/**
 * struct hvr_flag_row - everything about one enlightenment (lib/flags.c)
 * @name: its spec name, QEMU's hv-* property with '-' turned to '_'
 * @alias: OpenVMM's other spelling of it, or NULL
 * @deps: HVR_FLAG() bits of what it needs, as QEMU documents it
 * @context: HVR_NEEDS_NESTED, HVR_NEEDS_INTEL
 * @host: what KVM_GET_SUPPORTED_HV_CPUID must report (empty masks: nothing)
 * @host_what: the same in words, for messages
 * @guest: the bits the guest is shown with it
 * @kvm_cap: the per-vCPU capability enabled for it, or 0
 * @quiet: on its own, it does not make the guest see Hyper-V
 */
struct hvr_flag_row {
	const char *name;
	const char *alias;
	uint64_t deps;
	unsigned int context;
	struct hvr_cpuid_bits host[2];
	const char *host_what;
	struct hvr_cpuid_bits guest[2];
	uint32_t kvm_cap;
	bool quiet;
};

extern const struct hvr_flag_row hvr_flag_rows[HVR_NR_FLAGS];

/* The row of @flag, or NULL when there is no such flag. */
const struct hvr_flag_row *hvr_flag_row(int flag);

/* HVR_FLAG() bits of the flags whose context has any of @context. */
uint64_t hvr_flags_with(unsigned int context);

/*
 * hvr_vcpu_setup()'s first half: the per-vCPU capabilities @cfg's flags
 * ask for, then @cfg narrowed to what the vCPU is offered.
 */
int hvr_vcpu_prepare(int vcpu_fd, struct hvr_config *cfg, struct hvr_error *err);

/* KVM_SET_CPUID2 with @n entries. */
int hvr_vcpu_set_cpuid(int vcpu_fd, const struct kvm_cpuid_entry2 *ent, unsigned int n,
		       struct hvr_error *err);

#endif /* HVR_INTERNAL_H */
