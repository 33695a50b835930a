#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# deps.sh [--check|--list]: install the host packages the test bed needs
# (Debian 12) with apt-get, only when some are missing.
#   --check  only report missing packages (exit 1 if any)
#   --list   print the package list
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PKGS=(
	# emulators: Bochs (Intel VMX), QEMU TCG (AMD SVM)
	qemu-system-x86 bochs bochsbios vgabios
	# guest image
	busybox-static cpio gzip xz-utils zstd xorriso isolinux syslinux-common kmod
	# builds (6.1 on the host with gcc-12; trixie kernels in a debootstrapped chroot)
	build-essential gcc-12 make bc flex bison libelf-dev libssl-dev dwarves sparse perl rsync
	debootstrap debian-archive-keyring ca-certificates git util-linux procps
	# make docs-check
	python3 python3-docutils
)

if [ "${1:-}" = --list ]; then printf '%s\n' "${PKGS[@]}"; exit 0; fi
missing=()
for p in "${PKGS[@]}"; do
	case $p in \#*) continue ;; esac
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -gt 0 ] || exit 0
if [ "${1:-}" = --check ]; then
	echo "missing packages: ${missing[*]}" >&2
	exit 1
fi
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
log "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
