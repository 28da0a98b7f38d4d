// ProcessConstants — flags and codes of the process, thread, time and resource syscalls on
// x86-64 Linux (LinuxABI layer): clone(2) CLONE_*, futex(2) operations, arch_prctl(2) codes,
// clock ids (clock_gettime(2)), getrlimit(2) resources, wait4(2) options.
// Values from include/uapi/linux/sched.h, include/uapi/linux/futex.h,
// arch/x86/include/uapi/asm/prctl.h, include/uapi/linux/time.h,
// include/uapi/asm-generic/resource.h, include/uapi/linux/wait.h.
// Signals are in Signals.swift; the scheduler and futex queues that use these are in KernelCore.

// MARK: clone(2)

public struct CloneFlags: OptionSet, Equatable, Sendable {
    public let rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// clone(2) keeps the exit signal for the parent in the low byte.
    public static let CSIGNAL: UInt64 = 0xff
    /// clone3 / unshare only (it lies inside CSIGNAL for plain clone).
    public static let CLONE_NEWTIME = CloneFlags(rawValue: 0x80)
    public static let CLONE_VM = CloneFlags(rawValue: 0x100)
    public static let CLONE_FS = CloneFlags(rawValue: 0x200)
    public static let CLONE_FILES = CloneFlags(rawValue: 0x400)
    public static let CLONE_SIGHAND = CloneFlags(rawValue: 0x800)
    public static let CLONE_PIDFD = CloneFlags(rawValue: 0x1000)
    public static let CLONE_PTRACE = CloneFlags(rawValue: 0x2000)
    public static let CLONE_VFORK = CloneFlags(rawValue: 0x4000)
    public static let CLONE_PARENT = CloneFlags(rawValue: 0x8000)
    public static let CLONE_THREAD = CloneFlags(rawValue: 0x10000)
    public static let CLONE_NEWNS = CloneFlags(rawValue: 0x20000)
    public static let CLONE_SYSVSEM = CloneFlags(rawValue: 0x40000)
    public static let CLONE_SETTLS = CloneFlags(rawValue: 0x80000)
    public static let CLONE_PARENT_SETTID = CloneFlags(rawValue: 0x100000)
    public static let CLONE_CHILD_CLEARTID = CloneFlags(rawValue: 0x200000)
    public static let CLONE_DETACHED = CloneFlags(rawValue: 0x400000)
    public static let CLONE_UNTRACED = CloneFlags(rawValue: 0x800000)
    public static let CLONE_CHILD_SETTID = CloneFlags(rawValue: 0x1000000)
    public static let CLONE_NEWCGROUP = CloneFlags(rawValue: 0x2000000)
    public static let CLONE_NEWUTS = CloneFlags(rawValue: 0x4000000)
    public static let CLONE_NEWIPC = CloneFlags(rawValue: 0x8000000)
    public static let CLONE_NEWUSER = CloneFlags(rawValue: 0x10000000)
    public static let CLONE_NEWPID = CloneFlags(rawValue: 0x20000000)
    public static let CLONE_NEWNET = CloneFlags(rawValue: 0x40000000)
    public static let CLONE_IO = CloneFlags(rawValue: 0x80000000)
    /// clone3 only.
    public static let CLONE_CLEAR_SIGHAND = CloneFlags(rawValue: 0x1_0000_0000)
    public static let CLONE_INTO_CGROUP = CloneFlags(rawValue: 0x2_0000_0000)

    /// What glibc's pthread_create passes (nptl/pthread_create.c, create_thread).
    public static let threadCreation: CloneFlags = [
        .CLONE_VM, .CLONE_FS, .CLONE_FILES, .CLONE_SIGHAND, .CLONE_THREAD, .CLONE_SYSVSEM,
        .CLONE_SETTLS, .CLONE_PARENT_SETTID, .CLONE_CHILD_CLEARTID,
    ]

    /// The exit signal in the low byte (clone(2) only).
    public var exitSignal: Int32 { Int32(truncatingIfNeeded: rawValue & CloneFlags.CSIGNAL) }

    /// strace's xlat/clone_flags.in order (CLONE_DETACHED is ignored by the kernel and
    /// shown as hex).
    public static let names: [NamedValue] = [
        NamedValue(0x100, "CLONE_VM"), NamedValue(0x200, "CLONE_FS"),
        NamedValue(0x400, "CLONE_FILES"), NamedValue(0x800, "CLONE_SIGHAND"),
        NamedValue(0x1000, "CLONE_PIDFD"), NamedValue(0x2000, "CLONE_PTRACE"),
        NamedValue(0x4000, "CLONE_VFORK"), NamedValue(0x8000, "CLONE_PARENT"),
        NamedValue(0x10000, "CLONE_THREAD"), NamedValue(0x20000, "CLONE_NEWNS"),
        NamedValue(0x40000, "CLONE_SYSVSEM"), NamedValue(0x80000, "CLONE_SETTLS"),
        NamedValue(0x100000, "CLONE_PARENT_SETTID"), NamedValue(0x200000, "CLONE_CHILD_CLEARTID"),
        NamedValue(0x800000, "CLONE_UNTRACED"), NamedValue(0x1000000, "CLONE_CHILD_SETTID"),
        NamedValue(0x2000000, "CLONE_NEWCGROUP"), NamedValue(0x4000000, "CLONE_NEWUTS"),
        NamedValue(0x8000000, "CLONE_NEWIPC"), NamedValue(0x10000000, "CLONE_NEWUSER"),
        NamedValue(0x20000000, "CLONE_NEWPID"), NamedValue(0x40000000, "CLONE_NEWNET"),
        NamedValue(0x80000000, "CLONE_IO"),
        NamedValue(0x1_0000_0000, "CLONE_CLEAR_SIGHAND"), NamedValue(0x2_0000_0000, "CLONE_INTO_CGROUP"),
    ]

    /// strace's rendering of clone(2)'s flags argument: the flags, then the exit signal by
    /// name or number: "CLONE_VM|CLONE_FS|...|SIGCHLD", "CLONE_SIGHAND|77".
    public var straceDescription: String {
        let flagBits = rawValue & ~CloneFlags.CSIGNAL
        var text = flagBits == 0 ? "" : renderFlags(flagBits, table: CloneFlags.names,
                                                     unknownComment: "CLONE_???")
        let signal = exitSignal
        if signal != 0 {
            if !text.isEmpty { text += "|" }
            text += Signal(signal).straceName
        }
        return text.isEmpty ? "0" : text
    }
}

// MARK: futex(2)

/// A futex operation word: command (low 7 bits) plus FUTEX_PRIVATE_FLAG and
/// FUTEX_CLOCK_REALTIME.
public struct FutexOperation: Equatable, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    public static let FUTEX_WAIT: UInt32 = 0
    public static let FUTEX_WAKE: UInt32 = 1
    public static let FUTEX_FD: UInt32 = 2
    public static let FUTEX_REQUEUE: UInt32 = 3
    public static let FUTEX_CMP_REQUEUE: UInt32 = 4
    public static let FUTEX_WAKE_OP: UInt32 = 5
    public static let FUTEX_LOCK_PI: UInt32 = 6
    public static let FUTEX_UNLOCK_PI: UInt32 = 7
    public static let FUTEX_TRYLOCK_PI: UInt32 = 8
    public static let FUTEX_WAIT_BITSET: UInt32 = 9
    public static let FUTEX_WAKE_BITSET: UInt32 = 10
    public static let FUTEX_WAIT_REQUEUE_PI: UInt32 = 11
    public static let FUTEX_CMP_REQUEUE_PI: UInt32 = 12
    public static let FUTEX_LOCK_PI2: UInt32 = 13
    public static let FUTEX_PRIVATE_FLAG: UInt32 = 128
    public static let FUTEX_CLOCK_REALTIME: UInt32 = 256
    /// FUTEX_CMD_MASK = ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME).
    public static let commandMask: UInt32 = ~(128 | 256)
    /// The val3 of FUTEX_WAIT_BITSET meaning "any waiter".
    public static let FUTEX_BITSET_MATCH_ANY: UInt32 = 0xffff_ffff

    /// The command (FUTEX_WAIT...), flags stripped.
    public var command: UInt32 { rawValue & FutexOperation.commandMask }
    public var isPrivate: Bool { rawValue & FutexOperation.FUTEX_PRIVATE_FLAG != 0 }
    public var usesRealtimeClock: Bool { rawValue & FutexOperation.FUTEX_CLOCK_REALTIME != 0 }

    public static let commandNames: [NamedValue] = [
        NamedValue(0, "FUTEX_WAIT"), NamedValue(1, "FUTEX_WAKE"), NamedValue(2, "FUTEX_FD"),
        NamedValue(3, "FUTEX_REQUEUE"), NamedValue(4, "FUTEX_CMP_REQUEUE"),
        NamedValue(5, "FUTEX_WAKE_OP"), NamedValue(6, "FUTEX_LOCK_PI"),
        NamedValue(7, "FUTEX_UNLOCK_PI"), NamedValue(8, "FUTEX_TRYLOCK_PI"),
        NamedValue(9, "FUTEX_WAIT_BITSET"), NamedValue(10, "FUTEX_WAKE_BITSET"),
        NamedValue(11, "FUTEX_WAIT_REQUEUE_PI"), NamedValue(12, "FUTEX_CMP_REQUEUE_PI"),
        NamedValue(13, "FUTEX_LOCK_PI2"),
    ]

    /// "FUTEX_WAIT_PRIVATE", "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME", or the whole
    /// word as "0x1cd /* FUTEX_??? */" when the command is unknown (strace src/futex.c).
    public var straceDescription: String {
        guard let name = lookupName(UInt64(command), in: FutexOperation.commandNames) else {
            return unknownValueText(UInt64(rawValue), unknownComment: "FUTEX_???")
        }
        var text = stringFromStatic(name)
        if isPrivate { text += "_PRIVATE" }
        if usesRealtimeClock { text += "|FUTEX_CLOCK_REALTIME" }
        return text
    }
}

// MARK: arch_prctl(2)

public struct ArchPrctlCode: LinuxConstant, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    public static let ARCH_SET_GS = ArchPrctlCode(0x1001)
    public static let ARCH_SET_FS = ArchPrctlCode(0x1002)
    public static let ARCH_GET_FS = ArchPrctlCode(0x1003)
    public static let ARCH_GET_GS = ArchPrctlCode(0x1004)
    public static let ARCH_GET_CPUID = ArchPrctlCode(0x1011)
    public static let ARCH_SET_CPUID = ArchPrctlCode(0x1012)
    public static let ARCH_GET_XCOMP_SUPP = ArchPrctlCode(0x1021)
    public static let ARCH_GET_XCOMP_PERM = ArchPrctlCode(0x1022)
    public static let ARCH_REQ_XCOMP_PERM = ArchPrctlCode(0x1023)
    public static let ARCH_GET_XCOMP_GUEST_PERM = ArchPrctlCode(0x1024)
    public static let ARCH_REQ_XCOMP_GUEST_PERM = ArchPrctlCode(0x1025)
    public static let ARCH_MAP_VDSO_X32 = ArchPrctlCode(0x2001)
    public static let ARCH_MAP_VDSO_32 = ArchPrctlCode(0x2002)
    public static let ARCH_MAP_VDSO_64 = ArchPrctlCode(0x2003)
    public static let ARCH_GET_UNTAG_MASK = ArchPrctlCode(0x4001)
    public static let ARCH_ENABLE_TAGGED_ADDR = ArchPrctlCode(0x4002)
    public static let ARCH_GET_MAX_TAG_BITS = ArchPrctlCode(0x4003)
    public static let ARCH_FORCE_TAGGED_SVA = ArchPrctlCode(0x4004)
    public static let ARCH_SHSTK_ENABLE = ArchPrctlCode(0x5001)
    public static let ARCH_SHSTK_DISABLE = ArchPrctlCode(0x5002)
    public static let ARCH_SHSTK_LOCK = ArchPrctlCode(0x5003)
    public static let ARCH_SHSTK_UNLOCK = ArchPrctlCode(0x5004)
    public static let ARCH_SHSTK_STATUS = ArchPrctlCode(0x5005)

    public static let names: [NamedValue] = [
        NamedValue(0x1001, "ARCH_SET_GS"), NamedValue(0x1002, "ARCH_SET_FS"),
        NamedValue(0x1003, "ARCH_GET_FS"), NamedValue(0x1004, "ARCH_GET_GS"),
        NamedValue(0x1011, "ARCH_GET_CPUID"), NamedValue(0x1012, "ARCH_SET_CPUID"),
        NamedValue(0x1021, "ARCH_GET_XCOMP_SUPP"), NamedValue(0x1022, "ARCH_GET_XCOMP_PERM"),
        NamedValue(0x1023, "ARCH_REQ_XCOMP_PERM"), NamedValue(0x1024, "ARCH_GET_XCOMP_GUEST_PERM"),
        NamedValue(0x1025, "ARCH_REQ_XCOMP_GUEST_PERM"), NamedValue(0x2001, "ARCH_MAP_VDSO_X32"),
        NamedValue(0x2002, "ARCH_MAP_VDSO_32"), NamedValue(0x2003, "ARCH_MAP_VDSO_64"),
        NamedValue(0x4001, "ARCH_GET_UNTAG_MASK"), NamedValue(0x4002, "ARCH_ENABLE_TAGGED_ADDR"),
        NamedValue(0x4003, "ARCH_GET_MAX_TAG_BITS"), NamedValue(0x4004, "ARCH_FORCE_TAGGED_SVA"),
        NamedValue(0x5001, "ARCH_SHSTK_ENABLE"), NamedValue(0x5002, "ARCH_SHSTK_DISABLE"),
        NamedValue(0x5003, "ARCH_SHSTK_LOCK"), NamedValue(0x5004, "ARCH_SHSTK_UNLOCK"),
        NamedValue(0x5005, "ARCH_SHSTK_STATUS"),
    ]
    public static let unknownComment: StaticString = "ARCH_???"
}

// MARK: clocks (clock_gettime(2))

public struct ClockId: LinuxConstant, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    public static let CLOCK_REALTIME = ClockId(0)
    public static let CLOCK_MONOTONIC = ClockId(1)
    public static let CLOCK_PROCESS_CPUTIME_ID = ClockId(2)
    public static let CLOCK_THREAD_CPUTIME_ID = ClockId(3)
    public static let CLOCK_MONOTONIC_RAW = ClockId(4)
    public static let CLOCK_REALTIME_COARSE = ClockId(5)
    public static let CLOCK_MONOTONIC_COARSE = ClockId(6)
    public static let CLOCK_BOOTTIME = ClockId(7)
    public static let CLOCK_REALTIME_ALARM = ClockId(8)
    public static let CLOCK_BOOTTIME_ALARM = ClockId(9)
    public static let CLOCK_TAI = ClockId(11)

    public static let names: [NamedValue] = [
        NamedValue(0, "CLOCK_REALTIME"), NamedValue(1, "CLOCK_MONOTONIC"),
        NamedValue(2, "CLOCK_PROCESS_CPUTIME_ID"), NamedValue(3, "CLOCK_THREAD_CPUTIME_ID"),
        NamedValue(4, "CLOCK_MONOTONIC_RAW"), NamedValue(5, "CLOCK_REALTIME_COARSE"),
        NamedValue(6, "CLOCK_MONOTONIC_COARSE"), NamedValue(7, "CLOCK_BOOTTIME"),
        NamedValue(8, "CLOCK_REALTIME_ALARM"), NamedValue(9, "CLOCK_BOOTTIME_ALARM"),
        NamedValue(11, "CLOCK_TAI"),
    ]
    public static let unknownComment: StaticString = "CLOCK_???"
}

/// TIMER_ABSTIME for clock_nanosleep(2).
public let TIMER_ABSTIME: UInt32 = 1

// MARK: resource limits (getrlimit(2), prlimit64)

public struct RlimitResource: LinuxConstant, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    public static let RLIMIT_CPU = RlimitResource(0)
    public static let RLIMIT_FSIZE = RlimitResource(1)
    public static let RLIMIT_DATA = RlimitResource(2)
    public static let RLIMIT_STACK = RlimitResource(3)
    public static let RLIMIT_CORE = RlimitResource(4)
    public static let RLIMIT_RSS = RlimitResource(5)
    public static let RLIMIT_NPROC = RlimitResource(6)
    public static let RLIMIT_NOFILE = RlimitResource(7)
    public static let RLIMIT_MEMLOCK = RlimitResource(8)
    public static let RLIMIT_AS = RlimitResource(9)
    public static let RLIMIT_LOCKS = RlimitResource(10)
    public static let RLIMIT_SIGPENDING = RlimitResource(11)
    public static let RLIMIT_MSGQUEUE = RlimitResource(12)
    public static let RLIMIT_NICE = RlimitResource(13)
    public static let RLIMIT_RTPRIO = RlimitResource(14)
    public static let RLIMIT_RTTIME = RlimitResource(15)
    /// RLIM_NLIMITS: resources are 0..<16.
    public static let count = 16
    /// RLIM_INFINITY (and RLIM64_INFINITY): "no limit".
    public static let RLIM_INFINITY: UInt64 = ~0

    public static let names: [NamedValue] = [
        NamedValue(0, "RLIMIT_CPU"), NamedValue(1, "RLIMIT_FSIZE"), NamedValue(2, "RLIMIT_DATA"),
        NamedValue(3, "RLIMIT_STACK"), NamedValue(4, "RLIMIT_CORE"), NamedValue(5, "RLIMIT_RSS"),
        NamedValue(6, "RLIMIT_NPROC"), NamedValue(7, "RLIMIT_NOFILE"), NamedValue(8, "RLIMIT_MEMLOCK"),
        NamedValue(9, "RLIMIT_AS"), NamedValue(10, "RLIMIT_LOCKS"), NamedValue(11, "RLIMIT_SIGPENDING"),
        NamedValue(12, "RLIMIT_MSGQUEUE"), NamedValue(13, "RLIMIT_NICE"), NamedValue(14, "RLIMIT_RTPRIO"),
        NamedValue(15, "RLIMIT_RTTIME"),
    ]
    public static let unknownComment: StaticString = "RLIMIT_???"
}

// MARK: wait4(2) / waitid(2)

public struct WaitOptions: LinuxFlagSet, Equatable, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let WNOHANG = WaitOptions(rawValue: 0x1)
    public static let WUNTRACED = WaitOptions(rawValue: 0x2)
    public static let WSTOPPED = WaitOptions(rawValue: 0x2)
    public static let WEXITED = WaitOptions(rawValue: 0x4)
    public static let WCONTINUED = WaitOptions(rawValue: 0x8)
    public static let WNOWAIT = WaitOptions(rawValue: 0x0100_0000)
    public static let __WNOTHREAD = WaitOptions(rawValue: 0x2000_0000)
    public static let __WALL = WaitOptions(rawValue: 0x4000_0000)
    public static let __WCLONE = WaitOptions(rawValue: 0x8000_0000)
    public static let names: [NamedValue] = [
        NamedValue(0x1, "WNOHANG"), NamedValue(0x2, "WSTOPPED"), NamedValue(0x4, "WEXITED"),
        NamedValue(0x8, "WCONTINUED"), NamedValue(0x0100_0000, "WNOWAIT"),
        NamedValue(0x2000_0000, "__WNOTHREAD"), NamedValue(0x4000_0000, "__WALL"),
        NamedValue(0x8000_0000, "__WCLONE"),
    ]
    public static let unknownComment: StaticString = "W???"

    /// The wait status word for a normal exit (WIFEXITED): status << 8.
    public static func exitedStatus(_ code: Int32) -> Int32 { (code & 0xff) << 8 }
    /// The wait status word for death by signal (WIFSIGNALED), with 0x80 for a core dump.
    public static func signaledStatus(_ signal: Int32, coreDumped: Bool = false) -> Int32 {
        (signal & 0x7f) | (coreDumped ? 0x80 : 0)
    }
}
