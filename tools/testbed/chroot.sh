#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# chroot.sh ensure                      create the trixie build chroot if missing
# chroot.sh headers <kernel-name>       install that kernel's headers in it
# chroot.sh run <cmd> [args...]         run a command inside, repo visible at its own path
#
# Trixie and backports kernels need glibc >= 2.38 and gcc-14 to build modules:
# one debootstrapped trixie chroot in the cache serves both.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Its mounts (proc, the clone, the cache) live in a mount namespace of its
# own, which goes with the last process in it however that ends (a kill, a
# timeout, a full disk): none outlives the run, and no rm -rf of the cache or
# of a clone can reach through one.  The host never sees them.
if [ -z "${TESTBED_MOUNT_NS:-}" ]; then
	TESTBED_MOUNT_NS=$$ exec unshare --mount --propagation private "$0" "$@"
fi

# uuid-dev: the 7.x selftest library links libvfio, which uses libuuid;
# zstd: the module's btf_facts reads BTF out of 7.x's zstd-compressed vmlinuz
PKGS=gcc-14,gcc,make,libc6-dev,libelf-dev,sparse,rsync,perl,bc,flex,bison,xz-utils,zstd,binutils,uuid-dev

ensure() {
	if [ -e "$CHROOT/.ready" ]; then
		[ "$(cat "$CHROOT/.ready")" = "$PKGS" ] && return 0
		log "installing missing packages in the chroot"
		enter
		in_root apt-get -q -q update >&2 && rm -f "$CHROOT/.need-update"
		in_root apt-get -q -q install -y --no-install-recommends ${PKGS//,/ } >&2
		echo "$PKGS" >"$CHROOT/.ready"
		return 0
	fi
	command -v debootstrap >/dev/null || die "debootstrap missing (make deps)"
	local m s t0
	m=$(mirror_uri); s=$(security_uri); t0=$(now)
	log "debootstrap trixie into $CHROOT"
	rm -rf "$CHROOT"; mkdir -p "$CHROOT"
	debootstrap --variant=minbase --include="$PKGS" trixie "$CHROOT" "$m" >"$CACHE/debootstrap.log" 2>&1 ||
		{ tail -n 30 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
	cat >"$CHROOT/etc/apt/sources.list" <<-EOF
	deb $m trixie main
	deb $m trixie-updates main
	deb $s trixie-security main
	deb $m trixie-backports main
	EOF
	rm -f "$CHROOT/etc/apt/sources.list.d/"*
	mkdir -p "$CHROOT/tmp" && chmod 1777 "$CHROOT/tmp"
	touch "$CHROOT/.need-update"
	echo "$PKGS" >"$CHROOT/.ready"
	log "chroot ready in $(($(now) - t0)) s"
}

MOUNTED=()
cleanup() {
	local i
	for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do umount "${MOUNTED[$i]}" 2>/dev/null || umount -l "${MOUNTED[$i]}" || true; done
}
enter() {
	[ ${#MOUNTED[@]} -eq 0 ] || return 0
	trap cleanup EXIT
	mkdir -p "$CHROOT/proc" "$CHROOT$REPO"
	mount -t proc proc "$CHROOT/proc" && MOUNTED+=("$CHROOT/proc")
	mount --bind "$REPO" "$CHROOT$REPO" && MOUNTED+=("$CHROOT$REPO")
	if [ "$CACHE" != "$REPO/.cache" ]; then
		mkdir -p "$CHROOT$CACHE"
		mount --bind "$CACHE" "$CHROOT$CACHE" && MOUNTED+=("$CHROOT$CACHE")
	fi
}
in_root() {
	chroot "$CHROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive TERM=dumb TESTBED_CACHE="$CACHE" TESTBED_OUT="$OUT" \
		${TESTBED_BUILD_KEY:+TESTBED_BUILD_KEY="$TESTBED_BUILD_KEY"} \
		${TESTBED_SELFTESTS:+TESTBED_SELFTESTS="$TESTBED_SELFTESTS"} "$@"
}

cmd=${1:-}; shift || true
case $cmd in
ensure)
	take_lock chroot
	ensure
	;;
headers)
	name=$1
	load_kernel_env "$name"
	take_lock chroot
	ensure
	fix_headers() {
		# Debian's headers lack scripts/checker-valid.sh (7.x): without it C=2
		# silently skips sparse. Take it from the same kernel's source.
		local c
		c=$(sed -n 's#^include \(.*\)/Makefile$#\1#p' "$CHROOT$KHDR/Makefile" | head -n1)
		if [ -n "$c" ] && [ -e "$KSRC/scripts/checker-valid.sh" ] && [ ! -e "$CHROOT$c/scripts/checker-valid.sh" ]; then
			install -m 0755 "$KSRC/scripts/checker-valid.sh" "$CHROOT$c/scripts/checker-valid.sh"
		fi
	}
	[ -e "$CHROOT$KHDR/Makefile" ] && { fix_headers; exit 0; }
	enter
	t=(); [ "$name" != backports ] || t=(-t trixie-backports)
	if [ -e "$CHROOT/.need-update" ] || ! in_root apt-get -q -q install -y --no-install-recommends \
		"${t[@]}" "linux-headers-$KVER=$KPKGVER" >&2; then
		log "apt-get update in the chroot"
		in_root apt-get -q -q update >&2
		rm -f "$CHROOT/.need-update"
		in_root apt-get -q -q install -y --no-install-recommends \
			"${t[@]}" "linux-headers-$KVER=$KPKGVER" >&2
	fi
	in_root apt-get -q -q clean >&2 || true
	[ -e "$CHROOT$KHDR/Makefile" ] || die "linux-headers-$KVER missing in the chroot"
	fix_headers
	;;
run)
	take_lock chroot
	ensure
	enter
	dir=$(pwd)
	case $dir in "$REPO"*|"$CACHE"*) ;; *) dir=/ ;; esac
	in_root /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$dir" "$@"
	;;
*)
	die "usage: chroot.sh ensure | headers <kernel> | run <cmd...>"
	;;
esac
