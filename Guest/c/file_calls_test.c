/*
 * file_calls_test.c — the file calls of issue 14 item 6 on tmpfs (/dev/shm, tmpfs natively
 * as under egg): fsync, fdatasync, syncfs, sync, sync_file_range with their argument
 * errors, fallocate's modes (default, KEEP_SIZE, PUNCH_HOLE|KEEP_SIZE, and the modes tmpfs
 * does not implement), posix_fadvise, readahead, memfd_create with MFD_CLOEXEC and
 * MFD_ALLOW_SEALING, F_ADD_SEALS / F_GET_SEALS with the EPERM and EBUSY they cause, and
 * copy_file_range, splice, tee and vmsplice between pipes and files.
 *
 * Layer: guest test program (Guest/c, check.h); runs natively on Linux first (run.sh).
 * Kernel side: Sources/KernelCore/Syscalls/FileSyncSyscalls.swift, VFS/MemFD.swift.
 */
#define _GNU_SOURCE
#include "check.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 0x02
#endif
#define FL_COLLAPSE_RANGE 0x08
#define FL_ZERO_RANGE 0x10
#define FL_INSERT_RANGE 0x20
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#define F_SEAL_WRITE 0x0008
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#define MFD_ALLOW_SEALING 0x0002U
#endif

const char *const test_name = "file_calls_test";

static int memfd(const char *name, unsigned flags) { return (int)syscall(SYS_memfd_create, name, flags); }
static int falloc(int fd, int mode, off_t offset, off_t len) { return (int)syscall(SYS_fallocate, fd, mode, offset, len); }

int main(void)
{
    const char *path = "/dev/shm/egg_file_calls_test";
    unlink(path);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
    CHECK(write(fd, "hello", 5) == 5, "write: %s", strerror(errno));

    /* fsync family: fine on tmpfs files and directories; EINVAL on a pipe; EBADF when closed. */
    CHECK(fsync(fd) == 0 && fdatasync(fd) == 0, "fsync/fdatasync: %s", strerror(errno));
    int dir = open("/dev/shm", O_RDONLY | O_DIRECTORY);
    CHECK(dir >= 0 && fsync(dir) == 0, "fsync of a directory: %s", strerror(errno));
    CHECK(syscall(SYS_syncfs, fd) == 0, "syncfs: %s", strerror(errno));
    sync();
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    CHECK_ERRNO(fsync(p[0]), EINVAL);
    CHECK_ERRNO(fdatasync(p[1]), EINVAL);
    CHECK(syscall(SYS_syncfs, p[0]) == 0, "syncfs of a pipe: %s", strerror(errno));
    CHECK_ERRNO(fsync(999), EBADF);
    CHECK_ERRNO(syscall(SYS_syncfs, 999), EBADF);

    /* sync_file_range: flags and offsets checked, ESPIPE on a pipe. */
    CHECK(sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) == 0, "sync_file_range: %s", strerror(errno));
    CHECK(sync_file_range(fd, 0, 4096, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) == 0,
          "sync_file_range all flags: %s", strerror(errno));
    CHECK_ERRNO(sync_file_range(fd, 0, 0, 8), EINVAL);
    CHECK_ERRNO(sync_file_range(fd, -1, 0, 0), EINVAL);
    CHECK_ERRNO(sync_file_range(fd, 0, -2, 0), EINVAL);
    CHECK_ERRNO(sync_file_range(p[0], 0, 0, 0), ESPIPE);

    /* fallocate: the default mode grows the file; KEEP_SIZE does not; PUNCH_HOLE|KEEP_SIZE
     * zeroes; modes tmpfs lacks are EOPNOTSUPP; argument errors as vfs_fallocate. */
    struct stat st;
    CHECK(falloc(fd, 0, 0, 3 * 4096) == 0, "fallocate: %s", strerror(errno));
    CHECK(fstat(fd, &st) == 0 && st.st_size == 3 * 4096, "fallocate size %lld", (long long)st.st_size);
    CHECK(st.st_blocks >= 3 * 8, "fallocate allocated %lld blocks", (long long)st.st_blocks);
    CHECK(falloc(fd, FALLOC_FL_KEEP_SIZE, 0, 8 * 4096) == 0, "fallocate KEEP_SIZE: %s", strerror(errno));
    CHECK(fstat(fd, &st) == 0 && st.st_size == 3 * 4096, "KEEP_SIZE changed the size to %lld", (long long)st.st_size);
    char buf[16];
    CHECK(pwrite(fd, "abcdefgh", 8, 4096 - 4) == 8, "pwrite: %s", strerror(errno));
    CHECK(falloc(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096 - 2, 4) == 0, "punch hole: %s", strerror(errno));
    CHECK(pread(fd, buf, 8, 4096 - 4) == 8 && memcmp(buf, "ab\0\0\0\0gh", 8) == 0, "punched bytes are not zeros");
    CHECK(falloc(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096) == 0, "punch a page: %s", strerror(errno));
    CHECK(pread(fd, buf, 5, 0) == 5 && memcmp(buf, "\0\0\0\0\0", 5) == 0, "punched page is not zeros");
    CHECK(fstat(fd, &st) == 0 && st.st_size == 3 * 4096, "punch hole changed the size");
    CHECK_ERRNO(falloc(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096), EOPNOTSUPP);
    CHECK_ERRNO(falloc(fd, FL_ZERO_RANGE, 0, 4096), EOPNOTSUPP);
    CHECK_ERRNO(falloc(fd, FL_COLLAPSE_RANGE, 0, 4096), EOPNOTSUPP);
    CHECK_ERRNO(falloc(fd, FL_INSERT_RANGE, 0, 4096), EOPNOTSUPP);
    CHECK_ERRNO(falloc(fd, 0, 0, 0), EINVAL);
    CHECK_ERRNO(falloc(fd, 0, -1, 10), EINVAL);
    CHECK_ERRNO(falloc(fd, 0x1000, 0, 10), EOPNOTSUPP);
    CHECK_ERRNO(falloc(p[1], 0, 0, 10), ESPIPE);
    CHECK_ERRNO(falloc(dir, 0, 0, 10), EBADF);
    int ro = open(path, O_RDONLY);
    CHECK(ro >= 0, "open O_RDONLY");
    CHECK_ERRNO(falloc(ro, 0, 0, 10), EBADF);

    /* posix_fadvise and readahead. */
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) == 0, "posix_fadvise");
    CHECK(posix_fadvise(fd, 0, 0, 99) == EINVAL, "posix_fadvise bad advice");
    CHECK(posix_fadvise(p[0], 0, 0, POSIX_FADV_NORMAL) == ESPIPE, "posix_fadvise on a pipe");
    CHECK(readahead(ro, 0, 4096) == 0, "readahead: %s", strerror(errno));
    CHECK_ERRNO(readahead(p[0], 0, 4096), EINVAL);
    close(ro);

    /* memfd_create: an unnamed file, CLOEXEC honoured, sealing only when allowed. */
    int m = memfd("egg-memfd", MFD_CLOEXEC);
    CHECK(m >= 0, "memfd_create: %s", strerror(errno));
    CHECK(fcntl(m, F_GETFD) == FD_CLOEXEC, "MFD_CLOEXEC not set");
    CHECK(fstat(m, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 0, "memfd fstat mode %o nlink %lu",
          (unsigned)st.st_mode, (unsigned long)st.st_nlink);
    CHECK(fcntl(m, F_GET_SEALS) == F_SEAL_SEAL, "memfd without ALLOW_SEALING: seals %d", fcntl(m, F_GET_SEALS));
    CHECK_ERRNO(fcntl(m, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
    CHECK(write(m, "abc", 3) == 3, "write memfd: %s", strerror(errno));
    close(m);
    CHECK_ERRNO(memfd("x", 0x1000), EINVAL);
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK_ERRNO(memfd(longname, 0), EINVAL);
    CHECK_ERRNO(fcntl(p[0], F_GET_SEALS), EINVAL);

    int s = memfd("sealed", MFD_ALLOW_SEALING);
    CHECK(s >= 0, "memfd_create ALLOW_SEALING: %s", strerror(errno));
    CHECK(fcntl(s, F_GETFD) == 0, "FD_CLOEXEC set without MFD_CLOEXEC");
    CHECK(fcntl(s, F_GET_SEALS) == 0, "fresh sealable memfd has seals %d", fcntl(s, F_GET_SEALS));
    CHECK(ftruncate(s, 8192) == 0, "ftruncate memfd: %s", strerror(errno));
    CHECK_ERRNO(fcntl(s, F_ADD_SEALS, 0x1000), EINVAL);
    CHECK(fcntl(s, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0, "F_ADD_SEALS: %s", strerror(errno));
    CHECK(fcntl(s, F_GET_SEALS) == (F_SEAL_SHRINK | F_SEAL_GROW), "seals %d", fcntl(s, F_GET_SEALS));
    CHECK_ERRNO(ftruncate(s, 4096), EPERM);
    CHECK_ERRNO(ftruncate(s, 3 * 4096), EPERM);
    CHECK_ERRNO(pwrite(s, "x", 1, 8192), EPERM);
    CHECK_ERRNO(falloc(s, 0, 0, 3 * 4096), EPERM);
    CHECK(pwrite(s, "in", 2, 100) == 2, "write inside a GROW-sealed memfd: %s", strerror(errno));
    /* SEAL_WRITE: EBUSY while a writable shared mapping exists; then writes are EPERM. */
    char *map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0);
    CHECK(map != MAP_FAILED, "mmap memfd: %s", strerror(errno));
    CHECK(strcmp(map + 100, "in") == 0, "memfd mapping does not show the write");
    CHECK_ERRNO(fcntl(s, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
    CHECK(munmap(map, 8192) == 0, "munmap");
    CHECK(fcntl(s, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SEAL) == 0, "F_SEAL_WRITE after munmap: %s", strerror(errno));
    CHECK_ERRNO(pwrite(s, "x", 1, 0), EPERM);
    CHECK_ERRNO(mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0), EPERM);
    CHECK_ERRNO(falloc(s, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096), EPERM);
    CHECK_ERRNO(fcntl(s, F_ADD_SEALS, F_SEAL_SHRINK), EPERM);
    map = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, s, 0);
    CHECK(map != MAP_FAILED && strcmp(map + 100, "in") == 0, "read-only mapping of a sealed memfd: %s", strerror(errno));
    munmap(map, 8192);
    close(s);

    /* copy_file_range: between files, offsets by pointer or file offset, its errors. */
    int src = memfd("src", 0), dst = memfd("dst", 0);
    CHECK(src >= 0 && dst >= 0, "memfd_create: %s", strerror(errno));
    CHECK(write(src, "0123456789", 10) == 10, "write src");
    loff_t in_off = 2, out_off = 100;
    CHECK(copy_file_range(src, &in_off, dst, &out_off, 5, 0) == 5, "copy_file_range: %s", strerror(errno));
    CHECK(in_off == 7 && out_off == 105, "copy_file_range offsets %lld %lld", (long long)in_off, (long long)out_off);
    CHECK(pread(dst, buf, 5, 100) == 5 && memcmp(buf, "23456", 5) == 0, "copy_file_range bytes");
    CHECK(lseek(src, 0, SEEK_CUR) == 10, "copy_file_range with pointers moved the file offset");
    CHECK(lseek(src, 8, SEEK_SET) == 8 && lseek(dst, 0, SEEK_SET) == 0, "lseek");
    CHECK(copy_file_range(src, NULL, dst, NULL, 100, 0) == 2, "copy_file_range stops at the end");
    CHECK(lseek(src, 0, SEEK_CUR) == 10 && lseek(dst, 0, SEEK_CUR) == 2, "copy_file_range file offsets");
    CHECK(copy_file_range(src, NULL, dst, NULL, 100, 0) == 0, "copy_file_range at the end");
    CHECK_ERRNO(copy_file_range(src, NULL, dst, NULL, 1, 1), EINVAL);
    CHECK_ERRNO(copy_file_range(p[0], NULL, dst, NULL, 1, 0), EINVAL);
    CHECK_ERRNO(copy_file_range(dir, NULL, dst, NULL, 1, 0), EISDIR);
    in_off = 0;
    out_off = 2;
    CHECK_ERRNO(copy_file_range(src, &in_off, src, &out_off, 5, 0), EINVAL);

    /* splice: file -> pipe -> file, pipe -> pipe; tee; vmsplice. */
    int q[2];
    CHECK(pipe(q) == 0, "pipe");
    in_off = 3;
    CHECK(splice(src, &in_off, p[1], NULL, 4, 0) == 4 && in_off == 7, "splice file to pipe: %s", strerror(errno));
    CHECK(tee(p[0], q[1], 100, 0) == 4, "tee: %s", strerror(errno));
    CHECK(splice(q[0], NULL, dst, NULL, 100, 0) == 4, "splice pipe to file: %s", strerror(errno));
    CHECK(pread(dst, buf, 4, 2) == 4 && memcmp(buf, "3456", 4) == 0, "splice wrote the wrong bytes");
    CHECK(splice(p[0], NULL, q[1], NULL, 2, 0) == 2, "splice pipe to pipe: %s", strerror(errno));
    CHECK(read(q[0], buf, 10) == 2 && memcmp(buf, "34", 2) == 0, "pipe to pipe bytes");
    CHECK(read(p[0], buf, 10) == 2 && memcmp(buf, "56", 2) == 0, "tee consumed the input or splice took too much");
    CHECK_ERRNO(splice(src, NULL, dst, NULL, 1, 0), EINVAL);
    CHECK_ERRNO(splice(p[0], &in_off, q[1], NULL, 1, 0), ESPIPE);
    CHECK_ERRNO(splice(p[0], NULL, q[1], NULL, 1, 0x100), EINVAL);
    CHECK_ERRNO(splice(p[0], NULL, q[1], NULL, 1, SPLICE_F_NONBLOCK), EAGAIN);
    CHECK_ERRNO(tee(p[0], p[1], 1, 0), EINVAL);
    CHECK_ERRNO(tee(src, q[1], 1, 0), EINVAL);
    char part1[] = "vm", part2[] = "splice";
    struct iovec iov[2] = {{part1, 2}, {part2, 6}};
    CHECK(vmsplice(q[1], iov, 2, 0) == 8, "vmsplice to pipe: %s", strerror(errno));
    char out[8];
    struct iovec back = {out, sizeof out};
    CHECK(vmsplice(q[0], &back, 1, 0) == 8 && memcmp(out, "vmsplice", 8) == 0, "vmsplice from pipe: %s", strerror(errno));
    CHECK_ERRNO(vmsplice(src, iov, 1, 0), EBADF);
    close(q[0]);
    close(q[1]);
    close(src);
    close(dst);

    close(p[0]);
    close(p[1]);
    close(dir);
    CHECK(unlink(path) == 0 && close(fd) == 0, "unlink/close");
    return pass("fsync family, fallocate modes, fadvise, readahead, memfd seals, copy_file_range, splice, tee, vmsplice");
}
