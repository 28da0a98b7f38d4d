/*
 * oom_touch.c — touching more memory than the machine has. Under egg (run with a small -m)
 * the guest is killed the way Linux's OOM killer kills it: SIGKILL, exit status 137, with a
 * message; the kernel itself survives and reports the status. Natively the program only
 * touches as much as argv[1] MiB (the runner passes a small number natively and a large one
 * under egg), so it passes there. Layer: guest test programs.
 */
#include "check.h"

const char *const test_name = "oom_touch";

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 16;
    for (long i = 0; i < mib; i++) {
        char *p = malloc(1 << 20);
        if (p == NULL)
            return pass("malloc failed after %ld MiB", i);
        memset(p, 1, 1 << 20);
    }
    return pass("touched %ld MiB", mib);
}
