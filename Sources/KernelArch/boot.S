/* boot.S — first instructions of the egg kernel (KernelArch layer).
 *
 * Three ways in, all in 32-bit protected mode with paging off:
 *   _start32   multiboot 1 (QEMU -kernel on -M pc/q35, GRUB): eax = 0x2BADB002, ebx = info
 *              multiboot 2 (GRUB `multiboot2`, BIOS or UEFI): eax = 0x36D76289, ebx = info
 *   _start_pvh PVH direct boot (Xen ELF note 18; -M microvm): ebx = hvm_start_info
 * Both build throw-away page tables that map the first 1 GiB twice (identity, and at the
 * kernel window 0x7f8000000000 where the kernel is linked), enter long mode and call
 * kmain(protocolMagic, infoPhysicalAddress) in Swift (Sources/Kernel/Main.swift), which
 * replaces these tables with its own.
 *
 * Why the kernel lives in the lower half (PML4 slot 255, the top 512 GiB of user-half
 * addresses, which egg removes from the guest's address space): Swift keeps flag bits in
 * the top 16 bits of String and enum payload pointers, so a Swift object or string literal
 * at an address with those bits set (any higher-half address) is corrupted.
 * References: Multiboot 0.6.96 §3.1; Xen arch-x86/hvm/start_info.h; Intel SDM vol. 3 §9.8.5.
 */
#define KOFF 0x7f8000000000
#define MB1_MAGIC 0x1BADB002
#define MB1_FLAGS 0x00010003  /* page-align modules, memory map, a.out kludge */
#define PVH_MAGIC 0x336ec578
#define MB2_MAGIC 0xE85250D6

    .section .multiboot, "a"
    .balign 8
mb1_header:
    .long MB1_MAGIC
    .long MB1_FLAGS
    .long -(MB1_MAGIC + MB1_FLAGS)
    .long mb1_header - KOFF     /* header_addr */
    .long __kernel_start - KOFF /* load_addr */
    .long __load_end - KOFF     /* load_end_addr */
    .long __bss_end - KOFF      /* bss_end_addr */
    .long _start32 - KOFF       /* entry_addr */

    /* Multiboot2 (GRUB's `multiboot2` command, so `egg pack` ISOs on BIOS and UEFI). GRUB
     * enters _start32 in 32-bit protected mode with eax = 0x36D76289 and ebx = the info
     * structure, which common32 hands to kmain like multiboot 1's. It loads the ELF by
     * p_paddr; the entry address tag gives the physical entry (e_entry is virtual). The
     * header must lie in the first 32 KiB, 8-byte aligned, tags 8-byte aligned.
     * Reference: Multiboot2 specification 2.0 §3.1. */
    .balign 8
mb2_header:
    .long MB2_MAGIC
    .long 0                                         /* architecture: i386 protected mode */
    .long mb2_header_end - mb2_header
    .long 0x100000000 - (MB2_MAGIC + (mb2_header_end - mb2_header))
    .balign 8
mb2_request_tag:                                    /* information request (type 1) */
    .short 1, 0
    .long mb2_request_end - mb2_request_tag
    .long 1, 3, 6, 8                                /* cmdline, modules, memory map, framebuffer */
mb2_request_end:
    .balign 8
    .short 3, 0                                     /* entry address (type 3) */
    .long 12
    .long _start32 - KOFF
    .balign 8
    .short 5, 1                                     /* framebuffer (type 5), optional */
    .long 20
    .long 1024, 768, 32                             /* width, height, depth */
    .balign 8
    .short 6, 0                                     /* modules page-aligned (type 6) */
    .long 8
    .short 0, 0                                     /* end */
    .long 8
mb2_header_end:

    .section .note.Xen, "a"
    .balign 4
    .long 4                     /* namesz */
    .long 4                     /* descsz */
    .long 18                    /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long _start_pvh - KOFF

    .section .boot.text, "ax"
    .code32
    .globl _start32
_start32:
    cli
    movl %eax, %edi
    movl %ebx, %esi
    jmp common32

    .globl _start_pvh
_start_pvh:
    cli
    movl $PVH_MAGIC, %edi
    movl %ebx, %esi

common32:
    movl $(boot_stack_top - KOFF), %esp
    cld
    /* Page directory: 512 × 2 MiB pages = the first 1 GiB. */
    movl $(boot_pd - KOFF), %ebx
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax             /* present, writable, 2 MiB page */
    movl %eax, (%ebx,%ecx,8)
    movl $0, 4(%ebx,%ecx,8)
    incl %ecx
    cmpl $512, %ecx
    jne 1b
    /* pdpt[0] = pd; pml4[0] = pml4[255] = pdpt */
    movl $(boot_pd - KOFF + 3), %eax
    movl %eax, boot_pdpt_low - KOFF
    movl $(boot_pdpt_low - KOFF + 3), %eax
    movl %eax, boot_pml4 - KOFF
    movl %eax, boot_pml4 - KOFF + 255*8
    movl $(boot_pml4 - KOFF), %eax
    movl %eax, %cr3
    /* CR4.PAE */
    movl %cr4, %eax
    orl $0x20, %eax
    movl %eax, %cr4
    /* EFER.LME, plus EFER.NXE when CPUID says NX exists. */
    movl $0x80000001, %eax
    cpuid
    xorl %ebp, %ebp
    testl $(1 << 20), %edx
    jz 2f
    movl $(1 << 11), %ebp
2:  movl $0xC0000080, %ecx
    rdmsr
    orl $(1 << 8), %eax
    orl %ebp, %eax
    wrmsr
    /* CR0.PG | WP | PE */
    movl %cr0, %eax
    orl $0x80010001, %eax
    movl %eax, %cr0
    lgdt boot_gdt_ptr - KOFF
    ljmp $0x08, $(long_mode_low - KOFF)

    .code64
long_mode_low:
    movabsq $long_mode_high, %rax
    jmp *%rax

    .text
long_mode_high:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movabsq $boot_stack_top, %rsp
    xorl %ebp, %ebp
    movl %edi, %edi             /* zero-extend the two arguments */
    movl %esi, %esi
    call kmain
3:  cli
    hlt
    jmp 3b

    .section .rodata
    .balign 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff    /* 0x10: data */
boot_gdt_ptr:
    .word boot_gdt_ptr - boot_gdt - 1
    .long boot_gdt - KOFF

    .section .bss
    .balign 4096
    .globl boot_pml4
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pd:        .skip 4096
    .globl boot_stack_top
boot_stack:     .skip 65536
boot_stack_top:
