#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""btfmod.py <vmlinux .BTF> <module .BTF> <out .BTF> <struct>

Write a copy of a vendor module's BTF (split BTF over vmlinux's) in which one
member name of <struct> (vcpu_svm, vcpu_vmx) is renamed, keeping every
length and offset: the first member whose name is the module's own string
and is used by nothing else in its BTF gets a same-length name found nowhere
in its strings.  The result is still valid BTF; only its bytes (and so its
CRC) differ.  Prints "<old> <new>".  Used by build.sh for
kvm_amd_btfmod.ko and kvm_intel_btfmod.ko (relay_hardening).
"""
import struct
import sys

# Bytes that follow struct btf_type, per kind: (fixed, per vlen entry).
EXTRA = {1: (4, 0), 2: (0, 0), 3: (12, 0), 4: (0, 12), 5: (0, 12),
         6: (0, 8), 7: (0, 0), 8: (0, 0), 9: (0, 0), 10: (0, 0), 11: (0, 0),
         12: (0, 0), 13: (0, 8), 14: (4, 0), 15: (0, 12), 16: (0, 0),
         17: (4, 0), 18: (0, 0), 19: (0, 12)}
# Kinds whose vlen entries start with a name offset.
NAMED_ENTRIES = {4, 5, 6, 13, 19}


def header(data):
    magic, _ver, _flags, hdr_len = struct.unpack_from('<HBBI', data, 0)
    if magic != 0xeb9f:
        sys.exit('btfmod: not BTF (magic 0x%x)' % magic)
    type_off, type_len, str_off, str_len = struct.unpack_from('<4I', data, 8)
    return hdr_len, type_off, type_len, str_off, str_len


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    base = open(sys.argv[1], 'rb').read()
    data = bytearray(open(sys.argv[2], 'rb').read())
    base_str_len = header(base)[4]
    hdr_len, type_off, type_len, str_off, str_len = header(data)
    strs_at = hdr_len + str_off

    def name(off):
        if off < base_str_len:
            return None		# a vmlinux string
        start = strs_at + off - base_str_len
        return bytes(data[start:data.index(0, start)]).decode()

    uses = {}			# name offset -> references
    structs = []		# (name offset, [member name offsets])
    pos, end = hdr_len + type_off, hdr_len + type_off + type_len
    while pos < end:
        name_off, info, _size = struct.unpack_from('<3I', data, pos)
        kind, vlen = (info >> 24) & 0x1f, info & 0xffff
        fixed, per = EXTRA[kind]
        uses[name_off] = uses.get(name_off, 0) + 1
        entries = pos + 12 + fixed
        members = []
        if kind in NAMED_ENTRIES:
            for i in range(vlen):
                off = struct.unpack_from('<I', data, entries + i * per)[0]
                uses[off] = uses.get(off, 0) + 1
                members.append(off)
        if kind == 4:
            structs.append((name_off, members))
        pos = entries + vlen * per

    local = set(bytes(data[strs_at:strs_at + str_len]).split(b'\0'))
    for name_off, members in structs:
        if name(name_off) != sys.argv[4]:
            continue
        for off in members:
            old = name(off)
            if not old or uses[off] != 1:
                continue
            for c in 'XYZQ':
                new = old[:-1] + c
                if new != old and new.encode() not in local:
                    break
            else:
                continue
            start = strs_at + off - base_str_len
            data[start:start + len(old)] = new.encode()
            open(sys.argv[3], 'wb').write(data)
            print(old, new)
            return
    sys.exit('btfmod: no struct %s member with a name of its own' % sys.argv[4])


main()
