#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The CPU model table against QEMU, as TAP (shim/cpu-models/...).

usage: cpu-models-check.py CLI

* regenerate: gen/cpu-models.py run again into a temporary directory must
  give byte for byte the committed table, model page and capture, when the
  installed qemu-system-x86 is the package version the table records (SKIP
  with the reason otherwise: another QEMU may define other models).
* qemu/<model>: for every model in tests/ref/qemu-cpu-models.json, what
  QEMU's own query-cpu-model-expansion listed, "CLI cpu show MODEL --json"
  must give the same identity, aliases and feature names (CPUID and MSR
  ones together; the hypervisor bit is never a model's).
* psabi/<level>: the x86-64 levels as the psABI (1.0, section 3.1.1) lists
  them, written out here, plus the 64-bit baseline of psabi-levels.txt.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SHIM = os.path.dirname(HERE)
TOP = os.path.dirname(os.path.dirname(SHIM))
GEN = os.path.join(SHIM, "gen", "cpu-models.py")
FILES = {
    "--table": os.path.join(SHIM, "lib", "cpu_models_table.c"),
    "--rst": os.path.join(TOP, "Documentation", "cpu-models.rst"),
    "--capture": os.path.join(HERE, "ref", "qemu-cpu-models.json"),
}

# psABI names in QEMU's spelling: CMPXCHG16B cx16, LAHF-SAHF lahf-lm,
# SSE3 pni, LZCNT abm; OSFXSR and OSXSAVE are the OS's (FXSR, XSAVE kept).
BASELINE = set("fpu cx8 cmov fxsr mmx syscall sse sse2 lm "
               "apic msr sep pae pat mtrr tsc vme pse pge nx".split())
V2 = BASELINE | set("cx16 lahf-lm popcnt pni sse4.1 sse4.2 ssse3".split())
PSABI = {
    "x86-64-v2": V2,
    "x86-64-v2-AES": V2 | {"aes", "pclmulqdq"},
    "x86-64-v3": V2 | set("avx avx2 bmi1 bmi2 f16c fma abm movbe xsave".split()),
}
PSABI["x86-64-v4"] = PSABI["x86-64-v3"] | set(
    "avx512f avx512bw avx512cd avx512dq avx512vl".split())

n = 0
failed = 0


def tap(ok, name, diag=None, skip=None):
    global n, failed
    n += 1
    if skip:
        print("ok %d shim/cpu-models/%s # SKIP %s" % (n, name, skip))
        return
    print("%s %d shim/cpu-models/%s" % ("ok" if ok else "not ok", n, name))
    if not ok:
        failed += 1
        for line in (diag or "").splitlines():
            print("# " + line)


def installed_package():
    try:
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "qemu-system-x86"],
                           capture_output=True, text=True)
    except OSError:
        return None
    return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else None


def regenerate(capture):
    want = capture["package"]
    have = installed_package()
    if have is None:
        return tap(True, "regenerate", skip="qemu-system-x86 is not installed "
                   "(the table is from %s)" % want)
    if have != want:
        return tap(True, "regenerate", skip="installed qemu-system-x86 is %s, "
                   "the table is from %s" % (have, want))
    with tempfile.TemporaryDirectory() as tmp:
        args = []
        for opt, path in FILES.items():
            args += [opt, os.path.join(tmp, os.path.basename(path))]
        r = subprocess.run([sys.executable, GEN] + args, capture_output=True, text=True)
        if r.returncode:
            return tap(False, "regenerate", "cpu-models.py failed:\n" + r.stderr)
        diag = []
        for opt, path in FILES.items():
            with open(path, "rb") as a, open(os.path.join(tmp, os.path.basename(path)), "rb") as b:
                if a.read() != b.read():
                    diag.append("%s differs from a fresh run: run make -C tools/shim "
                                "cpu-models and review the diff" % os.path.relpath(path, TOP))
        tap(not diag, "regenerate", "\n".join(diag))


def show(cli, name):
    r = subprocess.run([cli, "cpu", "show", name, "--json"], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError("cpu show %s: exit %d: %s" % (name, r.returncode, r.stderr.strip()))
    return json.loads(r.stdout)


def against_qemu(cli, capture):
    for name, q in sorted(capture["models"].items()):
        try:
            got = show(cli, name)
        except (RuntimeError, ValueError) as e:
            tap(False, "qemu/" + name, str(e))
            continue
        diag = []
        for key, qkey in (("vendor", "vendor"), ("family", "family"), ("model", "model"),
                          ("stepping", "stepping"), ("brand", "model-id"), ("aliases", "aliases")):
            if got.get(key) != q[qkey]:
                diag.append("%s: %r, QEMU says %r" % (key, got.get(key), q[qkey]))
        ours = set(got["features"]) | set(got["msr_features"])
        theirs = set(q["features"]) - {"hypervisor"}
        if ours != theirs:
            diag.append("features only here: %s" % " ".join(sorted(ours - theirs)))
            diag.append("features only in QEMU: %s" % " ".join(sorted(theirs - ours)))
        for alias in q["aliases"]:
            try:
                if show(cli, alias)["name"] != name:
                    diag.append("alias %s names another model" % alias)
            except (RuntimeError, ValueError) as e:
                diag.append(str(e))
        tap(not diag, "qemu/" + name, "\n".join(diag))


def psabi(cli):
    for name, want in PSABI.items():
        try:
            got = show(cli, name)
        except (RuntimeError, ValueError) as e:
            tap(False, "psabi/" + name, str(e))
            continue
        diag = []
        if got["vendor"] is not None:
            diag.append("a psABI level has no vendor, got %r" % got["vendor"])
        ours = set(got["features"])
        if ours != want:
            diag.append("only here: %s; only in the psABI list: %s"
                        % (" ".join(sorted(ours - want)), " ".join(sorted(want - ours))))
        tap(not diag, "psabi/" + name, "\n".join(diag))


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: %s CLI\n" % argv[0])
        return 2
    with open(FILES["--capture"], encoding="utf-8") as f:
        capture = json.load(f)
    regenerate(capture)
    against_qemu(argv[1], capture)
    psabi(argv[1])
    print("1..%d" % n)
    if failed:
        print("# %d of %d failed" % (failed, n))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
