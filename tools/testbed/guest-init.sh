#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# /init of the test bed's initramfs (busybox-static). boot.sh writes
# /testbed/plan, which sets PFX, TMO, MODS and defines plan().
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/t/ours:/t/upstream:/t/extra
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmp /tmp
. /testbed/plan

N=0
up() { cut -d' ' -f1 /proc/uptime; }
# run1 <name> <command...>: run once, output as comments, exit code in rc
run1() {
	name=$1; shift
	s=$(up)
	timeout -k 5 "$TMO" "$@" >/tmp/out 2>&1 </dev/null &
	tp=$!
	# the console is silent while the output is collected: boot.sh's
	# watchdog takes a silent console for a hung guest.  Often, as Bochs
	# "tigerlake"'s clock runs some 40 times slower than the host's.
	( while sleep 2; do echo "TESTBED: alive $(up)"; done ) &
	hb=$!
	wait $tp
	rc=$?
	kill $hb 2>/dev/null
	wait $hb 2>/dev/null
	sed 's/^/#   /' /tmp/out
	echo "#   ($name: exit $rc, $(echo "$s $(up)" | awk '{ printf "%.1f", $2 - $1 }') s guest time)"
}
# t <name> <command...>: one TAP line; test output is shown as comments
t() {
	run1 "$@"
	note=
	result "$1"
}
# t2: t for a test known-bad.list calls flaky under emulation: a failed
# first run is shown and run again; only the second one counts
t2() {
	run1 "$@"
	note=
	case $rc in
	0|4) ;;
	*)
		note=" # first run failed (exit $rc, known flaky), passed on retry"
		run1 "$@" ;;
	esac
	result "$1"
}
result() {
	name=$1
	subn=0 subfail=0
	case $name in selftests/*) sub ;; esac
	# a program whose cases were counted is not a result of its own,
	# unless it failed in a way no case shows (a crash after the last one)
	if [ $subn -gt 0 ]; then
		case $rc in
		0|4) counted; return ;;
		124|137|143) ;;
		*) [ $subfail = 0 ] || { counted; return; } ;;
		esac
	fi
	N=$((N + 1))
	case $rc in
	0) echo "ok $N $PFX/$name$note" ;;
	4) echo "ok $N $PFX/$name # SKIP $(grep -v '^$' /tmp/out | tail -n1 | tr -d '#' |
		sed 's/^1\.\.0 *//; s/^ *SKIP[ -]*//')" ;;
	124|137|143) echo "not ok $N $PFX/$name # timed out after $TMO s" ;;
	*) echo "not ok $N $PFX/$name # exit $rc" ;;
	esac
}
counted() { echo "TESTBED: counted $PFX/$name exit $rc, $subn cases"; }
# sub: our selftests print one TAP line per case (relay_post_slow, ...):
# count each as a result of its own, prefixed with kernel and vendor.
sub() {
	grep -E '^(not )?ok [0-9]+ ' /tmp/out >/tmp/sub || return 0
	while read -r line; do
		N=$((N + 1)) subn=$((subn + 1))
		st=ok; case $line in "not ok "*) st="not ok" subfail=1 ;; esac
		rest=${line#"$st "}; rest=${rest#* }
		case $rest in
		"# SKIP "*)
			rest=${rest#"# SKIP "}; n=${rest%%[: ]*}; why=${rest#"$n"}
			echo "$st $N $PFX/$n # SKIP${why#:}" ;;
		*) echo "$st $N $PFX/$rest" ;;
		esac
	done </tmp/sub
}
# r <command line>: run a program for a person, output as is
r() {
	echo "TESTBED: run: $*"
	timeout -k 5 "$TMO" sh -c "$*" </dev/null 2>&1
	echo "TESTBED: exit $?"
}

echo "TESTBED: start $PFX $(uname -r)"
# 1 on a PREEMPT_RT kernel (the file exists only there)
echo "TESTBED: realtime=$(cat /sys/kernel/realtime 2>/dev/null || echo 0) $(uname -v)"
for m in $MODS; do
	p=
	case $m in kvm_intel|kvm_amd) p=nested=1 ;; esac
	insmod /lib/mods/$m.ko $p || echo "TESTBED: insmod $m failed"
done
for v in kvm_intel kvm_amd; do
	[ -d /sys/module/$v ] && echo "TESTBED: $v nested=$(cat /sys/module/$v/parameters/nested)" \
		"ept/npt=$(cat /sys/module/$v/parameters/ept /sys/module/$v/parameters/npt 2>/dev/null)"
done
echo "TESTBED: taint-before=$(cat /proc/sys/kernel/tainted)"
echo "TESTBED: plan"
plan
echo "TESTBED: tainted=$(cat /proc/sys/kernel/tainted)"
echo "TESTBED: dmesg"
dmesg
# Last, as it kills its writer with an oops: an indirect call IBT must trap
# (relay_testmod's "ibt"); boot.sh looks for its "Missing ENDBR" report.
if [ "${IBT_PROBE:-0}" = 1 ]; then
	echo "TESTBED: ibt-probe"
	[ -d /sys/module/relay_testmod ] || insmod /lib/mods/relay_testmod.ko
	sh -c 'echo 1 >/sys/kernel/debug/relay_testmod/ibt'
	echo "TESTBED: ibt-probe exit $?"
	sleep 2
fi
echo "TESTBED: end"
# the serial port of Bochs lags: give it a moment before powering off
sleep 3
poweroff -f
