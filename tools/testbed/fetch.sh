#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fetch.sh <bookworm|trixie|backports|rt>...
#
# Resolve the newest Debian amd64 kernel of a release through a private apt
# state dir, download its image (+ headers for bookworm) and linux-source into
# .cache/debs/, unpack them keyed by version and write .cache/kernels/<name>.env.
# Warm runs reuse everything already downloaded or unpacked.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# set -e alone dies without a word; the check shows only this log's tail
trap 'log "fetch.sh: line $LINENO: exit $?: $BASH_COMMAND"' ERR

APT_MAX_AGE=${TESTBED_APT_MAX_AGE:-21600}	# seconds before lists are refreshed

apt_setup() {
	local name=$1 d m s suite
	d=$(apt_dir "$name")
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
	m=$(mirror_uri); s=$(security_uri)
	{
		for suite in $(release_suites "$name"); do
			case $suite in
			*-security) echo "deb $s $suite main" ;;
			*) echo "deb $m $suite main" ;;
			esac
		done
	} >"$d/sources.list.new"
	if ! cmp -s "$d/sources.list.new" "$d/sources.list"; then
		mv "$d/sources.list.new" "$d/sources.list"
		rm -f "$d/updated"
	else
		rm -f "$d/sources.list.new"
	fi
	if [ -e "$d/updated" ] && [ $(($(now) - $(stat -c %Y "$d/updated"))) -lt "$APT_MAX_AGE" ]; then
		return 0
	fi
	log "apt-get update ($name, private state)"
	if papt_get "$name" -q -q update >&2; then
		touch "$d/updated"
	elif ls "$d/lists/"*Packages* >/dev/null 2>&1; then
		log "apt-get update failed for $name: using the lists already cached"
	else
		die "apt-get update failed for $name"
	fi
}

# dep_named <depends-line> <regex>: package names (no version) matching regex
dep_named() { echo "$1" | tr ',|' '\n\n' | awk '{ print $1 }' | grep -E "$2" || true; }

# download <name> <pkg> <ver>: prints the path of the .deb in .cache/debs
download() {
	local name=$1 pkg=$2 ver=$3 fn
	fn=$(field "$name" "$pkg=$ver" Filename)
	[ -n "$fn" ] || die "$pkg=$ver: not in the $name lists"
	fn=$CACHE/debs/${fn##*/}
	if [ ! -s "$fn" ]; then
		log "downloading $pkg $ver"
		mkdir -p "$CACHE/debs/partial"
		(cd "$CACHE/debs/partial" && rm -f ./*.deb && papt_get "$name" -q download "$pkg=$ver" >&2 &&
			mv ./*.deb "$fn") || die "download of $pkg=$ver failed"
	fi
	echo "$fn"
}

fetch_one() {
	local name=$1 metapkg meta metadeps img kver ver mm deps p d srcver srcdeb kdir src
	apt_setup "$name"

	metapkg=$(kernel_meta "$name")
	meta=$(candidate "$name" "$metapkg")
	[ -n "$meta" ] || die "$name: no $metapkg candidate"
	metadeps=$(field "$name" "$metapkg=$meta" Depends)
	img=$(dep_named "$metadeps" '^linux-image-[0-9]' | head -n1)
	[ -n "$img" ] || die "$name: $metapkg $meta depends on no versioned image"
	kver=${img#linux-image-}
	ver=$(candidate "$name" "$img")
	mm=$(echo "$ver" | sed -E 's/^([0-9]+\.[0-9]+).*/\1/')
	log "$name: $img $ver"

	# image, and from trixie on the binary + modules packages it depends on
	local -a debs=("$(download "$name" "$img" "$ver")")
	deps=$(field "$name" "$img=$ver" Depends)
	for p in $(dep_named "$deps" '^linux-(binary|modules)-' | grep -Fx -e "linux-binary-$kver" -e "linux-modules-$kver"); do
		debs+=("$(download "$name" "$p" "$ver")")
	done
	# headers: unpacked here for the host build (bookworm); trixie kernels get
	# them through apt inside the chroot (see chroot.sh)
	local -a hdebs=()
	if ! in_chroot "$name"; then
		hdebs+=("$(download "$name" "linux-headers-$kver" "$ver")")
		deps=$(field "$name" "linux-headers-$kver=$ver" Depends)
		for p in $(dep_named "$deps" '^linux-(headers-.*-common|kbuild-)'); do
			hdebs+=("$(download "$name" "$p" "$(candidate "$name" "$p")")")
		done
	fi
	# linux-source of the same upload when available
	srcver=$ver
	[ -n "$(field "$name" "linux-source-$mm=$srcver" Filename)" ] || srcver=$(candidate "$name" "linux-source-$mm")
	[ -n "$srcver" ] || die "$name: no linux-source-$mm"
	srcdeb=$(download "$name" "linux-source-$mm" "$srcver")

	kdir=$CACHE/k/$kver
	if [ ! -e "$kdir/.unpacked" ]; then
		log "unpacking $kver"
		rm -rf "$kdir"; mkdir -p "$kdir/root"
		for d in "${debs[@]}" "${hdebs[@]}"; do dpkg-deb -x "$d" "$kdir/root"; done
		if [ -e "$kdir/root/boot/vmlinuz-$kver" ]; then
			cp "$kdir/root/boot/vmlinuz-$kver" "$kdir/vmlinuz"
		else
			cp "$kdir/root/usr/lib/modules/$kver/vmlinuz" "$kdir/vmlinuz"
		fi
		if [ -d "$kdir/root/usr/lib/modules/$kver/kernel" ]; then
			ln -s root/usr/lib/modules/"$kver"/kernel "$kdir/modules"
		else
			ln -s root/lib/modules/"$kver"/kernel "$kdir/modules"
		fi
		if [ ${#hdebs[@]} -gt 0 ]; then
			# Debian's per-flavour Makefile includes the -common tree by absolute path
			local h=$kdir/root/usr/src/linux-headers-$kver
			sed -i "s#/usr/src/#$kdir/root/usr/src/#g" "$h/Makefile"
		fi
		touch "$kdir/.unpacked"
	fi

	src=$CACHE/src/$srcver
	if [ ! -e "$src/.unpacked" ]; then
		log "unpacking linux-source-$mm $srcver"
		rm -rf "$src"; mkdir -p "$src"
		dpkg-deb --fsys-tarfile "$srcdeb" | tar -xO "./usr/src/linux-source-$mm.tar.xz" |
			tar -xJ -C "$src" --anchored --exclude="linux-source-$mm/Documentation"
		mv "$src/linux-source-$mm" "$src/linux"
		touch "$src/.unpacked"
	fi

	mkdir -p "$CACHE/kernels"
	cat >"$CACHE/kernels/$name.env" <<-EOF
	KNAME=$name
	KVER=$kver
	KPKGVER=$ver
	KSRCVER=$srcver
	KDIR=$kdir
	KSRC=$src/linux
	VMLINUZ=$kdir/vmlinuz
	KMODS=$kdir/modules
	EOF
	if ! in_chroot "$name"; then
		echo "KHDR=$kdir/root/usr/src/linux-headers-$kver" >>"$CACHE/kernels/$name.env"
	else
		echo "KHDR=/usr/src/linux-headers-$kver" >>"$CACHE/kernels/$name.env"
	fi
	echo "$name $kver $ver"
}

[ $# -gt 0 ] || set -- $CHECK_KERNELS
for k in "$@"; do
	take_lock "fetch-$k"
	fetch_one "$k"
done
