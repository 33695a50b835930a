// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Tie a spec to a host and a guest shape.  The rule throughout: what the
 * user named is honoured or refused with a message naming it; what a preset
 * brought in quietly gives way to the host.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "tlfs.h"

static int lowest(uint64_t mask)
{
	return __builtin_ctzll(mask);
}

static void drop(struct hvr_config *cfg, int f, enum hvr_drop why)
{
	cfg->flags &= ~HVR_FLAG(f);
	cfg->dropped |= HVR_FLAG(f);
	cfg->dropped_why[f] = why;
}

static int check_context(const struct hvr_spec *spec, enum hvr_vendor vendor, bool nested,
			 struct hvr_error *err)
{
	uint64_t bad = spec->set & hvr_flags_with(HVR_NEEDS_NESTED);

	if (bad && !nested)
		return hvr_fail(err, -EINVAL,
				"'%s' needs nested virtualisation, which this guest does not get",
				hvr_flag_name(lowest(bad)));
	bad = spec->set & hvr_flags_with(HVR_NEEDS_INTEL);
	if (bad && vendor != HVR_VENDOR_INTEL)
		return hvr_fail(err, -EINVAL, "'%s' needs an Intel host (this one is %s)",
				hvr_flag_name(lowest(bad)), hvr_vendor_name(vendor));
	return 0;
}

/* What the host lacks: a named flag is refused, a preset one left out. */
static int check_host(const struct hvr_host *host, uint64_t skip, const char *whose,
		      struct hvr_config *cfg, struct hvr_error *err)
{
	int f;

	for (f = 0; f < HVR_NR_FLAGS; f++) {
		if (!(cfg->flags & HVR_FLAG(f)) || (skip & HVR_FLAG(f)) ||
		    hvr_host_offers(host, f))
			continue;
		if (cfg->named & HVR_FLAG(f))
			return hvr_fail(err, -EOPNOTSUPP, "'%s' is not offered by %s (needs %s)",
					hvr_flag_name(f), whose, hvr_host_requirement(f));
		drop(cfg, f, HVR_DROP_HOST);
	}
	return 0;
}

/*
 * A preset flag whose needs the host took away follows them, until nothing
 * changes.  Anything else is kept as the spec wrote it, as OpenVMM does,
 * which checks no dependencies: a flag the spec names, or one whose need a
 * "no_" token removed.  KVM backs each enlightenment on its own, so such a
 * gap (QEMU would refuse it) is the user's call; hvr_flag_deps() lets a
 * caller point it out.
 */
static void follow_drops(struct hvr_config *cfg)
{
	bool changed;
	int f;

	do {
		changed = false;
		for (f = 0; f < HVR_NR_FLAGS; f++) {
			if (!(cfg->flags & HVR_FLAG(f)) || (cfg->named & HVR_FLAG(f)))
				continue;
			if (hvr_flag_deps(f) & ~cfg->flags & cfg->dropped) {
				drop(cfg, f, HVR_DROP_DEPENDENCY);
				changed = true;
			}
		}
	} while (changed);
}

int hvr_resolve(const struct hvr_spec *spec, const struct hvr_host *host, bool nested,
		struct hvr_config *cfg, struct hvr_error *err)
{
	struct hvr_config c;
	const struct kvm_cpuid_entry2 *nf, *lim;
	int ret;

	memset(&c, 0, sizeof(c));
	c.vendor = host->vendor;
	c.nested = nested;
	c.named = spec->set;

	ret = check_context(spec, c.vendor, nested, err);
	if (ret)
		return ret;

	c.flags = (hvr_preset_flags(spec->preset, c.vendor, nested) | spec->set) & ~spec->clear;

	ret = check_host(host, 0, "this host's KVM", &c, err);
	if (ret)
		return ret;
	follow_drops(&c);

	c.spin_count = HVR_SPIN_NEVER_NOTIFY;
	if ((c.flags & HVR_FLAG(HVR_SPINLOCKS)) && spec->spin_given)
		c.spin_count = spec->spin_count;

	lim = hvr_host_leaf(host, HV_CPUID_IMPLEMENTATION_LIMITS);
	c.max_vps = lim ? lim->eax : 0;

	nf = hvr_host_leaf(host, HV_CPUID_NESTED_FEATURES);
	if ((c.flags & HVR_FLAG(HVR_EVMCS)) && nf)
		c.evmcs_version = nf->eax & HV_ENLIGHTENED_VMCS_VERSION_MASK;

	*cfg = c;
	return 0;
}

int hvr_config_fit_vcpu(struct hvr_config *cfg, const struct hvr_host *vcpu_host,
			struct hvr_error *err)
{
	struct hvr_config c = *cfg;
	int ret;

	/* Enabling eVMCS is its check; before that the vCPU reports no version. */
	ret = check_host(vcpu_host, HVR_FLAG(HVR_EVMCS),
			 "this vCPU (created before an in-kernel irqchip?)", &c, err);
	if (ret)
		return ret;
	follow_drops(&c);
	*cfg = c;
	return 0;
}
