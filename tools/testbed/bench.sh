#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench.sh: "make bench". For each kernel (KERNELS=) and vendor (VENDORS=):
# build the module and bench/relay_bench.c (with that kernel's selftest
# library, as selftests.sh builds selftests/*.c), boot WITHOUT the module
# loaded (boot.sh --no-relay: relay_bench loads and unloads it itself, so
# absent/loaded/enabled are measured in the same boot) and print its result
# lines ("relay post ratio: 1.07", "state bytes 4-vcpu vm: 2176", ...) under a
# "== kernel/vendor" header.
#   BENCH_N=       calls per condition and round (default 1000)
#   BENCH_ROUNDS_AMD=, BENCH_ROUNDS_INTEL=  rounds (default 2 and 1)
# Both emulators run with a guest TSC that counts executed instructions
# (Bochs: ips-based clock with sync=none; QEMU: -icount shift=0), so the
# numbers are deterministic and independent of the host's load.
# Results (with machine, kernel, vendor, emulator): out/bench/results.txt,
# raw guest output: out/bench/<kernel>-<vendor>.out. Boots hold the shared
# boot lock (.cache/locks/boot.lock). Documentation/bench.rst explains.
#
# bench.sh --compile <kernel>: only build relay_bench (run where that
# kernel's code is built: on the host for bookworm, in the chroot otherwise).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BENCH_SRC=$REPO/bench

compile() {	# compile <kernel>: $B/bin/bench/relay_bench
	local name=$1 ksel
	. "$CACHE/kernels/$name.env"
	ksel=$KSRC/tools/testing/selftests/kvm
	B=$(build_dir)
	mkdir -p "$B/bench" "$B/bin/bench" "$B/logs"
	make -C "$ksel" -j"$(nproc)" CC="gcc -static" -f Makefile -f "$TB_DIR/ours.mk" \
		OURS_SRC="$BENCH_SRC" OURS_OUT="$B/bench" OURS_INC="$REPO/uapi" \
		"$B/bench/relay_bench" >"$B/logs/bench-build.log" 2>&1 ||
		{ tail -n 20 "$B/logs/bench-build.log" >&2; return 1; }
	strip -o "$B/bin/bench/relay_bench" "$B/bench/relay_bench"
}

if [ "${1:-}" = --compile ]; then
	compile "$2"
	exit
fi

# not rt: a locking cell, no performance target is set for it
KERNELS=${KERNELS:-$CHECK_KERNELS}
VENDORS=${VENDORS:-$ALL_VENDORS}
N=${BENCH_N:-1000}
for k in $KERNELS; do release_suites "$k" >/dev/null; done
"$TB_DIR/deps.sh"
kill_children_on_exit
R=$OUT/bench
mkdir -p "$R" "$CACHE/locks"
RES=$R/results.txt
t0=$(now)

emulator() {
	if [ "$1" = intel ]; then
		echo "Bochs $(dpkg-query -W -f='${Version}' bochs 2>/dev/null) (cpu corei7_haswell_4770 for 6.1, tigerlake with IBT for 6.12 and 7.3, VMX+EPT)"
	else
		echo "QEMU TCG $(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null) (-cpu max -icount shift=0, SVM+NPT, no nrip_save)"
	fi
}

{
	echo "# kvm-hv-relay benchmark results ($(date -u +%Y-%m-%dT%H:%MZ))"
	echo "# commit: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO" diff --quiet HEAD -- . ':!bench/results' 2>/dev/null || echo ' (+ uncommitted changes)')"
	echo "# machine: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), $(nproc) CPUs, host kernel $(uname -r)"
	echo "# load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# ratios only: absolute times under emulation are not claims"
} >"$RES"

fail=0
for k in $KERNELS; do
	log "$k: fetch and build (module, selftest library, relay_bench)"
	if ! "$TB_DIR/fetch.sh" "$k" >/dev/null 2>"$R/$k-fetch.err"; then
		echo "== $k: fetch failed (see ${R#"$REPO"/}/$k-fetch.err)"; fail=1; continue
	fi
	"$TB_DIR/build.sh" "$k" >"$R/$k-build.tap" 2>&1 || true
	load_kernel_env "$k"
	if ! [ -e "$(build_dir)/kvm_hv_relay.ko" ] || grep -q "^not ok - $k/build\$" "$R/$k-build.tap"; then
		echo "== $k: module build failed (see ${R#"$REPO"/}/$k-build.tap)"; fail=1; continue
	fi
	rc=0
	if in_chroot "$k"; then
		"$TB_DIR/chroot.sh" run "$TB_DIR/bench.sh" --compile "$k" >&2 || rc=$?
	else
		"$TB_DIR/bench.sh" --compile "$k" >&2 || rc=$?
	fi
	if [ $rc != 0 ]; then
		echo "== $k: relay_bench did not build (log: $(build_dir)/logs/bench-build.log)"
		fail=1; continue
	fi
	prog=$(build_dir)/bin/bench/relay_bench
	for v in $VENDORS; do
		case $v in
		intel) rounds=${BENCH_ROUNDS_INTEL:-1} extra=() ;;
		*) rounds=${BENCH_ROUNDS_AMD:-2} extra=(--qemu-arg -icount --qemu-arg shift=0) ;;
		esac
		emu=$(emulator "$v")
		log "$k/$v: booting under $emu (waits for the boot lock)"
		s=$(now) rc=0
		flock "$CACHE/locks/boot.lock" "$TB_DIR/boot.sh" --kernel "$k" --vendor "$v" \
			--no-relay --tag bench --timeout 1500 --watchdog 2400 --prog "$prog" "${extra[@]}" \
			--run "relay_bench -n $N -r $rounds /lib/mods/kvm_hv_relay.ko" \
			>"$R/$k-$v.out" 2>"$R/$k-$v.err" || rc=$?
		bt=$(sed -n 's/.* total=\([0-9]*\) .*/\1/p' "$OUT/boot/$k-$v-bench/timing" 2>/dev/null)
		{
			echo
			echo "== $k/$v: kernel $KVER, vendor $v, emulator $emu, boot ${bt:-?} s ($(($(now) - s)) s with the wait for the boot lock)"
			grep -E '^(# |[a-z][a-z0-9 -]+: )' "$R/$k-$v.out" | grep -v '^# TESTBED' || true
			[ $rc = 0 ] || echo "# relay_bench or the boot failed (exit $rc): see ${R#"$REPO"/}/$k-$v.out, out/logs/$k-$v-bench.log"
		} >>"$RES"
		echo "== $k/$v ($KVER, $emu)"
		grep -E '^[a-z][a-z0-9 -]+: ' "$R/$k-$v.out" || true
		if [ $rc != 0 ]; then
			fail=1
			echo "# failed (exit $rc): see ${R#"$REPO"/}/$k-$v.out and out/logs/$k-$v-bench.log"
			grep -E 'Assertion|==== Test|errno|TESTBED: exit' "$R/$k-$v.out" | head -n 5 | sed 's/^/#   /'
		fi
	done
done
echo "# total $(($(now) - t0)) s" >>"$RES"
echo "# results: ${RES#"$REPO"/} (total $(($(now) - t0)) s)"
exit $fail
