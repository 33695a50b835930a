// SPDX-License-Identifier: GPL-2.0
/*
 * l1vmm: the VMM that runs inside the e2e lane's L1 (Debian's own kernel,
 * booted by QEMU with Hyper-V enlightenments on the test bed's L0).  It asks
 * L1's KVM for what hvix64 does for its root partition - direct hypercalls
 * for the L2 (KVM_CAP_HYPERV_DIRECT_TLBFLUSH) - and runs an L2 that makes,
 * with the TLFS nested bit, the calls a Windows root's vmbus makes:
 *
 *   1. a slow HvPostMessage whose input L2 composed in its own memory: a
 *      vmbus CHANNELMSG_INITIATE_CONTACT (version 4.0) for connection 1;
 *   2. a fast HvSignalEvent on connection 2 (vmbus's event connection);
 *   3. a slow HvPostMessage whose input this program wrote into L2 memory
 *      that L2 never touched, so L1's stage-2 has no entry for it yet.
 *
 * Output, one line each, for tools/testbed/e2e/l0.sh to judge:
 *   E2E-L1: cpu <vendor>, hyperv <0|1>, cap175 <ret> <errno>
 *   E2E-L1: cpuid <leaf> <eax> <ebx> <ecx> <edx>     (0x40000000-0x4000000a)
 *   E2E-L1: ready                    (then one line on stdin: go)
 *   E2E-L1: result post=<rax> signal=<rax> untouched=<rax>
 * and "E2E-L1: error ..." when something outside L2 went wrong.
 *
 * Raw KVM ioctls only: L1's userspace is a busybox initramfs.
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#ifndef KVM_CAP_HYPERV_DIRECT_TLBFLUSH
#define KVM_CAP_HYPERV_DIRECT_TLBFLUSH 175
#endif

/* L2's physical memory: one slot from 0, identity-mapped by L2's paging */
#define MEM_SIZE	0x400000UL
#define PML4_GPA	0x1000
#define PDPT_GPA	0x2000
#define PD_GPA		0x3000
#define STACK_TOP	0x8000
#define HCALL_GPA	0x9000	/* vmcall or vmmcall, then ret */
#define CODE_GPA	0x10000
#define MSG_GPA		0x20000	/* L2 writes it */
#define UNTOUCHED_GPA	0x200000	/* only L1 writes it */

/* ports L2 reports through: the result is in RAX at the I/O exit */
#define PORT_POST	0x10
#define PORT_SIGNAL	0x11
#define PORT_UNTOUCHED	0x12
#define PORT_DONE	0x1f

#define STR_(x) #x
#define STR(x) STR_(x)

/*
 * L2's code, position independent, copied to CODE_GPA.  RAX is zeroed
 * before each call: an L1 KVM that does not know the call (relay absent)
 * reads RAX as a KVM hypercall number, and 0 is none, so L2 gets
 * -KVM_ENOSYS rather than the effect of whatever RAX held.
 */
asm(".pushsection .rodata\n"
	".globl l2_code, l2_code_end\n"
	".code64\n"
	"l2_code:\n"
	"	mov $" STR(MSG_GPA) ", %edi\n"
	"	movl $1, 0(%rdi)\n"		/* connection id: vmbus's messages */
	"	movl $0, 4(%rdi)\n"
	"	movl $1, 8(%rdi)\n"		/* message type: vmbus */
	"	movl $40, 12(%rdi)\n"		/* payload size */
	"	movl $14, 16(%rdi)\n"		/* CHANNELMSG_INITIATE_CONTACT */
	"	movl $0, 20(%rdi)\n"
	"	movl $0x40000, 24(%rdi)\n"	/* vmbus version 4.0 */
	"	movl $0, 28(%rdi)\n"		/* target vCPU */
	"	movq $0, 32(%rdi)\n"		/* interrupt page */
	"	movq $0, 40(%rdi)\n"		/* monitor page 1 */
	"	movq $0, 48(%rdi)\n"		/* monitor page 2 */
	"	mov $" STR(HCALL_GPA) ", %r11d\n"
	"	mov $0x8000005c, %ecx\n"	/* HvPostMessage, nested (bit 31) */
	"	mov $" STR(MSG_GPA) ", %edx\n"
	"	xor %r8d, %r8d\n"
	"	xor %eax, %eax\n"
	"	call *%r11\n"
	"	out %al, $" STR(PORT_POST) "\n"
	"	mov $0x8001005d, %ecx\n"	/* HvSignalEvent, fast (bit 16), nested */
	"	mov $2, %edx\n"		/* connection 2, flag 0 */
	"	xor %r8d, %r8d\n"
	"	xor %eax, %eax\n"
	"	call *%r11\n"
	"	out %al, $" STR(PORT_SIGNAL) "\n"
	"	mov $0x8000005c, %ecx\n"
	"	mov $" STR(UNTOUCHED_GPA) ", %edx\n"
	"	xor %r8d, %r8d\n"
	"	xor %eax, %eax\n"
	"	call *%r11\n"
	"	out %al, $" STR(PORT_UNTOUCHED) "\n"
	"1:	out %al, $" STR(PORT_DONE) "\n"
	"	jmp 1b\n"
	"l2_code_end:\n"
	".popsection\n");
extern const unsigned char l2_code[], l2_code_end[];

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("E2E-L1: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	va_end(ap);
}

static void __attribute__((noreturn)) fail(const char *what)
{
	say("error %s: %s", what, strerror(errno));
	exit(1);
}

static int is_amd(void)
{
	unsigned int a, b, c, d;

	__cpuid(0, a, b, c, d);
	return b == 0x68747541;	/* "Auth"enticAMD */
}

/* L1's own Hyper-V view, as QEMU built it: the shim's reference */
static int dump_hv_cpuid(void)
{
	unsigned int a, b, c, d, leaf, max;

	__cpuid(1, a, b, c, d);
	if (!(c & (1u << 31)))
		return 0;
	__cpuid(0x40000000, max, b, c, d);
	for (leaf = 0x40000000; leaf <= 0x4000000a; leaf++) {
		__cpuid_count(leaf, 0, a, b, c, d);
		say("cpuid 0x%08x 0x%08x 0x%08x 0x%08x 0x%08x", leaf, a, b, c, d);
	}
	/* "Microsoft Hv" */
	__cpuid(0x40000000, max, b, c, d);
	return b == 0x7263694d && c == 0x666f736f && d == 0x76482074;
}

static void setup_memory(uint8_t *mem, int amd)
{
	uint64_t *pml4 = (uint64_t *)(mem + PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(mem + PDPT_GPA);
	uint64_t *pd = (uint64_t *)(mem + PD_GPA);
	static const uint8_t vmcall[] = { 0x0f, 0x01, 0xc1, 0xc3 };
	static const uint8_t vmmcall[] = { 0x0f, 0x01, 0xd9, 0xc3 };
	uint32_t *msg = (uint32_t *)(mem + UNTOUCHED_GPA);
	unsigned long i;

	/* present, writable; 2M pages identity-map the slot */
	pml4[0] = PDPT_GPA | 0x3;
	pdpt[0] = PD_GPA | 0x3;
	for (i = 0; i < MEM_SIZE >> 21; i++)
		pd[i] = (i << 21) | 0x83;
	memcpy(mem + HCALL_GPA, amd ? vmmcall : vmcall, sizeof(vmcall));
	memcpy(mem + CODE_GPA, l2_code, l2_code_end - l2_code);

	/* the same INITIATE_CONTACT, written by L1 only */
	msg[0] = 1;
	msg[2] = 1;
	msg[3] = 40;
	msg[4] = 14;
	msg[6] = 0x40000;
}

static void setup_vcpu(int kvm, int vcpu)
{
	struct kvm_cpuid2 *cpuid;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_segment cs = {
		.base = 0, .limit = 0xffffffff, .selector = 0x8, .type = 11,
		.present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment ds = cs;
	int n = 256;

	cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
	if (!cpuid)
		fail("calloc");
	cpuid->nent = n;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
		fail("KVM_GET_SUPPORTED_CPUID");
	/* long mode needs CPUID.80000001H:EDX.LM in the vCPU's model */
	if (ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0)
		fail("KVM_SET_CPUID2");
	free(cpuid);

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		fail("KVM_GET_SREGS");
	ds.type = 3;
	ds.selector = 0x10;
	ds.l = 0;
	ds.db = 1;
	sregs.cs = cs;
	sregs.ds = ds;
	sregs.es = ds;
	sregs.fs = ds;
	sregs.gs = ds;
	sregs.ss = ds;
	sregs.cr3 = PML4_GPA;
	sregs.cr4 = 0x20;			/* PAE */
	sregs.cr0 = 0x80000001 | 0x10 | 0x20;	/* PG, PE, ET, NE */
	sregs.efer = 0x500;			/* LME, LMA */
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		fail("KVM_SET_SREGS");

	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rsp = STACK_TOP;
	regs.rflags = 0x2;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		fail("KVM_SET_REGS");
}

int main(void)
{
	struct kvm_userspace_memory_region slot = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE,
	};
	struct kvm_enable_cap cap = { .cap = KVM_CAP_HYPERV_DIRECT_TLBFLUSH };
	uint64_t post = 0, signal = 0, untouched = 0;
	int kvm, vm, vcpu, other, amd, hv, ret, err;
	struct kvm_run *run;
	struct kvm_regs regs;
	char line[16];
	long run_size;
	uint8_t *mem;

	amd = is_amd();
	hv = dump_hv_cpuid();

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		fail("open /dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		fail("KVM_CREATE_VM");
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fail("mmap");
	/*
	 * 4K stage-2 leaves only: a transparent huge page would let L1's KVM
	 * map the untouched page together with the ones L2 touched.
	 */
	madvise(mem, MEM_SIZE, MADV_NOHUGEPAGE);
	setup_memory(mem, amd);
	slot.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		fail("KVM_SET_USER_MEMORY_REGION");

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		fail("KVM_CREATE_VCPU");
	setup_vcpu(kvm, vcpu);
	/* what hvix64 grants its root: direct hypercalls (nested_flush_hypercall) */
	ret = ioctl(vcpu, KVM_ENABLE_CAP, &cap);
	err = ret < 0 ? errno : 0;
	say("cpu %s, hyperv %d, cap175 %d %d", amd ? "amd" : "intel", hv, ret, err);
	/*
	 * Intel: kvm_intel writes directhypercall into this CPU's VP assist
	 * page only when it loads a vCPU's eVMCS anew; KVM_CREATE_VCPU already
	 * loaded vCPU 0's.  A second vCPU makes the first KVM_RUN load it
	 * again.  Harmless on AMD, which sets it at module load.
	 */
	other = ioctl(vm, KVM_CREATE_VCPU, 1);
	if (other < 0)
		fail("KVM_CREATE_VCPU 1");

	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0)
		fail("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		fail("mmap kvm_run");

	/* the test bed attaches the relay on L0 now, then says go */
	say("ready");
	if (!fgets(line, sizeof(line), stdin))
		fail("read go");

	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			fail("KVM_RUN");
		if (run->exit_reason != KVM_EXIT_IO) {
			errno = 0;
			say("error unexpected exit %u (hardware reason 0x%llx)", run->exit_reason,
			    (unsigned long long)run->hw.hardware_exit_reason);
			return 1;
		}
		if (ioctl(vcpu, KVM_GET_REGS, &regs) < 0)
			fail("KVM_GET_REGS");
		switch (run->io.port) {
		case PORT_POST:
			post = regs.rax;
			continue;
		case PORT_SIGNAL:
			signal = regs.rax;
			continue;
		case PORT_UNTOUCHED:
			untouched = regs.rax;
			continue;
		case PORT_DONE:
			break;
		default:
			errno = 0;
			say("error I/O exit on port 0x%x", run->io.port);
			return 1;
		}
		break;
	}
	say("result post=0x%llx signal=0x%llx untouched=0x%llx",
	    (unsigned long long)post, (unsigned long long)signal,
	    (unsigned long long)untouched);
	return 0;
}
