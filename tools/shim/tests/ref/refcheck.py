#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Diff the shim's leaves against QEMU 7.2 and OpenVMM PR #3743 (TAP).

usage: refcheck.py CLI [FIXTURE-DIR [ALLOW-LIST]]

For every preset x vendor x nesting, runs "CLI show PRESET --json" against
tests/fixtures/VENDOR-host.cpuid and compares:

* the leaves with what QEMU builds for the same hv-* set (the shim's
  "enabled" list, each name as -cpu hv-NAME), bit by bit;
* the enabled set with what OpenVMM's preset of that name turns on, and the
  leaves with what OpenVMM's KVM backend builds for it, bit by bit.

It does the same, against OpenVMM only, for the hv= examples OpenVMM's
guide documents ("doc:SPEC:VENDOR-nested|flat" cases).

Against QEMU only, so that no flag escapes the references because no
preset turns it on:

* "flag:NAME:VENDOR-nested|flat": every hv-* property the QEMU model
  knows, on top of "none" with what QEMU requires along with it, handed to
  QEMU as that set (not as the shim's enabled list).  Where QEMU would not
  start on the fixture's host, or OpenVMM refuses the flag without nesting,
  the shim must refuse the spec too;
* "extras-VENDOR-nested|flat": the golden.list rows named "extras-*".

Every difference must be covered by an entry of differences.list, and every
entry must hold in every case it names, so the list can neither miss a
difference nor outlive one.  See that file for its format.  Its "e2e"
entries, the differences from what QEMU gave the test bed's e2e L1, are
judged by tools/testbed/e2e/cpuid-check.py: here they must only parse and
name one of the lane's cells.
"""

import fnmatch
import json
import os
import re
import subprocess
import sys

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hvref  # noqa: E402

PRESETS = ("none", "default", "windows")

# The hv= examples of OpenVMM PR #3743's guide (hyperv_enlightenments.md and
# management/cli.md), which must give OpenVMM's result here (issue 16).
OPENVMM_DOCUMENTED = (
    "windows",
    "windows+no_evmcs",
    "default+stimer_direct",
    "none+synic+stimer+vapic",
    "windows+spinlocks=0x1fff",
    "default+stimer_direct+reenlightenment",
    "none+time+frequencies+synic+stimer+vapic+spinlocks=0x1fff",
)
VENDORS = ("intel", "amd")

# The e2e lane's cells, KERNEL-VENDOR-FLAVOUR: tools/testbed/e2e/cpuid-check.py
# judges "e2e" entries against what QEMU gave L1 there; here they are only
# parsed and must name one of these.
E2E_CASES = tuple("%s-%s-%s" % (k, v, f) for k in ("bookworm", "trixie", "backports")
                  for v in VENDORS for f in ("authorised", "unauthorised"))

# Measured in the test bed's e2e lane: what Debian 12's QEMU 7.2 gave its L1
# for hv-vpindex,hv-vapic,hv-time,hv-frequencies,hv-relaxed,hv-synic,
# hv-tlbflush-direct, read back with CPUID inside L1.  Only these registers
# were recorded.  The model must reproduce them.
MEASURED_SPEC = "none+vpindex+vapic+time+frequencies+relaxed+synic+tlbflush_direct"
MEASURED = {
    (hvref.FEATURES, hvref.EBX): 0x30,
    (hvref.FEATURES, hvref.EDX): 0x108,
    (hvref.LIMITS, hvref.EAX): 0xFFFFFFFF,
}


class Tap:
    def __init__(self):
        self.n = self.passed = self.failed = 0

    def result(self, good, name, diag=()):
        self.n += 1
        if good:
            self.passed += 1
            print("ok %d shim/ref/%s" % (self.n, name))
        else:
            self.failed += 1
            print("not ok %d shim/ref/%s" % (self.n, name))
        for line in diag:
            print("# " + line)

    def finish(self):
        print("1..%d" % self.n)
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 0 if self.failed == 0 else 1


class Entry:
    """One line of differences.list."""

    def __init__(self, lineno, words, reason):
        self.lineno = lineno
        self.cases = words[0].split(",")
        self.ref = words[1]
        self.key = words[2]
        self.kind = words[5]
        self.reason = reason
        self.used = False
        if self.ref not in ("qemu", "openvmm", "e2e"):
            raise ValueError("reference must be qemu, openvmm or e2e")
        if self.kind not in ("justified", "bug"):
            raise ValueError("kind must be justified or bug")
        if not reason:
            raise ValueError("no reason given")
        if self.ref == "e2e" and (self.key == "identity" or self.key.startswith("flag/")):
            raise ValueError("an e2e entry is LEAF.REG/MASK")
        if self.key == "identity":
            if self.ref != "openvmm":
                raise ValueError("identity is an openvmm key")
            self.shim, self.refv = words[3], words[4]
            if (self.shim, self.refv) != ("none", "hyperv"):
                raise ValueError("identity is 'none hyperv'")
            self.leaf = None
            self.flag = None
        elif self.key.startswith("flag/"):
            self.flag = self.key[5:]
            self.shim, self.refv = words[3], words[4]
            if {self.shim, self.refv} != {"on", "off"}:
                raise ValueError("a flag entry is 'on off' or 'off on'")
            self.leaf = None
        else:
            self.flag = None
            where, mask = self.key.split("/")
            leaf, reg = where.split(".")
            self.leaf = int(leaf, 16)
            self.reg = hvref.REG_NAMES.index(reg)
            self.mask = int(mask, 16)
            self.shim, self.refv = int(words[3], 16), int(words[4], 16)
            if (self.shim | self.refv) & ~self.mask:
                raise ValueError("values outside the mask")
            if self.shim == self.refv:
                raise ValueError("no difference under the mask")

    def names(self, case):
        return any(fnmatch.fnmatchcase(case, c) for c in self.cases)

    def __str__(self):
        return "differences.list:%d %s %s" % (self.lineno, self.ref, self.key)


def load_allow_list(path):
    entries, errors = [], []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            words = line.split(None, 6)
            try:
                if len(words) < 7:
                    raise ValueError("needs 7 fields")
                entries.append(Entry(lineno, words[:6], words[6].strip()))
            except ValueError as e:
                errors.append("differences.list:%d: %s" % (lineno, e))
    return entries, errors


def spin_of(spec):
    """The spinlock count the spec asks for, as QEMU's hv-spinlocks=."""
    spin = hvref.SPIN_NEVER_NOTIFY
    for tok in spec.split("+"):
        if tok.startswith("spinlocks="):
            spin = int(tok[10:], 0)
    return spin


def run_show(cli, spec, fixture, vendor, nested):
    cmd = [cli, "show", spec, "--json", "--host-cpuid", fixture, "--vendor", vendor]
    if nested:
        cmd.append("--nested")
    p = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    out = json.loads(p.stdout)
    leaves = {int(k, 16): [int(v[r], 16) for r in hvref.REG_NAMES]
              for k, v in out.get("leaves", {}).items()}
    return out, leaves


def qemu_diffs(shim, ref):
    """{(leaf, reg): (shim value, qemu value)} where they differ.

    A leaf one side does not build counts as zero: above its max leaf a guest
    that follows the TLFS does not look.
    """
    d = {}
    for leaf in hvref.COMPARED_LEAVES:
        a = shim.get(leaf, [0, 0, 0, 0])
        b = ref.get(leaf, [0, 0, 0, 0])
        for reg in range(4):
            if a[reg] != b[reg]:
                d[(leaf, reg)] = (a[reg], b[reg])
    return d


def check_leaves(case, refname, shim_leaves, ref, entries, diag):
    """Match the bit differences with one reference against the list."""
    pending = qemu_diffs(shim_leaves, ref)
    for e in entries:
        if not e.names(case) or e.ref != refname or e.leaf is None:
            continue
        a, b = pending.get((e.leaf, e.reg), (shim_leaves.get(e.leaf, [0] * 4)[e.reg],
                                             ref.get(e.leaf, [0] * 4)[e.reg]))
        if a & e.mask == e.shim and b & e.mask == e.refv:
            e.used = True
            rest = (a & ~e.mask, b & ~e.mask)
            if rest[0] == rest[1]:
                pending.pop((e.leaf, e.reg), None)
            else:
                pending[(e.leaf, e.reg)] = (a & ~e.mask | b & e.mask, b)
        else:
            diag.append("%s does not hold: shim 0x%08x, %s 0x%08x under 0x%08x"
                        % (e, a & e.mask, refname, b & e.mask, e.mask))
    for (leaf, reg), (a, b) in sorted(pending.items()):
        diag.append("unlisted %s difference: 0x%08x.%s/0x%08x shim 0x%08x, %s 0x%08x"
                    % (refname, leaf, hvref.REG_NAMES[reg], a ^ b, a, refname, b))


def check_case(case, shim_leaves, shim_enabled, qemu, openvmm, entries, nested=False,
               host=None, spin=hvref.SPIN_NEVER_NOTIFY):
    """Diagnostics for one case; empty means every difference is listed.

    qemu is QEMU's leaves or None (not compared); openvmm is OpenVMM's
    enabled set or None.
    """
    diag = []
    if qemu is not None:
        check_leaves(case, "qemu", shim_leaves, qemu, entries, diag)

    if openvmm is not None:
        shim_on = hvref.shim_as_openvmm(shim_enabled, bool(shim_leaves))
        flagdiff = {n: ("on" if n in shim_on else "off", "on" if n in openvmm else "off")
                    for n in shim_on ^ openvmm}
        for e in entries:
            if not e.names(case) or e.ref != "openvmm" or e.flag is None:
                continue
            if flagdiff.get(e.flag) == (e.shim, e.refv):
                e.used = True
                del flagdiff[e.flag]
            else:
                diag.append("%s does not hold" % e)
        for name, (a, b) in sorted(flagdiff.items()):
            diag.append("unlisted OpenVMM difference: flag/%s shim %s, OpenVMM %s" % (name, a, b))

        ovmm = hvref.openvmm_leaves(openvmm, nested, host, spin)
        ident = [e for e in entries if e.names(case) and e.key == "identity"]
        if not shim_leaves:
            # No Hyper-V at all here: there are no bits to compare.
            if ident:
                for e in ident:
                    e.used = True
            else:
                diag.append("unlisted OpenVMM difference: identity shim none, OpenVMM hyperv")
        else:
            for e in ident:
                diag.append("%s does not hold: the shim builds leaves" % e)
            check_leaves(case, "openvmm", shim_leaves, ovmm, entries, diag)
    return diag


def flag_cases():
    """(name, spec, QEMU's flag set, spin) for every hv-* property of the model."""
    out = []
    for name in sorted(set(hvref.QEMU_BITS) | hvref.QEMU_NOT_FEATURES):
        if name == "spinlocks":
            out.append(("spinlocks=0x1fff", "none+spinlocks=0x1fff", set(), 0x1FFF))
            continue
        need = hvref.qemu_requires(name)
        spec = "+".join(["none"] + sorted(need - {name}) + [name])
        out.append((name, spec, need, hvref.SPIN_NEVER_NOTIFY))
    return out


def golden_extras(path):
    """golden.list's "extras-*" rows as (name, spec, vendor, nested)."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if len(words) >= 3 and words[0].startswith("extras-"):
                rows.append((words[0], words[2], words[1].split("-")[0],
                             "--nested" in words[3:]))
    return rows


def refused(cli, spec, fixture, vendor, nested):
    """Diagnostics for a spec the reference refuses: empty if the shim does too."""
    try:
        run_show(cli, spec, fixture, vendor, nested)
    except RuntimeError:
        return []
    return ["the shim accepts %s, which the reference refuses" % spec]


def shim_flag_names(cli):
    """The flag names "CLI help" lists, each the first word of its line."""
    p = subprocess.run([cli, "help"], capture_output=True, text=True, check=False)
    names, inside = [], False
    for line in p.stdout.splitlines():
        if line.strip().startswith("Names ("):
            inside = True
        elif inside and not line.strip():
            break
        elif inside and line.startswith("    ") and not line.startswith("     "):
            names.append(line.split()[0])
    return names


DOC_SECTION = "Differences from QEMU and OpenVMM"


def doc_rows(path):
    """The rows of DOC_SECTION's list-tables in shim.rst, each a list of cells."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    start = lines.index(DOC_SECTION)
    rows, row = [], None
    for line in lines[start + 2:]:
        if line.startswith("==="):
            break               # the next section's underline
        if line.startswith("   * - "):
            row = [line[7:]]
            rows.append(row)
        elif row is not None and line.startswith("     - "):
            row.append(line[7:])
        elif row is not None and line.startswith("       "):
            row[-1] += " " + line.strip()
        elif not line.strip():
            row = None
    return [r for r in rows if r[0] != "Where"]


def check_doc_table(path, entries):
    """shim.rst's difference tables against differences.list, both ways."""
    diag = []
    listed = {}
    for e in entries:
        listed.setdefault((e.ref, e.key.lower()), set()).add(e.kind)
    seen = set()
    for row in doc_rows(path):
        if len(row) != 5:
            diag.append("shim.rst row %r: %d cells, want 5 (the last names its "
                        "differences.list entries)" % (row[0], len(row)))
            continue
        keys = re.findall(r"``(qemu|openvmm|e2e) ([^`]+)``", row[4])
        if not keys:
            diag.append("shim.rst row %r names no differences.list entry" % row[0])
        for ref, key in keys:
            k = (ref, key.lower())
            seen.add(k)
            if k not in listed:
                diag.append("shim.rst row %r: %s %s is not in differences.list" % (row[0], ref, key))
            elif listed[k] != {row[2].strip()}:
                diag.append("shim.rst row %r: kind %s, differences.list says %s"
                            % (row[0], row[2].strip(), "/".join(sorted(listed[k]))))
    for ref, key in sorted(set(listed) - seen):
        diag.append("differences.list %s %s has no row in shim.rst's %r tables"
                    % (ref, key, DOC_SECTION))
    return diag


def main(argv):
    if len(argv) < 2:
        print("usage: refcheck.py CLI [FIXTURE-DIR [ALLOW-LIST]]", file=sys.stderr)
        return 2
    here = os.path.dirname(os.path.abspath(__file__))
    cli = argv[1]
    fixdir = argv[2] if len(argv) > 2 else os.path.join(here, "..", "fixtures")
    allow = argv[3] if len(argv) > 3 else os.path.join(here, "differences.list")
    tap = Tap()

    entries, errors = load_allow_list(allow)
    tap.result(not errors, "allow-list-syntax", errors)

    # Documentation/shim.rst's tables and the list cannot drift apart.
    doc = os.path.join(here, "..", "..", "..", "..", "Documentation", "shim.rst")
    try:
        diag = check_doc_table(doc, entries)
    except (OSError, ValueError) as e:
        diag = ["%s: %s" % (type(e).__name__, e)]
    tap.result(not diag, "doc-table", diag)

    # The model against the measurement, before it judges anything else.
    flags = set(MEASURED_SPEC.split("+")[1:])
    model = hvref.qemu_leaves(flags)
    diag = ["0x%08x.%s: model 0x%08x, measured 0x%08x"
            % (leaf, hvref.REG_NAMES[reg], model.get(leaf, [0] * 4)[reg], want)
            for (leaf, reg), want in sorted(MEASURED.items())
            if model.get(leaf, [0] * 4)[reg] != want]
    tap.result(not diag, "qemu-model-vs-measured", diag)

    # (case, spec, vendor, nested, compare with QEMU, compare with OpenVMM)
    cases = []
    for preset in PRESETS:
        for vendor in VENDORS:
            for nested in (False, True):
                cases.append(("%s-%s-%s" % (preset, vendor, "nested" if nested else "flat"),
                              preset, vendor, nested, True, True))
    for vendor in VENDORS:
        cases.append(("measured-%s-nested" % vendor, MEASURED_SPEC, vendor, True, True, False))
    for spec in OPENVMM_DOCUMENTED:
        for vendor in VENDORS:
            for nested in (False, True):
                if "reenlightenment" in spec.split("+") and not nested:
                    continue    # OpenVMM refuses it: EvmcsWithoutNested
                cases.append(("doc:%s:%s-%s" % (spec, vendor, "nested" if nested else "flat"),
                              spec, vendor, nested, False, True))

    # (case, spec, vendor, nested, QEMU's flag set, spin)
    qemu_only = []
    for name, spec, need, spin in flag_cases():
        for vendor in VENDORS:
            for nested in (False, True):
                qemu_only.append(("flag:%s:%s-%s" % (name, vendor, "nested" if nested else "flat"),
                                  spec, vendor, nested, need, spin))
    for name, spec, vendor, nested in golden_extras(os.path.join(here, "..", "golden.list")):
        qemu_only.append((name, spec, vendor, nested, None, spin_of(spec)))

    # Any flag the shim has must meet a reference somewhere: its own
    # flag:* cases, or, for the shim's own names, the presets that use them.
    known = set(hvref.QEMU_BITS) | hvref.QEMU_NOT_FEATURES | hvref.SHIM_ONLY
    listed = shim_flag_names(cli)
    diag = ["'%s' has no reference case: add it to tests/ref/hvref.py" % n
            for n in listed if n not in known]
    if not listed:
        diag.append("no flag names found in '%s help'" % cli)
    tap.result(not diag, "every-flag-has-a-case", diag)

    names = [c[0] for c in cases] + [c[0] for c in qemu_only]
    for case, spec, vendor, nested, need, spin in qemu_only:
        fixture = os.path.join(fixdir, "%s-host.cpuid" % vendor)
        try:
            with open(fixture, encoding="utf-8") as f:
                _, host = hvref.parse_host(f.read())
            if need is not None and not nested and need & hvref.OPENVMM_NEEDS_NESTED:
                diag = refused(cli, spec, fixture, vendor, nested)
            else:
                try:
                    qemu = None
                    if need is not None:
                        qemu = hvref.qemu_leaves(need, spin, host)
                except hvref.Refused:
                    diag = refused(cli, spec, fixture, vendor, nested)
                else:
                    out, leaves = run_show(cli, spec, fixture, vendor, nested)
                    if qemu is None:
                        qemu = hvref.qemu_leaves(hvref.as_qemu_properties(out["enabled"]),
                                                 spin, host)
                    diag = check_case(case, leaves, out["enabled"], qemu, None, entries)
        except (OSError, ValueError, RuntimeError, KeyError, hvref.Refused) as e:
            diag = ["%s: %s" % (type(e).__name__, e)]
        tap.result(not diag, case, diag)

    for case, spec, vendor, nested, with_qemu, with_openvmm in cases:
        fixture = os.path.join(fixdir, "%s-host.cpuid" % vendor)
        try:
            with open(fixture, encoding="utf-8") as f:
                _, host = hvref.parse_host(f.read())
            out, leaves = run_show(cli, spec, fixture, vendor, nested)
            qemu = None
            if with_qemu:
                qemu = hvref.qemu_leaves(hvref.as_qemu_properties(out["enabled"]),
                                         spin_of(spec), host)
            openvmm = hvref.openvmm_flags(spec, nested, host) if with_openvmm else None
            diag = check_case(case, leaves, out["enabled"], qemu, openvmm, entries,
                              nested, host, hvref.openvmm_spin(spec))
        except (OSError, ValueError, RuntimeError, KeyError, hvref.Refused) as e:
            diag = ["%s: %s" % (type(e).__name__, e)]
        tap.result(not diag, case, diag)

    diag = []
    for e in entries:
        if e.ref == "e2e":
            if not any(e.names(n) for n in E2E_CASES):
                diag.append("%s names no e2e cell" % e)
        elif not any(e.names(n) for n in names):
            diag.append("%s names no case" % e)
        elif not e.used:
            diag.append("%s matches no difference any more: remove it" % e)
    tap.result(not diag, "allow-list-current", diag)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
