/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every difference between the KVM releases we support (Debian 6.1, 6.12 and
 * 7.3) lives here, behind feature macros and small helpers.  Core and vendor
 * files never test a kernel version themselves.
 */
#ifndef KVM_HV_RELAY_COMPAT_H
#define KVM_HV_RELAY_COMPAT_H

#include <linux/kvm_host.h>
#include <linux/eventfd.h>
#include <linux/ftrace.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/static_call.h>
#include <linux/string.h>
#include <linux/magic.h>
#include <asm/svm.h>

/*
 * Layout facts read from kvm's and kvm_amd's BTF at build time by btf_facts
 * (see Kbuild); relay_btf.c and svm_nested.c verify at load that they are
 * the running kernel's.
 */
#include "svm_btf.h"

/*
 * Every member of KVM's structs the module touches must be, in the headers
 * it is compiled against, where kvm's BTF has it: the build-time half of
 * the proof that the module runs only on the kvm it was built for (the load
 * time half is relay_kvm_verify()).  Members that every release has are
 * listed in relay_btf.c, the others here beside their accessors.  Without
 * the facts nothing is asserted and the module refuses to load.
 */
#if RELAY_KVM_BTF_FACTS
/* The member path goes last: a designator, never evaluated, used twice. */
#define relay_kvm_layout(type, id, ...)					\
	static_assert(offsetof(struct type, __VA_ARGS__) == RELAY_KVM_OFF_##id && \
		      sizeof_field(struct type, __VA_ARGS__) == RELAY_KVM_SIZE_##id, \
		      "struct " #type " member " #__VA_ARGS__		\
		      ": these headers are not those of the kvm whose BTF was read")
#define relay_kvm_sizeof(type, id)					\
	static_assert(sizeof(struct type) == RELAY_KVM_SIZEOF_##id,	\
		      "struct " #type					\
		      ": these headers are not those of the kvm whose BTF was read")
#else
#define relay_kvm_layout(type, id, ...)		static_assert(sizeof(#id))
#define relay_kvm_sizeof(type, id)		static_assert(sizeof(#id))
#endif

/*
 * Hyper-V emulation became optional (CONFIG_KVM_HYPERV); before that it was
 * always built and kvm->arch.hyperv always existed.  Without it there is no
 * eVMCS, no VP assist page and no conn_to_evt, so nothing to relay.  The
 * RELAY_* probe macros come from Kbuild, which greps the target's headers.
 */
#if !defined(RELAY_KVM_HYPERV_IS_OPTIONAL) || IS_ENABLED(CONFIG_KVM_HYPERV)
#define RELAY_HAVE_KVM_HYPERV 1
#else
#define RELAY_HAVE_KVM_HYPERV 0
#endif

static inline void relay_eventfd_signal(struct eventfd_ctx *ctx)
{
#ifdef RELAY_EVENTFD_SIGNAL_HAS_COUNT
	eventfd_signal(ctx, 1);
#else
	eventfd_signal(ctx);
#endif
}

#if RELAY_HAVE_KVM_HYPERV
relay_kvm_layout(kvm, KVM__ARCH_HYPERV_CONN_TO_EVT, arch.hyperv.conn_to_evt);

/* Writers hold kvm->arch.hyperv.hv_lock; readers are RCU, as in KVM. */
static inline struct eventfd_ctx *relay_conn_eventfd(struct kvm *kvm, u32 conn_id)
{
	return idr_find(&kvm->arch.hyperv.conn_to_evt, conn_id);
}
#else
static inline struct eventfd_ctx *relay_conn_eventfd(struct kvm *kvm, u32 conn_id)
{
	return NULL;
}
#endif

/*
 * vcpu->arch.regs_avail/regs_dirty were u32 masks and later became bitmaps.
 * Tell them apart by the field's size rather than by a version, so that a
 * distribution backport of either layout is handled too.
 */
#define RELAY_REGS_ARE_U32 \
	(sizeof(((struct kvm_vcpu_arch *)NULL)->regs_avail) == sizeof(u32))

static inline bool relay_reg_test(void *map, int reg)
{
	if (RELAY_REGS_ARE_U32)
		return *(u32 *)map & BIT(reg);
	return test_bit(reg, (unsigned long *)map);
}

static inline void relay_reg_set(void *map, int reg)
{
	if (RELAY_REGS_ARE_U32)
		*(u32 *)map |= BIT(reg);
	else
		__set_bit(reg, (unsigned long *)map);
}

/* RIP moved out of vcpu->arch.regs[] into its own field (7.x). */
#ifdef RELAY_RIP_OUTSIDE_REGS
#define RELAY_REG_RIP		VCPU_REG_RIP
#define relay_rip(vcpu)		((vcpu)->arch.rip)
relay_kvm_layout(kvm_vcpu, KVM_VCPU__ARCH_RIP, arch.rip);
#else
#define RELAY_REG_RIP		VCPU_REGS_RIP
#define relay_rip(vcpu)		((vcpu)->arch.regs[VCPU_REGS_RIP])
#endif

/*
 * kvm_x86_cache_reg is one of the few static-call keys KVM exports in every
 * release: a direct call, so IBT has nothing to check.
 */
static inline unsigned long relay_rip_read(struct kvm_vcpu *vcpu)
{
	if (!relay_reg_test(&vcpu->arch.regs_avail, RELAY_REG_RIP))
		static_call(kvm_x86_cache_reg)(vcpu, RELAY_REG_RIP);
	return relay_rip(vcpu);
}

static inline void relay_rip_write(struct kvm_vcpu *vcpu, unsigned long rip)
{
	relay_rip(vcpu) = rip;
	relay_reg_set(&vcpu->arch.regs_avail, RELAY_REG_RIP);
	relay_reg_set(&vcpu->arch.regs_dirty, RELAY_REG_RIP);
}

/* General-purpose registers are always loaded from regs[] on entry. */
static inline void relay_reg_write(struct kvm_vcpu *vcpu, int reg,
				   unsigned long val)
{
	vcpu->arch.regs[reg] = val;
	relay_reg_set(&vcpu->arch.regs_avail, reg);
	relay_reg_set(&vcpu->arch.regs_dirty, reg);
}

/*
 * The VMCB exit code was a u32 followed by a u32 exit_code_hi, then became
 * one u64 (7.x): the same bytes either way.
 */
static inline u64 relay_svm_exit_code(const struct vmcb_control_area *c)
{
#ifdef RELAY_SVM_EXIT_CODE_HI
	return (u64)c->exit_code_hi << 32 | c->exit_code;
#else
	return c->exit_code;
#endif
}

/*
 * Paging level of the nested page tables L1 set up for L2, which the CPU
 * takes from L1's CR4/EFER at VMRUN; KVM records it in the role of its
 * nested-NPT walker.  That walker left struct kvm_mmu for its own
 * struct kvm_pagewalk (7.x).
 */
static inline int relay_nested_npt_level(struct kvm_vcpu *vcpu)
{
#ifdef RELAY_HAVE_NGPA_WALK
	return vcpu->arch.ngpa_walk.cpu_role.base.level;
#else
	return vcpu->arch.guest_mmu.cpu_role.base.level;
#endif
}

#ifdef RELAY_HAVE_NGPA_WALK
relay_kvm_layout(kvm_vcpu, KVM_VCPU__ARCH_NGPA_WALK_CPU_ROLE, arch.ngpa_walk.cpu_role);
#else
relay_kvm_layout(kvm_vcpu, KVM_VCPU__ARCH_GUEST_MMU_CPU_ROLE, arch.guest_mmu.cpu_role);
#endif

/*
 * Is @file a KVM VM fd?  KVM's own answer, file_is_kvm() (f_op is KVM's
 * kvm_vm_fops), is exported to every module up to 6.x but only to kvm_intel
 * and kvm_amd from 7.x on; Kbuild reads which from the target's
 * Module.symvers.  Without it: an anonymous inode named "kvm-vm" (only kernel
 * code chooses such a name, and in KVM only the VM file has this one) whose
 * file operations belong to KVM.  kvm_init() makes the vendor module the
 * owner of kvm_vm_fops (6.12 and 7.x; 6.1's has none, but exports
 * file_is_kvm()), so the owner is kvm_intel or kvm_amd, or kvm itself.
 */
static inline bool relay_file_is_kvm_vm(struct file *file)
{
#ifdef RELAY_HAVE_FILE_IS_KVM
	return file_is_kvm(file);
#else
	const struct module *owner = file->f_op->owner;

	if (file_inode(file)->i_sb->s_magic != ANON_INODE_FS_MAGIC ||
	    strcmp(file_dentry(file)->d_name.name, "kvm-vm") || !owner)
		return false;
	return !strcmp(owner->name, "kvm_intel") ||
	       !strcmp(owner->name, "kvm_amd") || !strcmp(owner->name, "kvm");
#endif
}

/*
 * An ftrace hook reads the hooked function's arguments and may make it
 * resume in a replacement.  With ftrace_regs arguments (x86-64 since 5.11)
 * that needs no full pt_regs: IPMODIFY alone, as livepatch does it.
 */
#ifndef CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS
#error "kvm_hv_relay needs ftrace with arguments (x86-64, Linux 5.11 or later)"
#endif
#define RELAY_FTRACE_OPS_FLAGS	FTRACE_OPS_FL_IPMODIFY

#ifdef RELAY_HAVE_FTRACE_REGS_ACCESSORS
/* 6.2+: struct ftrace_regs is opaque behind accessors. */
#define relay_hook_arg(fregs, n)	ftrace_regs_get_argument(fregs, n)
#define relay_hook_divert(fregs, fn) \
	ftrace_regs_set_instruction_pointer(fregs, (unsigned long)(fn))
#else
#define relay_hook_arg(fregs, n)	regs_get_kernel_argument(&(fregs)->regs, n)
#define relay_hook_divert(fregs, fn) \
	ftrace_instruction_pointer_set(fregs, (unsigned long)(fn))
#endif

#endif /* KVM_HV_RELAY_COMPAT_H */
