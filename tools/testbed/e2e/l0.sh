#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# e2e/l0.sh <relay-ko> <vendor> <flavour>: runs in the test bed's L0 guest.
# Boots Debian's own kernel as L1 with Debian's QEMU, three times (flavour
# "authorised"), or once (flavour "unauthorised": an L0 whose KVM cannot
# offer direct hypercalls to L1), and prints TAP for each run; PFX names it.
#   relay_absent  kvm_hv_relay not loaded: L1's KVM answers L2's calls
#   no_vmbus      relay attached to the running QEMU, which has no vmbus
#   vmbus         the same with -device vmbus-bridge
#   unauthorised  relay attached, L1 could not authorise its L2
# Expected values are QEMU's and KVM's (Documentation/test-bed.rst).
ko=$1 vendor=$2 flavour=$3
echo "# e2e: L0 $(uname -r), $vendor, $flavour"
# QEMU may be gone when L0 says bye: a write to its fifo must not kill us
trap "" PIPE
E=/e2e
N=${N:-0}
ENOSYS=0xfffffffffffffc18	# L1 KVM's -KVM_ENOSYS for an unknown call

tap() {	# tap <ok|not ok> <name> [comment]
	N=$((N + 1))
	echo "$1 $N $PFX/$2${3:+ # $3}"
}
check() {	# check <name> <got> <want> <why>
	if [ "$2" = "$3" ]; then tap ok "$1" "$2: $4"; else tap "not ok" "$1" "got $2, want $3 ($4)"; fi
}
wait_for() {	# wait_for <file> <pattern> <seconds>
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1)); [ $i -le $(($3 * 2)) ] || return 1
		kill -0 "$qpid" 2>/dev/null || { grep -q "$2" "$1" 2>/dev/null; return; }
		sleep 0.5
	done
}
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$1" | head -n 1; }
counter() { sed -n "s/^$2: //p" "$1"; }

# hv flags: what hvix64's root sees from Hyper-V, as far as QEMU offers it.
# hv-time is needed: without it L1 marks its TSC unstable and its L2 hangs.
HV=kvm=off,hv-vpindex=on,hv-vapic=on,hv-time=on,hv-frequencies=on,hv-relaxed=on,hv-synic=on
[ "$flavour" = unauthorised ] || HV=$HV,hv-tlbflush-direct=on
[ "$vendor" = amd ] || HV=$HV,hv-evmcs=on
# the shim's spec for the same set (Documentation/shim.rst, "Differences from
# QEMU and OpenVMM"); tools/testbed/e2e/cpuid-check.py compares the two
SPEC=none+vpindex+vapic+time+frequencies+relaxed+synic
[ "$flavour" = unauthorised ] || SPEC=$SPEC+tlbflush_direct
[ "$vendor" = amd ] || SPEC=$SPEC+evmcs
L1_APPEND="console=ttyS0 panic=-1 nmi_watchdog=0 loglevel=4 initcall_blacklist=hv_acpi_init"

# l1 <run> <relay: 0|1> [qemu args]: one L1 boot; leaves its files in /tmp/<run>.*
l1() {
	run=$1 relay=$2; shift 2
	con=/tmp/$run.con qlog=/tmp/$run.qemu cnt=/tmp/$run.counters
	rm -f /tmp/l1in; mkfifo /tmp/l1in
	: >"$con"; : >"$cnt"
	s=$(cut -d' ' -f1 /proc/uptime)
	LD_LIBRARY_PATH=$E/lib $E/lib/ld-linux-x86-64.so.2 $E/qemu-system-x86_64 \
		-accel kvm -cpu host,$HV -m 256 -smp 1 -L $E/fw -display none -nodefaults \
		-serial stdio -monitor none -no-reboot -kernel $E/vmlinuz -initrd $E/l1-initrd.gz \
		-append "$L1_APPEND" -trace 'vmbus_*' "$@" </tmp/l1in >"$con" 2>"$qlog" &
	qpid=$!
	exec 3>/tmp/l1in
	if wait_for "$con" 'E2E-L1: ready' 240; then
		if [ "$relay" = 1 ]; then
			kvm-hv-relay relay enable --pid "$qpid" >/tmp/$run.attach 2>&1
			arc=$?
			sed 's/^/#   attach| /' /tmp/$run.attach
			if [ $arc = 0 ]; then tap ok "$run/attach"; else tap "not ok" "$run/attach" "kvm-hv-relay exit $arc"; fi
		fi
		echo go >&3
		wait_for "$con" 'E2E-L1: exit' 240
		f=$(ls /sys/kernel/debug/kvm/"$qpid"-*/hv_relay 2>/dev/null | head -n 1)
		[ -z "$f" ] || cat "$f" >"$cnt"
	fi
	echo bye >&3
	exec 3>&-
	i=0
	while kill -0 "$qpid" 2>/dev/null && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
	kill -9 "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	# the serial line's CRs, once, for everything that reads it below
	tr -d '\r' <"$con" >"$con.t" && mv "$con.t" "$con"
	sed 's/^/#   l1| /' "$con"
	sed 's/^/#   qemu| /' "$qlog"
	sed 's/^/#   counters| /' "$cnt"
	echo "#   ($run: $(echo "$s $(cut -d' ' -f1 /proc/uptime)" | awk '{ printf "%.1f", $2 - $1 }') s guest time)"
	# L1's own kernel: its console is scanned here, apart from L0's
	bad=$(grep -E 'BUG:|Oops|general protection|Kernel panic|Call Trace' "$con" | head -n 3)
	if ! grep -q 'E2E-L1: result' "$con"; then
		tap "not ok" "$run/l1" "L1 gave no result: $(grep -E 'E2E-L1: error' "$con" | head -n 1)"
		return 1
	elif [ -n "$bad" ]; then
		tap "not ok" "$run/l1" "L1 kernel: $(echo "$bad" | head -n 1)"
		return 1
	fi
	tap ok "$run/l1" "$(grep -o 'E2E-L1: cpu .*' "$con" | sed 's/E2E-L1: //')"
	return 0
}

# expect <run> <post> <signal> <untouched> <why...>
expect() {
	r=/tmp/$1.con
	check "$1/post" "$(field "$r" post)" "$2" "$5"
	check "$1/signal" "$(field "$r" signal)" "$3" "$6"
	check "$1/untouched" "$(field "$r" untouched)" "$4" "$7"
}
# counters <run> <name=value>...: the relay's per-VM counters for QEMU's VM
counters() {
	run=$1; shift
	c=/tmp/$run.counters bad=
	[ -s "$c" ] || { tap "not ok" "$run/counters" "no per-VM hv_relay file for QEMU's VM"; return; }
	for kv in "$@"; do
		got=$(counter "$c" "${kv%%=*}")
		[ "$got" = "${kv#*=}" ] || bad="$bad ${kv%%=*}=$got (want ${kv#*=})"
	done
	if [ -z "$bad" ]; then tap ok "$run/counters" "$*"; else tap "not ok" "$run/counters" "$bad"; fi
}

cpu_ok() {	# L1 saw Hyper-V, and cap 175 answered as the L0 allows
	r=/tmp/$1.con
	grep -q 'E2E-L1: cpu .*hyperv 1' "$r" || { tap "not ok" "$1/hyperv" "L1 did not see Hyper-V's signature"; return; }
	if [ "$flavour" = unauthorised ]; then
		# no HV_X64_NESTED_DIRECT_FLUSH from L0: L1's KVM has no handler (ENOTTY)
		if grep -q 'E2E-L1: cpu .*cap175 -1 25' "$r"; then
			tap ok "$1/hyperv" "L1 sees Hyper-V without direct hypercalls: cap 175 fails with ENOTTY"
		else
			tap "not ok" "$1/hyperv" "cap 175 should fail with ENOTTY: $(grep -o 'cap175 .*' "$r")"
		fi
	elif grep -q 'E2E-L1: cpu .*cap175 0 0' "$r"; then
		tap ok "$1/hyperv" "L1 sees Hyper-V; KVM_CAP_HYPERV_DIRECT_TLBFLUSH on its vCPU: 0"
	else
		tap "not ok" "$1/hyperv" "KVM_CAP_HYPERV_DIRECT_TLBFLUSH: $(grep -o 'cap175 .*' "$r")"
	fi
}

# shim_view: once per boot, what the shim builds for $SPEC on this L0, for
# the host to compare with the leaves L1 reads from QEMU's (cpuid-check.py)
shim_view() {
	# The shim's input is a vCPU's answer (--vcpu: a VM with an in-kernel
	# irqchip, as QEMU's): hvr_vcpu_setup() fits every config to it, and
	# it can only lack what /dev/kvm offers (stimer_direct, ipi), so what
	# a VM of the shim's gets is built from it.  But a vCPU tells no eVMCS
	# version before the cap is enabled on it, which host-cpuid does not
	# do: with evmcs in the spec, /dev/kvm's answer, which is also what
	# QEMU 7.2 reads when KVM_CAP_SYS_HYPERV_CPUID exists.  Both are shown.
	kvm-hv-relay host-cpuid --vcpu --vendor "$vendor" >/tmp/host-vcpu.cpuid 2>&1
	sed 's/^/#   hostvcpu| /' /tmp/host-vcpu.cpuid
	kvm-hv-relay host-cpuid --vendor "$vendor" >/tmp/host-sys.cpuid 2>&1
	sed 's/^/#   hostsys| /' /tmp/host-sys.cpuid
	host=/tmp/host-vcpu.cpuid
	case +$SPEC+ in *+evmcs+*) host=/tmp/host-sys.cpuid ;; esac
	echo "#   shim| spec $SPEC host ${host#/tmp/}"
	kvm-hv-relay show "$SPEC" --json --nested --host-cpuid "$host" --vendor "$vendor" 2>&1 |
		sed 's/^/#   shim| /'
	# a vCPU of a VM without the in-kernel irqchip, for the fixture
	# tools/shim/tests/fixtures/intel-nolapic-host.cpuid
	[ "$vendor" = amd ] ||
		kvm-hv-relay host-cpuid --vcpu --no-irqchip --vendor "$vendor" 2>&1 |
			sed 's/^/#   nolapic| /'
}
shim_view

if [ "$flavour" = unauthorised ]; then
	insmod "$ko" || tap "not ok" insmod
	if l1 unauthorised 1; then
		cpu_ok unauthorised
		# the relay stays out: every call reaches L1's KVM as on stock KVM
		expect unauthorised $ENOSYS $ENOSYS $ENOSYS "reflected to L1, whose KVM answers -KVM_ENOSYS" \
			"reflected to L1" "reflected to L1"
		counters unauthorised unauthorised=3 post_exits=0 signal_exits=0 rejected=0
	fi
	rmmod kvm_hv_relay
	exit 0
fi

if l1 relay_absent 0; then
	cpu_ok relay_absent
	expect relay_absent $ENOSYS $ENOSYS $ENOSYS "stock L0 reflects it; L1 KVM: -KVM_ENOSYS" \
		"reflected to L1" "reflected to L1"
fi
insmod "$ko" || tap "not ok" insmod
if l1 no_vmbus 1; then
	expect no_vmbus 0x12 0x12 0x3 "QEMU: HV_STATUS_INVALID_CONNECTION_ID, no handler for connection 1" \
		"QEMU: no handler for connection 2" \
		"relay: HV_STATUS_INVALID_HYPERCALL_INPUT, no L1 stage-2 entry for the page"
	counters no_vmbus post_exits=1 signal_exits=1 rejected=1 completed=2 unauthorised=0
fi
if l1 vmbus 1 -device vmbus-bridge; then
	expect vmbus 0x0 0x0 0x3 "QEMU's vmbus accepted INITIATE_CONTACT" \
		"connection 2 is vmbus's event connection" \
		"relay: HV_STATUS_INVALID_HYPERCALL_INPUT, no L1 stage-2 entry for the page"
	if grep -q 'vmbus_initiate_contact' /tmp/vmbus.qemu; then
		tap ok "vmbus/qemu_trace" "$(grep -m1 'vmbus_initiate_contact' /tmp/vmbus.qemu)"
	else
		tap "not ok" "vmbus/qemu_trace" "QEMU traced no vmbus_initiate_contact"
	fi
	# the signal goes to the eventfd QEMU registered for connection 2
	counters vmbus post_exits=1 signal_exits=0 signal_eventfd=1 completed=1 rejected=1 unauthorised=0
fi
rmmod kvm_hv_relay
exit 0
