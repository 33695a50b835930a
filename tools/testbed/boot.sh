#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# boot.sh --kernel <bookworm|trixie|backports|rt> --vendor <intel|amd> MODE [options]
#
# Boot one Debian kernel under emulation (intel: Bochs, amd: QEMU TCG) with a
# busybox initramfs that loads kvm + the vendor module (nested=1).
# Modes:
#   --e2e <flavour>    the e2e lane (tools/testbed/e2e): Debian's QEMU in the
#                      guest boots the same kernel as L1, whose own L2 calls
#                      with the nested bit; "authorised" (three L1 runs: relay
#                      absent, attached without and with vmbus) or
#                      "unauthorised" (one run, QEMU without direct hypercalls)
#   --check            the test plan: upstream tests without our module
#                      ("stock/"), insmod, selftests/*, upstream again
#                      ("relay/"), rmmod. Prints unnumbered TAP lines.
#   --run "prog args"  (repeatable) load kvm_hv_relay, run the programs (our
#                      selftests, upstream tests and --prog files are on PATH)
#                      and print their output. Exit status 1 if any failed.
# Options:
#   --prog <file>      add a host program to the guest's PATH (/t/extra)
#   --no-relay         --run without loading kvm_hv_relay
#   --console          stream the serial console to the terminal (stderr)
#   --tag <tag>        log name suffix for --run (default "run")
#   --timeout <s>      per-program timeout in guest seconds (default 120)
#   --watchdog <s>     host ceiling for the whole boot (default from the plan);
#                      in --check, a console silent for 900 s after /init
#                      starts (the guest prints a line every 2 guest
#                      seconds) ends the boot sooner
#   --qemu-arg <arg>   (repeatable, amd) extra QEMU argument, e.g. "-icount"
#                      "shift=0" for a guest TSC that counts instructions
#   --relay-ko <file>  boot this kvm_hv_relay.ko instead of the one built
#                      for the kernel (e.g. an older commit's, to show a test
#                      failing without a fix)
#   --l1-kernel <k>    (--e2e) boot kernel <k> and its KVM as L1 instead
#   --reps brief|full  (--check) our selftests' repetitions: "full" runs
#                      each with its "testbed-args:", "brief" with its
#                      "testbed-args-brief:" where it has one (fewer stress
#                      cycles, every path still taken); default brief on
#                      Intel (Bochs, some ten times slower), full on AMD
#   --ours-only        (--check) our selftests only: no upstream tests, so
#                      no parity pass either (make check-quick)
# Needs build.sh <kernel> to have run. Logs: out/logs/<kernel>-<vendor>[-tag].log
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel= vendor= mode= flavour= relay=1 console=0 tag=run tmo=120 watchdog= relay_ko= l1_kernel=
reps= ours_only=0
runs=() progs=() qemu_args=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift ;;
	--vendor) vendor=$2; shift ;;
	--check) mode=check ;;
	--e2e) mode=e2e; flavour=$2; shift ;;
	--run) mode=run; runs+=("$2"); shift ;;
	--prog) progs+=("$2"); shift ;;
	--no-relay) relay=0 ;;
	--console) console=1 ;;
	--tag) tag=$2; shift ;;
	--timeout) tmo=$2; shift ;;
	--watchdog) watchdog=$2; shift ;;
	--qemu-arg) qemu_args+=("$2"); shift ;;
	--relay-ko) relay_ko=$2; shift ;;
	--l1-kernel) l1_kernel=$2; shift ;;
	--reps) reps=$2; shift ;;
	--ours-only) ours_only=1 ;;
	*) die "boot.sh: unknown argument '$1'" ;;
	esac
	shift
done
[ -n "$kernel" ] && [ -n "$vendor" ] && [ -n "$mode" ] || die "usage: boot.sh --kernel K --vendor V --check|--run CMD"
case $vendor in intel|amd) ;; *) die "vendor must be intel or amd" ;; esac
[ -n "$reps" ] || { reps=full; [ $vendor != intel ] || reps=brief; }
case $reps in brief|full) ;; *) die "--reps brief|full" ;; esac
load_kernel_env "$kernel"
kill_children_on_exit
B=$(build_dir)
[ -d "$B/bin" ] || die "nothing built for $kernel from these sources: run tools/testbed/build.sh $kernel"
# held while the boot reads the build: build.sh prunes only builds nobody holds
exec {build_lock}>"$B.lock"
flock -s "$build_lock"

PFX=$kernel/$vendor
id=$kernel-$vendor
case $mode in
check) ;;
e2e)
	case $flavour in authorised|unauthorised) ;; *) die "--e2e authorised|unauthorised" ;; esac
	PFX=e2e/$kernel/$vendor id=e2e-$kernel-$vendor ;;
*) id=$id-$tag ;;
esac
W=$OUT/boot/$id
LOG=$OUT/logs/$id.log
rm -rf "$W"; mkdir -p "$W/root"/{bin,lib/mods,t/upstream,t/ours,t/extra,testbed} "$OUT/logs"
R=$W/root

# Intel cells of kernels built with CONFIG_X86_KERNEL_IBT boot on Bochs' one
# CET model, tigerlake, with IBT enforced, and end with the IBT probe; 6.1
# has no kernel IBT and stays on Haswell.  So does 7.3: on tigerlake it
# panics at boot, before any module, in fpstate_reset() called from
# fpu__init_system_xstate() (a NULL pointer once the kernel gives up on the
# XSAVE layout Bochs reports; measured in a make check run, 2026-12-02).
IBT_NO_BOOT="backports"
cpu_model=corei7_haswell_4770 ibt=0
kconfig=$KHDR/.config; ! in_chroot "$kernel" || kconfig=$CHROOT$KHDR/.config
[ -e "$kconfig" ] || die "no kernel config at $kconfig"
if [ $vendor = intel ] && grep -q '^CONFIG_X86_KERNEL_IBT=y' "$kconfig"; then
	case " $IBT_NO_BOOT " in
	*" $kernel "*) log "$PFX: stays on Haswell, IBT not enforced: the kernel does not boot on Bochs' tigerlake" ;;
	*) cpu_model=tigerlake ibt=1 ;;
	esac
fi

# --- modules: vendor module and its dependencies, decompressed ----------------
modfile() { find -L "$KMODS" -name "$1.ko" -o -name "$1.ko.xz" -o -name "$1.ko.zst" | head -n1; }
MODS= MODDIR=$R/lib/mods
addmod() {	# addmod <name>: from $KMODS into $MODDIR, dependencies first
	local n=${1//-/_} f d
	case " $MODS " in *" $n "*) return 0 ;; esac
	f=$(modfile "$n"); [ -n "$f" ] || f=$(modfile "${1//_/-}")
	[ -n "$f" ] || die "$KMODS: module $1 not found"
	for d in $(modinfo -F depends "$f" | tr ',' ' '); do addmod "$d"; done
	case $f in
	*.xz) xz -dc "$f" >"$MODDIR/$n.ko" ;;
	*.zst) zstd -q -dc "$f" >"$MODDIR/$n.ko" ;;
	*) cp "$f" "$MODDIR/$n.ko" ;;
	esac
	MODS="$MODS $n"
}
addmod "kvm-$vendor"
[ -n "$relay_ko" ] || relay_ko=$B/kvm_hv_relay.ko
[ -e "$relay_ko" ] || [ "$relay_ko" = "$B/kvm_hv_relay.ko" ] || die "--relay-ko $relay_ko: no such file"
if [ -e "$relay_ko" ]; then
	cp "$relay_ko" "$R/lib/mods/kvm_hv_relay.ko"
	for d in $(modinfo -F depends "$relay_ko" | tr ',' ' '); do addmod "$d"; done
fi
# selftests' test-only module (selftests/kmod) and a vendor module whose BTF
# differs from the genuine one's (build.sh): never loaded by /init
[ ! -e "$B/relay_testmod.ko" ] || cp "$B/relay_testmod.ko" "$R/lib/mods/relay_testmod.ko"
[ ! -e "$B/kvm_${vendor}_btfmod.ko" ] ||
	cp "$B/kvm_${vendor}_btfmod.ko" "$R/lib/mods/kvm_${vendor}_btfmod.ko"

# --- test programs --------------------------------------------------------------
is_vendor() { [ "$1" = any ] || [ "$1" = "$vendor" ]; }
known_bad() {	# known_bad <name>: prints the reason
	sed -e 's/^[[:space:]]*#.*//' "$TB_DIR/known-bad.list" |
		awk -v v="$vendor" -v k="$kernel" -v n="$1" '
			($1 == v || $1 == "any" || $1 == v "/" k || $1 == "any/" k) && $2 == n {
				$1 = ""; $2 = ""; sub(/^ +/, ""); print; exit
			}'
}
# runner <name>: "t", or "t2" (one retry after a failure) for a flaky: entry
runner() {
	if why=$(known_bad "flaky:$1") && [ -n "$why" ]; then echo t2; else echo t; fi
}
declare -a expect=() pre=() upstream=() ours=()
skips=()
shopt -s nullglob
# the e2e lane runs no test program of its own: it reads no list
names=$B/upstream.names ourbins=("$B"/bin/ours/*)
[ $mode != e2e ] || names=/dev/null ourbins=()
while read -r v n st; do
	[ -n "$v" ] && is_vendor "$v" || continue
	case " ${upstream[*]} " in *" $n "*) continue ;; esac
	if [ "$st" != ok ]; then
		skips+=("stock/$n|not in this kernel's tree")
	elif [ ! -x "$B/bin/upstream/$n" ]; then
		skips+=("stock/$n|did not build (see the build line)")
	elif why=$(known_bad "$n") && [ -n "$why" ]; then
		skips+=("stock/$n|known-bad: $why")
	else
		upstream+=("$n"); cp "$B/bin/upstream/$n" "$R/t/upstream/"
	fi
done <"$names"
for f in ${ourbins[@]+"${ourbins[@]}"}; do
	n=${f##*/}
	if why=$(known_bad "$n") && [ -n "$why" ]; then
		skips+=("selftests/$n|known-bad: $why")
	else
		ours+=("$n"); cp "$f" "$R/t/ours/"
	fi
done
# a kernel with a plan of its own (kernel_plan in lib.sh): only those of
# our selftests, and no upstream test, so no parity pass either
sel=$(kernel_plan "$kernel")
if [ -n "$sel" ] && [ $mode = check ]; then
	keep=() kept_skips=()
	for n in ${ours[@]+"${ours[@]}"}; do
		case " $sel " in *" $n "*) keep+=("$n") ;; *) rm -f "$R/t/ours/$n" ;; esac
	done
	for s in ${skips[@]+"${skips[@]}"}; do
		n=${s%%|*}; n=${n#selftests/}
		case " $sel " in *" $n "*) kept_skips+=("$s") ;; esac
	done
	ours=(${keep[@]+"${keep[@]}"}) skips=(${kept_skips[@]+"${kept_skips[@]}"}) upstream=()
	rm -f "$R"/t/upstream/*
	log "$PFX: the plan of this kernel (kernel_plan): ${ours[*]}"
fi
# --ours-only: the edit-build-test loop's plan, no upstream test
if [ $ours_only = 1 ] && [ $mode = check ]; then
	kept_skips=()
	for s in ${skips[@]+"${skips[@]}"}; do
		case $s in selftests/*) kept_skips+=("$s") ;; esac
	done
	skips=(${kept_skips[@]+"${kept_skips[@]}"}) upstream=()
	rm -f "$R"/t/upstream/*
fi
# programs built for selftests to run (the static kvm-hv-relay CLI)
for f in "$B"/bin/extra/*; do cp "$f" "$R/t/extra/"; done
for p in "${progs[@]}"; do cp "$p" "$R/t/extra/"; done

# --- e2e: QEMU, its libraries and firmware, L1's kernel and initramfs ---------
e2e_payload() {
	local E=$R/e2e L=$W/l1 q=/usr/bin/qemu-system-x86_64 f m
	mkdir -p "$E/lib" "$E/fw" "$L/mods" "$L/bin"
	cp "$q" "$E/"
	ldd "$q" | awk '/=> \//{ print $3 } /^\t\/lib64\//{ print $1 }' | while read -r f; do
		cp -L "$f" "$E/lib/"
	done
	for f in /usr/share/seabios/bios-256k.bin /usr/share/qemu/linuxboot_dma.bin \
		/usr/share/qemu/kvmvapic.bin; do cp -L "$f" "$E/fw/"; done
	cp "$TB_DIR/e2e/l0.sh" "$R/testbed/e2e-l0.sh"
	# L1: the same kernel's KVM (or --l1-kernel's), busybox, the L1-side VMM
	[ -x "$B/l1vmm" ] || die "no l1vmm for $kernel: its build failed (build.sh)"
	cp "$B/l1vmm" "$L/l1vmm"
	if [ -n "$l1_kernel" ]; then
		read -r f m < <(load_kernel_env "$l1_kernel"; echo "$VMLINUZ $KMODS")
		cp "$f" "$E/vmlinuz"
		# shellcheck disable=SC2086 # one module name per line
		(KMODS=$m MODDIR=$L/mods MODS=; addmod "kvm-$vendor"; printf '%s\n' $MODS) \
			>"$L/mods.order"
	else
		cp "$VMLINUZ" "$E/vmlinuz"
		for m in $MODS; do cp "$R/lib/mods/$m.ko" "$L/mods/"; echo "$m"; done >"$L/mods.order"
	fi
	install -m 0755 "$TB_DIR/e2e/l1-init.sh" "$L/init"
	cp /bin/busybox "$L/bin/busybox"
	(cd "$L" && find . | cpio -o -H newc --quiet | gzip -1) >"$E/l1-initrd.gz"
}

# --- the plan -----------------------------------------------------------------
{
	echo "PFX=$PFX"
	# the probe oopses on purpose: only in the matrix, not in runs by hand
	[ $mode = check ] && echo "IBT_PROBE=$ibt" || echo "IBT_PROBE=0"
	echo "TMO=$tmo"
	echo "MODS='$MODS'"
	echo "plan() {"
	if [ $mode = e2e ]; then
		echo "	PFX=$PFX sh /testbed/e2e-l0.sh /lib/mods/kvm_hv_relay.ko $vendor $flavour"
		if [ "$flavour" = unauthorised ]; then expect+=(unauthorised/post)
		else expect+=(relay_absent/post no_vmbus/post vmbus/post); fi
	elif [ $mode = check ]; then
		for n in "${upstream[@]}"; do echo "	$(runner "$n") stock/$n /t/upstream/$n"; expect+=("stock/$n"); done
		echo "	t insmod insmod /lib/mods/kvm_hv_relay.ko"; expect+=(insmod)
		# srcarg <suffix> <name>: its "testbed-args<suffix>:" line
		srcarg() {
			sed -n "s/.*testbed-args$1:[[:space:]]*\(.*\)\$/\1/p" "$REPO/selftests/$2.c" \
				2>/dev/null | head -n1
		}
		# ours_line <name>: its plan line
		ours_line() {
			local a to
			# optional arguments, the first found of: "testbed-args-<kernel>:"
			# for this kernel, "testbed-args-brief:" for brief repetitions,
			# "testbed-args:"
			a=$(srcarg "-$kernel" "$1")
			[ -n "$a" ] || [ $reps != brief ] || a=$(srcarg -brief "$1")
			[ -n "$a" ] || a=$(srcarg "" "$1")
			a=$(echo "$a" | sed 's#[[:space:]]*\*/[[:space:]]*$##')
			# a longer guest timeout: a "testbed-timeout: <s>" line
			to=$(sed -n 's/.*testbed-timeout:[[:space:]]*\([0-9][0-9]*\).*$/\1/p' \
				"$REPO/selftests/$1.c" 2>/dev/null | head -n1)
			if [ -n "$to" ]; then
				echo "	TMO=$to; t selftests/$1 /t/ours/$1 $a; TMO=$tmo"
			else
				echo "	t selftests/$1 /t/ours/$1 $a"
			fi
		}
		# a "testbed-last" line: run after rmmod, as the plan's last step
		# (it leaves the host unfit for more tests: relay_vmxoff)
		last=()
		for n in "${ours[@]}"; do
			if grep -q 'testbed-last' "$REPO/selftests/$n.c" 2>/dev/null; then
				last+=("$n"); continue
			fi
			ours_line "$n"; expect+=("selftests/$n")
		done
		# parity: the relay/ pass runs with another relay VM held alive
		# (selftests/relay_hold.c); tools/testbed/parity.sh compares outcomes
		hold=; [ ! -e "$R/t/ours/relay_hold" ] || [ ${#upstream[@]} = 0 ] || hold=1
		if [ -n "$hold" ]; then
			echo "	t parity-holder/start /t/ours/relay_hold --start"; expect+=(parity-holder/start)
		fi
		for n in "${upstream[@]}"; do echo "	$(runner "$n") relay/$n /t/upstream/$n"; expect+=("relay/$n"); done
		if [ -n "$hold" ]; then
			echo "	t parity-holder/stop /t/ours/relay_hold --stop"; expect+=(parity-holder/stop)
		fi
		echo "	t rmmod rmmod kvm_hv_relay"; expect+=(rmmod)
		for n in ${last[@]+"${last[@]}"}; do ours_line "$n"; expect+=("selftests/$n"); done
	else
		[ $relay = 0 ] || echo "	r insmod /lib/mods/kvm_hv_relay.ko"
		for c in "${runs[@]}"; do
			# selftests find their own ELF through argv[0]: give a path
			w=${c%% *}
			for d in ours upstream extra; do
				[ ! -e "$R/t/$d/$w" ] || { c="/t/$d/$c"; break; }
			done
			printf '\tr %q\n' "$c"
		done
	fi
	echo "	:"
	echo "}"
} >"$R/testbed/plan"
[ $mode != e2e ] || e2e_payload
install -m 0755 "$TB_DIR/guest-init.sh" "$R/init"
cp /bin/busybox "$R/bin/busybox"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$W/initrd.gz"

# --- boot -----------------------------------------------------------------------
n_tests=$(( ${#expect[@]} + ${#runs[@]} ))
# slub_debug: redzones, poisoning and sanity checks catch our overruns and
# use-after-free where they happen (Debian kernels honour it as built).  On
# the caches our objects (kmalloc-*) and KVM's (kvm_*) live in: on every
# cache it made an Intel boot 15-22 % slower, mostly for the process and VM
# churn of relay_lifecycle in caches neither ever uses.
APPEND="console=ttyS0,115200 panic=-1 loglevel=5 slub_debug=FZPU,kmalloc-*,kvm_*,x86_emulator"
# Bochs 2.7 mishandles user shadow-stack state; kernel IBT is unaffected
[ $ibt = 0 ] || APPEND+=" nousershstk"
# Bochs' TSC counts its instructions, "ips" (200 M) to the emulated second;
# tigerlake's CPUID leaf 0x15 claims 2.4 GHz, which the kernel takes on trust:
# its clock ran 37 times slower than the host's, so every timed wait (a grace
# period, a sleep) cost 12 times the instructions it does on Haswell, whose
# TSC the kernel calibrates.  Booting with the frequency Bochs delivers lets
# the kernel's own refinement against the PM timer confirm it.
[ $cpu_model != tigerlake ] || APPEND+=" tsc_early_khz=200000"
: >"$LOG"
if [ $vendor = intel ]; then
	[ $mode != e2e ] || [ -n "$watchdog" ] || watchdog=1800
	# a ceiling only (a hung guest is the stall check's): a cold CI run
	# has seen 2.5 times the warm time with the builds beside it
	[ -n "$watchdog" ] || watchdog=$((600 + 60 * n_tests))
	# a plan of our selftests only (kernel_plan): each costs several
	# upstream tests' time (relay_lifecycle -q alone some 300 s)
	[ -z "$(kernel_plan "$kernel")" ] || [ $watchdog -ge 2400 ] || watchdog=2400
	mkdir -p "$W/iso/isolinux"
	cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$W/iso/isolinux/"
	cp "$VMLINUZ" "$W/iso/vmlinuz"; cp "$W/initrd.gz" "$W/iso/initrd.gz"
	cat >"$W/iso/isolinux/isolinux.cfg" <<-EOF
	SERIAL 0 115200
	DEFAULT linux
	PROMPT 0
	TIMEOUT 0
	LABEL linux
	  KERNEL /vmlinuz
	  INITRD /initrd.gz
	  APPEND $APPEND
	EOF
	xorriso -as mkisofs -quiet -o "$W/boot.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat \
		-no-emul-boot -boot-load-size 4 -boot-info-table "$W/iso" 2>"$W/xorriso.log"
	cat >"$W/bochsrc" <<-EOF
	megs: 1024
	cpu: model=$cpu_model, count=1, ips=200000000, reset_on_triple_fault=1
	clock: sync=none, time0=local
	display_library: rfb, options="timeout=0"
	romimage: file=/usr/share/bochs/BIOS-bochs-latest
	vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
	pci: enabled=1, chipset=i440fx
	ata0-master: type=cdrom, path="$W/boot.iso", status=inserted
	boot: cdrom
	com1: enabled=1, mode=file, dev="$LOG"
	usb_uhci: enabled=0
	speaker: enabled=0
	sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
	panic: action=fatal
	log: $W/bochs.log
	EOF
	echo c >"$W/bochs.cmd"
	cmd=(bochs-bin -q -f "$W/bochsrc" -rc "$W/bochs.cmd")
else
	[ $mode != e2e ] || [ -n "$watchdog" ] || watchdog=900
	[ -n "$watchdog" ] || watchdog=$((120 + 20 * n_tests))
	cmd=(qemu-system-x86_64 -accel tcg -cpu max -m 2G -smp 1 -nographic -no-reboot
		-kernel "$VMLINUZ" -initrd "$W/initrd.gz" -append "$APPEND" ${qemu_args[@]+"${qemu_args[@]}"})
fi

log "boot $PFX ($KVER): ${#upstream[@]} upstream, ${#ours[@]} selftests, watchdog ${watchdog}s"
t0=$(now)
if [ $vendor = intel ]; then
	"${cmd[@]}" </dev/null >"$W/emulator.out" 2>&1 &
else
	"${cmd[@]}" </dev/null >"$LOG" 2>"$W/emulator.out" &
fi
pid=$!
tailpid=
if [ $console = 1 ]; then tail -n +1 -F "$LOG" 2>/dev/null | tr -d '\r' >&2 & tailpid=$!; fi
# A check's tests print a heartbeat every 2 guest seconds: up to 75 host
# seconds apart on Bochs "tigerlake", whose guest clock was measured 37 times
# slower than the host's.  The e2e lane's script and --run's programs have
# none: only the ceiling ends them.
STALL=900; [ $mode = check ] || STALL=$watchdog
watch_console $pid "$LOG" "$watchdog" $STALL
kill -0 $pid 2>/dev/null && { kill $pid 2>/dev/null; sleep 1; kill -9 $pid 2>/dev/null || true; }
wait $pid 2>/dev/null || true
t_total=$(($(now) - t0))
[ -z "$tailpid" ] || { sleep 1; kill "$tailpid" 2>/dev/null || true; }
tr -d '\r' <"$LOG" >"$LOG.tmp" && mv "$LOG.tmp" "$LOG"
[ $vendor = amd ] || cat "$W/emulator.out" >>"$W/bochs.log" 2>/dev/null || true
[ $fate != stall ] || echo "# $PFX: the console was silent for $STALL s: hung" >&2
echo "# $PFX: init after ${t_init:-?} s, plan from ${t_plan:-?} s, ${t_total} s total ($fate)" >&2
echo "$PFX init=${t_init:-} plan=${t_plan:-} total=$t_total fate=$fate tests=$n_tests" >"$W/timing"
# host seconds of each program of the plan ("<host s> <guest s> <name>"): from
# the host second each console line arrived at, program end to program end
awk '{ t = $1; l = $0; sub(/^[0-9]+ /, "", l); sub(/\r$/, "", l) }
	l ~ /^TESTBED: plan/ { last = t }
	l ~ /^#   \(.*: exit -?[0-9]+, [0-9.]+ s guest time\)$/ {
		n = l; sub(/^#   \(/, "", n); g = n
		sub(/: exit .*/, "", n); sub(/.*, /, "", g); sub(/ s guest time\)$/, "", g)
		printf "%d %s %s\n", t - last, g, n; last = t
	}' "$LOG.times" >"$W/programs.time" 2>/dev/null || true

# --- health of the boot: anything the kernel complained about -----------------
# (kernel_lines in lib.sh: what is tolerated and why)
t_probe=$(grep -a -o '\[ *[0-9]*\.[0-9]*\] relay_testmod: ibt: indirect call' "$LOG" |
	head -n 1 | sed 's/^\[ *\([0-9.]*\)\].*/\1/' || true)
kmsgs=$(kernel_lines "$LOG" "$vendor" "$kernel" "$t_probe")
bad=$(echo "$kmsgs" | grep -E 'WARNING:|BUG:|Oops|general protection|Call Trace|Kernel panic|RIP:' | head -n 10 || true)
# taint the plan added: anything but O (out-of-tree module, bit 12) and E
# (unsigned module, bit 13), which loading ours must add, is a finding
t_before=$(sed -n 's/^TESTBED: taint-before=\([0-9]*\).*/\1/p' "$LOG" | head -n1)
t_after=$(sed -n 's/^TESTBED: tainted=\([0-9]*\).*/\1/p' "$LOG" | head -n1)
new_taint=
if [ -n "$t_before" ] && [ -n "$t_after" ]; then
	new_taint=$(( t_after & ~t_before & ~((1 << 12) | (1 << 13)) ))
	# W (bit 9) from a warning known-bad.list tolerates in the plan (@after:)
	! grep -q '^TOLERATED-IN-PLAN: ' <<<"$kmsgs" || new_taint=$(( new_taint & ~(1 << 9) ))
	[ "$new_taint" != 0 ] || new_taint=
fi
taint_letters() {	# the kernel's letters for the bits of $1 (tainted_flags order)
	local l=PFSRMBUDAWCIOELKXTN b s=
	for ((b = 0; b < ${#l}; b++)); do (( ($1 >> b) & 1 )) && s+=${l:b:1}; done
	echo "${s:-?}"
}
health() {
	if [ $fate != poweroff ]; then
		tap_fail "$PFX/boot" "guest did not power off ($fate after ${t_total} s): see ${LOG#"$REPO"/}"
		grep -v '^#' "$LOG" | tail -n 12 | sed 's/^/#   /'
	elif [ -n "$bad" ]; then
		tap_fail "$PFX/boot" "kernel warnings in ${LOG#"$REPO"/}"
		echo "$bad" | sed 's/^/#   /'
	elif [ -n "$new_taint" ]; then
		tap_fail "$PFX/boot" "the plan tainted the kernel: $t_before -> $t_after, new $(
			taint_letters "$new_taint") (see ${LOG#"$REPO"/})"
	elif [ -z "$t_after" ] && [ $mode != run ]; then
		tap_fail "$PFX/boot" "no taint record after the plan"
	else
		tap_ok "$PFX/boot"
	fi
	echo "$kmsgs" | grep '^TOLERATED: ' | sort | uniq -c | sed 's/^ */# known emulator warning (known-bad.list), x/' || true
	[ $ibt = 0 ] || [ $mode != check ] || ibt_trapped
	[ $mode != check ] || ! grep -q '^CONFIG_PREEMPT_RT=y' "$kconfig" || preempt_rt
}
# preempt_rt: a kernel built PREEMPT_RT ran as one, so that the cell's
# results are a PREEMPT_RT kernel's (spinlock_t sleeps there)
preempt_rt() {
	local l
	l=$(grep -a -m1 '^TESTBED: realtime=' "$LOG" || true)
	case $l in
	"TESTBED: realtime=1 "*PREEMPT_RT*) tap_ok "$PFX/preempt_rt"; echo "# ${l#TESTBED: }" ;;
	*) tap_fail "$PFX/preempt_rt" "the guest did not run a PREEMPT_RT kernel: ${l:-no realtime line}" ;;
	esac
}
# ibt_trapped: the IBT probe at the end of the boot (relay_testmod's "ibt")
# must have been trapped: a "Missing ENDBR" report naming its target
ibt_trapped() {
	if ! grep -aq 'CET detected: Indirect Branch Tracking enabled' "$LOG"; then
		tap_fail "$PFX/ibt_trapped" "the kernel did not enable IBT on this CPU model"
	elif [ -z "$t_probe" ]; then
		tap_fail "$PFX/ibt_trapped" "the IBT probe did not run (no relay_testmod \"ibt:\" line)"
		grep -a -E 'relay_testmod|TESTBED: ibt' "$LOG" | head -n 5 | sed 's/^/#   /'
	elif grep -aq 'Missing ENDBR: testmod_ibt_target' "$LOG" &&
	     ! grep -aq 'relay_testmod: ibt: the call returned' "$LOG"; then
		tap_ok "$PFX/ibt_trapped"
		grep -a -o 'Missing ENDBR: testmod_ibt_target[^ ]*' "$LOG" | head -n 1 | sed 's/^/#   /'
	else
		tap_fail "$PFX/ibt_trapped" "an indirect call to a non-ENDBR address was not trapped"
		grep -a -E 'relay_testmod: ibt|ENDBR|TESTBED: ibt' "$LOG" | head -n 5 | sed 's/^/#   /'
	fi
}

if [ $mode != run ]; then
	for s in ${skips[@]+"${skips[@]}"}; do
		n=${s%%|*} why=${s#*|}
		tap_skip "$PFX/$n" "$why"
		[ "${n#stock/}" = "$n" ] || tap_skip "$PFX/relay/${n#stock/}" "$why"
	done
	declare -A seen=()
	while IFS= read -r l; do
		if [[ $l =~ ^(not\ )?ok\ [0-9]+\ ([^ ]+)(.*)$ ]]; then
			n=${BASH_REMATCH[2]#"$PFX"/}
			seen[$n]=1
			echo "${BASH_REMATCH[1]:-}ok - $PFX/$n${BASH_REMATCH[3]:-}"
		elif [[ $l =~ ^TESTBED:\ counted\ ([^ ]+)\ (.*)$ ]]; then
			# its cases were the results; the program ran to its end
			n=${BASH_REMATCH[1]#"$PFX"/}
			seen[$n]=1
			echo "# $PFX/$n: ${BASH_REMATCH[2]}"
		fi
	done < <(sed -n '/^TESTBED: plan/,/^TESTBED: tainted/p' "$LOG")
	for n in "${expect[@]}"; do
		[ -n "${seen[$n]:-}" ] || tap_fail "$PFX/$n" "no result (guest stopped: $fate)"
	done
	health
	# the shim's leaves against those QEMU built for L1 (issue 14)
	[ $mode != e2e ] || python3 "$TB_DIR/e2e/cpuid-check.py" "$LOG" "$PFX/cpuid_vs_shim" \
		"$kernel-$vendor-$flavour" || true
else
	sed -n '/^TESTBED: plan/,/^TESTBED: tainted/p' "$LOG" | sed '1d;$d'
	h=$(health)
	echo "$h" | grep -q '^not ok' && { echo "$h" >&2; exit 1; }
	! grep -qE '^TESTBED: exit [1-9]' "$LOG" || exit 1
fi
exit 0
