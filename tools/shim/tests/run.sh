#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# All shim tests, as TAP: unit tests (C), golden tables (show --json against
# committed fixtures) and CLI behaviour.  No KVM needed.
#
# usage: run.sh CLI UNIT-TEST-BINARY
set -u
cli=$1
unit=$2
here=$(cd "$(dirname "$0")" && pwd)
fix=$here/fixtures
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

n=0
passed=0
failed=0

ok() {
	n=$((n + 1)); passed=$((passed + 1))
	echo "ok $n shim/$1"
}

# skip NAME REASON: TAP's SKIP directive, which harnesses list with the reason.
skipped=0
skip() {
	n=$((n + 1)); skipped=$((skipped + 1))
	echo "ok $n shim/$1 # SKIP $2"
}

not_ok() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n shim/$1"
	if [ -s "$tmp/diag" ]; then
		sed 's/^/# /' "$tmp/diag"
	fi
}

# -- unit tests: the binary prints "PASS name", "FAIL name", "SKIP name why"
# and "# ..." ----------------------------------------------------------------
"$unit" "$fix" > "$tmp/unit.out" 2>&1
unit_rc=$?
unit_fail=0
: > "$tmp/diag"
while IFS= read -r line; do
	case $line in
	"PASS "*) ok "unit/${line#PASS }" ;;
	"FAIL "*) unit_fail=1; not_ok "unit/${line#FAIL }" ;;
	"SKIP "*) line=${line#SKIP }; skip "unit/${line%% *}" "${line#* }" ;;
	*) echo "$line" ;;
	esac
done < "$tmp/unit.out"
if [ "$unit_rc" -ne 0 ] && [ "$unit_fail" -eq 0 ]; then
	echo "unit test binary exited with $unit_rc" > "$tmp/diag"
	not_ok "unit/exit-status"
fi

# -- golden tables ------------------------------------------------------------
grep -v '^#' "$here/golden.list" > "$tmp/golden.list"
while read -r name fixture spec args; do
	[ -n "$name" ] || continue
	: > "$tmp/diag"
	# shellcheck disable=SC2086 # $args is a word list on purpose
	if ! "$cli" show "$spec" --json --host-cpuid "$fix/$fixture-host.cpuid" \
		--vendor "${fixture%%-*}" $args > "$tmp/out.json" 2> "$tmp/diag"; then
		not_ok "golden/$name"
	elif ! diff -u "$here/golden/$name.json" "$tmp/out.json" > "$tmp/diag" 2>&1; then
		not_ok "golden/$name"
	else
		ok "golden/$name"
	fi
	# The text form of the same resolution must work too.
	: > "$tmp/diag"
	# shellcheck disable=SC2086
	if "$cli" show "$spec" --host-cpuid "$fix/$fixture-host.cpuid" --vendor "${fixture%%-*}" \
		$args > "$tmp/out.txt" 2> "$tmp/diag" && grep -q "^nested" "$tmp/out.txt"; then
		ok "show-text/$name"
	else
		not_ok "show-text/$name"
	fi
done < "$tmp/golden.list"

# -- CLI behaviour --------------------------------------------------------------
# expect NAME STATUS PATTERN CMD...: exit status and a fixed string in
# stdout+stderr.
expect() {
	name=$1; want=$2; pattern=$3; shift 3
	"$@" > "$tmp/cli.out" 2>&1
	got=$?
	if [ "$got" -ne "$want" ]; then
		{ echo "exit status $got, expected $want"; cat "$tmp/cli.out"; } > "$tmp/diag"
		not_ok "cli/$name"
	elif ! grep -qF -- "$pattern" "$tmp/cli.out"; then
		{ echo "output lacks: $pattern"; cat "$tmp/cli.out"; } > "$tmp/diag"
		not_ok "cli/$name"
	else
		ok "cli/$name"
	fi
}

intel="--host-cpuid $fix/intel-host.cpuid"
amd="--host-cpuid $fix/amd-host.cpuid"
esc=$(printf '\033')

# expect_clean NAME: the last command's output holds no raw ESC byte.
expect_clean() {
	if grep -q "$esc" "$tmp/cli.out"; then
		{ echo "a raw ESC reached the terminal:"; od -c "$tmp/cli.out"; } > "$tmp/diag"
		not_ok "cli/$1"
	else
		ok "cli/$1"
	fi
}

expect help 0 "Enlightenment spec" "$cli" --help
expect help-show 0 "--host-cpuid FILE" "$cli" help show
expect help-relay-option 0 "pidfd_getfd" "$cli" relay --help
expect help-relay-device 0 "/dev/kvm_hv_relay" "$cli" relay --help
expect help-check-option 0 "KVM_CAP_HYPERV_ENLIGHTENED_VMCS" "$cli" check --help
expect no-command 2 "no command given" "$cli"
expect unknown-command 2 "unknown command 'frobnicate'" "$cli" frobnicate
expect show-no-spec 2 "which SPEC?" "$cli" show --json
expect show-two-specs 2 "'relaxed' is extra" "$cli" show windows relaxed $intel
expect show-bad-vendor 2 "'via' is neither intel nor amd" "$cli" show windows --vendor via
expect show-missing-value 2 "needs a value" "$cli" show windows --host-cpuid
expect show-unknown-option 2 "unknown option '--bogus'" "$cli" show windows --bogus
expect show-spec-refused 1 "spec 'windows+foo': unknown enlightenment 'foo'" \
	"$cli" show windows+foo $intel
expect show-pinned-missing 1 "'evmcs' needs an Intel host (this one is amd)" \
	"$cli" show windows+evmcs --nested $amd
expect show-not-nested 1 "'reenlightenment' needs nested virtualisation" \
	"$cli" show none+reenlightenment $intel
expect show-no-fixture 1 "/nonexistent.cpuid: No such file or directory" \
	"$cli" show windows --host-cpuid /nonexistent.cpuid
expect show-spec-after-options 0 '"nested": true' \
	"$cli" show --nested --json $intel windows
expect show-none-text 0 "No Hyper-V leaves" "$cli" show none $intel
expect show-vendor-override 0 '"vendor": "amd"' "$cli" show windows --json $intel --vendor amd
expect relay-no-action 2 "enable, disable or status?" "$cli" relay --pid 1
expect relay-bad-action 2 "'toggle' is not enable" "$cli" relay toggle --pid 1
expect relay-no-pid 2 "which VMM? (--pid PID)" "$cli" relay enable
expect relay-bad-pid 2 "--pid: 'abc' is not a number" "$cli" relay enable --pid abc
# pid_t is 32 bits: these used to wrap to pid 1 and to /proc/-1.
expect relay-pid-wraps 2 "--pid: 4294967297 is out of range (1 to 2147483647)" \
	"$cli" relay status --pid 4294967297
expect relay-pid-huge 2 "--pid: 99999999999999999999999 is out of range (1 to 2147483647)" \
	"$cli" relay status --pid 99999999999999999999999
expect relay-pid-zero 2 "--pid: 0 is out of range (1 to 2147483647)" "$cli" relay status --pid 0
expect relay-pid-sign 2 "--pid: '+5' is not a number" "$cli" relay status --pid +5
expect relay-pid-blank 2 "--pid: ' 5' is not a number" "$cli" relay status --pid " 5"
expect relay-fd-wraps 2 "--fd: 4294967299 is out of range (0 to 2147483647)" \
	"$cli" relay status --pid $$ --fd 4294967299
expect relay-fd-negative 2 "--fd: '-1' is not a number" "$cli" relay status --pid $$ --fd -1
# "," has no class in it: it used to mean mask 0, i.e. disable.
expect relay-mask-comma 2 "--mask: ',': a class is missing around a comma" \
	"$cli" relay enable --pid 1 --mask ,
expect relay-mask-trailing-comma 2 "--mask: 'post,': a class is missing around a comma" \
	"$cli" relay enable --pid 1 --mask post,
expect relay-mask-too-big 2 "--mask: '18446744073709551616': a relay mask has 64 bits" \
	"$cli" relay enable --pid 1 --mask 18446744073709551616
expect relay-bad-mask 2 "--mask: 'bogus'" "$cli" relay enable --pid 1 --mask bogus
expect relay-mask-on-status 2 "--mask goes with enable only" \
	"$cli" relay status --pid 1 --mask post
expect relay-no-vm 1 "holds no KVM VM fd" "$cli" relay status --pid $$
expect relay-no-process 1 "pidfd_open(999999999): No such process" \
	"$cli" relay enable --pid 999999999
expect host-cpuid-bad-arg 2 "unexpected '--json'" "$cli" host-cpuid --json

expect help-unknown 2 "help: no help on 'frobnicate' (show, check, relay, host-cpuid, cpu or spec)" \
	"$cli" help frobnicate
expect help-extra 2 "help: one COMMAND only; 'relay' is extra" "$cli" help show relay
expect help-spec 0 "SPEC     := [PRESET]" "$cli" help spec
# One version for the project: the module's RELAY_VERSION.
version=$(awk -F'"' '/define RELAY_VERSION/ { print $2 }' "$here/../../../kvm_hv_relay.c")
expect version 0 "kvm-hv-relay ${version:-?}" "$cli" --version
expect version-word 0 "kvm-hv-relay ${version:-?}" "$cli" version
expect version-short 0 "kvm-hv-relay ${version:-?}" "$cli" -V
# Without /dev/kvm, both ways of asking KVM point at the way around it.
if [ -e /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	skip cli/host-cpuid-no-kvm "/dev/kvm can be opened here"
	skip cli/host-cpuid-vcpu-no-kvm "/dev/kvm can be opened here"
else
	expect host-cpuid-no-kvm 1 "(use --host-cpuid FILE to resolve without KVM)" \
		"$cli" host-cpuid
	expect host-cpuid-vcpu-no-kvm 1 "(use --host-cpuid FILE to resolve without KVM)" \
		"$cli" host-cpuid --vcpu
fi

# Control bytes in user text are shown escaped, never sent to the terminal.
expect show-spec-control 1 "spec 'windows+\x1b[2J': unknown enlightenment '\x1b[2J'" \
	"$cli" show "windows+${esc}[2J" $intel
expect_clean show-spec-control-clean
expect unknown-command-control 2 "unknown command 'fro\x1bb'" "$cli" "fro${esc}b"
expect_clean unknown-command-control-clean
expect relay-mask-control 2 "'\x1b' is not a relay class" "$cli" relay enable --pid 1 --mask "$esc"
expect_clean relay-mask-control-clean

# Host dumps: empty and cut ones are refused; what host-cpuid prints is read.
expect host-dump-empty 1 "/dev/null: no CPUID leaves" "$cli" show default --host-cpuid /dev/null
head -n 15 "$fix/intel-host.cpuid" > "$tmp/cut.cpuid"
expect host-dump-truncated 1 "cut.cpuid: no leaf 0x40000004, which every KVM reports (truncated?)" \
	"$cli" show default --host-cpuid "$tmp/cut.cpuid"
head -n 19 "$fix/intel-host.cpuid" > "$tmp/cut.cpuid"
expect host-dump-truncated-tail 1 "names 0x40000082 as the last leaf, which is missing (truncated?)" \
	"$cli" show default --host-cpuid "$tmp/cut.cpuid"
sed 's/^vendor intel$/vendor unknown/' "$fix/intel-host.cpuid" > "$tmp/unknown.cpuid"
expect host-dump-vendor-unknown 0 '"spec": "windows"' \
	"$cli" show windows --json --host-cpuid "$tmp/unknown.cpuid"
expect host-dump-vendor-unknown-override 0 '"vendor": "intel"' \
	"$cli" show windows --json --host-cpuid "$tmp/unknown.cpuid" --vendor intel

# QEMU shows Hyper-V for hv-spinlocks only when it is not 0xffffffff.
expect show-spinlocks-never 0 "No Hyper-V leaves" "$cli" show none+spinlocks $intel
expect show-spinlocks-count 0 '"Microsoft Hv"' "$cli" show none+spinlocks=0x1fff $intel

# A vCPU of a VM without an in-kernel LAPIC is offered neither direct timers
# nor cluster IPIs: the preset gives way (golden windows-intel-nolapic-nested),
# a named flag is refused.
expect host-cpuid-no-irqchip-alone 2 "host-cpuid: --no-irqchip goes with --vcpu" \
	"$cli" host-cpuid --no-irqchip
expect help-host-cpuid-vcpu 0 "--no-irqchip    with --vcpu" "$cli" help host-cpuid
expect show-nolapic-named 1 "'stimer_direct' is not offered by this host's KVM (needs 0x40000003 EDX bit 19" \
	"$cli" show windows+stimer_direct --nested --host-cpuid "$fix/intel-nolapic-host.cpuid"

# OpenVMM takes its spec as written: blanks trimmed, empty tokens skipped,
# no dependency checked (its documented none+synic+stimer+vapic lacks
# QEMU's vpindex and time), which show points out on stderr.
expect show-openvmm-empty-tokens 0 '"enabled": ["relaxed", "vapic", "spinlocks"' \
	"$cli" show "default++relaxed + " --json $intel
expect show-openvmm-only-plus 1 "spec '+': empty spec: no preset and no token in it" \
	"$cli" show + $intel
expect show-openvmm-example-deps 0 "note: 'stimer' without 'vpindex' 'time', which QEMU" \
	"$cli" show none+synic+stimer+vapic --json $intel

# OpenVMM spec strings: decimal spinlocks (017777 = 0x4571), its aliases.
expect openvmm-spinlocks-decimal 0 '"ebx": "0x00004571"' \
	"$cli" show windows+spinlocks=017777 --json $intel
expect openvmm-vp-index 0 '"enabled": ["vpindex", "runtime"]' \
	"$cli" show none+vp_index+vp_runtime+hypercall --json $intel

# cpu models / cpu show: an unknown model is one usage error (exit 2) and
# prints nothing on stdout; QEMU's names are case-sensitive, aliases work.
expect cpu-models-list 0 "EPYC-Rome-v1             AuthenticAMD  23/49/0   EPYC-Rome" "$cli" cpu models
expect cpu-models-psabi 0 "x86-64-v2-AES            (host's)" "$cli" cpu models
expect cpu-show-text 0 "brand     AMD EPYC-Rome Processor" "$cli" cpu show EPYC-Rome-v1
expect cpu-show-alias 0 '"name": "Skylake-Server-v2"' "$cli" cpu show Skylake-Server-IBRS --json
expect cpu-show-empty-word 0 '{ "function": "0x80000021", "index": 0, "reg": "eax", "value": "0x00000000" }' \
	"$cli" cpu show EPYC-Rome-v1 --json
expect cpu-show-msr-features 0 "not CPUID (MSR bits, not applied by the CPUID mask): ibrs-all" \
	"$cli" cpu show Cascadelake-Server-v2
expect cpu-show-unknown 2 "cpu show: unknown CPU model 'Pentium4'" "$cli" cpu show Pentium4
if [ "$("$cli" cpu show Pentium4 --json 2>/dev/null)" = "" ]; then
	ok cli/cpu-show-unknown-no-stdout
else
	echo "stdout not empty for an unknown model" > "$tmp/diag"; not_ok cli/cpu-show-unknown-no-stdout
fi
expect cpu-show-case 2 "unknown CPU model 'epyc-rome' (did you mean 'EPYC-Rome'?)" "$cli" cpu show epyc-rome
expect cpu-show-no-model 2 "cpu show: which MODEL?" "$cli" cpu show --json
expect cpu-show-extra 2 "cpu show: one MODEL only; 'EPYC' is extra" "$cli" cpu show EPYC-v1 EPYC
expect cpu-show-bad-option 2 "cpu show: unknown option '--vendor'" "$cli" cpu show EPYC-v1 --vendor
expect cpu-no-action 2 "cpu: models, show, capture, check or baseline?" "$cli" cpu
expect cpu-bad-action 2 "cpu: 'capture-all' is not models, show, capture, check or baseline" "$cli" cpu capture-all
expect cpu-models-extra 2 "cpu models: unexpected 'x'" "$cli" cpu models x
expect help-cpu 0 "cpu show MODEL [--json]" "$cli" help cpu
expect cpu-show-control 2 "unknown CPU model 'x\x1b[2J'" "$cli" cpu show "x${esc}[2J"
expect_clean cpu-show-control-clean

# CPU profiles.  The expected lists are worked out by hand from the fixtures
# (their "comment" says where each came from); unit_profile.c holds the
# baselines' values.
p_epyc=$fix/amd-epyc.profile.json
p_rich=$fix/amd-epyc-rich.profile.json
p_older=$fix/amd-epyc-older.profile.json
p_intel=$fix/intel-vmx-a.profile.json
expect profile-check-same 0 "amd-epyc.profile.json: this host can run it" \
	"$cli" cpu check "$p_epyc" --host "$p_epyc"
"$cli" cpu check "$p_rich" --host "$p_epyc" > "$tmp/check.out" 2>&1
rc=$?
cat > "$tmp/check.want" <<EOF
$p_rich: this host cannot run it (9 problems):
  CPUID avx512f (leaf 0x00000007 index 0 EBX bit 16): not on this host
  CPUID avx512dq (leaf 0x00000007 index 0 EBX bit 17): not on this host
  CPUID leaf 0x00000007 index 0 ECX bit 13: not on this host
  CPUID XCR0 component 5 AVX-512 opmask (leaf 0x0000000d index 0 EAX bit 5): not on this host
  CPUID XCR0 component 6 AVX-512 ZMM_Hi256 (leaf 0x0000000d index 0 EAX bit 6): not on this host
  CPUID XCR0 component 7 AVX-512 Hi16_ZMM (leaf 0x0000000d index 0 EAX bit 7): not on this host
  CPUID physical address bits (leaf 0x80000008 EAX[7:0]): the profile has 52, this host 48
  MSR 0x10a IA32_ARCH_CAPABILITIES bit 8 TAA_NO: the profile has it set, this host does not
  MSR 0xc0011029 DE_CFG: this host's KVM does not report it
EOF
if [ "$rc" -eq 1 ] && diff -u "$tmp/check.want" "$tmp/check.out" > "$tmp/diag"; then
	ok cli/profile-check-richer-host
else
	echo "exit status $rc" >> "$tmp/diag"; not_ok cli/profile-check-richer-host
fi
expect profile-check-vendor 1 "the profile is GenuineIntel, this host is AuthenticAMD: a guest cannot move between vendors" \
	"$cli" cpu check "$p_intel" --host "$p_epyc"
expect profile-check-unknown-file 1 "/nonexistent.json: No such file or directory" \
	"$cli" cpu check /nonexistent.json --host "$p_epyc"
printf '{"format": "kvm-hv-relay cpu profile",, }' > "$tmp/bad.json"
expect profile-check-malformed 1 "bad.json: line 1, column 39: expected a member name in quotes, found ','" \
	"$cli" cpu check "$tmp/bad.json" --host "$p_epyc"
head -c 700 "$p_epyc" > "$tmp/cut.json"
expect profile-check-truncated 1 "cut.json: line 9, column 19: string not closed (truncated?)" \
	"$cli" cpu check "$tmp/cut.json" --host "$p_epyc"
sed 's/"0x0000010a"/"0x00000808"/' "$p_epyc" > "$tmp/x2apic.json"
expect profile-check-x2apic-msr 1 "x2apic.json: line 23, column 5: msrs[2]: MSR 0x808 is in the x2APIC range 0x800-0x8ff, which KVM_X86_SET_MSR_FILTER cannot filter" \
	"$cli" cpu check "$tmp/x2apic.json" --host "$p_epyc"
expect profile-check-no-profile 2 "cpu check: which PROFILE?" "$cli" cpu check --host "$p_epyc"
expect profile-check-two 2 "cpu check: one PROFILE only; 'x' is extra" "$cli" cpu check "$p_epyc" x
expect profile-check-host-value 2 "cpu check: --host needs a FILE" "$cli" cpu check "$p_epyc" --host
expect profile-check-bad-option 2 "cpu check: unknown option '--json'" "$cli" cpu check "$p_epyc" --json
expect profile-capture-extra 2 "cpu capture: unexpected 'x'" "$cli" cpu capture x
expect profile-capture-o-value 2 "cpu capture: -o needs a FILE" "$cli" cpu capture -o
expect profile-baseline-none 2 "cpu baseline: which PROFILEs? (one per host)" "$cli" cpu baseline
expect profile-baseline-mixed 1 "mixed vendors: profile 1 is AuthenticAMD, profile 2 is GenuineIntel; no guest runs on both" \
	"$cli" cpu baseline "$p_epyc" "$p_intel"
expect profile-baseline-left-out 0 "left out: MSR 0x345 IA32_PERF_CAPABILITIES: profile 2 does not have it, so it is left out" \
	"$cli" cpu baseline "$p_epyc" "$p_older" -o "$tmp/base.json"
expect profile-baseline-model 0 "newest model: Opteron_G1-v1" \
	"$cli" cpu baseline "$p_epyc" "$p_older" -o "$tmp/base.json"
expect profile-baseline-runs-on-first 0 "base.json: this host can run it" \
	"$cli" cpu check "$tmp/base.json" --host "$p_epyc"
expect profile-baseline-runs-on-second 0 "base.json: this host can run it" \
	"$cli" cpu check "$tmp/base.json" --host "$p_older"
expect profile-baseline-stdout 0 '"ebx": "0x209c07ab", "ecx": "0x00400084"' \
	"$cli" cpu baseline "$p_epyc" "$p_older"
expect help-cpu-profiles 0 "cpu baseline PROFILE... [-o FILE]" "$cli" help cpu

# capture -> check on this machine: a host runs its own profile.
if "$cli" cpu capture -o "$tmp/self.json" > "$tmp/cli.out" 2>&1; then
	expect profile-capture-check-self 0 "self.json: this host can run it" "$cli" cpu check "$tmp/self.json"
elif grep -q "^kvm-hv-relay: /dev/kvm: " "$tmp/cli.out"; then
	skip cli/profile-capture-check-self "$(sed -n 's/^kvm-hv-relay: //p' "$tmp/cli.out" | head -n 1)"
else
	cp "$tmp/cli.out" "$tmp/diag"; not_ok cli/profile-capture-check-self
fi

# check against fake /proc and /sys trees: a ready-looking Debian 6.12 Intel
# host (without /dev/kvm, so the ioctl items fail), and a host that is not.
good=$tmp/root-good
mkdir -p "$good/proc/sys/kernel" "$good/sys/module/kvm_hv_relay" \
	"$good/sys/module/kvm_intel/parameters" "$good/sys/kernel/security"
echo "6.12.38+deb13-amd64" > "$good/proc/sys/kernel/osrelease"
echo "Linux version 6.12.38+deb13-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.12.38-1 (2025-07-16)" > "$good/proc/version"
echo "0.1.0" > "$good/sys/module/kvm_hv_relay/version"
echo "live" > "$good/sys/module/kvm_hv_relay/initstate"
echo "Y" > "$good/sys/module/kvm_intel/parameters/nested"
echo "[none] integrity confidentiality" > "$good/sys/kernel/security/lockdown"
expect check-kernel-ok 1 "ok    kernel    6.12.38+deb13-amd64 (Debian)" "$cli" check --root "$good"
expect check-module-ok 1 "ok    module    kvm_hv_relay 0.1.0 loaded" "$cli" check --root "$good"
expect check-nested-ok 1 "ok    nested    kvm_intel nested=Y" "$cli" check --root "$good"
expect check-dev-kvm-fail 1 "fail  /dev/kvm  cannot open" "$cli" check --root "$good"
expect check-relay-fail 1 "fail  relay     cannot ask" "$cli" check --root "$good"
expect check-lockdown-ok 1 "ok    lockdown  lockdown none, not EFI" "$cli" check --root "$good"
expect check-summary 1 "Not ready: 4 of 8 checks failed." "$cli" check --root "$good"

# Neither vendor module: say where it looked (--root hides the CPU's vendor).
none=$tmp/root-none
mkdir -p "$none/proc/sys/kernel"
expect check-no-vendor-module 1 \
	"neither kvm_intel nor kvm_amd is loaded (looked for $none/sys/module/kvm_intel and $none/sys/module/kvm_amd)" \
	"$cli" check --root "$none"

bad=$tmp/root-bad
mkdir -p "$bad/proc/sys/kernel" "$bad/sys/module/kvm_amd/parameters" \
	"$bad/sys/kernel/security" "$bad/sys/firmware/efi/efivars"
echo "6.1.0-28-amd64" > "$bad/proc/sys/kernel/osrelease"
echo "Linux version 6.1.0-28-amd64 (builder@example) #1 SMP" > "$bad/proc/version"
echo "0" > "$bad/sys/module/kvm_amd/parameters/nested"
echo "none [integrity] confidentiality" > "$bad/sys/kernel/security/lockdown"
printf '\006\000\000\000\001' > "$bad/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e0f9b3cbf13a"
expect check-kernel-not-debian 1 "not a Debian build" "$cli" check --root "$bad"
expect check-module-missing 1 "fail  module    kvm_hv_relay is not loaded" "$cli" check --root "$bad"
expect check-nested-off 1 "kvm_amd nested=0: reload it with nested=1" "$cli" check --root "$bad"
expect check-evmcs-amd 1 "ok    evmcs     not used on AMD" "$cli" check --root "$bad"
expect check-lockdown-fail 1 "lockdown integrity, Secure Boot on: an unsigned kvm_hv_relay.ko will be refused" \
	"$cli" check --root "$bad"
echo "5.10.0-30-amd64" > "$bad/proc/sys/kernel/osrelease"
expect check-kernel-series 1 "5.10.0-30-amd64 is not a supported series" "$cli" check --root "$bad"
echo "6.12.5-amd64" > "$bad/proc/sys/kernel/osrelease"
expect check-kernel-6.12-vs-6.1 1 "6.12.5-amd64 is a supported series but not a Debian build" \
	"$cli" check --root "$bad"

# -- plan and summary -------------------------------------------------------------
echo "1..$n"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
