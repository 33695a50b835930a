/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal interface between the module's files: the vendor-neutral ones
 * (kvm_hv_relay.c, relay_call.c, relay_hooks.c, relay_vm.c, relay_dev.c,
 * relay_btf.c, vp_assist.c) and the vendor files (vmx_nested.c,
 * svm_nested.c).  Functions and variables are declared in groups named for
 * the file that defines them; Documentation/design.rst has the file map.
 */
#ifndef KVM_HV_RELAY_H
#define KVM_HV_RELAY_H

#include <linux/ftrace.h>
#include <linux/kvm_host.h>
#include <linux/uaccess.h>
#include "relay_input.h"

/*
 * Per-vCPU relay state.  Only the vCPU's own thread touches it: the decision
 * (an ftrace callback on the vendor's reflect function), the hypercall
 * handler and the userspace completion all run in that thread.
 */
enum relay_vcpu_state {
	RELAY_IDLE,
	RELAY_DECIDED,		/* the next hypercall handler call is ours */
	RELAY_FAULT_IN,		/* fault L1 memory or our entry in, then retry */
	RELAY_BYPASS,		/* let the next exit through untouched */
	RELAY_EXITED,		/* userspace owes us a completion */
};

struct relay_vcpu {
	u64 input;		/* input value as L2 passed it */
	u64 ctl_gpa;		/* eVMCS / VMCB12 the call was made under */
	u64 rip;		/* L2 RIP of the VMCALL/VMMCALL */
	u8 state;
	u8 insn_len;
	u8 long_mode;		/* operands and result in 64-bit registers */
	u8 auth;		/* RELAY_AUTH_* seen by the decision */
};

/* Authorisation facts, reported in trace events. */
#define RELAY_AUTH_DIRECT_HYPERCALL	BIT(0)	/* VP assist page */
#define RELAY_AUTH_NESTED_FLUSH		BIT(1)	/* eVMCS / VMCB12 */
#define RELAY_AUTH_INTER_PARTITION	BIT(2)	/* VP assist page, reported only */
#define RELAY_AUTH_OK	(RELAY_AUTH_DIRECT_HYPERCALL | RELAY_AUTH_NESTED_FLUSH)

/* Why a relayed call was completed in the kernel with an error status. */
enum relay_reject {
	RELAY_REJECT_INPUT,
	RELAY_REJECT_ALIGN,
	RELAY_REJECT_UNMAPPED,
	RELAY_REJECT_NO_MEMORY,
	RELAY_REJECT_OPERAND,
};

enum relay_counter {
	RELAY_CNT_POST_EXITS,
	RELAY_CNT_SIGNAL_EXITS,
	RELAY_CNT_SIGNAL_EVENTFD,
	RELAY_CNT_COMPLETED,
	RELAY_CNT_STALE_COMPLETIONS,
	RELAY_CNT_REJECTED,
	RELAY_CNT_UNAUTHORISED,
	RELAY_CNT_FAULT_IN,
	RELAY_CNT_NR,
};

/*
 * vCPUs per chunk of struct relay_vcpu: 1 KiB, an exact kmalloc size.  With
 * KVM_MAX_VCPUS 4096 the table of chunks is another 1 KiB, so a VM of up to
 * 64 vCPUs keeps all its state within a page (Documentation/bench.rst).
 */
#define RELAY_VCPU_CHUNK	32

struct relay_vm {
	struct hlist_node node;
	struct rcu_head rcu;
	struct kvm *kvm;
	u64 mask;
	unsigned int nr_chunks;		/* covers kvm->max_vcpus */
	atomic64_t counters[RELAY_CNT_NR];
	/*
	 * One word per RELAY_VCPU_CHUNK vCPU indexes: a chunk's address once it
	 * is installed, else bypass marks (relay_vm.c, relay_chunk_*()).
	 * A chunk never moves nor goes away before the VM does.
	 */
	unsigned long *chunks;
};

static inline unsigned int relay_vm_capacity(const struct relay_vm *rvm)
{
	return rvm->nr_chunks * RELAY_VCPU_CHUNK;
}

/*
 * What the vendor code reads at the exit.  Everything here is L2 state or
 * L1 memory; nothing is KVM-private.
 */
struct relay_exit {
	u64 rip;
	u8 insn_len;
	bool long_mode;
};

/* An ftrace entry hook on one function of kvm.ko or a vendor module. */
struct relay_hook {
	const char *name;
	ftrace_func_t func;
	struct ftrace_ops ops;
	/*
	 * Not every kernel has it: skipped when ftrace knows no such function,
	 * and only then.
	 */
	bool optional;
	/*
	 * Never diverts, so it claims no IPMODIFY: a livepatch of the function
	 * (there can be only one IPMODIFY user) can coexist with it.
	 */
	bool pass_through;
	bool armed;
};

struct relay_vendor {
	const char *name;
	struct relay_hook *hooks;
	unsigned int nr_hooks;
	/*
	 * Optional, before the hooks are armed, at load and again whenever the
	 * vendor module is loaded anew: verify every fact the vendor code
	 * relies on.  On failure, print one pr_err line that starts with
	 * @ctx and says why, and return an error.
	 */
	int (*verify)(const char *ctx);
	/*
	 * From an ftrace callback (must not sleep), at every L2 exit: is it a
	 * hypercall instruction's exit at all?  Cheap, so that other exits
	 * pay nothing more.
	 */
	bool (*hypercall_exit)(struct kvm_vcpu *vcpu);
	/*
	 * From an ftrace callback (must not sleep), only once hypercall_exit()
	 * said yes for this exit: was the hypercall instruction at CPL 0 in
	 * protected mode, so that it may be relayed?
	 */
	bool (*exit_info)(struct kvm_vcpu *vcpu, struct relay_exit *ex);
	/*
	 * Did L1 authorise this L2?  Returns RELAY_AUTH_* bits and the control
	 * block's GPA, or -EFAULT when L1 memory it needs is not present and
	 * @atomic forbids faulting it in, -ENOENT when it is not L1 memory.
	 */
	int (*authorisation)(struct kvm_vcpu *vcpu, bool atomic, u64 *ctl_gpa);
	/* Process context: L2 GPA -> L1 GPA with read permission. */
	int (*translate)(struct kvm_vcpu *vcpu, u64 ctl_gpa, u64 l2_gpa,
			 u64 *l1_gpa);
	/* Move L2 past the hypercall instruction. */
	void (*skip)(struct kvm_vcpu *vcpu, u8 insn_len, bool long_mode);
};

extern const struct relay_vendor relay_vmx_vendor;
extern const struct relay_vendor relay_svm_vendor;

/* Core services for the vendor files. */
int relay_btf_verify(const char *ctx, const char *name, u32 size, u32 crc,
		     const char *what);
int relay_kvm_verify(const char *ctx);
/* What btf_facts read from a vendor module's BTF (svm_btf.h). */
struct relay_vendor_btf {
	const char *mod, *sname, *missing;	/* "kvm_amd", "vcpu_svm" */
	bool facts;
	u32 size, crc, vcpu_size;
	u32 min_off;		/* the lowest offset the module reads at */
};

/* A vendor's facts, from the RELAY_<tag>_* macros btf_facts wrote. */
#define RELAY_VENDOR_BTF(tag, module, vcpu_struct, lowest_off) {	\
	.mod = module,							\
	.sname = vcpu_struct,						\
	.missing = RELAY_##tag##_BTF_MISSING,				\
	.facts = RELAY_##tag##_BTF_FACTS,				\
	.size = RELAY_##tag##_BTF_SIZE,					\
	.crc = RELAY_##tag##_BTF_CRC32,					\
	.vcpu_size = RELAY_##tag##_KVM_VCPU_SIZE,			\
	.min_off = lowest_off,						\
}

int relay_vendor_btf_verify(const char *ctx, const struct relay_vendor_btf *f);

/* relay_call.c: the walk, the decision and the handler hook; vp_assist.c */
/* 4- or 5-level tables at @root whose entries on a walk must have @need. */
struct relay_s2 {
	u64 root;
	int levels;
	u64 need;
};

int relay_stage2_walk(struct kvm *kvm, const struct relay_s2 *s2,
		      const struct relay_s2 *outer, u64 gpa, bool atomic,
		      u64 *l1_gpa);
int relay_vp_assist(struct kvm_vcpu *vcpu, bool atomic, u64 *evmcs);
enum relay_vcpu_state relay_decide(struct kvm_vcpu *vcpu);
void relay_decide_and_divert(struct ftrace_regs *fregs, void *l0_handles,
			     void *fault_in);
void relay_fault_in(struct kvm_vcpu *vcpu);
void relay_handler_hook(unsigned long ip, unsigned long parent_ip,
			struct ftrace_ops *op, struct ftrace_regs *fregs);

/* kvm_hv_relay.c: the vendor, and the classes relayed (0 unpublished) */
extern const struct relay_vendor *relay_vendor;
extern u64 relay_supported;

/* relay_vm.c: the per-VM state */
extern atomic_t relay_nr_vms;
extern atomic_long_t relay_live_bytes;
int relay_chunk_install(struct relay_vm *rvm, unsigned int c);
void relay_chunk_mark(struct relay_vm *rvm, unsigned int idx);
bool relay_chunk_unmark(struct relay_vm *rvm, unsigned int idx);
struct relay_vcpu *relay_vcpu_find(struct kvm_vcpu *vcpu,
				   struct relay_vm **rvmp);
/* The hooks on kvm.ko that create, announce and drop the state. */
void relay_check_extension_hook(unsigned long ip, unsigned long parent_ip,
				struct ftrace_ops *op,
				struct ftrace_regs *fregs);
void relay_enable_cap_hook(unsigned long ip, unsigned long parent_ip,
			   struct ftrace_ops *op, struct ftrace_regs *fregs);
void relay_destroy_vm_hook(unsigned long ip, unsigned long parent_ip,
			   struct ftrace_ops *op, struct ftrace_regs *fregs);
/* Per-VM mask, shared by KVM_ENABLE_CAP and /dev/kvm_hv_relay. */
int relay_set_mask(struct kvm *kvm, u64 mask);
bool relay_get_mask(struct kvm *kvm, u64 *mask);

/* relay_hooks.c: arming, disarming, the vendor module notifier */
int relay_hook_arm(struct relay_hook *hook);
void relay_hook_disarm(struct relay_hook *hook);
bool relay_is_armed(void);
/*
 * For relay_init() and relay_exit_module() only, which keep the order of
 * load and unload in one place, and relay_log_loaded().
 */
extern struct relay_hook relay_destroy_hook;
extern struct relay_hook relay_cap_hooks[2];
extern struct mutex relay_arm_mutex;
extern bool relay_armed;
extern struct notifier_block relay_module_nb;
int relay_verify_and_arm(const char *ctx);
void relay_disarm_for_good(void);

/* relay_dev.c: /dev/kvm_hv_relay */
int relay_dev_register(void);
void relay_dev_unregister(void);

/**
 * relay_read_l1() - read L1 guest memory through the VMM's mapping
 * @kvm: the VM
 * @gpa: L1 guest physical address
 * @buf: destination
 * @len: bytes to read; [@gpa, @gpa + @len) must not cross a page
 * @atomic: the caller cannot sleep, so the page must already be present
 *
 * Runs in the vCPU's thread under the vCPU's SRCU read lock (both the exit
 * handlers and the hooks are reached from vcpu_run()), so the memslots are
 * stable and current->mm is the VMM's.
 *
 * A relayed call reads L1 memory about ten times (VP assist page, eVMCS or
 * VMCB12, one entry per stage-2 level), so this is inline and reads an
 * aligned word with one get_user(): copy_from_user()'s generic path and a
 * call per read made the relayed post 1.20 times a non-nested one instead
 * of 1.11 (make bench, Intel, Debian 6.1).
 *
 * Return: 0, -ENOENT if @gpa is in no usable memslot, -EINVAL if the read
 * would cross a page, -EFAULT if the read failed (in @atomic mode: possibly
 * only because the page is not present).
 */
static inline int relay_read_l1(struct kvm *kvm, u64 gpa, void *buf,
				unsigned int len, bool atomic)
{
	gfn_t gfn = gpa_to_gfn(gpa);
	struct kvm_memory_slot *slot = __gfn_to_memslot(kvm_memslots(kvm), gfn);
	unsigned long hva, left;

	/* Only memory the VMM gave the guest, never KVM's private pages. */
	if (!kvm_is_visible_memslot(slot))
		return -ENOENT;
	/* The next page's host address is unrelated to this one's. */
	if (offset_in_page(gpa) + len > PAGE_SIZE)
		return -EINVAL;
	hva = __gfn_to_hva_memslot(slot, gfn) + offset_in_page(gpa);

	if (atomic)
		pagefault_disable();
	if (len == sizeof(u64) && IS_ALIGNED(hva, sizeof(u64)))
		left = get_user(*(u64 *)buf, (u64 __user *)hva);
	else if (len == sizeof(u32) && IS_ALIGNED(hva, sizeof(u32)))
		left = get_user(*(u32 *)buf, (u32 __user *)hva);
	else if (atomic)
		left = __copy_from_user_inatomic(buf, (void __user *)hva, len);
	else
		left = copy_from_user(buf, (void __user *)hva, len);
	if (atomic)
		pagefault_enable();
	return left ? -EFAULT : 0;
}

#endif /* KVM_HV_RELAY_H */
