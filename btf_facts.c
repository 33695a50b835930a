// SPDX-License-Identifier: GPL-2.0-only
/*
 * btf_facts: build-time host tool.  Reads kvm's and kvm_amd's BTF (split BTF
 * over vmlinux's) and prints svm_btf.h:
 *
 *  - for kvm: the byte offset and size of every struct kvm_vcpu, struct kvm
 *    and memslot member the module touches, which the module's build then
 *    compares with the headers it is compiled against (compat.h
 *    relay_kvm_layout()), plus the size and CRC32 of kvm's BTF and of the
 *    vmlinux BTF it is split over: in Debian's builds these structs are
 *    described by vmlinux's part, so both are what the facts came from;
 *
 *  - for kvm_amd: the few facts about KVM's private struct vcpu_svm that no
 *    public header gives,
 *
 *      vcpu_svm.vmcb                        the current VMCB (vmcb02 in L2)
 *      vcpu_svm.nested.vmcb02.ptr           cross-check of the above in L2
 *      vcpu_svm.nested.vmcb12_gpa           L1's VMCB for the running L2
 *
 *    plus the size and CRC32 of the kvm_amd BTF they came from;
 *
 *  - for kvm_intel, likewise, of its private struct vcpu_vmx:
 *
 *      vcpu_vmx.fail                        the last VM entry VM-failed
 *
 * The module verifies at load that the running kernel's BTF files are the
 * ones described.
 *
 * Usage: btf_facts <vmlinux BTF> <kvm BTF> <kvm_amd BTF> <kvm_intel BTF>
 * Each input is raw BTF (/sys/kernel/btf/...), an ELF file with a .BTF
 * section (vmlinux, kvm.ko, kvm-amd.ko), optionally .xz/.zst/.gz
 * compressed, or, for vmlinux, the bzImage it was packed into
 * (/boot/vmlinuz-...).
 *
 * When the facts of kvm cannot be established the header says why and the
 * module refuses to load; without those of kvm_amd it refuses on AMD, and
 * without kvm_intel's on Intel.  The
 * build itself never fails because of this.  Only the BTF format
 * (include/uapi/linux/btf.h) is relied on; the layout structs are spelled
 * out here so that the tool builds with any libc.
 */
#include <linux/elf.h>
#include <linux/types.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define BTF_MAGIC	0xeB9F

enum {
	K_INT = 1, K_PTR, K_ARRAY, K_STRUCT, K_UNION, K_ENUM, K_FWD, K_TYPEDEF,
	K_VOLATILE, K_CONST, K_RESTRICT, K_FUNC, K_FUNC_PROTO, K_VAR,
	K_DATASEC, K_FLOAT, K_DECL_TAG, K_TYPE_TAG, K_ENUM64,
};

struct btf_hdr {
	__u16 magic;
	__u8 version;
	__u8 flags;
	__u32 hdr_len;
	__u32 type_off, type_len, str_off, str_len;
	__u32 layout_off, layout_len;	/* only when hdr_len covers them */
};

struct btf_t {
	__u32 name_off, info, size_type;
};

struct btf_m {
	__u32 name_off, type, offset;
};

struct btf {
	const struct btf *base;
	const char *name;	/* "vmlinux", "kvm", "kvm_amd" */
	unsigned char *data;
	size_t size;
	const char *strs;
	__u32 str_len;
	__u32 str_start;	/* first string offset of this part */
	const struct btf_t **types;
	__u32 nr;		/* types in this part */
	__u32 first_id;	/* id of types[0] */
};

static char why[512];

static int fail(const char *fmt, ...)
{
	va_list ap;

	if (!why[0]) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A whole stream; @cmd says whether @f came from popen(). */
static unsigned char *read_all(FILE *f, int cmd, const char *what, size_t *size)
{
	size_t cap = 1 << 20, n = 0, got;
	unsigned char *nb, *buf = malloc(cap);

	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n < cap)
			continue;
		cap *= 2;
		nb = realloc(buf, cap);
		if (!nb)
			free(buf);
		buf = nb;
	}
	if ((cmd ? pclose(f) : fclose(f)) != 0 || !buf || !n) {
		fail("cannot read %s", what);
		free(buf);
		return NULL;
	}
	*size = n;
	return buf;
}

/* Decompressors by file name suffix, and by magic for a vmlinuz payload. */
static const struct {
	const char *suffix, *magic, *cmd;
	size_t magic_len;
} decomp[] = {
	{ ".xz", "\xfd\x37\x7a\x58\x5a", "xz -dc", 5 },
	{ ".zst", "\x28\xb5\x2f\xfd", "zstd -dc", 4 },
	{ ".gz", "\x1f\x8b", "gzip -dc", 2 },
	{ ".bz2", "BZh", "bzip2 -dc", 3 },
	{ ".lz4", "\x02\x21\x4c\x18", "lz4 -dc", 4 },
	{ ".lzma", "\x5d\x00\x00", "xz --format=lzma -dc", 3 },
	{ ".lzo", "\x89LZO", "lzop -dc", 4 },
};

static unsigned char *decompress(const char *cmd, const char *path,
				 size_t *size)
{
	char line[4096];
	FILE *f;

	if (strchr(path, '\'')) {
		fail("cannot read %s: quote in the name", path);
		return NULL;
	}
	snprintf(line, sizeof(line), "%s -- '%s'", cmd, path);
	f = popen(line, "r");
	if (!f) {
		fail("cannot run %s", cmd);
		return NULL;
	}
	return read_all(f, 1, path, size);
}

static unsigned char *slurp(const char *path, size_t *size)
{
	size_t len = strlen(path);
	unsigned int i;
	FILE *f;

	for (i = 0; i < ARRAY_SIZE(decomp); i++) {
		size_t sl = strlen(decomp[i].suffix);

		if (len > sl && !strcmp(path + len - sl, decomp[i].suffix))
			return decompress(decomp[i].cmd, path, size);
	}
	f = fopen(path, "rb");
	if (!f) {
		fail("cannot read %s", path);
		return NULL;
	}
	return read_all(f, 0, path, size);
}

/*
 * vmlinux out of an x86 bzImage (boot protocol 2.08+): the compressed
 * payload's offset and length are in the setup header, relative to the
 * protected-mode code after the (setup_sects + 1) real-mode sectors.  The
 * payload ends with the 4-byte uncompressed size, which no decompressor
 * takes for part of its stream.
 */
static unsigned char *bzimage_vmlinux(const char *path, unsigned char *file,
				      size_t size, size_t *out_size)
{
	char tmp[] = "/tmp/btf_facts.XXXXXX";
	unsigned char *vmlinux = NULL;
	__u32 off, len;
	unsigned int i;
	int fd;

	if (size < 0x250 || memcmp(file + 0x202, "HdrS", 4))
		return NULL;
	memcpy(&off, file + 0x248, 4);
	memcpy(&len, file + 0x24c, 4);
	off += ((file[0x1f1] ? file[0x1f1] : 4) + 1) * 512;
	if ((__u64)off + len > size || len < 8) {
		fail("%s: bad bzImage payload", path);
		return NULL;
	}
	len -= 4;
	for (i = 0; i < ARRAY_SIZE(decomp); i++)
		if (len >= decomp[i].magic_len &&
		    !memcmp(file + off, decomp[i].magic, decomp[i].magic_len))
			break;
	if (i == ARRAY_SIZE(decomp)) {
		fail("%s: unknown bzImage compression", path);
		return NULL;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		fail("cannot create %s", tmp);
		return NULL;
	}
	if (write(fd, file + off, len) == (ssize_t)len)
		vmlinux = decompress(decomp[i].cmd, tmp, out_size);
	else
		fail("cannot write %s", tmp);
	close(fd);
	unlink(tmp);
	if (!vmlinux && strstr(why, tmp))
		snprintf(why, sizeof(why), "cannot decompress %s with %s",
			 path, decomp[i].cmd);
	return vmlinux;
}

/* The .BTF section of a little-endian ELF64 file, or the file itself. */
static int btf_bytes(const char *path, unsigned char *file, size_t size,
		     unsigned char **btf, size_t *btf_size)
{
	const struct elf64_hdr *eh = (const struct elf64_hdr *)file;
	const struct elf64_shdr *sh;
	const char *names;
	unsigned int i;

	if (size >= 2 && file[0] == 0x9f && file[1] == 0xeb) {
		*btf = file;
		*btf_size = size;
		return 0;
	}
	if (size >= SELFMAG && memcmp(eh->e_ident, ELFMAG, SELFMAG)) {
		unsigned char *vmlinux = bzimage_vmlinux(path, file, size, &size);

		if (!vmlinux)
			return why[0] ? -1 : fail("%s is neither BTF, ELF nor a bzImage", path);
		file = vmlinux;
		eh = (const struct elf64_hdr *)file;
	}
	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return fail("%s is neither BTF nor a little-endian ELF64 file", path);
	if (eh->e_shoff + (__u64)eh->e_shnum * sizeof(*sh) > size ||
	    eh->e_shstrndx >= eh->e_shnum)
		return fail("%s: bad section headers", path);
	sh = (const struct elf64_shdr *)(file + eh->e_shoff);
	if (sh[eh->e_shstrndx].sh_offset >= size)
		return fail("%s: bad section names", path);
	names = (const char *)file + sh[eh->e_shstrndx].sh_offset;
	for (i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_name >= sh[eh->e_shstrndx].sh_size ||
		    strcmp(names + sh[i].sh_name, ".BTF"))
			continue;
		if (sh[i].sh_offset + sh[i].sh_size > size)
			return fail("%s: truncated .BTF", path);
		*btf = file + sh[i].sh_offset;
		*btf_size = sh[i].sh_size;
		return 0;
	}
	return fail("%s has no .BTF section", path);
}

static int btf_load(struct btf *b, const char *name, const char *path,
		    const struct btf *base)
{
	struct btf_hdr h = { 0 };
	const struct btf_t *t;
	unsigned char *file, *p, *end;
	size_t size, cap = 4096;
	__u32 layout_nr = 0;
	const unsigned char *layout = NULL;

	memset(b, 0, sizeof(*b));
	file = slurp(path, &size);
	if (!file || btf_bytes(path, file, size, &b->data, &b->size))
		return -1;
	memcpy(&h, b->data, b->size < sizeof(h) ? b->size : sizeof(h));
	if (b->size < 24 || h.magic != BTF_MAGIC || h.version != 1 ||
	    h.hdr_len < 24 || h.hdr_len > b->size ||
	    (__u64)h.hdr_len + h.type_off + h.type_len > b->size ||
	    (__u64)h.hdr_len + h.str_off + h.str_len > b->size || !h.str_len)
		return fail("%s: not valid BTF", path);
	if (h.hdr_len < 32)
		h.layout_len = 0;
	if (h.layout_len && (__u64)h.hdr_len + h.layout_off + h.layout_len <= b->size) {
		layout = b->data + h.hdr_len + h.layout_off;
		layout_nr = h.layout_len / 4;
	}

	b->base = base;
	b->name = name;
	b->strs = (const char *)b->data + h.hdr_len + h.str_off;
	b->str_len = h.str_len;
	b->str_start = base ? base->str_start + base->str_len : 0;
	b->first_id = base ? base->first_id + base->nr : 1;
	b->types = malloc(cap * sizeof(*b->types));

	p = b->data + h.hdr_len + h.type_off;
	end = p + h.type_len;
	while (p < end) {
		__u32 kind, vlen, extra;

		if (p + sizeof(*t) > end)
			return fail("%s: truncated type section", path);
		t = (const struct btf_t *)p;
		kind = (t->info >> 24) & 0x7f;
		vlen = t->info & 0xffff;
		switch (kind) {
		case K_INT: case K_VAR: case K_DECL_TAG:
			extra = 4;
			break;
		case K_ARRAY:
			extra = 12;
			break;
		case K_STRUCT: case K_UNION: case K_DATASEC: case K_ENUM64:
			extra = 12 * vlen;
			break;
		case K_ENUM: case K_FUNC_PROTO:
			extra = 8 * vlen;
			break;
		case K_PTR: case K_FWD: case K_TYPEDEF: case K_VOLATILE:
		case K_CONST: case K_RESTRICT: case K_FUNC: case K_FLOAT:
		case K_TYPE_TAG:
			extra = 0;
			break;
		default:
			/* A kind newer than this tool: the layout section sizes it. */
			if (kind >= layout_nr)
				return fail("%s: unknown BTF kind %u", path, kind);
			extra = layout[kind * 4] + vlen * layout[kind * 4 + 1];
			break;
		}
		if (b->nr == cap) {
			const struct btf_t **nt = realloc(b->types, (cap *= 2) * sizeof(*nt));

			if (!nt)
				return fail("out of memory");
			b->types = nt;
		}
		b->types[b->nr++] = t;
		p += sizeof(*t) + extra;
	}
	return 0;
}

static const char *btf_str(const struct btf *b, __u32 off)
{
	for (; b; b = b->base)
		if (off >= b->str_start) {
			off -= b->str_start;
			return off < b->str_len ? b->strs + off : "";
		}
	return "";
}

static const struct btf_t *btf_type(const struct btf *b, __u32 id)
{
	for (; b; b = b->base)
		if (id >= b->first_id)
			return id - b->first_id < b->nr ? b->types[id - b->first_id] : NULL;
	return NULL;
}

static unsigned int btf_kind(const struct btf_t *t)
{
	return (t->info >> 24) & 0x7f;
}

/* Strip typedefs and qualifiers. */
static const struct btf_t *btf_resolve(const struct btf *b, __u32 id)
{
	const struct btf_t *t = btf_type(b, id);
	int depth = 0;

	while (t && depth++ < 32) {
		switch (btf_kind(t)) {
		case K_TYPEDEF: case K_VOLATILE: case K_CONST: case K_RESTRICT:
		case K_TYPE_TAG:
			t = btf_type(b, t->size_type);
			continue;
		}
		return t;
	}
	return NULL;
}

/*
 * Every struct of that name in the module's own part or, when the module has
 * none, in the BTF it is split over: pahole describes a type in vmlinux's
 * part when vmlinux has the same one, and it may leave copies of a type that
 * differ only in what some pointer points to.  Return: how many (at most
 * @max), *@part the BTF they are in.
 */
static unsigned int find_structs(const struct btf *mod, const char *name,
				 const struct btf_t **found, unsigned int max,
				 const struct btf **part)
{
	const struct btf *b;
	unsigned int n = 0;
	__u32 i;

	for (b = mod; b && !n; b = b->base)
		for (i = 0; i < b->nr && n < max; i++) {
			const struct btf_t *t = b->types[i];

			if (btf_kind(t) != K_STRUCT ||
			    strcmp(btf_str(b, t->name_off), name))
				continue;
			found[n++] = t;
			*part = b;
		}
	if (!n)
		fail("%s BTF has no struct %s (or the vmlinux BTF is of another kernel)",
		     mod->name, name);
	return n;
}

/* The one struct of that name (see find_structs()). */
static const struct btf_t *find_struct(const struct btf *mod, const char *name)
{
	const struct btf_t *found[2];
	const struct btf *part;
	unsigned int n = find_structs(mod, name, found, 2, &part);

	if (n > 1)
		fail("%s BTF has two struct %s", part->name, name);
	return n == 1 ? found[0] : NULL;
}

/*
 * Bit offset of a member, looked for in anonymous struct and union members
 * too, as C finds it; its resolved type in *type.  -1 when there is none.
 */
static long member_bits(const struct btf *b, const struct btf_t *s,
			const char *sname, const char *name,
			const struct btf_t **type)
{
	const struct btf_m *m = (const struct btf_m *)(s + 1);
	__u32 i, vlen = s->info & 0xffff;
	int kflag = s->info >> 31;

	for (i = 0; i < vlen; i++) {
		__u32 bits = kflag ? m[i].offset & 0xffffff : m[i].offset;
		const char *mname = btf_str(b, m[i].name_off);
		const struct btf_t *t;
		long inner;

		if (!mname[0]) {
			t = btf_resolve(b, m[i].type);
			if (!t || (btf_kind(t) != K_STRUCT && btf_kind(t) != K_UNION))
				continue;
			inner = member_bits(b, t, sname, name, type);
			if (inner == -2)
				return -2;
			if (inner >= 0)
				return bits + inner;
			continue;
		}
		if (strcmp(mname, name))
			continue;
		if ((kflag && m[i].offset >> 24) || bits % 8)
			return fail("%s.%s is a bit-field", sname, name) - 1;
		*type = btf_resolve(b, m[i].type);
		if (!*type)
			return fail("%s.%s has a bad type", sname, name) - 1;
		return bits;
	}
	return -1;
}

/* Byte offset of a member; its resolved type in *type. */
static long member_offset(const struct btf *b, const struct btf_t *s,
			  const char *sname, const char *name,
			  const struct btf_t **type)
{
	long bits = member_bits(b, s, sname, name, type);

	if (bits == -1)
		return fail("struct %s has no member %s", sname, name);
	return bits < 0 ? -1 : bits / 8;
}

/* sizeof() of a resolved type, as x86-64 lays it out. */
static long type_size(const struct btf *b, const struct btf_t *t)
{
	const __u32 *arr;
	long elem;

	if (!t)
		return -1;
	switch (btf_kind(t)) {
	case K_INT: case K_STRUCT: case K_UNION: case K_ENUM: case K_FLOAT:
	case K_ENUM64:
		return t->size_type;
	case K_PTR:
		return 8;
	case K_ARRAY:
		arr = (const __u32 *)(t + 1);	/* type, index_type, nelems */
		elem = type_size(b, btf_resolve(b, arr[0]));
		return elem < 0 ? -1 : elem * arr[2];
	}
	return -1;
}

static int is_struct(const struct btf *b, const struct btf_t *t, const char *name)
{
	return t && btf_kind(t) == K_STRUCT && !strcmp(btf_str(b, t->name_off), name);
}

static int is_ptr_to(const struct btf *b, const struct btf_t *t, const char *name)
{
	return t && btf_kind(t) == K_PTR &&
	       is_struct(b, btf_resolve(b, t->size_type), name);
}

static __u32 crc32_ieee(const unsigned char *p, size_t n)
{
	__u32 crc = 0xffffffff;
	int k;

	while (n--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
	}
	return ~crc;
}

struct facts {
	long vcpu_size, vmcb, vmcb02, vmcb12_gpa, fail;
};

/* The vendor's vCPU struct embeds struct kvm_vcpu first: to_svm(), to_vmx(). */
static const struct btf_t *vendor_vcpu(const struct btf *b, const char *sname,
				       struct facts *f)
{
	const struct btf_t *s = find_struct(b, sname), *t;
	long vcpu;

	if (!s)
		return NULL;
	vcpu = member_offset(b, s, sname, "vcpu", &t);
	if (vcpu < 0)
		return NULL;
	if (vcpu != 0 || !is_struct(b, t, "kvm_vcpu")) {
		fail("%s.vcpu is not a struct kvm_vcpu at offset 0", sname);
		return NULL;
	}
	f->vcpu_size = t->size_type;
	return s;
}

static int svm_facts(const struct btf *amd, struct facts *f)
{
	const struct btf_t *svm, *nst, *info, *t;
	long nested, vmcb02, ptr;

	svm = vendor_vcpu(amd, "vcpu_svm", f);
	nst = find_struct(amd, "svm_nested_state");
	info = find_struct(amd, "kvm_vmcb_info");
	if (!svm || !nst || !info)
		return -1;

	f->vmcb = member_offset(amd, svm, "vcpu_svm", "vmcb", &t);
	if (f->vmcb < 0)
		return -1;
	if (!is_ptr_to(amd, t, "vmcb"))
		return fail("vcpu_svm.vmcb is not a struct vmcb pointer");

	nested = member_offset(amd, svm, "vcpu_svm", "nested", &t);
	if (nested < 0)
		return -1;
	if (t != nst)
		return fail("vcpu_svm.nested is not a struct svm_nested_state");

	vmcb02 = member_offset(amd, nst, "svm_nested_state", "vmcb02", &t);
	if (vmcb02 < 0)
		return -1;
	if (t != info)
		return fail("svm_nested_state.vmcb02 is not a struct kvm_vmcb_info");
	ptr = member_offset(amd, info, "kvm_vmcb_info", "ptr", &t);
	if (ptr < 0)
		return -1;
	if (!is_ptr_to(amd, t, "vmcb"))
		return fail("kvm_vmcb_info.ptr is not a struct vmcb pointer");
	f->vmcb02 = nested + vmcb02 + ptr;

	f->vmcb12_gpa = member_offset(amd, nst, "svm_nested_state", "vmcb12_gpa", &t);
	if (f->vmcb12_gpa < 0)
		return -1;
	if (btf_kind(t) != K_INT || t->size_type != 8)
		return fail("svm_nested_state.vmcb12_gpa is not a 64-bit integer");
	f->vmcb12_gpa += nested;
	return 0;
}

static int vmx_facts(const struct btf *intel, struct facts *f)
{
	const struct btf_t *vmx = vendor_vcpu(intel, "vcpu_vmx", f), *t;

	if (!vmx)
		return -1;
	f->fail = member_offset(intel, vmx, "vcpu_vmx", "fail", &t);
	if (f->fail < 0)
		return -1;
	/* What the module reads it as; non-zero is a VM-Fail, as for KVM. */
	if (btf_kind(t) != K_INT || t->size_type != 1)
		return fail("vcpu_vmx.fail is not an 8-bit integer");
	return 0;
}

/*
 * Members of KVM's structs the module touches, directly or through the
 * public inline helpers it calls (kvm_memslots(), __gfn_to_memslot(),
 * __gfn_to_hva_memslot(), kvm_is_visible_memslot()).  Some exist only in
 * some releases: an absent one is recorded as such, and compat.h asserts
 * only the ones its headers have.  Each becomes RELAY_KVM_OFF_<id> and
 * RELAY_KVM_SIZE_<id>, <id> being the struct and the member path in
 * capitals, '__' between them: KVM_VCPU__ARCH_REGS.
 */
static const struct {
	const char *type, *path;
} kvm_members[] = {
	{ "kvm_vcpu", "kvm" },
	{ "kvm_vcpu", "vcpu_id" },
	{ "kvm_vcpu", "vcpu_idx" },
	{ "kvm_vcpu", "run" },
	{ "kvm_vcpu", "arch" },
	{ "kvm_vcpu", "arch.regs" },
	{ "kvm_vcpu", "arch.regs_avail" },
	{ "kvm_vcpu", "arch.regs_dirty" },
	{ "kvm_vcpu", "arch.rip" },
	{ "kvm_vcpu", "arch.cr0" },
	{ "kvm_vcpu", "arch.hflags" },
	{ "kvm_vcpu", "arch.efer" },
	{ "kvm_vcpu", "arch.complete_userspace_io" },
	{ "kvm_vcpu", "arch.pv_eoi.msr_val" },
	{ "kvm_vcpu", "arch.pv_eoi.data" },
	{ "kvm_vcpu", "arch.guest_mmu.cpu_role" },
	{ "kvm_vcpu", "arch.ngpa_walk.cpu_role" },
	{ "kvm", "memslots" },
	{ "kvm", "max_vcpus" },
	{ "kvm", "created_vcpus" },
	{ "kvm", "debugfs_dentry" },
	{ "kvm", "arch" },
	{ "kvm", "arch.hyperv.conn_to_evt" },
	{ "kvm_memslots", "last_used_slot" },
	{ "kvm_memslots", "gfn_tree" },
	{ "kvm_memslots", "node_idx" },
	{ "kvm_memory_slot", "gfn_node" },
	{ "kvm_memory_slot", "base_gfn" },
	{ "kvm_memory_slot", "npages" },
	{ "kvm_memory_slot", "userspace_addr" },
	{ "kvm_memory_slot", "flags" },
	{ "kvm_memory_slot", "id" },
	{ "gfn_to_hva_cache", "gpa" },
	{ "gfn_to_hva_cache", "len" },
};

struct member_fact {
	long off, size;		/* -1, -1: no such member */
};

/*
 * Offset from the start of @s and size of the member at the dotted @path.
 * Return: 0 (absent members included), -1 when the BTF makes no sense.
 */
static int path_fact(const struct btf *b, const struct btf_t *s,
		     const char *sname, const char *path, struct member_fact *f)
{
	char name[128];
	const struct btf_t *t = s;
	const char *p = path;
	long bits, off = 0;

	while (*p) {
		size_t n = strcspn(p, ".");

		if (btf_kind(t) != K_STRUCT && btf_kind(t) != K_UNION)
			return fail("%s.%.*s is no struct", sname, (int)(p - path - 1), path);
		if (n >= sizeof(name))
			return fail("member path %s too long", path);
		memcpy(name, p, n);
		name[n] = 0;
		bits = member_bits(b, t, sname, name, &t);
		if (bits == -1) {
			f->off = -1;
			f->size = -1;
			return 0;
		}
		if (bits < 0)
			return -1;
		off += bits / 8;
		p += n + (p[n] == '.');
	}
	f->off = off;
	f->size = type_size(b, t);
	if (f->size < 0)
		return fail("%s.%s has a type of unknown size", sname, path);
	return 0;
}

static void print_id(const char *type, const char *path)
{
	const char *p;

	for (p = type; *p; p++)
		putchar(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
	if (!path)
		return;
	printf("__");
	for (p = path; *p; p++)
		putchar(*p == '.' ? '_' : *p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
}

#define MAX_COPIES	8

static int kvm_facts(const struct btf *kvm)
{
	struct member_fact f[ARRAY_SIZE(kvm_members)], g;
	const struct btf_t *s[MAX_COPIES];
	const struct btf *part;
	unsigned int i, j, n, c;

	for (i = 0; i < ARRAY_SIZE(kvm_members); i++) {
		const char *type = kvm_members[i].type, *path = kvm_members[i].path;

		n = find_structs(kvm, type, s, MAX_COPIES, &part);
		if (!n)
			return -1;
		/* Copies of a struct must agree on what we use of it. */
		for (c = 0; c < n; c++) {
			if (path_fact(part, s[c], type, path, c ? &g : &f[i]))
				return -1;
			if (c && (s[c]->size_type != s[0]->size_type ||
				  g.off != f[i].off || g.size != f[i].size))
				return fail("%s BTF has struct %s copies that differ in %s",
					    part->name, type, path);
		}

		/* Each struct once: its size, and which part describes it. */
		for (j = 0; j < i; j++)
			if (!strcmp(kvm_members[j].type, type))
				break;
		if (j == i) {
			printf("/* struct %s: %u cop%s in %s's part */\n#define RELAY_KVM_SIZEOF_",
			       type, n, n == 1 ? "y" : "ies", part->name);
			print_id(type, NULL);
			printf("\t%uu\n", s[0]->size_type);
		}
		printf("#define RELAY_KVM_OFF_");
		print_id(type, path);
		if (f[i].off < 0)
			printf("\tRELAY_KVM_ABSENT\n");
		else
			printf("\t%ldu\n", f[i].off);
		printf("#define RELAY_KVM_SIZE_");
		print_id(type, path);
		if (f[i].off < 0)
			printf("\tRELAY_KVM_ABSENT\n");
		else
			printf("\t%ldu\n", f[i].size);
	}
	return 0;
}

/* A reason, as a C string literal's contents. */
static const char *c_string(char *s)
{
	char *c;

	for (c = s; *c; c++)
		if (*c == '"' || *c == '\\' || *c < ' ')
			*c = '\'';
	return s;
}

/* Prints the facts or why there are none; the reason of the latter in why. */
static void print_kvm(const char *vmlinux_path, const struct btf *vmlinux,
		      const char *path)
{
	struct btf kvm;

	printf("/* kvm: struct kvm_vcpu, struct kvm and memslot layout */\n");
	printf("#define RELAY_KVM_ABSENT\t\t0xffffffffu\n");
	if (!why[0] && !path[0])
		fail("no kvm BTF found at build time: set RELAY_KVM_BTF=");
	if (!why[0] && !btf_load(&kvm, "kvm", path, vmlinux)) {
		/* On failure, what kvm_facts() printed is of no use but harmless. */
		printf("/* from %s over %s */\n", path, vmlinux_path);
		if (!kvm_facts(&kvm)) {
			printf("#define RELAY_KVM_BTF_FACTS\t\t1\n");
			printf("#define RELAY_KVM_BTF_MISSING\t\t\"\"\n");
			printf("#define RELAY_KVM_BTF_SIZE\t\t%zuu\n", kvm.size);
			printf("#define RELAY_KVM_BTF_CRC32\t\t0x%08xu\n",
			       crc32_ieee(kvm.data, kvm.size));
			printf("#define RELAY_VMLINUX_BTF_SIZE\t\t%zuu\n", vmlinux->size);
			printf("#define RELAY_VMLINUX_BTF_CRC32\t\t0x%08xu\n\n",
			       crc32_ieee(vmlinux->data, vmlinux->size));
			return;
		}
	}
	fprintf(stderr, "btf_facts: %s: kvm-hv-relay will refuse to load\n", why);
	printf("#define RELAY_KVM_BTF_FACTS\t\t0\n");
	printf("#define RELAY_KVM_BTF_MISSING\t\t\"%s\"\n", c_string(why));
	printf("#define RELAY_KVM_BTF_SIZE\t\t0u\n#define RELAY_KVM_BTF_CRC32\t\t0u\n"
	       "#define RELAY_VMLINUX_BTF_SIZE\t\t0u\n#define RELAY_VMLINUX_BTF_CRC32\t\t0u\n\n");
}

/* A vendor module's facts: RELAY_<tag>_<name> for each of @names. */
struct vendor {
	const char *mod, *sname, *tag, *var, *cpu;
	int (*facts)(const struct btf *b, struct facts *f);
	const char *names[4];
	size_t offs[4];	/* offsetof(struct facts, ...) of each name */
};

static const struct vendor vendors[] = {
	{ "kvm_amd", "vcpu_svm", "SVM", "RELAY_KVM_AMD_BTF", "AMD", svm_facts,
	  { "KVM_VCPU_SIZE", "OFF_VMCB", "OFF_VMCB02", "OFF_VMCB12_GPA" },
	  { offsetof(struct facts, vcpu_size), offsetof(struct facts, vmcb),
	    offsetof(struct facts, vmcb02), offsetof(struct facts, vmcb12_gpa) } },
	{ "kvm_intel", "vcpu_vmx", "VMX", "RELAY_KVM_INTEL_BTF", "Intel", vmx_facts,
	  { "KVM_VCPU_SIZE", "OFF_FAIL" },
	  { offsetof(struct facts, vcpu_size), offsetof(struct facts, fail) } },
};

static void print_vendor(const struct vendor *v, const char *vmlinux_path,
			 const struct btf *vmlinux, const char *path)
{
	struct facts f = { 0 };
	unsigned int i;
	struct btf b;
	int ok;

	printf("/* %s: struct %s */\n", v->mod, v->sname);
	if (!why[0] && !path[0])
		fail("no %s BTF found at build time: set %s=", v->mod, v->var);
	ok = !why[0] && !btf_load(&b, v->mod, path, vmlinux) && !v->facts(&b, &f);
	if (ok) {
		printf("/* from %s over %s */\n", path, vmlinux_path);
		printf("#define RELAY_%s_BTF_MISSING\t\t\"\"\n", v->tag);
		printf("#define RELAY_%s_BTF_SIZE\t\t%zuu\n", v->tag, b.size);
		printf("#define RELAY_%s_BTF_CRC32\t\t0x%08xu\n", v->tag,
		       crc32_ieee(b.data, b.size));
	} else {
		fprintf(stderr, "btf_facts: %s: kvm-hv-relay will refuse to load on %s\n",
			why, v->cpu);
		printf("#define RELAY_%s_BTF_MISSING\t\t\"%s\"\n", v->tag, c_string(why));
		printf("#define RELAY_%s_BTF_SIZE\t\t0u\n#define RELAY_%s_BTF_CRC32\t\t0u\n",
		       v->tag, v->tag);
	}
	printf("#define RELAY_%s_BTF_FACTS\t\t%d\n", v->tag, ok);
	for (i = 0; i < ARRAY_SIZE(v->names) && v->names[i]; i++)
		printf("#define RELAY_%s_%s\t\t%ldu\n", v->tag, v->names[i],
		       ok ? *(long *)((char *)&f + v->offs[i]) : 0L);
	printf("\n");
}

int main(int argc, char **argv)
{
	char vmlinux_why[sizeof(why)] = "";
	struct btf vmlinux;
	unsigned int i;

	printf("/* Generated by btf_facts: do not edit. */\n"
	       "#ifndef KVM_HV_RELAY_SVM_BTF_H\n#define KVM_HV_RELAY_SVM_BTF_H\n\n");
	if (argc != 5)
		fail("usage: btf_facts <vmlinux BTF> <kvm BTF> <kvm_amd BTF> <kvm_intel BTF>");
	else if (!argv[1][0])
		fail("no vmlinux BTF of the target kernel at build time: set RELAY_VMLINUX_BTF=");
	else
		btf_load(&vmlinux, "vmlinux", argv[1], NULL);
	/* Without vmlinux's BTF, both parts fail for its reason. */
	snprintf(vmlinux_why, sizeof(vmlinux_why), "%s", why);
	print_kvm(argc == 5 ? argv[1] : "", &vmlinux, argc == 5 ? argv[2] : "");
	for (i = 0; i < ARRAY_SIZE(vendors); i++) {
		snprintf(why, sizeof(why), "%s", vmlinux_why);
		print_vendor(&vendors[i], argc == 5 ? argv[1] : "", &vmlinux,
			     argc == 5 ? argv[3 + i] : "");
	}
	printf("#endif\n");
	return 0;
}
