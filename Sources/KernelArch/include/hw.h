/* hw.h — the x86-64 instructions Swift cannot express (KernelArch layer).
 *
 * Imported into Swift as module HW (Sources/KernelArch/include/module.modulemap); every
 * function is static inline so it compiles straight into the Swift object. Only
 * Sources/KernelArch and Sources/Kernel import it. Also declares the layout shared with the
 * assembly in entry.S (struct trap_frame) and the runtime hooks in KernelRuntime/runtime.c.
 */
#ifndef EGG_HW_H
#define EGG_HW_H
#include <stdint.h>
#include <stddef.h>

/* Saved user/kernel context, built by entry.S; field order is the push order reversed. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

static inline void hw_outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void hw_outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void hw_outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t hw_inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t hw_inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t hw_inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline uint64_t hw_rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void hw_wrmsr(uint32_t msr, uint64_t v) {
    __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline uint64_t hw_rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
struct hw_cpuid { uint32_t eax, ebx, ecx, edx; };
static inline struct hw_cpuid hw_cpuid(uint32_t leaf, uint32_t subleaf) {
    struct hw_cpuid r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
    return r;
}
/* RDRAND/RDSEED: returns 1 and stores a value on success (the CPU may run dry). */
static inline int hw_rdrand64(uint64_t *out) {
    unsigned char ok; uint64_t v;
    __asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok) :: "cc");
    *out = v; return ok;
}
static inline int hw_rdseed64(uint64_t *out) {
    unsigned char ok; uint64_t v;
    __asm__ volatile("rdseed %0; setc %1" : "=r"(v), "=qm"(ok) :: "cc");
    *out = v; return ok;
}

static inline uint64_t hw_read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline void hw_write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }
static inline uint64_t hw_read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t hw_read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline void hw_write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }
static inline uint64_t hw_read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void hw_write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory"); }
static inline void hw_xsetbv(uint32_t reg, uint64_t v) {
    __asm__ volatile("xsetbv" :: "c"(reg), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline void hw_invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory"); }
static inline void hw_cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void hw_sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void hw_hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
static inline void hw_sti_hlt(void) { __asm__ volatile("sti; hlt; cli" ::: "memory"); }
static inline void hw_pause(void) { __asm__ volatile("pause" ::: "memory"); }

struct __attribute__((packed)) hw_table_pointer { uint16_t limit; uint64_t base; };
static inline void hw_lgdt(uint64_t base, uint16_t limit) {
    struct hw_table_pointer p = { limit, base };
    __asm__ volatile("lgdt %0" :: "m"(p));
}
static inline void hw_lidt(uint64_t base, uint16_t limit) {
    struct hw_table_pointer p = { limit, base };
    __asm__ volatile("lidt %0" :: "m"(p));
}
static inline void hw_ltr(uint16_t sel) { __asm__ volatile("ltr %0" :: "r"(sel)); }
/* Reload CS with a far return and the data segments after a new GDT is loaded. */
static inline void hw_reload_segments(uint16_t code, uint16_t data) {
    __asm__ volatile(
        "pushq %q0\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movw %w1, %%ds\n\tmovw %w1, %%es\n\tmovw %w1, %%ss\n\t"
        :: "r"((uint64_t)code), "r"(data) : "rax", "memory");
}

/* Per-CPU block through GS (entry.S layout: 0 self, 8 kernel stack top, 16 scratch, 24 index). */
static inline uint64_t hw_gs_load64(uint64_t offset) {
    uint64_t v; __asm__ volatile("movq %%gs:(%1), %0" : "=r"(v) : "r"(offset)); return v;
}

/* The big kernel lock: a test-and-set spinlock. While spinning, interrupts are let in so
 * that TLB-shootdown IPIs and device interrupts are still served (Sources/Kernel/SMP.swift). */
extern volatile uint32_t egg_kernel_lock;
/* TLB shootdown: the lock holder bumps the generation and waits until every other CPU has
 * flushed and recorded it — from the IPI handler, or by polling while it spins here (TCG
 * only checks for interrupts between translation blocks, so the sti window alone is not
 * enough). Acknowledging twice is harmless. */
extern volatile uint32_t egg_shootdown_generation;
extern volatile uint32_t egg_shootdown_seen[64];
static inline void hw_shootdown_acknowledge(void) {
    uint64_t cpu;
    __asm__ volatile("movq %%gs:24, %0" : "=r"(cpu));
    uint32_t g = __atomic_load_n(&egg_shootdown_generation, __ATOMIC_ACQUIRE);
    if (egg_shootdown_seen[cpu] != g) {
        uint64_t cr3;
        __asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) :: "memory");
        __atomic_store_n(&egg_shootdown_seen[cpu], g, __ATOMIC_RELEASE);
    }
}
static inline void hw_kernel_lock(void) {
    while (__atomic_exchange_n(&egg_kernel_lock, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&egg_kernel_lock, __ATOMIC_RELAXED)) {
            hw_shootdown_acknowledge();
            __asm__ volatile("sti; pause; cli" ::: "memory");
        }
    }
}
static inline void hw_kernel_unlock(void) { __atomic_store_n(&egg_kernel_lock, 0, __ATOMIC_RELEASE); }
static inline uint32_t hw_atomic_load32(volatile uint32_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline void hw_atomic_store32(volatile uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static inline uint32_t hw_atomic_add32(volatile uint32_t *p, uint32_t v) { return __atomic_add_fetch(p, v, __ATOMIC_SEQ_CST); }
static inline uint32_t hw_atomic_sub32(volatile uint32_t *p, uint32_t v) { return __atomic_sub_fetch(p, v, __ATOMIC_SEQ_CST); }
/* Atomic compare-and-swap of a 32-bit word at a kernel virtual address (a guest futex word
 * through the direct map): `lock cmpxchg`, as Linux's futex_atomic_cmpxchg_inatomic
 * (arch/x86/include/asm/futex.h). Returns the value found; the store happened iff it equals
 * `expected`. The caller (KernelArch/DirectMap.swift) passes a checked, mapped address. */
static inline uint32_t hw_cmpxchg32(uint64_t va, uint32_t expected, uint32_t desired) {
    __atomic_compare_exchange_n((volatile uint32_t *)va, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return expected;
}
extern volatile uint32_t egg_cpus_online;
extern char ap_trampoline_start[], ap_trampoline_end[], ap_params[];
static inline uint64_t hw_ap_trampoline_start(void) { return (uint64_t)ap_trampoline_start; }
static inline uint64_t hw_ap_trampoline_size(void) { return (uint64_t)(ap_trampoline_end - ap_trampoline_start); }
static inline uint64_t hw_ap_params_offset(void) { return (uint64_t)(ap_params - ap_trampoline_start); }

/* Volatile access to physical memory through the direct map (see Paging.swift). */
static inline uint64_t hw_load64(uint64_t va) { return *(volatile uint64_t *)va; }
static inline void hw_store64(uint64_t va, uint64_t v) { *(volatile uint64_t *)va = v; }
static inline uint32_t hw_load32(uint64_t va) { return *(volatile uint32_t *)va; }
static inline void hw_store32(uint64_t va, uint32_t v) { *(volatile uint32_t *)va = v; }
static inline uint16_t hw_load16(uint64_t va) { return *(volatile uint16_t *)va; }
static inline void hw_store16(uint64_t va, uint16_t v) { *(volatile uint16_t *)va = v; }
static inline uint8_t hw_load8(uint64_t va) { return *(volatile uint8_t *)va; }
static inline void hw_store8(uint64_t va, uint8_t v) { *(volatile uint8_t *)va = v; }

/* Runtime (KernelRuntime/runtime.c) and assembly (entry.S, boot.S) entry points. */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void egg_heap_add_region(uint64_t start, uint64_t length);
/* A heap block that may fail (0) instead of panicking (Sources/KernelRuntime/runtime.c). */
void *egg_heap_try_alloc(uint64_t size, uint64_t alignment);
uint64_t egg_heap_bytes_in_use(void);
void egg_enter_user(struct trap_frame *frame) __attribute__((noreturn));
void egg_switch_stack(uint64_t stack_top, void (*fn)(void)) __attribute__((noreturn));
void egg_context_switch(uint64_t *save_rsp, uint64_t new_rsp);
extern void egg_thread_start(void);
static inline uint64_t hw_thread_start_address(void) { return (uint64_t)&egg_thread_start; }
/* FPU/SSE/AVX state: xsave/xrstor with the enabled components, or fxsave/fxrstor. */
static inline void hw_xsave(uint64_t area, uint64_t mask) {
    __asm__ volatile("xsave64 (%0)" :: "r"(area), "a"((uint32_t)mask), "d"((uint32_t)(mask >> 32)) : "memory");
}
static inline void hw_xrstor(uint64_t area, uint64_t mask) {
    __asm__ volatile("xrstor64 (%0)" :: "r"(area), "a"((uint32_t)mask), "d"((uint32_t)(mask >> 32)) : "memory");
}
static inline void hw_fxsave(uint64_t area) { __asm__ volatile("fxsave64 (%0)" :: "r"(area) : "memory"); }
static inline void hw_fxrstor(uint64_t area) { __asm__ volatile("fxrstor64 (%0)" :: "r"(area) : "memory"); }
static inline void hw_fninit(void) { __asm__ volatile("fninit"); }
extern const uint64_t isr_stub_table[256];
extern void syscall_entry(void);
extern char egg_vdso_start[], egg_vdso_end[];  /* vdso_image.S: the vDSO's ELF image */
static inline uint64_t hw_vdso_start(void) { return (uint64_t)egg_vdso_start; }
static inline uint64_t hw_vdso_end(void) { return (uint64_t)egg_vdso_end; }
extern uint8_t egg_sysret_enabled;  /* entry.S: return from system calls with sysretq */
static inline void hw_set_sysret_enabled(int on) { egg_sysret_enabled = on ? 1 : 0; }
extern char __kernel_start[], __kernel_end[], __text_start[], __text_end[];
extern char __rodata_start[], __rodata_end[], __data_start[], __bss_end[];
extern char boot_stack_top[];
static inline uint64_t hw_symbol_address(const void *p) { return (uint64_t)p; }
static inline uint64_t hw_syscall_entry_address(void) { return (uint64_t)&syscall_entry; }
static inline uint64_t hw_isr_stub(int i) { return isr_stub_table[i]; }
static inline uint64_t hw_kernel_start(void) { return (uint64_t)__kernel_start; }
static inline uint64_t hw_kernel_end(void) { return (uint64_t)__kernel_end; }
static inline uint64_t hw_text_start(void) { return (uint64_t)__text_start; }
static inline uint64_t hw_text_end(void) { return (uint64_t)__text_end; }
static inline uint64_t hw_rodata_start(void) { return (uint64_t)__rodata_start; }
static inline uint64_t hw_rodata_end(void) { return (uint64_t)__rodata_end; }
static inline uint64_t hw_data_start(void) { return (uint64_t)__data_start; }
#endif
