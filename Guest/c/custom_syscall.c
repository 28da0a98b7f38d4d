/*
 * custom_syscall.c — calls the custom system call 500 and the wrapped uname of
 * Guest/syscalls/MySyscalls.swift (README, "Custom system calls").
 *
 * On stock Linux and on a stock egg kernel call 500 does not exist (ENOSYS) and uname is
 * the usual one: the program checks exactly that and passes ("custom part skipped"). Under
 * `egg run --syscalls Guest/syscalls/MySyscalls.swift -e EGG_CUSTOM=1` the custom results
 * must match: the greeting, the returned length, and uname's version "#1 egg with custom
 * syscalls". A kernel that has one but not the other fails.
 * Layer: guest test programs (Guest/); runner: Tests/integration/run.sh (custom syscall case).
 */
#include "check.h"

#include <sys/syscall.h>
#include <sys/utsname.h>

const char *const test_name = "custom_syscall";

#define EGG_HELLO 500

int main(void)
{
    const char *custom = getenv("EGG_CUSTOM");
    int expect_custom = custom != NULL && strcmp(custom, "1") == 0;

    char buffer[64];
    memset(buffer, 'x', sizeof buffer);
    long r = syscall(EGG_HELLO, buffer, sizeof buffer, 7L);
    int saved_errno = errno;

    struct utsname u;
    CHECK(uname(&u) == 0, "uname failed: %s", strerror(errno));
    int custom_uname = strcmp(u.version, "#1 egg with custom syscalls") == 0;

    if (r == -1 && saved_errno == ENOSYS) {
        CHECK(!expect_custom, "EGG_CUSTOM=1 but syscall %d is ENOSYS", EGG_HELLO);
        CHECK(!custom_uname, "uname is the custom one but syscall %d is missing", EGG_HELLO);
        return pass("syscall %d is ENOSYS: stock kernel, custom part skipped", EGG_HELLO);
    }
    const char *greeting = "hello from a Swift syscall";
    CHECK(r == (long)strlen(greeting) + 7000, "syscall %d returned %ld (errno %d), expected %ld",
          EGG_HELLO, r, saved_errno, (long)strlen(greeting) + 7000);
    CHECK(strcmp(buffer, greeting) == 0, "buffer holds \"%.40s\"", buffer);
    CHECK(custom_uname, "uname version is \"%s\", expected the wrapped one", u.version);
    CHECK(strcmp(u.sysname, "Linux") == 0, "wrapped uname lost sysname: \"%s\"", u.sysname);
    return pass("custom syscall %d and wrapped uname", EGG_HELLO);
}
