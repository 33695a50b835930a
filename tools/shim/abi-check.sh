#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# abi-check.sh HEADER LIBRARY [MAP]: does the shared LIBRARY export exactly
# the functions HEADER documents?  With MAP (the version script), its global
# list must be that same set, and every export must carry its version.  TAP.
#
# The expected set comes from the header, not from the library or the map,
# since the header is what callers are promised: every function it declares
# after a kernel-doc comment ("name() - ...").  A declaration without one, or
# a kernel-doc for a function the header does not declare, fails too: either
# would make "documented API" ambiguous.
#
# Unless ABI_LINK=0, a program built against HEADER and LIBRARY alone must
# link every documented function, run (a spec resolved and built into
# leaves), and fail to link a helper the library keeps to itself.
#
# "make check" runs it on the build tree, tools/test-packaging.sh on the
# installed package (ABI_LINK=0: it links inside the chroot instead).
set -u

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	echo "usage: $0 HEADER LIBRARY [MAP]" >&2
	exit 2
fi
HDR=$1
LIB=$2
MAP=${3:-}
NM=${NM:-nm}
CC=${CC:-cc}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n shim/abi/$1"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n shim/abi/$1"
	sed 's/^/# /' "$2"
}

# A kernel-doc block must be followed by the declaration it names; a
# top-level function declaration (a line starting in column 0 that names
# hvr_*()) must have had one.  Continuation lines start with a tab.
awk '
	function orphan() {
		if (want != "") {
			print "line " NR ": kernel-doc for " want "() is not followed by its declaration" > "/dev/stderr"
			err = 1
		}
		want = ""
	}
	/^\/\*\*/ { orphan(); indoc = 1; doc = ""; next }
	indoc && /\*\// { indoc = 0; want = doc; next }
	indoc {
		if (match($0, /^ \* [A-Za-z_][A-Za-z0-9_]*\(\) - /)) {
			doc = substr($0, 4, RLENGTH - 3)
			sub(/\(\) - $/, "", doc)
		}
		next
	}
	/^[ \t]*$/ { next }
	/^[A-Za-z_]/ && match($0, /hvr_[A-Za-z0-9_]*\(/) {
		name = substr($0, RSTART, RLENGTH - 1)
		if (want == "") {
			print "line " NR ": " name "() is declared without a kernel-doc comment" > "/dev/stderr"
			err = 1
		} else if (want != name) {
			print "line " NR ": kernel-doc for " want "() is followed by " name "()" > "/dev/stderr"
			err = 1
		} else {
			print name
		}
		want = ""
		next
	}
	{ orphan() }
	END { orphan(); exit err }
' "$HDR" >"$T/header.raw" 2>"$T/out"
rc=$?
sort "$T/header.raw" >"$T/header"
if [ $rc -eq 0 ] && [ -s "$T/header" ]; then
	ok "header-documented # $(wc -l <"$T/header") functions"
else
	[ -s "$T/header" ] || echo "no documented function found" >>"$T/out"
	not_ok header-documented "$T/out"
fi

# compare <name> <file>: the sorted names in <file> are the header's
compare() {
	if diff -u "$T/header" "$2" >"$T/diff"; then
		ok "$1"
	else
		{ echo "-: documented but missing, +: there but not documented"
		  sed -n '/^[-+][^-+]/p' "$T/diff"; } >"$T/out"
		not_ok "$1" "$T/out"
	fi
}

# Defined dynamic symbols, without the version suffix; the version node
# itself (an absolute symbol named like LIBHVRELAY_0) is not a function.
if $NM -D --defined-only "$LIB" >"$T/nm" 2>"$T/out"; then
	awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' "$T/nm" | sort >"$T/lib"
	compare exports "$T/lib"
else
	not_ok exports "$T/out"
fi

if [ -n "$MAP" ]; then
	# the names between "global:" and "local:", comments stripped
	sed 's#/\*.*\*/##; /\/\*/,/\*\//d' "$MAP" |
		awk '/global:/ { g = 1; next } /local:/ { g = 0 }
		     g && /;/ { gsub(/[ \t;]/, ""); if ($0 != "") print }' | sort >"$T/map"
	compare version-script "$T/map"
	awk '$2 != "A" && $3 !~ /@@?LIBHVRELAY_/ { print $3 " has no LIBHVRELAY_* version" }' \
		"$T/nm" >"$T/out"
	if [ -s "$T/out" ]; then not_ok versioned "$T/out"; else ok versioned; fi
fi

if [ "${ABI_LINK:-1}" != 0 ]; then
	# Every documented function referenced, so that each must resolve in
	# the library; then a use a VMM would make, on a host that offers only
	# AccessVpIndex (0x40000003 EAX bit 6).  With an enlightenment on,
	# 0x40000001 EAX is the interface signature "Hv#1" (TLFS 6.0 section
	# 2.4.2).
	{
		echo '#include <stdio.h>'
		echo '#include <string.h>'
		echo '#include <hvrelay.h>'
		echo 'typedef void (*fn)(void);'
		echo 'fn volatile all[] = {'
		sed 's/.*/	(fn)&,/' "$T/header"
		echo '};'
		cat <<-'EOF'
		static const char host_text[] =
			"0x40000000 0 0x40000005 0 0 0\n"
			"0x40000001 0 0x31237648 0 0 0\n"
			"0x40000002 0 0 0 0 0\n"
			"0x40000003 0 0x40 0 0 0\n"
			"0x40000004 0 0 0 0 0\n"
			"0x40000005 0 0 0 0 0\n";

		int main(void)
		{
			struct kvm_cpuid_entry2 ent[HVR_CPUID_MAX_LEAVES];
			struct hvr_spec spec;
			struct hvr_host host;
			struct hvr_config cfg;
			struct hvr_error err = { 0 };
			int i, n;

			if (hvr_spec_parse("none+vpindex", &spec, &err) ||
			    hvr_host_parse(host_text, &host, &err) ||
			    hvr_resolve(&spec, &host, false, &cfg, &err)) {
				fprintf(stderr, "%s\n", err.msg);
				return 1;
			}
			n = hvr_cpuid_build(&cfg, ent, HVR_CPUID_MAX_LEAVES, &err);
			for (i = 0; i < n; i++)
				if (ent[i].function == 0x40000001 && !memcmp(&ent[i].eax, "Hv#1", 4))
					return 0;
			fprintf(stderr, "no 0x40000001 \"Hv#1\" among %d leaves: %s\n", n, err.msg);
			return 1;
		}
		EOF
	} >"$T/api.c"
	dir=$(dirname "$LIB")
	if $CC -Wall -Wextra -Werror -I"$(dirname "$HDR")" -o "$T/api" "$T/api.c" "$LIB" \
		-Wl,-rpath,"$dir" >"$T/out" 2>&1 && "$T/api" >>"$T/out" 2>&1; then
		ok link-documented
	else
		not_ok link-documented "$T/out"
	fi

	# hvr_fail() is the library's own (lib/internal.h); were it exported,
	# a program could come to depend on it.
	printf 'int hvr_fail(void *, int, const char *, ...);\nint main(void) { return hvr_fail(0, 0, ""); }\n' \
		>"$T/internal.c"
	if $CC -o "$T/internal" "$T/internal.c" "$LIB" >"$T/out" 2>&1; then
		echo "a program linked hvr_fail() from $LIB" >"$T/out"
		not_ok link-internal-refused "$T/out"
	else
		ok link-internal-refused
	fi
fi

echo "1..$n"
[ $failed -eq 0 ] || echo "# $failed of $n failed"
exit $((failed > 0))
