#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Generate libhvrelay's CPU model table from Debian's own QEMU.

usage: cpu-models.py [--qemu BIN] [--table FILE] [--rst FILE] [--capture FILE]

Starts BIN (default qemu-system-x86_64) with -machine none under TCG, paused,
and asks it over QMP for its CPU models (query-cpu-definitions) and, for each,
the feature booleans and identity of its static expansion
(query-cpu-model-expansion type "static").  The features become CPUID words
through cpuid-facts.txt, the bit positions written from the Intel SDM and the
AMD APM; the x86-64 psABI levels come from psabi-levels.txt.  Writes:

  --table    tools/shim/lib/cpu_models_table.c, the library's table
  --rst      Documentation/cpu-models.rst, the model page
  --capture  tools/shim/tests/ref/qemu-cpu-models.json, what QEMU answered,
             before any mapping: the tests check the table against it

Nothing is edited by hand in those files; "make -C tools/shim cpu-models"
runs this.  The output depends only on QEMU's answers and the two fact
files, so the same package version gives the same bytes
(tests/cpu-models-check.py).  Python's standard library only.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHIM = os.path.dirname(HERE)
TOP = os.path.dirname(os.path.dirname(SHIM))
REGS = ("eax", "ebx", "ecx", "edx")
QEMU_PACKAGE = "qemu-system-x86"

# Not CPU models: "host" and "max" are whatever the accelerator and the
# machine offer (QMP calls them not migration-safe), "base" is the empty
# starting point of every static expansion.
SKIP = {"host", "max", "base"}


class FactError(Exception):
    pass


def read_facts(path):
    """The words, mirrors and per-feature facts of cpuid-facts.txt."""
    words, mirrors, feats = [], [], {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            tok = line.split("#", 1)[0].split()
            if not tok:
                continue
            where = "%s:%d" % (os.path.basename(path), n)
            if tok[0] == "word":
                words.append((int(tok[1], 16), int(tok[2]), REGS.index(tok[3])))
                continue
            if tok[0] == "mirror":
                src = (int(tok[1], 16), int(tok[2]), REGS.index(tok[3]))
                dst = (int(tok[4], 16), int(tok[5]), REGS.index(tok[6]))
                mirrors.append((src, dst, int(tok[7], 16), set(tok[8:])))
                continue
            name, kind = tok[0], tok[1]
            if name in feats:
                raise FactError("%s: %s listed twice" % (where, name))
            if kind in ("cpuid", "dynamic"):
                key = (int(tok[2], 16), int(tok[3]), REGS.index(tok[4]))
                if key not in words:
                    raise FactError("%s: %s is in no declared word" % (where, name))
                feats[name] = (kind, key, int(tok[5]))
            elif kind == "msr":
                feats[name] = (kind, tok[2], tok[3])
            elif kind == "none":
                feats[name] = (kind, " ".join(tok[2:]))
            else:
                raise FactError("%s: unknown kind %r" % (where, kind))
    for src, dst, _, _ in mirrors:
        if src not in words or dst not in words:
            raise FactError("mirror between undeclared words")
    return words, mirrors, feats


def read_levels(path):
    """psABI levels: [(name, emitted, set of features)] in file order."""
    levels, by_name, cur = [], {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            tok = line.split("#", 1)[0].split()
            if not tok:
                continue
            if tok[0] in ("level", "base"):
                feats = set(by_name[tok[2]]) if len(tok) > 2 else set()
                cur = (tok[1], tok[0] == "level", feats)
                levels.append(cur)
                by_name[tok[1]] = feats
            elif tok[0] == "features":
                cur[2].update(tok[1:])
    return [lv for lv in levels if lv[1]]


class Qmp:
    """QMP over the child's stdin/stdout, one JSON object a line."""

    def __init__(self, binary):
        self.proc = subprocess.Popen(
            [binary, "-accel", "tcg", "-machine", "none", "-nodefaults",
             "-display", "none", "-S", "-qmp", "stdio"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.greeting = self._read()
        self.cmd("qmp_capabilities")

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("QEMU closed its QMP channel")
        return json.loads(line)

    def cmd(self, name, args=None):
        msg = {"execute": name}
        if args is not None:
            msg["arguments"] = args
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()
        while True:
            reply = self._read()
            if "error" in reply:
                raise RuntimeError("%s: %s" % (name, reply["error"]))
            if "return" in reply:
                return reply["return"]
            # anything else is an asynchronous event

    def close(self):
        try:
            self.cmd("quit")
        except (RuntimeError, BrokenPipeError):
            pass
        self.proc.wait(timeout=30)


def qemu_version(binary):
    out = subprocess.run([binary, "--version"], capture_output=True, text=True,
                         check=True).stdout
    return out.splitlines()[0].strip()


def package_version():
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", QEMU_PACKAGE],
                             capture_output=True, text=True)
    except OSError:
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"


def ask_qemu(binary):
    """What QEMU says: {name: {vendor, family, ..., aliases, features}}."""
    qmp = Qmp(binary)
    try:
        defs = qmp.cmd("query-cpu-definitions")
        aliases = {}
        for d in defs:
            if d.get("alias-of"):
                aliases.setdefault(d["alias-of"], []).append(d["name"])
        models = {}
        for d in defs:
            if d.get("alias-of") or d["name"] in SKIP:
                continue
            exp = qmp.cmd("query-cpu-model-expansion",
                          {"type": "static", "model": {"name": d["name"]}})
            props = exp["model"]["props"]
            models[d["name"]] = {
                "vendor": props["vendor"],
                "family": props["family"],
                "model": props["model"],
                "stepping": props["stepping"],
                "model-id": props["model-id"],
                "aliases": sorted(aliases.get(d["name"], [])),
                "features": sorted(k for k, v in props.items() if v is True),
            }
    finally:
        qmp.close()
    return models


def words_of(features, vendor, words, mirrors, feats, who):
    """CPUID words for a feature set; MSR features apart; the rest refused."""
    val = [0] * len(words)
    msr = []
    for name in sorted(features):
        fact = feats.get(name)
        if fact is None:
            raise FactError("%s sets %r, which cpuid-facts.txt does not place" % (who, name))
        if fact[0] == "cpuid":
            val[words.index(fact[1])] |= 1 << fact[2]
        elif fact[0] == "msr":
            msr.append(name)
        elif fact[0] == "none":
            raise FactError("%s sets %r, which has no fact: %s" % (who, name, fact[1]))
        # "dynamic" bits (hypervisor) are the VMM's and the OS's, never a model's
    for src, dst, mask, vendors in mirrors:
        if vendor in vendors:
            val[words.index(dst)] |= val[words.index(src)] & mask
    return val, msr


def c_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def c_list(names):
    return "(const char *const []){ " + "".join(c_str(n) + ", " for n in names) + "NULL }"


def word_label(w):
    fn, idx, reg = w
    return "0x%08x.%d %s" % (fn, idx, REGS[reg].upper())


def emit_table(out, origin, words, mirrors, feats, models):
    w = out.write
    w("/* SPDX-License-Identifier: LGPL-2.1-or-later */\n")
    w("/*\n * Generated by tools/shim/gen/cpu-models.py: do not edit, run\n")
    w(" * \"make -C tools/shim cpu-models\".  From the CPU models of\n")
    w(" *   %s\n" % origin["version"])
    w(" *   package %s %s\n" % (QEMU_PACKAGE, origin["package"]))
    w(" * (QMP query-cpu-model-expansion, type static, under TCG), with CPUID bit\n")
    w(" * positions from gen/cpuid-facts.txt (Intel SDM, AMD APM) and the x86-64\n")
    w(" * psABI levels of gen/psabi-levels.txt.\n */\n")
    w("#include \"cpu_models.h\"\n\n")
    w("const char hvr_cpu_models_qemu[] = %s;\n" % c_str(origin["version"]))
    w("const char hvr_cpu_models_package[] = %s;\n\n" % c_str(origin["package"]))

    w("const struct hvr_cpu_word_def hvr_cpu_word_defs[] = {\n")
    for i, wd in enumerate(words):
        names = [bit_name(feats, wd, b, mirrors) for b in range(32)]
        dyn = 0
        for name, fact in feats.items():
            if fact[0] == "dynamic" and fact[1] == wd:
                dyn |= 1 << fact[2]
        w("\t{ 0x%08x, %d, HVR_%s, 0x%08x, {" % (wd[0], wd[1], REGS[wd[2]].upper(), dyn))
        for b, n in enumerate(names):
            if n:
                w("\n\t\t[%d] = %s," % (b, c_str(n)))
        w("\n\t} },\n" if any(names) else " } },\n")
    w("};\n\n")
    w("_Static_assert(sizeof(hvr_cpu_word_defs) / sizeof(hvr_cpu_word_defs[0]) == HVR_CPU_NR_WORDS,\n")
    w("\t       \"gen/cpuid-facts.txt and enum hvr_cpu_word disagree\");\n\n")

    src_q = "QEMU %s" % origin["version"].replace("QEMU emulator version ", "")
    w("const struct hvr_cpu_model hvr_cpu_models[] = {\n")
    for m in models:
        w("\t{\n\t\t.name = %s,\n" % c_str(m["name"]))
        w("\t\t.aliases = %s,\n" % c_list(m["aliases"]))
        if m["vendor"] is not None:
            w("\t\t.vendor = %s,\n" % c_str(m["vendor"]))
            w("\t\t.brand = %s,\n" % c_str(m["brand"]))
            w("\t\t.family = %d, .model = %d, .stepping = %d,\n"
              % (m["family"], m["model"], m["stepping"]))
        w("\t\t.source = %s,\n" % c_str(src_q if m["qemu"] else "x86-64 psABI 1.0"))
        w("\t\t.words = {")
        for i, v in enumerate(m["words"]):
            if v:
                w("\n\t\t\t[%d] = 0x%08x,\t/* %s */" % (i, v, word_label(words[i])))
        w("\n\t\t},\n")
        w("\t\t.msr_features = %s,\n" % c_list(m["msr"]))
        w("\t},\n")
    w("};\n\n")
    w("const unsigned int hvr_cpu_nr_models = sizeof(hvr_cpu_models) / sizeof(hvr_cpu_models[0]);\n")


def rst_escape(s):
    return s.replace("\\", "\\\\").replace("*", "\\*").replace("`", "\\`").replace("|", "\\|")


def emit_rst(out, origin, words, mirrors, feats, models):
    w = out.write
    w(".. SPDX-License-Identifier: GPL-2.0-only\n\n")
    w(".. This file is generated by tools/shim/gen/cpu-models.py: do not edit it,\n")
    w("   run \"make -C tools/shim cpu-models\" instead.\n\n")
    w("==========\nCPU models\n==========\n\n")
    w("The named CPU models of ``libhvrelay`` (``hvr_cpu_model_lookup()``,\n")
    w("``kvm-hv-relay cpu models``), as Debian's QEMU defines them:\n")
    w("``%s``, package ``%s`` %s.  Each was read from QEMU\n"
      % (origin["version"], QEMU_PACKAGE, origin["package"]))
    w("itself over QMP (``query-cpu-model-expansion``, type ``static``); the\n")
    w("CPUID bit of every feature comes from the Intel SDM and the AMD APM\n")
    w("(``tools/shim/gen/cpuid-facts.txt``), and the x86-64 levels from the\n")
    w("psABI (``tools/shim/gen/psabi-levels.txt``).  How a model is applied is\n")
    w("in :doc:`shim`.\n\n")
    nq = sum(1 for m in models if m["qemu"])
    w("%d QEMU models and %d x86-64 levels.\n\n" % (nq, len(models) - nq))
    w(".. list-table::\n   :header-rows: 1\n   :widths: 22 22 14 10 32\n\n")
    w("   * - Model\n     - Also known as\n     - Vendor\n     - Family/model/stepping\n"
      "     - Brand string\n")
    for m in models:
        w("   * - ``%s``\n" % m["name"])
        w("     - %s\n" % (", ".join("``%s``" % a for a in m["aliases"]) or "\\-"))
        if m["vendor"] is None:
            w("     - (host's)\n     - (host's)\n     - (host's)\n")
        else:
            w("     - %s\n" % m["vendor"])
            w("     - %d/%d/%d\n" % (m["family"], m["model"], m["stepping"]))
            w("     - %s\n" % (rst_escape(m["brand"]) if m["brand"] else "\\-"))
    w("\nFeatures\n========\n\n")
    w("Each model's features, in QEMU's names.  Those marked (MSR) are bits of a\n")
    w("model-specific register, not of CPUID: the table records them, the CPUID\n")
    w("masking does not apply them.\n\n")
    for m in models:
        names = []
        for i, v in enumerate(m["words"]):
            for b in range(32):
                if v >> b & 1:
                    names.append(bit_name(feats, words[i], b, mirrors))
        names = sorted(set(n for n in names if n)) + ["%s (MSR)" % n for n in m["msr"]]
        w("``%s``\n   %s\n\n" % (m["name"], ", ".join(names) or "none"))
    w("Feature words\n=============\n\n")
    w("A model constrains every one of these words, also where it sets no bit.\n")
    w("Dynamic bits are the operating system's or the hypervisor's and pass\n")
    w("through from the host: ``osxsave``, ``ospke``, ``hypervisor``.\n\n")
    for wd in words:
        names = ["%d %s" % (b, bit_name(feats, wd, b, mirrors)) for b in range(32)
                 if bit_name(feats, wd, b, mirrors)]
        w("``%s``\n   %s\n\n" % (word_label(wd), ", ".join(names) or "no bit named by QEMU"))
    w("Features without a CPUID bit\n============================\n\n")
    w("QEMU names these too; they are bits of MSRs, or have no fact recorded\n")
    w("(no model may set those).\n\n")
    for name in sorted(feats):
        fact = feats[name]
        if fact[0] == "msr":
            w("``%s``\n   MSR %s, bit %s\n\n" % (name, fact[1], fact[2]))
        elif fact[0] == "none":
            w("``%s``\n   %s\n\n" % (name, rst_escape(fact[1])))


def bit_name(feats, wd, bit, mirrors=()):
    """The feature at a bit; a mirrored bit is called what it copies."""
    for name, fact in feats.items():
        if fact[0] in ("cpuid", "dynamic") and fact[1] == wd and fact[2] == bit:
            return name
    for src, dst, mask, _ in mirrors:
        if dst == wd and mask >> bit & 1:
            return bit_name(feats, src, bit)
    return None


def build(qemu_models, levels, words, mirrors, feats):
    models = []
    for name in sorted(qemu_models, key=lambda s: (s.lower(), s)):
        q = qemu_models[name]
        val, msr = words_of(q["features"], q["vendor"], words, mirrors, feats, name)
        models.append({"name": name, "aliases": q["aliases"], "vendor": q["vendor"],
                       "brand": q["model-id"], "family": q["family"], "model": q["model"],
                       "stepping": q["stepping"], "words": val, "msr": msr, "qemu": True})
    for name, _, fs in levels:
        val, msr = words_of(fs, None, words, mirrors, feats, name)
        models.append({"name": name, "aliases": [], "vendor": None, "brand": None,
                       "words": val, "msr": msr, "qemu": False})
    return models


def write(path, fn, *args):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        fn(f, *args)
    os.replace(tmp, path)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--table", default=os.path.join(SHIM, "lib", "cpu_models_table.c"))
    ap.add_argument("--rst", default=os.path.join(TOP, "Documentation", "cpu-models.rst"))
    ap.add_argument("--capture", default=os.path.join(SHIM, "tests", "ref", "qemu-cpu-models.json"))
    args = ap.parse_args(argv[1:])

    words, mirrors, feats = read_facts(os.path.join(HERE, "cpuid-facts.txt"))
    levels = read_levels(os.path.join(HERE, "psabi-levels.txt"))
    origin = {"version": qemu_version(args.qemu), "package": package_version()}
    qemu_models = ask_qemu(args.qemu)
    try:
        models = build(qemu_models, levels, words, mirrors, feats)
    except FactError as e:
        sys.stderr.write("cpu-models.py: %s\n" % e)
        return 1

    def capture(f):
        # One model a line: a reviewable diff when QEMU changes.
        f.write('{"qemu": %s, "package": %s, "models": {\n'
                % (json.dumps(origin["version"]), json.dumps(origin["package"])))
        names = sorted(qemu_models)
        for i, n in enumerate(names):
            f.write("%s: %s%s\n" % (json.dumps(n), json.dumps(qemu_models[n], sort_keys=True),
                                    "," if i + 1 < len(names) else ""))
        f.write("}}\n")

    write(args.table, emit_table, origin, words, mirrors, feats, models)
    write(args.rst, emit_rst, origin, words, mirrors, feats, models)
    write(args.capture, capture)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
