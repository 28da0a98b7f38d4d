/* ap_boot.S — how the other CPUs start (KernelArch layer).
 *
 * Sources/Kernel/SMP.swift copies this blob to physical 0x8000, fills in ap_params (page
 * table root, stack, entry, EFER, CPU number) and wakes each application processor with
 * INIT-SIPI-SIPI (vector 0x08 → CS:IP 0800:0000). The AP comes up in 16-bit real mode,
 * goes through protected mode straight to long mode with the kernel's page tables (which
 * identity-map the first 2 MiB while APs start) and jumps to the 64-bit entry with its
 * CPU number in rdi. Reference: Intel SDM vol. 3 §8.4 (MP initialization), §9.8.5.
 */
#define BASE 0x8000
#define AT(x) (BASE + (x) - ap_trampoline_start)

    .section .rodata
    .globl ap_trampoline_start, ap_trampoline_end, ap_params
    .balign 16
    .code16
ap_trampoline_start:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ds
    lgdtl AT(ap_gdt_ptr)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x08, $AT(ap_protected)

    .code32
ap_protected:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr4, %eax
    orl $0x20, %eax                 /* PAE */
    movl %eax, %cr4
    movl AT(ap_params), %eax        /* page table root (below 4 GiB) */
    movl %eax, %cr3
    movl $0xC0000080, %ecx
    movl AT(ap_params) + 24, %eax   /* EFER low: LME, NXE, SCE as on the boot CPU */
    xorl %edx, %edx
    wrmsr
    movl %cr0, %eax
    orl $0x80010001, %eax           /* PG, WP, PE */
    movl %eax, %cr0
    ljmpl $0x18, $AT(ap_long)

    .code64
ap_long:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movq AT(ap_params) + 8, %rsp
    movq AT(ap_params) + 32, %rdi
    movq AT(ap_params) + 16, %rax
    jmp *%rax

    .balign 8
ap_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        /* 0x08: 32-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: data */
    .quad 0x00af9a000000ffff        /* 0x18: 64-bit code */
ap_gdt_ptr:
    .word ap_gdt_ptr - ap_gdt - 1
    .long AT(ap_gdt)
    .balign 8
ap_params:
    .quad 0     /* +0  cr3 */
    .quad 0     /* +8  stack top */
    .quad 0     /* +16 64-bit entry */
    .quad 0     /* +24 EFER */
    .quad 0     /* +32 CPU number */
ap_trampoline_end:

    .section .note.GNU-stack, "", @progbits
