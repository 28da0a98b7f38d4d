/*
 * empty-kernel.S — the "empty kernel" baseline of `make bench`: a multiboot (v1) 32-bit ELF
 * that QEMU's -kernel loads directly and that ends the machine at its first instruction by
 * writing 0 to isa-debug-exit (port 0xf4; QEMU exits with status (0<<1)|1 = 1). Booting it
 * with egg's QEMU flags measures QEMU's own start and stop cost (firmware, loader, exit).
 *
 * Layer: benchmark support (Guest/bench, built by Guest/bench/Makefile; driven by
 * scripts/bench/bench.py). Header layout: Multiboot Specification 0.6.96 §3.1.1.
 */
    .section .multiboot, "a"
    .align 4
    .long 0x1BADB002                  /* magic */
    .long 0                           /* flags: nothing requested */
    .long -(0x1BADB002 + 0)           /* checksum */

    .text
    .code32
    .globl _start
_start:
    movw $0xf4, %dx
    xorl %eax, %eax
    outb %al, %dx                     /* isa-debug-exit: QEMU exits now */
1:  hlt                               /* not reached unless the device is missing */
    jmp 1b
