#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# selftests.sh <kernel>: build that kernel's KVM selftest library, the upstream
# tests of upstream.list and every selftests/*.c of the repo, statically linked.
# Runs where the kernel's code is built (host for bookworm, chroot otherwise).
# Prints unnumbered TAP lines; binaries land stripped in the build dir's bin/
# (lib.sh build_dir).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

name=$1
. "$CACHE/kernels/$name.env"
KSEL=$KSRC/tools/testing/selftests/kvm
if [ -d "$KSEL/x86" ]; then ARCHDIR=x86; else ARCHDIR=x86_64; fi
B=$(build_dir)
mkdir -p "$B/logs" "$B/bin/upstream" "$B/bin/ours" "$B/ours"
CCS="gcc -static"
# The selftests' lib.mk sets OUTPUT (and so every target's path) only in a
# top-level make: under "make check" we are a sub-make, so shed its state.
MK=(env -u MAKELEVEL -u MAKEFLAGS -u MFLAGS make -C "$KSEL" -j"$(nproc)" CC="$CCS")

tail_log() { tail -n "${2:-15}" "$1" | sed 's/^/#   /'; }

# kernel uapi headers of the tree (the selftests include <linux/kvm.h> from usr/include)
if [ ! -e "$KSRC/usr/include/linux/kvm.h" ] || [ ! -e "$KSRC/.testbed-headers" ]; then
	log "$name: make headers"
	if ! make -C "$KSRC" -j"$(nproc)" headers >"$B/logs/headers.log" 2>&1; then
		tap_fail "$name/build/selftest-headers" "make headers failed"
		tail_log "$B/logs/headers.log"
		exit 0
	fi
	touch "$KSRC/.testbed-headers"
fi

# upstream list -> names present in this tree (vendor filtering happens at boot)
: >"$B/upstream.names"
targets=()
while read -r vendor alts; do
	[ -n "$vendor" ] || continue
	found=
	for n in ${alts//|/ }; do
		if [ -e "$KSEL/$ARCHDIR/$n.c" ]; then found=$n; break; fi
	done
	if [ -z "$found" ]; then
		echo "$vendor ${alts%%|*} -" >>"$B/upstream.names"
		continue
	fi
	echo "$vendor $found ok" >>"$B/upstream.names"
	targets+=("$KSEL/$ARCHDIR/$found")
done < <(sed -e 's/#.*//' "$TB_DIR/upstream.list")

log "$name: building the selftest library and ${#targets[@]} upstream tests"
mapfile -t targets < <(printf '%s\n' "${targets[@]}" | sort -u)
"${MK[@]}" -k "${targets[@]}" >"$B/logs/upstream.log" 2>&1 || true
bad=()
for t in "${targets[@]}"; do
	n=${t##*/}
	if [ -x "$t" ]; then
		[ "$B/bin/upstream/$n" -nt "$t" ] || strip -o "$B/bin/upstream/$n" "$t"
	else
		bad+=("$n"); rm -f "$B/bin/upstream/$n"
	fi
done
if [ ${#bad[@]} -eq 0 ]; then
	tap_ok "$name/build/upstream-selftests"
else
	tap_fail "$name/build/upstream-selftests" "did not build: ${bad[*]}"
	tail_log "$B/logs/upstream.log"
fi

# libhvrelay (our selftests link it) and the kvm-hv-relay CLI, static, for
# selftests that run it (/t/extra in the guest)
mkdir -p "$B/bin/extra"
SHIMLIB=$B/shim/libhvrelay.a
if make -C "$REPO/tools/shim" STATIC=1 B="$B/shim" "$SHIMLIB" "$B/shim/kvm-hv-relay" \
	>"$B/logs/shim.log" 2>&1; then
	[ "$B/bin/extra/kvm-hv-relay" -nt "$B/shim/kvm-hv-relay" ] ||
		strip -o "$B/bin/extra/kvm-hv-relay" "$B/shim/kvm-hv-relay"
	tap_ok "$name/build/shim-static"
else
	rm -f "$B/bin/extra/kvm-hv-relay"
	tap_fail "$name/build/shim-static" "make -C tools/shim STATIC=1 failed"
	tail_log "$B/logs/shim.log"
fi

# ours: every selftests/*.c is one test program
shopt -s nullglob
OURS_DIR=${TESTBED_SELFTESTS:-$REPO/selftests}
srcs=("$OURS_DIR"/*.c)
[ ${#srcs[@]} -gt 0 ] || log "$name: no selftests/*.c yet"
for s in "${srcs[@]}"; do
	n=$(basename "$s" .c)
	if "${MK[@]}" -f Makefile -f "$TB_DIR/ours.mk" OURS_SRC="$OURS_DIR" \
		OURS_OUT="$B/ours" OURS_INC="$REPO/uapi" OURS_SHIM_INC="$REPO/tools/shim/include" \
		OURS_SHIM_LIB="$SHIMLIB" "$B/ours/$n" >"$B/logs/ours-$n.log" 2>&1; then
		[ "$B/bin/ours/$n" -nt "$B/ours/$n" ] || strip -o "$B/bin/ours/$n" "$B/ours/$n"
		tap_ok "$name/build/selftests/$n"
	else
		rm -f "$B/bin/ours/$n"
		tap_fail "$name/build/selftests/$n" "compile failed (log: ${B#"$REPO"/}/logs/ours-$n.log)"
		grep -E 'error|undefined' "$B/logs/ours-$n.log" | head -n 10 | sed 's/^/#   /'
	fi
done
# binaries of tests whose source is gone
for b in "$B"/bin/ours/*; do
	[ -e "$OURS_DIR/$(basename "$b").c" ] || rm -f "$b"
done
exit 0
