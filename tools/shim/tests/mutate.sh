#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Mutation check of the shim's test suite, as TAP: each mutant below is a
# small deliberate bug, applied with sed to a copy of the tree in a temporary
# directory (never to the real files); the copy is built and "make check" run
# in it.  "ok" means the suite caught the mutant (make check failed), "not ok"
# that it survived, did not build, or no longer applies (its text is gone
# from the source: update the list).
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
help-unknown@cli/main.c@s/return false;/return true;/@help on an unknown topic succeeds
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

if ! make -s $jobs -C "$copy" check > "$tmp/base.log" 2>&1; then
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
		echo "not ok $n - $name: does not apply to $file (update tests/mutate.sh)"
		bad=$((bad + 1))
	elif ! make -s $jobs -C "$copy" build/kvm-hv-relay build/unit-tests \
		> "$tmp/log" 2>&1; then
		echo "not ok $n - $name: does not build"
		sed 's/^/# /' "$tmp/log" | head -n 5
		bad=$((bad + 1))
	elif make -s -C "$copy" check > "$tmp/log" 2>&1; then
		echo "not ok $n - $name survived: $what"
		bad=$((bad + 1))
	else
		echo "ok $n - $name: $what"
		grep '^not ok' "$tmp/log" | head -n 3 | sed 's/^/#   caught by: /'
	fi
	# A fresh copy (new mtime) so that make rebuilds from the real source.
	cp "$shim/$file" "$copy/$file"
done < "$tmp/list"
echo "$((n - bad)) caught, $bad survived or broken"
[ "$bad" -eq 0 ]
