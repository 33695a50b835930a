# SPDX-License-Identifier: GPL-2.0-only
"""Independent references for the shim's Hyper-V CPUID leaves.

Two models, written for this project from facts (bit positions, defaults,
documented rules), not from the shim and not copied from either project:

* QEMU 7.2 (Debian 12's qemu-system-x86 1:7.2+dfsg): what -cpu ...,hv-* puts
  in 0x40000000..0x4000000A.  Facts from QEMU's target/i386/kvm/kvm.c (the
  kvm_hyperv_properties table, hyperv_fill_cpuids(), hv_feature_check_deps(),
  kvm_hyperv_expand_features()), target/i386/kvm/hyperv-proto.h (bit
  positions), target/i386/cpu.c (property defaults) and
  docs/system/i386/hyperv.rst.  The same code is in QEMU 10.0 (Debian 13).
* OpenVMM PR #3743 ("KVM backend: selectable Hyper-V enlightenments"): which
  enlightenments each hv= spec turns on, and the leaves its KVM backend
  builds from them.  Facts from the PR's
  openvmm/hypervisor_resources/src/lib.rs (HvEnlightenments::default(),
  none(), windows_nested(), windows_non_nested(), apply_spec(),
  field_mut(), parse_int(), adjust_for_host()), its
  vmm_core/virt_kvm/src/arch/x86_64/mod.rs (the partition's CPUID: the
  HvPartitionPrivilege, HvFeatures and HvEnlightenmentInformation it
  fills, and the 0x4000000A it passes through) and the bit layout of those
  structures in vm/hv1/hvdef/src/lib.rs.

Registers are indexed 0..3 for EAX, EBX, ECX, EDX.
"""

EAX, EBX, ECX, EDX = range(4)
REG_NAMES = ("eax", "ebx", "ecx", "edx")

VENDOR_MAX = 0x40000000
INTERFACE = 0x40000001
VERSION = 0x40000002
FEATURES = 0x40000003
RECOMMEND = 0x40000004
LIMITS = 0x40000005
NESTED = 0x4000000A
SYNDBG_VENDOR = 0x40000080
SYNDBG_INTERFACE = 0x40000081
SYNDBG_CAPS = 0x40000082

# The leaves a guest can read in the Hyper-V range that either side fills.
COMPARED_LEAVES = tuple(range(VENDOR_MAX, NESTED + 1)) + (SYNDBG_VENDOR, SYNDBG_INTERFACE,
                                                         SYNDBG_CAPS)

SPIN_NEVER_NOTIFY = 0xFFFFFFFF


def bit(n):
    return 1 << n


def sig(text):
    """Little-endian register words of an ASCII signature, zero-padded."""
    raw = text.encode("ascii").ljust(4 * ((len(text) + 3) // 4), b"\0")
    return [int.from_bytes(raw[i:i + 4], "little") for i in range(0, len(raw), 4)]


# -- QEMU 7.2 --------------------------------------------------------------
#
# Per hv-* property, the CPUID bits it contributes, written as
# (leaf, register, TLFS bit).  The same bits are what QEMU requires the host
# (KVM_GET_SUPPORTED_HV_CPUID) to offer before it accepts the property.
QEMU_BITS = {
    "relaxed": [(RECOMMEND, EAX, 5)],                       # UseRelaxedTiming
    "vapic": [(FEATURES, EAX, 4)],                          # AccessIntrCtrlRegs
    "time": [(FEATURES, EAX, 1), (FEATURES, EAX, 9)],       # ref. counter, ref. TSC
    "crash": [(FEATURES, EDX, 10)],                         # GuestCrashRegsAvailable
    "reset": [(FEATURES, EAX, 7)],                          # AccessResetReg
    "vpindex": [(FEATURES, EAX, 6)],                        # AccessVpIndex
    "runtime": [(FEATURES, EAX, 0)],                        # AccessVpRunTimeReg
    "synic": [(FEATURES, EAX, 2)],                          # AccessSynicRegs
    "stimer": [(FEATURES, EAX, 3)],                         # AccessSyntheticTimerRegs
    "frequencies": [(FEATURES, EAX, 11), (FEATURES, EDX, 8)],
    "reenlightenment": [(FEATURES, EAX, 13)],
    "tlbflush": [(RECOMMEND, EAX, 2), (RECOMMEND, EAX, 11)],  # remote flush, ex masks
    "evmcs": [(RECOMMEND, EAX, 14)],                        # UseVmcsEnlightenments
    "ipi": [(RECOMMEND, EAX, 10), (RECOMMEND, EAX, 11)],    # cluster IPI, ex masks
    "stimer_direct": [(FEATURES, EDX, 19)],
    "avic": [(RECOMMEND, EAX, 9)],                          # DeprecateAutoEoi
    "syndbg": [(FEATURES, EDX, 11)],                        # DebugRegsAvailable
    "emsr_bitmap": [(NESTED, EAX, 19)],
    "xmm_input": [(FEATURES, EDX, 4)],
    "tlbflush_ext": [(FEATURES, EDX, 14)],
    "tlbflush_direct": [(NESTED, EAX, 17)],
}

# What QEMU refuses to start without (kvm_hyperv_properties[].dependencies,
# plus synic's own check on vpindex in kvm_hyperv_expand_features()).  The
# longer "Requires:" lists of hyperv.rst for stimer_direct and syndbg follow
# from these transitively or are documentation only.
QEMU_DEPS = {
    "stimer": {"synic", "time"},
    "tlbflush": {"vpindex"},
    "evmcs": {"vapic"},
    "ipi": {"vpindex"},
    "stimer_direct": {"stimer"},
    "syndbg": {"synic", "relaxed"},
    "tlbflush_ext": {"tlbflush"},
    "tlbflush_direct": {"vapic"},
    "synic": {"vpindex"},
}

# Properties that are not in QEMU's hyperv_features bitmap: they never turn
# the Hyper-V identity on by themselves.
QEMU_NOT_FEATURES = {"enforce_cpuid", "no_nonarch_coresharing", "spinlocks"}

# Names of the shim's that are no QEMU property at all: 0x40000004 EAX bit
# 12 has no hv-* switch (QEMU never sets it).  They are left out when the
# shim's enabled list is handed to QEMU, and to OpenVMM, which has no field
# for the bit either (its builder sets it from nested_virt).
SHIM_ONLY = {"nested_hint"}


def as_qemu_properties(enabled):
    """The shim's enabled list as QEMU hv-* properties (shim spelling)."""
    return [name for name in enabled if name not in SHIM_ONLY]

# target/i386/cpu.c defaults for the machine types 7.2 creates by default.
QEMU_VERSION_BUILD = 0x3839          # hv-version-id-build, 14393 (WS2016)
QEMU_VERSION_MAJOR = 0x000A          # hv-version-id-major
QEMU_VERSION_MINOR = 0x0000          # hv-version-id-minor
QEMU_MAX_VPS = 0xFFFFFFFF            # x-hv-max-vps default -1
QEMU_MAX_LPS = 64                    # hyperv_limits[0]
QEMU_EVMCS_VERSION = 0x0101          # DEFAULT_EVMCS_VERSION: 1..1, pinned

# Set by hyperv_fill_cpuids() whatever the properties.
QEMU_ALWAYS_HYPERCALL = (FEATURES, EAX, 5)         # AccessHypercallMsrs
QEMU_ALWAYS_DYN_PARTITIONING = (FEATURES, EDX, 3)  # CpuDynamicPartitioningAvailable
QEMU_SYNIC_PRIVILEGES = (bit(4) | bit(5))          # PostMessages, SignalEvents
QEMU_APIC_RECOMMENDED = bit(3)                     # UseApicMsrs, vapic without avic
QEMU_NO_NONARCH = bit(18)                          # NoNonArchitecturalCoreSharing


class Refused(Exception):
    """QEMU would not start with this set; the message says why."""


def host_has(host, leaf, reg, mask):
    row = host.get(leaf, [0, 0, 0, 0])
    return row[reg] & mask == mask


def qemu_requires(name):
    """name and everything QEMU requires along with it, transitively."""
    need, todo = set(), [name]
    while todo:
        n = todo.pop()
        if n not in need:
            need.add(n)
            todo.extend(QEMU_DEPS.get(n, ()))
    return need


def qemu_check(flags, host):
    """Raise Refused as kvm_hyperv_expand_features() would, or return."""
    for name in sorted(flags - QEMU_NOT_FEATURES):
        if name not in QEMU_BITS:
            raise Refused("QEMU has no hv-%s" % name.replace("_", "-"))
        if host is not None:
            for leaf, reg, b in QEMU_BITS[name]:
                if not host_has(host, leaf, reg, bit(b)):
                    raise Refused("hv-%s is not supported by the host" % name.replace("_", "-"))
        missing = QEMU_DEPS.get(name, set()) - flags
        if missing:
            raise Refused("hv-%s requires %s" % (name.replace("_", "-"),
                                                 ", ".join("hv-" + m for m in sorted(missing))))


def qemu_leaves(flags, spin=SPIN_NEVER_NOTIFY, host=None, no_nonarch=False):
    """The Hyper-V leaves QEMU 7.2 gives a guest for this hv-* set.

    flags uses the shim's spelling (hv-stimer-direct is "stimer_direct").
    Returns {leaf: [eax, ebx, ecx, edx]}; {} when the guest keeps KVM's
    identity.  Raises Refused when QEMU would not start.
    """
    flags = set(flags)
    # In a flag set, the name stands for hv-no-nonarch-coresharing=on (its
    # default is off); "auto" would copy the host's bit instead.
    no_nonarch = no_nonarch or "no_nonarch_coresharing" in flags
    qemu_check(flags, host)
    features = flags - QEMU_NOT_FEATURES
    # hyperv_enabled(): a feature, or a spinlock count other than "never".
    if not features and spin == SPIN_NEVER_NOTIFY:
        return {}

    def collect(leaf, reg):
        v = 0
        for name in features:
            for l, r, b in QEMU_BITS[name]:
                if (l, r) == (leaf, reg):
                    v |= bit(b)
        return v

    nested_eax = collect(NESTED, EAX)
    if "evmcs" in features:
        nested_eax |= QEMU_EVMCS_VERSION
    max_leaf = NESTED if nested_eax else LIMITS
    if "syndbg" in features:
        max_leaf = max(max_leaf, SYNDBG_CAPS)

    out = {}
    out[VENDOR_MAX] = [max_leaf] + sig("Microsoft Hv")
    out[INTERFACE] = sig("Hv#1") + [0, 0, 0]
    out[VERSION] = [QEMU_VERSION_BUILD, QEMU_VERSION_MAJOR << 16 | QEMU_VERSION_MINOR, 0, 0]

    feat = [collect(FEATURES, r) for r in range(4)]
    feat[EAX] |= bit(QEMU_ALWAYS_HYPERCALL[2])
    if "synic" in features:
        feat[EBX] |= QEMU_SYNIC_PRIVILEGES
    feat[EDX] |= bit(QEMU_ALWAYS_DYN_PARTITIONING[2])
    feat[ECX] = 0
    out[FEATURES] = feat

    rec = collect(RECOMMEND, EAX)
    if "vapic" in features and "avic" not in features:
        rec |= QEMU_APIC_RECOMMENDED
    if no_nonarch:
        rec |= QEMU_NO_NONARCH
    out[RECOMMEND] = [rec, spin, 0, 0]
    out[LIMITS] = [QEMU_MAX_VPS, QEMU_MAX_LPS, 0, 0]
    if nested_eax:
        for leaf in range(LIMITS + 1, NESTED):
            out[leaf] = [0, 0, 0, 0]
        out[NESTED] = [nested_eax, 0, 0, 0]
    if "syndbg" in features:
        out[SYNDBG_VENDOR] = [0] + sig("Microsoft VS")
        out[SYNDBG_INTERFACE] = sig("VS#1") + [0, 0, 0]
        out[SYNDBG_CAPS] = [bit(1), 0, 0, 0]                # AllowKernelDebugging
    return out


# -- OpenVMM PR #3743 ----------------------------------------------------------
#
# HvEnlightenments' fields, named as the shim names the same enlightenment;
# "hypercall" has no shim name (the shim always grants the hypercall MSRs).
OPENVMM_FIELDS = ("time", "reference_tsc_page", "frequencies", "hypercall", "vpindex",
                  "runtime", "synic", "stimer", "stimer_direct", "vapic", "relaxed",
                  "tlbflush", "ipi", "evmcs", "reenlightenment", "reset", "crash",
                  "enforce_cpuid")

OPENVMM_DEFAULT = {"time", "reference_tsc_page", "frequencies", "hypercall", "vpindex",
                   "runtime", "synic", "stimer", "vapic"}
OPENVMM_WINDOWS_NESTED = OPENVMM_DEFAULT | {"relaxed", "tlbflush", "ipi", "evmcs",
                                            "reenlightenment", "stimer_direct", "reset"}
OPENVMM_WINDOWS_FLAT = OPENVMM_WINDOWS_NESTED - {"evmcs", "reenlightenment"}
OPENVMM_ALIASES = {"vp_index": "vpindex", "vp_runtime": "runtime"}
# apply_spec() refuses these without nested_virt (EvmcsWithoutNested).
OPENVMM_NEEDS_NESTED = {"evmcs", "reenlightenment"}


def openvmm_flags(spec, nested, host=None):
    """The enlightenments OpenVMM turns on for hv=<spec>, or raise Refused."""
    tokens = [t.strip() for t in spec.split("+") if t.strip()]
    if not tokens:
        raise Refused("empty hv enlightenment spec")
    on = set(OPENVMM_DEFAULT)
    pinned = set()
    presets = {"default": OPENVMM_DEFAULT, "none": set(),
               "windows": OPENVMM_WINDOWS_NESTED if nested else OPENVMM_WINDOWS_FLAT}
    if tokens[0] in presets:
        on = set(presets[tokens.pop(0)])
    for tok in tokens:
        if tok.startswith("spinlocks="):
            continue
        value = not tok.startswith("no_")
        name = tok[3:] if not value else tok
        name = OPENVMM_ALIASES.get(name, name)
        if name not in OPENVMM_FIELDS:
            raise Refused("unknown hv enlightenment: %s" % name)
        pinned.add(name)
        if value:
            on.add(name)
        else:
            on.discard(name)
    if on & OPENVMM_NEEDS_NESTED and not nested:
        raise Refused("evmcs and reenlightenment need nested_virt")
    # adjust_for_host(): only stimer_direct is narrowed, pinned or not.
    if host is not None and "stimer_direct" in on and \
            not host_has(host, FEATURES, EDX, bit(19)):
        on.discard("stimer_direct")
    return on


def openvmm_spin(spec):
    """spinlock_retries after apply_spec(): the last spinlocks=<n>."""
    spin = SPIN_NEVER_NOTIFY
    for tok in (t.strip() for t in spec.split("+")):
        if tok.startswith("spinlocks="):
            n = tok[10:]
            spin = int(n[2:], 16) if n.startswith("0x") else int(n, 10)
    return spin


# The builder's bits, per field (shim spelling), as (leaf, register, bit).
OPENVMM_BITS = {
    # HvPartitionPrivilege, the low half of HvFeatures: 0x40000003 EAX.
    "runtime": [(FEATURES, EAX, 0)],
    "time": [(FEATURES, EAX, 1)],                # reference counter
    "synic": [(FEATURES, EAX, 2)],
    "stimer": [(FEATURES, EAX, 3)],
    "vapic": [(FEATURES, EAX, 4), (RECOMMEND, EAX, 3)],    # and UseApicMsrs
    "hypercall": [(FEATURES, EAX, 5)],
    "vpindex": [(FEATURES, EAX, 6)],
    "reset": [(FEATURES, EAX, 7)],
    "frequencies": [(FEATURES, EAX, 11), (FEATURES, EDX, 8)],
    "reenlightenment": [(FEATURES, EAX, 13)],
    # HvFeatures' feature word: 0x40000003 EDX.
    "crash": [(FEATURES, EDX, 10)],
    "stimer_direct": [(FEATURES, EDX, 19)],
    # HvEnlightenmentInformation: 0x40000004 EAX.
    "relaxed": [(RECOMMEND, EAX, 5)],
    "tlbflush": [(RECOMMEND, EAX, 2), (RECOMMEND, EAX, 11)],
    "ipi": [(RECOMMEND, EAX, 10)],
    "evmcs": [(RECOMMEND, EAX, 14)],
}
OPENVMM_TSC_PAGE = (FEATURES, EAX, 9)        # time and reference_tsc_page
OPENVMM_ALWAYS = [(RECOMMEND, EAX, 9)]       # with_deprecate_auto_eoi(true)
OPENVMM_NESTED = (RECOMMEND, EAX, 12)        # with_nested(nested_virt)


def openvmm_leaves(on, nested, host, spin=SPIN_NEVER_NOTIFY):
    """The Hyper-V leaves OpenVMM's KVM backend gives a guest.

    on is openvmm_flags()'s set.  OpenVMM builds 0x40000000..0x40000004
    whenever the partition has Hyper-V, whatever the spec; 0x40000002 is
    zero; it drops KVM's own 0x4xxxxxxx leaves and builds no 0x40000005, so
    a guest reads zero there; with nesting it passes KVM's 0x4000000A
    through whole and reports it as the max leaf.
    """
    bits = [b for name in on for b in OPENVMM_BITS.get(name, [])] + OPENVMM_ALWAYS
    if "time" in on and "reference_tsc_page" in on:
        bits.append(OPENVMM_TSC_PAGE)
    if nested:
        bits.append(OPENVMM_NESTED)
    nested_leaf = host.get(NESTED) if nested and host is not None else None

    out = {}
    out[VENDOR_MAX] = [NESTED if nested_leaf else LIMITS] + sig("Microsoft Hv")
    out[INTERFACE] = sig("Hv#1") + [0, 0, 0]
    out[VERSION] = [0, 0, 0, 0]
    out[FEATURES] = [0, 0, 0, 0]
    out[RECOMMEND] = [0, spin, 0, 0]
    for leaf, reg, b in bits:
        out[leaf][reg] |= bit(b)
    if nested_leaf:
        out[NESTED] = list(nested_leaf)
    return out


def shim_as_openvmm(enabled, has_leaves):
    """The shim's enabled list in OpenVMM's terms (field -> on)."""
    on = set()
    for name in enabled:
        if name in SHIM_ONLY:
            continue
        if name == "time":
            on |= {"time", "reference_tsc_page"}
        elif name != "spinlocks":
            on.add(name)
    if has_leaves:
        on.add("hypercall")
    return on


# -- host fixtures ---------------------------------------------------------------

def parse_host(text):
    """kvm-hv-relay host-cpuid text: (vendor, {leaf: [eax, ebx, ecx, edx]})."""
    vendor = None
    leaves = {}
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] == "vendor" and len(words) == 2:
            vendor = words[1]
            continue
        if len(words) != 6:
            raise ValueError("bad fixture line: %r" % line)
        fn, _index, *regs = (int(w, 0) for w in words)
        leaves[fn] = regs
    return vendor, leaves
