#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tools/fuzz/run.sh [--check | --time SECONDS]
#
# libFuzzer targets over the module's pure helpers (relay_input.h), built
# with clang -fsanitize=fuzzer,address,undefined.  Installs clang and
# libclang-rt-14-dev with apt-get when they are missing.
#   (default)        run every target for FUZZ_TIME seconds (60) each
#   --time N         run every target for N seconds
#   --check          short run for make check: 1,000,000 inputs per target,
#                    plus a mutant of relay_input.h the target must catch;
#                    prints unnumbered TAP lines (fuzz/<target>)
# Build products and corpora: out/fuzz/ (FUZZ_OUT=).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=${FUZZ_OUT:-$REPO/out/fuzz}
TARGETS=(relay_input)
mode=long secs=${FUZZ_TIME:-60}
case ${1:-} in
--check) mode=check ;;
--time) secs=$2 ;;
"") ;;
*) echo "usage: $0 [--check | --time SECONDS]" >&2; exit 2 ;;
esac

CFLAGS=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
	-Wall -Wextra -Werror)

need_clang() {
	local rt
	if command -v clang >/dev/null; then
		rt=$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)
		[ ! -e "$rt" ] || return 0
		rt=$(clang -print-resource-dir 2>/dev/null)/lib/linux/libclang_rt.fuzzer-x86_64.a
		[ ! -e "$rt" ] || return 0
	fi
	echo "# installing clang and libclang-rt-14-dev" >&2
	local sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
		clang libclang-rt-14-dev >&2 ||
		{ $sudo apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get \
			install -y -q --no-install-recommends clang libclang-rt-14-dev >&2; }
}

build() {	# build <target> <output>
	clang "${CFLAGS[@]}" "$HERE/$1_fuzz.c" -o "$2"
}

tap() { if [ "$1" = 0 ]; then echo "ok - $2"; else echo "not ok - $2"; fi; }

if ! need_clang || ! command -v clang >/dev/null; then
	for t in "${TARGETS[@]}"; do echo "not ok - fuzz/$t"; echo "# clang with libFuzzer is not available"; done
	exit 1
fi
mkdir -p "$OUT"
rc=0
for t in "${TARGETS[@]}"; do
	bin=$OUT/${t}_fuzz corpus=$OUT/corpus/$t
	mkdir -p "$corpus"
	if ! build "$t" "$bin" 2>"$OUT/$t.build.log"; then
		tap 1 "fuzz/$t"; sed 's/^/#   /' "$OUT/$t.build.log" | head -n 20; rc=1; continue
	fi
	if [ $mode = check ]; then
		s=$(date +%s)
		"$bin" -runs=1000000 -print_final_stats=1 -artifact_prefix="$OUT/$t-" \
			"$corpus" >"$OUT/$t.log" 2>&1
		r=$?
		tap $r "fuzz/$t"
		echo "# fuzz/$t: $(grep -o 'Done [0-9]* runs' "$OUT/$t.log" | head -n1) in $(($(date +%s) - s)) s, corpus $(ls "$corpus" | wc -l) inputs"
		[ $r = 0 ] || { grep -E 'relay_input|ERROR|SUMMARY' "$OUT/$t.log" | head -n 5 | sed 's/^/#   /'; rc=1; }

		# The harness must catch a wrong helper: mutants of relay_input.h,
		# each with the helper whose difference the harness must report.
		mutants=(
			# accepts connection ids with bit 24 set
			'signal|relay_signal_status|s/#define RELAY_SIGNAL_CONN_ID_MASK\t0x00ffffffULL/#define RELAY_SIGNAL_CONN_ID_MASK\t0x01ffffffULL/'
			# looks at the wrong Hyper-V hint for the enlightened VMCS
			'hyperv|relay_host_vmcs_readable|s/#define RELAY_HV_HINT_ENLIGHTENED_VMCS\tBIT(14)/#define RELAY_HV_HINT_ENLIGHTENED_VMCS\tBIT(13)/'
		)
		for mu in "${mutants[@]}"; do
			mname=${mu%%|*} mu=${mu#*|}; fn=${mu%%|*} expr=${mu#*|}
			m=$OUT/mutant-$mname; mkdir -p "$m"
			sed "$expr" "$REPO/relay_input.h" >"$m/relay_input.h"
			name=fuzz/${t}_catches_mutant; [ "$mname" = signal ] || name=${name}_$mname
			if cmp -s "$REPO/relay_input.h" "$m/relay_input.h"; then
				tap 1 "$name"; echo "# mutation did not apply"; rc=1
				continue
			fi
			sed "s#\"../../relay_input.h\"#\"$m/relay_input.h\"#" "$HERE/${t}_fuzz.c" >"$m/${t}_fuzz.c"
			clang "${CFLAGS[@]}" "$m/${t}_fuzz.c" -o "$m/${t}_fuzz" 2>"$m/build.log" &&
				"$m/${t}_fuzz" -runs=1000000 -seed=1 -artifact_prefix="$m/" >"$m/log" 2>&1
			if grep -q "relay_input.h: $fn" "$m/log"; then
				tap 0 "$name"
			else
				tap 1 "$name"; rc=1
			fi
		done
	else
		echo "# fuzz/$t: $secs s" >&2
		"$bin" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$OUT/$t-" "$corpus"
		r=$?
		tap $r "fuzz/$t"
		[ $r = 0 ] || rc=1
	fi
done
exit $rc
