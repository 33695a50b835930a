#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# /init of the e2e lane's L1 (Debian's kernel under QEMU on the test bed's
# L0): load KVM, run l1vmm (the L1-side VMM), then wait for L0's "bye" so
# that L0 can read the relay's per-VM counters while QEMU still runs.
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "E2E-L1: init $(uname -r)"
for m in $(cat /mods.order); do
	insmod /mods/$m.ko || echo "E2E-L1: error insmod $m"
done
dmesg | grep -E 'Hypervisor detected|Hyper-V|kvm_(intel|amd)|kvm:' | sed 's/^/E2E-L1: dmesg /'
/l1vmm
echo "E2E-L1: exit $?"
read -r _
poweroff -f
