/*
 * sysv_shm_test.c — System V shared memory: shmget with IPC_PRIVATE and keys (IPC_CREAT|
 * IPC_EXCL, ENOENT, size limits), two attaches of one segment at different addresses that
 * see each other's stores, SHM_RDONLY (and mprotect refusing write on it), shmaddr rules
 * (unaligned EINVAL, SHM_RND, an occupied address EINVAL, shmdt not at an attach EINVAL),
 * shm_nattch counted per attach and doubled by fork, a forked child's stores seen by the
 * parent, the child's attaches dropped at its exit, IPC_RMID while attached (SHM_DEST, the key
 * forgotten, contents kept) and the segment gone at the last shmdt, IPC_INFO/SHM_INFO,
 * SHM_LOCK/SHM_UNLOCK, and permissions from the effective uid.
 *
 * Layer: guest test program (Tests/integration/run.sh runs it natively, then under egg).
 * The permission part switches the effective uid and needs root; as another user natively it
 * prints a SKIP line and exits 77. shmget(2), shmop(2), shmctl(2).
 */
#define _GNU_SOURCE
#include "check.h"
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>

const char *const test_name = "sysv_shm_test";

static unsigned long nattch(int id)
{
    struct shmid_ds ds;
    CHECK(shmctl(id, IPC_STAT, &ds) == 0, "IPC_STAT: errno %d", errno);
    return (unsigned long)ds.shm_nattch;
}

int main(void)
{
    if (geteuid() != 0) {
        printf("SKIP sysv_shm_test: needs root (running as uid %d)\n", (int)geteuid());
        return 77;
    }
    const size_t size = 3 * 4096 + 100;
    CHECK(shmget(IPC_PRIVATE, 0, 0600) < 0 && errno == EINVAL, "size 0: errno %d", errno);
    int id = shmget(IPC_PRIVATE, size, 0600);
    CHECK(id >= 0, "shmget private: errno %d", errno);

    /* Keys. */
    key_t key = 0x5E5E0000 + (getpid() & 0xFFFF);
    CHECK(shmget(key, 4096, 0600) < 0 && errno == ENOENT, "absent key: errno %d", errno);
    int kid = shmget(key, 4096, IPC_CREAT | 0600);
    CHECK(kid >= 0 && kid != id, "keyed create: %d errno %d", kid, errno);
    CHECK(shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600) < 0 && errno == EEXIST, "IPC_EXCL: errno %d", errno);
    CHECK(shmget(key, 100, 0) == kid, "smaller size finds it");
    CHECK(shmget(key, 8192, 0) < 0 && errno == EINVAL, "larger than the segment: errno %d", errno);

    /* Two attaches, one set of frames. */
    char *a = shmat(id, NULL, 0), *b = shmat(id, NULL, 0);
    CHECK(a != (void *)-1 && b != (void *)-1 && a != b, "shmat twice: %p %p errno %d", (void *)a, (void *)b, errno);
    CHECK(a[0] == 0 && a[size - 1] == 0, "a new segment is zeroed");
    strcpy(a + 5000, "through a");
    CHECK(strcmp(b + 5000, "through a") == 0, "b sees a's store");
    b[size - 1] = 'z';
    CHECK(a[size - 1] == 'z', "a sees b's store at the last byte");
    CHECK(nattch(id) == 2, "nattch %lu after two attaches", nattch(id));
    struct shmid_ds ds;
    CHECK(shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_segsz == size && ds.shm_cpid == getpid()
          && ds.shm_lpid == getpid() && (ds.shm_perm.mode & 0777) == 0600 && ds.shm_atime != 0,
          "IPC_STAT fields: segsz %zu cpid %d lpid %d mode %o", (size_t)ds.shm_segsz, (int)ds.shm_cpid,
          (int)ds.shm_lpid, (unsigned)ds.shm_perm.mode);

    /* Read-only attach. */
    char *r = shmat(id, NULL, SHM_RDONLY);
    CHECK(r != (void *)-1 && strcmp(r + 5000, "through a") == 0, "SHM_RDONLY attach reads: errno %d", errno);
    CHECK(mprotect(r, 4096, PROT_READ | PROT_WRITE) < 0 && errno == EACCES, "mprotect write on SHM_RDONLY: errno %d", errno);
    CHECK(nattch(id) == 3, "nattch %lu with the read-only attach", nattch(id));

    /* shmaddr rules. */
    char *hole = mmap(NULL, 8 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(hole != MAP_FAILED, "mmap");
    CHECK(munmap(hole, 8 * 4096) == 0, "munmap");
    CHECK(shmat(kid, hole + 1, 0) == (void *)-1 && errno == EINVAL, "unaligned without SHM_RND: errno %d", errno);
    char *k1 = shmat(kid, hole + 4096 + 5, SHM_RND);
    CHECK(k1 == hole + 4096, "SHM_RND rounds down: %p, wanted %p (errno %d)", (void *)k1, (void *)(hole + 4096), errno);
    CHECK(shmat(kid, hole + 4096, 0) == (void *)-1 && errno == EINVAL, "occupied address: errno %d", errno);
    CHECK(shmat(kid, NULL, SHM_REMAP) == (void *)-1 && errno == EINVAL, "SHM_REMAP without an address: errno %d", errno);
    CHECK(shmdt(a + 4096) < 0 && errno == EINVAL, "shmdt inside an attach: errno %d", errno);
    CHECK(shmdt(k1) == 0, "shmdt keyed");
    CHECK(shmdt(k1) < 0 && errno == EINVAL, "shmdt twice: errno %d", errno);

    /* fork: the child's attaches count, its stores are the parent's. */
    pid_t child = fork();
    CHECK(child >= 0, "fork: errno %d", errno);
    if (child == 0) {
        if (nattch(id) != 6)
            _exit(10 + (int)nattch(id));
        strcpy(a + 100, "from the child");
        _exit(0);
    }
    int status;
    CHECK(waitpid(child, &status, 0) == child, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: status %#x (10 + its nattch)", status);
    CHECK(strcmp(b + 100, "from the child") == 0, "the parent sees the child's store");
    CHECK(nattch(id) == 3, "nattch %lu after the child exited", nattch(id));

    /* Information. */
    struct shminfo info;
    CHECK(shmctl(0, IPC_INFO, (struct shmid_ds *)&info) >= 0 && info.shmmin == 1 && info.shmmni > 0
          && info.shmmax >= size, "IPC_INFO: min %lu mni %lu", info.shmmin, info.shmmni);
    struct shm_info sinfo;
    CHECK(shmctl(0, SHM_INFO, (struct shmid_ds *)&sinfo) >= 0 && sinfo.used_ids >= 2 && sinfo.shm_tot >= 5,
          "SHM_INFO: used %d tot %lu", sinfo.used_ids, sinfo.shm_tot);
    CHECK(shmctl(id, SHM_LOCK, NULL) == 0, "SHM_LOCK: errno %d", errno);
    CHECK(shmctl(id, IPC_STAT, &ds) == 0 && (ds.shm_perm.mode & SHM_LOCKED), "SHM_LOCKED shown: %o", (unsigned)ds.shm_perm.mode);
    CHECK(shmctl(id, SHM_UNLOCK, NULL) == 0, "SHM_UNLOCK: errno %d", errno);
    CHECK(shmctl(id, 9999, &ds) < 0 && errno == EINVAL, "unknown command: errno %d", errno);

    /* Permissions from the effective uid. */
    CHECK(seteuid(1000) == 0, "seteuid");
    errno = 0;
    CHECK(shmat(id, NULL, 0) == (void *)-1 && errno == EACCES, "shmat as another user: errno %d", errno);
    CHECK(shmctl(id, IPC_STAT, &ds) < 0 && errno == EACCES, "IPC_STAT as another user: errno %d", errno);
    CHECK(shmctl(id, IPC_RMID, NULL) < 0 && errno == EPERM, "IPC_RMID as another user: errno %d", errno);
    CHECK(seteuid(0) == 0, "seteuid back");
    ds.shm_perm.mode = 0644;
    CHECK(shmctl(kid, IPC_SET, &ds) == 0, "IPC_SET: errno %d", errno);
    CHECK(seteuid(1000) == 0, "seteuid");
    char *ro = shmat(kid, NULL, SHM_RDONLY);
    CHECK(ro != (void *)-1, "read-only attach as other after IPC_SET 0644: errno %d", errno);
    CHECK(shmat(kid, NULL, 0) == (void *)-1 && errno == EACCES, "read-write as other: errno %d", errno);
    CHECK(seteuid(0) == 0, "seteuid back");
    CHECK(shmdt(ro) == 0, "shmdt ro");

    /* IPC_RMID with nothing attached: gone at once. */
    CHECK(shmctl(kid, IPC_RMID, NULL) == 0, "IPC_RMID keyed");
    CHECK(shmctl(kid, IPC_STAT, &ds) < 0 && errno == EINVAL, "removed segment: errno %d", errno);
    CHECK(shmget(key, 4096, 0600) < 0 && errno == ENOENT, "its key is free: errno %d", errno);

    /* IPC_RMID while attached: SHM_DEST, still usable, gone at the last detach. */
    CHECK(shmctl(id, IPC_RMID, NULL) == 0, "IPC_RMID attached: errno %d", errno);
    CHECK(shmctl(id, IPC_STAT, &ds) == 0 && (ds.shm_perm.mode & SHM_DEST) && ds.shm_nattch == 3
          && ds.shm_perm.__key == IPC_PRIVATE, "SHM_DEST: mode %o nattch %lu", (unsigned)ds.shm_perm.mode,
          (unsigned long)ds.shm_nattch);
    strcpy(a, "after rmid");
    CHECK(strcmp(b, "after rmid") == 0, "still shared after IPC_RMID");
    CHECK(shmdt(a) == 0 && shmdt(r) == 0, "shmdt a, r");
    CHECK(nattch(id) == 1, "one attach left");
    CHECK(shmdt(b) == 0, "last shmdt");
    CHECK(shmctl(id, IPC_STAT, &ds) < 0 && errno == EINVAL, "destroyed at the last detach: errno %d", errno);
    return pass(NULL);
}
