/*
 * hello.c — the smallest guest: prints one line and exits 0. `make run` boots egg with it
 * (build/guest/hello-musl). Layer: guest test programs (Guest/); the runner is
 * Tests/integration/run.sh, which also checks the exact output.
 */
#include <stdio.h>

int main(void)
{
    puts("hello from egg");
    return 0;
}
