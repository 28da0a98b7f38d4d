/*
 * crash_backtrace.c — dies of SIGSEGV three calls deep, in functions built with frame
 * pointers, so that egg's crash report can name where: "ip ... is in crash_inner+0x..", and a
 * backtrace through crash_middle, crash_outer and main (Sources/EggHost/CrashSymbolizer.swift,
 * frame walk in Sources/KernelCore/CrashReport.swift). The runner expects status 139
 * natively and under egg, and egg's report to name crash_inner and crash_outer.
 * Layer: guest test programs (Guest/); runner: Tests/integration/run.sh (crash case).
 */
#include "check.h"

#include <stdint.h>

const char *const test_name = "crash_backtrace";

#define FRAME __attribute__((noinline, optimize("no-omit-frame-pointer")))

volatile uintptr_t bad_address = 0x10;
volatile int sink;

FRAME void crash_inner(int depth)
{
    volatile int *p = (volatile int *)bad_address;
    sink = *p + depth;
}

FRAME void crash_middle(int depth)
{
    crash_inner(depth + 1);
    sink++;
}

FRAME void crash_outer(int depth)
{
    crash_middle(depth + 1);
    sink++;
}

FRAME int main(void)
{
    static const char msg[] = "crash_backtrace: crashing in crash_inner, expecting SIGSEGV\n";
    verdict_write(msg, sizeof msg - 1);
    crash_outer(0);
    fail("the load from 0x10 did not fault");
}
