/*
 * segv.c — dies of SIGSEGV on purpose by loading from address 0x10 (never mapped: Linux
 * keeps the first 64 KiB unmapped, vm.mmap_min_addr). The runner expects exit status 139
 * (128 + SIGSEGV) natively and under egg, and egg's crash report to name SIGSEGV.
 * The line printed first is not a verdict: the verdict is the status. Surviving the load is
 * the one failure this program can see for itself.
 * Layer: guest test programs (Guest/); runner: Tests/integration/run.sh.
 */
#include "check.h"

#include <stdint.h>

const char *const test_name = "segv";

int main(void)
{
    static const char msg[] = "segv: loading from address 0x10, expecting SIGSEGV\n";
    verdict_write(msg, sizeof msg - 1);
    /* Hide the constant from the compiler so that it emits a plain load. */
    uintptr_t addr = 0x10;
    __asm__ volatile("" : "+r"(addr));
    volatile int *p = (volatile int *)addr;
    int value = *p;
    fail("load from 0x10 returned %d instead of faulting", value);
}
