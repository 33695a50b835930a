// SPDX-License-Identifier: GPL-2.0-only
/*
 * btf_facts: build-time host tool.  Reads kvm_amd's BTF (split BTF over
 * vmlinux's) and prints svm_btf.h, the few facts about KVM's private
 * struct vcpu_svm that no public header gives:
 *
 *   vcpu_svm.vmcb                           the current VMCB (vmcb02 in L2)
 *   vcpu_svm.nested.vmcb02.ptr              cross-check of the above in L2
 *   vcpu_svm.nested.vmcb12_gpa              L1's VMCB for the running L2
 *
 * plus the size and CRC32 of the kvm_amd BTF they came from, so that the
 * module can verify at load that the running kvm_amd is the one described.
 *
 * Usage: btf_facts <vmlinux BTF> <kvm_amd BTF>
 * Each input is raw BTF (/sys/kernel/btf/...), an ELF file with a .BTF
 * section (vmlinux, kvm-amd.ko), optionally .xz/.zst/.gz compressed, or,
 * for vmlinux, the bzImage it was packed into (/boot/vmlinuz-...).
 *
 * When the facts cannot be established the header says why and the module
 * refuses to load on AMD; the build itself never fails because of this.
 * Only the BTF format (include/uapi/linux/btf.h) is relied on; the layout
 * structs are spelled out here so that the tool builds with any libc.
 */
#include <linux/elf.h>
#include <linux/types.h>
#include <stdarg.h>
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

static int btf_load(struct btf *b, const char *path, const struct btf *base)
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

/* The one struct of that name defined in the module's own part. */
static const struct btf_t *find_struct(const struct btf *b, const char *name)
{
	const struct btf_t *found = NULL;
	__u32 i;

	for (i = 0; i < b->nr; i++) {
		const struct btf_t *t = b->types[i];

		if (btf_kind(t) != K_STRUCT || strcmp(btf_str(b, t->name_off), name))
			continue;
		if (found) {
			fail("kvm_amd BTF has two struct %s", name);
			return NULL;
		}
		found = t;
	}
	if (!found)
		fail("kvm_amd BTF has no struct %s (or the vmlinux BTF is of another kernel)",
		     name);
	return found;
}

/* Byte offset of a member; its resolved type in *type. */
static long member_offset(const struct btf *b, const struct btf_t *s,
			  const char *sname, const char *name,
			  const struct btf_t **type)
{
	const struct btf_m *m = (const struct btf_m *)(s + 1);
	__u32 i, vlen = s->info & 0xffff;
	int kflag = s->info >> 31;

	for (i = 0; i < vlen; i++) {
		__u32 bits = kflag ? m[i].offset & 0xffffff : m[i].offset;

		if (strcmp(btf_str(b, m[i].name_off), name))
			continue;
		if ((kflag && m[i].offset >> 24) || bits % 8)
			return fail("%s.%s is a bit-field", sname, name);
		*type = btf_resolve(b, m[i].type);
		if (!*type)
			return fail("%s.%s has a bad type", sname, name);
		return bits / 8;
	}
	return fail("struct %s has no member %s", sname, name);
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
	long vcpu_size, vmcb, vmcb02, vmcb12_gpa;
};

static int svm_facts(const struct btf *amd, struct facts *f)
{
	const struct btf_t *svm, *nst, *info, *t;
	long vcpu, nested, vmcb02, ptr;

	svm = find_struct(amd, "vcpu_svm");
	nst = find_struct(amd, "svm_nested_state");
	info = find_struct(amd, "kvm_vmcb_info");
	if (!svm || !nst || !info)
		return -1;

	vcpu = member_offset(amd, svm, "vcpu_svm", "vcpu", &t);
	if (vcpu < 0)
		return -1;
	if (vcpu != 0 || !is_struct(amd, t, "kvm_vcpu"))
		return fail("vcpu_svm.vcpu is not a struct kvm_vcpu at offset 0");
	f->vcpu_size = t->size_type;

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

int main(int argc, char **argv)
{
	struct btf vmlinux, amd;
	struct facts f = { 0 };
	char *c;

	printf("/* Generated by btf_facts: do not edit. */\n"
	       "#ifndef KVM_HV_RELAY_SVM_BTF_H\n#define KVM_HV_RELAY_SVM_BTF_H\n\n");
	if (argc != 3) {
		fail("usage: btf_facts <vmlinux BTF> <kvm_amd BTF>");
	} else if (!argv[2][0]) {
		fail("no kvm_amd BTF found at build time: set RELAY_KVM_AMD_BTF=");
	} else if (!argv[1][0]) {
		fail("no vmlinux BTF of the target kernel at build time: set RELAY_VMLINUX_BTF=");
	} else if (!btf_load(&vmlinux, argv[1], NULL) &&
		   !btf_load(&amd, argv[2], &vmlinux) && !svm_facts(&amd, &f)) {
		printf("/* from %s over %s */\n", argv[2], argv[1]);
		printf("#define RELAY_SVM_BTF_FACTS\t\t1\n");
		printf("#define RELAY_SVM_BTF_MISSING\t\t\"\"\n");
		printf("#define RELAY_SVM_BTF_SIZE\t\t%zuu\n", amd.size);
		printf("#define RELAY_SVM_BTF_CRC32\t\t0x%08xu\n",
		       crc32_ieee(amd.data, amd.size));
		printf("#define RELAY_SVM_KVM_VCPU_SIZE\t\t%ldu\n", f.vcpu_size);
		printf("#define RELAY_SVM_OFF_VMCB\t\t%ldu\n", f.vmcb);
		printf("#define RELAY_SVM_OFF_VMCB02\t\t%ldu\n", f.vmcb02);
		printf("#define RELAY_SVM_OFF_VMCB12_GPA\t%ldu\n", f.vmcb12_gpa);
		printf("\n#endif\n");
		return 0;
	}

	fprintf(stderr, "btf_facts: %s: kvm-hv-relay will refuse to load on AMD\n", why);
	for (c = why; *c; c++)
		if (*c == '"' || *c == '\\' || *c < ' ')
			*c = '\'';
	printf("#define RELAY_SVM_BTF_FACTS\t\t0\n");
	printf("#define RELAY_SVM_BTF_MISSING\t\t\"%s\"\n", why);
	printf("#define RELAY_SVM_BTF_SIZE\t\t0u\n#define RELAY_SVM_BTF_CRC32\t\t0u\n"
	       "#define RELAY_SVM_KVM_VCPU_SIZE\t\t0u\n#define RELAY_SVM_OFF_VMCB\t\t0u\n"
	       "#define RELAY_SVM_OFF_VMCB02\t\t0u\n#define RELAY_SVM_OFF_VMCB12_GPA\t0u\n");
	printf("\n#endif\n");
	return 0;
}
