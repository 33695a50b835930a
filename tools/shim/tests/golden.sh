#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Rewrite tests/golden/*.json from the current code.  Review the diff: a
# golden file is the promise of what a guest sees, not a snapshot to refresh.
set -eu
cli=$1
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/golden"
grep -v '^#' "$here/golden.list" | while read -r name fixture spec args; do
	[ -n "$name" ] || continue
	# shellcheck disable=SC2086 # $args is a word list on purpose
	"$cli" show "$spec" --json --host-cpuid "$here/fixtures/$fixture-host.cpuid" \
		--vendor "${fixture%%-*}" $args > "$here/golden/$name.json"
	echo "wrote golden/$name.json"
done
