// SPDX-License-Identifier: GPL-2.0-only
/*
 * The module is compiled against headers and, for AMD, offsets read from BTF
 * at build time (btf_facts.c, svm_btf.h); it must only ever run on the KVM
 * they describe.  The build proves that the headers agree with the BTF of
 * kvm and vmlinux it read (the static_asserts below and in compat.h); at
 * load, and whenever the vendor module is loaded anew, the module checks
 * that the running kernel's BTF files are byte for byte the ones read.
 *
 * Both files are needed: pahole describes a type in vmlinux's part when
 * vmlinux has the same one, so Debian's 6.1 and 6.12 have struct kvm_vcpu
 * in vmlinux's BTF and 7.3 in kvm's.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/crc32.h>
#include <linux/fs.h>
#include <linux/kvm_host.h>
#include <linux/slab.h>

#include "compat.h"
#include "kvm_hv_relay.h"

relay_kvm_sizeof(kvm_vcpu, KVM_VCPU);
relay_kvm_layout(kvm_vcpu, KVM_VCPU__KVM, kvm);
relay_kvm_layout(kvm_vcpu, KVM_VCPU__VCPU_ID, vcpu_id);
relay_kvm_layout(kvm_vcpu, KVM_VCPU__VCPU_IDX, vcpu_idx);
relay_kvm_layout(kvm_vcpu, KVM_VCPU__RUN, run);
relay_kvm_layout(kvm_vcpu, KVM_VCPU__ARCH, arch);
relay_kvm_layout(kvm_vcpu, KVM_VCPU__ARCH_REGS, arch.regs);
relay_kvm_layout(kvm_vcpu, KVM_VCPU__ARCH_REGS_AVAIL, arch.regs_avail);
relay_kvm_layout(kvm_vcpu, KVM_VCPU__ARCH_REGS_DIRTY, arch.regs_dirty);
relay_kvm_layout(kvm_vcpu, KVM_VCPU__ARCH_CR0, arch.cr0);
relay_kvm_layout(kvm_vcpu, KVM_VCPU__ARCH_HFLAGS, arch.hflags);
relay_kvm_layout(kvm_vcpu, KVM_VCPU__ARCH_EFER, arch.efer);
relay_kvm_layout(kvm_vcpu, KVM_VCPU__ARCH_COMPLETE_USERSPACE_IO,
		 arch.complete_userspace_io);
relay_kvm_layout(kvm_vcpu, KVM_VCPU__ARCH_PV_EOI_MSR_VAL, arch.pv_eoi.msr_val);
relay_kvm_layout(kvm_vcpu, KVM_VCPU__ARCH_PV_EOI_DATA, arch.pv_eoi.data);

relay_kvm_sizeof(kvm, KVM);
relay_kvm_layout(kvm, KVM__MEMSLOTS, memslots);
relay_kvm_layout(kvm, KVM__MAX_VCPUS, max_vcpus);
relay_kvm_layout(kvm, KVM__CREATED_VCPUS, created_vcpus);
relay_kvm_layout(kvm, KVM__DEBUGFS_DENTRY, debugfs_dentry);
relay_kvm_layout(kvm, KVM__ARCH, arch);

/* What kvm_memslots(), __gfn_to_memslot() and friends read. */
relay_kvm_sizeof(kvm_memslots, KVM_MEMSLOTS);
relay_kvm_layout(kvm_memslots, KVM_MEMSLOTS__LAST_USED_SLOT, last_used_slot);
relay_kvm_layout(kvm_memslots, KVM_MEMSLOTS__GFN_TREE, gfn_tree);
relay_kvm_layout(kvm_memslots, KVM_MEMSLOTS__NODE_IDX, node_idx);
relay_kvm_sizeof(kvm_memory_slot, KVM_MEMORY_SLOT);
relay_kvm_layout(kvm_memory_slot, KVM_MEMORY_SLOT__GFN_NODE, gfn_node);
relay_kvm_layout(kvm_memory_slot, KVM_MEMORY_SLOT__BASE_GFN, base_gfn);
relay_kvm_layout(kvm_memory_slot, KVM_MEMORY_SLOT__NPAGES, npages);
relay_kvm_layout(kvm_memory_slot, KVM_MEMORY_SLOT__USERSPACE_ADDR, userspace_addr);
relay_kvm_layout(kvm_memory_slot, KVM_MEMORY_SLOT__FLAGS, flags);
relay_kvm_layout(kvm_memory_slot, KVM_MEMORY_SLOT__ID, id);

/* The VP assist page's GPA, in the pv_eoi cache. */
relay_kvm_sizeof(gfn_to_hva_cache, GFN_TO_HVA_CACHE);
relay_kvm_layout(gfn_to_hva_cache, GFN_TO_HVA_CACHE__GPA, gpa);
relay_kvm_layout(gfn_to_hva_cache, GFN_TO_HVA_CACHE__LEN, len);

static int relay_btf_crc(const char *path, u32 *crc, size_t *size)
{
	struct file *file;
	loff_t pos = 0;
	ssize_t n;
	u8 *buf;

	file = filp_open(path, O_RDONLY, 0);
	if (IS_ERR(file))
		return PTR_ERR(file);
	/* sysfs hands out a page per read whatever the buffer. */
	buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf) {
		filp_close(file, NULL);
		return -ENOMEM;
	}
	*crc = ~0U;
	*size = 0;
	while ((n = kernel_read(file, buf, PAGE_SIZE, &pos)) > 0) {
		/* CRC-32 (IEEE 802.3), as btf_facts computes it. */
		*crc = crc32_le(*crc, buf, n);
		*size += n;
	}
	*crc = ~*crc;
	kfree(buf);
	filp_close(file, NULL);
	return n < 0 ? n : 0;
}

/**
 * relay_btf_verify() - is a BTF file of the running kernel the one read at build time?
 * @ctx: what the pr_err line on failure starts with
 * @name: "vmlinux" or a module: /sys/kernel/btf/@name
 * @size: its size as btf_facts read it
 * @crc: its CRC-32 as btf_facts computed it
 * @what: the facts taken from it, for the message
 *
 * Return: 0, or an error after one pr_err line that says why.
 */
int relay_btf_verify(const char *ctx, const char *name, u32 size, u32 crc,
		     const char *what)
{
	char path[MODULE_NAME_LEN + 16];
	size_t now_size;
	u32 now_crc;
	int ret;

	snprintf(path, sizeof(path), "/sys/kernel/btf/%s", name);
	ret = relay_btf_crc(path, &now_crc, &now_size);
	if (ret) {
		pr_err("%s: cannot read %s (error %d) to verify %s: is %s loaded?\n",
		       ctx, path, ret, what, name);
		return ret;
	}
	if (now_size != size || now_crc != crc) {
		pr_err("%s: the running %s is not the one built against (BTF %zu bytes crc %08x, expected %u bytes crc %08x): rebuild kvm-hv-relay for it\n",
		       ctx, name, now_size, now_crc, size, crc);
		return -EOPNOTSUPP;
	}
	return 0;
}

/**
 * relay_vendor_btf_verify() - do the vendor module's BTF facts hold here?
 * @ctx: what the pr_err line on failure starts with
 * @f: the facts btf_facts read from the vendor module's BTF at build time
 *
 * Offsets into KVM's private vendor vCPU struct (vcpu_svm, vcpu_vmx) hold
 * for the vendor module whose BTF they were read from: check that the
 * running one has exactly that BTF.  Run at load and whenever the vendor
 * module is loaded anew, which may be another build of it.
 *
 * Return: 0, or an error after one pr_err line that says why.
 */
int relay_vendor_btf_verify(const char *ctx, const struct relay_vendor_btf *f)
{
	char what[64];

	snprintf(what, sizeof(what), "%s's struct %s layout", f->mod, f->sname);
	if (!f->facts) {
		pr_err("%s: built without %s (%s)\n", ctx, what, f->missing);
		return -EOPNOTSUPP;
	}
	/* Built against other headers than the BTF: the facts would lie. */
	if (sizeof(struct kvm_vcpu) != f->vcpu_size ||
	    sizeof(struct kvm_vcpu) > f->min_off) {
		pr_err("%s: the %s BTF used at build time is not of the kernel built against (struct kvm_vcpu %u bytes there, %zu here)\n",
		       ctx, f->mod, f->vcpu_size, sizeof(struct kvm_vcpu));
		return -EOPNOTSUPP;
	}
	return relay_btf_verify(ctx, f->mod, f->size, f->crc, what);
}

/*
 * For both vendors, before the vendor's own checks: the layout of
 * struct kvm_vcpu, struct kvm and the memslots the headers gave the module
 * is that of the running kvm.
 */
int relay_kvm_verify(const char *ctx)
{
	static const char what[] = "kvm's struct kvm_vcpu layout";
	int ret;

	if (!RELAY_KVM_BTF_FACTS) {
		pr_err("%s: built without %s (%s)\n", ctx, what,
		       RELAY_KVM_BTF_MISSING);
		return -EOPNOTSUPP;
	}
	ret = relay_btf_verify(ctx, "kvm", RELAY_KVM_BTF_SIZE,
			       RELAY_KVM_BTF_CRC32, what);
	if (ret)
		return ret;
	return relay_btf_verify(ctx, "vmlinux", RELAY_VMLINUX_BTF_SIZE,
				RELAY_VMLINUX_BTF_CRC32, what);
}
