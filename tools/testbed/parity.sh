#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# parity.sh <kernel>/<vendor> < TAP of "boot.sh --check"
#
# The boot ran each upstream KVM selftest without kvm_hv_relay ("stock/")
# and again with it loaded ("relay/"), the second pass with another relay VM
# held alive (selftests/relay_hold.c).  Loading the module must change
# nothing for VMs that did not enable the relay: prints one unnumbered TAP
# line, parity/<kernel>/<vendor>, ok when every test has the same outcome
# (pass, fail or skip) in both passes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

pfx=$1
declare -A stock=() relay=()
while IFS= read -r l; do
	[[ $l =~ ^(not\ )?ok\ -\ ([^ ]+)(.*)$ ]] || continue
	name=${BASH_REMATCH[2]} rest=${BASH_REMATCH[3]}
	if [ -n "${BASH_REMATCH[1]}" ]; then
		st=fail
	elif [[ $rest =~ \#\ [Ss][Kk][Ii][Pp] ]]; then
		st=skip
	else
		st=pass
	fi
	case $name in
	"$pfx"/stock/*) stock[${name#"$pfx"/stock/}]=$st ;;
	"$pfx"/relay/*) relay[${name#"$pfx"/relay/}]=$st ;;
	esac
done

diffs=() npass=0 nskip=0 nfail=0
for t in "${!stock[@]}"; do
	s=${stock[$t]} r=${relay[$t]:-missing}
	if [ "$s" != "$r" ]; then
		diffs+=("$t: stock $s, relay $r")
		continue
	fi
	case $s in pass) npass=$((npass + 1)) ;; skip) nskip=$((nskip + 1)) ;; *) nfail=$((nfail + 1)) ;; esac
done
for t in "${!relay[@]}"; do
	[ -n "${stock[$t]:-}" ] || diffs+=("$t: relay ${relay[$t]}, no stock result")
done

if [ ${#stock[@]} -eq 0 ]; then
	tap_fail "parity/$pfx" "no stock/ results in this boot"
elif [ ${#diffs[@]} -gt 0 ]; then
	tap_fail "parity/$pfx" "${#diffs[@]} upstream test(s) differ with kvm_hv_relay loaded"
	printf '#   %s\n' "${diffs[@]}" | sort
else
	tap_ok "parity/$pfx"
	echo "# parity/$pfx: ${#stock[@]} upstream tests, same outcome without and with kvm_hv_relay ($npass pass, $nskip skip, $nfail fail in both)"
fi
