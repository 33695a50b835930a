// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Per-vCPU setup: eVMCS, SynIC2, enforce_cpuid and KVM_SET_CPUID2.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"

static int enable_cap(int fd, uint32_t cap, uint64_t arg0)
{
	struct kvm_enable_cap c;

	memset(&c, 0, sizeof(c));
	c.cap = cap;
	c.args[0] = arg0;
	return ioctl(fd, KVM_ENABLE_CAP, &c) < 0 ? -errno : 0;
}

int hvr_vcpu_enable_synic2(int vcpu_fd, struct hvr_error *err)
{
	int ret = enable_cap(vcpu_fd, KVM_CAP_HYPERV_SYNIC2, 0);

	if (ret == -EINVAL)
		return hvr_fail(err, ret,
				"KVM_CAP_HYPERV_SYNIC2: %s (SynIC needs an in-kernel or split irqchip)",
				strerror(-ret));
	if (ret)
		return hvr_fail(err, ret, "KVM_CAP_HYPERV_SYNIC2: %s", strerror(-ret));
	return 0;
}

int hvr_vcpu_enable_evmcs(int vcpu_fd, uint16_t *version, struct hvr_error *err)
{
	/* KVM copies the range out through args[0]; NULL would be EFAULT. */
	uint16_t v = 0;
	int ret = enable_cap(vcpu_fd, KVM_CAP_HYPERV_ENLIGHTENED_VMCS, (uintptr_t)&v);

	if (ret == -ENOTTY)
		return hvr_fail(err, ret,
				"KVM_CAP_HYPERV_ENLIGHTENED_VMCS: %s (eVMCS exists on Intel only)",
				strerror(-ret));
	if (ret)
		return hvr_fail(err, ret, "KVM_CAP_HYPERV_ENLIGHTENED_VMCS: %s", strerror(-ret));
	if (version)
		*version = v;
	return 0;
}

int hvr_vcpu_enforce_cpuid(int vcpu_fd, bool on, struct hvr_error *err)
{
	int ret = enable_cap(vcpu_fd, KVM_CAP_HYPERV_ENFORCE_CPUID, on);

	if (ret)
		return hvr_fail(err, ret, "KVM_CAP_HYPERV_ENFORCE_CPUID: %s", strerror(-ret));
	return 0;
}

/* Whether an enabled flag's row (flags.c) asks for @cap. */
static bool wants_cap(const struct hvr_config *cfg, uint32_t cap)
{
	int f;

	for (f = 0; f < HVR_NR_FLAGS; f++) {
		if ((cfg->flags & HVR_FLAG(f)) && hvr_flag_rows[f].kvm_cap == cap)
			return true;
	}
	return false;
}

int hvr_vcpu_prepare(int vcpu_fd, struct hvr_config *cfg, struct hvr_error *err)
{
	struct hvr_host vh;
	int ret;

	if (wants_cap(cfg, KVM_CAP_HYPERV_ENLIGHTENED_VMCS)) {
		uint16_t v;

		ret = hvr_vcpu_enable_evmcs(vcpu_fd, &v, err);
		if (ret)
			return ret;
		if (!v)
			return hvr_fail(err, -EOPNOTSUPP,
					"'evmcs': KVM reports no eVMCS version (is kvm_intel loaded with nested=1?)");
		cfg->evmcs_version = v;
	}
	if (wants_cap(cfg, KVM_CAP_HYPERV_SYNIC2)) {
		ret = hvr_vcpu_enable_synic2(vcpu_fd, err);
		if (ret)
			return ret;
	}
	if (wants_cap(cfg, KVM_CAP_HYPERV_ENFORCE_CPUID)) {
		ret = hvr_vcpu_enforce_cpuid(vcpu_fd, true, err);
		if (ret)
			return ret;
	}
	/*
	 * cfg came from /dev/kvm, which offers direct timers and cluster IPIs
	 * to any VM; this vCPU's answer knows whether its VM can have them.
	 */
	ret = hvr_host_query_vcpu(vcpu_fd, &vh, err);
	if (!ret)
		ret = hvr_config_fit_vcpu(cfg, &vh, err);
	return ret;
}

int hvr_vcpu_set_cpuid(int vcpu_fd, const struct kvm_cpuid_entry2 *ent, unsigned int n,
		       struct hvr_error *err)
{
	struct kvm_cpuid2 *c;
	int ret;

	c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
	if (!c)
		return hvr_fail(err, -ENOMEM, "out of memory");
	memcpy(c->entries, ent, n * sizeof(c->entries[0]));
	c->nent = n;
	ret = ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
	free(c);
	if (ret)
		return hvr_fail(err, ret, "KVM_SET_CPUID2: %s", strerror(-ret));
	return 0;
}

int hvr_vcpu_setup(int vcpu_fd, struct hvr_config *cfg, const struct kvm_cpuid_entry2 *vmm,
		   unsigned int nvmm, struct hvr_error *err)
{
	struct kvm_cpuid_entry2 hv[HVR_CPUID_MAX_LEAVES];
	unsigned int max = nvmm + HVR_CPUID_MAX_LEAVES;
	struct kvm_cpuid_entry2 *out;
	int nhv, n, ret;

	ret = hvr_vcpu_prepare(vcpu_fd, cfg, err);
	if (ret)
		return ret;
	nhv = hvr_cpuid_build(cfg, hv, HVR_CPUID_MAX_LEAVES, err);
	if (nhv < 0)
		return nhv;
	out = calloc(max, sizeof(*out));
	if (!out)
		return hvr_fail(err, -ENOMEM, "out of memory");
	n = hvr_cpuid_merge(vmm, nvmm, hv, (unsigned int)nhv, out, max, err);
	ret = n < 0 ? n : hvr_vcpu_set_cpuid(vcpu_fd, out, (unsigned int)n, err);
	free(out);
	return ret;
}
