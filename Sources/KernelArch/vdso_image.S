/* vdso_image.S — the vDSO's ELF image inside the kernel (KernelArch layer).
 *
 * The Makefile builds build/kernel/vdso.so from vdso/vdso.c and passes its path as VDSO_PATH;
 * Sources/Kernel/VDSOSetup.swift copies the bytes between egg_vdso_start and egg_vdso_end
 * into user-mappable frames at boot. */
    .section .rodata.egg_vdso, "a"
    .balign 4096
    .globl egg_vdso_start, egg_vdso_end
egg_vdso_start:
    .incbin VDSO_PATH
egg_vdso_end:

    .section .note.GNU-stack, "", @progbits
