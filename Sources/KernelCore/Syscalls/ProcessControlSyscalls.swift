// ProcessControlSyscalls — prctl, personality, resource limits (getrlimit, setrlimit,
// prlimit64), getrusage and times, with the per-thread CPU accounting they report
// (KernelCore layer).
//
// prctl follows kernel/sys.c (SYSCALL_DEFINE5(prctl)) of Linux 6.1: each option checks its
// unused arguments and gives EINVAL for unknown options and for the ones whose feature egg
// does not have (as Linux does when it is configured out: PR_SET_SECCOMP without
// CONFIG_SECCOMP, PR_SET_VMA without CONFIG_ANON_VMA_NAME...). Limits follow
// do_prlimit (kernel/sys.c) and getrlimit(2); where egg enforces them is said at each
// limit. CPU time is counted per thread at kernel entry and exit (KernelState.dispatch)
// and when the scheduler switches (Threads/Scheduler.swift); it feeds getrusage, times,
// /proc/PID/stat and /proc/stat (VFS/ProcFSText.swift).
import LinuxABI

/// The resources of getrlimit(2), numbered as include/uapi/asm-generic/resource.h.
public enum ResourceLimit: Int, CaseIterable {
    case cpu = 0, fsize, data, stack, core, rss, nproc, nofile, memlock, `as`, locks, sigpending, msgqueue, nice, rtprio, rttime

    /// The row names and units of /proc/PID/limits (fs/proc/base.c lnames).
    var title: String {
        switch self {
        case .cpu: return "Max cpu time"
        case .fsize: return "Max file size"
        case .data: return "Max data size"
        case .stack: return "Max stack size"
        case .core: return "Max core file size"
        case .rss: return "Max resident set"
        case .nproc: return "Max processes"
        case .nofile: return "Max open files"
        case .memlock: return "Max locked memory"
        case .as: return "Max address space"
        case .locks: return "Max file locks"
        case .sigpending: return "Max pending signals"
        case .msgqueue: return "Max msgqueue size"
        case .nice: return "Max nice priority"
        case .rtprio: return "Max realtime priority"
        case .rttime: return "Max realtime timeout"
        }
    }

    var unit: String {
        switch self {
        case .cpu: return "seconds"
        case .nproc: return "processes"
        case .nofile: return "files"
        case .locks: return "locks"
        case .sigpending: return "signals"
        case .nice, .rtprio: return ""
        case .rttime: return "us"
        default: return "bytes"
        }
    }
}

/// One process's limits (soft, hard), starting as Linux's init task has them
/// (include/asm-generic/resource.h INIT_RLIMITS; NPROC and SIGPENDING from max_threads/2
/// for a small machine; MEMLOCK 8 MiB since 5.16).
public struct ResourceLimits: Equatable {
    public static let infinity = UInt64.max
    var values: [(UInt64, UInt64)] = [
        (infinity, infinity), (infinity, infinity), (infinity, infinity), (ProgramLoader.stackSize, infinity),
        (0, infinity), (infinity, infinity), (4096, 4096), (1024, 4096),
        (8 << 20, 8 << 20), (infinity, infinity), (infinity, infinity), (4096, 4096),
        (819_200, 819_200), (0, 0), (0, 0), (infinity, infinity),
    ]

    public init() {}

    public subscript(_ r: ResourceLimit) -> (soft: UInt64, hard: UInt64) {
        get { values[r.rawValue] }
        set { values[r.rawValue] = newValue }
    }

    public func current(_ r: ResourceLimit) -> UInt64 { values[r.rawValue].0 }

    public static func == (a: ResourceLimits, b: ResourceLimits) -> Bool {
        for i in 0..<a.values.count where a.values[i] != b.values[i] { return false }
        return true
    }
}

/// prctl state kept per process (mm- and signal-wide on Linux).
public struct ProcessControls: Equatable {
    /// PR_SET_DUMPABLE: SUID_DUMP_USER (1) by default.
    public var dumpable: UInt64 = 1
    public var childSubreaper = false
    public var thpDisabled = false
    public var noNewPrivileges = false
    public var keepCapabilities = false
    public var securebits: UInt64 = 0
    public var ioFlusher = false
    /// Capability sets beyond the defaults root has (bounding set drops, ambient raises).
    public var boundingSet: UInt64 = ProcessControls.allCapabilities
    public var ambientSet: UInt64 = 0
    /// personality(2): PER_LINUX.
    public var personality: UInt32 = 0
    public init() {}

    /// CAP_LAST_CAP of Linux 6.1 is 40 (CAP_CHECKPOINT_RESTORE).
    public static let lastCapability = 40
    public static let allCapabilities: UInt64 = (1 << 41) - 1
}

/// prctl state kept per thread (task_struct on Linux).
public struct ThreadControls: Equatable {
    public var parentDeathSignal = 0
    /// PR_SET_TIMERSLACK: 50 µs by default (init_task.timer_slack_ns).
    public var timerSlack: UInt64 = 50_000
    public init() {}
}

extension Scheduler {
    /// Whether `t` is what CPU `cpu` runs now.
    func isRunning(_ t: Thread, onCPU cpu: Int) -> Bool { cpu < running.count && running[cpu] === t }

    /// Accounting around a switch from `me` to `target` (called by reschedule and the idle
    /// loop): `me`'s time so far is its own (system time inside a call, else user time:
    /// only an interrupt in user mode preempts), `target` starts its stamp now.
    func accountSwitch(_ k: KernelState, from me: Thread, to target: Thread) {
        // CPU time itself is charged by the timers' accounting (Threads/IntervalTimers.swift
        // stopRunning/startRunning); here only the switch counts and the start time.
        if me !== idleThread {
            if me.state == .blocked { me.voluntarySwitches += 1 } else { me.involuntarySwitches += 1 }
        }
        if !target.hasRun {
            target.hasRun = true
            if target !== threads.first { target.startNanoseconds = k.platform.monotonicNanoseconds() }
        }
        k.procfs.contextSwitches += 1
    }
}

extension KernelState {
    /// What /proc/PID/status shows for the ids: real, effective, saved and fs ids of the
    /// process's first thread (Process/Credentials.swift), and its supplementary groups.
    func procCredentials(_ p: Process) -> (uid: String, gid: String, groups: String) {
        let c = p.threads.first?.credentials ?? Credentials.root
        let uid = String(c.uid) + "\t" + String(c.euid) + "\t" + String(c.suid) + "\t" + String(c.fsuid)
        let gid = String(c.gid) + "\t" + String(c.egid) + "\t" + String(c.sgid) + "\t" + String(c.fsgid)
        var groups = ""
        for g in c.groups { groups += (groups.isEmpty ? "" : " ") + String(g) }
        return (uid, gid, groups)
    }

    /// Root's capabilities: all of them permitted and effective, none inheritable
    /// (a container's root, as `capsh --print` shows it), less what PR_CAPBSET_DROP removed.
    func procCapabilities(_ p: Process) -> (inheritable: UInt64, permitted: UInt64, effective: UInt64, bounding: UInt64, ambient: UInt64) {
        (0, ProcessControls.allCapabilities, ProcessControls.allCapabilities, p.controls.boundingSet, p.controls.ambientSet)
    }

    /// RLIMIT_FSIZE (generic_write_check_limits, inode_newsize_ok): a write or truncation
    /// that would make a file longer than the soft limit sends SIGXFSZ and fails with EFBIG.
    /// Returns how many of `count` bytes at `offset` may be written (a write that starts
    /// below the limit is cut short there).
    func fileSizeAllowance(offset: Int, count: Int) throws(Errno) -> Int {
        let limit = process.limits.current(.fsize)
        guard limit != ResourceLimits.infinity, count > 0 else { return count }
        if UInt64(max(0, offset)) >= limit {
            postThreadSignal(Int(Signal.SIGXFSZ.rawValue), to: currentThread)
            throw .EFBIG
        }
        return min(count, Int(min(limit - UInt64(offset), UInt64(Int.max))))
    }
}

enum ProcessControlSyscalls {
    // MARK: prctl(2)

    static let PR_SET_PDEATHSIG = 1, PR_GET_PDEATHSIG = 2, PR_GET_DUMPABLE = 3, PR_SET_DUMPABLE = 4
    static let PR_GET_KEEPCAPS = 7, PR_SET_KEEPCAPS = 8, PR_GET_TIMING = 13, PR_SET_TIMING = 14
    static let PR_SET_NAME = 15, PR_GET_NAME = 16, PR_GET_SECCOMP = 21, PR_SET_SECCOMP = 22
    static let PR_CAPBSET_READ = 23, PR_CAPBSET_DROP = 24, PR_GET_SECUREBITS = 27, PR_SET_SECUREBITS = 28
    static let PR_SET_TIMERSLACK = 29, PR_GET_TIMERSLACK = 30
    static let PR_SET_CHILD_SUBREAPER = 36, PR_GET_CHILD_SUBREAPER = 37
    static let PR_SET_NO_NEW_PRIVS = 38, PR_GET_NO_NEW_PRIVS = 39, PR_GET_TID_ADDRESS = 40
    static let PR_SET_THP_DISABLE = 41, PR_GET_THP_DISABLE = 42, PR_CAP_AMBIENT = 47
    static let PR_SET_IO_FLUSHER = 57, PR_GET_IO_FLUSHER = 58

    static func prctl(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let option = Int(a.int32(0))
        let thread = k.currentThread
        let p = k.process
        /// Options that take no arguments past `used` reject non-zero ones (EINVAL).
        func unused(from index: Int) throws(Errno) {
            for i in index..<5 where a[i] != 0 { throw .EINVAL }
        }
        switch option {
        case PR_SET_PDEATHSIG:
            guard a[1] <= 64 else { throw .EINVAL }   // valid_signal()
            thread.controls.parentDeathSignal = Int(a[1])
            return 0
        case PR_GET_PDEATHSIG:
            if let e = k.memory.writeUInt32(a.address(1), UInt32(thread.controls.parentDeathSignal)) { throw e }
            return 0
        case PR_GET_DUMPABLE:
            return Int(p.controls.dumpable)
        case PR_SET_DUMPABLE:
            guard a[1] == 0 || a[1] == 1 else { throw .EINVAL }   // SUID_DUMP_ROOT (2) is refused
            p.controls.dumpable = a[1]
            return 0
        case PR_GET_KEEPCAPS:
            return p.controls.keepCapabilities ? 1 : 0
        case PR_SET_KEEPCAPS:
            guard a[1] <= 1 else { throw .EINVAL }
            p.controls.keepCapabilities = a[1] == 1
            return 0
        case PR_GET_TIMING:
            return 0   // PR_TIMING_STATISTICAL, the only mode
        case PR_SET_TIMING:
            guard a[1] == 0 else { throw .EINVAL }
            return 0
        case PR_SET_NAME:
            // TASK_COMM_LEN is 16: up to 15 bytes are kept, the rest silently cut (strncpy_from_user).
            guard case .success(let bytes) = k.memory.readCString(a.address(1), maximum: 16) else {
                // A name running past 16 bytes: only the first 15 count.
                guard case .success(let raw) = k.memory.copyIn(a.address(1), count: 15) else { throw .EFAULT }
                thread.name = raw
                return 0
            }
            thread.name = Array(bytes.prefix(15))
            return 0
        case PR_GET_NAME:
            var name = k.procThreadName(thread, p)
            while name.count < 16 { name.append(0) }
            if let e = k.memory.copyOut(a.address(1), from: Array(name.prefix(16))) { throw e }
            return 0
        case PR_GET_SECCOMP:
            return 0   // no filter, no strict mode
        case PR_CAPBSET_READ:
            guard a[1] <= UInt64(ProcessControls.lastCapability) else { throw .EINVAL }
            return p.controls.boundingSet & (1 << a[1]) != 0 ? 1 : 0
        case PR_CAPBSET_DROP:
            guard a[1] <= UInt64(ProcessControls.lastCapability) else { throw .EINVAL }
            p.controls.boundingSet &= ~(1 << a[1])   // root holds CAP_SETPCAP
            return 0
        case PR_GET_SECUREBITS:
            return Int(p.controls.securebits)
        case PR_SET_SECUREBITS:
            guard a[1] & ~UInt64(0x3F) == 0 else { throw .EPERM }   // cap_task_prctl: unknown bits
            p.controls.securebits = a[1]
            return 0
        case PR_SET_TIMERSLACK:
            thread.controls.timerSlack = a[1] == 0 ? 50_000 : a[1]   // 0 restores the default
            return 0
        case PR_GET_TIMERSLACK:
            return Int(truncatingIfNeeded: thread.controls.timerSlack)
        case PR_SET_CHILD_SUBREAPER:
            p.controls.childSubreaper = a[1] != 0
            return 0
        case PR_GET_CHILD_SUBREAPER:
            if let e = k.memory.writeUInt32(a.address(1), p.controls.childSubreaper ? 1 : 0) { throw e }
            return 0
        case PR_SET_NO_NEW_PRIVS:
            guard a[1] == 1 else { throw .EINVAL }
            try unused(from: 2)
            p.controls.noNewPrivileges = true
            return 0
        case PR_GET_NO_NEW_PRIVS:
            try unused(from: 1)
            return p.controls.noNewPrivileges ? 1 : 0
        case PR_GET_TID_ADDRESS:
            if let e = k.memory.writeUInt64(a.address(1), thread.clearChildTID) { throw e }
            return 0
        case PR_SET_THP_DISABLE:
            try unused(from: 2)
            p.controls.thpDisabled = a[1] != 0
            return 0
        case PR_GET_THP_DISABLE:
            try unused(from: 1)
            return p.controls.thpDisabled ? 1 : 0
        case PR_CAP_AMBIENT:
            return try capAmbient(k, a)
        case PR_SET_IO_FLUSHER:
            try unused(from: 2)
            guard a[1] <= 1 else { throw .EINVAL }
            p.controls.ioFlusher = a[1] == 1
            return 0
        case PR_GET_IO_FLUSHER:
            try unused(from: 1)
            return p.controls.ioFlusher ? 1 : 0
        default:
            // Unknown options and those whose feature egg lacks (seccomp, PR_SET_VMA,
            // PR_SET_MM, PR_SET_TSC, perf events, Yama's PR_SET_PTRACER...).
            throw .EINVAL
        }
    }

    /// PR_CAP_AMBIENT (cap_task_prctl in security/commoncap.c): IS_SET, RAISE, LOWER,
    /// CLEAR_ALL. Raising needs the capability permitted and inheritable; root starts with
    /// an empty inheritable set, so a raise is EPERM as on Linux.
    static func capAmbient(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let p = k.process
        let sub = a[1]
        if sub == 4 {   // PR_CAP_AMBIENT_CLEAR_ALL
            guard a[2] == 0 && a[3] == 0 && a[4] == 0 else { throw .EINVAL }
            p.controls.ambientSet = 0
            return 0
        }
        guard a[3] == 0 && a[4] == 0, a[2] <= UInt64(ProcessControls.lastCapability) else { throw .EINVAL }
        let bit: UInt64 = 1 << a[2]
        let caps = k.procCapabilities(p)
        switch sub {
        case 1: return p.controls.ambientSet & bit != 0 ? 1 : 0
        case 2:
            guard caps.permitted & bit != 0, caps.inheritable & bit != 0, p.controls.securebits & 0x40 == 0 else { throw .EPERM }
            p.controls.ambientSet |= bit
            return 0
        case 3:
            p.controls.ambientSet &= ~bit
            return 0
        default: throw .EINVAL
        }
    }

    // MARK: personality(2)

    /// Returns the previous persona; 0xffffffff only asks.
    static func personality(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let old = k.process.controls.personality
        let new = a.uint32(0)
        if new != 0xFFFF_FFFF { k.process.controls.personality = new }
        return Int(old)
    }

    // MARK: resource limits

    static func resource(_ raw: Int) throws(Errno) -> ResourceLimit {
        guard let r = ResourceLimit(rawValue: raw) else { throw .EINVAL }
        return r
    }

    static func writeLimit(_ k: KernelState, _ value: (UInt64, UInt64), _ address: UserAddress) throws(Errno) {
        var w = ByteWriter()
        w.u64(value.0); w.u64(value.1)
        if let e = k.memory.copyOut(address, from: w.bytes) { throw e }
    }

    /// do_prlimit: soft above hard is EINVAL; raising the hard limit needs
    /// CAP_SYS_RESOURCE (root has it); NOFILE is capped by fs.nr_open (EPERM past it).
    /// A new limit takes effect where egg enforces it: NOFILE in the descriptor table at
    /// once; FSIZE on write and truncate; the others are kept and reported.
    static func setLimit(_ k: KernelState, _ r: ResourceLimit, _ new: (UInt64, UInt64)) throws(Errno) {
        guard new.0 <= new.1 else { throw .EINVAL }
        if r == .nofile && new.1 > UInt64(Sysctl.openFileCeiling) { throw .EPERM }
        k.process.limits[r] = new
        if r == .nofile { k.files.openLimit = Int(min(new.0, UInt64(Sysctl.openFileCeiling))) }
    }

    static func getrlimit(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let r = try resource(a.int(0))
        try writeLimit(k, k.process.limits[r], a.address(1))
        return 0
    }

    static func setrlimit(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let r = try resource(a.int(0))
        guard case .success(let soft) = k.memory.readUInt64(a.address(1)),
              case .success(let hard) = k.memory.readUInt64(a.address(1).advanced(by: 8)) else { throw .EFAULT }
        try setLimit(k, r, (soft, hard))
        return 0
    }

    /// prlimit64(2) on the caller's process (pid 0 or its own); other pids are ESRCH.
    static func prlimit64(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let pid = a.int32(0)
        guard pid == 0 || Int(pid) == k.process.pid else { throw .ESRCH }
        let r = try resource(a.int(1))
        let old = k.process.limits[r]
        if !a.address(2).isNull {
            guard case .success(let soft) = k.memory.readUInt64(a.address(2)),
                  case .success(let hard) = k.memory.readUInt64(a.address(2).advanced(by: 8)) else { throw .EFAULT }
            try setLimit(k, r, (soft, hard))
        }
        if !a.address(3).isNull { try writeLimit(k, old, a.address(3)) }
        return 0
    }

    // MARK: getrusage(2), times(2)

    /// struct rusage (144 bytes): user and system time as timevals, then the counters egg
    /// keeps (maxrss in KiB, context switches); the rest stay 0 as for a task without them.
    static func getrusage(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let who = a.int32(0)
        var user: UInt64 = 0, system: UInt64 = 0, voluntary = 0, involuntary = 0
        var maxRSS = 0
        switch who {
        case 0:   // RUSAGE_SELF: every thread of the process
            for v in k.procProcesses() where v.pid == k.process.pid {
                for t in v.threads {
                    user += t.cpuUserNanoseconds; system += t.cpuSystemNanoseconds
                    voluntary += t.voluntarySwitches; involuntary += t.involuntarySwitches
                }
            }
            maxRSS = k.process.addressSpace.residentPages * 4
        case 1:   // RUSAGE_THREAD
            let t = k.currentThread
            user = t.cpuUserNanoseconds; system = t.cpuSystemNanoseconds
            voluntary = t.voluntarySwitches; involuntary = t.involuntarySwitches
            maxRSS = k.process.addressSpace.residentPages * 4
        case -1:  // RUSAGE_CHILDREN: the waited-for children's totals
            user = k.process.childrenUserNanoseconds; system = k.process.childrenSystemNanoseconds
        default:
            throw .EINVAL
        }
        // The caller's own running time up to now counts (task_cputime_adjusted).
        if who != -1 {
            let now = k.platform.monotonicNanoseconds(), t = k.currentThread
            if t.accountingMark != 0 && now > t.accountingMark { system += now - t.accountingMark }
        }
        var w = ByteWriter()
        w.i64(Int64(user / 1_000_000_000)); w.i64(Int64(user % 1_000_000_000 / 1000))
        w.i64(Int64(system / 1_000_000_000)); w.i64(Int64(system % 1_000_000_000 / 1000))
        w.i64(Int64(maxRSS))
        for _ in 0..<11 { w.i64(0) }   // ixrss ... nsignals
        w.i64(Int64(voluntary)); w.i64(Int64(involuntary))
        if let e = k.memory.copyOut(a.address(1), from: w.bytes) { throw e }
        return 0
    }

    /// times(2): the process's and its waited-for children's CPU time in clock ticks; the
    /// result is the ticks since boot (Linux counts from an arbitrary origin too).
    static func times(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        if !a.address(0).isNull {
            var user: UInt64 = 0, system: UInt64 = 0
            for v in k.procProcesses() where v.pid == k.process.pid {
                for t in v.threads { user += t.cpuUserNanoseconds; system += t.cpuSystemNanoseconds }
            }
            var w = ByteWriter()
            w.u64(procTicks(user)); w.u64(procTicks(system))
            w.u64(procTicks(k.process.childrenUserNanoseconds)); w.u64(procTicks(k.process.childrenSystemNanoseconds))
            if let e = k.memory.copyOut(a.address(0), from: w.bytes) { throw e }
        }
        return Int(procTicks(k.platform.monotonicNanoseconds()))
    }
}
