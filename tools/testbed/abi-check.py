#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""abi-check.py: would kvm_hv_relay link against a kernel we cannot boot?

Usage: abi-check.py <series> <abi-prev list (.gz)> <kvm_hv_relay.ko built for
the nearest Debian kernel> <the module's Kbuild>

Reads the undefined symbols of the module (nm -u) and its imported
namespaces (modinfo), and looks each up in a Proxmox VE abi-prev list, the
exported-symbol list pve-kernel publishes per release. A symbol counts as
exported to us only without a namespace, or in a namespace the module
imports; "module:<list>" namespaces (exports to named modules only, such as
module:kvm-amd,kvm-intel) count as not exported. Prints TAP: one line for
the series, the symbols that would not resolve as comments.

Only a namespace restriction fails the check: a rebuild against that
kernel cannot lift it. A symbol the list lacks is shown but does not fail:
most are names the nearest Debian kernel's headers generate (kmalloc and
copy_user variants, per-CPU bases) or wrappers that are inline or macros
there, which that kernel's own headers resolve at build time; only a
build against them could tell, and none can be fetched here. Symbols Kbuild
probes in the target's Module.symvers (relay_probe ... Module.symvers) are
optional: the build falls back where they are not exported to us.
"""
import re
import gzip
import subprocess
import sys


def exports(path):
    """symbol -> namespace ('' for none) from an abi-prev list."""
    out = {}
    with gzip.open(path, 'rt') as f:
        for line in f:
            tok = line.split()
            # the CRC is the one field that always has the same form; the
            # symbol follows it, the namespace (when given) leads the line
            crc = next((i for i, t in enumerate(tok) if t.startswith('0x')), None)
            if crc is None or crc + 1 >= len(tok):
                continue
            ns = tok[0] if not tok[0].startswith('EXPORT_') else ''
            out[tok[crc + 1]] = ns
    return out


def optional_symbols(kbuild):
    """Symbols Kbuild looks up in Module.symvers to choose a fallback."""
    with open(kbuild) as f:
        return set(re.findall(r'Module\.symvers,\[\[:space:\]\]([A-Za-z_0-9]+)', f.read()))


def main():
    series, abi, ko, kbuild = sys.argv[1:5]
    und = subprocess.run(['nm', '-u', ko], check=True, capture_output=True,
                         text=True).stdout.split()
    und = sorted({t for t in und if t != 'U'})
    ns_ok = set(subprocess.run(['modinfo', '-F', 'import_ns', ko], check=True,
                               capture_output=True, text=True).stdout.split())
    optional = optional_symbols(kbuild)
    exp = exports(abi)
    bad, absent, fallback = [], [], []
    for sym in und:
        ns = exp.get(sym)
        if ns is None:
            absent.append(sym)
            continue
        why = None
        if ns.startswith('module:'):
            why = f'exported only to {ns[7:]}'
        elif ns and ns not in ns_ok:
            why = f'in namespace {ns}, which the module does not import'
        if why and sym in optional:
            fallback.append(f'{sym}: {why}; Kbuild sees it in Module.symvers and falls back')
        elif why:
            bad.append(f'{sym}: {why}')
    name = f'proxmox/{series}/symbols'
    summary = (f'{len(und)} imports: {len(und) - len(absent) - len(bad) - len(fallback)} exported to us, '
               f'{len(bad)} restricted, {len(fallback)} optional, {len(absent)} not in the list')
    print(f'{"not ok" if bad else "ok"} - {name} # {summary}')
    for b in bad:
        print(f'#   restricted: {b}')
    for b in fallback:
        print(f'#   optional: {b}')
    if absent:
        print(f'#   not in the list (renamed, inline or generated there): {" ".join(absent)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
