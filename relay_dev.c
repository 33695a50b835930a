// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/kvm_hv_relay: set the relay mask of a VM from outside its VMM.
 *
 * KVM serves ioctls on a VM fd only to the process whose mm created the VM,
 * so a management tool that took a copy of a running VMM's VM fd with
 * pidfd_getfd() (which needs ptrace rights over the VMM) cannot use
 * KVM_ENABLE_CAP on it.  It hands that copy to this device instead.  The
 * mask goes through relay_set_mask(), the function behind KVM_ENABLE_CAP,
 * so both ways in behave the same.
 *
 * No hook is involved: the ioctl runs in the caller's process context with
 * the module pinned by the open device file (fops owner).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "uapi/linux/kvm_hv_relay.h"
#include "compat.h"
#include "kvm_hv_relay.h"

/* Fixed-width fields, naturally aligned: one layout for 32 and 64 bits. */
static_assert(sizeof(struct kvm_hv_relay_vm_mask) == 16);

/*
 * The VM behind the caller's @fd, with a reference of its own, so that the
 * fd may be closed (or the VMM exit) while the mask is set.
 */
static struct kvm *relay_dev_get_kvm(int fd)
{
	struct kvm *kvm = ERR_PTR(-EINVAL);
	struct file *file;

	if (fd < 0)
		return ERR_PTR(-EBADF);
	file = fget(fd);
	if (!file)
		return ERR_PTR(-EBADF);
	if (relay_file_is_kvm_vm(file) && file->private_data) {
		kvm = file->private_data;
		/* The file holds a reference, so the VM is not dying. */
		kvm_get_kvm(kvm);
	}
	fput(file);
	return kvm;
}

static long relay_dev_ioctl(struct file *filp, unsigned int cmd,
			    unsigned long arg)
{
	struct kvm_hv_relay_vm_mask __user *uarg = (void __user *)arg;
	struct kvm_hv_relay_vm_mask req;
	struct kvm *kvm;
	long ret = 0;

	if (cmd != KVM_HV_RELAY_SET_VM_MASK && cmd != KVM_HV_RELAY_GET_VM_MASK)
		return -ENOTTY;
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.flags)
		return -EINVAL;

	kvm = relay_dev_get_kvm(req.vm_fd);
	if (IS_ERR(kvm))
		return PTR_ERR(kvm);

	if (cmd == KVM_HV_RELAY_SET_VM_MASK) {
		/* State set while disarmed would outlive its VM. */
		if (relay_is_armed())
			ret = relay_set_mask(kvm, req.mask);
		else
			ret = -ENODEV;
	} else {
		if (relay_get_mask(kvm, &req.mask))
			req.flags |= KVM_HV_RELAY_VM_HAS_STATE;
		if (copy_to_user(uarg, &req, sizeof(req)))
			ret = -EFAULT;
	}
	kvm_put_kvm(kvm);
	return ret;
}

static const struct file_operations relay_dev_fops = {
	.owner		= THIS_MODULE,
	.open		= nonseekable_open,
	.unlocked_ioctl	= relay_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice relay_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "kvm_hv_relay",
	.fops	= &relay_dev_fops,
	.mode	= 0600,
};

int relay_dev_register(void)
{
	return misc_register(&relay_miscdev);
}

void relay_dev_unregister(void)
{
	misc_deregister(&relay_miscdev);
}
