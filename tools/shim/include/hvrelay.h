/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hvrelay.h - present Hyper-V to a KVM guest so that a nested Hyper-V root
 * partition boots, and drive the kvm_hv_relay module.
 *
 * The library has no global state: every function works on the objects it is
 * handed.  Every function that can fail returns 0 (or a count) on success and
 * a negative errno on failure; when the caller passes a struct hvr_error, it
 * also receives a one-line message fit to print as is.
 *
 * Typical VMM use, per vCPU:
 *
 *	struct hvr_spec spec;
 *	struct hvr_host host;
 *	struct hvr_config cfg;
 *	struct hvr_error err;
 *
 *	if (hvr_spec_parse("windows", &spec, &err) ||
 *	    hvr_host_query(kvm_fd, &host, &err) ||
 *	    hvr_resolve(&spec, &host, true, &cfg, &err) ||
 *	    hvr_vcpu_setup(vcpu_fd, &cfg, vmm_cpuid, vmm_nent, &err))
 *		die("%s", err.msg);
 *	hvr_relay_enable(vm_fd, HVR_RELAY_ALL, &err);
 *
 * Dependencies: libc and <linux/kvm.h> only.
 *
 * ABI: libhvrelay.so.0 exports exactly the functions documented below.  The
 * structures keep their size for as long as the soname stays: a field a
 * later version adds takes the place of @reserved words, which the library
 * zeroes when it fills a structure (a caller filling one itself zeroes it
 * first), and enum values are only ever appended.
 */
#ifndef HVRELAY_H
#define HVRELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/kvm.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The library is built with -fvisibility=hidden; what this header declares
 * is its interface, so it alone is exported.
 */
#if defined(__GNUC__) && __GNUC__ >= 4
#pragma GCC visibility push(default)
#endif

#define HVR_ERR_MSG_MAX		256

/**
 * struct hvr_error - the reason the last call failed
 * @code: the negative errno the call returned
 * @msg: NUL-terminated, human-readable, without a trailing newline
 */
struct hvr_error {
	int code;
	char msg[HVR_ERR_MSG_MAX];
};

/* Enlightenments, named as QEMU's hv-* properties with '-' turned to '_'. */
enum hvr_flag {
	HVR_RELAXED,
	HVR_VAPIC,
	HVR_SPINLOCKS,
	HVR_VPINDEX,
	HVR_RUNTIME,
	HVR_CRASH,
	HVR_TIME,
	HVR_SYNIC,
	HVR_STIMER,
	HVR_STIMER_DIRECT,
	HVR_TLBFLUSH,
	HVR_TLBFLUSH_EXT,
	HVR_TLBFLUSH_DIRECT,
	HVR_IPI,
	HVR_RESET,
	HVR_FREQUENCIES,
	HVR_REENLIGHTENMENT,
	HVR_EVMCS,
	HVR_EMSR_BITMAP,
	HVR_AVIC,
	HVR_XMM_INPUT,
	HVR_SYNDBG,
	HVR_ENFORCE_CPUID,
	HVR_NO_NONARCH_CORESHARING,
	HVR_NESTED_HINT,	/* 0x40000004 EAX bit 12: tell a guest hypervisor it is nested */
	HVR_NR_FLAGS
};

#define HVR_FLAG(f)		(UINT64_C(1) << (f))
/*
 * Flags are bits of a uint64_t, so there can never be more than this; arrays
 * indexed by flag in the structures below have this size, not HVR_NR_FLAGS,
 * so that a new flag does not change their layout.
 */
#define HVR_FLAGS_MAX		64
#if !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(HVR_NR_FLAGS <= HVR_FLAGS_MAX, "enum hvr_flag outgrew HVR_FLAG()'s uint64_t");
#endif

enum hvr_preset {
	HVR_PRESET_DEFAULT,
	HVR_PRESET_WINDOWS,
	HVR_PRESET_NONE,
};

enum hvr_vendor {
	HVR_VENDOR_UNKNOWN,
	HVR_VENDOR_INTEL,
	HVR_VENDOR_AMD,
};

/* TLFS: 0xffffffff retries means "never notify the hypervisor". */
#define HVR_SPIN_NEVER_NOTIFY	0xffffffffu

/**
 * struct hvr_spec - a parsed enlightenment spec, not yet tied to a host
 * @preset: the base set the tokens modify
 * @set: flags a token enabled (after the last token for each flag won)
 * @clear: flags a "no_" token disabled; disjoint from @set
 * @spin_count: value of "spinlocks=<n>", valid if @spin_given
 * @spin_given: a "spinlocks=<n>" token was the last word on spinlocks
 * @reserved: zero; room for what later versions parse
 */
struct hvr_spec {
	enum hvr_preset preset;
	uint64_t set;
	uint64_t clear;
	uint32_t spin_count;
	bool spin_given;
	uint64_t reserved[4];
};

#define HVR_HOST_MAX_LEAVES	64

/**
 * struct hvr_host - what the host's KVM offers for Hyper-V
 * @vendor: CPU vendor of the host
 * @nent: number of valid entries in @ent
 * @ent: the leaves KVM_GET_SUPPORTED_HV_CPUID returned
 * @reserved: zero; room for what later versions learn about the host
 */
struct hvr_host {
	enum hvr_vendor vendor;
	unsigned int nent;
	struct kvm_cpuid_entry2 ent[HVR_HOST_MAX_LEAVES];
	uint64_t reserved[4];
};

/* Why a flag the preset wanted was left out (struct hvr_config.dropped_why). */
enum hvr_drop {
	HVR_DROP_NONE,
	HVR_DROP_HOST,		/* KVM_GET_SUPPORTED_HV_CPUID does not offer it */
	HVR_DROP_DEPENDENCY,	/* something it needs was dropped */
};

/**
 * struct hvr_config - a spec resolved against a host: what the guest will see
 * @vendor: host CPU vendor the result was resolved for
 * @nested: the guest gets hardware virtualisation (VMX/SVM)
 * @flags: enabled enlightenments, HVR_FLAG() bits
 * @dropped: preset flags that were left out, HVR_FLAG() bits
 * @dropped_why: per flag, why it is in @dropped
 * @spin_count: 0x40000004 EBX, spinlock retries before notifying
 * @max_vps: 0x40000005 EAX, the most VPs a partition may have (KVM's limit)
 * @evmcs_version: eVMCS version range (high byte max, low byte min) as KVM
 *	reports it; hvr_vcpu_setup() refreshes it from the vCPU
 * @named: flags the spec named itself, HVR_FLAG() bits: never left out,
 *	here or by hvr_config_fit_vcpu()
 * @reserved: zero; room for what later versions resolve
 */
struct hvr_config {
	enum hvr_vendor vendor;
	bool nested;
	uint64_t flags;
	uint64_t dropped;
	unsigned char dropped_why[HVR_FLAGS_MAX];
	uint32_t spin_count;
	uint32_t max_vps;
	uint16_t evmcs_version;
	uint64_t named;
	uint64_t reserved[3];
};

/* 0x40000000..0x4000000A, plus 0x40000080..0x40000082 with syndbg. */
#define HVR_CPUID_MAX_LEAVES	14

/* Relay classes, same values as KVM_NESTED_HYPERV_RELAY_* in the uapi. */
#define HVR_RELAY_POST_MESSAGE	UINT64_C(0x1)
#define HVR_RELAY_SIGNAL_EVENT	UINT64_C(0x2)
#define HVR_RELAY_ALL		(HVR_RELAY_POST_MESSAGE | HVR_RELAY_SIGNAL_EVENT)

/**
 * hvr_flag_name() - the spec name of an enlightenment
 * @flag: the flag
 *
 * Return: e.g. "stimer_direct", or NULL for an out-of-range value.
 */
const char *hvr_flag_name(enum hvr_flag flag);

/**
 * hvr_flag_lookup() - the enlightenment a spec name stands for
 * @name: the name, e.g. "tlbflush_ext", or an OpenVMM alias ("vp_index")
 *
 * Return: the flag, or -ENOENT.
 */
int hvr_flag_lookup(const char *name);

/**
 * hvr_preset_name() - "default", "windows" or "none"
 * @preset: the preset
 *
 * Return: the name, or NULL for an out-of-range value.
 */
const char *hvr_preset_name(enum hvr_preset preset);

/**
 * hvr_vendor_name() - "intel", "amd" or "unknown"
 * @vendor: the vendor
 *
 * Return: the name, never NULL.
 */
const char *hvr_vendor_name(enum hvr_vendor vendor);

/**
 * hvr_preset_flags() - what a preset enables before the host is consulted
 * @preset: the preset
 * @vendor: host CPU vendor (evmcs is Intel-only)
 * @nested: whether the guest gets nested virtualisation
 *
 * The presets mean what OpenVMM's of the same name do.  "windows" is
 * nested-aware: with @nested it adds evmcs (Intel), reenlightenment,
 * tlbflush_direct, emsr_bitmap and nested_hint.  No other preset sets
 * nested_hint, which a Linux guest reads as "move SynIC to the nested MSRs"
 * (KVM has none), and no preset enables enforce_cpuid.
 *
 * Return: HVR_FLAG() bits.
 */
uint64_t hvr_preset_flags(enum hvr_preset preset, enum hvr_vendor vendor, bool nested);

/**
 * hvr_flag_deps() - the flags another flag needs, by QEMU's rules
 * @flag: the flag
 *
 * hvr_resolve() drops a preset flag whose need the host lacks; a flag the
 * spec names stays on without them (QEMU would refuse to start, OpenVMM
 * does not check), which a VMM may want to point out.
 *
 * Return: HVR_FLAG() bits that QEMU wants enabled along with @flag.
 */
uint64_t hvr_flag_deps(enum hvr_flag flag);

/**
 * hvr_spec_parse() - parse an enlightenment spec
 * @text: "[preset][+token]...", tokens "name", "no_name", "spinlocks=<n>"
 *	(<n> any 32-bit count, decimal or 0x-hex, a leading zero does not mean
 *	octal); as in OpenVMM, blanks around a token are trimmed and empty
 *	tokens skipped ("windows++relaxed" is "windows+relaxed"), but a spec of
 *	separators only is refused.  NULL or "" means "default".  OpenVMM's
 *	names are accepted too:
 *	"vp_index" and "vp_runtime" for vpindex and runtime, and "hypercall"
 *	and "reference_tsc_page", which are always granted (their "no_" forms
 *	are refused)
 * @spec: filled on success
 * @err: optional; receives a message naming the offending token
 *
 * Only syntax and names are checked here; dependencies, nesting and host
 * support are hvr_resolve()'s business, since they need the context.
 *
 * Return: 0, or -EINVAL.
 */
int hvr_spec_parse(const char *text, struct hvr_spec *spec, struct hvr_error *err);

/**
 * hvr_resolve() - decide what the guest sees on a given host
 * @spec: a parsed spec
 * @host: what the host's KVM offers
 * @nested: the guest gets hardware virtualisation
 * @cfg: filled on success
 * @err: optional; receives a message naming the offending token
 *
 * A flag the preset brought in that the host does not offer is left out
 * (along with preset flags that need it); a flag the user named explicitly
 * must be offered or the call fails, as do evmcs, reenlightenment or
 * nested_hint without @nested and evmcs on a non-Intel host.  Dependencies
 * (hvr_flag_deps()) are not enforced otherwise, as in OpenVMM: a flag the
 * spec names, or whose need a "no_" token removed, stays on without it.
 *
 * Return: 0, -EINVAL (spec inconsistent) or -EOPNOTSUPP (host lacks it).
 */
int hvr_resolve(const struct hvr_spec *spec, const struct hvr_host *host, bool nested,
		struct hvr_config *cfg, struct hvr_error *err);

/**
 * hvr_cpu_vendor() - the vendor of the CPU this code runs on
 *
 * Return: HVR_VENDOR_INTEL, HVR_VENDOR_AMD or HVR_VENDOR_UNKNOWN.
 */
enum hvr_vendor hvr_cpu_vendor(void);

/**
 * hvr_host_query() - read what KVM offers for Hyper-V
 * @fd: /dev/kvm (system ioctl, Linux >= 5.11) or a vCPU fd
 * @host: filled on success; @host->vendor from hvr_cpu_vendor()
 * @err: optional
 *
 * Issues KVM_GET_SUPPORTED_HV_CPUID.  On a vCPU fd the eVMCS version is only
 * reported once eVMCS was enabled on that vCPU.  /dev/kvm reports direct
 * synthetic timers (stimer_direct) and cluster IPIs (ipi) whatever the VM
 * will be; only a vCPU knows whether its VM has the in-kernel LAPIC both
 * need: see hvr_host_query_vcpu().
 *
 * Return: 0 or a negative errno from the ioctl.
 */
int hvr_host_query(int fd, struct hvr_host *host, struct hvr_error *err);

/**
 * hvr_host_query_vcpu() - read what KVM offers one vCPU for Hyper-V
 * @vcpu_fd: the vCPU, created after the VM's in-kernel (or split) irqchip
 * @host: filled on success; @host->vendor from hvr_cpu_vendor()
 * @err: optional
 *
 * KVM_GET_SUPPORTED_HV_CPUID on the vCPU.  Unlike the /dev/kvm answer it
 * leaves out 0x40000003 EDX bit 19 (direct synthetic timers) and 0x40000004
 * EAX bit 10 (cluster IPI) when the VM has no in-kernel LAPIC, and it
 * carries the eVMCS version only once eVMCS is enabled on the vCPU.
 *
 * Return: 0 or a negative errno from the ioctl.
 */
int hvr_host_query_vcpu(int vcpu_fd, struct hvr_host *host, struct hvr_error *err);

/**
 * hvr_config_fit_vcpu() - narrow a resolved config to what a vCPU is offered
 * @cfg: from hvr_resolve() against /dev/kvm; updated in place
 * @vcpu_host: from hvr_host_query_vcpu() on the vCPU it is for
 * @err: optional; names the flag
 *
 * The rule of hvr_resolve() once more, against the vCPU's answer: a flag a
 * preset brought in that the vCPU is not offered is left out (along with
 * preset flags that need it, @cfg->dropped_why saying why), a flag in
 * @cfg->named makes the call fail.  evmcs is not looked at: enabling it
 * (hvr_vcpu_enable_evmcs()) is its check.  hvr_vcpu_setup() calls this.
 *
 * Return: 0 or -EOPNOTSUPP (@cfg unchanged).
 */
int hvr_config_fit_vcpu(struct hvr_config *cfg, const struct hvr_host *vcpu_host,
			struct hvr_error *err);

/**
 * hvr_host_parse() - read a host description from text
 * @text: lines "FUNCTION INDEX EAX EBX ECX EDX" (numbers in C syntax),
 *	optionally "vendor intel|amd|unknown"; '#' starts a comment
 * @host: filled on success; vendor is HVR_VENDOR_UNKNOWN unless stated
 * @err: optional; names the line
 *
 * This is the fixture format tests use and hvr_host_format() (so
 * "kvm-hv-relay host-cpuid") prints.  The text must be a whole
 * KVM_GET_SUPPORTED_HV_CPUID answer: leaves 0x40000000..0x40000005 and the
 * last leaf 0x40000000 EAX names, each (function, index) once.
 *
 * Return: 0, -EINVAL or -E2BIG.
 */
int hvr_host_parse(const char *text, struct hvr_host *host, struct hvr_error *err);

/**
 * hvr_host_format() - a host description as hvr_host_parse() reads it
 * @host: the host
 * @buf: output, NUL-terminated when @size > 0
 * @size: its size; 64 bytes per leaf and 32 more always suffice
 *
 * Return: the length of the whole text, as snprintf(): @size or more means
 * it was cut.
 */
int hvr_host_format(const struct hvr_host *host, char *buf, size_t size);

/**
 * hvr_host_load() - hvr_host_parse() on a file's contents
 * @path: the file
 * @host: filled on success
 * @err: optional
 *
 * Return: 0 or a negative errno.
 */
int hvr_host_load(const char *path, struct hvr_host *host, struct hvr_error *err);

/**
 * hvr_host_leaf() - find a leaf in a host description
 * @host: the host
 * @function: CPUID function
 *
 * Return: the entry (index 0), or NULL if KVM did not report it.
 */
const struct kvm_cpuid_entry2 *hvr_host_leaf(const struct hvr_host *host, uint32_t function);

/**
 * hvr_host_offers() - whether the host can back an enlightenment
 * @host: the host
 * @flag: the flag
 *
 * Return: true if KVM_GET_SUPPORTED_HV_CPUID reports what @flag needs.
 * spinlocks, enforce_cpuid and nested_hint ask nothing of KVM and always
 * return true.
 */
bool hvr_host_offers(const struct hvr_host *host, enum hvr_flag flag);

/**
 * hvr_cpuid_build() - the Hyper-V CPUID leaves a resolved config yields
 * @cfg: a resolved config
 * @ent: output array
 * @max: its size; HVR_CPUID_MAX_LEAVES always suffices
 * @err: optional
 *
 * With no enlightenment enabled the guest sees no Hyper-V at all and the
 * count is 0; enforce_cpuid does not count, nor does spinlocks with the
 * never-notify count (as QEMU, which shows Hyper-V for hv-spinlocks only
 * when it is not 0xffffffff).
 * Otherwise the leaves are 0x40000000..0x4000000A ("Microsoft Hv"), plus
 * 0x40000080..0x40000082 with syndbg, sorted by function.
 *
 * Return: the number of entries, or -ENOSPC.
 */
int hvr_cpuid_build(const struct hvr_config *cfg, struct kvm_cpuid_entry2 *ent,
		    unsigned int max, struct hvr_error *err);

/**
 * hvr_cpuid_bit_name() - the TLFS name of a Hyper-V CPUID bit
 * @function: 0x40000003, 0x40000004 or 0x4000000A
 * @reg: 0..3 for EAX, EBX, ECX, EDX
 * @bit: 0..31
 *
 * Return: e.g. "AccessSynicRegs", or NULL for a bit this library does not
 * name.
 */
const char *hvr_cpuid_bit_name(uint32_t function, unsigned int reg, unsigned int bit);

/**
 * hvr_cpuid_merge() - combine the VMM's CPUID with the Hyper-V leaves
 * @vmm: the VMM's own entries (what it would pass to KVM_SET_CPUID2)
 * @nvmm: their count
 * @hv: entries from hvr_cpuid_build()
 * @nhv: their count
 * @out: output array, at least @nvmm + @nhv entries
 * @max: its size
 * @err: optional
 *
 * The VMM's 0x40000000..0x400000FF leaves give way to @hv.  If they carry
 * KVM's paravirt signature ("KVMKVMKVM") and 0x40000100 is free, they move
 * there, where KVM and Linux guests look for them next to Hyper-V.  Leaf 1
 * gets ECX bit 31 (hypervisor present), without which guests never look at
 * 0x40000000.  With @nhv == 0, @vmm is copied unchanged.
 *
 * Return: the number of entries in @out, or -ENOSPC.
 */
int hvr_cpuid_merge(const struct kvm_cpuid_entry2 *vmm, unsigned int nvmm,
		    const struct kvm_cpuid_entry2 *hv, unsigned int nhv,
		    struct kvm_cpuid_entry2 *out, unsigned int max, struct hvr_error *err);

/**
 * hvr_vcpu_enable_synic2() - KVM_ENABLE_CAP(KVM_CAP_HYPERV_SYNIC2) on a vCPU
 * @vcpu_fd: the vCPU
 * @err: optional
 *
 * Needs an in-kernel (or split) irqchip.
 *
 * Return: 0 or a negative errno.
 */
int hvr_vcpu_enable_synic2(int vcpu_fd, struct hvr_error *err);

/**
 * hvr_vcpu_enable_evmcs() - KVM_ENABLE_CAP(KVM_CAP_HYPERV_ENLIGHTENED_VMCS)
 * @vcpu_fd: the vCPU
 * @version: optional; receives the version range KVM supports (high byte
 *	max, low byte min), 0 if KVM has no nested VMX
 * @err: optional
 *
 * KVM writes the range through a pointer in args[0]; this passes a valid one
 * (a NULL args[0] fails with EFAULT).  Fails with -ENOTTY on AMD.
 *
 * Return: 0 or a negative errno.
 */
int hvr_vcpu_enable_evmcs(int vcpu_fd, uint16_t *version, struct hvr_error *err);

/**
 * hvr_vcpu_enforce_cpuid() - KVM_ENABLE_CAP(KVM_CAP_HYPERV_ENFORCE_CPUID)
 * @vcpu_fd: the vCPU
 * @on: restrict the guest to the Hyper-V features its CPUID advertises
 * @err: optional
 *
 * Return: 0 or a negative errno.
 */
int hvr_vcpu_enforce_cpuid(int vcpu_fd, bool on, struct hvr_error *err);

/**
 * hvr_vcpu_setup() - give one vCPU its Hyper-V identity
 * @vcpu_fd: the vCPU, before its first KVM_RUN
 * @cfg: a resolved config; @cfg->evmcs_version is updated from the vCPU
 * @vmm: the VMM's own CPUID entries (KVM_GET_CPUID2 cannot be relied on for
 *	this on old kernels, so the VMM hands them in)
 * @nvmm: their count
 * @err: optional
 *
 * In order: eVMCS (if evmcs), SynIC2 (if synic), enforce_cpuid (if set),
 * hvr_host_query_vcpu() and hvr_config_fit_vcpu() (so @cfg loses what this
 * vCPU is not offered, stimer_direct and ipi without an in-kernel LAPIC),
 * then KVM_SET_CPUID2 with hvr_cpuid_merge() of @vmm and the built leaves.
 * eVMCS goes first because the leaves carry the version it reports.
 *
 * Return: 0 or a negative errno.
 */
int hvr_vcpu_setup(int vcpu_fd, struct hvr_config *cfg, const struct kvm_cpuid_entry2 *vmm,
		   unsigned int nvmm, struct hvr_error *err);

/**
 * hvr_relay_query() - the relay classes the kvm_hv_relay module supports
 * @fd: /dev/kvm or a VM fd
 * @mask: receives the HVR_RELAY_* mask, 0 when the module is not loaded
 * @err: optional
 *
 * Return: 0 or a negative errno from KVM_CHECK_EXTENSION.
 */
int hvr_relay_query(int fd, uint64_t *mask, struct hvr_error *err);

/**
 * hvr_relay_enable() - select the relayed classes for one VM
 * @vm_fd: the VM
 * @mask: HVR_RELAY_* bits; 0 disables the relay
 * @err: optional
 *
 * Return: 0, -EINVAL (a class the module does not support, or the module is
 * not loaded), -EIO (@vm_fd was created by another process: KVM serves VM
 * ioctls only to the VM's own mm) or another negative errno.
 */
int hvr_relay_enable(int vm_fd, uint64_t mask, struct hvr_error *err);

/**
 * hvr_relay_dev_open() - open the kvm_hv_relay module's device
 * @err: optional; ENOENT (module not loaded) and EACCES (root only) explained
 *
 * /dev/kvm_hv_relay sets the mask of a VM this process did not create, which
 * KVM_ENABLE_CAP cannot: see hvr_relay_set_mask().
 *
 * Return: the device fd (close it when done), or a negative errno.
 */
int hvr_relay_dev_open(struct hvr_error *err);

/**
 * hvr_relay_set_mask() - select the relayed classes of any VM
 * @dev_fd: from hvr_relay_dev_open()
 * @vm_fd: a KVM VM fd of this process, e.g. from hvr_vm_fd_grab()
 * @mask: HVR_RELAY_* bits; 0 disables the relay
 * @err: optional
 *
 * KVM_HV_RELAY_SET_VM_MASK: the same effect as hvr_relay_enable() in the
 * VM's own process.  Needs CAP_SYS_ADMIN.
 *
 * Return: 0, -EBADF (@vm_fd is not open), -EINVAL (@vm_fd is not a KVM VM,
 * or a class the module does not support), -EPERM, -ENODEV (the relay is
 * disarmed) or another negative errno.
 */
int hvr_relay_set_mask(int dev_fd, int vm_fd, uint64_t mask, struct hvr_error *err);

/**
 * hvr_relay_get_mask() - the relayed classes of any VM
 * @dev_fd: from hvr_relay_dev_open()
 * @vm_fd: a KVM VM fd of this process
 * @mask: receives the VM's HVR_RELAY_* mask (0 when it has no relay state)
 * @has_state: optional; receives whether the VM has relay state, i.e. a
 *	non-zero mask was set once (its counters exist)
 * @err: optional
 *
 * Return: 0 or a negative errno, as hvr_relay_set_mask().
 */
int hvr_relay_get_mask(int dev_fd, int vm_fd, uint64_t *mask, bool *has_state,
		       struct hvr_error *err);

/**
 * hvr_relay_mask_parse() - a relay mask as a user writes it
 * @text: "post", "signal", "all", "none", a comma list of them ("post,signal"),
 *	or a number (decimal or 0x-hex, at most 64 bits)
 * @mask: receives the HVR_RELAY_* bits
 * @err: optional; names what is wrong, e.g. an empty class in ","
 *
 * A number is passed on as is: the module refuses classes it does not know.
 *
 * Return: 0 or -EINVAL.
 */
int hvr_relay_mask_parse(const char *text, uint64_t *mask, struct hvr_error *err);

/**
 * hvr_relay_mask_str() - "post,signal", "none", ... for a mask
 * @mask: HVR_RELAY_* bits; others are shown as "unknown 0x..."
 * @buf: output
 * @size: its size; 64 always suffices
 *
 * Return: @buf.
 */
const char *hvr_relay_mask_str(uint64_t mask, char *buf, size_t size);

/**
 * hvr_pidfd_open() - pidfd_open(2), with its errors explained
 * @pid: the process
 * @err: optional
 *
 * Take the pidfd first and go through it (hvr_vm_fds_pidfd(),
 * hvr_vm_fd_grab_pidfd()): a pid number alone may be recycled for another
 * process between two calls.
 *
 * Return: the pidfd (close it when done), or a negative errno (-ESRCH: no
 * such process).
 */
int hvr_pidfd_open(pid_t pid, struct hvr_error *err);

/**
 * hvr_vm_fds_pidfd() - the KVM VM fds of the process behind a pidfd
 * @pidfd: from hvr_pidfd_open(@pid)
 * @pid: the process's number, to find it in /proc
 * @fds: receives the fd numbers, as seen by the process, ascending
 * @max: size of @fds
 * @err: optional
 *
 * Scans /proc/@pid/fd for links to "anon_inode:kvm-vm", then checks through
 * @pidfd that the process is still alive: only then was /proc/@pid its own.
 *
 * Return: how many there are (may exceed @max), -ESRCH if the process exited
 * meanwhile, or another negative errno.
 */
int hvr_vm_fds_pidfd(int pidfd, pid_t pid, int *fds, unsigned int max, struct hvr_error *err);

/**
 * hvr_vm_fds() - hvr_vm_fds_pidfd() with a pidfd of its own
 * @pid: the process
 * @fds: as hvr_vm_fds_pidfd()
 * @max: size of @fds
 * @err: optional
 *
 * Return: as hvr_vm_fds_pidfd(), or hvr_pidfd_open()'s error.
 */
int hvr_vm_fds(pid_t pid, int *fds, unsigned int max, struct hvr_error *err);

/**
 * hvr_vm_fd_grab_pidfd() - duplicate another process's fd into this one
 * @pidfd: from hvr_pidfd_open(@pid)
 * @pid: the process's number, for messages
 * @target_fd: the fd number in the process
 * @err: optional; EPERM is explained (ptrace rights / CAP_SYS_PTRACE)
 *
 * Uses pidfd_getfd() (Linux >= 5.6).  The new fd refers to the same VM, but
 * stock KVM fails VM ioctls on it with EIO because the caller's mm is not the
 * VM's: use it to name the VM, e.g. to hvr_relay_set_mask(), not for
 * KVM_ENABLE_CAP.
 *
 * Return: the new fd (close it when done), or a negative errno.
 */
int hvr_vm_fd_grab_pidfd(int pidfd, pid_t pid, int target_fd, struct hvr_error *err);

/**
 * hvr_vm_fd_grab() - hvr_vm_fd_grab_pidfd() with a pidfd of its own
 * @pid: the process
 * @target_fd: the fd number in @pid
 * @err: optional
 *
 * Return: as hvr_vm_fd_grab_pidfd(), or hvr_pidfd_open()'s error.
 */
int hvr_vm_fd_grab(pid_t pid, int target_fd, struct hvr_error *err);

/*
 * CPU models.  A model is a named set of CPUID features (QEMU's models, as
 * Debian's QEMU defines them, and the x86-64 psABI levels) that a guest's
 * CPUID is masked down to: guest = host AND model, in every feature word.
 */

/*
 * The CPUID registers a model constrains, each masked whole: a word the
 * model sets no bit of is cleared, so that no host feature leaks through.
 * Values are only appended; hvr_cpu_word_leaf() says where each lives.
 */
enum hvr_cpu_word {
	HVR_CPUW_1_EDX,		/* CPUID.01H:EDX */
	HVR_CPUW_1_ECX,		/* CPUID.01H:ECX */
	HVR_CPUW_6_EAX,		/* CPUID.06H:EAX, thermal and power */
	HVR_CPUW_7_0_EBX,	/* CPUID.(07H,0):EBX */
	HVR_CPUW_7_0_ECX,	/* CPUID.(07H,0):ECX */
	HVR_CPUW_7_0_EDX,	/* CPUID.(07H,0):EDX */
	HVR_CPUW_7_1_EAX,	/* CPUID.(07H,1):EAX */
	HVR_CPUW_7_1_EDX,	/* CPUID.(07H,1):EDX */
	HVR_CPUW_7_2_EDX,	/* CPUID.(07H,2):EDX */
	HVR_CPUW_D_1_EAX,	/* CPUID.(0DH,1):EAX, XSAVE extensions */
	HVR_CPUW_12_0_EAX,	/* CPUID.(12H,0):EAX, SGX */
	HVR_CPUW_12_0_EBX,	/* CPUID.(12H,0):EBX, SGX MISCSELECT */
	HVR_CPUW_12_1_EAX,	/* CPUID.(12H,1):EAX, SGX ATTRIBUTES */
	HVR_CPUW_14_0_ECX,	/* CPUID.(14H,0):ECX, Intel PT */
	HVR_CPUW_80000001_ECX,	/* CPUID.80000001H:ECX */
	HVR_CPUW_80000001_EDX,	/* CPUID.80000001H:EDX */
	HVR_CPUW_80000007_EDX,	/* CPUID.80000007H:EDX */
	HVR_CPUW_80000008_EBX,	/* CPUID.80000008H:EBX */
	HVR_CPUW_8000000A_EDX,	/* CPUID.8000000AH:EDX, SVM */
	HVR_CPUW_80000021_EAX,	/* CPUID.80000021H:EAX */
	HVR_CPU_NR_WORDS
};

/* struct hvr_cpu_model.words has room for this many, whatever is appended. */
#define HVR_CPU_WORDS_MAX	32
#if !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(HVR_CPU_NR_WORDS <= HVR_CPU_WORDS_MAX, "enum hvr_cpu_word outgrew the words array");
#endif

/**
 * struct hvr_cpu_model - a named CPU model (the library's, read-only)
 * @name: as QEMU spells it, e.g. "Skylake-Server-v4", or "x86-64-v3"
 * @aliases: QEMU's other names for it ("Skylake-Server" for
 *	"Skylake-Server-v1"), NULL-terminated, possibly empty
 * @vendor: the 12-character CPUID vendor, e.g. "GenuineIntel"; NULL for a
 *	psABI level, which keeps the host's identity
 * @brand: the brand string (QEMU's model-id), "" if the model has none;
 *	NULL when @vendor is
 * @family: display family, as QEMU's "family" property (e.g. 23)
 * @model: display model (e.g. 85)
 * @stepping: stepping
 * @source: where it comes from, e.g. "QEMU 7.2.22 (Debian ...)" or
 *	"x86-64 psABI 1.0"
 * @words: the model's features, indexed by enum hvr_cpu_word
 * @msr_features: QEMU's names of the model's features that are MSR bits
 *	rather than CPUID ones (e.g. "mds-no"), NULL-terminated; masking CPUID
 *	does not apply them
 * @reserved: zero; room for what later versions record
 */
struct hvr_cpu_model {
	const char *name;
	const char *const *aliases;
	const char *vendor;
	const char *brand;
	uint32_t family;
	uint32_t model;
	uint32_t stepping;
	const char *source;
	uint32_t words[HVR_CPU_WORDS_MAX];
	const char *const *msr_features;
	uint64_t reserved[4];
};

/**
 * hvr_cpu_model_count() - how many models the library knows
 *
 * Return: the count; hvr_cpu_model_get() takes 0 to count - 1.
 */
unsigned int hvr_cpu_model_count(void);

/**
 * hvr_cpu_model_get() - a model by position, for listing
 * @i: 0 to hvr_cpu_model_count() - 1: QEMU's models by name, then the
 *	psABI levels
 *
 * Return: the model, or NULL past the end.
 */
const struct hvr_cpu_model *hvr_cpu_model_get(unsigned int i);

/**
 * hvr_cpu_model_lookup() - a model by name
 * @name: the name as QEMU spells it, or one of its aliases; case matters,
 *	as in QEMU's -cpu
 * @model: receives the model
 * @err: optional; for an unknown name, a message naming it (and the
 *	spelling meant, if only the case differs)
 *
 * Return: 0 or -ENOENT.
 */
int hvr_cpu_model_lookup(const char *name, const struct hvr_cpu_model **model,
			 struct hvr_error *err);

/**
 * hvr_cpu_word_leaf() - where a feature word lives
 * @word: the word
 * @function: receives its CPUID leaf
 * @index: receives its subleaf
 * @reg: receives its register, 0..3 for EAX, EBX, ECX, EDX
 *
 * Return: 0, or -EINVAL for a value past HVR_CPU_NR_WORDS.
 */
int hvr_cpu_word_leaf(enum hvr_cpu_word word, uint32_t *function, uint32_t *index,
		      unsigned int *reg);

/**
 * hvr_cpu_feature_name() - QEMU's name of a feature bit
 * @word: the word
 * @bit: 0..31
 *
 * Return: e.g. "avx512f", or NULL for a bit no fact places.  The dynamic
 * bits are named too ("osxsave", "ospke", "hypervisor").
 */
const char *hvr_cpu_feature_name(enum hvr_cpu_word word, unsigned int bit);

/**
 * hvr_cpu_model_mask() - the CPUID a guest of a model gets on this host
 * @model: the model
 * @host: the host's CPUID entries (KVM_GET_SUPPORTED_CPUID, or the VMM's)
 * @nhost: their count
 * @out: output array; @nhost + 3 entries always suffice
 * @max: its size
 * @err: optional
 *
 * Every entry of @host is copied, and every feature word in it is ANDed
 * with the model's, including words the model leaves empty, so the guest
 * never sees a feature the host lacks nor one the model lacks.  OSXSAVE,
 * OSPKE and the hypervisor bit are dynamic, not model features: they keep
 * the host's value.  A model with a vendor also gives its identity: the
 * vendor string of leaf 0, the family, model and stepping of leaf 1 EAX
 * (and of 0x80000001 EAX on AMD and Hygon) and the brand string of
 * 0x80000002..0x80000004, added if @host lacks them.  Other leaves
 * (topology, caches, the hypervisor range) are the host's.
 *
 * Return: the number of entries in @out, -EINVAL (the host's vendor is not
 * the model's, or @host has no leaf 0 or 0x80000000) or -ENOSPC; @out is
 * not to be used on failure.
 */
int hvr_cpu_model_mask(const struct hvr_cpu_model *model, const struct kvm_cpuid_entry2 *host,
		       unsigned int nhost, struct kvm_cpuid_entry2 *out, unsigned int max,
		       struct hvr_error *err);

/*
 * CPU profiles.  A profile is what one host's KVM offers a guest, as data:
 * the CPUID of KVM_GET_SUPPORTED_CPUID and the feature MSRs of
 * KVM_GET_MSR_FEATURE_INDEX_LIST / KVM_GET_MSRS (the VMX capability MSRs
 * among them when KVM offers nested VMX).  A cluster captures one per host,
 * checks a profile against a host, and computes the baseline all its hosts
 * can run.  The file format is JSON (Documentation/shim.rst lists its
 * fields).
 */

/* The file format this library writes, and the only one it reads. */
#define HVR_PROFILE_VERSION	1
/* KVM's own limit (KVM_MAX_CPUID_ENTRIES) */
#define HVR_PROFILE_MAX_CPUID	256
#define HVR_PROFILE_MAX_MSRS	256
#define HVR_PROFILE_COMMENT_MAX	1024

/**
 * struct hvr_msr - a feature MSR and its value
 * @index: the MSR number
 * @reserved: zero
 * @value: what KVM_GET_MSRS on /dev/kvm returned
 */
struct hvr_msr {
	uint32_t index;
	uint32_t reserved;
	uint64_t value;
};

/**
 * struct hvr_cpu_profile - what a host's KVM offers a guest
 * @version: HVR_PROFILE_VERSION
 * @vendor: the CPUID vendor string of leaf 0, e.g. "AuthenticAMD"
 * @comment: free text for people: where the profile came from
 * @ncpuid: valid entries in @cpuid
 * @cpuid: the CPUID entries, sorted by function and index, each once
 * @nmsrs: valid entries in @msrs
 * @msrs: the feature MSRs, sorted by index, each once; none in the x2APIC
 *	range 0x800..0x8ff, which KVM_X86_SET_MSR_FILTER cannot filter
 * @reserved: zero; room for what later versions record
 */
struct hvr_cpu_profile {
	uint32_t version;
	char vendor[16];
	char comment[HVR_PROFILE_COMMENT_MAX];
	unsigned int ncpuid;
	struct kvm_cpuid_entry2 cpuid[HVR_PROFILE_MAX_CPUID];
	unsigned int nmsrs;
	struct hvr_msr msrs[HVR_PROFILE_MAX_MSRS];
	uint64_t reserved[8];
};

/**
 * hvr_profile_capture() - this host's profile, from KVM
 * @kvm_fd: /dev/kvm
 * @p: filled on success
 * @err: optional
 *
 * KVM_GET_SUPPORTED_CPUID, then KVM_GET_MSR_FEATURE_INDEX_LIST and
 * KVM_GET_MSRS on @kvm_fd (Linux >= 4.17, KVM_CAP_GET_MSR_FEATURES); an
 * MSR of the list KVM then declines to read is left out.  @p->comment
 * names the ioctls and the running kernel.
 *
 * Return: 0, -E2BIG (more than the HVR_PROFILE_MAX_* entries) or the
 * ioctl's negative errno.
 */
int hvr_profile_capture(int kvm_fd, struct hvr_cpu_profile *p, struct hvr_error *err);

/**
 * hvr_profile_parse() - read a profile from JSON text
 * @text: the text, strict JSON (RFC 8259); need not be NUL-terminated
 * @len: its length
 * @p: filled on success
 * @err: optional; names the line and column, or the field
 *
 * Every field of the format must be there with its type, none twice and
 * none unknown; "format" must say this is a profile and "version" must be
 * HVR_PROFILE_VERSION; @p->vendor must be what the profile's leaf 0 says.
 *
 * Return: 0, -EINVAL, -E2BIG or -ENOMEM.
 */
int hvr_profile_parse(const char *text, size_t len, struct hvr_cpu_profile *p,
		      struct hvr_error *err);

/**
 * hvr_profile_load() - hvr_profile_parse() on a file's contents
 * @path: the file
 * @p: filled on success
 * @err: optional; the message starts with @path
 *
 * Return: 0 or a negative errno.
 */
int hvr_profile_load(const char *path, struct hvr_cpu_profile *p, struct hvr_error *err);

/**
 * hvr_profile_format() - a profile as JSON, as hvr_profile_parse() reads it
 * @p: the profile
 * @buf: output, NUL-terminated when @size > 0
 * @size: its size; 160 bytes per CPUID entry, 64 per MSR and 1024 more
 *	always suffice
 *
 * Return: the length of the whole text, as snprintf(): @size or more means
 * it was cut.
 */
int hvr_profile_format(const struct hvr_cpu_profile *p, char *buf, size_t size);

/**
 * hvr_profile_save() - write hvr_profile_format()'s text to a file
 * @p: the profile
 * @path: the file, created or truncated
 * @err: optional
 *
 * Return: 0 or a negative errno.
 */
int hvr_profile_save(const struct hvr_cpu_profile *p, const char *path, struct hvr_error *err);

/* What kind of thing a host lacks (struct hvr_profile_issue.kind). */
enum hvr_issue_kind {
	HVR_ISSUE_CPUID,	/* a CPUID feature bit the profile has and the host lacks */
	HVR_ISSUE_CPUID_FIELD,	/* a CPUID number larger in the profile (address widths) */
	HVR_ISSUE_MSR_ABSENT,	/* an MSR the profile has and the host's KVM does not report */
	HVR_ISSUE_MSR,		/* bits or a field of an MSR the host cannot give */
};

/**
 * struct hvr_profile_issue - one reason a host cannot run a profile
 * @kind: what kind of thing it is
 * @function: the CPUID leaf, or the MSR index
 * @index: the CPUID subleaf (0 for an MSR)
 * @reg: the CPUID register, 0..3 for EAX, EBX, ECX, EDX (0 for an MSR)
 * @bits: the bits at fault
 * @want: the profile's value of the register or MSR
 * @have: the host's (0 when it has none)
 * @text: one line for people, e.g. "CPUID avx512f (leaf 0x00000007 index
 *	0 EBX bit 16): not on this host"
 * @reserved: zero
 */
struct hvr_profile_issue {
	enum hvr_issue_kind kind;
	uint32_t function;
	uint32_t index;
	unsigned int reg;
	uint64_t bits;
	uint64_t want;
	uint64_t have;
	char text[160];
	uint64_t reserved[2];
};

/**
 * hvr_profile_check() - whether a host can run a profile, and if not why
 * @host: the host's profile (hvr_profile_capture(), or a file)
 * @want: the profile a guest is to get
 * @issues: optional; receives up to @max reasons, in CPUID then MSR order
 * @max: size of @issues
 * @err: optional; for a vendor mismatch
 *
 * CPUID: every feature word (enum hvr_cpu_word) of @want, but for the
 * dynamic bits (OSXSAVE, OSPKE, hypervisor), must be in @host's, and so
 * must the XSAVE components of leaf 0xD (XCR0 and IA32_XSS); the address
 * widths of 0x80000008 EAX must not be larger.  MSRs: each of @want's must
 * be in @host, and its value compatible by the rule for its kind that
 * Documentation/shim.rst gives with its SDM section: capability bits a
 * subset, VMX allowed-0 bits a superset, IA32_ARCH_CAPABILITIES's "not
 * affected" bits (RDCL_NO, MDS_NO, ...) on the host too and its "affected"
 * ones (RSBA, RRSBA) not on the host alone.  KVM itself does not check
 * IA32_ARCH_CAPABILITIES against the host; this does.
 *
 * Return: the number of reasons (0: @host runs @want; may exceed @max), or
 * -EINVAL when the vendors differ: no profile moves between vendors.
 */
int hvr_profile_check(const struct hvr_cpu_profile *host, const struct hvr_cpu_profile *want,
		      struct hvr_profile_issue *issues, unsigned int max, struct hvr_error *err);

/**
 * hvr_profile_baseline() - the greatest profile every host can run
 * @hosts: the hosts' profiles
 * @n: how many, at least 1
 * @out: the baseline
 * @left_out: optional; receives up to @max MSRs the baseline leaves out
 *	(not on every host, or a field the hosts disagree on), as issues
 * @max: size of @left_out
 * @err: optional
 *
 * CPUID: the leaves every host has, the feature words and XSAVE
 * components ANDed, the maximum leaves and address widths the smallest;
 * other registers (identity, caches, topology) are the first host's.
 * MSRs: those every host has, combined by kind: capability bits ANDed,
 * allowed-0 and "affected" bits ORed, counts the smallest.  Every host
 * passes hvr_profile_check() against the result.
 *
 * Return: the number of MSRs left out (may exceed @max), or -EINVAL for
 * mixed vendors or @n == 0.
 */
int hvr_profile_baseline(const struct hvr_cpu_profile *const *hosts, unsigned int n,
			 struct hvr_cpu_profile *out, struct hvr_profile_issue *left_out,
			 unsigned int max, struct hvr_error *err);

/**
 * hvr_profile_runs_model() - whether a host can give a guest a CPU model
 * @p: the host's profile
 * @model: the model
 *
 * True when the vendors agree (a psABI level has none), every feature of
 * the model is in @p, and the model's MSR features (QEMU's names of
 * IA32_ARCH_CAPABILITIES bits, e.g. "mds-no") are in @p's
 * IA32_ARCH_CAPABILITIES.
 *
 * Return: true or false.
 */
bool hvr_profile_runs_model(const struct hvr_cpu_profile *p, const struct hvr_cpu_model *model);

/**
 * hvr_profile_newest_model() - the newest model a host can give a guest
 * @p: the host's profile, e.g. a baseline
 * @psabi: the psABI levels instead of QEMU's models
 *
 * QEMU records no dates, so newest means richest: of the models
 * hvr_profile_runs_model() accepts, the one with the most CPUID feature
 * bits, the later in hvr_cpu_model_get() order (QEMU's later version) on a
 * tie.
 *
 * Return: the model, or NULL when @p runs none.
 */
const struct hvr_cpu_model *hvr_profile_newest_model(const struct hvr_cpu_profile *p, bool psabi);

/*
 * Applying a model or profile to a vCPU.
 */

/**
 * hvr_cpu_apply() - give a vCPU a CPU model or profile, and filter its MSRs
 * @vm_fd: the vCPU's VM, for KVM_X86_SET_MSR_FILTER (KVM_CAP_X86_MSR_FILTER,
 *	Linux >= 5.10); the filter is the VM's, so each vCPU's call sets the
 *	same one again
 * @vcpu_fd: the vCPU, before its first KVM_RUN
 * @host: this host's profile (hvr_profile_capture() on /dev/kvm): its
 *	CPUID is what KVM supports, its MSRs what KVM can give
 * @model: a named model (hvr_cpu_model_lookup()), or NULL
 * @profile: a loaded profile (hvr_profile_load()), or NULL; exactly one of
 *	@model and @profile
 * @cfg: a resolved Hyper-V config (hvr_resolve()), narrowed in place as by
 *	hvr_vcpu_setup(), whose per-vCPU capabilities this enables too; NULL,
 *	or one with no enlightenment, for a guest without Hyper-V
 * @err: optional; one message for a refusal, naming the first reason
 *
 * Refuses, before it changes anything, a model or profile this host cannot
 * run: another vendor's, a model hvr_profile_runs_model() rejects, a
 * profile hvr_profile_check() finds problems with, or a profile MSR in the
 * x2APIC range (which the filter cannot cover); also a KVM without the MSR
 * filter.  Then, in order: KVM_SET_CPUID2 with the model's CPUID
 * (hvr_cpu_model_mask() of @host's) or the profile's (its feature words
 * ANDed with @host's), merged with the Hyper-V leaves of @cfg
 * (hvr_cpuid_merge()); KVM_SET_MSRS with the profile's feature MSRs (a
 * model sets none); and a deny-by-default KVM_X86_SET_MSR_FILTER that
 * allows the profile's MSRs, the architectural MSRs Documentation/shim.rst
 * lists (those a guest needs to boot), the Hyper-V synthetic MSRs
 * 0x40000000-0x400000ff when the guest sees Hyper-V, and KVM's paravirtual
 * MSRs 0x4b564d00-0x4b564dff when it sees KVM's signature.  A guest's
 * RDMSR or WRMSR of any other MSR gets #GP (or, with
 * KVM_CAP_X86_USER_SPACE_MSR and KVM_MSR_EXIT_REASON_FILTER, exits to the
 * VMM); the x2APIC MSRs stay KVM's.  The topology leaves (1 EBX, 0xB,
 * 0x1F) are @host's or the profile's: a VMM with its own topology sets the
 * CPUID again after this.  A failure after the first ioctl leaves what was
 * set before it.
 *
 * Return: 0, -EINVAL (arguments, vendor, x2APIC MSR), -EOPNOTSUPP (the host
 * cannot run it, or has no MSR filter), -E2BIG (more than 16 filter
 * ranges), or a negative errno from an ioctl.
 */
int hvr_cpu_apply(int vm_fd, int vcpu_fd, const struct hvr_cpu_profile *host,
		  const struct hvr_cpu_model *model, const struct hvr_cpu_profile *profile,
		  struct hvr_config *cfg, struct hvr_error *err);

#if defined(__GNUC__) && __GNUC__ >= 4
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* HVRELAY_H */
