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

#endif /* HVR_INTERNAL_H */
