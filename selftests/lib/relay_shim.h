/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Our selftests give their vCPUs a Hyper-V identity and turn the relay on
 * the way a VMM does: through libhvrelay (tools/shim), built for the same
 * kernel and linked into every selftest.  A library bug therefore shows up
 * as a relay test failure, not only as a unit test failure.
 *
 * Include after the selftest library's kvm_util.h and processor.h.
 */
#ifndef RELAY_SHIM_H
#define RELAY_SHIM_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "hvrelay.h"

/* The preset a nested Hyper-V root gets from an OpenVMM-style VMM. */
#define RELAY_SHIM_SPEC		"windows"

/*
 * Resolve @spec for this host with nesting and apply it to @vcpu (eVMCS,
 * SynIC2, CPUID), the VMM's CPUID being what the selftest library set at
 * vCPU creation.  @cfg (optional) receives the resolved configuration.
 */
static inline void relay_shim_vcpu_setup(struct kvm_vcpu *vcpu, const char *spec,
					 struct hvr_config *cfg)
{
	struct hvr_error err = { 0 };
	struct hvr_config local;
	struct hvr_spec parsed;
	struct hvr_host host;
	struct kvm_cpuid2 *c;
	unsigned int n;
	int kvm_fd, r;

	if (!cfg)
		cfg = &local;
	kvm_fd = open_kvm_dev_path_or_exit();
	r = hvr_spec_parse(spec, &parsed, &err);
	if (!r)
		r = hvr_host_query(kvm_fd, &host, &err);
	if (!r)
		r = hvr_resolve(&parsed, &host, true, cfg, &err);
	if (!r)
		r = hvr_vcpu_setup(vcpu->fd, cfg, vcpu->cpuid->entries, vcpu->cpuid->nent,
				   &err);
	close(kvm_fd);
	TEST_ASSERT(!r, "libhvrelay, spec '%s': %s", spec, err.msg);

	/*
	 * The selftest library keeps its own copy of the vCPU's CPUID and
	 * writes it back on some paths: make it what KVM now holds.
	 */
	n = vcpu->cpuid->nent + HVR_CPUID_MAX_LEAVES;
	c = realloc(vcpu->cpuid, sizeof(*c) + n * sizeof(c->entries[0]));
	TEST_ASSERT(c, "out of memory");
	vcpu->cpuid = c;
	c->nent = n;
	vcpu_ioctl(vcpu, KVM_GET_CPUID2, c);
}

/* KVM_ENABLE_CAP through the library, with ioctl() conventions (-1, errno). */
static inline int relay_enable(struct kvm_vm *vm, u64 mask)
{
	int r = hvr_relay_enable(vm->fd, mask, NULL);

	if (r) {
		errno = -r;
		return -1;
	}
	return 0;
}

#endif /* RELAY_SHIM_H */
