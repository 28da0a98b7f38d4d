/*
 * oom.c — running out of memory is an error the program sees, not a kernel crash: a request
 * for far more than the machine has fails with ENOMEM (malloc returns NULL, mmap returns
 * MAP_FAILED), and the program carries on. Natively this holds too (heuristic overcommit
 * refuses one request larger than RAM plus swap). Layer: guest test programs.
 */
#include <sys/mman.h>
#include "check.h"

const char *const test_name = "oom";

int main(void)
{
    size_t huge = (size_t)1 << 44;  /* 16 TiB */
    errno = 0;
    void *p = malloc(huge);
    CHECK(p == NULL && errno == ENOMEM, "malloc(16 TiB) = %p, errno %d", p, errno);
    errno = 0;
    void *m = mmap(NULL, huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m == MAP_FAILED && errno == ENOMEM, "mmap(16 TiB) = %p, errno %d", m, errno);
    /* Still alive and allocating normally afterwards. */
    char *q = malloc(1 << 20);
    CHECK(q != NULL, "malloc(1 MiB) after the failures");
    memset(q, 7, 1 << 20);
    free(q);
    return pass("16 TiB requests refused with ENOMEM");
}
