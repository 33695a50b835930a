#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test-packaging.sh: build the Debian packages, run lintian, install them
# with apt in a minimal Debian 12 (bookworm) chroot and check that every file
# landed where Debian expects it and that DKMS built, signed and installed
# the module for the chroot's own kernel headers.
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
#   PACKAGING_KEEP=1      keep the chroot (.cache/packaging/root) afterwards
#
# The base chroot (debootstrap + dkms + headers) is cached as a tarball in
# .cache/packaging/ and rebuilt after 7 days.  The Debian mirror is the one
# this machine's apt uses, read at run time from
# /etc/apt/sources.list.d/*.sources (or /etc/apt/sources.list); it is written
# into the chroot only while apt runs there and is not kept in the cache.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=$REPO/.cache/packaging
ROOT=$CACHE/root
SUITE=bookworm
HEADERS=${PACKAGING_HEADERS:-1}
BASE=$CACHE/$SUITE-base$([ "$HEADERS" = 1 ] && echo -headers).tar
DEBS=${PACKAGING_DEBS:-$REPO/out/deb}
LOG=$CACHE/log
MULTIARCH=x86_64-linux-gnu

N=0
FAILED=0
MOUNTED=

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
flock -n 9 || bail host-tools "another test-packaging.sh holds $CACHE/lock"

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
if { root_apt update && root_apt install -y --no-install-recommends "${debs[@]}"; } 2>&1 |
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
	for item in kernel module nested relay lockdown; do
		echo "$out" | grep -qE "^(ok|fail) +$item " || { echo "no '$item' line"; return 1; }
	done
	echo "$out" | grep -qE '^(Ready|Not ready)'
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
	/usr/lib/$MULTIARCH/libhvrelay.a /usr/include/hvrelay.h
# merged /usr: the loader may name /lib/<triplet> for /usr/lib/<triplet>
check lib/ldconfig sh -c "chroot '$ROOT' ldconfig -p | grep -Eq 'libhvrelay.so.0 .*=> (/usr)?/lib/$MULTIARCH/libhvrelay.so.0\$'"
printf '#include <hvrelay.h>\nint main(void) { return 0; }\n' >"$ROOT/tmp/lib.c"
check lib/link sh -c "chroot '$ROOT' gcc -Wall -Werror -o /tmp/lib /tmp/lib.c -Wl,--no-as-needed -lhvrelay &&
	chroot '$ROOT' ldd /tmp/lib | grep -Eq 'libhvrelay.so.0 => (/usr)?/lib/$MULTIARCH/libhvrelay.so.0 ' &&
	chroot '$ROOT' /tmp/lib"
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

finish
