#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Mutation check of the shim's test suite, as TAP: each mutant below is a
# small deliberate bug, applied with sed to a copy of the tree in a temporary
# directory (never to the real files); the copy is built and the suite
# ("make suite", what "make check" runs before this script) run in it.  "ok"
# means the suite caught the mutant, "not ok" that it survived, did not
# build, or no longer applies (its text is gone from the source: update the
# list).  "make check" runs this too, so a surviving mutant fails it.
#
# The unit tests run first on their own: they are the suite's first step and
# catch most mutants in a fraction of the suite's time, and a failure there
# is a failure of the suite.  Only a mutant they miss gets the whole suite.
#
# usage: mutate.sh [NAME...]      (default: every mutant)
set -u
here=$(cd "$(dirname "$0")" && pwd)
shim=$(cd "$here/.." && pwd)
root=$(cd "$shim/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# NAME@FILE@SED-EXPRESSION@WHAT, one mutant a line.  Keep each expression
# specific enough to match one place; '@' cannot appear in it.
mutants() {
	cat <<'EOF'
xmm-host-bit@lib/flags.c@/\[HVR_XMM_INPUT\] = {/,/^\t},/{/\.host =/,/}/s/HV_XMM_REGISTERS_FOR_FAST_HYPERCALL/HV_GUEST_DEBUGGING_AVAILABLE/}@xmm_input asks the host for EDX bit 1, not bit 4
stimer-direct-host-bit@lib/flags.c@/\[HVR_STIMER_DIRECT\] = {/,/^\t},/{/\.host =/,/}/s/HV_DIRECT_SYNTHETIC_TIMERS/HV_EXTENDED_GVA_RANGES_FOR_FLUSH/}@stimer_direct asks the host for EDX bit 14, not bit 19
ipi-vpindex-dep@lib/flags.c@/\[HVR_IPI\] = {/,/^\t},/{/\.deps = F(VPINDEX),/d}@ipi no longer needs vpindex
mask-signal-is-post@lib/relay.c@s/{ "signal",[[:space:]]*HVR_RELAY_SIGNAL_EVENT }/{ "signal", HVR_RELAY_POST_MESSAGE }/@--mask signal means the post bit
xmm-guest-bit@lib/flags.c@/\[HVR_XMM_INPUT\] = {/,/^\t},/{/\.guest/,/}/s/HV_XMM_REGISTERS_FOR_FAST_HYPERCALL/HV_GUEST_IDLE_AVAILABLE/}@xmm_input shows the guest EDX bit 5, not bit 4
tlbflush-ext-dep@lib/flags.c@/\[HVR_TLBFLUSH_EXT\] = {/,/^\t},/{/\.deps = F(TLBFLUSH),/d}@tlbflush_ext no longer needs tlbflush
reenlightenment-flat@lib/flags.c@/\[HVR_REENLIGHTENMENT\] = {/,/^\t},/{/\.context = HVR_NEEDS_NESTED,/d}@reenlightenment allowed without nesting
spin-max@lib/spec.c@s/n > 0xffffffffull)/n >= 0xffffffffull)/@spinlocks=0xffffffff refused
empty-token@lib/spec.c@s/\t\tif (len) {/\t\tif (len || end) {/@an empty token between two '+' is refused again
named-dropped@lib/resolve.c@s/|| (cfg->named & HVR_FLAG(f)))/|| (cfg->named \& 0))/@a named flag follows the host's veto on what it needs
spin-octal@lib/error.c@s/unsigned int base = 10, d;/unsigned int base = s[0] == '0' \&\& len > 1 ? 8 : 10, d;/@a leading zero means octal again
spinlocks-alone@lib/cpuid.c@s/cfg->spin_count != HVR_SPIN_NEVER_NOTIFY)/cfg->spin_count != 0)/@spinlocks with never-notify shows Hyper-V
alias-vp-index@lib/flags.c@/\[HVR_VPINDEX\] = {/,/^\t},/{s/\.alias = "vp_index"/.alias = "vp_indx"/}@OpenVMM's vp_index is refused
escape-esc@lib/error.c@s/if (c < 0x20 || c >= 0x7f)/if (c < 0x1b || c >= 0x7f)/@ESC in a spec reaches the terminal raw
host-dump-whole@lib/host.c@s/ret = check_whole(&h, err);/ret = 0 * check_whole(\&h, err);/@an empty host dump is accepted
host-vendor-unknown@lib/host.c@s/!strcmp(p, "unknown")/!strcmp(p, "unknwn")/@'vendor unknown' is refused again
pidfd-recheck@lib/relay.c@s/if (pidfd_exited(pidfd))/if (0 \&\& pidfd_exited(pidfd))/@the scan vouches for a recycled pid
merge-relocate@lib/cpuid.c@s/e.function += KVM_ALT_BASE - HV_RANGE_BASE;/e.function += 0;/@KVM's leaves are not moved to 0x40000100
pid-range@cli/relay_cmd.c@s/"--pid", optarg, 1, INT_MAX,/"--pid", optarg, 1, LLONG_MAX,/@--pid 4294967297 wraps to pid 1
synic-create-port@lib/flags.c@/\[HVR_SYNIC\] = {/,/^\t},/{/\.guest/,/}/s/HV_POST_MESSAGES | HV_SIGNAL_EVENTS)/HV_POST_MESSAGES | HV_SIGNAL_EVENTS | HV_CREATE_PORT)/}@synic grants CreatePort, which KVM does not implement
tlbflush-local@lib/flags.c@/\[HVR_TLBFLUSH\] = {/,/^\t},/{/\.guest/,/}/s/HV_USE_HYPERCALL_FOR_REMOTE_FLUSH/HV_USE_HYPERCALL_FOR_LOCAL_FLUSH | HV_USE_HYPERCALL_FOR_REMOTE_FLUSH/}@tlbflush recommends local flush hypercalls
dyn-partitioning@lib/cpuid.c@s/e->edx |= HV_CPU_DYNAMIC_PARTITIONING_AVAILABLE;/e->edx |= 0;/@CpuDynamicPartitioningAvailable missing
nested-bit-direct-flush@lib/flags.c@/\[HVR_TLBFLUSH_DIRECT\] = {/,/^\t},/{/\.guest/,/}/s/HV_NESTED_DIRECT_FLUSH) },/HV_NESTED_DIRECT_FLUSH), BITS(ENLIGHTENMENT_INFO, EAX, HV_NESTED) },/}@Nested recommended with tlbflush_direct, to a Linux L1 too
default-crash@lib/spec.c@s/F(STIMER) | F(VAPIC) | F(SPINLOCKS))/F(STIMER) | F(VAPIC) | F(SPINLOCKS) | F(CRASH))/@default turns on crash, which OpenVMM's base set leaves off
windows-no-reset@lib/spec.c@s/F(STIMER_DIRECT) | F(RESET) | F(AVIC))/F(STIMER_DIRECT) | F(AVIC))/@windows without OpenVMM's reset
vcpu-query-skipped@lib/vcpu.c@s/ret = hvr_host_query_vcpu(vcpu_fd, &vh, err);/ret = 0; vh = (struct hvr_host){ 0 };/@hvr_vcpu_setup() does not ask the vCPU
fit-checks-evmcs@lib/resolve.c@s/ret = check_host(vcpu_host, HVR_FLAG(HVR_EVMCS),/ret = check_host(vcpu_host, 0,/@the vCPU fit drops eVMCS before it is enabled
relaxed-guest-bit@lib/flags.c@/\[HVR_RELAXED\] = {/,/^\t},/{/\.guest/,/}/s/HV_USE_RELAXED_TIMING/HV_USE_MSR_FOR_RESET/}@relaxed shows the guest the reset recommendation
vapic-no-apic-msrs@lib/flags.c@/\[HVR_VAPIC\] = {/,/^\t},/{/\.guest/,/}/s/HV_USE_APIC_MSRS)/0)/}@vapic no longer recommends the APIC MSRs
time-no-tsc-page@lib/flags.c@/\[HVR_TIME\] = {/,/^\t},/{/\.guest/,/}/s/| *HV_ACCESS_PARTITION_REFERENCE_TSC//;s/HV_ACCESS_PARTITION_REFERENCE_TSC/0/}@time without the reference TSC page
frequencies-host-one-bit@lib/flags.c@/\[HVR_FREQUENCIES\] = {/,/^\t},/{/\.host =/,/}/s/BITS(FEATURES, EDX, HV_FREQUENCY_REGS_AVAILABLE)/BITS(FEATURES, EDX, 0)/}@frequencies accepted on a host without FrequencyRegsAvailable
stimer-time-dep@lib/flags.c@/\[HVR_STIMER\] = {/,/^\t},/{s/\.deps = F(VPINDEX) | F(SYNIC) | F(TIME),/.deps = F(VPINDEX) | F(SYNIC),/}@stimer no longer needs time
evmcs-any-vendor@lib/flags.c@/\[HVR_EVMCS\] = {/,/^\t},/{s/\.context = HVR_NEEDS_NESTED | HVR_NEEDS_INTEL,/.context = HVR_NEEDS_NESTED,/}@evmcs accepted on AMD
evmcs-host-version@lib/flags.c@/\[HVR_EVMCS\] = {/,/^\t},/{/\.host =/,/}/s/ANY(NESTED_FEATURES, EAX, HV_ENLIGHTENED_VMCS_VERSION_MASK)/BITS(NESTED_FEATURES, EAX, 0)/}@evmcs accepted from a host that reports no eVMCS version
emsr-guest-bit@lib/flags.c@/\[HVR_EMSR_BITMAP\] = {/,/^\t},/{/\.guest/,/}/s/HV_NESTED_ENLIGHTENED_MSR_BITMAP/HV_NESTED_FLUSH_GUEST_PHYSICAL/}@emsr_bitmap shows the guest 0x4000000A EAX bit 18, not 19
avic-guest-bit@lib/flags.c@/\[HVR_AVIC\] = {/,/^\t},/{/\.guest/,/}/s/HV_DEPRECATE_AUTO_EOI/HV_USE_HYPERCALL_FOR_AS_SWITCH/}@avic shows the address-space switch recommendation
tlbflush-direct-host-bit@lib/flags.c@/\[HVR_TLBFLUSH_DIRECT\] = {/,/^\t},/{/\.host =/,/}/s/HV_NESTED_DIRECT_FLUSH/HV_NESTED_FLUSH_GUEST_PHYSICAL/}@tlbflush_direct asks the host for 0x4000000A bit 18, not 17
no-nonarch-guest-bit@lib/flags.c@/\[HVR_NO_NONARCH_CORESHARING\] = {/,/^\t},/{/\.guest/,/}/s/HV_NO_NON_ARCH_CORE_SHARING/HV_USE_VMCS_ENLIGHTENMENTS/}@no_nonarch_coresharing shows the VMCS recommendation
enforce-cpuid-shown@lib/flags.c@/\[HVR_ENFORCE_CPUID\] = {/,/^\t},/{/\.quiet = true,/d}@enforce_cpuid alone shows the guest Hyper-V
runtime-alias@lib/flags.c@/\[HVR_RUNTIME\] = {/,/^\t},/{s/\.alias = "vp_runtime"/.alias = "vp_rntime"/}@OpenVMM's vp_runtime is refused
nested-hint-flat@lib/flags.c@/\[HVR_NESTED_HINT\] = {/,/^\t},/{/\.context = HVR_NEEDS_NESTED,/d}@nested_hint allowed without nesting
crash-host-bit@lib/flags.c@/\[HVR_CRASH\] = {/,/^\t},/{/\.host =/,/}/s/HV_GUEST_CRASH_REGS_AVAILABLE/HV_DEBUG_REGS_AVAILABLE/}@crash asks the host for the debug MSRs
tlbflush-ext-guest-bit@lib/flags.c@/\[HVR_TLBFLUSH_EXT\] = {/,/^\t},/{/\.guest/,/}/s/HV_EXTENDED_GVA_RANGES_FOR_FLUSH/HV_FAST_HYPERCALL_OUTPUT_AVAILABLE/}@tlbflush_ext shows the guest EDX bit 15, not 14
syndbg-guest-debug-regs@lib/flags.c@/\[HVR_SYNDBG\] = {/,/^\t},/{/\.guest/,/}/s/BITS(FEATURES, EDX, HV_DEBUG_REGS_AVAILABLE)/BITS(FEATURES, EDX, 0)/}@syndbg without DebugRegsAvailable
ipi-no-ex-masks@lib/flags.c@/\[HVR_IPI\] = {/,/^\t},/{/\.guest/,/}/s/HV_USE_SYNTHETIC_CLUSTER_IPI | HV_USE_EX_PROCESSOR_MASKS/HV_USE_SYNTHETIC_CLUSTER_IPI/}@ipi without ex processor masks
crash-guest-bit@lib/flags.c@/\[HVR_CRASH\] = {/,/^\t},/{/\.guest/,/}/s/HV_GUEST_CRASH_REGS_AVAILABLE/HV_DEBUG_REGS_AVAILABLE/}@crash shows the guest the debug MSRs, not the crash MSRs
no-nonarch-shown@lib/flags.c@/\[HVR_NO_NONARCH_CORESHARING\] = {/,/^\t},/{/\.quiet = true,/d}@no_nonarch_coresharing alone shows the guest Hyper-V, which QEMU does not
syndbg-max-leaf@lib/cpuid.c@s/HAS(cfg, SYNDBG) ? HV_CPUID_SYNDBG_PLATFORM_CAPS : HV_CPUID_NESTED_FEATURES/HV_CPUID_NESTED_FEATURES/@with syndbg the max leaf stops short of the debugger leaves
help-unknown@cli/main.c@s/return false;/return true;/@help on an unknown topic succeeds
apply-hv-msrs-always@lib/cpu_apply.c@s/\tif (plan->hyperv)$/\tif (true)/@the filter allows the Hyper-V MSRs to a guest without Hyper-V
apply-range-span@lib/cpu_apply.c@s/s\[i\].last - r->base >= HVR_FILTER_RANGE_SPAN/s[i].last - r->base > HVR_FILTER_RANGE_SPAN/@a filter range one MSR wider than its bitmap
EOF
}

# The copy: the shim with its current build (so each mutant rebuilds one
# object), the uapi header, the module source the Makefile reads and the
# Documentation pages the checks compare with.
mkdir -p "$tmp/tree/tools"
cp -a "$shim" "$tmp/tree/tools/shim"
cp -a "$root/uapi" "$tmp/tree/uapi"
cp -a "$root/kvm_hv_relay.c" "$tmp/tree/kvm_hv_relay.c"
cp -a "$root/Documentation" "$tmp/tree/Documentation"
copy=$tmp/tree/tools/shim
jobs=-j$(nproc 2>/dev/null || echo 2)

if ! make -s $jobs -C "$copy" suite > "$tmp/base.log" 2>&1; then
	echo "Bail out! the unmutated suite fails:"
	sed 's/^/# /' "$tmp/base.log" | tail -n 20
	exit 1
fi

mutants > "$tmp/list"
total=$(grep -c . "$tmp/list")
[ $# -eq 0 ] || total=$#
echo "1..$total"
n=0
bad=0
while IFS='@' read -r name file expr what; do
	if [ $# -gt 0 ]; then
		case " $* " in *" $name "*) ;; *) continue ;; esac
	fi
	n=$((n + 1))
	sed "$expr" "$shim/$file" > "$copy/$file"
	if cmp -s "$shim/$file" "$copy/$file"; then
		echo "not ok $n shim/mutate/$name: does not apply to $file (update tests/mutate.sh)"
		bad=$((bad + 1))
	elif ! make -s $jobs -C "$copy" build/kvm-hv-relay build/unit-tests \
		> "$tmp/log" 2>&1; then
		echo "not ok $n shim/mutate/$name: does not build"
		sed 's/^/# /' "$tmp/log" | head -n 5
		bad=$((bad + 1))
	elif ! (cd "$copy" && build/unit-tests tests/fixtures) > "$tmp/log" 2>&1; then
		echo "ok $n shim/mutate/$name: $what"
		grep '^FAIL' "$tmp/log" | head -n 3 | sed 's/^FAIL /#   caught by: unit\//'
	elif make -s -C "$copy" suite > "$tmp/log" 2>&1; then
		echo "not ok $n shim/mutate/$name survived: $what"
		bad=$((bad + 1))
	else
		echo "ok $n shim/mutate/$name: $what"
		grep '^not ok' "$tmp/log" | head -n 3 | sed 's/^/#   caught by: /'
	fi
	# A fresh copy (new mtime) so that make rebuilds from the real source.
	cp "$shim/$file" "$copy/$file"
done < "$tmp/list"
echo "# $((n - bad)) caught, $bad survived or broken"
[ "$bad" -eq 0 ]
