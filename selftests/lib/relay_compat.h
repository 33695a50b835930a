/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The KVM selftest library's API as our selftests use it, across the
 * Debian kernels we test (6.1, 6.12, 7.3).  The library is built from the
 * target kernel's own source; its API generation is told apart by which of
 * its headers exist, not by a version number.
 */
#ifndef RELAY_COMPAT_H
#define RELAY_COMPAT_H

#if __has_include("kvm_util_base.h")
/* 6.1: eVMCS pages live in struct vmx_pages; prepare_vmcs() takes a stack. */
#define RELAY_LIB_EVMCS_IN_VMX_PAGES	1
/* 6.1: kvm_vm_elf_load() leaves two fds of the test's ELF open per VM. */
#define RELAY_LIB_LEAKS_ELF_FDS		1
#elif __has_include("kvm_syscalls.h")
/* 7.3: gva_t, vm_alloc_page(), prepare_vmcs() allocates L2's stack. */
#define RELAY_LIB_GVA_T			1
#endif

#ifdef RELAY_LIB_GVA_T
typedef gva_t relay_gva_t;
#define relay_alloc_page(vm)		vm_alloc_page(vm)
#define relay_vm_pgd(vm)		((vm)->mmu.pgd)
#define relay_vm_levels(vm)		((vm)->mmu.pgtable_levels)
#else
typedef vm_vaddr_t relay_gva_t;
#define relay_alloc_page(vm)		vm_vaddr_alloc_page(vm)
#define relay_vm_pgd(vm)		((vm)->pgd)
#define relay_vm_levels(vm)		((vm)->pgtable_levels)
#endif

/* Guest-side view of the pages an L1 that uses eVMCS needs. */
struct relay_evmcs_pages {
	u64 vp_assist_gpa;
	void *vp_assist;
	u64 evmcs_gpa;
	void *evmcs;
};

#ifdef RELAY_LIB_EVMCS_IN_VMX_PAGES
static inline void relay_evmcs_pages(struct kvm_vm *vm, struct vmx_pages *vmx,
				     struct relay_evmcs_pages *out)
{
	out->vp_assist_gpa = vmx->vp_assist_gpa;
	out->vp_assist = vmx->vp_assist;
	out->evmcs_gpa = vmx->enlightened_vmcs_gpa;
	out->evmcs = vmx->enlightened_vmcs;
}
#else
static inline void relay_evmcs_pages(struct kvm_vm *vm, struct vmx_pages *vmx,
				     struct relay_evmcs_pages *out)
{
	relay_gva_t gva;
	struct hyperv_test_pages *hv = vcpu_alloc_hyperv_test_pages(vm, &gva);

	out->vp_assist_gpa = hv->vp_assist_gpa;
	out->vp_assist = hv->vp_assist;
	out->evmcs_gpa = hv->enlightened_vmcs_gpa;
	out->evmcs = hv->enlightened_vmcs;
}
#endif

/* L1 guest side: enlightened VMPTRLD of the eVMCS, then fill it for L2. */
static inline void relay_guest_load_evmcs(struct vmx_pages *vmx,
					  struct relay_evmcs_pages *ev,
					  void *l2_rip, void *l2_rsp)
{
	/* 6.1 set this in enable_vp_assist(); later libraries leave it to us. */
	enable_evmcs = true;
	GUEST_ASSERT(!evmcs_vmptrld(ev->evmcs_gpa, ev->evmcs));
	current_evmcs->revision_id = EVMCS_VERSION;
#ifdef RELAY_LIB_GVA_T
	prepare_vmcs(vmx, l2_rip);
	vmwrite(GUEST_RSP, (u64)l2_rsp);
#else
	prepare_vmcs(vmx, l2_rip, l2_rsp);
#endif
}

#ifdef RELAY_LIB_LEAKS_ELF_FDS
#include <dirent.h>
#include <limits.h>

/*
 * For tests that create VMs by the thousand in one process: close what the
 * library leaked, or the process runs out of file descriptors.
 */
static inline void relay_lib_vm_freed(void)
{
	char exe[PATH_MAX], path[300], target[PATH_MAX];
	struct dirent *e;
	ssize_t n;
	DIR *d;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	d = opendir("/proc/self/fd");
	if (n <= 0 || !d)
		goto out;
	exe[n] = 0;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (fd < 3 || fd == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = 0;
			if (!strcmp(target, exe))
				close(fd);
		}
	}
out:
	if (d)
		closedir(d);
}
#else
static inline void relay_lib_vm_freed(void)
{
}
#endif

#endif /* RELAY_COMPAT_H */
