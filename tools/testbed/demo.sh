#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# demo.sh: boot Debian 12's kernel (6.1) under Bochs (Intel VMX, emulated),
# load kvm_intel nested=1 and kvm_hv_relay, run selftests/relay_test --demo and show
# what it prints: the KVM_EXIT_HYPERV a userspace VMM saw for an L2
# HvPostMessage. DEMO_KERNEL=, DEMO_VENDOR= pick another boot; V=1 streams
# the whole serial console.
# DEMO_E2E=1 (make demo-e2e, trixie/amd unless told otherwise): the e2e
# lane's boot instead, Debian's QEMU as the VMM and Debian's kernel as L1,
# and what QEMU's vmbus made of the relayed calls.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

k=${DEMO_KERNEL:-bookworm} v=${DEMO_VENDOR:-intel}
prog=relay_test

log "fetching and building for $k (cached after the first run)"
"$TB_DIR/fetch.sh" "$k" >/dev/null
load_kernel_env "$k"
mkdir -p "$OUT"
"$TB_DIR/build.sh" "$k" >"$OUT/demo-build.tap" 2>&1 || true
if grep -qE '^not ok' "$OUT/demo-build.tap"; then
	grep -E -A3 '^not ok' "$OUT/demo-build.tap" >&2
	log "(build problems above; all of it in ${OUT#"$REPO"/}/demo-build.tap)"
fi
if [ ! -e "$REPO/selftests/$prog.c" ]; then
	die "selftests/$prog.c does not exist yet: nothing to demonstrate"
fi
[ -x "$(build_dir)/bin/ours/$prog" ] || die "selftests/$prog.c did not build for $k (see ${OUT#"$REPO"/}/demo-build.tap)"
[ -e "$(build_dir)/kvm_hv_relay.ko" ] || die "kvm_hv_relay did not build for $k (see ${OUT#"$REPO"/}/demo-build.tap)"

emu=Bochs; [ "$v" = intel ] || emu="QEMU TCG"
if [ "${DEMO_E2E:-0}" = 1 ]; then
	f=authorised; [ "$k" != bookworm ] || f=unauthorised
	l1=(); [ "$k/$v" != backports/amd ] || l1=(--l1-kernel trixie)
	log "booting $KVER under $emu ($v): in it, Debian's QEMU boots Debian's kernel as L1"
	echo "----- e2e on $k/$v: L2 -> L1 (Linux KVM) -> L0 (KVM + kvm_hv_relay) -> QEMU -----"
	rc=0
	"$TB_DIR/boot.sh" --kernel "$k" --vendor "$v" --e2e $f ${l1[@]+"${l1[@]}"} \
		>"$OUT/demo-e2e.tap" || rc=$?
	# the results, the relay's counters and QEMU's own trace of its vmbus
	grep -E '^(not )?ok|^#   (counters|qemu)\| .*(vmbus|: [1-9])' "$OUT/demo-e2e.tap" || true
	tap_passed "$OUT/demo-e2e.tap" || rc=1
	echo "----- TAP with both consoles: ${OUT#"$REPO"/}/demo-e2e.tap -----"
	exit $rc
fi
log "booting $KVER under $emu ($v); this takes a few minutes of emulation"
args=(--kernel "$k" --vendor "$v" --tag demo --run "$prog --demo")
[ "${V:-0}" = 0 ] || args+=(--console)
echo "----- $prog on $k/$v (L0 = emulated KVM with kvm_hv_relay) -----"
rc=0
"$TB_DIR/boot.sh" "${args[@]}" || rc=$?
echo "----- full serial log: ${OUT#"$REPO"/}/logs/$k-$v-demo.log -----"
exit $rc
