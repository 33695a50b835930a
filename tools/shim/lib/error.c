// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

int hvr_fail(struct hvr_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

uint32_t hvr_reg_get(const struct kvm_cpuid_entry2 *e, enum hvr_reg reg)
{
	switch (reg) {
	case HVR_EAX:
		return e->eax;
	case HVR_EBX:
		return e->ebx;
	case HVR_ECX:
		return e->ecx;
	default:
		return e->edx;
	}
}

void hvr_reg_set(struct kvm_cpuid_entry2 *e, enum hvr_reg reg, uint32_t val)
{
	switch (reg) {
	case HVR_EAX:
		e->eax = val;
		break;
	case HVR_EBX:
		e->ebx = val;
		break;
	case HVR_ECX:
		e->ecx = val;
		break;
	default:
		e->edx = val;
		break;
	}
}

const char *hvr_printable(const char *s, size_t len, char *buf, size_t size)
{
	size_t i, o = 0;

	for (i = 0; i < len && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o + 5 > size)
			break;
		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

int hvr_parse_u64(const char *s, size_t len, uint64_t *out)
{
	unsigned int base = 10, d;
	bool range = false;
	uint64_t v = 0;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return -EINVAL;
	for (; i < len; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned int)(c - 'A' + 10);
		else
			return -EINVAL;
		/* Keep reading after an overflow: trailing junk is the worse error. */
		if (v > (UINT64_MAX - d) / base)
			range = true;
		else
			v = v * base + d;
	}
	if (range)
		return -ERANGE;
	*out = v;
	return 0;
}
