/* entry.S — every way into the kernel from the CPU (KernelArch layer).
 *
 * Each path builds a `struct trap_frame` (include/hw.h) on the current thread's kernel stack
 * and calls a safe Swift dispatcher at once (Sources/Kernel/Traps.swift):
 *   syscall_entry    SYSCALL from ring 3 → egg_syscall_entry(frame)
 *   isr_stub_N       exceptions and interrupts → egg_trap_entry(frame)
 * and leaves through trap_return, which is also how a new thread first enters user mode
 * (egg_enter_user). Per-CPU data is reached through GS: 0 self, 8 kernel stack top,
 * 16 user rsp scratch (Sources/KernelArch/CPU.swift). A system call can return with sysretq
 * when the frame allows it (syscall_return below), through trap_return's iretq otherwise;
 * sysretq is off unless egg_sysret_enabled is set (boot option sysret=1): under TCG it was
 * slower than iretq, and the nested KVM on the build machines mishandled it (CPU.swift,
 * setUpSyscalls, has the measurement).
 * Reference: Intel SDM vol. 2 SYSCALL, SYSRET, vol. 3 §6.14 (64-bit interrupt stack frame).
 */
    .altmacro
    .text

.macro PUSH_GPRS
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
.endm

.macro POP_GPRS
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
.endm

    .globl syscall_entry
    .balign 16
syscall_entry:
    swapgs
    movq %rsp, %gs:16
    movq %gs:8, %rsp
    pushq $0x1b                 /* ss: user data | RPL 3 */
    pushq %gs:16                /* rsp */
    pushq %r11                  /* rflags */
    pushq $0x23                 /* cs: user code | RPL 3 */
    pushq %rcx                  /* rip */
    pushq $0                    /* error code */
    pushq $0x100                /* vector 256 marks a system call */
    PUSH_GPRS
    movq %rsp, %rdi
    call egg_syscall_entry
    /* fall through to syscall_return */

/* The way back from a system call. sysretq loads RIP from rcx and RFLAGS from r11 and forces
 * the user selectors, so it gives exactly the frame's state only when the frame still looks
 * like the one SYSCALL made: rcx == rip and r11 == rflags (a signal handler's frame, a
 * sigreturn to other registers, execve or a new thread change rip or rcx and take iretq),
 * the user selectors, no TF or RF (single-step and resume flags need iretq's semantics), and
 * a canonical lower-half rip: SYSRET with a non-canonical rcx raises #GP in ring 0 on the
 * user's stack on Intel CPUs (CVE-2012-0217). These are Linux's tests in do_syscall_64
 * (arch/x86/entry/common.c, v6.1). Frame offsets: the trap_frame of include/hw.h, r15 at 0. */
syscall_return:
    cmpb $0, egg_sysret_enabled(%rip)
    je trap_return
    movq 96(%rsp), %rcx         /* saved rcx */
    cmpq 136(%rsp), %rcx        /* == rip */
    jne trap_return
    movq 32(%rsp), %r11         /* saved r11 */
    cmpq 152(%rsp), %r11        /* == rflags */
    jne trap_return
    cmpq $0x23, 144(%rsp)       /* cs: user code */
    jne trap_return
    cmpq $0x1b, 168(%rsp)       /* ss: user data */
    jne trap_return
    testl $0x10100, %r11d       /* RF (bit 16), TF (bit 8) */
    jnz trap_return
    shrq $47, %rcx              /* bits 63..47 clear: canonical, user half */
    jnz trap_return
    cli                         /* no interrupt between the user rsp load and sysretq */
    POP_GPRS                    /* rcx = rip, r11 = rflags, as checked */
    movq 40(%rsp), %rsp         /* past vector, error, rip, cs, rflags: the user rsp */
    swapgs
    sysretq

    .globl isr_common
isr_common:
    /* The System V ABI that the Swift and C code follows requires DF = 0 on every call, but
     * an interrupt or exception keeps the interrupted code's DF (SDM vol. 3 §6.12.1 clears
     * only TF, NT, RF and, for interrupt gates, IF). A guest fault taken inside a backward
     * `std; rep movsq` (musl's memmove) would otherwise make the kernel's memset/memcpy run
     * downwards over the memory below their target: the speedtest1 kernel panic (issue 12).
     * Linux does the same in its entry code (arch/x86/entry/calling.h, cld in PUSH_AND_CLEAR).
     * The guest's flags are restored by iretq from the frame, so its DF survives. */
    cld
    testb $3, 24(%rsp)          /* came from ring 3? */
    jz 1f
    swapgs
1:  PUSH_GPRS
    movq %rsp, %rdi
    call egg_trap_entry
    jmp trap_return

    .globl trap_return
trap_return:
    POP_GPRS
    testb $3, 24(%rsp)
    jz 2f
    swapgs
2:  addq $16, %rsp              /* vector and error code */
    iretq

/* void egg_enter_user(struct trap_frame *frame) — start executing a frame, never returns. */
    .globl egg_enter_user
egg_enter_user:
    movq %rdi, %rsp
    jmp trap_return

/* void egg_context_switch(uint64_t *save_rsp, uint64_t new_rsp) — park the running kernel
 * context (callee-saved registers and return address on its stack) and resume another.
 * A new thread's stack is prepared so that this "returns" into thread_start. */
    .globl egg_context_switch
egg_context_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

/* First kernel code of a new thread: its user frame sits right above; enter user mode. */
    .globl egg_thread_start
egg_thread_start:
    call egg_thread_started     /* releases the kernel lock held across the switch */
    jmp trap_return

/* void egg_switch_stack(uint64_t stack_top, void (*fn)(void)) — run fn on a new stack. */
    .globl egg_switch_stack
egg_switch_stack:
    movq %rdi, %rsp
    xorl %ebp, %ebp
    call *%rsi
3:  hlt
    jmp 3b

/* The 256 interrupt stubs. Vectors where the CPU pushes an error code: 8, 10-14, 17, 21, 29, 30. */
.macro ISR n
    .balign 16
isr_stub_\n:
    .if (\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
    .else
    pushq $0
    .endif
    pushq $\n
    jmp isr_common
.endm

.set i, 0
.rept 256
    ISR %i
    .set i, i + 1
.endr

    .data
    .globl egg_sysret_enabled
egg_sysret_enabled:
    .byte 0                     /* set by CPU.setUpSyscalls when sysretq is safe to use */

    .section .rodata
    .balign 8
    .globl isr_stub_table
isr_stub_table:
.macro STUBADDR n
    .quad isr_stub_\n
.endm
.set i, 0
.rept 256
    STUBADDR %i
    .set i, i + 1
.endr

    .section .note.GNU-stack, "", @progbits
