// BuiltinSyscalls — the declarative list of every built-in handler (KernelCore layer).
//
// One line per system call, grouped by family; the handlers live in one file per family
// (ProcessSyscalls, MemorySyscalls, FileSyscalls, TimeSyscalls, SystemSyscalls).
// Anything not listed answers -ENOSYS from SyscallTable.dispatch, and shows so in a trace.
import LinuxABI

func registerBuiltinSyscalls(_ t: inout SyscallTable) {
    // Process and threads
    t.register(.exit, ThreadSyscalls.exit)
    t.register(.exit_group, ThreadSyscalls.exitGroup)
    t.register(.clone, ThreadSyscalls.clone)
    t.register(.clone3, ThreadSyscalls.clone3)
    t.register(.futex, ThreadSyscalls.futex)
    t.register(.getpid, ProcessSyscalls.getpid)
    t.register(.gettid, ThreadSyscalls.gettid)
    t.register(.getppid, ProcessSyscalls.getppid)
    t.register(.getuid, ProcessSyscalls.getuid)
    t.register(.geteuid, ProcessSyscalls.getuid)
    t.register(.getgid, ProcessSyscalls.getuid)
    t.register(.getegid, ProcessSyscalls.getuid)
    t.register(.getresuid, ProcessSyscalls.getresuid)
    t.register(.getresgid, ProcessSyscalls.getresuid)
    t.register(.getpgrp, ProcessSyscalls.getpid)
    t.register(.getpgid, ProcessSyscalls.getpgid)
    t.register(.getsid, ProcessSyscalls.getpgid)
    t.register(.set_tid_address, ThreadSyscalls.setTIDAddress)
    t.register(.set_robust_list, ThreadSyscalls.setRobustList)
    t.register(.arch_prctl, ProcessSyscalls.archPrctl)
    t.register(.prlimit64, ProcessSyscalls.prlimit64)
    t.register(.getrlimit, ProcessSyscalls.getrlimit)
    t.register(.sched_yield, ThreadSyscalls.schedYield)
    // Signals
    t.register(.kill, SignalSyscalls.kill)
    t.register(.tkill, SignalSyscalls.tkill)
    t.register(.tgkill, SignalSyscalls.tgkill)
    t.register(.rt_sigaction, SignalSyscalls.rtSigaction)
    t.register(.rt_sigprocmask, SignalSyscalls.rtSigprocmask)
    t.register(.rt_sigreturn, SignalSyscalls.rtSigreturn)
    t.register(.rt_sigpending, SignalSyscalls.rtSigpending)
    t.register(.rt_sigsuspend, SignalSyscalls.rtSigsuspend)
    t.register(.sigaltstack, SignalSyscalls.sigaltstack)
    t.register(.sched_getaffinity, ProcessSyscalls.schedGetaffinity)
    // Memory
    t.register(.brk, MemorySyscalls.brk)
    t.register(.mmap, MemorySyscalls.mmap)
    t.register(.munmap, MemorySyscalls.munmap)
    t.register(.mprotect, MemorySyscalls.mprotect)
    t.register(.madvise, MemorySyscalls.madvise)
    // Console and the few files that exist before the VFS
    t.register(.read, FileSyscalls.read)
    t.register(.write, FileSyscalls.write)
    t.register(.readv, FileSyscalls.readv)
    t.register(.writev, FileSyscalls.writev)
    t.register(.ioctl, FileSyscalls.ioctl)
    t.register(.fstat, FileSyscalls.fstat)
    t.register(.newfstatat, FileSyscalls.newfstatat)
    t.register(.close, FileSyscalls.close)
    t.register(.lseek, FileSyscalls.lseek)
    t.register(.fcntl, FileSyscalls.fcntl)
    t.register(.readlink, FileSyscalls.readlink)
    t.register(.readlinkat, FileSyscalls.readlinkat)
    t.register(.open, FileSyscalls.open)
    t.register(.openat, FileSyscalls.openat)
    t.register(.getcwd, FileSyscalls.getcwd)
    // Pipes, eventfd, timerfd, epoll (Sources/KernelCore/Events)
    t.register(.pipe, EventSyscalls.pipe)
    t.register(.pipe2, EventSyscalls.pipe2)
    t.register(.eventfd, EventSyscalls.eventfd)
    t.register(.eventfd2, EventSyscalls.eventfd2)
    t.register(.timerfd_create, EventSyscalls.timerfdCreate)
    t.register(.timerfd_settime, EventSyscalls.timerfdSettime)
    t.register(.timerfd_gettime, EventSyscalls.timerfdGettime)
    t.register(.epoll_create, EpollSyscalls.epollCreate)
    t.register(.epoll_create1, EpollSyscalls.epollCreate1)
    t.register(.epoll_ctl, EpollSyscalls.epollCtl)
    t.register(.epoll_wait, EpollSyscalls.epollWait)
    t.register(.epoll_pwait, EpollSyscalls.epollPwait)
    t.register(.epoll_pwait2, EpollSyscalls.epollPwait2)
    // Time
    t.register(.clock_gettime, TimeSyscalls.clockGettime)
    t.register(.clock_getres, TimeSyscalls.clockGetres)
    t.register(.gettimeofday, TimeSyscalls.gettimeofday)
    t.register(.time, TimeSyscalls.time)
    t.register(.nanosleep, TimeSyscalls.nanosleep)
    t.register(.clock_nanosleep, TimeSyscalls.clockNanosleep)
    // System information and randomness
    t.register(.uname, SystemSyscalls.uname)
    t.register(.sysinfo, SystemSyscalls.sysinfo)
    t.register(.getrandom, SystemSyscalls.getrandom)
}

extension SyscallTable {
    @discardableResult
    public mutating func register(_ number: SyscallNumber, _ handler: @escaping SyscallHandler) -> SyscallHandler? {
        register(number.rawValue, handler)
    }
}
