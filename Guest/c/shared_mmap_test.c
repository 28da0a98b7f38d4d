/*
 * shared_mmap_test.c — MAP_SHARED file mappings (issue 14 item 2): two mappings and
 * read/pread/pwrite stay coherent, msync's and mincore's argument rules, SIGBUS past
 * end-of-file (shared and private) caught with a handler, ftruncate shrinking and growing a
 * mapped file, private mappings never writing through, a mapping outliving unlink and close,
 * shm_open and sem_open (whose semaphore lives in a shared mapping of a /dev/shm file).
 *
 * Layer: guest test program (Guest/c, check.h); runs natively on Linux first (run.sh).
 * Kernel side: Sources/KernelCore/Process/FileMappingFaults.swift, Syscalls/MemorySyscalls.swift.
 */
#include "check.h"

#include <fcntl.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

const char *const test_name = "shared_mmap_test";

static sigjmp_buf bus_jump;
static volatile sig_atomic_t bus_code;
static void *volatile bus_address;

static void on_bus(int sig, siginfo_t *info, void *context)
{
    (void)sig;
    (void)context;
    bus_code = info->si_code;
    bus_address = info->si_addr;
    siglongjmp(bus_jump, 1);
}

/* Reads one byte at p; returns 1 if that raised SIGBUS (with si_addr == p), else 0. */
static int touch_faults(volatile char *p, int write)
{
    bus_code = 0;
    bus_address = 0;
    if (sigsetjmp(bus_jump, 1) == 0) {
        if (write)
            *p = 'w';
        else
            (void)*p;
        return 0;
    }
    CHECK(bus_address == (void *)p, "SIGBUS si_addr %p, expected %p", bus_address, (void *)p);
    CHECK(bus_code == BUS_ADRERR, "SIGBUS si_code %d, expected BUS_ADRERR", (int)bus_code);
    return 1;
}

int main(void)
{
    long page = sysconf(_SC_PAGESIZE);
    const char *path = "/dev/shm/egg_shared_mmap_test";
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_bus;
    sa.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGBUS, &sa, NULL) == 0, "sigaction: %s", strerror(errno));

    unlink(path);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
    CHECK(ftruncate(fd, 3 * page) == 0, "ftruncate: %s", strerror(errno));

    /* Two shared mappings of the same file, and one of its second page only. */
    char *a = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *b = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *c = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, page);
    CHECK(a != MAP_FAILED && b != MAP_FAILED && c != MAP_FAILED, "mmap MAP_SHARED: %s", strerror(errno));
    CHECK(a != b, "two mappings at one address");
    strcpy(a + 10, "through a");
    CHECK(strcmp(b + 10, "through a") == 0, "mapping b does not see a's store");
    char buf[64];
    CHECK(pread(fd, buf, 10, 10) == 10 && memcmp(buf, "through a", 10) == 0, "pread does not see the mapping's store");
    CHECK(pwrite(fd, "pwritten", 9, page + 5) == 9, "pwrite: %s", strerror(errno));
    CHECK(strcmp(a + page + 5, "pwritten") == 0 && strcmp(c + 5, "pwritten") == 0,
          "mappings do not see pwrite");
    b[2 * page + 1] = 'Z';
    CHECK(lseek(fd, 2 * page + 1, SEEK_SET) == 2 * page + 1 && read(fd, buf, 1) == 1 && buf[0] == 'Z',
          "read does not see the store through b");

    /* msync: argument rules (mm/msync.c), then success on the mapping. */
    CHECK(msync(a, 3 * page, MS_SYNC) == 0, "msync MS_SYNC: %s", strerror(errno));
    CHECK(msync(a, page, MS_ASYNC | MS_INVALIDATE) == 0, "msync MS_ASYNC|MS_INVALIDATE: %s", strerror(errno));
    CHECK_ERRNO(msync(a, page, MS_ASYNC | MS_SYNC), EINVAL);
    CHECK_ERRNO(msync(a, page, 0x100), EINVAL);
    CHECK_ERRNO(msync(a + 1, page, MS_SYNC), EINVAL);
    CHECK(msync(a, 0, MS_SYNC) == 0, "msync of length 0: %s", strerror(errno));

    /* mincore: a page written is resident; an unmapped range is ENOMEM, a misaligned EINVAL. */
    unsigned char vec[3] = {0xff, 0xff, 0xff};
    CHECK(mincore(a, 3 * page, vec) == 0, "mincore: %s", strerror(errno));
    CHECK((vec[0] & 1) && (vec[2] & 1), "mincore says written pages are not resident (%d %d)", vec[0], vec[2]);
    CHECK((vec[0] & ~1) == 0 && (vec[1] & ~1) == 0 && (vec[2] & ~1) == 0, "mincore sets bits beyond bit 0");
    CHECK_ERRNO(mincore(a + 1, page, vec), EINVAL);
    char *hole = mmap(NULL, 2 * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(hole != MAP_FAILED && munmap(hole + page, page) == 0, "anonymous mmap/munmap: %s", strerror(errno));
    CHECK_ERRNO(mincore(hole, 2 * page, vec), ENOMEM);
    CHECK_ERRNO(msync(hole, 2 * page, MS_SYNC), ENOMEM);
    CHECK(mincore(hole, page, vec) == 0 && (vec[0] & 1) == 0, "an untouched anonymous page is resident");
    munmap(hole, page);

    /* Shrinking the file: pages past the new end are gone from every mapping (SIGBUS). */
    CHECK(ftruncate(fd, page + 100) == 0, "ftruncate shrink: %s", strerror(errno));
    CHECK(a[page + 5] == 'p' && a[page + 200] == 0, "the page holding the end lost its bytes");
    CHECK(touch_faults(a + 2 * page, 0), "reading past end-of-file through a did not raise SIGBUS");
    CHECK(touch_faults(b + 2 * page + 1, 1), "writing past end-of-file through b did not raise SIGBUS");
    /* Growing again: the pages are back, as zeros. */
    CHECK(ftruncate(fd, 3 * page) == 0, "ftruncate grow: %s", strerror(errno));
    CHECK(!touch_faults(a + 2 * page + 1, 0) && a[2 * page + 1] == 0, "grown page is not zero");
    b[2 * page + 2] = 'G';
    CHECK(pread(fd, buf, 1, 2 * page + 2) == 1 && buf[0] == 'G', "store to a grown page not in the file");

    /* A mapping longer than the file: SIGBUS past the last page, zeros before it. */
    CHECK(ftruncate(fd, 100) == 0, "ftruncate 100: %s", strerror(errno));
    char *longer = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(longer != MAP_FAILED, "mmap longer than the file: %s", strerror(errno));
    CHECK(!touch_faults(longer + 200, 0) && longer[200] == 0, "tail of the last page not zero");
    CHECK(touch_faults(longer + page, 0), "read one page past EOF did not raise SIGBUS");

    /* Private mappings: a copy; stores stay private; past EOF is SIGBUS as well. */
    char *priv = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(priv != MAP_FAILED, "mmap MAP_PRIVATE: %s", strerror(errno));
    CHECK(strcmp(priv + 10, "through a") == 0, "private mapping does not show the file");
    priv[10] = 'X';
    CHECK(pread(fd, buf, 1, 10) == 1 && buf[0] == 't' && a[10] == 't', "private store reached the file");
    CHECK(touch_faults(priv + page, 1), "private mapping past EOF did not raise SIGBUS");
    munmap(priv, 2 * page);

    /* Rights: a read-only descriptor cannot be mapped shared and writable; a pipe not at all. */
    int ro = open(path, O_RDONLY);
    CHECK(ro >= 0, "open O_RDONLY: %s", strerror(errno));
    CHECK_ERRNO(mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), EACCES);
    char *rmap = mmap(NULL, page, PROT_READ, MAP_SHARED, ro, 0);
    CHECK(rmap != MAP_FAILED && strcmp(rmap + 10, "through a") == 0, "read-only shared mapping: %s", strerror(errno));
    CHECK_ERRNO(mprotect(rmap, page, PROT_READ | PROT_WRITE), EACCES);
    munmap(rmap, page);
    close(ro);
    int pipefd[2];
    CHECK(pipe(pipefd) == 0, "pipe");
    CHECK_ERRNO(mmap(NULL, page, PROT_READ, MAP_SHARED, pipefd[0], 0), ENODEV);
    close(pipefd[0]);
    close(pipefd[1]);

    /* Unmapping keeps the file's bytes; a mapping outlives unlink and close. */
    CHECK(munmap(b, 3 * page) == 0 && munmap(c, page) == 0, "munmap: %s", strerror(errno));
    CHECK(pread(fd, buf, 10, 10) == 10 && memcmp(buf, "through a", 10) == 0, "munmap lost the file's bytes");
    CHECK(unlink(path) == 0 && close(fd) == 0, "unlink/close: %s", strerror(errno));
    strcpy(a + 20, "after close");
    CHECK(strcmp(longer + 20, "after close") == 0, "mappings of an unlinked, closed file are not coherent");
    munmap(a, 3 * page);
    munmap(longer, 2 * page);

    /* POSIX shared memory and named semaphores (files in /dev/shm mapped shared). */
    const char *shm_name = "/egg_shmap_shm";
    shm_unlink(shm_name);
    int shm = shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL, 0600);
    CHECK(shm >= 0, "shm_open: %s", strerror(errno));
    CHECK(ftruncate(shm, page) == 0, "ftruncate shm: %s", strerror(errno));
    int *counter = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0);
    CHECK(counter != MAP_FAILED, "mmap shm: %s", strerror(errno));
    counter[0] = 41;
    int again = shm_open(shm_name, O_RDWR, 0);
    CHECK(again >= 0, "shm_open existing: %s", strerror(errno));
    int *view = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, again, 0);
    CHECK(view != MAP_FAILED && view[0] == 41, "second shm mapping does not see the first");
    view[0]++;
    CHECK(counter[0] == 42, "first shm mapping does not see the second");
    CHECK(shm_unlink(shm_name) == 0, "shm_unlink: %s", strerror(errno));
    munmap(counter, page);
    munmap(view, page);
    close(shm);
    close(again);

    const char *sem_name = "/egg_shmap_sem";
    sem_unlink(sem_name);
    sem_t *sem = sem_open(sem_name, O_CREAT | O_EXCL, 0600, 2);
    CHECK(sem != SEM_FAILED, "sem_open: %s", strerror(errno));
    int value = -1;
    CHECK(sem_wait(sem) == 0 && sem_getvalue(sem, &value) == 0 && value == 1, "sem_wait/getvalue: %d", value);
    CHECK(sem_post(sem) == 0 && sem_post(sem) == 0 && sem_getvalue(sem, &value) == 0 && value == 3,
          "sem_post: value %d", value);
    CHECK(sem_trywait(sem) == 0, "sem_trywait: %s", strerror(errno));
    CHECK(sem_close(sem) == 0, "sem_close: %s", strerror(errno));
    sem = sem_open(sem_name, 0);
    CHECK(sem != SEM_FAILED && sem_getvalue(sem, &value) == 0 && value == 2, "reopened semaphore value %d", value);
    CHECK(sem_close(sem) == 0 && sem_unlink(sem_name) == 0, "sem_unlink: %s", strerror(errno));
    return pass("coherent mappings, msync, mincore, SIGBUS past EOF, shm_open, sem_open");
}
