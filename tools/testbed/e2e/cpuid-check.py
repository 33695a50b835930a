#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The shim's leaves against what QEMU gave L1, from one e2e boot's log.

usage: cpuid-check.py LOG TAP-NAME CASE [ALLOW-LIST [FIXTURE-DIR]]

The e2e lane's L1 reads CPUID 0x40000000..0x4000000A as Debian's QEMU built
it for the lane's hv-* flags ("#   l1| E2E-L1: cpuid LEAF EAX EBX ECX EDX",
once per L1 run); tools/testbed/e2e/l0.sh printed, in the same L0 boot,
what "kvm-hv-relay show" builds for the equivalent spec on that L0
("#   shim| " lines: its JSON).  This compares the two register by register
and prints one TAP line, TAP-NAME.

Every difference must be covered by an entry of differences.list whose
reference is "e2e" and whose CASES name CASE (KERNEL-VENDOR-FLAVOUR, e.g.
trixie-amd-authorised; the REF-VALUE column is L1's), and every such entry
must hold, so the list can neither miss a difference nor outlive one.  A
leaf above a side's max leaf (0x40000000 EAX) counts as zero: a guest that
follows the TLFS does not read it.

It also tells, as a comment, whether the vCPU-without-irqchip capture
("#   nolapic| ") equals tests/fixtures/intel-nolapic-host.cpuid.
"""

import json
import os
import re
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.path.join(HERE, "..", "..", "shim", "tests", "ref")
sys.path.insert(0, REF)
import hvref  # noqa: E402
import refcheck  # noqa: E402

FIRST, LAST = 0x40000000, 0x4000000A
L1_RE = re.compile(r"^#   l1\| .*E2E-L1: cpuid (0x[0-9a-f]+) (0x[0-9a-f]+) (0x[0-9a-f]+) "
                   r"(0x[0-9a-f]+) (0x[0-9a-f]+)\s*$")
PREFIX_RE = re.compile(r"^#   (shim|hostvcpu|hostsys|nolapic)\| ?(.*)$")


def parse_log(path):
    """L1's dumps (one dict per L1 run) and the prefixed L0 sections."""
    dumps, sections = [], {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = L1_RE.match(line)
            if m:
                leaf, regs = int(m.group(1), 16), [int(v, 16) for v in m.group(2, 3, 4, 5)]
                if leaf == FIRST or not dumps:
                    dumps.append({})
                dumps[-1][leaf] = regs
                continue
            m = PREFIX_RE.match(line)
            if m:
                sections.setdefault(m.group(1), []).append(m.group(2))
    return dumps, sections


def built(leaves):
    """The leaves a TLFS guest reads: up to the max leaf, the rest zero."""
    top = leaves.get(FIRST, [0] * 4)[0]
    return {k: v for k, v in leaves.items() if FIRST <= k <= min(top, LAST)}


def shim_leaves(lines):
    """The shim's leaves from its JSON, or raise ValueError with its words."""
    text = "\n".join(l for l in lines if not l.startswith("spec "))
    try:
        out = json.loads(text)
    except ValueError:
        raise ValueError("show gave no JSON: " + " | ".join(lines[-3:]))
    return {int(k, 16): [int(v[r], 16) for r in hvref.REG_NAMES]
            for k, v in out.get("leaves", {}).items()}


def capture_rows(lines):
    """(function, index) -> registers of a host-cpuid listing, and its vendor."""
    rows, vendor = {}, None
    for l in lines:
        l = l.split("#", 1)[0].split()
        if len(l) == 2 and l[0] == "vendor":
            vendor = l[1]
        elif len(l) == 6:
            try:
                v = [int(x, 16) for x in l]
            except ValueError:
                continue
            rows[(v[0], v[1])] = v[2:]
    return rows, vendor


def fixture_note(sections, fixdir):
    if "nolapic" not in sections:
        return []
    fix = os.path.join(fixdir, "intel-nolapic-host.cpuid")
    got, gv = capture_rows(sections["nolapic"])
    with open(fix, encoding="utf-8") as f:
        want, wv = capture_rows(f.readlines())
    if not got:
        return ["nolapic capture failed: " + " | ".join(sections["nolapic"][-2:])]
    diff = ["0x%08x: captured %s, fixture %s" % (k[0], " ".join("%08x" % x for x in got.get(k, [])),
                                                " ".join("%08x" % x for x in want.get(k, [])))
            for k in sorted(set(got) | set(want)) if got.get(k) != want.get(k)]
    if gv != wv:
        diff.insert(0, "vendor: captured %s, fixture %s" % (gv, wv))
    if not diff:
        return ["vCPU without irqchip: the capture equals tests/fixtures/intel-nolapic-host.cpuid"]
    return ["vCPU without irqchip: the capture differs from "
            "tests/fixtures/intel-nolapic-host.cpuid:"] + diff


def check(log, case, allow, fixdir):
    """(good, diagnostics)"""
    entries, errors = refcheck.load_allow_list(allow)
    if errors:
        return False, errors
    entries = [e for e in entries if e.ref == "e2e"]
    dumps, sections = parse_log(log)
    if not dumps:
        return False, ["no E2E-L1 cpuid lines: L1 did not run"]
    if "shim" not in sections:
        return False, ["no '#   shim|' lines: l0.sh printed no shim leaves"]
    shim = built(shim_leaves(sections["shim"]))
    diag, seen = [], []
    for i, d in enumerate(dumps):
        missing = [k for k in range(FIRST, LAST + 1) if k not in d]
        if missing:
            diag.append("L1 run %d: leaves missing from its dump: %s"
                        % (i + 1, " ".join("0x%08x" % k for k in missing)))
            continue
        if d in seen:
            continue
        seen.append(d)
        d_diag = []
        refcheck.check_leaves(case, "e2e", shim, built(d), entries, d_diag)
        diag += ["L1 run %d: %s" % (i + 1, m.replace(", e2e 0x", ", L1 0x")) for m in d_diag]
    if len(seen) > 1:
        diag.append("the L1 runs read %d different sets of leaves" % len(seen))
    notes = fixture_note(sections, fixdir)
    return not diag, diag + notes if diag else ["%d L1 run(s), every difference listed"
                                              % len(dumps)] + notes


def main(argv):
    if len(argv) < 4:
        print("usage: cpuid-check.py LOG TAP-NAME CASE [ALLOW-LIST [FIXTURE-DIR]]",
              file=sys.stderr)
        return 2
    log, name, case = argv[1:4]
    allow = argv[4] if len(argv) > 4 else os.path.join(REF, "differences.list")
    fixdir = argv[5] if len(argv) > 5 else os.path.join(REF, "..", "fixtures")
    try:
        good, diag = check(log, case, allow, fixdir)
    except (OSError, ValueError, KeyError, IndexError) as e:
        good, diag = False, ["%s: %s" % (type(e).__name__, e)]
    print("%s - %s" % ("ok" if good else "not ok", name))
    for line in diag:
        print("# " + line)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
