// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-VM relay state: the table of the VMs that enabled the capability, each
 * VM's vCPU entries in chunks, its lifetime from KVM_ENABLE_CAP (or
 * /dev/kvm_hv_relay) to kvm_arch_destroy_vm(), its counters and its debugfs
 * file, and the capability hooks that create and announce it.
 */
#include <linux/debugfs.h>
#include <linux/hashtable.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "uapi/linux/kvm_hv_relay.h"
#include "compat.h"
#include "kvm_hv_relay.h"

/* VMs that enabled the capability, keyed by struct kvm.  Readers are RCU. */
static DEFINE_HASHTABLE(relay_vms, 6);
/*
 * Taken by writers only.  Raw: the destroy hook takes it in an ftrace
 * callback, which must not sleep, and on PREEMPT_RT a spinlock_t sleeps; a
 * task blocked there would also count as quiescent to RCU-Tasks, so unload
 * could free the trampoline it still runs in.
 */
static DEFINE_RAW_SPINLOCK(relay_vms_lock);
/* Serialises KVM_ENABLE_CAP so that one VM never gets two states. */
static DEFINE_MUTEX(relay_enable_mutex);
atomic_t relay_nr_vms = ATOMIC_INIT(0);
/* Bytes of relay state alive, for the lifecycle tests' leak check. */
atomic_long_t relay_live_bytes = ATOMIC_LONG_INIT(0);

static struct relay_vm *relay_vm_find(struct kvm *kvm)
{
	struct relay_vm *rvm;

	hash_for_each_possible_rcu(relay_vms, rvm, node, (unsigned long)kvm)
		if (rvm->kvm == kvm)
			return rvm;
	return NULL;
}

/*
 * Per-vCPU entries live in chunks of RELAY_VCPU_CHUNK, allocated for the
 * vCPUs that exist when the capability is enabled and, for a vCPU created
 * later, by the fault-in replacement at its first call to relay: on that
 * one exit, in place of the vendor's reflect function and in process
 * context, never in an ftrace callback; L2 then makes the call again, and
 * no later exit allocates.  A vCPU writes its own entry without a lock, so an
 * entry must never move once published: chunks are installed once, by
 * cmpxchg on their word in rvm->chunks, and freed only with the VM.
 *
 * Until its chunk exists, the word holds RELAY_CHUNK_MARKED and one bypass
 * mark per vCPU of the chunk: the vCPU's next call to relay goes to KVM
 * untouched, because the chunk could not be allocated for it.  Pointers
 * from kcalloc() are aligned, so bit 0 tells the two apart.
 */
#define RELAY_CHUNK_MARKED	BIT(0)
#define RELAY_CHUNK_MARK(idx)	BIT(1 + (idx) % RELAY_VCPU_CHUNK)
#define RELAY_CHUNK_BYTES	(RELAY_VCPU_CHUNK * sizeof(struct relay_vcpu))
static_assert(RELAY_VCPU_CHUNK + 1 <= BITS_PER_LONG);

/* The entry of vCPU index @idx in the chunk word @word, or NULL. */
static struct relay_vcpu *relay_chunk_entry(unsigned long word, unsigned int idx)
{
	if (!word || (word & RELAY_CHUNK_MARKED))
		return NULL;
	return (struct relay_vcpu *)word + idx % RELAY_VCPU_CHUNK;
}

/*
 * Process context.  Return: 0 once chunk @c is installed (by us or by a
 * concurrent caller), -ENOMEM.
 */
int relay_chunk_install(struct relay_vm *rvm, unsigned int c)
{
	unsigned long *slot = &rvm->chunks[c], old = READ_ONCE(*slot);
	struct relay_vcpu *chunk;

	if (relay_chunk_entry(old, 0))
		return 0;
	chunk = kcalloc(RELAY_VCPU_CHUNK, sizeof(*chunk), GFP_KERNEL_ACCOUNT);
	if (!chunk)
		return -ENOMEM;
	/* A successful cmpxchg orders the zeroed chunk before its address. */
	do {
		if (relay_chunk_entry(old, 0)) {
			kfree(chunk);
			return 0;
		}
	} while (!try_cmpxchg(slot, &old, (unsigned long)chunk));
	atomic_long_add(RELAY_CHUNK_BYTES, &relay_live_bytes);
	return 0;
}

/* Mark vCPU @idx, whose chunk could not be allocated, for one bypass. */
void relay_chunk_mark(struct relay_vm *rvm, unsigned int idx)
{
	unsigned long *slot = &rvm->chunks[idx / RELAY_VCPU_CHUNK];
	unsigned long old = READ_ONCE(*slot);

	do {
		/* Installed meanwhile: the next call finds its entry. */
		if (relay_chunk_entry(old, 0))
			return;
	} while (!try_cmpxchg(slot, &old,
			      old | RELAY_CHUNK_MARKED | RELAY_CHUNK_MARK(idx)));
}

/* Atomic context: take vCPU @idx's bypass mark, if it has one. */
bool relay_chunk_unmark(struct relay_vm *rvm, unsigned int idx)
{
	unsigned long *slot = &rvm->chunks[idx / RELAY_VCPU_CHUNK];
	unsigned long old = READ_ONCE(*slot);

	do {
		if (!(old & RELAY_CHUNK_MARKED) || !(old & RELAY_CHUNK_MARK(idx)))
			return false;
	} while (!try_cmpxchg(slot, &old, old & ~RELAY_CHUNK_MARK(idx)));
	return true;
}

/*
 * Process context: chunks for every vCPU created so far, at least vCPU 0's
 * (a VMM may enable the capability before it creates any vCPU).
 */
static int relay_vm_cover_vcpus(struct relay_vm *rvm)
{
	unsigned int n = max(READ_ONCE(rvm->kvm->created_vcpus), 1), c;
	int ret;

	n = min(n, relay_vm_capacity(rvm));
	for (c = 0; c < DIV_ROUND_UP(n, RELAY_VCPU_CHUNK); c++) {
		ret = relay_chunk_install(rvm, c);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * The returned state stays valid while the caller runs in the vCPU's thread:
 * the vCPU holds a reference on its VM and the state is freed only when the
 * VM is destroyed.  NULL with *@rvmp set: the VM has state, this vCPU has
 * no entry yet.
 */
struct relay_vcpu *relay_vcpu_find(struct kvm_vcpu *vcpu,
				   struct relay_vm **rvmp)
{
	unsigned int idx = vcpu->vcpu_idx;
	struct relay_vcpu *rv = NULL;
	struct relay_vm *rvm = NULL;
	unsigned long word;

	/* Every exit of every VM comes here: most hosts have no relay VM. */
	if (!atomic_read(&relay_nr_vms))
		goto out;
	rcu_read_lock();
	rvm = relay_vm_find(vcpu->kvm);
	if (rvm && idx < relay_vm_capacity(rvm)) {
		/* Pairs with the cmpxchg that published the chunk. */
		word = smp_load_acquire(&rvm->chunks[idx / RELAY_VCPU_CHUNK]);
		rv = relay_chunk_entry(word, idx);
	}
	rcu_read_unlock();
out:
	if (rvmp)
		*rvmp = rvm;
	return rv;
}

/* Same signature as kvm_vm_ioctl_check_extension(); @kvm is NULL on /dev/kvm. */
static int relay_check_extension(struct kvm *kvm, long ext)
{
	return READ_ONCE(relay_supported);
}

void relay_check_extension_hook(unsigned long ip,
				unsigned long parent_ip,
				struct ftrace_ops *op,
				struct ftrace_regs *fregs)
{
	if (relay_hook_arg(fregs, 1) == KVM_CAP_NESTED_HYPERV_HCALL_RELAY &&
	    READ_ONCE(relay_supported))
		relay_hook_divert(fregs, relay_check_extension);
}

/* What relay_live_bytes holds for @rvm: struct, chunk table, chunks. */
static size_t relay_vm_bytes(const struct relay_vm *rvm)
{
	size_t n = sizeof(*rvm) + rvm->nr_chunks * sizeof(*rvm->chunks);
	unsigned int c;

	for (c = 0; c < rvm->nr_chunks; c++)
		if (relay_chunk_entry(READ_ONCE(rvm->chunks[c]), 0))
			n += RELAY_CHUNK_BYTES;
	return n;
}

static int relay_vm_show(struct seq_file *m, void *unused)
{
	static const char * const names[RELAY_CNT_NR] = {
		[RELAY_CNT_POST_EXITS] = "post_exits",
		[RELAY_CNT_SIGNAL_EXITS] = "signal_exits",
		[RELAY_CNT_SIGNAL_EVENTFD] = "signal_eventfd",
		[RELAY_CNT_COMPLETED] = "completed",
		[RELAY_CNT_STALE_COMPLETIONS] = "stale_completions",
		[RELAY_CNT_REJECTED] = "rejected",
		[RELAY_CNT_UNAUTHORISED] = "unauthorised",
		[RELAY_CNT_FAULT_IN] = "fault_in",
	};
	struct relay_vm *rvm = m->private;
	int i;

	seq_printf(m, "mask: 0x%llx\n", READ_ONCE(rvm->mask));
	for (i = 0; i < RELAY_CNT_NR; i++)
		seq_printf(m, "%s: %lld\n", names[i],
			   atomic64_read(&rvm->counters[i]));
	seq_printf(m, "state_bytes: %zu\n", relay_vm_bytes(rvm));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(relay_vm);

static void relay_vm_free(struct relay_vm *rvm)
{
	unsigned int c;

	atomic_long_sub(relay_vm_bytes(rvm), &relay_live_bytes);
	for (c = 0; c < rvm->nr_chunks; c++)
		kfree(relay_chunk_entry(rvm->chunks[c], 0));
	kfree(rvm->chunks);
	kfree(rvm);
}

/* Sized by the vCPUs that exist, not by max_vcpus: see relay_vcpu_find(). */
static struct relay_vm *relay_vm_alloc(struct kvm *kvm)
{
	struct relay_vm *rvm = kzalloc(sizeof(*rvm), GFP_KERNEL_ACCOUNT);

	if (!rvm)
		return NULL;
	rvm->kvm = kvm;
	rvm->nr_chunks = DIV_ROUND_UP(kvm->max_vcpus, RELAY_VCPU_CHUNK);
	rvm->chunks = kcalloc(rvm->nr_chunks, sizeof(*rvm->chunks),
			      GFP_KERNEL_ACCOUNT);
	if (!rvm->chunks) {
		kfree(rvm);
		return NULL;
	}
	atomic_long_add(relay_vm_bytes(rvm), &relay_live_bytes);
	if (relay_vm_cover_vcpus(rvm)) {
		relay_vm_free(rvm);
		return NULL;
	}
	return rvm;
}

static void relay_vm_free_rcu(struct rcu_head *head)
{
	struct relay_vm *rvm = container_of(head, struct relay_vm, rcu);

	relay_vm_free(rvm);
	atomic_dec(&relay_nr_vms);
	/* Pairs with the try_module_get() that created the state. */
	module_put(THIS_MODULE);
}

/**
 * relay_set_mask() - select the relayed classes of one VM
 * @kvm: the VM; the caller holds a reference on it
 * @mask: KVM_NESTED_HYPERV_RELAY_* classes, 0 to relay nothing
 *
 * The one place a mask is set, for KVM_ENABLE_CAP and for /dev/kvm_hv_relay
 * alike.  Process context, may sleep; the caller keeps the module pinned.
 *
 * Return: 0, -EINVAL for a class the module does not support, -ENOMEM, or
 * -ENODEV when the module is going away.  On error nothing changed.
 */
int relay_set_mask(struct kvm *kvm, u64 mask)
{
	struct relay_vm *rvm;
	int ret = 0;

	if (mask & ~READ_ONCE(relay_supported))
		return -EINVAL;

	mutex_lock(&relay_enable_mutex);
	rcu_read_lock();
	rvm = relay_vm_find(kvm);
	rcu_read_unlock();
	if (!rvm && mask) {
		rvm = relay_vm_alloc(kvm);
		if (!rvm) {
			ret = -ENOMEM;
			goto out;
		}
		/* A VM with relay state pins the module: see relay_exit(). */
		if (!try_module_get(THIS_MODULE)) {
			relay_vm_free(rvm);
			ret = -ENODEV;
			goto out;
		}
		atomic_inc(&relay_nr_vms);
		raw_spin_lock(&relay_vms_lock);
		hash_add_rcu(relay_vms, &rvm->node, (unsigned long)kvm);
		raw_spin_unlock(&relay_vms_lock);
		/*
		 * Inside KVM's own per-VM directory, which KVM removes before
		 * kvm_arch_destroy_vm() frees the state the file shows.
		 */
		if (!IS_ERR_OR_NULL(kvm->debugfs_dentry))
			debugfs_create_file("hv_relay", 0444, kvm->debugfs_dentry,
					    rvm, &relay_vm_fops);
	}
	if (rvm && mask)
		/*
		 * vCPUs created since the state was: best effort, a missing
		 * chunk is faulted in at the vCPU's first call to relay.
		 */
		relay_vm_cover_vcpus(rvm);
	if (rvm)
		WRITE_ONCE(rvm->mask, mask);
out:
	mutex_unlock(&relay_enable_mutex);
	return ret;
}

/**
 * relay_get_mask() - the relayed classes of one VM
 * @kvm: the VM; the caller holds a reference on it
 * @mask: receives the mask, 0 when the VM has no relay state
 *
 * Return: whether the VM has relay state (a non-zero mask was set once).
 */
bool relay_get_mask(struct kvm *kvm, u64 *mask)
{
	struct relay_vm *rvm;
	bool found;

	rcu_read_lock();
	rvm = relay_vm_find(kvm);
	found = rvm;
	*mask = rvm ? READ_ONCE(rvm->mask) : 0;
	rcu_read_unlock();
	return found;
}

/*
 * Same signature as kvm_vm_ioctl_enable_cap(), for our capability only.  It
 * may sleep, so the hook took a module reference first: ftrace's own
 * synchronisation at unregister only covers code that does not sleep.
 */
static int relay_enable_cap(struct kvm *kvm, struct kvm_enable_cap *cap)
{
	int ret = -EINVAL;

	if (!cap->flags && !cap->args[1] && !cap->args[2] && !cap->args[3])
		ret = relay_set_mask(kvm, cap->args[0]);
	module_put(THIS_MODULE);
	return ret;
}

void relay_enable_cap_hook(unsigned long ip, unsigned long parent_ip,
			   struct ftrace_ops *op,
			   struct ftrace_regs *fregs)
{
	struct kvm_enable_cap *cap = (struct kvm_enable_cap *)relay_hook_arg(fregs, 1);

	/* Unpublished, KVM answers as it does without the module. */
	if (cap->cap == KVM_CAP_NESTED_HYPERV_HCALL_RELAY &&
	    READ_ONCE(relay_supported) && try_module_get(THIS_MODULE))
		relay_hook_divert(fregs, relay_enable_cap);
}

/* Pass-through: drop the VM's state; KVM's destroy then runs as usual. */
void relay_destroy_vm_hook(unsigned long ip, unsigned long parent_ip,
			   struct ftrace_ops *op,
			   struct ftrace_regs *fregs)
{
	struct kvm *kvm = (struct kvm *)relay_hook_arg(fregs, 0);
	struct relay_vm *rvm;

	raw_spin_lock(&relay_vms_lock);
	rvm = relay_vm_find(kvm);
	if (rvm)
		hash_del_rcu(&rvm->node);
	raw_spin_unlock(&relay_vms_lock);
	if (rvm)
		call_rcu(&rvm->rcu, relay_vm_free_rcu);
}
