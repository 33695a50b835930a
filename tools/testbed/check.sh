#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# check.sh: the whole test matrix. KERNELS="bookworm trixie backports"
# and VENDORS="intel amd" (environment) narrow it; KERNELS=rt (make
# check-rt) runs trixie's PREEMPT_RT kernel, an Intel cell only. LANES="matrix e2e" (the default) picks the
# lanes: "matrix" is the host checks and one boot per cell, "e2e" the
# end-to-end boots with QEMU and a real L1 (make e2e).
# QUICK=1 (make check-quick): builds and our selftests only, in the cells
# asked for: no host checks, no upstream tests or parity, no e2e lane.
# SOAK=1 (make soak): every cell runs our selftests' full repetitions; else
# the Intel cells (Bochs) run their brief ones (boot.sh --reps).
# Prints TAP; the last line is "N passed, N failed, N skipped"; exits
# non-zero when anything failed.
#
# Order of work: host-side checks (tools/shim), then per kernel fetch + build;
# boots start as soon as their kernel is built, two at a time from one queue
# (the Bochs boots first). Output stays in matrix order.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KERNELS=${KERNELS:-$CHECK_KERNELS}
VENDORS=${VENDORS:-$ALL_VENDORS}
for k in $KERNELS; do release_suites "$k" >/dev/null; done
for v in $VENDORS; do case $v in intel|amd) ;; *) die "unknown vendor '$v' (want intel amd)" ;; esac; done
LANES=${LANES:-matrix e2e}
QUICK=${QUICK:-0} SOAK=${SOAK:-0}
[ "$QUICK" = 0 ] || LANES=matrix
# host: the checks of the host's own (shim, docs, packaging, ...), the
# proxmox symbol checks and the chroot mount check; not in a quick run
host() { lane matrix && [ "$QUICK" = 0 ]; }
# boot.sh --check's arguments of this run
CHECK_ARGS=()
[ "$QUICK" = 0 ] || CHECK_ARGS+=(--ours-only)
[ "$SOAK" = 0 ] || CHECK_ARGS+=(--reps full)
lane() { case " $LANES " in *" $1 "*) ;; *) return 1 ;; esac; }
for l in $LANES; do case $l in matrix|e2e) ;; *) die "unknown lane '$l' (want matrix e2e)" ;; esac; done
# e2e boots: every kernel whose L0 KVM offers L1 direct hypercalls runs the
# three authorised runs; bookworm (6.1 offers none) the unauthorised one, on
# AMD only, as it asserts what happens without the module's involvement
# (backports/amd is not one: its own 7.3.4 L1 panics at boot on QEMU TCG, and
# with trixie's as L1 the boot hung once in 18 rounds, see
# Documentation/test-bed.rst)
# make check and make e2e run all of them; E2E_CELLS narrows a run.
E2E_CELLS=${E2E_CELLS:-"trixie/intel trixie/amd backports/intel bookworm/amd"}

"$TB_DIR/deps.sh"
take_lock check
# the builds of the sources as they are now, whatever is edited meanwhile
TESTBED_BUILD_KEY=$(build_key)
export TESTBED_BUILD_KEY
disk_check $KERNELS
kill_children_on_exit
T=$OUT/tap
rm -rf "$T"; mkdir -p "$T" "$OUT/logs" "$OUT/boot"
# boots of earlier runs that no run of the last two days wrote again
# (by-hand --run tags, cells no longer in the matrix)
find "$OUT/boot" -mindepth 1 -maxdepth 1 -type d -mtime +1 -exec rm -rf {} +
t0=$(now)

# part <name> <command...>: run a part in the background, TAP into $T/<name>,
# its wall time into $T/<name>.time
part() {
	local name=$1; shift
	( s=$(now)
	  "$@" >"$T/$name.tap" 2>"$T/$name.err" || echo "not ok - $name # runner exited $?" >>"$T/$name.tap"
	  echo "$(($(now) - s))" >"$T/$name.time"
	  touch "$T/$name.done" ) &
}
wait_for() { while [ ! -e "$T/$1.done" ]; do sleep 2; done; }

shim() {
	local mk=$REPO/tools/shim/Makefile
	[ -e "$mk" ] && grep -qE '^check:' "$mk" || { echo "# tools/shim: no check target"; return 0; }
	local rc=0
	make -s -C "$REPO/tools/shim" check >"$T/shim.out" 2>&1 || rc=$?
	# their names already start with shim/; add it where they do not
	sed -nE 's/^(not )?ok( [0-9]+)?( -)? ?/\1ok - /p; /^#/p' "$T/shim.out" |
		sed -E '/^(not )?ok - /{/^(not )?ok - shim\//!s/^((not )?ok - )/\1shim\//}'
	if [ $rc -ne 0 ] && ! grep -qE '^not ok' "$T/shim.out"; then
		tap_fail "shim/make check" "exit $rc"
		tail -n 15 "$T/shim.out" | sed 's/^/#   /'
	fi
}

docs() {	# the rst pages parse without a warning
	local rc=0
	make -s -C "$REPO" docs-check >"$T/docs.out" 2>&1 || rc=$?
	sed 's/^/#   /' "$T/docs.out"
	if [ $rc -eq 0 ]; then tap_ok "docs/rst"; else tap_fail "docs/rst" "make docs-check: exit $rc"; fi
}

packaging() {	# .debs build, pass lintian, install into a Debian 12 chroot
	local rc=0
	"$REPO/tools/test-packaging.sh" >"$T/packaging.out" 2>&1 || rc=$?
	sed -nE 's/^(not )?ok( [0-9]+)?( -)? /\1ok - /p; /^#/p' "$T/packaging.out"
	if [ $rc -ne 0 ] && ! grep -qE '^not ok' "$T/packaging.out"; then
		tap_fail "packaging" "tools/test-packaging.sh: exit $rc"
		tail -n 15 "$T/packaging.out" | sed 's/^/#   /'
	fi
}

# --- boot.sh's console watch, against scripted consoles (a few seconds) -----
watch_selftest() {
	local d=$T/watch name want script pid
	mkdir -p "$d"
	while IFS='|' read -r name want script; do
		: >"$d/$name.log"
		bash -c "exec >>'$d/$name.log'; $script" &
		pid=$!
		watch_console $pid "$d/$name.log" 8 2
		kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
		if [ "$fate" = "$want" ]; then tap_ok "testbed/watch_$name"
		else tap_fail "testbed/watch_$name" "fate $fate, want $want"; fi
	done <<-'EOF2'
	alive|poweroff|echo "TESTBED: start"; for i in 1 2 3 4 5 6; do sleep 1; echo "TESTBED: alive $i"; done; echo "TESTBED: end"
	hung|stall|echo "TESTBED: start"; sleep 60
	slow_boot|poweroff|sleep 5; echo "TESTBED: start"; sleep 1; echo "TESTBED: end"
	late_end|poweroff|echo "TESTBED: start"; sleep 1; echo "TESTBED: end"; sleep 4
	panic|panic|echo "TESTBED: start"; echo "Kernel panic - not syncing: x"; sleep 60
	l1_panic|stall|echo "TESTBED: start"; echo "#   l1| Kernel panic - not syncing: x"; sleep 60
	endless|watchdog|echo "TESTBED: start"; while sleep 1; do echo "TESTBED: alive"; done
	EOF2
}

# --- boot.sh's health filter (kernel_lines), against scripted logs ----------
# KVM's warning that relay_vmxoff measures from stock KVM: tolerated once,
# on Intel, stamped after that test's mark; the dmesg dump repeats it
health_selftest() {
	local d=$T/health name vendor want lines bad
	mkdir -p "$d"
	w() { printf '[ %s] ------------[ cut here ]------------\n[ %s] WARNING: CPU: 0 PID: 1 at arch/x86/kvm/vmx/nested.c:4850 nested_vmx_vmexit+0x1/0x2 [kvm_intel]\n[ %s] Call Trace:\n[ %s] ---[ end trace 0000000000000000 ]---\n' "$1" "$1" "$1" "$1"; }
	m() { echo "# interleaved[ $1] testbed: tolerate once: nested_vmx_vmexit (relay_vmxoff)"; }
	# sysfs's dump_stack() for relay_hardening's duplicate misc name, and its mark
	s() { printf "[ %s] sysfs: cannot create duplicate filename '/devices/virtual/misc/kvm_hv_relay'\n[ %s] CPU: 0 PID: 9 Comm: relay_hardening\n[ %s] Call Trace:\n[ %s]  <TASK>\n[ %s]  dump_stack_lvl+0x44/0x5c\n[ %s] RIP: 0033:0x7f0000000000\n[ %s]  </TASK>\n" "$1" "$1" "$1" "$1" "$1" "$1" "$1"; }
	sm() { echo "[ $1] testbed: tolerate once: '/devices/virtual/misc/kvm_hv_relay' (relay_hardening)"; }
	while IFS='|' read -r name vendor want lines; do
		{ echo "TESTBED: start"; eval "$lines"; echo "TESTBED: dmesg"; eval "$lines" | grep -v '^#'; } >"$d/$name.log"
		bad=$(kernel_lines "$d/$name.log" "$vendor" bookworm "" |
			grep -E 'WARNING:|BUG:|Oops|general protection|Call Trace|Kernel panic|RIP:' || true)
		if { [ "$want" = clean ] && [ -z "$bad" ]; } || { [ "$want" = bad ] && [ -n "$bad" ]; }; then
			tap_ok "testbed/health_$name"
		else
			tap_fail "testbed/health_$name" "want $want, got: ${bad:-nothing}"
		fi
	done <<-'EOF2'
	after_mark|intel|clean|m 10.000000; w 10.100000
	no_mark|intel|bad|w 10.100000
	before_mark|intel|bad|w 9.900000; m 10.000000
	twice|intel|bad|m 10.000000; w 10.100000; w 10.200000
	other_vendor|amd|bad|m 10.000000; w 10.100000
	stack_after_mark|amd|clean|sm 10.000000; s 10.100000
	stack_no_mark|amd|bad|s 10.100000
	stack_twice|intel|bad|sm 10.000000; s 10.100000; s 10.200000
	stack_then_oops|amd|bad|sm 10.000000; s 10.100000; echo '[ 10.300000] BUG: unable to handle page fault'
	EOF2
}

# --- lib.sh's apt readers (field, candidate) under pipefail, against an
# apt-cache answer longer than a pipe holds: the reader must not stop the
# writer with SIGPIPE, which fails the pipeline and with set -e fetch.sh
apt_selftest() {
	local got rc
	# shellcheck disable=SC2317 # called by field and candidate
	papt_cache() {
		case $2 in
		show) printf 'Package: a\nFilename: pool/main/a.deb\n' ;;
		policy) printf 'a:\n  Installed: (none)\n  Candidate: 1.2-3\n' ;;
		esac
		awk 'BEGIN { for (i = 0; i < 20000; i++) print " Description-md5: 0123456789abcdef" }'
	}
	rc=0; got=$(field bookworm a Filename) || rc=$?
	if [ $rc = 0 ] && [ "$got" = pool/main/a.deb ]; then tap_ok "testbed/apt_field_long_answer"
	else tap_fail "testbed/apt_field_long_answer" "exit $rc, got '$got'"; fi
	rc=0; got=$(candidate bookworm a) || rc=$?
	if [ $rc = 0 ] && [ "$got" = 1.2-3 ]; then tap_ok "testbed/apt_candidate_long_answer"
	else tap_fail "testbed/apt_candidate_long_answer" "exit $rc, got '$got'"; fi
}

# --- chroot.sh's mounts, seen from the host while a command runs in the
# chroot and after that run is killed with SIGKILL (no trap runs): none may
# be there, or an rm -rf of the cache or of a clone could reach through it
mount_selftest() {
	local probe=tmp/testbed-mount-probe.$$ pid i ran= during after
	[ -d "$CHROOT/tmp" ] || { tap_fail "testbed/chroot_mounts_die_with_run" "no chroot at $CHROOT"; return 0; }
	rm -f "$CHROOT/$probe"
	"$TB_DIR/chroot.sh" run sh -c "touch /$probe; exec sleep 300" >/dev/null 2>&1 &
	pid=$!
	for ((i = 0; i < 120; i++)); do [ ! -e "$CHROOT/$probe" ] || { ran=1; break; }; sleep 1; done
	during=$(awk -v c="$CHROOT" 'index($5, c) == 1 { print $5 }' /proc/self/mountinfo)
	kill_tree $pid -9
	wait $pid 2>/dev/null || true
	after=$(awk -v c="$CHROOT" 'index($5, c) == 1 { print $5 }' /proc/self/mountinfo)
	rm -f "$CHROOT/$probe"
	if [ -z "$ran" ]; then
		tap_fail "testbed/chroot_mounts_die_with_run" "the command never ran in the chroot"
	elif [ -z "$during$after" ]; then
		tap_ok "testbed/chroot_mounts_die_with_run"
	else
		tap_fail "testbed/chroot_mounts_die_with_run" "the host sees chroot mounts: ${during:+while it runs: $(echo $during)}${after:+; after SIGKILL: $(echo $after)}"
		# a failed run's leftovers: not for the next one to trip on
		for i in $after; do umount -l "$i" 2>/dev/null || true; done
	fi
}

# --- lib.sh's disk_check against a file system with too little space: one
# line that says how much is needed, and no run
disk_selftest() {
	local out rc
	rc=0; out=$( (avail_mb() { echo 100; }; disk_check bookworm) 2>&1) || rc=$?
	if [ $rc != 0 ] && [ "$(echo "$out" | wc -l)" = 1 ] &&
	   [[ $out == "testbed: error: 0.0 GB free for "*", this run needs about "*" GB ("* ]]; then
		tap_ok "testbed/disk_check_refuses"
	else
		tap_fail "testbed/disk_check_refuses" "exit $rc: $out"
	fi
	rc=0; out=$( (avail_mb() { echo 1048576; }; disk_check bookworm trixie backports) 2>&1) || rc=$?
	if [ $rc = 0 ] && [ -z "$out" ]; then tap_ok "testbed/disk_check_passes"
	else tap_fail "testbed/disk_check_passes" "exit $rc: $out"; fi
}

# --- lib.sh's build_key across clones: two clones of one commit share their
# builds, an edit to what is built gives a key of its own, an edit to what
# is not (docs, check.sh) does not
key_selftest() {
	local d=$T/key name want edit a b
	rm -rf "$d"; mkdir -p "$d"
	# (not the key check.sh pinned for this run)
	key() { env -u TESTBED_BUILD_KEY bash -c '. "$1/tools/testbed/lib.sh"; build_key' _ "$1"; }
	git clone -q "$REPO" "$d/a" && git clone -q "$REPO" "$d/b" ||
		{ tap_fail "testbed/build_key" "git clone of $REPO failed"; return 0; }
	a=$(key "$d/a")
	while IFS='|' read -r name want edit; do
		rm -rf "$d/c"; cp -a "$d/b" "$d/c"
		(cd "$d/c" && eval "$edit")
		b=$(key "$d/c")
		if { [ "$want" = same ] && [ "$a" = "$b" ]; } || { [ "$want" = new ] && [ "$a" != "$b" ]; }; then
			tap_ok "testbed/build_key_$name"
		else
			tap_fail "testbed/build_key_$name" "want $want key, got $a and $b"
		fi
	done <<-'EOF2'
	other_clone|same|:
	docs_edited|same|echo >>Documentation/test-bed.rst
	check_sh_edited|same|echo >>tools/testbed/check.sh
	selftest_edited|new|echo >>selftests/relay_test.c
	module_edited|new|echo >>kvm_hv_relay.c
	shim_edited|new|echo >>tools/shim/lib/spec.c
	build_sh_edited|new|echo >>tools/testbed/build.sh
	new_selftest|new|echo >selftests/relay_new.c
	EOF2
	rm -rf "$d"
}

# --- lib.sh's tap_passed (make demo-e2e's exit status), against scripted TAP
verdict_selftest() {
	local d=$T/verdict name want lines got
	mkdir -p "$d"
	while IFS='|' read -r name want lines; do
		printf '%b' "$lines" >"$d/$name.tap"
		if tap_passed "$d/$name.tap"; then got=pass; else got=fail; fi
		if [ "$got" = "$want" ]; then tap_ok "testbed/verdict_$name"
		else tap_fail "testbed/verdict_$name" "want $want, got $got"; fi
	done <<-'EOF2'
	all_ok|pass|ok - e2e/x/post\nok - e2e/x/boot\n# note\n
	one_failed|fail|ok - e2e/x/post\nnot ok - e2e/x/boot\n
	boot_failed_only|fail|not ok - e2e/x/boot # guest did not power off\n
	nothing|fail|# boot.sh: error\n
	EOF2
}

# --- unit fuzz (tools/fuzz): a short libFuzzer run over relay_input.h --------
fuzz_host() {
	local out
	out=$("$REPO/tools/fuzz/run.sh" --check 2>"$T/fuzz.log") || true
	echo "$out"
	echo "$out" | grep -qE '^(not )?ok - fuzz/' ||
		tap_fail "fuzz/relay_input" "tools/fuzz/run.sh printed no result (${T#"$REPO"/}/fuzz.log)"
}

# --- Proxmox VE: its kernels cannot be booted here, their export lists read --
# <series> <abi-prev list> <nearest Debian kernel whose build stands in>
PROXMOX_SERIES="6.8:abi-prev-6.8.12-43-pve.gz:trixie
6.14:abi-prev-6.14.11-9-bpo12-pve.gz:trixie
6.17:abi-prev-6.17.13-21-pve-amd64.gz:trixie
7.0:abi-prev-7.0.14-14-pve-amd64.gz:backports"
proxmox() {
	local d=$TB_DIR/proxmox-abi l series list k ko kver abi fake
	while IFS=: read -r series list k; do
		case " $KERNELS " in *" $k "*) ;; *) continue ;; esac
		[ -e "$T/$k.built" ] || { tap_fail "proxmox/$series/symbols" "$k was not built"; continue; }
		read -r kver ko < <(load_kernel_env "$k"; echo "$KVER $(build_dir)/kvm_hv_relay.ko")
		echo "# proxmox/$series: imports of the module as built for $k ($kver), symbols only, not booted"
		"$TB_DIR/abi-check.py" "$series" "$d/$list" "$ko" "$REPO/Kbuild" ||
			tap_fail "proxmox/$series/symbols" "abi-check.py: exit $?"
	done <<<"$PROXMOX_SERIES"
	# the checker itself: a list that exports kvm_get_kvm to KVM's vendor
	# modules only must fail (Proxmox does so for other KVM exports from 7.0)
	abi=$d/abi-prev-7.0.14-14-pve-amd64.gz fake=$T/abi-restricted.gz
	k=backports; [ -e "$T/$k.built" ] || return 0
	ko=$(load_kernel_env "$k"; echo "$(build_dir)/kvm_hv_relay.ko")
	zcat "$abi" | sed -E 's/^(EXPORT_SYMBOL[_A-Z]*[[:space:]].*0x[0-9a-f]+[[:space:]]+kvm_get_kvm([[:space:]].*)?)$/module:kvm-amd,kvm-intel \1/' |
		gzip -1 >"$fake"
	l=$("$TB_DIR/abi-check.py" self "$fake" "$ko" "$REPO/Kbuild")
	if [[ $l == "not ok - proxmox/self/symbols"*"1 restricted"* ]] && [[ $l == *"restricted: kvm_get_kvm"* ]]; then
		tap_ok "proxmox/abi-check_catches_restricted"
	else
		tap_fail "proxmox/abi-check_catches_restricted" "abi-check.py passed a list with kvm_get_kvm restricted"
		echo "$l" | sed 's/^/#   /'
	fi
}

prepare() {	# prepare <kernel>: fetch + build
	local k=$1 s
	s=$(now)
	if ! "$TB_DIR/fetch.sh" "$k" >/dev/null 2>"$T/$k-fetch.err"; then
		tap_fail "$k/fetch" "could not resolve or download the $k kernel"
		tail -n 10 "$T/$k-fetch.err" | sed 's/^/#   /'
		return 0
	fi
	echo "# $k: fetched in $(($(now) - s)) s"; s=$(now)
	"$TB_DIR/build.sh" "$k"
	echo "# $k: built in $(($(now) - s)) s"
	touch "$T/$k.built"
}

# boot <id> <name> <boot.sh arguments>: one boot, its TAP in $T/<id>.tap and
# boot.sh's messages as comments after it
boot() {
	local id=$1 name=$2
	shift 2
	# shared: check's two workers boot together; "make bench" takes it
	# exclusively so that its timings see no other emulator
	flock -s "$CACHE/locks/boot.lock" "$TB_DIR/boot.sh" "$@" >"$T/$id.tap" 2>"$T/$id.err" ||
		echo "not ok - $name/boot # boot.sh exited $?" >>"$T/$id.tap"
	sed "s/^\([^#]\)/# \1/" "$T/$id.err" >>"$T/$id.tap"
}

cell() {	# cell <kernel> <vendor>: one boot, then its parity check
	local k=$1 v=$2
	wait_for "$k-build"
	if [ -e "$T/$k.built" ]; then
		boot "$k-$v" "$k/$v" --kernel "$k" --vendor "$v" --check ${CHECK_ARGS[@]+"${CHECK_ARGS[@]}"}
		# --- parity: upstream tests' outcomes without and with the module
		# (a kernel with a plan of its own runs none: kernel_plan; nor
		# does a quick run)
		if [ -z "$(kernel_plan "$k")" ] && [ "$QUICK" = 0 ]; then
			"$TB_DIR/parity.sh" "$k/$v" <"$T/$k-$v.tap" >"$T/$k-$v.parity" 2>&1 ||
				echo "not ok - parity/$k/$v # parity.sh exited $?" >>"$T/$k-$v.parity"
			cat "$T/$k-$v.parity" >>"$T/$k-$v.tap"
		fi
	else
		{ tap_skip "$k/$v/boot" "$k was not built"
		  tap_skip "parity/$k/$v" "$k was not built"; } >"$T/$k-$v.tap"
	fi
	touch "$T/$k-$v.done"
}

e2e_cell() {	# e2e_cell <kernel> <vendor>: QEMU and a real Linux L1 in one boot
	local k=$1 v=$2 f=authorised id=e2e-$1-$2
	[ "$k" != bookworm ] || f=unauthorised
	wait_for "$k-build"
	if [ -e "$T/$k.built" ]; then
		boot "$id" "e2e/$k/$v" --kernel "$k" --vendor "$v" --e2e $f
	else
		tap_skip "e2e/$k/$v/boot" "$k was not built" >"$T/$id.tap"
	fi
	touch "$T/$id.done"
}

# The boots, as a queue that two workers (one per CPU) take from: Bochs
# boots first, since each takes several times as long as a QEMU one, so
# that they do not end up one after the other at the end.
cells=()
e2e_on() {	# e2e_on <kernel> <vendor>: an e2e boot of this run?
	lane e2e && case " $E2E_CELLS " in *" $1/$2 "*) ;; *) return 1 ;; esac
}
for v in intel amd; do
	case " $VENDORS " in *" $v "*) ;; *) continue ;; esac
	if lane matrix; then for k in $KERNELS; do ! has_vendor "$k" "$v" || cells+=("cell $k $v"); done; fi
	for k in $KERNELS; do ! e2e_on "$k" "$v" || cells+=("e2e_cell $k $v"); done
done
printf '%s\n' "${cells[@]}" >"$T/queue"
echo 0 >"$T/queue.next"
worker() {
	local i c
	while :; do
		i=$(flock "$T/queue.next" sh -c 'read -r i <"$0"; echo $((i + 1)) >"$0"; echo "$i"' \
			"$T/queue.next")
		[ "$i" -lt ${#cells[@]} ] || return 0
		# shellcheck disable=SC2086 # "<function> <kernel> <vendor>"
		${cells[$i]}
	done
}

if host; then
	part shim shim
	part fuzz fuzz_host
	part docs docs
	part packaging packaging
	part watch watch_selftest
	part health health_selftest
	part apt apt_selftest
	part disk disk_selftest
	part key key_selftest
	part verdict verdict_selftest
fi
( for k in $KERNELS; do
	prepare "$k" >"$T/$k-build.tap" 2>"$T/$k-build.err" || echo "not ok - $k/build # runner exited $?" >>"$T/$k-build.tap"
	touch "$T/$k-build.done"
  done
  if host; then
	proxmox >"$T/proxmox.tap" 2>"$T/proxmox.err" || echo "not ok - proxmox # runner exited $?" >>"$T/proxmox.tap"
	# once a kernel built in the chroot made it
	: >"$T/mounts.tap"
	for k in $KERNELS; do
		in_chroot "$k" || continue
		mount_selftest >"$T/mounts.tap" 2>"$T/mounts.err" ||
			echo "not ok - testbed/chroot_mounts_die_with_run # runner exited $?" >>"$T/mounts.tap"
		break
	done
	touch "$T/mounts.done"
  fi
  touch "$T/proxmox.done" ) &
for _ in 1 2; do worker & done

# --- expected skips: a skip that expected-skips.list does not name fails ------
xs_cell=() xs_test=() xs_line=() xs_used=()
while read -r c t r; do
	case $c in ''|'#'*) continue ;; esac
	xs_cell+=("$c") xs_test+=("$t") xs_line+=("$c $t $r") xs_used+=(0)
done <"$TB_DIR/expected-skips.list"
# cell_applies <cell> <kernel> <vendor>: does a list's cell cover this one?
# (kernel and vendor are empty for the host's own checks)
cell_applies() {
	case $1 in
	host) [ -z "$2" ] ;;
	any) [ -n "$2" ] ;;
	intel|amd) [ "$1" = "$3" ] ;;
	any/*) [ -n "$2" ] && [ "${1#any/}" = "$2" ] ;;
	*) [ "$1" = "$3/$2" ] ;;
	esac
}
# expected_skip <name> <reason>: is this skip excused? Marks the line used.
expected_skip() {
	local name=$1 k= v= t=$1 i
	case $2 in " known-bad: "*) return 0 ;; esac
	if [[ $name =~ ^([a-z]+)/(intel|amd)/(.+)$ ]]; then
		k=${BASH_REMATCH[1]} v=${BASH_REMATCH[2]} t=${BASH_REMATCH[3]}
	elif [[ $name =~ ^parity/([a-z]+)/(intel|amd)$ ]]; then
		k=${BASH_REMATCH[1]} v=${BASH_REMATCH[2]} t=parity
	fi
	for i in "${!xs_cell[@]}"; do
		# shellcheck disable=SC2053 # the list's test is a pattern
		if cell_applies "${xs_cell[$i]}" "$k" "$v" && [[ $t == ${xs_test[$i]} ]]; then
			xs_used[$i]=1
			return 0
		fi
	done
	return 1
}

# print in matrix order, numbering as we go
N=0 pass=0 fail=0 skip=0 unexpected=0
emit() {
	local l
	while IFS= read -r l; do
		if [[ $l =~ ^(not\ )?ok\ -\ (.*)$ ]]; then
			local no=${BASH_REMATCH[1]:-} rest=${BASH_REMATCH[2]}
			N=$((N + 1))
			if [ -n "$no" ]; then
				fail=$((fail + 1))
			elif [[ $rest =~ ^(.*[^ ])\ +\#\ [Ss][Kk][Ii][Pp](.*)$ ]]; then
				# (expected_skip's own matches overwrite BASH_REMATCH)
				local sname=${BASH_REMATCH[1]} swhy=${BASH_REMATCH[2]}
				if expected_skip "$sname" "$swhy"; then
					skip=$((skip + 1))
				else
					fail=$((fail + 1)) unexpected=$((unexpected + 1))
					no="not "
					rest="$sname # unexpected skip (not in expected-skips.list):$swhy"
				fi
			else
				pass=$((pass + 1))
			fi
			echo "${no}ok $N $rest"
		elif [[ $l =~ ^# ]]; then
			echo "$l"
		fi
	done <"$1"
}
order=()
! host || order+=(shim fuzz docs packaging watch health apt disk key verdict)
for k in $KERNELS; do
	order+=("$k-build")
	! lane matrix || for v in $VENDORS; do ! has_vendor "$k" "$v" || order+=("$k-$v"); done
done
for k in $KERNELS; do for v in $VENDORS; do ! e2e_on "$k" "$v" || order+=("e2e-$k-$v"); done; done
! host || order+=(proxmox mounts)
echo "TAP version 13"
for p in "${order[@]}"; do
	wait_for "$p"
	emit "$T/$p.tap"
done
wait

# where the time went: every CI log says it (test-bed.rst has the table)
echo "# timings, host seconds (the parts ran beside the builds and boots):"
for p in shim fuzz docs packaging watch health apt disk key verdict; do
	[ ! -e "$T/$p.time" ] || printf '#   part %s: %s s\n' "$p" "$(cat "$T/$p.time")"
done
for k in $KERNELS; do
	sed -n 's/^# \([a-z]*\): \(fetched\|built\) in \([0-9]*\) s$/#   \1: \2 in \3 s/p' "$T/$k-build.tap" 2>/dev/null || true
done
echo "# boots (to /init, to the test plan, whole boot; then the slowest programs, host s):"
for k in $KERNELS; do for v in $VENDORS; do
	for d in $OUT/boot/$k-$v $OUT/boot/e2e-$k-$v; do
		[ -e "$d/timing" ] || continue
		sed 's/^/#   /' "$d/timing"
		[ ! -s "$d/programs.time" ] ||
			echo "#     $(sort -rn "$d/programs.time" | head -n 6 | awk '{ printf "%s%s %s s", (NR > 1 ? ", " : ""), $3, $1 }')"
	done
done; done
# an excuse that excused nothing in a cell that ran: say so, the list is stale
# (only the matrix lane's cells use the list)
for i in "${!xs_used[@]}"; do
	host || break
	[ "${xs_used[$i]}" = 0 ] || continue
	ran=
	if cell_applies "${xs_cell[$i]}" "" ""; then ran=1; fi
	for k in $KERNELS; do for v in $VENDORS; do
		! has_vendor "$k" "$v" || ! cell_applies "${xs_cell[$i]}" "$k" "$v" || ran=1
	done; done
	[ -z "$ran" ] || echo "# expected-skips.list: no such skip in this run: ${xs_line[$i]}"
done
[ $unexpected = 0 ] || echo "# $unexpected unexpected skips: each is a failure until expected-skips.list names it"
echo "# total $(($(now) - t0)) s; logs in ${OUT#"$REPO"/}/logs/"
echo "1..$N"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
