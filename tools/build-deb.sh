#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# build-deb.sh [OUTDIR]: build the Debian packages (dpkg-buildpackage -us -uc
# -b) from a copy of the source tree, so that the checkout itself gets no
# build products, and put the .debs, .buildinfo and .changes in OUTDIR
# (default out/deb).
#
# DEB_SOURCE=worktree (default) copies the working tree: tracked files as
# they are on disk plus untracked, not ignored ones.  DEB_SOURCE=HEAD
# packages the last commit (git archive).
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-out/deb}
case $OUT in /*) ;; *) OUT=$REPO/$OUT ;; esac
WORK=$REPO/.cache/deb
SRC=$WORK/kvm-hv-relay

die() { echo "build-deb: $*" >&2; exit 1; }

for t in dpkg-buildpackage dh dh_dkms; do
	command -v $t >/dev/null 2>&1 ||
		die "$t not found: apt-get install dpkg-dev debhelper dh-dkms"
done

rm -rf "$WORK"
mkdir -p "$SRC"
cd "$REPO"
case ${DEB_SOURCE:-worktree} in
worktree)
	git ls-files -z --cached --others --exclude-standard |
		tar --null --ignore-failed-read -T - -cf - 2>/dev/null |
		tar -xf - -C "$SRC" ;;
HEAD)
	git archive HEAD | tar -xf - -C "$SRC" ;;
*)
	die "DEB_SOURCE must be worktree or HEAD" ;;
esac
[ -f "$SRC/debian/control" ] || die "no debian/ in the source"

cd "$SRC"
dpkg-buildpackage -us -uc -b >"$WORK/build.log" 2>&1 || {
	tail -n 40 "$WORK/build.log" >&2
	die "dpkg-buildpackage failed; full log: ${WORK#"$REPO"/}/build.log"
}

rm -rf "$OUT"
mkdir -p "$OUT"
cp "$WORK"/*.deb "$WORK"/*.buildinfo "$WORK"/*.changes "$OUT"/
ls -1 "$OUT"
