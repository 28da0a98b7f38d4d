// SyscallFilter — which system calls the trace shows, from strace's `-e trace=` syntax
// (KernelCore/Trace).
//
// "read,write,%net,%file", "!futex", "all", "none". The classes follow strace 6.1's trace
// classes (strace(1), "-e trace=%file" ...; the TF/TN/TM/TP/TS/TD/TI/TC flags of
// src/linux/x86_64/syscallent.h), restricted to x86-64 names. Used by the kernel's tracer
// (SerialSyscallTracer.swift) and by egg to reject a bad --trace= before booting.
import LinuxABI

public struct SyscallFilter: Equatable {
    /// One bit per syscall number below SyscallTable.capacity.
    var bits: [UInt64]

    public static var all: SyscallFilter { SyscallFilter(bits: [UInt64](repeating: ~0, count: SyscallTable.capacity / 64)) }
    public static var none: SyscallFilter { SyscallFilter(bits: [UInt64](repeating: 0, count: SyscallTable.capacity / 64)) }

    public func contains(_ number: Int) -> Bool {
        guard number >= 0 && number < SyscallTable.capacity else { return false }
        return bits[number >> 6] & (1 << UInt64(number & 63)) != 0
    }

    public mutating func insert(_ number: Int) {
        guard number >= 0 && number < SyscallTable.capacity else { return }
        bits[number >> 6] |= 1 << UInt64(number & 63)
    }

    public mutating func invert() {
        for i in 0..<bits.count { bits[i] = ~bits[i] }
    }

    /// Parses strace's trace= list. A leading "!" negates the whole set. Unknown names and
    /// classes are an error naming the word.
    public static func parse(_ text: String) -> Result<SyscallFilter, SyscallFilterError> {
        var bytes = Array(text.utf8)
        var negate = false
        if bytes.first == UInt8(ascii: "!") {
            negate = true
            bytes.removeFirst()
        }
        var filter = SyscallFilter.none
        var word: [UInt8] = []
        var index = 0
        while index <= bytes.count {
            if index == bytes.count || bytes[index] == UInt8(ascii: ",") {
                let name = String(decoding: word, as: UTF8.self)
                if word.isEmpty { return .failure(.empty) }
                if name == "all" {
                    filter = .all
                } else if name == "none" {
                    // nothing added
                } else if word.first == UInt8(ascii: "%") {
                    guard let members = SyscallFilter.classMembers(String(decoding: word.dropFirst(), as: UTF8.self)) else {
                        return .failure(.unknownClass(name))
                    }
                    for member in members { filter.insert(member.rawValue) }
                } else if let number = syscallNumber(named: name) {
                    filter.insert(number)
                } else {
                    return .failure(.unknownSyscall(name))
                }
                word = []
            } else {
                word.append(bytes[index])
            }
            index += 1
        }
        if negate { filter.invert() }
        return .success(filter)
    }

    /// The members of a trace class (without the "%"), nil for an unknown class.
    public static func classMembers(_ name: String) -> [SyscallNumber]? {
        switch name {
        case "file":
            return [.open, .openat, .openat2, .creat, .stat, .lstat, .newfstatat, .statx, .access,
                    .faccessat, .faccessat2, .readlink, .readlinkat, .chdir, .mkdir, .mkdirat, .rmdir,
                    .unlink, .unlinkat, .rename, .renameat, .renameat2, .link, .linkat, .symlink,
                    .symlinkat, .chmod, .fchmodat, .chown, .lchown, .fchownat, .truncate, .utime,
                    .utimes, .utimensat, .futimesat, .execve, .execveat, .statfs, .mknod, .mknodat,
                    .chroot, .mount, .umount2, .pivot_root, .swapon, .swapoff, .acct, .getxattr,
                    .lgetxattr, .setxattr, .lsetxattr, .listxattr, .llistxattr, .removexattr,
                    .lremovexattr, .inotify_add_watch, .name_to_handle_at, .uselib]
        case "desc":
            return [.read, .write, .pread64, .pwrite64, .readv, .writev, .preadv, .pwritev,
                    .preadv2, .pwritev2, .open, .openat, .openat2, .creat, .close, .dup, .dup2, .dup3,
                    .fstat, .newfstatat, .statx, .lseek, .ioctl, .fcntl, .pipe, .pipe2, .poll, .ppoll,
                    .select, .pselect6, .epoll_create, .epoll_create1, .epoll_ctl, .epoll_wait,
                    .epoll_pwait, .epoll_pwait2, .eventfd, .eventfd2, .timerfd_create,
                    .timerfd_settime, .timerfd_gettime, .signalfd, .signalfd4, .getdents64, .fsync,
                    .fdatasync, .ftruncate, .fchmod, .fchdir, .fchown, .flock, .fstatfs, .sendfile,
                    .splice, .tee, .readahead, .fallocate, .memfd_create, .faccessat, .faccessat2,
                    .readlinkat, .mkdirat, .unlinkat, .fchmodat, .fchownat, .mknodat, .linkat,
                    .symlinkat, .renameat, .renameat2, .utimensat, .futimesat, .execveat, .mmap,
                    .socket, .socketpair, .bind, .listen, .accept, .accept4, .connect, .getsockname,
                    .getpeername, .sendto, .recvfrom, .sendmsg, .recvmsg, .sendmmsg, .recvmmsg,
                    .shutdown, .setsockopt, .getsockopt, .close_range, .pidfd_open, .copy_file_range]
        case "memory":
            return [.brk, .mmap, .munmap, .mprotect, .mremap, .madvise, .msync, .mlock, .mlock2,
                    .munlock, .mlockall, .munlockall, .mincore, .pkey_mprotect, .remap_file_pages,
                    .shmat, .shmdt, .mbind, .set_mempolicy, .get_mempolicy, .migrate_pages,
                    .move_pages, .process_madvise, .mseal]
        case "process":
            return [.clone, .clone3, .fork, .vfork, .execve, .execveat, .exit, .exit_group, .wait4,
                    .waitid, .kill, .tkill, .tgkill, .rt_sigqueueinfo, .rt_tgsigqueueinfo, .unshare,
                    .pidfd_open, .pidfd_send_signal]
        case "signal":
            return [.rt_sigaction, .rt_sigprocmask, .rt_sigreturn, .rt_sigpending, .rt_sigsuspend,
                    .rt_sigtimedwait, .rt_sigqueueinfo, .rt_tgsigqueueinfo, .sigaltstack, .kill,
                    .tkill, .tgkill, .pause, .signalfd, .signalfd4, .pidfd_send_signal]
        case "net", "network":
            return [.socket, .socketpair, .bind, .listen, .accept, .accept4, .connect,
                    .getsockname, .getpeername, .sendto, .recvfrom, .sendmsg, .recvmsg, .sendmmsg,
                    .recvmmsg, .shutdown, .setsockopt, .getsockopt]
        case "ipc":
            return [.shmget, .shmat, .shmctl, .shmdt, .semget, .semop, .semctl, .semtimedop,
                    .msgget, .msgsnd, .msgrcv, .msgctl]
        case "clock":
            return [.adjtimex, .clock_adjtime, .clock_getres, .clock_gettime, .clock_settime,
                    .gettimeofday, .settimeofday, .time]
        case "creds":
            return [.getuid, .geteuid, .getgid, .getegid, .getresuid, .getresgid, .setuid, .setgid,
                    .setreuid, .setregid, .setresuid, .setresgid, .setfsuid, .setfsgid, .getgroups,
                    .setgroups, .capget, .capset, .prctl]
        case "stat":
            return [.stat, .lstat, .fstat, .newfstatat, .statx]
        default:
            return nil
        }
    }
}

public enum SyscallFilterError: Error, Equatable {
    case empty
    case unknownSyscall(String)
    case unknownClass(String)

    public var message: String {
        switch self {
        case .empty: return "empty name in the syscall list"
        case .unknownSyscall(let name): return "unknown system call '" + name + "'"
        case .unknownClass(let name):
            return "unknown class '" + name + "' (known: %file %desc %memory %process %signal %net %ipc %clock %creds %stat)"
        }
    }
}
