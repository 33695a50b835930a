#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test-packaging.sh: build the Debian packages, run lintian, install them
# with apt in a minimal Debian 12 (bookworm) chroot and check that every file
# landed where Debian expects it and that DKMS built, signed and installed
# the module for the chroot's own kernel headers; then let DKMS build and
# install it for the test bed's trixie-backports (7.x) kernel, which is not
# the running one, in an overlay over the test bed's trixie chroot, and
# check that the build found kvm_amd's and kvm_intel's BTF facts and that
# the module is compressed like that kernel's own.
#
# Prints TAP ("ok N packaging/<name>"), the plan last; exits non-zero if
# anything failed.  Needs root (debootstrap, chroot, mount).
#
# Environment:
#   PACKAGING_HEADERS=0   do not install linux-headers-amd64 in the chroot:
#                         only the file layout of kvm-hv-relay-dkms is
#                         checked, the DKMS build is skipped
#   PACKAGING_REFRESH=1   rebuild the cached base chroot
#   PACKAGING_DEBS=DIR    test the packages in DIR instead of building them
#   PACKAGING_KEEP=1      keep the chroot (<cache>/packaging/root) afterwards,
#                         and the backports overlay's upper layer
#                         (<cache>/packaging/backports/upper)
#   PACKAGING_BACKPORTS=0 skip the DKMS build for the trixie-backports kernel
#                         (which fetches that kernel and its headers into the
#                         test bed's caches when they are not there yet)
#
# The base chroot (debootstrap + dkms + headers) is cached as a tarball in
# the test bed's cache (tools/testbed/lib.sh: the machine's, shared by its
# clones) under packaging/, and rebuilt after 7 days.  The Debian mirror is the one
# this machine's apt uses, read at run time from
# /etc/apt/sources.list.d/*.sources (or /etc/apt/sources.list); it is written
# into the chroot only while apt runs there and is not kept in the cache.
set -uo pipefail

# Its mounts (the chroots' proc, the overlay) live in a mount namespace of
# its own, gone with its last process however the run ends: none outlives
# it, and no rm -rf reaches through one.
if [ -z "${TESTBED_MOUNT_NS:-}" ]; then
	TESTBED_MOUNT_NS=$$ exec unshare --mount --propagation private "$0" "$@"
fi

REPO=$(cd "$(dirname "$0")/.." && pwd)
# The test bed's caches, as tools/testbed/lib.sh names them.
TB_CACHE=${TESTBED_CACHE:-/var/cache/kvm-hv-relay}
CACHE=$TB_CACHE/packaging
ROOT=$CACHE/root
SUITE=bookworm
HEADERS=${PACKAGING_HEADERS:-1}
BASE=$CACHE/$SUITE-base$([ "$HEADERS" = 1 ] && echo -headers).tar
DEBS=${PACKAGING_DEBS:-$REPO/out/deb}
LOG=$CACHE/log
MULTIARCH=x86_64-linux-gnu
BP=$CACHE/backports
BROOT=$BP/root

N=0
FAILED=0
MOUNTED=
BMOUNTED=

ok()   { N=$((N + 1)); echo "ok $N packaging/$1${2:+ # $2}"; }
fail() {
	N=$((N + 1)); FAILED=$((FAILED + 1))
	echo "not ok $N packaging/$1"
	[ -z "${2:-}" ] || echo "$2" | sed 's/^/# /'
}
check() { # check <name> <command...>: ok when the command succeeds
	local name=$1 out; shift
	if out=$("$@" 2>&1); then ok "$name"; else fail "$name" "$out"; fi
}
diag() { sed 's/^/# /'; }
finish() {
	echo "1..$N"
	[ "$FAILED" -eq 0 ] || echo "# $FAILED of $N failed"
	exit $((FAILED > 0))
}
bail() { fail "$1" "$2"; finish; }

cleanup() {
	[ -z "$MOUNTED" ] || umount "$ROOT/proc" 2>/dev/null
	MOUNTED=
	[ "${PACKAGING_KEEP:-0}" = 1 ] || rm -rf "$ROOT"
	bp_umount
}
bp_umount() {
	local tries=5
	if [ -n "$BMOUNTED" ]; then
		umount "$BROOT/proc" 2>/dev/null
		# dkms's progress dots can leave a "sleep 3" behind for a moment
		while ! umount "$BROOT" 2>/dev/null && [ $((tries -= 1)) -gt 0 ]; do sleep 1; done
		! mountpoint -q "$BROOT" || umount -l "$BROOT"
	fi
	BMOUNTED=
	# never delete through a mounted overlay
	mountpoint -q "$BROOT" || [ "${PACKAGING_KEEP:-0}" = 1 ] || rm -rf "$BP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mirror_uri() {
	local u
	u=$(awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' \
		/etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v -- '-security/*$' | head -n1)
	if [ -z "$u" ] && [ -r /etc/apt/sources.list ]; then
		u=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' \
			/etc/apt/sources.list | grep -v -- '-security/*$' | head -n1)
	fi
	echo "${u%/}"
}

# Keep the mirror's address out of logs and output.
scrub() { sed -e "s#$MIRROR_HOST#<mirror>#g"; }

in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }

# apt inside the chroot, with the mirror present only for the duration.
root_apt() {
	cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null
	echo "deb $MIRROR $SUITE main" >"$ROOT/etc/apt/sources.list"
	in_root apt-get -q -o Acquire::Languages=none "$@"
	local rc=$?
	rm -f "$ROOT/etc/apt/sources.list"
	return $rc
}

mount_proc() { mount -t proc proc "$ROOT/proc" && MOUNTED=1; }

# --- host tools ------------------------------------------------------------
[ "$(id -u)" = 0 ] || bail host-tools "must run as root (debootstrap, chroot, mount)"
mkdir -p "$CACHE"
exec 9>"$CACHE/lock"
# the cache is the machine's: a run of another clone waits its turn
if ! flock -n 9; then
	echo "# another test-packaging.sh holds $CACHE/lock: waiting"
	flock 9
fi

need=()
for p in dpkg-dev debhelper dh-dkms dkms lintian debootstrap python3-docutils fakeroot; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "# installing host tools: ${need[*]}"
	if ! out=$( (apt-get update -q && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${need[@]}") 2>&1); then
		bail host-tools "$(echo "$out" | tail -n 15)"
	fi
fi
ok host-tools

MIRROR=$(mirror_uri)
[ -n "$MIRROR" ] || bail host-tools "no Debian mirror in /etc/apt/sources.list.d/*.sources"
MIRROR_HOST=$(echo "$MIRROR" | sed -E 's#^[a-zA-Z]+://([^/]+).*#\1#; s/[.]/[.]/g')

# --- build and lint ----------------------------------------------------------
if [ -n "${PACKAGING_DEBS:-}" ]; then
	ok build "SKIP using the packages in $DEBS"
elif out=$(sh "$REPO/tools/build-deb.sh" "$DEBS" 2>&1); then
	ok build
	echo "$out" | diag
else
	bail build "$(echo "$out" | tail -n 30)"
fi

VERSION=$(awk -F'"' '/define RELAY_VERSION/ { print $2 }' "$REPO/kvm_hv_relay.c")
changes=$(ls "$DEBS"/*.changes 2>/dev/null | head -n1)
[ -n "$changes" ] || bail lintian "no .changes in $DEBS"
lintian --fail-on error --display-info --pedantic "$changes" >"$LOG.lintian" 2>&1
lint_rc=$?
if [ $lint_rc -eq 0 ]; then
	ok lintian
else
	fail lintian "$(grep -E '^E:' "$LOG.lintian" || tail -n 10 "$LOG.lintian")"
fi
grep -E '^[WIP]:' "$LOG.lintian" | diag

for d in kvm-hv-relay-dkms_"$VERSION"_all kvm-hv-relay-tools_"$VERSION"_amd64 \
	 libhvrelay0_"$VERSION"_amd64 libhvrelay-dev_"$VERSION"_amd64; do
	[ -f "$DEBS/$d.deb" ] || fail "deb/$d" "$DEBS/$d.deb was not built"
done

# --- base chroot -------------------------------------------------------------
if [ -f "$BASE" ] && [ "${PACKAGING_REFRESH:-0}" != 1 ] &&
   [ -z "$(find "$BASE" -mtime +7)" ]; then
	ok chroot "cached ${BASE#"$REPO"/}"
else
	rm -rf "$ROOT" "$BASE"
	echo "# debootstrap $SUITE (minbase) into ${ROOT#"$REPO"/}"
	if ! debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" 2>&1 | scrub >"$LOG.debootstrap"; then
		bail chroot "$(tail -n 15 "$LOG.debootstrap")"
	fi
	rm -f "$ROOT/etc/apt/sources.list"
	mount_proc
	pkgs=(dkms openssl)
	[ "$HEADERS" = 1 ] && pkgs+=(linux-headers-amd64)
	if ! { root_apt update && root_apt install -y --no-install-recommends "${pkgs[@]}"; } 2>&1 |
		scrub >"$LOG.base"; then
		bail chroot "$(tail -n 15 "$LOG.base")"
	fi
	in_root apt-get clean
	rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/log/apt/* "$ROOT"/var/log/bootstrap.log
	umount "$ROOT/proc"; MOUNTED=
	tar -C "$ROOT" -cf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE"
	ok chroot "created ${BASE#"$REPO"/}"
fi

rm -rf "$ROOT"
mkdir -p "$ROOT"
tar -C "$ROOT" -xf "$BASE" || bail chroot "cannot unpack $BASE"
mount_proc || bail chroot "cannot mount proc in the chroot"

# --- install -----------------------------------------------------------------
mkdir -p "$ROOT/tmp/debs"
cp "$DEBS"/*.deb "$ROOT/tmp/debs/"
rm -f "$ROOT"/tmp/debs/*-dbgsym_*.deb
debs=()
for f in "$ROOT"/tmp/debs/*.deb; do debs+=("/tmp/debs/${f##*/}"); done
# pkgconf: a VMM's build finds libhvrelay through libhvrelay.pc (lib/pkg-config)
if { root_apt update && root_apt install -y --no-install-recommends "${debs[@]}" pkgconf; } 2>&1 |
	scrub >"$LOG.install"; then
	ok apt-install
else
	bail apt-install "$(tail -n 25 "$LOG.install")"
fi
grep -iE 'dkms|building|signing|skipped|error' "$LOG.install" | diag

# --- where the files landed --------------------------------------------------
SRC=/usr/src/kvm-hv-relay-$VERSION
has() { # has <name> <path...>: every path exists in the chroot
	local name=$1 missing=; shift
	for p in "$@"; do [ -e "$ROOT$p" ] || [ -L "$ROOT$p" ] || missing+="$p missing"$'\n'; done
	if [ -z "$missing" ]; then ok "$name"; else fail "$name" "$missing"; fi
}

has dkms/source "$SRC/Kbuild" "$SRC/Makefile" "$SRC/kvm_hv_relay.c" "$SRC/vmx_nested.c" \
	"$SRC/compat.h" "$SRC/uapi/linux/kvm_hv_relay.h" "$SRC/dkms.conf"
check dkms/conf-version grep -qx "PACKAGE_VERSION=\"$VERSION\"" "$ROOT$SRC/dkms.conf"
# dkms.conf as dkms reads it: it must exclude every kernel whose
# configuration lacks what compat.h stops the build without, and require
# CONFIG_KVM_HYPERV where the option exists (6.8 on), whether set or not,
# but not on 6.1, which has no such option.
conf_exclusive() {
	local d=$CACHE/kconf k got c
	rm -rf "$d"
	mkdir -p "$d/none" "$d/y" "$d/unset"
	echo 'CONFIG_KVM=m' >"$d/none/.config"
	printf 'CONFIG_KVM=m\nCONFIG_KVM_HYPERV=y\n' >"$d/y/.config"
	printf 'CONFIG_KVM=m\n# CONFIG_KVM_HYPERV is not set\n' >"$d/unset/.config"
	for k in none:no y:yes unset:yes; do
		got=$(bash -c 'kernel_source_dir=$1; . "$2" >/dev/null; echo " $BUILD_EXCLUSIVE_CONFIG "' \
			sh "$d/${k%:*}" "$ROOT$SRC/dkms.conf")
		case $got in
		*" CONFIG_KVM_HYPERV "*) [ "${k#*:}" = yes ] ;;
		*) [ "${k#*:}" = no ] ;;
		esac || { echo "CONFIG_KVM_HYPERV ${k%:*}:$got"; return 1; }
	done
	for c in $(awk '/^#ifndef CONFIG_/ { c = $2; next } /^#error/ && c { print c } { c = "" }' \
		"$ROOT$SRC/compat.h"); do
		case $got in *" $c "*) ;; *) echo "compat.h needs $c:$got"; return 1 ;; esac
	done
	rm -rf "$d"
}
check dkms/conf-exclusive conf_exclusive
check dkms/no-build-products sh -c "! ls '$ROOT$SRC' | grep -E '\\.(o|ko|mod|mod\\.c|cmd)\$'"
check dkms/added sh -c "chroot '$ROOT' dkms status kvm-hv-relay/$VERSION | grep -q ."

if [ "$HEADERS" = 1 ]; then
	kver=$(ls "$ROOT/lib/modules" | sort -V | tail -n1)
	ko=$(ls "$ROOT/lib/modules/$kver/updates/dkms/"kvm-hv-relay.ko* 2>/dev/null | head -n1)
	if [ -n "$ko" ]; then
		ok dkms/installed "$kver"
		ko=${ko#"$ROOT"}
		check modinfo/name sh -c "chroot '$ROOT' modinfo -F name '$ko' | grep -qx kvm_hv_relay"
		check modinfo/version sh -c "chroot '$ROOT' modinfo -F version '$ko' | grep -qx '$VERSION'"
		check modinfo/vermagic sh -c "chroot '$ROOT' modinfo -F vermagic '$ko' | grep -q '^$kver '"
		check modinfo/softdep sh -c "chroot '$ROOT' modinfo -F softdep '$ko' | grep -q 'pre: kvm'"
		check dkms/signed sh -c "chroot '$ROOT' modinfo -F signer '$ko' | grep -qx 'DKMS module signing key'"
		has dkms/mok-key /var/lib/dkms/mok.key /var/lib/dkms/mok.pub
		check dkms/status-installed sh -c "chroot '$ROOT' dkms status kvm-hv-relay/$VERSION -k '$kver' | grep -q installed"
	else
		fail dkms/installed "no kvm-hv-relay.ko under /lib/modules/$kver/updates/dkms"
		grep -A20 -i 'error' "$LOG.install" | head -n 30 | diag
	fi
else
	ok dkms/installed "SKIP PACKAGING_HEADERS=0: no kernel headers in the chroot"
fi

has tools/cli /usr/bin/kvm-hv-relay
check tools/cli-runs in_root /usr/bin/kvm-hv-relay --help
# As a new user would after installing: "check" must report every readiness
# item (here, with no KVM in the chroot, it rightly says "not ready").
cli_check_reports() {
	local out
	out=$(in_root /usr/bin/kvm-hv-relay check 2>&1)
	echo "$out" | diag
	# here-strings, not pipes: with pipefail, a grep -q that has its match
	# may leave the writer a broken pipe and fail the pipeline
	for item in kernel module nested relay lockdown; do
		grep -qE "^(ok|fail) +$item " <<<"$out" || { echo "no '$item' line"; return 1; }
	done
	grep -qE '^(Ready|Not ready)' <<<"$out"
}
check tools/cli-check-reports cli_check_reports
has tools/man-page /usr/share/man/man1/kvm-hv-relay.1.gz
check tools/man-page-valid sh -c "gzip -dc '$ROOT/usr/share/man/man1/kvm-hv-relay.1.gz' | grep -q '^\\.TH'"
check tools/cli-static-lib sh -c "! chroot '$ROOT' ldd /usr/bin/kvm-hv-relay | grep -q libhvrelay"

has dev/uapi-header /usr/include/linux/kvm_hv_relay.h
printf '#include <linux/kvm_hv_relay.h>\nunsigned long long m = KVM_NESTED_HYPERV_RELAY_ALL;\nint c = KVM_CAP_NESTED_HYPERV_HCALL_RELAY;\n' \
	>"$ROOT/tmp/uapi.c"
check dev/uapi-header-self-contained in_root gcc -Wall -Werror -c -o /tmp/uapi.o /tmp/uapi.c
has dev/library /usr/lib/$MULTIARCH/libhvrelay.so.0 /usr/lib/$MULTIARCH/libhvrelay.so \
	/usr/lib/$MULTIARCH/libhvrelay.a /usr/include/hvrelay.h \
	/usr/lib/$MULTIARCH/pkgconfig/libhvrelay.pc
# merged /usr: the loader may name /lib/<triplet> for /usr/lib/<triplet>
check lib/ldconfig sh -c "chroot '$ROOT' ldconfig -p | grep -Eq 'libhvrelay.so.0 .*=> (/usr)?/lib/$MULTIARCH/libhvrelay.so.0\$'"
printf '#include <hvrelay.h>\nint main(void) { return 0; }\n' >"$ROOT/tmp/lib.c"
check lib/link sh -c "chroot '$ROOT' gcc -Wall -Werror -o /tmp/lib /tmp/lib.c -Wl,--no-as-needed -lhvrelay &&
	chroot '$ROOT' ldd /tmp/lib | grep -Eq 'libhvrelay.so.0 => (/usr)?/lib/$MULTIARCH/libhvrelay.so.0 ' &&
	chroot '$ROOT' /tmp/lib"
# The installed library exports exactly what the installed header documents
# (its kernel-doc'd declarations), each under a version of the source's
# libhvrelay.map, and no helper of its own: see tools/shim/abi-check.sh.
# The host's nm reads the chroot's files; lib/pkg-config links in the chroot.
check lib/exports env ABI_LINK=0 sh "$REPO/tools/shim/abi-check.sh" "$ROOT/usr/include/hvrelay.h" \
	"$ROOT/usr/lib/$MULTIARCH/libhvrelay.so.0" "$REPO/tools/shim/libhvrelay.map"
# As a VMM's build would: flags from pkg-config alone, then run what it
# built.  "vp_index" is OpenVMM's name for vpindex (hvrelay.h).
cat >"$ROOT/tmp/pc.c" <<'EOF'
#include <stdio.h>
#include <hvrelay.h>

int main(void)
{
	struct hvr_spec spec;
	struct hvr_error err;

	if (hvr_spec_parse("windows", &spec, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	if (spec.preset != HVR_PRESET_WINDOWS || hvr_flag_lookup("vp_index") != HVR_VPINDEX)
		return 1;
	puts(hvr_preset_name(spec.preset));
	return 0;
}
EOF
lib_pkg_config() {
	local flags ver out
	flags=$(in_root pkg-config --cflags --libs libhvrelay) || return 1
	echo "pkg-config --cflags --libs libhvrelay: $flags"
	case " $flags " in *" -lhvrelay "*) ;; *) echo "no -lhvrelay"; return 1 ;; esac
	ver=$(in_root pkg-config --modversion libhvrelay) || return 1
	[ "$ver" = "$VERSION" ] || { echo "libhvrelay.pc has version $ver, not $VERSION"; return 1; }
	# $flags is split into words on purpose
	# shellcheck disable=SC2086
	in_root gcc -Wall -Wextra -Werror -o /tmp/pc /tmp/pc.c $flags || { echo "gcc failed"; return 1; }
	out=$(in_root ldd /tmp/pc)
	grep -Eq "libhvrelay.so.0 => (/usr)?/lib/$MULTIARCH/libhvrelay.so.0 " <<<"$out" ||
		{ echo "ldd /tmp/pc:"; echo "$out"; return 1; }
	out=$(in_root /tmp/pc 2>&1) || { echo "/tmp/pc: exit $?: $out"; return 1; }
	[ "$out" = windows ] || { echo "/tmp/pc printed '$out', not windows"; return 1; }
}
check lib/pkg-config lib_pkg_config
has doc/rst /usr/share/doc/kvm-hv-relay-dkms/api.rst.gz /usr/share/doc/kvm-hv-relay-dkms/admin-guide.rst.gz
has doc/copyright /usr/share/doc/kvm-hv-relay-dkms/copyright /usr/share/doc/kvm-hv-relay-tools/copyright \
	/usr/share/doc/libhvrelay0/copyright /usr/share/doc/libhvrelay-dev/copyright

# --- removal -----------------------------------------------------------------
if root_apt purge -y kvm-hv-relay-dkms 2>&1 | scrub >"$LOG.purge"; then
	ok purge
	check purge/source-gone test ! -e "$ROOT$SRC"
	check purge/dkms-gone sh -c "! chroot '$ROOT' dkms status kvm-hv-relay | grep -q ."
	check purge/module-gone sh -c "! ls '$ROOT'/lib/modules/*/updates/dkms/kvm-hv-relay.ko* 2>/dev/null | grep -q ."
else
	fail purge "$(tail -n 15 "$LOG.purge")"
fi

# --- DKMS for a kernel that is not running: trixie-backports ----------------
# What a kernel upgrade makes DKMS do: build and install the module for an
# installed kernel other than the running one, here the test bed's
# trixie-backports (7.x) kernel.  Its headers are in the test bed's trixie
# chroot already, so nothing is debootstrapped: an overlay on that chroot
# gets the kernel's image and modules as linux-image installs them, from the
# test bed's unpacked copy.  gcc, xz-utils and zstd are removed in the
# overlay first, so that kvm-hv-relay-dkms's Depends alone must bring what
# the build runs: gcc for btf_facts (HOSTCC), zstd for the vmlinuz, xz for
# kvm-amd.ko and for the module DKMS installs.
bp_root() { chroot "$BROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }
# The chroot's own sources (tools/testbed/chroot.sh), so nothing to write.
bp_apt() { bp_root apt-get -q -o Acquire::Languages=none "$@"; }

bp_depends() {
	local p st
	for p in gcc xz-utils zstd; do
		st=$(bp_root dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>&1)
		[ "$st" = "ii " ] || { echo "$p: $st"; return 1; }
	done
}

backports_dkms() {
	local t0 env kver kmods vmlinuz up m amd ko want b
	t0=$(date +%s)
	# the kernel and its headers: fetched and installed as the test bed does
	# it, under its locks, and kept in its caches for its own builds
	if ! "$REPO/tools/testbed/fetch.sh" backports 2>&1 | scrub >"$LOG.bp-fetch" ||
	   ! "$REPO/tools/testbed/chroot.sh" headers backports 2>&1 | scrub >"$LOG.bp-headers"; then
		fail backports/kernel "$(tail -n 15 "$LOG.bp-fetch" "$LOG.bp-headers" 2>/dev/null)"
		return
	fi
	env=$TB_CACHE/kernels/backports.env
	kver=$(sed -n 's/^KVER=//p' "$env")
	kmods=$(sed -n 's/^KMODS=//p' "$env")
	vmlinuz=$(sed -n 's/^VMLINUZ=//p' "$env")
	if [ -z "$kver" ] || [ ! -e "$kmods/arch/x86/kvm" ] || [ ! -s "$vmlinuz" ]; then
		fail backports/kernel "no unpacked kernel in $env"
		return
	fi
	ok backports/kernel "$kver"
	if [ "$kver" != "$(uname -r)" ]; then
		ok backports/not-running "running $(uname -r)"
	else
		ok backports/not-running "SKIP $kver is the running kernel"
	fi

	# left mounted by a run that was killed
	if mountpoint -q "$BROOT"; then
		umount "$BROOT/proc" 2>/dev/null
		umount "$BROOT" || umount -l "$BROOT"
	fi
	rm -rf "$BP"
	# Upper layer, the kernel as linux-image installs it: the modules under
	# /usr/lib/modules, the image in /boot (on 7.x linux-base's hook copies
	# it there from /usr/lib/modules); hard links, as nothing writes to them.
	up=$BP/upper
	m=$up/usr/lib/modules/$kver
	mkdir -p "$m" "$up/boot" "$up/etc/dkms" "$up/tmp/debs" "$BP/work" "$BROOT"
	cp -al "$kmods/." "$m/kernel" 2>/dev/null || cp -a "$kmods/." "$m/kernel"
	ln "$vmlinuz" "$up/boot/vmlinuz-$kver" 2>/dev/null || cp "$vmlinuz" "$up/boot/vmlinuz-$kver"
	cp "$DEBS/kvm-hv-relay-dkms_${VERSION}_all.deb" "$up/tmp/debs/"
	# The postinst would build for every kernel with headers, the trixie one
	# too: the build here is the explicit "dkms build -k".
	touch "$up/etc/dkms/no-autoinstall"
	# dkms deletes its build directory after a build; a per-module override
	# (read after dkms.conf) keeps the header btf_facts wrote.
	echo 'MAKE[0]="${MAKE[0]} && cp ${dkms_tree}/${PACKAGE_NAME}/${PACKAGE_VERSION}/build/svm_btf.h /tmp/svm_btf.h"' \
		>"$up/etc/dkms/kvm-hv-relay.conf"

	# The test bed's chroot must not change under the overlay: hold its lock
	# (tools/testbed/lib.sh take_lock) while mounted.
	mkdir -p "$TB_CACHE/locks"
	exec 8>"$TB_CACHE/locks/chroot"
	flock 8
	if ! mount -t overlay overlay -o "lowerdir=$TB_CACHE/chroot/trixie,upperdir=$up,workdir=$BP/work" "$BROOT"; then
		exec 8>&-
		fail backports/chroot "cannot mount an overlay on ${TB_CACHE#"$REPO"/}/chroot/trixie"
		return
	fi
	BMOUNTED=1
	mount -t proc proc "$BROOT/proc"
	cp -L /etc/resolv.conf "$BROOT/etc/resolv.conf" 2>/dev/null
	ok backports/chroot "overlay on ${TB_CACHE#"$REPO"/}/chroot/trixie"

	bp_root dpkg -r gcc xz-utils zstd >"$LOG.bp-install" 2>&1 ||
		fail backports/remove-tools "$(tail -n 10 "$LOG.bp-install")"
	b=/tmp/debs/kvm-hv-relay-dkms_${VERSION}_all.deb
	# openssl: DKMS signs the module before it compresses it, as on a host.
	# The chroot's package lists are as old as its last headers install:
	# refresh them only if they no longer do.
	if { bp_apt install -y --no-install-recommends "$b" openssl ||
	     { bp_apt update && bp_apt install -y --no-install-recommends "$b" openssl; }; } 2>&1 |
		scrub >>"$LOG.bp-install"; then
		ok backports/apt-install
	else
		fail backports/apt-install "$(tail -n 20 "$LOG.bp-install")"
		bp_umount; exec 8>&-
		return
	fi
	check backports/depends bp_depends

	if bp_root dkms add "kvm-hv-relay/$VERSION" >"$LOG.bp-dkms" 2>&1 &&
	   bp_root dkms build "kvm-hv-relay/$VERSION" -k "$kver" >>"$LOG.bp-dkms" 2>&1; then
		ok backports/dkms-build "$kver"
	else
		fail backports/dkms-build "$(tail -n 10 "$LOG.bp-dkms"; tail -n 20 \
			"$BROOT/var/lib/dkms/kvm-hv-relay/$VERSION/build/make.log" 2>/dev/null)"
		bp_umount; exec 8>&-
		return
	fi
	# facts, not the fallback: real offsets read from this kernel's
	# kvm-amd.ko and kvm-intel.ko
	for v in SVM VMX; do
		t=backports/${v,,}-btf-facts
		if grep -Eq "^#define RELAY_${v}_BTF_FACTS[[:space:]]+1\$" "$BROOT/tmp/svm_btf.h" 2>/dev/null; then
			ok "$t"
			grep -E "RELAY_${v}_(OFF|BTF_SIZE)" "$BROOT/tmp/svm_btf.h" | diag
		else
			fail "$t" "$(grep -h -e "${v}_BTF_MISSING" -e btf_facts "$BROOT/tmp/svm_btf.h" \
				"$BROOT/var/lib/dkms/kvm-hv-relay/$VERSION/$kver/x86_64/log/make.log" 2>/dev/null)"
		fi
	done
	grep -E '^/\* from' "$BROOT/tmp/svm_btf.h" | diag

	if bp_root dkms install "kvm-hv-relay/$VERSION" -k "$kver" >>"$LOG.bp-dkms" 2>&1; then
		ok backports/dkms-install
	else
		fail backports/dkms-install "$(tail -n 15 "$LOG.bp-dkms")"
	fi
	# compressed as the kernel's own modules are, and that it is really so
	amd=$(ls "$BROOT/lib/modules/$kver/kernel/arch/x86/kvm/"kvm-amd.ko* | head -n1)
	want=${amd##*/kvm-amd.ko}
	ko=$(ls "$BROOT/lib/modules/$kver/updates/dkms/"kvm-hv-relay.ko* 2>/dev/null | head -n1)
	if [ -n "$ko" ] && [ "${ko##*/kvm-hv-relay.ko}" = "$want" ]; then
		ok backports/compressed "kvm-hv-relay.ko$want like kvm-amd.ko$want"
	else
		fail backports/compressed "installed: ${ko:-nothing}; kvm-amd is kvm-amd.ko$want"
	fi
	if [ -n "$ko" ]; then
		ko=${ko#"$BROOT"}
		case $want in
		.xz)  check backports/compressed-valid bp_root xz -t "$ko" ;;
		.zst) check backports/compressed-valid bp_root zstd -q -t "$ko" ;;
		.gz)  check backports/compressed-valid bp_root gzip -t "$ko" ;;
		esac
		check backports/modinfo-vermagic sh -c "chroot '$BROOT' modinfo -F vermagic '$ko' | grep -q '^$kver '"
		check backports/signed sh -c "chroot '$BROOT' modinfo -F signer '$ko' | grep -qx 'DKMS module signing key'"
	fi
	check backports/status-installed sh -c "chroot '$BROOT' dkms status kvm-hv-relay/$VERSION -k '$kver' | grep -q installed"

	bp_umount
	exec 8>&-
	echo "# backports: DKMS part took $(($(date +%s) - t0)) s"
}
if [ "${PACKAGING_BACKPORTS:-1}" = 1 ]; then
	backports_dkms
else
	ok backports "SKIP PACKAGING_BACKPORTS=0"
fi

finish
