#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build.sh <kernel>: everything built for one kernel, as unnumbered TAP lines:
#   <kernel>/build            the module, W=1 C=2 (sparse); any warning fails
#   <kernel>/checkpatch       that kernel's checkpatch.pl --strict on our sources
#   <kernel>/build/relay_testmod   selftests/kmod's test-only module, W=1 C=2 + checkpatch
#   <kernel>/build/kvm_amd_btfmod  kvm_amd.ko with one BTF member name changed
#   <kernel>/build/...        selftest library, upstream tests, selftests/*.c
# Results are cached in the cache's build/<kver>/<key>/ (lib.sh build_dir), and
# each part within it by a hash of its own sources.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

name=$1
load_kernel_env "$name"
take_lock "build-$name"
TESTBED_BUILD_KEY=$(build_key)
export TESTBED_BUILD_KEY
B=$(build_dir)

# A new source tree starts from the newest build of the same kernel: each
# part below rebuilds only when its own sources changed.  The oldest builds
# beyond the newest BUILDS_KEPT go (none that a boot holds: boot.sh takes
# their lock shared).
BUILDS_KEPT=${TESTBED_BUILDS_KEPT:-4}
builds() {	# this kernel's builds, newest first
	find "$CACHE/build/$KVER" -mindepth 1 -maxdepth 1 -type d -regextype egrep \
		-regex '.*/[0-9a-f]{12}' -printf '%T@ %p\n' 2>/dev/null | sort -rn | cut -d' ' -f2-
}
mkdir -p "$CACHE/build/$KVER"
if [ ! -d "$B" ]; then
	prev=$(builds | head -n1)
	rm -rf "$B.new"
	if [ -n "$prev" ]; then
		log "$name: new sources: starting from the build in $prev"
		cp -a --reflink=auto "$prev" "$B.new"
	fi
	mkdir -p "$B.new"
	mv "$B.new" "$B"
fi
touch "$B"
builds | tail -n +$((BUILDS_KEPT + 1)) | while read -r d; do
	[ "$d" != "$B" ] || continue
	# shellcheck disable=SC2016 # expanded by the inner shell
	flock -n -x "$d.lock" sh -c 'rm -rf "$1" "$1.lock"' sh "$d" || true
done
mkdir -p "$B/logs"

# our module sources: tracked and new files, minus what is not the module
mod_files() {
	(cd "$REPO" && { git ls-files -co --exclude-standard 2>/dev/null || find . -type f -printf '%P\n'; } |
		grep -vE '^(\.git|\.cache|out|tools|selftests|bench|Documentation|\.ci)/' |
		grep -vE '^(README|\.gitignore|\.checkpatch)' | sort -u |
		while read -r f; do [ -f "$f" ] && echo "$f"; done)
}

if in_chroot "$name"; then
	"$TB_DIR/chroot.sh" headers "$name" >&2
	RUN=("$TB_DIR/chroot.sh" run)
else
	RUN=()
fi

# --- module, W=1 C=2 -------------------------------------------------------
hash=$({ echo "$KVER"; repo_sums "$TB_DIR/build.sh"; mod_files | repo_sums; } | sha256sum | cut -c1-16)
if [ ! -e "$REPO/Kbuild" ] && [ ! -e "$REPO/Makefile" ]; then
	tap_fail "$name/build" "no Kbuild in the repository"
elif [ "$(cat "$B/mod.hash" 2>/dev/null)" = "$hash" ] && [ -e "$B/mod.tap" ]; then
	cat "$B/mod.tap"
else
	log "$name: building the module (W=1 C=2) against $KVER"
	rm -rf "$B/mod" "$B/mod.tap" "$B/mod.hash" "$B/kvm_hv_relay.ko"
	mkdir -p "$B/mod"
	mod_files | (cd "$REPO" && xargs -r -d '\n' cp --parents -t "$B/mod")
	rc=0
	# KVM's private layouts come from BTF of the target kernel (see Kbuild)
	amdko=$(find -L "$KMODS/arch/x86/kvm" -name 'kvm-amd.ko*' | head -n1)
	intelko=$(find -L "$KMODS/arch/x86/kvm" -name 'kvm-intel.ko*' | head -n1)
	kvmko=$(find -L "$KMODS/arch/x86/kvm" -name 'kvm.ko*' | head -n1)
	"${RUN[@]}" make -C "$KHDR" M="$B/mod" W=1 C=2 RELAY_VMLINUX_BTF="$VMLINUZ" \
		RELAY_KVM_BTF="$kvmko" RELAY_KVM_AMD_BTF="$amdko" RELAY_KVM_INTEL_BTF="$intelko" \
		modules >"$B/logs/module.log" 2>&1 || rc=$?
	warn=$(grep -E ': (warning|error):|^(WARNING|ERROR):|: Warning:' "$B/logs/module.log" || true)
	ko=$(find "$B/mod" -maxdepth 1 -name '*.ko' | head -n1)
	[ -z "$ko" ] || cp "$ko" "$B/kvm_hv_relay.ko"
	{
		if [ $rc -ne 0 ] || [ -z "$ko" ]; then
			tap_fail "$name/build" "module build failed (rc=$rc, log: ${B#"$REPO"/}/logs/module.log)"
			grep -E 'error|Error|warning' "$B/logs/module.log" | head -n 20 | sed 's/^/#   /'
		elif [ -n "$warn" ]; then
			tap_fail "$name/build" "W=1 C=2 reported $(echo "$warn" | wc -l) warning(s)"
			echo "$warn" | head -n 30 | sed "s#$B/mod/##; s/^/#   /"
		else
			tap_ok "$name/build"
		fi
		# 7.x kernels refuse sparse 0.6.4 (the newest Debian has): it cannot
		# parse __typeof_unqual__. Say so rather than pretend sparse ran.
		if grep -q 'C=2 specified, but sparse is not available' "$B/logs/module.log"; then
			tap_skip "$name/sparse" "kbuild refused sparse $("${RUN[@]}" sparse --version 2>/dev/null || echo sparse): too old for these headers, W=1 only"
		fi
	} >"$B/mod.tap.new"

	# --- checkpatch from this kernel's tree --------------------------------
	files=$(mod_files | grep -E '^([^/]+|uapi/.+|compat[^/]*/.+)\.[ch]$' || true)
	if [ -z "$files" ]; then
		tap_fail "$name/checkpatch" "no C sources found"
	else
		rc=0
		# shellcheck disable=SC2086
		(cd "$B/mod" && perl "$KSRC/scripts/checkpatch.pl" --strict --no-tree --no-summary \
			--show-types --terse -f $files) >"$B/logs/checkpatch.log" 2>"$B/logs/checkpatch.err" || rc=$?
		if [ $rc -eq 0 ]; then
			tap_ok "$name/checkpatch"
		else
			tap_fail "$name/checkpatch" "$(grep -cE '(ERROR|WARNING|CHECK):' "$B/logs/checkpatch.log") finding(s)"
			head -n 15 "$B/logs/checkpatch.log" | sed 's/^/#   /'
		fi
	fi >>"$B/mod.tap.new"
	mv "$B/mod.tap.new" "$B/mod.tap"
	echo "$hash" >"$B/mod.hash"
	cat "$B/mod.tap"
fi

# --- test-only module of the selftests (selftests/kmod), never packaged -------
# Built like the module (W=1 C=2, that kernel's checkpatch --strict), one line.
TM=$REPO/selftests/kmod
tmhash=$({ echo "$KVER"; repo_sums "$TB_DIR/build.sh" "$TM"/*; } | sha256sum | cut -c1-16)
if [ "$(cat "$B/testmod.hash" 2>/dev/null)" = "$tmhash" ] && [ -e "$B/testmod.tap" ]; then
	cat "$B/testmod.tap"
else
	log "$name: building relay_testmod (W=1 C=2)"
	rm -rf "$B/testmod" "$B/relay_testmod.ko"
	mkdir -p "$B/testmod"
	cp "$TM/relay_testmod.c" "$TM/Kbuild" "$B/testmod/"
	rc=0
	"${RUN[@]}" make -C "$KHDR" M="$B/testmod" W=1 C=2 modules >"$B/logs/testmod.log" 2>&1 || rc=$?
	warn=$(grep -E ': (warning|error):|^(WARNING|ERROR):|: Warning:' "$B/logs/testmod.log" || true)
	cprc=0
	(cd "$TM" && perl "$KSRC/scripts/checkpatch.pl" --strict --no-tree --no-summary \
		--show-types --terse -f relay_testmod.c) >"$B/logs/testmod-checkpatch.log" 2>&1 || cprc=$?
	{
		if [ $rc -ne 0 ] || [ ! -e "$B/testmod/relay_testmod.ko" ]; then
			tap_fail "$name/build/relay_testmod" "build failed (rc=$rc, log: ${B#"$REPO"/}/logs/testmod.log)"
			{ grep -E 'error|warning|Error' "$B/logs/testmod.log" || tail -n 5 "$B/logs/testmod.log"; } |
				head -n 10 | sed 's/^/#   /' || true
		elif [ -n "$warn" ]; then
			tap_fail "$name/build/relay_testmod" "W=1 C=2 reported $(echo "$warn" | wc -l) warning(s)"
			echo "$warn" | head -n 10 | sed "s#$B/testmod/##; s/^/#   /"
		elif [ $cprc -ne 0 ]; then
			tap_fail "$name/build/relay_testmod" "checkpatch --strict: $(grep -cE '(ERROR|WARNING|CHECK):' "$B/logs/testmod-checkpatch.log") finding(s)"
			head -n 10 "$B/logs/testmod-checkpatch.log" | sed 's/^/#   /'
		else
			cp "$B/testmod/relay_testmod.ko" "$B/relay_testmod.ko"
			tap_ok "$name/build/relay_testmod"
		fi
	} >"$B/testmod.tap"
	echo "$tmhash" >"$B/testmod.hash"
	cat "$B/testmod.tap"
fi

# --- kvm_<vendor>_btfmod.ko: one vcpu_svm/vcpu_vmx member renamed in its BTF ---
# For relay_hardening: a vendor module whose BTF is not the one the module
# was built against (tools/testbed/btfmod.py).  objcopy drops the signature.
btfmod() {	# btfmod <module> <struct>
	local m=$1 s=$2 ko hash T rc=0 old new
	ko=$(find -L "$KMODS/arch/x86/kvm" -name "${m//_/-}.ko*" | head -n1)
	hash=$({ echo "$KVER"; repo_sums "$TB_DIR/build.sh" "$TB_DIR/btfmod.py"; sha256sum "$ko" "$VMLINUZ"; } |
		sha256sum | cut -c1-16)
	if [ "$(cat "$B/${m}_btfmod.hash" 2>/dev/null)" = "$hash" ] && [ -e "$B/${m}_btfmod.tap" ]; then
		cat "$B/${m}_btfmod.tap"
		return
	fi
	T=$B/btfmod
	rm -rf "$T" "$B/${m}_btfmod.ko"
	mkdir -p "$T"
	{
		case $ko in
		*.xz) xz -dc "$ko" >"$T/$m.ko" ;;
		*.zst) zstd -q -dc "$ko" >"$T/$m.ko" ;;
		*) cp "$ko" "$T/$m.ko" ;;
		esac
		sh "$KSRC/scripts/extract-vmlinux" "$VMLINUZ" >"$T/vmlinux"
		objcopy --dump-section .BTF="$T/vmlinux.btf" "$T/vmlinux" "$T/scratch"
		objcopy --dump-section .BTF="$T/$m.btf" "$T/$m.ko" "$T/scratch"
		/usr/bin/python3 "$TB_DIR/btfmod.py" "$T/vmlinux.btf" "$T/$m.btf" "$T/new.btf" "$s" \
			>"$T/renamed"
		objcopy --update-section .BTF="$T/new.btf" "$T/$m.ko" "$T/${m}_btfmod.ko"
		! grep -q 'Module signature appended' "$T/${m}_btfmod.ko"
	} >"$B/logs/${m}_btfmod.log" 2>&1 || rc=$?
	if [ $rc -eq 0 ] && [ -s "$T/renamed" ]; then
		cp "$T/${m}_btfmod.ko" "$B/${m}_btfmod.ko"
		tap_ok "$name/build/${m}_btfmod"
		read -r old new <"$T/renamed"
		echo "# struct $s member $old renamed $new in $m's BTF"
	else
		tap_fail "$name/build/${m}_btfmod" "could not make it (log: ${B#"$REPO"/}/logs/${m}_btfmod.log)"
		tail -n 5 "$B/logs/${m}_btfmod.log" | sed 's/^/#   /'
	fi >"$B/${m}_btfmod.tap"
	rm -rf "$T"
	echo "$hash" >"$B/${m}_btfmod.hash"
	cat "$B/${m}_btfmod.tap"
}
btfmod kvm_amd vcpu_svm
btfmod kvm_intel vcpu_vmx

# --- the e2e lane's L1-side VMM (tools/testbed/e2e/l1vmm.c), static ----------
# Runs in L1's busybox initramfs; boot.sh --e2e copies it from here.
l1src=$TB_DIR/e2e/l1vmm.c
l1hash=$({ echo "$KVER"; repo_sums "$TB_DIR/build.sh" "$l1src"; } | sha256sum | cut -c1-16)
if [ "$(cat "$B/l1vmm.hash" 2>/dev/null)" = "$l1hash" ] && [ -e "$B/l1vmm.tap" ]; then
	cat "$B/l1vmm.tap"
else
	rm -f "$B/l1vmm"
	if gcc -static -O2 -Wall -Wextra -Werror -o "$B/l1vmm" "$l1src" >"$B/logs/l1vmm.log" 2>&1; then
		tap_ok "$name/build/l1vmm"
	else
		tap_fail "$name/build/l1vmm" "gcc failed (log: ${B#"$REPO"/}/logs/l1vmm.log)"
		head -n 10 "$B/logs/l1vmm.log" | sed 's/^/#   /'
	fi >"$B/l1vmm.tap"
	echo "$l1hash" >"$B/l1vmm.hash"
	cat "$B/l1vmm.tap"
fi

# --- selftests ---------------------------------------------------------------
# A build dir belongs to one source tree (build_key), so a run that built
# them all without a failure is one no later run of that tree needs to
# repeat: a fresh clone of the same commit, whose files are all newer than
# the binaries, would otherwise rebuild every one.
if [ "$(cat "$B/selftests.key" 2>/dev/null)" = "$TESTBED_BUILD_KEY" ] && [ -e "$B/selftests.tap" ]; then
	cat "$B/selftests.tap"
else
	rm -f "$B/selftests.key"
	"${RUN[@]}" "$TB_DIR/selftests.sh" "$name" | tee "$B/selftests.tap"
	grep -q '^not ok' "$B/selftests.tap" || echo "$TESTBED_BUILD_KEY" >"$B/selftests.key"
fi
