/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kvm_hv_relay: keep a nested Hyper-V root partition's HvPostMessage and
 * HvSignalEvent hypercalls in L0 and hand them to the VMM.
 *
 * The capability is private to the out-of-tree kvm_hv_relay module.  Its
 * number lies far above the upstream KVM_CAP_* range on purpose, so that it
 * can never collide with a capability upstream adds later; it spells "OVMR"
 * and is what OpenVMM already sends.
 *
 * KVM_CHECK_EXTENSION(KVM_CAP_NESTED_HYPERV_HCALL_RELAY), on /dev/kvm or on a
 * VM fd, returns the mask of supported relay classes while the module is
 * loaded and 0 without it.
 *
 * KVM_ENABLE_CAP on a VM fd with
 *   cap     = KVM_CAP_NESTED_HYPERV_HCALL_RELAY
 *   flags   = 0
 *   args[0] = mask of KVM_NESTED_HYPERV_RELAY_* classes to relay (0 disables)
 *   args[1..3] = 0
 * selects which nested hypercalls of an authorised L2 are relayed.  Any other
 * flag, argument or mask bit fails with -EINVAL and leaves the state as it
 * was.  It may be issued at any time, before or after vCPUs are created.
 *
 * A relayed call reaches userspace as KVM_EXIT_HYPERV of type
 * KVM_EXIT_HYPERV_HCALL, in the form a non-nested guest's call has, with the
 * nested bit (bit 31) of the input value cleared.  For a slow call,
 * params[0] is the input GPA already translated to an L1 GPA; an
 * HvSignalEvent that is not completed in the kernel is always delivered in
 * the fast form (input bit 16 set, params[0] = the 8-byte operand).
 */
#ifndef _UAPI_LINUX_KVM_HV_RELAY_H
#define _UAPI_LINUX_KVM_HV_RELAY_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define KVM_CAP_NESTED_HYPERV_HCALL_RELAY	0x4f564d52

/* Class bits for KVM_ENABLE_CAP args[0] and the KVM_CHECK_EXTENSION answer. */
#define KVM_NESTED_HYPERV_RELAY_POST_MESSAGE	_BITULL(0)	/* HvPostMessage, 0x5c */
#define KVM_NESTED_HYPERV_RELAY_SIGNAL_EVENT	_BITULL(1)	/* HvSignalEvent, 0x5d */

#define KVM_NESTED_HYPERV_RELAY_ALL		\
	(KVM_NESTED_HYPERV_RELAY_POST_MESSAGE | \
	 KVM_NESTED_HYPERV_RELAY_SIGNAL_EVENT)

/* The TLFS "nested" bit of the hypercall input value; cleared when relayed. */
#define KVM_NESTED_HYPERV_RELAY_NESTED_BIT	_BITULL(31)

/*
 * /dev/kvm_hv_relay: the relay mask of a VM the caller did not create.
 *
 * KVM fails every ioctl on a VM fd with EIO in a process other than the one
 * that created the VM, a duplicate taken with pidfd_getfd() included, so a
 * management tool cannot use KVM_ENABLE_CAP on a running VMM's VM.  It passes
 * such a duplicate to these ioctls instead: @vm_fd is a KVM VM fd in the
 * caller's own fd table.  The device is 0600 root and both ioctls also need
 * CAP_SYS_ADMIN.  The layout is the same for 32-bit and 64-bit callers.
 *
 * KVM_HV_RELAY_SET_VM_MASK sets the VM's mask exactly as KVM_ENABLE_CAP with
 * args[0] = @mask would; @flags must be 0.
 *
 * KVM_HV_RELAY_GET_VM_MASK returns the VM's mask in @mask; @flags must be 0
 * on entry and has KVM_HV_RELAY_VM_HAS_STATE on return when the VM has relay
 * state (a non-zero mask was set once); @mask is ignored on entry.
 *
 * Errors: EBADF (@vm_fd is not an open fd), EINVAL (not a KVM VM fd,
 * non-zero @flags on entry, a class the module does not support), EPERM (no
 * CAP_SYS_ADMIN), ENODEV (the relay is disarmed), ENOMEM, EFAULT.
 *
 * Type 0xBD is listed nowhere in Documentation/userspace-api/ioctl/
 * ioctl-number.rst of Linux 6.1 to 7.3, nor used by any in-tree header.
 */
#define KVM_HV_RELAY_DEVICE		"/dev/kvm_hv_relay"

struct kvm_hv_relay_vm_mask {
	__s32 vm_fd;
	__u32 flags;
	__u64 mask;
};

/* KVM_HV_RELAY_GET_VM_MASK, @flags on return */
#define KVM_HV_RELAY_VM_HAS_STATE	_BITUL(0)

#define KVM_HV_RELAY_IOCTL_TYPE		0xBD
#define KVM_HV_RELAY_SET_VM_MASK	\
	_IOW(KVM_HV_RELAY_IOCTL_TYPE, 0x00, struct kvm_hv_relay_vm_mask)
#define KVM_HV_RELAY_GET_VM_MASK	\
	_IOWR(KVM_HV_RELAY_IOCTL_TYPE, 0x01, struct kvm_hv_relay_vm_mask)

#endif /* _UAPI_LINUX_KVM_HV_RELAY_H */
