// SPDX-License-Identifier: LGPL-2.1-or-later
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
